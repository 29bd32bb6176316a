/* The PE layer: DOS header, PE signature, COFF header, optional header (PE32
 * and PE32+), data directories, section table; RVA -> file offset mapping and
 * the loader-style layout. (Microsoft PE/COFF specification; ECMA-335 II.25.)
 */
#include "pe/image.h"
#include "status_internal.h"

#include <stdio.h>
#include <string.h>

#define DOS_MAGIC 0x5A4Du        /* "MZ" */
#define PE_SIGNATURE 0x00004550u /* "PE\0\0" */
#define PE32_MAGIC 0x10Bu
#define PE32_PLUS_MAGIC 0x20Bu
#define DEBUG_DIRECTORY 6        /* PE/COFF "Optional Header Data Directories" */
#define CLI_DIRECTORY 14         /* ECMA-335 II.25.2.3.3: CLI Header */
#define COFF_HEADER_SIZE 20
#define SECTION_HEADER_SIZE 40

ilheap_status_t ilheap__pe_fail(ilheap_pe_error_t *error, ilheap_status_t status, uint64_t file_offset,
                                const char *format, ...)
{
    char where[48] = "";
    if (file_offset != ILHEAP_PE_NO_OFFSET)
        snprintf(where, sizeof where, " at file offset %#llx", (unsigned long long)file_offset);
    va_list args;
    va_start(args, format);
    ilheap__vfail_into(error != NULL ? error->message : NULL, sizeof error->message, status, true, where, format,
                       args);
    va_end(args);
    if (error != NULL) {
        error->status = status;
        error->file_offset = file_offset;
    }
    return status;
}

/* Reads the optional header fields the reader needs. Field offsets are those
 * of the PE/COFF spec; PE32+ drops BaseOfData and widens ImageBase and the
 * four stack/heap sizes, so the directories start 16 bytes later. */
static ilheap_status_t read_optional_header(ilheap_pe_t *pe, ilheap__cursor_t opt, ilheap_pe_error_t *error)
{
    size_t start = opt.pos;
    uint16_t magic;
    if (!ilheap__read_u16(&opt, &magic))
        return ilheap__pe_fail(error, ILHEAP_PE_BAD_OPTIONAL_HEADER, start, "optional header too small for its magic");
    if (magic != PE32_MAGIC && magic != PE32_PLUS_MAGIC)
        return ilheap__pe_fail(error, ILHEAP_PE_BAD_OPTIONAL_HEADER, start,
                               "magic %#x is neither PE32 (0x10b) nor PE32+ (0x20b)", magic);
    pe->pe32_plus = magic == PE32_PLUS_MAGIC;
    size_t directories_at = pe->pe32_plus ? 112 : 96;
    if (!ilheap__cursor_has(&opt, directories_at - 2))
        return ilheap__pe_fail(error, ILHEAP_PE_BAD_OPTIONAL_HEADER, start,
                               "SizeOfOptionalHeader %zu is smaller than the %zu bytes of a %s header",
                               opt.end - start, directories_at, pe->pe32_plus ? "PE32+" : "PE32");
    const uint8_t *h = pe->data + start;
    pe->image_base = pe->pe32_plus ? ilheap__le64(h + 24) : ilheap__le32(h + 28);
    pe->section_alignment = ilheap__le32(h + 32);
    pe->file_alignment = ilheap__le32(h + 36);
    pe->size_of_image = ilheap__le32(h + 56);
    pe->size_of_headers = ilheap__le32(h + 60);
    uint32_t directory_count = ilheap__le32(h + directories_at - 4);

    /* The CLI header is directory 14; it must be both counted and present
     * inside the optional header (II.25.2.3.3). */
    /* The debug directory (6) is optional: recorded when counted and present. */
    size_t debug_entry = directories_at + (size_t)DEBUG_DIRECTORY * 8;
    if (directory_count > DEBUG_DIRECTORY && debug_entry + 8 <= opt.end - start) {
        pe->debug_rva = ilheap__le32(h + debug_entry);
        pe->debug_size = ilheap__le32(h + debug_entry + 4);
        pe->debug_directory_offset = start + debug_entry;
    }
    size_t entry = directories_at + (size_t)CLI_DIRECTORY * 8;
    pe->cli_directory_offset = start + entry;
    if (directory_count <= CLI_DIRECTORY || entry + 8 > opt.end - start)
        return ilheap__pe_fail(error, ILHEAP_PE_NOT_CLI, start + directories_at - 4,
                               "%u data directories, none for the CLI header (directory 14)", directory_count);
    pe->cli_rva = ilheap__le32(h + entry);
    pe->cli_size = ilheap__le32(h + entry + 4);
    if (pe->cli_rva == 0 || pe->cli_size == 0)
        return ilheap__pe_fail(error, ILHEAP_PE_NOT_CLI, start + entry, "the CLI header directory is empty");
    return ILHEAP_OK;
}

/* One section table entry. VirtualSize 0 means SizeOfRawData (as the loader
 * reads it); the file supplies min(SizeOfRawData, VirtualSize) bytes, the
 * rest of the section is zero-filled. */
static ilheap_status_t read_section(ilheap_pe_t *pe, ilheap__cursor_t *c, ilheap__section_t *s,
                                    const ilheap__section_t *previous, ilheap_pe_error_t *error)
{
    size_t at = c->pos;
    const uint8_t *h = ilheap__cursor_ptr(c);
    if (!ilheap__cursor_skip(c, SECTION_HEADER_SIZE))
        return ilheap__pe_fail(error, ILHEAP_PE_TRUNCATED, at, "section table cut short");
    memcpy(s->name, h, 8);
    s->name[8] = '\0';
    for (int i = 0; i < 8; i++)
        if (s->name[i] != '\0' && (s->name[i] < 0x20 || s->name[i] > 0x7e))
            s->name[i] = '?'; /* printable in messages */
    uint32_t virtual_size = ilheap__le32(h + 8);
    s->virtual_address = ilheap__le32(h + 12);
    uint32_t raw_size = ilheap__le32(h + 16);
    s->raw_pointer = ilheap__le32(h + 20);
    s->header_offset = at;
    s->virtual_size = virtual_size != 0 ? virtual_size : raw_size;
    s->raw_size = raw_size < s->virtual_size ? raw_size : s->virtual_size;

    uint32_t end;
    if (!ilheap__add_u32(s->virtual_address, s->virtual_size, &end) || end > pe->size_of_image)
        return ilheap__pe_fail(error, ILHEAP_PE_BAD_SECTION_TABLE, at,
                               "section '%s' [%#x, +%#x) runs past SizeOfImage %#x", s->name,
                               s->virtual_address, s->virtual_size, pe->size_of_image);
    /* Sections are sorted by address and do not overlap (PE/COFF "Section
     * Table"), which keeps the layout copy from writing one over another. */
    if (previous != NULL && s->virtual_address < previous->virtual_address + previous->virtual_size)
        return ilheap__pe_fail(error, ILHEAP_PE_BAD_SECTION_TABLE, at,
                               "section '%s' at %#x overlaps or precedes section '%s'", s->name,
                               s->virtual_address, previous->name);
    if (!pe->headers_only && s->raw_size != 0 && (s->raw_pointer > pe->size || s->raw_size > pe->size - s->raw_pointer))
        return ilheap__pe_fail(error, ILHEAP_PE_TRUNCATED, at + 16,
                               "section '%s' raw data [%#x, +%#x) runs past the end of the file (%zu bytes)",
                               s->name, s->raw_pointer, s->raw_size, pe->size);
    return ILHEAP_OK;
}

ilheap_status_t ilheap__pe_read_headers(ilheap_pe_t *pe, ilheap_pe_error_t *error)
{
    ilheap__cursor_t c;
    uint16_t dos_magic;
    uint32_t lfanew, signature;

    ilheap__cursor_init(&c, pe->data, pe->size, 0, pe->size);
    if (!ilheap__read_u16(&c, &dos_magic) || !ilheap__cursor_skip(&c, 0x3C - 2) || !ilheap__read_u32(&c, &lfanew))
        return ilheap__pe_fail(error, ILHEAP_PE_TRUNCATED, 0, "file of %zu bytes is shorter than a DOS header",
                               pe->size);
    if (dos_magic != DOS_MAGIC)
        return ilheap__pe_fail(error, ILHEAP_PE_BAD_DOS_HEADER, 0, "DOS magic is %#x, not 'MZ'", dos_magic);

    ilheap__cursor_t nt;
    if (lfanew >= pe->size || !ilheap__cursor_init(&nt, pe->data, pe->size, lfanew, pe->size - lfanew))
        return ilheap__pe_fail(error, ILHEAP_PE_BAD_DOS_HEADER, 0x3C, "e_lfanew %#x points past the end of the file",
                               lfanew);
    if (!ilheap__read_u32(&nt, &signature))
        return ilheap__pe_fail(error, ILHEAP_PE_TRUNCATED, lfanew, "file ends inside the PE signature");
    if (signature != PE_SIGNATURE)
        return ilheap__pe_fail(error, ILHEAP_PE_BAD_PE_SIGNATURE, lfanew, "signature %#x", signature);

    size_t coff = nt.pos;
    if (!ilheap__cursor_has(&nt, COFF_HEADER_SIZE))
        return ilheap__pe_fail(error, ILHEAP_PE_TRUNCATED, coff, "file ends inside the COFF header");
    pe->machine = ilheap__le16(pe->data + coff);
    pe->section_count = ilheap__le16(pe->data + coff + 2);
    uint16_t optional_size = ilheap__le16(pe->data + coff + 16);
    ilheap__cursor_skip(&nt, COFF_HEADER_SIZE);

    ilheap__cursor_t opt;
    if (!ilheap__cursor_sub(&nt, 0, optional_size, &opt))
        return ilheap__pe_fail(error, ILHEAP_PE_TRUNCATED, nt.pos,
                               "file ends inside the optional header (SizeOfOptionalHeader %u)", optional_size);
    ilheap_status_t st = read_optional_header(pe, opt, error);
    if (st != ILHEAP_OK)
        return st;
    ilheap__cursor_skip(&nt, optional_size);

    if (pe->section_count == 0 || pe->section_count > ILHEAP__PE_MAX_SECTIONS)
        return ilheap__pe_fail(error, ILHEAP_PE_BAD_SECTION_TABLE, coff + 2,
                               "%u sections (1 to %d allowed)", pe->section_count, ILHEAP__PE_MAX_SECTIONS);
    for (unsigned i = 0; i < pe->section_count; i++) {
        st = read_section(pe, &nt, &pe->sections[i], i > 0 ? &pe->sections[i - 1] : NULL, error);
        if (st != ILHEAP_OK)
            return st;
    }
    return ILHEAP_OK;
}

ilheap_status_t ilheap__pe_map_rva(const ilheap_pe_t *pe, uint32_t rva, uint64_t field_offset,
                                   size_t *file_offset, size_t *available, ilheap_pe_error_t *error)
{
    for (unsigned i = 0; i < pe->section_count; i++) {
        const ilheap__section_t *s = &pe->sections[i];
        if (rva < s->virtual_address || rva - s->virtual_address >= s->virtual_size)
            continue;
        uint32_t delta = rva - s->virtual_address;
        if (delta >= s->raw_size)
            return ilheap__pe_fail(error, ILHEAP_PE_RVA_NO_FILE_DATA, field_offset,
                                   "RVA %#x is in section '%s' past its %#x bytes of file data", rva, s->name,
                                   s->raw_size);
        /* In the file: checked at open (raw_pointer + raw_size <= size). */
        *file_offset = (size_t)s->raw_pointer + delta;
        *available = s->raw_size - delta;
        return ILHEAP_OK;
    }
    return ilheap__pe_fail(error, ILHEAP_PE_RVA_OUTSIDE_SECTIONS, field_offset, "RVA %#x is in no section", rva);
}

ilheap_status_t ilheap_pe_layout(const ilheap_pe_t *pe, void *region, size_t region_size, ilheap_pe_error_t *error)
{
    if (pe == NULL || pe->magic != ILHEAP__PE_HANDLE_MAGIC)
        return ilheap__pe_fail(error, ILHEAP_PE_BAD_HANDLE, ILHEAP_PE_NO_OFFSET, "layout");
    if (region == NULL)
        return ilheap__pe_fail(error, ILHEAP_EINVAL, ILHEAP_PE_NO_OFFSET, "layout into a NULL region");
    if (region_size < pe->size_of_image)
        return ilheap__pe_fail(error, ILHEAP_PE_REGION_TOO_SMALL, ILHEAP_PE_NO_OFFSET,
                               "region of %zu bytes, SizeOfImage %#x", region_size, pe->size_of_image);
    uint8_t *base = region;
    memset(base, 0, pe->size_of_image);
    size_t headers = pe->size_of_headers;
    if (headers > pe->size)
        headers = pe->size;
    if (headers > pe->size_of_image)
        headers = pe->size_of_image;
    memcpy(base, pe->data, headers);
    /* Open checked every section: inside SizeOfImage, raw data inside the file,
     * sorted without overlap. Sections are copied after the headers, as the
     * loader maps them over any header bytes that SizeOfHeaders overstates. */
    for (unsigned i = 0; i < pe->section_count; i++) {
        const ilheap__section_t *s = &pe->sections[i];
        if (s->raw_size != 0)
            memcpy(base + s->virtual_address, pe->data + s->raw_pointer, s->raw_size);
    }
    return ILHEAP_OK;
}
