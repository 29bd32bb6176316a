/* ilheap scan --lines: every method's sequence points from the assembly's
 * portable PDB (issue 16): the PDB embedded in the DLL (inflated here with
 * zlib: the core library never links it), or a separate .pdb next to the DLL
 * or at the CodeView path, whose id must match the CodeView entry. */
#include "commands.h"
#include "ilheap/pdb.h"
#include "tool.h"

#include <stdlib.h>
#include <string.h>
#ifdef ILHEAP_HAVE_ZLIB
#include <zlib.h>
#endif

#define MAX_EMBEDDED_PDB (1u << 30) /* refuse to inflate more than 1 GiB */

/* Where the PDB bytes came from, for messages. */
typedef struct pdb_source {
    char path[4096 + 16];
    bool embedded;
    uint8_t *data; /* malloc'd */
    size_t size;
} pdb_source_t;

static int inflate_embedded(const char *dll, const ilheap_pe_debug_info_t *d, pdb_source_t *src)
{
    snprintf(src->path, sizeof src->path, "%s (embedded PDB)", dll);
    src->embedded = true;
    if (d->embedded_uncompressed_size == 0 || d->embedded_uncompressed_size > MAX_EMBEDDED_PDB) {
        fprintf(stderr, "ilheap scan: %s: embedded PDB claims %u bytes uncompressed (file offset %#llx)\n", dll,
                d->embedded_uncompressed_size, (unsigned long long)d->embedded_offset);
        return TOOL_EXIT_MALFORMED;
    }
#ifndef ILHEAP_HAVE_ZLIB
    fprintf(stderr, "ilheap scan: %s: has an embedded PDB, but this ilheap was built without zlib to inflate it\n",
            dll);
    return TOOL_EXIT_MALFORMED;
#else
    src->size = d->embedded_uncompressed_size;
    src->data = malloc(src->size);
    if (src->data == NULL) {
        fprintf(stderr, "ilheap scan: out of memory for the %zu-byte embedded PDB\n", src->size);
        return TOOL_EXIT_SYSTEM;
    }
    z_stream z = {0};
    if (inflateInit2(&z, -MAX_WBITS) != Z_OK) { /* raw deflate, no zlib header */
        fprintf(stderr, "ilheap scan: zlib inflateInit2 failed\n");
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
                "ilheap scan: %s: embedded PDB at file offset %#llx does not inflate to its %zu bytes "
                "(zlib: %s, %zu bytes produced)\n",
                dll, (unsigned long long)d->embedded_offset, src->size, zr == Z_STREAM_END ? "ended early" : "corrupt",
                produced);
        return TOOL_EXIT_MALFORMED;
    }
    return 0;
#endif
}

/* The separate .pdb: DLL's name with .pdb, else the CodeView path. */
static int load_separate(const char *dll, const ilheap_pe_debug_info_t *d, pdb_source_t *src)
{
    char beside[4096];
    const char *slash = strrchr(dll, '/');
#ifdef _WIN32
    const char *backslash = strrchr(dll, '\\');
    if (backslash != NULL && (slash == NULL || backslash > slash))
        slash = backslash;
#endif
    const char *dot = strrchr(dll, '.');
    size_t stem = dot != NULL && (slash == NULL || dot > slash) ? (size_t)(dot - dll) : strlen(dll);
    if (stem + 5 > sizeof beside) {
        fprintf(stderr, "ilheap scan: %s: path too long\n", dll);
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
        int rc = tool_load("scan", candidates[i], false, &in);
        if (rc != 0)
            return rc;
        snprintf(src->path, sizeof src->path, "%s", in.path);
        src->data = in.data;
        src->size = in.size;
        return 0;
    }
    fprintf(stderr, "ilheap scan: %s: no PDB: none embedded, no %s%s%s\n", dll, beside,
            d->has_codeview ? ", none at the CodeView path " : " and no CodeView entry",
            d->has_codeview ? d->codeview_path : "");
    return TOOL_EXIT_MISSING;
}

static void json_string(tool_out_t *out, const char *s)
{
    tool_out_str(out, "\"");
    char esc[8];
    for (const unsigned char *p = (const unsigned char *)s; *p != 0; p++) {
        if (*p == '"' || *p == '\\') {
            esc[0] = '\\', esc[1] = (char)*p, esc[2] = 0;
            tool_out_str(out, esc);
        } else if (*p < 0x20) {
            snprintf(esc, sizeof esc, "\\u%04x", *p);
            tool_out_str(out, esc);
        } else {
            esc[0] = (char)*p, esc[1] = 0;
            tool_out_str(out, esc);
        }
    }
    tool_out_str(out, "\"");
}

/* Prints the points of every method with any; counts malformed blobs. */
static uint64_t print_points(tool_out_t *out, const ilheap_pdb_t *pdb, const char *pdb_path, bool jsonl,
                             uint64_t *methods, uint64_t *points)
{
    ilheap_pdb_info_t info;
    ilheap_pdb_get_info(pdb, &info);
    uint32_t documents = info.document_count;
    char (*names)[1024] = calloc(documents + 1u, sizeof *names);
    uint64_t bad = 0;
    if (names == NULL) {
        fprintf(stderr, "ilheap scan: out of memory for %u document names\n", documents);
        return 1;
    }
    ilheap_pe_error_t err;
    for (uint32_t d = 1; d <= documents; d++)
        if (ilheap_pdb_document_name(pdb, d, names[d], sizeof names[d], NULL, &err) != ILHEAP_OK) {
            fprintf(stderr, "ilheap scan: %s: document %u: %s\n", pdb_path, d, err.message);
            bad++;
        }
    for (uint32_t rid = 1; rid <= info.method_count; rid++) {
        ilheap_pdb_sequence_points_t walk;
        ilheap_pdb_sequence_point_t p;
        if (ilheap_pdb_sequence_points_begin(pdb, rid, &walk, &err) != ILHEAP_OK) {
            fprintf(stderr, "ilheap scan: %s: method 0x%08x: %s\n", pdb_path, 0x06000000u | rid, err.message);
            bad++;
            continue;
        }
        int more, n = 0;
        uint32_t document = 0;
        while ((more = ilheap_pdb_next_sequence_point(&walk, &p, &err)) > 0) {
            if (n++ == 0) {
                if (jsonl)
                    tool_out_printf(out, "{\"token\":%u,\"points\":[", 0x06000000u | rid);
                else
                    tool_out_printf(out, "0x%08x\n", 0x06000000u | rid);
            }
            (*points)++;
            if (jsonl) {
                tool_out_printf(out, "%s{\"il\":%u,\"document\":", n > 1 ? "," : "", p.il_offset);
                json_string(out, names[p.document]);
                tool_out_printf(out, ",\"hidden\":%s,\"start_line\":%u,\"start_col\":%u,\"end_line\":%u,\"end_col\":%u}",
                                p.hidden ? "true" : "false", p.start_line, p.start_column, p.end_line, p.end_column);
                continue;
            }
            if (p.document != document) {
                tool_out_printf(out, "  %s\n", names[p.document]);
                document = p.document;
            }
            if (p.hidden)
                tool_out_printf(out, "    IL_%04x  hidden\n", p.il_offset);
            else
                tool_out_printf(out, "    IL_%04x  %u:%u-%u:%u\n", p.il_offset, p.start_line, p.start_column,
                                p.end_line, p.end_column);
        }
        if (n != 0) {
            (*methods)++;
            if (jsonl)
                tool_out_str(out, "]}\n");
        }
        if (more < 0) {
            fprintf(stderr, "ilheap scan: %s: method 0x%08x: %s\n", pdb_path, 0x06000000u | rid, err.message);
            bad++;
        }
    }
    free(names);
    return bad;
}

static void hex(char *buf, const uint8_t *bytes, size_t n)
{
    for (size_t i = 0; i < n; i++)
        sprintf(buf + 2 * i, "%02x", bytes[i]);
}

int ilheap_scan_lines(const char *path, bool builtin, bool jsonl)
{
    tool_input_t in;
    ilheap_pe_t *pe;
    int rc = tool_load_and_open("scan", path, builtin, &in, &pe);
    if (rc != 0)
        return rc;
    ilheap_pe_debug_info_t d;
    ilheap_pe_error_t err;
    pdb_source_t src = {0};
    ilheap_pdb_t *pdb = NULL;
    if (ilheap_pe_debug_info(pe, &d, &err) != ILHEAP_OK) {
        fprintf(stderr, "ilheap scan: %s: %s\n", in.path, err.message);
        rc = TOOL_EXIT_MALFORMED;
        goto done;
    }
    rc = d.has_embedded_pdb ? inflate_embedded(in.path, &d, &src) : load_separate(in.path, &d, &src);
    if (rc != 0)
        goto done;
    if (ilheap_pdb_open(src.data, src.size, &pdb, &err) != ILHEAP_OK) {
        fprintf(stderr, "ilheap scan: %s: not a readable portable PDB: %s\n", src.path, err.message);
        rc = err.status == ILHEAP_ENOMEM ? TOOL_EXIT_SYSTEM : TOOL_EXIT_MALFORMED;
        goto done;
    }
    ilheap_pdb_info_t info;
    ilheap_pdb_get_info(pdb, &info);
    if (d.has_codeview && memcmp(info.id, d.codeview_guid, 16) != 0) {
        char ours[33], theirs[33];
        hex(ours, info.id, 16);
        hex(theirs, d.codeview_guid, 16);
        fprintf(stderr, "ilheap scan: %s: PDB id %s does not match the id %s that %s expects (CodeView entry)\n",
                src.path, ours, theirs, in.path);
        rc = TOOL_EXIT_MALFORMED;
        goto done;
    }
    tool_out_t *out = malloc(sizeof *out);
    if (out == NULL) {
        rc = TOOL_EXIT_SYSTEM;
        goto done;
    }
    tool_out_init(out, stdout);
    if (!jsonl)
        tool_out_printf(out, "input  %s\npdb    %s\n", in.path, src.path);
    uint64_t methods = 0, points = 0;
    uint64_t bad = print_points(out, pdb, src.path, jsonl, &methods, &points);
    if (!jsonl)
        tool_out_printf(out, "\ntotals: %u documents, %llu methods with sequence points, %llu points\n",
                        info.document_count, (unsigned long long)methods, (unsigned long long)points);
    bool written = tool_out_flush(out);
    free(out);
    if (!written) {
        fprintf(stderr, "ilheap scan: writing the output failed\n");
        rc = TOOL_EXIT_SYSTEM;
    } else if (bad != 0) {
        fprintf(stderr, "ilheap scan: %s: %llu documents or methods could not be read\n", src.path,
                (unsigned long long)bad);
        rc = TOOL_EXIT_MALFORMED;
    }
done:
    ilheap_pdb_close(pdb);
    free(src.data);
    ilheap_pe_close(pe);
    tool_input_free(&in);
    return rc;
}
