/* ILHEAP_ATOMIC=1: a token for System.Threading.Interlocked::Increment(
 * int64&) in each instrumented module, so that a probe can be
 * `ldc.i8 addr; conv.u; call Increment; pop` (an unmanaged pointer where a
 * byref is expected is allowed, ECMA-335 I.12.3.2.1).
 *
 * In CoreLib the method is its own MethodDef. Elsewhere the profiler emits,
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
static const WCHAR increment_name[] = {'I', 'n', 'c', 'r', 'e', 'm', 'e', 'n', 't', 0};

/* ECMA-335 II.23.2.1: DEFAULT, 1 parameter, returns I8, takes BYREF I8. */
static const BYTE increment_sig[] = {0x00, 0x01, 0x0A, 0x10, 0x0A};

/* CoreLib's public key token (ECMA-335 II.6.3: the low 8 bytes of the key's SHA-1). */
static const BYTE corelib_token[] = {0x7C, 0xEC, 0x85, 0xD7, 0xBE, 0xA7, 0x79, 0x8E};

static mdToken corelib_method(ModuleID id)
{
    IUnknown *unk = NULL;
    if (CLR_FAILED(prof_g.info->lpVtbl->GetModuleMetaData(prof_g.info, id, CLR_OF_READ,
                                                          &clr_IID_IMetaDataImport, &unk)) ||
        !unk)
        return 0;
    IMetaDataImport *md = (IMetaDataImport *)unk;
    mdTypeDef td = 0;
    mdMethodDef mb = 0;
    if (CLR_FAILED(md->lpVtbl->FindTypeDefByName(md, interlocked_name, 0, &td)) ||
        CLR_FAILED(md->lpVtbl->FindMethod(md, td, increment_name, increment_sig,
                                          sizeof increment_sig, &mb)))
        mb = 0;
    md->lpVtbl->Release(md);
    return mb;
}

static mdToken member_ref(ModuleID id)
{
    IUnknown *unk = NULL;
    if (CLR_FAILED(prof_g.info->lpVtbl->GetModuleMetaData(prof_g.info, id, CLR_OF_READ | CLR_OF_WRITE,
                                                          &clr_IID_IMetaDataEmit, &unk)) ||
        !unk)
        return 0;
    IMetaDataEmit *emit = (IMetaDataEmit *)unk;
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
            !CLR_FAILED(emit->lpVtbl->DefineTypeRefByName(emit, assembly_ref, interlocked_name,
                                                          &type_ref)) &&
            !CLR_FAILED(emit->lpVtbl->DefineMemberRef(emit, type_ref, increment_name, increment_sig,
                                                      sizeof increment_sig, &mr)))
            result = mr;
        asm_emit->lpVtbl->Release(asm_emit);
    }
    emit->lpVtbl->Release(emit);
    return result;
}

mdToken prof_emit_interlocked(ModuleID id, int is_corelib)
{
    return is_corelib ? corelib_method(id) : member_ref(id);
}
