/* Adding exception clauses (ECMA-335 II.19, I.12.4.2): the checks a new
 * clause must pass, its place in the clause table, and the wrapper that puts
 * a range of instructions in a try with a new handler.
 *
 * A clause's blocks (try, handler, filter) are ranges of sequence positions
 * [s, e). A new clause is accepted only when every rule of the standard
 * still holds for its blocks: they do not overlap each other; against every
 * existing clause they nest or are disjoint (never a partial overlap) and
 * the table keeps inner clauses before outer ones; control enters a try only
 * at its first instruction, never enters a handler or filter, and leaves a
 * try or a catch handler only by `leave` (a finally, fault or filter never);
 * nothing falls into a handler or off the end of a block; no `ret` or `jmp`
 * inside; endfinally, endfilter, rethrow and localloc only where they may
 * be. A refusal names the offending instruction and changes nothing. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "il/rewrite_internal.h"
#include "ilheap/rewrite.h"
#include "status_internal.h"

static const char *const role_name[] = {"try block", "catch handler", "finally or fault handler",
                                        "filter"};

typedef ilheap__rw_blk_t blk_t;
typedef ilheap__rw_eh_t eh_t;

static inline uint32_t at(const eh_t *v, uint32_t id)
{
    return id == RW_END ? v->count : v->pos[id];
}

static inline int inside(blk_t b, uint32_t x)
{
    return b.s <= x && x < b.e;
}

static inline int empty(blk_t b)
{
    return b.s >= b.e;
}

static inline int within(blk_t a, blk_t b)
{
    return b.s <= a.s && a.e <= b.e;
}

static inline int apart(blk_t a, blk_t b)
{
    return empty(a) || empty(b) || a.e <= b.s || b.e <= a.s;
}

static int role_of(uint32_t kind, int block)
{
    if (block == 0)
        return RW_R_TRY;
    if (block == 2)
        return kind == ILHEAP_IL_FILTER ? RW_R_FILTER : RW_R_NONE;
    return kind == ILHEAP_IL_CATCH || kind == ILHEAP_IL_FILTER ? RW_R_CATCH : RW_R_FINALLY;
}

/* The blocks of clause c (its references resolved) as positions. */
static void blocks_of(const eh_t *v, const ilheap_rw_clause_t *c, blk_t b[3])
{
    const ilheap_rw_t *rw = v->rw;
    b[0].s = at(v, rw_resolve(rw, c->try_start));
    b[0].e = at(v, rw_resolve(rw, c->try_end));
    b[1].s = at(v, rw_resolve(rw, c->handler_start));
    b[1].e = at(v, rw_resolve(rw, c->handler_end));
    b[2].s = b[2].e = 0;
    if (c->kind == ILHEAP_IL_FILTER) {
        b[2].s = at(v, rw_resolve(rw, c->filter_start));
        b[2].e = b[1].s;
    }
}

ilheap_status_t ilheap__rw_eh_start(eh_t *v, ilheap_rw_t *rw)
{
    memset(v, 0, sizeof *v);
    v->rw = rw;
    v->bad = RW_END;
    ilheap_status_t st = ilheap__rw_ensure_scratch(rw, (uint64_t)rw->n + 6u * (uint64_t)rw->ncl);
    if (st != ILHEAP_OK)
        return st;
    v->pos = rw->scratch;
    v->cb = (blk_t *)(void *)(rw->scratch + rw->n);
    uint32_t k = 0;
    for (uint32_t id = rw->head; id != RW_END; id = rw->next[id])
        v->pos[id] = k++;
    v->count = k;
    for (uint32_t i = 0; i < rw->ncl; i++)
        blocks_of(v, &rw->cl[i], &v->cb[3 * i]);
    return ILHEAP_OK;
}

ILHEAP_PRINTF_LIKE(4, 5)
static ilheap_status_t fail_at(eh_t *v, uint32_t id, ilheap_status_t st, const char *fmt, ...)
{
    char what[160];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    v->bad = id;
    return ilheap__fail(st, "IL offset %d (%s): %s", id == RW_END ? -1 : rw_offset_for_msg(v->rw, id),
                        id == RW_END ? "the end of the code" : rw_info(v->rw, id)->name, what);
}

/* The new clause's blocks: non-empty, in order, apart from each other. */
static ilheap_status_t new_blocks(eh_t *v, const ilheap_rw_clause_t *c)
{
    blocks_of(v, c, v->nb);
    v->kind = c->kind;
    const blk_t *b = v->nb;
    if (empty(b[0]) || empty(b[1]) || (c->kind == ILHEAP_IL_FILTER && empty(b[2])))
        return fail_at(v, rw_resolve(v->rw, c->try_start), ILHEAP_IL_CLAUSE_RANGE,
                       "%s", "the new clause's try, handler or filter is empty or reversed");
    if (!apart(b[0], b[1]) || !apart(b[0], b[2]))
        return fail_at(v, rw_resolve(v->rw, c->handler_start), ILHEAP_IL_EH_NESTING,
                       "%s", "the new handler or filter lies inside its own try block");
    return ILHEAP_OK;
}

enum { REL_APART, REL_NEW_INSIDE, REL_OLD_INSIDE, REL_SAME_TRY, REL_BAD };

/* How the new clause and existing clause i relate. */
static int relation(const eh_t *v, uint32_t i)
{
    const blk_t *cb = &v->cb[3 * i], *nb = v->nb;
    int all_apart = 1, new_in = 0, old_in = 0;
    for (int j = 0; j < 3; j++)
        for (int k = 0; k < 3; k++)
            all_apart &= apart(nb[j], cb[k]);
    for (int j = 0; j < 3 && !new_in; j++) /* the whole new clause inside one old block */
        new_in = !empty(cb[j]) && within(nb[0], cb[j]) && within(nb[1], cb[j]) &&
                 (empty(nb[2]) || within(nb[2], cb[j]));
    for (int j = 0; j < 3 && !old_in; j++) /* the whole old clause inside one new block */
        old_in = !empty(nb[j]) && within(cb[0], nb[j]) && within(cb[1], nb[j]) &&
                 (empty(cb[2]) || within(cb[2], nb[j]));
    if (all_apart)
        return REL_APART;
    if (new_in && !(nb[0].s == cb[0].s && nb[0].e == cb[0].e))
        return REL_NEW_INSIDE;
    if (old_in && !(nb[0].s == cb[0].s && nb[0].e == cb[0].e))
        return REL_OLD_INSIDE;
    /* One try with several handlers: only catch and filter clauses share one,
     * and their handlers and filters lie apart from everything. */
    int same = nb[0].s == cb[0].s && nb[0].e == cb[0].e && role_of(v->kind, 1) == RW_R_CATCH &&
               role_of(v->rw->cl[i].kind, 1) == RW_R_CATCH;
    for (int j = 1; j < 3 && same; j++)
        for (int k = 0; k < 3; k++)
            same &= apart(nb[j], cb[k]) && apart(cb[j], nb[k]);
    return same ? REL_SAME_TRY : REL_BAD;
}

/* Where the new clause goes: after every clause nested in it (or sharing its
 * try), before every clause it is nested in. */
static ilheap_status_t table_place(eh_t *v, uint32_t *place)
{
    ilheap_rw_t *rw = v->rw;
    uint32_t lo = 0, hi = rw->ncl;
    for (uint32_t i = 0; i < rw->ncl; i++) {
        int rel = relation(v, i);
        if (rel == REL_BAD)
            return fail_at(v, rw_resolve(rw, rw->cl[i].try_start), ILHEAP_IL_EH_NESTING,
                           "the new clause overlaps clause %u (%s) partially", i,
                           ilheap_il_clause_kind_name(rw->cl[i].kind));
        if ((rel == REL_OLD_INSIDE || rel == REL_SAME_TRY) && i + 1 > lo)
            lo = i + 1;
        if (rel == REL_NEW_INSIDE && i < hi)
            hi = i;
    }
    if (lo > hi)
        return fail_at(v, rw_resolve(rw, rw->cl[hi].try_start), ILHEAP_IL_EH_NESTING,
                       "%s", "the clause table does not list inner clauses before outer ones here");
    *place = lo;
    return ILHEAP_OK;
}

/* Whether the edge x -> s (positions; s == count: past the end) may cross
 * block b of role r: enter a try at its start; leave a try or a catch
 * handler by leave (or by a single exit's br, which becomes a leave). */
static int edge_ok(blk_t b, int r, uint32_t px, uint32_t ps, int leave, int exit_br)
{
    int in_x = inside(b, px), in_s = inside(b, ps);
    if (empty(b) || in_x == in_s)
        return 1;
    if (in_s)
        return r == RW_R_TRY && ps == b.s;
    return (leave || exit_br) && (r == RW_R_TRY || r == RW_R_CATCH);
}

static ilheap_status_t edge_fail(eh_t *v, uint32_t id, blk_t b, int r, uint32_t ps, int fresh_block)
{
    const char *whose = fresh_block ? "the new" : "an existing";
    if (inside(b, ps))
        return fail_at(v, id, ILHEAP_IL_EH_FLOW, "enters %s %s %s", whose, role_name[r],
                       r == RW_R_TRY ? "other than at its first instruction" : "(only an exception may)");
    return fail_at(v, id, ILHEAP_IL_EH_FLOW, "leaves %s %s %s", whose, role_name[r],
                   r == RW_R_TRY || r == RW_R_CATCH ? "other than by leave (falling off its end, or a branch)"
                                              : "(only endfinally, endfilter or throw may)");
}

/* Which new block holds position x: 1 try, 2 handler, 3 filter, 0 none
 * (they lie apart). */
static inline int new_block(const eh_t *v, uint32_t x)
{
    return inside(v->nb[0], x) ? 1 : inside(v->nb[1], x) ? 2 : inside(v->nb[2], x) ? 3 : 0;
}

/* One edge that crosses a block's boundary: against the new blocks, and
 * (all) against the existing ones. */
static ilheap_status_t check_edge(eh_t *v, uint32_t id, uint32_t px, uint32_t ps, int leave, int all)
{
    int exit_br = (v->rw->flags[id] & RW_F_EXIT) != 0 &&
                  (v->rw->op[id] == ILHEAP_OP_BR || v->rw->op[id] == ILHEAP_OP_BR_S);
    for (int j = 0; j < 3; j++)
        if (!edge_ok(v->nb[j], role_of(v->kind, j), px, ps, leave, exit_br))
            return edge_fail(v, id, v->nb[j], role_of(v->kind, j), ps, 1);
    for (uint32_t i = 0; all && i < v->rw->ncl; i++)
        for (int j = 0; j < 3; j++) {
            int r = role_of(v->rw->cl[i].kind, j);
            blk_t b = v->cb[3 * i + (uint32_t)j];
            if (!edge_ok(b, r, px, ps, leave, 0))
                return edge_fail(v, id, b, r, ps, 0);
        }
    return ILHEAP_OK;
}

/* The edge id (at px, in new block bx) -> the instruction at ps: checked
 * unless it stays in one new block and needs no check against the others. */
static inline ilheap_status_t edge(eh_t *v, uint32_t id, uint32_t px, int bx, uint32_t ps, int leave, int all)
{
    if (new_block(v, ps) == bx && (!all || v->rw->ncl == 0))
        return ILHEAP_OK; /* crosses no block's boundary */
    return check_edge(v, id, px, ps, leave, all);
}

/* Every edge out of instruction id (at position px, in new block bx). */
static ilheap_status_t check_edges_of(eh_t *v, uint32_t id, uint32_t px, int bx)
{
    ilheap_rw_t *rw = v->rw;
    uint8_t kind = rw->kind[id] & IL_FAST_KIND;
    int all = id >= v->fresh || bx == 2 || bx == 3;
    ilheap_status_t st = ILHEAP_OK;
    if (kind == ILHEAP_OPND_BRANCH8 || kind == ILHEAP_OPND_BRANCH32) {
        int leave = rw->op[id] == ILHEAP_OP_LEAVE || rw->op[id] == ILHEAP_OP_LEAVE_S;
        st = edge(v, id, px, bx, at(v, rw_resolve(rw, (uint32_t)rw->val[id])), leave, all);
    } else if (kind == ILHEAP_OPND_SWITCH) {
        const uint32_t *tg = rw->sw + rw_sw_first(rw->val[id]);
        for (uint32_t k = 0; k < rw_sw_count(rw->val[id]) && st == ILHEAP_OK; k++)
            st = edge(v, id, px, bx, at(v, rw_resolve(rw, tg[k])), 0, all);
    }
    if (st == ILHEAP_OK && !(rw->kind[id] & IL_FAST_ENDS)) /* falls through: to the next position */
        st = edge(v, id, px, bx, px + 1, 0, all);
    return st;
}

/* The innermost block around position px (skip_try: handlers and filters
 * only); the new clause sits at table index place. RW_R_NONE if none. */
static int innermost(const eh_t *v, uint32_t px, int skip_try, uint32_t place, blk_t *out)
{
    int best = RW_R_NONE;
    uint64_t best_key = UINT64_MAX;
    for (uint32_t i = 0; i <= v->rw->ncl; i++) {
        const blk_t *b = i < v->rw->ncl ? &v->cb[3 * i] : v->nb;
        uint32_t kind = i < v->rw->ncl ? v->rw->cl[i].kind : v->kind;
        uint64_t order = i < v->rw->ncl ? 2u * (uint64_t)(i < place ? i : i + 1) + 1 : 2u * (uint64_t)place;
        for (int j = skip_try ? 1 : 0; j < 3; j++) {
            uint64_t key = (uint64_t)(b[j].e - b[j].s) << 32 | order;
            if (!empty(b[j]) && inside(b[j], px) && key < best_key) {
                best_key = key;
                best = role_of(kind, j);
                *out = b[j];
            }
        }
    }
    return best;
}

/* The instructions a new block may not hold, or only in some places. */
static ilheap_status_t check_placement(eh_t *v, uint32_t id, uint32_t px, uint32_t place)
{
    uint16_t op = v->rw->op[id];
    int in_handler = inside(v->nb[1], px) || inside(v->nb[2], px);
    blk_t b = {0, 0};
    if (op == ILHEAP_OP_RET || op == ILHEAP_OP_JMP)
        return fail_at(v, id, ILHEAP_IL_EH_INSTRUCTION, "%s",
                       "inside the new clause's blocks (ilheap_rw_single_exit turns ret into leave)");
    if (op == ILHEAP_OP_LOCALLOC && in_handler)
        return fail_at(v, id, ILHEAP_IL_EH_INSTRUCTION, "%s", "inside a handler or filter");
    if (op == ILHEAP_OP_ENDFINALLY && innermost(v, px, 0, place, &b) != RW_R_FINALLY)
        return fail_at(v, id, ILHEAP_IL_EH_INSTRUCTION, "%s",
                       "not directly inside a finally or fault handler");
    if (op == ILHEAP_OP_ENDFILTER && (innermost(v, px, 0, place, &b) != RW_R_FILTER || px + 1 != b.e))
        return fail_at(v, id, ILHEAP_IL_EH_INSTRUCTION, "%s", "not the last instruction of a filter");
    if (op == ILHEAP_OP_RETHROW && innermost(v, px, 1, place, &b) != RW_R_CATCH)
        return fail_at(v, id, ILHEAP_IL_EH_INSTRUCTION, "%s", "not inside a catch handler");
    if (px + 1 == v->nb[2].e && !empty(v->nb[2]) && op != ILHEAP_OP_ENDFILTER)
        return fail_at(v, id, ILHEAP_IL_EH_INSTRUCTION, "%s", "ends the new filter: only endfilter may");
    return ILHEAP_OK;
}

/* Control flow and placement over the whole sequence; the single exit's brs
 * met are noted for exits_to_leave. Each position's new block is found
 * once: that of px + 1 is the next one's. */
static ilheap_status_t check_body(eh_t *v, uint32_t place)
{
    ilheap_rw_t *rw = v->rw;
    if (rw->head != RW_END && (inside(v->nb[1], 0) || inside(v->nb[2], 0)))
        return fail_at(v, rw->head, ILHEAP_IL_EH_FLOW, "%s", "the method would start inside a handler");
    const uint8_t *kind = rw->kind, *flags = rw->flags;
    const uint32_t *next = rw->next;
    uint32_t px = 0, fresh = v->fresh;
    int bx = new_block(v, 0);
    for (uint32_t id = rw->head; id != RW_END; id = next[id], px++) {
        uint8_t k = kind[id], opnd = k & IL_FAST_KIND;
        int bn = new_block(v, px + 1);
        ilheap_status_t st = ILHEAP_OK;
        if (flags[id] & RW_F_EXIT) {
            if (v->nexits < sizeof v->exits / sizeof v->exits[0])
                v->exits[v->nexits] = id;
            v->nexits++;
        }
        if (opnd == ILHEAP_OPND_BRANCH8 || opnd == ILHEAP_OPND_BRANCH32 || opnd == ILHEAP_OPND_SWITCH ||
            id >= fresh || bx >= 2)
            st = check_edges_of(v, id, px, bx);
        else if (!(k & IL_FAST_ENDS) && bn != bx) /* falls across a boundary */
            st = check_edge(v, id, px, px + 1, 0, 0);
        if (st == ILHEAP_OK && bx && ((k & IL_FAST_EH) || px + 1 == v->nb[2].e))
            st = check_placement(v, id, px, place);
        if (st != ILHEAP_OK)
            return st;
        bx = bn;
    }
    return ILHEAP_OK;
}

/* The single exit's br id (at position px) becomes leave where it now
 * leaves the new try or catch handler. */
static void exit_to_leave(eh_t *v, uint32_t id, uint32_t px)
{
    ilheap_rw_t *rw = v->rw;
    if (rw->op[id] != ILHEAP_OP_BR && rw->op[id] != ILHEAP_OP_BR_S)
        return;
    uint32_t ps = at(v, rw_resolve(rw, (uint32_t)rw->val[id]));
    for (int j = 0; j < 2; j++) {
        int r = role_of(v->kind, j);
        if ((r == RW_R_TRY || r == RW_R_CATCH) && inside(v->nb[j], px) && !inside(v->nb[j], ps)) {
            rw->op[id] = rw->op[id] == ILHEAP_OP_BR_S ? ILHEAP_OP_LEAVE_S : ILHEAP_OP_LEAVE;
            rw->kind[id] = il_fast(rw->op[id]);
            return;
        }
    }
}

/* Every single exit's br check_body met: from its notes, or (more than it
 * keeps) by a walk. */
static void exits_to_leave(eh_t *v)
{
    ilheap_rw_t *rw = v->rw;
    if (v->nexits <= sizeof v->exits / sizeof v->exits[0]) {
        for (uint32_t i = 0; i < v->nexits; i++)
            exit_to_leave(v, v->exits[i], v->pos[v->exits[i]]);
        return;
    }
    uint32_t px = 0;
    for (uint32_t id = rw->head; id != RW_END; id = rw->next[id], px++)
        if (rw->flags[id] & RW_F_EXIT)
            exit_to_leave(v, id, px);
}

ilheap_status_t ilheap__rw_add_clause(ilheap_rw_t *rw, const ilheap_rw_clause_t *c, uint32_t fresh,
                                      size_t *index, uint32_t *bad)
{
    eh_t v;
    uint32_t place = 0;
    ilheap_status_t st = ilheap__rw_eh_start(&v, rw);
    v.fresh = fresh;
    if (st == ILHEAP_OK)
        st = new_blocks(&v, c);
    if (st == ILHEAP_OK)
        st = table_place(&v, &place);
    if (st == ILHEAP_OK)
        st = check_body(&v, place);
    if (st == ILHEAP_OK && rw->ncl + 1 > rw->cl_cap) {
        uint32_t cap = rw->cl_cap ? 2 * rw->cl_cap : 8;
        if (!ilheap__rw_grow((void **)&rw->cl, cap, sizeof *rw->cl))
            st = ilheap__fail(ILHEAP_ENOMEM, "%u clauses", cap);
        else
            rw->cl_cap = cap;
    }
    *bad = v.bad;
    if (st != ILHEAP_OK)
        return st;
    memmove(&rw->cl[place + 1], &rw->cl[place], (rw->ncl - place) * sizeof *rw->cl);
    rw->cl[place] = *c;
    rw->ncl++;
    exits_to_leave(&v);
    rw->encoded = 0;
    *index = place;
    return ILHEAP_OK;
}

ilheap_status_t ilheap_rw_add_clause(ilheap_rw_t *rw, const ilheap_rw_clause_t *clause, size_t *index,
                                     ilheap_rw_id_t *bad)
{
    uint32_t b = RW_END;
    size_t i = 0;
    if (bad != NULL)
        *bad = RW_END;
    if (rw == NULL || clause == NULL)
        return ilheap__fail(ILHEAP_EINVAL, "NULL %s", rw == NULL ? "rewriter" : "clause");
    if (!rw->loaded)
        return ilheap__fail(ILHEAP_EINVAL, "no body loaded");
    ilheap_rw_clause_t c = *clause;
    if (!il_kind_known(c.kind))
        return ilheap__fail(ILHEAP_IL_CLAUSE_KIND, "kind %u", c.kind);
    if (c.kind != ILHEAP_IL_FILTER)
        c.filter_start = RW_END;
    if (!rw_live(rw, c.try_start) || !rw_live(rw, c.handler_start) ||
        (c.try_end != RW_END && !rw_live(rw, c.try_end)) ||
        (c.handler_end != RW_END && !rw_live(rw, c.handler_end)) ||
        (c.kind == ILHEAP_IL_FILTER && !rw_live(rw, c.filter_start)))
        return ilheap__fail(ILHEAP_IL_BAD_REF, "a boundary of the new clause is not a live id");
    uint32_t start = rw_resolve(rw, c.try_start);
    ilheap_status_t st = ilheap__rw_empty_stack_at(rw, &start, 1, &b);
    if (st == ILHEAP_OK)
        st = ilheap__rw_add_clause(rw, &c, rw->n, &i, &b);
    if (bad != NULL)
        *bad = b;
    if (st == ILHEAP_OK && index != NULL)
        *index = i;
    return st;
}

int ilheap__rw_eh_role(const eh_t *v, uint32_t id)
{
    eh_t outside = *v; /* no new clause: its blocks empty, its place past the table */
    memset(outside.nb, 0, sizeof outside.nb);
    blk_t b;
    return innermost(&outside, at(v, id), 0, v->rw->ncl, &b);
}

int ilheap__rw_eh_within(const eh_t *v, uint32_t id, int role)
{
    uint32_t px = at(v, id);
    for (uint32_t i = 0; i < v->rw->ncl; i++)
        for (int j = 0; j < 3; j++)
            if (role_of(v->rw->cl[i].kind, j) == role && !empty(v->cb[3 * i + (uint32_t)j]) &&
                inside(v->cb[3 * i + (uint32_t)j], px))
                return 1;
    return 0;
}
