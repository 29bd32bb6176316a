/* Internals of the instruction-level rewriter (include/ilheap/rewrite.h).
 *
 * A body is held in flat arrays indexed by instruction id (opcode, original
 * offset, operand, links of a doubly linked list, a redirect id, the new
 * offset), so inserting is O(1) and nothing is malloc'd per instruction.
 * References (branch and switch targets, EH boundaries) are ids; an
 * insertion at a block start sets the redirect of the instruction that was
 * the block's first, so every reference follows the redirect chain when it
 * is read (and is compressed in place: a redirect is set at most once per
 * id, so the compression never changes where a reference leads).
 *
 * The files: rewrite.c (storage, walking, reading), rewrite_load.c,
 * rewrite_edit.c (insert, replace, remove), rewrite_stack.c (max stack),
 * rewrite_encode.c (layout and code), rewrite_probe.c (block starts, probes),
 * rewrite_locals.c (LocalVarSig). The opcode table is opcodes.c. */
#ifndef ILHEAP_IL_REWRITE_INTERNAL_H
#define ILHEAP_IL_REWRITE_INTERNAL_H

#include <stdint.h>

#include "il/il_internal.h"
#include "ilheap/rewrite.h"

/* The opcode table (src/il/opcodes.c): rows, the row index + 1 of each
 * one-byte opcode and of each 0xFE-prefixed one by its second byte, and the
 * operand bytes of each operand kind. Inline here for the rewriter's loops. */
#define ILHEAP__IL_OPCODES 219u
extern const ilheap_il_opinfo_t ilheap__il_table[ILHEAP__IL_OPCODES];
extern const uint8_t ilheap__il_one_byte[256];
extern const uint8_t ilheap__il_two_byte[32];

extern const uint8_t ilheap__il_fast[256 + 32];
#define IL_FAST_KIND 0x0Fu   /* ilheap_il_operand_t */
/* Operand bytes by kind, indexed by any IL_FAST_KIND value (unused kinds 0). */
extern const uint8_t ilheap__il_operand_bytes[IL_FAST_KIND + 1];
#define IL_FAST_PREFIX 0x10u
#define IL_FAST_TWO_BYTE 0x20u
#define IL_FAST_ENDS 0x40u /* control does not go on to the next instruction */
#define IL_FAST_EH 0x80u   /* ret, jmp, localloc, endfinally, endfilter, rethrow */
#define IL_FAST_NONE 0xFFu

/* The fast entry of an opcode (IL_FAST_NONE when it is not one). */
static inline uint8_t il_fast(uint16_t opcode)
{
    return opcode < 0x100 ? ilheap__il_fast[opcode]
           : (opcode & 0xFF00u) == 0xFE00u && (opcode & 0xFFu) < 32 ? ilheap__il_fast[256 + (opcode & 0xFFu)]
                                                                   : (uint8_t)IL_FAST_NONE;
}

static inline const ilheap_il_opinfo_t *il_info(uint16_t opcode)
{
    unsigned row = opcode < 0x100 ? ilheap__il_one_byte[opcode]
                   : (opcode & 0xFF00u) == 0xFE00u && (opcode & 0xFFu) < 32
                       ? ilheap__il_two_byte[opcode & 0xFFu]
                       : 0;
    return row ? &ilheap__il_table[row - 1] : NULL;
}

#define RW_NONE 0xFFFFFFFEu /* no redirect; an offset that is not an instruction start */
#define RW_END ILHEAP_RW_END

/* Per-instruction flags. */
enum {
    RW_F_LIVE = 1u << 0,   /* in the sequence */
    RW_F_NEW = 1u << 1,    /* inserted (not from the original body) */
    RW_F_EDITED = 1u << 2, /* replaced */
    RW_F_MARK = 1u << 3,   /* scratch: block start */
    RW_F_STRUCT = 1u << 4, /* made by a structured edit (clauses, single exit): its
                              depth is accounted in struct_peak, not as a neutral run */
    RW_F_EXIT = 1u << 5,   /* a single exit's br to the epilogue: becomes leave when a
                              new protected region is wrapped around it */
};

struct ilheap_rw {
    uint32_t cap, n; /* ids allocated / used */
    uint16_t *op;
    uint8_t *kind;   /* il_fast(op): operand kind, prefix and size bits, for the hot loops */
    uint8_t *flags;
    uint32_t *off;   /* original offset, or ILHEAP_RW_NEW */
    uint64_t *val;   /* operand: immediate bits, token, target id, or switch first | count << 32 */
    uint32_t *next, *prev, *redir, *noff;
    uint32_t head, tail, live;
    uint32_t loaded_n; /* instructions the load made: ids 0 .. loaded_n - 1 */
    uint32_t *sw; /* switch targets of every switch */
    size_t sw_n, sw_cap;
    ilheap_rw_clause_t *cl;
    uint32_t ncl, cl_cap;
    ilheap_il_body_t body; /* header and section formats, for preserve-mode encoding */
    uint32_t local_sig;
    uint8_t init_locals;
    uint8_t loaded;
    uint8_t edited;  /* something was replaced or removed */
    uint8_t encoded; /* noff is valid */
    uint32_t *scratch; /* load: offset -> id; encode: order of ids and the work list */
    size_t scratch_cap;
    int32_t *depth;
    size_t depth_cap;
    uint8_t *code;
    size_t code_cap;
    uint32_t code_size;
    ilheap_il_clause_t *ocl;
    uint32_t ocl_cap;
    ilheap_rw_stack_fn fn;
    void *ctx;
    ilheap_rw_stack_fn insert_fn; /* inserted calls under the safe bound */
    void *insert_ctx;
    uint32_t struct_peak;   /* highest depth of structured code (handlers, epilogue) */
    uint8_t struct_unknown; /* structured code whose depth needs the stack callback */
    int8_t returns;         /* items a ret takes (0 or 1), -1 unknown: checked by the simulation */
    ilheap_rw_clause_t *cl_save; /* the clauses before an edit that may be undone */
    uint32_t cl_save_cap;
};

/* ---- storage (rewrite.c) ---------------------------------------------- */

/* realloc of count elements of elem bytes; 0 when it fails or overflows. */
int ilheap__rw_grow(void **p, size_t count, size_t elem);
/* Room for need ids, switch targets, scratch entries. */
ilheap_status_t ilheap__rw_ensure_ids(ilheap_rw_t *rw, uint64_t need);
ilheap_status_t ilheap__rw_ensure_sw(ilheap_rw_t *rw, uint64_t need);
ilheap_status_t ilheap__rw_ensure_scratch(ilheap_rw_t *rw, uint64_t need);
/* Empties rw (keeps its storage). */
void ilheap__rw_reset(ilheap_rw_t *rw);

/* ---- editing (rewrite_edit.c) ----------------------------------------- */

/* ilheap_rw_insert with flags (RW_F_STRUCT, RW_F_EXIT) set on the new ids. */
ilheap_status_t ilheap__rw_insert(ilheap_rw_t *rw, uint32_t at, ilheap_rw_where_t where,
                                  const ilheap_rw_insn_t *insns, size_t n, uint8_t flags, uint32_t *first);
/* Sets id's opcode and operand (x checked; switch room ensured). */
void ilheap__rw_set_insn(ilheap_rw_t *rw, uint32_t id, const ilheap_rw_insn_t *x);
/* Takes id out of the sequence: references to it lead to what followed. */
void ilheap__rw_unlink(ilheap_rw_t *rw, uint32_t id);

/* ---- max stack (rewrite_stack.c) -------------------------------------- */

/* The exact depth along every path (rw->fn set). Afterwards rw->scratch
 * holds the sequence (ids by position) in [0, live) and each id's position
 * from live on, and rw->depth[position] the depth before that instruction
 * (-1: not reached). */
ilheap_status_t ilheap__rw_simulate(ilheap_rw_t *rw, uint64_t *max);

/* With the exact callback set: STACK_MISMATCH (*bad the instruction) where
 * the depth before one of ids[0 .. n) is not 0; OK without the callback. */
ilheap_status_t ilheap__rw_empty_stack_at(ilheap_rw_t *rw, const uint32_t *ids, size_t n, uint32_t *bad);

/* ---- clauses (rewrite_eh.c) ------------------------------------------- */

/* A block of a clause: sequence positions [s, e). */
typedef struct ilheap__rw_blk {
    uint32_t s, e;
} ilheap__rw_blk_t;

/* What a block allows: enter a try at its start, leave a try or a catch
 * (or filter) handler by leave; a finally, fault or filter is left only by
 * its end instruction or an exception. */
enum { RW_R_TRY, RW_R_CATCH, RW_R_FINALLY, RW_R_FILTER, RW_R_NONE };

/* The positions and blocks of a body, for the checks of rewrite_eh.c. */
typedef struct ilheap__rw_eh {
    ilheap_rw_t *rw;
    uint32_t *pos;         /* id -> sequence position (live ids only) */
    ilheap__rw_blk_t *cb;  /* the existing clauses' blocks: try, handler, filter per clause */
    uint32_t count;        /* instructions in the sequence */
    uint32_t kind;         /* a new clause's kind */
    ilheap__rw_blk_t nb[3]; /* its try, handler and filter blocks */
    uint32_t fresh;        /* ids from here on were inserted by the edit */
    uint32_t bad;          /* the offending instruction on failure */
    uint32_t exits[8];     /* the single exit's brs check_body met (the first 8) */
    uint32_t nexits;       /* how many it met */
} ilheap__rw_eh_t;

/* Positions and the existing clauses' blocks, in rw->scratch (valid until
 * the next edit or scratch use). */
ilheap_status_t ilheap__rw_eh_start(ilheap__rw_eh_t *v, ilheap_rw_t *rw);
/* The role of the innermost existing block around live instruction id. */
int ilheap__rw_eh_role(const ilheap__rw_eh_t *v, uint32_t id);
/* Whether an existing block of that role, at any depth, holds id. */
int ilheap__rw_eh_within(const ilheap__rw_eh_t *v, uint32_t id, int role);

/* Checks clause c against every rule of rewrite_eh.c (ids from `fresh` on
 * were inserted by the caller's edit: their edges are checked against the
 * existing clauses too) and puts it in the table at *index; *bad: the
 * offending instruction on failure. Nothing changes on failure. */
ilheap_status_t ilheap__rw_add_clause(ilheap_rw_t *rw, const ilheap_rw_clause_t *c, uint32_t fresh,
                                      size_t *index, uint32_t *bad);

/* Clause ends at the end of the code move to `first`, code appended there:
 * every block ends before it (rewrite_wrap.c). */
void ilheap__rw_end_refs_to(ilheap_rw_t *rw, uint32_t first);

/* The rewriter's code and clauses laid out as a body for ilheap_il_rewrite
 * (rewrite_encode.c; used by rewrite_heap.c). */
ilheap_status_t ilheap__rw_prepare(ilheap_rw_t *rw, ilheap_il_body_t *body);

/* ---- small helpers ---------------------------------------------------- */

static inline const ilheap_il_opinfo_t *rw_info(const ilheap_rw_t *rw, uint32_t id)
{
    return il_info(rw->op[id]);
}

static inline int rw_live(const ilheap_rw_t *rw, uint32_t id)
{
    return id < rw->n && (rw->flags[id] & RW_F_LIVE);
}

static inline int rw_is_prefix(const ilheap_rw_t *rw, uint32_t id)
{
    return id != RW_END && rw_info(rw, id)->prefix != 0;
}

static inline int rw_is_call(uint16_t op)
{
    return op == ILHEAP_OP_CALL || op == ILHEAP_OP_CALLVIRT || op == ILHEAP_OP_CALLI;
}

/* Where a reference to id leads now (see the top of the file). */
static inline uint32_t rw_resolve(const ilheap_rw_t *rw, uint32_t id)
{
    for (uint32_t guard = 0; id < rw->n && rw->redir[id] != RW_NONE && guard <= rw->n; guard++)
        id = rw->redir[id];
    return id;
}

static inline uint32_t rw_sw_first(uint64_t v)
{
    return (uint32_t)v;
}

static inline uint32_t rw_sw_count(uint64_t v)
{
    return (uint32_t)(v >> 32);
}

/* Encoded bytes of instruction id (switch counts are bounded when the
 * instruction is added, so this fits 32 bits). */
static inline uint32_t rw_insn_size(const ilheap_rw_t *rw, uint32_t id)
{
    uint8_t k = rw->kind[id];
    uint32_t s = 1u + ((k & IL_FAST_TWO_BYTE) != 0) + ilheap__il_operand_bytes[k & IL_FAST_KIND];
    if ((k & IL_FAST_KIND) == ILHEAP_OPND_SWITCH)
        s += 4 * rw_sw_count(rw->val[id]);
    return s;
}

/* Links a to b in the sequence: b follows a (either may be RW_END: b is
 * then the first instruction, a the last). */
static inline void rw_join(ilheap_rw_t *rw, uint32_t a, uint32_t b)
{
    if (a == RW_END)
        rw->head = b;
    else
        rw->next[a] = b;
    if (b == RW_END)
        rw->tail = a;
    else
        rw->prev[b] = a;
}

/* The original offset of id for a message: -1 for new code. */
static inline int32_t rw_offset_for_msg(const ilheap_rw_t *rw, uint32_t id)
{
    return rw->off[id] == ILHEAP_RW_NEW ? -1 : (int32_t)rw->off[id];
}

/* Whether control goes on to the next instruction after one of this flow. */
static inline int rw_falls_through(uint8_t flow)
{
    return flow == ILHEAP_FLOW_NEXT || flow == ILHEAP_FLOW_CALL || flow == ILHEAP_FLOW_PREFIX ||
           flow == ILHEAP_FLOW_BREAK || flow == ILHEAP_FLOW_COND;
}

/* Checks that the prefix `id` is followed (after any other prefixes) by an
 * instruction that accepts it: ILHEAP_OK or ILHEAP_IL_BAD_PREFIX. */
ilheap_status_t ilheap__rw_check_prefix(const ilheap_rw_t *rw, uint32_t id);

#endif
