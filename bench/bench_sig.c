/* The signature codec's speed: every MethodDef, MemberRef, StandAloneSig,
 * Field, Property, TypeSpec and MethodSpec signature of the given assemblies
 * decoded and encoded again, best of PASSES passes, the blobs looked up once
 * beforehand (so only the codec is timed):
 *   bench_sig [--passes N] FILE...   (e.g. every *.dll of Microsoft.NETCore.App/10.0.x)
 * Prints one line per measure: decode alone, decode + encode, decode + the
 * C# text of method signatures (names looked up in the image). */
#include "ilheap/pe.h"
#include "ilheap/sig.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct blob {
    const uint8_t *data;
    size_t size;
    ilheap_sig_kind_t kind;
    uint32_t token;
    uint32_t image;
} blob_t;

typedef struct corpus {
    blob_t *blobs;
    size_t count, cap, bytes;
    ilheap_pe_t **images;
    uint8_t **files;
    uint32_t image_count;
} corpus_t;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static uint8_t *read_file(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    long n = f != NULL && fseek(f, 0, SEEK_END) == 0 ? ftell(f) : -1;
    uint8_t *data = n > 0 ? malloc((size_t)n) : NULL;
    if (data != NULL && (fseek(f, 0, SEEK_SET) != 0 || fread(data, 1, (size_t)n, f) != (size_t)n)) {
        free(data);
        data = NULL;
    }
    if (f != NULL)
        fclose(f);
    *size = (size_t)n;
    return data;
}

/* Lists every signature blob of one image. */
static int add_image(corpus_t *c, const char *path)
{
    static const uint8_t tables[] = {0x06, 0x0A, 0x11, 0x04, 0x17, 0x1B, 0x2B};
    size_t size;
    uint8_t *data = read_file(path, &size);
    ilheap_pe_t *pe;
    if (data == NULL || ilheap_pe_open(data, size, &pe, NULL) != ILHEAP_OK) {
        free(data);
        return 0; /* not an assembly (a native library beside them): skipped */
    }
    c->images[c->image_count] = pe;
    c->files[c->image_count] = data;
    for (size_t k = 0; k < sizeof tables; k++)
        for (uint32_t rid = 1; rid <= ilheap_pe_row_count(pe, tables[k]); rid++) {
            if (c->count == c->cap) {
                c->cap = c->cap ? 2 * c->cap : 1 << 16;
                if ((c->blobs = realloc(c->blobs, c->cap * sizeof *c->blobs)) == NULL)
                    return -1;
            }
            blob_t *b = &c->blobs[c->count];
            b->token = (uint32_t)tables[k] << 24 | rid;
            b->image = c->image_count;
            if (ilheap_pe_signature(pe, b->token, &b->data, &b->size, &b->kind, NULL, NULL) == ILHEAP_OK) {
                c->bytes += b->size;
                c->count++;
            }
        }
    c->image_count++;
    return 0;
}

/* One pass of `what` (0 decode, 1 decode + encode, 2 decode + text of
 * methods) over every blob; the number of failures. */
static size_t pass(const corpus_t *c, int what, size_t *items)
{
    static uint64_t memory[1 << 14];
    static uint8_t out[1 << 16];
    static char text[1 << 14];
    size_t failures = 0;
    *items = 0;
    for (size_t i = 0; i < c->count; i++) {
        const blob_t *b = &c->blobs[i];
        if (what == 2 && b->kind != ILHEAP_SIG_METHOD_DEF)
            continue;
        ilheap_sig_arena_t arena = {memory, sizeof memory, 0};
        ilheap_sig_t sig;
        size_t n;
        (*items)++;
        if (ilheap_sig_decode(b->kind, b->data, b->size, 0, &arena, &sig, NULL) != ILHEAP_OK)
            failures++;
        else if (what == 1 && ilheap_sig_encode(&sig, out, sizeof out, &n, NULL) != ILHEAP_OK)
            failures++;
        else if (what == 2 && ilheap_pe_sig_text(c->images[b->image], &sig, b->token, ILHEAP_SIG_TEXT_CSHARP, text,
                                                 sizeof text, NULL, NULL) != ILHEAP_OK)
            failures++;
    }
    return failures;
}

int main(int argc, char **argv)
{
    int passes = 20, first = 1;
    if (argc > 2 && strcmp(argv[1], "--passes") == 0) {
        passes = atoi(argv[2]);
        first = 3;
    }
    if (first >= argc || passes < 1) {
        fprintf(stderr, "usage: bench_sig [--passes N] FILE...\n");
        return 2;
    }
    corpus_t c = {0};
    c.images = calloc((size_t)(argc - first), sizeof *c.images);
    c.files = calloc((size_t)(argc - first), sizeof *c.files);
    for (int i = first; i < argc; i++)
        if (c.images == NULL || c.files == NULL || add_image(&c, argv[i]) != 0) {
            fprintf(stderr, "bench_sig: out of memory\n");
            return 1;
        }
    static const char *const names[] = {"decode", "decode+encode", "decode+text(methods)"};
    int rc = 0;
    for (int what = 0; what < 3; what++) {
        double best = 1e30;
        size_t items = 0, failures = 0;
        for (int p = 0; p < passes; p++) {
            double t0 = now();
            failures = pass(&c, what, &items);
            double t = now() - t0;
            best = t < best ? t : best;
        }
        printf("sig %s assemblies=%u signatures=%zu bytes=%zu passes=%d best_s=%.6f ns_per_sig=%.1f sigs_per_s=%.0f "
               "failures=%zu\n", names[what], c.image_count, items, c.bytes, passes, best, best * 1e9 / (double)items,
               (double)items / best, failures);
        rc |= failures != 0;
    }
    for (uint32_t i = 0; i < c.image_count; i++) {
        ilheap_pe_close(c.images[i]);
        free(c.files[i]);
    }
    free(c.images);
    free(c.files);
    free(c.blobs);
    return rc;
}
