/* Property tests of the structured edits (fixed seed; ILHEAP_IL_PROPS_COUNT
 * for a longer run) over random structured bodies: straight code, forward
 * and backward branches, switches, rets (some inside trys and catches),
 * throws, and nested try/catch/filter/finally/fault, some sharing a try.
 *  - the body itself passes the verifier (the generator makes valid IL, but
 *    for its rets inside trys, which ECMA-335 forbids);
 *  - single exit + a whole-body wrap of a random kind always succeeds, and
 *    the result passes the verifier (structure and the depth on every path);
 *  - every original instruction but the rets keeps its opcode, operand and
 *    order, and every branch leads where it led;
 *  - a wrap or a clause over a random range, of a random kind, either
 *    passes the verifier or is refused with one of the documented statuses
 *    and leaves the body byte for byte as it was;
 *  - probes at every block start, before or after a wrap, keep all that.
 * ILHEAP_WRAP_DUMP=1 prints every random edit, and the failing body before
 * and after. With IL_WRAP_FUZZ defined this file is the libFuzzer target
 * fuzz_il_wrap: the fuzzer's bytes make the random choices. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "il_asm.h"
#include "il_verify.h"
#include "ilheap/rewrite.h"
#include "test.h"

#define TYPE 0x01000002u

#ifdef IL_WRAP_FUZZ
/* Built as the libFuzzer target fuzz_il_wrap: the fuzzer's bytes are the
 * random choices (zeros once they run out), a broken property aborts. */
#undef TEST_FAIL_
#define TEST_FAIL_(...) (fprintf(stderr, __VA_ARGS__), fprintf(stderr, "\n"), abort())
static const uint8_t *fuzz_data;
static size_t fuzz_size, fuzz_pos;
static uint64_t rnd(void)
{
    uint64_t v = 0;
    for (int i = 0; i < 4; i++)
        v = v << 8 | (fuzz_pos < fuzz_size ? fuzz_data[fuzz_pos++] : 0);
    return v;
}
#else
static uint64_t rng_state;
static uint64_t rnd(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545F4914F6CDD1Dull;
}
#endif
static uint32_t below(uint32_t n)
{
    return n ? (uint32_t)(rnd() % n) : 0;
}

#ifndef IL_WRAP_FUZZ
static unsigned count(void)
{
    const char *env = getenv("ILHEAP_IL_PROPS_COUNT");
    return env ? (unsigned)strtoul(env, NULL, 10) : getenv("ILHEAP_UNDER_VALGRIND") != NULL ? 300 : 3000;
}
#endif

/* ---- the generator ---------------------------------------------------- */

enum { IN_NONE, IN_TRY, IN_CATCH, IN_FINALLY, IN_FILTER };

typedef struct gen {
    il_asm_t *a;
    int returns;         /* rets take a value */
    int budget;          /* statements left */
    int ret_in_region;   /* a ret was put in a try or catch */
    int in_finally;      /* inside a finally or fault handler: no ret at any depth */
} gen_t;

static void block(gen_t *g, int depth, int where);

/* A stack-neutral statement. */
static void neutral(gen_t *g)
{
    switch (below(5)) {
    case 0:
        il_op(g->a, ILHEAP_OP_NOP);
        break;
    case 1:
        il_opi(g->a, ILHEAP_OP_LDC_I4_S, (int8_t)below(256));
        il_op(g->a, ILHEAP_OP_POP);
        break;
    case 2:
        il_op(g->a, ILHEAP_OP_LDARG_0);
        il_op(g->a, ILHEAP_OP_LDC_I4_1);
        il_op(g->a, ILHEAP_OP_ADD);
        il_op(g->a, ILHEAP_OP_POP);
        break;
    case 3:
        il_op(g->a, ILHEAP_OP_LDC_I4_1);
        il_opi(g->a, ILHEAP_OP_CALL, IL_TEST_CALL(1, 0));
        break;
    default:
        il_opi(g->a, ILHEAP_OP_CALL, IL_TEST_CALL(0, 1));
        il_op(g->a, ILHEAP_OP_POP);
        break;
    }
}

static void ret(gen_t *g)
{
    if (g->returns)
        il_opi(g->a, ILHEAP_OP_LDC_I4_S, (int8_t)below(100));
    il_op(g->a, ILHEAP_OP_RET);
}

/* try { ... leave end } then one or two catches, a filter, a finally or a fault. */
static void protected(gen_t *g, int depth)
{
    il_asm_t *a = g->a;
    int t = il_label(a), te = il_label(a), end = il_label(a), shape = (int)below(5);
    il_mark(a, t);
    block(g, depth + 1, IN_TRY);
    il_br(a, ILHEAP_OP_LEAVE, end);
    il_mark(a, te);
    int handlers = shape == 0 && below(2) ? 2 : 1;
    for (int k = 0; k < handlers; k++) {
        int f = il_label(a), h = il_label(a), he = il_label(a);
        il_mark(a, f);
        if (shape == 1) {
            il_op(a, ILHEAP_OP_POP);
            il_op(a, ILHEAP_OP_LDC_I4_1);
            il_op(a, ILHEAP_OP_ENDFILTER);
        }
        il_mark(a, h);
        if (shape <= 1) {
            il_op(a, ILHEAP_OP_POP);
            block(g, depth + 1, IN_CATCH);
            if (below(3) == 0)
                il_op(a, ILHEAP_OP_RETHROW);
            else
                il_br(a, ILHEAP_OP_LEAVE, end);
        } else {
            g->in_finally++;
            block(g, depth + 1, IN_FINALLY);
            g->in_finally--;
            il_op(a, ILHEAP_OP_ENDFINALLY);
        }
        il_mark(a, he);
        uint32_t kind = shape == 0 ? ILHEAP_IL_CATCH : shape == 1 ? ILHEAP_IL_FILTER
                        : shape <= 3 ? ILHEAP_IL_FINALLY : ILHEAP_IL_FAULT;
        il_clause(a, kind, t, te, h, he, shape == 1 ? f : -1, TYPE);
    }
    il_mark(a, end);
}

/* One statement of a block (where: IN_*). */
static void statement(gen_t *g, int depth, int where, int *pending, int *npending, const int *back, int nback)
{
    il_asm_t *a = g->a;
    switch (below(12)) {
    case 4: { /* a forward conditional branch */
        int l = il_label(a);
        il_op(a, below(2) ? ILHEAP_OP_LDC_I4_0 : ILHEAP_OP_LDC_I4_1);
        il_br(a, ILHEAP_OP_BRTRUE, l);
        if (*npending < 8)
            pending[(*npending)++] = l;
        else
            il_mark(a, l);
        break;
    }
    case 5: /* a backward branch (a loop never taken) */
        if (nback) {
            il_op(a, ILHEAP_OP_LDC_I4_0);
            il_br(a, ILHEAP_OP_BRTRUE, back[below((uint32_t)nback)]);
        }
        break;
    case 6: { /* a switch */
        int l[3], n = 1 + (int)below(3);
        for (int k = 0; k < n; k++)
            l[k] = il_label(a);
        il_op(a, ILHEAP_OP_LDARG_0);
        il_switch(a, l, (uint32_t)n);
        for (int k = 0; k < n; k++)
            if (*npending < 8)
                pending[(*npending)++] = l[k];
            else
                il_mark(a, l[k]);
        break;
    }
    case 7:
    case 8:
        if (depth < 3)
            protected(g, depth);
        break;
    case 9: /* a ret: anywhere outside handlers, now and then in a try or catch */
        if (where == IN_NONE || ((where == IN_TRY || where == IN_CATCH) && !g->in_finally && below(4) == 0)) {
            g->ret_in_region |= where != IN_NONE;
            ret(g);
        }
        break;
    case 10:
        if (below(3) == 0) {
            il_op(a, ILHEAP_OP_LDNULL);
            il_op(a, ILHEAP_OP_THROW);
        }
        break;
    default:
        neutral(g);
        break;
    }
}

static void block(gen_t *g, int depth, int where)
{
    il_asm_t *a = g->a;
    int n = 1 + (int)below(5), pending[8], npending = 0, back[8], nback = 0;
    for (int i = 0; i < n && g->budget > 0; i++, g->budget--) {
        if (npending && below(2))
            il_mark(a, pending[--npending]);
        if (nback < 8 && below(3) == 0) {
            back[nback] = il_label(a);
            il_mark(a, back[nback++]);
        }
        statement(g, depth, where, pending, &npending, back, nback);
    }
    while (npending)
        il_mark(a, pending[--npending]);
}

/* A random body in a (assembled into *b). */
static void random_body(il_asm_t *a, gen_t *g, ilheap_il_body_t *b)
{
    il_asm_free(a);
    il_asm_init(a);
    g->a = a;
    g->returns = (int)below(2);
    g->budget = 4 + (int)below(below(8) == 0 ? 400 : 40);
    g->ret_in_region = 0;
    g->in_finally = 0;
    block(g, 0, IN_NONE);
    ret(g);
    il_asm_body(a, 8, g->returns ? 0x11000001u : 0, b);
}

/* ---- the properties --------------------------------------------------- */

static il_asm_t A;
static gen_t G;
static ilheap_il_body_t B;
static uint8_t *enc;
static size_t enc_size;
static ilheap_il_body_t out;
static ilheap_il_clause_t out_cl[256];
static unsigned body_no;
static char last_edit[160]; /* what the last random edit was, for a failure's message */

static ilheap_status_t exact(void *ctx, uint16_t opcode, uint32_t token, uint32_t *pops, uint32_t *pushes)
{
    return il_verify_test_calls(ctx, opcode, token, pops, pushes) ? ILHEAP_OK : ILHEAP_EINVAL;
}

/* Encodes rw into enc (decoded into out): the status. */
static ilheap_status_t encode(ilheap_rw_t *rw)
{
    size_t size = 0;
    ilheap_status_t st = ilheap_rw_encode(rw, NULL, 0, &size);
    if (st != ILHEAP_OK)
        return st;
    free(enc);
    enc = malloc(size);
    ASSERT_NOT_NULL(enc);
    ASSERT_EQ_U(ilheap_rw_encode(rw, enc, size, &enc_size), ILHEAP_OK);
    ASSERT_EQ_U(ilheap_il_decode(enc, enc_size, &out, out_cl, 256), ILHEAP_OK);
    return ILHEAP_OK;
}

static int32_t disp_at(const uint8_t *p, int short_form)
{
    return short_form ? (int8_t)p[0] : (int32_t)(p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24);
}

static void dump(const ilheap_il_body_t *b)
{
    for (uint32_t o = 0; o < b->code_size;) {
        uint16_t op = b->code[o] == 0xFE ? (uint16_t)(0xFE00 | b->code[o + 1]) : b->code[o];
        const ilheap_il_opinfo_t *in = ilheap_il_opinfo(op);
        uint32_t len = in->size + (uint32_t)ilheap_il_operand_size((ilheap_il_operand_t)in->operand);
        if (in->operand == ILHEAP_OPND_SWITCH)
            len += 4 * b->code[o + in->size];
        if (in->operand == ILHEAP_OPND_BRANCH8 || in->operand == ILHEAP_OPND_BRANCH32)
            fprintf(stderr, "  %4u %s -> %lld\n", o, in->name,
                    (long long)o + len + disp_at(b->code + o + in->size, in->operand == ILHEAP_OPND_BRANCH8));
        else
            fprintf(stderr, "  %4u %s\n", o, in->name);
        o += len;
    }
    for (uint32_t i = 0; i < b->clause_count; i++)
        fprintf(stderr, "  clause %u kind %u try %u+%u handler %u+%u f/c %#x\n", i, b->clauses[i].kind,
                b->clauses[i].try_offset, b->clauses[i].try_length, b->clauses[i].handler_offset,
                b->clauses[i].handler_length, b->clauses[i].filter_or_class);
}

static void verify_out(const char *what)
{
    il_verify_opts_t o = {il_verify_test_calls, NULL, G.returns};
    char msg[256];
    if (!il_verify(enc, enc_size, &o, msg, sizeof msg) && getenv("ILHEAP_WRAP_DUMP")) {
        dump(&B);
        fprintf(stderr, "after:\n");
        dump(&out);
    }
    if (!il_verify(enc, enc_size, &o, msg, sizeof msg))
        TEST_FAIL_("body %u, %s (%s): %s", body_no, what, last_edit, msg);
}

/* The instruction at code[o]: its opcode and length. */
static uint32_t insn_at(const uint8_t *code, uint32_t o, uint16_t *op, const ilheap_il_opinfo_t **in)
{
    *op = code[o] == 0xFE ? (uint16_t)(0xFE00 | code[o + 1]) : code[o];
    *in = ilheap_il_opinfo(*op);
    uint32_t len = (*in)->size + (uint32_t)ilheap_il_operand_size((ilheap_il_operand_t)(*in)->operand);
    if ((*in)->operand == ILHEAP_OPND_SWITCH)
        len += 4 * (code[o + len - 4] | code[o + len - 3] << 8 | code[o + len - 2] << 16 | (uint32_t)code[o + len - 1] << 24);
    return len;
}

/* Every original instruction (ids 0 .. n-1) but the rets: in order, the same
 * opcode (a short branch may have grown), operand and targets. */
static void check_originals(ilheap_rw_t *rw, uint32_t n)
{
    uint32_t last = 0;
    for (uint32_t id = 0; id < n; id++) {
        ilheap_rw_insn_t x;
        ASSERT_EQ_U(ilheap_rw_get(rw, id, &x), ILHEAP_OK);
        uint16_t oop;
        const ilheap_il_opinfo_t *oin, *nin;
        uint32_t olen = insn_at(B.code, x.offset, &oop, &oin);
        if (oop == ILHEAP_OP_RET)
            continue;
        uint32_t off = ilheap_rw_new_offset(rw, id), nlen;
        uint16_t nop;
        ASSERT_TRUE(off != ILHEAP_RW_NEW && (id == 0 || off > last || off == 0));
        last = off;
        nlen = insn_at(out.code, off, &nop, &nin);
        int obr = oin->operand == ILHEAP_OPND_BRANCH8 || oin->operand == ILHEAP_OPND_BRANCH32;
        if (!obr) {
            ASSERT_EQ_U(nop, oop);
            if (oin->operand != ILHEAP_OPND_SWITCH)
                ASSERT_MEM_EQ(out.code + off, B.code + x.offset, olen);
            continue;
        }
        uint16_t olong = oin->operand == ILHEAP_OPND_BRANCH8 ? (oop == ILHEAP_OP_LEAVE_S ? ILHEAP_OP_LEAVE : (uint16_t)(oop + 13)) : oop;
        uint16_t nlong = nin->operand == ILHEAP_OPND_BRANCH8 ? (nop == ILHEAP_OP_LEAVE_S ? ILHEAP_OP_LEAVE : (uint16_t)(nop + 13)) : nop;
        ASSERT_EQ_X(nlong, olong);
        int64_t t = (int64_t)off + nlen + disp_at(out.code + off + nin->size, nin->operand == ILHEAP_OPND_BRANCH8);
        ASSERT_EQ_I(t, ilheap_rw_new_offset(rw, ilheap_rw_resolve(rw, x.op.target)));
    }
}

/* The offset map: one entry per original instruction, old offsets as
 * loaded and ascending, new offsets in the code, the entry at 0. */
static void check_map(ilheap_rw_t *rw, uint32_t n)
{
    static ilheap_rw_il_map_t map[1 << 14];
    size_t count = 0;
    ASSERT_EQ_U(ilheap_rw_il_map(rw, map, 1 << 14, &count), ILHEAP_OK);
    ASSERT_EQ_U(count, n);
    for (uint32_t id = 0; id < n; id++) {
        ilheap_rw_insn_t x;
        ASSERT_EQ_U(ilheap_rw_get(rw, id, &x), ILHEAP_OK);
        ASSERT_EQ_U(map[id].old_offset, x.offset);
        ASSERT_TRUE(id == 0 || map[id].old_offset > map[id - 1].old_offset);
        ASSERT_LE_U(map[id].new_offset, out.code_size);
        ASSERT_EQ_U(map[id].new_offset, id == 0 ? 0 : ilheap_rw_new_offset(rw, ilheap_rw_resolve(rw, id)));
    }
}

static ilheap_rw_insn_t hcode[ILHEAP_RW_PROBE_MAX + 2], fcode[3];

static ilheap_rw_insn_t mk(uint16_t op)
{
    ilheap_rw_insn_t x;
    memset(&x, 0, sizeof x);
    x.opcode = op;
    x.offset = ILHEAP_RW_NEW;
    return x;
}

/* A handler of a random kind; a catch may leave to `end` when it is an
 * instruction that starts with an empty stack (not a ret of a method that
 * returns a value). */
static ilheap_rw_handler_t random_handler(ilheap_rw_t *rw, ilheap_rw_id_t end)
{
    static const uint32_t kinds[4] = {ILHEAP_IL_FINALLY, ILHEAP_IL_FAULT, ILHEAP_IL_CATCH, ILHEAP_IL_FILTER};
    ilheap_rw_handler_t h = {kinds[below(4)], TYPE, hcode, 0, NULL, 0};
    if (h.kind == ILHEAP_IL_FINALLY || h.kind == ILHEAP_IL_FAULT) {
        h.count = ilheap_rw_counter_probe(0x00007F0000001000ull + 4 * below(1000), 1, hcode);
        hcode[h.count++] = mk(ILHEAP_OP_ENDFINALLY);
        return h;
    }
    hcode[0] = mk(ILHEAP_OP_POP);
    hcode[1] = mk(ILHEAP_OP_RETHROW);
    if (end != ILHEAP_RW_END && below(2) && !(G.returns && ilheap_rw_opcode(rw, ilheap_rw_resolve(rw, end)) == ILHEAP_OP_RET)) {
        hcode[1] = mk(ILHEAP_OP_LEAVE);
        hcode[1].op.target = end;
    }
    h.count = 2;
    if (h.kind == ILHEAP_IL_FILTER) {
        fcode[0] = mk(ILHEAP_OP_POP);
        fcode[1] = mk(ILHEAP_OP_LDC_I4_1);
        fcode[2] = mk(ILHEAP_OP_ENDFILTER);
        h.filter = fcode;
        h.filter_count = 3;
    }
    return h;
}

/* A counter probe at every block start. */
static void probe_blocks(ilheap_rw_t *rw)
{
    static ilheap_rw_id_t starts[1 << 14];
    size_t n = 0;
    ASSERT_EQ_U(ilheap_rw_block_starts(rw, starts, 1 << 14, &n), ILHEAP_OK);
    ilheap_rw_insn_t p[ILHEAP_RW_PROBE_MAX];
    size_t k = ilheap_rw_counter_probe(0x00007F0000002000ull, 1, p);
    for (size_t i = 0; i < n; i++) {
        ilheap_status_t st = ilheap_rw_insert(rw, starts[i], ILHEAP_RW_BLOCK_START, p, k, NULL);
        ASSERT_TRUE(st == ILHEAP_OK || st == ILHEAP_IL_SPLIT_TAIL_CALL);
    }
}

static ilheap_rw_t *load_b(void)
{
    ilheap_rw_t *rw;
    ASSERT_EQ_U(ilheap_rw_create(&rw), ILHEAP_OK);
    ASSERT_EQ_U(ilheap_rw_load(rw, &B, NULL), ILHEAP_OK);
    return rw;
}

/* Single exit and a whole-body wrap always succeed and verify. */
static void whole_wrap(void)
{
    ilheap_rw_t *rw = load_b();
    uint32_t n = (uint32_t)ilheap_rw_count(rw);
    int probes = (int)below(3);
    if (probes == 1)
        probe_blocks(rw);
    ilheap_rw_id_t epi, bad;
    ilheap_status_t st = ilheap_rw_single_exit(rw, G.returns ? 0 : ILHEAP_RW_NO_LOCAL, 0, &epi, &bad);
    if (st != ILHEAP_OK)
        TEST_FAIL_("body %u: single exit: %s", body_no, ilheap_last_message());
    ilheap_rw_handler_t h = random_handler(rw, epi);
    st = ilheap_rw_wrap(rw, ilheap_rw_first(rw), epi, &h, NULL, &bad);
    if (st != ILHEAP_OK)
        TEST_FAIL_("body %u: wrap: %s", body_no, ilheap_last_message());
    if (probes == 2)
        probe_blocks(rw);
    st = encode(rw);
    if (st != ILHEAP_OK)
        TEST_FAIL_("body %u: encode: %s", body_no, ilheap_last_message());
    verify_out("whole-body wrap");
    ASSERT_EQ_U(out.clause_count, B.clause_count + 1);
    check_originals(rw, n);
    check_map(rw, n);
    ilheap_rw_destroy(rw);
}

/* The live instruction at a random position, or the end. */
static ilheap_rw_id_t random_id(ilheap_rw_t *rw, int end_ok)
{
    size_t k = below((uint32_t)ilheap_rw_count(rw) + (end_ok ? 1 : 0));
    ilheap_rw_id_t id = ilheap_rw_first(rw);
    while (k-- && id != ILHEAP_RW_END)
        id = ilheap_rw_next(rw, id);
    return id;
}

static int allowed_refusal(ilheap_status_t st)
{
    return st == ILHEAP_IL_CLAUSE_RANGE || st == ILHEAP_IL_EH_NESTING || st == ILHEAP_IL_EH_FLOW ||
           st == ILHEAP_IL_EH_INSTRUCTION || st == ILHEAP_IL_SPLIT_PREFIX || st == ILHEAP_IL_SPLIT_TAIL_CALL ||
           st == ILHEAP_IL_BAD_REF || st == ILHEAP_IL_STACK_MISMATCH;
}

/* One random wrap or clause: accepted and valid, or refused and unchanged. */
static int random_edit(ilheap_rw_t *rw)
{
    ASSERT_EQ_U(encode(rw), ILHEAP_OK);
    uint8_t *before = malloc(enc_size);
    ASSERT_NOT_NULL(before);
    size_t before_size = enc_size;
    memcpy(before, enc, enc_size);
    ilheap_rw_id_t a = random_id(rw, 0), b = random_id(rw, 1), bad;
    ilheap_status_t st;
    if (below(3)) {
        ilheap_rw_handler_t h = random_handler(rw, b);
        st = ilheap_rw_wrap(rw, a, b, &h, NULL, &bad);
        snprintf(last_edit, sizeof last_edit, "wrap ids %u to %u in a %s", a, b, ilheap_il_clause_kind_name(h.kind));
        if (getenv("ILHEAP_WRAP_DUMP"))
            fprintf(stderr, "edit: %s: %s\n", last_edit, ilheap_status_name(st));
    } else {
        ilheap_rw_clause_t c = {below(2) ? ILHEAP_IL_CATCH : ILHEAP_IL_FINALLY, a, b, random_id(rw, 0),
                                random_id(rw, 1), ILHEAP_RW_END, TYPE};
        st = ilheap_rw_add_clause(rw, &c, NULL, &bad);
        snprintf(last_edit, sizeof last_edit, "clause %s try %u to %u handler %u to %u",
                 ilheap_il_clause_kind_name(c.kind), a, b, c.handler_start, c.handler_end);
    }
    if (st != ILHEAP_OK) {
        if (!allowed_refusal(st))
            TEST_FAIL_("body %u: refused with %s: %s", body_no, ilheap_status_name(st), ilheap_last_message());
        ASSERT_EQ_U(encode(rw), ILHEAP_OK);
        ASSERT_EQ_U(enc_size, before_size);
        ASSERT_MEM_EQ(enc, before, before_size);
        free(before);
        return 1;
    }
    free(before);
    st = encode(rw);
    if (st == ILHEAP_IL_STACK_MISMATCH)
        return 0; /* a try starting where the stack is not empty: the simulation's refusal */
    if (st != ILHEAP_OK)
        TEST_FAIL_("body %u: encode after an accepted edit: %s", body_no, ilheap_last_message());
    verify_out("random wrap or clause");
    return 1;
}

static void random_edits(void)
{
    ilheap_rw_t *rw = load_b();
    ilheap_rw_set_stack_fn(rw, exact, NULL);
    ilheap_rw_id_t epi, bad;
    if (G.ret_in_region || below(2)) /* a ret in a try is not valid IL before it */
        ASSERT_EQ_U(ilheap_rw_single_exit(rw, G.returns ? 0 : ILHEAP_RW_NO_LOCAL, 0, &epi, &bad), ILHEAP_OK);
    for (int k = 0, n = 1 + (int)below(4); k < n; k++)
        if (!random_edit(rw))
            break;
    ilheap_rw_destroy(rw);
}

/* One random body and its properties. */
static void one_body(void)
{
    char msg[256];
    random_body(&A, &G, &B);
    il_verify_opts_t o = {il_verify_test_calls, NULL, G.returns};
    if (!G.ret_in_region && !il_verify(A.bytes, A.size, &o, msg, sizeof msg))
        TEST_FAIL_("body %u: the generated body fails the verifier: %s", body_no, msg);
    whole_wrap();
    random_edits();
}

#ifdef IL_WRAP_FUZZ
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_data = data;
    fuzz_size = size;
    fuzz_pos = 0;
    one_body();
    return 0;
}
#else
static void test_wrap_properties(void)
{
    unsigned n = count();
    rng_state = 0x243F6A8885A308D3ull;
    for (body_no = 0; body_no < n; body_no++)
        one_body();
    printf("  %u random bodies wrapped and edited\n", n);
    il_asm_free(&A);
    free(enc);
    enc = NULL;
}

TEST_MAIN(TEST(test_wrap_properties))
#endif
