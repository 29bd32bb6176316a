/* ilheap counts: what counts files hold (a summary, or the JSON-lines
 * export), and snapshots of live ones, through the library's one reader
 * (include/ilheap/counts.h). */
#include "commands.h"
#include "tool.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ilheap/counts.h"

static const char counts_help[] =
    "usage: ilheap counts FILE... [--jsonl]\n"
    "       ilheap counts FILE --snapshot SNAP\n"
    "Reads the profiler's counts files (ILHEAP_COUNTS; also their JSON-lines\n"
    "export) while the process runs, after it exited, or after it was killed.\n"
    "\n"
    "  (default)        a summary line per file: the writer's state (running,\n"
    "                   exited, killed: from the file's header and whether its\n"
    "                   process still runs), pid, modules, methods, blocks\n"
    "                   (probes) and hits (the sum of the counters); timed methods\n"
    "                   (ILHEAP_MODE=timing): their calls, exceptional exits and\n"
    "                   inclusive time, summed\n"
    "  --jsonl          every method of every file as one JSON object per line on\n"
    "                   stdout (module, path, mvid, method, token, then calls or\n"
    "                   blocks, and the edge probes' edges and branch_runs: the\n"
    "                   profiler's format of before; ILHEAP_MODE=timing: calls,\n"
    "                   exceptional_exits, inclusive_ns)\n"
    "  --snapshot SNAP  copy FILE's counters as they are at this instant to SNAP;\n"
    "                   'ilheap cover FILE --since SNAP' then reports only what ran\n"
    "                   after it\n"
    "\n"
    "exit status: 0 read; 2 bad arguments; 3 a file does not exist; 4 a file cannot\n"
    "be read; 5 a file is damaged, lost methods (disk full), or replaced a running\n"
    "process's file (reported); 6 out of memory or an output could not be written.\n";

static const char *state_name(ilheap_counts_state_t s)
{
    static const char *const names[] = {[ILHEAP_COUNTS_UNKNOWN] = "-", [ILHEAP_COUNTS_RUNNING] = "running",
                                        [ILHEAP_COUNTS_EXITED] = "exited", [ILHEAP_COUNTS_KILLED] = "killed",
                                        [ILHEAP_COUNTS_FROZEN] = "snapshot"};
    return s <= ILHEAP_COUNTS_FROZEN ? names[s] : "?";
}

/* Opens a file: 0, or the exit status (reported). */
static int open_counts(const char *file, ilheap_counts_t **c)
{
    uint64_t off = 0;
    ilheap_status_t st = ilheap_counts_open(file, c, &off);
    if (st == ILHEAP_OK)
        return 0;
    fprintf(stderr, "ilheap counts: %s: %s\n", file, ilheap_last_message());
    return st == ILHEAP_ENOFILE   ? TOOL_EXIT_MISSING
           : st == ILHEAP_EOS_FILE ? TOOL_EXIT_UNREADABLE
           : st == ILHEAP_ENOMEM   ? TOOL_EXIT_SYSTEM
                                   : TOOL_EXIT_MALFORMED;
}

/* What makes a file's counts incomplete, said on stderr: 1 if anything. */
static int problems(const char *file, const ilheap_counts_t *c)
{
    ilheap_counts_info_t info;
    ilheap_counts_info(c, &info);
    size_t n = ilheap_counts_problem_count(c);
    for (size_t i = 0; i < n; i++) {
        uint64_t line;
        const char *why = ilheap_counts_problem(c, i, &line);
        fprintf(stderr, "ilheap counts: %s:%llu: %s\n", file, (unsigned long long)line, why);
    }
    if (info.lost != 0)
        fprintf(stderr, "ilheap counts: %s: %llu methods were not counted (the file could not grow: disk full?)\n",
                file, (unsigned long long)info.lost);
    if (info.replaced_pid != 0)
        fprintf(stderr, "ilheap counts: %s: this file replaced the one of running process %llu (ILHEAP_COUNTS "
                "without %%p): that process's counts are lost\n", file, (unsigned long long)info.replaced_pid);
    return n != 0 || info.lost != 0 || info.replaced_pid != 0;
}

/* ILHEAP_MODE=timing: "; timing: N methods (E entered), C calls, X
 * exceptional exits, S s inclusive" (the sum over methods, nested calls
 * counted in each). */
static void timing_summary(tool_out_t *out, const ilheap_counts_t *c)
{
    size_t n = ilheap_counts_timing_count(c);
    uint64_t calls = 0, exceptional = 0, entered = 0;
    double seconds = 0;
    for (size_t i = 0; i < n; i++) {
        ilheap_counts_timing_t t;
        if (ilheap_counts_timing(c, i, &t) != ILHEAP_OK)
            continue;
        calls = calls > UINT64_MAX - t.calls ? UINT64_MAX : calls + t.calls;
        exceptional = exceptional > UINT64_MAX - t.exceptional_exits ? UINT64_MAX : exceptional + t.exceptional_exits;
        entered += t.calls != 0;
        seconds += (double)t.inclusive_ns / 1e9;
    }
    if (n != 0)
        tool_out_printf(out, "; timing: %zu methods (%llu entered), %llu calls, %llu exceptional exits, %.3f s inclusive",
                        n, (unsigned long long)entered, (unsigned long long)calls, (unsigned long long)exceptional,
                        seconds);
}

static void summary(tool_out_t *out, const char *file, const ilheap_counts_t *c)
{
    ilheap_counts_info_t info;
    ilheap_counts_info(c, &info);
    uint64_t hits = 0, entered = 0;
    for (size_t i = 0; i < info.methods; i++) {
        ilheap_counts_method_t m;
        if (ilheap_counts_method(c, i, &m) != ILHEAP_OK)
            continue;
        for (size_t p = 0; p < m.probes; p++) {
            uint64_t h = ilheap_counts_hits(c, i, p);
            hits = hits > UINT64_MAX - h ? UINT64_MAX : hits + h;
        }
        entered += ilheap_counts_hits(c, i, 0) != 0;
    }
    char pid[24] = "-";
    if (info.format == ILHEAP_COUNTS_FILE)
        snprintf(pid, sizeof pid, "%llu", (unsigned long long)info.pid);
    tool_out_printf(out, "%s: %s, pid %s, %zu modules, %zu methods (%llu entered), %zu blocks, %llu hits%s", file,
                    info.format == ILHEAP_COUNTS_JSONL ? "JSON lines" : state_name(ilheap_counts_state(c)), pid,
                    info.modules, info.methods, (unsigned long long)entered, info.probes, (unsigned long long)hits,
                    info.lost != 0 ? ", methods lost" : "");
    timing_summary(out, c);
    tool_out_printf(out, "\n");
}

static int to_out(void *ctx, const char *text, size_t n)
{
    tool_out_t *out = ctx;
    tool_out_printf(out, "%.*s", (int)n, text);
    return 0;
}

static int snapshot(const char *file, const char *snap)
{
    ilheap_counts_t *c;
    int rc = open_counts(file, &c);
    if (rc != 0)
        return rc;
    ilheap_counts_info_t info;
    ilheap_counts_info(c, &info);
    if (info.format != ILHEAP_COUNTS_FILE) {
        fprintf(stderr, "ilheap counts: %s: JSON lines are no live counts: a snapshot is taken of a counts file\n",
                file);
        rc = TOOL_EXIT_USAGE;
    } else if (ilheap_counts_snapshot(c, snap) != ILHEAP_OK) {
        fprintf(stderr, "ilheap counts: %s\n", ilheap_last_message());
        rc = TOOL_EXIT_SYSTEM;
    }
    ilheap_counts_close(c);
    return rc;
}

/* The summary or the export of each file; the worst exit status. */
static int read_all(char **files, size_t n, int jsonl)
{
    tool_out_t *out = malloc(sizeof *out);
    if (out == NULL)
        return TOOL_EXIT_SYSTEM;
    tool_out_init(out, stdout);
    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        ilheap_counts_t *c;
        int r = open_counts(files[i], &c);
        if (r == 0) {
            if (problems(files[i], c))
                r = TOOL_EXIT_MALFORMED;
            if (!jsonl)
                summary(out, files[i], c);
            else if (ilheap_counts_write_jsonl(c, to_out, out) != ILHEAP_OK)
                r = TOOL_EXIT_SYSTEM;
            ilheap_counts_close(c);
        }
        if (r > rc)
            rc = r;
    }
    if (!tool_out_flush(out) && rc == 0)
        rc = TOOL_EXIT_SYSTEM;
    free(out);
    return rc;
}

int ilheap_cmd_counts(int argc, char **argv)
{
    const char *snap = NULL;
    int jsonl = 0;
    char **files = calloc((size_t)argc + 1, sizeof *files);
    size_t n = 0;
    if (files == NULL)
        return TOOL_EXIT_SYSTEM;
    int rc = -1;
    for (int i = 1; i < argc && rc < 0; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            fputs(counts_help, stdout);
            rc = TOOL_EXIT_OK;
        } else if (strcmp(argv[i], "--jsonl") == 0) {
            jsonl = 1;
        } else if (strcmp(argv[i], "--snapshot") == 0 && i + 1 < argc && snap == NULL) {
            snap = argv[++i];
        } else if (argv[i][0] == '-' && argv[i][1] != 0) {
            fprintf(stderr, "ilheap counts: '%s' is not an option here (or lacks its value)\n%s", argv[i], counts_help);
            rc = TOOL_EXIT_USAGE;
        } else {
            files[n++] = argv[i];
        }
    }
    if (rc < 0 && (n == 0 || (snap != NULL && (n != 1 || jsonl)))) {
        fprintf(stderr, "ilheap counts: %s\n%s", n == 0 ? "no counts file given" : "--snapshot takes one FILE",
                counts_help);
        rc = TOOL_EXIT_USAGE;
    }
    if (rc < 0)
        rc = snap != NULL ? snapshot(files[0], snap) : read_all(files, n, jsonl);
    free(files);
    return rc;
}
