#!/usr/bin/env bash
# Method-timing overhead against the runtime's own hooks: the CPU-bound
# workload (bench/profiler/CpuWork) with no profiler, under the minimal
# ELT-hooks profiler (bench/elt/elt_profiler.c, its own assembly hooked,
# ELT_INCLUDE=CpuWork) counting entries and exits (`elt`) and also reading
# the TSC at each (`elt-clock`, ELT_CLOCK=1), and under ilheap's profiler in
# each MODE given (ILHEAP_INCLUDE=CpuWork), interleaved, the order rotated
# each repetition. The figure is CPU time (user + sys): the machine is
# shared, and wall time carries other people's load. A variant's overhead in
# a repetition is its CPU time minus no profiler's in the same repetition.
#
# usage: bench/elt/run.sh [--runs] PROFILER_SO ELT_SO [REPS] [MODES]   (MODES default: calls,timing)
# One line per variant (medians, overhead relative to no profiler's CPU time):
#   elt workload=cpu variant=V wall_ms=M cpu_ms=C spread_ms=A..B overhead=X
# With --runs the report's section (bench/section_file.py), then one line per run:
#   elt workload=cpu variant=V wall_ms=M cpu_ms=C overhead_ms=O rep=N
set -euf # -f: the patterns in the environment stay patterns
per_run=0
[ "${1:-}" != --runs ] || { per_run=1; shift; }
args="$1 $2"
so=$(realpath "$1")
elt=$(realpath "$2")
reps=${3:-5}
modes=${4:-calls,timing}
root=$(cd "$(dirname "$0")/../.." && pwd)
work=${ILHEAP_BENCH_WORK:-$(mktemp -d)}
mkdir -p "$work"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
cpu_dll=$("$root/bench/dotnet_build.sh" "$root/bench/profiler/CpuWork" "$work/cpuwork")
variants=(none elt elt-clock ${modes//,/ })

env_of() {
    local elt_env="CORECLR_ENABLE_PROFILING=1 CORECLR_PROFILER={8E5C36B1-4A0D-4F5E-9C4B-1D2E3F405162}"
    elt_env+=" CORECLR_PROFILER_PATH=$elt ELT_INCLUDE=CpuWork ELT_REPORT=$work/elt.txt"
    case $1 in
    none) echo "CORECLR_ENABLE_PROFILING=0" ;;
    elt) echo "$elt_env ELT_CLOCK=0" ;;
    elt-clock) echo "$elt_env ELT_CLOCK=1" ;;
    *) echo "CORECLR_ENABLE_PROFILING=1 CORECLR_PROFILER={D643D291-34DE-476E-974D-062912349822}" \
            "CORECLR_PROFILER_PATH=$so ILHEAP_MODE=$1 ILHEAP_INCLUDE=CpuWork ILHEAP_REPORT=$work/report.txt" \
            "ILHEAP_COUNTS=$work/counts.%p" ;;
    esac
}

# check VARIANT: the profiler did its work (a run that measured nothing is no figure)
check() {
    case $1 in
    none) ;;
    elt*) grep -q '^entries=[1-9]' "$work/elt.txt" ||
              { echo "$1: the ELT hooks did not run: $(cat "$work/elt.txt" 2>/dev/null)" >&2; exit 1; } ;;
    *) grep -q '^instrumented=[1-9]' "$work/report.txt" ||
           { echo "$1: nothing instrumented: $(grep -E '^(config_error|instrumented)=' "$work/report.txt")" >&2; exit 1; } ;;
    esac
}

expected=$(dotnet "$cpu_dll" 2)
one() { # one VARIANT: "wall_ms cpu_ms"
    local t out
    TIMEFORMAT='%R %U %S'
    rm -f "$work"/counts.* "$work/elt.txt" "$work/report.txt"
    # shellcheck disable=SC2046
    t=$( { time env $(env_of "$1") dotnet "$cpu_dll" 2 >"$work/out.txt" 2>&1; } 2>&1)
    out=$(cat "$work/out.txt")
    [ "$out" = "$expected" ] || { echo "$1: the output changed: $out" >&2; exit 1; }
    check "$1"
    tail -n 1 <<<"$t" | awk '{ printf "%d %d\n", $1 * 1000, ($2 + $3) * 1000 }'
}
median() { sort -n | awk '{ v[NR] = $1 } END { printf "%d %d %d\n", v[int((NR + 1) / 2)], v[1], v[NR] }'; }

if [ "$per_run" -eq 1 ]; then
    cat <<EOF2
# section: Method timing against the runtime's ELT hooks
# command: bench/elt/run.sh --runs $args $reps $modes
# about: CPU time (user + sys) of bench/profiler/CpuWork (8.7 million calls of its own methods) with no
# about: profiler (\`none\`), under a minimal profiler on the runtime's ELT hooks (bench/elt/elt_profiler.c,
# about: SetEnterLeaveFunctionHooks3, hooks of a few instructions in assembly) that counts entries and exits
# about: (\`elt\`) or also reads the TSC at each (\`elt-clock\`), and under ilheap's profiler counting calls
# about: (\`calls\`) and timing every method (\`timing\`: entry probe, try/fault, exit probe, Stopwatch ticks),
# about: its own assembly instrumented in each, interleaved with the order rotated each repetition.
# about: overhead_ms is a run's CPU time minus the same repetition's run with no profiler.
# columns: workload variant
# values: cpu_ms overhead_ms wall_ms
# ratio: cpu_ms variant=none
# target: method timing: \`timing\`'s overhead at most half of the ELT hooks' (counting only) on the CPU-bound workload | overhead_ms workload=cpu,variant=timing / workload=cpu,variant=elt <= 0.5
EOF2
fi
declare -A wall=() cpu=()
for ((r = 0; r < reps; r++)); do
    declare -A rw=() rc=()
    for ((k = 0; k < ${#variants[@]}; k++)); do
        v=${variants[$(((k + r) % ${#variants[@]}))]}
        read -r rw[$v] rc[$v] < <(one "$v")
        wall[$v]="${wall[$v]:-} ${rw[$v]}"
        cpu[$v]="${cpu[$v]:-} ${rc[$v]}"
    done
    [ "$per_run" -eq 0 ] || for v in "${variants[@]}"; do
        echo "elt workload=cpu variant=$v wall_ms=${rw[$v]} cpu_ms=${rc[$v]} overhead_ms=$((rc[$v] - rc[none])) rep=$r"
    done
    unset rw rc
done
[ "$per_run" -eq 0 ] || exit 0
base=""
for v in "${variants[@]}"; do
    read -r wm wlo whi < <(printf '%s\n' ${wall[$v]} | median)
    read -r cm _ _ < <(printf '%s\n' ${cpu[$v]} | median)
    [ -n "$base" ] || base=$cm
    echo "elt workload=cpu variant=$v wall_ms=$wm cpu_ms=$cm spread_ms=$wlo..$whi" \
        "overhead=$(awk -v a="$cm" -v b="$base" 'BEGIN { printf "%.2f", (a - b) / b }')"
done
