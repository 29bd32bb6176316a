#!/usr/bin/env python3
"""bench/report.py over a results file that declares its own section
(bench/section_file.py): the section, its ratio column and its target's
verdict appear in the report, a missed target reads MISSED, and a target
whose measurements are absent reads "not measured", never met.
Usage: test_report.py REPO WORKDIR"""
import os
import subprocess
import sys

repo, work = sys.argv[1], sys.argv[2]
os.makedirs(os.path.join(work, "results"), exist_ok=True)
lines = ["# section: Widgets against gadgets",
         "# command: bench/widgets.sh 3",
         "# about: the time per widget of two implementations.",
         "# columns: impl",
         "# values: ns_per_widget",
         "# ratio: ns_per_widget impl=gadget",
         "# target: widgets 2x faster than gadgets | ns_per_widget impl=gadget / impl=widget >= 2",
         "# target: widgets 10x faster than gadgets | ns_per_widget impl=gadget / impl=widget >= 10",
         "# target: sprockets measured | ns_per_widget impl=sprocket / impl=widget >= 1"]
for rep, (w, g) in enumerate([(10, 31), (11, 30), (9, 33)]):
    lines += [f"widget impl=widget ns_per_widget={w} rep={rep}", f"widget impl=gadget ns_per_widget={g} rep={rep}"]
with open(os.path.join(work, "results", "widgets.txt"), "w") as f:
    f.write("\n".join(lines) + "\n")
out = os.path.join(work, "BENCHMARKS.md")
env = dict(os.environ, PATH="/nonexistent")  # no gnuplot: the report without plots
run = subprocess.run([sys.executable, os.path.join(repo, "bench", "report.py"), "--results",
                      os.path.join(work, "results"), "--out", out, "--plots", os.path.join(work, "plots"),
                      "--data", os.path.join(work, "data")], capture_output=True, text=True, env=env)
if run.returncode != 0:
    sys.exit(f"report.py failed:\n{run.stderr}")
report = open(out).read()
want = ["## Widgets against gadgets", "`bench/widgets.sh 3`: the time per widget",
        "| widget | 10.00 |", "| gadget | 31.00 |", "0.32x (0.27–0.37)",
        "| widgets 2x faster than gadgets | 3.10x (median of 3 paired repetitions, range 2.73–3.67x) | met |",
        "| widgets 10x faster than gadgets | 3.10x", "| **MISSED** |",
        "| sprockets measured | not measured"]
missing = [w for w in want if w not in report]
if missing:
    sys.exit("not in the report: " + "; ".join(missing) + "\n\n" + report)
print("report.py: the declared section, its ratio and its three verdicts are right")
