/* libFuzzer target for the Source Link JSON reader (src/pe/sourcelink.c): any
 * bytes parsed; a map that reads must give every entry as NUL-terminated
 * strings and match one of its own paths (ASan on any read past the input). */
#include "ilheap/pdb.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ilheap_source_link_t *link;
    ilheap_pe_error_t err;
    if (ilheap_source_link_parse(data, size, 0, &link, &err) != ILHEAP_OK) {
        if (err.status != ILHEAP_PE_BAD_SOURCE_LINK && err.status != ILHEAP_ENOMEM)
            abort();
        return 0;
    }
    for (size_t i = 0; i < ilheap_source_link_count(link); i++) {
        const char *path, *url;
        size_t index;
        if (!ilheap_source_link_entry(link, i, &path, &url) || strlen(url) > size)
            abort();
        if (!ilheap_source_link_match(link, path, &index))
            abort();
    }
    ilheap_source_link_free(link);
    return 0;
}
