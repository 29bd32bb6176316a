/* The signature codec (include/ilheap/sig.h) on hand-made blobs: every
 * element type and signature kind decodes to the tree and the summary it
 * should and encodes back to the same bytes; every failure (cut short, bad
 * element, nesting too deep, counts past the bytes left, bad tokens,
 * trailing bytes, no room, trees that are not signatures) has its status
 * and offset. */
#include "ilheap/sig.h"
#include "sig_check.h"
#include "test.h"

#include <dirent.h>

#define TYPEREF(rid) ((rid) << 2 | 1) /* TypeDefOrRefOrSpecEncoded */
#define TYPEDEF(rid) ((rid) << 2)
#define TYPESPEC(rid) ((rid) << 2 | 2)

static uint8_t memory[1 << 20];
static ilheap_sig_arena_t arena;
static ilheap_sig_error_t err;

/* Decodes bytes as kind (the arena reset first), checks that every strict
 * prefix fails as cut short and that it encodes back to the same bytes. */
static ilheap_sig_t decode_ok_flags(ilheap_sig_kind_t kind, const uint8_t *bytes, size_t n, unsigned flags)
{
    ilheap_sig_t sig;
    for (size_t cut = 0; cut < n; cut++) {
        arena = (ilheap_sig_arena_t){memory, sizeof memory, 0};
        ilheap_status_t st = ilheap_sig_decode(kind, bytes, cut, flags, &arena, &sig, &err);
        if (st != ILHEAP_SIG_TRUNCATED && st != ILHEAP_SIG_BAD_COUNT)
            TEST_FAIL_("prefix of %zu of %zu bytes: %s", cut, n, ilheap_status_name(st));
        ASSERT_LE_U(err.offset, cut);
        ASSERT_EQ_U(arena.used, 0);
    }
    arena = (ilheap_sig_arena_t){memory, sizeof memory, 0};
    if (ilheap_sig_decode(kind, bytes, n, flags, &arena, &sig, &err) != ILHEAP_OK)
        TEST_FAIL_("decode: %s", err.message);
    ASSERT_TRUE(sig.canonical);
    ASSERT_LE_U(arena.used, ilheap_sig_memory_bound(n));
    uint8_t out[4096];
    size_t size = 0;
    if (ilheap_sig_encode(&sig, out, sizeof out, &size, &err) != ILHEAP_OK)
        TEST_FAIL_("encode: %s", err.message);
    ASSERT_EQ_U(size, n);
    ASSERT_MEM_EQ(out, bytes, n);
    return sig;
}

#define DECODE_OK(kind, ...)                                                                     \
    decode_ok_flags(kind, (const uint8_t[]){__VA_ARGS__}, sizeof((const uint8_t[]){__VA_ARGS__}), 0)

/* Decoding fails with `status` at byte `offset`, leaving the arena as it was. */
static void decode_fails(ilheap_sig_kind_t kind, const uint8_t *bytes, size_t n, unsigned flags,
                         ilheap_status_t status, size_t offset)
{
    arena = (ilheap_sig_arena_t){memory, sizeof memory, 0};
    ilheap_sig_t sig;
    ilheap_status_t st = ilheap_sig_decode(kind, bytes, n, flags, &arena, &sig, &err);
    if (st != status || err.offset != offset)
        TEST_FAIL_("expected %s at %zu, got %s at %zu (%s)", ilheap_status_name(status), offset,
                   ilheap_status_name(st), err.offset, st != ILHEAP_OK ? err.message : "");
    ASSERT_EQ_U(err.status, status);
    ASSERT_EQ_U(arena.used, 0);
    ASSERT_EQ_U(sig.count, 0);
}

#define DECODE_FAILS(kind, status, offset, ...)                                                              \
    decode_fails(kind, (const uint8_t[]){__VA_ARGS__}, sizeof((const uint8_t[]){__VA_ARGS__}), 0, status, \
                 offset)

static void test_method_def(void)
{
    /* instance void M(int32, string) */
    ilheap_sig_t s = DECODE_OK(ILHEAP_SIG_METHOD_DEF, 0x20, 0x02, 0x01, 0x08, 0x0E);
    ASSERT_EQ_U(s.kind, ILHEAP_SIG_METHOD_DEF);
    ASSERT_EQ_X(s.header, ILHEAP_SIG_HASTHIS);
    ASSERT_EQ_U(s.count, 2);
    ASSERT_EQ_U(s.ret.kind, ILHEAP_SIG_VALUE_VOID);
    ASSERT_EQ_U(s.ret.element, ILHEAP_ET_VOID);
    ASSERT_EQ_U(s.params[0].element, ILHEAP_ET_I4);
    ASSERT_EQ_U(s.params[0].kind, ILHEAP_SIG_VALUE_VALUETYPE);
    ASSERT_FALSE(s.params[0].byref);
    ASSERT_EQ_U(s.params[0].offset, 3);
    ASSERT_EQ_U(s.params[0].size, 1);
    ASSERT_EQ_U(s.params[1].kind, ILHEAP_SIG_VALUE_REFERENCE);
    ASSERT_FALSE(s.has_sentinel);
    /* static T M<T, U>(!!1, ref !0): generic method, MVAR and VAR */
    s = DECODE_OK(ILHEAP_SIG_METHOD_DEF, 0x10, 0x02, 0x02, 0x1E, 0x00, 0x1E, 0x01, 0x10, 0x13, 0x00);
    ASSERT_EQ_U(s.generic_count, 2);
    ASSERT_EQ_U(s.ret.kind, ILHEAP_SIG_VALUE_GENERIC);
    ASSERT_EQ_U(s.ret.value->u.number, 0);
    ASSERT_EQ_U(s.params[0].value->u.number, 1);
    ASSERT_TRUE(s.params[1].byref);
    ASSERT_EQ_U(s.params[1].element, ILHEAP_ET_VAR);
    ASSERT_EQ_U(s.params[1].offset, 8); /* the TypeSpec bytes of !0, for box */
    ASSERT_EQ_U(s.params[1].size, 2);
    /* explicit this: params[0] is this's type; every calling convention */
    s = DECODE_OK(ILHEAP_SIG_METHOD_DEF, 0x60, 0x01, 0x01, 0x12, TYPEDEF(2));
    ASSERT_EQ_U(s.params[0].token, 0x02000002);
    static const uint8_t conventions[] = {0, 1, 2, 3, 4, 5, 9, 0x0B};
    for (size_t i = 0; i < sizeof conventions; i++) {
        uint8_t b[] = {conventions[i], 0x00, 0x08};
        ASSERT_EQ_U(decode_ok_flags(ILHEAP_SIG_METHOD_DEF, b, 3, 0).header, conventions[i]);
    }
    /* ref readonly return: modreq(InAttribute) BYREF VALUETYPE */
    s = DECODE_OK(ILHEAP_SIG_METHOD_DEF, 0x00, 0x00, 0x1F, TYPEREF(7), 0x10, 0x11, TYPEREF(9));
    ASSERT_TRUE(s.ret.byref);
    ASSERT_EQ_U(s.ret.kind, ILHEAP_SIG_VALUE_VALUETYPE);
    ASSERT_EQ_U(s.ret.token, 0x01000009);
    ASSERT_EQ_U(s.ret.type->element, ILHEAP_ET_CMOD_REQD);
    ASSERT_EQ_U(s.ret.type->u.token, 0x01000007);
}

static void test_vararg_call_site(void)
{
    /* vararg int32 M(int32, ..., string, float64) */
    ilheap_sig_t s = DECODE_OK(ILHEAP_SIG_METHOD_REF, 0x05, 0x03, 0x08, 0x08, 0x41, 0x0E, 0x0D);
    ASSERT_TRUE(s.has_sentinel);
    ASSERT_EQ_U(s.sentinel, 1);
    ASSERT_EQ_U(s.count, 3);
    ASSERT_FALSE(s.params[0].vararg);
    ASSERT_TRUE(s.params[1].vararg && s.params[2].vararg);
    ASSERT_EQ_U(s.params[2].element, ILHEAP_ET_R8);
    /* SENTINEL: not in a definition, not twice, not after the last parameter */
    DECODE_FAILS(ILHEAP_SIG_METHOD_DEF, ILHEAP_SIG_BAD_ELEMENT, 3, 0x05, 0x01, 0x01, 0x41, 0x08);
    DECODE_FAILS(ILHEAP_SIG_METHOD_REF, ILHEAP_SIG_BAD_ELEMENT, 5, 0x05, 0x02, 0x01, 0x41, 0x08, 0x41, 0x08);
    DECODE_FAILS(ILHEAP_SIG_METHOD_REF, ILHEAP_SIG_TRAILING, 4, 0x05, 0x01, 0x01, 0x08, 0x41);
    DECODE_FAILS(ILHEAP_SIG_LOCALS, ILHEAP_SIG_BAD_ELEMENT, 2, 0x07, 0x01, 0x41, 0x08);
}

/* Every element with nothing after it, as a parameter, with its name. */
static void test_every_simple_element(void)
{
    static const uint8_t simple[] = {0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0A,
                                     0x0B, 0x0C, 0x0D, 0x0E, 0x16, 0x18, 0x19, 0x1C};
    uint8_t b[3 + sizeof simple] = {0x00, (uint8_t)sizeof simple, 0x01};
    memcpy(b + 3, simple, sizeof simple);
    ilheap_sig_t s = decode_ok_flags(ILHEAP_SIG_METHOD_REF, b, sizeof b, 0);
    for (size_t i = 0; i < sizeof simple; i++) {
        ASSERT_EQ_U(s.params[i].element, simple[i]);
        ASSERT_NOT_NULL(ilheap_sig_element_name(simple[i]));
        ilheap_sig_value_kind_t want = simple[i] == 0x0E || simple[i] == 0x1C ? ILHEAP_SIG_VALUE_REFERENCE
                                       : simple[i] == 0x16                    ? ILHEAP_SIG_VALUE_TYPEDBYREF
                                                                              : ILHEAP_SIG_VALUE_VALUETYPE;
        ASSERT_EQ_U(s.params[i].kind, want);
    }
    ASSERT_STR_EQ(ilheap_sig_element_name(ILHEAP_ET_I4), "Int32");
    ASSERT_STR_EQ(ilheap_sig_element_name(ILHEAP_ET_U), "UIntPtr");
    ASSERT_NULL(ilheap_sig_element_name(ILHEAP_ET_CLASS));
    ASSERT_NULL(ilheap_sig_element_name(0xFF));
}

static void test_classes_and_generics(void)
{
    /* VALUETYPE and CLASS with each table; 2-byte coded tokens; VAR 200 */
    ilheap_sig_t s = DECODE_OK(ILHEAP_SIG_METHOD_DEF, 0x00, 0x05, 0x01, 0x11, TYPEDEF(3), 0x12, TYPEREF(5), 0x12,
                               TYPESPEC(2), 0x12, 0x80 | (TYPEREF(300) >> 8), TYPEREF(300) & 0xFF, 0x13, 0x80, 200);
    ASSERT_EQ_U(s.count, 5);
    ASSERT_EQ_X(s.params[0].token, 0x02000003);
    ASSERT_EQ_U(s.params[0].kind, ILHEAP_SIG_VALUE_VALUETYPE);
    ASSERT_EQ_X(s.params[1].token, 0x01000005);
    ASSERT_EQ_U(s.params[1].kind, ILHEAP_SIG_VALUE_REFERENCE);
    ASSERT_EQ_X(s.params[2].token, 0x1B000002);
    ASSERT_EQ_X(s.params[3].token, 0x0100012C);
    ASSERT_EQ_U(s.params[4].value->u.number, 200);
    ASSERT_EQ_U(s.ret.kind, ILHEAP_SIG_VALUE_VOID);
    s = DECODE_OK(ILHEAP_SIG_TYPESPEC, 0x13, 0x80, 200);
    ASSERT_EQ_U(s.ret.value->u.number, 200);
    /* GENERICINST: List<int32> (a class), KeyValuePair<!0, string> (a value type) */
    s = DECODE_OK(ILHEAP_SIG_TYPESPEC, 0x15, 0x12, TYPEREF(4), 0x01, 0x08);
    ASSERT_EQ_U(s.ret.kind, ILHEAP_SIG_VALUE_REFERENCE);
    ASSERT_EQ_X(s.ret.token, 0x01000004);
    ASSERT_EQ_U(s.ret.value->u.generic.count, 1);
    ASSERT_EQ_U(s.ret.value->u.generic.args[0]->element, ILHEAP_ET_I4);
    s = DECODE_OK(ILHEAP_SIG_TYPESPEC, 0x15, 0x11, TYPEREF(6), 0x02, 0x13, 0x00, 0x0E);
    ASSERT_EQ_U(s.ret.kind, ILHEAP_SIG_VALUE_VALUETYPE);
    ASSERT_EQ_U(s.ret.value->inner->element, ILHEAP_ET_VALUETYPE);
    ASSERT_EQ_U(s.ret.value->u.generic.args[1]->element, ILHEAP_ET_STRING);
    ASSERT_EQ_U(s.ret.size, 7);
    /* MethodSpec: <int32, List<string>> */
    s = DECODE_OK(ILHEAP_SIG_METHODSPEC, 0x0A, 0x02, 0x08, 0x15, 0x12, TYPEREF(4), 0x01, 0x0E);
    ASSERT_EQ_U(s.kind, ILHEAP_SIG_METHODSPEC);
    ASSERT_EQ_U(s.count, 2);
    ASSERT_EQ_U(s.params[1].element, ILHEAP_ET_GENERICINST);
    ASSERT_EQ_U(s.params[1].offset, 3);
    ASSERT_EQ_U(s.params[1].size, 5);
    DECODE_FAILS(ILHEAP_SIG_METHODSPEC, ILHEAP_SIG_BAD_COUNT, 1, 0x0A, 0x00);
    DECODE_FAILS(ILHEAP_SIG_TYPESPEC, ILHEAP_SIG_BAD_COUNT, 3, 0x15, 0x12, TYPEREF(4), 0x00);
    DECODE_FAILS(ILHEAP_SIG_TYPESPEC, ILHEAP_SIG_BAD_ELEMENT, 1, 0x15, 0x08, TYPEREF(4), 0x01, 0x08);
}

static void test_pointers_arrays_fnptr(void)
{
    /* void*, int32**, int32[], string[][] */
    ilheap_sig_t s = DECODE_OK(ILHEAP_SIG_METHOD_REF, 0x00, 0x04, 0x01, 0x0F, 0x01, 0x0F, 0x0F, 0x08, 0x1D, 0x08,
                               0x1D, 0x1D, 0x0E);
    ASSERT_EQ_U(s.params[0].kind, ILHEAP_SIG_VALUE_POINTER);
    ASSERT_EQ_U(s.params[0].value->inner->element, ILHEAP_ET_VOID);
    ASSERT_EQ_U(s.params[1].value->inner->inner->element, ILHEAP_ET_I4);
    ASSERT_EQ_U(s.params[2].kind, ILHEAP_SIG_VALUE_REFERENCE);
    ASSERT_EQ_U(s.params[3].value->inner->element, ILHEAP_ET_SZARRAY);
    /* int32[5..., -3...]: ARRAY rank 2, sizes {5, 3}, lower bounds {0, -3}; then int32[,,] */
    s = DECODE_OK(ILHEAP_SIG_TYPESPEC, 0x14, 0x08, 0x02, 0x02, 0x05, 0x03, 0x02, 0x00, 0x7B);
    const ilheap_sig_type_t *a = s.ret.value;
    ASSERT_EQ_U(a->element, ILHEAP_ET_ARRAY);
    ASSERT_EQ_U(a->inner->element, ILHEAP_ET_I4);
    ASSERT_EQ_U(a->u.array.rank, 2);
    ASSERT_EQ_U(a->u.array.size_count, 2);
    ASSERT_EQ_U(a->u.array.sizes[1], 3);
    ASSERT_EQ_U(a->u.array.bound_count, 2);
    ASSERT_EQ_I(a->u.array.lower_bounds[1], -3);
    s = DECODE_OK(ILHEAP_SIG_TYPESPEC, 0x14, 0x08, 0x03, 0x00, 0x00);
    ASSERT_EQ_U(s.ret.value->u.array.rank, 3);
    /* large lower bounds: 14- and 29-bit forms, -8192 among them */
    s = DECODE_OK(ILHEAP_SIG_TYPESPEC, 0x14, 0x08, 0x01, 0x00, 0x02, 0x80, 0x01, 0xC0, 0x00, 0x00, 0x01);
    ASSERT_EQ_I(s.ret.value->u.array.lower_bounds[0], -8192);
    ASSERT_EQ_I(s.ret.value->u.array.lower_bounds[1], -268435456);
    /* method int32 *(string, ...) as an FNPTR parameter, inside a generic-free method */
    s = DECODE_OK(ILHEAP_SIG_METHOD_DEF, 0x00, 0x01, 0x01, 0x1B, 0x05, 0x02, 0x08, 0x0E, 0x41, 0x08);
    ASSERT_EQ_U(s.params[0].kind, ILHEAP_SIG_VALUE_POINTER);
    const ilheap_sig_t *f = s.params[0].value->u.method;
    ASSERT_EQ_U(f->kind, ILHEAP_SIG_METHOD_REF);
    ASSERT_EQ_U(f->header, ILHEAP_SIG_CC_VARARG);
    ASSERT_TRUE(f->has_sentinel);
    ASSERT_EQ_U(f->ret.element, ILHEAP_ET_I4);
    /* unmanaged function pointer: delegate* unmanaged<void> */
    DECODE_OK(ILHEAP_SIG_FIELD, 0x06, 0x1B, 0x09, 0x00, 0x01);
}

static void test_locals_fields_properties(void)
{
    /* locals: pinned ref int32, TypedReference, uint8[], pinned string */
    ilheap_sig_t s = DECODE_OK(ILHEAP_SIG_LOCALS, 0x07, 0x04, 0x45, 0x10, 0x08, 0x16, 0x1D, 0x05, 0x45, 0x0E);
    ASSERT_EQ_U(s.kind, ILHEAP_SIG_LOCALS);
    ASSERT_EQ_U(s.count, 4);
    ASSERT_TRUE(s.params[0].pinned && s.params[0].byref);
    ASSERT_EQ_U(s.params[0].element, ILHEAP_ET_I4);
    ASSERT_EQ_U(s.params[1].kind, ILHEAP_SIG_VALUE_TYPEDBYREF);
    ASSERT_TRUE(s.params[3].pinned && !s.params[3].byref);
    DECODE_FAILS(ILHEAP_SIG_METHOD_DEF, ILHEAP_SIG_BAD_ELEMENT, 3, 0x00, 0x01, 0x01, 0x45, 0x08);
    DECODE_FAILS(ILHEAP_SIG_LOCALS, ILHEAP_SIG_BAD_ELEMENT, 3, 0x07, 0x01, 0x10, 0x45, 0x08);
    /* field int32 modopt(IsVolatile); a ref field (ref structs) */
    s = DECODE_OK(ILHEAP_SIG_FIELD, 0x06, 0x20, TYPEREF(8), 0x08);
    ASSERT_EQ_U(s.kind, ILHEAP_SIG_FIELD);
    ASSERT_EQ_U(s.ret.element, ILHEAP_ET_I4);
    ASSERT_EQ_U(s.ret.type->element, ILHEAP_ET_CMOD_OPT);
    s = DECODE_OK(ILHEAP_SIG_FIELD, 0x06, 0x10, 0x08);
    ASSERT_TRUE(s.ret.byref);
    /* instance property string this[int32]; a static property */
    s = DECODE_OK(ILHEAP_SIG_PROPERTY, 0x28, 0x01, 0x0E, 0x08);
    ASSERT_EQ_U(s.kind, ILHEAP_SIG_PROPERTY);
    ASSERT_EQ_U(s.ret.element, ILHEAP_ET_STRING);
    ASSERT_EQ_U(s.params[0].element, ILHEAP_ET_I4);
    DECODE_OK(ILHEAP_SIG_PROPERTY, 0x08, 0x00, 0x10, 0x08);
    /* ILHEAP_SIG_ANY chooses by the first byte */
    ASSERT_EQ_U(DECODE_OK(ILHEAP_SIG_ANY, 0x06, 0x08).kind, ILHEAP_SIG_FIELD);
    ASSERT_EQ_U(DECODE_OK(ILHEAP_SIG_ANY, 0x07, 0x01, 0x08).kind, ILHEAP_SIG_LOCALS);
    ASSERT_EQ_U(DECODE_OK(ILHEAP_SIG_ANY, 0x28, 0x00, 0x08).kind, ILHEAP_SIG_PROPERTY);
    ASSERT_EQ_U(DECODE_OK(ILHEAP_SIG_ANY, 0x0A, 0x01, 0x08).kind, ILHEAP_SIG_METHODSPEC);
    ASSERT_EQ_U(DECODE_OK(ILHEAP_SIG_ANY, 0x20, 0x00, 0x01).kind, ILHEAP_SIG_METHOD_REF);
}

/* Any number of custom modifiers (a loop, not recursion), required and optional. */
static void test_many_modifiers(void)
{
    enum { MODS = 5000 };
    static uint8_t b[4 + 2 * MODS];
    size_t n = 0;
    b[n++] = 0x00;
    b[n++] = 0x01;
    b[n++] = 0x01;
    for (int i = 0; i < MODS; i++) {
        b[n++] = i % 2 ? 0x1F : 0x20;
        b[n++] = TYPEREF(1 + i % 31);
    }
    b[n++] = 0x08;
    arena = (ilheap_sig_arena_t){memory, sizeof memory, 0};
    ilheap_sig_t s;
    ASSERT_STATUS(ilheap_sig_decode(ILHEAP_SIG_METHOD_REF, b, n, 0, &arena, &s, &err), ILHEAP_OK);
    ASSERT_EQ_U(s.params[0].element, ILHEAP_ET_I4);
    ASSERT_EQ_U(s.params[0].type->size, n - 3);
    static uint8_t out[sizeof b];
    size_t size;
    ASSERT_STATUS(ilheap_sig_encode(&s, out, sizeof out, &size, &err), ILHEAP_OK);
    ASSERT_EQ_U(size, n);
    ASSERT_MEM_EQ(out, b, n);
}

/* INTERNAL and CMOD_INTERNAL, only with a pointer size. */
static void test_runtime_internal(void)
{
    static const uint8_t b64[] = {0x06, 0x22, 0x01, 1, 2, 3, 4, 5, 6, 7, 8, 0x21, 8, 7, 6, 5, 4, 3, 2, 1};
    ilheap_sig_t s = decode_ok_flags(ILHEAP_SIG_FIELD, b64, sizeof b64, ILHEAP_SIG_INTERNAL_PTR64);
    ASSERT_EQ_U(s.ret.type->element, ILHEAP_ET_CMOD_INTERNAL);
    ASSERT_TRUE(s.ret.type->u.internal.required);
    ASSERT_EQ_X(s.ret.type->u.internal.handle, 0x0807060504030201u);
    ASSERT_EQ_U(s.ret.element, ILHEAP_ET_INTERNAL);
    ASSERT_EQ_U(s.ret.kind, ILHEAP_SIG_VALUE_UNKNOWN);
    ASSERT_EQ_X(s.ret.value->u.internal.handle, 0x0102030405060708u);
    static const uint8_t b32[] = {0x06, 0x21, 4, 3, 2, 1};
    s = decode_ok_flags(ILHEAP_SIG_FIELD, b32, sizeof b32, ILHEAP_SIG_INTERNAL_PTR32);
    ASSERT_EQ_X(s.ret.value->u.internal.handle, 0x01020304u);
    decode_fails(ILHEAP_SIG_FIELD, b32, sizeof b32, 0, ILHEAP_SIG_BAD_ELEMENT, 1);
    decode_fails(ILHEAP_SIG_FIELD, b64, sizeof b64, 0, ILHEAP_SIG_BAD_ELEMENT, 1);
}

static void test_bad_elements_and_headers(void)
{
    /* every byte that is no type's first byte (VOID is not a field's type) */
    static const uint8_t starts[] = {0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0A, 0x0B, 0x0C, 0x0D,
                                     0x0E, 0x0F, 0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x18, 0x19, 0x1B,
                                     0x1C, 0x1D, 0x1E, 0x1F, 0x20};
    for (unsigned e = 0; e < 256; e++)
        if (memchr(starts, (int)e, sizeof starts) == NULL) {
            uint8_t b[] = {0x06, (uint8_t)e, 0x08};
            decode_fails(ILHEAP_SIG_FIELD, b, sizeof b, 0, ILHEAP_SIG_BAD_ELEMENT, 1);
        }
    DECODE_FAILS(ILHEAP_SIG_FIELD, ILHEAP_SIG_BAD_ELEMENT, 1, 0x06, 0x01);           /* void field */
    DECODE_FAILS(ILHEAP_SIG_METHOD_DEF, ILHEAP_SIG_BAD_ELEMENT, 3, 0x00, 0x01, 0x01, 0x01); /* void param */
    DECODE_FAILS(ILHEAP_SIG_METHOD_DEF, ILHEAP_SIG_BAD_ELEMENT, 3, 0x00, 0x00, 0x10, 0x01); /* ref void */
    DECODE_FAILS(ILHEAP_SIG_TYPESPEC, ILHEAP_SIG_BAD_ELEMENT, 1, 0x1D, 0x01);        /* void[] */
    DECODE_FAILS(ILHEAP_SIG_METHOD_DEF, ILHEAP_SIG_BAD_ELEMENT, 0, 0x06, 0x08);      /* a field as a method */
    DECODE_FAILS(ILHEAP_SIG_METHOD_DEF, ILHEAP_SIG_BAD_ELEMENT, 0, 0x0C, 0x00, 0x01);
    DECODE_FAILS(ILHEAP_SIG_METHOD_DEF, ILHEAP_SIG_BAD_ELEMENT, 0, 0x80, 0x00, 0x01);
    DECODE_FAILS(ILHEAP_SIG_FIELD, ILHEAP_SIG_BAD_ELEMENT, 0, 0x26, 0x08);
    DECODE_FAILS(ILHEAP_SIG_PROPERTY, ILHEAP_SIG_BAD_ELEMENT, 0, 0x38, 0x00, 0x08);
    DECODE_FAILS(ILHEAP_SIG_LOCALS, ILHEAP_SIG_BAD_ELEMENT, 0, 0x06, 0x00);
    DECODE_FAILS(ILHEAP_SIG_METHODSPEC, ILHEAP_SIG_BAD_ELEMENT, 0, 0x0B, 0x01, 0x08);
    /* a TypeSpec of an element that is only a chain link with nothing after it */
    DECODE_FAILS(ILHEAP_SIG_TYPESPEC, ILHEAP_SIG_TRUNCATED, 1, 0x0F);
    DECODE_FAILS(ILHEAP_SIG_TYPESPEC, ILHEAP_SIG_TRUNCATED, 0);
}

static void test_bad_tokens_and_counts(void)
{
    DECODE_FAILS(ILHEAP_SIG_TYPESPEC, ILHEAP_SIG_BAD_TOKEN, 1, 0x12, 0x07); /* tag 3 */
    DECODE_FAILS(ILHEAP_SIG_TYPESPEC, ILHEAP_SIG_BAD_TOKEN, 1, 0x11, 0x01); /* rid 0 */
    DECODE_FAILS(ILHEAP_SIG_TYPESPEC, ILHEAP_SIG_BAD_TOKEN, 1, 0x20, 0x03, 0x08);
    DECODE_FAILS(ILHEAP_SIG_TYPESPEC, ILHEAP_SIG_BAD_TOKEN, 1, 0x12, 0xC4, 0x00, 0x00, 0x01); /* rid 2^24 */
    /* counts past the bytes left, up to the largest compressed integer */
    DECODE_FAILS(ILHEAP_SIG_METHOD_DEF, ILHEAP_SIG_BAD_COUNT, 1, 0x00, 0xDF, 0xFF, 0xFF, 0xFF, 0x01);
    DECODE_FAILS(ILHEAP_SIG_LOCALS, ILHEAP_SIG_BAD_COUNT, 1, 0x07, 0x03, 0x08, 0x08);
    DECODE_FAILS(ILHEAP_SIG_TYPESPEC, ILHEAP_SIG_BAD_COUNT, 3, 0x15, 0x12, TYPEREF(1), 0xDF, 0xFF, 0xFF, 0xFF);
    DECODE_FAILS(ILHEAP_SIG_TYPESPEC, ILHEAP_SIG_BAD_COUNT, 3, 0x14, 0x08, 0x01, 0xC0, 0x10, 0x00, 0x00, 0x00);
    DECODE_FAILS(ILHEAP_SIG_TYPESPEC, ILHEAP_SIG_BAD_COUNT, 4, 0x14, 0x08, 0x01, 0x00, 0x9F, 0xFF);
    /* a compressed integer starting 111xxxxx is malformed */
    DECODE_FAILS(ILHEAP_SIG_METHOD_DEF, ILHEAP_SIG_BAD_COUNT, 1, 0x00, 0xE0, 0x00, 0x00, 0x00, 0x01);
    DECODE_FAILS(ILHEAP_SIG_TYPESPEC, ILHEAP_SIG_BAD_COUNT, 1, 0x13, 0xFF, 0xFF, 0xFF, 0xFF);
    DECODE_FAILS(ILHEAP_SIG_FIELD, ILHEAP_SIG_TRAILING, 2, 0x06, 0x08, 0x08);
    DECODE_FAILS(ILHEAP_SIG_TYPESPEC, ILHEAP_SIG_TRAILING, 2, 0x11, TYPEREF(1), 0x01);
}

/* A longer form than needed decodes, marked not canonical, and encodes short. */
static void test_non_canonical(void)
{
    static const uint8_t b[] = {0x00, 0x80, 0x01, 0x01, 0x11, 0xC0, 0x00, 0x00, TYPEDEF(3)};
    arena = (ilheap_sig_arena_t){memory, sizeof memory, 0};
    ilheap_sig_t s;
    ASSERT_STATUS(ilheap_sig_decode(ILHEAP_SIG_METHOD_DEF, b, sizeof b, 0, &arena, &s, &err), ILHEAP_OK);
    ASSERT_FALSE(s.canonical);
    ASSERT_EQ_X(s.params[0].token, 0x02000003);
    uint8_t out[16];
    size_t size;
    ASSERT_STATUS(ilheap_sig_encode(&s, out, sizeof out, &size, &err), ILHEAP_OK);
    static const uint8_t shortest[] = {0x00, 0x01, 0x01, 0x11, TYPEDEF(3)};
    ASSERT_EQ_U(size, sizeof shortest);
    ASSERT_MEM_EQ(out, shortest, sizeof shortest);
}

/* n GENERICINSTs nested: List<List<...<int32>>> */
static size_t nested_generics(uint8_t *b, unsigned n)
{
    size_t k = 0;
    for (unsigned i = 0; i < n; i++) {
        b[k++] = 0x15;
        b[k++] = 0x12;
        b[k++] = TYPEREF(1);
        b[k++] = 0x01;
    }
    b[k++] = 0x08;
    return k;
}

static void test_depth(void)
{
    static uint8_t b[4 * (ILHEAP_SIG_MAX_DEPTH + 2)];
    size_t n = nested_generics(b, ILHEAP_SIG_MAX_DEPTH);
    decode_ok_flags(ILHEAP_SIG_TYPESPEC, b, n, 0);
    n = nested_generics(b, ILHEAP_SIG_MAX_DEPTH + 1);
    decode_fails(ILHEAP_SIG_TYPESPEC, b, n, 0, ILHEAP_SIG_TOO_DEEP, 4 * ILHEAP_SIG_MAX_DEPTH);
    /* FNPTR returning FNPTR ..., and arrays of arrays, count too */
    size_t k = 0;
    for (unsigned i = 0; i <= ILHEAP_SIG_MAX_DEPTH; i++) {
        b[k++] = 0x1B;
        b[k++] = 0x00;
        b[k++] = 0x00;
    }
    b[k++] = 0x08;
    decode_fails(ILHEAP_SIG_TYPESPEC, b, k, 0, ILHEAP_SIG_TOO_DEEP, 3 * ILHEAP_SIG_MAX_DEPTH);
    k = 0;
    for (unsigned i = 0; i <= ILHEAP_SIG_MAX_DEPTH; i++)
        b[k++] = 0x14;
    b[k++] = 0x08;
    decode_fails(ILHEAP_SIG_TYPESPEC, b, k, 0, ILHEAP_SIG_TOO_DEEP, ILHEAP_SIG_MAX_DEPTH);
}

/* Too little arena: NO_ROOM with the arena untouched, at every size up to
 * what the signature needs; the bound is enough. */
static void test_no_room(void)
{
    static const uint8_t b[] = {0x30, 0x01, 0x02, 0x15, 0x12, TYPEREF(4), 0x02, 0x1E, 0x00, 0x1D, 0x08,
                                0x1B, 0x00, 0x01, 0x01, 0x14, 0x08, 0x02, 0x01, 0x02, 0x01, 0x7E, 0x0E};
    arena = (ilheap_sig_arena_t){memory, sizeof memory, 0};
    ilheap_sig_t s;
    ASSERT_STATUS(ilheap_sig_decode(ILHEAP_SIG_METHOD_DEF, b, sizeof b, 0, &arena, &s, &err), ILHEAP_OK);
    size_t need = arena.used;
    ASSERT_LE_U(need, ilheap_sig_memory_bound(sizeof b));
    for (size_t room = 0; room < need; room++) {
        arena = (ilheap_sig_arena_t){memory, room, 0};
        ASSERT_STATUS(ilheap_sig_decode(ILHEAP_SIG_METHOD_DEF, b, sizeof b, 0, &arena, &s, &err), ILHEAP_SIG_NO_ROOM);
        ASSERT_EQ_U(arena.used, 0);
    }
    /* an arena already partly used, and a base that is not aligned */
    arena = (ilheap_sig_arena_t){memory + 1, need + 8, 0};
    ASSERT_STATUS(ilheap_sig_decode(ILHEAP_SIG_METHOD_DEF, b, sizeof b, 0, &arena, &s, &err), ILHEAP_OK);
    ASSERT_EQ_U((uintptr_t)s.params % 8, 0);
    arena.used = arena.size - 1;
    ASSERT_STATUS(ilheap_sig_decode(ILHEAP_SIG_METHOD_DEF, b, sizeof b, 0, &arena, &s, &err), ILHEAP_SIG_NO_ROOM);
    ASSERT_EQ_U(arena.used, arena.size - 1);
    ASSERT_EQ_U(ilheap_sig_memory_bound(SIZE_MAX), SIZE_MAX);
    /* encoding: measure, then too small by one (nothing written past it) */
    arena = (ilheap_sig_arena_t){memory, sizeof memory, 0};
    ASSERT_STATUS(ilheap_sig_decode(ILHEAP_SIG_METHOD_DEF, b, sizeof b, 0, &arena, &s, &err), ILHEAP_OK);
    size_t size = 0;
    ASSERT_STATUS(ilheap_sig_encode(&s, NULL, 0, &size, &err), ILHEAP_SIG_NO_ROOM);
    ASSERT_EQ_U(size, sizeof b);
    uint8_t out[sizeof b + 1];
    memset(out, 0xAA, sizeof out);
    ASSERT_STATUS(ilheap_sig_encode(&s, out, sizeof b - 1, &size, &err), ILHEAP_SIG_NO_ROOM);
    ASSERT_EQ_U(size, sizeof b);
    ASSERT_EQ_U(out[sizeof b - 1], 0xAA);
    ASSERT_MEM_EQ(out, b, sizeof b - 1);
}

/* Trees built by hand: what the encoder writes, and what it refuses. */
static void test_encode_built_trees(void)
{
    ilheap_sig_type_t i4 = {.element = ILHEAP_ET_I4}, str = {.element = ILHEAP_ET_STRING};
    ilheap_sig_type_t byref = {.element = ILHEAP_ET_BYREF, .inner = &i4};
    ilheap_sig_type_t list = {.element = ILHEAP_ET_CLASS, .u.token = 0x01000004};
    const ilheap_sig_type_t *args[] = {&str};
    ilheap_sig_type_t inst = {.element = ILHEAP_ET_GENERICINST, .inner = &list, .u.generic = {1, args}};
    ilheap_sig_param_t params[2];
    ilheap_sig_describe(&byref, &params[0]);
    ilheap_sig_describe(&inst, &params[1]);
    ASSERT_TRUE(params[0].byref);
    ASSERT_EQ_U(params[1].token, 0x01000004);
    ilheap_sig_t sig = {.kind = ILHEAP_SIG_METHOD_DEF, .header = ILHEAP_SIG_HASTHIS, .count = 2, .params = params};
    ilheap_sig_describe(&str, &sig.ret);
    uint8_t out[32];
    size_t size;
    ASSERT_STATUS(ilheap_sig_encode(&sig, out, sizeof out, &size, &err), ILHEAP_OK);
    static const uint8_t want[] = {0x20, 0x02, 0x0E, 0x10, 0x08, 0x15, 0x12, TYPEREF(4), 0x01, 0x0E};
    ASSERT_EQ_U(size, sizeof want);
    ASSERT_MEM_EQ(out, want, sizeof want);
    ASSERT_STATUS(ilheap_sig_encode_type(&inst, out, sizeof out, &size, &err), ILHEAP_OK);
    ASSERT_EQ_U(size, 5);
    /* refused: NULL child, unknown element, token of another table, no
     * arguments, a loop, SENTINEL in a definition, a bad header, void
     * parameter, PINNED outside locals, depth */
    ilheap_sig_type_t hole = {.element = ILHEAP_ET_PTR}, odd = {.element = 0x17};
    ilheap_sig_type_t method = {.element = ILHEAP_ET_CLASS, .u.token = 0x06000001};
    ilheap_sig_type_t empty = {.element = ILHEAP_ET_GENERICINST, .inner = &list};
    ilheap_sig_type_t loop_a = {.element = ILHEAP_ET_PTR}, loop_b = {.element = ILHEAP_ET_CMOD_OPT, .u.token = 0x01000001};
    loop_a.inner = &loop_b;
    loop_b.inner = &loop_a;
    ilheap_sig_type_t pinned = {.element = ILHEAP_ET_PINNED, .inner = &i4}, v = {.element = ILHEAP_ET_VOID};
    const ilheap_sig_type_t *bad[] = {&hole, &odd, &method, &empty, &loop_a, &pinned, &v, NULL};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ASSERT_STATUS(ilheap_sig_encode_type(bad[i], out, sizeof out, &size, &err), ILHEAP_SIG_BAD_TREE);
        ASSERT_EQ_U(err.status, ILHEAP_SIG_BAD_TREE);
    }
    sig.has_sentinel = true;
    ASSERT_STATUS(ilheap_sig_encode(&sig, out, sizeof out, &size, &err), ILHEAP_SIG_BAD_TREE);
    sig.kind = ILHEAP_SIG_METHOD_REF;
    sig.sentinel = 1;
    ASSERT_STATUS(ilheap_sig_encode(&sig, out, sizeof out, &size, &err), ILHEAP_OK);
    ASSERT_EQ_U(out[5], ILHEAP_ET_SENTINEL);
    sig.sentinel = 2;
    ASSERT_STATUS(ilheap_sig_encode(&sig, out, sizeof out, &size, &err), ILHEAP_SIG_BAD_TREE);
    sig.has_sentinel = false;
    sig.header = 0x07;
    ASSERT_STATUS(ilheap_sig_encode(&sig, out, sizeof out, &size, &err), ILHEAP_SIG_BAD_TREE);
    sig.header = 0;
    sig.params = NULL;
    ASSERT_STATUS(ilheap_sig_encode(&sig, out, sizeof out, &size, &err), ILHEAP_SIG_BAD_TREE);
    /* nesting past the bound */
    static ilheap_sig_type_t chain[ILHEAP_SIG_MAX_DEPTH + 1];
    static const ilheap_sig_type_t *chain_args[ILHEAP_SIG_MAX_DEPTH + 1];
    for (unsigned i = 0; i <= ILHEAP_SIG_MAX_DEPTH; i++) {
        chain_args[i] = i == ILHEAP_SIG_MAX_DEPTH ? &i4 : &chain[i + 1];
        chain[i] = (ilheap_sig_type_t){.element = ILHEAP_ET_GENERICINST, .inner = &list,
                                       .u.generic = {1, &chain_args[i]}};
    }
    ASSERT_STATUS(ilheap_sig_encode_type(&chain[0], out, sizeof out, &size, &err), ILHEAP_SIG_BAD_TREE);
    ASSERT_STATUS(ilheap_sig_encode_type(&chain[1], NULL, 0, &size, &err), ILHEAP_SIG_NO_ROOM);
    ASSERT_EQ_U(size, 4 * ILHEAP_SIG_MAX_DEPTH + 1);
    ASSERT_STATUS(ilheap_sig_encode(NULL, out, sizeof out, &size, &err), ILHEAP_EINVAL);
}

static void test_bad_arguments(void)
{
    static const uint8_t b[] = {0x06, 0x08};
    ilheap_sig_t s;
    arena = (ilheap_sig_arena_t){memory, sizeof memory, 0};
    ASSERT_STATUS(ilheap_sig_decode(ILHEAP_SIG_FIELD, b, 2, 0, NULL, &s, &err), ILHEAP_EINVAL);
    ASSERT_STATUS(ilheap_sig_decode(ILHEAP_SIG_FIELD, b, 2, 0, &arena, NULL, &err), ILHEAP_EINVAL);
    ASSERT_STATUS(ilheap_sig_decode(ILHEAP_SIG_FIELD, NULL, 2, 0, &arena, &s, &err), ILHEAP_EINVAL);
    ASSERT_STATUS(ilheap_sig_decode((ilheap_sig_kind_t)99, b, 2, 0, &arena, &s, &err), ILHEAP_EINVAL);
    ASSERT_STATUS(ilheap_sig_decode(ILHEAP_SIG_FIELD, b, (size_t)1 << 29, 0, &arena, &s, &err), ILHEAP_EINVAL);
    arena.used = arena.size + 1;
    ASSERT_STATUS(ilheap_sig_decode(ILHEAP_SIG_FIELD, b, 2, 0, &arena, &s, &err), ILHEAP_EINVAL);
}

/* The public compressed-integer and token functions (cursor.h's, tested in
 * test_pe_encoding) refuse NULL. */
static void test_public_encodings(void)
{
    uint8_t out[4];
    uint32_t u;
    int32_t i;
    ASSERT_EQ_U(ilheap_sig_write_compressed(0x2E57, out), 2);
    ASSERT_EQ_U(ilheap_sig_read_compressed(out, 2, &u), 2);
    ASSERT_EQ_U(u, 0x2E57);
    ASSERT_EQ_U(ilheap_sig_write_compressed_signed(-8192, out), 2);
    ASSERT_EQ_U(ilheap_sig_read_compressed_signed(out, 2, &i), 2);
    ASSERT_EQ_I(i, -8192);
    ASSERT_EQ_U(ilheap_sig_read_compressed(NULL, 2, &u), 0);
    ASSERT_EQ_U(ilheap_sig_write_compressed(1, NULL), 0);
    ASSERT_TRUE(ilheap_sig_encode_type_token(0x1B000002, &u));
    ASSERT_EQ_U(u, TYPESPEC(2));
    ASSERT_TRUE(ilheap_sig_decode_type_token(u, &u));
    ASSERT_EQ_X(u, 0x1B000002);
    ASSERT_FALSE(ilheap_sig_decode_type_token(3, NULL));
}

/* The fuzzer's seeds (tests/corpus/sig: seed-* from make_sig_corpus, which
 * decode; crash-* found by fuzzing) hold its contract, and so does each
 * with every byte replaced by a few values (sig_check.h). */
static void test_corpus_and_mutations(void)
{
    DIR *d = opendir(ILHEAP_SIG_CORPUS);
    if (d == NULL)
        TEST_FAIL_("cannot open %s", ILHEAP_SIG_CORPUS);
    size_t seeds = 0, decoded = 0, mutants = 0, mutants_decoded = 0;
    char why[128], path[1024];
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        snprintf(path, sizeof path, "%s/%s", ILHEAP_SIG_CORPUS, e->d_name);
        uint8_t b[4096];
        FILE *f = fopen(path, "rb");
        ASSERT_NOT_NULL(f);
        size_t n = fread(b, 1, sizeof b, f);
        fclose(f);
        int rc = sig_check_bytes(b, n, why, sizeof why);
        if (rc < 0)
            TEST_FAIL_("%s: %s", e->d_name, why);
        bool seed = strncmp(e->d_name, "seed-", 5) == 0;
        seeds += seed;
        decoded += seed && rc == 1;
        static const uint8_t values[] = {0x00, 0x41, 0x7F, 0xC0, 0xFF};
        for (size_t i = 1; i < n; i++)
            for (size_t v = 0; v < sizeof values; v++) {
                uint8_t keep = b[i];
                b[i] = values[v];
                if ((rc = sig_check_bytes(b, n, why, sizeof why)) < 0)
                    TEST_FAIL_("%s with byte %zu = %#x: %s", e->d_name, i, values[v], why);
                b[i] = keep;
                mutants++;
                mutants_decoded += (size_t)rc;
            }
    }
    closedir(d);
    fprintf(stderr, "  %zu seeds (%zu decode), %zu mutants (%zu decode)\n", seeds, decoded, mutants,
            mutants_decoded);
    ASSERT_GT_U(seeds, 20);
    ASSERT_EQ_U(decoded, seeds);
    ASSERT_GT_U(mutants_decoded, 0);
    ASSERT_LT_U(mutants_decoded, mutants);
}

TEST_MAIN(TEST(test_method_def), TEST(test_vararg_call_site), TEST(test_every_simple_element),
          TEST(test_classes_and_generics), TEST(test_pointers_arrays_fnptr), TEST(test_locals_fields_properties),
          TEST(test_many_modifiers), TEST(test_runtime_internal), TEST(test_bad_elements_and_headers),
          TEST(test_bad_tokens_and_counts), TEST(test_non_canonical), TEST(test_depth), TEST(test_no_room),
          TEST(test_encode_built_trees), TEST(test_bad_arguments), TEST(test_public_encodings),
          TEST(test_corpus_and_mutations))
