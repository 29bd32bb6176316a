/* ilheap instrumentation: counter probes for calls and blocks, placed once.
 *
 * THE ONE RULE. ilheap_instr_body inserts into a body loaded in a rewriter
 * (rewrite.h) one probe per counted place, each adding 1 to a 64-bit counter
 * whose address is compiled into the IL, and says which place each probe
 * counts with a probe key. The profiler (ILHEAP_MODE=calls, blocks) and
 * `ilheap rehome --instrument` both place their probes here.
 *   - ILHEAP_INSTR_CALLS: one probe before the first instruction, with
 *     ILHEAP_RW_BEFORE, so that only entering the method runs it (a branch
 *     back to offset 0 leads past it). Key: ENTRY, offset 0.
 *   - ILHEAP_INSTR_BLOCKS: one probe at every basic block start
 *     (ilheap_rw_block_starts), with ILHEAP_RW_BLOCK_START, so that every
 *     path into the block runs it (a handler starts with its probe). Key:
 *     BLOCK, the original offset of the block's first instruction.
 *   - With ILHEAP_INSTR_EDGES (blocks only): probes on the outcomes of
 *     conditional branches that block counts cannot tell (below), so that
 *     every outcome's count is exact.
 *
 * EDGE PROBES. An outcome of a branch B is known from block counts when the
 * block it leads to is entered by that outcome alone (its count is the
 * outcome's); B's runs are its block's count when B starts its block or
 * nothing before B in its block can throw; then one unknown outcome is B's
 * runs less the others. Where that does not settle every outcome:
 *   - the fall-through, counted by a probe right after B (ILHEAP_RW_AFTER:
 *     only falling through from B runs it). Key: EDGE, B, its last outcome;
 *   - B's runs, by a probe right before B (B is not a block start then).
 *     Key: EDGE, B, outcome ILHEAP_PROBE_RUNS;
 *   - a switch with two or more unknown targets: one probe before it that
 *     computes the outcome again from the instructions that load its value
 *     (loads of locals, arguments and constants and arithmetic that cannot
 *     throw, in B's block) and adds 1 to that outcome's counter. Keys: EDGE,
 *     B, outcomes 0 .. n (n targets, then the fall-through), consecutive.
 *     A switch whose value comes another way keeps the fall-through and runs
 *     probes only (a reader solves the rest).
 * Every edge probe is straight-line and stack neutral: the rewriter's safe
 * max-stack bound holds and no EH region is crossed.
 *
 * THE PROBE. `ldc.i8 ADDR; conv.u; dup; ldind.i8; ldc.i4.1; conv.i8; add;
 * stind.i8` (ilheap_rw_counter64_probe; 16 bytes, stack neutral), or with an
 * Interlocked.Increment(int64&) token `ldc.i8 ADDR; conv.u; call TOKEN; pop`
 * (exact under threads). On a 32-bit target ADDR is an ldc.i4.
 *
 * THE KEY. A probe key names what a counter counts in terms of the original
 * body, so that a reader can find it again in the DLL: a kind, the original
 * IL offset, and an outcome index. Counts files (counts.h) store a key in 8
 * bytes; EDGE keys (a conditional branch's outcome: the branch instruction's
 * original offset, outcome i = its i-th target, the last one the
 * fall-through) fit the same 8 bytes, so probes on edges need no new format.
 */
#ifndef ILHEAP_INSTRUMENT_H
#define ILHEAP_INSTRUMENT_H

#include <stddef.h>
#include <stdint.h>

#include "ilheap/export.h"
#include "ilheap/rewrite.h"
#include "ilheap/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum ilheap_instr_mode {
    ILHEAP_INSTR_CALLS = 1,  /* one probe at the method's entry */
    ILHEAP_INSTR_BLOCKS = 2, /* one probe at every basic block start */
} ilheap_instr_mode_t;

typedef enum ilheap_probe_kind {
    ILHEAP_PROBE_ENTRY = 1, /* entries into the method (il_offset 0) */
    ILHEAP_PROBE_BLOCK = 2, /* runs of a basic block (il_offset: its first instruction) */
    ILHEAP_PROBE_EDGE = 3,  /* a conditional branch's outcome (il_offset: the branch) */
} ilheap_probe_kind_t;

/* Most outcomes an EDGE key can name (24 bits). */
#define ILHEAP_PROBE_OUTCOME_MAX 0xFFFFFFu
/* The outcome of an EDGE key that counts the branch's runs (every outcome):
 * no real outcome has this index. */
#define ILHEAP_PROBE_RUNS ILHEAP_PROBE_OUTCOME_MAX

/* ilheap_instr_options_t.flags */
enum {
    ILHEAP_INSTR_EDGES = 1u << 0, /* blocks mode: also the edge probes (above) */
};

typedef struct ilheap_probe_key {
    uint32_t il_offset; /* in the original body */
    uint8_t kind;       /* ilheap_probe_kind_t */
    uint32_t outcome;   /* EDGE: 0 .. ILHEAP_PROBE_OUTCOME_MAX; else 0 */
} ilheap_probe_key_t;

/* Where probe i's counter is: the address of n contiguous, 8-byte aligned
 * 64-bit counters, counter i for the i-th key. Any status other than
 * ILHEAP_OK stops ilheap_instr_body with it, before the body is changed. */
typedef ilheap_status_t (*ilheap_instr_counters_fn)(void *ctx, size_t n, uint64_t *addr);

typedef struct ilheap_instr_options {
    ilheap_instr_mode_t mode;
    int ptr64;            /* nonzero: 64-bit target (ldc.i8 addresses); 0: 32-bit */
    uint32_t increment;   /* 0: the pure-IL probe; else the token of
                             Interlocked.Increment(int64&) usable in this body */
    ilheap_instr_counters_fn counters;
    void *ctx;            /* passed to counters */
    uint32_t flags;       /* ILHEAP_INSTR_EDGES */
} ilheap_instr_options_t;

/* Keeps the buffers of ilheap_instr_body from one body to the next (one per
 * thread, like a rewriter). */
typedef struct ilheap_instr ilheap_instr_t;

/* ILHEAP_OK, ILHEAP_EINVAL or ILHEAP_ENOMEM. */
ILHEAP_API ilheap_status_t ilheap_instr_create(ilheap_instr_t **out);
/* NULL is ignored. */
ILHEAP_API void ilheap_instr_destroy(ilheap_instr_t *in);

/* Inserts opt->mode's probes into the body rw holds, as loaded (no edits
 * yet). Asks opt->counters once for the counters of all the probes, then
 * inserts them. *keys receives the probe keys in counter order (the block
 * probes' in ascending offsets, then the edge probes'; owned by in,
 * valid until its next use), *count their number (0 for a body with no
 * instructions; counters is not called then). With opt->increment it sets
 * rw's inserted-stack callback (ilheap_rw_set_inserted_stack_fn) for the
 * probe's call; without, it clears it.
 * Errors: ILHEAP_EINVAL (a bad argument, or rw was edited), ILHEAP_ENOMEM,
 * ILHEAP_IL_OVERFLOW (more probes than 32 bits count), the status of
 * ilheap_rw_block_starts or of opt->counters (nothing changed), or of
 * ilheap_rw_insert: then rw holds some of the probes; load the body again
 * before using rw (the rewriter has no undo). */
ILHEAP_API ilheap_status_t ilheap_instr_body(ilheap_instr_t *in, ilheap_rw_t *rw,
                                             const ilheap_instr_options_t *opt,
                                             const ilheap_probe_key_t **keys, size_t *count);

#ifdef __cplusplus
}
#endif

#endif /* ILHEAP_INSTRUMENT_H */
