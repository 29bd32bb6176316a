/* The library's internal interface for the project's own benchmarks and
 * tests: what they need beyond include/ilheap and must not get by reading
 * the heap's internals themselves. Not installed, not exported from the
 * shared library (link libilheap.a). */
#ifndef ILHEAP_INTERNAL_API_H
#define ILHEAP_INTERNAL_API_H

#include <stddef.h>

#include "ilheap/heap.h"

/* Puts an empty heap in its "warm" state for total bytes: one chunk that
 * holds them, committed and populated to its end, so that a timed run meets
 * only resident pages (ilheap never reuses memory, so a second pass over the
 * same heap would still meet fresh pages). Returns ILHEAP_OK, or the status
 * of the failed reserve/commit (ILHEAP_ENOSPACE when the chunk is smaller
 * than total). */
ilheap_status_t ilheap__heap_prepopulate(ilheap_heap_t *heap, size_t total);

#endif
