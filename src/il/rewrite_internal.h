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
extern const uint8_t ilheap__il_operand_bytes[ILHEAP_OPND_UINT8 + 1];
extern const uint8_t ilheap__il_fast[256 + 32];
#define IL_FAST_KIND 0x0Fu   /* ilheap_il_operand_t */
#define IL_FAST_PREFIX 0x10u
#define IL_FAST_TWO_BYTE 0x20u
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

/* The original offset of id for a message: -1 for new code. */
static inline int32_t rw_offset_for_msg(const ilheap_rw_t *rw, uint32_t id)
{
    return rw->off[id] == ILHEAP_RW_NEW ? -1 : (int32_t)rw->off[id];
}

/* Checks that the prefix `id` is followed (after any other prefixes) by an
 * instruction that accepts it: ILHEAP_OK or ILHEAP_IL_BAD_PREFIX. */
ilheap_status_t ilheap__rw_check_prefix(const ilheap_rw_t *rw, uint32_t id);

#endif
