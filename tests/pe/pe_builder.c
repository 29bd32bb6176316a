#include "pe_builder.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- bytes */

typedef struct buf {
    uint8_t *p;
    size_t n, cap;
    bool failed;
} buf_t;

static void put_bytes(buf_t *b, const void *src, size_t n)
{
    if (b->failed)
        return;
    if (b->n + n > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->n + n)
            cap *= 2;
        uint8_t *p = realloc(b->p, cap);
        if (p == NULL) {
            b->failed = true;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    if (src != NULL)
        memcpy(b->p + b->n, src, n);
    else
        memset(b->p + b->n, 0, n);
    b->n += n;
}

/* A little-endian value of `width` bytes (2 or 4 or 8). */
static void put(buf_t *b, uint64_t v, unsigned width)
{
    uint8_t bytes[8];
    for (unsigned i = 0; i < width; i++)
        bytes[i] = (uint8_t)(v >> (8 * i));
    put_bytes(b, bytes, width);
}

static void align(buf_t *b, size_t to)
{
    while (b->n % to != 0)
        put(b, 0, 1);
}

static size_t round_up(size_t v, size_t to)
{
    return (v + to - 1) / to * to;
}

/* ---------------------------------------------------------------- predictions */

#define BODY_SLOTS 16
#define METHOD_NAMES 16
#define TYPE_NAMES 256

uint32_t pe_expect_rva(const pe_image_t *image, uint32_t rid)
{
    return rid % 5 == 0 ? 0 : image->body_rva + 4 * (rid % BODY_SLOTS);
}

uint16_t pe_expect_impl_flags(uint32_t rid)
{
    if (rid % 7 == 0)
        return 3; /* runtime: no IL */
    return rid % 11 == 0 ? 0x0008 : 0; /* NoInlining: still IL */
}

uint16_t pe_expect_flags(uint32_t rid)
{
    return (uint16_t)((rid * 2654435761u) >> 16);
}

void pe_expect_name(uint32_t rid, char *out, size_t size)
{
    snprintf(out, size, "M%u", rid % METHOD_NAMES);
}

void pe_expect_type_name(uint32_t t, char *name, size_t name_size, const char **namespace_)
{
    snprintf(name, name_size, "T%u", t % TYPE_NAMES);
    *namespace_ = t % 2 ? "Ns.Inner" : "";
}

/* Type t owns method-list positions [first(t), first(t + 1)). */
static uint32_t first_position(const pe_spec_t *spec, uint32_t t)
{
    return 1 + (uint32_t)((uint64_t)(t - 1) * spec->methods / spec->typedefs);
}

/* The method-list position of rid: through the reversed MethodPtr, if any. */
static uint32_t position_of(const pe_spec_t *spec, uint32_t rid)
{
    return spec->method_ptr ? spec->methods + 1 - rid : rid;
}

uint32_t pe_expect_owner(const pe_spec_t *spec, uint32_t rid)
{
    uint32_t p = position_of(spec, rid), owner = 1;
    for (uint32_t t = 1; t <= spec->typedefs; t++)
        if (first_position(spec, t) <= p)
            owner = t;
    return owner;
}

/* ---------------------------------------------------------------- heaps */

typedef struct heaps {
    buf_t strings, blob;
    uint32_t module_name, object_name, system_ns, inner_ns;
    uint32_t method_names[METHOD_NAMES], type_names[TYPE_NAMES];
    uint32_t method_sig;
} heaps_t;

static uint32_t add_string(buf_t *b, const char *s)
{
    uint32_t at = (uint32_t)b->n;
    put_bytes(b, s, strlen(s) + 1);
    return at;
}

static void build_heaps(const pe_spec_t *spec, heaps_t *h)
{
    put(&h->strings, 0, 1);
    if (spec->big_strings) { /* push every name past a 2-byte index */
        for (int i = 0; i < 70000 / 8; i++)
            add_string(&h->strings, "padding");
    }
    h->module_name = add_string(&h->strings, "test.dll");
    h->object_name = add_string(&h->strings, "Object");
    h->system_ns = add_string(&h->strings, "System");
    h->inner_ns = add_string(&h->strings, "Ns.Inner");
    char name[16];
    for (uint32_t i = 0; i < METHOD_NAMES; i++) {
        snprintf(name, sizeof name, "M%u", i);
        h->method_names[i] = add_string(&h->strings, name);
    }
    for (uint32_t i = 0; i < TYPE_NAMES; i++) {
        snprintf(name, sizeof name, "T%u", i);
        h->type_names[i] = add_string(&h->strings, name);
    }
    align(&h->strings, 4);

    put(&h->blob, 0, 1);
    if (spec->big_blob)
        put_bytes(&h->blob, NULL, 70000); /* empty blobs */
    h->method_sig = (uint32_t)h->blob.n;
    static const uint8_t sig[] = {3, 0x00, 0x00, 0x01}; /* length 3: default, 0 params, void */
    put_bytes(&h->blob, sig, sizeof sig);
    align(&h->blob, 4);
}

/* ---------------------------------------------------------------- tables */

enum { T_MODULE = 0x00, T_TYPEREF = 0x01, T_TYPEDEF = 0x02, T_METHODPTR = 0x05, T_METHODDEF = 0x06,
       T_PARAM = 0x08, T_CUSTOMATTRIBUTE = 0x0C, T_STANDALONESIG = 0x11, T_ASSEMBLY = 0x20 };

static unsigned idx(uint32_t rows)
{
    return rows > 0xFFFF ? 4 : 2;
}

static unsigned max_u(unsigned a, unsigned b)
{
    return a > b ? a : b;
}

/* The table stream, written with the generator's own size rules. */
static void build_tables(const pe_spec_t *spec, const heaps_t *h, buf_t *t, pe_image_t *img, size_t stream_base)
{
    unsigned str = spec->big_strings ? 4 : 2, guid = spec->big_guid ? 4 : 2, blob = spec->big_blob ? 4 : 2;
    uint32_t ptr_rows = spec->method_ptr ? spec->methods : 0;
    uint32_t rows[0x2D] = {0};
    rows[T_MODULE] = 1;
    rows[T_TYPEREF] = spec->typerefs;
    rows[T_TYPEDEF] = spec->typedefs;
    rows[T_METHODPTR] = ptr_rows;
    rows[T_METHODDEF] = spec->methods;
    rows[T_PARAM] = spec->params;
    rows[T_CUSTOMATTRIBUTE] = spec->custom_attributes;
    rows[T_STANDALONESIG] = 1;
    rows[T_ASSEMBLY] = 1;

    /* Coded index widths (II.24.2.6), from the tables present here. */
    unsigned resolution_scope = max_u(rows[T_MODULE], spec->typerefs) >= (1u << 14) ? 4 : 2;
    unsigned typedef_or_ref = max_u(spec->typedefs, spec->typerefs) >= (1u << 14) ? 4 : 2;
    uint32_t biggest_ca_parent = max_u(max_u(spec->methods, spec->typerefs), max_u(spec->typedefs, spec->params));
    unsigned has_custom_attribute = biggest_ca_parent >= (1u << 11) ? 4 : 2;
    unsigned custom_attribute_type = spec->methods >= (1u << 13) ? 4 : 2;
    unsigned method_list = max_u(idx(spec->methods), idx(ptr_rows));

    uint64_t valid = 0;
    for (unsigned i = 0; i < 0x2D; i++)
        if (rows[i] != 0)
            valid |= 1ull << i;
    uint8_t heap_sizes = (uint8_t)((spec->big_strings ? 1 : 0) | (spec->big_guid ? 2 : 0) | (spec->big_blob ? 4 : 0) |
                                   (spec->extra_data ? 0x40 : 0));
    put(t, 0, 4);
    put(t, 2, 1);
    put(t, 0, 1);
    put(t, heap_sizes, 1);
    put(t, 1, 1);
    put(t, valid, 8);
    put(t, 1ull << T_CUSTOMATTRIBUTE, 8);
    img->row_counts = stream_base + t->n;
    for (unsigned i = 0; i < 0x2D; i++)
        if (rows[i] != 0)
            put(t, rows[i], 4);
    if (spec->extra_data)
        put(t, 0xDEADBEEF, 4);

    /* Module (II.22.30) */
    put(t, 0, 2), put(t, h->module_name, str), put(t, 1, guid), put(t, 0, guid), put(t, 0, guid);
    /* TypeRef (II.22.38): scope = Module 1 (tag 0) */
    for (uint32_t i = 0; i < spec->typerefs; i++)
        put(t, 1u << 2, resolution_scope), put(t, h->object_name, str), put(t, h->system_ns, str);
    /* TypeDef (II.22.37): extends TypeRef 1 (tag 1) when there is one */
    for (uint32_t i = 1; i <= spec->typedefs; i++) {
        put(t, 0x00100001, 4);
        put(t, h->type_names[i % TYPE_NAMES], str);
        put(t, i % 2 ? h->inner_ns : 0, str);
        put(t, spec->typerefs ? (1u << 2 | 1) : 0, typedef_or_ref);
        put(t, 1, 2); /* FieldList: no Field table, 2 bytes */
        put(t, first_position(spec, i), method_list);
    }
    /* MethodPtr (reversed) */
    for (uint32_t p = 1; p <= ptr_rows; p++)
        put(t, spec->methods + 1 - p, idx(spec->methods));
    /* MethodDef (II.22.26) */
    img->methoddef_table = stream_base + t->n;
    img->methoddef_row_size = 4 + 2 + 2 + str + blob + idx(spec->params);
    for (uint32_t rid = 1; rid <= spec->methods; rid++) {
        put(t, pe_expect_rva(img, rid), 4);
        put(t, pe_expect_impl_flags(rid), 2);
        put(t, pe_expect_flags(rid), 2);
        put(t, h->method_names[rid % METHOD_NAMES], str);
        put(t, h->method_sig, blob);
        put(t, rid <= spec->params ? rid : spec->params + 1, idx(spec->params));
    }
    /* Param (II.22.33) */
    for (uint32_t i = 1; i <= spec->params; i++)
        put(t, 0, 2), put(t, 1, 2), put(t, h->object_name, str);
    /* CustomAttribute (II.22.10): parent MethodDef (tag 0), type MethodDef (tag 2) */
    for (uint32_t i = 0; i < spec->custom_attributes; i++)
        put(t, (uint64_t)(i % (spec->methods ? spec->methods : 1) + 1) << 5, has_custom_attribute),
            put(t, 1u << 3 | 2, custom_attribute_type), put(t, 0, blob);
    /* StandAloneSig (II.22.36) */
    put(t, h->method_sig, blob);
    /* Assembly (II.22.2) */
    put(t, 0x8004, 4), put(t, 1, 2), put(t, 0, 2), put(t, 0, 2), put(t, 0, 2), put(t, 0, 4);
    put(t, 0, blob), put(t, h->module_name, str), put(t, 0, str);
    align(t, 4);
}

/* ---------------------------------------------------------------- image */

#define FILE_ALIGN 0x200
#define SECTION_ALIGN 0x2000
#define TEXT_RVA 0x2000
#define CLI_SIZE 72

static void put_stream_header(buf_t *md, uint32_t offset, uint32_t size, const char *name)
{
    put(md, offset, 4);
    put(md, size, 4);
    put_bytes(md, name, strlen(name) + 1);
    align(md, 4);
}

/* .text: CLI header, 16 tiny bodies, metadata. */
static void build_text(const pe_spec_t *spec, buf_t *text, pe_image_t *img, bool *failed)
{
    heaps_t h = {0};
    buf_t tables = {0}, md = {0};
    build_heaps(spec, &h);

    img->body_rva = TEXT_RVA + CLI_SIZE;
    size_t metadata_at = CLI_SIZE + 4 * BODY_SLOTS; /* in .text */
    size_t md_file = FILE_ALIGN + metadata_at;

    /* Root (II.24.2.1) and 5 stream headers; their size is fixed, so the
     * stream offsets can be computed before the streams are written. */
    static const char version[12] = "v4.0.30319";
    const char *table_name = spec->uncompressed ? "#-" : "#~";
    size_t root_size = 16 + sizeof version + 4;
    size_t headers_size = (8 + 4) + (8 + 12) + (8 + 4) + (8 + 8) + (8 + 8);
    size_t tables_at = root_size + headers_size;
    build_tables(spec, &h, &tables, img, md_file + tables_at);
    size_t strings_at = tables_at + tables.n;
    size_t us_at = strings_at + h.strings.n;
    size_t guid_at = us_at + 4;
    size_t blob_at = guid_at + 16;

    put(&md, 0x424A5342, 4), put(&md, 1, 2), put(&md, 1, 2), put(&md, 0, 4), put(&md, sizeof version, 4);
    put_bytes(&md, version, sizeof version);
    put(&md, 0, 2), put(&md, 5, 2);
    img->stream_headers = md_file + md.n;
    put_stream_header(&md, (uint32_t)tables_at, (uint32_t)tables.n, table_name);
    put_stream_header(&md, (uint32_t)strings_at, (uint32_t)h.strings.n, "#Strings");
    put_stream_header(&md, (uint32_t)us_at, 4, "#US");
    put_stream_header(&md, (uint32_t)guid_at, 16, "#GUID");
    put_stream_header(&md, (uint32_t)blob_at, (uint32_t)h.blob.n, "#Blob");
    put_bytes(&md, tables.p, tables.n);
    put_bytes(&md, h.strings.p, h.strings.n);
    put(&md, 0, 4);
    static const uint8_t guid[16] = {0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88};
    put_bytes(&md, guid, sizeof guid);
    put_bytes(&md, h.blob.p, h.blob.n);

    img->metadata = md_file;
    img->table_stream = md_file + tables_at;
    img->strings_heap = md_file + strings_at;
    img->strings_size = (uint32_t)h.strings.n;

    /* CLI header (II.25.3.3) */
    put(text, CLI_SIZE, 4), put(text, 2, 2), put(text, 5, 2);
    put(text, TEXT_RVA + metadata_at, 4), put(text, md.n, 4);
    put(text, 1, 4), put(text, 0, 4); /* ILONLY, no entry point */
    put_bytes(text, NULL, CLI_SIZE - 24);
    for (int i = 0; i < BODY_SLOTS; i++) {
        static const uint8_t body[4] = {PE_TINY_BODY_HEADER, 0x00, 0x00, 0x2A}; /* nop nop ret */
        put_bytes(text, body, sizeof body);
    }
    put_bytes(text, md.p, md.n);
    *failed = h.strings.failed || h.blob.failed || tables.failed || md.failed || text->failed;
    free(h.strings.p);
    free(h.blob.p);
    free(tables.p);
    free(md.p);
}

static void put_section_header(buf_t *b, const char *name, uint32_t vsize, uint32_t va, uint32_t raw_size,
                               uint32_t raw_ptr, uint32_t characteristics)
{
    char n[8] = {0};
    memcpy(n, name, strlen(name));
    put_bytes(b, n, 8);
    put(b, vsize, 4), put(b, va, 4), put(b, raw_size, 4), put(b, raw_ptr, 4);
    put(b, 0, 4), put(b, 0, 4), put(b, 0, 2), put(b, 0, 2), put(b, characteristics, 4);
}

int pe_build(const pe_spec_t *spec, pe_image_t *img)
{
    memset(img, 0, sizeof *img);
    buf_t text = {0}, f = {0};
    bool failed = false;
    build_text(spec, &text, img, &failed);

    uint32_t text_vsize = (uint32_t)text.n;
    uint32_t text_raw = (uint32_t)round_up(text.n, FILE_ALIGN);
    uint32_t reloc_rva = (uint32_t)round_up(TEXT_RVA + text_vsize, SECTION_ALIGN);
    uint32_t reloc_vsize = 12;
    uint32_t size_of_image = (uint32_t)round_up(reloc_rva + reloc_vsize, SECTION_ALIGN);
    img->text_rva = TEXT_RVA;
    img->reloc_rva = reloc_rva;
    img->size_of_image = size_of_image;

    /* DOS header: "MZ", e_lfanew = 0x80 */
    put(&f, 0x5A4D, 2);
    put_bytes(&f, NULL, 0x3C - 2);
    put(&f, 0x80, 4);
    put_bytes(&f, NULL, 0x80 - 0x40);
    /* PE signature and COFF header */
    unsigned optional_size = spec->pe32_plus ? 240 : 224;
    put(&f, 0x00004550, 4);
    put(&f, spec->pe32_plus ? 0x8664 : 0x14C, 2), put(&f, 2, 2), put(&f, 0, 4), put(&f, 0, 4), put(&f, 0, 4);
    put(&f, optional_size, 2), put(&f, 0x2022, 2);
    /* Optional header */
    img->optional_header = f.n;
    put(&f, spec->pe32_plus ? 0x20B : 0x10B, 2), put(&f, 0x0B08, 2);
    put(&f, text_raw, 4), put(&f, 0x200, 4), put(&f, 0, 4); /* code, initialized, uninitialized */
    put(&f, 0, 4), put(&f, TEXT_RVA, 4);                   /* entry point, BaseOfCode */
    if (spec->pe32_plus) {
        put(&f, 0x180000000ull, 8);
    } else {
        put(&f, 0, 4); /* BaseOfData */
        put(&f, 0x10000000, 4);
    }
    put(&f, SECTION_ALIGN, 4), put(&f, FILE_ALIGN, 4);
    put(&f, 4, 2), put(&f, 0, 2), put(&f, 0, 2), put(&f, 0, 2), put(&f, 4, 2), put(&f, 0, 2); /* versions */
    put(&f, 0, 4), put(&f, size_of_image, 4), put(&f, FILE_ALIGN, 4), put(&f, 0, 4); /* Win32Version, sizes, sum */
    put(&f, 3, 2), put(&f, 0x8560, 2);
    unsigned wide = spec->pe32_plus ? 8 : 4;
    put(&f, 0x100000, wide), put(&f, 0x1000, wide), put(&f, 0x100000, wide), put(&f, 0x1000, wide);
    put(&f, 0, 4), put(&f, 16, 4); /* LoaderFlags, NumberOfRvaAndSizes */
    for (int d = 0; d < 16; d++) {
        uint32_t rva = d == 14 ? TEXT_RVA : d == 5 ? reloc_rva : 0;
        uint32_t size = d == 14 ? CLI_SIZE : d == 5 ? reloc_vsize : 0;
        put(&f, rva, 4), put(&f, size, 4);
    }
    /* Section table */
    img->section_table = f.n;
    put_section_header(&f, ".text", text_vsize, TEXT_RVA, text_raw, FILE_ALIGN, 0x60000020);
    put_section_header(&f, ".reloc", reloc_vsize, reloc_rva, FILE_ALIGN, FILE_ALIGN + text_raw, 0x42000040);
    put_bytes(&f, NULL, FILE_ALIGN - f.n);
    /* Sections */
    put_bytes(&f, text.p, text.n);
    align(&f, FILE_ALIGN);
    put(&f, TEXT_RVA, 4), put(&f, 12, 4), put(&f, 0x3000, 2), put(&f, 0, 2);
    img->needed_size = f.n;
    align(&f, FILE_ALIGN);
    img->cli_header = FILE_ALIGN;

    free(text.p);
    if (failed || f.failed) {
        free(f.p);
        return -1;
    }
    img->data = f.p;
    img->size = f.n;
    return 0;
}

void pe_image_free(pe_image_t *image)
{
    free(image->data);
    image->data = NULL;
}
