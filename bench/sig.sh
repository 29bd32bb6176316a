#!/usr/bin/env bash
# The signature codec's speed (bench_sig) over every signature of the newest
# shared framework's assemblies, REPS times; each line is one measure's best
# pass, with rep=<i>:
#
#   bench/sig.sh BENCH_SIG [REPS] [DIR]
#
#   sig op=decode rep=0 assemblies=.. signatures=.. bytes=.. timed_passes=20 ns_per_sig=.. sigs_per_s=.. failures=0
#
# DIR defaults to the newest Microsoft.NETCore.App. The output is
# bench/results/sig.txt as bench/run.sh keeps it.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
sig=$1
reps=${2:-5}
# shellcheck source=bench/common.sh
source "$root/bench/common.sh"
bench_input sig ""
dir=${3:-$(dirname "$file")}
cat <<HEADER
# section: Signature decoding and encoding
# command: bench/sig.sh $1 $reps
# about: Every MethodDef, MemberRef, StandAloneSig, Field, Property, TypeSpec and MethodSpec signature of the
# about: $(ls "$dir"/*.dll | wc -l) assemblies of $(basename "$dir") (the blobs found once beforehand, so only the
# about: codec is timed; best of 20 passes): \`decode\` alone, \`decode+encode\` (the encoder writing each back,
# about: checked byte for byte by tests/pe), \`decode+text(methods)\` (the C# text of method signatures, names
# about: looked up in the image). \`failures\` counts signatures the codec refused (0 on the shared framework).
# columns: op
# values: ns_per_sig sigs_per_s failures
HEADER
for ((rep = 0; rep < reps; rep++)); do
    "$sig" --passes 20 "$dir"/*.dll | sed "s/^sig \([^ ]*\) /sig op=\1 rep=$rep /; s/ passes=/ timed_passes=/" ||
        echo "fail kind=sig rep=$rep"
done
