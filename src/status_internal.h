/* Internal helpers for recording failures. */
#ifndef ILHEAP_STATUS_INTERNAL_H
#define ILHEAP_STATUS_INTERNAL_H

#include "ilheap/status.h"

/* Marks a printf-style function (format string at position fmt, arguments
 * from args) so the compiler checks its callers. mingw-w64 formats with its
 * own C99 printf (__USE_MINGW_ANSI_STDIO, on in C11 mode), not msvcrt's, so
 * there %zu and %llu are checked as GNU formats. */
#if defined(__MINGW32__)
#define ILHEAP_PRINTF_LIKE(fmt, args) __attribute__((format(gnu_printf, fmt, args)))
#elif defined(__GNUC__)
#define ILHEAP_PRINTF_LIKE(fmt, args) __attribute__((format(printf, fmt, args)))
#else
#define ILHEAP_PRINTF_LIKE(fmt, args)
#endif

/* Records status and a printf-style detail as the calling thread's last
 * failure, and returns status, so a failing path reads
 *     return ilheap__fail(ILHEAP_ETOOBIG, "%zu bytes, window %#llx", size, w);
 * detail_format may be NULL. */
ILHEAP_PRINTF_LIKE(2, 3)
ilheap_status_t ilheap__fail(ilheap_status_t status, const char *detail_format, ...);

#endif
