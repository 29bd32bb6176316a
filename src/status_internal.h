/* Internal helpers for recording failures. */
#ifndef ILHEAP_STATUS_INTERNAL_H
#define ILHEAP_STATUS_INTERNAL_H

#include "ilheap/status.h"

/* Records status and a printf-style detail as the calling thread's last
 * failure, and returns status, so a failing path reads
 *     return ilheap__fail(ILHEAP_ETOOBIG, "%zu bytes, window %#llx", size, w);
 * detail_format may be NULL. */
#if defined(__MINGW32__)
/* mingw-w64 formats with its own C99 printf (__USE_MINGW_ANSI_STDIO, on in
 * C11 mode), not msvcrt's, so %zu and %llu are checked as GNU formats. */
__attribute__((format(gnu_printf, 2, 3)))
#elif defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
ilheap_status_t
ilheap__fail(ilheap_status_t status, const char *detail_format, ...);

#endif
