#!/usr/bin/env bash
# ilheap counts: the summary and the JSON-lines export of counts files of
# both forms, snapshots, and clear errors with distinct exit codes (2 bad
# arguments, 3 missing, 4 unreadable, 5 damaged, with the offset). The files
# come from the library's own writer (make_counts_seeds).
# usage: test_counts_cmd.sh ILHEAP MAKE_SEEDS WORKDIR
source "$(dirname "$0")/common.sh"
ilheap_bin="$1" seeds="$2" work="$3"
# ILHEAP_TOOL_WRAPPER (valgrind, Wine) runs every call under it; Wine
# writes CRLF (pipefail keeps the tool's exit status).
ilheap() { ${ILHEAP_TOOL_WRAPPER:-} "$ilheap_bin" "$@" | tr -d '\r'; }
rm -rf "$work" && mkdir -p "$work"
${ILHEAP_TOOL_WRAPPER:-} "$seeds" "$work" || fail "make_counts_seeds"

ilheap counts --help | grep -q "^usage: ilheap counts" || fail "ilheap counts --help: no usage line"
grep -q counts <<<"$(ilheap --help)" || fail "ilheap --help does not list counts"

# The summary: the writer exited (the completion mark), what it counted.
line=$(ilheap counts "$work/sample.counts") || fail "ilheap counts exited $?"
grep -Eq '^.*sample.counts: exited, pid [0-9]+, 1 modules, 2 methods \(2 entered\), 4 blocks, 7 hits; timing: 1 methods \(1 entered\), 2 calls, 1 exceptional exits, [0-9.]+ s inclusive$' <<<"$line" ||
    fail "summary: $line"
line=$(ilheap counts "$work/sample.jsonl") || fail "ilheap counts of JSON lines exited $?"
grep -Eq 'sample.jsonl: JSON lines, pid -, 1 modules, 2 methods \(2 entered\), 4 blocks, 7 hits; timing: 1 methods \(1 entered\), 2 calls, 1 exceptional exits, [0-9.]+ s inclusive$' <<<"$line" ||
    fail "summary of JSON lines: $line"
echo "ok  summaries of both forms"

# The export: the same JSON lines the writer's file exports; JSON lines export to themselves.
ilheap counts "$work/sample.counts" --jsonl >"$work/export.jsonl" || fail "--jsonl exited $?"
cmp -s "$work/export.jsonl" "$work/sample.jsonl" || fail "--jsonl differs from the seed's export"
ilheap counts "$work/sample.jsonl" --jsonl | cmp -s - "$work/sample.jsonl" || fail "JSON lines do not export to themselves"
[ "$(ilheap counts "$work/sample.counts" "$work/sample.jsonl" --jsonl | wc -l)" = 6 ] || fail "--jsonl of two files"
grep -q '"blocks":\[{"il_offset":0,"hits":3},{"il_offset":5,"hits":1}\],"edges":\[{"il_offset":1,"outcome":1,"hits":0}\]}' \
    "$work/export.jsonl" || fail "--jsonl: no \"edges\" of the edge probe: $(cat "$work/export.jsonl")"
echo "ok  --jsonl (\"edges\" too)"

# A snapshot is a counts file of its own, frozen.
ilheap counts "$work/sample.counts" --snapshot "$work/snap" || fail "--snapshot exited $?"
grep -q 'snap: snapshot, ' <<<"$(ilheap counts "$work/snap")" || fail "the snapshot's state"
ilheap counts "$work/snap" --jsonl | cmp -s - "$work/sample.jsonl" || fail "the snapshot's counts differ"
echo "ok  --snapshot"

# Errors.
expect_exit 2 "no counts file given" -- ilheap counts
expect_exit 2 "not an option" -- ilheap counts --bogus "$work/sample.counts"
expect_exit 2 "--snapshot takes one FILE" -- ilheap counts "$work/sample.counts" "$work/snap" --snapshot "$work/x"
expect_exit 2 "JSON lines" -- ilheap counts "$work/sample.jsonl" --snapshot "$work/x"
expect_exit 3 "missing.counts.*[Nn]o such file" -- ilheap counts "$work/missing.counts"
expect_exit 4 "[Ii]s a directory|on a directory" -- ilheap counts "$work"
expect_exit 5 "cut.counts: .*truncated.*at offset 100" -- ilheap counts "$work/cut.counts"
printf 'ILHEAPCT\002' | dd of="$work/version.counts" conv=notrunc status=none
dd if="$work/sample.counts" bs=1 skip=9 status=none >>"$work/version.counts"
expect_exit 5 "at offset 8: version 2" -- ilheap counts "$work/version.counts"
printf '{"path":"/a.dll"}\n' >"$work/bad.jsonl"
expect_exit 5 'bad.jsonl:1: missing "path", "mvid" or "token"' -- ilheap counts "$work/bad.jsonl"
echo "ok  errors: 2, 3, 4, 5 with the offset or the line"
echo "all ilheap counts checks passed"
