#!/usr/bin/env bash
# ilheap against coverlet and Microsoft's collector on a test project that is
# already built (a real open-source suite fetched and built by hand: nothing
# of it is in this repository; docs/coverage.md "Real code" names the
# projects, their commits and the figures this printed).
#
# usage: compare_real.sh PROFILER_SO ILHEAP TEST_PROJECT WORK_DIR --root SRC_DIR
#                        [--framework TFM] [--rounds N] [--exclude SUBSTRING]
#
#   TEST_PROJECT  the test project (.csproj), built (`dotnet test --no-build`
#                 runs it); it must reference coverlet.collector, and
#                 Microsoft.NET.Test.Sdk brings Microsoft's collector
#   --root        the library's sources: only lines of files under it count
#   --rounds N    time N interleaved rounds of the four runs (default 1)
#
# Each round runs `dotnet test --no-build` plain, with coverlet
# (--collect:"XPlat Code Coverage"), with Microsoft's collector
# (--collect "Code Coverage;Format=cobertura") and under ilheap's profiler
# (blocks mode, counts in a fresh directory, then `ilheap cover`, whose own
# time and peak memory are measured); the first round's reports are compared
# with compare_cobertura.py: lines (hit/not hit) and branches per line, and
# the totals, and against coverlet where coverlet and Microsoft agree
# (--peer). Prints the medians of the wall times and the overheads.
set -u
so=$(realpath -m "$1") ilheap=$(realpath -m "$2") proj=$(realpath -m "$3") work=$(realpath -m "$4")
shift 4
root="" framework="" rounds=1 excludes=()
while [ $# -gt 0 ]; do
    case "$1" in
    --root) root=$(realpath -m "$2"); shift 2 ;;
    --framework) framework="$2"; shift 2 ;;
    --rounds) rounds="$2"; shift 2 ;;
    --exclude) excludes+=(--exclude "$2"); shift 2 ;;
    *) echo "compare_real: unknown argument $1" >&2; exit 2 ;;
    esac
done
[ -n "$root" ] && [ -f "$proj" ] && [ -f "$so" ] && [ -x "$ilheap" ] || {
    echo "usage: compare_real.sh PROFILER_SO ILHEAP TEST_PROJECT WORK_DIR --root SRC_DIR [--framework TFM] [--rounds N]" >&2
    exit 2
}
here=$(dirname "$(realpath "$0")")
mkdir -p "$work"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
fw=()
[ -z "$framework" ] || fw=(-f "$framework")
clsid='{D643D291-34DE-476E-974D-062912349822}'

now() { date +%s.%N; }
# run NAME ROUND [VAR=value...] -- [dotnet test args...]: one timed run.
run() {
    local name=$1 round=$2
    shift 2
    local vars=()
    while [ "$1" != -- ]; do vars+=("$1"); shift; done
    shift
    local t0 t1
    t0=$(now)
    env "${vars[@]}" dotnet test "$proj" --no-build "${fw[@]}" -nodeReuse:false "$@" >"$work/$name.$round.log" 2>&1
    local rc=$?
    t1=$(now)
    echo "$name $(echo "$t1 - $t0" | bc)" >>"$work/times.txt"
    grep -E '(Passed|Failed)!|Total tests|total:' "$work/$name.$round.log" | tail -n 1 | sed "s/^/  $name: /"
    return $rc
}

: >"$work/times.txt"
for round in $(seq 1 "$rounds"); do
    echo "round $round"
    run plain "$round" -- || echo "  plain: the tests fail (exit $?)"
    rm -rf "$work/coverlet.$round"
    run coverlet "$round" -- --collect:"XPlat Code Coverage" --results-directory "$work/coverlet.$round" || true
    rm -rf "$work/ms.$round"
    run microsoft "$round" -- --collect "Code Coverage;Format=cobertura" --results-directory "$work/ms.$round" || true
    counts="$work/counts.$round"
    rm -rf "$counts" && mkdir -p "$counts"
    t0=$(now)
    run ilheap "$round" CORECLR_ENABLE_PROFILING=1 CORECLR_PROFILER="$clsid" CORECLR_PROFILER_PATH="$so" \
        ILHEAP_MODE=blocks ILHEAP_COUNTS="$counts/counts.%p.jsonl" ILHEAP_REPORT="$counts/report.%p.txt" \
        ILHEAP_EXCLUDE='System.*,Microsoft.*,netstandard,mscorlib,nunit*,NUnit*,xunit*,testhost*,MSTest*' -- || true
    sed -i '$d' "$work/times.txt" # the profiled run's line: ilheap's time is the run plus cover
    t1=$(now)
    /usr/bin/time -f "%e s %M KiB" -o "$work/cover.$round.time" "$ilheap" cover "$counts"/counts.* \
        --cobertura "$work/ilheap.$round.xml" >"$work/cover.$round.log" 2>&1
    echo "  ilheap cover: exit $?, $(cat "$work/cover.$round.time"), $(grep '^total' "$work/cover.$round.log")"
    echo "ilheap $(echo "$(now) - $t0" | bc)" >>"$work/times.txt"
done

one() { find "$1" -name "$2" | head -n 1; }
cov=$(one "$work/coverlet.1" coverage.cobertura.xml) ms=$(one "$work/ms.1" '*.cobertura.xml')
echo
for pair in "coverlet:$cov" "microsoft:$ms"; do
    name=${pair%%:*} ref=${pair#*:}
    [ -n "$ref" ] || { echo "no $name report"; continue; }
    echo "== ilheap against $name"
    peer=()
    [ "$name" != coverlet ] || [ -z "$ms" ] || peer=(--peer "$ms")
    python3 "$here/compare_cobertura.py" "$ref" "$work/ilheap.1.xml" --root "$root" --names "$name,ilheap" \
        --quiet --min 0 "${excludes[@]}" "${peer[@]}" | grep -vE '^  ' | sed 's/^/  /'
done
[ -n "$cov" ] && [ -n "$ms" ] && {
    echo "== microsoft against coverlet"
    python3 "$here/compare_cobertura.py" "$cov" "$ms" --root "$root" --names coverlet,microsoft --quiet --min 0 \
        "${excludes[@]}" | grep -vE '^  ' | sed 's/^/  /'
}
echo
echo "median wall time over $rounds round(s):"
for v in plain coverlet microsoft ilheap; do
    m=$(awk -v v="$v" '$1 == v {print $2}' "$work/times.txt" | sort -n | awk '{a[NR] = $1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}')
    echo "$v $m"
done | awk '$1 == "plain" {p = $2} {printf "  %-10s %7.2f s%s\n", $1, $2, ($1 != "plain" && p > 0) ? sprintf("  overhead +%.0f%%", 100 * ($2 - p) / p) : ""}'
