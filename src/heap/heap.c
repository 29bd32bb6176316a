/* A module heap: creation, statistics and release. Allocation is in alloc.c,
 * finding and committing address space in placement.c. */
#include "heap/gap_cache.h"
#include "heap/heap_internal.h"
#include "os/memory.h"
#include "os/os.h"
#include "status_internal.h"

#include <string.h>

#define DEFAULT_FIRST_CHUNK ((size_t)64 * 1024)

void ilheap_heap_options_init(ilheap_heap_options_t *options)
{
    if (options == NULL)
        return;
    memset(options, 0, sizeof *options);
    options->window = ILHEAP_DEFAULT_WINDOW;
    options->alignment = 4;
    options->first_chunk = DEFAULT_FIRST_CHUNK;
}

static uintptr_t align_up(uintptr_t value, uintptr_t alignment)
{
    return (value + alignment - 1) & ~(alignment - 1);
}

/* Computes [lo, hi): blocks must satisfy base < p and p + size <= base +
 * window; chunks are whole granules inside that range and inside the
 * process's mappable address space. Overflow-safe near the top and bottom. */
static void compute_usable_range(ilheap_heap_t *heap, size_t image_size)
{
    uintptr_t lowest, end;
    ilheap__os_address_limits(&lowest, &end);
    uintptr_t g = heap->granularity;

    uintptr_t window_end = heap->base + (uintptr_t)heap->window;
    if (heap->window > UINTPTR_MAX - heap->base || window_end > end)
        window_end = end;
    uintptr_t hi = window_end & ~(g - 1);

    uintptr_t lo = lowest;
    if (heap->base < UINTPTR_MAX - g) { /* base + 1 rounded up, without overflow */
        uintptr_t above_base = align_up(heap->base + 1, g);
        if (above_base > lo)
            lo = above_base;
    } else {
        lo = UINTPTR_MAX; /* nothing above a base at the very top */
    }
    if (lo >= hi) {
        heap->lo = heap->hi = heap->first_probe = 0;
        return;
    }
    heap->lo = lo;
    heap->hi = hi;

    uintptr_t probe = lo;
    if (image_size != 0 && image_size < hi - heap->base) {
        uintptr_t image_end = align_up(heap->base + image_size, g);
        if (image_end > probe && image_end < hi)
            probe = image_end;
    }
    heap->first_probe = probe;
}

/* Never 0 and never reused: a thread's run (alloc.c) names its heap by id, so
 * a run left over from a destroyed heap can never match a new one that got
 * the same address. */
static _Atomic uint64_t next_heap_id = 1;

ilheap_status_t ilheap_heap_create(const void *base, size_t image_size,
                                   const ilheap_heap_options_t *options, ilheap_heap_t **out)
{
    if (out == NULL)
        return ilheap__fail(ILHEAP_EINVAL, "out is NULL");
    *out = NULL;
    if (base == NULL)
        return ilheap__fail(ILHEAP_EINVAL, "module base is NULL");

    ilheap_heap_options_t defaults;
    ilheap_heap_options_init(&defaults);
    if (options == NULL)
        options = &defaults;
    uint64_t window = options->window != 0 ? options->window : ILHEAP_DEFAULT_WINDOW;
    if (window > ILHEAP_MAX_WINDOW)
        return ilheap__fail(ILHEAP_EWINDOW, "window %#llx", (unsigned long long)window);
    uint32_t alignment = options->alignment != 0 ? options->alignment : 4;
    if (alignment != 4 && alignment != 8 && alignment != 16)
        return ilheap__fail(ILHEAP_EALIGN, "alignment %u", alignment);

    ilheap_heap_t *heap = ilheap__mem_alloc_aligned(ILHEAP_CACHE_LINE, sizeof *heap);
    if (heap == NULL)
        return ilheap__fail(ILHEAP_ENOMEM, "heap header");
    memset(heap, 0, sizeof *heap);
    if (pthread_mutex_init(&heap->lock, NULL) != 0) {
        ilheap__mem_free_aligned(heap);
        return ilheap__fail(ILHEAP_ENOMEM, "heap lock");
    }
    /* relaxed: only uniqueness matters (a thread's run names its heap by id). */
    heap->id = atomic_fetch_add_explicit(&next_heap_id, 1, memory_order_relaxed);
    heap->flags = options->flags;
    heap->align_mask = alignment - 1;
    heap->base = (uintptr_t)base;
    heap->window = window;
    heap->page = ilheap__os_page_size();
    heap->granularity = ilheap__os_granularity();
    size_t first = options->first_chunk != 0 ? options->first_chunk : DEFAULT_FIRST_CHUNK;
    if (first > ((size_t)1 << 30))
        first = (size_t)1 << 30;
    heap->first_chunk = align_up(first, heap->granularity);
    compute_usable_range(heap, image_size);
    atomic_init(&heap->current, NULL);
    *out = heap;
    return ILHEAP_OK;
}



void ilheap_heap_destroy(ilheap_heap_t *heap)
{
    if (heap == NULL)
        return;
    ilheap_extent_t *extent = heap->extents;
    while (extent != NULL) {
        ilheap_extent_t *older = extent->older;
        size_t length = extent->reserved_end - extent->start;
        /* One retry: a transient refusal must not leak the module's memory. */
        if (ilheap__os_release(extent->start, length, NULL) == ILHEAP_OS_OK ||
            ilheap__os_release(extent->start, length, NULL) == ILHEAP_OS_OK)
            ilheap__gaps_released(extent->start, length);
        ilheap__mem_free_aligned(extent);
        extent = older;
    }
    pthread_mutex_destroy(&heap->lock);
    ilheap__mem_free_aligned(heap);
}

ilheap_status_t ilheap_heap_stats(const ilheap_heap_t *heap, ilheap_heap_stats_t *out)
{
    if (out == NULL || heap == NULL)
        return ilheap__fail(ILHEAP_EINVAL, "heap or out is NULL");
    memset(out, 0, sizeof *out);
    for (int i = 0; i < ILHEAP_STAT_STRIPES; i++) {
        /* relaxed (all of the stats): figures for reports, each read atomically, not as one snapshot.
         */
        uint64_t packed = atomic_load_explicit(&heap->stripes[i].blocks_and_bytes, memory_order_relaxed);
        out->blocks += packed >> 32;
        out->bytes_requested += packed & 0xFFFFFFFFu;
    }
    ilheap_heap_t *mutable_heap = (ilheap_heap_t *)heap; /* the lock only */
    pthread_mutex_lock(&mutable_heap->lock);
    for (const ilheap_extent_t *e = heap->extents; e != NULL; e = e->older) {
        uintptr_t top = atomic_load_explicit(&e->top, memory_order_relaxed);
        out->bytes_used += top - e->start;
        if (top > e->start && top - heap->base > out->highest_offset)
            out->highest_offset = top - heap->base;
    }
    out->bytes_reserved = atomic_load_explicit(&heap->bytes_reserved, memory_order_relaxed);
    out->bytes_committed = atomic_load_explicit(&heap->bytes_committed, memory_order_relaxed);
    out->chunks = atomic_load_explicit(&heap->chunks, memory_order_relaxed);
    out->blocks_beyond_2gib = atomic_load_explicit(&heap->blocks_beyond_2gib, memory_order_relaxed);
    pthread_mutex_unlock(&mutable_heap->lock);
    return ILHEAP_OK;
}

void ilheap__heap_visit_ranges(ilheap_heap_t *heap, void (*visit)(void *context, uintptr_t start, uintptr_t end),
                               void *context)
{
    if (heap == NULL)
        return;
    pthread_mutex_lock(&heap->lock);
    for (const ilheap_extent_t *e = heap->extents; e != NULL; e = e->older)
        visit(context, e->start, e->reserved_end);
    pthread_mutex_unlock(&heap->lock);
}

const void *ilheap_heap_base(const ilheap_heap_t *heap)
{
    return heap != NULL ? (const void *)heap->base : NULL;
}

uint64_t ilheap_heap_window(const ilheap_heap_t *heap)
{
    return heap != NULL ? heap->window : 0;
}

int ilheap_heap_in_window(const ilheap_heap_t *heap, const void *p, size_t size)
{
    if (heap == NULL)
        return 0;
    uintptr_t address = (uintptr_t)p;
    if (address <= heap->base)
        return 0;
    uint64_t offset = address - heap->base;
    return offset <= heap->window && size <= heap->window - offset;
}
