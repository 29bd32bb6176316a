/* Helpers shared by the COM and registry tests. */
#ifndef ILHEAP_TEST_COM_UTIL_H
#define ILHEAP_TEST_COM_UTIL_H

#include "ilheap/com.h"

#include <stddef.h>
#include <stdatomic.h>
#include <stdint.h>

/* A module base inside this program's image (its .bss): a real base whose
 * space above is whatever the process has there. */
const void *test_image_base(void);

/* A run of free address space of size bytes (found by reserving and
 * releasing it), for synthetic module bases spaced apart. */
uintptr_t test_free_area(size_t size);

/* 1 if any byte of [p, p + size) is mapped in this process. */
int test_is_mapped(const void *p, size_t size);

/* A new allocator object that owns a new heap over base (default options). */
IMethodMalloc *test_new_allocator(const void *base);

/* A thread that allocates from m until Alloc fails (the module was
 * unloaded), then releases the reference it was given. Blocks are not
 * written: the unload may come right after Alloc returns, and from then on
 * the module's memory is gone (in the runtime a module's methods are not
 * compiled while it unloads). Their addresses are checked against base and
 * the default window, numbers that outlive the heap. */
typedef struct alloc_traffic {
    IMethodMalloc *m;         /* one reference, released by the thread */
    uintptr_t base;
    _Atomic uint64_t *total;  /* shared count of blocks, for the driver */
    uint64_t count;           /* this thread's blocks */
    ilheap_status_t final_status;
    int bad_block;            /* a block outside the window was seen */
} alloc_traffic_t;

void *test_alloc_until_unloaded(void *traffic);

/* Waits until *total reaches goal or seconds pass. */
void test_wait_for_total(_Atomic uint64_t *total, uint64_t goal, int seconds);

#endif
