/* ilheap rehome --instrument: probes inserted with the IL rewriter
 * (include/ilheap/rewrite.h), the body encoded into the module's heap, and
 * the edge check: the new body, decoded again, holds every original
 * instruction in order, and every original branch, switch and EH edge leads
 * to the same original instruction or to code inserted right in front of it. */
#include "instrument.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* The probes' counters: a fake address (the code is written, never run), one
 * 4-byte counter per probe. */
#define COUNTER_BASE 0x00007F0000001000ull

ILHEAP_PRINTF_LIKE(3, 4)
static bool why(char *buf, size_t size, const char *format, ...)
{
    va_list args;
    va_start(args, format);
    vsnprintf(buf, size, format, args);
    va_end(args);
    return false;
}

/* Grows *array (of elem bytes) to hold n; false when out of memory. */
static bool reserve(void **array, size_t *cap, size_t n, size_t elem)
{
    if (n <= *cap)
        return true;
    size_t want = *cap ? *cap : 256;
    while (want < n)
        want *= 2;
    void *grown = realloc(*array, want * elem);
    if (grown == NULL)
        return false;
    *array = grown;
    *cap = want;
    return true;
}

bool tool_instr_parse(const char *name, tool_instr_mode_t *mode)
{
    static const char *const names[] = {[TOOL_INSTR_NONE] = "none", [TOOL_INSTR_CALLS] = "calls",
                                        [TOOL_INSTR_BLOCKS] = "blocks"};
    for (int m = TOOL_INSTR_NONE; m <= TOOL_INSTR_BLOCKS; m++)
        if (strcmp(name, names[m]) == 0)
            return *mode = (tool_instr_mode_t)m, true;
    return false;
}

int tool_instr_init(tool_instr_t *t, tool_instr_mode_t mode)
{
    memset(t, 0, sizeof *t);
    t->mode = mode;
    if (ilheap_rw_create(&t->rw) != ILHEAP_OK || ilheap_rw_create(&t->check) != ILHEAP_OK) {
        tool_instr_free(t);
        return -1;
    }
    return 0;
}

void tool_instr_free(tool_instr_t *t)
{
    ilheap_rw_destroy(t->rw);
    ilheap_rw_destroy(t->check);
    tool_clauses_free(&t->clauses);
    free(t->starts);
    free(t->edges);
    free(t->at_offset);
    free(t->original_at);
    memset(t, 0, sizeof *t);
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
static bool record_edges(tool_instr_t *t, char *msg, size_t msg_size)
{
    t->edge_count = 0;
    for (ilheap_rw_id_t i = ilheap_rw_first(t->rw); i != ILHEAP_RW_END; i = ilheap_rw_next(t->rw, i)) {
        ilheap_rw_insn_t in;
        if (ilheap_rw_get(t->rw, i, &in) != ILHEAP_OK)
            return why(msg, msg_size, "instruction %u: %s", i, ilheap_last_message());
        uint8_t kind = operand_of(in.opcode);
        uint32_t n = kind == ILHEAP_OPND_SWITCH ? in.op.sw.count
                     : kind == ILHEAP_OPND_BRANCH8 || kind == ILHEAP_OPND_BRANCH32 ? 1 : 0;
        if (n == 0)
            continue;
        if (!reserve((void **)&t->edges, &t->edge_cap, t->edge_count + n, sizeof *t->edges))
            return why(msg, msg_size, "out of memory");
        for (uint32_t k = 0; k < n; k++)
            t->edges[t->edge_count++] = (tool_edge_t){i, k,
                                                      kind == ILHEAP_OPND_SWITCH ? in.op.sw.targets[k] : in.op.target};
    }
    return true;
}

/* The inserting step of each mode. */
static bool insert_probes(tool_instr_t *t, uint32_t *probes, char *msg, size_t msg_size)
{
    ilheap_rw_insn_t probe[ILHEAP_RW_PROBE_MAX];
    *probes = 0;
    if (t->mode == TOOL_INSTR_NONE || ilheap_rw_first(t->rw) == ILHEAP_RW_END)
        return true;
    size_t n = 1;
    ilheap_status_t st;
    if (t->mode == TOOL_INSTR_BLOCKS) {
        st = ilheap_rw_block_starts(t->rw, t->starts, t->start_cap, &n);
        if (st == ILHEAP_IL_DEST_TOO_SMALL) {
            if (!reserve((void **)&t->starts, &t->start_cap, n, sizeof *t->starts))
                return why(msg, msg_size, "out of memory");
            st = ilheap_rw_block_starts(t->rw, t->starts, t->start_cap, &n);
        }
        if (st != ILHEAP_OK)
            return why(msg, msg_size, "finding the block starts: %s", ilheap_last_message());
    } else {
        if (!reserve((void **)&t->starts, &t->start_cap, 1, sizeof *t->starts))
            return why(msg, msg_size, "out of memory");
        t->starts[0] = ilheap_rw_first(t->rw);
    }
    /* calls: before the first instruction only, so a branch back to it is not
     * counted as another call; blocks: on every path into the block. */
    ilheap_rw_where_t where = t->mode == TOOL_INSTR_BLOCKS ? ILHEAP_RW_BLOCK_START : ILHEAP_RW_BEFORE;
    for (size_t i = 0; i < n; i++) {
        size_t len = ilheap_rw_counter_probe(COUNTER_BASE + 4 * t->next_counter++, 1, probe);
        st = ilheap_rw_insert(t->rw, t->starts[i], where, probe, len, NULL);
        if (st != ILHEAP_OK)
            return why(msg, msg_size, "inserting a probe before instruction %u: %s", t->starts[i],
                       ilheap_last_message());
    }
    *probes = (uint32_t)n;
    return true;
}

/* Where the edge to original instruction `to` must lead in the new code:
 * exactly at its new offset, or at an instruction boundary in front of it
 * with no original instruction in between (the code inserted before it). */
static bool edge_ok(const tool_instr_t *t, uint32_t lands, ilheap_rw_id_t to, uint32_t new_size)
{
    uint32_t want = to == ILHEAP_RW_END ? new_size : ilheap_rw_new_offset(t->rw, to);
    if (lands == want)
        return true;
    if (lands > want || t->at_offset[lands] == UINT32_MAX)
        return false;
    for (uint32_t o = lands; o < want; o++)
        if (t->at_offset[o] != UINT32_MAX && (t->at_offset[o] & TOOL_ORIGINAL) != 0)
            return false;
    return true;
}

/* The edge check of the encoded body nb[0 .. size) against t->rw's original
 * instructions and the recorded edges. */
static bool verify(tool_instr_t *t, const uint8_t *nb, size_t size, const ilheap_il_body_t *orig, char *msg,
                   size_t msg_size)
{
    ilheap_il_body_t d;
    size_t bad = 0;
    if (tool_decode(nb, size, &d, &t->clauses) != ILHEAP_OK)
        return why(msg, msg_size, "the new body does not decode: %s", ilheap_last_message());
    if (d.body_size != size)
        return why(msg, msg_size, "the new body decodes to %zu bytes, %zu were written", d.body_size, size);
    if (ilheap_rw_load(t->check, &d, &bad) != ILHEAP_OK)
        return why(msg, msg_size, "the new code does not decode into instructions at offset %zu: %s", bad,
                   ilheap_last_message());
    if (ilheap_rw_count(t->check) != ilheap_rw_count(t->rw))
        return why(msg, msg_size, "the new code has %zu instructions, %zu were encoded", ilheap_rw_count(t->check),
                   ilheap_rw_count(t->rw));
    if (d.clause_count != orig->clause_count)
        return why(msg, msg_size, "%u EH clauses, the original has %u", d.clause_count, orig->clause_count);
    /* Which decoded instruction starts at each new offset (+1 for the end). */
    if (!reserve((void **)&t->at_offset, &t->at_cap, (size_t)d.code_size + 1, sizeof *t->at_offset))
        return why(msg, msg_size, "out of memory");
    memset(t->at_offset, 0xFF, ((size_t)d.code_size + 1) * sizeof *t->at_offset);
    for (ilheap_rw_id_t i = ilheap_rw_first(t->check); i != ILHEAP_RW_END; i = ilheap_rw_next(t->check, i)) {
        ilheap_rw_insn_t in;
        if (ilheap_rw_get(t->check, i, &in) != ILHEAP_OK || in.offset >= d.code_size)
            return why(msg, msg_size, "decoded instruction %u has no offset", i);
        t->at_offset[in.offset] = i;
    }
    /* Every original instruction, in order, at a decoded instruction with the
     * same opcode (or a short branch's long form) and the same operand. */
    uint32_t last = 0;
    bool first = true;
    for (ilheap_rw_id_t i = ilheap_rw_first(t->rw); i != ILHEAP_RW_END; i = ilheap_rw_next(t->rw, i)) {
        ilheap_rw_insn_t a, b;
        if (ilheap_rw_get(t->rw, i, &a) != ILHEAP_OK)
            return why(msg, msg_size, "instruction %u: %s", i, ilheap_last_message());
        if (a.offset == ILHEAP_RW_NEW)
            continue;
        uint32_t no = ilheap_rw_new_offset(t->rw, i);
        if (no >= d.code_size || t->at_offset[no] == UINT32_MAX)
            return why(msg, msg_size, "original instruction at %#x is missing from the new code", a.offset);
        if (!first && no <= last)
            return why(msg, msg_size, "original instruction at %#x is out of order", a.offset);
        first = false;
        last = no;
        ilheap_rw_id_t j = t->at_offset[no];
        if (ilheap_rw_get(t->check, j, &b) != ILHEAP_OK)
            return why(msg, msg_size, "decoded instruction %u: %s", j, ilheap_last_message());
        if (b.opcode != a.opcode && b.opcode != long_form(a.opcode))
            return why(msg, msg_size, "original instruction at %#x (opcode %#x) became opcode %#x", a.offset,
                       a.opcode, b.opcode);
        uint8_t kind = operand_of(a.opcode);
        if (kind == ILHEAP_OPND_SWITCH ? a.op.sw.count != b.op.sw.count
            : kind != ILHEAP_OPND_BRANCH8 && kind != ILHEAP_OPND_BRANCH32 && kind != ILHEAP_OPND_NONE &&
                  a.op.i != b.op.i)
            return why(msg, msg_size, "original instruction at %#x has another operand", a.offset);
        t->at_offset[no] = j | TOOL_ORIGINAL;
    }
    /* Every branch and switch edge. */
    for (size_t e = 0; e < t->edge_count; e++) {
        const tool_edge_t *edge = &t->edges[e];
        ilheap_rw_id_t j = t->at_offset[ilheap_rw_new_offset(t->rw, edge->from)] & ~TOOL_ORIGINAL;
        ilheap_rw_insn_t b, target;
        if (ilheap_rw_get(t->check, j, &b) != ILHEAP_OK)
            return why(msg, msg_size, "decoded instruction %u: %s", j, ilheap_last_message());
        ilheap_rw_id_t to = operand_of(b.opcode) == ILHEAP_OPND_SWITCH ? b.op.sw.targets[edge->index] : b.op.target;
        uint32_t lands = (uint32_t)d.code_size;
        if (to != ILHEAP_RW_END) {
            if (ilheap_rw_get(t->check, to, &target) != ILHEAP_OK)
                return why(msg, msg_size, "decoded target %u: %s", to, ilheap_last_message());
            lands = target.offset;
        }
        if (!edge_ok(t, lands, edge->to, (uint32_t)d.code_size))
            return why(msg, msg_size, "the branch at new offset %#x (target %u of it) leads to %#x, not to its "
                       "original target or the code in front of it",
                       ilheap_rw_new_offset(t->rw, edge->from), edge->index, lands);
    }
    /* Every EH boundary, clause by clause in the original order. */
    for (uint32_t k = 0; k < d.clause_count; k++) {
        const ilheap_il_clause_t *n = &d.clauses[k], *o = &orig->clauses[k];
        if (n->kind != o->kind || (n->kind != ILHEAP_IL_FILTER && n->filter_or_class != o->filter_or_class))
            return why(msg, msg_size, "clause %u changed its kind or class token", k);
        /* Each boundary against the original instruction at its old offset. */
        uint32_t new_ends[5] = {n->try_offset, n->try_offset + n->try_length, n->handler_offset,
                                n->handler_offset + n->handler_length,
                                n->kind == ILHEAP_IL_FILTER ? n->filter_or_class : 0};
        uint32_t old_ends[5] = {o->try_offset, o->try_offset + o->try_length, o->handler_offset,
                                o->handler_offset + o->handler_length,
                                o->kind == ILHEAP_IL_FILTER ? o->filter_or_class : 0};
        for (int b = 0; b < (n->kind == ILHEAP_IL_FILTER ? 5 : 4); b++) {
            ilheap_rw_id_t to = old_ends[b] >= orig->code_size ? ILHEAP_RW_END : t->original_at[old_ends[b]];
            if (new_ends[b] > d.code_size || !edge_ok(t, new_ends[b], to, (uint32_t)d.code_size))
                return why(msg, msg_size, "EH clause %u: boundary %d moved from %#x to %#x, not to the same "
                           "instruction or the code in front of it", k, b, old_ends[b], new_ends[b]);
        }
    }
    return true;
}

bool tool_instr_body(tool_instr_t *t, const ilheap_il_body_t *orig, ilheap_heap_t *heap, bool check, void **out, size_t *size, uint32_t *probes, char *msg, size_t msg_size)
{
    size_t bad = 0;
    *out = NULL;
    *probes = 0;
    if (ilheap_rw_load(t->rw, orig, &bad) != ILHEAP_OK)
        return why(msg, msg_size, "the code does not decode into instructions at offset %zu: %s", bad,
                   ilheap_last_message());
    if (check) {
        if (!record_edges(t, msg, msg_size))
            return false;
        /* The original instruction at each original offset (for EH ends). */
        if (!reserve((void **)&t->original_at, &t->original_cap, (size_t)orig->code_size + 1,
                     sizeof *t->original_at))
            return why(msg, msg_size, "out of memory");
        memset(t->original_at, 0xFF, ((size_t)orig->code_size + 1) * sizeof *t->original_at);
        for (ilheap_rw_id_t i = ilheap_rw_first(t->rw); i != ILHEAP_RW_END; i = ilheap_rw_next(t->rw, i)) {
            ilheap_rw_insn_t in;
            if (ilheap_rw_get(t->rw, i, &in) == ILHEAP_OK && in.offset < orig->code_size)
                t->original_at[in.offset] = i;
        }
    }
    if (!insert_probes(t, probes, msg, msg_size))
        return false;
    ilheap_status_t st = ilheap_rw_encode_to_heap(t->rw, heap, out, size);
    if (st != ILHEAP_OK)
        return why(msg, msg_size, "encoding into the heap: %s", ilheap_last_message());
    return true;
}

bool tool_instr_check(tool_instr_t *t, const ilheap_il_body_t *orig, const uint8_t *orig_bytes, const void *out,
                      size_t size, char *msg, size_t msg_size)
{
    /* Unedited, the encoder writes the body as it was read (junk padding
     * aside, which it writes as zeros). */
    if (t->mode == TOOL_INSTR_NONE && !(orig->quirks & ILHEAP_IL_QUIRK_PADDING_NONZERO) &&
        (size != orig->body_size || memcmp(out, orig_bytes, size) != 0))
        return why(msg, msg_size, "unedited, the new body is not byte-identical to the original (%zu vs %zu bytes)",
                   size, orig->body_size);
    return verify(t, out, size, orig, msg, msg_size);
}
