/* The one instrumentation function (ilheap/instrument.h): where the probes
 * go (block and edge probes), the keys it gives, the counters it asks for,
 * and its failures. */
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

/* ---- the edge probes (instrument.h, "EDGE PROBES"); their counts are
 * checked end to end by tools_cover (Branches.cs under the profiler) ---- */

/* Both outcomes of B (1) lead into blocks other paths enter too:
 * 0 ldarg.0; 1 brtrue.s 4; 3 nop; 4 ldarg.0; 5 brtrue.s 3; 7 ldc.i4.0; 8 ret.
 * B2 (5) jumps into 3, which B falls into: one unknown, its block cannot throw. */
static const uint8_t FALL[] = {0x26, 0x02, 0x2D, 0x01, 0x00, 0x02, 0x2D, 0xFC, 0x16, 0x2A};
/* A call before the branch, the jump into a join:
 * 0 ldarg.0; 1 call 0x0A000001; 6 brfalse.s 9; 8 nop; 9 ldc.i4.0; 10 ret. */
static const uint8_t RUNS[] = {0x2E, 0x02, 0x28, 0x01, 0x00, 0x00, 0x0A, 0x2C, 0x01, 0x00, 0x16, 0x2A};
/* 0 ldarg.0; 1 ldc.i4.1; 2 sub; 3 switch (18, 18); 16 ldc.i4.0; 17 ret; 18 ldc.i4.1; 19 ret:
 * two outcomes into one block, the value loaded by pure code. */
static const uint8_t SWITCH[] = {0x52, 0x02, 0x17, 0x59, 0x45, 0x02, 0x00, 0x00, 0x00, 0x02, 0x00,
                                 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x16, 0x2A, 0x17, 0x2A};
/* The same switch on a call's result: its value cannot be computed again. */
static const uint8_t SWITCH_CALL[] = {0x5E, 0x28, 0x01, 0x00, 0x00, 0x0A, 0x00, 0x45, 0x02, 0x00, 0x00, 0x00, 0x02,
                                      0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x16, 0x2A, 0x17, 0x2A};
/* 0 ldarg.0; 1 brtrue.s 4; 3 nop; 4 ldc.i4.0; 5 ret: the jump's block is
 * also entered by falling through, but no instruction before the branch
 * throws, so its runs settle it. */
static const uint8_t SETTLED[] = {0x1A, 0x02, 0x2D, 0x01, 0x00, 0x16, 0x2A};

/* The edge tests' counters: always at BASE, their number kept. */
static ilheap_status_t edge_counters(void *ctx, size_t n, uint64_t *addr)
{
    *(size_t *)ctx = n;
    *addr = BASE;
    return ILHEAP_OK;
}

/* Instruments body with edges; *n keys into keys (at most 16). */
static ilheap_rw_t *instrument(const uint8_t *body, size_t size, uint32_t increment, ilheap_probe_key_t *keys,
                               size_t *n)
{
    ilheap_rw_t *rw = load(body, size);
    ilheap_instr_t *in;
    ASSERT_NOT_NULL(rw);
    ASSERT_STATUS(ilheap_instr_create(&in), ILHEAP_OK);
    size_t asked = 0;
    ilheap_instr_options_t opt = {.mode = ILHEAP_INSTR_BLOCKS, .ptr64 = 1, .increment = increment,
                                  .counters = edge_counters, .ctx = &asked, .flags = ILHEAP_INSTR_EDGES};
    const ilheap_probe_key_t *k;
    ASSERT_STATUS(ilheap_instr_body(in, rw, &opt, &k, n), ILHEAP_OK);
    ASSERT_EQ_U(asked, *n);
    ASSERT_TRUE(*n <= 16);
    for (size_t i = 0; i < *n; i++)
        keys[i] = k[i];
    ilheap_instr_destroy(in);
    size_t out;
    ASSERT_STATUS(ilheap_rw_encode(rw, NULL, 0, &out), ILHEAP_OK); /* the safe bound holds */
    return rw;
}

static void assert_key(ilheap_probe_key_t k, uint8_t kind, uint32_t offset, uint32_t outcome)
{
    ASSERT_EQ_U(k.kind, kind);
    ASSERT_EQ_U(k.il_offset, offset);
    ASSERT_EQ_U(k.outcome, outcome);
}

/* The id of the original instruction at offset. */
static ilheap_rw_id_t at(ilheap_rw_t *rw, uint32_t offset)
{
    for (ilheap_rw_id_t i = ilheap_rw_first(rw); i != ILHEAP_RW_END; i = ilheap_rw_next(rw, i)) {
        ilheap_rw_insn_t insn;
        if (ilheap_rw_get(rw, i, &insn) == ILHEAP_OK && insn.offset == offset)
            return i;
    }
    return ILHEAP_RW_END;
}

/* The counter address of the probe starting at id (its ldc.i8). */
static uint64_t probe_at(ilheap_rw_t *rw, ilheap_rw_id_t id)
{
    ilheap_rw_insn_t insn;
    ASSERT_STATUS(ilheap_rw_get(rw, id, &insn), ILHEAP_OK);
    ASSERT_EQ_U(insn.opcode, ILHEAP_OP_LDC_I8);
    ASSERT_EQ_X(insn.offset, ILHEAP_RW_NEW);
    return (uint64_t)insn.op.i;
}

static void test_fall_through(void)
{
    ilheap_probe_key_t k[16];
    size_t n;
    ilheap_rw_t *rw = instrument(FALL, sizeof FALL, 0, k, &n);
    ASSERT_EQ_U(n, 5); /* blocks 0, 3, 4, 7; B's fall-through only */
    assert_key(k[3], ILHEAP_PROBE_BLOCK, 7, 0);
    assert_key(k[4], ILHEAP_PROBE_EDGE, 1, 1);
    /* Right after B, before the probe of the block it falls into: only B's fall-through runs it. */
    ilheap_rw_id_t b = at(rw, 1), after = ilheap_rw_next(rw, b);
    ASSERT_EQ_X(probe_at(rw, after), BASE + 8 * 4);
    ilheap_rw_insn_t b2;
    ASSERT_STATUS(ilheap_rw_get(rw, at(rw, 5), &b2), ILHEAP_OK);
    ASSERT_EQ_X(probe_at(rw, b2.op.target), BASE + 8 * 1); /* B2 leads to block 3's probe, past B's edge probe */
    ilheap_rw_destroy(rw);
}

static void test_runs(void)
{
    ilheap_probe_key_t k[16];
    size_t n;
    ilheap_rw_t *rw = instrument(RUNS, sizeof RUNS, 0, k, &n);
    ASSERT_EQ_U(n, 4);
    assert_key(k[3], ILHEAP_PROBE_EDGE, 6, ILHEAP_PROBE_RUNS);
    /* Right before B (after the call that may throw). */
    ilheap_rw_id_t b = at(rw, 6), i = ilheap_rw_prev(rw, b);
    for (int back = 0; back < 7; back++) /* the 8-instruction probe */
        i = ilheap_rw_prev(rw, i);
    ASSERT_EQ_X(probe_at(rw, i), BASE + 8 * 3);
    ASSERT_EQ_U(ilheap_rw_opcode(rw, ilheap_rw_prev(rw, i)), ILHEAP_OP_CALL);
    ilheap_rw_destroy(rw);

    /* Without the call, the block's count is the branch's runs: no probe. */
    rw = instrument(SETTLED, sizeof SETTLED, 0, k, &n);
    ASSERT_EQ_U(n, 3);
    for (size_t j = 0; j < n; j++)
        ASSERT_EQ_U(k[j].kind, ILHEAP_PROBE_BLOCK);
    ilheap_rw_destroy(rw);
}

/* The switch probe: the value's code again, then the outcome's counter. */
static void test_switch(void)
{
    ilheap_probe_key_t k[16];
    size_t n;
    ilheap_rw_t *rw = instrument(SWITCH, sizeof SWITCH, 0, k, &n);
    ASSERT_EQ_U(n, 6); /* blocks 0, 16, 18; outcomes 0, 1, 2 */
    for (uint32_t o = 0; o < 3; o++)
        assert_key(k[3 + o], ILHEAP_PROBE_EDGE, 3, o);
    static const uint16_t want[] = {0x02, 0x17, 0x59, 0x6A, ILHEAP_OP_LDC_I8, 0x59, ILHEAP_OP_DUP, ILHEAP_OP_LDC_I8,
                                    0xFE03, 0x6A, 0x5A, ILHEAP_OP_LDC_I8, ILHEAP_OP_ADD, ILHEAP_OP_CONV_U, 0x19,
                                    0x62, ILHEAP_OP_LDC_I8, ILHEAP_OP_CONV_U, ILHEAP_OP_ADD, ILHEAP_OP_DUP,
                                    ILHEAP_OP_LDIND_I8, ILHEAP_OP_LDC_I4_1, ILHEAP_OP_CONV_I8, ILHEAP_OP_ADD,
                                    ILHEAP_OP_STIND_I8};
    const size_t len = sizeof want / sizeof want[0];
    ilheap_rw_id_t i = at(rw, 3);
    for (size_t j = 0; j < len; j++)
        i = ilheap_rw_prev(rw, i);
    for (size_t j = 0; j < len; j++, i = ilheap_rw_next(rw, i)) {
        ilheap_rw_insn_t insn;
        ASSERT_STATUS(ilheap_rw_get(rw, i, &insn), ILHEAP_OK);
        ASSERT_EQ_X(insn.opcode, want[j]);
        ASSERT_EQ_X(insn.offset, ILHEAP_RW_NEW);
        if (j == 4 || j == 11)
            ASSERT_EQ_I(insn.op.i, 2); /* the target count */
        if (j == 7)
            ASSERT_EQ_I(insn.op.i, -3); /* -(n + 1): below n as unsigned */
        if (j == 16)
            ASSERT_EQ_X((uint64_t)insn.op.i, BASE + 8 * 3); /* outcome 0's counter */
    }
    ASSERT_EQ_U(ilheap_rw_opcode(rw, i), ILHEAP_OP_SWITCH);
    ilheap_rw_destroy(rw);

    /* Interlocked: the computed address goes to Increment. */
    rw = instrument(SWITCH, sizeof SWITCH, 0x0A000007, k, &n);
    ilheap_rw_id_t s = at(rw, 3);
    ASSERT_EQ_U(ilheap_rw_opcode(rw, ilheap_rw_prev(rw, s)), ILHEAP_OP_POP);
    ASSERT_EQ_U(ilheap_rw_opcode(rw, ilheap_rw_prev(rw, ilheap_rw_prev(rw, s))), ILHEAP_OP_CALL);
    ilheap_rw_destroy(rw);

    /* A value from a call: no switch probe (a reader solves what it can). */
    rw = instrument(SWITCH_CALL, sizeof SWITCH_CALL, 0, k, &n);
    ASSERT_EQ_U(n, 3);
    ilheap_rw_destroy(rw);
}

TEST_MAIN(TEST(test_blocks), TEST(test_calls_before_entry), TEST(test_atomic_and_32_bit), TEST(test_failures),
          TEST(test_fall_through), TEST(test_runs), TEST(test_switch))
