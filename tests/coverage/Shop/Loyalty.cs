using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading.Tasks;

namespace Shop;

// Loyalty points: closures, local functions, a static constructor, field
// initializers, using, null operators, an iterator with finally and an async
// method that awaits in catch and finally.
public sealed class Loyalty
{
    private static readonly Dictionary<Category, int> PointsPerEuro;
    private readonly Dictionary<string, int> points = new(StringComparer.Ordinal);
    private readonly List<string> journal = new() { "opened" };

    static Loyalty()
    {
        PointsPerEuro = new Dictionary<Category, int>
        {
            [Category.Food] = 1,
            [Category.Book] = 2,
            [Category.Electronics] = 1,
            [Category.Clothing] = 3,
            [Category.Toy] = 2,
        };
    }

    public IReadOnlyList<string> Journal => journal;

    public int Balance(string customer) => points.TryGetValue(customer, out int p) ? p : 0;

    public int Earn(Order order)
    {
        if (!order.Paid)
        {
            return 0;
        }
        int bonus = 0;
        int Points(OrderLine l) => (int)l.Total.Amount * PointsPerEuro[l.Category] + bonus;
        bonus = order.Lines.Count > 1 ? 5 : 0;
        int earned = order.Lines.Sum(Points);
        points[order.Customer] = Balance(order.Customer) + earned;
        journal.Add($"{order.Customer} +{earned}");
        return earned;
    }

    public Func<int, bool> CanRedeem(string customer)
    {
        int balance = Balance(customer);
        return cost => cost > 0 && cost <= balance;
    }

    public string? Tier(string? customer)
    {
        int p = customer is null ? -1 : Balance(customer);
        string? tier = p switch { < 0 => null, < 100 => "bronze", < 500 => "silver", _ => "gold" };
        return tier?.ToUpperInvariant() ?? "NONE";
    }

    public string Export()
    {
        using var writer = new StringWriter();
        foreach (KeyValuePair<string, int> kv in points.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            writer.Write(kv.Key);
            writer.Write('=');
            writer.WriteLine(kv.Value);
        }
        return writer.ToString();
    }

    // An iterator with try/finally: the finally runs when the caller stops early.
    public IEnumerable<string> Statement(string customer)
    {
        journal.Add("statement " + customer);
        try
        {
            foreach (string entry in journal.Where(e => e.StartsWith(customer + " ", StringComparison.Ordinal)).ToList())
            {
                yield return entry;
            }
        }
        finally
        {
            journal.Add("statement done");
        }
    }

    public async Task<bool> SyncAsync(Func<string, Task> upload)
    {
        string text = Export();
        try
        {
            await upload(text);
            return true;
        }
        catch (IOException e)
        {
            await Task.Yield();
            journal.Add("sync failed: " + e.Message);
            return false;
        }
        finally
        {
            await Task.Yield();
            journal.Add("sync attempted");
        }
    }
}
