/* The helpers shared by every part of the allocation benchmark (bench_alloc):
 * bench/util.c defines them. The child measurements'
 * entry points are in children.h. */
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

/* The bench program's own image: the module base used for ilheap heaps. */
void bench_own_image(const void **base, size_t *size);

uint64_t bench_now_ns(void);

#endif
