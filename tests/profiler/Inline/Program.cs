// Known counts of callees the JIT inlines (run_inline.sh): Hot's loop runs
// long enough to be recompiled optimized (OSR, tier 1), and the optimized
// code inlines Small's methods. Add and Abs run from the first round, so
// their instrumented bodies are in place when Hot is recompiled; Late runs
// only in the second half, so a recompilation of Hot may come before its body.
//
// Counts (one run): Hot 400 calls; Add 800,000; Abs 400,000 (half of them
// negative: 200,000 each way); Late 200,000. stdout is the same sum with or
// without the profiler.
using System;
using System.Runtime.CompilerServices;
using System.Threading;

namespace InlineApp
{
    public static class Small
    {
        public static int Add(int a, int b) => a + b;

        public static int Abs(int x)
        {
            if (x < 0)
                return -x;
            return x;
        }

        public static int Late(int x) => x * 3;
    }

    public static class Program
    {
        [MethodImpl(MethodImplOptions.NoInlining)]
        private static long Hot(int n, bool late)
        {
            long s = 0;
            for (int i = 0; i < n; i++)
            {
                s += Small.Add(i, 1);
                s += Small.Abs(i % 2 == 0 ? i : -i);
                if (late)
                    s += Small.Late(i);
                s += Small.Add(s > 0 ? 1 : 0, 2);
            }
            return s;
        }

        public static int Main()
        {
            long total = 0;
            for (int r = 0; r < 200; r++)
                total += Hot(1000, false);
            Thread.Sleep(300); // the background tier-up of Hot, before Late runs
            for (int r = 0; r < 200; r++)
                total += Hot(1000, true);
            Console.WriteLine(total);
            return 0;
        }
    }
}
