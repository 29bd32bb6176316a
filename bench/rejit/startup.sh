#!/usr/bin/env bash
# What ReJIT gives back at start-up: `dotnet build` of tests/profiler/Ledger
# (MSBuild and the C# compiler as processes of their own, both under the
# profiler) in blocks mode, rewriting at the first JIT with ReadyToRun
# disabled (ILHEAP_DISABLE_R2R=1, the only way to count precompiled code
# before ILHEAP_REJIT) against rewriting through ReJIT with ReadyToRun on,
# next to no profiler with ReadyToRun on and off. Interleaved, the order
# rotated each repetition; medians of wall and CPU (user + sys) time.
#
# Scopes: all (every assembly instrumented) and compiler
# (ILHEAP_INCLUDE='Microsoft.CodeAnalysis*,csc': the compiler's assemblies,
# which ship ReadyToRun; everything else keeps its precompiled code).
#
# usage: bench/rejit/startup.sh PROFILER_SO [REPS] [SCOPES]
#   one line per variant and scope:
#   startup scope=S variant=V wall_ms=M cpu_ms=C spread_ms=A..B
set -euf # -f: the patterns in the environment stay patterns
so=$(realpath "$1")
reps=${2:-3}
scopes=${3:-compiler,all}
root=$(cd "$(dirname "$0")/../.." && pwd)
work=${ILHEAP_BENCH_WORK:-$(mktemp -d)}
mkdir -p "$work"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
clsid='{D643D291-34DE-476E-974D-062912349822}'
variants=(none none-r2r-off blocks-r2r-off blocks-rejit)
rm -rf "$work/ledger" && cp -r "$root/tests/profiler/Ledger" "$work/ledger"

# env_of VARIANT SCOPE: the environment of a variant
env_of() {
    local prof="CORECLR_ENABLE_PROFILING=1 CORECLR_PROFILER=$clsid CORECLR_PROFILER_PATH=$so"
    prof+=" ILHEAP_MODE=blocks ILHEAP_REPORT=$work/report.%p.txt ILHEAP_COUNTS=$work/counts.%p"
    [ "$2" = all ] || prof+=" ILHEAP_INCLUDE=Microsoft.CodeAnalysis*,csc"
    case $1 in
    none) echo "DOTNET_ReadyToRun=1" ;;
    none-r2r-off) echo "DOTNET_ReadyToRun=0" ;;
    blocks-r2r-off) echo "$prof ILHEAP_DISABLE_R2R=1 DOTNET_ReadyToRun=0" ;;
    blocks-rejit) echo "$prof ILHEAP_REJIT=1" ;;
    esac
}

# one VARIANT SCOPE: "wall_ms cpu_ms" of one build
one() {
    rm -rf "$work/ledger/bin" "$work/ledger/obj" "$work"/report.*.txt "$work"/counts.*
    local t
    TIMEFORMAT='%R %U %S'
    # shellcheck disable=SC2046
    t=$( { time env $(env_of "$1" "$2") dotnet build "$work/ledger/Ledger.csproj" -c Release \
        --source /opt/nuget/packages -nodeReuse:false -p:UseSharedCompilation=false \
        >"$work/out.txt" 2>&1; } 2>&1) || { echo "build failed ($1 $2)" >&2; tail -5 "$work/out.txt" >&2; exit 1; }
    tail -n 1 <<<"$t" | awk '{ printf "%d %d\n", $1 * 1000, ($2 + $3) * 1000 }'
}

median() { sort -n | awk '{ v[NR] = $1 } END { printf "%d %d %d\n", v[int((NR + 1) / 2)], v[1], v[NR] }'; }

for scope in ${scopes//,/ }; do
    one none "$scope" >/dev/null # the restore, outside the timing
    declare -A wall=() cpu=()
    for ((r = 0; r < reps; r++)); do
        for ((k = 0; k < ${#variants[@]}; k++)); do
            v=${variants[$(((k + r) % ${#variants[@]}))]}
            read -r w c < <(one "$v" "$scope")
            wall[$v]="${wall[$v]:-} $w"
            cpu[$v]="${cpu[$v]:-} $c"
        done
    done
    for v in "${variants[@]}"; do
        read -r wm wlo whi < <(printf '%s\n' ${wall[$v]} | median)
        read -r cm _ _ < <(printf '%s\n' ${cpu[$v]} | median)
        echo "startup scope=$scope variant=$v wall_ms=$wm cpu_ms=$cm spread_ms=$wlo..$whi"
    done
    unset wall cpu
done
