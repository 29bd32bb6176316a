using System;
using System.Globalization;

namespace Shop;

// An amount in one currency, rounded to cents (a value type for the generics).
public readonly struct Money : IEquatable<Money>, IComparable<Money>
{
    public decimal Amount { get; }
    public string Currency { get; }

    public Money(decimal amount, string currency)
    {
        if (string.IsNullOrEmpty(currency) || currency.Length != 3)
        {
            throw new ArgumentException("currency must be a 3-letter code", nameof(currency));
        }
        Amount = decimal.Round(amount, 2, MidpointRounding.ToEven);
        Currency = currency;
    }

    public static Money Zero(string currency) => new Money(0m, currency);

    public bool IsZero => Amount == 0m;

    public static Money operator +(Money a, Money b)
    {
        CheckSame(a, b);
        return new Money(a.Amount + b.Amount, a.Currency);
    }

    public static Money operator -(Money a, Money b)
    {
        CheckSame(a, b);
        return new Money(a.Amount - b.Amount, a.Currency);
    }

    public static Money operator *(Money a, decimal factor) => new Money(a.Amount * factor, a.Currency);

    private static void CheckSame(Money a, Money b)
    {
        if (a.Currency != b.Currency)
        {
            throw new InvalidOperationException($"currency mismatch: {a.Currency} and {b.Currency}");
        }
    }

    // "12.50 EUR"
    public static Money Parse(string text)
    {
        string[] parts = text.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length != 2)
        {
            throw new FormatException($"not an amount: '{text}'");
        }
        if (!decimal.TryParse(parts[0], NumberStyles.Number, CultureInfo.InvariantCulture, out decimal amount))
        {
            throw new FormatException($"bad number: '{parts[0]}'");
        }
        return new Money(amount, parts[1]);
    }

    public static bool TryParse(string text, out Money value)
    {
        try
        {
            value = Parse(text);
            return true;
        }
        catch (Exception e) when (e is FormatException || e is ArgumentException)
        {
            value = default;
            return false;
        }
    }

    public Money Allocate(int parts, int index)
    {
        if (parts <= 0 || index < 0 || index >= parts)
        {
            throw new ArgumentOutOfRangeException(nameof(parts));
        }
        decimal share = decimal.Floor(Amount * 100m / parts) / 100m;
        decimal rest = Amount - share * parts;
        int extraCents = (int)(rest * 100m);
        return new Money(share + (index < extraCents ? 0.01m : 0m), Currency);
    }

    public bool Equals(Money other) => Amount == other.Amount && Currency == other.Currency;

    public override bool Equals(object? obj) => obj is Money m && Equals(m);

    public override int GetHashCode() => HashCode.Combine(Amount, Currency);

    public int CompareTo(Money other)
    {
        CheckSame(this, other);
        return Amount.CompareTo(other.Amount);
    }

    public override string ToString() => Amount.ToString("0.00", CultureInfo.InvariantCulture) + " " + Currency;
}
