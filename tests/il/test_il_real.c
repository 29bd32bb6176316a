/* The codec on real bodies: every IL body of every assembly of the installed
 * .NET shared framework (found and read through the PE reader) decodes,
 * re-encodes byte for byte in preserve mode, and survives a prologue
 * insertion and a compact re-encoding with every field checked. Where no .NET
 * is installed the test says so; the other codec tests run on bodies they build. */
#include "ilheap/il.h"
#include "ilheap/pe.h"
#include "test.h"

#include "assemblies.h"


#define CLAUSES 64

typedef struct totals {
    uint64_t bodies, tiny, fat, with_eh, clauses, quirky, bytes;
    double seconds; /* a second, timed pass: decode + preserve encode */
} totals_t;

/* 4-aligned scratch for the encoder (fat bodies need it). */
static uint32_t out_words[(1u << 20) / 4];
#define OUT ((uint8_t *)out_words)

/* Everything checked on one body; returns NULL or what went wrong. */
static const char *check_body(const ilheap_pe_method_t *m, const uint8_t *p, size_t avail,
                              void *ctx)
{
    totals_t *t = ctx;
    static const uint8_t prologue[] = {0x00, 0x00, 0x00}; /* nop nop nop */
    ilheap_il_clause_t cl[CLAUSES], cl2[CLAUSES], *more = NULL, *more2 = NULL;
    ilheap_il_body_t b, d;
    size_t size;
    const char *why = NULL;
    if (pe_test_decode(p, avail, &b, cl, CLAUSES, &more) != ILHEAP_OK)
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
            pe_test_decode(OUT, size, &d, cl2, CLAUSES, &more2) != ILHEAP_OK ||
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
static pe_test_body_t *spans;
static size_t span_count, span_cap;

/* Decode and preserve-encode every body again, timed: what a rehome costs
 * per body in the codec (bodies found beforehand, data warm). */
static void timed_pass(totals_t *t)
{
    ilheap_il_clause_t cl[CLAUSES];
    double t0 = pe_test_now();
    for (size_t i = 0; i < span_count; i++) {
        ilheap_il_body_t b;
        size_t size;
        if (ilheap_il_decode(spans[i].p, spans[i].avail, &b, cl, CLAUSES) == ILHEAP_OK)
            ilheap_il_encode(&b, ILHEAP_IL_PRESERVE, OUT, sizeof out_words, &size);
    }
    t->seconds += pe_test_now() - t0;
}

static void check_image(const char *name, const uint8_t *data, size_t size, totals_t *t)
{
    const char *fail =
        pe_test_image_bodies(name, data, size, check_body, t, &spans, &span_count, &span_cap);
    if (fail != NULL)
        TEST_FAIL_("%s", fail);
    timed_pass(t);
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
