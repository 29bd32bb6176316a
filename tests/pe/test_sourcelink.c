/* Source Link (src/pe/sourcelink.c): the JSON reader on well-formed maps,
 * escapes and skipped members, every malformation with its status and offset,
 * every truncation of a real map, prefix matching, and a PDB without one. */
#include "ilheap/pdb.h"
#include "test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* What a deterministic build with the SDK's Source Link writes. */
static const char real_map[] =
    "{\"documents\":{\"/_/*\":\"https://raw.githubusercontent.com/example/sample/"
    "f4547ad9a6762a92c17d570b35c775f05bd459e9/*\"}}";

static ilheap_source_link_t *parse_ok(const char *json)
{
    ilheap_source_link_t *link = NULL;
    ilheap_pe_error_t err;
    ilheap_status_t st = ilheap_source_link_parse(json, strlen(json), 0, &link, &err);
    if (st != ILHEAP_OK)
        fprintf(stderr, "  parse of %s: %s\n", json, err.message);
    return st == ILHEAP_OK ? link : NULL;
}

static void test_real_map(void)
{
    ilheap_source_link_t *link = parse_ok(real_map);
    ASSERT_NOT_NULL(link);
    ASSERT_EQ_U(ilheap_source_link_count(link), 1);
    const char *path, *url;
    ASSERT_TRUE(ilheap_source_link_entry(link, 0, &path, &url));
    ASSERT_STR_EQ(path, "/_/*");
    ASSERT_TRUE(strncmp(url, "https://raw.githubusercontent.com/example/sample/", 49) == 0);
    ASSERT_FALSE(ilheap_source_link_entry(link, 1, &path, &url));
    size_t index = 99;
    ASSERT_TRUE(ilheap_source_link_match(link, "/_/src/A.cs", &index));
    ASSERT_EQ_U(index, 0);
    ASSERT_FALSE(ilheap_source_link_match(link, "/home/me/A.cs", &index));
    ilheap_source_link_free(link);
}

static void test_escapes_and_skipped_members(void)
{
    ilheap_source_link_t *link = parse_ok(
        "\xEF\xBB\xBF { \"version\" : [1, 2.5e3, -0, true, false, null, {\"a\": [[]]}],\n"
        "  \"documents\" : { \"C:\\\\src\\\\*\" : \"https://x/\\u00e9\\ud83d\\ude00\\/*\", \"/_/ex\\\"act.cs\":\"u\" },\n"
        "  \"other\": {\"documents\": 5} }  \n");
    ASSERT_NOT_NULL(link);
    ASSERT_EQ_U(ilheap_source_link_count(link), 2);
    const char *path, *url;
    ASSERT_TRUE(ilheap_source_link_entry(link, 0, &path, &url));
    ASSERT_STR_EQ(path, "C:\\src\\*");
    ASSERT_STR_EQ(url, "https://x/\xC3\xA9\xF0\x9F\x98\x80/*");
    ASSERT_TRUE(ilheap_source_link_entry(link, 1, &path, &url));
    ASSERT_STR_EQ(path, "/_/ex\"act.cs");
    ilheap_source_link_free(link);
    link = parse_ok("{\"documents\":{}}");
    ASSERT_NOT_NULL(link);
    ASSERT_EQ_U(ilheap_source_link_count(link), 0);
    ilheap_source_link_free(link);
}

static void test_longest_prefix_and_exact_match(void)
{
    ilheap_source_link_t *link =
        parse_ok("{\"documents\":{\"/_/*\":\"a/*\",\"/_/ext/lib/*\":\"b/*\",\"/_/ext/lib/x.cs\":\"c\"}}");
    ASSERT_NOT_NULL(link);
    size_t index;
    ASSERT_TRUE(ilheap_source_link_match(link, "/_/ext/lib/y.cs", &index));
    ASSERT_EQ_U(index, 1);
    ASSERT_TRUE(ilheap_source_link_match(link, "/_/ext/lib/x.cs", &index));
    ASSERT_EQ_U(index, 2);
    ASSERT_TRUE(ilheap_source_link_match(link, "/_/src/z.cs", &index));
    ASSERT_EQ_U(index, 0);
    ilheap_source_link_free(link);
}

/* Each malformed text fails with ILHEAP_PE_BAD_SOURCE_LINK at `offset` (+ a base of 1000). */
static void test_malformed(void)
{
    static const struct {
        const char *json, *what;
        uint64_t offset;
    } cases[] = {
        {"", "not a JSON object", 0},
        {"[]", "not a JSON object", 0},
        {"{}", "no \"documents\"", 2},
        {"{\"documents\":[]}", "is not an object", 13},
        {"{\"documents\":{\"a\":1}}", "string expected", 18},
        {"{\"documents\":{\"a\" \"b\"}}", "':' expected", 18},
        {"{\"documents\":{\"a\":\"b\"}", "'}' expected", 22},
        {"{\"documents\":{}}x", "text after the object", 16},
        {"{\"documents\":{},\"documents\":{}}", "given twice", 28},
        {"{\"documents\":{\"a\":\"b", "unterminated string", 20},
        {"{\"documents\":{\"a\":\"\\q\"}}", "bad escape", 20},
        {"{\"documents\":{\"a\":\"\x01\"}}", "control character", 19},
        {"{\"documents\":{\"a\":\"\\u12G4\"}}", "bad \\u escape", 23},
        {"{\"documents\":{\"a\":\"\\udc00\"}}", "lone low surrogate", 25},
        {"{\"documents\":{\"a\":\"\\ud800x\"}}", "without its low half", 25},
        {"{\"documents\":{\"a\":\"\\u0000\"}}", "NUL in a string", 25},
        {"{\"x\":tru}", "value expected", 5},
        {"{\"x\":[1 2]}", "']' expected", 8},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ilheap_source_link_t *link = (ilheap_source_link_t *)1;
        ilheap_pe_error_t err;
        ilheap_status_t st = ilheap_source_link_parse(cases[i].json, strlen(cases[i].json), 1000, &link, &err);
        if (st != ILHEAP_PE_BAD_SOURCE_LINK || strstr(err.message, cases[i].what) == NULL ||
            err.file_offset != 1000 + cases[i].offset)
            fprintf(stderr, "  case %zu %s: status %d, offset %llu: %s\n", i, cases[i].json, st,
                    (unsigned long long)err.file_offset, err.message);
        ASSERT_STATUS(st, ILHEAP_PE_BAD_SOURCE_LINK);
        ASSERT_NULL(link);
        ASSERT_TRUE(strstr(err.message, cases[i].what) != NULL);
        ASSERT_EQ_U(err.file_offset, 1000 + cases[i].offset);
    }
}

static void test_deep_nesting_refused(void)
{
    char json[256] = "{\"x\":";
    size_t n = strlen(json);
    for (int i = 0; i < 40; i++)
        json[n++] = '[';
    json[n] = '\0';
    ilheap_source_link_t *link;
    ilheap_pe_error_t err;
    ASSERT_STATUS(ilheap_source_link_parse(json, n, 0, &link, &err), ILHEAP_PE_BAD_SOURCE_LINK);
    ASSERT_TRUE(strstr(err.message, "nested too deeply") != NULL);
}

/* Every proper prefix of a real map is refused; the parser reads no byte past
 * the size it is given (ASan and valgrind check the copies). */
static void test_every_truncation(void)
{
    size_t n = strlen(real_map);
    for (size_t len = 0; len < n; len++) {
        char *copy = malloc(len + 1);
        ASSERT_NOT_NULL(copy);
        memcpy(copy, real_map, len);
        ilheap_source_link_t *link;
        ilheap_pe_error_t err;
        ilheap_status_t st = ilheap_source_link_parse(copy, len, 0, &link, &err);
        free(copy);
        ASSERT_STATUS(st, ILHEAP_PE_BAD_SOURCE_LINK);
        ASSERT_LE_U(err.file_offset, len);
    }
}

static void test_pdb_without_source_link(void)
{
    FILE *f = fopen(ILHEAP_PDB_CORPUS "/sample_portable.pdb", "rb");
    ASSERT_NOT_NULL(f);
    static uint8_t buf[1 << 20];
    size_t size = fread(buf, 1, sizeof buf, f);
    fclose(f);
    ilheap_pdb_t *pdb;
    ilheap_pe_error_t err;
    ASSERT_STATUS(ilheap_pdb_open(buf, size, &pdb, &err), ILHEAP_OK);
    ilheap_source_link_t *link = (ilheap_source_link_t *)1;
    ASSERT_STATUS(ilheap_pdb_source_link(pdb, &link, &err), ILHEAP_OK);
    ASSERT_NULL(link);
    ilheap_pdb_close(pdb);
    ASSERT_STATUS(ilheap_pdb_source_link(NULL, &link, &err), ILHEAP_PE_BAD_HANDLE);
    ASSERT_EQ_U(ilheap_source_link_count(NULL), 0);
    ilheap_source_link_free(NULL);
}

TEST_MAIN(TEST(test_real_map), TEST(test_escapes_and_skipped_members), TEST(test_longest_prefix_and_exact_match),
          TEST(test_malformed), TEST(test_deep_nesting_refused), TEST(test_every_truncation),
          TEST(test_pdb_without_source_link))
