/* The worked example of docs/il-rewriter.md ("a method wrapper"), compiled
 * from the page itself (tests/il/CMakeLists.txt extracts its C block) and
 * run on a method that returns a value, on a class's constructor and on a
 * method it must refuse; each wrapped body is checked by the verifier. */
#include "wrap_method.c" /* the page's code, as it stands there */

#include "il_asm.h"
#include "il_verify.h"
#include "test.h"

#define ENTER IL_TEST_CALL_ID(1, 1, 0)
#define EXIT IL_TEST_CALL_ID(2, 2, 0)
#define BASE_CTOR IL_TEST_CALL_ID(3, 2, 0)

static ilheap_status_t effect(void *ctx, uint16_t opcode, uint32_t token, uint32_t *pops, uint32_t *pushes)
{
    return il_verify_test_calls(ctx, opcode, token, pops, pushes) ? ILHEAP_OK : ILHEAP_EINVAL;
}

static int is_ctor(void *ctx, uint32_t token)
{
    (void)ctx;
    return token == BASE_CTOR;
}

static ilheap_status_t types(void *ctx, const ilheap_sig_param_t *v, uint32_t *token, int *by_ref_like)
{
    (void)ctx;
    *token = 0x01000100u | v->element;
    *by_ref_like = 0;
    return ILHEAP_OK;
}

static uint32_t sig_token(void *ctx, const uint8_t *blob, size_t size)
{
    (void)ctx;
    return blob[0] == 0x07 && size > 1 ? 0x11000009u : 0;
}

static il_asm_t A;
static ilheap_il_body_t B;

static ilheap_status_t run(const uint8_t *sig, size_t sig_size, int ctor, int returns, uint8_t **out,
                           size_t *map_count, ilheap_il_clause_t *clause)
{
    il_asm_body(&A, 8, 0, &B);
    wrap_request_t r = {&B, sig, NULL, sig_size, 0, ctor, 42, ENTER, EXIT, effect, is_ctor, types, sig_token, NULL};
    ilheap_rw_t *rw;
    ASSERT_EQ_U(ilheap_rw_create(&rw), ILHEAP_OK);
    size_t size = 0;
    ilheap_rw_il_map_t *map;
    ilheap_status_t st = wrap_method(rw, &r, out, &size, &map, map_count);
    ilheap_rw_destroy(rw);
    if (st != ILHEAP_OK)
        return st;
    il_verify_opts_t o = {il_verify_test_calls, NULL, returns};
    char msg[256];
    if (!il_verify(*out, size, &o, msg, sizeof msg))
        TEST_FAIL_("verify: %s", msg);
    ilheap_il_body_t nb;
    ilheap_il_clause_t cl[4];
    ASSERT_EQ_U(ilheap_il_decode(*out, size, &nb, cl, 4), ILHEAP_OK);
    ASSERT_EQ_U(nb.clause_count, 1);
    ASSERT_EQ_X(nb.local_sig, returns ? 0x11000009u : 0);
    *clause = cl[0];
    free(map);
    return st;
}

/* static int M(bool b) => b ? 2 : 1; */
static void test_docs_example_method(void)
{
    static const uint8_t sig[] = {0x00, 0x01, 0x08, 0x02};
    il_asm_free(&A);
    il_asm_init(&A);
    int l = il_label(&A);
    il_op(&A, ILHEAP_OP_LDARG_0);
    il_br(&A, ILHEAP_OP_BRTRUE_S, l);
    il_op(&A, ILHEAP_OP_LDC_I4_1);
    il_op(&A, ILHEAP_OP_RET);
    il_mark(&A, l);
    il_op(&A, ILHEAP_OP_LDC_I4_0 + 2);
    il_op(&A, ILHEAP_OP_RET);
    uint8_t *out;
    size_t map_count;
    ilheap_il_clause_t c;
    ASSERT_EQ_U(run(sig, sizeof sig, 0, 1, &out, &map_count, &c), ILHEAP_OK);
    ASSERT_EQ_U(map_count, 6);
    ASSERT_EQ_U(c.kind, ILHEAP_IL_FINALLY);
    ASSERT_EQ_U(c.try_offset, 9 + 5); /* after Enter: ldc.i8 id; call */
    ASSERT_EQ_U(out[12], ILHEAP_OP_LDC_I8); /* after the fat header (the body has locals now) */
    free(out);
}

/* instance void .ctor(int x) : base(x) { this.f = 5; } */
static void test_docs_example_constructor(void)
{
    static const uint8_t sig[] = {0x20, 0x01, 0x01, 0x08};
    il_asm_free(&A);
    il_asm_init(&A);
    il_op(&A, ILHEAP_OP_LDARG_0);
    il_op(&A, ILHEAP_OP_LDARG_0 + 1);
    il_opi(&A, ILHEAP_OP_CALL, BASE_CTOR);
    il_op(&A, ILHEAP_OP_LDARG_0);
    il_opi(&A, ILHEAP_OP_LDC_I4_S, 5);
    il_opi(&A, 0x7D /* stfld */, 0x04000001);
    il_op(&A, ILHEAP_OP_RET);
    uint8_t *out;
    size_t map_count;
    ilheap_il_clause_t c;
    ASSERT_EQ_U(run(sig, sizeof sig, 1, 0, &out, &map_count, &c), ILHEAP_OK);
    ASSERT_EQ_U(c.try_offset, 14 + 1 + 1 + 5); /* after Enter and the base constructor call */
    free(out);
}

/* jmp: refused, nothing returned. */
static void test_docs_example_refusal(void)
{
    static const uint8_t sig[] = {0x00, 0x00, 0x01};
    il_asm_free(&A);
    il_asm_init(&A);
    il_opi(&A, ILHEAP_OP_JMP, 0x06000002);
    uint8_t *out = (uint8_t *)1;
    size_t map_count;
    ilheap_il_clause_t c;
    ASSERT_STATUS(run(sig, sizeof sig, 0, 0, &out, &map_count, &c), ILHEAP_IL_EH_INSTRUCTION);
    ASSERT_NULL(out);
    il_asm_free(&A);
}

TEST_MAIN(TEST(test_docs_example_method), TEST(test_docs_example_constructor), TEST(test_docs_example_refusal))
