using System;
using System.Collections.Generic;
using System.Linq;
using Xunit;

namespace Shop.Tests;

public class CatalogTests
{
    [Fact]
    public void AddAndFind()
    {
        Catalog c = Fixtures.Catalog();
        Assert.Equal(6, c.Count);
        Assert.Same(Fixtures.Phone, c.Get("E-PHONE"));
        Assert.Null(c.Find("NOPE"));
        Assert.Throws<KeyNotFoundException>(() => c.Get("NOPE"));
        Assert.Throws<DuplicateSkuException>(() => c.Add(Fixtures.Apple));
    }

    [Fact]
    public void IteratorAndLinq()
    {
        Catalog c = Fixtures.Catalog();
        Assert.Equal(new[] { "F-APPLE", "F-TEA" }, c.InCategory(Category.Food).Select(p => p.Sku));
        Assert.Empty(c.InCategory((Category)42));
        Assert.Equal(new[] { "B-NOVEL", "F-TEA" }, c.Search("N").Select(p => p.Sku).Where(s => s != "E-PHONE" && s != "T-CRANE"));
        Assert.Equal(new[] { "F-APPLE", "B-NOVEL", "C-SHIRT" },
            c.CheaperThan(new Money(30m, "EUR")).Select(p => p.Sku));
    }
}
