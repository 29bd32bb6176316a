// SrmDump: lists every MethodDef with an IL body of an assembly, read with
// System.Reflection.Metadata (PEReader.GetMethodBody), one JSON object per line,
// with exactly the keys of `ilheap scan --jsonl`, in token order:
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
//                                `ilheap scan FILE --lines --jsonl` prints them
//        SrmDump --sigs FILE     every MethodDef, MemberRef, StandAloneSig, Field,
//                                Property, TypeSpec and MethodSpec signature decoded
//                                by SRM's SignatureDecoder, one "TOKEN TEXT" line each,
//                                in the form tests/pe/test_sig_srm.c renders ilheap's
//                                decoded trees (SigText below)
// Exit: 0 ok, 1 usage or unreadable file, 2 some bodies could not be read
// (each reported on stderr with its token).
using System;
using System.Collections.Generic;
using System.Collections.Immutable;
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
        bool lines = false, sigs = false;
        var paths = new List<string>();
        for (int i = 0; i < args.Length; i++)
        {
            if (args[i] == "--bench" && i + 1 < args.Length && int.TryParse(args[i + 1], out bench) && bench > 0)
                i++;
            else if (args[i] == "--lines")
                lines = true;
            else if (args[i] == "--sigs")
                sigs = true;
            else if (!args[i].StartsWith("--", StringComparison.Ordinal))
                paths.Add(args[i]);
            else
                return Usage();
        }
        if (paths.Count == 0 || (bench > 0 && paths.Count != 1) || (sigs && paths.Count != 1))
            return Usage();
        if (sigs)
            return SigText.Dump(paths[0]);

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
        Console.Error.WriteLine("usage: SrmDump FILE... | SrmDump --bench N FILE | SrmDump --lines FILE... | SrmDump --sigs FILE");
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
    // scan benchmark (bench/scan.sh): the best of N passes.
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

// --sigs: SRM's SignatureDecoder with a provider that spells each type in
// blob order, the form test_sig_srm.c gives ilheap's trees:
//   primitives by their System name (Int32, String, Void, TypedReference ...)
//   "class 0x01000005" / "valuetype 0x02000003" (the CLASS or VALUETYPE byte;
//   a bare token where the signature has none: in a modifier)
//   "ptr T", "ref T", "pinned T", "szarray T", "array(rank;sizes;bounds) T",
//   "modreq(0x01000007) T", "modopt(...) T", "generic(class 0x..;A,B)", "!0", "!!1",
//   "fnptr(METHOD)"; a method "method(hdr=0x20 gen=0 req=2 ret=T params=A,B)"
//   (req: the parameters before a vararg SENTINEL), "field(T)", "locals(A,B)",
//   "inst(A,B)" for a MethodSpec, the type alone for a TypeSpec.
internal sealed class SigText : ISignatureTypeProvider<string, object?>
{
    public static int Dump(string path)
    {
        try
        {
            using var stream = File.OpenRead(path);
            using var pe = new PEReader(stream, PEStreamOptions.PrefetchEntireImage);
            var md = pe.GetMetadataReader();
            var p = new SigText();
            var output = new StreamWriter(Console.OpenStandardOutput(), new UTF8Encoding(false), 1 << 16);
            foreach (var h in md.MethodDefinitions)
                Line(output, h, () => Method(md.GetMethodDefinition(h).DecodeSignature(p, null)));
            foreach (var h in md.MemberReferences)
            {
                var m = md.GetMemberReference(h);
                Line(output, h, () => m.GetKind() == MemberReferenceKind.Method
                                          ? Method(m.DecodeMethodSignature(p, null))
                                          : $"field({m.DecodeFieldSignature(p, null)})");
            }
            for (int rid = 1; rid <= md.GetTableRowCount(TableIndex.StandAloneSig); rid++)
            {
                var h = MetadataTokens.StandaloneSignatureHandle(rid);
                var s = md.GetStandaloneSignature(h);
                Line(output, h, () => s.GetKind() == StandaloneSignatureKind.Method
                                          ? Method(s.DecodeMethodSignature(p, null))
                                          : $"locals({string.Join(",", s.DecodeLocalSignature(p, null))})");
            }
            foreach (var t in md.TypeDefinitions)
                foreach (var h in md.GetTypeDefinition(t).GetFields())
                    Line(output, h, () => $"field({md.GetFieldDefinition(h).DecodeSignature(p, null)})");
            foreach (var t in md.TypeDefinitions)
                foreach (var h in md.GetTypeDefinition(t).GetProperties())
                    Line(output, h, () => Method(md.GetPropertyDefinition(h).DecodeSignature(p, null)));
            for (int rid = 1; rid <= md.GetTableRowCount(TableIndex.TypeSpec); rid++)
            {
                var h = MetadataTokens.TypeSpecificationHandle(rid);
                Line(output, h, () => md.GetTypeSpecification(h).DecodeSignature(p, null));
            }
            for (int rid = 1; rid <= md.GetTableRowCount(TableIndex.MethodSpec); rid++)
            {
                var h = MetadataTokens.MethodSpecificationHandle(rid);
                Line(output, h, () => $"inst({string.Join(",", md.GetMethodSpecification(h).DecodeSignature(p, null))})");
            }
            output.Flush();
            return 0;
        }
        catch (Exception e) when (e is IOException || e is BadImageFormatException || e is UnauthorizedAccessException)
        {
            Console.Error.WriteLine($"SrmDump: {path}: {e.Message}");
            return 1;
        }
    }

    private static void Line(StreamWriter output, EntityHandle h, Func<string> text)
    {
        string t;
        try
        {
            t = text();
        }
        catch (BadImageFormatException e)
        {
            t = "error " + e.Message;
        }
        output.Write($"0x{MetadataTokens.GetToken(h):x8} ");
        output.WriteLine(t);
    }

    private static string Method(MethodSignature<string> m) =>
        $"method(hdr=0x{m.Header.RawValue:x2} gen={m.GenericParameterCount} req={m.RequiredParameterCount} " +
        $"ret={m.ReturnType} params={string.Join(",", m.ParameterTypes)})";

    private static string Token(EntityHandle h, byte rawTypeKind) =>
        (rawTypeKind == 0x11 ? "valuetype " : rawTypeKind == 0x12 ? "class " : "") + $"0x{MetadataTokens.GetToken(h):x8}";

    public string GetPrimitiveType(PrimitiveTypeCode typeCode) => typeCode.ToString();
    public string GetTypeFromDefinition(MetadataReader reader, TypeDefinitionHandle handle, byte rawTypeKind) => Token(handle, rawTypeKind);
    public string GetTypeFromReference(MetadataReader reader, TypeReferenceHandle handle, byte rawTypeKind) => Token(handle, rawTypeKind);
    public string GetTypeFromSpecification(MetadataReader reader, object? context, TypeSpecificationHandle handle, byte rawTypeKind) => Token(handle, rawTypeKind);
    public string GetSZArrayType(string elementType) => "szarray " + elementType;
    public string GetArrayType(string elementType, ArrayShape shape) =>
        $"array({shape.Rank};{string.Join(",", shape.Sizes)};{string.Join(",", shape.LowerBounds)}) {elementType}";
    public string GetPointerType(string elementType) => "ptr " + elementType;
    public string GetByReferenceType(string elementType) => "ref " + elementType;
    public string GetPinnedType(string elementType) => "pinned " + elementType;
    public string GetGenericInstantiation(string genericType, ImmutableArray<string> typeArguments) =>
        $"generic({genericType};{string.Join(",", typeArguments)})";
    public string GetGenericTypeParameter(object? context, int index) => "!" + index;
    public string GetGenericMethodParameter(object? context, int index) => "!!" + index;
    public string GetFunctionPointerType(MethodSignature<string> signature) => $"fnptr({Method(signature)})";
    public string GetModifiedType(string modifier, string unmodifiedType, bool isRequired) =>
        (isRequired ? "modreq(" : "modopt(") + modifier + ") " + unmodifiedType;
}
