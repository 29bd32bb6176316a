/* Method names and attributes through the runtime's metadata
 * (IMetaDataImport): the names of the counts file, ILHEAP_REPLACE's target,
 * and the CoreLib methods instrumentation must leave alone (what the probes
 * call).
 *
 * A name is "Namespace.Type::Method"; a nested type is "Outer+Inner" (the
 * enclosing chain from GetNestedClassProps), generic arity as metadata spells
 * it ("List`1"). */
#include "profiler.h"

#include "ilheap/pe.h" /* ilheap_pe_utf16_to_utf8 */

#define NEST_MAX 64 /* deeper nesting than any compiler emits: the name is cut */

/* The type's name (nested: "Outer+Inner") into out; 0 or -1. */
static int type_name(IMetaDataImport *md, mdTypeDef td, char *out, size_t cap)
{
    mdTypeDef chain[NEST_MAX];
    size_t n = 0;
    for (mdTypeDef t = td; t && n < NEST_MAX;) {
        chain[n++] = t;
        mdTypeDef outer = 0;
        if (md->lpVtbl->GetNestedClassProps(md, t, &outer) != CLR_S_OK)
            break; /* not nested (CLDB_E_RECORD_NOTFOUND) */
        t = outer;
    }
    size_t o = 0;
    out[0] = '\0';
    for (size_t i = n; i-- > 0;) {
        WCHAR w[PROF_NAME_MAX];
        ULONG cch = 0;
        if (CLR_FAILED(md->lpVtbl->GetTypeDefProps(md, chain[i], w, PROF_NAME_MAX, &cch, NULL, NULL)))
            return -1;
        char part[PROF_NAME_MAX * 3];
        ilheap_pe_utf16_to_utf8(w, cch < PROF_NAME_MAX ? cch : PROF_NAME_MAX, part, sizeof part);
        int k = snprintf(out + o, cap - o, "%s%s", i + 1 < n ? "+" : "", part);
        if (k < 0 || (size_t)k >= cap - o)
            return -1;
        o += (size_t)k;
    }
    return 0;
}

int prof_names_method(IMetaDataImport *md, mdMethodDef token, char *out, size_t cap)
{
    WCHAR w[PROF_NAME_MAX];
    ULONG cch = 0;
    mdTypeDef cls = 0;
    if (cap == 0 || CLR_FAILED(md->lpVtbl->GetMethodProps(md, token, &cls, w, PROF_NAME_MAX, &cch,
                                                          NULL, NULL, NULL, NULL, NULL)))
        return -1;
    char method[PROF_NAME_MAX * 3];
    ilheap_pe_utf16_to_utf8(w, cch < PROF_NAME_MAX ? cch : PROF_NAME_MAX, method, sizeof method);
    if (cls == 0x02000000u || cls == 0) { /* a global function: <Module> */
        snprintf(out, cap, "<Module>::%s", method);
        return 0;
    }
    if (type_name(md, cls, out, cap) != 0)
        return -1;
    size_t o = strlen(out);
    int k = snprintf(out + o, cap - o, "::%s", method);
    return k < 0 || (size_t)k >= cap - o ? -1 : 0;
}

/* UTF-16 literals without <uchar.h>: WCHAR is 16-bit on every target. */
static const WCHAR intrinsic_attr[] = {
    'S', 'y', 's', 't', 'e', 'm', '.', 'R', 'u', 'n', 't', 'i', 'm', 'e', '.', 'C', 'o', 'm',
    'p', 'i', 'l', 'e', 'r', 'S', 'e', 'r', 'v', 'i', 'c', 'e', 's', '.', 'I', 'n', 't', 'r',
    'i', 'n', 's', 'i', 'c', 'A', 't', 't', 'r', 'i', 'b', 'u', 't', 'e', 0};

/* timing: the clock its probes read (Stopwatch.GetTimestamp, and what it
 * calls to read the system's clock): timing them would recurse. */
static int timing_clock(IMetaDataImport *md, mdMethodDef token, const char *type)
{
    if (strcmp(type, "System.Diagnostics.Stopwatch") == 0)
        return 1;
    if (strcmp(type, "Interop+Sys") != 0 && strcmp(type, "Interop+Kernel32") != 0)
        return 0;
    char name[PROF_NAME_MAX * 3];
    if (prof_names_method(md, token, name, sizeof name) != 0)
        return 1;
    const char *method = strstr(name, "::") + 2; /* prof_names_method writes "Type::Method" */
    return strcmp(method, "GetTimestamp") == 0 || strcmp(method, "QueryPerformanceCounter") == 0;
}

int prof_names_leave_alone(IMetaDataImport *md, mdMethodDef token)
{
    mdTypeDef cls = 0;
    if (CLR_FAILED(md->lpVtbl->GetMethodProps(md, token, &cls, NULL, 0, NULL, NULL, NULL, NULL,
                                              NULL, NULL)))
        return 1; /* unreadable: leave it */
    const void *data = NULL;
    ULONG cb = 0;
    if (md->lpVtbl->GetCustomAttributeByName(md, token, intrinsic_attr, &data, &cb) == CLR_S_OK)
        return 1;
    for (mdTypeDef t = cls; t && t != 0x02000000u;) {
        if (md->lpVtbl->GetCustomAttributeByName(md, t, intrinsic_attr, &data, &cb) == CLR_S_OK)
            return 1;
        mdTypeDef outer = 0;
        if (md->lpVtbl->GetNestedClassProps(md, t, &outer) != CLR_S_OK)
            break;
        t = outer;
    }
    char name[PROF_NAME_MAX * 3];
    if (type_name(md, cls, name, sizeof name) != 0)
        return 1;
    if (strcmp(name, "System.Threading.Interlocked") == 0)
        return 1;
    return prof_g.config.mode == PROF_MODE_TIMING && timing_clock(md, token, name);
}

int prof_names_is_replace_target(ModuleID mod, mdMethodDef token)
{
    const prof_config_t *cfg = &prof_g.config;
    IUnknown *unk = NULL;
    HRESULT hr = prof_g.info->lpVtbl->GetModuleMetaData(prof_g.info, mod, CLR_OF_READ,
                                                        &clr_IID_IMetaDataImport, &unk);
    if (CLR_FAILED(hr) || !unk)
        return 0;
    IMetaDataImport *md = (IMetaDataImport *)unk;
    char name[PROF_NAME_MAX * 3];
    int match = prof_names_method(md, token, name, sizeof name) == 0;
    if (match) {
        const char *sep = strstr(name, "::");
        match = sep && (size_t)(sep - name) == strlen(cfg->replace_type) &&
                memcmp(name, cfg->replace_type, (size_t)(sep - name)) == 0 &&
                strcmp(sep + 2, cfg->replace_method) == 0;
    }
    md->lpVtbl->Release(md);
    return match;
}
