/* Every OS call can fail: a fault is injected at the N-th OS call for every N
 * the workload makes (SQLite's loop), for each kind of failure, once and
 * persistently. Each allocation must either succeed inside the window or
 * return NULL with an error; afterwards the heap must still work, and destroy
 * must leave nothing mapped. Also: a kernel that treats MAP_FIXED_NOREPLACE
 * as a hint (or a VirtualAlloc that reserves elsewhere), and a placement race
 * that never stops losing. */
#include "ilheap/heap.h"
#include "maps_util.h"
#include "os/fault.h"
#include "test.h"

#include <errno.h>

#ifdef __linux__
#include "os/linux_hooks.h"

#include <stdatomic.h>
#include <sys/mman.h>
#endif

#define MIB ((size_t)1024 * 1024)
#define REGION (128 * MIB)
#define FOREIGN (4 * MIB)

typedef struct sandbox {
    uintptr_t region;
    void *foreign; /* someone else's mapping right above the base */
} sandbox_t;

static sandbox_t sandbox_open(void)
{
    sandbox_t box = {sandbox_module(REGION, FOREIGN), NULL};
    if (box.region == 0)
        return box;
    box.foreign = (void *)box.region;
    pattern_fill(box.foreign, FOREIGN, 5);
    return box;
}

static void sandbox_close(sandbox_t *box)
{
    test_unmap(box->foreign, FOREIGN);
}

static int is_clean_failure(ilheap_status_t status)
{
    return status == ILHEAP_EOS_RESERVE || status == ILHEAP_EOS_COMMIT || status == ILHEAP_EOS_MAPS ||
           status == ILHEAP_ERACE || status == ILHEAP_ENOSPACE || status == ILHEAP_ENOMEM;
}

/* Blocks per workload run: ILHEAP_FAULT_BLOCKS (smaller under valgrind). */
static int workload_blocks(void)
{
    const char *env = getenv("ILHEAP_FAULT_BLOCKS");
    int blocks = env != NULL ? atoi(env) : 0;
    return blocks > 0 ? blocks : 400;
}

/* Allocates a growing workload; returns the number of failed allocations. */
static int run_workload(ilheap_heap_t *heap, uintptr_t base, int *succeeded)
{
    int failures = 0;
    int blocks = workload_blocks();
    for (int i = 0; i < blocks; i++) {
        size_t size = 64 + (size_t)(i % 37) * 211;
        void *p = NULL;
        ilheap_status_t status = ilheap_heap_try_alloc(heap, size, &p);
        if (status == ILHEAP_OK) {
            if ((uintptr_t)p <= base || (uintptr_t)p + size > base + REGION)
                TEST_FAIL_("block %p of %zu bytes outside the window", p, size);
            if ((uintptr_t)p < base + FOREIGN)
                TEST_FAIL_("block %p inside the foreign mapping", p);
            memset(p, 0x5A, size);
            (*succeeded)++;
        } else {
            ASSERT_NULL(p);
            if (!is_clean_failure(status))
                TEST_FAIL_("unexpected status %s", ilheap_status_name(status));
            ASSERT_STATUS(ilheap_last_status(), status);
            failures++;
        }
    }
    return failures;
}

static void check_heap_after(ilheap_heap_t *heap, sandbox_t *box, int succeeded)
{
    heap_ranges_t ranges;
    const char *why = heap_check_and_destroy(heap, (uint64_t)succeeded, 20, &ranges);
    if (why != NULL)
        TEST_FAIL_("%s: %s", why, ilheap_last_message());
    for (size_t i = 0; i < ranges.count; i++)
        ASSERT_TRUE(ranges.start[i] >= box->region + FOREIGN && ranges.end[i] <= box->region + REGION);
    ASSERT_TRUE(pattern_check(box->foreign, FOREIGN, 5));
}

static unsigned long fault_loop(ilheap_os_result_t result, int os_error, unsigned site_mask, int persistent)
{
    unsigned long points = 0;
    for (unsigned long n = 1;; n++) {
        sandbox_t box = sandbox_open();
        ASSERT_NE_U(box.region, 0);
        ilheap_heap_options_t options;
        ilheap_heap_options_init(&options);
        options.window = REGION;
        ilheap_heap_t *heap;
        ASSERT_STATUS(ilheap_heap_create((void *)box.region, 0, &options, &heap), ILHEAP_OK);
        ilheap__fault_arm(n, site_mask, result, os_error, persistent);
        int succeeded = 0;
        int failures = run_workload(heap, box.region, &succeeded);
        unsigned long fired = ilheap__fault_disarm();
        if (fired == 0) {
            ASSERT_EQ_U(failures, 0);
            ilheap_heap_destroy(heap);
            sandbox_close(&box);
            break;
        }
        points++;
        check_heap_after(heap, &box, succeeded);
        sandbox_close(&box);
        ASSERT_LT_U(n, 100000);
    }
    return points;
}

static void test_every_os_call_fails_once(void)
{
    static const struct { ilheap_os_result_t result; int error; } kinds[] = {
        {ILHEAP_OS_NOMEM, ENOMEM}, {ILHEAP_OS_TAKEN, EEXIST}, {ILHEAP_OS_FAILED, EACCES}};
    unsigned long total = 0;
    for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++)
        total += fault_loop(kinds[k].result, kinds[k].error, ILHEAP_FAULT_ALL_SITES, 0);
    fprintf(stderr, "  %lu fault points injected (once each), all passed\n", total);
    ASSERT_GT_U(total, 30);
}

static void test_every_os_call_fails_from_then_on(void)
{
    unsigned long total = 0;
    static const unsigned sites[] = {ILHEAP_FAULT_RESERVE, ILHEAP_FAULT_COMMIT, ILHEAP_FAULT_GAPS,
                                     ILHEAP_FAULT_ALL_SITES};
    for (size_t s = 0; s < sizeof sites / sizeof sites[0]; s++)
        total += fault_loop(ILHEAP_OS_NOMEM, ENOMEM, sites[s], 1);
    fprintf(stderr, "  %lu persistent fault points injected, all passed\n", total);
    ASSERT_GT_U(total, 10);
}

/* A placement race that is lost every time ends with ILHEAP_ERACE after a
 * bounded number of OS calls, not in a loop. */
static void test_endless_race_is_bounded(void)
{
    sandbox_t box = sandbox_open();
    ilheap_heap_options_t options;
    ilheap_heap_options_init(&options);
    options.window = REGION;
    ilheap_heap_t *heap;
    ASSERT_STATUS(ilheap_heap_create((void *)box.region, 0, &options, &heap), ILHEAP_OK);
    ilheap__fault_arm(1, ILHEAP_FAULT_RESERVE, ILHEAP_OS_TAKEN, EEXIST, 1);
    ASSERT_NULL(ilheap_heap_alloc(heap, 100));
    unsigned long calls = ilheap__fault_calls();
    ilheap__fault_disarm();
    ASSERT_STATUS(ilheap_last_status(), ILHEAP_ERACE);
    ASSERT_LE_U(calls, 20);
    check_heap_after(heap, &box, 0);
    sandbox_close(&box);
}

/* A kernel that ignores MAP_FIXED_NOREPLACE (a plain hint: the kernel maps
 * wherever it likes when the address is taken), or on Windows a VirtualAlloc
 * that does the same: the layer must verify every address and undo each
 * misplaced mapping. */
static void test_noreplace_ignored(void)
{
    sandbox_t box = sandbox_open();
    ASSERT_NE_U(box.region, 0);
    test_misplacing_os_begin();
    ilheap_heap_options_t options;
    ilheap_heap_options_init(&options);
    options.window = REGION;
    ilheap_heap_t *heap;
    ASSERT_STATUS(ilheap_heap_create((void *)box.region, 0, &options, &heap), ILHEAP_OK);
    int succeeded = 0;
    ASSERT_EQ_U(run_workload(heap, box.region, &succeeded), 0);
    check_heap_after(heap, &box, succeeded);
    /* The OS did put mappings elsewhere, and the layer undid each one. */
    uint64_t still_mapped;
    ASSERT_GT_U(test_misplacing_os_end(&still_mapped), 0);
    ASSERT_EQ_U(still_mapped, 0);
    sandbox_close(&box);
}

#ifdef __linux__
static _Atomic int unmapped_then_failed;

/* A kernel whose MAP_FIXED | MAP_POPULATE unmaps the range and then fails
 * (ENOMEM while populating), with another thread's mapping landing in the
 * hole before the caller can take it back. */
static void *mmap_unmaps_then_fails(void *addr, size_t length, int prot, int flags, int fd, off_t offset)
{
    if ((flags & MAP_FIXED) && (flags & MAP_POPULATE)) {
        munmap(addr, length);
        void *other = mmap(addr, length, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE,
                           -1, 0);
        if (other == addr)
            memset(other, 0x77, length); /* foreign bytes */
        else if (other != MAP_FAILED)
            munmap(other, length);
        atomic_fetch_add(&unmapped_then_failed, 1);
        errno = ENOMEM;
        return MAP_FAILED;
    }
    return mmap(addr, length, prot, flags, fd, offset);
}

/* The commit path of kernels without MADV_POPULATE_WRITE: every block still
 * comes back zeroed and inside the heap's own mappings, even when the kernel
 * would unmap the range and fail. */
static void test_commit_without_populate_write(void)
{
    sandbox_t box = sandbox_open();
    ASSERT_NE_U(box.region, 0);
    atomic_store(&unmapped_then_failed, 0);
    ilheap__os_linux_set_populate_write(0);
    ilheap__os_linux_set_mmap(mmap_unmaps_then_fails);
    ilheap_heap_options_t options;
    ilheap_heap_options_init(&options);
    options.window = REGION;
    ilheap_heap_t *heap;
    ASSERT_STATUS(ilheap_heap_create((void *)box.region, 0, &options, &heap), ILHEAP_OK);
    int succeeded = 0, dirty = 0;
    for (int i = 0; i < workload_blocks(); i++) {
        size_t size = 64 + (size_t)(i % 37) * 211;
        unsigned char *p = ilheap_heap_alloc(heap, size);
        if (p == NULL)
            TEST_FAIL_("block %d: %s", i, ilheap_last_message());
        for (size_t j = 0; j < size; j++)
            dirty += p[j] != 0;
        memset(p, 0x5A, size);
        succeeded++;
    }
    ilheap_heap_stats_t stats;
    ASSERT_STATUS(ilheap_heap_stats(heap, &stats), ILHEAP_OK);
    ilheap__os_linux_set_mmap(NULL);
    ilheap__os_linux_set_populate_write(1); /* found missing again at the next prefault if it is */
    ASSERT_EQ_U(dirty, 0);
    ASSERT_GT_U(stats.bytes_committed, 0);
    fprintf(stderr, "  %d blocks, %llu bytes committed by the fallback path; the kernel model fired %d times\n",
            succeeded, (unsigned long long)stats.bytes_committed, atomic_load(&unmapped_then_failed));
    check_heap_after(heap, &box, succeeded);
    sandbox_close(&box);
}
#define LINUX_TESTS , TEST(test_commit_without_populate_write)
#else
#define LINUX_TESTS
#endif

TEST_MAIN(TEST(test_every_os_call_fails_once), TEST(test_every_os_call_fails_from_then_on),
          TEST(test_endless_race_is_bounded), TEST(test_noreplace_ignored) LINUX_TESTS)
