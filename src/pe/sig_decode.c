/* The signature decoder (ECMA-335 II.23.2): a blob to a tree in the
 * caller's arena. Chains of modifiers, PTR, BYREF, PINNED and SZARRAY are
 * read in a loop; only GENERICINST, ARRAY and FNPTR recurse, at most
 * ILHEAP_SIG_MAX_DEPTH deep. Every count is checked against the bytes left
 * (each element takes at least one) before anything is allocated.
 */
#include "pe/cursor.h"
#include "pe/sig_internal.h"

#include <string.h>

typedef struct decoder {
    ilheap__cursor_t c; /* over the blob; positions are blob offsets */
    ilheap_sig_arena_t *arena;
    unsigned flags;
    bool canonical;
    ilheap_sig_error_t *error;
} decoder_t;

static ilheap_status_t decode_type(decoder_t *d, unsigned depth, unsigned where, const ilheap_sig_type_t **out);
static ilheap_status_t decode_signature(decoder_t *d, unsigned depth, ilheap_sig_kind_t kind, ilheap_sig_t *sig);

/* n bytes of the arena, 8-aligned, or NULL. */
static void *arena_alloc(ilheap_sig_arena_t *a, size_t n)
{
    size_t pad = (size_t)(-((uintptr_t)a->base + a->used) & 7), start, end;
    if (!ilheap__add_size(a->used, pad, &start) || !ilheap__add_size(start, n, &end) || end > a->size)
        return NULL;
    a->used = end;
    return (char *)a->base + start;
}

/* n items of `size` bytes, zeroed; NULL for none (*st ILHEAP_OK) or when
 * the arena is full (*st ILHEAP_SIG_NO_ROOM). */
static void *alloc_items(decoder_t *d, size_t n, size_t size, ilheap_status_t *st)
{
    *st = ILHEAP_OK;
    if (n == 0)
        return NULL;
    size_t bytes;
    void *p = ilheap__mul_size(n, size, &bytes) ? arena_alloc(d->arena, bytes) : NULL;
    if (p == NULL) {
        *st = ilheap__sig_fail(d->error, ILHEAP_SIG_NO_ROOM, d->c.pos, "arena of %zu bytes full (%zu used)",
                               d->arena->size, d->arena->used);
        return NULL;
    }
    memset(p, 0, bytes);
    return p;
}

static ilheap_status_t read_byte(decoder_t *d, const char *what, uint8_t *out)
{
    if (!ilheap__read_u8(&d->c, out))
        return ilheap__sig_fail(d->error, ILHEAP_SIG_TRUNCATED, d->c.pos, "%s expected, blob ends", what);
    return ILHEAP_OK;
}

/* A compressed unsigned integer; a longer form than needed clears canonical. */
static ilheap_status_t read_uint(decoder_t *d, const char *what, uint32_t *out)
{
    size_t at = d->c.pos;
    size_t n = ilheap__decode_compressed(ilheap__cursor_ptr(&d->c), ilheap__cursor_left(&d->c), out);
    if (n == 0)
        return ilheap__sig_fail(d->error,
                                ilheap__cursor_left(&d->c) != 0 && (d->c.file[at] & 0xE0) == 0xE0 ? ILHEAP_SIG_BAD_COUNT
                                                                                                : ILHEAP_SIG_TRUNCATED,
                                at, "%s: compressed integer malformed or cut short", what);
    d->canonical &= n == ilheap__compressed_size(*out);
    ilheap__cursor_skip(&d->c, n);
    return ILHEAP_OK;
}

static ilheap_status_t read_int(decoder_t *d, const char *what, int32_t *out)
{
    size_t at = d->c.pos;
    size_t n = ilheap__decode_compressed_signed(ilheap__cursor_ptr(&d->c), ilheap__cursor_left(&d->c), out);
    uint8_t shortest[4];
    if (n == 0)
        return ilheap__sig_fail(d->error, ILHEAP_SIG_TRUNCATED, at, "%s: compressed integer malformed or cut short",
                                what);
    d->canonical &= n == ilheap__encode_compressed_signed(*out, shortest);
    ilheap__cursor_skip(&d->c, n);
    return ILHEAP_OK;
}

/* A count of items that take at least one byte each: at least `least`, and
 * no more than the bytes left (so no allocation is larger than the blob). */
static ilheap_status_t read_count(decoder_t *d, const char *what, uint32_t least, uint32_t *out)
{
    size_t at = d->c.pos;
    ilheap_status_t st = read_uint(d, what, out);
    if (st != ILHEAP_OK)
        return st;
    if (*out < least || *out > ilheap__cursor_left(&d->c))
        return ilheap__sig_fail(d->error, ILHEAP_SIG_BAD_COUNT, at, "%u %s (at least %u), %zu bytes left", *out,
                                what, least, ilheap__cursor_left(&d->c));
    return ILHEAP_OK;
}

static ilheap_status_t read_token(decoder_t *d, uint32_t *token)
{
    size_t at = d->c.pos;
    uint32_t coded = 0;
    ilheap_status_t st = read_uint(d, "type token", &coded);
    if (st == ILHEAP_OK && !ilheap__decode_type_token(coded, token))
        return ilheap__sig_fail(d->error, ILHEAP_SIG_BAD_TOKEN, at, "coded token %#x (tag %u, rid %u)", coded,
                                coded & 3, coded >> 2);
    return st;
}

/* A TypeHandle of the runtime's pointer size (INTERNAL, CMOD_INTERNAL). */
static ilheap_status_t read_handle(decoder_t *d, ilheap_sig_type_t *n)
{
    size_t at = d->c.pos - 1;
    uint8_t size = d->flags & ILHEAP_SIG_INTERNAL_PTR64 ? 8 : d->flags & ILHEAP_SIG_INTERNAL_PTR32 ? 4 : 0;
    if (size == 0)
        return ilheap__sig_fail(d->error, ILHEAP_SIG_BAD_ELEMENT, at,
                                "element %#x is the runtime's own (no ILHEAP_SIG_INTERNAL_* flag)", n->element);
    if (n->element == ILHEAP_ET_CMOD_INTERNAL) {
        uint8_t required = 0;
        ilheap_status_t st = read_byte(d, "CMOD_INTERNAL's required flag", &required);
        if (st != ILHEAP_OK)
            return st;
        n->u.internal.required = required != 0;
        d->canonical &= required <= 1; /* the encoder writes 0 or 1 */
    }
    if (!ilheap__cursor_has(&d->c, size))
        return ilheap__sig_fail(d->error, ILHEAP_SIG_TRUNCATED, d->c.pos, "%u-byte TypeHandle cut short", size);
    const uint8_t *p = ilheap__cursor_ptr(&d->c);
    n->u.internal.handle = size == 8 ? ilheap__le64(p) : ilheap__le32(p);
    n->u.internal.pointer_size = size;
    ilheap__cursor_skip(&d->c, size);
    return ILHEAP_OK;
}

/* GENERICINST (CLASS | VALUETYPE) TypeDefOrRef GenArgCount Type+ */
static ilheap_status_t decode_generic(decoder_t *d, ilheap_sig_type_t *n, unsigned depth)
{
    size_t at = d->c.pos;
    uint8_t e = 0;
    ilheap_status_t st = read_byte(d, "GENERICINST's CLASS or VALUETYPE", &e);
    if (st != ILHEAP_OK)
        return st;
    if (e != ILHEAP_ET_CLASS && e != ILHEAP_ET_VALUETYPE)
        return ilheap__sig_fail(d->error, ILHEAP_SIG_BAD_ELEMENT, at, "GENERICINST of element %#x", e);
    ilheap_sig_type_t *generic = alloc_items(d, 1, sizeof *generic, &st);
    if (generic == NULL)
        return st;
    generic->element = e;
    generic->offset = (uint32_t)at;
    if ((st = read_token(d, &generic->u.token)) != ILHEAP_OK)
        return st;
    generic->size = (uint32_t)(d->c.pos - at);
    n->inner = generic;
    if ((st = read_count(d, "generic arguments", 1, &n->u.generic.count)) != ILHEAP_OK)
        return st;
    const ilheap_sig_type_t **args = alloc_items(d, n->u.generic.count, sizeof *args, &st);
    if (args == NULL)
        return st;
    for (uint32_t i = 0; i < n->u.generic.count; i++)
        if ((st = decode_type(d, depth + 1, 0, &args[i])) != ILHEAP_OK)
            return st;
    n->u.generic.args = args;
    return ILHEAP_OK;
}

/* A count then that many compressed integers (signed: II.23.2 signed form),
 * as an array ARRAY's sizes and lower bounds take; *items is NULL for none. */
static ilheap_status_t read_numbers(decoder_t *d, const char *what, bool is_signed, uint32_t *count, void **items)
{
    ilheap_status_t st = read_count(d, what, 0, count);
    if (st != ILHEAP_OK)
        return st;
    uint32_t *numbers = alloc_items(d, *count, sizeof *numbers, &st);
    if (st != ILHEAP_OK)
        return st;
    for (uint32_t i = 0; i < *count && st == ILHEAP_OK; i++)
        st = is_signed ? read_int(d, what, (int32_t *)&numbers[i]) : read_uint(d, what, &numbers[i]);
    *items = numbers;
    return st;
}

/* ARRAY Type Rank NumSizes Size* NumLoBounds LoBound* (II.23.2.13) */
static ilheap_status_t decode_array(decoder_t *d, ilheap_sig_type_t *n, unsigned depth)
{
    ilheap_status_t st = decode_type(d, depth + 1, 0, &n->inner);
    void *sizes = NULL;
    void *bounds = NULL;
    if (st != ILHEAP_OK || (st = read_uint(d, "array rank", &n->u.array.rank)) != ILHEAP_OK ||
        (st = read_numbers(d, "array sizes", false, &n->u.array.size_count, &sizes)) != ILHEAP_OK)
        return st;
    n->u.array.sizes = sizes;
    st = read_numbers(d, "array lower bounds", true, &n->u.array.bound_count, &bounds);
    n->u.array.lower_bounds = bounds;
    return st;
}

/* What follows an element that ends a chain. */
static ilheap_status_t decode_leaf(decoder_t *d, ilheap_sig_type_t *n, unsigned depth, bool void_ok)
{
    size_t at = n->offset;
    ilheap_status_t st = ILHEAP_OK;
    bool nests = n->element == ILHEAP_ET_GENERICINST || n->element == ILHEAP_ET_ARRAY || n->element == ILHEAP_ET_FNPTR;
    if (nests && depth >= ILHEAP_SIG_MAX_DEPTH)
        return ilheap__sig_fail(d->error, ILHEAP_SIG_TOO_DEEP, at, "nested more than %d deep", ILHEAP_SIG_MAX_DEPTH);
    switch (n->element) {
    case ILHEAP_ET_VOID:
        if (!void_ok)
            return ilheap__sig_fail(d->error, ILHEAP_SIG_BAD_ELEMENT, at, "VOID where a value's type must be");
        break;
    case ILHEAP_ET_VALUETYPE:
    case ILHEAP_ET_CLASS:
        st = read_token(d, &n->u.token);
        break;
    case ILHEAP_ET_VAR:
    case ILHEAP_ET_MVAR:
        st = read_uint(d, "generic parameter number", &n->u.number);
        break;
    case ILHEAP_ET_GENERICINST:
        st = decode_generic(d, n, depth);
        break;
    case ILHEAP_ET_ARRAY:
        st = decode_array(d, n, depth);
        break;
    case ILHEAP_ET_FNPTR: {
        ilheap_sig_t *method = alloc_items(d, 1, sizeof *method, &st);
        if (method == NULL)
            return st;
        method->blob = d->c.file;
        method->size = d->c.end;
        st = decode_signature(d, depth + 1, ILHEAP_SIG_METHOD_REF, method);
        n->u.method = method;
        break;
    }
    case ILHEAP_ET_INTERNAL:
        st = read_handle(d, n);
        break;
    default:
        if (!ilheap__sig_is_simple(n->element))
            return ilheap__sig_fail(d->error, ILHEAP_SIG_BAD_ELEMENT, at, "element type %#x", n->element);
    }
    n->size = (uint32_t)(d->c.pos - at);
    return st;
}

/* One step of a chain: a modifier, PTR, BYREF, PINNED or SZARRAY, or NULL
 * in *more when n ends it. Updates where VOID and PINNED may follow. */
static ilheap_status_t decode_link(decoder_t *d, ilheap_sig_type_t *n, unsigned *where, bool *more)
{
    *more = true;
    switch (n->element) {
    case ILHEAP_ET_CMOD_REQD:
    case ILHEAP_ET_CMOD_OPT:
        return read_token(d, &n->u.token);
    case ILHEAP_ET_CMOD_INTERNAL:
        return read_handle(d, n);
    case ILHEAP_ET_PINNED:
        if (!(*where & SIG_PINNED_OK))
            return ilheap__sig_fail(d->error, ILHEAP_SIG_BAD_ELEMENT, n->offset, "PINNED outside a local's type");
        *where = 0;
        return ILHEAP_OK;
    case ILHEAP_ET_PTR:
        *where = SIG_VOID_OK; /* void* */
        return ILHEAP_OK;
    case ILHEAP_ET_BYREF:
    case ILHEAP_ET_SZARRAY:
        *where = 0;
        return ILHEAP_OK;
    default:
        *more = false;
        return ILHEAP_OK;
    }
}

static ilheap_status_t decode_type(decoder_t *d, unsigned depth, unsigned where, const ilheap_sig_type_t **out)
{
    ilheap_sig_type_t *first = NULL, *last = NULL;
    ilheap_status_t st;
    for (bool more = true; more;) {
        size_t at = d->c.pos;
        uint8_t e = 0;
        if ((st = read_byte(d, "type", &e)) != ILHEAP_OK)
            return st;
        ilheap_sig_type_t *n = alloc_items(d, 1, sizeof *n, &st);
        if (n == NULL)
            return st;
        n->element = e;
        n->offset = (uint32_t)at;
        if (last != NULL)
            last->inner = n;
        else
            first = n;
        last = n;
        if ((st = decode_link(d, n, &where, &more)) != ILHEAP_OK)
            return st;
    }
    if ((st = decode_leaf(d, last, depth, (where & SIG_VOID_OK) != 0)) != ILHEAP_OK)
        return st;
    for (ilheap_sig_type_t *p = first; p != last; p = (ilheap_sig_type_t *)p->inner)
        p->size = (uint32_t)(d->c.pos - p->offset);
    *out = first;
    return ILHEAP_OK;
}

/* Params (or locals, or type arguments) [0, sig->count), a SENTINEL allowed
 * once before one of them in a method reference. */
static ilheap_status_t decode_params(decoder_t *d, unsigned depth, unsigned where, ilheap_sig_t *sig)
{
    ilheap_status_t st;
    ilheap_sig_param_t *params = alloc_items(d, sig->count, sizeof *params, &st);
    if (st != ILHEAP_OK)
        return st;
    for (uint32_t i = 0; i < sig->count; i++) {
        size_t at = d->c.pos;
        if (ilheap__cursor_has(&d->c, 1) && d->c.file[at] == ILHEAP_ET_SENTINEL) {
            if (sig->kind != ILHEAP_SIG_METHOD_REF || sig->has_sentinel)
                return ilheap__sig_fail(d->error, ILHEAP_SIG_BAD_ELEMENT, at, "SENTINEL %s",
                                        sig->has_sentinel ? "a second time" : "outside a method reference");
            sig->has_sentinel = true;
            sig->sentinel = i;
            ilheap__cursor_skip(&d->c, 1);
        }
        const ilheap_sig_type_t *type;
        if ((st = decode_type(d, depth, where, &type)) != ILHEAP_OK)
            return st;
        ilheap_sig_describe(type, &params[i]);
        params[i].vararg = sig->has_sentinel;
    }
    sig->params = params;
    return ILHEAP_OK;
}

/* The header and what follows it, for every kind but TYPESPEC. */
static ilheap_status_t decode_signature(decoder_t *d, unsigned depth, ilheap_sig_kind_t kind, ilheap_sig_t *sig)
{
    size_t at = d->c.pos;
    ilheap_status_t st = read_byte(d, "calling convention", &sig->header);
    if (st != ILHEAP_OK)
        return st;
    sig->kind = kind == ILHEAP_SIG_ANY ? ilheap__sig_kind_of(sig->header) : kind;
    if (!ilheap__sig_header_ok(sig->kind, sig->header))
        return ilheap__sig_fail(d->error, ILHEAP_SIG_BAD_ELEMENT, at, "first byte %#x is not a %s signature's",
                                sig->header,
                                sig->kind <= ILHEAP_SIG_METHOD_REF ? "method" : sig->kind == ILHEAP_SIG_FIELD ? "field"
                                : sig->kind == ILHEAP_SIG_PROPERTY ? "property"
                                : sig->kind == ILHEAP_SIG_LOCALS   ? "local variable"
                                                                   : "MethodSpec");
    const ilheap_sig_type_t *ret = NULL;
    unsigned where = 0;
    switch (sig->kind) {
    case ILHEAP_SIG_METHOD_DEF:
    case ILHEAP_SIG_METHOD_REF:
        if ((sig->header & ILHEAP_SIG_GENERIC) && (st = read_uint(d, "generic parameter count", &sig->generic_count)))
            return st;
        if ((st = read_count(d, "parameters", 0, &sig->count)) || (st = decode_type(d, depth, SIG_VOID_OK, &ret)))
            return st;
        break;
    case ILHEAP_SIG_PROPERTY:
        if ((st = read_count(d, "parameters", 0, &sig->count)) || (st = decode_type(d, depth, 0, &ret)))
            return st;
        break;
    case ILHEAP_SIG_FIELD:
        if ((st = decode_type(d, depth, 0, &ret)))
            return st;
        break;
    case ILHEAP_SIG_LOCALS:
        if ((st = read_count(d, "locals", 0, &sig->count)))
            return st;
        where = SIG_PINNED_OK;
        break;
    default: /* METHODSPEC */
        if ((st = read_count(d, "type arguments", 1, &sig->count)))
            return st;
        break;
    }
    if (ret != NULL)
        ilheap_sig_describe(ret, &sig->ret);
    return decode_params(d, depth, where, sig);
}

ilheap_status_t ilheap_sig_decode(ilheap_sig_kind_t kind, const uint8_t *blob, size_t size, unsigned flags,
                                  ilheap_sig_arena_t *arena, ilheap_sig_t *out, ilheap_sig_error_t *error)
{
    if (out == NULL || arena == NULL || (blob == NULL && size != 0) || kind > ILHEAP_SIG_METHODSPEC ||
        arena->used > arena->size || (arena->base == NULL && arena->size != 0) || size > SIG_MAX_BLOB)
        return ilheap__sig_fail(error, ILHEAP_EINVAL, 0, "sig_decode: bad argument (a blob has at most 2^29 - 1 bytes)");
    memset(out, 0, sizeof *out);
    size_t used = arena->used;
    decoder_t d = {.arena = arena, .flags = flags, .canonical = true, .error = error};
    ilheap__cursor_init(&d.c, blob, size, 0, size);
    ilheap_status_t st;
    out->blob = blob;
    out->size = size;
    if (kind == ILHEAP_SIG_TYPESPEC) {
        const ilheap_sig_type_t *type = NULL;
        out->kind = kind;
        if ((st = decode_type(&d, 0, 0, &type)) == ILHEAP_OK)
            ilheap_sig_describe(type, &out->ret);
    } else {
        st = decode_signature(&d, 0, kind, out);
    }
    if (st == ILHEAP_OK && ilheap__cursor_left(&d.c) != 0)
        st = ilheap__sig_fail(error, ILHEAP_SIG_TRAILING, d.c.pos, "%zu bytes after the signature",
                              ilheap__cursor_left(&d.c));
    if (st != ILHEAP_OK) {
        arena->used = used;
        memset(out, 0, sizeof *out);
        return st;
    }
    out->canonical = d.canonical;
    return ILHEAP_OK;
}
