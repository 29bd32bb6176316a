/* Reading the counts file format (counts.h) into a reader's index: the
 * header, then every record up to the published end, each field checked
 * against the bytes that are there (sizes by subtraction, never by an
 * addition that could wrap). */
#include "counts/counts_internal.h"

#include <stdlib.h>
#include <string.h>

#include "os/memory.h"
#include "status_internal.h"

/* Fails with status st at offset off (message "at offset N: ..."). */
#define BAD(st, off, fmt, ...)                                                                               \
    (*error_offset = (off),                                                                                  \
     ilheap__fail((st), "at offset %llu: " fmt, (unsigned long long)(off), __VA_ARGS__))

typedef struct span {
    uint64_t start, end;
} span_t;

/* The walk: the slabs' counter areas seen so far (ascending). */
typedef struct walk {
    ilheap_counts_t *c;
    uint64_t end;
    span_t *slabs;
    size_t nslabs, slabs_cap;
    uint64_t *error_offset;
} walk_t;

int cf_is_file(const uint8_t *data, size_t size)
{
    return size >= 8 && memcmp(data, CF_MAGIC, 8) == 0;
}

static ilheap_status_t read_header(ilheap_counts_t *c, uint64_t *end, uint64_t *error_offset)
{
    const uint8_t *h = c->data;
    if (c->size < CF_HEADER_SIZE)
        return BAD(ILHEAP_COUNTS_TRUNCATED, (uint64_t)c->size, "the header needs %u bytes, the file has %zu",
                   CF_HEADER_SIZE, c->size);
    uint32_t version = cf_le32(h + CF_VERSION), hsize = cf_le32(h + CF_HEADER), state = cf_le32(h + CF_STATE);
    if (version != ILHEAP_COUNTS_FORMAT)
        return BAD(ILHEAP_COUNTS_VERSION, CF_VERSION, "version %u (this reader knows %u)", version,
                   ILHEAP_COUNTS_FORMAT);
    if (hsize < CF_HEADER_SIZE || hsize % 8 != 0 || hsize > c->size)
        return BAD(ILHEAP_COUNTS_CORRUPT, CF_HEADER, "a header size of %u", hsize);
    if (state != CF_RUNNING && state != CF_EXITED)
        return BAD(ILHEAP_COUNTS_CORRUPT, CF_STATE, "state %u", state);
    *end = cf_load_acquire(h + CF_END);
    if (*end < hsize || *end % 8 != 0)
        return BAD(ILHEAP_COUNTS_CORRUPT, CF_END, "records end at %llu", (unsigned long long)*end);
    if (*end > c->size)
        return BAD(ILHEAP_COUNTS_TRUNCATED, (uint64_t)c->size, "records end at %llu, the file has %zu bytes",
                   (unsigned long long)*end, c->size);
    c->info.version = version;
    c->info.flags = cf_le32(h + CF_FLAGS);
    c->info.file_id = cf_le64(h + CF_FILE_ID);
    c->info.pid = c->writer.pid = cf_le64(h + CF_PID);
    c->writer.start = cf_le64(h + CF_START);
    memcpy(c->writer.boot, h + CF_BOOT, 16);
    c->info.created_ns = cf_le64(h + CF_CREATED);
    c->info.lost = cf_load_relaxed((const uint64_t *)(const void *)(h + CF_LOST));
    c->info.replaced_pid = cf_le64(h + CF_REPLACED);
    c->info.snapshot_ns = cf_le64(h + CF_SNAPSHOT);
    c->info.bytes = *end;
    c->exited = state == CF_EXITED;
    return ILHEAP_OK;
}

/* 1 when the n bytes hold no NUL (names are C strings once read). */
static int no_nul(const uint8_t *p, size_t n)
{
    return memchr(p, 0, n) == NULL;
}

static ilheap_status_t read_module(walk_t *w, uint64_t at, uint32_t size)
{
    uint64_t *error_offset = w->error_offset;
    const uint8_t *p = w->c->data + at;
    uint32_t has = cf_le32(p + 24), path_len = cf_le32(p + 28), name_len = cf_le32(p + 32);
    if (has > 1)
        return BAD(ILHEAP_COUNTS_CORRUPT, at + 24, "an MVID flag of %u", has);
    if (path_len > size - CF_MODULE_FIXED || name_len > size - CF_MODULE_FIXED - path_len)
        return BAD(ILHEAP_COUNTS_CORRUPT, at + 28, "a path of %u and a name of %u bytes in a record of %u", path_len,
                   name_len, size);
    const uint8_t *path = p + CF_MODULE_FIXED, *name = path + path_len;
    if (!no_nul(path, path_len) || !no_nul(name, name_len))
        return BAD(ILHEAP_COUNTS_CORRUPT, at + CF_MODULE_FIXED, "a NUL byte in a module's path or name%s", "");
    size_t index;
    return cf_index_module(w->c, (const char *)path, path_len, (const char *)name, name_len, has ? p + 8 : NULL, at,
                           &index);
}

/* The module whose record is at offset at; -1 if none. */
static ptrdiff_t module_at(const ilheap_counts_t *c, uint64_t at)
{
    size_t lo = 0, hi = c->nmodules;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (c->modules[mid].where < at)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < c->nmodules && c->modules[lo].where == at ? (ptrdiff_t)lo : -1;
}

/* 1 when [at, at + 8n) lies in the counters of one slab seen so far. */
static int in_slab(const walk_t *w, uint64_t at, uint64_t n)
{
    size_t lo = 0, hi = w->nslabs;
    while (lo < hi) { /* the last slab starting at or before at */
        size_t mid = lo + (hi - lo) / 2;
        if (w->slabs[mid].start <= at)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == 0)
        return 0;
    const span_t *s = &w->slabs[lo - 1];
    return at < s->end && n <= (s->end - at) / 8;
}

/* The keys: known kinds, and block offsets ascending (the export's rule). */
static ilheap_status_t check_keys(walk_t *w, uint64_t at, const uint8_t *p, uint32_t n, uint64_t *out)
{
    uint64_t *error_offset = w->error_offset;
    int64_t last_block = -1;
    for (uint32_t i = 0; i < n; i++) {
        uint64_t v = cf_le64(p + 8 * (size_t)i);
        ilheap_probe_key_t k = cf_key_unpack(v);
        uint64_t where = at + CF_METHOD_FIXED + 8 * (uint64_t)i;
        if (k.kind < ILHEAP_PROBE_ENTRY || k.kind > ILHEAP_PROBE_EDGE || (k.kind != ILHEAP_PROBE_EDGE && k.outcome != 0) ||
            (k.kind == ILHEAP_PROBE_ENTRY && (k.il_offset != 0 || n != 1)))
            return BAD(ILHEAP_COUNTS_CORRUPT, where, "probe key %#llx", (unsigned long long)v);
        if (k.kind == ILHEAP_PROBE_BLOCK) {
            if ((int64_t)k.il_offset <= last_block)
                return BAD(ILHEAP_COUNTS_CORRUPT, where, "block offset %u after %lld", k.il_offset,
                           (long long)last_block);
            last_block = k.il_offset;
        }
        out[i] = v;
    }
    return ILHEAP_OK;
}

/* A counted record's module (*mod, its index) and its n counters: a module
 * record and one slab, both before it. */
static ilheap_status_t check_owner(walk_t *w, uint64_t at, uint64_t module, uint64_t counters, uint64_t n,
                                   ptrdiff_t *mod)
{
    uint64_t *error_offset = w->error_offset;
    if ((*mod = module_at(w->c, module)) < 0)
        return BAD(ILHEAP_COUNTS_CORRUPT, at + 8, "no module record at %llu", (unsigned long long)module);
    if (counters % 8 != 0 || !in_slab(w, counters, n))
        return BAD(ILHEAP_COUNTS_CORRUPT, at + 16, "counters at %llu, outside every slab before it",
                   (unsigned long long)counters);
    return ILHEAP_OK;
}

static ilheap_status_t read_method(walk_t *w, uint64_t at, uint32_t size)
{
    uint64_t *error_offset = w->error_offset;
    const uint8_t *p = w->c->data + at;
    uint64_t module = cf_le64(p + 8), counters = cf_le64(p + 16);
    uint32_t token = cf_le32(p + 24), n = cf_le32(p + 28), name_len = cf_le32(p + 32);
    ptrdiff_t mod;
    ilheap_status_t st = check_owner(w, at, module, counters, n, &mod);
    if (st != ILHEAP_OK)
        return st;
    if (n == 0 || n > (size - CF_METHOD_FIXED) / 8 || name_len > size - CF_METHOD_FIXED - 8 * (uint64_t)n)
        return BAD(ILHEAP_COUNTS_CORRUPT, at + 28, "%u probes and a name of %u bytes in a record of %u", n, name_len,
                   size);
    const uint8_t *name = p + CF_METHOD_FIXED + 8 * (size_t)n;
    if (!no_nul(name, name_len))
        return BAD(ILHEAP_COUNTS_CORRUPT, at + CF_METHOD_FIXED + 8 * (uint64_t)n, "a NUL byte in a method name%s", "");
    if (__atomic_load_n(p + 2, __ATOMIC_ACQUIRE) & CF_WITHDRAWN)
        return ILHEAP_OK; /* its probes never ran */
    cf_method_t *m;
    st = cf_index_method(w->c, (size_t)mod, token, (const char *)name, name_len, n, at, &m);
    if (st != ILHEAP_OK)
        return st;
    m->live = (const uint64_t *)(const void *)(w->c->data + counters);
    return check_keys(w, at, p + CF_METHOD_FIXED, n, w->c->keys + m->first);
}

/* A timed method (kind 5): its three counters in a slab before it. */
static ilheap_status_t read_timing(walk_t *w, uint64_t at, uint32_t size)
{
    uint64_t *error_offset = w->error_offset;
    const uint8_t *p = w->c->data + at;
    uint64_t module = cf_le64(p + 8), counters = cf_le64(p + 16), tps = cf_le64(p + 32);
    uint32_t token = cf_le32(p + 24), name_len = cf_le32(p + 28);
    ptrdiff_t mod;
    ilheap_status_t st = check_owner(w, at, module, counters, ILHEAP_COUNTS_TIMING_COUNTERS, &mod);
    if (st != ILHEAP_OK)
        return st;
    if (name_len > size - CF_TIMING_FIXED)
        return BAD(ILHEAP_COUNTS_CORRUPT, at + 28, "a name of %u bytes in a record of %u", name_len, size);
    if (tps == 0 || tps > CF_TICKS_PER_SECOND_MAX)
        return BAD(ILHEAP_COUNTS_CORRUPT, at + 32, "%llu ticks per second", (unsigned long long)tps);
    const uint8_t *name = p + CF_TIMING_FIXED;
    if (!no_nul(name, name_len))
        return BAD(ILHEAP_COUNTS_CORRUPT, at + CF_TIMING_FIXED, "a NUL byte in a method name%s", "");
    if (__atomic_load_n(p + 2, __ATOMIC_ACQUIRE) & CF_WITHDRAWN)
        return ILHEAP_OK; /* its probes never ran */
    return cf_index_timing(w->c, (size_t)mod, token, (const char *)name, name_len, tps, at,
                           (const uint64_t *)(const void *)(w->c->data + counters));
}

/* The least size of a record of this kind (its fixed part), and the kind's
 * name for the error; the record head alone for a kind with no fixed part. */
static uint32_t fixed_size(uint32_t kind, const char **name)
{
    switch (kind) {
    case CF_MODULE:
        *name = "module";
        return CF_MODULE_FIXED;
    case CF_METHOD:
        *name = "method";
        return CF_METHOD_FIXED;
    case CF_TIMING:
        *name = "timing";
        return CF_TIMING_FIXED;
    default:
        *name = "";
        return CF_RECORD_HEAD;
    }
}

static ilheap_status_t read_record(walk_t *w, uint64_t at, uint32_t *size)
{
    uint64_t *error_offset = w->error_offset;
    const uint8_t *p = w->c->data + at;
    uint32_t kind = p[0] | (uint32_t)p[1] << 8;
    *size = cf_le32(p + 4);
    if (*size < CF_RECORD_HEAD || *size % 8 != 0 || *size > w->end - at)
        return BAD(ILHEAP_COUNTS_CORRUPT, at, "a record of %u bytes (%llu left)", *size,
                   (unsigned long long)(w->end - at));
    const char *name = NULL;
    if (*size < fixed_size(kind, &name))
        return BAD(ILHEAP_COUNTS_CORRUPT, at, "a %s record of %u bytes", name, *size);
    switch (kind) {
    case CF_MODULE:
        return read_module(w, at, *size);
    case CF_METHOD:
        return read_method(w, at, *size);
    case CF_SLAB:
        if (!cf_grow(&w->slabs, &w->slabs_cap, w->nslabs + 1, sizeof *w->slabs))
            return ilheap__fail(ILHEAP_ENOMEM, "a counts file's slabs");
        w->slabs[w->nslabs++] = (span_t){at + CF_RECORD_HEAD, at + *size};
        return ILHEAP_OK;
    case CF_TIMING:
        return read_timing(w, at, *size);
    case CF_PAD:
        return ILHEAP_OK;
    default:
        return BAD(ILHEAP_COUNTS_CORRUPT, at, "a record of unknown kind %u", kind);
    }
}

ilheap_status_t cf_read_file(ilheap_counts_t *c, uint64_t *error_offset)
{
    uint64_t end = 0;
    c->info.format = ILHEAP_COUNTS_FILE;
    ilheap_status_t st = read_header(c, &end, error_offset);
    if (st != ILHEAP_OK)
        return st;
    walk_t w = {.c = c, .end = end, .error_offset = error_offset};
    for (uint64_t at = cf_le32(c->data + CF_HEADER); st == ILHEAP_OK && at < end;) {
        uint32_t size;
        st = read_record(&w, at, &size);
        at += size;
    }
    ilheap__mem_free(w.slabs);
    return st;
}
