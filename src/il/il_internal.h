/* Internal helpers of the IL method-body codec: little-endian field access and
 * the on-disk constants of ECMA-335 II.25.4. */
#ifndef ILHEAP_IL_INTERNAL_H
#define ILHEAP_IL_INTERNAL_H

#include <stdint.h>

#include "ilheap/il.h"
#include "ilheap/rewrite.h"

/* II.25.4.1 method header type values (low two bits of the first byte). */
#define IL_FORMAT_MASK 0x3u
#define IL_TINY_FORMAT 0x2u
#define IL_FAT_FORMAT 0x3u
/* II.25.4.4 fat header flags (low 12 bits of the first u16). */
#define IL_FLAG_MORE_SECTS 0x8u
#define IL_FLAG_INIT_LOCALS 0x10u
#define IL_FAT_KNOWN_FLAGS (IL_FAT_FORMAT | IL_FLAG_MORE_SECTS | IL_FLAG_INIT_LOCALS)
#define IL_FAT_HEADER_DWORDS 3u
#define IL_FAT_HEADER_SIZE 12u
/* II.25.4.5 data section kind byte. */
#define IL_SECT_EH_TABLE 0x01u
#define IL_SECT_KIND_MASK 0x3Fu /* CorILMethod_Sect_KindMask */
#define IL_SECT_FAT_FORMAT 0x40u
#define IL_SECT_MORE_SECTS 0x80u
#define IL_SECT_HEADER_SIZE 4u
/* II.25.4.6 clause sizes. */
#define IL_SMALL_CLAUSE_SIZE 12u
#define IL_FAT_CLAUSE_SIZE 24u
#define IL_SMALL_MAX_DATA_SIZE 0xFFu
#define IL_FAT_MAX_DATA_SIZE 0xFFFFFFu

static inline uint16_t il_rd16(const uint8_t *p)
{
    return (uint16_t)(p[0] | (unsigned)p[1] << 8);
}

static inline uint32_t il_rd24(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16;
}

static inline uint32_t il_rd32(const uint8_t *p)
{
    return il_rd24(p) | (uint32_t)p[3] << 24;
}

static inline void il_wr16(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static inline void il_wr24(uint8_t *p, uint32_t v)
{
    il_wr16(p, v);
    p[2] = (uint8_t)(v >> 16);
}

static inline void il_wr32(uint8_t *p, uint32_t v)
{
    il_wr24(p, v);
    p[3] = (uint8_t)(v >> 24);
}

/* True for the four clause kinds of II.25.4.6. */
static inline int il_kind_known(uint32_t kind)
{
    return kind == ILHEAP_IL_CATCH || kind == ILHEAP_IL_FILTER || kind == ILHEAP_IL_FINALLY ||
           kind == ILHEAP_IL_FAULT;
}

/* Checks a clause against a code size, with every offset moved by shift (the
 * arithmetic is 64-bit: nothing wraps). Returns ILHEAP_OK, ILHEAP_IL_CLAUSE_KIND,
 * ILHEAP_IL_OVERFLOW (an offset past 32 bits) or ILHEAP_IL_CLAUSE_RANGE, and
 * records the failure naming clause number index. */
ilheap_status_t ilheap__il_check_clause(const ilheap_il_clause_t *c, uint64_t shift,
                                        uint64_t code_size, size_t index);

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
struct ilheap_rw;
ilheap_status_t ilheap__rw_prepare(struct ilheap_rw *rw, ilheap_il_body_t *body);

#endif
