#!/usr/bin/env python3
"""Where modules sit and how much room is above them: a table from the
profiler's module logs (ILHEAP_MODULE_LOG, one line per module load).

usage: module_room.py LOG...

Each module is put in one kind: a ReadyToRun image (flag 0x2), an IL-only
framework assembly, the application (--app NAME, default ProfTest.dll), or
a module of a collectible context (flag 0x8). Per kind: how many loads, how
many had free room right at the image end, a hole of at least 64 KiB within
2 GiB and within 4 GiB of the base, none free at all within 2 GiB, and the
offset of the first such hole from the base (min / median / max, MiB).
"""
import re
import statistics
import sys

MIB = 1024 * 1024
GIB = 1024 * MIB


def parse(line):
    fields = dict(re.findall(r"(\w+)=(\S+)", line))
    for k, v in fields.items():
        if v.startswith("0x") or v == "0":
            fields[k] = int(v, 16)
    return fields


def kind(m, app):
    if m["name"].replace("\\", "/").rsplit("/", 1)[-1] == app:
        return "the application"
    if m["flags"] & 0x8:
        return "collectible context"
    if m["flags"] & 0x2:
        return "ReadyToRun image"
    return "IL-only assembly"


def main():
    args, app = sys.argv[1:], "ProfTest.dll"
    if "--app" in args:
        i = args.index("--app")
        app = args[i + 1]
        del args[i:i + 2]
    if not args:
        print(__doc__, file=sys.stderr)
        return 2
    kinds = {}
    for path in args:
        with open(path, encoding="utf-8", errors="replace") as f:
            for line in f:
                if line.startswith("module "):
                    m = parse(line)
                    kinds.setdefault(kind(m, app), []).append(m)
    print("| kind | n | layout | room right above | hole within 2 GiB | hole within 4 GiB "
          "| 0 bytes free within 2 GiB | first hole above base (min / median / max MiB) |")
    print("|---|---|---|---|---|---|---|---|")
    for k, ms in sorted(kinds.items()):
        offs = [m["first_gap_off"] for m in ms if m["first_gap"]]
        layouts = sorted({m["layout"] for m in ms})
        spread = (f"{min(offs) / MIB:.0f} / {statistics.median(offs) / MIB:.0f} / {max(offs) / MIB:.0f}"
                  if offs else "none")
        print(f"| {k} | {len(ms)} | {', '.join(layouts)} | {sum(m['gap_above'] > 0 for m in ms)} "
              f"| {sum(0 < o < 2 * GIB for o in offs)} | {len(offs)} "
              f"| {sum(m['free_2g'] == 0 for m in ms)} | {spread} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
