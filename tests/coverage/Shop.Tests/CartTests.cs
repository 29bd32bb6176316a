using System;
using System.Linq;
using Xunit;

namespace Shop.Tests;

public class CartTests
{
    [Fact]
    public void TotalsWithTaxShippingAndCoupon()
    {
        var cart = new Cart("EUR");
        Assert.Equal("0.00 EUR", cart.Total().ToString());
        cart.Add(Fixtures.Apple, 12);
        cart.Add(Fixtures.Novel);
        cart.Add(Fixtures.Apple, 3);
        Assert.Equal(2, cart.Lines.Count);
        Assert.Equal(15 * 150 + 400, cart.Grams());
        // apples 15 x 0.40 = 6.00 less 2% = 5.88; novel 12.99; shipping 5.00
        Assert.Equal("18.87 EUR", cart.Subtotal().ToString());
        cart.Coupon = "welcome";
        Assert.Equal("22.27 EUR", cart.Total().ToString());
    }

    [Fact]
    public void FreeShippingAboveOneHundred()
    {
        var cart = new Cart("EUR");
        cart.Add(Fixtures.Phone);
        Assert.Equal("478.80 EUR", cart.Total().ToString());
        cart.Express = true;
        Assert.Equal("484.80 EUR", cart.Total().ToString());
    }

    [Fact]
    public void RemoveAndErrors()
    {
        var cart = new Cart("EUR");
        cart.Add(Fixtures.Shirt, 2);
        cart.Add(Fixtures.Apple, 1);
        Assert.True(cart.Remove("C-SHIRT", 1));
        Assert.Equal(1, cart.Lines[0].Quantity);
        Assert.True(cart.Remove("C-SHIRT", 5));
        Assert.False(cart.Remove("C-SHIRT", 1));
        Assert.Single(cart.Lines);
        Assert.Throws<ArgumentOutOfRangeException>(() => cart.Add(Fixtures.Apple, 0));
        Assert.Throws<ArgumentException>(() => cart.Add(Fixtures.Tea));
    }

    [Fact]
    public void SplitAmongPayers()
    {
        var cart = new Cart("EUR");
        cart.Add(Fixtures.Novel);
        string[] shares = cart.Split(3).Select(m => m.ToString()).ToArray();
        Assert.Equal(new[] { "5.17 EUR", "5.16 EUR", "5.16 EUR" }, shares);
    }
}
