/* An assembly's portable PDB, found, inflated or read, opened and matched
 * against the assembly's CodeView entry (see pdb_load.h). */
#include "pdb_load.h"
#include "tool.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef ILHEAP_HAVE_ZLIB
#include <zlib.h>
#endif

#define MAX_EMBEDDED_PDB (1u << 30) /* refuse to inflate more than 1 GiB */

static int inflate_embedded(const char *cmd, const char *dll, const ilheap_pe_debug_info_t *d, tool_pdb_t *src)
{
    snprintf(src->path, sizeof src->path, "%s (embedded PDB)", dll);
    src->embedded = true;
    if (d->embedded_uncompressed_size == 0 || d->embedded_uncompressed_size > MAX_EMBEDDED_PDB) {
        fprintf(stderr, "ilheap %s: %s: embedded PDB claims %u bytes uncompressed (file offset %#llx)\n", cmd, dll,
                d->embedded_uncompressed_size, (unsigned long long)d->embedded_offset);
        return TOOL_EXIT_MALFORMED;
    }
#ifndef ILHEAP_HAVE_ZLIB
    fprintf(stderr, "ilheap %s: %s: has an embedded PDB, but this ilheap was built without zlib to inflate it\n",
            cmd, dll);
    return TOOL_EXIT_MALFORMED;
#else
    src->size = d->embedded_uncompressed_size;
    src->data = malloc(src->size);
    if (src->data == NULL) {
        fprintf(stderr, "ilheap %s: out of memory for the %zu-byte embedded PDB\n", cmd, src->size);
        return TOOL_EXIT_SYSTEM;
    }
    z_stream z = {0};
    if (inflateInit2(&z, -MAX_WBITS) != Z_OK) { /* raw deflate, no zlib header */
        fprintf(stderr, "ilheap %s: zlib inflateInit2 failed\n", cmd);
        return TOOL_EXIT_SYSTEM;
    }
    z.next_in = (Bytef *)d->embedded_data;
    z.avail_in = (uInt)(d->embedded_size < UINT32_MAX ? d->embedded_size : UINT32_MAX);
    z.next_out = src->data;
    z.avail_out = (uInt)src->size;
    int zr = inflate(&z, Z_FINISH);
    size_t produced = src->size - z.avail_out;
    inflateEnd(&z);
    if (zr != Z_STREAM_END || produced != src->size) {
        fprintf(stderr,
                "ilheap %s: %s: embedded PDB at file offset %#llx does not inflate to its %zu bytes "
                "(zlib: %s, %zu bytes produced)\n",
                cmd, dll, (unsigned long long)d->embedded_offset, src->size,
                zr == Z_STREAM_END ? "ended early" : "corrupt", produced);
        return TOOL_EXIT_MALFORMED;
    }
    return 0;
#endif
}

/* The separate .pdb: DLL's name with .pdb, else the CodeView path. */
static int load_separate(const char *cmd, const char *dll, const ilheap_pe_debug_info_t *d, tool_pdb_t *src)
{
    char beside[4096];
    const char *base = tool_base_name(dll), *dot = strrchr(base, '.');
    size_t stem = dot != NULL ? (size_t)(dot - dll) : strlen(dll);
    if (stem + 5 > sizeof beside) {
        fprintf(stderr, "ilheap %s: %s: path too long\n", cmd, dll);
        return TOOL_EXIT_USAGE;
    }
    memcpy(beside, dll, stem);
    memcpy(beside + stem, ".pdb", 5);
    const char *candidates[2] = {beside, d->has_codeview ? d->codeview_path : NULL};
    for (int i = 0; i < 2; i++) {
        FILE *f = candidates[i] != NULL ? fopen(candidates[i], "rb") : NULL;
        if (f == NULL)
            continue;
        fclose(f);
        tool_input_t in;
        int rc = tool_load(cmd, candidates[i], false, &in);
        if (rc != 0)
            return rc;
        snprintf(src->path, sizeof src->path, "%s", in.path);
        src->data = in.data;
        src->size = in.size;
        return 0;
    }
    fprintf(stderr, "ilheap %s: %s: no PDB: none embedded, no %s%s%s\n", cmd, dll, beside,
            d->has_codeview ? ", none at the CodeView path " : " and no CodeView entry",
            d->has_codeview ? d->codeview_path : "");
    return TOOL_EXIT_MISSING;
}

static void hex(char *buf, const uint8_t *bytes, size_t n)
{
    for (size_t i = 0; i < n; i++)
        sprintf(buf + 2 * i, "%02x", bytes[i]);
}

int tool_pdb_load(const char *cmd, const char *dll, const ilheap_pe_t *pe, tool_pdb_t *out)
{
    memset(out, 0, sizeof *out);
    ilheap_pe_debug_info_t d;
    ilheap_pe_error_t err;
    if (ilheap_pe_debug_info(pe, &d, &err) != ILHEAP_OK) {
        fprintf(stderr, "ilheap %s: %s: %s\n", cmd, dll, err.message);
        return TOOL_EXIT_MALFORMED;
    }
    int rc = d.has_embedded_pdb ? inflate_embedded(cmd, dll, &d, out) : load_separate(cmd, dll, &d, out);
    if (rc != 0)
        return rc;
    if (ilheap_pdb_open(out->data, out->size, &out->pdb, &err) != ILHEAP_OK) {
        fprintf(stderr, "ilheap %s: %s: not a readable portable PDB: %s\n", cmd, out->path, err.message);
        return err.status == ILHEAP_ENOMEM ? TOOL_EXIT_SYSTEM : TOOL_EXIT_MALFORMED;
    }
    ilheap_pdb_info_t info;
    ilheap_pdb_get_info(out->pdb, &info);
    if (d.has_codeview && memcmp(info.id, d.codeview_guid, 16) != 0) {
        char ours[33], theirs[33];
        hex(ours, info.id, 16);
        hex(theirs, d.codeview_guid, 16);
        fprintf(stderr, "ilheap %s: %s: PDB id %s does not match the id %s that %s expects (CodeView entry)\n", cmd,
                out->path, ours, theirs, dll);
        return TOOL_EXIT_MALFORMED;
    }
    return 0;
}

void tool_pdb_free(tool_pdb_t *p)
{
    ilheap_pdb_close(p->pdb);
    free(p->data);
    memset(p, 0, sizeof *p);
}
