/* ilheap's PE / ECMA-335 metadata reader: from the bytes of an assembly file to
 * its MethodDefs, their names and owning types, and their bodies' bytes.
 *
 * The file is untrusted input. The reader checks every offset, size and index
 * against the bytes the caller handed in, never reads outside them, never
 * allocates per row (one allocation per open image), and reports every defect
 * as a status in 300..399 plus the FILE OFFSET of the problem.
 *
 *   ilheap_pe_t *pe;
 *   ilheap_pe_error_t err;
 *   if (ilheap_pe_open(bytes, size, &pe, &err) != ILHEAP_OK)
 *       fprintf(stderr, "%s\n", err.message);   // "... at file offset 0x80"
 *   for (uint32_t rid = 1; rid <= ilheap_pe_method_count(pe); rid++) {
 *       ilheap_pe_method_t m;
 *       ilheap_pe_method(pe, rid, &m, &err);
 *       if (ilheap_pe_method_has_il(&m)) {
 *           const uint8_t *body; size_t avail;
 *           ilheap_pe_method_body(pe, &m, &body, &avail, &err);   // hand to the codec
 *       }
 *   }
 *   ilheap_pe_close(pe);
 *
 * Rows are numbered from 1 (ECMA-335 II.22: RIDs); a MethodDef's token is
 * 0x06000000 | rid. Threads may share one open image for reading.
 */
#ifndef ILHEAP_PE_H
#define ILHEAP_PE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ilheap/export.h"
#include "ilheap/sig.h"
#include "ilheap/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ilheap_pe ilheap_pe_t;

/* error->file_offset when a failure has no place in the file (bad argument). */
#define ILHEAP_PE_NO_OFFSET UINT64_MAX

/* What went wrong and where. Every function taking one fills it on failure
 * (status, file offset, readable message) and leaves it alone on success; it
 * may be NULL. The thread's ilheap_last_message() gets the same message. */
typedef struct ilheap_pe_error {
    ilheap_status_t status;
    uint64_t file_offset;
    char message[224];
} ilheap_pe_error_t;

/* Facts about an open image. Pointers point into the caller's buffer or the
 * handle and live as long as both. */
typedef struct ilheap_pe_info {
    bool pe32_plus;            /* optional header magic 0x20B (else PE32, 0x10B) */
    uint16_t machine;          /* COFF Machine */
    uint16_t section_count;
    uint64_t image_base;       /* preferred base */
    uint32_t section_alignment;
    uint32_t file_alignment;
    uint32_t size_of_image;    /* bytes the loader maps: what ilheap_pe_layout needs */
    uint32_t size_of_headers;
    uint32_t cli_flags;        /* CLI header Flags (II.25.3.3.1) */
    uint32_t entry_point_token;
    uint32_t metadata_rva;
    uint32_t metadata_size;
    const char *metadata_version; /* "v4.0.30319" (NUL-terminated copy, at most 255 chars) */
    bool uncompressed_tables;  /* "#-" rather than "#~" */
    uint8_t heap_sizes;        /* HeapSizes byte of the table stream (II.24.2.6) */
    uint32_t method_count;     /* MethodDef rows */
    uint32_t typedef_count;    /* TypeDef rows */
} ilheap_pe_info_t;

/* One MethodDef row (II.22.26). Heap indexes are raw; see ilheap_pe_string. */
typedef struct ilheap_pe_method {
    uint32_t token;            /* 0x06000000 | rid */
    uint32_t rva;              /* 0: no body (abstract, or runtime-provided) */
    uint16_t impl_flags;       /* MethodImplAttributes; & 3 is the code type */
    uint16_t flags;            /* MethodAttributes */
    uint32_t name;             /* #Strings index */
    uint32_t signature;        /* #Blob index */
    uint32_t param_list;       /* Param (or ParamPtr) rid */
    uint64_t row_offset;       /* file offset of the row, for error reports */
} ilheap_pe_method_t;

/* One TypeDef row (II.22.37). */
typedef struct ilheap_pe_typedef {
    uint32_t token;            /* 0x02000000 | rid */
    uint32_t flags;            /* TypeAttributes */
    uint32_t name;             /* #Strings index */
    uint32_t namespace_;       /* #Strings index */
    uint32_t extends;          /* TypeDefOrRef coded index, as stored */
    uint32_t field_list;       /* Field (or FieldPtr) rid */
    uint32_t method_list;      /* MethodDef (or MethodPtr) rid */
    uint64_t row_offset;
} ilheap_pe_typedef_t;

/* Opens the image in data[0..size). The bytes are not copied: they must stay
 * unchanged and alive until ilheap_pe_close. Checks the DOS and PE headers,
 * the section table, the CLI header, the metadata root, the stream headers and
 * the table stream (so every row of every table lies inside it).
 * *out is NULL on failure. */
ILHEAP_API ilheap_status_t ilheap_pe_open(const void *data, size_t size, ilheap_pe_t **out,
                                          ilheap_pe_error_t *error);

/* The headers alone (DOS, NT, optional, section table), e.g. of a module the
 * loader already mapped: data is its base and size what is readable there
 * (the first page holds the headers of every image the runtime loads). The
 * same layout either way: headers sit at offset 0 in a file and at RVA 0 in
 * memory. Section data need not lie inside size. */
typedef struct ilheap_pe_headers {
    uint32_t size_of_image;   /* bytes the loader maps (a mapped layout's size) */
    uint32_t size_of_headers;
    uint64_t file_extent;     /* max PointerToRawData + SizeOfRawData (a flat layout's size) */
} ilheap_pe_headers_t;

/* ILHEAP_OK, ILHEAP_EINVAL, ILHEAP_ENOMEM, or a format status with *error
 * saying where; *out is zeroed first. */
ILHEAP_API ilheap_status_t ilheap_pe_read_headers(const void *data, size_t size, ilheap_pe_headers_t *out,
                                                  ilheap_pe_error_t *error);

/* Releases the handle (not the caller's bytes). NULL is fine. */
ILHEAP_API void ilheap_pe_close(ilheap_pe_t *pe);

ILHEAP_API ilheap_status_t ilheap_pe_get_info(const ilheap_pe_t *pe, ilheap_pe_info_t *out);

/* Number of MethodDef rows; 0 for a NULL or closed handle. */
ILHEAP_API uint32_t ilheap_pe_method_count(const ilheap_pe_t *pe);

/* The MethodDef row `rid` (1..count). */
ILHEAP_API ilheap_status_t ilheap_pe_method(const ilheap_pe_t *pe, uint32_t rid,
                                            ilheap_pe_method_t *out, ilheap_pe_error_t *error);

/* II.22.26: a body of IL is at the RVA when it is non-zero and the code type
 * (ImplFlags & 3) is IL (0); native (1), OPTIL (2) and runtime (3) are not. */
ILHEAP_API bool ilheap_pe_method_has_il(const ilheap_pe_method_t *m);

/* The bytes of a method's body: a pointer to its first byte in the caller's
 * buffer and the bytes available from there to the end of its section's raw
 * data (the body's own size is for the codec to find). Fails for RVA 0. */
ILHEAP_API ilheap_status_t ilheap_pe_method_body(const ilheap_pe_t *pe, const ilheap_pe_method_t *m,
                                                 const uint8_t **body, size_t *available,
                                                 ilheap_pe_error_t *error);

/* Walking every IL body in token order, fast (what `ilheap scan` does). The
 * cursor is the caller's; it holds a snapshot of the MethodDef table's layout
 * and of the section that held the last body, all validated at open, so that
 * ilheap_pe_next_body is a loop over rows with no per-row checks but the row
 * count. The image must stay open while a cursor is used. */
typedef struct ilheap_pe_body_cursor {
    const ilheap_pe_t *pe;
    uint32_t rid;         /* the last MethodDef row looked at (0: none yet) */
    struct {              /* private: the walk's state, set by ilheap_pe_bodies_begin */
        const void *p[2];
        uint32_t u[6];
    } private_;
} ilheap_pe_body_cursor_t;

/* One MethodDef with an IL body (ilheap_pe_method_has_il) and its bytes. */
typedef struct ilheap_pe_il_body {
    uint32_t token;
    uint32_t rva;
    uint16_t impl_flags;
    uint16_t flags;
    const uint8_t *data; /* the body's first byte in the caller's buffer; NULL after an error */
    size_t available;    /* bytes from there to the end of its section's file data */
} ilheap_pe_il_body_t;

/* Starts before the first MethodDef. ILHEAP_PE_BAD_HANDLE for a bad handle
 * (the cursor then yields nothing). */
ILHEAP_API ilheap_status_t ilheap_pe_bodies_begin(const ilheap_pe_t *pe, ilheap_pe_body_cursor_t *cursor,
                                                  ilheap_pe_error_t *error);

/* The next MethodDef with an IL body after cursor->rid. Returns 1 and fills
 * *out; 0 when none is left; -1 when that method's RVA maps to no bytes of the
 * file: *error says why and where, out->token and out->rva name the method,
 * and the next call goes on after it. */
ILHEAP_API int ilheap_pe_next_body(ilheap_pe_body_cursor_t *cursor, ilheap_pe_il_body_t *out,
                                   ilheap_pe_error_t *error);

/* Maps an RVA to the caller's buffer: pointer and bytes available up to the
 * end of the raw data of the section that holds it. Fails for an RVA in no
 * section, or in a section's zero-filled tail (no bytes in the file). */
ILHEAP_API ilheap_status_t ilheap_pe_rva_to_pointer(const ilheap_pe_t *pe, uint32_t rva,
                                                    const uint8_t **ptr, size_t *available,
                                                    ilheap_pe_error_t *error);

/* The same mapping as a file offset. */
ILHEAP_API ilheap_status_t ilheap_pe_rva_to_offset(const ilheap_pe_t *pe, uint32_t rva,
                                                   uint64_t *file_offset, ilheap_pe_error_t *error);

/* The NUL-terminated string at a #Strings index (II.24.2.3); index 0 is "".
 * *length (may be NULL) gets its length without the NUL. */
ILHEAP_API ilheap_status_t ilheap_pe_string(const ilheap_pe_t *pe, uint32_t index, const char **out,
                                            size_t *length, ilheap_pe_error_t *error);

/* A method's name: ilheap_pe_string of its Name column. */
ILHEAP_API ilheap_status_t ilheap_pe_method_name(const ilheap_pe_t *pe, uint32_t rid, const char **out,
                                                 ilheap_pe_error_t *error);

/* Number of TypeDef rows, and one row by rid. */
ILHEAP_API uint32_t ilheap_pe_typedef_count(const ilheap_pe_t *pe);
ILHEAP_API ilheap_status_t ilheap_pe_typedef(const ilheap_pe_t *pe, uint32_t rid,
                                             ilheap_pe_typedef_t *out, ilheap_pe_error_t *error);

/* The TypeDef rid that owns MethodDef `method_rid` (II.22.37: each type owns
 * the run of methods from its MethodList up to the next type's), through the
 * MethodPtr table when the image has one. O(log types). */
ILHEAP_API ilheap_status_t ilheap_pe_method_owner(const ilheap_pe_t *pe, uint32_t method_rid,
                                                  uint32_t *typedef_rid, ilheap_pe_error_t *error);

/* The module's MVID (its Module row's GUID, 16 bytes as stored). */
ILHEAP_API ilheap_status_t ilheap_pe_module_mvid(const ilheap_pe_t *pe, uint8_t mvid[16], ilheap_pe_error_t *error);

/* A GUID (16 bytes as stored, e.g. an MVID) as text: lowercase
 * 8-4-4-4-12, NUL-terminated ("1b4e28ba-2fa1-11d2-883f-0016d3cca427"), the
 * form .NET's Guid.ToString() gives. A GUID struct in memory (little-endian
 * fields, as on every machine .NET runs on) is the same 16 bytes. */
ILHEAP_API void ilheap_pe_guid_text(const uint8_t guid[16], char out[37]);

/* UTF-16 text (as the runtime's metadata interfaces give names, and as the
 * #US heap stores strings) as NUL-terminated UTF-8 in out[out_size]. Reads
 * at most n code units, stopping early at a 0 unit; a surrogate pair is one
 * code point, a lone surrogate becomes U+FFFD. Text that does not fit is cut
 * at a code point boundary; out is always terminated (out_size 0: nothing
 * written). */
ILHEAP_API void ilheap_pe_utf16_to_utf8(const uint16_t *in, size_t n, char *out, size_t out_size);

/* The TypeDef rid that encloses nested type `typedef_rid` (its NestedClass
 * row), or 0 in *enclosing_rid for a type that is not nested. */
ILHEAP_API ilheap_status_t ilheap_pe_enclosing_type(const ilheap_pe_t *pe, uint32_t typedef_rid,
                                                    uint32_t *enclosing_rid, ilheap_pe_error_t *error);

/* Finds a method by "Namespace.Type::Method" (namespace may be absent:
 * "Type::Method"; the namespace is everything before the type name's last
 * '.'). Nested types are not searched. The first method of that name in
 * token order wins (overloads share a name). ILHEAP_ENOTFOUND when none. */
ILHEAP_API ilheap_status_t ilheap_pe_find_method(const ilheap_pe_t *pe, const char *qualified_name,
                                                 uint32_t *token, ilheap_pe_error_t *error);

/* Rows of metadata table `table` (0x00..0x2C, II.22); 0 for a table the
 * image does not have, another number, or a bad handle. */
ILHEAP_API uint32_t ilheap_pe_row_count(const ilheap_pe_t *pe, unsigned table);

/* The signature blob of the row a token names, in the caller's buffer, and
 * the kind to decode it as (include/ilheap/sig.h):
 *   MethodDef 0x06: METHOD_DEF        MemberRef 0x0A: METHOD_REF or FIELD
 *   StandAloneSig 0x11: LOCALS, METHOD_REF (calli) or FIELD
 *   TypeSpec 0x1B: TYPESPEC           MethodSpec 0x2B: METHODSPEC (Instantiation)
 *   Field 0x04: FIELD                 Property 0x17: PROPERTY
 * kind and file_offset (the blob's first byte) may be NULL. ILHEAP_EINVAL
 * for a token of another table, ILHEAP_PE_BAD_ROW for a row past the table. */
ILHEAP_API ilheap_status_t ilheap_pe_signature(const ilheap_pe_t *pe, uint32_t token, const uint8_t **blob,
                                               size_t *size, ilheap_sig_kind_t *kind, uint64_t *file_offset,
                                               ilheap_pe_error_t *error);

/* ilheap_pe_signature, then ilheap_sig_decode as its kind (flags 0) into
 * *out and the arena; a decoding failure keeps its ILHEAP_SIG_* status and
 * names the file offset of the byte. */
ILHEAP_API ilheap_status_t ilheap_pe_decode_signature(const ilheap_pe_t *pe, uint32_t token,
                                                      ilheap_sig_arena_t *arena, ilheap_sig_t *out,
                                                      ilheap_pe_error_t *error);

/* Styles of the signature text (flags). The default spells types as C#
 * does, for people: keywords for primitives, names without namespace or
 * arity, "ref T", "T*", "T[,]", "delegate*<A, R>", generic parameters by
 * name: "(int, ref List<T>)". ILHEAP_SIG_TEXT_CECIL spells them as
 * Mono.Cecil's FullName, which is what coverlet writes in Cobertura's
 * `signature` attribute: "(System.Int32,System.Collections.Generic.List`1<T>&)"
 * (nested types "Ns.Outer/Inner", " modreq(..)", "[0...,0...]").
 * ILHEAP_SIG_TEXT_RETURN puts the return type first: "void (int)". */
#define ILHEAP_SIG_TEXT_CSHARP 0x0u
#define ILHEAP_SIG_TEXT_CECIL 0x1u
#define ILHEAP_SIG_TEXT_RETURN 0x2u

/* A decoded signature as text into buf[0..size), NUL-terminated: a method's
 * or property's "(parameters)", a local signature's "(locals)", a field's or
 * TypeSpec's type, a MethodSpec's "<arguments>". Type names come from the
 * image; generic parameters are named when method_token is the MethodDef the
 * signature belongs to (its own and its type's), else "!0" / "!!0"; a name
 * the metadata cannot give is its token. *length (may be NULL) gets the full
 * length; ILHEAP_EINVAL, buf holding the text cut short, when it does not
 * fit. */
ILHEAP_API ilheap_status_t ilheap_pe_sig_text(const ilheap_pe_t *pe, const ilheap_sig_t *sig, uint32_t method_token,
                                              unsigned style, char *buf, size_t size, size_t *length,
                                              ilheap_pe_error_t *error);

/* The same for the signature of a row (ilheap_pe_decode_signature, then
 * ilheap_pe_sig_text): ilheap_pe_signature_text(pe, 0x06000001,
 * ILHEAP_SIG_TEXT_CECIL, buf, sizeof buf, NULL, &err) gives coverlet's
 * `signature` attribute of MethodDef 1. */
ILHEAP_API ilheap_status_t ilheap_pe_signature_text(const ilheap_pe_t *pe, uint32_t token, unsigned style, char *buf,
                                                    size_t size, size_t *length, ilheap_pe_error_t *error);

/* Lays the image out as the loader maps it: zero-fills region[0..SizeOfImage),
 * copies the headers to offset 0 and each section's raw data to its
 * VirtualAddress. region_size must be at least info.size_of_image. The result
 * is what a profiler sees at the module base, so RVAs index it directly. */
ILHEAP_API ilheap_status_t ilheap_pe_layout(const ilheap_pe_t *pe, void *region, size_t region_size,
                                            ilheap_pe_error_t *error);

/* ---- Custom attributes and properties (src/pe/attributes.c) ---- */

/* One CustomAttribute row (II.22.10), its coded indexes resolved. */
typedef struct ilheap_pe_attribute {
    uint32_t parent;            /* the owner's token: 0x20000001 the assembly, 0x02.. a type, 0x06.. a method,
                                   0x17.. a property, 0x04.. a field, ... (HasCustomAttribute) */
    uint32_t constructor;       /* its constructor: 0x06.. MethodDef or 0x0A.. MemberRef */
    const char *type_namespace; /* the attribute type's namespace and name ("" for a generic */
    const char *type_name;      /* attribute's instance, a TypeSpec); they live as long as the image */
    uint32_t value;             /* #Blob index of the value */
} ilheap_pe_attribute_t;

/* Number of CustomAttribute rows, and one row by rid (1..count). */
ILHEAP_API uint32_t ilheap_pe_attribute_count(const ilheap_pe_t *pe);
ILHEAP_API ilheap_status_t ilheap_pe_attribute(const ilheap_pe_t *pe, uint32_t rid, ilheap_pe_attribute_t *out,
                                               ilheap_pe_error_t *error);

/* One Property row (II.22.34) with its owner and accessors. */
typedef struct ilheap_pe_property {
    uint32_t token;          /* 0x17000000 | rid */
    uint16_t flags;          /* PropertyAttributes */
    const char *name;        /* lives as long as the image */
    uint32_t owner;          /* TypeDef rid (PropertyMap, II.22.35); 0 when no type lists it */
    uint32_t getter, setter; /* MethodDef tokens (MethodSemantics, II.22.28); 0 when none */
} ilheap_pe_property_t;

ILHEAP_API uint32_t ilheap_pe_property_count(const ilheap_pe_t *pe);
ILHEAP_API ilheap_status_t ilheap_pe_property(const ilheap_pe_t *pe, uint32_t rid, ilheap_pe_property_t *out,
                                              ilheap_pe_error_t *error);

/* The name of the member a token in IL names: a Field (0x04), MethodDef
 * (0x06), MemberRef (0x0A), or MethodSpec (0x2B: its method's). ILHEAP_EINVAL
 * for another table, ILHEAP_PE_BAD_ROW for a row past it. */
ILHEAP_API ilheap_status_t ilheap_pe_member_name(const ilheap_pe_t *pe, uint32_t token, const char **name,
                                                 ilheap_pe_error_t *error);

/* The method a call's token names: a MethodDef (0x06) or MemberRef (0x0A)
 * token itself, a MethodSpec's (0x2B: a generic method's instance) method.
 * ILHEAP_EINVAL for another table, ILHEAP_PE_BAD_ROW for a row past it. */
ILHEAP_API ilheap_status_t ilheap_pe_member_method(const ilheap_pe_t *pe, uint32_t token, uint32_t *method,
                                                   ilheap_pe_error_t *error);

#ifdef __cplusplus
}
#endif

#endif /* ILHEAP_PE_H */
