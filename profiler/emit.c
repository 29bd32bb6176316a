/* Tokens the probes call, emitted into each instrumented module: CoreLib's
 * System.Threading.Interlocked::Increment(int64&) (ILHEAP_ATOMIC) and
 * ::Add(int64&, int64), and System.Diagnostics.Stopwatch::GetTimestamp()
 * (ILHEAP_MODE=timing), so that a probe can be `ldc.i8 addr; conv.u; call
 * Increment; pop` (an unmanaged pointer where a byref is expected is
 * allowed, ECMA-335 I.12.3.2.1) or `call GetTimestamp`. And the token of a
 * new local signature (a wrapper's locals).
 *
 * In CoreLib a method is its own MethodDef. Elsewhere the profiler emits,
 * through IMetaDataEmit, an AssemblyRef to System.Private.CoreLib (the
 * runtime binds that name to CoreLib whatever version a reference asks for,
 * at or below its own), a TypeRef and a MemberRef; the metadata emitters
 * serialize concurrent callers. */
#include "profiler.h"

static const WCHAR corelib_name[] = {'S', 'y', 's', 't', 'e', 'm', '.', 'P', 'r', 'i', 'v', 'a',
                                     't', 'e', '.', 'C', 'o', 'r', 'e', 'L', 'i', 'b', 0};
static const WCHAR interlocked_name[] = {'S', 'y', 's', 't', 'e', 'm', '.', 'T', 'h', 'r',
                                         'e', 'a', 'd', 'i', 'n', 'g', '.', 'I', 'n', 't',
                                         'e', 'r', 'l', 'o', 'c', 'k', 'e', 'd', 0};
static const WCHAR stopwatch_name[] = {'S', 'y', 's', 't', 'e', 'm', '.', 'D', 'i', 'a', 'g', 'n', 'o',
                                       's', 't', 'i', 'c', 's', '.', 'S', 't', 'o', 'p', 'w', 'a', 't',
                                       'c', 'h', 0};
static const WCHAR increment_name[] = {'I', 'n', 'c', 'r', 'e', 'm', 'e', 'n', 't', 0};
static const WCHAR add_name[] = {'A', 'd', 'd', 0};
static const WCHAR timestamp_name[] = {'G', 'e', 't', 'T', 'i', 'm', 'e', 's', 't', 'a', 'm', 'p', 0};

/* ECMA-335 II.23.2.1: DEFAULT, the parameter count, the return type, the
 * parameters (I8 0x0A, BYREF 0x10). */
static const BYTE increment_sig[] = {0x00, 0x01, 0x0A, 0x10, 0x0A};
static const BYTE add_sig[] = {0x00, 0x02, 0x0A, 0x10, 0x0A, 0x0A};
static const BYTE timestamp_sig[] = {0x00, 0x00, 0x0A};

static const struct {
    const WCHAR *type, *name;
    const BYTE *sig;
    ULONG sig_size;
} refs[PROF_REF_COUNT] = {
    [PROF_REF_INCREMENT] = {interlocked_name, increment_name, increment_sig, sizeof increment_sig},
    [PROF_REF_ADD] = {interlocked_name, add_name, add_sig, sizeof add_sig},
    [PROF_REF_TIMESTAMP] = {stopwatch_name, timestamp_name, timestamp_sig, sizeof timestamp_sig},
};

/* CoreLib's public key token (ECMA-335 II.6.3: the low 8 bytes of the key's SHA-1). */
static const BYTE corelib_token[] = {0x7C, 0xEC, 0x85, 0xD7, 0xBE, 0xA7, 0x79, 0x8E};

static mdToken corelib_method(ModuleID id, prof_ref_t which)
{
    IUnknown *unk = NULL;
    if (CLR_FAILED(prof_g.info->lpVtbl->GetModuleMetaData(prof_g.info, id, CLR_OF_READ,
                                                          &clr_IID_IMetaDataImport, &unk)) ||
        !unk)
        return 0;
    IMetaDataImport *md = (IMetaDataImport *)unk;
    mdTypeDef td = 0;
    mdMethodDef mb = 0;
    if (CLR_FAILED(md->lpVtbl->FindTypeDefByName(md, refs[which].type, 0, &td)) ||
        CLR_FAILED(md->lpVtbl->FindMethod(md, td, refs[which].name, refs[which].sig, refs[which].sig_size, &mb)))
        mb = 0;
    md->lpVtbl->Release(md);
    return mb;
}

static IMetaDataEmit *open_emit(ModuleID id)
{
    IUnknown *unk = NULL;
    if (CLR_FAILED(prof_g.info->lpVtbl->GetModuleMetaData(prof_g.info, id, CLR_OF_READ | CLR_OF_WRITE,
                                                          &clr_IID_IMetaDataEmit, &unk)))
        return NULL;
    return (IMetaDataEmit *)unk;
}

static mdToken member_ref(ModuleID id, prof_ref_t which)
{
    IMetaDataEmit *emit = open_emit(id);
    if (!emit)
        return 0;
    IMetaDataAssemblyEmit *asm_emit = NULL;
    mdToken result = 0;
    if (!CLR_FAILED(emit->lpVtbl->QueryInterface(emit, &clr_IID_IMetaDataAssemblyEmit,
                                                 (void **)&asm_emit)) &&
        asm_emit) {
        ASSEMBLYMETADATA amd = {.major = 4};
        mdToken assembly_ref = 0, type_ref = 0, mr = 0;
        if (!CLR_FAILED(asm_emit->lpVtbl->DefineAssemblyRef(asm_emit, corelib_token,
                                                            sizeof corelib_token, corelib_name,
                                                            &amd, NULL, 0, 0, &assembly_ref)) &&
            !CLR_FAILED(emit->lpVtbl->DefineTypeRefByName(emit, assembly_ref, refs[which].type, &type_ref)) &&
            !CLR_FAILED(emit->lpVtbl->DefineMemberRef(emit, type_ref, refs[which].name, refs[which].sig,
                                                      refs[which].sig_size, &mr)))
            result = mr;
        asm_emit->lpVtbl->Release(asm_emit);
    }
    emit->lpVtbl->Release(emit);
    return result;
}

mdToken prof_emit_ref(ModuleID id, int is_corelib, prof_ref_t which)
{
    return is_corelib ? corelib_method(id, which) : member_ref(id, which);
}

mdToken prof_emit_local_sig(ModuleID id, const uint8_t *sig, size_t size)
{
    IMetaDataEmit *emit = size <= UINT32_MAX ? open_emit(id) : NULL;
    if (!emit)
        return 0;
    mdToken tok = 0;
    if (CLR_FAILED(emit->lpVtbl->GetTokenFromSig(emit, sig, (ULONG)size, &tok)))
        tok = 0;
    emit->lpVtbl->Release(emit);
    return tok;
}
