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
#include "os/os.h"

int bench_ilheap_prepopulate(ilheap_heap_t *heap, size_t total)
{
    ilheap_status_t status = ILHEAP_OK;
    ilheap_prefault_t prefault = {0, 0};
    pthread_mutex_lock(&heap->lock);
    if (atomic_load(&heap->current) == NULL)
        status = ilheap__heap_grow(heap, total);
    ilheap_extent_t *extent = atomic_load(&heap->current);
    if (status == ILHEAP_OK && extent != NULL)
        status = ilheap__heap_commit_to(heap, extent, extent->reserved_end, 1, &prefault);
    int ok = status == ILHEAP_OK && extent != NULL &&
             atomic_load(&extent->limit) - extent->start >= total;
    pthread_mutex_unlock(&heap->lock);
    /* As the heap does: populate outside the lock (nothing with NO_POPULATE). */
    if (prefault.to > prefault.from)
        ilheap__os_prefault(prefault.from, prefault.to - prefault.from);
    return ok ? 0 : -1;
}
