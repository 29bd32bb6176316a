/* The allocation workload: one measurement of one allocator, in a child
 * process of its own (see bench_alloc.c), printed as one "alloc ..." line.
 *
 * Workload: alloc-only, sizes like IL method bodies (60% 2-63 bytes, 35%
 * 64-511, 5% 512-8191, from a fixed seed; or one fixed size for the sweep),
 * every block written once with memset (the same for every allocator),
 * nothing freed while the clock runs.
 *
 * fresh: the allocator's memory was never touched: the child is a new process,
 *   and the timed run is its first use of the allocator.
 * warm: the allocator's memory is resident. malloc-like allocators run the
 *   same workload once untimed, free every block (newest first), then run it
 *   again timed. ilheap never reuses memory, so its warm state is a heap
 *   whose whole run is committed and populated before the clock starts
 *   (ilheap_heap_reserve): the timed run is its hot path (per-thread runs
 *   over the CAS bump), with no lock and no page fault.
 * bump: an inlined pointer bump over an array: the floor. warm: the array was
 *   populated before the clock starts; fresh: the array is populated in one
 *   MADV_POPULATE_WRITE call inside the timed run (the cheapest way to get
 *   fresh memory, the floor for fresh).
 * threads: the blocks are split evenly between the threads, all allocating
 *   from the same allocator (one heap for ilheap); ns_per_alloc is wall time
 *   divided by all blocks, so it is the inverse of throughput. parallelism is
 *   the threads' CPU time in the timed run over its wall time: 2 when two
 *   threads really ran side by side, nearer 1 when a busy machine did not
 *   give them two cores at once.
 */
#include "children.h"
#include "ilheap/com.h"

#include <dlfcn.h>
#include <malloc.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <time.h>

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

#define MAX_THREADS 16
/* The per-thread buffer prototype (impl=ilheap-tlab): each thread bumps
 * privately in a TLAB_SIZE block taken from the shared heap; bigger blocks
 * go to the heap directly. Evidence for a possible fast-path change, not a
 * part of ilheap. */
#define TLAB_SIZE 16384u
#define TLAB_DIRECT 2048u

typedef enum impl {
    IMPL_ILHEAP,
    IMPL_ILHEAP_NOPOPULATE,
    IMPL_ILHEAP_TLAB,
    IMPL_GLIBC,
    IMPL_MIMALLOC,
    IMPL_JEMALLOC,
    IMPL_BUMP,
    IMPL_ILHEAP_HUGE,
    IMPL_ILHEAP_COM,
} impl_t;

static const char *const impl_names[] = {
    "ilheap", "ilheap-nopopulate", "ilheap-tlab", "glibc", "mimalloc", "jemalloc", "bump", "ilheap-huge",
    "ilheap-com",
};

static void *(*mi_malloc_fn)(size_t);
static void (*mi_free_fn)(void *);
static void *(*je_mallocx_fn)(size_t, int);
static void (*je_dallocx_fn)(void *, int);

typedef struct run {
    impl_t impl;
    int warm;
    int threads;
    ilheap_heap_t *heap;
    IMethodMalloc *com; /* impl=ilheap-com: Alloc through the vtable */
    pthread_barrier_t barrier;
} run_t;

typedef struct worker {
    run_t *run;
    uint32_t *sizes;
    size_t n;
    void **ptrs;            /* warm, malloc-like: pass one's blocks, to free */
    unsigned char *region;  /* bump: this thread's array */
    size_t region_len;
    uint64_t t0, t1;
    uint64_t cpu; /* this thread's CPU time in the timed run */
    int failed;
    int is_main;
} worker_t;

static uint64_t rng_next(uint64_t *state)
{
    uint64_t x = *state; /* xorshift64* */
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *state = x;
    return x * 0x2545F4914F6CDD1Dull;
}

/* IL-body-like sizes: 60% 2-63, 35% 64-511, 5% 512-8191; or all fixed. */
static uint64_t make_sizes(uint32_t *out, size_t n, uint64_t seed, uint32_t fixed)
{
    uint64_t state = seed * 0x9E3779B97F4A7C15ull + 1;
    uint64_t total = 0;
    for (size_t i = 0; i < n; i++) {
        uint32_t size = fixed;
        if (fixed == 0) {
            uint64_t r = rng_next(&state);
            unsigned bucket = (unsigned)(r % 100);
            uint64_t v = r >> 20;
            if (bucket < 60)
                size = 2 + (uint32_t)(v % 62);
            else if (bucket < 95)
                size = 64 + (uint32_t)(v % 448);
            else
                size = 512 + (uint32_t)(v % 7680);
        }
        out[i] = size;
        total += (size + 3u) & ~3u;
    }
    return total;
}

typedef struct tlab {
    uintptr_t cur, end;
} tlab_t;

static inline void *tlab_alloc(ilheap_heap_t *heap, tlab_t *t, size_t size)
{
    uintptr_t p = (t->cur + 3) & ~(uintptr_t)3;
    if (p <= t->end && size <= t->end - p) {
        t->cur = p + size;
        return (void *)p;
    }
    if (size > TLAB_DIRECT)
        return ilheap_heap_alloc(heap, size);
    unsigned char *block = ilheap_heap_alloc(heap, TLAB_SIZE);
    if (block == NULL)
        return NULL;
    t->cur = (uintptr_t)block + size;
    t->end = (uintptr_t)block + TLAB_SIZE;
    return block;
}

static inline void *bump_take(uintptr_t *cur, size_t size)
{
    uintptr_t p = *cur;
    *cur = (p + size + 3) & ~(uintptr_t)3;
    return (void *)p;
}

/* Every block is written once; the empty asm makes the stores observable, so
 * no compiler can drop them for any allocator. */
#define ALLOC_LOOP(EXPR)                                                   \
    for (size_t i = 0; i < n; i++) {                                        \
        size_t size = sizes[i];                                             \
        unsigned char *p = (unsigned char *)(EXPR);                         \
        if (p == NULL) {                                                    \
            w->failed = 1;                                                  \
            break;                                                          \
        }                                                                   \
        memset(p, (int)i, size);                                            \
        __asm__ volatile("" : : "r"(p) : "memory");                         \
        if (keep != NULL)                                                   \
            keep[i] = p;                                                    \
    }

static void run_pass(worker_t *w, void **keep)
{
    run_t *r = w->run;
    const uint32_t *sizes = w->sizes;
    size_t n = w->n;
    ilheap_heap_t *heap = r->heap;
    switch (r->impl) {
    case IMPL_ILHEAP:
    case IMPL_ILHEAP_NOPOPULATE:
    case IMPL_ILHEAP_HUGE:
        ALLOC_LOOP(ilheap_heap_alloc(heap, size));
        break;
    case IMPL_ILHEAP_TLAB: {
        tlab_t t = {0, 0};
        ALLOC_LOOP(tlab_alloc(heap, &t, size));
        break;
    }
    case IMPL_GLIBC:
        ALLOC_LOOP(malloc(size));
        break;
    case IMPL_MIMALLOC:
        ALLOC_LOOP(mi_malloc_fn(size));
        break;
    case IMPL_JEMALLOC:
        ALLOC_LOOP(je_mallocx_fn(size, 0));
        break;
    case IMPL_BUMP: {
        uintptr_t cur = (uintptr_t)w->region;
        ALLOC_LOOP(bump_take(&cur, size));
        break;
    }
    case IMPL_ILHEAP_COM: {
        IMethodMalloc *m = r->com;
        ALLOC_LOOP(m->lpVtbl->Alloc(m, (ULONG)size));
        break;
    }
    }
}

static int reuses_memory(impl_t impl)
{
    return impl == IMPL_GLIBC || impl == IMPL_MIMALLOC || impl == IMPL_JEMALLOC;
}

static void free_all(impl_t impl, void **ptrs, size_t n)
{
    for (size_t i = n; i-- > 0;) {
        if (impl == IMPL_GLIBC)
            free(ptrs[i]);
        else if (impl == IMPL_MIMALLOC)
            mi_free_fn(ptrs[i]);
        else
            je_dallocx_fn(ptrs[i], 0);
    }
}

static struct rusage usage_before;
static uint64_t cpu_before;

/* CPU time of the whole process (all threads), exact to the nanosecond: on a
 * shared machine a single-threaded run's wall time includes whatever time
 * other processes took the core; its CPU time does not. */
static uint64_t process_cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t thread_cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void *worker_main(void *arg)
{
    worker_t *w = arg;
    run_t *r = w->run;
    /* Two untimed rounds: one is not always enough for an allocator to
     * settle (mimalloc hands the second round pages the first never used). */
    for (int round = 0; round < 2 && r->warm && reuses_memory(r->impl) && !w->failed; round++) {
        run_pass(w, w->ptrs);
        if (!w->failed)
            free_all(r->impl, w->ptrs, w->n);
    }
    pthread_barrier_wait(&r->barrier); /* everyone's untimed pass is over */
    if (w->is_main) {
        getrusage(RUSAGE_SELF, &usage_before);
        cpu_before = process_cpu_ns();
    }
    pthread_barrier_wait(&r->barrier); /* the usage snapshot is taken */
    uint64_t cpu0 = thread_cpu_ns();
    w->t0 = bench_now_ns();
    if (r->impl == IMPL_BUMP && !r->warm)
        (void)madvise(w->region, w->region_len, MADV_POPULATE_WRITE);
    run_pass(w, NULL);
    w->t1 = bench_now_ns();
    w->cpu = thread_cpu_ns() - cpu0;
    return NULL;
}

/* VmSize of this process in bytes: the address space reserved by the
 * malloc-like allocators, which have no statistics of their own here. */
static uint64_t vm_size(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    if (f == NULL)
        return 0;
    char line[256];
    unsigned long long kib = 0;
    while (fgets(line, sizeof line, f) != NULL)
        if (sscanf(line, "VmSize: %llu kB", &kib) == 1)
            break;
    fclose(f);
    return (uint64_t)kib * 1024;
}

static void *map_array(size_t bytes, int populate)
{
    void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | (populate ? MAP_POPULATE : 0), -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

static int load_impl(impl_t impl)
{
    if (impl == IMPL_MIMALLOC) {
#ifdef BENCH_MIMALLOC_PATH
        /* warm means resident: freed pages are neither reset nor decommitted
         * (mimalloc reads these when it is loaded). */
        setenv("MIMALLOC_ALLOW_DECOMMIT", "0", 1);
        setenv("MIMALLOC_PAGE_RESET", "0", 1);
        setenv("MIMALLOC_RESET_DECOMMITS", "0", 1);
        /* RTLD_LOCAL: mimalloc's own malloc does not replace glibc's here;
         * it is called by its own entry point, mi_malloc. */
        void *lib = dlopen(BENCH_MIMALLOC_PATH, RTLD_NOW | RTLD_LOCAL);
        if (lib == NULL) {
            fprintf(stderr, "bench: %s\n", dlerror());
            return -1;
        }
        mi_malloc_fn = (void *(*)(size_t))dlsym(lib, "mi_malloc");
        mi_free_fn = (void (*)(void *))dlsym(lib, "mi_free");
        return mi_malloc_fn != NULL && mi_free_fn != NULL ? 0 : -1;
#else
        return -1;
#endif
    }
    if (impl == IMPL_JEMALLOC) {
        /* Debian's libjemalloc exports plain malloc (and mallocx), and uses
         * static TLS, so it cannot be dlopen'ed: the driver starts this child
         * with LD_PRELOAD, and we call jemalloc's own entry point, mallocx. */
        je_mallocx_fn = (void *(*)(size_t, int))dlsym(RTLD_DEFAULT, "mallocx");
        je_dallocx_fn = (void (*)(void *, int))dlsym(RTLD_DEFAULT, "dallocx");
        if (je_mallocx_fn == NULL || je_dallocx_fn == NULL) {
            fprintf(stderr, "bench: mallocx not found (jemalloc not preloaded)\n");
            return -1;
        }
        return 0;
    }
    if (impl == IMPL_GLIBC) {
        /* Keep freed memory resident for the warm pass (no trimming). */
        mallopt(M_TRIM_THRESHOLD, 1 << 30);
    }
    return 0;
}

/* One measurement's settings, from the child's key=value arguments. */
typedef struct spec {
    const char *impl_name, *mode, *size_arg;
    impl_t impl;
    int threads, warm;
    long long blocks;
    uint32_t fixed; /* 0: the IL-body mix */
} spec_t;

static int parse_spec(const bench_args_t *args, spec_t *s)
{
    s->impl_name = bench_arg(args, "impl", "ilheap");
    int impl = -1;
    for (int i = 0; i < (int)(sizeof impl_names / sizeof impl_names[0]); i++)
        if (strcmp(s->impl_name, impl_names[i]) == 0)
            impl = i;
    s->mode = bench_arg(args, "mode", "fresh");
    s->threads = (int)bench_arg_int(args, "threads", 1);
    s->blocks = bench_arg_int(args, "blocks", 100000);
    s->size_arg = bench_arg(args, "size", "mix");
    s->fixed = strcmp(s->size_arg, "mix") == 0 ? 0 : (uint32_t)atoi(s->size_arg);
    s->warm = strcmp(s->mode, "warm") == 0;
    s->impl = (impl_t)impl;
    return impl >= 0 && s->threads >= 1 && s->threads <= MAX_THREADS && s->blocks >= s->threads &&
           (s->warm || strcmp(s->mode, "fresh") == 0) && (s->fixed != 0 || strcmp(s->size_arg, "mix") == 0);
}

/* Each thread's sizes, and its keep-array or bump region. Everything the
 * workload needs besides the allocator is mapped directly, so it never
 * disturbs the allocator being measured. Returns the bytes the run takes
 * with padding (*total) and as requested (*requested); -1 when mapping
 * failed. */
static int prepare_workers(run_t *run, worker_t *workers, const spec_t *s, uint64_t *total, uint64_t *requested)
{
    size_t per_thread = (size_t)s->blocks / (size_t)s->threads;
    *total = *requested = 0;
    for (int t = 0; t < s->threads; t++) {
        worker_t *w = &workers[t];
        w->run = run;
        w->is_main = t == 0;
        w->n = per_thread;
        w->sizes = map_array(per_thread * sizeof *w->sizes, 1);
        if (w->sizes == NULL)
            return -1;
        uint64_t bytes = make_sizes(w->sizes, per_thread, 42 + (uint64_t)t, s->fixed);
        *total += bytes;
        for (size_t i = 0; i < per_thread; i++)
            *requested += w->sizes[i];
        if (s->warm && reuses_memory(run->impl) && (w->ptrs = map_array(per_thread * sizeof(void *), 1)) == NULL)
            return -1;
        if (run->impl == IMPL_BUMP) {
            w->region_len = (bytes + 4095) & ~(size_t)4095;
            if ((w->region = map_array(w->region_len, s->warm)) == NULL)
                return -1;
        }
    }
    return 0;
}

static int is_ilheap(impl_t impl)
{
    return impl == IMPL_ILHEAP || impl == IMPL_ILHEAP_NOPOPULATE || impl == IMPL_ILHEAP_TLAB ||
           impl == IMPL_ILHEAP_COM || impl == IMPL_ILHEAP_HUGE;
}

/* ilheap's heap over this program's image (and its COM object); warm: one
 * chunk for the whole run, the TLAB prototype's waste included, reserved,
 * committed and populated before the clock starts. 0, or -1 (printed). */
static int make_heap(run_t *run, const spec_t *s, uint64_t total)
{
    const void *base;
    size_t image_size;
    bench_own_image(&base, &image_size);
    ilheap_heap_options_t options;
    ilheap_heap_options_init(&options);
    if (run->impl == IMPL_ILHEAP_NOPOPULATE)
        options.flags |= ILHEAP_NO_POPULATE;
    if (run->impl == IMPL_ILHEAP_HUGE)
        options.flags |= ILHEAP_HUGE_PAGES;
    size_t warm_bytes = (size_t)(total + total / 4) + (size_t)s->threads * TLAB_SIZE + ((size_t)1 << 20);
    if (s->warm)
        options.first_chunk = warm_bytes;
    if (ilheap_heap_create(base, image_size, &options, &run->heap) != ILHEAP_OK) {
        fprintf(stderr, "bench: heap: %s\n", ilheap_last_message());
        return -1;
    }
    if (s->warm && ilheap_heap_reserve(run->heap, warm_bytes) != ILHEAP_OK) {
        fprintf(stderr, "bench: warm heap: %s\n", ilheap_last_message());
        return -1;
    }
    if (run->impl == IMPL_ILHEAP_COM && ilheap_method_malloc_create(run->heap, 0, &run->com) != ILHEAP_OK) {
        fprintf(stderr, "bench: IMethodMalloc: %s\n", ilheap_last_message());
        return -1;
    }
    return 0;
}

/* Runs the workers (thread 0 is the main thread: glibc's main arena) and
 * gives the timed span and the threads' CPU time; -1 when a thread could
 * not start or an allocation failed. */
static int run_workers(worker_t *workers, const spec_t *s, uint64_t *t0, uint64_t *t1, uint64_t *thread_cpu)
{
    pthread_t ids[MAX_THREADS];
    for (int t = 1; t < s->threads; t++)
        if (pthread_create(&ids[t], NULL, worker_main, &workers[t]) != 0)
            return -1;
    worker_main(&workers[0]);
    for (int t = 1; t < s->threads; t++)
        pthread_join(ids[t], NULL);
    *t0 = UINT64_MAX, *t1 = 0, *thread_cpu = 0;
    for (int t = 0; t < s->threads; t++) {
        *thread_cpu += workers[t].cpu;
        if (workers[t].failed) {
            fprintf(stderr, "bench: %s returned NULL\n", s->impl_name);
            return -1;
        }
        *t0 = workers[t].t0 < *t0 ? workers[t].t0 : *t0;
        *t1 = workers[t].t1 > *t1 ? workers[t].t1 : *t1;
    }
    return 0;
}

/* Address space the run reserved: ilheap's statistics (with chunks and
 * committed bytes in *extra), the bump arrays, or VmSize's growth. */
static uint64_t reserved_by(const run_t *run, const worker_t *workers, const spec_t *s, uint64_t vm_before,
                            char *extra, size_t extra_size)
{
    extra[0] = '\0';
    if (run->heap != NULL) {
        ilheap_heap_stats_t stats;
        ilheap_heap_stats(run->heap, &stats);
        snprintf(extra, extra_size, " chunks=%llu committed=%llu", (unsigned long long)stats.chunks,
                 (unsigned long long)stats.bytes_committed);
        return stats.bytes_reserved;
    }
    uint64_t reserved = 0;
    if (run->impl == IMPL_BUMP) {
        for (int t = 0; t < s->threads; t++)
            reserved += workers[t].region_len;
        return reserved;
    }
    uint64_t vm_after = vm_size();
    return vm_after > vm_before ? vm_after - vm_before : 0;
}

int bench_alloc_child(const bench_args_t *args)
{
    spec_t s;
    if (!parse_spec(args, &s)) {
        fprintf(stderr, "bench: bad alloc arguments\n");
        return 2;
    }
    if (load_impl(s.impl) != 0)
        return 3;
    static run_t run;
    run.impl = s.impl;
    run.warm = s.warm;
    run.threads = s.threads;
    pthread_barrier_init(&run.barrier, NULL, (unsigned)s.threads);
    static worker_t workers[MAX_THREADS];
    uint64_t total, requested;
    if (prepare_workers(&run, workers, &s, &total, &requested) != 0)
        return 4;
    uint64_t vm_before = vm_size();
    if (is_ilheap(run.impl) && make_heap(&run, &s, total) != 0)
        return 5;
    uint64_t t0, t1, thread_cpu;
    if (run_workers(workers, &s, &t0, &t1, &thread_cpu) != 0)
        return 6;
    uint64_t cpu_after = process_cpu_ns();
    struct rusage after;
    getrusage(RUSAGE_SELF, &after);
    double all = (double)workers[0].n * s.threads;
    double cpu_ns = (double)(cpu_after - cpu_before);
    double faults = (double)(after.ru_minflt - usage_before.ru_minflt);
    char extra[160];
    uint64_t reserved = reserved_by(&run, workers, &s, vm_before, extra, sizeof extra);
    printf("alloc impl=%s mode=%s threads=%d ns_per_alloc=%.2f size=%s set=%s blocks=%.0f bytes=%llu"
           " cpu_ns_per_alloc=%.2f parallelism=%.2f faults_per_alloc=%.4f reserved=%llu reserved_ratio=%.4f%s"
           " rep=%s\n",
           s.impl_name, s.mode, s.threads, (double)(t1 - t0) / all, s.size_arg, bench_arg(args, "set", "-"), all,
           (unsigned long long)requested, cpu_ns / all, (double)thread_cpu / (double)(t1 - t0), faults / all,
           (unsigned long long)reserved, (double)reserved / (double)requested, extra, bench_arg(args, "rep", "0"));
    fflush(stdout);
    /* No destroy, no free: the process ends here, which releases everything. */
    return 0;
}
