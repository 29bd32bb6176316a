/* One exit for a method, and where a constructor's own code begins: the two
 * shapes a method wrapper needs (a try around the body, a finally or catch
 * that sees every way out). */
#include <string.h>

#include "il/rewrite_internal.h"
#include "ilheap/rewrite.h"
#include "status_internal.h"

/* Has the call `id` a tail. among the prefixes in front of it? Its id, else RW_END. */
static uint32_t tail_prefix_of(const ilheap_rw_t *rw, uint32_t id)
{
    for (uint32_t p = rw->prev[id]; rw_is_prefix(rw, p); p = rw->prev[p])
        if (rw->op[p] == ILHEAP_OP_TAIL)
            return p;
    return RW_END;
}

/* The tail. prefix of a `tail. call; ret` ending at ret, else RW_END. */
static uint32_t tail_call_before(const ilheap_rw_t *rw, uint32_t ret)
{
    uint32_t call = rw->prev[ret];
    return call != RW_END && rw_is_call(rw->op[call]) ? tail_prefix_of(rw, call) : RW_END;
}

/* Pass 1: every ret may become an exit (RW_F_MARK: it needs a leave, being
 * inside a try or a catch handler). Counts them in *rets. */
static ilheap_status_t check_rets(ilheap_rw_t *rw, uint32_t flags, uint32_t *rets, uint32_t *bad)
{
    ilheap__rw_eh_t v;
    ilheap_status_t st = rw->ncl ? ilheap__rw_eh_start(&v, rw) : ILHEAP_OK; /* no clause: no region */
    if (st != ILHEAP_OK)
        return st;
    *rets = 0;
    for (uint32_t id = rw->head; id != RW_END; id = rw->next[id]) {
        rw->flags[id] &= (uint8_t)~RW_F_MARK;
        if (rw->op[id] != ILHEAP_OP_RET)
            continue;
        int role = rw->ncl ? ilheap__rw_eh_role(&v, id) : RW_R_NONE;
        int in_filter = rw->ncl && ilheap__rw_eh_within(&v, id, RW_R_FILTER);
        uint32_t tail = tail_call_before(rw, id);
        *bad = id;
        if (in_filter || (rw->ncl && ilheap__rw_eh_within(&v, id, RW_R_FINALLY)))
            return ilheap__fail(ILHEAP_IL_EH_INSTRUCTION, "IL offset %d: ret inside a %s (no leave can exit it)",
                                rw_offset_for_msg(rw, id), in_filter ? "filter" : "finally or fault handler");
        if (tail != RW_END && !(flags & ILHEAP_RW_EXIT_DROP_TAIL)) {
            *bad = rw->next[tail];
            return ilheap__fail(ILHEAP_IL_SPLIT_TAIL_CALL, "IL offset %d: tail. call before ret (refused; "
                                "ILHEAP_RW_EXIT_DROP_TAIL drops the prefix)", rw_offset_for_msg(rw, tail));
        }
        if (role != RW_R_NONE)
            rw->flags[id] |= RW_F_MARK;
        ++*rets;
    }
    *bad = RW_END;
    return ILHEAP_OK;
}

/* stloc local, in its shortest form. */
static ilheap_rw_insn_t stloc(uint32_t local)
{
    ilheap_rw_insn_t x;
    memset(&x, 0, sizeof x);
    x.offset = ILHEAP_RW_NEW;
    x.opcode = local < 4 ? (uint16_t)(ILHEAP_OP_STLOC_0 + local) : local < 256 ? ILHEAP_OP_STLOC_S : ILHEAP_OP_STLOC;
    x.op.i = local < 4 ? 0 : local;
    return x;
}

/* The branch of a single exit to the epilogue: leave out of a region, else br. */
static ilheap_rw_insn_t exit_branch(int leave, uint32_t epilogue)
{
    ilheap_rw_insn_t x;
    memset(&x, 0, sizeof x);
    x.offset = ILHEAP_RW_NEW;
    x.opcode = leave ? ILHEAP_OP_LEAVE_S : ILHEAP_OP_BR_S;
    x.op.target = epilogue;
    return x;
}

/* Appends the epilogue (ldloc local; ret, or ret): its first id in *first. */
static ilheap_status_t append_epilogue(ilheap_rw_t *rw, uint32_t local, uint32_t *first)
{
    ilheap_rw_insn_t epi[2];
    memset(epi, 0, sizeof epi);
    size_t n = 0;
    if (local != ILHEAP_RW_NO_LOCAL) {
        epi[n].opcode = local < 4 ? (uint16_t)(ILHEAP_OP_LDLOC_0 + local) : local < 256 ? ILHEAP_OP_LDLOC_S : ILHEAP_OP_LDLOC;
        epi[n++].op.i = local < 4 ? 0 : local;
    }
    epi[n++].opcode = ILHEAP_OP_RET;
    ilheap_status_t st = ilheap__rw_insert(rw, RW_END, ILHEAP_RW_BEFORE, epi, n, RW_F_STRUCT, first);
    if (st == ILHEAP_OK)
        ilheap__rw_end_refs_to(rw, *first);
    return st;
}

/* Pass 2: each ret before the epilogue becomes `stloc local; br/leave` (or
 * the branch alone for a void method), keeping its id; a tail. prefix in
 * front of its call goes. Cannot fail: room was made first. */
static void rets_to_exits(ilheap_rw_t *rw, uint32_t local, uint32_t epilogue)
{
    for (uint32_t id = rw->head; id != RW_END && id < epilogue; id = rw->next[id]) {
        if (rw->op[id] != ILHEAP_OP_RET)
            continue;
        uint32_t tail = tail_call_before(rw, id);
        if (tail != RW_END)
            ilheap__rw_unlink(rw, tail);
        int leave = (rw->flags[id] & RW_F_MARK) != 0;
        ilheap_rw_insn_t br = exit_branch(leave, epilogue);
        uint8_t fl = (uint8_t)(RW_F_STRUCT | (leave ? 0 : RW_F_EXIT));
        rw->flags[id] &= (uint8_t)~RW_F_MARK;
        if (local == ILHEAP_RW_NO_LOCAL) {
            ilheap__rw_set_insn(rw, id, &br);
            rw->flags[id] |= fl;
            continue;
        }
        ilheap_rw_insn_t st = stloc(local);
        ilheap__rw_set_insn(rw, id, &st);
        rw->flags[id] |= RW_F_STRUCT;
        uint32_t b;
        ilheap__rw_insert(rw, id, ILHEAP_RW_AFTER, &br, 1, fl, &b);
        id = b;
    }
}

ilheap_status_t ilheap_rw_single_exit(ilheap_rw_t *rw, uint32_t ret_local, uint32_t flags,
                                      ilheap_rw_id_t *epilogue, ilheap_rw_id_t *bad)
{
    uint32_t b = RW_END, rets = 0, epi = RW_END;
    if (epilogue != NULL)
        *epilogue = RW_END;
    if (bad != NULL)
        *bad = RW_END;
    if (rw == NULL || epilogue == NULL)
        return ilheap__fail(ILHEAP_EINVAL, "NULL %s", rw == NULL ? "rewriter" : "epilogue");
    if (!rw->loaded)
        return ilheap__fail(ILHEAP_EINVAL, "no body loaded");
    if (ret_local != ILHEAP_RW_NO_LOCAL && ret_local > 0xFFFEu)
        return ilheap__fail(ILHEAP_IL_OVERFLOW, "local %u (ldloc takes 0 to 65534)", ret_local);
    ilheap_status_t st = check_rets(rw, flags, &rets, &b);
    if (st == ILHEAP_OK)
        st = ilheap__rw_ensure_ids(rw, (uint64_t)rw->n + rets + 2);
    if (st == ILHEAP_OK)
        st = ilheap__rw_ensure_sw(rw, rw->sw_n);
    if (st == ILHEAP_OK)
        st = append_epilogue(rw, ret_local, &epi);
    if (st != ILHEAP_OK) {
        for (uint32_t id = rw->head; id != RW_END; id = rw->next[id])
            rw->flags[id] &= (uint8_t)~RW_F_MARK;
        if (bad != NULL)
            *bad = b;
        return st;
    }
    rets_to_exits(rw, ret_local, epi);
    rw->returns = ret_local != ILHEAP_RW_NO_LOCAL;
    if (ret_local != ILHEAP_RW_NO_LOCAL && rw->struct_peak < 1)
        rw->struct_peak = 1;
    *epilogue = epi;
    return ILHEAP_OK;
}

/* Was the stack item at depth d0 before position k pushed by ldarg.0? The
 * pusher is the last instruction before k that starts at depth d0. */
static int receiver_is_this(const ilheap_rw_t *rw, const uint32_t *ord, uint32_t k, int32_t d0)
{
    while (k-- > 0) {
        if (rw->depth[k] < 0 || rw->depth[k] > d0)
            continue;
        if (rw->depth[k] < d0)
            return 0;
        uint32_t id = ord[k];
        uint16_t op = rw->op[id];
        return op == ILHEAP_OP_LDARG_0 || ((op == ILHEAP_OP_LDARG_S || op == ILHEAP_OP_LDARG) && rw->val[id] == 0);
    }
    return 0;
}

/* The first `call` the callback names a constructor whose receiver is the
 * bottom stack item, pushed by ldarg.0, and that leaves the stack empty. */
static ilheap_status_t find_ctor_call(ilheap_rw_t *rw, ilheap_rw_ctor_fn is_ctor, void *ctx, uint32_t *call)
{
    uint64_t max;
    ilheap_status_t st = ilheap__rw_simulate(rw, &max);
    const uint32_t *ord = rw->scratch;
    for (uint32_t k = 0; st == ILHEAP_OK && k < rw->live; k++) {
        uint32_t id = ord[k], pops = 0, pushes = 0;
        if (rw->op[id] != ILHEAP_OP_CALL || rw->depth[k] < 0 || !is_ctor(ctx, (uint32_t)rw->val[id]))
            continue;
        st = rw->fn(rw->ctx, ILHEAP_OP_CALL, (uint32_t)rw->val[id], &pops, &pushes);
        if (st == ILHEAP_OK && pops >= 1 && pushes == 0 && (uint32_t)rw->depth[k] == pops &&
            receiver_is_this(rw, ord, k, 0)) {
            *call = id;
            return ILHEAP_OK;
        }
    }
    return st != ILHEAP_OK ? st
                           : ilheap__fail(ILHEAP_IL_NO_CTOR_CALL, "no call of a constructor on ldarg.0 "
                                          "that leaves the stack empty");
}

ilheap_status_t ilheap_rw_ctor_body_start(ilheap_rw_t *rw, ilheap_rw_ctor_fn is_ctor, void *ctx,
                                          ilheap_rw_id_t *start)
{
    if (start != NULL)
        *start = RW_END;
    if (rw == NULL || is_ctor == NULL || start == NULL)
        return ilheap__fail(ILHEAP_EINVAL, "NULL argument");
    if (!rw->loaded)
        return ilheap__fail(ILHEAP_EINVAL, "no body loaded");
    if (rw->fn == NULL)
        return ilheap__fail(ILHEAP_IL_STACK_UNKNOWN, "finding the constructor call needs the stack "
                            "callback (ilheap_rw_set_stack_fn)");
    uint32_t call = RW_END;
    ilheap_status_t st = find_ctor_call(rw, is_ctor, ctx, &call);
    ilheap__rw_eh_t v;
    if (st == ILHEAP_OK)
        st = ilheap__rw_eh_start(&v, rw);
    if (st != ILHEAP_OK)
        return st;
    if (ilheap__rw_eh_role(&v, call) != RW_R_NONE)
        return ilheap__fail(ILHEAP_IL_NO_CTOR_CALL, "IL offset %d: the constructor call is inside a "
                            "protected block or handler", rw_offset_for_msg(rw, call));
    *start = rw->next[call];
    return ILHEAP_OK;
}
