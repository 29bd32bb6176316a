/* ilheap scan: every MethodDef with an IL body, in token order, decoded and
 * validated; a table with totals, or one JSON object per line (docs/cli.md). */
#include "commands.h"
#include "tool.h"

#include <stdlib.h>
#include <string.h>

static const char scan_help[] =
    "usage: ilheap scan [FILE] [--jsonl] [--builtin]\n"
    "       ilheap scan FILE --lines [--jsonl]\n"
    "Lists every method of a .NET assembly that has an IL body (ECMA-335 II.22.26:\n"
    "RVA non-zero, code type IL), in token order, with its decoded header and\n"
    "exception clauses (II.25.4).\n"
    "\n"
    "  FILE       the assembly; default: System.Private.CoreLib.dll of the newest .NET\n"
    "             runtime installed ($DOTNET_ROOT or /usr/share/dotnet), else the\n"
    "             built-in fallback assembly\n"
    "  --jsonl    one JSON object per body instead of the table:\n"
    "             {\"token\":..,\"rva\":..,\"header\":\"tiny|fat\",\"max_stack\":..,\"code_size\":..,\n"
    "              \"local_sig\":..,\"init_locals\":true|false,\"eh\":[{\"kind\":\"catch|filter|finally|fault\",\n"
    "              \"try_offset\":..,\"try_length\":..,\"handler_offset\":..,\"handler_length\":..\n"
    "              [,\"class_token\":.. (catch) | ,\"filter_offset\":.. (filter)]}],\"body_size\":..}\n"
    "  --lines    each method's sequence points from the assembly's portable PDB\n"
    "             (embedded, or FILE's name with .pdb, or the CodeView path; its id must\n"
    "             match): IL offset, start/end line:column, document, hidden points.\n"
    "             With --jsonl one object per method with points:\n"
    "             {\"token\":..,\"points\":[{\"il\":..,\"document\":\"..\",\"hidden\":false,\n"
    "              \"start_line\":..,\"start_col\":..,\"end_line\":..,\"end_col\":..}]}\n"
    "  --builtin  use the built-in fallback assembly\n"
    "\n"
    "A body that does not decode is reported on stderr (token, RVA, reason) and the\n"
    "scan goes on; the exit status is then 5. Timed passes over the bodies are the\n"
    "benchmark's: bench_bodies scan (docs/benchmarks.md).\n";

typedef struct totals {
    uint64_t bodies, tiny, fat, with_eh, clauses[5], bytes, code_bytes, bad;
    uint32_t max_code, max_clauses;
} totals_t;

static void table_row(tool_out_t *out, const ilheap_pe_il_body_t *m, const ilheap_il_body_t *b)
{
    uint32_t kinds[5] = {0};
    for (uint32_t i = 0; i < b->clause_count; i++)
        kinds[b->clauses[i].kind]++;
    tool_out_printf(out, "0x%08x  0x%08x  %-4s  %5u  %8u  0x%08x  %-5s  %3u/%u/%u/%u  %9zu\n", m->token, m->rva,
                    b->header == ILHEAP_IL_TINY ? "tiny" : "fat", b->max_stack, b->code_size, b->local_sig,
                    b->init_locals ? "yes" : "no", kinds[ILHEAP_IL_CATCH], kinds[ILHEAP_IL_FILTER],
                    kinds[ILHEAP_IL_FINALLY], kinds[ILHEAP_IL_FAULT], b->body_size);
}

static void count(totals_t *t, const ilheap_il_body_t *b)
{
    t->bodies++;
    if (b->header == ILHEAP_IL_TINY)
        t->tiny++;
    else
        t->fat++;
    if (b->clause_count != 0)
        t->with_eh++;
    for (uint32_t i = 0; i < b->clause_count; i++)
        t->clauses[b->clauses[i].kind]++;
    t->bytes += b->body_size;
    t->code_bytes += b->code_size;
    if (b->code_size > t->max_code)
        t->max_code = b->code_size;
    if (b->clause_count > t->max_clauses)
        t->max_clauses = b->clause_count;
}

/* One method's body decoded, or reported (and false). */
static bool read_body(const char *path, const ilheap_pe_il_body_t *m, ilheap_il_body_t *b, tool_clauses_t *clauses,
                      tool_progress_t *progress)
{
    ilheap_status_t st = tool_decode(m->data, m->available, b, clauses);
    if (st != ILHEAP_OK) {
        tool_progress_clear(progress);
        fprintf(stderr, "ilheap scan: %s: method 0x%08x (RVA %#x): body does not decode: %s (body byte %zu)\n",
                path, m->token, m->rva, ilheap_last_message(), b->error_offset);
        return false;
    }
    /* II.25.4.3: a fat header is 4-byte aligned (see the codec's alignment note). */
    if (b->header == ILHEAP_IL_FAT && (m->rva & 3) != 0) {
        tool_progress_clear(progress);
        fprintf(stderr, "ilheap scan: %s: method 0x%08x: fat body at RVA %#x is not 4-byte aligned\n", path,
                m->token, m->rva);
        return false;
    }
    return true;
}

typedef struct scan_options {
    const char *path;
    bool jsonl, builtin, lines;
} scan_options_t;

/* The command line; 0, an exit status, or -1 for --help (printed). */
static int parse(int argc, char **argv, scan_options_t *o)
{
    *o = (scan_options_t){0};
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            printf("%s\n%s", scan_help, tool_exit_help);
            return -1;
        } else if (strcmp(argv[i], "--jsonl") == 0) {
            o->jsonl = true;
        } else if (strcmp(argv[i], "--lines") == 0) {
            o->lines = true;
        } else if (strcmp(argv[i], "--builtin") == 0) {
            o->builtin = true;
        } else if (argv[i][0] == '-' && argv[i][1] != '\0') {
            fprintf(stderr, "ilheap scan: unknown option '%s' (see ilheap scan --help)\n", argv[i]);
            return TOOL_EXIT_USAGE;
        } else if (o->path != NULL || o->builtin) {
            fprintf(stderr, "ilheap scan: one FILE at most (see ilheap scan --help)\n");
            return TOOL_EXIT_USAGE;
        } else {
            o->path = argv[i];
        }
    }
    if (o->path != NULL && o->builtin) {
        fprintf(stderr, "ilheap scan: FILE and --builtin exclude each other\n");
        return TOOL_EXIT_USAGE;
    }
    if (o->lines && o->path == NULL) {
        fprintf(stderr, "ilheap scan: --lines needs a FILE\n");
        return TOOL_EXIT_USAGE;
    }
    return 0;
}

/* The totals below the table. */
static void print_totals(tool_out_t *out, uint32_t rows, const totals_t *t)
{
    tool_out_printf(out,
                    "\ntotals: %u MethodDef rows, %llu IL bodies (%llu tiny, %llu fat), %llu with EH; "
                    "clauses: %llu catch, %llu filter, %llu finally, %llu fault\n"
                    "        %llu bytes of bodies, %llu of IL code; largest code %u bytes, most clauses %u\n",
                    rows, (unsigned long long)t->bodies, (unsigned long long)t->tiny, (unsigned long long)t->fat,
                    (unsigned long long)t->with_eh, (unsigned long long)t->clauses[ILHEAP_IL_CATCH],
                    (unsigned long long)t->clauses[ILHEAP_IL_FILTER],
                    (unsigned long long)t->clauses[ILHEAP_IL_FINALLY],
                    (unsigned long long)t->clauses[ILHEAP_IL_FAULT], (unsigned long long)t->bytes,
                    (unsigned long long)t->code_bytes, t->max_code, t->max_clauses);
    if (t->bad != 0)
        tool_out_printf(out, "        %llu bodies could not be read (see stderr)\n", (unsigned long long)t->bad);
}

/* Every IL body: a table row or a JSON line each, then the totals; the exit status. */
static int list(const tool_input_t *in, const ilheap_pe_t *pe, bool jsonl)
{
    tool_out_t *out = malloc(sizeof *out);
    if (out == NULL) {
        fprintf(stderr, "ilheap scan: out of memory\n");
        return TOOL_EXIT_SYSTEM;
    }
    tool_out_init(out, stdout);
    uint32_t rows = ilheap_pe_method_count(pe);
    if (!jsonl) {
        tool_out_printf(out, "input  %s%s\n", in->path, in->defaulted ? " (default input)" : "");
        tool_out_str(out, "token       rva         hdr   stack      code  local_sig   init   EH c/fl/fi/fa   bytes\n");
    }
    totals_t t = {0};
    tool_clauses_t clauses = {0};
    tool_progress_t progress;
    tool_progress_start(&progress, "scan", rows);
    ilheap_pe_body_cursor_t cursor;
    ilheap_pe_il_body_t m;
    ilheap_pe_bodies_begin(pe, &cursor, NULL);
    while (tool_next_body(&cursor, &m, &progress, in->path, &t.bad)) {
        tool_progress_update(&progress, cursor.rid);
        ilheap_il_body_t b;
        if (!read_body(in->path, &m, &b, &clauses, &progress)) {
            t.bad++;
            continue;
        }
        count(&t, &b);
        if (jsonl)
            tool_json_body(out, m.token, m.rva, &b, false, 0, -1);
        else
            table_row(out, &m, &b);
    }
    tool_progress_end(&progress);
    if (!jsonl)
        print_totals(out, rows, &t);
    bool written = tool_out_flush(out);
    free(out);
    tool_clauses_free(&clauses);
    if (!written) {
        fprintf(stderr, "ilheap scan: writing the output failed\n");
        return TOOL_EXIT_SYSTEM;
    }
    if (t.bad != 0) {
        fprintf(stderr, "ilheap scan: %llu of %llu IL bodies could not be read\n", (unsigned long long)t.bad,
                (unsigned long long)(t.bad + t.bodies));
        return TOOL_EXIT_MALFORMED;
    }
    return TOOL_EXIT_OK;
}

int ilheap_cmd_scan(int argc, char **argv)
{
    scan_options_t o;
    int rc = parse(argc, argv, &o);
    if (rc != 0)
        return rc < 0 ? TOOL_EXIT_OK : rc;
    if (o.lines)
        return ilheap_scan_lines(o.path, o.builtin, o.jsonl);
    tool_input_t in;
    ilheap_pe_t *pe;
    rc = tool_load_and_open("scan", o.path, o.builtin, &in, &pe);
    if (rc != 0)
        return rc;
    rc = list(&in, pe, o.jsonl);
    ilheap_pe_close(pe);
    tool_input_free(&in);
    return rc;
}
