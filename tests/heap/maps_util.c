#include "maps_util.h"
#include "heap/heap_internal.h"

#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

uint64_t maps_bytes_mapped(uintptr_t lo, uintptr_t hi)
{
    FILE *f = fopen("/proc/self/maps", "r");
    if (f == NULL)
        return 0;
    uint64_t total = 0;
    char line[512];
    while (fgets(line, sizeof line, f) != NULL) {
        unsigned long long start, end;
        if (sscanf(line, "%llx-%llx", &start, &end) != 2)
            continue;
        uintptr_t s = start > lo ? (uintptr_t)start : lo;
        uintptr_t e = end < hi ? (uintptr_t)end : hi;
        if (s < e)
            total += e - s;
    }
    fclose(f);
    return total;
}

uintptr_t sandbox_reserve(size_t size)
{
    void *p = mmap(NULL, size, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    return p == MAP_FAILED ? 0 : (uintptr_t)p;
}

void sandbox_release(uintptr_t start, size_t size)
{
    munmap((void *)start, size);
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
