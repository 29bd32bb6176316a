/* The inside of a module heap, shared by heap.c (creation, statistics,
 * destroy), alloc.c (allocation: per-thread runs and the shared bump) and
 * placement.c (finding address space inside the window). */
#ifndef ILHEAP_HEAP_INTERNAL_H
#define ILHEAP_HEAP_INTERNAL_H

#include "ilheap/heap.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#define ILHEAP_STAT_STRIPES 8
#define ILHEAP_CACHE_LINE 64

/* One contiguous run of reserved address space, [start, reserved_end), of
 * which [start, limit) is committed read-write. Blocks are bumped from top.
 * A chunk reserved right at reserved_end extends the extent in place, so a
 * heap that finds room next to itself is one extent and wastes nothing at
 * chunk boundaries. Extents are freed only when the heap is destroyed, so a
 * thread holding a stale extent pointer on the fast path is always safe. */
typedef struct ilheap_extent {
    _Alignas(ILHEAP_CACHE_LINE) _Atomic uintptr_t top; /* next free byte */
    _Atomic uintptr_t limit;                            /* committed end; only grows */
    /* When top passes it, the thread that passes it commits and prefaults the
     * next batch, ahead of need, so that other threads never wait for it. */
    _Atomic uintptr_t trigger;
    uintptr_t start;
    uintptr_t reserved_end; /* under the heap's lock */
    struct ilheap_extent *older;
} ilheap_extent_t;

/* Per-thread-striped counters: each thread adds to its own stripe, so two
 * threads never fight over one counter's cache line. Blocks (high half) and
 * bytes requested (low half) share one word, one atomic add per block: both
 * fit in 32 bits, since the blocks of a heap lie in a window of at most
 * 0xFFFFFFFF bytes and each holds at least one byte. */
typedef struct ilheap_stat_stripe {
    _Alignas(ILHEAP_CACHE_LINE) _Atomic uint64_t blocks_and_bytes;
} ilheap_stat_stripe_t;

struct ilheap_heap {
    _Atomic(ilheap_extent_t *) current; /* where the fast path bumps */
    uint32_t flags;
    uint64_t id; /* unique over the process's lifetime */
    uintptr_t align_mask;
    uintptr_t base;
    uint64_t window;
    /* The usable range, already clipped to the address space and rounded to
     * the OS granularity: every chunk lies inside [lo, hi). */
    uintptr_t lo, hi;
    uintptr_t first_probe; /* end of the image, where the first chunk goes */
    size_t first_chunk;
    size_t granularity, page;
    /* After the window was found full: requests still to fail from the
     * snapshot before the map is read again, and the current backoff. Under
     * the lock. */
    uint32_t full_skips, full_backoff;

    pthread_mutex_t lock; /* serializes growth: commit and reserve; taken
                           * before the gap-cache lock (docs/com.md, "Locks") */
    ilheap_extent_t *extents; /* newest first; under the lock */
    _Atomic uint64_t bytes_reserved;
    _Atomic uint64_t bytes_committed;
    _Atomic uint64_t chunks;
    _Atomic uint64_t blocks_beyond_2gib; /* blocks ending past base + ILHEAP_STRICT_WINDOW */

    ilheap_stat_stripe_t stripes[ILHEAP_STAT_STRIPES];
};

/* Reserves a chunk for a block of size bytes, inside [lo, hi), as close above
 * the base as the address space allows: first right after the current extent
 * (or the image), then the lowest free gap of the process map that fits, with
 * bounded retries when other threads win a gap. Extends the current extent
 * when the chunk is adjacent, else starts a new extent (committing its first
 * pages) and makes it current. Called with the lock held. */
ilheap_status_t ilheap__heap_grow(ilheap_heap_t *heap, size_t size);

/* Commits at least up to needed_end in extent, a batch ahead of it when the
 * chunk allows, prefaults it (unless ILHEAP_NO_POPULATE) and only then
 * publishes the new limit. Called with the lock held; records a failure only
 * when report is set. */
ilheap_status_t ilheap__heap_commit_to(ilheap_heap_t *heap, ilheap_extent_t *extent,
                                       uintptr_t needed_end, int report);

/* Calls visit for each reserved range [start, end) of the heap, for tests
 * and diagnostics. Takes the lock. */
void ilheap__heap_visit_ranges(ilheap_heap_t *heap, void (*visit)(void *context, uintptr_t start, uintptr_t end),
                               void *context);

#endif
