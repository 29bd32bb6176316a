// A CPU-bound workload whose time is spent in its own methods (the ones a
// coverage run instruments): sorting, hashing words, a small physics loop,
// a sieve, and parsing. Prints one checksum line; the same on every run.
using System;
using System.Collections.Generic;
using System.Text;

namespace CpuWork
{
    public static class Program
    {
        private static uint state = 12345;

        private static uint Next()
        {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            return state;
        }

        private static void QuickSort(int[] a, int lo, int hi)
        {
            while (lo < hi)
            {
                int p = a[(lo + hi) >> 1], i = lo, j = hi;
                while (i <= j)
                {
                    while (a[i] < p) i++;
                    while (a[j] > p) j--;
                    if (i <= j)
                    {
                        (a[i], a[j]) = (a[j], a[i]);
                        i++;
                        j--;
                    }
                }
                if (j - lo < hi - i)
                {
                    QuickSort(a, lo, j);
                    lo = i;
                }
                else
                {
                    QuickSort(a, i, hi);
                    hi = j;
                }
            }
        }

        private static long Sort(int n)
        {
            var a = new int[n];
            for (int i = 0; i < n; i++)
                a[i] = (int)(Next() % 1000000);
            QuickSort(a, 0, n - 1);
            long s = 0;
            for (int i = 0; i < n; i += 1000)
                s += a[i];
            return s;
        }

        private static string Word(uint r)
        {
            int len = 2 + (int)(r % 6);
            var c = new char[len];
            for (int i = 0; i < len; i++)
                c[i] = (char)('a' + (r >> (i * 3)) % 7);
            return new string(c);
        }

        private static long Words(int n)
        {
            var counts = new Dictionary<string, int>();
            for (int i = 0; i < n; i++)
            {
                string w = Word(Next());
                counts.TryGetValue(w, out int k);
                counts[w] = k + 1;
            }
            long s = counts.Count;
            foreach (var kv in counts)
                if (kv.Value > 100)
                    s += kv.Value;
            return s;
        }

        private struct Body
        {
            public double X, Y, Vx, Vy, M;
        }

        private static double Physics(int steps)
        {
            var b = new Body[16];
            for (int i = 0; i < b.Length; i++)
                b[i] = new Body { X = i, Y = (i * 7) % 5, Vx = 0, Vy = 0, M = 1 + i % 3 };
            for (int s = 0; s < steps; s++)
            {
                for (int i = 0; i < b.Length; i++)
                {
                    double ax = 0, ay = 0;
                    for (int j = 0; j < b.Length; j++)
                    {
                        if (i == j)
                            continue;
                        double dx = b[j].X - b[i].X, dy = b[j].Y - b[i].Y;
                        double d2 = dx * dx + dy * dy + 0.01;
                        double f = b[j].M / (d2 * Math.Sqrt(d2));
                        ax += f * dx;
                        ay += f * dy;
                    }
                    b[i].Vx += ax * 1e-4;
                    b[i].Vy += ay * 1e-4;
                }
                for (int i = 0; i < b.Length; i++)
                {
                    b[i].X += b[i].Vx * 1e-4;
                    b[i].Y += b[i].Vy * 1e-4;
                }
            }
            double e = 0;
            foreach (var x in b)
                e += x.M * (x.Vx * x.Vx + x.Vy * x.Vy);
            return e;
        }

        private static int Sieve(int n)
        {
            var composite = new bool[n + 1];
            int count = 0;
            for (int i = 2; i <= n; i++)
            {
                if (composite[i])
                    continue;
                count++;
                for (long j = (long)i * i; j <= n; j += i)
                    composite[j] = true;
            }
            return count;
        }

        private static long Parse(int n)
        {
            var sb = new StringBuilder();
            long s = 0;
            for (int i = 0; i < n; i++)
            {
                sb.Clear();
                sb.Append(Next() % 100000).Append(',').Append(i % 977);
                string line = sb.ToString();
                int comma = line.IndexOf(',');
                s += int.Parse(line.AsSpan(0, comma)) + int.Parse(line.AsSpan(comma + 1));
            }
            return s;
        }

        public static int Main(string[] args)
        {
            int scale = args.Length > 0 ? int.Parse(args[0]) : 1;
            long sort = 0, words = 0, parse = 0;
            double physics = 0;
            int primes = 0;
            for (int r = 0; r < scale; r++)
            {
                sort += Sort(1_000_000);
                words += Words(1_000_000);
                physics += Physics(3_000);
                primes += Sieve(5_000_000);
                parse += Parse(500_000);
            }
            Console.WriteLine($"sort={sort} words={words} physics={physics:F6} primes={primes} parse={parse}");
            return 0;
        }
    }
}
