#!/usr/bin/env python3
"""Runs the test server (tests/profiler/Server) once and asks it a few
requests: starts `dotnet SERVER.dll` (the environment as given), reads the
port it prints ("listening PORT"), sends the requests, writes each status
and body to OUT, asks /quit and waits for the process to end (killed after
the timeout: never left running). Exit 0 when the server answered every
request and exited 0.

usage: serve.py SERVER.dll OUT [--timeout SECONDS]
"""
import subprocess
import sys
import urllib.error
import urllib.request

REQUESTS = ["/", "/sum/1000", "/guarded/7", "/items/3", "/echo?q=timing", "/sum/20", "/guarded/8", "/missing"]


def ask(port, path, timeout):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=timeout) as r:
            return r.status, r.read().decode("utf-8")
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode("utf-8")


def main():
    args = sys.argv[1:]
    timeout = 120.0
    if "--timeout" in args:
        i = args.index("--timeout")
        timeout = float(args[i + 1])
        del args[i:i + 2]
    dll, out = args
    proc = subprocess.Popen(["dotnet", dll], stdout=subprocess.PIPE, text=True)
    ok = False
    try:
        line = proc.stdout.readline().strip()
        if not line.startswith("listening "):
            print(f"serve.py: the server said {line!r}", file=sys.stderr)
            return 1
        port = int(line.split()[1])
        with open(out, "w", encoding="utf-8") as f:
            for path in REQUESTS:
                status, body = ask(port, path, timeout)
                f.write(f"{path} {status} {body}\n")
        ask(port, "/quit", timeout)
        ok = proc.wait(timeout=timeout) == 0
        if not ok:
            print(f"serve.py: the server exited {proc.returncode}", file=sys.stderr)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
