/* Internal interface between the IMethodMalloc object (method_malloc.c) and
 * the module registry (registry.c). */
#ifndef ILHEAP_COM_INTERNAL_H
#define ILHEAP_COM_INTERNAL_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "ilheap/com.h"

/* ilheap__mm_t.state: set once the object is unloaded (its heap is gone or
 * going). */
#define ILHEAP__MM_UNLOADED 0x80000000u

/* One allocator object. iface must stay first: the IMethodMalloc pointer a
 * caller holds is the object's address. Everything the Alloc path reads
 * (lpVtbl, state, heap) shares one cache line, which Alloc never writes. */
typedef struct ilheap__mm {
    IMethodMalloc iface;
    _Atomic uint32_t state;  /* ILHEAP__MM_UNLOADED */
    _Atomic uint32_t refs;   /* COM reference count */
    ilheap_heap_t *heap;     /* valid while ILHEAP__MM_UNLOADED is clear */
    uint32_t flags;          /* ILHEAP_MM_OWNS_HEAP */
    uintptr_t module_id;     /* 0 for an object made outside the registry */
    const void *base;        /* the module base the heap was made for */
} ilheap__mm_t;

/* Makes an object with one reference. */
ilheap_status_t ilheap__mm_new(ilheap_heap_t *heap, uint32_t flags, uintptr_t module_id,
                               const void *base, ilheap__mm_t **out);

/* Marks the object unloaded, waits until no thread is inside its heap, then
 * destroys the heap if owned. ILHEAP_OK, or ILHEAP_EUNLOADED if it already was. */
ilheap_status_t ilheap__mm_unload(ilheap__mm_t *m);

/* Reads the heap's statistics inside the in-flight guard. */
ilheap_status_t ilheap__mm_stats(ilheap__mm_t *m, ilheap_heap_stats_t *out);

/* How many per-thread guard records exist (threads that ever called Alloc,
 * less those reused): for tests. */
size_t ilheap__mm_thread_records(void);

/* The registry's current slot array (its address only): for tests. */
const void *ilheap__registry_table(ilheap_registry_t *r);

void ilheap__mm_addref(ilheap__mm_t *m);
void ilheap__mm_release(ilheap__mm_t *m);

#endif
