using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;
using System.Threading.Tasks;

namespace Ledger
{
    public interface IReport
    {
        string Title { get; }
        IEnumerable<string> Lines(Book book);
    }

    public sealed class TrialBalanceReport : IReport
    {
        public string Title => "Trial balance";

        public IEnumerable<string> Lines(Book book)
        {
            foreach (var (account, balance) in book.TrialBalance())
                yield return $"{account.Code,-6} {account.Name,-24} {balance,16}";
        }
    }

    public sealed class KindTotalsReport : IReport
    {
        private readonly string _currency;
        public KindTotalsReport(string currency) => _currency = currency;
        public string Title => $"Totals by kind ({_currency})";

        public IEnumerable<string> Lines(Book book) =>
            book.TotalsByKind(_currency).OrderBy(kv => kv.Key).Select(kv => $"{kv.Key,-10} {kv.Value,16}");
    }

    public sealed class MonthlyReport : IReport
    {
        private readonly string _account;
        public MonthlyReport(string account) => _account = account;
        public string Title => $"Monthly movement of {_account}";

        public IEnumerable<string> Lines(Book book)
        {
            var byMonth = new SortedDictionary<(int, int), long>();
            foreach (var e in book.Between(DateOnly.MinValue, DateOnly.MaxValue))
                foreach (var p in e.Postings.Where(p => p.Account == _account))
                {
                    var key = (e.Date.Year, e.Date.Month);
                    byMonth.TryGetValue(key, out long v);
                    byMonth[key] = v + p.Amount.Cents;
                }
            foreach (var ((year, month), cents) in byMonth)
                yield return $"{year:D4}-{month:D2} {cents / 100.0,12:F2}";
        }
    }

    public static class ReportRunner
    {
        public static async Task<string> RunAllAsync(Book book, IEnumerable<IReport> reports)
        {
            var tasks = reports.Select(r => Task.Run(() => Render(book, r))).ToArray();
            var rendered = await Task.WhenAll(tasks).ConfigureAwait(false);
            return string.Join(Environment.NewLine, rendered);
        }

        private static string Render(Book book, IReport report)
        {
            var sb = new StringBuilder();
            sb.AppendLine($"== {report.Title}");
            foreach (var line in report.Lines(book))
                sb.AppendLine(line);
            return sb.ToString();
        }
    }

    /// <summary>A small generic cache with least-recently-used eviction.</summary>
    public sealed class LruCache<TKey, TValue> where TKey : notnull
    {
        private readonly int _capacity;
        private readonly Dictionary<TKey, LinkedListNode<(TKey Key, TValue Value)>> _map = new();
        private readonly LinkedList<(TKey Key, TValue Value)> _order = new();

        public LruCache(int capacity)
        {
            if (capacity < 1)
                throw new ArgumentOutOfRangeException(nameof(capacity));
            _capacity = capacity;
        }

        public TValue GetOrAdd(TKey key, Func<TKey, TValue> make)
        {
            if (_map.TryGetValue(key, out var node))
            {
                _order.Remove(node);
                _order.AddFirst(node);
                return node.Value.Value;
            }
            var value = make(key);
            _map[key] = _order.AddFirst((key, value));
            if (_map.Count > _capacity)
            {
                var last = _order.Last!;
                _order.RemoveLast();
                _map.Remove(last.Value.Key);
            }
            return value;
        }

        public int Count => _map.Count;
    }
}
