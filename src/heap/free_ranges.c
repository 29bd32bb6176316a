/* ilheap_free_ranges: the OS layer's walk of the free address ranges, as
 * public API (profilers report the room above a module with it). */
#include "ilheap/heap.h"

#include "os/os.h"
#include "status_internal.h"

ilheap_status_t ilheap_free_ranges(uintptr_t lo, uintptr_t hi, size_t min_size,
                                   ilheap_free_range_fn visit, void *context)
{
    if (!visit)
        return ilheap__fail(ILHEAP_EINVAL, "ilheap_free_ranges: no visitor");
    int os_error = 0;
    if (ilheap__os_visit_gaps(lo, hi, min_size, visit, context, &os_error) != ILHEAP_OS_OK)
        return ilheap__fail(ILHEAP_EOS_MAPS, "os error %d", os_error);
    return ILHEAP_OK;
}
