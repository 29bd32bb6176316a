/* Encoding the rewriter's body: offsets are assigned, short branches that no
 * longer reach are widened (repeated until nothing changes; forms never
 * change otherwise, so an unedited body encodes byte for byte as read), the
 * code is written, and clause boundaries become offsets. Header and EH
 * sections are written by the codec (ilheap_il_rewrite, preserve mode). */
#include <string.h>

#include "il/rewrite_internal.h"
#include "ilheap/rewrite.h"
#include "status_internal.h"

static inline uint32_t new_off(const ilheap_rw_t *rw, uint32_t id, uint32_t total)
{
    return id == RW_END ? total : rw->noff[id];
}

/* The first walk: offsets as the forms are now, branch targets resolved and
 * checked, prefixes checked; the short branches go to br[0 .. *nbr). */
static ilheap_status_t first_walk(ilheap_rw_t *rw, uint32_t *br, uint32_t *nbr, uint64_t *total)
{
    uint64_t t = 0;
    for (uint32_t id = rw->head; id != RW_END; id = rw->next[id]) {
        uint8_t k = rw->kind[id];
        rw->noff[id] = (uint32_t)t;
        t += rw_insn_size(rw, id);
        if (t > UINT32_MAX)
            return ilheap__fail(ILHEAP_IL_OVERFLOW, "code past 4 GiB");
        if ((k & IL_FAST_KIND) == ILHEAP_OPND_BRANCH8 || (k & IL_FAST_KIND) == ILHEAP_OPND_BRANCH32) {
            uint32_t target = rw_resolve(rw, (uint32_t)rw->val[id]);
            if (target == RW_END || !rw_live(rw, target))
                return ilheap__fail(ILHEAP_IL_BAD_TARGET, "IL offset %d: %s leads past the code",
                                    rw_offset_for_msg(rw, id), rw_info(rw, id)->name);
            rw->val[id] = target;
            if ((k & IL_FAST_KIND) == ILHEAP_OPND_BRANCH8)
                br[(*nbr)++] = id;
        } else if (k & IL_FAST_PREFIX) {
            ilheap_status_t st = ilheap__rw_check_prefix(rw, id);
            if (st != ILHEAP_OK)
                return st;
        }
    }
    *total = t;
    return ILHEAP_OK;
}

/* Widens the short branches of br[0 .. *nbr) that no longer reach; those
 * still short stay in the list. Returns whether any was widened. */
static int widen(ilheap_rw_t *rw, uint32_t *br, uint32_t *nbr)
{
    int changed = 0;
    uint32_t keep = 0;
    for (uint32_t k = 0; k < *nbr; k++) {
        uint32_t id = br[k], t = (uint32_t)rw->val[id];
        int64_t disp = (int64_t)rw->noff[t] - ((int64_t)rw->noff[id] + 2);
        if (disp < -128 || disp > 127) {
            /* every short branch is its long form - 13, but leave.s (0xDE) and leave (0xDD) */
            rw->op[id] = rw->op[id] == ILHEAP_OP_LEAVE_S ? ILHEAP_OP_LEAVE : (uint16_t)(rw->op[id] + 13);
            rw->kind[id] = il_fast(rw->op[id]);
            changed = 1;
        } else {
            br[keep++] = id; /* still short: checked again after a widening */
        }
    }
    *nbr = keep;
    return changed;
}

/* Assigns offsets, widening short branches until every displacement fits:
 * one walk over the sequence, then passes over the short branches only,
 * with a new walk for the offsets after each widening. */
static ilheap_status_t layout(ilheap_rw_t *rw, uint32_t *total_out)
{
    ilheap_status_t st = ilheap__rw_ensure_scratch(rw, rw->live);
    if (st != ILHEAP_OK)
        return st;
    uint32_t *br = rw->scratch, nbr = 0;
    uint64_t total = 0;
    if ((st = first_walk(rw, br, &nbr, &total)) != ILHEAP_OK)
        return st;
    while (widen(rw, br, &nbr)) {
        total = 0;
        for (uint32_t id = rw->head; id != RW_END; id = rw->next[id]) {
            rw->noff[id] = (uint32_t)total;
            total += rw_insn_size(rw, id);
        }
        if (total > UINT32_MAX)
            return ilheap__fail(ILHEAP_IL_OVERFLOW, "code past 4 GiB after widening branches");
    }
    *total_out = (uint32_t)total;
    return ILHEAP_OK;
}

/* A switch's count and displacements (end: the offset after its table). */
static ilheap_status_t write_switch(ilheap_rw_t *rw, uint32_t id, uint32_t end, uint8_t **pp)
{
    uint8_t *p = *pp;
    uint32_t *tg = rw->sw + rw_sw_first(rw->val[id]);
    uint32_t cnt = rw_sw_count(rw->val[id]);
    il_wr32(p, cnt);
    p += 4;
    for (uint32_t j = 0; j < cnt; j++) {
        uint32_t t = tg[j] = rw_resolve(rw, tg[j]);
        if (t == RW_END || !rw_live(rw, t))
            return ilheap__fail(ILHEAP_IL_BAD_TARGET, "IL offset %d: switch leads past the code",
                                rw_offset_for_msg(rw, id));
        il_wr32(p, (uint32_t)(int32_t)((int64_t)rw->noff[t] - end));
        p += 4;
    }
    *pp = p;
    return ILHEAP_OK;
}

/* Writes instruction id (opcode opc, fast kind k, operand v), which ends at
 * offset `end`, at *pp (offsets assigned in noff) and advances *pp. */
static inline ilheap_status_t write_insn(ilheap_rw_t *rw, uint32_t id, uint16_t opc, uint8_t k, uint64_t v,
                                         const uint32_t *noff, uint32_t end, uint8_t **pp)
{
    uint8_t *p = *pp;
    if (opc > 0xFF)
        *p++ = 0xFE;
    *p++ = (uint8_t)opc;
    switch ((ilheap_il_operand_t)(k & IL_FAST_KIND)) {
    case ILHEAP_OPND_NONE:
        break;
    case ILHEAP_OPND_INT8:
    case ILHEAP_OPND_VAR8:
    case ILHEAP_OPND_UINT8:
        *p++ = (uint8_t)v;
        break;
    case ILHEAP_OPND_VAR16:
        il_wr16(p, (uint32_t)v);
        p += 2;
        break;
    case ILHEAP_OPND_INT32:
    case ILHEAP_OPND_FLOAT32:
    case ILHEAP_OPND_TOKEN:
        il_wr32(p, (uint32_t)v);
        p += 4;
        break;
    case ILHEAP_OPND_INT64:
    case ILHEAP_OPND_FLOAT64:
        il_wr32(p, (uint32_t)v);
        il_wr32(p + 4, (uint32_t)(v >> 32));
        p += 8;
        break;
    case ILHEAP_OPND_BRANCH8:
        *p++ = (uint8_t)(int8_t)((int64_t)noff[v] - end);
        break;
    case ILHEAP_OPND_BRANCH32:
        il_wr32(p, (uint32_t)(int32_t)((int64_t)noff[v] - end));
        p += 4;
        break;
    case ILHEAP_OPND_SWITCH:
        *pp = p;
        return write_switch(rw, id, end, pp);
    }
    *pp = p;
    return ILHEAP_OK;
}

/* Writes the code (total bytes) into rw->code. The arrays are read into
 * locals once: the byte stores could alias rw's fields. */
static ilheap_status_t write_code(ilheap_rw_t *rw, uint32_t total)
{
    if (total > rw->code_cap) {
        size_t c = total < 4096 ? 4096 : (size_t)total + total / 2;
        if (!ilheap__rw_grow((void **)&rw->code, c, 1))
            return ilheap__fail(ILHEAP_ENOMEM, "%zu bytes of code", c);
        rw->code_cap = c;
    }
    uint8_t *p = rw->code;
    const uint16_t *op = rw->op;
    const uint8_t *kind = rw->kind;
    const uint64_t *val = rw->val;
    const uint32_t *next = rw->next, *noff = rw->noff;
    for (uint32_t id = rw->head; id != RW_END; id = next[id]) {
        uint32_t end = next[id] == RW_END ? total : noff[next[id]];
        ilheap_status_t st = write_insn(rw, id, op[id], kind[id], val[id], noff, end, &p);
        if (st != ILHEAP_OK)
            return st;
    }
    return ILHEAP_OK;
}

/* The clauses with their boundaries as offsets, into rw->ocl. */
static ilheap_status_t write_clauses(ilheap_rw_t *rw, uint32_t total)
{
    if (rw->ncl > rw->ocl_cap) {
        if (!ilheap__rw_grow((void **)&rw->ocl, rw->ncl, sizeof *rw->ocl))
            return ilheap__fail(ILHEAP_ENOMEM, "%u clauses", rw->ncl);
        rw->ocl_cap = rw->ncl;
    }
    for (uint32_t i = 0; i < rw->ncl; i++) {
        ilheap_rw_clause_t *c = &rw->cl[i];
        c->try_start = rw_resolve(rw, c->try_start);
        c->try_end = rw_resolve(rw, c->try_end);
        c->handler_start = rw_resolve(rw, c->handler_start);
        c->handler_end = rw_resolve(rw, c->handler_end);
        c->filter_start = rw_resolve(rw, c->filter_start);
        uint32_t ts = new_off(rw, c->try_start, total), te = new_off(rw, c->try_end, total);
        uint32_t hs = new_off(rw, c->handler_start, total), he = new_off(rw, c->handler_end, total);
        /* Empty ranges are kept as read (the codec accepts them); reversed ones
         * can only come from removing or replacing around a boundary. */
        if (te < ts || he < hs || c->try_start == RW_END || c->handler_start == RW_END)
            return ilheap__fail(ILHEAP_IL_CLAUSE_RANGE, "clause %u: try [%u, %u) or handler [%u, %u) is reversed",
                                i, ts, te, hs, he);
        ilheap_il_clause_t *o = &rw->ocl[i];
        o->kind = c->kind;
        o->try_offset = ts;
        o->try_length = te - ts;
        o->handler_offset = hs;
        o->handler_length = he - hs;
        o->filter_or_class = c->kind == ILHEAP_IL_FILTER ? new_off(rw, c->filter_start, total) : c->class_token;
    }
    return ILHEAP_OK;
}

ilheap_status_t ilheap__rw_prepare(ilheap_rw_t *rw, ilheap_il_body_t *body)
{
    if (rw == NULL)
        return ilheap__fail(ILHEAP_EINVAL, "NULL rewriter");
    if (!rw->loaded)
        return ilheap__fail(ILHEAP_EINVAL, "no body loaded");
    rw->encoded = 0;
    uint32_t max = 0, total = 0;
    ilheap_status_t st = ilheap_rw_max_stack(rw, &max);
    if (st == ILHEAP_OK)
        st = layout(rw, &total);
    if (st == ILHEAP_OK)
        st = write_code(rw, total);
    if (st == ILHEAP_OK)
        st = write_clauses(rw, total);
    if (st != ILHEAP_OK)
        return st;
    *body = rw->body;
    body->code = rw->code;
    body->code_size = total;
    body->clauses = rw->ocl;
    body->clause_count = rw->ncl;
    body->max_stack = (uint16_t)max;
    body->local_sig = rw->local_sig;
    body->init_locals = rw->init_locals;
    rw->code_size = total;
    rw->encoded = 1;
    return ILHEAP_OK;
}

ilheap_status_t ilheap_rw_encode(ilheap_rw_t *rw, void *dst, size_t cap, size_t *size)
{
    if (size == NULL)
        return ilheap__fail(ILHEAP_EINVAL, "NULL size");
    ilheap_il_body_t b;
    ilheap_status_t st = ilheap__rw_prepare(rw, &b);
    if (st != ILHEAP_OK)
        return st;
    return ilheap_il_rewrite(&b, NULL, ILHEAP_IL_PRESERVE, dst, cap, size);
}

uint32_t ilheap_rw_new_offset(const ilheap_rw_t *rw, ilheap_rw_id_t id)
{
    if (rw == NULL || !rw->encoded)
        return ILHEAP_RW_NEW;
    if (id == RW_END)
        return rw->code_size;
    return rw_live(rw, id) ? rw->noff[id] : ILHEAP_RW_NEW;
}
