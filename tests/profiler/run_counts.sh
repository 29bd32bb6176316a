#!/usr/bin/env bash
# ILHEAP_MODE=calls and blocks in the real runtime (tests/profiler/Counts):
#   - known counts: CountsApp's methods are entered, and their blocks hit, a
#     number of times fixed by the program (Counts/expected-*.txt); the
#     counts file (read with `ilheap counts --jsonl`) must show exactly those,
#     and stdout must be identical to a run without the profiler;
#   - 8 threads with ILHEAP_ATOMIC=1: every count exactly 8 times;
#   - 3 rounds a quarter of a second apart with tier-up forced early
#     (DOTNET_TC_CallCountingDelayMs=0, threshold 2): the tier-1
#     recompilations reuse the instrumented body, counts exactly 3 times;
#   - everything instrumented (no ILHEAP_INCLUDE), CoreLib's ReadyToRun code
#     disabled so that CoreLib is JIT-compiled with probes at every block:
#     the program's output is unchanged and its own counts still exact;
#   - 100 collectible contexts in blocks mode: every context's counts are
#     written, and counter memory returns to its level after one context;
#   - a full window (ILHEAP_WINDOW=0x10000, smaller than the room the heap
#     needs): the bodies come from the runtime's allocator (ILHEAP_FALLBACK,
#     on by default in counting modes) and the counts stay exact; with
#     ILHEAP_FALLBACK=none the methods keep their bodies, counted as alloc_failed;
#   - a bad ILHEAP_MODE / ILHEAP_INCLUDE is a configuration error in the
#     report and the host runs as without the profiler.
#
# usage: run_counts.sh PROFILER_SO SOURCE_DIR WORK_DIR ILHEAP
# ILHEAP_PROFILER_RUN_ENV="VAR=value ..." is added to the profiled runs only.
set -u
so=$1
src=$2
work=$3
ilheap=$4
source "$src/common.sh"
[ "$ilheap" != none ] || { echo "SKIP: the ilheap command is not built (ILHEAP_BUILD_TOOLS=OFF): it reads the counts"; exit 77; }
command -v python3 >/dev/null || { echo "SKIP: python3 not found (the counts checker)"; exit 77; }
mkdir -p "$work"
rm -f "$work"/*.jsonl "$work"/*.counts "$work"/*.report

echo "== building the programs (offline)"
for proj in Counts/CountsApp ProfTest/ProfTest Collectible/Collectible; do
    build_program "$src/$proj.csproj"
done
app="$work/artifacts/bin/CountsApp/release/CountsApp.dll"
proftest="$work/artifacts/bin/ProfTest/release/ProfTest.dll"
plugin="$work/artifacts/bin/Collectible/release/Collectible.dll"

# profiled NAME DLL ARGS... : runs with the profiler and ${env[@]}; out, err, report, counts in
# $work, and the counts exported as JSON lines (NAME.jsonl) when there are any
profiled() {
    local name=$1
    shift
    rm -f "$work/$name.counts" "$work/$name.jsonl"
    # shellcheck disable=SC2086
    env CORECLR_ENABLE_PROFILING=1 CORECLR_PROFILER="$clsid" CORECLR_PROFILER_PATH="$so" \
        ILHEAP_REPORT="$work/$name.report" ILHEAP_COUNTS="$work/$name.counts" \
        ${ILHEAP_PROFILER_RUN_ENV:-} "${env[@]}" dotnet "$@" >"$work/$name.out" 2>"$work/$name.err"
    if [ -e "$work/$name.counts" ]; then
        "$ilheap" counts "$work/$name.counts" --jsonl >"$work/$name.jsonl" || fail "$name: ilheap counts --jsonl"
    fi
}

# same_output NAME BASE: stdout equal to the run without the profiler, stderr empty
same_output() {
    cmp -s "$work/$1.out" "$work/$2.out" || fail "$1: stdout differs from the run without the profiler"
    [ ! -s "$work/$1.err" ] || { fail "$1: stderr not empty"; head -5 "$work/$1.err"; }
    [ "$(value config_error "$work/$1.report")" = none ] || fail "$1: config_error=$(value config_error "$work/$1.report")"
}

# counted NAME: every instrumented method's line was written
counted() {
    local r="$work/$1.report" i w
    i=$(value instrumented "$r")
    w=$(value counts_written "$r")
    echo "  $1: instrumented=$i counts_written=$w probes=$(value probes "$r") inlining_refused=$(value inlining_refused "$r")"
    [ -n "$i" ] && [ "$i" -gt 0 ] && [ "$i" = "$w" ] || fail "$1: instrumented=$i counts_written=$w"
}

check() { # check MODE EXPECTED NAME [args]
    local mode=$1 expected=$2 name=$3
    shift 3
    python3 "$src/check_counts.py" "$mode" "$src/Counts/$expected" "$work/$name.jsonl" \
        --module CountsApp.dll "$@" >"$work/$name.check" 2>&1 || {
        cat "$work/$name.check"
        fail "$name: counts"
    }
    tail -n 1 "$work/$name.check" | sed "s/^/  $name: /"
}

echo "== without the profiler"
for t in 1 8; do
    dotnet "$app" $t >"$work/base$t.out" 2>"$work/base$t.err" || fail "CountsApp $t fails without the profiler"
done
dotnet "$app" 1 3 >"$work/base1x3.out" 2>/dev/null || fail "CountsApp 1 3 fails without the profiler"

echo "== known counts, one thread"
env=(ILHEAP_MODE=calls ILHEAP_INCLUDE=CountsApp)
profiled calls1 "$app" 1
same_output calls1 base1
counted calls1
check calls expected-calls.txt calls1
env=(ILHEAP_MODE=blocks ILHEAP_INCLUDE=CountsApp)
profiled blocks1 "$app" 1
same_output blocks1 base1
counted blocks1
check blocks expected-blocks.txt blocks1

echo "== 8 threads, ILHEAP_ATOMIC=1"
for mode in calls blocks; do
    env=(ILHEAP_MODE=$mode ILHEAP_INCLUDE=CountsApp ILHEAP_ATOMIC=1)
    profiled ${mode}8 "$app" 8
    same_output ${mode}8 base8
    counted ${mode}8
    check $mode expected-$mode.txt ${mode}8 --times 8
done

echo "== tier-up forced early: recompiled methods are not instrumented twice"
env=(ILHEAP_MODE=blocks ILHEAP_INCLUDE=CountsApp DOTNET_TC_CallCountingDelayMs=0 DOTNET_TC_CallCountThreshold=2
     DOTNET_TC_BackgroundWorkerTimeoutMs=0)
profiled tier1 "$app" 1 3
same_output tier1 base1x3
counted tier1
check blocks expected-blocks.txt tier1 --times 3
again=$(value skipped.already_rewritten "$work/tier1.report")
echo "  tier1: already_rewritten=$again (against $(value skipped.already_rewritten "$work/blocks1.report") without forcing)"
[ "${again:-0}" -gt "$(value skipped.already_rewritten "$work/blocks1.report")" ] ||
    fail "tier1: no more recompilations than without forcing tier-up: the test did not force it"

echo "== everything instrumented, CoreLib JIT-compiled (ReadyToRun off)"
for v in "calls 0" "blocks 0" "blocks 1"; do
    set -- $v
    env=(ILHEAP_MODE=$1 ILHEAP_DISABLE_R2R=1 ILHEAP_ATOMIC=$2)
    profiled all-$1-a$2 "$app" 1
    same_output all-$1-a$2 base1
    counted all-$1-a$2
    check $1 expected-$1.txt all-$1-a$2
    grep -q '"module":"System.Private.CoreLib.dll"' "$work/all-$1-a$2.jsonl" ||
        fail "all-$1-a$2: no CoreLib method counted"
    [ "$(value skipped.intrinsic "$work/all-$1-a$2.report")" -gt 0 ] ||
        fail "all-$1-a$2: no CoreLib intrinsic left alone"
done

echo "== 100 collectible contexts, blocks"
env=(ILHEAP_MODE=blocks ILHEAP_INCLUDE=Collectible,ProfTest)
dotnet "$proftest" "$plugin" 100 >"$work/alc-base.out" 2>/dev/null || fail "ProfTest fails without the profiler"
profiled alc1 "$proftest" "$plugin" 1
profiled alc100 "$proftest" "$plugin" 100
cmp -s "$work/alc100.out" "$work/alc-base.out" || fail "alc100: stdout differs from the run without the profiler"
counted alc100
runs=$(grep -c '"method":"Collectible.Plugin::Run"' "$work/alc100.jsonl")
hits=$(grep '"method":"Collectible.Plugin::Run"' "$work/alc100.jsonl" |
       sed 's/.*"blocks":\[{"il_offset":0,"hits":\([0-9]*\)}.*/\1/' | awk '{s += $1} END {print s + 0}')
echo "  Plugin::Run: $runs lines (one per context), entered $hits times in all"
[ "$runs" = 100 ] && [ "$hits" = 100 ] || fail "alc100: Plugin::Run written $runs times, $hits entries (want 100, 100)"
[ "$(value collectible_unloaded "$work/alc100.report")" = 100 ] ||
    fail "alc100: $(value collectible_unloaded "$work/alc100.report") collectible modules unloaded"
for k in counter_regions_live counter_bytes_live live_heaps; do
    a=$(value $k "$work/alc1.report")
    b=$(value $k "$work/alc100.report")
    echo "  $k: $a after 1 context, $b after 100"
    [ -n "$a" ] && [ "$a" = "$b" ] || fail "alc100: $k did not return to its level after one context"
done

echo "== a full window: the runtime's allocator takes over (ILHEAP_FALLBACK)"
env=(ILHEAP_MODE=blocks ILHEAP_INCLUDE=CountsApp ILHEAP_WINDOW=0x10000)
profiled fallback "$app" 1
same_output fallback base1
counted fallback
check blocks expected-blocks.txt fallback
fb=$(value bodies_fallback "$work/fallback.report")
echo "  fallback: bodies_fallback=$fb of instrumented=$(value instrumented "$work/fallback.report")"
# (Whatever room the 64 KiB window has is used first.)
[ "${fb:-0}" -gt 0 ] || fail "fallback: no body from the fallback allocator"
[ "$(value window_violations "$work/fallback.report")" = 0 ] || fail "fallback: window violations"
env=(ILHEAP_MODE=blocks ILHEAP_INCLUDE=CountsApp ILHEAP_WINDOW=0x10000 ILHEAP_FALLBACK=none)
profiled nofallback "$app" 1
same_output nofallback base1
nf=$(value skipped.alloc_failed "$work/nofallback.report")
echo "  ILHEAP_FALLBACK=none: alloc_failed=$nf instrumented=$(value instrumented "$work/nofallback.report")"
# (What room the 64 KiB window has still serves some methods.)
[ "${nf:-0}" -gt 0 ] && [ "$(value bodies_fallback "$work/nofallback.report")" = 0 ] ||
    fail "nofallback: alloc_failed=$nf bodies_fallback=$(value bodies_fallback "$work/nofallback.report")"

echo "== bad configuration"
for bad in "ILHEAP_MODE=block" "ILHEAP_INCLUDE=CountsApp,,x" "ILHEAP_EXCLUDE=a/b" "ILHEAP_ATOMIC=yes" \
    "ILHEAP_FALLBACK=maybe"; do
    env=("$bad")
    profiled bad "$app" 1
    cmp -s "$work/bad.out" "$work/base1.out" || fail "$bad: stdout differs"
    [ ! -s "$work/bad.err" ] || fail "$bad: stderr not empty"
    msg=$(value config_error "$work/bad.report")
    echo "  $bad -> $(grep '^config_error=' "$work/bad.report" | cut -c1-100)"
    [ -n "$msg" ] && [ "$msg" != none ] || fail "$bad: no configuration error"
    [ ! -e "$work/bad.counts" ] || fail "$bad: a counts file was written"
done

if [ "$failures" -ne 0 ]; then
    echo "$failures failure(s)"
    exit 1
fi
echo "all counts checks passed"
