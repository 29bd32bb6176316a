/* Costs of the COM layer, in the benchmark program's line format:
 *   alloc impl=<ilheap|ilheap-com> mode=warm sizes=<il|16> threads=<n> ns_per_alloc=<x> [best_batch=<x>]
 *   lookup modules=<n> threads=<n> ns_per_lookup=<x>
 * impl=ilheap calls ilheap_heap_alloc directly; impl=ilheap-com calls
 * IMethodMalloc::Alloc through the vtable (the in-flight guard included) on
 * the same workload. With one thread, batches of 5,000 alternate between the
 * two (median and fastest batch); with two, whole runs alternate (median),
 * because the machine is shared. A lookup is
 * GetILFunctionBodyAllocator for a registered module plus its Release.
 * Usage: bench_com [allocs_per_run] [repeats] */
#include "ilheap/com.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static unsigned char image[4096];

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int by_value(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, by_value);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* IL-body-like sizes from a fixed seed: 60% 2-63, 35% 64-511, 5% 512-8191. */
static ULONG *make_sizes(size_t n, int fixed16)
{
    ULONG *sizes = malloc(n * sizeof *sizes);
    uint32_t state = 12345;
    for (size_t i = 0; i < n && sizes != NULL; i++) {
        state = state * 1103515245u + 12345u;
        uint32_t r = (state >> 8) % 100, x = state >> 12;
        sizes[i] = fixed16 ? 16 : r < 60 ? 2 + x % 62 : r < 95 ? 64 + x % 448 : 512 + x % 7680;
    }
    return sizes;
}

typedef struct {
    ilheap_heap_t *heap;
    IMethodMalloc *m;
    const ULONG *sizes;
    size_t n;
    int failed;
} run_t;

static void *run_direct(void *argument)
{
    run_t *r = argument;
    for (size_t i = 0; i < r->n; i++)
        if (ilheap_heap_alloc(r->heap, r->sizes[i]) == NULL)
            r->failed = 1;
    return NULL;
}

static void *run_com(void *argument)
{
    run_t *r = argument;
    IMethodMalloc *m = r->m;
    for (size_t i = 0; i < r->n; i++)
        if (m->lpVtbl->Alloc(m, r->sizes[i]) == NULL)
            r->failed = 1;
    return NULL;
}

/* A heap for mode=warm, which measures the hot path: one chunk big enough
 * for the run, no populate-ahead, and no block written, so no page fault or
 * populate enters the figure; what is left is the call, the guard and the
 * bump. */
static ilheap_heap_t *warm_heap(void)
{
    ilheap_heap_options_t options;
    ilheap_heap_options_init(&options);
    options.flags = ILHEAP_NO_POPULATE;
    options.first_chunk = (size_t)1 << 30;
    ilheap_heap_t *heap = NULL;
    if (ilheap_heap_create(image, sizeof image, &options, &heap) != ILHEAP_OK)
        return NULL;
    return heap;
}

/* One thread: batches of the two implementations alternate, each on its own
 * heap, so both see the same machine; *best gets the fastest batch. */
static int time_alloc_one_thread(const ULONG *sizes, size_t n, double median_ns[2], double best_ns[2])
{
    enum { BATCH = 5000 };
    size_t batches = n / BATCH;
    double *t[2] = {malloc(batches * sizeof(double)), malloc(batches * sizeof(double))};
    ilheap_heap_t *direct = warm_heap(), *behind_com = warm_heap();
    IMethodMalloc *m = NULL;
    int ok = t[0] != NULL && t[1] != NULL && direct != NULL && behind_com != NULL &&
             ilheap_method_malloc_create(behind_com, ILHEAP_MM_OWNS_HEAP, &m) == ILHEAP_OK;
    for (size_t b = 0; ok && b < batches; b++) {
        const ULONG *batch = sizes + b * BATCH;
        double start = now_ns();
        for (int i = 0; i < BATCH; i++)
            ok &= ilheap_heap_alloc(direct, batch[i]) != NULL;
        double middle = now_ns();
        for (int i = 0; i < BATCH; i++)
            ok &= m->lpVtbl->Alloc(m, batch[i]) != NULL;
        double end = now_ns();
        t[0][b] = (middle - start) / BATCH;
        t[1][b] = (end - middle) / BATCH;
    }
    for (int k = 0; ok && k < 2; k++) {
        median_ns[k] = median(t[k], (int)batches);
        best_ns[k] = t[k][0]; /* sorted by median() */
    }
    if (m != NULL)
        m->lpVtbl->Release(m);
    else
        ilheap_heap_destroy(behind_com);
    ilheap_heap_destroy(direct);
    free(t[0]);
    free(t[1]);
    return ok;
}

/* Several threads on one heap (one object): ns per allocation of the whole
 * run, wall clock, so contention on shared lines shows. */
static double time_alloc_threads(int com, int threads, const ULONG *sizes, size_t n)
{
    ilheap_heap_t *heap = warm_heap();
    IMethodMalloc *m;
    if (heap == NULL || ilheap_method_malloc_create(heap, ILHEAP_MM_OWNS_HEAP, &m) != ILHEAP_OK)
        return -1;
    run_t runs[8];
    pthread_t t[8];
    double start = now_ns();
    for (int i = 0; i < threads; i++) {
        runs[i] = (run_t){heap, m, sizes, n / (size_t)threads, 0};
        pthread_create(&t[i], NULL, com ? run_com : run_direct, &runs[i]);
    }
    int failed = 0;
    for (int i = 0; i < threads; i++) {
        pthread_join(t[i], NULL);
        failed |= runs[i].failed;
    }
    double ns = (now_ns() - start) / (double)n;
    m->lpVtbl->Release(m);
    return failed ? -1 : ns;
}

typedef struct {
    ilheap_registry_t *r;
    uintptr_t area;
    size_t modules, lookups;
    uint32_t seed; /* each thread its own sequence of modules */
    int failed;
} lookup_run_t;

static uintptr_t module_id(size_t i)
{
    return 0x7f0000000000u + i * 0x2000;
}

static void *run_lookups(void *argument)
{
    lookup_run_t *l = argument;
    uint32_t state = l->seed;
    for (size_t i = 0; i < l->lookups; i++) {
        state = state * 1103515245u + 12345u;
        size_t k = (state >> 8) % l->modules;
        IMethodMalloc *m;
        if (ilheap_registry_get_allocator(l->r, module_id(k), (const void *)(l->area + k * 4096), 0, &m) != ILHEAP_OK) {
            l->failed = 1;
            return NULL;
        }
        m->lpVtbl->Release(m);
    }
    return NULL;
}

static double time_lookups(size_t modules, int threads, size_t lookups)
{
    ilheap_registry_t *r;
    if (ilheap_registry_create(NULL, &r) != ILHEAP_OK)
        return -1;
    /* Bases only: a heap reserves nothing before its first Alloc. */
    uintptr_t area = (uintptr_t)image;
    for (size_t k = 0; k < modules; k++) {
        IMethodMalloc *m;
        if (ilheap_registry_get_allocator(r, module_id(k), (const void *)(area + k * 4096), 0, &m) != ILHEAP_OK)
            return -1;
        m->lpVtbl->Release(m);
    }
    lookup_run_t runs[8];
    pthread_t t[8];
    double start = now_ns();
    for (int i = 0; i < threads; i++) {
        runs[i] = (lookup_run_t){r, area, modules, lookups / (size_t)threads, 777u + 1000u * (uint32_t)i, 0};
        pthread_create(&t[i], NULL, run_lookups, &runs[i]);
    }
    int failed = 0;
    for (int i = 0; i < threads; i++) {
        pthread_join(t[i], NULL);
        failed |= runs[i].failed;
    }
    double ns = (now_ns() - start) / (double)lookups;
    ilheap_registry_destroy(r);
    return failed ? -1 : ns;
}

int main(int argc, char **argv)
{
    size_t n = argc > 1 ? strtoul(argv[1], NULL, 10) : 200000;
    int repeats = argc > 2 ? atoi(argv[2]) : 7;
    if (repeats < 1 || repeats > 99 || n < 16)
        return 2;
    static const char *const impl[2] = {"ilheap", "ilheap-com"};
    for (int fixed16 = 1; fixed16 >= 0; fixed16--) {
        ULONG *sizes = make_sizes(n, fixed16);
        if (sizes == NULL)
            return 1;
        const char *kind = fixed16 ? "16" : "il";
        double med[2], best[2];
        if (!time_alloc_one_thread(sizes, n, med, best)) {
            fprintf(stderr, "allocation failed: %s\n", ilheap_last_message());
            return 1;
        }
        for (int k = 0; k < 2; k++)
            printf("alloc impl=%s mode=warm sizes=%s threads=1 ns_per_alloc=%.2f best_batch=%.2f\n",
                   impl[k], kind, med[k], best[k]);
        double v[2][99];
        for (int i = 0; i < repeats; i++) /* interleaved */
            for (int k = 0; k < 2; k++)
                if ((v[k][i] = time_alloc_threads(k, 2, sizes, n)) < 0) {
                    fprintf(stderr, "allocation failed: %s\n", ilheap_last_message());
                    return 1;
                }
        for (int k = 0; k < 2; k++)
            printf("alloc impl=%s mode=warm sizes=%s threads=2 ns_per_alloc=%.2f\n", impl[k], kind,
                   median(v[k], repeats));
        free(sizes);
    }
    static const size_t module_counts[] = {1, 100, 10000};
    for (size_t c = 0; c < sizeof module_counts / sizeof module_counts[0]; c++) {
        for (int threads = 1; threads <= 2; threads++) {
            double v[99];
            for (int i = 0; i < repeats; i++)
                if ((v[i] = time_lookups(module_counts[c], threads, 1000000)) < 0) {
                    fprintf(stderr, "lookup failed: %s\n", ilheap_last_message());
                    return 1;
                }
            printf("lookup modules=%zu threads=%d ns_per_lookup=%.2f\n", module_counts[c], threads,
                   median(v, repeats));
        }
    }
    return 0;
}
