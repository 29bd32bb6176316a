/* ilheap's ECMA-335 signature codec (II.23.2): from a signature blob to a
 * tree of types and a per-parameter summary, and back to the same bytes.
 *
 *   MethodDef / MemberRef / StandAloneSig (calli) / FNPTR method signatures,
 *   with generic parameter counts, HASTHIS / EXPLICITTHIS, every calling
 *   convention and varargs (SENTINEL); field, property and local variable
 *   signatures (PINNED, BYREF, TYPEDBYREF); TypeSpec and MethodSpec blobs.
 *
 * The blob is untrusted: every read is bounded, every count is checked
 * against the bytes left before anything is allocated, nesting is bounded
 * (ILHEAP_SIG_MAX_DEPTH), and every defect is a status in 340..349 plus the
 * byte offset in the blob. Memory comes from the caller (an arena over the
 * caller's buffer); the codec has no global state and never calls malloc.
 *
 *   uint8_t mem[4096];                    // or malloc(ilheap_sig_memory_bound(size))
 *   ilheap_sig_arena_t arena = {mem, sizeof mem, 0};
 *   ilheap_sig_t sig;
 *   ilheap_sig_error_t err;
 *   if (ilheap_sig_decode(ILHEAP_SIG_METHOD_DEF, blob, size, 0, &arena, &sig, &err) == ILHEAP_OK)
 *       for (uint32_t i = 0; i < sig.count; i++)
 *           if (sig.params[i].byref) ...  // ldarg, and ldobj params[i].token if it is a value
 *
 * Round trip: ilheap_sig_encode(decoded) gives the blob back byte for byte
 * whenever every compressed integer in it has its shortest form
 * (sig.canonical; compilers write nothing else). A longer form decodes, as
 * the runtime reads it, and encodes in the shortest form.
 */
#ifndef ILHEAP_SIG_H
#define ILHEAP_SIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ilheap/export.h"
#include "ilheap/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* II.23.1.16 element types. */
enum {
    ILHEAP_ET_END = 0x00,
    ILHEAP_ET_VOID = 0x01,
    ILHEAP_ET_BOOLEAN = 0x02,
    ILHEAP_ET_CHAR = 0x03,
    ILHEAP_ET_I1 = 0x04,
    ILHEAP_ET_U1 = 0x05,
    ILHEAP_ET_I2 = 0x06,
    ILHEAP_ET_U2 = 0x07,
    ILHEAP_ET_I4 = 0x08,
    ILHEAP_ET_U4 = 0x09,
    ILHEAP_ET_I8 = 0x0A,
    ILHEAP_ET_U8 = 0x0B,
    ILHEAP_ET_R4 = 0x0C,
    ILHEAP_ET_R8 = 0x0D,
    ILHEAP_ET_STRING = 0x0E,
    ILHEAP_ET_PTR = 0x0F,
    ILHEAP_ET_BYREF = 0x10,
    ILHEAP_ET_VALUETYPE = 0x11,
    ILHEAP_ET_CLASS = 0x12,
    ILHEAP_ET_VAR = 0x13,
    ILHEAP_ET_ARRAY = 0x14,
    ILHEAP_ET_GENERICINST = 0x15,
    ILHEAP_ET_TYPEDBYREF = 0x16,
    ILHEAP_ET_I = 0x18,
    ILHEAP_ET_U = 0x19,
    ILHEAP_ET_FNPTR = 0x1B,
    ILHEAP_ET_OBJECT = 0x1C,
    ILHEAP_ET_SZARRAY = 0x1D,
    ILHEAP_ET_MVAR = 0x1E,
    ILHEAP_ET_CMOD_REQD = 0x1F,
    ILHEAP_ET_CMOD_OPT = 0x20,
    ILHEAP_ET_INTERNAL = 0x21,      /* runtime signatures only: a TypeHandle follows */
    ILHEAP_ET_CMOD_INTERNAL = 0x22, /* runtime signatures only: required byte, TypeHandle */
    ILHEAP_ET_SENTINEL = 0x41,
    ILHEAP_ET_PINNED = 0x45,
};

/* II.23.2.1-3 first byte: calling convention (low nibble) and flags. */
enum {
    ILHEAP_SIG_CC_DEFAULT = 0x00,
    ILHEAP_SIG_CC_C = 0x01,
    ILHEAP_SIG_CC_STDCALL = 0x02,
    ILHEAP_SIG_CC_THISCALL = 0x03,
    ILHEAP_SIG_CC_FASTCALL = 0x04,
    ILHEAP_SIG_CC_VARARG = 0x05,
    ILHEAP_SIG_CC_FIELD = 0x06,
    ILHEAP_SIG_CC_LOCAL_SIG = 0x07,
    ILHEAP_SIG_CC_PROPERTY = 0x08,
    ILHEAP_SIG_CC_UNMANAGED = 0x09,  /* function pointers with unmanaged calling conventions */
    ILHEAP_SIG_CC_GENERICINST = 0x0A, /* MethodSpec */
    ILHEAP_SIG_CC_NATIVEVARARG = 0x0B,
    ILHEAP_SIG_CC_MASK = 0x0F,
    ILHEAP_SIG_GENERIC = 0x10,       /* a generic parameter count follows */
    ILHEAP_SIG_HASTHIS = 0x20,       /* an instance method: `this` is argument 0, not in params */
    ILHEAP_SIG_EXPLICITTHIS = 0x40,  /* with HASTHIS: params[0] is `this`'s type */
};

/* Nesting of GENERICINST, ARRAY and FNPTR the decoder and encoder follow
 * (modifiers, PTR, BYREF, PINNED and SZARRAY chains are loops: any length). */
#define ILHEAP_SIG_MAX_DEPTH 64

typedef enum ilheap_sig_kind {
    ILHEAP_SIG_ANY = 0,        /* decode only: by the first byte (field, locals, property, MethodSpec, else
                                  a method reference); never for TypeSpec blobs (they start with a type) */
    ILHEAP_SIG_METHOD_DEF = 1, /* MethodDef.Signature: no SENTINEL */
    ILHEAP_SIG_METHOD_REF,     /* MemberRef to a method, StandAloneSig for calli, FNPTR: SENTINEL allowed */
    ILHEAP_SIG_FIELD,          /* Field.Signature, MemberRef to a field */
    ILHEAP_SIG_PROPERTY,       /* Property.Type */
    ILHEAP_SIG_LOCALS,         /* StandAloneSig of a method body's locals */
    ILHEAP_SIG_TYPESPEC,       /* TypeSpec.Signature: one type */
    ILHEAP_SIG_METHODSPEC,     /* MethodSpec.Instantiation: the type arguments */
} ilheap_sig_kind_t;

/* Decode flags: ELEMENT_TYPE_INTERNAL and CMOD_INTERNAL carry a TypeHandle
 * of the runtime's pointer size. Metadata never holds them (refused without
 * a flag); signatures the runtime builds for stubs and dynamic methods may. */
#define ILHEAP_SIG_INTERNAL_PTR32 0x1u
#define ILHEAP_SIG_INTERNAL_PTR64 0x2u

typedef struct ilheap_sig ilheap_sig_t;
typedef struct ilheap_sig_type ilheap_sig_type_t;

/* One node of a type: what its element says, and what follows the element.
 * Chains read in blob order: CMOD_OPT(token) -> inner I4 is "int32
 * modopt(token)"; BYREF -> inner CLASS is "ref SomeClass". */
struct ilheap_sig_type {
    uint8_t element;                /* ILHEAP_ET_* */
    uint32_t offset, size;          /* its bytes in the decoded blob (0, 0 in a tree built by hand) */
    const ilheap_sig_type_t *inner; /* CMOD_*, PTR, BYREF, PINNED, SZARRAY, ARRAY: the type they apply to;
                                       GENERICINST: the generic type (a CLASS or VALUETYPE node) */
    union {
        uint32_t token;  /* VALUETYPE, CLASS, CMOD_REQD, CMOD_OPT: a TypeDef, TypeRef or TypeSpec token */
        uint32_t number; /* VAR, MVAR: the generic parameter's index */
        struct {
            uint32_t count;                        /* at least 1 */
            const ilheap_sig_type_t *const *args;  /* GENERICINST: the type arguments */
        } generic;
        struct {
            uint32_t rank, size_count, bound_count;
            const uint32_t *sizes;                 /* ARRAY: size_count sizes, */
            const int32_t *lower_bounds;           /* and bound_count lower bounds */
        } array;
        const ilheap_sig_t *method;                /* FNPTR: the method signature (METHOD_REF) */
        struct {
            uint64_t handle;                       /* INTERNAL, CMOD_INTERNAL: the TypeHandle, */
            uint8_t pointer_size;                  /* of 4 or 8 bytes */
            bool required;                         /* CMOD_INTERNAL: a required modifier */
        } internal;
    } u;
};

/* How a value of a parameter's type is handled on the stack, as far as the
 * signature says. Whether a value type is by-ref-like (Span<T>, a ref
 * struct: never boxed, never a field of a class) is NOT knowable from a
 * signature: it is the IsByRefLikeAttribute on the type's definition,
 * possibly in another assembly; a generic parameter may be instantiated
 * over one too (C# `allows ref struct`). Look it up before boxing. */
typedef enum ilheap_sig_value_kind {
    ILHEAP_SIG_VALUE_VOID = 0,    /* a void return */
    ILHEAP_SIG_VALUE_REFERENCE,   /* an object reference: CLASS, STRING, OBJECT, SZARRAY, ARRAY, GENERICINST
                                     of a CLASS: no box */
    ILHEAP_SIG_VALUE_VALUETYPE,   /* a value type: the primitives, I, U, VALUETYPE, GENERICINST of a
                                     VALUETYPE: box or ldobj with its type */
    ILHEAP_SIG_VALUE_GENERIC,     /* VAR or MVAR: box with its type (a no-op for references) */
    ILHEAP_SIG_VALUE_POINTER,     /* PTR, FNPTR: an unmanaged pointer (box as native int) */
    ILHEAP_SIG_VALUE_TYPEDBYREF,  /* TypedReference: never boxed */
    ILHEAP_SIG_VALUE_UNKNOWN,     /* INTERNAL: a runtime TypeHandle */
} ilheap_sig_value_kind_t;

/* A parameter, return type, local, field type or type argument, summed up
 * for code that loads it. `type` is the whole tree; the rest is derived
 * from it (ilheap_sig_describe) and ignored by the encoder. */
typedef struct ilheap_sig_param {
    const ilheap_sig_type_t *type;  /* all of it: modifiers, PINNED and BYREF included */
    const ilheap_sig_type_t *value; /* the type of the value: past modifiers, PINNED, BYREF and the
                                       modifiers after BYREF */
    uint8_t element;                /* value->element */
    ilheap_sig_value_kind_t kind;   /* of the value */
    bool byref;                     /* BYREF: ref, out, in, ref readonly, a ref return */
    bool pinned;                    /* PINNED (locals) */
    bool vararg;                    /* after the SENTINEL of a vararg call site */
    uint32_t token;                 /* VALUETYPE, CLASS: its token (box, ldobj and stobj take a VALUETYPE's
                                       as is); GENERICINST: its generic type's token; else 0 */
    uint32_t offset, size;          /* the value's bytes in the blob: the TypeSpec signature that box,
                                       ldobj and stobj need for a GENERICINST, VAR or MVAR (0, 0 when
                                       built by hand). A primitive's box takes the TypeRef of its
                                       System type (ilheap_sig_element_name). */
} ilheap_sig_param_t;

/* A decoded signature. What `ret` and `params` hold depends on the kind:
 *   METHOD_DEF, METHOD_REF: ret the return type, params the parameters
 *   PROPERTY: ret the property's type, params the indexer's parameters
 *   FIELD, TYPESPEC: ret the type, no params
 *   LOCALS: params the locals
 *   METHODSPEC: params the type arguments */
struct ilheap_sig {
    ilheap_sig_kind_t kind;
    uint8_t header;                  /* the first byte: ILHEAP_SIG_CC_* | flags; TYPESPEC: 0 */
    uint32_t generic_count;          /* with ILHEAP_SIG_GENERIC: the generic parameter count */
    uint32_t count;                  /* params */
    bool has_sentinel;               /* METHOD_REF: a SENTINEL before params[sentinel] */
    uint32_t sentinel;
    bool canonical;                  /* every compressed integer in its shortest form (and a
                                        CMOD_INTERNAL's flag 0 or 1): encoding gives the blob back.
                                        Of the whole blob: set on the signature decoded, not on an
                                        FNPTR's */
    ilheap_sig_param_t ret;
    const ilheap_sig_param_t *params;
    const uint8_t *blob;             /* the bytes decoded (offsets are into them) */
    size_t size;
};

/* Memory for the tree: [base, base + size), `used` bytes handed out (set
 * it to 0 to reuse the memory; the trees decoded into it are then gone). */
typedef struct ilheap_sig_arena {
    void *base;
    size_t size;
    size_t used;
} ilheap_sig_arena_t;

/* What went wrong and where (the byte offset in the blob). */
typedef struct ilheap_sig_error {
    ilheap_status_t status;
    size_t offset;
    char message[160];
} ilheap_sig_error_t;

/* Enough arena for any blob of blob_size bytes (every element takes a byte:
 * the tree is linear in the blob). SIZE_MAX when that overflows. */
ILHEAP_API size_t ilheap_sig_memory_bound(size_t blob_size);

/* Decodes blob[0..size) as `kind` into *out, the tree in the arena. Fails
 * with ILHEAP_SIG_TRUNCATED, _BAD_ELEMENT, _TOO_DEEP, _BAD_COUNT, _BAD_TOKEN,
 * _TRAILING (bytes after the signature) or _NO_ROOM (arena too small: the
 * arena's `used` is restored); *error (may be NULL) says where. `flags`: 0 or
 * an ILHEAP_SIG_INTERNAL_* flag. */
ILHEAP_API ilheap_status_t ilheap_sig_decode(ilheap_sig_kind_t kind, const uint8_t *blob, size_t size,
                                             unsigned flags, ilheap_sig_arena_t *arena, ilheap_sig_t *out,
                                             ilheap_sig_error_t *error);

/* Encodes a signature (decoded, or built by hand: kind, header,
 * generic_count, count, has_sentinel, sentinel, ret.type, params[i].type)
 * into out[0..capacity). *size gets the bytes it takes, also when they do
 * not fit (ILHEAP_SIG_NO_ROOM: then nothing past capacity is written; out may
 * be NULL with capacity 0 to measure). A tree that is not a signature (an
 * unknown element, a NULL child, a token of another table, a count of 0
 * where 1 is the least, depth past ILHEAP_SIG_MAX_DEPTH) fails with
 * ILHEAP_SIG_BAD_TREE; the error's offset is where in the output it was. */
ILHEAP_API ilheap_status_t ilheap_sig_encode(const ilheap_sig_t *sig, uint8_t *out, size_t capacity,
                                             size_t *size, ilheap_sig_error_t *error);

/* One type alone (a TypeSpec blob, or a local's bytes for a LocalVarSig). */
ILHEAP_API ilheap_status_t ilheap_sig_encode_type(const ilheap_sig_type_t *type, uint8_t *out, size_t capacity,
                                                  size_t *size, ilheap_sig_error_t *error);

/* Fills the derived fields of *out from `type` (out->type = type, vararg
 * false). For trees built by hand. */
ILHEAP_API void ilheap_sig_describe(const ilheap_sig_type_t *type, ilheap_sig_param_t *out);

/* "Int32" for ILHEAP_ET_I4, and so on: the System type of a primitive
 * element (Void, Boolean, Char, SByte .. Double, String, IntPtr, UIntPtr,
 * Object, TypedReference); NULL for the others. */
ILHEAP_API const char *ilheap_sig_element_name(uint8_t element);

/* II.23.2 compressed integers, for programs that build or read blobs: the
 * bytes used (1, 2 or 4), or 0 (malformed, cut short; for writing: out of
 * range, unsigned up to 0x1FFFFFFF, signed -2^28 .. 2^28-1). */
ILHEAP_API size_t ilheap_sig_read_compressed(const uint8_t *p, size_t avail, uint32_t *value);
ILHEAP_API size_t ilheap_sig_write_compressed(uint32_t value, uint8_t out[4]);
ILHEAP_API size_t ilheap_sig_read_compressed_signed(const uint8_t *p, size_t avail, int32_t *value);
ILHEAP_API size_t ilheap_sig_write_compressed_signed(int32_t value, uint8_t out[4]);

/* II.23.2.8 TypeDefOrRefOrSpecEncoded: coded (rid << 2 | tag) <-> token
 * (0x02 TypeDef, 0x01 TypeRef, 0x1B TypeSpec). False for tag 3, rid 0, or
 * another table. */
ILHEAP_API bool ilheap_sig_decode_type_token(uint32_t coded, uint32_t *token);
ILHEAP_API bool ilheap_sig_encode_type_token(uint32_t token, uint32_t *coded);

#ifdef __cplusplus
}
#endif

#endif /* ILHEAP_SIG_H */
