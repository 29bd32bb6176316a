/* The JSON-lines export of a counts file: one line per method, the keys the
 * profiler wrote before its file format (docs/coverage.md). */
#include "counts/counts_internal.h"
#include "pe/cursor.h" /* ilheap__guid_text */

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "pe/cursor.h"
#include "status_internal.h"

static ilheap_status_t put(ilheap_counts_sink_fn sink, void *ctx, const char *text)
{
    return sink(ctx, text, strlen(text)) == 0 ? ILHEAP_OK : ILHEAP_EIO;
}

/* "key":"escaped value" and a comma before it unless first. */
static ilheap_status_t field(ilheap_counts_sink_fn sink, void *ctx, const char *head, const char *value)
{
    ilheap_status_t st = put(sink, ctx, head);
    if (st == ILHEAP_OK)
        st = cf_json_string(value, sink, ctx);
    return st == ILHEAP_OK ? put(sink, ctx, "\"") : st;
}

/* One array of method i's probes: "blocks" (what 0), "edges" (1: EDGE keys
 * of outcomes) or "branch_runs" (2: EDGE keys of runs); the two last only
 * when the method has such probes. */
static ilheap_status_t probes_of(const ilheap_counts_t *c, size_t i, int what, ilheap_counts_sink_fn sink, void *ctx)
{
    static const char *const heads[] = {",\"blocks\":[", ",\"edges\":[", ",\"branch_runs\":["};
    const cf_method_t *m = &c->methods[i];
    char buf[128];
    ilheap_status_t st = ILHEAP_OK;
    int first = 1;
    for (size_t p = 0; st == ILHEAP_OK && p < m->probes; p++) {
        ilheap_probe_key_t k = cf_key_unpack(c->keys[m->first + p]);
        int is = k.kind == ILHEAP_PROBE_BLOCK ? 0 : k.kind != ILHEAP_PROBE_EDGE ? -1 : k.outcome == ILHEAP_PROBE_RUNS ? 2 : 1;
        if (is != what)
            continue;
        if (first && (st = put(sink, ctx, heads[what])) != ILHEAP_OK)
            break;
        if (what == 1)
            snprintf(buf, sizeof buf, "%s{\"il_offset\":%" PRIu32 ",\"outcome\":%" PRIu32 ",\"hits\":%" PRIu64 "}",
                     first ? "" : ",", k.il_offset, k.outcome, ilheap_counts_hits(c, i, p));
        else
            snprintf(buf, sizeof buf, "%s{\"il_offset\":%" PRIu32 ",\"hits\":%" PRIu64 "}", first ? "" : ",",
                     k.il_offset, ilheap_counts_hits(c, i, p));
        first = 0;
        st = put(sink, ctx, buf);
    }
    if (st == ILHEAP_OK && first && what == 0)
        st = put(sink, ctx, heads[0]);
    return st == ILHEAP_OK && (!first || what == 0) ? put(sink, ctx, "]") : st;
}

/* "calls":N for an entry probe, else "blocks":[...] of the block probes and
 * the edge probes' "edges" and "branch_runs" (the writer's key order is
 * ascending in each). */
static ilheap_status_t counts_of(const ilheap_counts_t *c, size_t i, ilheap_counts_sink_fn sink, void *ctx)
{
    const cf_method_t *m = &c->methods[i];
    char buf[96];
    if (cf_key_unpack(c->keys[m->first]).kind == ILHEAP_PROBE_ENTRY) {
        snprintf(buf, sizeof buf, ",\"calls\":%" PRIu64 "}\n", ilheap_counts_hits(c, i, 0));
        return put(sink, ctx, buf);
    }
    ilheap_status_t st = ILHEAP_OK;
    for (int what = 0; what < 3 && st == ILHEAP_OK; what++)
        st = probes_of(c, i, what, sink, ctx);
    return st == ILHEAP_OK ? put(sink, ctx, "}\n") : st;
}

/* {"module":..,"path":..,"mvid":..,"method":..,"token":.. of a line. */
static ilheap_status_t head(const cf_module_t *mod, const char *method, uint32_t token_value,
                            ilheap_counts_sink_fn sink, void *ctx)
{
    char mvid[37] = "", token[32];
    if (mod->has_mvid)
        ilheap__guid_text(mod->mvid, mvid);
    snprintf(token, sizeof token, ",\"token\":\"0x%08" PRIx32 "\"", token_value);
    ilheap_status_t st;
    if ((st = field(sink, ctx, "{\"module\":\"", mod->name)) == ILHEAP_OK &&
        (st = field(sink, ctx, ",\"path\":\"", mod->path)) == ILHEAP_OK &&
        (st = field(sink, ctx, ",\"mvid\":\"", mvid)) == ILHEAP_OK &&
        (st = field(sink, ctx, ",\"method\":\"", method)) == ILHEAP_OK)
        st = put(sink, ctx, token);
    return st;
}

/* A timed method's line: its calls, exits by an exception and time. */
static ilheap_status_t timing_line(const ilheap_counts_t *c, size_t i, ilheap_counts_sink_fn sink, void *ctx)
{
    ilheap_counts_timing_t t;
    ilheap_status_t st = ilheap_counts_timing(c, i, &t);
    if (st == ILHEAP_OK)
        st = head(&c->modules[t.module], t.name, t.token, sink, ctx);
    if (st != ILHEAP_OK)
        return st;
    char buf[128];
    snprintf(buf, sizeof buf, ",\"calls\":%" PRIu64 ",\"exceptional_exits\":%" PRIu64 ",\"inclusive_ns\":%" PRIu64 "}\n",
             t.calls, t.exceptional_exits, t.inclusive_ns);
    return put(sink, ctx, buf);
}

ilheap_status_t ilheap_counts_write_jsonl(const ilheap_counts_t *c, ilheap_counts_sink_fn sink, void *ctx)
{
    if (c == NULL || sink == NULL)
        return ilheap__fail(ILHEAP_EINVAL, "ilheap_counts_write_jsonl: a NULL argument");
    ilheap_status_t st = ILHEAP_OK;
    for (size_t i = 0; st == ILHEAP_OK && i < c->nmethods; i++) {
        const cf_method_t *m = &c->methods[i];
        if ((st = head(&c->modules[m->module], m->name, m->token, sink, ctx)) == ILHEAP_OK)
            st = counts_of(c, i, sink, ctx);
    }
    for (size_t i = 0; st == ILHEAP_OK && i < c->ntimings; i++)
        st = timing_line(c, i, sink, ctx);
    return st == ILHEAP_EIO ? ilheap__fail(ILHEAP_EIO, "writing the JSON lines") : st;
}
