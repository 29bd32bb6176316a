/* The edge check of `ilheap rehome --instrument` (tools/ilheap/edge_check.c)
 * accepts what the rewriter's insertion rules produce and rejects a misrouted
 * branch and a moved EH boundary, on two small bodies built here. */
#include "edge_check.h"
#include "test.h"

#include <string.h>

/* ldarg.0; brtrue.s L5; ldc.i4.0; ret; L5: ldc.i4.1; ret (tiny, 7 bytes of code) */
static const uint8_t branchy[] = {0x1E, 0x02, 0x2D, 0x02, 0x16, 0x2A, 0x17, 0x2A};
/* try { nop; leave.s L5 } finally { nop; endfinally } L5: ret (fat, a small EH section) */
static const uint8_t with_eh[] = {0x0B, 0x30, 0x08, 0x00, 0x06, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
                                  0x00, 0xDE, 0x02, 0x00, 0xDC, 0x2A, 0x00, 0x00, /* code, padding */
                                  0x01, 0x10, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x03, 0x03, 0x00, 0x02,
                                  0x00, 0x00, 0x00, 0x00};

static uint32_t out_words[256];
#define OUT ((uint8_t *)out_words)

typedef struct fixture {
    ilheap_rw_t *rw;
    tool_edges_t edges;
    ilheap_il_body_t body;
    ilheap_il_clause_t clauses[4];
    size_t size;
    char msg[512];
} fixture_t;

/* Decodes and loads bytes, inserts a counter probe at every block start with
 * `where`, encodes into OUT. */
static void setup(fixture_t *f, const uint8_t *bytes, size_t n, ilheap_rw_where_t where)
{
    memset(f, 0, sizeof *f);
    ASSERT_EQ_U(ilheap_rw_create(&f->rw), ILHEAP_OK);
    ASSERT_EQ_U(tool_edges_init(&f->edges), 0);
    ASSERT_EQ_U(ilheap_il_decode(bytes, n, &f->body, f->clauses, 4), ILHEAP_OK);
    ASSERT_TRUE(tool_edges_load(&f->edges, f->rw, &f->body, f->msg, sizeof f->msg));
    ilheap_rw_id_t starts[16];
    size_t count = 0;
    ASSERT_EQ_U(ilheap_rw_block_starts(f->rw, starts, 16, &count), ILHEAP_OK);
    ASSERT_GT_U(count, 1);
    ilheap_rw_insn_t probe[ILHEAP_RW_PROBE_MAX];
    size_t len = ilheap_rw_counter_probe(0x7F0000001000ull, 1, probe);
    for (size_t i = 0; i < count; i++)
        ASSERT_EQ_U(ilheap_rw_insert(f->rw, starts[i], where, probe, len, NULL), ILHEAP_OK);
}

static void encode(fixture_t *f)
{
    ASSERT_EQ_U(ilheap_rw_encode(f->rw, OUT, sizeof out_words, &f->size), ILHEAP_OK);
}

static void teardown(fixture_t *f)
{
    ilheap_rw_destroy(f->rw);
    tool_edges_free(&f->edges);
}

static void test_block_start_and_before_pass(void)
{
    fixture_t f;
    for (int where = ILHEAP_RW_BLOCK_START; where <= ILHEAP_RW_BEFORE; where++) {
        setup(&f, branchy, sizeof branchy, (ilheap_rw_where_t)where);
        encode(&f);
        ASSERT_TRUE(tool_edges_check(&f.edges, f.rw, &f.body, OUT, f.size, f.msg, sizeof f.msg));
        teardown(&f);
        setup(&f, with_eh, sizeof with_eh, (ilheap_rw_where_t)where);
        encode(&f);
        ASSERT_TRUE(tool_edges_check(&f.edges, f.rw, &f.body, OUT, f.size, f.msg, sizeof f.msg));
        teardown(&f);
    }
}

/* The bodies have no calls: the exact stack simulation (needed after a
 * replace) never asks. */
static ilheap_status_t no_calls(void *ctx, uint16_t opcode, uint32_t token, uint32_t *pops, uint32_t *pushes)
{
    (void)ctx, (void)opcode, (void)token;
    *pops = *pushes = 0;
    return ILHEAP_EINVAL;
}

/* The branch replaced by one to the other block: the check must name it. */
static void test_misrouted_branch_fails(void)
{
    fixture_t f;
    setup(&f, branchy, sizeof branchy, ILHEAP_RW_BLOCK_START);
    ilheap_rw_id_t branch = ilheap_rw_first(f.rw);
    while (branch != ILHEAP_RW_END && ilheap_rw_opcode(f.rw, branch) != ILHEAP_OP_BRTRUE_S)
        branch = ilheap_rw_next(f.rw, branch);
    ASSERT_NE_U(branch, ILHEAP_RW_END);
    ilheap_rw_insn_t wrong = {.opcode = ILHEAP_OP_BRTRUE_S, .op.target = ilheap_rw_next(f.rw, branch)};
    ASSERT_EQ_U(ilheap_rw_replace(f.rw, branch, &wrong, 1, NULL), ILHEAP_OK);
    ilheap_rw_set_stack_fn(f.rw, no_calls, NULL);
    encode(&f);
    ASSERT_FALSE(tool_edges_check(&f.edges, f.rw, &f.body, OUT, f.size, f.msg, sizeof f.msg));
    ASSERT_TRUE(strstr(f.msg, "the branch at new offset") != NULL);
    teardown(&f);
}

/* The try's end moved onto the leave.s (an original instruction inside the
 * try) in the encoded bytes: the check must name the clause. */
static void test_moved_eh_boundary_fails(void)
{
    fixture_t f;
    setup(&f, with_eh, sizeof with_eh, ILHEAP_RW_BLOCK_START);
    encode(&f);
    ASSERT_TRUE(tool_edges_check(&f.edges, f.rw, &f.body, OUT, f.size, f.msg, sizeof f.msg));
    /* The small section is the last 16 bytes: its clause's TryLength is byte 8. */
    uint8_t *try_length = OUT + f.size - 12 + 4;
    ilheap_rw_id_t leave = ilheap_rw_first(f.rw);
    while (leave != ILHEAP_RW_END && ilheap_rw_opcode(f.rw, leave) != ILHEAP_OP_LEAVE_S)
        leave = ilheap_rw_next(f.rw, leave);
    *try_length = (uint8_t)ilheap_rw_new_offset(f.rw, leave);
    ASSERT_FALSE(tool_edges_check(&f.edges, f.rw, &f.body, OUT, f.size, f.msg, sizeof f.msg));
    ASSERT_TRUE(strstr(f.msg, "EH clause 0: boundary 1") != NULL);
    teardown(&f);
}

TEST_MAIN(TEST(test_block_start_and_before_pass), TEST(test_misrouted_branch_fails),
          TEST(test_moved_eh_boundary_fails))
