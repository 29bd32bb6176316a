/* The metadata layer: CLI header (ECMA-335 II.25.3.3), metadata root
 * (II.24.2.1) and stream headers (II.24.2.2). Finds the heaps and the table
 * stream; tables.c reads the latter.
 */
#include "pe/image.h"

#include <string.h>

#define CLI_HEADER_SIZE 72          /* II.25.3.3 */
#define METADATA_SIGNATURE 0x424A5342u /* "BSJB" */
#define MAX_STREAM_NAME 32          /* II.24.2.2: at most 32 characters with the NUL */

static ilheap_status_t read_cli_header(ilheap_pe_t *pe, ilheap_pe_error_t *error)
{
    size_t at, available;
    ilheap_status_t st = ilheap__pe_map_rva(pe, pe->cli_rva, pe->cli_directory_offset, &at, &available, error);
    if (st != ILHEAP_OK)
        return st;
    if (available < CLI_HEADER_SIZE || pe->cli_size < CLI_HEADER_SIZE)
        return ilheap__pe_fail(error, ILHEAP_PE_BAD_CLI_HEADER, at,
                               "CLI header needs %d bytes; directory says %u, section has %zu", CLI_HEADER_SIZE,
                               pe->cli_size, available);
    const uint8_t *h = pe->data + at;
    uint32_t cb = ilheap__le32(h);
    if (cb < CLI_HEADER_SIZE)
        return ilheap__pe_fail(error, ILHEAP_PE_BAD_CLI_HEADER, at, "cb is %u, less than %d", cb, CLI_HEADER_SIZE);
    pe->metadata_rva = ilheap__le32(h + 8);
    pe->metadata_size = ilheap__le32(h + 12);
    pe->cli_flags = ilheap__le32(h + 16);
    pe->entry_point_token = ilheap__le32(h + 20);

    st = ilheap__pe_map_rva(pe, pe->metadata_rva, at + 8, &pe->metadata_offset, &available, error);
    if (st != ILHEAP_OK)
        return st;
    if (pe->metadata_size > available)
        return ilheap__pe_fail(error, ILHEAP_PE_TRUNCATED, at + 12,
                               "metadata of %#x bytes at RVA %#x, but its section has only %#zx bytes from there",
                               pe->metadata_size, pe->metadata_rva, available);
    return ILHEAP_OK;
}

/* II.24.2.2: which heap a stream name names. #JTD marks a minimal delta (as
 * System.Reflection.Metadata and CoreCLR read it): every index is 4 bytes. */
static ilheap_status_t record_stream(ilheap_pe_t *pe, const char *name, size_t offset, size_t size,
                                     size_t header_offset, ilheap_pe_error_t *error)
{
    ilheap__heap_t *heap = NULL;
    if (strcmp(name, "#~") == 0 || strcmp(name, "#-") == 0) {
        heap = &pe->table_stream;
        pe->uncompressed = name[1] == '-';
    } else if (strcmp(name, "#Strings") == 0) {
        heap = &pe->strings;
    } else if (strcmp(name, "#US") == 0) {
        heap = &pe->user_strings;
    } else if (strcmp(name, "#GUID") == 0) {
        heap = &pe->guids;
    } else if (strcmp(name, "#Blob") == 0) {
        heap = &pe->blobs;
    } else if (strcmp(name, "#Pdb") == 0) {
        heap = &pe->pdb_stream; /* portable PDB: pdb.c reads it */
    } else if (strcmp(name, "#JTD") == 0) {
        pe->minimal_delta = true;
        return ILHEAP_OK;
    } else {
        return ILHEAP_OK; /* other (vendor) streams do not matter here */
    }
    if (heap->present)
        return ilheap__pe_fail(error, ILHEAP_PE_BAD_STREAM_HEADER, header_offset,
                               "a second %s stream (or both #~ and #-)", name);
    heap->present = true;
    heap->offset = offset;
    heap->size = size;
    return ILHEAP_OK;
}

ilheap_status_t ilheap__pe_read_metadata(ilheap_pe_t *pe, ilheap_pe_error_t *error)
{
    ilheap_status_t st = read_cli_header(pe, error);
    if (st != ILHEAP_OK)
        return st;
    return ilheap__pe_read_metadata_root(pe, error);
}

ilheap_status_t ilheap__pe_read_metadata_root(ilheap_pe_t *pe, ilheap_pe_error_t *error)
{
    ilheap__cursor_t c;
    ilheap__cursor_init(&c, pe->data, pe->size, pe->metadata_offset, pe->metadata_size);
    size_t root = c.pos;
    uint32_t signature, version_length;
    if (!ilheap__read_u32(&c, &signature))
        return ilheap__pe_fail(error, ILHEAP_PE_BAD_METADATA_ROOT, root, "metadata of %u bytes has no root",
                               pe->metadata_size);
    if (signature != METADATA_SIGNATURE)
        return ilheap__pe_fail(error, ILHEAP_PE_BAD_METADATA_ROOT, root, "signature %#x, not 'BSJB'", signature);
    /* MajorVersion, MinorVersion, Reserved, then Length of the version string
     * (the spec rounds it to 4; readers skip exactly Length bytes). */
    if (!ilheap__cursor_skip(&c, 8) || !ilheap__read_u32(&c, &version_length))
        return ilheap__pe_fail(error, ILHEAP_PE_BAD_METADATA_ROOT, root, "metadata root cut short");
    size_t version_at = c.pos;
    if (!ilheap__cursor_skip(&c, version_length))
        return ilheap__pe_fail(error, ILHEAP_PE_BAD_METADATA_ROOT, version_at - 4,
                               "version string of %u bytes runs past the metadata", version_length);
    size_t copy = version_length < sizeof pe->metadata_version - 1 ? version_length : sizeof pe->metadata_version - 1;
    memcpy(pe->metadata_version, pe->data + version_at, copy);
    pe->metadata_version[copy] = '\0'; /* stops at the string's own NUL too */

    uint16_t flags, stream_count;
    if (!ilheap__read_u16(&c, &flags) || !ilheap__read_u16(&c, &stream_count))
        return ilheap__pe_fail(error, ILHEAP_PE_BAD_METADATA_ROOT, c.pos, "metadata root ends before its stream count");
    (void)flags;

    for (unsigned i = 0; i < stream_count; i++) {
        size_t header = c.pos;
        uint32_t offset, size;
        if (!ilheap__read_u32(&c, &offset) || !ilheap__read_u32(&c, &size))
            return ilheap__pe_fail(error, ILHEAP_PE_BAD_STREAM_HEADER, header,
                                   "stream header %u of %u runs past the metadata", i + 1, stream_count);
        /* The name: NUL-terminated ASCII, at most 32 bytes, padded to 4. */
        size_t limit = ilheap__cursor_left(&c) < MAX_STREAM_NAME ? ilheap__cursor_left(&c) : MAX_STREAM_NAME;
        const uint8_t *name = ilheap__cursor_ptr(&c);
        const uint8_t *nul = memchr(name, 0, limit);
        if (nul == NULL)
            return ilheap__pe_fail(error, ILHEAP_PE_BAD_STREAM_HEADER, c.pos,
                                   "stream name %u is not terminated within %zu bytes", i + 1, limit);
        size_t name_bytes = ((size_t)(nul - name) + 1 + 3) & ~(size_t)3;
        if (!ilheap__cursor_skip(&c, name_bytes))
            return ilheap__pe_fail(error, ILHEAP_PE_BAD_STREAM_HEADER, c.pos,
                                   "stream name padding runs past the metadata");
        /* Offsets are from the metadata root; the stream must lie inside the
         * metadata (II.24.2.2), compared by subtraction. */
        if (offset > pe->metadata_size || size > pe->metadata_size - offset)
            return ilheap__pe_fail(error, ILHEAP_PE_BAD_STREAM_HEADER, header,
                                   "stream '%s' [%#x, +%#x) runs past the metadata (%#x bytes)", (const char *)name,
                                   offset, size, pe->metadata_size);
        ilheap_status_t st2 = record_stream(pe, (const char *)name, root + offset, size, header, error);
        if (st2 != ILHEAP_OK)
            return st2;
    }
    if (!pe->table_stream.present)
        return ilheap__pe_fail(error, ILHEAP_PE_NO_TABLE_STREAM, root, "%u streams, none of them #~ or #-",
                               stream_count);
    return ILHEAP_OK;
}
