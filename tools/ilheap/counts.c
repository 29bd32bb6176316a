/* Reading the profiler's counts files: one JSON object per line, parsed
 * strictly (RFC 8259 syntax, the keys and types of the format, nothing left
 * over), each defect reported with its file and line. */
#include "counts.h"
#include "tool.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A cursor over one line. */
typedef struct json {
    const char *start, *p, *end;
    char why[160];
} json_t;

static bool fail(json_t *j, const char *what)
{
    if (j->why[0] == 0)
        snprintf(j->why, sizeof j->why, "%s (column %zu)", what, (size_t)(j->p - j->start) + 1);
    return false;
}

static void ws(json_t *j)
{
    while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\r' || *j->p == '\n'))
        j->p++;
}

static bool eat(json_t *j, char c)
{
    ws(j);
    if (j->p < j->end && *j->p == c) {
        j->p++;
        return true;
    }
    return false;
}

static int hexval(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

static bool hex4(json_t *j, uint32_t *out)
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
    return true;
}

static size_t put_utf8(char *o, uint32_t c)
{
    if (c < 0x80)
        return o[0] = (char)c, 1;
    if (c < 0x800)
        return o[0] = (char)(0xC0 | c >> 6), o[1] = (char)(0x80 | (c & 0x3F)), 2;
    if (c < 0x10000)
        return o[0] = (char)(0xE0 | c >> 12), o[1] = (char)(0x80 | (c >> 6 & 0x3F)), o[2] = (char)(0x80 | (c & 0x3F)), 3;
    o[0] = (char)(0xF0 | c >> 18), o[1] = (char)(0x80 | (c >> 12 & 0x3F));
    o[2] = (char)(0x80 | (c >> 6 & 0x3F)), o[3] = (char)(0x80 | (c & 0x3F));
    return 4;
}

/* A JSON string, unescaped into a malloc'd copy (*out NULL: skipped). */
static bool string(json_t *j, char **out)
{
    ws(j);
    if (j->p >= j->end || *j->p != '"')
        return fail(j, "expected a string");
    j->p++;
    /* The unescaped string is never longer than the escaped one. */
    char *s = malloc((size_t)(j->end - j->p) + 1), *o = s;
    if (s == NULL)
        return fail(j, "out of memory");
    for (;;) {
        if (j->p >= j->end) {
            free(s);
            return fail(j, "unterminated string");
        }
        unsigned char c = (unsigned char)*j->p++;
        if (c == '"')
            break;
        if (c < 0x20) {
            free(s);
            return fail(j, "control character in a string");
        }
        if (c != '\\') {
            *o++ = (char)c;
            continue;
        }
        if (j->p >= j->end) {
            free(s);
            return fail(j, "unterminated escape");
        }
        char e = *j->p++;
        const char *simple = strchr("\"\\/bfnrt", e);
        if (e != 0 && simple != NULL) {
            *o++ = "\"\\/\b\f\n\r\t"[simple - "\"\\/bfnrt"];
            continue;
        }
        uint32_t u, lo;
        if (e != 'u' || !hex4(j, &u)) {
            free(s);
            return fail(j, "bad escape in a string");
        }
        if (u >= 0xD800 && u < 0xDC00) { /* a surrogate pair */
            if (j->end - j->p < 2 || j->p[0] != '\\' || j->p[1] != 'u' || (j->p += 2, !hex4(j, &lo)) || lo < 0xDC00 ||
                lo > 0xDFFF) {
                free(s);
                return fail(j, "unpaired surrogate in a string");
            }
            u = 0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00);
        } else if (u >= 0xDC00 && u < 0xE000) {
            free(s);
            return fail(j, "unpaired surrogate in a string");
        }
        if (u == 0) {
            free(s);
            return fail(j, "NUL in a string");
        }
        o += put_utf8(o, u);
    }
    *o = 0;
    if (out != NULL)
        *out = s;
    else
        free(s);
    return true;
}

/* A non-negative integer (no sign, fraction or exponent) up to max. */
static bool integer(json_t *j, uint64_t max, uint64_t *out)
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
    return true;
}

/* Any JSON value, checked and skipped (keys the format may add later). */
static bool skip_value(json_t *j, int depth)
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
            return true;
        do {
            if (c == '{' && (!string(j, NULL) || !eat(j, ':')))
                return fail(j, "expected \"key\":");
            if (!skip_value(j, depth + 1))
                return false;
        } while (eat(j, ','));
        return eat(j, close) || fail(j, c == '{' ? "expected , or }" : "expected , or ]");
    }
    static const char *const words[] = {"true", "false", "null"};
    for (int i = 0; i < 3; i++) {
        size_t n = strlen(words[i]);
        if ((size_t)(j->end - j->p) >= n && memcmp(j->p, words[i], n) == 0)
            return j->p += n, true;
    }
    if (c == '-') /* a negative number: valid JSON, skipped */
        j->p++;
    uint64_t ignored;
    if (!integer(j, UINT64_MAX, &ignored))
        return false;
    return true;
}

static bool parse_blocks(json_t *j, counts_entry_t *e)
{
    size_t cap = 0;
    if (!eat(j, '['))
        return fail(j, "\"blocks\" is not an array");
    if (eat(j, ']'))
        return true;
    do {
        if (!eat(j, '{'))
            return fail(j, "a block is not an object");
        bool have_offset = false, have_hits = false;
        counts_block_t b = {0};
        do {
            char *key;
            if (!string(j, &key))
                return false;
            bool ok = eat(j, ':');
            uint64_t v = 0;
            bool is_offset = strcmp(key, "il_offset") == 0, is_hits = strcmp(key, "hits") == 0;
            bool dup = (is_offset && have_offset) || (is_hits && have_hits);
            free(key);
            if (!ok)
                return fail(j, "expected :");
            if (dup)
                return fail(j, "a key repeated in a block");
            if (is_offset || is_hits) {
                if (!integer(j, is_offset ? UINT32_MAX : UINT64_MAX, &v))
                    return false;
                if (is_offset)
                    b.il_offset = (uint32_t)v, have_offset = true;
                else
                    b.hits = v, have_hits = true;
            } else if (!skip_value(j, 1)) {
                return false;
            }
        } while (eat(j, ','));
        if (!eat(j, '}'))
            return fail(j, "expected , or } in a block");
        if (!have_offset || !have_hits)
            return fail(j, "a block without \"il_offset\" and \"hits\"");
        if (e->block_count != 0 && b.il_offset <= e->blocks[e->block_count - 1].il_offset)
            return fail(j, "block offsets are not ascending");
        if (!tool_reserve((void **)&e->blocks, &cap, e->block_count + 1, sizeof *e->blocks))
            return fail(j, "out of memory");
        e->blocks[e->block_count++] = b;
    } while (eat(j, ','));
    return eat(j, ']') || fail(j, "expected , or ] in \"blocks\"");
}

static bool valid_mvid(const char *s)
{
    if (strlen(s) != 36)
        return false;
    for (int i = 0; i < 36; i++) {
        bool dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash ? s[i] != '-' : !((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return false;
    }
    return true;
}

/* One line into *e; false with j->why set. *calls_only for a calls-mode entry. */
static bool parse_line(json_t *j, counts_entry_t *e, bool *calls_only)
{
    enum { K_MODULE, K_PATH, K_MVID, K_METHOD, K_TOKEN, K_BLOCKS, K_CALLS, K_COUNT };
    static const char *const names[K_COUNT] = {"module", "path", "mvid", "method", "token", "blocks", "calls"};
    bool seen[K_COUNT] = {0};
    *calls_only = false;
    if (!eat(j, '{'))
        return fail(j, "not a JSON object");
    if (!eat(j, '}'))
        do {
            char *key;
            if (!string(j, &key))
                return false;
            int k = 0;
            while (k < K_COUNT && strcmp(key, names[k]) != 0)
                k++;
            free(key);
            if (!eat(j, ':'))
                return fail(j, "expected :");
            if (k < K_COUNT && seen[k])
                return fail(j, "a key repeated");
            if (k < K_COUNT)
                seen[k] = true;
            char *s = NULL;
            uint64_t v;
            switch (k) {
            case K_PATH:
                if (!string(j, &e->path))
                    return false;
                if (e->path[0] == 0)
                    return fail(j, "empty \"path\"");
                break;
            case K_METHOD:
                if (!string(j, &e->method))
                    return false;
                break;
            case K_MVID:
                if (!string(j, &s))
                    return false;
                if (!valid_mvid(s)) {
                    free(s);
                    return fail(j, "\"mvid\" is not a lowercase 8-4-4-4-12 GUID");
                }
                memcpy(e->mvid, s, 37);
                free(s);
                break;
            case K_TOKEN: {
                if (!string(j, &s))
                    return false;
                uint32_t t;
                bool ok = strncmp(s, "0x", 2) == 0 && strlen(s) == 10 && tool_parse_u32(s, UINT32_MAX, &t) &&
                          (t >> 24) == 0x06 && (t & 0xFFFFFF) != 0;
                free(s);
                if (!ok)
                    return fail(j, "\"token\" is not a MethodDef token \"0x06xxxxxx\"");
                e->token = t;
                break;
            }
            case K_BLOCKS:
                if (!parse_blocks(j, e))
                    return false;
                break;
            case K_CALLS:
                if (!integer(j, UINT64_MAX, &v))
                    return false;
                break;
            default: /* "module" and keys a later format may add */
                if (!skip_value(j, 1))
                    return false;
            }
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
    *calls_only = seen[K_CALLS];
    return true;
}

/* The next line of f into *line (grown as needed), without its end of line;
 * *len its length (it may hold NUL bytes). 1: a line; 0: the end of the file
 * (or a read error: see ferror); -1: out of memory. getline() is POSIX only;
 * this also builds with mingw-w64. */
static int read_line(FILE *f, char **line, size_t *cap, size_t *len)
{
    *len = 0;
    int c;
    while ((c = getc(f)) != EOF) {
        if (!tool_reserve((void **)line, cap, *len + 2, 1))
            return -1;
        if (c == '\n')
            break;
        (*line)[(*len)++] = (char)c;
    }
    if (c == EOF && *len == 0)
        return 0;
    if (*len > 0 && (*line)[*len - 1] == '\r')
        (*len)--;
    (*line)[*len] = 0;
    return 1;
}

static void entry_free(counts_entry_t *e)
{
    free(e->path);
    free(e->method);
    free(e->blocks);
    memset(e, 0, sizeof *e);
}

int counts_read(counts_set_t *set, const char *file)
{
    FILE *f = fopen(file, "rb");
    if (f == NULL) {
        int e = errno;
        fprintf(stderr, "ilheap cover: %s: %s\n", file, strerror(e));
        return e == ENOENT ? TOOL_EXIT_MISSING : TOOL_EXIT_UNREADABLE;
    }
    size_t fcap = set->file_count;
    char *name = strdup(file);
    if (name == NULL || !tool_reserve((void **)&set->files, &fcap, set->file_count + 1, sizeof *set->files)) {
        free(name);
        fclose(f);
        fprintf(stderr, "ilheap cover: out of memory\n");
        return TOOL_EXIT_SYSTEM;
    }
    set->files[set->file_count++] = name;
    char *line = NULL;
    size_t line_cap = 0;
    uint64_t number = 0, calls = 0;
    size_t len;
    int rc = 0, got;
    while ((got = read_line(f, &line, &line_cap, &len)) != 0) {
        if (got < 0) {
            fprintf(stderr, "ilheap cover: out of memory\n");
            rc = TOOL_EXIT_SYSTEM;
            break;
        }
        number++;
        if (len == 0)
            continue; /* a blank line (e.g. the last one) */
        if (strlen(line) != len) {
            fprintf(stderr, "ilheap cover: %s:%llu: NUL byte in the line\n", file, (unsigned long long)number);
            set->bad_lines++;
            continue;
        }
        json_t j = {.start = line, .p = line, .end = line + len};
        counts_entry_t e = {.file = name, .line = number};
        bool calls_only;
        if (!parse_line(&j, &e, &calls_only)) {
            fprintf(stderr, "ilheap cover: %s:%llu: %s\n", file, (unsigned long long)number, j.why);
            set->bad_lines++;
            entry_free(&e);
            continue;
        }
        if (calls_only) {
            calls++;
            entry_free(&e);
            continue;
        }
        if (!tool_reserve((void **)&set->entries, &set->cap, set->count + 1, sizeof *set->entries)) {
            entry_free(&e);
            fprintf(stderr, "ilheap cover: out of memory\n");
            rc = TOOL_EXIT_SYSTEM;
            break;
        }
        set->entries[set->count++] = e;
    }
    if (rc == 0 && ferror(f)) {
        fprintf(stderr, "ilheap cover: %s: read error after line %llu\n", file, (unsigned long long)number);
        rc = TOOL_EXIT_UNREADABLE;
    }
    if (calls != 0)
        fprintf(stderr, "ilheap cover: %s: %llu calls-mode entries (ILHEAP_MODE=calls) have no blocks: skipped\n", file,
                (unsigned long long)calls);
    set->calls_only += calls;
    free(line);
    fclose(f);
    return rc;
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

/* into += from, as a union of ascending offsets (the same body's blocks). */
static bool merge(counts_entry_t *into, const counts_entry_t *from)
{
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
            uint64_t h = from->blocks[b++].hits;
            m[n].hits = m[n].hits > UINT64_MAX - h ? UINT64_MAX : m[n].hits + h; /* saturates */
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

void counts_mvid_text(const uint8_t g[16], char out[37])
{
    snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", g[3], g[2], g[1], g[0],
             g[5], g[4], g[7], g[6], g[8], g[9], g[10], g[11], g[12], g[13], g[14], g[15]);
}
