#!/usr/bin/env bash
# The profiler in the real runtime, timed: no profiler, the profiler loaded
# but only observing (ILHEAP_MODE=off), the profiler rewriting every method
# on the runtime's own allocator (ILHEAP_ALLOCATOR=clr) and on ilheap, all with
# ReadyToRun disabled so that the framework's methods are JIT-compiled and
# pass through the profiler. Runs are interleaved (none, clr, ilheap, none,
# ...) because the machine is shared; each figure is the median of REPS runs
# with the spread (min..max).
#
# Workloads:
#   startup   ProfTest --startup: the runtime up and Main reached
#   proftest  the profiler test program (EH, generics, async, 100 contexts)
#   csc       the C# compiler (Roslyn, from the SDK) compiling ProfTest's source:
#             about 25,000 JIT compilations
#
# usage: bench/profiler/run.sh PROFILER_SO [REPS]   (REPS default 5)
# One line per measurement:
#   profiler workload=W alloc=none|off|clr|ilheap wall_ms=median spread_ms=min..max
#            methods_seen=N rewritten=N alloc_ns_mean=X alloc_rest_ns_p50=X
#            alloc_rest_ns_p99=X first_alloc_us=X window_violations=N
set -eu
so=$(realpath "$1")
reps=${2:-5}
here=$(cd "$(dirname "$0")" && pwd)
src=$here/../../tests/profiler
work=${ILHEAP_BENCH_WORK:-$(mktemp -d)}
mkdir -p "$work"
clsid='{D643D291-34DE-476E-974D-062912349822}'
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
export DOTNET_CLI_HOME="$work/dotnet-home"

for proj in ProfTest Collectible; do
    dotnet build "$src/$proj/$proj.csproj" -c Release --source /opt/nuget/packages \
        --artifacts-path "$work/artifacts" >"$work/build-$proj.log" 2>&1 ||
        { cat "$work/build-$proj.log"; exit 1; }
done
app=$work/artifacts/bin/ProfTest/release/ProfTest.dll
plugin=$work/artifacts/bin/Collectible/release/Collectible.dll
sdk=$(dotnet --version)
csc=$(dirname "$(command -v dotnet)")/sdk/$sdk/Roslyn/bincore/csc.dll
[ -f "$csc" ] || csc=$(ls /usr/share/dotnet/sdk/*/Roslyn/bincore/csc.dll | tail -n 1)
ref=$(ls -d "$(dirname "$csc")"/../../../../packs/Microsoft.NETCore.App.Ref/*/ref/net*/ | tail -n 1)
{
    echo "-nologo -unsafe -t:exe -out:$work/csc-out.dll"
    for r in "$ref"*.dll; do echo "-r:$r"; done
    echo "$src/ProfTest/Program.cs"
} >"$work/csc.rsp"

workload_args() {
    case $1 in
    startup) echo "$app --startup" ;;
    proftest) echo "$app $plugin" ;;
    csc) echo "$csc @$work/csc.rsp" ;;
    esac
}

# run_once WORKLOAD ALLOC N: one timed run; its report in $work/W-A-N.report
run_once() {
    local w=$1 a=$2 n=$3 start end
    local report=$work/$w-$a-$n.report
    start=$(date +%s%N)
    if [ "$a" = none ]; then
        # The same JIT volume as the profiler's COR_PRF_DISABLE_ALL_NGEN_IMAGES.
        DOTNET_ReadyToRun=0 dotnet $(workload_args "$w") >/dev/null 2>&1
    else
        local mode=rehome alloc=$a
        if [ "$a" = off ]; then mode=off alloc=ilheap; fi
        env CORECLR_ENABLE_PROFILING=1 CORECLR_PROFILER="$clsid" CORECLR_PROFILER_PATH="$so" \
            ILHEAP_ALLOCATOR="$alloc" ILHEAP_MODE="$mode" ILHEAP_DISABLE_R2R=1 ILHEAP_REPORT="$report" \
            dotnet $(workload_args "$w") >/dev/null 2>&1
    fi
    end=$(date +%s%N)
    echo $(((end - start) / 1000000)) >>"$work/$w-$a.ms"
}

value() { sed -n "s/^$1=\([^ ]*\).*/\1/p" "$2" | head -n 1; }

# The median of the numbers on stdin.
median() { sort -n | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }

for w in startup proftest csc; do
    rm -f "$work/$w-"*.ms
    for n in $(seq 1 "$reps"); do
        for a in none off clr ilheap; do run_once "$w" "$a" "$n"; done
    done
    for a in none off clr ilheap; do
        ms=$(median <"$work/$w-$a.ms")
        spread="$(sort -n "$work/$w-$a.ms" | head -n 1)..$(sort -n "$work/$w-$a.ms" | tail -n 1)"
        line="profiler workload=$w alloc=$a wall_ms=$ms spread_ms=$spread"
        if [ "$a" = off ]; then
            line="$line methods_seen=$(for n in $(seq 1 "$reps"); do value methods_seen "$work/$w-$a-$n.report"; done | median)"
        elif [ "$a" != none ]; then
            for key in methods_seen rewritten alloc_ns_mean alloc_rest_ns_p50 alloc_rest_ns_p99 \
                alloc_first_ns_mean window_violations; do
                v=$(for n in $(seq 1 "$reps"); do value "$key" "$work/$w-$a-$n.report"; done | median)
                [ "$key" = alloc_first_ns_mean ] && { key=first_alloc_us; v=$(awk -v x="$v" 'BEGIN{printf "%.1f", x/1000}'); }
                line="$line $key=$v"
            done
        fi
        echo "$line"
    done
done
