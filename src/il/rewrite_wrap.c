/* Wrapping a range of instructions in a try with a new handler: a `leave`
 * closes the try where its last instruction would fall through, the filter
 * and handler code go right after it (in front of the instruction the range
 * ends before), and the clause is added with every check of rewrite_eh.c.
 * A refusal undoes the insertions: nothing changes. */
#include <string.h>

#include "il/rewrite_internal.h"
#include "ilheap/rewrite.h"
#include "status_internal.h"

/* What an undo restores. */
typedef struct snap {
    uint32_t n, live;
    size_t sw_n;
    int clauses_saved;
} snap_t;

static int exit_ok(int role, uint16_t op)
{
    switch (role) {
    case RW_R_FINALLY:
        return op == ILHEAP_OP_ENDFINALLY || op == ILHEAP_OP_THROW;
    case RW_R_CATCH:
        return op == ILHEAP_OP_LEAVE || op == ILHEAP_OP_LEAVE_S || op == ILHEAP_OP_RETHROW ||
               op == ILHEAP_OP_THROW;
    default:
        return op == ILHEAP_OP_ENDFILTER;
    }
}

static const char *const exit_names[] = {"", "leave, rethrow or throw", "endfinally or throw", "endfilter"};

/* The depth effect of a handler's instruction; *known 0 when a call's
 * effect needs a callback that is not set. */
static ilheap_status_t code_effect(ilheap_rw_t *rw, const ilheap_rw_insn_t *x, uint32_t *pops,
                                   uint32_t *pushes, int *known)
{
    const ilheap_il_opinfo_t *in = il_info(x->opcode);
    *pops = in->pops;
    *pushes = in->pushes;
    if (*pops != ILHEAP_STACK_VARIES && *pushes != ILHEAP_STACK_VARIES)
        return ILHEAP_OK;
    ilheap_rw_stack_fn fn = rw->insert_fn ? rw->insert_fn : rw->fn;
    void *ctx = rw->insert_fn ? rw->insert_ctx : rw->ctx;
    if (fn == NULL || in->flow != ILHEAP_FLOW_CALL) {
        *known = 0;
        return ILHEAP_OK;
    }
    ilheap_status_t st = fn(ctx, x->opcode, x->op.token, pops, pushes);
    if (x->opcode == ILHEAP_OP_NEWOBJ)
        *pushes = 1;
    return st;
}

/* Handler or filter code (role RW_R_*): straight instructions, then the one
 * that ends it; its depth from the entry (0 for finally and fault, 1 with
 * the exception object) never below 0, 1 at endfilter. *peak: its highest
 * depth; *known 0 when a call's effect is not known here. */
static ilheap_status_t check_code(ilheap_rw_t *rw, const ilheap_rw_insn_t *code, size_t n, int role,
                                  uint32_t *peak, int *known)
{
    if (code == NULL || n == 0)
        return ilheap__fail(ILHEAP_EINVAL, "no %s code", role == RW_R_FILTER ? "filter" : "handler");
    int64_t d = role == RW_R_FINALLY ? 0 : 1, best = d;
    for (size_t k = 0; k < n; k++) {
        const ilheap_il_opinfo_t *in = il_info(code[k].opcode);
        if (in == NULL)
            return ilheap__fail(ILHEAP_IL_UNKNOWN_OPCODE, "handler instruction %zu: opcode 0x%X", k,
                                (unsigned)code[k].opcode);
        int straight = in->flow == ILHEAP_FLOW_NEXT || in->flow == ILHEAP_FLOW_CALL ||
                       in->flow == ILHEAP_FLOW_BREAK || in->flow == ILHEAP_FLOW_PREFIX;
        if (k + 1 < n ? !straight : !exit_ok(role, code[k].opcode))
            return ilheap__fail(ILHEAP_IL_EH_INSTRUCTION, "%s instruction %zu (%s): %s",
                                role == RW_R_FILTER ? "filter" : "handler", k, in->name,
                                k + 1 < n ? "only the last instruction may branch or end the code"
                                          : exit_names[role]);
        if (code[k].opcode == ILHEAP_OP_LOCALLOC)
            return ilheap__fail(ILHEAP_IL_EH_INSTRUCTION, "handler instruction %zu: localloc", k);
        uint32_t pops, pushes;
        ilheap_status_t st = code_effect(rw, &code[k], &pops, &pushes, known);
        if (st != ILHEAP_OK)
            return st;
        if (!*known)
            continue; /* the structure is still checked */
        if (d < (int64_t)pops || (code[k].opcode == ILHEAP_OP_ENDFILTER && d != 1))
            return ilheap__fail(ILHEAP_IL_STACK_MISMATCH, "%s instruction %zu (%s) at depth %lld",
                                role == RW_R_FILTER ? "filter" : "handler", k, in->name, (long long)d);
        d += (int64_t)pushes - (int64_t)pops;
        if (d > best)
            best = d;
    }
    *peak = (uint32_t)best;
    return ILHEAP_OK;
}

static int handler_role(uint32_t kind)
{
    return kind == ILHEAP_IL_FINALLY || kind == ILHEAP_IL_FAULT ? RW_R_FINALLY : RW_R_CATCH;
}

/* Takes the ids inserted since s out again and restores the clauses. */
static void undo(ilheap_rw_t *rw, const snap_t *s)
{
    if (rw->n > s->n) {
        rw_join(rw, rw->prev[s->n], rw->next[rw->n - 1]);
        rw->live = s->live;
        rw->n = s->n;
    }
    rw->sw_n = s->sw_n;
    if (s->clauses_saved)
        memcpy(rw->cl, rw->cl_save, rw->ncl * sizeof *rw->cl);
    rw->encoded = 0;
}

/* Saves the clauses, for the undo. */
static ilheap_status_t save_clauses(ilheap_rw_t *rw, snap_t *s)
{
    if (rw->ncl == 0)
        return ILHEAP_OK;
    if (rw->ncl > rw->cl_save_cap) {
        if (!ilheap__rw_grow((void **)&rw->cl_save, rw->ncl, sizeof *rw->cl_save))
            return ilheap__fail(ILHEAP_ENOMEM, "%u clauses", rw->ncl);
        rw->cl_save_cap = rw->ncl;
    }
    memcpy(rw->cl_save, rw->cl, rw->ncl * sizeof *rw->cl);
    s->clauses_saved = 1;
    return ILHEAP_OK;
}

/* Moves a clause end at te to `first`, where the block starts inside the
 * range [ts, te) (so it ends with the range, before the code inserted after
 * it); a block that starts before the range holds it, and the new code. */
static void ends_before_new(ilheap_rw_t *rw, uint32_t ts, uint32_t te, uint32_t first)
{
    if (rw->ncl == 0)
        return;
    for (uint32_t id = ts; id != te && id != RW_END; id = rw->next[id])
        rw->flags[id] |= RW_F_MARK;
    for (uint32_t i = 0; i < rw->ncl; i++) {
        ilheap_rw_clause_t *c = &rw->cl[i];
        uint32_t s = rw_resolve(rw, c->try_start);
        if (rw_resolve(rw, c->try_end) == te && s != RW_END && (rw->flags[s] & RW_F_MARK))
            c->try_end = first;
        s = rw_resolve(rw, c->kind == ILHEAP_IL_FILTER ? c->filter_start : c->handler_start);
        if (rw_resolve(rw, c->handler_end) == te && s != RW_END && (rw->flags[s] & RW_F_MARK))
            c->handler_end = first;
    }
    for (uint32_t id = ts; id != te && id != RW_END; id = rw->next[id])
        rw->flags[id] &= (uint8_t)~RW_F_MARK;
}

void ilheap__rw_end_refs_to(ilheap_rw_t *rw, uint32_t first)
{
    for (uint32_t i = 0; i < rw->ncl; i++) {
        ilheap_rw_clause_t *c = &rw->cl[i];
        if (rw_resolve(rw, c->try_end) == RW_END)
            c->try_end = first;
        if (rw_resolve(rw, c->handler_end) == RW_END)
            c->handler_end = first;
    }
}

/* The range [ts, te) is not empty and has a last instruction, *last (a
 * range in the wrong order is refused by the clause's checks: the inserted
 * code is then taken out again). */
static ilheap_status_t check_range(const ilheap_rw_t *rw, uint32_t ts, uint32_t te, uint32_t *last)
{
    *last = te == RW_END ? rw->tail : rw->prev[te];
    if (ts == te || *last == RW_END)
        return ilheap__fail(ILHEAP_IL_CLAUSE_RANGE, "IL offset %d: the range to wrap is empty or reversed",
                            rw_offset_for_msg(rw, ts));
    return ILHEAP_OK;
}

/* Inserts the leave (when the range's last instruction falls through), the
 * filter and the handler in front of te; *c receives the clause. */
static ilheap_status_t insert_parts(ilheap_rw_t *rw, uint32_t start, uint32_t end, const ilheap_rw_handler_t *h,
                                    ilheap_rw_clause_t *c, snap_t *s, uint32_t *bad)
{
    uint32_t ts = rw_resolve(rw, start), te = rw_resolve(rw, end), last = RW_END;
    uint32_t first = RW_END, ffirst = RW_END, hfirst = RW_END;
    ilheap_status_t st = check_range(rw, ts, te, &last);
    if (st != ILHEAP_OK)
        return st;
    int closes = rw_falls_through(rw_info(rw, last)->flow);
    uint32_t ends[2] = {ts, closes ? te : RW_END};
    st = ilheap__rw_empty_stack_at(rw, ends, 2, bad); /* a leave would drop what the range left */
    if (st == ILHEAP_OK)
        st = save_clauses(rw, s);
    if (st != ILHEAP_OK)
        return st;
    if (closes) {
        if (te == RW_END)
            return ilheap__fail(ILHEAP_IL_EH_FLOW, "IL offset %d (%s): falls off the end of the code",
                                rw_offset_for_msg(rw, last), rw_info(rw, last)->name);
        ilheap_rw_insn_t leave;
        memset(&leave, 0, sizeof leave);
        leave.opcode = ILHEAP_OP_LEAVE_S;
        leave.op.target = end;
        st = ilheap__rw_insert(rw, te, ILHEAP_RW_BEFORE, &leave, 1, RW_F_STRUCT, &first);
    }
    if (st == ILHEAP_OK && h->kind == ILHEAP_IL_FILTER)
        st = ilheap__rw_insert(rw, te, ILHEAP_RW_BEFORE, h->filter, h->filter_count, RW_F_STRUCT, &ffirst);
    if (st == ILHEAP_OK)
        st = ilheap__rw_insert(rw, te, ILHEAP_RW_BEFORE, h->code, h->count, RW_F_STRUCT, &hfirst);
    if (st != ILHEAP_OK)
        return st;
    ends_before_new(rw, ts, te, first != RW_END ? first : ffirst != RW_END ? ffirst : hfirst);
    memset(c, 0, sizeof *c);
    c->kind = h->kind;
    c->try_start = start;
    c->try_end = ffirst != RW_END ? ffirst : hfirst;
    c->handler_start = hfirst;
    c->handler_end = end;
    c->filter_start = ffirst;
    c->class_token = h->kind == ILHEAP_IL_CATCH ? h->class_token : 0;
    return ILHEAP_OK;
}

/* The arguments, and the handler's code checked before anything changes. */
static ilheap_status_t check_wrap(ilheap_rw_t *rw, ilheap_rw_id_t start, ilheap_rw_id_t end,
                                  const ilheap_rw_handler_t *h, uint32_t *peak, int *known)
{
    if (rw == NULL || h == NULL)
        return ilheap__fail(ILHEAP_EINVAL, "NULL %s", rw == NULL ? "rewriter" : "handler");
    if (!rw->loaded)
        return ilheap__fail(ILHEAP_EINVAL, "no body loaded");
    if (!il_kind_known(h->kind))
        return ilheap__fail(ILHEAP_IL_CLAUSE_KIND, "kind %u", h->kind);
    if (!rw_live(rw, start) || (end != RW_END && !rw_live(rw, end)))
        return ilheap__fail(ILHEAP_IL_BAD_REF, "wrap ids %u to %u", start, end);
    uint32_t fpeak = 0;
    ilheap_status_t st = check_code(rw, h->code, h->count, handler_role(h->kind), peak, known);
    if (st == ILHEAP_OK && h->kind == ILHEAP_IL_FILTER)
        st = check_code(rw, h->filter, h->filter_count, RW_R_FILTER, &fpeak, known);
    else if (st == ILHEAP_OK && h->kind != ILHEAP_IL_FILTER && h->filter_count)
        st = ilheap__fail(ILHEAP_EINVAL, "filter code for a %s clause", ilheap_il_clause_kind_name(h->kind));
    if (fpeak > *peak)
        *peak = fpeak;
    return st;
}

ilheap_status_t ilheap_rw_wrap(ilheap_rw_t *rw, ilheap_rw_id_t start, ilheap_rw_id_t end,
                               const ilheap_rw_handler_t *handler, size_t *index, ilheap_rw_id_t *bad)
{
    uint32_t peak = 0, b = RW_END;
    int known = 1;
    size_t i = 0;
    if (bad != NULL)
        *bad = RW_END;
    ilheap_status_t st = check_wrap(rw, start, end, handler, &peak, &known);
    if (st != ILHEAP_OK)
        return st;
    snap_t s = {rw->n, rw->live, rw->sw_n, 0};
    ilheap_rw_clause_t c;
    st = insert_parts(rw, start, end, handler, &c, &s, &b);
    if (st == ILHEAP_OK)
        st = ilheap__rw_add_clause(rw, &c, s.n, &i, &b);
    if (st != ILHEAP_OK) {
        undo(rw, &s);
        if (bad != NULL)
            *bad = b != RW_END && b < s.n ? b : RW_END;
        return st;
    }
    if (known && peak > rw->struct_peak)
        rw->struct_peak = peak;
    rw->struct_unknown |= !known;
    if (index != NULL)
        *index = i;
    return ILHEAP_OK;
}
