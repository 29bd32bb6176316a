/* ilheap_free_ranges, the public walk of the free address ranges: a
 * sandbox with one inaccessible reservation in it reads as the two free
 * ranges around it, clipped, filtered by size, stoppable; a failed map read
 * is ILHEAP_EOS_MAPS. */
#include "ilheap/heap.h"
#include "maps_util.h"
#include "os/fault.h"
#include "test.h"

typedef struct seen {
    unsigned n, stop_after;
    uintptr_t start[8], end[8];
} seen_t;

static int collect(void *context, uintptr_t start, uintptr_t end)
{
    seen_t *s = context;
    if (s->n < 8) {
        s->start[s->n] = start;
        s->end[s->n] = end;
    }
    s->n++;
    return s->stop_after && s->n >= s->stop_after;
}

/* 8 free granules at *box with granules 2 and 3 reserved; NULL if the
 * sandbox could not be laid out. Another thread of the process (a
 * sanitizer's) may map into the hole between finding and reserving it: a
 * few tries. Undo with test_unmap(taken, 2 * g). */
static void *sandbox_with_reservation(size_t g, uintptr_t *box)
{
    for (int tries = 0; tries < 8; tries++) {
        *box = sandbox_find(8 * g);
        void *taken = *box ? test_map_inaccessible_at(*box + 2 * g, 2 * g) : NULL;
        if (taken)
            return taken;
    }
    return NULL;
}

static void test_ranges_around_a_reservation(void)
{
    size_t g = test_granule();
    uintptr_t box;
    void *taken = sandbox_with_reservation(g, &box);
    ASSERT_NOT_NULL(taken);
    seen_t s = {0};
    ilheap_status_t status = ilheap_free_ranges(box, box + 8 * g, 1, collect, &s);
    test_unmap(taken, 2 * g);
    ASSERT_STATUS(status, ILHEAP_OK);
    ASSERT_EQ_U(s.n, 2);
    ASSERT_EQ_X(s.start[0], box);
    ASSERT_EQ_X(s.end[0], box + 2 * g);
    ASSERT_EQ_X(s.start[1], box + 4 * g);
    ASSERT_EQ_X(s.end[1], box + 8 * g);
}

static void test_min_size_and_stop(void)
{
    size_t g = test_granule();
    uintptr_t box;
    void *taken = sandbox_with_reservation(g, &box);
    ASSERT_NOT_NULL(taken);
    seen_t big = {0}, first = {.stop_after = 1};
    ilheap_status_t s1 = ilheap_free_ranges(box, box + 8 * g, 3 * g, collect, &big);
    ilheap_status_t s2 = ilheap_free_ranges(box, box + 8 * g, 1, collect, &first);
    test_unmap(taken, 2 * g);
    ASSERT_STATUS(s1, ILHEAP_OK);
    ASSERT_EQ_U(big.n, 1); /* the 2-granule range is too small */
    ASSERT_EQ_X(big.start[0], box + 4 * g);
    ASSERT_STATUS(s2, ILHEAP_OK);
    ASSERT_EQ_U(first.n, 1);
    ASSERT_EQ_X(first.start[0], box);
}

static void test_failures(void)
{
    ASSERT_STATUS(ilheap_free_ranges(0, UINTPTR_MAX, 1, NULL, NULL), ILHEAP_EINVAL);
    seen_t s = {0};
    ilheap__fault_arm(1, ILHEAP_FAULT_GAPS, ILHEAP_OS_FAILED, 5, 0);
    ilheap_status_t status = ilheap_free_ranges(0, UINTPTR_MAX, 1, collect, &s);
    ASSERT_EQ_U(ilheap__fault_disarm(), 1);
    ASSERT_STATUS(status, ILHEAP_EOS_MAPS);
    ASSERT_STATUS(ilheap_last_status(), ILHEAP_EOS_MAPS);
    ASSERT_EQ_U(s.n, 0);
}

TEST_MAIN(TEST(test_ranges_around_a_reservation), TEST(test_min_size_and_stop), TEST(test_failures))
