/* The IMethodMalloc object: a COM object, written in C, over one heap.
 *
 * Lifetime (see also the top of registry.c):
 * - refs is the COM reference count. The object's own memory (this struct,
 *   plain malloc) lives until the last Release, so a reference that outlives
 *   the module's unload stays safe to call.
 * - active guards the heap. Alloc adds 1 before it reads heap and subtracts 1
 *   after; unload sets ILHEAP__MM_UNLOADED with one atomic OR and then waits
 *   until the count part is 0 before it destroys the heap. Both operations are
 *   read-modify-writes of one word, so they are totally ordered: an Alloc
 *   whose add came first is waited for (its release-subtract synchronizes with
 *   the unloader's acquire load), and an Alloc whose add came later sees the
 *   bit and never reads heap. Heap memory is therefore never touched after it
 *   is released, and the fast path costs two uncontended atomic adds on a line
 *   the object owns, no lock.
 */
#include "com/com_internal.h"

#include <inttypes.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "status_internal.h"

const IID ilheap_IID_IUnknown = ILHEAP_IID_IUNKNOWN_INIT;
const IID ilheap_IID_IMethodMalloc = ILHEAP_IID_IMETHODMALLOC_INIT;

int ilheap_guid_equal(const GUID *a, const GUID *b)
{
    if (a == NULL || b == NULL)
        return 0;
    return a->Data1 == b->Data1 && a->Data2 == b->Data2 && a->Data3 == b->Data3 &&
           memcmp(a->Data4, b->Data4, sizeof a->Data4) == 0;
}

HRESULT ilheap_hresult_from_status(ilheap_status_t status)
{
    switch (status) {
    case ILHEAP_OK:
        return S_OK;
    case ILHEAP_ENOTFOUND:
        return S_FALSE;
    case ILHEAP_EINVAL:
    case ILHEAP_EALIGN:
    case ILHEAP_EWINDOW:
    case ILHEAP_EBASE_MISMATCH:
    case ILHEAP_EFOREIGN:
        return E_INVALIDARG;
    case ILHEAP_ENOMEM:
    case ILHEAP_ENOSPACE:
    case ILHEAP_ETOOBIG:
    case ILHEAP_EOS_RESERVE:
    case ILHEAP_EOS_COMMIT:
        return E_OUTOFMEMORY;
    default:
        return _HRESULT_TYPEDEF_(0x80004005L); /* E_FAIL */
    }
}

/* ------------------------------------------------------------------ the in-flight guard */

/* 1 if the caller may use m->heap until mm_leave; 0 once unloaded. */
static inline int mm_enter(ilheap__mm_t *m)
{
    uint32_t was = atomic_fetch_add_explicit(&m->active, 1, memory_order_acquire);
    if (was & ILHEAP__MM_UNLOADED) {
        atomic_fetch_sub_explicit(&m->active, 1, memory_order_release);
        return 0;
    }
    return 1;
}

static inline void mm_leave(ilheap__mm_t *m)
{
    atomic_fetch_sub_explicit(&m->active, 1, memory_order_release);
}

/* Waits for the in-flight count to drain. An Alloc is short (a bump, or an
 * mmap of a chunk), so spin with yields first, then sleep with backoff. */
static void mm_wait_drained(ilheap__mm_t *m)
{
    unsigned spins = 0;
    long sleep_ns = 1000;
    while ((atomic_load_explicit(&m->active, memory_order_acquire) & ~ILHEAP__MM_UNLOADED) != 0) {
        if (spins < 64) {
            spins++;
            sched_yield();
            continue;
        }
        struct timespec ts = {0, sleep_ns};
        nanosleep(&ts, NULL);
        if (sleep_ns < 1000000)
            sleep_ns *= 2;
    }
}

/* ------------------------------------------------------------------ the vtable */

static HRESULT ILHEAP_STDCALL mm_query_interface(IMethodMalloc *self, const IID *riid, void **ppv);
static ULONG ILHEAP_STDCALL mm_add_ref(IMethodMalloc *self);
static ULONG ILHEAP_STDCALL mm_release(IMethodMalloc *self);
static void *ILHEAP_STDCALL mm_alloc(IMethodMalloc *self, ULONG cb);

/* The table C and C++ callers index. The two words before it are where the
 * C++ ABIs (Itanium and MSVC) keep offset-to-top and the RTTI pointer: a C
 * object has no RTTI, so typeid, dynamic_cast<T*> and UBSan's vptr check
 * cannot work on it (as on any COM object written in C), but they read zeros
 * from this object rather than whatever precedes the table. Read-only; the
 * interface's lpVtbl is not const-qualified (MIDL declares it so without
 * CONST_VTABLE), hence the cast where it is stored. */
static const struct {
    intptr_t offset_to_top;
    const void *type_info;
    IMethodMallocVtbl slots;
} mm_vtable = {0, NULL, {mm_query_interface, mm_add_ref, mm_release, mm_alloc}};

static ilheap__mm_t *mm_from(IMethodMalloc *self)
{
    return (ilheap__mm_t *)self;
}

static HRESULT ILHEAP_STDCALL mm_query_interface(IMethodMalloc *self, const IID *riid, void **ppv)
{
    if (ppv == NULL)
        return E_POINTER;
    if (riid == NULL) {
        *ppv = NULL;
        return E_INVALIDARG;
    }
    if (ilheap_guid_equal(riid, &ilheap_IID_IMethodMalloc) ||
        ilheap_guid_equal(riid, &ilheap_IID_IUnknown)) {
        /* One interface on one object: IUnknown identity is the same pointer. */
        mm_add_ref(self);
        *ppv = self;
        return S_OK;
    }
    *ppv = NULL;
    return E_NOINTERFACE;
}

static ULONG ILHEAP_STDCALL mm_add_ref(IMethodMalloc *self)
{
    return atomic_fetch_add_explicit(&mm_from(self)->refs, 1, memory_order_relaxed) + 1;
}

static ULONG ILHEAP_STDCALL mm_release(IMethodMalloc *self)
{
    ilheap__mm_t *m = mm_from(self);
    /* acq_rel: every earlier use of the object by other threads happens
     * before the free below. */
    uint32_t left = atomic_fetch_sub_explicit(&m->refs, 1, memory_order_acq_rel) - 1;
    if (left == 0) {
        ilheap__mm_unload(m); /* ILHEAP_EUNLOADED when the module went first: fine */
        free(m);
    }
    return left;
}

static void *ILHEAP_STDCALL mm_alloc(IMethodMalloc *self, ULONG cb)
{
    ilheap__mm_t *m = mm_from(self);
    if (!mm_enter(m)) {
        ilheap__fail(ILHEAP_EUNLOADED, "module %#" PRIxPTR ", %u bytes requested", m->module_id,
                     (unsigned)cb);
        return NULL;
    }
    void *p = ilheap_heap_alloc(m->heap, cb);
    mm_leave(m);
    return p;
}

/* ------------------------------------------------------------------ internal API */

ilheap_status_t ilheap__mm_new(ilheap_heap_t *heap, uint32_t flags, uintptr_t module_id,
                               const void *base, ilheap__mm_t **out)
{
    /* A cache line of its own: active is written by every Alloc, and must not
     * share a line with a neighbouring module's object. */
    size_t size = (sizeof(ilheap__mm_t) + 63) & ~(size_t)63;
    ilheap__mm_t *m = aligned_alloc(64, size);
    if (m == NULL)
        return ilheap__fail(ILHEAP_ENOMEM, "allocator object for module %#" PRIxPTR, module_id);
    memset(m, 0, size);
    m->iface.lpVtbl = (IMethodMallocVtbl *)&mm_vtable.slots;
    atomic_init(&m->active, 0);
    atomic_init(&m->refs, 1);
    m->heap = heap;
    m->flags = flags;
    m->module_id = module_id;
    m->base = base;
    *out = m;
    return ILHEAP_OK;
}

ilheap_status_t ilheap__mm_unload(ilheap__mm_t *m)
{
    uint32_t was = atomic_fetch_or_explicit(&m->active, ILHEAP__MM_UNLOADED, memory_order_acq_rel);
    if (was & ILHEAP__MM_UNLOADED)
        return ILHEAP_EUNLOADED;
    mm_wait_drained(m);
    /* No thread is inside the heap and none can enter: it is ours alone. */
    if (m->flags & ILHEAP_MM_OWNS_HEAP)
        ilheap_heap_destroy(m->heap);
    /* m->heap keeps its (now dangling) value: it is written only at creation,
     * so readers never race with a write, and nobody reads it once the bit
     * is set. */
    return ILHEAP_OK;
}

ilheap_status_t ilheap__mm_stats(ilheap__mm_t *m, ilheap_heap_stats_t *out)
{
    if (!mm_enter(m))
        return ILHEAP_EUNLOADED;
    ilheap_status_t status = ilheap_heap_stats(m->heap, out);
    mm_leave(m);
    return status;
}

void ilheap__mm_addref(ilheap__mm_t *m)
{
    mm_add_ref(&m->iface);
}

void ilheap__mm_release(ilheap__mm_t *m)
{
    mm_release(&m->iface);
}

/* ------------------------------------------------------------------ public API */

int ilheap_method_malloc_is_ilheap(const IMethodMalloc *m)
{
    return m != NULL && m->lpVtbl == &mm_vtable.slots;
}

ilheap_status_t ilheap_method_malloc_create(ilheap_heap_t *heap, uint32_t flags, IMethodMalloc **out)
{
    if (out == NULL)
        return ilheap__fail(ILHEAP_EINVAL, "NULL out-pointer");
    *out = NULL;
    if (heap == NULL)
        return ilheap__fail(ILHEAP_EINVAL, "NULL heap");
    if (flags & ~(uint32_t)ILHEAP_MM_OWNS_HEAP)
        return ilheap__fail(ILHEAP_EINVAL, "unknown flags %#x", (unsigned)flags);
    ilheap__mm_t *m;
    ilheap_status_t status = ilheap__mm_new(heap, flags, 0, ilheap_heap_base(heap), &m);
    if (status == ILHEAP_OK)
        *out = &m->iface;
    return status;
}

ilheap_status_t ilheap_method_malloc_unload(IMethodMalloc *m)
{
    if (!ilheap_method_malloc_is_ilheap(m))
        return ilheap__fail(ILHEAP_EFOREIGN, "%p", (void *)m);
    return ilheap__mm_unload(mm_from(m));
}

void *ilheap_method_malloc_alloc(IMethodMalloc *m, ULONG cb)
{
    return mm_alloc(m, cb);
}

ilheap_status_t ilheap_method_malloc_stats(IMethodMalloc *m, ilheap_heap_stats_t *out)
{
    if (out == NULL)
        return ilheap__fail(ILHEAP_EINVAL, "NULL out-pointer");
    if (!ilheap_method_malloc_is_ilheap(m))
        return ilheap__fail(ILHEAP_EFOREIGN, "%p", (void *)m);
    return ilheap__mm_stats(mm_from(m), out);
}

ilheap_heap_t *ilheap_method_malloc_heap(IMethodMalloc *m)
{
    if (!ilheap_method_malloc_is_ilheap(m))
        return NULL;
    ilheap__mm_t *mm = mm_from(m);
    if (atomic_load_explicit(&mm->active, memory_order_acquire) & ILHEAP__MM_UNLOADED)
        return NULL;
    return mm->heap;
}

ULONG ilheap_method_malloc_refcount(IMethodMalloc *m)
{
    if (!ilheap_method_malloc_is_ilheap(m))
        return 0;
    return atomic_load_explicit(&mm_from(m)->refs, memory_order_relaxed);
}
