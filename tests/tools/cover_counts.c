/* Writes a counts file as the profiler's blocks mode does, for tests of
 * `ilheap cover`: the blocks are the method's real block starts
 * (ilheap_rw_block_starts), the hits are given by hand.
 *
 *   cover_counts DLL [--path P] [--mvid M] [--shift] TYPE::METHOD=h0,h1,.. ...
 *
 * prints one JSON line per method named, with block i getting hits hi (the
 * list must have one number per block; else it prints the block starts and
 * fails). --path: the "path" written (default DLL); --mvid: write this MVID
 * instead of the DLL's; --shift: add 1 to every offset but the first (offsets
 * that are not block starts). `--starts TYPE::METHOD` prints the starts.
 * `--remvid OUT` writes a copy of DLL with another MVID (its one occurrence
 * in the file, last byte flipped): another build of the same code. */
#include "../pe/assemblies.h"
#include "counts.h"
#include "ilheap/pe.h"
#include "ilheap/rewrite.h"
#include "tool.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The block start offsets of method `name`, ascending; 0 when not found. */
static size_t starts_of(ilheap_pe_t *pe, ilheap_rw_t *rw, const char *name, uint32_t *token, uint32_t *out,
                        size_t cap)
{
    ilheap_pe_error_t err;
    ilheap_pe_method_t m;
    const uint8_t *p;
    size_t avail, bad, n = 0;
    ilheap_il_clause_t clauses[64];
    ilheap_il_body_t body;
    ilheap_rw_id_t ids[512];
    if (ilheap_pe_find_method(pe, name, token, &err) != ILHEAP_OK ||
        ilheap_pe_method(pe, *token & 0xFFFFFF, &m, &err) != ILHEAP_OK ||
        ilheap_pe_method_body(pe, &m, &p, &avail, &err) != ILHEAP_OK ||
        ilheap_il_decode(p, avail, &body, clauses, 64) != ILHEAP_OK || ilheap_rw_load(rw, &body, &bad) != ILHEAP_OK ||
        ilheap_rw_block_starts(rw, ids, 512, &n) != ILHEAP_OK || n > cap) {
        fprintf(stderr, "cover_counts: %s: not found or does not decode\n", name);
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        ilheap_rw_insn_t insn;
        ilheap_rw_get(rw, ids[i], &insn);
        out[i] = insn.offset;
    }
    for (size_t i = 1; i < n; i++) /* insertion sort: few blocks */
        for (size_t k = i; k > 0 && out[k - 1] > out[k]; k--) {
            uint32_t t = out[k];
            out[k] = out[k - 1];
            out[k - 1] = t;
        }
    return n;
}

/* A copy of the DLL at `out` whose MVID differs in its last byte; 1 when the
 * MVID is not in the file exactly once. */
static int remvid(const uint8_t *data, size_t size, const uint8_t guid[16], const char *out)
{
    size_t at = 0, found = 0;
    for (size_t i = 0; i + 16 <= size; i++)
        if (memcmp(data + i, guid, 16) == 0)
            at = i, found++;
    FILE *f = found == 1 ? fopen(out, "wb") : NULL;
    if (f == NULL) {
        fprintf(stderr, "cover_counts: the MVID is %zu times in the file, or %s cannot be written\n", found, out);
        return 1;
    }
    bool ok = fwrite(data, 1, at + 15, f) == at + 15 && fputc(data[at + 15] ^ 0x5A, f) != EOF &&
              fwrite(data + at + 16, 1, size - at - 16, f) == size - at - 16;
    return fclose(f) == 0 && ok ? 0 : 1;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: cover_counts DLL [--path P] [--mvid M] [--shift] TYPE::METHOD=h0,h1,.. ...\n");
        return 2;
    }
    size_t size;
    uint8_t *data = pe_test_read_file(argv[1], &size);
    ilheap_pe_t *pe;
    ilheap_pe_error_t err;
    ilheap_rw_t *rw;
    if (data == NULL || ilheap_pe_open(data, size, &pe, &err) != ILHEAP_OK || ilheap_rw_create(&rw) != ILHEAP_OK) {
        fprintf(stderr, "cover_counts: %s: cannot open\n", argv[1]);
        return 1;
    }
    const char *path = argv[1];
    char mvid[37];
    uint8_t guid[16];
    ilheap_pe_module_mvid(pe, guid, &err);
    ilheap_pe_guid_text(guid, mvid);
    bool shift = false;
    int rc = 0;
    if (strcmp(argv[2], "--remvid") == 0 && argc == 4)
        rc = remvid(data, size, guid, argv[3]);
    for (int i = 2; i < argc && rc == 0 && strcmp(argv[2], "--remvid") != 0; i++) {
        uint32_t starts[512], token;
        if (strcmp(argv[i], "--path") == 0 && i + 1 < argc) {
            path = argv[++i];
        } else if (strcmp(argv[i], "--mvid") == 0 && i + 1 < argc) {
            snprintf(mvid, sizeof mvid, "%s", argv[++i]);
        } else if (strcmp(argv[i], "--shift") == 0) {
            shift = true;
        } else if (strcmp(argv[i], "--starts") == 0 && i + 1 < argc) {
            size_t n = starts_of(pe, rw, argv[++i], &token, starts, 512);
            for (size_t k = 0; k < n; k++)
                printf("%s%u", k ? " " : "", starts[k]);
            printf("\n");
            rc = n == 0;
        } else {
            char name[512];
            const char *eq = strchr(argv[i], '=');
            if (eq == NULL || (size_t)(eq - argv[i]) >= sizeof name) {
                fprintf(stderr, "cover_counts: expected TYPE::METHOD=hits,..: %s\n", argv[i]);
                return 2;
            }
            snprintf(name, sizeof name, "%.*s", (int)(eq - argv[i]), argv[i]);
            size_t n = starts_of(pe, rw, name, &token, starts, 512), given = 0;
            unsigned long long hits[512];
            for (const char *p = eq + 1; *p != 0 && given < 512;) {
                char *end;
                hits[given++] = strtoull(p, &end, 10);
                p = *end == ',' ? end + 1 : end;
                if (end == p && *p != 0)
                    break;
            }
            if (n == 0 || given != n) {
                fprintf(stderr, "cover_counts: %s has %zu blocks, %zu hits given; starts:", name, n, given);
                for (size_t k = 0; k < n; k++)
                    fprintf(stderr, " %u", starts[k]);
                fprintf(stderr, "\n");
                rc = 1;
                break;
            }
            printf("{\"module\":\"x.dll\",\"path\":\"%s\",\"mvid\":\"%s\",\"method\":\"%s\",\"token\":\"0x%08x\","
                   "\"blocks\":[",
                   path, mvid, name, token);
            for (size_t k = 0; k < n; k++)
                printf("%s{\"il_offset\":%u,\"hits\":%llu}", k ? "," : "", starts[k] + (shift && k > 0), hits[k]);
            printf("]}\n");
        }
    }
    ilheap_rw_destroy(rw);
    ilheap_pe_close(pe);
    free(data);
    return rc;
}
