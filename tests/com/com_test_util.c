#include "com_test_util.h"

#include "maps_util.h"

#include <time.h>

static unsigned char image_bytes[4096];

const void *test_image_base(void)
{
    return image_bytes;
}

uintptr_t test_free_area(size_t size)
{
    return sandbox_find_high(size);
}

int test_is_mapped(const void *p, size_t size)
{
    return maps_bytes_mapped((uintptr_t)p, (uintptr_t)p + size) != 0;
}

IMethodMalloc *test_new_allocator(const void *base)
{
    ilheap_heap_t *heap;
    if (ilheap_heap_create(base, 0, NULL, &heap) != ILHEAP_OK)
        return NULL;
    IMethodMalloc *m;
    if (ilheap_method_malloc_create(heap, ILHEAP_MM_OWNS_HEAP, &m) != ILHEAP_OK) {
        ilheap_heap_destroy(heap);
        return NULL;
    }
    return m;
}

void *test_alloc_until_unloaded(void *traffic)
{
    alloc_traffic_t *w = traffic;
    for (;;) {
        ULONG cb = 1 + (ULONG)(w->count * 7 % 200);
        uintptr_t p = (uintptr_t)w->m->lpVtbl->Alloc(w->m, cb);
        if (p == 0) {
            w->final_status = ilheap_last_status();
            break;
        }
        if (p <= w->base || p - w->base > ILHEAP_DEFAULT_WINDOW - cb)
            w->bad_block = 1;
        w->count++;
        atomic_fetch_add_explicit(w->total, 1, memory_order_relaxed);
    }
    w->m->lpVtbl->Release(w->m);
    return NULL;
}

void test_wait_for_total(_Atomic uint64_t *total, uint64_t goal, int seconds)
{
    struct timespec start, now;
    clock_gettime(CLOCK_MONOTONIC, &start);
    do {
        /* Sleep, not spin: under valgrind threads take turns, and a spinning
         * waiter would hold back the very threads it waits for. */
        struct timespec pause = {0, 100 * 1000};
        nanosleep(&pause, NULL);
        clock_gettime(CLOCK_MONOTONIC, &now);
    } while (atomic_load(total) < goal && now.tv_sec - start.tv_sec < seconds);
}
