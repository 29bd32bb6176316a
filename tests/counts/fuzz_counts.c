/* libFuzzer target for the counts reader (include/ilheap/counts.h): any
 * bytes, either form. When they read, every accessor on every method and
 * the JSON-lines export; when they do not, a counts-range status with an
 * offset inside the bytes and a message. Anything else aborts. */
#include "ilheap/counts.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int sink(void *ctx, const char *text, size_t n)
{
    size_t *total = ctx;
    if (memchr(text, 0, n) != NULL)
        abort(); /* the export never writes a NUL */
    *total += n;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ilheap_counts_t *c = NULL;
    uint64_t off = 0;
    ilheap_status_t st = ilheap_counts_read_memory(data, size, &c, &off);
    if (st != ILHEAP_OK) {
        if (c != NULL || off > size || ilheap_last_message()[0] == 0 ||
            ((st < ILHEAP_COUNTS_NOT_COUNTS || st > ILHEAP_COUNTS_MISMATCH) && st != ILHEAP_ENOMEM))
            abort();
        return 0;
    }
    ilheap_counts_info_t info;
    ilheap_counts_info(c, &info);
    uint64_t sum = 0;
    for (size_t i = 0; i < info.methods; i++) {
        ilheap_counts_method_t m;
        ilheap_counts_module_t mod;
        if (ilheap_counts_method(c, i, &m) != ILHEAP_OK || ilheap_counts_module(c, m.module, &mod) != ILHEAP_OK ||
            strlen(m.name) > size || strlen(mod.path) > size)
            abort();
        for (size_t p = 0; p < m.probes; p++)
            sum += ilheap_counts_hits(c, i, p) + ilheap_counts_key(c, i, p).il_offset;
    }
    for (size_t i = 0; i < ilheap_counts_problem_count(c); i++)
        if (ilheap_counts_problem(c, i, NULL) == NULL)
            abort();
    size_t total = 0;
    if (ilheap_counts_write_jsonl(c, sink, &total) != ILHEAP_OK)
        abort();
    ilheap_counts_close(c);
    return sum == 1 ? 0 : 0; /* the loads are used */
}
