/* Counters and the report written at Shutdown.
 *
 * The report is one "key=value" per line so that scripts can read it:
 *   grep '^rewritten=' report
 * Every skipped method is counted under exactly one reason. */
#include "profiler.h"

#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>

#include "ilheap/heap.h"
#include "os.h"

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
    if (ilheap_free_ranges(0, UINTPTR_MAX, 1, count_free_range, &n) != ILHEAP_OK)
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
    case PROF_MODE_TIMING:
        return "timing";
    }
    return "?";
}

/* The settings the run had: the report's head. */
static void write_config(FILE *out, const prof_config_t *cfg)
{
    char buf[32];
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
}

static uint64_t load(const prof_counters_t *c, size_t at)
{
    return atomic_load((atomic_uint_fast64_t *)((char *)c + at));
}

/* The computed values: each writes its value into buf, or returns 0 to
 * leave its line out. */
typedef int (*value_fn)(const prof_counters_t *c, char *buf, size_t cap);

static int v_skipped(const prof_counters_t *c, char *buf, size_t cap)
{
    uint64_t skipped = 0;
    for (int i = 0; i < PROF_SKIP_COUNT; i++)
        skipped += atomic_load(&c->skipped[i]);
    return snprintf(buf, cap, "%" PRIu64, skipped) > 0;
}

static int v_mean(char *buf, size_t cap, uint64_t total, uint64_t n)
{
    return snprintf(buf, cap, "%.1f", n ? (double)total / (double)n : 0.0) > 0;
}

static int v_alloc_mean(const prof_counters_t *c, char *buf, size_t cap)
{
    return v_mean(buf, cap, atomic_load(&c->alloc_ns), atomic_load(&c->allocations));
}

static int v_first_mean(const prof_counters_t *c, char *buf, size_t cap)
{
    return v_mean(buf, cap, atomic_load(&c->first_alloc_ns), atomic_load(&c->first_allocs));
}

/* A percentile of the Allocs after each module's first. */
static int v_percentile(const prof_counters_t *c, char *buf, size_t cap, double q)
{
    uint64_t rest = atomic_load(&c->allocations) - atomic_load(&c->first_allocs);
    return snprintf(buf, cap, "%.0f", rest ? hist_percentile(c, q, rest) : 0.0) > 0;
}

static int v_p50(const prof_counters_t *c, char *buf, size_t cap)
{
    return v_percentile(c, buf, cap, 0.50);
}

static int v_p90(const prof_counters_t *c, char *buf, size_t cap)
{
    return v_percentile(c, buf, cap, 0.90);
}

static int v_p99(const prof_counters_t *c, char *buf, size_t cap)
{
    return v_percentile(c, buf, cap, 0.99);
}

static int v_window(const prof_counters_t *c, char *buf, size_t cap)
{
    (void)c;
    return snprintf(buf, cap, "%#" PRIx64, prof_g.config.window) > 0;
}

/* A signed offset from a module's base, once a body was checked. */
static int v_offset(const prof_counters_t *c, char *buf, size_t cap, int64_t v)
{
    if (!atomic_load(&c->window_checked))
        return 0;
    return snprintf(buf, cap, "%s%#" PRIx64, v < 0 ? "-" : "",
                    v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v) > 0;
}

static int v_offset_min(const prof_counters_t *c, char *buf, size_t cap)
{
    return v_offset(c, buf, cap, atomic_load(&c->min_offset));
}

static int v_offset_max_end(const prof_counters_t *c, char *buf, size_t cap)
{
    return v_offset(c, buf, cap, atomic_load(&c->max_end_offset));
}

static int v_counts_path(const prof_counters_t *c, char *buf, size_t cap)
{
    (void)c;
    return snprintf(buf, cap, "%s", prof_g.config.counts_path) >= 0;
}

/* Why the counts file could not be written ("none"): in the counting modes,
 * and when that failure turned counting off. */
static int v_counts_error(const prof_counters_t *c, char *buf, size_t cap)
{
    (void)c;
    int counting = prof_mode_counts(prof_g.config.mode);
    if (!counting && !prof_g.counts_error[0])
        return 0;
    return snprintf(buf, cap, "%s", prof_g.counts_error[0] ? prof_g.counts_error : "none") >= 0;
}

/* The last HRESULT SetILInstrumentedCodeMap refused with (only if any). */
static int v_il_map_error(const prof_counters_t *c, char *buf, size_t cap)
{
    uint32_t hr = (uint32_t)atomic_load(&c->il_map_error);
    return hr != 0 && snprintf(buf, cap, "0x%08x", (unsigned)hr) > 0;
}

static int v_counts_file_bytes(const prof_counters_t *c, char *buf, size_t cap)
{
    (void)c;
    return snprintf(buf, cap, "%" PRIu64, prof_counts_file_bytes()) > 0;
}

/* One line of the report: key=value, the value a counter (at) or computed
 * (value), then "  # note" if any; counting lines only in the calls and
 * blocks modes. */
typedef struct report_row {
    const char *key;
    size_t at;
    value_fn value;
    int counting;
    const char *note;
} report_row_t;

#define ROW(key, field) {key, offsetof(prof_counters_t, field), NULL, 0, NULL}
#define COMPUTED(key, fn) {key, 0, fn, 0, NULL}
#define COUNTING(key, field) {key, offsetof(prof_counters_t, field), NULL, 1, NULL}
#define SKIP_ROW(name, text) {"skipped." #name, offsetof(prof_counters_t, skipped[PROF_SKIP_##name]), NULL, 0, text},

static const report_row_t rows[] = {
    ROW("methods_seen", jit_started),
    ROW("rewritten", rewritten),
    ROW("replaced", replaced),
    ROW("rehomed_identical", rehomed_identical),
    ROW("bodies_tiny", bodies_tiny),
    ROW("bodies_fat", bodies_fat),
    ROW("grew_tiny_to_fat", grew_tiny_to_fat),
    ROW("clauses.catch", clauses[0]),
    ROW("clauses.filter", clauses[1]),
    ROW("clauses.finally", clauses[2]),
    ROW("clauses.fault", clauses[3]),
    COMPUTED("skipped", v_skipped),
    PROF_SKIP_LIST(SKIP_ROW)
    ROW("allocations", allocations),
    ROW("bytes_allocated", bytes_allocated),
    COMPUTED("alloc_ns_mean", v_alloc_mean),
    ROW("alloc_first_per_module", first_allocs),
    COMPUTED("alloc_first_ns_mean", v_first_mean),
    COMPUTED("alloc_rest_ns_p50", v_p50),
    COMPUTED("alloc_rest_ns_p90", v_p90),
    COMPUTED("alloc_rest_ns_p99", v_p99),
    COMPUTED("window", v_window),
    ROW("window_checked", window_checked),
    ROW("window_violations", window_violations),
    ROW("bodies_fallback", bodies_fallback),
    ROW("window_below_base", below_base),
    ROW("bodies_beyond_2gib", beyond_2gib),
    COMPUTED("offset_min", v_offset_min),
    COMPUTED("offset_max_end", v_offset_max_end),
    ROW("modules_loaded", modules_loaded),
    ROW("modules_unloaded", modules_unloaded),
    ROW("modules_flat", modules_flat),
    ROW("modules_collectible", modules_collectible),
    ROW("collectible_unloaded", collectible_unloaded),
    ROW("heaps_created", heaps_created),
    ROW("heaps_released", heaps_released),
    ROW("live_heaps", live_heaps),
    ROW("live_heaps_peak", live_heaps_peak),
    ROW("live_heaps_collectible", live_heaps_collectible),
    COMPUTED("counts_error", v_counts_error),
    {"counts_path", 0, v_counts_path, 1, NULL},
    COUNTING("counts_lost", counts_lost),
    {"counts_file_bytes", 0, v_counts_file_bytes, 1, NULL},
    COUNTING("instrumented", instrumented),
    COUNTING("probes", probes),
    COUNTING("counts_written", counts_written),
    COUNTING("inlining_allowed", inlining_allowed),
    COUNTING("inlining_refused", inlining_refused),
    COUNTING("il_maps_set", il_maps_set),
    COUNTING("il_maps_failed", il_maps_failed),
    {"il_map_error", 0, v_il_map_error, 1, NULL},
    COUNTING("counter_regions_live", counter_regions_live),
    COUNTING("counter_bytes_live", counter_bytes_live),
    COUNTING("counter_bytes_peak", counter_bytes_peak),
};

static void write_rows(FILE *out, const prof_counters_t *c, int counting)
{
    char buf[4200];
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        const report_row_t *r = &rows[i];
        if (r->counting && !counting)
            continue;
        if (r->value && !r->value(c, buf, sizeof buf))
            continue;
        if (!r->value)
            snprintf(buf, sizeof buf, "%" PRIu64, load(c, r->at));
        fprintf(out, "%s=%s%s%s\n", r->key, buf, r->note ? "  # " : "", r->note ? r->note : "");
    }
}

void prof_report_write(void)
{
    const prof_config_t *cfg = &prof_g.config;
    FILE *out = stderr;
    if (cfg->report_path[0]) {
        out = prof_os_open_output(cfg->report_path);
        if (!out)
            return; /* a guest with an output path never writes to the host's stderr */
    }
    write_config(out, cfg);
    write_rows(out, &prof_g.counters, prof_mode_counts(cfg->mode));
    prof_modules_write_summary(out);
    prof_rejit_write_summary(out);
    prof_timing_write_summary(out);
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
