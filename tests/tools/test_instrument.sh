#!/usr/bin/env bash
# `ilheap rehome --instrument none|calls|blocks` holds its checks on
# every IL body of the shared framework (Microsoft.NETCore.App, and
# Microsoft.AspNetCore.App when installed): none re-encodes each body byte for
# byte through the IL rewriter; calls and blocks insert counter probes and the
# tool decodes every new body again (original instructions in order, every
# branch, switch and EH edge to the same instruction or its probe). A body
# damaged on purpose (--corrupt-for-test) must fail, naming the method.
# --jsonl carries "blocks" per body, adding up to the summary's probes.
# usage: test_instrument.sh ILHEAP [sample]
#   sample: only the built-in assembly and CoreLib (sanitizer and Debug builds,
#   where the whole framework takes too long); the release build does all.
source "$(dirname "$0")/common.sh"
ilheap_bin="$1"
scope="${2:-all}"
start=$(date +%s)

for mode in none calls blocks; do
    check_ok --builtin --instrument "$mode"
done
echo "ok  built-in assembly: $bodies bodies, --instrument none, calls, blocks"
for token in 0x06000001 0x06000007; do
    for mode in none calls blocks; do
        expect_exit 1 "method $(printf '0x%08x' $((token))) FAILED" -- \
            ilheap rehome --builtin --instrument $mode --corrupt-for-test $token
    done
done

fw=$(find_framework)
[ -n "$fw" ] || skip "no .NET runtime installed: only the built-in assembly was instrumented"
corelib="$fw/System.Private.CoreLib.dll"

# JSON lines: one per body, each with "blocks"; their sum is the summary's count.
check_ok "$corelib" --instrument blocks
probes=$(echo "$out" | sed -n 's/^instrument blocks.*: \([0-9]*\) counter probes inserted.*/\1/p')
[ -n "$probes" ] && [ "$probes" -gt "$bodies" ] || fail "CoreLib: $probes probes for $bodies bodies"
sum=$(ilheap rehome "$corelib" --instrument blocks --jsonl | awk -F'"blocks":' '
    NF != 2 { bad++ } { split($2, v, "}"); s += v[1]; n++ } END { print (bad ? "bad" : n " " s) }')
[ "$sum" = "$bodies $probes" ] || fail "--jsonl: lines and blocks '$sum', expected '$bodies $probes'"
echo "ok  CoreLib --jsonl: $bodies lines, \"blocks\" adding up to $probes probes"
token=$(ilheap scan --jsonl "$corelib" | sed -n '100s/^{"token":\([0-9]*\),.*/\1/p')
[ -n "$token" ] || fail "no 100th IL body in $corelib"
expect_exit 1 "method $(printf '0x%08x' "$token") FAILED" -- \
    ilheap rehome "$corelib" --instrument blocks --corrupt-for-test "$token"

if [ "$scope" = sample ]; then
    for mode in none calls; do check_ok "$corelib" --instrument $mode; done
    echo "ok  CoreLib: $bodies bodies, every mode (sample scope: the release build runs the whole framework)"
    exit 0
fi
framework_dirs "$fw"
files=0
declare -A total=([none]=0 [calls]=0 [blocks]=0)
for d in "${dirs[@]}"; do
    for f in "$d"/*.dll; do
        for mode in none calls blocks; do
            check_ok "$f" --instrument $mode
            total[$mode]=$((total[$mode] + bodies))
        done
        files=$((files + 1))
    done
done
[ "${total[none]}" = "${total[blocks]}" ] && [ "${total[none]}" = "${total[calls]}" ] ||
    fail "body counts differ between modes: ${total[*]}"
[ "${total[none]}" -gt 100000 ] || fail "only ${total[none]} bodies in the framework"
echo "ok  $files assemblies (${dirs[*]}): ${total[none]} bodies, each re-encoded unchanged (byte for byte)," \
     "with a probe at entry and with one at every block, every one checked ($(($(date +%s) - start)) s)"
