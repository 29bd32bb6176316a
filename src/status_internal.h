/* Internal helpers for recording failures. */
#ifndef ILHEAP_STATUS_INTERNAL_H
#define ILHEAP_STATUS_INTERNAL_H

#include "ilheap/status.h"

/* Records status and a printf-style detail as the calling thread's last
 * failure, and returns status, so a failing path reads
 *     return ilheap__fail(ILHEAP_ETOOBIG, "%zu bytes, window %#llx", size, w);
 * detail_format may be NULL. */
#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
ilheap_status_t
ilheap__fail(ilheap_status_t status, const char *detail_format, ...);

#endif
