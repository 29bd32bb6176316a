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
# usage: bench/profiler/counts_file.sh [--workloads cpu,exit] [--baseline REV] [--runs] PROFILER_SO [REPS]
#   BASELINE defaults to the last commit before the counts file (ade9032^).
# One line per variant (median of REPS, spread min..max; cpu: the median of
# the ratios to the first variant, paired by repetition):
#   counts_file workload=cpu variant=none|memory|file wall_ms=M spread_ms=A..B ratio=R
#   counts_file workload=exit variant=none|memory|file|coverlet exit_ms=M spread_ms=A..B
# With --runs one line per run instead, after the report's section for the
# workload (bench/section_file.py; what bench/run.sh keeps in
# bench/results/counts_file.txt and host_exit.txt, one workload per file):
#   counts_file variant=V wall_ms=X rep=N      (cpu)
#   host_exit variant=V exit_ms=X rep=N        (exit)
set -euo pipefail
workloads=cpu,exit
baseline=ade9032^
per_run=0
while [ $# -gt 0 ]; do
    case $1 in
    --workloads) workloads=$2; shift 2 ;;
    --baseline) baseline=$2; shift 2 ;;
    --runs) per_run=1; shift ;;
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

# The report's section of each workload's per-run lines.
section() { # WORKLOAD
    case $1 in
    cpu) cat <<'EOF'
# section: Counters in the counts file against counters in memory
# command: bench/profiler/counts_file.sh --workloads cpu --runs
# about: wall time of bench/profiler/CpuWork in `blocks` mode (its own assembly instrumented) with the
# about: profiler whose counters live in the file-backed shared mapping (`file`), the profiler of before
# about: whose counters lived in process memory and were written as JSON lines at exit (`memory`, built
# about: from git `ade9032^`), and without a profiler (`none`); interleaved, the order rotated each repetition.
# columns: variant
# values: wall_ms
# ratio: wall_ms variant=memory
# target: counts file: `blocks` within 1.05x of the in-memory counters on the CPU-bound workload | wall_ms variant=file / variant=memory <= 1.05
EOF
    ;;
    exit) cat <<'EOF'
# section: From the last test to the test host's exit
# command: bench/profiler/counts_file.sh --workloads exit --runs
# about: `dotnet test` of tests/coverage/Shop.Tests (45 xunit tests): milliseconds from the last test's end
# about: (the latest TRX `endTime`) to the test host's exit (seen with `pidfd_open`), without coverage (`none`),
# about: with ilheap's profiler in `blocks` mode (`file`: the counts file, only its completion mark written at
# about: exit; `memory`: the profiler of before, which wrote its counts at exit) and with coverlet's collector
# about: (`coverlet`, its hits flushed at exit); interleaved.
# columns: variant
# values: exit_ms
# ratio: exit_ms variant=coverlet
EOF
    ;;
    esac
}

run() { # WORKLOAD VARIANT...
    local w=$1 key=wall_ms kind=counts_file t
    shift
    local variants=("$@")
    declare -A times=()
    [ "$w" = cpu ] || { key=exit_ms; kind=host_exit; }
    [ "$per_run" -eq 0 ] || section "$w"
    for ((r = 0; r < reps; r++)); do
        for ((k = 0; k < ${#variants[@]}; k++)); do
            v=${variants[$(((k + r) % ${#variants[@]}))]}
            t=$("${w}_one" "$v")
            times[$v]="${times[$v]:-} $t"
            [ "$per_run" -eq 0 ] || echo "$kind variant=$v $key=$t rep=$r"
        done
    done
    [ "$per_run" -eq 0 ] || return 0
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
