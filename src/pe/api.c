/* The public face of the reader: open and close, and row-level access to
 * MethodDef and TypeDef, #Strings, RVAs and method owners. Each entry point
 * checks the handle's magic and every row number and heap index it is given.
 */
#include "pe/cursor.h"
#include "pe/image.h"
#include "os/memory.h"

#include <string.h>

#define METHODDEF_TOKEN 0x06000000u
#define TYPEDEF_TOKEN 0x02000000u

/* MethodDef columns (II.22.26) and TypeDef columns (II.22.37). */
enum { MD_RVA, MD_IMPL_FLAGS, MD_FLAGS, MD_NAME, MD_SIGNATURE, MD_PARAM_LIST };
enum { TD_FLAGS, TD_NAME, TD_NAMESPACE, TD_EXTENDS, TD_FIELD_LIST, TD_METHOD_LIST };

static bool valid_handle(const ilheap_pe_t *pe)
{
    return pe != NULL && pe->magic == ILHEAP__PE_HANDLE_MAGIC;
}

#define CHECK_HANDLE(pe, error, what)                                                                  \
    do {                                                                                               \
        if (!valid_handle(pe))                                                                         \
            return ilheap__pe_fail(error, ILHEAP_PE_BAD_HANDLE, ILHEAP_PE_NO_OFFSET, "%s", what);      \
    } while (0)

/* II.22.28: with a MethodPtr table (uncompressed "#-" metadata), TypeDef.
 * MethodList counts MethodPtr rows. Inverting it once (one allocation) keeps
 * owner lookups O(log types) instead of a scan of the table per method. The
 * first pointer to a method wins. */
static ilheap_status_t index_method_pointers(ilheap_pe_t *pe, ilheap_pe_error_t *error)
{
    uint32_t pointers = pe->tables[ILHEAP__T_METHODPTR].rows;
    uint32_t methods = pe->tables[ILHEAP__T_METHODDEF].rows;
    if (pointers == 0)
        return ILHEAP_OK;
    pe->method_positions = ilheap__mem_zalloc((size_t)methods + 1, sizeof *pe->method_positions);
    if (pe->method_positions == NULL)
        return ilheap__pe_fail(error, ILHEAP_ENOMEM, ILHEAP_PE_NO_OFFSET, "index of %u method pointers", pointers);
    for (uint32_t p = 1; p <= pointers; p++) {
        uint32_t rid = ilheap__cell(pe, ILHEAP__T_METHODPTR, p, 0);
        if (rid >= 1 && rid <= methods && pe->method_positions[rid] == 0)
            pe->method_positions[rid] = p;
    }
    return ILHEAP_OK;
}

/* A zeroed handle over [data, data + size), its headers read (the section
 * table too; with headers_only, section data may lie outside). NULL with
 * *status set on failure. */
static ilheap_pe_t *handle_with_headers(const void *data, size_t size, bool headers_only,
                                        ilheap_status_t *status, ilheap_pe_error_t *error)
{
    ilheap_pe_t *pe = ilheap__mem_zalloc(1, sizeof *pe);
    if (pe == NULL) {
        *status = ilheap__pe_fail(error, ILHEAP_ENOMEM, ILHEAP_PE_NO_OFFSET, "%zu bytes for the image handle",
                                  sizeof *pe);
        return NULL;
    }
    pe->data = data;
    pe->size = size;
    pe->headers_only = headers_only;
    *status = ilheap__pe_read_headers(pe, error);
    if (*status != ILHEAP_OK) {
        ilheap__mem_free(pe);
        return NULL;
    }
    return pe;
}

ilheap_status_t ilheap_pe_open(const void *data, size_t size, ilheap_pe_t **out, ilheap_pe_error_t *error)
{
    if (out == NULL)
        return ilheap__pe_fail(error, ILHEAP_EINVAL, ILHEAP_PE_NO_OFFSET, "open with a NULL out-pointer");
    *out = NULL;
    if (data == NULL)
        return ilheap__pe_fail(error, ILHEAP_EINVAL, ILHEAP_PE_NO_OFFSET, "open with NULL data");
    ilheap_status_t st;
    ilheap_pe_t *pe = handle_with_headers(data, size, false, &st, error);
    if (pe == NULL)
        return st;
    st = ilheap__pe_read_metadata(pe, error);
    if (st == ILHEAP_OK)
        st = ilheap__pe_read_tables(pe, error);
    if (st == ILHEAP_OK)
        st = index_method_pointers(pe, error);
    if (st != ILHEAP_OK) {
        ilheap__mem_free(pe->method_positions);
        ilheap__mem_free(pe);
        return st;
    }
    pe->magic = ILHEAP__PE_HANDLE_MAGIC;
    *out = pe;
    return ILHEAP_OK;
}

ilheap_status_t ilheap_pe_read_headers(const void *data, size_t size, ilheap_pe_headers_t *out,
                                       ilheap_pe_error_t *error)
{
    if (out == NULL || data == NULL)
        return ilheap__pe_fail(error, ILHEAP_EINVAL, ILHEAP_PE_NO_OFFSET, "read_headers with a NULL %s",
                               out == NULL ? "out-pointer" : "data");
    memset(out, 0, sizeof *out);
    ilheap_status_t st;
    ilheap_pe_t *pe = handle_with_headers(data, size, true, &st, error);
    if (pe == NULL)
        return st;
    out->size_of_image = pe->size_of_image;
    out->size_of_headers = pe->size_of_headers;
    for (unsigned i = 0; i < pe->section_count; i++) {
        /* The file's own SizeOfRawData (header_offset + 16 was read, so it is inside data). */
        const ilheap__section_t *s = &pe->sections[i];
        uint64_t end = (uint64_t)s->raw_pointer + ilheap__le32(pe->data + s->header_offset + 16);
        if (end > out->file_extent)
            out->file_extent = end;
    }
    ilheap__mem_free(pe);
    return ILHEAP_OK;
}

void ilheap_pe_close(ilheap_pe_t *pe)
{
    if (!valid_handle(pe))
        return;
    pe->magic = 0; /* a use after close fails the magic check while the memory lasts */
    ilheap__mem_free(pe->method_positions);
    ilheap__mem_free(pe);
}

ilheap_status_t ilheap_pe_get_info(const ilheap_pe_t *pe, ilheap_pe_info_t *out)
{
    CHECK_HANDLE(pe, NULL, "get_info");
    if (out == NULL)
        return ilheap__pe_fail(NULL, ILHEAP_EINVAL, ILHEAP_PE_NO_OFFSET, "get_info with a NULL out-pointer");
    *out = (ilheap_pe_info_t){
        .pe32_plus = pe->pe32_plus,
        .machine = pe->machine,
        .section_count = pe->section_count,
        .image_base = pe->image_base,
        .section_alignment = pe->section_alignment,
        .file_alignment = pe->file_alignment,
        .size_of_image = pe->size_of_image,
        .size_of_headers = pe->size_of_headers,
        .cli_flags = pe->cli_flags,
        .entry_point_token = pe->entry_point_token,
        .metadata_rva = pe->metadata_rva,
        .metadata_size = pe->metadata_size,
        .metadata_version = pe->metadata_version,
        .uncompressed_tables = pe->uncompressed,
        .heap_sizes = pe->heap_sizes,
        .method_count = pe->tables[ILHEAP__T_METHODDEF].rows,
        .typedef_count = pe->tables[ILHEAP__T_TYPEDEF].rows,
    };
    return ILHEAP_OK;
}

uint32_t ilheap_pe_method_count(const ilheap_pe_t *pe)
{
    return valid_handle(pe) ? pe->tables[ILHEAP__T_METHODDEF].rows : 0;
}

uint32_t ilheap_pe_typedef_count(const ilheap_pe_t *pe)
{
    return valid_handle(pe) ? pe->tables[ILHEAP__T_TYPEDEF].rows : 0;
}

/* The handle check of every row getter (`call` names the function for the
 * error), then `rid` against the rows of `table` (`what` names it). */
static ilheap_status_t check_rid(const ilheap_pe_t *pe, const char *call, unsigned table, uint32_t rid,
                                 const char *what, ilheap_pe_error_t *error)
{
    CHECK_HANDLE(pe, error, call);
    if (rid == 0 || rid > pe->tables[table].rows)
        return ilheap__pe_fail(error, ILHEAP_PE_BAD_ROW, pe->tables[table].offset, "%s row %u of %u", what, rid,
                               pe->tables[table].rows);
    return ILHEAP_OK;
}

ilheap_status_t ilheap_pe_method(const ilheap_pe_t *pe, uint32_t rid, ilheap_pe_method_t *out,
                                 ilheap_pe_error_t *error)
{
    ilheap_status_t st = check_rid(pe, "method", ILHEAP__T_METHODDEF, rid, "MethodDef", error);
    if (st != ILHEAP_OK)
        return st;
    out->token = METHODDEF_TOKEN | rid;
    out->rva = ilheap__cell(pe, ILHEAP__T_METHODDEF, rid, MD_RVA);
    out->impl_flags = (uint16_t)ilheap__cell(pe, ILHEAP__T_METHODDEF, rid, MD_IMPL_FLAGS);
    out->flags = (uint16_t)ilheap__cell(pe, ILHEAP__T_METHODDEF, rid, MD_FLAGS);
    out->name = ilheap__cell(pe, ILHEAP__T_METHODDEF, rid, MD_NAME);
    out->signature = ilheap__cell(pe, ILHEAP__T_METHODDEF, rid, MD_SIGNATURE);
    out->param_list = ilheap__cell(pe, ILHEAP__T_METHODDEF, rid, MD_PARAM_LIST);
    out->row_offset = ilheap__row_offset(pe, ILHEAP__T_METHODDEF, rid);
    return ILHEAP_OK;
}

ilheap_status_t ilheap_pe_typedef(const ilheap_pe_t *pe, uint32_t rid, ilheap_pe_typedef_t *out,
                                  ilheap_pe_error_t *error)
{
    ilheap_status_t st = check_rid(pe, "typedef", ILHEAP__T_TYPEDEF, rid, "TypeDef", error);
    if (st != ILHEAP_OK)
        return st;
    out->token = TYPEDEF_TOKEN | rid;
    out->flags = ilheap__cell(pe, ILHEAP__T_TYPEDEF, rid, TD_FLAGS);
    out->name = ilheap__cell(pe, ILHEAP__T_TYPEDEF, rid, TD_NAME);
    out->namespace_ = ilheap__cell(pe, ILHEAP__T_TYPEDEF, rid, TD_NAMESPACE);
    out->extends = ilheap__cell(pe, ILHEAP__T_TYPEDEF, rid, TD_EXTENDS);
    out->field_list = ilheap__cell(pe, ILHEAP__T_TYPEDEF, rid, TD_FIELD_LIST);
    out->method_list = ilheap__cell(pe, ILHEAP__T_TYPEDEF, rid, TD_METHOD_LIST);
    out->row_offset = ilheap__row_offset(pe, ILHEAP__T_TYPEDEF, rid);
    return ILHEAP_OK;
}

/* A #GUID index (1-based, 0 = none) into a 16-byte copy. */
ilheap_status_t ilheap__pe_guid(const ilheap_pe_t *md, uint32_t index, uint64_t field, uint8_t out[16],
                                ilheap_pe_error_t *error)
{
    memset(out, 0, 16);
    if (index == 0)
        return ILHEAP_OK;
    size_t at;
    if (!ilheap__mul_size(index - 1, 16, &at) || !md->guids.present || at > md->guids.size ||
        md->guids.size - at < 16)
        return ilheap__pe_fail(error, ILHEAP_PE_BAD_HEAP_INDEX, field, "#GUID index %u is past the heap", index);
    memcpy(out, md->data + md->guids.offset + at, 16);
    return ILHEAP_OK;
}

/* The #Blob entry at `index` (II.24.2.4: a compressed length, then the
 * bytes) as a cursor over its bytes; `field` is where the index was read. */
ilheap_status_t ilheap__pe_blob(const ilheap_pe_t *md, uint32_t index, uint64_t field, ilheap__cursor_t *out,
                                ilheap_pe_error_t *error)
{
    ilheap__cursor_t heap;
    ilheap__cursor_init(&heap, md->data, md->size, md->blobs.offset, md->blobs.present ? md->blobs.size : 0);
    uint32_t length;
    if (index >= ilheap__cursor_left(&heap) || !ilheap__cursor_skip(&heap, index) ||
        !ilheap__read_compressed(&heap, &length))
        return ilheap__pe_fail(error, ILHEAP_PE_BAD_HEAP_INDEX, field, "#Blob index %#x is past the heap (%#zx bytes)",
                               index, md->blobs.size);
    if (!ilheap__cursor_sub(&heap, 0, length, out))
        return ilheap__pe_fail(error, ILHEAP_PE_BAD_HEAP_INDEX, heap.pos, "blob of %u bytes runs past #Blob", length);
    return ILHEAP_OK;
}

/* Module (II.22.30): Generation, Name, Mvid (a #GUID index), EncId, EncBaseId. */
ilheap_status_t ilheap_pe_module_mvid(const ilheap_pe_t *pe, uint8_t mvid[16], ilheap_pe_error_t *error)
{
    ilheap_status_t st = check_rid(pe, "module_mvid", ILHEAP__T_MODULE, 1, "Module", error);
    if (st != ILHEAP_OK)
        return st;
    return ilheap__pe_guid(pe, ilheap__cell(pe, ILHEAP__T_MODULE, 1, 2), ilheap__row_offset(pe, ILHEAP__T_MODULE, 1),
                           mvid, error);
}

/* The NestedClass row of a type, or 0: a binary search when the table
 * stream marks NestedClass sorted (II.22.32 requires it: sorted by its
 * NestedClass column), else a walk. */
static uint32_t nested_class_row(const ilheap_pe_t *pe, uint32_t typedef_rid)
{
    uint32_t rows = pe->tables[ILHEAP__T_NESTEDCLASS].rows;
    if (!(pe->sorted >> ILHEAP__T_NESTEDCLASS & 1)) {
        for (uint32_t r = 1; r <= rows; r++)
            if (ilheap__cell(pe, ILHEAP__T_NESTEDCLASS, r, 0) == typedef_rid)
                return r;
        return 0;
    }
    uint32_t lo = ilheap__first_row_at_least(pe, ILHEAP__T_NESTEDCLASS, 0, typedef_rid);
    return lo <= rows && ilheap__cell(pe, ILHEAP__T_NESTEDCLASS, lo, 0) == typedef_rid ? lo : 0;
}

/* NestedClass (II.22.32) rows are (NestedClass, EnclosingClass), both TypeDef
 * rids. */
ilheap_status_t ilheap_pe_enclosing_type(const ilheap_pe_t *pe, uint32_t typedef_rid, uint32_t *enclosing_rid,
                                         ilheap_pe_error_t *error)
{
    ilheap_status_t st = check_rid(pe, "enclosing_type", ILHEAP__T_TYPEDEF, typedef_rid, "TypeDef", error);
    if (st != ILHEAP_OK)
        return st;
    *enclosing_rid = 0;
    uint32_t r = nested_class_row(pe, typedef_rid), types = pe->tables[ILHEAP__T_TYPEDEF].rows;
    if (r == 0)
        return ILHEAP_OK;
    uint32_t outer = ilheap__cell(pe, ILHEAP__T_NESTEDCLASS, r, 1);
    if (outer == 0 || outer > types || outer == typedef_rid)
        return ilheap__pe_fail(error, ILHEAP_PE_BAD_ROW, ilheap__row_offset(pe, ILHEAP__T_NESTEDCLASS, r),
                               "NestedClass row %u: enclosing TypeDef %u of %u is not a valid other type", r, outer,
                               typedef_rid);
    *enclosing_rid = outer;
    return ILHEAP_OK;
}

ilheap_status_t ilheap_pe_rva_to_offset(const ilheap_pe_t *pe, uint32_t rva, uint64_t *file_offset,
                                        ilheap_pe_error_t *error)
{
    CHECK_HANDLE(pe, error, "rva_to_offset");
    size_t offset, available;
    ilheap_status_t st = ilheap__pe_map_rva(pe, rva, ILHEAP_PE_NO_OFFSET, &offset, &available, error);
    if (st == ILHEAP_OK)
        *file_offset = offset;
    return st;
}

static ilheap_status_t map_pointer(const ilheap_pe_t *pe, uint32_t rva, uint64_t field_offset, const uint8_t **ptr,
                                   size_t *available, ilheap_pe_error_t *error)
{
    size_t offset;
    ilheap_status_t st = ilheap__pe_map_rva(pe, rva, field_offset, &offset, available, error);
    if (st == ILHEAP_OK)
        *ptr = pe->data + offset;
    return st;
}

ilheap_status_t ilheap_pe_rva_to_pointer(const ilheap_pe_t *pe, uint32_t rva, const uint8_t **ptr, size_t *available,
                                         ilheap_pe_error_t *error)
{
    CHECK_HANDLE(pe, error, "rva_to_pointer");
    return map_pointer(pe, rva, ILHEAP_PE_NO_OFFSET, ptr, available, error);
}

ilheap_status_t ilheap_pe_method_body(const ilheap_pe_t *pe, const ilheap_pe_method_t *m, const uint8_t **body,
                                      size_t *available, ilheap_pe_error_t *error)
{
    CHECK_HANDLE(pe, error, "method_body");
    if (m->rva == 0)
        return ilheap__pe_fail(error, ILHEAP_PE_RVA_OUTSIDE_SECTIONS, m->row_offset,
                               "method %#x has RVA 0 (no body)", m->token);
    return map_pointer(pe, m->rva, m->row_offset, body, available, error);
}

bool ilheap_pe_method_has_il(const ilheap_pe_method_t *m)
{
    return m->rva != 0 && (m->impl_flags & 3) == 0;
}

/* The body cursor's private state (ilheap_pe_body_cursor_t.private_): the
 * next MethodDef row, the row count and size, where RVA, ImplFlags and Flags
 * sit in a row, and the last body's section (its RVA range with file bytes
 * and its first byte in the caller's buffer). */
#define WALK_ROW p[0]
#define WALK_SECTION_DATA p[1]
#define WALK_ROWS u[0]
#define WALK_ROW_SIZE u[1]
#define WALK_SECTION_VA u[2]
#define WALK_SECTION_RAW_SIZE u[3]
#define WALK_COLUMNS u[4] /* RVA, ImplFlags and Flags offsets, a byte each */

ilheap_status_t ilheap_pe_bodies_begin(const ilheap_pe_t *pe, ilheap_pe_body_cursor_t *cursor,
                                       ilheap_pe_error_t *error)
{
    memset(cursor, 0, sizeof *cursor);
    CHECK_HANDLE(pe, error, "bodies_begin");
    /* Open proved every row of the table lies inside the buffer, so the walk
     * reads rows without per-row checks; only rid against rows. */
    const ilheap__table_t *t = &pe->tables[ILHEAP__T_METHODDEF];
    cursor->pe = pe;
    cursor->private_.WALK_ROWS = t->rows;
    cursor->private_.WALK_ROW_SIZE = t->row_size;
    cursor->private_.WALK_ROW = pe->data + t->offset;
    cursor->private_.WALK_COLUMNS = (uint32_t)t->column_offset[MD_RVA] | (uint32_t)t->column_offset[MD_IMPL_FLAGS] << 8 |
                                    (uint32_t)t->column_offset[MD_FLAGS] << 16;
    /* No section cached yet: the empty range sends the first body to the slow path. */
    return ILHEAP_OK;
}

/* A body outside the cached section: maps its RVA (reporting one with no file
 * bytes) and caches the section that holds it. Out of line, so that
 * ilheap_pe_next_body stays a leaf without a stack frame. */
#if defined(__GNUC__)
__attribute__((noinline))
#endif
static int next_body_slow(ilheap_pe_body_cursor_t *cursor, ilheap_pe_il_body_t *out, ilheap_pe_error_t *error)
{
    const ilheap_pe_t *pe = cursor->pe;
    if (!valid_handle(pe)) {
        ilheap__pe_fail(error, ILHEAP_PE_BAD_HANDLE, ILHEAP_PE_NO_OFFSET, "next_body");
        return -1;
    }
    const ilheap__table_t *t = &pe->tables[ILHEAP__T_METHODDEF];
    uint64_t field_offset = ilheap__row_offset(pe, ILHEAP__T_METHODDEF, cursor->rid) + t->column_offset[MD_RVA];
    size_t offset, available;
    if (ilheap__pe_map_rva(pe, out->rva, field_offset, &offset, &available, error) != ILHEAP_OK) {
        out->data = NULL;
        out->available = 0;
        return -1;
    }
    /* Bodies sit together (in .text): the next ones will likely hit. */
    for (unsigned i = 0; i < pe->section_count; i++) {
        const ilheap__section_t *s = &pe->sections[i];
        if (out->rva >= s->virtual_address && out->rva - s->virtual_address < s->raw_size) {
            cursor->private_.WALK_SECTION_VA = s->virtual_address;
            cursor->private_.WALK_SECTION_RAW_SIZE = s->raw_size; /* at most the mapped size; in the file */
            cursor->private_.WALK_SECTION_DATA = pe->data + s->raw_pointer;
        }
    }
    out->data = pe->data + offset;
    out->available = available;
    return 1;
}

int ilheap_pe_next_body(ilheap_pe_body_cursor_t *cursor, ilheap_pe_il_body_t *out, ilheap_pe_error_t *error)
{
    uint32_t columns = cursor->private_.WALK_COLUMNS, rid = cursor->rid, rows = cursor->private_.WALK_ROWS;
    uint32_t row_size = cursor->private_.WALK_ROW_SIZE;
    unsigned rva_at = columns & 0xFF, impl_at = columns >> 8 & 0xFF;
    const uint8_t *row = cursor->private_.WALK_ROW;
    for (; rid < rows; row += row_size) {
        rid++;
        /* II.22.26: RVA is a 4-byte constant, ImplFlags and Flags 2-byte ones. */
        uint32_t rva = ilheap__le32(row + rva_at);
        uint16_t impl = ilheap__le16(row + impl_at);
        if (rva == 0 || (impl & 3) != 0)
            continue;
        cursor->rid = rid;
        cursor->private_.WALK_ROW = row + row_size;
        out->token = METHODDEF_TOKEN | rid;
        out->rva = rva;
        out->impl_flags = impl;
        out->flags = ilheap__le16(row + (columns >> 16 & 0xFF));
        uint32_t delta = rva - cursor->private_.WALK_SECTION_VA;
        if (rva < cursor->private_.WALK_SECTION_VA || delta >= cursor->private_.WALK_SECTION_RAW_SIZE)
            return next_body_slow(cursor, out, error);
        out->data = (const uint8_t *)cursor->private_.WALK_SECTION_DATA + delta;
        out->available = cursor->private_.WALK_SECTION_RAW_SIZE - delta;
        return 1;
    }
    cursor->rid = rid;
    cursor->private_.WALK_ROW = row;
    return 0;
}

void ilheap_pe_guid_text(const uint8_t guid[16], char out[37])
{
    ilheap__guid_text(guid, out);
}

void ilheap_pe_utf16_to_utf8(const uint16_t *in, size_t n, char *out, size_t out_size)
{
    size_t o = 0;
    if (out_size == 0)
        return;
    for (size_t i = 0; i < n && in[i] != 0; i++) {
        uint32_t cp = in[i];
        if (cp >= 0xD800 && cp <= 0xDBFF && i + 1 < n && in[i + 1] >= 0xDC00 && in[i + 1] <= 0xDFFF) {
            cp = 0x10000 + ((cp - 0xD800) << 10) + (uint32_t)(in[i + 1] - 0xDC00);
            i++;
        } else if (cp >= 0xD800 && cp <= 0xDFFF) {
            cp = 0xFFFD;
        }
        char unit[4];
        size_t len = ilheap__utf8_put(unit, cp);
        if (o + len >= out_size)
            break;
        memcpy(out + o, unit, len);
        o += len;
    }
    out[o] = '\0';
}

ilheap_status_t ilheap_pe_string(const ilheap_pe_t *pe, uint32_t index, const char **out, size_t *length,
                                 ilheap_pe_error_t *error)
{
    CHECK_HANDLE(pe, error, "string");
    if (index == 0 && (!pe->strings.present || pe->strings.size == 0)) {
        *out = "";
        if (length != NULL)
            *length = 0;
        return ILHEAP_OK;
    }
    /* II.24.2.3: the index is a byte offset into #Strings; the string runs to
     * a NUL that must lie inside the heap. */
    if (index >= pe->strings.size)
        return ilheap__pe_fail(error, ILHEAP_PE_BAD_HEAP_INDEX, pe->strings.offset,
                               "#Strings index %#x, heap of %#zx bytes", index, pe->strings.size);
    const char *s = (const char *)pe->data + pe->strings.offset + index;
    const char *nul = memchr(s, 0, pe->strings.size - index);
    if (nul == NULL)
        return ilheap__pe_fail(error, ILHEAP_PE_BAD_HEAP_INDEX, pe->strings.offset + index,
                               "#Strings entry %#x is not NUL-terminated inside the heap", index);
    *out = s;
    if (length != NULL)
        *length = (size_t)(nul - s);
    return ILHEAP_OK;
}

ilheap_status_t ilheap_pe_method_name(const ilheap_pe_t *pe, uint32_t rid, const char **out, ilheap_pe_error_t *error)
{
    ilheap_status_t st = check_rid(pe, "method_name", ILHEAP__T_METHODDEF, rid, "MethodDef", error);
    if (st != ILHEAP_OK)
        return st;
    return ilheap_pe_string(pe, ilheap__cell(pe, ILHEAP__T_METHODDEF, rid, MD_NAME), out, NULL, error);
}

/* The position of a method in the method list that TypeDef.MethodList
 * indexes: its own rid, or (II.22.28, uncompressed "#-" metadata) the
 * MethodPtr row that points at it. The end of the list is returned too. */
static ilheap_status_t method_list_position(const ilheap_pe_t *pe, uint32_t rid, uint32_t *position,
                                            uint32_t *list_end, ilheap_pe_error_t *error)
{
    uint32_t pointers = pe->tables[ILHEAP__T_METHODPTR].rows;
    if (pointers == 0) {
        *position = rid;
        *list_end = pe->tables[ILHEAP__T_METHODDEF].rows + 1;
        return ILHEAP_OK;
    }
    *list_end = pointers + 1;
    *position = pe->method_positions[rid];
    if (*position != 0)
        return ILHEAP_OK;
    return ilheap__pe_fail(error, ILHEAP_PE_NO_OWNER, pe->tables[ILHEAP__T_METHODPTR].offset,
                           "no MethodPtr row points at MethodDef %u", rid);
}

ilheap_status_t ilheap_pe_method_owner(const ilheap_pe_t *pe, uint32_t method_rid, uint32_t *typedef_rid,
                                       ilheap_pe_error_t *error)
{
    ilheap_status_t st = check_rid(pe, "method_owner", ILHEAP__T_METHODDEF, method_rid, "MethodDef", error);
    if (st != ILHEAP_OK)
        return st;
    uint32_t position = 0, list_end = 0;
    st = method_list_position(pe, method_rid, &position, &list_end, error);
    if (st != ILHEAP_OK)
        return st;

    /* The last type whose MethodList is <= position (types without methods
     * share their successor's start, so "last" picks the real owner). */
    uint32_t types = pe->tables[ILHEAP__T_TYPEDEF].rows;
    uint32_t found = ilheap__last_row_at_most(pe, ILHEAP__T_TYPEDEF, TD_METHOD_LIST, position);
    /* Binary search assumes MethodList ascends, as II.22.37 requires; check
     * the answer against both neighbours so that an unsorted file gives an
     * error rather than a wrong owner where the disorder is local. */
    uint32_t next = found != 0 && found < types ? ilheap__cell(pe, ILHEAP__T_TYPEDEF, found + 1, TD_METHOD_LIST)
                                                : list_end;
    bool sorted_here = found <= 1 || ilheap__cell(pe, ILHEAP__T_TYPEDEF, found - 1, TD_METHOD_LIST) <=
                                         ilheap__cell(pe, ILHEAP__T_TYPEDEF, found, TD_METHOD_LIST);
    if (found == 0 || position >= next || !sorted_here)
        return ilheap__pe_fail(error, ILHEAP_PE_NO_OWNER,
                               found != 0 ? ilheap__row_offset(pe, ILHEAP__T_TYPEDEF, found)
                                          : pe->tables[ILHEAP__T_TYPEDEF].offset,
                               "MethodDef %u", method_rid);
    *typedef_rid = found;
    return ILHEAP_OK;
}

/* Does #Strings[index] equal name[0..length)? False for a bad index. */
static bool string_equals(const ilheap_pe_t *pe, uint32_t index, const char *name, size_t length)
{
    const char *s;
    size_t n;
    return ilheap_pe_string(pe, index, &s, &n, NULL) == ILHEAP_OK && n == length && memcmp(s, name, n) == 0;
}

ilheap_status_t ilheap_pe_find_method(const ilheap_pe_t *pe, const char *qualified_name, uint32_t *token,
                                      ilheap_pe_error_t *error)
{
    CHECK_HANDLE(pe, error, "find_method");
    const char *colons = qualified_name != NULL ? strstr(qualified_name, "::") : NULL;
    if (colons == NULL || token == NULL)
        return ilheap__pe_fail(error, ILHEAP_EINVAL, ILHEAP_PE_NO_OFFSET,
                               "expected \"Namespace.Type::Method\", got \"%s\"",
                               qualified_name != NULL ? qualified_name : "(null)");
    const char *method = colons + 2;
    const char *type = qualified_name;
    size_t namespace_length = 0;
    for (const char *p = qualified_name; p < colons; p++)
        if (*p == '.') {
            namespace_length = (size_t)(p - qualified_name);
            type = p + 1;
        }
    size_t type_length = (size_t)(colons - type);

    uint32_t types = pe->tables[ILHEAP__T_TYPEDEF].rows;
    uint32_t list_end = pe->tables[ILHEAP__T_METHODPTR].rows != 0 ? pe->tables[ILHEAP__T_METHODPTR].rows + 1
                                                                  : pe->tables[ILHEAP__T_METHODDEF].rows + 1;
    for (uint32_t t = 1; t <= types; t++) {
        if (!string_equals(pe, ilheap__cell(pe, ILHEAP__T_TYPEDEF, t, TD_NAME), type, type_length) ||
            !string_equals(pe, ilheap__cell(pe, ILHEAP__T_TYPEDEF, t, TD_NAMESPACE), qualified_name, namespace_length))
            continue;
        uint32_t first = ilheap__cell(pe, ILHEAP__T_TYPEDEF, t, TD_METHOD_LIST);
        uint32_t end = t < types ? ilheap__cell(pe, ILHEAP__T_TYPEDEF, t + 1, TD_METHOD_LIST) : list_end;
        if (end > list_end)
            end = list_end; /* a malformed list cannot walk past the table */
        for (uint32_t position = first; position != 0 && position < end; position++) {
            uint32_t rid = pe->tables[ILHEAP__T_METHODPTR].rows != 0
                               ? ilheap__cell(pe, ILHEAP__T_METHODPTR, position, 0)
                               : position;
            if (rid == 0 || rid > pe->tables[ILHEAP__T_METHODDEF].rows)
                continue;
            if (string_equals(pe, ilheap__cell(pe, ILHEAP__T_METHODDEF, rid, MD_NAME), method, strlen(method))) {
                *token = METHODDEF_TOKEN | rid;
                return ILHEAP_OK;
            }
        }
    }
    return ilheap__pe_fail(error, ILHEAP_ENOTFOUND, ILHEAP_PE_NO_OFFSET, "no method %s", qualified_name);
}
