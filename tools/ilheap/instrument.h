/* ilheap rehome --instrument calls|blocks|none (tools/ilheap/instrument.c):
 * counter probes inserted with the IL rewriter, the body encoded into the
 * module's heap, and the edge check of the result (docs/cli.md). */
#ifndef ILHEAP_TOOLS_INSTRUMENT_H
#define ILHEAP_TOOLS_INSTRUMENT_H

#include "edge_check.h"
#include "tool.h"

#include "ilheap/heap.h"
#include "ilheap/instrument.h"
#include "ilheap/rewrite.h"

typedef enum tool_instr_mode {
    TOOL_INSTR_NONE,   /* decode to instructions, encode unchanged: byte for byte */
    TOOL_INSTR_CALLS,  /* one probe at method entry (before the first instruction) */
    TOOL_INSTR_BLOCKS, /* one probe at every basic block start (the block-start rule) */
} tool_instr_mode_t;

/* One per run: the rewriters and buffers are kept from body to body. */
typedef struct tool_instr {
    tool_instr_mode_t mode;
    ilheap_rw_t *rw;
    ilheap_instr_t *instr;
    uint64_t next_counter;
    tool_edges_t edges;
} tool_instr_t;

/* "none", "calls" or "blocks"; false for any other name. */
bool tool_instr_parse(const char *name, tool_instr_mode_t *mode);
/* 0, or -1 when out of memory. */
int tool_instr_init(tool_instr_t *t, tool_instr_mode_t mode);
void tool_instr_free(tool_instr_t *t);

/* Instruments orig and encodes it into heap: *out, *size, *probes (probes
 * inserted). With check, also records the original edges for
 * tool_instr_check. Returns false with the reason in msg when a step failed
 * (*out NULL). */
bool tool_instr_body(tool_instr_t *t, const ilheap_il_body_t *orig, ilheap_heap_t *heap, bool check, void **out,
                     size_t *size, uint32_t *probes, char *msg, size_t msg_size);

/* The check of the body tool_instr_body just wrote to out[0 .. size): the
 * edge check (edge_check.h); in none mode also byte for byte the original
 * (orig_bytes). False with the reason in msg when it does not hold. */
bool tool_instr_check(tool_instr_t *t, const ilheap_il_body_t *orig, const uint8_t *orig_bytes, const void *out,
                      size_t size, char *msg, size_t msg_size);

#endif
