/* Counter memory and the counts file (ILHEAP_COUNTS).
 *
 * Each module has one region of counters, owned by the profiler (never in
 * the module's ilheap heap: the room above the module is for bodies). The
 * region grows by slabs that never move, because every probe has its
 * counter's address compiled into the method's IL. A method is published
 * (given a line in the file) only once its body is installed. The module's
 * lines are written once: at ModuleUnloadStarted, at ModuleUnloadFinished if
 * that never came, or at Shutdown; the region is freed with the module's
 * record, after ModuleUnloadFinished. */
#include "profiler.h"
#include "ilheap/pe.h" /* ilheap_pe_guid_text */

#include <inttypes.h>
#include <stdlib.h>

#include "ilheap/instrument.h"
#include "os.h"

#define SLAB_BYTES (64u * 1024u)

typedef struct slab {
    struct slab *next;
    size_t used, cap; /* in counters */
    int64_t counters[];
} slab_t;

typedef struct method {
    uint32_t token;
    uint32_t n;          /* blocks (1 in calls mode) */
    int64_t *counters;   /* in a slab */
    uint32_t *offsets;   /* original IL offsets of the blocks; NULL in calls mode */
    char *name;
} method_t;

struct prof_counts {
    prof_os_mutex_t lock;
    char *module;  /* file name */
    char *path;    /* as the runtime reports it */
    char mvid[37];
    slab_t *slabs;
    method_t *methods;
    size_t nmethods, cap;
    size_t bytes;  /* slabs and tables, for the report */
    int written;
};

static prof_os_mutex_t file_lock = PROF_OS_MUTEX_INIT;
static FILE *counts_file;
static int counts_file_failed;

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

prof_counts_t *prof_counts_create(const char *module, const char *path, const GUID *mvid)
{
    prof_counts_t *k = calloc(1, sizeof *k);
    if (!k)
        return NULL;
    k->module = strdup(module);
    k->path = strdup(path);
    if (!k->module || !k->path) {
        free(k->module);
        free(k->path);
        free(k);
        return NULL;
    }
    if (mvid) {
        uint8_t bytes[16]; /* the GUID as stored: its fields little-endian */
        memcpy(bytes, mvid, sizeof bytes);
        ilheap_pe_guid_text(bytes, k->mvid);
    }
    prof_os_mutex_init(&k->lock);
    k->bytes = sizeof *k;
    account((int64_t)k->bytes);
    atomic_fetch_add(&prof_g.counters.counter_regions_live, 1);
    return k;
}

int64_t *prof_counts_reserve(prof_counts_t *k, uint32_t n)
{
    if (!k || n == 0)
        return NULL;
    prof_os_mutex_lock(&k->lock);
    slab_t *s = k->slabs;
    if (!s || s->cap - s->used < n) {
        size_t cap = (SLAB_BYTES - sizeof *s) / sizeof(int64_t);
        if (cap < n)
            cap = n;
        s = calloc(1, sizeof *s + cap * sizeof(int64_t));
        if (!s) {
            prof_os_mutex_unlock(&k->lock);
            return NULL;
        }
        s->cap = cap;
        s->next = k->slabs;
        k->slabs = s;
        k->bytes += sizeof *s + cap * sizeof(int64_t);
        account((int64_t)(sizeof *s + cap * sizeof(int64_t)));
    }
    int64_t *p = s->counters + s->used;
    s->used += n;
    prof_os_mutex_unlock(&k->lock);
    return p;
}

int prof_counts_publish(prof_counts_t *k, uint32_t token, const char *name,
                        const ilheap_probe_key_t *keys, uint32_t n, int64_t *counters)
{
    method_t m = {.token = token, .n = n, .counters = counters};
    m.name = strdup(name);
    int blocks = keys[0].kind == ILHEAP_PROBE_BLOCK;
    if (blocks) {
        m.offsets = malloc((size_t)n * sizeof *m.offsets);
        for (uint32_t i = 0; m.offsets && i < n; i++)
            m.offsets[i] = keys[i].il_offset;
    }
    if (!m.name || (blocks && !m.offsets)) {
        free(m.name);
        free(m.offsets);
        return -1;
    }
    prof_os_mutex_lock(&k->lock);
    if (k->nmethods == k->cap) {
        size_t cap = k->cap ? k->cap * 2 : 64;
        method_t *t = realloc(k->methods, cap * sizeof *t);
        if (!t) {
            prof_os_mutex_unlock(&k->lock);
            free(m.name);
            free(m.offsets);
            return -1;
        }
        k->bytes += (cap - k->cap) * sizeof *t;
        account((int64_t)((cap - k->cap) * sizeof *t));
        k->methods = t;
        k->cap = cap;
    }
    k->methods[k->nmethods++] = m;
    prof_os_mutex_unlock(&k->lock);
    atomic_fetch_add(&prof_g.counters.instrumented, 1);
    atomic_fetch_add(&prof_g.counters.probes, n);
    return 0;
}

/* JSON string contents: quote, backslash and control characters escaped;
 * UTF-8 passes through. */
static void put_json(FILE *out, const char *s)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(out, "\\%c", c);
        else if (c < 0x20)
            fprintf(out, "\\u%04x", c);
        else
            fputc(c, out);
    }
}

/* The file is opened at the first write, so a run that instruments nothing
 * leaves none behind. Called with file_lock held. */
static FILE *open_file(void)
{
    if (counts_file || counts_file_failed)
        return counts_file;
    counts_file = prof_os_open_output(prof_g.config.counts_path);
    if (!counts_file) {
        counts_file_failed = 1;
        prof_diag("cannot open ILHEAP_COUNTS %s: counts are lost", prof_g.config.counts_path);
    }
    return counts_file;
}

void prof_counts_write(prof_counts_t *k)
{
    if (!k)
        return;
    prof_os_mutex_lock(&k->lock);
    if (k->written || k->nmethods == 0) {
        k->written = 1;
        prof_os_mutex_unlock(&k->lock);
        return;
    }
    k->written = 1;
    prof_os_mutex_lock(&file_lock);
    FILE *out = open_file();
    for (size_t i = 0; out && i < k->nmethods; i++) {
        const method_t *m = &k->methods[i];
        fputs("{\"module\":\"", out);
        put_json(out, k->module);
        fputs("\",\"path\":\"", out);
        put_json(out, k->path);
        fprintf(out, "\",\"mvid\":\"%s\",\"method\":\"", k->mvid);
        put_json(out, m->name);
        fprintf(out, "\",\"token\":\"0x%08" PRIx32 "\",", m->token);
        /* A relaxed snapshot: a count still rising on another thread at
         * Shutdown is written as it stands. */
        if (!m->offsets) {
            fprintf(out, "\"calls\":%" PRId64 "}\n", __atomic_load_n(&m->counters[0], __ATOMIC_RELAXED));
        } else {
            fputs("\"blocks\":[", out);
            for (uint32_t b = 0; b < m->n; b++)
                fprintf(out, "%s{\"il_offset\":%" PRIu32 ",\"hits\":%" PRId64 "}", b ? "," : "",
                        m->offsets[b], __atomic_load_n(&m->counters[b], __ATOMIC_RELAXED));
            fputs("]}\n", out);
        }
        atomic_fetch_add(&prof_g.counters.counts_written, 1);
    }
    if (out)
        fflush(out);
    prof_os_mutex_unlock(&file_lock);
    prof_os_mutex_unlock(&k->lock);
}

void prof_counts_destroy(prof_counts_t *k)
{
    if (!k)
        return;
    prof_counts_write(k); /* no count is lost, whatever the order of events */
    for (slab_t *s = k->slabs, *next; s; s = next) {
        next = s->next;
        free(s);
    }
    for (size_t i = 0; i < k->nmethods; i++) {
        free(k->methods[i].name);
        free(k->methods[i].offsets);
    }
    account(-(int64_t)k->bytes);
    atomic_fetch_sub(&prof_g.counters.counter_regions_live, 1);
    free(k->methods);
    free(k->module);
    free(k->path);
    prof_os_mutex_destroy(&k->lock);
    free(k);
}
