/* Encoding a method body, optionally changed by an edit (ECMA-335 II.25.4).
 *
 * One planning step decides every format and the exact size and checks every
 * value against its field; writing then cannot fail. The size query and the
 * write share the plan, so the size the caller allocates is the size written.
 */
#include <string.h>

#include "il/il_internal.h"
#include "status_internal.h"

typedef struct sect_plan {
    uint8_t fat;
    uint16_t reserved;
    uint32_t data_size;
    uint32_t first, count; /* clauses [first, first + count) */
} sect_plan_t;

typedef struct plan {
    /* What to write. The code is prologue then code; clause offsets move by shift. */
    const uint8_t *prologue, *code;
    size_t prologue_size, code_size;
    const ilheap_il_clause_t *clauses;
    uint32_t clause_count;
    uint32_t total_code;
    uint32_t shift;
    uint32_t local_sig;
    uint16_t max_stack;
    uint8_t init_locals;
    /* How. */
    uint8_t fat;
    uint32_t section_count;
    sect_plan_t sect[ILHEAP_IL_MAX_SECTIONS];
    size_t sections_offset; /* 4-aligned offset of the first section */
    size_t size;
} plan_t;

/* II.25.4.6: a clause may be small when both offsets fit 16 bits and both
 * lengths 8 bits (the filter offset is 32 bits in both formats). The clause
 * count is checked by the callers. */
static int clauses_fit_small(const plan_t *pl, uint32_t first, uint32_t count)
{
    for (uint32_t i = first; i < first + count; i++) {
        const ilheap_il_clause_t *c = &pl->clauses[i];
        if ((uint64_t)c->try_offset + pl->shift > 0xFFFFu || c->try_length > 0xFFu ||
            (uint64_t)c->handler_offset + pl->shift > 0xFFFFu || c->handler_length > 0xFFu)
            return 0;
    }
    return 1;
}

static uint32_t exact_data_size(int fat, uint32_t count)
{
    return count * (fat ? IL_FAT_CLAUSE_SIZE : IL_SMALL_CLAUSE_SIZE) + IL_SECT_HEADER_SIZE;
}

/* Keeps the decoded sections' formats where they still hold their clauses. */
static ilheap_status_t plan_preserved_sections(plan_t *pl, const ilheap_il_body_t *body)
{
    uint32_t first = 0;
    for (uint32_t i = 0; i < body->section_count; i++) {
        const ilheap_il_section_t *rec = &body->sections[i];
        sect_plan_t *s = &pl->sect[i];
        s->first = first;
        s->count = rec->clause_count;
        first += rec->clause_count;
        /* A small section holds 20 clauses at an exact DataSize; a recorded
         * inexact DataSize up to 255 reads as 21 (255 / 12), and is kept. */
        int raw_small = !rec->fat && rec->data_size <= IL_SMALL_MAX_DATA_SIZE &&
                        rec->data_size / IL_SMALL_CLAUSE_SIZE == s->count;
        s->fat = rec->fat || !(s->count <= ILHEAP_IL_SMALL_MAX_CLAUSES || raw_small) ||
                 !clauses_fit_small(pl, s->first, s->count);
        if (s->fat && s->count > ILHEAP_IL_FAT_MAX_CLAUSES)
            return ilheap__fail(ILHEAP_IL_OVERFLOW, "section %u: %u clauses, a fat section holds %u",
                                i, s->count, ILHEAP_IL_FAT_MAX_CLAUSES);
        /* Keep an inexact DataSize only while it still reads as the same count
         * in the same format and fits its field; else write the exact one. */
        uint32_t cs = s->fat ? IL_FAT_CLAUSE_SIZE : IL_SMALL_CLAUSE_SIZE;
        uint32_t max = s->fat ? IL_FAT_MAX_DATA_SIZE : IL_SMALL_MAX_DATA_SIZE;
        int same = s->fat == rec->fat;
        s->data_size = same && rec->data_size <= max && rec->data_size / cs == s->count
                           ? rec->data_size
                           : exact_data_size(s->fat, s->count);
        s->reserved = same && !s->fat ? rec->reserved : 0;
    }
    pl->section_count = body->section_count;
    return ILHEAP_OK;
}

/* The smallest legal EH: one section, small when every clause fits. */
static ilheap_status_t plan_compact_sections(plan_t *pl)
{
    if (pl->clause_count == 0)
        return ILHEAP_OK;
    sect_plan_t *s = &pl->sect[0];
    s->first = 0;
    s->count = pl->clause_count;
    s->fat = pl->clause_count > ILHEAP_IL_SMALL_MAX_CLAUSES ||
             !clauses_fit_small(pl, 0, pl->clause_count);
    if (s->fat && s->count > ILHEAP_IL_FAT_MAX_CLAUSES)
        return ilheap__fail(ILHEAP_IL_OVERFLOW,
                            "%u clauses; one fat EH section holds at most %u (DataSize is 24 bits)",
                            s->count, ILHEAP_IL_FAT_MAX_CLAUSES);
    s->data_size = exact_data_size(s->fat, s->count);
    s->reserved = 0;
    pl->section_count = 1;
    return ILHEAP_OK;
}

static int recorded_sections_match(const ilheap_il_body_t *body, uint32_t clause_count)
{
    if (body->section_count == 0 || body->section_count > ILHEAP_IL_MAX_SECTIONS)
        return 0;
    uint64_t sum = 0;
    for (uint32_t i = 0; i < body->section_count; i++)
        sum += body->sections[i].clause_count;
    return sum == clause_count;
}

/* The code, clauses and header fields the edit gives, checked against
 * their fields (II.25.4.3): never wrapped. */
static ilheap_status_t plan_fields(const ilheap_il_body_t *body, const ilheap_il_edit_t *edit, plan_t *pl)
{
    uint32_t what = edit->what;
    pl->code = what & ILHEAP_IL_EDIT_CODE ? edit->code : body->code;
    pl->code_size = what & ILHEAP_IL_EDIT_CODE ? edit->code_size : body->code_size;
    pl->clauses = what & ILHEAP_IL_EDIT_CLAUSES ? edit->clauses : body->clauses;
    size_t clause_count = what & ILHEAP_IL_EDIT_CLAUSES ? edit->clause_count : body->clause_count;
    pl->prologue = edit->prologue;
    pl->prologue_size = edit->prologue_size;
    if ((pl->code == NULL && pl->code_size) || (pl->clauses == NULL && clause_count) ||
        (pl->prologue == NULL && pl->prologue_size))
        return ilheap__fail(ILHEAP_EINVAL, "NULL %s with a non-zero size",
                            pl->code == NULL && pl->code_size  ? "code"
                            : pl->clauses == NULL && clause_count ? "clauses"
                                                                  : "prologue");
    uint64_t code_size = pl->code_size, prologue_size = pl->prologue_size; /* 64-bit on any size_t */
    if (code_size > UINT32_MAX || prologue_size > UINT32_MAX - code_size)
        return ilheap__fail(ILHEAP_IL_OVERFLOW, "code %zu + prologue %zu bytes > 4 GiB - 1",
                            pl->code_size, pl->prologue_size);
    pl->total_code = (uint32_t)(pl->code_size + pl->prologue_size);
    pl->shift = (uint32_t)pl->prologue_size;
    uint64_t max_stack = what & ILHEAP_IL_EDIT_MAX_STACK ? edit->max_stack : body->max_stack;
    max_stack += edit->extra_stack;
    if (max_stack > 0xFFFFu)
        return ilheap__fail(ILHEAP_IL_OVERFLOW, "max stack %llu > 65535",
                            (unsigned long long)max_stack);
    pl->max_stack = (uint16_t)max_stack;
    if (clause_count > (size_t)ILHEAP_IL_FAT_MAX_CLAUSES * ILHEAP_IL_MAX_SECTIONS)
        return ilheap__fail(ILHEAP_IL_OVERFLOW, "%zu clauses", clause_count);
    pl->clause_count = (uint32_t)clause_count;
    for (uint32_t i = 0; i < pl->clause_count; i++) {
        ilheap_status_t st = ilheap__il_check_clause(&pl->clauses[i], pl->shift, pl->total_code, i);
        if (st != ILHEAP_OK)
            return st;
    }
    pl->local_sig = what & ILHEAP_IL_EDIT_LOCAL_SIG ? edit->local_sig : body->local_sig;
    pl->init_locals = (what & ILHEAP_IL_EDIT_INIT_LOCALS ? edit->init_locals : body->init_locals) != 0;
    return ILHEAP_OK;
}

/* The body's size: header, code, and the sections at the next 4-byte
 * boundary (II.25.4.5). */
static ilheap_status_t plan_size(plan_t *pl)
{
    size_t size = (pl->fat ? IL_FAT_HEADER_SIZE : 1u) + (size_t)pl->total_code;
    if (size < pl->total_code)
        return ilheap__fail(ILHEAP_IL_OVERFLOW, "body size past the address space");
    if (pl->section_count) {
        if (size > SIZE_MAX - 3)
            return ilheap__fail(ILHEAP_IL_OVERFLOW, "body size past the address space");
        size = (size + 3) & ~(size_t)3;
        pl->sections_offset = size;
        for (uint32_t i = 0; i < pl->section_count; i++) {
            size_t bytes = IL_SECT_HEADER_SIZE + (size_t)pl->sect[i].count *
                                                     (pl->sect[i].fat ? IL_FAT_CLAUSE_SIZE
                                                                      : IL_SMALL_CLAUSE_SIZE);
            if (bytes > SIZE_MAX - size)
                return ilheap__fail(ILHEAP_IL_OVERFLOW, "body size past the address space");
            size += bytes;
        }
    }
    pl->size = size;
    return ILHEAP_OK;
}

static ilheap_status_t make_plan(const ilheap_il_body_t *body, const ilheap_il_edit_t *edit,
                                 ilheap_il_mode_t mode, plan_t *pl)
{
    static const ilheap_il_edit_t no_edit;
    if (body == NULL)
        return ilheap__fail(ILHEAP_EINVAL, "NULL body");
    if (mode != ILHEAP_IL_COMPACT && mode != ILHEAP_IL_PRESERVE)
        return ilheap__fail(ILHEAP_EINVAL, "unknown mode %d", (int)mode);
    if (edit == NULL)
        edit = &no_edit;
    memset(pl, 0, sizeof *pl);
    ilheap_status_t st = plan_fields(body, edit, pl);
    if (st != ILHEAP_OK)
        return st;

    /* Sections first: recorded (even empty) sections force a fat header. */
    int keep_sections = mode == ILHEAP_IL_PRESERVE && !(edit->what & ILHEAP_IL_EDIT_CLAUSES) &&
                        recorded_sections_match(body, pl->clause_count);
    st = keep_sections ? plan_preserved_sections(pl, body) : plan_compact_sections(pl);
    if (st != ILHEAP_OK)
        return st;

    /* II.25.4.2: tiny only for code < 64 bytes, max stack <= 8, no locals,
     * no sections (and no InitLocals flag to lose). */
    int tiny_legal = pl->total_code <= ILHEAP_IL_TINY_MAX_CODE &&
                     pl->max_stack <= ILHEAP_IL_TINY_MAX_STACK && pl->local_sig == 0 &&
                     !pl->init_locals && pl->section_count == 0;
    pl->fat = !(tiny_legal && (mode == ILHEAP_IL_COMPACT || body->header == ILHEAP_IL_TINY));
    return plan_size(pl);
}

static uint8_t *write_clause(uint8_t *q, const ilheap_il_clause_t *c, uint32_t shift, int fat)
{
    uint32_t filter_or_class = c->filter_or_class + (c->kind == ILHEAP_IL_FILTER ? shift : 0);
    if (fat) {
        il_wr32(q, c->kind);
        il_wr32(q + 4, c->try_offset + shift);
        il_wr32(q + 8, c->try_length);
        il_wr32(q + 12, c->handler_offset + shift);
        il_wr32(q + 16, c->handler_length);
        il_wr32(q + 20, filter_or_class);
        return q + IL_FAT_CLAUSE_SIZE;
    }
    il_wr16(q, c->kind);
    il_wr16(q + 2, c->try_offset + shift);
    q[4] = (uint8_t)c->try_length;
    il_wr16(q + 5, c->handler_offset + shift);
    q[7] = (uint8_t)c->handler_length;
    il_wr32(q + 8, filter_or_class);
    return q + IL_SMALL_CLAUSE_SIZE;
}

static void write_plan(const plan_t *pl, uint8_t *dst)
{
    uint8_t *q = dst;
    if (pl->fat) {
        uint32_t flags = IL_FAT_FORMAT | (pl->section_count ? IL_FLAG_MORE_SECTS : 0) |
                         (pl->init_locals ? IL_FLAG_INIT_LOCALS : 0);
        il_wr16(q, flags | IL_FAT_HEADER_DWORDS << 12);
        il_wr16(q + 2, pl->max_stack);
        il_wr32(q + 4, pl->total_code);
        il_wr32(q + 8, pl->local_sig);
        q += IL_FAT_HEADER_SIZE;
    } else {
        *q++ = (uint8_t)(IL_TINY_FORMAT | pl->total_code << 2);
    }
    if (pl->prologue_size)
        memcpy(q, pl->prologue, pl->prologue_size);
    q += pl->prologue_size;
    if (pl->code_size)
        memcpy(q, pl->code, pl->code_size);
    q += pl->code_size;
    if (pl->section_count == 0)
        return;
    while (q < dst + pl->sections_offset)
        *q++ = 0;
    for (uint32_t i = 0; i < pl->section_count; i++) {
        const sect_plan_t *s = &pl->sect[i];
        q[0] = (uint8_t)(IL_SECT_EH_TABLE | (s->fat ? IL_SECT_FAT_FORMAT : 0) |
                         (i + 1 < pl->section_count ? IL_SECT_MORE_SECTS : 0));
        if (s->fat) {
            il_wr24(q + 1, s->data_size);
        } else {
            q[1] = (uint8_t)s->data_size;
            il_wr16(q + 2, s->reserved);
        }
        q += IL_SECT_HEADER_SIZE;
        for (uint32_t j = s->first; j < s->first + s->count; j++)
            q = write_clause(q, &pl->clauses[j], pl->shift, s->fat);
    }
}

ilheap_status_t ilheap_il_rewrite(const ilheap_il_body_t *body, const ilheap_il_edit_t *edit,
                                  ilheap_il_mode_t mode, void *dst, size_t cap, size_t *size)
{
    plan_t pl = {0}; /* -O3 cannot see make_plan set every field it returns OK with */
    if (size == NULL)
        return ilheap__fail(ILHEAP_EINVAL, "NULL size");
    ilheap_status_t st = make_plan(body, edit, mode, &pl);
    if (st != ILHEAP_OK)
        return st;
    *size = pl.size;
    if (dst == NULL)
        return ILHEAP_OK;
    if (pl.size > cap)
        return ilheap__fail(ILHEAP_IL_DEST_TOO_SMALL, "%zu bytes needed, %zu given", pl.size, cap);
    /* II.25.4.3: a fat header is 4-byte aligned, and the runtime aligns the
     * sections on the address; both hold only when dst is aligned. */
    if (pl.fat && ((uintptr_t)dst & 3))
        return ilheap__fail(ILHEAP_IL_MISALIGNED, "fat body at %p", dst);
    write_plan(&pl, dst);
    return ILHEAP_OK;
}

ilheap_status_t ilheap_il_encode(const ilheap_il_body_t *body, ilheap_il_mode_t mode, void *dst,
                                 size_t cap, size_t *size)
{
    return ilheap_il_rewrite(body, NULL, mode, dst, cap, size);
}

ilheap_status_t ilheap_il_encoded_size(const ilheap_il_body_t *body, ilheap_il_mode_t mode,
                                       size_t *size)
{
    return ilheap_il_rewrite(body, NULL, mode, NULL, 0, size);
}
