/* Property tests over random bodies (fixed seed, bounded count; set
 * ILHEAP_IL_PROPS_COUNT for a longer run):
 *  - encode then decode gives the same fields, with the formats the rules say;
 *  - preserve mode re-encodes a decoded body byte for byte, also with random
 *    recorded formats (fat header, fat or small sections, several sections);
 *  - prologue insertion moves every clause by exactly the prologue's length;
 *  - values past their fields are errors. */
#include "ilheap/il.h"
#include "test.h"

#define MAX_CLAUSES 40
#define MAX_CODE 70000
#define MAX_PROLOGUE 65600
static uint8_t pool[MAX_CODE + MAX_PROLOGUE];
static uint32_t out_words[(MAX_CODE + MAX_PROLOGUE + 24 * MAX_CLAUSES + 256) / 4];
static uint32_t out2_words[sizeof out_words / 4];
#define OUT ((uint8_t *)out_words)
#define OUT2 ((uint8_t *)out2_words)

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static uint64_t rnd(void)
{
    /* xorshift64*: deterministic across platforms */
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545F4914F6CDD1Dull;
}
static uint32_t below(uint64_t n)
{
    return n ? (uint32_t)(rnd() % n) : 0;
}

static unsigned count(void)
{
    const char *env = getenv("ILHEAP_IL_PROPS_COUNT");
    return env ? (unsigned)strtoul(env, NULL, 10) : 8000;
}

/* A random range [off, off + len) inside n bytes, sometimes long or far. */
static void range(uint32_t n, uint32_t *off, uint32_t *len)
{
    *off = below(n + 1);
    uint32_t room = n - *off;
    *len = below(2) ? below(room < 300 ? room + 1 : 300) : below(room + 1);
}

static ilheap_il_clause_t clause_store[MAX_CLAUSES];

static void random_body(ilheap_il_body_t *b)
{
    memset(b, 0, sizeof *b);
    uint32_t shape = below(10);
    b->code_size = shape < 6 ? below(80) : shape < 9 ? below(2000) : below(MAX_CODE + 1);
    b->code = pool + below(MAX_PROLOGUE);
    b->max_stack = (uint16_t)(below(3) ? below(12) : below(65536));
    b->local_sig = below(3) ? 0 : 0x11000000u | below(1u << 24);
    b->init_locals = below(4) == 0;
    uint32_t n = below(3) ? 0 : below(4) ? below(4) : below(MAX_CLAUSES + 1);
    for (uint32_t i = 0; i < n; i++) {
        ilheap_il_clause_t *c = &clause_store[i];
        static const uint32_t kinds[] = {ILHEAP_IL_CATCH, ILHEAP_IL_FILTER, ILHEAP_IL_FINALLY,
                                         ILHEAP_IL_FAULT};
        c->kind = kinds[below(4)];
        range(b->code_size, &c->try_offset, &c->try_length);
        range(b->code_size, &c->handler_offset, &c->handler_length);
        if (c->kind == ILHEAP_IL_FILTER && b->code_size == 0)
            c->kind = ILHEAP_IL_FINALLY; /* a filter needs a byte of code */
        c->filter_or_class = c->kind == ILHEAP_IL_CATCH    ? 0x01000000u | below(1u << 24)
                             : c->kind == ILHEAP_IL_FILTER ? below(b->code_size)
                                                           : 0;
    }
    b->clauses = clause_store;
    b->clause_count = n;
}

static int clause_fits_small(const ilheap_il_clause_t *c, uint32_t shift)
{
    return c->try_offset + shift <= 0xFFFF && c->try_length <= 0xFF &&
           c->handler_offset + shift <= 0xFFFF && c->handler_length <= 0xFF;
}

static size_t encode_decode(const ilheap_il_body_t *b, const ilheap_il_edit_t *e,
                            ilheap_il_mode_t mode, uint8_t *out, ilheap_il_body_t *d,
                            ilheap_il_clause_t *cl)
{
    size_t size = 0, queried = 0;
    if (ilheap_il_rewrite(b, e, mode, NULL, 0, &queried) != ILHEAP_OK ||
        ilheap_il_rewrite(b, e, mode, out, sizeof out_words, &size) != ILHEAP_OK)
        TEST_FAIL_("encode: %s", ilheap_last_message());
    ASSERT_EQ_U(size, queried);
    if (ilheap_il_decode(out, size, d, cl, MAX_CLAUSES) != ILHEAP_OK)
        TEST_FAIL_("decode of an encoded body: %s", ilheap_last_message());
    ASSERT_EQ_U(d->body_size, size);
    /* The encoder writes zero padding (other quirks may be asked for). */
    ASSERT_EQ_U(d->quirks & ILHEAP_IL_QUIRK_PADDING_NONZERO, 0);
    return size;
}

/* The fields of moved equal those of b with the prologue and shift applied,
 * checked field by field here (not through the library's own check). */
static void assert_same_fields(const ilheap_il_body_t *b, const ilheap_il_body_t *d,
                               const uint8_t *prologue, uint32_t shift, uint32_t extra_stack)
{
    uint32_t stack = b->max_stack + extra_stack;
    ASSERT_EQ_U(d->max_stack, d->header == ILHEAP_IL_TINY && stack <= 8 ? 8 : stack);
    ASSERT_EQ_U(d->local_sig, b->local_sig);
    ASSERT_EQ_U(d->init_locals, b->init_locals);
    ASSERT_EQ_U(d->code_size, b->code_size + shift);
    if (shift)
        ASSERT_MEM_EQ(d->code, prologue, shift);
    ASSERT_MEM_EQ(d->code + shift, b->code, b->code_size);
    ASSERT_EQ_U(d->clause_count, b->clause_count);
    for (uint32_t i = 0; i < b->clause_count; i++) {
        const ilheap_il_clause_t *x = &b->clauses[i], *y = &d->clauses[i];
        ASSERT_EQ_U(y->kind, x->kind);
        ASSERT_EQ_U(y->try_offset, x->try_offset + shift);
        ASSERT_EQ_U(y->try_length, x->try_length);
        ASSERT_EQ_U(y->handler_offset, x->handler_offset + shift);
        ASSERT_EQ_U(y->handler_length, x->handler_length);
        ASSERT_EQ_U(y->filter_or_class, x->filter_or_class + (x->kind == ILHEAP_IL_FILTER ? shift : 0));
    }
    ASSERT_STATUS(ilheap_il_check_moved(b, d, prologue, shift, extra_stack), ILHEAP_OK);
}

/* The formats compact mode must choose (II.25.4.2, II.25.4.5). */
static void assert_compact_formats(const ilheap_il_body_t *b, const ilheap_il_body_t *d,
                                   uint32_t shift, uint32_t extra_stack)
{
    int tiny = b->code_size + shift <= 63 && b->max_stack + extra_stack <= 8 && b->local_sig == 0 &&
               !b->init_locals && b->clause_count == 0;
    ASSERT_EQ_U(d->header, tiny ? ILHEAP_IL_TINY : ILHEAP_IL_FAT);
    ASSERT_EQ_U(d->section_count, b->clause_count ? 1 : 0);
    if (b->clause_count) {
        int small = b->clause_count <= 20;
        for (uint32_t i = 0; i < b->clause_count; i++)
            small = small && clause_fits_small(&b->clauses[i], shift);
        ASSERT_EQ_U(d->sections[0].fat, !small);
        ASSERT_EQ_U(d->sections[0].data_size, b->clause_count * (small ? 12u : 24u) + 4);
    }
}

static ilheap_il_clause_t cl1[MAX_CLAUSES], cl2[MAX_CLAUSES];

static void test_encode_decode_same_fields(void)
{
    for (unsigned iter = 0, n = count(); iter < n; iter++) {
        ilheap_il_body_t b, d, d2;
        random_body(&b);
        size_t size = encode_decode(&b, NULL, ILHEAP_IL_COMPACT, OUT, &d, cl1);
        assert_same_fields(&b, &d, NULL, 0, 0);
        assert_compact_formats(&b, &d, 0, 0);
        /* Preserve mode on the decoded body: byte for byte. */
        ASSERT_EQ_U(encode_decode(&d, NULL, ILHEAP_IL_PRESERVE, OUT2, &d2, cl2), size);
        ASSERT_MEM_EQ(OUT, OUT2, size);
    }
}

/* Random recorded formats: preserve keeps them (growing only what must grow),
 * and the result re-encodes byte for byte. */
static void test_preserve_random_formats(void)
{
    for (unsigned iter = 0, n = count(); iter < n; iter++) {
        ilheap_il_body_t b, d, d2;
        random_body(&b);
        b.header = (uint8_t)below(2);
        uint32_t left = b.clause_count;
        if (left || below(4) == 0) {
            b.section_count = 1 + below(3);
            for (uint32_t s = 0; s < b.section_count; s++) {
                ilheap_il_section_t *sec = &b.sections[s];
                sec->fat = (uint8_t)below(2);
                sec->clause_count = s + 1 == b.section_count ? left : below(left + 1);
                left -= sec->clause_count;
                uint32_t cs = sec->fat ? 24 : 12;
                /* Sometimes an inexact DataSize that reads as the same count. */
                sec->data_size = sec->clause_count * cs + (below(3) ? 4 : below(cs));
                sec->reserved = sec->fat ? 0 : (uint16_t)below(3);
            }
        }
        size_t size = encode_decode(&b, NULL, ILHEAP_IL_PRESERVE, OUT, &d, cl1);
        assert_same_fields(&b, &d, NULL, 0, 0);
        int tiny_ok = b.code_size <= 63 && b.max_stack <= 8 && !b.local_sig && !b.init_locals &&
                      b.section_count == 0;
        ASSERT_EQ_U(d.header, b.header == ILHEAP_IL_TINY && tiny_ok ? ILHEAP_IL_TINY : ILHEAP_IL_FAT);
        ASSERT_EQ_U(d.section_count, b.section_count);
        uint32_t first = 0;
        for (uint32_t s = 0; s < b.section_count; s++) {
            const ilheap_il_section_t *want = &b.sections[s], *got = &d.sections[s];
            /* Small holds 20 clauses, or 21 under a kept DataSize of 252..255. */
            int fits = want->clause_count <= 20 ||
                       (!want->fat && want->data_size <= 255 && want->data_size / 12 == want->clause_count);
            for (uint32_t i = first; i < first + want->clause_count; i++)
                fits = fits && clause_fits_small(&b.clauses[i], 0);
            first += want->clause_count;
            ASSERT_EQ_U(got->fat, want->fat || !fits);
            ASSERT_EQ_U(got->clause_count, want->clause_count);
            if (got->fat == want->fat && want->data_size <= (want->fat ? 0xFFFFFFu : 0xFFu)) {
                ASSERT_EQ_U(got->data_size, want->data_size);
                ASSERT_EQ_U(got->reserved, want->reserved);
            } else {
                ASSERT_EQ_U(got->data_size, got->clause_count * (got->fat ? 24u : 12u) + 4);
            }
        }
        ASSERT_EQ_U(encode_decode(&d, NULL, ILHEAP_IL_PRESERVE, OUT2, &d2, cl2), size);
        ASSERT_MEM_EQ(OUT, OUT2, size);
    }
}

static void test_prologue_shifts_every_clause(void)
{
    for (unsigned iter = 0, n = count(); iter < n; iter++) {
        ilheap_il_body_t b, d, d2;
        random_body(&b);
        uint32_t shift = below(4) ? below(16) : below(MAX_PROLOGUE + 1);
        uint32_t extra = below(4);
        if (b.max_stack + extra > 65535)
            extra = 0;
        ilheap_il_edit_t e = {0};
        e.prologue = pool + below(MAX_CODE - MAX_PROLOGUE);
        e.prologue_size = shift;
        e.extra_stack = extra;
        encode_decode(&b, &e, ILHEAP_IL_COMPACT, OUT, &d, cl1);
        assert_same_fields(&b, &d, e.prologue, shift, extra);
        assert_compact_formats(&b, &d, shift, extra);
        /* Preserve mode from a decoded original: same fields; formats kept or grown. */
        ilheap_il_body_t orig;
        encode_decode(&b, NULL, ILHEAP_IL_COMPACT, OUT2, &orig, cl2);
        static ilheap_il_clause_t cl3[MAX_CLAUSES];
        encode_decode(&orig, &e, ILHEAP_IL_PRESERVE, OUT, &d2, cl3);
        assert_same_fields(&orig, &d2, e.prologue, shift, extra);
        ASSERT_TRUE(d2.header >= orig.header);
        if (orig.section_count)
            ASSERT_TRUE(d2.sections[0].fat >= orig.sections[0].fat);
    }
}

/* Values past their fields are errors, whatever else the body holds. */
static void test_overflow_is_error(void)
{
    for (unsigned iter = 0, n = count() / 4; iter < n; iter++) {
        ilheap_il_body_t b;
        random_body(&b);
        ilheap_il_edit_t e = {0};
        size_t size;
        e.extra_stack = 65536 - b.max_stack + below(1000);
        ASSERT_STATUS(ilheap_il_rewrite(&b, &e, (ilheap_il_mode_t)below(2), NULL, 0, &size),
                      ILHEAP_IL_OVERFLOW);
#if SIZE_MAX > UINT32_MAX
        memset(&e, 0, sizeof e);
        e.prologue = pool;
        e.prologue_size = (size_t)UINT32_MAX - b.code_size + 1 + below(1000);
        ASSERT_STATUS(ilheap_il_rewrite(&b, &e, (ilheap_il_mode_t)below(2), NULL, 0, &size),
                      ILHEAP_IL_OVERFLOW);
        /* The same with room to spare is fine (only the size is computed). */
        e.prologue_size = (size_t)UINT32_MAX - b.code_size;
        ASSERT_STATUS(ilheap_il_rewrite(&b, &e, (ilheap_il_mode_t)below(2), NULL, 0, &size),
                      ILHEAP_OK);
#endif
    }
}

static void fill_pool(void)
{
    for (size_t i = 0; i < sizeof pool; i++)
        pool[i] = (uint8_t)rnd();
}

static void test_setup(void)
{
    fill_pool();
    ASSERT_GT_U(count(), 0);
}

TEST_MAIN(TEST(test_setup), TEST(test_encode_decode_same_fields), TEST(test_preserve_random_formats),
          TEST(test_prologue_shifts_every_clause), TEST(test_overflow_is_error))
