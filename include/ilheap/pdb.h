/* ilheap's portable PDB reader (Portable PDB v1.0 over ECMA-335 metadata):
 * documents, method debug information and sequence points; and, on the
 * assembly's side, its debug directory (the CodeView entry that names and
 * identifies the PDB, and the embedded, deflated PDB).
 *
 * Same rules as the PE reader (include/ilheap/pe.h): the bytes are untrusted
 * and the caller's; every defect is a status in 300..399 with its FILE offset
 * (of the .pdb, or of the DLL for the debug directory). The reader itself never
 * inflates: the embedded PDB's location and sizes are handed out, a caller
 * with zlib inflates them (raw deflate) and opens the result.
 *
 *   ilheap_pdb_t *pdb;
 *   ilheap_pdb_open(bytes, size, &pdb, &err);
 *   ilheap_pdb_sequence_points_t sp;
 *   ilheap_pdb_sequence_point_t p;
 *   ilheap_pdb_sequence_points_begin(pdb, method_rid, &sp, &err);
 *   while ((more = ilheap_pdb_next_sequence_point(&sp, &p, &err)) > 0) ...
 *   ilheap_pdb_close(pdb);
 */
#ifndef ILHEAP_PDB_H
#define ILHEAP_PDB_H

#include "ilheap/pe.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ilheap_pdb ilheap_pdb_t;

/* Line of a hidden sequence point (Portable PDB v1.0). */
#define ILHEAP_PDB_HIDDEN_LINE 0xFEEFEEu

typedef struct ilheap_pdb_info {
    uint8_t id[20];              /* #Pdb PDB id: GUID (16) + stamp (4) */
    uint32_t entry_point;        /* MethodDef token or 0 */
    uint64_t referenced_tables;  /* #Pdb ReferencedTypeSystemTables bits */
    uint32_t document_count;     /* Document rows */
    uint32_t method_count;       /* MethodDebugInformation rows (one per MethodDef) */
} ilheap_pdb_info_t;

/* Opens the portable PDB in data[0..size) (not copied: keep it alive and
 * unchanged until close). Checks the metadata root, the streams, #Pdb and the
 * table stream. *out is NULL on failure. */
ILHEAP_API ilheap_status_t ilheap_pdb_open(const void *data, size_t size, ilheap_pdb_t **out,
                                           ilheap_pe_error_t *error);
ILHEAP_API void ilheap_pdb_close(ilheap_pdb_t *pdb);
ILHEAP_API ilheap_status_t ilheap_pdb_get_info(const ilheap_pdb_t *pdb, ilheap_pdb_info_t *out);

/* One Document row. */
typedef struct ilheap_pdb_document {
    uint8_t hash_algorithm[16]; /* GUID (zero when the column is 0) */
    uint8_t language[16];
    const uint8_t *hash;        /* in the caller's buffer */
    size_t hash_size;
    uint64_t row_offset;
} ilheap_pdb_document_t;

ILHEAP_API ilheap_status_t ilheap_pdb_document(const ilheap_pdb_t *pdb, uint32_t rid, ilheap_pdb_document_t *out,
                                               ilheap_pe_error_t *error);

/* The document's name, its parts joined by its separator, NUL-terminated into
 * buf[0..size). *length gets the full length; ILHEAP_EINVAL (buffer too
 * small, buf holding a truncated name) when *length >= size. */
ILHEAP_API ilheap_status_t ilheap_pdb_document_name(const ilheap_pdb_t *pdb, uint32_t rid, char *buf, size_t size,
                                                    size_t *length, ilheap_pe_error_t *error);

/* A sequence point. Hidden points have start_line = end_line = 0xFEEFEE and
 * columns 0. */
typedef struct ilheap_pdb_sequence_point {
    uint32_t il_offset;
    uint32_t start_line, end_line;
    uint16_t start_column, end_column;
    uint32_t document;    /* Document rid */
    bool hidden;
    uint64_t file_offset; /* where its record starts */
} ilheap_pdb_sequence_point_t;

/* A walk over one method's sequence points (fields private). */
typedef struct ilheap_pdb_sequence_points {
    const ilheap_pdb_t *pdb;
    size_t pos, end;               /* file offsets within the blob */
    uint32_t document, il_offset, start_line, start_column;
    bool first, have_non_hidden;
} ilheap_pdb_sequence_points_t;

/* Starts the walk for MethodDef rid `method_rid` (its MethodDebugInformation
 * row): reads the blob header (local signature, initial document). A method
 * without sequence points yields nothing. */
ILHEAP_API ilheap_status_t ilheap_pdb_sequence_points_begin(const ilheap_pdb_t *pdb, uint32_t method_rid,
                                                            ilheap_pdb_sequence_points_t *walk,
                                                            ilheap_pe_error_t *error);

/* 1 and *out filled; 0 at the end; -1 on a malformed record (*error says
 * where; the walk then stays at its end). */
ILHEAP_API int ilheap_pdb_next_sequence_point(ilheap_pdb_sequence_points_t *walk, ilheap_pdb_sequence_point_t *out,
                                              ilheap_pe_error_t *error);

/* The assembly's debug directory (PE data directory 6). */
typedef struct ilheap_pe_debug_info {
    bool has_codeview;            /* a CodeView "RSDS" entry (type 2) */
    uint8_t codeview_guid[16];    /* = the PDB id's first 16 bytes */
    uint32_t codeview_age;
    const char *codeview_path;    /* in the caller's buffer, NUL-terminated */
    uint64_t codeview_offset;     /* file offset of its data */
    bool has_embedded_pdb;        /* an Embedded Portable PDB entry (type 17) */
    const uint8_t *embedded_data; /* the raw deflate stream after "MPDB" + size */
    size_t embedded_size;
    uint32_t embedded_uncompressed_size;
    uint64_t embedded_offset;     /* file offset of its data ("MPDB") */
} ilheap_pe_debug_info_t;

/* Reads the debug directory; an image without one gets all-false. */
ILHEAP_API ilheap_status_t ilheap_pe_debug_info(const ilheap_pe_t *pe, ilheap_pe_debug_info_t *out,
                                                ilheap_pe_error_t *error);

/* Source Link: the PDB's CustomDebugInformation record of kind
 * CC110556-A091-4D38-9FEC-25AB9A351A6A, JSON {"documents": {PATH: URL, ...}}
 * that a deterministic build (ContinuousIntegrationBuild=true, document
 * paths "/_/src/...") writes. A PATH ending in '*' is a prefix: the rest of
 * a document's path replaces the URL's '*'. Other keys are skipped; a
 * malformed JSON is ILHEAP_PE_BAD_SOURCE_LINK with its file offset. */
typedef struct ilheap_source_link ilheap_source_link_t;

/* The PDB's Source Link, parsed (free with ilheap_source_link_free); *out is
 * NULL, with ILHEAP_OK, when the PDB has none. */
ILHEAP_API ilheap_status_t ilheap_pdb_source_link(const ilheap_pdb_t *pdb, ilheap_source_link_t **out,
                                                  ilheap_pe_error_t *error);
/* Parses Source Link JSON json[0..size) (untrusted; copied); error offsets are
 * base + the position in json. An optional UTF-8 byte order mark may lead. */
ILHEAP_API ilheap_status_t ilheap_source_link_parse(const void *json, size_t size, uint64_t base,
                                                    ilheap_source_link_t **out, ilheap_pe_error_t *error);
ILHEAP_API size_t ilheap_source_link_count(const ilheap_source_link_t *link);
/* Entry i (in the JSON's order): its PATH and URL, owned by link; false past the end. */
ILHEAP_API bool ilheap_source_link_entry(const ilheap_source_link_t *link, size_t i, const char **path,
                                         const char **url);
/* The entry that maps `document`: an exact PATH, else the longest prefix
 * PATH (such as "/_/" followed by a star); false when none does. */
ILHEAP_API bool ilheap_source_link_match(const ilheap_source_link_t *link, const char *document, size_t *index);
ILHEAP_API void ilheap_source_link_free(ilheap_source_link_t *link);

#ifdef __cplusplus
}
#endif

#endif /* ILHEAP_PDB_H */
