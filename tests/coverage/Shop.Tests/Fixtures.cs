using System;
using System.Threading;
using System.Threading.Tasks;

namespace Shop.Tests;

internal static class Fixtures
{
    public static readonly Product Apple = new("F-APPLE", "Apple", Category.Food, new Money(0.40m, "EUR"), 150);
    public static readonly Product Novel = new("B-NOVEL", "A Long Novel", Category.Book, new Money(12.99m, "EUR"), 400);
    public static readonly Product Phone = new("E-PHONE", "Phone", Category.Electronics, new Money(399m, "EUR"), 180);
    public static readonly Product Shirt = new("C-SHIRT", "Shirt", Category.Clothing, new Money(25m, "EUR"), 250);
    public static readonly Product Crane = new("T-CRANE", "Toy Crane", Category.Toy, new Money(49.5m, "EUR"), 6200);
    public static readonly Product Tea = new("F-TEA", "Green Tea", Category.Food, new Money(4m, "USD"), 100);

    public static Catalog Catalog()
    {
        var c = new Catalog();
        c.Add(Apple);
        c.Add(Novel);
        c.Add(Phone);
        c.Add(Shirt);
        c.Add(Crane);
        c.Add(Tea);
        return c;
    }

    public static Inventory Stocked()
    {
        var inv = new Inventory();
        inv.Restock(Apple.Sku, 100);
        inv.Restock(Novel.Sku, 3);
        inv.Restock(Phone.Sku, 1);
        inv.Restock(Shirt.Sku, 10);
        return inv;
    }
}

// A payment gateway whose answer depends on the customer's name.
internal sealed class FakeGateway : IPaymentGateway
{
    public int Charges { get; private set; }

    public async Task<bool> ChargeAsync(string customer, Money amount, CancellationToken cancel)
    {
        Charges++;
        await Task.Yield();
        cancel.ThrowIfCancellationRequested();
        return customer switch
        {
            "timeout" => throw new TimeoutException("gateway timed out"),
            "broke" => false,
            _ => amount.Amount < 10000m,
        };
    }
}
