#!/usr/bin/env bash
# Differential test: for every assembly of the shared framework (and the built-in
# fallback assembly), `ilheap scan --jsonl` agrees field for field, line for line
# with System.Reflection.Metadata as SrmDump (tests/pe/SrmDump) reports it.
# One SrmDump process reads every file.
# usage: test_scan_srm.sh ILHEAP DOTNET SRMDUMP.dll FALLBACK.dll WORKDIR
source "$(dirname "$0")/common.sh"
ilheap="$1" dotnet="$2" srmdump="$3" fallback="$4" work="$5"
[ -f "$srmdump" ] || skip "SrmDump not built ($srmdump)"
fw=$(find_framework)
[ -n "$fw" ] || skip "no .NET runtime installed (no Microsoft.NETCore.App under ${DOTNET_ROOT:-/usr/share/dotnet}/shared)"
mkdir -p "$work"
files=("$fallback" "$fw"/*.dll)

# Ours: the same "# FILE" separators SrmDump prints for several files.
: >"$work/ours.jsonl"
for f in "${files[@]}"; do
    echo "# $f" >>"$work/ours.jsonl"
    "$ilheap" scan --jsonl "$f" >>"$work/ours.jsonl" || fail "ilheap scan --jsonl $f exited $?"
done
DOTNET_CLI_TELEMETRY_OPTOUT=1 "$dotnet" "$srmdump" "${files[@]}" >"$work/srm.jsonl" ||
    fail "SrmDump exited $? (see its stderr above)"

lines=$(grep -vc '^#' "$work/srm.jsonl")
[ "$lines" -gt 1000 ] || fail "SrmDump listed only $lines bodies"
if ! cmp -s "$work/ours.jsonl" "$work/srm.jsonl"; then
    diff "$work/srm.jsonl" "$work/ours.jsonl" | head -n 20 >&2
    fail "ilheap scan --jsonl differs from System.Reflection.Metadata (< srm, > ilheap; files in $work)"
fi
echo "ok  ${#files[@]} assemblies, $lines IL bodies: ilheap scan --jsonl == SrmDump, byte for byte"
