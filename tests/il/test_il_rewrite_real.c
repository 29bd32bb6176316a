/* The rewriter on real bodies: every IL body of the installed .NET shared
 * framework (read through the PE reader) loads into instructions, encodes
 * back byte for byte unedited, and takes a counter probe at every block
 * start: the result decodes again with every original instruction and each
 * probe in place. Prints the time per body of load + encode and of
 * instrument + encode (figures for docs/il-rewriter.md, not asserted).
 * Skips, saying why, where no .NET is installed. */
#include "ilheap/il.h"
#include "ilheap/pe.h"
#include "ilheap/rewrite.h"
#include "test.h"

#include "assemblies.h"


#define CLAUSES 64

static uint32_t out_words[(1u << 21) / 4];
#define OUT ((uint8_t *)out_words)

typedef struct totals {
    uint64_t bodies, insns, probes, grown_bytes, simulated, sim_equal;
    double rt_seconds, instr_seconds;
} totals_t;

static ilheap_rw_t *rw, *rw2;
static ilheap_rw_id_t *blocks;
static size_t blocks_cap;
static ilheap_rw_insn_t probe[ILHEAP_RW_PROBE_MAX];
static size_t probe_n;

/* A stack callback that only notes it was asked: bodies with no call,
 * callvirt, calli or newobj are simulated exactly without metadata. */
static ilheap_status_t note_call(void *ctx, uint16_t opcode, uint32_t token, uint32_t *pops,
                                 uint32_t *pushes)
{
    (void)opcode;
    (void)token;
    *(int *)ctx = 1;
    *pops = 0;
    *pushes = 0;
    return ILHEAP_OK;
}

/* Probes at every block start; returns how many, or -1 on failure. */
static long instrument(const ilheap_il_body_t *b, size_t *size)
{
    size_t bad, n = 0;
    if (ilheap_rw_load(rw, b, &bad) != ILHEAP_OK)
        return -1;
    ilheap_status_t st = ilheap_rw_block_starts(rw, blocks, blocks_cap, &n);
    if (st == ILHEAP_IL_DEST_TOO_SMALL) {
        free(blocks);
        blocks_cap = n * 2;
        blocks = malloc(blocks_cap * sizeof *blocks);
        if (blocks == NULL)
            return -1;
        st = ilheap_rw_block_starts(rw, blocks, blocks_cap, &n);
    }
    if (st != ILHEAP_OK)
        return -1;
    for (size_t i = 0; i < n; i++)
        if (ilheap_rw_insert(rw, blocks[i], ILHEAP_RW_BLOCK_START, probe, probe_n, NULL) != ILHEAP_OK)
            return -1;
    if (ilheap_rw_encode(rw, OUT, sizeof out_words, size) != ILHEAP_OK)
        return -1;
    return (long)n;
}

static const char *check_body(const uint8_t *p, size_t avail, totals_t *t)
{
    ilheap_il_clause_t cl[CLAUSES], cl2[CLAUSES], *more = NULL, *more2 = NULL;
    ilheap_il_body_t b, d;
    size_t size, bad;
    const char *why = NULL;
    if (pe_test_decode(p, avail, &b, cl, CLAUSES, &more) != ILHEAP_OK)
        return NULL; /* the codec's own test reports these */
    t->bodies++;
    if (ilheap_rw_load(rw, &b, &bad) != ILHEAP_OK) {
        why = "load";
    } else if (ilheap_rw_encode(rw, OUT, sizeof out_words, &size) != ILHEAP_OK) {
        why = "unedited encode";
    } else if (size != b.body_size ||
               (!(b.quirks & ILHEAP_IL_QUIRK_PADDING_NONZERO) && memcmp(OUT, p, size) != 0)) {
        why = "unedited encode is not byte-identical";
    }
    size_t original = ilheap_rw_count(rw);
    t->insns += original;
    if (why == NULL) {
        /* The exact depth of a body without calls never exceeds what its
         * compiler declared (a check of the simulation and of the table's
         * pops and pushes). */
        int called = 0;
        uint32_t m = 0;
        ilheap_rw_set_stack_fn(rw, note_call, &called);
        ilheap_status_t st = ilheap_rw_max_stack(rw, &m);
        ilheap_rw_set_stack_fn(rw, NULL, NULL);
        if (!called) {
            t->simulated++;
            if (st != ILHEAP_OK)
                why = "stack simulation of a body without calls";
            else if (m > b.max_stack)
                why = "simulated max stack above the declared one";
            t->sim_equal += st == ILHEAP_OK && m == b.max_stack;
        }
    }
    long probes = why ? 0 : instrument(&b, &size);
    if (why == NULL && probes < 0)
        why = "instrument blocks";
    if (why == NULL && pe_test_decode(OUT, size, &d, cl2, CLAUSES, &more2) != ILHEAP_OK)
        why = "decode after instrumenting";
    if (why == NULL && ilheap_rw_load(rw2, &d, &bad) != ILHEAP_OK)
        why = "load after instrumenting";
    if (why == NULL && ilheap_rw_count(rw2) != original + (size_t)probes * probe_n)
        why = "instruction count after instrumenting";
    if (why == NULL && d.clause_count != b.clause_count)
        why = "clause count after instrumenting";
    if (why == NULL) {
        /* every original instruction at its new offset, same opcode or its long form */
        for (ilheap_rw_id_t i = 0; i < original && why == NULL; i++) {
            uint32_t no = ilheap_rw_new_offset(rw, i);
            uint16_t op = ilheap_rw_opcode(rw, i);
            if (no >= d.code_size)
                why = "original instruction missing";
            else if (d.code[no] != (op > 0xFF ? 0xFE : op))
                why = "original instruction not at its new offset";
        }
    }
    t->probes += probes > 0 ? (uint64_t)probes : 0;
    t->grown_bytes += why ? 0 : d.body_size - b.body_size;
    free(more);
    free(more2);
    return why;
}

static pe_test_body_t *spans;
static size_t span_count, span_cap;

static void timed_passes(totals_t *t)
{
    ilheap_il_clause_t cl[CLAUSES];
    double t0 = pe_test_now();
    for (size_t i = 0; i < span_count; i++) {
        ilheap_il_body_t b;
        size_t size, bad;
        if (ilheap_il_decode(spans[i].p, spans[i].avail, &b, cl, CLAUSES) == ILHEAP_OK &&
            ilheap_rw_load(rw, &b, &bad) == ILHEAP_OK)
            ilheap_rw_encode(rw, OUT, sizeof out_words, &size);
    }
    double t1 = pe_test_now();
    for (size_t i = 0; i < span_count; i++) {
        ilheap_il_body_t b;
        size_t size;
        if (ilheap_il_decode(spans[i].p, spans[i].avail, &b, cl, CLAUSES) == ILHEAP_OK)
            instrument(&b, &size);
    }
    t->rt_seconds += t1 - t0;
    t->instr_seconds += pe_test_now() - t1;
}

static const char *check_one(const ilheap_pe_method_t *m, const uint8_t *p, size_t avail,
                             void *ctx)
{
    (void)m;
    return check_body(p, avail, ctx);
}

static void check_image(const char *name, const uint8_t *data, size_t size, totals_t *t)
{
    const char *fail =
        pe_test_image_bodies(name, data, size, check_one, t, &spans, &span_count, &span_cap);
    if (fail != NULL)
        TEST_FAIL_("%s", fail);
    timed_passes(t);
}

static void visit(const char *name, const uint8_t *data, size_t size, void *ctx)
{
    check_image(name, data, size, ctx);
}

static void test_framework_round_trip_and_blocks(void)
{
    char dir[512], why[600];
    totals_t t = {0};
    ASSERT_EQ_U(ilheap_rw_create(&rw), ILHEAP_OK);
    ASSERT_EQ_U(ilheap_rw_create(&rw2), ILHEAP_OK);
    probe_n = ilheap_rw_counter_probe(0x00007F0000001000ull, 1, probe);
    long count = pe_test_each_framework_dll(visit, &t, dir, sizeof dir, why, sizeof why);
    ilheap_rw_destroy(rw);
    ilheap_rw_destroy(rw2);
    free(blocks);
    free(spans);
    blocks = NULL;
    spans = NULL;
    blocks_cap = span_cap = span_count = 0;
    if (count == -1)
        SKIP("%s; the rewriter's other tests run on bodies they build", why);
    if (count < 0)
        TEST_FAIL_("%s", why);
    fprintf(stderr,
            "  %ld assemblies in %s: %" PRIu64 " bodies (%" PRIu64 " instructions) round-trip byte for "
            "byte and take %" PRIu64
            " block probes (+%" PRIu64 " bytes); load + encode %.0f ns per body, "
            "load + block probes + encode %.0f ns per body; %" PRIu64 " bodies without calls "
            "simulated, %" PRIu64 " at exactly their declared max stack\n",
            count, dir, t.bodies, t.insns, t.probes, t.grown_bytes,
            t.bodies ? t.rt_seconds / (double)t.bodies * 1e9 : 0.0,
            t.bodies ? t.instr_seconds / (double)t.bodies * 1e9 : 0.0, t.simulated, t.sim_equal);
    ASSERT_GT_U(t.bodies, 0);
    ASSERT_GT_U(t.probes, t.bodies);
    ASSERT_GT_U(t.simulated, 0);
}

TEST_MAIN(TEST(test_framework_round_trip_and_blocks))
