/* The internal interface of internal_api.h: the warm state of a heap. It
 * lives in the library, next to the internals it uses (heap/heap_internal.h),
 * so that nothing outside src/ reads them. */
#include "internal_api.h"

#include "heap/heap_internal.h"

ilheap_status_t ilheap__heap_prepopulate(ilheap_heap_t *heap, size_t total)
{
    ilheap_status_t status = ILHEAP_OK;
    pthread_mutex_lock(&heap->lock);
    if (atomic_load(&heap->current) == NULL)
        status = ilheap__heap_grow(heap, total);
    ilheap_extent_t *extent = atomic_load(&heap->current);
    /* commit_to prefaults what it commits (unless ILHEAP_NO_POPULATE). */
    if (status == ILHEAP_OK && extent != NULL)
        status = ilheap__heap_commit_to(heap, extent, extent->reserved_end, 1);
    if (status == ILHEAP_OK && (extent == NULL || atomic_load(&extent->limit) - extent->start < total))
        status = ILHEAP_ENOSPACE;
    pthread_mutex_unlock(&heap->lock);
    return status;
}
