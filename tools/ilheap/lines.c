/* ilheap scan --lines: every method's sequence points from the assembly's
 * portable PDB, found and matched by pdb_load.c. */
#include "commands.h"
#include "pdb_load.h"
#include "tool.h"

#include <stdlib.h>
#include <string.h>

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

int ilheap_scan_lines(const char *path, bool builtin, bool jsonl)
{
    tool_input_t in;
    ilheap_pe_t *pe;
    int rc = tool_load_and_open("scan", path, builtin, &in, &pe);
    if (rc != 0)
        return rc;
    tool_pdb_t src;
    rc = tool_pdb_load("scan", in.path, pe, &src);
    if (rc != 0)
        goto done;
    const ilheap_pdb_t *pdb = src.pdb;
    ilheap_pdb_info_t info;
    ilheap_pdb_get_info(pdb, &info);
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
    tool_pdb_free(&src);
    ilheap_pe_close(pe);
    tool_input_free(&in);
    return rc;
}
