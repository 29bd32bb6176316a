/* The counts file (ILHEAP_COUNTS), through the library's one writer
 * (ilheap/counts.h).
 *
 * In the counting modes the file is created at Initialize and mapped
 * shared: the probes increment counters that live in the file, so the file
 * holds what ran at every instant and nothing is written at exit but the
 * completion mark. Each module gets a record in the file at its first
 * instrumented method, each method a record before its new body reaches the
 * runtime (withdrawn if the body is refused). A module's counters stay in
 * the file after it unloads; only its small record here is freed. */
#include "profiler.h"

#include <stdlib.h>

#include "ilheap/counts.h"

struct prof_counts {
    uint64_t module; /* the module's record in the file */
};

static ilheap_counts_writer_t *writer;

static void account(int64_t delta)
{
    prof_counters_t *c = &prof_g.counters;
    if (delta < 0) {
        atomic_fetch_sub(&c->counter_bytes_live, (uint64_t)-delta);
        return;
    }
    uint64_t now = atomic_fetch_add(&c->counter_bytes_live, (uint64_t)delta) + (uint64_t)delta;
    uint64_t peak = atomic_load(&c->counter_bytes_peak);
    while (now > peak && !atomic_compare_exchange_weak(&c->counter_bytes_peak, &peak, now)) {
    }
}

int prof_counts_start(void)
{
    const prof_config_t *cfg = &prof_g.config;
    uint32_t flags = (cfg->mode == PROF_MODE_CALLS    ? ILHEAP_COUNTS_CALLS
                      : cfg->mode == PROF_MODE_TIMING ? ILHEAP_COUNTS_TIMING
                                                      : ILHEAP_COUNTS_BLOCKS) |
                     (cfg->atomic ? ILHEAP_COUNTS_ATOMIC : 0) | (cfg->counts_shared ? ILHEAP_COUNTS_SHARED_PATH : 0);
    ilheap_counts_writer_t *w;
    if (ilheap_counts_create(cfg->counts_path, flags, &w) != ILHEAP_OK) {
        snprintf(prof_g.counts_error, sizeof prof_g.counts_error, "%s", ilheap_last_message());
        prof_diag("error: ILHEAP_COUNTS=%s cannot be written (%s): nothing is counted in this process",
                  cfg->counts_path, ilheap_last_message());
        return -1;
    }
    writer = w; /* the counters stay mapped for the process's life */
    if (cfg->counts_shared)
        prof_diag("warning: ILHEAP_COUNTS=%s has no %%p: another process with the same setting replaces this "
                  "file (dotnet test starts several)", cfg->counts_path);
    return 0;
}

void prof_counts_finish(void)
{
    if (writer != NULL && ilheap_counts_finish(writer) != ILHEAP_OK)
        prof_diag("the counts file's completion mark: %s", ilheap_last_message());
}

uint64_t prof_counts_file_bytes(void)
{
    return ilheap_counts_file_bytes(writer);
}

prof_counts_t *prof_counts_create(const char *module, const char *path, const GUID *mvid)
{
    prof_counts_t *k = writer != NULL ? calloc(1, sizeof *k) : NULL;
    if (k == NULL)
        return NULL;
    uint8_t bytes[16]; /* the GUID as stored in #GUID: its fields little-endian */
    if (mvid != NULL)
        memcpy(bytes, mvid, sizeof bytes);
    if (ilheap_counts_add_module(writer, path, module, mvid != NULL ? bytes : NULL, &k->module) != ILHEAP_OK) {
        prof_diag("the counts file: %s", ilheap_last_message());
        free(k);
        return NULL;
    }
    account((int64_t)sizeof *k);
    atomic_fetch_add(&prof_g.counters.counter_regions_live, 1);
    return k;
}

int64_t *prof_counts_reserve(prof_counts_t *k, uint32_t n)
{
    uint64_t *counters = NULL;
    if (k == NULL || n == 0)
        return NULL;
    if (ilheap_counts_reserve(writer, n, &counters) != ILHEAP_OK) {
        ilheap_counts_lost(writer, 1); /* no room in the file: the method stays uncounted, and readers say so */
        atomic_fetch_add(&prof_g.counters.counts_lost, 1);
        return NULL;
    }
    return (int64_t *)(void *)counters;
}

int prof_counts_publish(prof_counts_t *k, uint32_t token, const char *name, const ilheap_probe_key_t *keys,
                        uint32_t n, int64_t *counters, uint64_t *handle)
{
    if (ilheap_counts_add_method(writer, k->module, token, name, keys, n, (const uint64_t *)(void *)counters,
                                 handle) != ILHEAP_OK) {
        ilheap_counts_lost(writer, 1);
        atomic_fetch_add(&prof_g.counters.counts_lost, 1);
        return -1;
    }
    atomic_fetch_add(&prof_g.counters.counts_written, 1);
    return 0;
}

int prof_counts_publish_timing(prof_counts_t *k, uint32_t token, const char *name, int64_t *counters,
                               uint64_t ticks_per_second, uint64_t *handle)
{
    if (ilheap_counts_add_timing(writer, k->module, token, name, (const uint64_t *)(void *)counters,
                                 ticks_per_second, handle) != ILHEAP_OK) {
        ilheap_counts_lost(writer, 1);
        atomic_fetch_add(&prof_g.counters.counts_lost, 1);
        return -1;
    }
    atomic_fetch_add(&prof_g.counters.counts_written, 1);
    return 0;
}

void prof_counts_withdraw(uint64_t handle)
{
    ilheap_counts_withdraw(writer, handle);
    atomic_fetch_sub(&prof_g.counters.counts_written, 1);
}

void prof_counts_destroy(prof_counts_t *k)
{
    if (k == NULL)
        return;
    account(-(int64_t)sizeof *k);
    atomic_fetch_sub(&prof_g.counters.counter_regions_live, 1);
    free(k);
}
