#!/usr/bin/env python3
"""Checks an ILHEAP_COUNTS file against the known counts of CountsApp.

usage: check_counts.py calls|blocks EXPECTED COUNTS.jsonl [--times N] [--module NAME]
  calls:  each listed method's "calls" equals the listed count times N;
  blocks: each listed method's block hits contain the listed hits times N
          (as a multiset), and its first block's hits equal its first listed
          value times N.
Every line is checked for the format: module, path, mvid, method, token, and
in blocks mode ascending il_offsets starting at 0. Exit 0 when all hold.
"""
import fnmatch
import json
import sys


def main():
    args = sys.argv[1:]
    times, module = 1, None
    if "--times" in args:
        i = args.index("--times")
        times = int(args[i + 1])
        del args[i:i + 2]
    if "--module" in args:
        i = args.index("--module")
        module = args[i + 1]
        del args[i:i + 2]
    mode, expected_path, counts_path = args
    failures = []
    entries = {}
    with open(counts_path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            e = json.loads(line)
            where = f"{counts_path}:{n}"
            for key in ("module", "path", "mvid", "method", "token"):
                if not isinstance(e.get(key), str) or not e[key]:
                    failures.append(f"{where}: no {key}")
            if mode == "calls":
                if not isinstance(e.get("calls"), int) or e["calls"] < 0:
                    failures.append(f"{where}: bad calls")
            else:
                blocks = e.get("blocks")
                offs = [b["il_offset"] for b in blocks or []]
                if not blocks or offs[0] != 0 or offs != sorted(set(offs)):
                    failures.append(f"{where}: blocks not ascending from 0: {offs}")
                if any(b["hits"] < 0 for b in blocks or []):
                    failures.append(f"{where}: negative hits")
            if module and e.get("module") != module:
                continue
            if e["method"] in entries:
                failures.append(f"{where}: {e['method']} listed twice")
            entries[e["method"]] = e
    with open(expected_path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            name, *values = line.split()
            want = [int(v) * times for v in values]
            found = [m for m in entries if fnmatch.fnmatchcase(m, name)]
            if len(found) != 1:
                failures.append(f"{name}: {len(found)} entries match")
                continue
            e = entries[found[0]]
            if mode == "calls":
                if e["calls"] != want[0]:
                    failures.append(f"{found[0]}: calls {e['calls']}, expected {want[0]}")
                continue
            hits = [b["hits"] for b in e["blocks"]]
            rest = list(hits)
            for w in want:
                if w in rest:
                    rest.remove(w)
                else:
                    failures.append(f"{found[0]}: no block with {w} hits in {hits}")
            if hits[0] != want[0]:
                failures.append(f"{found[0]}: first block {hits[0]} hits, expected {want[0]}")
    for msg in failures:
        print("FAIL: " + msg)
    print(f"{mode}: {len(entries)} methods read, {len(failures)} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
