using System;
using System.Collections.Generic;
using Xunit;

namespace Shop.Tests;

public class MoneyTests
{
    [Fact]
    public void ArithmeticRoundsToCents()
    {
        var a = new Money(1.005m, "EUR");
        var b = new Money(2.10m, "EUR");
        Assert.Equal("1.00 EUR", a.ToString());
        Assert.Equal("3.10 EUR", (a + b).ToString());
        Assert.Equal("1.10 EUR", (b - a).ToString());
        Assert.Equal("6.30 EUR", (b * 3).ToString());
        Assert.True(Money.Zero("EUR").IsZero);
    }

    [Fact]
    public void MixedCurrenciesThrow()
    {
        var ex = Assert.Throws<InvalidOperationException>(() => new Money(1, "EUR") + new Money(1, "USD"));
        Assert.Contains("mismatch", ex.Message);
        Assert.Throws<ArgumentException>(() => new Money(1, "EURO"));
    }

    [Theory]
    [InlineData("12.50 EUR", true, "12.50 EUR")]
    [InlineData("7 USD", true, "7.00 USD")]
    [InlineData("12.50", false, "")]
    [InlineData("abc EUR", false, "")]
    [InlineData("1 EURO", false, "")]
    public void TryParse(string text, bool ok, string shown)
    {
        Assert.Equal(ok, Money.TryParse(text, out Money m));
        if (ok)
        {
            Assert.Equal(shown, m.ToString());
        }
    }

    [Fact]
    public void AllocateGivesTheRestToTheFirst()
    {
        var m = new Money(10m, "EUR");
        var parts = new List<string>();
        for (int i = 0; i < 3; i++)
        {
            parts.Add(m.Allocate(3, i).ToString());
        }
        Assert.Equal(new[] { "3.34 EUR", "3.33 EUR", "3.33 EUR" }, parts);
        Assert.Throws<ArgumentOutOfRangeException>(() => m.Allocate(0, 0));
    }

    [Fact]
    public void EqualityAndOrder()
    {
        var a = new Money(5m, "EUR");
        Assert.True(a.Equals((object)new Money(5m, "EUR")));
        Assert.False(a.Equals("5.00 EUR"));
        Assert.True(a.CompareTo(new Money(6m, "EUR")) < 0);
        Assert.Equal(a.GetHashCode(), new Money(5m, "EUR").GetHashCode());
    }
}
