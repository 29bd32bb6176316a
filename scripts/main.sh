#!/usr/bin/env bash
# The main job on its default input: builds ilheap, then runs `ilheap rehome`:
# the System.Private.CoreLib.dll of the newest installed .NET runtime (or,
# without one, the built-in fallback assembly) is laid out as the loader maps
# it, and every IL method body is moved into that module's heap and checked.
# Arguments are passed on (e.g. `--prologue 4`, a FILE, `--jsonl`).
set -euo pipefail
# The build runs from the source tree; the tool runs in the caller's directory,
# so that a relative FILE argument means what the caller meant.
root=$(cd "$(dirname "$0")/.." && pwd)
cmake -S "$root" -B "$root/build/release" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DILHEAP_WERROR=ON >/dev/null
cmake --build "$root/build/release" -j"$(nproc)" --target ilheap_cli >/dev/null
exec "$root/build/release/tools/ilheap" rehome "$@"
