/* The IMethodMalloc object: a COM object, written in C, over one heap.
 *
 * Lifetime (see also the top of registry.c):
 * - refs is the COM reference count. The object's own memory (this struct,
 *   on a cache line of its own from ilheap__mem_alloc_aligned) lives until
 *   the last Release, so a reference that outlives the module's unload stays
 *   safe to call.
 * - The heap is guarded by the in-flight guard below: Alloc announces which
 *   object's heap it is about to use in a per-thread record, then checks the
 *   object's UNLOADED bit; unload sets the bit, then waits until no thread's
 *   record names the object, and only then destroys the heap. Heap memory is
 *   therefore never touched after it is released.
 * - Cost: one locked instruction (xchg) and a store on the thread's own
 *   record, plus a read of the object; nothing shared is written, so threads
 *   allocating from one module do not contend on the guard (docs/com.md has
 *   the figures and the design it replaced).
 */
#include "com/com_internal.h"

#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <string.h>
#include <time.h>

#include "os/memory.h"
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

/* ------------------------------------------------------------------ the in-flight guard
 *
 * Each thread that calls Alloc owns a record whose `inside` names the object
 * whose heap it is using (NULL otherwise). Enter: store inside = m, then read
 * m's UNLOADED bit. Unload: set the bit, then read every record's `inside`.
 * This is Dekker's pattern, and all four operations are seq_cst, so they
 * fall in one total order: either the Alloc sees the bit (and backs out
 * without touching the heap) or the unloader sees inside == m and waits until
 * that thread stores NULL (release; the unloader's acquire load makes the
 * Alloc's heap accesses happen before the destroy). Seq_cst operations rather
 * than relaxed ones plus fences: the same code on x86 (one xchg), and
 * ThreadSanitizer understands them. No shared line is written by Alloc: threads allocating from one
 * module do not contend on the guard. Records are never freed; a thread's
 * record is reused by a later thread once it exits. */

typedef struct mm_thread {
    _Atomic(ilheap__mm_t *) inside; /* (64-byte records: see register_thread) */
    _Atomic int taken;
    struct mm_thread *next; /* written once, before the record is published */
} mm_thread_t;

_Static_assert(sizeof(mm_thread_t) <= 64, "a guard record fits its cache line");

static pthread_mutex_t threads_lock = PTHREAD_MUTEX_INITIALIZER;
/* Grows at the head under threads_lock (which only registration and
 * counting take); read without it by mm_wait_drained. */
static mm_thread_t *_Atomic threads;
static _Thread_local mm_thread_t *this_thread;
static pthread_once_t thread_key_once = PTHREAD_ONCE_INIT;
static pthread_key_t thread_key;
static int thread_key_ok;

/* Runs in the exiting thread. this_thread is cleared first: should another
 * destructor of this thread call Alloc afterwards, it registers anew rather
 * than share a record that another thread may already have taken. */
static void thread_exit(void *record)
{
    this_thread = NULL;
    /* release: this thread's last uses of the record happen before another thread acquires taken == 0
     * and reuses it. */
    atomic_store_explicit(&((mm_thread_t *)record)->taken, 0, memory_order_release);
}

size_t ilheap__mm_thread_records(void)
{
    size_t n = 0;
    pthread_mutex_lock(&threads_lock);
    /* relaxed: under threads_lock, the only writer of the head. */
    for (mm_thread_t *t = atomic_load_explicit(&threads, memory_order_relaxed); t != NULL; t = t->next)
        n++;
    pthread_mutex_unlock(&threads_lock);
    return n;
}

static void make_thread_key(void)
{
    thread_key_ok = pthread_key_create(&thread_key, thread_exit) == 0;
}

/* The calling thread's record, made or reused on its first Alloc. */
static mm_thread_t *register_thread(void)
{
    pthread_once(&thread_key_once, make_thread_key);
    if (!thread_key_ok)
        return NULL;
    pthread_mutex_lock(&threads_lock);
    /* head relaxed: under threads_lock; taken acquire: pairs with thread_exit's release before a record
     * is reused. */
    mm_thread_t *t = atomic_load_explicit(&threads, memory_order_relaxed);
    while (t != NULL && atomic_load_explicit(&t->taken, memory_order_acquire))
        t = t->next;
    /* A cache line per record: `inside` is written by every Alloc of its
     * thread and must not share a line with another thread's record. */
    if (t == NULL && (t = ilheap__mem_alloc_aligned(64, 64)) != NULL) {
        memset(t, 0, 64);
        t->next = atomic_load_explicit(&threads, memory_order_relaxed);
        /* seq_cst: see mm_wait_drained, which walks the list unlocked. */
        atomic_store_explicit(&threads, t, memory_order_seq_cst);
    }
    if (t != NULL) {
        /* relaxed (taken): under threads_lock, the only place that sets it. */
        atomic_store_explicit(&t->taken, 1, memory_order_relaxed);
        if (pthread_setspecific(thread_key, t) != 0) {
            atomic_store_explicit(&t->taken, 0, memory_order_relaxed);
            t = NULL;
        }
    }
    pthread_mutex_unlock(&threads_lock);
    this_thread = t;
    return t;
}

/* ILHEAP_OK if the caller may use m->heap until mm_leave; ILHEAP_EUNLOADED
 * once unloaded; ILHEAP_ENOMEM if the thread's record could not be made. */
static inline ilheap_status_t mm_enter(ilheap__mm_t *m, mm_thread_t **out)
{
    mm_thread_t *t = this_thread;
    if (t == NULL && (t = register_thread()) == NULL)
        return ILHEAP_ENOMEM;
    /* seq_cst store of inside, then seq_cst load of state: with ilheap__mm_unload's seq_cst fetch_or
     * and load of inside, one side always sees the other (Dekker). */
    atomic_store_explicit(&t->inside, m, memory_order_seq_cst);
    if (atomic_load_explicit(&m->state, memory_order_seq_cst) & ILHEAP__MM_UNLOADED) {
        /* relaxed: we did not touch the heap, so there is nothing to publish. */
        atomic_store_explicit(&t->inside, NULL, memory_order_relaxed);
        return ILHEAP_EUNLOADED;
    }
    *out = t;
    return ILHEAP_OK;
}

static inline void mm_leave(mm_thread_t *t)
{
    /* release: our use of the heap happens before the unloading thread sees inside != m and destroys
     * it. */
    atomic_store_explicit(&t->inside, NULL, memory_order_release);
}

/* Waits until no thread is inside m. An Alloc is short (a bump, or an mmap
 * of a chunk), so spin with yields first, then sleep with backoff. No lock is
 * held: records are never freed and `next` never changes once published, so
 * the list can be walked while other threads register or unload. A record
 * published after the head is read cannot name m: its thread stores
 * `inside` after publishing (both seq_cst, as is the head load here), so if
 * that store preceded our setting of the UNLOADED bit, the publication did
 * too and the walk sees it; if it followed, the thread sees the bit and
 * backs out. */
static void mm_wait_drained(ilheap__mm_t *m)
{
    for (mm_thread_t *t = atomic_load_explicit(&threads, memory_order_seq_cst); t != NULL; t = t->next) {
        unsigned spins = 0;
        long sleep_ns = 1000;
        while (atomic_load_explicit(&t->inside, memory_order_seq_cst) == m) {
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
    /* relaxed: the caller already holds a reference, so the object cannot go; the release path orders
     * the free. */
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
        ilheap__mem_free_aligned(m);
    }
    return left;
}

static void *ILHEAP_STDCALL mm_alloc(IMethodMalloc *self, ULONG cb)
{
    ilheap__mm_t *m = mm_from(self);
    mm_thread_t *t;
    ilheap_status_t status = mm_enter(m, &t);
    if (status != ILHEAP_OK) {
        ilheap__fail(status, "module %#" PRIxPTR ", %u bytes requested", m->module_id, (unsigned)cb);
        return NULL;
    }
    void *p = ilheap_heap_alloc(m->heap, cb);
    mm_leave(t);
    return p;
}

/* ------------------------------------------------------------------ internal API */

ilheap_status_t ilheap__mm_new(ilheap_heap_t *heap, uint32_t flags, uintptr_t module_id,
                               const void *base, ilheap__mm_t **out)
{
    /* A cache line of its own: refs is written by every lookup, and must not
     * disturb the line a neighbouring module's Alloc reads. */
    size_t size = (sizeof(ilheap__mm_t) + 63) & ~(size_t)63;
    ilheap__mm_t *m = ilheap__mem_alloc_aligned(64, size);
    if (m == NULL)
        return ilheap__fail(ILHEAP_ENOMEM, "allocator object for module %#" PRIxPTR, module_id);
    memset(m, 0, size);
    m->iface.lpVtbl = (IMethodMallocVtbl *)&mm_vtable.slots;
    atomic_init(&m->state, 0);
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
    /* seq_cst: the other half of mm_enter's Dekker pair (see mm_wait_drained). */
    uint32_t was = atomic_fetch_or_explicit(&m->state, ILHEAP__MM_UNLOADED, memory_order_seq_cst);
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
    mm_thread_t *t;
    ilheap_status_t status = mm_enter(m, &t);
    if (status != ILHEAP_OK)
        return status;
    status = ilheap_heap_stats(m->heap, out);
    mm_leave(t);
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
    ilheap__mm_t *m = NULL;
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
    /* acquire: pairs with the unload's fetch_or; a racing unload is the caller's to exclude (see
     * com.h). */
    if (atomic_load_explicit(&mm->state, memory_order_acquire) & ILHEAP__MM_UNLOADED)
        return NULL;
    return mm->heap;
}

ULONG ilheap_method_malloc_refcount(IMethodMalloc *m)
{
    if (!ilheap_method_malloc_is_ilheap(m))
        return 0;
    /* relaxed: a figure for tests and reports. */
    return atomic_load_explicit(&mm_from(m)->refs, memory_order_relaxed);
}
