/* Compiled (not run) for other targets by clang, freestanding, to check
 * com.h where this machine cannot run code: 32- and 64-bit Windows (LLP64,
 * __stdcall on x86), i686 and aarch64 Linux. With EXPECT_MISMATCH it must
 * fail to compile on 32-bit Windows: a __cdecl function in a __stdcall slot. */
#include "ilheap/com.h"

_Static_assert(sizeof(ULONG) == 4, "ULONG is 32-bit");
_Static_assert(sizeof(HRESULT) == 4, "HRESULT is 32-bit");
_Static_assert(sizeof(GUID) == 16, "GUID is 16 bytes");
_Static_assert(sizeof(IMethodMallocVtbl) == 4 * sizeof(void *), "four slots");
_Static_assert(sizeof(IMethodMalloc) == sizeof(void *), "only the vtable pointer");

static void *ILHEAP_STDCALL alloc_slot(IMethodMalloc *m, ULONG cb)
{
    (void)m, (void)cb;
    return 0;
}
void *(ILHEAP_STDCALL *header_targets_slot)(IMethodMalloc *, ULONG) = alloc_slot;

#ifdef EXPECT_MISMATCH
static void *cdecl_function(IMethodMalloc *m, ULONG cb)
{
    (void)m, (void)cb;
    return 0;
}
void *(ILHEAP_STDCALL *header_targets_wrong)(IMethodMalloc *, ULONG) = cdecl_function;
#endif
