// The coverage test's sample (tests/tools/test_cover.sh): the test finds lines
// by their @markers and gives each method's blocks hits by hand.
namespace CoverSample
{
    public static class Sample
    {
        public static int Sign(int x)
        {
            if (x > 0) // @sign-if
                return 1; // @sign-pos
            return 0; // @sign-zero
        }

        public static int Pick(int x)
        {
            switch (x) // @pick-switch
            {
                case 0: return 10; // @pick-0
                case 1: return 20; // @pick-1
                case 2: return 30; // @pick-2
                default: return 40; // @pick-default
            }
        }

        public static int Never(int x)
        {
            return x * 3; // @never
        }

        public class Inner
        {
            public int Twice(int v) => v * 2; // @inner
        }
    }
}
