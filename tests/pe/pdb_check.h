/* Shared by the PDB fuzzer and the corrupt-PDB test: opens bytes as a portable
 * PDB and, when they open, reads every document and every sequence point,
 * aborting on any broken contract (a failure without a PE-range status, a
 * message and a file offset; a point outside the documented ranges). Returns
 * whether the bytes opened, and counts points read in *points. */
#ifndef ILHEAP_TESTS_PDB_CHECK_H
#define ILHEAP_TESTS_PDB_CHECK_H

#include "ilheap/pdb.h"

#include <stdlib.h>
#include <string.h>

#define PDB_CHECK_MAX_ROWS 4096 /* walking huge fuzzed tables only slows the fuzzer */

static inline void pdb_check_failure(ilheap_status_t st, const ilheap_pe_error_t *err, bool needs_offset)
{
    if (st == ILHEAP_OK || st != err->status || err->message[0] == '\0')
        abort();
    if (needs_offset && (st < 300 || st > 399 || err->file_offset == ILHEAP_PE_NO_OFFSET))
        abort();
}

static inline bool pdb_check_bytes(const uint8_t *data, size_t size, uint64_t *points)
{
    ilheap_pdb_t *pdb;
    ilheap_pe_error_t err;
    ilheap_status_t st = ilheap_pdb_open(data, size, &pdb, &err);
    if (st != ILHEAP_OK) {
        pdb_check_failure(st, &err, true);
        if (pdb != NULL || err.file_offset > size)
            abort();
        return false;
    }
    ilheap_pdb_info_t info;
    if (ilheap_pdb_get_info(pdb, &info) != ILHEAP_OK)
        abort();
    volatile uint8_t sink = 0;
    for (uint32_t d = 1; d <= info.document_count && d <= PDB_CHECK_MAX_ROWS; d++) {
        ilheap_pdb_document_t doc;
        char name[512];
        size_t length;
        if ((st = ilheap_pdb_document(pdb, d, &doc, &err)) == ILHEAP_OK)
            sink ^= doc.hash_size ? doc.hash[doc.hash_size - 1] : 0;
        else
            pdb_check_failure(st, &err, true);
        if ((st = ilheap_pdb_document_name(pdb, d, name, sizeof name, &length, &err)) == ILHEAP_OK) {
            if (strlen(name) > length)
                abort(); /* a part may hold a NUL: then strlen is shorter, never longer */
        } else {
            pdb_check_failure(st, &err, st != ILHEAP_EINVAL);
        }
    }
    for (uint32_t rid = 1; rid <= info.method_count && rid <= PDB_CHECK_MAX_ROWS; rid++) {
        ilheap_pdb_sequence_points_t walk;
        ilheap_pdb_sequence_point_t p;
        if ((st = ilheap_pdb_sequence_points_begin(pdb, rid, &walk, &err)) != ILHEAP_OK) {
            pdb_check_failure(st, &err, true);
            continue;
        }
        int more;
        while ((more = ilheap_pdb_next_sequence_point(&walk, &p, &err)) > 0) {
            (*points)++;
            if (p.document == 0 || p.document > info.document_count || p.il_offset >= 0x20000000u)
                abort();
            if (p.hidden ? p.start_line != ILHEAP_PDB_HIDDEN_LINE || p.end_line != ILHEAP_PDB_HIDDEN_LINE
                         : p.end_line < p.start_line || p.end_line >= 0x20000000u)
                abort();
        }
        if (more < 0) {
            pdb_check_failure(ILHEAP_PE_BAD_SEQUENCE_POINTS, &err, true);
            if (ilheap_pdb_next_sequence_point(&walk, &p, &err) != 0)
                abort(); /* a failed walk stays at its end */
        }
    }
    (void)sink;
    ilheap_pdb_close(pdb);
    return true;
}

#endif
