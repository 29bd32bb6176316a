#!/usr/bin/env bash
# The cost of coverage as a .NET team runs it: `dotnet test --no-build` of one
# test project plain, with coverlet's collector (--collect:"XPlat Code
# Coverage"), with Microsoft's (--collect "Code Coverage", Cobertura output)
# and with ilheap's (--collect:ilheap, the package of scripts/pack.sh),
# interleaved over ROUNDS rounds in fresh processes. Every collector is given
# as a test adapter path, so the project itself is not changed.
#   bash bench/collector.sh PACKAGES_DIR [TEST_PROJECT [ROUNDS]]
# TEST_PROJECT: a test project already built (its `dotnet test --no-build`
# must run; extra arguments in ILHEAP_BENCH_TEST_ARGS, e.g. "-c Release -f
# net10.0"); default: tests/coverage/Shop.Tests, built here in a copy.
# ILHEAP_BENCH_COLLECT=LIST adds two variants: `include`, --collect:ilheap
# with Include=LIST (the profiler then instruments only those assemblies),
# and `collect`, `ilheap collect --include LIST -- dotnet test` (the
# package's command, no data collector).
# Prints one result line per run for bench/results/collector.txt (`collector
# project=P variant=V wall_ms=N overhead_ms=N rep=R`, the overhead over the
# same round's plain run; details as `#` lines), then, per variant, the
# median wall time, its overhead over plain, and ilheap's overhead as a share
# of each peer's.
set -uo pipefail
packages=$(realpath "${1:?usage: bench/collector.sh PACKAGES_DIR [TEST_PROJECT [ROUNDS]]}")
project=${2:-}
rounds=${3:-5}
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 MSBUILDDISABLENODEREUSE=1
read -r -a test_args <<<"${ILHEAP_BENCH_TEST_ARGS:-}"

pkg=$(ls "$packages"/ilheap.collector.*.nupkg 2>/dev/null | head -n 1)
coverlet=$(ls /opt/nuget/packages/coverlet.collector/*/coverlet.collector.*.nupkg 2>/dev/null | head -n 1)
[ -n "$pkg" ] || { echo "no ilheap.collector package in $packages (bash scripts/pack.sh)"; exit 1; }
[ -n "$coverlet" ] || { echo "no coverlet.collector package in /opt/nuget/packages"; exit 1; }
unzip -q "$pkg" -d "$work/ilheap"
chmod +x "$work"/ilheap/tools/*/ilheap
unzip -q "$coverlet" -d "$work/coverlet"
case "$(uname -m)" in aarch64) rid=linux-arm64 ;; *) rid=linux-x64 ;; esac

if [ -z "$project" ]; then
  cp -r "$root/tests/coverage/Shop" "$root/tests/coverage/Shop.Tests" "$work/"
  project="$work/Shop.Tests/Shop.Tests.csproj"
  dotnet build "$project" -c Debug --source /opt/nuget/packages -nodeReuse:false >"$work/build.log" 2>&1 ||
    { tail -n 20 "$work/build.log"; echo "Shop.Tests does not build"; exit 1; }
fi

variants=(plain coverlet microsoft ilheap)
[ -z "${ILHEAP_BENCH_COLLECT:-}" ] || variants+=(include collect)
name=$(basename "$project" .csproj)
name=${name%.dll}
declare -A times
for ((r = 1; r <= rounds; r++)); do
  for v in "${variants[@]}"; do
    case $v in # the collector names hold spaces: passed whole
      coverlet) extra=("--collect:XPlat Code Coverage" "--test-adapter-path=$work/coverlet/build/netstandard2.0") ;;
      microsoft) extra=("--collect:Code Coverage;Format=cobertura") ;;
      ilheap) extra=("--collect:ilheap" "--test-adapter-path=$work/ilheap/build/netstandard2.0") ;;
      include) extra=("--collect:ilheap" "--test-adapter-path=$work/ilheap/build/netstandard2.0" --
        "DataCollectionRunSettings.DataCollectors.DataCollector.Configuration.Include=$ILHEAP_BENCH_COLLECT") ;;
      *) extra=() ;;
    esac
    results="$work/results-$v-$r"
    runner=()
    if [ "$v" = collect ]; then
      mkdir -p "$results"
      runner=("$work/ilheap/tools/$rid/ilheap" collect --quiet --include "$ILHEAP_BENCH_COLLECT"
        --cobertura "$results/coverage.cobertura.xml" --)
    fi
    start=$(date +%s.%N)
    "${runner[@]}" dotnet test "$project" --no-build "${test_args[@]}" --results-directory "$results" "${extra[@]}" \
      >"$work/$v-$r.log" 2>&1
    rc=$?
    end=$(date +%s.%N)
    t=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.3f", b - a }')
    report=$(find "$results" -name '*.cobertura.xml' 2>/dev/null | head -n 1)
    covered=$([ -n "$report" ] && grep -o 'lines-covered="[0-9]*" lines-valid="[0-9]*"' "$report" | head -n 1)
    summary=$(grep -oE '(Passed|Failed)! +- Failed: +[0-9]+, Passed: +[0-9]+' "$work/$v-$r.log" | tr -s ' ' | head -n 1)
    echo "# round=$r variant=$v seconds=$t exit=$rc ${summary:+tests=\"$summary\"} ${covered:-}"
    [ "$v" != plain ] || plain_t=$t
    awk -v p="$name" -v v="$v" -v t="$t" -v b="$plain_t" -v r="$r" 'BEGIN {
      printf "collector project=%s variant=%s wall_ms=%.0f", p, v, 1000 * t
      if (v != "plain") printf " overhead_ms=%.0f", 1000 * (t - b)
      printf " rep=%d\n", r - 1 }'
    [ $rc -eq 0 ] || { tail -n 15 "$work/$v-$r.log"; echo "the $v run failed"; exit 1; }
    [ "$v" = plain ] || [ -n "$report" ] || { tail -n 15 "$work/$v-$r.log"; echo "the $v run wrote no Cobertura report"; exit 1; }
    times[$v]+="$t "
  done
done

median() { tr ' ' '\n' | grep . | sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }
declare -A med
for v in "${variants[@]}"; do med[$v]=$(echo "${times[$v]}" | median); done
for v in "${variants[@]}"; do
  awk -v v="$v" -v t="${med[$v]}" -v p="${med[plain]}" \
    'BEGIN { printf "# median variant=%s seconds=%.2f overhead=%.2f (%+.0f%%)\n", v, t, t - p, 100 * (t - p) / p }'
done
for peer in coverlet microsoft; do
  awk -v peer="$peer" -v i="${med[ilheap]}" -v c="${med[$peer]}" -v p="${med[plain]}" \
    'BEGIN { printf "# ratio ilheap/%s overhead=%.2f\n", peer, (i - p) / (c - p) }'
done
echo "# goal: ilheap's overhead at most 0.3 of coverlet's and 0.5 of Microsoft's"
