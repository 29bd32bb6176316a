/* TEMPORARY stand-in for the registry of issue 3 (branch `com`), deleted when
 * it lands: one heap per ModuleID behind a minimal IMethodMalloc, enough to
 * run the profiler against the real heap in the real runtime meanwhile. No
 * reference counting subtleties: objects live until their module unloads. */
#include "ilheap/com.h"

#include <pthread.h>
#include <stdlib.h>

#include "ilheap/heap.h"

typedef struct stub_malloc {
    IMethodMalloc iface;
    uintptr_t module;
    ilheap_heap_t *heap;
    struct stub_malloc *next;
} stub_malloc_t;

static pthread_mutex_t stub_lock = PTHREAD_MUTEX_INITIALIZER;
static stub_malloc_t *stub_list;

static HRESULT stub_qi(IMethodMalloc *self, const GUID *riid, void **ppv)
{
    (void)riid;
    *ppv = self;
    return 0;
}

static ULONG stub_ref(IMethodMalloc *self)
{
    (void)self;
    return 1;
}

static void *stub_alloc(IMethodMalloc *self, ULONG cb)
{
    return ilheap_heap_alloc(((stub_malloc_t *)self)->heap, cb);
}

static const IMethodMallocVtbl stub_vtbl = {stub_qi, stub_ref, stub_ref, stub_alloc};

HRESULT ilheap_GetILFunctionBodyAllocator(uintptr_t moduleId, const void *moduleBase,
                                          size_t imageSize, IMethodMalloc **ppMalloc)
{
    if (!ppMalloc || !moduleBase)
        return (HRESULT)0x80070057u;
    pthread_mutex_lock(&stub_lock);
    stub_malloc_t *m = stub_list;
    while (m && m->module != moduleId)
        m = m->next;
    if (!m && (m = calloc(1, sizeof *m)) != NULL) {
        if (ilheap_heap_create(moduleBase, imageSize, NULL, &m->heap) != ILHEAP_OK) {
            free(m);
            m = NULL;
        } else {
            m->iface.lpVtbl = &stub_vtbl;
            m->module = moduleId;
            m->next = stub_list;
            stub_list = m;
        }
    }
    pthread_mutex_unlock(&stub_lock);
    *ppMalloc = m ? &m->iface : NULL;
    return m ? 0 : (HRESULT)0x8007000Eu;
}

HRESULT ilheap_ModuleUnloaded(uintptr_t moduleId)
{
    pthread_mutex_lock(&stub_lock);
    stub_malloc_t **pp = &stub_list, *m = NULL;
    while (*pp && (*pp)->module != moduleId)
        pp = &(*pp)->next;
    if (*pp) {
        m = *pp;
        *pp = m->next;
    }
    pthread_mutex_unlock(&stub_lock);
    if (!m)
        return 1;
    ilheap_heap_destroy(m->heap);
    free(m);
    return 0;
}
