/* Local variables: a LocalVarSig blob (ECMA-335 II.23.2.6) with locals
 * appended, for IMetaDataEmit::GetTokenFromSig. */
#include <stdlib.h>
#include <string.h>

#include "il/rewrite_internal.h"
#include "ilheap/rewrite.h"
#include "status_internal.h"

/* ECMA-335 II.23.2: compressed unsigned integers. */
static int read_compressed(const uint8_t *p, size_t avail, uint32_t *v, size_t *len)
{
    if (avail < 1)
        return 0;
    if ((p[0] & 0x80) == 0) {
        *v = p[0];
        *len = 1;
    } else if ((p[0] & 0xC0) == 0x80) {
        if (avail < 2)
            return 0;
        *v = (uint32_t)(p[0] & 0x3F) << 8 | p[1];
        *len = 2;
    } else if ((p[0] & 0xE0) == 0xC0) {
        if (avail < 4)
            return 0;
        *v = (uint32_t)(p[0] & 0x1F) << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
        *len = 4;
    } else {
        return 0;
    }
    return 1;
}

static size_t write_compressed(uint8_t *p, uint32_t v)
{
    if (v < 0x80) {
        p[0] = (uint8_t)v;
        return 1;
    }
    if (v < 0x4000) {
        p[0] = (uint8_t)(0x80 | v >> 8);
        p[1] = (uint8_t)v;
        return 2;
    }
    p[0] = (uint8_t)(0xC0 | v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
    return 4;
}

ilheap_status_t ilheap_rw_locals_append(const uint8_t *sig, size_t size, const uint8_t *new_types,
                                        size_t new_types_size, uint32_t new_count, uint8_t **out,
                                        size_t *out_size, uint32_t *first_index)
{
    if (out == NULL || out_size == NULL || (sig == NULL && size) ||
        (new_types == NULL && new_types_size))
        return ilheap__fail(ILHEAP_EINVAL, "NULL argument");
    *out = NULL;
    *out_size = 0;
    uint32_t old = 0;
    size_t hdr = 0;
    if (size) {
        size_t len;
        if (sig[0] != 0x07 || !read_compressed(sig + 1, size - 1, &old, &len))
            return ilheap__fail(ILHEAP_IL_BAD_SIG, "%s",
                                sig[0] != 0x07 ? "first byte is not LOCAL_SIG (0x07)"
                                               : "count runs past the blob");
        hdr = 1 + len;
    }
    if ((uint64_t)old + new_count > 0xFFFFu)
        return ilheap__fail(ILHEAP_IL_OVERFLOW, "%u + %u locals > 65535", old, new_count);
    if ((new_count == 0) != (new_types_size == 0))
        return ilheap__fail(ILHEAP_EINVAL, "%u new locals in %zu bytes", new_count, new_types_size);
    size_t rest = size - hdr;
    if (rest > SIZE_MAX - new_types_size - 8)
        return ilheap__fail(ILHEAP_IL_OVERFLOW, "signature size");
    uint8_t *b = malloc(5 + rest + new_types_size);
    if (b == NULL)
        return ilheap__fail(ILHEAP_ENOMEM, "%zu-byte signature", 5 + rest + new_types_size);
    size_t k = 0;
    b[k++] = 0x07;
    k += write_compressed(b + k, old + new_count);
    if (rest)
        memcpy(b + k, sig + hdr, rest);
    k += rest;
    if (new_types_size)
        memcpy(b + k, new_types, new_types_size);
    k += new_types_size;
    *out = b;
    *out_size = k;
    if (first_index != NULL)
        *first_index = old;
    return ILHEAP_OK;
}
