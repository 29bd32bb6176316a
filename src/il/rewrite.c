/* The instruction-level IL rewriter (include/ilheap/rewrite.h).
 *
 * A body is held in flat arrays indexed by instruction id (opcode, original
 * offset, operand, links of a doubly linked list, a redirect id, the new
 * offset), so inserting is O(1) and nothing is malloc'd per instruction.
 * References (branch and switch targets, EH boundaries) are ids; an
 * insertion at a block start sets the redirect of the instruction that was
 * the block's first, so every reference follows the redirect chain when it
 * is read (and is compressed in place: a redirect is set at most once per
 * id, so the compression never changes where a reference leads). Header
 * and EH sections are written by the codec (ilheap_il_rewrite, preserve
 * mode); this file only lays out and writes the code. See docs/il-rewriter.md.
 */
#include <stdlib.h>
#include <string.h>

#include "il/rewrite_internal.h"
#include "pe/cursor.h" /* compressed integers (II.23.2) */
#include "ilheap/rewrite.h"
#include "status_internal.h"

#define NONE 0xFFFFFFFEu /* no redirect; an offset that is not an instruction start */
#define END ILHEAP_RW_END

enum {
    F_LIVE = 1u << 0,   /* in the sequence */
    F_NEW = 1u << 1,    /* inserted (not from the original body) */
    F_EDITED = 1u << 2, /* replaced */
    F_MARK = 1u << 3,   /* scratch: block start */
};

struct ilheap_rw {
    uint32_t cap, n; /* ids allocated / used */
    uint16_t *op;
    uint8_t *kind;   /* il_fast(op): operand kind, prefix and size bits, for the hot loops */
    uint8_t *flags;
    uint32_t *off;   /* original offset, or ILHEAP_RW_NEW */
    uint64_t *val;   /* operand: immediate bits, token, target id, or switch first | count << 32 */
    uint32_t *next, *prev, *redir, *noff;
    uint32_t head, tail, live;
    uint32_t *sw; /* switch targets of every switch */
    size_t sw_n, sw_cap;
    ilheap_rw_clause_t *cl;
    uint32_t ncl, cl_cap;
    ilheap_il_body_t body; /* header and section formats, for preserve-mode encoding */
    uint32_t local_sig;
    uint8_t init_locals;
    uint8_t loaded;
    uint8_t edited;  /* something was replaced or removed */
    uint8_t encoded; /* noff is valid */
    uint32_t *scratch; /* load: offset -> id; encode: order of ids and the work list */
    size_t scratch_cap;
    int32_t *depth;
    size_t depth_cap;
    uint8_t *code;
    size_t code_cap;
    uint32_t code_size;
    ilheap_il_clause_t *ocl;
    uint32_t ocl_cap;
    uint16_t max_stack;
    ilheap_rw_stack_fn fn;
    void *ctx;
    ilheap_rw_stack_fn insert_fn; /* inserted calls under the safe bound */
    void *insert_ctx;
};

/* ---- storage ---------------------------------------------------------- */

static int grow(void **p, size_t count, size_t elem)
{
    if (count > SIZE_MAX / elem)
        return 0;
    void *q = realloc(*p, count * elem);
    if (q == NULL)
        return 0;
    *p = q;
    return 1;
}

static ilheap_status_t ensure_ids(ilheap_rw_t *rw, uint64_t need)
{
    if (need <= rw->cap)
        return ILHEAP_OK;
    if (need >= NONE)
        return ilheap__fail(ILHEAP_IL_OVERFLOW, "more than %u instructions", NONE - 1);
    uint64_t c = rw->cap ? (uint64_t)rw->cap * 2 : 64;
    if (c < need)
        c = need;
    if (c >= NONE)
        c = NONE - 1;
    size_t n = (size_t)c;
    if (!grow((void **)&rw->op, n, sizeof *rw->op) || !grow((void **)&rw->flags, n, 1) ||
        !grow((void **)&rw->kind, n, 1) ||
        !grow((void **)&rw->off, n, 4) || !grow((void **)&rw->val, n, 8) ||
        !grow((void **)&rw->next, n, 4) || !grow((void **)&rw->prev, n, 4) ||
        !grow((void **)&rw->redir, n, 4) || !grow((void **)&rw->noff, n, 4))
        return ilheap__fail(ILHEAP_ENOMEM, "%zu instructions", n);
    rw->cap = (uint32_t)n;
    return ILHEAP_OK;
}

static ilheap_status_t ensure_sw(ilheap_rw_t *rw, uint64_t need)
{
    /* Never NULL once asked for, even for a switch with no targets: the
     * table's pointer arithmetic (rw->sw + first) on NULL is undefined. */
    if (need <= rw->sw_cap && rw->sw != NULL)
        return ILHEAP_OK;
    uint64_t c = rw->sw_cap ? (uint64_t)rw->sw_cap * 2 : 256;
    if (c < need)
        c = need;
    if (c > SIZE_MAX / 4 || !grow((void **)&rw->sw, (size_t)c, 4))
        return ilheap__fail(ILHEAP_ENOMEM, "%llu switch targets", (unsigned long long)c);
    rw->sw_cap = (size_t)c;
    return ILHEAP_OK;
}

static ilheap_status_t ensure_scratch(ilheap_rw_t *rw, uint64_t need)
{
    if (need <= rw->scratch_cap)
        return ILHEAP_OK;
    uint64_t c = need < 1024 ? 1024 : need + need / 2;
    if (c > SIZE_MAX / 4 || !grow((void **)&rw->scratch, (size_t)c, 4))
        return ilheap__fail(ILHEAP_ENOMEM, "%llu scratch entries", (unsigned long long)c);
    rw->scratch_cap = (size_t)c;
    return ILHEAP_OK;
}

static void reset(ilheap_rw_t *rw)
{
    rw->n = 0;
    rw->head = rw->tail = END;
    rw->live = 0;
    rw->sw_n = 0;
    rw->ncl = 0;
    rw->loaded = 0;
    rw->edited = 0;
    rw->encoded = 0;
    memset(&rw->body, 0, sizeof rw->body);
    rw->local_sig = 0;
    rw->init_locals = 0;
}

ilheap_status_t ilheap_rw_create(ilheap_rw_t **out)
{
    if (out == NULL)
        return ilheap__fail(ILHEAP_EINVAL, "NULL out");
    *out = NULL;
    ilheap_rw_t *rw = calloc(1, sizeof *rw);
    if (rw == NULL)
        return ilheap__fail(ILHEAP_ENOMEM, "rewriter");
    reset(rw);
    *out = rw;
    return ILHEAP_OK;
}

void ilheap_rw_destroy(ilheap_rw_t *rw)
{
    if (rw == NULL)
        return;
    free(rw->op);
    free(rw->kind);
    free(rw->flags);
    free(rw->off);
    free(rw->val);
    free(rw->next);
    free(rw->prev);
    free(rw->redir);
    free(rw->noff);
    free(rw->sw);
    free(rw->cl);
    free(rw->scratch);
    free(rw->depth);
    free(rw->code);
    free(rw->ocl);
    free(rw);
}

/* ---- small helpers ---------------------------------------------------- */

static inline const ilheap_il_opinfo_t *info_of(const ilheap_rw_t *rw, uint32_t id)
{
    return il_info(rw->op[id]);
}

static inline int is_live(const ilheap_rw_t *rw, uint32_t id)
{
    return id < rw->n && (rw->flags[id] & F_LIVE);
}

static inline int is_prefix(const ilheap_rw_t *rw, uint32_t id)
{
    return id != END && info_of(rw, id)->prefix != 0;
}

static inline int is_call(uint16_t op)
{
    return op == ILHEAP_OP_CALL || op == ILHEAP_OP_CALLVIRT || op == ILHEAP_OP_CALLI;
}

/* Where a reference to id leads now (see the top of the file). */
static uint32_t resolve(const ilheap_rw_t *rw, uint32_t id)
{
    for (uint32_t guard = 0; id < rw->n && rw->redir[id] != NONE && guard <= rw->n; guard++)
        id = rw->redir[id];
    return id;
}

static inline uint32_t rd32(const uint8_t *p)
{
    return il_rd32(p);
}

static inline uint64_t rd64(const uint8_t *p)
{
    return (uint64_t)il_rd32(p) | (uint64_t)il_rd32(p + 4) << 32;
}

static inline uint32_t sw_first(uint64_t v)
{
    return (uint32_t)v;
}

static inline uint32_t sw_count(uint64_t v)
{
    return (uint32_t)(v >> 32);
}

static inline uint32_t insn_size(const ilheap_rw_t *rw, uint32_t id)
{
    uint8_t k = rw->kind[id];
    uint32_t s = 1u + ((k & IL_FAST_TWO_BYTE) != 0) + ilheap__il_operand_bytes[k & IL_FAST_KIND];
    if ((k & IL_FAST_KIND) == ILHEAP_OPND_SWITCH)
        s += 4 * sw_count(rw->val[id]); /* counts are bounded so this fits: see check_insns */
    return s;
}

/* ---- load ------------------------------------------------------------- */

static ilheap_status_t load_fail(ilheap_rw_t *rw, size_t *error_offset, size_t at, ilheap_status_t st)
{
    reset(rw);
    if (error_offset != NULL)
        *error_offset = at;
    return st;
}

/* A reference by offset: the id of the instruction starting there (or END
 * for the code's end when end_ok), else NONE. A target may not be the
 * instruction after a prefix. */
static uint32_t ref_at(const ilheap_rw_t *rw, uint64_t offset, uint32_t code_size, int end_ok)
{
    if (offset == code_size && end_ok)
        return END;
    if (offset >= code_size)
        return NONE;
    uint32_t id = rw->scratch[offset];
    if (id == NONE || is_prefix(rw, rw->prev[id]))
        return NONE;
    return id;
}

ilheap_status_t ilheap_rw_load(ilheap_rw_t *rw, const ilheap_il_body_t *body, size_t *error_offset)
{
    if (error_offset != NULL)
        *error_offset = 0;
    if (rw == NULL || body == NULL)
        return ilheap__fail(ILHEAP_EINVAL, "NULL %s", rw == NULL ? "rewriter" : "body");
    reset(rw);
    const uint8_t *code = body->code;
    uint32_t n = body->code_size;
    if ((code == NULL && n) || (body->clauses == NULL && body->clause_count))
        return ilheap__fail(ILHEAP_EINVAL, "NULL code or clauses with a non-zero size");
    /* scratch: offset -> id for [0, n], then the ids pass 2 must visit */
    ilheap_status_t st = ensure_scratch(rw, 2 * (uint64_t)n + 1);
    if (st == ILHEAP_OK)
        st = ensure_ids(rw, n);
    if (st != ILHEAP_OK)
        return load_fail(rw, error_offset, 0, st);
    uint32_t *map = rw->scratch, *fix = map + n + 1, nfix = 0;
    for (uint32_t i = 0; i <= n; i++)
        map[i] = NONE;

    /* Pass 1: instructions, operands, targets as offsets. */
    uint32_t pos = 0;
    while (pos < n) {
        uint32_t start = pos;
        uint16_t opc = code[pos++];
        if (opc == 0xFE) {
            if (pos >= n)
                return load_fail(rw, error_offset, start,
                                 ilheap__fail(ILHEAP_IL_TRUNCATED_OPERAND,
                                              "IL offset %u: 0xFE at the end of the code", start));
            opc = (uint16_t)(0xFE00u | code[pos++]);
        }
        uint8_t fk = il_fast(opc);
        if (fk == IL_FAST_NONE)
            return load_fail(rw, error_offset, start,
                             ilheap__fail(ILHEAP_IL_UNKNOWN_OPCODE, "IL offset %u: opcode 0x%X",
                                          start, (unsigned)opc));
        ilheap_il_operand_t kind = (ilheap_il_operand_t)(fk & IL_FAST_KIND);
        uint32_t osz = ilheap__il_operand_bytes[kind];
        if (n - pos < osz)
            return load_fail(rw, error_offset, start,
                             ilheap__fail(ILHEAP_IL_TRUNCATED_OPERAND,
                                          "IL offset %u: %s needs %u operand bytes, %u left", start,
                                          il_info(opc)->name, osz, n - pos));
        uint32_t id = rw->n++;
        const uint8_t *p = code + pos;
        uint64_t v = 0;
        int64_t target;
        switch (kind) {
        case ILHEAP_OPND_NONE:
            break;
        case ILHEAP_OPND_INT8:
            v = (uint64_t)(int64_t)(int8_t)p[0];
            break;
        case ILHEAP_OPND_VAR8:
        case ILHEAP_OPND_UINT8:
            v = p[0];
            break;
        case ILHEAP_OPND_VAR16:
            v = il_rd16(p);
            break;
        case ILHEAP_OPND_INT32:
            v = (uint64_t)(int64_t)(int32_t)rd32(p);
            break;
        case ILHEAP_OPND_FLOAT32:
        case ILHEAP_OPND_TOKEN:
            v = rd32(p);
            break;
        case ILHEAP_OPND_INT64:
        case ILHEAP_OPND_FLOAT64:
            v = rd64(p);
            break;
        case ILHEAP_OPND_BRANCH8:
        case ILHEAP_OPND_BRANCH32:
            target = (int64_t)pos + osz +
                     (kind == ILHEAP_OPND_BRANCH8 ? (int8_t)p[0] : (int32_t)rd32(p));
            if (target < 0 || target >= n)
                return load_fail(rw, error_offset, start,
                                 ilheap__fail(ILHEAP_IL_BAD_TARGET,
                                              "IL offset %u: %s to %lld, outside %u bytes of code",
                                              start, il_info(opc)->name, (long long)target, n));
            v = (uint64_t)target;
            break;
        case ILHEAP_OPND_SWITCH: {
            uint32_t cnt = rd32(p);
            if ((n - pos - 4) / 4 < cnt)
                return load_fail(rw, error_offset, start,
                                 ilheap__fail(ILHEAP_IL_TRUNCATED_OPERAND,
                                              "IL offset %u: switch of %u targets runs past the code",
                                              start, cnt));
            st = ensure_sw(rw, (uint64_t)rw->sw_n + cnt);
            if (st != ILHEAP_OK)
                return load_fail(rw, error_offset, start, st);
            int64_t base = (int64_t)pos + 4 + 4 * (int64_t)cnt;
            for (uint32_t k = 0; k < cnt; k++) {
                target = base + (int32_t)rd32(p + 4 + 4 * (size_t)k);
                if (target < 0 || target >= n)
                    return load_fail(rw, error_offset, start,
                                     ilheap__fail(ILHEAP_IL_BAD_TARGET,
                                                  "IL offset %u: switch target %u to %lld, outside %u "
                                                  "bytes of code", start, k, (long long)target, n));
                rw->sw[rw->sw_n + k] = (uint32_t)target;
            }
            v = rw->sw_n | (uint64_t)cnt << 32;
            rw->sw_n += cnt;
            osz += 4 * cnt;
            break;
        }
        }
        pos += osz;
        if (kind == ILHEAP_OPND_BRANCH8 || kind == ILHEAP_OPND_BRANCH32 ||
            kind == ILHEAP_OPND_SWITCH || (fk & IL_FAST_PREFIX))
            fix[nfix++] = id;
        map[start] = id;
        rw->op[id] = opc;
        rw->kind[id] = fk;
        rw->flags[id] = F_LIVE;
        rw->off[id] = start;
        rw->val[id] = v;
        rw->redir[id] = NONE;
        rw->prev[id] = id ? id - 1 : END;
        rw->next[id] = END;
        if (id)
            rw->next[id - 1] = id;
    }
    rw->live = rw->n;
    rw->head = rw->n ? 0 : END;
    rw->tail = rw->n ? rw->n - 1 : END;

    /* Pass 2: offsets become ids; prefixes are checked. */
    for (uint32_t f = 0; f < nfix; f++) {
        uint32_t id = fix[f];
        const ilheap_il_opinfo_t *in = info_of(rw, id);
        if (in->operand == ILHEAP_OPND_BRANCH8 || in->operand == ILHEAP_OPND_BRANCH32) {
            uint32_t t = ref_at(rw, rw->val[id], n, 0);
            if (t == NONE)
                return load_fail(rw, error_offset, rw->off[id],
                                 ilheap__fail(ILHEAP_IL_BAD_TARGET,
                                              "IL offset %u: %s to %u, not an instruction start",
                                              rw->off[id], in->name, (unsigned)rw->val[id]));
            rw->val[id] = t;
        } else if (in->operand == ILHEAP_OPND_SWITCH) {
            uint32_t *tg = rw->sw + sw_first(rw->val[id]);
            for (uint32_t k = 0; k < sw_count(rw->val[id]); k++) {
                uint32_t t = ref_at(rw, tg[k], n, 0);
                if (t == NONE)
                    return load_fail(rw, error_offset, rw->off[id],
                                     ilheap__fail(ILHEAP_IL_BAD_TARGET,
                                                  "IL offset %u: switch target %u to %u, not an "
                                                  "instruction start", rw->off[id], k, tg[k]));
                tg[k] = t;
            }
        } else if (in->prefix) {
            uint32_t j = rw->next[id];
            while (j != END && is_prefix(rw, j))
                j = rw->next[j];
            if (j == END || !(info_of(rw, j)->prefixable & in->prefix))
                return load_fail(rw, error_offset, rw->off[id],
                                 ilheap__fail(ILHEAP_IL_BAD_PREFIX, "IL offset %u: %s before %s",
                                              rw->off[id], in->name,
                                              j == END ? "the end of the code" : info_of(rw, j)->name));
        }
    }

    /* EH clauses: boundaries become ids (ends may be the end of the code). */
    if (body->clause_count > rw->cl_cap) {
        if (!grow((void **)&rw->cl, body->clause_count, sizeof *rw->cl))
            return load_fail(rw, error_offset, 0, ilheap__fail(ILHEAP_ENOMEM, "%u clauses",
                                                              body->clause_count));
        rw->cl_cap = body->clause_count;
    }
    for (uint32_t i = 0; i < body->clause_count; i++) {
        const ilheap_il_clause_t *c = &body->clauses[i];
        ilheap_rw_clause_t *r = &rw->cl[i];
        if (!il_kind_known(c->kind))
            return load_fail(rw, error_offset, c->try_offset,
                             ilheap__fail(ILHEAP_IL_CLAUSE_KIND, "clause %u: kind %u", i, c->kind));
        r->kind = c->kind;
        r->try_start = ref_at(rw, c->try_offset, n, 0);
        r->try_end = ref_at(rw, (uint64_t)c->try_offset + c->try_length, n, 1);
        r->handler_start = ref_at(rw, c->handler_offset, n, 0);
        r->handler_end = ref_at(rw, (uint64_t)c->handler_offset + c->handler_length, n, 1);
        r->filter_start = c->kind == ILHEAP_IL_FILTER ? ref_at(rw, c->filter_or_class, n, 0) : END;
        r->class_token = c->kind == ILHEAP_IL_FILTER ? 0 : c->filter_or_class;
        if (r->try_start == NONE || r->try_end == NONE || r->handler_start == NONE ||
            r->handler_end == NONE || r->filter_start == NONE)
            return load_fail(rw, error_offset, c->try_offset,
                             ilheap__fail(ILHEAP_IL_BAD_TARGET,
                                          "clause %u (%s): a boundary is not an instruction start "
                                          "(try %u+%u, handler %u+%u, filter/class %u)",
                                          i, ilheap_il_clause_kind_name(c->kind), c->try_offset,
                                          c->try_length, c->handler_offset, c->handler_length,
                                          c->filter_or_class));
    }
    rw->ncl = body->clause_count;
    rw->body = *body;
    rw->body.code = NULL;
    rw->body.clauses = NULL;
    rw->local_sig = body->local_sig;
    rw->init_locals = body->init_locals;
    rw->loaded = 1;
    return ILHEAP_OK;
}

/* ---- walking and reading ---------------------------------------------- */

ilheap_rw_id_t ilheap_rw_first(const ilheap_rw_t *rw)
{
    return rw ? rw->head : END;
}

ilheap_rw_id_t ilheap_rw_last(const ilheap_rw_t *rw)
{
    return rw ? rw->tail : END;
}

ilheap_rw_id_t ilheap_rw_next(const ilheap_rw_t *rw, ilheap_rw_id_t id)
{
    return rw && is_live(rw, id) ? rw->next[id] : END;
}

ilheap_rw_id_t ilheap_rw_prev(const ilheap_rw_t *rw, ilheap_rw_id_t id)
{
    return rw && is_live(rw, id) ? rw->prev[id] : END;
}

size_t ilheap_rw_count(const ilheap_rw_t *rw)
{
    return rw ? rw->live : 0;
}

uint16_t ilheap_rw_opcode(const ilheap_rw_t *rw, ilheap_rw_id_t id)
{
    return rw && is_live(rw, id) ? rw->op[id] : 0xFFFFu;
}

ilheap_rw_id_t ilheap_rw_resolve(const ilheap_rw_t *rw, ilheap_rw_id_t id)
{
    return rw ? resolve(rw, id) : END;
}

ilheap_status_t ilheap_rw_get(ilheap_rw_t *rw, ilheap_rw_id_t id, ilheap_rw_insn_t *out)
{
    if (rw == NULL || out == NULL)
        return ilheap__fail(ILHEAP_EINVAL, "NULL %s", rw == NULL ? "rewriter" : "out");
    if (!is_live(rw, id))
        return ilheap__fail(ILHEAP_IL_BAD_REF, "id %u", id);
    memset(out, 0, sizeof *out);
    out->opcode = rw->op[id];
    out->offset = rw->off[id];
    uint64_t v = rw->val[id];
    uint32_t u32;
    switch ((ilheap_il_operand_t)info_of(rw, id)->operand) {
    case ILHEAP_OPND_FLOAT32:
        u32 = (uint32_t)v;
        memcpy(&out->op.r4, &u32, 4);
        break;
    case ILHEAP_OPND_FLOAT64:
        memcpy(&out->op.r8, &v, 8);
        break;
    case ILHEAP_OPND_TOKEN:
        out->op.token = (uint32_t)v;
        break;
    case ILHEAP_OPND_BRANCH8:
    case ILHEAP_OPND_BRANCH32:
        rw->val[id] = out->op.target = resolve(rw, (uint32_t)v);
        break;
    case ILHEAP_OPND_SWITCH: {
        uint32_t *tg = rw->sw + sw_first(v);
        for (uint32_t k = 0; k < sw_count(v); k++)
            tg[k] = resolve(rw, tg[k]);
        out->op.sw.targets = tg;
        out->op.sw.count = sw_count(v);
        break;
    }
    default:
        out->op.i = (int64_t)v;
        break;
    }
    return ILHEAP_OK;
}

size_t ilheap_rw_clause_count(const ilheap_rw_t *rw)
{
    return rw ? rw->ncl : 0;
}

ilheap_status_t ilheap_rw_clause(const ilheap_rw_t *rw, size_t index, ilheap_rw_clause_t *out)
{
    if (rw == NULL || out == NULL)
        return ilheap__fail(ILHEAP_EINVAL, "NULL %s", rw == NULL ? "rewriter" : "out");
    if (index >= rw->ncl)
        return ilheap__fail(ILHEAP_EINVAL, "clause %zu of %u", index, rw->ncl);
    *out = rw->cl[index];
    out->try_start = resolve(rw, out->try_start);
    out->try_end = resolve(rw, out->try_end);
    out->handler_start = resolve(rw, out->handler_start);
    out->handler_end = resolve(rw, out->handler_end);
    out->filter_start = resolve(rw, out->filter_start);
    return ILHEAP_OK;
}

/* ---- editing ---------------------------------------------------------- */

/* Checks new instructions; *sw_total receives their switch targets. */
static ilheap_status_t check_insns(const ilheap_rw_t *rw, const ilheap_rw_insn_t *insns, size_t n,
                                   uint64_t *sw_total)
{
    uint64_t total = 0;
    for (size_t k = 0; k < n; k++) {
        const ilheap_rw_insn_t *x = &insns[k];
        const ilheap_il_opinfo_t *in = il_info(x->opcode);
        if (in == NULL)
            return ilheap__fail(ILHEAP_IL_UNKNOWN_OPCODE, "new instruction %zu: opcode 0x%X", k,
                                (unsigned)x->opcode);
        int64_t i = x->op.i;
        int bad_range = 0;
        switch ((ilheap_il_operand_t)in->operand) {
        case ILHEAP_OPND_INT8:
            bad_range = i < -128 || i > 127;
            break;
        case ILHEAP_OPND_VAR8:
        case ILHEAP_OPND_UINT8:
            bad_range = i < 0 || i > 255;
            break;
        case ILHEAP_OPND_VAR16:
            bad_range = i < 0 || i > 65535;
            break;
        case ILHEAP_OPND_INT32:
            bad_range = i < INT32_MIN || i > INT32_MAX;
            break;
        case ILHEAP_OPND_BRANCH8:
        case ILHEAP_OPND_BRANCH32:
            if (!is_live(rw, x->op.target))
                return ilheap__fail(ILHEAP_IL_BAD_REF, "new instruction %zu (%s): target id %u",
                                    k, in->name, x->op.target);
            break;
        case ILHEAP_OPND_SWITCH:
            if (x->op.sw.count && x->op.sw.targets == NULL)
                return ilheap__fail(ILHEAP_EINVAL, "new switch %zu: NULL targets", k);
            if (x->op.sw.count > (UINT32_MAX - 8) / 4)
                return ilheap__fail(ILHEAP_IL_OVERFLOW, "new switch %zu: %u targets", k,
                                    x->op.sw.count);
            for (uint32_t t = 0; t < x->op.sw.count; t++)
                if (!is_live(rw, x->op.sw.targets[t]))
                    return ilheap__fail(ILHEAP_IL_BAD_REF, "new switch %zu: target %u is id %u", k,
                                        t, x->op.sw.targets[t]);
            total += x->op.sw.count;
            break;
        default:
            break;
        }
        if (bad_range)
            return ilheap__fail(ILHEAP_IL_OVERFLOW, "new instruction %zu (%s): operand %lld", k,
                                in->name, (long long)i);
    }
    if (n && il_info(insns[n - 1].opcode)->prefix)
        return ilheap__fail(ILHEAP_IL_BAD_PREFIX, "the new code ends with %s",
                            il_info(insns[n - 1].opcode)->name);
    *sw_total = total;
    return ILHEAP_OK;
}

/* Has the call `id` a tail. among the prefixes in front of it? */
static int tail_prefixed(const ilheap_rw_t *rw, uint32_t id)
{
    for (uint32_t p = rw->prev[id]; is_prefix(rw, p); p = rw->prev[p])
        if (rw->op[p] == ILHEAP_OP_TAIL)
            return 1;
    return 0;
}

/* Code may go right after instruction a (END: at the very start)? */
static ilheap_status_t check_gap(const ilheap_rw_t *rw, uint32_t a)
{
    if (a == END)
        return ILHEAP_OK;
    if (is_prefix(rw, a))
        return ilheap__fail(ILHEAP_IL_SPLIT_PREFIX, "after %s (IL offset %d)", info_of(rw, a)->name,
                            rw->off[a] == ILHEAP_RW_NEW ? -1 : (int)rw->off[a]);
    if (is_call(rw->op[a]) && tail_prefixed(rw, a))
        return ilheap__fail(ILHEAP_IL_SPLIT_TAIL_CALL, "after tail. %s (IL offset %d)",
                            info_of(rw, a)->name,
                            rw->off[a] == ILHEAP_RW_NEW ? -1 : (int)rw->off[a]);
    return ILHEAP_OK;
}

static uint64_t operand_value(ilheap_rw_t *rw, const ilheap_rw_insn_t *x)
{
    const ilheap_il_opinfo_t *in = il_info(x->opcode);
    uint32_t u32;
    uint64_t v;
    switch ((ilheap_il_operand_t)in->operand) {
    case ILHEAP_OPND_NONE:
        return 0;
    case ILHEAP_OPND_FLOAT32:
        memcpy(&u32, &x->op.r4, 4);
        return u32;
    case ILHEAP_OPND_FLOAT64:
        memcpy(&v, &x->op.r8, 8);
        return v;
    case ILHEAP_OPND_TOKEN:
        return x->op.token;
    case ILHEAP_OPND_BRANCH8:
    case ILHEAP_OPND_BRANCH32:
        return x->op.target;
    case ILHEAP_OPND_SWITCH: /* room was ensured by the caller */
        if (x->op.sw.count)
            memcpy(rw->sw + rw->sw_n, x->op.sw.targets, 4 * (size_t)x->op.sw.count);
        v = rw->sw_n | (uint64_t)x->op.sw.count << 32;
        rw->sw_n += x->op.sw.count;
        return v;
    default:
        return (uint64_t)x->op.i;
    }
}

/* Adds insns as new ids linked between a and b (either may be END). */
static uint32_t link_new(ilheap_rw_t *rw, uint32_t a, uint32_t b, const ilheap_rw_insn_t *insns,
                         size_t n)
{
    uint32_t first = rw->n;
    for (size_t k = 0; k < n; k++) {
        uint32_t id = rw->n++;
        rw->op[id] = insns[k].opcode;
        rw->kind[id] = il_fast(insns[k].opcode);
        rw->flags[id] = F_LIVE | F_NEW;
        rw->off[id] = ILHEAP_RW_NEW;
        rw->val[id] = operand_value(rw, &insns[k]);
        rw->redir[id] = NONE;
        rw->prev[id] = k ? id - 1 : a;
        rw->next[id] = k + 1 < n ? id + 1 : b;
    }
    uint32_t last = rw->n - 1;
    if (a == END)
        rw->head = first;
    else
        rw->next[a] = first;
    if (b == END)
        rw->tail = last;
    else
        rw->prev[b] = last;
    rw->live += (uint32_t)n;
    rw->encoded = 0;
    return first;
}

ilheap_status_t ilheap_rw_insert(ilheap_rw_t *rw, ilheap_rw_id_t at, ilheap_rw_where_t where,
                                 const ilheap_rw_insn_t *insns, size_t n, ilheap_rw_id_t *first)
{
    if (first != NULL)
        *first = END;
    if (rw == NULL || (insns == NULL && n))
        return ilheap__fail(ILHEAP_EINVAL, "NULL %s", rw == NULL ? "rewriter" : "instructions");
    if (!rw->loaded)
        return ilheap__fail(ILHEAP_EINVAL, "no body loaded");
    uint32_t a, b, r = END;
    switch (where) {
    case ILHEAP_RW_BLOCK_START:
        if (!is_live(rw, at))
            return ilheap__fail(ILHEAP_IL_BAD_REF, "insert at id %u", at);
        r = resolve(rw, at);
        b = r;
        a = rw->prev[r];
        break;
    case ILHEAP_RW_BEFORE:
        if (at != END && !is_live(rw, at))
            return ilheap__fail(ILHEAP_IL_BAD_REF, "insert before id %u", at);
        b = at;
        a = at == END ? rw->tail : rw->prev[at];
        break;
    case ILHEAP_RW_AFTER:
        if (!is_live(rw, at))
            return ilheap__fail(ILHEAP_IL_BAD_REF, "insert after id %u", at);
        a = at;
        b = rw->next[at];
        break;
    default:
        return ilheap__fail(ILHEAP_EINVAL, "where %d", (int)where);
    }
    if (n == 0)
        return ILHEAP_OK;
    ilheap_status_t st = check_gap(rw, a);
    uint64_t sw_total = 0;
    if (st == ILHEAP_OK)
        st = check_insns(rw, insns, n, &sw_total);
    if (st == ILHEAP_OK)
        st = ensure_ids(rw, (uint64_t)rw->n + n);
    if (st == ILHEAP_OK)
        st = ensure_sw(rw, rw->sw_n + sw_total);
    if (st != ILHEAP_OK)
        return st;
    uint32_t f = link_new(rw, a, b, insns, n);
    if (where == ILHEAP_RW_BLOCK_START) {
        rw->redir[r] = f;
        rw->redir[at] = f; /* at's chain, compressed: many probes at one block stay O(1) each */
    }
    if (first != NULL)
        *first = f;
    return ILHEAP_OK;
}

ilheap_status_t ilheap_rw_replace(ilheap_rw_t *rw, ilheap_rw_id_t id, const ilheap_rw_insn_t *insns,
                                  size_t n, ilheap_rw_id_t *first_new)
{
    if (first_new != NULL)
        *first_new = END;
    if (rw == NULL || insns == NULL || n == 0)
        return ilheap__fail(ILHEAP_EINVAL, "NULL rewriter or no instructions");
    if (!is_live(rw, id))
        return ilheap__fail(ILHEAP_IL_BAD_REF, "replace id %u", id);
    uint64_t sw_total = 0;
    ilheap_status_t st = check_insns(rw, insns, n, &sw_total);
    if (st != ILHEAP_OK)
        return st;
    /* The rest goes after the new first instruction: not after a prefix or a tail call. */
    if (n > 1 && il_info(insns[0].opcode)->prefix)
        return ilheap__fail(ILHEAP_IL_SPLIT_PREFIX, "replacement starts with a prefix");
    if (n > 1 && is_call(insns[0].opcode) && tail_prefixed(rw, id))
        return ilheap__fail(ILHEAP_IL_SPLIT_TAIL_CALL, "replacing a tail. call by several instructions");
    st = ensure_ids(rw, (uint64_t)rw->n + n - 1);
    if (st == ILHEAP_OK)
        st = ensure_sw(rw, rw->sw_n + sw_total);
    if (st != ILHEAP_OK)
        return st;
    rw->op[id] = insns[0].opcode;
    rw->kind[id] = il_fast(insns[0].opcode);
    rw->val[id] = operand_value(rw, &insns[0]);
    rw->flags[id] |= F_EDITED;
    rw->edited = 1;
    rw->encoded = 0;
    if (n > 1) {
        uint32_t f = link_new(rw, id, rw->next[id], insns + 1, n - 1);
        if (first_new != NULL)
            *first_new = f;
    }
    return ILHEAP_OK;
}

ilheap_status_t ilheap_rw_remove(ilheap_rw_t *rw, ilheap_rw_id_t id)
{
    if (rw == NULL)
        return ilheap__fail(ILHEAP_EINVAL, "NULL rewriter");
    if (!is_live(rw, id))
        return ilheap__fail(ILHEAP_IL_BAD_REF, "remove id %u", id);
    if (is_prefix(rw, rw->prev[id]))
        return ilheap__fail(ILHEAP_IL_SPLIT_PREFIX, "removing the instruction after %s",
                            info_of(rw, rw->prev[id])->name);
    uint32_t a = rw->prev[id], b = rw->next[id];
    if (rw->redir[id] == NONE) {
        /* If id was the block start of the instructions after it (b's
         * references led to id), b is that block start now: references to
         * id lead to b, and b's own chain ends at b (no cycle). */
        if (b != END && resolve(rw, b) == id)
            rw->redir[b] = NONE;
        rw->redir[id] = b;
    }
    if (a == END)
        rw->head = b;
    else
        rw->next[a] = b;
    if (b == END)
        rw->tail = a;
    else
        rw->prev[b] = a;
    rw->flags[id] &= (uint8_t)~F_LIVE;
    rw->live--;
    rw->edited = 1;
    rw->encoded = 0;
    return ILHEAP_OK;
}

void ilheap_rw_set_stack_fn(ilheap_rw_t *rw, ilheap_rw_stack_fn fn, void *ctx)
{
    if (rw == NULL)
        return;
    rw->fn = fn;
    rw->ctx = ctx;
}

void ilheap_rw_set_inserted_stack_fn(ilheap_rw_t *rw, ilheap_rw_stack_fn fn, void *ctx)
{
    if (rw == NULL)
        return;
    rw->insert_fn = fn;
    rw->insert_ctx = ctx;
}

void ilheap_rw_set_locals(ilheap_rw_t *rw, uint32_t local_sig, int init_locals)
{
    if (rw == NULL)
        return;
    rw->local_sig = local_sig;
    rw->init_locals = init_locals != 0;
}

/* ---- max stack -------------------------------------------------------- */

static int32_t offset_for_msg(const ilheap_rw_t *rw, uint32_t id)
{
    return rw->off[id] == ILHEAP_RW_NEW ? -1 : (int32_t)rw->off[id];
}

/* The safe bound: old max + the largest peak of an inserted run. */
static ilheap_status_t safe_bound(ilheap_rw_t *rw, uint64_t *max)
{
    if (rw->edited)
        return ilheap__fail(ILHEAP_IL_STACK_UNKNOWN,
                            "an instruction was replaced or removed: the safe bound does not hold; "
                            "set a stack callback (ilheap_rw_set_stack_fn)");
    uint64_t peak = 0;
    int64_t d = 0;
    int in_run = 0;
    for (uint32_t id = rw->head; id != END; id = rw->next[id]) {
        if (!(rw->flags[id] & F_NEW)) {
            if (in_run && d != 0)
                return ilheap__fail(ILHEAP_IL_STACK_NOT_NEUTRAL,
                                    "inserted code before IL offset %d leaves %lld items",
                                    offset_for_msg(rw, id), (long long)d);
            in_run = 0;
            d = 0;
            continue;
        }
        in_run = 1;
        const ilheap_il_opinfo_t *in = info_of(rw, id);
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
    return ILHEAP_OK;
}

/* Exact depth simulation along every path (needs the callback for calls). */
static ilheap_status_t simulate(ilheap_rw_t *rw, uint64_t *max)
{
    uint32_t cnt = rw->live;
    uint64_t need = (uint64_t)cnt + (uint64_t)rw->n + (uint64_t)cnt + 3u * rw->ncl + 1;
    ilheap_status_t st = ensure_scratch(rw, need);
    if (st != ILHEAP_OK)
        return st;
    if (cnt > rw->depth_cap) {
        if (!grow((void **)&rw->depth, cnt, sizeof *rw->depth))
            return ilheap__fail(ILHEAP_ENOMEM, "%u depths", cnt);
        rw->depth_cap = cnt;
    }
    uint32_t *ord = rw->scratch, *pos = ord + cnt, *work = pos + rw->n;
    size_t nwork = 0;
    uint32_t k = 0;
    for (uint32_t id = rw->head; id != END; id = rw->next[id], k++) {
        ord[k] = id;
        pos[id] = k;
        rw->depth[k] = -1;
    }
    uint64_t best = 0;
#define SET_DEPTH(id_, d_)                                                                         \
    do {                                                                                           \
        uint32_t p_ = pos[id_];                                                                    \
        if (rw->depth[p_] < 0) {                                                                   \
            rw->depth[p_] = (int32_t)(d_);                                                         \
            work[nwork++] = p_;                                                                    \
        } else if (rw->depth[p_] != (int32_t)(d_)) {                                               \
            return ilheap__fail(ILHEAP_IL_STACK_MISMATCH,                                          \
                                "IL offset %d reached with depths %d and %d",                      \
                                offset_for_msg(rw, id_), rw->depth[p_], (int)(d_));                \
        }                                                                                          \
    } while (0)
    if (cnt)
        SET_DEPTH(rw->head, 0);
    for (uint32_t i = 0; i < rw->ncl; i++) {
        const ilheap_rw_clause_t *c = &rw->cl[i];
        uint32_t t = resolve(rw, c->try_start), h = resolve(rw, c->handler_start);
        uint32_t f = resolve(rw, c->filter_start);
        if (t != END)
            SET_DEPTH(t, 0);
        if (h != END)
            SET_DEPTH(h, c->kind == ILHEAP_IL_CATCH || c->kind == ILHEAP_IL_FILTER ? 1 : 0);
        if (c->kind == ILHEAP_IL_FILTER && f != END)
            SET_DEPTH(f, 1);
    }
    while (nwork) {
        uint32_t p = work[--nwork];
        int64_t d = rw->depth[p];
        for (;;) {
            uint32_t id = ord[p];
            const ilheap_il_opinfo_t *in = info_of(rw, id);
            uint32_t pops = in->pops, pushes = in->pushes;
            if (in->flow == ILHEAP_FLOW_RETURN) {
                pops = 0; /* the depth only falls; the path ends here */
                pushes = 0;
            } else if (pops == ILHEAP_STACK_VARIES || pushes == ILHEAP_STACK_VARIES) {
                uint32_t po = 0, pu = 0;
                st = rw->fn(rw->ctx, rw->op[id], (uint32_t)rw->val[id], &po, &pu);
                if (st != ILHEAP_OK)
                    return st;
                pops = po;
                pushes = rw->op[id] == ILHEAP_OP_NEWOBJ ? 1 : pu;
            }
            if (d < (int64_t)pops)
                return ilheap__fail(ILHEAP_IL_STACK_MISMATCH,
                                    "IL offset %d: %s pops %u items at depth %lld",
                                    offset_for_msg(rw, id), in->name, pops, (long long)d);
            d += (int64_t)pushes - (int64_t)pops;
            if ((uint64_t)d > best)
                best = (uint64_t)d;
            if (d > 0xFFFFF) /* far past 65535: stop before int32 depths could overflow */
                break;
            int fall = in->flow == ILHEAP_FLOW_NEXT || in->flow == ILHEAP_FLOW_CALL ||
                       in->flow == ILHEAP_FLOW_PREFIX || in->flow == ILHEAP_FLOW_BREAK ||
                       in->flow == ILHEAP_FLOW_COND;
            if (in->operand == ILHEAP_OPND_BRANCH8 || in->operand == ILHEAP_OPND_BRANCH32) {
                uint32_t t = resolve(rw, (uint32_t)rw->val[id]);
                rw->val[id] = t;
                if (t == END || !is_live(rw, t))
                    return ilheap__fail(ILHEAP_IL_BAD_TARGET, "IL offset %d: %s leads past the code",
                                        offset_for_msg(rw, id), in->name);
                int leave = rw->op[id] == ILHEAP_OP_LEAVE || rw->op[id] == ILHEAP_OP_LEAVE_S;
                SET_DEPTH(t, leave ? 0 : d);
            } else if (in->operand == ILHEAP_OPND_SWITCH) {
                uint32_t *tg = rw->sw + sw_first(rw->val[id]);
                for (uint32_t j = 0; j < sw_count(rw->val[id]); j++) {
                    uint32_t t = tg[j] = resolve(rw, tg[j]);
                    if (t == END || !is_live(rw, t))
                        return ilheap__fail(ILHEAP_IL_BAD_TARGET, "IL offset %d: switch leads past "
                                            "the code", offset_for_msg(rw, id));
                    SET_DEPTH(t, d);
                }
            }
            if (!fall || p + 1 >= cnt)
                break;
            p++;
            if (rw->depth[p] >= 0) {
                if (rw->depth[p] != d)
                    return ilheap__fail(ILHEAP_IL_STACK_MISMATCH,
                                        "IL offset %d reached with depths %d and %lld",
                                        offset_for_msg(rw, ord[p]), rw->depth[p], (long long)d);
                break;
            }
            rw->depth[p] = (int32_t)d;
        }
    }
#undef SET_DEPTH
    *max = best;
    return ILHEAP_OK;
}

ilheap_status_t ilheap_rw_max_stack(ilheap_rw_t *rw, uint32_t *max_stack)
{
    if (rw == NULL || max_stack == NULL)
        return ilheap__fail(ILHEAP_EINVAL, "NULL %s", rw == NULL ? "rewriter" : "max_stack");
    if (!rw->loaded)
        return ilheap__fail(ILHEAP_EINVAL, "no body loaded");
    uint64_t m = 0;
    ilheap_status_t st = rw->fn ? simulate(rw, &m) : safe_bound(rw, &m);
    if (st != ILHEAP_OK)
        return st;
    if (m > 0xFFFFu)
        return ilheap__fail(ILHEAP_IL_OVERFLOW, "max stack %llu > 65535", (unsigned long long)m);
    *max_stack = (uint32_t)m;
    return ILHEAP_OK;
}

/* ---- encoding --------------------------------------------------------- */

static inline uint32_t new_off(const ilheap_rw_t *rw, uint32_t id, uint32_t total)
{
    return id == END ? total : rw->noff[id];
}

/* Assigns offsets, widening short branches until every displacement fits:
 * one walk over the sequence (which also checks that every prefix still
 * prefixes an instruction that takes it), then passes over the short
 * branches only, with a new walk for the offsets after each widening. */
static ilheap_status_t layout(ilheap_rw_t *rw, uint32_t *total_out)
{
    ilheap_status_t st = ensure_scratch(rw, rw->live);
    if (st != ILHEAP_OK)
        return st;
    uint32_t *br = rw->scratch, nbr = 0;
    uint64_t total = 0;
    for (uint32_t id = rw->head; id != END; id = rw->next[id]) {
        uint8_t k = rw->kind[id];
        rw->noff[id] = (uint32_t)total;
        total += insn_size(rw, id);
        if (total > UINT32_MAX)
            return ilheap__fail(ILHEAP_IL_OVERFLOW, "code past 4 GiB");
        if ((k & IL_FAST_KIND) == ILHEAP_OPND_BRANCH8 || (k & IL_FAST_KIND) == ILHEAP_OPND_BRANCH32) {
            uint32_t t = resolve(rw, (uint32_t)rw->val[id]);
            if (t == END || !is_live(rw, t))
                return ilheap__fail(ILHEAP_IL_BAD_TARGET, "IL offset %d: %s leads past the code",
                                    offset_for_msg(rw, id), info_of(rw, id)->name);
            rw->val[id] = t;
            if ((k & IL_FAST_KIND) == ILHEAP_OPND_BRANCH8)
                br[nbr++] = id;
        } else if (k & IL_FAST_PREFIX) {
            const ilheap_il_opinfo_t *in = info_of(rw, id);
            uint32_t j = rw->next[id];
            while (j != END && is_prefix(rw, j))
                j = rw->next[j];
            if (j == END || !(info_of(rw, j)->prefixable & in->prefix))
                return ilheap__fail(ILHEAP_IL_BAD_PREFIX, "%s (IL offset %d) before %s", in->name,
                                    offset_for_msg(rw, id),
                                    j == END ? "the end of the code" : info_of(rw, j)->name);
        }
    }
    for (;;) {
        int changed = 0;
        uint32_t keep = 0;
        for (uint32_t k = 0; k < nbr; k++) {
            uint32_t id = br[k], t = (uint32_t)rw->val[id];
            int64_t disp = (int64_t)rw->noff[t] - ((int64_t)rw->noff[id] + 2);
            if (disp < -128 || disp > 127) {
                rw->op[id] = rw->op[id] == ILHEAP_OP_LEAVE_S ? ILHEAP_OP_LEAVE
                                                              : (uint16_t)(rw->op[id] + 13);
                rw->kind[id] = il_fast(rw->op[id]);
                changed = 1;
            } else {
                br[keep++] = id; /* still short: checked again after a widening */
            }
        }
        nbr = keep;
        if (!changed)
            break;
        total = 0;
        for (uint32_t id = rw->head; id != END; id = rw->next[id]) {
            rw->noff[id] = (uint32_t)total;
            total += insn_size(rw, id);
        }
        if (total > UINT32_MAX)
            return ilheap__fail(ILHEAP_IL_OVERFLOW, "code past 4 GiB after widening branches");
    }
    *total_out = (uint32_t)total;
    return ILHEAP_OK;
}

/* Builds the new code and clauses in rw; *body receives the body to encode. */
static ilheap_status_t prepare(ilheap_rw_t *rw, ilheap_il_body_t *body)
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
    if (st != ILHEAP_OK)
        return st;
    if (total > rw->code_cap) {
        size_t c = total < 4096 ? 4096 : (size_t)total + total / 2;
        if (!grow((void **)&rw->code, c, 1))
            return ilheap__fail(ILHEAP_ENOMEM, "%zu bytes of code", c);
        rw->code_cap = c;
    }
    uint8_t *p = rw->code;
    for (uint32_t id = rw->head; id != END; id = rw->next[id]) {
        uint8_t k = rw->kind[id];
        uint16_t opc = rw->op[id];
        if (opc > 0xFF)
            *p++ = 0xFE;
        *p++ = (uint8_t)opc;
        uint64_t v = rw->val[id];
        uint32_t end = rw->noff[id] + insn_size(rw, id);
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
            *p++ = (uint8_t)(int8_t)((int64_t)rw->noff[v] - end);
            break;
        case ILHEAP_OPND_BRANCH32:
            il_wr32(p, (uint32_t)(int32_t)((int64_t)rw->noff[v] - end));
            p += 4;
            break;
        case ILHEAP_OPND_SWITCH: {
            uint32_t *tg = rw->sw + sw_first(v);
            uint32_t cnt = sw_count(v);
            il_wr32(p, cnt);
            p += 4;
            for (uint32_t j = 0; j < cnt; j++) {
                uint32_t t = tg[j] = resolve(rw, tg[j]);
                if (t == END || !is_live(rw, t))
                    return ilheap__fail(ILHEAP_IL_BAD_TARGET, "IL offset %d: switch leads past the code",
                                        offset_for_msg(rw, id));
                il_wr32(p, (uint32_t)(int32_t)((int64_t)rw->noff[t] - end));
                p += 4;
            }
            break;
        }
        }
    }
    if (rw->ncl > rw->ocl_cap) {
        if (!grow((void **)&rw->ocl, rw->ncl, sizeof *rw->ocl))
            return ilheap__fail(ILHEAP_ENOMEM, "%u clauses", rw->ncl);
        rw->ocl_cap = rw->ncl;
    }
    for (uint32_t i = 0; i < rw->ncl; i++) {
        ilheap_rw_clause_t *c = &rw->cl[i];
        c->try_start = resolve(rw, c->try_start);
        c->try_end = resolve(rw, c->try_end);
        c->handler_start = resolve(rw, c->handler_start);
        c->handler_end = resolve(rw, c->handler_end);
        c->filter_start = resolve(rw, c->filter_start);
        uint32_t ts = new_off(rw, c->try_start, total), te = new_off(rw, c->try_end, total);
        uint32_t hs = new_off(rw, c->handler_start, total), he = new_off(rw, c->handler_end, total);
        /* Empty ranges are kept as read (the codec accepts them); reversed ones
         * can only come from removing or replacing around a boundary. */
        if (te < ts || he < hs || c->try_start == END || c->handler_start == END)
            return ilheap__fail(ILHEAP_IL_CLAUSE_RANGE,
                                "clause %u: try [%u, %u) or handler [%u, %u) is reversed", i, ts,
                                te, hs, he);
        ilheap_il_clause_t *o = &rw->ocl[i];
        o->kind = c->kind;
        o->try_offset = ts;
        o->try_length = te - ts;
        o->handler_offset = hs;
        o->handler_length = he - hs;
        o->filter_or_class = c->kind == ILHEAP_IL_FILTER ? new_off(rw, c->filter_start, total)
                                                          : c->class_token;
    }
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

ilheap_status_t ilheap__rw_prepare(ilheap_rw_t *rw, ilheap_il_body_t *body)
{
    return prepare(rw, body);
}

ilheap_status_t ilheap_rw_encode(ilheap_rw_t *rw, void *dst, size_t cap, size_t *size)
{
    if (size == NULL)
        return ilheap__fail(ILHEAP_EINVAL, "NULL size");
    ilheap_il_body_t b;
    ilheap_status_t st = prepare(rw, &b);
    if (st != ILHEAP_OK)
        return st;
    return ilheap_il_rewrite(&b, NULL, ILHEAP_IL_PRESERVE, dst, cap, size);
}

uint32_t ilheap_rw_new_offset(const ilheap_rw_t *rw, ilheap_rw_id_t id)
{
    if (rw == NULL || !rw->encoded)
        return ILHEAP_RW_NEW;
    if (id == END)
        return rw->code_size;
    return is_live(rw, id) ? rw->noff[id] : ILHEAP_RW_NEW;
}

/* ---- instrumentation helpers ------------------------------------------ */

static void mark(ilheap_rw_t *rw, uint32_t id)
{
    id = resolve(rw, id);
    if (id != END && is_live(rw, id))
        rw->flags[id] |= F_MARK;
}

ilheap_status_t ilheap_rw_block_starts(ilheap_rw_t *rw, ilheap_rw_id_t *out, size_t cap, size_t *count)
{
    if (rw == NULL || count == NULL || (out == NULL && cap))
        return ilheap__fail(ILHEAP_EINVAL, "NULL argument");
    *count = 0;
    for (uint32_t id = rw->head; id != END; id = rw->next[id])
        rw->flags[id] &= (uint8_t)~F_MARK;
    if (rw->head != END)
        rw->flags[rw->head] |= F_MARK;
    for (uint32_t id = rw->head; id != END; id = rw->next[id]) {
        const ilheap_il_opinfo_t *in = info_of(rw, id);
        if (in->operand == ILHEAP_OPND_BRANCH8 || in->operand == ILHEAP_OPND_BRANCH32) {
            mark(rw, (uint32_t)rw->val[id]);
        } else if (in->operand == ILHEAP_OPND_SWITCH) {
            const uint32_t *tg = rw->sw + sw_first(rw->val[id]);
            for (uint32_t k = 0; k < sw_count(rw->val[id]); k++)
                mark(rw, tg[k]);
        }
        if (in->flow != ILHEAP_FLOW_NEXT && in->flow != ILHEAP_FLOW_CALL &&
            in->flow != ILHEAP_FLOW_PREFIX && in->flow != ILHEAP_FLOW_BREAK && rw->next[id] != END)
            rw->flags[rw->next[id]] |= F_MARK;
    }
    for (uint32_t i = 0; i < rw->ncl; i++) {
        const ilheap_rw_clause_t *c = &rw->cl[i];
        mark(rw, c->try_start);
        mark(rw, c->try_end);
        mark(rw, c->handler_start);
        mark(rw, c->handler_end);
        if (c->kind == ILHEAP_IL_FILTER)
            mark(rw, c->filter_start);
    }
    size_t k = 0;
    for (uint32_t id = rw->head; id != END; id = rw->next[id]) {
        if (!(rw->flags[id] & F_MARK))
            continue;
        /* A block of a prefixed instruction starts at its first prefix. */
        uint32_t s = id;
        while (is_prefix(rw, rw->prev[s]))
            s = rw->prev[s];
        if (s != id && (rw->flags[s] & F_MARK))
            continue;
        if (k < cap)
            out[k] = s;
        k++;
    }
    *count = k;
    if (k > cap)
        return ilheap__fail(ILHEAP_IL_DEST_TOO_SMALL, "%zu block starts, room for %zu", k, cap);
    return ILHEAP_OK;
}

/* A probe: ops with the address loaded by the first (ldc.i8, or ldc.i4 for
 * a 32-bit process). Returns n, or 0 when a 32-bit address does not fit. */
static size_t build_probe(uint64_t addr, int ptr64, const uint16_t *ops, size_t n,
                          ilheap_rw_insn_t *out)
{
    if (out == NULL || (!ptr64 && addr > UINT32_MAX))
        return 0;
    for (size_t k = 0; k < n; k++) {
        memset(&out[k], 0, sizeof out[k]);
        out[k].opcode = ops[k];
        out[k].offset = ILHEAP_RW_NEW;
    }
    if (ptr64) {
        out[0].op.i = (int64_t)addr;
    } else {
        out[0].opcode = ILHEAP_OP_LDC_I4;
        out[0].op.i = (int32_t)(uint32_t)addr;
    }
    return n;
}

size_t ilheap_rw_counter_probe(uint64_t addr, int ptr64, ilheap_rw_insn_t out[ILHEAP_RW_PROBE_MAX])
{
    static const uint16_t ops[7] = {ILHEAP_OP_LDC_I8, ILHEAP_OP_CONV_U,  ILHEAP_OP_DUP,
                                    ILHEAP_OP_LDIND_I4, ILHEAP_OP_LDC_I4_1, ILHEAP_OP_ADD,
                                    ILHEAP_OP_STIND_I4};
    return build_probe(addr, ptr64, ops, 7, out);
}

size_t ilheap_rw_counter64_probe(uint64_t addr, int ptr64,
                                 ilheap_rw_insn_t out[ILHEAP_RW_PROBE_MAX])
{
    static const uint16_t ops[8] = {ILHEAP_OP_LDC_I8,   ILHEAP_OP_CONV_U,   ILHEAP_OP_DUP,
                                    ILHEAP_OP_LDIND_I8, ILHEAP_OP_LDC_I4_1, ILHEAP_OP_CONV_I8,
                                    ILHEAP_OP_ADD,      ILHEAP_OP_STIND_I8};
    return build_probe(addr, ptr64, ops, 8, out);
}

size_t ilheap_rw_flag_probe(uint64_t addr, int ptr64, ilheap_rw_insn_t out[ILHEAP_RW_PROBE_MAX])
{
    static const uint16_t ops[4] = {ILHEAP_OP_LDC_I8, ILHEAP_OP_CONV_U, ILHEAP_OP_LDC_I4_1,
                                    ILHEAP_OP_STIND_I1};
    return build_probe(addr, ptr64, ops, 4, out);
}

/* ---- locals ----------------------------------------------------------- */

ilheap_status_t ilheap_rw_locals_append(const uint8_t *sig, size_t size, const uint8_t *new_types,
                                        size_t new_types_size, uint32_t new_count, uint8_t **out,
                                        size_t *out_size, uint32_t *first_index)
{
    if (out == NULL || out_size == NULL || (sig == NULL && size) ||
        (new_types == NULL && new_types_size))
        return ilheap__fail(ILHEAP_EINVAL, "NULL argument");
    *out = NULL;
    *out_size = 0;
    uint32_t old = 0;
    size_t hdr = 0;
    if (size) {
        size_t len = ilheap__decode_compressed(sig + 1, size - 1, &old);
        if (sig[0] != 0x07 || len == 0)
            return ilheap__fail(ILHEAP_IL_BAD_SIG, "%s",
                                sig[0] != 0x07 ? "first byte is not LOCAL_SIG (0x07)"
                                               : "count runs past the blob");
        hdr = 1 + len;
    }
    if ((uint64_t)old + new_count > 0xFFFFu)
        return ilheap__fail(ILHEAP_IL_OVERFLOW, "%u + %u locals > 65535", old, new_count);
    if ((new_count == 0) != (new_types_size == 0))
        return ilheap__fail(ILHEAP_EINVAL, "%u new locals in %zu bytes", new_count, new_types_size);
    size_t rest = size - hdr;
    if (rest > SIZE_MAX - new_types_size - 8)
        return ilheap__fail(ILHEAP_IL_OVERFLOW, "signature size");
    uint8_t *b = malloc(5 + rest + new_types_size);
    if (b == NULL)
        return ilheap__fail(ILHEAP_ENOMEM, "%zu-byte signature", 5 + rest + new_types_size);
    size_t k = 0;
    b[k++] = 0x07;
    k += ilheap__encode_compressed(old + new_count, b + k); /* at most 0xFFFF: never 0 */
    if (rest)
        memcpy(b + k, sig + hdr, rest);
    k += rest;
    if (new_types_size)
        memcpy(b + k, new_types, new_types_size);
    k += new_types_size;
    *out = b;
    *out_size = k;
    if (first_index != NULL)
        *first_index = old;
    return ILHEAP_OK;
}
