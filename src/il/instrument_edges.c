/* Edge probes (include/ilheap/instrument.h, "EDGE PROBES"): where block
 * counts cannot tell a conditional branch's outcomes, a probe after the
 * branch (the fall-through), before it (its runs), or before a switch (every
 * outcome, the switch's value computed again). Straight-line, stack-neutral
 * code only, through the public rewriter API. */
#include "il/instrument_internal.h"

#include <stdlib.h>
#include <string.h>

#include "os/memory.h"
#include "status_internal.h"

#define INSTR_OPEN 0x80000000u /* a block entered other than by an edge */
#define IN_MAX 0x7FFFFFFFu

/* Instructions that never throw: the rest of a block after them runs. */
static int cannot_throw(uint16_t op)
{
    if (op <= 0x23)
        return op != 0x01; /* nop, loads and stores of args and locals, constants (not break) */
    switch (op) {
    case 0x25: case 0x26:                         /* dup, pop */
    case 0x58: case 0x59: case 0x5A:              /* add, sub, mul */
    case 0x5F: case 0x60: case 0x61: case 0x62: case 0x63: case 0x64: /* and .. shr.un */
    case 0x65: case 0x66:                         /* neg, not */
    case 0x67: case 0x68: case 0x69: case 0x6A: case 0x6B: case 0x6C: case 0x6D: case 0x6E: /* conv.* */
    case 0x72: case 0x76:                         /* ldstr, conv.r.un */
    case 0xD1: case 0xD2: case 0xD3: case 0xE0:   /* conv.u2, conv.u1, conv.i, conv.u */
    case 0xFE01: case 0xFE02: case 0xFE03: case 0xFE04: case 0xFE05: /* ceq .. clt.un */
    case 0xFE09: case 0xFE0A: case 0xFE0B: case 0xFE0C: case 0xFE0D: case 0xFE0E: /* long arg/loc forms */
        return 1;
    default:
        return 0;
    }
}

/* Instructions a switch probe may run again: they read no memory a run
 * could change and cannot throw (loads of args, locals and int constants,
 * integer arithmetic). */
static int pure(uint16_t op)
{
    if ((op >= 0x02 && op <= 0x09) || op == 0x0E || op == 0x11 || (op >= 0x15 && op <= 0x21))
        return 1; /* ldarg.n, ldloc.n, ldarg.s, ldloc.s, ldc.i4.*, ldc.i8 */
    return op == 0x00 || op == 0x58 || op == 0x59 || op == 0x5A || (op >= 0x5F && op <= 0x66) ||
           op == 0x69 || op == 0x6A || op == 0x6D || op == 0xD3 || op == 0xE0 || op == 0xFE09 || op == 0xFE0C;
}

static size_t block_of(const uint32_t *starts, size_t n, uint32_t offset)
{
    size_t lo = 0, hi = n;
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (starts[mid] <= offset)
            lo = mid;
        else
            hi = mid;
    }
    return lo;
}

/* The block that id starts, or n when it starts none (or is the end). */
static size_t started(const ilheap_instr_t *in, ilheap_rw_t *rw, size_t n, ilheap_rw_id_t id)
{
    ilheap_rw_insn_t insn;
    if (id == ILHEAP_RW_END || ilheap_rw_get(rw, id, &insn) != ILHEAP_OK)
        return n;
    size_t b = block_of(in->starts, n, insn.offset);
    return in->starts[b] == insn.offset ? b : n;
}

static void enter(ilheap_instr_t *in, ilheap_rw_t *rw, size_t n, ilheap_rw_id_t id)
{
    size_t b = started(in, rw, n, id);
    if (b < n && (in->in[b] & IN_MAX) != IN_MAX)
        in->in[b]++;
}

/* Edges into each block: branch, switch and leave targets (each table entry
 * once), falls into a block start; the entry, handlers and filters open. */
static ilheap_status_t count_in(ilheap_instr_t *in, ilheap_rw_t *rw, size_t n)
{
    for (size_t b = 0; b < n; b++)
        in->in[b] = 0;
    in->in[0] = INSTR_OPEN;
    for (size_t c = 0; c < ilheap_rw_clause_count(rw); c++) {
        ilheap_rw_clause_t cl;
        ilheap_status_t st = ilheap_rw_clause(rw, c, &cl);
        if (st != ILHEAP_OK)
            return st;
        size_t h = started(in, rw, n, cl.handler_start), f = started(in, rw, n, cl.filter_start);
        if (h < n)
            in->in[h] |= INSTR_OPEN;
        if (f < n && cl.kind == ILHEAP_IL_FILTER)
            in->in[f] |= INSTR_OPEN;
    }
    for (ilheap_rw_id_t id = ilheap_rw_first(rw); id != ILHEAP_RW_END; id = ilheap_rw_next(rw, id)) {
        ilheap_rw_insn_t insn;
        ilheap_status_t st = ilheap_rw_get(rw, id, &insn);
        const ilheap_il_opinfo_t *info = st == ILHEAP_OK ? ilheap_il_opinfo(insn.opcode) : NULL;
        if (info == NULL)
            return st != ILHEAP_OK ? st : ilheap__fail(ILHEAP_EINVAL, "opcode %#x", insn.opcode);
        if (insn.opcode == ILHEAP_OP_SWITCH)
            for (uint32_t k = 0; k < insn.op.sw.count; k++)
                enter(in, rw, n, insn.op.sw.targets[k]);
        else if (info->flow == ILHEAP_FLOW_COND || info->flow == ILHEAP_FLOW_BRANCH)
            enter(in, rw, n, insn.op.target);
        if (info->flow == ILHEAP_FLOW_COND || info->flow == ILHEAP_FLOW_NEXT || info->flow == ILHEAP_FLOW_CALL ||
            info->flow == ILHEAP_FLOW_BREAK)
            enter(in, rw, n, ilheap_rw_next(rw, id));
    }
    return ILHEAP_OK;
}

/* The instructions right before switch `id` in its block that load its
 * value, all pure: into e->expr. 0 when its value comes another way. */
static int switch_value(ilheap_instr_t *in, ilheap_rw_t *rw, size_t n, ilheap_rw_id_t id, instr_edge_t *e)
{
    ilheap_rw_insn_t back[INSTR_EXPR_MAX];
    uint32_t need = 1, k = 0;
    for (ilheap_rw_id_t i = id; need > 0 && k < INSTR_EXPR_MAX;) {
        if (started(in, rw, n, i) < n || (i = ilheap_rw_prev(rw, i)) == ILHEAP_RW_END ||
            ilheap_rw_get(rw, i, &back[k]) != ILHEAP_OK || !pure(back[k].opcode))
            return 0; /* a jump into the value's code, or an instruction that is not pure */
        const ilheap_il_opinfo_t *info = ilheap_il_opinfo(back[k++].opcode);
        if (info->pushes > need)
            return 0;
        need = need - info->pushes + info->pops;
    }
    if (need != 0)
        return 0;
    e->nexpr = (uint8_t)k;
    for (uint32_t j = 0; j < k; j++)
        e->expr[j] = back[k - 1 - j];
    return 1;
}

static ilheap_status_t add_edge(ilheap_instr_t *in, const instr_edge_t *e, uint32_t offset, uint32_t first,
                                uint32_t nkeys, size_t *total)
{
    if (in->nedges == in->edge_cap) {
        size_t cap = in->edge_cap < 16 ? 16 : in->edge_cap * 2;
        instr_edge_t *p = ilheap__mem_realloc(in->edges, cap, sizeof *p);
        if (p == NULL)
            return ilheap__fail(ILHEAP_ENOMEM, "room for %zu edge probes", cap);
        in->edges = p;
        in->edge_cap = cap;
    }
    if (*total > UINT32_MAX - nkeys)
        return ilheap__fail(ILHEAP_IL_OVERFLOW, "more than 2^32 probes in one body");
    ilheap_status_t st = ilheap__instr_reserve(in, *total + nkeys);
    if (st != ILHEAP_OK)
        return st;
    instr_edge_t *x = &in->edges[in->nedges++];
    *x = *e;
    x->key = (uint32_t)*total;
    for (uint32_t k = 0; k < nkeys; k++)
        in->keys[(*total)++] = (ilheap_probe_key_t){.il_offset = offset, .kind = ILHEAP_PROBE_EDGE,
                                                     .outcome = nkeys > 1 ? first + k : first};
    return ILHEAP_OK;
}

/* The probes branch `id` needs: its outcomes whose target blocks other
 * paths enter too are unknown; one unknown is its runs less the others. */
static ilheap_status_t plan_branch(ilheap_instr_t *in, ilheap_rw_t *rw, size_t n, ilheap_rw_id_t id,
                                   const ilheap_rw_insn_t *insn, int runs_known, size_t *total)
{
    int sw = insn->opcode == ILHEAP_OP_SWITCH;
    uint32_t targets = sw ? insn->op.sw.count : 1, unknown = 0;
    if (targets >= ILHEAP_PROBE_RUNS - 1 || targets > INT32_MAX - 1)
        return ILHEAP_OK; /* more outcomes than a key names: left to a reader's solving */
    for (uint32_t k = 0; k < targets; k++) {
        size_t b = started(in, rw, n, sw ? insn->op.sw.targets[k] : insn->op.target);
        unknown += b >= n || in->in[b] != 1;
    }
    size_t fb = started(in, rw, n, ilheap_rw_next(rw, id));
    int fall = fb >= n || in->in[fb] != 1;
    if (unknown + (uint32_t)fall == 0 || (unknown + (uint32_t)fall == 1 && runs_known))
        return ILHEAP_OK;
    instr_edge_t e = {.branch = id, .targets = targets};
    if (unknown >= 2 && switch_value(in, rw, n, id, &e)) {
        e.kind = INSTR_EDGE_SWITCH;
        return add_edge(in, &e, insn->offset, 0, targets + 1, total);
    }
    ilheap_status_t st = ILHEAP_OK;
    if (fall) {
        e.kind = INSTR_EDGE_FALL;
        st = add_edge(in, &e, insn->offset, targets, 1, total);
    }
    if (st == ILHEAP_OK && unknown == 1 && !runs_known) {
        e.kind = INSTR_EDGE_RUNS;
        st = add_edge(in, &e, insn->offset, ILHEAP_PROBE_RUNS, 1, total);
    }
    return st;
}

ilheap_status_t ilheap__instr_plan_edges(ilheap_instr_t *in, ilheap_rw_t *rw, size_t n, size_t *total)
{
    *total = n;
    in->nedges = 0;
    if (n > in->block_cap) {
        uint32_t *s = ilheap__mem_realloc(in->starts, n, sizeof *s);
        if (s != NULL)
            in->starts = s;
        uint32_t *c = s != NULL ? ilheap__mem_realloc(in->in, n, sizeof *c) : NULL;
        if (c == NULL)
            return ilheap__fail(ILHEAP_ENOMEM, "room for %zu blocks", n);
        in->in = c;
        in->block_cap = n;
    }
    for (size_t b = 0; b < n; b++)
        in->starts[b] = in->keys[b].il_offset; /* the block starts come in sequence, ascending */
    ilheap_status_t st = count_in(in, rw, n);
    int throws = 0;
    for (ilheap_rw_id_t id = ilheap_rw_first(rw); st == ILHEAP_OK && id != ILHEAP_RW_END; id = ilheap_rw_next(rw, id)) {
        ilheap_rw_insn_t insn;
        if ((st = ilheap_rw_get(rw, id, &insn)) != ILHEAP_OK)
            break;
        int start = started(in, rw, n, id) < n;
        throws = !start && throws;
        const ilheap_il_opinfo_t *info = ilheap_il_opinfo(insn.opcode);
        if (info != NULL && info->flow == ILHEAP_FLOW_COND)
            st = plan_branch(in, rw, n, id, &insn, start || !throws, total);
        throws = throws || !cannot_throw(insn.opcode);
    }
    return st;
}

/* The switch probe: its value again, as int64; its outcome (the value when
 * below the target count n, else n, as the switch compares: unsigned); 1
 * added to that outcome's counter. */
static size_t switch_probe(const instr_edge_t *e, const ilheap_instr_options_t *opt, uint64_t base,
                           ilheap_rw_insn_t *out)
{
    static const uint16_t index[] = {0x6A /* conv.i8 */, ILHEAP_OP_LDC_I8, 0x59 /* sub */, ILHEAP_OP_DUP,
                                     ILHEAP_OP_LDC_I8, 0xFE03 /* cgt.un */, 0x6A, 0x5A /* mul */,
                                     ILHEAP_OP_LDC_I8, ILHEAP_OP_ADD, ILHEAP_OP_CONV_U, 0x19 /* ldc.i4.3 */,
                                     0x62 /* shl */};
    size_t k = 0;
    for (uint32_t j = 0; j < e->nexpr; j++)
        out[k++] = e->expr[j];
    for (size_t j = 0; j < sizeof index / sizeof index[0]; j++)
        out[k++] = (ilheap_rw_insn_t){.opcode = index[j], .offset = ILHEAP_RW_NEW};
    out[e->nexpr + 1].op.i = (int64_t)e->targets;          /* d = v - n */
    out[e->nexpr + 4].op.i = -(int64_t)e->targets - 1;     /* below n: d >u -(n + 1) */
    out[e->nexpr + 8].op.i = (int64_t)e->targets;          /* n + d * (v < n) */
    ilheap_rw_insn_t p[ILHEAP_RW_PROBE_MAX];
    size_t m = ilheap__instr_probe(opt, base + 8 * (uint64_t)e->key, p);
    if (m < 2)
        return 0;
    out[k++] = p[0]; /* ldc base; conv.u */
    out[k++] = p[1];
    out[k++] = (ilheap_rw_insn_t){.opcode = ILHEAP_OP_ADD, .offset = ILHEAP_RW_NEW};
    for (size_t j = 2; j < m; j++) /* the rest of the probe: the increment at that address */
        out[k++] = p[j];
    return k;
}

ilheap_status_t ilheap__instr_insert_edges(const ilheap_instr_t *in, ilheap_rw_t *rw,
                                           const ilheap_instr_options_t *opt, uint64_t base)
{
    for (size_t i = 0; i < in->nedges; i++) {
        const instr_edge_t *e = &in->edges[i];
        ilheap_rw_insn_t p[INSTR_EXPR_MAX + 16 + ILHEAP_RW_PROBE_MAX];
        size_t k = e->kind == INSTR_EDGE_SWITCH ? switch_probe(e, opt, base, p)
                                                 : ilheap__instr_probe(opt, base + 8 * (uint64_t)e->key, p);
        if (k == 0)
            return ilheap__fail(ILHEAP_EINVAL, "counter address %#llx does not fit a 32-bit target",
                                (unsigned long long)(base + 8 * (uint64_t)e->key));
        ilheap_status_t st = ilheap_rw_insert(rw, e->branch, e->kind == INSTR_EDGE_FALL ? ILHEAP_RW_AFTER
                                                                                         : ILHEAP_RW_BEFORE, p, k, NULL);
        if (st != ILHEAP_OK)
            return st;
    }
    return ILHEAP_OK;
}
