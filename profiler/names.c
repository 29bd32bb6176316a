/* Method names through the runtime's metadata (IMetaDataImport), for
 * ILHEAP_REPLACE=Namespace.Type::Method=VALUE.
 *
 * GetTypeDefProps gives a top-level type's full name ("Namespace.Type"); a
 * nested type gives only its own name, so targets are top-level types. The
 * method name is compared first: it is the cheap, selective test. */
#include "profiler.h"

int prof_names_is_replace_target(FunctionID id)
{
    const prof_config_t *cfg = &prof_g.config;
    IUnknown *unk = NULL;
    mdToken token = 0;
    HRESULT hr = prof_g.info->lpVtbl->GetTokenAndMetaDataFromFunction(
        prof_g.info, id, &clr_IID_IMetaDataImport, &unk, &token);
    if (CLR_FAILED(hr) || !unk)
        return 0;
    IMetaDataImport *md = (IMetaDataImport *)unk;
    int match = 0;
    WCHAR wname[PROF_NAME_MAX];
    char name[PROF_NAME_MAX * 3];
    ULONG cch = 0;
    mdTypeDef cls = 0;
    hr = md->lpVtbl->GetMethodProps(md, token, &cls, wname, PROF_NAME_MAX, &cch, NULL, NULL, NULL,
                                    NULL, NULL);
    if (!CLR_FAILED(hr)) {
        prof_utf16_to_utf8(wname, cch < PROF_NAME_MAX ? cch : PROF_NAME_MAX, name, sizeof name);
        if (strcmp(name, cfg->replace_method) == 0) {
            cch = 0;
            hr = md->lpVtbl->GetTypeDefProps(md, cls, wname, PROF_NAME_MAX, &cch, NULL, NULL);
            if (!CLR_FAILED(hr)) {
                prof_utf16_to_utf8(wname, cch < PROF_NAME_MAX ? cch : PROF_NAME_MAX, name,
                                   sizeof name);
                match = strcmp(name, cfg->replace_type) == 0;
            }
        }
    }
    md->lpVtbl->Release(md);
    return match;
}
