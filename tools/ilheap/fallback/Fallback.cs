// The fallback input of `ilheap scan` / `ilheap rehome` (used where no .NET
// runtime is installed). Small, but with every body shape the tools handle:
// tiny headers, fat headers (locals, > 63 bytes of IL, > 8 stack slots), and
// exception clauses of all four kinds (catch, filter, finally, fault).
using System;
using System.Collections.Generic;

namespace IlHeap.Fallback
{
    public static class Samples
    {
        // tiny: a few bytes of IL, no locals
        public static int Add(int a, int b) => a + b;
        public static int Constant() => 42;

        // fat: locals and a loop
        public static long Sum(int[] values)
        {
            long total = 0;
            for (int i = 0; i < values.Length; i++)
                total += values[i] * (long)(i + 1);
            return total;
        }

        // fat: more than 63 bytes of IL
        public static string Describe(int n)
        {
            switch (n % 7)
            {
                case 0: return "zero " + n.ToString();
                case 1: return "one " + (n * 3).ToString();
                case 2: return "two " + (n - 11).ToString();
                case 3: return "three " + (n / 2).ToString();
                case 4: return "four " + (n ^ 0x55).ToString();
                case 5: return "five " + (n << 2).ToString();
                default: return "many " + (n & 0xFF).ToString();
            }
        }

        // catch clause
        public static int ParseOr(string s, int fallback)
        {
            try { return int.Parse(s); }
            catch (FormatException) { return fallback; }
        }

        // filter clause
        public static int Guarded(Func<int> f)
        {
            try { return f(); }
            catch (InvalidOperationException e) when (e.Message.Length > 3) { return -1; }
        }

        // finally clause, nested in a catch
        public static int Counted(List<int> list)
        {
            int n = 0;
            try
            {
                try { foreach (int x in list) n += x; }
                finally { n++; }
            }
            catch (Exception) { n = -n; }
            return n;
        }

        // an iterator
        public static IEnumerable<int> Squares(int count)
        {
            for (int i = 0; i < count; i++)
                yield return i * i;
        }

        // fault clause: an iterator over a foreach (MoveNext disposes the
        // enumerator in a fault handler)
        public static IEnumerable<int> Doubled(IEnumerable<int> source)
        {
            foreach (int x in source)
                yield return x * 2;
        }

        // using: finally
        public static int Disposed(IDisposable d)
        {
            using (d)
                return d.GetHashCode();
        }
    }
}
