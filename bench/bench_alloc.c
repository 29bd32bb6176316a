/* bench_alloc: ilheap's allocation benchmarks, one line per measurement:
 *
 *   alloc impl=<ilheap|glibc|mimalloc|jemalloc|bump|...> mode=<fresh|warm> threads=<n> ns_per_alloc=<x> ...
 *   create mappings=<n> us_per_heap=<x> ...
 *
 * Usage: bench_alloc [--quick] [--reps N] [--blocks N] [--only alloc,contention,sweep,lookup,create]
 *
 * Every measurement runs in a new child process (fork + exec of this program
 * with --child), so every allocator starts from a fresh address space and no
 * allocator is loaded into another's process. The measurements are repeated
 * --reps times; within a repetition the compared implementations run one
 * after the other, in an order rotated every repetition, so that the noise of
 * a shared machine hits them alike. Each line carries rep=<i>; medians,
 * spreads and ratios are computed by bench/report.py.
 */
#include "bench.h"
#include "children.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* ---------------------------------------------------------------- driver */

typedef struct plan {
    int quick, reps, first_rep;
    long long blocks;
    const char *only;
} plan_t;

static int wanted(const plan_t *plan, const char *group)
{
    if (plan->only == NULL)
        return 1;
    const char *p = strstr(plan->only, group);
    size_t n = strlen(group);
    return p != NULL && (p == plan->only || p[-1] == ',') && (p[n] == '\0' || p[n] == ',');
}

static int have_impl(const char *impl)
{
#ifndef BENCH_MIMALLOC_PATH
    if (strcmp(impl, "mimalloc") == 0)
        return 0;
#endif
#ifndef BENCH_JEMALLOC_PATH
    if (strcmp(impl, "jemalloc") == 0)
        return 0;
#endif
    (void)impl;
    return 1;
}

/* Runs one child measurement: argv = { "--child", kind, "key=value", ... }. */
static int spawn(char *const *child_argv, const char *impl)
{
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0) {
        perror("bench: fork");
        return -1;
    }
    if (pid == 0) {
#ifdef BENCH_JEMALLOC_PATH
        if (impl != NULL && strcmp(impl, "jemalloc") == 0) {
            setenv("LD_PRELOAD", BENCH_JEMALLOC_PATH, 1);
            /* warm means resident: freed pages are never purged, and a
             * freed (coalesced) extent is reused whatever its size. */
            setenv("MALLOC_CONF", "dirty_decay_ms:-1,muzzy_decay_ms:-1,lg_extent_max_active_fit:30", 1);
        }
#endif
        (void)impl;
        execv("/proc/self/exe", child_argv);
        perror("bench: exec");
        _exit(127);
    }
    int status;
    if (waitpid(pid, &status, 0) < 0)
        return -1;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        printf("fail kind=%s", child_argv[2]);
        for (int i = 3; child_argv[i] != NULL; i++)
            printf(" %s", child_argv[i]);
        printf(" status=%d\n", WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
        return -1;
    }
    return 0;
}

/* A group: implementations compared with each other, run back to back. */
#define MAX_GROUP 10
typedef struct group {
    const char *kind; /* alloc or create */
    char variants[MAX_GROUP][160]; /* key=value ... (space separated) */
    const char *impls[MAX_GROUP];
    int count;
} group_t;

static void run_group(const group_t *g, int rep)
{
    for (int k = 0; k < g->count; k++) {
        int index = (k + rep) % g->count; /* rotate the order every repetition */
        char buffer[200];
        snprintf(buffer, sizeof buffer, "%s rep=%d", g->variants[index], rep);
        char *argv[16] = {"bench_alloc", "--child", (char *)g->kind};
        int argc = 3;
        for (char *save = NULL, *tok = strtok_r(buffer, " ", &save); tok != NULL && argc < 15;
             tok = strtok_r(NULL, " ", &save))
            argv[argc++] = tok;
        argv[argc] = NULL;
        (void)spawn(argv, g->impls[index]);
    }
}

static void add(group_t *g, const char *impl, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void add(group_t *g, const char *impl, const char *fmt, ...)
{
    if (g->count == MAX_GROUP || (impl != NULL && !have_impl(impl)))
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(g->variants[g->count], sizeof g->variants[0], fmt, ap);
    va_end(ap);
    g->impls[g->count++] = impl;
}

static const char *const mix_impls[] = {"ilheap", "glibc", "mimalloc", "jemalloc", "bump",
                                        "ilheap-nopopulate", "ilheap-tlab", "ilheap-com", "ilheap-huge"};
static const char *const modes[] = {"fresh", "warm"};

static group_t *new_group(group_t *groups, int *ngroups, const char *kind)
{
    group_t *g = &groups[(*ngroups)++];
    g->kind = kind;
    return g;
}

/* Warm memory is populated by definition: no populate variants there. */
static int warm_only_skips(const char *impl)
{
    return strcmp(impl, "ilheap-nopopulate") == 0 || strcmp(impl, "ilheap-huge") == 0;
}

/* The IL-body mix, fresh and warm, 1 and 2 threads; and the shared fast
 * path at its most contended: tiny blocks, warm, so the CAS and the cache
 * lines the threads share are all there is. */
static void add_mix_groups(const plan_t *plan, group_t *groups, int *ngroups)
{
    size_t nimpls = sizeof mix_impls / sizeof *mix_impls;
    if (wanted(plan, "alloc"))
        for (int m = 0; m < 2; m++)
            for (int threads = 1; threads <= 2; threads++) {
                group_t *g = new_group(groups, ngroups, "alloc");
                for (size_t i = 0; i < nimpls; i++)
                    if (m == 0 || !warm_only_skips(mix_impls[i]))
                        add(g, mix_impls[i], "impl=%s mode=%s threads=%d size=mix blocks=%lld set=mix",
                            mix_impls[i], modes[m], threads, plan->blocks);
            }
    if (wanted(plan, "contention"))
        for (int threads = 1; threads <= 2; threads++) {
            group_t *g = new_group(groups, ngroups, "alloc");
            for (size_t i = 0; i < nimpls; i++)
                if (!warm_only_skips(mix_impls[i]))
                    add(g, mix_impls[i], "impl=%s mode=warm threads=%d size=16 blocks=%lld set=contention",
                        mix_impls[i], threads, plan->quick ? 400000ll : 2000000ll);
        }
}

/* Fixed block sizes, fresh and warm, 32 MiB per point (quick: 8 MiB). */
static void add_sweep_groups(const plan_t *plan, group_t *groups, int *ngroups)
{
    static const char *const sweep_impls[] = {"ilheap", "glibc", "mimalloc", "jemalloc", "bump",
                                              "ilheap-nopopulate"};
    static const int sweep_full[] = {16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192};
    static const int sweep_quick[] = {16, 64, 256, 1024, 4096};
    if (!wanted(plan, "sweep"))
        return;
    const int *sizes = plan->quick ? sweep_quick : sweep_full;
    int nsizes = plan->quick ? 5 : 10;
    long long sweep_bytes = plan->quick ? 8ll << 20 : 32ll << 20;
    for (int m = 0; m < 2; m++)
        for (int s = 0; s < nsizes; s++) {
            group_t *g = new_group(groups, ngroups, "alloc");
            long long blocks = sweep_bytes / sizes[s] < 200000 ? sweep_bytes / sizes[s] : 200000;
            for (size_t i = 0; i < sizeof sweep_impls / sizeof *sweep_impls; i++)
                if (m == 0 || strcmp(sweep_impls[i], "ilheap-nopopulate") != 0)
                    add(g, sweep_impls[i], "impl=%s mode=%s threads=1 size=%d blocks=%lld set=sweep",
                        sweep_impls[i], modes[m], sizes[s], blocks);
        }
}

/* Registry lookups (10 modules against 10,000: what the registry's size
 * costs) and heap creation against the process's mappings. */
static void add_registry_and_create_groups(const plan_t *plan, group_t *groups, int *ngroups)
{
    static const int map_counts[] = {0, 100, 1000, 10000};
    if (wanted(plan, "lookup")) {
        group_t *g = new_group(groups, ngroups, "lookup");
        for (int threads = 1; threads <= 2; threads++)
            for (int modules = 10; modules <= 10000; modules *= 1000)
                add(g, NULL, "modules=%d threads=%d lookups=%lld", modules, threads,
                    plan->quick ? 200000ll : 1000000ll);
    }
    int iters = plan->quick ? 50 : 200;
    if (wanted(plan, "create"))
        for (size_t c = 0; c < sizeof map_counts / sizeof *map_counts; c++) {
            group_t *g = new_group(groups, ngroups, "create");
            add(g, NULL, "mappings=%d base=image populate=1 iters=%d", map_counts[c], iters);
            add(g, NULL, "mappings=%d base=image populate=0 iters=%d", map_counts[c], iters);
            add(g, NULL, "mappings=%d base=crowded populate=1 iters=%d", map_counts[c], iters);
        }
}

static int run_plan(const plan_t *plan)
{
    static group_t groups[64];
    int ngroups = 0;
    add_mix_groups(plan, groups, &ngroups);
    add_sweep_groups(plan, groups, &ngroups);
    add_registry_and_create_groups(plan, groups, &ngroups);
    printf("# bench_alloc quick=%d reps=%d blocks=%lld\n", plan->quick, plan->reps, plan->blocks);
    for (int rep = plan->first_rep; rep < plan->first_rep + plan->reps; rep++)
        for (int i = 0; i < ngroups; i++)
            run_group(&groups[i], rep);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc >= 3 && strcmp(argv[1], "--child") == 0) {
        bench_args_t args = {0};
        for (int i = 3; i < argc && args.count < 32; i++) {
            char *eq = strchr(argv[i], '=');
            if (eq == NULL)
                continue;
            *eq = '\0';
            args.keys[args.count] = argv[i];
            args.values[args.count++] = eq + 1;
        }
        if (strcmp(argv[2], "alloc") == 0)
            return bench_alloc_child(&args);
        if (strcmp(argv[2], "create") == 0)
            return bench_create_child(&args);
        if (strcmp(argv[2], "lookup") == 0)
            return bench_lookup_child(&args);
        fprintf(stderr, "bench: unknown child kind %s\n", argv[2]);
        return 2;
    }

    plan_t plan = {0, 0, 0, 0, NULL};
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--quick") == 0)
            plan.quick = 1;
        else if (strcmp(argv[i], "--reps") == 0 && i + 1 < argc)
            plan.reps = atoi(argv[++i]);
        else if (strcmp(argv[i], "--first-rep") == 0 && i + 1 < argc)
            plan.first_rep = atoi(argv[++i]);
        else if (strcmp(argv[i], "--blocks") == 0 && i + 1 < argc)
            plan.blocks = atoll(argv[++i]);
        else if (strcmp(argv[i], "--only") == 0 && i + 1 < argc)
            plan.only = argv[++i];
        else {
            fprintf(stderr, "usage: %s [--quick] [--reps N] [--first-rep N] [--blocks N]"
                            " [--only alloc,contention,sweep,lookup,create]\n", argv[0]);
            return 2;
        }
    }
    if (plan.reps <= 0)
        plan.reps = plan.quick ? 3 : 5;
    if (plan.blocks <= 0)
        plan.blocks = plan.quick ? 100000 : 1000000;
    if (!have_impl("mimalloc"))
        printf("skip impl=mimalloc reason=not-found-at-build-time\n");
    if (!have_impl("jemalloc"))
        printf("skip impl=jemalloc reason=not-found-at-build-time\n");
    return run_plan(&plan);
}
