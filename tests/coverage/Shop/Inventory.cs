using System;
using System.Collections.Generic;

namespace Shop;

public sealed class OutOfStockException : Exception
{
    public OutOfStockException(string sku, int wanted, int available)
        : base($"{sku}: wanted {wanted}, {available} in stock")
    {
        Sku = sku;
        Wanted = wanted;
        Available = available;
    }

    public string Sku { get; }

    public int Wanted { get; }

    public int Available { get; }
}

// Stock per SKU; reservations of several items succeed or fail together.
public sealed class Inventory
{
    private readonly Dictionary<string, int> stock = new(StringComparer.Ordinal);
    private readonly object gate = new();

    public List<string> Log { get; } = new();

    public int Reservations { get; private set; }

    public int Available(string sku)
    {
        lock (gate)
        {
            return stock.TryGetValue(sku, out int n) ? n : 0;
        }
    }

    public void Restock(string sku, int quantity)
    {
        if (quantity <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(quantity));
        }
        lock (gate)
        {
            stock[sku] = (stock.TryGetValue(sku, out int n) ? n : 0) + quantity;
        }
    }

    public void Reserve(string sku, int quantity)
    {
        lock (gate)
        {
            int have = stock.TryGetValue(sku, out int n) ? n : 0;
            if (have < quantity)
            {
                throw new OutOfStockException(sku, quantity, have);
            }
            stock[sku] = have - quantity;
            Reservations++;
        }
    }

    public void Release(string sku, int quantity)
    {
        lock (gate)
        {
            stock[sku] = (stock.TryGetValue(sku, out int n) ? n : 0) + quantity;
            Reservations--;
        }
    }

    public bool TryReserveAll(IReadOnlyList<(string Sku, int Quantity)> items)
    {
        var done = new List<(string Sku, int Quantity)>();
        try
        {
            foreach ((string sku, int quantity) in items)
            {
                Reserve(sku, quantity);
                done.Add((sku, quantity));
            }
            return true;
        }
        catch (OutOfStockException e) when (e.Available > 0)
        {
            Log.Add($"partial: {e.Sku} has {e.Available} of {e.Wanted}");
            Rollback(done);
            return false;
        }
        catch (OutOfStockException e)
        {
            Log.Add($"none: {e.Sku}");
            Rollback(done);
            return false;
        }
        finally
        {
            Log.Add($"reserved {done.Count} of {items.Count}");
        }
    }

    private void Rollback(List<(string Sku, int Quantity)> done)
    {
        for (int i = done.Count - 1; i >= 0; i--)
        {
            Release(done[i].Sku, done[i].Quantity);
        }
    }

    // Never called by the tests.
    public int Clear()
    {
        lock (gate)
        {
            int n = stock.Count;
            stock.Clear();
            Log.Add("cleared");
            return n;
        }
    }
}
