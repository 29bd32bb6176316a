#!/usr/bin/env bash
# ilheap's signature text in Cecil's spelling (what coverlet writes in
# Cobertura's `signature` attribute) against Mono.Cecil itself: every
# MethodDef of System.Private.CoreLib (every assembly of the shared framework
# with ILHEAP_SIG_CECIL_ALL=1), return type and parameter list, must be the
# same text. CecilSig is built in WORK_DIR from the machine's NuGet feed;
# without dotnet, a framework or the package it exits 77, saying why.
# usage: test_sig_cecil.sh SIG_TEXT_DUMP SOURCE_DIR WORK_DIR
set -euo pipefail
dump=$(realpath "$1") src=$(realpath "$2") work=$(realpath -m "$3")
command -v dotnet >/dev/null || { echo "SKIP: dotnet not found"; exit 77; }
root=${DOTNET_ROOT:-/usr/share/dotnet}
fw=$(ls -d "$root"/shared/Microsoft.NETCore.App/*/ 2>/dev/null | sort -V | tail -n 1)
[ -n "$fw" ] || { echo "SKIP: no shared framework under $root"; exit 77; }
rm -rf "$work"
mkdir -p "$work"
cp "$src"/CecilSig.csproj "$src"/Program.cs "$work/"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
export DOTNET_CLI_HOME="$work/dotnet-home" MSBUILDDISABLENODEREUSE=1
if ! dotnet restore "$work/CecilSig.csproj" >"$work/restore.log" 2>&1; then
    tail -n 5 "$work/restore.log"
    echo "SKIP: Mono.Cecil 0.11.6 could not be restored from this machine's NuGet feed"
    exit 77
fi
dotnet build "$work/CecilSig.csproj" -c Release --no-restore -o "$work/out" -nodeReuse:false \
    -p:UseSharedCompilation=false >"$work/build.log" 2>&1 || { tail -n 20 "$work/build.log"; echo "FAIL: CecilSig does not build"; exit 1; }
if [ "${ILHEAP_SIG_CECIL_ALL:-0}" = 1 ]; then files=("$fw"*.dll); else files=("$fw"System.Private.CoreLib.dll); fi
dotnet "$work/out/CecilSig.dll" "${files[@]}" >"$work/cecil.txt" 2>"$work/cecil.err" || true
"$dump" 3 "${files[@]}" >"$work/ilheap.txt" || { echo "FAIL: sig_text_dump failed (see $work/ilheap.txt)"; exit 1; }
# A facade without methods gives Cecil nothing to say; compare the methods both list.
cecil=$(grep -vc '^#' "$work/cecil.txt" || true)
ours=$(grep -vc '^#' "$work/ilheap.txt" || true)
if ! diff <(grep -v '^#' "$work/cecil.txt") <(grep -v '^#' "$work/ilheap.txt") >"$work/diff.txt"; then
    head -n 20 "$work/diff.txt"
    echo "FAIL: $(grep -c '^<' "$work/diff.txt") of $cecil signatures differ from Cecil's (all in $work/diff.txt)"
    exit 1
fi
[ "$cecil" -gt 1000 ] || { echo "FAIL: Cecil listed only $cecil methods"; exit 1; }
echo "sig_cecil: ${#files[@]} assemblies, $ours MethodDef signatures spelled as Cecil's FullName spells them"
