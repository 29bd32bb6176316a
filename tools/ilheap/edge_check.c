/* The edge check of rewritten IL bodies: a body the IL rewriter
 * encoded is decoded again and compared with the original instructions it
 * was loaded from: every original instruction present, in order, with its
 * opcode (or a short branch's long form) and operand; every original branch,
 * switch and EH edge leads to the same original instruction or to code
 * inserted right in front of it. Used by `ilheap rehome --instrument` and by
 * the rewriter's fuzz target. */
#include "edge_check.h"

#include <stdlib.h>
#include <string.h>

int tool_edges_init(tool_edges_t *e)
{
    memset(e, 0, sizeof *e);
    return ilheap_rw_create(&e->check) == ILHEAP_OK ? 0 : -1;
}

void tool_edges_free(tool_edges_t *e)
{
    ilheap_rw_destroy(e->check);
    tool_clauses_free(&e->clauses);
    free(e->edges);
    free(e->at_offset);
    free(e->original_at);
    memset(e, 0, sizeof *e);
}

/* A short branch (br.s .. blt.un.s, leave.s) and its long form. */
static uint16_t long_form(uint16_t op)
{
    if (op >= 0x2B && op <= 0x37)
        return (uint16_t)(op + 13);
    return op == ILHEAP_OP_LEAVE_S ? ILHEAP_OP_LEAVE : op;
}

static uint8_t operand_of(uint16_t op)
{
    const ilheap_il_opinfo_t *info = ilheap_il_opinfo(op);
    return info ? info->operand : ILHEAP_OPND_NONE;
}

/* Records every edge of the loaded, unedited body: (source, target) for each
 * branch and switch target, and each clause's boundaries. */
static bool record_edges(tool_edges_t *e, ilheap_rw_t *rw, char *msg, size_t msg_size)
{
    e->edge_count = 0;
    for (ilheap_rw_id_t i = ilheap_rw_first(rw); i != ILHEAP_RW_END; i = ilheap_rw_next(rw, i)) {
        ilheap_rw_insn_t in;
        if (ilheap_rw_get(rw, i, &in) != ILHEAP_OK)
            return tool_why(msg, msg_size, "instruction %u: %s", i, ilheap_last_message());
        uint8_t kind = operand_of(in.opcode);
        uint32_t n = kind == ILHEAP_OPND_SWITCH ? in.op.sw.count
                     : kind == ILHEAP_OPND_BRANCH8 || kind == ILHEAP_OPND_BRANCH32 ? 1 : 0;
        if (n == 0)
            continue;
        if (!tool_reserve((void **)&e->edges, &e->edge_cap, e->edge_count + n, sizeof *e->edges))
            return tool_why(msg, msg_size, "out of memory");
        for (uint32_t k = 0; k < n; k++)
            e->edges[e->edge_count++] = (tool_edge_t){i, k,
                                                      kind == ILHEAP_OPND_SWITCH ? in.op.sw.targets[k] : in.op.target};
    }
    return true;
}

bool tool_edges_load(tool_edges_t *e, ilheap_rw_t *rw, const ilheap_il_body_t *orig, char *msg, size_t msg_size)
{
    size_t bad = 0;
    if (ilheap_rw_load(rw, orig, &bad) != ILHEAP_OK)
        return tool_why(msg, msg_size, "the code does not decode into instructions at offset %zu: %s", bad,
                        ilheap_last_message());
    if (!record_edges(e, rw, msg, msg_size))
        return false;
    /* The original instruction at each original offset (for EH boundaries). */
    if (!tool_reserve((void **)&e->original_at, &e->original_cap, (size_t)orig->code_size + 1,
                      sizeof *e->original_at))
        return tool_why(msg, msg_size, "out of memory");
    memset(e->original_at, 0xFF, ((size_t)orig->code_size + 1) * sizeof *e->original_at);
    for (ilheap_rw_id_t i = ilheap_rw_first(rw); i != ILHEAP_RW_END; i = ilheap_rw_next(rw, i)) {
        ilheap_rw_insn_t in;
        if (ilheap_rw_get(rw, i, &in) == ILHEAP_OK && in.offset < orig->code_size)
            e->original_at[in.offset] = i;
    }
    return true;
}

/* Where the edge to original instruction `to` must lead in the new code:
 * exactly at its new offset, or at an instruction boundary in front of it
 * with no original instruction in between (the code inserted before it). */
static bool edge_ok(const tool_edges_t *e, ilheap_rw_t *rw, uint32_t lands, ilheap_rw_id_t to, uint32_t new_size)
{
    uint32_t want = to == ILHEAP_RW_END ? new_size : ilheap_rw_new_offset(rw, to);
    if (lands == want)
        return true;
    if (want > new_size || lands > want || e->at_offset[lands] == UINT32_MAX)
        return false;
    for (uint32_t o = lands; o < want; o++)
        if (e->at_offset[o] != UINT32_MAX && (e->at_offset[o] & TOOL_ORIGINAL) != 0)
            return false;
    return true;
}

/* Step 1: the new body decodes, into as many instructions as were encoded
 * and as many clauses as the original; e->at_offset maps each new offset to
 * the decoded instruction there. */
static bool decode_new(tool_edges_t *e, ilheap_rw_t *rw, const ilheap_il_body_t *orig, const void *out, size_t size,
                       ilheap_il_body_t *d, char *msg, size_t msg_size)
{
    size_t bad = 0;
    if (tool_decode(out, size, d, &e->clauses) != ILHEAP_OK)
        return tool_why(msg, msg_size, "the new body does not decode: %s", ilheap_last_message());
    if (d->body_size != size)
        return tool_why(msg, msg_size, "the new body decodes to %zu bytes, %zu were written", d->body_size, size);
    if (ilheap_rw_load(e->check, d, &bad) != ILHEAP_OK)
        return tool_why(msg, msg_size, "the new code does not decode into instructions at offset %zu: %s", bad,
                        ilheap_last_message());
    if (ilheap_rw_count(e->check) != ilheap_rw_count(rw))
        return tool_why(msg, msg_size, "the new code has %zu instructions, %zu were encoded",
                        ilheap_rw_count(e->check), ilheap_rw_count(rw));
    if (d->clause_count != orig->clause_count)
        return tool_why(msg, msg_size, "%u EH clauses, the original has %u", d->clause_count, orig->clause_count);
    if (!tool_reserve((void **)&e->at_offset, &e->at_cap, (size_t)d->code_size + 1, sizeof *e->at_offset))
        return tool_why(msg, msg_size, "out of memory");
    memset(e->at_offset, 0xFF, ((size_t)d->code_size + 1) * sizeof *e->at_offset);
    for (ilheap_rw_id_t i = ilheap_rw_first(e->check); i != ILHEAP_RW_END; i = ilheap_rw_next(e->check, i)) {
        ilheap_rw_insn_t in;
        if (ilheap_rw_get(e->check, i, &in) != ILHEAP_OK || in.offset >= d->code_size)
            return tool_why(msg, msg_size, "decoded instruction %u has no offset", i);
        e->at_offset[in.offset] = i;
    }
    return true;
}

/* The decoded instruction b stands for the original a: the same opcode (or a
 * short branch's long form) and the same operand. */
static bool same_instruction(const ilheap_rw_insn_t *a, const ilheap_rw_insn_t *b, char *msg, size_t msg_size)
{
    if (b->opcode != a->opcode && b->opcode != long_form(a->opcode))
        return tool_why(msg, msg_size, "original instruction at %#x (opcode %#x) became opcode %#x", a->offset,
                        a->opcode, b->opcode);
    uint8_t kind = operand_of(a->opcode);
    if (kind == ILHEAP_OPND_SWITCH ? a->op.sw.count != b->op.sw.count
        : kind != ILHEAP_OPND_BRANCH8 && kind != ILHEAP_OPND_BRANCH32 && kind != ILHEAP_OPND_NONE &&
              a->op.i != b->op.i)
        return tool_why(msg, msg_size, "original instruction at %#x has another operand", a->offset);
    return true;
}

/* Step 2: every original instruction, in order, at a decoded instruction
 * that stands for it (marked TOOL_ORIGINAL in e->at_offset). */
static bool originals_in_order(tool_edges_t *e, ilheap_rw_t *rw, const ilheap_il_body_t *d, char *msg,
                               size_t msg_size)
{
    uint32_t last = 0;
    bool first = true;
    for (ilheap_rw_id_t i = ilheap_rw_first(rw); i != ILHEAP_RW_END; i = ilheap_rw_next(rw, i)) {
        ilheap_rw_insn_t a, b;
        if (ilheap_rw_get(rw, i, &a) != ILHEAP_OK)
            return tool_why(msg, msg_size, "instruction %u: %s", i, ilheap_last_message());
        if (a.offset == ILHEAP_RW_NEW)
            continue;
        uint32_t no = ilheap_rw_new_offset(rw, i);
        if (no >= d->code_size || e->at_offset[no] == UINT32_MAX)
            return tool_why(msg, msg_size, "original instruction at %#x is missing from the new code", a.offset);
        if (!first && no <= last)
            return tool_why(msg, msg_size, "original instruction at %#x is out of order", a.offset);
        first = false;
        last = no;
        ilheap_rw_id_t j = e->at_offset[no];
        if (ilheap_rw_get(e->check, j, &b) != ILHEAP_OK)
            return tool_why(msg, msg_size, "decoded instruction %u: %s", j, ilheap_last_message());
        if (!same_instruction(&a, &b, msg, msg_size))
            return false;
        e->at_offset[no] = j | TOOL_ORIGINAL;
    }
    return true;
}

/* Step 3: every branch and switch edge leads where it led. */
static bool branches_kept(tool_edges_t *e, ilheap_rw_t *rw, const ilheap_il_body_t *d, char *msg, size_t msg_size)
{
    for (size_t k = 0; k < e->edge_count; k++) {
        const tool_edge_t *edge = &e->edges[k];
        ilheap_rw_id_t j = e->at_offset[ilheap_rw_new_offset(rw, edge->from)] & ~TOOL_ORIGINAL;
        ilheap_rw_insn_t b, target;
        if (ilheap_rw_get(e->check, j, &b) != ILHEAP_OK)
            return tool_why(msg, msg_size, "decoded instruction %u: %s", j, ilheap_last_message());
        ilheap_rw_id_t to = operand_of(b.opcode) == ILHEAP_OPND_SWITCH ? b.op.sw.targets[edge->index] : b.op.target;
        uint32_t lands = (uint32_t)d->code_size;
        if (to != ILHEAP_RW_END) {
            if (ilheap_rw_get(e->check, to, &target) != ILHEAP_OK)
                return tool_why(msg, msg_size, "decoded target %u: %s", to, ilheap_last_message());
            lands = target.offset;
        }
        if (!edge_ok(e, rw, lands, edge->to, (uint32_t)d->code_size))
            return tool_why(msg, msg_size, "the branch at new offset %#x (target %u of it) leads to %#x, not to its "
                            "original target or the code in front of it",
                            ilheap_rw_new_offset(rw, edge->from), edge->index, lands);
    }
    return true;
}

/* Step 4: every EH boundary, clause by clause in the original order, against
 * the original instruction at its old offset. */
static bool clauses_kept(const tool_edges_t *e, ilheap_rw_t *rw, const ilheap_il_body_t *orig,
                         const ilheap_il_body_t *d, char *msg, size_t msg_size)
{
    for (uint32_t k = 0; k < d->clause_count; k++) {
        const ilheap_il_clause_t *n = &d->clauses[k], *o = &orig->clauses[k];
        if (n->kind != o->kind || (n->kind != ILHEAP_IL_FILTER && n->filter_or_class != o->filter_or_class))
            return tool_why(msg, msg_size, "clause %u changed its kind or class token", k);
        uint32_t new_ends[5] = {n->try_offset, n->try_offset + n->try_length, n->handler_offset,
                                n->handler_offset + n->handler_length,
                                n->kind == ILHEAP_IL_FILTER ? n->filter_or_class : 0};
        uint32_t old_ends[5] = {o->try_offset, o->try_offset + o->try_length, o->handler_offset,
                                o->handler_offset + o->handler_length,
                                o->kind == ILHEAP_IL_FILTER ? o->filter_or_class : 0};
        for (int b = 0; b < (n->kind == ILHEAP_IL_FILTER ? 5 : 4); b++) {
            ilheap_rw_id_t to = old_ends[b] >= orig->code_size ? ILHEAP_RW_END : e->original_at[old_ends[b]];
            if (new_ends[b] > d->code_size || !edge_ok(e, rw, new_ends[b], to, (uint32_t)d->code_size))
                return tool_why(msg, msg_size, "EH clause %u: boundary %d moved from %#x to %#x, not to the same "
                                "instruction or the code in front of it", k, b, old_ends[b], new_ends[b]);
        }
    }
    return true;
}

bool tool_edges_check(tool_edges_t *e, ilheap_rw_t *rw, const ilheap_il_body_t *orig, const void *out, size_t size,
                      char *msg, size_t msg_size)
{
    ilheap_il_body_t d;
    return decode_new(e, rw, orig, out, size, &d, msg, msg_size) && originals_in_order(e, rw, &d, msg, msg_size) &&
           branches_kept(e, rw, &d, msg, msg_size) && clauses_kept(e, rw, orig, &d, msg, msg_size);
}
