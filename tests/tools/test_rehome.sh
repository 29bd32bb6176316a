#!/usr/bin/env bash
# `ilheap rehome` with and without --prologue succeeds on every assembly of the
# shared framework (Microsoft.NETCore.App, and Microsoft.AspNetCore.App when
# installed) and on the built-in assembly; its checks fail when a body is
# corrupted on purpose (--corrupt-for-test), naming the method.
# usage: test_rehome.sh ILHEAP
source "$(dirname "$0")/common.sh"
ilheap_bin="$1"

# The built-in assembly: always available.
check_ok --builtin
check_ok --builtin --prologue 7
echo "ok  built-in assembly: $bodies bodies, with and without a prologue"

# The bytes line: claimed = bodies + alignment padding (under 4 a body) + the
# unused tail of the thread's run (at most one run, 16 KiB).
check_ok --builtin
read -r heap_bytes claimed padding tail < <(echo "$out" |
    sed -n "s/^bytes .* in the image, \([0-9]*\) in the heap, \([0-9]*\) claimed from it (\([0-9]*\) alignment padding, \([0-9]*\) unused tail.*/\1 \2 \3 \4/p")
[ -n "$tail" ] || fail "rehome: no bytes line with padding and run tail: $out"
[ $((heap_bytes + padding + tail)) = "$claimed" ] || fail "rehome: $heap_bytes + $padding + $tail != $claimed"
[ "$padding" -lt $((4 * bodies)) ] || fail "rehome: padding $padding for $bodies bodies"
[ "$tail" -le 16384 ] || fail "rehome: run tail $tail over one run"
echo "ok  built-in assembly: $claimed bytes claimed = $heap_bytes + $padding padding + $tail run tail"

# Corruption must be caught, and the method named (a tiny body, a fat one with EH).
for token in 0x06000001 0x06000007; do
    for prologue in 0 3; do
        expect_exit 1 "method $(printf '0x%08x' $((token))) FAILED: .*differs" -- \
            ilheap rehome --builtin --prologue $prologue --corrupt-for-test $token
    done
done

fw=$(find_framework)
[ -n "$fw" ] || skip "no .NET runtime installed: only the built-in assembly was rehomed"
framework_dirs "$fw"
total=0 files=0
for d in "${dirs[@]}"; do
    for f in "$d"/*.dll; do
        check_ok "$f"
        total=$((total + bodies))
        check_ok "$f" --prologue 5
        files=$((files + 1))
    done
done
echo "ok  ${files} assemblies (${dirs[*]}): $total bodies rehomed and checked, with and without --prologue 5"

corelib="$fw/System.Private.CoreLib.dll"
token=$(ilheap scan --jsonl "$corelib" | sed -n '100s/^{"token":\([0-9]*\),.*/\1/p')
[ -n "$token" ] || fail "no 100th IL body in $corelib"
expect_exit 1 "method $(printf '0x%08x' "$token") FAILED" -- ilheap rehome "$corelib" --corrupt-for-test "$token"
expect_exit 1 "method $(printf '0x%08x' "$token") FAILED" -- ilheap rehome "$corelib" --prologue 2 --corrupt-for-test "$token"
