/* Timed methods in a reader's index (record kind 5 of counts.h): what
 * ILHEAP_MODE=timing writes, per method its entries, its exits by an
 * exception and the ticks from entry to exit, with the clock's frequency.
 * Their counters are read live from the mapping, like a method's. */
#include "counts/counts_internal.h"

#include <stdlib.h>
#include <string.h>

#include "os/memory.h"
#include "status_internal.h"

ilheap_status_t cf_index_timing(ilheap_counts_t *c, size_t module, uint32_t token, const char *name, size_t name_len,
                                uint64_t ticks_per_second, uint64_t where, const uint64_t *live)
{
    if (!cf_grow(&c->timings, &c->timings_cap, c->ntimings + 1, sizeof *c->timings))
        return ilheap__fail(ILHEAP_ENOMEM, "a counts file's timed methods");
    char *copy = ilheap__mem_alloc(1, name_len + 1);
    if (copy == NULL)
        return ilheap__fail(ILHEAP_ENOMEM, "a method's name");
    memcpy(copy, name, name_len);
    copy[name_len] = 0;
    c->timings[c->ntimings++] = (cf_timing_t){.module = module, .token = token, .name = copy,
                                              .ticks_per_second = ticks_per_second, .where = where, .live = live};
    return ILHEAP_OK;
}

ilheap_status_t cf_index_timing_values(ilheap_counts_t *c, size_t module, uint32_t token, const char *name,
                                       uint64_t where, const uint64_t values[3])
{
    ilheap_status_t st = cf_index_timing(c, module, token, name, strlen(name), 1000000000u, where, NULL);
    if (st == ILHEAP_OK)
        memcpy(c->timings[c->ntimings - 1].values, values, sizeof c->timings[0].values);
    return st;
}

void cf_timings_free(ilheap_counts_t *c)
{
    for (size_t i = 0; i < c->ntimings; i++)
        ilheap__mem_free(c->timings[i].name);
    ilheap__mem_free(c->timings);
    c->timings = NULL;
    c->ntimings = c->timings_cap = 0;
}

size_t ilheap_counts_timing_count(const ilheap_counts_t *c)
{
    return c != NULL ? c->ntimings : 0;
}

/* ticks * 10^9 / tps, saturated: the whole seconds exactly, the rest (under
 * a second, so under 10^9 ns) in floating point. */
static uint64_t to_ns(uint64_t ticks, uint64_t tps)
{
    uint64_t seconds = ticks / tps, rest = ticks % tps;
    if (seconds > UINT64_MAX / 1000000000u)
        return UINT64_MAX;
    uint64_t ns = seconds * 1000000000u, part = (uint64_t)((double)rest * 1e9 / (double)tps);
    return ns > UINT64_MAX - part ? UINT64_MAX : ns + part;
}

ilheap_status_t ilheap_counts_timing(const ilheap_counts_t *c, size_t i, ilheap_counts_timing_t *out)
{
    if (c == NULL || out == NULL || i >= c->ntimings)
        return ilheap__fail(ILHEAP_EINVAL, "no timed method %zu", i);
    const cf_timing_t *t = &c->timings[i];
    const uint64_t *v = t->live != NULL ? t->live : t->values;
    uint64_t ticks = cf_load_relaxed(&v[ILHEAP_TIMING_TICKS]);
    *out = (ilheap_counts_timing_t){.module = t->module,
                                    .token = t->token,
                                    .name = t->name,
                                    .calls = cf_load_relaxed(&v[ILHEAP_TIMING_CALLS]),
                                    .exceptional_exits = cf_load_relaxed(&v[ILHEAP_TIMING_EXCEPTIONAL]),
                                    .ticks = ticks,
                                    .ticks_per_second = t->ticks_per_second,
                                    .inclusive_ns = to_ns(ticks, t->ticks_per_second),
                                    .where = t->where};
    return ILHEAP_OK;
}
