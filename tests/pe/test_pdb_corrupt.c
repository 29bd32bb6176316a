/* Corrupt portable PDBs (issue 16): for each PDB of tests/corpus/pdb, the
 * whole file opens and yields sequence points; every strict prefix (a
 * truncation at every offset) fails with a PE-range status and a file offset
 * inside the prefix; every single-byte corruption either fails the same way
 * or reads within the documented ranges (pdb_check.h aborts otherwise). Run
 * under ASan, a read past any prefix is caught. */
#include "pdb_check.h"

#include <stdio.h>
#include <stdlib.h>

static uint8_t *read_all(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *data = n > 0 ? malloc((size_t)n) : NULL;
    if (data != NULL && fread(data, 1, (size_t)n, f) != (size_t)n) {
        free(data);
        data = NULL;
    }
    fclose(f);
    *size = (size_t)n;
    return data;
}

static int check_file(const char *path)
{
    size_t size;
    uint8_t *data = read_all(path, &size);
    if (data == NULL) {
        fprintf(stderr, "FAIL: cannot read %s\n", path);
        return 1;
    }
    uint64_t full = 0;
    if (!pdb_check_bytes(data, size, &full) || full == 0) {
        fprintf(stderr, "FAIL: %s: does not open, or has no sequence points\n", path);
        free(data);
        return 1;
    }
    int failures = 0;
    /* Truncations: a copy of exactly n bytes, so ASan sees any read past it. */
    for (size_t n = 0; n < size; n++) {
        uint8_t *prefix = malloc(n ? n : 1);
        memcpy(prefix, data, n);
        uint64_t points = 0;
        if (pdb_check_bytes(prefix, n, &points)) {
            fprintf(stderr, "FAIL: %s: the first %zu of %zu bytes open as a PDB\n", path, n, size);
            failures++;
        }
        free(prefix);
    }
    /* Corruptions: each byte inverted in turn. */
    uint64_t opened = 0, points = 0;
    for (size_t i = 0; i < size; i++) {
        data[i] ^= 0xFF;
        opened += pdb_check_bytes(data, size, &points);
        data[i] ^= 0xFF;
    }
    printf("ok  %s: %zu bytes, %llu points; all %zu truncations refused; %llu of %zu one-byte corruptions "
           "still open (%llu points read), none broke a contract\n",
           path, size, (unsigned long long)full, size, (unsigned long long)opened, size,
           (unsigned long long)points);
    free(data);
    return failures != 0;
}

int main(void)
{
    const char *files[] = {ILHEAP_PDB_CORPUS "/sample_portable.pdb", ILHEAP_PDB_CORPUS "/proftest.pdb"};
    int rc = 0;
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++)
        rc |= check_file(files[i]);
    return rc;
}
