#!/usr/bin/env bash
# Builds ilheap and runs the whole test suite: a normal build, ASan+UBSan,
# TSan, valgrind, the Windows builds under Wine, the aarch64 build under
# qemu, the NuGet packages used by test projects, and bounded fuzzing.
# Usage: scripts/test.sh [quick]
#   quick: the normal build only.
# Each stage uses its own build directory under build/.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
jobs=$(nproc)
stage() { echo; echo "=== $* ==="; }

configure_and_test() { # dir, ctest args, cmake args...
  local dir=$1 ctest_args=$2; shift 2
  cmake -S . -B "$dir" -DILHEAP_WERROR=ON -DILHEAP_BUILD_BENCH=OFF "$@" >/dev/null
  cmake --build "$dir" -j"$jobs" >/dev/null
  # shellcheck disable=SC2086
  ctest --test-dir "$dir" --output-on-failure -j1 $ctest_args
}

stage "release build (hardened) + all tests"
# Every file or folder the docs name exists (tests/docs/check_paths.py, under a second).
python3 tests/docs/check_paths.py
cmake -S . -B build/release -DCMAKE_BUILD_TYPE=RelWithDebInfo -DILHEAP_WERROR=ON >/dev/null
cmake --build build/release -j"$jobs" >/dev/null
ctest --test-dir build/release --output-on-failure
[ "${1:-}" = quick ] && exit 0

stage "ASan + UBSan"
# The profiler is built here too: test_profiler_modules (module life under
# concurrent callbacks) and profiler_runtime (the profiler inside dotnet, the
# sanitizer runtimes preloaded; about 20 s).
configure_and_test build/asan "-LE clr" -DILHEAP_SANITIZE=address -DCMAKE_BUILD_TYPE=Debug

stage "TSan"
configure_and_test build/tsan "-LE clr" -DILHEAP_SANITIZE=thread -DCMAKE_BUILD_TYPE=Debug

stage "valgrind"
ILHEAP_UNDER_VALGRIND=1 ILHEAP_STRESS_BLOCKS=60000 ILHEAP_FAULT_BLOCKS=120 configure_and_test build/valgrind "-LE clr|fuzz|soak" -DCMAKE_BUILD_TYPE=Debug \
  -DILHEAP_BUILD_PROFILER=OFF \
  "-DILHEAP_TEST_WRAPPER=valgrind;--quiet;--error-exitcode=99;--leak-check=full;--errors-for-leak-kinds=definite"

stage "Windows: mingw-w64 cross-builds (x86_64, i686), the suite under Wine (x86_64)"
bash scripts/test-windows.sh

stage "Linux aarch64: cross-build, the suite under qemu user-mode (about 3 minutes)"
bash scripts/test-arm64.sh

stage "NuGet packages: scripts/pack.sh, then xunit, NUnit, MSTest, a solution and MTP projects using them"
# tests/collector/run.sh; pack.sh cross-builds the arm64 natives too. Exit 77: skipped (no dotnet), said.
bash scripts/pack.sh
collector_rc=0
bash tests/collector/run.sh build/packages build/collector-test || collector_rc=$?
if [ $collector_rc -eq 77 ]; then echo "SKIP: the package test (reason above)"; elif [ $collector_rc -ne 0 ]; then exit 1; fi

if [ -d tests/corpus ] && command -v clang >/dev/null; then
  stage "fuzzing (bounded)"
  ILHEAP_FUZZ_SECONDS=${ILHEAP_FUZZ_SECONDS:-30} CC=clang configure_and_test build/fuzz "-L fuzz" -DILHEAP_BUILD_FUZZERS=ON -DCMAKE_BUILD_TYPE=Debug \
    -DILHEAP_BUILD_PROFILER=OFF -DILHEAP_BUILD_TOOLS=OFF
  # libFuzzer's final figures (executions, coverage) from each bounded run
  grep -hE "Testing: fuzz|stat::number_of_executed_units" build/fuzz/Testing/Temporary/LastTest.log || true
fi
echo
echo "all test stages passed"
