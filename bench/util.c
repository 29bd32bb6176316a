/* The helpers every part of bench_alloc shares (bench.h): key=value
 * arguments, the clock, the program's own image. */
#include "bench.h"
#include "support.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

uint64_t bench_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

const char *bench_arg(const bench_args_t *args, const char *key, const char *fallback)
{
    for (int i = 0; i < args->count; i++)
        if (strcmp(args->keys[i], key) == 0)
            return args->values[i];
    return fallback;
}

long long bench_arg_int(const bench_args_t *args, const char *key, long long fallback)
{
    const char *v = bench_arg(args, key, NULL);
    return v != NULL ? atoll(v) : fallback;
}

void bench_own_image(const void **base, size_t *size)
{
    support_module_t self = {0};
    support_find_module(NULL, &self); /* the program itself */
    uintptr_t lo = self.base & ~(uintptr_t)4095;
    *base = (const void *)lo;
    *size = self.base + self.size - lo;
}
