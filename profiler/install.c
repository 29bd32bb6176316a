/* The two steps every rewriting mode shares: a block of exactly the new
 * body's size from the module's allocator (timed, counted), and installing
 * the written body with SetILFunctionBody (its window checked first). A
 * ReJIT body (view->control) is written to a buffer of this thread's and
 * handed to ICorProfilerFunctionControl::SetILFunctionBody, which copies it.
 * Then the IL offset map of a body from the rewriter. */
#include "profiler.h"

#include <stdlib.h>

#include "ilheap/com.h"
#include "ilheap/status.h"
#include "os.h"

uint8_t *prof_install_alloc(ModuleID mod, const prof_module_view_t *view, size_t size,
                            int *fallback, prof_skip_t *why)
{
    *fallback = 0;
    if (size == 0 || size > UINT32_MAX) {
        *why = PROF_SKIP_encode;
        return NULL;
    }
    if (view->control) {
        uint8_t *buf = prof_rejit_buffer(size);
        if (!buf)
            *why = PROF_SKIP_alloc_failed;
        return buf;
    }
    uint64_t t0 = prof_os_now_ns();
    uint8_t *p = view->malloc->lpVtbl->Alloc(view->malloc, (ULONG)size);
    uint64_t t1 = prof_os_now_ns();
    if (!p) {
        atomic_fetch_add(&view->stats->allocs_failed, 1);
        int status = (int)ilheap_last_status();
        atomic_store(&view->stats->last_failure, status);
        *why = PROF_SKIP_alloc_failed;
        /* A full window: the runtime places bodies anywhere (CoreCLR keeps a
         * pointer, not an RVA), so counting goes on, outside the contract. */
        IMethodMalloc *rt = status == ILHEAP_ENOSPACE && prof_g.config.fallback
                                ? prof_modules_fallback(view, mod)
                                : NULL;
        if (rt && (p = rt->lpVtbl->Alloc(rt, (ULONG)size)) != NULL) {
            *fallback = 1;
            atomic_fetch_add(&prof_g.counters.bodies_fallback, 1);
        }
        return p;
    }
    int first = atomic_fetch_add(&view->stats->allocs_ok, 1) == 0;
    prof_report_alloc(t1 - t0, size, first);
    return p;
}

int prof_install_set(ModuleID mod, mdMethodDef tok, const prof_module_view_t *view,
                     const uint8_t *p, size_t size, int fallback, prof_skip_t *why)
{
    HRESULT hr;
    if (view->control) {
        hr = view->control->lpVtbl->SetILFunctionBody(view->control, (ULONG)size, p);
    } else {
        if (!fallback)
            prof_report_window(view->base, p, size);
        hr = prof_g.info->lpVtbl->SetILFunctionBody(prof_g.info, mod, tok, p);
    }
    if (CLR_FAILED(hr)) {
        *why = PROF_SKIP_set_failed;
        return -1;
    }
    atomic_fetch_add(&prof_g.counters.rewritten, 1);
    return 0;
}

/* The map of the last encode in s's buffer; NULL without memory. */
static COR_IL_MAP *il_map(prof_scratch_t *s, size_t *n)
{
    if (ilheap_rw_il_map(s->rw, NULL, 0, n) != ILHEAP_IL_DEST_TOO_SMALL && *n != 0)
        return NULL;
    if (*n > s->map_cap) {
        ilheap_rw_il_map_t *m = realloc(s->map, *n * sizeof *m);
        if (!m)
            return NULL;
        s->map = m;
        s->map_cap = *n;
    }
    if (ilheap_rw_il_map(s->rw, s->map, s->map_cap, n) != ILHEAP_OK || *n > UINT32_MAX)
        return NULL;
    /* ilheap_rw_il_map_t has COR_IL_MAP's layout (rewrite.h; checked below). */
    return (COR_IL_MAP *)(void *)s->map;
}

static_assert(sizeof(ilheap_rw_il_map_t) == sizeof(COR_IL_MAP) &&
                  offsetof(ilheap_rw_il_map_t, new_offset) == offsetof(COR_IL_MAP, newOffset) &&
                  offsetof(ilheap_rw_il_map_t, accurate) == offsetof(COR_IL_MAP, fAccurate),
              "COR_IL_MAP");

void prof_install_map(const prof_module_view_t *view, FunctionID fid, prof_scratch_t *s)
{
    size_t n = 0;
    COR_IL_MAP *map = il_map(s, &n);
    HRESULT hr = CLR_E_OUTOFMEMORY;
    if (map && view->control)
        hr = view->control->lpVtbl->SetILInstrumentedCodeMap(view->control, (ULONG)n, map);
    else if (map && fid)
        hr = prof_g.info->lpVtbl->SetILInstrumentedCodeMap(prof_g.info, fid, 1, (ULONG)n, map);
    else if (map)
        hr = CLR_E_INVALIDARG; /* neither a FunctionID nor ReJIT: nothing to attach it to */
    if (CLR_FAILED(hr)) {
        atomic_fetch_add(&prof_g.counters.il_maps_failed, 1);
        atomic_store(&prof_g.counters.il_map_error, (uint32_t)hr);
    } else {
        atomic_fetch_add(&prof_g.counters.il_maps_set, 1);
    }
}
