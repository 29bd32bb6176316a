/* The module registry: ModuleID -> the module's IMethodMalloc.
 *
 * Design
 * ------
 * Table. An open-addressing hash table (linear probing, Fibonacci hashing of
 * the ID, capacity a power of two, at most half full counting tombstones)
 * of {module ID, object pointer}. Key 0 marks an empty slot (a ModuleID is a
 * runtime pointer, never 0, and 0 is refused); a slot with a key and a NULL
 * object is a tombstone left by an unload. Growth rebuilds the table without
 * tombstones into a new array allocated before anything changes, so an
 * out-of-memory failure leaves the registry as it was.
 *
 * Locking. A pthread rwlock protects the table. A lookup (the common case:
 * every GetILFunctionBodyAllocator after the first for a module) takes it
 * shared, so lookups from many threads run in parallel. The first call for a
 * module and an unload take it exclusively. The first call looks up again
 * under the exclusive lock before creating anything, so concurrent first calls
 * for one module make exactly one heap and all get the same object. Creating
 * the heap under the lock is cheap: ilheap_heap_create reserves no address
 * space (that happens at the first Alloc, outside any registry lock). The
 * order of this lock against the others is in docs/com.md ("Locks").
 *
 * The Alloc fast path never touches the registry: a caller holds a reference
 * to the object, and the object knows its heap.
 *
 * Lifetime. The registry owns one reference to each object it holds, and the
 * object owns its heap. A lookup adds the caller's reference while still under
 * the shared lock, so the object cannot be freed between finding it and
 * AddRef: an unload must first remove it under the exclusive lock. Unload:
 *   1. exclusive lock: remove the entry (tombstone); unlock. From here a new
 *      GetILFunctionBodyAllocator for the same ID makes a new module (the
 *      runtime reuses addresses), and other modules are not held up by 2.
 *   2. ilheap__mm_unload: set the object's UNLOADED bit and wait for the
 *      Allocs in progress on that module to leave (method_malloc.c explains the
 *      in-flight guard); then destroy the heap: all of its memory at once.
 *   3. drop the registry's reference. References callers still hold keep the
 *      object (not the heap) alive: Alloc returns NULL with ILHEAP_EUNLOADED,
 *      and the last Release frees it.
 * Statistics read each heap inside the same in-flight guard, under the shared
 * lock, so they never read a destroyed heap either.
 *
 * Why not a lock-free table: lookups are not the hot path (Alloc is), a
 * shared rwlock acquisition costs tens of nanoseconds, and removal with safe
 * memory reclamation is what a lock-free table would make hard (docs/com.md
 * has the costs).
 */
#include "ilheap/com.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#include "com/com_internal.h"
#include "os/memory.h"
#include "status_internal.h"

typedef struct registry_slot {
    uintptr_t key;   /* 0: empty */
    ilheap__mm_t *m; /* NULL with a key: tombstone */
} registry_slot_t;

struct ilheap_registry {
    pthread_rwlock_t lock;
    registry_slot_t *slots; /* NULL until the first module */
    size_t capacity;        /* a power of two, or 0 */
    size_t count;           /* live entries */
    size_t tombstones;
    uint64_t generation;    /* bumped by every rebuild; under the lock */
    ilheap_heap_options_t options; /* for new heaps; under the lock */
    int is_global;
    _Atomic uint64_t live_heaps;
    _Atomic uint64_t heaps_created;
    _Atomic uint64_t modules_unloaded;
};

#define REGISTRY_MIN_CAPACITY 64

/* Zeroed options mean the defaults (see ilheap_heap_options_t). */
/* Writers first where glibc offers it: a steady stream of lookups from many
 * threads must not starve an unload or a first call (the default glibc
 * rwlock prefers readers). */
#ifdef PTHREAD_RWLOCK_WRITER_NONRECURSIVE_INITIALIZER_NP
#define REGISTRY_LOCK_INITIALIZER PTHREAD_RWLOCK_WRITER_NONRECURSIVE_INITIALIZER_NP
#else
#define REGISTRY_LOCK_INITIALIZER PTHREAD_RWLOCK_INITIALIZER
#endif

static int init_lock(pthread_rwlock_t *lock)
{
    pthread_rwlockattr_t attr;
    if (pthread_rwlockattr_init(&attr) != 0)
        return -1;
#ifdef PTHREAD_RWLOCK_WRITER_NONRECURSIVE_INITIALIZER_NP
    pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
#endif
    int rc = pthread_rwlock_init(lock, &attr);
    pthread_rwlockattr_destroy(&attr);
    return rc;
}

static ilheap_registry_t global_registry = {
    .lock = REGISTRY_LOCK_INITIALIZER,
    .is_global = 1,
};

/* winpthreads (mingw-w64 10) sets a static rwlock up at its first use with
 * no lock of its own: two threads using it first at once could both hold
 * it for writing (94 of 200 rounds of 8 threads under Wine). The first use
 * is made here, once, before any other. */
static pthread_once_t global_once = PTHREAD_ONCE_INIT;

static void global_lock_first_use(void)
{
    pthread_rwlock_rdlock(&global_registry.lock);
    pthread_rwlock_unlock(&global_registry.lock);
}

ilheap_registry_t *ilheap_registry_global(void)
{
    pthread_once(&global_once, global_lock_first_use);
    return &global_registry;
}

/* ------------------------------------------------------------------ the table */

static size_t slot_index(uintptr_t key, size_t capacity)
{
    /* Fibonacci hashing: IDs are aligned pointers, whose low bits carry
     * nothing; the high bits of the product mix all of them. */
    uint64_t h = (uint64_t)key * UINT64_C(0x9E3779B97F4A7C15);
    return (size_t)(h >> 32) & (capacity - 1);
}

/* The slot holding key, or NULL. Caller holds the lock (either mode). */
static registry_slot_t *table_find(const ilheap_registry_t *r, uintptr_t key)
{
    if (r->capacity == 0)
        return NULL;
    size_t mask = r->capacity - 1;
    for (size_t i = slot_index(key, r->capacity);; i = (i + 1) & mask) {
        registry_slot_t *s = &r->slots[i];
        if (s->key == 0)
            return NULL;
        if (s->key == key && s->m != NULL)
            return s;
        /* A tombstone with this key: the module was unloaded; go on, a new
         * entry for the same ID may sit further along. */
    }
}

/* Makes room for one more entry. Exclusive lock held. */
static ilheap_status_t table_reserve_one(ilheap_registry_t *r)
{
    if ((r->count + r->tombstones + 1) * 2 <= r->capacity)
        return ILHEAP_OK;
    size_t capacity = REGISTRY_MIN_CAPACITY;
    while (capacity < (r->count + 1) * 4) {
        if (capacity > SIZE_MAX / 2 / sizeof(registry_slot_t))
            return ilheap__fail(ILHEAP_ENOMEM, "registry table for %zu modules", r->count + 1);
        capacity *= 2;
    }
    registry_slot_t *slots = ilheap__mem_zalloc(capacity, sizeof *slots);
    if (slots == NULL)
        return ilheap__fail(ILHEAP_ENOMEM, "registry table of %zu slots", capacity);
    for (size_t i = 0; i < r->capacity; i++) {
        if (r->slots[i].m == NULL)
            continue;
        size_t j = slot_index(r->slots[i].key, capacity);
        while (slots[j].key != 0)
            j = (j + 1) & (capacity - 1);
        slots[j] = r->slots[i];
    }
    ilheap__mem_free(r->slots);
    r->slots = slots;
    r->capacity = capacity;
    r->tombstones = 0;
    r->generation++;
    return ILHEAP_OK;
}

/* Exclusive lock held; room reserved. */
static void table_insert(ilheap_registry_t *r, uintptr_t key, ilheap__mm_t *m)
{
    size_t mask = r->capacity - 1;
    size_t i = slot_index(key, r->capacity);
    /* Reuse the first tombstone on the way (the key is known to be absent). */
    while (r->slots[i].key != 0 && r->slots[i].m != NULL)
        i = (i + 1) & mask;
    if (r->slots[i].key != 0)
        r->tombstones--;
    r->slots[i].key = key;
    r->slots[i].m = m;
    r->count++;
}

/* Exclusive lock held. Leaves a tombstone: the probe chains through this slot
 * must stay intact. */
static ilheap__mm_t *table_remove(ilheap_registry_t *r, registry_slot_t *s)
{
    ilheap__mm_t *m = s->m;
    s->m = NULL;
    r->count--;
    r->tombstones++;
    return m;
}

/* ------------------------------------------------------------------ options */

/* Checks options the way the heap will: a heap made over a dummy base
 * reserves nothing, so this costs one small allocation. */
static ilheap_status_t check_heap_options(const ilheap_heap_options_t *options)
{
    ilheap_heap_t *probe;
    ilheap_status_t status =
        ilheap_heap_create((const void *)(uintptr_t)0x10000, 0, options, &probe);
    if (status == ILHEAP_OK)
        ilheap_heap_destroy(probe);
    return status;
}

ilheap_status_t ilheap_registry_set_heap_options(ilheap_registry_t *r,
                                                 const ilheap_heap_options_t *options)
{
    if (r == NULL)
        return ilheap__fail(ILHEAP_EINVAL, "NULL registry");
    ilheap_heap_options_t o;
    if (options == NULL)
        ilheap_heap_options_init(&o);
    else
        o = *options;
    ilheap_status_t status = check_heap_options(&o);
    if (status != ILHEAP_OK)
        return status;
    pthread_rwlock_wrlock(&r->lock);
    r->options = o;
    pthread_rwlock_unlock(&r->lock);
    return ILHEAP_OK;
}

/* ------------------------------------------------------------------ create / destroy */

ilheap_status_t ilheap_registry_create(const ilheap_heap_options_t *heap_options,
                                       ilheap_registry_t **out)
{
    if (out == NULL)
        return ilheap__fail(ILHEAP_EINVAL, "NULL out-pointer");
    *out = NULL;
    ilheap_registry_t *r = ilheap__mem_zalloc(1, sizeof *r);
    if (r == NULL)
        return ilheap__fail(ILHEAP_ENOMEM, "registry");
    if (init_lock(&r->lock) != 0) {
        ilheap__mem_free(r);
        return ilheap__fail(ILHEAP_ENOMEM, "registry lock");
    }
    ilheap_status_t status = ilheap_registry_set_heap_options(r, heap_options);
    if (status != ILHEAP_OK) {
        pthread_rwlock_destroy(&r->lock);
        ilheap__mem_free(r);
        return status;
    }
    *out = r;
    return ILHEAP_OK;
}

void ilheap_registry_destroy(ilheap_registry_t *r)
{
    if (r == NULL)
        return;
    ilheap_registry_unload_all(r, NULL);
    if (r->is_global)
        return;
    ilheap__mem_free(r->slots);
    pthread_rwlock_destroy(&r->lock);
    ilheap__mem_free(r);
}

/* ------------------------------------------------------------------ lookup */

/* Found an entry: check the base and give the caller a reference. Lock held
 * (either mode), which keeps the registry's own reference alive. */
static ilheap_status_t hand_out(const registry_slot_t *s, const void *base, IMethodMalloc **out)
{
    if (s->m->base != base)
        return ilheap__fail(ILHEAP_EBASE_MISMATCH,
                            "module %#" PRIxPTR " has base %p, asked with %p: unload it first",
                            s->key, s->m->base, base);
    ilheap__mm_addref(s->m);
    *out = &s->m->iface;
    return ILHEAP_OK;
}

ilheap_status_t ilheap_registry_get_allocator(ilheap_registry_t *r, uintptr_t module_id,
                                              const void *module_base, size_t image_size,
                                              IMethodMalloc **out)
{
    if (out == NULL)
        return ilheap__fail(ILHEAP_EINVAL, "NULL out-pointer");
    *out = NULL;
    if (r == NULL)
        return ilheap__fail(ILHEAP_EINVAL, "NULL registry");
    if (module_id == 0)
        return ilheap__fail(ILHEAP_EINVAL, "module ID 0");
    if (module_base == NULL)
        return ilheap__fail(ILHEAP_EINVAL, "NULL base for module %#" PRIxPTR, module_id);

    /* The common case: the module is known. Shared lock only. */
    pthread_rwlock_rdlock(&r->lock);
    registry_slot_t *s = table_find(r, module_id);
    if (s != NULL) {
        ilheap_status_t status = hand_out(s, module_base, out);
        pthread_rwlock_unlock(&r->lock);
        return status;
    }
    pthread_rwlock_unlock(&r->lock);

    /* First call for the module (or a race with other first calls). */
    pthread_rwlock_wrlock(&r->lock);
    s = table_find(r, module_id);
    if (s != NULL) { /* another thread made it meanwhile */
        ilheap_status_t status = hand_out(s, module_base, out);
        pthread_rwlock_unlock(&r->lock);
        return status;
    }
    ilheap_status_t status = table_reserve_one(r);
    ilheap_heap_t *heap = NULL;
    ilheap__mm_t *m = NULL;
    if (status == ILHEAP_OK)
        status = ilheap_heap_create(module_base, image_size, &r->options, &heap);
    if (status == ILHEAP_OK) {
        status = ilheap__mm_new(heap, ILHEAP_MM_OWNS_HEAP, module_id, module_base, &m);
        if (status != ILHEAP_OK)
            ilheap_heap_destroy(heap);
    }
    if (status == ILHEAP_OK) {
        table_insert(r, module_id, m); /* the registry's reference */
        ilheap__mm_addref(m);          /* the caller's */
        *out = &m->iface;
        /* relaxed (these counters): statistics for reports; the table itself is under the rwlock. */
        atomic_fetch_add_explicit(&r->live_heaps, 1, memory_order_relaxed);
        atomic_fetch_add_explicit(&r->heaps_created, 1, memory_order_relaxed);
    }
    pthread_rwlock_unlock(&r->lock);
    return status;
}

/* ------------------------------------------------------------------ unload */

/* Steps 2 and 3 of the unload (see the top of the file); no lock held. */
static void finish_unload(ilheap_registry_t *r, ilheap__mm_t *m)
{
    ilheap__mm_unload(m);
    /* relaxed: statistics, as above. */
    atomic_fetch_sub_explicit(&r->live_heaps, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&r->modules_unloaded, 1, memory_order_relaxed);
    ilheap__mm_release(m);
}

ilheap_status_t ilheap_registry_unload(ilheap_registry_t *r, uintptr_t module_id)
{
    if (r == NULL)
        return ilheap__fail(ILHEAP_EINVAL, "NULL registry");
    pthread_rwlock_wrlock(&r->lock);
    registry_slot_t *s = table_find(r, module_id);
    ilheap__mm_t *m = s != NULL ? table_remove(r, s) : NULL;
    pthread_rwlock_unlock(&r->lock);
    if (m == NULL)
        return ilheap__fail(ILHEAP_ENOTFOUND, "module %#" PRIxPTR, module_id);
    finish_unload(r, m);
    return ILHEAP_OK;
}

ilheap_status_t ilheap_registry_unload_all(ilheap_registry_t *r, size_t *count)
{
    if (count != NULL)
        *count = 0;
    if (r == NULL)
        return ilheap__fail(ILHEAP_EINVAL, "NULL registry");
    size_t done = 0, cursor = 0;
    uint64_t seen_generation = 0;
    for (;;) {
        ilheap__mm_t *m = NULL;
        pthread_rwlock_wrlock(&r->lock);
        /* Rebuilt by a concurrent insert: start over. A generation, not the
         * slots pointer: a later rebuild can get the old array's address back
         * from the allocator. */
        if (done == 0 || r->generation != seen_generation) {
            seen_generation = r->generation;
            cursor = 0;
        }
        for (; cursor < r->capacity && m == NULL; cursor++)
            if (r->slots[cursor].m != NULL)
                m = table_remove(r, &r->slots[cursor]);
        pthread_rwlock_unlock(&r->lock);
        if (m == NULL)
            break;
        /* One module at a time, without the lock: other modules' lookups
         * go on while this one drains. */
        finish_unload(r, m);
        done++;
    }
    if (count != NULL)
        *count = done;
    return ILHEAP_OK;
}

const void *ilheap__registry_table(ilheap_registry_t *r)
{
    pthread_rwlock_rdlock(&r->lock);
    const void *slots = r->slots;
    pthread_rwlock_unlock(&r->lock);
    return slots;
}

/* ------------------------------------------------------------------ statistics */

ilheap_status_t ilheap_registry_stats(ilheap_registry_t *r, ilheap_registry_stats_t *out)
{
    if (r == NULL || out == NULL)
        return ilheap__fail(ILHEAP_EINVAL, "NULL %s", r == NULL ? "registry" : "out-pointer");
    memset(out, 0, sizeof *out);
    pthread_rwlock_rdlock(&r->lock);
    out->live_modules = r->count;
    out->table_capacity = r->capacity;
    for (size_t i = 0; i < r->capacity; i++) {
        ilheap_heap_stats_t hs;
        if (r->slots[i].m == NULL || ilheap__mm_stats(r->slots[i].m, &hs) != ILHEAP_OK)
            continue;
        out->blocks += hs.blocks;
        out->bytes_requested += hs.bytes_requested;
        out->bytes_used += hs.bytes_used;
        out->bytes_reserved += hs.bytes_reserved;
        out->bytes_committed += hs.bytes_committed;
        out->blocks_beyond_2gib += hs.blocks_beyond_2gib;
    }
    pthread_rwlock_unlock(&r->lock);
    /* relaxed: statistics, each read atomically. */
    out->live_heaps = atomic_load_explicit(&r->live_heaps, memory_order_relaxed);
    out->heaps_created = atomic_load_explicit(&r->heaps_created, memory_order_relaxed);
    out->modules_unloaded = atomic_load_explicit(&r->modules_unloaded, memory_order_relaxed);
    return ILHEAP_OK;
}

/* ------------------------------------------------------------------ the entry points */

HRESULT ilheap_GetILFunctionBodyAllocator(uintptr_t moduleId, const void *moduleBase,
                                          size_t imageSize, IMethodMalloc **ppMalloc)
{
    return ilheap_hresult_from_status(
        ilheap_registry_get_allocator(ilheap_registry_global(), moduleId, moduleBase, imageSize,
                                      ppMalloc));
}

HRESULT ilheap_ModuleUnloaded(uintptr_t moduleId)
{
    return ilheap_hresult_from_status(ilheap_registry_unload(ilheap_registry_global(), moduleId));
}
