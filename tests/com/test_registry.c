/* The ModuleID registry and the two entry points a profiler calls:
 * GetILFunctionBodyAllocator semantics, unload, ID reuse, thousands of
 * modules, and the races: concurrent first calls, unload while allocating,
 * lookups against unloads. */
#include "ilheap/com.h"

#include "com/com_internal.h"
#include "com_test_util.h"
#include "maps_util.h"
#include "os/fault.h"
#include "test.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>

static ilheap_registry_t *new_registry(void)
{
    ilheap_registry_t *r = NULL;
    ilheap_status_t status = ilheap_registry_create(NULL, &r);
    if (status != ILHEAP_OK)
        fprintf(stderr, "  registry: %s\n", ilheap_last_message());
    return r;
}

static ilheap_registry_stats_t stats_of(ilheap_registry_t *r)
{
    ilheap_registry_stats_t s;
    memset(&s, 0xFF, sizeof s);
    if (ilheap_registry_stats(r, &s) != ILHEAP_OK)
        fprintf(stderr, "  stats: %s\n", ilheap_last_message());
    return s;
}

static void test_same_allocator_every_call(void)
{
    ilheap_registry_t *r = new_registry();
    ASSERT_NOT_NULL(r);
    const void *base = test_image_base();
    IMethodMalloc *a = NULL, *b = NULL;
    ASSERT_STATUS(ilheap_registry_get_allocator(r, 0x1000, base, 4096, &a), ILHEAP_OK);
    ASSERT_STATUS(ilheap_registry_get_allocator(r, 0x1000, base, 4096, &b), ILHEAP_OK);
    ASSERT_EQ_P(a, b);
    ASSERT_EQ_U(ilheap_method_malloc_refcount(a), 3); /* the registry's + two callers' */
    void *p = a->lpVtbl->Alloc(a, 32);
    ASSERT_TRUE(ilheap_heap_in_window(ilheap_method_malloc_heap(a), p, 32));
    ilheap_registry_stats_t s = stats_of(r);
    ASSERT_EQ_U(s.live_modules, 1);
    ASSERT_EQ_U(s.live_heaps, 1);
    ASSERT_EQ_U(s.heaps_created, 1);
    ASSERT_EQ_U(s.blocks, 1);
    ASSERT_EQ_U(s.bytes_requested, 32);
    ASSERT_GE_U(s.bytes_reserved, 4096);
    ASSERT_EQ_U(a->lpVtbl->Release(a), 2);
    ASSERT_EQ_U(b->lpVtbl->Release(b), 1);
    ilheap_registry_destroy(r);
}

static void test_invalid_arguments(void)
{
    ilheap_registry_t *r = new_registry();
    ASSERT_NOT_NULL(r);
    const void *base = test_image_base();
    IMethodMalloc *m = (IMethodMalloc *)&r; /* garbage that must become NULL */
    ASSERT_STATUS(ilheap_registry_get_allocator(r, 0x2000, base, 0, NULL), ILHEAP_EINVAL);
    ASSERT_STATUS(ilheap_registry_get_allocator(r, 0x2000, NULL, 0, &m), ILHEAP_EINVAL);
    ASSERT_NULL(m);
    ASSERT_STATUS(ilheap_registry_get_allocator(r, 0, base, 0, &m), ILHEAP_EINVAL);
    ASSERT_STATUS(ilheap_registry_get_allocator(NULL, 0x2000, base, 0, &m), ILHEAP_EINVAL);
    ASSERT_EQ_U(stats_of(r).heaps_created, 0);
    /* A known ID asked with another base: refused, not silently re-based. */
    ASSERT_STATUS(ilheap_registry_get_allocator(r, 0x2000, base, 0, &m), ILHEAP_OK);
    IMethodMalloc *other = (IMethodMalloc *)&r;
    ASSERT_STATUS(ilheap_registry_get_allocator(r, 0x2000, (const char *)base + 4096, 0, &other),
                  ILHEAP_EBASE_MISMATCH);
    ASSERT_NULL(other);
    ASSERT_TRUE(strstr(ilheap_last_message(), "0x2000") != NULL);
    ASSERT_EQ_U(m->lpVtbl->Release(m), 1);
    ASSERT_STATUS(ilheap_registry_create(NULL, NULL), ILHEAP_EINVAL);
    ilheap_registry_destroy(r);
    ilheap_registry_destroy(NULL);
}

static void test_unload_rules(void)
{
    ilheap_registry_t *r = new_registry();
    ASSERT_NOT_NULL(r);
    ASSERT_STATUS(ilheap_registry_unload(r, 0x3000), ILHEAP_ENOTFOUND); /* never seen */
    IMethodMalloc *m;
    ASSERT_STATUS(ilheap_registry_get_allocator(r, 0x3000, test_image_base(), 0, &m), ILHEAP_OK);
    unsigned char *p = m->lpVtbl->Alloc(m, 200);
    ASSERT_NOT_NULL(p);
    ASSERT_TRUE(test_is_mapped(p, 200));
    ASSERT_STATUS(ilheap_registry_unload(r, 0x3000), ILHEAP_OK);
    /* All of the module's memory is released at once... */
    ASSERT_FALSE(test_is_mapped(p, 200));
    ilheap_registry_stats_t s = stats_of(r);
    ASSERT_EQ_U(s.live_modules, 0);
    ASSERT_EQ_U(s.live_heaps, 0);
    ASSERT_EQ_U(s.bytes_reserved, 0);
    ASSERT_EQ_U(s.modules_unloaded, 1);
    ASSERT_STATUS(ilheap_registry_unload(r, 0x3000), ILHEAP_ENOTFOUND); /* already unloaded */
    /* ...while the reference still held stays safe: Alloc says why it fails. */
    ASSERT_NULL(m->lpVtbl->Alloc(m, 10));
    ASSERT_STATUS(ilheap_last_status(), ILHEAP_EUNLOADED);
    ASSERT_EQ_U(ilheap_method_malloc_refcount(m), 1);
    ASSERT_EQ_U(m->lpVtbl->Release(m), 0);
    ilheap_registry_destroy(r);
}

static void test_id_reused_after_unload(void)
{
    ilheap_registry_t *r = new_registry();
    ASSERT_NOT_NULL(r);
    const void *base = test_image_base();
    IMethodMalloc *old, *fresh;
    ASSERT_STATUS(ilheap_registry_get_allocator(r, 0x4000, base, 0, &old), ILHEAP_OK);
    ASSERT_STATUS(ilheap_registry_unload(r, 0x4000), ILHEAP_OK);
    /* The runtime reuses the address for another module, maybe elsewhere. */
    const void *new_base = (const char *)base + 64;
    ASSERT_STATUS(ilheap_registry_get_allocator(r, 0x4000, new_base, 0, &fresh), ILHEAP_OK);
    ASSERT_NE_P(fresh, old);
    ASSERT_EQ_P(ilheap_heap_base(ilheap_method_malloc_heap(fresh)), new_base);
    ASSERT_NULL(old->lpVtbl->Alloc(old, 8));
    void *p = fresh->lpVtbl->Alloc(fresh, 8);
    ASSERT_TRUE((uintptr_t)p > (uintptr_t)new_base);
    ASSERT_EQ_U(stats_of(r).heaps_created, 2);
    ASSERT_EQ_U(stats_of(r).live_heaps, 1);
    old->lpVtbl->Release(old);
    fresh->lpVtbl->Release(fresh);
    ilheap_registry_destroy(r); /* unloads the new one */
    ASSERT_FALSE(test_is_mapped(p, 8));
}

static void test_heap_options(void)
{
    ilheap_heap_options_t o;
    ilheap_heap_options_init(&o);
    o.alignment = 3;
    ilheap_registry_t *r = NULL;
    ASSERT_STATUS(ilheap_registry_create(&o, &r), ILHEAP_EALIGN);
    ASSERT_NULL(r);
    o.alignment = 16;
    ASSERT_STATUS(ilheap_registry_create(&o, &r), ILHEAP_OK);
    IMethodMalloc *m;
    ASSERT_STATUS(ilheap_registry_get_allocator(r, 0x5000, test_image_base(), 0, &m), ILHEAP_OK);
    for (int i = 0; i < 10; i++)
        ASSERT_EQ_U((uintptr_t)m->lpVtbl->Alloc(m, 3) % 16, 0);
    m->lpVtbl->Release(m);
    o.window = ILHEAP_MAX_WINDOW + 1;
    ASSERT_STATUS(ilheap_registry_set_heap_options(r, &o), ILHEAP_EWINDOW);
    o.window = 0x100000; /* 1 MiB: applies to modules registered from now on */
    ASSERT_STATUS(ilheap_registry_set_heap_options(r, &o), ILHEAP_OK);
    ASSERT_STATUS(ilheap_registry_get_allocator(r, 0x5001, test_image_base(), 0, &m), ILHEAP_OK);
    ASSERT_EQ_U(ilheap_heap_window(ilheap_method_malloc_heap(m)), 0x100000);
    ASSERT_NULL(m->lpVtbl->Alloc(m, 0x200000));
    ASSERT_STATUS(ilheap_last_status(), ILHEAP_ETOOBIG);
    m->lpVtbl->Release(m);
    ilheap_registry_destroy(r);
}

/* ------------------------------------------------------------------ concurrent first calls */

#define RACERS 16
#define RACE_ROUNDS 40

typedef struct {
    ilheap_registry_t *r;
    pthread_barrier_t *barrier;
    uintptr_t id;
    IMethodMalloc *got;
    ilheap_status_t status;
} racer_t;

static void *race_first_call(void *argument)
{
    racer_t *w = argument;
    pthread_barrier_wait(w->barrier);
    w->status = ilheap_registry_get_allocator(w->r, w->id, test_image_base(), 0, &w->got);
    return NULL;
}

static void test_concurrent_first_call(void)
{
    ilheap_registry_t *r = new_registry();
    ASSERT_NOT_NULL(r);
    pthread_barrier_t barrier;
    pthread_barrier_init(&barrier, NULL, RACERS);
    for (int round = 0; round < RACE_ROUNDS; round++) {
        racer_t w[RACERS];
        pthread_t t[RACERS];
        uintptr_t id = 0x10000 + (uintptr_t)round * 16;
        for (int i = 0; i < RACERS; i++) {
            w[i] = (racer_t){r, &barrier, id, NULL, ILHEAP_EINVAL};
            ASSERT_EQ_U(pthread_create(&t[i], NULL, race_first_call, &w[i]), 0);
        }
        for (int i = 0; i < RACERS; i++)
            pthread_join(t[i], NULL);
        for (int i = 0; i < RACERS; i++) {
            ASSERT_STATUS(w[i].status, ILHEAP_OK);
            ASSERT_EQ_P(w[i].got, w[0].got); /* one allocator for everybody */
        }
        /* Exactly one heap per module, however many threads raced. */
        ASSERT_EQ_U(stats_of(r).heaps_created, (uint64_t)round + 1);
        ASSERT_EQ_U(ilheap_method_malloc_refcount(w[0].got), RACERS + 1);
        for (int i = 0; i < RACERS; i++)
            w[i].got->lpVtbl->Release(w[i].got);
        if (round % 2 == 1) /* odd rounds race against an unloaded ID next time */
            ASSERT_STATUS(ilheap_registry_unload(r, id), ILHEAP_OK);
    }
    pthread_barrier_destroy(&barrier);
    ilheap_registry_stats_t s = stats_of(r);
    ASSERT_EQ_U(s.live_modules, RACE_ROUNDS / 2);
    ilheap_registry_destroy(r);
}

/* ------------------------------------------------------------------ thousands of modules */

#define MODULES 5000
#define MODULE_SPACING ((size_t)64 * 1024)

static void test_thousands_of_modules(void)
{
    /* Small first chunks: 5,000 heaps of one page each. */
    ilheap_heap_options_t o;
    ilheap_heap_options_init(&o);
    o.first_chunk = 4096;
    ilheap_registry_t *r = NULL;
    ASSERT_STATUS(ilheap_registry_create(&o, &r), ILHEAP_OK);
    /* Synthetic bases 64 KiB apart in free address space; the heaps must
     * still respect each base's window. */
    uintptr_t area = test_free_area(MODULES * MODULE_SPACING);
    if (area == 0)
        SKIP("no %zu bytes of free address space", MODULES * MODULE_SPACING);
    static IMethodMalloc *mm[MODULES];
    for (size_t i = 0; i < MODULES; i++) {
        const void *base = (const void *)(area + i * MODULE_SPACING);
        ASSERT_STATUS(ilheap_registry_get_allocator(r, 0x7f0000000000u + i * 0x1000, base, 0, &mm[i]),
                      ILHEAP_OK);
        void *p = mm[i]->lpVtbl->Alloc(mm[i], 48);
        ASSERT_NOT_NULL(p);
        ASSERT_TRUE((uintptr_t)p > (uintptr_t)base && (uintptr_t)p + 48 <= (uintptr_t)base + ILHEAP_DEFAULT_WINDOW);
    }
    ilheap_registry_stats_t s = stats_of(r);
    ASSERT_EQ_U(s.live_modules, MODULES);
    ASSERT_EQ_U(s.heaps_created, MODULES);
    ASSERT_EQ_U(s.blocks, MODULES);
    ASSERT_EQ_U(s.bytes_requested, MODULES * 48);
    ASSERT_GE_U(s.table_capacity, 2 * MODULES);
    /* Every lookup finds its own module among the thousands. */
    for (size_t i = 0; i < MODULES; i++) {
        IMethodMalloc *again;
        ASSERT_STATUS(ilheap_registry_get_allocator(r, 0x7f0000000000u + i * 0x1000,
                                                    (const void *)(area + i * MODULE_SPACING), 0, &again),
                      ILHEAP_OK);
        ASSERT_EQ_P(again, mm[i]);
        again->lpVtbl->Release(again);
    }
    /* Unload every other one: the rest stay found (probe chains survive
     * tombstones), and the unloaded ones are gone. */
    for (size_t i = 0; i < MODULES; i += 2)
        ASSERT_STATUS(ilheap_registry_unload(r, 0x7f0000000000u + i * 0x1000), ILHEAP_OK);
    for (size_t i = 0; i < MODULES; i++) {
        void *p = mm[i]->lpVtbl->Alloc(mm[i], 8);
        if (i % 2 == 0)
            ASSERT_NULL(p);
        else
            ASSERT_NOT_NULL(p);
    }
    s = stats_of(r);
    ASSERT_EQ_U(s.live_modules, MODULES / 2);
    ASSERT_EQ_U(s.live_heaps, MODULES / 2);
    size_t count = 0;
    ASSERT_STATUS(ilheap_registry_unload_all(r, &count), ILHEAP_OK);
    ASSERT_EQ_U(count, MODULES / 2);
    s = stats_of(r);
    ASSERT_EQ_U(s.live_modules, 0);
    ASSERT_EQ_U(s.live_heaps, 0);
    ASSERT_EQ_U(s.modules_unloaded, MODULES);
    ASSERT_EQ_U(maps_bytes_mapped(area, area + MODULES * MODULE_SPACING), 0);
    for (size_t i = 0; i < MODULES; i++)
        ASSERT_EQ_U(mm[i]->lpVtbl->Release(mm[i]), 0);
    ilheap_registry_destroy(r);
}

/* ------------------------------------------------------------------ unload under traffic */

typedef struct {
    ilheap_registry_t *r;
    uintptr_t id;
    _Atomic int *stop;
    ilheap_status_t final_status;
} lookups_t;

static void *look_up_other_module(void *argument)
{
    lookups_t *w = argument;
    while (!atomic_load_explicit(w->stop, memory_order_relaxed)) {
        IMethodMalloc *m;
        if (ilheap_registry_get_allocator(w->r, w->id, test_image_base(), 0, &m) != ILHEAP_OK) {
            w->final_status = ilheap_last_status();
            return NULL;
        }
        m->lpVtbl->Release(m);
    }
    w->final_status = ILHEAP_OK;
    return NULL;
}

static void test_unload_while_allocating(void)
{
    ilheap_registry_t *r = new_registry();
    ASSERT_NOT_NULL(r);
    IMethodMalloc *other;
    ASSERT_STATUS(ilheap_registry_get_allocator(r, 0xBEEF, test_image_base(), 0, &other), ILHEAP_OK);
    for (int round = 0; round < 8; round++) {
        uintptr_t id = 0xA000 + (uintptr_t)round;
        _Atomic uint64_t total = 0;
        _Atomic int stop = 0;
        alloc_traffic_t w[3]; /* three allocate on the module... */
        pthread_t t[3], looker;
        for (int i = 0; i < 3; i++) {
            w[i] = (alloc_traffic_t){NULL, (uintptr_t)test_image_base(), &total, 0, ILHEAP_OK, 0};
            ASSERT_STATUS(ilheap_registry_get_allocator(r, id, test_image_base(), 0, &w[i].m), ILHEAP_OK);
            ASSERT_EQ_U(pthread_create(&t[i], NULL, test_alloc_until_unloaded, &w[i]), 0);
        }
        /* ...and one looks up another module all the while. */
        lookups_t l = {r, 0xBEEF, &stop, ILHEAP_EINVAL};
        ASSERT_EQ_U(pthread_create(&looker, NULL, look_up_other_module, &l), 0);
        test_wait_for_total(&total, 1000, 5);
        ASSERT_STATUS(ilheap_registry_unload(r, id), ILHEAP_OK);
        for (int i = 0; i < 3; i++) {
            pthread_join(t[i], NULL);
            ASSERT_STATUS(w[i].final_status, ILHEAP_EUNLOADED);
            ASSERT_FALSE(w[i].bad_block);
        }
        atomic_store(&stop, 1);
        pthread_join(looker, NULL);
        ASSERT_STATUS(l.final_status, ILHEAP_OK);
        ASSERT_GT_U(atomic_load(&total), 0);
    }
    ASSERT_EQ_U(stats_of(r).live_modules, 1);
    other->lpVtbl->Release(other);
    ilheap_registry_destroy(r);
}

/* ------------------------------------------------------------------ churn */

#define CHURN_THREADS 4
#define CHURN_IDS 32

typedef struct {
    ilheap_registry_t *r;
    uint32_t seed;
    int iterations;
    int failures;
} churn_t;

static void *churn(void *argument)
{
    churn_t *w = argument;
    uint32_t state = w->seed;
    for (int i = 0; i < w->iterations; i++) {
        state = state * 1103515245u + 12345u;
        uintptr_t id = 0xD0000 + ((state >> 16) % CHURN_IDS) * 8;
        if ((state >> 8) % 8 == 0) {
            ilheap_status_t s = ilheap_registry_unload(w->r, id);
            if (s != ILHEAP_OK && s != ILHEAP_ENOTFOUND)
                w->failures++;
            continue;
        }
        IMethodMalloc *m;
        if (ilheap_registry_get_allocator(w->r, id, test_image_base(), 0, &m) != ILHEAP_OK) {
            w->failures++;
            continue;
        }
        /* Not written: another thread may unload the module at any moment. */
        void *p = m->lpVtbl->Alloc(m, 24);
        if (p == NULL && ilheap_last_status() != ILHEAP_EUNLOADED) /* unloaded meanwhile: fine */
            w->failures++;
        m->lpVtbl->Release(m);
    }
    return NULL;
}

static void test_lookups_against_unloads(void)
{
    ilheap_registry_t *r = new_registry();
    ASSERT_NOT_NULL(r);
    churn_t w[CHURN_THREADS];
    pthread_t t[CHURN_THREADS];
    for (int i = 0; i < CHURN_THREADS; i++) {
        w[i] = (churn_t){r, 17u + (uint32_t)i * 101u, 3000, 0};
        ASSERT_EQ_U(pthread_create(&t[i], NULL, churn, &w[i]), 0);
    }
    for (int i = 0; i < CHURN_THREADS; i++) {
        pthread_join(t[i], NULL);
        ASSERT_EQ_U(w[i].failures, 0);
    }
    ilheap_registry_stats_t s = stats_of(r);
    ASSERT_LE_U(s.live_modules, CHURN_IDS);
    ASSERT_EQ_U(s.heaps_created, s.modules_unloaded + s.live_modules);
    ilheap_registry_destroy(r);
}

/* ------------------------------------------------------------------ unload_all against rebuilds */

/* Holds the unload_all thread inside its first module's heap release until
 * the main thread has rebuilt the table. */
static pthread_t held_thread;
static _Atomic int held_now, held_go;

static void hold_release(ilheap_fault_site_t site)
{
    if (site != ILHEAP_FAULT_RELEASE || !pthread_equal(pthread_self(), held_thread))
        return;
    atomic_store(&held_now, 1);
    while (!atomic_load(&held_go))
        sched_yield();
}

typedef struct {
    ilheap_registry_t *r;
    size_t count;
} unload_all_t;

static void *run_unload_all(void *argument)
{
    unload_all_t *u = argument;
    ilheap_registry_unload_all(u->r, &u->count);
    return NULL;
}

/* The registry's slot hash (registry.c), to pick IDs that share a home slot
 * in a table of 64. */
static size_t home_slot(uintptr_t key)
{
    return (size_t)(((uint64_t)key * UINT64_C(0x9E3779B97F4A7C15)) >> 32) & 63;
}

/* unload_all removes one module, releases its heap without the lock, and
 * meanwhile other threads rebuild the table. Three IDs with one home slot h
 * sit at h, h+1, h+2; unload_all takes the one at h (its cursor is now h+1);
 * a rebuild moves the other two to h and h+1. unload_all must notice the
 * rebuild and start over even when, after two rebuilds, calloc handed back
 * the array it was scanning (glibc's tcache does). */
static void test_unload_all_after_rebuilds(void)
{
    ilheap_registry_t *r = new_registry();
    ASSERT_NOT_NULL(r);
    uintptr_t ids[3];
    int found = 0;
    for (uintptr_t key = 0x10000; found < 3; key += 0x1000)
        if (found == 0 || home_slot(key) == home_slot(ids[0]))
            ids[found++] = key;
    for (int i = 0; i < 3; i++) {
        IMethodMalloc *m;
        ASSERT_STATUS(ilheap_registry_get_allocator(r, ids[i], test_image_base(), 0, &m), ILHEAP_OK);
        if (i == 0) /* a reservation: its destroy calls the OS release we hold */
            ASSERT_NOT_NULL(m->lpVtbl->Alloc(m, 16));
        m->lpVtbl->Release(m);
    }
    const void *first_table = ilheap__registry_table(r);
    atomic_store(&held_now, 0);
    atomic_store(&held_go, 0);
    ilheap__fault_set_hook(hold_release);
    unload_all_t u = {r, 0};
    ASSERT_EQ_U(pthread_create(&held_thread, NULL, run_unload_all, &u), 0);
    while (!atomic_load(&held_now))
        sched_yield();
    /* Churn (a first call, then an unload: a tombstone) until the table was
     * rebuilt and sits at its first address again. */
    int rebuilds = 0, same_address = 0;
    const void *table = first_table;
    for (uintptr_t id = 0x900000; id < 0x900000 + 4000 * 8 && !same_address; id += 8) {
        IMethodMalloc *m;
        ASSERT_STATUS(ilheap_registry_get_allocator(r, id, test_image_base(), 0, &m), ILHEAP_OK);
        m->lpVtbl->Release(m);
        ASSERT_STATUS(ilheap_registry_unload(r, id), ILHEAP_OK);
        const void *now = ilheap__registry_table(r);
        if (now != table) {
            rebuilds++;
            table = now;
            same_address = now == first_table;
        }
    }
    ASSERT_GE_U(rebuilds, 1);
    if (!same_address) /* e.g. ASan's quarantine: the plain rebuild is still checked */
        printf("  note: calloc never returned the first table again (%d rebuilds)\n", rebuilds);
    atomic_store(&held_go, 1);
    pthread_join(held_thread, NULL);
    ilheap__fault_set_hook(NULL);
    ASSERT_EQ_U(u.count, 3);
    ASSERT_EQ_U(stats_of(r).live_modules, 0);
    ASSERT_EQ_U(stats_of(r).live_heaps, 0);
    ilheap_registry_destroy(r);
}

/* ------------------------------------------------------------------ the entry points */

static void test_entry_points(void)
{
    const void *base = test_image_base();
    IMethodMalloc *a = NULL, *b = NULL;
    ilheap_registry_stats_t before = stats_of(ilheap_registry_global());
    ASSERT_EQ_I(ilheap_GetILFunctionBodyAllocator(0xF000, base, 4096, &a), S_OK);
    ASSERT_EQ_I(ilheap_GetILFunctionBodyAllocator(0xF000, base, 4096, &b), S_OK);
    ASSERT_EQ_P(a, b);
    ASSERT_EQ_I(ilheap_GetILFunctionBodyAllocator(0xF000, base, 4096, NULL), E_INVALIDARG);
    IMethodMalloc *c = a;
    ASSERT_EQ_I(ilheap_GetILFunctionBodyAllocator(0xF001, NULL, 4096, &c), E_INVALIDARG);
    ASSERT_NULL(c);
    ASSERT_EQ_I(ilheap_GetILFunctionBodyAllocator(0xF000, (const char *)base + 8, 4096, &c), E_INVALIDARG);
    ilheap_registry_stats_t s = stats_of(ilheap_registry_global());
    ASSERT_EQ_U(s.live_modules, before.live_modules + 1);
    ASSERT_EQ_U(s.heaps_created, before.heaps_created + 1);
    ASSERT_NOT_NULL(a->lpVtbl->Alloc(a, 10));
    ASSERT_EQ_I(ilheap_ModuleUnloaded(0xF000), S_OK);
    ASSERT_EQ_I(ilheap_ModuleUnloaded(0xF000), S_FALSE);
    ASSERT_EQ_I(ilheap_ModuleUnloaded(0xF002), S_FALSE);
    ASSERT_NULL(a->lpVtbl->Alloc(a, 10));
    a->lpVtbl->Release(a);
    ASSERT_EQ_U(b->lpVtbl->Release(b), 0);
    /* Destroying the process-wide registry unloads everything and keeps it usable. */
    ASSERT_EQ_I(ilheap_GetILFunctionBodyAllocator(0xF003, base, 0, &a), S_OK);
    ilheap_registry_destroy(ilheap_registry_global());
    ASSERT_EQ_U(stats_of(ilheap_registry_global()).live_modules, 0);
    ASSERT_NULL(a->lpVtbl->Alloc(a, 10));
    a->lpVtbl->Release(a);
    ASSERT_EQ_I(ilheap_GetILFunctionBodyAllocator(0xF003, base, 0, &a), S_OK);
    ASSERT_NOT_NULL(a->lpVtbl->Alloc(a, 10));
    a->lpVtbl->Release(a);
    ASSERT_EQ_I(ilheap_ModuleUnloaded(0xF003), S_OK);
}

/* ------------------------------------------------------------------ allocation failures */

/* Past half the first table (64 slots): the table grows once. The modules
 * sit at the bottom of a larger free area, away from the top of the address
 * space (Wine calls the top few MiB free but does not hand them out). */
#define FAULT_MODULES 40
#define FAULT_SPACING ((size_t)64 * 1024)
#define FAULT_AREA ((size_t)64 * 1024 * 1024)

/* Asks for module i's allocator and a block from it; 1 when either failed,
 * which only ILHEAP_ENOMEM may do here, handing nothing out. */
static int get_and_alloc(ilheap_registry_t *r, uintptr_t area, size_t i)
{
    IMethodMalloc *m = NULL;
    ilheap_status_t status =
        ilheap_registry_get_allocator(r, 0x5000 + i * 0x40, (const void *)(area + i * FAULT_SPACING), 0, &m);
    if (status != ILHEAP_OK) {
        ASSERT_STATUS(status, ILHEAP_ENOMEM);
        ASSERT_NULL(m);
        return 1;
    }
    void *p = m->lpVtbl->Alloc(m, 48);
    if (p == NULL)
        ASSERT_STATUS(ilheap_last_status(), ILHEAP_ENOMEM);
    m->lpVtbl->Release(m);
    return p == NULL;
}

/* After the faults: every module is had (the failed ones now made), once
 * each, and unloading each unmaps what its heap reserved (checked at once:
 * under valgrind the range is soon mapped again, for the program's own
 * memory). */
static void check_registry_after(ilheap_registry_t *r, uintptr_t area)
{
    for (size_t i = 0; i < FAULT_MODULES; i++)
        ASSERT_EQ_U(get_and_alloc(r, area, i), 0);
    ilheap_registry_stats_t s = stats_of(r);
    ASSERT_EQ_U(s.live_modules, FAULT_MODULES);
    ASSERT_EQ_U(s.live_heaps, FAULT_MODULES);
    for (size_t i = 0; i < FAULT_MODULES; i++) {
        uintptr_t id = 0x5000 + i * 0x40;
        IMethodMalloc *m = NULL;
        ASSERT_STATUS(ilheap_registry_get_allocator(r, id, (const void *)(area + i * FAULT_SPACING), 0, &m),
                      ILHEAP_OK);
        heap_ranges_t ranges;
        heap_ranges_read(ilheap_method_malloc_heap(m), &ranges);
        m->lpVtbl->Release(m);
        ASSERT_GT_U(heap_ranges_mapped(&ranges), 0);
        ASSERT_STATUS(ilheap_registry_unload(r, id), ILHEAP_OK);
        ASSERT_EQ_U(heap_ranges_mapped(&ranges), 0);
    }
    ilheap_registry_destroy(r);
}

/* Every allocation of the registry's path fails in turn (SQLite's countdown
 * over ILHEAP_FAULT_MEMORY): the registry, its table and the table's growth,
 * each module's heap, heap record and allocator object. */
static void test_every_allocation_fails_once(void)
{
    uintptr_t area = test_free_area(FAULT_AREA);
    if (area == 0)
        SKIP("no %zu bytes of free address space", FAULT_AREA);
    unsigned long points = 0;
    for (unsigned long n = 1;; n++) {
        ilheap_registry_t *r = (ilheap_registry_t *)&area; /* garbage that must be overwritten */
        ilheap__fault_arm(n, ILHEAP_FAULT_MEMORY, ILHEAP_OS_NOMEM, 0, 0);
        ilheap_status_t status = ilheap_registry_create(NULL, &r);
        int failed = 0;
        for (size_t i = 0; status == ILHEAP_OK && i < FAULT_MODULES; i++)
            failed += get_and_alloc(r, area, i);
        unsigned long fired = ilheap__fault_disarm();
        if (status != ILHEAP_OK) {
            ASSERT_STATUS(status, ILHEAP_ENOMEM);
            ASSERT_NULL(r);
        } else {
            check_registry_after(r, area);
        }
        if (fired == 0) {
            ASSERT_EQ_U(failed, 0);
            break;
        }
        ASSERT_EQ_U(failed + (status != ILHEAP_OK), 1);
        points++;
        ASSERT_LT_U(n, 10000);
    }
    fprintf(stderr, "  %lu allocations failed in turn, all cleanly\n", points);
    ASSERT_GE_U(points, 3 * FAULT_MODULES + 2);
}

TEST_MAIN(TEST(test_same_allocator_every_call), TEST(test_invalid_arguments),
          TEST(test_unload_rules), TEST(test_id_reused_after_unload), TEST(test_heap_options),
          TEST(test_concurrent_first_call), TEST(test_thousands_of_modules),
          TEST(test_unload_while_allocating), TEST(test_lookups_against_unloads), TEST(test_unload_all_after_rebuilds),
          TEST(test_entry_points), TEST(test_every_allocation_fails_once))
