/* ECMA-335's shared encodings (src/pe/cursor.h): compressed unsigned and
 * signed integers (II.23.2), TypeDefOrRefOrSpecEncoded tokens (II.23.2.8)
 * and GUID text, against the spec's own examples, every boundary, and a
 * round trip over a sweep of the whole range. */
#include "ilheap/pe.h"
#include "pe/cursor.h"
#include "test.h"

/* II.23.2's table of examples: value, encoding. */
static void test_unsigned_spec_examples(void)
{
    static const struct {
        uint32_t value;
        uint8_t bytes[4];
        size_t n;
    } cases[] = {
        {0x03, {0x03}, 1},           {0x7F, {0x7F}, 1},
        {0x80, {0x80, 0x80}, 2},     {0x2E57, {0xAE, 0x57}, 2},
        {0x3FFF, {0xBF, 0xFF}, 2},   {0x4000, {0xC0, 0x00, 0x40, 0x00}, 4},
        {0x1FFFFFFF, {0xDF, 0xFF, 0xFF, 0xFF}, 4},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint8_t out[4] = {0};
        ASSERT_EQ_U(ilheap__encode_compressed(cases[i].value, out), cases[i].n);
        ASSERT_EQ_U(memcmp(out, cases[i].bytes, cases[i].n), 0);
        ASSERT_EQ_U(ilheap__compressed_size(cases[i].value), cases[i].n);
        uint32_t v = 0;
        ASSERT_EQ_U(ilheap__decode_compressed(cases[i].bytes, cases[i].n, &v), cases[i].n);
        ASSERT_EQ_U(v, cases[i].value);
        /* One byte short: refused. */
        ASSERT_EQ_U(ilheap__decode_compressed(cases[i].bytes, cases[i].n - 1, &v), 0);
    }
    uint8_t out[4];
    ASSERT_EQ_U(ilheap__encode_compressed(0x20000000, out), 0);
    ASSERT_EQ_U(ilheap__encode_compressed(UINT32_MAX, out), 0);
    static const uint8_t bad[4] = {0xE0, 0, 0, 0};
    uint32_t v;
    ASSERT_EQ_U(ilheap__decode_compressed(bad, 4, &v), 0);
    /* A longer form than needed decodes (the runtime reads it). */
    static const uint8_t long_form[2] = {0x80, 0x05};
    ASSERT_EQ_U(ilheap__decode_compressed(long_form, 2, &v), 2);
    ASSERT_EQ_U(v, 5);
}

/* II.23.2's signed examples, and the 14- and 29-bit minimums whose rotated
 * patterns are small (they must keep their length). */
static void test_signed_spec_examples(void)
{
    static const struct {
        int32_t value;
        uint8_t bytes[4];
        size_t n;
    } cases[] = {
        {3, {0x06}, 1},
        {-3, {0x7B}, 1},
        {64, {0x80, 0x80}, 2},
        {-64, {0x01}, 1},
        {8192, {0xC0, 0x00, 0x40, 0x00}, 4},
        {-8192, {0x80, 0x01}, 2},
        {268435455, {0xDF, 0xFF, 0xFF, 0xFE}, 4},
        {-268435456, {0xC0, 0x00, 0x00, 0x01}, 4},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint8_t out[4] = {0};
        ASSERT_EQ_U(ilheap__encode_compressed_signed(cases[i].value, out), cases[i].n);
        ASSERT_EQ_U(memcmp(out, cases[i].bytes, cases[i].n), 0);
        int32_t v = 0;
        ASSERT_EQ_U(ilheap__decode_compressed_signed(cases[i].bytes, cases[i].n, &v), cases[i].n);
        ASSERT_EQ_I(v, cases[i].value);
    }
    uint8_t out[4];
    ASSERT_EQ_U(ilheap__encode_compressed_signed(0x10000000, out), 0);
    ASSERT_EQ_U(ilheap__encode_compressed_signed(-0x10000001, out), 0);
    ASSERT_EQ_U(ilheap__encode_compressed_signed(INT32_MIN, out), 0);
}

/* Every value in a sweep (every boundary's neighbourhood and a stride
 * through the rest) encodes, decodes back, and through the cursor too. */
static void test_round_trip_sweep(void)
{
    for (uint64_t x = 0; x <= ILHEAP__COMPRESSED_MAX; x += x < 0x10000 ? 1 : 997) {
        uint32_t u = (uint32_t)x, back = 0;
        uint8_t out[4];
        size_t n = ilheap__encode_compressed(u, out);
        ASSERT_TRUE(n != 0 && ilheap__decode_compressed(out, n, &back) == n && back == u);
        int32_t s = (int32_t)(x & 1 ? -(int64_t)(x >> 1) - 1 : (int64_t)(x >> 1)), sback = 0;
        n = ilheap__encode_compressed_signed(s, out);
        ASSERT_TRUE(n != 0 && ilheap__decode_compressed_signed(out, n, &sback) == n && sback == s);
        ilheap__cursor_t c;
        ilheap__cursor_init(&c, out, n, 0, n);
        ASSERT_TRUE(ilheap__read_compressed_signed(&c, &sback) && sback == s && ilheap__cursor_left(&c) == 0);
    }
    /* A cursor read that fails does not move. */
    static const uint8_t cut[3] = {0xC0, 1, 2};
    ilheap__cursor_t c;
    ilheap__cursor_init(&c, cut, 3, 0, 3);
    uint32_t v;
    ASSERT_FALSE(ilheap__read_compressed(&c, &v));
    ASSERT_EQ_U(c.pos, 0);
}

static void test_type_tokens(void)
{
    uint32_t token = 0, coded = 0;
    /* II.23.2.8's example: TypeRef 0x01000012 is coded 0x49. */
    ASSERT_TRUE(ilheap__encode_type_token(0x01000012, &coded));
    ASSERT_EQ_U(coded, 0x49);
    ASSERT_TRUE(ilheap__decode_type_token(0x49, &token));
    ASSERT_EQ_U(token, 0x01000012);
    ASSERT_TRUE(ilheap__decode_type_token(0x04, &token));
    ASSERT_EQ_U(token, 0x02000001);
    ASSERT_TRUE(ilheap__decode_type_token(0x0A, &token));
    ASSERT_EQ_U(token, 0x1B000002);
    ASSERT_FALSE(ilheap__decode_type_token(0x07, &token)); /* tag 3 */
    ASSERT_FALSE(ilheap__decode_type_token(0x01, &token)); /* rid 0 */
    ASSERT_FALSE(ilheap__decode_type_token(0x04000001, &token)); /* rid 2^24 */
    ASSERT_TRUE(ilheap__decode_type_token(0x03FFFFFD, &token));
    ASSERT_EQ_U(token, 0x01FFFFFF);
    ASSERT_FALSE(ilheap__encode_type_token(0x06000001, &coded)); /* a MethodDef */
    ASSERT_FALSE(ilheap__encode_type_token(0x02000000, &coded));
    ASSERT_TRUE(ilheap__encode_type_token(0x1BFFFFFF, &coded));
    ASSERT_TRUE(ilheap__decode_type_token(coded, &token));
    ASSERT_EQ_U(token, 0x1BFFFFFF);
}

/* The text System.Guid.ToString() gives for the same 16 bytes. */
static void test_guid_text(void)
{
    static const uint8_t g[16] = {0xba, 0x28, 0x4e, 0x1b, 0xa1, 0x2f, 0xd2, 0x11,
                                  0x88, 0x3f, 0x00, 0x16, 0xd3, 0xcc, 0xa4, 0x27};
    char text[37];
    memset(text, 'x', sizeof text);
    ilheap_pe_guid_text(g, text);
    ASSERT_STR_EQ(text, "1b4e28ba-2fa1-11d2-883f-0016d3cca427");
}

/* The UTF-8 encoder at each length boundary, and UTF-16 text through it:
 * pairs joined, lone surrogates replaced, cuts at a code point boundary. */
static void test_utf8(void)
{
    static const uint32_t points[] = {0x7F, 0x80, 0x7FF, 0x800, 0xFFFF, 0x10000, 0x10FFFF};
    static const char *const bytes[] = {"\x7F", "\xC2\x80", "\xDF\xBF", "\xE0\xA0\x80", "\xEF\xBF\xBF",
                                        "\xF0\x90\x80\x80", "\xF4\x8F\xBF\xBF"};
    for (size_t i = 0; i < sizeof points / sizeof points[0]; i++) {
        char out[4];
        size_t n = ilheap__utf8_put(out, points[i]);
        ASSERT_EQ_U(n, strlen(bytes[i]));
        ASSERT_TRUE(memcmp(out, bytes[i], n) == 0);
    }
    const uint16_t text[] = {'a', 0xD83D, 0xDE00, 0xDC00, 0xD800};
    const uint16_t ended[] = {'N', 's', 0, 'x'};
    char out[16];
    ilheap_pe_utf16_to_utf8(ended, 4, out, sizeof out); /* a 0 unit ends the text */
    ASSERT_STR_EQ(out, "Ns");
    ilheap_pe_utf16_to_utf8(text, 5, out, sizeof out);
    ASSERT_STR_EQ(out, "a\xF0\x9F\x98\x80\xEF\xBF\xBD\xEF\xBF\xBD");
    ilheap_pe_utf16_to_utf8(text, 2, out, sizeof out); /* the pair's low half is past n */
    ASSERT_STR_EQ(out, "a\xEF\xBF\xBD");
    ilheap_pe_utf16_to_utf8(text, 5, out, 5); /* U+1F600 needs 4 bytes + NUL after 'a' */
    ASSERT_STR_EQ(out, "a");
    out[0] = 'x';
    ilheap_pe_utf16_to_utf8(text, 5, out, 0);
    ASSERT_EQ_I(out[0], 'x');
}

TEST_MAIN(TEST(test_unsigned_spec_examples), TEST(test_signed_spec_examples), TEST(test_round_trip_sweep),
          TEST(test_type_tokens), TEST(test_guid_text), TEST(test_utf8))
