/* Test helpers over /proc/self/maps and synthetic module bases. */
#ifndef ILHEAP_TEST_MAPS_UTIL_H
#define ILHEAP_TEST_MAPS_UTIL_H

#include <stddef.h>
#include <stdint.h>

/* Bytes of [lo, hi) covered by mappings. */
uint64_t maps_bytes_mapped(uintptr_t lo, uintptr_t hi);

/* A private sandbox of address space for synthetic bases: a PROT_NONE
 * reservation of size bytes somewhere free. Release with sandbox_release. */
uintptr_t sandbox_reserve(size_t size);
void sandbox_release(uintptr_t start, size_t size);

/* Fills and checks a block with a pattern derived from seed. */
void pattern_fill(void *p, size_t size, uint32_t seed);
int pattern_check(const void *p, size_t size, uint32_t seed);

/* The ranges a heap reserved, read before it is destroyed, so a test can
 * check that exactly those are mapped and, after destroy, unmapped (other
 * mappings may come and go elsewhere: sanitizers and valgrind map memory). */
typedef struct heap_ranges {
    size_t count;
    uintptr_t start[512], end[512];
} heap_ranges_t;

struct ilheap_heap;
void heap_ranges_read(struct ilheap_heap *heap, heap_ranges_t *ranges);
uint64_t heap_ranges_mapped(const heap_ranges_t *ranges);
uint64_t heap_ranges_size(const heap_ranges_t *ranges);

#endif
