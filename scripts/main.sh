#!/usr/bin/env bash
# The main job on its default input: builds ilheap (the library, the `ilheap`
# command and the CoreCLR profiler: everything the docs use and
# `cmake --install build/release` installs), then runs `ilheap rehome`: the
# System.Private.CoreLib.dll of the newest installed .NET runtime (or, without
# one, the built-in fallback assembly) is laid out as the loader maps it, and
# every IL method body is moved into that module's heap and checked.
# Arguments are passed on (e.g. `--prologue 4`, a FILE, `--jsonl`).
# On a fresh Debian it installs the build's packages first (scripts/deps.sh;
# needs root), lcov included for `genhtml` of coverage reports.
set -euo pipefail
# The build runs from the source tree; the tool runs in the caller's directory,
# so that a relative FILE argument means what the caller meant.
root=$(cd "$(dirname "$0")/.." && pwd)
build="$root/build/release"
say() { echo "main: $*" >&2; }

say "checking the build's Debian packages (cmake, gcc, make, zlib1g-dev, lcov)"
bash "$root/scripts/deps.sh" cmake gcc make pkg-config zlib1g-dev lcov >&2
mkdir -p "$build"
# step LOG MESSAGE COMMAND...: says what it does, keeps the output in LOG and
# shows its end when the command fails.
step() {
  local log=$1 msg=$2 start=$SECONDS
  shift 2
  say "$msg"
  if ! "$@" >"$log" 2>&1; then
    tail -n 30 "$log" >&2
    say "FAILED: $msg (the whole output: $log)"
    exit 1
  fi
  say "  done in $((SECONDS - start)) s"
}
step "$build/main-configure.log" "configuring $build (RelWithDebInfo)" \
  cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DILHEAP_WERROR=ON
# The installable targets only (the tests and benchmarks are scripts/test.sh's).
targets=(ilheap ilheap_static ilheap_cli)
grep -q '^ILHEAP_BUILD_PROFILER:BOOL=ON' "$build/CMakeCache.txt" && targets+=(ilheap_profiler)
step "$build/main-build.log" "building ${targets[*]} with $(nproc) jobs (about 20 s on 2 cores)" \
  cmake --build "$build" -j"$(nproc)" --target "${targets[@]}"
say "built: $build/tools/ilheap$([ -f "$build/profiler/libilheap_profiler.so" ] &&
  echo " and $build/profiler/libilheap_profiler.so")"
say "running: ilheap rehome $*"
exec "$build/tools/ilheap" rehome "$@"
