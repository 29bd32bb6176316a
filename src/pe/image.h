/* The open image: what the layers of the reader (pe.c -> metadata.c ->
 * tables.c -> api.c) find and hand up. Internal; the public view is
 * include/ilheap/pe.h.
 *
 * Every offset stored here is a FILE offset that open-time checks have proven
 * to lie inside the caller's buffer, so the accessors only check row numbers
 * and heap indexes against counts and sizes recorded here.
 */
#ifndef ILHEAP_PE_IMAGE_H
#define ILHEAP_PE_IMAGE_H

#include "ilheap/pe.h"
#include "pe/cursor.h"
#include "status_internal.h" /* ILHEAP_PRINTF_LIKE */

#include <stdarg.h>

#define ILHEAP__PE_HANDLE_MAGIC 0x50454831u /* "1HEP": an open handle */

/* The Windows loader refuses more sections than this (PE/COFF spec, "COFF
 * File Header"); the bound keeps the handle a single fixed-size allocation. */
#define ILHEAP__PE_MAX_SECTIONS 96

/* Tables 0x00..0x2C of ECMA-335 II.22 (GenericParamConstraint is the last),
 * then the portable PDB tables 0x30..0x37 (Document .. CustomDebugInformation);
 * 0x2D..0x2F are unused. */
#define ILHEAP__TABLE_COUNT 0x38
#define ILHEAP__TYPE_SYSTEM_TABLES 0x2D
#define ILHEAP__MAX_COLUMNS 9

enum {
    ILHEAP__T_MODULE = 0x00,
    ILHEAP__T_TYPEREF = 0x01,
    ILHEAP__T_TYPEDEF = 0x02,
    ILHEAP__T_FIELDPTR = 0x03,
    ILHEAP__T_FIELD = 0x04,
    ILHEAP__T_METHODPTR = 0x05,
    ILHEAP__T_METHODDEF = 0x06,
    ILHEAP__T_PARAMPTR = 0x07,
    ILHEAP__T_PARAM = 0x08,
    ILHEAP__T_MEMBERREF = 0x0A,
    ILHEAP__T_STANDALONESIG = 0x11,
    ILHEAP__T_EVENTPTR = 0x13,
    ILHEAP__T_EVENT = 0x14,
    ILHEAP__T_PROPERTYPTR = 0x16,
    ILHEAP__T_PROPERTY = 0x17,
    ILHEAP__T_TYPESPEC = 0x1B,
    ILHEAP__T_METHODSPEC = 0x2B,
    ILHEAP__T_NESTEDCLASS = 0x29,
    ILHEAP__T_DOCUMENT = 0x30,
    ILHEAP__T_METHODDEBUGINFO = 0x31,
};

typedef struct ilheap__section {
    char name[9];
    uint32_t virtual_address;
    uint32_t virtual_size;   /* as mapped: VirtualSize, or SizeOfRawData when that is 0 */
    uint32_t raw_size;       /* bytes the file gives: min(SizeOfRawData, virtual_size) */
    uint32_t raw_pointer;    /* PointerToRawData */
    uint64_t header_offset;  /* file offset of this entry in the section table */
} ilheap__section_t;

typedef struct ilheap__heap {
    bool present;
    size_t offset; /* file offset */
    size_t size;
} ilheap__heap_t;

typedef struct ilheap__table {
    uint32_t rows;
    uint32_t row_size;
    size_t offset;                              /* file offset of row 1 */
    uint8_t column_offset[ILHEAP__MAX_COLUMNS]; /* within a row */
    uint8_t column_size[ILHEAP__MAX_COLUMNS];   /* 2 or 4 */
} ilheap__table_t;

struct ilheap_pe {
    uint32_t magic;
    const uint8_t *data;
    size_t size;

    /* pe.c: headers and sections */
    bool pe32_plus;
    uint16_t machine;
    uint64_t image_base;
    uint32_t section_alignment, file_alignment;
    uint32_t size_of_image, size_of_headers;
    uint32_t cli_rva, cli_size;        /* data directory 14 */
    uint64_t cli_directory_offset;     /* file offset of that directory entry */
    uint32_t debug_rva, debug_size;    /* data directory 6 (0 when absent) */
    uint64_t debug_directory_offset;
    uint16_t section_count;
    ilheap__section_t sections[ILHEAP__PE_MAX_SECTIONS];
    bool headers_only; /* ilheap_pe_read_headers: section data lies outside data */

    /* metadata.c: CLI header, metadata root and streams */
    uint32_t cli_flags, entry_point_token;
    uint32_t metadata_rva, metadata_size;
    size_t metadata_offset;
    char metadata_version[256];
    ilheap__heap_t strings, user_strings, guids, blobs, table_stream;
    bool uncompressed; /* "#-" */
    bool minimal_delta; /* "#JTD": every index is 4 bytes */
    ilheap__heap_t pdb_stream; /* "#Pdb" (portable PDBs only) */

    /* A standalone portable PDB: row counts of the type-system tables of the
     * assembly it describes (#Pdb TypeSystemTableRows), which size its
     * indexes into those tables; zero for an assembly. */
    uint32_t external_rows[ILHEAP__TYPE_SYSTEM_TABLES];

    /* tables.c */
    uint8_t heap_sizes;
    uint64_t valid, sorted;
    size_t tables_end; /* file offset after the last row of the last table */
    ilheap__table_t tables[ILHEAP__TABLE_COUNT];

    /* api.c: for images with a MethodPtr table, each MethodDef's position in
     * the method list (0: none points at it), indexed by rid; else NULL. */
    uint32_t *method_positions;
};

/* Records a failure in *error (may be NULL) and the thread's last message:
 * "<detail> at file offset 0x..", and returns status. */
ILHEAP_PRINTF_LIKE(4, 5)
ilheap_status_t
ilheap__pe_fail(ilheap_pe_error_t *error, ilheap_status_t status, uint64_t file_offset,
                const char *format, ...);

/* The layers, in the order ilheap_pe_open calls them; each fills its part.
 * read_metadata finds the root through the CLI header, then calls
 * read_metadata_root, which a portable PDB (root at metadata_offset, no PE
 * around it) calls directly. */
ilheap_status_t ilheap__pe_read_headers(ilheap_pe_t *pe, ilheap_pe_error_t *error);
ilheap_status_t ilheap__pe_read_metadata(ilheap_pe_t *pe, ilheap_pe_error_t *error);
ilheap_status_t ilheap__pe_read_metadata_root(ilheap_pe_t *pe, ilheap_pe_error_t *error);
ilheap_status_t ilheap__pe_read_tables(ilheap_pe_t *pe, ilheap_pe_error_t *error);

/* RVA -> file offset and bytes available to the end of the section's raw
 * data; `field_offset` is where the RVA was read, for the error report. */
ilheap_status_t ilheap__pe_map_rva(const ilheap_pe_t *pe, uint32_t rva, uint64_t field_offset,
                                   size_t *file_offset, size_t *available,
                                   ilheap_pe_error_t *error);

/* A #GUID index (1-based, 0 = none) into a 16-byte copy; `field` is where the
 * index was read, for the error report. */
ilheap_status_t ilheap__pe_guid(const ilheap_pe_t *md, uint32_t index, uint64_t field, uint8_t out[16],
                                ilheap_pe_error_t *error);

/* The #Blob entry at `index` as a cursor over its bytes; `field` is where
 * the index was read, for the error report. */
ilheap_status_t ilheap__pe_blob(const ilheap_pe_t *md, uint32_t index, uint64_t field, ilheap__cursor_t *out,
                                ilheap_pe_error_t *error);

/* The file offset of row `rid` (1-based) of `table`; the caller has checked
 * 1 <= rid <= rows. */
static inline size_t ilheap__row_offset(const ilheap_pe_t *pe, unsigned table, uint32_t rid)
{
    const ilheap__table_t *t = &pe->tables[table];
    return t->offset + (size_t)(rid - 1) * t->row_size;
}

/* Column `column` of row `rid`; the caller has checked rid. */
static inline uint32_t ilheap__cell(const ilheap_pe_t *pe, unsigned table, uint32_t rid,
                                    unsigned column)
{
    const ilheap__table_t *t = &pe->tables[table];
    const uint8_t *p = pe->data + ilheap__row_offset(pe, table, rid) + t->column_offset[column];
    return t->column_size[column] == 2 ? ilheap__le16(p) : ilheap__le32(p);
}

/* Binary searches over a column that ascends with the row (a sorted key, or
 * a list column such as TypeDef.MethodList): the first row whose cell is
 * >= key (rows + 1 when none), and the last row whose cell is <= key (0 when
 * none). The caller decides whether the column may be trusted to ascend. */
uint32_t ilheap__first_row_at_least(const ilheap_pe_t *pe, unsigned table, unsigned column, uint32_t key);
uint32_t ilheap__last_row_at_most(const ilheap_pe_t *pe, unsigned table, unsigned column, uint32_t key);

#endif
