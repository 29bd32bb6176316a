/* Exception clauses, single exit and constructors (rewrite.h): wrapping
 * bodies of every shape in try/finally, try/catch and try/filter, each
 * result checked by the independent verifier (il_verify.c: ECMA-335 II.19
 * rules and the stack depth along every path), and every refusal with its
 * status, its offending instruction and an unchanged body. */
#include <stdlib.h>
#include <string.h>

#include "il_asm.h"
#include "il_verify.h"
#include "ilheap/rewrite.h"
#include "test.h"

#define LOCALS 0x11000001u /* a StandAloneSig token: the body has locals */
#define FIELD 0x04000001u  /* a field token for stfld / ldfld */
#define TYPE 0x01000002u   /* a TypeRef for catch */

/* ---- helpers ---------------------------------------------------------- */

static il_asm_t A;
static ilheap_il_body_t B;

static ilheap_status_t test_effect(void *ctx, uint16_t opcode, uint32_t token, uint32_t *pops, uint32_t *pushes)
{
    return il_verify_test_calls(ctx, opcode, token, pops, pushes) ? ILHEAP_OK : ILHEAP_EINVAL;
}

/* Assembles A into B and loads it into a new rewriter. */
static ilheap_rw_t *load_asm(uint16_t max_stack, uint32_t local_sig)
{
    il_asm_body(&A, max_stack, local_sig, &B);
    ilheap_rw_t *rw;
    ASSERT_EQ_U(ilheap_rw_create(&rw), ILHEAP_OK);
    size_t bad = 0;
    ilheap_status_t st = ilheap_rw_load(rw, &B, &bad);
    if (st != ILHEAP_OK)
        TEST_FAIL_("load: %s at %zu: %s", ilheap_status_name(st), bad, ilheap_last_message());
    return rw;
}

static uint8_t *encoded;
static size_t encoded_size;
static ilheap_il_body_t out;
static ilheap_il_clause_t out_clauses[64];

/* Encodes rw into `encoded`, decodes it into `out` and verifies it. */
static void encode_verify(ilheap_rw_t *rw, int returns)
{
    size_t size = 0;
    ilheap_status_t st = ilheap_rw_encode(rw, NULL, 0, &size);
    if (st != ILHEAP_OK)
        TEST_FAIL_("encode: %s: %s", ilheap_status_name(st), ilheap_last_message());
    free(encoded);
    encoded = malloc(size);
    ASSERT_NOT_NULL(encoded);
    ASSERT_EQ_U(ilheap_rw_encode(rw, encoded, size, &encoded_size), ILHEAP_OK);
    ASSERT_EQ_U(ilheap_il_decode(encoded, encoded_size, &out, out_clauses, 64), ILHEAP_OK);
    il_verify_opts_t o = {il_verify_test_calls, NULL, returns};
    char msg[256];
    if (!il_verify(encoded, encoded_size, &o, msg, sizeof msg))
        TEST_FAIL_("verify: %s", msg);
}

/* The bytes rw encodes to now (for "nothing changed"), in buf. */
static size_t bytes_now(ilheap_rw_t *rw, uint8_t *buf, size_t cap)
{
    size_t size = 0;
    ilheap_status_t st = ilheap_rw_encode(rw, buf, cap, &size);
    if (st != ILHEAP_OK)
        TEST_FAIL_("encode: %s: %s", ilheap_status_name(st), ilheap_last_message());
    return size;
}

/* The id of the original instruction at the offset of label l. */
static ilheap_rw_id_t id_at(ilheap_rw_t *rw, int l)
{
    uint32_t off = (uint32_t)A.label_at[l];
    for (ilheap_rw_id_t i = ilheap_rw_first(rw); i != ILHEAP_RW_END; i = ilheap_rw_next(rw, i)) {
        ilheap_rw_insn_t x;
        ilheap_rw_get(rw, i, &x);
        if (x.offset == off)
            return i;
    }
    TEST_FAIL_("no instruction at offset %u", off);
    return ILHEAP_RW_END;
}

static ilheap_rw_insn_t ins(uint16_t op, int64_t operand)
{
    ilheap_rw_insn_t x;
    memset(&x, 0, sizeof x);
    x.opcode = op;
    x.offset = ILHEAP_RW_NEW;
    x.op.i = operand;
    return x;
}

/* A finally handler: a counter probe, endfinally. */
static ilheap_rw_insn_t fin_code[ILHEAP_RW_PROBE_MAX + 1];
static ilheap_rw_handler_t finally_probe(void)
{
    size_t n = ilheap_rw_counter_probe(0x00007F0012345678ull, 1, fin_code);
    fin_code[n++] = ins(ILHEAP_OP_ENDFINALLY, 0);
    ilheap_rw_handler_t h = {ILHEAP_IL_FINALLY, 0, fin_code, n, NULL, 0};
    return h;
}

/* Counts the instructions of `out` with opcode op. */
static unsigned count_op(uint16_t op)
{
    unsigned k = 0;
    ilheap_rw_t *rw;
    ASSERT_EQ_U(ilheap_rw_create(&rw), ILHEAP_OK);
    ASSERT_EQ_U(ilheap_rw_load(rw, &out, NULL), ILHEAP_OK);
    for (ilheap_rw_id_t i = ilheap_rw_first(rw); i != ILHEAP_RW_END; i = ilheap_rw_next(rw, i))
        k += ilheap_rw_opcode(rw, i) == op;
    ilheap_rw_destroy(rw);
    return k;
}

/* Single exit, then the whole body in a try with h; verified. */
static void wrap_whole(ilheap_rw_t *rw, uint32_t ret_local, const ilheap_rw_handler_t *h, int returns)
{
    ilheap_rw_id_t epi, bad;
    ilheap_status_t st = ilheap_rw_single_exit(rw, ret_local, 0, &epi, &bad);
    if (st != ILHEAP_OK)
        TEST_FAIL_("single exit: %s: %s", ilheap_status_name(st), ilheap_last_message());
    size_t index;
    st = ilheap_rw_wrap(rw, ilheap_rw_first(rw), epi, h, &index, &bad);
    if (st != ILHEAP_OK)
        TEST_FAIL_("wrap: %s: %s", ilheap_status_name(st), ilheap_last_message());
    ASSERT_EQ_U(index, ilheap_rw_clause_count(rw) - 1); /* outermost: last */
    encode_verify(rw, returns);
}

static void begin(void)
{
    il_asm_free(&A);
    il_asm_init(&A);
}

/* ---- whole-body wrappers ---------------------------------------------- */

static void test_wrap_void_finally(void)
{
    begin();
    int l1 = il_label(&A);
    il_op(&A, ILHEAP_OP_NOP);
    il_op(&A, ILHEAP_OP_LDC_I4_1);
    il_br(&A, ILHEAP_OP_BRTRUE_S, l1);
    il_op(&A, ILHEAP_OP_NOP);
    il_op(&A, ILHEAP_OP_RET);
    il_mark(&A, l1);
    il_op(&A, ILHEAP_OP_NOP);
    il_op(&A, ILHEAP_OP_RET);
    ilheap_rw_t *rw = load_asm(8, 0);
    ilheap_rw_handler_t h = finally_probe();
    wrap_whole(rw, ILHEAP_RW_NO_LOCAL, &h, 0);
    ASSERT_EQ_U(out.clause_count, 1);
    ASSERT_EQ_U(out.clauses[0].kind, ILHEAP_IL_FINALLY);
    ASSERT_EQ_U(out.clauses[0].try_offset, 0);
    ASSERT_EQ_U(count_op(ILHEAP_OP_RET), 1);     /* the epilogue's */
    ASSERT_EQ_U(count_op(ILHEAP_OP_LEAVE_S), 2); /* each ret, out of the try */
    ASSERT_EQ_U(count_op(ILHEAP_OP_BR_S), 0);
    ASSERT_EQ_U(out.max_stack, 8);               /* the tiny body's 8: the probe's 3 fit */
    ilheap_rw_destroy(rw);
}

static void test_wrap_value_return(void)
{
    begin();
    int l1 = il_label(&A);
    il_op(&A, ILHEAP_OP_LDARG_0);
    il_br(&A, ILHEAP_OP_BRTRUE_S, l1);
    il_op(&A, ILHEAP_OP_LDC_I4_1);
    il_op(&A, ILHEAP_OP_RET);
    il_mark(&A, l1);
    il_opi(&A, ILHEAP_OP_LDC_I4_S, 7);
    il_op(&A, ILHEAP_OP_RET);
    ilheap_rw_t *rw = load_asm(1, LOCALS);
    ilheap_rw_handler_t h = finally_probe();
    wrap_whole(rw, 0, &h, 1);
    ASSERT_EQ_U(count_op(ILHEAP_OP_STLOC_0), 2);
    ASSERT_EQ_U(count_op(ILHEAP_OP_LDLOC_0), 1);
    ASSERT_EQ_U(out.max_stack, 3); /* the handler's probe peaks at 3, from an empty stack */
    ilheap_rw_destroy(rw);
}

/* A ret local past 3 and past 255: stloc.s / stloc, ldloc.s / ldloc. */
static void test_wrap_ret_local_forms(void)
{
    static const uint32_t locals[] = {3, 200, 300};
    static const uint16_t stores[] = {ILHEAP_OP_STLOC_0 + 3, ILHEAP_OP_STLOC_S, ILHEAP_OP_STLOC};
    for (int k = 0; k < 3; k++) {
        begin();
        il_op(&A, ILHEAP_OP_LDC_I4_1);
        il_op(&A, ILHEAP_OP_RET);
        ilheap_rw_t *rw = load_asm(1, LOCALS);
        ilheap_rw_handler_t h = finally_probe();
        wrap_whole(rw, locals[k], &h, 1);
        ASSERT_EQ_U(count_op(stores[k]), 1);
        ilheap_rw_destroy(rw);
    }
    begin();
    il_op(&A, ILHEAP_OP_RET);
    ilheap_rw_t *rw = load_asm(8, 0);
    ilheap_rw_id_t epi, bad;
    ASSERT_STATUS(ilheap_rw_single_exit(rw, 0xFFFF, 0, &epi, &bad), ILHEAP_IL_OVERFLOW);
    ilheap_rw_destroy(rw);
}

/* try/catch rethrowing: the handler gets the exception object (depth 1). */
static void test_wrap_catch_rethrow(void)
{
    begin();
    il_op(&A, ILHEAP_OP_LDC_I4_1);
    il_op(&A, ILHEAP_OP_RET);
    ilheap_rw_t *rw = load_asm(1, LOCALS);
    ilheap_rw_insn_t code[2] = {ins(ILHEAP_OP_CALL, 0), ins(ILHEAP_OP_RETHROW, 0)};
    code[0].op.token = IL_TEST_CALL(1, 0);
    ilheap_rw_handler_t h = {ILHEAP_IL_CATCH, TYPE, code, 2, NULL, 0};
    ilheap_rw_set_inserted_stack_fn(rw, test_effect, NULL);
    wrap_whole(rw, 0, &h, 1);
    ASSERT_EQ_U(out.clauses[0].kind, ILHEAP_IL_CATCH);
    ASSERT_EQ_X(out.clauses[0].filter_or_class, TYPE);
    ilheap_rw_destroy(rw);
}

/* try/filter: the filter's verdict, then a handler that rethrows. */
static void test_wrap_filter(void)
{
    begin();
    il_op(&A, ILHEAP_OP_NOP);
    il_op(&A, ILHEAP_OP_RET);
    ilheap_rw_t *rw = load_asm(8, 0);
    ilheap_rw_insn_t filter[3] = {ins(ILHEAP_OP_POP, 0), ins(ILHEAP_OP_LDC_I4_1, 0), ins(ILHEAP_OP_ENDFILTER, 0)};
    ilheap_rw_insn_t code[2] = {ins(ILHEAP_OP_POP, 0), ins(ILHEAP_OP_RETHROW, 0)};
    ilheap_rw_handler_t h = {ILHEAP_IL_FILTER, 0, code, 2, filter, 3};
    wrap_whole(rw, ILHEAP_RW_NO_LOCAL, &h, 0);
    ASSERT_EQ_U(out.clauses[0].kind, ILHEAP_IL_FILTER);
    ASSERT_LT_U(out.clauses[0].filter_or_class, out.clauses[0].handler_offset);
    ilheap_rw_destroy(rw);
}

/* try { nop; leave L } catch { pop; leave L } L: ret: the new finally
 * comes after the catch (outer after inner). */
static void test_wrap_existing_eh(void)
{
    begin();
    int t = il_label(&A), h = il_label(&A), he = il_label(&A), l = il_label(&A);
    il_mark(&A, t);
    il_op(&A, ILHEAP_OP_NOP);
    il_br(&A, ILHEAP_OP_LEAVE_S, l);
    il_mark(&A, h);
    il_op(&A, ILHEAP_OP_POP);
    il_br(&A, ILHEAP_OP_LEAVE_S, l);
    il_mark(&A, he);
    il_mark(&A, l);
    il_op(&A, ILHEAP_OP_RET);
    il_clause(&A, ILHEAP_IL_CATCH, t, h, h, he, -1, TYPE);
    ilheap_rw_t *rw = load_asm(8, 0);
    ilheap_rw_handler_t fin = finally_probe();
    wrap_whole(rw, ILHEAP_RW_NO_LOCAL, &fin, 0);
    ASSERT_EQ_U(out.clause_count, 2);
    ASSERT_EQ_U(out.clauses[0].kind, ILHEAP_IL_CATCH);
    ASSERT_EQ_U(out.clauses[1].kind, ILHEAP_IL_FINALLY);
    ilheap_rw_destroy(rw);
}

/* try { try { nop; leave L1 } catch { pop; leave L1 } L1: leave L2 }
 * finally { try { nop; leave F } fault { endfinally } F: endfinally } L2: ret */
static void test_wrap_nested_handlers(void)
{
    begin();
    int t1 = il_label(&A), h1 = il_label(&A), l1 = il_label(&A), f = il_label(&A), t3 = il_label(&A),
        h3 = il_label(&A), f3 = il_label(&A), fe = il_label(&A), l2 = il_label(&A);
    il_mark(&A, t1);
    il_op(&A, ILHEAP_OP_NOP);
    il_br(&A, ILHEAP_OP_LEAVE_S, l1);
    il_mark(&A, h1);
    il_op(&A, ILHEAP_OP_POP);
    il_br(&A, ILHEAP_OP_LEAVE_S, l1);
    il_mark(&A, l1);
    il_br(&A, ILHEAP_OP_LEAVE_S, l2);
    il_mark(&A, f);
    il_mark(&A, t3);
    il_op(&A, ILHEAP_OP_NOP);
    il_br(&A, ILHEAP_OP_LEAVE_S, f3);
    il_mark(&A, h3);
    il_op(&A, ILHEAP_OP_ENDFINALLY);
    il_mark(&A, f3);
    il_op(&A, ILHEAP_OP_ENDFINALLY);
    il_mark(&A, fe);
    il_mark(&A, l2);
    il_op(&A, ILHEAP_OP_RET);
    il_clause(&A, ILHEAP_IL_CATCH, t1, h1, h1, l1, -1, TYPE);
    il_clause(&A, ILHEAP_IL_FAULT, t3, h3, h3, f3, -1, 0);
    il_clause(&A, ILHEAP_IL_FINALLY, t1, f, f, fe, -1, 0);
    ilheap_rw_t *rw = load_asm(8, 0);
    ilheap_rw_handler_t fin = finally_probe();
    wrap_whole(rw, ILHEAP_RW_NO_LOCAL, &fin, 0);
    ASSERT_EQ_U(out.clause_count, 4);
    ASSERT_EQ_U(out.clauses[3].kind, ILHEAP_IL_FINALLY);
    ASSERT_EQ_U(out.clauses[3].try_offset, 0);
    ilheap_rw_destroy(rw);
}

/* A handler that ends the code: the epilogue goes after it, and the
 * handler still ends where it ended. */
static void test_wrap_handler_at_end(void)
{
    begin();
    int t = il_label(&A), r = il_label(&A), h = il_label(&A), he = il_label(&A);
    il_mark(&A, t);
    il_op(&A, ILHEAP_OP_NOP);
    il_br(&A, ILHEAP_OP_LEAVE_S, r);
    il_mark(&A, r);
    il_op(&A, ILHEAP_OP_RET);
    il_mark(&A, h);
    il_op(&A, ILHEAP_OP_POP);
    il_br(&A, ILHEAP_OP_LEAVE_S, r);
    il_mark(&A, he);
    il_clause(&A, ILHEAP_IL_CATCH, t, r, h, he, -1, TYPE);
    ilheap_rw_t *rw = load_asm(8, 0);
    ilheap_rw_handler_t fin = finally_probe();
    wrap_whole(rw, ILHEAP_RW_NO_LOCAL, &fin, 0);
    /* the catch handler: pop; leave.s (3 bytes), not the epilogue's ret */
    ASSERT_EQ_U(out.clauses[0].handler_length, 3);
    ASSERT_LT_U(out.clauses[0].handler_offset + out.clauses[0].handler_length, out.code_size);
    ilheap_rw_destroy(rw);
}

/* switch to three rets and a default. */
static void test_wrap_switch(void)
{
    begin();
    int l[3] = {il_label(&A), il_label(&A), il_label(&A)}, d = il_label(&A);
    il_op(&A, ILHEAP_OP_LDARG_0);
    il_switch(&A, l, 3);
    il_br(&A, ILHEAP_OP_BR_S, d);
    for (int k = 0; k < 3; k++) {
        il_mark(&A, l[k]);
        il_opi(&A, ILHEAP_OP_LDC_I4_S, k);
        il_op(&A, ILHEAP_OP_RET);
    }
    il_mark(&A, d);
    il_op(&A, ILHEAP_OP_LDC_I4_0);
    il_op(&A, ILHEAP_OP_RET);
    ilheap_rw_t *rw = load_asm(1, LOCALS);
    ilheap_rw_handler_t fin = finally_probe();
    wrap_whole(rw, 1, &fin, 1);
    ASSERT_EQ_U(count_op(ILHEAP_OP_LEAVE_S), 4);
    ilheap_rw_destroy(rw);
}

/* localloc may stay in a try (not in a handler). */
static void test_wrap_localloc(void)
{
    begin();
    il_opi(&A, ILHEAP_OP_LDC_I4_S, 16);
    il_op(&A, ILHEAP_OP_LOCALLOC);
    il_op(&A, ILHEAP_OP_POP);
    il_op(&A, ILHEAP_OP_RET);
    ilheap_rw_t *rw = load_asm(8, 0);
    ilheap_rw_handler_t fin = finally_probe();
    wrap_whole(rw, ILHEAP_RW_NO_LOCAL, &fin, 0);
    ilheap_rw_destroy(rw);
    /* in a handler it may not */
    begin();
    il_op(&A, ILHEAP_OP_RET);
    rw = load_asm(8, 0);
    ilheap_rw_insn_t code[4] = {ins(ILHEAP_OP_LDC_I4_1, 0), ins(ILHEAP_OP_LOCALLOC, 0), ins(ILHEAP_OP_POP, 0),
                                ins(ILHEAP_OP_ENDFINALLY, 0)};
    ilheap_rw_handler_t h = {ILHEAP_IL_FINALLY, 0, code, 4, NULL, 0};
    ilheap_rw_id_t epi, bad;
    ASSERT_EQ_U(ilheap_rw_single_exit(rw, ILHEAP_RW_NO_LOCAL, 0, &epi, &bad), ILHEAP_OK);
    ASSERT_STATUS(ilheap_rw_wrap(rw, ilheap_rw_first(rw), epi, &h, NULL, &bad), ILHEAP_IL_EH_INSTRUCTION);
    ilheap_rw_destroy(rw);
}

/* ---- refusals: status, offending instruction, nothing changed -------- */

static uint8_t before[4096], after[4096];

#define ASSERT_REFUSED(call, status, expect_bad)                                                   \
    do {                                                                                           \
        size_t n0_ = bytes_now(rw, before, sizeof before);                                         \
        ASSERT_STATUS((call), status);                                                             \
        ASSERT_EQ_U(bad, (expect_bad));                                                            \
        size_t n1_ = bytes_now(rw, after, sizeof after);                                           \
        ASSERT_EQ_U(n1_, n0_);                                                                     \
        ASSERT_MEM_EQ(after, before, n0_);                                                         \
    } while (0)

/* jmp cannot sit in a try: the wrap is refused at the jmp. */
static void test_refuse_jmp(void)
{
    begin();
    int j = il_label(&A);
    il_mark(&A, j);
    il_opi(&A, ILHEAP_OP_JMP, 0x06000001);
    ilheap_rw_t *rw = load_asm(8, 0);
    ilheap_rw_id_t epi, bad;
    ASSERT_EQ_U(ilheap_rw_single_exit(rw, ILHEAP_RW_NO_LOCAL, 0, &epi, &bad), ILHEAP_OK);
    ilheap_rw_handler_t fin = finally_probe();
    ASSERT_REFUSED(ilheap_rw_wrap(rw, ilheap_rw_first(rw), epi, &fin, NULL, &bad), ILHEAP_IL_EH_INSTRUCTION,
                   id_at(rw, j));
    ilheap_rw_destroy(rw);
}

/* tail. call; ret: refused, or the prefix dropped when asked. */
static void test_tail_call(void)
{
    begin();
    int c = il_label(&A);
    il_op(&A, ILHEAP_OP_LDARG_0);
    il_op(&A, ILHEAP_OP_TAIL);
    il_mark(&A, c);
    il_opi(&A, ILHEAP_OP_CALL, IL_TEST_CALL(1, 1));
    il_op(&A, ILHEAP_OP_RET);
    ilheap_rw_t *rw = load_asm(8, LOCALS);
    ilheap_rw_id_t epi, bad;
    ASSERT_REFUSED(ilheap_rw_single_exit(rw, 0, 0, &epi, &bad), ILHEAP_IL_SPLIT_TAIL_CALL, id_at(rw, c));
    ASSERT_EQ_U(ilheap_rw_single_exit(rw, 0, ILHEAP_RW_EXIT_DROP_TAIL, &epi, &bad), ILHEAP_OK);
    ilheap_rw_handler_t fin = finally_probe();
    ASSERT_EQ_U(ilheap_rw_wrap(rw, ilheap_rw_first(rw), epi, &fin, NULL, &bad), ILHEAP_OK);
    encode_verify(rw, 1);
    ASSERT_EQ_U(count_op(ILHEAP_OP_TAIL), 0);
    ASSERT_EQ_U(count_op(ILHEAP_OP_CALL), 1);
    ilheap_rw_destroy(rw);
}

/* A ret inside a try (which ECMA-335 forbids, and the rewriter accepts)
 * becomes stloc + leave; a ret in a finally can never be left: refused. */
static void test_ret_in_regions(void)
{
    begin();
    int t = il_label(&A), h = il_label(&A), he = il_label(&A), r = il_label(&A);
    il_mark(&A, t);
    il_op(&A, ILHEAP_OP_LDC_I4_1);
    il_op(&A, ILHEAP_OP_RET);
    il_mark(&A, h);
    il_op(&A, ILHEAP_OP_POP);
    il_br(&A, ILHEAP_OP_LEAVE_S, r);
    il_mark(&A, he);
    il_mark(&A, r);
    il_op(&A, ILHEAP_OP_LDC_I4_0 + 2);
    il_op(&A, ILHEAP_OP_RET);
    il_clause(&A, ILHEAP_IL_CATCH, t, h, h, he, -1, TYPE);
    ilheap_rw_t *rw = load_asm(8, LOCALS);
    ilheap_rw_handler_t fin = finally_probe();
    wrap_whole(rw, 0, &fin, 1);
    ASSERT_EQ_U(count_op(ILHEAP_OP_RET), 1);
    ilheap_rw_destroy(rw);

    begin();
    int t2 = il_label(&A), f = il_label(&A), fe = il_label(&A), l = il_label(&A), bad_ret = il_label(&A);
    il_mark(&A, t2);
    il_br(&A, ILHEAP_OP_LEAVE_S, l);
    il_mark(&A, f);
    il_mark(&A, bad_ret);
    il_op(&A, ILHEAP_OP_RET);
    il_mark(&A, fe);
    il_mark(&A, l);
    il_op(&A, ILHEAP_OP_RET);
    il_clause(&A, ILHEAP_IL_FINALLY, t2, f, f, fe, -1, 0);
    rw = load_asm(8, 0);
    ilheap_rw_id_t epi, bad;
    ASSERT_REFUSED(ilheap_rw_single_exit(rw, ILHEAP_RW_NO_LOCAL, 0, &epi, &bad), ILHEAP_IL_EH_INSTRUCTION,
                   id_at(rw, bad_ret));
    ilheap_rw_destroy(rw);

    /* a ret in a try inside a finally: a leave would leave the finally too */
    begin();
    int t3 = il_label(&A), f3 = il_label(&A), it = il_label(&A), ih = il_label(&A), ie = il_label(&A),
        fe3 = il_label(&A), l3 = il_label(&A), r3 = il_label(&A);
    il_mark(&A, t3);
    il_br(&A, ILHEAP_OP_LEAVE_S, l3);
    il_mark(&A, f3);
    il_mark(&A, it);
    il_mark(&A, r3);
    il_op(&A, ILHEAP_OP_RET);
    il_mark(&A, ih);
    il_op(&A, ILHEAP_OP_POP);
    il_br(&A, ILHEAP_OP_LEAVE_S, ie);
    il_mark(&A, ie);
    il_op(&A, ILHEAP_OP_ENDFINALLY);
    il_mark(&A, fe3);
    il_mark(&A, l3);
    il_op(&A, ILHEAP_OP_RET);
    il_clause(&A, ILHEAP_IL_CATCH, it, ih, ih, ie, -1, TYPE);
    il_clause(&A, ILHEAP_IL_FINALLY, t3, f3, f3, fe3, -1, 0);
    rw = load_asm(8, 0);
    ASSERT_REFUSED(ilheap_rw_single_exit(rw, ILHEAP_RW_NO_LOCAL, 0, &epi, &bad), ILHEAP_IL_EH_INSTRUCTION,
                   id_at(rw, r3));
    ilheap_rw_destroy(rw);
}

/* A clause by labels, for ilheap_rw_add_clause. */
static ilheap_rw_clause_t clause_at(ilheap_rw_t *rw, uint32_t kind, int ts, int te, int hs, int he, int fs)
{
    ilheap_rw_clause_t c = {kind, id_at(rw, ts), te < 0 ? ILHEAP_RW_END : id_at(rw, te), id_at(rw, hs),
                            he < 0 ? ILHEAP_RW_END : id_at(rw, he), fs < 0 ? ILHEAP_RW_END : id_at(rw, fs),
                            kind == ILHEAP_IL_CATCH ? TYPE : 0};
    return c;
}

/* A: nop; B: nop; C: leave.s X; H: <handler op>; H2: leave.s X; X: ret;
 * N: <tail op> (room for a new handler after the end). */
static int LA, LB, LC, LH, LH2, LX, LN;
static ilheap_rw_t *basic_body(uint16_t handler_op, uint16_t tail_op)
{
    begin();
    LA = il_label(&A), LB = il_label(&A), LC = il_label(&A), LH = il_label(&A), LH2 = il_label(&A),
    LX = il_label(&A), LN = il_label(&A);
    il_mark(&A, LA);
    il_op(&A, ILHEAP_OP_NOP);
    il_mark(&A, LB);
    il_op(&A, ILHEAP_OP_NOP);
    il_mark(&A, LC);
    il_br(&A, ILHEAP_OP_LEAVE_S, LX);
    il_mark(&A, LH);
    il_op(&A, handler_op);
    il_mark(&A, LH2);
    il_br(&A, ILHEAP_OP_LEAVE_S, LX);
    il_mark(&A, LX);
    il_op(&A, ILHEAP_OP_RET);
    il_mark(&A, LN);
    il_op(&A, tail_op);
    return load_asm(8, 0);
}

static void test_refuse_clause_shapes(void)
{
    ilheap_rw_id_t bad;
    ilheap_rw_t *rw = basic_body(ILHEAP_OP_POP, ILHEAP_OP_ENDFINALLY);
    ilheap_rw_clause_t c = clause_at(rw, ILHEAP_IL_CATCH, LA, LX, LB, LC, -1);
    ASSERT_REFUSED(ilheap_rw_add_clause(rw, &c, NULL, &bad), ILHEAP_IL_EH_NESTING, id_at(rw, LB));
    c = clause_at(rw, ILHEAP_IL_CATCH, LC, LH, LB, LC, -1); /* A falls into the handler at B */
    ASSERT_REFUSED(ilheap_rw_add_clause(rw, &c, NULL, &bad), ILHEAP_IL_EH_FLOW, id_at(rw, LA));
    c = clause_at(rw, ILHEAP_IL_CATCH, LA, LB, LH, LX, -1); /* A falls off the end of the try */
    ASSERT_REFUSED(ilheap_rw_add_clause(rw, &c, NULL, &bad), ILHEAP_IL_EH_FLOW, id_at(rw, LA));
    c = clause_at(rw, ILHEAP_IL_CATCH, LA, LX, LX, LN, -1); /* C's leave lands in the handler */
    ASSERT_REFUSED(ilheap_rw_add_clause(rw, &c, NULL, &bad), ILHEAP_IL_EH_FLOW, id_at(rw, LC));
    c = clause_at(rw, ILHEAP_IL_CATCH, LA, LH, LH, LX, -1);
    c.try_end = c.try_start; /* empty */
    ASSERT_REFUSED(ilheap_rw_add_clause(rw, &c, NULL, &bad), ILHEAP_IL_CLAUSE_RANGE, id_at(rw, LA));
    c = clause_at(rw, ILHEAP_IL_CATCH, LA, LH, LH, LX, -1);
    c.handler_start = 999999;
    ASSERT_REFUSED(ilheap_rw_add_clause(rw, &c, NULL, &bad), ILHEAP_IL_BAD_REF, ILHEAP_RW_END);
    c = clause_at(rw, ILHEAP_IL_CATCH, LA, LH, LH, LX, -1);
    c.kind = 3;
    ASSERT_REFUSED(ilheap_rw_add_clause(rw, &c, NULL, &bad), ILHEAP_IL_CLAUSE_KIND, ILHEAP_RW_END);
    /* the valid one: try [A, H), catch [H, X) */
    c = clause_at(rw, ILHEAP_IL_CATCH, LA, LH, LH, LX, -1);
    size_t index = 99;
    ASSERT_EQ_U(ilheap_rw_add_clause(rw, &c, &index, &bad), ILHEAP_OK);
    ASSERT_EQ_U(index, 0);
    /* a second catch of the same try goes after it; a finally may not share it */
    c = clause_at(rw, ILHEAP_IL_FINALLY, LA, LH, LN, -1, -1);
    ASSERT_REFUSED(ilheap_rw_add_clause(rw, &c, NULL, &bad), ILHEAP_IL_EH_NESTING, id_at(rw, LA));
    /* a clause crossing the catch's try and handler */
    c = clause_at(rw, ILHEAP_IL_FINALLY, LB, LH2, LN, -1, -1);
    ASSERT_REFUSED(ilheap_rw_add_clause(rw, &c, NULL, &bad), ILHEAP_IL_EH_NESTING, id_at(rw, LA));
    ilheap_rw_destroy(rw);
}

static void test_refuse_handler_instructions(void)
{
    ilheap_rw_id_t bad;
    ilheap_rw_t *rw = basic_body(ILHEAP_OP_ENDFINALLY, ILHEAP_OP_NOP);
    ilheap_rw_clause_t c = clause_at(rw, ILHEAP_IL_CATCH, LA, LH, LH, LH2, -1);
    ASSERT_REFUSED(ilheap_rw_add_clause(rw, &c, NULL, &bad), ILHEAP_IL_EH_INSTRUCTION, id_at(rw, LH));
    ilheap_rw_destroy(rw);
    rw = basic_body(ILHEAP_OP_RETHROW, ILHEAP_OP_NOP);
    c = clause_at(rw, ILHEAP_IL_FINALLY, LA, LH, LH, LH2, -1);
    ASSERT_REFUSED(ilheap_rw_add_clause(rw, &c, NULL, &bad), ILHEAP_IL_EH_INSTRUCTION, id_at(rw, LH));
    ilheap_rw_destroy(rw);
    rw = basic_body(ILHEAP_OP_NOP, ILHEAP_OP_NOP);
    c = clause_at(rw, ILHEAP_IL_FINALLY, LA, LH, LH, LX, -1); /* leave out of a finally */
    ASSERT_REFUSED(ilheap_rw_add_clause(rw, &c, NULL, &bad), ILHEAP_IL_EH_FLOW, id_at(rw, LH2));
    ilheap_rw_destroy(rw);
    /* a filter must end with endfilter: F = [H, H2) ends with throw */
    rw = basic_body(ILHEAP_OP_THROW, ILHEAP_OP_NOP);
    c = clause_at(rw, ILHEAP_IL_FILTER, LA, LH, LH2, LX, LH);
    ASSERT_REFUSED(ilheap_rw_add_clause(rw, &c, NULL, &bad), ILHEAP_IL_EH_INSTRUCTION, id_at(rw, LH));
    ilheap_rw_destroy(rw);
}

/* ldarg.0; brtrue.s M; A: nop; M: nop; leave.s X; H: pop; leave.s X; X: ret */
static void test_refuse_branch_into_try(void)
{
    begin();
    int a = il_label(&A), m = il_label(&A), h = il_label(&A), x = il_label(&A), br = il_label(&A);
    il_op(&A, ILHEAP_OP_LDARG_0);
    il_mark(&A, br);
    il_br(&A, ILHEAP_OP_BRTRUE_S, m);
    il_mark(&A, a);
    il_op(&A, ILHEAP_OP_NOP);
    il_mark(&A, m);
    il_op(&A, ILHEAP_OP_NOP);
    il_br(&A, ILHEAP_OP_LEAVE_S, x);
    il_mark(&A, h);
    il_op(&A, ILHEAP_OP_POP);
    il_br(&A, ILHEAP_OP_LEAVE_S, x);
    il_mark(&A, x);
    il_op(&A, ILHEAP_OP_RET);
    ilheap_rw_t *rw = load_asm(8, 0);
    ilheap_rw_id_t bad;
    ilheap_rw_clause_t c = clause_at(rw, ILHEAP_IL_CATCH, a, h, h, x, -1);
    ASSERT_REFUSED(ilheap_rw_add_clause(rw, &c, NULL, &bad), ILHEAP_IL_EH_FLOW, id_at(rw, br));
    c = clause_at(rw, ILHEAP_IL_CATCH, m, h, h, x, -1); /* entered at its start: fine */
    ASSERT_EQ_U(ilheap_rw_add_clause(rw, &c, NULL, &bad), ILHEAP_OK);
    encode_verify(rw, 0);
    ilheap_rw_destroy(rw);
}

/* A: nop; br.s X; H: pop; leave.s X; X: ret: a br out of a try. */
static void test_refuse_branch_out_of_try(void)
{
    begin();
    int a = il_label(&A), b = il_label(&A), h = il_label(&A), x = il_label(&A);
    il_mark(&A, a);
    il_op(&A, ILHEAP_OP_NOP);
    il_mark(&A, b);
    il_br(&A, ILHEAP_OP_BR_S, x);
    il_mark(&A, h);
    il_op(&A, ILHEAP_OP_POP);
    il_br(&A, ILHEAP_OP_LEAVE_S, x);
    il_mark(&A, x);
    il_op(&A, ILHEAP_OP_RET);
    ilheap_rw_t *rw = load_asm(8, 0);
    ilheap_rw_id_t bad;
    ilheap_rw_clause_t c = clause_at(rw, ILHEAP_IL_CATCH, a, h, h, x, -1);
    ASSERT_REFUSED(ilheap_rw_add_clause(rw, &c, NULL, &bad), ILHEAP_IL_EH_FLOW, id_at(rw, b));
    ilheap_rw_destroy(rw);
}

/* outer finally listed before the inner catch it holds: a clause that holds
 * the catch and lies in the finally's try has no place in that table. */
static void test_refuse_table_order(void)
{
    begin();
    int a = il_label(&A), b = il_label(&A), h = il_label(&A), l = il_label(&A), f = il_label(&A),
        x = il_label(&A);
    il_mark(&A, a);
    il_op(&A, ILHEAP_OP_NOP);
    il_mark(&A, b);
    il_op(&A, ILHEAP_OP_NOP);
    il_br(&A, ILHEAP_OP_LEAVE_S, l);
    il_mark(&A, h);
    il_op(&A, ILHEAP_OP_POP);
    il_br(&A, ILHEAP_OP_LEAVE_S, l);
    il_mark(&A, l);
    il_br(&A, ILHEAP_OP_LEAVE_S, x);
    il_mark(&A, f);
    il_op(&A, ILHEAP_OP_ENDFINALLY);
    il_mark(&A, x);
    il_op(&A, ILHEAP_OP_RET);
    il_clause(&A, ILHEAP_IL_FINALLY, a, f, f, x, -1, 0);
    il_clause(&A, ILHEAP_IL_CATCH, b, h, h, l, -1, TYPE);
    ilheap_rw_t *rw = load_asm(8, 0);
    ilheap_rw_id_t bad;
    ilheap_rw_handler_t fin = finally_probe();
    ASSERT_REFUSED(ilheap_rw_wrap(rw, id_at(rw, b), id_at(rw, l), &fin, NULL, &bad), ILHEAP_IL_EH_NESTING,
                   id_at(rw, a));
    ilheap_rw_destroy(rw);
}

/* ---- constructors ----------------------------------------------------- */

#define BASE_CTOR IL_TEST_CALL_ID(1, 2, 0)   /* Base::.ctor(int32) */
#define STRUCT_CTOR IL_TEST_CALL_ID(2, 2, 0) /* S::.ctor(int32) on a local */
#define OTHER_CALL IL_TEST_CALL_ID(3, 1, 1)

static int is_ctor(void *ctx, uint32_t token)
{
    (void)ctx;
    return token == BASE_CTOR || token == STRUCT_CTOR;
}

/* this.f = 1 (a field initializer); a struct local constructed; the base
 * constructor with a conditional argument; the body. */
static int ctor_body(int base_in_try)
{
    begin();
    int a = il_label(&A), b = il_label(&A), body = il_label(&A), t = il_label(&A), h = il_label(&A),
        x = il_label(&A);
    il_op(&A, ILHEAP_OP_LDARG_0);
    il_op(&A, ILHEAP_OP_LDC_I4_1);
    il_opi(&A, 0x7D /* stfld */, FIELD);
    il_opi(&A, 0x12 /* ldloca.s */, 0);
    il_op(&A, ILHEAP_OP_LDC_I4_1);
    il_opi(&A, ILHEAP_OP_CALL, STRUCT_CTOR);
    il_mark(&A, t);
    il_op(&A, ILHEAP_OP_LDARG_0);
    il_op(&A, ILHEAP_OP_LDARG_0 + 1);
    il_br(&A, ILHEAP_OP_BRTRUE_S, a);
    il_op(&A, ILHEAP_OP_LDC_I4_0);
    il_opi(&A, ILHEAP_OP_CALL, OTHER_CALL);
    il_br(&A, ILHEAP_OP_BR_S, b);
    il_mark(&A, a);
    il_opi(&A, ILHEAP_OP_LDC_I4_S, 4);
    il_mark(&A, b);
    il_opi(&A, ILHEAP_OP_CALL, BASE_CTOR);
    if (base_in_try) {
        il_br(&A, ILHEAP_OP_LEAVE_S, x);
        il_mark(&A, h);
        il_op(&A, ILHEAP_OP_ENDFINALLY);
        il_mark(&A, x);
        il_clause(&A, ILHEAP_IL_FINALLY, t, h, h, x, -1, 0);
    }
    il_mark(&A, body);
    il_op(&A, ILHEAP_OP_LDARG_0);
    il_opi(&A, ILHEAP_OP_LDC_I4_S, 5);
    il_opi(&A, 0x7D, FIELD);
    il_op(&A, ILHEAP_OP_RET);
    return body;
}

static void test_ctor_body_start(void)
{
    int body = ctor_body(0);
    ilheap_rw_t *rw = load_asm(8, LOCALS);
    ilheap_rw_id_t start;
    ASSERT_STATUS(ilheap_rw_ctor_body_start(rw, is_ctor, NULL, &start), ILHEAP_IL_STACK_UNKNOWN);
    ilheap_rw_set_stack_fn(rw, test_effect, NULL);
    ASSERT_EQ_U(ilheap_rw_ctor_body_start(rw, is_ctor, NULL, &start), ILHEAP_OK);
    ASSERT_EQ_U(start, id_at(rw, body));
    ilheap_rw_id_t epi, bad;
    ASSERT_EQ_U(ilheap_rw_single_exit(rw, ILHEAP_RW_NO_LOCAL, 0, &epi, &bad), ILHEAP_OK);
    ilheap_rw_handler_t fin = finally_probe();
    size_t index;
    ASSERT_EQ_U(ilheap_rw_wrap(rw, start, epi, &fin, &index, &bad), ILHEAP_OK);
    encode_verify(rw, 0);
    ASSERT_EQ_U(out.clauses[0].try_offset, (uint32_t)A.label_at[body]); /* nothing inserted before */
    ilheap_rw_destroy(rw);
}

static void test_ctor_no_base_call(void)
{
    begin(); /* a struct constructor: this.f = 1; ret */
    il_op(&A, ILHEAP_OP_LDARG_0);
    il_op(&A, ILHEAP_OP_LDC_I4_1);
    il_opi(&A, 0x7D, FIELD);
    il_op(&A, ILHEAP_OP_RET);
    ilheap_rw_t *rw = load_asm(8, 0);
    ilheap_rw_set_stack_fn(rw, test_effect, NULL);
    ilheap_rw_id_t start = 0;
    ASSERT_STATUS(ilheap_rw_ctor_body_start(rw, is_ctor, NULL, &start), ILHEAP_IL_NO_CTOR_CALL);
    ASSERT_EQ_U(start, ILHEAP_RW_END);
    ilheap_rw_destroy(rw);
    ctor_body(1); /* the base call inside a try */
    rw = load_asm(8, LOCALS);
    ilheap_rw_set_stack_fn(rw, test_effect, NULL);
    ASSERT_STATUS(ilheap_rw_ctor_body_start(rw, is_ctor, NULL, &start), ILHEAP_IL_NO_CTOR_CALL);
    ilheap_rw_destroy(rw);
}

/* ---- ranges and the stack --------------------------------------------- */

/* A range in the middle of straight code, then one inside an existing try:
 * the second clause goes before the catch that holds it. */
static void test_wrap_sub_range(void)
{
    ilheap_rw_t *rw = basic_body(ILHEAP_OP_POP, ILHEAP_OP_RET);
    ilheap_rw_clause_t c = clause_at(rw, ILHEAP_IL_CATCH, LA, LH, LH, LX, -1);
    ilheap_rw_id_t bad;
    ASSERT_EQ_U(ilheap_rw_add_clause(rw, &c, NULL, &bad), ILHEAP_OK);
    ilheap_rw_handler_t fin = finally_probe();
    size_t index = 99;
    ASSERT_EQ_U(ilheap_rw_wrap(rw, id_at(rw, LA), id_at(rw, LC), &fin, &index, &bad), ILHEAP_OK);
    ASSERT_EQ_U(index, 0);
    encode_verify(rw, 0);
    ASSERT_EQ_U(out.clause_count, 2);
    ASSERT_EQ_U(out.clauses[0].kind, ILHEAP_IL_FINALLY);
    ASSERT_EQ_U(out.clauses[0].try_length, 2 + 2); /* nop; nop; leave.s */
    ASSERT_EQ_U(count_op(ILHEAP_OP_LEAVE_S), 2 + 1); /* the body's two and the new try's */
    ilheap_rw_destroy(rw);
}

/* A handler that calls: the safe bound needs the inserted-code callback
 * (else STACK_UNKNOWN at encode); the exact simulation needs none. */
static void test_wrap_stack_bounds(void)
{
    ilheap_rw_insn_t code[4] = {ins(ILHEAP_OP_LDC_I4_1, 0), ins(ILHEAP_OP_LDC_I4_1, 0), ins(ILHEAP_OP_CALL, 0),
                                ins(ILHEAP_OP_ENDFINALLY, 0)};
    code[2].op.token = IL_TEST_CALL(2, 0);
    ilheap_rw_handler_t h = {ILHEAP_IL_FINALLY, 0, code, 4, NULL, 0};
    for (int mode = 0; mode < 3; mode++) {
        begin();
        il_op(&A, ILHEAP_OP_RET);
        ilheap_rw_t *rw = load_asm(0, LOCALS);
        if (mode == 1)
            ilheap_rw_set_inserted_stack_fn(rw, test_effect, NULL);
        if (mode == 2)
            ilheap_rw_set_stack_fn(rw, test_effect, NULL);
        ilheap_rw_id_t epi, bad;
        ASSERT_EQ_U(ilheap_rw_single_exit(rw, ILHEAP_RW_NO_LOCAL, 0, &epi, &bad), ILHEAP_OK);
        ASSERT_EQ_U(ilheap_rw_wrap(rw, ilheap_rw_first(rw), epi, &h, NULL, &bad), ILHEAP_OK);
        uint32_t max = 0;
        ASSERT_STATUS(ilheap_rw_max_stack(rw, &max), mode == 0 ? ILHEAP_IL_STACK_UNKNOWN : ILHEAP_OK);
        if (mode != 0) {
            ASSERT_EQ_U(max, 2);
            encode_verify(rw, 0);
        }
        ilheap_rw_destroy(rw);
    }
    /* handler code that pops what is not there */
    begin();
    il_op(&A, ILHEAP_OP_RET);
    ilheap_rw_t *rw = load_asm(8, 0);
    ilheap_rw_insn_t pop2[3] = {ins(ILHEAP_OP_POP, 0), ins(ILHEAP_OP_POP, 0), ins(ILHEAP_OP_RETHROW, 0)};
    ilheap_rw_handler_t hc = {ILHEAP_IL_CATCH, TYPE, pop2, 3, NULL, 0};
    ilheap_rw_id_t epi, bad;
    ASSERT_EQ_U(ilheap_rw_single_exit(rw, ILHEAP_RW_NO_LOCAL, 0, &epi, &bad), ILHEAP_OK);
    ASSERT_REFUSED(ilheap_rw_wrap(rw, ilheap_rw_first(rw), epi, &hc, NULL, &bad), ILHEAP_IL_STACK_MISMATCH,
                   ILHEAP_RW_END);
    hc.count = 1; /* pop alone does not end a catch handler */
    ASSERT_REFUSED(ilheap_rw_wrap(rw, ilheap_rw_first(rw), epi, &hc, NULL, &bad), ILHEAP_IL_EH_INSTRUCTION,
                   ILHEAP_RW_END);
    ilheap_rw_destroy(rw);
}

/* ---- the old-to-new offset map ---------------------------------------- */

static void test_il_map(void)
{
    begin();
    int l = il_label(&A), n2 = il_label(&A), r = il_label(&A);
    il_op(&A, ILHEAP_OP_NOP);                /* 0 */
    il_op(&A, ILHEAP_OP_LDARG_0);            /* 1 */
    il_br(&A, ILHEAP_OP_BRTRUE_S, l);        /* 2 */
    il_mark(&A, n2);
    il_op(&A, ILHEAP_OP_NOP);                /* 4 */
    il_mark(&A, l);
    il_mark(&A, r);
    il_op(&A, ILHEAP_OP_RET);                /* 5 */
    ilheap_rw_t *rw = load_asm(8, 0);
    ilheap_rw_il_map_t map[8];
    size_t count = 99;
    ASSERT_STATUS(ilheap_rw_il_map(rw, map, 8, &count), ILHEAP_EINVAL); /* before an encode */
    ilheap_rw_insn_t p[ILHEAP_RW_PROBE_MAX];
    size_t k = ilheap_rw_counter_probe(0x1000, 1, p);
    ASSERT_EQ_U(ilheap_rw_insert(rw, ilheap_rw_first(rw), ILHEAP_RW_BEFORE, p, k, NULL), ILHEAP_OK);
    ASSERT_EQ_U(ilheap_rw_insert(rw, id_at(rw, l), ILHEAP_RW_BLOCK_START, p, k, NULL), ILHEAP_OK);
    ASSERT_EQ_U(ilheap_rw_remove(rw, id_at(rw, n2)), ILHEAP_OK);
    ilheap_rw_set_stack_fn(rw, test_effect, NULL);
    encode_verify(rw, 0);
    ASSERT_STATUS(ilheap_rw_il_map(rw, NULL, 0, &count), ILHEAP_IL_DEST_TOO_SMALL);
    ASSERT_EQ_U(count, 5);
    ASSERT_EQ_U(ilheap_rw_il_map(rw, map, 8, &count), ILHEAP_OK);
    static const uint32_t old[5] = {0, 1, 2, 4, 5};
    for (size_t i = 0; i < 5; i++)
        ASSERT_EQ_U(map[i].old_offset, old[i]);
    ASSERT_EQ_U(map[0].new_offset, 0);                 /* the entry probe counts as the entry's */
    ASSERT_EQ_U(map[1].new_offset, 15 + 1);            /* after the probe and the nop */
    ASSERT_EQ_U(map[2].new_offset, 15 + 2);
    ASSERT_EQ_U(map[3].new_offset, 15 + 4);            /* removed: what followed, the probe at l */
    ASSERT_EQ_U(map[4].new_offset, 15 + 4);            /* the probe at l's block start */
    ASSERT_EQ_U(ilheap_rw_new_offset(rw, id_at(rw, r)), 15 + 4 + 15);
    ASSERT_EQ_I(map[0].accurate, 1);
    ASSERT_EQ_I(map[3].accurate, 0);
    ASSERT_EQ_I(map[4].accurate, 1);
    /* the brtrue.s's target in the new code is the probe, as the map says */
    ASSERT_EQ_U(out.code[map[2].new_offset], ILHEAP_OP_BRTRUE_S);
    ASSERT_EQ_U(map[2].new_offset + 2 + (int8_t)out.code[map[2].new_offset + 1], map[4].new_offset);
    ilheap_rw_destroy(rw);

    /* after a single exit and a wrap, the ret maps to its store, not accurate */
    begin();
    il_op(&A, ILHEAP_OP_LDC_I4_1);
    il_op(&A, ILHEAP_OP_RET);
    rw = load_asm(1, LOCALS);
    ilheap_rw_handler_t fin = finally_probe();
    wrap_whole(rw, 0, &fin, 1);
    ASSERT_EQ_U(ilheap_rw_il_map(rw, map, 8, &count), ILHEAP_OK);
    ASSERT_EQ_U(count, 2);
    ASSERT_EQ_U(map[1].old_offset, 1);
    ASSERT_EQ_U(out.code[map[1].new_offset], ILHEAP_OP_STLOC_0);
    ASSERT_EQ_I(map[0].accurate, 1);
    ASSERT_EQ_I(map[1].accurate, 0);
    ilheap_rw_destroy(rw);
}

static void cleanup(void)
{
    il_asm_free(&A);
    free(encoded);
    encoded = NULL;
}

TEST_MAIN(TEST(test_wrap_void_finally), TEST(test_wrap_value_return), TEST(test_wrap_ret_local_forms),
          TEST(test_wrap_catch_rethrow), TEST(test_wrap_filter), TEST(test_wrap_existing_eh),
          TEST(test_wrap_nested_handlers), TEST(test_wrap_handler_at_end), TEST(test_wrap_switch),
          TEST(test_wrap_localloc), TEST(test_refuse_jmp), TEST(test_tail_call), TEST(test_ret_in_regions),
          TEST(test_refuse_clause_shapes), TEST(test_refuse_handler_instructions),
          TEST(test_refuse_branch_into_try), TEST(test_refuse_branch_out_of_try), TEST(test_refuse_table_order),
          TEST(test_ctor_body_start), TEST(test_ctor_no_base_call), TEST(test_wrap_sub_range),
          TEST(test_wrap_stack_bounds), TEST(test_il_map), TEST(cleanup))
