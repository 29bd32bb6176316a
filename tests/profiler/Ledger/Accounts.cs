using System;
using System.Collections.Generic;
using System.Linq;

namespace Ledger
{
    public enum AccountKind { Asset, Liability, Equity, Income, Expense }

    public sealed record Account(string Code, string Name, AccountKind Kind, string Currency)
    {
        /// <summary>Debits increase assets and expenses; credits the rest.</summary>
        public bool DebitNormal => Kind is AccountKind.Asset or AccountKind.Expense;
    }

    public sealed record Posting(string Account, Money Amount, string? Memo = null);

    public sealed class Entry
    {
        private readonly List<Posting> _postings = new();
        public DateOnly Date { get; }
        public string Description { get; }
        public IReadOnlyList<Posting> Postings => _postings;

        public Entry(DateOnly date, string description)
        {
            Date = date;
            Description = description;
        }

        public Entry Add(string account, Money amount, string? memo = null)
        {
            _postings.Add(new Posting(account, amount, memo));
            return this;
        }

        /// <summary>Every currency's postings must sum to zero.</summary>
        public void Validate()
        {
            if (_postings.Count < 2)
                throw new LedgerException($"entry '{Description}' needs two postings");
            foreach (var group in _postings.GroupBy(p => p.Amount.Currency))
            {
                var sum = group.Aggregate(Money.Zero(group.Key), (acc, p) => acc + p.Amount);
                if (sum.Cents != 0)
                    throw new LedgerException($"entry '{Description}' is off by {sum}");
            }
        }
    }

    public class LedgerException : Exception
    {
        public LedgerException(string message) : base(message) { }
    }

    public sealed class Book
    {
        private readonly Dictionary<string, Account> _accounts = new(StringComparer.Ordinal);
        private readonly List<Entry> _entries = new();
        private readonly Dictionary<string, long> _balances = new(StringComparer.Ordinal);

        public IEnumerable<Account> Accounts => _accounts.Values.OrderBy(a => a.Code, StringComparer.Ordinal);
        public int EntryCount => _entries.Count;

        public void Open(Account account)
        {
            if (!_accounts.TryAdd(account.Code, account))
                throw new LedgerException($"account {account.Code} exists");
            _balances[account.Code] = 0;
        }

        public void Post(Entry entry)
        {
            entry.Validate();
            foreach (var p in entry.Postings)
            {
                if (!_accounts.TryGetValue(p.Account, out var acc))
                    throw new LedgerException($"unknown account {p.Account}");
                if (acc.Currency != p.Amount.Currency)
                    throw new LedgerException($"{p.Account} is kept in {acc.Currency}, not {p.Amount.Currency}");
            }
            foreach (var p in entry.Postings)
                _balances[p.Account] += p.Amount.Cents;
            _entries.Add(entry);
        }

        public Money Balance(string code)
        {
            var acc = _accounts[code];
            long raw = _balances[code];
            return new Money(acc.DebitNormal ? raw : -raw, acc.Currency);
        }

        public IEnumerable<(Account Account, Money Balance)> TrialBalance() =>
            Accounts.Select(a => (a, Balance(a.Code)));

        public IEnumerable<Entry> Between(DateOnly from, DateOnly to) =>
            _entries.Where(e => e.Date >= from && e.Date <= to).OrderBy(e => e.Date);

        public Dictionary<AccountKind, Money> TotalsByKind(string currency)
        {
            var totals = new Dictionary<AccountKind, Money>();
            foreach (var kind in Enum.GetValues<AccountKind>())
                totals[kind] = Money.Zero(currency);
            foreach (var (account, balance) in TrialBalance())
                if (account.Currency == currency)
                    totals[account.Kind] += balance;
            return totals;
        }
    }
}
