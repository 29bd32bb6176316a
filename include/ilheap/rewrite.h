/* ilheap instruction-level IL rewriter: decode a method body (from il.h's
 * codec) into instructions, insert, replace or remove instructions anywhere,
 * and encode it again with branches, switch tables, EH clauses, header and
 * max stack fixed up. See docs/il-rewriter.md.
 *
 * THE MODEL. A rewriter (ilheap_rw_t) holds one body as a sequence of
 * instructions. Each instruction has a stable id (ilheap_rw_id_t) that never
 * changes while the body is loaded, whatever is inserted or removed around
 * it. Branch targets, switch targets and the try, handler and filter starts
 * and ends of every EH clause are references to ids, not offsets; an end that
 * is the end of the code is ILHEAP_RW_END. Prefixes (tail., volatile., ...)
 * are instructions of their own, and nothing may be inserted between a prefix
 * and the instruction it prefixes, nor between `tail.` + call and its `ret`.
 *
 * THE TWO INSERTION RULES (ilheap_rw_where_t):
 *  - ILHEAP_RW_BLOCK_START: the new code goes in front of the instruction and
 *    every branch, switch target and EH boundary (try/handler/filter start or
 *    end) that led to the instruction now leads to the new code, so the new
 *    code runs on every path into the instruction (a handler still starts
 *    with the new code; a try that ended before the instruction still ends
 *    before the new code).
 *  - ILHEAP_RW_BEFORE: the new code goes in front of the instruction and every
 *    reference keeps leading to the instruction: the new code runs only when
 *    control falls through from the previous instruction.
 *  - ILHEAP_RW_AFTER: the same as ILHEAP_RW_BEFORE the next instruction (at
 *    the end of the code when there is none).
 *
 * ENCODING. Offsets are assigned; a short branch whose displacement no longer
 * fits 8 bits becomes its long form, repeated until nothing changes; no form
 * is changed otherwise, so an unedited body encodes byte for byte as it was
 * read. Header and EH sections are written by il.h's codec in
 * ILHEAP_IL_PRESERVE mode (tiny grows to fat, a small EH section grows to
 * fat, only when needed; clause order is kept).
 *
 * MAX STACK. Without a stack callback, the new max stack is a safe bound: the
 * old max plus the largest peak (relative to its entry depth) of any inserted
 * run. That is valid only when every inserted run is stack neutral: it never
 * pops below its entry depth, ends at its entry depth, and has no branch or
 * switch (inserted runs are checked: ILHEAP_IL_STACK_NOT_NEUTRAL otherwise),
 * and when no instruction was replaced or removed (then the callback is
 * required: ILHEAP_IL_STACK_UNKNOWN). With a callback
 * (ilheap_rw_set_stack_fn), the max stack is computed exactly by simulating
 * the depth along every path. Either way a result past 65535 is
 * ILHEAP_IL_OVERFLOW, never wrapped.
 *
 * WRAPPERS. Exception clauses can be added (ilheap_rw_add_clause,
 * ilheap_rw_wrap: every ECMA-335 II.19 rule checked, what would break one
 * refused with nothing changed), a method given one exit
 * (ilheap_rw_single_exit), a constructor's own code found after its base
 * call (ilheap_rw_ctor_body_start), arguments and the return value loaded
 * from the decoded signature (ilheap_rw_load_arg, _load_return), and the
 * old-to-new offset map read after encoding (ilheap_rw_il_map). Clauses are
 * never removed. docs/il-rewriter.md has a whole method wrapper.
 *
 * MEMORY. A rewriter keeps its storage (flat arrays, grown by doubling) from
 * one body to the next: load, edit and encode many bodies with one rewriter
 * and the steady state does not call malloc. A rewriter is not thread-safe;
 * use one per thread. The core library's only allocations are in
 * ilheap_rw_create, when a body needs more room than the last, and in
 * ilheap_rw_locals_append.
 *
 * Typical use (insert a counter probe before every ret):
 *
 *     ilheap_rw_t *rw;  ilheap_rw_create(&rw);
 *     size_t bad;
 *     st = ilheap_rw_load(rw, &body, &bad);          // body from ilheap_il_decode
 *     ilheap_rw_insn_t probe[ILHEAP_RW_PROBE_MAX];
 *     size_t n = ilheap_rw_counter_probe(counter_address, 1, probe);
 *     for (ilheap_rw_id_t i = ilheap_rw_first(rw); i != ILHEAP_RW_END; i = ilheap_rw_next(rw, i))
 *         if (ilheap_rw_opcode(rw, i) == ILHEAP_OP_RET)
 *             st = ilheap_rw_insert(rw, i, ILHEAP_RW_BLOCK_START, probe, n, NULL);
 *     st = ilheap_rw_encode_to_heap(rw, heap, &out, &size);
 *     ilheap_rw_destroy(rw);
 */
#ifndef ILHEAP_REWRITE_H
#define ILHEAP_REWRITE_H

#include <stddef.h>
#include <stdint.h>

#include "ilheap/export.h"
#include "ilheap/il.h"
#include "ilheap/sig.h"
#include "ilheap/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------------------
 * The opcode table (ECMA-335 Partition III).
 *
 * An opcode is a uint16_t: a one-byte opcode is its byte (0x00-0xE0), a
 * two-byte opcode is 0xFE00 | its second byte (0xFE00-0xFE1E).
 * ------------------------------------------------------------------------- */

/* Operand kinds (the bytes after the opcode). */
typedef enum ilheap_il_operand {
    ILHEAP_OPND_NONE = 0,     /* 0 bytes */
    ILHEAP_OPND_INT8,         /* 1 byte, signed (ldc.i4.s) */
    ILHEAP_OPND_INT32,        /* 4 bytes (ldc.i4) */
    ILHEAP_OPND_INT64,        /* 8 bytes (ldc.i8) */
    ILHEAP_OPND_FLOAT32,      /* 4 bytes (ldc.r4) */
    ILHEAP_OPND_FLOAT64,      /* 8 bytes (ldc.r8) */
    ILHEAP_OPND_TOKEN,        /* 4-byte metadata token (call, ldstr, ... and calli's sig) */
    ILHEAP_OPND_BRANCH8,      /* 1-byte signed displacement from the next instruction */
    ILHEAP_OPND_BRANCH32,     /* 4-byte signed displacement from the next instruction */
    ILHEAP_OPND_SWITCH,       /* u32 n, then n 4-byte displacements from the instruction's end */
    ILHEAP_OPND_VAR8,         /* 1-byte unsigned argument or local index (ldarg.s, ...) */
    ILHEAP_OPND_VAR16,        /* 2-byte unsigned argument or local index (ldarg, ...) */
    ILHEAP_OPND_UINT8,        /* 1-byte unsigned value: unaligned. alignment, no. flags */
} ilheap_il_operand_t;

/* What an instruction does to control flow. */
typedef enum ilheap_il_flow {
    ILHEAP_FLOW_NEXT = 0,  /* falls through to the next instruction */
    ILHEAP_FLOW_BRANCH,    /* unconditional branch: br, br.s, leave, leave.s */
    ILHEAP_FLOW_COND,      /* conditional branch (falls through or jumps); switch */
    ILHEAP_FLOW_CALL,      /* call, callvirt, calli, newobj (falls through) */
    ILHEAP_FLOW_RETURN,    /* ret, jmp */
    ILHEAP_FLOW_THROW,     /* throw, rethrow */
    ILHEAP_FLOW_END_BLOCK, /* endfinally, endfilter: leave the handler */
    ILHEAP_FLOW_PREFIX,    /* a prefix: belongs to the next instruction */
    ILHEAP_FLOW_BREAK,     /* break: falls through after the debugger */
} ilheap_il_flow_t;

/* pops / pushes value meaning "depends on the token" (call, callvirt, newobj,
 * calli) or "depends on the method" (ret: the return value, if any). */
#define ILHEAP_STACK_VARIES 0xFFu

/* Prefix bits: the prefix opcodes, and in ilheap_il_opinfo_t.prefixable the
 * prefixes an instruction accepts (III.2). */
enum {
    ILHEAP_PREFIX_UNALIGNED = 1u << 0,   /* unaligned. (0xFE12) */
    ILHEAP_PREFIX_VOLATILE = 1u << 1,    /* volatile.  (0xFE13) */
    ILHEAP_PREFIX_TAIL = 1u << 2,        /* tail.      (0xFE14) */
    ILHEAP_PREFIX_CONSTRAINED = 1u << 3, /* constrained. (0xFE16) */
    ILHEAP_PREFIX_NO = 1u << 4,          /* no.        (0xFE19) */
    ILHEAP_PREFIX_READONLY = 1u << 5,    /* readonly.  (0xFE1E) */
};

/* One row of the opcode table. */
typedef struct ilheap_il_opinfo {
    const char *name;   /* "ldarg.0", "call", "tail." (ECMA-335 spelling) */
    uint16_t opcode;
    uint8_t size;       /* 1 or 2: bytes of the opcode itself */
    uint8_t operand;    /* ilheap_il_operand_t */
    uint8_t flow;       /* ilheap_il_flow_t */
    uint8_t pops;       /* stack items taken; ILHEAP_STACK_VARIES */
    uint8_t pushes;     /* stack items left; ILHEAP_STACK_VARIES */
    uint8_t prefix;     /* this opcode is a prefix: its ILHEAP_PREFIX_* bit; else 0 */
    uint8_t prefixable; /* ILHEAP_PREFIX_* bits of the prefixes this instruction accepts */
} ilheap_il_opinfo_t;

/* The table row of an opcode, or NULL for an opcode ECMA-335 does not define
 * (including 0xFE-prefixed values past 0xFE1E and the reserved holes). */
ILHEAP_API const ilheap_il_opinfo_t *ilheap_il_opinfo(uint16_t opcode);

/* The opcode named name ("ldc.i4.s"), or -1 if no opcode has that name. */
ILHEAP_API int ilheap_il_opcode_by_name(const char *name);

/* Bytes of an operand kind (switch: the 4-byte count only; add 4 per target). */
ILHEAP_API size_t ilheap_il_operand_size(ilheap_il_operand_t kind);

/* A few opcodes by name, for callers building sequences. */
enum {
    ILHEAP_OP_NOP = 0x00,
    ILHEAP_OP_LDARG_0 = 0x02,
    ILHEAP_OP_LDLOC_0 = 0x06,
    ILHEAP_OP_STLOC_0 = 0x0A,
    ILHEAP_OP_LDARG_S = 0x0E,
    ILHEAP_OP_LDLOC_S = 0x11,
    ILHEAP_OP_STLOC_S = 0x13,
    ILHEAP_OP_LDNULL = 0x14,
    ILHEAP_OP_LDC_I4_0 = 0x16,
    ILHEAP_OP_LDC_I4_1 = 0x17,
    ILHEAP_OP_LDC_I4_S = 0x1F,
    ILHEAP_OP_LDC_I4 = 0x20,
    ILHEAP_OP_LDC_I8 = 0x21,
    ILHEAP_OP_DUP = 0x25,
    ILHEAP_OP_POP = 0x26,
    ILHEAP_OP_JMP = 0x27,
    ILHEAP_OP_CALL = 0x28,
    ILHEAP_OP_CALLI = 0x29,
    ILHEAP_OP_RET = 0x2A,
    ILHEAP_OP_BR_S = 0x2B,
    ILHEAP_OP_BRTRUE_S = 0x2D,
    ILHEAP_OP_BR = 0x38,
    ILHEAP_OP_BRTRUE = 0x3A,
    ILHEAP_OP_SWITCH = 0x45,
    ILHEAP_OP_LDIND_I4 = 0x4A,
    ILHEAP_OP_LDIND_REF = 0x50,
    ILHEAP_OP_LDIND_I8 = 0x4C,
    ILHEAP_OP_STIND_I1 = 0x52,
    ILHEAP_OP_STIND_I4 = 0x54,
    ILHEAP_OP_STIND_I8 = 0x55,
    ILHEAP_OP_ADD = 0x58,
    ILHEAP_OP_CONV_I8 = 0x6A,
    ILHEAP_OP_CALLVIRT = 0x6F,
    ILHEAP_OP_LDOBJ = 0x71,
    ILHEAP_OP_NEWOBJ = 0x73,
    ILHEAP_OP_THROW = 0x7A,
    ILHEAP_OP_BOX = 0x8C,
    ILHEAP_OP_CONV_U = 0xE0,
    ILHEAP_OP_ENDFINALLY = 0xDC,
    ILHEAP_OP_LEAVE = 0xDD,
    ILHEAP_OP_LEAVE_S = 0xDE,
    ILHEAP_OP_LDARG = 0xFE09,
    ILHEAP_OP_LDARGA = 0xFE0A,
    ILHEAP_OP_LDLOC = 0xFE0C,
    ILHEAP_OP_LDLOCA = 0xFE0D,
    ILHEAP_OP_STLOC = 0xFE0E,
    ILHEAP_OP_LOCALLOC = 0xFE0F,
    ILHEAP_OP_ENDFILTER = 0xFE11,
    ILHEAP_OP_UNALIGNED = 0xFE12,
    ILHEAP_OP_VOLATILE = 0xFE13,
    ILHEAP_OP_TAIL = 0xFE14,
    ILHEAP_OP_CONSTRAINED = 0xFE16,
    ILHEAP_OP_NO = 0xFE19,
    ILHEAP_OP_RETHROW = 0xFE1A,
    ILHEAP_OP_READONLY = 0xFE1E,
};

/* ---------------------------------------------------------------------------
 * Instructions.
 * ------------------------------------------------------------------------- */

/* An instruction's id: stable while the body is loaded. */
typedef uint32_t ilheap_rw_id_t;
/* The end of the code: "after the last instruction" (an EH range that ends
 * with the code, ilheap_rw_next of the last instruction). */
#define ILHEAP_RW_END 0xFFFFFFFFu
/* ilheap_rw_insn_t.offset of an instruction that was not in the original body. */
#define ILHEAP_RW_NEW 0xFFFFFFFFu

/* One instruction, as read from or given to a rewriter. */
typedef struct ilheap_rw_insn {
    uint16_t opcode;  /* see the opcode table */
    uint32_t offset;  /* offset in the original code; ILHEAP_RW_NEW for new code (ignored on input) */
    union {
        int64_t i;           /* INT8 / INT32 / INT64 (sign-extended), VAR8 / VAR16 / UINT8 (zero-extended) */
        float r4;            /* FLOAT32, bit for bit (NaN payloads kept) */
        double r8;           /* FLOAT64, bit for bit */
        uint32_t token;      /* TOKEN */
        ilheap_rw_id_t target; /* BRANCH8 / BRANCH32: the target instruction (or ILHEAP_RW_END) */
        struct {
            const ilheap_rw_id_t *targets; /* SWITCH: count targets; from the rewriter:
                                              valid until the next edit or load */
            uint32_t count;
        } sw;
    } op;
} ilheap_rw_insn_t;

/* One EH clause with its boundaries as instruction references. An end is the
 * first instruction after the range (ILHEAP_RW_END: the end of the code). */
typedef struct ilheap_rw_clause {
    uint32_t kind;              /* ILHEAP_IL_CATCH, _FILTER, _FINALLY, _FAULT */
    ilheap_rw_id_t try_start, try_end;
    ilheap_rw_id_t handler_start, handler_end;
    ilheap_rw_id_t filter_start; /* FILTER only; else ILHEAP_RW_END */
    uint32_t class_token;        /* CATCH: the type token; FINALLY/FAULT: the raw value kept */
} ilheap_rw_clause_t;

/* Stack effect of a call, callvirt, newobj or calli (token: the method or
 * signature token): *pops = items taken (arguments, plus `this` for an
 * instance call, plus the function pointer for calli; newobj: the arguments
 * without `this`), *pushes = items left (0 or 1). Returns ILHEAP_OK, or any
 * other status to stop the encode with it. */
typedef ilheap_status_t (*ilheap_rw_stack_fn)(void *ctx, uint16_t opcode, uint32_t token,
                                              uint32_t *pops, uint32_t *pushes);

typedef struct ilheap_rw ilheap_rw_t;

typedef enum ilheap_rw_where {
    ILHEAP_RW_BLOCK_START = 0, /* before; references to the instruction move to the new code */
    ILHEAP_RW_BEFORE = 1,      /* before; references keep leading to the instruction */
    ILHEAP_RW_AFTER = 2,       /* after; references to the next instruction keep leading to it */
} ilheap_rw_where_t;

/* Creates an empty rewriter. Returns ILHEAP_OK, ILHEAP_EINVAL or ILHEAP_ENOMEM. */
ILHEAP_API ilheap_status_t ilheap_rw_create(ilheap_rw_t **out);

/* Frees a rewriter (NULL is ignored). */
ILHEAP_API void ilheap_rw_destroy(ilheap_rw_t *rw);

/* Decodes body (a decoded body from ilheap_il_decode) into rw, replacing
 * what rw held. The body's code and clauses are copied: they may be freed
 * afterwards. Rejects, with *error_offset (may be NULL) set to the offset in
 * the code of the defective instruction (or the clause's try offset):
 *   ILHEAP_IL_UNKNOWN_OPCODE     an opcode ECMA-335 does not define;
 *   ILHEAP_IL_TRUNCATED_OPERAND  an operand (or switch table) runs past the code;
 *   ILHEAP_IL_BAD_TARGET         a branch or switch target, or an EH boundary,
 *                                that is not the start of an instruction (or is
 *                                the instruction after a prefix), or lies
 *                                outside the code;
 *   ILHEAP_IL_BAD_PREFIX         a prefix not followed by an instruction it may
 *                                prefix (or at the end of the code);
 *   ILHEAP_EINVAL, ILHEAP_ENOMEM, ILHEAP_IL_CLAUSE_KIND.
 * On failure rw is empty (as after create). */
ILHEAP_API ilheap_status_t ilheap_rw_load(ilheap_rw_t *rw, const ilheap_il_body_t *body,
                                          size_t *error_offset);

/* Walking the sequence: the first instruction (ILHEAP_RW_END if none), the
 * next / previous one (ILHEAP_RW_END past either end). */
ILHEAP_API ilheap_rw_id_t ilheap_rw_first(const ilheap_rw_t *rw);
ILHEAP_API ilheap_rw_id_t ilheap_rw_last(const ilheap_rw_t *rw);
ILHEAP_API ilheap_rw_id_t ilheap_rw_next(const ilheap_rw_t *rw, ilheap_rw_id_t id);
ILHEAP_API ilheap_rw_id_t ilheap_rw_prev(const ilheap_rw_t *rw, ilheap_rw_id_t id);

/* Number of instructions in the sequence now. */
ILHEAP_API size_t ilheap_rw_count(const ilheap_rw_t *rw);

/* The opcode of an instruction (0xFFFF for a bad or removed id). */
ILHEAP_API uint16_t ilheap_rw_opcode(const ilheap_rw_t *rw, ilheap_rw_id_t id);

/* The instruction id (branch and switch targets as they lead now, after
 * every insertion). Returns ILHEAP_OK or ILHEAP_IL_BAD_REF. */
ILHEAP_API ilheap_status_t ilheap_rw_get(ilheap_rw_t *rw, ilheap_rw_id_t id,
                                         ilheap_rw_insn_t *out);

/* Where a reference to id leads now: id itself, or the code inserted at its
 * block start, or (for a removed instruction) what followed it. */
ILHEAP_API ilheap_rw_id_t ilheap_rw_resolve(const ilheap_rw_t *rw, ilheap_rw_id_t id);

/* EH clauses, in their order, with references resolved as for ilheap_rw_get. */
ILHEAP_API size_t ilheap_rw_clause_count(const ilheap_rw_t *rw);
ILHEAP_API ilheap_status_t ilheap_rw_clause(const ilheap_rw_t *rw, size_t index,
                                            ilheap_rw_clause_t *out);

/* Inserts insns[0 .. n) at `at` as `where` says (see the top of this file).
 * Branch and switch targets in insns are ids of this rewriter (existing
 * instructions, or ILHEAP_RW_END). *first (may be NULL) receives the id of
 * the first new instruction; the others follow it in id order. Errors, with
 * nothing changed: ILHEAP_IL_BAD_REF (at or a target is not a live id),
 * ILHEAP_IL_UNKNOWN_OPCODE, ILHEAP_IL_SPLIT_PREFIX (the position is right
 * after a prefix), ILHEAP_IL_SPLIT_TAIL_CALL (the position is between
 * `tail.` + call and its ret), ILHEAP_IL_BAD_PREFIX (insns end with a
 * prefix), ILHEAP_EINVAL, ILHEAP_ENOMEM, ILHEAP_IL_OVERFLOW. n == 0 does
 * nothing. `at` may be ILHEAP_RW_END with ILHEAP_RW_BEFORE (append). */
ILHEAP_API ilheap_status_t ilheap_rw_insert(ilheap_rw_t *rw, ilheap_rw_id_t at,
                                            ilheap_rw_where_t where, const ilheap_rw_insn_t *insns,
                                            size_t n, ilheap_rw_id_t *first);

/* Replaces instruction id by insns[0 .. n) (n >= 1): id now holds insns[0]
 * (every reference to id leads to it), the rest follow it as new ids. The
 * same errors as ilheap_rw_insert. */
ILHEAP_API ilheap_status_t ilheap_rw_replace(ilheap_rw_t *rw, ilheap_rw_id_t id,
                                             const ilheap_rw_insn_t *insns, size_t n,
                                             ilheap_rw_id_t *first_new);

/* Removes instruction id: every reference to it leads to what followed it.
 * Removing a prefixed instruction (leaving its prefix dangling) is
 * ILHEAP_IL_SPLIT_PREFIX; ILHEAP_IL_BAD_REF for a bad id. */
ILHEAP_API ilheap_status_t ilheap_rw_remove(ilheap_rw_t *rw, ilheap_rw_id_t id);

/* ---------------------------------------------------------------------------
 * Exception clauses, single exit, constructors: what a method wrapper needs.
 *
 * A new clause must keep every rule of ECMA-335 II.19 and I.12.4.2; what
 * would break one is refused with a status, a message naming the IL offset
 * (-1 for inserted code) and *bad, the offending instruction's id (RW_END
 * when it is code the refused call itself would have inserted), and nothing
 * changes:
 *   ILHEAP_IL_CLAUSE_RANGE    an empty or reversed try, handler or filter;
 *   ILHEAP_IL_EH_NESTING      a handler or filter inside its own try; a
 *                             block overlapping an existing clause's block
 *                             partially (blocks nest or lie apart; two
 *                             clauses share a try only when both are catch
 *                             or filter clauses); a table that cannot keep
 *                             inner clauses before outer ones;
 *   ILHEAP_IL_EH_FLOW         control entering a try other than at its first
 *                             instruction, entering a handler or filter at
 *                             all (a fall-through into a handler included),
 *                             leaving a try or catch handler other than by
 *                             leave (a branch, or falling off its end), or
 *                             leaving a finally, fault or filter at all;
 *   ILHEAP_IL_EH_INSTRUCTION  ret or jmp inside the new blocks; localloc in a
 *                             handler or filter; endfinally not directly in
 *                             a finally or fault handler; endfilter other
 *                             than as the last instruction of a filter;
 *                             rethrow outside a catch handler.
 * Not checked without the stack callback: that the stack is empty at a try's
 * start (the exact simulation checks it: try starts at depth 0). Removing
 * clauses is not supported: no function removes one, and an instruction a
 * clause boundary refers to may be removed only as ilheap_rw_remove says
 * (the reference moves to what followed).
 * ------------------------------------------------------------------------- */

/* Adds clause (kind, its try, handler and filter boundaries as ids of this
 * rewriter, class_token for CATCH; filter_start ignored unless FILTER) to
 * the table, where the nesting puts it (inner before outer; after the other
 * handlers of the same try). The code must be in place already. *index
 * (may be NULL) receives its position. The errors above, ILHEAP_IL_BAD_REF,
 * ILHEAP_IL_CLAUSE_KIND, ILHEAP_EINVAL, ILHEAP_ENOMEM. */
ILHEAP_API ilheap_status_t ilheap_rw_add_clause(ilheap_rw_t *rw, const ilheap_rw_clause_t *clause,
                                                size_t *index, ilheap_rw_id_t *bad);

/* A handler for ilheap_rw_wrap. Its code runs straight (calls allowed, no
 * branch) up to its last instruction, which ends it:
 *   FINALLY, FAULT: endfinally (or throw); entered with an empty stack;
 *   CATCH: leave (to an instruction after the handler), rethrow or throw;
 *          entered with the exception object on the stack;
 *   FILTER: filter code entered with the exception object, ending with
 *          endfilter with the int32 verdict alone on the stack; then the
 *          handler code, as for CATCH. */
typedef struct ilheap_rw_handler {
    uint32_t kind;                  /* ILHEAP_IL_FINALLY, _FAULT, _CATCH or _FILTER */
    uint32_t class_token;           /* CATCH: the exception type (TypeDef, TypeRef or TypeSpec) */
    const ilheap_rw_insn_t *code;   /* the handler */
    size_t count;
    const ilheap_rw_insn_t *filter; /* FILTER only: the filter */
    size_t filter_count;
} ilheap_rw_handler_t;

/* Puts the instructions [start, end) (end exclusive; ILHEAP_RW_END: to the
 * end of the code) in a new try with handler: where the range's last
 * instruction falls through, a `leave end` closes the try; the filter and
 * handler code go right after the range, in front of end (branches to end
 * keep leading to end); the clause is added as ilheap_rw_add_clause does.
 * start and end are references: code inserted at start's block start is
 * inside the try (insert an entry probe afterwards with ILHEAP_RW_BEFORE at
 * start to keep it outside). A single exit's br (ilheap_rw_single_exit)
 * that now leaves the try becomes a leave. Max stack: the handler's depth
 * counts in the safe bound (its calls need the inserted-code callback, else
 * the exact one). *index (may be NULL): the clause's position; the handler's
 * first instruction is ilheap_rw_clause(rw, *index).handler_start. Errors:
 * those of ilheap_rw_add_clause, and ILHEAP_IL_EH_INSTRUCTION or
 * ILHEAP_IL_STACK_MISMATCH for handler code that does not have the shape
 * above, ILHEAP_IL_SPLIT_PREFIX / _SPLIT_TAIL_CALL for a range ending inside
 * a prefixed or tail-call sequence, ILHEAP_IL_EH_FLOW for a range that falls
 * off the end of the code. Nothing changes on failure. */
ILHEAP_API ilheap_status_t ilheap_rw_wrap(ilheap_rw_t *rw, ilheap_rw_id_t start, ilheap_rw_id_t end,
                                          const ilheap_rw_handler_t *handler, size_t *index,
                                          ilheap_rw_id_t *bad);

/* ilheap_rw_single_exit's ret_local for a method that returns nothing. */
#define ILHEAP_RW_NO_LOCAL 0xFFFFFFFFu
/* ilheap_rw_single_exit flags. */
enum {
    /* `tail. call; ret`: drop the tail. prefix (the call becomes an ordinary
     * call, whose frame stays while it runs) instead of refusing. */
    ILHEAP_RW_EXIT_DROP_TAIL = 1u << 0,
};

/* Gives the method one exit: an epilogue `ldloc ret_local; ret` (`ret` when
 * ret_local is ILHEAP_RW_NO_LOCAL, for a void method) is appended, and every
 * ret becomes `stloc ret_local` + a branch to it, keeping the ret's id (so
 * references to the ret lead to the store): `leave` when the ret sits in a
 * try or catch handler, `br` where no region is crossed (wrapping a try
 * around it later turns that br into a leave). Clause ends at the end of
 * the code end before the epilogue. ret_local is a local of the return type
 * (ilheap_rw_locals_append): a value type or struct as it is, a `ref T`
 * return as the byref type, a by-ref-like type (Span<T>) as it is. The
 * caller says whether the method returns a value: ret_local given iff it
 * does. *epilogue receives the epilogue's first instruction (the end of a
 * wrapping try). Refused, nothing changed: a ret in a finally, fault or
 * filter, or in a try or catch nested in one (ILHEAP_IL_EH_INSTRUCTION: no
 * leave may exit those), `tail. call;
 * ret` without ILHEAP_RW_EXIT_DROP_TAIL (ILHEAP_IL_SPLIT_TAIL_CALL, *bad the
 * call), ret_local past 65534 (ILHEAP_IL_OVERFLOW). jmp is left alone (a
 * wrap refuses it). A method with no ret still gets the epilogue
 * (unreachable). The max stack's safe bound still holds. Sets
 * ilheap_rw_set_returns (1 with ret_local, else 0). */
ILHEAP_API ilheap_status_t ilheap_rw_single_exit(ilheap_rw_t *rw, uint32_t ret_local, uint32_t flags,
                                                 ilheap_rw_id_t *epilogue, ilheap_rw_id_t *bad);

/* Says whether a method token (MethodDef, MemberRef or MethodSpec of a
 * `call`) is an instance constructor of the constructor's own type or of its
 * base type: 1 or 0. */
typedef int (*ilheap_rw_ctor_fn)(void *ctx, uint32_t token);

/* In an instance constructor, the first instruction after the call to the
 * base (or another own) constructor: where a wrapper of "the body after the
 * base constructor call" starts its try. The call is the first `call` (in
 * sequence order, on a path from the entry) that is_ctor accepts, whose
 * receiver is the bottom stack item pushed by ldarg.0 (the last instruction
 * before it that starts at depth 0), and after which the stack is empty; it
 * must not be inside a protected block or handler. Needs the exact stack
 * callback (ilheap_rw_set_stack_fn): the receiver is found by simulating
 * depths. Limits: a constructor with no such call (a struct's, Object's, or
 * IL that calls it only on some paths or after a branch that skips it)
 * gives ILHEAP_IL_NO_CTOR_CALL, and a wrap starting after a call that not
 * every path passes is refused by ilheap_rw_wrap (a branch into the try).
 * Field initializers (C#) run before the call and stay outside. Errors:
 * ILHEAP_IL_NO_CTOR_CALL, ILHEAP_IL_STACK_UNKNOWN (no callback), the
 * simulation's (ILHEAP_IL_STACK_MISMATCH, the callback's status),
 * ILHEAP_EINVAL. */
ILHEAP_API ilheap_status_t ilheap_rw_ctor_body_start(ilheap_rw_t *rw, ilheap_rw_ctor_fn is_ctor, void *ctx,
                                                     ilheap_rw_id_t *start);

/* ---------------------------------------------------------------------------
 * Arguments, return values, locals: from the method's decoded signature
 * (include/ilheap/sig.h).
 * ------------------------------------------------------------------------- */

/* For a value to box or to load through a byref: *token, the type's token
 * for box and ldobj (a TypeDef or TypeRef; for a generic instantiation, a
 * generic parameter (VAR, MVAR) or a primitive, a token the caller makes:
 * a TypeSpec of the blob at value->offset / size, e.g. with
 * IMetaDataEmit::GetTokenFromTypeSpec, or the TypeRef of the primitive's
 * System type, ilheap_sig_element_name), and *by_ref_like, 1 when the type
 * is by-ref-like (Span<T>, a ref struct: IsByRefLikeAttribute on its
 * definition, which a signature cannot tell) and so can never be boxed.
 * Any status but ILHEAP_OK stops the load with it. */
typedef ilheap_status_t (*ilheap_rw_type_fn)(void *ctx, const ilheap_sig_param_t *value, uint32_t *token,
                                             int *by_ref_like);

/* The method whose arguments and return value are loaded. */
typedef struct ilheap_rw_method {
    const ilheap_sig_t *sig;   /* its signature (MethodDef.Signature), decoded */
    uint32_t this_type;        /* an instance method of a value type: the type's token (TypeDef, or
                                  the TypeSpec of a generic struct's instantiation over its own
                                  parameters), `this` then being a byref to it; else 0 */
    ilheap_rw_type_fn type_fn; /* NULL when nothing is boxed or loaded through a byref */
    void *ctx;
} ilheap_rw_method_t;

/* ilheap_rw_load_arg / _load_return flags. */
enum {
    ILHEAP_RW_LOAD_VALUE = 1u << 0, /* a byref: load the value it points to (ldind.ref, ldobj) */
    ILHEAP_RW_LOAD_BOX = 1u << 1,   /* the value as an object: boxed (value types, generic parameters,
                                       pointers), through a byref; by-ref-like values and
                                       TypedReference push null */
};
/* Most instructions one load takes. */
#define ILHEAP_RW_LOAD_MAX 4u

/* IL arguments of a method: its parameters, plus `this` for an instance
 * method (HASTHIS without EXPLICITTHIS). A vararg method's extra arguments
 * are not among them (they are reached through arglist). */
ILHEAP_API uint32_t ilheap_rw_arg_count(const ilheap_sig_t *sig);

/* The instructions that push IL argument arg (0: `this` of an instance
 * method) as the flags ask: as it is (ldarg, ldarg.s or ldarg.0-3), the
 * value behind a byref (+ ldind.ref or ldobj), or as an object (+ box).
 * They push one item. out[0 .. *count). Errors: ILHEAP_EINVAL (arg past
 * the count, a type callback needed and missing, not a method signature),
 * ILHEAP_IL_BAD_SIG (a runtime-internal type), the callback's status. */
ILHEAP_API ilheap_status_t ilheap_rw_load_arg(const ilheap_rw_method_t *m, uint32_t arg, uint32_t flags,
                                              ilheap_rw_insn_t out[ILHEAP_RW_LOAD_MAX], size_t *count);

/* The instructions that push the return value held in ret_local (the local
 * of ilheap_rw_single_exit: `ldloc ret_local` in the epilogue's place, or in
 * a finally before it) as the flags ask; for a `ref T` return the local holds
 * the byref, and LOAD_VALUE / LOAD_BOX load what it points to. A void method:
 * nothing, or null with LOAD_BOX. */
ILHEAP_API ilheap_status_t ilheap_rw_load_return(const ilheap_rw_method_t *m, uint32_t ret_local, uint32_t flags,
                                                 ilheap_rw_insn_t out[ILHEAP_RW_LOAD_MAX], size_t *count);

/* The stack effect of a call, callvirt, calli or newobj whose target has
 * the decoded signature callee (a MethodDef's, a MemberRef's with its vararg
 * part, a calli's StandAloneSig; for a MethodSpec, its method's): the
 * arguments (+ `this`, + the function pointer for calli; newobj: the
 * arguments alone) and 0 or 1 pushed (newobj: 1). What a stack callback
 * (ilheap_rw_set_stack_fn) returns once it has the signature. */
ILHEAP_API ilheap_status_t ilheap_rw_call_effect(const ilheap_sig_t *callee, uint16_t opcode, uint32_t *pops,
                                                 uint32_t *pushes);

/* ilheap_rw_locals_append with one local of the given type (encoded by
 * ilheap_sig_encode_type): for ilheap_rw_single_exit's local, the method's
 * sig->ret.type as it is (a `ref T` return gives a byref local, which is
 * legal; a by-ref-like type a local of it). *index: the new local's index. */
ILHEAP_API ilheap_status_t ilheap_rw_locals_append_type(const uint8_t *sig, size_t size,
                                                        const ilheap_sig_type_t *type, uint8_t **out,
                                                        size_t *out_size, uint32_t *index);

/* Sets the stack callback (fn NULL: back to the safe bound). */
ILHEAP_API void ilheap_rw_set_stack_fn(ilheap_rw_t *rw, ilheap_rw_stack_fn fn, void *ctx);

/* Sets the stack callback for inserted instructions only (fn NULL: none).
 * The safe bound (no ilheap_rw_set_stack_fn) then accepts inserted call,
 * callvirt, calli and newobj, whose effect fn gives, as falling through; the
 * original body's calls are not asked about. This is how a probe that calls
 * a method (Interlocked.Increment) keeps the cheap bound. */
ILHEAP_API void ilheap_rw_set_inserted_stack_fn(ilheap_rw_t *rw, ilheap_rw_stack_fn fn, void *ctx);

/* Says how many items a ret takes: 1 when the method returns a value, 0
 * when it returns void, -1 (the default after a load) unknown. With it, the
 * exact simulation (ilheap_rw_set_stack_fn) also checks the depth at every
 * ret (ILHEAP_IL_STACK_MISMATCH). ilheap_rw_single_exit sets it. */
ILHEAP_API void ilheap_rw_set_returns(ilheap_rw_t *rw, int returns);

/* Replaces the body's local signature token (0 = none) and InitLocals flag,
 * e.g. after ilheap_rw_locals_append + IMetaDataEmit::GetTokenFromSig. */
ILHEAP_API void ilheap_rw_set_locals(ilheap_rw_t *rw, uint32_t local_sig, int init_locals);

/* The max stack encode will write (see MAX STACK above). Returns ILHEAP_OK,
 * ILHEAP_IL_OVERFLOW, ILHEAP_IL_STACK_UNKNOWN, ILHEAP_IL_STACK_NOT_NEUTRAL,
 * ILHEAP_IL_STACK_MISMATCH (the simulation found an underflow or two
 * different depths where paths join) or the callback's status. */
ILHEAP_API ilheap_status_t ilheap_rw_max_stack(ilheap_rw_t *rw, uint32_t *max_stack);

/* Encodes the body: with dst NULL only the size; else writes it to
 * dst[0 .. *size) (4-aligned when fat, as il.h requires). *size receives the
 * exact size on success and on ILHEAP_IL_DEST_TOO_SMALL. Returns what
 * ilheap_rw_max_stack and ilheap_il_rewrite return, ILHEAP_IL_BAD_PREFIX (a
 * prefix left without its instruction), ILHEAP_IL_BAD_TARGET (a branch that
 * leads past the code after the last instruction was removed),
 * ILHEAP_IL_CLAUSE_RANGE (a clause range reversed by removals) or
 * ILHEAP_ENOMEM. The rewriter keeps its state: edit more and encode again. */
ILHEAP_API ilheap_status_t ilheap_rw_encode(ilheap_rw_t *rw, void *dst, size_t cap, size_t *size);

struct ilheap_heap; /* include/ilheap/heap.h */

/* Encodes the body into one block of exactly its size allocated from heap.
 * On failure *out is NULL and nothing was allocated (except when the heap
 * itself fails). size may be NULL. */
ILHEAP_API ilheap_status_t ilheap_rw_encode_to_heap(ilheap_rw_t *rw, struct ilheap_heap *heap,
                                                    void **out, size_t *size);

/* The offset the last successful encode gave instruction id (ILHEAP_RW_END:
 * the code size), or ILHEAP_RW_NEW when it was not encoded. */
ILHEAP_API uint32_t ilheap_rw_new_offset(const ilheap_rw_t *rw, ilheap_rw_id_t id);

/* One entry of an old-to-new IL offset map: the layout of COR_IL_MAP
 * (corprof.h: ULONG32 oldOffset, ULONG32 newOffset, BOOL fAccurate), so an
 * array of them goes to ICorProfilerInfo::SetILInstrumentedCodeMap as it
 * is. */
typedef struct ilheap_rw_il_map {
    uint32_t old_offset; /* an instruction's offset in the body as loaded */
    uint32_t new_offset; /* where running it starts in the encoded body */
    int32_t accurate;    /* 1: the instruction is there unchanged; 0: it was replaced or removed */
} ilheap_rw_il_map_t;

/* The old-to-new map of the last successful encode: one entry per
 * instruction of the body as loaded, in old-offset order (ascending, as the
 * runtime needs). new_offset is where running the old instruction starts
 * now: the code inserted at its block start (ILHEAP_RW_BLOCK_START) when
 * there is some, else the instruction itself; a removed instruction's entry
 * leads to what followed it (or the code's end); old offset 0, the method's
 * entry, always leads to new offset 0, so code inserted before the first
 * instruction (an entry probe) counts as the entry's. A `ret` turned into a
 * store by ilheap_rw_single_exit maps to the store, not accurate. Inserted
 * code has no entry of its own: a debugger maps it back to the entry below
 * it. *count receives the number of entries; at most cap are written
 * (ILHEAP_IL_DEST_TOO_SMALL when cap is too small: call again with *count;
 * out may be NULL with cap 0 to ask). ILHEAP_EINVAL before any encode. */
ILHEAP_API ilheap_status_t ilheap_rw_il_map(const ilheap_rw_t *rw, ilheap_rw_il_map_t *out, size_t cap,
                                            size_t *count);

/* ---------------------------------------------------------------------------
 * Helpers for instrumentation.
 * ------------------------------------------------------------------------- */

/* Writes to out (in sequence order) the ids of the instructions that start a
 * basic block: the first instruction, every branch and switch target, every
 * instruction after a branch, switch, ret, jmp, throw, rethrow, leave,
 * endfinally or endfilter, and every EH try, handler and filter start and
 * every end that is not ILHEAP_RW_END. A block start is never the instruction
 * after a prefix (the prefix is). *count receives how many there are; at most
 * cap are written (ILHEAP_IL_DEST_TOO_SMALL when cap is too small: call again
 * with *count). */
ILHEAP_API ilheap_status_t ilheap_rw_block_starts(ilheap_rw_t *rw, ilheap_rw_id_t *out, size_t cap,
                                                  size_t *count);

/* Most instructions the probe helpers produce. */
#define ILHEAP_RW_PROBE_MAX 8u

/* The pure-IL counter probe of docs/il-rewriter.md: `ldc.i8 addr; conv.u;
 * dup; ldind.i4; ldc.i4.1; add; stind.i4` (ptr64 != 0; 15 bytes) or with
 * `ldc.i4 addr` (ptr64 == 0; addr must fit 32 bits; 11 bytes). Stack
 * neutral, peak 3. Writes out[0 .. 7) and returns 7 (0 when a 32-bit address
 * does not fit). */
ILHEAP_API size_t ilheap_rw_counter_probe(uint64_t addr, int ptr64,
                                          ilheap_rw_insn_t out[ILHEAP_RW_PROBE_MAX]);

/* The same probe on a 64-bit counter, which no run wraps: `ldc.i8 addr;
 * conv.u; dup; ldind.i8; ldc.i4.1; conv.i8; add; stind.i8` (16 bytes; 12
 * with `ldc.i4 addr`). Stack neutral, peak 3. Returns 8 (0 as above). */
ILHEAP_API size_t ilheap_rw_counter64_probe(uint64_t addr, int ptr64,
                                            ilheap_rw_insn_t out[ILHEAP_RW_PROBE_MAX]);

/* The pure-IL hit flag: `ldc.i8 addr; conv.u; ldc.i4.1; stind.i1` (ptr64 !=
 * 0; 12 bytes) or with `ldc.i4 addr` (8 bytes): sets one byte to 1,
 * idempotent, so concurrent hits need no atomics. Stack neutral, peak 2.
 * Writes out[0 .. 4) and returns 4 (0 when a 32-bit address does not fit). */
ILHEAP_API size_t ilheap_rw_flag_probe(uint64_t addr, int ptr64,
                                       ilheap_rw_insn_t out[ILHEAP_RW_PROBE_MAX]);

/* Appends new_count local types (new_types: their encodings, concatenated,
 * as ECMA-335 II.23.2.6 writes them) to the LocalVarSig blob sig[0 .. size)
 * (sig NULL / size 0: a method with no locals). *out receives a new blob
 * from malloc (free it with free()), *out_size its size, *first_index (may
 * be NULL) the index of the first new local. The old types are copied as
 * they are; the count is re-encoded (it may grow from 1 to 2 or 4 bytes).
 * Returns ILHEAP_OK, ILHEAP_EINVAL, ILHEAP_ENOMEM, ILHEAP_IL_BAD_SIG (not a
 * LOCAL_SIG, or a count that runs past the blob) or ILHEAP_IL_OVERFLOW (more
 * than 65535 locals in all: ldloc takes a 16-bit index). */
ILHEAP_API ilheap_status_t ilheap_rw_locals_append(const uint8_t *sig, size_t size,
                                                   const uint8_t *new_types, size_t new_types_size,
                                                   uint32_t new_count, uint8_t **out,
                                                   size_t *out_size, uint32_t *first_index);

#ifdef __cplusplus
}
#endif

#endif /* ILHEAP_REWRITE_H */
