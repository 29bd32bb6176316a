/* The edge check of rewritten IL bodies (tools/ilheap/edge_check.c): what
 * `ilheap rehome --instrument` and the rewriter's fuzz target verify. */
#ifndef ILHEAP_TOOLS_EDGE_CHECK_H
#define ILHEAP_TOOLS_EDGE_CHECK_H

#include "tool.h"

#include "ilheap/rewrite.h"

/* Marks an original instruction in tool_edges_t.at_offset. */
#define TOOL_ORIGINAL 0x80000000u

typedef struct tool_edge {
    ilheap_rw_id_t from; /* the branch or switch (an original instruction) */
    uint32_t index;      /* switch: which target; else 0 */
    ilheap_rw_id_t to;   /* its original target */
} tool_edge_t;

/* Buffers kept from body to body. */
typedef struct tool_edges {
    ilheap_rw_t *check; /* the new body, decoded again */
    tool_clauses_t clauses;
    tool_edge_t *edges;
    size_t edge_count, edge_cap;
    uint32_t *at_offset; /* new offset -> decoded instruction id (| TOOL_ORIGINAL), else UINT32_MAX */
    size_t at_cap;
    ilheap_rw_id_t *original_at; /* original offset -> original instruction id, else UINT32_MAX */
    size_t original_cap;
} tool_edges_t;

/* 0, or -1 when out of memory. */
int tool_edges_init(tool_edges_t *e);
void tool_edges_free(tool_edges_t *e);

/* Loads orig into rw (ilheap_rw_load) and records its edges, before any edit.
 * False with the reason in msg. */
bool tool_edges_load(tool_edges_t *e, ilheap_rw_t *rw, const ilheap_il_body_t *orig, char *msg, size_t msg_size);

/* After editing rw (insertions only) and encoding it to out[0 .. size): the
 * check described at the top of edge_check.c. False with the reason in msg. */
bool tool_edges_check(tool_edges_t *e, ilheap_rw_t *rw, const ilheap_il_body_t *orig, const void *out, size_t size,
                      char *msg, size_t msg_size);

#endif
