/* The signature encoder (ECMA-335 II.23.2): a tree, decoded or built by
 * hand, to blob bytes, checked by the rules the decoder applies (first
 * bytes, counts, where VOID, PINNED and SENTINEL may stand, nesting), so
 * that whatever it writes decodes again. Compressed integers take their
 * shortest form. It counts every byte, writing those that fit, so one call
 * with capacity 0 measures.
 */
#include "pe/cursor.h"
#include "pe/sig_internal.h"

#include <string.h>

typedef struct encoder {
    uint8_t *out;
    size_t capacity;
    size_t pos; /* bytes the encoding takes so far (may pass capacity) */
    ilheap_sig_error_t *error;
} encoder_t;

static ilheap_status_t encode_type(encoder_t *e, const ilheap_sig_type_t *t, unsigned depth, unsigned where);
static ilheap_status_t encode_signature(encoder_t *e, const ilheap_sig_t *sig, unsigned depth);

/* A tree the encoder refuses, with where in the output it got to. */
#define BAD_TREE(e, ...) ilheap__sig_fail((e)->error, ILHEAP_SIG_BAD_TREE, (e)->pos, __VA_ARGS__)

static void put_bytes(encoder_t *e, const uint8_t *bytes, size_t n)
{
    for (size_t i = 0; i < n; i++, e->pos++)
        if (e->pos < e->capacity)
            e->out[e->pos] = bytes[i];
}

static ilheap_status_t put_byte(encoder_t *e, uint8_t b)
{
    if (e->pos >= SIG_MAX_BLOB)
        return BAD_TREE(e, "longer than a blob can be (a cycle?)");
    put_bytes(e, &b, 1);
    return ILHEAP_OK;
}

/* A compressed integer: unsigned, or (is_signed) the bits of an int32_t. */
static ilheap_status_t put_compressed(encoder_t *e, uint32_t v, bool is_signed)
{
    uint8_t b[4];
    size_t n = is_signed ? ilheap__encode_compressed_signed((int32_t)v, b) : ilheap__encode_compressed(v, b);
    if (n == 0 && is_signed)
        return BAD_TREE(e, "lower bound %d is outside -2^28 .. 2^28-1", (int32_t)v);
    if (n == 0)
        return BAD_TREE(e, "%u is past the compressed integers' 0x1FFFFFFF", v);
    put_bytes(e, b, n);
    return ILHEAP_OK;
}

static ilheap_status_t put_uint(encoder_t *e, uint32_t v)
{
    return put_compressed(e, v, false);
}

static ilheap_status_t put_token(encoder_t *e, uint32_t token)
{
    uint32_t coded;
    if (!ilheap__encode_type_token(token, &coded))
        return BAD_TREE(e, "token %#x is not a TypeDef, TypeRef or TypeSpec", token);
    return put_uint(e, coded);
}

static ilheap_status_t put_handle(encoder_t *e, const ilheap_sig_type_t *t)
{
    uint8_t b[8];
    unsigned size = t->u.internal.pointer_size;
    if (size != 4 && size != 8)
        return BAD_TREE(e, "TypeHandle of %u bytes (4 or 8)", size);
    for (unsigned i = 0; i < size; i++)
        b[i] = (uint8_t)(t->u.internal.handle >> (8 * i));
    if (t->element == ILHEAP_ET_CMOD_INTERNAL)
        put_bytes(e, &(uint8_t){t->u.internal.required ? 1 : 0}, 1);
    put_bytes(e, b, size);
    return ILHEAP_OK;
}

static ilheap_status_t encode_generic(encoder_t *e, const ilheap_sig_type_t *t, unsigned depth)
{
    const ilheap_sig_type_t *g = t->inner;
    if (g == NULL || (g->element != ILHEAP_ET_CLASS && g->element != ILHEAP_ET_VALUETYPE))
        return BAD_TREE(e, "GENERICINST of element %#x (CLASS or VALUETYPE)", g != NULL ? g->element : 0u);
    if (t->u.generic.count == 0 || t->u.generic.args == NULL)
        return BAD_TREE(e, "GENERICINST with %u type arguments", t->u.generic.count);
    ilheap_status_t st;
    if ((st = put_byte(e, g->element)) || (st = put_token(e, g->u.token)) || (st = put_uint(e, t->u.generic.count)))
        return st;
    for (uint32_t i = 0; i < t->u.generic.count; i++)
        if ((st = encode_type(e, t->u.generic.args[i], depth + 1, 0)) != ILHEAP_OK)
            return st;
    return ILHEAP_OK;
}

static ilheap_status_t encode_array(encoder_t *e, const ilheap_sig_type_t *t, unsigned depth)
{
    uint32_t sizes = t->u.array.size_count, bounds = t->u.array.bound_count;
    if ((sizes != 0 && t->u.array.sizes == NULL) || (bounds != 0 && t->u.array.lower_bounds == NULL))
        return BAD_TREE(e, "ARRAY with %u sizes or bounds and no array of them", sizes + bounds);
    ilheap_status_t st;
    if ((st = encode_type(e, t->inner, depth + 1, 0)) || (st = put_uint(e, t->u.array.rank)) ||
        (st = put_uint(e, sizes)))
        return st;
    for (uint32_t i = 0; i < sizes; i++)
        if ((st = put_uint(e, t->u.array.sizes[i])) != ILHEAP_OK)
            return st;
    if ((st = put_uint(e, bounds)) != ILHEAP_OK)
        return st;
    for (uint32_t i = 0; i < bounds; i++)
        if ((st = put_compressed(e, (uint32_t)t->u.array.lower_bounds[i], true)) != ILHEAP_OK)
            return st;
    return ILHEAP_OK;
}

/* What follows an element that ends a chain. */
static ilheap_status_t encode_leaf(encoder_t *e, const ilheap_sig_type_t *t, unsigned depth, bool void_ok)
{
    bool nests = t->element == ILHEAP_ET_GENERICINST || t->element == ILHEAP_ET_ARRAY || t->element == ILHEAP_ET_FNPTR;
    if (nests && depth >= ILHEAP_SIG_MAX_DEPTH)
        return BAD_TREE(e, "nested more than %d deep", ILHEAP_SIG_MAX_DEPTH);
    switch (t->element) {
    case ILHEAP_ET_VOID:
        return void_ok ? ILHEAP_OK : BAD_TREE(e, "VOID where a value's type must be");
    case ILHEAP_ET_VALUETYPE:
    case ILHEAP_ET_CLASS:
        return put_token(e, t->u.token);
    case ILHEAP_ET_VAR:
    case ILHEAP_ET_MVAR:
        return put_uint(e, t->u.number);
    case ILHEAP_ET_GENERICINST:
        return encode_generic(e, t, depth);
    case ILHEAP_ET_ARRAY:
        return encode_array(e, t, depth);
    case ILHEAP_ET_FNPTR:
        if (t->u.method == NULL || t->u.method->kind != ILHEAP_SIG_METHOD_REF)
            return BAD_TREE(e, "FNPTR without a method signature (METHOD_REF)");
        return encode_signature(e, t->u.method, depth + 1);
    case ILHEAP_ET_INTERNAL:
        return put_handle(e, t);
    default:
        return ilheap__sig_is_simple(t->element) ? ILHEAP_OK : BAD_TREE(e, "element type %#x", t->element);
    }
}

/* A chain of modifiers, PTR, BYREF, PINNED and SZARRAY, then its leaf. A
 * chain that loops (a tree built by hand) is caught by a second pointer at
 * half speed meeting the first; loops through nesting hit the depth bound. */
static ilheap_status_t encode_type(encoder_t *e, const ilheap_sig_type_t *t, unsigned depth, unsigned where)
{
    ilheap_status_t st;
    const ilheap_sig_type_t *slow = t;
    for (unsigned step = 0;; t = t->inner, step++) {
        if (t == NULL)
            return BAD_TREE(e, "a type is missing (NULL)");
        if (step != 0 && step % 2 == 0 && (slow = slow->inner) == t) /* slow is node step / 2 */
            return BAD_TREE(e, "a chain of types loops (its element %#x comes back)", t->element);
        if ((st = put_byte(e, t->element)) != ILHEAP_OK)
            return st;
        switch (t->element) {
        case ILHEAP_ET_CMOD_REQD:
        case ILHEAP_ET_CMOD_OPT:
            if ((st = put_token(e, t->u.token)) != ILHEAP_OK)
                return st;
            continue;
        case ILHEAP_ET_CMOD_INTERNAL:
            if ((st = put_handle(e, t)) != ILHEAP_OK)
                return st;
            continue;
        case ILHEAP_ET_PINNED:
            if (!(where & SIG_PINNED_OK))
                return BAD_TREE(e, "PINNED outside a local's type");
            where = 0;
            continue;
        case ILHEAP_ET_PTR:
            where = SIG_VOID_OK;
            continue;
        case ILHEAP_ET_BYREF:
        case ILHEAP_ET_SZARRAY:
            where = 0;
            continue;
        default:
            return encode_leaf(e, t, depth, (where & SIG_VOID_OK) != 0);
        }
    }
}

static ilheap_status_t encode_params(encoder_t *e, const ilheap_sig_t *sig, unsigned depth, unsigned where)
{
    if (sig->count != 0 && sig->params == NULL)
        return BAD_TREE(e, "%u parameters and no array of them", sig->count);
    if (sig->has_sentinel && (sig->kind != ILHEAP_SIG_METHOD_REF || sig->sentinel >= sig->count))
        return BAD_TREE(e, "SENTINEL before parameter %u: not in a method reference's parameters", sig->sentinel);
    ilheap_status_t st;
    for (uint32_t i = 0; i < sig->count; i++) {
        if (sig->has_sentinel && sig->sentinel == i && (st = put_byte(e, ILHEAP_ET_SENTINEL)) != ILHEAP_OK)
            return st;
        if ((st = encode_type(e, sig->params[i].type, depth, where)) != ILHEAP_OK)
            return st;
    }
    return ILHEAP_OK;
}

static ilheap_status_t encode_signature(encoder_t *e, const ilheap_sig_t *sig, unsigned depth)
{
    if (sig->kind == ILHEAP_SIG_TYPESPEC)
        return encode_type(e, sig->ret.type, depth, 0);
    if (!ilheap__sig_header_ok(sig->kind, sig->header))
        return BAD_TREE(e, "first byte %#x does not fit the signature's kind", sig->header);
    ilheap_status_t st = put_byte(e, sig->header);
    if (st != ILHEAP_OK)
        return st;
    switch (sig->kind) {
    case ILHEAP_SIG_METHOD_DEF:
    case ILHEAP_SIG_METHOD_REF:
        if ((sig->header & ILHEAP_SIG_GENERIC) && (st = put_uint(e, sig->generic_count)))
            return st;
        if ((st = put_uint(e, sig->count)) || (st = encode_type(e, sig->ret.type, depth, SIG_VOID_OK)))
            return st;
        return encode_params(e, sig, depth, 0);
    case ILHEAP_SIG_PROPERTY:
        if ((st = put_uint(e, sig->count)) || (st = encode_type(e, sig->ret.type, depth, 0)))
            return st;
        return encode_params(e, sig, depth, 0);
    case ILHEAP_SIG_FIELD:
        return encode_type(e, sig->ret.type, depth, 0);
    case ILHEAP_SIG_LOCALS:
        if ((st = put_uint(e, sig->count)))
            return st;
        return encode_params(e, sig, depth, SIG_PINNED_OK);
    default: /* METHODSPEC */
        if (sig->count == 0)
            return BAD_TREE(e, "MethodSpec with %u type arguments", 0);
        if ((st = put_uint(e, sig->count)))
            return st;
        return encode_params(e, sig, depth, 0);
    }
}

/* The size, or the failure: the encoding's, or that it did not fit. */
static ilheap_status_t finish(encoder_t *e, ilheap_status_t st, size_t *size)
{
    if (st != ILHEAP_OK)
        return st;
    if (size != NULL)
        *size = e->pos;
    if (e->pos > e->capacity)
        return ilheap__sig_fail(e->error, ILHEAP_SIG_NO_ROOM, e->capacity, "signature of %zu bytes, room for %zu",
                                e->pos, e->capacity);
    return ILHEAP_OK;
}

ilheap_status_t ilheap_sig_encode(const ilheap_sig_t *sig, uint8_t *out, size_t capacity, size_t *size,
                                  ilheap_sig_error_t *error)
{
    if (sig == NULL || (out == NULL && capacity != 0))
        return ilheap__sig_fail(error, ILHEAP_EINVAL, 0, "sig_encode: bad argument");
    if (size != NULL)
        *size = 0;
    encoder_t e = {.out = out, .capacity = capacity, .error = error};
    return finish(&e, encode_signature(&e, sig, 0), size);
}

ilheap_status_t ilheap_sig_encode_type(const ilheap_sig_type_t *type, uint8_t *out, size_t capacity, size_t *size,
                                       ilheap_sig_error_t *error)
{
    if (out == NULL && capacity != 0)
        return ilheap__sig_fail(error, ILHEAP_EINVAL, 0, "sig_encode_type: bad argument");
    if (size != NULL)
        *size = 0;
    encoder_t e = {.out = out, .capacity = capacity, .error = error};
    return finish(&e, encode_type(&e, type, 0, 0), size);
}
