/* A bounds-checked little-endian cursor over untrusted bytes, and checked
 * arithmetic: the only way the PE reader touches file data.
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

#endif
