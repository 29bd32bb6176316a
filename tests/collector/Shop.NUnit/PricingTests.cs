using System;
using NUnit.Framework;

namespace Shop.NUnit;

public class PricingTests
{
    [TestCase(Category.Food, 0.05)]
    [TestCase(Category.Book, 0.0)]
    public void TaxRates(Category c, double rate) => Assert.That(Pricing.TaxRate(c), Is.EqualTo((decimal)rate));

    [Test]
    public void UnknownCategoryHasNoRate() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => Pricing.TaxRate((Category)99));

    [TestCase(100, true, "6.00 EUR")]
    [TestCase(1000, false, "5.00 EUR")]
    public void Shipping(int grams, bool express, string cost) =>
        Assert.That(Pricing.Shipping(grams, "EUR", express).ToString(), Is.EqualTo(cost));

    [TestCase("welcome", 0.1)]
    [TestCase("BOGUS", 0.0)]
    public void Coupons(string code, double rate) => Assert.That(Pricing.CouponRate(code), Is.EqualTo((decimal)rate));

    [Test]
    public void MoneyParsesAndAdds()
    {
        Assert.That((Money.Parse("1.50 EUR") + new Money(2, "EUR")).ToString(), Is.EqualTo("3.50 EUR"));
        Assert.That(Money.TryParse("nonsense", out _), Is.False);
    }
}
