/* The signature codec's contract on arbitrary bytes, shared by the fuzzer
 * (fuzz_sig.c) and the corpus replay in test_sig.c. The first byte picks the
 * kind (low 3 bits) and the INTERNAL pointer size (bits 3-4); the rest is
 * the blob. A decode either fails with an ILHEAP_SIG_* status, its offset
 * inside the blob and the arena untouched, or succeeds inside the memory
 * bound; then the encoding gives the blob back when it was canonical, and
 * always decodes again to a tree that encodes to the same bytes. Returns 1
 * when the bytes decoded, 0 when they were refused, -1 (with why) when a
 * contract broke. */
#ifndef ILHEAP_TESTS_PE_SIG_CHECK_H
#define ILHEAP_TESTS_PE_SIG_CHECK_H

#include "ilheap/sig.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static inline int sig_check_fail(char *why, size_t why_size, const char *what)
{
    snprintf(why, why_size, "%s", what);
    return -1;
}

/* Encodes sig into a malloc'd buffer (*out), checking that measuring and
 * writing agree. */
static inline int sig_check_encode(const ilheap_sig_t *sig, uint8_t **out, size_t *size, char *why, size_t why_size)
{
    ilheap_sig_error_t err;
    size_t need = 0, n = 0;
    if (ilheap_sig_encode(sig, NULL, 0, &need, &err) != (need == 0 ? ILHEAP_OK : ILHEAP_SIG_NO_ROOM))
        return sig_check_fail(why, why_size, "a decoded tree does not measure");
    *out = malloc(need + 1);
    if (*out == NULL)
        return sig_check_fail(why, why_size, "out of memory");
    if (ilheap_sig_encode(sig, *out, need, &n, &err) != ILHEAP_OK || n != need)
        return sig_check_fail(why, why_size, "a decoded tree does not encode in the size it measured");
    *size = n;
    return 0;
}

static inline int sig_check_bytes(const uint8_t *data, size_t size, char *why, size_t why_size)
{
    if (size == 0)
        return 0;
    ilheap_sig_kind_t kind = (ilheap_sig_kind_t)(data[0] & 7);
    unsigned flags = data[0] >> 3 & 3;
    const uint8_t *blob = data + 1;
    size_t n = size - 1, bound = ilheap_sig_memory_bound(n);
    void *memory = malloc(bound), *again_memory = malloc(bound);
    uint8_t *out = NULL, *out2 = NULL;
    size_t out_size = 0, out2_size = 0;
    int rc = -1;
    ilheap_sig_arena_t arena = {memory, bound, 0}, again_arena = {again_memory, bound, 0};
    ilheap_sig_t sig, again;
    ilheap_sig_error_t err;
    if (memory == NULL || again_memory == NULL) {
        rc = sig_check_fail(why, why_size, "out of memory");
        goto done;
    }
    ilheap_status_t st = ilheap_sig_decode(kind, blob, n, flags, &arena, &sig, &err);
    if (st != ILHEAP_OK) {
        bool sig_status = st >= ILHEAP_SIG_TRUNCATED && st <= ILHEAP_SIG_BAD_TREE && st != ILHEAP_SIG_NO_ROOM;
        rc = sig_status && err.status == st && err.offset <= n && arena.used == 0
                 ? 0
                 : sig_check_fail(why, why_size, "a refusal broke its contract (status, offset or arena)");
        goto done;
    }
    if (arena.used > bound || sig.size != n || (kind != ILHEAP_SIG_ANY && sig.kind != kind))
        goto broke;
    for (uint32_t i = 0; i < sig.count; i++) {
        ilheap_sig_param_t p;
        ilheap_sig_describe(sig.params[i].type, &p);
        p.vararg = sig.params[i].vararg;
        if (memcmp(&p, &sig.params[i], sizeof p) != 0 || p.offset + (uint64_t)p.size > n)
            goto broke;
    }
    if (sig_check_encode(&sig, &out, &out_size, why, why_size) != 0)
        goto done;
    if (sig.canonical && (out_size != n || memcmp(out, blob, n) != 0)) {
        rc = sig_check_fail(why, why_size, "a canonical blob does not encode back to itself");
        goto done;
    }
    if (ilheap_sig_decode(sig.kind, out, out_size, flags, &again_arena, &again, &err) != ILHEAP_OK ||
        !again.canonical || sig_check_encode(&again, &out2, &out2_size, why, why_size) != 0 ||
        out2_size != out_size || memcmp(out, out2, out_size) != 0) {
        rc = sig_check_fail(why, why_size, "an encoding does not decode and encode to itself");
        goto done;
    }
    rc = 1;
    goto done;
broke:
    rc = sig_check_fail(why, why_size, "a decoded signature broke its contract (bound, kind, summaries)");
done:
    free(memory);
    free(again_memory);
    free(out);
    free(out2);
    return rc;
}

#endif
