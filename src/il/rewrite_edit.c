/* Editing the rewriter's instructions: insert (by the two rules of
 * rewrite.h), replace and remove. Every edit is checked before anything
 * changes, so a refused edit leaves the body as it was. */
#include <string.h>

#include "il/rewrite_internal.h"
#include "ilheap/rewrite.h"
#include "status_internal.h"

/* Checks new instructions; *sw_total receives their switch targets. */
static ilheap_status_t check_insns(const ilheap_rw_t *rw, const ilheap_rw_insn_t *insns, size_t n,
                                   uint64_t *sw_total)
{
    uint64_t total = 0;
    for (size_t k = 0; k < n; k++) {
        const ilheap_rw_insn_t *x = &insns[k];
        uint8_t fk = il_fast(x->opcode);
        if (fk == IL_FAST_NONE)
            return ilheap__fail(ILHEAP_IL_UNKNOWN_OPCODE, "new instruction %zu: opcode 0x%X", k,
                                (unsigned)x->opcode);
        int64_t i = x->op.i;
        int bad_range = 0;
        switch ((ilheap_il_operand_t)(fk & IL_FAST_KIND)) {
        case ILHEAP_OPND_INT8:
            bad_range = i < -128 || i > 127;
            break;
        case ILHEAP_OPND_VAR8:
        case ILHEAP_OPND_UINT8:
            bad_range = i < 0 || i > 255;
            break;
        case ILHEAP_OPND_VAR16:
            bad_range = i < 0 || i > 65535;
            break;
        case ILHEAP_OPND_INT32:
            bad_range = i < INT32_MIN || i > INT32_MAX;
            break;
        case ILHEAP_OPND_BRANCH8:
        case ILHEAP_OPND_BRANCH32:
            if (!rw_live(rw, x->op.target))
                return ilheap__fail(ILHEAP_IL_BAD_REF, "new instruction %zu (%s): target id %u",
                                    k, il_info(x->opcode)->name, x->op.target);
            break;
        case ILHEAP_OPND_SWITCH:
            if (x->op.sw.count && x->op.sw.targets == NULL)
                return ilheap__fail(ILHEAP_EINVAL, "new switch %zu: NULL targets", k);
            if (x->op.sw.count > (UINT32_MAX - 8) / 4)
                return ilheap__fail(ILHEAP_IL_OVERFLOW, "new switch %zu: %u targets", k,
                                    x->op.sw.count);
            for (uint32_t t = 0; t < x->op.sw.count; t++)
                if (!rw_live(rw, x->op.sw.targets[t]))
                    return ilheap__fail(ILHEAP_IL_BAD_REF, "new switch %zu: target %u is id %u", k,
                                        t, x->op.sw.targets[t]);
            total += x->op.sw.count;
            break;
        default:
            break;
        }
        if (bad_range)
            return ilheap__fail(ILHEAP_IL_OVERFLOW, "new instruction %zu (%s): operand %lld", k,
                                il_info(x->opcode)->name, (long long)i);
    }
    if (n && (il_fast(insns[n - 1].opcode) & IL_FAST_PREFIX))
        return ilheap__fail(ILHEAP_IL_BAD_PREFIX, "the new code ends with %s",
                            il_info(insns[n - 1].opcode)->name);
    *sw_total = total;
    return ILHEAP_OK;
}

/* Has the call `id` a tail. among the prefixes in front of it? */
static int tail_prefixed(const ilheap_rw_t *rw, uint32_t id)
{
    for (uint32_t p = rw->prev[id]; rw_is_prefix(rw, p); p = rw->prev[p])
        if (rw->op[p] == ILHEAP_OP_TAIL)
            return 1;
    return 0;
}

/* Code may go right after instruction a (RW_END: at the very start)? */
static ilheap_status_t check_gap(const ilheap_rw_t *rw, uint32_t a)
{
    if (a == RW_END)
        return ILHEAP_OK;
    if (rw_is_prefix(rw, a))
        return ilheap__fail(ILHEAP_IL_SPLIT_PREFIX, "after %s (IL offset %d)", rw_info(rw, a)->name,
                            rw_offset_for_msg(rw, a));
    if (rw_is_call(rw->op[a]) && tail_prefixed(rw, a))
        return ilheap__fail(ILHEAP_IL_SPLIT_TAIL_CALL, "after tail. %s (IL offset %d)",
                            rw_info(rw, a)->name,
                            rw_offset_for_msg(rw, a));
    return ILHEAP_OK;
}

/* A new switch's targets appended to rw->sw (room was ensured by the
 * caller): its operand as rw->val holds it. */
static uint64_t switch_value(ilheap_rw_t *rw, const ilheap_rw_insn_t *x)
{
    if (x->op.sw.count)
        memcpy(rw->sw + rw->sw_n, x->op.sw.targets, 4 * (size_t)x->op.sw.count);
    uint64_t v = rw->sw_n | (uint64_t)x->op.sw.count << 32;
    rw->sw_n += x->op.sw.count;
    return v;
}

/* The operand of x (fk: its il_fast entry) as rw->val holds it. */
static inline uint64_t operand_value(ilheap_rw_t *rw, const ilheap_rw_insn_t *x, uint8_t fk)
{
    uint32_t u32;
    uint64_t v;
    switch ((ilheap_il_operand_t)(fk & IL_FAST_KIND)) {
    case ILHEAP_OPND_NONE:
        return 0;
    case ILHEAP_OPND_FLOAT32:
        memcpy(&u32, &x->op.r4, 4);
        return u32;
    case ILHEAP_OPND_FLOAT64:
        memcpy(&v, &x->op.r8, 8);
        return v;
    case ILHEAP_OPND_TOKEN:
        return x->op.token;
    case ILHEAP_OPND_BRANCH8:
    case ILHEAP_OPND_BRANCH32:
        return x->op.target;
    case ILHEAP_OPND_SWITCH:
        return switch_value(rw, x);
    default:
        return (uint64_t)x->op.i;
    }
}

/* Adds insns as new ids linked between a and b (either may be RW_END). The
 * arrays are read into locals once: stores to them could alias rw's fields. */
static uint32_t link_new(ilheap_rw_t *rw, uint32_t a, uint32_t b, const ilheap_rw_insn_t *insns,
                         size_t n, uint8_t flags)
{
    uint32_t first = rw->n, id = first;
    uint16_t *op = rw->op;
    uint8_t *kind = rw->kind, *fl = rw->flags, f = (uint8_t)(RW_F_LIVE | RW_F_NEW | flags);
    uint32_t *off = rw->off, *redir = rw->redir, *prev = rw->prev, *next = rw->next;
    uint64_t *val = rw->val;
    for (size_t k = 0; k < n; k++, id++) {
        uint8_t fk = il_fast(insns[k].opcode);
        op[id] = insns[k].opcode;
        kind[id] = fk;
        fl[id] = f;
        off[id] = ILHEAP_RW_NEW;
        val[id] = operand_value(rw, &insns[k], fk);
        redir[id] = RW_NONE;
        prev[id] = id - 1; /* the ends are joined below */
        next[id] = id + 1;
    }
    rw->n = id;
    rw_join(rw, a, first);
    rw_join(rw, id - 1, b);
    rw->live += (uint32_t)n;
    rw->encoded = 0;
    return first;
}

ilheap_status_t ilheap_rw_insert(ilheap_rw_t *rw, ilheap_rw_id_t at, ilheap_rw_where_t where,
                                 const ilheap_rw_insn_t *insns, size_t n, ilheap_rw_id_t *first)
{
    return ilheap__rw_insert(rw, at, where, insns, n, 0, first);
}

ilheap_status_t ilheap__rw_insert(ilheap_rw_t *rw, uint32_t at, ilheap_rw_where_t where,
                                  const ilheap_rw_insn_t *insns, size_t n, uint8_t flags, uint32_t *first)
{
    if (first != NULL)
        *first = RW_END;
    if (rw == NULL || (insns == NULL && n))
        return ilheap__fail(ILHEAP_EINVAL, "NULL %s", rw == NULL ? "rewriter" : "instructions");
    if (!rw->loaded)
        return ilheap__fail(ILHEAP_EINVAL, "no body loaded");
    uint32_t a, b, r = RW_END;
    switch (where) {
    case ILHEAP_RW_BLOCK_START:
        if (!rw_live(rw, at))
            return ilheap__fail(ILHEAP_IL_BAD_REF, "insert at id %u", at);
        r = rw_resolve(rw, at);
        b = r;
        a = rw->prev[r];
        break;
    case ILHEAP_RW_BEFORE:
        if (at != RW_END && !rw_live(rw, at))
            return ilheap__fail(ILHEAP_IL_BAD_REF, "insert before id %u", at);
        b = at;
        a = at == RW_END ? rw->tail : rw->prev[at];
        break;
    case ILHEAP_RW_AFTER:
        if (!rw_live(rw, at))
            return ilheap__fail(ILHEAP_IL_BAD_REF, "insert after id %u", at);
        a = at;
        b = rw->next[at];
        break;
    default:
        return ilheap__fail(ILHEAP_EINVAL, "where %d", (int)where);
    }
    if (n == 0)
        return ILHEAP_OK;
    ilheap_status_t st = check_gap(rw, a);
    uint64_t sw_total = 0;
    if (st == ILHEAP_OK)
        st = check_insns(rw, insns, n, &sw_total);
    if (st == ILHEAP_OK)
        st = ilheap__rw_ensure_ids(rw, (uint64_t)rw->n + n);
    if (st == ILHEAP_OK)
        st = ilheap__rw_ensure_sw(rw, rw->sw_n + sw_total);
    if (st != ILHEAP_OK)
        return st;
    uint32_t f = link_new(rw, a, b, insns, n, flags);
    if (where == ILHEAP_RW_BLOCK_START) {
        rw->redir[r] = f;
        rw->redir[at] = f; /* at's chain, compressed: many probes at one block stay O(1) each */
    }
    if (first != NULL)
        *first = f;
    return ILHEAP_OK;
}

ilheap_status_t ilheap_rw_replace(ilheap_rw_t *rw, ilheap_rw_id_t id, const ilheap_rw_insn_t *insns,
                                  size_t n, ilheap_rw_id_t *first_new)
{
    if (first_new != NULL)
        *first_new = RW_END;
    if (rw == NULL || insns == NULL || n == 0)
        return ilheap__fail(ILHEAP_EINVAL, "NULL rewriter or no instructions");
    if (!rw_live(rw, id))
        return ilheap__fail(ILHEAP_IL_BAD_REF, "replace id %u", id);
    uint64_t sw_total = 0;
    ilheap_status_t st = check_insns(rw, insns, n, &sw_total);
    if (st != ILHEAP_OK)
        return st;
    /* The rest goes after the new first instruction: not after a prefix or a tail call. */
    if (n > 1 && il_info(insns[0].opcode)->prefix)
        return ilheap__fail(ILHEAP_IL_SPLIT_PREFIX, "replacement starts with a prefix");
    if (n > 1 && rw_is_call(insns[0].opcode) && tail_prefixed(rw, id))
        return ilheap__fail(ILHEAP_IL_SPLIT_TAIL_CALL, "replacing a tail. call by several instructions");
    st = ilheap__rw_ensure_ids(rw, (uint64_t)rw->n + n - 1);
    if (st == ILHEAP_OK)
        st = ilheap__rw_ensure_sw(rw, rw->sw_n + sw_total);
    if (st != ILHEAP_OK)
        return st;
    ilheap__rw_set_insn(rw, id, &insns[0]);
    rw->flags[id] |= RW_F_EDITED;
    rw->edited = 1;
    rw->encoded = 0;
    if (n > 1) {
        uint32_t f = link_new(rw, id, rw->next[id], insns + 1, n - 1, 0);
        if (first_new != NULL)
            *first_new = f;
    }
    return ILHEAP_OK;
}

void ilheap__rw_set_insn(ilheap_rw_t *rw, uint32_t id, const ilheap_rw_insn_t *x)
{
    rw->op[id] = x->opcode;
    rw->kind[id] = il_fast(x->opcode);
    rw->val[id] = operand_value(rw, x, rw->kind[id]);
    rw->encoded = 0;
}

void ilheap__rw_unlink(ilheap_rw_t *rw, uint32_t id)
{
    uint32_t a = rw->prev[id], b = rw->next[id];
    if (rw->redir[id] == RW_NONE) {
        /* If id was the block start of the instructions after it (b's
         * references led to id), b is that block start now: references to
         * id lead to b, and b's own chain ends at b (no cycle). */
        if (b != RW_END && rw_resolve(rw, b) == id)
            rw->redir[b] = RW_NONE;
        rw->redir[id] = b;
    }
    rw_join(rw, a, b);
    rw->flags[id] &= (uint8_t)~RW_F_LIVE;
    rw->live--;
    rw->encoded = 0;
}

ilheap_status_t ilheap_rw_remove(ilheap_rw_t *rw, ilheap_rw_id_t id)
{
    if (rw == NULL)
        return ilheap__fail(ILHEAP_EINVAL, "NULL rewriter");
    if (!rw_live(rw, id))
        return ilheap__fail(ILHEAP_IL_BAD_REF, "remove id %u", id);
    if (rw_is_prefix(rw, rw->prev[id]))
        return ilheap__fail(ILHEAP_IL_SPLIT_PREFIX, "removing the instruction after %s",
                            rw_info(rw, rw->prev[id])->name);
    ilheap__rw_unlink(rw, id);
    rw->edited = 1;
    return ILHEAP_OK;
}
