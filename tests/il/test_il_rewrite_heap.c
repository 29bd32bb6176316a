/* The rewriter into a module heap: the worked example of docs/il-rewriter.md
 * (count_returns, copied from the page word for word) on a body with two
 * returns, a branch to one of them and a tail call; the result lies in the
 * heap's window and decodes with a probe before each plain ret. */
#include "ilheap/ilheap.h"
#include "ilheap/rewrite.h"
#include "support.h"
#include "test.h"

/* ---- from docs/il-rewriter.md ---- */
/* body: from ilheap_il_decode (GetILFunctionBody's bytes); counter: memory
 * that outlives the module's code. Returns the new body in heap, or NULL. */
static void *count_returns(ilheap_rw_t *rw, const ilheap_il_body_t *body,
                           int32_t *counter, struct ilheap_heap *heap)
{
    size_t bad;
    if (ilheap_rw_load(rw, body, &bad) != ILHEAP_OK)
        return NULL;                       /* ilheap_last_message() says why, bad where */
    ilheap_rw_insn_t probe[ILHEAP_RW_PROBE_MAX];
    size_t n = ilheap_rw_counter_probe((uint64_t)(uintptr_t)counter,
                                       sizeof(void *) == 8, probe);
    for (ilheap_rw_id_t i = ilheap_rw_first(rw); i != ILHEAP_RW_END; i = ilheap_rw_next(rw, i)) {
        if (ilheap_rw_opcode(rw, i) != ILHEAP_OP_RET)
            continue;
        /* BLOCK_START: branches to this ret (and leaves out of a try) run the probe too */
        ilheap_status_t st = ilheap_rw_insert(rw, i, ILHEAP_RW_BLOCK_START, probe, n, NULL);
        if (st == ILHEAP_IL_SPLIT_TAIL_CALL)
            continue;                      /* tail. call; ret: leave that path alone */
        if (st != ILHEAP_OK)
            return NULL;
    }
    void *out;
    size_t size;
    if (ilheap_rw_encode_to_heap(rw, heap, &out, &size) != ILHEAP_OK)
        return NULL;                       /* e.g. ILHEAP_IL_OVERFLOW: max stack past 65535 */
    return out;                            /* SetILFunctionBody(module, token, out) */
}
/* ---- end of the page's code ---- */

static ilheap_heap_t *heap_over_self(const uint8_t **base)
{
    support_module_t self;
    if (!support_find_module(NULL, &self))
        return NULL;
    ilheap_heap_options_t options;
    ilheap_heap_options_init(&options);
    ilheap_heap_t *heap = NULL;
    if (ilheap_heap_create((const void *)self.base, 0, &options, &heap) != ILHEAP_OK)
        return NULL;
    *base = (const uint8_t *)self.base;
    return heap;
}

static void test_docs_example_probe_before_ret(void)
{
    /* tiny header (15 bytes of code), then:
     * 0 ldarg.0  1 brtrue.s 4  3 ret  4 ldarg.0  5 brfalse.s 14  7 tail.
     * 9 call 0x0A000001  14 ret (the tail call's: a branch may reach it, a
     * probe may not go there); one byte more after the body */
    static const uint8_t body_bytes[] = {0x3E, 0x02, 0x2D, 0x01, 0x2A, 0x02, 0x2C, 0x07, 0xFE,
                                         0x14, 0x28, 1, 0, 0, 0x0A, 0x2A, 0x00};
    ilheap_il_body_t body;
    ASSERT_EQ_U(ilheap_il_decode(body_bytes, 16, &body, NULL, 0), ILHEAP_OK);
    ASSERT_EQ_U(body.code_size, 15);
    const uint8_t *base;
    ilheap_heap_t *heap = heap_over_self(&base);
    if (heap == NULL)
        TEST_FAIL_("heap over the test's image: %s", ilheap_last_message());
    ilheap_rw_t *rw;
    ASSERT_EQ_U(ilheap_rw_create(&rw), ILHEAP_OK);
    static int32_t counter;
    uint8_t *out = count_returns(rw, &body, &counter, heap);
    if (out == NULL)
        TEST_FAIL_("count_returns: %s", ilheap_last_message());
    ASSERT_TRUE(ilheap_heap_in_window(heap, out, 1));
    ilheap_il_body_t nb;
    ASSERT_EQ_U(ilheap_il_decode(out, 1u << 16, &nb, NULL, 0), ILHEAP_OK);
    ASSERT_TRUE(ilheap_heap_in_window(heap, out, nb.body_size));
    size_t pn = sizeof(void *) == 8 ? 15 : 11;
    ASSERT_EQ_U(nb.code_size, 15 + pn);      /* one probe: the ret at 3 */
    ASSERT_EQ_U(nb.code[1], 0x2D);
    ASSERT_EQ_U(nb.code[2], pn + 1);         /* brtrue.s still goes to 4's ldarg.0 */
    ASSERT_EQ_U(nb.code[3], sizeof(void *) == 8 ? 0x21 : 0x20);
    ASSERT_EQ_U(nb.code[3 + pn], 0x2A);
    ASSERT_EQ_U(nb.code[nb.code_size - 1], 0x2A); /* the tail call's ret has no probe */
    ASSERT_EQ_U(nb.code[nb.code_size - 6], 0x28);
    ASSERT_EQ_U(nb.max_stack, 11);
    ilheap_rw_destroy(rw);
    ilheap_heap_destroy(heap);
}

TEST_MAIN(TEST(test_docs_example_probe_before_ret))
