#!/usr/bin/env python3
"""The counts of a Windows run (under Wine) beside a Linux run's.

usage: wine_counts.py map WINDOWS.jsonl OUT.jsonl
         each line's "path" from the Windows path the runtime reported to the
         Linux path of the same file: Wine's drive Z: is the Unix root, so
         Z:\\dir\\App.dll is /dir/App.dll (any other drive is refused);
       wine_counts.py compare LINUX.jsonl WINDOWS.jsonl
         the two runs counted the same: every line equal but for "path", as
         a multiset (the order of modules and methods may differ).
Exit 0 when it held, 1 with the differences on stdout.
"""
import json
import sys
from collections import Counter


def read(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def linux_path(windows_path):
    if not windows_path.upper().startswith("Z:\\"):
        raise ValueError(f"not on Wine's Z: drive: {windows_path}")
    return "/" + windows_path[3:].replace("\\", "/")


def cmd_map(src, dst):
    lines = read(src)
    with open(dst, "w", encoding="utf-8") as out:
        for e in lines:
            e["path"] = linux_path(e["path"])
            out.write(json.dumps(e, separators=(",", ":")) + "\n")
    print(f"{len(lines)} lines mapped")
    return 0


def key(e):
    return json.dumps({k: v for k, v in e.items() if k != "path"}, sort_keys=True)


def cmd_compare(linux, windows):
    a, b = Counter(map(key, read(linux))), Counter(map(key, read(windows)))
    if not a:
        print(f"{linux}: no counts")
        return 1
    only_linux, only_windows = a - b, b - a
    for k in list(only_linux)[:5]:
        print(f"only on Linux:   {k[:300]}")
    for k in list(only_windows)[:5]:
        print(f"only on Windows: {k[:300]}")
    print(f"{sum(a.values())} lines on Linux, {sum(b.values())} on Windows, "
          f"{sum(only_linux.values())} + {sum(only_windows.values())} differ")
    return 1 if only_linux or only_windows else 0


def main():
    if len(sys.argv) == 4 and sys.argv[1] == "map":
        return cmd_map(sys.argv[2], sys.argv[3])
    if len(sys.argv) == 4 and sys.argv[1] == "compare":
        return cmd_compare(sys.argv[2], sys.argv[3])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
