/* A reader's index: the modules, methods, keys and (frozen) counters that
 * either form of counts file reads into, and the accessors of counts.h. */
#include "counts/counts_internal.h"
#include "pe/cursor.h" /* ilheap__guid_text */

#include <stdlib.h>
#include <string.h>

#include "pe/cursor.h"
#include "os/memory.h"
#include "status_internal.h"

bool cf_grow(void *p, size_t *cap, size_t n, size_t elem)
{
    void **array = p;
    if (n <= *cap)
        return true;
    size_t c = *cap < 16 ? 16 : *cap;
    while (c < n) {
        if (c > SIZE_MAX / 2)
            return false;
        c *= 2;
    }
    if (c > SIZE_MAX / elem)
        return false;
    void *q = ilheap__mem_realloc(*array, c, elem);
    if (q == NULL)
        return false;
    *array = q;
    *cap = c;
    return true;
}

static char *copy(const char *s, size_t n)
{
    char *d = ilheap__mem_alloc(1, n + 1);
    if (d != NULL) {
        memcpy(d, s, n);
        d[n] = 0;
    }
    return d;
}

ilheap_status_t cf_index_module(ilheap_counts_t *c, const char *path, size_t path_len, const char *name,
                                size_t name_len, const uint8_t *mvid, uint64_t where, size_t *index)
{
    if (!cf_grow(&c->modules, &c->modules_cap, c->nmodules + 1, sizeof *c->modules))
        return ilheap__fail(ILHEAP_ENOMEM, "a counts file's modules");
    cf_module_t *m = &c->modules[c->nmodules];
    memset(m, 0, sizeof *m);
    m->path = copy(path, path_len);
    m->name = copy(name, name_len);
    if (m->path == NULL || m->name == NULL) {
        ilheap__mem_free(m->path);
        ilheap__mem_free(m->name);
        return ilheap__fail(ILHEAP_ENOMEM, "a module's path");
    }
    m->has_mvid = mvid != NULL;
    if (mvid != NULL)
        memcpy(m->mvid, mvid, 16);
    m->where = where;
    *index = c->nmodules++;
    return ILHEAP_OK;
}

ilheap_status_t cf_index_method(ilheap_counts_t *c, size_t module, uint32_t token, const char *name,
                                size_t name_len, size_t n, uint64_t where, cf_method_t **out)
{
    size_t keys_cap = c->keys_cap;
    if (n > SIZE_MAX - c->nkeys || !cf_grow(&c->methods, &c->methods_cap, c->nmethods + 1, sizeof *c->methods) ||
        !cf_grow(&c->keys, &c->keys_cap, c->nkeys + n, sizeof *c->keys))
        return ilheap__fail(ILHEAP_ENOMEM, "a counts file's methods");
    if ((c->values != NULL || c->info.format == ILHEAP_COUNTS_JSONL) && (c->values == NULL || c->keys_cap != keys_cap)) {
        /* frozen values follow the keys' capacity */
        uint64_t *v = ilheap__mem_realloc(c->values, c->keys_cap, sizeof *v);
        if (v == NULL)
            return ilheap__fail(ILHEAP_ENOMEM, "a counts file's counters");
        c->values = v;
    }
    cf_method_t *m = &c->methods[c->nmethods];
    memset(m, 0, sizeof *m);
    if ((m->name = copy(name, name_len)) == NULL)
        return ilheap__fail(ILHEAP_ENOMEM, "a method's name");
    m->module = module;
    m->token = token;
    m->probes = (uint32_t)n;
    m->where = where;
    m->first = c->nkeys;
    memset(c->keys + c->nkeys, 0, n * sizeof *c->keys);
    if (c->values != NULL)
        memset(c->values + c->nkeys, 0, n * sizeof *c->values);
    c->nkeys += n;
    c->nmethods++;
    c->info.methods = c->nmethods;
    c->info.probes = c->nkeys;
    *out = m;
    return ILHEAP_OK;
}

ilheap_status_t cf_index_problem(ilheap_counts_t *c, uint64_t line, const char *text)
{
    if (!cf_grow(&c->problems, &c->problems_cap, c->nproblems + 1, sizeof *c->problems))
        return ilheap__fail(ILHEAP_ENOMEM, "a counts file's problems");
    char *t = copy(text, strlen(text));
    if (t == NULL)
        return ilheap__fail(ILHEAP_ENOMEM, "a counts file's problems");
    c->problems[c->nproblems++] = (cf_problem_t){.line = line, .text = t};
    return ILHEAP_OK;
}

void cf_index_free(ilheap_counts_t *c)
{
    for (size_t i = 0; i < c->nmodules; i++) {
        ilheap__mem_free(c->modules[i].path);
        ilheap__mem_free(c->modules[i].name);
    }
    for (size_t i = 0; i < c->nmethods; i++)
        ilheap__mem_free(c->methods[i].name);
    for (size_t i = 0; i < c->nproblems; i++)
        ilheap__mem_free(c->problems[i].text);
    ilheap__mem_free(c->modules);
    ilheap__mem_free(c->methods);
    ilheap__mem_free(c->keys);
    ilheap__mem_free(c->values);
    ilheap__mem_free(c->problems);
    cf_timings_free(c);
}

void ilheap_counts_info(const ilheap_counts_t *c, ilheap_counts_info_t *info)
{
    *info = c->info;
    info->modules = c->nmodules;
}

ilheap_status_t ilheap_counts_module(const ilheap_counts_t *c, size_t i, ilheap_counts_module_t *out)
{
    if (c == NULL || out == NULL || i >= c->nmodules)
        return ilheap__fail(ILHEAP_EINVAL, "no module %zu", i);
    const cf_module_t *m = &c->modules[i];
    out->path = m->path;
    out->name = m->name;
    out->has_mvid = m->has_mvid;
    memcpy(out->mvid, m->mvid, 16);
    out->mvid_text[0] = 0;
    if (m->has_mvid)
        ilheap__guid_text(m->mvid, out->mvid_text);
    return ILHEAP_OK;
}

ilheap_status_t ilheap_counts_method(const ilheap_counts_t *c, size_t i, ilheap_counts_method_t *out)
{
    if (c == NULL || out == NULL || i >= c->nmethods)
        return ilheap__fail(ILHEAP_EINVAL, "no method %zu", i);
    const cf_method_t *m = &c->methods[i];
    *out = (ilheap_counts_method_t){
        .module = m->module, .token = m->token, .name = m->name, .probes = m->probes, .where = m->where};
    return ILHEAP_OK;
}

ilheap_probe_key_t ilheap_counts_key(const ilheap_counts_t *c, size_t i, size_t p)
{
    if (c == NULL || i >= c->nmethods || p >= c->methods[i].probes)
        return (ilheap_probe_key_t){0};
    return cf_key_unpack(c->keys[c->methods[i].first + p]);
}

uint64_t ilheap_counts_hits(const ilheap_counts_t *c, size_t i, size_t p)
{
    if (c == NULL || i >= c->nmethods || p >= c->methods[i].probes)
        return 0;
    const cf_method_t *m = &c->methods[i];
    return m->live != NULL ? cf_load_relaxed(&m->live[p]) : c->values[m->first + p];
}

size_t ilheap_counts_problem_count(const ilheap_counts_t *c)
{
    return c != NULL ? c->nproblems : 0;
}

const char *ilheap_counts_problem(const ilheap_counts_t *c, size_t i, uint64_t *line)
{
    if (c == NULL || i >= c->nproblems)
        return NULL;
    if (line != NULL)
        *line = c->problems[i].line;
    return c->problems[i].text;
}
