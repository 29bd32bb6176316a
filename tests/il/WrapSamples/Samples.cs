// Each method is one shape a tracer's wrapper must handle (docs/il-rewriter.md);
// test_il_wrap_samples.sh wraps
// every method of this assembly (one exit, try/finally around the body,
// after the base constructor call in constructors, entry probe) and checks
// each result with the verifier. The names say the shape.
using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;

namespace WrapSamples
{
    public class Base
    {
        protected int seed;
        public Base(int seed) { this.seed = seed; }
    }

    public class Derived : Base
    {
        private int initialized = 42;                 // a field initializer: before the base call
        private readonly string name;

        public Derived(int x) : base(x > 0 ? x : -x)  // a conditional base argument
        {
            name = x.ToString();
        }

        public Derived(string s) : this(s.Length)     // this(...) chaining
        {
            initialized += s.Length;
        }

        public override string ToString() => name + initialized + seed;
    }

    public struct Point
    {
        public int X, Y;
        public Point(int x, int y) { X = x; Y = y; } // a struct: no base call
        public int Sum() => X + Y;
        public Point Swap() => new Point(Y, X);
    }

    public ref struct Window
    {
        public Span<int> Items;
        public Window(Span<int> items) { Items = items; }
        public int First() => Items.Length > 0 ? Items[0] : -1;
    }

    public static class Samples
    {
        private static int[] store = new int[16];

        public static int Straight(int a, int b) => a * b + 1;

        public static int ManyReturns(int x)
        {
            if (x < 0) return -1;
            if (x == 0) return 0;
            for (int i = 0; i < x; i++)
                if (i * i > x) return i;
            return x;
        }

        public static string Switch(int k)
        {
            switch (k)
            {
                case 0: return "zero";
                case 1: return "one";
                case 2: return "two";
                case 3: return "three";
                case 4: return "four";
                default: return "many";
            }
        }

        public static int TryCatch(string s)
        {
            try { return int.Parse(s); }
            catch (FormatException) { return -1; }
            catch (OverflowException) { return -2; }
        }

        public static int TryFinallyExisting(int[] a)
        {
            int sum = 0;
            try { foreach (int v in a) sum += v; }
            finally { sum ^= 1; store[0] = sum; }
            return sum;
        }

        public static int Filter(string s)
        {
            try { return int.Parse(s); }
            catch (Exception e) when (e is FormatException && s.Length > 2) { return -3; }
            catch (Exception e) when (e.Message.Length > 0) { return -4; }
        }

        public static int Nested(int x)
        {
            try
            {
                try { if (x == 1) throw new InvalidOperationException(); return x; }
                catch (InvalidOperationException) { return -x; }
                finally { store[1]++; }
            }
            catch (Exception) { return 0; }
            finally { store[2]++; }
        }

        public static void HandlerLast(Action a)
        {
            while (true)
            {
                try { a(); return; }
                catch (Exception) { store[3]++; }
            }
        }

        public static unsafe int Localloc(int n)
        {
            int* p = stackalloc int[n < 64 ? n : 64];
            for (int i = 0; i < n && i < 64; i++) p[i] = i;
            return n > 0 ? p[n < 64 ? n - 1 : 63] : 0;
        }

        public static int StackallocSpan(int n)
        {
            Span<int> s = stackalloc int[8];
            for (int i = 0; i < s.Length; i++) s[i] = i * n;
            return s[7];
        }

        public static int SpanParam(Span<int> s, ReadOnlySpan<byte> b)
        {
            int t = 0;
            foreach (int v in s) t += v;
            return t + b.Length;
        }

        public static Span<int> SpanReturn(int[] a) => a.AsSpan(1);

        public static ref int RefReturn(int[] a, int i) => ref a[i];

        public static ref readonly int RefReadonlyReturn(in int x) => ref x;

        public static Point StructReturn(int x) => new Point(x, x + 1);

        public static T Generic<T>(T x, List<T> list)
        {
            list.Add(x);
            return list.Count > 1 ? list[0] : x;
        }

        public static int GenericValue(int x) => Generic(x, new List<int>()) + GenericStruct(new KeyValuePair<int, int>(x, x)).Key;

        public static string GenericReference(string s) => Generic(s, new List<string>());

        public static KeyValuePair<K, V> GenericStruct<K, V>(KeyValuePair<K, V> kv) where K : struct => kv;

        public static int Varargs(int n, __arglist)
        {
            var it = new ArgIterator(__arglist);
            int t = n;
            while (it.GetRemainingCount() > 0) t += __refvalue(it.GetNextArg(), int);
            return t;
        }

        public static int CallVarargs() => Varargs(1, __arglist(2, 3));

        public static int Lock(object o)
        {
            lock (o) { return store[4]++; }
        }

        public static int Using(IDisposable d)
        {
            using (d) { return store[5]; }
        }

        public static IEnumerable<int> Iterator(int n)
        {
            for (int i = 0; i < n; i++) yield return i;
        }

        public static async Task<int> Async(Task<int> t)
        {
            try { return await t + 1; }
            finally { store[6]++; }
        }

        public static void Throws() => throw new InvalidOperationException("always");

        public static int OutParam(out int x, ref int y) { x = y; y++; return x; }

        public static void Loop()
        {
            int i = 0;
            while (Volatile.Read(ref i) < 3) i++;
        }

        public static int Interlocked(ref int x) => System.Threading.Interlocked.Increment(ref x);

        public static int Typed(ref int x)
        {
            TypedReference r = __makeref(x);      // a TypedReference local
            return __refvalue(r, int);
        }
    }
}
