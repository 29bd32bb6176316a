/* Counter probes for calls and blocks (include/ilheap/instrument.h), built
 * on the public rewriter API only; the edge probes are instrument_edges.c's. */
#include "il/instrument_internal.h"

#include <stdlib.h>
#include <string.h>

#include "os/memory.h"
#include "status_internal.h"

ilheap_status_t ilheap_instr_create(ilheap_instr_t **out)
{
    if (out == NULL)
        return ilheap__fail(ILHEAP_EINVAL, "ilheap_instr_create: out is NULL");
    *out = ilheap__mem_zalloc(1, sizeof **out);
    return *out != NULL ? ILHEAP_OK : ilheap__fail(ILHEAP_ENOMEM, "an instrumenter");
}

void ilheap_instr_destroy(ilheap_instr_t *in)
{
    if (in == NULL)
        return;
    ilheap__mem_free(in->at);
    ilheap__mem_free(in->keys);
    ilheap__mem_free(in->starts);
    ilheap__mem_free(in->in);
    ilheap__mem_free(in->edges);
    ilheap__mem_free(in);
}

ilheap_status_t ilheap__instr_reserve(ilheap_instr_t *in, size_t n)
{
    if (n <= in->cap)
        return ILHEAP_OK;
    size_t cap = n < 64 ? 64 : n + n / 2;
    if (cap > SIZE_MAX / sizeof *in->keys)
        return ilheap__fail(ILHEAP_ENOMEM, "%zu probes", n);
    ilheap_rw_id_t *at = ilheap__mem_realloc(in->at, cap, sizeof *at);
    if (at != NULL)
        in->at = at;
    ilheap_probe_key_t *keys = at != NULL ? ilheap__mem_realloc(in->keys, cap, sizeof *keys) : NULL;
    if (keys == NULL)
        return ilheap__fail(ILHEAP_ENOMEM, "room for %zu probes", n);
    in->keys = keys;
    in->cap = cap;
    return ILHEAP_OK;
}

/* The probes' places: the entry, or every block start. */
static ilheap_status_t places(ilheap_instr_t *in, ilheap_rw_t *rw, ilheap_instr_mode_t mode, size_t *n)
{
    ilheap_status_t st;
    if (mode == ILHEAP_INSTR_CALLS) {
        *n = 1;
        if ((st = ilheap__instr_reserve(in, 1)) != ILHEAP_OK)
            return st;
        in->at[0] = ilheap_rw_first(rw);
        return ILHEAP_OK;
    }
    st = ilheap_rw_block_starts(rw, in->at, in->cap, n);
    if (st == ILHEAP_IL_DEST_TOO_SMALL) {
        if ((st = ilheap__instr_reserve(in, *n)) != ILHEAP_OK)
            return st;
        st = ilheap_rw_block_starts(rw, in->at, in->cap, n);
    }
    return st;
}

/* Each place's key, from its instruction's original offset. */
static ilheap_status_t keys_of(ilheap_instr_t *in, ilheap_rw_t *rw, ilheap_instr_mode_t mode, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        ilheap_rw_insn_t insn;
        ilheap_status_t st = ilheap_rw_get(rw, in->at[i], &insn);
        if (st != ILHEAP_OK)
            return st;
        if (insn.offset == ILHEAP_RW_NEW)
            return ilheap__fail(ILHEAP_EINVAL, "ilheap_instr_body: the body was edited (a new instruction at "
                                               "probe %zu)", i);
        in->keys[i].il_offset = insn.offset;
        in->keys[i].kind = mode == ILHEAP_INSTR_CALLS ? ILHEAP_PROBE_ENTRY : ILHEAP_PROBE_BLOCK;
        in->keys[i].outcome = 0;
    }
    return ILHEAP_OK;
}

/* The atomic probe's call: Increment takes the address and leaves the new
 * value (the probe's pop drops it). ctx is the token. */
static ilheap_status_t increment_effect(void *ctx, uint16_t opcode, uint32_t token, uint32_t *pops,
                                        uint32_t *pushes)
{
    if (opcode != ILHEAP_OP_CALL || token != (uint32_t)(uintptr_t)ctx)
        return ILHEAP_IL_STACK_UNKNOWN;
    *pops = 1;
    *pushes = 1;
    return ILHEAP_OK;
}

size_t ilheap__instr_probe(const ilheap_instr_options_t *opt, uint64_t addr, ilheap_rw_insn_t out[ILHEAP_RW_PROBE_MAX])
{
    if (opt->increment == 0)
        return ilheap_rw_counter64_probe(addr, opt->ptr64, out);
    /* ldc addr; conv.u (the flag probe's first two); call Increment; pop */
    if (ilheap_rw_flag_probe(addr, opt->ptr64, out) < 2)
        return 0;
    memset(&out[2], 0, 2 * sizeof out[2]);
    out[2].opcode = ILHEAP_OP_CALL;
    out[2].offset = ILHEAP_RW_NEW;
    out[2].op.token = opt->increment;
    out[3].opcode = ILHEAP_OP_POP;
    out[3].offset = ILHEAP_RW_NEW;
    return 4;
}

static ilheap_status_t insert(const ilheap_instr_t *in, ilheap_rw_t *rw, const ilheap_instr_options_t *opt,
                              size_t n, uint64_t base)
{
    ilheap_rw_where_t where = opt->mode == ILHEAP_INSTR_CALLS ? ILHEAP_RW_BEFORE : ILHEAP_RW_BLOCK_START;
    for (size_t i = 0; i < n; i++) {
        ilheap_rw_insn_t p[ILHEAP_RW_PROBE_MAX];
        size_t k = ilheap__instr_probe(opt, base + 8 * (uint64_t)i, p);
        if (k == 0)
            return ilheap__fail(ILHEAP_EINVAL, "counter address %#llx does not fit a 32-bit target",
                                (unsigned long long)(base + 8 * (uint64_t)i));
        ilheap_status_t st = ilheap_rw_insert(rw, in->at[i], where, p, k, NULL);
        if (st != ILHEAP_OK)
            return st;
    }
    return ILHEAP_OK;
}

ilheap_status_t ilheap_instr_body(ilheap_instr_t *in, ilheap_rw_t *rw, const ilheap_instr_options_t *opt,
                                  const ilheap_probe_key_t **keys, size_t *count)
{
    if (in == NULL || rw == NULL || opt == NULL || keys == NULL || count == NULL || opt->counters == NULL ||
        (opt->mode != ILHEAP_INSTR_CALLS && opt->mode != ILHEAP_INSTR_BLOCKS))
        return ilheap__fail(ILHEAP_EINVAL, "ilheap_instr_body: a NULL argument or an unknown mode");
    *keys = NULL;
    *count = 0;
    if (ilheap_rw_first(rw) == ILHEAP_RW_END)
        return ILHEAP_OK; /* no instruction, nothing to count */
    size_t n = 0;
    ilheap_status_t st = places(in, rw, opt->mode, &n);
    if (st == ILHEAP_OK && (n == 0 || n > UINT32_MAX))
        st = ilheap__fail(ILHEAP_IL_OVERFLOW, "%zu probes in one body", n);
    if (st == ILHEAP_OK)
        st = keys_of(in, rw, opt->mode, n);
    size_t total = n;
    in->nedges = 0;
    if (st == ILHEAP_OK && opt->mode == ILHEAP_INSTR_BLOCKS && (opt->flags & ILHEAP_INSTR_EDGES))
        st = ilheap__instr_plan_edges(in, rw, n, &total);
    uint64_t base = 0;
    if (st == ILHEAP_OK && (st = opt->counters(opt->ctx, total, &base)) == ILHEAP_OK && (base & 7) != 0)
        st = ilheap__fail(ILHEAP_EINVAL, "counters at %#llx are not 8-byte aligned", (unsigned long long)base);
    if (st != ILHEAP_OK)
        return st;
    ilheap_rw_set_inserted_stack_fn(rw, opt->increment != 0 ? increment_effect : NULL,
                                    (void *)(uintptr_t)opt->increment);
    if ((st = insert(in, rw, opt, n, base)) != ILHEAP_OK || (st = ilheap__instr_insert_edges(in, rw, opt, base)) != ILHEAP_OK)
        return st;
    *keys = in->keys;
    *count = total;
    return ILHEAP_OK;
}
