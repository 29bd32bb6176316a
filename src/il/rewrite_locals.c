/* Local variables: a LocalVarSig blob (ECMA-335 II.23.2.6) with locals
 * appended, for IMetaDataEmit::GetTokenFromSig. */
#include <string.h>

#include "il/rewrite_internal.h"
#include "os/memory.h"
#include "pe/cursor.h" /* compressed integers (II.23.2) */
#include "ilheap/rewrite.h"
#include "pe/cursor.h" /* compressed integers (II.23.2) */
#include "status_internal.h"

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
        size_t len = ilheap__decode_compressed(sig + 1, size - 1, &old);
        if (sig[0] != 0x07 || len == 0)
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
    uint8_t *b = ilheap__mem_alloc(5 + rest + new_types_size, 1); /* malloc's: the caller frees it with free() */
    if (b == NULL)
        return ilheap__fail(ILHEAP_ENOMEM, "%zu-byte signature", 5 + rest + new_types_size);
    size_t k = 0;
    b[k++] = 0x07;
    k += ilheap__encode_compressed(old + new_count, b + k); /* at most 0xFFFF: never 0 */
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
