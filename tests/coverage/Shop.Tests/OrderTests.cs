using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Xunit;

namespace Shop.Tests;

public class OrderTests
{
    private static Cart CartOf(params (Product Product, int Quantity)[] items)
    {
        var cart = new Cart("EUR");
        foreach ((Product p, int q) in items)
        {
            cart.Add(p, q);
        }
        return cart;
    }

    [Fact]
    public async Task PlaceManyWithEveryOutcome()
    {
        Inventory inv = Fixtures.Stocked();
        var gateway = new FakeGateway();
        var service = new OrderService(inv, gateway);
        IReadOnlyList<Order> orders = await service.PlaceManyAsync(new[]
        {
            ("ann", CartOf((Fixtures.Apple, 10))),
            ("broke", CartOf((Fixtures.Shirt, 1))),
            ("timeout", CartOf((Fixtures.Novel, 1))),
            ("bob", CartOf((Fixtures.Phone, 2))),
            ("ann", CartOf((Fixtures.Novel, 2), (Fixtures.Shirt, 1))),
        });
        Assert.Equal(new[] { "paid", "declined", "payment error: gateway timed out", "out of stock", "paid" },
            orders.Select(o => o.Status));
        Assert.Equal(4, gateway.Charges);
        Assert.Equal(1, inv.Available("B-NOVEL"));
        Assert.Equal(9, inv.Available("C-SHIRT"));

        int paid = await OrderService.CountPaidAsync(OrderService.StreamAsync(orders));
        Assert.Equal(2, paid);

        IReadOnlyDictionary<Category, Money> revenue = SalesReport.RevenueByCategory(orders, "EUR");
        Assert.Equal(new[] { Category.Food, Category.Book, Category.Clothing }, revenue.Keys);
        Assert.Equal("3.92 EUR", revenue[Category.Food].ToString());

        string report = SalesReport.Format(orders);
        Assert.StartsWith("#1 ann 9.12 EUR\n#2 broke rejected: declined\n", report);
        Assert.EndsWith("ann: 2\nbob: 1\nbroke: 1\n", report);
        Assert.Equal(new[] { "#1 ann 9.12 EUR", "..." }, SalesReport.Lines(orders, 1));
        Assert.Empty(SalesReport.Lines(orders, 0));
    }

    [Fact]
    public async Task CancelledPaymentReleasesStock()
    {
        Inventory inv = Fixtures.Stocked();
        var service = new OrderService(inv, new FakeGateway());
        using var cts = new CancellationTokenSource();
        cts.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(
            () => service.PlaceAsync("carl", CartOf((Fixtures.Shirt, 4)), cts.Token));
        Assert.Equal(10, inv.Available("C-SHIRT"));
        await Assert.ThrowsAsync<InvalidOperationException>(() => service.PlaceAsync("carl", new Cart("EUR")));
    }
}
