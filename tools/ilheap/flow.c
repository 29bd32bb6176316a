/* One method's control flow as a developer sees it (flow.h): the compiler's
 * branches told from the source's by the C# compiler's patterns (each with
 * its C# example in docs/coverage.md, "Branches"), never-returning calls, and
 * branch outcome counts: the edge probes', the ones block counts settle, the
 * rest solved by flow conservation. */
#include "flow.h"
#include "ilheap/instrument.h"

#include <stdlib.h>
#include <string.h>

#define NO_OFFSET UINT32_MAX

typedef struct cov_edge {
    uint32_t from, to;     /* block indexes */
    uint32_t branch;       /* offset of the conditional branch; NO_OFFSET: an unconditional edge */
    uint32_t outcome;      /* k of that branch */
    bool known;
    uint64_t count;
} cov_edge_t;

static const ilheap_il_opinfo_t *info_of(ilheap_rw_t *rw, ilheap_rw_id_t id, ilheap_rw_insn_t *insn)
{
    if (id == ILHEAP_RW_END || ilheap_rw_get(rw, id, insn) != ILHEAP_OK)
        return NULL;
    return ilheap_il_opinfo(insn->opcode);
}

/* ---- never-returning callees ---- */

bool cov_returns_init(cov_returns_t *r, const ilheap_pe_t *pe, const uint8_t *member_flags)
{
    memset(r, 0, sizeof *r);
    r->pe = pe;
    r->count = ilheap_pe_method_count(pe);
    r->state = calloc(r->count + 1u, 1);
    if (r->state == NULL || ilheap_rw_create(&r->rw) != ILHEAP_OK)
        return false;
    for (uint32_t rid = 1; member_flags != NULL && rid <= r->count; rid++)
        if (member_flags[rid] & 4 /* COV_MEMBER_NO_RETURN */)
            r->state[rid] = 2;
    return true;
}

void cov_returns_free(cov_returns_t *r)
{
    ilheap_rw_destroy(r->rw);
    tool_clauses_free(&r->clauses);
    free(r->state);
    memset(r, 0, sizeof *r);
}

/* True when a call of `token` never comes back: a method of this module
 * whose body has no `ret` (it always throws: a throw helper) or that says
 * [DoesNotReturn]. A virtual method called with callvirt may be overridden:
 * only its attribute counts. */
static bool never_returns(cov_returns_t *r, uint32_t token, bool virtual_call)
{
    ilheap_pe_method_t m;
    if (ilheap_pe_member_method(r->pe, token, &token, NULL) != ILHEAP_OK) /* a generic method's instance: its method */
        return false;
    uint32_t rid = token & 0xFFFFFF;
    if (r->state == NULL || token >> 24 != 0x06 || rid == 0 || rid > r->count)
        return false;
    if (r->state[rid] == 0) {
        const uint8_t *p;
        size_t avail, bad;
        ilheap_il_body_t body;
        bool ret = true;
        if (ilheap_pe_method(r->pe, rid, &m, NULL) == ILHEAP_OK && ilheap_pe_method_has_il(&m) &&
            ilheap_pe_method_body(r->pe, &m, &p, &avail, NULL) == ILHEAP_OK &&
            tool_decode(p, avail, &body, &r->clauses) == ILHEAP_OK && ilheap_rw_load(r->rw, &body, &bad) == ILHEAP_OK) {
            ret = false;
            for (ilheap_rw_id_t i = ilheap_rw_first(r->rw); i != ILHEAP_RW_END && !ret; i = ilheap_rw_next(r->rw, i))
                ret = ilheap_rw_opcode(r->rw, i) == ILHEAP_OP_RET || ilheap_rw_opcode(r->rw, i) == ILHEAP_OP_JMP;
        }
        r->state[rid] = ret ? 1 : 2;
    }
    if (r->state[rid] != 2)
        return false;
    /* [DoesNotReturn] holds for overrides too; a body without ret may be overridden */
    return !virtual_call || (ilheap_pe_method(r->pe, rid, &m, NULL) == ILHEAP_OK && !(m.flags & 0x0040));
}

/* ---- the method ---- */

static size_t block_index(const cov_flow_t *f, uint32_t offset)
{
    size_t lo = 0, hi = f->nblocks;
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (f->starts[mid] <= offset)
            lo = mid;
        else
            hi = mid;
    }
    return lo;
}

/* The index in f->ids of the instruction at `offset`, or f->ninsn. */
static size_t insn_index(const cov_flow_t *f, uint32_t offset)
{
    size_t lo = 0, hi = f->ninsn;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (f->offsets[mid] < offset)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < f->ninsn && f->offsets[lo] == offset ? lo : f->ninsn;
}

static bool add_edge(cov_flow_t *f, size_t *cap, cov_edge_t e)
{
    if (!tool_reserve((void **)&f->edges, cap, f->nedges + 1, sizeof *f->edges))
        return false;
    f->edges[f->nedges++] = e;
    return true;
}

/* The edges out of block b, whose last instruction is insn (index i). */
static bool block_edges(cov_flow_t *f, size_t *cap, size_t b, size_t i, const ilheap_rw_insn_t *insn,
                        const ilheap_il_opinfo_t *info)
{
    uint32_t next = i + 1 < f->ninsn ? (uint32_t)block_index(f, f->offsets[i + 1]) : UINT32_MAX;
    ilheap_rw_insn_t t;
    if (info->flow == ILHEAP_FLOW_COND) {
        uint32_t n = insn->opcode == ILHEAP_OP_SWITCH ? insn->op.sw.count : 1;
        const ilheap_rw_id_t *targets = insn->opcode == ILHEAP_OP_SWITCH ? insn->op.sw.targets : &insn->op.target;
        for (uint32_t k = 0; k <= n; k++) {
            uint32_t to = k < n ? (info_of(f->rw, targets[k], &t) ? (uint32_t)block_index(f, t.offset) : UINT32_MAX) : next;
            if (to != UINT32_MAX && !add_edge(f, cap, (cov_edge_t){(uint32_t)b, to, insn->offset, k, false, 0}))
                return false;
        }
        return true;
    }
    uint32_t to = UINT32_MAX;
    if (info->flow == ILHEAP_FLOW_BRANCH && info_of(f->rw, insn->op.target, &t))
        to = (uint32_t)block_index(f, t.offset);
    else if (info->flow == ILHEAP_FLOW_NEXT || info->flow == ILHEAP_FLOW_CALL || info->flow == ILHEAP_FLOW_BREAK)
        to = next;
    /* a block with a call that never returns never gets to its end */
    uint64_t count = f->dead_from[b] != NO_OFFSET ? 0 : f->hits[b];
    return to == UINT32_MAX || add_edge(f, cap, (cov_edge_t){(uint32_t)b, to, NO_OFFSET, 0, true, count});
}

/* Solves the conditional edges by flow conservation: into a block that only
 * edges reach (not the entry, not a handler), the unknown edge is its hits
 * less the known ones; out of a branch, the unknown outcome is the block's
 * hits less the known ones (no exception leaves the branch's block). */
static void solve_edges(cov_flow_t *f, const bool *open)
{
    for (bool changed = true; changed;) {
        changed = false;
        for (int pass = 0; pass < 2; pass++)
            for (size_t b = 0; b < f->nblocks; b++) {
                if (pass == 0 && open[b])
                    continue;
                size_t unknown = f->nedges, nunknown = 0;
                uint64_t known = 0;
                for (size_t e = 0; e < f->nedges; e++) {
                    if ((pass == 0 ? f->edges[e].to : f->edges[e].from) != b ||
                        (pass == 1 && f->edges[e].branch == NO_OFFSET))
                        continue;
                    if (f->edges[e].known)
                        known += f->edges[e].count;
                    else
                        unknown = e, nunknown++;
                }
                if (nunknown != 1)
                    continue;
                uint64_t total = pass == 0 ? f->hits[b] : f->runs[b];
                f->edges[unknown].count = total > known ? total - known : 0;
                f->edges[unknown].known = changed = true;
            }
    }
}

/* The edge probes' counts (ascending (offset, outcome), as the branches'
 * edges come): an outcome's on its edge, a branch's runs on its block; a
 * probe that names no outcome of this body is counted as stray. */
static void apply_probes(cov_flow_t *f, const counts_edge_t *probes, size_t nprobes)
{
    for (size_t b = 0; b < f->nblocks; b++)
        f->runs[b] = f->hits[b];
    size_t p = 0, matched = 0;
    for (size_t e = 0; e < f->nedges; e++) {
        cov_edge_t *x = &f->edges[e];
        if (x->branch == NO_OFFSET)
            continue;
        while (p < nprobes && probes[p].il_offset < x->branch)
            p++;
        for (size_t q = p; q < nprobes && probes[q].il_offset == x->branch; q++) {
            if (probes[q].outcome == x->outcome) {
                x->known = true;
                x->count = probes[q].hits;
                matched++;
            } else if (probes[q].outcome == ILHEAP_PROBE_RUNS && x->outcome == 0) {
                f->runs[x->from] = probes[q].hits;
                matched++;
            }
        }
    }
    f->stray_probes = (uint32_t)(nprobes - matched);
}

/* What block counts settle exactly, before any solving: an outcome into a
 * block that it alone enters has that block's count; the one outcome left of
 * a branch is its runs less the others (the profiler placed its probes so
 * that this settles every two-way branch). */
static void settled_outcomes(cov_flow_t *f, const bool *open, uint32_t *into)
{
    for (size_t b = 0; b < f->nblocks; b++)
        into[b] = 0;
    for (size_t e = 0; e < f->nedges; e++)
        into[f->edges[e].to] += into[f->edges[e].to] < 2;
    for (size_t e = 0; e < f->nedges; e++) {
        cov_edge_t *x = &f->edges[e];
        if (!x->known && x->branch != NO_OFFSET && into[x->to] == 1 && !open[x->to])
            x->known = true, x->count = f->hits[x->to];
    }
    for (size_t e = 0; e < f->nedges;) {
        size_t end = e + 1, unknown = f->nedges;
        uint32_t branch = f->edges[e].branch;
        while (end < f->nedges && branch != NO_OFFSET && f->edges[end].branch == branch && f->edges[end].from == f->edges[e].from)
            end++;
        uint64_t known = 0;
        size_t nunknown = 0;
        for (size_t k = e; k < end && branch != NO_OFFSET; k++)
            f->edges[k].known ? (void)(known += f->edges[k].count) : (void)(unknown = k, nunknown++);
        if (nunknown == 1) {
            uint64_t runs = f->runs[f->edges[unknown].from];
            f->edges[unknown].count = runs > known ? runs - known : 0;
            f->edges[unknown].known = true;
        }
        e = end;
    }
}

/* Blocks entered other than by an edge: the entry, handler and filter starts. */
static bool *open_blocks(const cov_flow_t *f)
{
    bool *open = calloc(f->nblocks + 1, sizeof *open);
    if (open == NULL)
        return NULL;
    open[0] = true;
    for (size_t c = 0; c < ilheap_rw_clause_count(f->rw); c++) {
        ilheap_rw_clause_t cl;
        ilheap_rw_insn_t t;
        if (ilheap_rw_clause(f->rw, c, &cl) != ILHEAP_OK)
            continue;
        if (info_of(f->rw, cl.handler_start, &t))
            open[block_index(f, t.offset)] = true;
        if (info_of(f->rw, cl.filter_start, &t))
            open[block_index(f, t.offset)] = true;
    }
    return open;
}

/* The instructions, the dead tails after never-returning calls, the edges. */
static bool analyse(cov_flow_t *f, cov_returns_t *returns, const counts_edge_t *probes, size_t nprobes)
{
    size_t cap = 0;
    for (size_t i = 0; i < f->ninsn; i++) {
        ilheap_rw_insn_t insn;
        const ilheap_il_opinfo_t *info = info_of(f->rw, f->ids[i], &insn);
        size_t b = block_index(f, insn.offset);
        if (info == NULL)
            continue;
        if ((insn.opcode == ILHEAP_OP_CALL || insn.opcode == ILHEAP_OP_CALLVIRT) && i + 1 < f->ninsn &&
            f->dead_from[b] == NO_OFFSET && never_returns(returns, insn.op.token, insn.opcode == ILHEAP_OP_CALLVIRT))
            f->dead_from[b] = f->offsets[i + 1];
        if (insn.opcode == ILHEAP_OP_CALL && f->state_machine && !f->async) {
            const char *name;
            f->async = ilheap_pe_member_name(f->pe, insn.op.token, &name, NULL) == ILHEAP_OK &&
                       strcmp(name, "SetException") == 0;
        }
        bool last = i + 1 == f->ninsn || block_index(f, f->offsets[i + 1]) != b;
        if (last && !block_edges(f, &cap, b, i, &insn, info))
            return false;
    }
    bool *open = open_blocks(f);
    if (open == NULL)
        return false;
    uint32_t *into = malloc((f->nblocks + 1) * sizeof *into);
    if (into == NULL) {
        free(open);
        return false;
    }
    apply_probes(f, probes, nprobes);
    settled_outcomes(f, open, into);
    solve_edges(f, open);
    free(into);
    free(open);
    return true;
}

/* A compiler-made state machine's MoveNext: "MoveNext" in a type "<...". */
static bool is_state_machine(const ilheap_pe_t *pe, uint32_t rid)
{
    const char *name, *tname;
    uint32_t owner;
    ilheap_pe_typedef_t td;
    return ilheap_pe_method_name(pe, rid, &name, NULL) == ILHEAP_OK && strcmp(name, "MoveNext") == 0 &&
           ilheap_pe_method_owner(pe, rid, &owner, NULL) == ILHEAP_OK &&
           ilheap_pe_typedef(pe, owner, &td, NULL) == ILHEAP_OK &&
           ilheap_pe_string(pe, td.name, &tname, NULL, NULL) == ILHEAP_OK && tname[0] == '<';
}

bool cov_flow_begin(cov_flow_t *f, const ilheap_pe_t *pe, ilheap_rw_t *rw, uint32_t rid, const uint32_t *starts,
                    size_t nblocks, const uint64_t *hits, const counts_edge_t *probes, size_t nprobes,
                    cov_returns_t *returns)
{
    memset(f, 0, sizeof *f);
    f->pe = pe, f->rw = rw, f->starts = starts, f->nblocks = nblocks, f->hits = hits;
    f->state_machine = is_state_machine(pe, rid);
    size_t cap = 0;
    for (ilheap_rw_id_t i = ilheap_rw_first(rw); i != ILHEAP_RW_END; i = ilheap_rw_next(rw, i)) {
        ilheap_rw_insn_t insn;
        if (ilheap_rw_get(rw, i, &insn) != ILHEAP_OK)
            continue;
        if (!tool_reserve((void **)&f->ids, &cap, f->ninsn + 1, sizeof *f->ids))
            return false;
        size_t ocap = f->ninsn;
        if (!tool_reserve((void **)&f->offsets, &ocap, f->ninsn + 1, sizeof *f->offsets))
            return false;
        f->ids[f->ninsn] = i;
        f->offsets[f->ninsn++] = insn.offset;
    }
    f->dead_from = malloc((nblocks + 1) * sizeof *f->dead_from);
    f->runs = malloc((nblocks + 1) * sizeof *f->runs);
    if (f->dead_from == NULL || f->runs == NULL)
        return false;
    for (size_t b = 0; b <= nblocks; b++)
        f->dead_from[b] = NO_OFFSET;
    return nblocks == 0 || analyse(f, returns, probes, nprobes);
}

void cov_flow_end(cov_flow_t *f)
{
    free(f->ids);
    free(f->offsets);
    free(f->dead_from);
    free(f->runs);
    free(f->edges);
    memset(f, 0, sizeof *f);
}

uint64_t cov_flow_point_hits(const cov_flow_t *f, uint32_t offset)
{
    size_t b = block_index(f, offset);
    return offset >= f->dead_from[b] ? 0 : f->hits[b];
}

uint64_t cov_flow_outcome_hits(const cov_flow_t *f, uint32_t offset, uint32_t k, uint32_t target_offset)
{
    for (size_t e = 0; e < f->nedges; e++)
        if (f->edges[e].branch == offset && f->edges[e].outcome == k && f->edges[e].known)
            return f->edges[e].count;
    return f->hits[block_index(f, target_offset)];
}

/* The instruction `back` places before index i (NULL info when none). */
static const ilheap_il_opinfo_t *before(const cov_flow_t *f, size_t i, size_t back, ilheap_rw_insn_t *insn)
{
    return i >= back ? info_of(f->rw, f->ids[i - back], insn) : NULL;
}

/* `ldc.i4.1; brtrue L; nop; L:`: the compiler's expression breakpoint (a
 * switch expression's statement wrapper); the branch at index i. */
static bool expression_breakpoint(const cov_flow_t *f, size_t i)
{
    ilheap_rw_insn_t b, prev, nop, after;
    if (!before(f, i, 0, &b) || (b.opcode != ILHEAP_OP_BRTRUE && b.opcode != ILHEAP_OP_BRTRUE_S) ||
        !before(f, i, 1, &prev) || prev.opcode != ILHEAP_OP_LDC_I4_1 || i + 2 >= f->ninsn ||
        !info_of(f->rw, f->ids[i + 1], &nop) || nop.opcode != ILHEAP_OP_NOP)
        return false;
    return info_of(f->rw, f->ids[i + 2], &after) && b.op.target == f->ids[i + 2];
}

bool cov_flow_dead_point(const cov_flow_t *f, uint32_t offset)
{
    size_t i = insn_index(f, offset);
    return i < f->ninsn && i >= 1 && expression_breakpoint(f, i - 1);
}

/* A cached delegate's null check: `ldsfld <>9__0_0` or `<0>__Name`, then
 * (dup) brtrue: the lambda or method group is made once. */
static bool cached_delegate(const cov_flow_t *f, size_t i)
{
    ilheap_rw_insn_t insn;
    for (size_t back = 1; back <= 2; back++) {
        const char *name;
        if (!before(f, i, back, &insn) || insn.opcode != 0x7E /* ldsfld */ ||
            ilheap_pe_member_name(f->pe, insn.op.token, &name, NULL) != ILHEAP_OK)
            continue;
        if (strncmp(name, "<>9__", 5) == 0)
            return true;
        size_t d = 1;
        while (name[0] == '<' && name[d] >= '0' && name[d] <= '9')
            d++;
        if (d > 1 && strncmp(name + d, ">__", 3) == 0)
            return true;
    }
    return false;
}

/* In an async MoveNext: the state dispatch (`ldloc.0` of the state copy up
 * to 3 instructions before) and an awaiter's IsCompleted check. */
static bool async_machinery(const cov_flow_t *f, size_t i)
{
    ilheap_rw_insn_t insn;
    const char *name;
    for (size_t back = 1; back <= 3; back++)
        if (before(f, i, back, &insn) &&
            (insn.opcode == ILHEAP_OP_LDLOC_0 || (insn.opcode == ILHEAP_OP_LDLOC_S && insn.op.i == 0)))
            return true;
    return before(f, i, 1, &insn) && (insn.opcode == ILHEAP_OP_CALL || insn.opcode == ILHEAP_OP_CALLVIRT) &&
           ilheap_pe_member_name(f->pe, insn.op.token, &name, NULL) == ILHEAP_OK && strcmp(name, "get_IsCompleted") == 0;
}

/* Inside a filter, or a finally with no sequence point of its own (the
 * compiler's: using, foreach, lock clean-up). */
static bool handler_machinery(const cov_flow_t *f, uint32_t offset, const ilheap_pdb_sequence_point_t *pts,
                              size_t np)
{
    for (size_t c = 0; c < ilheap_rw_clause_count(f->rw); c++) {
        ilheap_rw_clause_t cl;
        ilheap_rw_insn_t a, z;
        if (ilheap_rw_clause(f->rw, c, &cl) != ILHEAP_OK)
            continue;
        uint32_t end = info_of(f->rw, cl.handler_end, &z) ? z.offset : NO_OFFSET;
        if (cl.kind == ILHEAP_IL_FILTER && info_of(f->rw, cl.filter_start, &a) && info_of(f->rw, cl.handler_start, &z) &&
            offset >= a.offset && offset < z.offset)
            return true;
        if (cl.kind != ILHEAP_IL_FINALLY || !info_of(f->rw, cl.handler_start, &a) || offset < a.offset ||
            offset >= end)
            continue;
        bool own = false;
        for (size_t p = 0; p < np && !own; p++)
            own = !pts[p].hidden && pts[p].il_offset >= a.offset && pts[p].il_offset < end;
        if (!own)
            return true;
    }
    return false;
}

bool cov_flow_source_branch(cov_flow_t *f, ilheap_rw_id_t id, const ilheap_pdb_sequence_point_t *pts, size_t np)
{
    ilheap_rw_insn_t insn;
    if (!info_of(f->rw, id, &insn))
        return false;
    size_t i = insn_index(f, insn.offset);
    uint32_t seen = f->cond_seen++;
    if (i == f->ninsn)
        return false;
    if (f->state_machine && !f->async) { /* an iterator: the state dispatch comes first */
        if (seen == 0) {
            f->first_was_switch = insn.opcode == ILHEAP_OP_SWITCH;
            return false;
        }
        if (seen == 1 && !f->first_was_switch)
            return false;
    }
    if (f->state_machine && f->async && async_machinery(f, i))
        return false;
    return !expression_breakpoint(f, i) && !cached_delegate(f, i) && !handler_machinery(f, insn.offset, pts, np);
}
