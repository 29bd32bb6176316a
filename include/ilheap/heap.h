/* ilheap: a module-relative heap for IL method bodies.
 *
 * One heap serves one loaded module. Every block it returns lies at a positive
 * offset from the module's base and inside the heap's window:
 *
 *     base < p   and   p + size <= base + window
 *
 * so that (p - base) is a valid method RVA. The heap only allocates; all of
 * its memory is released at once by ilheap_heap_destroy (module unload).
 * Memory is read-write and never executable. Blocks come back zeroed.
 *
 * Thread safety: ilheap_heap_alloc and ilheap_heap_stats may be called from any
 * number of threads at once; allocation is lock-free until a chunk must be
 * added. ilheap_heap_destroy must not race with any other call on that heap.
 *
 * Lifetime: ilheap_heap_destroy frees the handle itself, as free() does. No
 * function may be called with the handle afterwards; the library does not
 * (and cannot soundly) detect such a call. The COM layer (com.h) is what makes
 * late calls safe: its Alloc after a module's unload fails with
 * ILHEAP_EUNLOADED without touching the heap.
 */
#ifndef ILHEAP_HEAP_H
#define ILHEAP_HEAP_H

#include <stddef.h>
#include <stdint.h>

#include "ilheap/export.h"
#include "ilheap/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The default window: the full unsigned 32-bit RVA, the contract of
 * ICorProfilerInfo::GetILFunctionBodyAllocator ("within 4 GB" of the module).
 * Placement is lowest-gap-first, so a block still lands below base + 2 GiB
 * whenever there is room there; ilheap_heap_stats_t.blocks_beyond_2gib counts
 * the others. Callers that read RVAs as signed 32-bit integers ask for
 * ILHEAP_STRICT_WINDOW (docs/profiler.md, "The window"). */
#define ILHEAP_DEFAULT_WINDOW 0xFFFFFFFFull
/* The largest window a heap may ask for: the full unsigned 32-bit RVA. */
#define ILHEAP_MAX_WINDOW 0xFFFFFFFFull
/* RVAs that stay valid as signed 32-bit integers (SSCLI's METHOD_MAX_RVA;
 * System.Reflection.Metadata reads RVAs as int). */
#define ILHEAP_STRICT_WINDOW 0x7FFFFFFFull

/* ilheap_heap_options_t.flags */
enum {
    /* Do not pre-fault committed memory in batches (MADV_POPULATE_WRITE);
     * pages are then faulted in one by one on first write. For measurement. */
    ILHEAP_NO_POPULATE = 1u << 0,
    /* Ask for transparent huge pages once the heap has committed 32 MiB: it
     * then reserves and commits in 2 MiB-aligned steps marked MADV_HUGEPAGE.
     * Opt-in: it pays only where the host backs huge pages cheaply
     * (docs/benchmarks.md), and resident memory grows in 2 MiB steps. */
    ILHEAP_HUGE_PAGES = 1u << 1,
};

typedef struct ilheap_heap_options {
    uint64_t window;      /* bytes above base usable by blocks; 0 = ILHEAP_DEFAULT_WINDOW */
    uint32_t alignment;   /* block alignment: 4, 8 or 16; 0 = 4 (fat headers need 4) */
    uint32_t flags;       /* ILHEAP_NO_POPULATE, ILHEAP_HUGE_PAGES */
    size_t first_chunk;   /* bytes of the first reservation; 0 = 64 KiB */
} ilheap_heap_options_t;

typedef struct ilheap_heap ilheap_heap_t;

typedef struct ilheap_heap_stats_s {
    uint64_t blocks;          /* blocks handed out */
    uint64_t bytes_requested; /* sum of the sizes asked for */
    uint64_t bytes_used;      /* bytes consumed, alignment padding included */
    uint64_t bytes_reserved;  /* address space reserved by the heap */
    uint64_t bytes_committed; /* memory made read-write (and populated) */
    uint64_t chunks;          /* reservations made */
    /* The highest byte claimed from the heap's extents, as an offset from
     * base: it counts the per-thread runs already claimed, including their
     * part not yet handed out as blocks, so it can exceed the end of the
     * highest block. 0 if nothing was claimed. */
    uint64_t highest_offset;
    uint64_t blocks_beyond_2gib; /* blocks ending past base + ILHEAP_STRICT_WINDOW */
} ilheap_heap_stats_t;

/* Fills *options with the defaults. */
ILHEAP_API void ilheap_heap_options_init(ilheap_heap_options_t *options);

/* Creates the heap of the module loaded at base. image_size is the module's
 * size in memory (0 if unknown): the heap places its first chunk at the end of
 * the image. options may be NULL for the defaults. No address space is reserved
 * until the first allocation.
 * Returns ILHEAP_OK, ILHEAP_EINVAL (NULL base or out), ILHEAP_EWINDOW,
 * ILHEAP_EALIGN or ILHEAP_ENOMEM. */
ILHEAP_API ilheap_status_t ilheap_heap_create(const void *base, size_t image_size,
                                              const ilheap_heap_options_t *options,
                                              ilheap_heap_t **out);

/* Releases every block and all address space of the heap at once, and frees
 * the handle. NULL is a no-op. No block of the heap may be used afterwards,
 * and no function may be called with the handle (see Lifetime above). */
ILHEAP_API void ilheap_heap_destroy(ilheap_heap_t *heap);

/* Allocates size zeroed bytes inside the window. Returns NULL for size 0, for
 * a size that can never fit, when the window is full, or when the OS refuses;
 * the reason is then in ilheap_last_status() / ilheap_last_message(). */
ILHEAP_API void *ilheap_heap_alloc(ilheap_heap_t *heap, size_t size);

/* The same, returning the status: *out is the block or NULL. */
ILHEAP_API ilheap_status_t ilheap_heap_try_alloc(ilheap_heap_t *heap, size_t size, void **out);

/* Makes the heap ready for size more bytes of blocks (alignment padding
 * included): address space reserved and memory committed, and populated
 * unless ILHEAP_NO_POPULATE, right above what is allocated now. The blocks
 * that follow, up to that total, then take no lock and meet no page fault.
 * A heap never reuses memory, so this is how a caller that knows what is
 * coming (or a benchmark of the hot path) gets warm memory. Blocks of every
 * thread share the room, and each thread takes its blocks in runs of up to
 * 16 KiB, so several threads need a run more each.
 * Returns ILHEAP_OK, or the status ilheap_heap_try_alloc would give for a
 * block of size bytes (ILHEAP_EINVAL, ILHEAP_EZEROSIZE, ILHEAP_ETOOBIG,
 * ILHEAP_ENOSPACE, ILHEAP_EOS_RESERVE, ILHEAP_EOS_COMMIT, ILHEAP_ENOMEM,
 * ILHEAP_ERACE). */
ILHEAP_API ilheap_status_t ilheap_heap_reserve(ilheap_heap_t *heap, size_t size);

/* A consistent-enough snapshot (counters are read without stopping writers). */
ILHEAP_API ilheap_status_t ilheap_heap_stats(const ilheap_heap_t *heap, ilheap_heap_stats_t *out);

ILHEAP_API const void *ilheap_heap_base(const ilheap_heap_t *heap);
ILHEAP_API uint64_t ilheap_heap_window(const ilheap_heap_t *heap);

/* True when [p, p + size) lies inside the heap's window (base < p,
 * p + size <= base + window). A check for callers that receive pointers. */
ILHEAP_API int ilheap_heap_in_window(const ilheap_heap_t *heap, const void *p, size_t size);

/* Called for each free range [start, end); a nonzero return stops the walk. */
typedef int (*ilheap_free_range_fn)(void *context, uintptr_t start, uintptr_t end);

/* The room a heap could use: the unmapped ranges of this process's address
 * space that intersect [lo, hi), clipped to it and rounded inward to where a
 * reservation may start (the page on Linux, 64 KiB on Windows), in
 * ascending order, each of at least min_size bytes. A snapshot read from the
 * OS at each call (the process map on Linux, VirtualQuery on Windows): costly,
 * for reports. Returns ILHEAP_OK, ILHEAP_EINVAL (no visit) or ILHEAP_EOS_MAPS. */
ILHEAP_API ilheap_status_t ilheap_free_ranges(uintptr_t lo, uintptr_t hi, size_t min_size,
                                              ilheap_free_range_fn visit, void *context);

#ifdef __cplusplus
}
#endif

#endif /* ILHEAP_HEAP_H */
