// `dotnet test --collect:ilheap`: the test host runs under ilheap's profiler
// (its environment from `ilheap collect --print-env`), and at the end of the
// session `ilheap collect --from` turns the counts into coverage.cobertura.xml
// (and coverage.info for Format=lcov), attached to the run as coverlet's is.
using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Xml;
using Microsoft.VisualStudio.TestPlatform.ObjectModel.DataCollection;

namespace Ilheap.Collector
{
    [DataCollectorFriendlyName("ilheap")]
    [DataCollectorTypeUri("datacollector://ilheap/coverage/1.0")]
    public sealed class IlheapDataCollector : DataCollector, ITestExecutionEnvironmentSpecifier
    {
        private DataCollectionEvents? _events;
        private DataCollectionSink? _sink;
        private DataCollectionLogger? _logger;
        private DataCollectionContext? _context;
        private CoverageSettings _settings = new CoverageSettings();
        private string? _ilheap, _countsDir;
        private readonly List<string> _testAssemblies = new List<string>();
        private readonly object _lock = new object();
        private List<KeyValuePair<string, string>>? _environment;

        public override void Initialize(XmlElement? configurationElement, DataCollectionEvents events,
            DataCollectionSink dataSink, DataCollectionLogger logger, DataCollectionEnvironmentContext? environmentContext)
        {
            _events = events;
            _sink = dataSink;
            _logger = logger;
            _context = environmentContext?.SessionDataCollectionContext;
            _settings = CoverageSettings.Parse(ConfigurationValues(configurationElement));
            foreach (var problem in _settings.Problems)
                Warn(problem);
            events.SessionStart += OnSessionStart;
            events.SessionEnd += OnSessionEnd;
            try
            {
                _ilheap = IlheapTool.Find(Path.GetDirectoryName(typeof(IlheapDataCollector).Assembly.Location)!);
                _countsDir = Path.Combine(Path.GetTempPath(), "ilheap-counts-" + Guid.NewGuid().ToString("N"));
            }
            catch (Exception e)
            {
                Error(e.Message);
            }
        }

        private static IEnumerable<KeyValuePair<string, string>> ConfigurationValues(XmlElement? configuration)
        {
            if (configuration == null)
                yield break;
            foreach (XmlNode node in configuration.ChildNodes)
                if (node is XmlElement e)
                    yield return new KeyValuePair<string, string>(e.Name, e.InnerText);
        }

        private void OnSessionStart(object? sender, SessionStartEventArgs e)
        {
            try
            {
                var sources = e.GetPropertyValue<IEnumerable<string>>("TestSources") ?? Enumerable.Empty<string>();
                lock (_testAssemblies)
                    _testAssemblies.AddRange(sources.Select(Path.GetFileNameWithoutExtension).Where(n => n != null)!);
            }
            catch (Exception ex)
            {
                Warn($"the test assemblies are not known ({ex.Message}); they are not left out");
            }
        }

        private List<string> Filters()
        {
            lock (_testAssemblies)
                return _settings.FilterArguments(_testAssemblies);
        }

        /// <summary>The test host's environment: the profiler in blocks mode, counts in the session's directory.</summary>
        public IEnumerable<KeyValuePair<string, string>> GetTestExecutionEnvironmentVariables()
        {
            if (_ilheap == null || _countsDir == null)
                return Enumerable.Empty<KeyValuePair<string, string>>();
            lock (_lock)
                return _environment ??= Environment();
        }

        // Asked once: every test host of the session counts into the same directory.
        // VSTest asks before SessionStart names the test sources, so the test
        // assemblies are not excluded here: they are counted, and left out of
        // the report by the --from half (Include limits what is instrumented).
        private List<KeyValuePair<string, string>> Environment()
        {
            var args = new List<string> { "collect" };
            args.AddRange(Filters());
            args.AddRange(new[] { "--print-env", _countsDir! });
            var r = IlheapTool.Run(_ilheap!, args);
            if (r.ExitCode != 0)
            {
                Error($"ilheap collect --print-env failed (exit {r.ExitCode}): {r.Stderr.Trim()}");
                return new List<KeyValuePair<string, string>>();
            }
            foreach (var line in r.Stderr.Split('\n').Where(l => l.Trim().Length != 0))
                Warn(line.Trim());
            return IlheapTool.ParseEnvironment(r.Stdout);
        }

        private void OnSessionEnd(object? sender, SessionEndEventArgs e)
        {
            if (_ilheap == null || _countsDir == null)
                return;
            string outDir = Path.Combine(Path.GetTempPath(), "ilheap-report-" + Guid.NewGuid().ToString("N"));
            try
            {
                Directory.CreateDirectory(outDir);
                var reports = _settings.Formats.Select(f =>
                    f == "lcov" ? ("--lcov", Path.Combine(outDir, "coverage.info"))
                                : ("--cobertura", Path.Combine(outDir, "coverage.cobertura.xml"))).ToList();
                // A test host may still be ending: ilheap waits (at most 60 s) for the writers of the counts.
                var args = new List<string> { "collect", "--quiet", "--wait", "60", "--from", _countsDir };
                args.AddRange(Filters());
                args.AddRange(_settings.ReportArguments());
                foreach (var (option, file) in reports)
                    args.AddRange(new[] { option, file });
                var r = IlheapTool.Run(_ilheap, args);
                Report(r);
                foreach (var (_, file) in reports.Where(x => File.Exists(x.Item2)))
                    _sink!.SendFileAsync(new FileTransferInformation(_context!, file, true));
            }
            catch (Exception ex)
            {
                Error($"writing the coverage failed: {ex.Message}");
            }
            finally
            {
                TryDelete(_countsDir);
            }
        }

        // Success is silent (the attachment is listed by the test platform);
        // no coverage, a missed threshold or a failure is an error: the run fails.
        private void Report(ToolResult r)
        {
            string said = r.Stderr.Trim();
            if (r.ExitCode == 0)
                return;
            if (r.ExitCode == IlheapTool.ExitNoCoverage)
                Error($"no coverage was collected: {said}" + (_settings.IncludeTestAssembly ? "" :
                    " (the test assemblies are left out: IncludeTestAssembly=true counts them)"));
            else if (r.ExitCode == IlheapTool.ExitThreshold)
                Error($"coverage below the threshold: {said}");
            else
                Error($"ilheap collect failed (exit {r.ExitCode}): {said}");
        }

        private static void TryDelete(string dir)
        {
            try
            {
                if (Directory.Exists(dir))
                    Directory.Delete(dir, true);
            }
            catch (IOException)
            {
            }
            catch (UnauthorizedAccessException)
            {
            }
        }

        private void Warn(string message)
        {
            if (_logger != null && _context != null)
                _logger.LogWarning(_context, "ilheap: " + message);
        }

        private void Error(string message)
        {
            if (_logger != null && _context != null)
                _logger.LogError(_context, "ilheap: " + message);
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing && _events != null)
            {
                _events.SessionStart -= OnSessionStart;
                _events.SessionEnd -= OnSessionEnd;
            }
            base.Dispose(disposing);
        }
    }
}
