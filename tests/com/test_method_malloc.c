/* One IMethodMalloc object over one heap, called through its vtable as the
 * CLR and a C profiler call it: Alloc, reference counting, QueryInterface,
 * and the lifetime rules around unload. */
#include "ilheap/com.h"

#include "com/com_internal.h"
#include "com_test_util.h"
#include "maps_util.h"
#include "os/fault.h"
#include "test.h"

#include <pthread.h>
#include <sched.h>
#include <time.h>

/* Another IID for the negative QueryInterface cases: IClassFactory. */
static const IID iid_class_factory = {0x00000001, 0x0000, 0x0000, {0xC0, 0, 0, 0, 0, 0, 0, 0x46}};

static void test_create_arguments(void)
{
    ilheap_heap_t *heap;
    ASSERT_STATUS(ilheap_heap_create(test_image_base(), 0, NULL, &heap), ILHEAP_OK);
    IMethodMalloc *m = (IMethodMalloc *)&heap; /* garbage that must be overwritten */
    ASSERT_STATUS(ilheap_method_malloc_create(NULL, 0, &m), ILHEAP_EINVAL);
    ASSERT_NULL(m);
    ASSERT_STATUS(ilheap_method_malloc_create(heap, 0, NULL), ILHEAP_EINVAL);
    ASSERT_STATUS(ilheap_method_malloc_create(heap, 0x80, &m), ILHEAP_EINVAL);
    ASSERT_NULL(m);
    ASSERT_STATUS(ilheap_method_malloc_create(heap, 0, &m), ILHEAP_OK);
    ASSERT_TRUE(ilheap_method_malloc_is_ilheap(m));
    ASSERT_EQ_P(ilheap_method_malloc_heap(m), heap);
    ASSERT_EQ_U(m->lpVtbl->Release(m), 0);
    ilheap_heap_destroy(heap); /* not owned by the object */
}

static void test_alloc_through_vtable(void)
{
    IMethodMalloc *m = test_new_allocator(test_image_base());
    ASSERT_NOT_NULL(m);
    ilheap_heap_t *heap = ilheap_method_malloc_heap(m);
    for (ULONG cb = 1; cb < 300; cb += 37) {
        unsigned char *p = m->lpVtbl->Alloc(m, cb);
        ASSERT_NOT_NULL(p);
        ASSERT_TRUE(ilheap_heap_in_window(heap, p, cb));
        ASSERT_TRUE((uintptr_t)p > (uintptr_t)test_image_base()); /* positive offset */
        ASSERT_EQ_U((uintptr_t)p % 4, 0);
        for (ULONG i = 0; i < cb; i++)
            ASSERT_EQ_U(p[i], 0);
        memset(p, 0xAB, cb);
    }
    /* The direct call is the same function. */
    void *q = ilheap_method_malloc_alloc(m, 12);
    ASSERT_TRUE(ilheap_heap_in_window(heap, q, 12));
    /* Alloc(0) gives NULL, as the CLR's own allocator does. */
    ASSERT_NULL(m->lpVtbl->Alloc(m, 0));
    ASSERT_STATUS(ilheap_last_status(), ILHEAP_EZEROSIZE);
    ilheap_heap_stats_t stats;
    ASSERT_STATUS(ilheap_method_malloc_stats(m, &stats), ILHEAP_OK);
    ASSERT_EQ_U(stats.blocks, 10); /* 9 in the loop, 1 direct */
    ASSERT_STATUS(ilheap_method_malloc_stats(m, NULL), ILHEAP_EINVAL);
    ASSERT_EQ_U(m->lpVtbl->Release(m), 0);
}

static void test_reference_counting(void)
{
    IMethodMalloc *m = test_new_allocator(test_image_base());
    ASSERT_NOT_NULL(m);
    ASSERT_EQ_U(ilheap_method_malloc_refcount(m), 1);
    ASSERT_EQ_U(m->lpVtbl->AddRef(m), 2);
    ASSERT_EQ_U(m->lpVtbl->AddRef(m), 3);
    ASSERT_EQ_U(m->lpVtbl->Release(m), 2);
    ASSERT_EQ_U(ilheap_method_malloc_refcount(m), 2);
    void *p = m->lpVtbl->Alloc(m, 64);
    ASSERT_NOT_NULL(p);
    ASSERT_EQ_U(m->lpVtbl->Release(m), 1);
    ASSERT_TRUE(test_is_mapped(p, 64)); /* still referenced: memory stays */
    /* The last Release frees the object and, as it owns it, the heap. */
    ASSERT_EQ_U(m->lpVtbl->Release(m), 0);
    ASSERT_FALSE(test_is_mapped(p, 64));
}

static void test_query_interface(void)
{
    IMethodMalloc *m = test_new_allocator(test_image_base());
    ASSERT_NOT_NULL(m);
    void *out = NULL;
    ASSERT_EQ_I(m->lpVtbl->QueryInterface(m, &ilheap_IID_IMethodMalloc, &out), S_OK);
    ASSERT_EQ_P(out, m);
    ASSERT_EQ_U(ilheap_method_malloc_refcount(m), 2);
    ASSERT_EQ_I(m->lpVtbl->QueryInterface(m, &ilheap_IID_IUnknown, &out), S_OK);
    ASSERT_EQ_P(out, m); /* COM identity: IUnknown is the same pointer */
    ASSERT_EQ_U(ilheap_method_malloc_refcount(m), 3);
    /* Through the IUnknown view the same three slots answer. */
    IUnknown *unknown = out;
    ASSERT_EQ_U(unknown->lpVtbl->Release(unknown), 2);

    out = m; /* must be overwritten with NULL */
    ASSERT_EQ_I(m->lpVtbl->QueryInterface(m, &iid_class_factory, &out), E_NOINTERFACE);
    ASSERT_NULL(out);
    IID almost = ilheap_IID_IMethodMalloc;
    almost.Data4[7] ^= 0x01;
    out = m;
    ASSERT_EQ_I(m->lpVtbl->QueryInterface(m, &almost, &out), E_NOINTERFACE);
    ASSERT_NULL(out);
    ASSERT_EQ_I(m->lpVtbl->QueryInterface(m, &ilheap_IID_IMethodMalloc, NULL), E_POINTER);
    out = m;
    ASSERT_EQ_I(m->lpVtbl->QueryInterface(m, NULL, &out), E_INVALIDARG);
    ASSERT_NULL(out);
    ASSERT_EQ_U(ilheap_method_malloc_refcount(m), 2); /* failures add no reference */
    ASSERT_EQ_U(m->lpVtbl->Release(m), 1);
    ASSERT_EQ_U(m->lpVtbl->Release(m), 0);
}

static void test_unload_with_references_held(void)
{
    IMethodMalloc *m = test_new_allocator(test_image_base());
    ASSERT_NOT_NULL(m);
    m->lpVtbl->AddRef(m); /* two holders */
    void *p = m->lpVtbl->Alloc(m, 100);
    ASSERT_NOT_NULL(p);
    ASSERT_STATUS(ilheap_method_malloc_unload(m), ILHEAP_OK);
    ASSERT_FALSE(test_is_mapped(p, 100)); /* all of the heap's memory is gone */
    ASSERT_STATUS(ilheap_method_malloc_unload(m), ILHEAP_EUNLOADED);
    ASSERT_NULL(m->lpVtbl->Alloc(m, 100));
    ASSERT_STATUS(ilheap_last_status(), ILHEAP_EUNLOADED);
    ASSERT_NULL(ilheap_method_malloc_heap(m));
    ilheap_heap_stats_t stats;
    ASSERT_STATUS(ilheap_method_malloc_stats(m, &stats), ILHEAP_EUNLOADED);
    void *out = NULL;
    ASSERT_EQ_I(m->lpVtbl->QueryInterface(m, &ilheap_IID_IMethodMalloc, &out), S_OK);
    ASSERT_EQ_U(m->lpVtbl->Release(m), 2);
    ASSERT_EQ_U(m->lpVtbl->Release(m), 1);
    ASSERT_NULL(m->lpVtbl->Alloc(m, 1));
    ASSERT_EQ_U(m->lpVtbl->Release(m), 0);
}

static void test_unload_leaves_unowned_heap(void)
{
    ilheap_heap_t *heap;
    ASSERT_STATUS(ilheap_heap_create(test_image_base(), 0, NULL, &heap), ILHEAP_OK);
    IMethodMalloc *m;
    ASSERT_STATUS(ilheap_method_malloc_create(heap, 0, &m), ILHEAP_OK);
    void *p = m->lpVtbl->Alloc(m, 16);
    ASSERT_NOT_NULL(p);
    ASSERT_STATUS(ilheap_method_malloc_unload(m), ILHEAP_OK);
    ASSERT_TRUE(test_is_mapped(p, 16)); /* the caller's heap is untouched */
    ASSERT_NULL(m->lpVtbl->Alloc(m, 16));
    ASSERT_NOT_NULL(ilheap_heap_alloc(heap, 16));
    ASSERT_EQ_U(m->lpVtbl->Release(m), 0);
    ilheap_heap_destroy(heap);
    ASSERT_FALSE(test_is_mapped(p, 16));
}

static HRESULT ILHEAP_STDCALL foreign_qi(IMethodMalloc *self, const IID *riid, void **ppv)
{
    (void)self, (void)riid;
    *ppv = NULL;
    return E_NOINTERFACE;
}
static ULONG ILHEAP_STDCALL foreign_ref(IMethodMalloc *self)
{
    (void)self;
    return 1;
}
static void *ILHEAP_STDCALL foreign_alloc(IMethodMalloc *self, ULONG cb)
{
    (void)self, (void)cb;
    return NULL;
}

static void test_foreign_object(void)
{
    /* Another implementation (the CLR's own, say) is recognised as foreign. */
    static IMethodMallocVtbl vtable = {foreign_qi, foreign_ref, foreign_ref, foreign_alloc};
    IMethodMalloc foreign = {&vtable};
    ASSERT_FALSE(ilheap_method_malloc_is_ilheap(&foreign));
    ASSERT_FALSE(ilheap_method_malloc_is_ilheap(NULL));
    ASSERT_STATUS(ilheap_method_malloc_unload(&foreign), ILHEAP_EFOREIGN);
    ASSERT_STATUS(ilheap_method_malloc_unload(NULL), ILHEAP_EFOREIGN);
    ilheap_heap_stats_t stats;
    ASSERT_STATUS(ilheap_method_malloc_stats(&foreign, &stats), ILHEAP_EFOREIGN);
    ASSERT_NULL(ilheap_method_malloc_heap(&foreign));
    ASSERT_EQ_U(ilheap_method_malloc_refcount(&foreign), 0);
}

/* ------------------------------------------------------------------ unload under load */

#define WORKERS 4

static void test_unload_while_allocating(void)
{
    for (int round = 0; round < 10; round++) {
        IMethodMalloc *m = test_new_allocator(test_image_base());
        ASSERT_NOT_NULL(m);
        _Atomic uint64_t total = 0;
        alloc_traffic_t workers[WORKERS];
        pthread_t threads[WORKERS];
        for (int i = 0; i < WORKERS; i++) {
            workers[i] = (alloc_traffic_t){m, (uintptr_t)test_image_base(), &total, 0, ILHEAP_OK, 0};
            m->lpVtbl->AddRef(m); /* each worker owns a reference */
            ASSERT_EQ_U(pthread_create(&threads[i], NULL, test_alloc_until_unloaded, &workers[i]), 0);
        }
        /* Unload in the middle of the traffic: once the workers have
         * started (valgrind runs threads one at a time, so that can take a
         * while), and after up to 5 s more of allocating. */
        test_wait_for_total(&total, 1, 120);
        test_wait_for_total(&total, 2000u * (unsigned)(round + 1), 5);
        ASSERT_STATUS(ilheap_method_malloc_unload(m), ILHEAP_OK);
        uint64_t sum = 0;
        for (int i = 0; i < WORKERS; i++) {
            pthread_join(threads[i], NULL);
            ASSERT_STATUS(workers[i].final_status, ILHEAP_EUNLOADED);
            ASSERT_FALSE(workers[i].bad_block);
            sum += workers[i].count;
        }
        ASSERT_EQ_U(sum, atomic_load(&total));
        ASSERT_GT_U(sum, 0);
        ASSERT_EQ_U(ilheap_method_malloc_refcount(m), 1);
        ASSERT_EQ_U(m->lpVtbl->Release(m), 0);
    }
}

/* ------------------------------------------------------------------ guard records */

static void *alloc_once(void *argument)
{
    IMethodMalloc *m = argument;
    return m->lpVtbl->Alloc(m, 8);
}

static void test_thread_records_are_reused(void)
{
    /* Each thread that calls Alloc gets a guard record; a thread that exits
     * hands it on, so short-lived threads do not grow the list. */
    IMethodMalloc *m = test_new_allocator(test_image_base());
    ASSERT_NOT_NULL(m);
    ASSERT_NOT_NULL(m->lpVtbl->Alloc(m, 8)); /* this thread's record */
    size_t before = ilheap__mm_thread_records();
    for (int i = 0; i < 64; i++) {
        pthread_t t;
        void *p = NULL;
        ASSERT_EQ_U(pthread_create(&t, NULL, alloc_once, m), 0);
        pthread_join(t, &p);
        ASSERT_NOT_NULL(p);
    }
    ASSERT_LE_U(ilheap__mm_thread_records(), before + 1);
    ASSERT_EQ_U(m->lpVtbl->Release(m), 0);
}

/* ------------------------------------------------------------------ a drain holds no global lock */

static pthread_t stuck_thread;
static _Atomic int stuck_now, stuck_go;

/* Holds the stuck thread's first Alloc in its heap's reservation. */
static void hold_reserve(ilheap_fault_site_t site)
{
    if (site != ILHEAP_FAULT_RESERVE || !pthread_equal(pthread_self(), stuck_thread))
        return;
    atomic_store(&stuck_now, 1);
    while (!atomic_load(&stuck_go))
        sched_yield();
}

typedef struct {
    IMethodMalloc *m;
    int unload;      /* 1: unload m; 0: Alloc from it */
    void *block;
    ilheap_status_t status;
    _Atomic int done;
} step_t;

static void *run_step(void *argument)
{
    step_t *s = argument;
    if (s->unload)
        s->status = ilheap_method_malloc_unload(s->m);
    else
        s->block = s->m->lpVtbl->Alloc(s->m, 32);
    atomic_store(&s->done, 1);
    return NULL;
}

static int wait_done(step_t *s, int seconds)
{
    for (int i = 0; i < seconds * 100 && !atomic_load(&s->done); i++)
        nanosleep(&(struct timespec){0, 10 * 1000 * 1000}, NULL);
    return atomic_load(&s->done);
}

/* While one unload waits for an Alloc stuck in flight on its module, a new
 * thread's first Alloc (on another module) and another module's unload go
 * on: the drain holds no process-wide lock. */
static void test_drain_blocks_no_one_else(void)
{
    step_t stuck = {test_new_allocator(test_image_base()), 0, NULL, ILHEAP_OK, 0};
    step_t drain = {stuck.m, 1, NULL, ILHEAP_EINVAL, 0};
    step_t first = {test_new_allocator(test_image_base()), 0, NULL, ILHEAP_OK, 0};
    step_t other = {test_new_allocator(test_image_base()), 1, NULL, ILHEAP_EINVAL, 0};
    ASSERT_NOT_NULL(stuck.m);
    ASSERT_NOT_NULL(first.m);
    ASSERT_NOT_NULL(other.m);
    atomic_store(&stuck_now, 0);
    atomic_store(&stuck_go, 0);
    ilheap__fault_set_hook(hold_reserve);
    pthread_t drainer, newcomer, unloader;
    ASSERT_EQ_U(pthread_create(&stuck_thread, NULL, run_step, &stuck), 0);
    while (!atomic_load(&stuck_now))
        sched_yield();
    ASSERT_EQ_U(pthread_create(&drainer, NULL, run_step, &drain), 0);
    nanosleep(&(struct timespec){0, 50 * 1000 * 1000}, NULL); /* the drain is waiting now */
    ASSERT_EQ_U(pthread_create(&newcomer, NULL, run_step, &first), 0);
    ASSERT_EQ_U(pthread_create(&unloader, NULL, run_step, &other), 0);
    int first_done = wait_done(&first, 10), other_done = wait_done(&other, 1);
    int drain_done_early = atomic_load(&drain.done);
    atomic_store(&stuck_go, 1); /* whatever happened, let everyone finish */
    pthread_join(stuck_thread, NULL);
    pthread_join(drainer, NULL);
    pthread_join(newcomer, NULL);
    pthread_join(unloader, NULL);
    ilheap__fault_set_hook(NULL);
    ASSERT_FALSE(drain_done_early); /* the unload did wait for the stuck Alloc */
    ASSERT_TRUE(first_done);
    ASSERT_TRUE(other_done);
    ASSERT_NOT_NULL(stuck.block); /* it entered before the unload: served */
    ASSERT_NOT_NULL(first.block);
    ASSERT_STATUS(drain.status, ILHEAP_OK);
    ASSERT_STATUS(other.status, ILHEAP_OK);
    stuck.m->lpVtbl->Release(stuck.m);
    first.m->lpVtbl->Release(first.m);
    other.m->lpVtbl->Release(other.m);
}

/* ------------------------------------------------------------------ allocation failures */

/* The object's own memory (ILHEAP_FAULT_MEMORY): create fails cleanly. */
static void test_object_allocation_fails(void)
{
    ilheap_heap_t *heap;
    ASSERT_STATUS(ilheap_heap_create(test_image_base(), 0, NULL, &heap), ILHEAP_OK);
    IMethodMalloc *m = (IMethodMalloc *)&heap; /* garbage that must be overwritten */
    ilheap__fault_arm(1, ILHEAP_FAULT_MEMORY, ILHEAP_OS_NOMEM, 0, 0);
    ASSERT_STATUS(ilheap_method_malloc_create(heap, 0, &m), ILHEAP_ENOMEM);
    ASSERT_EQ_U(ilheap__fault_disarm(), 1);
    ASSERT_NULL(m);
    ASSERT_STATUS(ilheap_method_malloc_create(heap, 0, &m), ILHEAP_OK);
    ASSERT_EQ_U(m->lpVtbl->Release(m), 0);
    ilheap_heap_destroy(heap);
}

typedef struct parked {
    IMethodMalloc *m;
    void *block;
    ilheap_status_t status; /* the thread's last status after its Alloc */
    _Atomic int done, leave;
} parked_t;

/* Allocates once, then stays alive (holding its guard record) until told. */
static void *alloc_and_park(void *argument)
{
    parked_t *p = argument;
    p->block = p->m->lpVtbl->Alloc(p->m, 8);
    p->status = ilheap_last_status();
    atomic_store(&p->done, 1);
    while (!atomic_load(&p->leave))
        nanosleep(&(struct timespec){0, 1000 * 1000}, NULL);
    return NULL;
}

static void start_parked(pthread_t *thread, parked_t *p, IMethodMalloc *m)
{
    *p = (parked_t){m, NULL, ILHEAP_OK, 0, 0};
    ASSERT_EQ_U(pthread_create(thread, NULL, alloc_and_park, p), 0);
    while (!atomic_load(&p->done))
        sched_yield();
}

/* A thread's first Alloc makes its guard record: when that allocation fails,
 * the Alloc fails with ILHEAP_ENOMEM, and the next thread's works. Threads
 * are parked until no free record is left, so the next one must make one. */
static void test_thread_record_allocation_fails(void)
{
    enum { MAX_PARKED = 64 };
    static pthread_t threads[MAX_PARKED + 2];
    static parked_t parked[MAX_PARKED + 2];
    IMethodMalloc *m = test_new_allocator(test_image_base());
    ASSERT_NOT_NULL(m);
    size_t records = ilheap__mm_thread_records(), count = 0;
    while (count < MAX_PARKED && ilheap__mm_thread_records() == records) {
        start_parked(&threads[count], &parked[count], m);
        ASSERT_NOT_NULL(parked[count++].block);
    }
    ASSERT_GT_U(ilheap__mm_thread_records(), records); /* every record is now taken */
    records = ilheap__mm_thread_records();
    ilheap__fault_arm(1, ILHEAP_FAULT_MEMORY, ILHEAP_OS_NOMEM, 0, 1);
    start_parked(&threads[count], &parked[count], m);
    ASSERT_EQ_U(ilheap__fault_disarm(), 1);
    ASSERT_NULL(parked[count].block);
    ASSERT_STATUS(parked[count++].status, ILHEAP_ENOMEM);
    ASSERT_EQ_U(ilheap__mm_thread_records(), records);
    start_parked(&threads[count], &parked[count], m);
    ASSERT_NOT_NULL(parked[count++].block);
    ASSERT_EQ_U(ilheap__mm_thread_records(), records + 1);
    for (size_t i = 0; i < count; i++) {
        atomic_store(&parked[i].leave, 1);
        pthread_join(threads[i], NULL);
    }
    ASSERT_EQ_U(m->lpVtbl->Release(m), 0);
}

TEST_MAIN(TEST(test_create_arguments), TEST(test_alloc_through_vtable),
          TEST(test_reference_counting), TEST(test_query_interface),
          TEST(test_unload_with_references_held), TEST(test_unload_leaves_unowned_heap),
          TEST(test_foreign_object), TEST(test_unload_while_allocating),
          TEST(test_thread_records_are_reused), TEST(test_drain_blocks_no_one_else),
          TEST(test_object_allocation_fails), TEST(test_thread_record_allocation_fails))
