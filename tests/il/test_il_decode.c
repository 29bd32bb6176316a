/* Decoding hand-made method bodies: every header and section form, every
 * defect the decoder reports. The bytes are written out literally (not made
 * by the encoder) so that the decoder is checked against the spec's layout. */
#include "ilheap/il.h"
#include "test.h"
#include "il_samples.h"

#define CAP 16
static ilheap_il_clause_t clauses[CAP];
static ilheap_il_body_t body;

static ilheap_status_t decode(const uint8_t *p, size_t n)
{
    return ilheap_il_decode(p, n, &body, clauses, CAP);
}

/* Every shorter prefix of a valid body must fail cleanly: the copy is made
 * on the heap at exactly the prefix length, so ASan reports any read past it. */
static void check_prefixes_fail(const uint8_t *p, size_t n)
{
    for (size_t len = 0; len < n; len++) {
        uint8_t *copy = malloc(len ? len : 1);
        ASSERT_NOT_NULL(copy);
        memcpy(copy, p, len);
        ilheap_il_body_t b;
        ilheap_status_t st = ilheap_il_decode(copy, len, &b, clauses, CAP);
        free(copy);
        ASSERT_TRUE(st == ILHEAP_IL_TRUNCATED_HEADER || st == ILHEAP_IL_TRUNCATED_CODE ||
                    st == ILHEAP_IL_TRUNCATED_SECTION || st == ILHEAP_IL_SECTION_PAST_BUFFER);
        ASSERT_LE_U(b.error_offset, len);
    }
}

static void test_tiny(void)
{
    static const uint8_t p[] = {0x02 | 2 << 2, 0x00 /* nop */, 0x2A /* ret */, 0xEE, 0xEE};
    ASSERT_STATUS(decode(p, sizeof p), ILHEAP_OK);
    ASSERT_EQ_U(body.header, ILHEAP_IL_TINY);
    ASSERT_EQ_U(body.header_size, 1);
    ASSERT_EQ_U(body.max_stack, 8);
    ASSERT_EQ_U(body.code_size, 2);
    ASSERT_EQ_P(body.code, p + 1);
    ASSERT_EQ_U(body.local_sig, 0);
    ASSERT_EQ_U(body.init_locals, 0);
    ASSERT_EQ_U(body.clause_count, 0);
    ASSERT_EQ_U(body.section_count, 0);
    ASSERT_EQ_U(body.body_size, 3); /* the trailing 0xEE bytes are not the body's */
    ASSERT_EQ_U(body.quirks, 0);
    check_prefixes_fail(p, 3);
}

static void test_tiny_limits(void)
{
    uint8_t p[64] = {0x02}; /* tiny, no code at all: legal to decode */
    ASSERT_STATUS(decode(p, 1), ILHEAP_OK);
    ASSERT_EQ_U(body.code_size, 0);
    ASSERT_EQ_U(body.body_size, 1);
    p[0] = 0xFE; /* 63 bytes of code, the largest tiny */
    ASSERT_STATUS(decode(p, 64), ILHEAP_OK);
    ASSERT_EQ_U(body.code_size, 63);
    ASSERT_EQ_U(body.body_size, 64);
    ASSERT_STATUS(decode(p, 63), ILHEAP_IL_TRUNCATED_CODE);
    ASSERT_EQ_U(body.error_offset, 1);
}

static void test_fat_no_sections(void)
{
    static const uint8_t p[] = {
        0x13, 0x30,             /* FatFormat | InitLocals, Size 3 */
        0x02, 0x00,             /* MaxStack 2 */
        0x05, 0x00, 0x00, 0x00, /* CodeSize 5 */
        0x01, 0x00, 0x00, 0x11, /* LocalVarSigTok 0x11000001 */
        0x16, 0x0A, 0x06, 0x00, 0x2A,
    };
    ASSERT_STATUS(decode(p, sizeof p), ILHEAP_OK);
    ASSERT_EQ_U(body.header, ILHEAP_IL_FAT);
    ASSERT_EQ_U(body.header_size, 12);
    ASSERT_EQ_U(body.init_locals, 1);
    ASSERT_EQ_U(body.max_stack, 2);
    ASSERT_EQ_U(body.code_size, 5);
    ASSERT_EQ_P(body.code, p + 12);
    ASSERT_EQ_X(body.local_sig, 0x11000001);
    ASSERT_EQ_U(body.section_count, 0);
    ASSERT_EQ_U(body.body_size, 17);
    check_prefixes_fail(p, sizeof p);
}


static void test_small_eh(void)
{
    ASSERT_STATUS(decode(small_eh, sizeof small_eh), ILHEAP_OK);
    ASSERT_EQ_U(body.init_locals, 1);
    ASSERT_EQ_U(body.max_stack, 3);
    ASSERT_EQ_U(body.section_count, 1);
    ASSERT_EQ_U(body.sections[0].fat, 0);
    ASSERT_EQ_U(body.sections[0].offset, 20);
    ASSERT_EQ_U(body.sections[0].data_size, 28);
    ASSERT_EQ_U(body.sections[0].clause_count, 2);
    ASSERT_EQ_U(body.clause_count, 2);
    ASSERT_EQ_P(body.clauses, clauses);
    ASSERT_EQ_U(clauses[0].kind, ILHEAP_IL_CATCH);
    ASSERT_EQ_U(clauses[0].try_offset, 0);
    ASSERT_EQ_U(clauses[0].try_length, 2);
    ASSERT_EQ_U(clauses[0].handler_offset, 2);
    ASSERT_EQ_U(clauses[0].handler_length, 1);
    ASSERT_EQ_X(clauses[0].filter_or_class, 0x01000002);
    ASSERT_EQ_U(clauses[1].kind, ILHEAP_IL_FINALLY);
    ASSERT_EQ_U(clauses[1].try_length, 4);
    ASSERT_EQ_U(clauses[1].handler_offset, 4);
    ASSERT_EQ_U(clauses[1].handler_length, 2);
    ASSERT_EQ_U(body.body_size, sizeof small_eh);
    ASSERT_EQ_U(body.quirks, 0);
    check_prefixes_fail(small_eh, sizeof small_eh);
}


static void test_fat_eh(void)
{
    ASSERT_STATUS(decode(fat_eh, sizeof fat_eh), ILHEAP_OK);
    ASSERT_EQ_U(body.init_locals, 0);
    ASSERT_EQ_U(body.section_count, 1);
    ASSERT_EQ_U(body.sections[0].fat, 1);
    ASSERT_EQ_U(body.sections[0].offset, 20);
    ASSERT_EQ_U(body.clause_count, 2);
    ASSERT_EQ_U(clauses[0].kind, ILHEAP_IL_FILTER);
    ASSERT_EQ_U(clauses[0].try_length, 2);
    ASSERT_EQ_U(clauses[0].handler_offset, 4);
    ASSERT_EQ_U(clauses[0].handler_length, 2);
    ASSERT_EQ_U(clauses[0].filter_or_class, 2);
    ASSERT_EQ_U(clauses[1].kind, ILHEAP_IL_FAULT);
    ASSERT_EQ_U(clauses[1].try_length, 6);
    ASSERT_EQ_U(clauses[1].handler_offset, 6);
    ASSERT_EQ_U(body.body_size, sizeof fat_eh);
    check_prefixes_fail(fat_eh, sizeof fat_eh);
}


static void test_two_sections(void)
{
    ASSERT_STATUS(decode(two_sections, sizeof two_sections), ILHEAP_OK);
    ASSERT_EQ_U(body.section_count, 2);
    ASSERT_EQ_U(body.sections[0].fat, 0);
    ASSERT_EQ_U(body.sections[0].offset, 16);
    ASSERT_EQ_U(body.sections[0].clause_count, 1);
    ASSERT_EQ_U(body.sections[1].fat, 1);
    ASSERT_EQ_U(body.sections[1].offset, 32);
    ASSERT_EQ_U(body.sections[1].clause_count, 1);
    ASSERT_EQ_U(body.clause_count, 2);
    ASSERT_EQ_U(clauses[0].kind, ILHEAP_IL_FINALLY);
    ASSERT_EQ_U(clauses[1].kind, ILHEAP_IL_FAULT);
    ASSERT_EQ_U(body.quirks, ILHEAP_IL_QUIRK_MANY_SECTIONS);
    ASSERT_EQ_U(body.body_size, sizeof two_sections);
    check_prefixes_fail(two_sections, sizeof two_sections);
}

/* The runtime's lenient DataSize: clauses = DataSize / 12, flagged inexact. */
static void test_inexact_data_size(void)
{
    uint8_t p[sizeof small_eh];
    memcpy(p, small_eh, sizeof p);
    static const uint8_t sizes[] = {24 /* VB/MC++: no header counted */, 35, 33, 30};
    for (size_t i = 0; i < sizeof sizes; i++) {
        p[21] = sizes[i];
        ASSERT_STATUS(decode(p, sizeof p), ILHEAP_OK);
        ASSERT_EQ_U(body.clause_count, 2);
        ASSERT_EQ_U(body.sections[0].data_size, sizes[i]);
        ASSERT_EQ_U(body.quirks, ILHEAP_IL_QUIRK_DATASIZE_INEXACT);
        ASSERT_EQ_U(body.body_size, sizeof p); /* the clauses read, not DataSize */
    }
    p[21] = 23; /* reads as one clause */
    ASSERT_STATUS(decode(p, sizeof p), ILHEAP_OK);
    ASSERT_EQ_U(body.clause_count, 1);
    ASSERT_EQ_U(body.body_size, sizeof p - 12);
    p[21] = 3; /* reads as none */
    ASSERT_STATUS(decode(p, sizeof p), ILHEAP_OK);
    ASSERT_EQ_U(body.clause_count, 0);
    ASSERT_EQ_U(body.section_count, 1);
    ASSERT_EQ_U(body.body_size, 24);
}

static void test_empty_section_and_padding(void)
{
    uint8_t p[24];
    memcpy(p, small_eh, 24);
    p[21] = 4; /* an EH section with no clauses */
    ASSERT_STATUS(decode(p, sizeof p), ILHEAP_OK);
    ASSERT_EQ_U(body.section_count, 1);
    ASSERT_EQ_U(body.clause_count, 0);
    ASSERT_NULL(body.clauses);
    ASSERT_EQ_U(body.quirks, 0);
    p[19] = 0x5A; /* junk in the padding: accepted, reported */
    ASSERT_STATUS(decode(p, sizeof p), ILHEAP_OK);
    ASSERT_EQ_U(body.quirks, ILHEAP_IL_QUIRK_PADDING_NONZERO);
}

static void expect_error(const uint8_t *p, size_t n, ilheap_status_t want, size_t offset)
{
    ASSERT_STATUS(decode(p, n), want);
    ASSERT_EQ_U(body.error_offset, offset);
    ASSERT_EQ_U(body.code_size, 0);
    ASSERT_EQ_U(body.body_size, 0);
    ASSERT_EQ_U(ilheap_last_status(), want);
    /* The detailed message names the code and adds the detail in parentheses. */
    ASSERT_TRUE(strstr(ilheap_last_message(), ilheap_status_name(want)) != NULL);
    ASSERT_TRUE(strchr(ilheap_last_message(), '(') != NULL);
}

static void test_header_errors(void)
{
    static const uint8_t fat[12] = {0x03, 0x30, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00};
    uint8_t p[16];
    ASSERT_STATUS(ilheap_il_decode(fat, 0, &body, clauses, CAP), ILHEAP_IL_TRUNCATED_HEADER);
    for (uint8_t low = 0; low < 2; low++) {
        p[0] = (uint8_t)(0x40 | low);
        expect_error(p, 16, ILHEAP_IL_UNKNOWN_FORMAT, 0);
    }
    expect_error(fat, 11, ILHEAP_IL_TRUNCATED_HEADER, 0);
    memcpy(p, fat, 12);
    p[0] = 0x43; /* CorILMethod_CompressedIL (0x40): not a legal flag */
    expect_error(p, 12, ILHEAP_IL_UNKNOWN_FLAGS, 0);
    memcpy(p, fat, 12);
    p[1] = 0x38; /* flag 0x800 */
    expect_error(p, 12, ILHEAP_IL_UNKNOWN_FLAGS, 0);
    static const uint8_t sizes[] = {0x00, 0x20, 0x40, 0xF0};
    for (size_t i = 0; i < sizeof sizes; i++) {
        memcpy(p, fat, 12);
        p[1] = sizes[i];
        expect_error(p, 12, ILHEAP_IL_FAT_HEADER_SIZE, 1);
    }
    memcpy(p, fat, 12);
    p[4] = 5;
    expect_error(p, 16, ILHEAP_IL_TRUNCATED_CODE, 12);
    p[4] = 0;
    p[7] = 0xFF; /* 4 GiB of code claimed: no overflow in the check */
    expect_error(p, 16, ILHEAP_IL_TRUNCATED_CODE, 12);
}

static void test_section_errors(void)
{
    uint8_t p[sizeof small_eh];
    memcpy(p, small_eh, sizeof p);
    expect_error(p, 18, ILHEAP_IL_TRUNCATED_SECTION, 18); /* MoreSects, nothing after */
    expect_error(p, 19, ILHEAP_IL_TRUNCATED_SECTION, 18); /* inside the padding */
    expect_error(p, 22, ILHEAP_IL_TRUNCATED_SECTION, 20); /* half a section header */
    static const uint8_t kinds[] = {0x00, 0x02, 0x03, 0x05, 0x21, 0x42, 0x80};
    for (size_t i = 0; i < sizeof kinds; i++) {
        p[20] = kinds[i];
        expect_error(p, sizeof p, ILHEAP_IL_SECTION_KIND, 20);
    }
    p[20] = 0x01;
    p[21] = 40; /* 3 clauses, 2 present */
    expect_error(p, sizeof p, ILHEAP_IL_SECTION_PAST_BUFFER, 21);
    p[21] = 255;
    expect_error(p, sizeof p, ILHEAP_IL_SECTION_PAST_BUFFER, 21);

    uint8_t f[sizeof fat_eh];
    memcpy(f, fat_eh, sizeof f);
    f[23] = 0x01; /* fat DataSize 0x010034: far past the buffer */
    expect_error(f, sizeof f, ILHEAP_IL_SECTION_PAST_BUFFER, 21);
    memcpy(f, fat_eh, sizeof f);
    f[20] = 0xC1; /* MoreSects on the last section */
    expect_error(f, sizeof f, ILHEAP_IL_TRUNCATED_SECTION, sizeof f);
}

static void test_too_many_sections(void)
{
    uint8_t p[16 + 4 * (ILHEAP_IL_MAX_SECTIONS + 1)];
    memset(p, 0, sizeof p);
    memcpy(p, two_sections, 16);
    for (unsigned i = 0; i <= ILHEAP_IL_MAX_SECTIONS; i++) {
        p[16 + 4 * i] = i < ILHEAP_IL_MAX_SECTIONS ? 0x81 : 0x01;
        p[16 + 4 * i + 1] = 4;
    }
    expect_error(p, sizeof p, ILHEAP_IL_TOO_MANY_SECTIONS, 16 + 4 * ILHEAP_IL_MAX_SECTIONS);
    p[16 + 4 * (ILHEAP_IL_MAX_SECTIONS - 1)] = 0x01; /* exactly the limit */
    ASSERT_STATUS(decode(p, sizeof p), ILHEAP_OK);
    ASSERT_EQ_U(body.section_count, ILHEAP_IL_MAX_SECTIONS);
    ASSERT_EQ_U(body.body_size, sizeof p - 4);
}

static void test_clause_errors(void)
{
    uint8_t p[sizeof small_eh];
    const size_t c1 = 24 + 12; /* second clause (finally) */
    static const uint8_t bad_kinds[] = {3, 5, 8, 0x10};
    for (size_t i = 0; i < sizeof bad_kinds; i++) {
        memcpy(p, small_eh, sizeof p);
        p[c1] = bad_kinds[i];
        expect_error(p, sizeof p, ILHEAP_IL_CLAUSE_KIND, c1);
    }
    memcpy(p, small_eh, sizeof p);
    p[c1 + 4] = 7; /* try [0, 7) in 6 bytes of code */
    expect_error(p, sizeof p, ILHEAP_IL_CLAUSE_RANGE, c1);
    memcpy(p, small_eh, sizeof p);
    p[c1 + 5] = 5; /* handler [5, 7) */
    expect_error(p, sizeof p, ILHEAP_IL_CLAUSE_RANGE, c1);
    memcpy(p, small_eh, sizeof p);
    p[c1 + 2] = 0xFF; /* try offset 0xFFFF */
    p[c1 + 3] = 0xFF;
    expect_error(p, sizeof p, ILHEAP_IL_CLAUSE_RANGE, c1);
    memcpy(p, small_eh, sizeof p);
    p[c1] = ILHEAP_IL_FILTER; /* filter at offset 0: fine */
    ASSERT_STATUS(decode(p, sizeof p), ILHEAP_OK);
    p[c1 + 8] = 6; /* filter at offset 6 of 6 bytes */
    expect_error(p, sizeof p, ILHEAP_IL_CLAUSE_RANGE, c1);

    uint8_t f[sizeof fat_eh];
    memcpy(f, fat_eh, sizeof f);
    memset(f + 24 + 4, 0xFF, 4); /* try offset 0xFFFFFFFF, length 2: must not wrap */
    expect_error(f, sizeof f, ILHEAP_IL_CLAUSE_RANGE, 24);
    memcpy(f, fat_eh, sizeof f);
    memset(f + 24 + 16, 0xFF, 4); /* handler length 0xFFFFFFFF */
    expect_error(f, sizeof f, ILHEAP_IL_CLAUSE_RANGE, 24);
    memcpy(f, fat_eh, sizeof f);
    f[24 + 2] = 1; /* kind 0x10001 in a fat clause */
    expect_error(f, sizeof f, ILHEAP_IL_CLAUSE_KIND, 24);
}

static void test_clause_space(void)
{
    ASSERT_STATUS(ilheap_il_decode(small_eh, sizeof small_eh, &body, clauses, 1),
                  ILHEAP_IL_CLAUSE_SPACE);
    ASSERT_EQ_U(body.clause_count, 2);
    ASSERT_NULL(body.clauses);
    ASSERT_EQ_U(body.body_size, sizeof small_eh);
    ASSERT_EQ_U(body.code_size, 6);
    ASSERT_STATUS(ilheap_il_decode(small_eh, sizeof small_eh, &body, NULL, 0),
                  ILHEAP_IL_CLAUSE_SPACE);
    ASSERT_EQ_U(body.clause_count, 2);
    ilheap_il_clause_t two[2];
    ASSERT_STATUS(ilheap_il_decode(small_eh, sizeof small_eh, &body, two, 2), ILHEAP_OK);
    ASSERT_EQ_U(two[1].kind, ILHEAP_IL_FINALLY);
    /* No clauses: no array needed. */
    ASSERT_STATUS(ilheap_il_decode(small_eh, 18, &body, NULL, 0), ILHEAP_IL_TRUNCATED_SECTION);
    static const uint8_t tiny[] = {0x06, 0x00, 0x2A};
    ASSERT_STATUS(ilheap_il_decode(tiny, sizeof tiny, &body, NULL, 0), ILHEAP_OK);
    ASSERT_NULL(body.clauses);
}

static void test_invalid_arguments(void)
{
    ASSERT_STATUS(ilheap_il_decode(NULL, 4, &body, clauses, CAP), ILHEAP_EINVAL);
    ASSERT_STATUS(ilheap_il_decode(small_eh, sizeof small_eh, NULL, clauses, CAP), ILHEAP_EINVAL);
    ASSERT_STATUS(ilheap_il_decode(small_eh, sizeof small_eh, &body, NULL, 4), ILHEAP_EINVAL);
}

/* Every sample decodes, and every truncation of it fails cleanly. */
static void test_samples(void)
{
    for (size_t i = 0; i < IL_SAMPLE_COUNT; i++) {
        ASSERT_STATUS(decode(il_samples[i].bytes, il_samples[i].size), ILHEAP_OK);
        ASSERT_EQ_U(body.body_size, il_samples[i].size);
        check_prefixes_fail(il_samples[i].bytes, il_samples[i].size);
    }
}

/* ilheap_il_decode_inline (il.h) gives what ilheap_il_decode gives: status
 * and every field, on every first byte, on fat headers with every flag
 * combination and sizes around the buffer's end, and on the samples. */
static void expect_same(const uint8_t *p, size_t n)
{
    ilheap_il_body_t a, b;
    ilheap_il_clause_t ca[CAP], cb[CAP];
    ilheap_status_t sa = ilheap_il_decode(p, n, &a, ca, CAP);
    ilheap_status_t sb = ilheap_il_decode_inline(p, n, &b, cb, CAP);
    ASSERT_STATUS(sb, sa);
    ASSERT_EQ_U(b.error_offset, a.error_offset);
    if (sa != ILHEAP_OK)
        return;
    ASSERT_EQ_U(b.header, a.header);
    ASSERT_EQ_U(b.init_locals, a.init_locals);
    ASSERT_EQ_U(b.max_stack, a.max_stack);
    ASSERT_EQ_U(b.code_size, a.code_size);
    ASSERT_EQ_P(b.code, a.code);
    ASSERT_EQ_U(b.local_sig, a.local_sig);
    ASSERT_EQ_U(b.clause_count, a.clause_count);
    ASSERT_EQ_U(b.clauses == NULL, a.clauses == NULL);
    ASSERT_EQ_U(b.section_count, a.section_count);
    ASSERT_EQ_U(b.quirks, a.quirks);
    ASSERT_EQ_U(b.header_size, a.header_size);
    ASSERT_EQ_U(b.body_size, a.body_size);
    ASSERT_TRUE(a.clause_count == 0 || memcmp(ca, cb, a.clause_count * sizeof ca[0]) == 0);
    /* Field by field: the struct has padding bytes, which decode need not set. */
    for (uint32_t i = 0; i < a.section_count; i++) {
        ASSERT_EQ_U(b.sections[i].fat, a.sections[i].fat);
        ASSERT_EQ_U(b.sections[i].reserved, a.sections[i].reserved);
        ASSERT_EQ_U(b.sections[i].data_size, a.sections[i].data_size);
        ASSERT_EQ_U(b.sections[i].clause_count, a.sections[i].clause_count);
        ASSERT_EQ_U(b.sections[i].offset, a.sections[i].offset);
    }
}

static void test_inline_agrees(void)
{
    uint8_t buf[64] = {0};
    for (unsigned first = 0; first < 256; first++)
        for (size_t n = 0; n <= sizeof buf; n += 7) {
            buf[0] = (uint8_t)first;
            expect_same(buf, n);
        }
    /* Every combination of the low 6 flag bits (all the defined ones), then
     * each of the 6 higher bits alone. */
    for (unsigned f = 0; f < 0x40 + 6; f++)
        for (unsigned size_dwords = 2; size_dwords <= 4; size_dwords++)
            for (uint32_t code = 0; code < 56; code += 5) {
                unsigned flags = f < 0x40 ? f : 1u << (f - 0x40 + 6);
                memset(buf, 0, sizeof buf);
                buf[0] = (uint8_t)(flags | 3);
                buf[1] = (uint8_t)(size_dwords << 4 | (flags >> 8));
                buf[2] = 5;
                buf[4] = (uint8_t)code;
                buf[8] = 0x11;
                buf[11] = 0x11;
                for (size_t n = 11; n <= sizeof buf; n += 3)
                    expect_same(buf, n);
            }
    for (size_t i = 0; i < IL_SAMPLE_COUNT; i++)
        for (size_t n = 0; n <= il_samples[i].size; n++)
            expect_same(il_samples[i].bytes, n);
}

static void test_kind_names(void)
{
    ASSERT_STR_EQ(ilheap_il_clause_kind_name(ILHEAP_IL_CATCH), "catch");
    ASSERT_STR_EQ(ilheap_il_clause_kind_name(ILHEAP_IL_FILTER), "filter");
    ASSERT_STR_EQ(ilheap_il_clause_kind_name(ILHEAP_IL_FINALLY), "finally");
    ASSERT_STR_EQ(ilheap_il_clause_kind_name(ILHEAP_IL_FAULT), "fault");
    ASSERT_NULL(ilheap_il_clause_kind_name(3));
    for (int s = 200; s <= 215; s++)
        ASSERT_TRUE(strcmp(ilheap_status_name(s), "ILHEAP_UNKNOWN") != 0);
}

TEST_MAIN(TEST(test_tiny), TEST(test_tiny_limits), TEST(test_fat_no_sections),
          TEST(test_small_eh), TEST(test_fat_eh), TEST(test_two_sections),
          TEST(test_inexact_data_size), TEST(test_empty_section_and_padding),
          TEST(test_header_errors), TEST(test_section_errors), TEST(test_too_many_sections),
          TEST(test_clause_errors), TEST(test_clause_space), TEST(test_invalid_arguments),
          TEST(test_samples), TEST(test_inline_agrees), TEST(test_kind_names))
