/* Signatures as text, with the names the metadata gives: C#'s spelling for
 * people ("(int, ref List<T>)") or Mono.Cecil's FullName spelling, which
 * coverlet writes in Cobertura's `signature` attribute
 * ("(System.Int32,System.Collections.Generic.List`1<T>&)"). A name the
 * metadata cannot give (a bad row, a generic parameter with no row) is
 * written as its token ("0x01000099") or "!0" / "!!0": the text stays true.
 */
#include "pe/image.h"
#include "pe/sig_internal.h"
#include "os/memory.h"

#include <string.h>

#define TYPEREF_TABLE 0x01
#define GENERICPARAM_TABLE 0x2A
#define MAX_TYPESPEC_NESTING 4 /* a TypeSpec naming a TypeSpec ...: then the token */
#define MAX_ENCLOSING 16       /* nested types: then the rest is left out */

enum { TR_SCOPE, TR_NAME, TR_NAMESPACE };
enum { GP_NUMBER, GP_FLAGS, GP_OWNER, GP_NAME };

typedef struct text {
    const ilheap_pe_t *pe;
    bool cecil;
    uint32_t method;     /* MethodDef rid whose generic parameters MVAR names (0: none) */
    uint32_t type;       /* TypeDef rid whose generic parameters VAR names (0: none) */
    unsigned typespecs;  /* TypeSpecs being expanded */
    char *buf;
    size_t size, length; /* length counts every byte, also past size */
} text_t;

static void put_n(text_t *t, const char *s, size_t n)
{
    if (t->length < t->size) {
        size_t room = t->size - 1 - t->length;
        memcpy(t->buf + t->length, s, n < room ? n : room);
    }
    t->length += n;
}

static void put(text_t *t, const char *s)
{
    put_n(t, s, strlen(s));
}

static void put_hex(text_t *t, uint32_t token)
{
    char b[16];
    static const char hex[] = "0123456789abcdef";
    b[0] = '0';
    b[1] = 'x';
    for (int i = 0; i < 8; i++)
        b[2 + i] = hex[token >> (28 - 4 * i) & 15];
    put_n(t, b, 10);
}

static void put_number(text_t *t, const char *prefix, int64_t v)
{
    char b[24];
    size_t n = 0;
    uint64_t u = v < 0 ? (uint64_t)-v : (uint64_t)v;
    do
        b[sizeof b - 1 - n++] = (char)('0' + u % 10);
    while ((u /= 10) != 0);
    put(t, prefix);
    if (v < 0)
        put(t, "-");
    put_n(t, b + sizeof b - n, n);
}

/* A #Strings entry; C# drops a generic type's arity suffix ("List`1"). */
static bool put_string(text_t *t, uint32_t index, bool name)
{
    const char *s;
    size_t n;
    if (ilheap_pe_string(t->pe, index, &s, &n, NULL) != ILHEAP_OK)
        return false;
    const char *tick = name && !t->cecil ? memchr(s, '`', n) : NULL;
    put_n(t, s, tick != NULL ? (size_t)(tick - s) : n);
    return true;
}

/* "Ns.Outer/Inner" (Cecil) or "Outer.Inner" (C#): a TypeDef and the types
 * around it. */
static void put_typedef(text_t *t, uint32_t rid)
{
    uint32_t chain[MAX_ENCLOSING], depth = 0;
    for (uint32_t r = rid; r != 0 && depth < MAX_ENCLOSING;) {
        chain[depth++] = r;
        if (ilheap_pe_enclosing_type(t->pe, r, &r, NULL) != ILHEAP_OK)
            break;
    }
    for (uint32_t i = depth; i-- > 0;) {
        ilheap_pe_typedef_t d;
        if (ilheap_pe_typedef(t->pe, chain[i], &d, NULL) != ILHEAP_OK) {
            put_hex(t, 0x02000000u | chain[i]);
            return;
        }
        if (i + 1 < depth)
            put(t, t->cecil ? "/" : ".");
        else if (t->cecil && d.namespace_ != 0 && put_string(t, d.namespace_, false))
            put(t, ".");
        put_string(t, d.name, true);
    }
}

/* A TypeRef, its ResolutionScope followed while it names another TypeRef
 * (a nested type: coded tag 3). */
static void put_typeref(text_t *t, uint32_t rid)
{
    uint32_t chain[MAX_ENCLOSING], depth = 0, rows = t->pe->tables[TYPEREF_TABLE].rows;
    for (uint32_t r = rid; depth < MAX_ENCLOSING;) {
        if (r == 0 || r > rows) {
            put_hex(t, 0x01000000u | rid);
            return;
        }
        chain[depth++] = r;
        uint32_t scope = ilheap__cell(t->pe, TYPEREF_TABLE, r, TR_SCOPE);
        if ((scope & 3) != 3)
            break;
        r = scope >> 2;
    }
    for (uint32_t i = depth; i-- > 0;) {
        uint32_t ns = ilheap__cell(t->pe, TYPEREF_TABLE, chain[i], TR_NAMESPACE);
        if (i + 1 < depth)
            put(t, t->cecil ? "/" : ".");
        else if (t->cecil && ns != 0 && put_string(t, ns, false))
            put(t, ".");
        if (!put_string(t, ilheap__cell(t->pe, TYPEREF_TABLE, chain[i], TR_NAME), true))
            put_hex(t, 0x01000000u | chain[i]);
    }
}

static void put_type(text_t *t, const ilheap_sig_type_t *n, unsigned depth);

/* A TypeSpec named by token: its own signature, decoded into a small arena
 * on the stack (a TypeSpec too large or too deep for it is its token). */
static void put_typespec(text_t *t, uint32_t token, unsigned depth)
{
    uint64_t memory[512];
    ilheap_sig_arena_t arena = {memory, sizeof memory, 0};
    const uint8_t *blob;
    size_t size;
    ilheap_sig_t spec;
    if (t->typespecs >= MAX_TYPESPEC_NESTING ||
        ilheap_pe_signature(t->pe, token, &blob, &size, NULL, NULL, NULL) != ILHEAP_OK ||
        ilheap_sig_decode(ILHEAP_SIG_TYPESPEC, blob, size, 0, &arena, &spec, NULL) != ILHEAP_OK) {
        put_hex(t, token);
        return;
    }
    t->typespecs++;
    put_type(t, spec.ret.type, depth + 1);
    t->typespecs--;
}

static void put_token(text_t *t, uint32_t token, unsigned depth)
{
    switch (token >> 24) {
    case 0x02:
        put_typedef(t, token & 0x00FFFFFFu);
        break;
    case TYPEREF_TABLE:
        put_typeref(t, token & 0x00FFFFFFu);
        break;
    default:
        put_typespec(t, token, depth);
    }
}

/* GenericParam (II.22.20) is sorted by Owner (a TypeOrMethodDef coded
 * index: rid << 1 | 1 for a method) then Number: a binary search. */
static bool put_generic_name(text_t *t, uint32_t owner, uint32_t number)
{
    const ilheap_pe_t *pe = t->pe;
    uint32_t lo = 1, hi = pe->tables[GENERICPARAM_TABLE].rows + 1;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        uint32_t o = ilheap__cell(pe, GENERICPARAM_TABLE, mid, GP_OWNER);
        if (o < owner || (o == owner && ilheap__cell(pe, GENERICPARAM_TABLE, mid, GP_NUMBER) < number))
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo <= pe->tables[GENERICPARAM_TABLE].rows && ilheap__cell(pe, GENERICPARAM_TABLE, lo, GP_OWNER) == owner &&
           ilheap__cell(pe, GENERICPARAM_TABLE, lo, GP_NUMBER) == number &&
           put_string(t, ilheap__cell(pe, GENERICPARAM_TABLE, lo, GP_NAME), false);
}

static void put_generic_parameter(text_t *t, const ilheap_sig_type_t *n)
{
    bool method = n->element == ILHEAP_ET_MVAR;
    uint32_t owner = method ? t->method : t->type;
    if (owner == 0 || owner > 0x7FFFFFFFu || !put_generic_name(t, owner << 1 | (method ? 1u : 0u), n->u.number))
        put_number(t, method ? "!!" : "!", n->u.number);
}

static void put_list(text_t *t, const ilheap_sig_t *s, unsigned depth);

static void put_generic_instance(text_t *t, const ilheap_sig_type_t *n, unsigned depth)
{
    put_token(t, n->inner->u.token, depth);
    put(t, "<");
    for (uint32_t i = 0; i < n->u.generic.count; i++) {
        if (i != 0)
            put(t, t->cecil ? "," : ", ");
        put_type(t, n->u.generic.args[i], depth + 1);
    }
    put(t, ">");
}

/* Cecil's array suffix: "[]" for SZARRAY; ARRAY's dimensions "lo...hi",
 * "lo..." or "" each. C#: "[]", "[,]". */
static void put_array_suffix(text_t *t, const ilheap_sig_type_t *n)
{
    put(t, "[");
    for (uint32_t i = 0; n->element == ILHEAP_ET_ARRAY && i < n->u.array.rank; i++) {
        if (i != 0)
            put(t, ",");
        if (!t->cecil || i >= n->u.array.bound_count)
            continue;
        int64_t lower = n->u.array.lower_bounds[i];
        put_number(t, "", lower);
        put(t, "...");
        if (i < n->u.array.size_count)
            put_number(t, "", lower + (int64_t)n->u.array.sizes[i] - 1);
    }
    put(t, "]");
}

static void put_function_pointer(text_t *t, const ilheap_sig_t *m, unsigned depth)
{
    if (t->cecil) {
        put(t, "method ");
        put_type(t, m->ret.type, depth + 1);
        put(t, " *");
        put_list(t, m, depth + 1);
        return;
    }
    put(t, (m->header & ILHEAP_SIG_CC_MASK) != ILHEAP_SIG_CC_DEFAULT ? "delegate* unmanaged<" : "delegate*<");
    for (uint32_t i = 0; i < m->count; i++) {
        put_type(t, m->params[i].type, depth + 1);
        put(t, ", ");
    }
    put_type(t, m->ret.type, depth + 1);
    put(t, ">");
}

/* The wrappers C# writes before the type (ref) and Cecil after it (&, *,
 * [], modreq(..), pinned) are written around the rest of the chain. */
static void put_type(text_t *t, const ilheap_sig_type_t *n, unsigned depth)
{
    if (n == NULL || depth > ILHEAP_SIG_MAX_DEPTH) {
        put(t, "?");
        return;
    }
    switch (n->element) {
    case ILHEAP_ET_CMOD_REQD:
    case ILHEAP_ET_CMOD_OPT:
    case ILHEAP_ET_CMOD_INTERNAL:
        put_type(t, n->inner, depth + 1);
        if (t->cecil && n->element != ILHEAP_ET_CMOD_INTERNAL) {
            put(t, n->element == ILHEAP_ET_CMOD_REQD ? " modreq(" : " modopt(");
            put_token(t, n->u.token, depth);
            put(t, ")");
        }
        return;
    case ILHEAP_ET_BYREF:
        if (!t->cecil)
            put(t, "ref ");
        put_type(t, n->inner, depth + 1);
        if (t->cecil)
            put(t, "&");
        return;
    case ILHEAP_ET_PINNED:
        put_type(t, n->inner, depth + 1);
        put(t, t->cecil ? " pinned" : "");
        return;
    case ILHEAP_ET_PTR:
        put_type(t, n->inner, depth + 1);
        put(t, "*");
        return;
    case ILHEAP_ET_SZARRAY:
    case ILHEAP_ET_ARRAY:
        put_type(t, n->inner, depth + 1);
        put_array_suffix(t, n);
        return;
    case ILHEAP_ET_VALUETYPE:
    case ILHEAP_ET_CLASS:
        put_token(t, n->u.token, depth);
        return;
    case ILHEAP_ET_GENERICINST:
        put_generic_instance(t, n, depth);
        return;
    case ILHEAP_ET_VAR:
    case ILHEAP_ET_MVAR:
        put_generic_parameter(t, n);
        return;
    case ILHEAP_ET_FNPTR:
        put_function_pointer(t, n->u.method, depth);
        return;
    case ILHEAP_ET_INTERNAL:
        put(t, "(internal)");
        return;
    default:
        if (!t->cecil && ilheap__sig_csharp_name(n->element) != NULL)
            put(t, ilheap__sig_csharp_name(n->element));
        else if (ilheap_sig_element_name(n->element) != NULL) {
            put(t, "System.");
            put(t, ilheap_sig_element_name(n->element));
        } else {
            put(t, "?");
        }
    }
}

/* "(A, B)" or Cecil's "(A,B)"; a vararg call site's SENTINEL as Cecil
 * writes it ("...,") or C#'s __arglist; a vararg definition ends in
 * "__arglist" (C#) or "..." (Cecil). */
static void put_list(text_t *t, const ilheap_sig_t *s, unsigned depth)
{
    const char *comma = t->cecil ? "," : ", ";
    put(t, "(");
    for (uint32_t i = 0; i < s->count; i++) {
        if (i != 0)
            put(t, comma);
        if (s->has_sentinel && s->sentinel == i)
            put(t, t->cecil ? "...," : "__arglist, ");
        put_type(t, s->params[i].type, depth);
    }
    if ((s->header & ILHEAP_SIG_CC_MASK) == ILHEAP_SIG_CC_VARARG && !s->has_sentinel &&
        s->kind == ILHEAP_SIG_METHOD_DEF) {
        put(t, s->count != 0 ? comma : "");
        put(t, t->cecil ? "..." : "__arglist");
    }
    put(t, ")");
}

static void put_signature(text_t *t, const ilheap_sig_t *s, unsigned style)
{
    switch (s->kind) {
    case ILHEAP_SIG_FIELD:
    case ILHEAP_SIG_TYPESPEC:
        put_type(t, s->ret.type, 0);
        return;
    case ILHEAP_SIG_METHODSPEC:
        put(t, "<");
        for (uint32_t i = 0; i < s->count; i++) {
            put(t, i == 0 ? "" : t->cecil ? "," : ", ");
            put_type(t, s->params[i].type, 0);
        }
        put(t, ">");
        return;
    default:
        if ((style & ILHEAP_SIG_TEXT_RETURN) && s->kind != ILHEAP_SIG_LOCALS) {
            put_type(t, s->ret.type, 0);
            put(t, " ");
        }
        put_list(t, s, 0);
    }
}

ilheap_status_t ilheap_pe_sig_text(const ilheap_pe_t *pe, const ilheap_sig_t *sig, uint32_t method_token,
                                   unsigned style, char *buf, size_t size, size_t *length, ilheap_pe_error_t *error)
{
    if (pe == NULL || pe->magic != ILHEAP__PE_HANDLE_MAGIC)
        return ilheap__pe_fail(error, ILHEAP_PE_BAD_HANDLE, ILHEAP_PE_NO_OFFSET, "sig_text");
    if (sig == NULL || buf == NULL || size == 0)
        return ilheap__pe_fail(error, ILHEAP_EINVAL, ILHEAP_PE_NO_OFFSET, "sig_text with no signature or buffer");
    text_t t = {.pe = pe, .cecil = (style & ILHEAP_SIG_TEXT_CECIL) != 0, .buf = buf, .size = size};
    if (method_token >> 24 == 0x06 && (method_token & 0x00FFFFFFu) != 0 &&
        ilheap_pe_method_owner(pe, method_token & 0x00FFFFFFu, &t.type, NULL) == ILHEAP_OK)
        t.method = method_token & 0x00FFFFFFu;
    put_signature(&t, sig, style);
    buf[t.length < size ? t.length : size - 1] = '\0';
    if (length != NULL)
        *length = t.length;
    if (t.length >= size)
        return ilheap__pe_fail(error, ILHEAP_EINVAL, ILHEAP_PE_NO_OFFSET, "signature text of %zu bytes, buffer of %zu",
                               t.length, size);
    return ILHEAP_OK;
}

ilheap_status_t ilheap_pe_signature_text(const ilheap_pe_t *pe, uint32_t token, unsigned style, char *buf,
                                         size_t size, size_t *length, ilheap_pe_error_t *error)
{
    uint64_t memory[2048]; /* most signatures; a larger one gets a heap arena */
    ilheap_sig_arena_t arena = {memory, sizeof memory, 0};
    ilheap_sig_t sig;
    ilheap_status_t st = ilheap_pe_decode_signature(pe, token, &arena, &sig, error);
    void *grown = NULL;
    if (st == ILHEAP_SIG_NO_ROOM) {
        const uint8_t *blob;
        size_t blob_size;
        ilheap_pe_signature(pe, token, &blob, &blob_size, NULL, NULL, NULL);
        size_t bound = ilheap_sig_memory_bound(blob_size);
        if ((grown = ilheap__mem_alloc(1, bound)) == NULL)
            return ilheap__pe_fail(error, ILHEAP_ENOMEM, ILHEAP_PE_NO_OFFSET, "%zu bytes to decode %#x", bound, token);
        arena = (ilheap_sig_arena_t){grown, bound, 0};
        st = ilheap_pe_decode_signature(pe, token, &arena, &sig, error);
    }
    if (st == ILHEAP_OK)
        st = ilheap_pe_sig_text(pe, &sig, token, style, buf, size, length, error);
    ilheap__mem_free(grown);
    return st;
}
