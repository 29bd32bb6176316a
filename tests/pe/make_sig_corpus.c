/* Writes the seed corpus of the signature fuzzer (fuzz_sig.c) to a directory:
 *   make_sig_corpus DIR ASSEMBLY...
 * From each assembly, the signatures whose (kind, elements present) pair is
 * new, so every shape the framework uses is seeded once; plus hand-made
 * blobs with the runtime's INTERNAL elements. Each file is the kind byte
 * (sig_check.h) then the blob. tests/corpus/sig holds its output for
 * System.Private.CoreLib.dll. */
#include "ilheap/pe.h"
#include "ilheap/sig.h"

#include <stdio.h>
#include <stdlib.h>

#define MAX_SEEDS 100
#define SEEDS_PER_KIND 8

static unsigned seeds, per_kind[8];

static int write_seed(const char *dir, uint8_t selector, const uint8_t *blob, size_t size)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/seed-%03u-kind%u", dir, seeds++, selector & 7u);
    FILE *f = fopen(path, "wb");
    if (f == NULL || fwrite(&selector, 1, 1, f) != 1 || fwrite(blob, 1, size, f) != size || fclose(f) != 0) {
        fprintf(stderr, "make_sig_corpus: cannot write %s\n", path);
        return 1;
    }
    return 0;
}

/* Which of the interesting elements a blob holds (by byte value: a token
 * byte may look like one, which only adds a seed). */
static uint32_t shape(const uint8_t *blob, size_t size)
{
    static const uint8_t marks[] = {0x0F, 0x10, 0x14, 0x15, 0x16, 0x1B, 0x1F, 0x20, 0x41, 0x45};
    uint32_t mask = 0;
    for (size_t i = 1; i < size; i++)
        for (unsigned k = 0; k < sizeof marks; k++)
            if (blob[i] == marks[k])
                mask |= 1u << k;
    return mask;
}

static int from_assembly(const char *dir, const char *path, uint8_t *seen)
{
    FILE *f = fopen(path, "rb");
    long n = f != NULL && fseek(f, 0, SEEK_END) == 0 ? ftell(f) : -1;
    uint8_t *data = n > 0 ? malloc((size_t)n) : NULL;
    if (data == NULL || fseek(f, 0, SEEK_SET) != 0 || fread(data, 1, (size_t)n, f) != (size_t)n) {
        fprintf(stderr, "make_sig_corpus: cannot read %s\n", path);
        return 1;
    }
    fclose(f);
    ilheap_pe_t *pe;
    ilheap_pe_error_t err;
    if (ilheap_pe_open(data, (size_t)n, &pe, &err) != ILHEAP_OK) {
        fprintf(stderr, "make_sig_corpus: %s: %s\n", path, err.message);
        return 1;
    }
    static const uint8_t tables[] = {0x06, 0x0A, 0x11, 0x04, 0x17, 0x1B, 0x2B};
    for (size_t k = 0; k < sizeof tables && seeds < MAX_SEEDS; k++)
        for (uint32_t rid = 1; rid <= ilheap_pe_row_count(pe, tables[k]) && seeds < MAX_SEEDS; rid++) {
            const uint8_t *blob;
            size_t size;
            ilheap_sig_kind_t kind;
            if (ilheap_pe_signature(pe, (uint32_t)tables[k] << 24 | rid, &blob, &size, &kind, NULL, NULL) !=
                ILHEAP_OK)
                continue;
            size_t at = (size_t)kind << 10 | shape(blob, size);
            if (seen[at] || per_kind[kind & 7] >= SEEDS_PER_KIND)
                continue;
            seen[at] = 1;
            per_kind[kind & 7]++;
            if (write_seed(dir, (uint8_t)kind, blob, size) != 0)
                return 1;
        }
    ilheap_pe_close(pe);
    free(data);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: make_sig_corpus DIR ASSEMBLY...\n");
        return 2;
    }
    static uint8_t seen[8 << 10];
    for (int i = 2; i < argc; i++)
        if (from_assembly(argv[1], argv[i], seen) != 0)
            return 1;
    /* field: CMOD_INTERNAL (required, 8-byte handle) then INTERNAL; and a
     * 4-byte INTERNAL; selector bits 3-4 give the pointer size */
    static const uint8_t internal64[] = {0x06, 0x22, 0x01, 1, 2, 3, 4, 5, 6, 7, 8, 0x21, 8, 7, 6, 5, 4, 3, 2, 1};
    static const uint8_t internal32[] = {0x06, 0x21, 4, 3, 2, 1};
    if (write_seed(argv[1], ILHEAP_SIG_FIELD | ILHEAP_SIG_INTERNAL_PTR64 << 3, internal64, sizeof internal64) ||
        write_seed(argv[1], ILHEAP_SIG_FIELD | ILHEAP_SIG_INTERNAL_PTR32 << 3, internal32, sizeof internal32))
        return 1;
    printf("make_sig_corpus: %u seeds in %s\n", seeds, argv[1]);
    return 0;
}
