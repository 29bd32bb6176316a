using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Text;

namespace Ledger
{
    /// <summary>Reads a plain-text journal:
    ///   account CODE KIND CUR Name...
    ///   2024-01-31 Description
    ///     CODE  AMOUNT CUR  [; memo]
    /// Blank lines end an entry; '#' starts a comment.</summary>
    public static class Journal
    {
        public sealed class ParseError : Exception
        {
            public int Line { get; }
            public ParseError(int line, string message) : base($"line {line}: {message}") { Line = line; }
        }

        public static Book Read(TextReader reader, List<string> warnings)
        {
            var book = new Book();
            Entry? current = null;
            int lineNo = 0;
            string? line;
            while ((line = reader.ReadLine()) != null)
            {
                lineNo++;
                int hash = line.IndexOf('#');
                if (hash >= 0)
                    line = line.Substring(0, hash);
                if (line.Trim().Length == 0)
                {
                    Flush(book, ref current, lineNo, warnings);
                    continue;
                }
                if (line.StartsWith("account ", StringComparison.Ordinal))
                {
                    book.Open(ParseAccount(line, lineNo));
                }
                else if (char.IsDigit(line[0]))
                {
                    Flush(book, ref current, lineNo, warnings);
                    current = ParseHeader(line, lineNo);
                }
                else if (char.IsWhiteSpace(line[0]) && current != null)
                {
                    ParsePosting(current, line, lineNo);
                }
                else
                {
                    throw new ParseError(lineNo, $"cannot read '{line.Trim()}'");
                }
            }
            Flush(book, ref current, lineNo, warnings);
            return book;
        }

        private static void Flush(Book book, ref Entry? current, int lineNo, List<string> warnings)
        {
            if (current == null)
                return;
            try
            {
                book.Post(current);
            }
            catch (LedgerException e)
            {
                warnings.Add($"line {lineNo}: skipped: {e.Message}");
            }
            finally
            {
                current = null;
            }
        }

        private static Account ParseAccount(string line, int lineNo)
        {
            var parts = line.Split(' ', 5, StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length < 5)
                throw new ParseError(lineNo, "account CODE KIND CUR Name");
            if (!Enum.TryParse<AccountKind>(parts[2], ignoreCase: true, out var kind))
                throw new ParseError(lineNo, $"unknown kind '{parts[2]}'");
            return new Account(parts[1], parts[4], kind, parts[3]);
        }

        private static Entry ParseHeader(string line, int lineNo)
        {
            int space = line.IndexOf(' ');
            string date = space < 0 ? line : line.Substring(0, space);
            if (!DateOnly.TryParseExact(date, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var d))
                throw new ParseError(lineNo, $"bad date '{date}'");
            return new Entry(d, space < 0 ? "" : line.Substring(space + 1).Trim());
        }

        private static void ParsePosting(Entry entry, string line, int lineNo)
        {
            string memo = "";
            int semi = line.IndexOf(';');
            if (semi >= 0)
            {
                memo = line.Substring(semi + 1).Trim();
                line = line.Substring(0, semi);
            }
            var parts = line.Trim().Split(' ', 2, StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length != 2 || !Money.TryParse(parts[1], out var amount))
                throw new ParseError(lineNo, $"posting must be 'CODE AMOUNT CUR', got '{line.Trim()}'");
            entry.Add(parts[0], amount, memo.Length > 0 ? memo : null);
        }

        public static string Write(Book book)
        {
            var sb = new StringBuilder();
            foreach (var a in book.Accounts)
                sb.Append("account ").Append(a.Code).Append(' ').Append(a.Kind).Append(' ')
                  .Append(a.Currency).Append(' ').AppendLine(a.Name);
            return sb.ToString();
        }
    }
}
