/* Every allocation of the rewriter failing in turn (SQLite's countdown over
 * the fault site ILHEAP_FAULT_MEMORY, os/memory.h): in create, load, single
 * exit, wrap (its inserts, the clause table, the saved clauses), the entry
 * probe's insert, encode and the return local's LocalVarSig. Each failure is
 * ILHEAP_ENOMEM and leaves the body as it was before the call (a failed load
 * leaves the rewriter empty); after it, with the fault gone, the same call
 * succeeds and the result passes the verifier. */
#include <stdlib.h>
#include <string.h>

#include "il_asm.h"
#include "il_verify.h"
#include "ilheap/rewrite.h"
#include "os/fault.h"
#include "test.h"

#define TYPE 0x01000002u

static il_asm_t A;
static ilheap_il_body_t B;
static ilheap_rw_insn_t fin[ILHEAP_RW_PROBE_MAX + 1], entry[ILHEAP_RW_PROBE_MAX];
static size_t fin_n, entry_n;

/* 64 bytes of code (the load makes room for as many ids as the code has
 * bytes, at least 64: the single exit's ids are the first that do not fit):
 * a try/catch, straight code, a ret. */
static void make_body(void)
{
    il_asm_init(&A);
    int t = il_label(&A), h = il_label(&A), e = il_label(&A);
    il_mark(&A, t);
    il_op(&A, ILHEAP_OP_NOP);
    il_br(&A, ILHEAP_OP_LEAVE_S, e);
    il_mark(&A, h);
    il_op(&A, ILHEAP_OP_POP);
    il_br(&A, ILHEAP_OP_LEAVE_S, e);
    il_mark(&A, e);
    for (int i = 0; i < 64 - 8; i++)
        il_op(&A, ILHEAP_OP_NOP);
    il_op(&A, ILHEAP_OP_LDC_I4_1);
    il_op(&A, ILHEAP_OP_RET);
    il_clause(&A, ILHEAP_IL_CATCH, t, h, h, e, -1, TYPE);
    il_asm_body(&A, 8, 0x11000001u, &B);
    ASSERT_EQ_U(B.code_size, 64);
}

/* The bytes rw encodes to (with no fault armed), malloc'd. */
static uint8_t *bytes_of(ilheap_rw_t *rw, size_t *size)
{
    ASSERT_EQ_U(ilheap_rw_encode(rw, NULL, 0, size), ILHEAP_OK);
    uint8_t *b = malloc(*size);
    ASSERT_NOT_NULL(b);
    ASSERT_EQ_U(ilheap_rw_encode(rw, b, *size, size), ILHEAP_OK);
    return b;
}

enum { STEP_LOAD, STEP_EXIT, STEP_WRAP, STEP_ENTRY, STEP_ENCODE, STEP_LOCALS, STEPS };

static ilheap_rw_id_t epilogue;

/* One step of the wrapper. */
static ilheap_status_t step(ilheap_rw_t *rw, int s)
{
    ilheap_rw_id_t bad;
    size_t size;
    uint8_t buf[4096], *blob;
    uint32_t index;
    static const uint8_t locals[] = {0x07, 0x01, 0x08}, int_type[] = {0x00, 0x00, 0x08};
    ilheap_rw_handler_t h = {ILHEAP_IL_FINALLY, 0, fin, fin_n, NULL, 0};
    switch (s) {
    case STEP_LOAD:
        return ilheap_rw_load(rw, &B, NULL);
    case STEP_EXIT:
        return ilheap_rw_single_exit(rw, 1, 0, &epilogue, &bad);
    case STEP_WRAP:
        return ilheap_rw_wrap(rw, ilheap_rw_first(rw), epilogue, &h, NULL, &bad);
    case STEP_ENTRY:
        return ilheap_rw_insert(rw, ilheap_rw_first(rw), ILHEAP_RW_BEFORE, entry, entry_n, NULL);
    case STEP_ENCODE:
        return ilheap_rw_encode(rw, buf, sizeof buf, &size);
    default: {
        uint8_t arena_mem[256];
        ilheap_sig_arena_t arena = {arena_mem, sizeof arena_mem, 0};
        ilheap_sig_t sig;
        ASSERT_EQ_U(ilheap_sig_decode(ILHEAP_SIG_METHOD_DEF, int_type, 3, 0, &arena, &sig, NULL), ILHEAP_OK);
        ilheap_status_t st = ilheap_rw_locals_append_type(locals, sizeof locals, sig.ret.type, &blob, &size, &index);
        if (st == ILHEAP_OK)
            free(blob);
        return st;
    }
    }
}

/* Step s with its n-th allocation failing, on a fresh rewriter brought to
 * that step without faults. Returns whether the fault fired. */
static int fail_at(int s, unsigned long n)
{
    ilheap_rw_t *rw;
    ASSERT_EQ_U(ilheap_rw_create(&rw), ILHEAP_OK);
    for (int k = 0; k < s && k < STEP_ENCODE; k++)
        ASSERT_EQ_U(step(rw, k), ILHEAP_OK);
    size_t before_size = 0, after_size = 0;
    uint8_t *before = s > STEP_LOAD && s < STEP_ENCODE ? bytes_of(rw, &before_size) : NULL;
    ilheap__fault_arm(n, ILHEAP_FAULT_MEMORY, ILHEAP_OS_NOMEM, 0, 0);
    ilheap_status_t st = step(rw, s);
    unsigned long fired = ilheap__fault_disarm();
    if (fired) {
        ASSERT_STATUS(st, ILHEAP_ENOMEM);
        if (s == STEP_LOAD)
            ASSERT_EQ_U(ilheap_rw_count(rw), 0);
        if (before != NULL) {
            uint8_t *after = bytes_of(rw, &after_size);
            ASSERT_EQ_U(after_size, before_size);
            ASSERT_MEM_EQ(after, before, before_size);
            free(after);
        }
        ASSERT_EQ_U(step(rw, s), ILHEAP_OK); /* the same call, with the fault gone */
    } else {
        ASSERT_EQ_U(st, ILHEAP_OK);
    }
    free(before);
    ilheap_rw_destroy(rw);
    return fired != 0;
}

static void test_every_allocation_fails_in_turn(void)
{
    make_body();
    fin_n = ilheap_rw_counter_probe(0x1000, 1, fin);
    memset(&fin[fin_n], 0, sizeof fin[0]);
    fin[fin_n++].opcode = ILHEAP_OP_ENDFINALLY;
    entry_n = ilheap_rw_counter_probe(0x2000, 1, entry);
    unsigned fired[STEPS] = {0};
    for (int s = 0; s < STEPS; s++)
        for (unsigned long n = 1; fail_at(s, n); n++)
            fired[s]++;
    printf("  allocations failed in turn: load %u, single exit %u, wrap %u, entry insert %u, encode %u, "
           "locals %u\n", fired[0], fired[1], fired[2], fired[3], fired[4], fired[5]);
    for (int s = 0; s < STEPS; s++)
        if (s != STEP_ENTRY) /* the entry's ids fit after the single exit's growth */
            ASSERT_GT_U(fired[s], 0);
    /* create: the rewriter itself */
    ilheap_rw_t *rw = (ilheap_rw_t *)1;
    ilheap__fault_arm(1, ILHEAP_FAULT_MEMORY, ILHEAP_OS_NOMEM, 0, 0);
    ASSERT_STATUS(ilheap_rw_create(&rw), ILHEAP_ENOMEM);
    ASSERT_EQ_U(ilheap__fault_disarm(), 1);
    ASSERT_NULL(rw);
    /* and the whole wrapper without faults verifies */
    ASSERT_EQ_U(ilheap_rw_create(&rw), ILHEAP_OK);
    for (int s = 0; s < STEP_ENCODE; s++)
        ASSERT_EQ_U(step(rw, s), ILHEAP_OK);
    size_t size;
    uint8_t *out = bytes_of(rw, &size);
    il_verify_opts_t o = {il_verify_test_calls, NULL, 1};
    char msg[256];
    if (!il_verify(out, size, &o, msg, sizeof msg))
        TEST_FAIL_("verify: %s", msg);
    free(out);
    ilheap_rw_destroy(rw);
    il_asm_free(&A);
}

TEST_MAIN(TEST(test_every_allocation_fails_in_turn))
