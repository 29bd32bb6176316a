#!/usr/bin/env bash
# Wrappers on code from real compilers: tests/il/WrapSamples (C#, Roslyn:
# constructors with field initializers, conditional base arguments and
# this(...) chaining, structs and ref structs, filters, nested handlers,
# switch, stackalloc, Span<T> parameters, locals and returns, ref returns,
# generic methods over value and reference types, varargs, lock, using,
# iterators, async) is built here, and every method of it, and of the F#
# compiler's FSharp.Core.dll the SDK ships (its `tail.` calls), gets one
# exit, a try/finally around the body (after the base constructor call in
# constructors) and an entry probe, each checked by the verifier
# (test_il_wrap_real with ILHEAP_WRAP_ASSEMBLY). Without dotnet it exits 77.
# usage: test_il_wrap_samples.sh TEST_IL_WRAP_REAL SOURCE_DIR WORK_DIR
set -euo pipefail
wrap=$(realpath "$1") src=$(realpath "$2") work=$(realpath -m "$3")
command -v dotnet >/dev/null || { echo "SKIP: dotnet not found"; exit 77; }
fail() { echo "FAIL: $*"; exit 1; }
rm -rf "$work"
mkdir -p "$work"
cp "$src"/WrapSamples.csproj "$src"/Samples.cs "$src"/nuget.config "$work/"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
export DOTNET_CLI_HOME="$work/dotnet-home" MSBUILDDISABLENODEREUSE=1
dotnet build "$work/WrapSamples.csproj" -c Release -o "$work/out" -nodeReuse:false -p:UseSharedCompilation=false \
    >"$work/build.log" 2>&1 || { tail -n 20 "$work/build.log"; fail "WrapSamples does not build"; }

ILHEAP_WRAP_ASSEMBLY="$work/out/WrapSamples.dll" "$wrap" >"$work/samples.txt" 2>"$work/samples.err" ||
    { cat "$work/samples.err"; fail "wrapping WrapSamples.dll"; }
outcome() { # the outcome line of Type::Method (the first one)
    grep -m1 "^method $1 " "$work/samples.txt" | sed 's/^[^:]*::[^ ]* [^ ]*: //'
}
expect() { # Type::Method, its outcome
    local got
    got=$(outcome "$1")
    [ "$got" = "$2" ] || fail "$1: '$got', expected '$2'"
}
for m in Base::.ctor Derived::.ctor; do
    expect "$m" "wrapped after the base constructor call"
done
[ "$(grep -c '^method Derived::.ctor .*after the base constructor call$' "$work/samples.txt")" = 2 ] ||
    fail "both Derived constructors (base(...) and this(...)) start after their call"
expect Point::.ctor "wrapped, no base constructor call"
expect Window::.ctor "wrapped, no base constructor call"
for m in Straight ManyReturns Switch TryCatch TryFinallyExisting Filter Nested HandlerLast Localloc \
    StackallocSpan SpanParam SpanReturn RefReturn RefReadonlyReturn StructReturn Generic GenericValue \
    GenericReference GenericStruct Varargs CallVarargs Lock Using Iterator Async Throws OutParam Loop \
    Interlocked Typed; do
    expect "Samples::$m" wrapped
done
grep -q "^method <Async>d__[0-9]*::MoveNext .*: wrapped$" "$work/samples.txt" || fail "the async state machine"
methods=$(grep -c '^method ' "$work/samples.txt")

root=${DOTNET_ROOT:-/usr/share/dotnet}
fsharp=$(ls "$root"/sdk/*/FSharp/FSharp.Core.dll 2>/dev/null | sort -V | tail -n 1 || true)
tails=0
if [ -n "$fsharp" ]; then
    ILHEAP_WRAP_ASSEMBLY="$fsharp" "$wrap" >"$work/fsharp.txt" 2>"$work/fsharp.err" ||
        { cat "$work/fsharp.err"; fail "wrapping $fsharp"; }
    tails=$(grep -c 'tail. dropped$' "$work/fsharp.txt" || true)
    [ "$tails" -gt 100 ] || fail "FSharp.Core: only $tails methods with tail. calls wrapped"
else
    echo "note: no FSharp.Core.dll in the SDK: the tail. calls of compiled F# are not tried"
fi
echo "wrap_samples: $methods methods of WrapSamples.dll wrapped and verified, every shape as expected;" \
    "FSharp.Core.dll: $tails methods with tail. calls wrapped (prefix dropped) and verified"
