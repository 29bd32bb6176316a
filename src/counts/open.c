/* Opening a counts file of either form: the file format is mapped read-only
 * (its counters are read as they are at each call, while the writer may
 * still run), JSON lines are parsed into memory. And what became of the
 * writer: running, exited, killed. */
#include "counts/counts_internal.h"

#include <stdlib.h>
#include <string.h>

#include "os/memory.h"
#include "status_internal.h"

ilheap_status_t cf_os_fail(int os_error, const char *what, const char *path)
{
    char text[128];
    ilheap__os_error_text(os_error, text, sizeof text);
    return ilheap__fail(ilheap__os_error_is_missing(os_error) ? ILHEAP_ENOFILE : ILHEAP_EOS_FILE, "%s %s: %s", what,
                        path != NULL ? path : "the counts file", text);
}

/* Maps the whole file; a live file's published end may lie past the size
 * first seen (the writer grows the file before it publishes), so the size is
 * read again until the mapping holds the end, a few times at most. */
static ilheap_status_t map_file(ilheap_counts_t *c, const char *path, ilheap_os_file_t f, uint64_t size)
{
    for (int attempt = 0;; attempt++) {
        int e = 0;
        void *p;
        if (size > SIZE_MAX)
            return ilheap__fail(ILHEAP_ENOMEM, "mapping %s: %llu bytes", path, (unsigned long long)size);
        if (ilheap__os_file_map(f, 0, (size_t)size, 0, &p, &e) != ILHEAP_OS_OK)
            return cf_os_fail(e, "mapping", path);
        c->map = p;
        c->data = p;
        c->size = c->map_size = (size_t)size;
        if (attempt == 3 || !cf_is_file(c->data, c->size) || c->size < CF_HEADER_SIZE ||
            cf_load_acquire(c->data + CF_END) <= size)
            return ILHEAP_OK;
        (void)ilheap__os_file_unmap(c->map, c->map_size, NULL);
        c->map = NULL;
        if (ilheap__os_file_size(f, &size, &e) != ILHEAP_OS_OK)
            return cf_os_fail(e, "reading the size of", path);
    }
}

static ilheap_status_t parse(ilheap_counts_t *c, const uint8_t *data, size_t size, uint64_t *error_offset)
{
    if (cf_is_file(data, size))
        return cf_read_file(c, error_offset);
    c->info.format = ILHEAP_COUNTS_JSONL;
    c->info.bytes = size;
    return cf_read_jsonl(c, data, size);
}

ilheap_status_t ilheap_counts_open(const char *path, ilheap_counts_t **out, uint64_t *error_offset)
{
    uint64_t ignored, size = 0;
    if (error_offset == NULL)
        error_offset = &ignored;
    *error_offset = 0;
    if (path == NULL || out == NULL)
        return ilheap__fail(ILHEAP_EINVAL, "ilheap_counts_open: a NULL argument");
    *out = NULL;
    ilheap_os_file_t f;
    int e = 0;
    if (ilheap__os_file_open_read(path, &f, &e) != ILHEAP_OS_OK)
        return cf_os_fail(e, "opening", path);
    ilheap_counts_t *c = ilheap__mem_zalloc(1, sizeof *c);
    ilheap_status_t st = ILHEAP_OK;
    if (c == NULL)
        st = ilheap__fail(ILHEAP_ENOMEM, "a counts reader");
    else if (ilheap__os_file_size(f, &size, &e) != ILHEAP_OS_OK)
        st = cf_os_fail(e, "reading", path);
    else if (size == 0)
        c->info.format = ILHEAP_COUNTS_JSONL; /* an empty file: no line */
    else if ((st = map_file(c, path, f, size)) == ILHEAP_OK)
        st = parse(c, c->data, c->size, error_offset);
    ilheap__os_file_close(f);
    if (st == ILHEAP_OK && c->info.format == ILHEAP_COUNTS_JSONL && c->map != NULL) {
        (void)ilheap__os_file_unmap(c->map, c->map_size, NULL); /* all copied */
        c->map = NULL;
        c->data = NULL;
    }
    if (st != ILHEAP_OK) {
        ilheap_counts_close(c);
        return st;
    }
    *out = c;
    return ILHEAP_OK;
}

ilheap_status_t ilheap_counts_read_memory(const void *data, size_t size, ilheap_counts_t **out,
                                          uint64_t *error_offset)
{
    uint64_t ignored;
    if (error_offset == NULL)
        error_offset = &ignored;
    *error_offset = 0;
    if ((data == NULL && size != 0) || out == NULL)
        return ilheap__fail(ILHEAP_EINVAL, "ilheap_counts_read_memory: a NULL argument");
    *out = NULL;
    ilheap_counts_t *c = ilheap__mem_zalloc(1, sizeof *c);
    /* the allocator's alignment suits the counters' 8-byte loads */
    uint8_t *copy = c != NULL ? ilheap__mem_alloc(1, size) : NULL;
    if (copy == NULL) {
        ilheap__mem_free(c);
        return ilheap__fail(ILHEAP_ENOMEM, "a copy of %zu bytes", size);
    }
    if (size != 0)
        memcpy(copy, data, size);
    c->copy = copy;
    c->data = copy;
    c->size = size;
    ilheap_status_t st = parse(c, copy, size, error_offset);
    if (st != ILHEAP_OK) {
        ilheap_counts_close(c);
        return st;
    }
    *out = c;
    return ILHEAP_OK;
}

void ilheap_counts_close(ilheap_counts_t *c)
{
    if (c == NULL)
        return;
    cf_index_free(c);
    if (c->map != NULL)
        (void)ilheap__os_file_unmap(c->map, c->map_size, NULL);
    ilheap__mem_free(c->copy);
    ilheap__mem_free(c);
}

ilheap_counts_state_t ilheap_counts_state(const ilheap_counts_t *c)
{
    if (c == NULL || c->info.format != ILHEAP_COUNTS_FILE)
        return ILHEAP_COUNTS_UNKNOWN;
    if (c->info.flags & ILHEAP_COUNTS_SNAPSHOT)
        return ILHEAP_COUNTS_FROZEN;
    if (c->exited || __atomic_load_n((const uint32_t *)(const void *)(c->data + CF_STATE), __ATOMIC_ACQUIRE) ==
                         CF_EXITED)
        return ILHEAP_COUNTS_EXITED;
    int running = 0;
    if (ilheap__os_process_running(&c->writer, &running, NULL) != ILHEAP_OS_OK)
        return ILHEAP_COUNTS_UNKNOWN;
    return running ? ILHEAP_COUNTS_RUNNING : ILHEAP_COUNTS_KILLED;
}

void cf_running_writer(const char *path, uint64_t *pid)
{
    ilheap_os_file_t f;
    uint64_t size;
    void *p = NULL;
    *pid = 0;
    if (ilheap__os_file_open_read(path, &f, NULL) != ILHEAP_OS_OK)
        return;
    if (ilheap__os_file_size(f, &size, NULL) == ILHEAP_OS_OK && size >= CF_HEADER_SIZE &&
        ilheap__os_file_map(f, 0, CF_HEADER_SIZE, 0, &p, NULL) == ILHEAP_OS_OK) {
        const uint8_t *h = p;
        ilheap_os_process_t writer = {.pid = cf_le64(h + CF_PID), .start = cf_le64(h + CF_START)};
        memcpy(writer.boot, h + CF_BOOT, 16);
        int running = 0;
        if (cf_is_file(h, CF_HEADER_SIZE) && cf_le32(h + CF_STATE) == CF_RUNNING &&
            ilheap__os_process_running(&writer, &running, NULL) == ILHEAP_OS_OK && running)
            *pid = writer.pid;
        (void)ilheap__os_file_unmap(p, CF_HEADER_SIZE, NULL);
    }
    ilheap__os_file_close(f);
}
