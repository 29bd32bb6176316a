#!/usr/bin/env python3
"""Turns benchmark lines into BENCHMARKS.md and gnuplot PNGs (stdlib only).

Input: results files (or directories of them, bench/results/*.txt), lines of
the form `kind key=value ...`, each repeated with rep=<i>. For every
measurement the report gives the median over repetitions and the spread
((max - min) / median); a ratio between two implementations is computed per
repetition (the two ran back to back) and its median is reported, which is
what survives the noise of a shared machine. A results file may declare its
own section and targets (section_file.py): a new benchmark needs no change
here.

Usage: report.py --results FILE|DIR [--results ...] --out BENCHMARKS.md
                 --plots DIR --command "bench/run.sh" [--quick]
"""
import argparse
import glob
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
from collections import OrderedDict, defaultdict

import section_file

# Numeric keys that name a measurement rather than measure it.
IDENTITY_NUMERIC = {"threads", "mappings", "populate", "size", "modules", "blocks", "bodies",
                    "iters", "methods", "lookups", "prologue", "passes"}
ALLOC_ORDER = ["ilheap", "ilheap-com", "ilheap-tlab", "ilheap-nopopulate", "ilheap-huge", "glibc", "mimalloc",
               "jemalloc", "bump"]


def is_number(text):
    try:
        float(text)
        return True
    except ValueError:
        return False


class Results:
    def __init__(self):
        self.values = defaultdict(lambda: defaultdict(dict))  # key -> metric -> rep -> value
        self.info = defaultdict(dict)  # key -> non-numeric extra fields
        self.problems = []
        self.headers = []

    def add_line(self, line):
        """Takes one line; returns the kind of a result line, else None."""
        line = line.strip()
        if not line:
            return None
        if line.startswith("#"):
            self.headers.append(line)
            return None
        kind, _, rest = line.partition(" ")
        fields = OrderedDict()
        for token in rest.split():
            k, sep, v = token.partition("=")
            if sep:
                fields[k] = v
        if kind in ("skip", "fail"):
            self.problems.append(line)
            return None
        rep = fields.pop("rep", "0")
        ident = [("kind", kind)]
        metrics = {}
        for k, v in fields.items():
            if k in IDENTITY_NUMERIC or not is_number(v):
                ident.append((k, v))
            else:
                metrics[k] = float(v)
        key = tuple(ident)
        for m, v in metrics.items():
            self.values[key][m][rep] = v
        return kind

    def load(self, paths):
        """Reads results files (a directory: its *.txt, in name order); returns
        the sections they declare (section_file.py)."""
        files = []
        for p in paths:
            files += sorted(glob.glob(os.path.join(p, "*.txt"))) if os.path.isdir(p) else [p]
        sections = []
        for path in files:
            section = section_file.Section(os.path.relpath(path))
            with open(path) as f:
                for line in f:
                    if line.startswith("#") and section.directive(line):
                        continue
                    kind = self.add_line(line)
                    if kind is not None:
                        section.kinds.add(kind)
            if section.title:
                sections.append(section)
        return sections

    def find(self, kind, **want):
        """The keys of kind whose identity fields match want."""
        out = []
        for key in self.values:
            d = dict(key)
            if d["kind"] != kind:
                continue
            if all(str(d.get(k)) == str(v) for k, v in want.items()):
                out.append(key)
        return out

    def one(self, kind, **want):
        keys = self.find(kind, **want)
        return keys[0] if keys else None

    def reps(self, key, metric):
        if key is None:
            return {}
        return self.values[key].get(metric, {})

    def median(self, key, metric):
        r = self.reps(key, metric)
        return statistics.median(r.values()) if r else None

    def spread(self, key, metric):
        r = list(self.reps(key, metric).values())
        if len(r) < 2:
            return None
        med = statistics.median(r)
        return (max(r) - min(r)) / med * 100 if med else None

    def ratio(self, key_a, key_b, metric):
        """Median over repetitions of a/b (paired by rep)."""
        a, b = self.reps(key_a, metric), self.reps(key_b, metric)
        pairs = [a[r] / b[r] for r in a if r in b and b[r]]
        return statistics.median(pairs) if pairs else None


def fmt(x, digits=1):
    if x is None:
        return "–"
    if abs(x) >= 1000:
        return f"{x:,.0f}"
    return f"{x:.{digits}f}"


def fmt_ratio(x):
    return "–" if x is None else f"{x:.2f}x"


def fmt_spread(x):
    return "–" if x is None else f"±{x / 2:.0f}%"


def machine_info():
    cpu = "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem = ""
    try:
        with open("/proc/meminfo") as f:
            kb = int(f.readline().split()[1])
            mem = f"{kb / 1024 / 1024:.1f} GiB"
    except (OSError, ValueError, IndexError):
        pass

    def run(cmd):
        try:
            return subprocess.run(cmd, capture_output=True, text=True, timeout=10).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return ""

    glibc = run(["ldd", "--version"]).splitlines()[:1]
    versions = {}
    for pkg in ("libmimalloc-dev", "libjemalloc-dev", "gnuplot-nox"):
        versions[pkg] = run(["dpkg-query", "-W", "-f=${Version}", pkg]) or "not installed"
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "kernel": platform.release(),
        "memory": mem,
        "glibc": glibc[0] if glibc else "",
        "versions": versions,
        "thp": run(["cat", "/sys/kernel/mm/transparent_hugepage/enabled"]),
    }


# ---------------------------------------------------------------- sections

def alloc_impls(res, **want):
    present = {dict(k)["impl"] for k in res.find("alloc", **want)}
    return [i for i in ALLOC_ORDER if i in present] + sorted(present - set(ALLOC_ORDER))


def mix_table(res, mode, threads, lines):
    want = dict(mode=mode, threads=threads, size="mix")
    impls = alloc_impls(res, **want)
    if not impls:
        return
    ref = res.one("alloc", impl="glibc", **want)
    floor = res.one("alloc", impl="bump", **want)
    blocks = dict(res.one("alloc", impl=impls[0], **want)).get("blocks")
    lines.append(f"\n**{mode}, {threads} thread{'s' if threads > 1 else ''}** ({blocks} blocks)\n")
    lines.append("| impl | ns/alloc (wall) | spread | CPU ns/alloc | time ÷ glibc (wall) | time ÷ glibc (CPU) "
                 "| time ÷ bump (CPU) | faults/alloc | reserved / requested |")
    lines.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for impl in impls:
        k = res.one("alloc", impl=impl, **want)
        lines.append(
            f"| {impl} | {fmt(res.median(k, 'ns_per_alloc'))} | {fmt_spread(res.spread(k, 'ns_per_alloc'))} "
            f"| {fmt(res.median(k, 'cpu_ns_per_alloc'))} "
            f"| {fmt_ratio(res.ratio(k, ref, 'ns_per_alloc'))} | {fmt_ratio(res.ratio(k, ref, 'cpu_ns_per_alloc'))} "
            f"| {fmt_ratio(res.ratio(k, floor, 'cpu_ns_per_alloc'))} "
            f"| {fmt(res.median(k, 'faults_per_alloc'), 3)} "
            f"| {fmt(res.median(k, 'reserved_ratio'), 2) if mode == 'fresh' else 'n/a'} |")


TWO_CORES = 1.7  # parallelism at or above which a 2-thread run really had two cores
# Fresh allocation is judged against the floor: nothing that hands out fresh
# 4 KiB pages can beat an inlined bump that populates all of them in one call
# (docs/benchmarks.md, "Fresh allocation and the floor").
FRESH_FLOOR = 1.25


def scaling(res, impl, mode, size="mix"):
    """Throughput with 2 threads over 1 thread, paired per repetition: over all
    repetitions, and over those whose 2-thread run really had two cores at
    once (its parallelism, thread CPU time over wall time, >= TWO_CORES)."""
    group = "mix" if size == "mix" else "contention"
    k1 = res.one("alloc", impl=impl, mode=mode, threads=1, size=size, set=group)
    k2 = res.one("alloc", impl=impl, mode=mode, threads=2, size=size, set=group)
    if k1 is None or k2 is None:
        return None
    ns1, ns2 = res.reps(k1, "ns_per_alloc"), res.reps(k2, "ns_per_alloc")
    cpu1, cpu2 = res.reps(k1, "cpu_ns_per_alloc"), res.reps(k2, "cpu_ns_per_alloc")
    par = res.reps(k2, "parallelism")
    reps = [r for r in ns1 if r in ns2]
    good = [r for r in reps if par.get(r, 0) >= TWO_CORES]
    med = lambda xs: statistics.median(xs) if xs else None
    return {
        "all": med([ns1[r] / ns2[r] for r in reps]),
        "good": med([ns1[r] / ns2[r] for r in good]),
        "n": len(reps), "n_good": len(good),
        "cpu": med([cpu2[r] / cpu1[r] for r in (good or reps) if r in cpu1 and r in cpu2]),
        "par": med(list(par.values())),
    }


def threads_table(res, lines, size="mix", modes=("fresh", "warm")):
    lines.append("| impl | mode | 1 thread ns/alloc | 2 threads ns/alloc | speed-up, all reps "
                 f"| reps with two cores | speed-up on those | CPU per alloc, 2 vs 1 thread | parallelism |")
    lines.append("|---|---|---:|---:|---:|---:|---:|---:|---:|")
    for mode in modes:
        group = "mix" if size == "mix" else "contention"
        for impl in alloc_impls(res, mode=mode, size=size, set=group):
            k1 = res.one("alloc", impl=impl, mode=mode, threads=1, size=size, set=group)
            k2 = res.one("alloc", impl=impl, mode=mode, threads=2, size=size, set=group)
            sc = scaling(res, impl, mode, size)
            if sc is None:
                continue
            lines.append(f"| {impl} | {mode} | {fmt(res.median(k1, 'ns_per_alloc'))} "
                         f"| {fmt(res.median(k2, 'ns_per_alloc'))} | {fmt_ratio(sc['all'])} "
                         f"| {sc['n_good']} of {sc['n']} | {fmt_ratio(sc['good'])} | {fmt_ratio(sc['cpu'])} "
                         f"| {fmt(sc['par'], 2)} |")


def sweep_sizes(res, mode):
    sizes = {int(dict(k)["size"]) for k in res.find("alloc", mode=mode, threads=1, set="sweep")}
    return sorted(sizes)


def sweep_table(res, mode, lines):
    sizes = sweep_sizes(res, mode)
    if not sizes:
        return
    impls = alloc_impls(res, mode=mode, threads=1, set="sweep")
    lines.append(f"\n**{mode}**: CPU ns per allocation (wall in parentheses), by block size\n")
    lines.append("| size | " + " | ".join(impls) + " | glibc time ÷ ilheap time (CPU) |")
    lines.append("|---:|" + "---:|" * (len(impls) + 1))
    for s in sizes:
        cells = []
        for i in impls:
            k = res.one("alloc", impl=i, mode=mode, threads=1, size=s, set="sweep")
            cells.append(f"{fmt(res.median(k, 'cpu_ns_per_alloc'))} ({fmt(res.median(k, 'ns_per_alloc'))})")
        r = res.ratio(res.one("alloc", impl="glibc", mode=mode, threads=1, size=s, set="sweep"),
                      res.one("alloc", impl="ilheap", mode=mode, threads=1, size=s, set="sweep"), "cpu_ns_per_alloc")
        lines.append(f"| {s} | " + " | ".join(cells) + f" | {fmt_ratio(r)} |")


CREATE_VARIANTS = [("image", "1", "module = this program, default (populate)"),
                   ("image", "0", "module = this program, ILHEAP_NO_POPULATE"),
                   ("crowded", "1", "module with a mapping right above it (maps scan), default")]


def create_counts(res):
    return sorted({int(dict(k)["mappings"]) for k in res.find("create")})


def create_table(res, lines):
    counts = create_counts(res)
    if not counts:
        return
    lines.append("| extra mappings | " + " | ".join(v[2] for v in CREATE_VARIANTS) + " |")
    lines.append("|---:|" + "---:|" * len(CREATE_VARIANTS))
    base = {v: res.one("create", mappings=counts[0], base=v[0], populate=v[1]) for v in CREATE_VARIANTS}
    for c in counts:
        cells = []
        for v in CREATE_VARIANTS:
            k = res.one("create", mappings=c, base=v[0], populate=v[1])
            r = res.ratio(k, base[v], "us_per_heap")
            cells.append(f"{fmt(res.median(k, 'us_per_heap'))} µs {fmt_spread(res.spread(k, 'us_per_heap'))}"
                         + (f" ({fmt_ratio(r)} of {counts[0]})" if c != counts[0] else ""))
        lines.append(f"| {c:,} | " + " | ".join(cells) + " |")


KNOWN_KINDS = {"alloc", "create", "lookup", "scan", "rehome", "profiler", "rewrite", "coverage"}


def generic_tables(res, lines, declared):
    """A table per kind no section shows (a results file without a section
    declaration still appears)."""
    kinds = sorted({dict(k)["kind"] for k in res.values} - KNOWN_KINDS - declared)
    if kinds:
        lines.append("\n## Other results\n")
    for kind in kinds:
        keys = res.find(kind)
        metrics = sorted({m for k in keys for m in res.values[k]})
        lines.append(f"\n**{kind}**\n")
        lines.append("| measurement | " + " | ".join(metrics) + " |")
        lines.append("|---|" + "---:|" * len(metrics))
        for k in keys:
            name = " ".join(f"{a}={b}" for a, b in k if a != "kind")
            lines.append(f"| {name} | " + " | ".join(
                f"{fmt(res.median(k, m), 2)} {fmt_spread(res.spread(k, m))}" for m in metrics) + " |")


def paired(res, key_a, key_b, metric, op=None):
    """a / b (or op(a, b)) for every repetition both keys have: they ran back
    to back."""
    a, b = res.reps(key_a, metric), res.reps(key_b, metric)
    if op is None:
        return [a[r] / b[r] for r in a if r in b and b[r]]
    return [op(a[r], b[r]) for r in a if r in b]


def median_ci(values, level=0.95):
    """A distribution-free confidence interval for the median (order
    statistics, binomial): (low, high, coverage). With few values the
    coverage reached is below the level asked; it is returned so the report
    can say so."""
    from math import comb
    xs = sorted(values)
    n = len(xs)
    if n < 2:
        return None
    tail = lambda k: sum(comb(n, i) for i in range(k)) / 2 ** n  # P(X < k), X ~ Bin(n, 1/2)
    k = 1
    while k + 1 <= n // 2 and tail(k + 1) <= (1 - level) / 2:
        k += 1
    return xs[k - 1], xs[n - k], 1 - 2 * tail(k)


# ---------------------------------------------------------------- scan / rehome

SCAN_ROWS = [("scan", dict(impl="ilheap"), "`ilheap scan` (ilheap's PE reader and body decoder)"),
             ("scan", dict(impl="srm"), "System.Reflection.Metadata (`PEReader.GetMethodBody`, tests/pe/SrmDump)"),
             ("rehome", dict(impl="ilheap", prologue=0),
              "`ilheap rehome`: each body re-encoded into the module's heap, decoded again and checked"),
             ("rehome", dict(impl="ilheap", prologue=4), "`ilheap rehome --prologue 4` (4 `nop`s inserted, EH shifted)")]


def scan_checksums_agree(res):
    """None without both sides; else whether every repetition's checksums
    (max stack + code size + body size + clauses, over all passes) agree."""
    il, srm = res.one("scan", impl="ilheap"), res.one("scan", impl="srm")
    if il is None or srm is None:
        return None
    a, b = res.reps(il, "checksum"), res.reps(srm, "checksum")
    return all(a[r] == b[r] for r in a if r in b) and bool(set(a) & set(b))


def scan_section(res, lines):
    il, srm = res.one("scan", impl="ilheap"), res.one("scan", impl="srm")
    if il is None:
        return
    d = dict(il)
    lines.append("\n## `scan` and `rehome` against System.Reflection.Metadata\n")
    lines.append(
        f"`bench/scan.sh`: System.Private.CoreLib.dll of the newest runtime, {int(d.get('bodies', 0)):,} method "
        "bodies. The programs run interleaved, one after the other in every repetition; each line is that "
        f"program's best pass over an image already in memory and opened once ({d.get('passes')} passes for "
        "`scan` and SRM, fewer for `rehome`), so SRM runs tiered-up code and neither side pays for process or "
        "JIT start-up. Both scan sides do the same reading (every MethodDef row, the has-IL test, RVA to the "
        "body's bytes, header and exception clauses decoded) and print a checksum over it. `rehome` does much "
        "more per body (encode into the heap, decode again, compare), so its ratio to SRM is a figure, not a "
        "target. Ratios are per repetition, their median reported, the range over repetitions beside it.\n")
    lines.append("| program | ns per body | spread | bodies per second | time per body ÷ SRM's (range) |")
    lines.append("|---|---:|---:|---:|---:|")
    for kind, want, label in SCAN_ROWS:
        k = res.one(kind, **want)
        if k is None:
            continue
        rs = paired(res, k, srm, "ns_per_body") if srm is not None and k != srm else []
        rng = f" ({min(rs):.2f}–{max(rs):.2f})" if len(rs) > 1 else ""
        lines.append(f"| {label} | {fmt(res.median(k, 'ns_per_body'))} | {fmt_spread(res.spread(k, 'ns_per_body'))} "
                     f"| {fmt(res.median(k, 'bodies_per_s'))} "
                     f"| {'reference' if k == srm else (fmt_ratio(statistics.median(rs)) if rs else '–') + rng} |")
    agree = scan_checksums_agree(res)
    if agree is not None:
        lines.append("\nChecksums: " + ("equal in every repetition (both sides read the same fields of the same "
                                        "bodies)." if agree else "**they differ**: the two sides did not read "
                                        "the same; the ratio is not a fair comparison."))


def scan_target(res):
    what = "`scan`: at least 5x faster per body than System.Reflection.Metadata"
    il, srm = res.one("scan", impl="ilheap"), res.one("scan", impl="srm")
    if il is None:
        return (what, "not measured: bench_bodies or bench/scan.sh missing", "–")
    if srm is None:
        return (what, "not measured: no .NET SDK to build the System.Reflection.Metadata side", "–")
    rs = paired(res, srm, il, "ns_per_body")
    r = statistics.median(rs) if rs else None
    fig = (f"{fmt_ratio(r)} faster per body (median of {len(rs)} paired repetitions, range "
           f"{min(rs):.2f}–{max(rs):.2f}x): {fmt(res.median(il, 'ns_per_body'))} against "
           f"{fmt(res.median(srm, 'ns_per_body'))} ns per body, CoreLib") if rs else "–"
    if scan_checksums_agree(res) is False:
        return (what, fig + "; checksums differ, so not the same reading", "not assessed")
    return (what, fig, "–" if r is None else ("met" if r >= 5 else "**MISSED**"))


# ---------------------------------------------------------------- IL rewriter against Mono.Cecil

REWRITE_ROWS = [("ilheap", "roundtrip", "ilheap: decode to instructions, encode unchanged into the module's heap"),
                ("cecil", "roundtrip", "Cecil: read every body to instructions, write the module"),
                ("cecil", "read", "Cecil: read every body to instructions (no write)"),
                ("cecil", "untouched", "Cecil: write the module without loading a body"),
                ("ilheap", "blocks", "ilheap: a counter probe at every basic block, encoded into the heap"),
                ("cecil", "blocks", "Cecil: the same probes (coverlet's retargeting), write the module")]


def rewrite_pairs(res, op):
    """Per repetition: Cecil's full time / ilheap's, and Cecil's time beyond
    writing the untouched module / ilheap's (the conservative figure)."""
    il, ce, un = (res.one("rewrite", impl="ilheap", op=op), res.one("rewrite", impl="cecil", op=op),
                  res.one("rewrite", impl="cecil", op="untouched"))
    if il is None or ce is None:
        return [], []
    full = paired(res, ce, il, "ns_per_body")
    a, b, u = res.reps(ce, "ns_per_body"), res.reps(il, "ns_per_body"), res.reps(un, "ns_per_body") if un else {}
    marginal = [(a[r] - u[r]) / b[r] for r in a if r in b and r in u and b[r]]
    return full, marginal


def rewrite_probes_agree(res):
    il, ce = res.one("rewrite", impl="ilheap", op="blocks"), res.one("rewrite", impl="cecil", op="blocks")
    if il is None or ce is None:
        return None
    a, b = res.reps(il, "probes"), res.reps(ce, "probes")
    return all(a[r] == b[r] for r in a if r in b) and bool(set(a) & set(b))


def rewrite_section(res, lines):
    if not res.find("rewrite"):
        return
    d = dict(res.find("rewrite")[0])
    lines.append("\n## IL rewriter against Mono.Cecil\n")
    lines.append(
        f"`bench/rewrite.sh`: System.Private.CoreLib.dll of the newest runtime, {int(d.get('bodies', 0)):,} method "
        "bodies; ilheap (`bench_bodies rehome --instrument none|blocks`, the rewrite alone; with the edge check "
        "in the last column) and Cecil (bench/cecil) run one after the other in every repetition, each line its "
        "program's best pass. Cecil has no per-body writer: its bodies are written by writing the whole module, "
        "so its round trip is timed as read + `ModuleDefinition.Write`, and the cost of writing the module "
        "without touching a body is shown too. *÷ ilheap (full)*: Cecil's time per body over ilheap's; "
        "*(beyond untouched)*: Cecil's time minus its untouched write, over ilheap's, a lower bound that "
        "charges Cecil nothing for the rest of the module. Ratios per repetition, median (range).\n")
    lines.append("| program | ns per body | spread | ilheap checked ns per body | ÷ ilheap (full) | "
                 "÷ ilheap (beyond untouched) |")
    lines.append("|---|---:|---:|---:|---:|---:|")
    for impl, op, label in REWRITE_ROWS:
        k = res.one("rewrite", impl=impl, op=op)
        if k is None:
            continue
        full, marginal = rewrite_pairs(res, op) if impl == "cecil" and op in ("roundtrip", "blocks") else ([], [])
        cell = lambda rs: (f"{fmt_ratio(statistics.median(rs))} ({min(rs):.1f}–{max(rs):.1f})" if rs else "")
        lines.append(f"| {label} | {fmt(res.median(k, 'ns_per_body'))} | {fmt_spread(res.spread(k, 'ns_per_body'))} "
                     f"| {fmt(res.median(k, 'checked_ns_per_body')) if impl == 'ilheap' else ''} "
                     f"| {cell(full)} | {cell(marginal)} |")
    agree = rewrite_probes_agree(res)
    if agree is not None:
        lines.append("\nProbes: " + ("the same count on both sides in every repetition (the same block starts)."
                                     if agree else "**the counts differ**: the two sides did not instrument the "
                                     "same blocks."))


def rewrite_target(res):
    what = "IL rewriter: at least 20x Mono.Cecil's throughput per body (round trip, probes at every block)"
    parts, ok = [], []
    for op in ("roundtrip", "blocks"):
        full, marginal = rewrite_pairs(res, op)
        if not full:
            continue
        r = statistics.median(full)
        m = statistics.median(marginal) if marginal else None
        parts.append(f"{op}: {fmt_ratio(r)} (beyond Cecil's untouched module write: {fmt_ratio(m)})")
        ok.append(r >= 20)
    if not parts:
        return (what, "not measured: bench/rewrite.sh, bench_bodies or the Cecil side missing", "–")
    if rewrite_probes_agree(res) is False:
        return (what, "; ".join(parts) + "; probe counts differ", "not assessed")
    return (what, "; ".join(parts) + " (median of paired repetitions, CoreLib)", "met" if all(ok) else "**MISSED**")


# ---------------------------------------------------------------- line coverage against coverlet

COV_VARIANTS = [("none", "no coverage"), ("coverlet", "coverlet (`--collect:\"XPlat Code Coverage\"`)"),
                ("ilheap", "ilheap: profiler `blocks` + `ilheap cover`")]


def coverage_overheads(res):
    """Per repetition: (coverlet's overhead, ilheap's) over no coverage."""
    keys = {v: res.one("coverage", variant=v) for v, _ in COV_VARIANTS}
    if None in keys.values():
        return []
    n, c, i = (res.reps(keys[v], "wall_ms") for v in ("none", "coverlet", "ilheap"))
    return [(c[r] / n[r] - 1, i[r] / n[r] - 1) for r in n if r in c and r in i and n[r]]


def coverage_section(res, lines):
    if not res.find("coverage"):
        return
    lines.append("\n## Line coverage against coverlet\n")
    lines.append("`bench/coverage.sh --runs`: `dotnet test --no-build` of tests/coverage/Shop.Tests (45 xunit "
                 "tests) with no coverage, with coverlet.collector, and under the profiler in `blocks` mode "
                 "followed by `ilheap cover` (its time included), interleaved with the order rotated.\n")
    lines.append("| variant | wall ms (median) | spread |")
    lines.append("|---|---:|---:|")
    for v, label in COV_VARIANTS:
        k = res.one("coverage", variant=v)
        if k is not None:
            lines.append(f"| {label} | {fmt(res.median(k, 'wall_ms'), 0)} | {fmt_spread(res.spread(k, 'wall_ms'))} |")
    k = res.one("coverage", variant="ilheap")
    if k is not None and res.median(k, "cover_ms") is not None:
        lines.append(f"\n`ilheap cover` itself: {fmt(res.median(k, 'cover_ms'), 0)} ms (median).")


def coverage_target(res):
    what = "line coverage: ilheap's overhead on `dotnet test` at most half of coverlet's"
    o = coverage_overheads(res)
    if not o:
        return (what, "not measured: bench/coverage.sh, dotnet or the profiler missing", "–")
    share = statistics.median([i / c for c, i in o if c > 0])
    return (what, f"coverlet +{statistics.median([c for c, _ in o]) * 100:.0f}%, ilheap "
                  f"+{statistics.median([i for _, i in o]) * 100:.0f}%: {share:.2f} of coverlet's "
                  "(median of paired repetitions)", "met" if share <= 0.5 else "**MISSED**")


# ---------------------------------------------------------------- profiler in the real runtime

PROF_VARIANTS = [("none", "no profiler"), ("off", "profiler loaded, observing only (`ILHEAP_MODE=off`)"),
                 ("clr", "rewriting every method, runtime's allocator"), ("ilheap", "rewriting every method, ilheap")]
PROF_WORKLOADS = [("startup", "start-up (`ProfTest --startup`: the runtime up and `Main` reached)"),
                  ("proftest", "the profiler test program (EH, generics, async, threads, 100 collectible contexts)"),
                  ("csc", "the C# compiler (Roslyn, from the SDK) compiling the test program's source")]


def prof_derive(res):
    """Per-run figures computed from each run's own report: the time all
    Alloc calls took (ms), and the mean of all but each module's first."""
    for key in res.find("profiler"):
        v = res.values[key]
        for rep, mean in list(v.get("alloc_ns_mean", {}).items()):
            n = v.get("allocations", {}).get(rep)
            firsts = v.get("first_allocs", {}).get(rep)
            first_us = v.get("first_alloc_us", {}).get(rep)
            if not n:
                continue
            v["alloc_total_ms"][rep] = mean * n / 1e6
            if firsts is not None and first_us is not None and n > firsts:
                v["rest_ns_mean"][rep] = (mean * n - first_us * 1000 * firsts) / (n - firsts)


def prof_workloads(res):
    present = {dict(k)["workload"] for k in res.find("profiler")}
    return [w for w, _ in PROF_WORKLOADS if w in present] + sorted(present - {w for w, _ in PROF_WORKLOADS})


def prof_section(res, lines):
    workloads = prof_workloads(res)
    if not workloads:
        return
    lines.append("\n## The profiler in the real runtime\n")
    lines.append(
        "`bench/profiler/run.sh --runs` (docs/profiler.md): the profiler (`profiler/`, loaded by CoreCLR with "
        "`CORECLR_PROFILER_PATH`) with ReadyToRun disabled, so that the framework's methods are JIT-compiled and "
        "pass through it (`none` runs with `DOTNET_ReadyToRun=0` for the same JIT volume). In every repetition "
        "the four variants run one after the other, in an order rotated each repetition. Wall time is the "
        "whole `dotnet` process, median over the runs (min..max). The allocation figures are the profiler's "
        "own, measured around every `Alloc` call in the process (two `clock_gettime` calls, ~20-40 ns, "
        "included in both allocators' figures): the mean over all calls, the mean of all but each module's "
        "first call (`rest`), the p50/p99 of those from a histogram with about 19% resolution, and the first "
        "call per module, where ilheap places the heap's first chunk. A window violation is a body installed "
        "outside `base < p`, `p + size <= base + 2 GiB`. Ratios are per repetition, their median reported.\n")
    labels = dict(PROF_WORKLOADS)
    for w in workloads:
        none = res.one("profiler", workload=w, alloc="none")
        n = max((len(res.reps(k, "wall_ms")) for k in res.find("profiler", workload=w)), default=0)
        lines.append(f"\n**{labels.get(w, w)}**, {n} runs per variant\n")
        lines.append("| variant | wall ms (min..max) | ÷ none | methods seen / rewritten | `Alloc` calls "
                     "| ns per `Alloc`, mean | mean, rest | p50 / p99, rest | first per module (count) "
                     "| window violations | `Alloc` NULL |")
        lines.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        for a, label in PROF_VARIANTS:
            k = res.one("profiler", workload=w, alloc=a)
            if k is None:
                continue
            walls = list(res.reps(k, "wall_ms").values())
            wall = f"{fmt(res.median(k, 'wall_ms'), 0)} ({fmt(min(walls), 0)}..{fmt(max(walls), 0)})" if walls else "–"
            ratio = fmt_ratio(res.ratio(k, none, "wall_ms")) if a != "none" else ""
            seen = res.median(k, "methods_seen")
            rew = res.median(k, "rewritten")
            cells = [f"{label}", wall, ratio,
                     "" if seen is None else f"{fmt(seen, 0)} / {fmt(rew, 0) if rew is not None else '–'}"]
            if a in ("clr", "ilheap"):
                viol = res.median(k, "window_violations")
                allocs = res.median(k, "allocations")
                pct = f" ({viol / allocs * 100:.0f}%)" if viol is not None and allocs else ""
                cells += [fmt(allocs, 0), fmt(res.median(k, "alloc_ns_mean")), fmt(res.median(k, "rest_ns_mean")),
                          f"{fmt(res.median(k, 'alloc_rest_ns_p50'), 0)} / {fmt(res.median(k, 'alloc_rest_ns_p99'), 0)}",
                          f"{fmt(res.median(k, 'first_alloc_us'))} µs ({fmt(res.median(k, 'first_allocs'), 0)})",
                          f"{fmt(viol, 0)}{pct}", fmt(res.median(k, "alloc_failed"), 0)]
            else:
                cells += [""] * 7
            lines.append("| " + " | ".join(cells) + " |")
        clr, il = res.one("profiler", workload=w, alloc="clr"), res.one("profiler", workload=w, alloc="ilheap")
        if clr is not None and il is not None:
            lines.append(
                f"\nilheap ÷ runtime's allocator, per repetition: mean {fmt_ratio(res.ratio(il, clr, 'alloc_ns_mean'))}, "
                f"mean of the rest {fmt_ratio(res.ratio(il, clr, 'rest_ns_mean'))}, p50 "
                f"{fmt_ratio(res.ratio(il, clr, 'alloc_rest_ns_p50'))}, p99 "
                f"{fmt_ratio(res.ratio(il, clr, 'alloc_rest_ns_p99'))}; all `Alloc` calls of a run took "
                f"{fmt(res.median(il, 'alloc_total_ms'), 2)} ms with ilheap, "
                f"{fmt(res.median(clr, 'alloc_total_ms'), 2)} ms with the runtime's allocator.")
            failed = res.reps(il, "alloc_failed")
            if any(failed.values()):
                lines.append(
                    f"\n**ilheap's `Alloc` returned NULL** in {sum(1 for v in failed.values() if v)} of {len(failed)} "
                    f"runs ({fmt(min(failed.values()), 0)}..{fmt(max(failed.values()), 0)} calls per run): a module's "
                    "heap found no more room inside its window, and those methods kept their original bodies "
                    "(the profiler's report names the module: `module_alloc_failed=`). The profiler does not time "
                    "failed calls, so they are not in the ns figures above.")


def prof_pairs(res):
    """(workload, ilheap key, runtime allocator key) for every workload with both."""
    out = []
    for w in prof_workloads(res):
        clr, il = res.one("profiler", workload=w, alloc="clr"), res.one("profiler", workload=w, alloc="ilheap")
        if clr is not None and il is not None:
            out.append((w, il, clr))
    return out


def prof_first_alloc_figure(res):
    """Each module's first Alloc, where ilheap places the module's heap: a
    figure, reported apart from the later calls."""
    what = "in the real runtime: each module's first `Alloc` (ilheap places the heap; no target, a figure)"
    parts = [f"{w} {fmt(res.median(il, 'first_alloc_us'))} vs {fmt(res.median(clr, 'first_alloc_us'))} µs "
             f"({fmt(res.median(il, 'first_allocs'), 0)} modules)" for w, il, clr in prof_pairs(res)]
    if not parts:
        return (what, "not measured: no profiler runs (profiler library or dotnet missing)", "–")
    return (what, "ilheap vs the runtime's allocator, median per module: " + "; ".join(parts), "–")


def prof_later_alloc_target(res):
    what = ("in the real runtime: later `Alloc` calls (all but each module's first) at most half the runtime's "
            "own allocator's, mean ns")
    parts, oks = [], []
    for w, il, clr in prof_pairs(res):
        r = res.ratio(il, clr, "rest_ns_mean")
        if r is None:
            continue
        oks.append(r <= 0.5)
        parts.append(f"{w} {fmt_ratio(r)} ({fmt(res.median(il, 'rest_ns_mean'), 0)} vs "
                     f"{fmt(res.median(clr, 'rest_ns_mean'), 0)} ns; p50 "
                     f"{fmt_ratio(res.ratio(il, clr, 'alloc_rest_ns_p50'))}, p99 "
                     f"{fmt_ratio(res.ratio(il, clr, 'alloc_rest_ns_p99'))})")
    if not oks:
        return (what, "not measured: no profiler runs (profiler library or dotnet missing)", "–")
    fig = "ilheap ÷ the runtime's allocator, per repetition: " + "; ".join(parts)
    failing = [w for w, il, _ in prof_pairs(res) if any(res.reps(il, "alloc_failed").values())]
    if failing:
        fig += (". Calls where ilheap returned NULL (in " + ", ".join(failing) + ": see the profiler section) "
                "are not timed")
    return (what, fig, "met" if all(oks) else "**MISSED**")


def prof_startup_target(res):
    what = "in the real runtime: no measurable start-up cost of ilheap over the runtime's allocator"
    clr, il = res.one("profiler", workload="startup", alloc="clr"), res.one("profiler", workload="startup", alloc="ilheap")
    diffs = paired(res, il, clr, "wall_ms", op=lambda a, b: a - b) if clr is not None and il is not None else []
    if len(diffs) < 2:
        return (what, "not measured: no start-up runs of the profiler", "–")
    med = statistics.median(diffs)
    lo, hi, cover = median_ci(diffs)
    direct = paired(res, il, clr, "alloc_total_ms", op=lambda a, b: a - b)
    direct_text = (f"; measured inside the process, all of ilheap's `Alloc` calls took "
                   f"{statistics.median(direct):+.2f} ms more per run than the runtime's "
                   f"({statistics.median(direct) / res.median(clr, 'wall_ms') * 100:+.2f}% of start-up)"
                   if direct and res.median(clr, "wall_ms") else "")
    fig = (f"'measurable' = the {cover * 100:.0f}% confidence interval of the median paired difference (ilheap − "
           f"runtime's allocator, the two run back to back, {len(diffs)} pairs) lies above zero. Start-up "
           f"{fmt(res.median(il, 'wall_ms'), 0)} vs {fmt(res.median(clr, 'wall_ms'), 0)} ms; difference "
           f"{med:+.0f} ms, interval {lo:+.0f}..{hi:+.0f} ms (the resolution of this run: a cost much below "
           f"{(hi - lo) / 2:.0f} ms could not show){direct_text}")
    return (what, fig, "met" if lo <= 0 else "**MISSED**")


def prof_window_figure(res):
    parts = []
    for w in prof_workloads(res):
        il, clr = res.one("profiler", workload=w, alloc="ilheap"), res.one("profiler", workload=w, alloc="clr")
        if il is None:
            continue
        iv, ia = res.reps(il, "window_violations"), res.reps(il, "allocations")
        cv, ca = res.reps(clr, "window_violations"), res.reps(clr, "allocations")
        nulls = sum(res.reps(il, "alloc_failed").values())
        parts.append(f"{w}: ilheap {fmt(sum(iv.values()), 0)} of {fmt(sum(ia.values()), 0)} bodies"
                     + (f" (and {fmt(nulls, 0)} `Alloc` calls NULL: no room left in the window)" if nulls else "")
                     + f", runtime's allocator {fmt(sum(cv.values()), 0)} of {fmt(sum(ca.values()), 0)}")
    if not parts:
        return None
    return ("window violations in the real runtime, all runs (a figure: ilheap must have none)",
            "; ".join(parts), "–")


# ---------------------------------------------------------------- targets

def verdict(ok):
    return "–" if ok is None else ("met" if ok else "**MISSED**")


def alloc_targets(res):
    """bench_alloc's targets: allocation against the floor and the other
    allocators, threads, address space, and the COM and registry figures."""
    rows = []

    def k(impl, mode, threads=1):
        return res.one("alloc", impl=impl, mode=mode, threads=threads, size="mix")

    il_f, bump_f = k("ilheap", "fresh"), k("bump", "fresh")
    cpu = res.ratio(il_f, bump_f, "cpu_ns_per_alloc")
    wall = res.ratio(il_f, bump_f, "ns_per_alloc")
    rows.append((f"fresh: ilheap within {FRESH_FLOOR}x of the floor (an inlined bump that populates its memory "
                 "in one call)", f"{fmt_ratio(cpu)} of bump (CPU), {fmt_ratio(wall)} (wall)",
                 verdict(None if cpu is None else cpu <= FRESH_FLOOR)))
    huge_f = k("ilheap-huge", "fresh")
    if huge_f is not None:
        rows.append(("fresh, with the opt-in ILHEAP_HUGE_PAGES (no target, a figure)",
                     f"{fmt_ratio(res.ratio(huge_f, bump_f, 'cpu_ns_per_alloc'))} of bump (CPU)", "–"))
    for other in ("glibc", "mimalloc", "jemalloc"):
        o = k(other, "fresh")
        cpu = res.ratio(o, il_f, "cpu_ns_per_alloc")
        wall = res.ratio(o, il_f, "ns_per_alloc")
        rows.append((f"fresh: ilheap faster than {other}", f"{fmt_ratio(cpu)} (CPU), {fmt_ratio(wall)} (wall)",
                     verdict(None if cpu is None else cpu > 1)))
    il_w, bump_w = k("ilheap", "warm"), k("bump", "warm")
    cpu = res.ratio(il_w, bump_w, "cpu_ns_per_alloc")
    wall = res.ratio(il_w, bump_w, "ns_per_alloc")
    rows.append(("warm: ilheap within 2x of the inlined bump", f"{fmt_ratio(cpu)} of bump (CPU), "
                 f"{fmt_ratio(wall)} (wall)", verdict(None if cpu is None else cpu <= 2)))
    for mode, size in (("warm", "mix"), ("fresh", "mix"), ("warm", "16")):
        sc = scaling(res, "ilheap", mode, size)
        floor = scaling(res, "bump", mode, size)
        if sc is None:
            continue
        what = f"2 threads at least 1.6x the throughput of 1 thread ({mode}, {'IL-body sizes' if size == 'mix' else size + '-byte blocks'})"
        ceiling = f"bump (no sharing) {fmt_ratio(floor['good'])}" if floor else ""
        if sc["n_good"] == 0:
            rows.append((what, f"not assessable in this run: in no repetition did the two threads get two cores "
                         f"at once (median parallelism {fmt(sc['par'], 2)}); all reps {fmt_ratio(sc['all'])}; "
                         f"CPU per alloc {fmt_ratio(sc['cpu'])} of 1 thread", "not assessed"))
        else:
            rows.append((what, f"ilheap {fmt_ratio(sc['good'])} over the {sc['n_good']} of {sc['n']} reps with two "
                         f"cores (all reps {fmt_ratio(sc['all'])}); CPU per alloc {fmt_ratio(sc['cpu'])} of 1 thread; "
                         f"{ceiling}", verdict(sc["good"] >= 1.6)))
    space = res.median(il_f, "reserved_ratio")
    blocks = dict(il_f).get("blocks") if il_f else None
    note = "" if blocks in ("1000000", None) else f" (quick mode: {blocks} blocks, not a million)"
    rows.append(("address space reserved under 1.1x the bytes allocated, million-block run",
                 f"{fmt(space, 3)}x{note}", verdict(None if space is None else space < 1.1)))
    com_w = res.one("alloc", impl="ilheap-com", mode="warm", threads=1, size="mix")
    if com_w is not None:
        rows.append(("COM Alloc through the vtable (impl=ilheap-com; no target, a figure)",
                     f"warm: {fmt(res.median(com_w, 'cpu_ns_per_alloc'))} CPU ns/alloc, "
                     f"{fmt_ratio(res.ratio(com_w, il_w, 'cpu_ns_per_alloc'))} of the direct call; fresh: "
                     f"{fmt_ratio(res.ratio(k('ilheap-com', 'fresh'), il_f, 'cpu_ns_per_alloc'))} of the direct call", "–"))
    lk10, lk10k = res.one("lookup", modules=10, threads=1), res.one("lookup", modules=10000, threads=1)
    if lk10k is not None:
        rows.append(("registry lookup with 10,000 modules (no target, a figure)",
                     f"{fmt(res.median(lk10k, 'cpu_ns_per_lookup'))} CPU ns per lookup + Release, "
                     f"{fmt_ratio(res.ratio(lk10k, lk10, 'cpu_ns_per_lookup'))} of the cost with 10 modules", "–"))
    return rows


def create_targets(res):
    rows = []
    c1000 = res.one("create", mappings=1000, base="image", populate="1")
    med = res.median(c1000, "us_per_heap")
    c1000n = res.one("create", mappings=1000, base="image", populate="0")
    c1000c = res.one("create", mappings=1000, base="crowded", populate="1")
    rows.append(("heap creation under 20 µs median with 1,000 mappings",
                 f"{fmt(med)} µs (default); {fmt(res.median(c1000n, 'us_per_heap'))} µs with ILHEAP_NO_POPULATE; "
                 f"{fmt(res.median(c1000c, 'us_per_heap'))} µs when the probe fails (maps scan)",
                 verdict(None if med is None else med < 20)))
    for base, populate, label in CREATE_VARIANTS:
        pts = [(c, res.median(res.one("create", mappings=c, base=base, populate=populate), "us_per_heap"))
               for c in create_counts(res) if c > 0]
        pts = [(c, t) for c, t in pts if t is not None]
        if len(pts) < 2:
            continue
        # no faster than linear: from n to m mappings, time grows at most m/n times
        worst = max((t2 / t1) / (c2 / c1) for (c1, t1), (c2, t2) in zip(pts, pts[1:]))
        growth = ", ".join(f"{c:,}: {fmt(t)} µs" for c, t in pts)
        rows.append((f"heap creation grows no faster than linearly ({label})",
                     f"{growth}; worst step {worst:.2f}x linear", verdict(worst <= 1.0 + 0.25)))
    return rows


def targets(res, lines, quick, sections):
    rows = (alloc_targets(res) if res.find("alloc") else []) + (create_targets(res) if res.find("create") else [])
    rows.append(prof_first_alloc_figure(res))
    rows.append(prof_later_alloc_target(res))
    rows.append(prof_startup_target(res))
    window = prof_window_figure(res)
    if window:
        rows.append(window)
    rows.append(scan_target(res))
    rows.append(rewrite_target(res))
    rows.append(coverage_target(res))
    for section in sections:
        rows += section_file.targets(res, section, fmt_ratio)

    lines.append("| target | figure | verdict |")
    lines.append("|---|---|---|")
    for t, f, v in rows:
        lines.append(f"| {t} | {f} | {v} |")
    return rows


# ---------------------------------------------------------------- plots

def gnuplot(script):
    exe = shutil.which("gnuplot")
    if exe is None:
        return False
    r = subprocess.run([exe], input=script, text=True, capture_output=True, errors="replace")
    if r.returncode != 0:
        sys.stderr.write(r.stderr)
    return r.returncode == 0


COLORS = {"ilheap-huge": "#17becf", "ilheap": "#d62728", "ilheap-com": "#8c564b", "ilheap-tlab": "#ff7f0e", "ilheap-nopopulate": "#e377c2",
          "glibc": "#1f77b4", "mimalloc": "#2ca02c", "jemalloc": "#9467bd", "bump": "#000000"}


def series(data_dir, name, pts, title, style=""):
    """Writes the x y pairs (None values dropped) for gnuplot; returns the
    plot clause, or None when nothing is left."""
    pts = [(x, y) for x, y in pts if y]
    if not pts:
        return None
    path = os.path.join(data_dir, name + ".dat")
    with open(path, "w") as f:
        f.writelines(f"{x} {y}\n" for x, y in pts)
    impl = title.split()[0]
    color = f"lc rgb '{COLORS[impl]}'" if impl in COLORS else ""
    return f"'{path}' using 1:2 with linespoints {style} {color} title '{title}'"


def draw(out, settings, clauses, made):
    clauses = [c for c in clauses if c]
    term = "set terminal pngcairo noenhanced size 900,560 font 'DejaVu Sans,10'\n"
    if clauses and gnuplot(term + f"set output '{out}'\nset grid\n" + settings + "plot " + ", ".join(clauses) + "\n"):
        made.append(out)


def plots(res, plot_dir, data_dir):
    plot_dir, data_dir = os.path.abspath(plot_dir), os.path.abspath(data_dir)
    os.makedirs(plot_dir, exist_ok=True)
    os.makedirs(data_dir, exist_ok=True)
    made = []
    for mode in ("fresh", "warm"):
        sizes = sweep_sizes(res, mode)
        clauses = [series(data_dir, f"sweep_{mode}_{impl}", [
            (s, res.median(res.one("alloc", impl=impl, mode=mode, threads=1, size=s, set="sweep"), "cpu_ns_per_alloc"))
            for s in sizes], impl) for impl in alloc_impls(res, mode=mode, threads=1, set="sweep")]
        draw(os.path.join(plot_dir, f"alloc_vs_size_{mode}.png"),
             "set logscale xy 2\nset key top left\n"
             f"set title 'ns per allocation against block size ({mode}, 1 thread, CPU time, median)'\n"
             "set xlabel 'block size (bytes)'\nset ylabel 'ns per allocation (block written once)'\n",
             clauses, made)
    def thread_clauses(two_core_only):
        out = []
        for mode in ("fresh", "warm"):
            for impl in alloc_impls(res, mode=mode, size="mix"):
                one = res.median(res.one("alloc", impl=impl, mode=mode, threads=1, size="mix"), "ns_per_alloc")
                two = res.median(res.one("alloc", impl=impl, mode=mode, threads=2, size="mix"), "ns_per_alloc")
                sc = scaling(res, impl, mode)
                if not one:
                    continue
                if two_core_only:
                    # 1 thread's throughput times the speed-up measured on the
                    # repetitions that had two cores (the others say nothing)
                    second = 1000.0 / one * sc["good"] if sc and sc["good"] else None
                else:
                    second = 1000.0 / two if two else None
                if second:
                    out.append(series(data_dir, f"threads_{mode}_{impl}", [(1, 1000.0 / one), (2, second)],
                                      f"{impl} {mode}", "dt 1" if mode == "warm" else "dt 2"))
        return out

    clauses = thread_clauses(True)
    title = "2 threads: reps with two cores only"
    if not clauses:
        clauses = thread_clauses(False)
        title = "all reps: none had two cores"
    draw(os.path.join(plot_dir, "throughput_vs_threads.png"),
         "set key outside right\nset xtics 1\nset logscale y 2\n"
         f"set title 'throughput against threads, IL-body sizes, wall time ({title})'\n"
         "set xlabel 'threads'\nset ylabel 'million allocations per second'\n", clauses, made)
    clauses = [series(data_dir, f"create_{base}_{populate}", [
        (max(c, 10), res.median(res.one("create", mappings=c, base=base, populate=populate), "us_per_heap"))
        for c in create_counts(res)], label) for base, populate, label in CREATE_VARIANTS]
    if any(clauses):
        clauses.append("20 with lines dt 3 lc 'black' title 'target at 1,000 mappings: 20 µs'")
    draw(os.path.join(plot_dir, "create_vs_mappings.png"),
         "set logscale xy 10\nset key top left\n"
         "set title 'heap creation (create + first alloc + destroy), median'\n"
         "set xlabel 'extra mappings in the process (0 plotted at 10)'\nset ylabel 'µs per heap'\n",
         clauses, made)
    runtime_plot(res, plot_dir, data_dir, made)
    return made


def runtime_plot(res, plot_dir, data_dir, made):
    """Per-allocation cost in the real runtime: the runtime's allocator and
    ilheap side by side, per workload and statistic (log scale: the first
    call per module is 3 orders of magnitude above the rest)."""
    stats = [("alloc_rest_ns_p50", "p50"), ("alloc_rest_ns_p99", "p99"), ("rest_ns_mean", "mean w/o first"),
             ("alloc_ns_mean", "mean, all"), ("first_alloc_us", "first per module")]
    rows = []
    for w in prof_workloads(res):
        clr, il = res.one("profiler", workload=w, alloc="clr"), res.one("profiler", workload=w, alloc="ilheap")
        if clr is None or il is None:
            continue
        for metric, label in stats:
            scale = 1000.0 if metric == "first_alloc_us" else 1.0
            a, b = res.median(clr, metric), res.median(il, metric)
            if a and b:
                rows.append((f"{w}: {label}", a * scale, b * scale))
    if not rows or shutil.which("gnuplot") is None:
        return
    path = os.path.join(data_dir, "runtime_alloc.dat")
    with open(path, "w") as f:
        f.writelines(f'"{label}"\t{a}\t{b}\n' for label, a, b in rows)
    out = os.path.join(plot_dir, "runtime_alloc_cost.png")
    script = ("set terminal pngcairo noenhanced size 1000,600 font 'DejaVu Sans,10'\n"
              f"set output '{out}'\nset grid ytics\nset datafile separator '\\t'\n"
              "set style data histograms\nset style histogram clustered gap 1\n"
              "set style fill solid 0.85 border -1\nset boxwidth 0.9\n"
              "set logscale y 10\nset yrange [10:*]\nset format y '%.0f'\nset key top left\n"
              "set xtics rotate by 35 right scale 0\n"
              "set title 'cost of one IMethodMalloc::Alloc in the real runtime (median over runs; ReadyToRun off)'\n"
              "set ylabel 'ns per allocation (timer included)'\nset bmargin 8\nset lmargin 13\n"
              f"plot '{path}' using 2:xtic(1) title \"runtime's allocator\" lc rgb '{COLORS['glibc']}', "
              f"'' using 3 title 'ilheap' lc rgb '{COLORS['ilheap']}'\n")
    if gnuplot(script):
        made.append(out)


# ---------------------------------------------------------------- main

def header(args, res, L):
    m = machine_info()
    counts = [max(len(v) for v in res.values[k].values()) for k in res.values if res.values[k]]
    reps_text = (f"{min(counts)}" if counts and min(counts) == max(counts)
                 else f"{min(counts)} to {max(counts)}" if counts else "0")
    L.append("# ilheap benchmarks\n")
    L.append(f"Written by `bench/report.py` from the results of:\n\n```\n{args.command}\n```\n")
    L.append("What each figure means, how it is measured and what the figures say about the design: "
             "[docs/benchmarks.md](docs/benchmarks.md). The raw lines are in `bench/results/`.\n")
    if args.quick:
        L.append("**Quick mode**: fewer blocks and repetitions; a first look, not the reference figures.\n")
    L.append("## Machine\n")
    L.append(f"- CPU: {m['cpu']} ({m['cores']} logical CPUs), memory {m['memory']}")
    L.append(f"- kernel: Linux {m['kernel']}; {m['glibc']}; transparent huge pages: `{m['thp']}`")
    L.append(f"- mimalloc {m['versions']['libmimalloc-dev']}, jemalloc {m['versions']['libjemalloc-dev']} "
             f"(Debian packages), gnuplot {m['versions']['gnuplot-nox']}")
    if args.load:
        L.append(f"- load average: {args.load} (a shared machine: other engineers build and test on it)")
    L.append(f"- repetitions per measurement: {reps_text}; every figure is the median over them, spread = ±half "
             "the range (max − min) relative to the median; a ratio is computed per repetition (the two ran back "
             "to back) and its median given. Single-thread allocation targets are judged on CPU time.\n")


def summary(rows, L):
    """The short analysis: what the verdicts add up to."""
    judged = [r for r in rows if r[2] in ("met", "**MISSED**")]
    missed = [r for r in rows if "MISSED" in r[2]]
    unassessed = [r for r in rows if r[2] == "not assessed"]
    unmeasured = [r for r in rows if r[1].startswith("not measured")]
    L.append("## In short\n")
    L.append(f"{len(judged) - len(missed)} of {len(judged)} targets met in this run.\n")
    if missed:
        L.append("**Missed**: " + "; ".join(r[0] for r in missed) + ".\n")
    if unassessed:
        L.append("**Not assessed** (the run could not judge them, e.g. two threads never got two cores at "
                 "once): " + "; ".join(r[0] for r in unassessed) + ".\n")
    if unmeasured:
        L.append("**Not measured** (a program or runtime was missing): " + "; ".join(r[0] for r in unmeasured)
                 + ".\n")
    L.append("The reasons behind the figures (the floor of fresh memory, contention, where the real "
             "runtime's cost lies) are in docs/benchmarks.md, \"What the figures say\".\n")


def allocation_sections(res, L):
    L.append("## Allocation, IL-body sizes\n")
    L.append("Alloc-only, sizes like IL bodies (60% 2–63 bytes, 35% 64–511, 5% 512–8191, fixed seed), every "
             "block written once. **fresh**: the allocator's first use in a new process; **warm**: its memory "
             "resident (ilheap: `ilheap_heap_reserve` before the clock); **bump**: the floor, an inlined bump "
             "over an array populated in one call.\n")
    for mode in ("fresh", "warm"):
        for threads in (1, 2):
            mix_table(res, mode, threads, L)
    L.append("\n## Throughput against threads\n")
    L.append("Speed-up = throughput with 2 threads / with 1 thread, paired per repetition, judged only on "
             f"repetitions whose 2-thread run had parallelism ≥ {TWO_CORES} (thread CPU time over wall time: "
             "both threads really ran at once). *CPU per alloc, 2 vs 1 thread* above 1x: the threads slow each "
             "other down.\n")
    threads_table(res, L)
    if res.find("alloc", threads=2, set="contention"):
        L.append("\nThe same with every block 16 bytes, warm: the shared fast path at its most contended.\n")
        threads_table(res, L, size="16", modes=("warm",))
    L.append("\n## Block size sweep\n")
    for mode in ("fresh", "warm"):
        sweep_table(res, mode, L)
    L.append("\n## Heap creation against mappings\n")
    L.append("create + first allocation (64 bytes) + destroy, median of the rounds of one process that first "
             "made that many extra single-page mappings.\n")
    create_table(res, L)
    if res.find("alloc", mode="fresh", threads=1, size="mix"):
        L.append("\n## Address space reserved, fresh run, 1 thread\n")
        L.append("| impl | blocks | bytes requested | reserved (VmSize growth; ilheap: its statistics) | ratio |")
        L.append("|---|---:|---:|---:|---:|")
        for impl in alloc_impls(res, mode="fresh", threads=1, size="mix"):
            k = res.one("alloc", impl=impl, mode="fresh", threads=1, size="mix")
            L.append(f"| {impl} | {dict(k).get('blocks')} | {fmt(res.median(k, 'bytes'))} "
                     f"| {fmt(res.median(k, 'reserved'))} | {fmt(res.median(k, 'reserved_ratio'), 3)} |")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--results", action="append", required=True, help="a results file or a directory of them")
    ap.add_argument("--out", required=True)
    ap.add_argument("--plots", required=True)
    ap.add_argument("--data", default=None, help="where the plot data files go (default: a build dir)")
    ap.add_argument("--command", default="bench/run.sh")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--load", default="", help="load average before/after, as text")
    ap.add_argument("--hooks", default="", help="file with one line per driver that ran or did not: name: status")
    args = ap.parse_args()

    res = Results()
    sections = res.load(args.results)
    prof_derive(res)
    out_dir = os.path.dirname(os.path.abspath(args.out))
    plot_rel = os.path.relpath(os.path.abspath(args.plots), out_dir)
    made = plots(res, args.plots, args.data or os.path.join(os.path.abspath(args.plots), ".data"))

    L = []
    header(args, res, L)
    target_lines = []
    rows = targets(res, target_lines, args.quick, sections)
    summary(rows, L)
    L.append("## Targets\n")
    L += target_lines + [""]
    if res.find("alloc") or res.find("create"):
        allocation_sections(res, L)
    if args.hooks and os.path.exists(args.hooks):
        L.append("\n## What ran\n")
        with open(args.hooks) as f:
            L += [f"- {line.strip().removeprefix('- ')}" for line in f if line.strip()]
    scan_section(res, L)
    rewrite_section(res, L)
    prof_section(res, L)
    coverage_section(res, L)
    for section in sections:
        section_file.render(res, section, L, fmt, fmt_spread, fmt_ratio)
    generic_tables(res, L, {k for sec in sections for k in sec.kinds})
    if made:
        L.append("\n## Plots\n")
        L += [f"![{os.path.basename(p)}]({plot_rel}/{os.path.basename(p)})\n" for p in made]
    if res.problems:
        L.append("\n## Skipped or failed measurements\n")
        L += [f"- `{p}`" for p in res.problems]
    with open(args.out, "w") as f:
        f.write("\n".join(L) + "\n")
    print(f"report: {args.out}; plots: {', '.join(made) if made else 'none (gnuplot missing?)'}")
    for r in rows:
        print(f"target: {r[0]}: {r[1]}: {r[2]}")


if __name__ == "__main__":
    main()
