/* Stack effects, return counts and constructor tests from a real image's
 * metadata, for the rewriter's tests on compiled code: the stack callback
 * a profiler would write (signatures decoded by include/ilheap/sig.h, the
 * effect by ilheap_rw_call_effect), and the matching verifier callback. */
#ifndef ILHEAP_TESTS_IL_PE_CALLS_H
#define ILHEAP_TESTS_IL_PE_CALLS_H

#include <stdint.h>

#include "ilheap/pe.h"
#include "ilheap/rewrite.h"

typedef struct il_pe_calls {
    const ilheap_pe_t *pe;
    uint8_t *arena; /* grown to what a signature needs; free() it at the end */
    size_t arena_size;
} il_pe_calls_t;

/* ilheap_rw_stack_fn over ctx = il_pe_calls_t: MethodDef, MemberRef,
 * MethodSpec (its method's signature) and StandAloneSig (calli) tokens. */
ilheap_status_t il_pe_stack_fn(void *ctx, uint16_t opcode, uint32_t token, uint32_t *pops, uint32_t *pushes);
/* The same as il_verify's callback. */
int il_pe_verify_call(void *ctx, uint16_t opcode, uint32_t token, uint32_t *pops, uint32_t *pushes);
/* The decoded signature of MethodDef `method` into *sig (its tree in c's
 * arena, valid until the next call): ILHEAP_OK or the decoder's status. */
ilheap_status_t il_pe_method_sig(il_pe_calls_t *c, uint32_t method, ilheap_sig_t *sig);
/* Locals of a LocalVarSig token (0: none): its count; -1 when it is not one. */
long il_pe_local_count(il_pe_calls_t *c, uint32_t local_sig);
/* ilheap_rw_ctor_fn: a MethodDef, MemberRef or MethodSpec named ".ctor". */
int il_pe_is_ctor(void *ctx, uint32_t token);

#endif
