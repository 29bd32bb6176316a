// ilheap's coverage on the Microsoft Testing Platform: `--ilheap-coverage`
// makes the platform start the test host as a child process (a test host
// controller) whose environment `ilheap collect --print-env` gives, and when
// that host has exited, `ilheap collect --from` writes the report into the
// test results directory.
using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Ilheap.Collector;
using Microsoft.Testing.Platform.Builder;
using Microsoft.Testing.Platform.CommandLine;
using Microsoft.Testing.Platform.Configurations;
using Microsoft.Testing.Platform.Extensions;
using Microsoft.Testing.Platform.Extensions.CommandLine;
using Microsoft.Testing.Platform.Extensions.OutputDevice;
using Microsoft.Testing.Platform.Extensions.TestHostControllers;
using Microsoft.Testing.Platform.OutputDevice;
using Microsoft.Testing.Platform.Services;

namespace Ilheap.Mtp
{
    /// <summary>Called by the platform's generated entry point (buildTransitive/ilheap.mtp.props).</summary>
    public static class TestingPlatformBuilderHook
    {
        public static void AddExtensions(ITestApplicationBuilder builder, string[] _)
        {
            var session = new CoverageSession();
            builder.CommandLine.AddProvider(() => new CoverageOptions());
            builder.TestHostControllers.AddEnvironmentVariableProvider(sp =>
                new CoverageEnvironment(session, sp.GetCommandLineOptions()));
            builder.TestHostControllers.AddProcessLifetimeHandler(sp =>
                new CoverageReport(session, sp.GetCommandLineOptions(), sp.GetConfiguration(), sp.GetOutputDevice()));
        }
    }

    internal static class Names
    {
        public const string Coverage = "ilheap-coverage";
        public const string Format = "ilheap-coverage-format";
        public const string Include = "ilheap-coverage-include";
        public const string Exclude = "ilheap-coverage-exclude";
        public const string Threshold = "ilheap-coverage-threshold";
        public const string Uid = "ilheap.coverage";
        public const string Version = "1.0.0";
        public const string DisplayName = "ilheap code coverage";
        public const string Description = "Line and branch coverage from ilheap's CoreCLR profiler (Cobertura, LCOV)";
    }

    /// <summary>What the two controller extensions share: the tool, the counts directory, the settings.</summary>
    internal sealed class CoverageSession
    {
        public string? Ilheap;
        public string CountsDir = Path.Combine(Path.GetTempPath(), "ilheap-counts-" + Guid.NewGuid().ToString("N"));
        public string? Problem;
        public List<KeyValuePair<string, string>>? Environment;

        public CoverageSettings Settings(ICommandLineOptions options)
        {
            var values = new List<KeyValuePair<string, string>>();
            void Add(string option, string name)
            {
                if (options.TryGetOptionArgumentList(option, out var args) && args.Length > 0)
                    values.Add(new KeyValuePair<string, string>(name, args[0]));
            }
            Add(Names.Format, "Format");
            Add(Names.Include, "Include");
            Add(Names.Exclude, "Exclude");
            Add(Names.Threshold, "Threshold");
            return CoverageSettings.Parse(values);
        }

        public string? FindTool()
        {
            if (Ilheap == null && Problem == null)
            {
                try
                {
                    Ilheap = IlheapTool.Find(Path.GetDirectoryName(typeof(CoverageSession).Assembly.Location)!);
                }
                catch (Exception e)
                {
                    Problem = e.Message;
                }
            }
            return Ilheap;
        }
    }

    internal sealed class CoverageOptions : ICommandLineOptionsProvider
    {
        public string Uid => Names.Uid + ".options";
        public string Version => Names.Version;
        public string DisplayName => Names.DisplayName;
        public string Description => Names.Description;
        public Task<bool> IsEnabledAsync() => Task.FromResult(true);

        public IReadOnlyCollection<CommandLineOption> GetCommandLineOptions() => new[]
        {
            new CommandLineOption(Names.Coverage, "Collect line and branch coverage with ilheap's profiler", ArgumentArity.Zero, false),
            new CommandLineOption(Names.Format, "Report formats: cobertura (default), lcov, or both comma-separated", ArgumentArity.ExactlyOne, false),
            new CommandLineOption(Names.Include, "Only these assemblies (names with *, or coverlet's [Assembly]Type)", ArgumentArity.ExactlyOne, false),
            new CommandLineOption(Names.Exclude, "Leave these assemblies out", ArgumentArity.ExactlyOne, false),
            new CommandLineOption(Names.Threshold, "Fail below line=N[,branch=M] percent", ArgumentArity.ExactlyOne, false),
        };

        public Task<ValidationResult> ValidateOptionArgumentsAsync(CommandLineOption option, string[] arguments) =>
            ValidationResult.ValidTask;

        public Task<ValidationResult> ValidateCommandLineOptionsAsync(ICommandLineOptions options) =>
            ValidationResult.ValidTask;
    }

    /// <summary>The test host's environment: the profiler in blocks mode, counts in the session's directory.</summary>
    internal sealed class CoverageEnvironment : ITestHostEnvironmentVariableProvider
    {
        private readonly CoverageSession _session;
        private readonly ICommandLineOptions _options;

        public CoverageEnvironment(CoverageSession session, ICommandLineOptions options)
        {
            _session = session;
            _options = options;
        }

        public string Uid => Names.Uid + ".environment";
        public string Version => Names.Version;
        public string DisplayName => Names.DisplayName;
        public string Description => Names.Description;
        public Task<bool> IsEnabledAsync() => Task.FromResult(_options.IsOptionSet(Names.Coverage));

        public Task UpdateAsync(IEnvironmentVariables environmentVariables)
        {
            foreach (var kv in _session.Environment ??= Compute())
                environmentVariables.SetVariable(new EnvironmentVariable(kv.Key, kv.Value, false, true));
            return Task.CompletedTask;
        }

        // Computed once: every test host of the session counts into the same directory.
        private List<KeyValuePair<string, string>> Compute()
        {
            string? ilheap = _session.FindTool();
            if (ilheap == null)
                return new List<KeyValuePair<string, string>>();
            var args = new List<string> { "collect" };
            args.AddRange(_session.Settings(_options).FilterArguments(TestAssemblies()));
            args.AddRange(new[] { "--print-env", _session.CountsDir });
            var r = IlheapTool.Run(ilheap, args);
            if (r.ExitCode != 0)
            {
                _session.Problem = $"ilheap collect --print-env failed (exit {r.ExitCode}): {r.Stderr.Trim()}";
                return new List<KeyValuePair<string, string>>();
            }
            return IlheapTool.ParseEnvironment(r.Stdout);
        }

        // The test application itself is the test assembly: left out, as coverlet does.
        private static IEnumerable<string> TestAssemblies()
        {
            var entry = System.Reflection.Assembly.GetEntryAssembly()?.GetName().Name;
            return entry != null ? new[] { entry } : Array.Empty<string>();
        }

        public Task<ValidationResult> ValidateTestHostEnvironmentVariablesAsync(IReadOnlyEnvironmentVariables environmentVariables) =>
            ValidationResult.ValidTask;
    }

    /// <summary>When the test host has exited: the report, written and announced.</summary>
    internal sealed class CoverageReport : ITestHostProcessLifetimeHandler, IOutputDeviceDataProducer
    {
        private readonly CoverageSession _session;
        private readonly ICommandLineOptions _options;
        private readonly IConfiguration _configuration;
        private readonly IOutputDevice _output;

        public CoverageReport(CoverageSession session, ICommandLineOptions options, IConfiguration configuration,
            IOutputDevice output)
        {
            _session = session;
            _options = options;
            _configuration = configuration;
            _output = output;
        }

        public string Uid => Names.Uid + ".report";
        public string Version => Names.Version;
        public string DisplayName => Names.DisplayName;
        public string Description => Names.Description;
        public Task<bool> IsEnabledAsync() => Task.FromResult(_options.IsOptionSet(Names.Coverage));

        public Task BeforeTestHostProcessStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task OnTestHostProcessStartedAsync(ITestHostProcessInformation testHostProcessInformation,
            CancellationToken cancellation) => Task.CompletedTask;

        public async Task OnTestHostProcessExitedAsync(ITestHostProcessInformation testHostProcessInformation,
            CancellationToken cancellation)
        {
            try
            {
                await WriteReportAsync(cancellation).ConfigureAwait(false);
            }
            finally
            {
                try
                {
                    if (Directory.Exists(_session.CountsDir))
                        Directory.Delete(_session.CountsDir, true);
                }
                catch (IOException)
                {
                }
            }
        }

        private async Task WriteReportAsync(CancellationToken cancellation)
        {
            string? ilheap = _session.FindTool();
            if (ilheap == null || _session.Problem != null)
            {
                await Fail(IlheapTool.ExitNoCoverage, "no coverage was collected: " + _session.Problem, cancellation)
                    .ConfigureAwait(false);
                return;
            }
            var settings = _session.Settings(_options);
            string results = _configuration.GetTestResultDirectory();
            Directory.CreateDirectory(results);
            var reports = settings.Formats.Select(f => f == "lcov"
                ? ("--lcov", Path.Combine(results, "coverage.info"))
                : ("--cobertura", Path.Combine(results, "coverage.cobertura.xml"))).ToList();
            var args = new List<string> { "collect", "--quiet", "--from", _session.CountsDir };
            args.AddRange(settings.FilterArguments(Array.Empty<string>()));
            args.AddRange(settings.ReportArguments());
            foreach (var (option, file) in reports)
                args.AddRange(new[] { option, file });
            var r = IlheapTool.Run(ilheap, args);
            string said = r.Stderr.Trim();
            if (r.ExitCode == 0)
            {
                string last = said.Split('\n').LastOrDefault() ?? "";
                await Say(new TextOutputDeviceData("ilheap: " + last.Replace("ilheap collect: ", "")), cancellation)
                    .ConfigureAwait(false);
                return;
            }
            string what = r.ExitCode == IlheapTool.ExitNoCoverage ? "no coverage was collected"
                : r.ExitCode == IlheapTool.ExitThreshold ? "coverage below the threshold"
                : $"ilheap collect failed (exit {r.ExitCode})";
            await Fail(r.ExitCode, $"{what}: {said}", cancellation).ConfigureAwait(false);
        }

        // The platform gives an extension that runs after the test host no way to fail the run, and
        // `dotnet test` shows none of its output: the reason goes to stderr too, and the test
        // application ends with ilheap collect's status.
        private async Task Fail(int status, string message, CancellationToken cancellation)
        {
            await Say(new ErrorMessageOutputDeviceData("ilheap: " + message), cancellation).ConfigureAwait(false);
            Console.Error.WriteLine("ilheap: " + message);
            Console.Error.Flush();
            System.Environment.Exit(status);
        }

        private Task Say(IOutputDeviceData data, CancellationToken cancellation) =>
            _output.DisplayAsync(this, data, cancellation);
    }
}
