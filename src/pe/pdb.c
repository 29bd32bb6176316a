/* The portable PDB layer (Portable PDB v1.0): a PDB is ECMA-335 metadata
 * with a #Pdb stream and tables 0x30..0x37, so it is read by the same root,
 * stream and table code as an assembly (metadata.c, tables.c), given the
 * #Pdb stream's type-system row counts. Here: #Pdb, Document rows and names,
 * sequence point blobs, and the assembly's debug directory.
 */
#include "ilheap/pdb.h"
#include "pe/image.h"
#include "os/memory.h"
#include "pe/pdb_internal.h"

#include <string.h>

#define PDB_HANDLE_MAGIC 0x42445031u /* "1PDB" */
#define PDB_ID_SIZE 20
#define MAX_LINE 0x20000000u   /* lines and IL offsets are below 2^29 */
#define MAX_COLUMN 0x10000u
#define DEBUG_ENTRY_SIZE 28    /* PE/COFF "Debug Directory" entry */
#define DEBUG_TYPE_CODEVIEW 2
#define DEBUG_TYPE_EMBEDDED_PDB 17
#define RSDS_SIGNATURE 0x53445352u /* "RSDS" */
#define MPDB_SIGNATURE 0x4244504Du /* "MPDB" */

enum { DOC_NAME, DOC_HASH_ALGORITHM, DOC_HASH, DOC_LANGUAGE };
enum { MDI_DOCUMENT, MDI_SEQUENCE_POINTS };

struct ilheap_pdb {
    uint32_t magic;
    ilheap_pe_t md; /* the metadata: heaps and tables as for an assembly */
    uint8_t id[PDB_ID_SIZE];
    uint32_t entry_point;
    uint64_t referenced_tables;
};

static bool valid_pdb(const ilheap_pdb_t *pdb)
{
    return pdb != NULL && pdb->magic == PDB_HANDLE_MAGIC;
}

/* #Pdb (Portable PDB v1.0): PDB id (20), EntryPoint (4), ReferencedTypeSystemTables
 * (8), then one row count per bit set. */
static ilheap_status_t read_pdb_stream(ilheap_pdb_t *pdb, ilheap_pe_error_t *error)
{
    ilheap_pe_t *md = &pdb->md;
    if (!md->pdb_stream.present)
        return ilheap__pe_fail(error, ILHEAP_PE_NO_PDB_STREAM, 0, "metadata without a #Pdb stream");
    ilheap__cursor_t c = {0};
    ilheap__cursor_init(&c, md->data, md->size, md->pdb_stream.offset, md->pdb_stream.size);
    if (!ilheap__cursor_has(&c, PDB_ID_SIZE + 12))
        return ilheap__pe_fail(error, ILHEAP_PE_BAD_PDB_STREAM, c.pos, "#Pdb stream of %zu bytes is shorter than 32",
                               md->pdb_stream.size);
    memcpy(pdb->id, ilheap__cursor_ptr(&c), PDB_ID_SIZE);
    ilheap__cursor_skip(&c, PDB_ID_SIZE);
    ilheap__read_u32(&c, &pdb->entry_point);
    size_t tables_at = c.pos;
    ilheap__read_u64(&c, &pdb->referenced_tables);
    if (pdb->referenced_tables >> ILHEAP__TYPE_SYSTEM_TABLES != 0)
        return ilheap__pe_fail(error, ILHEAP_PE_BAD_PDB_STREAM, tables_at,
                               "ReferencedTypeSystemTables %#llx names tables past 0x2C",
                               (unsigned long long)pdb->referenced_tables);
    for (unsigned t = 0; t < ILHEAP__TYPE_SYSTEM_TABLES; t++) {
        if (!(pdb->referenced_tables >> t & 1))
            continue;
        size_t at = c.pos;
        uint32_t rows;
        if (!ilheap__read_u32(&c, &rows))
            return ilheap__pe_fail(error, ILHEAP_PE_BAD_PDB_STREAM, at, "type-system row counts run past #Pdb");
        if (rows > 0x00FFFFFFu)
            return ilheap__pe_fail(error, ILHEAP_PE_BAD_PDB_STREAM, at, "table %#x claims %u rows", t, rows);
        md->external_rows[t] = rows;
    }
    return ILHEAP_OK;
}

ilheap_status_t ilheap_pdb_open(const void *data, size_t size, ilheap_pdb_t **out, ilheap_pe_error_t *error)
{
    if (out == NULL || data == NULL)
        return ilheap__pe_fail(error, ILHEAP_EINVAL, ILHEAP_PE_NO_OFFSET, "pdb_open with a NULL %s",
                               out == NULL ? "out-pointer" : "data");
    *out = NULL;
    if (size > UINT32_MAX)
        return ilheap__pe_fail(error, ILHEAP_PE_BAD_METADATA_ROOT, 0, "PDB of %zu bytes (at most 4 GiB)", size);
    ilheap_pdb_t *pdb = ilheap__mem_zalloc(1, sizeof *pdb);
    if (pdb == NULL)
        return ilheap__pe_fail(error, ILHEAP_ENOMEM, ILHEAP_PE_NO_OFFSET, "%zu bytes for the PDB handle", sizeof *pdb);
    ilheap_pe_t *md = &pdb->md;
    md->data = data;
    md->size = size;
    md->metadata_offset = 0; /* a standalone PDB is the metadata root and what follows */
    md->metadata_size = (uint32_t)size;
    ilheap_status_t st = ilheap__pe_read_metadata_root(md, error);
    if (st == ILHEAP_OK)
        st = read_pdb_stream(pdb, error);
    if (st == ILHEAP_OK)
        st = ilheap__pe_read_tables(md, error);
    if (st != ILHEAP_OK) {
        ilheap__mem_free(pdb);
        return st;
    }
    pdb->magic = PDB_HANDLE_MAGIC;
    *out = pdb;
    return ILHEAP_OK;
}

void ilheap_pdb_close(ilheap_pdb_t *pdb)
{
    if (!valid_pdb(pdb))
        return;
    pdb->magic = 0;
    ilheap__mem_free(pdb);
}

ilheap_status_t ilheap_pdb_get_info(const ilheap_pdb_t *pdb, ilheap_pdb_info_t *out)
{
    if (!valid_pdb(pdb) || out == NULL)
        return ilheap__pe_fail(NULL, valid_pdb(pdb) ? ILHEAP_EINVAL : ILHEAP_PE_BAD_HANDLE, ILHEAP_PE_NO_OFFSET,
                               "pdb_get_info");
    memcpy(out->id, pdb->id, PDB_ID_SIZE);
    out->entry_point = pdb->entry_point;
    out->referenced_tables = pdb->referenced_tables;
    out->document_count = pdb->md.tables[ILHEAP__T_DOCUMENT].rows;
    out->method_count = pdb->md.tables[ILHEAP__T_METHODDEBUGINFO].rows;
    return ILHEAP_OK;
}

static ilheap_status_t check_row(const ilheap_pdb_t *pdb, unsigned table, uint32_t rid, const char *what,
                                 ilheap_pe_error_t *error)
{
    if (!valid_pdb(pdb))
        return ilheap__pe_fail(error, ILHEAP_PE_BAD_HANDLE, ILHEAP_PE_NO_OFFSET, "%s", what);
    if (rid == 0 || rid > pdb->md.tables[table].rows)
        return ilheap__pe_fail(error, ILHEAP_PE_BAD_ROW, ILHEAP_PE_NO_OFFSET, "%s row %u of %u", what, rid,
                               pdb->md.tables[table].rows);
    return ILHEAP_OK;
}

ilheap_status_t ilheap_pdb_document(const ilheap_pdb_t *pdb, uint32_t rid, ilheap_pdb_document_t *out,
                                    ilheap_pe_error_t *error)
{
    ilheap_status_t st = check_row(pdb, ILHEAP__T_DOCUMENT, rid, "Document", error);
    if (st != ILHEAP_OK)
        return st;
    if (out == NULL)
        return ilheap__pe_fail(error, ILHEAP_EINVAL, ILHEAP_PE_NO_OFFSET, "document with a NULL out-pointer");
    const ilheap_pe_t *md = &pdb->md;
    size_t row = ilheap__row_offset(md, ILHEAP__T_DOCUMENT, rid);
    ilheap_pdb_document_t d = {.row_offset = row};
    ilheap__cursor_t hash = {0};
    if ((st = ilheap__pe_guid(md, ilheap__cell(md, ILHEAP__T_DOCUMENT, rid, DOC_HASH_ALGORITHM), row, d.hash_algorithm, error)) ||
        (st = ilheap__pe_guid(md, ilheap__cell(md, ILHEAP__T_DOCUMENT, rid, DOC_LANGUAGE), row, d.language, error)) ||
        (st = ilheap__pe_blob(md, ilheap__cell(md, ILHEAP__T_DOCUMENT, rid, DOC_HASH), row, &hash, error)))
        return st;
    d.hash = ilheap__cursor_ptr(&hash);
    d.hash_size = ilheap__cursor_left(&hash);
    *out = d;
    return ILHEAP_OK;
}

/* Appends n bytes to buf (keeping room for the NUL), counting all of them. */
static void append(char *buf, size_t size, size_t *length, const void *bytes, size_t n)
{
    if (*length < size) {
        size_t room = size - 1 - *length;
        memcpy(buf + *length, bytes, n < room ? n : room);
    }
    *length += n;
}

ilheap_status_t ilheap_pdb_document_name(const ilheap_pdb_t *pdb, uint32_t rid, char *buf, size_t size,
                                         size_t *length, ilheap_pe_error_t *error)
{
    ilheap_status_t st = check_row(pdb, ILHEAP__T_DOCUMENT, rid, "Document", error);
    if (st != ILHEAP_OK)
        return st;
    if (buf == NULL || size == 0)
        return ilheap__pe_fail(error, ILHEAP_EINVAL, ILHEAP_PE_NO_OFFSET, "document_name with no buffer");
    const ilheap_pe_t *md = &pdb->md;
    size_t row = ilheap__row_offset(md, ILHEAP__T_DOCUMENT, rid);
    ilheap__cursor_t name = {0};
    if ((st = ilheap__pe_blob(md, ilheap__cell(md, ILHEAP__T_DOCUMENT, rid, DOC_NAME), row, &name, error)) != ILHEAP_OK)
        return st;
    /* Blob ::= separator part+; separator is an ASCII byte or 0 (none), each
     * part a compressed #Blob index of UTF-8 (0: empty part). */
    size_t at = name.pos;
    uint8_t separator;
    if (!ilheap__read_u8(&name, &separator))
        return ilheap__pe_fail(error, ILHEAP_PE_BAD_DOCUMENT, at, "Document %u: empty name blob", rid);
    if (separator >= 0x80)
        return ilheap__pe_fail(error, ILHEAP_PE_BAD_DOCUMENT, at, "Document %u: separator %#x is not ASCII", rid,
                               separator);
    size_t n = 0;
    for (bool first = true; ilheap__cursor_left(&name) != 0; first = false) {
        size_t part_at = name.pos;
        uint32_t index;
        if (!ilheap__read_compressed(&name, &index))
            return ilheap__pe_fail(error, ILHEAP_PE_BAD_DOCUMENT, part_at, "Document %u: name part cut short", rid);
        ilheap__cursor_t part = {0};
        if ((st = ilheap__pe_blob(md, index, part_at, &part, error)) != ILHEAP_OK)
            return st;
        if (!first && separator != 0)
            append(buf, size, &n, &separator, 1);
        append(buf, size, &n, ilheap__cursor_ptr(&part), ilheap__cursor_left(&part));
    }
    buf[n < size ? n : size - 1] = '\0';
    if (length != NULL)
        *length = n;
    if (n >= size)
        return ilheap__pe_fail(error, ILHEAP_EINVAL, ILHEAP_PE_NO_OFFSET, "document name of %zu bytes, buffer of %zu",
                               n, size);
    return ILHEAP_OK;
}

ilheap_status_t ilheap_pdb_sequence_points_begin(const ilheap_pdb_t *pdb, uint32_t method_rid,
                                                 ilheap_pdb_sequence_points_t *walk, ilheap_pe_error_t *error)
{
    if (walk == NULL)
        return ilheap__pe_fail(error, ILHEAP_EINVAL, ILHEAP_PE_NO_OFFSET, "sequence_points_begin with no walk");
    memset(walk, 0, sizeof *walk);
    ilheap_status_t st = check_row(pdb, ILHEAP__T_METHODDEBUGINFO, method_rid, "MethodDebugInformation", error);
    if (st != ILHEAP_OK)
        return st;
    const ilheap_pe_t *md = &pdb->md;
    size_t row = ilheap__row_offset(md, ILHEAP__T_METHODDEBUGINFO, method_rid);
    uint32_t document = ilheap__cell(md, ILHEAP__T_METHODDEBUGINFO, method_rid, MDI_DOCUMENT);
    uint32_t index = ilheap__cell(md, ILHEAP__T_METHODDEBUGINFO, method_rid, MDI_SEQUENCE_POINTS);
    walk->pdb = pdb;
    if (index == 0)
        return ILHEAP_OK; /* no sequence points */
    ilheap__cursor_t c = {0};
    if ((st = ilheap__pe_blob(md, index, row, &c, error)) != ILHEAP_OK)
        return st;
    /* Header: LocalSignature (StandAloneSig rid), then InitialDocument when
     * the row's Document is nil (the method spans several documents). */
    size_t at = c.pos;
    uint32_t local_signature;
    if (!ilheap__read_compressed(&c, &local_signature) || (document == 0 && !ilheap__read_compressed(&c, &document)))
        return ilheap__pe_fail(error, ILHEAP_PE_BAD_SEQUENCE_POINTS, at, "method %#x: blob header cut short",
                               0x06000000u | method_rid);
    if (document == 0 || document > md->tables[ILHEAP__T_DOCUMENT].rows)
        return ilheap__pe_fail(error, ILHEAP_PE_BAD_SEQUENCE_POINTS, at, "method %#x: document %u of %u",
                               0x06000000u | method_rid, document, md->tables[ILHEAP__T_DOCUMENT].rows);
    walk->pos = c.pos;
    walk->end = c.end;
    walk->document = document;
    walk->first = true;
    return ILHEAP_OK;
}

static int walk_fail(ilheap_pdb_sequence_points_t *walk, ilheap_pe_error_t *error, size_t at, const char *what)
{
    ilheap__pe_fail(error, ILHEAP_PE_BAD_SEQUENCE_POINTS, at, "%s", what);
    walk->pos = walk->end;
    return -1;
}

/* A record's line delta and column delta (the column delta
 * is unsigned when the line delta is 0, signed otherwise). NULL, or what is
 * wrong. */
static const char *read_deltas(ilheap__cursor_t *c, uint32_t *delta_lines, int32_t *delta_columns)
{
    if (!ilheap__read_compressed(c, delta_lines))
        return "line delta malformed or cut short";
    if (*delta_lines != 0)
        return ilheap__read_compressed_signed(c, delta_columns) ? NULL : "column delta malformed or cut short";
    uint32_t u;
    if (!ilheap__read_compressed(c, &u))
        return "column delta malformed or cut short";
    if (u >= MAX_COLUMN)
        return "column delta past 0xFFFF";
    *delta_columns = (int32_t)u;
    return NULL;
}

/* The start and end of a visible point: the first one's start is unsigned,
 * later ones are signed deltas from the previous visible point. Fills *p and
 * the walk's last start; NULL, or what is wrong. */
static const char *read_visible(ilheap_pdb_sequence_points_t *walk, ilheap__cursor_t *c, uint32_t delta_lines,
                                int32_t delta_columns, ilheap_pdb_sequence_point_t *p)
{
    int64_t start_line, start_column;
    if (!walk->have_non_hidden) {
        uint32_t line, column;
        if (!ilheap__read_compressed(c, &line) || !ilheap__read_compressed(c, &column))
            return "start line or column malformed or cut short";
        start_line = line;
        start_column = column;
    } else {
        int32_t dl, dc;
        if (!ilheap__read_compressed_signed(c, &dl) || !ilheap__read_compressed_signed(c, &dc))
            return "start line or column delta malformed or cut short";
        start_line = (int64_t)walk->start_line + dl;
        start_column = (int64_t)walk->start_column + dc;
    }
    int64_t end_line = start_line + delta_lines, end_column = start_column + delta_columns;
    if (start_line < 0 || end_line >= MAX_LINE || start_line == ILHEAP_PDB_HIDDEN_LINE ||
        end_line == ILHEAP_PDB_HIDDEN_LINE)
        return "line out of range";
    if (start_column < 0 || start_column >= MAX_COLUMN || end_column < 0 || end_column >= MAX_COLUMN)
        return "column out of range";
    p->start_line = (uint32_t)start_line;
    p->end_line = (uint32_t)end_line;
    p->start_column = (uint16_t)start_column;
    p->end_column = (uint16_t)end_column;
    walk->start_line = p->start_line;
    walk->start_column = p->start_column;
    walk->have_non_hidden = true;
    return NULL;
}

/* A document record (a zero IL delta after the first record): the points
 * that follow are in that document. NULL, or what is wrong. */
static const char *read_document_record(ilheap_pdb_sequence_points_t *walk, ilheap__cursor_t *c)
{
    uint32_t document;
    if (!ilheap__read_compressed(c, &document))
        return "document record malformed or cut short";
    if (document == 0 || document > walk->pdb->md.tables[ILHEAP__T_DOCUMENT].rows)
        return "document record names no Document row";
    walk->document = document;
    return NULL;
}

int ilheap_pdb_next_sequence_point(ilheap_pdb_sequence_points_t *walk, ilheap_pdb_sequence_point_t *out,
                                   ilheap_pe_error_t *error)
{
    if (walk == NULL || out == NULL || !valid_pdb(walk->pdb)) {
        ilheap__pe_fail(error, ILHEAP_EINVAL, ILHEAP_PE_NO_OFFSET, "next_sequence_point: bad walk");
        return -1;
    }
    ilheap__cursor_t c = {.file = walk->pdb->md.data, .pos = walk->pos, .end = walk->end};
    const char *why = NULL;
    size_t record;
    uint32_t delta_il;
    for (;;) {
        if (ilheap__cursor_left(&c) == 0) {
            walk->pos = c.pos;
            return 0;
        }
        record = c.pos;
        if (!ilheap__read_compressed(&c, &delta_il))
            return walk_fail(walk, error, record, "IL offset delta malformed or cut short");
        if (delta_il != 0 || walk->first)
            break;
        if ((why = read_document_record(walk, &c)) != NULL)
            return walk_fail(walk, error, record, why);
    }
    uint32_t il_offset;
    if (walk->first)
        il_offset = delta_il;
    else if (!ilheap__add_u32(walk->il_offset, delta_il, &il_offset))
        return walk_fail(walk, error, record, "IL offset overflows");
    if (il_offset >= MAX_LINE)
        return walk_fail(walk, error, record, "IL offset past 2^29");
    uint32_t delta_lines;
    int32_t delta_columns;
    if ((why = read_deltas(&c, &delta_lines, &delta_columns)) != NULL)
        return walk_fail(walk, error, record, why);
    ilheap_pdb_sequence_point_t p = {.il_offset = il_offset, .document = walk->document, .file_offset = record};
    if (delta_lines == 0 && delta_columns == 0) {
        p.hidden = true;
        p.start_line = p.end_line = ILHEAP_PDB_HIDDEN_LINE;
    } else if ((why = read_visible(walk, &c, delta_lines, delta_columns, &p)) != NULL) {
        return walk_fail(walk, error, record, why);
    }
    walk->il_offset = il_offset;
    walk->first = false;
    walk->pos = c.pos;
    *out = p;
    return 1;
}

ilheap_status_t ilheap_pe_debug_info(const ilheap_pe_t *pe, ilheap_pe_debug_info_t *out, ilheap_pe_error_t *error)
{
    if (pe == NULL || pe->magic != ILHEAP__PE_HANDLE_MAGIC || out == NULL)
        return ilheap__pe_fail(error, out == NULL ? ILHEAP_EINVAL : ILHEAP_PE_BAD_HANDLE, ILHEAP_PE_NO_OFFSET,
                               "debug_info");
    memset(out, 0, sizeof *out);
    if (pe->debug_rva == 0 || pe->debug_size == 0)
        return ILHEAP_OK;
    size_t at, available;
    ilheap_status_t st = ilheap__pe_map_rva(pe, pe->debug_rva, pe->debug_directory_offset, &at, &available, error);
    if (st != ILHEAP_OK)
        return st;
    if (pe->debug_size > available)
        return ilheap__pe_fail(error, ILHEAP_PE_BAD_DEBUG_DIRECTORY, pe->debug_directory_offset,
                               "debug directory of %u bytes, its section has %zu from there", pe->debug_size,
                               available);
    for (size_t e = at; pe->debug_size - (e - at) >= DEBUG_ENTRY_SIZE; e += DEBUG_ENTRY_SIZE) {
        const uint8_t *h = pe->data + e;
        uint32_t type = ilheap__le32(h + 12), data_size = ilheap__le32(h + 16), pointer = ilheap__le32(h + 24);
        if (type != DEBUG_TYPE_CODEVIEW && type != DEBUG_TYPE_EMBEDDED_PDB)
            continue;
        ilheap__cursor_t c;
        if (!ilheap__cursor_init(&c, pe->data, pe->size, pointer, data_size))
            return ilheap__pe_fail(error, ILHEAP_PE_BAD_DEBUG_DIRECTORY, e + 24,
                                   "debug entry data [%#x, +%#x) runs past the file (%zu bytes)", pointer, data_size,
                                   pe->size);
        uint32_t signature;
        if (!ilheap__read_u32(&c, &signature))
            return ilheap__pe_fail(error, ILHEAP_PE_BAD_DEBUG_DIRECTORY, pointer, "debug entry of %u bytes", data_size);
        if (type == DEBUG_TYPE_CODEVIEW && signature == RSDS_SIGNATURE && !out->has_codeview) {
            /* RSDS: GUID (16), Age (4), path (UTF-8, NUL-terminated). */
            const uint8_t *p = ilheap__cursor_ptr(&c);
            if (!ilheap__cursor_has(&c, 20) || memchr(p + 20, 0, ilheap__cursor_left(&c) - 20) == NULL)
                return ilheap__pe_fail(error, ILHEAP_PE_BAD_DEBUG_DIRECTORY, pointer,
                                       "CodeView entry cut short or its path unterminated");
            memcpy(out->codeview_guid, p, 16);
            out->codeview_age = ilheap__le32(p + 16);
            out->codeview_path = (const char *)p + 20;
            out->codeview_offset = pointer;
            out->has_codeview = true;
        } else if (type == DEBUG_TYPE_EMBEDDED_PDB && !out->has_embedded_pdb) {
            uint32_t uncompressed;
            if (signature != MPDB_SIGNATURE || !ilheap__read_u32(&c, &uncompressed))
                return ilheap__pe_fail(error, ILHEAP_PE_BAD_DEBUG_DIRECTORY, pointer,
                                       "embedded PDB entry without 'MPDB' and its size");
            out->embedded_data = ilheap__cursor_ptr(&c);
            out->embedded_size = ilheap__cursor_left(&c);
            out->embedded_uncompressed_size = uncompressed;
            out->embedded_offset = pointer;
            out->has_embedded_pdb = true;
        }
    }
    return ILHEAP_OK;
}

const ilheap_pe_t *ilheap__pdb_metadata(const ilheap_pdb_t *pdb)
{
    return valid_pdb(pdb) ? &pdb->md : NULL;
}
