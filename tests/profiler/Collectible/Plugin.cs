using System;
using System.Collections.Generic;

namespace Collectible
{
    // Each method is JIT-compiled anew in every load context, so the profiler
    // rewrites its bodies into the heap of that context's module.
    public static class Plugin
    {
        public static int Run(int seed)
        {
            int total = 0;
            foreach (int v in Values(seed))
                total += Mix(v);
            try
            {
                if (total % 3 == 7)
                    throw new InvalidOperationException();
            }
            catch (InvalidOperationException) when (seed < 0)
            {
                total = -1;
            }
            finally
            {
                total ^= 0x55;
            }
            return total;
        }

        // try/finally inside an iterator: the compiler adds a fault clause
        // to MoveNext, so every load context brings one to rewrite.
        private static IEnumerable<int> Values(int seed)
        {
            try
            {
                for (int i = 0; i < 8; i++)
                    yield return seed * 31 + i;
            }
            finally
            {
                Finished++;
            }
        }

        public static int Finished;

        private static int Mix(int v)
        {
            switch (v & 7)
            {
                case 0: return v + 1;
                case 1: return v * 3;
                case 2: return v - 7;
                case 3: return v ^ 0x1F;
                case 4: return v << 1;
                case 5: return v >> 1;
                case 6: return ~v;
                default: return v;
            }
        }
    }
}
