using System;
using Xunit;

namespace Shop.Tests;

public class InventoryTests
{
    [Fact]
    public void ReserveAllOrNothing()
    {
        Inventory inv = Fixtures.Stocked();
        Assert.True(inv.TryReserveAll(new[] { ("F-APPLE", 10), ("B-NOVEL", 1) }));
        Assert.Equal(90, inv.Available("F-APPLE"));
        Assert.Equal(2, inv.Reservations);

        Assert.False(inv.TryReserveAll(new[] { ("F-APPLE", 10), ("B-NOVEL", 5) }));
        Assert.Equal(90, inv.Available("F-APPLE"));
        Assert.Equal("partial: B-NOVEL has 2 of 5", inv.Log[1]);

        Assert.False(inv.TryReserveAll(new[] { ("T-CRANE", 1) }));
        Assert.Equal("none: T-CRANE", inv.Log[3]);
        Assert.Equal("reserved 0 of 1", inv.Log[4]);
    }

    [Fact]
    public void RestockMustBePositive()
    {
        var inv = new Inventory();
        Assert.Throws<ArgumentOutOfRangeException>(() => inv.Restock("X", 0));
        inv.Restock("X", 2);
        inv.Restock("X", 3);
        Assert.Equal(5, inv.Available("X"));
        Assert.Equal(0, inv.Available("Y"));
        var e = Assert.Throws<OutOfStockException>(() => inv.Reserve("X", 6));
        Assert.Equal(5, e.Available);
    }
}
