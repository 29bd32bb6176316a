#!/usr/bin/env bash
# The method wrapper a tracer builds (a local of the return type, one exit,
# the whole body in try/finally with a counter probe, an entry probe before
# the try) on every IL body of an assembly, ilheap against Mono.Cecil doing
# the same through its API; one line per measurement and repetition, then
# the medians and the ratio:
#
#   bench/wrap.sh BENCH_WRAP [REPS] [FILE]
#
#   # section: ... (the report's section, bench/section_file.py)
#   wrap impl=ilheap op=wrap rep=0 bodies=39469 wrapped=39469 timed_passes=20 ns_per_body=..
#   wrap impl=cecil op=wrap rep=0 bodies=39469 timed_passes=2 ns_per_body=.. read_ns_per_body=.. write_ns_per_body=..
#   wrap impl=cecil op=untouched rep=0 ...
#   wrap impl=cecil-beyond-untouched op=wrap rep=0 bodies=39469 ns_per_body=..   (wrap - untouched)
#   # wrap summary ilheap_ns_per_body=.. cecil_ns_per_body=.. cecil_untouched_ns_per_body=.. ratio=..
#   #              ratio_range=.. ratio_beyond_untouched=.. ratio_beyond_untouched_range=..
#
# The output is bench/results/wrap.txt as bench/run.sh keeps it.
#
# FILE defaults to the newest runtime's System.Private.CoreLib.dll.
# BENCH_WRAP is build/<dir>/bench/bench_wrap. The programs run interleaved,
# each rep in turn, each over an image already in memory; each line is that
# program's best pass (ilheap: 20 passes; Cecil: 2 warm-up rounds, 2 timed
# passes, with a large gen0 budget: its best). ilheap times decode, the
# method's signature, the locals blob with the new local, single exit, wrap,
# entry probe and encode into a buffer, per body. Cecil has no per-body
# writer: its figure is reading the module with every body decoded, the edit,
# and ModuleDefinition.Write of the whole module (which also computes each
# body's max stack); `untouched` is what that write costs without loading
# any body. The ratios are taken per repetition (median and range), as
# bench/rewrite.sh's: full (Cecil's time per body / ilheap's) and beyond
# untouched (Cecil's time minus its untouched write / ilheap's: a lower bound
# that charges Cecil nothing for the rest of the module). Without dotnet the
# cecil lines are missing and a "skip" line says why.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
wrap=$1
reps=${2:-5}
# shellcheck source=bench/common.sh
source "$root/bench/common.sh"
bench_input wrap "${3:-}"
build=$(cd "$(dirname "$wrap")/.." && pwd)
cecil=$("$root/bench/dotnet_build.sh" "$root/bench/cecil" "$build/cecilbench") || cecil=""
[ -n "$cecil" ] || echo "skip kind=wrap impl=cecil reason=no_dotnet_sdk_or_mono_cecil"
results=$(mktemp)
trap 'rm -f "$results"' EXIT
cat <<EOF
# section: The method wrapper against Mono.Cecil
# command: bench/wrap.sh $1 $reps
# about: Every IL body of $(basename "$file") ($(basename "$(dirname "$file")")) given what a tracer's wrapper has: a
# about: local of the return type, one exit, the whole body in try/finally with a counter probe, an entry probe
# about: before the try. ilheap (\`bench_wrap\`, best of 20 passes) times per body: decode the body and its
# about: method's signature, append the local to the LocalVarSig blob, single exit, wrap, probe, encode into a
# about: buffer (blob lookups done beforehand). Cecil (\`bench/cecil --ops wrap\`, best of 2 timed passes
# about: after 2 warm-up rounds) is charged for reading the module with every body decoded, the same edits
# about: through its API and \`ModuleDefinition.Write\` of the whole module (its only way to write a body;
# about: it computes each max stack), divided by the bodies; \`untouched\` is that write with no body loaded,
# about: and \`cecil-beyond-untouched\` Cecil's time minus it, per repetition: a lower bound that charges Cecil
# about: nothing for the rest of the module.
# columns: impl op
# values: ns_per_body read_ns_per_body write_ns_per_body
# ratio: ns_per_body impl=ilheap
# target: wrapping: at least 20x Cecil per body | ns_per_body impl=cecil,op=wrap / impl=ilheap,op=wrap >= 20
EOF
for ((rep = 0; rep < reps; rep++)); do
    "$wrap" --passes 20 "$file" | sed "s/^wrap impl=ilheap /wrap impl=ilheap op=wrap rep=$rep /; s/ passes=/ timed_passes=/" |
        tee -a "$results"
    if [ -n "$cecil" ]; then
        DOTNET_GCgen0size=0x10000000 DOTNET_CLI_TELEMETRY_OPTOUT=1 dotnet "$cecil" --passes 2 --ops wrap,untouched "$file" |
            sed "s/^rewrite impl=cecil \(op=[a-z]*\) /wrap impl=cecil \1 rep=$rep /; s/ passes=/ timed_passes=/" |
            tee -a "$results" || echo "fail kind=wrap impl=cecil rep=$rep"
    fi
done
field() { grep "$1" "$results" | sed -n "s/.* $2=\([0-9.]*\).*/\1/p" | bench_median; }
# Per repetition: Cecil's time / ilheap's (full), and Cecil's time beyond its
# untouched module write / ilheap's; the medians and ranges of those ratios.
pairs() {
    for ((rep = 0; rep < reps; rep++)); do
        o=$(grep "^wrap impl=ilheap op=wrap rep=$rep " "$results" | sed -n 's/.* ns_per_body=\([0-9.]*\).*/\1/p')
        c=$(grep "^wrap impl=cecil op=wrap rep=$rep " "$results" | sed -n 's/.* ns_per_body=\([0-9.]*\).*/\1/p')
        u=$(grep "^wrap impl=cecil op=untouched rep=$rep " "$results" | sed -n 's/.* ns_per_body=\([0-9.]*\).*/\1/p')
        [ -n "$o" ] && [ -n "$c" ] && [ -n "$u" ] && awk -v o="$o" -v c="$c" -v u="$u" -v k="$1" \
            'BEGIN { printf "%.2f\n", k == "full" ? c / o : (c - u) / o }'
    done
}
range() { sort -g | awk 'NR == 1 {lo = $1} {hi = $1} END {printf "%s-%s", lo, hi}'; }
# Per repetition, Cecil's time beyond its untouched module write, as a row of
# its own (impl=cecil-beyond-untouched) so that the report pairs it with
# ilheap's like the full time.
for ((rep = 0; rep < reps; rep++)); do
    grep "^wrap impl=cecil op=wrap rep=$rep " "$results" | head -n 1 |
        sed -n 's/.* bodies=\([0-9]*\) .* ns_per_body=\([0-9.]*\) .*/\1 \2/p' |
        while read -r bodies c; do
            u=$(grep "^wrap impl=cecil op=untouched rep=$rep " "$results" | sed -n 's/.* ns_per_body=\([0-9.]*\).*/\1/p')
            [ -n "$u" ] && awk -v r="$rep" -v b="$bodies" -v c="$c" -v u="$u" \
                'BEGIN { printf "wrap impl=cecil-beyond-untouched op=wrap rep=%s bodies=%s ns_per_body=%.1f\n", r, b, c - u }'
        done
done
ours=$(field '^wrap impl=ilheap op=wrap ' ns_per_body)
if [ -n "$cecil" ]; then
    theirs=$(field '^wrap impl=cecil op=wrap ' ns_per_body)
    untouched=$(field '^wrap impl=cecil op=untouched ' ns_per_body)
    echo "# wrap summary ilheap_ns_per_body=$ours cecil_ns_per_body=$theirs cecil_untouched_ns_per_body=$untouched" \
        "ratio=$(pairs full | bench_median) ratio_range=$(pairs full | range)" \
        "ratio_beyond_untouched=$(pairs edit | bench_median) ratio_beyond_untouched_range=$(pairs edit | range)"
fi
