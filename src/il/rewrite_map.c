/* The old-to-new IL offset map of an encoded body, in the shape of
 * COR_IL_MAP (ICorProfilerInfo::SetILInstrumentedCodeMap): one entry per
 * instruction of the body as loaded, in old-offset order. */
#include <stddef.h>

#include "il/rewrite_internal.h"
#include "ilheap/rewrite.h"
#include "status_internal.h"

_Static_assert(sizeof(ilheap_rw_il_map_t) == 12 && offsetof(ilheap_rw_il_map_t, accurate) == 8,
               "ilheap_rw_il_map_t is COR_IL_MAP");

ilheap_status_t ilheap_rw_il_map(const ilheap_rw_t *rw, ilheap_rw_il_map_t *out, size_t cap, size_t *count)
{
    if (rw == NULL || count == NULL || (out == NULL && cap))
        return ilheap__fail(ILHEAP_EINVAL, "NULL argument");
    *count = 0;
    if (!rw->encoded)
        return ilheap__fail(ILHEAP_EINVAL, "no encoded body: the map is the last encode's");
    uint32_t n0 = rw->loaded_n; /* the loaded instructions are ids 0 .. n0 - 1, in offset order */
    *count = n0;
    if (n0 > cap)
        return ilheap__fail(ILHEAP_IL_DEST_TOO_SMALL, "%u entries, room for %zu", n0, cap);
    for (uint32_t id = 0; id < n0; id++) {
        /* Where running the old instruction starts now: the code inserted at
         * its block start, or for a removed one what followed it. */
        uint32_t to = rw_resolve(rw, id);
        out[id].old_offset = rw->off[id];
        out[id].new_offset = to == RW_END ? rw->code_size : rw->noff[to];
        out[id].accurate = rw_live(rw, id) && !(rw->flags[id] & (RW_F_EDITED | RW_F_STRUCT));
    }
    /* The method's entry is old offset 0: code inserted before the first
     * instruction (an entry probe) belongs to it. */
    if (n0)
        out[0].new_offset = 0;
    return ILHEAP_OK;
}
