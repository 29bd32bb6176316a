/* The instrumenter's state (include/ilheap/instrument.h), shared by the
 * block probes (instrument.c) and the edge probes (instrument_edges.c). */
#ifndef ILHEAP_IL_INSTRUMENT_INTERNAL_H
#define ILHEAP_IL_INSTRUMENT_INTERNAL_H

#include "ilheap/instrument.h"

/* Most instructions that load a switch's value and are run again by its probe. */
#define INSTR_EXPR_MAX 6u

typedef enum instr_edge_kind {
    INSTR_EDGE_FALL = 1,   /* the fall-through: a probe after the branch */
    INSTR_EDGE_RUNS = 2,   /* the branch's runs: a probe before it */
    INSTR_EDGE_SWITCH = 3, /* every outcome of a switch: its value computed again */
} instr_edge_kind_t;

/* One planned edge probe. */
typedef struct instr_edge {
    ilheap_rw_id_t branch;
    uint8_t kind;   /* instr_edge_kind_t */
    uint8_t nexpr;  /* INSTR_EDGE_SWITCH: the value's instructions */
    uint32_t key;   /* its (first) key's index: its counter is base + 8 * key */
    uint32_t targets; /* INSTR_EDGE_SWITCH: the switch's target count */
    ilheap_rw_insn_t expr[INSTR_EXPR_MAX];
} instr_edge_t;

struct ilheap_instr {
    ilheap_rw_id_t *at;       /* where each block probe goes */
    ilheap_probe_key_t *keys; /* what each probe counts */
    size_t cap;               /* of both */
    uint32_t *starts;         /* block start offsets, ascending */
    uint32_t *in;             /* per block: edges into it, INSTR_OPEN when entered otherwise */
    size_t block_cap;
    instr_edge_t *edges;
    size_t nedges, edge_cap;
};

/* Room for n keys (and block places). */
ilheap_status_t ilheap__instr_reserve(ilheap_instr_t *in, size_t n);

/* Plans the edge probes of the body rw holds (unedited; its n block starts
 * in in->at, their keys in in->keys) and appends their keys; *total: all
 * the keys. */
ilheap_status_t ilheap__instr_plan_edges(ilheap_instr_t *in, ilheap_rw_t *rw, size_t n, size_t *total);

/* Inserts the planned edge probes, their counters from base on. */
ilheap_status_t ilheap__instr_insert_edges(const ilheap_instr_t *in, ilheap_rw_t *rw,
                                           const ilheap_instr_options_t *opt, uint64_t base);

/* One counter probe on addr (opt's kind: pure IL or Interlocked); 0 when the
 * address does not fit the target. */
size_t ilheap__instr_probe(const ilheap_instr_options_t *opt, uint64_t addr,
                           ilheap_rw_insn_t out[ILHEAP_RW_PROBE_MAX]);

#endif
