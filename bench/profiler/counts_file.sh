#!/usr/bin/env bash
# What counters in the counts file cost, and what they save at exit.
#
#   cpu   bench/profiler/CpuWork (about 2 s of sorting, hashing, physics,
#         sieve, parsing) in blocks mode, ILHEAP_INCLUDE=CpuWork: the profiler
#         whose counters live in the file (PROFILER_SO) against the one whose
#         counters lived in memory and were written as JSON lines at exit
#         (built from git revision BASELINE), and without the profiler;
#         interleaved, the order rotated each repetition. Goal: file within
#         1.05x of memory.
#   exit  `dotnet test` of tests/coverage/Shop.Tests (45 xunit tests): the
#         time from its last test's end (the TRX endTime) to the test host's
#         exit (seen with pidfd_open), without coverage, with ilheap's
#         profiler (blocks, ILHEAP_INCLUDE=Shop; the file, and the in-memory
#         baseline that writes at exit) and with coverlet's collector (its
#         hits flushed at exit); interleaved.
#
# usage: bench/profiler/counts_file.sh [--workloads cpu,exit] [--baseline REV] PROFILER_SO [REPS]
#   BASELINE defaults to the last commit before the counts file (ade9032^).
# One line per variant (median of REPS, spread min..max; cpu: the median of
# the ratios to the first variant, paired by repetition):
#   counts_file workload=cpu variant=none|memory|file wall_ms=M spread_ms=A..B ratio=R
#   counts_file workload=exit variant=none|memory|file|coverlet exit_ms=M spread_ms=A..B
set -euo pipefail
workloads=cpu,exit
baseline=ade9032^
while [ $# -gt 0 ]; do
    case $1 in
    --workloads) workloads=$2; shift 2 ;;
    --baseline) baseline=$2; shift 2 ;;
    *) break ;;
    esac
done
so=$(realpath "$1")
reps=${2:-5}
root=$(cd "$(dirname "$0")/../.." && pwd)
source "$root/bench/common.sh"
work=${ILHEAP_BENCH_WORK:-$(mktemp -d)}
mkdir -p "$work"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
clsid='{D643D291-34DE-476E-974D-062912349822}'

# The baseline profiler, built once from git (tests, tools and benchmarks off).
old="$work/baseline/build/profiler/libilheap_profiler.so"
if [ ! -f "$old" ]; then
    rm -rf "$work/baseline" && mkdir -p "$work/baseline/src"
    git -C "$root" archive "$baseline" | tar -x -C "$work/baseline/src"
    cmake -S "$work/baseline/src" -B "$work/baseline/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DILHEAP_BUILD_TESTS=OFF \
        -DILHEAP_BUILD_TOOLS=OFF -DILHEAP_BUILD_BENCH=OFF >/dev/null
    cmake --build "$work/baseline/build" -j2 --target ilheap_profiler >/dev/null
fi

# env_of VARIANT: the profiler's variables (none: no profiler)
env_of() {
    case $1 in
    none) echo "ILHEAP_BENCH=none" ;;
    memory) echo "CORECLR_ENABLE_PROFILING=1 CORECLR_PROFILER=$clsid CORECLR_PROFILER_PATH=$old" \
        "ILHEAP_MODE=blocks ILHEAP_COUNTS=$work/runs/counts.%p.jsonl ILHEAP_REPORT=$work/runs/report.%p" ;;
    file) echo "CORECLR_ENABLE_PROFILING=1 CORECLR_PROFILER=$clsid CORECLR_PROFILER_PATH=$so" \
        "ILHEAP_MODE=blocks ILHEAP_COUNTS=$work/runs/counts.%p ILHEAP_REPORT=$work/runs/report.%p" ;;
    coverlet) echo "ILHEAP_BENCH=coverlet" ;;
    esac
}

# median and spread of the numbers in $@: "M A..B"
stats() {
    local sorted
    sorted=$(printf '%s\n' "$@" | sort -n)
    echo "$(bench_median <<<"$sorted") $(head -n 1 <<<"$sorted")..$(tail -n 1 <<<"$sorted")"
}

cpu_one() { # VARIANT: wall ms
    local start end
    rm -rf "$work/runs" && mkdir -p "$work/runs"
    start=$(date +%s%N)
    # shellcheck disable=SC2046
    env $(env_of "$1") ILHEAP_INCLUDE=CpuWork dotnet "$cpu_dll" 2 >"$work/out.txt"
    end=$(date +%s%N)
    echo $(((end - start) / 1000000))
}

exit_one() { # VARIANT: ms from the last test's end to the test host's exit
    rm -rf "$work/runs" "$work/results" && mkdir -p "$work/runs"
    local collect=()
    [ "$1" != coverlet ] || collect=(--collect:"XPlat Code Coverage")
    # shellcheck disable=SC2046
    env $(env_of "$1") ILHEAP_INCLUDE=Shop python3 "$root/bench/profiler/host_exit.py" "$work/results" \
        dotnet test "$work/shop/Shop.Tests/Shop.Tests.csproj" --no-build -c Release --logger trx \
        --results-directory "$work/results" "${collect[@]}"
}

run() { # WORKLOAD VARIANT...
    local w=$1 key=wall_ms
    shift
    local variants=("$@")
    declare -A times=()
    [ "$w" = cpu ] || key=exit_ms
    for ((r = 0; r < reps; r++)); do
        for ((k = 0; k < ${#variants[@]}; k++)); do
            v=${variants[$(((k + r) % ${#variants[@]}))]}
            times[$v]="${times[$v]:-} $("${w}_one" "$v")"
        done
    done
    for v in "${variants[@]}"; do
        # shellcheck disable=SC2086
        set -- $(stats ${times[$v]})
        local ratio=""
        # cpu: the median of the ratios to the first variant, repetition by
        # repetition (both ran one after the other: the machine's load shared)
        # shellcheck disable=SC2086
        [ "$w" != cpu ] || ratio="ratio=$(paste <(printf '%s\n' ${times[$v]}) <(printf '%s\n' ${times[${variants[0]}]}) |
            awk '{ printf "%.4f\n", $1 / $2 }' | bench_median)"
        echo "counts_file workload=$w variant=$v $key=$1 spread_ms=$2 $ratio"
    done
}

for w in ${workloads//,/ }; do
    case $w in
    cpu)
        cpu_dll=$("$root/bench/dotnet_build.sh" "$root/bench/profiler/CpuWork" "$work/cpuwork")
        cpu_one memory >/dev/null # the first run warms the caches
        run cpu memory file none ;;
    exit)
        rm -rf "$work/shop" && mkdir -p "$work/shop"
        cp -r "$root/tests/coverage/Shop" "$root/tests/coverage/Shop.Tests" "$work/shop/"
        dotnet build "$work/shop/Shop.Tests/Shop.Tests.csproj" -c Release --source /opt/nuget/packages \
            -nodeReuse:false -p:UseSharedCompilation=false >"$work/shop-build.log" 2>&1 ||
            { cat "$work/shop-build.log" >&2; exit 1; }
        run exit none memory file coverlet ;;
    esac
done
