/* The reader on hand-built images (pe_builder.c): every layout variant reads
 * back exactly what was written; every truncation and every corrupted field
 * gives a clean error with the right code and a file offset. */
#include "ilheap/pe.h"
#include "test.h"

#include "pe_builder.h"
#include "cursor_check.h"

static const pe_spec_t small_spec = {.typedefs = 4, .methods = 40, .typerefs = 2, .params = 5, .custom_attributes = 3};

static void build(const pe_spec_t *spec, pe_image_t *img)
{
    if (pe_build(spec, img) != 0)
        TEST_FAIL_("pe_build: out of memory");
}

/* Opens the image and checks every row, name, owner and body against what the
 * generator wrote, the info block, a name lookup and the layout. */
static void verify_image(const pe_spec_t *spec, const pe_image_t *img)
{
    ilheap_pe_t *pe;
    ilheap_pe_error_t err;
    ilheap_status_t st = ilheap_pe_open(img->data, img->size, &pe, &err);
    if (st != ILHEAP_OK)
        TEST_FAIL_("open: %s", err.message);
    ilheap_pe_info_t info;
    ASSERT_STATUS(ilheap_pe_get_info(pe, &info), ILHEAP_OK);
    ASSERT_EQ_U(info.pe32_plus, spec->pe32_plus);
    ASSERT_EQ_U(info.uncompressed_tables, spec->uncompressed);
    ASSERT_EQ_U(info.method_count, spec->methods);
    ASSERT_EQ_U(info.typedef_count, spec->typedefs);
    ASSERT_EQ_U(info.size_of_image, img->size_of_image);
    ASSERT_STR_EQ(info.metadata_version, "v4.0.30319");
    ASSERT_EQ_U(info.heap_sizes & 0x40, spec->extra_data ? 0x40 : 0);

    uint32_t il = 0;
    for (uint32_t rid = 1; rid <= spec->methods; rid++) {
        ilheap_pe_method_t m;
        char expected[32];
        const char *name;
        uint32_t owner;
        ASSERT_STATUS(ilheap_pe_method(pe, rid, &m, &err), ILHEAP_OK);
        ASSERT_EQ_X(m.token, 0x06000000u | rid);
        ASSERT_EQ_X(m.rva, pe_expect_rva(img, rid));
        ASSERT_EQ_X(m.impl_flags, pe_expect_impl_flags(rid));
        ASSERT_EQ_X(m.flags, pe_expect_flags(rid));
        ASSERT_STATUS(ilheap_pe_method_name(pe, rid, &name, &err), ILHEAP_OK);
        pe_expect_name(rid, expected, sizeof expected);
        ASSERT_STR_EQ(name, expected);
        ASSERT_STATUS(ilheap_pe_method_owner(pe, rid, &owner, &err), ILHEAP_OK);
        ASSERT_EQ_U(owner, pe_expect_owner(spec, rid));
        bool has_il = rid % 5 != 0 && rid % 7 != 0;
        ASSERT_EQ_U(ilheap_pe_method_has_il(&m), has_il);
        if (!has_il)
            continue;
        const uint8_t *body;
        size_t available;
        ASSERT_STATUS(ilheap_pe_method_body(pe, &m, &body, &available, &err), ILHEAP_OK);
        ASSERT_EQ_X(body[0], PE_TINY_BODY_HEADER);
        ASSERT_GE_U(available, 4);
        il++;
    }
    ASSERT_GT_U(il, 0);

    /* A lookup by name: type 3 is "Ns.Inner.T3" and owns its first method. */
    if (spec->typedefs >= 3 && spec->methods >= spec->typedefs) {
        uint32_t t = 3, token;
        char tname[32], qualified[96], mname[32];
        const char *ns;
        pe_expect_type_name(t, tname, sizeof tname, &ns);
        ilheap_pe_typedef_t td;
        ASSERT_STATUS(ilheap_pe_typedef(pe, t, &td, &err), ILHEAP_OK);
        uint32_t rid = spec->method_ptr ? spec->methods + 1 - td.method_list : td.method_list;
        pe_expect_name(rid, mname, sizeof mname);
        snprintf(qualified, sizeof qualified, "%s%s%s::%s", ns, ns[0] ? "." : "", tname, mname);
        ASSERT_STATUS(ilheap_pe_find_method(pe, qualified, &token, &err), ILHEAP_OK);
        ASSERT_EQ_U(pe_expect_owner(spec, token & 0xFFFFFF), t);
        ASSERT_STATUS(ilheap_pe_find_method(pe, "Ns.Inner.T3::NoSuchMethod", &token, &err), ILHEAP_ENOTFOUND);
    }

    /* Layout: the body region at its RVA, headers at 0, zeros between. */
    uint8_t *region = malloc(info.size_of_image);
    ASSERT_NOT_NULL(region);
    ASSERT_STATUS(ilheap_pe_layout(pe, region, info.size_of_image, &err), ILHEAP_OK);
    ASSERT_MEM_EQ(region, img->data, 0x200);
    ASSERT_EQ_X(region[img->body_rva], PE_TINY_BODY_HEADER);
    ASSERT_EQ_X(region[img->reloc_rva - 1], 0);
    free(region);
    ilheap_pe_close(pe);
}

static void build_and_verify(const pe_spec_t *spec)
{
    pe_image_t img;
    build(spec, &img);
    verify_image(spec, &img);
    pe_image_free(&img);
}

static void test_variants(void)
{
    for (int variant = 0; variant < 8; variant++) {
        pe_spec_t spec = small_spec;
        spec.pe32_plus = variant & 1;
        spec.uncompressed = variant & 2;
        spec.extra_data = variant & 4;
        build_and_verify(&spec);
    }
}

static void test_large_heaps(void)
{
    for (int variant = 1; variant < 8; variant++) {
        pe_spec_t spec = small_spec;
        spec.big_strings = variant & 1;
        spec.big_guid = variant & 2;
        spec.big_blob = variant & 4;
        spec.pe32_plus = variant & 1;
        build_and_verify(&spec);
    }
}

/* 70,000 methods and params make MethodList, ParamList and HasCustomAttribute
 * 4 bytes; 20,000 TypeRefs make ResolutionScope and TypeDefOrRef 4 bytes. */
static void test_large_tables(void)
{
    pe_spec_t spec = {.typedefs = 300, .methods = 70000, .typerefs = 20000, .params = 70000, .custom_attributes = 3000};
    build_and_verify(&spec);
    /* Only the coded indexes large, not the simple ones. */
    pe_spec_t coded = {.typedefs = 17000, .methods = 9000, .typerefs = 1, .params = 1, .custom_attributes = 10};
    build_and_verify(&coded);
}

static void test_method_ptr(void)
{
    pe_spec_t spec = small_spec;
    spec.uncompressed = true;
    spec.method_ptr = true;
    build_and_verify(&spec);
    spec.methods = 70000; /* a 4-byte MethodList through the pointer table */
    spec.typedefs = 50;
    build_and_verify(&spec);
}

/* Opens a copy in a buffer of exactly `size` bytes, so ASan sees any read
 * past the end; returns the status and fills err. */
static ilheap_status_t open_copy(const uint8_t *data, size_t size, ilheap_pe_error_t *err)
{
    uint8_t *copy = malloc(size ? size : 1);
    if (copy == NULL)
        return ILHEAP_ENOMEM;
    memcpy(copy, data, size);
    ilheap_pe_t *pe;
    ilheap_status_t st = ilheap_pe_open(copy, size, &pe, err);
    ilheap_pe_close(pe);
    free(copy);
    return st;
}

/* Every prefix of a valid image that lacks a byte the loader would read
 * fails cleanly: a status of the PE range, a message, and a file offset; the
 * longer ones (missing only the last section's alignment padding) open. */
static void check_prefixes(const pe_spec_t *spec)
{
    pe_image_t img;
    build(spec, &img);
    ASSERT_LE_U(img.needed_size, img.size);
    for (size_t len = 0; len <= img.size; len++) {
        ilheap_pe_error_t err = {0};
        ilheap_status_t st = open_copy(img.data, len, &err);
        if (len >= img.needed_size) { /* only file-alignment padding is missing */
            if (st != ILHEAP_OK)
                TEST_FAIL_("prefix of %zu bytes (%zu needed): %s", len, img.needed_size, err.message);
            continue;
        }
        if (st < 300 || st > 399 || err.status != st || err.message[0] == '\0' || err.file_offset == ILHEAP_PE_NO_OFFSET) {
            pe_image_free(&img);
            TEST_FAIL_("prefix of %zu bytes: %s (%d), offset %#llx, \"%s\"", len, ilheap_status_name(st), (int)st,
                       (unsigned long long)err.file_offset, err.message);
        }
    }
    pe_image_free(&img);
}

static void test_every_truncation(void)
{
    check_prefixes(&small_spec);
    pe_spec_t spec = small_spec;
    spec.pe32_plus = spec.uncompressed = spec.extra_data = spec.method_ptr = true;
    check_prefixes(&spec);
}

typedef struct corruption {
    const char *what;
    size_t offset;        /* from the base named by `base` */
    int base;             /* which image offset the field is relative to */
    uint64_t value;
    unsigned width;
    ilheap_status_t expected;
} corruption_t;

enum { B_FILE, B_OPTIONAL, B_SECTIONS, B_CLI, B_METADATA, B_STREAMS, B_TABLES, B_ROWCOUNTS };

static size_t base_of(const pe_image_t *img, int base)
{
    switch (base) {
    case B_OPTIONAL: return img->optional_header;
    case B_SECTIONS: return img->section_table;
    case B_CLI: return img->cli_header;
    case B_METADATA: return img->metadata;
    case B_STREAMS: return img->stream_headers;
    case B_TABLES: return img->table_stream;
    case B_ROWCOUNTS: return img->row_counts;
    default: return 0;
    }
}

static void poke(uint8_t *p, uint64_t v, unsigned width)
{
    for (unsigned i = 0; i < width; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void test_corrupted_fields(void)
{
    /* Offsets are those of the PE32 optional header and of the image the
     * builder lays out (5 streams, #~ first; row counts in table order:
     * Module, TypeRef, TypeDef, MethodDef, ...). */
    static const corruption_t cases[] = {
        {"DOS magic", 0, B_FILE, 0x5A4E, 2, ILHEAP_PE_BAD_DOS_HEADER},
        {"e_lfanew past the end", 0x3C, B_FILE, 0x7FFFFFFF, 4, ILHEAP_PE_BAD_DOS_HEADER},
        {"PE signature", 0x80, B_FILE, 0x00004551, 4, ILHEAP_PE_BAD_PE_SIGNATURE},
        {"section count 0", 0x86, B_FILE, 0, 2, ILHEAP_PE_BAD_SECTION_TABLE},
        {"section count 200", 0x86, B_FILE, 200, 2, ILHEAP_PE_BAD_SECTION_TABLE},
        {"SizeOfOptionalHeader 64", 0x94, B_FILE, 64, 2, ILHEAP_PE_BAD_OPTIONAL_HEADER},
        {"SizeOfOptionalHeader past the end", 0x94, B_FILE, 0xFFFF, 2, ILHEAP_PE_TRUNCATED},
        {"optional header magic", 0, B_OPTIONAL, 0x107, 2, ILHEAP_PE_BAD_OPTIONAL_HEADER},
        {"SizeOfImage too small", 56, B_OPTIONAL, 0x2000, 4, ILHEAP_PE_BAD_SECTION_TABLE},
        {"14 data directories", 92, B_OPTIONAL, 14, 4, ILHEAP_PE_NOT_CLI},
        {"CLI directory RVA 0", 96 + 14 * 8, B_OPTIONAL, 0, 4, ILHEAP_PE_NOT_CLI},
        {"CLI directory RVA in no section", 96 + 14 * 8, B_OPTIONAL, 0x100000, 4, ILHEAP_PE_RVA_OUTSIDE_SECTIONS},
        {"CLI directory size 8", 96 + 14 * 8 + 4, B_OPTIONAL, 8, 4, ILHEAP_PE_BAD_CLI_HEADER},
        {"sections overlap", 40 + 12, B_SECTIONS, 0x2000, 4, ILHEAP_PE_BAD_SECTION_TABLE},
        {"section VA wraps", 40 + 12, B_SECTIONS, 0xFFFFFFF0u, 4, ILHEAP_PE_BAD_SECTION_TABLE},
        {"raw data past the end", 20, B_SECTIONS, 0x7FFFFF00, 4, ILHEAP_PE_TRUNCATED},
        {"CLI cb 16", 0, B_CLI, 16, 4, ILHEAP_PE_BAD_CLI_HEADER},
        {"metadata RVA in no section", 8, B_CLI, 0x900000, 4, ILHEAP_PE_RVA_OUTSIDE_SECTIONS},
        {"metadata size past its section", 12, B_CLI, 0x01000000, 4, ILHEAP_PE_TRUNCATED},
        {"metadata size 2", 12, B_CLI, 2, 4, ILHEAP_PE_BAD_METADATA_ROOT},
        {"BSJB", 0, B_METADATA, 0x424A5343, 4, ILHEAP_PE_BAD_METADATA_ROOT},
        {"version length", 12, B_METADATA, 0x10000000, 4, ILHEAP_PE_BAD_METADATA_ROOT},
        {"stream count", 30, B_METADATA, 0xFFFF, 2, ILHEAP_PE_BAD_STREAM_HEADER},
        {"stream offset", 0, B_STREAMS, 0x7FFFFFFF, 4, ILHEAP_PE_BAD_STREAM_HEADER},
        {"stream size wraps", 4, B_STREAMS, 0xFFFFFFFF, 4, ILHEAP_PE_BAD_STREAM_HEADER},
        {"no table stream", 8 + 1, B_STREAMS, 'X', 1, ILHEAP_PE_NO_TABLE_STREAM},
        {"two #Strings", 12 + 20 + 1, B_STREAMS, 0x00005453, 4, ILHEAP_PE_BAD_STREAM_HEADER},
        {"unterminated stream name", 12 + 20 + 8, B_STREAMS, 0x41414141, 4, ILHEAP_PE_BAD_STREAM_HEADER},
        {"table stream too short", 4, B_STREAMS, 20, 4, ILHEAP_PE_BAD_TABLE_STREAM},
        {"unknown table 0x3F", 8 + 7, B_TABLES, 0x80, 1, ILHEAP_PE_BAD_TABLE_STREAM},
        {"MethodDef rows > 2^24", 12, B_ROWCOUNTS, 0x01000000, 4, ILHEAP_PE_BAD_TABLE_STREAM},
        {"MethodDef rows past the stream", 12, B_ROWCOUNTS, 0x00FFFFFF, 4, ILHEAP_PE_BAD_TABLE_STREAM},
        {"extra-data flag without room", 6, B_TABLES, 0x40 | 0x07, 1, ILHEAP_PE_BAD_TABLE_STREAM},
    };
    pe_image_t img;
    build(&small_spec, &img);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const corruption_t *c = &cases[i];
        uint8_t *copy = malloc(img.size);
        ASSERT_NOT_NULL(copy);
        memcpy(copy, img.data, img.size);
        poke(copy + base_of(&img, c->base) + c->offset, c->value, c->width);
        ilheap_pe_error_t err = {0};
        ilheap_status_t st = open_copy(copy, img.size, &err);
        free(copy);
        if (st != c->expected || err.file_offset == ILHEAP_PE_NO_OFFSET || err.file_offset > img.size) {
            pe_image_free(&img);
            TEST_FAIL_("%s: got %s, expected %s (offset %#llx: %s)", c->what, ilheap_status_name(st),
                       ilheap_status_name(c->expected), (unsigned long long)err.file_offset, err.message);
        }
    }
    pe_image_free(&img);
}

/* Defects that open cannot see, found by the accessors. */
static void test_bad_rows_and_indexes(void)
{
    pe_image_t img;
    build(&small_spec, &img);
    uint8_t *row1 = img.data + img.methoddef_table;
    poke(row1 + 8, img.strings_size + 7, 2); /* method 1's name past #Strings */
    uint8_t *row2 = row1 + img.methoddef_row_size;
    poke(row2 + 8, img.strings_size - 1, 2); /* method 2's name: the heap's last byte */
    img.data[img.strings_heap + img.strings_size - 1] = 'x'; /* ...now unterminated */
    uint8_t *row3 = row2 + img.methoddef_row_size;
    poke(row3, img.reloc_rva + 0x100, 4); /* method 3's body: past .reloc's 12 bytes */

    ilheap_pe_t *pe;
    ilheap_pe_error_t err;
    const char *name;
    ilheap_pe_method_t m;
    const uint8_t *body;
    size_t available;
    uint32_t owner;
    ASSERT_STATUS(ilheap_pe_open(img.data, img.size, &pe, &err), ILHEAP_OK);
    ASSERT_STATUS(ilheap_pe_method_name(pe, 1, &name, &err), ILHEAP_PE_BAD_HEAP_INDEX);
    ASSERT_EQ_U(err.file_offset, img.strings_heap);
    ASSERT_STATUS(ilheap_pe_method_name(pe, 2, &name, &err), ILHEAP_PE_BAD_HEAP_INDEX);
    ASSERT_STATUS(ilheap_pe_method(pe, 3, &m, &err), ILHEAP_OK);
    ASSERT_STATUS(ilheap_pe_method_body(pe, &m, &body, &available, &err), ILHEAP_PE_RVA_OUTSIDE_SECTIONS);
    ASSERT_EQ_U(err.file_offset, img.methoddef_table + 2 * img.methoddef_row_size);
    ASSERT_TRUE(strstr(err.message, "file offset") != NULL);
    ASSERT_STATUS(ilheap_pe_method(pe, 0, &m, &err), ILHEAP_PE_BAD_ROW);
    ASSERT_STATUS(ilheap_pe_method(pe, small_spec.methods + 1, &m, &err), ILHEAP_PE_BAD_ROW);
    ASSERT_STATUS(ilheap_pe_method_owner(pe, 0, &owner, &err), ILHEAP_PE_BAD_ROW);
    ASSERT_EQ_U(ilheap_pe_typedef_count(pe), small_spec.typedefs);
    ASSERT_STATUS(ilheap_pe_rva_to_pointer(pe, 0, &body, &available, &err), ILHEAP_PE_RVA_OUTSIDE_SECTIONS);
    ASSERT_STATUS(ilheap_pe_find_method(pe, "no colons", &owner, &err), ILHEAP_EINVAL);
    ilheap_pe_close(pe);

    /* A section whose VirtualSize exceeds its file data: RVAs in the tail map
     * to no file bytes. */
    poke(img.data + img.section_table + 40 + 8, 0x1000, 4); /* .reloc VirtualSize */
    poke(row3, img.reloc_rva + 0x800, 4);
    ASSERT_STATUS(ilheap_pe_open(img.data, img.size, &pe, &err), ILHEAP_OK);
    ASSERT_STATUS(ilheap_pe_method(pe, 3, &m, &err), ILHEAP_OK);
    ASSERT_STATUS(ilheap_pe_method_body(pe, &m, &body, &available, &err), ILHEAP_PE_RVA_NO_FILE_DATA);
    ilheap_pe_close(pe);

    /* MethodList out of order: the owner check refuses to guess. */
    pe_spec_t spec = small_spec;
    pe_image_free(&img);
    build(&spec, &img);
    ASSERT_STATUS(ilheap_pe_open(img.data, img.size, &pe, &err), ILHEAP_OK);
    ilheap_pe_typedef_t td;
    ASSERT_STATUS(ilheap_pe_typedef(pe, 3, &td, &err), ILHEAP_OK);
    ASSERT_EQ_U(td.method_list, 21);
    poke(img.data + td.row_offset + 4 + 2 + 2 + 2 + 2, 5, 2); /* type 3 now starts before type 2 (11) */
    ASSERT_STATUS(ilheap_pe_method_owner(pe, 12, &owner, &err), ILHEAP_PE_NO_OWNER);
    ASSERT_EQ_U(err.file_offset, td.row_offset);
    ilheap_pe_close(pe);
    pe_image_free(&img);
}

static void test_bad_arguments(void)
{
    ilheap_pe_t *pe = (ilheap_pe_t *)1;
    ilheap_pe_error_t err;
    ASSERT_STATUS(ilheap_pe_open(NULL, 10, &pe, &err), ILHEAP_EINVAL);
    ASSERT_NULL(pe);
    ASSERT_STATUS(ilheap_pe_open("MZ", 2, NULL, &err), ILHEAP_EINVAL);
    ASSERT_STATUS(ilheap_pe_open("MZ", 2, &pe, NULL), ILHEAP_PE_TRUNCATED);
    ASSERT_STATUS(ilheap_last_status(), ILHEAP_PE_TRUNCATED);
    ilheap_pe_method_t m;
    ASSERT_STATUS(ilheap_pe_method(NULL, 1, &m, &err), ILHEAP_PE_BAD_HANDLE);
    ASSERT_EQ_U(err.file_offset, ILHEAP_PE_NO_OFFSET);
    ASSERT_EQ_U(ilheap_pe_method_count(NULL), 0);
    ilheap_pe_close(NULL);
}

/* Every byte of a small image set to a few values: open and, when it opens,
 * walk everything. The point is that nothing crashes or reads out of bounds
 * (run under ASan); both outcomes must occur. */
static void test_byte_flips(void)
{
    pe_spec_t spec = small_spec;
    spec.pe32_plus = true;
    pe_image_t img;
    build(&spec, &img);
    size_t opened = 0, rejected = 0;
    uint8_t *copy = malloc(img.size);
    uint8_t *region = NULL;
    ASSERT_NOT_NULL(copy);
    for (size_t at = 0; at < img.size && at < 0x1000; at++) {
        const uint8_t values[] = {0x00, 0xFF, (uint8_t)(img.data[at] ^ 0x80), (uint8_t)(img.data[at] + 1)};
        for (size_t v = 0; v < sizeof values; v++) {
            memcpy(copy, img.data, img.size);
            copy[at] = values[v];
            ilheap_pe_t *pe;
            if (ilheap_pe_open(copy, img.size, &pe, NULL) != ILHEAP_OK) {
                rejected++;
                continue;
            }
            opened++;
            for (uint32_t rid = 1; rid <= ilheap_pe_method_count(pe); rid++) {
                ilheap_pe_method_t m;
                const char *name;
                const uint8_t *body;
                size_t available;
                uint32_t owner;
                if (ilheap_pe_method(pe, rid, &m, NULL) != ILHEAP_OK)
                    TEST_FAIL_("method %u of %u unreadable", rid, ilheap_pe_method_count(pe));
                if (ilheap_pe_method_name(pe, rid, &name, NULL) == ILHEAP_OK)
                    ASSERT_TRUE(strlen(name) < img.size);
                ilheap_pe_method_owner(pe, rid, &owner, NULL);
                if (ilheap_pe_method_body(pe, &m, &body, &available, NULL) == ILHEAP_OK)
                    ASSERT_TRUE(body[available - 1] == body[available - 1]); /* ASan checks the last byte */
            }
            char why[256];
            if (pe_check_cursor(pe, why, sizeof why) < 0)
                TEST_FAIL_("byte %#zx = %#x: fast body walk: %s", at, values[v], why);
            uint32_t token;
            ilheap_pe_find_method(pe, "Ns.Inner.T3::M5", &token, NULL);
            ilheap_pe_info_t info;
            ilheap_pe_get_info(pe, &info);
            if (info.size_of_image <= (64u << 20)) {
                region = realloc(region, info.size_of_image ? info.size_of_image : 1);
                ASSERT_NOT_NULL(region);
                ASSERT_STATUS(ilheap_pe_layout(pe, region, info.size_of_image, NULL), ILHEAP_OK);
            }
            ilheap_pe_close(pe);
        }
    }
    free(region);
    free(copy);
    pe_image_free(&img);
    fprintf(stderr, "  byte flips: %zu opened, %zu rejected\n", opened, rejected);
    ASSERT_GT_U(opened, 0);
    ASSERT_GT_U(rejected, 0);
}

TEST_MAIN(TEST(test_variants), TEST(test_large_heaps), TEST(test_large_tables), TEST(test_method_ptr),
          TEST(test_every_truncation), TEST(test_corrupted_fields), TEST(test_bad_rows_and_indexes),
          TEST(test_bad_arguments), TEST(test_byte_flips))
