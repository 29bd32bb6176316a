/* Rewriting a body straight into a module's heap: the one codec function that
 * needs the heap, kept apart so that the codec builds and tests without it. */
#include "ilheap/heap.h"
#include "ilheap/il.h"
#include "status_internal.h"

ilheap_status_t ilheap_il_rewrite_to_heap(const ilheap_il_body_t *body,
                                          const ilheap_il_edit_t *edit, ilheap_il_mode_t mode,
                                          ilheap_heap_t *heap, void **out, size_t *size)
{
    if (out == NULL)
        return ilheap__fail(ILHEAP_EINVAL, "NULL out");
    *out = NULL;
    if (heap == NULL)
        return ilheap__fail(ILHEAP_EINVAL, "NULL heap");
    size_t need;
    ilheap_status_t st = ilheap_il_rewrite(body, edit, mode, NULL, 0, &need);
    if (st != ILHEAP_OK)
        return st;
    /* Exactly the encoded size: heap blocks are 4-aligned, as a fat header needs. */
    void *block;
    st = ilheap_heap_try_alloc(heap, need, &block);
    if (st != ILHEAP_OK)
        return st;
    size_t written;
    st = ilheap_il_rewrite(body, edit, mode, block, need, &written);
    if (st != ILHEAP_OK) /* cannot happen: the same plan succeeded above */
        return st;
    *out = block;
    if (size != NULL)
        *size = written;
    return ILHEAP_OK;
}
