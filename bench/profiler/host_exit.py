#!/usr/bin/env python3
"""Runs a `dotnet test` command and prints the milliseconds from its last
test's end to its test host's exit: the test host is found by its command
line (testhost.dll), among the command's descendants, while the command runs,
and watched with pidfd_open (its exit is seen when it happens); the last test's end is the latest endTime of
the TRX files in RESULTS_DIR (the command must write them: --logger trx).
Both times are the wall clock (TRX's DateTimeOffset.Now, time.time_ns()).

usage: host_exit.py RESULTS_DIR COMMAND ARGS...
"""
import datetime
import glob
import os
import re
import select
import subprocess
import sys
import threading
import time


def parent_of(pid):
    """pid's parent, or 0 when it is gone."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as f:
            return int(f.read().rsplit(")", 1)[1].split()[1])
    except (OSError, ValueError, IndexError):
        return 0


def descends_from(pid, root):
    for _ in range(16):
        if pid == root:
            return True
        pid = parent_of(pid)
        if pid <= 1:
            return False
    return False


def find_host(child):
    """The pid of the test host child started (a descendant of it whose
    command line runs testhost.dll) while child runs, or None."""
    while child.poll() is None:
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open(f"/proc/{entry}/cmdline", "rb") as f:
                    cmd = f.read()
            except OSError:
                continue
            if b"testhost.dll" in cmd and descends_from(int(entry), child.pid):
                return int(entry)
        time.sleep(0.002)
    return None


def watch(pid, result):
    """Records in result the wall time of pid's exit."""
    try:
        fd = os.pidfd_open(pid)
    except OSError:
        return
    select.select([fd], [], [])
    result.append(time.time_ns())
    os.close(fd)


def last_test_end(results_dir):
    """The latest endTime of every TRX file, in ns since 1970."""
    latest = None
    for trx in glob.glob(os.path.join(results_dir, "**", "*.trx"), recursive=True):
        with open(trx, encoding="utf-8") as f:
            text = f.read()
        for stamp in re.findall(r'<UnitTestResult [^>]*endTime="([^"]+)"', text):
            # 7 fractional digits: keep 6 (datetime's resolution)
            stamp = re.sub(r"(\.\d{6})\d+", r"\1", stamp)
            t = datetime.datetime.fromisoformat(stamp).timestamp()
            latest = t if latest is None or t > latest else latest
    return None if latest is None else int(latest * 1e9)


def main():
    results_dir, command = sys.argv[1], sys.argv[2:]
    child = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    host = find_host(child)
    exits = []
    watcher = threading.Thread(target=watch, args=(host, exits)) if host else None
    if watcher:
        watcher.start()
    child.wait()
    if watcher:
        watcher.join()
    end = last_test_end(results_dir)
    if not exits or end is None:
        print("host_exit.py: no test host seen or no TRX result", file=sys.stderr)
        sys.exit(1)
    print(f"{(exits[0] - end) / 1e6:.0f}")


if __name__ == "__main__":
    main()
