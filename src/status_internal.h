/* Internal helpers for recording failures. */
#ifndef ILHEAP_STATUS_INTERNAL_H
#define ILHEAP_STATUS_INTERNAL_H

#include "ilheap/status.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

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

/* The one formatter behind the readers' error structs (PE, signature):
 * writes "<status message>: <detail><where>" (with_status false: no status
 * message) into message (size bytes; may be NULL), records the same as the
 * thread's last failure, and returns status. where is a suffix such as
 * " at file offset 0x40" (may be empty). */
ILHEAP_PRINTF_LIKE(6, 0)
ilheap_status_t ilheap__vfail_into(char *message, size_t size, ilheap_status_t status, bool with_status,
                                   const char *where, const char *format, va_list args);

#endif
