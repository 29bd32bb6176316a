"""A benchmark's own section of BENCHMARKS.md, declared in its results file.

A results file (bench/results/NAME.txt) may begin with `#` directives that
say how report.py shows its lines; then adding a benchmark to the report is
the file alone (docs/benchmarks.md, "Adding a benchmark"):

    # section: Signature decoding against System.Reflection.Metadata
    # command: bench/NAME.sh build/bench 5
    # about: one paragraph: what is timed, on what input, what a ratio means
    # columns: impl op              identity keys shown, in this order (default: all)
    # values: ns_per_sig            measured values shown (default: all)
    # ratio: ns_per_sig impl=srm    a column: value / the row differing only in impl=srm
    # target: 5x faster than SRM | ns_per_sig impl=srm / impl=ilheap >= 5
    sig impl=ilheap op=decode ns_per_sig=12.1 rep=0
    ...

A target compares two measurements of the section, paired by repetition:
the median over repetitions of METRIC(A) / METRIC(B), held against the
number; A and B are key=value lists (comma-separated) naming one
measurement each. Every other line is an ordinary `kind key=value ... rep=N`
result line.
"""
import operator
import os
import statistics

DIRECTIVES = ("section", "command", "about", "columns", "values", "ratio", "target")
COMPARE = {"<=": operator.le, ">=": operator.ge, "<": operator.lt, ">": operator.gt}


class Section:
    def __init__(self, path):
        self.path = path
        self.title = None
        self.command = ""
        self.about = []
        self.columns = []
        self.values = []
        self.ratio = None  # (metric, key, value)
        self.targets = []  # (text, metric, selector a, selector b, op, number)
        self.kinds = set()

    def directive(self, line):
        """Takes a `# name: value` line; False when it is not a directive."""
        name, sep, value = line.lstrip("#").strip().partition(":")
        if not sep or name.strip() not in DIRECTIVES:
            return False
        name, value = name.strip(), value.strip()
        if name == "section":
            self.title = value
        elif name == "command":
            self.command = value
        elif name == "about":
            self.about.append(value)
        elif name == "columns":
            self.columns = value.split()
        elif name == "values":
            self.values = value.split()
        elif name == "ratio":
            metric, _, sel = value.partition(" ")
            key, _, val = sel.strip().partition("=")
            self.ratio = (metric, key, val)
        elif name == "target":
            self.targets.append(parse_target(value, self.path))
        return True


def selector(text):
    return dict(part.split("=", 1) for part in text.split(",") if "=" in part)


def parse_target(value, path):
    text, _, rule = value.partition("|")
    words = rule.split()
    if len(words) != 6 or words[2] != "/" or words[4] not in COMPARE:
        raise SystemExit(f"{path}: target '{value}': want 'TEXT | METRIC A / B OP NUMBER'")
    return (text.strip(), words[0], selector(words[1]), selector(words[3]), words[4], float(words[5]))


def keys_of(res, section):
    return sorted((k for k in res.values if dict(k)["kind"] in section.kinds),
                  key=lambda k: [str(v) for _, v in k])


def find(res, section, sel):
    sel = dict(sel)
    kinds = [sel.pop("kind")] if "kind" in sel else sorted(section.kinds)
    for kind in kinds:
        key = res.one(kind, **sel)
        if key is not None:
            return key
    return None


def paired_ratios(res, a, b, metric):
    x, y = res.reps(a, metric), res.reps(b, metric)
    return [x[r] / y[r] for r in x if r in y and y[r]]


def ratio_cell(rs, fmt_ratio):
    if not rs:
        return ""
    return fmt_ratio(statistics.median(rs)) + (f" ({min(rs):.2f}–{max(rs):.2f})" if len(rs) > 1 else "")


def render(res, section, lines, fmt, fmt_spread, fmt_ratio):
    keys = keys_of(res, section)
    if not keys:
        return
    ident = section.columns or sorted({a for k in keys for a, _ in k if a != "kind"})
    values = section.values or sorted({m for k in keys for m in res.values[k]})
    lines.append(f"\n## {section.title}\n")
    intro = (f"`{section.command}`: " if section.command else "") + " ".join(section.about)
    if intro:
        lines.append(intro + " Median over repetitions, spread ±half the range; ratios per repetition, "
                     "their median (range).\n")
    head = ident + [f"{v} | spread" for v in values]
    if section.ratio:
        head.append(f"{section.ratio[0]} ÷ {section.ratio[1]}={section.ratio[2]}")
    lines.append("| " + " | ".join(head) + " |")
    lines.append("|" + "---|" * len(ident) + "---:|---:|" * len(values) + ("---:|" if section.ratio else ""))
    for k in keys:
        d = dict(k)
        cells = [d.get(a, "") for a in ident]
        cells += [f"{fmt(res.median(k, v), 2)} | {fmt_spread(res.spread(k, v))}" for v in values]
        if section.ratio:
            metric, key, val = section.ratio
            other = {a: b for a, b in k if a != "kind"}
            other[key] = val
            ref = res.one(d["kind"], **other)
            cells.append("reference" if ref == k else ratio_cell(paired_ratios(res, k, ref, metric), fmt_ratio)
                         if ref is not None else "")
        lines.append("| " + " | ".join(cells) + " |")


def targets(res, section, fmt_ratio):
    rows = []
    for text, metric, sel_a, sel_b, op, number in section.targets:
        a, b = find(res, section, sel_a), find(res, section, sel_b)
        rs = paired_ratios(res, a, b, metric) if a is not None and b is not None else []
        if not rs:
            rows.append((text, f"not measured: no paired {metric} in {os.path.basename(section.path)}", "–"))
            continue
        r = statistics.median(rs)
        rows.append((text, f"{fmt_ratio(r)} (median of {len(rs)} paired repetitions, range "
                           f"{min(rs):.2f}–{max(rs):.2f}x)",
                     "met" if COMPARE[op](r, number) else "**MISSED**"))
    return rows
