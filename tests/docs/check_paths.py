#!/usr/bin/env python3
"""Fails when a document names a file or folder of the repository that does
not exist. Reads every Markdown file git tracks; checks

- every repository path in the text: a word starting with one of the
  top-level folders (src/, tests/, bench/, ...), relative to the repository
  root, and
- every relative Markdown link target, relative to the document.

Globs (`tests/*/fuzz*`), placeholders (`src/<component>/`, `bench/results/NAME.txt`)
and build output (`build/...`) are not paths of the tree and are skipped;
`{a,b}` is expanded. A fenced block right after a line starting
`<!-- check_paths:` (a listing of files outside the tree) is skipped. Usage: tests/docs/check_paths.py [REPO]; exit 1 and a
line per missing path (document:line: path) when one is missing."""
import os
import re
import subprocess
import sys

TOP = ("src", "include", "tools", "bench", "tests", "docs", "profiler", "scripts", "cmake", "collector", ".ci")
MENTION = re.compile(r"(?<![\w./$~-])((?:%s)/[\w./+-]*)" % "|".join(re.escape(t) for t in TOP))
LINK = re.compile(r"\]\(([^)\s#]+)(?:#[^)]*)?\)")
PLACEHOLDER = {"NAME", "FILE", "DIR", "TARGET", "COMPONENT", "VERSION", "ARCH", "N"}


def expand(path, rest):
    """`a-{1,2}.txt` -> a-1.txt, a-2.txt (rest: the text after the match)."""
    m = re.match(r"\{([^}]*)\}([\w./+-]*)", rest)
    if not m:
        return [path]
    return [(path + alt + m.group(2)).rstrip(".") for alt in m.group(1).split(",")]


def mentions(line):
    for m in MENTION.finditer(line):
        path, rest = m.group(1).rstrip("."), line[m.end():]
        if rest[:1] in ("*", "<") or "..." in path:
            continue  # a glob or a placeholder
        if any(part.split(".")[0] in PLACEHOLDER for part in path.split("/")):
            continue  # bench/NAME.txt: a placeholder part
        yield from expand(path, rest)


def links(line):
    for m in LINK.finditer(line):
        target = m.group(1)
        if re.match(r"^[a-z]+:", target) or target.startswith("/"):
            continue  # a URL or an absolute path (not in the tree)
        yield target


def checked_lines(f):
    """(number, line) of a document, but for a fenced block right after a
    `<!-- check_paths: ... -->` comment (a listing of files outside the
    tree, such as a package's)."""
    skip = fenced = False
    for number, line in enumerate(f, 1):
        if line.startswith("<!-- check_paths:"):
            skip = True
            continue
        if line.startswith("```"):
            fenced = not fenced
            if not fenced:
                skip = False
            continue
        if not (skip and fenced):
            yield number, line


def missing_paths(repo):
    docs = subprocess.run(["git", "-C", repo, "ls-files", "*.md"], capture_output=True, text=True,
                          check=True).stdout.split()
    for doc in docs:
        with open(os.path.join(repo, doc), encoding="utf-8") as f:
            for number, line in checked_lines(f):
                for path in mentions(line):
                    if not os.path.exists(os.path.join(repo, path.rstrip("/"))):
                        yield doc, number, path
                for target in links(line):
                    if not os.path.exists(os.path.join(repo, os.path.dirname(doc), target)):
                        yield doc, number, target


def main():
    repo = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
    bad = list(missing_paths(repo))
    for doc, number, path in bad:
        print(f"{doc}:{number}: {path} does not exist")
    if bad:
        print(f"check_paths: {len(bad)} paths named in the docs do not exist", file=sys.stderr)
        return 1
    print("check_paths: every path the docs name exists")
    return 0


if __name__ == "__main__":
    sys.exit(main())
