/* Max stack: the safe bound (old max + the peak of stack-neutral inserted
 * runs) or the exact depth simulated along every path with the stack
 * callback. Either way a result past 65535 is ILHEAP_IL_OVERFLOW. */
#include <string.h>

#include "il/rewrite_internal.h"
#include "ilheap/rewrite.h"
#include "status_internal.h"

/* The safe bound: old max + the largest peak of an inserted run, or the
 * peak of the structured code (handlers, epilogue: RW_F_STRUCT, accounted
 * when it was added) when that is higher. */
static ilheap_status_t safe_bound(ilheap_rw_t *rw, uint64_t *max)
{
    if (rw->edited || rw->struct_unknown)
        return ilheap__fail(ILHEAP_IL_STACK_UNKNOWN, "%s: the safe bound does not hold; set a stack "
                            "callback (ilheap_rw_set_stack_fn)", rw->edited
                            ? "an instruction was replaced or removed"
                            : "a handler makes a call whose effect no inserted-code callback gave");
    uint64_t peak = 0;
    int64_t d = 0;
    int in_run = 0;
    for (uint32_t id = rw->head; id != RW_END; id = rw->next[id]) {
        if (!(rw->flags[id] & RW_F_NEW) || (rw->flags[id] & RW_F_STRUCT)) {
            if (in_run && d != 0)
                return ilheap__fail(ILHEAP_IL_STACK_NOT_NEUTRAL,
                                    "inserted code before IL offset %d leaves %lld items",
                                    rw_offset_for_msg(rw, id), (long long)d);
            in_run = 0;
            d = 0;
            continue;
        }
        in_run = 1;
        const ilheap_il_opinfo_t *in = rw_info(rw, id);
        uint32_t pops = in->pops, pushes = in->pushes;
        /* A call falls through: with its effect known it keeps the run straight. */
        int call = in->flow == ILHEAP_FLOW_CALL && rw->insert_fn != NULL;
        if (call) {
            ilheap_status_t st =
                rw->insert_fn(rw->insert_ctx, rw->op[id], (uint32_t)rw->val[id], &pops, &pushes);
            if (st != ILHEAP_OK)
                return st;
            if (rw->op[id] == ILHEAP_OP_NEWOBJ)
                pushes = 1;
        } else if (pops == ILHEAP_STACK_VARIES || pushes == ILHEAP_STACK_VARIES) {
            return ilheap__fail(ILHEAP_IL_STACK_UNKNOWN,
                                "inserted %s: its stack effect needs a stack callback", in->name);
        }
        if (!call && in->flow != ILHEAP_FLOW_NEXT && in->flow != ILHEAP_FLOW_PREFIX &&
            in->flow != ILHEAP_FLOW_BREAK)
            return ilheap__fail(ILHEAP_IL_STACK_NOT_NEUTRAL,
                                "inserted %s changes control flow: set a stack callback", in->name);
        if (d < (int64_t)pops)
            return ilheap__fail(ILHEAP_IL_STACK_NOT_NEUTRAL,
                                "inserted %s pops below the inserted code's entry depth", in->name);
        d += (int64_t)pushes - (int64_t)pops;
        if ((uint64_t)d > peak)
            peak = (uint64_t)d;
    }
    if (in_run && d != 0)
        return ilheap__fail(ILHEAP_IL_STACK_NOT_NEUTRAL,
                            "inserted code at the end leaves %lld items", (long long)d);
    *max = (uint64_t)rw->body.max_stack + peak;
    if (*max < rw->struct_peak)
        *max = rw->struct_peak;
    return ILHEAP_OK;
}

/* The simulation's state: the sequence order, each id's position in it, and
 * the work list of positions whose depth is set but not yet followed. The
 * depths are rw->depth[position] (-1: not reached). */
typedef struct sim {
    uint32_t cnt;
    uint32_t *ord, *pos, *work;
    size_t nwork;
    uint64_t best;
} sim_t;

/* A path reaches id with depth d: the first one sets it, the others must agree. */
static ilheap_status_t set_depth(ilheap_rw_t *rw, sim_t *s, uint32_t id, int64_t d)
{
    uint32_t p = s->pos[id];
    if (rw->depth[p] < 0) {
        rw->depth[p] = (int32_t)d;
        s->work[s->nwork++] = p;
    } else if (rw->depth[p] != d) {
        return ilheap__fail(ILHEAP_IL_STACK_MISMATCH, "IL offset %d reached with depths %d and %lld",
                            rw_offset_for_msg(rw, id), rw->depth[p], (long long)d);
    }
    return ILHEAP_OK;
}

/* Orders the sequence and seeds the entries: method entry and try starts
 * at 0, catch and filter handlers and filter starts at 1, finally and fault
 * handlers at 0. */
static ilheap_status_t sim_start(ilheap_rw_t *rw, sim_t *s)
{
    s->cnt = rw->live;
    uint64_t need = (uint64_t)s->cnt + (uint64_t)rw->n + (uint64_t)s->cnt + 3u * rw->ncl + 1;
    ilheap_status_t st = ilheap__rw_ensure_scratch(rw, need);
    if (st != ILHEAP_OK)
        return st;
    if (s->cnt > rw->depth_cap) {
        if (!ilheap__rw_grow((void **)&rw->depth, s->cnt, sizeof *rw->depth))
            return ilheap__fail(ILHEAP_ENOMEM, "%u depths", s->cnt);
        rw->depth_cap = s->cnt;
    }
    s->ord = rw->scratch;
    s->pos = s->ord + s->cnt;
    s->work = s->pos + rw->n;
    s->nwork = 0;
    s->best = 0;
    uint32_t k = 0;
    for (uint32_t id = rw->head; id != RW_END; id = rw->next[id], k++) {
        s->ord[k] = id;
        s->pos[id] = k;
        rw->depth[k] = -1;
    }
    if (s->cnt && (st = set_depth(rw, s, rw->head, 0)) != ILHEAP_OK)
        return st;
    for (uint32_t i = 0; i < rw->ncl && st == ILHEAP_OK; i++) {
        const ilheap_rw_clause_t *c = &rw->cl[i];
        uint32_t t = rw_resolve(rw, c->try_start), h = rw_resolve(rw, c->handler_start);
        uint32_t f = rw_resolve(rw, c->filter_start);
        int catches = c->kind == ILHEAP_IL_CATCH || c->kind == ILHEAP_IL_FILTER;
        if (t != RW_END)
            st = set_depth(rw, s, t, 0);
        if (st == ILHEAP_OK && h != RW_END)
            st = set_depth(rw, s, h, catches);
        if (st == ILHEAP_OK && c->kind == ILHEAP_IL_FILTER && f != RW_END)
            st = set_depth(rw, s, f, 1);
    }
    return st;
}

/* The pops and pushes of id; the callback's for calls. A return ends its
 * path: its pops are not checked. */
static ilheap_status_t effect(ilheap_rw_t *rw, uint32_t id, uint32_t *pops, uint32_t *pushes)
{
    const ilheap_il_opinfo_t *in = rw_info(rw, id);
    *pops = in->pops;
    *pushes = in->pushes;
    if (in->flow == ILHEAP_FLOW_RETURN) {
        *pops = 0;
        *pushes = 0;
    } else if (*pops == ILHEAP_STACK_VARIES || *pushes == ILHEAP_STACK_VARIES) {
        uint32_t po = 0, pu = 0;
        ilheap_status_t st = rw->fn(rw->ctx, rw->op[id], (uint32_t)rw->val[id], &po, &pu);
        if (st != ILHEAP_OK)
            return st;
        *pops = po;
        *pushes = rw->op[id] == ILHEAP_OP_NEWOBJ ? 1 : pu;
    }
    return ILHEAP_OK;
}

/* Sets the depth of every branch or switch target of id (d: after id). */
static ilheap_status_t follow_targets(ilheap_rw_t *rw, sim_t *s, uint32_t id, int64_t d)
{
    const ilheap_il_opinfo_t *in = rw_info(rw, id);
    if (in->operand == ILHEAP_OPND_BRANCH8 || in->operand == ILHEAP_OPND_BRANCH32) {
        uint32_t t = rw_resolve(rw, (uint32_t)rw->val[id]);
        rw->val[id] = t;
        if (t == RW_END || !rw_live(rw, t))
            return ilheap__fail(ILHEAP_IL_BAD_TARGET, "IL offset %d: %s leads past the code",
                                rw_offset_for_msg(rw, id), in->name);
        int leave = rw->op[id] == ILHEAP_OP_LEAVE || rw->op[id] == ILHEAP_OP_LEAVE_S;
        return set_depth(rw, s, t, leave ? 0 : d);
    }
    if (in->operand != ILHEAP_OPND_SWITCH)
        return ILHEAP_OK;
    uint32_t *tg = rw->sw + rw_sw_first(rw->val[id]);
    for (uint32_t j = 0; j < rw_sw_count(rw->val[id]); j++) {
        uint32_t t = tg[j] = rw_resolve(rw, tg[j]);
        if (t == RW_END || !rw_live(rw, t))
            return ilheap__fail(ILHEAP_IL_BAD_TARGET, "IL offset %d: switch leads past the code",
                                rw_offset_for_msg(rw, id));
        ilheap_status_t st = set_depth(rw, s, t, d);
        if (st != ILHEAP_OK)
            return st;
    }
    return ILHEAP_OK;
}

/* Follows one path from position p (its depth set) while it falls through
 * to instructions not yet reached. */
static ilheap_status_t walk(ilheap_rw_t *rw, sim_t *s, uint32_t p)
{
    int64_t d = rw->depth[p];
    for (;;) {
        uint32_t id = s->ord[p], pops, pushes;
        const ilheap_il_opinfo_t *in = rw_info(rw, id);
        ilheap_status_t st = effect(rw, id, &pops, &pushes);
        if (st != ILHEAP_OK)
            return st;
        if (d < (int64_t)pops || (rw->op[id] == ILHEAP_OP_RET && rw->returns >= 0 && d != rw->returns))
            return ilheap__fail(ILHEAP_IL_STACK_MISMATCH, "IL offset %d: %s at depth %lld (pops %d)",
                                rw_offset_for_msg(rw, id), in->name, (long long)d,
                                rw->op[id] == ILHEAP_OP_RET ? rw->returns : (int)pops);
        d += (int64_t)pushes - (int64_t)pops;
        if ((uint64_t)d > s->best)
            s->best = (uint64_t)d;
        if (d > 0xFFFFF) /* far past 65535: stop before int32 depths could overflow */
            return ILHEAP_OK;
        if ((st = follow_targets(rw, s, id, d)) != ILHEAP_OK)
            return st;
        if (!rw_falls_through(in->flow) || p + 1 >= s->cnt)
            return ILHEAP_OK;
        p++;
        if (rw->depth[p] >= 0) {
            if (rw->depth[p] != d)
                return ilheap__fail(ILHEAP_IL_STACK_MISMATCH, "IL offset %d reached with depths %d and %lld",
                                    rw_offset_for_msg(rw, s->ord[p]), rw->depth[p], (long long)d);
            return ILHEAP_OK;
        }
        rw->depth[p] = (int32_t)d;
    }
}

ilheap_status_t ilheap__rw_simulate(ilheap_rw_t *rw, uint64_t *max)
{
    sim_t s = {0}; /* -O3 cannot see every exit of the set-up fill it */
    ilheap_status_t st = sim_start(rw, &s);
    while (st == ILHEAP_OK && s.nwork)
        st = walk(rw, &s, s.work[--s.nwork]);
    if (st == ILHEAP_OK)
        *max = s.best;
    return st;
}

ilheap_status_t ilheap__rw_empty_stack_at(ilheap_rw_t *rw, const uint32_t *ids, size_t n, uint32_t *bad)
{
    uint64_t max;
    if (rw->fn == NULL)
        return ILHEAP_OK;
    ilheap_status_t st = ilheap__rw_simulate(rw, &max);
    if (st != ILHEAP_OK)
        return st;
    const uint32_t *pos = rw->scratch + rw->live;
    for (size_t k = 0; k < n; k++) {
        if (ids[k] == RW_END || rw->depth[pos[ids[k]]] <= 0)
            continue;
        *bad = ids[k];
        return ilheap__fail(ILHEAP_IL_STACK_MISMATCH, "IL offset %d (%s): %d items on the stack where a "
                            "protected block would start or end (it must be empty)", rw_offset_for_msg(rw, ids[k]),
                            rw_info(rw, ids[k])->name, rw->depth[pos[ids[k]]]);
    }
    return ILHEAP_OK;
}

ilheap_status_t ilheap_rw_max_stack(ilheap_rw_t *rw, uint32_t *max_stack)
{
    if (rw == NULL || max_stack == NULL)
        return ilheap__fail(ILHEAP_EINVAL, "NULL %s", rw == NULL ? "rewriter" : "max_stack");
    if (!rw->loaded)
        return ilheap__fail(ILHEAP_EINVAL, "no body loaded");
    uint64_t m = 0;
    ilheap_status_t st = rw->fn ? ilheap__rw_simulate(rw, &m) : safe_bound(rw, &m);
    if (st != ILHEAP_OK)
        return st;
    if (m > 0xFFFFu)
        return ilheap__fail(ILHEAP_IL_OVERFLOW, "max stack %llu > 65535", (unsigned long long)m);
    *max_stack = (uint32_t)m;
    return ILHEAP_OK;
}
