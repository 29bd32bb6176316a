// The collector's configuration, with coverlet's names where the meaning is
// the same (runsettings <Configuration> or
// `-- DataCollectionRunSettings.DataCollectors.DataCollector.Configuration.NAME=VALUE`),
// turned into `ilheap collect` arguments.
using System;
using System.Collections.Generic;
using System.Linq;

namespace Ilheap.Collector
{
    internal sealed class CoverageSettings
    {
        public List<string> Formats = new List<string> { "cobertura" };
        public string? Include, Exclude, ExcludeByAttribute, ExcludeByFile, Threshold;
        public bool SkipAutoProps, IncludeTestAssembly;
        public List<string> Problems = new List<string>();

        private static readonly string[] Known =
        {
            "Format", "Include", "Exclude", "ExcludeByAttribute", "ExcludeByFile", "SkipAutoProps",
            "IncludeTestAssembly", "Threshold",
        };

        /// <summary>From NAME -> text pairs (the Configuration element's children).</summary>
        public static CoverageSettings Parse(IEnumerable<KeyValuePair<string, string>> values)
        {
            var s = new CoverageSettings();
            foreach (var kv in values)
            {
                string v = kv.Value.Trim();
                switch (kv.Key)
                {
                    case "Format":
                        s.Formats = v.Split(new[] { ',', ';' }, StringSplitOptions.RemoveEmptyEntries)
                            .Select(f => f.Trim().ToLowerInvariant()).Distinct().ToList();
                        foreach (var f in s.Formats.Where(f => f != "cobertura" && f != "lcov"))
                            s.Problems.Add($"Format '{f}' is not supported (cobertura and lcov are)");
                        s.Formats.RemoveAll(f => f != "cobertura" && f != "lcov");
                        break;
                    case "Include": s.Include = Empty(v); break;
                    case "Exclude": s.Exclude = Empty(v); break;
                    case "ExcludeByAttribute": s.ExcludeByAttribute = Empty(v); break;
                    case "ExcludeByFile": s.ExcludeByFile = Empty(v); break;
                    case "Threshold": s.Threshold = Empty(v); break;
                    case "Framework": break; // added by the test platform itself
                    case "SkipAutoProps": s.SkipAutoProps = Flag(s, kv.Key, v); break;
                    case "IncludeTestAssembly": s.IncludeTestAssembly = Flag(s, kv.Key, v); break;
                    default:
                        s.Problems.Add($"setting '{kv.Key}' is not known (known: {string.Join(", ", Known)}); ignored");
                        break;
                }
            }
            if (s.Formats.Count == 0)
                s.Formats.Add("cobertura");
            return s;
        }

        private static string? Empty(string v) => v.Length == 0 ? null : v;

        private static bool Flag(CoverageSettings s, string name, string v)
        {
            if (bool.TryParse(v, out bool b))
                return b;
            s.Problems.Add($"{name} '{v}' is not true or false; false taken");
            return false;
        }

        /// <summary>The filter arguments of `ilheap collect` (both halves take the same).
        /// The test assemblies are left out unless IncludeTestAssembly is set, as coverlet does.</summary>
        public List<string> FilterArguments(IEnumerable<string> testAssemblies)
        {
            var args = new List<string>();
            if (Include != null)
                args.AddRange(new[] { "--include", Include });
            var exclude = new List<string>();
            if (Exclude != null)
                exclude.Add(Exclude);
            if (!IncludeTestAssembly)
                exclude.AddRange(testAssemblies);
            if (exclude.Count != 0)
                args.AddRange(new[] { "--exclude", string.Join(",", exclude) });
            return args;
        }

        /// <summary>The report half's own arguments: the filters and the threshold of `ilheap collect`.</summary>
        public List<string> ReportArguments()
        {
            var args = new List<string>();
            if (ExcludeByAttribute != null)
                args.AddRange(new[] { "--exclude-by-attribute", ExcludeByAttribute });
            if (ExcludeByFile != null)
                args.AddRange(new[] { "--exclude-by-file", ExcludeByFile });
            if (SkipAutoProps)
                args.Add("--skip-auto-props");
            if (Threshold != null)
                args.AddRange(new[] { "--threshold", Threshold });
            return args;
        }
    }
}
