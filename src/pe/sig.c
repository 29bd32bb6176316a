/* The signature layer's shared rules and small public pieces: the first
 * byte of each kind, the summary of a parameter, primitive names, the
 * arena bound, and the public face of the compressed integers and coded
 * tokens (owned by cursor.h). The decoder and encoder are sig_decode.c and
 * sig_encode.c.
 */
#include "pe/cursor.h"
#include "pe/sig_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

ilheap_status_t ilheap__sig_fail(ilheap_sig_error_t *error, ilheap_status_t status, size_t offset,
                                 const char *format, ...)
{
    if (error != NULL) {
        error->status = status;
        error->offset = offset;
    }
    char where[48];
    snprintf(where, sizeof where, " at signature byte %zu", offset);
    va_list args;
    va_start(args, format);
    ilheap__vfail_into(error != NULL ? error->message : NULL, sizeof error->message, status, false, where, format,
                       args);
    va_end(args);
    return status;
}

ilheap_sig_kind_t ilheap__sig_kind_of(uint8_t header)
{
    switch (header & ILHEAP_SIG_CC_MASK) {
    case ILHEAP_SIG_CC_FIELD:
        return ILHEAP_SIG_FIELD;
    case ILHEAP_SIG_CC_LOCAL_SIG:
        return ILHEAP_SIG_LOCALS;
    case ILHEAP_SIG_CC_PROPERTY:
        return ILHEAP_SIG_PROPERTY;
    case ILHEAP_SIG_CC_GENERICINST:
        return ILHEAP_SIG_METHODSPEC;
    default:
        return ILHEAP_SIG_METHOD_REF;
    }
}

/* II.23.2.1-6, .14, .15: the calling convention names the kind; methods
 * take the flags GENERIC, HASTHIS, EXPLICITTHIS, properties HASTHIS; the
 * others none. Bit 0x80 has no meaning anywhere. */
bool ilheap__sig_header_ok(ilheap_sig_kind_t kind, uint8_t header)
{
    unsigned cc = header & ILHEAP_SIG_CC_MASK, flags = header & 0xF0u;
    switch (kind) {
    case ILHEAP_SIG_METHOD_DEF:
    case ILHEAP_SIG_METHOD_REF:
        return (cc <= ILHEAP_SIG_CC_VARARG || cc == ILHEAP_SIG_CC_UNMANAGED || cc == ILHEAP_SIG_CC_NATIVEVARARG) &&
               (flags & 0x80) == 0;
    case ILHEAP_SIG_PROPERTY:
        return cc == ILHEAP_SIG_CC_PROPERTY && (flags & ~(unsigned)ILHEAP_SIG_HASTHIS) == 0;
    case ILHEAP_SIG_FIELD:
        return header == ILHEAP_SIG_CC_FIELD;
    case ILHEAP_SIG_LOCALS:
        return header == ILHEAP_SIG_CC_LOCAL_SIG;
    case ILHEAP_SIG_METHODSPEC:
        return header == ILHEAP_SIG_CC_GENERICINST;
    default:
        return false;
    }
}

bool ilheap__sig_is_simple(uint8_t e)
{
    return (e >= ILHEAP_ET_VOID && e <= ILHEAP_ET_STRING) || e == ILHEAP_ET_TYPEDBYREF || e == ILHEAP_ET_I ||
           e == ILHEAP_ET_U || e == ILHEAP_ET_OBJECT;
}

static bool is_modifier(uint8_t e)
{
    return e == ILHEAP_ET_CMOD_REQD || e == ILHEAP_ET_CMOD_OPT || e == ILHEAP_ET_CMOD_INTERNAL;
}

static ilheap_sig_value_kind_t value_kind(const ilheap_sig_type_t *t)
{
    switch (t->element) {
    case ILHEAP_ET_VOID:
        return ILHEAP_SIG_VALUE_VOID;
    case ILHEAP_ET_STRING:
    case ILHEAP_ET_CLASS:
    case ILHEAP_ET_OBJECT:
    case ILHEAP_ET_SZARRAY:
    case ILHEAP_ET_ARRAY:
        return ILHEAP_SIG_VALUE_REFERENCE;
    case ILHEAP_ET_GENERICINST:
        return t->inner != NULL && t->inner->element == ILHEAP_ET_VALUETYPE ? ILHEAP_SIG_VALUE_VALUETYPE
                                                                          : ILHEAP_SIG_VALUE_REFERENCE;
    case ILHEAP_ET_VAR:
    case ILHEAP_ET_MVAR:
        return ILHEAP_SIG_VALUE_GENERIC;
    case ILHEAP_ET_PTR:
    case ILHEAP_ET_FNPTR:
        return ILHEAP_SIG_VALUE_POINTER;
    case ILHEAP_ET_TYPEDBYREF:
        return ILHEAP_SIG_VALUE_TYPEDBYREF;
    case ILHEAP_ET_INTERNAL:
        return ILHEAP_SIG_VALUE_UNKNOWN;
    default: /* the primitives, I, U, VALUETYPE */
        return ILHEAP_SIG_VALUE_VALUETYPE;
    }
}

void ilheap_sig_describe(const ilheap_sig_type_t *type, ilheap_sig_param_t *out)
{
    memset(out, 0, sizeof *out);
    out->type = type;
    const ilheap_sig_type_t *t = type;
    /* Modifiers and PINNED, then one BYREF, then the modifiers after it. */
    while (t != NULL && (is_modifier(t->element) || t->element == ILHEAP_ET_PINNED)) {
        out->pinned |= t->element == ILHEAP_ET_PINNED;
        t = t->inner;
    }
    if (t != NULL && t->element == ILHEAP_ET_BYREF) {
        out->byref = true;
        t = t->inner;
        while (t != NULL && is_modifier(t->element))
            t = t->inner;
    }
    out->value = t;
    if (t == NULL)
        return;
    out->element = t->element;
    out->kind = value_kind(t);
    if (t->element == ILHEAP_ET_VALUETYPE || t->element == ILHEAP_ET_CLASS)
        out->token = t->u.token;
    else if (t->element == ILHEAP_ET_GENERICINST && t->inner != NULL)
        out->token = t->inner->u.token;
    out->offset = t->offset;
    out->size = t->size;
}

/* Each primitive element's System type name and C# keyword: the one table of
 * primitive names (sig_text.c spells with both). */
static const struct {
    const char *system;
    const char *csharp;
} primitive_names[] = {
    [ILHEAP_ET_VOID] = {"Void", "void"},          [ILHEAP_ET_BOOLEAN] = {"Boolean", "bool"},
    [ILHEAP_ET_CHAR] = {"Char", "char"},          [ILHEAP_ET_I1] = {"SByte", "sbyte"},
    [ILHEAP_ET_U1] = {"Byte", "byte"},            [ILHEAP_ET_I2] = {"Int16", "short"},
    [ILHEAP_ET_U2] = {"UInt16", "ushort"},        [ILHEAP_ET_I4] = {"Int32", "int"},
    [ILHEAP_ET_U4] = {"UInt32", "uint"},          [ILHEAP_ET_I8] = {"Int64", "long"},
    [ILHEAP_ET_U8] = {"UInt64", "ulong"},         [ILHEAP_ET_R4] = {"Single", "float"},
    [ILHEAP_ET_R8] = {"Double", "double"},        [ILHEAP_ET_STRING] = {"String", "string"},
    [ILHEAP_ET_I] = {"IntPtr", "nint"},           [ILHEAP_ET_U] = {"UIntPtr", "nuint"},
    [ILHEAP_ET_OBJECT] = {"Object", "object"},    [ILHEAP_ET_TYPEDBYREF] = {"TypedReference", "TypedReference"},
};

const char *ilheap_sig_element_name(uint8_t element)
{
    return element < sizeof primitive_names / sizeof primitive_names[0] ? primitive_names[element].system : NULL;
}

const char *ilheap__sig_csharp_name(uint8_t element)
{
    return element < sizeof primitive_names / sizeof primitive_names[0] ? primitive_names[element].csharp : NULL;
}

/* Every element takes at least one byte, so a blob of n bytes has at most n
 * type nodes, n parameters, n array sizes or bounds and n generic argument
 * pointers, and (an FNPTR takes at least 4 bytes) n / 4 nested signatures;
 * each allocation may lose up to 7 bytes to alignment. */
size_t ilheap_sig_memory_bound(size_t blob_size)
{
    size_t per_byte = sizeof(ilheap_sig_type_t) + sizeof(ilheap_sig_param_t) + sizeof(uint32_t) + sizeof(void *) +
                      3 * 8 + (sizeof(ilheap_sig_t) + 2 * 8) / 4 + 1;
    size_t units, bytes;
    if (!ilheap__add_size(blob_size, 2, &units) || !ilheap__mul_size(units, per_byte, &bytes) ||
        !ilheap__add_size(bytes, sizeof(ilheap_sig_t) + 64, &bytes))
        return SIZE_MAX;
    return bytes;
}

size_t ilheap_sig_read_compressed(const uint8_t *p, size_t avail, uint32_t *value)
{
    return p == NULL || value == NULL ? 0 : ilheap__decode_compressed(p, avail, value);
}

size_t ilheap_sig_write_compressed(uint32_t value, uint8_t out[4])
{
    return out == NULL ? 0 : ilheap__encode_compressed(value, out);
}

size_t ilheap_sig_read_compressed_signed(const uint8_t *p, size_t avail, int32_t *value)
{
    return p == NULL || value == NULL ? 0 : ilheap__decode_compressed_signed(p, avail, value);
}

size_t ilheap_sig_write_compressed_signed(int32_t value, uint8_t out[4])
{
    return out == NULL ? 0 : ilheap__encode_compressed_signed(value, out);
}

bool ilheap_sig_decode_type_token(uint32_t coded, uint32_t *token)
{
    return token != NULL && ilheap__decode_type_token(coded, token);
}

bool ilheap_sig_encode_type_token(uint32_t token, uint32_t *coded)
{
    return coded != NULL && ilheap__encode_type_token(token, coded);
}
