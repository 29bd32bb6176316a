/* Encoding a rewritten body straight into a module's heap: kept apart, as
 * to_heap.c is, so the rewriter builds and tests without the heap. The
 * allocation itself is the codec's (ilheap_il_rewrite_to_heap). */
#include "il/rewrite_internal.h"
#include "ilheap/heap.h"
#include "ilheap/rewrite.h"
#include "status_internal.h"

ilheap_status_t ilheap_rw_encode_to_heap(ilheap_rw_t *rw, ilheap_heap_t *heap, void **out,
                                         size_t *size)
{
    if (out == NULL)
        return ilheap__fail(ILHEAP_EINVAL, "NULL out");
    *out = NULL;
    if (heap == NULL)
        return ilheap__fail(ILHEAP_EINVAL, "NULL heap");
    ilheap_il_body_t body;
    ilheap_status_t st = ilheap__rw_prepare(rw, &body);
    if (st != ILHEAP_OK)
        return st;
    return ilheap_il_rewrite_to_heap(&body, NULL, ILHEAP_IL_PRESERVE, heap, out, size);
}
