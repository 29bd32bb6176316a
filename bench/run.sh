#!/usr/bin/env bash
# Runs every benchmark ilheap has, side by side, and writes BENCHMARKS.md with
# plots (docs/benchmarks.md says what each figure means).
#
#   bench/run.sh            the full run: BENCHMARKS.md and bench/plots/*.png
#   bench/run.sh --quick    a first look in under two minutes: the report goes
#                           to build/bench/quick/BENCHMARKS.md (the committed
#                           report is not touched)
#   --reps N                repetitions (default 5; quick 3)
#   --out FILE              where the report goes (plots next to it in plots/,
#                           unless it is the repo's BENCHMARKS.md)
#   --report-only           write the report again from the last run's
#                           results (e.g. after changing bench/report.py)
#
# Each benchmark writes its own results file (work/results/NAME.txt, one
# `kind key=value ... rep=N` line per measurement); the full run's are kept
# in bench/results/. A new benchmark is one more file there, which may
# declare its own report section (bench/section_file.py).
#
# As root on a fresh Debian machine it installs what it needs with apt.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

quick=0
reps=""
out=""
report_only=0
command_line="bench/run.sh${*:+ $*}"
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) quick=1 ;;
    --reps) reps="$2"; shift ;;
    --out) out="$2"; shift ;;
    --report-only) report_only=1 ;;
    *) echo "usage: bench/run.sh [--quick] [--reps N] [--out FILE] [--report-only]" >&2; exit 2 ;;
  esac
  shift
done

build=build/bench
mkdir -p build
if [ "$report_only" -eq 0 ]; then
# ---------------------------------------------------------------- packages
packages=(cmake gcc make pkg-config python3 libmimalloc-dev libjemalloc-dev gnuplot-nox)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
    echo "run.sh: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    # Without them the comparison shrinks (the build says which allocators
    # are missing) but the run still goes on.
    echo "run.sh: missing packages (run as root to install): ${missing[*]}" >&2
  fi
fi

# ---------------------------------------------------------------- build
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DILHEAP_WERROR=ON -DILHEAP_BUILD_BENCH=ON \
  -DILHEAP_BUILD_TESTS=OFF -DILHEAP_BUILD_PROFILER=ON -DILHEAP_BUILD_TOOLS=ON >"$build.cmake.log" 2>&1 ||
  { cat "$build.cmake.log" >&2; exit 1; }
grep '^-- bench:' "$build.cmake.log" || true
cmake --build "$build" -j2 >"$build.build.log" 2>&1 || { tail -40 "$build.build.log" >&2; exit 1; }
fi

if [ "$quick" -eq 1 ]; then
  work="$build/quick"
  : "${reps:=3}"
  : "${out:=$work/BENCHMARKS.md}"
  plots="$work/plots"
  quick_flag=--quick
else
  work="$build/full"
  : "${reps:=5}"
  : "${out:=BENCHMARKS.md}"
  plots="bench/plots"
  quick_flag=""
fi
if [ "$out" != BENCHMARKS.md ] && [ "$quick" -eq 0 ]; then
  plots="$(dirname "$out")/plots"
fi
mkdir -p "$work" "$plots"
results="$work/results"
hooks="$work/hooks.txt"
if [ "$report_only" -eq 0 ]; then
rm -rf "$results"
mkdir -p "$results"
: >"$hooks"
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
start=$(date +%s)

# ---------------------------------------------------------------- allocation and heap creation
echo "run.sh: bench_alloc $quick_flag --reps $reps"
"$build/bench/bench_alloc" $quick_flag --reps "$reps" | tee -a "$results/alloc.txt" | grep -E '^(fail|skip)' || true
if [ "$quick" -eq 0 ]; then
  # Thread scaling needs repetitions in which both threads really get a core
  # at once; on a shared machine few do. The contention group is cheap, so it
  # gets more chances (reps numbered on, so nothing is overwritten).
  echo "run.sh: bench_alloc --only contention --reps 10 (more chances for two free cores)"
  "$build/bench/bench_alloc" --only contention --reps 10 --first-rep "$reps" | grep -v '^#' |
    tee -a "$results/alloc.txt" | grep -E '^(fail|skip)' || true
fi
echo "- allocation, heap creation, registry: bench_alloc, $(grep -c '^alloc\|^create\|^lookup' "$results/alloc.txt") lines" >>"$hooks"

# ---------------------------------------------------------------- the other drivers
# Each writes its own results file; one that cannot run says why in the
# report ("What ran").
# scan/rehome: `ilheap scan`'s reading and `ilheap rehome`'s passes
# (bench_bodies) against System.Reflection.Metadata over CoreLib.
echo "run.sh: scan/rehome"
bench/scan.sh "$build/bench/bench_bodies" "$reps" >"$results/scan.txt" || echo "fail kind=scan status=$?" >>"$results/scan.txt"
echo "- scan/rehome throughput against System.Reflection.Metadata: bench/scan.sh" >>"$hooks"
# The IL rewriter (bench_bodies rehome --instrument) against Mono.Cecil.
echo "run.sh: IL rewriter against Mono.Cecil"
bench/rewrite.sh "$build/bench/bench_bodies" "$reps" >"$results/rewrite.txt" || echo "fail kind=rewrite status=$?" >>"$results/rewrite.txt"
echo "- IL rewriter against Mono.Cecil: bench/rewrite.sh" >>"$hooks"
# The method wrapper (bench_wrap) against Mono.Cecil, and the signature codec.
echo "run.sh: method wrapper against Mono.Cecil"
bench/wrap.sh "$build/bench/bench_wrap" "$reps" >"$results/wrap.txt" || echo "fail kind=wrap status=$?" >>"$results/wrap.txt"
echo "- method wrapper against Mono.Cecil: bench/wrap.sh" >>"$hooks"
echo "run.sh: signature codec"
bench/sig.sh "$build/bench/bench_sig" "$reps" >"$results/sig.txt" || echo "fail kind=sig status=$?" >>"$results/sig.txt"
echo "- signature codec over the shared framework: bench/sig.sh" >>"$hooks"
# The profiler: the test program with no profiler, the profiler
# observing only, rewriting on the runtime's allocator and on ilheap
# (start-up, total time, ns per allocation), ReadyToRun disabled; the driver is
# bench/profiler/run.sh (docs/profiler.md). Start-up runs are short and the
# "no start-up cost" target needs many pairs, so they get 3x the repetitions;
# quick mode runs only the start-up workload.
profiler_so="$build/profiler/libilheap_profiler.so"
if [ -f "$profiler_so" ] && [ -f bench/profiler/run.sh ] && command -v dotnet >/dev/null; then
  echo "run.sh: profiler in the real runtime"
  profiler() { # profiler <workloads> <reps>
    ILHEAP_BENCH_WORK="$PWD/$build/profiler-work" bash bench/profiler/run.sh --runs --workloads "$1" \
      "$profiler_so" "$2" >>"$results/profiler.txt" || echo "fail kind=profiler workloads=$1 status=$?" >>"$results/profiler.txt"
  }
  profiler startup $((3 * reps))
  [ "$quick" -eq 1 ] || profiler proftest,csc "$reps"
  echo "- profiler runs on the real runtime: bench/profiler/run.sh --runs ($([ "$quick" -eq 1 ] &&
    echo "start-up workload only, quick mode" || echo "start-up, test program, C# compiler"))" >>"$hooks"
elif [ ! -f "$profiler_so" ]; then
  echo "- profiler runs on the real runtime (no profiler / runtime allocator / ilheap): not measured (no $profiler_so)" >>"$hooks"
else
  echo "- profiler runs on the real runtime: not measured (no dotnet on this machine)" >>"$hooks"
fi

# Counting: wall time under ILHEAP_MODE=off, calls, blocks and
# blocks with ILHEAP_ATOMIC=1 (bench/profiler/counts.sh): a CPU-bound program
# and `dotnet build`; quick mode runs the CPU-bound one with 3 repetitions.
if [ -f "$profiler_so" ] && command -v dotnet >/dev/null; then
  echo "run.sh: counting in the real runtime"
  ILHEAP_BENCH_WORK="$PWD/$build/counts-work" bash bench/profiler/counts.sh --runs \
    --workloads "$([ "$quick" -eq 1 ] && echo cpu || echo cpu,build)" "$profiler_so" "$reps" \
    >"$results/counts.txt" || echo "fail kind=counts status=$?" >>"$results/counts.txt"
  echo "- counting (calls, blocks, atomic) in the real runtime: bench/profiler/counts.sh --runs" >>"$hooks"
else
  echo "- counting in the real runtime: not measured (no profiler or no dotnet)" >>"$hooks"
fi

# Method timing (ILHEAP_MODE=timing) against a minimal profiler on the
# runtime's ELT hooks (bench/elt/run.sh: CpuWork, CPU time; x86-64 Linux,
# where bench/elt's hooks are written); quick mode runs 3 repetitions.
elt_so="$build/bench/libelt_profiler.so"
if [ -f "$profiler_so" ] && [ -f "$elt_so" ] && command -v dotnet >/dev/null; then
  echo "run.sh: method timing against the ELT hooks"
  ILHEAP_BENCH_WORK="$PWD/$build/elt-work" bash bench/elt/run.sh --runs "$profiler_so" "$elt_so" "$reps" calls,timing \
    >"$results/timing.txt" || echo "fail kind=elt status=$?" >>"$results/timing.txt"
  echo "- method timing against the ELT hooks: bench/elt/run.sh --runs" >>"$hooks"
else
  echo "- method timing against the ELT hooks: not measured (no profiler, no $elt_so or no dotnet)" >>"$hooks"
fi

# Start-up under ReJIT: `dotnet build` in blocks mode with ReadyToRun
# disabled against ReJIT with ReadyToRun on (bench/rejit/startup.sh, 24
# builds with 3 repetitions: full runs only).
if [ -f "$profiler_so" ] && command -v dotnet >/dev/null && [ "$quick" -eq 0 ]; then
  echo "run.sh: start-up under ReJIT (dotnet build, blocks)"
  ILHEAP_BENCH_WORK="$PWD/$build/startup-work" bash bench/rejit/startup.sh --runs "$profiler_so" 3 compiler,all \
    >"$results/startup.txt" || echo "fail kind=startup status=$?" >>"$results/startup.txt"
  echo "- start-up of dotnet build under ReJIT against ReadyToRun disabled: bench/rejit/startup.sh --runs" >>"$hooks"
else
  echo "- start-up under ReJIT: not measured (quick mode, no profiler or no dotnet)" >>"$hooks"
fi

# The counts file: blocks with the counters in the file against the in-memory
# profiler of before (built from git), and the time from a test run's last
# test to its host's exit against coverlet (bench/profiler/counts_file.sh).
if [ -f "$profiler_so" ] && command -v dotnet >/dev/null && [ "$quick" -eq 0 ]; then
  echo "run.sh: the counts file (cpu, test host exit)"
  for w in cpu:counts_file exit:host_exit; do
    ILHEAP_BENCH_WORK="$PWD/$build/counts-file-work" bash bench/profiler/counts_file.sh --runs \
      --workloads "${w%%:*}" "$profiler_so" "$reps" >"$results/${w#*:}.txt" ||
      echo "fail kind=${w#*:} status=$?" >>"$results/${w#*:}.txt"
  done
  echo "- the counts file against in-memory counters and coverlet's exit: bench/profiler/counts_file.sh --runs" >>"$hooks"
else
  echo "- the counts file: not measured (quick mode, no profiler or no dotnet)" >>"$hooks"
fi

# Coverage: `dotnet test` of tests/coverage's project with no
# coverage, coverlet, and ilheap blocks + `ilheap cover` (bench/coverage.sh).
if command -v dotnet >/dev/null && [ -f "$profiler_so" ] && [ "$quick" -eq 0 ]; then
  echo "run.sh: coverage (dotnet test: none, coverlet, ilheap)"
  ILHEAP_BENCH_WORK="$PWD/$build/coverage" bash bench/coverage.sh --runs "$profiler_so" "$build/tools/ilheap" "$reps" \
    >"$results/coverage.txt" || echo "fail kind=coverage status=$?" >>"$results/coverage.txt"
  echo "- line coverage, dotnet test with none / coverlet / ilheap: bench/coverage.sh" >>"$hooks"
else
  echo "- line coverage against coverlet: not measured (quick mode, no dotnet or no profiler)" >>"$hooks"
fi

load_after=$(cut -d' ' -f1-3 /proc/loadavg)
elapsed=$(($(date +%s) - start))
printf 'command_line=%q\nload_before=%q\nload_after=%q\nelapsed=%q\n' \
  "$command_line" "$load_before" "$load_after" "$elapsed" >"$work/meta.sh"
else
  # shellcheck disable=SC1091
  . "$work/meta.sh"
fi

# ---------------------------------------------------------------- report
python3 bench/report.py --results "$results" --out "$out" --plots "$plots" --data "$work/plotdata" \
  --command "$command_line" $quick_flag --hooks "$hooks" \
  --load "$load_before before, $load_after after (1, 5, 15 min); the measurements took ${elapsed} s"
# The raw lines of the full run are kept with the report.
if [ "$quick" -eq 0 ] && [ "$report_only" -eq 0 ]; then
  rm -rf bench/results && cp -r "$results" bench/results
fi
echo "run.sh: done in ${elapsed} s: $out"
