/* Snapshots of a live counts file, and "only what ran since one": a
 * snapshot is the file's bytes up to its published end, copied at one
 * instant (each counter whole), with the snapshot flag and time set; it is a
 * counts file itself. */
#include "counts/counts_internal.h"

#include <stdlib.h>
#include <string.h>

#include "os/memory.h"
#include "status_internal.h"

/* The bytes [0, size) of c into dst, 8 bytes at a time: counters may be
 * rising in another process. */
static void copy_now(const ilheap_counts_t *c, uint8_t *dst, size_t size)
{
    const uint64_t *src = (const uint64_t *)(const void *)c->data;
    uint64_t *out = (uint64_t *)(void *)dst;
    for (size_t i = 0; i < size / 8; i++)
        out[i] = cf_load_relaxed(&src[i]);
    cf_put32(dst + CF_FLAGS, c->info.flags | ILHEAP_COUNTS_SNAPSHOT);
    cf_put64(dst + CF_END, size);
    cf_put64(dst + CF_SNAPSHOT, ilheap__os_time_ns());
}

/* Writes the new file under tmp: size bytes, mapped, filled, synced. */
static ilheap_status_t fill(const ilheap_counts_t *c, ilheap_os_file_t f, const char *path, size_t size)
{
    int e = 0;
    void *p = NULL;
    if (ilheap__os_file_extend(f, 0, size, &e) != ILHEAP_OS_OK)
        return cf_os_fail(e, "growing", path);
    if (ilheap__os_file_map(f, 0, size, 1, &p, &e) != ILHEAP_OS_OK)
        return cf_os_fail(e, "mapping", path);
    copy_now(c, p, size);
    ilheap_status_t st = ILHEAP_OK;
    if (ilheap__os_file_sync(p, size, &e) != ILHEAP_OS_OK)
        st = cf_os_fail(e, "writing", path);
    if (ilheap__os_file_unmap(p, size, &e) != ILHEAP_OS_OK && st == ILHEAP_OK)
        st = cf_os_fail(e, "unmapping", path);
    return st;
}

ilheap_status_t ilheap_counts_snapshot(const ilheap_counts_t *c, const char *path)
{
    if (c == NULL || path == NULL || c->info.format != ILHEAP_COUNTS_FILE)
        return ilheap__fail(ILHEAP_EINVAL, "a snapshot is made of a counts file (not JSON lines)");
    size_t size = (size_t)c->info.bytes, tmp_cap = strlen(path) + 64;
    char *tmp = ilheap__mem_alloc(1, tmp_cap);
    if (tmp == NULL)
        return ilheap__fail(ILHEAP_ENOMEM, "a snapshot");
    ilheap_os_file_t f;
    int e = 0;
    ilheap_status_t st = ILHEAP_OK;
    if (ilheap__os_file_create_temp(path, tmp, tmp_cap, &f, &e) != ILHEAP_OS_OK) {
        st = cf_os_fail(e, "creating a file beside", path);
    } else {
        st = fill(c, f, path, size);
        ilheap__os_file_close(f);
        if (st == ILHEAP_OK && ilheap__os_file_rename(tmp, path, &e) != ILHEAP_OS_OK)
            st = cf_os_fail(e, "naming", path);
        if (st != ILHEAP_OK)
            (void)ilheap__os_file_remove(tmp, NULL);
    }
    ilheap__mem_free(tmp);
    return st;
}

/* The snapshot's method at record offset where, or NULL; *k walks forward. */
static const cf_method_t *match(const ilheap_counts_t *snap, size_t *k, uint64_t where)
{
    while (*k < snap->nmethods && snap->methods[*k].where < where)
        ++*k;
    return *k < snap->nmethods && snap->methods[*k].where == where ? &snap->methods[*k] : NULL;
}

static int same_method(const ilheap_counts_t *c, const cf_method_t *m, const ilheap_counts_t *snap,
                       const cf_method_t *s)
{
    return m->token == s->token && m->probes == s->probes &&
           memcmp(c->keys + m->first, snap->keys + s->first, m->probes * sizeof *c->keys) == 0;
}

ilheap_status_t ilheap_counts_since(ilheap_counts_t *c, const ilheap_counts_t *snap)
{
    if (c == NULL || snap == NULL || c->info.format != ILHEAP_COUNTS_FILE || snap->info.format != ILHEAP_COUNTS_FILE ||
        c->info.file_id != snap->info.file_id || snap->info.bytes > c->info.bytes)
        return ilheap__fail(ILHEAP_COUNTS_MISMATCH, "the snapshot is not one of this file (file ids %016llx, %016llx)",
                            c != NULL ? (unsigned long long)c->info.file_id : 0ull,
                            snap != NULL ? (unsigned long long)snap->info.file_id : 0ull);
    uint64_t *values = ilheap__mem_alloc(c->nkeys, sizeof *values);
    if (values == NULL)
        return ilheap__fail(ILHEAP_ENOMEM, "the counters since a snapshot");
    size_t k = 0;
    for (size_t i = 0; i < c->nmethods; i++) {
        const cf_method_t *m = &c->methods[i], *s = match(snap, &k, m->where);
        if (s != NULL && !same_method(c, m, snap, s)) {
            ilheap__mem_free(values);
            return ilheap__fail(ILHEAP_COUNTS_MISMATCH, "the method at offset %llu differs in the snapshot",
                                (unsigned long long)m->where);
        }
        for (size_t p = 0; p < m->probes; p++) {
            uint64_t now = ilheap_counts_hits(c, i, p), then = s != NULL ? ilheap_counts_hits(snap, (size_t)(s - snap->methods), p) : 0;
            values[m->first + p] = now >= then ? now - then : 0;
        }
    }
    for (size_t i = 0; i < c->nmethods; i++)
        c->methods[i].live = NULL;
    ilheap__mem_free(c->values);
    c->values = values;
    return ILHEAP_OK;
}
