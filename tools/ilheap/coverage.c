/* From block counts to lines and branches, one module at a time: the DLL's
 * bodies give the blocks (ilheap_rw_block_starts, as the profiler probes
 * them) and the conditional branches, the PDB's sequence points give the
 * lines, the counts give the hits. */
#include "cover.h"
#include "ilheap/instrument.h"
#include "flow.h"
#include "source_map.h"
#include "ilheap/rewrite.h"
#include "pdb_load.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define MAX_POINT_LINES 10000u /* a sequence point longer than this is clipped (no real one is) */

/* Scratch shared by the methods of a module. */
typedef struct work {
    const char *dll;
    ilheap_pe_t *pe;
    ilheap_pdb_t *pdb;
    ilheap_rw_t *rw;
    tool_clauses_t clauses;
    ilheap_rw_id_t *ids;
    size_t id_cap;
    uint32_t *starts; /* block start offsets, ascending */
    size_t start_cap;
    uint64_t *hits; /* per block */
    size_t hits_cap;
    ilheap_pdb_sequence_point_t *points;
    size_t point_cap;
    uint64_t *bad;
    tool_progress_t *progress;
    const cov_filters_t *filters;
    cov_members_t members; /* flags NULL when they could not be read (reported) */
    cov_returns_t returns; /* which of the module's methods never return */
    bool *doc_excluded;    /* by document index: --exclude-by-file matches it */
} work_t;

static void vsay(work_t *w, const char *format, va_list args)
{
    tool_progress_clear(w->progress);
    fputs("ilheap cover: ", stderr);
    vfprintf(stderr, format, args);
    fputc('\n', stderr);
}

/* A note on stderr that does not change the exit status. */
static void say(work_t *w, const char *format, ...) SUPPORT_PRINTF_LIKE(2, 3);
static void say(work_t *w, const char *format, ...)
{
    va_list args;
    va_start(args, format);
    vsay(w, format, args);
    va_end(args);
}

/* A problem: reported, and the exit status becomes 5. */
#define problem(w, ...) (say((w), __VA_ARGS__), (*(w)->bad)++)

static char *dup_str(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    return d != NULL ? memcpy(d, s, n) : NULL;
}

/* A method's parameters as coverlet's Cobertura spells them (Cecil's names:
 * "(System.Int32,Shop.Product)"); "" when the blob does not decode, as the
 * attribute only names an overload. NULL without memory. */
static char *signature_text(const ilheap_pe_t *pe, uint32_t token)
{
    char small[512];
    size_t length = 0;
    ilheap_pe_error_t err;
    ilheap_status_t st = ilheap_pe_signature_text(pe, token, ILHEAP_SIG_TEXT_CECIL, small, sizeof small, &length, &err);
    if (st == ILHEAP_OK)
        return dup_str(small);
    if (st != ILHEAP_EINVAL || length < sizeof small)
        return dup_str("");
    char *big = malloc(length + 1);
    if (big != NULL && ilheap_pe_signature_text(pe, token, ILHEAP_SIG_TEXT_CECIL, big, length + 1, NULL, &err) != ILHEAP_OK)
        big[0] = '\0';
    return big;
}

/* "Ns.Outer/Inner" for every TypeDef (Cecil's spelling, as coverlet writes). */
static bool type_names(cov_module_t *mod, ilheap_pe_t *pe)
{
    uint32_t n = ilheap_pe_typedef_count(pe);
    mod->types = calloc(n + 1u, sizeof *mod->types);
    if (mod->types == NULL)
        return false;
    mod->type_count = n;
    for (uint32_t rid = 1; rid <= n; rid++) {
        char name[2048] = "";
        size_t len = 0;
        uint32_t chain[16], depth = 0, r = rid;
        ilheap_pe_error_t err;
        while (r != 0 && depth < 16) { /* innermost first */
            chain[depth++] = r;
            uint32_t outer = 0;
            if (ilheap_pe_enclosing_type(pe, r, &outer, &err) != ILHEAP_OK)
                outer = 0;
            r = outer;
        }
        for (uint32_t i = depth; i-- > 0;) {
            ilheap_pe_typedef_t t;
            const char *ns = "", *nm = "?";
            if (ilheap_pe_typedef(pe, chain[i], &t, &err) == ILHEAP_OK) {
                if (ilheap_pe_string(pe, t.namespace_, &ns, NULL, &err) != ILHEAP_OK)
                    ns = "";
                if (ilheap_pe_string(pe, t.name, &nm, NULL, &err) != ILHEAP_OK)
                    nm = "?";
            }
            int k = i + 1 == depth ? snprintf(name + len, sizeof name - len, "%s%s%s", ns, *ns ? "." : "", nm)
                                   : snprintf(name + len, sizeof name - len, "/%s", nm);
            if (k > 0)
                len = len + (size_t)k < sizeof name ? len + (size_t)k : sizeof name - 1;
        }
        if ((mod->types[rid - 1] = dup_str(name)) == NULL)
            return false;
    }
    return true;
}

static bool documents(cov_module_t *mod, work_t *w)
{
    ilheap_pdb_info_t info;
    ilheap_pdb_get_info(w->pdb, &info);
    mod->documents = calloc(info.document_count + 1u, sizeof *mod->documents);
    mod->document_missing = calloc(info.document_count + 1u, sizeof *mod->document_missing);
    if (mod->documents == NULL || mod->document_missing == NULL)
        return false;
    mod->document_count = info.document_count;
    if ((w->doc_excluded = calloc(info.document_count + 1u, sizeof *w->doc_excluded)) == NULL)
        return false;
    source_map_t map; /* "/_/" paths of a deterministic build -> files here */
    source_map_open(&map, "cover", w->dll, w->pdb);
    for (uint32_t d = 1; d <= info.document_count; d++) {
        char name[4096];
        size_t length;
        ilheap_pe_error_t err;
        if (ilheap_pdb_document_name(w->pdb, d, name, sizeof name, &length, &err) != ILHEAP_OK) {
            problem(w, "%s: PDB document %u: %s", w->dll, d, err.message);
            snprintf(name, sizeof name, "(unreadable document %u)", d);
        }
        source_map_apply(&map, name, sizeof name);
        if ((mod->documents[d - 1] = dup_str(name)) == NULL) {
            source_map_close(&map);
            return false;
        }
        w->doc_excluded[d - 1] = w->filters != NULL && cov_path_glob_match(w->filters->exclude_by_file, name);
    }
    source_map_close(&map);
    return true;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

static int cmp_line(const void *a, const void *b)
{
    const cov_line_t *x = a, *y = b;
    if (x->document != y->document)
        return x->document < y->document ? -1 : 1;
    return x->number < y->number ? -1 : x->number > y->number;
}

/* The method's body into w->rw and its block starts into w->starts; false
 * (reported) when it does not decode. */
static bool load_blocks(work_t *w, const ilheap_pe_method_t *m, size_t *count)
{
    const uint8_t *p;
    size_t avail, bad_at = 0;
    ilheap_pe_error_t err;
    ilheap_il_body_t body;
    if (ilheap_pe_method_body(w->pe, m, &p, &avail, &err) != ILHEAP_OK) {
        problem(w, "%s: method 0x%08x: %s", w->dll, m->token, err.message);
        return false;
    }
    if (tool_decode(p, avail, &body, &w->clauses) != ILHEAP_OK || ilheap_rw_load(w->rw, &body, &bad_at) != ILHEAP_OK) {
        problem(w, "%s: method 0x%08x: body does not decode: %s", w->dll, m->token, ilheap_last_message());
        return false;
    }
    size_t n = 0;
    ilheap_status_t st = ilheap_rw_block_starts(w->rw, w->ids, w->id_cap, &n);
    if (st == ILHEAP_IL_DEST_TOO_SMALL) {
        if (!tool_reserve((void **)&w->ids, &w->id_cap, n, sizeof *w->ids))
            return false;
        st = ilheap_rw_block_starts(w->rw, w->ids, w->id_cap, &n);
    }
    if (st != ILHEAP_OK || !tool_reserve((void **)&w->starts, &w->start_cap, n + 1, sizeof *w->starts) ||
        !tool_reserve((void **)&w->hits, &w->hits_cap, n + 1, sizeof *w->hits)) {
        problem(w, "%s: method 0x%08x: block starts: %s", w->dll, m->token, ilheap_last_message());
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        ilheap_rw_insn_t insn;
        ilheap_rw_get(w->rw, w->ids[i], &insn);
        w->starts[i] = insn.offset;
        w->hits[i] = 0;
    }
    qsort(w->starts, n, sizeof *w->starts, cmp_u32);
    *count = n;
    return n > 0;
}

/* True when every edge probe of e names an outcome (or the runs) of a
 * conditional branch of the body in w->rw (both ascending in offset). */
static bool edges_fit(work_t *w, const counts_entry_t *e, uint32_t *bad)
{
    ilheap_rw_id_t id = ilheap_rw_first(w->rw);
    for (size_t i = 0; i < e->edge_count; i++) {
        const counts_edge_t *x = &e->edges[i];
        ilheap_rw_insn_t insn = {0};
        bool found = false;
        for (; id != ILHEAP_RW_END && ilheap_rw_get(w->rw, id, &insn) == ILHEAP_OK; id = ilheap_rw_next(w->rw, id))
            if (insn.offset >= x->il_offset) {
                found = insn.offset == x->il_offset;
                break;
            }
        const ilheap_il_opinfo_t *info = found ? ilheap_il_opinfo(insn.opcode) : NULL;
        uint32_t outcomes = insn.opcode == ILHEAP_OP_SWITCH ? insn.op.sw.count + 1 : 2;
        if (info == NULL || info->flow != ILHEAP_FLOW_COND || (x->outcome >= outcomes && x->outcome != ILHEAP_PROBE_RUNS)) {
            *bad = x->il_offset;
            return false;
        }
    }
    return true;
}

/* Applies a counts entry to w->hits; false (reported, nothing applied) when
 * an offset is not a block start of the body as it is now, or an edge probe
 * names no branch outcome of it. */
static bool apply_counts(work_t *w, const counts_entry_t *e, size_t n)
{
    uint32_t bad;
    if (!edges_fit(w, e, &bad)) {
        problem(w, "%s:%llu: %s (0x%08x): edge probe at IL offset %u names no branch outcome of the method in %s "
                "(changed since it was counted?): its counts are ignored",
                e->file, (unsigned long long)e->line, e->method != NULL ? e->method : "?", e->token, bad, w->dll);
        return false;
    }
    for (size_t i = 0; i < e->block_count; i++) {
        uint32_t off = e->blocks[i].il_offset;
        const uint32_t *start = bsearch(&off, w->starts, n, sizeof *w->starts, cmp_u32);
        if (start == NULL) {
            problem(w, "%s:%llu: %s (0x%08x): block offset %u is not a block start of the method in %s "
                    "(changed since it was counted?): its counts are ignored",
                    e->file, (unsigned long long)e->line, e->method != NULL ? e->method : "?", e->token, off, w->dll);
            for (size_t k = 0; k < n; k++)
                w->hits[k] = 0;
            return false;
        }
        w->hits[start - w->starts] = e->blocks[i].hits;
    }
    return true;
}

static bool add_line(cov_method_t *cm, size_t *cap, uint32_t document, uint32_t number, uint64_t hits)
{
    if (!tool_reserve((void **)&cm->lines, cap, cm->line_count + 1, sizeof *cm->lines))
        return false;
    cm->lines[cm->line_count++] = (cov_line_t){document, number, hits};
    return true;
}

/* (line, column) order of two positions. */
static int pos_cmp(uint32_t l1, uint32_t c1, uint32_t l2, uint32_t c2)
{
    return l1 != l2 ? (l1 < l2 ? -1 : 1) : (c1 != c2 ? (c1 < c2 ? -1 : 1) : 0);
}

/* True when line l of the spanning point p belongs to a point nested in p
 * (starting after p's start, ending before its end): that line then takes
 * the nested point's count, not the span's. A switch expression has a point
 * over the whole expression and one per arm; an arm never taken must read 0,
 * not the expression's count (coverlet does the same). */
static bool nested_owns(const ilheap_pdb_sequence_point_t *pts, size_t np, size_t pi, uint32_t l)
{
    const ilheap_pdb_sequence_point_t *p = &pts[pi];
    for (size_t j = 0; j < np; j++) {
        const ilheap_pdb_sequence_point_t *q = &pts[j];
        if (j == pi || q->hidden || q->document != p->document || l < q->start_line || l > q->end_line)
            continue;
        if (pos_cmp(q->start_line, q->start_column, p->start_line, p->start_column) > 0 &&
            pos_cmp(q->end_line, q->end_column, p->end_line, p->end_column) < 0)
            return true;
    }
    return false;
}

/* The method's lines: each non-hidden point's lines with its hits (0 after
 * a call that never returns in its block), distinct, the largest hits of
 * each. Points of code that never runs were hidden before. */
static bool method_lines(cov_method_t *cm, const cov_flow_t *flow, const ilheap_pdb_sequence_point_t *pts, size_t np)
{
    size_t line_cap = 0;
    for (size_t i = 0; i < np; i++) {
        const ilheap_pdb_sequence_point_t *p = &pts[i];
        if (p->hidden || p->document == 0)
            continue;
        uint64_t hits = flow != NULL ? cov_flow_point_hits(flow, p->il_offset) : 0;
        uint32_t last = p->end_line >= p->start_line ? p->end_line : p->start_line;
        if (last - p->start_line > MAX_POINT_LINES)
            last = p->start_line + MAX_POINT_LINES;
        for (uint32_t l = p->start_line; l <= last; l++)
            if ((last == p->start_line || !nested_owns(pts, np, i, l)) &&
                !add_line(cm, &line_cap, p->document - 1, l, hits))
                return false;
    }
    uint64_t hit;
    cm->line_count = cov_distinct_lines(cm->lines, cm->line_count, &hit);
    return true;
}

/* The method's source branches (flow.h says which): a branch belongs to the
 * line of the nearest non-hidden point at or before it (the C# compiler puts
 * the branch of an `if` under a hidden point after the condition's), or the
 * first one when none is before it (as coverlet); its outcomes (the jump
 * targets, then the fall-through) ran as often as their edges did. */
static bool method_branches(work_t *w, cov_method_t *cm, cov_flow_t *flow, const ilheap_pdb_sequence_point_t *pts,
                            size_t np)
{
    size_t branch_cap = 0, sp = np, first = np;
    for (size_t k = 0; k < np && first == np; k++)
        if (!pts[k].hidden && pts[k].document != 0)
            first = k;
    for (ilheap_rw_id_t id = ilheap_rw_first(w->rw); id != ILHEAP_RW_END && first < np; id = ilheap_rw_next(w->rw, id)) {
        ilheap_rw_insn_t insn, t;
        if (ilheap_rw_get(w->rw, id, &insn) != ILHEAP_OK)
            continue;
        const ilheap_il_opinfo_t *info = ilheap_il_opinfo(insn.opcode);
        if (info == NULL || info->flow != ILHEAP_FLOW_COND || !cov_flow_source_branch(flow, id, pts, np))
            continue;
        for (size_t k = sp == np ? 0 : sp; k < np && pts[k].il_offset <= insn.offset; k++)
            if (!pts[k].hidden && pts[k].document != 0)
                sp = k;
        const ilheap_pdb_sequence_point_t *at = &pts[sp < np ? sp : first];
        uint32_t ntargets = insn.opcode == ILHEAP_OP_SWITCH ? insn.op.sw.count : 1;
        const ilheap_rw_id_t *targets = insn.opcode == ILHEAP_OP_SWITCH ? insn.op.sw.targets : &insn.op.target;
        ilheap_rw_id_t next = ilheap_rw_next(w->rw, id);
        uint32_t outcomes = ntargets + 1;
        if (!tool_reserve((void **)&cm->branches, &branch_cap, cm->branch_count + outcomes, sizeof *cm->branches))
            return false;
        for (uint32_t k = 0; k < outcomes; k++) {
            ilheap_rw_id_t to = k < ntargets ? targets[k] : next;
            uint64_t hits = to != ILHEAP_RW_END && ilheap_rw_get(w->rw, to, &t) == ILHEAP_OK
                                ? cov_flow_outcome_hits(flow, insn.offset, k, t.offset)
                                : 0;
            cm->branches[cm->branch_count++] =
                (cov_branch_t){at->document - 1, at->start_line, insn.offset, k, outcomes, hits};
        }
        cm->complexity += outcomes - 1;
    }
    return true;
}

/* Lines and branches of a method with sequence points. */
static bool lines_and_branches(work_t *w, cov_method_t *cm, ilheap_pdb_sequence_point_t *pts, size_t np,
                               uint32_t rid, size_t nblocks, bool have_body, const counts_entry_t *e)
{
    cov_flow_t flow;
    if (have_body && !cov_flow_begin(&flow, w->pe, w->rw, rid, w->starts, nblocks, w->hits, e != NULL ? e->edges : NULL,
                                     e != NULL ? e->edge_count : 0, &w->returns)) {
        cov_flow_end(&flow);
        return false;
    }
    for (size_t i = 0; have_body && i < np; i++)
        if (!pts[i].hidden && cov_flow_dead_point(&flow, pts[i].il_offset))
            pts[i].hidden = true; /* an expression breakpoint's nop: never runs */
    cm->complexity = 1;
    bool ok = method_lines(cm, have_body ? &flow : NULL, pts, np) &&
              (!have_body || method_branches(w, cm, &flow, pts, np));
    if (have_body)
        cov_flow_end(&flow);
    return ok;
}

/* The method's sequence points into w->points; false when the PDB's record is
 * malformed (reported; the points read so far are kept). */
static bool read_points(work_t *w, uint32_t rid, size_t *np)
{
    *np = 0;
    ilheap_pdb_sequence_points_t walk;
    ilheap_pdb_sequence_point_t p;
    ilheap_pe_error_t err;
    ilheap_pdb_info_t info;
    ilheap_pdb_get_info(w->pdb, &info);
    if (rid > info.method_count)
        return true;
    if (ilheap_pdb_sequence_points_begin(w->pdb, rid, &walk, &err) != ILHEAP_OK) {
        problem(w, "%s: PDB of method 0x%08x: %s", w->dll, 0x06000000u | rid, err.message);
        return false;
    }
    int more;
    while ((more = ilheap_pdb_next_sequence_point(&walk, &p, &err)) > 0) {
        if (!tool_reserve((void **)&w->points, &w->point_cap, *np + 1, sizeof *w->points))
            return false;
        if (p.document > info.document_count)
            p.document = 0;
        w->points[(*np)++] = p;
    }
    if (more < 0) {
        problem(w, "%s: PDB of method 0x%08x: %s", w->dll, 0x06000000u | rid, err.message);
        return false;
    }
    return true;
}

/* Marks the documents that the methods use and that do not exist; returns
 * how many are used, *missing how many of them are gone. */
static uint32_t check_sources(cov_module_t *mod, uint32_t *missing)
{
    bool *used = calloc(mod->document_count + 1u, sizeof *used);
    uint32_t n = 0;
    *missing = 0;
    if (used == NULL)
        return 0;
    for (size_t i = 0; i < mod->method_count; i++)
        for (size_t l = 0; l < mod->methods[i].line_count; l++)
            used[mod->methods[i].lines[l].document] = true;
    for (uint32_t d = 0; d < mod->document_count; d++) {
        struct stat st;
        n += used[d];
        if (!used[d] || stat(mod->documents[d], &st) == 0)
            continue;
        mod->document_missing[d] = true;
        (*missing)++;
    }
    free(used);
    return n;
}

/* A module none of whose sources exists (the SDK's, built elsewhere) is left
 * out unless --include names it; else each missing source is reported. */
static void report_sources(cov_module_t *mod, work_t *w)
{
    uint32_t missing, used = check_sources(mod, &missing);
    mod->missing_sources = missing;
    if (missing == 0)
        return;
    if (missing == used && !mod->named) {
        mod->state = COV_NO_SOURCES;
        return;
    }
    for (uint32_t d = 0; d < mod->document_count; d++)
        if (mod->document_missing[d])
            say(w, "%s: source file %s (named by its PDB) does not exist%s", w->dll, mod->documents[d],
                strncmp(mod->documents[d], "/_", 2) == 0
                    ? " (a deterministic build's path: set ILHEAP_SOURCE_ROOT, or ilheap collect --source-root, "
                      "to the directory it stands for)"
                    : "");
}

void cov_assembly_name(const char *path, char *buf, size_t size)
{
    const char *base = tool_base_name(path), *win = strrchr(base, '\\');
    if (win != NULL) /* a Windows path counted elsewhere, left unmapped */
        base = win + 1;
    const char *dot = strrchr(base, '.');
    size_t stem = dot != NULL && dot != base ? (size_t)(dot - base) : strlen(base);
    snprintf(buf, size, "%.*s", (int)(stem < size ? stem : size - 1), base);
}

/* Each method's counts entry (by rid), checked against the module. */
static const counts_entry_t **index_counts(work_t *w, const counts_entry_t *counts, size_t n, uint32_t count)
{
    const counts_entry_t **by_rid = calloc(count + 1u, sizeof *by_rid);
    if (by_rid == NULL)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        const counts_entry_t *e = &counts[i];
        uint32_t rid = e->token & 0xFFFFFF;
        if (rid == 0 || rid > count) {
            problem(w, "%s:%llu: %s (0x%08x): no such method in %s (%u methods): its counts are ignored", e->file,
                    (unsigned long long)e->line, e->method != NULL ? e->method : "?", e->token, w->dll, count);
            continue;
        }
        by_rid[rid] = e;
    }
    return by_rid;
}

/* True when the method's source file is one --exclude-by-file names (its
 * first line's, as coverlet decides). */
static bool file_excluded(const work_t *w, size_t np)
{
    for (size_t i = 0; i < np; i++)
        if (!w->points[i].hidden && w->points[i].document != 0)
            return w->doc_excluded[w->points[i].document - 1];
    return false;
}

/* Method-level figures of a method with a body. */
static void add_blocks(cov_module_t *mod, cov_method_t *cm, const work_t *w, size_t nblocks)
{
    cm->blocks = (uint32_t)nblocks;
    for (size_t b = 0; b < nblocks; b++)
        cm->blocks_hit += w->hits[b] != 0;
    cm->entry_hits = w->hits[0];
    mod->blocks += cm->blocks;
    mod->blocks_hit += cm->blocks_hit;
    mod->entered += cm->entry_hits != 0;
}

/* Method `rid` into mod->methods (when it has IL and no filter leaves it
 * out), with entry e's counts. */
static int build_method(cov_module_t *mod, work_t *w, uint32_t rid, const counts_entry_t *e)
{
    ilheap_pe_error_t err;
    ilheap_pe_method_t m;
    if (w->members.flags != NULL && (w->members.flags[rid] & COV_MEMBER_EXCLUDED))
        return 0;
    if (ilheap_pe_method(w->pe, rid, &m, &err) != ILHEAP_OK) {
        problem(w, "%s: method 0x%08x: %s", w->dll, 0x06000000u | rid, err.message);
        return 0;
    }
    if (!ilheap_pe_method_has_il(&m)) {
        if (e != NULL)
            problem(w, "%s:%llu: %s (0x%08x): the method has no IL body in %s: its counts are ignored", e->file,
                    (unsigned long long)e->line, e->method != NULL ? e->method : "?", e->token, w->dll);
        return 0;
    }
    size_t nblocks = 0, np = 0;
    bool have_body = load_blocks(w, &m, &nblocks);
    if (have_body && e != NULL && !apply_counts(w, e, nblocks))
        e = NULL;
    if (w->pdb != NULL && read_points(w, rid, &np) && file_excluded(w, np))
        return 0;
    cov_method_t *cm = &mod->methods[mod->method_count++];
    uint32_t owner = 0;
    const char *name = "?";
    if (w->members.flags != NULL)
        owner = w->members.user_type[rid]; /* compiler-made types fold into the developer's */
    else if (ilheap_pe_method_owner(w->pe, rid, &owner, &err) != ILHEAP_OK)
        owner = 0;
    if (owner == 0 || owner > mod->type_count)
        owner = 1;
    if (ilheap_pe_method_name(w->pe, rid, &name, &err) != ILHEAP_OK)
        name = "?";
    cm->token = m.token;
    cm->signature = NULL;
    cm->type = owner - 1;
    cm->counted = e != NULL && have_body;
    if ((cm->name = dup_str(name)) == NULL || (cm->signature = signature_text(w->pe, m.token)) == NULL)
        return TOOL_EXIT_SYSTEM;
    mod->il_methods++;
    if (have_body)
        add_blocks(mod, cm, w, nblocks);
    if (w->pdb == NULL)
        return 0;
    return lines_and_branches(w, cm, w->points, np, rid, nblocks, have_body, e) ? 0 : TOOL_EXIT_SYSTEM;
}

/* Appends the lines and branches of `from` to `into` (the method the
 * developer wrote, holding a lambda, local function or state machine), each
 * line once with the largest hits. False without memory. */
static bool fold_into(cov_method_t *into, cov_method_t *from)
{
    size_t nl = into->line_count + from->line_count, nb = into->branch_count + from->branch_count;
    cov_line_t *lines = realloc(into->lines, (nl + 1) * sizeof *lines);
    if (lines == NULL)
        return false;
    into->lines = lines;
    cov_branch_t *branches = realloc(into->branches, (nb + 1) * sizeof *branches);
    if (branches == NULL)
        return false;
    into->branches = branches;
    if (from->line_count) /* memcpy from NULL is undefined even for 0 bytes */
        memcpy(lines + into->line_count, from->lines, from->line_count * sizeof *lines);
    if (from->branch_count)
        memcpy(branches + into->branch_count, from->branches, from->branch_count * sizeof *branches);
    uint64_t hit;
    into->line_count = cov_distinct_lines(lines, nl, &hit);
    into->branch_count = nb;
    into->complexity += from->complexity - 1;
    from->line_count = from->branch_count = 0;
    return true;
}

/* Compiler-made methods (lambdas, local functions, MoveNext of iterators and
 * async methods) report under the method the developer wrote: their lines
 * and branches move there, and they leave the list. */
static bool fold_generated(cov_module_t *mod, const work_t *w)
{
    if (w->members.flags == NULL)
        return true;
    size_t *at = calloc(w->members.count + 1u, sizeof *at); /* index + 1 by rid */
    if (at == NULL)
        return false;
    for (size_t i = 0; i < mod->method_count; i++)
        at[mod->methods[i].token & 0xFFFFFF] = i + 1;
    bool ok = true;
    for (size_t i = 0; i < mod->method_count && ok; i++) {
        cov_method_t *m = &mod->methods[i];
        uint32_t rid = m->token & 0xFFFFFF, user = w->members.user_method[rid];
        if ((w->members.flags[rid] & COV_MEMBER_GENERATED) && at[user] != 0 && at[user] != i + 1)
            ok = fold_into(&mod->methods[at[user] - 1], m);
    }
    size_t out = 0;
    for (size_t i = 0; i < mod->method_count; i++) {
        cov_method_t *m = &mod->methods[i];
        uint32_t rid = m->token & 0xFFFFFF, user = w->members.user_method[rid];
        if ((w->members.flags[rid] & COV_MEMBER_GENERATED) && at[user] != 0 && at[user] != i + 1) {
            free(m->name);
            free(m->signature);
            free(m->lines);
            free(m->branches);
            continue;
        }
        mod->methods[out++] = *m;
    }
    mod->method_count = out;
    free(at);
    return ok;
}

static int build(cov_module_t *mod, work_t *w, const counts_entry_t *counts, size_t n)
{
    if (!type_names(mod, w->pe))
        return TOOL_EXIT_SYSTEM;
    if (w->pdb != NULL && !documents(mod, w))
        return TOOL_EXIT_SYSTEM;
    uint32_t count = ilheap_pe_method_count(w->pe);
    const counts_entry_t **by_rid = index_counts(w, counts, n, count);
    mod->methods = calloc(count + 1u, sizeof *mod->methods);
    if (by_rid == NULL || mod->methods == NULL) {
        free(by_rid);
        return TOOL_EXIT_SYSTEM;
    }
    tool_progress_start(w->progress, "cover", count);
    int rc = 0;
    for (uint32_t rid = 1; rid <= count && rc == 0; rid++) {
        tool_progress_update(w->progress, rid);
        rc = build_method(mod, w, rid, by_rid[rid]);
    }
    tool_progress_end(w->progress);
    free(by_rid);
    if (rc == 0 && !fold_generated(mod, w))
        rc = TOOL_EXIT_SYSTEM;
    if (rc == 0 && w->pdb != NULL)
        report_sources(mod, w);
    return rc;
}

/* True when the DLL has a PDB to look for: embedded, beside it or at its
 * CodeView path (tool_pdb_load reports the missing ones; a module left out
 * by default for having none is not worth a line). */
static bool pdb_present(const char *dll, const ilheap_pe_t *pe)
{
    ilheap_pe_debug_info_t d;
    if (ilheap_pe_debug_info(pe, &d, NULL) != ILHEAP_OK || d.has_embedded_pdb)
        return true;
    char beside[4096];
    const char *dot = strrchr(tool_base_name(dll), '.');
    size_t stem = dot != NULL ? (size_t)(dot - dll) : strlen(dll);
    struct stat st;
    if (stem + 5 <= sizeof beside) {
        memcpy(beside, dll, stem);
        memcpy(beside + stem, ".pdb", 5);
        if (stat(beside, &st) == 0)
            return true;
    }
    return d.has_codeview && stat(d.codeview_path, &st) == 0;
}

static void close_copy(work_t *w, tool_input_t *in)
{
    ilheap_pe_close(w->pe);
    w->pe = NULL;
    tool_input_free(in);
}

/* Opens `path` into *in and w->pe when it holds the module (its MVID): 0;
 * else 1 with *reason set (nothing left open); TOOL_EXIT_SYSTEM. */
static int open_one(cov_module_t *mod, work_t *w, const char *path, tool_input_t *in, char *reason, size_t size)
{
    struct stat st;
    uint8_t guid[16];
    char mvid[37];
    ilheap_pe_error_t err;
    if (stat(path, &st) != 0) {
        snprintf(reason, size, "no such file");
        return 1;
    }
    int rc = tool_load_and_open("cover", path, false, in, &w->pe);
    if (rc == TOOL_EXIT_SYSTEM)
        return rc;
    if (rc != 0) {
        snprintf(reason, size, "cannot be read (above)");
        return 1;
    }
    if (ilheap_pe_module_mvid(w->pe, guid, &err) != ILHEAP_OK)
        snprintf(reason, size, "%s", err.message);
    else if (ilheap_pe_guid_text(guid, mvid), strcmp(mvid, mod->mvid) == 0)
        return 0;
    else
        snprintf(reason, size, "MVID %s (rebuilt since the counts were written?)", mvid);
    close_copy(w, in);
    return 1;
}

/* Opens a copy of the module among the paths it was counted at (a module
 * copied into several test projects is one module): the first that holds its
 * MVID and has a PDB, else the first that holds its MVID; into *in, w->pe
 * and mod->path. 0 when found; 1 when none is (each path and why reported);
 * TOOL_EXIT_SYSTEM. */
static int open_copy(cov_module_t *mod, work_t *w, const counts_path_t *paths, size_t npaths, tool_input_t *in)
{
    char why[4096] = "", reason[256];
    size_t len = 0, fallback = npaths;
    for (size_t i = 0; i < npaths; i++) {
        int rc = open_one(mod, w, paths[i].path, in, reason, sizeof reason);
        if (rc == 0 && (pdb_present(paths[i].path, w->pe) || i + 1 == npaths)) {
            fallback = i;
            break;
        }
        if (rc == 0) { /* no PDB beside this copy: another may have one */
            fallback = fallback < npaths ? fallback : i;
            close_copy(w, in);
            continue;
        }
        if (rc != 1)
            return rc;
        int k = snprintf(why + len, sizeof why - len, "%s%s: %s", len ? "; " : "", paths[i].path, reason);
        if (k > 0)
            len = len + (size_t)k < sizeof why ? len + (size_t)k : sizeof why - 1;
    }
    if (fallback == npaths) {
        say(w, "%s: no copy of the DLL with MVID %s at the %s counted: %s", mod->name, mod->mvid,
            npaths == 1 ? "path" : "paths", why);
        return 1;
    }
    int rc = w->pe != NULL ? 0 : open_one(mod, w, paths[fallback].path, in, reason, sizeof reason);
    if (rc != 0)
        return rc;
    free(mod->path);
    return (mod->path = dup_str(paths[fallback].path)) != NULL ? 0 : TOOL_EXIT_SYSTEM;
}

/* The module's PDB into *pdb and w->pdb, and mod->state when there is none
 * to use. 0, or TOOL_EXIT_SYSTEM. */
static int open_pdb(cov_module_t *mod, work_t *w, tool_pdb_t *pdb)
{
    memset(pdb, 0, sizeof *pdb);
    if (!mod->named && !pdb_present(w->dll, w->pe)) {
        mod->state = COV_NO_PDB; /* the framework's, the SDK's: left out quietly */
        return 0;
    }
    int prc = tool_pdb_load("cover", w->dll, w->pe, pdb);
    if (prc == TOOL_EXIT_SYSTEM)
        return prc;
    if (prc == TOOL_EXIT_MISSING)
        mod->state = COV_NO_PDB;
    else if (prc != 0)
        mod->state = COV_BAD_PDB;
    else {
        mod->has_pdb = true;
        w->pdb = pdb->pdb;
    }
    return 0;
}

/* The module's members (what the developer wrote, the filters), and its
 * state when an attribute leaves the assembly out or it is a test assembly
 * (unless --include names it). A malformed row is reported (exit 5) and no
 * member filter applies. */
static void read_members(cov_module_t *mod, work_t *w)
{
    ilheap_pe_error_t err;
    ilheap_status_t st = cov_members_read(&w->members, w->pe, w->filters, &err);
    if (st != ILHEAP_OK) {
        problem(w, "%s: %s", w->dll, st == ILHEAP_ENOMEM ? "out of memory for its members" : err.message);
        return;
    }
    if (w->members.assembly_excluded)
        mod->state = COV_EXCLUDED;
    else if (w->members.test_assembly && !mod->named) {
        mod->state = COV_TEST;
        mod->test_reason = w->members.test_reason;
    }
}

int cov_build_module(cov_module_t *mod, const counts_path_t *paths, size_t npaths, bool named,
                     const cov_filters_t *filters, const counts_entry_t *counts, size_t n, tool_progress_t *progress,
                     uint64_t *bad)
{
    memset(mod, 0, sizeof *mod);
    work_t w = {.bad = bad, .progress = progress};
    char name[512];
    cov_assembly_name(paths[0].path, name, sizeof name);
    memcpy(mod->mvid, paths[0].mvid, sizeof mod->mvid);
    mod->copies = npaths;
    mod->named = named;
    mod->path = dup_str(paths[0].path);
    mod->name = dup_str(name);
    if (mod->path == NULL || mod->name == NULL)
        return TOOL_EXIT_SYSTEM;
    tool_input_t in = {0};
    tool_progress_clear(progress);
    int rc = open_copy(mod, &w, paths, npaths, &in);
    if (rc != 0) {
        mod->state = COV_NO_DLL;
        return rc == 1 ? 0 : rc;
    }
    mod->opened = true;
    w.dll = mod->path;
    w.filters = filters;
    tool_pdb_t pdb = {0};
    read_members(mod, &w);
    if (mod->state == COV_COVERED)
        rc = open_pdb(mod, &w, &pdb);
    if (rc == 0 && ilheap_rw_create(&w.rw) != ILHEAP_OK)
        rc = TOOL_EXIT_SYSTEM;
    if (rc == 0 && mod->state != COV_EXCLUDED && mod->state != COV_TEST &&
        !cov_returns_init(&w.returns, w.pe, w.members.flags))
        rc = TOOL_EXIT_SYSTEM;
    if (rc == 0 && mod->state != COV_EXCLUDED && mod->state != COV_TEST)
        rc = build(mod, &w, counts, n);
    if (rc == 0 && npaths > 1 && mod->state == COV_COVERED)
        say(&w, "%s: counted at %zu paths (one MVID), merged; read %s", mod->name, npaths, mod->path);
    cov_returns_free(&w.returns);
    cov_members_free(&w.members);
    free(w.doc_excluded);
    ilheap_rw_destroy(w.rw);
    tool_clauses_free(&w.clauses);
    free(w.ids);
    free(w.starts);
    free(w.hits);
    free(w.points);
    tool_pdb_free(&pdb);
    ilheap_pe_close(w.pe);
    tool_input_free(&in);
    return rc;
}

void cov_free_module(cov_module_t *mod)
{
    for (size_t i = 0; i < mod->method_count; i++) {
        free(mod->methods[i].name);
        free(mod->methods[i].signature);
        free(mod->methods[i].lines);
        free(mod->methods[i].branches);
    }
    free(mod->methods);
    for (uint32_t d = 0; d < mod->document_count; d++)
        free(mod->documents[d]);
    free(mod->documents);
    free(mod->document_missing);
    for (uint32_t t = 0; t < mod->type_count; t++)
        free(mod->types[t]);
    free(mod->types);
    free(mod->path);
    free(mod->name);
    memset(mod, 0, sizeof *mod);
}

void cov_add_method(cov_totals_t *t, const cov_method_t *m)
{
    for (size_t i = 0; i < m->line_count; i++) {
        t->lines++;
        t->lines_hit += m->lines[i].hits != 0;
    }
    for (size_t i = 0; i < m->branch_count; i++) {
        t->branches++;
        t->branches_hit += m->branches[i].hits != 0;
    }
    if (m->line_count != 0)
        t->complexity += m->complexity;
}

static int cmp_line_hits_desc(const void *a, const void *b)
{
    const cov_line_t *x = a, *y = b;
    int c = cmp_line(a, b);
    return c != 0 ? c : (x->hits != y->hits ? (x->hits < y->hits ? 1 : -1) : 0);
}

size_t cov_distinct_lines(cov_line_t *lines, size_t n, uint64_t *hit)
{
    if (n > 1)
        qsort(lines, n, sizeof *lines, cmp_line_hits_desc);
    size_t out = 0;
    *hit = 0;
    for (size_t i = 0; i < n; i++) {
        if (out > 0 && cmp_line(&lines[out - 1], &lines[i]) == 0)
            continue; /* the first of a run has the largest hits */
        lines[out++] = lines[i];
        *hit += lines[i].hits != 0;
    }
    return out;
}

void cov_add_module(cov_totals_t *t, const cov_module_t *mod)
{
    /* Branches and complexity per method; lines once each: a line shared by
     * methods (a property's get and set, a lambda inside its method) counts
     * once, hit if any of them hit it, as coverlet counts. */
    size_t total = 0;
    for (size_t i = 0; i < mod->method_count; i++)
        total += mod->methods[i].line_count;
    cov_line_t *all = total != 0 ? malloc(total * sizeof *all) : NULL;
    cov_totals_t sum = {0};
    for (size_t i = 0; i < mod->method_count; i++)
        cov_add_method(&sum, &mod->methods[i]);
    if (all != NULL) {
        size_t k = 0;
        for (size_t i = 0; i < mod->method_count; i++)
            for (size_t l = 0; l < mod->methods[i].line_count; l++)
                all[k++] = mod->methods[i].lines[l];
        uint64_t hit = 0;
        sum.lines = cov_distinct_lines(all, total, &hit);
        sum.lines_hit = hit;
        free(all);
    }
    t->lines += sum.lines;
    t->lines_hit += sum.lines_hit;
    t->branches += sum.branches;
    t->branches_hit += sum.branches_hit;
    t->complexity += sum.complexity;
}

void cov_rate(char *buf, size_t size, uint64_t covered, uint64_t total)
{
    if (total == 0 || covered >= total) {
        snprintf(buf, size, "1");
        return;
    }
    /* 4 decimals, rounded down so that a rate below 1 never prints as 1 */
    uint64_t r = (uint64_t)((long double)covered * 10000 / total);
    if (r == 0) {
        snprintf(buf, size, "0");
        return;
    }
    snprintf(buf, size, "0.%04llu", (unsigned long long)r);
    for (size_t n = strlen(buf); n > 0 && buf[n - 1] == '0'; n--)
        buf[n - 1] = 0;
}
