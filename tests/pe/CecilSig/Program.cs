// CecilSig FILE...: for each MethodDef of each assembly, in token order, one
// line "TOKEN RETURN (PARAMETERS)": Mono.Cecil's MethodDefinition.FullName
// cut at its parameter list, and its ReturnType.FullName. The reference side
// of tests/pe/test_sig_cecil.sh (ilheap_pe_signature_text, ILHEAP_SIG_TEXT_CECIL
// | ILHEAP_SIG_TEXT_RETURN); "# FILE" precedes each file's lines.
using System;
using System.IO;
using System.Linq;
using System.Text;
using Mono.Cecil;

internal static class Program
{
    private static int Main(string[] args)
    {
        if (args.Length == 0)
        {
            Console.Error.WriteLine("usage: CecilSig FILE...");
            return 1;
        }
        var output = new StreamWriter(Console.OpenStandardOutput(), new UTF8Encoding(false), 1 << 16);
        foreach (string path in args)
        {
            output.WriteLine($"# {path}");
            using var module = ModuleDefinition.ReadModule(path);
            foreach (var method in module.GetTypes().SelectMany(t => t.Methods).OrderBy(m => m.MetadataToken.RID))
            {
                string full = method.FullName;
                int parameters = full.IndexOf('(', full.IndexOf("::", StringComparison.Ordinal));
                output.WriteLine($"0x{method.MetadataToken.ToInt32():x8} {method.ReturnType.FullName} {full.Substring(parameters)}");
            }
        }
        output.Flush();
        return 0;
    }
}
