#!/usr/bin/env bash
# Counts that survive the process (the counts file, docs/coverage.md):
#   - CountsApp --wait stops at quiescent points ("finished round R", then it
#     waits for a line): the live file read there has exactly R times the
#     known counts, `ilheap cover` on it gives a report, the process is
#     killed with SIGKILL, and the same file and the same report come out
#     unchanged (state "killed");
#   - a snapshot after round 1 and `ilheap cover --since` after round 2 give
#     exactly one round's counts;
#   - Environment.FailFast, an unhandled exception, a stack overflow after the
#     work: every count is there;
#   - a test host killed by `dotnet test --blame-hang-timeout`: the counts of
#     the tests that finished (and of the hanging one, up to its hang) are all
#     there (a run whose timeout ended before the hanging test began, on a
#     loaded machine, is tried again with a longer timeout);
#   - readers racing a writer: `ilheap counts` in a loop while 8 threads JIT
#     and run 1,500 new methods never sees a torn index, and the methods it
#     sees never go down; at the end every method was entered 8 times;
#   - an ILHEAP_COUNTS directory that does not exist: counts_error= in the
#     report, no counts file, the program's output unchanged.
#
# usage: run_durable.sh PROFILER_SO SOURCE_DIR WORK_DIR ILHEAP
# ILHEAP_PROFILER_RUN_ENV="VAR=value ..." is added to the profiled runs only.
set -u
so=$1
src=$2
work=$3
ilheap=$4
source "$src/common.sh"
[ "$ilheap" != none ] || { echo "SKIP: the ilheap command is not built (ILHEAP_BUILD_TOOLS=OFF): it reads the counts"; exit 77; }
command -v python3 >/dev/null || { echo "SKIP: python3 not found (the counts checker)"; exit 77; }
rm -rf "$work/runs"
mkdir -p "$work/runs" "$work/many"
runs=$work/runs

echo "== building the programs (offline)"
cp "$src/Many/Many.csproj" "$work/many/"
python3 "$src/Many/gen_many.py" 1500 >"$work/many/Program.cs"
for proj in "$src/Counts/CountsApp.csproj" "$work/many/Many.csproj" "$src/Hang/HangTests.csproj"; do
    build_program "$proj"
done
app="$work/artifacts/bin/CountsApp/release/CountsApp.dll"
many="$work/artifacts/bin/Many/release/Many.dll"
profile=(env CORECLR_ENABLE_PROFILING=1 CORECLR_PROFILER="$clsid" CORECLR_PROFILER_PATH="$so")

# check NAME COUNTS EXPECTED TIMES: the known counts, exactly
check() {
    "$ilheap" counts "$2" --jsonl >"$runs/$1.jsonl" || fail "$1: ilheap counts --jsonl $2"
    python3 "$src/check_counts.py" blocks "$3" "$runs/$1.jsonl" --module "${5:-CountsApp.dll}" --times "$4" \
        >"$runs/$1.check" 2>&1 || { cat "$runs/$1.check"; fail "$1: counts"; }
    tail -n 1 "$runs/$1.check" | sed "s/^/  $1: /"
}

# state FILE: running, exited, killed (from `ilheap counts`)
state() {
    "$ilheap" counts "$1" | sed -n 's/^[^:]*: \([a-z]*\),.*/\1/p'
}

# waitfor FILE TEXT: until FILE holds TEXT (60 s at most)
waitfor() {
    for _ in $(seq 600); do
        grep -q "$2" "$1" 2>/dev/null && return 0
        sleep 0.1
    done
    return 1
}

echo "== killed at quiescent points: the live file and the killed one hold the same, exact counts"
mkfifo "$runs/stdin"
# shellcheck disable=SC2086
"${profile[@]}" ILHEAP_MODE=blocks ILHEAP_INCLUDE=CountsApp ILHEAP_COUNTS="$runs/kill.counts" \
    ILHEAP_REPORT="$runs/kill.report" ${ILHEAP_PROFILER_RUN_ENV:-} dotnet "$app" 1 2 --wait \
    <"$runs/stdin" >"$runs/kill.out" 2>"$runs/kill.err" &
pid=$!
exec 3>"$runs/stdin"
waitfor "$runs/kill.out" "finished round 1" || fail "kill: round 1 never finished"
check live1 "$runs/kill.counts" "$src/Counts/expected-blocks.txt" 1
[ "$(state "$runs/kill.counts")" = running ] || fail "kill: the live file's state is $(state "$runs/kill.counts"), not running"
"$ilheap" counts "$runs/kill.counts" --snapshot "$runs/round1.snap" || fail "kill: ilheap counts --snapshot"
echo go >&3
waitfor "$runs/kill.out" "finished round 2" || fail "kill: round 2 never finished"
check live2 "$runs/kill.counts" "$src/Counts/expected-blocks.txt" 2
"$ilheap" cover "$runs/kill.counts" --lcov "$runs/live.info" >"$runs/live.table" 2>"$runs/live.cover.err" ||
    { cat "$runs/live.cover.err"; fail "kill: ilheap cover on the live file"; }
"$ilheap" cover "$runs/kill.counts" --since "$runs/round1.snap" --lcov "$runs/since.info" >/dev/null 2>&1 ||
    fail "kill: ilheap cover --since"
"$ilheap" counts "$runs/kill.counts" --jsonl >"$runs/live2-full.jsonl"
kill -KILL $pid
wait $pid 2>/dev/null
exec 3>&-
[ "$(state "$runs/kill.counts")" = killed ] || fail "kill: state $(state "$runs/kill.counts") after SIGKILL, not killed"
check killed "$runs/kill.counts" "$src/Counts/expected-blocks.txt" 2
"$ilheap" counts "$runs/kill.counts" --jsonl | cmp -s - "$runs/live2-full.jsonl" ||
    fail "kill: the counts changed between the quiescent point and the kill"
"$ilheap" cover "$runs/kill.counts" --lcov "$runs/killed.info" >"$runs/killed.table" 2>/dev/null || fail "kill: ilheap cover after the kill"
diff <(grep -v '^TN' "$runs/live.info") <(grep -v '^TN' "$runs/killed.info") >/dev/null ||
    fail "kill: ilheap cover gives other numbers after the kill"
grep -q '^DA:[0-9]*,[1-9]' "$runs/killed.info" || fail "kill: no line hit in the report"
echo "  ilheap cover: the same report live and after the kill ($(grep -c '^DA:' "$runs/killed.info") lines)"
# --since round 1: one round's worth, i.e. the counts of round 1 alone.
"$ilheap" cover "$runs/kill.counts" --since "$runs/round1.snap" --lcov "$runs/since-killed.info" >/dev/null 2>&1
"$ilheap" counts "$runs/round1.snap" --jsonl >"$runs/round1.jsonl"
python3 "$src/check_counts.py" blocks "$src/Counts/expected-blocks.txt" "$runs/round1.jsonl" --module CountsApp.dll \
    --times 1 >/dev/null 2>&1 || fail "snapshot: not the counts of round 1"
diff <(grep -v '^TN' "$runs/since.info") <(grep -v '^TN' "$runs/since-killed.info") >/dev/null ||
    fail "since: other numbers after the kill"
hits_since=$(sed -n 's/^DA:\([0-9]*\),\([0-9]*\)$/\2/p' "$runs/since.info" | awk '{s += $1} END {print s + 0}')
hits_all=$(sed -n 's/^DA:\([0-9]*\),\([0-9]*\)$/\2/p' "$runs/live.info" | awk '{s += $1} END {print s + 0}')
echo "  --since the snapshot after round 1: $hits_since line hits, of $hits_all in all"
[ "$hits_since" -gt 0 ] && [ "$hits_since" -lt "$hits_all" ] || fail "since: $hits_since of $hits_all line hits"

echo "== ends without a clean exit: every count of the work done is there"
for end in failfast throw overflow; do
    # (the group's stderr takes the shell's "Aborted" notice)
    # shellcheck disable=SC2086
    rc=$({ "${profile[@]}" ILHEAP_MODE=blocks ILHEAP_INCLUDE=CountsApp ILHEAP_COUNTS="$runs/$end.counts" \
        ILHEAP_REPORT="$runs/$end.report" DOTNET_DbgEnableMiniDump=0 ${ILHEAP_PROFILER_RUN_ENV:-} \
        dotnet "$app" 1 1 --end $end >"$runs/$end.out" 2>"$runs/$end.err"; echo $?; } 2>/dev/null)
    [ $rc -ne 0 ] || fail "$end: the program exited 0"
    check $end "$runs/$end.counts" "$src/Counts/expected-blocks.txt" 1
    echo "  $end: exit $rc, state $(state "$runs/$end.counts")"
done

echo "== dotnet test --blame-hang-timeout kills the test host: the finished tests' counts are all there"
# The timeout also runs while the test host starts: on a loaded machine it
# can end before any test ran (no HANG_MARK), and then the run is tried
# again with a longer one.
for timeout in 10 60 180; do
    rm -rf "$runs/hang" && mkdir -p "$runs/hang"
    # shellcheck disable=SC2086
    "${profile[@]}" ILHEAP_MODE=blocks ILHEAP_INCLUDE=HangTests ILHEAP_COUNTS="$runs/hang/counts.%p" \
        ILHEAP_REPORT="$runs/hang/report.%p" HANG_MARK="$runs/hang/mark" ${ILHEAP_PROFILER_RUN_ENV:-} \
        dotnet test "$src/Hang/HangTests.csproj" -c Release --no-build --artifacts-path "$work/artifacts" \
        --blame-hang-timeout ${timeout}s --blame-hang-dump-type none --results-directory "$runs/hang/results" \
        >"$runs/hang.out" 2>&1
    rc=$?
    [ ! -e "$runs/hang/mark" ] || break
    echo "  the ${timeout} s hang timeout ended before the hanging test began (a loaded machine): again"
done
[ -e "$runs/hang/mark" ] || fail "hang: the hanging test never began (dotnet test exit $rc)"
[ $rc -ne 0 ] || fail "hang: dotnet test exited 0 although a test never ended"
host=$(grep -l 'HangTests' "$runs"/hang/counts.* 2>/dev/null)
[ "$(echo "$host" | wc -w)" = 1 ] || fail "hang: $(echo "$host" | wc -w) counts files name HangTests (want the test host's)"
if [ -n "$host" ]; then
    check hang "$host" "$src/Hang/expected-hang.txt" 1 HangTests.dll
    echo "  hang: dotnet test exit $rc, the test host's file: state $(state "$host")"
    [ "$(state "$host")" = killed ] || fail "hang: the test host's state is $(state "$host"), not killed"
fi

echo "== readers racing 8 threads that JIT and run 1,500 new methods"
# shellcheck disable=SC2086
"${profile[@]}" ILHEAP_MODE=blocks ILHEAP_INCLUDE=Many ILHEAP_ATOMIC=1 ILHEAP_COUNTS="$runs/many.counts" \
    ILHEAP_REPORT="$runs/many.report" ${ILHEAP_PROFILER_RUN_ENV:-} dotnet "$many" >"$runs/many.out" 2>&1 &
pid=$!
last=0 reads=0 torn=0 during=0
while kill -0 $pid 2>/dev/null; do
    [ -e "$runs/many.counts" ] || { sleep 0.01; continue; }
    if ! line=$("$ilheap" counts "$runs/many.counts" 2>"$runs/many.read.err"); then
        torn=$((torn + 1))
        cat "$runs/many.read.err"
        continue
    fi
    n=$(sed -n 's/.* \([0-9]*\) methods (.*/\1/p' <<<"$line")
    reads=$((reads + 1))
    [ "$n" -ge "$last" ] || fail "many: the index went down, $last then $n methods"
    [ "$n" -gt 0 ] && [ "$n" -lt 1500 ] && during=$((during + 1))
    last=$n
done
wait $pid || fail "many: the program failed"
"$ilheap" counts "$runs/many.counts" --jsonl >"$runs/many.jsonl" || fail "many: ilheap counts --jsonl"
methods=$(grep -c '"method":"Many.M::F' "$runs/many.jsonl")
entries=$(grep '"method":"Many.M::F' "$runs/many.jsonl" |
          sed 's/.*"blocks":\[{"il_offset":0,"hits":\([0-9]*\)}.*/\1/' | awk '{s += $1} END {print s + 0}')
echo "  $reads readings ($during while methods were being added), $torn failed; $methods methods, entered $entries times"
[ "$torn" = 0 ] || fail "many: $torn readings failed"
[ "$during" -gt 0 ] || fail "many: no reading while methods were being added: the race was not run"
[ "$methods" = 1500 ] && [ "$entries" = 12000 ] || fail "many: $methods methods entered $entries times (want 1500, 12000)"

echo "== ILHEAP_COUNTS in a directory that does not exist"
dotnet "$app" 1 >"$runs/base1.out" 2>/dev/null
# shellcheck disable=SC2086
"${profile[@]}" ILHEAP_MODE=blocks ILHEAP_INCLUDE=CountsApp ILHEAP_COUNTS="$runs/missing/counts.%p" \
    ILHEAP_REPORT="$runs/missing.report" ${ILHEAP_PROFILER_RUN_ENV:-} dotnet "$app" 1 \
    >"$runs/missing.out" 2>"$runs/missing.err" || fail "missing: the program failed"
cmp -s "$runs/missing.out" "$runs/base1.out" || fail "missing: stdout differs from the run without the profiler"
[ ! -s "$runs/missing.err" ] || fail "missing: stderr not empty (a report path was given)"
err=$(grep '^counts_error=' "$runs/missing.report")
echo "  $err"
[ -n "$err" ] && [ "$err" != counts_error=none ] || fail "missing: no counts_error in the report"
[ "$(value instrumented "$runs/missing.report")" = "" ] || [ "$(value instrumented "$runs/missing.report")" = 0 ] ||
    fail "missing: methods were instrumented although nothing could be counted"

if [ "$failures" -ne 0 ]; then
    echo "$failures failure(s)"
    exit 1
fi
echo "all durable-counts checks passed"
