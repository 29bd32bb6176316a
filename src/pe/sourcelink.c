/* Source Link: the PDB's CustomDebugInformation record of kind
 * CC110556-A091-4D38-9FEC-25AB9A351A6A, a JSON object {"documents": {PATH:
 * URL, ...}} that a deterministic build (ContinuousIntegrationBuild) writes
 * beside its "/_/" document paths. Here: finding the record, and a strict,
 * bounded reader for that JSON (RFC 8259; only "documents" is kept). */
#include "ilheap/pdb.h"
#include "pe/image.h"
#include "os/memory.h"
#include "pe/pdb_internal.h"

#include <stdlib.h>
#include <string.h>

#define T_CUSTOM_DEBUG_INFORMATION 0x37
enum { CDI_PARENT, CDI_KIND, CDI_VALUE };
#define MAX_DEPTH 32 /* nesting of skipped values */

/* The GUID as #GUID stores it (the first three groups little-endian). */
static const uint8_t source_link_kind[16] = {0x56, 0x05, 0x11, 0xCC, 0x91, 0xA0, 0x38, 0x4D,
                                             0x9F, 0xEC, 0x25, 0xAB, 0x9A, 0x35, 0x1A, 0x6A};

struct ilheap_source_link {
    size_t count, cap;
    char **paths, **urls; /* malloc'd, NUL-terminated */
};

typedef struct json {
    const uint8_t *p;
    size_t pos, size;
    uint64_t base; /* file offset of p[0], for errors */
    ilheap_pe_error_t *error;
    ilheap_status_t status;
} json_t;

static bool fail(json_t *j, ilheap_status_t status, const char *what)
{
    if (j->status == ILHEAP_OK)
        j->status = ilheap__pe_fail(j->error, status, j->base + j->pos, "%s", what);
    return false;
}

static void ws(json_t *j)
{
    while (j->pos < j->size && strchr(" \t\r\n", j->p[j->pos]) != NULL && j->p[j->pos] != 0)
        j->pos++;
}

static bool eat(json_t *j, char c)
{
    ws(j);
    if (j->pos >= j->size || j->p[j->pos] != (uint8_t)c)
        return false;
    j->pos++;
    return true;
}

static int hex(uint8_t c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

static bool hex4(json_t *j, uint32_t *out)
{
    *out = 0;
    for (int i = 0; i < 4; i++, j->pos++) {
        int v = j->pos < j->size ? hex(j->p[j->pos]) : -1;
        if (v < 0)
            return fail(j, ILHEAP_PE_BAD_SOURCE_LINK, "bad \\u escape");
        *out = *out << 4 | (uint32_t)v;
    }
    return true;
}

/* A \u escape (a surrogate pair as one code point) into o; bytes written, 0 on error. */
static size_t unicode_escape(json_t *j, char *o)
{
    uint32_t c, low;
    if (!hex4(j, &c))
        return 0;
    if (c >= 0xDC00 && c <= 0xDFFF)
        return fail(j, ILHEAP_PE_BAD_SOURCE_LINK, "lone low surrogate"), 0;
    if (c >= 0xD800 && c <= 0xDBFF) {
        if (j->size - j->pos < 2 || j->p[j->pos] != '\\' || j->p[j->pos + 1] != 'u')
            return fail(j, ILHEAP_PE_BAD_SOURCE_LINK, "high surrogate without its low half"), 0;
        j->pos += 2;
        if (!hex4(j, &low))
            return 0;
        if (low < 0xDC00 || low > 0xDFFF)
            return fail(j, ILHEAP_PE_BAD_SOURCE_LINK, "high surrogate without its low half"), 0;
        c = 0x10000 + ((c - 0xD800) << 10) + (low - 0xDC00);
    }
    if (c == 0)
        return fail(j, ILHEAP_PE_BAD_SOURCE_LINK, "NUL in a string"), 0;
    return ilheap__utf8_put(o, c);
}

/* A string; *out gets it decoded (malloc'd) unless out is NULL (skipped).
 * The decoded form is never longer than the escaped one. */
static bool string(json_t *j, char **out)
{
    if (!eat(j, '"'))
        return fail(j, ILHEAP_PE_BAD_SOURCE_LINK, "string expected");
    size_t start = j->pos, n = 0;
    while (j->pos < j->size && j->p[j->pos] != '"')
        j->pos += j->p[j->pos] == '\\' && j->pos + 1 < j->size ? 2 : 1;
    if (j->pos >= j->size)
        return fail(j, ILHEAP_PE_BAD_SOURCE_LINK, "unterminated string");
    size_t end = j->pos;
    char *s = ilheap__mem_alloc(1, end - start + 1);
    if (s == NULL)
        return fail(j, ILHEAP_ENOMEM, "out of memory");
    static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
    for (j->pos = start; j->pos < end;) {
        uint8_t c = j->p[j->pos++];
        const char *e = c == '\\' ? strchr(from, j->p[j->pos]) : NULL;
        size_t w = 1;
        if (c < 0x20) {
            w = 0;
            j->pos--;
            fail(j, ILHEAP_PE_BAD_SOURCE_LINK, "control character in a string");
        } else if (c != '\\') {
            s[n] = (char)c;
        } else if (j->p[j->pos] == 'u') {
            j->pos++;
            w = unicode_escape(j, s + n);
        } else if (e != NULL && *e != '\0') {
            j->pos++;
            s[n] = to[e - from];
        } else {
            w = 0;
            fail(j, ILHEAP_PE_BAD_SOURCE_LINK, "bad escape");
        }
        if (w == 0) {
            ilheap__mem_free(s);
            return false;
        }
        n += w;
    }
    j->pos = end + 1;
    s[n] = '\0';
    if (out != NULL)
        *out = s;
    else
        ilheap__mem_free(s);
    return true;
}

static bool skip_value(json_t *j, int depth);

/* {...} or [...] skipped. */
static bool skip_container(json_t *j, int depth, char close)
{
    if (depth >= MAX_DEPTH)
        return fail(j, ILHEAP_PE_BAD_SOURCE_LINK, "nested too deeply");
    if (eat(j, close))
        return true;
    do {
        if (close == '}' && (!string(j, NULL) || !eat(j, ':')))
            return j->status != ILHEAP_OK ? false : fail(j, ILHEAP_PE_BAD_SOURCE_LINK, "':' expected");
        if (!skip_value(j, depth + 1))
            return false;
    } while (eat(j, ','));
    return eat(j, close) || fail(j, ILHEAP_PE_BAD_SOURCE_LINK, close == '}' ? "'}' expected" : "']' expected");
}

static bool skip_value(json_t *j, int depth)
{
    ws(j);
    if (j->pos >= j->size)
        return fail(j, ILHEAP_PE_BAD_SOURCE_LINK, "value expected");
    uint8_t c = j->p[j->pos];
    if (c == '"')
        return string(j, NULL);
    if (c == '{' || c == '[')
        return j->pos++, skip_container(j, depth, c == '{' ? '}' : ']');
    static const char *const words[] = {"true", "false", "null"};
    for (size_t i = 0; i < 3; i++) {
        size_t n = strlen(words[i]);
        if (j->size - j->pos >= n && memcmp(j->p + j->pos, words[i], n) == 0)
            return j->pos += n, true;
    }
    size_t start = j->pos;
    while (j->pos < j->size && strchr("+-0123456789.eE", j->p[j->pos]) != NULL && j->p[j->pos] != 0)
        j->pos++;
    return j->pos > start || fail(j, ILHEAP_PE_BAD_SOURCE_LINK, "value expected");
}

static bool add(json_t *j, ilheap_source_link_t *link, char *path, char *url)
{
    if (link->count == link->cap) {
        size_t cap = link->cap ? 2 * link->cap : 8;
        char **p = ilheap__mem_realloc(link->paths, cap, sizeof *p);
        if (p != NULL)
            link->paths = p;
        char **u = p != NULL ? ilheap__mem_realloc(link->urls, cap, sizeof *u) : NULL;
        if (u != NULL)
            link->urls = u;
        if (p == NULL || u == NULL) {
            ilheap__mem_free(path);
            ilheap__mem_free(url);
            return fail(j, ILHEAP_ENOMEM, "out of memory");
        }
        link->cap = cap;
    }
    link->paths[link->count] = path;
    link->urls[link->count++] = url;
    return true;
}

/* "documents": {PATH: URL, ...} */
static bool documents(json_t *j, ilheap_source_link_t *link)
{
    if (!eat(j, '{'))
        return fail(j, ILHEAP_PE_BAD_SOURCE_LINK, "\"documents\" is not an object");
    if (eat(j, '}'))
        return true;
    do {
        char *path = NULL, *url = NULL;
        if (!string(j, &path))
            return false;
        if (!eat(j, ':')) {
            ilheap__mem_free(path);
            return fail(j, ILHEAP_PE_BAD_SOURCE_LINK, "':' expected");
        }
        if (!string(j, &url)) {
            ilheap__mem_free(path);
            return false;
        }
        if (!add(j, link, path, url))
            return false;
    } while (eat(j, ','));
    return eat(j, '}') || fail(j, ILHEAP_PE_BAD_SOURCE_LINK, "'}' expected");
}

static bool top_object(json_t *j, ilheap_source_link_t *link)
{
    bool seen = false;
    if (!eat(j, '{'))
        return fail(j, ILHEAP_PE_BAD_SOURCE_LINK, "not a JSON object");
    if (!eat(j, '}')) {
        do {
            char *key = NULL;
            if (!string(j, &key))
                return false;
            bool is_documents = strcmp(key, "documents") == 0;
            ilheap__mem_free(key);
            if (!eat(j, ':'))
                return fail(j, ILHEAP_PE_BAD_SOURCE_LINK, "':' expected");
            if (is_documents && seen)
                return fail(j, ILHEAP_PE_BAD_SOURCE_LINK, "\"documents\" given twice");
            if (!(is_documents ? documents(j, link) : skip_value(j, 0)))
                return false;
            seen |= is_documents;
        } while (eat(j, ','));
        if (!eat(j, '}'))
            return fail(j, ILHEAP_PE_BAD_SOURCE_LINK, "'}' expected");
    }
    ws(j);
    if (j->pos != j->size)
        return fail(j, ILHEAP_PE_BAD_SOURCE_LINK, "text after the object");
    return seen || fail(j, ILHEAP_PE_BAD_SOURCE_LINK, "no \"documents\"");
}

ilheap_status_t ilheap_source_link_parse(const void *json, size_t size, uint64_t base, ilheap_source_link_t **out,
                                         ilheap_pe_error_t *error)
{
    if (out == NULL || (json == NULL && size != 0))
        return ilheap__pe_fail(error, ILHEAP_EINVAL, ILHEAP_PE_NO_OFFSET, "source_link_parse with a NULL argument");
    *out = NULL;
    ilheap_source_link_t *link = ilheap__mem_zalloc(1, sizeof *link);
    if (link == NULL)
        return ilheap__pe_fail(error, ILHEAP_ENOMEM, ILHEAP_PE_NO_OFFSET, "Source Link map");
    json_t j = {json, 0, size, base, error, ILHEAP_OK};
    /* a UTF-8 byte order mark is allowed before the object */
    if (size >= 3 && memcmp(json, "\xEF\xBB\xBF", 3) == 0)
        j.pos = 3;
    if (!top_object(&j, link)) {
        ilheap_source_link_free(link);
        return j.status;
    }
    *out = link;
    return ILHEAP_OK;
}

ilheap_status_t ilheap_pdb_source_link(const ilheap_pdb_t *pdb, ilheap_source_link_t **out, ilheap_pe_error_t *error)
{
    const ilheap_pe_t *md = ilheap__pdb_metadata(pdb);
    if (md == NULL || out == NULL)
        return ilheap__pe_fail(error, md == NULL ? ILHEAP_PE_BAD_HANDLE : ILHEAP_EINVAL, ILHEAP_PE_NO_OFFSET,
                               "pdb_source_link");
    *out = NULL;
    for (uint32_t rid = 1; rid <= md->tables[T_CUSTOM_DEBUG_INFORMATION].rows; rid++) {
        size_t row = ilheap__row_offset(md, T_CUSTOM_DEBUG_INFORMATION, rid);
        const ilheap__table_t *t = &md->tables[T_CUSTOM_DEBUG_INFORMATION];
        uint8_t kind[16];
        ilheap_status_t st = ilheap__pe_guid(md, ilheap__cell(md, T_CUSTOM_DEBUG_INFORMATION, rid, CDI_KIND),
                                             row + t->column_offset[CDI_KIND], kind, error);
        if (st != ILHEAP_OK)
            return st;
        if (memcmp(kind, source_link_kind, 16) != 0)
            continue;
        ilheap__cursor_t value;
        st = ilheap__pe_blob(md, ilheap__cell(md, T_CUSTOM_DEBUG_INFORMATION, rid, CDI_VALUE),
                             row + t->column_offset[CDI_VALUE], &value, error);
        if (st != ILHEAP_OK)
            return st;
        return ilheap_source_link_parse(value.file + value.pos, value.end - value.pos, value.pos, out, error);
    }
    return ILHEAP_OK;
}

size_t ilheap_source_link_count(const ilheap_source_link_t *link)
{
    return link != NULL ? link->count : 0;
}

bool ilheap_source_link_entry(const ilheap_source_link_t *link, size_t i, const char **path, const char **url)
{
    if (link == NULL || i >= link->count)
        return false;
    if (path != NULL)
        *path = link->paths[i];
    if (url != NULL)
        *url = link->urls[i];
    return true;
}

bool ilheap_source_link_match(const ilheap_source_link_t *link, const char *document, size_t *index)
{
    size_t best = 0, best_len = 0;
    bool found = false;
    for (size_t i = 0; link != NULL && i < link->count; i++) {
        const char *p = link->paths[i];
        size_t n = strlen(p);
        bool prefix = n > 0 && p[n - 1] == '*';
        if (!prefix && strcmp(p, document) == 0) {
            *index = i;
            return true;
        }
        if (prefix && strncmp(p, document, n - 1) == 0 && (!found || n - 1 > best_len)) {
            best = i;
            best_len = n - 1;
            found = true;
        }
    }
    if (found)
        *index = best;
    return found;
}

void ilheap_source_link_free(ilheap_source_link_t *link)
{
    if (link == NULL)
        return;
    for (size_t i = 0; i < link->count; i++) {
        ilheap__mem_free(link->paths[i]);
        ilheap__mem_free(link->urls[i]);
    }
    ilheap__mem_free(link->paths);
    ilheap__mem_free(link->urls);
    ilheap__mem_free(link);
}
