/* Wrappers on compiled code: every IL body of the installed .NET shared
 * framework gets one exit, a try/finally around the whole body (after the
 * base constructor call in a class's constructor) with a counter probe in
 * the finally, and an entry probe before the try; the stack callback
 * decodes every call's signature from the image's metadata. The result must
 * encode and pass the verifier (il_verify.c: the ECMA-335 block rules and
 * the depth on every path, with the real calls' effects and the method's
 * own return). The only refusals allowed are the documented ones (a jmp, a
 * ret inside a finally), counted and printed with the time per body. Skips,
 * saying why, where no .NET is installed. ILHEAP_WRAP_ASSEMBLY=FILE tests
 * that assembly instead and lists each method's outcome on stdout
 * (tests/il/test_il_wrap_samples.sh). */
#include "ilheap/il.h"
#include "ilheap/pe.h"
#include "ilheap/rewrite.h"
#include "test.h"

#include "assemblies.h"
#include "il_pe_calls.h"
#include "il_verify.h"

#define CLAUSES 64

typedef struct totals {
    uint64_t bodies, wrapped, after_ctor, ctor_no_call, tails, refused_jmp, refused_finally_ret, with_eh,
        filters, original_unverified;
    double seconds;
} totals_t;

static ilheap_rw_t *rw;
static il_pe_calls_t calls;
static uint8_t *out;
static size_t out_cap;
static ilheap_rw_insn_t entry[ILHEAP_RW_PROBE_MAX], fin[ILHEAP_RW_PROBE_MAX + 1];
static size_t entry_n, fin_n;
static char why[512];
/* Every body, or every stride'th under the sanitizers, valgrind and qemu
 * (the framework's 130,146 bodies take 2 s here, 2 minutes under ASan). */
static uint32_t stride = 1;
static const char *outcome; /* what happened to the last body: for ILHEAP_WRAP_ASSEMBLY's listing */

static int has_op(uint16_t op)
{
    for (ilheap_rw_id_t i = ilheap_rw_first(rw); i != ILHEAP_RW_END; i = ilheap_rw_next(rw, i))
        if (ilheap_rw_opcode(rw, i) == op)
            return 1;
    return 0;
}

/* Where the wrapper's try starts: after the base constructor call in an
 * instance constructor that has one, else at the first instruction. */
static const char *try_start(const ilheap_sig_t *sig, uint32_t token, totals_t *t, ilheap_rw_id_t *start)
{
    *start = ilheap_rw_first(rw);
    const char *name;
    ilheap_pe_error_t err;
    if (!(sig->header & ILHEAP_SIG_HASTHIS) || ilheap_pe_member_name(calls.pe, token, &name, &err) != ILHEAP_OK ||
        strcmp(name, ".ctor") != 0)
        return NULL;
    ilheap_status_t st = ilheap_rw_ctor_body_start(rw, il_pe_is_ctor, &calls, start);
    if (st == ILHEAP_IL_NO_CTOR_CALL) {
        t->ctor_no_call++; /* structs' constructors */
        outcome = "wrapped, no base constructor call";
        *start = ilheap_rw_first(rw);
        return NULL;
    }
    if (st != ILHEAP_OK)
        return snprintf(why, sizeof why, "ctor start: %s", ilheap_last_message()), why;
    t->after_ctor++;
    outcome = "wrapped after the base constructor call";
    return NULL;
}

/* The wrapper on the loaded body; NULL, or what failed (a documented
 * refusal returns NULL and is counted). */
static const char *wrap(const ilheap_sig_t *sig, uint32_t token, const ilheap_il_body_t *b, totals_t *t)
{
    int returns = !(sig->ret.kind == ILHEAP_SIG_VALUE_VOID && !sig->ret.byref);
    long locals = il_pe_local_count(&calls, b->local_sig);
    if (locals < 0)
        return "locals do not decode";
    ilheap_rw_id_t start, epi, bad;
    const char *fail = try_start(sig, token, t, &start);
    if (fail != NULL)
        return fail;
    int tail = has_op(ILHEAP_OP_TAIL), jmp = has_op(ILHEAP_OP_JMP);
    t->tails += tail;
    if (tail)
        outcome = "wrapped, tail. dropped";
    ilheap_status_t st = ilheap_rw_single_exit(rw, returns ? (uint32_t)locals : ILHEAP_RW_NO_LOCAL,
                                               ILHEAP_RW_EXIT_DROP_TAIL, &epi, &bad);
    if (st == ILHEAP_IL_EH_INSTRUCTION && ilheap_rw_opcode(rw, bad) == ILHEAP_OP_RET) {
        t->refused_finally_ret++;
        outcome = "refused: ret in a finally";
        return NULL;
    }
    if (st != ILHEAP_OK)
        return snprintf(why, sizeof why, "single exit: %s", ilheap_last_message()), why;
    ilheap_rw_handler_t h = {ILHEAP_IL_FINALLY, 0, fin, fin_n, NULL, 0};
    st = ilheap_rw_wrap(rw, start, epi, &h, NULL, &bad);
    if (st == ILHEAP_IL_EH_INSTRUCTION && jmp && ilheap_rw_opcode(rw, bad) == ILHEAP_OP_JMP) {
        t->refused_jmp++;
        outcome = "refused: jmp";
        return NULL;
    }
    if (st != ILHEAP_OK)
        return snprintf(why, sizeof why, "wrap: %s", ilheap_last_message()), why;
    st = ilheap_rw_insert(rw, ilheap_rw_first(rw), ILHEAP_RW_BEFORE, entry, entry_n, NULL);
    if (st != ILHEAP_OK)
        return snprintf(why, sizeof why, "entry probe: %s", ilheap_last_message()), why;
    ilheap_rw_set_locals(rw, 0x11FFFFFFu, b->init_locals); /* as if GetTokenFromSig gave it */
    t->wrapped++;
    return NULL;
}

/* Encodes (exact max stack), checks the safe bound holds too, verifies. */
static const char *encode_verify(int returns)
{
    size_t size = 0;
    uint32_t exact = 0, safe = 0;
    ilheap_status_t st = ilheap_rw_max_stack(rw, &exact);
    if (st == ILHEAP_OK)
        st = ilheap_rw_encode(rw, NULL, 0, &size);
    if (st != ILHEAP_OK)
        return snprintf(why, sizeof why, "encode: %s", ilheap_last_message()), why;
    if (size > out_cap) {
        free(out);
        out_cap = 2 * size;
        out = malloc(out_cap);
        if (out == NULL)
            return "out of memory";
    }
    if (ilheap_rw_encode(rw, out, out_cap, &size) != ILHEAP_OK)
        return "encode into the buffer";
    ilheap_rw_set_stack_fn(rw, NULL, NULL);
    st = ilheap_rw_max_stack(rw, &safe);
    if (st != ILHEAP_OK || safe < exact)
        return snprintf(why, sizeof why, "safe bound %u below the exact %u: %s", safe, exact,
                        ilheap_last_message()), why;
    il_verify_opts_t o = {il_pe_verify_call, &calls, returns};
    char msg[256];
    if (!il_verify(out, size, &o, msg, sizeof msg))
        return snprintf(why, sizeof why, "verify: %s", msg), why;
    return NULL;
}

static const char *check_body(const ilheap_pe_il_body_t *pb, totals_t *t)
{
    ilheap_il_clause_t cl[CLAUSES], *more = NULL;
    ilheap_il_body_t b;
    ilheap_sig_t sig;
    if (pe_test_decode(pb->data, pb->available, &b, cl, CLAUSES, &more) != ILHEAP_OK)
        return NULL; /* the codec's own test reports these */
    t->bodies++;
    t->with_eh += b.clause_count != 0;
    for (uint32_t i = 0; i < b.clause_count; i++)
        t->filters += b.clauses[i].kind == ILHEAP_IL_FILTER;
    const char *fail = NULL;
    if (il_pe_method_sig(&calls, pb->token, &sig) != ILHEAP_OK)
        fail = "method signature";
    int returns = fail ? 0 : !(sig.ret.kind == ILHEAP_SIG_VALUE_VOID && !sig.ret.byref);
    il_verify_opts_t o = {il_pe_verify_call, &calls, returns};
    char msg[256];
    int original_ok = fail == NULL && il_verify(pb->data, b.body_size, &o, msg, sizeof msg);
    t->original_unverified += fail == NULL && !original_ok;
    if (fail == NULL && ilheap_rw_load(rw, &b, NULL) != ILHEAP_OK)
        fail = "load";
    ilheap_rw_set_stack_fn(rw, il_pe_stack_fn, &calls);
    uint64_t wrapped = t->wrapped;
    outcome = "wrapped";
    if (fail == NULL)
        fail = wrap(&sig, pb->token, &b, t);
    if (fail == NULL && t->wrapped > wrapped) {
        fail = encode_verify(returns);
        if (fail != NULL && !original_ok)
            fail = NULL; /* the verifier refuses the original already: not the wrapper's doing */
    }
    free(more);
    return fail;
}

/* "Type::Method" of a MethodDef token, for the listing. */
static void print_outcome(const ilheap_pe_t *pe, uint32_t token)
{
    const char *type = "?", *method = "?";
    uint32_t owner = 0;
    ilheap_pe_typedef_t td;
    ilheap_pe_error_t err;
    ilheap_pe_member_name(pe, token, &method, &err);
    if (ilheap_pe_method_owner(pe, token & 0xFFFFFFu, &owner, &err) == ILHEAP_OK &&
        ilheap_pe_typedef(pe, owner, &td, &err) == ILHEAP_OK)
        ilheap_pe_string(pe, td.name, &type, NULL, &err);
    printf("method %s::%s %#x: %s\n", type, method, token, outcome);
}

static void visit(const char *name, const uint8_t *data, size_t size, void *ctx)
{
    totals_t *t = ctx;
    ilheap_pe_t *pe;
    ilheap_pe_error_t err;
    if (ilheap_pe_open(data, size, &pe, &err) != ILHEAP_OK)
        return; /* not an assembly with metadata: the PE tests report it */
    calls.pe = pe;
    ilheap_pe_body_cursor_t cur;
    ilheap_pe_il_body_t pb;
    int r;
    double t0 = pe_test_now();
    ASSERT_EQ_U(ilheap_pe_bodies_begin(pe, &cur, &err), ILHEAP_OK);
    while ((r = ilheap_pe_next_body(&cur, &pb, &err)) != 0) {
        if ((pb.token & 0xFFFFFFu) % stride != 0)
            continue;
        const char *fail = r < 0 ? NULL : check_body(&pb, t);
        if (r > 0 && getenv("ILHEAP_WRAP_ASSEMBLY") != NULL)
            print_outcome(pe, pb.token);
        if (fail != NULL) {
            ilheap_pe_close(pe);
            TEST_FAIL_("%s, method %#x: %s", name, pb.token, fail);
        }
    }
    t->seconds += pe_test_now() - t0;
    ilheap_pe_close(pe);
}

static void test_wrap_framework(void)
{
    char dir[512], reason[600];
    totals_t t = {0};
    ASSERT_EQ_U(ilheap_rw_create(&rw), ILHEAP_OK);
    entry_n = ilheap_rw_counter_probe(0x00007F0000001000ull, 1, entry);
    fin_n = ilheap_rw_counter_probe(0x00007F0000002000ull, 1, fin);
    memset(&fin[fin_n], 0, sizeof fin[0]);
    fin[fin_n++].opcode = ILHEAP_OP_ENDFINALLY;
    const char *one = getenv("ILHEAP_WRAP_ASSEMBLY"); /* one assembly instead of the framework */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
    stride = 4;
#endif
    if (getenv("ILHEAP_UNDER_VALGRIND") != NULL || getenv("ILHEAP_UNDER_QEMU") != NULL)
        stride = 16;
    if (one != NULL)
        stride = 1;
    long count;
    if (one != NULL) {
        size_t size;
        uint8_t *data = pe_test_read_file(one, &size);
        if (data == NULL)
            TEST_FAIL_("cannot read %s", one);
        visit(one, data, size, &t);
        free(data);
        snprintf(dir, sizeof dir, "%s", one);
        count = 1;
    } else {
        count = pe_test_each_framework_dll(visit, &t, dir, sizeof dir, reason, sizeof reason);
    }
    ilheap_rw_destroy(rw);
    free(out);
    free(calls.arena);
    calls.arena = NULL;
    calls.arena_size = 0;
    out = NULL;
    out_cap = 0;
    if (count == -1)
        SKIP("%s; test_il_wrap covers every shape on bodies it builds", reason);
    if (count < 0)
        TEST_FAIL_("%s", reason);
    fprintf(stderr,
            "  %ld assemblies in %s (every %u%s body): %" PRIu64 " bodies (%" PRIu64 " with EH clauses, %" PRIu64
            " filters): %" PRIu64 " wrapped and verified (%" PRIu64 " constructors after their base call, %" PRIu64
            " without one; %" PRIu64 " with tail. calls); refused as documented: %" PRIu64 " with jmp, %" PRIu64
            " with a ret in a finally; %" PRIu64 " originals the verifier refuses; %.0f ns per body (checks included)\n",
            count, dir, stride, stride == 1 ? "st" : "th", t.bodies, t.with_eh, t.filters, t.wrapped, t.after_ctor, t.ctor_no_call, t.tails,
            t.refused_jmp, t.refused_finally_ret, t.original_unverified,
            t.bodies ? t.seconds / (double)t.bodies * 1e9 : 0.0);
    ASSERT_GT_U(t.wrapped, t.bodies * 99 / 100);
    if (one == NULL)
        ASSERT_GT_U(t.after_ctor, 0);
}

TEST_MAIN(TEST(test_wrap_framework))
