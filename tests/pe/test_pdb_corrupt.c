/* Corrupt portable PDBs: for each PDB of tests/corpus/pdb, the
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

/* On the sample: hidden points and a document switch inside one method (the
 * #line in PdbSample's Documents) decode; then a record whose first byte is
 * made 0xFF (no compressed integer starts so) fails with exactly that
 * record's file offset, and the methods before it still decode. */
static int check_decoding(const char *path)
{
    size_t size;
    uint8_t *data = read_all(path, &size);
    ilheap_pdb_t *pdb;
    ilheap_pe_error_t err;
    if (data == NULL || ilheap_pdb_open(data, size, &pdb, &err) != ILHEAP_OK) {
        fprintf(stderr, "FAIL: %s does not open\n", path);
        free(data);
        return 1;
    }
    ilheap_pdb_info_t info;
    ilheap_pdb_get_info(pdb, &info);
    uint32_t hidden = 0, switches = 0, target_rid = 0;
    uint64_t target_offset = 0;
    for (uint32_t rid = 1; rid <= info.method_count; rid++) {
        ilheap_pdb_sequence_points_t w;
        ilheap_pdb_sequence_point_t p;
        if (ilheap_pdb_sequence_points_begin(pdb, rid, &w, &err) != ILHEAP_OK)
            return fprintf(stderr, "FAIL: method %u: %s\n", rid, err.message), 1;
        uint32_t document = 0, n = 0;
        int more;
        while ((more = ilheap_pdb_next_sequence_point(&w, &p, &err)) > 0) {
            hidden += p.hidden;
            switches += document != 0 && p.document != document;
            document = p.document;
            if (++n == 3 && target_rid == 0) { /* the third record of the first method with three */
                target_rid = rid;
                target_offset = p.file_offset;
            }
        }
        if (more < 0)
            return fprintf(stderr, "FAIL: method %u: %s\n", rid, err.message), 1;
    }
    ilheap_pdb_close(pdb);
    if (hidden == 0 || switches == 0 || target_rid == 0) {
        fprintf(stderr, "FAIL: %s: %u hidden points, %u document switches inside methods\n", path, hidden, switches);
        free(data);
        return 1;
    }
    data[target_offset] = 0xFF;
    ilheap_pdb_open(data, size, &pdb, &err);
    ilheap_pdb_sequence_points_t w;
    ilheap_pdb_sequence_point_t p;
    ilheap_pdb_sequence_points_begin(pdb, target_rid, &w, &err);
    int a = ilheap_pdb_next_sequence_point(&w, &p, &err), b = ilheap_pdb_next_sequence_point(&w, &p, &err);
    int c = ilheap_pdb_next_sequence_point(&w, &p, &err);
    int rc = 0;
    if (a != 1 || b != 1 || c != -1 || err.status != ILHEAP_PE_BAD_SEQUENCE_POINTS || err.file_offset != target_offset ||
        strstr(err.message, "file offset") == NULL) {
        fprintf(stderr, "FAIL: 0xFF at %#llx: results %d %d %d, status %d, offset %#llx: %s\n",
                (unsigned long long)target_offset, a, b, c, err.status, (unsigned long long)err.file_offset,
                err.message);
        rc = 1;
    } else {
        printf("ok  %s: %u hidden points, %u document switches inside methods; a bad record is reported as: %s\n",
               path, hidden, switches, err.message);
    }
    ilheap_pdb_close(pdb);
    free(data);
    return rc;
}

/* #Pdb's type-system row counts size the PDB's indexes into those tables: a
 * minimal PDB (streams #Pdb and #~ only) with one LocalScope row, whose Method
 * column is 4 bytes once the assembly has 2^16 MethodDefs (18-byte row) and 2
 * bytes below (16). The table stream holds `row_bytes` bytes of row; open must
 * succeed exactly when that is the size the external count implies. */
static bool open_minimal(uint32_t external_methods, unsigned row_bytes)
{
    uint8_t f[160] = {0};
    size_t n = 0;
#define PUT16(v) (f[n] = (uint8_t)(v), f[n + 1] = (uint8_t)((v) >> 8), n += 2)
#define PUT32(v) (PUT16((v) & 0xFFFF), PUT16((uint32_t)(v) >> 16))
    PUT32(0x424A5342u); PUT16(1); PUT16(1); PUT32(0); PUT32(12);
    memcpy(f + n, "PDB v1.0", 8); n += 12;
    PUT16(0); PUT16(2);
    PUT32(60); PUT32(36); memcpy(f + n, "#Pdb", 4); n += 8;
    PUT32(96); PUT32(28 + row_bytes); memcpy(f + n, "#~", 2); n += 4;
    n += 20; PUT32(0); PUT32(1u << 6); PUT32(0); PUT32(external_methods); /* #Pdb: id, entry, MethodDef */
    PUT32(0); f[n] = 2; n += 4;                       /* #~: reserved, version 2.0, HeapSizes 0 */
    PUT32(0); PUT32(1u << (0x32 - 32)); PUT32(0); PUT32(0); /* Valid: LocalScope; Sorted */
    PUT32(1);                                          /* its row count */
    n += row_bytes;
#undef PUT16
#undef PUT32
    ilheap_pdb_t *pdb;
    ilheap_pe_error_t err;
    if (ilheap_pdb_open(f, n, &pdb, &err) != ILHEAP_OK)
        return false;
    ilheap_pdb_close(pdb);
    return true;
}

static int check_external_rows(void)
{
    bool wide_fits = open_minimal(0x10000, 18), wide_short = open_minimal(0x10000, 16);
    bool narrow_fits = open_minimal(0xFFFF, 16);
    if (!wide_fits || wide_short || !narrow_fits) {
        fprintf(stderr, "FAIL: external MethodDef rows: 0x10000/18 bytes %d (want 1), 0x10000/16 %d (want 0), "
                        "0xFFFF/16 %d (want 1)\n", wide_fits, wide_short, narrow_fits);
        return 1;
    }
    printf("ok  #Pdb row counts size the PDB's MethodDef indexes (4 bytes at 0x10000 rows, 2 at 0xFFFF)\n");
    return 0;
}

int main(void)
{
    const char *files[] = {ILHEAP_PDB_CORPUS "/sample_portable.pdb", ILHEAP_PDB_CORPUS "/proftest.pdb"};
    int rc = check_external_rows() | check_decoding(files[0]);
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++)
        rc |= check_file(files[i]);
    return rc;
}
