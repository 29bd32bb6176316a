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

/* A tracer's wrapper, checked by the verifier: the body of a method with
 * signature msig (and locals blob `locals`, or none) gets a local of its
 * return type, one exit, OnExit(object) with the boxed return value in a
 * finally around the whole body, and OnEntry(object, ...) with its boxed
 * arguments before the try. Returns the rewriter (encoded: *enc, *size). */
static ilheap_rw_t *tracer_wrap(const uint8_t *msig, size_t msize, il_asm_t *a, const uint8_t *locals,
                                size_t lsize, uint8_t **enc, size_t *size)
{
    ilheap_sig_t sig = decode(ILHEAP_SIG_METHOD_DEF, msig, msize);
    ilheap_rw_method_t m = {&sig, 0, types, NULL};
    ilheap_il_body_t body;
    il_asm_body(a, 1, locals != NULL ? 0x11000001u : 0, &body);
    ilheap_rw_t *rw;
    ASSERT_EQ_U(ilheap_rw_create(&rw), ILHEAP_OK);
    ASSERT_EQ_U(ilheap_rw_load(rw, &body, NULL), ILHEAP_OK);
    ilheap_rw_set_inserted_stack_fn(rw, test_effect, NULL);
    uint32_t ret_local = ILHEAP_RW_NO_LOCAL;
    if (sig.ret.kind != ILHEAP_SIG_VALUE_VOID || sig.ret.byref) {
        uint8_t *grown;
        size_t grown_size;
        ASSERT_EQ_U(ilheap_rw_locals_append_type(locals, lsize, sig.ret.type, &grown, &grown_size, &ret_local),
                    ILHEAP_OK);
        free(grown); /* a profiler: IMetaDataEmit::GetTokenFromSig(grown) */
        ilheap_rw_set_locals(rw, 0x11000002u, 1);
    }
    ilheap_rw_id_t epi, bad;
    ASSERT_EQ_U(ilheap_rw_single_exit(rw, ret_local, 0, &epi, &bad), ILHEAP_OK);
    /* finally { OnExit((object)ret); } */
    ilheap_rw_insn_t fin[ILHEAP_RW_LOAD_MAX + 2];
    size_t n = 0, k;
    ASSERT_EQ_U(ilheap_rw_load_return(&m, ret_local == ILHEAP_RW_NO_LOCAL ? 0 : ret_local, ILHEAP_RW_LOAD_BOX, fin,
                                      &n),
                ILHEAP_OK);
    memset(&fin[n], 0, 2 * sizeof fin[0]);
    fin[n].opcode = ILHEAP_OP_CALL;
    fin[n++].op.token = IL_TEST_CALL_ID(7, 1, 0);
    fin[n++].opcode = ILHEAP_OP_ENDFINALLY;
    ilheap_rw_handler_t h = {ILHEAP_IL_FINALLY, 0, fin, n, NULL, 0};
    ilheap_rw_id_t first = ilheap_rw_first(rw);
    ASSERT_EQ_U(ilheap_rw_wrap(rw, first, epi, &h, NULL, &bad), ILHEAP_OK);
    /* OnEntry(args...) before the try */
    uint32_t args = ilheap_rw_arg_count(&sig);
    ilheap_rw_insn_t entry[8 * ILHEAP_RW_LOAD_MAX + 1];
    ASSERT_TRUE(args <= 8);
    n = 0;
    for (uint32_t arg = 0; arg < args; arg++, n += k)
        ASSERT_EQ_U(ilheap_rw_load_arg(&m, arg, ILHEAP_RW_LOAD_BOX, entry + n, &k), ILHEAP_OK);
    memset(&entry[n], 0, sizeof entry[n]);
    entry[n].opcode = ILHEAP_OP_CALL;
    entry[n++].op.token = IL_TEST_CALL_ID(8, args, 0);
    ASSERT_EQ_U(ilheap_rw_insert(rw, first, ILHEAP_RW_BEFORE, entry, n, NULL), ILHEAP_OK);
    ASSERT_EQ_U(ilheap_rw_encode(rw, NULL, 0, size), ILHEAP_OK);
    *enc = malloc(*size);
    ASSERT_NOT_NULL(*enc);
    ASSERT_EQ_U(ilheap_rw_encode(rw, *enc, *size, size), ILHEAP_OK);
    il_verify_opts_t o = {il_verify_test_calls, NULL, sig.ret.kind != ILHEAP_SIG_VALUE_VOID || sig.ret.byref};
    char msg[256];
    if (!il_verify(*enc, *size, &o, msg, sizeof msg))
        TEST_FAIL_("verify: %s", msg);
    return rw;
}

/* Checks the opcodes of an encoded body against want[0 .. n). */
static void expect_opcodes(const uint8_t *enc, size_t size, const uint16_t *want, size_t n)
{
    ilheap_il_body_t b;
    ilheap_il_clause_t cl[4];
    ASSERT_EQ_U(ilheap_il_decode(enc, size, &b, cl, 4), ILHEAP_OK);
    ilheap_rw_t *rw;
    ASSERT_EQ_U(ilheap_rw_create(&rw), ILHEAP_OK);
    ASSERT_EQ_U(ilheap_rw_load(rw, &b, NULL), ILHEAP_OK);
    size_t k = 0;
    for (ilheap_rw_id_t i = ilheap_rw_first(rw); i != ILHEAP_RW_END; i = ilheap_rw_next(rw, i), k++) {
        ASSERT_TRUE(k < n);
        ASSERT_EQ_X(ilheap_rw_opcode(rw, i), want[k]);
    }
    ASSERT_EQ_U(k, n);
    ilheap_rw_destroy(rw);
}

/* `static ref int Get(ref int a, string s, T t) => ref a;` (generic over
 * T): the ref return's local holds the byref; OnExit gets what it points
 * to, boxed. */
static void test_tracer_wrapper(void)
{
    static const uint8_t msig[] = {0x10, 0x01, 0x03, 0x10, 0x08, 0x10, 0x08, 0x0E, 0x1E, 0x00};
    il_asm_t a;
    il_asm_init(&a);
    il_op(&a, ILHEAP_OP_LDARG_0);
    il_op(&a, ILHEAP_OP_RET);
    uint8_t *enc;
    size_t size;
    ilheap_rw_t *rw = tracer_wrap(msig, sizeof msig, &a, NULL, 0, &enc, &size);
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

/* `static int V(int n, __arglist)`: the body reads its extra arguments
 * through arglist; the entry probe gets the fixed one alone. */
static void test_tracer_varargs(void)
{
    static const uint8_t msig[] = {0x05, 0x01, 0x08, 0x08}; /* vararg int(int) */
    il_asm_t a;
    il_asm_init(&a);
    il_op(&a, 0xFE00); /* arglist */
    il_op(&a, ILHEAP_OP_POP);
    il_op(&a, ILHEAP_OP_LDARG_0);
    il_op(&a, ILHEAP_OP_RET);
    uint8_t *enc;
    size_t size;
    ilheap_rw_t *rw = tracer_wrap(msig, sizeof msig, &a, NULL, 0, &enc, &size);
    static const uint16_t want[] = {ILHEAP_OP_LDARG_0, ILHEAP_OP_BOX, ILHEAP_OP_CALL, /* OnEntry((object)n) */
                                    0xFE00, ILHEAP_OP_POP, ILHEAP_OP_LDARG_0, ILHEAP_OP_STLOC_0, ILHEAP_OP_LEAVE_S,
                                    ILHEAP_OP_LDLOC_0, ILHEAP_OP_BOX, ILHEAP_OP_CALL, ILHEAP_OP_ENDFINALLY,
                                    ILHEAP_OP_LDLOC_0, ILHEAP_OP_RET};
    expect_opcodes(enc, size, want, sizeof want / sizeof want[0]);
    free(enc);
    ilheap_rw_destroy(rw);
    il_asm_free(&a);
}

/* `{ var y = x; return y; }`: ldarg.0, stloc.0, ldloc.0, ret into a. */
static void copy_body(il_asm_t *a)
{
    il_asm_init(a);
    il_op(a, ILHEAP_OP_LDARG_0);
    il_op(a, ILHEAP_OP_STLOC_0);
    il_op(a, ILHEAP_OP_LDLOC_0);
    il_op(a, ILHEAP_OP_RET);
}

/* `static T Id<T>(T x) { T y = x; return y; }`: one body serves every
 * instantiation, over value types (box allocates) and reference types (box
 * is a no-op); the return local is a second !!0 and both probes box by the
 * TypeSpec of !!0. */
static void test_tracer_generic(void)
{
    static const uint8_t msig[] = {0x10, 0x01, 0x01, 0x1E, 0x00, 0x1E, 0x00};
    static const uint8_t locals[] = {0x07, 0x01, 0x1E, 0x00};
    il_asm_t a;
    copy_body(&a);
    uint8_t *enc;
    size_t size;
    ilheap_rw_t *rw = tracer_wrap(msig, sizeof msig, &a, locals, sizeof locals, &enc, &size);
    static const uint16_t want[] = {ILHEAP_OP_LDARG_0, ILHEAP_OP_BOX, ILHEAP_OP_CALL, ILHEAP_OP_LDARG_0,
                                    ILHEAP_OP_STLOC_0, ILHEAP_OP_LDLOC_0, ILHEAP_OP_STLOC_0 + 1, ILHEAP_OP_LEAVE_S,
                                    ILHEAP_OP_LDLOC_0 + 1, ILHEAP_OP_BOX, ILHEAP_OP_CALL, ILHEAP_OP_ENDFINALLY,
                                    ILHEAP_OP_LDLOC_0 + 1, ILHEAP_OP_RET};
    expect_opcodes(enc, size, want, sizeof want / sizeof want[0]);
    ilheap_il_body_t b;
    ilheap_il_clause_t cl[4];
    ASSERT_EQ_U(ilheap_il_decode(enc, size, &b, cl, 4), ILHEAP_OK);
    /* box TYPESPEC(5) (the parameter's !!0, at blob offset 5) at code offset 1 */
    ASSERT_EQ_X((uint32_t)b.code[2] | (uint32_t)b.code[3] << 8 | (uint32_t)b.code[4] << 16 |
                    (uint32_t)b.code[5] << 24,
                TYPESPEC(5));
    free(enc);
    ilheap_rw_destroy(rw);
    il_asm_free(&a);
}

/* `static Span<int> S(Span<int> s) { Span<int> t = s; return t; }`: a
 * by-ref-like parameter, local and return; the return local is a Span<int>
 * appended to the locals, and the probes get null for them (never boxed). */
static void test_tracer_span(void)
{
    static const uint8_t msig[] = {0x00, 0x01, 0x15, 0x11, 0x05, 0x01, 0x08, 0x15, 0x11, 0x05, 0x01, 0x08};
    static const uint8_t locals[] = {0x07, 0x01, 0x15, 0x11, 0x05, 0x01, 0x08};
    ilheap_sig_t sig = decode(ILHEAP_SIG_METHOD_DEF, msig, sizeof msig);
    uint8_t *grown;
    size_t grown_size;
    uint32_t index;
    ASSERT_EQ_U(ilheap_rw_locals_append_type(locals, sizeof locals, sig.ret.type, &grown, &grown_size, &index),
                ILHEAP_OK);
    static const uint8_t want_locals[] = {0x07, 0x02, 0x15, 0x11, 0x05, 0x01, 0x08, 0x15, 0x11, 0x05, 0x01, 0x08};
    ASSERT_EQ_U(grown_size, sizeof want_locals);
    ASSERT_MEM_EQ(grown, want_locals, sizeof want_locals);
    ASSERT_EQ_U(index, 1);
    free(grown);
    il_asm_t a;
    copy_body(&a);
    uint8_t *enc;
    size_t size;
    ilheap_rw_t *rw = tracer_wrap(msig, sizeof msig, &a, locals, sizeof locals, &enc, &size);
    static const uint16_t want[] = {ILHEAP_OP_LDNULL, ILHEAP_OP_CALL, ILHEAP_OP_LDARG_0, ILHEAP_OP_STLOC_0,
                                    ILHEAP_OP_LDLOC_0, ILHEAP_OP_STLOC_0 + 1, ILHEAP_OP_LEAVE_S, ILHEAP_OP_LDNULL,
                                    ILHEAP_OP_CALL, ILHEAP_OP_ENDFINALLY, ILHEAP_OP_LDLOC_0 + 1, ILHEAP_OP_RET};
    expect_opcodes(enc, size, want, sizeof want / sizeof want[0]);
    free(enc);
    ilheap_rw_destroy(rw);
    il_asm_free(&a);
}

TEST_MAIN(TEST(test_load_static_args), TEST(test_load_this_and_wide), TEST(test_load_return),
          TEST(test_call_effect), TEST(test_locals_append_type), TEST(test_tracer_wrapper), TEST(test_tracer_varargs),
          TEST(test_tracer_generic), TEST(test_tracer_span))
