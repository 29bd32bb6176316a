/* The warm state of an ilheap heap, for the "warm" measurements.
 *
 * ilheap never reuses memory, so a second pass over the same heap still meets
 * fresh pages; the only way to time its hot path over resident memory is to
 * commit and populate the whole run's memory first. The public API cannot do
 * that without consuming blocks, so this file (and only this file) reaches
 * into the heap's internals: one chunk big enough for the run, committed and
 * populated to its end, before the clock starts. Keep it in step with
 * src/heap/heap_internal.h. */
#include "bench.h"
#include "heap/heap_internal.h"

int bench_ilheap_prepopulate(ilheap_heap_t *heap, size_t total)
{
    ilheap_status_t status = ILHEAP_OK;
    pthread_mutex_lock(&heap->lock);
    if (atomic_load(&heap->current) == NULL)
        status = ilheap__heap_grow(heap, total);
    ilheap_extent_t *extent = atomic_load(&heap->current);
    /* commit_to prefaults what it commits (unless ILHEAP_NO_POPULATE). */
    if (status == ILHEAP_OK && extent != NULL)
        status = ilheap__heap_commit_to(heap, extent, extent->reserved_end, 1);
    int ok = status == ILHEAP_OK && extent != NULL &&
             atomic_load(&extent->limit) - extent->start >= total;
    pthread_mutex_unlock(&heap->lock);
    return ok ? 0 : -1;
}
