#!/usr/bin/env python3
"""Compares two Cobertura reports line by line (ilheap against coverlet).

    compare_cobertura.py REFERENCE.xml OTHER.xml --root DIR [--min PCT]
                         [--names coverlet,ilheap] [--exclude SUBSTRING ...]
                         [--branch-min PCT] [--quiet] [--and REPORT ...]
                         [--peer REPORT]

Only source files under DIR count (the project's own sources). A line is
"coverable" in a report when the report lists it; its hits are the largest
count any class or method of that report gives it. The agreement figure is
the share of the lines REFERENCE reports that OTHER reports too, with the
same hit/not-hit (hits > 0 or == 0): a line only REFERENCE reports counts
against it. Lines only OTHER reports are listed but not in the figure.

Prints the counts, every differing line as `file:line ref=N other=M` ("-" for
a line a report does not list) and `agreement=P% minimum=M% PASS|FAIL`.
Branches: a line's branch figure is the (covered, total) outcomes of its
condition-coverage="P% (c/n)"; the branch agreement is the share of the lines
that either report gives branches on which both give the same pair. With
--branch-min it is judged too. Also prints both reports' totals (the
<coverage> element's lines-covered/-valid, branches-covered/-valid) over all
their files. --quiet lists at most 40 differing lines of each kind.
--and REPORT (repeatable): another test project's report of the same library
joins REFERENCE, as a merge of the two gives it (coverlet writes one report
per test project): a line either lists is coverable, its hits the sum; the
branches are then not compared (which outcomes two runs covered together
cannot be told from per-line counts).
--peer REPORT (a second peer's report, Microsoft's collector's where
REFERENCE is coverlet's): also prints the branch agreement of OTHER over the
lines with branches on which REFERENCE and PEER give the same pair (where the
two peers agree), and how many of the differences there are in the number of
outcomes rather than in the covered ones.
Exit status: 0 when the agreement is at least --min (default 99) (and the
branch agreement at least --branch-min), 1 when below, 2 on unreadable input
or a reference with no line under DIR.
"""
import re
import argparse
import os
import sys
import xml.etree.ElementTree as ET


def resolve(filename, sources):
    """The file's absolute path: Cobertura names it relative to one of <sources>."""
    if os.path.isabs(filename):
        return os.path.normpath(filename)
    candidates = [os.path.join(s, filename) for s in sources]
    for c in candidates:
        if os.path.exists(c):
            return os.path.normpath(c)
    return os.path.normpath(candidates[0] if candidates else filename)


def read_lines(path, root, excludes):
    """{(relative file, line): hits} for the files under root; and the files skipped."""
    try:
        top = ET.parse(path).getroot()
    except ET.ParseError as e:
        raise ValueError(f"{path}: {e}")
    if top.tag != "coverage":
        raise ValueError(f"{path}: the root element is <{top.tag}>, not <coverage>")
    sources = [(s.text or "").strip() for s in top.iter("source")]
    lines = {}
    branches = {}
    outside = set()
    for cls in top.iter("class"):
        name = cls.get("filename")
        if name is None:
            raise ValueError(f"{path}: a <class> without filename")
        full = resolve(name, sources)
        rel = os.path.relpath(full, root)
        if rel.startswith("..") or any(x in full for x in excludes):
            outside.add(full)
            continue
        for line in cls.iter("line"):
            try:
                key = (rel, int(line.get("number")))
                hits = int(line.get("hits"))
            except (TypeError, ValueError):
                raise ValueError(f"{path}: class {cls.get('name')}: a <line> without a number or hits")
            lines[key] = max(hits, lines.get(key, 0))
            m = re.search(r"\((\d+)/(\d+)\)", line.get("condition-coverage") or "")
            if m and line.get("branch") == "True":
                c, n = int(m.group(1)), int(m.group(2))
                old = branches.get(key)
                branches[key] = (c, n) if old is None or n > old[1] else old
    totals = {k: int(top.get(k) or 0) for k in ("lines-covered", "lines-valid", "branches-covered", "branches-valid")}
    return lines, outside, branches, totals


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("reference")
    ap.add_argument("other")
    ap.add_argument("--root", required=True, help="only source files under this directory count")
    ap.add_argument("--min", type=float, default=99.0, help="the least agreement in percent (default 99)")
    ap.add_argument("--names", default="coverlet,ilheap", help="what to call the two reports")
    ap.add_argument("--exclude", action="append", default=[], help="skip files whose path contains this")
    ap.add_argument("--branch-min", type=float, default=None, help="the least branch agreement in percent")
    ap.add_argument("--quiet", action="store_true", help="list at most 40 differing lines of each kind")
    ap.add_argument("--and", dest="also", action="append", default=[],
                    help="another report of the same library, merged into REFERENCE (lines only)")
    ap.add_argument("--peer", help="a second peer's report: the branch agreement where the two peers agree")
    args = ap.parse_args(argv)
    ref_name, other_name = (args.names.split(",") + ["other"])[:2]
    root = os.path.normpath(os.path.abspath(args.root))
    try:
        ref, ref_out, ref_br, ref_tot = read_lines(args.reference, root, args.exclude)
        other, other_out, other_br, other_tot = read_lines(args.other, root, args.exclude)
        for path in args.also:
            more, more_out, _, _ = read_lines(path, root, args.exclude)
            for k, h in more.items():
                ref[k] = ref.get(k, 0) + h
            ref_out |= more_out
        if args.also:
            ref_br, other_br = {}, {}
        peer_br = read_lines(args.peer, root, args.exclude)[2] if args.peer else None
    except (OSError, ValueError) as e:
        print(f"compare: {e}", file=sys.stderr)
        return 2
    if not ref:
        print(f"compare: {args.reference} reports no line under {root}", file=sys.stderr)
        return 2

    def describe(name, lines, out):
        files = {f for f, _ in lines}
        hit = sum(1 for h in lines.values() if h > 0)
        print(f"{name}: {len(lines)} coverable lines in {len(files)} files, {hit} hit"
              f" ({len(out)} files outside the root or excluded)")

    describe(ref_name, ref, ref_out)
    describe(other_name, other, other_out)
    both = ref.keys() & other.keys()
    only_ref = ref.keys() - other.keys()
    only_other = other.keys() - ref.keys()
    agree = sum(1 for k in both if (ref[k] > 0) == (other[k] > 0))
    equal = sum(1 for k in both if ref[k] == other[k])
    print(f"both report {len(both)} lines; only {ref_name} {len(only_ref)}; only {other_name} {len(only_other)};"
          f" same hit/not-hit on {agree} of the {len(both)} both report, the same count on {equal}")
    differing = sorted(k for k in ref.keys() | other.keys()
                       if k not in both or (ref[k] > 0) != (other[k] > 0))
    if differing:
        print("differing lines:")
    limit = 40 if args.quiet else len(differing)
    for f, n in differing[:limit]:
        print(f"  {f}:{n} {ref_name}={ref.get((f, n), '-')} {other_name}={other.get((f, n), '-')}")
    for name, t in ((ref_name, ref_tot), (other_name, other_tot)):
        print(f"totals {name}: lines {t['lines-covered']}/{t['lines-valid']},"
              f" branches {t['branches-covered']}/{t['branches-valid']}")
    pct = 100.0 * agree / len(ref)
    ok = pct >= args.min
    print(f"agreement={pct:.2f}% ({agree} of the {len(ref)} lines {ref_name} reports)"
          f" minimum={args.min:.2f}% {'PASS' if ok else 'FAIL'}")
    keys = sorted(ref_br.keys() | other_br.keys())
    same = [k for k in keys if ref_br.get(k) == other_br.get(k)]
    bdiff = [k for k in keys if ref_br.get(k) != other_br.get(k)]
    if bdiff:
        print("lines whose branches differ (covered/outcomes):")
    for f, n in bdiff[:40 if args.quiet else len(bdiff)]:
        def fmt(v):
            return "-" if v is None else f"{v[0]}/{v[1]}"
        print(f"  {f}:{n} {ref_name}={fmt(ref_br.get((f, n)))} {other_name}={fmt(other_br.get((f, n)))}")
    bpct = 100.0 * len(same) / len(keys) if keys else 100.0
    bok = args.branch_min is None or bpct >= args.branch_min
    print(f"branch agreement={bpct:.2f}% ({len(same)} of the {len(keys)} lines with branches)"
          + (f" minimum={args.branch_min:.2f}% {'PASS' if bok else 'FAIL'}" if args.branch_min is not None else ""))
    if peer_br is not None:
        agreed = [k for k in keys | peer_br.keys() if ref_br.get(k) == peer_br.get(k)]
        same_there = sum(1 for k in agreed if other_br.get(k) == ref_br.get(k))
        outcomes = sum(1 for k in agreed if other_br.get(k) != ref_br.get(k)
                       and (other_br.get(k) or (0, 0))[1] != (ref_br.get(k) or (0, 0))[1])
        ppct = 100.0 * same_there / len(agreed) if agreed else 100.0
        print(f"where the peers agree: branch agreement={ppct:.2f}% ({same_there} of the {len(agreed)} lines"
              f" with branches on which {ref_name} and the peer agree; {outcomes} of the"
              f" {len(agreed) - same_there} differences in the number of outcomes)")
    return 0 if ok and bok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
