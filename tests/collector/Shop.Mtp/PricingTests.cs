using System;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace Shop.Mtp;

[TestClass]
public class PricingTests
{
    [TestMethod]
    [DataRow(Category.Electronics, 0.2)]
    [DataRow(Category.Clothing, 0.1)]
    public void TaxRates(Category c, double rate) => Assert.AreEqual((decimal)rate, Pricing.TaxRate(c));

    [TestMethod]
    [DataRow(1, 0.0)]
    [DataRow(60, 0.05)]
    public void VolumeDiscount(int quantity, double rate) => Assert.AreEqual((decimal)rate, Pricing.VolumeDiscount(quantity));

    [TestMethod]
    [DataRow(5, "small")]
    [DataRow(5000, "huge")]
    public void Bands(int amount, string band) => Assert.AreEqual(band, Pricing.Band(new Money(amount, "EUR")));

    [TestMethod]
    public void MoneyCompares() => Assert.IsTrue(new Money(1, "EUR").CompareTo(new Money(2, "EUR")) < 0);
}
