/* An independent checker of encoded IL method bodies, for the rewriter's
 * tests: it decodes the bytes with the codec and the opcode table only (not
 * the rewriter) and checks the structural rules of ECMA-335 II.19 and
 * I.12.4.2 by IL offsets, and the stack depth along every path.
 *
 *   - every instruction decodes, every branch, switch target and clause
 *     boundary is an instruction start (or the code's end for an end);
 *   - clause blocks are non-empty; a handler or filter lies outside its own
 *     try; blocks of two clauses nest or lie apart, two clauses share a try
 *     only when both catch (catch or filter), and an inner clause comes
 *     before an outer one in the table;
 *   - control enters a try only at its first offset, never enters a handler
 *     or filter (nor falls into one, nor starts in one), leaves a try or a
 *     catch handler only by leave, and a finally, fault or filter never;
 *   - ret and jmp lie outside every block; endfinally directly in a finally
 *     or fault; endfilter last in its filter; rethrow in a catch; localloc
 *     outside handlers and filters;
 *   - with a call callback, along every path from the method's entry and
 *     from each handler and filter (as the JIT imports: code reached from
 *     neither is not checked): the depth is the same on every path into an
 *     instruction, never below 0, 0 where a try starts, 1 at catch and
 *     filter entries, `returns` at ret, 1 at endfilter, at most the body's
 *     max stack. */
#ifndef ILHEAP_TESTS_IL_VERIFY_H
#define ILHEAP_TESTS_IL_VERIFY_H

#include <stddef.h>
#include <stdint.h>

/* pops and pushes of a call, callvirt, calli or newobj (newobj: pops the
 * arguments; pushes is taken as 1); 0 to stop with "unknown". */
typedef int (*il_verify_call_fn)(void *ctx, uint16_t opcode, uint32_t token, uint32_t *pops,
                                 uint32_t *pushes);

typedef struct il_verify_opts {
    il_verify_call_fn call; /* NULL: no stack check */
    void *ctx;
    int returns;            /* items a ret takes: 0 or 1; -1 either */
} il_verify_opts_t;

/* 1 when body[0 .. size) passes; 0 with the first defect in msg. */
int il_verify(const uint8_t *body, size_t size, const il_verify_opts_t *opts, char *msg, size_t msg_size);

/* The test bodies' call tokens: MemberRef 0x0Aiiiiph, pops p (bits 4-7),
 * pushes h (bits 0-3), i a number that tells methods apart. A callback
 * for them. */
#define IL_TEST_CALL_ID(id, pops, pushes)                                                          \
    (0x0A000000u | (uint32_t)(id) << 8 | (uint32_t)(pops) << 4 | (uint32_t)(pushes))
#define IL_TEST_CALL(pops, pushes) IL_TEST_CALL_ID(0, pops, pushes)
int il_verify_test_calls(void *ctx, uint16_t opcode, uint32_t token, uint32_t *pops, uint32_t *pushes);

#endif
