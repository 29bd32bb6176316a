#!/usr/bin/env bash
# The profiler in the linux-arm64 .NET runtime, under qemu user-mode: an
# attempt run by hand, NOT a CI stage (it downloads the linux-arm64 runtime
# pack from NuGet and takes about a minute of emulation). Results: docs/arm64.md.
#   1. builds libilheap_profiler.so for aarch64 (build/arm64-prof/native);
#   2. publishes tests/profiler/ProfTest self-contained for linux-arm64
#      (dotnet publish -r linux-arm64 --self-contained: needs nuget.org for
#      Microsoft.NETCore.App.Runtime.linux-arm64 and its apphost pack);
#   3. runs it under qemu-aarch64 with no profiler, then with the profiler
#      in rehome and prologue:1 modes (ilheap allocator), and checks stdout
#      identical to the baseline and window_violations=0 in each report.
# Usage: scripts/profiler-arm64.sh   (as root: installs the cross toolchain)
# ILHEAP_QEMU_ENV="VAR=value ..." adds to the guest runs' environment, e.g.
# DOTNET_EnableWriteXorExecute=0 (not needed with qemu 7.2 here).
set -uo pipefail
cd "$(dirname "$0")/.."
work=build/arm64-prof
clsid='{D643D291-34DE-476E-974D-062912349822}'
mkdir -p "$work"
bash scripts/deps.sh cmake gcc-aarch64-linux-gnu libc6-dev-arm64-cross g++-aarch64-linux-gnu qemu-user-static || exit 1
command -v dotnet >/dev/null || { echo "profiler-arm64: dotnet not found"; exit 1; }
qemu=$(command -v qemu-aarch64-static || command -v qemu-aarch64)
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_CLI_HOME="$PWD/$work/dotnet-home"

step() { # name log command...: runs a step, shows the log's tail on failure
  local name=$1 log=$2; shift 2
  echo "== $name"
  if ! "$@" >"$log" 2>&1; then
    tail -n 20 "$log"
    echo "profiler-arm64: FAILED at: $name (log: $log)"
    exit 1
  fi
}

step "profiler for aarch64" "$work/build.log" bash -c "
  cmake -S . -B $work/native -DCMAKE_TOOLCHAIN_FILE=cmake/aarch64-linux-gnu.cmake -DCMAKE_BUILD_TYPE=RelWithDebInfo \
        -DILHEAP_BUILD_PROFILER=ON -DILHEAP_BUILD_BENCH=OFF -DILHEAP_BUILD_TESTS=OFF -DILHEAP_BUILD_TOOLS=OFF &&
  cmake --build $work/native -j2 --target ilheap_profiler"
so="$PWD/$work/native/profiler/libilheap_profiler.so"
step "ProfTest, self-contained linux-arm64" "$work/publish.log" \
  dotnet publish tests/profiler/ProfTest/ProfTest.csproj -c Release -r linux-arm64 --self-contained \
    --artifacts-path "$work/artifacts" -nodeReuse:false -p:UseSharedCompilation=false
step "Collectible (IL only, offline)" "$work/collectible.log" \
  dotnet build tests/profiler/Collectible/Collectible.csproj -c Release --source /opt/nuget/packages \
    --artifacts-path "$work/artifacts" -nodeReuse:false -p:UseSharedCompilation=false
app="$work/artifacts/publish/ProfTest/release_linux-arm64/ProfTest"
plugin="$work/artifacts/bin/Collectible/release/Collectible.dll"

failures=0
run() { # name [VAR=value...]: the program under qemu; stdout to $work/name.out
  local name=$1 start rc
  shift
  start=$(date +%s)
  # shellcheck disable=SC2086
  env ${ILHEAP_QEMU_ENV:-} "$@" timeout "${ILHEAP_QEMU_TIMEOUT:-180}" "$qemu" -L /usr/aarch64-linux-gnu "$app" "$plugin" \
    >"$work/$name.out" 2>"$work/$name.err"
  rc=$?
  echo "$name: exit $rc, $(($(date +%s) - start)) s"
  [ $rc -eq 0 ] || { tail -n 20 "$work/$name.err"; failures=$((failures + 1)); return 1; }
}

echo "== under $("$qemu" --version | head -1)"
run base || { echo "profiler-arm64: the runtime itself does not run under qemu (above)"; exit 1; }
tail -n 1 "$work/base.out" | grep -qx done || { echo "baseline did not finish"; exit 1; }
for mode in rehome prologue:1; do
  name=${mode/:/}
  report="$PWD/$work/$name.report"
  rm -f "$report"
  run "$name" CORECLR_ENABLE_PROFILING=1 CORECLR_PROFILER="$clsid" CORECLR_PROFILER_PATH="$so" \
      ILHEAP_REPORT="$report" ILHEAP_ALLOCATOR=ilheap ILHEAP_MODE="$mode" || continue
  if cmp -s "$work/base.out" "$work/$name.out"; then echo "  $mode: stdout identical to the baseline"
  else echo "  $mode: stdout DIFFERS"; failures=$((failures + 1)); fi
  grep -E "^(rewritten|skipped|window_violations)=" "$report" 2>/dev/null | tr '\n' ' '; echo
  grep -qx "window_violations=0" "$report" 2>/dev/null || { echo "  $mode: window violations or no report"; failures=$((failures + 1)); }
done
[ $failures -eq 0 ] && echo "profiler-arm64: the profiler ran in the linux-arm64 runtime under qemu; all checks passed" && exit 0
echo "profiler-arm64: $failures check(s) failed"
exit 1
