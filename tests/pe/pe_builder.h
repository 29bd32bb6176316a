/* A generator of minimal .NET PE images for the reader's tests: PE32 or PE32+,
 * "#~" or "#-" tables, the extra-data flag, 4-byte heap indexes, tables large
 * enough for 4-byte table and coded indexes, an optional MethodPtr table.
 *
 * It computes row sizes with its own, deliberately plain rules for just the
 * tables it writes (a second implementation to check the reader against), and
 * fills rows with values the tests can predict (pe_expect_*).
 */
#ifndef ILHEAP_TESTS_PE_BUILDER_H
#define ILHEAP_TESTS_PE_BUILDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct pe_spec {
    bool pe32_plus;
    bool uncompressed;   /* "#-" instead of "#~" */
    bool method_ptr;     /* a MethodPtr table listing the methods in reverse */
    bool extra_data;     /* HeapSizes 0x40 and 4 bytes after the row counts */
    bool big_strings;    /* 4-byte #Strings indexes, names placed past 64 KiB */
    bool big_guid;       /* 4-byte #GUID indexes */
    bool big_blob;       /* 4-byte #Blob indexes, signatures placed past 64 KiB */
    uint32_t typedefs;   /* >= 1 */
    uint32_t methods;
    uint32_t typerefs;
    uint32_t params;
    uint32_t custom_attributes;
} pe_spec_t;

typedef struct pe_image {
    uint8_t *data;
    size_t size;
    /* File offsets of the parts the corruption tests poke at. */
    size_t optional_header, section_table, cli_header, metadata, stream_headers;
    size_t table_stream, row_counts, methoddef_table, strings_heap;
    uint32_t methoddef_row_size, strings_size;
    uint32_t text_rva, reloc_rva, body_rva, size_of_image;
    size_t needed_size; /* end of the last section's data; the rest is padding */
} pe_image_t;

/* Builds the image; 0 on success, -1 when out of memory. */
int pe_build(const pe_spec_t *spec, pe_image_t *out);
void pe_image_free(pe_image_t *image);

/* What the generator wrote into MethodDef row `rid` and who owns it. */
uint32_t pe_expect_rva(const pe_image_t *image, uint32_t rid);
uint16_t pe_expect_impl_flags(uint32_t rid);
uint16_t pe_expect_flags(uint32_t rid);
void pe_expect_name(uint32_t rid, char *out, size_t size);
uint32_t pe_expect_owner(const pe_spec_t *spec, uint32_t rid);
/* Type t's name and namespace. */
void pe_expect_type_name(uint32_t t, char *name, size_t name_size, const char **namespace_);

/* The tiny body every IL method points at: header 0x0E (3 bytes of code). */
#define PE_TINY_BODY_HEADER 0x0E

#endif
