// The `ilheap` command of the package, found and run: the collectors are a
// thin layer over it (`ilheap collect --print-env DIR` gives the test host's
// environment, `ilheap collect --from DIR` writes the reports).
using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.IO;
using System.Runtime.InteropServices;
using System.Text;

namespace Ilheap.Collector
{
    internal sealed class ToolResult
    {
        public int ExitCode;
        public string Stdout = "";
        public string Stderr = "";
    }

    internal static class IlheapTool
    {
        // `ilheap collect`'s own statuses (docs/cli.md).
        public const int ExitNoCoverage = 7;
        public const int ExitThreshold = 8;

        /// <summary>The runtime identifier whose natives this machine runs (linux-x64, linux-arm64, win-x64).</summary>
        public static string RuntimeId()
        {
            string os = RuntimeInformation.IsOSPlatform(OSPlatform.Windows) ? "win"
                : RuntimeInformation.IsOSPlatform(OSPlatform.OSX) ? "osx" : "linux";
            string arch = RuntimeInformation.OSArchitecture switch
            {
                Architecture.X64 => "x64",
                Architecture.Arm64 => "arm64",
                Architecture.X86 => "x86",
                Architecture.Arm => "arm",
                var other => other.ToString().ToLowerInvariant(),
            };
            return os + "-" + arch;
        }

        /// <summary>The package's `ilheap` for this machine: in tools/RID/ of the package, which the
        /// build names in the runtime option Ilheap.ToolsDir (ilheap.mtp, whose DLL is copied to the
        /// test's output) or which holds `assemblyDir` (build/netstandard2.0/ of ilheap.collector,
        /// loaded from the package). Throws saying what is missing when there is none.</summary>
        public static string Find(string assemblyDir)
        {
            string rid = RuntimeId();
            string exe = rid.StartsWith("win", StringComparison.Ordinal) ? "ilheap.exe" : "ilheap";
            var tools = new List<string>();
            if (AppContext.GetData("Ilheap.ToolsDir") is string configured && configured.Length != 0)
                tools.Add(configured);
            tools.Add(Path.GetFullPath(Path.Combine(assemblyDir, "..", "..", "tools")));
            foreach (var dir in tools)
            {
                string path = Path.Combine(dir, rid, exe);
                if (File.Exists(path))
                    return MakeRunnable(path);
            }
            var have = tools.Where(Directory.Exists).SelectMany(Directory.GetDirectories).ToList();
            throw new InvalidOperationException(
                $"no native ilheap for {rid} in the package (looked in {string.Join(" and ", tools)}; " +
                $"it has: {(have.Count == 0 ? "none" : string.Join(", ", have))})");
        }

        [DllImport("libc", SetLastError = true)]
        private static extern int chmod(string path, uint mode);

        [DllImport("libc", SetLastError = true)]
        private static extern int access(string path, int mode);

        // NuGet does not keep the execute bit when it extracts a package.
        private static string MakeRunnable(string path)
        {
            if (RuntimeInformation.IsOSPlatform(OSPlatform.Windows))
                return path;
            const int X_OK = 1;
            if (access(path, X_OK) == 0 || chmod(path, Convert.ToUInt32("755", 8)) == 0)
                return path;
            // A read-only package folder: a private copy, with the profiler beside it.
            string dir = Path.Combine(Path.GetTempPath(), "ilheap-tool-" + Guid.NewGuid().ToString("N"));
            Directory.CreateDirectory(dir);
            foreach (var file in Directory.GetFiles(Path.GetDirectoryName(path)!))
                File.Copy(file, Path.Combine(dir, Path.GetFileName(file)));
            string copy = Path.Combine(dir, Path.GetFileName(path));
            if (chmod(copy, Convert.ToUInt32("755", 8)) != 0)
                throw new InvalidOperationException($"{path} is not executable and a copy could not be made so");
            return copy;
        }

        /// <summary>Runs `ilheap ARGS`; its output captured, never shown.</summary>
        public static ToolResult Run(string ilheap, IEnumerable<string> args)
        {
            var info = new ProcessStartInfo(ilheap)
            {
                Arguments = JoinArguments(args),
                UseShellExecute = false,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                CreateNoWindow = true,
            };
            // The tool itself must not run under a profiler a parent set up.
            info.Environment["CORECLR_ENABLE_PROFILING"] = "0";
            using var process = Process.Start(info)!;
            var stderr = new StringBuilder();
            process.ErrorDataReceived += (_, e) => { if (e.Data != null) lock (stderr) stderr.AppendLine(e.Data); };
            process.BeginErrorReadLine();
            string stdout = process.StandardOutput.ReadToEnd();
            process.WaitForExit();
            lock (stderr)
                return new ToolResult { ExitCode = process.ExitCode, Stdout = stdout, Stderr = stderr.ToString() };
        }

        // One command line that the C runtime splits back into `args` (quotes and
        // backslashes as CommandLineToArgvW and .NET read them).
        private static string JoinArguments(IEnumerable<string> args)
        {
            var sb = new StringBuilder();
            foreach (var arg in args)
            {
                if (sb.Length > 0)
                    sb.Append(' ');
                if (arg.Length > 0 && arg.IndexOfAny(new[] { ' ', '\t', '"', '\\' }) < 0)
                {
                    sb.Append(arg);
                    continue;
                }
                sb.Append('"');
                int slashes = 0;
                foreach (char c in arg)
                {
                    if (c == '\\') { slashes++; continue; }
                    sb.Append('\\', c == '"' ? 2 * slashes + 1 : slashes);
                    slashes = 0;
                    sb.Append(c);
                }
                sb.Append('\\', 2 * slashes);
                sb.Append('"');
            }
            return sb.ToString();
        }

        /// <summary>NAME=VALUE lines (from `--print-env`) as pairs.</summary>
        public static List<KeyValuePair<string, string>> ParseEnvironment(string text)
        {
            var result = new List<KeyValuePair<string, string>>();
            foreach (var line in text.Split('\n'))
            {
                int eq = line.IndexOf('=');
                if (eq > 0)
                    result.Add(new KeyValuePair<string, string>(line.Substring(0, eq), line.Substring(eq + 1).TrimEnd('\r')));
            }
            return result;
        }
    }
}
