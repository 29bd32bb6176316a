// CecilBench: the Mono.Cecil side of the IL rewriter and wrapper benchmarks.
// Cecil is the engine behind coverlet. Over one assembly (bench/rewrite.sh
// passes the newest runtime's System.Private.CoreLib.dll) it times, per method
// body, what a Cecil-based rewriter pays:
//
//   read       open the module, read every body to instructions
//   roundtrip  read, then write the module back (Cecil has no public per-body
//              writer: ModuleDefinition.Write to a MemoryStream re-encodes
//              every loaded body, and the rest of the module with it)
//   untouched  open the module, write it back without loading any body (what
//              the whole-module write costs besides the bodies; Cecil copies
//              an unloaded body raw, patching its tokens)
//   blocks     read, insert a counter probe at every basic block (branch,
//              switch and EH edges retargeted to the probe, as coverlet does),
//              write the module back
//   wrap       read, wrap each method as a tracer does (a local of the return
//              type, every ret a store + leave to one epilogue, the whole body
//              in try/finally with a counter probe in the finally, an entry
//              probe before the try), write the module back (Cecil computes
//              each body's max stack from the resolved call targets as it
//              writes); bench/wrap.sh compares it with bench_wrap
//
// docs/benchmarks.md says why these and how the ratio is taken. Every op runs
// twice untimed (JIT tiering), then --passes times, the ops interleaved, each
// from the image's bytes in memory; the best pass is printed, one line per op:
//   rewrite impl=cecil op=roundtrip bodies=N passes=P best_s=.. ns_per_body=.. bodies_per_s=..
//   rewrite impl=cecil op=blocks bodies=N probes=B ... (B: probes inserted)
//
// Run it with DOTNET_GCgen0size=0x10000000 (bench/rewrite.sh does): with the
// default gen0 budget, reading the bodies costs 2.5x more or less depending on
// what ran before (the budget adapts); a large one gives Cecil its best.
//
// Usage: CecilBench [--passes N] [--ops read,roundtrip,untouched,blocks,wrap] FILE
// Exit: 0 ok, 1 usage or unreadable file, 2 Cecil failed on the assembly.
using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using Mono.Cecil;
using Mono.Cecil.Cil;
using Mono.Cecil.Rocks;

internal static class Program
{
    // The probe's counters live at a fake address: the code is written, never run.
    private const long CounterBase = 0x00007F0000001000;

    private static int Main(string[] args)
    {
        int passes = 3;
        string ops = "read,roundtrip,untouched,blocks";
        string? path = null;
        for (int i = 0; i < args.Length; i++)
        {
            if (args[i] == "--passes" && i + 1 < args.Length && int.TryParse(args[i + 1], out passes) && passes > 0)
                i++;
            else if (args[i] == "--ops" && i + 1 < args.Length)
                ops = args[++i];
            else if (!args[i].StartsWith("--", StringComparison.Ordinal) && path == null)
                path = args[i];
            else
                return Usage();
        }
        if (path == null || passes <= 0)
            return Usage();

        byte[] image;
        try
        {
            image = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException || e is UnauthorizedAccessException)
        {
            Console.Error.WriteLine($"CecilBench: {path}: {e.Message}");
            return 1;
        }
        string dir = Path.GetDirectoryName(Path.GetFullPath(path)) ?? ".";
        var which = new List<Op>();
        foreach (string op in ops.Split(','))
        {
            if (!Enum.TryParse(op, true, out Op o))
                return Usage();
            which.Add(o);
        }
        var best = new Result[which.Count];
        try
        {
            // Two untimed rounds first, so the timed passes run tiered-up code;
            // then the ops interleaved, pass by pass.
            for (int p = -2; p < passes; p++)
            {
                for (int i = 0; i < which.Count; i++)
                {
                    GC.Collect();
                    GC.WaitForPendingFinalizers();
                    GC.Collect();
                    Result r = Pass(image, dir, which[i]);
                    if (p == 0 || (p > 0 && r.Total < best[i].Total))
                        best[i] = r;
                }
            }
        }
        catch (Exception e)
        {
            Console.Error.WriteLine($"CecilBench: {path}: Cecil failed: {e.GetType().Name}: {e.Message}");
            return 2;
        }
        for (int i = 0; i < which.Count; i++)
        {
            Result b = best[i];
            double per = 1e6 / Math.Max(b.Bodies, 1); // ms -> ns per body
            double ns = b.Total.TotalMilliseconds * per;
            Console.Out.WriteLine(
                $"rewrite impl=cecil op={which[i].ToString().ToLowerInvariant()} bodies={b.Bodies}" +
                (which[i] == Op.Blocks || which[i] == Op.Wrap ? $" probes={b.Probes}" : "") +
                $" passes={passes} best_s={b.Total.TotalSeconds:F6} ns_per_body={ns:F1} bodies_per_s={1e9 / ns:F0}" +
                $" read_ns_per_body={b.Read.TotalMilliseconds * per:F1} write_ns_per_body={b.Write.TotalMilliseconds * per:F1}" +
                $" instructions={b.Instructions} out_bytes={b.OutBytes}");
        }
        return 0;
    }

    private static int Usage()
    {
        Console.Error.WriteLine("usage: CecilBench [--passes N] [--ops read,roundtrip,untouched,blocks,wrap] FILE");
        return 1;
    }

    private enum Op { Read, Roundtrip, Untouched, Blocks, Wrap }

    private struct Result
    {
        public TimeSpan Total, Read, Write;
        public long Bodies, Probes, Instructions, OutBytes;
    }

    private static Result Pass(byte[] image, string dir, Op op)
    {
        var r = new Result();
        var clock = Stopwatch.StartNew();
        using var resolver = new DefaultAssemblyResolver();
        resolver.AddSearchDirectory(dir);
        var parameters = new ReaderParameters(ReadingMode.Deferred) { AssemblyResolver = resolver, ReadSymbols = false };
        using var module = ModuleDefinition.ReadModule(new MemoryStream(image, false), parameters);
        long counter = 0;
        foreach (TypeDefinition type in module.GetTypes())
        {
            foreach (MethodDefinition method in type.Methods)
            {
                if (!method.HasBody || method.RVA == 0)
                    continue;
                r.Bodies++;
                if (op == Op.Untouched)
                    continue;
                MethodBody body = method.Body;
                r.Instructions += body.Instructions.Count;
                if (op == Op.Blocks)
                    r.Probes += InstrumentBlocks(body, ref counter);
                else if (op == Op.Wrap)
                    r.Probes += Wrap(method, ref counter);
            }
        }
        r.Read = clock.Elapsed;
        if (op != Op.Read)
        {
            // CoreLib is ReadyToRun, which clears the IL-only flag, and Cecil
            // refuses to write mixed-mode images. Its writer never copies the
            // native code anyway: the result is the IL-only assembly.
            module.Attributes = (module.Attributes | ModuleAttributes.ILOnly) & ~ModuleAttributes.ILLibrary;
            var output = new MemoryStream(image.Length * 2);
            module.Write(output);
            r.OutBytes = output.Length;
        }
        r.Total = clock.Elapsed;
        r.Write = r.Total - r.Read;
        return r;
    }

    // Inserts the pure-IL counter (ldc.i8 ADDR; conv.u; dup; ldind.i4;
    // ldc.i4.1; add; stind.i4) at the start of every basic block, and points
    // every branch, switch target and EH boundary that led to the block's first
    // instruction at the probe instead, as coverlet does: a probe runs on every
    // path into its block. Returns the probes inserted.
    private static int InstrumentBlocks(MethodBody body, ref long counter)
    {
        var code = body.Instructions;
        if (code.Count == 0)
            return 0;
        body.SimplifyMacros(); // every branch long: insertions cannot overflow a short form
        var leaders = new HashSet<Instruction> { code[0] };
        for (int i = 0; i < code.Count; i++)
        {
            Instruction x = code[i];
            if (x.Operand is Instruction target)
                leaders.Add(target);
            else if (x.Operand is Instruction[] targets)
                leaders.UnionWith(targets);
            switch (x.OpCode.FlowControl)
            {
                case FlowControl.Branch:
                case FlowControl.Cond_Branch:
                case FlowControl.Return:
                case FlowControl.Throw:
                    if (i + 1 < code.Count)
                        leaders.Add(code[i + 1]);
                    break;
            }
        }
        foreach (ExceptionHandler h in body.ExceptionHandlers)
        {
            leaders.Add(h.TryStart);
            leaders.Add(h.HandlerStart);
            if (h.TryEnd != null)
                leaders.Add(h.TryEnd);
            if (h.HandlerEnd != null)
                leaders.Add(h.HandlerEnd);
            if (h.FilterStart != null)
                leaders.Add(h.FilterStart);
        }
        // Nothing goes between a prefix and its instruction, nor between
        // tail. call and its ret.
        for (int i = 1; i < code.Count; i++)
        {
            if (code[i - 1].OpCode.OpCodeType == OpCodeType.Prefix ||
                (code[i].OpCode.Code == Code.Ret && i >= 2 && code[i - 2].OpCode.Code == Code.Tail))
                leaders.Remove(code[i]);
        }

        var probeOf = new Dictionary<Instruction, Instruction>(leaders.Count);
        var probe = new Instruction[7];
        for (int i = code.Count - 1; i >= 0; i--)
        {
            Instruction x = code[i];
            if (!leaders.Contains(x))
                continue;
            probe[0] = Instruction.Create(OpCodes.Ldc_I8, CounterBase + 4 * counter++);
            probe[1] = Instruction.Create(OpCodes.Conv_U);
            probe[2] = Instruction.Create(OpCodes.Dup);
            probe[3] = Instruction.Create(OpCodes.Ldind_I4);
            probe[4] = Instruction.Create(OpCodes.Ldc_I4_1);
            probe[5] = Instruction.Create(OpCodes.Add);
            probe[6] = Instruction.Create(OpCodes.Stind_I4);
            for (int k = probe.Length - 1; k >= 0; k--)
                code.Insert(i, probe[k]);
            probeOf[x] = probe[0];
        }
        foreach (Instruction x in code)
        {
            if (x.Operand is Instruction target && probeOf.TryGetValue(target, out Instruction? p))
                x.Operand = p;
            else if (x.Operand is Instruction[] targets)
            {
                var moved = (Instruction[])targets.Clone();
                for (int k = 0; k < moved.Length; k++)
                    if (probeOf.TryGetValue(moved[k], out Instruction? q))
                        moved[k] = q;
                x.Operand = moved;
            }
        }
        foreach (ExceptionHandler h in body.ExceptionHandlers)
        {
            h.TryStart = Retarget(probeOf, h.TryStart);
            h.TryEnd = Retarget(probeOf, h.TryEnd);
            h.HandlerStart = Retarget(probeOf, h.HandlerStart);
            h.HandlerEnd = Retarget(probeOf, h.HandlerEnd);
            h.FilterStart = Retarget(probeOf, h.FilterStart);
        }
        body.OptimizeMacros(); // short forms back where they fit
        return probeOf.Count;
    }

    private static Instruction[] CounterProbe(long address) => new[]
    {
        Instruction.Create(OpCodes.Ldc_I8, address), Instruction.Create(OpCodes.Conv_U),
        Instruction.Create(OpCodes.Dup), Instruction.Create(OpCodes.Ldind_I4), Instruction.Create(OpCodes.Ldc_I4_1),
        Instruction.Create(OpCodes.Add), Instruction.Create(OpCodes.Stind_I4),
    };

    // The tracer's wrapper, as bench_wrap builds it with ilheap: a local of
    // the return type; every ret becomes stloc + leave to one epilogue (the
    // ret instruction object keeps its identity, so branches to it reach the
    // store); the whole body in try/finally with a counter probe in the
    // finally; an entry probe in front of the try (inserted at index 0,
    // branches to the old first instruction keep leading to it). Returns 2
    // (the probes).
    private static int Wrap(MethodDefinition method, ref long counter)
    {
        MethodBody body = method.Body;
        var code = body.Instructions;
        if (code.Count == 0)
            return 0;
        body.SimplifyMacros();
        bool returns = method.ReturnType.MetadataType != MetadataType.Void;
        VariableDefinition? ret = null;
        if (returns)
        {
            ret = new VariableDefinition(method.ReturnType);
            body.Variables.Add(ret);
        }
        Instruction epilogue = returns ? Instruction.Create(OpCodes.Ldloc, ret) : Instruction.Create(OpCodes.Ret);
        Instruction first = code[0];
        var rets = new List<Instruction>();
        foreach (Instruction x in code)
            if (x.OpCode.Code == Code.Ret)
                rets.Add(x);
        foreach (Instruction x in rets)
        {
            int at = code.IndexOf(x);
            if (at >= 2 && code[at - 2].OpCode.Code == Code.Tail)
                code.RemoveAt(at - 2); // tail. call; ret: the prefix goes
            if (returns)
            {
                x.OpCode = OpCodes.Stloc;
                x.Operand = ret;
                code.Insert(code.IndexOf(x) + 1, Instruction.Create(OpCodes.Leave, epilogue));
            }
            else
            {
                x.OpCode = OpCodes.Leave;
                x.Operand = epilogue;
            }
        }
        Instruction[] exit = CounterProbe(CounterBase + 4 * counter++);
        foreach (ExceptionHandler h in body.ExceptionHandlers) // ends at the end of the code stay there
        {
            h.TryEnd ??= exit[0];
            h.HandlerEnd ??= exit[0];
        }
        foreach (Instruction x in exit)
            code.Add(x);
        code.Add(Instruction.Create(OpCodes.Endfinally));
        code.Add(epilogue);
        if (returns)
            code.Add(Instruction.Create(OpCodes.Ret));
        body.ExceptionHandlers.Add(new ExceptionHandler(ExceptionHandlerType.Finally)
        {
            TryStart = first, TryEnd = exit[0], HandlerStart = exit[0], HandlerEnd = epilogue,
        });
        Instruction[] entry = CounterProbe(CounterBase + 4 * counter++);
        for (int k = entry.Length - 1; k >= 0; k--)
            code.Insert(0, entry[k]);
        body.OptimizeMacros();
        return 2;
    }

    private static Instruction? Retarget(Dictionary<Instruction, Instruction> probeOf, Instruction? x) =>
        x != null && probeOf.TryGetValue(x, out Instruction? p) ? p : x;
}
