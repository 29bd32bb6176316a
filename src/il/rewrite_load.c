/* Loading a decoded method body into the rewriter's instructions: pass 1
 * reads every instruction with its targets as offsets, pass 2 turns the
 * offsets into ids and checks prefixes, then the EH clauses' boundaries
 * become ids. Every defect is a status with the offending offset. */
#include <string.h>

#include "il/rewrite_internal.h"
#include "ilheap/rewrite.h"
#include "status_internal.h"

/* Where loading reads from: the code, its size, and the offset -> id map. */
typedef struct load {
    const uint8_t *code;
    uint32_t n;
    uint32_t *map; /* offset -> id for [0, n] (MAP_NONE: not a start) */
    uint32_t *fix; /* the ids pass 2 must visit */
    uint32_t nfix;
    size_t at;     /* offset of the defect on failure */
} load_t;

#define MAP_NONE 0xFFFFFFFFu /* all bits set: the map is cleared with memset */

/* A reference by offset: the id of the instruction starting there (or
 * RW_END for the code's end when end_ok), else RW_NONE. A target may not be
 * the instruction after a prefix. */
static uint32_t ref_at(const ilheap_rw_t *rw, const load_t *ld, uint64_t offset, int end_ok)
{
    if (offset == ld->n && end_ok)
        return RW_END;
    if (offset >= ld->n)
        return RW_NONE;
    uint32_t id = ld->map[offset];
    if (id == MAP_NONE || rw_is_prefix(rw, rw->prev[id]))
        return RW_NONE;
    return id;
}

/* A switch's table at p (pos: the offset after the opcode): its targets as
 * offsets appended to rw->sw; *v the operand, *osz its bytes. */
static ilheap_status_t read_switch(ilheap_rw_t *rw, load_t *ld, uint32_t start, uint32_t pos,
                                   uint64_t *v, uint32_t *osz)
{
    const uint8_t *p = ld->code + pos;
    uint32_t cnt = il_rd32(p);
    if ((ld->n - pos - 4) / 4 < cnt)
        return ilheap__fail(ILHEAP_IL_TRUNCATED_OPERAND,
                            "IL offset %u: switch of %u targets runs past the code", start, cnt);
    ilheap_status_t st = ilheap__rw_ensure_sw(rw, (uint64_t)rw->sw_n + cnt);
    if (st != ILHEAP_OK)
        return st;
    int64_t base = (int64_t)pos + 4 + 4 * (int64_t)cnt;
    for (uint32_t k = 0; k < cnt; k++) {
        int64_t target = base + (int32_t)il_rd32(p + 4 + 4 * (size_t)k);
        if (target < 0 || target >= ld->n)
            return ilheap__fail(ILHEAP_IL_BAD_TARGET,
                                "IL offset %u: switch target %u to %lld, outside %u bytes of code",
                                start, k, (long long)target, ld->n);
        rw->sw[rw->sw_n + k] = (uint32_t)target;
    }
    *v = rw->sw_n | (uint64_t)cnt << 32;
    rw->sw_n += cnt;
    *osz += 4 * cnt;
    return ILHEAP_OK;
}

/* The operand of the instruction at start (its opcode ends at pos): *v its
 * value (branch targets as offsets), *osz its bytes. */
static ilheap_status_t read_operand(ilheap_rw_t *rw, load_t *ld, uint32_t start, uint32_t pos,
                                    uint16_t opc, uint64_t *v, uint32_t *osz)
{
    ilheap_il_operand_t kind = (ilheap_il_operand_t)(il_fast(opc) & IL_FAST_KIND);
    const uint8_t *p = ld->code + pos;
    *osz = ilheap__il_operand_bytes[kind];
    if (ld->n - pos < *osz)
        return ilheap__fail(ILHEAP_IL_TRUNCATED_OPERAND,
                            "IL offset %u: %s needs %u operand bytes, %u left", start,
                            il_info(opc)->name, *osz, ld->n - pos);
    int64_t target;
    switch (kind) {
    case ILHEAP_OPND_NONE:
        *v = 0;
        break;
    case ILHEAP_OPND_INT8:
        *v = (uint64_t)(int64_t)(int8_t)p[0];
        break;
    case ILHEAP_OPND_VAR8:
    case ILHEAP_OPND_UINT8:
        *v = p[0];
        break;
    case ILHEAP_OPND_VAR16:
        *v = il_rd16(p);
        break;
    case ILHEAP_OPND_INT32:
        *v = (uint64_t)(int64_t)(int32_t)il_rd32(p);
        break;
    case ILHEAP_OPND_FLOAT32:
    case ILHEAP_OPND_TOKEN:
        *v = il_rd32(p);
        break;
    case ILHEAP_OPND_INT64:
    case ILHEAP_OPND_FLOAT64:
        *v = (uint64_t)il_rd32(p) | (uint64_t)il_rd32(p + 4) << 32;
        break;
    case ILHEAP_OPND_BRANCH8:
    case ILHEAP_OPND_BRANCH32:
        target = (int64_t)pos + *osz + (kind == ILHEAP_OPND_BRANCH8 ? (int8_t)p[0] : (int32_t)il_rd32(p));
        if (target < 0 || target >= ld->n)
            return ilheap__fail(ILHEAP_IL_BAD_TARGET, "IL offset %u: %s to %lld, outside %u bytes of code",
                                start, il_info(opc)->name, (long long)target, ld->n);
        *v = (uint64_t)target;
        break;
    case ILHEAP_OPND_SWITCH:
        return read_switch(rw, ld, start, pos, v, osz);
    }
    return ILHEAP_OK;
}

/* Appends the instruction read at start to the sequence. */
static void append_loaded(ilheap_rw_t *rw, load_t *ld, uint32_t start, uint16_t opc, uint64_t v)
{
    uint32_t id = rw->n++;
    uint8_t fk = il_fast(opc);
    ilheap_il_operand_t kind = (ilheap_il_operand_t)(fk & IL_FAST_KIND);
    if (kind == ILHEAP_OPND_BRANCH8 || kind == ILHEAP_OPND_BRANCH32 || kind == ILHEAP_OPND_SWITCH ||
        (fk & IL_FAST_PREFIX))
        ld->fix[ld->nfix++] = id;
    ld->map[start] = id;
    rw->op[id] = opc;
    rw->kind[id] = fk;
    rw->flags[id] = RW_F_LIVE;
    rw->off[id] = start;
    rw->val[id] = v;
    rw->redir[id] = RW_NONE;
    rw->prev[id] = id ? id - 1 : RW_END;
    rw->next[id] = RW_END;
    if (id)
        rw->next[id - 1] = id;
}

/* Pass 1: instructions, operands, targets as offsets. */
static ilheap_status_t read_insns(ilheap_rw_t *rw, load_t *ld)
{
    uint32_t pos = 0;
    while (pos < ld->n) {
        uint32_t start = pos;
        ld->at = start;
        uint16_t opc = ld->code[pos++];
        if (opc == 0xFE) {
            if (pos >= ld->n)
                return ilheap__fail(ILHEAP_IL_TRUNCATED_OPERAND,
                                    "IL offset %u: 0xFE at the end of the code", start);
            opc = (uint16_t)(0xFE00u | ld->code[pos++]);
        }
        if (il_fast(opc) == IL_FAST_NONE)
            return ilheap__fail(ILHEAP_IL_UNKNOWN_OPCODE, "IL offset %u: opcode 0x%X", start,
                                (unsigned)opc);
        uint64_t v = 0;
        uint32_t osz = 0;
        ilheap_status_t st = read_operand(rw, ld, start, pos, opc, &v, &osz);
        if (st != ILHEAP_OK)
            return st;
        pos += osz;
        append_loaded(rw, ld, start, opc, v);
    }
    rw->live = rw->loaded_n = rw->n;
    rw->head = rw->n ? 0 : RW_END;
    rw->tail = rw->n ? rw->n - 1 : RW_END;
    return ILHEAP_OK;
}

/* Pass 2: offsets become ids; prefixes are checked. */
static ilheap_status_t resolve_loaded(ilheap_rw_t *rw, load_t *ld)
{
    for (uint32_t f = 0; f < ld->nfix; f++) {
        uint32_t id = ld->fix[f];
        const ilheap_il_opinfo_t *in = rw_info(rw, id);
        ld->at = rw->off[id];
        if (in->operand == ILHEAP_OPND_BRANCH8 || in->operand == ILHEAP_OPND_BRANCH32) {
            uint32_t t = ref_at(rw, ld, rw->val[id], 0);
            if (t == RW_NONE)
                return ilheap__fail(ILHEAP_IL_BAD_TARGET, "IL offset %u: %s to %u, not an instruction start",
                                    rw->off[id], in->name, (unsigned)rw->val[id]);
            rw->val[id] = t;
        } else if (in->operand == ILHEAP_OPND_SWITCH) {
            uint32_t *tg = rw->sw + rw_sw_first(rw->val[id]);
            for (uint32_t k = 0; k < rw_sw_count(rw->val[id]); k++) {
                uint32_t t = ref_at(rw, ld, tg[k], 0);
                if (t == RW_NONE)
                    return ilheap__fail(ILHEAP_IL_BAD_TARGET,
                                        "IL offset %u: switch target %u to %u, not an instruction start",
                                        rw->off[id], k, tg[k]);
                tg[k] = t;
            }
        } else if (in->prefix) {
            ilheap_status_t st = ilheap__rw_check_prefix(rw, id);
            if (st != ILHEAP_OK)
                return st;
        }
    }
    return ILHEAP_OK;
}

/* EH clauses: boundaries become ids (ends may be the end of the code). */
static ilheap_status_t load_clauses(ilheap_rw_t *rw, load_t *ld, const ilheap_il_body_t *body)
{
    ld->at = 0;
    if (body->clause_count > rw->cl_cap) {
        if (!ilheap__rw_grow((void **)&rw->cl, body->clause_count, sizeof *rw->cl))
            return ilheap__fail(ILHEAP_ENOMEM, "%u clauses", body->clause_count);
        rw->cl_cap = body->clause_count;
    }
    for (uint32_t i = 0; i < body->clause_count; i++) {
        const ilheap_il_clause_t *c = &body->clauses[i];
        ilheap_rw_clause_t *r = &rw->cl[i];
        ld->at = c->try_offset;
        if (!il_kind_known(c->kind))
            return ilheap__fail(ILHEAP_IL_CLAUSE_KIND, "clause %u: kind %u", i, c->kind);
        r->kind = c->kind;
        r->try_start = ref_at(rw, ld, c->try_offset, 0);
        r->try_end = ref_at(rw, ld, (uint64_t)c->try_offset + c->try_length, 1);
        r->handler_start = ref_at(rw, ld, c->handler_offset, 0);
        r->handler_end = ref_at(rw, ld, (uint64_t)c->handler_offset + c->handler_length, 1);
        r->filter_start = c->kind == ILHEAP_IL_FILTER ? ref_at(rw, ld, c->filter_or_class, 0) : RW_END;
        r->class_token = c->kind == ILHEAP_IL_FILTER ? 0 : c->filter_or_class;
        if (r->try_start == RW_NONE || r->try_end == RW_NONE || r->handler_start == RW_NONE ||
            r->handler_end == RW_NONE || r->filter_start == RW_NONE)
            return ilheap__fail(ILHEAP_IL_BAD_TARGET,
                                "clause %u (%s): a boundary is not an instruction start "
                                "(try %u+%u, handler %u+%u, filter/class %u)",
                                i, ilheap_il_clause_kind_name(c->kind), c->try_offset, c->try_length,
                                c->handler_offset, c->handler_length, c->filter_or_class);
    }
    rw->ncl = body->clause_count;
    return ILHEAP_OK;
}

/* The three steps; rw->scratch holds the map and the fix list. */
static ilheap_status_t load_body(ilheap_rw_t *rw, const ilheap_il_body_t *body, load_t *ld)
{
    uint32_t n = body->code_size;
    /* scratch: offset -> id for [0, n], then the ids pass 2 must visit */
    ilheap_status_t st = ilheap__rw_ensure_scratch(rw, 2 * (uint64_t)n + 1);
    if (st == ILHEAP_OK)
        st = ilheap__rw_ensure_ids(rw, n);
    if (st != ILHEAP_OK)
        return st;
    ld->code = body->code;
    ld->n = n;
    ld->map = rw->scratch;
    ld->fix = rw->scratch + n + 1;
    ld->nfix = 0;
    memset(ld->map, 0xFF, ((size_t)n + 1) * sizeof *ld->map);
    st = read_insns(rw, ld);
    if (st == ILHEAP_OK)
        st = resolve_loaded(rw, ld);
    if (st == ILHEAP_OK)
        st = load_clauses(rw, ld, body);
    return st;
}

ilheap_status_t ilheap_rw_load(ilheap_rw_t *rw, const ilheap_il_body_t *body, size_t *error_offset)
{
    if (error_offset != NULL)
        *error_offset = 0;
    if (rw == NULL || body == NULL)
        return ilheap__fail(ILHEAP_EINVAL, "NULL %s", rw == NULL ? "rewriter" : "body");
    ilheap__rw_reset(rw);
    if ((body->code == NULL && body->code_size) || (body->clauses == NULL && body->clause_count))
        return ilheap__fail(ILHEAP_EINVAL, "NULL code or clauses with a non-zero size");
    load_t ld;
    memset(&ld, 0, sizeof ld);
    ilheap_status_t st = load_body(rw, body, &ld);
    if (st != ILHEAP_OK) {
        ilheap__rw_reset(rw);
        if (error_offset != NULL)
            *error_offset = ld.at;
        return st;
    }
    rw->body = *body;
    rw->body.code = NULL;
    rw->body.clauses = NULL;
    rw->local_sig = body->local_sig;
    rw->init_locals = body->init_locals;
    rw->loaded = 1;
    return ILHEAP_OK;
}
