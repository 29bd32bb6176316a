// SrmDump: lists every MethodDef with an IL body of an assembly, read with
// System.Reflection.Metadata (PEReader.GetMethodBody), one JSON object per line,
// with exactly the keys of `ilheap scan --jsonl` (issue 5), in token order:
//   {"token":100663297,"rva":8272,"header":"fat","max_stack":2,"code_size":54,
//    "local_sig":285212673,"init_locals":true,"eh":[...],"body_size":66}
// It is the reference side of the differential test; it must stay a plain
// reader of what SRM reports, with no logic of its own beyond formatting.
//
// Usage: SrmDump FILE            JSON lines on stdout
//        SrmDump FILE FILE...    the same for each, each after a line "# FILE"
//                                (one process for a whole directory: no start-up per file)
//        SrmDump --bench N FILE  read every body N times, print the rate
//        SrmDump --lines FILE... each method's sequence points from the assembly's
//                                portable PDB (embedded or beside it), exactly as
//                                `ilheap scan FILE --lines --jsonl` prints them (issue 16)
// Exit: 0 ok, 1 usage or unreadable file, 2 some bodies could not be read
// (each reported on stderr with its token).
using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Reflection;
using System.Reflection.Metadata;
using System.Reflection.Metadata.Ecma335;
using System.Reflection.PortableExecutable;
using System.Text;

internal static class Program
{
    private static int Main(string[] args)
    {
        int bench = 0;
        bool lines = false;
        var paths = new List<string>();
        for (int i = 0; i < args.Length; i++)
        {
            if (args[i] == "--bench" && i + 1 < args.Length && int.TryParse(args[i + 1], out bench) && bench > 0)
                i++;
            else if (args[i] == "--lines")
                lines = true;
            else if (!args[i].StartsWith("--", StringComparison.Ordinal))
                paths.Add(args[i]);
            else
                return Usage();
        }
        if (paths.Count == 0 || (bench > 0 && paths.Count != 1))
            return Usage();

        int status = 0;
        foreach (string path in paths)
        {
            if (paths.Count > 1)
            {
                Console.Out.WriteLine($"# {path}");
                Console.Out.Flush();
            }
            status = Math.Max(status, lines ? DumpLines(path) : DumpFile(path, bench));
        }
        return status;
    }

    private static int DumpFile(string path, int bench)
    {
        try
        {
            using var stream = File.OpenRead(path);
            using var pe = new PEReader(stream, PEStreamOptions.PrefetchEntireImage);
            var md = pe.GetMetadataReader();
            return bench > 0 ? Bench(pe, md, bench) : Dump(pe, md);
        }
        catch (Exception e) when (e is IOException || e is BadImageFormatException || e is InvalidOperationException || e is UnauthorizedAccessException)
        {
            Console.Error.WriteLine($"SrmDump: {path}: {e.Message}");
            return 1;
        }
    }

    // --lines: SRM finds the PDB (embedded, or beside the DLL / at the CodeView
    // path, with its id checked) and decodes the sequence points.
    private static int DumpLines(string path)
    {
        try
        {
            using var stream = File.OpenRead(path);
            using var pe = new PEReader(stream, PEStreamOptions.PrefetchEntireImage);
            if (!pe.TryOpenAssociatedPortablePdb(path, p => File.Exists(p) ? File.OpenRead(p) : null,
                                                 out MetadataReaderProvider? provider, out string? _) || provider == null)
            {
                Console.Error.WriteLine($"SrmDump: {path}: no portable PDB");
                return 1;
            }
            using (provider)
            {
                var pdb = provider.GetMetadataReader();
                var output = new StringBuilder();
                foreach (var handle in pdb.MethodDebugInformation)
                {
                    var info = pdb.GetMethodDebugInformation(handle);
                    if (info.SequencePointsBlob.IsNil)
                        continue;
                    int n = 0;
                    foreach (var sp in info.GetSequencePoints())
                    {
                        if (n++ == 0)
                            output.Append("{\"token\":").Append(MetadataTokens.GetToken(handle.ToDefinitionHandle())).Append(",\"points\":[");
                        else
                            output.Append(',');
                        output.Append("{\"il\":").Append(sp.Offset).Append(",\"document\":");
                        JsonString(output, pdb.GetString(pdb.GetDocument(sp.Document).Name));
                        output.Append(",\"hidden\":").Append(sp.IsHidden ? "true" : "false")
                              .Append(",\"start_line\":").Append(sp.StartLine).Append(",\"start_col\":").Append(sp.StartColumn)
                              .Append(",\"end_line\":").Append(sp.EndLine).Append(",\"end_col\":").Append(sp.EndColumn).Append('}');
                    }
                    if (n > 0)
                        output.Append("]}\n");
                }
                var stdout = Console.OpenStandardOutput();
                var bytes = new UTF8Encoding(false).GetBytes(output.ToString());
                stdout.Write(bytes, 0, bytes.Length);
                stdout.Flush();
            }
            return 0;
        }
        catch (Exception e) when (e is IOException || e is BadImageFormatException || e is InvalidOperationException || e is UnauthorizedAccessException)
        {
            Console.Error.WriteLine($"SrmDump: {path}: {e.Message}");
            return 1;
        }
    }

    // JSON string as ilheap writes it: \" and \\ escaped, control bytes as \u00xx,
    // everything else as is (UTF-8).
    private static void JsonString(StringBuilder output, string s)
    {
        output.Append('"');
        foreach (char ch in s)
        {
            if (ch == '"' || ch == '\\')
                output.Append('\\').Append(ch);
            else if (ch < 0x20)
                output.Append("\\u").Append(((int)ch).ToString("x4"));
            else
                output.Append(ch);
        }
        output.Append('"');
    }

    private static int Usage()
    {
        Console.Error.WriteLine("usage: SrmDump FILE... | SrmDump --bench N FILE | SrmDump --lines FILE...");
        return 1;
    }

    // ECMA-335 II.22.26: a method has an IL body when its RVA is non-zero and its
    // code type (ImplFlags & 3) is IL.
    private static bool HasIL(MethodDefinition m) =>
        m.RelativeVirtualAddress != 0 && (m.ImplAttributes & MethodImplAttributes.CodeTypeMask) == MethodImplAttributes.IL;

    private static int Dump(PEReader pe, MetadataReader md)
    {
        var output = new StreamWriter(Console.OpenStandardOutput(), new UTF8Encoding(false), 1 << 16);
        var line = new StringBuilder(256);
        int failures = 0;
        foreach (var handle in md.MethodDefinitions)
        {
            var m = md.GetMethodDefinition(handle);
            if (!HasIL(m))
                continue;
            int token = MetadataTokens.GetToken(handle);
            int rva = m.RelativeVirtualAddress;
            try
            {
                var body = pe.GetMethodBody(rva);
                // SRM does not expose the header format; its low 2 bits say it (II.25.4.1).
                byte first = pe.GetSectionData(rva).GetReader().ReadByte();
                bool tiny = (first & 3) == 2;
                line.Clear();
                line.Append("{\"token\":").Append(token)
                    .Append(",\"rva\":").Append(rva)
                    .Append(",\"header\":\"").Append(tiny ? "tiny" : "fat").Append('"')
                    .Append(",\"max_stack\":").Append(body.MaxStack)
                    .Append(",\"code_size\":").Append(body.GetILReader().Length)
                    .Append(",\"local_sig\":").Append(body.LocalSignature.IsNil ? 0 : MetadataTokens.GetToken(body.LocalSignature))
                    .Append(",\"init_locals\":").Append(body.LocalVariablesInitialized ? "true" : "false")
                    .Append(",\"eh\":[");
                bool firstRegion = true;
                foreach (var r in body.ExceptionRegions)
                {
                    if (!firstRegion)
                        line.Append(',');
                    firstRegion = false;
                    line.Append("{\"kind\":\"").Append(KindName(r.Kind)).Append('"')
                        .Append(",\"try_offset\":").Append(r.TryOffset)
                        .Append(",\"try_length\":").Append(r.TryLength)
                        .Append(",\"handler_offset\":").Append(r.HandlerOffset)
                        .Append(",\"handler_length\":").Append(r.HandlerLength);
                    if (r.Kind == ExceptionRegionKind.Catch)
                        line.Append(",\"class_token\":").Append(r.CatchType.IsNil ? 0 : MetadataTokens.GetToken(r.CatchType));
                    else if (r.Kind == ExceptionRegionKind.Filter)
                        line.Append(",\"filter_offset\":").Append(r.FilterOffset);
                    line.Append('}');
                }
                line.Append("],\"body_size\":").Append(body.Size).Append('}');
                output.WriteLine(line);
            }
            catch (BadImageFormatException e)
            {
                Console.Error.WriteLine($"SrmDump: token 0x{token:x8} rva 0x{rva:x}: {e.Message}");
                failures++;
            }
        }
        output.Flush();
        return failures == 0 ? 0 : 2;
    }

    private static string KindName(ExceptionRegionKind kind) => kind switch
    {
        ExceptionRegionKind.Catch => "catch",
        ExceptionRegionKind.Filter => "filter",
        ExceptionRegionKind.Finally => "finally",
        ExceptionRegionKind.Fault => "fault",
        _ => "unknown",
    };

    // The same reading as Dump (every field it prints), without formatting, for the
    // scan benchmark of issue 5: the best of N passes.
    private static int Bench(PEReader pe, MetadataReader md, int passes)
    {
        double best = double.MaxValue;
        long bodies = 0, checksum = 0;
        for (int pass = 0; pass < passes; pass++)
        {
            var watch = Stopwatch.StartNew();
            bodies = 0;
            foreach (var handle in md.MethodDefinitions)
            {
                var m = md.GetMethodDefinition(handle);
                if (!HasIL(m))
                    continue;
                try
                {
                    var body = pe.GetMethodBody(m.RelativeVirtualAddress);
                    checksum += body.MaxStack + body.GetILReader().Length + body.Size + body.ExceptionRegions.Length;
                    bodies++;
                }
                catch (BadImageFormatException)
                {
                }
            }
            watch.Stop();
            best = Math.Min(best, watch.Elapsed.TotalSeconds);
        }
        Console.WriteLine($"srm bodies={bodies} passes={passes} best_s={best:F6} ns_per_body={best * 1e9 / Math.Max(1, bodies):F1} bodies_per_s={bodies / best:F0} checksum={checksum}");
        return 0;
    }
}
