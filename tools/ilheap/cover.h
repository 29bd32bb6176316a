/* ilheap cover: the coverage of the modules named by counts files, as the
 * writers see it (coverage.c builds it, cobertura.c and lcov.c write it, cover.c
 * is the command). See docs/coverage.md for what the numbers mean. */
#ifndef ILHEAP_TOOLS_COVER_H
#define ILHEAP_TOOLS_COVER_H

#include "counts.h"
#include "tool.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A source line of a method: the largest hits of the blocks holding the
 * sequence points that cover it (a point covers start_line..end_line). */
typedef struct cov_line {
    uint32_t document; /* index into cov_module_t.documents */
    uint32_t number;
    uint64_t hits;
} cov_line_t;

/* One outcome of a conditional branch (brtrue, beq, switch, ...): the hits of
 * the block it leads to. Outcomes of one instruction are adjacent; the jump
 * target(s) first, the fall-through last. */
typedef struct cov_branch {
    uint32_t document, line; /* the line of the sequence point covering the branch */
    uint32_t il_offset;      /* the branch instruction's */
    uint32_t outcome;        /* 0.. within the instruction */
    uint32_t outcomes;       /* how many the instruction has */
    uint64_t hits;
} cov_branch_t;

typedef struct cov_method {
    uint32_t token;
    uint32_t type;      /* index into cov_module_t.types */
    char *name;         /* the MethodDef's name */
    bool counted;       /* a counts entry was applied */
    uint64_t entry_hits; /* the first block's */
    uint32_t blocks, blocks_hit;
    uint32_t complexity; /* 1 + (outcomes - 1) over its conditional branches */
    cov_line_t *lines;   /* sorted by (document, number), distinct */
    size_t line_count;
    cov_branch_t *branches; /* in IL order */
    size_t branch_count;
} cov_method_t;

typedef struct cov_module {
    char *path; /* as in the counts */
    char *name; /* assembly name: the file name without extension */
    bool opened;   /* the DLL was read */
    bool has_pdb;  /* a matching, readable PDB */
    bool no_pdb;   /* none found (reported) */
    char **documents; /* document names (PDB Document rows, in rid order) */
    bool *document_missing;
    uint32_t document_count;
    char **types; /* "Ns.Outer/Inner" by TypeDef rid - 1 */
    uint32_t type_count;
    cov_method_t *methods; /* every method with an IL body, token order */
    size_t method_count;
    /* method-level figures (also without a PDB) */
    uint64_t il_methods, entered, blocks, blocks_hit;
    uint64_t missing_sources;
} cov_module_t;

/* Totals over methods (each method's distinct lines; a line in two methods,
 * e.g. a lambda on its caller's line, counts in both, as coverlet counts). */
typedef struct cov_totals {
    uint64_t lines, lines_hit, branches, branches_hit, complexity;
} cov_totals_t;

void cov_add_method(cov_totals_t *t, const cov_method_t *m);
void cov_add_module(cov_totals_t *t, const cov_module_t *mod);
/* Sorts lines[0 .. n) and keeps each (document, number) once, with the
 * largest hits; returns how many remain, *hit how many of them have hits. */
size_t cov_distinct_lines(cov_line_t *lines, size_t n, uint64_t *hit);

/* Builds *mod for module `path` from the entries counts[0..n) (all of that
 * path). Problems are reported on stderr, naming the file; *bad counts those
 * that make the exit status 5. Returns 0, or TOOL_EXIT_SYSTEM when out of
 * memory. */
int cov_build_module(cov_module_t *mod, const char *path, const counts_entry_t *counts, size_t n,
                     tool_progress_t *progress, uint64_t *bad);
void cov_free_module(cov_module_t *mod);

/* The assembly name of a module path: its file name without extension. */
void cov_assembly_name(const char *path, char *buf, size_t size);

/* The writers: false when writing failed (reported). */
bool cov_write_cobertura(const char *file, const cov_module_t *mods, size_t count);
bool cov_write_lcov(const char *file, const cov_module_t *mods, size_t count);

/* One run of the cover pipeline: what `ilheap cover` does with its arguments
 * (also called by `ilheap collect`). */
typedef struct cover_request {
    const char *const *files; /* counts files */
    size_t file_count;
    const char *cobertura, *lcov; /* reports to write, or NULL */
    const char *include, *exclude; /* assembly-name pattern lists, or NULL */
    FILE *table;                   /* the summary table; NULL: none */
    const char *since;             /* a snapshot of the one counts file: only what ran after it; or NULL */
} cover_request_t;

typedef struct cover_result {
    cov_totals_t totals; /* over the modules with a usable PDB */
    size_t modules;      /* modules reported (the included ones named by the counts) */
    size_t with_pdb;
} cover_result_t;

/* Reads the counts, builds the coverage and writes the reports and the table;
 * returns cover's exit status (0, 3, 4, 5 or 6; problems reported on stderr)
 * with *result filled as far as it got. */
int cover_run(const cover_request_t *req, cover_result_t *result);

/* A rate as Cobertura writes it: covered/total with up to 4 decimals, "1"
 * for an empty total. */
void cov_rate(char *buf, size_t size, uint64_t covered, uint64_t total);

#endif
