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
# usage: bench/profiler/run.sh [--workloads W[,W...]] [--runs] PROFILER_SO [REPS]
#   REPS           runs per workload and variant (default 5)
#   --workloads    which workloads, in that order (default startup,proftest,csc)
#   --runs         one line per run, with rep=N, instead of the medians (what
#                  bench/run.sh takes: its report computes medians, spreads
#                  and per-repetition ratios itself)
# One line per measurement:
#   profiler workload=W alloc=none|off|clr|ilheap wall_ms=median spread_ms=min..max
#            methods_seen=N rewritten=N allocations=N alloc_ns_mean=X
#            alloc_rest_ns_p50=X alloc_rest_ns_p99=X first_allocs=N first_alloc_us=X
#            window_violations=N alloc_failed=N
# (alloc_failed: Alloc calls that returned NULL, whose methods kept their
# bodies; the profiler does not time them, so they are not in the ns figures)
# With --runs: the same keys without spread_ms, each run's own values, rep=N.
# Within a repetition the order of the variants is rotated (rep 1 starts with
# none, rep 2 with off, ...) so that no variant always runs first.
# ILHEAP_BENCH_WORK=DIR keeps the C# builds between calls (rebuilt only when
# a source under tests/profiler/ProfTest or Collectible is newer).
set -eu
workloads=startup,proftest,csc
per_run=0
while [ $# -gt 0 ]; do
    case $1 in
    --workloads) workloads=$2; shift 2 ;;
    --runs) per_run=1; shift ;;
    --) shift; break ;;
    -*) echo "usage: bench/profiler/run.sh [--workloads W[,W...]] [--runs] PROFILER_SO [REPS]" >&2; exit 2 ;;
    *) break ;;
    esac
done
[ $# -ge 1 ] || { echo "usage: bench/profiler/run.sh [--workloads W[,W...]] [--runs] PROFILER_SO [REPS]" >&2; exit 2; }
for w in $(echo "$workloads" | tr ',' ' '); do
    case $w in startup | proftest | csc) ;; *) echo "bench/profiler/run.sh: unknown workload $w (startup, proftest, csc)" >&2; exit 2 ;; esac
done
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
    out=$work/artifacts/bin/$proj/release/$proj.dll
    if [ -f "$out" ] && [ -z "$(find "$src/$proj" -type f -newer "$out" -not -path '*/obj/*' -not -path '*/bin/*' | head -n 1)" ]; then
        continue # up to date: an incremental dotnet build still takes ~10 s
    fi
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
    *) echo "bench/profiler/run.sh: unknown workload $1 (startup, proftest, csc)" >&2; return 1 ;;
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

variants="none off clr ilheap"
# rotated N: the variants, starting with the ((N-1) mod 4)th
rotated() {
    local k=$((($1 - 1) % 4)) i
    local all=($variants)
    for i in 0 1 2 3; do printf '%s ' "${all[$(((i + k) % 4))]}"; done
}
report_keys="methods_seen rewritten allocations alloc_ns_mean alloc_rest_ns_p50 alloc_rest_ns_p99 alloc_first_per_module alloc_first_ns_mean window_violations skipped.alloc_failed"
# The values of one variant's report(s) (the median over the runs N given).
report_values() {
    local w=$1 a=$2 key v
    shift 2
    local keys=$report_keys
    [ "$a" = off ] && keys=methods_seen
    for key in $keys; do
        v=$(for n in "$@"; do value "$key" "$work/$w-$a-$n.report"; done | median)
        [ "$key" = alloc_first_per_module ] && key=first_allocs
        [ "$key" = skipped.alloc_failed ] && key=alloc_failed
        [ "$key" = alloc_first_ns_mean ] && { key=first_alloc_us; v=$(awk -v x="$v" 'BEGIN{printf "%.1f", x/1000}'); }
        printf ' %s=%s' "$key" "$v"
    done
}

for w in $(echo "$workloads" | tr ',' ' '); do
    workload_args "$w" >/dev/null
    rm -f "$work/$w-"*.ms "$work/$w-"*.report
    for n in $(seq 1 "$reps"); do
        for a in $(rotated "$n"); do run_once "$w" "$a" "$n"; done
    done
    for a in $variants; do
        if [ "$per_run" -eq 1 ]; then
            for n in $(seq 1 "$reps"); do
                line="profiler workload=$w alloc=$a rep=$((n - 1)) wall_ms=$(sed -n "${n}p" "$work/$w-$a.ms")"
                [ "$a" = none ] || line="$line$(report_values "$w" "$a" "$n")"
                echo "$line"
            done
            continue
        fi
        ms=$(median <"$work/$w-$a.ms")
        spread="$(sort -n "$work/$w-$a.ms" | head -n 1)..$(sort -n "$work/$w-$a.ms" | tail -n 1)"
        line="profiler workload=$w alloc=$a wall_ms=$ms spread_ms=$spread"
        [ "$a" = none ] || line="$line$(report_values "$w" "$a" $(seq 1 "$reps"))"
        echo "$line"
    done
done
