// The branch rules of docs/coverage.md ("Branches"): each @br-N-K marker line
// must carry K branch outcomes in ilheap's report (tests/tools/test_cover.sh).
using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading.Tasks;

namespace CoverSample
{
    public static class Branches
    {
        private static readonly object Gate = new object();
        private static int counter;

        public static int If(int x)
        {
            if (x > 0) // @br-if-2
                return 1;
            return 0;
        }

        public static IEnumerable<int> CachedLambda(IEnumerable<int> xs)
        {
            return xs.Select(x => x + 1); // @br-lambda-0
        }

        private static int Twice(int x) => x * 2;

        public static IEnumerable<int> CachedMethodGroup(IEnumerable<int> xs)
        {
            return xs.Select(Twice); // @br-group-0
        }

        public static long Using()
        {
            using (var s = new MemoryStream()) // @br-using-0
            {
                return s.Length;
            } // @br-using-end-0
        }

        public static void Lock()
        {
            lock (Gate) // @br-lock-0
            {
                counter++;
            } // @br-lock-end-0
        }

        public static int Foreach(IEnumerable<int> xs)
        {
            int sum = 0;
            foreach (int x in xs) // @br-foreach-2
                sum += x;
            return sum; // @br-foreach-end-0
        }

        public static async Task<int> Await(int x)
        {
            await Task.Yield(); // @br-await-0
            return x + 1;
        }

        public static IEnumerable<int> Iterator(int n)
        {
            if (n > 0) // @br-iterator-2
                yield return n;
        }

        public static string SwitchExpression(int x)
        {
            string s = x switch // @br-switch-expr-4
            {
                0 => "zero",
                1 => "one",
                _ => "many",
            };
            return s;
        }

        public static int Filter(Func<int> f)
        {
            try
            {
                return f();
            }
            catch (Exception e) when (e is ArgumentException) // @br-filter-0
            {
                return -1;
            }
        }

        public static int? NullConditional(string? s)
        {
            return s?.Length; // @br-nullcond-2
        }

        public static string Coalesce(string? s)
        {
            return s ?? "none"; // @br-coalesce-2
        }

        private static void Fail(string why) => throw new InvalidOperationException(why);

        public static int ThrowHelper(int x)
        {
            Fail("never"); // @throw-call
            return x; // @throw-after
        }

        public static int Guard(int x)
        {
            if (x < 0) // @guard-if
                Fail("negative");
            return x;
        }

        public static int Join(int a)
        {
            int x = 0;
            if (a > 0) // @join-if
                x++;
            return x; // @join-after
        }

        // Edge probes (docs/coverage.md, "Edge counts"), run by Run.Main under
        // the profiler: outcomes that block counts cannot tell apart.
        public static string SharedCases(int x)
        {
            switch (x) // @br-shared-switch-7
            {
                case 10: case 11: case 12: return "a";
                case 13: return "b";
                case 14: case 15: return "c";
                default: return "z";
            }
        }

        public static int ParsedPositive(string s)
        {
            int r = 0;
            if (int.Parse(s) > 0) // @br-parsed-2
                r = 1;
            return r;
        }

        public static int DoWhile(int n)
        {
            int i = 0;
            do
            {
                if (i == n) // @br-do-break-2
                    break;
                i++;
            } while (i < 5); // @br-do-while-2
            return i;
        }
    }
}
