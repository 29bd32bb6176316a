/* ilheap cover: counts files of the profiler's blocks mode -> line and branch
 * coverage of every method of every module they name (issue 16), as Cobertura
 * XML, LCOV and a summary table. */
#include "commands.h"
#include "cover.h"
#include "name_pattern.h"

#include <stdlib.h>
#include <string.h>

static const char cover_help[] =
    "usage: ilheap cover COUNTS... [--cobertura FILE] [--lcov FILE] [--include GLOB] [--exclude GLOB]\n"
    "       ilheap cover COUNTS --since SNAP [...]\n"
    "Turns the counts files of the profiler's blocks mode (ILHEAP_MODE=blocks, one\n"
    "JSON object per line and method) into line and branch coverage of every method\n"
    "with sequence points in every module they name, including methods never run\n"
    "(0 hits). Counts of the same module (path and MVID) and method are summed\n"
    "across files. Each module is read from its path, with its portable PDB\n"
    "(embedded, or beside it, or at its CodeView path; the id must match).\n"
    "\n"
    "  COUNTS            counts files (ILHEAP_COUNTS of each process)\n"
    "  --cobertura FILE  write Cobertura XML (as coverlet writes it)\n"
    "  --lcov FILE       write an LCOV tracefile (for genhtml)\n"
    "  --include GLOB    only assemblies whose name (file name without extension)\n"
    "                    matches; comma-separated, '*' is any run of characters\n"
    "  --exclude GLOB    leave out assemblies whose name matches (wins over --include)\n"
    "  --since SNAP      only what ran after SNAP ('ilheap counts COUNTS --snapshot\n"
    "                    SNAP') was taken; one COUNTS file, live or not\n"
    "\n"
    "Prints a summary table on stdout: per assembly, line and branch rates; for an\n"
    "assembly without a PDB, the methods entered and blocks hit.\n"
    "Reported on stderr and not fatal: an assembly without a PDB (method-level\n"
    "figures only), a source file named by a PDB that does not exist.\n"
    "Reported on stderr, coverage of the rest still written, exit 5: a malformed\n"
    "counts line (FILE:LINE), an assembly that cannot be read, a PDB that does not\n"
    "match or does not read, counts of a module that changed (other MVID, no such\n"
    "method, offsets that are not block starts of the method now).\n";

/* The --help exit paragraph of cover (its 1 is unused, 3 and 4 are about the
 * counts files). */
static const char cover_exits[] =
    "\nexit status: 0 coverage written; 2 bad arguments; 3 a counts file does not\n"
    "exist; 4 a counts file cannot be read; 5 some input was bad (reported; the\n"
    "rest was written); 6 out of memory, or a report could not be written.\n";

static void summary_row(tool_out_t *out, const cov_module_t *mod)
{
    char name[41];
    snprintf(name, sizeof name, "%s", mod->name);
    if (!mod->opened) {
        tool_out_printf(out, "%-40s  (not read)\n", name);
        return;
    }
    if (!mod->has_pdb) {
        tool_out_printf(out, "%-40s  %-22s  %-22s  methods entered %llu/%llu, blocks hit %llu/%llu\n", name,
                        mod->no_pdb ? "no PDB" : "bad PDB", "-", (unsigned long long)mod->entered,
                        (unsigned long long)mod->il_methods, (unsigned long long)mod->blocks_hit,
                        (unsigned long long)mod->blocks);
        return;
    }
    cov_totals_t t = {0};
    cov_add_module(&t, mod);
    char lines[48], branches[48];
    snprintf(lines, sizeof lines, "%.1f%% (%llu/%llu)", t.lines ? 100.0 * (double)t.lines_hit / (double)t.lines : 100.0,
             (unsigned long long)t.lines_hit, (unsigned long long)t.lines);
    snprintf(branches, sizeof branches, "%.1f%% (%llu/%llu)",
             t.branches ? 100.0 * (double)t.branches_hit / (double)t.branches : 100.0,
             (unsigned long long)t.branches_hit, (unsigned long long)t.branches);
    tool_out_printf(out, "%-40s  %-22s  %-22s  methods entered %llu/%llu", name, lines, branches,
                    (unsigned long long)mod->entered, (unsigned long long)mod->il_methods);
    if (mod->missing_sources != 0)
        tool_out_printf(out, ", %llu source files missing", (unsigned long long)mod->missing_sources);
    tool_out_str(out, "\n");
}

/* The summary table: a row per module, the total over those with a PDB. */
static int write_table(FILE *file, const cov_module_t *mods, size_t nmods, uint64_t calls_only)
{
    tool_out_t *out = malloc(sizeof *out);
    if (out == NULL)
        return TOOL_EXIT_SYSTEM;
    tool_out_init(out, file);
    tool_out_printf(out, "%-40s  %-22s  %-22s  %s\n", "assembly", "line rate", "branch rate", "methods");
    cov_totals_t all = {0};
    size_t without_pdb = 0;
    for (size_t i = 0; i < nmods; i++) {
        summary_row(out, &mods[i]);
        if (mods[i].has_pdb)
            cov_add_module(&all, &mods[i]);
        else
            without_pdb++;
    }
    tool_out_printf(out, "%-40s  %.1f%% (%llu/%llu) lines, %.1f%% (%llu/%llu) branches\n", "total (with PDBs)",
                    all.lines ? 100.0 * (double)all.lines_hit / (double)all.lines : 100.0,
                    (unsigned long long)all.lines_hit, (unsigned long long)all.lines,
                    all.branches ? 100.0 * (double)all.branches_hit / (double)all.branches : 100.0,
                    (unsigned long long)all.branches_hit, (unsigned long long)all.branches);
    if (without_pdb != 0)
        tool_out_printf(out, "%zu assemblies without a usable PDB: method-level figures only, "
                        "not in the reports\n", without_pdb);
    if (calls_only != 0)
        tool_out_printf(out, "%llu calls-mode entries skipped (no blocks)\n", (unsigned long long)calls_only);
    int rc = tool_out_flush(out) ? 0 : TOOL_EXIT_SYSTEM;
    free(out);
    return rc;
}

int ilheap_cmd_cover(int argc, char **argv)
{
    const char *cobertura = NULL, *lcov = NULL, *include = NULL, *exclude = NULL, *since = NULL;
    const char **files = calloc((size_t)argc + 1, sizeof *files);
    size_t nfiles = 0;
    if (files == NULL)
        return TOOL_EXIT_SYSTEM;
    for (int i = 1; i < argc; i++) {
        const char **slot = strcmp(argv[i], "--cobertura") == 0 ? &cobertura
                            : strcmp(argv[i], "--lcov") == 0    ? &lcov
                            : strcmp(argv[i], "--include") == 0 ? &include
                            : strcmp(argv[i], "--exclude") == 0 ? &exclude
                            : strcmp(argv[i], "--since") == 0   ? &since
                                                                : NULL;
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            printf("%s%s", cover_help, cover_exits);
            free(files);
            return TOOL_EXIT_OK;
        }
        if (slot != NULL) {
            if (i + 1 >= argc || *slot != NULL) {
                fprintf(stderr, "ilheap cover: %s %s\n", argv[i], i + 1 >= argc ? "needs a value" : "given twice");
                free(files);
                return TOOL_EXIT_USAGE;
            }
            *slot = argv[++i];
        } else if (argv[i][0] == '-' && argv[i][1] != 0) {
            fprintf(stderr, "ilheap cover: unknown option '%s'\n%s", argv[i], cover_help);
            free(files);
            return TOOL_EXIT_USAGE;
        } else {
            files[nfiles++] = argv[i];
        }
    }
    if (nfiles == 0 || (since != NULL && nfiles != 1)) {
        fprintf(stderr, "ilheap cover: %s\n%s", nfiles == 0 ? "no counts file given" : "--since takes one counts file",
                cover_help);
        free(files);
        return TOOL_EXIT_USAGE;
    }
    cover_request_t req = {files, nfiles, cobertura, lcov, include, exclude, stdout, since};
    cover_result_t result;
    int rc = cover_run(&req, &result);
    free(files);
    return rc;
}

/* Reads the counts files, builds every wanted module, writes the reports and
 * the table: the pipeline behind `ilheap cover` (and `ilheap collect`). */
int cover_run(const cover_request_t *req, cover_result_t *result)
{
    memset(result, 0, sizeof *result);
    const char *include = req->include, *exclude = req->exclude;
    counts_set_t set = {0};
    int rc = 0;
    for (size_t i = 0; i < req->file_count && rc == 0; i++)
        rc = counts_read_since(&set, req->files[i], req->since);
    if (rc == 0 && !counts_finish(&set)) {
        fprintf(stderr, "ilheap cover: out of memory\n");
        rc = TOOL_EXIT_SYSTEM;
    }
    if (rc != 0) {
        counts_free(&set);
        return rc;
    }
    uint64_t bad = set.bad_lines, calls_only = set.calls_only;
    /* One module per distinct path (entries of a path are contiguous). */
    cov_module_t *mods = calloc(set.count + 1, sizeof *mods);
    size_t nmods = 0;
    tool_progress_t progress;
    if (mods == NULL)
        rc = TOOL_EXIT_SYSTEM;
    for (size_t i = 0; i < set.count && rc == 0;) {
        size_t end = i;
        while (end < set.count && strcmp(set.entries[end].path, set.entries[i].path) == 0)
            end++;
        const char *path = set.entries[i].path;
        char name[512];
        cov_assembly_name(path, name, sizeof name);
        bool wanted = (include == NULL || name_pattern_list_match(include, name)) &&
                      (exclude == NULL || !name_pattern_list_match(exclude, name));
        if (wanted) {
            memset(&progress, 0, sizeof progress);
            rc = cov_build_module(&mods[nmods], path, &set.entries[i], end - i, &progress, &bad);
            nmods++;
        }
        i = end;
    }
    counts_free(&set);
    if (rc == 0 && req->cobertura != NULL && !cov_write_cobertura(req->cobertura, mods, nmods))
        rc = TOOL_EXIT_SYSTEM;
    if (rc == 0 && req->lcov != NULL && !cov_write_lcov(req->lcov, mods, nmods))
        rc = TOOL_EXIT_SYSTEM;
    for (size_t i = 0; i < nmods; i++) {
        result->modules++;
        if (mods[i].has_pdb) {
            result->with_pdb++;
            cov_add_module(&result->totals, &mods[i]);
        }
    }
    if (rc == 0 && req->table != NULL)
        rc = write_table(req->table, mods, nmods, calls_only);
    for (size_t i = 0; i < nmods; i++)
        cov_free_module(&mods[i]);
    free(mods);
    if (rc == 0 && bad != 0) {
        fprintf(stderr, "ilheap cover: %llu problems reported above; coverage of the rest was written\n",
                (unsigned long long)bad);
        rc = TOOL_EXIT_MALFORMED;
    }
    return rc;
}
