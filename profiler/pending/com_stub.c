/* TEMPORARY: until the registry (issue 3) lands, the ilheap allocator is
 * unavailable and every request fails cleanly (the profiler counts it). */
#include "ilheap/com.h"

HRESULT ilheap_GetILFunctionBodyAllocator(uintptr_t moduleId, const void *moduleBase,
                                          size_t imageSize, IMethodMalloc **ppMalloc)
{
    (void)moduleId;
    (void)moduleBase;
    (void)imageSize;
    if (ppMalloc)
        *ppMalloc = NULL;
    return (HRESULT)0x80004001u; /* E_NOTIMPL */
}

HRESULT ilheap_ModuleUnloaded(uintptr_t moduleId)
{
    (void)moduleId;
    return 1; /* S_FALSE: not held */
}
