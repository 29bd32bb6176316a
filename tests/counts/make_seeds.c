/* Writes the seed corpus of fuzz_counts (tests/corpus/counts) with the
 * library's own writer and export: a small counts file (a module, a calls
 * method, a blocks method with an edge key, a timed method), its JSON
 * lines, and the file cut inside its header.
 *   make_seeds DIR */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ilheap/counts.h"

static int save(const char *dir, const char *name, const void *data, size_t n)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    int ok = f != NULL && fwrite(data, 1, n, f) == n;
    if (f != NULL && fclose(f) != 0)
        ok = 0;
    return ok ? 0 : 1;
}

static int append(void *ctx, const char *text, size_t n)
{
    return fwrite(text, 1, n, ctx) == n ? 0 : 1;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: make_seeds DIR\n");
        return 2;
    }
    char path[512];
    snprintf(path, sizeof path, "%s/sample.counts", argv[1]);
    static const uint8_t mvid[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
    ilheap_counts_writer_t *w;
    uint64_t mod, *a, *b, *t;
    ilheap_probe_key_t entry = {0, ILHEAP_PROBE_ENTRY, 0};
    ilheap_probe_key_t keys[3] = {{0, ILHEAP_PROBE_BLOCK, 0}, {5, ILHEAP_PROBE_BLOCK, 0}, {1, ILHEAP_PROBE_EDGE, 1}};
    if (ilheap_counts_create(path, ILHEAP_COUNTS_BLOCKS, &w) != ILHEAP_OK ||
        ilheap_counts_add_module(w, "/bin/A.dll", "A.dll", mvid, &mod) != ILHEAP_OK ||
        ilheap_counts_reserve(w, 1, &a) != ILHEAP_OK ||
        ilheap_counts_add_method(w, mod, 0x06000001, "A.B::C", &entry, 1, a, NULL) != ILHEAP_OK ||
        ilheap_counts_reserve(w, 3, &b) != ILHEAP_OK ||
        ilheap_counts_add_method(w, mod, 0x06000002, "A.B::\"D\"", keys, 3, b, NULL) != ILHEAP_OK ||
        ilheap_counts_reserve(w, ILHEAP_COUNTS_TIMING_COUNTERS, &t) != ILHEAP_OK ||
        ilheap_counts_add_timing(w, mod, 0x06000003, "A.B::E", t, 1000000000u, NULL) != ILHEAP_OK ||
        ilheap_counts_finish(w) != ILHEAP_OK) {
        fprintf(stderr, "make_seeds: %s\n", ilheap_last_message());
        return 1;
    }
    a[0] = 3;
    b[0] = 3;
    b[1] = 1;
    t[ILHEAP_TIMING_CALLS] = 2;
    t[ILHEAP_TIMING_EXCEPTIONAL] = 1;
    t[ILHEAP_TIMING_TICKS] = 1500;
    ilheap_counts_writer_destroy(w);
    ilheap_counts_t *c;
    if (ilheap_counts_open(path, &c, NULL) != ILHEAP_OK)
        return 1;
    ilheap_counts_info_t info;
    ilheap_counts_info(c, &info);
    char jsonl[512];
    snprintf(jsonl, sizeof jsonl, "%s/sample.jsonl", argv[1]);
    FILE *f = fopen(jsonl, "wb");
    int rc = f == NULL || ilheap_counts_write_jsonl(c, append, f) != ILHEAP_OK;
    if (f != NULL)
        rc |= fclose(f) != 0;
    ilheap_counts_close(c); /* unmapped before the file is rewritten (Windows refuses it mapped) */
    /* The file as published (the extent's unused rest dropped), then cut. */
    f = fopen(path, "rb");
    uint8_t *bytes = malloc(info.bytes);
    rc |= f == NULL || bytes == NULL || fread(bytes, 1, info.bytes, f) != info.bytes;
    if (f != NULL)
        fclose(f);
    rc |= rc == 0 ? save(argv[1], "sample.counts", bytes, info.bytes) | save(argv[1], "cut.counts", bytes, 100) : 1;
    free(bytes);
    return rc;
}
