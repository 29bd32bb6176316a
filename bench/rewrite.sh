#!/usr/bin/env bash
# The IL rewriter against Mono.Cecil, one line per measurement and repetition
# (bench/run.sh appends them to its results; report.py's "IL rewriter"
# section gives medians and the ratios):
#
#   bench/rewrite.sh BENCH_BODIES [REPS] [FILE]     (BENCH_BODIES: build/.../bench/bench_bodies)
#
#   rewrite impl=ilheap op=roundtrip rep=0 bodies=39469 passes=20 ns_per_body=.. checked_ns_per_body=..
#   rewrite impl=ilheap op=blocks rep=0 bodies=39469 probes=115008 passes=20 ns_per_body=.. ...
#   rewrite impl=cecil op=read|roundtrip|untouched|blocks rep=0 bodies=39469 [probes=..] ns_per_body=.. ...
#
# FILE defaults to the newest runtime's System.Private.CoreLib.dll. Each
# repetition runs `bench_bodies rehome 20 --instrument none`, then
# `--instrument blocks`, then bench/cecil (CecilBench, built here from NuGet's
# Mono.Cecil when the build tree has none; 2 warm-up rounds, 2 timed passes).
# Each figure is that program's best pass over an image already in memory.
# ilheap: ns_per_body is the rewrite alone (decode, load into instructions,
# probes, encode into the module's heap); checked_ns_per_body adds decoding
# the new body again and the edge check. Cecil: docs/benchmarks.md says what
# each op times. Both sides insert the same probes (the probe counts must
# agree). Without dotnet, the cecil lines are missing and a "skip" line says why.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bodies=$1
reps=${2:-5}
# shellcheck source=bench/common.sh
source "$root/bench/common.sh"
bench_input rewrite "${3:-}"
build=$(cd "$(dirname "$bodies")/.." && pwd)
cecil=$("$root/bench/dotnet_build.sh" "$root/bench/cecil" "$build/cecilbench") || cecil=""
[ -n "$cecil" ] || echo "skip kind=rewrite impl=cecil reason=no_dotnet_sdk_or_mono_cecil"

for ((rep = 0; rep < reps; rep++)); do
    for mode in none blocks; do
        op=$([ "$mode" = none ] && echo roundtrip || echo blocks)
        "$bodies" rehome 20 "$file" --instrument "$mode" |
            sed -n "s/^rehome impl=ilheap \(bodies=[0-9]*\) instrument=[a-z]* /rewrite impl=ilheap op=$op rep=$rep \1 /p"
    done
    if [ -n "$cecil" ]; then
        # A large gen0 budget: Cecil's best (see bench/cecil/Program.cs).
        DOTNET_GCgen0size=0x10000000 DOTNET_CLI_TELEMETRY_OPTOUT=1 dotnet "$cecil" --passes 2 "$file" |
            sed "s/^rewrite impl=cecil \(op=[a-z]*\) /rewrite impl=cecil \1 rep=$rep /" ||
            echo "fail kind=rewrite impl=cecil rep=$rep"
    fi
done
