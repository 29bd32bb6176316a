/* ilheap rehome --instrument: probes placed by the library's instrumentation
 * (include/ilheap/instrument.h), the body encoded into the module's heap,
 * and checked (edge_check.c). */
#include "instrument.h"

#include <stdlib.h>
#include <string.h>

/* The probes' counters: a fake address (the code is written, never run),
 * one 8-byte counter per probe, as the profiler's. */
#define COUNTER_BASE 0x00007F0000001000ull

bool tool_instr_parse(const char *name, tool_instr_mode_t *mode)
{
    static const char *const names[] = {[TOOL_INSTR_NONE] = "none", [TOOL_INSTR_CALLS] = "calls",
                                        [TOOL_INSTR_BLOCKS] = "blocks"};
    for (int m = TOOL_INSTR_NONE; m <= TOOL_INSTR_BLOCKS; m++)
        if (strcmp(name, names[m]) == 0)
            return *mode = (tool_instr_mode_t)m, true;
    return false;
}

int tool_instr_init(tool_instr_t *t, tool_instr_mode_t mode)
{
    memset(t, 0, sizeof *t);
    t->mode = mode;
    if (ilheap_rw_create(&t->rw) != ILHEAP_OK || ilheap_instr_create(&t->instr) != ILHEAP_OK ||
        tool_edges_init(&t->edges) != 0) {
        tool_instr_free(t);
        return -1;
    }
    return 0;
}

void tool_instr_free(tool_instr_t *t)
{
    ilheap_rw_destroy(t->rw);
    ilheap_instr_destroy(t->instr);
    tool_edges_free(&t->edges);
    memset(t, 0, sizeof *t);
}

static ilheap_status_t next_counters(void *ctx, size_t n, uint64_t *addr)
{
    tool_instr_t *t = ctx;
    *addr = COUNTER_BASE + 8 * t->next_counter;
    t->next_counter += n;
    return ILHEAP_OK;
}

/* The probes of the mode, placed by the library (ilheap/instrument.h). */
static bool insert_probes(tool_instr_t *t, uint32_t *probes, char *msg, size_t msg_size)
{
    *probes = 0;
    if (t->mode == TOOL_INSTR_NONE)
        return true;
    ilheap_instr_options_t opt = {
        .mode = t->mode == TOOL_INSTR_BLOCKS ? ILHEAP_INSTR_BLOCKS : ILHEAP_INSTR_CALLS,
        .ptr64 = 1,
        .counters = next_counters,
        .ctx = t,
        .flags = ILHEAP_INSTR_EDGES, /* as the profiler's blocks mode: checked with the rest */
    };
    const ilheap_probe_key_t *keys;
    size_t n;
    if (ilheap_instr_body(t->instr, t->rw, &opt, &keys, &n) != ILHEAP_OK)
        return tool_why(msg, msg_size, "inserting the probes: %s", ilheap_last_message());
    *probes = (uint32_t)n;
    return true;
}

bool tool_instr_body(tool_instr_t *t, const ilheap_il_body_t *orig, ilheap_heap_t *heap, bool check, void **out, size_t *size, uint32_t *probes, char *msg, size_t msg_size)
{
    *out = NULL;
    *probes = 0;
    if (check) {
        if (!tool_edges_load(&t->edges, t->rw, orig, msg, msg_size))
            return false;
    } else {
        size_t bad = 0;
        if (ilheap_rw_load(t->rw, orig, &bad) != ILHEAP_OK)
            return tool_why(msg, msg_size, "the code does not decode into instructions at offset %zu: %s", bad,
                            ilheap_last_message());
    }
    if (!insert_probes(t, probes, msg, msg_size))
        return false;
    ilheap_status_t st = ilheap_rw_encode_to_heap(t->rw, heap, out, size);
    if (st != ILHEAP_OK)
        return tool_why(msg, msg_size, "encoding into the heap: %s", ilheap_last_message());
    return true;
}

bool tool_instr_check(tool_instr_t *t, const ilheap_il_body_t *orig, const uint8_t *orig_bytes, const void *out,
                      size_t size, char *msg, size_t msg_size)
{
    /* Unedited, the encoder writes the body as it was read (junk padding
     * aside, which it writes as zeros). */
    if (t->mode == TOOL_INSTR_NONE && !(orig->quirks & ILHEAP_IL_QUIRK_PADDING_NONZERO) &&
        (size != orig->body_size || memcmp(out, orig_bytes, size) != 0))
        return tool_why(msg, msg_size, "unedited, the new body is not byte-identical to the original (%zu vs %zu bytes)",
                   size, orig->body_size);
    return tool_edges_check(&t->edges, t->rw, orig, out, size, msg, msg_size);
}
