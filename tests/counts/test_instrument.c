/* The one instrumentation function (ilheap/instrument.h): where the probes
 * go, the keys it gives, the counters it asks for, and its failures. */
#include "ilheap/il.h"
#include "ilheap/instrument.h"
#include "ilheap/rewrite.h"
#include "test.h"

/* ldarg.0; brtrue.s 5; ldc.i4.0; ret; 5: ldc.i4.1; ret (blocks at 0, 3, 5) */
static const uint8_t BRANCHY[] = {0x1E, 0x02, 0x2D, 0x02, 0x16, 0x2A, 0x17, 0x2A};
/* 0: nop; br.s 0 (a branch back to the entry) */
static const uint8_t LOOP[] = {0x0E, 0x00, 0x2B, 0xFD};
/* no code at all */
static const uint8_t EMPTY[] = {0x02};

#define BASE 0x00007F0000010000ull

typedef struct asked {
    int calls;
    size_t n;
    uint64_t base;
    ilheap_status_t answer;
} asked_t;

static ilheap_status_t counters(void *ctx, size_t n, uint64_t *addr)
{
    asked_t *a = ctx;
    a->calls++;
    a->n = n;
    *addr = a->base;
    return a->answer;
}

static ilheap_rw_t *load(const uint8_t *body, size_t size)
{
    static ilheap_il_clause_t clauses[4];
    ilheap_il_body_t b;
    ilheap_rw_t *rw = NULL;
    size_t bad;
    if (ilheap_il_decode(body, size, &b, clauses, 4) != ILHEAP_OK || ilheap_rw_create(&rw) != ILHEAP_OK ||
        ilheap_rw_load(rw, &b, &bad) != ILHEAP_OK) {
        ilheap_rw_destroy(rw);
        return NULL;
    }
    return rw;
}

/* The counter addresses the body's ldc.i8 / ldc.i4 operands name, in order. */
static size_t addresses(ilheap_rw_t *rw, uint64_t *out, size_t cap, size_t *calls)
{
    size_t n = 0;
    *calls = 0;
    for (ilheap_rw_id_t i = ilheap_rw_first(rw); i != ILHEAP_RW_END; i = ilheap_rw_next(rw, i)) {
        ilheap_rw_insn_t insn;
        if (ilheap_rw_get(rw, i, &insn) != ILHEAP_OK)
            return 0;
        if ((insn.opcode == ILHEAP_OP_LDC_I8 || insn.opcode == ILHEAP_OP_LDC_I4) && n < cap)
            out[n++] = (uint64_t)insn.op.i;
        if (insn.opcode == ILHEAP_OP_CALL)
            ++*calls;
    }
    return n;
}

static void test_blocks(void)
{
    ilheap_rw_t *rw = load(BRANCHY, sizeof BRANCHY);
    ilheap_instr_t *in;
    ASSERT_NOT_NULL(rw);
    ASSERT_STATUS(ilheap_instr_create(&in), ILHEAP_OK);
    asked_t a = {.base = BASE, .answer = ILHEAP_OK};
    ilheap_instr_options_t opt = {.mode = ILHEAP_INSTR_BLOCKS, .ptr64 = 1, .counters = counters, .ctx = &a};
    const ilheap_probe_key_t *keys;
    size_t n;
    ASSERT_STATUS(ilheap_instr_body(in, rw, &opt, &keys, &n), ILHEAP_OK);
    ASSERT_EQ_U(n, 3);
    ASSERT_EQ_I(a.calls, 1);
    ASSERT_EQ_U(a.n, 3);
    static const uint32_t want[] = {0, 3, 5};
    for (size_t i = 0; i < n; i++) {
        ASSERT_EQ_U(keys[i].il_offset, want[i]);
        ASSERT_EQ_U(keys[i].kind, ILHEAP_PROBE_BLOCK);
        ASSERT_EQ_U(keys[i].outcome, 0);
    }
    uint64_t addr[8];
    size_t calls;
    ASSERT_EQ_U(addresses(rw, addr, 8, &calls), 3);
    for (size_t i = 0; i < 3; i++)
        ASSERT_EQ_X(addr[i], BASE + 8 * i); /* 8-byte counters, in key order */
    /* The branch now leads to its target block's probe. */
    ilheap_rw_insn_t br;
    ilheap_rw_id_t i = ilheap_rw_first(rw);
    while (i != ILHEAP_RW_END && ilheap_rw_opcode(rw, i) != 0x2D)
        i = ilheap_rw_next(rw, i);
    ASSERT_STATUS(ilheap_rw_get(rw, i, &br), ILHEAP_OK);
    ilheap_rw_insn_t target;
    ASSERT_STATUS(ilheap_rw_get(rw, br.op.target, &target), ILHEAP_OK);
    ASSERT_EQ_U(target.opcode, ILHEAP_OP_LDC_I8);
    ASSERT_EQ_X(target.op.i, BASE + 16);
    size_t size;
    ASSERT_STATUS(ilheap_rw_encode(rw, NULL, 0, &size), ILHEAP_OK);
    /* three 16-byte probes; max stack 8 + 3 needs a fat header (12 bytes) */
    ASSERT_EQ_U(size, 12 + (sizeof BRANCHY - 1) + 3 * 16);
    ilheap_instr_destroy(in);
    ilheap_rw_destroy(rw);
}

static void test_calls_before_entry(void)
{
    ilheap_rw_t *rw = load(LOOP, sizeof LOOP);
    ilheap_instr_t *in;
    ASSERT_NOT_NULL(rw);
    ASSERT_STATUS(ilheap_instr_create(&in), ILHEAP_OK);
    ilheap_rw_id_t entry = ilheap_rw_first(rw), branch = ilheap_rw_next(rw, entry);
    asked_t a = {.base = BASE, .answer = ILHEAP_OK};
    ilheap_instr_options_t opt = {.mode = ILHEAP_INSTR_CALLS, .ptr64 = 1, .counters = counters, .ctx = &a};
    const ilheap_probe_key_t *keys;
    size_t n;
    ASSERT_STATUS(ilheap_instr_body(in, rw, &opt, &keys, &n), ILHEAP_OK);
    ASSERT_EQ_U(n, 1);
    ASSERT_EQ_U(keys[0].kind, ILHEAP_PROBE_ENTRY);
    ASSERT_EQ_U(keys[0].il_offset, 0);
    /* The branch back to offset 0 leads past the probe: a loop is not a call. */
    ilheap_rw_insn_t br;
    ASSERT_STATUS(ilheap_rw_get(rw, branch, &br), ILHEAP_OK);
    ASSERT_EQ_U(br.op.target, entry);
    ASSERT_TRUE(ilheap_rw_first(rw) != entry);
    ilheap_instr_destroy(in);
    ilheap_rw_destroy(rw);
}

static void test_atomic_and_32_bit(void)
{
    ilheap_rw_t *rw = load(BRANCHY, sizeof BRANCHY);
    ilheap_instr_t *in;
    ASSERT_NOT_NULL(rw);
    ASSERT_STATUS(ilheap_instr_create(&in), ILHEAP_OK);
    asked_t a = {.base = 0x10000, .answer = ILHEAP_OK};
    ilheap_instr_options_t opt = {.mode = ILHEAP_INSTR_BLOCKS, .ptr64 = 0, .increment = 0x0A000007,
                                  .counters = counters, .ctx = &a};
    const ilheap_probe_key_t *keys;
    size_t n, calls;
    ASSERT_STATUS(ilheap_instr_body(in, rw, &opt, &keys, &n), ILHEAP_OK);
    uint64_t addr[8];
    ASSERT_EQ_U(addresses(rw, addr, 8, &calls), 3);
    ASSERT_EQ_U(calls, 3); /* Interlocked.Increment in each */
    ASSERT_EQ_X(addr[2], 0x10000 + 16);
    uint32_t max_stack;
    ASSERT_STATUS(ilheap_rw_max_stack(rw, &max_stack), ILHEAP_OK); /* the inserted call's effect is known */
    ilheap_rw_destroy(rw);

    /* A counter above 4 GiB cannot be named on a 32-bit target. */
    rw = load(BRANCHY, sizeof BRANCHY);
    ASSERT_NOT_NULL(rw);
    a.base = BASE;
    ASSERT_STATUS(ilheap_instr_body(in, rw, &opt, &keys, &n), ILHEAP_EINVAL);
    ilheap_instr_destroy(in);
    ilheap_rw_destroy(rw);
}

static void test_failures(void)
{
    ilheap_rw_t *rw = load(BRANCHY, sizeof BRANCHY);
    ilheap_instr_t *in;
    ASSERT_NOT_NULL(rw);
    ASSERT_STATUS(ilheap_instr_create(&in), ILHEAP_OK);
    asked_t a = {.base = BASE, .answer = ILHEAP_ENOMEM};
    ilheap_instr_options_t opt = {.mode = ILHEAP_INSTR_BLOCKS, .ptr64 = 1, .counters = counters, .ctx = &a};
    const ilheap_probe_key_t *keys;
    size_t n, size;
    /* The counters' refusal stops it before any change. */
    ASSERT_STATUS(ilheap_instr_body(in, rw, &opt, &keys, &n), ILHEAP_ENOMEM);
    ASSERT_STATUS(ilheap_rw_encode(rw, NULL, 0, &size), ILHEAP_OK);
    ASSERT_EQ_U(size, sizeof BRANCHY);
    /* Misaligned counters. */
    a.answer = ILHEAP_OK;
    a.base = BASE + 4;
    ASSERT_STATUS(ilheap_instr_body(in, rw, &opt, &keys, &n), ILHEAP_EINVAL);
    /* A body already edited: a block start that was not in the original. */
    ilheap_rw_insn_t nop = {.opcode = ILHEAP_OP_NOP, .offset = ILHEAP_RW_NEW};
    ASSERT_STATUS(ilheap_rw_insert(rw, ilheap_rw_first(rw), ILHEAP_RW_BLOCK_START, &nop, 1, NULL), ILHEAP_OK);
    a.base = BASE;
    ASSERT_STATUS(ilheap_instr_body(in, rw, &opt, &keys, &n), ILHEAP_EINVAL);
    /* Bad arguments. */
    ASSERT_STATUS(ilheap_instr_body(NULL, rw, &opt, &keys, &n), ILHEAP_EINVAL);
    opt.mode = (ilheap_instr_mode_t)7;
    ASSERT_STATUS(ilheap_instr_body(in, rw, &opt, &keys, &n), ILHEAP_EINVAL);
    opt.mode = ILHEAP_INSTR_CALLS;
    opt.counters = NULL;
    ASSERT_STATUS(ilheap_instr_body(in, rw, &opt, &keys, &n), ILHEAP_EINVAL);
    ASSERT_STATUS(ilheap_instr_create(NULL), ILHEAP_EINVAL);
    ilheap_rw_destroy(rw);

    /* No code: nothing to count, no counters asked for. */
    rw = load(EMPTY, sizeof EMPTY);
    ASSERT_NOT_NULL(rw);
    a.calls = 0;
    opt.counters = counters;
    ASSERT_STATUS(ilheap_instr_body(in, rw, &opt, &keys, &n), ILHEAP_OK);
    ASSERT_EQ_U(n, 0);
    ASSERT_EQ_I(a.calls, 0);
    ilheap_rw_destroy(rw);
    ilheap_instr_destroy(in);
    ilheap_instr_destroy(NULL);
}

TEST_MAIN(TEST(test_blocks), TEST(test_calls_before_entry), TEST(test_atomic_and_32_bit), TEST(test_failures))
