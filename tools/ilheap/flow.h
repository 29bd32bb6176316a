/* Control flow of one method as a developer sees it (docs/coverage.md,
 * "Branches"): which conditional branches are source branches and which the
 * compiler made (cached delegates, finally clean-up, exception filters, state
 * dispatch and await checks of state machines, expression breakpoints), which
 * sequence points belong to code that never runs, where a block stops being
 * reached (after a call that never returns), and how often each outcome of a
 * branch ran: the profiler's edge probes where it placed them, else from
 * block counts (edges solved by flow conservation). */
#ifndef ILHEAP_TOOLS_FLOW_H
#define ILHEAP_TOOLS_FLOW_H

#include "counts.h"
#include "ilheap/pdb.h"
#include "ilheap/pe.h"
#include "ilheap/rewrite.h"
#include "tool.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Per module: which of its methods never return (no `ret` in their body, or
 * [DoesNotReturn]), found when first called. */
typedef struct cov_returns {
    const ilheap_pe_t *pe;
    ilheap_rw_t *rw;      /* a second rewriter for the callees' bodies */
    uint8_t *state;       /* by MethodDef rid: 0 unknown, 1 returns, 2 never returns */
    uint32_t count;
    tool_clauses_t clauses;
} cov_returns_t;

/* member_flags: cov_members_t.flags (COV_MEMBER_NO_RETURN), or NULL. */
bool cov_returns_init(cov_returns_t *r, const ilheap_pe_t *pe, const uint8_t *member_flags);
void cov_returns_free(cov_returns_t *r);

/* One method's analysis, over the body loaded in rw and its block starts. */
typedef struct cov_flow {
    const ilheap_pe_t *pe;
    ilheap_rw_t *rw;
    const uint32_t *starts; /* block start offsets, ascending */
    size_t nblocks;
    const uint64_t *hits;   /* per block */
    uint64_t *runs;         /* per block: how often its last instruction ran (a branch's runs probe, else hits) */
    uint32_t stray_probes;  /* edge probes that name no branch outcome of this body */
    bool state_machine;     /* MoveNext of a compiler-made <M>d__N type */
    bool async;             /* ... of an async method (it calls SetException) */
    ilheap_rw_id_t *ids;    /* the instructions in order, and their offsets */
    uint32_t *offsets;
    size_t ninsn;
    uint32_t *dead_from;    /* per block: the offset after a call that never returns, else UINT32_MAX */
    /* edges: outcome counts solved from the block counts */
    struct cov_edge *edges;
    size_t nedges;
    uint32_t cond_seen;     /* conditional branches passed so far (the iterator rule) */
    bool first_was_switch;
} cov_flow_t;

/* Analyses the method `rid` loaded in rw, its block counts and its edge
 * probes probes[0 .. nprobes) (NULL, 0: none). False without memory. */
bool cov_flow_begin(cov_flow_t *f, const ilheap_pe_t *pe, ilheap_rw_t *rw, uint32_t rid, const uint32_t *starts,
                    size_t nblocks, const uint64_t *hits, const counts_edge_t *probes, size_t nprobes,
                    cov_returns_t *returns);
void cov_flow_end(cov_flow_t *f);

/* True when conditional branch `id` (met in IL order) is a source branch;
 * `points` are the method's sequence points (to tell a finally of the
 * compiler's from one the developer wrote). */
bool cov_flow_source_branch(cov_flow_t *f, ilheap_rw_id_t id, const ilheap_pdb_sequence_point_t *points, size_t np);

/* True when the sequence point at `offset` marks code that never runs (the
 * `nop` of an expression breakpoint: `ldc.i4.1; brtrue L; nop; L:`). */
bool cov_flow_dead_point(const cov_flow_t *f, uint32_t offset);

/* The hits of a line whose sequence point starts at `offset`: its block's,
 * or 0 after a call in that block that never returns. */
uint64_t cov_flow_point_hits(const cov_flow_t *f, uint32_t offset);

/* How often outcome k of the conditional branch at `offset` ran: its edge
 * probe's count, or its edge's solved count, or (unsolved) the hits of the
 * block it leads to. */
uint64_t cov_flow_outcome_hits(const cov_flow_t *f, uint32_t offset, uint32_t k, uint32_t target_offset);

#endif
