using System;
using Xunit;

namespace Shop.Tests;

public class StatsTests
{
    [Fact]
    public void MaxOverValueAndReferenceTypes()
    {
        Assert.Equal(9, Stats.Max(new[] { 3, 9, 2 }));
        Assert.Equal("pear", Stats.Max(new[] { "apple", "pear", "fig" }));
        Assert.Equal("7.00 EUR", Stats.Max(new[] { new Money(7m, "EUR"), new Money(2m, "EUR") }).ToString());
        Assert.Throws<InvalidOperationException>(() => Stats.Max(Array.Empty<int>()));
    }

    [Fact]
    public void SumAndMedian()
    {
        Assert.Equal(6, Stats.Sum(new[] { 1, 2, 3 }));
        Assert.Equal(0.75, Stats.Sum(new[] { 0.5, 0.25 }));
        Assert.Equal(2.5, Stats.Median(new[] { 4, 1, 3, 2 }));
        Assert.Equal(3.0, Stats.Median(new[] { 5, 3, 1 }));
    }

    [Fact]
    public void HistogramOfCategories()
    {
        var h = new Histogram<Category>();
        h.Add(Category.Toy, 3);
        h.Add(Category.Food);
        h.Add(Category.Toy);
        Assert.Equal(5, h.Total);
        Assert.Equal(new[] { (Category.Toy, 4), (Category.Food, 1) }, h.Top(5));
        Assert.Equal(0.8, h.Share(Category.Toy), 6);
    }
}
