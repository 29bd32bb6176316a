/* Decoding and validating a method body from a bounded buffer (ECMA-335
 * II.25.4). Every read is preceded by a check of the bytes left, written as a
 * subtraction so that it cannot overflow; nothing past p[avail - 1] is read. */
#include <string.h>

#include "il/il_internal.h"
#include "status_internal.h"

/* Reads the clauses of one EH section (II.25.4.6) at q, storing those that
 * fit in clauses[stored .. cap). */
static ilheap_status_t decode_clauses(const uint8_t *body, size_t q, int fat, uint32_t count,
                                      uint32_t code_size, ilheap_il_clause_t *clauses,
                                      size_t cap, size_t first, size_t *err_off)
{
    const size_t clause_size = fat ? IL_FAT_CLAUSE_SIZE : IL_SMALL_CLAUSE_SIZE;
    for (uint32_t i = 0; i < count; i++, q += clause_size) {
        const uint8_t *c = body + q;
        ilheap_il_clause_t cl;
        if (fat) {
            cl.kind = il_rd32(c);
            cl.try_offset = il_rd32(c + 4);
            cl.try_length = il_rd32(c + 8);
            cl.handler_offset = il_rd32(c + 12);
            cl.handler_length = il_rd32(c + 16);
            cl.filter_or_class = il_rd32(c + 20);
        } else {
            cl.kind = il_rd16(c);
            cl.try_offset = il_rd16(c + 2);
            cl.try_length = c[4];
            cl.handler_offset = il_rd16(c + 5);
            cl.handler_length = c[7];
            cl.filter_or_class = il_rd32(c + 8);
        }
        ilheap_status_t st = ilheap__il_check_clause(&cl, 0, code_size, first + i);
        if (st != ILHEAP_OK) {
            *err_off = q;
            return st;
        }
        if (first + i < cap)
            clauses[first + i] = cl;
    }
    return ILHEAP_OK;
}

/* Reads the chain of data sections that starts after the code at offset off
 * (II.25.4.5). Sections are aligned to 4 counted from the body's first byte:
 * see the alignment assumption in il.h. */
static ilheap_status_t decode_sections(const uint8_t *b, size_t avail, size_t off,
                                       ilheap_il_body_t *body, ilheap_il_clause_t *clauses,
                                       size_t cap, size_t *err_off)
{
    size_t total = 0;
    int more = 1;
    while (more) {
        size_t pad = (4 - (off & 3)) & 3;
        if (pad > avail - off) {
            *err_off = off;
            return ilheap__fail(ILHEAP_IL_TRUNCATED_SECTION,
                                "section %u: alignment padding at offset %zu past %zu bytes",
                                body->section_count, off, avail);
        }
        for (size_t i = 0; i < pad; i++)
            if (b[off + i] != 0)
                body->quirks |= ILHEAP_IL_QUIRK_PADDING_NONZERO;
        off += pad;
        if (IL_SECT_HEADER_SIZE > avail - off) {
            *err_off = off;
            return ilheap__fail(ILHEAP_IL_TRUNCATED_SECTION,
                                "section %u: 4-byte header at offset %zu, %zu bytes available",
                                body->section_count, off, avail);
        }
        uint8_t kind = b[off];
        if ((kind & IL_SECT_KIND_MASK) != IL_SECT_EH_TABLE) {
            *err_off = off;
            return ilheap__fail(ILHEAP_IL_SECTION_KIND,
                                "section %u at offset %zu: kind byte %#x (only EHTable 0x01 "
                                "is defined; OptILTable 0x02 is reserved, II.25.4.5)",
                                body->section_count, off, kind);
        }
        if (body->section_count == ILHEAP_IL_MAX_SECTIONS) {
            *err_off = off;
            return ilheap__fail(ILHEAP_IL_TOO_MANY_SECTIONS, "section %u at offset %zu; limit %u",
                                body->section_count, off, ILHEAP_IL_MAX_SECTIONS);
        }
        int fat = (kind & IL_SECT_FAT_FORMAT) != 0;
        uint32_t data_size = fat ? il_rd24(b + off + 1) : b[off + 1];
        uint32_t clause_size = fat ? IL_FAT_CLAUSE_SIZE : IL_SMALL_CLAUSE_SIZE;
        /* The runtime's reading: DataSize / clause size, floor (corhlpr.h). */
        uint32_t count = data_size / clause_size;
        if (data_size != count * clause_size + IL_SECT_HEADER_SIZE)
            body->quirks |= ILHEAP_IL_QUIRK_DATASIZE_INEXACT;
        size_t bytes = (size_t)count * clause_size;
        if (bytes > avail - off - IL_SECT_HEADER_SIZE) {
            *err_off = off + 1;
            return ilheap__fail(ILHEAP_IL_SECTION_PAST_BUFFER,
                                "section %u at offset %zu: DataSize %u = %u %s clauses, "
                                "%zu bytes, only %zu available",
                                body->section_count, off, data_size, count,
                                fat ? "fat" : "small", bytes, avail - off - IL_SECT_HEADER_SIZE);
        }
        ilheap_status_t st = decode_clauses(b, off + IL_SECT_HEADER_SIZE, fat, count,
                                            body->code_size, clauses, cap, total, err_off);
        if (st != ILHEAP_OK)
            return st;
        ilheap_il_section_t *s = &body->sections[body->section_count++];
        s->fat = (uint8_t)fat;
        s->reserved = fat ? 0 : il_rd16(b + off + 2);
        s->data_size = data_size;
        s->clause_count = count;
        s->offset = (uint32_t)off;
        total += count;
        /* The next section follows the clauses read, not DataSize (the
         * runtime's COR_ILMETHOD_SECT::Next rounds an EH DataSize the same way). */
        off += IL_SECT_HEADER_SIZE + bytes;
        more = (kind & IL_SECT_MORE_SECTS) != 0;
    }
    if (body->section_count > 1)
        body->quirks |= ILHEAP_IL_QUIRK_MANY_SECTIONS;
    body->clause_count = (uint32_t)total;
    body->body_size = off;
    return ILHEAP_OK;
}

static ilheap_status_t decode_body(const uint8_t *b, size_t avail, ilheap_il_body_t *body,
                                   ilheap_il_clause_t *clauses, size_t cap, size_t *err_off)
{
    *err_off = 0;
    if (avail < 1)
        return ilheap__fail(ILHEAP_IL_TRUNCATED_HEADER, "0 bytes available");
    uint32_t format = b[0] & IL_FORMAT_MASK;
    if (format == IL_TINY_FORMAT) { /* II.25.4.2 */
        body->header = ILHEAP_IL_TINY;
        body->header_size = 1;
        body->max_stack = ILHEAP_IL_TINY_MAX_STACK;
        body->code_size = b[0] >> 2;
        body->code = b + 1;
        if (body->code_size > avail - 1) {
            *err_off = 1;
            return ilheap__fail(ILHEAP_IL_TRUNCATED_CODE, "tiny body: %u bytes of code, %zu available",
                                body->code_size, avail - 1);
        }
        body->body_size = 1 + (size_t)body->code_size;
        return ILHEAP_OK;
    }
    if (format != IL_FAT_FORMAT)
        return ilheap__fail(ILHEAP_IL_UNKNOWN_FORMAT, "first byte %#x: low bits %u (tiny is 2, fat 3)",
                            b[0], format);
    /* II.25.4.3 fat header. */
    if (avail < IL_FAT_HEADER_SIZE)
        return ilheap__fail(ILHEAP_IL_TRUNCATED_HEADER, "fat header needs 12 bytes, %zu available",
                            avail);
    uint32_t word = il_rd16(b);
    uint32_t flags = word & 0xFFFu;
    if (flags & ~IL_FAT_KNOWN_FLAGS)
        return ilheap__fail(ILHEAP_IL_UNKNOWN_FLAGS, "flags %#x, unknown bits %#x", flags,
                            flags & ~IL_FAT_KNOWN_FLAGS);
    if (word >> 12 != IL_FAT_HEADER_DWORDS) {
        *err_off = 1;
        return ilheap__fail(ILHEAP_IL_FAT_HEADER_SIZE, "Size field %u", word >> 12);
    }
    body->header = ILHEAP_IL_FAT;
    body->header_size = IL_FAT_HEADER_SIZE;
    body->init_locals = (flags & IL_FLAG_INIT_LOCALS) != 0;
    body->max_stack = il_rd16(b + 2);
    body->code_size = il_rd32(b + 4);
    body->local_sig = il_rd32(b + 8);
    body->code = b + IL_FAT_HEADER_SIZE;
    if (body->code_size > avail - IL_FAT_HEADER_SIZE) {
        *err_off = IL_FAT_HEADER_SIZE;
        return ilheap__fail(ILHEAP_IL_TRUNCATED_CODE, "fat body: %u bytes of code, %zu available",
                            body->code_size, avail - IL_FAT_HEADER_SIZE);
    }
    size_t end = IL_FAT_HEADER_SIZE + (size_t)body->code_size;
    if (!(flags & IL_FLAG_MORE_SECTS)) {
        body->body_size = end;
        return ILHEAP_OK;
    }
    return decode_sections(b, avail, end, body, clauses, cap, err_off);
}

/* The two common shapes (most bodies are one of them): a whole tiny body
 * (II.25.4.2), or a whole fat body with no flags but FatFormat and
 * InitLocals, Size 3 and no sections (II.25.4.3). Makes exactly the checks
 * decode_body makes for them and fills every field the same way; returns 0
 * (body untouched) for anything else. */
static inline int decode_plain(const uint8_t *b, size_t avail, ilheap_il_body_t *body)
{
    uint32_t code_size, header_size;
    if (avail != 0 && (b[0] & IL_FORMAT_MASK) == IL_TINY_FORMAT) {
        code_size = b[0] >> 2;
        header_size = 1;
        if (code_size > avail - 1)
            return 0;
        body->header = ILHEAP_IL_TINY;
        body->init_locals = 0;
        body->max_stack = ILHEAP_IL_TINY_MAX_STACK;
        body->local_sig = 0;
    } else if (avail >= IL_FAT_HEADER_SIZE) {
        uint32_t word = il_rd16(b);
        code_size = il_rd32(b + 4);
        header_size = IL_FAT_HEADER_SIZE;
        /* Size 3 << 12 | FatFormat 0x3, optionally InitLocals 0x10; no MoreSects. */
        if ((word & ~IL_FLAG_INIT_LOCALS) != (IL_FAT_HEADER_DWORDS << 12 | IL_FAT_FORMAT) ||
            code_size > avail - IL_FAT_HEADER_SIZE)
            return 0;
        body->header = ILHEAP_IL_FAT;
        body->init_locals = (word & IL_FLAG_INIT_LOCALS) != 0;
        body->max_stack = il_rd16(b + 2);
        body->local_sig = il_rd32(b + 8);
    } else {
        return 0;
    }
    body->code_size = code_size;
    body->code = b + header_size;
    body->clause_count = 0;
    body->clauses = NULL;
    body->section_count = 0;
    body->quirks = 0;
    body->header_size = header_size;
    body->body_size = (size_t)header_size + code_size;
    body->error_offset = 0;
    return 1;
}

/* Every field except sections[]: entries past section_count are not read by
 * anyone (the encoder and the checks stop at section_count), and clearing all
 * 8 of them (128 bytes) cost as much as decoding a tiny body. */
static void clear_fields(ilheap_il_body_t *body)
{
    body->header = 0;
    body->init_locals = 0;
    body->max_stack = 0;
    body->code_size = 0;
    body->code = NULL;
    body->local_sig = 0;
    body->clause_count = 0;
    body->clauses = NULL;
    body->section_count = 0;
    body->quirks = 0;
    body->header_size = 0;
    body->body_size = 0;
    body->error_offset = 0;
}

/* Everything but the two common shapes: sections (EH), and every error. Kept
 * out of line so that ilheap_il_decode stays a leaf function without a stack
 * frame for them. */
#if defined(__GNUC__)
__attribute__((noinline))
#endif
static ilheap_status_t decode_general(const uint8_t *b, size_t avail, ilheap_il_body_t *body,
                                      ilheap_il_clause_t *clauses, size_t clause_cap)
{
    clear_fields(body);
    size_t err_off;
    ilheap_status_t st = decode_body(b, avail, body, clauses, clause_cap, &err_off);
    if (st != ILHEAP_OK) {
        memset(body, 0, sizeof *body);
        body->error_offset = err_off;
        return st;
    }
    if (body->clause_count > clause_cap)
        return ilheap__fail(ILHEAP_IL_CLAUSE_SPACE, "%u clauses, room for %zu",
                            body->clause_count, clause_cap);
    body->clauses = body->clause_count ? clauses : NULL;
    return ILHEAP_OK;
}

ilheap_status_t ilheap_il_decode(const void *p, size_t avail, ilheap_il_body_t *body,
                                 ilheap_il_clause_t *clauses, size_t clause_cap)
{
    if (body == NULL)
        return ilheap__fail(ILHEAP_EINVAL, "NULL body");
    if (p == NULL || (clauses == NULL && clause_cap != 0)) {
        memset(body, 0, sizeof *body);
        return ilheap__fail(ILHEAP_EINVAL, "NULL %s", p == NULL ? "input" : "clause array");
    }
    /* The common shapes first, with the same checks decode_body makes;
     * anything else, and every error, takes the general path. */
    if (decode_plain(p, avail, body))
        return ILHEAP_OK;
    return decode_general(p, avail, body, clauses, clause_cap);
}

ilheap_status_t ilheap_il_decode_inline(const void *p, size_t avail, ilheap_il_body_t *body,
                                        ilheap_il_clause_t *clauses, size_t clause_cap)
{
    return ilheap_il_decode(p, avail, body, clauses, clause_cap);
}
