/* ilheap collect: runs a command with every .NET process it starts under the
 * profiler (blocks mode, counts in a fresh directory), then turns the counts
 * into coverage reports with the cover pipeline, checks thresholds and says
 * when nothing was collected (collect.h). */
#include "collect.h"
#include "commands.h"
#include "process.h"
#include "source_map.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define PROFILER_CLSID "{D643D291-34DE-476E-974D-062912349822}"
#define MAX_PATTERNS 64     /* the profiler's limits on ILHEAP_INCLUDE / _EXCLUDE */
#define MAX_PATTERN_LEN 127

/* Without --include: what a test run loads that is not the code under test
 * (the runtime, the SDK, test frameworks and mocking libraries). */
static const char default_exclude[] =
    "System.*,Microsoft.*,mscorlib,netstandard,WindowsBase,NuGet.*,Newtonsoft.Json,dotnet,MSBuild,VBCSCompiler,"
    "csc,testhost*,vstest.console,datacollector,xunit*,nunit*,NUnit3.TestAdapter,MSTest*,coverlet*,Castle.Core,"
    "Moq,NSubstitute,FakeItEasy,FluentAssertions*,Shouldly,AutoFixture*,Humanizer*,Mono.Cecil*,ilheap.collector,"
    "ilheap.mtp";

static const char collect_help[] =
    "usage: ilheap collect [OPTIONS] -- COMMAND [ARGS...]\n"
    "       ilheap collect [OPTIONS] --print-env DIR\n"
    "       ilheap collect [OPTIONS] --from DIR\n"
    "Runs COMMAND with every .NET process it starts under ilheap's profiler\n"
    "(block counts, counts in a new temporary directory), then writes the coverage\n"
    "of the assemblies counted, as `ilheap cover` does, and prints its summary on\n"
    "stderr. `dotnet test` of a solution gives one report merged over its projects.\n"
    "The profiler is found next to this ilheap (NuGet package, installed tree,\n"
    "build tree); nothing of it appears in COMMAND's output.\n"
    "\n"
    "  --cobertura FILE   write Cobertura XML (as coverlet writes it)\n"
    "  --lcov FILE        write an LCOV tracefile\n"
    "  --include LIST     only these assemblies (comma-separated names, '*' any run of\n"
    "                     characters; coverlet's [Assembly]Type filters are accepted:\n"
    "                     the assembly part is used, a type part other than * is not\n"
    "                     supported and said)\n"
    "  --exclude LIST     leave these out (wins over --include). Without --include,\n"
    "                     the runtime's, the SDK's and test frameworks' assemblies\n"
    "                     (System.*, Microsoft.*, xunit*, ...) are left out as well.\n"
    "  --threshold line=N[,branch=M]  fail (exit 8) below N% of lines or M% of branches\n"
    "  --source-root DIRS where a deterministic build's \"/_/\" paths are (':'-separated;\n"
    "                     default: ILHEAP_SOURCE_ROOT, then the assembly's directory\n"
    "                     and the working directory and their parents)\n"
    "  --exclude-by-attribute NAME,...  --exclude-by-file GLOB,...  --skip-auto-props\n"
    "  --path-map FROM=TO as `ilheap cover`'s (coverlet's ExcludeByAttribute, ...;\n"
    "                     paths of another machine, Wine's drives mapped without one)\n"
    "  --profiler PATH    the profiler library, instead of the one found\n"
    "  --counts-dir DIR   keep the counts and the profiler's reports in DIR (new or\n"
    "                     without counts files) instead of a temporary directory\n"
    "  --quiet            no summary table\n"
    "  --print-env DIR    print the environment (NAME=VALUE lines) that puts .NET\n"
    "                     processes under the profiler with counts in DIR, and exit\n"
    "  --from DIR         write the reports of the counts in DIR (after a run under\n"
    "                     --print-env's environment) instead of running a command\n"
    "  --wait SECONDS     with --from: first wait, at most that long, until the\n"
    "                     processes that write the counts have exited\n"
    "\n"
    "exit status: COMMAND's own when it fails (128+N when signal N ended it, 127 not\n"
    "found, 126 not runnable); else 0 reports written; 2 bad arguments; 3 no\n"
    "profiler found; 5 the profiler is not a library for this machine, or some input\n"
    "was bad (reported; the rest was written); 6 out of memory, or a report or the\n"
    "counts directory could not be written; 7 no coverage was collected (no process\n"
    "loaded the profiler, or nothing of the included assemblies was counted);\n"
    "8 a threshold was missed; 9 an included assembly could not be covered (its DLL\n"
    "or PDB missing or of another build: `ilheap cover`'s 9).\n";

typedef struct collect_opts {
    const char *cobertura, *lcov, *include, *exclude, *profiler, *counts_dir, *print_env, *from, *threshold_spec;
    const char *source_root, *wait_spec;
    cov_filters_t filters;
    bool quiet;
    uint32_t wait_seconds;
    collect_threshold_t threshold;
    char **command; /* NULL-terminated, or NULL */
    char *include_list, *exclude_list; /* plain name patterns (malloc'd) */
} collect_opts_t;

static const char **opt_slot(collect_opts_t *o, const char *arg)
{
    static const struct {
        const char *name;
        size_t offset;
    } table[] = {
        {"--cobertura", offsetof(collect_opts_t, cobertura)},   {"--lcov", offsetof(collect_opts_t, lcov)},
        {"--include", offsetof(collect_opts_t, include)},       {"--exclude", offsetof(collect_opts_t, exclude)},
        {"--profiler", offsetof(collect_opts_t, profiler)},     {"--counts-dir", offsetof(collect_opts_t, counts_dir)},
        {"--print-env", offsetof(collect_opts_t, print_env)},   {"--from", offsetof(collect_opts_t, from)},
        {"--threshold", offsetof(collect_opts_t, threshold_spec)}, {"--source-root", offsetof(collect_opts_t, source_root)},
        {"--exclude-by-attribute", offsetof(collect_opts_t, filters.exclude_by_attribute)},
        {"--exclude-by-file", offsetof(collect_opts_t, filters.exclude_by_file)},
        {"--wait", offsetof(collect_opts_t, wait_spec)},
    };
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
        if (strcmp(arg, table[i].name) == 0)
            return (const char **)((char *)o + table[i].offset);
    return NULL;
}

/* 0 when parsed; TOOL_EXIT_USAGE (said); -1 for --help (printed). */
static int parse_args(int argc, char **argv, collect_opts_t *o)
{
    int i = 1;
    for (; i < argc; i++) {
        const char **slot = opt_slot(o, argv[i]);
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            printf("%s", collect_help);
            return -1;
        }
        if (strcmp(argv[i], "--") == 0 || argv[i][0] != '-') {
            i += strcmp(argv[i], "--") == 0;
            break;
        }
        if (strcmp(argv[i], "--path-map") == 0) {
            if (i + 1 >= argc || !source_map_add_path_map("collect", argv[++i])) {
                fprintf(stderr, "ilheap collect: --path-map needs FROM=TO\n");
                return TOOL_EXIT_USAGE;
            }
        } else if (strcmp(argv[i], "--quiet") == 0 || strcmp(argv[i], "--skip-auto-props") == 0) {
            *(strcmp(argv[i], "--quiet") == 0 ? &o->quiet : &o->filters.skip_auto_props) = true;
        } else if (slot == NULL) {
            fprintf(stderr, "ilheap collect: unknown option '%s'\n%s", argv[i], collect_help);
            return TOOL_EXIT_USAGE;
        } else if (i + 1 >= argc || *slot != NULL) {
            fprintf(stderr, "ilheap collect: %s %s\n", argv[i], i + 1 >= argc ? "needs a value" : "given twice");
            return TOOL_EXIT_USAGE;
        } else {
            *slot = argv[++i];
        }
    }
    o->command = i < argc ? argv + i : NULL;
    int modes = (o->command != NULL) + (o->print_env != NULL) + (o->from != NULL);
    if (modes != 1) {
        fprintf(stderr, "ilheap collect: %s\n%s",
                modes == 0 ? "no command given (ilheap collect [OPTIONS] -- COMMAND [ARGS...])"
                           : "give one of: a command after --, --print-env DIR, --from DIR",
                collect_help);
        return TOOL_EXIT_USAGE;
    }
    if (o->threshold_spec != NULL && !collect_threshold_parse(o->threshold_spec, &o->threshold))
        return TOOL_EXIT_USAGE;
    if (o->wait_spec != NULL && (o->from == NULL || !tool_parse_u32(o->wait_spec, 3600, &o->wait_seconds))) {
        fprintf(stderr, "ilheap collect: --wait %s: %s\n", o->wait_spec,
                o->from == NULL ? "goes with --from" : "expected seconds, 0 to 3600");
        return TOOL_EXIT_USAGE;
    }
    return 0;
}

/* Appends the assembly-name pattern of one filter item (a name pattern, or
 * coverlet's [Assembly]Type) to *out; false when it is not one. */
static bool add_pattern(const char *opt, const char *item, size_t len, char *out, size_t *used, size_t *count)
{
    const char *name = item;
    size_t name_len = len;
    if (len > 0 && item[0] == '[') {
        const char *close = memchr(item, ']', len);
        if (close == NULL) {
            fprintf(stderr, "ilheap collect: %s '%.*s': '[' without ']'\n", opt, (int)len, item);
            return false;
        }
        name = item + 1;
        name_len = (size_t)(close - name);
        size_t type_len = len - (size_t)(close + 1 - item);
        if (type_len != 0 && !(type_len == 1 && close[1] == '*'))
            fprintf(stderr, "ilheap collect: %s '%.*s': type filters are not supported; the whole assembly "
                            "'%.*s' is taken\n", opt, (int)len, item, (int)name_len, name);
    }
    for (size_t i = 0; i < name_len; i++)
        if ((unsigned char)name[i] <= ' ' || strchr("/\\?[]{}\"'", name[i]) != NULL) {
            fprintf(stderr, "ilheap collect: %s '%.*s': an assembly name with '*' as the only wildcard expected\n",
                    opt, (int)len, item);
            return false;
        }
    if (name_len == 0 || name_len > MAX_PATTERN_LEN || ++*count > MAX_PATTERNS) {
        fprintf(stderr, "ilheap collect: %s: %s\n", opt,
                name_len == 0 ? "an empty pattern" : name_len > MAX_PATTERN_LEN ? "a pattern over 127 characters"
                                                                                : "more than 64 patterns");
        return false;
    }
    if (*used != 0)
        out[(*used)++] = ',';
    memcpy(out + *used, name, name_len);
    *used += name_len;
    out[*used] = '\0';
    return true;
}

/* The filter list `in` (items separated by ',' or ';', blanks around them
 * ignored) as plain name patterns in *out (malloc'd; NULL for none). */
static bool filter_list(const char *opt, const char *in, char **out)
{
    *out = NULL;
    if (in == NULL)
        return true;
    char *list = malloc(strlen(in) + 1);
    size_t used = 0, count = 0;
    if (list == NULL)
        return false;
    list[0] = '\0';
    for (const char *p = in; *p != '\0';) {
        size_t len = strcspn(p, ",;");
        const char *s = p, *e = p + len;
        while (s < e && (*s == ' ' || *s == '\t'))
            s++;
        while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
            e--;
        if (e > s && !add_pattern(opt, s, (size_t)(e - s), list, &used, &count)) {
            free(list);
            return false;
        }
        p += len + (p[len] != '\0');
    }
    *out = list;
    return true;
}

/* The profiler's environment for counts in dir, in this process (so COMMAND
 * inherits it) or printed as NAME=VALUE lines. */
static bool profiler_env(const collect_opts_t *o, const char *profiler, const char *dir, bool print)
{
    char counts[4200], report[4200];
    snprintf(counts, sizeof counts, "%s/counts.%%p", dir);
    snprintf(report, sizeof report, "%s/report.%%p.txt", dir);
    const char *exclude = o->include_list == NULL && o->exclude_list == NULL ? default_exclude
                          : o->exclude_list != NULL                        ? o->exclude_list
                                                                            : "";
    char with_default[sizeof default_exclude + 8192];
    if (o->include_list == NULL && o->exclude_list != NULL) {
        snprintf(with_default, sizeof with_default, "%s,%s", default_exclude, o->exclude_list);
        exclude = with_default;
    }
    const char *vars[][2] = {
        {"CORECLR_ENABLE_PROFILING", "1"}, {"CORECLR_PROFILER", PROFILER_CLSID}, {"CORECLR_PROFILER_PATH", profiler},
        {"ILHEAP_MODE", "blocks"},         {"ILHEAP_COUNTS", counts},            {"ILHEAP_REPORT", report},
        {"ILHEAP_INCLUDE", o->include_list != NULL ? o->include_list : ""},     {"ILHEAP_EXCLUDE", exclude},
        /* MSBuild nodes and compiler servers started under the profiler would outlive the command */
        {"MSBUILDDISABLENODEREUSE", "1"},
    };
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++) {
        if (print)
            printf("%s=%s\n", vars[i][0], vars[i][1]);
        else if (!proc_setenv(vars[i][0], vars[i][1]))
            return false;
    }
    /* The runtime prefers these to CORECLR_PROFILER_PATH: a stale one must not win. */
    static const char *const stale[] = {"CORECLR_PROFILER_PATH_64", "CORECLR_PROFILER_PATH_32",
                                        "CORECLR_PROFILER_PATH_ARM64", "CORECLR_PROFILER_PATH_ARM32"};
    for (size_t i = 0; !print && i < sizeof stale / sizeof stale[0]; i++)
        if (getenv(stale[i]) != NULL && !proc_setenv(stale[i], profiler))
            return false;
    return print ? fflush(stdout) == 0 : true;
}

typedef struct file_list {
    char **paths;
    size_t count, cap;
    bool failed;
} file_list_t;

static void add_file(const char *path, const char *name, void *ctx)
{
    (void)name;
    file_list_t *l = ctx;
    char *copy = malloc(strlen(path) + 1);
    if (copy == NULL || !tool_reserve((void **)&l->paths, &l->cap, l->count + 1, sizeof *l->paths)) {
        free(copy);
        l->failed = true;
        return;
    }
    strcpy(copy, path);
    l->paths[l->count++] = copy;
}

static void free_files(file_list_t *l)
{
    for (size_t i = 0; i < l->count; i++)
        free(l->paths[i]);
    free(l->paths);
    memset(l, 0, sizeof *l);
}

/* The counts directory: a given one is made if missing and must hold no
 * counts yet (old counts would be summed in); else a new temporary one. */
static int prepare_dir(const char *given, char *dir, size_t size)
{
    if (given == NULL) {
        if (proc_make_temp_dir("ilheap-collect", dir, size))
            return 0;
        fprintf(stderr, "ilheap collect: cannot make a temporary directory for the counts: %s\n", strerror(errno));
        return TOOL_EXIT_SYSTEM;
    }
    snprintf(dir, size, "%s", given);
    file_list_t old = {0};
    if (!proc_make_dir(dir) || !proc_list_files(dir, "counts.", add_file, &old)) {
        fprintf(stderr, "ilheap collect: %s: cannot make or read this directory: %s\n", dir, strerror(errno));
        return TOOL_EXIT_SYSTEM;
    }
    size_t n = old.count;
    free_files(&old);
    if (n != 0) {
        fprintf(stderr, "ilheap collect: %s holds %zu counts files of an earlier run; they would be summed in: "
                        "give a new or empty directory\n", dir, n);
        return TOOL_EXIT_USAGE;
    }
    return 0;
}

/* What the profiler's reports say went wrong (config_error=), on stderr. */
static void check_reports(const file_list_t *reports)
{
    for (size_t i = 0; i < reports->count; i++) {
        FILE *f = fopen(reports->paths[i], "r");
        char line[1024];
        while (f != NULL && fgets(line, sizeof line, f) != NULL)
            if (strncmp(line, "config_error=", 13) == 0 && strncmp(line + 13, "none", 4) != 0)
                fprintf(stderr, "ilheap collect: the profiler (%s) did not accept its settings: %s",
                        tool_base_name(reports->paths[i]), line + 13);
        if (f != NULL)
            fclose(f);
    }
}

/* Says why no process wrote counts; returns COLLECT_EXIT_NO_COVERAGE. */
static int no_coverage(const collect_opts_t *o, size_t reports)
{
    if (reports == 0)
        fprintf(stderr, "ilheap collect: no coverage: no .NET process loaded the profiler (it writes a report "
                        "in every process it runs in, and there is none): did the command start a .NET program?\n");
    else
        fprintf(stderr, "ilheap collect: no coverage: the profiler ran in %zu process(es) but counted no method of "
                        "the included assemblies (%s): check --include and --exclude\n", reports,
                o->include_list != NULL ? o->include_list : "everything but the default exclusions");
    return COLLECT_EXIT_NO_COVERAGE;
}

/* Waits, at most `seconds`, until the processes whose pids name the counts
 * files (counts.PID) have exited: a test host may still be ending when the
 * test platform asks for the report. */
static void wait_for_writers(const file_list_t *counts, uint32_t seconds)
{
    uint64_t deadline = tool_now_ns() + (uint64_t)seconds * 1000000000u;
    for (size_t i = 0; i < counts->count; i++) {
        const char *name = tool_base_name(counts->paths[i]) + 7; /* after "counts." */
        char *end;
        unsigned long pid = strtoul(name, &end, 10);
        while (end != name && proc_alive(pid) && tool_now_ns() < deadline)
            proc_sleep_ms(20);
    }
}

/* The reports of the counts in dir. Returns 0, cover's status, or
 * COLLECT_EXIT_NO_COVERAGE / COLLECT_EXIT_THRESHOLD. */
static int report(const collect_opts_t *o, const char *dir)
{
    file_list_t counts = {0}, reports = {0};
    bool listed = proc_list_files(dir, "counts.", add_file, &counts) && !counts.failed;
    if (listed && o->wait_seconds != 0)
        wait_for_writers(&counts, o->wait_seconds);
    if (!listed || !proc_list_files(dir, "report.", add_file, &reports) || reports.failed) {
        fprintf(stderr, "ilheap collect: %s: cannot list the counts: %s\n", dir, strerror(errno));
        free_files(&counts);
        free_files(&reports);
        return TOOL_EXIT_SYSTEM;
    }
    check_reports(&reports);
    cover_result_t result = {0};
    int rc = 0;
    if (counts.count == 0) {
        rc = no_coverage(o, reports.count);
    } else {
        cover_request_t req = {(const char *const *)counts.paths, counts.count, o->cobertura, o->lcov,
                               o->include_list, o->exclude_list, o->quiet ? NULL : stderr, o->filters};
        rc = cover_run(&req, &result); /* 7 and 9 said there, and no report left */
        if (rc == COVER_EXIT_NO_COVERAGE && result.modules == 0)
            rc = no_coverage(o, reports.count); /* and which processes ran, what was asked */
    }
    if ((rc == 0 || rc == TOOL_EXIT_MALFORMED) && !collect_threshold_check(&o->threshold, &result.totals))
        rc = COLLECT_EXIT_THRESHOLD;
    if (rc == 0 || rc == TOOL_EXIT_MALFORMED || rc == COLLECT_EXIT_THRESHOLD)
        fprintf(stderr, "ilheap collect: %llu of %llu lines covered, %llu of %llu branches, in %zu assemblies%s%s%s%s\n",
                (unsigned long long)result.totals.lines_hit, (unsigned long long)result.totals.lines,
                (unsigned long long)result.totals.branches_hit, (unsigned long long)result.totals.branches,
                result.with_pdb, o->cobertura ? "; Cobertura: " : "", o->cobertura ? o->cobertura : "",
                o->lcov ? "; LCOV: " : "", o->lcov ? o->lcov : "");
    free_files(&counts);
    free_files(&reports);
    return rc;
}

static void remove_file(const char *path, const char *name, void *ctx)
{
    (void)name;
    (void)ctx;
    remove(path);
}

/* Runs the command under the profiler; the command's status, or ours. */
static int run(const collect_opts_t *o, const char *profiler)
{
    char dir[4096];
    int rc = prepare_dir(o->counts_dir, dir, sizeof dir);
    if (rc != 0)
        return rc;
    if (!profiler_env(o, profiler, dir, false)) {
        fprintf(stderr, "ilheap collect: out of memory setting the environment\n");
        return TOOL_EXIT_SYSTEM;
    }
    char why[256] = "";
    int status = proc_run(o->command, why, sizeof why);
    bool started = status >= 0 && why[0] == '\0';
    if (status < 0) {
        fprintf(stderr, "ilheap collect: cannot start %s: %s\n", o->command[0], strerror(errno));
        status = TOOL_EXIT_SYSTEM;
    } else if (!started) {
        fprintf(stderr, "ilheap collect: %s: %s\n", o->command[0], why);
    }
    rc = started ? report(o, dir) : 0;
    if (o->counts_dir == NULL) {
        proc_list_files(dir, "counts.", remove_file, NULL);
        proc_list_files(dir, "report.", remove_file, NULL);
        proc_remove_dir(dir);
    }
    if (status != 0)
        return status;
    return rc;
}

int ilheap_cmd_collect(int argc, char **argv)
{
    collect_opts_t o;
    memset(&o, 0, sizeof o);
    int rc = parse_args(argc, argv, &o);
    if (rc != 0)
        return rc < 0 ? TOOL_EXIT_OK : rc;
    if (!filter_list("--include", o.include, &o.include_list) || !filter_list("--exclude", o.exclude, &o.exclude_list))
        rc = TOOL_EXIT_USAGE;
    if (o.source_root != NULL)
        source_map_set_roots(o.source_root);
    char profiler[4096];
    if (rc == 0 && o.from == NULL)
        rc = collect_find_profiler(o.profiler, profiler, sizeof profiler);
    if (rc == 0 && o.print_env != NULL) {
        char dir[4096];
        rc = prepare_dir(o.print_env, dir, sizeof dir);
        if (rc == 0 && !profiler_env(&o, profiler, dir, true))
            rc = TOOL_EXIT_SYSTEM;
    } else if (rc == 0 && o.from != NULL) {
        rc = report(&o, o.from);
    } else if (rc == 0) {
        rc = run(&o, profiler);
    }
    free(o.include_list);
    free(o.exclude_list);
    return rc;
}
