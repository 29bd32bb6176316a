/* libFuzzer target for the IL rewriter: decode, edit, encode.
 * Input: byte 0 = k (its low 4 bits: edits), then k pairs (position, kind),
 * then a method body. On every body that loads into instructions:
 *  - encoding it unedited gives its bytes (unless the padding held junk);
 *  - each edit inserts a counter or flag probe (kind: the probe, 32- or
 *    64-bit address, block start / before / after) at the position'th
 *    instruction (or appends); the rewriter may refuse only for a documented
 *    reason (after a prefix, inside tail. call + ret);
 *  - the edited body encodes (or reports max stack past 65535), and decoded
 *    again it passes the edge check of `ilheap rehome --instrument`
 *    (tools/ilheap/edge_check.c): every original instruction in order, every
 *    branch, switch and EH edge to the same instruction or the code inserted
 *    in front of it.
 * A broken property aborts, which libFuzzer reports as a crash. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "edge_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond, ...)                                                                    \
    do {                                                                                    \
        if (!(cond)) {                                                                      \
            fprintf(stderr, "%s:%d: property failed: %s: ", __FILE__, __LINE__, #cond);    \
            fprintf(stderr, __VA_ARGS__);                                                   \
            fprintf(stderr, " (%s)\n", ilheap_last_message());                              \
            abort();                                                                        \
        }                                                                                   \
    } while (0)

static ilheap_rw_t *rw;
static tool_edges_t edges;

/* Encodes rw into a fresh block of exactly its size (ASan sees any write past
 * it); NULL with *st set when encode refused. */
static uint8_t *encode(size_t *n, ilheap_status_t *st)
{
    *st = ilheap_rw_encode(rw, NULL, 0, n);
    if (*st != ILHEAP_OK)
        return NULL;
    uint8_t *out = malloc(*n ? *n : 1);
    CHECK(out != NULL, "out of memory");
    size_t again = 0;
    *st = ilheap_rw_encode(rw, out, *n, &again);
    CHECK(*st == ILHEAP_OK && again == *n, "sizing said %zu bytes, writing gave status %d, %zu", *n, (int)*st, again);
    return out;
}

/* The position'th instruction (modulo the count), or the end. */
static ilheap_rw_id_t nth(uint8_t position)
{
    size_t count = ilheap_rw_count(rw);
    if (count == 0)
        return ILHEAP_RW_END;
    size_t i = position % (count + 1);
    ilheap_rw_id_t id = ilheap_rw_first(rw);
    while (i-- > 0 && id != ILHEAP_RW_END)
        id = ilheap_rw_next(rw, id);
    return id;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (rw == NULL && (ilheap_rw_create(&rw) != ILHEAP_OK || tool_edges_init(&edges) != 0))
        abort();
    if (size < 1)
        return 0;
    size_t k = data[0] & 15;
    if (size < 1 + 2 * k)
        return 0;
    const uint8_t *ops = data + 1;
    size_t n = size - 1 - 2 * k;
    uint8_t *body = malloc(n ? n : 1); /* exactly the body: ASan sees reads past it */
    CHECK(body != NULL, "out of memory");
    memcpy(body, ops + 2 * k, n);
    tool_clauses_t clauses = {0};
    ilheap_il_body_t b;
    char msg[512];
    if (tool_decode(body, n, &b, &clauses) != ILHEAP_OK || !tool_edges_load(&edges, rw, &b, msg, sizeof msg))
        goto done;

    size_t out_size;
    ilheap_status_t st;
    uint8_t *out = encode(&out_size, &st);
    CHECK(out != NULL, "an unedited body that loaded does not encode: status %d", (int)st);
    CHECK(out_size == b.body_size, "unedited: %zu bytes, the body has %zu", out_size, b.body_size);
    CHECK((b.quirks & ILHEAP_IL_QUIRK_PADDING_NONZERO) || memcmp(out, body, out_size) == 0,
          "unedited: not byte-identical");
    free(out);

    for (size_t i = 0; i < k; i++) {
        uint8_t kind = ops[2 * i + 1];
        ilheap_rw_insn_t probe[ILHEAP_RW_PROBE_MAX];
        uint64_t addr = 0x7F0000001000ull + 4 * i;
        int ptr64 = (kind >> 3) & 1;
        size_t len = (kind >> 2) & 1 ? ilheap_rw_flag_probe(ptr64 ? addr : addr & 0xFFFFFFFu, ptr64, probe)
                                     : ilheap_rw_counter_probe(ptr64 ? addr : addr & 0xFFFFFFFu, ptr64, probe);
        CHECK(len > 0, "no probe for address %#llx", (unsigned long long)addr);
        ilheap_rw_id_t at = nth(ops[2 * i]);
        ilheap_rw_where_t where = at == ILHEAP_RW_END ? ILHEAP_RW_BEFORE : (ilheap_rw_where_t)(kind % 3);
        st = ilheap_rw_insert(rw, at, where, probe, len, NULL);
        CHECK(st == ILHEAP_OK || st == ILHEAP_IL_SPLIT_PREFIX || st == ILHEAP_IL_SPLIT_TAIL_CALL,
              "insert at %u (where %d): status %d", at, (int)where, (int)st);
    }
    out = encode(&out_size, &st);
    if (out == NULL) {
        CHECK(st == ILHEAP_IL_OVERFLOW, "an edited body does not encode: status %d", (int)st);
        goto done;
    }
    CHECK(tool_edges_check(&edges, rw, &b, out, out_size, msg, sizeof msg), "edge check: %s", msg);
    free(out);
done:
    tool_clauses_free(&clauses);
    free(body);
    return 0;
}
