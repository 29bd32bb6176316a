#!/usr/bin/env bash
# Builds the NuGet packages ilheap.collector (the VSTest data collector) and
# ilheap.mtp (the Microsoft Testing Platform extension), each with the native
# `ilheap` command and the CoreCLR profiler for linux-x64, linux-arm64 and
# win-x64 under tools/RID/, into build/packages/. The arm64 natives are
# cross-built (as scripts/test-arm64.sh does) with zlib linked statically from
# Debian's arm64 multiarch package, the win-x64 ones with mingw-w64 and
# Debian's libz-mingw-w64-dev, so nothing is missing on the target; each runs
# here (arm64 under qemu, win-x64 under Wine) to prove it (docs/coverage.md,
# "The packages").
# Usage: scripts/pack.sh   (as root on a fresh Debian: installs what it needs)
# Version: the project's (CMakeLists.txt), or ILHEAP_PACK_VERSION.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
work=$root/build/pack
out=$root/build/packages
say() { echo "pack: $*"; }
started=$SECONDS

version=${ILHEAP_PACK_VERSION:-$(sed -n 's/^project(ilheap VERSION \([0-9.]*\).*/\1/p' CMakeLists.txt)}
[ -n "$version" ] || { say "no version in CMakeLists.txt"; exit 1; }
command -v dotnet >/dev/null || { say "dotnet not found (the .NET SDK packs the collector)"; exit 1; }

# The arm64 zlib comes from Debian's multiarch archive.
if ! dpkg --print-foreign-architectures | grep -qx arm64; then
  [ "$(id -u)" -eq 0 ] || { say "needs root once: dpkg --add-architecture arm64 (for zlib1g-dev:arm64)"; exit 1; }
  say "adding the arm64 architecture to dpkg (for zlib1g-dev:arm64)"
  flock /tmp/apt.lock sh -c 'dpkg --add-architecture arm64 && apt-get update -qq'
fi
bash scripts/deps.sh cmake gcc make zlib1g-dev gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user-static \
  zlib1g-dev:arm64 binutils-aarch64-linux-gnu mingw-w64 libz-mingw-w64-dev wine wine64
qemu=$(command -v qemu-aarch64-static || command -v qemu-aarch64)
wine=$(command -v wine64 || echo /usr/lib/wine/wine64)

# native RID TOOLCHAIN ZLIB_A [ZLIB_INCLUDE]: ilheap and the profiler, zlib
# static; RelWithDebInfo (-O2, as the tested builds), stripped.
native() {
  local rid=$1 toolchain=$2 zlib=$3
  local dir=$work/$rid
  local inc=${4:-$dir/zlib-include}
  mkdir -p "$inc" "$work/native/$rid"
  # never the host's /usr/include in a cross build
  [ -n "${4:-}" ] || cp /usr/include/zlib.h /usr/include/zconf.h "$inc/"
  say "building ilheap and the profiler for $rid"
  if ! cmake -S . -B "$dir" ${toolchain:+-DCMAKE_TOOLCHAIN_FILE=$toolchain} -DCMAKE_BUILD_TYPE=RelWithDebInfo \
         -DILHEAP_WERROR=ON -DILHEAP_BUILD_TESTS=OFF -DILHEAP_BUILD_BENCH=OFF -DILHEAP_BUILD_PROFILER=ON \
         -DZLIB_LIBRARY="$zlib" -DZLIB_INCLUDE_DIR="$inc" >"$dir.configure.log" 2>&1 ||
     ! cmake --build "$dir" -j2 --target ilheap_cli ilheap_profiler >"$dir.build.log" 2>&1; then
    tail -n 20 "$dir.configure.log" "$dir.build.log"
    say "FAILED: the $rid build (logs: $dir.configure.log, $dir.build.log)"
    exit 1
  fi
  case $rid in
    linux-x64) strip -o "$work/native/$rid/ilheap" "$dir/tools/ilheap"
      strip -o "$work/native/$rid/libilheap_profiler.so" "$dir/profiler/libilheap_profiler.so" ;;
    linux-arm64) aarch64-linux-gnu-strip -o "$work/native/$rid/ilheap" "$dir/tools/ilheap"
      aarch64-linux-gnu-strip -o "$work/native/$rid/libilheap_profiler.so" "$dir/profiler/libilheap_profiler.so" ;;
    win-x64) x86_64-w64-mingw32-strip -o "$work/native/$rid/ilheap.exe" "$dir/tools/ilheap.exe"
      x86_64-w64-mingw32-strip -o "$work/native/$rid/ilheap_profiler.dll" "$dir/profiler/ilheap_profiler.dll" ;;
  esac
  chmod 755 "$work/native/$rid"/ilheap*
}

# check RID RUNNER...: the binary needs no libz.so, runs (rehome of the
# built-in assembly) and finds the profiler beside it, as in the package.
check() {
  local rid=$1 bin=$work/native/$1/ilheap
  shift
  if readelf -d "$bin" | grep -q 'libz\.so'; then say "FAILED: $rid ilheap needs libz.so"; exit 1; fi
  "$@" "$bin" --version >/dev/null || { say "FAILED: $rid ilheap does not run"; exit 1; }
  "$@" "$bin" rehome --builtin >/dev/null || { say "FAILED: $rid ilheap rehome --builtin"; exit 1; }
  local env
  env=$("$@" "$bin" collect --print-env "$work/$rid-env-check") ||
    { say "FAILED: $rid ilheap does not find its profiler beside it"; exit 1; }
  grep -q "^CORECLR_PROFILER_PATH=$work/native/$rid/libilheap_profiler.so\$" <<<"$env" ||
    { say "FAILED: $rid: $env"; exit 1; }
  rmdir "$work/$rid-env-check"
  say "  $rid: runs${*:+ under $(basename "$1")}, no libz.so needed, finds its profiler ($(glibc_needed "$rid"))"
}

# check_windows: ilheap.exe and the DLL import only system DLLs (no zlib1.dll,
# no mingw runtime), ilheap.exe runs under Wine and finds the DLL beside it.
check_windows() {
  local dir=$work/native/win-x64 imports
  imports=$(x86_64-w64-mingw32-objdump -p "$dir/ilheap.exe" "$dir/ilheap_profiler.dll" | sed -n 's/^\tDLL Name: //p' | sort -u | tr '\n' ' ')
  [ "$imports" = "KERNEL32.dll msvcrt.dll " ] || { say "FAILED: win-x64 natives import $imports"; exit 1; }
  export WINEPREFIX=$work/wineprefix WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml="
  local wineserver
  wineserver="$(dirname "$wine")/wineserver"
  [ -x "$wineserver" ] || wineserver=wineserver
  # a prefix of its own, its services started detached (they would hold our output open)
  [ -f "$WINEPREFIX/system.reg" ] || timeout 180 "$wine" wineboot -i >/dev/null 2>&1 </dev/null || true
  local env rc=0
  timeout 120 "$wine" "$dir/ilheap.exe" rehome --builtin >"$work/win-x64-rehome.log" 2>&1 </dev/null || rc=1
  env=$(timeout 120 "$wine" "$dir/ilheap.exe" collect --print-env 'Z:'"${work//\//\\}"'\win-x64-env-check' 2>&1 </dev/null) || rc=1
  "$wineserver" -k >/dev/null 2>&1 || true
  [ $rc = 0 ] || { say "FAILED: win-x64 ilheap.exe under Wine: $(tail -n 3 "$work/win-x64-rehome.log") $env"; exit 1; }
  local want="CORECLR_PROFILER_PATH=Z:${dir//\//\\}\\ilheap_profiler.dll"
  grep -qxF "$want" <<<"${env//$'\r'/}" || { say "FAILED: win-x64: not $want in: $env"; exit 1; }
  rmdir "$work/win-x64-env-check"
  say "  win-x64: runs under $(basename "$wine"), imports only $imports, finds its profiler"
}

glibc_needed() { # the newest glibc symbol version the natives of RID need
  local objdump=objdump
  [ "$1" = linux-x64 ] || objdump=aarch64-linux-gnu-objdump
  $objdump -T "$work/native/$1/ilheap" "$work/native/$1/libilheap_profiler.so" |
    grep -o 'GLIBC_[0-9.]*' | sort -uV | tail -n 1 | sed 's/GLIBC_/glibc >= /'
}

rm -rf "$work/native"
native linux-x64 "" /usr/lib/x86_64-linux-gnu/libz.a
check linux-x64
native linux-arm64 cmake/aarch64-linux-gnu.cmake /usr/lib/aarch64-linux-gnu/libz.a
check linux-arm64 "$qemu" -L /usr/aarch64-linux-gnu
native win-x64 cmake/mingw-w64-x86_64.cmake /usr/x86_64-w64-mingw32/lib/libz.a /usr/x86_64-w64-mingw32/include
check_windows

mkdir -p "$out"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
# pack ID PROJECT FILES...: the package, then a check that it holds FILES.
pack() {
  local id=$1 project=$2
  shift 2
  say "packing $id $version"
  rm -f "$out/$id".*.nupkg
  if ! dotnet pack "$project" -c Release -o "$out" -p:Version="$version" -p:IlheapNativeDir="$work/native" \
         --artifacts-path "$work/dotnet-$id" -nodeReuse:false -p:UseSharedCompilation=false >"$work/$id.log" 2>&1; then
    tail -n 30 "$work/$id.log"
    say "FAILED: dotnet pack $id (log: $work/$id.log)"
    exit 1
  fi
  local pkg=$out/$id.$version.nupkg f
  for f in "$@" tools/linux-x64/ilheap tools/linux-x64/libilheap_profiler.so tools/linux-arm64/ilheap \
    tools/linux-arm64/libilheap_profiler.so tools/win-x64/ilheap.exe tools/win-x64/ilheap_profiler.dll; do
    unzip -l "$pkg" "$f" >/dev/null || { say "FAILED: $f is not in $pkg"; exit 1; }
  done
  say "wrote $pkg ($(du -k "$pkg" | cut -f1) KiB)"
}
pack ilheap.collector collector/ilheap.collector.csproj build/netstandard2.0/ilheap.collector.dll \
  build/netstandard2.0/ilheap.collector.targets
pack ilheap.mtp collector/mtp/ilheap.mtp.csproj lib/netstandard2.0/ilheap.mtp.dll buildTransitive/ilheap.mtp.props \
  build/ilheap.mtp.props
say "done in $((SECONDS - started)) s"
