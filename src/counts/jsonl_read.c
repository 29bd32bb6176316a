/* Reading counts as JSON lines (the export, and the profiler's format of
 * before): one object per line, parsed strictly (RFC 8259 syntax, the keys
 * and types of the format, nothing after the object). A line that does not
 * hold is left out and recorded as a problem with its line and column; the
 * rest still counts. */
#include "counts/counts_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "os/memory.h"
#include "pe/cursor.h" /* ilheap__utf8_put: the one UTF-8 encoder */
#include "status_internal.h"

/* A cursor over one line. */
typedef struct json {
    const char *start, *p, *end;
    char why[160];
    int out_of_memory; /* the line failed for lack of memory, not for its text */
} json_t;

/* One line's fields. */
typedef struct line {
    char *path, *module, *method;
    uint8_t mvid[16];
    uint32_t token;
    uint64_t calls, exceptional_exits, inclusive_ns; /* the last two: timing lines */
    uint64_t *offsets, *hits; /* blocks */
    size_t nblocks, cap;
    ilheap_probe_key_t *ekeys; /* "edges", then "branch_runs" (EDGE keys) */
    uint64_t *ehits;
    size_t nedges, ecap;
    int is_calls, is_timing;
} line_t;

static int fail(json_t *j, const char *what)
{
    if (j->why[0] == 0)
        snprintf(j->why, sizeof j->why, "%s (column %zu)", what, (size_t)(j->p - j->start) + 1);
    return 0;
}

static int no_memory(json_t *j)
{
    j->out_of_memory = 1;
    return fail(j, "out of memory");
}

static void ws(json_t *j)
{
    while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\r' || *j->p == '\n'))
        j->p++;
}

static int eat(json_t *j, char c)
{
    ws(j);
    if (j->p < j->end && *j->p == c) {
        j->p++;
        return 1;
    }
    return 0;
}

static int hexval(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

static int hex4(json_t *j, uint32_t *out)
{
    if (j->end - j->p < 4)
        return fail(j, "truncated \\u escape");
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) {
        int h = hexval(j->p[i]);
        if (h < 0)
            return fail(j, "bad \\u escape");
        v = v << 4 | (uint32_t)h;
    }
    j->p += 4;
    *out = v;
    return 1;
}

/* After a backslash: one escape into o; 0 on a bad one. */
static int escape(json_t *j, char **o)
{
    if (j->p >= j->end)
        return fail(j, "unterminated escape");
    char e = *j->p++;
    const char *simple = strchr("\"\\/bfnrt", e);
    if (e != 0 && simple != NULL) {
        *(*o)++ = "\"\\/\b\f\n\r\t"[simple - "\"\\/bfnrt"];
        return 1;
    }
    uint32_t u, lo;
    if (e != 'u' || !hex4(j, &u))
        return fail(j, "bad escape in a string");
    if (u >= 0xD800 && u < 0xDC00) { /* a surrogate pair */
        if (j->end - j->p < 2 || j->p[0] != '\\' || j->p[1] != 'u' || (j->p += 2, !hex4(j, &lo)) || lo < 0xDC00 ||
            lo > 0xDFFF)
            return fail(j, "unpaired surrogate in a string");
        u = 0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00);
    } else if (u >= 0xDC00 && u < 0xE000) {
        return fail(j, "unpaired surrogate in a string");
    }
    if (u == 0)
        return fail(j, "NUL in a string");
    *o += ilheap__utf8_put(*o, u);
    return 1;
}

/* A JSON string, unescaped into an allocated copy (out NULL: skipped). */
static int string(json_t *j, char **out)
{
    ws(j);
    if (j->p >= j->end || *j->p != '"')
        return fail(j, "expected a string");
    j->p++;
    /* The unescaped string is never longer than the escaped one. */
    char *s = ilheap__mem_alloc(1, (size_t)(j->end - j->p) + 1), *o = s;
    if (s == NULL)
        return no_memory(j);
    for (;;) {
        if (j->p >= j->end) {
            ilheap__mem_free(s);
            return fail(j, "unterminated string");
        }
        unsigned char c = (unsigned char)*j->p++;
        if (c == '"')
            break;
        if (c < 0x20) {
            ilheap__mem_free(s);
            return fail(j, "control character in a string");
        }
        if (c != '\\')
            *o++ = (char)c;
        else if (!escape(j, &o)) {
            ilheap__mem_free(s);
            return 0;
        }
    }
    *o = 0;
    if (out != NULL)
        *out = s;
    else
        ilheap__mem_free(s);
    return 1;
}

/* A non-negative integer (no sign, fraction or exponent) up to max. */
static int integer(json_t *j, uint64_t max, uint64_t *out)
{
    ws(j);
    if (j->p >= j->end || *j->p < '0' || *j->p > '9')
        return fail(j, "expected a non-negative integer");
    if (*j->p == '0' && j->end - j->p > 1 && j->p[1] >= '0' && j->p[1] <= '9')
        return fail(j, "leading zero in a number");
    uint64_t v = 0;
    while (j->p < j->end && *j->p >= '0' && *j->p <= '9') {
        unsigned d = (unsigned)(*j->p++ - '0');
        if (v > (max - d) / 10)
            return fail(j, "number too large");
        v = v * 10 + d;
    }
    if (j->p < j->end && (*j->p == '.' || *j->p == 'e' || *j->p == 'E'))
        return fail(j, "expected an integer");
    *out = v;
    return 1;
}

/* Any JSON value, checked and skipped (keys the format may add later). */
static int skip_value(json_t *j, int depth)
{
    ws(j);
    if (depth > 64)
        return fail(j, "nested too deeply");
    if (j->p >= j->end)
        return fail(j, "expected a value");
    char c = *j->p;
    if (c == '"')
        return string(j, NULL);
    if (c == '{' || c == '[') {
        char close = c == '{' ? '}' : ']';
        j->p++;
        if (eat(j, close))
            return 1;
        do {
            if (c == '{' && (!string(j, NULL) || !eat(j, ':')))
                return fail(j, "expected \"key\":");
            if (!skip_value(j, depth + 1))
                return 0;
        } while (eat(j, ','));
        return eat(j, close) || fail(j, c == '{' ? "expected , or }" : "expected , or ]");
    }
    static const char *const words[] = {"true", "false", "null"};
    for (int i = 0; i < 3; i++) {
        size_t n = strlen(words[i]);
        if ((size_t)(j->end - j->p) >= n && memcmp(j->p, words[i], n) == 0)
            return j->p += n, 1;
    }
    if (c == '-') /* a negative number: valid JSON, skipped */
        j->p++;
    uint64_t ignored;
    return integer(j, UINT64_MAX, &ignored);
}

/* One {"il_offset":O,"hits":H} of "blocks" and "branch_runs", or
 * {"il_offset":O,"outcome":K,"hits":H} of "edges" (outcome != NULL); other
 * keys skipped. */
static int parse_block(json_t *j, uint64_t *offset, uint64_t *outcome, uint64_t *hits)
{
    int have[3] = {0};
    if (!eat(j, '{'))
        return fail(j, "a block is not an object");
    do {
        char *key;
        if (!string(j, &key))
            return 0;
        int ok = eat(j, ':');
        int k = strcmp(key, "il_offset") == 0 ? 0 : strcmp(key, "hits") == 0 ? 1
                : outcome != NULL && strcmp(key, "outcome") == 0 ? 2 : 3;
        ilheap__mem_free(key);
        if (!ok)
            return fail(j, "expected :");
        if (k < 3 && have[k])
            return fail(j, "a key repeated in a block");
        if ((k == 0 && !integer(j, UINT32_MAX, offset)) || (k == 1 && !integer(j, UINT64_MAX, hits)) ||
            (k == 2 && !integer(j, ILHEAP_PROBE_RUNS - 1, outcome)) || (k == 3 && !skip_value(j, 1)))
            return 0;
        if (k < 3)
            have[k] = 1;
    } while (eat(j, ','));
    if (!eat(j, '}'))
        return fail(j, "expected , or } in a block");
    if (outcome != NULL && !have[2])
        return fail(j, "an edge without \"outcome\"");
    return have[0] && have[1] ? 1 : fail(j, "a block without \"il_offset\" and \"hits\"");
}

/* "edges" (runs 0) or "branch_runs" (runs 1): EDGE keys, ascending. */
static int parse_edges(json_t *j, line_t *l, int runs)
{
    if (!eat(j, '['))
        return fail(j, runs ? "\"branch_runs\" is not an array" : "\"edges\" is not an array");
    if (eat(j, ']'))
        return 1;
    size_t first = l->nedges;
    do {
        uint64_t offset = 0, outcome = ILHEAP_PROBE_RUNS, hits = 0;
        if (!parse_block(j, &offset, runs ? NULL : &outcome, &hits))
            return 0;
        ilheap_probe_key_t k = {.il_offset = (uint32_t)offset, .kind = ILHEAP_PROBE_EDGE, .outcome = (uint32_t)outcome};
        const ilheap_probe_key_t *last = l->nedges > first ? &l->ekeys[l->nedges - 1] : NULL;
        if (last != NULL && (k.il_offset < last->il_offset || (k.il_offset == last->il_offset && k.outcome <= last->outcome)))
            return fail(j, runs ? "branch runs are not in ascending offsets" : "edges are not in ascending (offset, outcome)");
        size_t cap = l->ecap;
        if (!cf_grow(&l->ekeys, &cap, l->nedges + 1, sizeof *l->ekeys) ||
            !cf_grow(&l->ehits, &l->ecap, l->nedges + 1, sizeof *l->ehits))
            return fail(j, "out of memory");
        l->ekeys[l->nedges] = k;
        l->ehits[l->nedges++] = hits;
    } while (eat(j, ','));
    return eat(j, ']') || fail(j, runs ? "expected , or ] in \"branch_runs\"" : "expected , or ] in \"edges\"");
}

static int parse_blocks(json_t *j, line_t *l)
{
    if (!eat(j, '['))
        return fail(j, "\"blocks\" is not an array");
    if (eat(j, ']'))
        return 1;
    do {
        uint64_t offset = 0, hits = 0;
        if (!parse_block(j, &offset, NULL, &hits))
            return 0;
        if (l->nblocks != 0 && offset <= l->offsets[l->nblocks - 1])
            return fail(j, "block offsets are not ascending");
        size_t cap = l->cap;
        if (!cf_grow(&l->offsets, &cap, l->nblocks + 1, sizeof *l->offsets) ||
            !cf_grow(&l->hits, &l->cap, l->nblocks + 1, sizeof *l->hits))
            return no_memory(j);
        l->offsets[l->nblocks] = offset;
        l->hits[l->nblocks++] = hits;
    } while (eat(j, ','));
    return eat(j, ']') || fail(j, "expected , or ] in \"blocks\"");
}

enum { K_MODULE, K_PATH, K_MVID, K_METHOD, K_TOKEN, K_BLOCKS, K_CALLS, K_EDGES, K_RUNS, K_EXCEPTIONAL, K_INCLUSIVE,
       K_COUNT };

static int parse_mvid(json_t *j, line_t *l)
{
    char *s = NULL;
    if (!string(j, &s))
        return 0;
    int ok = cf_mvid_parse(s, l->mvid);
    ilheap__mem_free(s);
    return ok || fail(j, "\"mvid\" is not a lowercase 8-4-4-4-12 GUID");
}

static int parse_token(json_t *j, line_t *l)
{
    char *s = NULL;
    if (!string(j, &s))
        return 0;
    uint32_t t = 0;
    int ok = strlen(s) == 10 && s[0] == '0' && s[1] == 'x';
    for (int i = 2; ok && i < 10; i++) {
        int h = hexval(s[i]);
        ok = h >= 0;
        t = t << 4 | (uint32_t)(h & 15);
    }
    ilheap__mem_free(s);
    if (!ok || (t >> 24) != 0x06 || (t & 0xFFFFFF) == 0)
        return fail(j, "\"token\" is not a MethodDef token \"0x06xxxxxx\"");
    l->token = t;
    return 1;
}

static int parse_value(json_t *j, int k, line_t *l)
{
    switch (k) {
    case K_PATH:
        return string(j, &l->path) && (l->path[0] != 0 || fail(j, "empty \"path\""));
    case K_MODULE:
        return string(j, &l->module);
    case K_METHOD:
        return string(j, &l->method);
    case K_MVID:
        return parse_mvid(j, l);
    case K_TOKEN:
        return parse_token(j, l);
    case K_BLOCKS:
        return parse_blocks(j, l);
    case K_CALLS:
        return integer(j, UINT64_MAX, &l->calls);
    case K_EDGES:
    case K_RUNS:
        return parse_edges(j, l, k == K_RUNS);
    case K_EXCEPTIONAL:
        return integer(j, UINT64_MAX, &l->exceptional_exits);
    case K_INCLUSIVE:
        return integer(j, UINT64_MAX, &l->inclusive_ns);
    default: /* keys a later format may add */
        return skip_value(j, 1);
    }
}

/* One line into *l; 0 with j->why set. */
static int parse_line(json_t *j, line_t *l)
{
    static const char *const names[K_COUNT] = {"module", "path", "mvid", "method", "token", "blocks", "calls",
                                               "edges", "branch_runs", "exceptional_exits", "inclusive_ns"};
    int seen[K_COUNT] = {0};
    if (!eat(j, '{'))
        return fail(j, "not a JSON object");
    if (!eat(j, '}'))
        do {
            char *key;
            if (!string(j, &key))
                return 0;
            int k = 0;
            while (k < K_COUNT && strcmp(key, names[k]) != 0)
                k++;
            ilheap__mem_free(key);
            if (!eat(j, ':'))
                return fail(j, "expected :");
            if (k < K_COUNT && seen[k])
                return fail(j, "a key repeated");
            if (k < K_COUNT)
                seen[k] = 1;
            if (!parse_value(j, k, l))
                return 0;
        } while (eat(j, ','));
    if (!eat(j, '}'))
        return fail(j, "expected , or }");
    ws(j);
    if (j->p != j->end)
        return fail(j, "text after the object");
    if (!seen[K_PATH] || !seen[K_MVID] || !seen[K_TOKEN])
        return fail(j, "missing \"path\", \"mvid\" or \"token\"");
    if (seen[K_BLOCKS] == seen[K_CALLS])
        return fail(j, "needs exactly one of \"blocks\" and \"calls\"");
    if (seen[K_CALLS] && l->nedges != 0)
        return fail(j, "\"edges\" or \"branch_runs\" with \"calls\"");
    if (seen[K_EXCEPTIONAL] != seen[K_INCLUSIVE] || (seen[K_EXCEPTIONAL] && !seen[K_CALLS]))
        return fail(j, "a timing line needs \"calls\", \"exceptional_exits\" and \"inclusive_ns\"");
    l->is_timing = seen[K_EXCEPTIONAL];
    l->is_calls = seen[K_CALLS] && !l->is_timing;
    return 1;
}

static void line_free(line_t *l)
{
    ilheap__mem_free(l->path);
    ilheap__mem_free(l->module);
    ilheap__mem_free(l->method);
    ilheap__mem_free(l->offsets);
    ilheap__mem_free(l->hits);
    ilheap__mem_free(l->ekeys);
    ilheap__mem_free(l->ehits);
}

/* The line's module: the last one when the same (lines of one module come
 * together), else a new one. */
static ilheap_status_t module_of(ilheap_counts_t *c, const line_t *l, size_t *index)
{
    const char *slash = strrchr(l->path, '/'), *back = strrchr(l->path, '\\');
    const char *base = back != NULL && (slash == NULL || back > slash) ? back + 1 : slash != NULL ? slash + 1 : l->path;
    const char *name = l->module != NULL ? l->module : base;
    if (c->nmodules != 0) {
        const cf_module_t *m = &c->modules[c->nmodules - 1];
        if (strcmp(m->path, l->path) == 0 && strcmp(m->name, name) == 0 && memcmp(m->mvid, l->mvid, 16) == 0) {
            *index = c->nmodules - 1;
            return ILHEAP_OK;
        }
    }
    return cf_index_module(c, l->path, strlen(l->path), name, strlen(name), l->mvid, 0, index);
}

static ilheap_status_t add_line(ilheap_counts_t *c, const line_t *l, uint64_t number)
{
    size_t module;
    cf_method_t *m;
    const char *name = l->method != NULL ? l->method : "";
    size_t n = l->is_calls ? 1 : l->nblocks + l->nedges;
    ilheap_status_t st = module_of(c, l, &module);
    if (st == ILHEAP_OK && l->is_timing) {
        const uint64_t values[3] = {[ILHEAP_TIMING_CALLS] = l->calls,
                                    [ILHEAP_TIMING_EXCEPTIONAL] = l->exceptional_exits,
                                    [ILHEAP_TIMING_TICKS] = l->inclusive_ns};
        return cf_index_timing_values(c, module, l->token, name, number, values);
    }
    if (st == ILHEAP_OK && n != 0)
        st = cf_index_method(c, module, l->token, name, strlen(name), n, number, &m);
    if (st != ILHEAP_OK || n == 0)
        return st;
    for (size_t i = 0; i < n; i++) {
        ilheap_probe_key_t k = {.il_offset = l->is_calls ? 0 : i < l->nblocks ? (uint32_t)l->offsets[i] : 0,
                                .kind = l->is_calls ? ILHEAP_PROBE_ENTRY : ILHEAP_PROBE_BLOCK};
        if (!l->is_calls && i >= l->nblocks)
            k = l->ekeys[i - l->nblocks];
        c->keys[m->first + i] = cf_key_pack(k);
        c->values[m->first + i] = l->is_calls ? l->calls : i < l->nblocks ? l->hits[i] : l->ehits[i - l->nblocks];
    }
    return ILHEAP_OK;
}

static ilheap_status_t problem(ilheap_counts_t *c, uint64_t number, const char *why)
{
    return cf_index_problem(c, number, why);
}

ilheap_status_t cf_read_jsonl(ilheap_counts_t *c, const uint8_t *data, size_t size)
{
    const char *p = (const char *)data, *end = p + size;
    ilheap_status_t st = ILHEAP_OK;
    for (uint64_t number = 1; st == ILHEAP_OK && p < end; number++) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *stop = nl != NULL ? nl : end;
        size_t len = (size_t)(stop - p);
        if (len > 0 && p[len - 1] == '\r')
            len--;
        if (len != 0 && memchr(p, 0, len) != NULL) {
            st = problem(c, number, "NUL byte in the line");
        } else if (len != 0) { /* a blank line (the last one) is no entry */
            json_t j = {.start = p, .p = p, .end = p + len};
            line_t l = {0};
            st = parse_line(&j, &l)   ? add_line(c, &l, number)
                 : j.out_of_memory ? ilheap__fail(ILHEAP_ENOMEM, "reading line %llu", (unsigned long long)number)
                                   : problem(c, number, j.why);
            line_free(&l);
        }
        p = nl != NULL ? nl + 1 : end;
    }
    return st;
}
