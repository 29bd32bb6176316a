// The program tools_cover runs under the profiler (blocks mode) to check the
// edge probes' exact outcome counts (tests/tools/test_cover.sh).
using System;

namespace CoverSample
{
    public static class Run
    {
        public static int Main()
        {
            int sum = 0;
            foreach (int v in new[] { 10, 10, 12, 13, 99, -5, int.MinValue, 15 })
                sum += Branches.SharedCases(v).Length;
            sum += Branches.ParsedPositive("5");
            foreach (string bad in new[] { "x", "y" })
            {
                try { sum += Branches.ParsedPositive(bad); }
                catch (FormatException) { sum++; }
            }
            sum += Branches.DoWhile(2) + Branches.DoWhile(9);
            Console.WriteLine(sum);
            return 0;
        }
    }
}
