/* A bounds-checked little-endian cursor over untrusted bytes, checked
 * arithmetic, and ECMA-335's shared encodings (compressed integers, coded
 * type tokens, GUID text): the only way the library touches file data, and
 * the one owner of those encodings (the PE reader, the PDB reader, the
 * signature codec and the IL rewriter's local signatures use them).
 *
 * A cursor is a window [pos, end) of one file buffer; positions are FILE
 * OFFSETS, so every failure can say where in the file it happened. Every read
 * first checks the bytes left by subtraction (`n > end - pos`), which cannot
 * overflow, and fails without moving. Nothing here asserts: untrusted sizes
 * are never checked inside assert() (gone in release builds).
 */
#ifndef ILHEAP_PE_CURSOR_H
#define ILHEAP_PE_CURSOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct ilheap__cursor {
    const uint8_t *file; /* byte 0 of the file */
    size_t pos;          /* file offset of the next byte to read */
    size_t end;          /* file offset one past the last readable byte */
} ilheap__cursor_t;

/* Checked arithmetic: false (and *out untouched) when the result overflows. */
static inline bool ilheap__add_size(size_t a, size_t b, size_t *out)
{
    if (b > SIZE_MAX - a)
        return false;
    *out = a + b;
    return true;
}

static inline bool ilheap__mul_size(size_t a, size_t b, size_t *out)
{
    if (a != 0 && b > SIZE_MAX / a)
        return false;
    *out = a * b;
    return true;
}

static inline bool ilheap__add_u32(uint32_t a, uint32_t b, uint32_t *out)
{
    if (b > UINT32_MAX - a)
        return false;
    *out = a + b;
    return true;
}

/* Unchecked little-endian loads, for bytes a cursor has already bounded. */
static inline uint16_t ilheap__le16(const uint8_t *p)
{
    return (uint16_t)(p[0] | (uint16_t)p[1] << 8);
}

static inline uint32_t ilheap__le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline uint64_t ilheap__le64(const uint8_t *p)
{
    return (uint64_t)ilheap__le32(p) | (uint64_t)ilheap__le32(p + 4) << 32;
}

/* The cursor over [offset, offset + size) of a file of file_size bytes; false
 * (and an empty cursor) when that range is not inside the file. */
static inline bool ilheap__cursor_init(ilheap__cursor_t *c, const uint8_t *file, size_t file_size,
                                       size_t offset, size_t size)
{
    c->file = file;
    c->pos = c->end = 0;
    if (offset > file_size || size > file_size - offset)
        return false;
    c->pos = offset;
    c->end = offset + size;
    return true;
}

static inline size_t ilheap__cursor_left(const ilheap__cursor_t *c)
{
    return c->end - c->pos;
}

static inline bool ilheap__cursor_has(const ilheap__cursor_t *c, size_t n)
{
    return n <= c->end - c->pos;
}

static inline bool ilheap__cursor_skip(ilheap__cursor_t *c, size_t n)
{
    if (n > c->end - c->pos)
        return false;
    c->pos += n;
    return true;
}

/* A cursor over the next `size` bytes, or over [pos + offset, + size); the
 * parent does not move. */
static inline bool ilheap__cursor_sub(const ilheap__cursor_t *c, size_t offset, size_t size,
                                      ilheap__cursor_t *out)
{
    size_t left = c->end - c->pos;
    if (offset > left || size > left - offset)
        return false;
    out->file = c->file;
    out->pos = c->pos + offset;
    out->end = out->pos + size;
    return true;
}

static inline const uint8_t *ilheap__cursor_ptr(const ilheap__cursor_t *c)
{
    return c->file + c->pos;
}

static inline bool ilheap__read_u8(ilheap__cursor_t *c, uint8_t *out)
{
    if (c->pos == c->end)
        return false;
    *out = c->file[c->pos++];
    return true;
}

static inline bool ilheap__read_u16(ilheap__cursor_t *c, uint16_t *out)
{
    if (2 > c->end - c->pos)
        return false;
    *out = ilheap__le16(c->file + c->pos);
    c->pos += 2;
    return true;
}

static inline bool ilheap__read_u32(ilheap__cursor_t *c, uint32_t *out)
{
    if (4 > c->end - c->pos)
        return false;
    *out = ilheap__le32(c->file + c->pos);
    c->pos += 4;
    return true;
}

static inline bool ilheap__read_u64(ilheap__cursor_t *c, uint64_t *out)
{
    if (8 > c->end - c->pos)
        return false;
    *out = ilheap__le64(c->file + c->pos);
    c->pos += 8;
    return true;
}

/* ECMA-335 II.23.2 compressed unsigned integers: 1 byte (0xxxxxxx) up to
 * 0x7F, 2 bytes (10xxxxxx) up to 0x3FFF, 4 bytes (110xxxxx) up to
 * 0x1FFFFFFF, big-endian. */
#define ILHEAP__COMPRESSED_MAX 0x1FFFFFFFu

/* The bytes the shortest encoding of v takes (v <= ILHEAP__COMPRESSED_MAX). */
static inline size_t ilheap__compressed_size(uint32_t v)
{
    return v < 0x80 ? 1 : v < 0x4000 ? 2 : 4;
}

/* Decodes the integer at p[0..avail): its length (1, 2 or 4), or 0 when the
 * first byte is 111xxxxx or the bytes are cut short (*out untouched). A value
 * in a longer form than it needs (0x80 0x05 for 5) decodes, as the runtime
 * reads it; compare the length with ilheap__compressed_size to notice. */
static inline size_t ilheap__decode_compressed(const uint8_t *p, size_t avail, uint32_t *out)
{
    if (avail == 0)
        return 0;
    if ((p[0] & 0x80) == 0) {
        *out = p[0];
        return 1;
    }
    if ((p[0] & 0xC0) == 0x80) {
        if (avail < 2)
            return 0;
        *out = (uint32_t)(p[0] & 0x3F) << 8 | p[1];
        return 2;
    }
    if ((p[0] & 0xE0) == 0xC0 && avail >= 4) {
        *out = (uint32_t)(p[0] & 0x1F) << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
        return 4;
    }
    return 0;
}

/* Writes u (below 2^7, 2^14 or 2^29) in exactly n = 1, 2 or 4 bytes. */
static inline size_t ilheap__put_compressed(uint32_t u, size_t n, uint8_t out[4])
{
    if (n == 1) {
        out[0] = (uint8_t)u;
    } else if (n == 2) {
        out[0] = (uint8_t)(0x80 | u >> 8);
        out[1] = (uint8_t)u;
    } else {
        out[0] = (uint8_t)(0xC0 | u >> 24);
        out[1] = (uint8_t)(u >> 16);
        out[2] = (uint8_t)(u >> 8);
        out[3] = (uint8_t)u;
    }
    return n;
}

/* Writes the shortest encoding of v to out[0..4): its length, or 0 when v is
 * past ILHEAP__COMPRESSED_MAX (nothing written). */
static inline size_t ilheap__encode_compressed(uint32_t v, uint8_t out[4])
{
    if (v > ILHEAP__COMPRESSED_MAX)
        return 0;
    return ilheap__put_compressed(v, ilheap__compressed_size(v), out);
}

/* II.23.2 compressed signed integers: the value's two's complement in 7, 14
 * or 29 bits, rotated left by one (the sign bit lands in bit 0), then encoded
 * as an unsigned integer of that length. Ranges: -2^6..2^6-1, -2^13..2^13-1,
 * -2^28..2^28-1. */
#define ILHEAP__COMPRESSED_SIGNED_MIN (-0x10000000)
#define ILHEAP__COMPRESSED_SIGNED_MAX 0x0FFFFFFF

static inline size_t ilheap__decode_compressed_signed(const uint8_t *p, size_t avail, int32_t *out)
{
    uint32_t u;
    size_t n = ilheap__decode_compressed(p, avail, &u);
    if (n == 0)
        return 0;
    unsigned bits = n == 1 ? 7 : n == 2 ? 14 : 29;
    int32_t magnitude = (int32_t)(u >> 1);
    *out = (u & 1) ? magnitude - (int32_t)(1u << (bits - 1)) : magnitude;
    return n;
}

/* Its length, or 0 when v is outside the 29-bit range (nothing written).
 * The length follows from v's range, not from the rotated pattern: -8192
 * rotates to 1 in 14 bits and must still take 2 bytes. */
static inline size_t ilheap__encode_compressed_signed(int32_t v, uint8_t out[4])
{
    if (v < ILHEAP__COMPRESSED_SIGNED_MIN || v > ILHEAP__COMPRESSED_SIGNED_MAX)
        return 0;
    size_t n = v >= -0x40 && v < 0x40 ? 1 : v >= -0x2000 && v < 0x2000 ? 2 : 4;
    unsigned bits = n == 1 ? 7 : n == 2 ? 14 : 29;
    uint32_t u = ((uint32_t)v << 1 | (v < 0 ? 1u : 0u)) & ((1u << bits) - 1);
    return ilheap__put_compressed(u, n, out);
}

/* The cursor forms: read at the cursor and move past; false (the cursor
 * unmoved) when malformed or cut short. */
static inline bool ilheap__read_compressed(ilheap__cursor_t *c, uint32_t *out)
{
    size_t n = ilheap__decode_compressed(c->file + c->pos, c->end - c->pos, out);
    c->pos += n;
    return n != 0;
}

static inline bool ilheap__read_compressed_signed(ilheap__cursor_t *c, int32_t *out)
{
    size_t n = ilheap__decode_compressed_signed(c->file + c->pos, c->end - c->pos, out);
    c->pos += n;
    return n != 0;
}

/* II.23.2.8 TypeDefOrRefOrSpecEncoded: a TypeDef, TypeRef or TypeSpec token
 * as (rid << 2 | tag), tag 0 TypeDef, 1 TypeRef, 2 TypeSpec; tag 3 is not a
 * table. False for tag 3, rid 0, or a rid past a token's 24 bits (*token
 * untouched). */
static inline bool ilheap__decode_type_token(uint32_t coded, uint32_t *token)
{
    static const uint32_t tables[3] = {0x02000000u, 0x01000000u, 0x1B000000u};
    if ((coded & 3) == 3 || coded >> 2 == 0 || coded >> 2 > 0x00FFFFFFu)
        return false;
    *token = tables[coded & 3] | coded >> 2;
    return true;
}

/* The coded form of a TypeDef, TypeRef or TypeSpec token; false for another
 * table or rid 0. */
static inline bool ilheap__encode_type_token(uint32_t token, uint32_t *coded)
{
    uint32_t rid = token & 0x00FFFFFFu, tag;
    switch (token >> 24) {
    case 0x02: tag = 0; break;
    case 0x01: tag = 1; break;
    case 0x1B: tag = 2; break;
    default: return false;
    }
    if (rid == 0)
        return false;
    *coded = rid << 2 | tag;
    return true;
}

/* Code point `c` (at most 0x10FFFF, not a surrogate: the caller has checked)
 * as UTF-8 into o, which has room for 4 bytes; the bytes written. The one
 * UTF-8 encoder: JSON string escapes (Source Link, the counts file) and
 * UTF-16 names (ilheap_pe_utf16_to_utf8) go through it. */
static inline size_t ilheap__utf8_put(char *o, uint32_t c)
{
    if (c < 0x80) {
        o[0] = (char)c;
        return 1;
    }
    if (c < 0x800) {
        o[0] = (char)(0xC0 | c >> 6);
        o[1] = (char)(0x80 | (c & 0x3F));
        return 2;
    }
    if (c < 0x10000) {
        o[0] = (char)(0xE0 | c >> 12);
        o[1] = (char)(0x80 | (c >> 6 & 0x3F));
        o[2] = (char)(0x80 | (c & 0x3F));
        return 3;
    }
    o[0] = (char)(0xF0 | c >> 18);
    o[1] = (char)(0x80 | (c >> 12 & 0x3F));
    o[2] = (char)(0x80 | (c >> 6 & 0x3F));
    o[3] = (char)(0x80 | (c & 0x3F));
    return 4;
}

/* A GUID as text, lowercase 8-4-4-4-12 ("%08x-%04x-..."), from its 16 bytes
 * as stored (#GUID, a GUID struct in memory on a little-endian machine: the
 * first three fields little-endian, the last eight bytes in order). */
static const uint8_t ilheap__guid_text_order[16] = {3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15};

static inline void ilheap__guid_text(const uint8_t g[16], char out[37])
{
    static const char hex[] = "0123456789abcdef";
    const uint8_t *order = ilheap__guid_text_order;
    size_t k = 0;
    for (unsigned i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            out[k++] = '-';
        out[k++] = hex[g[order[i]] >> 4];
        out[k++] = hex[g[order[i]] & 15];
    }
    out[k] = '\0';
}

#endif
