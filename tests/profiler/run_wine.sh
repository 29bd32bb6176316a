#!/usr/bin/env bash
# The profiler DLL in the Windows CoreCLR, under Wine: the test programs are
# published for win-x64, self-contained (the runtime pack is restored from
# NuGet), and run by wine64 with CORECLR_PROFILER_PATH at ilheap_profiler.dll.
#   - every mode (rehome, prologue:1, prologue:7, calls, blocks; ilheap's
#     allocator and the runtime's): stdout identical to a run without the
#     profiler, nothing on stderr from the profiler, 0 window violations;
#   - CountsApp's known calls through ReJIT, TimingApp's known entries in
#     the timing mode;
#   - 100 collectible contexts unload and release their heaps (and, in
#     blocks mode, their counter memory);
#   - the counts files written on Windows read by the Linux ilheap command
#     (`ilheap counts --jsonl`): CountsApp's known counts
#     (Counts/expected-*.txt), and the same counts, line for line, as the
#     same DLL counted on Linux;
#   - ilheap cover on Linux reads the counts written on Windows (their paths
#     mapped from Wine's Z: drive) and reports what it reports for Linux's;
#   - ILHEAP_REPORT and ILHEAP_COUNTS with %p, a bad configuration reported.
#
# usage: run_wine.sh PROFILER_DLL SOURCE_DIR WORK_DIR LINUX_BUILD_DIR
# LINUX_BUILD_DIR: a native build (profiler/libilheap_profiler.so,
# tools/ilheap). WINEPREFIX must be a prefix made by wineboot; WINE is
# wine64 (default: found on PATH or in /usr/lib/wine). Needs the .NET SDK
# and NuGet (exit 77 without dotnet).
set -u
dll=$1
src=$2
work=$3
linux=$4
ilheap="$linux/tools/ilheap"
source "$src/common.sh"
[ -x "$ilheap" ] && [ -f "$linux/profiler/libilheap_profiler.so" ] ||
    { echo "FAIL: no Linux build in $linux (tools/ilheap, profiler/libilheap_profiler.so)"; exit 1; }
command -v python3 >/dev/null || { echo "SKIP: python3 not found (the counts checker)"; exit 77; }
wine=${WINE:-$(command -v wine64 || echo /usr/lib/wine/wine64)}
[ -x "$wine" ] || { echo "FAIL: no wine64 ($wine)"; exit 1; }
[ -n "${WINEPREFIX:-}" ] || { echo "FAIL: WINEPREFIX is not set"; exit 1; }
mkdir -p "$work"
rm -f "$work"/*.jsonl "$work"/*.counts "$work"/*.report "$work"/*.out "$work"/*.err
# Wine's mscoree must stay builtin: its loader calls it for every DLL with a
# CLI header, and CoreCLR on Windows loads assemblies with LoadLibrary.
export WINEDEBUG=-all WINEDLLOVERRIDES="mshtml="

# winpath PATH: the Windows name of a Unix path (Wine's Z: is the Unix root)
winpath() { local p=$1; printf 'Z:%s' "${p//\//\\}"; }

echo "== publishing the test programs for win-x64, self-contained (runtime pack from NuGet)"
for proj in Counts/CountsApp ProfTest/ProfTest Timing/TimingApp; do
    name=${proj#*/}
    # (Only the runtime pack the program needs: not ASP.NET's.)
    if ! dotnet publish "$src/$proj.csproj" -c Release -r win-x64 --self-contained \
        -p:DisableTransitiveFrameworkReferenceDownloads=true \
        --artifacts-path "$work/artifacts" >"$work/publish-$name.log" 2>&1; then
        tail -n 20 "$work/publish-$name.log"
        echo "FAIL: dotnet publish $name for win-x64"
        exit 1
    fi
done
build_program "$src/Collectible/Collectible.csproj"
pub="$work/artifacts/publish"
counts_exe="$pub/CountsApp/release_win-x64/CountsApp.exe"
proftest_exe="$pub/ProfTest/release_win-x64/ProfTest.exe"
timing_exe="$pub/TimingApp/release_win-x64/TimingApp.exe"
plugin=$(winpath "$work/artifacts/bin/Collectible/release/Collectible.dll")

# wrun NAME EXE ARGS...: the program under Wine with ${env[@]}; NAME.out, NAME.err
wrun() {
    local name=$1
    shift
    env "${env[@]}" timeout 180 "$wine" "$@" >"$work/$name.out" 2>"$work/$name.err" </dev/null
}

# profiled NAME EXE ARGS...: the same under the profiler, report and counts
# in $work (%p: the Windows process id); after it NAME.report, NAME.counts
# and, read by the Linux ilheap command, NAME.jsonl
profiled() {
    local name=$1
    shift
    rm -f "$work/$name".*.report "$work/$name".*.counts "$work/$name.jsonl"
    env CORECLR_ENABLE_PROFILING=1 CORECLR_PROFILER="$clsid" CORECLR_PROFILER_PATH="$(winpath "$dll")" \
        ILHEAP_REPORT="$(winpath "$work/$name.%p.report")" ILHEAP_COUNTS="$(winpath "$work/$name.%p.counts")" \
        "${env[@]}" timeout 180 "$wine" "$@" >"$work/$name.out" 2>"$work/$name.err" </dev/null
    local rc=$? f
    [ $rc -eq 0 ] || { fail "$name: exit status $rc"; tail -n 5 "$work/$name.err"; }
    for f in report counts; do
        set -- "$work/$name".[0-9]*."$f"
        if [ -e "$1" ]; then mv "$1" "$work/$name.$f"; fi
    done
    if [ -e "$work/$name.counts" ]; then
        "$ilheap" counts "$work/$name.counts" --jsonl >"$work/$name.jsonl" ||
            fail "$name: the Linux ilheap cannot read the counts written on Windows"
    fi
    [ -s "$work/$name.report" ] || { fail "$name: no report (ILHEAP_REPORT with %p)"; return 1; }
    [ "$(value config_error "$work/$name.report")" = none ] || [ "${allow_error:-0}" = 1 ] ||
        fail "$name: config_error=$(value config_error "$work/$name.report")"
    ! grep -qi ilheap "$work/$name.err" || fail "$name: the profiler wrote to stderr"
    return 0
}

# same NAME BASE: stdout equal to the run without the profiler
same() {
    cmp -s "$work/$1.out" "$work/$2.out" || {
        fail "$1: stdout differs from the run without the profiler"
        diff "$work/$2.out" "$work/$1.out" | head -n 6
    }
}

# Under Wine 8.0 the runtime's W^X double mapping fails when a dynamic
# method (a reflection invoke stub) is freed: "Internal CLR error" in
# DynamicResolver+DestroyScout.Finalize, with or without a profiler. ProfTest
# invokes through reflection in collectible contexts, so it runs without W^X.
proftest_env=(DOTNET_EnableWriteXorExecute=0)

echo "== without the profiler"
env=()
wrun base1 "$counts_exe" 1 || fail "CountsApp fails under Wine without the profiler"
wrun base8 "$counts_exe" 8 || fail "CountsApp 8 fails under Wine without the profiler"
env=("${proftest_env[@]}")
wrun alc-base "$proftest_exe" "$plugin" 100 || fail "ProfTest fails under Wine without the profiler"
grep -q '^collectible=.* stuck=0' "$work/alc-base.out" || fail "ProfTest: collectible contexts stuck without the profiler"
if [ "$failures" -ne 0 ]; then
    cat "$work/base1.err" "$work/alc-base.err" | head -n 20
    exit 1
fi

echo "== ProfTest in every rewriting mode: same output, 0 violations, 100 contexts released"
for run in "ilheap rehome" "ilheap prologue:1" "ilheap prologue:7" "clr rehome"; do
    set -- $run
    name="$1-${2/:/}"
    env=("${proftest_env[@]}" ILHEAP_ALLOCATOR=$1 ILHEAP_MODE=$2)
    profiled "$name" "$proftest_exe" "$plugin" 100 || continue
    same "$name" alc-base
    r="$work/$name.report"
    printf '  %-18s rewritten=%-5s violations=%-5s heaps_released=%-4s collectible_unloaded=%s offsets %s..%s\n' \
        "$name" "$(value rewritten "$r")" "$(value window_violations "$r")" "$(value heaps_released "$r")" \
        "$(value collectible_unloaded "$r")" "$(value offset_min "$r")" "$(value offset_max_end "$r")"
    [ "$(value rewritten "$r")" -gt 100 ] 2>/dev/null || fail "$name: only $(value rewritten "$r") methods rewritten"
    [ "$(value collectible_unloaded "$r")" = 100 ] || fail "$name: collectible_unloaded=$(value collectible_unloaded "$r")"
    for kind in catch filter finally fault; do
        [ "$(value "clauses.$kind" "$r")" -gt 0 ] 2>/dev/null || fail "$name: no $kind clause rewritten"
    done
    [ "$2" != rehome ] || [ "$(value rehomed_identical "$r")" = "$(value rewritten "$r")" ] ||
        fail "$name: $(value rehomed_identical "$r") of $(value rewritten "$r") rehomed bodies identical"
    if [ "$1" = ilheap ]; then
        [ "$(value window_violations "$r")" = 0 ] || fail "$name: window violations"
        [ "$(value heaps_released "$r")" -ge 100 ] 2>/dev/null || fail "$name: heaps_released=$(value heaps_released "$r")"
        [ "$(value live_heaps_collectible "$r")" = 0 ] || fail "$name: heaps of collectible modules alive"
    fi
done

echo "== calls and blocks: CountsApp's known counts"
check() { # check MODE EXPECTED NAME [args]
    python3 "$src/check_counts.py" "$1" "$src/Counts/$2" "$work/$3.jsonl" --module CountsApp.dll "${@:4}" \
        >"$work/$3.check" 2>&1 || { cat "$work/$3.check"; fail "$3: counts"; }
    tail -n 1 "$work/$3.check" | sed "s/^/  $3: /"
}
for mode in calls blocks; do
    env=(ILHEAP_MODE=$mode ILHEAP_INCLUDE=CountsApp)
    profiled $mode "$counts_exe" 1 || continue
    same $mode base1
    [ ! -s "$work/$mode.err" ] || fail "$mode: stderr not empty"
    check $mode expected-$mode.txt $mode
done
env=(ILHEAP_MODE=blocks ILHEAP_INCLUDE=CountsApp ILHEAP_ATOMIC=1)
profiled blocks8 "$counts_exe" 8 && same blocks8 base8 && check blocks expected-blocks.txt blocks8 --times 8

echo "== ReJIT and timing: CountsApp's calls through ReJIT, TimingApp's known timing entries"
env=(ILHEAP_MODE=calls ILHEAP_INCLUDE=CountsApp ILHEAP_REJIT=1)
for try in 1 2; do # (a module request still pending while the methods ran: they took the JIT path)
    profiled calls-rejit "$counts_exe" 1 || break
    [ "$(value rejit_done "$work/calls-rejit.report")" = 0 ] && [ $try = 1 ] || break
    echo "  calls-rejit: rejit_done=0: the request thread was late (load): run again"
done
if [ -s "$work/calls-rejit.report" ]; then
    same calls-rejit base1
    check calls expected-calls.txt calls-rejit
    echo "  calls-rejit: rejit_done=$(value rejit_done "$work/calls-rejit.report") rejit_jit_path=$(value rejit_jit_path "$work/calls-rejit.report") rejit_failed=$(value rejit_failed "$work/calls-rejit.report")"
    [ "$(value rejit_done "$work/calls-rejit.report")" -gt 0 ] 2>/dev/null || fail "calls-rejit: no method went through ReJIT"
    [ "$(value rejit_failed "$work/calls-rejit.report")" = 0 ] || fail "calls-rejit: rejit_failed"
fi
env=()
wrun timing-base "$timing_exe" 1 || fail "TimingApp fails under Wine without the profiler"
env=(ILHEAP_MODE=timing ILHEAP_INCLUDE=TimingApp)
if profiled timing "$timing_exe" 1; then
    same timing timing-base
    python3 "$src/check_timing.py" "$src/Timing/expected-timing.txt" "$work/timing.jsonl" --module TimingApp.dll \
        >"$work/timing.check" 2>&1 || { cat "$work/timing.check"; fail "timing: entries"; }
    echo "  timing: $(tail -n 1 "$work/timing.check")"
fi

echo "== 100 collectible contexts in blocks mode: counter memory back to one context's"
env=("${proftest_env[@]}" ILHEAP_MODE=blocks ILHEAP_INCLUDE=Collectible,ProfTest)
profiled alc1 "$proftest_exe" "$plugin" 1
profiled alc100 "$proftest_exe" "$plugin" 100 && same alc100 alc-base
runs=$(grep -c '"method":"Collectible.Plugin::Run"' "$work/alc100.jsonl")
[ "$runs" = 100 ] || fail "alc100: Plugin::Run written $runs times (want 100)"
for k in counter_regions_live counter_bytes_live live_heaps; do
    a=$(value $k "$work/alc1.report") b=$(value $k "$work/alc100.report")
    echo "  $k: $a after 1 context, $b after 100"
    [ -n "$a" ] && [ "$a" = "$b" ] || fail "alc100: $k did not return to its level after one context"
done

echo "== a bad configuration: reported, the program untouched"
env=(ILHEAP_MODE=sideways)
allow_error=1 profiled bad "$counts_exe" 1 && same bad base1
grep -q '^config_error=ILHEAP_MODE' "$work/bad.report" || fail "bad: the error is not in the report"
[ ! -e "$work/bad.counts" ] || fail "bad: a counts file was written"

echo "== the same DLL counted on Linux: the same counts; ilheap cover reads Windows' counts"
{
    # CountsApp.dll as published (the same bytes, MVID and PDB), run by the
    # host's runtime through a framework-dependent runtimeconfig.
    ldir="$work/linux-run"
    mkdir -p "$ldir"
    cp "$pub/CountsApp/release_win-x64/CountsApp.dll" "$pub/CountsApp/release_win-x64/CountsApp.pdb" "$ldir/"
    printf '{"runtimeOptions":{"tfm":"net10.0","framework":{"name":"Microsoft.NETCore.App","version":"10.0.0"}}}\n' \
        >"$ldir/CountsApp.runtimeconfig.json"
    for mode in calls blocks; do
        env CORECLR_ENABLE_PROFILING=1 CORECLR_PROFILER="$clsid" \
            CORECLR_PROFILER_PATH="$linux/profiler/libilheap_profiler.so" ILHEAP_MODE=$mode \
            ILHEAP_INCLUDE=CountsApp ILHEAP_REPORT="$work/linux-$mode.report" \
            ILHEAP_COUNTS="$work/linux-$mode.counts" dotnet "$ldir/CountsApp.dll" 1 >"$work/linux-$mode.out" 2>&1 ||
            fail "linux-$mode: CountsApp fails on Linux"
        "$ilheap" counts "$work/linux-$mode.counts" --jsonl >"$work/linux-$mode.jsonl" ||
            fail "linux-$mode: ilheap counts --jsonl"
        tr -d '\r' <"$work/$mode.out" | cmp -s - "$work/linux-$mode.out" ||
            fail "linux-$mode: stdout differs from Windows' (line ends aside)"
        python3 "$src/wine_counts.py" compare "$work/linux-$mode.jsonl" "$work/$mode.jsonl" \
            >"$work/compare-$mode.txt" || { cat "$work/compare-$mode.txt"; fail "$mode: Windows and Linux counts differ"; }
        sed "s/^/  $mode: /" "$work/compare-$mode.txt" | tail -n 1
    done
    # Line coverage from block counts: Windows' paths mapped to Linux's.
    python3 "$src/wine_counts.py" map "$work/blocks.jsonl" "$work/blocks.mapped.jsonl" >/dev/null ||
        fail "blocks: paths not mapped"
    for os in linux windows; do
        in="$work/linux-blocks.jsonl"
        [ $os = windows ] && in="$work/blocks.mapped.jsonl"
        "$ilheap" cover "$in" --lcov "$work/$os-blocks.info" >"$work/cover-$os.log" 2>&1 ||
            { cat "$work/cover-$os.log"; fail "ilheap cover of the $os counts"; }
    done
    cmp -s "$work/linux-blocks.info" "$work/windows-blocks.info" && grep -q '^DA:' "$work/windows-blocks.info" ||
        fail "ilheap cover reads Windows' counts differently from Linux's"
    echo "  ilheap cover: $(grep -c '^DA:' "$work/windows-blocks.info") lines, the same LCOV from both"
}

if [ "$failures" -ne 0 ]; then
    echo "$failures failure(s); reports and outputs in $work"
    exit 1
fi
echo "all profiler checks under Wine passed"
