using System;
using Xunit;

namespace Shop.Tests;

public class PricingTests
{
    [Theory]
    [InlineData(Category.Food, 0.05)]
    [InlineData(Category.Book, 0.0)]
    [InlineData(Category.Electronics, 0.2)]
    [InlineData(Category.Clothing, 0.1)]
    public void TaxRates(Category c, double rate)
    {
        Assert.Equal((decimal)rate, Pricing.TaxRate(c));
    }

    [Fact]
    public void UnknownCategoryHasNoRate()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => Pricing.TaxRate((Category)99));
    }

    [Theory]
    [InlineData(100, false, "2.50 EUR")]
    [InlineData(100, true, "6.00 EUR")]
    [InlineData(1000, false, "5.00 EUR")]
    [InlineData(7200, false, "7.00 EUR")]
    public void Shipping(int grams, bool express, string cost)
    {
        Assert.Equal(cost, Pricing.Shipping(grams, "EUR", express).ToString());
    }

    [Theory]
    [InlineData(1, 0.0)]
    [InlineData(10, 0.02)]
    [InlineData(60, 0.05)]
    public void VolumeDiscount(int quantity, double rate)
    {
        Assert.Equal((decimal)rate, Pricing.VolumeDiscount(quantity));
    }

    [Theory]
    [InlineData(null, 0.0)]
    [InlineData("welcome", 0.1)]
    [InlineData("SUMMER", 0.15)]
    [InlineData("VIP", 0.25)]
    [InlineData("BOGUS", 0.0)]
    public void Coupons(string? code, double rate)
    {
        Assert.Equal((decimal)rate, Pricing.CouponRate(code));
    }

    [Theory]
    [InlineData(5, "small")]
    [InlineData(50, "medium")]
    [InlineData(5000, "huge")]
    public void Bands(int amount, string band)
    {
        Assert.Equal(band, Pricing.Band(new Money(amount, "EUR")));
    }
}
