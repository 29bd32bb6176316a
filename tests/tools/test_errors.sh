#!/usr/bin/env bash
# Missing, unreadable, truncated and corrupted assemblies give clear errors and
# distinct exit codes (3 missing, 4 unreadable, 5 malformed; 2 bad arguments),
# for both scan and rehome. The variants are made here from the built-in
# assembly's file (tools/ilheap/fallback/Fallback.dll).
# usage: test_errors.sh ILHEAP FALLBACK.dll WORKDIR
source "$(dirname "$0")/common.sh"
ilheap_bin="$1" fallback="$2" work="$3"
# ILHEAP_TOOL_WRAPPER (e.g. "valgrind --error-exitcode=99 ...") runs every call
# under a checker: a report turns the expected exit status into 99.
ilheap() { ${ILHEAP_TOOL_WRAPPER:-} "$ilheap_bin" "$@"; }
mkdir -p "$work"
size=$(stat -c %s "$fallback")

# --help for every command, exit 0, exit codes documented.
for cmd in scan rehome demo; do
    ilheap $cmd --help >"$work/help.txt" || fail "ilheap $cmd --help exited $?"
    grep -q "^usage: ilheap $cmd" "$work/help.txt" || fail "ilheap $cmd --help: no usage line"
done
for cmd in scan rehome; do
    grep -q "5  malformed" <<<"$(ilheap $cmd --help)" || fail "ilheap $cmd --help does not document the exit codes"
done
grep -q rehome <<<"$(ilheap --help)" || fail "ilheap --help does not list rehome"

for cmd in scan rehome; do
    expect_exit 2 "unknown option" -- ilheap $cmd --no-such-option
    expect_exit 2 "one FILE at most" -- ilheap $cmd a.dll b.dll
    expect_exit 3 "$work/missing.dll: no such file" -- ilheap $cmd "$work/missing.dll"
    expect_exit 4 "is a directory" -- ilheap $cmd "$work"
done
expect_exit 2 "byte count" -- ilheap rehome --prologue 70000

# Truncated copies: every one fails cleanly, saying where.
for n in 0 1 63 64 130 300 512 1000 $((size / 2)) $((size - 600)); do
    head -c "$n" "$fallback" >"$work/trunc.dll"
    for cmd in scan rehome; do
        expect_exit 5 "trunc.dll: .*(truncated|past the end|shorter than|ends inside).*at file offset" -- \
            ilheap $cmd "$work/trunc.dll"
    done
done

# patch FILE OFFSET HEX-BYTES: a copy of the fallback with bytes replaced.
patch() {
    cp "$fallback" "$1"
    printf "$3" | dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}
le32() { od -An -tu4 -j "$2" -N4 "$1" | tr -d ' '; }

patch "$work/mz.dll" 0 'ZM'
expect_exit 5 "bad DOS header.*at file offset 0" -- ilheap scan "$work/mz.dll"
lfanew=$(le32 "$fallback" 60)
patch "$work/pe.dll" "$lfanew" 'PX'
expect_exit 5 "no 'PE.*signature.*at file offset" -- ilheap rehome "$work/pe.dll"
bsjb=$(grep -obUa BSJB "$fallback" | head -n 1 | cut -d: -f1)
[ -n "$bsjb" ] || fail "no metadata root in $fallback"
patch "$work/bsjb.dll" "$bsjb" 'XSJB'
expect_exit 5 "bad metadata root.*at file offset" -- ilheap scan "$work/bsjb.dll"
patch "$work/png.dll" 0 '\x89PNG\r\n\x1a\n'
expect_exit 5 "not a PE file" -- ilheap rehome "$work/png.dll"

# A damaged method body: the reader opens the file; the body is reported by
# token and the exit status is 5. The first body's file offset: its RVA in
# .text, whose VirtualAddress and PointerToRawData the section table gives.
first=$(ilheap scan --jsonl "$fallback" | head -n 1)
rva=$(echo "$first" | sed 's/.*"rva":\([0-9]*\).*/\1/')
sections=$((lfanew + 24 + $(od -An -tu2 -j $((lfanew + 20)) -N2 "$fallback" | tr -d ' ')))
va=$(le32 "$fallback" $((sections + 12)))
raw=$(le32 "$fallback" $((sections + 20)))
offset=$((rva - va + raw))
patch "$work/body.dll" "$offset" '\x00' # format bits 00: neither tiny nor fat
expect_exit 5 "method 0x06000001 \\(RVA $(printf '%#x' "$rva")\\): body does not decode: .*method header is neither tiny nor fat" -- \
    ilheap scan "$work/body.dll"
expect_exit 5 "method 0x06000001 .*does not decode" -- ilheap rehome "$work/body.dll"
# The other bodies are still listed.
n=$(ilheap scan --jsonl "$work/body.dll" 2>/dev/null | wc -l)
all=$(ilheap scan --jsonl "$fallback" | wc -l)
[ "$n" = $((all - 1)) ] || fail "damaged body: $n of $all bodies listed, expected $((all - 1))"
# A fat body whose code size runs past its section.
fat=$(ilheap scan --jsonl "$fallback" | grep -m1 '"header":"fat"')
frva=$(echo "$fat" | sed 's/.*"rva":\([0-9]*\).*/\1/')
ftoken=$(printf '0x%08x' "$(echo "$fat" | sed 's/^{"token":\([0-9]*\),.*/\1/')")
patch "$work/fat.dll" $((frva - va + raw + 4)) '\xff\xff\xff\x7f'
expect_exit 5 "method $ftoken .*truncated inside its IL code" -- ilheap scan "$work/fat.dll"
# And the success path once, so that the wrapper (valgrind) also sees a whole
# rehome: layout, heap, rewrite, checks, release.
ilheap rehome --builtin --prologue 3 >/dev/null || fail "ilheap rehome --builtin --prologue 3 exited $?"
ilheap scan --builtin --jsonl >/dev/null || fail "ilheap scan --builtin --jsonl exited $?"

# demo: --blocks is parsed strictly; a missing value is an error, not an
# unknown argument; --help documents the exit statuses.
for bad in abc 0 -5 1x 0x 99999999999 ""; do
    expect_exit 2 "--blocks needs a number of blocks" -- ilheap demo --blocks "$bad"
done
expect_exit 2 "--blocks needs a number of blocks" -- ilheap demo --blocks
expect_exit 2 "--module needs" -- ilheap demo --module
grep -q "6  out of memory, window or address space" <<<"$(ilheap demo --help)" || fail "ilheap demo --help lists no exit statuses"
grep -q "^blocks 3: lowest at base + 0x" <<<"$(ilheap demo --blocks 3)" || fail "ilheap demo --blocks 3 did not allocate 3 blocks"
grep -Eq "^ilheap [0-9]+\.[0-9]+\.[0-9]+$" <<<"$(ilheap --version | tr -d '\r')" || fail "ilheap --version: $(ilheap --version 2>&1)" # Wine writes CRLF

# Running out of the window exits 6 (docs/cli.md), with the reason said once.
expect_exit 6 "block 0 .*ENOSPACE|block 0 .*ETOOBIG" -- ilheap demo --window-for-test 0x1000 --blocks 10
err=$(ilheap rehome --builtin --window-for-test 0x1000 2>&1 >/dev/null); rc=$?
[ "$rc" = 6 ] || fail "rehome with SizeOfImage past the window exited $rc, expected 6: $err"
[ "$(echo "$err" | wc -l)" = 1 ] || fail "rehome with SizeOfImage past the window: more than one line: $err"
grep -q "SizeOfImage 0x[0-9a-f]* leaves no room in the heap's window" <<<"$err" || fail "rehome: the real cause is not said: $err"
echo "ok  exit 6: rehome --window-for-test 0x1000 -> $err"
# A window just above the image: the bodies either fit, or the run stops at
# the first one that does not, with one line and exit 6 (never per-body failures).
image=$(ilheap rehome --builtin | sed -n 's/^image      SizeOfImage \(0x[0-9a-f]*\).*/\1/p')
[ -n "$image" ] || fail "rehome --builtin: no SizeOfImage line"
err=$(ilheap rehome --builtin --window-for-test $((image + 0x2000)) 2>&1 >/dev/null); rc=$?
case "$rc" in
    0) ;;
    6) [ "$(echo "$err" | wc -l)" = 1 ] && grep -q "ran out of room at body" <<<"$err" ||
           fail "rehome out of room: not one clear line: $err" ;;
    *) fail "rehome with a window just above the image exited $rc: $err" ;;
esac
echo "ok  all error cases"
