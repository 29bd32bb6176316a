using System;
using System.Globalization;

namespace Ledger
{
    /// <summary>An amount in minor units (cents) of one currency.</summary>
    public readonly struct Money : IEquatable<Money>, IComparable<Money>
    {
        public long Cents { get; }
        public string Currency { get; }

        public Money(long cents, string currency)
        {
            if (string.IsNullOrEmpty(currency) || currency.Length != 3)
                throw new ArgumentException($"bad currency '{currency}'", nameof(currency));
            Cents = cents;
            Currency = currency.ToUpperInvariant();
        }

        public static Money Zero(string currency) => new Money(0, currency);

        public static Money Parse(string text)
        {
            // "12.34 EUR", "-5 USD", "0.5 CHF"
            var parts = text.Trim().Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length != 2)
                throw new FormatException($"money must be 'AMOUNT CUR', got '{text}'");
            decimal amount = decimal.Parse(parts[0], NumberStyles.Number, CultureInfo.InvariantCulture);
            decimal cents = decimal.Round(amount * 100m, 0, MidpointRounding.ToEven);
            return new Money(checked((long)cents), parts[1]);
        }

        public static bool TryParse(string text, out Money value)
        {
            try
            {
                value = Parse(text);
                return true;
            }
            catch (FormatException)
            {
                value = default;
                return false;
            }
            catch (OverflowException)
            {
                value = default;
                return false;
            }
        }

        private static void SameCurrency(Money a, Money b)
        {
            if (a.Currency != b.Currency)
                throw new InvalidOperationException($"{a.Currency} and {b.Currency} do not mix");
        }

        public static Money operator +(Money a, Money b)
        {
            SameCurrency(a, b);
            return new Money(checked(a.Cents + b.Cents), a.Currency);
        }

        public static Money operator -(Money a, Money b)
        {
            SameCurrency(a, b);
            return new Money(checked(a.Cents - b.Cents), a.Currency);
        }

        public static Money operator -(Money a) => new Money(-a.Cents, a.Currency);

        public Money Scale(decimal factor)
        {
            decimal v = decimal.Round(Cents * factor, 0, MidpointRounding.ToEven);
            return new Money((long)v, Currency);
        }

        /// <summary>Splits into n parts that add up exactly (the first parts get the remainder).</summary>
        public Money[] Split(int n)
        {
            if (n <= 0)
                throw new ArgumentOutOfRangeException(nameof(n));
            var parts = new Money[n];
            long each = Cents / n, rest = Cents % n;
            for (int i = 0; i < n; i++)
                parts[i] = new Money(each + (i < Math.Abs(rest) ? Math.Sign(rest) : 0), Currency);
            return parts;
        }

        public bool Equals(Money other) => Cents == other.Cents && Currency == other.Currency;
        public override bool Equals(object? obj) => obj is Money m && Equals(m);
        public override int GetHashCode() => HashCode.Combine(Cents, Currency);

        public int CompareTo(Money other)
        {
            SameCurrency(this, other);
            return Cents.CompareTo(other.Cents);
        }

        public override string ToString()
        {
            long abs = Math.Abs(Cents);
            string sign = Cents < 0 ? "-" : "";
            return string.Create(CultureInfo.InvariantCulture, $"{sign}{abs / 100}.{abs % 100:D2} {Currency}");
        }
    }
}
