#!/usr/bin/env bash
# Runs a libFuzzer target for a bounded time over a copy of its seed corpus:
#   run_fuzz.sh FUZZER SEED_DIR WORK_DIR [SECONDS]
# SECONDS defaults to $ILHEAP_FUZZ_SECONDS or 45. New inputs go to WORK_DIR
# (never into the seed corpus in the repository); a crash is written there as
# crash-* and the script fails. For a long run: ILHEAP_FUZZ_SECONDS=3600.
set -euo pipefail
fuzzer=$1 seeds=$2 work=$3
seconds=${4:-${ILHEAP_FUZZ_SECONDS:-45}}
mkdir -p "$work/corpus"
exec "$fuzzer" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=1048576 \
  -print_final_stats=1 -artifact_prefix="$work/" "$work/corpus" "$seeds"
