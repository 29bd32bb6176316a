#!/usr/bin/env bash
# What counting costs: the wall time of a workload with the profiler loaded
# but off (ILHEAP_MODE=off), and in calls, blocks, and blocks with
# ILHEAP_ATOMIC=1, interleaved (the order rotated each repetition) in one
# run on this shared machine; each figure is a median with its spread, and
# the ratio to off.
#
# Workloads:
#   cpu    bench/profiler/CpuWork (sorting, hashing, physics, sieve, parsing,
#          about 2 s), its own assembly instrumented (ILHEAP_INCLUDE=CpuWork)
#   build  `dotnet build` of tests/profiler/Ledger, every assembly of every
#          process instrumented, ReadyToRun off in every variant
#
# usage: bench/profiler/counts.sh [--workloads cpu,build] [--runs] PROFILER_SO [REPS]
# One line per variant:
#   counts workload=W mode=off|calls|blocks|blocks-atomic wall_ms=M spread_ms=A..B ratio=R
# With --runs one line per run instead (what bench/run.sh takes; its report
# pairs the ratios by repetition):
#   counts workload=W mode=M wall_ms=X rep=N
set -eu
workloads=cpu,build
per_run=0
while [ $# -gt 0 ]; do
    case $1 in
    --workloads) workloads=$2; shift 2 ;;
    --runs) per_run=1; shift ;;
    *) break ;;
    esac
done
so=$(realpath "$1")
reps=${2:-5}
root=$(cd "$(dirname "$0")/../.." && pwd)
work=${ILHEAP_BENCH_WORK:-$(mktemp -d)}
mkdir -p "$work"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
clsid='{D643D291-34DE-476E-974D-062912349822}'
variants=(off calls blocks blocks-atomic)

cpu_dll=$("$root/bench/dotnet_build.sh" "$root/bench/profiler/CpuWork" "$work/cpuwork")
rm -rf "$work/ledger" && cp -r "$root/tests/profiler/Ledger" "$work/ledger"

# env_of VARIANT: the profiler's variables for a variant
env_of() {
    local mode=${1%-atomic} atomic=0
    [ "$1" = "$mode" ] || atomic=1
    echo "CORECLR_ENABLE_PROFILING=1 CORECLR_PROFILER=$clsid CORECLR_PROFILER_PATH=$so" \
        "ILHEAP_MODE=$mode ILHEAP_ATOMIC=$atomic ILHEAP_REPORT=$work/report.%p.txt" \
        "ILHEAP_COUNTS=$work/counts.%p.jsonl"
}

# one WORKLOAD VARIANT: wall time in ms of one run
one() {
    local start end
    rm -f "$work"/report.*.txt "$work"/counts.*.jsonl
    start=$(date +%s%N)
    case $1 in
    cpu)
        # shellcheck disable=SC2046
        env $(env_of "$2") ILHEAP_INCLUDE=CpuWork dotnet "$cpu_dll" 2 >"$work/out.txt" ;;
    build)
        rm -rf "$work/ledger/bin" "$work/ledger/obj"
        # shellcheck disable=SC2046
        env $(env_of "$2") DOTNET_ReadyToRun=0 ILHEAP_DISABLE_R2R=1 \
            dotnet build "$work/ledger/Ledger.csproj" -c Release --source /opt/nuget/packages \
            -nodeReuse:false -p:UseSharedCompilation=false >"$work/out.txt" 2>&1 ;;
    esac
    end=$(date +%s%N)
    echo $(((end - start) / 1000000))
}

# With --runs, the report's section for these lines (bench/section_file.py).
if [ "$per_run" -eq 1 ]; then
    cat <<'EOF'
# section: Counting in the real runtime
# command: bench/profiler/counts.sh --runs
# about: wall time of a workload with the profiler loaded but off (`ILHEAP_MODE=off`), counting method entries
# about: (`calls`), block hits (`blocks`) and block hits through `Interlocked.Increment` (`blocks-atomic`,
# about: `ILHEAP_ATOMIC=1`), interleaved with the order rotated each repetition. Workloads: `cpu`,
# about: bench/profiler/CpuWork with its own assembly instrumented; `build`, `dotnet build` of
# about: tests/profiler/Ledger with every assembly of every process instrumented, ReadyToRun off.
# columns: workload mode
# values: wall_ms
# ratio: wall_ms mode=off
# target: counting: `blocks` at most 1.3x `off` on the CPU-bound workload | wall_ms workload=cpu,mode=blocks / workload=cpu,mode=off <= 1.3
EOF
fi
for w in ${workloads//,/ }; do
    # Restore once outside the timing (the build's first run).
    one "$w" off >/dev/null
    declare -A times=()
    for ((r = 0; r < reps; r++)); do
        for ((k = 0; k < ${#variants[@]}; k++)); do
            v=${variants[$(((k + r) % ${#variants[@]}))]}
            t=$(one "$w" "$v")
            times[$v]="${times[$v]:-} $t"
            [ "$per_run" -eq 0 ] || echo "counts workload=$w mode=$v wall_ms=$t rep=$r"
        done
    done
    if [ "$per_run" -eq 1 ]; then
        unset times
        continue
    fi
    base=""
    for v in "${variants[@]}"; do
        # shellcheck disable=SC2086
        set -- $(printf '%s\n' ${times[$v]} | sort -n)
        n=$#
        med=$(printf '%s\n' "$@" | sed -n "$(((n + 1) / 2))p")
        [ -n "$base" ] || base=$med
        echo "counts workload=$w mode=$v wall_ms=$med spread_ms=$1..${!n}" \
            "ratio=$(awk -v a="$med" -v b="$base" 'BEGIN { printf "%.2f", a / b }')"
    done
    unset times
done
