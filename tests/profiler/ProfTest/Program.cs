// The program the profiler tests run, with and without the profiler: every
// line it prints on stdout must be the same in every mode (rehome, prologue,
// both allocators, ReadyToRun on or off), except the "answer=" line that
// ILHEAP_REPLACE=ProfTest.Targets::Answer=VALUE changes. Each section exercises
// an IL feature a rewriter can break: EH clauses of every kind, generics,
// state machines, big (fat) bodies, switch tables, concurrent JIT, and a
// collectible load context whose heaps must go away with it.
//
// Usage: ProfTest <path to Collectible.dll> [alc iterations, default 100]
//        ProfTest --startup   (prints "started" and exits: start-up time)
using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.Loader;
using System.Threading;
using System.Threading.Tasks;

namespace ProfTest
{
    public static class Targets
    {
        // The ILHEAP_REPLACE target: only this result may change.
        [MethodImpl(MethodImplOptions.NoInlining)]
        public static int Answer() => 42;

        // Same shape, different name: must never change.
        [MethodImpl(MethodImplOptions.NoInlining)]
        public static int NotTheAnswer() => 43;
    }

    internal sealed class TestException : Exception
    {
        public int Code { get; }
        public TestException(int code, Exception inner = null) : base("code " + code, inner) { Code = code; }
    }

    internal struct Point
    {
        public int X, Y;
        public Point(int x, int y) { X = x; Y = y; }
        public int Dot(Point o) => X * o.X + Y * o.Y;
    }

    internal sealed class Box<T>
    {
        private readonly List<T> items = new List<T>();
        public void Add(T item) => items.Add(item);
        public T Pick(Func<T, bool> pred)
        {
            foreach (T item in items)
                if (pred(item))
                    return item;
            return default;
        }
        public int Count => items.Count;
    }

    internal static class Program
    {
        private static readonly List<string> Log = new List<string>();

        private static void Say(string line) => Console.WriteLine(line);

        // ---------------------------------------------------------- exceptions
        [MethodImpl(MethodImplOptions.NoInlining)]
        private static int Thrower(int code)
        {
            if (code > 0)
                throw new TestException(code);
            return code;
        }

        private static string Exceptions()
        {
            var trace = new List<string>();
            // catch + finally
            try
            {
                Thrower(1);
                trace.Add("not reached");
            }
            catch (TestException e)
            {
                trace.Add("catch " + e.Code);
            }
            finally
            {
                trace.Add("finally");
            }
            // filter (when), first filter false then true
            for (int i = 2; i <= 3; i++)
            {
                try
                {
                    Thrower(i);
                }
                catch (TestException e) when (e.Code == 3)
                {
                    trace.Add("filter-caught " + e.Code);
                }
                catch (TestException e)
                {
                    trace.Add("filter-skipped " + e.Code);
                }
            }
            // nested and rethrown
            try
            {
                try
                {
                    try
                    {
                        Thrower(4);
                    }
                    catch (TestException e)
                    {
                        trace.Add("inner " + e.Code);
                        throw;
                    }
                }
                catch (TestException e)
                {
                    trace.Add("middle " + e.Code);
                    throw new TestException(5, e);
                }
                finally
                {
                    trace.Add("middle-finally");
                }
            }
            catch (TestException e)
            {
                trace.Add("outer " + e.Code + " inner=" + ((TestException)e.InnerException).Code);
            }
            // fault: an iterator abandoned mid-way runs its finally through Dispose;
            // an exception inside it runs the compiler's fault handler
            int seen = 0;
            foreach (int v in Counted(trace))
            {
                seen += v;
                if (v == 2)
                    break;
            }
            trace.Add("seen " + seen);
            try
            {
                foreach (int v in Failing(trace))
                    seen += v;
            }
            catch (TestException e)
            {
                trace.Add("iterator threw " + e.Code);
            }
            // using (try/finally with Dispose)
            using (new Disposer(trace, "using"))
                trace.Add("in using");
            return string.Join("|", trace);
        }

        private sealed class Disposer : IDisposable
        {
            private readonly List<string> trace;
            private readonly string name;
            public Disposer(List<string> t, string n) { trace = t; name = n; }
            public void Dispose() => trace.Add("dispose " + name);
        }

        private static IEnumerable<int> Counted(List<string> trace)
        {
            try
            {
                for (int i = 1; i <= 5; i++)
                    yield return i;
            }
            finally
            {
                trace.Add("iterator-finally");
            }
        }

        private static IEnumerable<int> Failing(List<string> trace)
        {
            using (new Disposer(trace, "iterator-using"))
            {
                yield return 1;
                Thrower(6);
                yield return 2;
            }
        }

        // ------------------------------------------------------------ generics
        private static T Max<T>(T a, T b) where T : IComparable<T> => a.CompareTo(b) >= 0 ? a : b;

        private static string Generics()
        {
            var ints = new Box<int>();
            var strs = new Box<string>();
            var pts = new Box<Point>();
            for (int i = 0; i < 10; i++)
            {
                ints.Add(i * i);
                strs.Add("s" + i);
                pts.Add(new Point(i, -i));
            }
            return string.Join(",",
                ints.Pick(x => x > 20), strs.Pick(s => s.EndsWith("7")), pts.Pick(p => p.X == 4).Y,
                Max(3, 9), Max("pear", "apple"), Max(2.5, -1.0), ints.Count + strs.Count + pts.Count);
        }

        // -------------------------------------------------------- async/await
        private static async Task<int> Step(int v)
        {
            await Task.Yield();
            return v * 2;
        }

        private static async Task<int> Chain()
        {
            int acc = 1;
            for (int i = 0; i < 5; i++)
                acc += await Step(acc);
            try
            {
                await ThrowLater();
            }
            catch (TestException e)
            {
                acc += e.Code;
            }
            return acc;
        }

        private static async Task ThrowLater()
        {
            await Task.Delay(1);
            throw new TestException(7);
        }

        // -------------------------------------------------- LINQ and closures
        private static string Linq()
        {
            int offset = 3; // captured
            Func<int, int> addOffset = x => x + offset;
            var q = Enumerable.Range(1, 20)
                .Where(x => x % 3 != 0)
                .Select(addOffset)
                .GroupBy(x => x % 4)
                .OrderBy(g => g.Key)
                .Select(g => g.Key + ":" + g.Sum());
            offset = 100; // closures see the change (deferred execution)
            var counters = new List<Func<int>>();
            for (int i = 0; i < 3; i++)
            {
                int copy = i;
                counters.Add(() => copy * 10);
            }
            return string.Join(" ", q) + " / " + string.Join(",", counters.Select(f => f()));
        }

        // ---------------------------------------------- structs and stackalloc
        private static unsafe int Structs()
        {
            Span<int> span = stackalloc int[16];
            for (int i = 0; i < span.Length; i++)
                span[i] = i * 3 + 1;
            int* raw = stackalloc int[4];
            for (int i = 0; i < 4; i++)
                raw[i] = span[i * 4];
            var a = new Point(raw[0], raw[1]);
            var b = new Point(raw[2], raw[3]);
            return a.Dot(b) + span[15];
        }

        // ------------------------------------- a big method (fat header, > 63 bytes)
        private static long BigMethod(int seed)
        {
            long a = seed, b = seed * 7L, c = seed ^ 0x5A5A, d = 1;
            a += b * 3 - c; b ^= a << 2; c += a - b; d *= (a & 0xFF) + 1;
            a += b * 5 - c; b ^= a << 3; c += a - b; d *= (b & 0xFF) + 1;
            a += b * 7 - c; b ^= a << 1; c += a - b; d += (c & 0xFF) + 1;
            a += b * 11 - c; b ^= a << 2; c += a - b; d ^= (a & 0xFF) + 1;
            a += b * 13 - c; b ^= a << 3; c += a - b; d += (b & 0xFF) + 1;
            string s = a.ToString() + b.ToString() + c.ToString() + d.ToString();
            return a + b + c + d + s.Length;
        }

        // -------------------------------------------------------------- switch
        private static string Switches()
        {
            var parts = new List<string>();
            for (int i = -1; i < 12; i++)
            {
                switch (i)
                {
                    case 0: parts.Add("zero"); break;
                    case 1: parts.Add("one"); break;
                    case 2: parts.Add("two"); break;
                    case 3: parts.Add("three"); break;
                    case 4: parts.Add("four"); break;
                    case 5: parts.Add("five"); break;
                    case 6: parts.Add("six"); break;
                    case 7: parts.Add("seven"); break;
                    case 8:
                    case 9: parts.Add("eight-nine"); break;
                    default: parts.Add("other"); break;
                }
            }
            foreach (string w in new[] { "alpha", "beta", "gamma", "delta", "x" })
            {
                parts.Add(w switch
                {
                    "alpha" => "A",
                    "beta" => "B",
                    "gamma" => "C",
                    "delta" => "D",
                    _ => "?",
                });
            }
            return string.Join(",", parts);
        }

        // ------------------------------------------ many threads JIT at once
        // Value-type instantiations are compiled separately, so each thread
        // starts JIT-compiling a method nobody has compiled yet, all at once.
        private struct V0 { }
        private struct V1 { }
        private struct V2 { }
        private struct V3 { }
        private struct V4 { }
        private struct V5 { }
        private struct V6 { }
        private struct V7 { }
        private struct V8 { }
        private struct V9 { }
        private struct V10 { }
        private struct V11 { }
        private struct V12 { }
        private struct V13 { }
        private struct V14 { }
        private struct V15 { }

        private static int Work<T>(int seed) where T : struct
        {
            var list = new List<T>();
            for (int i = 0; i < 4; i++)
                list.Add(default);
            int h = seed;
            try
            {
                foreach (T item in list)
                    h = h * 31 + typeof(T).Name.Length + item.GetType().Name[1] + list.Count;
            }
            finally
            {
                h ^= 0x1234;
            }
            return h;
        }

        private static string ConcurrentJit()
        {
            Func<int, int>[] works =
            {
                Work<V0>, Work<V1>, Work<V2>, Work<V3>, Work<V4>, Work<V5>, Work<V6>, Work<V7>,
                Work<V8>, Work<V9>, Work<V10>, Work<V11>, Work<V12>, Work<V13>, Work<V14>, Work<V15>,
            };
            var results = new int[works.Length];
            using var barrier = new Barrier(works.Length);
            var threads = new Thread[works.Length];
            for (int t = 0; t < works.Length; t++)
            {
                int index = t;
                threads[t] = new Thread(() =>
                {
                    barrier.SignalAndWait();
                    results[index] = works[index](index);
                });
                threads[t].Start();
            }
            foreach (Thread th in threads)
                th.Join();
            return string.Join(",", results);
        }

        // ---------------------------------- a collectible load context, 100 times
        [MethodImpl(MethodImplOptions.NoInlining)]
        private static (int result, WeakReference alc) LoadAndRun(string path, int seed)
        {
            var alc = new AssemblyLoadContext("plugin" + seed, isCollectible: true);
            Assembly asm = alc.LoadFromAssemblyPath(path);
            MethodInfo run = asm.GetType("Collectible.Plugin").GetMethod("Run");
            int result = (int)run.Invoke(null, new object[] { seed });
            alc.Unload();
            return (result, new WeakReference(alc));
        }

        private static string Collectible(string path, int iterations)
        {
            long sum = 0;
            int stuck = 0;
            for (int i = 0; i < iterations; i++)
            {
                var (result, weak) = LoadAndRun(path, i);
                sum += result;
                for (int n = 0; weak.IsAlive && n < 50; n++)
                {
                    GC.Collect();
                    GC.WaitForPendingFinalizers();
                }
                if (weak.IsAlive)
                    stuck++;
            }
            // Let the runtime finish tearing down the last contexts' modules.
            for (int n = 0; n < 5; n++)
            {
                GC.Collect();
                GC.WaitForPendingFinalizers();
            }
            return "sum=" + sum + " stuck=" + stuck;
        }

        private static long RssKiB()
        {
            if (!OperatingSystem.IsLinux())
                return Environment.WorkingSet / 1024;
            foreach (string line in File.ReadLines("/proc/self/status"))
                if (line.StartsWith("VmRSS:"))
                    return long.Parse(line.Substring(6).Trim().Split(' ')[0]);
            return -1;
        }

        private static int Main(string[] args)
        {
            // Start-up measurement: the runtime up, Main reached, nothing else.
            if (args.Length == 1 && args[0] == "--startup")
            {
                Say("started");
                return 0;
            }
            if (args.Length < 1)
            {
                Console.Error.WriteLine("usage: ProfTest <Collectible.dll> [iterations]");
                return 2;
            }
            int iterations = args.Length > 1 ? int.Parse(args[1]) : 100;
            Say("answer=" + Targets.Answer());
            Say("not-the-answer=" + Targets.NotTheAnswer());
            Say("exceptions=" + Exceptions());
            Say("generics=" + Generics());
            Say("async=" + Chain().GetAwaiter().GetResult());
            Say("linq=" + Linq());
            Say("structs=" + Structs());
            Say("big=" + BigMethod(12345));
            Say("switch=" + Switches());
            Say("threads=" + ConcurrentJit());
            long rssBefore = RssKiB();
            Say("collectible=" + Collectible(Path.GetFullPath(args[0]), iterations));
            long rssAfter = RssKiB();
            // RSS varies run to run: stderr, for the test script to judge.
            Console.Error.WriteLine("rss_kib_before_alc=" + rssBefore + " rss_kib_after_alc=" + rssAfter);
            Say("done");
            return 0;
        }
    }
}
