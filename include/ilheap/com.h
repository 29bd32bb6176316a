/* ilheap/com.h: IMethodMalloc for CLR profilers, and the ModuleID registry.
 *
 * The COM ABI a profiler needs, in plain C, with no Windows SDK and no CLR
 * header: GUID, IID, HRESULT (32-bit), ULONG (32-bit everywhere, also on LP64
 * Linux), the IUnknown and IMethodMalloc interfaces, the IIDs and the few
 * HRESULT codes ilheap returns.
 *
 * Coexistence. Every name that the real headers (windows.h / guiddef.h /
 * unknwn.h / CorProf.h, or the CoreCLR PAL's pal_mstypes.h / palrt.h /
 * unknwn.h / corprof.h) also define is guarded by the guard macro those
 * headers use (GUID_DEFINED, __IID_DEFINED__, _HRESULT_DEFINED,
 * __IUnknown_INTERFACE_DEFINED__, __IMethodMalloc_INTERFACE_DEFINED__, ...),
 * or, where they use none (the PAL's HRESULT and ULONG typedefs, S_OK & co.),
 * defined with exactly the same type or replacement text, which C11 and C++
 * accept as a redefinition. So this header may come before or after them in
 * one translation unit. Those guard names begin with underscores because the
 * system headers chose them; ilheap's own names never do. Mixing with the real
 * headers needs C11 or C++ (C99 forbids a repeated typedef).
 *
 * Layout. In C (or C++ with CINTERFACE) an interface is a struct whose only
 * member is lpVtbl, as MIDL generates it. In C++ IUnknown and IMethodMalloc
 * are abstract classes with pure virtual methods, exactly as CorProf.h declares
 * them, so a C++ profiler calls m->Alloc(cb). Both views describe the same
 * object: a pointer to a table of QueryInterface, AddRef, Release, Alloc.
 *
 * IIDs. Like MIDL's headers, this one only declares IID_IUnknown and
 * IID_IMethodMalloc (the CLR's corprof_i.c, uuid.lib or a profiler's own code
 * may define them, and two definitions would not link). Define
 * ILHEAP_DEFINE_IIDS in exactly one source file before including this header
 * to get the definitions there (the INITGUID idiom). ilheap_IID_IUnknown and
 * ilheap_IID_IMethodMalloc are always defined by the library.
 */
#ifndef ILHEAP_COM_H
#define ILHEAP_COM_H

#include <stddef.h>
#include <stdint.h>

#include "ilheap/export.h"
#include "ilheap/heap.h"
#include "ilheap/status.h"

/* On Windows with an SDK (MSVC's or mingw-w64's), the system's own GUID, IID,
 * HRESULT, ULONG and IUnknown are used: its guiddef.h and unknwnbase.h define
 * more under the very guards below (CLSID, REFIID and REFGUID under
 * __IID_DEFINED__; LPUNKNOWN and __uuidof support under
 * __IUnknown_INTERFACE_DEFINED__), so definitions made here first would hide
 * those from a windows.h included later. Without an SDK (a freestanding
 * compile) this header defines them itself. */
#if defined(_WIN32) && defined(__has_include)
#if __has_include(<unknwn.h>)
#include <unknwn.h>
#endif
#endif

/* ------------------------------------------------------------------ calling convention
 * COM methods are __stdcall on 32-bit Windows and use the platform's default
 * convention everywhere else (the PAL defines STDMETHODCALLTYPE as __cdecl,
 * which is the default on Linux x86 too). STDMETHODCALLTYPE itself is left to
 * the system headers: the PAL defines it without a guard. */
#if defined(_WIN32) && !defined(_WIN64) && (defined(_M_IX86) || defined(__i386__))
#define ILHEAP_STDCALL __stdcall
#else
#define ILHEAP_STDCALL
#endif

#ifdef __cplusplus
#define ILHEAP_EXTERN_C extern "C"
#else
#define ILHEAP_EXTERN_C extern
#endif

/* ------------------------------------------------------------------ base types
 * HRESULT and ULONG are 32-bit everywhere. Windows spells them long and
 * unsigned long (32-bit on LLP64); the PAL spells them int and unsigned int
 * (pal_mstypes.h: "diff from windows.h, for LP64 compat"). The same spelling
 * as the system's makes a repeated typedef legal. */
#if defined(_WIN32)
#ifndef _HRESULT_DEFINED
#define _HRESULT_DEFINED
typedef long HRESULT;
#endif
typedef unsigned long ULONG;
#else
typedef int HRESULT;
typedef unsigned int ULONG;
#endif

#ifndef GUID_DEFINED
#define GUID_DEFINED
/* The tag is _GUID as in guiddef.h and pal_mstypes.h: C++ name mangling and
 * forward declarations (struct _GUID) must see the same type. */
typedef struct _GUID {
    ULONG Data1;
    unsigned short Data2;
    unsigned short Data3;
    unsigned char Data4[8];
} GUID;
#endif

#ifndef __IID_DEFINED__
#define __IID_DEFINED__
typedef GUID IID;
#endif

/* ------------------------------------------------------------------ HRESULT codes
 * Guarded by #ifndef, and otherwise spelled exactly as the system spells
 * them (palrt.h on Unix, winerror.h on Windows), so that a later definition
 * by those headers is an identical redefinition, not a conflicting one. */
#ifndef _HRESULT_TYPEDEF_
#define _HRESULT_TYPEDEF_(_sc) ((HRESULT)_sc)
#endif
#if defined(_WIN32)
#ifndef S_OK
#define S_OK ((HRESULT)0L)
#endif
#ifndef S_FALSE
#define S_FALSE ((HRESULT)1L)
#endif
#else
#ifndef S_OK
#define S_OK _HRESULT_TYPEDEF_(0x00000000L)
#endif
#ifndef S_FALSE
#define S_FALSE _HRESULT_TYPEDEF_(0x00000001L)
#endif
#endif
#ifndef E_NOINTERFACE
#define E_NOINTERFACE _HRESULT_TYPEDEF_(0x80004002L)
#endif
#ifndef E_POINTER
#define E_POINTER _HRESULT_TYPEDEF_(0x80004003L)
#endif
#ifndef E_OUTOFMEMORY
#define E_OUTOFMEMORY _HRESULT_TYPEDEF_(0x8007000EL)
#endif
#ifndef E_INVALIDARG
#define E_INVALIDARG _HRESULT_TYPEDEF_(0x80070057L)
#endif

/* ------------------------------------------------------------------ interfaces */
#ifndef __IUnknown_FWD_DEFINED__
#define __IUnknown_FWD_DEFINED__
typedef struct IUnknown IUnknown;
#endif

#ifndef __IMethodMalloc_FWD_DEFINED__
#define __IMethodMalloc_FWD_DEFINED__
typedef struct IMethodMalloc IMethodMalloc;
#endif

/* MSVC's COM extensions: __uuidof() and no vtable emitted for the abstract
 * classes, as MIDL_INTERFACE gives them. Elsewhere nothing. */
#if defined(_MSC_VER) && defined(__cplusplus)
#define ILHEAP_COM_INTERFACE(iid) struct __declspec(uuid(iid)) __declspec(novtable)
#else
#define ILHEAP_COM_INTERFACE(iid) struct
#endif

/* IUnknown: 00000000-0000-0000-C000-000000000046 */
#ifndef __IUnknown_INTERFACE_DEFINED__
#define __IUnknown_INTERFACE_DEFINED__
ILHEAP_EXTERN_C const IID IID_IUnknown;
#if defined(__cplusplus) && !defined(CINTERFACE)
ILHEAP_COM_INTERFACE("00000000-0000-0000-C000-000000000046") IUnknown
{
public:
    virtual HRESULT ILHEAP_STDCALL QueryInterface(const IID &riid, void **ppvObject) = 0;
    virtual ULONG ILHEAP_STDCALL AddRef(void) = 0;
    virtual ULONG ILHEAP_STDCALL Release(void) = 0;
};
#else
typedef struct IUnknownVtbl {
    HRESULT(ILHEAP_STDCALL *QueryInterface)(IUnknown *This, const IID *riid, void **ppvObject);
    ULONG(ILHEAP_STDCALL *AddRef)(IUnknown *This);
    ULONG(ILHEAP_STDCALL *Release)(IUnknown *This);
} IUnknownVtbl;
struct IUnknown {
    struct IUnknownVtbl *lpVtbl;
};
#endif
#endif /* __IUnknown_INTERFACE_DEFINED__ */

/* IMethodMalloc: A0EFB28B-6EE2-4D7B-B983-A75EF7BEEDB8. Slots: 0 QueryInterface,
 * 1 AddRef, 2 Release, 3 Alloc. */
#ifndef __IMethodMalloc_INTERFACE_DEFINED__
#define __IMethodMalloc_INTERFACE_DEFINED__
ILHEAP_EXTERN_C const IID IID_IMethodMalloc;
#if defined(__cplusplus) && !defined(CINTERFACE)
ILHEAP_COM_INTERFACE("A0EFB28B-6EE2-4D7B-B983-A75EF7BEEDB8") IMethodMalloc : public IUnknown
{
public:
    virtual void *ILHEAP_STDCALL Alloc(ULONG cb) = 0;
};
#else
typedef struct IMethodMallocVtbl {
    HRESULT(ILHEAP_STDCALL *QueryInterface)(IMethodMalloc *This, const IID *riid, void **ppvObject);
    ULONG(ILHEAP_STDCALL *AddRef)(IMethodMalloc *This);
    ULONG(ILHEAP_STDCALL *Release)(IMethodMalloc *This);
    void *(ILHEAP_STDCALL *Alloc)(IMethodMalloc *This, ULONG cb);
} IMethodMallocVtbl;
struct IMethodMalloc {
    struct IMethodMallocVtbl *lpVtbl;
};
#endif
#endif /* __IMethodMalloc_INTERFACE_DEFINED__ */

#define ILHEAP_IID_IUNKNOWN_INIT {0x00000000, 0x0000, 0x0000, {0xC0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x46}}
#define ILHEAP_IID_IMETHODMALLOC_INIT {0xA0EFB28B, 0x6EE2, 0x4D7B, {0xB9, 0x83, 0xA7, 0x5E, 0xF7, 0xBE, 0xED, 0xB8}}

/* The INITGUID idiom: one translation unit of the program defines the IIDs.
 * (In C++ a namespace-scope const needs extern "C" to have external linkage.) */
#if defined(ILHEAP_DEFINE_IIDS) && !defined(ILHEAP_IIDS_DEFINED)
#define ILHEAP_IIDS_DEFINED
#ifdef __cplusplus
extern "C" {
extern const IID IID_IUnknown = ILHEAP_IID_IUNKNOWN_INIT;
extern const IID IID_IMethodMalloc = ILHEAP_IID_IMETHODMALLOC_INIT;
}
#else
const IID IID_IUnknown = ILHEAP_IID_IUNKNOWN_INIT;
const IID IID_IMethodMalloc = ILHEAP_IID_IMETHODMALLOC_INIT;
#endif
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* Always defined by the library, under names nobody else uses. */
ILHEAP_API extern const IID ilheap_IID_IUnknown;
ILHEAP_API extern const IID ilheap_IID_IMethodMalloc;

/* 1 when the two GUIDs are equal (either may be NULL: then 0). */
ILHEAP_API int ilheap_guid_equal(const GUID *a, const GUID *b);

/* The HRESULT a profiler should see for an ilheap status: S_OK,
 * E_INVALIDARG (EINVAL, EALIGN, EWINDOW), E_OUTOFMEMORY (ENOMEM and the
 * heap's out-of-space codes), S_FALSE (ENOTFOUND); anything else E_FAIL-like
 * 0x80004005. */
ILHEAP_API HRESULT ilheap_hresult_from_status(ilheap_status_t status);

/* ================================================================== the profiler's entry points
 * Both use one process-wide registry (ilheap_registry_global()).
 *
 * ilheap_GetILFunctionBodyAllocator behaves like
 * ICorProfilerInfo::GetILFunctionBodyAllocator: the allocator of module
 * moduleId, whose blocks lie at a positive offset from moduleBase inside the
 * heap window. The first call for a module creates its heap (imageSize is the
 * module's size in memory, 0 if unknown: the heap starts above the image);
 * every later call returns the same object, also when many threads make the
 * first call at once. *ppMalloc receives one reference the caller owns (call
 * Release). Returns S_OK; E_INVALIDARG for a NULL ppMalloc, a NULL
 * moduleBase, a moduleId of 0, or a moduleBase other than the one the module
 * was registered with (a module ID reused without ilheap_ModuleUnloaded:
 * handing out memory relative to the old base would break its RVAs);
 * E_OUTOFMEMORY. On failure *ppMalloc (if not NULL) is set to NULL and
 * ilheap_last_message() says why.
 *
 * ilheap_ModuleUnloaded releases the module's heap: all of its memory, at
 * once. References to the allocator that callers still hold stay valid: Alloc
 * then returns NULL (ilheap_last_status() == ILHEAP_EUNLOADED) and Release
 * frees the object when the last one goes. Waits for Alloc calls already in
 * progress on that module to return. Returns S_OK, or S_FALSE for a module it
 * does not hold (never seen, or already unloaded). The next
 * ilheap_GetILFunctionBodyAllocator for the same ID makes a new module: the
 * runtime reuses addresses. */
ILHEAP_API HRESULT ilheap_GetILFunctionBodyAllocator(uintptr_t moduleId, const void *moduleBase,
                                                     size_t imageSize, IMethodMalloc **ppMalloc);
ILHEAP_API HRESULT ilheap_ModuleUnloaded(uintptr_t moduleId);

/* ================================================================== one allocator object
 * An IMethodMalloc over one heap, without the registry. */

/* ilheap_method_malloc_create flags */
enum {
    /* The object destroys the heap when it is unloaded or freed. */
    ILHEAP_MM_OWNS_HEAP = 1u << 0,
};

/* Creates an object over heap with one reference (the caller's). Returns
 * ILHEAP_OK, ILHEAP_EINVAL (NULL heap or out, unknown flag) or ILHEAP_ENOMEM
 * (then an owned heap is not destroyed: it is still the caller's). */
ILHEAP_API ilheap_status_t ilheap_method_malloc_create(ilheap_heap_t *heap, uint32_t flags,
                                                      IMethodMalloc **out);

/* Cuts the object off its heap: waits for Alloc calls in progress to return,
 * then makes every later Alloc return NULL (ILHEAP_EUNLOADED), and destroys the
 * heap if the object owns it; otherwise the caller may destroy the heap once
 * this returns. References stay valid. Returns ILHEAP_OK, ILHEAP_EUNLOADED if
 * it was already unloaded, ILHEAP_EINVAL for NULL or a foreign object. */
ILHEAP_API ilheap_status_t ilheap_method_malloc_unload(IMethodMalloc *m);

/* The same as m->lpVtbl->Alloc(m, cb), as a direct call. */
ILHEAP_API void *ilheap_method_malloc_alloc(IMethodMalloc *m, ULONG cb);

/* 1 if m is an ilheap allocator (its vtable is ilheap's), else 0. */
ILHEAP_API int ilheap_method_malloc_is_ilheap(const IMethodMalloc *m);

/* The statistics of the object's heap, read safely against a concurrent
 * unload. ILHEAP_OK, ILHEAP_EUNLOADED, or ILHEAP_EINVAL. */
ILHEAP_API ilheap_status_t ilheap_method_malloc_stats(IMethodMalloc *m, ilheap_heap_stats_t *out);

/* The heap behind the object (NULL for a foreign object or after unload).
 * The pointer is valid only until the module is unloaded: prefer
 * ilheap_method_malloc_stats, which cannot race with the unload. */
ILHEAP_API ilheap_heap_t *ilheap_method_malloc_heap(IMethodMalloc *m);

/* The reference count (for tests and diagnostics; racy by nature). */
ILHEAP_API ULONG ilheap_method_malloc_refcount(IMethodMalloc *m);

/* ================================================================== the registry
 * ModuleID -> the module's allocator. Thread-safe. Lookups take a shared
 * (read) lock; the first call for a module and unloads take it exclusively;
 * IMethodMalloc::Alloc never touches the registry. */
typedef struct ilheap_registry ilheap_registry_t;

/* The tag differs from the function name ilheap_registry_stats: in C++ a
 * function named like a struct "hides its constructor" (-Wshadow). */
typedef struct ilheap_registry_stats_s {
    uint64_t live_modules;     /* modules registered and not unloaded */
    uint64_t live_heaps;       /* heaps not yet destroyed (an unload in progress counts) */
    uint64_t heaps_created;    /* heaps made since the registry was created */
    uint64_t modules_unloaded; /* successful unloads */
    uint64_t blocks;           /* sums over the live modules' heaps: */
    uint64_t bytes_requested;
    uint64_t bytes_used;
    uint64_t bytes_reserved;
    uint64_t bytes_committed;
    uint64_t blocks_beyond_2gib; /* blocks ending past base + ILHEAP_STRICT_WINDOW */
    uint64_t table_capacity;   /* slots in the hash table */
} ilheap_registry_stats_t;

/* heap_options (NULL for the defaults) apply to every heap the registry makes.
 * Returns ILHEAP_OK, ILHEAP_EINVAL, ILHEAP_EWINDOW, ILHEAP_EALIGN, ILHEAP_ENOMEM. */
ILHEAP_API ilheap_status_t ilheap_registry_create(const ilheap_heap_options_t *heap_options,
                                                  ilheap_registry_t **out);

/* Unloads every module, then frees the registry (NULL: no-op). Must not race
 * with other calls on the registry. For the process-wide registry it only
 * unloads every module; the registry stays usable. */
ILHEAP_API void ilheap_registry_destroy(ilheap_registry_t *registry);

/* The process-wide registry used by the two entry points above. */
ILHEAP_API ilheap_registry_t *ilheap_registry_global(void);

/* Sets the options of heaps made from now on (existing heaps keep theirs).
 * Validated at once: ILHEAP_OK, ILHEAP_EINVAL, ILHEAP_EWINDOW, ILHEAP_EALIGN. */
ILHEAP_API ilheap_status_t ilheap_registry_set_heap_options(ilheap_registry_t *registry,
                                                            const ilheap_heap_options_t *options);

/* The registry form of ilheap_GetILFunctionBodyAllocator, with a status:
 * ILHEAP_OK, ILHEAP_EINVAL (see above), ILHEAP_ENOMEM, or a heap creation
 * error. On success *out holds one reference the caller owns. */
ILHEAP_API ilheap_status_t ilheap_registry_get_allocator(ilheap_registry_t *registry,
                                                         uintptr_t module_id,
                                                         const void *module_base,
                                                         size_t image_size, IMethodMalloc **out);

/* The registry form of ilheap_ModuleUnloaded: ILHEAP_OK, or ILHEAP_ENOTFOUND
 * for a module it does not hold. */
ILHEAP_API ilheap_status_t ilheap_registry_unload(ilheap_registry_t *registry, uintptr_t module_id);

/* Unloads every module; *count (may be NULL) receives how many. */
ILHEAP_API ilheap_status_t ilheap_registry_unload_all(ilheap_registry_t *registry, size_t *count);

ILHEAP_API ilheap_status_t ilheap_registry_stats(ilheap_registry_t *registry,
                                                 ilheap_registry_stats_t *out);

#ifdef __cplusplus
}
#endif

#endif /* ILHEAP_COM_H */
