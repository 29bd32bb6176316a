// The known-counts program for the profiler's `calls` and `blocks` modes
// (tests/counts): every method below is entered a number of times that is
// fixed by the program, listed in expected-calls.txt, and its output is the
// same with and without the profiler.
//
// Usage: CountsApp [threads, default 1] [rounds, default 1] [--wait]
//                  [--end failfast|throw|overflow]
// With N threads every workload runs once on each of N threads at once, so
// each count is N times the listed one; with R rounds (one thread) it runs R
// times, a quarter of a second apart, so that tiered compilation recompiles
// the hot methods in between: each count is R times the listed one.
// --wait: after each round it prints "finished round R" and waits for a line
// on stdin (a quiescent point: a test reads or kills it there). --end: after
// its work the process ends without a clean exit: Environment.FailFast, an
// unhandled exception, or a stack overflow.
using System;
using System.Collections.Generic;
using System.Runtime.CompilerServices;
using System.Threading;
using System.Threading.Tasks;

namespace CountsApp
{
    internal sealed class CountedException : Exception
    {
        public int Code { get; }
        public CountedException(int code) : base("code " + code) { Code = code; }
    }

    public static class Known
    {
        // Fib(15) is entered 1,973 times: C(n) = 1 + C(n-1) + C(n-2), C(0) = C(1) = 1.
        [MethodImpl(MethodImplOptions.NoInlining)]
        public static int Fib(int n) => n < 2 ? n : Fib(n - 1) + Fib(n - 2);

        // 10 calls: the then-branch 7 times, the else-branch 3 times.
        [MethodImpl(MethodImplOptions.NoInlining)]
        public static int Split(int i)
        {
            int r;
            if (i % 10 < 7)
                r = i * 2;
            else
                r = -i;
            return r;
        }

        // 1 call; the loop body runs 100 times.
        [MethodImpl(MethodImplOptions.NoInlining)]
        public static long Loop100()
        {
            long sum = 0;
            for (int i = 0; i < 100; i++)
                sum += i;
            return sum;
        }

        // 12 calls: case 0 x4, case 1 x3, case 2 x2, case 3 x1, default x2.
        [MethodImpl(MethodImplOptions.NoInlining)]
        public static int Switch(int k)
        {
            switch (k)
            {
                case 0: return 10;
                case 1: return 11;
                case 2: return 12;
                case 3: return 13;
                default: return -1;
            }
        }

        // 10 calls, 2 of which throw (i == 3, i == 7): catch x2, finally x10.
        [MethodImpl(MethodImplOptions.NoInlining)]
        public static int TryCatchFinally(int i, ref int finallies)
        {
            try
            {
                if (i == 3 || i == 7)
                    throw new CountedException(i);
                return i;
            }
            catch (CountedException e)
            {
                return -e.Code;
            }
            finally
            {
                finallies++;
            }
        }

        // 6 calls, each throws; the filter runs 6 times and accepts 4 (even codes and 5).
        [MethodImpl(MethodImplOptions.NoInlining)]
        public static int Filtered(int i)
        {
            try
            {
                try
                {
                    throw new CountedException(i);
                }
                catch (CountedException e) when (Accept(e.Code))
                {
                    return e.Code;
                }
            }
            catch (CountedException e)
            {
                return 1000 + e.Code;
            }
        }

        // 6 calls (from the filter).
        [MethodImpl(MethodImplOptions.NoInlining)]
        private static bool Accept(int code) => code % 2 == 0 || code == 5;

        // An iterator: 1 call of Squares; its MoveNext runs 6 times (5 items and the end).
        public static IEnumerable<int> Squares(int n)
        {
            for (int i = 1; i <= n; i++)
                yield return i * i;
        }

        // An async method awaited 3 times, each yielding once.
        public static async Task<int> TwiceAsync(int x)
        {
            await Task.Yield();
            return 2 * x;
        }
    }

    // Generic code: Pick<T> is called for int (3 times), double (2 times),
    // string (2 times) and object (1 time); one token, one entry: 8 calls.
    public static class Generic
    {
        [MethodImpl(MethodImplOptions.NoInlining)]
        public static T Pick<T>(T a, T b, bool first) => first ? a : b;
    }

    public sealed class Holder<T>
    {
        private T value;
        // 4 calls: Holder<int> x2, Holder<string> x2.
        [MethodImpl(MethodImplOptions.NoInlining)]
        public void Set(T v) { value = v; }
        public override string ToString() => value?.ToString() ?? "null";
    }

    public static class Program
    {
        // Recursion without end: the stack overflow of --end overflow.
        [MethodImpl(MethodImplOptions.NoInlining)]
        private static int Deep(int n) => Deep(n + 1) + 1;

        private static void End(string how)
        {
            if (how == "failfast")
                Environment.FailFast("CountsApp: --end failfast");
            if (how == "throw")
                throw new InvalidOperationException("CountsApp: --end throw");
            if (how == "overflow")
                Console.WriteLine(Deep(0));
        }

        private static string Workload()
        {
            var parts = new List<string>();
            parts.Add("fib=" + Known.Fib(15));

            int split = 0;
            for (int i = 0; i < 10; i++)
                split += Known.Split(i);
            parts.Add("split=" + split);

            parts.Add("loop=" + Known.Loop100());

            int sw = 0;
            foreach (int k in new[] { 0, 0, 0, 0, 1, 1, 1, 2, 2, 3, 9, -4 })
                sw += Known.Switch(k);
            parts.Add("switch=" + sw);

            int tcf = 0, finallies = 0;
            for (int i = 0; i < 10; i++)
                tcf += Known.TryCatchFinally(i, ref finallies);
            parts.Add("tcf=" + tcf + "/" + finallies);

            int filtered = 0;
            for (int i = 0; i < 6; i++)
                filtered += Known.Filtered(i);
            parts.Add("filter=" + filtered);

            int squares = 0;
            foreach (int s in Known.Squares(5))
                squares += s;
            parts.Add("squares=" + squares);

            int async = 0;
            for (int i = 1; i <= 3; i++)
                async += Known.TwiceAsync(i).GetAwaiter().GetResult();
            parts.Add("async=" + async);

            string g = "" + Generic.Pick(1, 2, true) + Generic.Pick(3, 4, false) + Generic.Pick(5, 6, true)
                     + Generic.Pick(1.5, 2.5, true) + Generic.Pick(3.5, 4.5, false)
                     + Generic.Pick("a", "b", true) + Generic.Pick("c", "d", false)
                     + Generic.Pick((object)"e", (object)"f", true);
            parts.Add("generic=" + g);

            var hi = new Holder<int>(); hi.Set(1); hi.Set(2);
            var hs = new Holder<string>(); hs.Set("x"); hs.Set("y");
            parts.Add("holder=" + hi + hs);
            return string.Join(" ", parts);
        }

        public static int Main(string[] argv)
        {
            var args = new List<string>(argv);
            bool wait = args.Remove("--wait");
            string end = null;
            int at = args.IndexOf("--end");
            if (at >= 0 && at + 1 < args.Count)
            {
                end = args[at + 1];
                args.RemoveRange(at, 2);
            }
            int threads = args.Count > 0 ? int.Parse(args[0]) : 1;
            if (threads < 1 || threads > 64)
            {
                Console.Error.WriteLine("threads must be 1..64");
                return 2;
            }
            int rounds = args.Count > 1 ? int.Parse(args[1]) : 1;
            var results = new string[threads];
            if (threads == 1)
            {
                for (int r = 0; r < rounds; r++)
                {
                    if (r > 0 && !wait)
                        Thread.Sleep(250);
                    results[0] = Workload();
                    if (wait)
                    {
                        Console.WriteLine("finished round " + (r + 1));
                        Console.ReadLine();
                    }
                }
            }
            else
            {
                using var start = new Barrier(threads);
                var workers = new Thread[threads];
                for (int t = 0; t < threads; t++)
                {
                    int slot = t;
                    workers[t] = new Thread(() => { start.SignalAndWait(); results[slot] = Workload(); });
                    workers[t].Start();
                }
                foreach (var w in workers)
                    w.Join();
            }
            foreach (string r in results)
                if (r != results[0])
                {
                    Console.WriteLine("threads disagree");
                    return 1;
                }
            Console.WriteLine(results[0]);
            Console.WriteLine("threads=" + threads + (rounds > 1 ? " rounds=" + rounds : ""));
            if (end != null)
                End(end);
            return 0;
        }
    }
}
