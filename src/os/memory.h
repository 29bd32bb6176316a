/* Memory for the library's own records: the one way code under src/ gets
 * memory from the C library. Nothing else in src/ calls malloc, calloc,
 * realloc, free or aligned_alloc.
 *
 * The contract (the shape of Lua's lmem.c; every caller relies on it):
 * - Every allocating call may fail. It then returns NULL and has no other
 *   effect: nothing is freed, no status is recorded (the caller records
 *   ILHEAP_ENOMEM naming what it was allocating), errno means nothing.
 * - count * size is checked: a product that overflows size_t fails like an
 *   exhausted heap, so callers pass counts from untrusted input as they are.
 * - A request for 0 bytes succeeds with a block of its own (one byte is
 *   taken), so NULL always means failure.
 * - ilheap__mem_realloc with p NULL allocates; on failure p is untouched and
 *   still the caller's to free. It never frees: 0 bytes keeps a 1-byte block.
 * - ilheap__mem_free(NULL) does nothing; freeing never fails.
 * - Blocks from ilheap__mem_alloc_aligned go back only through
 *   ilheap__mem_free_aligned (Windows' _aligned_malloc has its own free).
 * - Every allocating call first passes the fault point ILHEAP_FAULT_MEMORY
 *   (fault.h), so a test can make the N-th allocation fail (SQLite's
 *   countdown); frees have none.
 * - Thread-safe, as the C library's functions are.
 */
#ifndef ILHEAP_MEMORY_H
#define ILHEAP_MEMORY_H

#include <stddef.h>

/* count * size bytes, uninitialized. */
void *ilheap__mem_alloc(size_t count, size_t size);

/* count * size bytes, zeroed. */
void *ilheap__mem_zalloc(size_t count, size_t size);

/* p resized to count * size bytes; the old contents kept up to the smaller
 * size, the rest uninitialized. */
void *ilheap__mem_realloc(void *p, size_t count, size_t size);

void ilheap__mem_free(void *p);

/* size bytes (rounded up to a multiple of alignment), uninitialized, at an
 * address that is a multiple of alignment (a power of two, at most 4096):
 * the cache-line-aligned records of the heap and the COM layer. */
void *ilheap__mem_alloc_aligned(size_t alignment, size_t size);

void ilheap__mem_free_aligned(void *p);

#endif /* ILHEAP_MEMORY_H */
