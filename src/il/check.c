/* Clause validation shared by decode and encode, and the comparison of a
 * rewritten body with its original. */
#include <stdio.h>
#include <string.h>

#include "il/il_internal.h"
#include "status_internal.h"

const char *ilheap_il_clause_kind_name(uint32_t kind)
{
    switch (kind) {
    case ILHEAP_IL_CATCH:
        return "catch";
    case ILHEAP_IL_FILTER:
        return "filter";
    case ILHEAP_IL_FINALLY:
        return "finally";
    case ILHEAP_IL_FAULT:
        return "fault";
    }
    return NULL;
}

/* One range [offset + shift, offset + shift + length) inside [0, code_size). */
static ilheap_status_t check_range(const char *what, uint64_t offset, uint64_t length,
                                   uint64_t shift, uint64_t code_size, size_t index)
{
    if (offset + shift > UINT32_MAX)
        return ilheap__fail(ILHEAP_IL_OVERFLOW, "clause %zu: %s offset %llu + %llu past 32 bits",
                            index, what, (unsigned long long)offset, (unsigned long long)shift);
    if (offset + shift + length > code_size)
        return ilheap__fail(ILHEAP_IL_CLAUSE_RANGE,
                            "clause %zu: %s [%llu, +%llu) outside %llu bytes of code", index, what,
                            (unsigned long long)(offset + shift), (unsigned long long)length,
                            (unsigned long long)code_size);
    return ILHEAP_OK;
}

ilheap_status_t ilheap__il_check_clause(const ilheap_il_clause_t *c, uint64_t shift,
                                        uint64_t code_size, size_t index)
{
    /* II.25.4.6: Flags is one of EXCEPTION 0, FILTER 1, FINALLY 2, FAULT 4. */
    if (!il_kind_known(c->kind))
        return ilheap__fail(ILHEAP_IL_CLAUSE_KIND, "clause %zu: flags %#x", index, c->kind);
    ilheap_status_t st = check_range("try", c->try_offset, c->try_length, shift, code_size, index);
    if (st == ILHEAP_OK)
        st = check_range("handler", c->handler_offset, c->handler_length, shift, code_size, index);
    /* The filter block starts inside the code (at least one byte of it). */
    if (st == ILHEAP_OK && c->kind == ILHEAP_IL_FILTER)
        st = check_range("filter", c->filter_or_class, 1, shift, code_size, index);
    return st;
}

static ilheap_status_t differ(const char *field, uint64_t expected, uint64_t got)
{
    return ilheap__fail(ILHEAP_IL_MISMATCH, "%s: expected %llu, got %llu", field,
                        (unsigned long long)expected, (unsigned long long)got);
}

static ilheap_status_t check_clause_moved(const ilheap_il_clause_t *a, const ilheap_il_clause_t *b,
                                          uint64_t shift, uint32_t i)
{
    char field[64];
#define SAME(name, expected)                                                  \
    if ((uint64_t)(expected) != b->name) {                                    \
        snprintf(field, sizeof field, "clause %u " #name, (unsigned)i);       \
        return differ(field, (uint64_t)(expected), b->name);                  \
    }
    SAME(kind, a->kind)
    SAME(try_offset, a->try_offset + shift)
    SAME(try_length, a->try_length)
    SAME(handler_offset, a->handler_offset + shift)
    SAME(handler_length, a->handler_length)
    SAME(filter_or_class, a->filter_or_class + (a->kind == ILHEAP_IL_FILTER ? shift : 0))
#undef SAME
    return ILHEAP_OK;
}

ilheap_status_t ilheap_il_check_moved(const ilheap_il_body_t *orig, const ilheap_il_body_t *moved,
                                      const uint8_t *prologue, size_t prologue_size,
                                      uint32_t extra_stack)
{
    if (orig == NULL || moved == NULL || (prologue == NULL && prologue_size))
        return ilheap__fail(ILHEAP_EINVAL, "NULL argument");
    if (moved->init_locals != orig->init_locals)
        return differ("init_locals", orig->init_locals, moved->init_locals);
    if (moved->local_sig != orig->local_sig)
        return differ("local_sig", orig->local_sig, moved->local_sig);
    uint64_t stack = (uint64_t)orig->max_stack + extra_stack;
    /* A tiny body's max stack is 8 by definition: it covers any smaller need. */
    if (moved->header == ILHEAP_IL_TINY ? stack > ILHEAP_IL_TINY_MAX_STACK
                                        : moved->max_stack != stack)
        return differ("max_stack", stack, moved->max_stack);
    if (moved->code_size != (uint64_t)orig->code_size + prologue_size)
        return differ("code_size", (uint64_t)orig->code_size + prologue_size, moved->code_size);
    if (prologue_size && memcmp(moved->code, prologue, prologue_size) != 0)
        return ilheap__fail(ILHEAP_IL_MISMATCH, "the prologue bytes differ");
    if (orig->code_size && memcmp(moved->code + prologue_size, orig->code, orig->code_size) != 0)
        return ilheap__fail(ILHEAP_IL_MISMATCH, "the IL code differs");
    if (moved->clause_count != orig->clause_count)
        return differ("clause_count", orig->clause_count, moved->clause_count);
    for (uint32_t i = 0; i < orig->clause_count; i++) {
        ilheap_status_t st = check_clause_moved(&orig->clauses[i], &moved->clauses[i], prologue_size, i);
        if (st != ILHEAP_OK)
            return st;
    }
    return ILHEAP_OK;
}
