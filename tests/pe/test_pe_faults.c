/* Every allocation of the PE and PDB readers fails in turn (SQLite's
 * countdown over the ILHEAP_FAULT_MEMORY point of src/os/memory.c): each
 * call fails with ILHEAP_ENOMEM, a message and no handle, then succeeds once
 * the countdown passes its last allocation. */
#include "ilheap/pdb.h"
#include "ilheap/pe.h"
#include "os/fault.h"
#include "test.h"

#include "assemblies.h"
#include "pe_builder.h"

/* Runs open() with the n-th allocation failing, n = 1, 2, ... until one run
 * allocates no more than n - 1 times; returns that run's allocation count. */
static unsigned long countdown(ilheap_status_t (*open)(const void *ctx), const void *ctx)
{
    for (unsigned long n = 1;; n++) {
        ilheap__fault_arm(n, ILHEAP_FAULT_MEMORY, ILHEAP_OS_NOMEM, 0, 0);
        ilheap_status_t st = open(ctx);
        unsigned long fired = ilheap__fault_disarm();
        if (fired == 0) {
            ASSERT_STATUS(st, ILHEAP_OK);
            return n - 1;
        }
        ASSERT_STATUS(st, ILHEAP_ENOMEM);
        ASSERT_EQ_U(ilheap_last_status(), ILHEAP_ENOMEM);
        if (n > 16)
            TEST_FAIL_("more allocations than an open makes");
    }
}

static ilheap_status_t open_image(const void *ctx)
{
    const pe_image_t *img = ctx;
    ilheap_pe_t *pe = (ilheap_pe_t *)&pe; /* must be overwritten */
    ilheap_pe_error_t err = {0};
    ilheap_status_t st = ilheap_pe_open(img->data, img->size, &pe, &err);
    if (st != ILHEAP_OK) {
        ASSERT_NULL(pe);
        ASSERT_EQ_U(err.status, st);
        ASSERT_TRUE(err.message[0] != '\0');
        return st;
    }
    uint32_t owner;
    ASSERT_STATUS(ilheap_pe_method_owner(pe, 1, &owner, &err), ILHEAP_OK);
    ilheap_pe_close(pe);
    return st;
}

static ilheap_status_t read_headers(const void *ctx)
{
    const pe_image_t *img = ctx;
    ilheap_pe_headers_t h;
    return ilheap_pe_read_headers(img->data, img->size, &h, NULL);
}

typedef struct bytes {
    const uint8_t *data;
    size_t size;
} bytes_t;

static ilheap_status_t open_pdb(const void *ctx)
{
    const bytes_t *b = ctx;
    ilheap_pdb_t *pdb;
    ilheap_status_t st = ilheap_pdb_open(b->data, b->size, &pdb, NULL);
    if (st != ILHEAP_OK) {
        ASSERT_NULL(pdb);
        return st;
    }
    ilheap_pdb_close(pdb);
    return st;
}

static void test_image_allocations(void)
{
    /* With a MethodPtr table: the handle and the method-position index. */
    pe_spec_t spec = {.typedefs = 3, .methods = 12, .typerefs = 2, .params = 3, .uncompressed = true,
                      .method_ptr = true};
    pe_image_t img;
    ASSERT_EQ_I(pe_build(&spec, &img), 0);
    ASSERT_EQ_U(countdown(open_image, &img), 2);
    ASSERT_EQ_U(countdown(read_headers, &img), 1);
    pe_image_free(&img);
    spec.uncompressed = spec.method_ptr = false;
    ASSERT_EQ_I(pe_build(&spec, &img), 0);
    ASSERT_EQ_U(countdown(open_image, &img), 1);
    pe_image_free(&img);
}

static void test_pdb_allocations(void)
{
    size_t size;
    uint8_t *data = pe_test_read_file(ILHEAP_PDB_CORPUS "/sample_portable.pdb", &size);
    ASSERT_NOT_NULL(data);
    bytes_t b = {data, size};
    ASSERT_EQ_U(countdown(open_pdb, &b), 1);
    free(data);
}

TEST_MAIN(TEST(test_image_allocations), TEST(test_pdb_allocations))
