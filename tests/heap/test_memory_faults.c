/* The library's own memory (os/memory.h): the contract of the function
 * family, and every allocation of the heap failing in turn (SQLite's
 * countdown over the fault site ILHEAP_FAULT_MEMORY): the heap's header, the
 * process-wide free-range snapshot and its growth, an extent's record. Each
 * failure is ILHEAP_ENOMEM with nothing half-made: the heap works afterwards
 * and destroy leaves nothing mapped. */
#include "ilheap/heap.h"
#include "heap/gap_cache.h"
#include "maps_util.h"
#include "os/fault.h"
#include "os/memory.h"
#include "test.h"

#include <stdint.h>

#define MIB ((size_t)1024 * 1024)
/* Single-granule mappings below the sandbox's free room: more free ranges
 * than the snapshot's first array holds (256), so reading the map grows it. */
#define CROWD 600

typedef struct crowd {
    uintptr_t region;
    size_t crowd_bytes, total;
} crowd_t;

/* Every other granule of the first CROWD mapped, the rest of total free. */
static crowd_t crowd_open(void)
{
    size_t pg = test_granule();
    crowd_t c = {0, CROWD * pg, CROWD * pg + 64 * MIB};
    c.region = sandbox_find(c.total);
    ASSERT_NE_U(c.region, 0);
    for (size_t i = 0; i < CROWD; i += 2)
        ASSERT_EQ_P(test_map_at(c.region + i * pg, pg), (void *)(c.region + i * pg));
    return c;
}

static void crowd_close(const crowd_t *c)
{
    size_t pg = test_granule();
    for (size_t i = 0; i < CROWD; i += 2)
        test_unmap((void *)(c->region + i * pg), pg);
}

/* Allocates blocks until one fails; returns how many succeeded. A failure
 * must be ILHEAP_ENOMEM, the only thing a memory fault may cause. */
static int allocate_until_failure(ilheap_heap_t *heap, int blocks)
{
    for (int i = 0; i < blocks; i++) {
        void *p = NULL;
        ilheap_status_t status = ilheap_heap_try_alloc(heap, 100 + (size_t)i * 97 % 3000, &p);
        if (status != ILHEAP_OK) {
            ASSERT_STATUS(status, ILHEAP_ENOMEM);
            ASSERT_NULL(p);
            return i;
        }
    }
    return blocks;
}

static void test_every_heap_allocation_fails_once(void)
{
    crowd_t c = crowd_open();
    unsigned long points = 0;
    for (unsigned long n = 1;; n++) {
        ilheap_heap_options_t options;
        ilheap_heap_options_init(&options);
        options.window = c.total;
        ilheap_heap_t *heap = (ilheap_heap_t *)&c; /* garbage that must be overwritten */
        ilheap__gaps_free(); /* every run from the same state: no snapshot yet */
        ilheap__fault_arm(n, ILHEAP_FAULT_MEMORY, ILHEAP_OS_NOMEM, 0, 0);
        ilheap_status_t status = ilheap_heap_create((void *)c.region, test_granule(), &options, &heap);
        int succeeded = status == ILHEAP_OK ? allocate_until_failure(heap, 400) : 0;
        unsigned long fired = ilheap__fault_disarm();
        if (status != ILHEAP_OK) {
            ASSERT_STATUS(status, ILHEAP_ENOMEM);
            ASSERT_NULL(heap);
        } else {
            heap_ranges_t ranges;
            const char *why = heap_check_and_destroy(heap, (uint64_t)succeeded, 50, &ranges);
            if (why != NULL)
                TEST_FAIL_("%s: %s", why, ilheap_last_message());
        }
        if (fired == 0) {
            ASSERT_EQ_U(succeeded, 400);
            break;
        }
        points++;
        ASSERT_LT_U(n, 1000);
    }
    fprintf(stderr, "  %lu allocations failed in turn, all cleanly\n", points);
    /* The header and the first extent's record everywhere; on Linux the
     * snapshot too (first array, then its growth): Windows reserves in a range
     * without it. */
#if defined(_WIN32)
    ASSERT_GE_U(points, 2);
#else
    ASSERT_GE_U(points, 4);
#endif
    crowd_close(&c);
}

/* The contract at the top of memory.h. */
static void test_memory_contract(void)
{
    ASSERT_NULL(ilheap__mem_alloc(SIZE_MAX / 2 + 1, 2)); /* count * size overflows */
    ASSERT_NULL(ilheap__mem_zalloc(2, SIZE_MAX / 2 + 1));
    ASSERT_NULL(ilheap__mem_alloc_aligned(64, SIZE_MAX - 8));
    ASSERT_NULL(ilheap__mem_alloc_aligned(48, 64)); /* not a power of two */
    void *empty = ilheap__mem_alloc(0, 8);
    ASSERT_NOT_NULL(empty); /* NULL always means failure */
    uint8_t *z = ilheap__mem_zalloc(100, 3);
    ASSERT_NOT_NULL(z);
    for (size_t i = 0; i < 300; i++)
        ASSERT_EQ_U(z[i], 0);
    z[299] = 7;
    /* A failed realloc leaves the block as it was, the caller's to free. */
    ilheap__fault_arm(1, ILHEAP_FAULT_MEMORY, ILHEAP_OS_NOMEM, 0, 0);
    ASSERT_NULL(ilheap__mem_realloc(z, 1000, 3));
    ASSERT_EQ_U(ilheap__fault_disarm(), 1);
    ASSERT_EQ_U(z[299], 7);
    ASSERT_NULL(ilheap__mem_realloc(z, SIZE_MAX, 3));
    uint8_t *grown = ilheap__mem_realloc(z, 1000, 3);
    ASSERT_NOT_NULL(grown);
    ASSERT_EQ_U(grown[299], 7);
    /* Every allocating call passes the fault point; frees do not. */
    ilheap__fault_arm(1, ILHEAP_FAULT_MEMORY, ILHEAP_OS_NOMEM, 0, 1);
    ASSERT_NULL(ilheap__mem_alloc(1, 1));
    ASSERT_NULL(ilheap__mem_zalloc(1, 1));
    ASSERT_NULL(ilheap__mem_realloc(NULL, 1, 1));
    ASSERT_NULL(ilheap__mem_alloc_aligned(64, 64));
    ilheap__mem_free(grown);
    ilheap__mem_free(empty);
    ilheap__mem_free(NULL);
    ASSERT_EQ_U(ilheap__fault_calls(), 4);
    ASSERT_EQ_U(ilheap__fault_disarm(), 4);
    void *aligned = ilheap__mem_alloc_aligned(64, 10);
    ASSERT_NOT_NULL(aligned);
    ASSERT_EQ_U((uintptr_t)aligned % 64, 0);
    ilheap__mem_free_aligned(aligned);
}

TEST_MAIN(TEST(test_every_heap_allocation_fails_once), TEST(test_memory_contract))
