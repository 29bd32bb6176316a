#!/usr/bin/env python3
"""Writes Program.cs of the Many program: N small methods, each with a
branch, compiled by the JIT when 8 threads (started together) first call
them, each thread in its own order, a few milliseconds apart now and then,
so that new methods keep arriving in the counts file for a second or two.

usage: gen_many.py N > Program.cs
"""
import sys

n = int(sys.argv[1])
out = ["using System;", "using System.Runtime.CompilerServices;", "using System.Threading;", "",
       "namespace Many", "{", "    public static class M", "    {"]
for i in range(n):
    out.append(f"        [MethodImpl(MethodImplOptions.NoInlining)] public static int F{i}(int x)"
               f" {{ if (x > {i % 13}) return x + {i}; return x - {i}; }}")
out += ["    }", "", "    public static class Program", "    {",
        "        public static int Main()", "        {",
        f"            var table = new Func<int, int>[{n}];"]
for i in range(n):
    out.append(f"            table[{i}] = M.F{i};")
out += ["            const int threads = 8;",
        "            var start = new Barrier(threads);",
        "            var workers = new Thread[threads];",
        "            long sum = 0;",
        "            for (int t = 0; t < threads; t++)",
        "            {",
        "                int me = t;",
        "                workers[t] = new Thread(() =>",
        "                {",
        "                    start.SignalAndWait();",
        "                    long local = 0;",
        f"                    for (int k = 0; k < {n}; k++)",
        "                    {",
        f"                        local += table[(k * 7 + me * 191) % {n}](k);",
        "                        if (k % 50 == 0)",
        "                            Thread.Sleep(5);",
        "                    }",
        "                    Interlocked.Add(ref sum, local);",
        "                });",
        "                workers[t].Start();",
        "            }",
        "            foreach (var w in workers)",
        "                w.Join();",
        "            Console.WriteLine(\"sum=\" + sum);",
        "            return 0;",
        "        }",
        "    }",
        "}"]
print("\n".join(out))
