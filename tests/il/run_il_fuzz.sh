#!/bin/sh
# Bounded fuzzing of the IL body decoder, for CI: builds the libFuzzer target
# with clang (ASan + UBSan) in its own build directory and runs it for
# ILHEAP_FUZZ_SECONDS seconds (default 60) over tests/corpus/il.
#   tests/il/run_il_fuzz.sh [build-dir]
# Exit status 0 when no input broke a property; new inputs stay in the build
# tree (copy interesting ones into tests/corpus/il by hand).
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$root/build-fuzz}
seconds=${ILHEAP_FUZZ_SECONDS:-60}
if ! command -v clang >/dev/null 2>&1; then
    echo "run_il_fuzz: clang not found (apt-get install clang libclang-rt-dev)" >&2
    exit 1
fi
CC=clang cmake -S "$root" -B "$build" -DILHEAP_BUILD_FUZZERS=ON -DILHEAP_FUZZ_SECONDS="$seconds" \
    -DILHEAP_BUILD_BENCH=OFF -DILHEAP_BUILD_PROFILER=OFF -DILHEAP_BUILD_TOOLS=OFF >/dev/null
cmake --build "$build" -j2 --target fuzz_il_decode
ctest --test-dir "$build" -R '^fuzz_il_decode_run$' --output-on-failure
