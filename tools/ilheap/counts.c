/* Reading the profiler's counts files through the library's one reader
 * (include/ilheap/counts.h: the file format and JSON lines), each defect
 * reported with its file, and the merge of the same method's entries across
 * files and processes. */
#include "counts.h"
#include "tool.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ilheap/counts.h"

static void entry_free(counts_entry_t *e)
{
    free(e->path);
    free(e->method);
    free(e->blocks);
    free(e->edges);
    memset(e, 0, sizeof *e);
}

static int compare_edge(const void *a, const void *b)
{
    const counts_edge_t *x = a, *y = b;
    if (x->il_offset != y->il_offset)
        return x->il_offset < y->il_offset ? -1 : 1;
    return x->outcome < y->outcome ? -1 : x->outcome > y->outcome;
}

/* Method i of c as an entry (its block and edge probes); false when out of memory.
 * Its line: the JSON line, or the method's number in a counts file. */
static bool entry_of(const ilheap_counts_t *c, size_t i, bool jsonl, const char *file, counts_entry_t *e)
{
    ilheap_counts_method_t m;
    ilheap_counts_module_t mod;
    memset(e, 0, sizeof *e);
    if (ilheap_counts_method(c, i, &m) != ILHEAP_OK || ilheap_counts_module(c, m.module, &mod) != ILHEAP_OK)
        return false;
    e->path = strdup(mod.path);
    e->method = strdup(m.name);
    e->blocks = malloc((m.probes != 0 ? m.probes : 1) * sizeof *e->blocks);
    e->edges = malloc((m.probes != 0 ? m.probes : 1) * sizeof *e->edges);
    memcpy(e->mvid, mod.mvid_text, sizeof e->mvid);
    e->token = m.token;
    e->file = file;
    e->line = jsonl ? m.where : i + 1;
    e->merged = 1;
    for (size_t p = 0; e->blocks != NULL && e->edges != NULL && p < m.probes; p++) {
        ilheap_probe_key_t k = ilheap_counts_key(c, i, p);
        if (k.kind == ILHEAP_PROBE_BLOCK)
            e->blocks[e->block_count++] = (counts_block_t){k.il_offset, ilheap_counts_hits(c, i, p)};
        else if (k.kind == ILHEAP_PROBE_EDGE)
            e->edges[e->edge_count++] = (counts_edge_t){k.il_offset, k.outcome, ilheap_counts_hits(c, i, p), 1};
    }
    if (e->edges != NULL && e->edge_count > 1)
        qsort(e->edges, e->edge_count, sizeof *e->edges, compare_edge);
    return e->path != NULL && e->method != NULL && e->blocks != NULL && e->edges != NULL;
}

/* What the file says of itself that makes its counts incomplete. */
static void file_problems(counts_set_t *set, const ilheap_counts_t *c, const char *file)
{
    ilheap_counts_info_t info;
    ilheap_counts_info(c, &info);
    for (size_t i = 0; i < ilheap_counts_problem_count(c); i++) {
        uint64_t line;
        const char *why = ilheap_counts_problem(c, i, &line);
        fprintf(stderr, "ilheap cover: %s:%llu: %s\n", file, (unsigned long long)line, why);
        set->bad_lines++;
    }
    if (info.lost != 0) {
        fprintf(stderr, "ilheap cover: %s: %llu methods were not counted (the file could not grow: disk full?)\n",
                file, (unsigned long long)info.lost);
        set->bad_lines++;
    }
    if (info.replaced_pid != 0) {
        fprintf(stderr, "ilheap cover: %s: this file replaced the one of running process %llu (ILHEAP_COUNTS "
                "without %%p): that process's counts are lost\n", file, (unsigned long long)info.replaced_pid);
        set->bad_lines++;
    }
}

/* The methods of c into set: those with blocks, calls-mode ones counted. */
static int add_methods(counts_set_t *set, const ilheap_counts_t *c, const char *file)
{
    ilheap_counts_info_t info;
    ilheap_counts_info(c, &info);
    uint64_t calls = 0;
    for (size_t i = 0; i < info.methods; i++) {
        if (ilheap_counts_key(c, i, 0).kind == ILHEAP_PROBE_ENTRY) {
            calls++;
            continue;
        }
        counts_entry_t e;
        bool ok = entry_of(c, i, info.format == ILHEAP_COUNTS_JSONL, file, &e) &&
                  tool_reserve((void **)&set->entries, &set->cap, set->count + 1, sizeof *set->entries);
        if (!ok) {
            entry_free(&e);
            fprintf(stderr, "ilheap cover: out of memory\n");
            return TOOL_EXIT_SYSTEM;
        }
        set->entries[set->count++] = e;
    }
    if (calls != 0)
        fprintf(stderr, "ilheap cover: %s: %llu calls-mode entries (ILHEAP_MODE=calls) have no blocks: skipped\n", file,
                (unsigned long long)calls);
    set->calls_only += calls;
    return 0;
}

/* Opens a counts file: 0, or the exit status (reported). A damaged file is
 * reported and counted (*c NULL, 0): the other files still count. */
static int open_counts(counts_set_t *set, const char *file, ilheap_counts_t **c)
{
    ilheap_status_t st = ilheap_counts_open(file, c, NULL);
    if (st == ILHEAP_ENOFILE || st == ILHEAP_EOS_FILE || st == ILHEAP_ENOMEM) {
        fprintf(stderr, "ilheap cover: %s\n", ilheap_last_message());
        return st == ILHEAP_ENOFILE ? TOOL_EXIT_MISSING : st == ILHEAP_ENOMEM ? TOOL_EXIT_SYSTEM : TOOL_EXIT_UNREADABLE;
    }
    if (st != ILHEAP_OK) {
        fprintf(stderr, "ilheap cover: %s: %s: %s\n", file, ilheap_status_message(st), ilheap_last_message());
        set->bad_lines++;
    }
    return 0;
}

/* The methods of an open file into set; it is closed. */
static int add_file(counts_set_t *set, const char *file, ilheap_counts_t *c)
{
    size_t fcap = set->file_count;
    char *name = strdup(file);
    if (name == NULL || !tool_reserve((void **)&set->files, &fcap, set->file_count + 1, sizeof *set->files)) {
        free(name);
        ilheap_counts_close(c);
        fprintf(stderr, "ilheap cover: out of memory\n");
        return TOOL_EXIT_SYSTEM;
    }
    set->files[set->file_count++] = name;
    file_problems(set, c, file);
    int rc = add_methods(set, c, name);
    ilheap_counts_close(c);
    return rc;
}

int counts_read(counts_set_t *set, const char *file)
{
    return counts_read_since(set, file, NULL);
}

int counts_read_since(counts_set_t *set, const char *file, const char *snapshot)
{
    ilheap_counts_t *c = NULL, *snap = NULL;
    int rc = open_counts(set, file, &c);
    if (rc != 0 || c == NULL || snapshot == NULL)
        return rc != 0 || c == NULL ? rc : add_file(set, file, c);
    uint64_t bad = set->bad_lines;
    rc = open_counts(set, snapshot, &snap);
    if (rc == 0 && set->bad_lines == bad && ilheap_counts_since(c, snap) != ILHEAP_OK) {
        fprintf(stderr, "ilheap cover: %s: %s\n", snapshot, ilheap_last_message());
        rc = TOOL_EXIT_MALFORMED;
    } else if (rc == 0 && set->bad_lines != bad) {
        rc = TOOL_EXIT_MALFORMED; /* the snapshot is damaged: no 'since' to tell */
    }
    ilheap_counts_close(snap);
    if (rc != 0) {
        ilheap_counts_close(c);
        return rc;
    }
    return add_file(set, file, c);
}

/* The merge key: module identity (MVID) and method, then the path, so that
 * the path an entry keeps after merging is the same on every run. */
static int compare(const void *a, const void *b)
{
    const counts_entry_t *x = a, *y = b;
    int c = strcmp(x->mvid, y->mvid);
    if (c == 0)
        c = x->token < y->token ? -1 : x->token > y->token;
    if (c == 0)
        c = strcmp(x->path, y->path);
    return c;
}

static int compare_path(const void *a, const void *b)
{
    const counts_path_t *x = a, *y = b;
    int c = strcmp(x->mvid, y->mvid);
    return c != 0 ? c : strcmp(x->path, y->path);
}

/* set->paths: the distinct (mvid, path) pairs of the entries. */
static bool collect_paths(counts_set_t *set)
{
    counts_path_t *all = malloc((set->count + 1) * sizeof *all);
    if (all == NULL)
        return false;
    for (size_t i = 0; i < set->count; i++) {
        memcpy(all[i].mvid, set->entries[i].mvid, sizeof all[i].mvid);
        all[i].path = set->entries[i].path; /* borrowed until copied below */
    }
    if (set->count > 1)
        qsort(all, set->count, sizeof *all, compare_path);
    size_t n = 0;
    for (size_t i = 0; i < set->count; i++)
        if (n == 0 || compare_path(&all[n - 1], &all[i]) != 0)
            all[n++] = all[i];
    for (size_t i = 0; i < n; i++)
        if ((all[i].path = strdup(all[i].path)) == NULL) {
            while (i-- > 0)
                free(all[i].path);
            free(all);
            return false;
        }
    set->paths = all;
    set->path_count = n;
    return true;
}

static uint64_t add_sat(uint64_t a, uint64_t b)
{
    return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

/* into's edges += from's, as a union (each counting the entries that had it). */
static bool merge_edges(counts_entry_t *into, const counts_entry_t *from)
{
    counts_edge_t *m = malloc((into->edge_count + from->edge_count + 1) * sizeof *m);
    if (m == NULL)
        return false;
    size_t a = 0, b = 0, n = 0;
    while (a < into->edge_count || b < from->edge_count) {
        int c = a == into->edge_count ? 1 : b == from->edge_count ? -1 : compare_edge(&into->edges[a], &from->edges[b]);
        if (c < 0) {
            m[n++] = into->edges[a++];
        } else if (c > 0) {
            m[n++] = from->edges[b++];
        } else {
            m[n] = into->edges[a++];
            m[n].hits = add_sat(m[n].hits, from->edges[b].hits);
            m[n++].seen += from->edges[b++].seen;
        }
    }
    free(into->edges);
    into->edges = m;
    into->edge_count = n;
    into->merged += from->merged;
    return true;
}

/* into += from, as a union of ascending offsets (the same body's blocks). */
static bool merge(counts_entry_t *into, const counts_entry_t *from)
{
    if (!merge_edges(into, from))
        return false;
    counts_block_t *m = malloc((into->block_count + from->block_count + 1) * sizeof *m);
    if (m == NULL)
        return false;
    size_t a = 0, b = 0, n = 0;
    while (a < into->block_count || b < from->block_count) {
        if (b == from->block_count ||
            (a < into->block_count && into->blocks[a].il_offset < from->blocks[b].il_offset))
            m[n++] = into->blocks[a++];
        else if (a == into->block_count || from->blocks[b].il_offset < into->blocks[a].il_offset)
            m[n++] = from->blocks[b++];
        else {
            m[n] = into->blocks[a++];
            m[n].hits = add_sat(m[n].hits, from->blocks[b++].hits);
            n++;
        }
    }
    free(into->blocks);
    into->blocks = m;
    into->block_count = n;
    return true;
}

bool counts_finish(counts_set_t *set)
{
    if (!collect_paths(set))
        return false;
    if (set->count > 1)
        qsort(set->entries, set->count, sizeof *set->entries, compare);
    size_t out = 0;
    for (size_t i = 0; i < set->count; i++) {
        counts_entry_t *e = &set->entries[i];
        if (out > 0) {
            counts_entry_t *last = &set->entries[out - 1];
            if (strcmp(last->mvid, e->mvid) == 0 && last->token == e->token) {
                if (!merge(last, e))
                    return false;
                entry_free(e);
                continue;
            }
        }
        if (out != i) {
            set->entries[out] = *e;
            memset(e, 0, sizeof *e);
        }
        out++;
    }
    set->count = out;
    for (size_t i = 0; i < set->count; i++) { /* an edge some runs did not count is no count */
        counts_entry_t *e = &set->entries[i];
        size_t n = 0;
        for (size_t k = 0; k < e->edge_count; k++)
            if (e->edges[k].seen == e->merged)
                e->edges[n++] = e->edges[k];
        e->edge_count = n;
    }
    return true;
}

void counts_free(counts_set_t *set)
{
    for (size_t i = 0; i < set->count; i++)
        entry_free(&set->entries[i]);
    free(set->entries);
    for (size_t i = 0; i < set->file_count; i++)
        free(set->files[i]);
    free(set->files);
    for (size_t i = 0; i < set->path_count; i++)
        free(set->paths[i].path);
    free(set->paths);
    memset(set, 0, sizeof *set);
}
