/* The child measurements of bench_alloc. The driver (bench_alloc.c) runs
 * every measurement in a fresh child process (fork + exec of itself with
 * --child), so each allocator starts from a new address space; the child
 * runs one of these and prints one line. */
#ifndef ILHEAP_BENCH_CHILDREN_H
#define ILHEAP_BENCH_CHILDREN_H

#include "bench.h"

/* One measurement of the allocation workload ("alloc ..." line). */
int bench_alloc_child(const bench_args_t *args);

/* One measurement of heap creation ("create ..." line). */
int bench_create_child(const bench_args_t *args);

/* Registry lookups with many modules ("lookup ..." line). */
int bench_lookup_child(const bench_args_t *args);

#endif
