/* The signature codec over every signature of the shared framework: each
 * MethodDef, MemberRef, StandAloneSig, Field, Property, TypeSpec and
 * MethodSpec blob of every assembly of the newest Microsoft.NETCore.App
 * decodes, is canonical, and encodes back to the same bytes; its strict
 * prefixes fail as truncated. Prints the counts per table and the rate of
 * decode + encode (a figure, not an assertion). Skips, saying why, without
 * a runtime. */
#include "ilheap/pe.h"
#include "ilheap/sig.h"
#include "test.h"

#include "assemblies.h"

static const struct {
    uint8_t table;
    const char *name;
} tables[] = {
    {0x06, "MethodDef"}, {0x0A, "MemberRef"}, {0x11, "StandAloneSig"}, {0x04, "Field"},
    {0x17, "Property"},  {0x1B, "TypeSpec"},  {0x2B, "MethodSpec"},
};
#define TABLES (sizeof tables / sizeof tables[0])

typedef struct totals {
    uint64_t count[TABLES], bytes, failures, prefixes;
    unsigned visited, stride; /* under valgrind: every stride-th assembly (ASan sees them all) */
    double seconds;
    uint8_t *arena, *out;
    size_t arena_size;
} totals_t;

/* Decode and encode one blob; NULL or what went wrong. */
static const char *round_trip(totals_t *t, ilheap_sig_kind_t kind, const uint8_t *blob, size_t size, char *why,
                              size_t why_size)
{
    size_t need = ilheap_sig_memory_bound(size);
    if (need > t->arena_size) {
        free(t->arena);
        free(t->out);
        t->arena = malloc(need);
        t->out = malloc(size + 1);
        t->arena_size = t->arena != NULL && t->out != NULL ? need : 0;
        if (t->arena_size == 0)
            return "out of memory";
    }
    ilheap_sig_arena_t arena = {t->arena, t->arena_size, 0};
    ilheap_sig_t sig;
    ilheap_sig_error_t err;
    size_t n = 0;
    ilheap_status_t st = ilheap_sig_decode(kind, blob, size, 0, &arena, &sig, &err);
    if (st == ILHEAP_OK)
        st = ilheap_sig_encode(&sig, t->out, size, &n, &err);
    if (st != ILHEAP_OK)
        return snprintf(why, why_size, "%s", err.message), why;
    if (!sig.canonical)
        return "not canonical";
    if (n != size || memcmp(t->out, blob, size) != 0)
        return snprintf(why, why_size, "encodes to %zu bytes, differs", n), why;
    /* A strict prefix is never a whole signature (the grammar is prefix-free):
     * it ends inside an element, or before the items a count announced. Two
     * cuts each here (test_sig cuts hand-made blobs at every byte). */
    for (size_t cut = size / 2; cut < size; cut = cut < size - 1 ? size - 1 : size) {
        arena.used = 0;
        t->prefixes++;
        st = ilheap_sig_decode(kind, blob, cut, 0, &arena, &sig, &err);
        if (st != ILHEAP_SIG_TRUNCATED && st != ILHEAP_SIG_BAD_COUNT)
            return snprintf(why, why_size, "prefix of %zu bytes: %s", cut, ilheap_status_name(err.status)), why;
    }
    return NULL;
}

/* The rate: decode and encode every signature of the image, timed alone. */
static void time_image(totals_t *t, const ilheap_pe_t *pe)
{
    static uint8_t arena_memory[1 << 16], out[1 << 14];
    double t0 = pe_test_now();
    for (size_t k = 0; k < TABLES; k++)
        for (uint32_t rid = 1; rid <= ilheap_pe_row_count(pe, tables[k].table); rid++) {
            const uint8_t *blob;
            size_t n, m;
            ilheap_sig_kind_t kind;
            ilheap_sig_arena_t arena = {arena_memory, sizeof arena_memory, 0};
            ilheap_sig_t sig;
            if (ilheap_pe_signature(pe, (uint32_t)tables[k].table << 24 | rid, &blob, &n, &kind, NULL, NULL) ==
                    ILHEAP_OK &&
                ilheap_sig_decode(kind, blob, n, 0, &arena, &sig, NULL) == ILHEAP_OK)
                ilheap_sig_encode(&sig, out, sizeof out, &m, NULL);
        }
    t->seconds += pe_test_now() - t0;
}

static void visit(const char *name, const uint8_t *data, size_t size, void *ctx)
{
    totals_t *t = ctx;
    ilheap_pe_t *pe;
    ilheap_pe_error_t err;
    if (t->visited++ % t->stride != 0)
        return;
    if (ilheap_pe_open(data, size, &pe, &err) != ILHEAP_OK) {
        fprintf(stderr, "  %s: %s\n", name, err.message);
        t->failures++;
        return;
    }
    char why[200];
    time_image(t, pe);
    for (size_t k = 0; k < TABLES; k++) {
        uint32_t rows = ilheap_pe_row_count(pe, tables[k].table);
        for (uint32_t rid = 1; rid <= rows; rid++) {
            uint32_t token = (uint32_t)tables[k].table << 24 | rid;
            const uint8_t *blob;
            size_t n;
            ilheap_sig_kind_t kind;
            const char *bad = ilheap_pe_signature(pe, token, &blob, &n, &kind, NULL, &err) != ILHEAP_OK
                                  ? err.message
                                  : round_trip(t, kind, blob, n, why, sizeof why);
            if (bad != NULL && t->failures++ < 20)
                fprintf(stderr, "  %s %s %#x: %s\n", name, tables[k].name, token, bad);
            t->count[k]++;
            t->bytes += n;
        }
    }
    ilheap_pe_close(pe);
}

static void test_round_trip_framework(void)
{
    char dir[512], why[600];
    totals_t t = {.stride = getenv("ILHEAP_UNDER_VALGRIND") != NULL ? 12 : 1};
    long images = pe_test_each_framework_dll(visit, &t, dir, sizeof dir, why, sizeof why);
    free(t.arena);
    free(t.out);
    if (images == -1)
        SKIP("%s", why);
    if (images < 0)
        TEST_FAIL_("%s", why);
    uint64_t all = 0;
    fprintf(stderr, "  %ld assemblies in %s%s:", images, dir,
            t.stride > 1 ? " (under valgrind: every 12th, ASan's stage reads them all)" : "");
    for (size_t k = 0; k < TABLES; k++) {
        fprintf(stderr, " %s %" PRIu64 ",", tables[k].name, t.count[k]);
        all += t.count[k];
    }
    fprintf(stderr, " %" PRIu64 " signatures (%" PRIu64 " bytes), %" PRIu64 " prefixes refused\n", all, t.bytes,
            t.prefixes);
    fprintf(stderr, "  blob lookup + decode + encode: %.0f signatures/s, %.1f MB/s (%.1f ns each)\n",
            (double)all / t.seconds, (double)t.bytes / t.seconds / 1e6, t.seconds * 1e9 / (double)all);
    ASSERT_EQ_U(t.failures, 0);
    ASSERT_GT_U(t.count[0], t.stride > 1 ? 1000 : 100000);
    for (size_t k = 0; k < TABLES; k++)
        ASSERT_GT_U(t.count[k], 0);
}

/* Does any overload of Type::method render as `want` in `style`? */
static bool some_overload(const ilheap_pe_t *pe, const char *type, const char *method, unsigned style,
                          const char *want)
{
    for (uint32_t rid = 1; rid <= ilheap_pe_method_count(pe); rid++) {
        const char *name, *owner_name;
        uint32_t owner;
        ilheap_pe_typedef_t t;
        char text[1024];
        if (ilheap_pe_method_name(pe, rid, &name, NULL) != ILHEAP_OK || strcmp(name, method) != 0 ||
            ilheap_pe_method_owner(pe, rid, &owner, NULL) != ILHEAP_OK ||
            ilheap_pe_typedef(pe, owner, &t, NULL) != ILHEAP_OK ||
            ilheap_pe_string(pe, t.name, &owner_name, NULL, NULL) != ILHEAP_OK || strcmp(owner_name, type) != 0)
            continue;
        if (ilheap_pe_signature_text(pe, 0x06000000u | rid, style, text, sizeof text, NULL, NULL) == ILHEAP_OK &&
            strcmp(text, want) == 0)
            return true;
    }
    fprintf(stderr, "  no %s::%s renders as %s\n", type, method, want);
    return false;
}

/* Signature text on CoreLib: known methods in both spellings (Cecil's is
 * checked against Mono.Cecil itself by test_sig_cecil.sh), every MethodDef
 * renders, a small buffer gets the text cut and the full length. */
static void test_text_corelib(void)
{
    char why[600], path[1024];
    size_t size;
    uint8_t *data = pe_test_framework_file("System.Private.CoreLib.dll", path, sizeof path, &size, why, sizeof why);
    if (data == NULL)
        SKIP("%s", why);
    ilheap_pe_t *pe;
    ilheap_pe_error_t err;
    ASSERT_STATUS(ilheap_pe_open(data, size, &pe, &err), ILHEAP_OK);
    const unsigned cs = ILHEAP_SIG_TEXT_CSHARP, cecil = ILHEAP_SIG_TEXT_CECIL, ret = ILHEAP_SIG_TEXT_RETURN;
    ASSERT_TRUE(some_overload(pe, "String", "Concat", cs, "(string, string)"));
    ASSERT_TRUE(some_overload(pe, "String", "Concat", cs, "(ReadOnlySpan<char>, ReadOnlySpan<char>)"));
    ASSERT_TRUE(some_overload(pe, "String", "Concat", cecil, "(System.String,System.String)"));
    ASSERT_TRUE(some_overload(pe, "String", "Format", cs | ret, "string (string, object[])"));
    ASSERT_TRUE(some_overload(pe, "Int32", "TryParse", cs, "(string, ref int)"));
    ASSERT_TRUE(some_overload(pe, "Unsafe", "Add", cs | ret, "ref T (ref T, int)"));
    ASSERT_TRUE(some_overload(pe, "Unsafe", "Add", cecil | ret, "T& (T&,System.Int32)"));
    ASSERT_TRUE(some_overload(pe, "Buffer", "MemoryCopy", cs, "(void*, void*, long, long)"));
    ASSERT_TRUE(some_overload(pe, "Dictionary`2", "TryGetValue", cs, "(TKey, ref TValue)"));
    ASSERT_TRUE(some_overload(pe, "Dictionary`2", "TryGetValue", cecil | ret, "System.Boolean (TKey,TValue&)"));
    uint32_t rendered = 0, step = getenv("ILHEAP_UNDER_VALGRIND") != NULL ? 16 : 1;
    char text[4096];
    for (uint32_t rid = 1; rid <= ilheap_pe_method_count(pe); rid += step) {
        ASSERT_STATUS(ilheap_pe_signature_text(pe, 0x06000000u | rid, cs | ret, text, sizeof text, NULL, &err),
                      ILHEAP_OK);
        ASSERT_NULL(strchr(text, '?'));
        rendered++;
    }
    /* Too small a buffer: cut, NUL-terminated, the full length told. */
    uint32_t token;
    ASSERT_STATUS(ilheap_pe_find_method(pe, "System.Buffer::MemoryCopy", &token, &err), ILHEAP_OK);
    size_t full = 0, cut = 0;
    ASSERT_STATUS(ilheap_pe_signature_text(pe, token, cs, text, sizeof text, &full, &err), ILHEAP_OK);
    ASSERT_EQ_U(full, strlen(text));
    ASSERT_STATUS(ilheap_pe_signature_text(pe, token, cs, text, 5, &cut, &err), ILHEAP_EINVAL);
    ASSERT_EQ_U(cut, full);
    ASSERT_EQ_U(strlen(text), 4);
    ASSERT_STATUS(ilheap_pe_signature_text(pe, 0x06000000u, cs, text, sizeof text, NULL, &err), ILHEAP_PE_BAD_ROW);
    ASSERT_STATUS(ilheap_pe_signature_text(pe, 0x70000001u, cs, text, sizeof text, NULL, &err), ILHEAP_EINVAL);
    ASSERT_STATUS(ilheap_pe_signature_text(NULL, token, cs, text, sizeof text, NULL, &err), ILHEAP_PE_BAD_HANDLE);
    /* Without the method as context, generic parameters are numbered. */
    ASSERT_STATUS(ilheap_pe_find_method(pe, "System.Runtime.CompilerServices.Unsafe::AsRef", &token, &err), ILHEAP_OK);
    static uint8_t memory[1 << 16];
    ilheap_sig_arena_t arena = {memory, sizeof memory, 0};
    ilheap_sig_t sig;
    ASSERT_STATUS(ilheap_pe_decode_signature(pe, token, &arena, &sig, &err), ILHEAP_OK);
    ASSERT_EQ_U(sig.generic_count, 1);
    ASSERT_STATUS(ilheap_pe_sig_text(pe, &sig, 0, cs | ret, text, sizeof text, NULL, &err), ILHEAP_OK);
    ASSERT_NOT_NULL(strstr(text, "!!0"));
    ASSERT_STATUS(ilheap_pe_sig_text(pe, &sig, token, cs | ret, text, sizeof text, NULL, &err), ILHEAP_OK);
    ASSERT_NULL(strstr(text, "!!0"));
    ASSERT_NOT_NULL(strstr(text, "T"));
    fprintf(stderr, "  %u CoreLib method signatures as text\n", rendered);
    ilheap_pe_close(pe);
    free(data);
}

TEST_MAIN(TEST(test_round_trip_framework), TEST(test_text_corelib))
