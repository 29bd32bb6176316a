#!/usr/bin/env bash
# ILHEAP_MODE=timing in the real runtime: every method wrapped, its entries,
# exits by an exception and inclusive time in the counts file.
#   - known entries and exceptional exits (tests/profiler/Timing: exceptions
#     leaving and passing through methods, rethrow, filters, constructors
#     that throw after their base call, struct constructors, struct, ref and
#     Span<T> returns, Span<T> arguments, generics over value and reference
#     types, switch, async, iterators, recursion, stackalloc, known sleeps),
#     exact and stdout unchanged (its stack trace's line numbers included:
#     right only when SetILInstrumentedCodeMap maps the new IL offsets back,
#     which every method's report counts): at JIT time, through ReJIT on the program
#     JIT-compiled and published ReadyToRun (where the JIT path sees none of
#     its methods), on 8 threads with ILHEAP_ATOMIC=1 on both paths;
#   - everything in scope (CoreLib and the framework wrapped), through ReJIT
#     with ReadyToRun on and at JIT time with ReadyToRun off: stdout
#     unchanged, the known entries exact, no method refused by the wrapper;
#   - a small ASP.NET Core server (tests/profiler/Server, a free port on
#     127.0.0.1): the same answers, its own methods' entries exact, and with
#     everything in scope through ReJIT.
#
# usage: run_timing.sh PROFILER_SO SOURCE_DIR WORK_DIR ILHEAP
# ILHEAP_PROFILER_RUN_ENV="VAR=value ..." is added to the profiled runs only.
set -u
so=$1
src=$2
work=$3
ilheap=$4
source "$src/common.sh"
command -v python3 >/dev/null || { echo "SKIP: python3 not found (the checker, the server's client)"; exit 77; }
[ "$ilheap" != none ] || { echo "SKIP: the ilheap command is not built: it reads the counts"; exit 77; }
mkdir -p "$work"
rm -f "$work"/*.jsonl "$work"/*.counts "$work"/*.report

echo "== building the programs"
for proj in Timing/TimingApp Server/Server; do
    build_program "$src/$proj.csproj"
done
publish_r2r "$src/Timing/TimingApp.csproj"
app="$work/artifacts/bin/TimingApp/release/TimingApp.dll"
r2r="$work/r2r/publish/TimingApp/release_linux-x64/TimingApp.dll"
server="$work/artifacts/bin/Server/release/Server.dll"

# profiled NAME COMMAND...: runs under the profiler in timing mode with
# ${env[@]}; NAME.out, .err, .report, and the counts as JSON lines in NAME.jsonl
profiled() {
    local name=$1
    shift
    # shellcheck disable=SC2086
    env CORECLR_ENABLE_PROFILING=1 CORECLR_PROFILER="$clsid" CORECLR_PROFILER_PATH="$so" ILHEAP_MODE=timing \
        ILHEAP_REPORT="$work/$name.report" ILHEAP_COUNTS="$work/$name.counts" \
        ${ILHEAP_PROFILER_RUN_ENV:-} "${env[@]}" "$@" >"$work/$name.out" 2>"$work/$name.err"
    [ -s "$work/$name.report" ] || fail "$name: no report (exit status or crash: $(tail -n 3 "$work/$name.err"))"
    "$ilheap" counts "$work/$name.counts" --jsonl >"$work/$name.jsonl" || fail "$name: ilheap counts --jsonl"
}

# clean NAME: stderr empty, and nothing refused for a reason of ours
clean() {
    local r="$work/$1.report"
    [ ! -s "$work/$1.err" ] || { fail "$1: stderr not empty"; head -5 "$work/$1.err"; }
    [ "$(value config_error "$r")" = none ] || fail "$1: config_error=$(value config_error "$r")"
    for why in wrap decode encode verify set_failed rewriter_load rewriter_encode counters metadata; do
        [ "$(value "skipped.$why" "$r")" = 0 ] || fail "$1: skipped.$why=$(value "skipped.$why" "$r")"
    done
    [ "$(value instrumented "$r")" = "$(value counts_written "$r")" ] ||
        fail "$1: instrumented=$(value instrumented "$r") counts_written=$(value counts_written "$r")"
    [ "$(value il_maps_set "$r")" = "$(value instrumented "$r")" ] && [ "$(value il_maps_failed "$r")" = 0 ] ||
        fail "$1: il_maps_set=$(value il_maps_set "$r") il_maps_failed=$(value il_maps_failed "$r")" \
            "(error $(value il_map_error "$r")) of $(value instrumented "$r") methods"
}

# same_output NAME BASE: stdout as without the profiler, and clean
same_output() {
    cmp -s "$work/$1.out" "$work/$2.out" || fail "$1: stdout differs from the run without the profiler"
    clean "$1"
}

# check NAME EXPECTED [args]: the known entries (check_timing.py)
check() {
    local name=$1 expected=$2
    shift 2
    python3 "$src/check_timing.py" "$expected" "$work/$name.jsonl" "$@" >"$work/$name.check" 2>&1 ||
        { cat "$work/$name.check"; fail "$name: counts"; }
    tail -n 1 "$work/$name.check" | sed "s/^/  $name: /"
}

# rejitted NAME MIN: ReJIT gave at least MIN bodies and failed for none
rejitted() {
    local r="$work/$1.report"
    [ "$(value rejit "$r")" = 1 ] || fail "$1: rejit=$(value rejit "$r")"
    [ "$(value rejit_done "$r")" -ge "$2" ] 2>/dev/null || fail "$1: rejit_done=$(value rejit_done "$r") (want >= $2)"
    [ "$(value rejit_failed "$r")" = 0 ] || { fail "$1: rejit_failed=$(value rejit_failed "$r")"; grep '^rejit_error=' "$r"; }
}

expected="$src/Timing/expected-timing.txt"
known=(--module TimingApp.dll)

echo "== without the profiler"
dotnet "$app" 1 >"$work/base1.out" 2>/dev/null || fail "TimingApp fails"
dotnet "$app" 8 >"$work/base8.out" 2>/dev/null || fail "TimingApp 8 fails"
dotnet "$r2r" 1 >"$work/r2rbase.out" 2>/dev/null || fail "TimingApp (ReadyToRun) fails"
cmp -s "$work/base1.out" "$work/r2rbase.out" || fail "the ReadyToRun build prints something else"

echo "== known entries and exceptional exits: at JIT time, through ReJIT, ReadyToRun"
env=(ILHEAP_INCLUDE=TimingApp)
profiled jit dotnet "$app" 1
same_output jit base1
check jit "$expected" "${known[@]}"
echo "  $(grep -E '^timing_ctors' "$work/jit.report" | sed 's/  #.*//' | tr '\n' ' ')"
for build in jit r2r; do
    dll=$app
    [ $build = r2r ] && dll=$r2r
    env=(ILHEAP_INCLUDE=TimingApp ILHEAP_REJIT=1)
    profiled rejit-$build dotnet "$dll" 1
    same_output rejit-$build base1
    rejitted rejit-$build 30
    check rejit-$build "$expected" "${known[@]}"
done
env=(ILHEAP_INCLUDE=TimingApp)
profiled jitpath-r2r dotnet "$r2r" 1
seen=$(grep -c '"module":"TimingApp.dll"' "$work/jitpath-r2r.jsonl")
echo "  the JIT path on the ReadyToRun build: $seen TimingApp methods timed (ReadyToRun code is never JIT-compiled)"
[ "$seen" -lt 10 ] || fail "jitpath-r2r: $seen methods JIT-compiled: is the build ReadyToRun?"

echo "== 8 threads, ILHEAP_ATOMIC=1"
env=(ILHEAP_INCLUDE=TimingApp ILHEAP_ATOMIC=1)
profiled atomic8 dotnet "$app" 8
same_output atomic8 base8
check atomic8 "$expected" "${known[@]}" --times 8
env=(ILHEAP_INCLUDE=TimingApp ILHEAP_ATOMIC=1 ILHEAP_REJIT=1)
profiled atomic8-rejit dotnet "$r2r" 8
same_output atomic8-rejit base8
check atomic8-rejit "$expected" "${known[@]}" --times 8

echo "== everything in scope: the framework wrapped too"
env=(ILHEAP_REJIT=1)
profiled all-rejit dotnet "$r2r" 1
env=(ILHEAP_DISABLE_R2R=1)
profiled all-jit dotnet "$app" 1
for name in all-rejit all-jit; do
    same_output $name base1
    check $name "$expected" "${known[@]}"
    corelib=$(grep -c '"module":"System.Private.CoreLib.dll"' "$work/$name.jsonl")
    echo "  $name: $corelib CoreLib methods timed, $(value instrumented "$work/$name.report") in all"
    [ "$corelib" -gt 300 ] || fail "$name: only $corelib CoreLib methods timed"
done
rejitted all-rejit 300

echo "== an ASP.NET Core server"
python3 "$src/serve.py" "$server" "$work/server-base.out" || fail "the server fails without the profiler"
for spec in own:ILHEAP_INCLUDE=Server all:ILHEAP_REJIT=1; do
    name=server-${spec%%:*}
    env=("${spec#*:}")
    profiled $name python3 "$src/serve.py" "$server" "$work/$name.answers"
    cmp -s "$work/server-base.out" "$work/$name.answers" || fail "$name: the answers differ"
    clean $name
    echo "  $name: $(value instrumented "$work/$name.report") methods timed, $(wc -l <"$work/$name.answers") answers identical"
done
check server-own "$src/Server/expected-timing.txt" --module Server.dll
rejitted server-all 1000

if [ "$failures" -ne 0 ]; then
    echo "$failures failure(s)"
    exit 1
fi
echo "all timing checks passed"
