/* Test helpers: the process's memory map, synthetic module bases, patterns.
 * The map and mapping functions are per OS (maps_linux.c over /proc/self/maps
 * and mmap, maps_windows.c over VirtualQuery and VirtualAlloc), so the heap
 * tests themselves are the same on both. */
#ifndef ILHEAP_TEST_MAPS_UTIL_H
#define ILHEAP_TEST_MAPS_UTIL_H

#include "support.h"

#include <stddef.h>
#include <stdint.h>

/* A shared library every test process has loaded. */
#if defined(_WIN32)
#define TEST_SHARED_LIBRARY "kernel32.dll"
#else
#define TEST_SHARED_LIBRARY "libc.so"
#endif

/* The unit of synthetic layouts: the OS's reservation granularity (the page
 * on Linux, 64 KiB on Windows), so that every piece can be mapped and
 * released on its own. */
size_t test_granule(void);

/* Bytes of [lo, hi) covered by mappings (reserved or committed). */
uint64_t maps_bytes_mapped(uintptr_t lo, uintptr_t hi);

/* The start of a free range of size bytes, granule-aligned, left free. The
 * tests are single-threaded while they lay out a sandbox, so it stays free.
 * It and test_unmap tell the heap's free-range snapshot (heap/gap_cache.h)
 * that address space was freed: the snapshot does not see that by itself,
 * and on Windows, which allocates bottom-up, a new sandbox usually lies where
 * an earlier test's memory was, which a stale snapshot still calls taken. */
uintptr_t sandbox_find(size_t size);
/* The same, high in the address space (top-down): for a range a test leaves
 * free while it allocates much, away from where malloc grows on Windows. */
uintptr_t sandbox_find_high(size_t size);

/* Maps [addr, addr + size) read-write exactly there (never over anything);
 * returns addr, or NULL when the range is not free. Undo with test_unmap. */
void *test_map_at(uintptr_t addr, size_t size);
/* The same, inaccessible (Linux PROT_NONE; Windows reserved, not committed). */
void *test_map_inaccessible_at(uintptr_t addr, size_t size);
void test_unmap(void *p, size_t size);

/* A "module" of module_size bytes mapped read-write at the start of a free
 * range of total bytes, the rest left free above it. Returns the base, or 0.
 * Release with test_unmap(base, module_size). */
uintptr_t sandbox_module(size_t total, size_t module_size);

/* Makes the OS layer play a system that reserves somewhere else than asked
 * when the address is taken (Linux: mmap ignoring MAP_FIXED_NOREPLACE, as old
 * kernels do; Windows: a VirtualAlloc that picks its own address), and
 * records each misplaced mapping. The layer must undo every one. */
void test_misplacing_os_begin(void);
/* Restores the real OS call; returns how many mappings were misplaced and
 * how many bytes of them are still mapped (must be 0). */
size_t test_misplacing_os_end(uint64_t *still_mapped);
/* For the per-OS files: address space was freed (invalidates the heap's
 * free-range snapshot); records a misplaced mapping; restores the OS call. */
void test_address_space_freed(void);
void test_misplaced_record(uintptr_t start, size_t length);
void test_misplacing_os_restore(void);

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

/* After injected faults: the heap allocates `more` blocks of 300 bytes
 * (written), its statistics count them after `before` blocks, all it
 * reserved is mapped, and destroy unmaps it (the heap is gone either way).
 * NULL, or what failed; *ranges holds the heap's ranges. */
const char *heap_check_and_destroy(struct ilheap_heap *heap, uint64_t before, int more, heap_ranges_t *ranges);

#endif
