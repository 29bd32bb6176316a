/* The counts file's writer (include/ilheap/counts.h): records appended whole
 * under one lock and published by a release store of the header's `end`.
 *
 * The file grows by extents, each mapped once and never moved: a probe's
 * counter address is compiled into IL, so live counters must never be
 * remapped. An extent's blocks are allocated when it is added (a full disk
 * is an error here, not a SIGBUS in a probe). A record never straddles two
 * extents: the rest of an extent too small for the next record becomes a pad
 * record. */
#include "counts/counts_internal.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "os/memory.h"
#include "status_internal.h"

#define EXTENT_MIN (256u * 1024u)
#define EXTENT_MAX (16u * 1024u * 1024u)
#define SLAB_BYTES (64u * 1024u)

typedef struct extent {
    uint8_t *base;
    uint64_t offset;
    size_t size;
} extent_t;

struct ilheap_counts_writer {
    pthread_mutex_t lock;
    ilheap_os_file_t file;
    uint8_t *header; /* the first extent's mapping */
    extent_t *extents;
    size_t nextents, extents_cap;
    uint64_t file_size; /* allocated and mapped */
    uint64_t next;      /* where the next record goes, in the last extent */
    uint8_t *slab;      /* the next free counter, and the end of its slab */
    uint8_t *slab_end;
};

static size_t round_up(size_t n, size_t unit)
{
    return (n + unit - 1) / unit * unit;
}

static size_t extent_size(const ilheap_counts_writer_t *w, size_t need)
{
    size_t gran = ilheap__os_granularity();
    uint64_t half = w->file_size / 2;
    size_t size = half < EXTENT_MIN ? EXTENT_MIN : half > EXTENT_MAX ? EXTENT_MAX : (size_t)half;
    if (need > size)
        size = need;
    return size > SIZE_MAX - gran ? 0 : round_up(size, gran);
}

/* Maps [file_size, file_size + size), already allocated, as the next extent. */
static ilheap_status_t map_extent(ilheap_counts_writer_t *w, size_t size)
{
    int e = 0;
    void *p = NULL;
    if (!cf_grow(&w->extents, &w->extents_cap, w->nextents + 1, sizeof *w->extents))
        return ilheap__fail(ILHEAP_ENOMEM, "the extents' table");
    if (ilheap__os_file_map(w->file, w->file_size, size, 1, &p, &e) != ILHEAP_OS_OK)
        return cf_os_fail(e, "mapping", NULL);
    w->extents[w->nextents++] = (extent_t){.base = p, .offset = w->file_size, .size = size};
    __atomic_store_n(&w->file_size, w->file_size + size, __ATOMIC_RELAXED);
    return ILHEAP_OK;
}

/* Allocates and maps one more extent of at least need bytes. */
static ilheap_status_t add_extent(ilheap_counts_writer_t *w, size_t need)
{
    size_t size = extent_size(w, need);
    int e = 0;
    if (size == 0)
        return ilheap__fail(ILHEAP_ENOMEM, "an extent of %zu bytes", need);
    if (ilheap__os_file_extend(w->file, w->file_size, size, &e) != ILHEAP_OS_OK)
        return cf_os_fail(e, "growing", NULL);
    return map_extent(w, size);
}

/* Room for a record of size bytes (a multiple of 8): *at its offset, *p its
 * zeroed bytes, head written. Not published. */
static ilheap_status_t append(ilheap_counts_writer_t *w, uint16_t kind, size_t size, uint64_t *at, uint8_t **p)
{
    if (size > UINT32_MAX)
        return ilheap__fail(ILHEAP_EINVAL, "a record of %zu bytes (at most 4 GiB)", size);
    extent_t *x = &w->extents[w->nextents - 1];
    uint64_t room = x->offset + x->size - w->next;
    if (size > room) {
        uint8_t *pad = x->base + (w->next - x->offset);
        ilheap_status_t st = add_extent(w, size);
        if (st != ILHEAP_OK)
            return st;
        if (room != 0) { /* the old extent's rest: a pad record */
            cf_put32(pad, CF_PAD);
            cf_put32(pad + 4, (uint32_t)room);
        }
        x = &w->extents[w->nextents - 1];
        w->next = x->offset;
    }
    *at = w->next;
    *p = x->base + (w->next - x->offset);
    cf_put32(*p, kind);
    cf_put32(*p + 4, (uint32_t)size);
    w->next += size;
    return ILHEAP_OK;
}

static void publish(ilheap_counts_writer_t *w)
{
    __atomic_store_n((uint64_t *)(void *)(w->header + CF_END), w->next, __ATOMIC_RELEASE);
}

/* The extent holding [p, p + n), or NULL. */
static const extent_t *extent_of(const ilheap_counts_writer_t *w, const void *p, size_t n)
{
    uintptr_t a = (uintptr_t)p;
    for (size_t i = w->nextents; i-- > 0;) {
        uintptr_t b = (uintptr_t)w->extents[i].base;
        if (a >= b && a - b <= w->extents[i].size && n <= w->extents[i].size - (a - b))
            return &w->extents[i];
    }
    return NULL;
}

static uint64_t mix(uint64_t x)
{
    x += 0x9E3779B97F4A7C15ull;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    return x ^ (x >> 31);
}

static void fill_header(uint8_t h[CF_HEADER_SIZE], const ilheap_counts_writer_t *w, const ilheap_os_process_t *self,
                        uint32_t flags, uint64_t replaced)
{
    uint64_t now = ilheap__os_time_ns();
    memset(h, 0, CF_HEADER_SIZE);
    memcpy(h, CF_MAGIC, 8);
    cf_put32(h + CF_VERSION, ILHEAP_COUNTS_FORMAT);
    cf_put32(h + CF_HEADER, CF_HEADER_SIZE);
    cf_put64(h + CF_FILE_ID, mix(now ^ mix(self->pid ^ mix(self->start ^ (uint64_t)(uintptr_t)w))));
    cf_put64(h + CF_PID, self->pid);
    cf_put64(h + CF_START, self->start);
    memcpy(h + CF_BOOT, self->boot, 16);
    cf_put64(h + CF_CREATED, now);
    cf_put32(h + CF_STATE, CF_RUNNING);
    cf_put32(h + CF_FLAGS, flags);
    cf_put64(h + CF_END, CF_HEADER_SIZE);
    cf_put64(h + CF_REPLACED, replaced);
}

/* The new file under tmp, then under path: its first extent allocated and
 * its header written before it has the name (a reader never sees it
 * empty), mapped only after (a mapping keeps the name it was made under, in
 * some tools' eyes: valgrind's). */
static ilheap_status_t start(ilheap_counts_writer_t *w, const char *tmp, const char *path,
                             const ilheap_os_process_t *self, uint32_t flags, uint64_t replaced)
{
    uint8_t h[CF_HEADER_SIZE];
    size_t size = extent_size(w, CF_HEADER_SIZE);
    int e = 0;
    fill_header(h, w, self, flags, replaced);
    if (ilheap__os_file_extend(w->file, 0, size, &e) != ILHEAP_OS_OK)
        return cf_os_fail(e, "growing", path);
    if (ilheap__os_file_write(w->file, 0, h, sizeof h, &e) != ILHEAP_OS_OK)
        return cf_os_fail(e, "writing", path);
    if (ilheap__os_file_rename(tmp, path, &e) != ILHEAP_OS_OK)
        return cf_os_fail(e, "naming the new file", path);
    ilheap_status_t st = map_extent(w, size);
    if (st != ILHEAP_OK) {
        (void)ilheap__os_file_remove(path, NULL); /* ours: named a moment ago */
        return st;
    }
    w->header = w->extents[0].base;
    w->next = CF_HEADER_SIZE;
    return ILHEAP_OK;
}

static void unmap_all(ilheap_counts_writer_t *w)
{
    for (size_t i = 0; i < w->nextents; i++)
        (void)ilheap__os_file_unmap(w->extents[i].base, w->extents[i].size, NULL);
    ilheap__mem_free(w->extents);
    w->extents = NULL;
    w->nextents = 0;
}

ilheap_status_t ilheap_counts_create(const char *path, uint32_t flags, ilheap_counts_writer_t **out)
{
    if (path == NULL || out == NULL || path[0] == 0)
        return ilheap__fail(ILHEAP_EINVAL, "ilheap_counts_create: no path");
    *out = NULL;
    ilheap_os_process_t self;
    int e = 0;
    ilheap_os_result_t r = ilheap__os_process_self(&self, &e);
    if (r != ILHEAP_OS_OK)
        return cf_os_fail(e, "reading the process's identity for", path);
    uint64_t replaced = 0;
    cf_running_writer(path, &replaced);
    size_t tmp_cap = strlen(path) + 64;
    char *tmp = ilheap__mem_alloc(1, tmp_cap);
    ilheap_counts_writer_t *w = ilheap__mem_zalloc(1, sizeof *w);
    if (tmp == NULL || w == NULL) {
        ilheap__mem_free(tmp);
        ilheap__mem_free(w);
        return ilheap__fail(ILHEAP_ENOMEM, "a counts writer");
    }
    w->file = ILHEAP_OS_NO_FILE;
    ilheap_status_t st = ILHEAP_OK;
    if (ilheap__os_file_create_temp(path, tmp, tmp_cap, &w->file, &e) != ILHEAP_OS_OK)
        st = cf_os_fail(e, "creating a file beside", path);
    else
        st = start(w, tmp, path, &self, flags, replaced);
    if (st != ILHEAP_OK) {
        unmap_all(w);
        if (w->file != ILHEAP_OS_NO_FILE) {
            ilheap__os_file_close(w->file);
            (void)ilheap__os_file_remove(tmp, NULL);
        }
        ilheap__mem_free(w);
    } else {
        pthread_mutex_init(&w->lock, NULL);
        *out = w;
    }
    ilheap__mem_free(tmp);
    return st;
}

ilheap_status_t ilheap_counts_add_module(ilheap_counts_writer_t *w, const char *path, const char *name,
                                         const uint8_t *mvid, uint64_t *module)
{
    if (w == NULL || path == NULL || name == NULL || module == NULL)
        return ilheap__fail(ILHEAP_EINVAL, "ilheap_counts_add_module: a NULL argument");
    size_t path_len = strlen(path), name_len = strlen(name);
    if (path_len > UINT32_MAX / 2 || name_len > UINT32_MAX / 2)
        return ilheap__fail(ILHEAP_EINVAL, "a module path of %zu bytes", path_len);
    size_t size = round_up(CF_MODULE_FIXED + path_len + name_len, 8);
    pthread_mutex_lock(&w->lock);
    uint8_t *p;
    ilheap_status_t st = append(w, CF_MODULE, size, module, &p);
    if (st == ILHEAP_OK) {
        if (mvid != NULL)
            memcpy(p + 8, mvid, 16);
        cf_put32(p + 24, mvid != NULL);
        cf_put32(p + 28, (uint32_t)path_len);
        cf_put32(p + 32, (uint32_t)name_len);
        memcpy(p + CF_MODULE_FIXED, path, path_len);
        memcpy(p + CF_MODULE_FIXED + path_len, name, name_len);
        publish(w);
    }
    pthread_mutex_unlock(&w->lock);
    return st;
}

ilheap_status_t ilheap_counts_reserve(ilheap_counts_writer_t *w, size_t n, uint64_t **counters)
{
    if (w == NULL || counters == NULL || n == 0 || n > (UINT32_MAX - CF_RECORD_HEAD) / 8)
        return ilheap__fail(ILHEAP_EINVAL, "ilheap_counts_reserve: %zu counters", n);
    pthread_mutex_lock(&w->lock);
    ilheap_status_t st = ILHEAP_OK;
    if ((size_t)(w->slab_end - w->slab) < 8 * n) {
        size_t size = 8 * n + CF_RECORD_HEAD < SLAB_BYTES ? SLAB_BYTES : 8 * n + CF_RECORD_HEAD;
        uint64_t at;
        uint8_t *p;
        if ((st = append(w, CF_SLAB, size, &at, &p)) == ILHEAP_OK) {
            w->slab = p + CF_RECORD_HEAD;
            w->slab_end = p + size;
        }
    }
    if (st == ILHEAP_OK) {
        *counters = (uint64_t *)(void *)w->slab;
        w->slab += 8 * n;
    }
    pthread_mutex_unlock(&w->lock);
    return st;
}

/* What a counted record carries beside its head, module and counters. */
typedef struct counted {
    uint16_t kind;
    uint32_t token;
    const char *name;
    size_t name_len;
    const ilheap_probe_key_t *keys; /* CF_METHOD */
    size_t n;                       /* counters */
    uint64_t ticks_per_second;      /* CF_TIMING */
} counted_t;

static void fill_counted(uint8_t *p, uint64_t module, uint64_t counters_at, const counted_t *r)
{
    cf_put64(p + 8, module);
    cf_put64(p + 16, counters_at);
    cf_put32(p + 24, r->token);
    if (r->kind == CF_TIMING) {
        cf_put32(p + 28, (uint32_t)r->name_len);
        cf_put64(p + 32, r->ticks_per_second);
        memcpy(p + CF_TIMING_FIXED, r->name, r->name_len);
        return;
    }
    cf_put32(p + 28, (uint32_t)r->n);
    cf_put32(p + 32, (uint32_t)r->name_len);
    for (size_t i = 0; i < r->n; i++)
        cf_put64(p + CF_METHOD_FIXED + 8 * i, cf_key_pack(r->keys[i]));
    memcpy(p + CF_METHOD_FIXED + 8 * r->n, r->name, r->name_len);
}

/* Appends and publishes a method or timed method of size bytes, once its
 * counters and module are found to be this file's. */
static ilheap_status_t add_counted(ilheap_counts_writer_t *w, uint64_t module, const uint64_t *counters,
                                   const counted_t *r, size_t size, uint64_t *record)
{
    pthread_mutex_lock(&w->lock);
    const extent_t *x = extent_of(w, counters, 8 * r->n);
    ilheap_status_t st = ILHEAP_OK;
    if (x == NULL || module < CF_HEADER_SIZE || module >= w->next)
        st = ilheap__fail(ILHEAP_EINVAL, "%s: counters or module not of this file",
                          r->kind == CF_TIMING ? "ilheap_counts_add_timing" : "ilheap_counts_add_method");
    uint64_t at = 0;
    uint8_t *p;
    if (st == ILHEAP_OK && (st = append(w, r->kind, size, &at, &p)) == ILHEAP_OK) {
        fill_counted(p, module, x->offset + (uint64_t)((const uint8_t *)counters - x->base), r);
        publish(w);
        if (record != NULL)
            *record = at;
    }
    pthread_mutex_unlock(&w->lock);
    return st;
}

ilheap_status_t ilheap_counts_add_method(ilheap_counts_writer_t *w, uint64_t module, uint32_t token, const char *name,
                                         const ilheap_probe_key_t *keys, size_t n, const uint64_t *counters,
                                         uint64_t *method)
{
    if (w == NULL || name == NULL || keys == NULL || counters == NULL || n == 0 || n > UINT32_MAX / 16)
        return ilheap__fail(ILHEAP_EINVAL, "ilheap_counts_add_method: a NULL argument or %zu probes", n);
    counted_t r = {.kind = CF_METHOD, .token = token, .name = name, .name_len = strlen(name), .keys = keys, .n = n};
    if (r.name_len > UINT32_MAX / 2)
        return ilheap__fail(ILHEAP_EINVAL, "a method name of %zu bytes", r.name_len);
    return add_counted(w, module, counters, &r, round_up(CF_METHOD_FIXED + 8 * n + r.name_len, 8), method);
}

ilheap_status_t ilheap_counts_add_timing(ilheap_counts_writer_t *w, uint64_t module, uint32_t token, const char *name,
                                         const uint64_t *counters, uint64_t ticks_per_second, uint64_t *method)
{
    if (w == NULL || name == NULL || counters == NULL || ticks_per_second == 0 ||
        ticks_per_second > CF_TICKS_PER_SECOND_MAX)
        return ilheap__fail(ILHEAP_EINVAL, "ilheap_counts_add_timing: a NULL argument or %llu ticks per second",
                            (unsigned long long)ticks_per_second);
    counted_t r = {.kind = CF_TIMING, .token = token, .name = name, .name_len = strlen(name),
                   .n = ILHEAP_COUNTS_TIMING_COUNTERS, .ticks_per_second = ticks_per_second};
    if (r.name_len > UINT32_MAX / 2)
        return ilheap__fail(ILHEAP_EINVAL, "a method name of %zu bytes", r.name_len);
    return add_counted(w, module, counters, &r, round_up(CF_TIMING_FIXED + r.name_len, 8), method);
}

void ilheap_counts_withdraw(ilheap_counts_writer_t *w, uint64_t method)
{
    if (w == NULL)
        return;
    pthread_mutex_lock(&w->lock);
    for (size_t i = 0; i < w->nextents; i++) {
        const extent_t *x = &w->extents[i];
        if (method >= x->offset && method - x->offset < x->size) {
            uint8_t *flags = x->base + (method - x->offset) + 2;
            __atomic_fetch_or(flags, (uint8_t)CF_WITHDRAWN, __ATOMIC_RELEASE);
            break;
        }
    }
    pthread_mutex_unlock(&w->lock);
}

void ilheap_counts_lost(ilheap_counts_writer_t *w, uint64_t n)
{
    if (w != NULL)
        __atomic_fetch_add((uint64_t *)(void *)(w->header + CF_LOST), n, __ATOMIC_RELAXED);
}

ilheap_status_t ilheap_counts_finish(ilheap_counts_writer_t *w)
{
    if (w == NULL)
        return ilheap__fail(ILHEAP_EINVAL, "ilheap_counts_finish: no writer");
    __atomic_store_n((uint32_t *)(void *)(w->header + CF_STATE), (uint32_t)CF_EXITED, __ATOMIC_RELEASE);
    int e = 0;
    ilheap_os_result_t r = ilheap__os_file_sync(w->header, ilheap__os_page_size(), &e);
    return r == ILHEAP_OS_OK ? ILHEAP_OK : cf_os_fail(e, "writing", NULL);
}

uint64_t ilheap_counts_file_bytes(const ilheap_counts_writer_t *w)
{
    return w != NULL ? __atomic_load_n(&w->file_size, __ATOMIC_RELAXED) : 0;
}

void ilheap_counts_writer_destroy(ilheap_counts_writer_t *w)
{
    if (w == NULL)
        return;
    unmap_all(w);
    ilheap__os_file_close(w->file);
    pthread_mutex_destroy(&w->lock);
    ilheap__mem_free(w);
}
