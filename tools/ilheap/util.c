/* Small shared pieces of the subcommands: decoding with any number of
 * clauses, buffered output and the JSON line format, the progress bar. */
#include "tool.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

ilheap_status_t tool_decode_grow(const uint8_t *p, size_t avail, ilheap_il_body_t *body, tool_clauses_t *c)
{
    /* The body is well-formed and says how many clauses it has (at most
     * 8 sections x 699,050): make room and decode again. */
    ilheap_il_clause_t *grown = realloc(c->grown, body->clause_count * sizeof *grown);
    if (grown == NULL)
        return ILHEAP_ENOMEM;
    c->grown = grown;
    c->grown_cap = body->clause_count;
    return ilheap_il_decode(p, avail, body, grown, c->grown_cap);
}

void tool_clauses_free(tool_clauses_t *c)
{
    free(c->grown);
    c->grown = NULL;
    c->grown_cap = 0;
}

void tool_out_init(tool_out_t *out, FILE *file)
{
    out->file = file;
    out->length = 0;
    out->failed = false;
}

bool tool_out_flush(tool_out_t *out)
{
    if (out->length != 0 && !out->failed && fwrite(out->buffer, 1, out->length, out->file) != out->length)
        out->failed = true;
    out->length = 0;
    if (!out->failed && fflush(out->file) != 0)
        out->failed = true;
    return !out->failed;
}

/* Room for n more bytes (n is small: one field). */
static char *reserve(tool_out_t *out, size_t n)
{
    if (n > sizeof out->buffer - out->length) {
        if (!out->failed && fwrite(out->buffer, 1, out->length, out->file) != out->length)
            out->failed = true;
        out->length = 0;
    }
    return out->buffer + out->length;
}

void tool_out_str(tool_out_t *out, const char *s)
{
    size_t n = strlen(s);
    while (n > 0) {
        size_t chunk = n < 256 ? n : 256;
        memcpy(reserve(out, chunk), s, chunk);
        out->length += chunk;
        s += chunk;
        n -= chunk;
    }
}

void tool_out_u64(tool_out_t *out, uint64_t v)
{
    char digits[20];
    size_t n = 0;
    do {
        digits[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v != 0);
    char *p = reserve(out, n);
    for (size_t i = 0; i < n; i++)
        p[i] = digits[n - 1 - i];
    out->length += n;
}

void tool_out_printf(tool_out_t *out, const char *format, ...)
{
    char line[1024];
    va_list args;
    va_start(args, format);
    vsnprintf(line, sizeof line, format, args);
    va_end(args);
    tool_out_str(out, line);
}

static void field(tool_out_t *out, const char *key_with_punctuation, uint64_t v)
{
    tool_out_str(out, key_with_punctuation);
    tool_out_u64(out, v);
}

void tool_json_body(tool_out_t *out, uint32_t token, uint32_t rva, const ilheap_il_body_t *b, bool with_new_rva,
                    uint32_t new_rva, int64_t blocks)
{
    /* Keys and their order are docs/cli.md's; SrmDump prints the same. */
    field(out, "{\"token\":", token);
    field(out, ",\"rva\":", rva);
    tool_out_str(out, b->header == ILHEAP_IL_TINY ? ",\"header\":\"tiny\"" : ",\"header\":\"fat\"");
    field(out, ",\"max_stack\":", b->max_stack);
    field(out, ",\"code_size\":", b->code_size);
    field(out, ",\"local_sig\":", b->local_sig);
    tool_out_str(out, b->init_locals ? ",\"init_locals\":true,\"eh\":[" : ",\"init_locals\":false,\"eh\":[");
    for (uint32_t i = 0; i < b->clause_count; i++) {
        const ilheap_il_clause_t *c = &b->clauses[i];
        tool_out_str(out, i == 0 ? "{\"kind\":\"" : ",{\"kind\":\"");
        tool_out_str(out, ilheap_il_clause_kind_name(c->kind)); /* decode accepts the four kinds only */
        field(out, "\",\"try_offset\":", c->try_offset);
        field(out, ",\"try_length\":", c->try_length);
        field(out, ",\"handler_offset\":", c->handler_offset);
        field(out, ",\"handler_length\":", c->handler_length);
        if (c->kind == ILHEAP_IL_CATCH)
            field(out, ",\"class_token\":", c->filter_or_class);
        else if (c->kind == ILHEAP_IL_FILTER)
            field(out, ",\"filter_offset\":", c->filter_or_class);
        tool_out_str(out, "}");
    }
    field(out, "],\"body_size\":", b->body_size);
    if (with_new_rva)
        field(out, ",\"new_rva\":", new_rva);
    if (blocks >= 0)
        field(out, ",\"blocks\":", (uint64_t)blocks);
    tool_out_str(out, "}\n");
}

/* A run that ends within this time shows no bar at all. */
#define PROGRESS_DELAY_NS 300000000u

void tool_progress_start(tool_progress_t *p, const char *label, uint64_t total)
{
    p->on = total != 0 && isatty(STDERR_FILENO);
    p->shown = false;
    p->label = label;
    p->total = total;
    p->next = 0;
    p->start_ns = tool_now_ns();
}

void tool_progress_update(tool_progress_t *p, uint64_t done)
{
    if (!p->on || done < p->next)
        return;
    p->next = done + p->total / 100 + 1; /* look at the clock about 100 times in all */
    if (!p->shown && tool_now_ns() - p->start_ns < PROGRESS_DELAY_NS)
        return;
    p->shown = true;
    unsigned width = 40, filled = (unsigned)(done * width / p->total);
    char bar[41];
    for (unsigned i = 0; i < width; i++)
        bar[i] = i < filled ? '#' : '.';
    bar[width] = '\0';
    fprintf(stderr, "\r%s [%s] %llu/%llu", p->label, bar, (unsigned long long)done, (unsigned long long)p->total);
    fflush(stderr);
}

void tool_progress_clear(tool_progress_t *p)
{
    if (p != NULL && p->shown) {
        fprintf(stderr, "\r\033[K");
        p->shown = false;
        p->next = 0;
    }
}

bool tool_next_body(ilheap_pe_body_cursor_t *cursor, ilheap_pe_il_body_t *m, tool_progress_t *progress,
                    const char *path, uint64_t *malformed)
{
    ilheap_pe_error_t err;
    int more;
    while ((more = ilheap_pe_next_body(cursor, m, &err)) < 0) {
        tool_progress_clear(progress);
        fprintf(stderr, "ilheap %s: %s: method 0x%08x: %s\n", progress->label, path, m->token, err.message);
        (*malformed)++;
    }
    return more != 0;
}

bool tool_out_of_room(ilheap_status_t status)
{
    switch (status) {
    case ILHEAP_ENOMEM:
    case ILHEAP_ETOOBIG:
    case ILHEAP_ENOSPACE:
    case ILHEAP_ERACE:
    case ILHEAP_EOS_RESERVE:
    case ILHEAP_EOS_COMMIT:
    case ILHEAP_EOS_MAPS:
        return true;
    default:
        return false;
    }
}

void tool_progress_end(tool_progress_t *p)
{
    if (p->shown)
        fprintf(stderr, "\r\033[K"); /* erase the bar's line */
    p->on = p->shown = false;
}

uint64_t tool_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

bool tool_parse_u32(const char *s, uint32_t max, uint32_t *out)
{
    if (s == NULL || s[0] < '0' || s[0] > '9')
        return false;
    char *end;
    unsigned long long v = strtoull(s, &end, 0);
    if (*end != '\0' || v > max)
        return false;
    *out = (uint32_t)v;
    return true;
}
bool tool_why(char *buf, size_t size, const char *format, ...)
{
    va_list args;
    va_start(args, format);
    vsnprintf(buf, size, format, args);
    va_end(args);
    return false;
}

/* Grows *array (of elem bytes) to hold n; false when out of memory. */
bool tool_reserve(void **array, size_t *cap, size_t n, size_t elem)
{
    if (n <= *cap)
        return true;
    size_t want = *cap ? *cap : 256;
    while (want < n)
        want *= 2;
    void *grown = realloc(*array, want * elem);
    if (grown == NULL)
        return false;
    *array = grown;
    *cap = want;
    return true;
}


const char *tool_base_name(const char *path)
{
    const char *base = strrchr(path, '/');
#ifdef _WIN32
    const char *b = strrchr(path, '\\');
    if (b != NULL && (base == NULL || b > base))
        base = b;
#endif
    return base != NULL ? base + 1 : path;
}
