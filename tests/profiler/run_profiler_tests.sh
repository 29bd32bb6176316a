#!/usr/bin/env bash
# The profiler in the real runtime: builds the C# test program, runs it with no
# profiler, then under every mode, and checks
#   - stdout identical to the run without the profiler (rehome, prologue:1,
#     prologue:7; ilheap and the runtime's allocator; ReadyToRun on and off);
#   - the report shows methods really rewritten, with every EH clause kind,
#     tiny and fat bodies, rehomed bodies byte-identical, and tiny bodies
#     grown to fat by a 64-byte prologue;
#   - ILHEAP_REPLACE changes exactly the target's result;
#   - after 100 collectible load contexts unload, their heaps are released:
#     live heaps equal a run with no collectible context;
#   - zero window violations with ilheap (the default 4 GiB window and the
#     strict 2 GiB one, ILHEAP_WINDOW=0x7FFFFFFF);
#   - a bad configuration never brings the host down.
#
# usage: run_profiler_tests.sh PROFILER_SO SOURCE_DIR WORK_DIR
# ILHEAP_PROFILER_QUICK=1 runs only the ReadyToRun-on half of the matrix.
# ILHEAP_PROFILER_RUN_ENV="VAR=value ..." is added to the environment of the
# profiled runs only (the ASan build preloads the sanitizer runtimes there).
set -u
so=$1
src=$2
work=$3
source "$src/common.sh"
mkdir -p "$work"

echo "== building the test program (offline)"
for proj in ProfTest Collectible; do
    build_program "$src/$proj/$proj.csproj"
done
app="$work/artifacts/bin/ProfTest/release/ProfTest.dll"
plugin="$work/artifacts/bin/Collectible/release/Collectible.dll"

echo "== baseline: no profiler"
if ! dotnet "$app" "$plugin" >"$work/base.out" 2>"$work/base.err"; then
    cat "$work/base.err"
    echo "FAIL: the test program fails without the profiler"
    exit 1
fi
grep -q '^answer=42$' "$work/base.out" || fail "baseline: no answer=42"
grep -q '^collectible=.* stuck=0$' "$work/base.out" || fail "baseline: collectible contexts stuck"
tail -n 1 "$work/base.out" | grep -q '^done$' || fail "baseline: did not finish"

# run NAME [VAR=value...]: runs the program under the profiler; the report
# goes to $work/NAME.report, stdout to $work/NAME.out.
run() {
    local name=$1
    shift
    local args=("$app" "$plugin")
    if [ -n "${ITERATIONS:-}" ]; then args+=("$ITERATIONS"); fi
    local start end
    start=$(date +%s%N)
    # shellcheck disable=SC2086
    env ${ILHEAP_PROFILER_RUN_ENV:-} \
        CORECLR_ENABLE_PROFILING=1 CORECLR_PROFILER="$clsid" CORECLR_PROFILER_PATH="$so" \
        ILHEAP_REPORT="$work/$name.report" "$@" \
        dotnet "${args[@]}" >"$work/$name.out" 2>"$work/$name.err"
    local rc=$?
    end=$(date +%s%N)
    if [ $rc -ne 0 ]; then
        fail "$name: exit status $rc"
        tail -n 20 "$work/$name.err"
        return 1
    fi
    if [ ! -s "$work/$name.report" ]; then
        fail "$name: no report"
        return 1
    fi
    printf '%-28s %5d ms  rewritten=%-6s skipped=%-5s violations=%-5s alloc_rest_p50=%sns first=%sns\n' \
        "$name" $(((end - start) / 1000000)) "$(value rewritten "$work/$name.report")" \
        "$(value skipped "$work/$name.report")" "$(value window_violations "$work/$name.report")" \
        "$(value alloc_rest_ns_p50 "$work/$name.report")" "$(value alloc_first_ns_mean "$work/$name.report")"
    return 0
}

r2r_values="0 1"
if [ "${ILHEAP_PROFILER_QUICK:-0}" = 1 ]; then r2r_values=0; fi

echo "== every mode: output identical to the baseline"
for alloc in ilheap clr; do
    for mode in rehome prologue:1 prologue:7; do
        for r2r in $r2r_values; do
            name="$alloc-${mode/:/}-r2r$r2r"
            run "$name" ILHEAP_ALLOCATOR="$alloc" ILHEAP_MODE="$mode" ILHEAP_DISABLE_R2R="$r2r" || continue
            report="$work/$name.report"
            cmp -s "$work/base.out" "$work/$name.out" || {
                fail "$name: output differs from the baseline"
                diff "$work/base.out" "$work/$name.out" | head -n 10
            }
            rewritten=$(value rewritten "$report")
            [ "${rewritten:-0}" -gt 100 ] || fail "$name: only ${rewritten:-0} methods rewritten"
            [ "$(value config_error "$report")" = none ] || fail "$name: config error"
            [ "$(value collectible_unloaded "$report")" = 100 ] ||
                fail "$name: collectible modules unloaded: $(value collectible_unloaded "$report")"
            for kind in catch filter finally fault; do
                [ "$(value "clauses.$kind" "$report")" -gt 0 ] 2>/dev/null ||
                    fail "$name: no $kind clause among the rewritten bodies"
            done
            [ "$(value bodies_tiny "$report")" -gt 0 ] && [ "$(value bodies_fat "$report")" -gt 0 ] ||
                fail "$name: tiny and fat bodies not both rewritten"
            if [ "$mode" = rehome ]; then
                [ "$(value rehomed_identical "$report")" = "$rewritten" ] ||
                    fail "$name: $(value rehomed_identical "$report") of $rewritten rehomed bodies byte-identical"
            fi
            if [ "$alloc" = ilheap ]; then
                [ "$(value window_violations "$report")" = 0 ] ||
                    fail "$name: $(value window_violations "$report") window violations with ilheap"
                released=$(value heaps_released "$report")
                [ "${released:-0}" -ge 100 ] || fail "$name: only ${released:-0} heaps released"
            else
                echo "  runtime allocator: $(value window_violations "$report") of" \
                    "$(value window_checked "$report") bodies outside (base, base + 4 GiB]," \
                    "offsets $(value offset_min "$report") .. $(value offset_max_end "$report")"
            fi
            if [ "$r2r" = 1 ]; then
                r2r_on=$(value rewritten "$work/$alloc-${mode/:/}-r2r0.report")
                [ "${rewritten:-0}" -gt "${r2r_on:-0}" ] ||
                    fail "$name: ReadyToRun disabled but no more methods rewritten ($rewritten vs $r2r_on)"
            fi
        done
    done
done

echo "== a prologue that grows tiny bodies past 63 bytes (tiny -> fat)"
run ilheap-prologue64 ILHEAP_ALLOCATOR=ilheap ILHEAP_MODE=prologue:64 || true
if [ -s "$work/ilheap-prologue64.report" ]; then
    cmp -s "$work/base.out" "$work/ilheap-prologue64.out" || fail "ilheap-prologue64: output differs"
    grown=$(value grew_tiny_to_fat "$work/ilheap-prologue64.report")
    echo "  $grown tiny bodies became fat"
    [ "${grown:-0}" -gt 100 ] || fail "ilheap-prologue64: only ${grown:-0} tiny bodies grew to fat"
fi

echo "== collectible contexts release their heaps"
# The baseline loads and unloads one context (so that the same framework
# modules are loaded); the full run 100: the live heaps must be the same.
ITERATIONS=1 run ilheap-one-alc ILHEAP_ALLOCATOR=ilheap || true
base_live=$(value live_heaps "$work/ilheap-one-alc.report")
alc_live=$(value live_heaps "$work/ilheap-rehome-r2r0.report")
echo "  live heaps: $base_live after 1 collectible context, $alc_live after 100 loaded and unloaded" \
    "(peak $(value live_heaps_peak "$work/ilheap-rehome-r2r0.report"))"
[ -n "$base_live" ] && [ "$base_live" = "$alc_live" ] || fail "live heaps did not return to the baseline"
[ "$(value live_heaps_collectible "$work/ilheap-rehome-r2r0.report")" = 0 ] ||
    fail "heaps of collectible modules still alive"
sed -n 's/^rss_kib_before_alc=\([0-9]*\) rss_kib_after_alc=\([0-9]*\)$/  RSS KiB around the 100 contexts: \1 -> \2/p' \
    "$work/ilheap-rehome-r2r0.err"
rss=$(sed -n 's/^rss_kib_before_alc=\([0-9]*\) rss_kib_after_alc=\([0-9]*\)$/\1 \2/p' "$work/ilheap-rehome-r2r0.err")
if [ -n "$rss" ]; then
    set -- $rss
    [ $(($2 - $1)) -lt 65536 ] || fail "RSS grew by $(($2 - $1)) KiB over 100 collectible contexts"
fi

echo "== the strict window (ILHEAP_WINDOW=0x7FFFFFFF)"
run ilheap-window2g ILHEAP_ALLOCATOR=ilheap ILHEAP_WINDOW=0x7FFFFFFF || true
if [ -s "$work/ilheap-window2g.report" ]; then
    cmp -s "$work/base.out" "$work/ilheap-window2g.out" || fail "ilheap-window2g: output differs"
    [ "$(value window_violations "$work/ilheap-window2g.report")" = 0 ] ||
        fail "ilheap-window2g: window violations"
    [ "$(value bodies_beyond_2gib "$work/ilheap-window2g.report")" = 0 ] ||
        fail "ilheap-window2g: bodies past base + 2 GiB"
    echo "  modules failing: $(value modules_failing "$work/ilheap-window2g.report") with 2 GiB," \
        "$(value modules_failing "$work/ilheap-rehome-r2r0.report") with 4 GiB" \
        "($(value bodies_beyond_2gib "$work/ilheap-rehome-r2r0.report") bodies past 2 GiB);" \
        "highest body end $(value offset_max_end "$work/ilheap-rehome-r2r0.report") above its base"
fi

echo "== replace mode changes exactly the target's result"
# With ilheap, the replacement needs room in the window above ProfTest.dll. In
# some address-space layouts (2 to 4 runs in 12 here) the runtime maps the flat
# ProfTest.dll right below its own 2 GiB executable reservation, so there is no
# room within 2 GiB: the default full 32-bit window served every module in
# every layout measured. Should a layout still leave no room, no body
# can be placed, the method stays as it was (as it must), and we try again.
for alloc in ilheap clr; do
    name="replace-$alloc"
    for attempt in 1 2 3 4 5; do
        run "$name" ILHEAP_ALLOCATOR="$alloc" ILHEAP_MODE=rehome \
            ILHEAP_REPLACE='ProfTest.Targets::Answer=7' || break
        grep -q '^answer=42$' "$work/$name.out" &&
            grep -q '^module_alloc_failed=ProfTest.dll ' "$work/$name.report" || break
        echo "  layout $attempt: not enough room within 4 GiB above ProfTest.dll" \
            "($(grep '^module_alloc_failed=ProfTest.dll ' "$work/$name.report"));" \
            "the target was left alone; again"
    done
    [ -s "$work/$name.report" ] || continue
    sed 's/^answer=42$/answer=7/' "$work/base.out" >"$work/$name.expected"
    cmp -s "$work/$name.expected" "$work/$name.out" || {
        fail "$name: output is not the baseline with answer=7"
        diff "$work/$name.expected" "$work/$name.out" | head -n 10
    }
    [ "$(value replaced "$work/$name.report")" -ge 1 ] 2>/dev/null || fail "$name: replaced=0"
done

echo "== a bad configuration leaves the program alone"
run bad-config ILHEAP_MODE=sideways || true
cmp -s "$work/base.out" "$work/bad-config.out" || fail "bad-config: output differs"
grep -q '^config_error=ILHEAP_MODE' "$work/bad-config.report" || fail "bad-config: error not reported"
! grep -q ilheap "$work/bad-config.err" || fail "bad-config: the profiler wrote to stderr with a report path"
[ "$(value rewritten "$work/bad-config.report")" = 0 ] || fail "bad-config: methods were rewritten"

if [ $failures -ne 0 ]; then
    echo "$failures failure(s); reports and outputs in $work"
    exit 1
fi
echo "all profiler checks passed"
