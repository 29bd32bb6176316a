/* Helpers for instrumentation: the basic-block starts of a body and the
 * pure-IL probes (counter, 64-bit counter, hit flag). */
#include <string.h>

#include "il/rewrite_internal.h"
#include "ilheap/rewrite.h"
#include "status_internal.h"

static void mark(ilheap_rw_t *rw, uint32_t id)
{
    id = rw_resolve(rw, id);
    if (id != RW_END && rw_live(rw, id))
        rw->flags[id] |= RW_F_MARK;
}

ilheap_status_t ilheap_rw_block_starts(ilheap_rw_t *rw, ilheap_rw_id_t *out, size_t cap, size_t *count)
{
    if (rw == NULL || count == NULL || (out == NULL && cap))
        return ilheap__fail(ILHEAP_EINVAL, "NULL argument");
    *count = 0;
    for (uint32_t id = rw->head; id != RW_END; id = rw->next[id])
        rw->flags[id] &= (uint8_t)~RW_F_MARK;
    if (rw->head != RW_END)
        rw->flags[rw->head] |= RW_F_MARK;
    for (uint32_t id = rw->head; id != RW_END; id = rw->next[id]) {
        const ilheap_il_opinfo_t *in = rw_info(rw, id);
        if (in->operand == ILHEAP_OPND_BRANCH8 || in->operand == ILHEAP_OPND_BRANCH32) {
            mark(rw, (uint32_t)rw->val[id]);
        } else if (in->operand == ILHEAP_OPND_SWITCH) {
            const uint32_t *tg = rw->sw + rw_sw_first(rw->val[id]);
            for (uint32_t k = 0; k < rw_sw_count(rw->val[id]); k++)
                mark(rw, tg[k]);
        }
        if (in->flow != ILHEAP_FLOW_NEXT && in->flow != ILHEAP_FLOW_CALL &&
            in->flow != ILHEAP_FLOW_PREFIX && in->flow != ILHEAP_FLOW_BREAK && rw->next[id] != RW_END)
            rw->flags[rw->next[id]] |= RW_F_MARK;
    }
    for (uint32_t i = 0; i < rw->ncl; i++) {
        const ilheap_rw_clause_t *c = &rw->cl[i];
        mark(rw, c->try_start);
        mark(rw, c->try_end);
        mark(rw, c->handler_start);
        mark(rw, c->handler_end);
        if (c->kind == ILHEAP_IL_FILTER)
            mark(rw, c->filter_start);
    }
    size_t k = 0;
    for (uint32_t id = rw->head; id != RW_END; id = rw->next[id]) {
        if (!(rw->flags[id] & RW_F_MARK))
            continue;
        /* A block of a prefixed instruction starts at its first prefix. */
        uint32_t s = id;
        while (rw_is_prefix(rw, rw->prev[s]))
            s = rw->prev[s];
        if (s != id && (rw->flags[s] & RW_F_MARK))
            continue;
        if (k < cap)
            out[k] = s;
        k++;
    }
    *count = k;
    if (k > cap)
        return ilheap__fail(ILHEAP_IL_DEST_TOO_SMALL, "%zu block starts, room for %zu", k, cap);
    return ILHEAP_OK;
}

/* A probe: ops with the address loaded by the first (ldc.i8, or ldc.i4 for
 * a 32-bit process). Returns n, or 0 when a 32-bit address does not fit. */
static size_t build_probe(uint64_t addr, int ptr64, const uint16_t *ops, size_t n,
                          ilheap_rw_insn_t *out)
{
    if (out == NULL || (!ptr64 && addr > UINT32_MAX))
        return 0;
    for (size_t k = 0; k < n; k++) {
        memset(&out[k], 0, sizeof out[k]);
        out[k].opcode = ops[k];
        out[k].offset = ILHEAP_RW_NEW;
    }
    if (ptr64) {
        out[0].op.i = (int64_t)addr;
    } else {
        out[0].opcode = ILHEAP_OP_LDC_I4;
        out[0].op.i = (int32_t)(uint32_t)addr;
    }
    return n;
}

size_t ilheap_rw_counter_probe(uint64_t addr, int ptr64, ilheap_rw_insn_t out[ILHEAP_RW_PROBE_MAX])
{
    static const uint16_t ops[7] = {ILHEAP_OP_LDC_I8, ILHEAP_OP_CONV_U,  ILHEAP_OP_DUP,
                                    ILHEAP_OP_LDIND_I4, ILHEAP_OP_LDC_I4_1, ILHEAP_OP_ADD,
                                    ILHEAP_OP_STIND_I4};
    return build_probe(addr, ptr64, ops, 7, out);
}

size_t ilheap_rw_counter64_probe(uint64_t addr, int ptr64,
                                 ilheap_rw_insn_t out[ILHEAP_RW_PROBE_MAX])
{
    static const uint16_t ops[8] = {ILHEAP_OP_LDC_I8,   ILHEAP_OP_CONV_U,   ILHEAP_OP_DUP,
                                    ILHEAP_OP_LDIND_I8, ILHEAP_OP_LDC_I4_1, ILHEAP_OP_CONV_I8,
                                    ILHEAP_OP_ADD,      ILHEAP_OP_STIND_I8};
    return build_probe(addr, ptr64, ops, 8, out);
}

size_t ilheap_rw_flag_probe(uint64_t addr, int ptr64, ilheap_rw_insn_t out[ILHEAP_RW_PROBE_MAX])
{
    static const uint16_t ops[4] = {ILHEAP_OP_LDC_I8, ILHEAP_OP_CONV_U, ILHEAP_OP_LDC_I4_1,
                                    ILHEAP_OP_STIND_I1};
    return build_probe(addr, ptr64, ops, 4, out);
}
