/* Method signatures from a module's metadata, decoded by the library
 * (ilheap/sig.h): the stack effect of a call, callvirt, newobj or calli
 * token (what the rewriter's exact stack simulation asks, e.g. to find where
 * a constructor's base call ends), whether a token is an instance
 * constructor, whether a type has no base constructor to call (a struct, or
 * Object), and a method's own signature. */
#include "profiler.h"

#include <stdlib.h>

#include "ilheap/sig.h"

#define SIG_ON_STACK 4096

static const WCHAR ctor_name[] = {'.', 'c', 't', 'o', 'r', 0};
static const WCHAR value_type_name[] = {'S', 'y', 's', 't', 'e', 'm', '.', 'V', 'a', 'l', 'u', 'e',
                                        'T', 'y', 'p', 'e', 0};

int prof_md_open(ModuleID mod, prof_md_t *out)
{
    IUnknown *unk = NULL;
    out->md = NULL;
    out->md2 = NULL;
    if (CLR_FAILED(prof_g.info->lpVtbl->GetModuleMetaData(prof_g.info, mod, CLR_OF_READ, &clr_IID_IMetaDataImport,
                                                          &unk)) ||
        !unk)
        return -1;
    out->md = (IMetaDataImport *)unk;
    void *md2 = NULL;
    if (!CLR_FAILED(out->md->lpVtbl->QueryInterface(out->md, &clr_IID_IMetaDataImport2, &md2)))
        out->md2 = md2;
    return 0;
}

void prof_md_close(prof_md_t *m)
{
    if (m->md2)
        m->md2->lpVtbl->import.Release((IMetaDataImport *)(void *)m->md2);
    if (m->md)
        m->md->lpVtbl->Release(m->md);
    m->md = NULL;
    m->md2 = NULL;
}

/* The signature blob of a method token (a MethodSpec: its generic
 * method's), and how to decode it. 0, or -1. */
static int blob_of(const prof_md_t *m, uint32_t token, const BYTE **sig, ULONG *size, ilheap_sig_kind_t *kind)
{
    IMetaDataImport *md = m->md;
    mdToken parent = 0;
    *kind = ILHEAP_SIG_METHOD_REF;
    switch (token >> 24) {
    case 0x06: /* MethodDef */
        *kind = ILHEAP_SIG_METHOD_DEF;
        return CLR_FAILED(md->lpVtbl->GetMethodProps(md, token, NULL, NULL, 0, NULL, NULL, sig, size, NULL, NULL))
                   ? -1 : 0;
    case 0x0A: /* MemberRef: with a call site's vararg part */
        return CLR_FAILED(md->lpVtbl->GetMemberRefProps(md, token, NULL, NULL, 0, NULL, sig, size)) ? -1 : 0;
    case 0x11: /* StandAloneSig: calli */
        return CLR_FAILED(md->lpVtbl->GetSigFromToken(md, token, sig, size)) ? -1 : 0;
    case 0x2B: /* MethodSpec */
        if (!m->md2 || CLR_FAILED(m->md2->lpVtbl->GetMethodSpecProps(m->md2, token, &parent, NULL, NULL)) ||
            (parent >> 24) == 0x2B)
            return -1;
        return blob_of(m, parent, sig, size, kind);
    default:
        return -1;
    }
}

ilheap_status_t prof_sig_call_effect(void *ctx, uint16_t opcode, uint32_t token, uint32_t *pops, uint32_t *pushes)
{
    const prof_md_t *m = ctx;
    const BYTE *blob = NULL;
    ULONG size = 0;
    ilheap_sig_kind_t kind;
    if (blob_of(m, token, &blob, &size, &kind) != 0 || !blob)
        return ILHEAP_IL_STACK_UNKNOWN;
    size_t need = ilheap_sig_memory_bound(size);
    _Alignas(max_align_t) uint8_t local[SIG_ON_STACK];
    void *mem = need <= sizeof local ? local : malloc(need);
    if (!mem)
        return ILHEAP_ENOMEM;
    ilheap_sig_arena_t arena = {mem, need, 0};
    ilheap_sig_t sig;
    ilheap_status_t st = ilheap_sig_decode(kind, blob, size, 0, &arena, &sig, NULL);
    if (st == ILHEAP_OK)
        st = ilheap_rw_call_effect(&sig, opcode, pops, pushes);
    if (mem != local)
        free(mem);
    return st;
}

/* 1 when the name (UTF-16, cch with its NUL) is want. */
static int name_is(const WCHAR *name, ULONG cch, const WCHAR *want)
{
    ULONG i = 0;
    while (i < cch && want[i] && name[i] == want[i])
        i++;
    return i + 1 == cch && want[i] == 0 && name[i] == 0;
}

int prof_sig_is_ctor(void *ctx, uint32_t token)
{
    const prof_md_t *m = ctx;
    WCHAR name[8];
    ULONG cch = 0;
    HRESULT hr = CLR_E_FAIL;
    if ((token >> 24) == 0x06)
        hr = m->md->lpVtbl->GetMethodProps(m->md, token, NULL, name, 8, &cch, NULL, NULL, NULL, NULL, NULL);
    else if ((token >> 24) == 0x0A)
        hr = m->md->lpVtbl->GetMemberRefProps(m->md, token, NULL, name, 8, &cch, NULL, NULL);
    return !CLR_FAILED(hr) && cch <= 8 && name_is(name, cch, ctor_name);
}

int prof_sig_no_base_ctor(const prof_md_t *m, mdTypeDef type)
{
    IMetaDataImport *md = m->md;
    mdToken base = 0;
    WCHAR name[32];
    ULONG cch = 0;
    if (CLR_FAILED(md->lpVtbl->GetTypeDefProps(md, type, NULL, 0, NULL, NULL, &base)))
        return 0;
    if ((base & 0xFFFFFFu) == 0)
        return 1; /* System.Object (or an interface): nothing to call first */
    HRESULT hr = CLR_E_FAIL;
    if ((base >> 24) == 0x01)
        hr = md->lpVtbl->GetTypeRefProps(md, base, NULL, name, 32, &cch);
    else if ((base >> 24) == 0x02)
        hr = md->lpVtbl->GetTypeDefProps(md, base, name, 32, &cch, NULL, NULL);
    return !CLR_FAILED(hr) && cch <= 32 && name_is(name, cch, value_type_name);
}

int prof_sig_method(const prof_md_t *m, mdMethodDef tok, void *arena, size_t arena_size, prof_method_sig_t *out)
{
    WCHAR name[8];
    ULONG cch = 0, size = 0;
    DWORD attr = 0;
    const BYTE *blob = NULL;
    if (CLR_FAILED(m->md->lpVtbl->GetMethodProps(m->md, tok, &out->type, name, 8, &cch, &attr, &blob, &size, NULL,
                                                 NULL)) ||
        !blob)
        return -1;
    /* ECMA-335 II.23.1.10: mdStatic 0x10. */
    out->is_ctor = cch <= 8 && name_is(name, cch, ctor_name) && !(attr & 0x10u);
    ilheap_sig_arena_t a = {arena, arena_size, 0};
    return ilheap_sig_decode(ILHEAP_SIG_METHOD_DEF, blob, size, 0, &a, &out->sig, NULL) == ILHEAP_OK ? 0 : -1;
}

size_t prof_sig_method_memory(const prof_md_t *m, mdMethodDef tok)
{
    const BYTE *blob = NULL;
    ULONG size = 0;
    if (CLR_FAILED(m->md->lpVtbl->GetMethodProps(m->md, tok, NULL, NULL, 0, NULL, NULL, &blob, &size, NULL, NULL)))
        return 0;
    return ilheap_sig_memory_bound(size);
}
