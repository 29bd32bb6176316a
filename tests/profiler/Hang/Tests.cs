// The code under test (Lib) is entered a known number of times by tests that
// finish (Add: 3, Twice: 2, and BeforeHang once by the test that never
// ends); expected-hang.txt lists those counts for check_counts.py. The
// hanging test writes the file HANG_MARK names before it hangs: the test
// host was killed for that hang, not while it was still starting.
using System;
using System.IO;
using System.Runtime.CompilerServices;
using System.Threading;
using Xunit;

namespace HangTests
{
    public static class Lib
    {
        [MethodImpl(MethodImplOptions.NoInlining)]
        public static int Add(int a, int b) => a + b;

        [MethodImpl(MethodImplOptions.NoInlining)]
        public static int Twice(int a)
        {
            if (a < 0)
                return 0;
            return 2 * a;
        }

        [MethodImpl(MethodImplOptions.NoInlining)]
        public static int BeforeHang(int a) => a + 1;
    }

    public class Finishing
    {
        [Fact]
        public void Adds()
        {
            Assert.Equal(3, Lib.Add(1, 2));
            Assert.Equal(5, Lib.Add(2, 3));
            Assert.Equal(0, Lib.Add(-1, 1));
        }

        [Fact]
        public void Doubles()
        {
            Assert.Equal(4, Lib.Twice(2));
            Assert.Equal(0, Lib.Twice(-3));
        }
    }

    public class Hanging
    {
        [Fact]
        public void NeverEnds()
        {
            Assert.Equal(2, Lib.BeforeHang(1));
            string mark = Environment.GetEnvironmentVariable("HANG_MARK");
            if (mark != null)
                File.WriteAllText(mark, "hanging\n");
            Thread.Sleep(Timeout.Infinite);
        }
    }
}
