#!/usr/bin/env bash
# ILHEAP_REJIT=1 in the real runtime: methods rewritten through ReJIT
# (RequestReJIT from the profiler's thread, GetReJITParameters), ReadyToRun
# left on.
#   - known counts (tests/profiler/Counts) in calls and blocks mode, exact and
#     stdout unchanged, on the program JIT-compiled and on it published
#     ReadyToRun (-p:PublishReadyToRun=true: the runtime pack and crossgen
#     come from NuGet); on the ReadyToRun build the JIT path counts nothing
#     (its methods are never JIT-compiled) while ReJIT gives the same counts
#     as the JIT path with ReadyToRun disabled;
#   - 8 threads with ILHEAP_ATOMIC=1; tier-up forced early (the ReJIT
#     versions are recompiled at tier 1 and keep their probes);
#   - everything in scope with ReadyToRun on: CoreLib's methods counted;
#   - 100 collectible contexts (never versioned by the runtime: the JIT path
#     serves them), Plugin::Run counted 100 times;
#   - rehome and prologue:7 on ProfTest: output unchanged, every clause kind;
#   - a bad ILHEAP_REJIT is a configuration error.
#
# usage: run_rejit.sh PROFILER_SO SOURCE_DIR WORK_DIR [ILHEAP]
# (ILHEAP: the ilheap command, to export a binary counts file as JSON lines.)
# ILHEAP_PROFILER_RUN_ENV="VAR=value ..." is added to the profiled runs only.
set -u
so=$1
src=$2
work=$3
ilheap=${4:-none}
source "$src/common.sh"
command -v python3 >/dev/null || { echo "SKIP: python3 not found (the counts checker)"; exit 77; }
mkdir -p "$work"
rm -f "$work"/*.jsonl "$work"/*.counts "$work"/*.report

echo "== building the programs"
for proj in Counts/CountsApp ProfTest/ProfTest Collectible/Collectible; do
    build_program "$src/$proj.csproj"
done
publish_r2r "$src/Counts/CountsApp.csproj"
app="$work/artifacts/bin/CountsApp/release/CountsApp.dll"
r2r="$work/r2r/publish/CountsApp/release_linux-x64/CountsApp.dll"
proftest="$work/artifacts/bin/ProfTest/release/ProfTest.dll"
plugin="$work/artifacts/bin/Collectible/release/Collectible.dll"

# profiled NAME DLL ARGS...: runs under the profiler with ${env[@]}; NAME.out,
# .err, .report, and the counts as JSON lines in NAME.jsonl
profiled() {
    local name=$1
    shift
    # shellcheck disable=SC2086
    env CORECLR_ENABLE_PROFILING=1 CORECLR_PROFILER="$clsid" CORECLR_PROFILER_PATH="$so" \
        ILHEAP_REPORT="$work/$name.report" ILHEAP_COUNTS="$work/$name.counts" \
        ${ILHEAP_PROFILER_RUN_ENV:-} "${env[@]}" dotnet "$@" >"$work/$name.out" 2>"$work/$name.err"
    [ -s "$work/$name.report" ] || fail "$name: no report (exit status or crash: $(tail -n 3 "$work/$name.err"))"
    if [ ! -e "$work/$name.counts" ]; then
        : >"$work/$name.jsonl"
    elif [ "$(head -c 8 "$work/$name.counts")" = ILHEAPCT ]; then
        [ "$ilheap" != none ] || { echo "SKIP: a binary counts file and no ilheap command to read it"; exit 77; }
        "$ilheap" counts "$work/$name.counts" --jsonl >"$work/$name.jsonl" || fail "$name: ilheap counts --jsonl"
    else
        cp "$work/$name.counts" "$work/$name.jsonl"
    fi
}

# same_output NAME BASE: stdout equal to the run without the profiler, stderr
# empty (but for ProfTest's own rss_kib line)
same_output() {
    cmp -s "$work/$1.out" "$work/$2.out" || fail "$1: stdout differs from the run without the profiler"
    ! grep -v '^rss_kib_' "$work/$1.err" >/dev/null || { fail "$1: stderr not empty"; head -5 "$work/$1.err"; }
    [ "$(value config_error "$work/$1.report")" = none ] || fail "$1: config_error=$(value config_error "$work/$1.report")"
}

# rejitted NAME MIN: ReJIT gave at least MIN bodies and nothing failed
# profiled_rejit NAME WANT ARGS: `profiled`, run again (at most twice, said)
# when fewer than WANT methods went through ReJIT because the module's request
# was still pending while they ran (they took the JIT path: counted all the
# same). That race is lost only on a loaded machine.
profiled_rejit() {
    local name=$1 want=$2 try done_ jit
    shift 2
    for try in 1 2 3; do
        profiled "$name" "$@"
        done_=$(value rejit_done "$work/$name.report")
        jit=$(value rejit_jit_path "$work/$name.report")
        [ "${done_:-0}" -lt "$want" ] && [ "${jit:-0}" -gt 0 ] && [ $try -lt 3 ] || return 0
        echo "  $name: rejit_done=$done_ rejit_jit_path=$jit: the request thread was late (load): run again"
    done
}

rejitted() {
    local r="$work/$1.report"
    echo "  $1: rejit_requested=$(value rejit_requested "$r") rejit_done=$(value rejit_done "$r")" \
        "rejit_reused=$(value rejit_reused "$r") rejit_jit_path=$(value rejit_jit_path "$r")" \
        "rejit_failed=$(value rejit_failed "$r") rejit_compiled=$(value rejit_compiled "$r")"
    [ "$(value rejit "$r")" = 1 ] || fail "$1: rejit=$(value rejit "$r")"
    [ "$(value rejit_done "$r")" -ge "$2" ] 2>/dev/null || fail "$1: rejit_done=$(value rejit_done "$r") (want >= $2)"
    [ "$(value rejit_failed "$r")" = 0 ] || { fail "$1: rejit_failed=$(value rejit_failed "$r")"; grep '^rejit_error=' "$r"; }
}

check() { # check MODE EXPECTED NAME [args]
    local mode=$1 expected=$2 name=$3
    shift 3
    python3 "$src/check_counts.py" "$mode" "$src/Counts/$expected" "$work/$name.jsonl" \
        --module CountsApp.dll "$@" >"$work/$name.check" 2>&1 || { cat "$work/$name.check"; fail "$name: counts"; }
    tail -n 1 "$work/$name.check" | sed "s/^/  $name: /"
}

# app_lines NAME: CountsApp's lines, without the path (two builds differ in it), sorted
app_lines() {
    grep '"module":"CountsApp.dll"' "$work/$1.jsonl" | sed 's/"path":"[^"]*",//; s/"mvid":"[^"]*",//' | sort
}

echo "== without the profiler"
for t in 1 8; do dotnet "$app" $t >"$work/base$t.out" 2>/dev/null || fail "CountsApp $t fails"; done
dotnet "$app" 1 3 >"$work/base1x3.out" 2>/dev/null || fail "CountsApp 1 3 fails"
dotnet "$r2r" 1 >"$work/r2rbase.out" 2>/dev/null || fail "CountsApp (ReadyToRun) fails"
cmp -s "$work/base1.out" "$work/r2rbase.out" || fail "the ReadyToRun build prints something else"

echo "== known counts through ReJIT, JIT-compiled and ReadyToRun"
for build in jit r2r; do
    dll=$app
    [ $build = r2r ] && dll=$r2r
    for mode in calls blocks; do
        env=(ILHEAP_MODE=$mode ILHEAP_INCLUDE=CountsApp ILHEAP_REJIT=1)
        profiled_rejit $mode-$build 20 "$dll" 1
        same_output $mode-$build base1
        rejitted $mode-$build 20
        check $mode expected-$mode.txt $mode-$build
        [ "$(value event_mask "$work/$mode-$build.report")" = 0x60024 ] ||
            fail "$mode-$build: event_mask=$(value event_mask "$work/$mode-$build.report") (want 0x60024: ReJIT, cache searches, no ReadyToRun switch)"
    done
done
env=(ILHEAP_MODE=calls ILHEAP_INCLUDE=CountsApp)
profiled jitpath-r2r "$r2r" 1
seen=$(grep -c '"module":"CountsApp.dll"' "$work/jitpath-r2r.jsonl")
echo "  the JIT path on the ReadyToRun build: $seen CountsApp methods counted (ReadyToRun code is never JIT-compiled)"
[ "$seen" -lt 5 ] || fail "jitpath-r2r: $seen methods JIT-compiled: is the build ReadyToRun?"
env=(ILHEAP_MODE=blocks ILHEAP_INCLUDE=CountsApp ILHEAP_DISABLE_R2R=1)
profiled jitpath-nor2r "$r2r" 1
app_lines jitpath-nor2r >"$work/jitpath.lines"
app_lines blocks-r2r >"$work/rejit.lines"
cmp -s "$work/jitpath.lines" "$work/rejit.lines" ||
    { fail "ReJIT's counts differ from the JIT path's (ReadyToRun disabled)"; diff "$work/jitpath.lines" "$work/rejit.lines" | head; }
echo "  ReJIT (ReadyToRun on) and the JIT path (ReadyToRun off): $(wc -l <"$work/rejit.lines") identical lines"

echo "== 8 threads, ILHEAP_ATOMIC=1"
for mode in calls blocks; do
    env=(ILHEAP_MODE=$mode ILHEAP_INCLUDE=CountsApp ILHEAP_ATOMIC=1 ILHEAP_REJIT=1)
    profiled_rejit ${mode}8 20 "$r2r" 8
    same_output ${mode}8 base8
    rejitted ${mode}8 20
    check $mode expected-$mode.txt ${mode}8 --times 8
done

echo "== tier-up forced early: the ReJIT versions recompiled at tier 1 keep their probes"
env=(ILHEAP_MODE=blocks ILHEAP_INCLUDE=CountsApp ILHEAP_REJIT=1 DOTNET_TC_CallCountingDelayMs=0
     DOTNET_TC_CallCountThreshold=2 DOTNET_TC_BackgroundWorkerTimeoutMs=0)
profiled tier1 "$app" 1 3
same_output tier1 base1x3
rejitted tier1 20
check blocks expected-blocks.txt tier1 --times 3
[ "$(value rejit_compiled "$work/tier1.report")" -gt "$(value rejit_compiled "$work/blocks-jit.report")" ] ||
    fail "tier1: no more ReJIT compilations than without forcing tier-up"

echo "== everything in scope, ReadyToRun on: CoreLib's methods through ReJIT"
env=(ILHEAP_MODE=calls ILHEAP_REJIT=1)
profiled all "$r2r" 1
same_output all base1
rejitted all 200
check calls expected-calls.txt all
corelib=$(grep -c '"module":"System.Private.CoreLib.dll"' "$work/all.jsonl")
echo "  CoreLib methods counted: $corelib; ReadyToRun code refused while pending: $(value rejit_r2r_refused "$work/all.report")"
[ "$corelib" -gt 100 ] || fail "all: only $corelib CoreLib methods counted"
[ "$(value rejit_modules "$work/all.report")" -ge 3 ] || fail "all: rejit_modules=$(value rejit_modules "$work/all.report")"

echo "== 100 collectible contexts: the JIT path serves them"
env=(ILHEAP_MODE=blocks ILHEAP_INCLUDE=Collectible,ProfTest ILHEAP_REJIT=1)
dotnet "$proftest" "$plugin" 100 >"$work/alc-base.out" 2>/dev/null || fail "ProfTest fails without the profiler"
profiled alc100 "$proftest" "$plugin" 100
cmp -s "$work/alc100.out" "$work/alc-base.out" || fail "alc100: stdout differs from the run without the profiler"
runs=$(grep -c '"method":"Collectible.Plugin::Run"' "$work/alc100.jsonl")
hits=$(grep '"method":"Collectible.Plugin::Run"' "$work/alc100.jsonl" |
       sed 's/.*"blocks":\[{"il_offset":0,"hits":\([0-9]*\)}.*/\1/' | awk '{s += $1} END {print s + 0}')
echo "  Plugin::Run: $runs lines, entered $hits times; collectible modules: $(value rejit_modules_collectible "$work/alc100.report")"
[ "$runs" = 100 ] && [ "$hits" = 100 ] || fail "alc100: Plugin::Run written $runs times, $hits entries (want 100, 100)"

echo "== rehome and prologue:7 through ReJIT (ProfTest, every module in scope)"
dotnet "$proftest" "$plugin" >"$work/pt-base.out" 2>/dev/null || fail "ProfTest fails without the profiler"
for mode in rehome prologue:7; do
    name=pt-${mode/:/}
    env=(ILHEAP_MODE=$mode ILHEAP_REJIT=1)
    profiled $name "$proftest" "$plugin"
    same_output $name pt-base
    rejitted $name 500
    r="$work/$name.report"
    for kind in catch filter finally fault; do
        [ "$(value "clauses.$kind" "$r")" -gt 0 ] 2>/dev/null || fail "$name: no $kind clause rewritten"
    done
    [ "$(value window_violations "$r")" = 0 ] || fail "$name: window violations"
    [ $mode != rehome ] || [ "$(value rehomed_identical "$r")" = "$(value rewritten "$r")" ] ||
        fail "$name: $(value rehomed_identical "$r") of $(value rewritten "$r") rehomed bodies identical"
done

echo "== a bad ILHEAP_REJIT"
env=(ILHEAP_MODE=calls ILHEAP_REJIT=yes)
profiled bad "$app" 1
cmp -s "$work/bad.out" "$work/base1.out" || fail "ILHEAP_REJIT=yes: stdout differs"
echo "  -> $(grep '^config_error=' "$work/bad.report")"
case "$(value config_error "$work/bad.report")" in ILHEAP_REJIT*) ;; *) fail "ILHEAP_REJIT=yes: no configuration error" ;; esac

if [ "$failures" -ne 0 ]; then
    echo "$failures failure(s)"
    exit 1
fi
echo "all ReJIT checks passed"
