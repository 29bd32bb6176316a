/* Internals of the instruction-level rewriter: the opcode table's compact
 * lookups (src/il/opcodes.c) for the rewriter's loops, and the body the
 * rewriter lays out for the codec. */
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

/* The rewriter's code and clauses laid out as a body for ilheap_il_rewrite
 * (src/il/rewrite.c; used by src/il/rewrite_heap.c). */
ilheap_status_t ilheap__rw_prepare(ilheap_rw_t *rw, ilheap_il_body_t *body);

#endif
