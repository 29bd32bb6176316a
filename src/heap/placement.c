/* Finding, reserving and committing address space inside a heap's window.
 *
 * Frugality: chunks start at first_chunk (64 KiB) and grow with the heap (one
 * sixteenth of what it already holds, up to 64 MiB), so the reservation never
 * runs far ahead of use; a chunk placed right after the current extent
 * extends it in place. Placement: the cheap probe first (one exact
 * reservation right after the heap's last chunk, or at the image end); then,
 * where the OS can reserve inside a range in one call (Windows' VirtualAlloc2),
 * that; else the lowest gap that fits from the process-wide snapshot of the
 * map, retried a bounded number of times when another thread takes it first.
 */
#include "heap/gap_cache.h"
#include "heap/heap_internal.h"
#include "os/memory.h"
#include "os/os.h"
#include "status_internal.h"

#include <errno.h>
#include <stdbool.h>

#define MAX_CHUNK ((size_t)64 * 1024 * 1024)
#define MAX_COMMIT_BATCH ((size_t)2 * 1024 * 1024)
#define HUGE_PAGE ((uintptr_t)2 * 1024 * 1024)
#define HUGE_PAGES_FROM ((uint64_t)32 * 1024 * 1024)
/* A gap found in the map can be taken by another thread before we map it;
 * past this many lost races we give up with ILHEAP_ERACE instead of looping. */
#define MAX_PLACEMENT_ATTEMPTS 16
#define MAX_FULL_BACKOFF 1024u

/* A growth step: `share` of what the heap holds, kept within [least, most],
 * then raised to `need` (a request larger than the cap still fits). */
static size_t growth_step(uint64_t share, size_t least, size_t most, size_t need)
{
    size_t size = share < least ? least : share > most ? most : (size_t)share;
    return size < need ? need : size;
}

static uintptr_t round_up(uintptr_t value, uintptr_t unit)
{
    return (value + unit - 1) & ~(unit - 1);
}

ilheap_status_t ilheap__heap_commit_to(ilheap_heap_t *heap, ilheap_extent_t *extent,
                                       uintptr_t needed_end, int report)
{
    /* relaxed: under heap->lock; this thread (or an earlier lock holder) wrote it last. */
    uintptr_t limit = atomic_load_explicit(&extent->limit, memory_order_relaxed);
    if (needed_end <= limit)
        return ILHEAP_OK;
    /* The batch grows with what the heap already committed (half of it, so
     * geometrically), and never runs past the chunk. It starts at one page:
     * most modules get a handful of bodies, and each page committed and
     * prefaulted is resident memory (and ~2 us of creation time). */
    /* relaxed: a size used to pick the batch; written only under heap->lock. */
    uint64_t committed = atomic_load_explicit(&heap->bytes_committed, memory_order_relaxed);
    size_t batch = growth_step(committed / 2, heap->page, MAX_COMMIT_BATCH, 0);
    uintptr_t new_limit = limit + batch;
    if (new_limit < needed_end)
        new_limit = needed_end;
    new_limit = round_up(new_limit, heap->page);
    if (new_limit > extent->reserved_end || new_limit < limit)
        new_limit = extent->reserved_end;
    /* A large heap: end batches on huge-page boundaries and ask for huge
     * pages, so the kernel can back whole aligned 2 MiB ranges at once. */
    int huge = (heap->flags & ILHEAP_HUGE_PAGES) != 0 && committed >= HUGE_PAGES_FROM;
    if (huge && round_up(new_limit, HUGE_PAGE) <= extent->reserved_end)
        new_limit = round_up(new_limit, HUGE_PAGE);
    int os_error = 0;
    int prefault_wanted = (heap->flags & ILHEAP_NO_POPULATE) == 0;
    ilheap_os_result_t result = ilheap__os_commit(limit, new_limit - limit, prefault_wanted, &os_error);
    if (result != ILHEAP_OS_OK) {
        /* Stop the fast path from trying again; the slow path reports. */
        /* relaxed: trigger is a hint read by the fast path; a stale read only costs a trylock. */
        atomic_store_explicit(&extent->trigger, UINTPTR_MAX, memory_order_relaxed);
        if (!report)
            return ILHEAP_EOS_COMMIT;
        return ilheap__fail(ILHEAP_EOS_COMMIT, "%zu bytes, %s, OS error %d", (size_t)(new_limit - limit),
                            result == ILHEAP_OS_NOMEM ? "no memory" : "refused", os_error);
    }
    if (huge)
        ilheap__os_advise_huge_pages(limit, new_limit - limit);
    /* Prefault before publishing: threads then only ever bump into resident
     * pages, and never fight the prefaulting thread over the same page
     * tables. */
    if (prefault_wanted)
        ilheap__os_prefault(limit, new_limit - limit);
    /* relaxed (bytes_committed, trigger): a statistic and a hint; the release on limit below publishes
     * the memory. */
    atomic_fetch_add_explicit(&heap->bytes_committed, new_limit - limit, memory_order_relaxed);
    uintptr_t trigger = new_limit < extent->reserved_end ? new_limit - (new_limit - limit) / 2 : UINTPTR_MAX;
    atomic_store_explicit(&extent->trigger, trigger, memory_order_relaxed);
    /* release: the commit and prefault above happen before any thread that acquires this limit writes
     * below it. */
    atomic_store_explicit(&extent->limit, new_limit, memory_order_release);
    return ILHEAP_OK;
}

/* The chunk size for the next reservation, holding at least need bytes. */
static size_t next_chunk_size(const ilheap_heap_t *heap, size_t need)
{
    /* relaxed: a size to grow by; written only under heap->lock. */
    uint64_t reserved = atomic_load_explicit(&heap->bytes_reserved, memory_order_relaxed);
    return round_up(growth_step(reserved / 16, heap->first_chunk, MAX_CHUNK, need), heap->granularity);
}

/* Records a new reservation [start, start + size). */
static ilheap_status_t adopt_chunk(ilheap_heap_t *heap, uintptr_t start, size_t size)
{
    ilheap__gaps_taken(start, size);
    /* relaxed (bytes_reserved, chunks, current): statistics, and current is only written under
     * heap->lock, which we hold. */
    atomic_fetch_add_explicit(&heap->bytes_reserved, size, memory_order_relaxed);
    atomic_fetch_add_explicit(&heap->chunks, 1, memory_order_relaxed);
    ilheap_extent_t *current = atomic_load_explicit(&heap->current, memory_order_relaxed);
    if (current != NULL && current->reserved_end == start) {
        current->reserved_end = start + size;
        return ILHEAP_OK;
    }
    ilheap_extent_t *extent = ilheap__mem_alloc_aligned(ILHEAP_CACHE_LINE, sizeof *extent);
    if (extent == NULL) {
        if (ilheap__os_release(start, size, NULL) == ILHEAP_OS_OK)
            ilheap__gaps_released(start, size); /* free again, for the next heap too */
        /* relaxed: statistics, undone under heap->lock. */
        atomic_fetch_sub_explicit(&heap->bytes_reserved, size, memory_order_relaxed);
        atomic_fetch_sub_explicit(&heap->chunks, 1, memory_order_relaxed);
        return ilheap__fail(ILHEAP_ENOMEM, "extent record");
    }
    /* Plain initialization: the extent is not shared until the release store of current below. */
    atomic_init(&extent->top, start);
    atomic_init(&extent->limit, start);
    atomic_init(&extent->trigger, UINTPTR_MAX);
    extent->start = start;
    extent->reserved_end = start + size;
    extent->older = heap->extents;
    heap->extents = extent;
    /* Published before its first commit: with limit == start the fast path
     * finds nothing to take there and comes to the lock. */
    atomic_store_explicit(&heap->current, extent, memory_order_release);
    return ILHEAP_OK;
}

static ilheap_status_t fail_reserve(ilheap_os_result_t result, int os_error, size_t size)
{
    return ilheap__fail(ILHEAP_EOS_RESERVE, "%zu bytes, %s, OS error %d", size,
                        result == ILHEAP_OS_NOMEM ? "no memory or mapping slots" : "refused", os_error);
}

/* Step 1, the cheap probe: right after the current extent, where the block may
 * also use the extent's unused tail. True when it decided (*status set). */
static bool grow_in_place(ilheap_heap_t *heap, size_t size, ilheap_status_t *status)
{
    /* relaxed (current, top): under heap->lock; top is only a bound for the probe's size. */
    ilheap_extent_t *current = atomic_load_explicit(&heap->current, memory_order_relaxed);
    uintptr_t probe = current != NULL ? current->reserved_end : heap->first_probe;
    size_t need = round_up(size + heap->align_mask, heap->granularity);
    if (current != NULL) {
        uintptr_t top = atomic_load_explicit(&current->top, memory_order_relaxed);
        uintptr_t start = (top + heap->align_mask) & ~heap->align_mask;
        size_t tail = start < current->reserved_end ? current->reserved_end - start : 0;
        need = round_up(size > tail ? size - tail : heap->granularity, heap->granularity);
    }
    size_t want = next_chunk_size(heap, need);
    /* Large chunks end on a huge-page boundary, so that a heap growing in
     * place stays made of whole aligned 2 MiB ranges (see commit_to). */
    if ((heap->flags & ILHEAP_HUGE_PAGES) != 0 && want >= HUGE_PAGE && probe <= UINTPTR_MAX - want - HUGE_PAGE)
        want = round_up(probe + want, HUGE_PAGE) - probe;
    if (probe < heap->lo || probe >= heap->hi)
        return false;
    size_t room = heap->hi - probe;
    size_t length = want <= room ? want : (need <= room ? room : 0);
    if (length == 0)
        return false;
    int os_error = 0;
    ilheap_os_result_t result = ilheap__os_reserve_at(probe, length, &os_error);
    if (result == ILHEAP_OS_TAKEN)
        return false;
    *status = result == ILHEAP_OS_OK ? adopt_chunk(heap, probe, length) : fail_reserve(result, os_error, length);
    return true;
}

/* Step 2: where the system can reserve inside a range in one call (Windows 10
 * 1803+: VirtualAlloc2), the kernel finds the room, with no race between
 * looking and taking. True when it decided (*status set). */
static bool grow_in_range(ilheap_heap_t *heap, size_t want, ilheap_status_t *status)
{
    int os_error = 0;
    uintptr_t start = 0;
    ilheap_os_result_t result = ilheap__os_reserve_in_range(heap->lo, heap->hi, want, &start, &os_error);
    if (result == ILHEAP_OS_OK) {
        heap->full_backoff = heap->full_skips = 0;
        *status = adopt_chunk(heap, start, want);
        return true;
    }
    if (result == ILHEAP_OS_NOMEM || result == ILHEAP_OS_FAILED) {
        *status = fail_reserve(result, os_error, want);
        return true;
    }
    return false; /* UNSUPPORTED, or no room for want bytes */
}

/* Counts a request that found the window full: a heap in that state reads
 * the map again only after 1, 2, 4, ... 1024 more failing requests (in a real
 * process a full window stays full, and each read of a busy map costs a
 * millisecond). */
static ilheap_status_t window_full(ilheap_heap_t *heap, size_t size, size_t need, int may_read)
{
    if (may_read) {
        heap->full_backoff = heap->full_backoff == 0 ? 1 : heap->full_backoff * 2;
        if (heap->full_backoff > MAX_FULL_BACKOFF)
            heap->full_backoff = MAX_FULL_BACKOFF;
        heap->full_skips = heap->full_backoff;
    } else {
        heap->full_skips--;
    }
    return ilheap__fail(ILHEAP_ENOSPACE, "%zu bytes requested; no free range of %zu bytes between %p and %p%s",
                        size, need, (void *)heap->lo, (void *)heap->hi,
                        may_read ? "" : " (as of the last read of the map)");
}

/* Step 3: the lowest gap in the window that holds want bytes (or at least
 * need), from the process-wide snapshot of free ranges (read again when it
 * proves stale), with bounded retries when others take the gaps first. */
static ilheap_status_t grow_in_gap(ilheap_heap_t *heap, size_t size, size_t need, size_t want)
{
    uintptr_t search_lo = heap->lo;
    int stale_gaps = 0;
    for (int attempt = 0; attempt < MAX_PLACEMENT_ATTEMPTS; attempt++) {
        int may_read = heap->full_skips == 0;
        ilheap_gap_choice_t choice;
        ilheap_status_t status =
            ilheap__gaps_choose(search_lo, heap->hi, want, need, heap->granularity, may_read, &choice);
        if (status != ILHEAP_OK)
            return status;
        if (choice.size == 0)
            return window_full(heap, size, need, may_read);
        heap->full_backoff = heap->full_skips = 0;
        int os_error = 0;
        ilheap_os_result_t result = ilheap__os_reserve_at(choice.start, choice.size, &os_error);
        if (result == ILHEAP_OS_OK)
            return adopt_chunk(heap, choice.start, choice.size);
        if (result != ILHEAP_OS_TAKEN)
            return fail_reserve(result, os_error, choice.size);
        /* Someone mapped into the gap since the snapshot. Strike it from the
         * snapshot and look from just above where this attempt failed, so that
         * every attempt moves on (that also gets past a range the map calls
         * free but the OS will not hand out: the top few MiB under Wine). A
         * second stale gap in one call means the snapshot is old: read the map
         * rather than try gap by gap. */
        ilheap__gaps_taken(choice.start, choice.size);
        if (!choice.fresh && ++stale_gaps >= 2)
            ilheap__gaps_invalidate();
        search_lo = choice.start + heap->granularity; /* at hi: nothing is chosen */
    }
    return ilheap__fail(ILHEAP_ERACE, "%d placement attempts lost", MAX_PLACEMENT_ATTEMPTS);
}

ilheap_status_t ilheap__heap_grow(ilheap_heap_t *heap, size_t size)
{
    if (heap->hi <= heap->lo)
        return ilheap__fail(ILHEAP_ENOSPACE, "the window above %p is outside the address space",
                            (void *)heap->base);
    ilheap_status_t status;
    if (grow_in_place(heap, size, &status))
        return status;
    /* A new extent cannot use the old tail, so it must hold the whole block. */
    size_t need = round_up(size, heap->granularity);
    size_t want = next_chunk_size(heap, need);
    if (grow_in_range(heap, want, &status))
        return status;
    return grow_in_gap(heap, size, need, want);
}
