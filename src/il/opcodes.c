/* The ECMA-335 Partition III opcode table: every one-byte opcode and every
 * 0xFE-prefixed two-byte opcode, with its operand kind, control flow, stack
 * pops and pushes and the prefixes it accepts. The one table of the library;
 * lookups by value go through a 256 + 32 entry index. */
#include <string.h>

#include "ilheap/rewrite.h"

#define OPND(k) ILHEAP_OPND_##k
#define FLOW(k) ILHEAP_FLOW_##k
#define VAR ILHEAP_STACK_VARIES
#define P(k) ILHEAP_PREFIX_##k

/* Sorted by opcode; checked by tests/il/test_il_opcodes.c. Operand kinds,
 * sizes and stack counts were compared with an independent public table;
 * prefixable sets follow III.2 (generous where compilers use a prefix on
 * more than the spec lists: constrained. on call and ldftn, static virtual
 * members). */
static const ilheap_il_opinfo_t table[] = {
    {"nop", 0x0000, 1, OPND(NONE), FLOW(NEXT), 0, 0, 0, 0},
    {"break", 0x0001, 1, OPND(NONE), FLOW(BREAK), 0, 0, 0, 0},
    {"ldarg.0", 0x0002, 1, OPND(NONE), FLOW(NEXT), 0, 1, 0, 0},
    {"ldarg.1", 0x0003, 1, OPND(NONE), FLOW(NEXT), 0, 1, 0, 0},
    {"ldarg.2", 0x0004, 1, OPND(NONE), FLOW(NEXT), 0, 1, 0, 0},
    {"ldarg.3", 0x0005, 1, OPND(NONE), FLOW(NEXT), 0, 1, 0, 0},
    {"ldloc.0", 0x0006, 1, OPND(NONE), FLOW(NEXT), 0, 1, 0, 0},
    {"ldloc.1", 0x0007, 1, OPND(NONE), FLOW(NEXT), 0, 1, 0, 0},
    {"ldloc.2", 0x0008, 1, OPND(NONE), FLOW(NEXT), 0, 1, 0, 0},
    {"ldloc.3", 0x0009, 1, OPND(NONE), FLOW(NEXT), 0, 1, 0, 0},
    {"stloc.0", 0x000A, 1, OPND(NONE), FLOW(NEXT), 1, 0, 0, 0},
    {"stloc.1", 0x000B, 1, OPND(NONE), FLOW(NEXT), 1, 0, 0, 0},
    {"stloc.2", 0x000C, 1, OPND(NONE), FLOW(NEXT), 1, 0, 0, 0},
    {"stloc.3", 0x000D, 1, OPND(NONE), FLOW(NEXT), 1, 0, 0, 0},
    {"ldarg.s", 0x000E, 1, OPND(VAR8), FLOW(NEXT), 0, 1, 0, 0},
    {"ldarga.s", 0x000F, 1, OPND(VAR8), FLOW(NEXT), 0, 1, 0, 0},
    {"starg.s", 0x0010, 1, OPND(VAR8), FLOW(NEXT), 1, 0, 0, 0},
    {"ldloc.s", 0x0011, 1, OPND(VAR8), FLOW(NEXT), 0, 1, 0, 0},
    {"ldloca.s", 0x0012, 1, OPND(VAR8), FLOW(NEXT), 0, 1, 0, 0},
    {"stloc.s", 0x0013, 1, OPND(VAR8), FLOW(NEXT), 1, 0, 0, 0},
    {"ldnull", 0x0014, 1, OPND(NONE), FLOW(NEXT), 0, 1, 0, 0},
    {"ldc.i4.m1", 0x0015, 1, OPND(NONE), FLOW(NEXT), 0, 1, 0, 0},
    {"ldc.i4.0", 0x0016, 1, OPND(NONE), FLOW(NEXT), 0, 1, 0, 0},
    {"ldc.i4.1", 0x0017, 1, OPND(NONE), FLOW(NEXT), 0, 1, 0, 0},
    {"ldc.i4.2", 0x0018, 1, OPND(NONE), FLOW(NEXT), 0, 1, 0, 0},
    {"ldc.i4.3", 0x0019, 1, OPND(NONE), FLOW(NEXT), 0, 1, 0, 0},
    {"ldc.i4.4", 0x001A, 1, OPND(NONE), FLOW(NEXT), 0, 1, 0, 0},
    {"ldc.i4.5", 0x001B, 1, OPND(NONE), FLOW(NEXT), 0, 1, 0, 0},
    {"ldc.i4.6", 0x001C, 1, OPND(NONE), FLOW(NEXT), 0, 1, 0, 0},
    {"ldc.i4.7", 0x001D, 1, OPND(NONE), FLOW(NEXT), 0, 1, 0, 0},
    {"ldc.i4.8", 0x001E, 1, OPND(NONE), FLOW(NEXT), 0, 1, 0, 0},
    {"ldc.i4.s", 0x001F, 1, OPND(INT8), FLOW(NEXT), 0, 1, 0, 0},
    {"ldc.i4", 0x0020, 1, OPND(INT32), FLOW(NEXT), 0, 1, 0, 0},
    {"ldc.i8", 0x0021, 1, OPND(INT64), FLOW(NEXT), 0, 1, 0, 0},
    {"ldc.r4", 0x0022, 1, OPND(FLOAT32), FLOW(NEXT), 0, 1, 0, 0},
    {"ldc.r8", 0x0023, 1, OPND(FLOAT64), FLOW(NEXT), 0, 1, 0, 0},
    {"dup", 0x0025, 1, OPND(NONE), FLOW(NEXT), 1, 2, 0, 0},
    {"pop", 0x0026, 1, OPND(NONE), FLOW(NEXT), 1, 0, 0, 0},
    {"jmp", 0x0027, 1, OPND(TOKEN), FLOW(RETURN), 0, 0, 0, 0},
    {"call", 0x0028, 1, OPND(TOKEN), FLOW(CALL), VAR, VAR, 0, P(TAIL) | P(CONSTRAINED)},
    {"calli", 0x0029, 1, OPND(TOKEN), FLOW(CALL), VAR, VAR, 0, P(TAIL)},
    {"ret", 0x002A, 1, OPND(NONE), FLOW(RETURN), VAR, 0, 0, 0},
    {"br.s", 0x002B, 1, OPND(BRANCH8), FLOW(BRANCH), 0, 0, 0, 0},
    {"brfalse.s", 0x002C, 1, OPND(BRANCH8), FLOW(COND), 1, 0, 0, 0},
    {"brtrue.s", 0x002D, 1, OPND(BRANCH8), FLOW(COND), 1, 0, 0, 0},
    {"beq.s", 0x002E, 1, OPND(BRANCH8), FLOW(COND), 2, 0, 0, 0},
    {"bge.s", 0x002F, 1, OPND(BRANCH8), FLOW(COND), 2, 0, 0, 0},
    {"bgt.s", 0x0030, 1, OPND(BRANCH8), FLOW(COND), 2, 0, 0, 0},
    {"ble.s", 0x0031, 1, OPND(BRANCH8), FLOW(COND), 2, 0, 0, 0},
    {"blt.s", 0x0032, 1, OPND(BRANCH8), FLOW(COND), 2, 0, 0, 0},
    {"bne.un.s", 0x0033, 1, OPND(BRANCH8), FLOW(COND), 2, 0, 0, 0},
    {"bge.un.s", 0x0034, 1, OPND(BRANCH8), FLOW(COND), 2, 0, 0, 0},
    {"bgt.un.s", 0x0035, 1, OPND(BRANCH8), FLOW(COND), 2, 0, 0, 0},
    {"ble.un.s", 0x0036, 1, OPND(BRANCH8), FLOW(COND), 2, 0, 0, 0},
    {"blt.un.s", 0x0037, 1, OPND(BRANCH8), FLOW(COND), 2, 0, 0, 0},
    {"br", 0x0038, 1, OPND(BRANCH32), FLOW(BRANCH), 0, 0, 0, 0},
    {"brfalse", 0x0039, 1, OPND(BRANCH32), FLOW(COND), 1, 0, 0, 0},
    {"brtrue", 0x003A, 1, OPND(BRANCH32), FLOW(COND), 1, 0, 0, 0},
    {"beq", 0x003B, 1, OPND(BRANCH32), FLOW(COND), 2, 0, 0, 0},
    {"bge", 0x003C, 1, OPND(BRANCH32), FLOW(COND), 2, 0, 0, 0},
    {"bgt", 0x003D, 1, OPND(BRANCH32), FLOW(COND), 2, 0, 0, 0},
    {"ble", 0x003E, 1, OPND(BRANCH32), FLOW(COND), 2, 0, 0, 0},
    {"blt", 0x003F, 1, OPND(BRANCH32), FLOW(COND), 2, 0, 0, 0},
    {"bne.un", 0x0040, 1, OPND(BRANCH32), FLOW(COND), 2, 0, 0, 0},
    {"bge.un", 0x0041, 1, OPND(BRANCH32), FLOW(COND), 2, 0, 0, 0},
    {"bgt.un", 0x0042, 1, OPND(BRANCH32), FLOW(COND), 2, 0, 0, 0},
    {"ble.un", 0x0043, 1, OPND(BRANCH32), FLOW(COND), 2, 0, 0, 0},
    {"blt.un", 0x0044, 1, OPND(BRANCH32), FLOW(COND), 2, 0, 0, 0},
    {"switch", 0x0045, 1, OPND(SWITCH), FLOW(COND), 1, 0, 0, 0},
    {"ldind.i1", 0x0046, 1, OPND(NONE), FLOW(NEXT), 1, 1, 0, P(UNALIGNED) | P(VOLATILE)},
    {"ldind.u1", 0x0047, 1, OPND(NONE), FLOW(NEXT), 1, 1, 0, P(UNALIGNED) | P(VOLATILE)},
    {"ldind.i2", 0x0048, 1, OPND(NONE), FLOW(NEXT), 1, 1, 0, P(UNALIGNED) | P(VOLATILE)},
    {"ldind.u2", 0x0049, 1, OPND(NONE), FLOW(NEXT), 1, 1, 0, P(UNALIGNED) | P(VOLATILE)},
    {"ldind.i4", 0x004A, 1, OPND(NONE), FLOW(NEXT), 1, 1, 0, P(UNALIGNED) | P(VOLATILE)},
    {"ldind.u4", 0x004B, 1, OPND(NONE), FLOW(NEXT), 1, 1, 0, P(UNALIGNED) | P(VOLATILE)},
    {"ldind.i8", 0x004C, 1, OPND(NONE), FLOW(NEXT), 1, 1, 0, P(UNALIGNED) | P(VOLATILE)},
    {"ldind.i", 0x004D, 1, OPND(NONE), FLOW(NEXT), 1, 1, 0, P(UNALIGNED) | P(VOLATILE)},
    {"ldind.r4", 0x004E, 1, OPND(NONE), FLOW(NEXT), 1, 1, 0, P(UNALIGNED) | P(VOLATILE)},
    {"ldind.r8", 0x004F, 1, OPND(NONE), FLOW(NEXT), 1, 1, 0, P(UNALIGNED) | P(VOLATILE)},
    {"ldind.ref", 0x0050, 1, OPND(NONE), FLOW(NEXT), 1, 1, 0, P(UNALIGNED) | P(VOLATILE)},
    {"stind.ref", 0x0051, 1, OPND(NONE), FLOW(NEXT), 2, 0, 0, P(UNALIGNED) | P(VOLATILE)},
    {"stind.i1", 0x0052, 1, OPND(NONE), FLOW(NEXT), 2, 0, 0, P(UNALIGNED) | P(VOLATILE)},
    {"stind.i2", 0x0053, 1, OPND(NONE), FLOW(NEXT), 2, 0, 0, P(UNALIGNED) | P(VOLATILE)},
    {"stind.i4", 0x0054, 1, OPND(NONE), FLOW(NEXT), 2, 0, 0, P(UNALIGNED) | P(VOLATILE)},
    {"stind.i8", 0x0055, 1, OPND(NONE), FLOW(NEXT), 2, 0, 0, P(UNALIGNED) | P(VOLATILE)},
    {"stind.r4", 0x0056, 1, OPND(NONE), FLOW(NEXT), 2, 0, 0, P(UNALIGNED) | P(VOLATILE)},
    {"stind.r8", 0x0057, 1, OPND(NONE), FLOW(NEXT), 2, 0, 0, P(UNALIGNED) | P(VOLATILE)},
    {"add", 0x0058, 1, OPND(NONE), FLOW(NEXT), 2, 1, 0, 0},
    {"sub", 0x0059, 1, OPND(NONE), FLOW(NEXT), 2, 1, 0, 0},
    {"mul", 0x005A, 1, OPND(NONE), FLOW(NEXT), 2, 1, 0, 0},
    {"div", 0x005B, 1, OPND(NONE), FLOW(NEXT), 2, 1, 0, 0},
    {"div.un", 0x005C, 1, OPND(NONE), FLOW(NEXT), 2, 1, 0, 0},
    {"rem", 0x005D, 1, OPND(NONE), FLOW(NEXT), 2, 1, 0, 0},
    {"rem.un", 0x005E, 1, OPND(NONE), FLOW(NEXT), 2, 1, 0, 0},
    {"and", 0x005F, 1, OPND(NONE), FLOW(NEXT), 2, 1, 0, 0},
    {"or", 0x0060, 1, OPND(NONE), FLOW(NEXT), 2, 1, 0, 0},
    {"xor", 0x0061, 1, OPND(NONE), FLOW(NEXT), 2, 1, 0, 0},
    {"shl", 0x0062, 1, OPND(NONE), FLOW(NEXT), 2, 1, 0, 0},
    {"shr", 0x0063, 1, OPND(NONE), FLOW(NEXT), 2, 1, 0, 0},
    {"shr.un", 0x0064, 1, OPND(NONE), FLOW(NEXT), 2, 1, 0, 0},
    {"neg", 0x0065, 1, OPND(NONE), FLOW(NEXT), 1, 1, 0, 0},
    {"not", 0x0066, 1, OPND(NONE), FLOW(NEXT), 1, 1, 0, 0},
    {"conv.i1", 0x0067, 1, OPND(NONE), FLOW(NEXT), 1, 1, 0, 0},
    {"conv.i2", 0x0068, 1, OPND(NONE), FLOW(NEXT), 1, 1, 0, 0},
    {"conv.i4", 0x0069, 1, OPND(NONE), FLOW(NEXT), 1, 1, 0, 0},
    {"conv.i8", 0x006A, 1, OPND(NONE), FLOW(NEXT), 1, 1, 0, 0},
    {"conv.r4", 0x006B, 1, OPND(NONE), FLOW(NEXT), 1, 1, 0, 0},
    {"conv.r8", 0x006C, 1, OPND(NONE), FLOW(NEXT), 1, 1, 0, 0},
    {"conv.u4", 0x006D, 1, OPND(NONE), FLOW(NEXT), 1, 1, 0, 0},
    {"conv.u8", 0x006E, 1, OPND(NONE), FLOW(NEXT), 1, 1, 0, 0},
    {"callvirt", 0x006F, 1, OPND(TOKEN), FLOW(CALL), VAR, VAR, 0, P(TAIL) | P(CONSTRAINED) | P(NO)},
    {"cpobj", 0x0070, 1, OPND(TOKEN), FLOW(NEXT), 2, 0, 0, P(UNALIGNED) | P(VOLATILE)},
    {"ldobj", 0x0071, 1, OPND(TOKEN), FLOW(NEXT), 1, 1, 0, P(UNALIGNED) | P(VOLATILE)},
    {"ldstr", 0x0072, 1, OPND(TOKEN), FLOW(NEXT), 0, 1, 0, 0},
    {"newobj", 0x0073, 1, OPND(TOKEN), FLOW(CALL), VAR, 1, 0, 0},
    {"castclass", 0x0074, 1, OPND(TOKEN), FLOW(NEXT), 1, 1, 0, P(NO)},
    {"isinst", 0x0075, 1, OPND(TOKEN), FLOW(NEXT), 1, 1, 0, 0},
    {"conv.r.un", 0x0076, 1, OPND(NONE), FLOW(NEXT), 1, 1, 0, 0},
    {"unbox", 0x0079, 1, OPND(TOKEN), FLOW(NEXT), 1, 1, 0, P(NO)},
    {"throw", 0x007A, 1, OPND(NONE), FLOW(THROW), 1, 0, 0, 0},
    {"ldfld", 0x007B, 1, OPND(TOKEN), FLOW(NEXT), 1, 1, 0, P(UNALIGNED) | P(VOLATILE) | P(NO)},
    {"ldflda", 0x007C, 1, OPND(TOKEN), FLOW(NEXT), 1, 1, 0, P(NO)},
    {"stfld", 0x007D, 1, OPND(TOKEN), FLOW(NEXT), 2, 0, 0, P(UNALIGNED) | P(VOLATILE) | P(NO)},
    {"ldsfld", 0x007E, 1, OPND(TOKEN), FLOW(NEXT), 0, 1, 0, P(VOLATILE)},
    {"ldsflda", 0x007F, 1, OPND(TOKEN), FLOW(NEXT), 0, 1, 0, 0},
    {"stsfld", 0x0080, 1, OPND(TOKEN), FLOW(NEXT), 1, 0, 0, P(VOLATILE)},
    {"stobj", 0x0081, 1, OPND(TOKEN), FLOW(NEXT), 2, 0, 0, P(UNALIGNED) | P(VOLATILE)},
    {"conv.ovf.i1.un", 0x0082, 1, OPND(NONE), FLOW(NEXT), 1, 1, 0, 0},
    {"conv.ovf.i2.un", 0x0083, 1, OPND(NONE), FLOW(NEXT), 1, 1, 0, 0},
    {"conv.ovf.i4.un", 0x0084, 1, OPND(NONE), FLOW(NEXT), 1, 1, 0, 0},
    {"conv.ovf.i8.un", 0x0085, 1, OPND(NONE), FLOW(NEXT), 1, 1, 0, 0},
    {"conv.ovf.u1.un", 0x0086, 1, OPND(NONE), FLOW(NEXT), 1, 1, 0, 0},
    {"conv.ovf.u2.un", 0x0087, 1, OPND(NONE), FLOW(NEXT), 1, 1, 0, 0},
    {"conv.ovf.u4.un", 0x0088, 1, OPND(NONE), FLOW(NEXT), 1, 1, 0, 0},
    {"conv.ovf.u8.un", 0x0089, 1, OPND(NONE), FLOW(NEXT), 1, 1, 0, 0},
    {"conv.ovf.i.un", 0x008A, 1, OPND(NONE), FLOW(NEXT), 1, 1, 0, 0},
    {"conv.ovf.u.un", 0x008B, 1, OPND(NONE), FLOW(NEXT), 1, 1, 0, 0},
    {"box", 0x008C, 1, OPND(TOKEN), FLOW(NEXT), 1, 1, 0, 0},
    {"newarr", 0x008D, 1, OPND(TOKEN), FLOW(NEXT), 1, 1, 0, 0},
    {"ldlen", 0x008E, 1, OPND(NONE), FLOW(NEXT), 1, 1, 0, P(NO)},
    {"ldelema", 0x008F, 1, OPND(TOKEN), FLOW(NEXT), 2, 1, 0, P(READONLY) | P(NO)},
    {"ldelem.i1", 0x0090, 1, OPND(NONE), FLOW(NEXT), 2, 1, 0, P(NO)},
    {"ldelem.u1", 0x0091, 1, OPND(NONE), FLOW(NEXT), 2, 1, 0, P(NO)},
    {"ldelem.i2", 0x0092, 1, OPND(NONE), FLOW(NEXT), 2, 1, 0, P(NO)},
    {"ldelem.u2", 0x0093, 1, OPND(NONE), FLOW(NEXT), 2, 1, 0, P(NO)},
    {"ldelem.i4", 0x0094, 1, OPND(NONE), FLOW(NEXT), 2, 1, 0, P(NO)},
    {"ldelem.u4", 0x0095, 1, OPND(NONE), FLOW(NEXT), 2, 1, 0, P(NO)},
    {"ldelem.i8", 0x0096, 1, OPND(NONE), FLOW(NEXT), 2, 1, 0, P(NO)},
    {"ldelem.i", 0x0097, 1, OPND(NONE), FLOW(NEXT), 2, 1, 0, P(NO)},
    {"ldelem.r4", 0x0098, 1, OPND(NONE), FLOW(NEXT), 2, 1, 0, P(NO)},
    {"ldelem.r8", 0x0099, 1, OPND(NONE), FLOW(NEXT), 2, 1, 0, P(NO)},
    {"ldelem.ref", 0x009A, 1, OPND(NONE), FLOW(NEXT), 2, 1, 0, P(NO)},
    {"stelem.i", 0x009B, 1, OPND(NONE), FLOW(NEXT), 3, 0, 0, P(NO)},
    {"stelem.i1", 0x009C, 1, OPND(NONE), FLOW(NEXT), 3, 0, 0, P(NO)},
    {"stelem.i2", 0x009D, 1, OPND(NONE), FLOW(NEXT), 3, 0, 0, P(NO)},
    {"stelem.i4", 0x009E, 1, OPND(NONE), FLOW(NEXT), 3, 0, 0, P(NO)},
    {"stelem.i8", 0x009F, 1, OPND(NONE), FLOW(NEXT), 3, 0, 0, P(NO)},
    {"stelem.r4", 0x00A0, 1, OPND(NONE), FLOW(NEXT), 3, 0, 0, P(NO)},
    {"stelem.r8", 0x00A1, 1, OPND(NONE), FLOW(NEXT), 3, 0, 0, P(NO)},
    {"stelem.ref", 0x00A2, 1, OPND(NONE), FLOW(NEXT), 3, 0, 0, P(NO)},
    {"ldelem", 0x00A3, 1, OPND(TOKEN), FLOW(NEXT), 2, 1, 0, P(NO)},
    {"stelem", 0x00A4, 1, OPND(TOKEN), FLOW(NEXT), 3, 0, 0, P(NO)},
    {"unbox.any", 0x00A5, 1, OPND(TOKEN), FLOW(NEXT), 1, 1, 0, P(NO)},
    {"conv.ovf.i1", 0x00B3, 1, OPND(NONE), FLOW(NEXT), 1, 1, 0, 0},
    {"conv.ovf.u1", 0x00B4, 1, OPND(NONE), FLOW(NEXT), 1, 1, 0, 0},
    {"conv.ovf.i2", 0x00B5, 1, OPND(NONE), FLOW(NEXT), 1, 1, 0, 0},
    {"conv.ovf.u2", 0x00B6, 1, OPND(NONE), FLOW(NEXT), 1, 1, 0, 0},
    {"conv.ovf.i4", 0x00B7, 1, OPND(NONE), FLOW(NEXT), 1, 1, 0, 0},
    {"conv.ovf.u4", 0x00B8, 1, OPND(NONE), FLOW(NEXT), 1, 1, 0, 0},
    {"conv.ovf.i8", 0x00B9, 1, OPND(NONE), FLOW(NEXT), 1, 1, 0, 0},
    {"conv.ovf.u8", 0x00BA, 1, OPND(NONE), FLOW(NEXT), 1, 1, 0, 0},
    {"refanyval", 0x00C2, 1, OPND(TOKEN), FLOW(NEXT), 1, 1, 0, 0},
    {"ckfinite", 0x00C3, 1, OPND(NONE), FLOW(NEXT), 1, 1, 0, 0},
    {"mkrefany", 0x00C6, 1, OPND(TOKEN), FLOW(NEXT), 1, 1, 0, 0},
    {"ldtoken", 0x00D0, 1, OPND(TOKEN), FLOW(NEXT), 0, 1, 0, 0},
    {"conv.u2", 0x00D1, 1, OPND(NONE), FLOW(NEXT), 1, 1, 0, 0},
    {"conv.u1", 0x00D2, 1, OPND(NONE), FLOW(NEXT), 1, 1, 0, 0},
    {"conv.i", 0x00D3, 1, OPND(NONE), FLOW(NEXT), 1, 1, 0, 0},
    {"conv.ovf.i", 0x00D4, 1, OPND(NONE), FLOW(NEXT), 1, 1, 0, 0},
    {"conv.ovf.u", 0x00D5, 1, OPND(NONE), FLOW(NEXT), 1, 1, 0, 0},
    {"add.ovf", 0x00D6, 1, OPND(NONE), FLOW(NEXT), 2, 1, 0, 0},
    {"add.ovf.un", 0x00D7, 1, OPND(NONE), FLOW(NEXT), 2, 1, 0, 0},
    {"mul.ovf", 0x00D8, 1, OPND(NONE), FLOW(NEXT), 2, 1, 0, 0},
    {"mul.ovf.un", 0x00D9, 1, OPND(NONE), FLOW(NEXT), 2, 1, 0, 0},
    {"sub.ovf", 0x00DA, 1, OPND(NONE), FLOW(NEXT), 2, 1, 0, 0},
    {"sub.ovf.un", 0x00DB, 1, OPND(NONE), FLOW(NEXT), 2, 1, 0, 0},
    {"endfinally", 0x00DC, 1, OPND(NONE), FLOW(END_BLOCK), 0, 0, 0, 0},
    {"leave", 0x00DD, 1, OPND(BRANCH32), FLOW(BRANCH), 0, 0, 0, 0},
    {"leave.s", 0x00DE, 1, OPND(BRANCH8), FLOW(BRANCH), 0, 0, 0, 0},
    {"stind.i", 0x00DF, 1, OPND(NONE), FLOW(NEXT), 2, 0, 0, P(UNALIGNED) | P(VOLATILE)},
    {"conv.u", 0x00E0, 1, OPND(NONE), FLOW(NEXT), 1, 1, 0, 0},
    {"arglist", 0xFE00, 2, OPND(NONE), FLOW(NEXT), 0, 1, 0, 0},
    {"ceq", 0xFE01, 2, OPND(NONE), FLOW(NEXT), 2, 1, 0, 0},
    {"cgt", 0xFE02, 2, OPND(NONE), FLOW(NEXT), 2, 1, 0, 0},
    {"cgt.un", 0xFE03, 2, OPND(NONE), FLOW(NEXT), 2, 1, 0, 0},
    {"clt", 0xFE04, 2, OPND(NONE), FLOW(NEXT), 2, 1, 0, 0},
    {"clt.un", 0xFE05, 2, OPND(NONE), FLOW(NEXT), 2, 1, 0, 0},
    {"ldftn", 0xFE06, 2, OPND(TOKEN), FLOW(NEXT), 0, 1, 0, P(CONSTRAINED)},
    {"ldvirtftn", 0xFE07, 2, OPND(TOKEN), FLOW(NEXT), 1, 1, 0, P(NO)},
    {"ldarg", 0xFE09, 2, OPND(VAR16), FLOW(NEXT), 0, 1, 0, 0},
    {"ldarga", 0xFE0A, 2, OPND(VAR16), FLOW(NEXT), 0, 1, 0, 0},
    {"starg", 0xFE0B, 2, OPND(VAR16), FLOW(NEXT), 1, 0, 0, 0},
    {"ldloc", 0xFE0C, 2, OPND(VAR16), FLOW(NEXT), 0, 1, 0, 0},
    {"ldloca", 0xFE0D, 2, OPND(VAR16), FLOW(NEXT), 0, 1, 0, 0},
    {"stloc", 0xFE0E, 2, OPND(VAR16), FLOW(NEXT), 1, 0, 0, 0},
    {"localloc", 0xFE0F, 2, OPND(NONE), FLOW(NEXT), 1, 1, 0, 0},
    {"endfilter", 0xFE11, 2, OPND(NONE), FLOW(END_BLOCK), 1, 0, 0, 0},
    {"unaligned.", 0xFE12, 2, OPND(UINT8), FLOW(PREFIX), 0, 0, P(UNALIGNED), 0},
    {"volatile.", 0xFE13, 2, OPND(NONE), FLOW(PREFIX), 0, 0, P(VOLATILE), 0},
    {"tail.", 0xFE14, 2, OPND(NONE), FLOW(PREFIX), 0, 0, P(TAIL), 0},
    {"initobj", 0xFE15, 2, OPND(TOKEN), FLOW(NEXT), 1, 0, 0, 0},
    {"constrained.", 0xFE16, 2, OPND(TOKEN), FLOW(PREFIX), 0, 0, P(CONSTRAINED), 0},
    {"cpblk", 0xFE17, 2, OPND(NONE), FLOW(NEXT), 3, 0, 0, P(UNALIGNED) | P(VOLATILE)},
    {"initblk", 0xFE18, 2, OPND(NONE), FLOW(NEXT), 3, 0, 0, P(UNALIGNED) | P(VOLATILE)},
    {"no.", 0xFE19, 2, OPND(UINT8), FLOW(PREFIX), 0, 0, P(NO), 0},
    {"rethrow", 0xFE1A, 2, OPND(NONE), FLOW(THROW), 0, 0, 0, 0},
    {"sizeof", 0xFE1C, 2, OPND(TOKEN), FLOW(NEXT), 0, 1, 0, 0},
    {"refanytype", 0xFE1D, 2, OPND(NONE), FLOW(NEXT), 1, 1, 0, 0},
    {"readonly.", 0xFE1E, 2, OPND(NONE), FLOW(PREFIX), 0, 0, P(READONLY), 0},
};

#define TABLE_SIZE (sizeof table / sizeof table[0])

/* Row index + 1 of each one-byte opcode, and of each 0xFE-prefixed opcode by
 * its second byte (0: not an opcode); checked against the rows by the tests. */
static const uint8_t one_byte[256] = {
    1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
    17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32,
    33, 34, 35, 36, 0, 37, 38, 39, 40, 41, 42, 43, 44, 45, 46, 47,
    48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59, 60, 61, 62, 63,
    64, 65, 66, 67, 68, 69, 70, 71, 72, 73, 74, 75, 76, 77, 78, 79,
    80, 81, 82, 83, 84, 85, 86, 87, 88, 89, 90, 91, 92, 93, 94, 95,
    96, 97, 98, 99, 100, 101, 102, 103, 104, 105, 106, 107, 108, 109, 110, 111,
    112, 113, 114, 115, 116, 117, 118, 0, 0, 119, 120, 121, 122, 123, 124, 125,
    126, 127, 128, 129, 130, 131, 132, 133, 134, 135, 136, 137, 138, 139, 140, 141,
    142, 143, 144, 145, 146, 147, 148, 149, 150, 151, 152, 153, 154, 155, 156, 157,
    158, 159, 160, 161, 162, 163, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 164, 165, 166, 167, 168, 169, 170, 171, 0, 0, 0, 0, 0,
    0, 0, 172, 173, 0, 0, 174, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    175, 176, 177, 178, 179, 180, 181, 182, 183, 184, 185, 186, 187, 188, 189, 190,
    191, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
};
static const uint8_t two_byte[32] = {
    192, 193, 194, 195, 196, 197, 198, 199, 0, 200, 201, 202, 203, 204, 205, 206,
    0, 207, 208, 209, 210, 211, 212, 213, 214, 215, 216, 0, 217, 218, 219, 0,
};

const ilheap_il_opinfo_t *ilheap_il_opinfo(uint16_t opcode)
{
    unsigned row = opcode < 0x100 ? one_byte[opcode]
                   : (opcode & 0xFF00u) == 0xFE00u && (opcode & 0xFFu) < 32 ? two_byte[opcode & 0xFFu]
                                                                           : 0;
    return row ? &table[row - 1] : NULL;
}

int ilheap_il_opcode_by_name(const char *name)
{
    if (name == NULL)
        return -1;
    for (size_t i = 0; i < TABLE_SIZE; i++)
        if (strcmp(table[i].name, name) == 0)
            return table[i].opcode;
    return -1;
}

size_t ilheap_il_operand_size(ilheap_il_operand_t kind)
{
    switch (kind) {
    case ILHEAP_OPND_INT8:
    case ILHEAP_OPND_BRANCH8:
    case ILHEAP_OPND_VAR8:
    case ILHEAP_OPND_UINT8:
        return 1;
    case ILHEAP_OPND_VAR16:
        return 2;
    case ILHEAP_OPND_INT32:
    case ILHEAP_OPND_FLOAT32:
    case ILHEAP_OPND_TOKEN:
    case ILHEAP_OPND_BRANCH32:
    case ILHEAP_OPND_SWITCH:
        return 4;
    case ILHEAP_OPND_INT64:
    case ILHEAP_OPND_FLOAT64:
        return 8;
    case ILHEAP_OPND_NONE:
        break;
    }
    return 0;
}
