/* Crowded and constrained processes: 10,000 extra mappings right above the
 * module, the first GiB above it fully taken, an address-space limit
 * (RLIMIT_AS, i.e. `ulimit -v`). Each gives a correct answer or a clean error,
 * with a bounded number of OS calls. */
#include "ilheap/heap.h"
#include "maps_util.h"
#include "os/fault.h"
#include "test.h"

#include <limits.h>
#if !defined(_WIN32)
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#endif

#define MIB ((size_t)1024 * 1024)
#define GIB (1024 * MIB)

/* Counts OS calls: a plan armed to fire at a call that never comes. */
static void count_os_calls(void)
{
    ilheap__fault_arm(ULONG_MAX, ILHEAP_FAULT_ADDRESS_SPACE, ILHEAP_OS_FAILED, 0, 0);
}

static unsigned long os_calls_counted(void)
{
    unsigned long calls = ilheap__fault_calls();
    ilheap__fault_disarm();
    return calls;
}

/* 10,000 single-granule mappings directly above the base (pages on Linux,
 * with alternating protections so the kernel cannot merge them; separate
 * 64 KiB reservations on Windows, 2,000 in a 32-bit process): the heap must
 * find room above them, reading the map once, and make few OS calls. */
static void test_ten_thousand_mappings_above(void)
{
    size_t pg = test_granule(), count = sizeof(void *) >= 8 ? 10000 : 2000;
    size_t crowd = count * pg, total = crowd + 64 * MIB;
    uintptr_t region = sandbox_find(total);
    ASSERT_NE_U(region, 0);
    for (size_t i = 0; i < count; i++) {
        uintptr_t at = region + i * pg;
        void *p = (i & 1) ? test_map_at(at, pg) : test_map_inaccessible_at(at, pg);
        ASSERT_EQ_P(p, (void *)at);
    }

    ilheap_heap_options_t options;
    ilheap_heap_options_init(&options);
    options.window = total;
    ilheap_heap_t *heap;
    ASSERT_STATUS(ilheap_heap_create((void *)region, pg, &options, &heap), ILHEAP_OK);
    count_os_calls();
    void *first = ilheap_heap_alloc(heap, 200);
    unsigned long calls = os_calls_counted();
    ASSERT_NOT_NULL(first);
    ASSERT_GE_U((uintptr_t)first, region + crowd);
    /* probe (taken), one map read, one reservation, one commit; on Windows
     * the VirtualAlloc2 range call may come before the map read (Wine
     * answers it outside the range, and then the map is read after all) */
#if defined(_WIN32)
    ASSERT_LE_U(calls, 5);
#else
    ASSERT_LE_U(calls, 4);
#endif
    for (int i = 0; i < 20000; i++) {
        void *p = ilheap_heap_alloc(heap, 300);
        ASSERT_NOT_NULL(p);
        ASSERT_GE_U((uintptr_t)p, region + crowd);
        ASSERT_TRUE(ilheap_heap_in_window(heap, p, 300));
    }
    /* A second module in the same crowd: the process-wide snapshot of free
     * ranges serves it without reading the map again. */
    ilheap_heap_t *second;
    ASSERT_STATUS(ilheap_heap_create((void *)(region + pg * 2), pg, &options, &second), ILHEAP_OK);
    ilheap__fault_arm(ULONG_MAX, ILHEAP_FAULT_GAPS, ILHEAP_OS_FAILED, 0, 0);
    void *p = ilheap_heap_alloc(second, 200);
    unsigned long map_reads = os_calls_counted();
    ASSERT_NOT_NULL(p);
    ASSERT_GE_U((uintptr_t)p, region + crowd);
    ASSERT_EQ_U(map_reads, 0);
    ilheap_heap_destroy(second);
    ilheap_heap_destroy(heap);
    /* Destroyed heaps give their ranges back to the snapshot: a new module
     * heap gets the lowest room again, still without reading the map. */
    ilheap_heap_t *third;
    ASSERT_STATUS(ilheap_heap_create((void *)region, pg, &options, &third), ILHEAP_OK);
    ilheap__fault_arm(ULONG_MAX, ILHEAP_FAULT_GAPS, ILHEAP_OS_FAILED, 0, 0);
    void *again = ilheap_heap_alloc(third, 200);
    map_reads = os_calls_counted();
    ASSERT_EQ_U(map_reads, 0);
#if defined(_WIN32)
    /* VirtualAlloc2, where the system has it, picks its own place in range. */
    ASSERT_TRUE(ilheap_heap_in_window(third, again, 200));
#else
    ASSERT_EQ_P(again, first);
#endif
    ilheap_heap_destroy(third);
    for (size_t i = 0; i < count; i++)
        test_unmap((void *)(region + i * pg), pg);
}

/* The first GiB above the module is someone else's (256 MiB in a 32-bit
 * process): blocks land above it. */
static void test_first_gib_taken(void)
{
    size_t taken = sizeof(void *) >= 8 ? GIB : 256 * MIB;
    size_t total = taken + 256 * MIB;
    uintptr_t region = sandbox_find(total);
    ASSERT_NE_U(region, 0);
    ASSERT_EQ_P(test_map_inaccessible_at(region, taken), (void *)region); /* foreign */
    ilheap_heap_options_t options;
    ilheap_heap_options_init(&options);
    ilheap_heap_t *heap;
    ASSERT_STATUS(ilheap_heap_create((void *)region, 0, &options, &heap), ILHEAP_OK);
    count_os_calls();
    for (int i = 0; i < 50000; i++) {
        void *p = ilheap_heap_alloc(heap, 1000);
        if (p == NULL)
            TEST_FAIL_("block %d: %s", i, ilheap_last_message());
        ASSERT_GE_U((uintptr_t)p, region + taken);
        ASSERT_TRUE(ilheap_heap_in_window(heap, p, 1000));
    }
    unsigned long calls = os_calls_counted();
    ilheap_heap_stats_t stats;
    ASSERT_STATUS(ilheap_heap_stats(heap, &stats), ILHEAP_OK);
    /* 50 MB in chunks that grow: a few dozen reservations and commits. */
    ASSERT_LE_U(calls, 4 * stats.chunks + 80);
    fprintf(stderr, "  %lu OS calls for %llu chunks\n", calls, (unsigned long long)stats.chunks);
    ilheap_heap_destroy(heap);
    test_unmap((void *)region, taken);
}

/* A full window (everything above the module is someone else's): requests
 * fail with ILHEAP_ENOSPACE, and the map is read again only with a growing
 * backoff, not on every failing request. */
static void test_full_window_backs_off(void)
{
    size_t pg = test_granule(), total = 64 * pg;
    uintptr_t region = sandbox_find(total);
    ASSERT_NE_U(region, 0);
    ASSERT_EQ_P(test_map_inaccessible_at(region, total), (void *)region); /* all of it foreign */
    ilheap_heap_options_t options;
    ilheap_heap_options_init(&options);
    options.window = total;
    ilheap_heap_t *heap;
    ASSERT_STATUS(ilheap_heap_create((void *)region, pg, &options, &heap), ILHEAP_OK);
    ilheap__fault_arm(ULONG_MAX, ILHEAP_FAULT_GAPS, ILHEAP_OS_FAILED, 0, 0);
    for (int i = 0; i < 200; i++) {
        ASSERT_NULL(ilheap_heap_alloc(heap, 64));
        ASSERT_STATUS(ilheap_last_status(), ILHEAP_ENOSPACE);
    }
    unsigned long map_reads = os_calls_counted();
    fprintf(stderr, "  200 failing requests, %lu reads of the map\n", map_reads);
    ASSERT_GE_U(map_reads, 1);
    ASSERT_LE_U(map_reads, 2 * 9); /* backoff 1, 2, 4, ... 128: 8 reads (x2: a stale and a fresh look) */
    ilheap_heap_destroy(heap);
    test_unmap((void *)region, total);
}

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define UNDER_SANITIZER 1
#else
#define UNDER_SANITIZER 0
#endif

/* Address space limited (RLIMIT_AS): allocation fails cleanly with an OS
 * error, never crashes, and the heap keeps serving what it has. Runs in a
 * child process so the limit does not outlive the test. */
static void test_address_space_limit(void)
{
#if defined(_WIN32)
    SKIP("RLIMIT_AS and fork are POSIX; Windows has no per-process address-space limit to set");
#else
    if (UNDER_SANITIZER)
        SKIP("sanitizers reserve terabytes of shadow memory, so RLIMIT_AS cannot be applied");
    if (getenv("ILHEAP_UNDER_VALGRIND") != NULL)
        SKIP("valgrind manages the address space itself; RLIMIT_AS does not apply to the client");
    if (getenv("ILHEAP_UNDER_QEMU") != NULL)
        SKIP("qemu user-mode accepts RLIMIT_AS but does not apply it to the guest (it would limit qemu itself)");
    pid_t child = fork();
    ASSERT_TRUE(child >= 0);
    if (child == 0) {
        static char here;
        ilheap_heap_t *heap;
        if (ilheap_heap_create(&here, 0, NULL, &heap) != ILHEAP_OK)
            _exit(10);
        void *warm = ilheap_heap_alloc(heap, 100); /* a first chunk before the limit */
        if (warm == NULL)
            _exit(11);
        struct rlimit limit = {(rlim_t)512 * MIB, (rlim_t)512 * MIB};
        FILE *statm = fopen("/proc/self/statm", "r");
        unsigned long long pages = 0;
        if (statm == NULL || fscanf(statm, "%llu", &pages) != 1)
            _exit(12);
        fclose(statm);
        limit.rlim_cur = limit.rlim_max = (rlim_t)(pages * (size_t)sysconf(_SC_PAGESIZE) + 64 * MIB);
        if (setrlimit(RLIMIT_AS, &limit) != 0)
            _exit(13);
        size_t got = 0;
        for (int i = 0; i < 1000000; i++) {
            void *p = ilheap_heap_alloc(heap, 4000);
            if (p == NULL)
                break;
            got += 4000;
        }
        ilheap_status_t status = ilheap_last_status();
        if (got == 0 || got > 200 * MIB)
            _exit(14);
        if (status != ILHEAP_EOS_RESERVE && status != ILHEAP_EOS_COMMIT && status != ILHEAP_ENOSPACE)
            _exit(15);
        ilheap_heap_destroy(heap);
        _exit(0);
    }
    int wstatus = 0;
    ASSERT_EQ_I(waitpid(child, &wstatus, 0), child);
    ASSERT_TRUE(WIFEXITED(wstatus));
    ASSERT_EQ_I(WEXITSTATUS(wstatus), 0);
#endif
}

TEST_MAIN(TEST(test_ten_thousand_mappings_above), TEST(test_first_gib_taken), TEST(test_full_window_backs_off),
          TEST(test_address_space_limit))
