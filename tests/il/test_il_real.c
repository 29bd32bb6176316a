/* The codec on real bodies: every IL body of every assembly of the installed
 * .NET shared framework (found and read through the PE reader) decodes,
 * re-encodes byte for byte in preserve mode, and survives a prologue
 * insertion and a compact re-encoding with every field checked. Where no .NET
 * is installed the test says so; the other codec tests run on bodies they build. */
#include "ilheap/il.h"
#include "ilheap/pe.h"
#include "test.h"

#include "assemblies.h"

#include <time.h>

#define CLAUSES 64

typedef struct totals {
    uint64_t bodies, tiny, fat, with_eh, clauses, quirky, bytes;
    double seconds; /* a second, timed pass: decode + preserve encode */
} totals_t;

/* 4-aligned scratch for the encoder (fat bodies need it). */
static uint32_t out_words[(1u << 20) / 4];
#define OUT ((uint8_t *)out_words)

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Decodes one body (with more clause room when it needs it). */
static ilheap_status_t decode(const uint8_t *p, size_t avail, ilheap_il_body_t *b,
                              ilheap_il_clause_t *stack, ilheap_il_clause_t **heap)
{
    ilheap_status_t st = ilheap_il_decode(p, avail, b, stack, CLAUSES);
    if (st == ILHEAP_IL_CLAUSE_SPACE) {
        *heap = malloc(b->clause_count * sizeof **heap);
        if (*heap == NULL)
            return ILHEAP_ENOMEM;
        st = ilheap_il_decode(p, avail, b, *heap, b->clause_count);
    }
    return st;
}

/* Everything checked on one body; returns NULL or what went wrong. */
static const char *check_body(const ilheap_pe_method_t *m, const uint8_t *p, size_t avail,
                              totals_t *t)
{
    static const uint8_t prologue[] = {0x00, 0x00, 0x00}; /* nop nop nop */
    ilheap_il_clause_t cl[CLAUSES], cl2[CLAUSES], *more = NULL, *more2 = NULL;
    ilheap_il_body_t b, d;
    size_t size;
    const char *why = NULL;
    if (decode(p, avail, &b, cl, &more) != ILHEAP_OK)
        return "decode";
    if (ilheap_il_encode(&b, ILHEAP_IL_PRESERVE, OUT, sizeof out_words, &size) != ILHEAP_OK)
        why = "preserve encode";
    if (why == NULL && b.header == ILHEAP_IL_FAT && (m->rva & 3) != 0)
        why = "fat header at an RVA that is not 4-aligned (II.25.4.3)";
    else if (why == NULL && size != b.body_size)
        why = "preserve size differs from the body's size";
    else if (why == NULL && !(b.quirks & ILHEAP_IL_QUIRK_PADDING_NONZERO) && memcmp(OUT, p, size) != 0)
        why = "preserve encoding is not byte-identical";
    /* A prologue: every offset moves, max stack rises, nothing else changes. */
    ilheap_il_edit_t e = {0};
    e.prologue = prologue;
    e.prologue_size = sizeof prologue;
    e.extra_stack = b.max_stack < 65535 ? 1 : 0;
    for (int mode = 0; why == NULL && mode < 2; mode++) {
        if (ilheap_il_rewrite(&b, &e, (ilheap_il_mode_t)mode, OUT, sizeof out_words, &size) != ILHEAP_OK ||
            decode(OUT, size, &d, cl2, &more2) != ILHEAP_OK ||
            ilheap_il_check_moved(&b, &d, prologue, sizeof prologue, e.extra_stack) != ILHEAP_OK)
            why = mode ? "prologue (preserve)" : "prologue (compact)";
        free(more2);
        more2 = NULL;
    }
    t->bodies++;
    t->tiny += b.header == ILHEAP_IL_TINY;
    t->fat += b.header == ILHEAP_IL_FAT;
    t->with_eh += b.clause_count > 0;
    t->clauses += b.clause_count;
    t->quirky += b.quirks != 0;
    t->bytes += b.body_size;
    free(more);
    return why;
}

/* The bodies of one image, for the timed pass. */
typedef struct span {
    const uint8_t *p;
    size_t avail;
} span_t;
static span_t *spans;
static size_t span_count, span_cap;

/* Decode and preserve-encode every body again, timed: what a rehome costs
 * per body in the codec (bodies found beforehand, data warm). */
static void timed_pass(totals_t *t)
{
    ilheap_il_clause_t cl[CLAUSES];
    double t0 = now_seconds();
    for (size_t i = 0; i < span_count; i++) {
        ilheap_il_body_t b;
        size_t size;
        if (ilheap_il_decode(spans[i].p, spans[i].avail, &b, cl, CLAUSES) == ILHEAP_OK)
            ilheap_il_encode(&b, ILHEAP_IL_PRESERVE, OUT, sizeof out_words, &size);
    }
    t->seconds += now_seconds() - t0;
}

static void check_image(const char *name, const uint8_t *data, size_t size, totals_t *t)
{
    ilheap_pe_t *pe;
    ilheap_pe_error_t err;
    if (ilheap_pe_open(data, size, &pe, &err) != ILHEAP_OK)
        TEST_FAIL_("%s: %s", name, err.message);
    span_count = 0;
    for (uint32_t rid = 1, n = ilheap_pe_method_count(pe); rid <= n; rid++) {
        ilheap_pe_method_t m;
        const uint8_t *body;
        size_t avail;
        if (ilheap_pe_method(pe, rid, &m, &err) != ILHEAP_OK) {
            ilheap_pe_close(pe);
            TEST_FAIL_("%s: method %u: %s", name, rid, err.message);
        }
        if (!ilheap_pe_method_has_il(&m))
            continue;
        if (ilheap_pe_method_body(pe, &m, &body, &avail, &err) != ILHEAP_OK) {
            ilheap_pe_close(pe);
            TEST_FAIL_("%s: method %#x: %s", name, m.token, err.message);
        }
        if (span_count == span_cap) {
            span_cap = span_cap ? 2 * span_cap : 4096;
            span_t *grown = realloc(spans, span_cap * sizeof *spans);
            if (grown == NULL) {
                ilheap_pe_close(pe);
                TEST_FAIL_("out of memory");
            }
            spans = grown;
        }
        spans[span_count++] = (span_t){body, avail};
        const char *why = check_body(&m, body, avail, t);
        if (why != NULL) {
            ilheap_pe_close(pe);
            TEST_FAIL_("%s: method %#x at RVA %#x: %s (%s)", name, m.token, m.rva, why,
                       ilheap_last_message());
        }
    }
    timed_pass(t);
    ilheap_pe_close(pe);
}

static void visit(const char *name, const uint8_t *data, size_t size, void *ctx)
{
    check_image(name, data, size, ctx);
}

static void test_shared_framework_bodies(void)
{
    char dir[512], why[600];
    totals_t t = {0};
    long count = pe_test_each_framework_dll(visit, &t, dir, sizeof dir, why, sizeof why);
    if (count == -1)
        SKIP("%s; the codec's other tests run on bodies they build", why);
    if (count < 0)
        TEST_FAIL_("%s", why);
    free(spans);
    spans = NULL;
    span_cap = span_count = 0;
    fprintf(stderr,
            "  %ld assemblies in %s: %" PRIu64 " IL bodies (%" PRIu64 " tiny, %" PRIu64
            " fat, %" PRIu64 " with EH, %" PRIu64 " clauses, %" PRIu64 " with quirks), %" PRIu64
            " bytes; decode + preserve encode %.0f ns per body\n",
            count, dir, t.bodies, t.tiny, t.fat, t.with_eh, t.clauses, t.quirky, t.bytes,
            t.bodies ? t.seconds / (double)t.bodies * 1e9 : 0.0);
    ASSERT_GT_U(t.bodies, 0);
    ASSERT_EQ_U(t.tiny + t.fat, t.bodies);
}

TEST_MAIN(TEST(test_shared_framework_bodies))
