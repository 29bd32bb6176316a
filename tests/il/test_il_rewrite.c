/* The instruction-level rewriter (include/ilheap/rewrite.h): decode and its
 * rejections, the two insertion rules, widening, EH and header growth, max
 * stack, prefixes and tail calls, locals, and one named test per bug class of
 * docs/il-rewriter.md ("test_bug_*"). Edits are checked by decoding the
 * output again and following every original edge (edge_check). */
#include <dirent.h>
#include <stdlib.h>
#include <string.h>

#include "ilheap/rewrite.h"
#include "il_samples.h"
#include "test.h"

/* ---- building bodies -------------------------------------------------- */

typedef struct code {
    uint8_t *b;
    size_t n, cap;
} code_t;

static void put(code_t *c, uint8_t x)
{
    if (c->n == c->cap) {
        c->cap = c->cap ? c->cap * 2 : 256;
        c->b = realloc(c->b, c->cap);
        if (c->b == NULL)
            abort();
    }
    c->b[c->n++] = x;
}

static void put32(code_t *c, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        put(c, (uint8_t)(v >> (8 * i)));
}

static uint32_t out_words[(1u << 22) / 4];
#define OUT ((uint8_t *)out_words)
static uint32_t body_words[(1u << 22) / 4];
#define BODY ((uint8_t *)body_words)
static ilheap_il_clause_t clause_store[64];
static ilheap_il_clause_t clause_store2[64];

/* Encodes code + clauses (compact: tiny when it can be) into BODY and
 * decodes it into *b, as a profiler would receive it. */
static void make_body(const uint8_t *code, size_t n, const ilheap_il_clause_t *cl, size_t ncl,
                      uint16_t max_stack, ilheap_il_body_t *b)
{
    ilheap_il_body_t src;
    memset(&src, 0, sizeof src);
    src.code = code;
    src.code_size = (uint32_t)n;
    src.clauses = cl;
    src.clause_count = (uint32_t)ncl;
    src.max_stack = max_stack;
    size_t size;
    ASSERT_EQ_U(ilheap_il_encode(&src, ILHEAP_IL_COMPACT, BODY, sizeof body_words, &size), ILHEAP_OK);
    ASSERT_EQ_U(ilheap_il_decode(BODY, size, b, clause_store, 64), ILHEAP_OK);
}

static ilheap_rw_t *load(const ilheap_il_body_t *b)
{
    ilheap_rw_t *rw;
    ASSERT_EQ_U(ilheap_rw_create(&rw), ILHEAP_OK);
    size_t bad = 0;
    ilheap_status_t st = ilheap_rw_load(rw, b, &bad);
    if (st != ILHEAP_OK)
        TEST_FAIL_("load: %s at %zu: %s", ilheap_status_name(st), bad, ilheap_last_message());
    return rw;
}

/* The id of the original instruction at offset off. */
static ilheap_rw_id_t at_off(ilheap_rw_t *rw, uint32_t off)
{
    for (ilheap_rw_id_t i = ilheap_rw_first(rw); i != ILHEAP_RW_END; i = ilheap_rw_next(rw, i)) {
        ilheap_rw_insn_t x;
        ilheap_rw_get(rw, i, &x);
        if (x.offset == off)
            return i;
    }
    TEST_FAIL_("no instruction at offset %u", off);
    return ILHEAP_RW_END;
}

static ilheap_rw_insn_t probe[ILHEAP_RW_PROBE_MAX];
static size_t probe_n;

static void init_probe(void)
{
    probe_n = ilheap_rw_counter_probe(0x00007F0012345678ull, 1, probe);
}

/* Encodes rw into OUT, decodes the result into *b (clauses in clause_store2). */
static size_t encode_decode(ilheap_rw_t *rw, ilheap_il_body_t *b)
{
    size_t size = 0;
    ilheap_status_t st = ilheap_rw_encode(rw, OUT, sizeof out_words, &size);
    if (st != ILHEAP_OK)
        TEST_FAIL_("encode: %s: %s", ilheap_status_name(st), ilheap_last_message());
    ASSERT_EQ_U(ilheap_il_decode(OUT, size, b, clause_store2, 64), ILHEAP_OK);
    return size;
}

/* ---- the edge check --------------------------------------------------- */

/* What the original body's edges were, as original offsets. */
typedef struct snap {
    uint32_t count;
    uint32_t *off;     /* per original id */
    uint16_t *op;
    uint32_t *tfirst;  /* per original id: first target in targets[] */
    uint32_t *tcount;
    uint32_t *targets; /* original offsets */
    uint32_t ntargets;
    ilheap_il_clause_t cl[64];
    uint32_t ncl;
    uint32_t code_size;
} snap_t;

static void snap_free(snap_t *s)
{
    free(s->off);
    free(s->op);
    free(s->tfirst);
    free(s->tcount);
    free(s->targets);
}

static void take_snap(ilheap_rw_t *rw, const ilheap_il_body_t *b, snap_t *s)
{
    memset(s, 0, sizeof *s);
    s->count = (uint32_t)ilheap_rw_count(rw);
    s->off = calloc(s->count + 1, 4);
    s->op = calloc(s->count + 1, 2);
    s->tfirst = calloc(s->count + 1, 4);
    s->tcount = calloc(s->count + 1, 4);
    size_t cap = 1024;
    s->targets = malloc(cap * 4);
    ASSERT_TRUE(s->off && s->op && s->tfirst && s->tcount && s->targets);
    for (uint32_t id = 0; id < s->count; id++) {
        ilheap_rw_insn_t x;
        ASSERT_EQ_U(ilheap_rw_get(rw, id, &x), ILHEAP_OK);
        s->off[id] = x.offset;
        s->op[id] = x.opcode;
        s->tfirst[id] = s->ntargets;
        const ilheap_il_opinfo_t *in = ilheap_il_opinfo(x.opcode);
        uint32_t nt = in->operand == ILHEAP_OPND_SWITCH ? x.op.sw.count
                      : in->operand == ILHEAP_OPND_BRANCH8 || in->operand == ILHEAP_OPND_BRANCH32 ? 1
                                                                                                : 0;
        for (uint32_t k = 0; k < nt; k++) {
            ilheap_rw_id_t t = in->operand == ILHEAP_OPND_SWITCH ? x.op.sw.targets[k] : x.op.target;
            ilheap_rw_insn_t y;
            ASSERT_EQ_U(ilheap_rw_get(rw, t, &y), ILHEAP_OK);
            if (s->ntargets == cap) {
                cap *= 2;
                s->targets = realloc(s->targets, cap * 4);
                ASSERT_TRUE(s->targets != NULL);
            }
            s->targets[s->ntargets++] = y.offset;
        }
        s->tcount[id] = nt;
    }
    s->ncl = b->clause_count;
    if (b->clause_count)
        memcpy(s->cl, b->clauses, b->clause_count * sizeof *b->clauses);
    s->code_size = b->code_size;
}

static uint16_t long_form(uint16_t op)
{
    if (op >= 0x2B && op <= 0x37)
        return (uint16_t)(op + 13);
    return op == ILHEAP_OP_LEAVE_S ? ILHEAP_OP_LEAVE : op;
}

/* The original id at original offset off (ids follow offsets). */
static ilheap_rw_id_t orig_id(const snap_t *s, uint32_t off)
{
    uint32_t lo = 0, hi = s->count;
    while (lo < hi) {
        uint32_t mid = (lo + hi) / 2;
        if (s->off[mid] < off)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo >= s->count || s->off[lo] != off)
        TEST_FAIL_("no original instruction at %u", off);
    return lo;
}

/* After rw (loaded from the snapshot's body, then given insertions only)
 * was encoded into nb: every original instruction is there, in order, and
 * every original edge leads to the same original instruction or to code
 * inserted in front of it (only inserted code in between). */
static void edge_check(ilheap_rw_t *rw, const snap_t *s, const ilheap_il_body_t *nb)
{
    ilheap_rw_t *rw2 = load(nb);
    uint32_t n = nb->code_size;
    /* orig_at[new offset] = original id + 1; start[new offset] = id2 + 1 */
    uint32_t *orig_at = calloc((size_t)n + 1, 4), *start = calloc((size_t)n + 1, 4);
    ASSERT_TRUE(orig_at && start);
    uint32_t prev = 0;
    for (uint32_t id = 0; id < s->count; id++) {
        uint32_t no = ilheap_rw_new_offset(rw, id);
        ASSERT_TRUE(no < n);
        if (id)
            ASSERT_GT_U(no, prev);
        prev = no;
        orig_at[no] = id + 1;
    }
    orig_at[n] = s->count + 1; /* the end */
    for (ilheap_rw_id_t j = ilheap_rw_first(rw2); j != ILHEAP_RW_END; j = ilheap_rw_next(rw2, j)) {
        ilheap_rw_insn_t y;
        ilheap_rw_get(rw2, j, &y);
        start[y.offset] = j + 1;
    }
    /* new offset t leads to original offset want through inserted code only */
#define LEADS_TO(t, want_new)                                                                      \
    do {                                                                                           \
        uint32_t t_ = (t);                                                                         \
        while (t_ < n && orig_at[t_] == 0) {                                                       \
            ilheap_rw_id_t j_ = start[t_] - 1;                                                     \
            ASSERT_TRUE(start[t_] != 0);                                                           \
            ilheap_rw_id_t k_ = ilheap_rw_next(rw2, j_);                                           \
            t_ = k_ == ILHEAP_RW_END ? n : (ilheap_rw_get(rw2, k_, &tmp), tmp.offset);             \
        }                                                                                          \
        if (t_ != (want_new))                                                                      \
            TEST_FAIL_("edge leads to new offset %u, want %u", t_, (unsigned)(want_new));          \
    } while (0)
    ilheap_rw_insn_t tmp;
    for (uint32_t id = 0; id < s->count; id++) {
        uint32_t no = ilheap_rw_new_offset(rw, id);
        ASSERT_TRUE(start[no] != 0);
        ilheap_rw_insn_t y;
        ilheap_rw_get(rw2, start[no] - 1, &y);
        if (y.opcode != s->op[id] && y.opcode != long_form(s->op[id]))
            TEST_FAIL_("original %u (offset %u, 0x%X) is 0x%X now", id, s->off[id], s->op[id],
                       y.opcode);
        for (uint32_t k = 0; k < s->tcount[id]; k++) {
            ilheap_rw_id_t t2 = ilheap_il_opinfo(y.opcode)->operand == ILHEAP_OPND_SWITCH
                                    ? y.op.sw.targets[k]
                                    : y.op.target;
            ilheap_rw_insn_t z;
            ilheap_rw_get(rw2, t2, &z);
            ilheap_rw_id_t orig_t = orig_id(s, s->targets[s->tfirst[id] + k]);
            LEADS_TO(z.offset, ilheap_rw_new_offset(rw, orig_t));
        }
    }
    ASSERT_EQ_U(nb->clause_count, s->ncl);
    for (uint32_t i = 0; i < s->ncl; i++) {
        const ilheap_il_clause_t *o = &s->cl[i], *c = &nb->clauses[i];
        ASSERT_EQ_U(c->kind, o->kind);
#define NEW_OF(off) ((off) == s->code_size ? n : ilheap_rw_new_offset(rw, orig_id(s, (off))))
        LEADS_TO(c->try_offset, NEW_OF(o->try_offset));
        LEADS_TO(c->try_offset + c->try_length, NEW_OF(o->try_offset + o->try_length));
        LEADS_TO(c->handler_offset, NEW_OF(o->handler_offset));
        LEADS_TO(c->handler_offset + c->handler_length, NEW_OF(o->handler_offset + o->handler_length));
        if (o->kind == ILHEAP_IL_FILTER)
            LEADS_TO(c->filter_or_class, NEW_OF(o->filter_or_class));
        else
            ASSERT_EQ_U(c->filter_or_class, o->filter_or_class);
#undef NEW_OF
    }
#undef LEADS_TO
    free(orig_at);
    free(start);
    ilheap_rw_destroy(rw2);
}

/* Inserts the probe at every block start, encodes, checks every edge. */
static void instrument_blocks_and_check(const ilheap_il_body_t *b)
{
    ilheap_rw_t *rw = load(b);
    snap_t s;
    take_snap(rw, b, &s);
    size_t nblocks = 0;
    ilheap_rw_block_starts(rw, NULL, 0, &nblocks);
    ilheap_rw_id_t *blocks = malloc((nblocks + 1) * sizeof *blocks);
    ASSERT_EQ_U(ilheap_rw_block_starts(rw, blocks, nblocks, &nblocks), ILHEAP_OK);
    for (size_t i = 0; i < nblocks; i++)
        ASSERT_EQ_U(ilheap_rw_insert(rw, blocks[i], ILHEAP_RW_BLOCK_START, probe, probe_n, NULL),
                    ILHEAP_OK);
    ilheap_il_body_t nb;
    encode_decode(rw, &nb);
    ASSERT_GE_U(nb.code_size, b->code_size + nblocks * 15); /* more when branches widened */
    edge_check(rw, &s, &nb);
    free(blocks);
    snap_free(&s);
    ilheap_rw_destroy(rw);
}

/* ---- round trips ------------------------------------------------------ */

static int round_trips; /* bodies that loaded and re-encoded byte for byte */

static void round_trip_bytes(const uint8_t *p, size_t size)
{
    ilheap_il_body_t b;
    ilheap_status_t st = ilheap_il_decode(p, size, &b, clause_store, 64);
    if (st != ILHEAP_OK)
        return; /* the corpus also holds bodies the codec rejects */
    ilheap_rw_t *rw;
    ASSERT_EQ_U(ilheap_rw_create(&rw), ILHEAP_OK);
    size_t bad;
    st = ilheap_rw_load(rw, &b, &bad);
    if (st == ILHEAP_OK) {
        size_t out = 0;
        ASSERT_EQ_U(ilheap_rw_encode(rw, OUT, sizeof out_words, &out), ILHEAP_OK);
        if (b.quirks == 0) { /* quirky sections re-encode differently in the codec too */
            ASSERT_EQ_U(out, b.body_size);
            ASSERT_TRUE(memcmp(OUT, p, out) == 0);
            round_trips++;
        }
    }
    ilheap_rw_destroy(rw);
}

static void test_round_trip_samples_and_corpus(void)
{
    for (size_t i = 0; i < IL_SAMPLE_COUNT; i++)
        round_trip_bytes(il_samples[i].bytes, il_samples[i].size);
    DIR *d = opendir(IL_CORPUS_DIR);
#ifdef _WIN32
    if (d == NULL) /* under Wine the build tree's Unix path may not be visible */
        SKIP("cannot open %s here; the samples above round-tripped", IL_CORPUS_DIR);
#endif
    if (d == NULL)
        TEST_FAIL_("cannot open %s", IL_CORPUS_DIR);
    struct dirent *e;
    int files = 0;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", IL_CORPUS_DIR, e->d_name);
        FILE *f = fopen(path, "rb");
        if (f == NULL)
            continue;
        size_t n = fread(BODY, 1, sizeof body_words, f);
        fclose(f);
        round_trip_bytes(BODY, n);
        files++;
    }
    closedir(d);
    ASSERT_GT_U(files, 5);
    ASSERT_GT_U(round_trips, 5);
}

/* ---- decode rejections ------------------------------------------------ */

static void expect_reject(const uint8_t *code, size_t n, ilheap_status_t want, size_t want_off)
{
    ilheap_il_body_t b;
    memset(&b, 0, sizeof b);
    b.code = code;
    b.code_size = (uint32_t)n;
    b.max_stack = 8;
    ilheap_rw_t *rw;
    ASSERT_EQ_U(ilheap_rw_create(&rw), ILHEAP_OK);
    size_t bad = 12345;
    ilheap_status_t st = ilheap_rw_load(rw, &b, &bad);
    if (st != want)
        TEST_FAIL_("got %s, want %s (%s)", ilheap_status_name(st), ilheap_status_name(want),
                   ilheap_last_message());
    ASSERT_EQ_U(bad, want_off);
    ASSERT_EQ_U(ilheap_rw_count(rw), 0);
    ilheap_rw_destroy(rw);
}

static void test_decode_rejections(void)
{
    static const uint8_t unknown[] = {0x00, 0x00, 0xA6};
    expect_reject(unknown, sizeof unknown, ILHEAP_IL_UNKNOWN_OPCODE, 2);
    static const uint8_t unknown2[] = {0x00, 0xFE, 0x1B};
    expect_reject(unknown2, sizeof unknown2, ILHEAP_IL_UNKNOWN_OPCODE, 1);
    static const uint8_t trunc[] = {0x00, 0x20, 0x01, 0x02};
    expect_reject(trunc, sizeof trunc, ILHEAP_IL_TRUNCATED_OPERAND, 1);
    static const uint8_t trunc_fe[] = {0x00, 0xFE};
    expect_reject(trunc_fe, sizeof trunc_fe, ILHEAP_IL_TRUNCATED_OPERAND, 1);
    static const uint8_t trunc_sw[] = {0x16, 0x45, 0x03, 0, 0, 0, 0, 0, 0, 0, 0x2A};
    expect_reject(trunc_sw, sizeof trunc_sw, ILHEAP_IL_TRUNCATED_OPERAND, 1);
    /* br.s into the middle of ldc.i4's operand */
    static const uint8_t mid[] = {0x2B, 0x01, 0x20, 1, 2, 3, 4, 0x2A};
    expect_reject(mid, sizeof mid, ILHEAP_IL_BAD_TARGET, 0);
    static const uint8_t outside[] = {0x00, 0x2B, 0x7F, 0x2A};
    expect_reject(outside, sizeof outside, ILHEAP_IL_BAD_TARGET, 1);
    static const uint8_t to_end[] = {0x00, 0x2B, 0x00};
    expect_reject(to_end, sizeof to_end, ILHEAP_IL_BAD_TARGET, 1);
    /* a branch to the instruction after volatile. */
    static const uint8_t after_prefix[] = {0x02, 0x2B, 0x02, 0xFE, 0x13, 0x4A, 0x26, 0x2A};
    expect_reject(after_prefix, sizeof after_prefix, ILHEAP_IL_BAD_TARGET, 1);
    static const uint8_t switch_bad[] = {0x16, 0x45, 0x01, 0, 0, 0, 0x02, 0, 0, 0, 0x00, 0x20, 1, 2, 3, 4, 0x2A};
    expect_reject(switch_bad, sizeof switch_bad, ILHEAP_IL_BAD_TARGET, 1);
    static const uint8_t pre_ret[] = {0xFE, 0x14, 0x2A};
    expect_reject(pre_ret, sizeof pre_ret, ILHEAP_IL_BAD_PREFIX, 0);
    static const uint8_t pre_end[] = {0x00, 0xFE, 0x13};
    expect_reject(pre_end, sizeof pre_end, ILHEAP_IL_BAD_PREFIX, 1);
    static const uint8_t pre_add[] = {0x16, 0x16, 0xFE, 0x13, 0x58, 0x2A};
    expect_reject(pre_add, sizeof pre_add, ILHEAP_IL_BAD_PREFIX, 2);
    /* two prefixes then an instruction that takes both: accepted */
    static const uint8_t two_pre[] = {0x02, 0xFE, 0x12, 0x01, 0xFE, 0x13, 0x4A, 0x26, 0x2A};
    ilheap_il_body_t b;
    make_body(two_pre, sizeof two_pre, NULL, 0, 8, &b);
    ilheap_rw_t *rw = load(&b);
    ASSERT_EQ_U(ilheap_rw_count(rw), 6);
    ilheap_rw_destroy(rw);
}

static void test_decode_clause_not_on_boundary(void)
{
    static const uint8_t code[] = {0x20, 1, 2, 3, 4, 0x26, 0xDE, 0x02, 0x26, 0xDC, 0x2A};
    ilheap_il_clause_t cl = {ILHEAP_IL_FINALLY, 1, 7, 8, 2, 0}; /* try starts inside ldc.i4 */
    ilheap_il_body_t b;
    memset(&b, 0, sizeof b);
    b.header = ILHEAP_IL_FAT;
    b.code = code;
    b.code_size = sizeof code;
    b.clauses = &cl;
    b.clause_count = 1;
    ilheap_rw_t *rw;
    ASSERT_EQ_U(ilheap_rw_create(&rw), ILHEAP_OK);
    size_t bad;
    ASSERT_EQ_U(ilheap_rw_load(rw, &b, &bad), ILHEAP_IL_BAD_TARGET);
    ASSERT_EQ_U(bad, 1);
    ilheap_rw_destroy(rw);
}

/* ---- insertion rules -------------------------------------------------- */

/* 0: ldc.i4.0  1: brtrue.s 4  3: nop  4: ret */
static const uint8_t cond_code[] = {0x16, 0x2D, 0x01, 0x00, 0x2A};

static void test_insert_block_start_retargets_branch(void)
{
    init_probe();
    ilheap_il_body_t b;
    make_body(cond_code, sizeof cond_code, NULL, 0, 8, &b);
    ilheap_rw_t *rw = load(&b);
    ilheap_rw_id_t first;
    ASSERT_EQ_U(ilheap_rw_insert(rw, at_off(rw, 4), ILHEAP_RW_BLOCK_START, probe, probe_n, &first),
                ILHEAP_OK);
    ilheap_il_body_t nb;
    encode_decode(rw, &nb);
    ASSERT_EQ_U(nb.code_size, sizeof cond_code + 15);
    ASSERT_EQ_U(nb.code[1], 0x2D);
    ASSERT_EQ_U(nb.code[2], 1);          /* still lands right after the nop: on the probe */
    ASSERT_EQ_U(nb.code[4], 0x21);       /* the probe: ldc.i8 */
    ASSERT_EQ_U(nb.code[4 + 15], 0x2A);  /* then ret */
    ASSERT_EQ_U(nb.max_stack, 11);       /* tiny's 8 + the probe's peak 3 */
    ASSERT_EQ_U(nb.header, ILHEAP_IL_FAT);
    ASSERT_EQ_U(ilheap_rw_new_offset(rw, first), 4);
    ilheap_rw_destroy(rw);
}

static void test_insert_before_only_keeps_targets(void)
{
    init_probe();
    ilheap_il_body_t b;
    make_body(cond_code, sizeof cond_code, NULL, 0, 8, &b);
    ilheap_rw_t *rw = load(&b);
    ASSERT_EQ_U(ilheap_rw_insert(rw, at_off(rw, 4), ILHEAP_RW_BEFORE, probe, probe_n, NULL), ILHEAP_OK);
    ilheap_il_body_t nb;
    encode_decode(rw, &nb);
    ASSERT_EQ_U(nb.code[2], 16); /* jumps over the probe to the ret */
    ASSERT_EQ_U(nb.code[19], 0x2A);
    /* AFTER the nop is the same place as BEFORE the ret */
    ilheap_rw_t *rw2 = load(&b);
    ASSERT_EQ_U(ilheap_rw_insert(rw2, at_off(rw2, 3), ILHEAP_RW_AFTER, probe, probe_n, NULL), ILHEAP_OK);
    size_t s1 = 0, s2 = 0;
    static uint32_t w1[64], w2[64];
    ASSERT_EQ_U(ilheap_rw_encode(rw, w1, sizeof w1, &s1), ILHEAP_OK);
    ASSERT_EQ_U(ilheap_rw_encode(rw2, w2, sizeof w2, &s2), ILHEAP_OK);
    ASSERT_EQ_U(s1, s2);
    ASSERT_TRUE(memcmp(w1, w2, s1) == 0);
    ilheap_rw_destroy(rw);
    ilheap_rw_destroy(rw2);
}

/* dd-trace-dotnet #541/#542: argument loads inserted before a call, and a
 * branch to the call that skipped them. At a block start the branch lands on
 * the loads. */
static void test_bug_branch_skips_arg_loads(void)
{
    /* 0: ldarg.0 1: brtrue.s 5 3: ldnull 4: pop 5: call 0x0A000001 10: ret */
    static const uint8_t code[] = {0x02, 0x2D, 0x02, 0x14, 0x26, 0x28, 1, 0, 0, 0x0A, 0x2A};
    ilheap_il_body_t b;
    make_body(code, sizeof code, NULL, 0, 8, &b);
    ilheap_rw_t *rw = load(&b);
    ilheap_rw_insn_t loads[2];
    memset(loads, 0, sizeof loads);
    loads[0].opcode = ILHEAP_OP_LDARG_0;
    loads[1].opcode = ILHEAP_OP_POP;
    ASSERT_EQ_U(ilheap_rw_insert(rw, at_off(rw, 5), ILHEAP_RW_BLOCK_START, loads, 2, NULL), ILHEAP_OK);
    ilheap_il_body_t nb;
    encode_decode(rw, &nb);
    ASSERT_EQ_U(nb.code[2], 2); /* lands on ldarg.0 at 5, not on the call at 7 */
    ASSERT_EQ_U(nb.code[5], ILHEAP_OP_LDARG_0);
    ASSERT_EQ_U(nb.code[7], ILHEAP_OP_CALL);
    ilheap_rw_destroy(rw);
}

/* dd-trace-dotnet #3331: branches to the final ret must reach the code
 * inserted before it. */
static void test_bug_branch_to_final_ret(void)
{
    init_probe();
    /* 0: ldarg.0 1: brfalse 11 6: ldarg.0 7: brtrue.s 11 9: br.s 11 11: ret */
    static const uint8_t code[] = {0x02, 0x39, 5, 0, 0, 0, 0x02, 0x2D, 0x02, 0x2B, 0x00, 0x2A};
    ilheap_il_body_t b;
    make_body(code, sizeof code, NULL, 0, 8, &b);
    ilheap_rw_t *rw = load(&b);
    snap_t s;
    take_snap(rw, &b, &s);
    ASSERT_EQ_U(ilheap_rw_insert(rw, at_off(rw, 11), ILHEAP_RW_BLOCK_START, probe, probe_n, NULL),
                ILHEAP_OK);
    ilheap_il_body_t nb;
    encode_decode(rw, &nb);
    ASSERT_EQ_U(nb.code[11], 0x21); /* the probe where the ret was */
    ASSERT_EQ_U(nb.code[2], 5);     /* brfalse -> 11 */
    ASSERT_EQ_U(nb.code[8], 2);     /* brtrue.s -> 11 */
    ASSERT_EQ_U(nb.code[10], 0);    /* br.s -> 11 */
    edge_check(rw, &s, &nb);
    snap_free(&s);
    ilheap_rw_destroy(rw);
}

/* try { nop; leave.s L } finally { nop; endfinally } L: ret
 * 0: nop 1: leave.s 6 3: nop 4: endfinally 5: nop 6: ret  (try [0,3) handler [3,5)) */
static const uint8_t try_code[] = {0x00, 0xDE, 0x03, 0x00, 0xDC, 0x00, 0x2A};
static const ilheap_il_clause_t try_clause = {ILHEAP_IL_FINALLY, 0, 3, 3, 2, 0};

/* dd-trace-dotnet #5774: try end and handler end not retargeted. A probe at
 * the handler's start is inside the handler, outside the try; a probe at the
 * instruction after the handler is outside the handler. */
static void test_bug_try_end_not_retargeted(void)
{
    init_probe();
    ilheap_il_body_t b;
    make_body(try_code, sizeof try_code, &try_clause, 1, 8, &b);
    ilheap_rw_t *rw = load(&b);
    ASSERT_EQ_U(ilheap_rw_insert(rw, at_off(rw, 3), ILHEAP_RW_BLOCK_START, probe, probe_n, NULL),
                ILHEAP_OK);
    ASSERT_EQ_U(ilheap_rw_insert(rw, at_off(rw, 5), ILHEAP_RW_BLOCK_START, probe, probe_n, NULL),
                ILHEAP_OK);
    ilheap_il_body_t nb;
    encode_decode(rw, &nb);
    ASSERT_EQ_U(nb.clause_count, 1);
    const ilheap_il_clause_t *c = &nb.clauses[0];
    ASSERT_EQ_U(c->try_offset, 0);
    ASSERT_EQ_U(c->try_length, 3);            /* ends where the handler's probe starts */
    ASSERT_EQ_U(c->handler_offset, 3);
    ASSERT_EQ_U(c->handler_length, 15 + 2);   /* probe + nop + endfinally */
    ASSERT_EQ_U(nb.code[3], 0x21);
    ASSERT_EQ_U(nb.code[20], 0x21);           /* second probe, after the handler */
    ilheap_rw_destroy(rw);
}

/* OpenCover #611: code inserted before the ret a try leaves to must run
 * after the try, not inside it: the leave lands on it and it is outside
 * the try and the handler. */
static void test_bug_insert_before_ret_in_try(void)
{
    init_probe();
    ilheap_il_body_t b;
    make_body(try_code, sizeof try_code, &try_clause, 1, 8, &b);
    ilheap_rw_t *rw = load(&b);
    snap_t s;
    take_snap(rw, &b, &s);
    ASSERT_EQ_U(ilheap_rw_insert(rw, at_off(rw, 6), ILHEAP_RW_BLOCK_START, probe, probe_n, NULL),
                ILHEAP_OK);
    ilheap_il_body_t nb;
    encode_decode(rw, &nb);
    ASSERT_EQ_U(nb.code[1], ILHEAP_OP_LEAVE_S);
    ASSERT_EQ_U(3 + nb.code[2], 6); /* the leave lands on the probe */
    ASSERT_EQ_U(nb.code[6], 0x21);
    const ilheap_il_clause_t *c = &nb.clauses[0];
    ASSERT_LE_U(c->handler_offset + c->handler_length, 6);
    ASSERT_LE_U(c->try_offset + c->try_length, 6);
    edge_check(rw, &s, &nb);
    snap_free(&s);
    ilheap_rw_destroy(rw);
}

/* ---- max stack -------------------------------------------------------- */

/* dotnet/runtime #63805: max stack past 65535 wrapped. */
static void test_bug_maxstack_wrap(void)
{
    init_probe();
    ilheap_il_body_t b;
    make_body(cond_code, sizeof cond_code, NULL, 0, 65532, &b);
    ilheap_rw_t *rw = load(&b);
    ASSERT_EQ_U(ilheap_rw_insert(rw, at_off(rw, 4), ILHEAP_RW_BLOCK_START, probe, probe_n, NULL),
                ILHEAP_OK);
    ilheap_il_body_t nb;
    encode_decode(rw, &nb);
    ASSERT_EQ_U(nb.max_stack, 65535);
    ilheap_rw_destroy(rw);

    make_body(cond_code, sizeof cond_code, NULL, 0, 65533, &b);
    rw = load(&b);
    ASSERT_EQ_U(ilheap_rw_insert(rw, at_off(rw, 4), ILHEAP_RW_BLOCK_START, probe, probe_n, NULL),
                ILHEAP_OK);
    size_t size = 0;
    ASSERT_EQ_U(ilheap_rw_encode(rw, OUT, sizeof out_words, &size), ILHEAP_IL_OVERFLOW);
    uint32_t m = 0;
    ASSERT_EQ_U(ilheap_rw_max_stack(rw, &m), ILHEAP_IL_OVERFLOW);
    ilheap_rw_destroy(rw);
}

typedef struct stack_ctx {
    int calls;
    uint32_t last_token;
} stack_ctx_t;

/* Every call takes 2 and returns 1, except the MethodSpec tokens 0x2B000001
 * (takes 3) and 0x2B000002 (takes none). */
static ilheap_status_t stack_fn(void *ctx, uint16_t opcode, uint32_t token, uint32_t *pops,
                                uint32_t *pushes)
{
    stack_ctx_t *c = ctx;
    c->calls++;
    c->last_token = token;
    (void)opcode;
    *pops = token == 0x2B000001u ? 3 : token == 0x2B000002u ? 0 : 2;
    *pushes = 1;
    return ILHEAP_OK;
}

/* CLRIE #443: depths along branches were not considered. The deepest point
 * is on the branch target, reached with 3 items only by the jump. */
static void test_bug_maxstack_branches_considered(void)
{
    /* 0 ldc.i4.1  1 ldc.i4.2  2 br.s 5  4 ret (never reached)
     * 5 ldc.i4.3  6 ldc.i4.4  7-10 pop x4  11 ret
     * Depth 2 flows along the jump into 5, so the max is 4; a pass that
     * restarts from 0 after the unconditional branch would say 2. */
    static const uint8_t code[] = {0x17, 0x18, 0x2B, 0x01, 0x2A, 0x19, 0x1A,
                                   0x26, 0x26, 0x26, 0x26, 0x2A};
    ilheap_il_body_t b;
    make_body(code, sizeof code, NULL, 0, 8, &b);
    ilheap_rw_t *rw = load(&b);
    stack_ctx_t ctx = {0, 0};
    ilheap_rw_set_stack_fn(rw, stack_fn, &ctx);
    uint32_t m = 0;
    ASSERT_EQ_U(ilheap_rw_max_stack(rw, &m), ILHEAP_OK);
    ASSERT_EQ_U(m, 4);
    ilheap_rw_destroy(rw);
}

/* CLRIE #304: the stack effect of a call through a generic instantiation
 * (MethodSpec token) was wrong. The callback is asked about the MethodSpec
 * token itself, and its answer is used. */
static void test_bug_maxstack_methodspec_call(void)
{
    /* ldc.i4.1 ldc.i4.2 ldc.i4.3 call TOKEN ldc.i4.0 pop pop ret: the callback
     * says 0x2B000001 takes 3 and 0x2B000002 takes none (both push 1), so the
     * max is 3 (1 + 1 after the call) or 5 (3 + 1 + 1). */
    uint8_t code[] = {0x17, 0x18, 0x19, 0x28, 1, 0, 0, 0x2B, 0x16, 0x26, 0x26, 0x2A};
    for (uint8_t which = 1; which <= 2; which++) {
        code[4] = which;
        ilheap_il_body_t b;
        make_body(code, sizeof code, NULL, 0, 8, &b);
        ilheap_rw_t *rw = load(&b);
        stack_ctx_t ctx = {0, 0};
        ilheap_rw_set_stack_fn(rw, stack_fn, &ctx);
        uint32_t m = 0;
        ASSERT_EQ_U(ilheap_rw_max_stack(rw, &m), ILHEAP_OK);
        ASSERT_EQ_U(m, which == 1 ? 3 : 5);
        ASSERT_EQ_U(ctx.last_token, 0x2B000000u | which);
        ASSERT_EQ_U(ctx.calls, 1);
        ilheap_rw_destroy(rw);
    }
}

static void test_maxstack_mismatch_and_safe_bound_limits(void)
{
    init_probe();
    /* join with different depths: 0 ldarg.0 1 brtrue.s 4 3 ldnull 4 ret */
    static const uint8_t code[] = {0x02, 0x2D, 0x01, 0x14, 0x2A};
    ilheap_il_body_t b;
    make_body(code, sizeof code, NULL, 0, 8, &b);
    ilheap_rw_t *rw = load(&b);
    stack_ctx_t ctx = {0, 0};
    ilheap_rw_set_stack_fn(rw, stack_fn, &ctx);
    uint32_t m;
    ASSERT_EQ_U(ilheap_rw_max_stack(rw, &m), ILHEAP_IL_STACK_MISMATCH);
    ilheap_rw_set_stack_fn(rw, NULL, NULL);
    /* a non-neutral insert cannot use the safe bound */
    ilheap_rw_insn_t push1;
    memset(&push1, 0, sizeof push1);
    push1.opcode = ILHEAP_OP_LDNULL;
    ASSERT_EQ_U(ilheap_rw_insert(rw, at_off(rw, 0), ILHEAP_RW_BEFORE, &push1, 1, NULL), ILHEAP_OK);
    ASSERT_EQ_U(ilheap_rw_max_stack(rw, &m), ILHEAP_IL_STACK_NOT_NEUTRAL);
    ilheap_rw_destroy(rw);
    /* an inserted call needs the callback */
    rw = load(&b);
    ilheap_rw_insn_t call[2];
    memset(call, 0, sizeof call);
    call[0].opcode = ILHEAP_OP_CALL;
    call[0].op.token = 0x0A000001;
    call[1].opcode = ILHEAP_OP_POP;
    ASSERT_EQ_U(ilheap_rw_insert(rw, at_off(rw, 0), ILHEAP_RW_BEFORE, call, 2, NULL), ILHEAP_OK);
    ASSERT_EQ_U(ilheap_rw_max_stack(rw, &m), ILHEAP_IL_STACK_UNKNOWN);
    ilheap_rw_destroy(rw);
}

/* ---- sizes ------------------------------------------------------------ */

static void test_bug_tiny_header_overflow(void)
{
    init_probe();
    uint8_t code[60];
    memset(code, 0x00, sizeof code);
    code[59] = 0x2A;
    ilheap_il_body_t b;
    make_body(code, sizeof code, NULL, 0, 8, &b);
    ASSERT_EQ_U(b.header, ILHEAP_IL_TINY);
    ilheap_rw_t *rw = load(&b);
    /* an unedited tiny body stays tiny, byte for byte */
    size_t size;
    ASSERT_EQ_U(ilheap_rw_encode(rw, OUT, sizeof out_words, &size), ILHEAP_OK);
    ASSERT_EQ_U(size, 61);
    ASSERT_TRUE(memcmp(OUT, BODY, 61) == 0);
    ilheap_rw_insn_t nops[4];
    memset(nops, 0, sizeof nops);
    ASSERT_EQ_U(ilheap_rw_insert(rw, ilheap_rw_first(rw), ILHEAP_RW_BLOCK_START, nops, 4, NULL),
                ILHEAP_OK);
    ilheap_il_body_t nb;
    encode_decode(rw, &nb);
    ASSERT_EQ_U(nb.header, ILHEAP_IL_FAT);
    ASSERT_EQ_U(nb.code_size, 64);
    ASSERT_EQ_U(nb.max_stack, 8);
    ilheap_rw_destroy(rw);
}

static void test_bug_small_eh_overflow(void)
{
    init_probe();
    /* try: 200 nops then leave.s; handler: nop endfinally; ret */
    code_t c = {0};
    for (int i = 0; i < 200; i++)
        put(&c, 0x00);
    put(&c, 0xDE);
    put(&c, 0x02);
    put(&c, 0x00);
    put(&c, 0xDC);
    put(&c, 0x2A);
    ilheap_il_clause_t cl = {ILHEAP_IL_FINALLY, 0, 202, 202, 2, 0};
    ilheap_il_body_t b;
    make_body(c.b, c.n, &cl, 1, 8, &b);
    ASSERT_EQ_U(b.sections[0].fat, 0);
    ilheap_rw_t *rw = load(&b);
    snap_t s;
    take_snap(rw, &b, &s);
    for (uint32_t off = 10; off < 200; off += 20) /* 10 probes: the try grows past 255 */
        ASSERT_EQ_U(ilheap_rw_insert(rw, at_off(rw, off), ILHEAP_RW_BEFORE, probe, probe_n, NULL),
                    ILHEAP_OK);
    ilheap_il_body_t nb;
    encode_decode(rw, &nb);
    ASSERT_EQ_U(nb.sections[0].fat, 1);
    ASSERT_EQ_U(nb.clauses[0].try_length, 202 + 150);
    ASSERT_EQ_U(nb.code[200 + 150], ILHEAP_OP_LEAVE_S); /* still fits 8 bits */
    edge_check(rw, &s, &nb);
    snap_free(&s);
    ilheap_rw_destroy(rw);
    free(c.b);
}

/* Cecil #365: a widening that forces another. */
static void test_bug_widening_chain(void)
{
    for (int variant = 0; variant < 2; variant++) {
        /* 0: br.s L1 (L1 = 2 + d1)  2: br.s L2 (L2 = 4 + 127 = 131)  nops  131: ret */
        uint8_t d1 = variant ? 124 : 123;
        code_t c = {0};
        put(&c, 0x2B);
        put(&c, d1);
        put(&c, 0x2B);
        put(&c, 127);
        while (c.n < 131)
            put(&c, 0x00);
        put(&c, 0x2A);
        ilheap_il_body_t b;
        make_body(c.b, c.n, NULL, 0, 8, &b);
        ilheap_rw_t *rw = load(&b);
        snap_t s;
        take_snap(rw, &b, &s);
        ilheap_rw_insn_t nop;
        memset(&nop, 0, sizeof nop);
        ASSERT_EQ_U(ilheap_rw_insert(rw, at_off(rw, 4), ILHEAP_RW_BEFORE, &nop, 1, NULL), ILHEAP_OK);
        ilheap_il_body_t nb;
        encode_decode(rw, &nb);
        ASSERT_EQ_U(nb.code[2 + (variant ? 3 : 0)], ILHEAP_OP_BR); /* the second widened */
        ASSERT_EQ_U(nb.code[0], variant ? ILHEAP_OP_BR : ILHEAP_OP_BR_S);
        ASSERT_EQ_U(nb.code_size, 133 + 3 + (variant ? 3 : 0));
        edge_check(rw, &s, &nb);
        snap_free(&s);
        ilheap_rw_destroy(rw);
        free(c.b);
    }
}

static void test_bug_locals_buffer_overrun(void)
{
    /* 700 int32 locals: count 700 = 0x82BC in two bytes */
    uint8_t sig[2 + 1 + 700];
    sig[0] = 0x07;
    sig[1] = 0x80 | (700 >> 8);
    sig[2] = 700 & 0xFF;
    memset(sig + 3, 0x08, 700);
    uint8_t types[300];
    memset(types, 0x0A, sizeof types); /* int64 */
    uint8_t *out = NULL;
    size_t out_size = 0;
    uint32_t first = 0;
    ASSERT_EQ_U(ilheap_rw_locals_append(sig, sizeof sig, types, sizeof types, 300, &out, &out_size,
                                        &first),
                ILHEAP_OK);
    ASSERT_EQ_U(first, 700);
    ASSERT_EQ_U(out_size, 3 + 1000);
    ASSERT_EQ_U(out[0], 0x07);
    ASSERT_EQ_U(((out[1] & 0x3F) << 8) | out[2], 1000);
    ASSERT_EQ_U(out[3], 0x08);
    ASSERT_EQ_U(out[3 + 699], 0x08);
    ASSERT_EQ_U(out[3 + 700], 0x0A);
    free(out);
    /* no locals yet; one new: 07 01 08 */
    uint8_t one = 0x08;
    ASSERT_EQ_U(ilheap_rw_locals_append(NULL, 0, &one, 1, 1, &out, &out_size, &first), ILHEAP_OK);
    ASSERT_EQ_U(out_size, 3);
    ASSERT_EQ_U(out[1], 1);
    ASSERT_EQ_U(first, 0);
    free(out);
    /* 127 -> 128: the count grows from one byte to two */
    uint8_t s127[2 + 127];
    s127[0] = 0x07;
    s127[1] = 127;
    memset(s127 + 2, 0x08, 127);
    ASSERT_EQ_U(ilheap_rw_locals_append(s127, sizeof s127, &one, 1, 1, &out, &out_size, &first),
                ILHEAP_OK);
    ASSERT_EQ_U(out_size, 3 + 128);
    ASSERT_EQ_U(out[1], 0x80);
    ASSERT_EQ_U(out[2], 128);
    free(out);
    /* 16383 -> 16384: four bytes */
    size_t big = 16383;
    uint8_t *sb = malloc(3 + big);
    sb[0] = 0x07;
    sb[1] = 0x80 | (uint8_t)(big >> 8);
    sb[2] = (uint8_t)big;
    memset(sb + 3, 0x08, big);
    ASSERT_EQ_U(ilheap_rw_locals_append(sb, 3 + big, &one, 1, 1, &out, &out_size, &first), ILHEAP_OK);
    ASSERT_EQ_U(out_size, 5 + 16384);
    ASSERT_EQ_U(out[1], 0xC0);
    ASSERT_EQ_U(((uint32_t)out[3] << 8) | out[4], 16384);
    free(out);
    free(sb);
    /* past 65535 locals, and malformed blobs */
    uint8_t s1[3] = {0x07, 0x01, 0x08};
    uint8_t *many = calloc(70000, 1);
    ASSERT_EQ_U(ilheap_rw_locals_append(s1, 3, many, 65535, 65535, &out, &out_size, &first),
                ILHEAP_IL_OVERFLOW);
    free(many);
    uint8_t notlocal[2] = {0x06, 0x00};
    ASSERT_EQ_U(ilheap_rw_locals_append(notlocal, 2, &one, 1, 1, &out, &out_size, &first),
                ILHEAP_IL_BAD_SIG);
    uint8_t cut[2] = {0x07, 0x80};
    ASSERT_EQ_U(ilheap_rw_locals_append(cut, 2, &one, 1, 1, &out, &out_size, &first),
                ILHEAP_IL_BAD_SIG);
    ASSERT_TRUE(out == NULL);
}

/* ---- prefixes and tail calls ------------------------------------------ */

/* altcover #13: nothing may go between tail. call and its ret. */
static void test_bug_tail_call_insert(void)
{
    init_probe();
    /* 0: ldarg.0 1: tail. 3: call 0x0A000001 8: ret */
    static const uint8_t code[] = {0x02, 0xFE, 0x14, 0x28, 1, 0, 0, 0x0A, 0x2A};
    ilheap_il_body_t b;
    make_body(code, sizeof code, NULL, 0, 8, &b);
    ilheap_rw_t *rw = load(&b);
    ilheap_rw_id_t ret = at_off(rw, 8), call = at_off(rw, 3), tail = at_off(rw, 1);
    ASSERT_EQ_U(ilheap_rw_insert(rw, ret, ILHEAP_RW_BLOCK_START, probe, probe_n, NULL),
                ILHEAP_IL_SPLIT_TAIL_CALL);
    ASSERT_EQ_U(ilheap_rw_insert(rw, ret, ILHEAP_RW_BEFORE, probe, probe_n, NULL),
                ILHEAP_IL_SPLIT_TAIL_CALL);
    ASSERT_EQ_U(ilheap_rw_insert(rw, call, ILHEAP_RW_AFTER, probe, probe_n, NULL),
                ILHEAP_IL_SPLIT_TAIL_CALL);
    ASSERT_EQ_U(ilheap_rw_count(rw), 4); /* nothing changed */
    /* before the tail. prefix is fine */
    ASSERT_EQ_U(ilheap_rw_insert(rw, tail, ILHEAP_RW_BLOCK_START, probe, probe_n, NULL), ILHEAP_OK);
    ilheap_il_body_t nb;
    encode_decode(rw, &nb);
    ASSERT_EQ_U(nb.code[1], 0x21);
    ASSERT_EQ_U(nb.code[16], 0xFE);
    ASSERT_EQ_U(nb.code[17], 0x14);
    ilheap_rw_destroy(rw);

    /* tail. behind another prefix: constrained. tail. callvirt; ret */
    static const uint8_t code2[] = {0x02, 0xFE, 0x16, 1, 0, 0, 0x1B, 0xFE, 0x14, 0x6F, 1, 0, 0, 0x0A, 0x2A};
    make_body(code2, sizeof code2, NULL, 0, 8, &b);
    rw = load(&b);
    ASSERT_EQ_U(ilheap_rw_insert(rw, at_off(rw, 14), ILHEAP_RW_BEFORE, probe, probe_n, NULL),
                ILHEAP_IL_SPLIT_TAIL_CALL);
    ilheap_rw_destroy(rw);
}

/* Nothing may go between a prefix and its instruction. */
static void test_bug_prefix_insert(void)
{
    init_probe();
    /* 0 ldarg.0 1 volatile. 3 ldind.i4 4 pop 5 ldarg.0 6 unaligned. 1 9 ldind.i4 10 pop
     * 11 ldarg.0 12 constrained. T 18 callvirt M 23 pop 24 ldnull 25 ldc.i4.0
     * 26 readonly. 28 ldelema T 33 pop 34 ldnull 35 no. 1 38 castclass T 43 pop 44 ret */
    static const uint8_t code[] = {0x02, 0xFE, 0x13, 0x4A, 0x26, 0x02, 0xFE, 0x12, 0x01, 0x4A, 0x26,
                                   0x02, 0xFE, 0x16, 1, 0, 0, 0x1B, 0x6F, 1, 0, 0, 0x0A, 0x26,
                                   0x14, 0x16, 0xFE, 0x1E, 0x8F, 1, 0, 0, 0x01, 0x26,
                                   0x14, 0xFE, 0x19, 0x01, 0x74, 1, 0, 0, 0x01, 0x26, 0x2A};
    ilheap_il_body_t b;
    make_body(code, sizeof code, NULL, 0, 8, &b);
    ilheap_rw_t *rw = load(&b);
    static const uint32_t prefixed[] = {3, 9, 18, 28, 38};
    static const uint32_t prefixes[] = {1, 6, 12, 26, 35};
    for (size_t i = 0; i < 5; i++) {
        ilheap_rw_id_t p = at_off(rw, prefixed[i]), q = at_off(rw, prefixes[i]);
        ASSERT_EQ_U(ilheap_rw_insert(rw, p, ILHEAP_RW_BLOCK_START, probe, probe_n, NULL),
                    ILHEAP_IL_SPLIT_PREFIX);
        ASSERT_EQ_U(ilheap_rw_insert(rw, p, ILHEAP_RW_BEFORE, probe, probe_n, NULL),
                    ILHEAP_IL_SPLIT_PREFIX);
        ASSERT_EQ_U(ilheap_rw_insert(rw, q, ILHEAP_RW_AFTER, probe, probe_n, NULL),
                    ILHEAP_IL_SPLIT_PREFIX);
        ASSERT_EQ_U(ilheap_rw_remove(rw, p), ILHEAP_IL_SPLIT_PREFIX);
        ASSERT_EQ_U(ilheap_rw_insert(rw, q, ILHEAP_RW_BLOCK_START, probe, probe_n, NULL), ILHEAP_OK);
    }
    /* new code may not end with a prefix */
    ilheap_rw_insn_t pre;
    memset(&pre, 0, sizeof pre);
    pre.opcode = ILHEAP_OP_VOLATILE;
    ASSERT_EQ_U(ilheap_rw_insert(rw, at_off(rw, 44), ILHEAP_RW_BEFORE, &pre, 1, NULL),
                ILHEAP_IL_BAD_PREFIX);
    ilheap_il_body_t nb;
    size_t size = encode_decode(rw, &nb);
    ASSERT_EQ_U(nb.code_size, sizeof code + 5 * 15);
    ASSERT_GT_U(size, 0);
    ilheap_rw_destroy(rw);
}

/* ---- edits ------------------------------------------------------------ */

static void test_replace_and_remove_need_exact_stack(void)
{
    ilheap_il_body_t b;
    make_body(cond_code, sizeof cond_code, NULL, 0, 8, &b);
    ilheap_rw_t *rw = load(&b);
    /* remove the nop: the branch still leads to the ret */
    ASSERT_EQ_U(ilheap_rw_remove(rw, at_off(rw, 3)), ILHEAP_OK);
    size_t size;
    ASSERT_EQ_U(ilheap_rw_encode(rw, OUT, sizeof out_words, &size), ILHEAP_IL_STACK_UNKNOWN);
    stack_ctx_t ctx = {0, 0};
    ilheap_rw_set_stack_fn(rw, stack_fn, &ctx);
    ilheap_il_body_t nb;
    encode_decode(rw, &nb);
    static const uint8_t want[] = {0x16, 0x2D, 0x00, 0x2A};
    ASSERT_EQ_U(nb.code_size, sizeof want);
    ASSERT_TRUE(memcmp(nb.code, want, sizeof want) == 0);
    ASSERT_EQ_U(nb.header, ILHEAP_IL_TINY); /* max stack 1 fits a tiny header (which says 8) */
    uint32_t m = 0;
    ASSERT_EQ_U(ilheap_rw_max_stack(rw, &m), ILHEAP_OK);
    ASSERT_EQ_U(m, 1);
    /* replace ldc.i4.0 by ldc.i4 1000 (a longer form); references to it stay */
    ilheap_rw_insn_t r;
    memset(&r, 0, sizeof r);
    r.opcode = ILHEAP_OP_LDC_I4;
    r.op.i = 1000;
    ASSERT_EQ_U(ilheap_rw_replace(rw, ilheap_rw_first(rw), &r, 1, NULL), ILHEAP_OK);
    encode_decode(rw, &nb);
    ASSERT_EQ_U(nb.code_size, 8);
    ASSERT_EQ_U(nb.code[0], 0x20);
    ASSERT_EQ_U(nb.code[1] | nb.code[2] << 8, 1000);
    ilheap_rw_destroy(rw);
}

static void test_counter_probe_bytes(void)
{
    ilheap_rw_insn_t p[ILHEAP_RW_PROBE_MAX];
    ASSERT_EQ_U(ilheap_rw_counter_probe(0x1122334455667788ull, 1, p), 7);
    ASSERT_EQ_U(ilheap_rw_counter_probe(0x100000000ull, 0, p), 0);
    static const uint8_t ret[] = {0x2A};
    ilheap_il_body_t b;
    make_body(ret, 1, NULL, 0, 8, &b);
    for (int ptr64 = 1; ptr64 >= 0; ptr64--) {
        ilheap_rw_t *rw = load(&b);
        size_t n = ilheap_rw_counter_probe(ptr64 ? 0x1122334455667788ull : 0x11223344u, ptr64, p);
        ASSERT_EQ_U(ilheap_rw_insert(rw, ilheap_rw_first(rw), ILHEAP_RW_BLOCK_START, p, n, NULL),
                    ILHEAP_OK);
        ilheap_il_body_t nb;
        encode_decode(rw, &nb);
        static const uint8_t want64[] = {0x21, 0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11,
                                         0xE0, 0x25, 0x4A, 0x17, 0x58, 0x54, 0x2A};
        static const uint8_t want32[] = {0x20, 0x44, 0x33, 0x22, 0x11, 0xE0,
                                         0x25, 0x4A, 0x17, 0x58, 0x54, 0x2A};
        ASSERT_EQ_U(nb.code_size, ptr64 ? sizeof want64 : sizeof want32);
        ASSERT_TRUE(memcmp(nb.code, ptr64 ? want64 : want32, nb.code_size) == 0);
        ASSERT_EQ_U(nb.max_stack, 11);
        ilheap_rw_destroy(rw);
    }
}

static void test_counter64_probe_bytes(void)
{
    ilheap_rw_insn_t p[ILHEAP_RW_PROBE_MAX];
    ASSERT_EQ_U(ilheap_rw_counter64_probe(0x100000000ull, 0, p), 0);
    static const uint8_t ret[] = {0x2A};
    ilheap_il_body_t b;
    make_body(ret, 1, NULL, 0, 8, &b);
    ilheap_rw_t *rw = load(&b);
    size_t n = ilheap_rw_counter64_probe(0x1122334455667788ull, 1, p);
    ASSERT_EQ_U(n, 8);
    ASSERT_EQ_U(ilheap_rw_insert(rw, ilheap_rw_first(rw), ILHEAP_RW_BLOCK_START, p, n, NULL),
                ILHEAP_OK);
    ilheap_il_body_t nb;
    encode_decode(rw, &nb);
    /* ldc.i8; conv.u; dup; ldind.i8; ldc.i4.1; conv.i8; add; stind.i8; ret */
    static const uint8_t want[] = {0x21, 0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11,
                                   0xE0, 0x25, 0x4C, 0x17, 0x6A, 0x58, 0x55, 0x2A};
    ASSERT_EQ_U(nb.code_size, sizeof want);
    ASSERT_TRUE(memcmp(nb.code, want, nb.code_size) == 0);
    ASSERT_EQ_U(nb.max_stack, 11);
    ilheap_rw_destroy(rw);
}

/* The Interlocked probe's shape: `ldc.i8; conv.u; call tok; pop`. */
static ilheap_status_t one_in_one_out(void *ctx, uint16_t opcode, uint32_t token, uint32_t *pops,
                                      uint32_t *pushes)
{
    ++*(int *)ctx;
    if (opcode != ILHEAP_OP_CALL || token != 0x0A000007u)
        return ILHEAP_IL_STACK_UNKNOWN;
    *pops = 1;
    *pushes = 1;
    return ILHEAP_OK;
}

static void test_inserted_call_safe_bound(void)
{
    /* The original calls 0x0A000001 (an effect nobody is asked for). */
    static const uint8_t code[] = {0x28, 0x01, 0x00, 0x00, 0x0A, 0x2A};
    ilheap_il_body_t b;
    make_body(code, sizeof code, NULL, 0, 8, &b);
    ilheap_rw_insn_t p[4] = {{.opcode = ILHEAP_OP_LDC_I8, .op.i = 0x1000},
                             {.opcode = ILHEAP_OP_CONV_U},
                             {.opcode = ILHEAP_OP_CALL, .op.token = 0x0A000007u},
                             {.opcode = ILHEAP_OP_POP}};
    ilheap_rw_t *rw = load(&b);
    ASSERT_EQ_U(ilheap_rw_insert(rw, ilheap_rw_first(rw), ILHEAP_RW_BLOCK_START, p, 4, NULL),
                ILHEAP_OK);
    uint32_t max = 0;
    ASSERT_EQ_U(ilheap_rw_max_stack(rw, &max), ILHEAP_IL_STACK_UNKNOWN); /* no callback */
    int asked = 0;
    ilheap_rw_set_inserted_stack_fn(rw, one_in_one_out, &asked);
    ASSERT_EQ_U(ilheap_rw_max_stack(rw, &max), ILHEAP_OK);
    ASSERT_EQ_U(max, 9); /* 8 + peak 1 */
    ASSERT_EQ_U(asked, 1); /* only the inserted call */
    /* A call that leaves an item behind is not neutral. */
    p[3].opcode = ILHEAP_OP_NOP;
    ilheap_rw_insn_t probe2[4];
    memcpy(probe2, p, sizeof probe2);
    ASSERT_EQ_U(ilheap_rw_insert(rw, ilheap_rw_last(rw), ILHEAP_RW_BEFORE, probe2, 4, NULL),
                ILHEAP_OK);
    ASSERT_EQ_U(ilheap_rw_max_stack(rw, &max), ILHEAP_IL_STACK_NOT_NEUTRAL);
    ilheap_rw_destroy(rw);
}

static void test_flag_probe_bytes(void)
{
    ilheap_rw_insn_t p[ILHEAP_RW_PROBE_MAX];
    ASSERT_EQ_U(ilheap_rw_flag_probe(0x100000000ull, 0, p), 0);
    static const uint8_t ret[] = {0x2A};
    ilheap_il_body_t b;
    make_body(ret, 1, NULL, 0, 8, &b);
    for (int ptr64 = 1; ptr64 >= 0; ptr64--) {
        ilheap_rw_t *rw = load(&b);
        size_t n = ilheap_rw_flag_probe(ptr64 ? 0x1122334455667788ull : 0x11223344u, ptr64, p);
        ASSERT_EQ_U(n, 4);
        ASSERT_EQ_U(ilheap_rw_insert(rw, ilheap_rw_first(rw), ILHEAP_RW_BLOCK_START, p, n, NULL),
                    ILHEAP_OK);
        ilheap_il_body_t nb;
        encode_decode(rw, &nb);
        static const uint8_t want64[] = {0x21, 0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11,
                                         0xE0, 0x17, 0x52, 0x2A};
        static const uint8_t want32[] = {0x20, 0x44, 0x33, 0x22, 0x11, 0xE0, 0x17, 0x52, 0x2A};
        ASSERT_EQ_U(nb.code_size, ptr64 ? sizeof want64 : sizeof want32);
        ASSERT_TRUE(memcmp(nb.code, ptr64 ? want64 : want32, nb.code_size) == 0);
        ASSERT_EQ_U(nb.max_stack, 10); /* tiny's 8 + peak 2 */
        ilheap_rw_destroy(rw);
    }
}

static void test_encode_size_query_and_small_buffer(void)
{
    ilheap_il_body_t b;
    make_body(try_code, sizeof try_code, &try_clause, 1, 8, &b);
    ilheap_rw_t *rw = load(&b);
    size_t need = 0, got = 0;
    ASSERT_EQ_U(ilheap_rw_encode(rw, NULL, 0, &need), ILHEAP_OK);
    ASSERT_EQ_U(need, b.body_size);
    ASSERT_EQ_U(ilheap_rw_encode(rw, OUT, need - 1, &got), ILHEAP_IL_DEST_TOO_SMALL);
    ASSERT_EQ_U(got, need);
    ASSERT_EQ_U(ilheap_rw_encode(rw, OUT, need, &got), ILHEAP_OK);
    ASSERT_TRUE(memcmp(OUT, BODY, need) == 0);
    ilheap_rw_destroy(rw);
}

/* ---- big and EH-heavy bodies ------------------------------------------ */

static void test_switch_thousands_of_targets(void)
{
    init_probe();
    /* ldarg.0; switch (5000 targets over 100 nops); ret */
    code_t c = {0};
    put(&c, 0x02);
    put(&c, 0x45);
    put32(&c, 5000);
    uint32_t base = 2 + 4 + 5000 * 4;
    for (uint32_t k = 0; k < 5000; k++)
        put32(&c, (k * 7) % 101); /* nops at base + 0 .. 99, ret at base + 100 */
    for (int i = 0; i < 100; i++)
        put(&c, 0x00);
    put(&c, 0x2A);
    ilheap_il_body_t b;
    make_body(c.b, c.n, NULL, 0, 8, &b);
    ASSERT_EQ_U(b.code_size, base + 101);
    round_trip_bytes(BODY, b.body_size);
    instrument_blocks_and_check(&b);
    free(c.b);
}

/* Random code (no prefixes) with valid branches and switches, over n bytes. */
static uint64_t rng = 0x243F6A8885A308D3ull;
static uint32_t rnd(uint32_t n)
{
    rng ^= rng >> 12;
    rng ^= rng << 25;
    rng ^= rng >> 27;
    return n ? (uint32_t)((rng * 0x2545F4914F6CDD1Dull) >> 33) % n : 0;
}

/* Emits count random instructions; branch operands are patched to random
 * instruction starts afterwards. Returns the starts in *starts. */
static void random_code(code_t *c, uint32_t count, uint32_t **starts_out, uint32_t *nstarts)
{
    uint32_t *starts = malloc((count + 1) * sizeof *starts);
    uint32_t *fix = malloc((count * 8 + 16) * sizeof *fix), nfix = 0; /* operand offsets */
    uint32_t *fix_end = malloc((count * 8 + 16) * sizeof *fix_end);
    uint8_t *fix_short = malloc(count * 8 + 16);
    for (uint32_t i = 0; i < count; i++) {
        starts[i] = (uint32_t)c->n;
        uint32_t k = rnd(10);
        if (k < 4) {
            static const uint8_t simple[] = {0x00, 0x26, 0x58, 0x16, 0x25, 0x14, 0x2A, 0x7A};
            put(c, simple[rnd(sizeof simple)]);
        } else if (k < 6) {
            put(c, 0x20);
            put32(c, rnd(1u << 30));
        } else if (k < 8) {
            put(c, (uint8_t)(0x2B + rnd(13))); /* short branches */
            fix[nfix] = (uint32_t)c->n;
            fix_end[nfix] = (uint32_t)c->n + 1;
            fix_short[nfix++] = 1;
            put(c, 0);
        } else if (k < 9) {
            put(c, (uint8_t)(0x38 + rnd(13)));
            fix[nfix] = (uint32_t)c->n;
            fix_end[nfix] = (uint32_t)c->n + 4;
            fix_short[nfix++] = 0;
            put32(c, 0);
        } else {
            uint32_t n = 1 + rnd(4);
            put(c, 0x45);
            put32(c, n);
            uint32_t end = (uint32_t)c->n + 4 * n;
            for (uint32_t j = 0; j < n; j++) {
                fix[nfix] = (uint32_t)c->n;
                fix_end[nfix] = end;
                fix_short[nfix++] = 0;
                put32(c, 0);
            }
        }
    }
    put(c, 0x2A);
    starts[count] = (uint32_t)c->n - 1;
    for (uint32_t f = 0; f < nfix; f++) {
        /* short branches aim near (so they usually fit), long ones anywhere */
        uint32_t t;
        if (fix_short[f]) {
            int64_t d;
            uint32_t tries = 0;
            do {
                t = starts[rnd(count + 1)];
                d = (int64_t)t - fix_end[f];
            } while ((d < -128 || d > 127) && ++tries < 50);
            if (d < -128 || d > 127)
                d = 0; /* the next instruction (a short branch ends its instruction) */
            c->b[fix[f]] = (uint8_t)(int8_t)d;
        } else {
            t = starts[rnd(count + 1)];
            uint32_t d = (uint32_t)((int64_t)t - fix_end[f]);
            for (int i = 0; i < 4; i++)
                c->b[fix[f] + i] = (uint8_t)(d >> (8 * i));
        }
    }
    free(fix);
    free(fix_end);
    free(fix_short);
    *starts_out = starts;
    *nstarts = count + 1;
}

static void test_method_over_64k(void)
{
    init_probe();
    code_t c = {0};
    uint32_t *starts, ns;
    random_code(&c, 20000, &starts, &ns);
    ASSERT_GT_U(c.n, 65536);
    ilheap_il_body_t b;
    make_body(c.b, c.n, NULL, 0, 8, &b);
    round_trip_bytes(BODY, b.body_size);
    instrument_blocks_and_check(&b);
    free(starts);
    free(c.b);
}

/* Nested try, a filter, a fault clause, and a handler that ends at the end
 * of the code. Offsets:
 *  0 nop                      outer try [0, 30)
 *  1 nop                      inner try [1, 8)
 *  2 ldarg.0 3 brtrue.s 6 5 nop 6 leave.s 28
 *  8 pop 9 leave.s 28         filter handler [8, 11)? see clauses
 * ... built below with explicit offsets. */
static void test_filters_fault_nested_handler_at_end(void)
{
    init_probe();
    static const uint8_t code[] = {
        /* 0 */ 0x00,
        /* 1 */ 0x02, /* 2 */ 0x2D, 0x02, /* 4 */ 0x00, 0x00, /* 6 */ 0xDE, 0x10, /* inner try [1, 8) */
        /* 8 */ 0x26, 0x17, 0xFE, 0x11,                       /* filter [8, 12) */
        /* 12 */ 0x26, 0xDE, 0x0A,                            /* filter handler [12, 15) */
        /* 15 */ 0xDE, 0x08,                                  /* outer try ends at 17 */
        /* 17 */ 0x00, 0xDC,                                  /* fault [17, 19) */
        /* 19 */ 0x00, 0xDE, 0x02,                            /* 19..22: second try [19, 22) */
        /* 22 */ 0x00, 0x00,                                  /* 22: leave target region */
        /* 24 */ 0x2A,
        /* 25 */ 0x00, 0xDC,                                  /* finally [25, 27) ends at the code's end */
    };
    ilheap_il_clause_t cl[3] = {
        {ILHEAP_IL_FILTER, 1, 7, 12, 3, 8},     /* inner: try [1,8), filter 8, handler [12,15) */
        {ILHEAP_IL_FAULT, 0, 17, 17, 2, 0},     /* outer: try [0,17), fault [17,19) */
        {ILHEAP_IL_FINALLY, 19, 3, 25, 2, 0},   /* try [19,22), finally [25,27) = end */
    };
    /* the leaves: 6: leave.s 8+0x10 = 24; 13: leave.s 15 + 10 = 25?  fix to 24 */
    uint8_t c2[sizeof code];
    memcpy(c2, code, sizeof code);
    c2[7] = (uint8_t)(24 - 8);   /* 6 leave.s -> 24 */
    c2[14] = (uint8_t)(24 - 15); /* 13 leave.s -> 24 */
    c2[16] = (uint8_t)(24 - 17); /* 15 leave.s -> 24 */
    c2[21] = (uint8_t)(22 - 22); /* 20 leave.s -> 22 */
    ilheap_il_body_t b;
    make_body(c2, sizeof c2, cl, 3, 8, &b);
    ASSERT_EQ_U(b.clause_count, 3);
    round_trip_bytes(BODY, b.body_size);
    instrument_blocks_and_check(&b);
    /* clause order kept and the last handler still ends at the end of the code */
    ilheap_rw_t *rw = load(&b);
    size_t nbl = 0;
    ilheap_rw_block_starts(rw, NULL, 0, &nbl);
    ilheap_rw_id_t bl[64];
    ASSERT_EQ_U(ilheap_rw_block_starts(rw, bl, 64, &nbl), ILHEAP_OK);
    for (size_t i = 0; i < nbl; i++)
        ASSERT_EQ_U(ilheap_rw_insert(rw, bl[i], ILHEAP_RW_BLOCK_START, probe, probe_n, NULL), ILHEAP_OK);
    ilheap_il_body_t nb;
    encode_decode(rw, &nb);
    ASSERT_EQ_U(nb.clauses[0].kind, ILHEAP_IL_FILTER);
    ASSERT_EQ_U(nb.clauses[1].kind, ILHEAP_IL_FAULT);
    ASSERT_EQ_U(nb.clauses[2].kind, ILHEAP_IL_FINALLY);
    ASSERT_EQ_U(nb.clauses[2].handler_offset + nb.clauses[2].handler_length, nb.code_size);
    /* inner before outer: the inner try lies inside the outer one */
    ASSERT_GE_U(nb.clauses[0].try_offset, nb.clauses[1].try_offset);
    ASSERT_LE_U(nb.clauses[0].try_offset + nb.clauses[0].try_length,
                nb.clauses[1].try_offset + nb.clauses[1].try_length);
    ilheap_rw_destroy(rw);
}

static void test_block_starts(void)
{
    ilheap_il_body_t b;
    make_body(try_code, sizeof try_code, &try_clause, 1, 8, &b);
    ilheap_rw_t *rw = load(&b);
    ilheap_rw_id_t bl[8];
    size_t n = 0;
    ASSERT_EQ_U(ilheap_rw_block_starts(rw, bl, 1, &n), ILHEAP_IL_DEST_TOO_SMALL);
    ASSERT_EQ_U(ilheap_rw_block_starts(rw, bl, 8, &n), ILHEAP_OK);
    /* 0 (entry, try start), 3 (after leave, handler start), 5 (after endfinally,
     * handler end), 6 (leave target) */
    ASSERT_EQ_U(n, 4);
    uint32_t want[] = {0, 3, 5, 6};
    for (size_t i = 0; i < n; i++) {
        ilheap_rw_insn_t x;
        ilheap_rw_get(rw, bl[i], &x);
        ASSERT_EQ_U(x.offset, want[i]);
    }
    ilheap_rw_destroy(rw);
}

/* Random stack-neutral insertions at random places, by either rule, then
 * the edge check. */
static void test_property_random_insertions(void)
{
    init_probe();
    const char *env = getenv("ILHEAP_RW_PROPS_COUNT");
    unsigned rounds = env ? (unsigned)strtoul(env, NULL, 10) : 300;
    ilheap_rw_insn_t neutral[3];
    memset(neutral, 0, sizeof neutral);
    neutral[0].opcode = ILHEAP_OP_LDNULL;
    neutral[1].opcode = ILHEAP_OP_POP;
    neutral[2].opcode = ILHEAP_OP_NOP;
    for (unsigned r = 0; r < rounds; r++) {
        code_t c = {0};
        uint32_t *starts, ns;
        random_code(&c, 5 + rnd(r % 7 == 0 ? 3000 : 120), &starts, &ns);
        ilheap_il_clause_t cl[4];
        uint32_t ncl = rnd(4);
        for (uint32_t i = 0; i < ncl; i++) {
            uint32_t a = rnd(ns - 1), bb = a + 1 + rnd(ns - 1 - a);
            uint32_t h = rnd(ns - 1), he = h + 1 + rnd(ns - 1 - h);
            cl[i].kind = rnd(3) == 0 ? ILHEAP_IL_FILTER : rnd(2) ? ILHEAP_IL_FINALLY : ILHEAP_IL_CATCH;
            cl[i].try_offset = starts[a];
            cl[i].try_length = (bb == ns - 1 && rnd(2) ? (uint32_t)c.n : starts[bb]) - starts[a];
            cl[i].handler_offset = starts[h];
            cl[i].handler_length = (he == ns - 1 ? (uint32_t)c.n : starts[he]) - starts[h];
            cl[i].filter_or_class = cl[i].kind == ILHEAP_IL_FILTER ? starts[rnd(ns)] : 0x01000000u + i;
        }
        ilheap_il_body_t b;
        make_body(c.b, c.n, cl, ncl, (uint16_t)rnd(20), &b);
        round_trip_bytes(BODY, b.body_size);
        ilheap_rw_t *rw = load(&b);
        snap_t s;
        take_snap(rw, &b, &s);
        uint32_t inserts = 1 + rnd(40);
        for (uint32_t i = 0; i < inserts; i++) {
            ilheap_rw_id_t at = rnd(s.count);
            ilheap_rw_where_t w = (ilheap_rw_where_t)rnd(3);
            const ilheap_rw_insn_t *seq = rnd(2) ? probe : neutral;
            size_t n = seq == probe ? probe_n : 2 + rnd(2);
            ilheap_status_t st = ilheap_rw_insert(rw, at, w, seq, n, NULL);
            ASSERT_EQ_U(st, ILHEAP_OK);
        }
        ilheap_il_body_t nb;
        encode_decode(rw, &nb);
        /* the safe bound: old max + 3 when a counter probe went in, + 1 for ldnull; pop */
        ASSERT_GE_U(nb.max_stack, b.max_stack + 1u);
        ASSERT_LE_U(nb.max_stack, b.max_stack + 3u);
        edge_check(rw, &s, &nb);
        snap_free(&s);
        ilheap_rw_destroy(rw);
        free(starts);
        free(c.b);
    }
}

/* Random bytes (biased towards real opcodes) as code: load never misbehaves
 * (run under ASan), and whatever loads re-encodes byte for byte, also with
 * random insertions refused or accepted without a half-changed state. */
static void test_random_bytes_load_and_round_trip(void)
{
    init_probe();
    static const uint8_t common[] = {0x00, 0x02, 0x06, 0x0A, 0x11, 0x16, 0x1F, 0x20, 0x21, 0x22,
                                     0x23, 0x25, 0x26, 0x28, 0x2A, 0x2B, 0x2D, 0x38, 0x45, 0x58,
                                     0x6F, 0x7A, 0xDD, 0xDE, 0xFE};
    static uint8_t code[256];
    unsigned loaded = 0, tries = 0;
    ilheap_rw_t *rw;
    ASSERT_EQ_U(ilheap_rw_create(&rw), ILHEAP_OK);
    for (tries = 0; tries < 20000; tries++) {
        uint32_t n = rnd(sizeof code + 1);
        for (uint32_t i = 0; i < n; i++)
            code[i] = (uint8_t)(rnd(3) ? common[rnd(sizeof common)] : rnd(256));
        ilheap_il_body_t b;
        memset(&b, 0, sizeof b);
        b.header = ILHEAP_IL_FAT;
        b.code = code;
        b.code_size = n;
        b.max_stack = 8;
        size_t bad = 0;
        ilheap_status_t st = ilheap_rw_load(rw, &b, &bad);
        if (st != ILHEAP_OK) {
            ASSERT_LT_U(bad, n);
            ASSERT_EQ_U(ilheap_rw_count(rw), 0);
            continue;
        }
        loaded++;
        size_t size = 0;
        ASSERT_EQ_U(ilheap_rw_encode(rw, OUT, sizeof out_words, &size), ILHEAP_OK);
        ASSERT_EQ_U(size, 12 + n + 0u);
        ASSERT_TRUE(memcmp(OUT + 12, code, n) == 0);
        size_t count = ilheap_rw_count(rw);
        for (int k = 0; k < 4 && count; k++) {
            ilheap_rw_id_t at = rnd((uint32_t)count);
            size_t before = ilheap_rw_count(rw);
            st = ilheap_rw_insert(rw, at, (ilheap_rw_where_t)rnd(3), probe, probe_n, NULL);
            ASSERT_EQ_U(ilheap_rw_count(rw), before + (st == ILHEAP_OK ? probe_n : 0));
        }
        st = ilheap_rw_encode(rw, OUT, sizeof out_words, &size);
        ASSERT_TRUE(st == ILHEAP_OK || st == ILHEAP_IL_STACK_NOT_NEUTRAL);
    }
    ilheap_rw_destroy(rw);
    fprintf(stderr, "  %u of %u random codes loaded\n", loaded, tries);
    ASSERT_GT_U(loaded, 100);
}

/* Appending at the end, an empty body, several probes at one block (each
 * new one runs first), and bad ids. */
static void test_append_empty_and_repeated_block_start(void)
{
    init_probe();
    ilheap_il_body_t b;
    memset(&b, 0, sizeof b);
    b.max_stack = 8;
    ilheap_rw_t *rw = load(&b);
    ASSERT_EQ_U(ilheap_rw_first(rw), ILHEAP_RW_END);
    ASSERT_EQ_U(ilheap_rw_insert(rw, ILHEAP_RW_END, ILHEAP_RW_BLOCK_START, probe, probe_n, NULL),
                ILHEAP_IL_BAD_REF);
    ilheap_rw_insn_t ret;
    memset(&ret, 0, sizeof ret);
    ret.opcode = ILHEAP_OP_RET;
    ASSERT_EQ_U(ilheap_rw_insert(rw, ILHEAP_RW_END, ILHEAP_RW_BEFORE, &ret, 1, NULL), ILHEAP_OK);
    ASSERT_EQ_U(ilheap_rw_count(rw), 1);
    size_t size;
    /* an inserted ret is not stack neutral: the exact simulation is needed */
    ASSERT_EQ_U(ilheap_rw_encode(rw, OUT, sizeof out_words, &size), ILHEAP_IL_STACK_UNKNOWN);
    stack_ctx_t ctx = {0, 0};
    ilheap_rw_set_stack_fn(rw, stack_fn, &ctx);
    ASSERT_EQ_U(ilheap_rw_encode(rw, OUT, sizeof out_words, &size), ILHEAP_OK);
    ASSERT_EQ_U(size, 2); /* tiny: one ret */
    ASSERT_EQ_U(OUT[1], 0x2A);
    ilheap_rw_destroy(rw);

    /* three probes at the block of the ret in cond_code, with different addresses */
    make_body(cond_code, sizeof cond_code, NULL, 0, 8, &b);
    rw = load(&b);
    ilheap_rw_id_t ret_id = at_off(rw, 4);
    for (int k = 0; k < 3; k++) {
        ilheap_rw_insn_t p[ILHEAP_RW_PROBE_MAX];
        size_t n = ilheap_rw_counter_probe(0x1000u + (uint64_t)k, 1, p);
        ASSERT_EQ_U(ilheap_rw_insert(rw, ret_id, ILHEAP_RW_BLOCK_START, p, n, NULL), ILHEAP_OK);
    }
    ilheap_il_body_t nb;
    encode_decode(rw, &nb);
    ASSERT_EQ_U(nb.code[2], 1);        /* the branch lands on the first probe, at 4 */
    ASSERT_EQ_U(nb.code[5], 0x02);     /* the last one inserted runs first: address 0x1002 */
    ASSERT_EQ_U(nb.code[20], 0x01);
    ASSERT_EQ_U(nb.code[35], 0x00);
    ASSERT_EQ_U(nb.code[49], 0x2A);
    ASSERT_EQ_U(nb.max_stack, 11);     /* adjacent neutral probes: the peak of one */
    ASSERT_EQ_U(ilheap_rw_remove(rw, 12345), ILHEAP_IL_BAD_REF);
    ilheap_rw_insn_t x;
    ASSERT_EQ_U(ilheap_rw_get(rw, 12345, &x), ILHEAP_IL_BAD_REF);
    ASSERT_EQ_U(ilheap_rw_insert(rw, 12345, ILHEAP_RW_AFTER, probe, probe_n, NULL), ILHEAP_IL_BAD_REF);
    ilheap_rw_destroy(rw);
}

/* Removing code that was inserted at a block start: references fall back
 * to what follows it (the next older probe, or the instruction), no cycle. */
static void test_remove_inserted_block_start_code(void)
{
    ilheap_il_body_t b;
    make_body(cond_code, sizeof cond_code, NULL, 0, 8, &b);
    ilheap_rw_t *rw = load(&b);
    stack_ctx_t ctx = {0, 0};
    ilheap_rw_set_stack_fn(rw, stack_fn, &ctx);
    ilheap_rw_id_t ret = at_off(rw, 4), p1, p2;
    ilheap_rw_insn_t nop;
    memset(&nop, 0, sizeof nop);
    ASSERT_EQ_U(ilheap_rw_insert(rw, ret, ILHEAP_RW_BLOCK_START, &nop, 1, &p1), ILHEAP_OK);
    ASSERT_EQ_U(ilheap_rw_insert(rw, ret, ILHEAP_RW_BLOCK_START, &nop, 1, &p2), ILHEAP_OK);
    ASSERT_EQ_U(ilheap_rw_resolve(rw, ret), p2);
    ASSERT_EQ_U(ilheap_rw_remove(rw, p2), ILHEAP_OK); /* the newest: p1 is the block start again */
    ASSERT_EQ_U(ilheap_rw_resolve(rw, ret), p1);
    ASSERT_EQ_U(ilheap_rw_resolve(rw, p1), p1);
    ASSERT_EQ_U(ilheap_rw_remove(rw, p1), ILHEAP_OK); /* the last: the ret itself */
    ASSERT_EQ_U(ilheap_rw_resolve(rw, ret), ret);
    ASSERT_EQ_U(ilheap_rw_resolve(rw, p1), ret);
    ASSERT_EQ_U(ilheap_rw_resolve(rw, p2), ret);
    ilheap_il_body_t nb;
    encode_decode(rw, &nb);
    ASSERT_EQ_U(nb.code_size, sizeof cond_code);
    ASSERT_TRUE(memcmp(nb.code, cond_code, sizeof cond_code) == 0);
    /* a probe at the block again after that */
    ASSERT_EQ_U(ilheap_rw_insert(rw, ret, ILHEAP_RW_BLOCK_START, &nop, 1, &p1), ILHEAP_OK);
    ASSERT_EQ_U(ilheap_rw_resolve(rw, ret), p1);
    encode_decode(rw, &nb);
    ASSERT_EQ_U(nb.code[2], 1); /* brtrue.s lands on the new nop at 4 */
    ilheap_rw_destroy(rw);
}

/* Random insertions by all three rules, then every inserted instruction
 * removed in random order: every reference leads to its original
 * instruction again (the redirect chains never cycle or strand). */
static void test_property_insert_then_remove_all(void)
{
    init_probe();
    for (unsigned r = 0; r < 200; r++) {
        code_t c = {0};
        uint32_t *starts, ns;
        random_code(&c, 5 + rnd(60), &starts, &ns);
        ilheap_il_clause_t cl[2];
        uint32_t ncl = rnd(3);
        for (uint32_t i = 0; i < ncl; i++) {
            uint32_t a = rnd(ns - 1), bb = a + 1 + rnd(ns - 1 - a);
            cl[i].kind = ILHEAP_IL_FILTER;
            cl[i].try_offset = starts[a];
            cl[i].try_length = starts[bb] - starts[a];
            cl[i].handler_offset = starts[bb];
            cl[i].handler_length = (uint32_t)c.n - starts[bb];
            cl[i].filter_or_class = starts[rnd(ns)];
        }
        ilheap_il_body_t b;
        make_body(c.b, c.n, cl, ncl, 8, &b);
        ilheap_rw_t *rw = load(&b);
        snap_t s;
        take_snap(rw, &b, &s);
        ilheap_rw_clause_t before[2];
        for (uint32_t i = 0; i < ncl; i++)
            ilheap_rw_clause(rw, i, &before[i]);
        uint32_t inserts = 1 + rnd(30);
        for (uint32_t i = 0; i < inserts; i++) {
            /* at an original instruction or at inserted code */
            ilheap_rw_id_t at = rnd(4) ? rnd(s.count) : s.count + rnd((uint32_t)(ilheap_rw_count(rw) - s.count + 1));
            ilheap_rw_insn_t one;
            memset(&one, 0, sizeof one);
            const ilheap_rw_insn_t *seq = rnd(2) ? probe : &one;
            size_t n = seq == probe ? probe_n : 1;
            ilheap_status_t st = ilheap_rw_insert(rw, at, (ilheap_rw_where_t)rnd(3), seq, n, NULL);
            ASSERT_TRUE(st == ILHEAP_OK || st == ILHEAP_IL_BAD_REF);
        }
        /* remove the inserted ids (all ids >= s.count) in random order */
        uint32_t total = (uint32_t)ilheap_rw_count(rw);
        uint32_t extra = total - s.count;
        uint32_t *ids = malloc((extra + 1) * sizeof *ids), k = 0;
        for (ilheap_rw_id_t j = ilheap_rw_first(rw); j != ILHEAP_RW_END; j = ilheap_rw_next(rw, j))
            if (j >= s.count)
                ids[k++] = j;
        ASSERT_EQ_U(k, extra);
        for (uint32_t i = k; i > 1; i--) {
            uint32_t j = rnd(i), t = ids[i - 1];
            ids[i - 1] = ids[j];
            ids[j] = t;
        }
        for (uint32_t i = 0; i < k; i++)
            ASSERT_EQ_U(ilheap_rw_remove(rw, ids[i]), ILHEAP_OK);
        free(ids);
        ASSERT_EQ_U(ilheap_rw_count(rw), s.count);
        for (uint32_t id = 0; id < s.count; id++) {
            ASSERT_EQ_U(ilheap_rw_resolve(rw, id), id);
            ilheap_rw_insn_t x;
            ASSERT_EQ_U(ilheap_rw_get(rw, id, &x), ILHEAP_OK);
            const ilheap_il_opinfo_t *in = ilheap_il_opinfo(x.opcode);
            for (uint32_t t = 0; t < s.tcount[id]; t++) {
                ilheap_rw_id_t tg = in->operand == ILHEAP_OPND_SWITCH ? x.op.sw.targets[t] : x.op.target;
                ASSERT_EQ_U(tg, orig_id(&s, s.targets[s.tfirst[id] + t]));
            }
        }
        for (uint32_t i = 0; i < ncl; i++) {
            ilheap_rw_clause_t now;
            ilheap_rw_clause(rw, i, &now);
            ASSERT_EQ_U(now.try_start, before[i].try_start);
            ASSERT_EQ_U(now.try_end, before[i].try_end);
            ASSERT_EQ_U(now.handler_start, before[i].handler_start);
            ASSERT_EQ_U(now.handler_end, before[i].handler_end);
            ASSERT_EQ_U(now.filter_start, before[i].filter_start);
        }
        snap_free(&s);
        ilheap_rw_destroy(rw);
        free(starts);
        free(c.b);
    }
}

TEST_MAIN(TEST(test_round_trip_samples_and_corpus), TEST(test_decode_rejections),
          TEST(test_decode_clause_not_on_boundary), TEST(test_insert_block_start_retargets_branch),
          TEST(test_insert_before_only_keeps_targets), TEST(test_bug_branch_skips_arg_loads),
          TEST(test_bug_branch_to_final_ret), TEST(test_bug_try_end_not_retargeted),
          TEST(test_bug_insert_before_ret_in_try), TEST(test_bug_maxstack_wrap),
          TEST(test_bug_maxstack_branches_considered), TEST(test_bug_maxstack_methodspec_call),
          TEST(test_maxstack_mismatch_and_safe_bound_limits), TEST(test_bug_tiny_header_overflow),
          TEST(test_bug_small_eh_overflow), TEST(test_bug_widening_chain),
          TEST(test_bug_locals_buffer_overrun), TEST(test_bug_tail_call_insert),
          TEST(test_bug_prefix_insert), TEST(test_replace_and_remove_need_exact_stack),
          TEST(test_counter_probe_bytes), TEST(test_flag_probe_bytes),
          TEST(test_counter64_probe_bytes), TEST(test_inserted_call_safe_bound),
          TEST(test_encode_size_query_and_small_buffer),
          TEST(test_switch_thousands_of_targets), TEST(test_method_over_64k),
          TEST(test_filters_fault_nested_handler_at_end), TEST(test_block_starts),
          TEST(test_property_random_insertions), TEST(test_random_bytes_load_and_round_trip),
          TEST(test_append_empty_and_repeated_block_start),
          TEST(test_remove_inserted_block_start_code), TEST(test_property_insert_then_remove_all))
