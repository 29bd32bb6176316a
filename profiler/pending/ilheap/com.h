/* TEMPORARY stand-in for include/ilheap/com.h (issue 3, branch `com`), used
 * only until that header lands on main: the same names and signatures as the
 * issue specifies, so the profiler compiles unchanged against the real one.
 * profiler/CMakeLists.txt puts this directory on the include path only when
 * include/ilheap/com.h does not exist. */
#ifndef ILHEAP_COM_H
#define ILHEAP_COM_H

#include <stddef.h>
#include <stdint.h>

typedef int32_t HRESULT;
typedef uint32_t ULONG;
typedef struct GUID {
    uint32_t Data1;
    uint16_t Data2;
    uint16_t Data3;
    uint8_t Data4[8];
} GUID;

typedef struct IUnknown IUnknown;
typedef struct IUnknownVtbl {
    HRESULT (*QueryInterface)(IUnknown *self, const GUID *riid, void **ppv);
    ULONG (*AddRef)(IUnknown *self);
    ULONG (*Release)(IUnknown *self);
} IUnknownVtbl;
struct IUnknown {
    const IUnknownVtbl *lpVtbl;
};

typedef struct IMethodMalloc IMethodMalloc;
typedef struct IMethodMallocVtbl {
    HRESULT (*QueryInterface)(IMethodMalloc *self, const GUID *riid, void **ppv);
    ULONG (*AddRef)(IMethodMalloc *self);
    ULONG (*Release)(IMethodMalloc *self);
    void *(*Alloc)(IMethodMalloc *self, ULONG cb);
} IMethodMallocVtbl;
struct IMethodMalloc {
    const IMethodMallocVtbl *lpVtbl;
};

HRESULT ilheap_GetILFunctionBodyAllocator(uintptr_t moduleId, const void *moduleBase,
                                          size_t imageSize, IMethodMalloc **ppMalloc);
HRESULT ilheap_ModuleUnloaded(uintptr_t moduleId);

#endif
