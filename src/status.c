/* The names and messages of ilheap's status codes, and the per-thread record
 * of the last failure (for the calls that can only return NULL). */
#include "status_internal.h"

#include <stdarg.h>
#include <stdio.h>

const char *ilheap_status_name(int status)
{
    switch (status) {
#define ILHEAP_STATUS_NAME(name, value, message) \
    case value:                                  \
        return #name;
        ILHEAP_STATUS_LIST(ILHEAP_STATUS_NAME)
#undef ILHEAP_STATUS_NAME
    }
    return "ILHEAP_UNKNOWN";
}

const char *ilheap_status_message(int status)
{
    switch (status) {
#define ILHEAP_STATUS_MESSAGE(name, value, message) \
    case value:                                     \
        return message;
        ILHEAP_STATUS_LIST(ILHEAP_STATUS_MESSAGE)
#undef ILHEAP_STATUS_MESSAGE
    }
    return "unknown status code";
}

/* Thread-local, so a failure in one thread never clobbers another's message. */
static _Thread_local ilheap_status_t last_status;
static _Thread_local char last_message[256];

ilheap_status_t ilheap_last_status(void)
{
    return last_status;
}

const char *ilheap_last_message(void)
{
    if (last_message[0] == '\0')
        return ilheap_status_message(last_status);
    return last_message;
}

ilheap_status_t ilheap__fail(ilheap_status_t status, const char *detail_format, ...)
{
    last_status = status;
    int n = snprintf(last_message, sizeof last_message, "%s: %s", ilheap_status_name(status),
                     ilheap_status_message(status));
    if (detail_format != NULL && n > 0 && (size_t)n < sizeof last_message - 2) {
        last_message[n++] = ' ';
        last_message[n++] = '(';
        va_list args;
        va_start(args, detail_format);
        int m = vsnprintf(last_message + n, sizeof last_message - (size_t)n, detail_format, args);
        va_end(args);
        if (m > 0 && (size_t)(n + m) < sizeof last_message - 1) {
            last_message[n + m] = ')';
            last_message[n + m + 1] = '\0';
        }
    }
    return status;
}

ilheap_status_t ilheap__vfail_into(char *message, size_t size, ilheap_status_t status, bool with_status,
                                   const char *where, const char *format, va_list args)
{
    char detail[224];
    vsnprintf(detail, sizeof detail, format, args);
    char full[sizeof last_message];
    if (with_status)
        snprintf(full, sizeof full, "%s: %s%s", ilheap_status_message((int)status), detail, where);
    else
        snprintf(full, sizeof full, "%s%s", detail, where);
    if (message != NULL && size > 0)
        snprintf(message, size, "%s", full);
    return ilheap__fail(status, "%s", full);
}
