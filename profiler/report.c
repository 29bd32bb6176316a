/* Counters and the report written at Shutdown.
 *
 * The report is one "key=value" per line so that scripts can read it:
 *   grep '^rewritten=' report
 * Every skipped method is counted under exactly one reason. */
#include "profiler.h"

#include <inttypes.h>
#include <stdio.h>

#include "ilheap/heap.h"
#include "os/os.h"

static const char *const skip_names[PROF_SKIP_COUNT] = {
#define PROF_SKIP_NAME(name, text) #name,
    PROF_SKIP_LIST(PROF_SKIP_NAME)
#undef PROF_SKIP_NAME
};

static const char *const skip_texts[PROF_SKIP_COUNT] = {
#define PROF_SKIP_TEXT(name, text) text,
    PROF_SKIP_LIST(PROF_SKIP_TEXT)
#undef PROF_SKIP_TEXT
};

void prof_report_init(void)
{
    atomic_store(&prof_g.counters.min_offset, INT64_MAX);
    atomic_store(&prof_g.counters.max_end_offset, INT64_MIN);
}

void prof_report_skip(prof_skip_t why)
{
    if ((unsigned)why < PROF_SKIP_COUNT)
        atomic_fetch_add(&prof_g.counters.skipped[why], 1);
}

static unsigned hist_bucket(uint64_t ns)
{
    if (ns < 4)
        return (unsigned)ns;
    unsigned lg = 63u - (unsigned)__builtin_clzll(ns);
    unsigned idx = (lg - 1) * 4 + (unsigned)((ns >> (lg - 2)) & 3);
    return idx < PROF_HIST_BUCKETS ? idx : PROF_HIST_BUCKETS - 1;
}

/* The middle of a bucket, in ns. */
static double hist_value(unsigned idx)
{
    if (idx < 4)
        return idx;
    unsigned lg = idx / 4 + 1, sub = idx % 4;
    double lo = (double)((uint64_t)(4 + sub) << (lg - 2));
    return lo * 1.125; /* bucket width is lo / 4: middle = lo + lo / 8 */
}

static double hist_percentile(const prof_counters_t *c, double q, uint64_t total)
{
    uint64_t want = (uint64_t)(q * (double)total + 0.5), seen = 0;
    if (want == 0)
        want = 1;
    for (unsigned i = 0; i < PROF_HIST_BUCKETS; i++) {
        seen += atomic_load(&c->alloc_hist[i]);
        if (seen >= want)
            return hist_value(i);
    }
    return 0;
}

void prof_report_alloc(uint64_t ns, size_t size, int first)
{
    if (first) {
        atomic_fetch_add(&prof_g.counters.first_allocs, 1);
        atomic_fetch_add(&prof_g.counters.first_alloc_ns, ns);
    } else {
        atomic_fetch_add(&prof_g.counters.alloc_hist[hist_bucket(ns)], 1);
    }
    atomic_fetch_add(&prof_g.counters.allocations, 1);
    atomic_fetch_add(&prof_g.counters.alloc_ns, ns);
    atomic_fetch_add(&prof_g.counters.bytes_allocated, size);
}

static void store_min(atomic_int_fast64_t *slot, int64_t v)
{
    int64_t cur = atomic_load(slot);
    while (v < cur && !atomic_compare_exchange_weak(slot, &cur, v)) {
    }
}

static void store_max(atomic_int_fast64_t *slot, int64_t v)
{
    int64_t cur = atomic_load(slot);
    while (v > cur && !atomic_compare_exchange_weak(slot, &cur, v)) {
    }
}

/* The IMethodMalloc contract: base < p and p + size <= base + window. The
 * offset is computed in signed 64-bit: the runtime's own allocator returns
 * malloc memory that may lie anywhere, far below the base included. */
void prof_report_window(const uint8_t *base, const uint8_t *p, size_t size)
{
    prof_counters_t *c = &prof_g.counters;
    int64_t off = (int64_t)((uint64_t)(uintptr_t)p - (uint64_t)(uintptr_t)base);
    int64_t end = off + (int64_t)size;
    atomic_fetch_add(&c->window_checked, 1);
    store_min(&c->min_offset, off);
    store_max(&c->max_end_offset, end);
    if (end > (int64_t)ILHEAP_STRICT_WINDOW)
        atomic_fetch_add(&c->beyond_2gib, 1);
    if (off <= 0 || (uint64_t)end > prof_g.config.window) {
        atomic_fetch_add(&c->window_violations, 1);
        if (off <= 0)
            atomic_fetch_add(&c->below_base, 1);
    }
}

static int count_free_range(void *context, uintptr_t start, uintptr_t end)
{
    (void)start;
    (void)end;
    ++*(uint64_t *)context;
    return 0;
}

/* Free ranges of the address space, through the library's walk of the map:
 * about one per mapping that is not adjacent to the next. */
static uint64_t count_free_ranges(void)
{
    uint64_t n = 0;
    int os_error = 0;
    if (ilheap__os_visit_gaps(0, UINTPTR_MAX, 1, count_free_range, &n, &os_error) != ILHEAP_OS_OK)
        return 0;
    return n;
}

static const char *mode_name(const prof_config_t *cfg, char *buf, size_t cap)
{
    switch (cfg->mode) {
    case PROF_MODE_OFF:
        return "off";
    case PROF_MODE_REHOME:
        return "rehome";
    case PROF_MODE_PROLOGUE:
        snprintf(buf, cap, "prologue:%u", cfg->prologue_nops);
        return buf;
    case PROF_MODE_CALLS:
        return "calls";
    case PROF_MODE_BLOCKS:
        return "blocks";
    }
    return "?";
}

void prof_report_write(void)
{
    const prof_config_t *cfg = &prof_g.config;
    prof_counters_t *c = &prof_g.counters;
    FILE *out = stderr;
    if (cfg->report_path[0]) {
        out = fopen(cfg->report_path, "we");
        if (!out)
            return; /* a guest with an output path never writes to the host's stderr */
    }
    char buf[32];
    uint64_t skipped = 0;
    for (int i = 0; i < PROF_SKIP_COUNT; i++)
        skipped += atomic_load(&c->skipped[i]);
    uint64_t allocs = atomic_load(&c->allocations);
    uint64_t checked = atomic_load(&c->window_checked);

    fprintf(out, "# ilheap-profiler report\n");
    fprintf(out, "runtime=%s\n", prof_g.runtime_version[0] ? prof_g.runtime_version : "unknown");
    fprintf(out, "config_error=%s\n", cfg->error[0] ? cfg->error : "none");
    fprintf(out, "mode=%s\n", mode_name(cfg, buf, sizeof buf));
    fprintf(out, "allocator=%s\n", cfg->allocator == PROF_ALLOC_CLR ? "clr" : "ilheap");
    fprintf(out, "disable_r2r=%d\n", cfg->disable_r2r);
    fprintf(out, "event_mask=%#x\n", (unsigned)prof_g.event_mask);
    if (cfg->has_replace)
        fprintf(out, "replace=%s::%s=%d\n", cfg->replace_type, cfg->replace_method,
                (int)cfg->replace_value);
    fprintf(out, "atomic=%d\n", cfg->atomic);
    fprintf(out, "fallback=%s\n", cfg->fallback ? "clr" : "none");
    for (unsigned i = 0; i < cfg->include.n; i++)
        fprintf(out, "include=%s\n", cfg->include.p[i]);
    for (unsigned i = 0; i < cfg->exclude.n; i++)
        fprintf(out, "exclude=%s\n", cfg->exclude.p[i]);
    fprintf(out, "methods_seen=%" PRIuFAST64 "\n", atomic_load(&c->jit_started));
    fprintf(out, "rewritten=%" PRIuFAST64 "\n", atomic_load(&c->rewritten));
    fprintf(out, "replaced=%" PRIuFAST64 "\n", atomic_load(&c->replaced));
    fprintf(out, "rehomed_identical=%" PRIuFAST64 "\n", atomic_load(&c->rehomed_identical));
    fprintf(out, "bodies_tiny=%" PRIuFAST64 "\n", atomic_load(&c->bodies_tiny));
    fprintf(out, "bodies_fat=%" PRIuFAST64 "\n", atomic_load(&c->bodies_fat));
    fprintf(out, "grew_tiny_to_fat=%" PRIuFAST64 "\n", atomic_load(&c->grew_tiny_to_fat));
    static const char *const kinds[4] = {"catch", "filter", "finally", "fault"};
    for (int i = 0; i < 4; i++)
        fprintf(out, "clauses.%s=%" PRIuFAST64 "\n", kinds[i], atomic_load(&c->clauses[i]));
    fprintf(out, "skipped=%" PRIu64 "\n", skipped);
    for (int i = 0; i < PROF_SKIP_COUNT; i++)
        fprintf(out, "skipped.%s=%" PRIuFAST64 "  # %s\n", skip_names[i],
                atomic_load(&c->skipped[i]), skip_texts[i]);
    fprintf(out, "allocations=%" PRIu64 "\n", allocs);
    fprintf(out, "bytes_allocated=%" PRIuFAST64 "\n", atomic_load(&c->bytes_allocated));
    fprintf(out, "alloc_ns_mean=%.1f\n",
            allocs ? (double)atomic_load(&c->alloc_ns) / (double)allocs : 0.0);
    uint64_t firsts = atomic_load(&c->first_allocs), rest = allocs - firsts;
    fprintf(out, "alloc_first_per_module=%" PRIu64 "\n", firsts);
    fprintf(out, "alloc_first_ns_mean=%.1f\n",
            firsts ? (double)atomic_load(&c->first_alloc_ns) / (double)firsts : 0.0);
    fprintf(out, "alloc_rest_ns_p50=%.0f\n", rest ? hist_percentile(c, 0.50, rest) : 0.0);
    fprintf(out, "alloc_rest_ns_p90=%.0f\n", rest ? hist_percentile(c, 0.90, rest) : 0.0);
    fprintf(out, "alloc_rest_ns_p99=%.0f\n", rest ? hist_percentile(c, 0.99, rest) : 0.0);
    fprintf(out, "window=%#" PRIx64 "\n", cfg->window);
    fprintf(out, "window_checked=%" PRIu64 "\n", checked);
    fprintf(out, "window_violations=%" PRIuFAST64 "\n", atomic_load(&c->window_violations));
    fprintf(out, "bodies_fallback=%" PRIuFAST64 "\n", atomic_load(&c->bodies_fallback));
    fprintf(out, "window_below_base=%" PRIuFAST64 "\n", atomic_load(&c->below_base));
    fprintf(out, "bodies_beyond_2gib=%" PRIuFAST64 "\n", atomic_load(&c->beyond_2gib));
    if (checked) {
        int64_t lo = atomic_load(&c->min_offset), hi = atomic_load(&c->max_end_offset);
        fprintf(out, "offset_min=%s%#" PRIx64 "\n", lo < 0 ? "-" : "",
                lo < 0 ? (uint64_t)0 - (uint64_t)lo : (uint64_t)lo);
        fprintf(out, "offset_max_end=%s%#" PRIx64 "\n", hi < 0 ? "-" : "",
                hi < 0 ? (uint64_t)0 - (uint64_t)hi : (uint64_t)hi);
    }
    fprintf(out, "modules_loaded=%" PRIuFAST64 "\n", atomic_load(&c->modules_loaded));
    fprintf(out, "modules_unloaded=%" PRIuFAST64 "\n", atomic_load(&c->modules_unloaded));
    fprintf(out, "modules_flat=%" PRIuFAST64 "\n", atomic_load(&c->modules_flat));
    fprintf(out, "modules_collectible=%" PRIuFAST64 "\n", atomic_load(&c->modules_collectible));
    fprintf(out, "collectible_unloaded=%" PRIuFAST64 "\n", atomic_load(&c->collectible_unloaded));
    fprintf(out, "heaps_created=%" PRIuFAST64 "\n", atomic_load(&c->heaps_created));
    fprintf(out, "heaps_released=%" PRIuFAST64 "\n", atomic_load(&c->heaps_released));
    fprintf(out, "live_heaps=%" PRIuFAST64 "\n", atomic_load(&c->live_heaps));
    fprintf(out, "live_heaps_peak=%" PRIuFAST64 "\n", atomic_load(&c->live_heaps_peak));
    fprintf(out, "live_heaps_collectible=%" PRIuFAST64 "\n",
            atomic_load(&c->live_heaps_collectible));
    /* A counts file that could not be written turned counting off. */
    if (cfg->mode == PROF_MODE_CALLS || cfg->mode == PROF_MODE_BLOCKS || prof_g.counts_error[0])
        fprintf(out, "counts_error=%s\n", prof_g.counts_error[0] ? prof_g.counts_error : "none");
    if (cfg->mode == PROF_MODE_CALLS || cfg->mode == PROF_MODE_BLOCKS) {
        fprintf(out, "counts_path=%s\n", cfg->counts_path);
        fprintf(out, "counts_lost=%" PRIuFAST64 "\n", atomic_load(&c->counts_lost));
        fprintf(out, "counts_file_bytes=%" PRIu64 "\n", prof_counts_file_bytes());
        fprintf(out, "instrumented=%" PRIuFAST64 "\n", atomic_load(&c->instrumented));
        fprintf(out, "probes=%" PRIuFAST64 "\n", atomic_load(&c->probes));
        fprintf(out, "counts_written=%" PRIuFAST64 "\n", atomic_load(&c->counts_written));
        fprintf(out, "inlining_refused=%" PRIuFAST64 "\n", atomic_load(&c->inlining_refused));
        fprintf(out, "counter_regions_live=%" PRIuFAST64 "\n", atomic_load(&c->counter_regions_live));
        fprintf(out, "counter_bytes_live=%" PRIuFAST64 "\n", atomic_load(&c->counter_bytes_live));
        fprintf(out, "counter_bytes_peak=%" PRIuFAST64 "\n", atomic_load(&c->counter_bytes_peak));
    }
    prof_modules_write_summary(out);
    fprintf(out, "process_free_ranges=%" PRIu64 "\n", count_free_ranges());
    /* prof_diag lines, one "note=" each (only when the report has a path). */
    for (const char *line = prof_g.notes; *line;) {
        const char *nl = strchr(line, '\n');
        int len = nl ? (int)(nl - line) : (int)strlen(line);
        fprintf(out, "note=%.*s\n", len, line);
        line += len + (nl != NULL);
    }
    fflush(out);
    if (out != stderr)
        fclose(out);
}
