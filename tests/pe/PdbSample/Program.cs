// Sample code for the portable PDB reader's differential test: branches,
// loops, exceptions, async (state machines), LINQ lambdas, generics, and
// #line directives, which switch documents inside one method.
using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading.Tasks;

internal static class Program
{
    private static int Classify(int x)
    {
        if (x < 0)
            return -1;
        else if (x == 0)
            return 0;
        switch (x % 3)
        {
            case 0: return 3;
            case 1: return 4;
            default: return 5;
        }
    }

    private static int Loops(int n)
    {
        int sum = 0;
        for (int i = 0; i < n; i++)
            sum += i;
        foreach (int v in new[] { 1, 2, 3 })
            sum += v;
        while (sum > 100)
            sum /= 2;
        return sum;
    }

    private static string Exceptions(int x)
    {
        try
        {
            if (x > 2) throw new InvalidOperationException("big");
            return "small";
        }
        catch (InvalidOperationException e) when (e.Message == "big")
        {
            return "caught";
        }
        finally
        {
            Console.Write("");
        }
    }

    private static async Task<int> AsyncWork(int x)
    {
        await Task.Yield();
        int y = x * 2;
        await Task.Delay(1);
        return y + 1;
    }

    private static T Largest<T>(IEnumerable<T> items) where T : IComparable<T>
    {
        T best = default;
        bool first = true;
        foreach (T item in items)
        {
            if (first || item.CompareTo(best) > 0) { best = item; first = false; }
        }
        return best;
    }

    private static int Linq(int[] xs)
    {
        return xs.Where(v => v % 2 == 0).Select(v => v * v).Sum();
    }

    private static int Documents(int x)
    {
        int a = x + 1;
#line 100 "Generated.cs"
        int b = a * 2;
#line hidden
        int c = b - 1;
#line default
        return c;
    }

    private static IEnumerable<int> Iterator(int n)
    {
        for (int i = 0; i < n; i++)
            yield return i * i;
    }

    private static int Main(string[] args)
    {
        int total = Classify(args.Length) + Loops(10) + Exceptions(3).Length + AsyncWork(2).Result;
        total += Largest(new[] { 3, 9, 4 }) + Linq(new[] { 1, 2, 3, 4 }) + Documents(1) + Iterator(4).Sum();
        Func<int, int> twice = v =>
        {
            int r = v * 2;
            return r;
        };
        Console.WriteLine(total + twice(total));
        return 0;
    }
}
