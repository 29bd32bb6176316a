/* ilheap cover: counts files of the profiler's blocks mode -> line and branch
 * coverage of every method of every module they name, as Cobertura XML, LCOV
 * and a summary table. cover_run is the pipeline, in named steps (read the
 * counts, build each module, decide the status, write); ilheap_cmd_cover is
 * its command line. */
#include "commands.h"
#include "cover.h"
#include "source_map.h"
#include "support.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char cover_help[] =
    "usage: ilheap cover COUNTS... [--cobertura FILE] [--lcov FILE] [--include GLOB] [--exclude GLOB]\n"
    "                   [--exclude-by-attribute NAME,...] [--exclude-by-file GLOB,...] [--skip-auto-props]\n"
    "                   [--path-map FROM=TO]...\n"
    "       ilheap cover COUNTS --since SNAP [...]\n"
    "Turns the counts files of the profiler's blocks mode (ILHEAP_MODE=blocks, one\n"
    "JSON object per line and method) into line and branch coverage of every method\n"
    "with sequence points in every module they name, including methods never run\n"
    "(0 hits). Counts of one module (its MVID) are merged whatever the path it was\n"
    "counted at (a library copied into two test projects is one module) and summed\n"
    "across files; the DLL is read from any of those paths that still holds it, with\n"
    "its portable PDB (embedded, or beside it, or at its CodeView path).\n"
    "\n"
    "  COUNTS            counts files (ILHEAP_COUNTS of each process)\n"
    "  --cobertura FILE  write Cobertura XML (as coverlet writes it)\n"
    "  --lcov FILE       write an LCOV tracefile (for genhtml)\n"
    "  --include GLOB    only assemblies whose name (file name without extension)\n"
    "                    matches; comma-separated, '*' is any run of characters\n"
    "  --exclude GLOB    leave out assemblies whose name matches (wins over --include)\n"
    "  --exclude-by-attribute NAME,...  leave out assemblies, types, methods and\n"
    "                    properties with these attributes (short or full name, with\n"
    "                    or without 'Attribute'), besides [ExcludeFromCodeCoverage]\n"
    "                    and [ExcludeFromCoverage], which always are\n"
    "  --exclude-by-file GLOB,...  leave out methods whose source file matches\n"
    "                    ('**' any directories, '*' within a name)\n"
    "  --skip-auto-props leave out auto-implemented property accessors\n"
    "  --since SNAP      only what ran after SNAP ('ilheap counts COUNTS --snapshot\n"
    "                    SNAP') was taken; one COUNTS file, live or not\n"
    "  --path-map FROM=TO  read paths that start with FROM (modules in the counts,\n"
    "                    sources in PDBs) under TO when they name no file here:\n"
    "                    counts or PDBs of another machine (repeatable; also\n"
    "                    ILHEAP_PATH_MAP, maps separated by ';'). Wine's drives\n"
    "                    (Z:\\ the root) are mapped without one\n"
    "\n"
    "Left out unless --include names them: test assemblies (they use xunit, NUnit,\n"
    "MSTest or TUnit attributes, or have Microsoft.NET.Test.Sdk's entry point),\n"
    "assemblies without a PDB, and those none of whose source files exists (the\n"
    "SDK's, the framework's).\n"
    "Prints a summary table on stdout: per assembly, line and branch rates, or why\n"
    "it is not in the reports.\n";

static const char cover_exits[] =
    "\nexit status: 0 coverage written; 2 bad arguments; 3 a counts file does not\n"
    "exist; 4 a counts file cannot be read; 5 some input was bad (reported; the\n"
    "rest was written); 6 out of memory, or a report could not be written;\n"
    "7 no coverage: no counts, nothing included, or every assembly left out;\n"
    "9 an included assembly could not be covered (its DLL or PDB is missing,\n"
    "unreadable or of another build). With 7 and 9 no report is written (an\n"
    "earlier one at the same path is removed).\n";

/* One counted module: its entries and its paths in the counts set. */
typedef struct group {
    size_t first, count;      /* set.entries */
    size_t path_first, paths; /* set.paths */
} group_t;

/* What a run found, for the status and the messages. */
typedef struct run {
    counts_set_t set;
    cov_module_t *mods;
    size_t nmods, groups;
    uint64_t bad;
} run_t;

/* Step 1: every counts file into r->set, merged by module identity. */
/* The module path of an entry of another machine's counts (a Windows path, a
 * mapped one) read as this machine's (source_map_path); false when out of memory. */
static bool map_module_path(counts_entry_t *e)
{
    char path[4096];
    if (strlen(e->path) >= sizeof path)
        return true;
    strcpy(path, e->path);
    if (!source_map_path("cover", path, sizeof path))
        return true;
    char *copy = strdup(path);
    if (copy == NULL)
        return false;
    free(e->path);
    e->path = copy;
    return true;
}

static int read_counts(const cover_request_t *o, run_t *r)
{
    for (size_t i = 0; i < o->file_count; i++) {
        struct stat st;
        if (stat(o->files[i], &st) == 0 && S_ISDIR(st.st_mode)) {
            fprintf(stderr, "ilheap cover: %s: is a directory, not a counts file\n", o->files[i]);
            return TOOL_EXIT_UNREADABLE;
        }
        int rc = counts_read_since(&r->set, o->files[i], o->since);
        if (rc != 0)
            return rc;
    }
    bool mapped = true;
    for (size_t i = 0; i < r->set.count && mapped; i++)
        mapped = map_module_path(&r->set.entries[i]);
    if (!mapped || !counts_finish(&r->set)) {
        fprintf(stderr, "ilheap cover: out of memory\n");
        return TOOL_EXIT_SYSTEM;
    }
    r->bad = r->set.bad_lines;
    return 0;
}

/* The module starting at entry i: its entries and paths (both sorted by MVID). */
static group_t next_group(const counts_set_t *set, size_t i, size_t path_from)
{
    group_t g = {i, 0, path_from, 0};
    while (i + g.count < set->count && strcmp(set->entries[i + g.count].mvid, set->entries[i].mvid) == 0)
        g.count++;
    while (g.path_first < set->path_count && strcmp(set->paths[g.path_first].mvid, set->entries[i].mvid) != 0)
        g.path_first++;
    while (g.path_first + g.paths < set->path_count &&
           strcmp(set->paths[g.path_first + g.paths].mvid, set->entries[i].mvid) == 0)
        g.paths++;
    return g;
}

/* Step 2: each module the patterns let in, built. */
static int build_modules(const cover_request_t *o, run_t *r)
{
    const counts_set_t *set = &r->set;
    r->mods = calloc(set->count + 1, sizeof *r->mods);
    if (r->mods == NULL)
        return TOOL_EXIT_SYSTEM;
    tool_progress_t progress;
    size_t path_from = 0;
    for (size_t i = 0; i < set->count;) {
        group_t g = next_group(set, i, path_from);
        i += g.count;
        path_from = g.path_first + g.paths;
        r->groups++;
        char name[512];
        cov_assembly_name(set->paths[g.path_first].path, name, sizeof name);
        bool named = o->include != NULL && support_name_list_match(o->include, name);
        if ((o->include != NULL && !named) || (o->exclude != NULL && support_name_list_match(o->exclude, name)))
            continue;
        memset(&progress, 0, sizeof progress);
        int rc = cov_build_module(&r->mods[r->nmods++], &set->paths[g.path_first], g.paths, named, &o->filters,
                                  &set->entries[g.first], g.count, &progress, &r->bad);
        if (rc != 0)
            return rc;
    }
    return 0;
}

static void percent_of(char *buf, size_t size, uint64_t hit, uint64_t total)
{
    if (total == 0)
        snprintf(buf, size, "-");
    else
        snprintf(buf, size, "%.1f%% (%llu/%llu)", 100.0 * (double)hit / (double)total, (unsigned long long)hit,
                 (unsigned long long)total);
}

static void summary_row(tool_out_t *out, const cov_module_t *mod)
{
    static const char *const why[] = {
        [COV_NO_DLL] = "not read: no DLL with its MVID",
        [COV_BAD_PDB] = "bad PDB",
        [COV_NO_PDB] = "no PDB: left out",
        [COV_NO_SOURCES] = "no sources: left out",
        [COV_EXCLUDED] = "excluded by attribute: left out",
        [COV_TEST] = "test assembly: left out",
    };
    char name[41];
    snprintf(name, sizeof name, "%s", mod->name);
    if (mod->state != COV_COVERED) {
        char text[96];
        if (mod->state == COV_TEST)
            snprintf(text, sizeof text, "test assembly (%s): left out", mod->test_reason);
        else
            snprintf(text, sizeof text, "%s", mod->state == COV_NO_PDB && mod->named ? "no PDB" : why[mod->state]);
        tool_out_printf(out, "%-40s  %-46s", name, text);
        if (mod->opened)
            tool_out_printf(out, "  methods entered %llu/%llu, blocks hit %llu/%llu", (unsigned long long)mod->entered,
                            (unsigned long long)mod->il_methods, (unsigned long long)mod->blocks_hit,
                            (unsigned long long)mod->blocks);
        tool_out_str(out, "\n");
        return;
    }
    cov_totals_t t = {0};
    cov_add_module(&t, mod);
    char lines[48], branches[48];
    percent_of(lines, sizeof lines, t.lines_hit, t.lines);
    percent_of(branches, sizeof branches, t.branches_hit, t.branches);
    tool_out_printf(out, "%-40s  %-22s  %-22s  methods entered %llu/%llu", name, lines, branches,
                    (unsigned long long)mod->entered, (unsigned long long)mod->il_methods);
    if (mod->missing_sources != 0)
        tool_out_printf(out, ", %llu source files missing", (unsigned long long)mod->missing_sources);
    tool_out_str(out, "\n");
}

/* Step 4 (always): the table, on `file`. */
static int summary(FILE *file, const run_t *r, cov_totals_t *all)
{
    tool_out_t *out = malloc(sizeof *out);
    if (out == NULL)
        return TOOL_EXIT_SYSTEM;
    tool_out_init(out, file);
    tool_out_printf(out, "%-40s  %-22s  %-22s  %s\n", "assembly", "line rate", "branch rate", "methods");
    for (size_t i = 0; i < r->nmods; i++)
        summary_row(out, &r->mods[i]);
    char lines[48], branches[48];
    percent_of(lines, sizeof lines, all->lines_hit, all->lines);
    percent_of(branches, sizeof branches, all->branches_hit, all->branches);
    tool_out_printf(out, "%-40s  %s lines, %s branches\n", "total (in the reports)", lines, branches);
    if (r->set.calls_only != 0)
        tool_out_printf(out, "%llu calls-mode entries skipped (no blocks)\n", (unsigned long long)r->set.calls_only);
    bool ok = tool_out_flush(out);
    free(out);
    return ok ? 0 : TOOL_EXIT_SYSTEM;
}

/* The names of the counted modules, for the message when none is included. */
static void counted_names(const counts_set_t *set, char *buf, size_t size)
{
    size_t len = 0;
    buf[0] = 0;
    for (size_t i = 0; i < set->path_count && len + 1 < size; i++) {
        char name[512];
        cov_assembly_name(set->paths[i].path, name, sizeof name);
        if (i > 0 && strcmp(set->paths[i - 1].mvid, set->paths[i].mvid) == 0)
            continue; /* the same module at another path */
        int k = snprintf(buf + len, size - len, "%s%s", len ? ", " : "", name);
        if (k > 0)
            len = len + (size_t)k < size ? len + (size_t)k : size - 1;
    }
}

/* Step 3: 9 when an included module was lost, 7 when nothing is left to
 * report (each said once), else 0. */
static int coverage_status(const cover_request_t *o, const run_t *r)
{
    size_t covered = 0, lost = 0;
    for (size_t i = 0; i < r->nmods; i++) {
        const cov_module_t *m = &r->mods[i];
        covered += m->state == COV_COVERED;
        lost += m->state == COV_NO_DLL || m->state == COV_BAD_PDB || (m->state == COV_NO_PDB && m->named);
    }
    if (lost != 0) {
        fprintf(stderr, "ilheap cover: %zu included assembl%s could not be covered (above): no report written\n",
                lost, lost == 1 ? "y" : "ies");
        return COVER_EXIT_MODULE_LOST;
    }
    if (covered != 0)
        return 0;
    char names[1024];
    counted_names(&r->set, names, sizeof names);
    if (r->set.count == 0 && o->include != NULL && r->set.calls_only == 0)
        fprintf(stderr, "ilheap cover: no coverage: the counts files name no method: the profiler counted no method "
                        "of the included assemblies (%s)\n", o->include);
    else if (r->set.count == 0)
        fprintf(stderr, "ilheap cover: no coverage: the counts files name no method%s\n",
                r->set.calls_only != 0 ? " with blocks (only calls-mode entries: run with ILHEAP_MODE=blocks)" : "");
    else if (r->nmods == 0 && o->include != NULL)
        fprintf(stderr, "ilheap cover: no coverage: no counted assembly matches --include %s (counted: %s)\n",
                o->include, names);
    else if (r->nmods == 0)
        fprintf(stderr, "ilheap cover: no coverage: every counted assembly is excluded by --exclude %s (counted: %s)\n",
                o->exclude != NULL ? o->exclude : "", names);
    else
        fprintf(stderr, "ilheap cover: no coverage: no included assembly has a PDB and sources (counted: %s)\n",
                names);
    return COVER_EXIT_NO_COVERAGE;
}

/* Removes an earlier report at `file`, so that it is not read as this run's. */
static void remove_report(const char *file)
{
    if (file != NULL && unlink(file) != 0 && errno != ENOENT)
        fprintf(stderr, "ilheap cover: %s: an earlier report could not be removed: %s\n", file, strerror(errno));
}

int cover_run(const cover_request_t *o, cover_result_t *result)
{
    run_t r = {0};
    int rc = read_counts(o, &r);
    if (rc == 0)
        rc = build_modules(o, &r);
    int status = rc == 0 ? coverage_status(o, &r) : rc;
    cov_totals_t all = {0};
    for (size_t i = 0; i < r.nmods; i++)
        if (r.mods[i].state == COV_COVERED)
            cov_add_module(&all, &r.mods[i]);
    if (status == COVER_EXIT_NO_COVERAGE || status == COVER_EXIT_MODULE_LOST) {
        remove_report(o->cobertura);
        remove_report(o->lcov);
    } else if (status == 0) {
        if (o->cobertura != NULL && !cov_write_cobertura(o->cobertura, r.mods, r.nmods))
            status = TOOL_EXIT_SYSTEM;
        if (status == 0 && o->lcov != NULL && !cov_write_lcov(o->lcov, r.mods, r.nmods))
            status = TOOL_EXIT_SYSTEM;
    }
    if (rc == 0 && o->table != NULL && summary(o->table, &r, &all) != 0 && status == 0)
        status = TOOL_EXIT_SYSTEM;
    if (status == 0 && r.bad != 0) {
        fprintf(stderr, "ilheap cover: %llu problem%s reported above; coverage of the rest was written\n",
                (unsigned long long)r.bad, r.bad == 1 ? "" : "s");
        status = TOOL_EXIT_MALFORMED;
    }
    memset(result, 0, sizeof *result);
    result->totals = all;
    result->modules = r.nmods;
    for (size_t i = 0; i < r.nmods; i++)
        result->with_pdb += r.mods[i].state == COV_COVERED;
    for (size_t i = 0; i < r.nmods; i++)
        cov_free_module(&r.mods[i]);
    free(r.mods);
    counts_free(&r.set);
    return status;
}

/* The command line into *o; -1 when it is done (help printed), else an exit
 * status (0: go on). */
static int parse_args(int argc, char **argv, cover_request_t *o, const char **files)
{
    size_t nfiles = 0;
    for (int i = 1; i < argc; i++) {
        const char **slot = strcmp(argv[i], "--cobertura") == 0              ? &o->cobertura
                            : strcmp(argv[i], "--lcov") == 0                 ? &o->lcov
                            : strcmp(argv[i], "--include") == 0              ? &o->include
                            : strcmp(argv[i], "--exclude") == 0              ? &o->exclude
                            : strcmp(argv[i], "--exclude-by-attribute") == 0 ? &o->filters.exclude_by_attribute
                            : strcmp(argv[i], "--exclude-by-file") == 0      ? &o->filters.exclude_by_file
                            : strcmp(argv[i], "--since") == 0                ? &o->since
                                                                             : NULL;
        if (strcmp(argv[i], "--skip-auto-props") == 0) {
            o->filters.skip_auto_props = true;
            continue;
        }
        if (strcmp(argv[i], "--path-map") == 0) {
            if (i + 1 >= argc)
                fprintf(stderr, "ilheap cover: --path-map needs a value (FROM=TO)\n");
            if (i + 1 >= argc || !source_map_add_path_map("cover", argv[++i]))
                return TOOL_EXIT_USAGE;
            continue;
        }
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            printf("%s%s", cover_help, cover_exits);
            return -1;
        }
        if (slot != NULL) {
            if (i + 1 >= argc || *slot != NULL) {
                fprintf(stderr, "ilheap cover: %s %s\n", argv[i], i + 1 >= argc ? "needs a value" : "given twice");
                return TOOL_EXIT_USAGE;
            }
            *slot = argv[++i];
        } else if (argv[i][0] == '-' && argv[i][1] != 0) {
            fprintf(stderr, "ilheap cover: unknown option '%s'\n%s", argv[i], cover_help);
            return TOOL_EXIT_USAGE;
        } else {
            files[nfiles++] = argv[i];
        }
    }
    if (nfiles == 0 || (o->since != NULL && nfiles != 1)) {
        fprintf(stderr, "ilheap cover: %s\n%s", nfiles == 0 ? "no counts file given" : "--since takes one counts file",
                cover_help);
        return TOOL_EXIT_USAGE;
    }
    o->files = files;
    o->file_count = nfiles;
    return 0;
}

int ilheap_cmd_cover(int argc, char **argv)
{
    cover_request_t o = {0};
    const char **files = calloc((size_t)argc + 1, sizeof *files);
    if (files == NULL)
        return TOOL_EXIT_SYSTEM;
    int rc = parse_args(argc, argv, &o, files);
    cover_result_t result;
    o.table = stdout;
    if (rc == 0)
        rc = cover_run(&o, &result);
    free(files);
    return rc < 0 ? TOOL_EXIT_OK : rc;
}
