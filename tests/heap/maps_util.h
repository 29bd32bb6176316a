/* Test helpers over /proc/self/maps and synthetic module bases. */
#ifndef ILHEAP_TEST_MAPS_UTIL_H
#define ILHEAP_TEST_MAPS_UTIL_H

#include <stddef.h>
#include <stdint.h>

/* Number of lines of /proc/self/maps. */
size_t maps_count(void);

/* Bytes of [lo, hi) covered by mappings. */
uint64_t maps_bytes_mapped(uintptr_t lo, uintptr_t hi);

/* A private sandbox of address space for synthetic bases: a PROT_NONE
 * reservation of size bytes somewhere free. Release with sandbox_release. */
uintptr_t sandbox_reserve(size_t size);
void sandbox_release(uintptr_t start, size_t size);

/* Fills and checks a block with a pattern derived from seed. */
void pattern_fill(void *p, size_t size, uint32_t seed);
int pattern_check(const void *p, size_t size, uint32_t seed);

#endif
