#!/usr/bin/env bash
# Method-timing overhead against the runtime's own hooks: the CPU-bound
# workload (bench/profiler/CpuWork) with no profiler, under the minimal
# ELT-hooks profiler (bench/elt/elt_profiler.c: one increment per entry and
# exit, its own assembly hooked, ELT_INCLUDE=CpuWork), and under ilheap's
# profiler in each MODE given (ILHEAP_INCLUDE=CpuWork), interleaved, the
# order rotated each repetition. Medians of wall and CPU (user + sys) time,
# and the overhead over no profiler in CPU time (the machine is shared:
# wall time carries other people's load).
#
# usage: bench/elt/run.sh PROFILER_SO ELT_SO [REPS] [MODES]   (MODES default: calls)
#   elt workload=cpu variant=V wall_ms=M cpu_ms=C spread_ms=A..B overhead=X
set -euf # -f: the patterns in the environment stay patterns
so=$(realpath "$1")
elt=$(realpath "$2")
reps=${3:-5}
modes=${4:-calls}
root=$(cd "$(dirname "$0")/../.." && pwd)
work=${ILHEAP_BENCH_WORK:-$(mktemp -d)}
mkdir -p "$work"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
cpu_dll=$("$root/bench/dotnet_build.sh" "$root/bench/profiler/CpuWork" "$work/cpuwork")
variants=(none elt ${modes//,/ })

env_of() {
    case $1 in
    none) echo "CORECLR_ENABLE_PROFILING=0" ;;
    elt) echo "CORECLR_ENABLE_PROFILING=1 CORECLR_PROFILER={8E5C36B1-4A0D-4F5E-9C4B-1D2E3F405162}" \
              "CORECLR_PROFILER_PATH=$elt ELT_INCLUDE=CpuWork ELT_REPORT=$work/elt.txt" ;;
    *) echo "CORECLR_ENABLE_PROFILING=1 CORECLR_PROFILER={D643D291-34DE-476E-974D-062912349822}" \
            "CORECLR_PROFILER_PATH=$so ILHEAP_MODE=$1 ILHEAP_INCLUDE=CpuWork ILHEAP_REPORT=$work/report.txt" \
            "ILHEAP_COUNTS=$work/counts.%p" ;;
    esac
}

expected=$(dotnet "$cpu_dll" 2)
one() { # one VARIANT: "wall_ms cpu_ms"
    local t out
    TIMEFORMAT='%R %U %S'
    rm -f "$work"/counts.*
    # shellcheck disable=SC2046
    t=$( { time env $(env_of "$1") dotnet "$cpu_dll" 2 >"$work/out.txt" 2>&1; } 2>&1)
    out=$(cat "$work/out.txt")
    [ "$out" = "$expected" ] || { echo "$1: the output changed: $out" >&2; exit 1; }
    tail -n 1 <<<"$t" | awk '{ printf "%d %d\n", $1 * 1000, ($2 + $3) * 1000 }'
}
median() { sort -n | awk '{ v[NR] = $1 } END { printf "%d %d %d\n", v[int((NR + 1) / 2)], v[1], v[NR] }'; }

declare -A wall=() cpu=()
for ((r = 0; r < reps; r++)); do
    for ((k = 0; k < ${#variants[@]}; k++)); do
        v=${variants[$(((k + r) % ${#variants[@]}))]}
        read -r w c < <(one "$v")
        wall[$v]="${wall[$v]:-} $w"
        cpu[$v]="${cpu[$v]:-} $c"
    done
done
grep -q '^entries=[1-9]' "$work/elt.txt" || { echo "the ELT hooks did not run: $(cat "$work/elt.txt" 2>/dev/null)" >&2; exit 1; }
echo "elt hooks: $(cat "$work/elt.txt")"
base=""
for v in "${variants[@]}"; do
    read -r wm wlo whi < <(printf '%s\n' ${wall[$v]} | median)
    read -r cm _ _ < <(printf '%s\n' ${cpu[$v]} | median)
    [ -n "$base" ] || base=$cm
    echo "elt workload=cpu variant=$v wall_ms=$wm cpu_ms=$cm spread_ms=$wlo..$whi" \
        "overhead=$(awk -v a="$cm" -v b="$base" 'BEGIN { printf "%.2f", (a - b) / b }')"
done
