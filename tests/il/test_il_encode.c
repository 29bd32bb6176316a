/* Encoding and rewriting: the format choice rules, preserve mode, the rewrite
 * helpers, and every error (overflow, destination, alignment, arguments). */
#include "ilheap/il.h"
#include "il_samples.h"
#include "test.h"

#define CAP 32
static ilheap_il_clause_t clauses[CAP], clauses2[CAP];
static ilheap_il_body_t body, again;
/* 4-aligned output buffer, large enough for the biggest body here. */
static uint32_t out_words[(70000 + 2048) / 4];
#define OUT ((uint8_t *)out_words)
#define OUT_CAP sizeof out_words
static uint8_t code[70000];

static size_t encode(const ilheap_il_body_t *b, const ilheap_il_edit_t *e, ilheap_il_mode_t mode)
{
    size_t size = 0, queried = 0;
    ilheap_status_t st = ilheap_il_rewrite(b, e, mode, NULL, 0, &queried);
    if (st != ILHEAP_OK)
        TEST_FAIL_("size query: %s", ilheap_last_message());
    st = ilheap_il_rewrite(b, e, mode, OUT, OUT_CAP, &size);
    if (st != ILHEAP_OK)
        TEST_FAIL_("encode: %s", ilheap_last_message());
    ASSERT_EQ_U(size, queried);
    st = ilheap_il_decode(OUT, size, &again, clauses2, CAP);
    if (st != ILHEAP_OK)
        TEST_FAIL_("decode of the encoded body: %s", ilheap_last_message());
    ASSERT_EQ_U(again.body_size, size);
    return size;
}

static ilheap_il_body_t simple(uint32_t code_size, uint16_t max_stack)
{
    ilheap_il_body_t b;
    memset(&b, 0, sizeof b);
    b.code = code;
    b.code_size = code_size;
    b.max_stack = max_stack;
    return b;
}

static void test_compact_header_choice(void)
{
    for (uint32_t i = 0; i < sizeof code; i++)
        code[i] = (uint8_t)(i * 7 + 1);
    ilheap_il_body_t b = simple(63, 8);
    ASSERT_EQ_U(encode(&b, NULL, ILHEAP_IL_COMPACT), 64);
    /* 2 | 63 << 2: the size stays out of the format bits. */
    ASSERT_EQ_X(OUT[0], 0xFE);
    ASSERT_EQ_U(again.header, ILHEAP_IL_TINY);
    ASSERT_MEM_EQ(OUT + 1, code, 63);

    b = simple(64, 8); /* one byte too many for tiny */
    ASSERT_EQ_U(encode(&b, NULL, ILHEAP_IL_COMPACT), 12 + 64);
    ASSERT_EQ_U(again.header, ILHEAP_IL_FAT);
    ASSERT_EQ_U(again.code_size, 64);
    ASSERT_EQ_X(OUT[0], 0x03);
    ASSERT_EQ_X(OUT[1], 0x30);

    b = simple(10, 9); /* max stack past 8 */
    encode(&b, NULL, ILHEAP_IL_COMPACT);
    ASSERT_EQ_U(again.header, ILHEAP_IL_FAT);
    ASSERT_EQ_U(again.max_stack, 9);

    b = simple(10, 0); /* smaller max stack: tiny, which implies 8 */
    encode(&b, NULL, ILHEAP_IL_COMPACT);
    ASSERT_EQ_U(again.header, ILHEAP_IL_TINY);
    ASSERT_EQ_U(again.max_stack, 8);

    b = simple(10, 1);
    b.local_sig = 0x11000003;
    encode(&b, NULL, ILHEAP_IL_COMPACT);
    ASSERT_EQ_U(again.header, ILHEAP_IL_FAT);
    ASSERT_EQ_X(again.local_sig, 0x11000003);
    ASSERT_EQ_U(again.max_stack, 1);

    b = simple(10, 1);
    b.init_locals = 1;
    encode(&b, NULL, ILHEAP_IL_COMPACT);
    ASSERT_EQ_U(again.header, ILHEAP_IL_FAT);
    ASSERT_EQ_U(again.init_locals, 1);
    ASSERT_EQ_X(OUT[0], 0x13);

    ilheap_il_clause_t c = {ILHEAP_IL_FINALLY, 0, 1, 1, 1, 0};
    b = simple(2, 1);
    b.clauses = &c;
    b.clause_count = 1;
    ASSERT_EQ_U(encode(&b, NULL, ILHEAP_IL_COMPACT), 12 + 2 + 2 + 4 + 12);
    ASSERT_EQ_U(again.header, ILHEAP_IL_FAT);
    ASSERT_EQ_X(OUT[0], 0x0B); /* MoreSects */
    ASSERT_EQ_U(OUT[14], 0);   /* padding is zero */
    ASSERT_EQ_U(OUT[15], 0);
    ASSERT_EQ_X(OUT[16], 0x01);
    ASSERT_EQ_U(OUT[17], 16); /* DataSize 12 * 1 + 4 */
    ASSERT_EQ_U(again.clause_count, 1);
    ASSERT_EQ_U(clauses2[0].kind, ILHEAP_IL_FINALLY);
}

static ilheap_il_clause_t clause_at(uint32_t kind, uint32_t t, uint32_t tl, uint32_t h, uint32_t hl)
{
    ilheap_il_clause_t c = {kind, t, tl, h, hl, kind == ILHEAP_IL_CATCH ? 0x01000001u : 0};
    return c;
}

/* Small EH only when every clause fits and there are at most 20. */
static void test_compact_section_choice(void)
{
    ilheap_il_clause_t cs[21];
    for (int i = 0; i < 21; i++)
        cs[i] = clause_at(ILHEAP_IL_CATCH, 0, 1, 1, 1);
    ilheap_il_body_t b = simple(70000, 2);
    b.clauses = cs;
    b.clause_count = 20;
    encode(&b, NULL, ILHEAP_IL_COMPACT);
    ASSERT_EQ_U(again.sections[0].fat, 0);
    ASSERT_EQ_U(again.sections[0].data_size, 20 * 12 + 4);
    b.clause_count = 21;
    encode(&b, NULL, ILHEAP_IL_COMPACT);
    ASSERT_EQ_U(again.sections[0].fat, 1);
    ASSERT_EQ_U(again.sections[0].data_size, 21 * 24 + 4);
    ASSERT_EQ_U(again.clause_count, 21);

    struct {
        ilheap_il_clause_t c;
        int fat;
    } cases[] = {
        {clause_at(ILHEAP_IL_CATCH, 65535, 1, 0, 1), 0},
        {clause_at(ILHEAP_IL_CATCH, 65536, 1, 0, 1), 1},
        {clause_at(ILHEAP_IL_CATCH, 0, 255, 0, 1), 0},
        {clause_at(ILHEAP_IL_CATCH, 0, 256, 0, 1), 1},
        {clause_at(ILHEAP_IL_CATCH, 0, 1, 65535, 255), 0},
        {clause_at(ILHEAP_IL_CATCH, 0, 1, 65536, 1), 1},
        {clause_at(ILHEAP_IL_CATCH, 0, 1, 0, 256), 1},
        /* A filter offset is 32 bits in both formats: it never forces fat. */
        {{ILHEAP_IL_FILTER, 0, 1, 2, 1, 69999}, 0},
    };
    b.clause_count = 1;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        b.clauses = &cases[i].c;
        encode(&b, NULL, ILHEAP_IL_COMPACT);
        ASSERT_EQ_U(again.sections[0].fat, cases[i].fat);
        ASSERT_EQ_U(ilheap_il_check_moved(&b, &again, NULL, 0, 0), ILHEAP_OK);
    }
}

/* Every hand-made sample re-encodes byte for byte in preserve mode. */
static void test_preserve_samples(void)
{
    for (size_t i = 0; i < IL_SAMPLE_COUNT; i++) {
        ASSERT_STATUS(ilheap_il_decode(il_samples[i].bytes, il_samples[i].size, &body, clauses, CAP),
                      ILHEAP_OK);
        ASSERT_EQ_U(encode(&body, NULL, ILHEAP_IL_PRESERVE), il_samples[i].size);
        ASSERT_MEM_EQ(OUT, il_samples[i].bytes, il_samples[i].size);
    }
    /* Compact turns the two sections into one. */
    ASSERT_STATUS(ilheap_il_decode(two_sections, sizeof two_sections, &body, clauses, CAP), ILHEAP_OK);
    encode(&body, NULL, ILHEAP_IL_COMPACT);
    ASSERT_EQ_U(again.section_count, 1);
    ASSERT_EQ_U(again.sections[0].fat, 0);
    ASSERT_STATUS(ilheap_il_check_moved(&body, &again, NULL, 0, 0), ILHEAP_OK);
}

/* Inexact DataSize and the Reserved field survive preserve mode; an empty
 * EH section too; junk padding becomes zeros. */
static void test_preserve_quirks(void)
{
    uint8_t p[sizeof small_eh];
    memcpy(p, small_eh, sizeof p);
    p[21] = 24;   /* VB-style DataSize */
    p[22] = 0x34; /* Reserved */
    ASSERT_STATUS(ilheap_il_decode(p, sizeof p, &body, clauses, CAP), ILHEAP_OK);
    ASSERT_EQ_U(encode(&body, NULL, ILHEAP_IL_PRESERVE), sizeof p);
    ASSERT_MEM_EQ(OUT, p, sizeof p);
    /* Compact writes the exact DataSize and a zero Reserved. */
    encode(&body, NULL, ILHEAP_IL_COMPACT);
    ASSERT_EQ_U(OUT[21], 28);
    ASSERT_EQ_U(OUT[22], 0);
    ASSERT_EQ_U(again.quirks, 0);

    memcpy(p, small_eh, 24);
    p[21] = 4;
    p[18] = 0x77;
    ASSERT_STATUS(ilheap_il_decode(p, 24, &body, clauses, CAP), ILHEAP_OK);
    ASSERT_EQ_U(encode(&body, NULL, ILHEAP_IL_PRESERVE), 24);
    ASSERT_EQ_U(OUT[18], 0);
    ASSERT_EQ_U(again.section_count, 1);
    ASSERT_EQ_U(again.clause_count, 0);
    /* Compact drops the empty section: the header is fat only for init_locals. */
    ASSERT_EQ_U(encode(&body, NULL, ILHEAP_IL_COMPACT), 18);
    ASSERT_EQ_U(again.section_count, 0);
}

/* DataSize 255 in a small section reads as 21 clauses (255 / 12): preserve
 * keeps that small section (found by the fuzzer), compact writes a fat one. */
static void test_preserve_small_21_clauses(void)
{
    static uint32_t words[(12 + 4 + 4 + 21 * 12) / 4];
    uint8_t *p = (uint8_t *)words;
    memset(words, 0, sizeof words);
    p[0] = 0x0B; /* fat, MoreSects */
    p[1] = 0x30;
    p[4] = 4; /* 4 bytes of code */
    p[16] = 0x01;
    p[17] = 255;
    for (int i = 0; i < 21; i++)
        p[20 + 12 * i] = ILHEAP_IL_FAULT;
    ASSERT_STATUS(ilheap_il_decode(p, sizeof words, &body, clauses, CAP), ILHEAP_OK);
    ASSERT_EQ_U(body.clause_count, 21);
    ASSERT_EQ_U(body.quirks, ILHEAP_IL_QUIRK_DATASIZE_INEXACT);
    ASSERT_EQ_U(encode(&body, NULL, ILHEAP_IL_PRESERVE), sizeof words);
    ASSERT_MEM_EQ(OUT, p, sizeof words);
    encode(&body, NULL, ILHEAP_IL_COMPACT);
    ASSERT_EQ_U(again.sections[0].fat, 1);
    ASSERT_EQ_U(again.sections[0].data_size, 21 * 24 + 4);
    /* A prologue that keeps the clauses small keeps the section small too. */
    static const uint8_t nop[1] = {0};
    ilheap_il_edit_t e = {0};
    e.prologue = nop;
    e.prologue_size = 1;
    encode(&body, &e, ILHEAP_IL_PRESERVE);
    ASSERT_EQ_U(again.sections[0].fat, 0);
    ASSERT_EQ_U(again.sections[0].data_size, 255);
    ASSERT_STATUS(ilheap_il_check_moved(&body, &again, nop, 1, 0), ILHEAP_OK);
}

/* A fat body that could be tiny stays fat in preserve mode, and goes tiny in compact. */
static void test_preserve_never_shrinks(void)
{
    static const uint8_t p[] = {0x03, 0x30, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00,
                                0x00, 0x00, 0x00, 0x00, 0x2A};
    ASSERT_STATUS(ilheap_il_decode(p, sizeof p, &body, clauses, CAP), ILHEAP_OK);
    ASSERT_EQ_U(encode(&body, NULL, ILHEAP_IL_PRESERVE), sizeof p);
    ASSERT_MEM_EQ(OUT, p, sizeof p);
    ASSERT_EQ_U(encode(&body, NULL, ILHEAP_IL_COMPACT), 2);
    ASSERT_EQ_X(OUT[0], 0x06);
}

/* Prologue insertion: every offset moves, formats grow only when they must. */
static void test_prologue(void)
{
    static const uint8_t nops[3] = {0, 0, 0};
    ASSERT_STATUS(ilheap_il_decode(small_eh, sizeof small_eh, &body, clauses, CAP), ILHEAP_OK);
    ilheap_il_edit_t e = {0};
    e.prologue = nops;
    e.prologue_size = 3;
    e.extra_stack = 2;
    encode(&body, &e, ILHEAP_IL_PRESERVE);
    ASSERT_EQ_U(again.code_size, 9);
    ASSERT_EQ_U(again.max_stack, 5);
    ASSERT_EQ_U(again.sections[0].fat, 0);
    ASSERT_EQ_U(clauses2[0].try_offset, 3);
    ASSERT_EQ_U(clauses2[0].handler_offset, 5);
    ASSERT_EQ_U(clauses2[1].try_offset, 3);
    ASSERT_EQ_U(clauses2[1].handler_offset, 7);
    ASSERT_EQ_U(clauses2[1].handler_length, 2);
    ASSERT_EQ_X(clauses2[0].filter_or_class, 0x01000002); /* a class token never moves */
    ASSERT_STATUS(ilheap_il_check_moved(&body, &again, nops, 3, 2), ILHEAP_OK);

    /* A filter offset moves too. */
    ASSERT_STATUS(ilheap_il_decode(fat_eh, sizeof fat_eh, &body, clauses, CAP), ILHEAP_OK);
    encode(&body, &e, ILHEAP_IL_PRESERVE);
    ASSERT_EQ_U(clauses2[0].kind, ILHEAP_IL_FILTER);
    ASSERT_EQ_U(clauses2[0].filter_or_class, 2 + 3);
    ASSERT_EQ_U(again.sections[0].fat, 1); /* preserved, though small would fit */
    encode(&body, &e, ILHEAP_IL_COMPACT);
    ASSERT_EQ_U(again.sections[0].fat, 0);
    ASSERT_STATUS(ilheap_il_check_moved(&body, &again, nops, 3, 2), ILHEAP_OK);

    /* Offsets pushed past 16 bits: the small section grows to fat, exactly. */
    ASSERT_STATUS(ilheap_il_decode(small_eh, sizeof small_eh, &body, clauses, CAP), ILHEAP_OK);
    static uint8_t big[65536];
    e.prologue = big;
    e.prologue_size = sizeof big;
    e.extra_stack = 0;
    encode(&body, &e, ILHEAP_IL_PRESERVE);
    ASSERT_EQ_U(again.sections[0].fat, 1);
    ASSERT_EQ_U(again.sections[0].data_size, 2 * 24 + 4);
    ASSERT_EQ_U(clauses2[1].handler_offset, 65536 + 4);
    ASSERT_STATUS(ilheap_il_check_moved(&body, &again, big, sizeof big, 0), ILHEAP_OK);
}

/* Known rewriter bug: a tiny header grown past 63 bytes. */
static void test_prologue_grows_tiny(void)
{
    uint8_t p[1 + 60];
    p[0] = (uint8_t)(0x02 | 60 << 2);
    memcpy(p + 1, code, 60);
    ASSERT_STATUS(ilheap_il_decode(p, sizeof p, &body, clauses, CAP), ILHEAP_OK);
    static const uint8_t nops[4] = {0, 0, 0, 0};
    ilheap_il_edit_t e = {0};
    e.prologue = nops;
    e.prologue_size = 3;
    ASSERT_EQ_U(encode(&body, &e, ILHEAP_IL_PRESERVE), 64); /* 63 bytes: still tiny */
    ASSERT_EQ_U(again.header, ILHEAP_IL_TINY);
    e.prologue_size = 4;
    ASSERT_EQ_U(encode(&body, &e, ILHEAP_IL_PRESERVE), 12 + 64);
    ASSERT_EQ_U(again.header, ILHEAP_IL_FAT);
    ASSERT_EQ_U(again.code_size, 64);
    ASSERT_EQ_U(again.max_stack, 8);
    ASSERT_STATUS(ilheap_il_check_moved(&body, &again, nops, 4, 0), ILHEAP_OK);
    /* Raising max stack past 8 also makes it fat. */
    e.prologue_size = 0;
    e.extra_stack = 1;
    encode(&body, &e, ILHEAP_IL_PRESERVE);
    ASSERT_EQ_U(again.header, ILHEAP_IL_FAT);
    ASSERT_EQ_U(again.max_stack, 9);
}

/* Known rewriter bug: a local signature silently dropped on a tiny header. */
static void test_local_sig_on_tiny(void)
{
    static const uint8_t p[] = {0x02 | 2 << 2, 0x00, 0x2A};
    ASSERT_STATUS(ilheap_il_decode(p, sizeof p, &body, clauses, CAP), ILHEAP_OK);
    ilheap_il_edit_t e = {0};
    e.what = ILHEAP_IL_EDIT_LOCAL_SIG | ILHEAP_IL_EDIT_INIT_LOCALS;
    e.local_sig = 0x11000007;
    e.init_locals = 1;
    for (int mode = 0; mode < 2; mode++) {
        encode(&body, &e, (ilheap_il_mode_t)mode);
        ASSERT_EQ_U(again.header, ILHEAP_IL_FAT);
        ASSERT_EQ_X(again.local_sig, 0x11000007);
        ASSERT_EQ_U(again.init_locals, 1);
        ASSERT_EQ_U(again.max_stack, 8);
        ASSERT_MEM_EQ(again.code, p + 1, 2);
    }
    /* Removing the locals again: compact goes back to tiny. (The fat body is
     * copied out of OUT first: source and destination must not overlap.) */
    static uint8_t fat_bytes[16];
    memcpy(fat_bytes, OUT, sizeof fat_bytes);
    ilheap_il_body_t fat;
    ASSERT_STATUS(ilheap_il_decode(fat_bytes, sizeof fat_bytes, &fat, NULL, 0), ILHEAP_OK);
    e.local_sig = 0;
    e.init_locals = 0;
    encode(&fat, &e, ILHEAP_IL_COMPACT);
    ASSERT_EQ_U(again.header, ILHEAP_IL_TINY);
}

static void test_replace_code(void)
{
    ASSERT_STATUS(ilheap_il_decode(small_eh, sizeof small_eh, &body, clauses, CAP), ILHEAP_OK);
    ilheap_il_edit_t e = {0};
    e.what = ILHEAP_IL_EDIT_CODE;
    e.code = code;
    e.code_size = 100; /* keeps locals and EH: clauses still inside */
    encode(&body, &e, ILHEAP_IL_PRESERVE);
    ASSERT_EQ_U(again.code_size, 100);
    ASSERT_MEM_EQ(again.code, code, 100);
    ASSERT_EQ_U(again.clause_count, 2);
    ASSERT_EQ_U(again.init_locals, 1);
    ASSERT_EQ_U(clauses2[1].handler_offset, 4);

    e.code_size = 5; /* the finally handler [4, 6) no longer fits */
    size_t size;
    ASSERT_STATUS(ilheap_il_rewrite(&body, &e, ILHEAP_IL_PRESERVE, NULL, 0, &size),
                  ILHEAP_IL_CLAUSE_RANGE);

    /* Replace code and EH: "return 42" with no clauses, then with new ones. */
    static const uint8_t ret42[] = {0x1F, 0x2A, 0x2A};
    e.what = ILHEAP_IL_EDIT_CODE | ILHEAP_IL_EDIT_CLAUSES | ILHEAP_IL_EDIT_LOCAL_SIG |
             ILHEAP_IL_EDIT_INIT_LOCALS | ILHEAP_IL_EDIT_MAX_STACK;
    e.code = ret42;
    e.code_size = sizeof ret42;
    e.clause_count = 0;
    e.max_stack = 1;
    ASSERT_EQ_U(encode(&body, &e, ILHEAP_IL_COMPACT), 4);
    ASSERT_EQ_U(again.header, ILHEAP_IL_TINY);
    ASSERT_EQ_U(encode(&body, &e, ILHEAP_IL_PRESERVE), 12 + 3); /* header kept fat */
    ASSERT_EQ_U(again.max_stack, 1);
    ASSERT_EQ_U(again.section_count, 0);
    ilheap_il_clause_t c = {ILHEAP_IL_FAULT, 0, 1, 1, 2, 0};
    e.clauses = &c;
    e.clause_count = 1;
    encode(&body, &e, ILHEAP_IL_PRESERVE);
    ASSERT_EQ_U(again.clause_count, 1);
    ASSERT_EQ_U(clauses2[0].kind, ILHEAP_IL_FAULT);
    ASSERT_EQ_U(clauses2[0].handler_length, 2);
    /* Replacement clauses and a prologue: the clauses are moved too. */
    static const uint8_t nop[1] = {0};
    e.prologue = nop;
    e.prologue_size = 1;
    encode(&body, &e, ILHEAP_IL_PRESERVE);
    ASSERT_EQ_U(clauses2[0].try_offset, 1);
    ASSERT_EQ_U(clauses2[0].handler_offset, 2);
}

/* Overflows are errors, never wrapped values; nothing is written. */
static void test_overflow(void)
{
    ilheap_il_body_t b = simple(10, 65535);
    ilheap_il_edit_t e = {0};
    size_t size;
    ASSERT_STATUS(ilheap_il_rewrite(&b, NULL, ILHEAP_IL_COMPACT, NULL, 0, &size), ILHEAP_OK);
    e.extra_stack = 1;
    ASSERT_STATUS(ilheap_il_rewrite(&b, &e, ILHEAP_IL_COMPACT, NULL, 0, &size), ILHEAP_IL_OVERFLOW);
    e.extra_stack = UINT32_MAX;
    ASSERT_STATUS(ilheap_il_rewrite(&b, &e, ILHEAP_IL_PRESERVE, NULL, 0, &size), ILHEAP_IL_OVERFLOW);
    e.extra_stack = 0;
    e.what = ILHEAP_IL_EDIT_MAX_STACK;
    e.max_stack = 65536;
    ASSERT_STATUS(ilheap_il_rewrite(&b, &e, ILHEAP_IL_COMPACT, NULL, 0, &size), ILHEAP_IL_OVERFLOW);
    e.max_stack = 65535;
    ASSERT_STATUS(ilheap_il_rewrite(&b, &e, ILHEAP_IL_COMPACT, NULL, 0, &size), ILHEAP_OK);

#if SIZE_MAX > UINT32_MAX /* a 4 GiB body cannot even be sized on 32-bit targets */
    /* Code past 4 GiB - 1: checked on the sizes, before any byte is read. */
    memset(&e, 0, sizeof e);
    e.prologue = code;
    e.prologue_size = (size_t)UINT32_MAX - 10; /* 4 GiB - 1 in all */
    ASSERT_STATUS(ilheap_il_rewrite(&b, &e, ILHEAP_IL_COMPACT, NULL, 0, &size), ILHEAP_OK);
    ASSERT_EQ_U(size, 12 + (uint64_t)UINT32_MAX);
    e.prologue_size = (size_t)UINT32_MAX - 10 + 1;
    ASSERT_STATUS(ilheap_il_rewrite(&b, &e, ILHEAP_IL_COMPACT, NULL, 0, &size), ILHEAP_IL_OVERFLOW);
    e.prologue_size = SIZE_MAX;
    ASSERT_STATUS(ilheap_il_rewrite(&b, &e, ILHEAP_IL_COMPACT, NULL, 0, &size), ILHEAP_IL_OVERFLOW);
    memset(&e, 0, sizeof e);
    e.what = ILHEAP_IL_EDIT_CODE;
    e.code = code;
    e.code_size = (size_t)UINT32_MAX + 1;
    ASSERT_STATUS(ilheap_il_rewrite(&b, &e, ILHEAP_IL_COMPACT, NULL, 0, &size), ILHEAP_IL_OVERFLOW);
#endif

    /* A clause offset moved past 32 bits. */
    ilheap_il_clause_t c = {ILHEAP_IL_FINALLY, 0xFFFFFFF0u, 1, 0, 1, 0};
    b = simple(10, 1);
    b.clauses = &c;
    b.clause_count = 1;
    ASSERT_STATUS(ilheap_il_rewrite(&b, NULL, ILHEAP_IL_COMPACT, NULL, 0, &size),
                  ILHEAP_IL_CLAUSE_RANGE);
    e.what = ILHEAP_IL_EDIT_CODE;
    e.code = code;
    e.code_size = 10;
    e.prologue = code;
    e.prologue_size = 0x20;
    ASSERT_STATUS(ilheap_il_rewrite(&b, &e, ILHEAP_IL_COMPACT, NULL, 0, &size), ILHEAP_IL_OVERFLOW);
    /* Unknown clause kinds are refused on the way out too. */
    c = (ilheap_il_clause_t){3, 0, 1, 1, 1, 0};
    ASSERT_STATUS(ilheap_il_rewrite(&b, NULL, ILHEAP_IL_COMPACT, NULL, 0, &size),
                  ILHEAP_IL_CLAUSE_KIND);
}

/* More clauses than one fat section holds (its DataSize is 24 bits). */
static void test_too_many_clauses(void)
{
    size_t n = ILHEAP_IL_FAT_MAX_CLAUSES + 1;
    ilheap_il_clause_t *many = calloc(n, sizeof *many);
    ASSERT_NOT_NULL(many);
    for (size_t i = 0; i < n; i++)
        many[i].kind = ILHEAP_IL_FINALLY;
    ilheap_il_body_t b = simple(1, 1);
    b.clauses = many;
    b.clause_count = (uint32_t)(n - 1);
    size_t size;
    ilheap_status_t ok = ilheap_il_rewrite(&b, NULL, ILHEAP_IL_COMPACT, NULL, 0, &size);
    b.clause_count = (uint32_t)n;
    ilheap_status_t too_many = ilheap_il_rewrite(&b, NULL, ILHEAP_IL_COMPACT, NULL, 0, &size);
    free(many);
    ASSERT_STATUS(ok, ILHEAP_OK);
    ASSERT_STATUS(too_many, ILHEAP_IL_OVERFLOW);
}

static void test_destination(void)
{
    ASSERT_STATUS(ilheap_il_decode(small_eh, sizeof small_eh, &body, clauses, CAP), ILHEAP_OK);
    size_t size = 0;
    memset(OUT, 0xCC, 128);
    ASSERT_STATUS(ilheap_il_encode(&body, ILHEAP_IL_PRESERVE, OUT, sizeof small_eh - 1, &size),
                  ILHEAP_IL_DEST_TOO_SMALL);
    ASSERT_EQ_U(size, sizeof small_eh); /* the size needed, for a retry */
    ASSERT_EQ_X(OUT[0], 0xCC);          /* nothing written */
    ASSERT_STATUS(ilheap_il_encode(&body, ILHEAP_IL_PRESERVE, OUT + 1, 128, &size),
                  ILHEAP_IL_MISALIGNED);
    ASSERT_EQ_X(OUT[1], 0xCC);
    ASSERT_STATUS(ilheap_il_encode(&body, ILHEAP_IL_PRESERVE, OUT, sizeof small_eh, &size), ILHEAP_OK);
    ASSERT_EQ_X(OUT[sizeof small_eh], 0xCC); /* nothing past the body */
    ASSERT_STATUS(ilheap_il_encoded_size(&body, ILHEAP_IL_COMPACT, &size), ILHEAP_OK);
    ASSERT_EQ_U(size, sizeof small_eh);

    /* A tiny body may go anywhere. */
    ilheap_il_body_t t = simple(5, 1);
    ASSERT_STATUS(ilheap_il_encode(&t, ILHEAP_IL_COMPACT, OUT + 1, 6, &size), ILHEAP_OK);
    ASSERT_EQ_U(size, 6);
    ASSERT_EQ_X(OUT[1], 0x16);
}

static void test_invalid_arguments(void)
{
    ilheap_il_body_t b = simple(5, 1);
    size_t size;
    ASSERT_STATUS(ilheap_il_encode(NULL, ILHEAP_IL_COMPACT, NULL, 0, &size), ILHEAP_EINVAL);
    ASSERT_STATUS(ilheap_il_encode(&b, ILHEAP_IL_COMPACT, NULL, 0, NULL), ILHEAP_EINVAL);
    ASSERT_STATUS(ilheap_il_encode(&b, (ilheap_il_mode_t)7, NULL, 0, &size), ILHEAP_EINVAL);
    b.code = NULL;
    ASSERT_STATUS(ilheap_il_encode(&b, ILHEAP_IL_COMPACT, NULL, 0, &size), ILHEAP_EINVAL);
    b = simple(5, 1);
    b.clause_count = 1;
    ASSERT_STATUS(ilheap_il_encode(&b, ILHEAP_IL_COMPACT, NULL, 0, &size), ILHEAP_EINVAL);
    b.clause_count = 0;
    ilheap_il_edit_t e = {0};
    e.prologue_size = 1;
    ASSERT_STATUS(ilheap_il_rewrite(&b, &e, ILHEAP_IL_COMPACT, NULL, 0, &size), ILHEAP_EINVAL);
    b.code_size = 0;
    b.code = NULL; /* empty code needs no pointer */
    ASSERT_STATUS(ilheap_il_encode(&b, ILHEAP_IL_COMPACT, NULL, 0, &size), ILHEAP_OK);
    ASSERT_EQ_U(size, 1);
}

/* check_moved catches each kind of corruption a broken rewrite could cause. */
static void test_check_moved_detects(void)
{
    static const uint8_t nops[2] = {0, 0};
    ASSERT_STATUS(ilheap_il_decode(small_eh, sizeof small_eh, &body, clauses, CAP), ILHEAP_OK);
    ilheap_il_edit_t e = {0};
    e.prologue = nops;
    e.prologue_size = 2;
    size_t size = encode(&body, &e, ILHEAP_IL_PRESERVE);
    ASSERT_STATUS(ilheap_il_check_moved(&body, &again, nops, 2, 0), ILHEAP_OK);
    ASSERT_STATUS(ilheap_il_check_moved(&body, &again, nops, 2, 1), ILHEAP_IL_MISMATCH);
    ASSERT_STATUS(ilheap_il_check_moved(&body, &again, NULL, 0, 0), ILHEAP_IL_MISMATCH);
    /* Each byte of the encoded body changed in turn: the change is caught,
     * or the body no longer decodes, or the byte was padding. */
    static uint8_t copy[256];
    for (size_t i = 0; i < size; i++) {
        memcpy(copy, OUT, size);
        copy[i] ^= 0x01;
        ilheap_il_body_t bad;
        ilheap_status_t st = ilheap_il_decode(copy, size, &bad, clauses2, CAP);
        if (st != ILHEAP_OK)
            continue;
        st = ilheap_il_check_moved(&body, &bad, nops, 2, 0);
        int padding = i >= 12 + 8 && i < again.sections[0].offset;
        int reserved = i == again.sections[0].offset + 2 || i == again.sections[0].offset + 3;
        int data_size = i == again.sections[0].offset + 1 && bad.clause_count == 2;
        if (padding || reserved || data_size)
            ASSERT_STATUS(st, ILHEAP_OK);
        else if (st != ILHEAP_IL_MISMATCH)
            TEST_FAIL_("byte %zu changed, check_moved said %s", i, ilheap_status_name(st));
    }
}

TEST_MAIN(TEST(test_compact_header_choice), TEST(test_compact_section_choice),
          TEST(test_preserve_samples), TEST(test_preserve_quirks),
          TEST(test_preserve_small_21_clauses), TEST(test_preserve_never_shrinks), TEST(test_prologue), TEST(test_prologue_grows_tiny),
          TEST(test_local_sig_on_tiny), TEST(test_replace_code), TEST(test_overflow),
          TEST(test_too_many_clauses), TEST(test_destination), TEST(test_invalid_arguments),
          TEST(test_check_moved_detects))
