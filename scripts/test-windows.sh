#!/usr/bin/env bash
# Cross-builds ilheap for Windows with Debian's mingw-w64 and runs the test
# suite under Wine: x86_64 in build/mingw64, i686 in build/mingw32. On x86_64
# the profiler DLL then runs inside the Windows CoreCLR under Wine
# (tests/profiler/run_wine.sh: the test programs published for win-x64,
# self-contained, the runtime pack restored from NuGet), compared with the
# Linux profiler (build/release, built here when missing).
# Usage: scripts/test-windows.sh [x86_64|i686]...   (default: both)
#
# Installs mingw-w64, wine and wine64 when missing (needs root). The i686
# tests need wine32 (an i386 package): it is used when installed; with
# ILHEAP_WINE32_INSTALL=1 the script tries to install it (dpkg
# --add-architecture i386), and undoes the architecture if that fails. Without
# wine32 the i686 build is built, its tests are not run, and the summary says
# so; ILHEAP_REQUIRE_WINE32=1 makes that a failure.
# Each Wine run is bounded (ILHEAP_WINE_TIMEOUT seconds for the whole ctest,
# default 300; the runtime tests 600); the prefix lives under the build
# directory; no display needed.
set -euo pipefail
cd "$(dirname "$0")/.."

arches=("$@")
[ ${#arches[@]} -eq 0 ] && arches=(x86_64 i686)
jobs=2 # the machine's cores are shared: never more than two
ctest_timeout=${ILHEAP_WINE_TIMEOUT:-300}

installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }

# ---------------------------------------------------------------- packages
bash scripts/deps.sh cmake mingw-w64 wine wine64 libz-mingw-w64-dev

if [ "${ILHEAP_WINE32_INSTALL:-0}" = 1 ] && ! installed wine32:i386 && [ "$(id -u)" -eq 0 ]; then
  echo "test-windows: trying to install wine32:i386"
  had_i386=0
  dpkg --print-foreign-architectures | grep -qx i386 && had_i386=1
  dpkg --add-architecture i386
  if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends wine32:i386 >/dev/null; }; then
    echo "test-windows: wine32:i386 could not be installed from the registries here"
    # Leave no half-added architecture behind: its index would break others' apt-get update.
    if [ $had_i386 = 0 ] && [ -z "$(dpkg -l | awk '$4 == "i386"')" ]; then
      dpkg --remove-architecture i386 || true
    fi
  fi
fi

# wine64 is in /usr/lib/wine on Debian; the 32-bit loader comes with wine32.
wine64_bin=$(command -v wine64 || true)
[ -z "$wine64_bin" ] && [ -x /usr/lib/wine/wine64 ] && wine64_bin=/usr/lib/wine/wine64
wine32_bin=""
if installed wine32:i386 && [ -x /usr/lib/wine/wine ]; then
  wine32_bin=/usr/lib/wine/wine
fi

export WINEDEBUG=-all
export WINEDLLOVERRIDES="mscoree,mshtml=" # no Mono/Gecko install prompts
unset DISPLAY WAYLAND_DISPLAY               # console programs only: no X

summary=()
status=0

run_arch() { # arch
  local arch=$1 dir toolchain wine_bin winearch
  case $arch in
    x86_64) dir=build/mingw64 wine_bin=$wine64_bin winearch=win64 ;;
    i686) dir=build/mingw32 wine_bin=$wine32_bin winearch=win32 ;;
    *) echo "test-windows: unknown architecture '$arch' (x86_64 or i686)" >&2; return 2 ;;
  esac
  toolchain=cmake/mingw-w64-$arch.cmake
  echo
  echo "=== Windows $arch: build in $dir ==="
  local emulator=()
  [ -n "$wine_bin" ] && emulator=("-DCMAKE_CROSSCOMPILING_EMULATOR=$wine_bin")
  # (set -e does not apply inside a function called with ||: check each step.)
  if ! cmake -S . -B "$dir" -DCMAKE_TOOLCHAIN_FILE="$toolchain" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DILHEAP_WERROR=ON \
         -DILHEAP_BUILD_BENCH=OFF -DILHEAP_BUILD_PROFILER=ON "${emulator[@]}" >/dev/null ||
     ! cmake --build "$dir" -j"$jobs" >"$dir/build.log" 2>&1; then
    grep -E "error|Error" "$dir/build.log" 2>/dev/null | head -20
    summary+=("$arch: BUILD FAILED (see $dir/build.log)")
    status=1
    return 0
  fi
  if [ -z "$wine_bin" ]; then
    summary+=("$arch: library, tests and ilheap.exe built; tests NOT run (no Wine for $arch here: wine32:i386 is not installed)")
    if [ "${ILHEAP_REQUIRE_WINE32:-0}" = 1 ]; then status=1; fi
    return 0
  fi

  echo "=== Windows $arch: tests under $wine_bin ==="
  export WINEPREFIX="$PWD/$dir/wineprefix" WINEARCH=$winearch
  mkdir -p "$WINEPREFIX"
  # One persistent wineserver for the whole run, its output detached: else
  # each test program starts one that holds CTest's output pipe open for its
  # linger time (about 3 s per test). A server left from an interrupted run
  # of this prefix is stopped first.
  local wineserver
  wineserver="$(dirname "$wine_bin")/wineserver"
  [ -x "$wineserver" ] || wineserver=wineserver
  "$wineserver" -k >/dev/null 2>&1 || true
  "$wineserver" -w >/dev/null 2>&1 || true
  "$wineserver" -p >/dev/null 2>&1 </dev/null || true
  # Create the prefix on first use (-i), and start Wine's background services
  # (services.exe, winedevice.exe) here, detached: started by the first test
  # instead, they would inherit CTest's output pipe and CTest would wait for
  # them until the test's timeout although the test had ended. Warnings about
  # a missing display are expected.
  local boot_args=()
  [ -f "$WINEPREFIX/system.reg" ] || boot_args=(-i)
  timeout 180 "$wine_bin" wineboot "${boot_args[@]}" >/dev/null 2>&1 </dev/null || true
  local rc=0
  timeout "$ctest_timeout" ctest --test-dir "$dir" --output-on-failure -j1 --timeout 240 || rc=$?
  local demo_rc=0
  timeout 60 "$wine_bin" "$dir/tools/ilheap.exe" demo --blocks 20000 </dev/null || demo_rc=$?
  local runtime="" runtime_rc=0
  if [ "$arch" = x86_64 ]; then
    run_profiler_in_clr "$dir" "$wine_bin" || runtime_rc=$?
    case $runtime_rc in
      0) runtime="; the profiler DLL passed its runtime tests in the Windows CoreCLR" ;;
      77) runtime="; the profiler's runtime tests SKIPPED (see above: no dotnet or python3)" ;;
      *) runtime="; the profiler's runtime tests FAILED ($runtime_rc)" ;;
    esac
  fi
  # Stop this prefix's wineserver (started above) and its helper processes.
  "$wineserver" -k 2>/dev/null || true
  if [ $rc -ne 0 ] || [ $demo_rc -ne 0 ] || { [ $runtime_rc -ne 0 ] && [ $runtime_rc -ne 77 ]; }; then
    summary+=("$arch: built; tests under Wine FAILED (ctest $rc, demo $demo_rc$runtime)")
    status=1
  else
    summary+=("$arch: built; all tests and the ilheap demo passed under $(${wine_bin} --version 2>/dev/null || echo Wine)$runtime")
  fi
}

# The profiler DLL in the Windows CoreCLR under Wine, beside the Linux
# profiler of build/release (its profiler and ilheap built here if missing).
run_profiler_in_clr() { # build_dir wine_bin
  local dir=$1 wine_bin=$2 linux=build/release
  echo "=== Windows x86_64: the profiler in the Windows CoreCLR under Wine ==="
  if ! cmake -S . -B "$linux" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DILHEAP_WERROR=ON >/dev/null ||
     ! cmake --build "$linux" -j"$jobs" --target ilheap_profiler ilheap_cli >"$linux/profiler-build.log" 2>&1; then
    tail -n 20 "$linux/profiler-build.log"
    return 1
  fi
  local start=$SECONDS rc=0
  WINE="$wine_bin" timeout 600 bash tests/profiler/run_wine.sh "$PWD/$dir/profiler/ilheap_profiler.dll" \
    "$PWD/tests/profiler" "$PWD/$dir/profiler-clr" "$PWD/$linux" || rc=$?
  echo "(the runtime tests under Wine took $((SECONDS - start)) s)"
  return $rc
}

for arch in "${arches[@]}"; do
  run_arch "$arch" || status=1
done
echo
echo "=== Windows summary ==="
printf '%s\n' "${summary[@]}"
exit $status
