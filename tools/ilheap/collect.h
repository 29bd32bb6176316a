/* ilheap collect: a command run with every .NET process under the profiler in
 * blocks mode, then the coverage reports (collect.c); the profiler found next
 * to the ilheap command (find_profiler.c); coverage thresholds (threshold.c). */
#ifndef ILHEAP_TOOLS_COLLECT_H
#define ILHEAP_TOOLS_COLLECT_H

#include "cover.h"

#include <stdbool.h>
#include <stddef.h>

/* collect's own exit statuses, past the ones every subcommand shares (and
 * below the 126..255 a shell gives to commands that could not run or died of a
 * signal). A command that fails gives its own status instead. */
enum {
    COLLECT_EXIT_NO_COVERAGE = 7, /* no process was counted, or no coverable line */
    COLLECT_EXIT_THRESHOLD = 8,   /* coverage below a --threshold */
};

/* The profiler: `given` (--profiler) made absolute, else the first of the
 * layouts next to this executable (NuGet package and flat copy: the same
 * directory; installed: LIBDIR/ilheap; build tree: ../profiler). Checks it is
 * a shared library for this machine. 0 with out filled; else prints why and
 * returns TOOL_EXIT_MISSING or TOOL_EXIT_MALFORMED. */
int collect_find_profiler(const char *given, char *out, size_t size);

/* --threshold line=N[,branch=M] (percentages, 0..100, decimals allowed). */
typedef struct collect_threshold {
    bool line_set, branch_set;
    double line, branch;
} collect_threshold_t;

/* Parses spec into *t; false (with a message on stderr) when malformed. */
bool collect_threshold_parse(const char *spec, collect_threshold_t *t);

/* Checks the totals against *t, printing each missed one on stderr; true when
 * all are met. A branch threshold over no branches is said and not failed. */
bool collect_threshold_check(const collect_threshold_t *t, const cov_totals_t *totals);

#endif
