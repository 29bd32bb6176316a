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

void prof_utf16_to_utf8(const WCHAR *in, size_t n, char *out, size_t out_size)
{
    size_t o = 0;
    if (out_size == 0)
        return;
    for (size_t i = 0; i < n && in[i]; i++) {
        uint32_t cp = in[i];
        if (cp >= 0xD800 && cp <= 0xDBFF && i + 1 < n && in[i + 1] >= 0xDC00 && in[i + 1] <= 0xDFFF) {
            cp = 0x10000 + ((cp - 0xD800) << 10) + (in[i + 1] - 0xDC00);
            i++;
        } else if (cp >= 0xD800 && cp <= 0xDFFF) {
            cp = 0xFFFD;
        }
        char tmp[4];
        size_t len;
        if (cp < 0x80) {
            tmp[0] = (char)cp;
            len = 1;
        } else if (cp < 0x800) {
            tmp[0] = (char)(0xC0 | (cp >> 6));
            tmp[1] = (char)(0x80 | (cp & 0x3F));
            len = 2;
        } else if (cp < 0x10000) {
            tmp[0] = (char)(0xE0 | (cp >> 12));
            tmp[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
            tmp[2] = (char)(0x80 | (cp & 0x3F));
            len = 3;
        } else {
            tmp[0] = (char)(0xF0 | (cp >> 18));
            tmp[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
            tmp[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
            tmp[3] = (char)(0x80 | (cp & 0x3F));
            len = 4;
        }
        if (o + len >= out_size)
            break;
        memcpy(out + o, tmp, len);
        o += len;
    }
    out[o] = '\0';
}
