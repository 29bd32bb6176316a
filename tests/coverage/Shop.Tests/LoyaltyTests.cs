using System;
using System.IO;
using System.Linq;
using System.Threading.Tasks;
using Xunit;

namespace Shop.Tests;

public class LoyaltyTests
{
    private static async Task<Loyalty> WithTwoOrders()
    {
        var service = new OrderService(Fixtures.Stocked(), new FakeGateway());
        var one = new Cart("EUR");
        one.Add(Fixtures.Shirt, 2);
        one.Add(Fixtures.Novel);
        var two = new Cart("EUR");
        two.Add(Fixtures.Apple, 10);
        var loyalty = new Loyalty();
        Assert.Equal(5 + 50 * 3 + 5 + 12 * 2, loyalty.Earn(await service.PlaceAsync("ann", one)));
        Assert.Equal(3, loyalty.Earn(await service.PlaceAsync("bob", two)));
        Assert.Equal(0, loyalty.Earn(await service.PlaceAsync("broke", two)));
        return loyalty;
    }

    [Fact]
    public async Task EarnTierAndRedeem()
    {
        Loyalty loyalty = await WithTwoOrders();
        Assert.Equal(184, loyalty.Balance("ann"));
        Assert.Equal("SILVER", loyalty.Tier("ann"));
        Assert.Equal("BRONZE", loyalty.Tier("bob"));
        Assert.Equal("NONE", loyalty.Tier(null));
        Func<int, bool> can = loyalty.CanRedeem("bob");
        Assert.True(can(3));
        Assert.False(can(4));
        Assert.False(can(0));
        Assert.Equal("ann=184\nbob=3\n", loyalty.Export().Replace("\r\n", "\n"));
    }

    [Fact]
    public async Task StatementStoppedEarlyRunsFinally()
    {
        Loyalty loyalty = await WithTwoOrders();
        Assert.Equal(new[] { "ann +184" }, loyalty.Statement("ann").Take(1));
        Assert.Equal("statement done", loyalty.Journal[^1]);
    }

    [Fact]
    public async Task SyncSucceedsOrLogs()
    {
        Loyalty loyalty = await WithTwoOrders();
        string? sent = null;
        Assert.True(await loyalty.SyncAsync(t => { sent = t; return Task.CompletedTask; }));
        Assert.StartsWith("ann=184", sent);
        Assert.False(await loyalty.SyncAsync(_ => throw new IOException("disk full")));
        Assert.Equal(new[] { "sync attempted", "sync failed: disk full", "sync attempted" },
            loyalty.Journal.Skip(loyalty.Journal.Count - 3));
    }
}
