# Shared by the tools tests (sourced). Exit 77 = skipped (CTest SKIP_RETURN_CODE).
set -uo pipefail

fail() { echo "FAIL: $*" >&2; exit 1; }
skip() { echo "SKIP: $*"; exit 77; }

# The newest Microsoft.NETCore.App directory (or ILHEAP_SHARED_FRAMEWORK); empty if none.
find_framework() {
    if [ -n "${ILHEAP_SHARED_FRAMEWORK:-}" ]; then echo "$ILHEAP_SHARED_FRAMEWORK"; return; fi
    local parent="${DOTNET_ROOT:-/usr/share/dotnet}/shared/Microsoft.NETCore.App"
    [ -d "$parent" ] || return 0
    local v
    v=$(ls "$parent" 2>/dev/null | grep '^[0-9]' | sort -V | tail -n 1)
    [ -n "$v" ] && echo "$parent/$v"
}

# The AspNetCore shared framework of the same version, if installed.
find_aspnetcore() {
    local fw="$1" v
    v=$(basename "$fw")
    local dir
    dir="$(dirname "$(dirname "$fw")")/Microsoft.AspNetCore.App/$v"
    [ -d "$dir" ] && echo "$dir"
}

# framework_dirs FW: sets dirs=(FW and, when installed, its AspNetCore twin):
# the assemblies the whole-framework checks walk.
framework_dirs() {
    dirs=("$1")
    local asp
    asp=$(find_aspnetcore "$1")
    [ -z "$asp" ] || dirs+=("$asp")
}

# expect_exit CODE MESSAGE-REGEX -- command...: runs it, checks the exit code and
# that stderr matches the regex (grep -E).
expect_exit() {
    local want="$1" pattern="$2"
    shift 3
    local err rc
    err=$("$@" 2>&1 >/dev/null)
    rc=$?
    [ "$rc" = "$want" ] || fail "$* exited $rc, expected $want; stderr: $err"
    grep -Eq -- "$pattern" <<<"$err" || fail "$*: stderr does not match /$pattern/: $err"
    echo "ok  exit $rc: $* -> $(echo "$err" | head -n 1)"
}

# ILHEAP_TOOL_WRAPPER (e.g. wine for a mingw-w64 build) runs every call of the
# tool the script was given as $ilheap_bin.
ilheap() { ${ILHEAP_TOOL_WRAPPER:-} "$ilheap_bin" "$@"; }

# check_ok args...: `ilheap rehome args` must exit 0 and say every check held;
# sets $bodies (bodies checked) and $out (its output).
check_ok() {
    local rc
    out=$(ilheap rehome "$@" 2>&1)
    rc=$?
    # An emulator (Wine) that fails to start the program prints nothing: the
    # tool itself never fails silently. That case is tried once more, said.
    if [ "$rc" != 0 ] && [ -z "$out" ] && [ -n "${ILHEAP_TOOL_WRAPPER:-}" ]; then
        echo "note: ilheap rehome $* exited $rc with no output under ${ILHEAP_TOOL_WRAPPER}: run again"
        out=$(ilheap rehome "$@" 2>&1)
        rc=$?
    fi
    [ "$rc" = 0 ] || fail "ilheap rehome $* exited $rc: $(echo "$out" | tail -n 8)"
    grep -q '^checks     all [0-9]* bodies held' <<<"$out" || fail "ilheap rehome $*: no 'all held' line: $out"
    bodies=$(echo "$out" | sed -n 's/^checks     all \([0-9]*\) bodies held.*/\1/p')
}
