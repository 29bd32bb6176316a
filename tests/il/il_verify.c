/* The checker of il_verify.h: offsets, blocks and depths, written apart
 * from the rewriter so that it can judge it. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ilheap/il.h"
#include "ilheap/rewrite.h"
#include "il_verify.h"
#include "status_internal.h" /* ILHEAP_PRINTF_LIKE */

enum { K_TRY, K_CATCH, K_FINALLY, K_FILTER };

typedef struct span {
    uint32_t s, e, kind; /* offsets [s, e), K_* */
} span_t;

typedef struct vf {
    ilheap_il_body_t b;
    ilheap_il_clause_t cl[256];
    const uint8_t *code;
    uint32_t n;
    uint8_t *is_start; /* n + 1 */
    span_t *sp;        /* 3 per clause (filter: e == s when none) */
    uint32_t nsp;
    const il_verify_opts_t *o;
    char *msg;
    size_t msg_size;
} vf_t;

ILHEAP_PRINTF_LIKE(2, 3)
static int bad(vf_t *v, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(v->msg, v->msg_size, fmt, ap);
    va_end(ap);
    return 0;
}

/* The instruction at offset o: opcode, row and length (0 when it does not decode). */
static uint32_t insn(const vf_t *v, uint32_t o, uint16_t *op, const ilheap_il_opinfo_t **in)
{
    if (o >= v->n)
        return 0;
    uint32_t len = 1;
    *op = v->code[o];
    if (*op == 0xFE) {
        if (o + 1 >= v->n)
            return 0;
        *op = (uint16_t)(0xFE00 | v->code[o + 1]);
        len = 2;
    }
    *in = ilheap_il_opinfo(*op);
    if (*in == NULL)
        return 0;
    uint64_t size = len + ilheap_il_operand_size((ilheap_il_operand_t)(*in)->operand);
    if ((*in)->operand == ILHEAP_OPND_SWITCH && o + 5ull <= v->n) {
        const uint8_t *p = v->code + o + len;
        size += 4ull * (p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24);
    }
    return o + size <= v->n ? (uint32_t)size : 0;
}

static int32_t rd32(const uint8_t *p)
{
    return (int32_t)(p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24);
}

/* The branch or switch targets of the instruction at o (length len). */
static uint32_t targets(const vf_t *v, uint32_t o, uint32_t len, const ilheap_il_opinfo_t *in,
                        int64_t *out, uint32_t cap)
{
    const uint8_t *p = v->code + o + in->size;
    if (in->operand == ILHEAP_OPND_BRANCH8) {
        out[0] = (int64_t)o + len + (int8_t)p[0];
        return 1;
    }
    if (in->operand == ILHEAP_OPND_BRANCH32) {
        out[0] = (int64_t)o + len + rd32(p);
        return 1;
    }
    if (in->operand != ILHEAP_OPND_SWITCH)
        return 0;
    uint32_t cnt = (uint32_t)rd32(p), k;
    for (k = 0; k < cnt && k < cap; k++)
        out[k] = (int64_t)o + len + rd32(p + 4 + 4 * k);
    return k;
}

static int falls(uint8_t flow)
{
    return flow == ILHEAP_FLOW_NEXT || flow == ILHEAP_FLOW_CALL || flow == ILHEAP_FLOW_COND ||
           flow == ILHEAP_FLOW_BREAK || flow == ILHEAP_FLOW_PREFIX;
}

/* Every instruction decodes; its targets are instruction starts. */
static int check_insns(vf_t *v)
{
    for (uint32_t o = 0; o < v->n;) {
        uint16_t op;
        const ilheap_il_opinfo_t *in;
        uint32_t len = insn(v, o, &op, &in);
        if (len == 0)
            return bad(v, "offset %u: does not decode", o);
        v->is_start[o] = 1;
        o += len;
    }
    for (uint32_t o = 0; o < v->n;) {
        uint16_t op;
        const ilheap_il_opinfo_t *in;
        uint32_t len = insn(v, o, &op, &in);
        int64_t t[4096];
        uint32_t nt = targets(v, o, len, in, t, 4096);
        for (uint32_t k = 0; k < nt; k++)
            if (t[k] < 0 || t[k] >= v->n || !v->is_start[t[k]])
                return bad(v, "offset %u (%s): target %lld is not an instruction start", o, in->name,
                           (long long)t[k]);
        o += len;
    }
    return 1;
}

static int inside(const span_t *s, uint32_t x)
{
    return s->s <= x && x < s->e;
}

static int apart(const span_t *a, const span_t *b)
{
    return a->e <= a->s || b->e <= b->s || a->e <= b->s || b->e <= a->s;
}

static int within(const span_t *a, const span_t *b)
{
    return a->e > a->s && b->s <= a->s && a->e <= b->e;
}

/* Clause blocks as spans; boundaries are instruction starts. */
static int load_spans(vf_t *v)
{
    v->nsp = 3 * v->b.clause_count;
    v->sp = calloc(v->nsp + 1, sizeof *v->sp);
    if (v->sp == NULL)
        return bad(v, "out of memory");
    for (uint32_t i = 0; i < v->b.clause_count; i++) {
        const ilheap_il_clause_t *c = &v->b.clauses[i];
        span_t *s = &v->sp[3 * i];
        int catches = c->kind == ILHEAP_IL_CATCH || c->kind == ILHEAP_IL_FILTER;
        s[0] = (span_t){c->try_offset, c->try_offset + c->try_length, K_TRY};
        s[1] = (span_t){c->handler_offset, c->handler_offset + c->handler_length, catches ? K_CATCH : K_FINALLY};
        s[2] = (span_t){0, 0, K_FILTER};
        if (c->kind == ILHEAP_IL_FILTER)
            s[2] = (span_t){c->filter_or_class, c->handler_offset, K_FILTER};
        for (int j = 0; j < 3; j++) {
            if (j == 2 && c->kind != ILHEAP_IL_FILTER)
                continue;
            if (s[j].e <= s[j].s || s[j].e > v->n || !v->is_start[s[j].s] ||
                (s[j].e < v->n && !v->is_start[s[j].e]))
                return bad(v, "clause %u: block %d [%u, %u) is empty or not on instruction starts", i, j,
                           s[j].s, s[j].e);
        }
        if (!apart(&s[0], &s[1]) || !apart(&s[0], &s[2]))
            return bad(v, "clause %u: handler or filter inside its own try", i);
    }
    return 1;
}

/* Does every block of clause a lie inside one block of clause b? */
static int clause_within(const vf_t *v, uint32_t a, uint32_t b)
{
    const span_t *x = &v->sp[3 * a], *y = &v->sp[3 * b];
    for (int j = 0; j < 3; j++)
        if (within(&x[0], &y[j]) && within(&x[1], &y[j]) && (x[2].e <= x[2].s || within(&x[2], &y[j])))
            return 1;
    return 0;
}

/* Nesting and order of every pair of clauses. */
static int check_nesting(vf_t *v)
{
    for (uint32_t i = 0; i < v->b.clause_count; i++)
        for (uint32_t j = i + 1; j < v->b.clause_count; j++) {
            const span_t *x = &v->sp[3 * i], *y = &v->sp[3 * j];
            int all_apart = 1;
            for (int a = 0; a < 3; a++)
                for (int c = 0; c < 3; c++)
                    all_apart &= apart(&x[a], &y[c]);
            int same_try = x[0].s == y[0].s && x[0].e == y[0].e;
            if (all_apart)
                continue;
            if (same_try) {
                int ok = x[1].kind == K_CATCH && y[1].kind == K_CATCH;
                for (int a = 1; a < 3; a++)
                    for (int c = 0; c < 3; c++)
                        ok &= apart(&x[a], &y[c]) && apart(&y[a], &x[c]);
                if (!ok)
                    return bad(v, "clauses %u and %u share a try but are not two catches apart", i, j);
                continue;
            }
            if (clause_within(v, j, i))
                return bad(v, "clause %u lies inside clause %u but comes after it", j, i);
            if (!clause_within(v, i, j))
                return bad(v, "clauses %u and %u overlap partially", i, j);
        }
    return 1;
}

/* The edge o -> t (t == n: past the end) against every block. */
static int check_edge(vf_t *v, uint32_t o, const char *name, int64_t t, int leave)
{
    for (uint32_t k = 0; k < v->nsp; k++) {
        const span_t *s = &v->sp[k];
        if (s->e <= s->s || inside(s, o) == inside(s, (uint32_t)t))
            continue;
        if (inside(s, (uint32_t)t)) {
            if (s->kind == K_TRY && t == s->s)
                continue;
            return bad(v, "offset %u (%s): enters block [%u, %u) of clause %u at %lld", o, name, s->s, s->e,
                       k / 3, (long long)t);
        }
        if (leave && (s->kind == K_TRY || s->kind == K_CATCH))
            continue;
        return bad(v, "offset %u (%s): leaves block [%u, %u) of clause %u %s", o, name, s->s, s->e, k / 3,
                   leave ? "by leave (not allowed here)" : "without leave");
    }
    return 1;
}

/* The smallest block holding o (skip_try: handlers and filters only), or NULL. */
static const span_t *innermost(const vf_t *v, uint32_t o, int skip_try)
{
    const span_t *best = NULL;
    for (uint32_t k = 0; k < v->nsp; k++) {
        const span_t *s = &v->sp[k];
        if (s->e > s->s && inside(s, o) && !(skip_try && s->kind == K_TRY) &&
            (best == NULL || s->e - s->s < best->e - best->s))
            best = s;
    }
    return best;
}

static int check_place(vf_t *v, uint32_t o, uint32_t len, uint16_t op, const char *name)
{
    const span_t *in = innermost(v, o, 0), *h = innermost(v, o, 1);
    if ((op == ILHEAP_OP_RET || op == ILHEAP_OP_JMP) && in != NULL)
        return bad(v, "offset %u: %s inside a block [%u, %u)", o, name, in->s, in->e);
    if (op == ILHEAP_OP_ENDFINALLY && (in == NULL || in->kind != K_FINALLY))
        return bad(v, "offset %u: endfinally not directly in a finally or fault", o);
    if (op == ILHEAP_OP_ENDFILTER && (in == NULL || in->kind != K_FILTER || o + len != in->e))
        return bad(v, "offset %u: endfilter not last in a filter", o);
    if (op == ILHEAP_OP_RETHROW && (h == NULL || h->kind != K_CATCH))
        return bad(v, "offset %u: rethrow outside a catch", o);
    if (op == ILHEAP_OP_LOCALLOC && h != NULL)
        return bad(v, "offset %u: localloc in a handler or filter", o);
    for (uint32_t k = 0; k < v->nsp; k++)
        if (v->sp[k].kind == K_FILTER && v->sp[k].e > v->sp[k].s && o + len == v->sp[k].e &&
            op != ILHEAP_OP_ENDFILTER)
            return bad(v, "offset %u (%s): a filter must end with endfilter", o, name);
    return 1;
}

/* Edges and placement of every instruction. */
static int check_flow(vf_t *v)
{
    for (uint32_t k = 0; k < v->nsp; k++)
        if (v->sp[k].kind != K_TRY && v->sp[k].e > v->sp[k].s && v->sp[k].s == 0)
            return bad(v, "the method starts in a handler or filter");
    for (uint32_t o = 0; o < v->n;) {
        uint16_t op;
        const ilheap_il_opinfo_t *in;
        uint32_t len = insn(v, o, &op, &in);
        int64_t t[4096];
        uint32_t nt = targets(v, o, len, in, t, 4096);
        int leave = op == ILHEAP_OP_LEAVE || op == ILHEAP_OP_LEAVE_S;
        for (uint32_t k = 0; k < nt; k++)
            if (!check_edge(v, o, in->name, t[k], leave))
                return 0;
        if (falls(in->flow) && o + len == v->n)
            return bad(v, "offset %u (%s): falls off the end of the code", o, in->name);
        if (falls(in->flow) && !check_edge(v, o, in->name, o + len, 0))
            return 0;
        if (!check_place(v, o, len, op, in->name))
            return 0;
        o += len;
    }
    return 1;
}

/* Sets the depth at offset t, or checks it against the one set; a try
 * starts with an empty stack. */
static int reach(vf_t *v, int32_t *depth, uint32_t *work, uint32_t *nwork, int64_t t, int32_t d)
{
    for (uint32_t k = 0; k < v->nsp && d != 0; k++)
        if (v->sp[k].kind == K_TRY && v->sp[k].s == t)
            return bad(v, "offset %lld: a try starts at depth %d", (long long)t, d);
    if (depth[t] < 0) {
        depth[t] = d;
        work[(*nwork)++] = (uint32_t)t;
        return 1;
    }
    return depth[t] == d ? 1 : bad(v, "offset %lld reached with depths %d and %d", (long long)t, depth[t], d);
}

/* The depth effect of the instruction at o (d before it): the new depth in *d. */
static int effect(vf_t *v, uint32_t o, uint16_t op, const ilheap_il_opinfo_t *in, int32_t *d)
{
    uint32_t pops = in->pops, pushes = in->pushes;
    if (op == ILHEAP_OP_RET) {
        int ok = v->o->returns < 0 ? *d <= 1 : *d == v->o->returns;
        return ok ? 1 : bad(v, "offset %u: ret at depth %d", o, *d);
    }
    if (pops == ILHEAP_STACK_VARIES || pushes == ILHEAP_STACK_VARIES) {
        uint32_t tok = (uint32_t)rd32(v->code + o + in->size);
        if (in->flow != ILHEAP_FLOW_CALL || !v->o->call(v->o->ctx, op, tok, &pops, &pushes))
            return bad(v, "offset %u (%s): stack effect of token %#x unknown", o, in->name, tok);
        if (op == ILHEAP_OP_NEWOBJ)
            pushes = 1;
    }
    if (*d < (int32_t)pops || (op == ILHEAP_OP_ENDFILTER && *d != 1))
        return bad(v, "offset %u (%s): depth %d", o, in->name, *d);
    *d += (int32_t)pushes - (int32_t)pops;
    if (*d > v->b.max_stack)
        return bad(v, "offset %u (%s): depth %d past max stack %u", o, in->name, *d, v->b.max_stack);
    return 1;
}

/* Follows every path from the entries. */
static int check_stack(vf_t *v)
{
    int32_t *depth = malloc((v->n + 1) * sizeof *depth);
    uint32_t *work = malloc((v->n + 1) * sizeof *work), nwork = 0;
    int ok = depth != NULL && work != NULL;
    for (uint32_t o = 0; ok && o <= v->n; o++)
        depth[o] = -1;
    if (ok && v->n)
        ok = reach(v, depth, work, &nwork, 0, 0);
    for (uint32_t k = 0; ok && k < v->nsp; k++) /* handler and filter entries (trys: when reached) */
        if (v->sp[k].e > v->sp[k].s && v->sp[k].kind != K_TRY)
            ok = reach(v, depth, work, &nwork, v->sp[k].s, v->sp[k].kind == K_FINALLY ? 0 : 1);
    while (ok && nwork) {
        uint32_t o = work[--nwork];
        int32_t d = depth[o];
        uint16_t op;
        const ilheap_il_opinfo_t *in;
        uint32_t len = insn(v, o, &op, &in);
        int64_t t[4096];
        uint32_t nt = targets(v, o, len, in, t, 4096);
        ok = effect(v, o, op, in, &d);
        int leave = op == ILHEAP_OP_LEAVE || op == ILHEAP_OP_LEAVE_S;
        for (uint32_t k = 0; ok && k < nt; k++)
            ok = reach(v, depth, work, &nwork, t[k], leave ? 0 : d);
        if (ok && falls(in->flow) && o + len < v->n)
            ok = reach(v, depth, work, &nwork, o + len, d);
    }
    free(depth);
    free(work);
    return ok;
}

int il_verify(const uint8_t *body, size_t size, const il_verify_opts_t *opts, char *msg, size_t msg_size)
{
    vf_t v;
    memset(&v, 0, sizeof v);
    v.o = opts;
    v.msg = msg;
    v.msg_size = msg_size;
    if (ilheap_il_decode(body, size, &v.b, v.cl, 256) != ILHEAP_OK)
        return bad(&v, "the body does not decode");
    v.code = v.b.code;
    v.n = v.b.code_size;
    v.is_start = calloc(v.n + 1, 1);
    if (v.is_start == NULL)
        return bad(&v, "out of memory");
    int ok = check_insns(&v) && load_spans(&v) && check_nesting(&v) && check_flow(&v) &&
             (opts == NULL || opts->call == NULL || check_stack(&v));
    free(v.is_start);
    free(v.sp);
    return ok;
}

int il_verify_test_calls(void *ctx, uint16_t opcode, uint32_t token, uint32_t *pops, uint32_t *pushes)
{
    (void)ctx;
    (void)opcode;
    if ((token & 0xFF000000u) != 0x0A000000u)
        return 0;
    *pops = token >> 4 & 0xFu;
    *pushes = token & 0xFu;
    return 1;
}
