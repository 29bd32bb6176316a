/* The Windows address-space layer (src/os/windows.c) on its own: the facts
 * from GetSystemInfo, exact reservation that never replaces anything,
 * VirtualAlloc2 inside a range (where the system has it), commit and release
 * of a range made of several adjacent reservations (MEM_RELEASE frees one
 * reservation only), and the VirtualQuery gap walk. */
#include "maps_util.h"
#include "os/fault.h"
#include "os/os.h"
#include "os/windows_hooks.h"
#include "test.h"

#include <windows.h>

#define MIB ((size_t)1024 * 1024)

static void test_system_facts(void)
{
    SYSTEM_INFO info;
    GetSystemInfo(&info);
    size_t g = ilheap__os_granularity();
    ASSERT_EQ_U(g, info.dwAllocationGranularity);
    ASSERT_EQ_U(ilheap__os_page_size(), info.dwPageSize);
    ASSERT_EQ_U(g & (g - 1), 0);
    uintptr_t lowest, end;
    ilheap__os_address_limits(&lowest, &end);
    ASSERT_EQ_U(lowest % g, 0);
    ASSERT_EQ_U(end % g, 0);
    ASSERT_GE_U(lowest, (uintptr_t)info.lpMinimumApplicationAddress);
    ASSERT_LE_U(end - 1, (uintptr_t)info.lpMaximumApplicationAddress);
    ASSERT_LT_U(lowest, end);
    fprintf(stderr, "  granularity %zu, page %zu, user space [%#" PRIxPTR ", %#" PRIxPTR "), VirtualAlloc2 %s\n", g,
            ilheap__os_page_size(), lowest, end, ilheap__os_windows_has_range_reserve() ? "in use" : "not available");
}

/* An exact reservation takes a free range and refuses an occupied one
 * without touching what is there. */
static void test_reserve_at_never_replaces(void)
{
    size_t g = ilheap__os_granularity();
    uintptr_t base = sandbox_module(16 * g, g);
    ASSERT_NE_U(base, 0);
    pattern_fill((void *)base, g, 3);
    int error = 0;
    ASSERT_EQ_I(ilheap__os_reserve_at(base, g, &error), ILHEAP_OS_TAKEN);
    ASSERT_EQ_I(error, ERROR_INVALID_ADDRESS);
    /* Overlapping the foreign granule by one granule is refused as well. */
    ASSERT_EQ_I(ilheap__os_reserve_at(base, 4 * g, &error), ILHEAP_OS_TAKEN);
    ASSERT_TRUE(pattern_check((void *)base, g, 3));
    ASSERT_EQ_I(ilheap__os_reserve_at(base + g, 2 * g, &error), ILHEAP_OS_OK);
    ASSERT_EQ_U(maps_bytes_mapped(base + g, base + 3 * g), 2 * g);
    ASSERT_EQ_I(ilheap__os_release(base + g, 2 * g, &error), ILHEAP_OS_OK);
    ASSERT_EQ_U(maps_bytes_mapped(base + g, base + 3 * g), 0);
    test_unmap((void *)base, g);
}

/* Three adjacent reservations, as the heap makes when it extends an extent
 * in place: one commit spans them, one release frees them all. */
static void test_commit_and_release_across_reservations(void)
{
    size_t g = ilheap__os_granularity();
    uintptr_t base = sandbox_find(8 * g);
    ASSERT_NE_U(base, 0);
    ASSERT_EQ_I(ilheap__os_reserve_at(base, g, NULL), ILHEAP_OS_OK);
    ASSERT_EQ_I(ilheap__os_reserve_at(base + g, 2 * g, NULL), ILHEAP_OS_OK);
    ASSERT_EQ_I(ilheap__os_reserve_at(base + 3 * g, g, NULL), ILHEAP_OS_OK);
    /* Reserved memory is not accessible yet. */
    MEMORY_BASIC_INFORMATION info;
    ASSERT_EQ_U(VirtualQuery((void *)(base + g), &info, sizeof info), sizeof info);
    ASSERT_EQ_U(info.State, MEM_RESERVE);
    ASSERT_EQ_P(info.AllocationBase, (void *)(base + g));

    size_t page = ilheap__os_page_size();
    int error = 0;
    ASSERT_EQ_I(ilheap__os_commit(base + page, 4 * g - 2 * page, 1, &error), ILHEAP_OS_OK);
    ilheap__os_prefault(base + page, 4 * g - 2 * page);
    uint8_t *bytes = (uint8_t *)(base + page);
    for (size_t i = 0; i < 4 * g - 2 * page; i += page) {
        ASSERT_EQ_U(bytes[i], 0);
        bytes[i] = 1;
    }
    ASSERT_EQ_U(VirtualQuery((void *)(base + 2 * g), &info, sizeof info), sizeof info);
    ASSERT_EQ_U(info.State, MEM_COMMIT);
    ASSERT_EQ_U(info.Protect, PAGE_READWRITE); /* never executable */

    /* A range that is not whole reservations is refused, nothing freed. */
    ASSERT_EQ_I(ilheap__os_release(base, 2 * g, &error), ILHEAP_OS_FAILED);
    ASSERT_EQ_I(ilheap__os_release(base + g, 3 * g + g, &error), ILHEAP_OS_FAILED);
    ASSERT_EQ_U(maps_bytes_mapped(base, base + 4 * g), 4 * g);
    ASSERT_EQ_I(ilheap__os_release(base, 4 * g, &error), ILHEAP_OS_OK);
    ASSERT_EQ_U(maps_bytes_mapped(base, base + 4 * g), 0);
}

/* A commit over memory that is not reserved fails and leaves nothing
 * committed behind. */
static void test_commit_refuses_free_memory(void)
{
    size_t g = ilheap__os_granularity();
    uintptr_t base = sandbox_find(4 * g);
    ASSERT_NE_U(base, 0);
    ASSERT_EQ_I(ilheap__os_reserve_at(base, g, NULL), ILHEAP_OS_OK);
    int error = 0;
    ilheap_os_result_t result = ilheap__os_commit(base, 2 * g, 0, &error);
    ASSERT_TRUE(result != ILHEAP_OS_OK);
    MEMORY_BASIC_INFORMATION info;
    ASSERT_EQ_U(VirtualQuery((void *)base, &info, sizeof info), sizeof info);
    ASSERT_EQ_U(info.State, MEM_RESERVE);
    ASSERT_EQ_U(maps_bytes_mapped(base + g, base + 2 * g), 0);
    ASSERT_EQ_I(ilheap__os_release(base, g, NULL), ILHEAP_OS_OK);
}

typedef struct gap_log {
    size_t count;
    uintptr_t start[64], end[64];
} gap_log_t;

static int log_gap(void *context, uintptr_t start, uintptr_t end)
{
    gap_log_t *log = context;
    if (log->count < 64) {
        log->start[log->count] = start;
        log->end[log->count] = end;
        log->count++;
    }
    return 0;
}

/* The gap walk reports exactly the free granules of a laid-out range, in
 * order, clipped, and skips gaps smaller than asked. */
static void test_gap_walk(void)
{
    size_t g = ilheap__os_granularity();
    uintptr_t base = sandbox_module(32 * g, g); /* granule 0 taken */
    ASSERT_NE_U(base, 0);
    void *a = test_map_at(base + 4 * g, g);     /* free: 1..3 */
    void *b = test_map_at(base + 6 * g, 2 * g); /* free: 5 */
    ASSERT_NOT_NULL(a);
    ASSERT_NOT_NULL(b); /* free from 8 on */
    gap_log_t log = {0};
    int error = 0;
    ASSERT_EQ_I(ilheap__os_visit_gaps(base, base + 20 * g, g, log_gap, &log, &error), ILHEAP_OS_OK);
    ASSERT_EQ_U(log.count, 3);
    ASSERT_EQ_X(log.start[0], base + g);
    ASSERT_EQ_X(log.end[0], base + 4 * g);
    ASSERT_EQ_X(log.start[1], base + 5 * g);
    ASSERT_EQ_X(log.end[1], base + 6 * g);
    ASSERT_EQ_X(log.start[2], base + 8 * g);
    ASSERT_EQ_X(log.end[2], base + 20 * g); /* clipped to hi */
    /* min_size two granules: the one-granule gap is skipped. */
    log.count = 0;
    ASSERT_EQ_I(ilheap__os_visit_gaps(base + g + 1, base + 20 * g, 2 * g, log_gap, &log, &error), ILHEAP_OS_OK);
    ASSERT_EQ_U(log.count, 2);
    ASSERT_EQ_X(log.start[0], base + 2 * g); /* lo inside a granule: rounded up */
    ASSERT_EQ_X(log.start[1], base + 8 * g);
    test_unmap(b, 2 * g);
    test_unmap(a, g);
    test_unmap((void *)base, g);
}

/* VirtualAlloc2 with MEM_ADDRESS_REQUIREMENTS: the reservation lands inside
 * the range, and a range with no room says TAKEN. The range lies high, away
 * from the lowest free address, so that a system ignoring the requirement
 * (Wine 8.0 does) shows: the layer must then release what it got and stop
 * using the call. */
static void test_reserve_in_range(void)
{
    if (!ilheap__os_windows_has_range_reserve())
        SKIP("VirtualAlloc2 is not available here (or turned off): the gap walk serves");
    size_t g = ilheap__os_granularity();
    uintptr_t base = sandbox_find_high(64 * g);
    ASSERT_NE_U(base, 0);
    ASSERT_EQ_P(test_map_at(base, 8 * g), (void *)base);
    uintptr_t got = 0;
    int error = 0;
    ilheap_os_result_t result = ilheap__os_reserve_in_range(base, base + 64 * g, 4 * g, &got, &error);
    if (result == ILHEAP_OS_UNSUPPORTED) {
        ASSERT_FALSE(ilheap__os_windows_has_range_reserve()); /* not asked again */
        ASSERT_EQ_U(maps_bytes_mapped(base + 8 * g, base + 64 * g), 0);
        test_unmap((void *)base, 8 * g);
        SKIP("VirtualAlloc2 ignored or refused MEM_ADDRESS_REQUIREMENTS here (error %d%s): the layer "
             "released what it got and walks the gaps from now on", error,
             error == ERROR_INVALID_ADDRESS ? ": an address outside the range, as Wine 8.0 does" : "");
    }
    ASSERT_EQ_I(result, ILHEAP_OS_OK);
    ASSERT_GE_U(got, base + 8 * g);
    ASSERT_LE_U(got + 4 * g, base + 64 * g);
    ASSERT_EQ_U(got % g, 0);
    fprintf(stderr, "  VirtualAlloc2 placed 4 granules at base + %#" PRIxPTR " in [base + %#zx, base + %#zx)\n",
            got - base, 8 * g, 64 * g);
    /* No room: the range holds only the foreign module. */
    uintptr_t none = 0;
    ASSERT_EQ_I(ilheap__os_reserve_in_range(base, base + 8 * g, g, &none, &error), ILHEAP_OS_TAKEN);
    ASSERT_EQ_U(none, 0);
    ASSERT_EQ_I(ilheap__os_release(got, 4 * g, NULL), ILHEAP_OS_OK);
    test_unmap((void *)base, 8 * g);
}

/* Every call goes through its fault point, VirtualAlloc2 included. */
static void test_fault_points(void)
{
    size_t g = ilheap__os_granularity();
    uintptr_t base = sandbox_find(4 * g);
    ASSERT_NE_U(base, 0);
    int error = 0;
    ilheap__fault_arm(1, ILHEAP_FAULT_RESERVE, ILHEAP_OS_NOMEM, ERROR_NOT_ENOUGH_MEMORY, 1);
    ASSERT_EQ_I(ilheap__os_reserve_at(base, g, &error), ILHEAP_OS_NOMEM);
    ASSERT_EQ_I(error, ERROR_NOT_ENOUGH_MEMORY);
    uintptr_t got = 0;
    if (ilheap__os_windows_has_range_reserve())
        ASSERT_EQ_I(ilheap__os_reserve_in_range(base, base + 4 * g, g, &got, &error), ILHEAP_OS_NOMEM);
    ilheap__fault_disarm();
    ASSERT_EQ_U(maps_bytes_mapped(base, base + 4 * g), 0);
    ASSERT_EQ_I(ilheap__os_reserve_at(base, g, NULL), ILHEAP_OS_OK);
    ilheap__fault_arm(1, ILHEAP_FAULT_COMMIT | ILHEAP_FAULT_RELEASE | ILHEAP_FAULT_GAPS, ILHEAP_OS_FAILED, 5, 1);
    ASSERT_EQ_I(ilheap__os_commit(base, g, 0, NULL), ILHEAP_OS_FAILED);
    ASSERT_EQ_I(ilheap__os_release(base, g, NULL), ILHEAP_OS_FAILED);
    gap_log_t log = {0};
    ASSERT_EQ_I(ilheap__os_visit_gaps(base, base + 4 * g, g, log_gap, &log, NULL), ILHEAP_OS_FAILED);
    ASSERT_EQ_U(ilheap__fault_disarm(), 3);
    ASSERT_EQ_U(maps_bytes_mapped(base, base + g), g);
    ASSERT_EQ_I(ilheap__os_release(base, g, NULL), ILHEAP_OS_OK);
}

TEST_MAIN(TEST(test_system_facts), TEST(test_reserve_at_never_replaces),
          TEST(test_commit_and_release_across_reservations), TEST(test_commit_refuses_free_memory),
          TEST(test_gap_walk), TEST(test_reserve_in_range), TEST(test_fault_points))
