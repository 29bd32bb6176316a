/* Checks the fast body walk (ilheap_pe_bodies_begin / ilheap_pe_next_body)
 * against the row-by-row API: the same methods in the same order, the same
 * RVAs, flags, pointers and byte counts, and failures in the same places.
 * Used by the real-assembly test, the byte-flip test and the fuzzer. */
#ifndef ILHEAP_TESTS_PE_CURSOR_CHECK_H
#define ILHEAP_TESTS_PE_CURSOR_CHECK_H

#include "ilheap/pe.h"

#include <stdio.h>

/* The number of IL methods, or -1 with the first disagreement in why. */
static inline long pe_check_cursor(const ilheap_pe_t *pe, char *why, size_t why_size)
{
    ilheap_pe_body_cursor_t cursor;
    ilheap_pe_il_body_t fast;
    ilheap_pe_error_t err;
    if (ilheap_pe_bodies_begin(pe, &cursor, &err) != ILHEAP_OK) {
        snprintf(why, why_size, "bodies_begin: %s", err.message);
        return -1;
    }
    long count = 0;
    uint32_t rows = ilheap_pe_method_count(pe);
    for (uint32_t rid = 1; rid <= rows; rid++) {
        ilheap_pe_method_t m;
        if (ilheap_pe_method(pe, rid, &m, NULL) != ILHEAP_OK) {
            snprintf(why, why_size, "method %u unreadable", rid);
            return -1;
        }
        if (!ilheap_pe_method_has_il(&m))
            continue;
        const uint8_t *body = NULL;
        size_t available = 0;
        ilheap_status_t st = ilheap_pe_method_body(pe, &m, &body, &available, NULL);
        int more = ilheap_pe_next_body(&cursor, &fast, &err);
        if (more == 0 || fast.token != m.token || fast.rva != m.rva || fast.impl_flags != m.impl_flags ||
            fast.flags != m.flags || (more > 0) != (st == ILHEAP_OK) ||
            (more > 0 && (fast.data != body || fast.available != available))) {
            snprintf(why, why_size, "method %#x: cursor gave %d token %#x rva %#x avail %zu; API %d rva %#x avail %zu",
                     m.token, more, fast.token, fast.rva, fast.available, (int)st, m.rva, available);
            return -1;
        }
        count++;
    }
    if (ilheap_pe_next_body(&cursor, &fast, &err) != 0 || ilheap_pe_next_body(&cursor, &fast, &err) != 0) {
        snprintf(why, why_size, "cursor goes on past the last IL method (token %#x)", fast.token);
        return -1;
    }
    return count;
}

#endif
