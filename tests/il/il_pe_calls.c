/* The metadata callbacks of il_pe_calls.h. */
#include <stdlib.h>
#include <string.h>

#include "il_pe_calls.h"
#include "pe/image.h" /* a MethodSpec's method: no public accessor (a profiler asks IMetaDataImport) */

/* The method a MethodSpec instantiates (MethodDefOrRef: one tag bit). */
static uint32_t spec_method(const ilheap_pe_t *pe, uint32_t token)
{
    uint32_t rid = token & 0xFFFFFFu;
    if (rid == 0 || rid > ilheap_pe_row_count(pe, ILHEAP__T_METHODSPEC))
        return 0;
    uint32_t coded = ilheap__cell(pe, ILHEAP__T_METHODSPEC, rid, 0);
    return (coded & 1 ? 0x0A000000u : 0x06000000u) | coded >> 1;
}

static ilheap_status_t decode(il_pe_calls_t *c, uint32_t token, ilheap_sig_t *sig)
{
    ilheap_pe_error_t err;
    const uint8_t *blob;
    size_t size;
    if (token >> 24 == ILHEAP__T_METHODSPEC)
        token = spec_method(c->pe, token);
    ilheap_status_t st = ilheap_pe_signature(c->pe, token, &blob, &size, NULL, NULL, &err);
    size_t need = st == ILHEAP_OK ? ilheap_sig_memory_bound(size) : 0;
    if (need > c->arena_size) {
        free(c->arena);
        c->arena = malloc(need);
        c->arena_size = c->arena ? need : 0;
        if (c->arena == NULL)
            return ILHEAP_ENOMEM;
    }
    ilheap_sig_arena_t arena = {c->arena, c->arena_size, 0};
    return st == ILHEAP_OK ? ilheap_pe_decode_signature(c->pe, token, &arena, sig, &err) : st;
}

ilheap_status_t il_pe_stack_fn(void *ctx, uint16_t opcode, uint32_t token, uint32_t *pops, uint32_t *pushes)
{
    ilheap_sig_t sig;
    ilheap_status_t st = decode(ctx, token, &sig);
    return st == ILHEAP_OK ? ilheap_rw_call_effect(&sig, opcode, pops, pushes) : st;
}

int il_pe_verify_call(void *ctx, uint16_t opcode, uint32_t token, uint32_t *pops, uint32_t *pushes)
{
    return il_pe_stack_fn(ctx, opcode, token, pops, pushes) == ILHEAP_OK;
}

ilheap_status_t il_pe_method_sig(il_pe_calls_t *c, uint32_t method, ilheap_sig_t *sig)
{
    return decode(c, method, sig);
}

long il_pe_local_count(il_pe_calls_t *c, uint32_t local_sig)
{
    const uint8_t *blob;
    size_t size;
    uint32_t count;
    ilheap_sig_kind_t kind;
    ilheap_pe_error_t err;
    if (local_sig == 0)
        return 0;
    if (ilheap_pe_signature(c->pe, local_sig, &blob, &size, &kind, NULL, &err) != ILHEAP_OK ||
        kind != ILHEAP_SIG_LOCALS || ilheap_sig_read_compressed(blob + 1, size - 1, &count) == 0)
        return -1;
    return (long)count;
}

int il_pe_is_ctor(void *ctx, uint32_t token)
{
    il_pe_calls_t *c = ctx;
    const char *name;
    ilheap_pe_error_t err;
    return ilheap_pe_member_name(c->pe, token, &name, &err) == ILHEAP_OK && strcmp(name, ".ctor") == 0;
}
