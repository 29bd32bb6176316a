/* Internal helpers of the IL method-body codec: little-endian field access and
 * the on-disk constants of ECMA-335 II.25.4. */
#ifndef ILHEAP_IL_INTERNAL_H
#define ILHEAP_IL_INTERNAL_H

#include <stdint.h>

#include "ilheap/il.h"

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

#endif
