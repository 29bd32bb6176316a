// Left out by --exclude-by-file '**/*.g.cs' (tests/tools/test_cover.sh).
namespace CoverSample
{
    public static class Generated
    {
        public static int Made(int x)
        {
            return x * 5; // @glob
        }
    }
}
