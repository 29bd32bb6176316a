/* libFuzzer target for the body decoder. On every input that decodes:
 *  - preserve-mode encoding has exactly the decoded body's size and, unless
 *    the padding held junk, the input's bytes;
 *  - decoding that again gives the same fields and formats, and encoding it
 *    again gives the same bytes (decode -> encode -> decode is stable);
 *  - compact encoding and a prologue insertion decode to the same fields
 *    (moved by the prologue).
 * A broken property aborts, which libFuzzer reports as a crash. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ilheap/il.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                   \
    do {                                                                              \
        if (!(cond)) {                                                                \
            fprintf(stderr, "%s:%d: property failed: %s (%s)\n", __FILE__, __LINE__, \
                    #cond, ilheap_last_message());                                    \
            abort();                                                                  \
        }                                                                             \
    } while (0)

static int same_body(const ilheap_il_body_t *a, const ilheap_il_body_t *b)
{
    if (a->header != b->header || a->init_locals != b->init_locals ||
        a->max_stack != b->max_stack || a->code_size != b->code_size ||
        a->local_sig != b->local_sig || a->clause_count != b->clause_count ||
        a->section_count != b->section_count || a->body_size != b->body_size ||
        (a->quirks & ~ILHEAP_IL_QUIRK_PADDING_NONZERO) != b->quirks)
        return 0;
    if (a->code_size && memcmp(a->code, b->code, a->code_size) != 0)
        return 0;
    if (a->clause_count && memcmp(a->clauses, b->clauses, a->clause_count * sizeof *a->clauses))
        return 0;
    /* Field by field: the struct has padding bytes, which decode need not set. */
    for (uint32_t i = 0; i < a->section_count; i++) {
        const ilheap_il_section_t *x = &a->sections[i], *y = &b->sections[i];
        if (x->fat != y->fat || x->reserved != y->reserved || x->data_size != y->data_size ||
            x->clause_count != y->clause_count || x->offset != y->offset)
            return 0;
    }
    return 1;
}

/* Encodes into a fresh 4-aligned block of exactly the encoded size (so ASan
 * sees any write past it) and decodes it into *d. Returns the block. */
static uint8_t *encode_decode(const ilheap_il_body_t *b, const ilheap_il_edit_t *e,
                              ilheap_il_mode_t mode, ilheap_il_body_t *d, ilheap_il_clause_t *cl,
                              size_t cap, size_t *size)
{
    CHECK(ilheap_il_rewrite(b, e, mode, NULL, 0, size) == ILHEAP_OK);
    uint8_t *out = aligned_alloc(4, (*size + 3) & ~(size_t)3);
    CHECK(out != NULL);
    size_t written = 0;
    CHECK(ilheap_il_rewrite(b, e, mode, out, *size, &written) == ILHEAP_OK);
    CHECK(written == *size);
    CHECK(ilheap_il_decode(out, *size, d, cl, cap) == ILHEAP_OK);
    CHECK(d->body_size == *size);
    return out;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ilheap_il_clause_t stack_clauses[32];
    ilheap_il_clause_t *cl = stack_clauses;
    size_t cap = 32;
    ilheap_il_body_t b;
    ilheap_status_t st = ilheap_il_decode(data, size, &b, cl, cap);
    if (st == ILHEAP_IL_CLAUSE_SPACE) {
        cap = b.clause_count;
        cl = malloc(cap * sizeof *cl);
        CHECK(cl != NULL);
        st = ilheap_il_decode(data, size, &b, cl, cap);
        CHECK(st == ILHEAP_OK);
    }
    if (st != ILHEAP_OK) {
        CHECK(b.error_offset <= size);
        return 0;
    }
    CHECK(b.body_size <= size);
    ilheap_il_clause_t *cl2 = malloc((cap ? cap : 1) * sizeof *cl2);
    ilheap_il_clause_t *cl3 = malloc((cap ? cap : 1) * sizeof *cl3);
    CHECK(cl2 != NULL && cl3 != NULL);

    /* decode -> preserve -> decode -> preserve: stable, and byte-exact. */
    ilheap_il_body_t d, d2;
    size_t n, n2;
    uint8_t *out = encode_decode(&b, NULL, ILHEAP_IL_PRESERVE, &d, cl2, cap, &n);
    CHECK(n == b.body_size);
    CHECK(same_body(&b, &d));
    if (!(b.quirks & ILHEAP_IL_QUIRK_PADDING_NONZERO))
        CHECK(memcmp(out, data, n) == 0);
    uint8_t *out2 = encode_decode(&d, NULL, ILHEAP_IL_PRESERVE, &d2, cl3, cap, &n2);
    CHECK(n2 == n && memcmp(out, out2, n) == 0);
    free(out2);
    free(out);

    /* Compact: same fields. */
    out = encode_decode(&b, NULL, ILHEAP_IL_COMPACT, &d, cl2, cap, &n);
    CHECK(ilheap_il_check_moved(&b, &d, NULL, 0, 0) == ILHEAP_OK);
    free(out);

    /* A prologue: every offset moves (when the result still fits its fields). */
    static const uint8_t nops[5] = {0, 0, 0, 0, 0};
    ilheap_il_edit_t e = {0};
    e.prologue = nops;
    e.prologue_size = 1 + size % 5;
    e.extra_stack = b.max_stack < 65535 ? 1 : 0;
    if (b.code_size <= UINT32_MAX - e.prologue_size) {
        out = encode_decode(&b, &e, ILHEAP_IL_PRESERVE, &d, cl2, cap, &n);
        CHECK(ilheap_il_check_moved(&b, &d, nops, e.prologue_size, e.extra_stack) == ILHEAP_OK);
        free(out);
    }
    free(cl3);
    free(cl2);
    if (cl != stack_clauses)
        free(cl);
    return 0;
}
