/* Registry lookups: one "lookup ..." line.
 *
 * The child registers `modules` modules with the process-wide registry
 * (ilheap_GetILFunctionBodyAllocator; a heap reserves nothing before its
 * first allocation, so this is cheap), then times `lookups` calls for
 * modules picked at random among them, each followed by the Release a
 * profiler would make: what asking for a known module's allocator costs.
 * With threads=2 the lookups are split between two threads (lookups take the
 * registry's shared lock and must not serialize). */
#include "children.h"
#include "ilheap/com.h"

#include <pthread.h>
#include <stdio.h>
#include <time.h>

#define MAX_THREADS 16
#define FIRST_ID 0x100000u
#define ID_STEP 0x40u

typedef struct lookup_worker {
    size_t modules, count;
    uint64_t seed, t0, t1, cpu;
    const void *base;
    size_t image_size;
    pthread_barrier_t *barrier;
    int failed;
} lookup_worker_t;

static uint64_t thread_cpu(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void *lookup_main(void *arg)
{
    lookup_worker_t *w = arg;
    uint64_t state = w->seed * 0x9E3779B97F4A7C15ull + 1;
    pthread_barrier_wait(w->barrier);
    uint64_t cpu0 = thread_cpu();
    w->t0 = bench_now_ns();
    for (size_t i = 0; i < w->count; i++) {
        state ^= state >> 12; /* xorshift64 */
        state ^= state << 25;
        state ^= state >> 27;
        uintptr_t id = FIRST_ID + (uintptr_t)(state % w->modules) * ID_STEP;
        IMethodMalloc *m = NULL;
        if (ilheap_GetILFunctionBodyAllocator(id, w->base, w->image_size, &m) != S_OK || m == NULL) {
            w->failed = 1;
            break;
        }
        m->lpVtbl->Release(m);
    }
    w->t1 = bench_now_ns();
    w->cpu = thread_cpu() - cpu0;
    return NULL;
}

int bench_lookup_child(const bench_args_t *args)
{
    long long modules = bench_arg_int(args, "modules", 10000);
    long long lookups = bench_arg_int(args, "lookups", 1000000);
    int threads = (int)bench_arg_int(args, "threads", 1);
    if (modules < 1 || lookups < 1 || threads < 1 || threads > MAX_THREADS)
        return 2;
    const void *base;
    size_t image_size;
    bench_own_image(&base, &image_size);
    for (long long i = 0; i < modules; i++) {
        IMethodMalloc *m = NULL;
        if (ilheap_GetILFunctionBodyAllocator(FIRST_ID + (uintptr_t)i * ID_STEP, base, image_size, &m) != S_OK) {
            fprintf(stderr, "bench: registering module %lld failed: %s\n", i, ilheap_last_message());
            return 3;
        }
        m->lpVtbl->Release(m); /* the registry keeps its own reference */
    }
    pthread_barrier_t barrier;
    pthread_barrier_init(&barrier, NULL, (unsigned)threads);
    lookup_worker_t workers[MAX_THREADS];
    pthread_t ids[MAX_THREADS];
    for (int t = 0; t < threads; t++)
        workers[t] = (lookup_worker_t){(size_t)modules, (size_t)(lookups / threads), 7 + (uint64_t)t, 0, 0, 0,
                                       base, image_size, &barrier, 0};
    for (int t = 1; t < threads; t++)
        if (pthread_create(&ids[t], NULL, lookup_main, &workers[t]) != 0)
            return 4;
    lookup_main(&workers[0]);
    uint64_t t0 = UINT64_MAX, t1 = 0, cpu = 0;
    for (int t = 0; t < threads; t++) {
        if (t > 0)
            pthread_join(ids[t], NULL);
        if (workers[t].failed)
            return 5;
        t0 = workers[t].t0 < t0 ? workers[t].t0 : t0;
        t1 = workers[t].t1 > t1 ? workers[t].t1 : t1;
        cpu += workers[t].cpu;
    }
    double all = (double)workers[0].count * threads;
    printf("lookup modules=%lld threads=%d ns_per_lookup=%.2f cpu_ns_per_lookup=%.2f parallelism=%.2f"
           " lookups=%.0f rep=%s\n",
           modules, threads, (double)(t1 - t0) / all, (double)cpu / all, (double)cpu / (double)(t1 - t0), all,
           bench_arg(args, "rep", "0"));
    fflush(stdout);
    return 0;
}
