using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading.Tasks;

namespace Ledger
{
    public static class Program
    {
        private const string Sample = @"
account 1000 Asset EUR Cash
account 1200 Asset EUR Receivables
account 2000 Liability EUR Payables
account 3000 Equity EUR Capital
account 4000 Income EUR Sales
account 5000 Expense EUR Rent
account 5100 Expense EUR Supplies

2024-01-01 Opening capital
  1000  10000.00 EUR
  3000  -10000.00 EUR

2024-01-05 Rent for January  # paid in cash
  5000  1200.00 EUR ; January
  1000  -1200.00 EUR

2024-01-20 Invoice 17
  1200  2500.50 EUR
  4000  -2500.50 EUR

2024-02-03 Supplies on credit
  5100  310.25 EUR
  2000  -310.25 EUR

2024-02-10 Unbalanced entry
  5100  1.00 EUR
  1000  -2.00 EUR
";

        public static async Task<int> Main(string[] args)
        {
            var warnings = new List<string>();
            Book book;
            try
            {
                using var reader = args.Length > 0 ? (TextReader)File.OpenText(args[0]) : new StringReader(Sample);
                book = Journal.Read(reader, warnings);
            }
            catch (Journal.ParseError e)
            {
                Console.Error.WriteLine(e.Message);
                return 2;
            }
            foreach (var w in warnings)
                Console.WriteLine($"warning: {w}");
            var reports = new IReport[] { new TrialBalanceReport(), new KindTotalsReport("EUR"), new MonthlyReport("1000") };
            Console.WriteLine(await ReportRunner.RunAllAsync(book, reports));

            var split = Money.Parse("100.00 EUR").Split(3);
            Console.WriteLine(string.Join(" + ", split.Select(m => m.ToString())));
            var cache = new LruCache<string, Money>(2);
            foreach (var code in new[] { "1000", "4000", "1000", "5000", "4000" })
                cache.GetOrAdd(code, book.Balance);
            Console.WriteLine($"cache {cache.Count}, entries {book.EntryCount}");
            return 0;
        }
    }
}
