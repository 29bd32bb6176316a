/* The portable test helpers (maps_util.h); the per-OS ones are in
 * maps_linux.c and maps_windows.c. */
#include "maps_util.h"
#include "heap/heap_internal.h"

#include "heap/gap_cache.h"
#include "os/os.h"

#include <string.h>

size_t test_granule(void)
{
    return ilheap__os_granularity();
}

void test_address_space_freed(void)
{
    ilheap__gaps_invalidate();
}

uintptr_t sandbox_module(size_t total, size_t module_size)
{
    uintptr_t base = sandbox_find(total);
    if (base == 0 || test_map_at(base, module_size) == NULL)
        return 0;
    return base;
}

static struct misplaced {
    uintptr_t start;
    size_t length;
} misplaced[1024];
static size_t misplaced_count;

void test_misplaced_record(uintptr_t start, size_t length)
{
    if (misplaced_count < sizeof misplaced / sizeof misplaced[0])
        misplaced[misplaced_count++] = (struct misplaced){start, length};
}

size_t test_misplacing_os_end(uint64_t *still_mapped)
{
    test_misplacing_os_restore();
    *still_mapped = 0;
    for (size_t i = 0; i < misplaced_count; i++)
        *still_mapped += maps_bytes_mapped(misplaced[i].start, misplaced[i].start + misplaced[i].length);
    size_t count = misplaced_count;
    misplaced_count = 0;
    return count;
}

static uint8_t pattern_byte(uint32_t seed, size_t i)
{
    uint32_t x = seed * 2654435761u + (uint32_t)i * 40503u;
    return (uint8_t)(x >> 13);
}

void pattern_fill(void *p, size_t size, uint32_t seed)
{
    uint8_t *bytes = p;
    for (size_t i = 0; i < size; i++)
        bytes[i] = pattern_byte(seed, i);
}

int pattern_check(const void *p, size_t size, uint32_t seed)
{
    const uint8_t *bytes = p;
    for (size_t i = 0; i < size; i++)
        if (bytes[i] != pattern_byte(seed, i))
            return 0;
    return 1;
}

static void add_range(void *context, uintptr_t start, uintptr_t end)
{
    heap_ranges_t *ranges = context;
    if (ranges->count < sizeof ranges->start / sizeof ranges->start[0]) {
        ranges->start[ranges->count] = start;
        ranges->end[ranges->count] = end;
        ranges->count++;
    }
}

void heap_ranges_read(struct ilheap_heap *heap, heap_ranges_t *ranges)
{
    ranges->count = 0;
    ilheap__heap_visit_ranges(heap, add_range, ranges);
}

uint64_t heap_ranges_mapped(const heap_ranges_t *ranges)
{
    uint64_t total = 0;
    for (size_t i = 0; i < ranges->count; i++)
        total += maps_bytes_mapped(ranges->start[i], ranges->end[i]);
    return total;
}

uint64_t heap_ranges_size(const heap_ranges_t *ranges)
{
    uint64_t total = 0;
    for (size_t i = 0; i < ranges->count; i++)
        total += ranges->end[i] - ranges->start[i];
    return total;
}

const char *heap_check_and_destroy(struct ilheap_heap *heap, uint64_t before, int more, heap_ranges_t *ranges)
{
    const char *why = NULL;
    for (int i = 0; i < more && why == NULL; i++) {
        void *p = ilheap_heap_alloc(heap, 300);
        if (p == NULL)
            why = "the heap does not allocate after the faults";
        else
            memset(p, 1, 300);
    }
    ilheap_heap_stats_t stats;
    if (why == NULL && (ilheap_heap_stats(heap, &stats) != ILHEAP_OK || stats.blocks != before + (uint64_t)more))
        why = "the statistics do not count the blocks";
    heap_ranges_read(heap, ranges);
    if (why == NULL && (heap_ranges_size(ranges) != stats.bytes_reserved ||
                        heap_ranges_mapped(ranges) != stats.bytes_reserved))
        why = "the heap's ranges are not what it reserved, all mapped";
    ilheap_heap_destroy(heap);
    if (why == NULL && heap_ranges_mapped(ranges) != 0)
        why = "destroy left memory mapped";
    return why;
}
