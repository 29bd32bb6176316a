/* A process-wide snapshot of the free ranges of the address space.
 *
 * In a real CoreCLR process the cheap probe right above a module almost never
 * succeeds, and reading the process map costs up to a millisecond there
 * (docs/profiler.md). One snapshot serves every heap: a heap picks a gap
 * from it, reserves with an exact, non-replacing request, and removes what it
 * took. A snapshot only goes stale in one harmful direction, a gap that
 * someone else has since mapped; the reservation then fails with TAKEN, the
 * caller strikes that gap out and takes the next, and the map is read again
 * only when nothing left in the snapshot fits. Ranges freed by heaps are put
 * back; ranges freed by others are not seen until the next read.
 */
#ifndef ILHEAP_GAP_CACHE_H
#define ILHEAP_GAP_CACHE_H

#include "ilheap/status.h"

#include <stddef.h>
#include <stdint.h>

typedef struct ilheap_gap_choice {
    uintptr_t start;
    size_t size; /* 0: no gap fits */
    int fresh;   /* the choice comes from a map read during this call */
} ilheap_gap_choice_t;

/* Chooses the lowest free range in [lo, hi) holding want bytes (aligned to
 * granularity), else the lowest holding need bytes (then as much of it as is
 * there, up to want). With may_read, reads the map when the snapshot is
 * invalid, or when nothing in it fits (it may miss ranges freed since);
 * without, answers from the snapshot alone (nothing when it is invalid).
 * Returns ILHEAP_OK (choice->size may be 0) or ILHEAP_EOS_MAPS. */
ilheap_status_t ilheap__gaps_choose(uintptr_t lo, uintptr_t hi, size_t want, size_t need,
                                    size_t granularity, int may_read, ilheap_gap_choice_t *choice);

/* [start, start + size) was reserved: no longer free. */
void ilheap__gaps_taken(uintptr_t start, size_t size);

/* [start, start + size) was released by a heap: free again. Inserted into the
 * snapshot (merged with its neighbours), so the next heap can use it without
 * a read of the map: on Windows, which allocates bottom up, and after module
 * unloads, freed low ranges would otherwise stay unseen. */
void ilheap__gaps_released(uintptr_t start, size_t size);

/* Forgets the snapshot: the next choice reads the map (placement, when the
 * snapshot proves old; tests that free address space behind its back). */
void ilheap__gaps_invalidate(void);

/* Forgets the snapshot and frees its memory (otherwise kept for the life of
 * the process): the next choice reads the map into a new array. For tests
 * that count the library's allocations from a known state. */
void ilheap__gaps_free(void);

#endif
