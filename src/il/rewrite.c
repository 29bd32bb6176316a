/* The instruction-level IL rewriter (include/ilheap/rewrite.h): storage,
 * walking and reading. The model is at the top of rewrite_internal.h; header
 * and EH sections are written by the codec (ilheap_il_rewrite, preserve
 * mode). See docs/il-rewriter.md. */
#include <string.h>

#include "il/rewrite_internal.h"
#include "os/memory.h"
#include "ilheap/rewrite.h"
#include "status_internal.h"

/* ---- storage ---------------------------------------------------------- */

int ilheap__rw_grow(void **p, size_t count, size_t elem)
{
    void *q = ilheap__mem_realloc(*p, count, elem);
    if (q == NULL)
        return 0;
    *p = q;
    return 1;
}

ilheap_status_t ilheap__rw_ensure_ids(ilheap_rw_t *rw, uint64_t need)
{
    if (need <= rw->cap)
        return ILHEAP_OK;
    if (need >= RW_NONE)
        return ilheap__fail(ILHEAP_IL_OVERFLOW, "more than %u instructions", RW_NONE - 1);
    uint64_t c = rw->cap ? (uint64_t)rw->cap * 2 : 64;
    if (c < need)
        c = need;
    if (c >= RW_NONE)
        c = RW_NONE - 1;
    size_t n = (size_t)c;
    if (!ilheap__rw_grow((void **)&rw->op, n, sizeof *rw->op) ||
        !ilheap__rw_grow((void **)&rw->flags, n, 1) || !ilheap__rw_grow((void **)&rw->kind, n, 1) ||
        !ilheap__rw_grow((void **)&rw->off, n, 4) || !ilheap__rw_grow((void **)&rw->val, n, 8) ||
        !ilheap__rw_grow((void **)&rw->next, n, 4) || !ilheap__rw_grow((void **)&rw->prev, n, 4) ||
        !ilheap__rw_grow((void **)&rw->redir, n, 4) || !ilheap__rw_grow((void **)&rw->noff, n, 4))
        return ilheap__fail(ILHEAP_ENOMEM, "%zu instructions", n);
    rw->cap = (uint32_t)n;
    return ILHEAP_OK;
}

ilheap_status_t ilheap__rw_ensure_sw(ilheap_rw_t *rw, uint64_t need)
{
    /* Never NULL once asked for, even for a switch with no targets: the
     * table's pointer arithmetic (rw->sw + first) on NULL is undefined. */
    if (need <= rw->sw_cap && rw->sw != NULL)
        return ILHEAP_OK;
    uint64_t c = rw->sw_cap ? (uint64_t)rw->sw_cap * 2 : 256;
    if (c < need)
        c = need;
    if (c > SIZE_MAX / 4 || !ilheap__rw_grow((void **)&rw->sw, (size_t)c, 4))
        return ilheap__fail(ILHEAP_ENOMEM, "%llu switch targets", (unsigned long long)c);
    rw->sw_cap = (size_t)c;
    return ILHEAP_OK;
}

ilheap_status_t ilheap__rw_ensure_scratch(ilheap_rw_t *rw, uint64_t need)
{
    if (need <= rw->scratch_cap)
        return ILHEAP_OK;
    uint64_t c = need < 1024 ? 1024 : need + need / 2;
    if (c > SIZE_MAX / 4 || !ilheap__rw_grow((void **)&rw->scratch, (size_t)c, 4))
        return ilheap__fail(ILHEAP_ENOMEM, "%llu scratch entries", (unsigned long long)c);
    rw->scratch_cap = (size_t)c;
    return ILHEAP_OK;
}

void ilheap__rw_reset(ilheap_rw_t *rw)
{
    rw->n = 0;
    rw->head = rw->tail = RW_END;
    rw->live = 0;
    rw->loaded_n = 0;
    rw->sw_n = 0;
    rw->ncl = 0;
    rw->loaded = 0;
    rw->edited = 0;
    rw->encoded = 0;
    memset(&rw->body, 0, sizeof rw->body);
    rw->local_sig = 0;
    rw->init_locals = 0;
    rw->struct_peak = 0;
    rw->struct_unknown = 0;
    rw->returns = -1;
}

ilheap_status_t ilheap_rw_create(ilheap_rw_t **out)
{
    if (out == NULL)
        return ilheap__fail(ILHEAP_EINVAL, "NULL out");
    *out = NULL;
    ilheap_rw_t *rw = ilheap__mem_zalloc(1, sizeof *rw);
    if (rw == NULL)
        return ilheap__fail(ILHEAP_ENOMEM, "rewriter");
    ilheap__rw_reset(rw);
    *out = rw;
    return ILHEAP_OK;
}

void ilheap_rw_destroy(ilheap_rw_t *rw)
{
    if (rw == NULL)
        return;
    ilheap__mem_free(rw->op);
    ilheap__mem_free(rw->kind);
    ilheap__mem_free(rw->flags);
    ilheap__mem_free(rw->off);
    ilheap__mem_free(rw->val);
    ilheap__mem_free(rw->next);
    ilheap__mem_free(rw->prev);
    ilheap__mem_free(rw->redir);
    ilheap__mem_free(rw->noff);
    ilheap__mem_free(rw->sw);
    ilheap__mem_free(rw->cl);
    ilheap__mem_free(rw->scratch);
    ilheap__mem_free(rw->depth);
    ilheap__mem_free(rw->code);
    ilheap__mem_free(rw->ocl);
    ilheap__mem_free(rw->cl_save);
    ilheap__mem_free(rw);
}

ilheap_status_t ilheap__rw_check_prefix(const ilheap_rw_t *rw, uint32_t id)
{
    const ilheap_il_opinfo_t *in = rw_info(rw, id);
    uint32_t j = rw->next[id];
    while (j != RW_END && rw_is_prefix(rw, j))
        j = rw->next[j];
    if (j == RW_END || !(rw_info(rw, j)->prefixable & in->prefix))
        return ilheap__fail(ILHEAP_IL_BAD_PREFIX, "IL offset %d: %s before %s",
                            rw_offset_for_msg(rw, id), in->name,
                            j == RW_END ? "the end of the code" : rw_info(rw, j)->name);
    return ILHEAP_OK;
}

/* ---- walking and reading ---------------------------------------------- */

ilheap_rw_id_t ilheap_rw_first(const ilheap_rw_t *rw)
{
    return rw ? rw->head : RW_END;
}

ilheap_rw_id_t ilheap_rw_last(const ilheap_rw_t *rw)
{
    return rw ? rw->tail : RW_END;
}

ilheap_rw_id_t ilheap_rw_next(const ilheap_rw_t *rw, ilheap_rw_id_t id)
{
    return rw && rw_live(rw, id) ? rw->next[id] : RW_END;
}

ilheap_rw_id_t ilheap_rw_prev(const ilheap_rw_t *rw, ilheap_rw_id_t id)
{
    return rw && rw_live(rw, id) ? rw->prev[id] : RW_END;
}

size_t ilheap_rw_count(const ilheap_rw_t *rw)
{
    return rw ? rw->live : 0;
}

uint16_t ilheap_rw_opcode(const ilheap_rw_t *rw, ilheap_rw_id_t id)
{
    return rw && rw_live(rw, id) ? rw->op[id] : 0xFFFFu;
}

ilheap_rw_id_t ilheap_rw_resolve(const ilheap_rw_t *rw, ilheap_rw_id_t id)
{
    return rw ? rw_resolve(rw, id) : RW_END;
}

ilheap_status_t ilheap_rw_get(ilheap_rw_t *rw, ilheap_rw_id_t id, ilheap_rw_insn_t *out)
{
    if (rw == NULL || out == NULL)
        return ilheap__fail(ILHEAP_EINVAL, "NULL %s", rw == NULL ? "rewriter" : "out");
    if (!rw_live(rw, id))
        return ilheap__fail(ILHEAP_IL_BAD_REF, "id %u", id);
    memset(out, 0, sizeof *out);
    out->opcode = rw->op[id];
    out->offset = rw->off[id];
    uint64_t v = rw->val[id];
    uint32_t u32;
    switch ((ilheap_il_operand_t)rw_info(rw, id)->operand) {
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
        rw->val[id] = out->op.target = rw_resolve(rw, (uint32_t)v);
        break;
    case ILHEAP_OPND_SWITCH: {
        uint32_t *tg = rw->sw + rw_sw_first(v);
        for (uint32_t k = 0; k < rw_sw_count(v); k++)
            tg[k] = rw_resolve(rw, tg[k]);
        out->op.sw.targets = tg;
        out->op.sw.count = rw_sw_count(v);
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
    out->try_start = rw_resolve(rw, out->try_start);
    out->try_end = rw_resolve(rw, out->try_end);
    out->handler_start = rw_resolve(rw, out->handler_start);
    out->handler_end = rw_resolve(rw, out->handler_end);
    out->filter_start = rw_resolve(rw, out->filter_start);
    return ILHEAP_OK;
}

/* ---- settings --------------------------------------------------------- */

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

void ilheap_rw_set_returns(ilheap_rw_t *rw, int returns)
{
    if (rw != NULL)
        rw->returns = (int8_t)(returns < 0 ? -1 : returns > 0);
}

void ilheap_rw_set_locals(ilheap_rw_t *rw, uint32_t local_sig, int init_locals)
{
    if (rw == NULL)
        return;
    rw->local_sig = local_sig;
    rw->init_locals = init_locals != 0;
}
