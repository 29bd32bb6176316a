using System;
using System.Collections.Generic;
using System.Linq;

namespace Shop;

public sealed class CartLine
{
    public CartLine(Product product, int quantity)
    {
        Product = product;
        Quantity = quantity;
    }

    public Product Product { get; }

    public int Quantity { get; set; }

    public Money Net => Product.Price * Quantity * (1m - Pricing.VolumeDiscount(Quantity));

    public Money Tax => Net * Pricing.TaxRate(Product.Category);
}

public sealed class Cart
{
    private readonly List<CartLine> lines = new();

    public Cart(string currency)
    {
        Currency = currency;
    }

    public string Currency { get; }

    public string? Coupon { get; set; }

    public bool Express { get; set; }

    public IReadOnlyList<CartLine> Lines => lines;

    public bool IsEmpty => lines.Count == 0;

    public void Add(Product product, int quantity = 1)
    {
        if (quantity <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(quantity), quantity, "must be positive");
        }
        if (product.Price.Currency != Currency)
        {
            throw new ArgumentException($"{product.Sku} is priced in {product.Price.Currency}", nameof(product));
        }
        CartLine? line = lines.Find(l => l.Product.Sku == product.Sku);
        if (line is null)
        {
            lines.Add(new CartLine(product, quantity));
        }
        else
        {
            line.Quantity += quantity;
        }
    }

    public bool Remove(string sku, int quantity)
    {
        int i = 0;
        while (i < lines.Count && lines[i].Product.Sku != sku)
        {
            i++;
        }
        if (i == lines.Count)
        {
            return false;
        }
        CartLine line = lines[i];
        line.Quantity -= quantity;
        if (line.Quantity <= 0)
        {
            lines.RemoveAt(i);
        }
        return true;
    }

    public int Grams()
    {
        int total = 0;
        foreach (CartLine l in lines)
        {
            total = checked(total + l.Product.Grams * l.Quantity);
        }
        return total;
    }

    public Money Subtotal() => lines.Aggregate(Money.Zero(Currency), (sum, l) => sum + l.Net);

    public Money Total()
    {
        if (IsEmpty)
        {
            return Money.Zero(Currency);
        }
        Money net = Subtotal();
        Money tax = Money.Zero(Currency);
        foreach (CartLine l in lines)
        {
            tax += l.Tax;
        }
        Money discount = net * Pricing.CouponRate(Coupon);
        Money shipping = Pricing.Shipping(Grams(), Currency, Express);
        if (net.Amount >= 100m && !Express)
        {
            shipping = Money.Zero(Currency);
        }
        return net - discount + tax + shipping;
    }

    // Splits the total over several payers; the cents that do not divide go to the first.
    public IEnumerable<Money> Split(int payers)
    {
        Money total = Total();
        int i = 0;
        do
        {
            yield return total.Allocate(payers, i);
            i++;
        }
        while (i < payers);
    }
}
