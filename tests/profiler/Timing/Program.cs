// The known-entries program of ILHEAP_MODE=timing (tests/profiler/run_timing.sh):
// every method below is entered, and left by an exception, a number of
// times fixed by the program (expected-timing.txt), in every shape a method
// wrapper must get right: exceptions leaving methods and passing through
// them, rethrow, filters that accept and reject, finally, nested handlers,
// constructors that throw after their base call (and base constructors that
// throw before it), struct constructors, struct and ref returns, Span<T>
// arguments and returns, generic methods over value and reference types,
// switch, async methods, iterators, recursion (also recursion that throws
// from its bottom), stackalloc, and methods that take a known time (CoreCLR
// on Linux has no varargs).
// Its output is the same with and without the profiler.
//
// Usage: TimingApp [threads, default 1]: with N threads the workload runs
// once on each at once, so each count is N times the listed one (those
// marked "once" excepted).
using System;
using System.Collections.Generic;
using System.Runtime.CompilerServices;
using System.Threading;
using System.Threading.Tasks;

namespace TimingApp
{
    internal sealed class KnownException : Exception
    {
        public int Code { get; }
        public KnownException(int code) : base("code " + code) { Code = code; }
    }

    public struct Big
    {
        public long A, B, C, D;
    }

    // A struct's constructor calls no base constructor: the whole body is
    // wrapped. 6 calls, 2 of which throw (negative x).
    public struct Point
    {
        public int X;
        [MethodImpl(MethodImplOptions.NoInlining)]
        public Point(int x)
        {
            if (x < 0)
                throw new KnownException(x);
            X = x;
        }
    }

    public class Base
    {
        protected readonly int seed;
        // 5 calls (from 5 Derived; the negative seed throws here, before
        // Derived's body): 1 exceptional.
        [MethodImpl(MethodImplOptions.NoInlining)]
        public Base(int s)
        {
            if (s < 0)
                throw new KnownException(s);
            seed = s;
        }
    }

    public sealed class Derived : Base
    {
        private readonly int extra = Init(); // runs before the base call: outside the wrapper
        // Entered after its base call: 4 times (the 5th's base throws first);
        // throws after its base call for seed 2: 1 exceptional.
        [MethodImpl(MethodImplOptions.NoInlining)]
        public Derived(int s) : base(s)
        {
            if (s == 2)
                throw new KnownException(s);
        }
        // 5 calls (field initializer of every Derived).
        [MethodImpl(MethodImplOptions.NoInlining)]
        private static int Init() => 7;
        public int Value => seed + extra;
    }

    public static class Once
    {
        public static readonly int Value;
        // The static constructor: once per process, whatever the threads.
        static Once() { Value = 42; }
    }

    public static class Shapes
    {
        // 54 calls: 10 from Workload, 10 from Passes and 10 from Passes via
        // Catches, 10 from Rethrows, 10 from FinallyPass, 4 from Nested; odd i
        // throws: 29 exceptional.
        [MethodImpl(MethodImplOptions.NoInlining)]
        public static int Throws(int i)
        {
            if (i % 2 == 1)
                throw new KnownException(i);
            return i;
        }

        // 20 calls (10 from Catches); the exception of Throws passes through:
        // 10 exceptional.
        [MethodImpl(MethodImplOptions.NoInlining)]
        public static int Passes(int i) => Throws(i) + 1;

        // 10 calls; catches what Passes lets through: 0 exceptional.
        [MethodImpl(MethodImplOptions.NoInlining)]
        public static int Catches(int i)
        {
            try
            {
                return Passes(i);
            }
            catch (KnownException e)
            {
                return -e.Code;
            }
        }

        // 10 calls; catches and rethrows: 5 exceptional.
        [MethodImpl(MethodImplOptions.NoInlining)]
        public static int Rethrows(int i)
        {
            try
            {
                return Throws(i);
            }
            catch (KnownException)
            {
                throw;
            }
        }

        // 10 calls; a finally on the way out: 5 exceptional.
        [MethodImpl(MethodImplOptions.NoInlining)]
        public static int FinallyPass(int i, ref int finallies)
        {
            try
            {
                return Throws(i);
            }
            finally
            {
                finallies++;
            }
        }

        // 9 calls; the filter accepts codes divisible by 3 (i = 0, 3, 6: caught
        // here), rejects the others: 6 exceptional.
        [MethodImpl(MethodImplOptions.NoInlining)]
        public static int FilterRejects(int i)
        {
            try
            {
                throw new KnownException(i);
            }
            catch (KnownException e) when (Accept(e.Code))
            {
                return e.Code;
            }
        }

        // 9 calls (FilterRejects' filter).
        [MethodImpl(MethodImplOptions.NoInlining)]
        private static bool Accept(int code) => code % 3 == 0;

        // 8 calls: nested handlers, returns from a try and from a catch, a
        // handler at the end; for i = 6 the inner filter rejects and the
        // exception leaves: 1 exceptional.
        [MethodImpl(MethodImplOptions.NoInlining)]
        public static int Nested(int i)
        {
            int r = 0;
            try
            {
                try
                {
                    if (i % 2 == 0)
                        return Throws(i + 1);
                    r = i;
                }
                catch (KnownException e) when (e.Code < 6)
                {
                    return e.Code * 10;
                }
                finally
                {
                    r++;
                }
                if (i == 5)
                    return r;
            }
            catch (InvalidOperationException)
            {
                r = -1;
            }
            return r;
        }

        // 6 calls; default throws for k > 3: 2 exceptional.
        [MethodImpl(MethodImplOptions.NoInlining)]
        public static int Classify(int k)
        {
            switch (k)
            {
                case 0: return 10;
                case 1: return 11;
                case 2: return 12;
                case 3: return 13;
                default: throw new KnownException(k);
            }
        }

        // 4 calls, a struct return; i == 3 throws: 1 exceptional.
        [MethodImpl(MethodImplOptions.NoInlining)]
        public static Big MakeBig(int i)
        {
            if (i == 3)
                throw new KnownException(i);
            return new Big { A = i, B = i * 2, C = i * 3, D = i * 4 };
        }

        // 5 calls, a ref return; index 9 is past the array: 1 exceptional
        // (the runtime's IndexOutOfRangeException).
        [MethodImpl(MethodImplOptions.NoInlining)]
        public static ref int Slot(int[] a, int i) => ref a[i];

        // 3 calls, a Span<T> argument; an empty span throws: 1 exceptional.
        [MethodImpl(MethodImplOptions.NoInlining)]
        public static int SumSpan(Span<int> s)
        {
            if (s.Length == 0)
                throw new KnownException(0);
            int sum = 0;
            foreach (int v in s)
                sum += v;
            return sum;
        }

        // 2 calls, a Span<T> return.
        [MethodImpl(MethodImplOptions.NoInlining)]
        public static Span<int> Head(Span<int> s, int n) => s.Slice(0, n);

        // 3 calls, a ReadOnlySpan<char> argument; "x" does not parse: 1
        // exceptional (the runtime's FormatException).
        [MethodImpl(MethodImplOptions.NoInlining)]
        public static int ParseSpan(ReadOnlySpan<char> s) => int.Parse(s);

        // 3 calls, stackalloc in a method with a try.
        [MethodImpl(MethodImplOptions.NoInlining)]
        public static unsafe int Stack(int n)
        {
            int* p = stackalloc int[n];
            try
            {
                for (int i = 0; i < n; i++)
                    p[i] = i;
                return p[n - 1];
            }
            finally
            {
                p[0] = 0;
            }
        }

        // 1973 calls (Fib(15)).
        [MethodImpl(MethodImplOptions.NoInlining)]
        public static int Fib(int n) => n < 2 ? n : Fib(n - 1) + Fib(n - 2);

        // Called once with 9: recurses to depth 0 and throws there; every
        // frame is left by the exception: 10 calls, 10 exceptional.
        [MethodImpl(MethodImplOptions.NoInlining)]
        public static int RecThrow(int n) => n == 0 ? throw new KnownException(-1) : RecThrow(n - 1) + 1;

        // 5 calls: 3 over int, 2 over string; empty arrays throw: 2 exceptional.
        [MethodImpl(MethodImplOptions.NoInlining)]
        public static T First<T>(T[] a)
        {
            if (a.Length == 0)
                throw new KnownException(100);
            return a[0];
        }

        // An iterator: 1 call of Squares; MoveNext 4 times (3 items and the
        // end), the finally runs at the end.
        public static IEnumerable<int> Squares(int n)
        {
            try
            {
                for (int i = 1; i <= n; i++)
                    yield return i * i;
            }
            finally
            {
                Sink++;
            }
        }

        public static int Sink;

        // 4 calls; an async method that throws after its await for odd i:
        // the exception goes into the task, so neither the kickoff method nor
        // MoveNext (8 runs: 2 per call) is left by an exception.
        public static async Task<int> AsyncMaybe(int i)
        {
            await Task.Yield();
            if (i % 2 == 1)
                throw new KnownException(i);
            return i;
        }

        // 1 call: the methods and lines of a stack trace through wrapped
        // methods. The same with and without the profiler only when the
        // runtime maps the new IL offsets back to the original ones (the
        // profiler's SetILInstrumentedCodeMap).
        [MethodImpl(MethodImplOptions.NoInlining)]
        public static string StackLines()
        {
            try
            {
                return Deeper(3).ToString();
            }
            catch (KnownException e)
            {
                var parts = new List<string>();
                foreach (var f in new System.Diagnostics.StackTrace(e, true).GetFrames())
                    parts.Add(f.GetMethod().Name + ":" + f.GetFileLineNumber());
                return string.Join("/", parts);
            }
        }

        // 4 calls, all left by the exception thrown at the bottom.
        [MethodImpl(MethodImplOptions.NoInlining)]
        private static int Deeper(int n)
        {
            int x = n * 2;
            if (n == 0)
                throw new KnownException(77);
            return Deeper(n - 1) + x;
        }

        // 1 call: sleeps 30 ms.
        [MethodImpl(MethodImplOptions.NoInlining)]
        public static void Sleep30() => Thread.Sleep(30);

        // 1 call: sleeps 20 ms, then throws: 1 exceptional, at least 20 ms.
        [MethodImpl(MethodImplOptions.NoInlining)]
        public static void SleepThrow()
        {
            Thread.Sleep(20);
            throw new KnownException(20);
        }

        // 1 call: at least the 30 + 20 ms of the two above.
        [MethodImpl(MethodImplOptions.NoInlining)]
        public static int Timed()
        {
            Sleep30();
            try
            {
                SleepThrow();
            }
            catch (KnownException e)
            {
                return e.Code;
            }
            return 0;
        }
    }

    public static class Program
    {
        // What f gives, or what it threw (88 calls, over int and string).
        private static string Try<T>(Func<T> f)
        {
            try
            {
                return f().ToString();
            }
            catch (Exception e)
            {
                return e is KnownException k ? "K" + k.Code : e.GetType().Name;
            }
        }

        private static string Exceptions()
        {
            var parts = new List<string>();
            for (int i = 0; i < 10; i++)
            {
                int finallies = 0;
                parts.Add(Try(() => Shapes.Throws(i)) + Try(() => Shapes.Passes(i)) + Shapes.Catches(i) +
                          Try(() => Shapes.Rethrows(i)) + Try(() => Shapes.FinallyPass(i, ref finallies)) + finallies);
            }
            for (int i = 0; i < 9; i++)
                parts.Add(Try(() => Shapes.FilterRejects(i)));
            for (int i = 0; i < 8; i++)
                parts.Add(Try(() => Shapes.Nested(i)));
            for (int k = 0; k < 6; k++)
                parts.Add(Try(() => Shapes.Classify(k)));
            return string.Join(",", parts);
        }

        private static string Values()
        {
            var parts = new List<string>();
            for (int i = 0; i < 4; i++)
                parts.Add(Try(() => (int)Shapes.MakeBig(i).D));
            var a = new[] { 1, 2, 3, 4 };
            for (int i = 0; i < 4; i++)
                Shapes.Slot(a, i) += 10;
            parts.Add(Try(() => Shapes.Slot(a, 9)) + string.Join("/", a));
            parts.Add(Shapes.SumSpan(a) + "/" + Shapes.SumSpan(new Span<int>(a, 1, 2)) + "/" + Try(() => Shapes.SumSpan(Span<int>.Empty)));
            parts.Add(Shapes.Head(a, 2).Length + "/" + Shapes.Head(a, 3)[2]);
            parts.Add(Shapes.ParseSpan("12") + "/" + Shapes.ParseSpan("-3".AsSpan()) + "/" + Try(() => Shapes.ParseSpan("x")));
            parts.Add(Shapes.Stack(1) + "/" + Shapes.Stack(4) + "/" + Shapes.Stack(9));
            parts.Add(Shapes.Fib(15) + "/" + Try(() => Shapes.RecThrow(9)));
            parts.Add(Shapes.First(new[] { 5 }) + Shapes.First(new[] { 6, 7 }) + Try(() => Shapes.First(new int[0])) +
                      Shapes.First(new[] { "s" }) + Try(() => Shapes.First(new string[0])));
            return string.Join(",", parts);
        }

        private static string Objects()
        {
            var parts = new List<string>();
            foreach (int s in new[] { 1, 2, 3, -1, 4 })
                parts.Add(Try(() => new Derived(s).Value));
            foreach (int x in new[] { 1, -2, 3, 4, -5, 6 })
                parts.Add(Try(() => new Point(x).X));
            int squares = 0;
            foreach (int q in Shapes.Squares(3))
                squares += q;
            parts.Add(squares.ToString());
            for (int i = 0; i < 4; i++)
                parts.Add(Try(() => Shapes.AsyncMaybe(i).GetAwaiter().GetResult()));
            parts.Add("once=" + Once.Value);
            return string.Join(",", parts);
        }

        private static string Workload()
        {
            return Exceptions() + ";" + Values() + ";" + Objects() + ";" + Shapes.Timed() + ";" + Shapes.StackLines();
        }

        public static int Main(string[] args)
        {
            int threads = args.Length > 0 ? int.Parse(args[0]) : 1;
            if (threads < 1 || threads > 64)
            {
                Console.Error.WriteLine("threads must be 1..64");
                return 2;
            }
            var results = new string[threads];
            if (threads == 1)
            {
                results[0] = Workload();
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
            Console.WriteLine("threads=" + threads);
            return 0;
        }
    }
}
