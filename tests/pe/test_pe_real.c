/* The reader on real assemblies: every *.dll of the installed shared framework
 * opens, every MethodDef reads, has a name and an owning type, every IL body's
 * RVA lands on a tiny or fat header, the tables end where their stream ends,
 * and the loader-style layout puts each body at its RVA. */
#include "ilheap/pe.h"
#include "pe/image.h"
#include "test.h"

#include "assemblies.h"
#include "cursor_check.h"

#include <time.h>

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

typedef struct walk_totals {
    uint64_t methods, bodies, tiny, fat;
} walk_totals_t;

/* Walks one image; every failure is an assertion naming the file. */
static void walk_image(const char *name, const uint8_t *data, size_t size, walk_totals_t *totals)
{
    ilheap_pe_t *pe;
    ilheap_pe_error_t err;
    ilheap_status_t st = ilheap_pe_open(data, size, &pe, &err);
    if (st != ILHEAP_OK)
        TEST_FAIL_("%s: %s", name, err.message);

    /* The table stream is the tables, then padding to a 4-byte boundary
     * (II.24.2.2); Roslyn writes a zero byte before it, so 1 to 4 bytes. A
     * wrong row size anywhere (times its row count) shows here. */
    size_t stream_end = pe->table_stream.offset + pe->table_stream.size;
    if (pe->tables_end > stream_end || stream_end - pe->tables_end > 4) {
        ilheap_pe_close(pe);
        TEST_FAIL_("%s: tables end at %#zx, stream at %#zx", name, pe->tables_end, stream_end);
    }

    uint32_t count = ilheap_pe_method_count(pe);
    for (uint32_t rid = 1; rid <= count; rid++) {
        ilheap_pe_method_t m;
        const char *mname;
        uint32_t owner;
        if (ilheap_pe_method(pe, rid, &m, &err) != ILHEAP_OK || ilheap_pe_method_name(pe, rid, &mname, &err) != ILHEAP_OK ||
            ilheap_pe_method_owner(pe, rid, &owner, &err) != ILHEAP_OK) {
            ilheap_pe_close(pe);
            TEST_FAIL_("%s: method %u: %s", name, rid, err.message);
        }
        totals->methods++;
        if (mname[0] == '\0') {
            ilheap_pe_close(pe);
            TEST_FAIL_("%s: method %u has an empty name", name, rid);
        }
        if (!ilheap_pe_method_has_il(&m))
            continue;
        const uint8_t *body;
        size_t available;
        if (ilheap_pe_method_body(pe, &m, &body, &available, &err) != ILHEAP_OK) {
            ilheap_pe_close(pe);
            TEST_FAIL_("%s: method %#x: %s", name, m.token, err.message);
        }
        /* II.25.4.1: the low 2 bits are 2 (tiny) or 3 (fat); a fat header is
         * 4-byte aligned with Size 3 in the top nibble of byte 1. */
        bool tiny = (body[0] & 3) == 2;
        bool fat = (body[0] & 3) == 3 && (m.rva & 3) == 0 && available >= 12 && (body[1] >> 4) == 3;
        if (!tiny && !fat) {
            ilheap_pe_close(pe);
            TEST_FAIL_("%s: method %#x at RVA %#x does not start with a method header (%#x)", name, m.token, m.rva,
                       body[0]);
        }
        totals->bodies++;
        totals->tiny += tiny;
        totals->fat += fat;
    }
    char why[256];
    if (pe_check_cursor(pe, why, sizeof why) < 0) {
        ilheap_pe_close(pe);
        TEST_FAIL_("%s: fast body walk: %s", name, why);
    }
    ilheap_pe_close(pe);
}

static void visit(const char *name, const uint8_t *data, size_t size, void *ctx)
{
    walk_image(name, data, size, ctx);
}

static void test_shared_framework(void)
{
    char dir[512], why[600];
    walk_totals_t totals = {0};
    long images = pe_test_each_framework_dll(visit, &totals, dir, sizeof dir, why, sizeof why);
    if (images == -1)
        SKIP("%s", why);
    if (images < 0)
        TEST_FAIL_("%s", why);
    fprintf(stderr, "  %ld assemblies in %s: %" PRIu64 " methods, %" PRIu64 " IL bodies (%" PRIu64 " tiny, %" PRIu64
            " fat)\n", images, dir, totals.methods, totals.bodies, totals.tiny, totals.fat);
    ASSERT_EQ_U(totals.tiny + totals.fat, totals.bodies);
    ASSERT_GT_U(totals.bodies, 0);
}

/* Layout: every IL body's bytes sit at base + RVA, equal to the file's. */
static void test_layout_corelib(void)
{
    char why[600], path[1024];
    size_t size;
    uint8_t *data = pe_test_framework_file("System.Private.CoreLib.dll", path, sizeof path, &size, why, sizeof why);
    if (data == NULL)
        SKIP("%s", why);
    ilheap_pe_t *pe;
    ilheap_pe_error_t err;
    double t_open = now_seconds();
    ASSERT_STATUS(ilheap_pe_open(data, size, &pe, &err), ILHEAP_OK);
    t_open = now_seconds() - t_open;
    ilheap_pe_info_t info;
    ASSERT_STATUS(ilheap_pe_get_info(pe, &info), ILHEAP_OK);
    uint8_t *region = malloc(info.size_of_image);
    ASSERT_NOT_NULL(region);
    ASSERT_STATUS(ilheap_pe_layout(pe, region, info.size_of_image - 1, &err), ILHEAP_PE_REGION_TOO_SMALL);
    ASSERT_STATUS(ilheap_pe_layout(pe, region, info.size_of_image, &err), ILHEAP_OK);
    ASSERT_MEM_EQ(region, data, 2); /* "MZ" at the base */
    /* The headers alone, read at the "loaded" base (one page), say what the
     * whole file says; the flat layout's extent is the end of the last
     * section's raw data (a signature may follow it in the file). */
    ilheap_pe_headers_t headers;
    ASSERT_STATUS(ilheap_pe_read_headers(region, 4096, &headers, &err), ILHEAP_OK);
    ASSERT_EQ_X(headers.size_of_image, info.size_of_image);
    ASSERT_LE_U(headers.file_extent, size);
    ASSERT_GT_U(headers.file_extent, size / 2);
    ASSERT_STATUS(ilheap_pe_read_headers(data, 4096, &headers, &err), ILHEAP_OK);
    ASSERT_EQ_X(headers.size_of_image, info.size_of_image);
    ASSERT_STATUS(ilheap_pe_read_headers(data, 0x40, &headers, &err), ILHEAP_PE_BAD_DOS_HEADER);
    ASSERT_EQ_X(headers.size_of_image, 0);
    uint32_t mismatches = 0, bodies = 0;
    for (uint32_t rid = 1; rid <= ilheap_pe_method_count(pe); rid++) {
        ilheap_pe_method_t m;
        const uint8_t *body;
        size_t available;
        ASSERT_STATUS(ilheap_pe_method(pe, rid, &m, &err), ILHEAP_OK);
        if (!ilheap_pe_method_has_il(&m))
            continue;
        ASSERT_STATUS(ilheap_pe_method_body(pe, &m, &body, &available, &err), ILHEAP_OK);
        size_t n = available < 12 ? available : 12;
        mismatches += m.rva > info.size_of_image - n || memcmp(region + m.rva, body, n) != 0;
        bodies++;
    }
    free(region);

    /* The reading rate, for the record (not a timed assertion). */
    double t0 = now_seconds();
    uint64_t sum = 0;
    for (uint32_t rid = 1; rid <= ilheap_pe_method_count(pe); rid++) {
        ilheap_pe_method_t m;
        const uint8_t *body;
        size_t available;
        ilheap_pe_method(pe, rid, &m, NULL);
        if (ilheap_pe_method_has_il(&m) && ilheap_pe_method_body(pe, &m, &body, &available, NULL) == ILHEAP_OK)
            sum += body[0];
    }
    double t1 = now_seconds();
    fprintf(stderr, "  CoreLib: %u methods, %u bodies; open %.1f us; row + body lookup %.1f ns per method"
            " (checksum %" PRIu64 ")\n", ilheap_pe_method_count(pe), bodies, t_open * 1e6,
            (t1 - t0) * 1e9 / ilheap_pe_method_count(pe), sum);
    ilheap_pe_close(pe);
    free(data);
    ASSERT_EQ_U(mismatches, 0);
    ASSERT_GT_U(bodies, 1000);
}

/* Enclosing types: CoreLib marks NestedClass sorted (a binary search);
 * with that bit cleared in a copy (a walk) every TypeDef gets the same
 * answer, and nested types exist. */
static void test_enclosing_types_corelib(void)
{
    char why[600], path[1024];
    size_t size;
    uint8_t *data = pe_test_framework_file("System.Private.CoreLib.dll", path, sizeof path, &size, why, sizeof why);
    if (data == NULL)
        SKIP("%s", why);
    ilheap_pe_t *sorted, *walked;
    ilheap_pe_error_t err;
    ASSERT_STATUS(ilheap_pe_open(data, size, &sorted, &err), ILHEAP_OK);
    ASSERT_TRUE(sorted->sorted >> ILHEAP__T_NESTEDCLASS & 1);
    uint8_t *copy = malloc(size);
    ASSERT_NOT_NULL(copy);
    memcpy(copy, data, size);
    copy[sorted->table_stream.offset + 16 + ILHEAP__T_NESTEDCLASS / 8] &= (uint8_t)~(1u << ILHEAP__T_NESTEDCLASS % 8);
    ASSERT_STATUS(ilheap_pe_open(copy, size, &walked, &err), ILHEAP_OK);
    ASSERT_FALSE(walked->sorted >> ILHEAP__T_NESTEDCLASS & 1);
    uint32_t nested = 0;
    for (uint32_t rid = 1; rid <= ilheap_pe_typedef_count(sorted); rid++) {
        uint32_t a = 99, b = 98;
        ASSERT_STATUS(ilheap_pe_enclosing_type(sorted, rid, &a, &err), ILHEAP_OK);
        ASSERT_STATUS(ilheap_pe_enclosing_type(walked, rid, &b, &err), ILHEAP_OK);
        ASSERT_EQ_U(a, b);
        nested += a != 0;
    }
    fprintf(stderr, "  %u of %u CoreLib types are nested\n", nested, ilheap_pe_typedef_count(sorted));
    ASSERT_GT_U(nested, 100);
    ilheap_pe_close(sorted);
    ilheap_pe_close(walked);
    free(copy);
    free(data);
}

TEST_MAIN(TEST(test_shared_framework), TEST(test_layout_corelib), TEST(test_enclosing_types_corelib))
