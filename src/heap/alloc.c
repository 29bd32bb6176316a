/* Allocation: per-thread runs over a shared compare-and-swap bump.
 *
 * The shared path is a CAS on the current extent's top, bounded by the
 * committed limit. Threads bumping one cache line slow each other down
 * (docs/benchmarks.md, "Warm allocation and threads"), so a thread that
 * allocates several blocks in a row from one heap takes a run of the heap
 * (1 KiB, doubling up to 16 KiB) with one CAS and bumps inside it privately.
 *
 * Frugality is kept by three rules:
 * - the first block a thread takes from a heap after using another one goes
 *   straight to the shared top: a thread that alternates between modules
 *   never strands runs;
 * - when a run is used up, its unused tail is given back if nobody claimed
 *   memory after it (a CAS of top from the run's end back to its cursor), so a
 *   single thread packs its blocks exactly as the shared path would;
 * - blocks over RUN_BLOCK_MAX always go to the shared top.
 * A run left behind when its thread switches heaps or exits is at most
 * RUN_MAX bytes, counted in bytes_used.
 *
 * The lock is taken only to commit more memory or to reserve a chunk
 * (placement.c). Memory is never reused: every block comes zeroed from the OS.
 */
#include "heap/heap_internal.h"
#include "os/os.h"
#include "status_internal.h"

#define RUN_MIN ((size_t)1024)
#define RUN_MAX ((size_t)16 * 1024)
#define RUN_BLOCK_MAX ((size_t)2048)

typedef struct thread_run {
    uint64_t heap_id; /* the heap this thread used last; 0 = none */
    ilheap_extent_t *extent;
    uintptr_t cursor, end; /* the run: [cursor, end) is still free */
    size_t next_size;      /* the size of the next run */
} thread_run_t;

static _Thread_local thread_run_t thread_run;
static _Thread_local unsigned thread_stripe; /* 0 = not assigned yet */
static _Atomic unsigned next_stripe;

static void count_block(ilheap_heap_t *heap, size_t size)
{
    if (thread_stripe == 0)
        /* relaxed: only spreads threads over stripes; no data hangs on it. */
        thread_stripe = atomic_fetch_add_explicit(&next_stripe, 1, memory_order_relaxed) % ILHEAP_STAT_STRIPES + 1;
    /* relaxed: a statistic, summed only by ilheap_heap_stats for reports. */
    atomic_fetch_add_explicit(&heap->stripes[thread_stripe - 1].blocks_and_bytes, ((uint64_t)1 << 32) | size,
                              memory_order_relaxed);
}

/* Claims [p, p + size) below the committed limit, or returns 0. */
static uintptr_t bump(ilheap_extent_t *extent, size_t size, uintptr_t align_mask)
{
    /* relaxed: top only hands out disjoint ranges; what a block's bytes hold is published by limit. */
    uintptr_t top = atomic_load_explicit(&extent->top, memory_order_relaxed);
    for (;;) {
        uintptr_t p = (top + align_mask) & ~align_mask;
        /* acquire: pairs with the release in ilheap__heap_commit_to, so pages below limit are committed
         * (and prefaulted) before we write them. */
        uintptr_t limit = atomic_load_explicit(&extent->limit, memory_order_acquire);
        if (p > limit || size > limit - p)
            return 0;
        /* relaxed CAS: the claim is exclusive by atomicity alone; the memory's readiness came with
         * limit above. */
        if (atomic_compare_exchange_weak_explicit(&extent->top, &top, p + size, memory_order_relaxed,
                                                  memory_order_relaxed))
            return p;
    }
}

/* Bytes between the extent's top (aligned) and end; under the lock. */
static size_t room_below(const ilheap_heap_t *heap, ilheap_extent_t *extent, uintptr_t end)
{
    /* relaxed: under heap->lock; other threads only move top up, so the room is at most this. */
    uintptr_t top = atomic_load_explicit(&extent->top, memory_order_relaxed);
    uintptr_t start = (top + heap->align_mask) & ~heap->align_mask;
    return start <= end ? end - start : 0;
}

/* Under the lock: makes the current extent hold size bytes above its top,
 * committed: commits more of it, or reserves a chunk (which may become a new
 * current extent, not yet committed: call again). */
static ilheap_status_t make_room(ilheap_heap_t *heap, size_t size)
{
    /* relaxed: under heap->lock, which orders it against adopt_chunk's store. */
    ilheap_extent_t *extent = atomic_load_explicit(&heap->current, memory_order_relaxed);
    if (extent != NULL) {
        size_t room = room_below(heap, extent, extent->reserved_end);
        if (room >= size)
            return ilheap__heap_commit_to(heap, extent, extent->reserved_end - room + size, 1);
    }
    return ilheap__heap_grow(heap, size);
}

/* Under the lock: bump, else make room; repeat until the claim fits or
 * growth fails. */
static ilheap_status_t claim_slow(ilheap_heap_t *heap, size_t size, uintptr_t *out, ilheap_extent_t **from)
{
    pthread_mutex_lock(&heap->lock);
    ilheap_status_t status = ILHEAP_OK;
    for (;;) {
        /* relaxed: under heap->lock, which orders it against adopt_chunk's store. */
        ilheap_extent_t *extent = atomic_load_explicit(&heap->current, memory_order_relaxed);
        uintptr_t p = extent != NULL ? bump(extent, size, heap->align_mask) : 0;
        if (p != 0) {
            *out = p;
            *from = extent;
            break;
        }
        status = make_room(heap, size);
        if (status != ILHEAP_OK)
            break;
    }
    pthread_mutex_unlock(&heap->lock);
    return status;
}

/* The claim passed the extent's trigger: commit and prefault the next batch
 * now, ahead of need. One thread does it (trylock); the others go on
 * allocating from the half batch still ahead of them. */
static void commit_ahead(ilheap_heap_t *heap, ilheap_extent_t *extent)
{
    if (pthread_mutex_trylock(&heap->lock) != 0)
        return;
    uintptr_t top = atomic_load_explicit(&extent->top, memory_order_relaxed);
    /* relaxed (top, limit, trigger): under heap->lock, the only writer of limit and trigger; top is a
     * hint here. */
    uintptr_t limit = atomic_load_explicit(&extent->limit, memory_order_relaxed);
    if (top > atomic_load_explicit(&extent->trigger, memory_order_relaxed) && limit < extent->reserved_end)
        (void)ilheap__heap_commit_to(heap, extent, limit + 1, 0);
    pthread_mutex_unlock(&heap->lock);
}

/* Claims size bytes from the shared top (lock-free unless growth is needed). */
static ilheap_status_t claim_shared(ilheap_heap_t *heap, size_t size, uintptr_t *out, ilheap_extent_t **from)
{
    /* acquire: pairs with the release in adopt_chunk, so the extent's fields are initialized before we
     * read them. */
    ilheap_extent_t *extent = atomic_load_explicit(&heap->current, memory_order_acquire);
    if (extent != NULL) {
        uintptr_t p = bump(extent, size, heap->align_mask);
        if (p != 0) {
            /* relaxed: trigger is a hint to commit ahead; commit_ahead re-reads everything under the
             * lock. */
            if (p + size > atomic_load_explicit(&extent->trigger, memory_order_relaxed))
                commit_ahead(heap, extent);
            *out = p;
            *from = extent;
            return ILHEAP_OK;
        }
    }
    return claim_slow(heap, size, out, from);
}

/* Ends the thread's run on its (live) heap, giving the unused tail back when
 * nobody has claimed memory after it. */
static void end_run(thread_run_t *run)
{
    if (run->extent != NULL && run->cursor < run->end) {
        uintptr_t expected = run->end;
        /* relaxed CAS: gives the tail back only if top is still the run's end; no data is published by
         * it. */
        atomic_compare_exchange_strong_explicit(&run->extent->top, &expected, run->cursor,
                                                memory_order_relaxed, memory_order_relaxed);
    }
    run->extent = NULL;
    run->cursor = run->end = 0;
}

/* The thread's run on this heap is used up: end it, take a bigger one, and
 * place the block at its start. */
static ilheap_status_t refill_run(ilheap_heap_t *heap, thread_run_t *run, size_t size, uintptr_t *out)
{
    end_run(run);
    size_t length = run->next_size < size ? size : run->next_size;
    uintptr_t start;
    ilheap_extent_t *extent;
    if (claim_shared(heap, length, &start, &extent) != ILHEAP_OK) {
        /* Near the end of the window a whole run may not fit: the block alone. */
        run->next_size = RUN_MIN;
        return claim_shared(heap, size, out, &extent);
    }
    run->extent = extent;
    run->cursor = start + size;
    run->end = start + length;
    if (run->next_size < RUN_MAX)
        run->next_size *= 2;
    *out = start;
    return ILHEAP_OK;
}

/* The checks every request makes: a live heap, a size that can fit. */
static ilheap_status_t check_request(const ilheap_heap_t *heap, size_t size)
{
    if (heap == NULL) /* a destroyed heap is not checked: see ilheap_heap_destroy */
        return ilheap__fail(ILHEAP_EINVAL, "heap is NULL");
    if (size == 0)
        return ilheap__fail(ILHEAP_EZEROSIZE, NULL);
    if (heap->hi <= heap->lo || size > heap->hi - heap->lo)
        return ilheap__fail(ILHEAP_ETOOBIG, "%zu bytes requested; the window above base %p holds at most %llu",
                            size, (void *)heap->base,
                            (unsigned long long)(heap->hi > heap->lo ? heap->hi - heap->lo : 0));
    return ILHEAP_OK;
}

ilheap_status_t ilheap_heap_reserve(ilheap_heap_t *heap, size_t size)
{
    ilheap_status_t status = check_request(heap, size);
    if (status != ILHEAP_OK)
        return status;
    pthread_mutex_lock(&heap->lock);
    for (;;) {
        /* relaxed (current, limit): under heap->lock, their only writer's lock. */
        ilheap_extent_t *extent = atomic_load_explicit(&heap->current, memory_order_relaxed);
        if (extent != NULL &&
            room_below(heap, extent, atomic_load_explicit(&extent->limit, memory_order_relaxed)) >= size)
            break;
        if ((status = make_room(heap, size)) != ILHEAP_OK)
            break;
    }
    pthread_mutex_unlock(&heap->lock);
    return status;
}

ilheap_status_t ilheap_heap_try_alloc(ilheap_heap_t *heap, size_t size, void **out)
{
    if (out == NULL)
        return ilheap__fail(ILHEAP_EINVAL, "out is NULL");
    *out = NULL;
    ilheap_status_t checked = check_request(heap, size);
    if (checked != ILHEAP_OK)
        return checked;

    uintptr_t p = 0;
    ilheap_status_t status = ILHEAP_OK;
    ilheap_extent_t *extent;
    thread_run_t *run = &thread_run;
    if (size > RUN_BLOCK_MAX) {
        if (run->heap_id == heap->id)
            end_run(run); /* keeps a single thread's blocks in address order */
        status = claim_shared(heap, size, &p, &extent);
    } else if (run->heap_id == heap->id) {
        p = (run->cursor + heap->align_mask) & ~heap->align_mask;
        if (p >= run->cursor && p <= run->end && size <= run->end - p)
            run->cursor = p + size; /* the fast path: private, no atomics */
        else
            status = refill_run(heap, run, size, &p);
    } else {
        /* First block from this heap since the thread used another: no run. */
        *run = (thread_run_t){heap->id, NULL, 0, 0, RUN_MIN};
        status = claim_shared(heap, size, &p, &extent);
    }
    if (status != ILHEAP_OK)
        return status;
    count_block(heap, size);
    if (p + size - heap->base > ILHEAP_STRICT_WINDOW) /* rare: the low 2 GiB had no room */
        /* relaxed: a statistic for reports. */
        atomic_fetch_add_explicit(&heap->blocks_beyond_2gib, 1, memory_order_relaxed);
    *out = (void *)p;
    return ILHEAP_OK;
}

void *ilheap_heap_alloc(ilheap_heap_t *heap, size_t size)
{
    void *p;
    (void)ilheap_heap_try_alloc(heap, size, &p);
    return p;
}
