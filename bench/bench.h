/* Shared declarations of the allocation benchmark (bench_alloc).
 *
 * The driver (bench_alloc.c) runs every measurement in a fresh child process
 * (fork + exec of itself with --child), so each allocator starts from a new
 * address space; the child runs one measurement and prints one line. */
#ifndef ILHEAP_BENCH_H
#define ILHEAP_BENCH_H

#include <stddef.h>
#include <stdint.h>

#include "ilheap/heap.h"

/* key=value arguments of a child measurement. */
typedef struct bench_args {
    int count;
    const char *keys[32];
    const char *values[32];
} bench_args_t;

const char *bench_arg(const bench_args_t *args, const char *key, const char *fallback);
long long bench_arg_int(const bench_args_t *args, const char *key, long long fallback);

/* One measurement of the allocation workload ("alloc ..." line). */
int bench_alloc_child(const bench_args_t *args);

/* One measurement of heap creation ("create ..." line). */
int bench_create_child(const bench_args_t *args);

/* Registry lookups with many modules ("lookup ..." line); needs the COM
 * component (include/ilheap/com.h). */
int bench_lookup_child(const bench_args_t *args);

/* The bench program's own image: the module base used for ilheap heaps. */
void bench_own_image(const void **base, size_t *size);

/* Makes [everything the heap will need for total bytes] committed and
 * populated before the timed run: the "warm" state of a heap, whose pages are
 * resident. Uses heap internals (bench/ilheap_warm.c). Returns 0 on success. */
int bench_ilheap_prepopulate(ilheap_heap_t *heap, size_t total);

uint64_t bench_now_ns(void);

#endif
