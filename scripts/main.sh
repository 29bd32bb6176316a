#!/usr/bin/env bash
# The main job on its default input: builds ilheap and runs the demo, a heap
# above a real loaded module (libc), showing where its blocks land.
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build/release -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build/release -j"$(nproc)" >/dev/null
exec build/release/tools/ilheap demo "$@"
