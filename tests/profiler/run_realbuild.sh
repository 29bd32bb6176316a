#!/usr/bin/env bash
# `dotnet build` of a real C# project (Ledger/, about 500 lines) with the
# profiler loaded into every process of the build (the CLI, MSBuild, the
# compiler: -nodeReuse:false -p:UseSharedCompilation=false keep them ours),
# ReadyToRun disabled so that every method is JIT-compiled and rewritten, in
# rehome, prologue:7 and blocks mode (a counter probe at every basic block of
# every method, the compiler's included), with ILHEAP_REPORT=dir/report.%p.txt.
# MODES (the fifth argument) chooses others: timing+rejit is ILHEAP_MODE=timing
# (every method wrapped) through ILHEAP_REJIT=1, ReadyToRun left on.
# Checks:
#   - the build succeeds, and prints nothing of the profiler's;
#   - Ledger.dll is byte-identical to a build without the profiler;
#   - one report per process, at least two;
#   - every report: no configuration error, 0 window violations, nothing
#     left unrewritten for a reason of ours (decode, verify, encode, set,
#     and in blocks mode the IL rewriter's load, edit and encode);
#   - blocks, timing: every instrumented method in its process's counts file
#     (read with `ilheap counts`), which says the process exited; timing:
#     the wrapper refused no method, ReJIT failed for none;
#   - 0 failed Allocs, except in a module that had less than 1 MiB free
#     within 4 GiB above its base when it loaded (ILHEAP_MODULE_LOG): there
#     the window is full whatever the allocator does (the GC's reservation
#     lies right above files mapped after it), and NULL is the right answer.
#
# usage: run_realbuild.sh PROFILER_SO SOURCE_DIR WORK_DIR ILHEAP [MODES]
set -u
so=$(realpath "$1") # the processes of a build start in other directories
src=$2/Ledger
work=$3
ilheap=$4
modes=${5:-rehome prologue:7 blocks}
source "$2/common.sh"
[ "$ilheap" != none ] || { echo "SKIP: the ilheap command is not built (ILHEAP_BUILD_TOOLS=OFF): it reads the counts"; exit 77; }

rm -rf "$work"
mkdir -p "$work"
cp -r "$src" "$work/src"
dll="$work/src/bin/Release/net10.0/Ledger.dll"

# build NAME [VAR=value...]: a clean build of the project; output in NAME.log.
# The copy sits inside a git work tree: without
# EnableSourceControlManagerQueries=false the build puts the work tree's
# commit into the assembly (InformationalVersion, Source Link), and a commit
# made while the test runs would make the builds differ.
build() {
    local name=$1
    shift
    rm -rf "$work/src/bin" "$work/src/obj"
    local start end
    start=$(date +%s)
    env "$@" dotnet build "$work/src/Ledger.csproj" -c Release --source /opt/nuget/packages \
        -nodeReuse:false -p:UseSharedCompilation=false -p:Deterministic=true \
        -p:EnableSourceControlManagerQueries=false >"$work/$name.log" 2>&1
    local rc=$?
    end=$(date +%s)
    echo "$name: exit $rc, $((end - start)) s"
    return $rc
}

build baseline || { cat "$work/baseline.log"; echo "FAIL: the project does not build without the profiler"; exit 1; }
cp "$dll" "$work/baseline.dll"

for spec in $modes; do
    name=${spec/:/}
    name=${name/+/-}
    mode=${spec%+rejit}
    r2r=(DOTNET_ReadyToRun=0 ILHEAP_DISABLE_R2R=1)
    [ "$mode" = "$spec" ] || r2r=(ILHEAP_REJIT=1)
    reports="$work/reports-$name"
    mkdir -p "$reports"
    if ! build "$name" CORECLR_ENABLE_PROFILING=1 CORECLR_PROFILER="$clsid" \
        CORECLR_PROFILER_PATH="$so" "${r2r[@]}" ILHEAP_MODE="$mode" \
        ILHEAP_REPORT="$reports/report.%p.txt" ILHEAP_MODULE_LOG="$reports/modules.%p.txt" \
        ILHEAP_COUNTS="$reports/counts.%p"; then
        tail -n 20 "$work/$name.log"
        fail "$name: the build failed under the profiler"
        continue
    fi
    cmp -s "$work/baseline.dll" "$dll" || fail "$name: Ledger.dll differs from the build without the profiler"
    if grep -qi ilheap "$work/$name.log"; then
        fail "$name: the profiler's words in the build output"
        grep -i ilheap "$work/$name.log" | head -n 5
    fi
    n=$(find "$reports" -name 'report.*.txt' | wc -l)
    [ "$n" -ge 2 ] || fail "$name: $n report(s), expected one per process (at least 2)"
    rewritten=0 failed=0 full=0
    for report in "$reports"/report.*.txt; do
        [ -s "$report" ] || continue
        pid=${report##*/report.}
        pid=${pid%.txt}
        [ "$(value config_error "$report")" = none ] || fail "$name/$pid: config_error=$(value config_error "$report")"
        [ "$(value window_violations "$report")" = 0 ] || fail "$name/$pid: $(value window_violations "$report") window violations"
        for why in decode verify encode set_failed no_allocator rewriter_load rewriter_edit \
            rewriter_encode counters metadata; do
            [ "$(value "skipped.$why" "$report")" = 0 ] || fail "$name/$pid: skipped.$why=$(value "skipped.$why" "$report")"
        done
        rewritten=$((rewritten + $(value rewritten "$report")))
        if [ "$mode" = blocks ] || [ "$mode" = timing ]; then
            i=$(value instrumented "$report")
            w=$(value counts_written "$report")
            summary=$("$ilheap" counts "$reports/counts.$pid" 2>&1)
            methods=$(sed -n 's/.* \([0-9]*\) methods (.*/\1/p' <<<"$summary")
            echo "  $name/$pid: instrumented=$i probes=$(value probes "$report") counts_written=$w ($methods methods in the file)"
            [ -n "$i" ] && [ "$i" -gt 0 ] && [ "$i" = "$w" ] && [ "$w" = "$methods" ] ||
                fail "$name/$pid: instrumented=$i counts_written=$w, $methods methods in the counts file ($summary)"
            grep -q ": exited," <<<"$summary" || fail "$name/$pid: the counts file does not say exited: $summary"
        fi
        if [ "$mode" = timing ]; then
            echo "  $name/$pid: $(grep -E '^timing_(ctors|refused)' "$report" | sed 's/  #.*//' | tr '\n' ' ')"
            [ "$(value skipped.wrap "$report")" = 0 ] || fail "$name/$pid: skipped.wrap=$(value skipped.wrap "$report")"
        fi
        if [ "$mode" != "$spec" ]; then
            echo "  $name/$pid: rejit_requested=$(value rejit_requested "$report") rejit_done=$(value rejit_done "$report")" \
                "rejit_jit_path=$(value rejit_jit_path "$report") rejit_failed=$(value rejit_failed "$report")"
            [ "$(value rejit_failed "$report")" = 0 ] || fail "$name/$pid: rejit_failed=$(value rejit_failed "$report")"
        fi
        # Each module with failed Allocs: was its window full when it loaded?
        while read -r line; do
            base=$(echo "$line" | sed -n 's/.* base=\(0x[0-9a-f]*\) .*/\1/p')
            count=$(echo "$line" | sed -n 's/.* failed=\([0-9]*\) .*/\1/p')
            free4=$(grep -h " base=$base " "$reports/modules.$pid.txt" | sed -n 's/.* free_4g=\([0-9a-fx]*\) .*/\1/p' | tail -n 1)
            if [ -n "$free4" ] && [ $((free4)) -lt $((1 << 20)) ]; then
                full=$((full + count))
                echo "  $name/$pid: ${line%% base=*}: $count Allocs NULL, $((free4 / 1024)) KiB free within 4 GiB at load (window full)"
            else
                failed=$((failed + count))
                fail "$name/$pid: ${line%% base=*}: $count Allocs NULL with ${free4:-unknown} free within 4 GiB"
            fi
        done < <(grep '^module_alloc_failed=' "$report")
        echo "  $name/$pid: rewritten=$(value rewritten "$report") methods_seen=$(value methods_seen "$report")" \
            "bodies_beyond_2gib=$(value bodies_beyond_2gib "$report")" \
            "alloc_first_ns_mean=$(value alloc_first_ns_mean "$report") (of $(value alloc_first_per_module "$report") modules)" \
            "alloc_rest_ns_p50=$(value alloc_rest_ns_p50 "$report")"
    done
    [ "$rewritten" -gt 10000 ] || fail "$name: only $rewritten bodies rewritten over the build"
    echo "$name: $n reports, $rewritten bodies rewritten, $failed Allocs NULL with room, $full in full windows"
done

if [ $failures -ne 0 ]; then
    echo "$failures failure(s); logs and reports in $work"
    exit 1
fi
echo "the real build under the profiler passed"
