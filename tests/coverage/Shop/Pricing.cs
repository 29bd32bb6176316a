using System;

namespace Shop;

public static class Pricing
{
    public static decimal TaxRate(Category category)
    {
        switch (category)
        {
            case Category.Food:
                return 0.05m;
            case Category.Book:
                return 0m;
            case Category.Electronics:
            case Category.Toy:
                return 0.2m;
            case Category.Clothing:
                return 0.1m;
            default:
                throw new ArgumentOutOfRangeException(nameof(category));
        }
    }

    public static Money Shipping(int grams, string currency, bool express) => (grams, express) switch
    {
        ( <= 0, _) => throw new ArgumentOutOfRangeException(nameof(grams)),
        ( < 500, false) => new Money(2.5m, currency),
        ( < 500, true) => new Money(6m, currency),
        ( < 5000, false) => new Money(5m, currency),
        ( < 5000, true) => new Money(12m, currency),
        (_, false) => new Money(5m + (grams - 5000) / 1000, currency),
        (_, true) => new Money(12m + 2 * ((grams - 5000) / 1000), currency),
    };

    public static decimal VolumeDiscount(int quantity)
    {
        int[] thresholds = { 10, 50, 100 };
        decimal[] rates = { 0.02m, 0.05m, 0.1m };
        decimal rate = 0m;
        for (int i = 0; i < thresholds.Length; i++)
        {
            if (quantity >= thresholds[i])
            {
                rate = rates[i];
            }
            else
            {
                break;
            }
        }
        return rate;
    }

    // Coupon codes: a string switch (the compiler hashes it).
    public static decimal CouponRate(string? code)
    {
        switch (code?.ToUpperInvariant())
        {
            case null:
            case "":
                return 0m;
            case "WELCOME":
                return 0.1m;
            case "SPRING":
            case "SUMMER":
                return 0.15m;
            case "STAFF":
                return 0.3m;
            case "VIP":
                return 0.25m;
            default:
                return 0m;
        }
    }

    public static string Band(Money total) => total.Amount switch
    {
        < 10m => "small",
        < 100m => "medium",
        < 1000m => "large",
        _ => "huge",
    };
}
