#!/usr/bin/env python3
"""Checks compare_cobertura.py on the hand-made reports in testdata/: the
agreement figure, the differing lines, the threshold and the bad-input exits."""
import os
import subprocess
import sys
import tempfile

here = os.path.dirname(os.path.abspath(__file__))
ref = os.path.join(here, "testdata", "reference.cobertura.xml")
other = os.path.join(here, "testdata", "other.cobertura.xml")
failures = 0


def run(*args):
    p = subprocess.run([sys.executable, os.path.join(here, "compare_cobertura.py"), *args],
                       capture_output=True, text=True)
    return p.returncode, p.stdout, p.stderr


def check(what, cond, detail=""):
    global failures
    if not cond:
        failures += 1
        print(f"FAIL: {what}\n{detail}")


# 2 of the 5 reference lines under /src/shop agree (A.cs:10, sub/B.cs:5):
# ../other/X.cs is outside the root and obj/ is excluded.
rc, out, err = run(ref, other, "--root", "/src/shop", "--exclude", "/obj/", "--min", "40")
check("40% passes --min 40", rc == 0, out + err)
check("the figure", "agreement=40.00% (2 of the 5 lines coverlet reports) minimum=40.00% PASS" in out, out)
expected = ["  A.cs:11 coverlet=0 ilheap=1",
            "  A.cs:12 coverlet=2 ilheap=0",
            "  A.cs:13 coverlet=- ilheap=0",
            "  sub/B.cs:6 coverlet=0 ilheap=-"]
line_part = out.split("lines whose branches differ")[0]
listed = [l for l in line_part.splitlines() if l.startswith("  ")]
check("the differing lines", listed == expected, "\n".join(listed))
# Branches: A.cs:12 has a condition-coverage in the reference only.
check("the differing branches", "  A.cs:12 coverlet=1/2 ilheap=-" in out.split("lines whose branches differ")[-1], out)
check("the branch figure", "branch agreement=0.00% (0 of the 1 lines with branches)" in out, out)
rc, out, err = run(ref, other, "--root", "/src/shop", "--exclude", "/obj/", "--min", "40", "--branch-min", "50")
check("--branch-min judges the branches", rc == 1 and "minimum=50.00% FAIL" in out, out + err)
check("the counts", "both report 4 lines; only coverlet 1; only ilheap 1; same hit/not-hit on 2 of the 4 both report, the same count on 0" in out, out)
check("files outside", "(2 files outside the root or excluded)" in out, out)

rc, out, err = run(ref, other, "--root", "/src/shop", "--exclude", "/obj/")
check("40% fails the default 99", rc == 1 and "FAIL" in out, out + err)

# Without the exclusion obj/Generated.cs counts: 2 of 6.
rc, out, err = run(ref, other, "--root", "/src/shop", "--min", "0")
check("obj counted without --exclude", "agreement=33.33% (2 of the 6" in out, out)

rc, out, err = run(ref, ref, "--root", "/src/shop", "--names", "a,b")
check("a report agrees with itself", rc == 0 and "agreement=100.00% (6 of the 6 lines a reports)" in out
      and "the same count on 6" in out
      and "differing" not in out, out + err)

with tempfile.NamedTemporaryFile("w", suffix=".xml", delete=False) as bad:
    bad.write("<coverage><packages><class filename='A.cs'><line number='x' hits='1'/>")
rc, out, err = run(ref, bad.name, "--root", "/src/shop")
check("truncated XML is exit 2", rc == 2 and bad.name in err, out + err)
rc, out, err = run(ref, other, "--root", "/nowhere")
check("no reference line under the root is exit 2", rc == 2 and "reports no line" in err, out + err)
rc, out, err = run(ref, "/nonexistent.xml", "--root", "/src/shop")
check("a missing file is exit 2", rc == 2, out + err)
os.unlink(bad.name)

# --and: other's lines join the reference's (hits summed, hit in either is hit):
# A.cs:11 (0 + 1) becomes hit, A.cs:13 (only other's, 0) joins: 4 of 6 hit.
rc, out, err = run(ref, ref, "--root", "/src/shop", "--exclude", "/obj/", "--and", other, "--min", "0")
check("--and merges the lines", "coverlet: 6 coverable lines in 2 files, 4 hit" in out, out)
check("--and compares no branches", "branch agreement=100.00% (0 of the 0 lines" in out, out)

# --peer: the reference agrees with itself as a peer on its one branch line
# (A.cs:12, 1/2), where other has none: 0 of 1, a difference in outcomes.
rc, out, err = run(ref, other, "--root", "/src/shop", "--exclude", "/obj/", "--min", "0", "--peer", ref)
check("--peer", "where the peers agree: branch agreement=0.00% (0 of the 1 lines with branches on which"
      " coverlet and the peer agree; 1 of the 1 differences in the number of outcomes)" in out, out)
rc, out, err = run(ref, ref, "--root", "/src/shop", "--exclude", "/obj/", "--min", "0", "--peer", other)
check("--peer where the peers never agree", "branch agreement=100.00% (1 of the 1 lines" in out
      and "where the peers agree: branch agreement=100.00% (0 of the 0 lines" in out, out)

print("compare_cobertura: " + ("all checks passed" if failures == 0 else f"{failures} check(s) failed"))
sys.exit(1 if failures else 0)
