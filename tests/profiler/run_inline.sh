#!/usr/bin/env bash
# Inlining of instrumented callees (tests/profiler/Inline): the JIT inlines a
# callee's instrumented body when that body was set before the caller's JIT
# began, and no other (docs/profiler.md, "Inlining"):
#   - calls and blocks: the inlined callees' counts are exact, and the report
#     shows inlining_allowed > 0 (the optimized Hot did inline them);
#   - ILHEAP_INLINE=0: no inlining of an instrumented callee, counts exact;
#   - tiered compilation off: Hot is compiled optimized before any callee's
#     body is set, so every instrumented callee is refused, counts exact.
# stdout is identical to a run without the profiler, stderr empty.
#
# usage: run_inline.sh PROFILER_SO SOURCE_DIR WORK_DIR ILHEAP
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

echo "== building the program (offline)"
build_program "$src/Inline/Inline.csproj"
app="$work/artifacts/bin/Inline/release/Inline.dll"
dotnet "$app" >"$work/base.out" 2>"$work/base.err" || fail "InlineApp fails without the profiler"

# run NAME MODE [VAR=value...]: a profiled run, checked against the known counts
run() {
    local name=$1 mode=$2
    shift 2
    rm -f "$work/$name.counts" "$work/$name.jsonl"
    # shellcheck disable=SC2086
    env CORECLR_ENABLE_PROFILING=1 CORECLR_PROFILER="$clsid" CORECLR_PROFILER_PATH="$so" \
        ILHEAP_REPORT="$work/$name.report" ILHEAP_COUNTS="$work/$name.counts" \
        ILHEAP_MODE="$mode" ILHEAP_INCLUDE=Inline ${ILHEAP_PROFILER_RUN_ENV:-} "$@" \
        dotnet "$app" >"$work/$name.out" 2>"$work/$name.err"
    cmp -s "$work/$name.out" "$work/base.out" || fail "$name: stdout differs from the run without the profiler"
    [ ! -s "$work/$name.err" ] || { fail "$name: stderr not empty"; head -5 "$work/$name.err"; }
    [ "$(value config_error "$work/$name.report")" = none ] || fail "$name: config_error=$(value config_error "$work/$name.report")"
    "$ilheap" counts "$work/$name.counts" --jsonl >"$work/$name.jsonl" || { fail "$name: ilheap counts --jsonl"; return; }
    python3 "$src/check_counts.py" "$mode" "$src/Inline/expected-$mode.txt" "$work/$name.jsonl" \
        --module Inline.dll >"$work/$name.check" 2>&1 || { cat "$work/$name.check"; fail "$name: counts"; }
    allowed=$(value inlining_allowed "$work/$name.report")
    echo "  $name: $(tail -n 1 "$work/$name.check"); inlining_allowed=$allowed" \
        "inlining_refused=$(value inlining_refused "$work/$name.report")"
}

echo "== instrumented callees inlined once their bodies are in place"
for mode in calls blocks; do
    run $mode $mode
    [ "${allowed:-0}" -gt 0 ] || fail "$mode: inlining_allowed=${allowed:-none}: the optimized Hot inlined no instrumented callee"
done
echo "== ILHEAP_INLINE=0: never"
run never calls ILHEAP_INLINE=0
[ "$allowed" = 0 ] || fail "never: inlining_allowed=$allowed with ILHEAP_INLINE=0"
echo "== tiered compilation off: Hot's JIT starts before any callee's body is set"
run tc0 calls DOTNET_TieredCompilation=0
[ "$allowed" = 0 ] || fail "tc0: inlining_allowed=$allowed: a callee was inlined before its body was set"

if [ "$failures" -ne 0 ]; then
    echo "$failures failure(s)"
    exit 1
fi
echo "all inlining checks passed"
