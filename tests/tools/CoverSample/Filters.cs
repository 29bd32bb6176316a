// The coverage filters of tests/tools/test_cover.sh: each @marker line must be
// in the reports (@keep-*) or left out (@drop-*), with or without options.
using System;
using System.Collections.Generic;
using System.Diagnostics.CodeAnalysis;
using System.Linq;
using System.Threading.Tasks;

namespace CoverSample
{
    [AttributeUsage(AttributeTargets.All)]
    public sealed class SkipMeAttribute : Attribute { }

    public static class Filters
    {
        public static int Kept(int x)
        {
            return x + 1; // @keep-method
        }

        [ExcludeFromCodeCoverage]
        public static int Dropped(int x)
        {
            Func<int, int> twice = v => v * 2; // @drop-method
            return twice(x) // @drop-method-2
                + Local(x);
            int Local(int y) => y + 7; // @drop-local
        }

        [ExcludeFromCodeCoverage]
        public static IEnumerable<int> DroppedIterator(int n)
        {
            for (int i = 0; i < n; i++)
                yield return i; // @drop-iterator
        }

        [ExcludeFromCodeCoverage]
        public static async Task<int> DroppedAsync(int x)
        {
            await Task.Yield();
            return x + 3; // @drop-async
        }

        public static async Task<int> KeptAsync(int x)
        {
            await Task.Yield();
            return x + 4; // @keep-async
        }

        public static IEnumerable<int> KeptLambda(IEnumerable<int> xs)
        {
            return xs.Where(x =>
                x > 2); // @keep-lambda
        }

        public static int Property
        {
            [ExcludeFromCodeCoverage]
            get { return 5; } // @drop-getter
            set { _ = value; } // @keep-setter
        }

        [ExcludeFromCodeCoverage]
        public static int WholeProperty
        {
            get { return 6; } // @drop-property-get
            set { _ = value; } // @drop-property-set
        }

        public static int Auto { get; set; } // @auto

        [SkipMe]
        public static int Custom(int x)
        {
            return x - 1; // @custom
        }
    }

    [ExcludeFromCodeCoverage]
    public class DroppedType
    {
        public int Value() => 42; // @drop-type

        public class Nested
        {
            public int More() => 43; // @drop-nested
        }
    }
}
