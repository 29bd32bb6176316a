/* ilheap rehome's passes without its output, for the benchmark
 * (bench/bodies.c): an assembly laid out once as the loader maps it, then
 * any number of passes, each rehoming every IL body into a fresh heap of
 * that module (destroyed after the pass, as at module unload). */
#ifndef ILHEAP_TOOLS_REHOME_H
#define ILHEAP_TOOLS_REHOME_H

#include "instrument.h"

#include <stdbool.h>
#include <stdint.h>

typedef struct job tool_rehome_t;

/* What a rehome does to every body: N nop bytes in front (the codec's
 * rewrite), or the IL rewriter in one mode. */
typedef struct tool_rehome_spec {
    const char *path; /* NULL: the default input (as ilheap scan) */
    uint32_t prologue;
    bool instrument;
    tool_instr_mode_t mode;
} tool_rehome_spec_t;

typedef struct tool_rehome_pass {
    uint32_t bodies;
    uint64_t probes;             /* --instrument: probes inserted */
    uint64_t failures, malformed; /* bodies that failed a check, or did not decode */
    uint64_t elapsed_ns;
} tool_rehome_pass_t;

/* Loads and lays out the assembly (messages say "ilheap CMD: ..."). 0, or the exit
 * status after printing why (*out NULL). */
int tool_rehome_open(const char *cmd, const tool_rehome_spec_t *spec, tool_rehome_t **out);

/* One pass: every body rehomed into a fresh heap; with check, each new body
 * decoded again and checked, as ilheap rehome does (without, the rewrite
 * alone is timed). 0, or the exit status after printing why. */
int tool_rehome_pass(tool_rehome_t *job, bool check, tool_rehome_pass_t *result);

void tool_rehome_close(tool_rehome_t *job);

#endif
