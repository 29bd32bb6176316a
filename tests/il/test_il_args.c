/* Arguments, return values and locals from decoded signatures (rewrite.h):
 * the loads of every kind of parameter as it is, through its byref and
 * boxed; `this` of classes and structs; by-ref-like and TypedReference
 * values; the stack effect of calls; a local of the return type; and a
 * tracer's whole wrapper (entry with boxed arguments, exit with the boxed
 * return value in a finally) checked by the verifier. */
#include <stdlib.h>
#include <string.h>

#include "il_asm.h"
#include "il_verify.h"
#include "ilheap/rewrite.h"
#include "ilheap/sig.h"
#include "test.h"

#define SPAN 0x01000001u /* TypeRef rows of the blobs below */
#define LIST 0x01000002u
#define KVP 0x01000003u
#define STRUCT_THIS 0x02000005u
#define REF_STRUCT_THIS 0x02000006u
#define TYPESPEC(offset) (0x1B000000u | ((offset) + 1u))
#define PRIMITIVE(e) (0x01000100u | (e))

static uint8_t arena_mem[1 << 16];

static ilheap_sig_t decode(ilheap_sig_kind_t kind, const uint8_t *blob, size_t size)
{
    ilheap_sig_arena_t arena = {arena_mem, sizeof arena_mem, 0};
    ilheap_sig_t sig;
    ilheap_sig_error_t err;
    ilheap_status_t st = ilheap_sig_decode(kind, blob, size, 0, &arena, &sig, &err);
    if (st != ILHEAP_OK)
        TEST_FAIL_("decode: %s", err.message);
    return sig;
}

/* Tokens as a profiler would make them: a value type's own, a TypeSpec per
 * blob offset for instantiations and generic parameters, a TypeRef per
 * primitive; Span<T> and the ref struct are by-ref-like. */
static ilheap_status_t types(void *ctx, const ilheap_sig_param_t *v, uint32_t *token, int *by_ref_like)
{
    (void)ctx;
    *by_ref_like = v->token == SPAN || v->token == REF_STRUCT_THIS;
    if (v->element == ILHEAP_ET_VALUETYPE)
        *token = v->token;
    else if (v->element == ILHEAP_ET_GENERICINST || v->element == ILHEAP_ET_VAR || v->element == ILHEAP_ET_MVAR)
        *token = TYPESPEC(v->offset);
    else if (v->element == ILHEAP_ET_PTR || v->element == ILHEAP_ET_FNPTR)
        *token = PRIMITIVE(ILHEAP_ET_I);
    else
        *token = PRIMITIVE(v->element);
    return ILHEAP_OK;
}

/* Checks out[0 .. n) against the expected opcodes and operands. */
static void expect(const ilheap_rw_insn_t *out, size_t n, const uint16_t *ops, const int64_t *operands, size_t m)
{
    ASSERT_EQ_U(n, m);
    for (size_t k = 0; k < m; k++) {
        ASSERT_EQ_X(out[k].opcode, ops[k]);
        const ilheap_il_opinfo_t *in = ilheap_il_opinfo(out[k].opcode);
        if (in->operand == ILHEAP_OPND_TOKEN)
            ASSERT_EQ_X(out[k].op.token, (uint32_t)operands[k]);
        else if (in->operand != ILHEAP_OPND_NONE)
            ASSERT_EQ_I(out[k].op.i, operands[k]);
    }
}

#define EXPECT(out, n, ...)                                                                        \
    do {                                                                                           \
        static const struct {                                                                      \
            uint16_t op;                                                                           \
            int64_t v;                                                                             \
        } e_[] = {__VA_ARGS__};                                                                    \
        uint16_t ops_[8];                                                                          \
        int64_t vs_[8];                                                                            \
        for (size_t i_ = 0; i_ < sizeof e_ / sizeof e_[0]; i_++) {                                 \
            ops_[i_] = e_[i_].op;                                                                  \
            vs_[i_] = e_[i_].v;                                                                    \
        }                                                                                          \
        expect(out, n, ops_, vs_, sizeof e_ / sizeof e_[0]);                                       \
    } while (0)

/* static void M<T>(int, string, ref int, T, Span<int>, List<int>,
 * KeyValuePair<int, int>, int*, TypedReference) */
static const uint8_t STATIC_SIG[] = {0x10, 0x01, 0x09, 0x01, 0x08, 0x0E, 0x10, 0x08, 0x1E, 0x00,
                                     0x15, 0x11, 0x05, 0x01, 0x08, 0x15, 0x12, 0x09, 0x01, 0x08,
                                     0x15, 0x11, 0x0D, 0x02, 0x08, 0x08, 0x0F, 0x08, 0x16};

static void test_load_static_args(void)
{
    ilheap_sig_t sig = decode(ILHEAP_SIG_METHOD_DEF, STATIC_SIG, sizeof STATIC_SIG);
    ilheap_rw_method_t m = {&sig, 0, types, NULL};
    ilheap_rw_insn_t out[ILHEAP_RW_LOAD_MAX];
    size_t n;
    ASSERT_EQ_U(ilheap_rw_arg_count(&sig), 9);
#define LOAD(arg, flags) ASSERT_EQ_U(ilheap_rw_load_arg(&m, arg, flags, out, &n), ILHEAP_OK)
    LOAD(0, ILHEAP_RW_LOAD_BOX);
    EXPECT(out, n, {ILHEAP_OP_LDARG_0, 0}, {ILHEAP_OP_BOX, PRIMITIVE(ILHEAP_ET_I4)});
    LOAD(1, ILHEAP_RW_LOAD_BOX);
    EXPECT(out, n, {ILHEAP_OP_LDARG_0 + 1, 0});
    LOAD(2, 0);
    EXPECT(out, n, {ILHEAP_OP_LDARG_0 + 2, 0});
    LOAD(2, ILHEAP_RW_LOAD_VALUE);
    EXPECT(out, n, {ILHEAP_OP_LDARG_0 + 2, 0}, {ILHEAP_OP_LDOBJ, PRIMITIVE(ILHEAP_ET_I4)});
    LOAD(2, ILHEAP_RW_LOAD_BOX);
    EXPECT(out, n, {ILHEAP_OP_LDARG_0 + 2, 0}, {ILHEAP_OP_LDOBJ, PRIMITIVE(ILHEAP_ET_I4)},
           {ILHEAP_OP_BOX, PRIMITIVE(ILHEAP_ET_I4)});
    LOAD(3, ILHEAP_RW_LOAD_BOX); /* T: boxed by its TypeSpec (a no-op for references) */
    EXPECT(out, n, {ILHEAP_OP_LDARG_0 + 3, 0}, {ILHEAP_OP_BOX, TYPESPEC(8)});
    LOAD(4, ILHEAP_RW_LOAD_BOX); /* Span<int>: never boxed */
    EXPECT(out, n, {ILHEAP_OP_LDNULL, 0});
    LOAD(4, 0);
    EXPECT(out, n, {ILHEAP_OP_LDARG_S, 4});
    LOAD(5, ILHEAP_RW_LOAD_BOX); /* List<int>: a reference */
    EXPECT(out, n, {ILHEAP_OP_LDARG_S, 5});
    LOAD(6, ILHEAP_RW_LOAD_BOX);
    EXPECT(out, n, {ILHEAP_OP_LDARG_S, 6}, {ILHEAP_OP_BOX, TYPESPEC(20)});
    LOAD(7, ILHEAP_RW_LOAD_BOX); /* int*: as a native int */
    EXPECT(out, n, {ILHEAP_OP_LDARG_S, 7}, {ILHEAP_OP_BOX, PRIMITIVE(ILHEAP_ET_I)});
    LOAD(8, ILHEAP_RW_LOAD_BOX); /* TypedReference */
    EXPECT(out, n, {ILHEAP_OP_LDNULL, 0});
#undef LOAD
    ASSERT_STATUS(ilheap_rw_load_arg(&m, 9, 0, out, &n), ILHEAP_EINVAL);
    m.type_fn = NULL; /* boxing a value type needs the callback; a string does not */
    ASSERT_STATUS(ilheap_rw_load_arg(&m, 0, ILHEAP_RW_LOAD_BOX, out, &n), ILHEAP_EINVAL);
    ASSERT_EQ_U(ilheap_rw_load_arg(&m, 1, ILHEAP_RW_LOAD_BOX, out, &n), ILHEAP_OK);
}

/* instance void M(int): `this` first; with 300 parameters, ldarg. */
static void test_load_this_and_wide(void)
{
    static const uint8_t inst[] = {0x20, 0x01, 0x01, 0x08};
    ilheap_sig_t sig = decode(ILHEAP_SIG_METHOD_DEF, inst, sizeof inst);
    ilheap_rw_method_t m = {&sig, 0, types, NULL};
    ilheap_rw_insn_t out[ILHEAP_RW_LOAD_MAX];
    size_t n;
    ASSERT_EQ_U(ilheap_rw_arg_count(&sig), 2);
    ASSERT_EQ_U(ilheap_rw_load_arg(&m, 0, ILHEAP_RW_LOAD_BOX, out, &n), ILHEAP_OK);
    EXPECT(out, n, {ILHEAP_OP_LDARG_0, 0}); /* a class's this: an object already */
    ASSERT_EQ_U(ilheap_rw_load_arg(&m, 1, ILHEAP_RW_LOAD_BOX, out, &n), ILHEAP_OK);
    EXPECT(out, n, {ILHEAP_OP_LDARG_0 + 1, 0}, {ILHEAP_OP_BOX, PRIMITIVE(ILHEAP_ET_I4)});
    m.this_type = STRUCT_THIS; /* a struct's this: a byref to it */
    ASSERT_EQ_U(ilheap_rw_load_arg(&m, 0, ILHEAP_RW_LOAD_BOX, out, &n), ILHEAP_OK);
    EXPECT(out, n, {ILHEAP_OP_LDARG_0, 0}, {ILHEAP_OP_LDOBJ, STRUCT_THIS}, {ILHEAP_OP_BOX, STRUCT_THIS});
    ASSERT_EQ_U(ilheap_rw_load_arg(&m, 0, ILHEAP_RW_LOAD_VALUE, out, &n), ILHEAP_OK);
    EXPECT(out, n, {ILHEAP_OP_LDARG_0, 0}, {ILHEAP_OP_LDOBJ, STRUCT_THIS});
    m.this_type = REF_STRUCT_THIS;
    ASSERT_EQ_U(ilheap_rw_load_arg(&m, 0, ILHEAP_RW_LOAD_BOX, out, &n), ILHEAP_OK);
    EXPECT(out, n, {ILHEAP_OP_LDNULL, 0});
    /* EXPLICITTHIS: this is params[0], not one more */
    static const uint8_t expl[] = {0x60, 0x01, 0x01, 0x12, 0x09};
    sig = decode(ILHEAP_SIG_METHOD_DEF, expl, sizeof expl);
    ASSERT_EQ_U(ilheap_rw_arg_count(&sig), 1);
    /* 300 int parameters */
    static uint8_t wide[4 + 300];
    wide[0] = 0x00;
    wide[1] = 0x81;
    wide[2] = 0x2C; /* 300, compressed */
    wide[3] = 0x01;
    memset(wide + 4, 0x08, 300);
    sig = decode(ILHEAP_SIG_METHOD_DEF, wide, sizeof wide);
    m.sig = &sig;
    ASSERT_EQ_U(ilheap_rw_load_arg(&m, 299, 0, out, &n), ILHEAP_OK);
    EXPECT(out, n, {ILHEAP_OP_LDARG, 299});
    ASSERT_EQ_U(ilheap_rw_load_arg(&m, 255, 0, out, &n), ILHEAP_OK);
    EXPECT(out, n, {ILHEAP_OP_LDARG_S, 255});
    ASSERT_EQ_U(ilheap_rw_load_arg(&m, 256, 0, out, &n), ILHEAP_OK);
    EXPECT(out, n, {ILHEAP_OP_LDARG, 256});
}

static void test_load_return(void)
{
    ilheap_rw_insn_t out[ILHEAP_RW_LOAD_MAX];
    size_t n;
    static const uint8_t ret_int[] = {0x00, 0x00, 0x08}, ret_ref[] = {0x00, 0x00, 0x10, 0x08},
                         ret_void[] = {0x00, 0x00, 0x01}, ret_span[] = {0x00, 0x00, 0x15, 0x11, 0x05, 0x01, 0x08},
                         ret_obj[] = {0x00, 0x00, 0x1C};
    ilheap_sig_t sig = decode(ILHEAP_SIG_METHOD_DEF, ret_int, sizeof ret_int);
    ilheap_rw_method_t m = {&sig, 0, types, NULL};
    ASSERT_EQ_U(ilheap_rw_load_return(&m, 3, ILHEAP_RW_LOAD_BOX, out, &n), ILHEAP_OK);
    EXPECT(out, n, {ILHEAP_OP_LDLOC_0 + 3, 0}, {ILHEAP_OP_BOX, PRIMITIVE(ILHEAP_ET_I4)});
    sig = decode(ILHEAP_SIG_METHOD_DEF, ret_ref, sizeof ret_ref);
    ASSERT_EQ_U(ilheap_rw_load_return(&m, 300, ILHEAP_RW_LOAD_BOX, out, &n), ILHEAP_OK);
    EXPECT(out, n, {ILHEAP_OP_LDLOC, 300}, {ILHEAP_OP_LDOBJ, PRIMITIVE(ILHEAP_ET_I4)},
           {ILHEAP_OP_BOX, PRIMITIVE(ILHEAP_ET_I4)});
    ASSERT_EQ_U(ilheap_rw_load_return(&m, 4, 0, out, &n), ILHEAP_OK);
    EXPECT(out, n, {ILHEAP_OP_LDLOC_S, 4});
    sig = decode(ILHEAP_SIG_METHOD_DEF, ret_void, sizeof ret_void);
    ASSERT_EQ_U(ilheap_rw_load_return(&m, 0, 0, out, &n), ILHEAP_OK);
    ASSERT_EQ_U(n, 0);
    ASSERT_EQ_U(ilheap_rw_load_return(&m, 0, ILHEAP_RW_LOAD_BOX, out, &n), ILHEAP_OK);
    EXPECT(out, n, {ILHEAP_OP_LDNULL, 0});
    sig = decode(ILHEAP_SIG_METHOD_DEF, ret_span, sizeof ret_span);
    ASSERT_EQ_U(ilheap_rw_load_return(&m, 1, ILHEAP_RW_LOAD_BOX, out, &n), ILHEAP_OK);
    EXPECT(out, n, {ILHEAP_OP_LDNULL, 0});
    ASSERT_EQ_U(ilheap_rw_load_return(&m, 1, 0, out, &n), ILHEAP_OK);
    EXPECT(out, n, {ILHEAP_OP_LDLOC_0 + 1, 0});
    sig = decode(ILHEAP_SIG_METHOD_DEF, ret_obj, sizeof ret_obj);
    ASSERT_EQ_U(ilheap_rw_load_return(&m, 1, ILHEAP_RW_LOAD_BOX, out, &n), ILHEAP_OK);
    EXPECT(out, n, {ILHEAP_OP_LDLOC_0 + 1, 0});
    ASSERT_STATUS(ilheap_rw_load_return(&m, 0xFFFF, 0, out, &n), ILHEAP_IL_OVERFLOW);
}

static void test_call_effect(void)
{
    uint32_t pops, pushes;
    static const uint8_t st2[] = {0x00, 0x02, 0x08, 0x08, 0x08}, inst1[] = {0x20, 0x01, 0x01, 0x08},
                         vararg[] = {0x05, 0x03, 0x01, 0x08, 0x41, 0x08, 0x0E}, retref[] = {0x00, 0x00, 0x10, 0x1C};
    ilheap_sig_t sig = decode(ILHEAP_SIG_METHOD_DEF, st2, sizeof st2);
    ASSERT_EQ_U(ilheap_rw_call_effect(&sig, ILHEAP_OP_CALL, &pops, &pushes), ILHEAP_OK);
    ASSERT_EQ_U(pops, 2);
    ASSERT_EQ_U(pushes, 1);
    ASSERT_EQ_U(ilheap_rw_call_effect(&sig, ILHEAP_OP_CALLI, &pops, &pushes), ILHEAP_OK);
    ASSERT_EQ_U(pops, 3);
    sig = decode(ILHEAP_SIG_METHOD_DEF, inst1, sizeof inst1);
    ASSERT_EQ_U(ilheap_rw_call_effect(&sig, ILHEAP_OP_CALLVIRT, &pops, &pushes), ILHEAP_OK);
    ASSERT_EQ_U(pops, 2);
    ASSERT_EQ_U(pushes, 0);
    ASSERT_EQ_U(ilheap_rw_call_effect(&sig, ILHEAP_OP_NEWOBJ, &pops, &pushes), ILHEAP_OK);
    ASSERT_EQ_U(pops, 1);
    ASSERT_EQ_U(pushes, 1);
    sig = decode(ILHEAP_SIG_METHOD_REF, vararg, sizeof vararg); /* vararg void(int, ..., int, string) */
    ASSERT_EQ_U(ilheap_rw_call_effect(&sig, ILHEAP_OP_CALL, &pops, &pushes), ILHEAP_OK);
    ASSERT_EQ_U(pops, 3);
    sig = decode(ILHEAP_SIG_METHOD_DEF, retref, sizeof retref); /* ref object M() */
    ASSERT_EQ_U(ilheap_rw_call_effect(&sig, ILHEAP_OP_CALL, &pops, &pushes), ILHEAP_OK);
    ASSERT_EQ_U(pushes, 1);
    ASSERT_STATUS(ilheap_rw_call_effect(&sig, ILHEAP_OP_NOP, &pops, &pushes), ILHEAP_EINVAL);
}

static void test_locals_append_type(void)
{
    static const uint8_t retref[] = {0x00, 0x00, 0x10, 0x08}; /* ref int M() */
    static const uint8_t locals[] = {0x07, 0x02, 0x08, 0x0E}; /* (int, string) */
    ilheap_sig_t sig = decode(ILHEAP_SIG_METHOD_DEF, retref, sizeof retref);
    uint8_t *out = NULL;
    size_t size = 0;
    uint32_t index = 99;
    ASSERT_EQ_U(ilheap_rw_locals_append_type(locals, sizeof locals, sig.ret.type, &out, &size, &index), ILHEAP_OK);
    static const uint8_t want[] = {0x07, 0x03, 0x08, 0x0E, 0x10, 0x08};
    ASSERT_EQ_U(size, sizeof want);
    ASSERT_MEM_EQ(out, want, sizeof want);
    ASSERT_EQ_U(index, 2);
    free(out);
    ASSERT_EQ_U(ilheap_rw_locals_append_type(NULL, 0, sig.ret.type, &out, &size, &index), ILHEAP_OK);
    ASSERT_EQ_U(size, 4);
    ASSERT_EQ_U(index, 0);
    free(out);
}

static ilheap_status_t test_effect(void *ctx, uint16_t opcode, uint32_t token, uint32_t *pops, uint32_t *pushes)
{
    return il_verify_test_calls(ctx, opcode, token, pops, pushes) ? ILHEAP_OK : ILHEAP_EINVAL;
}

/* A tracer's wrapper on `static ref int Get(ref int a, string s, T t) =>
 * ref a;` (generic over T): OnEntry(object, object, object) with the boxed
 * arguments before a try, the body with one exit, OnExit(object) with the
 * boxed value the ref return points to in the finally. */
static void test_tracer_wrapper(void)
{
    static const uint8_t msig[] = {0x10, 0x01, 0x03, 0x10, 0x08, 0x10, 0x08, 0x0E, 0x1E, 0x00};
    ilheap_sig_t sig = decode(ILHEAP_SIG_METHOD_DEF, msig, sizeof msig);
    ilheap_rw_method_t m = {&sig, 0, types, NULL};
    il_asm_t a;
    il_asm_init(&a);
    il_op(&a, ILHEAP_OP_LDARG_0);
    il_op(&a, ILHEAP_OP_RET);
    ilheap_il_body_t body;
    il_asm_body(&a, 1, 0, &body);
    ilheap_rw_t *rw;
    ASSERT_EQ_U(ilheap_rw_create(&rw), ILHEAP_OK);
    ASSERT_EQ_U(ilheap_rw_load(rw, &body, NULL), ILHEAP_OK);
    ilheap_rw_set_inserted_stack_fn(rw, test_effect, NULL);
    /* the return local */
    uint8_t *locals;
    size_t locals_size;
    uint32_t ret_local;
    ASSERT_EQ_U(ilheap_rw_locals_append_type(NULL, 0, sig.ret.type, &locals, &locals_size, &ret_local), ILHEAP_OK);
    free(locals); /* a profiler: IMetaDataEmit::GetTokenFromSig(locals) */
    ilheap_rw_set_locals(rw, 0x11000002u, 1);
    ilheap_rw_id_t epi, bad;
    ASSERT_EQ_U(ilheap_rw_single_exit(rw, ret_local, 0, &epi, &bad), ILHEAP_OK);
    /* finally { OnExit((object)ret); } */
    ilheap_rw_insn_t fin[ILHEAP_RW_LOAD_MAX + 2];
    size_t n = 0, k;
    ASSERT_EQ_U(ilheap_rw_load_return(&m, ret_local, ILHEAP_RW_LOAD_BOX, fin, &n), ILHEAP_OK);
    memset(&fin[n], 0, 2 * sizeof fin[0]);
    fin[n].opcode = ILHEAP_OP_CALL;
    fin[n++].op.token = IL_TEST_CALL_ID(7, 1, 0);
    fin[n++].opcode = ILHEAP_OP_ENDFINALLY;
    ilheap_rw_handler_t h = {ILHEAP_IL_FINALLY, 0, fin, n, NULL, 0};
    ilheap_rw_id_t first = ilheap_rw_first(rw);
    ASSERT_EQ_U(ilheap_rw_wrap(rw, first, epi, &h, NULL, &bad), ILHEAP_OK);
    /* OnEntry(a, s, t) before the try */
    ilheap_rw_insn_t entry[3 * ILHEAP_RW_LOAD_MAX + 1];
    n = 0;
    for (uint32_t arg = 0; arg < ilheap_rw_arg_count(&sig); arg++, n += k)
        ASSERT_EQ_U(ilheap_rw_load_arg(&m, arg, ILHEAP_RW_LOAD_BOX, entry + n, &k), ILHEAP_OK);
    memset(&entry[n], 0, sizeof entry[n]);
    entry[n].opcode = ILHEAP_OP_CALL;
    entry[n++].op.token = IL_TEST_CALL_ID(8, 3, 0);
    ASSERT_EQ_U(ilheap_rw_insert(rw, first, ILHEAP_RW_BEFORE, entry, n, NULL), ILHEAP_OK);
    size_t size;
    ASSERT_EQ_U(ilheap_rw_encode(rw, NULL, 0, &size), ILHEAP_OK);
    uint8_t *enc = malloc(size);
    ASSERT_NOT_NULL(enc);
    ASSERT_EQ_U(ilheap_rw_encode(rw, enc, size, &size), ILHEAP_OK);
    il_verify_opts_t o = {il_verify_test_calls, NULL, 1};
    char msg[256];
    if (!il_verify(enc, size, &o, msg, sizeof msg))
        TEST_FAIL_("verify: %s", msg);
    ilheap_il_body_t outb;
    ilheap_il_clause_t cl[4];
    ASSERT_EQ_U(ilheap_il_decode(enc, size, &outb, cl, 4), ILHEAP_OK);
    ASSERT_EQ_U(outb.max_stack, 8 + 3); /* safe bound: the tiny body's 8, and the three boxed arguments */
    ilheap_rw_set_stack_fn(rw, test_effect, NULL);
    uint32_t exact = 0;
    ASSERT_EQ_U(ilheap_rw_max_stack(rw, &exact), ILHEAP_OK);
    ASSERT_EQ_U(exact, 3);
    ASSERT_EQ_U(cl[0].try_offset, 11 + 1 + 6 + 5); /* after ldarg.0 ldobj box, ldarg.1, ldarg.2 box, call */
    free(enc);
    ilheap_rw_destroy(rw);
    il_asm_free(&a);
}

TEST_MAIN(TEST(test_load_static_args), TEST(test_load_this_and_wide), TEST(test_load_return),
          TEST(test_call_effect), TEST(test_locals_append_type), TEST(test_tracer_wrapper))
