/* The profiler's counts files (ILHEAP_COUNTS, blocks mode; the format is in
 * docs/coverage.md), read through the library (include/ilheap/counts.h),
 * and the merge of the same method's entries across files and processes. */
#ifndef ILHEAP_TOOLS_COUNTS_H
#define ILHEAP_TOOLS_COUNTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct counts_block {
    uint32_t il_offset; /* original IL offset of the block's first instruction */
    uint64_t hits;
} counts_block_t;

/* An edge probe's count (docs/coverage.md, "Edge counts"): outcome `outcome`
 * of the conditional branch at il_offset, or its runs (ILHEAP_PROBE_RUNS). */
typedef struct counts_edge {
    uint32_t il_offset, outcome;
    uint64_t hits;
    uint32_t seen; /* merging: how many of the merged entries had it */
} counts_edge_t;

/* One method's counts, summed over every file that named it. */
typedef struct counts_entry {
    char *path;   /* the module as the runtime loaded it */
    char *method; /* "Ns.Type::Method" (messages only) */
    char mvid[37];
    uint32_t token;
    counts_block_t *blocks; /* ascending il_offset, distinct */
    size_t block_count;
    counts_edge_t *edges;   /* ascending (il_offset, outcome), distinct; only those every merged entry had */
    size_t edge_count;
    uint32_t merged;        /* entries summed into this one */
    const char *file; /* where it was first seen (a counts_set_t.files string) */
    uint64_t line;    /* its line in JSON lines; in a counts file its number there, from 1 */
} counts_entry_t;

/* A module path the counts named, with the MVID counted there. */
typedef struct counts_path {
    char mvid[37];
    char *path;
} counts_path_t;

typedef struct counts_set {
    counts_entry_t *entries; /* merged and sorted by mvid, token after counts_finish */
    size_t count, cap;
    char **files; /* the files read, for entry->file */
    size_t file_count;
    uint64_t bad_lines;  /* lines rejected (each reported) */
    uint64_t calls_only; /* calls-mode entries (no blocks), skipped */
    counts_path_t *paths; /* after counts_finish: distinct (mvid, path), sorted so */
    size_t path_count;
} counts_set_t;

/* Reads one counts file (either form) into *set. A malformed JSON line is
 * reported as "ilheap cover: FILE:LINE: reason" and skipped; a damaged counts
 * file, one that lost methods or replaced a running process's file, is
 * reported (bad_lines counts each). Returns 0, or the exit status when the
 * file cannot be read at all (TOOL_EXIT_MISSING, _UNREADABLE, _SYSTEM:
 * reported). */
int counts_read(counts_set_t *set, const char *file);
/* The same with only what ran after snapshot (`ilheap counts FILE
 * --snapshot SNAP`) was taken: a snapshot of another file, or not readable,
 * is reported with its exit status (5 for another file's). */
int counts_read_since(counts_set_t *set, const char *file, const char *snapshot);

/* After the last file: merges the entries by module identity, whatever the
 * path: those with the same MVID and token are one (hits summed per IL
 * offset; a module copied into two test projects is one module; an edge
 * probe is kept only when every merged entry had it, as a sum over some of
 * the runs would be too low). Entries are
 * then sorted by (mvid, token), so one module's are contiguous, and
 * set->paths lists every path each MVID was counted at. False when out of
 * memory. */
bool counts_finish(counts_set_t *set);

void counts_free(counts_set_t *set);

#endif
