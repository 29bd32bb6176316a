using System;
using System.Collections.Generic;
using System.Linq;
using System.Numerics;
using System.Text;

namespace Shop;

public static class Stats
{
    // Generic over value types (int, Money) and reference types (string).
    public static T Max<T>(IEnumerable<T> items) where T : IComparable<T>
    {
        using IEnumerator<T> e = items.GetEnumerator();
        if (!e.MoveNext())
        {
            throw new InvalidOperationException("no items");
        }
        T best = e.Current;
        while (e.MoveNext())
        {
            if (e.Current.CompareTo(best) > 0)
            {
                best = e.Current;
            }
        }
        return best;
    }

    public static TNumber Sum<TNumber>(IEnumerable<TNumber> values) where TNumber : INumber<TNumber>
    {
        TNumber sum = TNumber.Zero;
        foreach (TNumber v in values)
        {
            sum += v;
        }
        return sum;
    }

    public static double Median(IReadOnlyList<int> values)
    {
        if (values.Count == 0)
        {
            return double.NaN;
        }
        int[] sorted = values.OrderBy(v => v).ToArray();
        int mid = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2.0;
    }
}

// Counts per key, reported most frequent first, ties by key.
public sealed class Histogram<TKey> where TKey : notnull
{
    private readonly SortedDictionary<TKey, int> counts = new();

    public int Total { get; private set; }

    public void Add(TKey key, int times = 1)
    {
        counts[key] = counts.TryGetValue(key, out int n) ? n + times : times;
        Total += times;
    }

    public IEnumerable<(TKey Key, int Count)> Top(int n) =>
        counts.OrderByDescending(kv => kv.Value).Take(n).Select(kv => (kv.Key, kv.Value));

    public double Share(TKey key) => Total == 0 ? 0 : (counts.TryGetValue(key, out int c) ? c : 0) / (double)Total;
}

public static class SalesReport
{
    public static IReadOnlyDictionary<Category, Money> RevenueByCategory(IEnumerable<Order> orders, string currency) =>
        orders
            .Where(o => o.Paid)
            .SelectMany(o => o.Lines)
            .GroupBy(l => l.Category)
            .OrderBy(g => g.Key)
            .ToDictionary(g => g.Key, g => g.Aggregate(Money.Zero(currency), (sum, l) => sum + l.Total));

    public static IEnumerable<string> Lines(IEnumerable<Order> orders, int limit)
    {
        if (limit <= 0)
        {
            yield break;
        }
        int n = 0;
        foreach (Order o in orders.OrderBy(o => o.Id))
        {
            if (n == limit)
            {
                yield return "...";
                yield break;
            }
            yield return o.Paid ? $"#{o.Id} {o.Customer} {o.Total}" : $"#{o.Id} {o.Customer} rejected: {o.Status}";
            n++;
        }
    }

    public static string Format(IEnumerable<Order> orders)
    {
        var sb = new StringBuilder();
        foreach (string line in Lines(orders, 10))
        {
            sb.Append(line).Append('\n');
        }
        Histogram<string> customers = new();
        foreach (Order o in orders)
        {
            customers.Add(o.Customer);
        }
        foreach ((string customer, int count) in customers.Top(3))
        {
            sb.Append(customer).Append(": ").Append(count).Append('\n');
        }
        return sb.ToString();
    }

    // Never called by the tests.
    public static string Chart(Histogram<Category> histogram, int width)
    {
        var sb = new StringBuilder();
        foreach ((Category c, int count) in histogram.Top(10))
        {
            int bar = (int)Math.Round(histogram.Share(c) * width);
            sb.Append(c.ToString().PadRight(12)).Append(new string('#', bar)).Append(' ').Append(count).Append('\n');
        }
        return sb.ToString();
    }
}
