/* The counts' text forms: an MVID read back from its text (the text itself is
 * ilheap__guid_text's), and JSON string escaping. */
#include "counts/counts_internal.h"
#include "pe/cursor.h" /* ilheap__guid_text: the one GUID text */

#include <stdio.h>
#include <string.h>

int cf_mvid_parse(const char *text, uint8_t out[16])
{
    if (strlen(text) != 36)
        return 0;
    size_t t = 0;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10) {
            if (text[t++] != '-')
                return 0;
        }
        int v = 0;
        for (int h = 0; h < 2; h++) {
            char c = text[t++];
            int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
            if (d < 0)
                return 0;
            v = v << 4 | d;
        }
        out[ilheap__guid_text_order[i]] = (uint8_t)v;
    }
    return 1;
}

ilheap_status_t cf_json_string(const char *s, ilheap_counts_sink_fn sink, void *ctx)
{
    /* Runs of plain bytes go out whole; quote, backslash and control
     * characters escaped; UTF-8 passes through. */
    const char *run = s;
    for (;; s++) {
        unsigned char c = (unsigned char)*s;
        if (c != 0 && c != '"' && c != '\\' && c >= 0x20)
            continue;
        if (s > run && sink(ctx, run, (size_t)(s - run)) != 0)
            return ILHEAP_EIO;
        if (c == 0)
            return ILHEAP_OK;
        char esc[8];
        int n = c == '"' || c == '\\' ? snprintf(esc, sizeof esc, "\\%c", c) : snprintf(esc, sizeof esc, "\\u%04x", c);
        if (sink(ctx, esc, (size_t)n) != 0)
            return ILHEAP_EIO;
        run = s + 1;
    }
}
