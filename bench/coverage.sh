#!/usr/bin/env bash
# The price of line coverage: wall time of `dotnet test --no-build`
# on tests/coverage's xunit project with no coverage, with coverlet
# (coverlet.collector, --collect:"XPlat Code Coverage") and with ilheap (the
# profiler in blocks mode, only Shop instrumented, then `ilheap cover` to
# Cobertura + LCOV; the ilheap time is both together). Rounds are interleaved
# and the order is rotated each round (none, coverlet, ilheap; coverlet,
# ilheap, none; ...) because the machine is shared.
#
#   bench/coverage.sh [--runs] PROFILER_SO ILHEAP [ROUNDS]     (ROUNDS default 5)
#
# Prints per variant its median and spread, then the overheads:
#   coverage variant=none|coverlet|ilheap wall_ms=median spread_ms=min..max [cover_ms=median]
#   coverage overhead_coverlet=X overhead_ilheap=Y ilheap_share_of_coverlet=Y/X
# where overhead = t / t_none - 1 on the medians; ilheap's goal is at most
# half of coverlet's (share <= 0.5). --runs prints instead one line per run
# (what bench/run.sh takes; its report computes the medians):
#   coverage variant=V rep=N wall_ms=T [cover_ms=C]
# ReadyToRun stays on: Shop.dll has no ReadyToRun code, so neither tool needs
# it off (ILHEAP_BENCH_NO_R2R=1 turns it off for the ilheap runs, as
# tests/coverage/run_peer.sh does). The project is built in
# ILHEAP_BENCH_WORK (default build/bench/coverage). Without `ilheap cover` or
# the profiler's blocks mode, ilheap is left out with a "skip" line.
set -eu
per_run=0
if [ "${1:-}" = --runs ]; then per_run=1; shift; fi
[ $# -ge 2 ] || { echo "usage: bench/coverage.sh [--runs] PROFILER_SO ILHEAP [ROUNDS]" >&2; exit 2; }
root=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=bench/common.sh
source "$root/bench/common.sh"
so=$(realpath "$1")
ilheap=$(realpath "$2")
rounds=${3:-5}
work=$(realpath -m "${ILHEAP_BENCH_WORK:-$root/build/bench/coverage}")
command -v dotnet >/dev/null || { echo "skip kind=coverage reason=no_dotnet_sdk"; exit 0; }
clsid='{D643D291-34DE-476E-974D-062912349822}'
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
export DOTNET_CLI_HOME="$work/dotnet-home" MSBUILDDISABLENODEREUSE=1

rm -rf "$work"
mkdir -p "$work/src"
cp -r "$root/tests/coverage/Shop" "$root/tests/coverage/Shop.Tests" "$work/src/"
proj=$work/src/Shop.Tests/Shop.Tests.csproj
sources=()
[ ! -d /opt/nuget/packages ] || sources=(--source /opt/nuget/packages)
dotnet build "$proj" -c Debug "${sources[@]}" -nodeReuse:false -p:UseSharedCompilation=false \
    >"$work/build.log" 2>&1 || { tail -n 30 "$work/build.log" >&2; exit 1; }

variants=(none coverlet ilheap)
r2r=()
[ "${ILHEAP_BENCH_NO_R2R:-0}" = 0 ] || r2r=(DOTNET_ReadyToRun=0 ILHEAP_DISABLE_R2R=1)
profiler_env=(CORECLR_ENABLE_PROFILING=1 CORECLR_PROFILER="$clsid" CORECLR_PROFILER_PATH="$so"
    ILHEAP_MODE=blocks ILHEAP_INCLUDE=Shop "${r2r[@]}")
if [ ! -f "$so" ] || ! "$ilheap" cover --help >/dev/null 2>&1; then
    echo "skip kind=coverage variant=ilheap reason=no_profiler_or_no_ilheap_cover"
    variants=(none coverlet)
else
    # One probe run: does the profiler know blocks mode?
    mkdir -p "$work/probe"
    env "${profiler_env[@]}" ILHEAP_REPORT="$work/probe/report.%p.txt" ILHEAP_COUNTS="$work/probe/counts.%p.jsonl" \
        dotnet test "$proj" --no-build >"$work/probe.log" 2>&1 || true
    if grep -qh '^config_error=.*ILHEAP_MODE' "$work/probe"/report.*.txt 2>/dev/null; then
        echo "skip kind=coverage variant=ilheap reason=profiler_without_blocks_mode"
        variants=(none coverlet)
    fi
fi

now_ms() { echo $(($(date +%s%N) / 1000000)); }
# one VARIANT REP: runs it once, appends its time to $work/VARIANT.ms.
one() {
    local v=$1 rep=$2 dir=$work/runs/$1-$2 t0 t1 t2
    mkdir -p "$dir"
    t0=$(now_ms)
    case $v in
    none) dotnet test "$proj" --no-build >"$dir/test.log" 2>&1 ;;
    coverlet) dotnet test "$proj" --no-build --collect:"XPlat Code Coverage" --results-directory "$dir" \
        >"$dir/test.log" 2>&1 ;;
    ilheap) env "${profiler_env[@]}" ILHEAP_REPORT="$dir/report.%p.txt" ILHEAP_COUNTS="$dir/counts.%p.jsonl" \
        dotnet test "$proj" --no-build >"$dir/test.log" 2>&1 ;;
    esac || { echo "fail kind=coverage variant=$v rep=$rep (dotnet test; $dir/test.log)"; return 0; }
    t1=$(now_ms)
    local extra=""
    if [ "$v" = ilheap ]; then
        "$ilheap" cover "$dir"/counts.*.jsonl --cobertura "$dir/ilheap.xml" --lcov "$dir/ilheap.info" \
            >"$dir/cover.log" 2>&1 || { echo "fail kind=coverage variant=ilheap rep=$rep (ilheap cover; $dir/cover.log)"; return 0; }
        t2=$(now_ms)
        echo $((t2 - t1)) >>"$work/cover.ms"
        extra=" cover_ms=$((t2 - t1))"
        t1=$t2
    fi
    echo $((t1 - t0)) >>"$work/$v.ms"
    [ "$per_run" -eq 0 ] || echo "coverage variant=$v rep=$rep wall_ms=$((t1 - t0))$extra"
}

n=${#variants[@]}
for ((rep = 0; rep < rounds; rep++)); do
    for ((i = 0; i < n; i++)); do
        one "${variants[$(((rep + i) % n))]}" "$rep"
    done
done

[ "$per_run" -eq 0 ] || exit 0
declare -A med
for v in "${variants[@]}"; do
    [ -s "$work/$v.ms" ] || continue
    med[$v]=$(bench_median <"$work/$v.ms")
    extra=""
    [ "$v" != ilheap ] || extra=" cover_ms=$(bench_median <"$work/cover.ms")"
    echo "coverage variant=$v wall_ms=${med[$v]} spread_ms=$(sort -n "$work/$v.ms" | head -n 1)..$(sort -n "$work/$v.ms" | tail -n 1)$extra"
done
[ -n "${med[none]:-}" ] && [ -n "${med[coverlet]:-}" ] || exit 0
awk -v none="${med[none]}" -v cl="${med[coverlet]}" -v il="${med[ilheap]:-}" 'BEGIN {
    oc = cl / none - 1
    line = sprintf("coverage overhead_coverlet=%.3f", oc)
    if (il != "") {
        oi = il / none - 1
        line = line sprintf(" overhead_ilheap=%.3f", oi)
        if (oc > 0) line = line sprintf(" ilheap_share_of_coverlet=%.2f", oi / oc)
    }
    print line
}'
