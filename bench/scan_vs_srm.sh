#!/usr/bin/env bash
# scan and rehome throughput against System.Reflection.Metadata (issue 5), in one run.
#
#   bash bench/scan_vs_srm.sh [BUILD_DIR] [FILE] [ROUNDS]
#
# BUILD_DIR (default build/release) holds the ilheap tool and SrmDump
# (configured and built here if missing); FILE defaults to the newest
# runtime's System.Private.CoreLib.dll. Each of ROUNDS rounds (default 5)
# runs, interleaved: `ilheap scan --bench 200`, `SrmDump --bench 200`,
# `ilheap rehome --bench 20` (and with --prologue 4). Each program prints the
# best of its passes; this script prints, per implementation, the median over
# the rounds, then the ratio:
#   scan impl=ilheap ns_per_body=X bodies_per_s=Y
#   scan impl=srm ns_per_body=X bodies_per_s=Y
#   rehome impl=ilheap prologue=0 ns_per_body=X bodies_per_s=Y
#   scan ratio srm/ilheap=R
#
# What both sides time (the same reading, on an image already in memory and
# opened once, best of N passes so the JIT has tiered up on the SRM side):
# every MethodDef row in token order, the has-IL test (RVA != 0, ImplFlags & 3
# == IL), RVA to the body's bytes, and the header and exception clauses
# decoded; a checksum of max stack + code size + body size + clause count,
# which must be equal on both sides (it is checked here). Not timed: file
# reading, PE/metadata open, process and runtime start-up, output.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build/release}
rounds=${3:-5}
if [ ! -x "$build/tools/ilheap" ]; then
    cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
    cmake --build "$build" -j2 --target ilheap_cli >/dev/null
fi
ilheap="$build/tools/ilheap"
file=${2:-}
if [ -z "$file" ]; then
    dir=$(ls -d "${DOTNET_ROOT:-/usr/share/dotnet}"/shared/Microsoft.NETCore.App/*/ 2>/dev/null | sort -V | tail -n 1)
    file="${dir}System.Private.CoreLib.dll"
fi
[ -f "$file" ] || { echo "scan_vs_srm: no input ($file): no .NET runtime installed?" >&2; exit 1; }
srm="$build/tests/pe/srmdump/SrmDump.dll"
if [ ! -f "$srm" ] && command -v dotnet >/dev/null; then
    cmake -S . -B "$build" >/dev/null && cmake --build "$build" --target srmdump >/dev/null
fi
echo "# input $file; $rounds rounds; each figure is the median over rounds of each program's best pass"

field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p"; }
median() { sort -g | awk '{v[NR]=$1} END {print (NR % 2) ? v[(NR+1)/2] : (v[NR/2] + v[NR/2+1]) / 2}'; }
: >/tmp/scan_vs_srm.$$
trap 'rm -f /tmp/scan_vs_srm.$$' EXIT
for ((i = 0; i < rounds; i++)); do
    ours=$("$ilheap" scan --bench 200 "$file")
    echo "ilheap_scan $(echo "$ours" | field ns_per_body) $(echo "$ours" | field checksum)" >>/tmp/scan_vs_srm.$$
    if [ -f "$srm" ]; then
        theirs=$(DOTNET_CLI_TELEMETRY_OPTOUT=1 dotnet "$srm" --bench 200 "$file")
        echo "srm_scan $(echo "$theirs" | field ns_per_body) $(echo "$theirs" | field checksum)" >>/tmp/scan_vs_srm.$$
    fi
    for p in 0 4; do
        r=$("$ilheap" rehome --bench 20 --prologue $p "$file")
        echo "ilheap_rehome_$p $(echo "$r" | field ns_per_body) 0" >>/tmp/scan_vs_srm.$$
    done
done
sums=$(awk '$1 ~ /_scan$/ {print $3}' /tmp/scan_vs_srm.$$ | sort -u | wc -l)
[ "$sums" -le 1 ] || { echo "scan_vs_srm: checksums differ between ilheap and SRM: not the same reading" >&2; exit 1; }
m() { awk -v k="$1" '$1 == k {print $2}' /tmp/scan_vs_srm.$$ | median; }
rate() { awk -v ns="$1" 'BEGIN {printf "%.0f", 1e9 / ns}'; }
ours=$(m ilheap_scan)
echo "scan impl=ilheap ns_per_body=$ours bodies_per_s=$(rate "$ours")"
if [ -f "$srm" ]; then
    theirs=$(m srm_scan)
    echo "scan impl=srm ns_per_body=$theirs bodies_per_s=$(rate "$theirs")"
fi
for p in 0 4; do
    r=$(m ilheap_rehome_$p)
    echo "rehome impl=ilheap prologue=$p ns_per_body=$r bodies_per_s=$(rate "$r")"
done
[ -f "$srm" ] && awk -v a="$theirs" -v b="$ours" 'BEGIN {printf "scan ratio srm/ilheap=%.2f (target >= 5)\n", a / b}'
exit 0
