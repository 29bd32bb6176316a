/* ilheap cover: the coverage of the modules named by counts files, as the
 * writers see it (coverage.c builds it, cobertura.c and lcov.c write it, cover.c
 * is the command). See docs/coverage.md for what the numbers mean. */
#ifndef ILHEAP_TOOLS_COVER_H
#define ILHEAP_TOOLS_COVER_H

#include "counts.h"
#include "members.h"
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
    char *signature;    /* its parameters as Cobertura writes them: "(System.Int32)" */
    bool counted;       /* a counts entry was applied */
    uint64_t entry_hits; /* the first block's */
    uint32_t blocks, blocks_hit;
    uint32_t complexity; /* 1 + (outcomes - 1) over its conditional branches */
    cov_line_t *lines;   /* sorted by (document, number), distinct */
    size_t line_count;
    cov_branch_t *branches; /* in IL order */
    size_t branch_count;
} cov_method_t;

/* What became of a counted module. */
typedef enum cov_state {
    COV_COVERED,    /* in the reports */
    COV_NO_DLL,     /* no path it was counted at holds a readable DLL with its MVID: lost */
    COV_BAD_PDB,    /* a PDB that does not read or is of another build: lost */
    COV_NO_PDB,     /* none anywhere: left out, or lost when --include names it */
    COV_NO_SOURCES, /* none of its source files exists (the SDK's): left out */
    COV_EXCLUDED,   /* an exclusion attribute on the assembly: left out */
    COV_TEST,       /* a test assembly: left out unless --include names it */
} cov_state_t;

typedef struct cov_module {
    char *path; /* the copy read (or, when none could be, the first counted) */
    char *name; /* assembly name: the file name without extension */
    char mvid[37];
    size_t copies; /* how many paths its counts named */
    cov_state_t state;
    bool named;    /* --include names it: no default exclusion */
    bool opened;   /* the DLL was read */
    const char *test_reason; /* COV_TEST: the framework seen (static text) */
    bool has_pdb;  /* a matching, readable PDB (state COV_COVERED) */
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

/* Builds *mod for the module counted at paths[0..npaths) with MVID `mvid`
 * from its entries counts[0..n): reads the first of the paths that holds a
 * readable DLL with that MVID, and its PDB; mod->state says what became of
 * it. `named`: --include names it (a missing PDB is then an error, and
 * nothing is left out by default). Problems are reported on stderr, naming
 * the file; *bad counts those that make the exit status 5. Returns 0, or
 * TOOL_EXIT_SYSTEM when out of memory. */
int cov_build_module(cov_module_t *mod, const counts_path_t *paths, size_t npaths, bool named,
                     const cov_filters_t *filters, const counts_entry_t *counts, size_t n, tool_progress_t *progress,
                     uint64_t *bad);
void cov_free_module(cov_module_t *mod);

/* The assembly name of a module path: its file name without extension. */
void cov_assembly_name(const char *path, char *buf, size_t size);

/* The exit statuses of cover beyond tool.h's (docs/cli.md): no report is
 * written with either, and an earlier one at the same path is removed. */
enum {
    COVER_EXIT_NO_COVERAGE = 7, /* nothing to report: no counts, nothing included, all left out */
    COVER_EXIT_MODULE_LOST = 9, /* an included module could not be covered (DLL or PDB); not 8: collect's threshold */
};

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
    cov_filters_t filters;         /* --exclude-by-attribute, --exclude-by-file, --skip-auto-props */
    const char *since;             /* a snapshot of the one counts file: only what ran after it; or NULL */
} cover_request_t;

typedef struct cover_result {
    cov_totals_t totals; /* over the modules in the reports */
    size_t modules;      /* modules counted that the patterns include */
    size_t with_pdb;     /* modules in the reports */
} cover_result_t;

/* Reads the counts, merges them by module identity, builds the coverage of
 * every included module, writes the reports and the table; returns cover's
 * exit status (0, 3, 4, 5, 6, COVER_EXIT_NO_COVERAGE, COVER_EXIT_MODULE_LOST:
 * docs/cli.md; problems reported on stderr) with *result filled as far as it
 * got. With 7 and 9 no report is written and an earlier one is removed. */
int cover_run(const cover_request_t *req, cover_result_t *result);

/* A rate as Cobertura writes it: covered/total with up to 4 decimals, "1"
 * for an empty total. */
void cov_rate(char *buf, size_t size, uint64_t covered, uint64_t total);

#endif
