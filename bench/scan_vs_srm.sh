#!/usr/bin/env bash
# scan and rehome throughput against System.Reflection.Metadata, in one run,
# summarized:
#
#   bash bench/scan_vs_srm.sh [BUILD_DIR] [FILE] [ROUNDS]
#
# BUILD_DIR (default build/release) holds bench/bench_bodies (configured and
# built if missing). bench/scan.sh makes the measurements (ROUNDS rounds,
# default 5, interleaved; what is timed is described there and in
# docs/cli.md); this prints the median over rounds of each program's best
# pass, and the ratio:
#   scan impl=ilheap ns_per_body=X bodies_per_s=Y
#   scan impl=srm ns_per_body=X bodies_per_s=Y
#   rehome impl=ilheap prologue=0 ns_per_body=X bodies_per_s=Y
#   rehome impl=ilheap prologue=4 ns_per_body=X bodies_per_s=Y
#   scan ratio srm/ilheap=R (target >= 5)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build/release}
if [ ! -x "$build/bench/bench_bodies" ]; then
    cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DILHEAP_BUILD_BENCH=ON >/dev/null
    cmake --build "$build" -j2 --target bench_bodies >/dev/null
fi
lines=$(bash bench/scan.sh "$build/bench/bench_bodies" "${3:-5}" "${2:-}")
echo "$lines" | grep '^skip' || true
echo "$lines" | grep -q '^scan impl=ilheap' || exit 0

sums=$(echo "$lines" | sed -n 's/^scan .* checksum=\([0-9]*\).*/\1/p' | sort -u | wc -l)
[ "$sums" -le 1 ] || { echo "scan_vs_srm: checksums differ between ilheap and SRM: not the same reading" >&2; exit 1; }
median() { sort -g | awk '{v[NR]=$1} END {print (NR % 2) ? v[(NR+1)/2] : (v[NR/2] + v[NR/2+1]) / 2}'; }
ns() { echo "$lines" | grep "^$1 " | sed -n 's/.* ns_per_body=\([^ ]*\).*/\1/p' | median; }
show() { awk -v k="$1" -v ns="$2" 'BEGIN {printf "%s ns_per_body=%s bodies_per_s=%.0f\n", k, ns, 1e9 / ns}'; }
ours=$(ns "scan impl=ilheap")
show "scan impl=ilheap" "$ours"
theirs=$(ns "scan impl=srm")
[ -n "$theirs" ] && show "scan impl=srm" "$theirs"
for p in 0 4; do show "rehome impl=ilheap prologue=$p" "$(ns "rehome impl=ilheap prologue=$p")"; done
[ -n "$theirs" ] && awk -v a="$theirs" -v b="$ours" 'BEGIN {printf "scan ratio srm/ilheap=%.2f (target >= 5)\n", a / b}'
exit 0
