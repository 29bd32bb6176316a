#!/usr/bin/env bash
# The scan/rehome measurements, one line per measurement and repetition
# (bench/run.sh appends them to its results; the summary with medians and the
# ratio is bench/scan_vs_srm.sh):
#
#   bench/scan.sh BENCH_BODIES [REPS] [FILE]     (BENCH_BODIES: build/.../bench/bench_bodies)
#
#   scan impl=ilheap rep=0 bodies=39469 ns_per_body=6.7 bodies_per_s=... checksum=...
#   scan impl=srm rep=0 bodies=39469 ns_per_body=40.4 bodies_per_s=... checksum=...
#   rehome impl=ilheap prologue=0 rep=0 bodies=39469 ns_per_body=135 bodies_per_s=...
#   rehome impl=ilheap prologue=4 rep=0 ...
#
# FILE defaults to the newest runtime's System.Private.CoreLib.dll. The
# programs run interleaved, each rep in turn. Each line is that program's best
# pass (scan: 200 passes, rehome: 20) over an image already in memory and
# opened once. Both scan sides do the same reading (every MethodDef row, the
# has-IL test, RVA to bytes, header and clauses decoded) and print a checksum
# of max stack + code size + body size + clause count over all passes, which
# must agree. ilheap is bench_bodies (bench/bodies.c: ilheap scan's reading and
# ilheap rehome's passes, timed); SRM is tests/pe/SrmDump --bench (PEReader.GetMethodBody); it is
# built here (offline) when the build tree has none. Without dotnet, the srm
# lines are missing and a "skip" line says why.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bodies=$1
reps=${2:-5}
# shellcheck source=bench/common.sh
source "$root/bench/common.sh"
bench_input scan "${3:-}"

# SrmDump: the build tree's (tests/pe/CMakeLists.txt), else built next to the tool.
build=$(cd "$(dirname "$bodies")/.." && pwd)
srm="$build/tests/pe/srmdump/SrmDump.dll"
[ -f "$srm" ] || srm=$("$root/bench/dotnet_build.sh" "$root/tests/pe/SrmDump" "$build/srmdump") || true
[ -f "$srm" ] || echo "skip kind=scan impl=srm reason=no_dotnet_sdk"

# "impl=srm bodies=.. ns_per_body=.." -> the kind/impl/rep prefix in front.
tag() { sed -n "s/^[a-z]* impl=[a-z]* //; s/^srm //; s/^/$1 /p"; }
for ((rep = 0; rep < reps; rep++)); do
    "$bodies" scan 200 "$file" | tag "scan impl=ilheap rep=$rep"
    if [ -f "$srm" ]; then
        DOTNET_CLI_TELEMETRY_OPTOUT=1 dotnet "$srm" --bench 200 "$file" | tag "scan impl=srm rep=$rep"
    fi
    for p in 0 4; do
        "$bodies" rehome 20 "$file" --prologue $p |
            sed -n "s/^rehome impl=ilheap \(bodies=[0-9]*\) prologue=$p /rehome impl=ilheap prologue=$p rep=$rep \1 /p"
    done
done
