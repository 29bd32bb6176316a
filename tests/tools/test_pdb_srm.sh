#!/usr/bin/env bash
# Differential test of the portable PDB reader: `ilheap scan FILE
# --lines --jsonl` equals System.Reflection.Metadata's sequence points (SrmDump
# --lines) byte for byte, on tests/pe/PdbSample built DebugType=portable and
# DebugType=embedded, on tests/profiler/ProfTest and Ledger (portable) and
# tests/profiler/Counts (embedded: iterators, async, filters). Then the clear
# messages: no PDB, a PDB of another build, a truncated PDB.
# usage: test_pdb_srm.sh ILHEAP DOTNET SRMDUMP.dll SOURCE_DIR WORKDIR
source "$(dirname "$0")/common.sh"
ilheap="$1" dotnet="$2" srmdump="$3" src="$4" work="$5"
[ -f "$srmdump" ] || skip "SrmDump not built ($srmdump)"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
rm -rf "$work" && mkdir -p "$work"

# build NAME PROJECT_DIR DEBUGTYPE: copies the project (so the source tree stays
# clean) and builds it into $work/NAME/out.
build() {
    local name="$1" dir="$2" type="$3"
    mkdir -p "$work/$name/src"
    cp "$dir"/*.cs "$dir"/*.csproj "$work/$name/src/"
    cp "$src/tests/pe/PdbSample/nuget.config" "$work/$name/src/"
    "$dotnet" build "$work/$name/src/"*.csproj -c Debug -p:DebugType="$type" -o "$work/$name/out" \
        >"$work/$name/build.log" 2>&1 || { tail -n 20 "$work/$name/build.log" >&2; fail "dotnet build $name"; }
}
build portable "$src/tests/pe/PdbSample" portable
build embedded "$src/tests/pe/PdbSample" embedded
build proftest "$src/tests/profiler/ProfTest" portable
build ledger "$src/tests/profiler/Ledger" portable
build counts "$src/tests/profiler/Counts" embedded
[ -f "$work/portable/out/PdbSample.pdb" ] || fail "DebugType=portable wrote no PdbSample.pdb"
[ ! -f "$work/embedded/out/PdbSample.pdb" ] || fail "DebugType=embedded wrote a separate PdbSample.pdb"

dlls=("$work/portable/out/PdbSample.dll" "$work/embedded/out/PdbSample.dll" "$work/proftest/out/ProfTest.dll"
      "$work/ledger/out/Ledger.dll" "$work/counts/out/CountsApp.dll")
: >"$work/ours.jsonl"
for f in "${dlls[@]}"; do
    echo "# $f" >>"$work/ours.jsonl"
    "$ilheap" scan "$f" --lines --jsonl >>"$work/ours.jsonl" || fail "ilheap scan $f --lines --jsonl exited $?"
done
"$dotnet" "$srmdump" --lines "${dlls[@]}" >"$work/srm.jsonl" || fail "SrmDump --lines exited $?"
methods=$(grep -vc '^#' "$work/srm.jsonl")
points=$(grep -o '"il":' "$work/srm.jsonl" | wc -l)
hidden=$(grep -o '"hidden":true' "$work/srm.jsonl" | wc -l)
[ "$methods" -gt 20 ] && [ "$hidden" -gt 0 ] || fail "SrmDump listed only $methods methods, $hidden hidden points"
grep -q 'Generated.cs' "$work/srm.jsonl" || fail "no sequence point in Generated.cs (the #line document switch)"
if ! cmp -s "$work/ours.jsonl" "$work/srm.jsonl"; then
    diff "$work/srm.jsonl" "$work/ours.jsonl" | head -n 20 >&2
    fail "ilheap scan --lines --jsonl differs from System.Reflection.Metadata (< srm, > ilheap; files in $work)"
fi
echo "ok  ${#dlls[@]} assemblies, $methods methods, $points sequence points ($hidden hidden): == SrmDump --lines"

# Bad input: each a clear message naming the file, exit 3 (missing) or 5 (malformed).
mkdir -p "$work/bad"
cp "$work/portable/out/PdbSample.dll" "$work/bad/NoPdb.dll"
rm -f "$work"/portable/src/obj/Debug/*/PdbSample.pdb # the CodeView path: found there otherwise
expect_exit 3 "NoPdb.dll: no PDB" -- "$ilheap" scan "$work/bad/NoPdb.dll" --lines
cp "$work/portable/out/PdbSample.dll" "$work/bad/Other.dll"
cp "$work/proftest/out/ProfTest.pdb" "$work/bad/Other.pdb"
expect_exit 5 "Other.pdb: PDB id [0-9a-f]+ does not match" -- "$ilheap" scan "$work/bad/Other.dll" --lines
cp "$work/portable/out/PdbSample.dll" "$work/bad/Cut.dll"
head -c 1000 "$work/portable/out/PdbSample.pdb" >"$work/bad/Cut.pdb"
expect_exit 5 "Cut.pdb: not a readable portable PDB: .*file offset" -- "$ilheap" scan "$work/bad/Cut.dll" --lines
echo "ok  no PDB, mismatched PDB and truncated PDB give clear messages"
