#!/usr/bin/env python3
"""Checks ILHEAP_MODE=timing's counts (as JSON lines) against the known
entries of TimingApp.

usage: check_timing.py EXPECTED COUNTS.jsonl [--times N] [--module NAME]
Each listed method's "calls" and "exceptional_exits" equal the listed ones
times N (not for lines marked once), and its "inclusive_ns" is at least the
listed milliseconds times N when a fourth column gives them. Every line is
checked for the format (module, path, mvid, method, token, then calls,
exceptional_exits and inclusive_ns, integers, exceptional_exits <= calls),
and every entered method of the module for a positive time. Exit 0 when all
hold.
"""
import fnmatch
import json
import sys

KEYS = ("module", "path", "mvid", "method", "token", "calls", "exceptional_exits", "inclusive_ns")


def read_entries(path, module, failures):
    entries = {}
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            e = json.loads(line)
            where = f"{path}:{n}"
            if list(e.keys()) != list(KEYS):
                failures.append(f"{where}: keys {list(e.keys())}")
                continue
            if any(not isinstance(e[k], int) or e[k] < 0 for k in KEYS[5:]):
                failures.append(f"{where}: counts not integers >= 0")
            elif e["exceptional_exits"] > e["calls"]:
                failures.append(f"{where}: more exceptional exits than calls")
            if module and e["module"] != module:
                continue
            if e["calls"] > 0 and e["inclusive_ns"] == 0:
                failures.append(f"{where}: {e['method']} entered {e['calls']} times in 0 ns")
            if e["method"] in entries:
                failures.append(f"{where}: {e['method']} listed twice")
            entries[e["method"]] = e
    return entries


def check(expected_path, entries, times, failures):
    checked = 0
    with open(expected_path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            words = line.split()
            once = words[-1] == "once"
            if once:
                words.pop()
            k = 1 if once else times
            name, calls, exc = words[0], int(words[1]) * k, int(words[2]) * k
            min_ns = int(words[3]) * 1000000 * k if len(words) > 3 else 0
            found = [m for m in entries if fnmatch.fnmatchcase(m, name)]
            if len(found) != 1:
                failures.append(f"{name}: {len(found)} entries match (want 1)")
                continue
            e = entries[found[0]]
            got = (e["calls"], e["exceptional_exits"])
            if got != (calls, exc):
                failures.append(f"{name}: calls, exceptional_exits {got}, want {(calls, exc)}")
            if e["inclusive_ns"] < min_ns:
                failures.append(f"{name}: inclusive_ns {e['inclusive_ns']}, want at least {min_ns}")
            checked += 1
    return checked


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
    expected_path, counts_path = args
    failures = []
    entries = read_entries(counts_path, module, failures)
    checked = check(expected_path, entries, times, failures)
    for f in failures:
        print("FAIL:", f)
    exceptional = sum(e["exceptional_exits"] for e in entries.values())
    print(f"{checked} methods checked exactly (of {len(entries)} timed, {exceptional} exceptional exits), "
          f"{len(failures)} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
