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
# usage: bench/rejit/startup.sh [--runs] PROFILER_SO [REPS] [SCOPES]
#   one line per variant and scope:
#   startup scope=S variant=V wall_ms=M cpu_ms=C spread_ms=A..B
# With --runs the report's section (bench/section_file.py), then one line per
# build, cost_ms being its CPU time minus no profiler's (ReadyToRun on) in
# the same repetition:
#   startup scope=S variant=V wall_ms=M cpu_ms=C cost_ms=X rep=N
set -euf # -f: the patterns in the environment stay patterns
per_run=0
[ "${1:-}" != --runs ] || { per_run=1; shift; }
so_arg=$1
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
    rm -rf "$work/ledger/bin" "$work/ledger/obj"
    find "$work" -maxdepth 1 \( -name 'report.*.txt' -o -name 'counts.*' \) -delete # no globs: set -f
    local t
    TIMEFORMAT='%R %U %S'
    # shellcheck disable=SC2046
    t=$( { time env $(env_of "$1" "$2") dotnet build "$work/ledger/Ledger.csproj" -c Release \
        --source /opt/nuget/packages -nodeReuse:false -p:UseSharedCompilation=false \
        >"$work/out.txt" 2>&1; } 2>&1) || { echo "build failed ($1 $2)" >&2; tail -5 "$work/out.txt" >&2; exit 1; }
    tail -n 1 <<<"$t" | awk '{ printf "%d %d\n", $1 * 1000, ($2 + $3) * 1000 }'
}

reports() { find "$work" -maxdepth 1 -name 'report.*.txt' -exec cat {} +; }
# check VARIANT: the profiled build rewrote something (and through ReJIT
# when asked): a build that measured nothing is no figure
check() {
    case $1 in
    none*) ;;
    *) [ "$(reports | grep -c '^instrumented=[1-9]')" -gt 0 ] ||
           { echo "$1: nothing instrumented" >&2; exit 1; }
       [ "$1" != blocks-rejit ] || [ "$(reports | grep -c '^rejit_done=[1-9]')" -gt 0 ] ||
           { echo "$1: no body given through ReJIT" >&2; exit 1; } ;;
    esac
}

median() { sort -n | awk '{ v[NR] = $1 } END { printf "%d %d %d\n", v[int((NR + 1) / 2)], v[1], v[NR] }'; }

if [ "$per_run" -eq 1 ]; then
    cat <<EOF2
# section: Start-up under ReJIT against ReadyToRun disabled
# command: bench/rejit/startup.sh --runs $so_arg $reps $scopes
# about: CPU time (user + sys) of \`dotnet build\` of tests/profiler/Ledger (MSBuild and the C# compiler as processes
# about: of their own, both under the profiler) in \`blocks\` mode: rewriting at the first JIT compilation with ReadyToRun
# about: disabled (\`blocks-r2r-off\`, ILHEAP_DISABLE_R2R=1, the only way to count precompiled code without ReJIT)
# about: against rewriting through ReJIT with ReadyToRun on (\`blocks-rejit\`, ILHEAP_REJIT=1), next to no profiler
# about: with ReadyToRun on (\`none\`) and off (\`none-r2r-off\`). Scopes: \`compiler\` (ILHEAP_INCLUDE of the
# about: compiler's assemblies, which ship ReadyToRun) and \`all\` (every assembly). cost_ms is a build's CPU time
# about: minus the same repetition's build with no profiler. Interleaved, the order rotated each repetition.
# columns: scope variant
# values: cpu_ms cost_ms wall_ms
# ratio: cpu_ms variant=none
# target: start-up: ReJIT gives back most of what disabling ReadyToRun costs (\`dotnet build\`, blocks, the compiler in scope) | cost_ms scope=compiler,variant=blocks-rejit / scope=compiler,variant=blocks-r2r-off <= 0.5
EOF2
fi
for scope in ${scopes//,/ }; do
    one none "$scope" >/dev/null # the restore, outside the timing
    declare -A wall=() cpu=()
    for ((r = 0; r < reps; r++)); do
        declare -A rw=() rc=()
        for ((k = 0; k < ${#variants[@]}; k++)); do
            v=${variants[$(((k + r) % ${#variants[@]}))]}
            read -r rw[$v] rc[$v] < <(one "$v" "$scope")
            check "$v"
            wall[$v]="${wall[$v]:-} ${rw[$v]}"
            cpu[$v]="${cpu[$v]:-} ${rc[$v]}"
        done
        [ "$per_run" -eq 0 ] || for v in "${variants[@]}"; do
            echo "startup scope=$scope variant=$v wall_ms=${rw[$v]} cpu_ms=${rc[$v]}" \
                "cost_ms=$((rc[$v] - rc[none])) rep=$r"
        done
        unset rw rc
    done
    [ "$per_run" -eq 0 ] || { unset wall cpu; continue; }
    for v in "${variants[@]}"; do
        read -r wm wlo whi < <(printf '%s\n' ${wall[$v]} | median)
        read -r cm _ _ < <(printf '%s\n' ${cpu[$v]} | median)
        echo "startup scope=$scope variant=$v wall_ms=$wm cpu_ms=$cm spread_ms=$wlo..$whi"
    done
    unset wall cpu
done
