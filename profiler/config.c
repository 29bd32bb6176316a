/* The profiler's settings, all from the environment:
 *
 *   ILHEAP_MODE=rehome | prologue:N | calls | blocks | timing | off   (default rehome)
 *   ILHEAP_COUNTS=path                         (calls, blocks, timing; default ilheap-counts.%p.counts)
 *   ILHEAP_ATOMIC=1                            (calls, blocks, timing: Interlocked counts)
 *   ILHEAP_EDGES=0 | 1                         (blocks: edge probes, default 1)
 *   ILHEAP_INLINE=0 | 1                        (calls, blocks: inline instrumented callees, default 1)
 *   ILHEAP_FALLBACK=clr | none                 (a full window; default clr in calls, blocks, timing)
 *   ILHEAP_INCLUDE=pattern,... ILHEAP_EXCLUDE=pattern,...  (assembly names, `*`; every mode)
 *   ILHEAP_REPLACE=Namespace.Type::Method=VALUE
 *   ILHEAP_ALLOCATOR=ilheap | clr              (default ilheap)
 *   ILHEAP_DISABLE_R2R=1                       (event mask 0x80000000)
 *   ILHEAP_REJIT=1                             (rewrite through ReJIT, ReadyToRun kept)
 *   ILHEAP_WINDOW=bytes                        (heaps and check, default 0xFFFFFFFF)
 *   ILHEAP_REPORT=path                         (default: stderr)
 *   ILHEAP_MODULE_LOG=path                     (one line per module load)
 *
 * In output paths "%p" becomes the process id, so that each process of a
 * multi-process host (dotnet build: MSBuild, the compiler) writes its own.
 */
#include "profiler.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ilheap/heap.h"
#include "os.h"
#include "support.h"

SUPPORT_PRINTF_LIKE(2, 3)
static int config_fail(prof_config_t *cfg, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cfg->error, sizeof cfg->error, fmt, ap);
    va_end(ap);
    cfg->mode = PROF_MODE_OFF;
    cfg->has_replace = 0;
    cfg->rejit = 0;
    return -1;
}

/* Parses all of s as an unsigned number (decimal or 0x hex) up to max. */
static int parse_u64(const char *s, uint64_t max, uint64_t *out)
{
    if (!s || !*s || *s == '-' || *s == '+')
        return -1;
    errno = 0;
    char *end = NULL;
    unsigned long long v = strtoull(s, &end, 0);
    if (errno || !end || *end || v > max)
        return -1;
    *out = v;
    return 0;
}

static int parse_i32(const char *s, int32_t *out)
{
    if (!s || !*s)
        return -1;
    errno = 0;
    char *end = NULL;
    long long v = strtoll(s, &end, 0);
    if (errno || !end || *end || v < INT32_MIN || v > INT32_MAX)
        return -1;
    *out = (int32_t)v;
    return 0;
}

/* A 0/1 setting: *out unchanged when the variable is unset or empty. */
static int parse_switch(prof_config_t *cfg, const char *name, int *out)
{
    const char *v = prof_os_getenv(name);
    if (!v || !*v)
        return 0;
    if (strcmp(v, "0") != 0 && strcmp(v, "1") != 0)
        return config_fail(cfg, "%s must be 0 or 1, got '%s'", name, v);
    *out = v[0] == '1';
    return 0;
}

/* Copies src into dst, "%p" expanded to the process id; -1 if too long. */
int prof_expand_path(char *dst, size_t cap, const char *src)
{
    char pid[24];
    snprintf(pid, sizeof pid, "%lu", prof_os_pid());
    size_t o = 0;
    for (const char *s = src; *s; s++) {
        const char *piece = s;
        size_t n = 1;
        if (s[0] == '%' && s[1] == 'p') {
            piece = pid;
            n = strlen(pid);
            s++;
        }
        if (n >= cap - o)
            return -1;
        memcpy(dst + o, piece, n);
        o += n;
    }
    if (o >= cap)
        return -1;
    dst[o] = '\0';
    return 0;
}

void prof_diag(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (prof_g.config.report_path[0]) {
        /* An output path is set: the host's stderr is not ours (MSBuild turns
         * a tool's stderr into build errors). The report carries it. */
        size_t used = strlen(prof_g.notes);
        if (used + 1 < sizeof prof_g.notes) {
            vsnprintf(prof_g.notes + used, sizeof prof_g.notes - used, fmt, ap);
            used = strlen(prof_g.notes);
            if (used + 1 < sizeof prof_g.notes) {
                prof_g.notes[used] = '\n';
                prof_g.notes[used + 1] = '\0';
            }
        }
    } else {
        fputs("ilheap-profiler: ", stderr);
        vfprintf(stderr, fmt, ap);
        fputc('\n', stderr);
    }
    va_end(ap);
}

int prof_config_in_scope(const prof_config_t *cfg, const char *name)
{
    int in = cfg->include.n == 0;
    for (unsigned i = 0; !in && i < cfg->include.n; i++)
        in = support_name_match(cfg->include.p[i], strlen(cfg->include.p[i]), name);
    for (unsigned i = 0; in && i < cfg->exclude.n; i++)
        in = !support_name_match(cfg->exclude.p[i], strlen(cfg->exclude.p[i]), name);
    return in;
}

/* "A,B*,*C": each pattern 1..127 characters of an assembly name or `*`. */
static int parse_patterns(prof_config_t *cfg, const char *var, const char *v, prof_patterns_t *out)
{
    out->n = 0;
    for (const char *p = v;;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        if (len == 0)
            return config_fail(cfg, "%s: empty pattern in '%s'", var, v);
        if (len >= PROF_PATTERN_LEN)
            return config_fail(cfg, "%s: pattern longer than %d characters in '%s'", var,
                               PROF_PATTERN_LEN - 1, v);
        if (out->n == PROF_PATTERNS_MAX)
            return config_fail(cfg, "%s: more than %d patterns", var, PROF_PATTERNS_MAX);
        for (size_t i = 0; i < len; i++) {
            unsigned char c = (unsigned char)p[i];
            if (c <= ' ' || strchr("/\\?[]{}\"'", c))
                return config_fail(cfg, "%s: '%.*s' is not an assembly-name pattern (names and `*` "
                                   "only)", var, (int)len, p);
        }
        memcpy(out->p[out->n], p, len);
        out->p[out->n][len] = '\0';
        out->n++;
        if (!comma)
            return 0;
        p = comma + 1;
    }
}

/* "Ns.Type::Method=VALUE": the last '=' splits the value, the first "::"
 * splits type and method. */
static int parse_replace(prof_config_t *cfg, const char *s)
{
    const char *eq = strrchr(s, '=');
    const char *sep = strstr(s, "::");
    if (!eq || !sep || sep > eq)
        return config_fail(cfg, "ILHEAP_REPLACE must be Namespace.Type::Method=VALUE, got '%s'", s);
    size_t type_len = (size_t)(sep - s);
    size_t method_len = (size_t)(eq - (sep + 2));
    if (type_len == 0 || method_len == 0 || type_len >= PROF_NAME_MAX ||
        method_len >= PROF_NAME_MAX)
        return config_fail(cfg, "ILHEAP_REPLACE: empty or too long type or method in '%s'", s);
    if (parse_i32(eq + 1, &cfg->replace_value) != 0)
        return config_fail(cfg, "ILHEAP_REPLACE: VALUE '%s' is not an int32", eq + 1);
    memcpy(cfg->replace_type, s, type_len);
    cfg->replace_type[type_len] = '\0';
    memcpy(cfg->replace_method, sep + 2, method_len);
    cfg->replace_method[method_len] = '\0';
    cfg->has_replace = 1;
    return 0;
}

/* The counting modes' settings: ILHEAP_ATOMIC, ILHEAP_INLINE, ILHEAP_FALLBACK (after the
 * mode: its default follows it), the scope, ILHEAP_COUNTS. 0, or -1. */
static int load_counting(prof_config_t *cfg)
{
    const char *v;
    if ((v = prof_os_getenv("ILHEAP_ATOMIC")) && *v) {
        if (strcmp(v, "1") == 0)
            cfg->atomic = 1;
        else if (strcmp(v, "0") != 0)
            return config_fail(cfg, "ILHEAP_ATOMIC must be 0 or 1, got '%s'", v);
    }
    cfg->inline_instrumented = 1;
    if ((v = prof_os_getenv("ILHEAP_INLINE")) && *v) {
        if (strcmp(v, "0") == 0)
            cfg->inline_instrumented = 0;
        else if (strcmp(v, "1") != 0)
            return config_fail(cfg, "ILHEAP_INLINE must be 0 or 1, got '%s'", v);
    }
    cfg->edges = cfg->mode == PROF_MODE_BLOCKS;
    if ((v = prof_os_getenv("ILHEAP_EDGES")) && *v) {
        if (strcmp(v, "0") == 0)
            cfg->edges = 0;
        else if (strcmp(v, "1") != 0)
            return config_fail(cfg, "ILHEAP_EDGES must be 0 or 1, got '%s'", v);
    }
    /* Counting is for users: a full window must not lose counts. The other
     * modes exist to prove placement, so they never fall back by default. */
    cfg->fallback = prof_mode_counts(cfg->mode);
    if ((v = prof_os_getenv("ILHEAP_FALLBACK")) && *v) {
        if (strcmp(v, "clr") == 0)
            cfg->fallback = 1;
        else if (strcmp(v, "none") == 0)
            cfg->fallback = 0;
        else
            return config_fail(cfg, "ILHEAP_FALLBACK must be clr or none, got '%s'", v);
    }
    if ((v = prof_os_getenv("ILHEAP_INCLUDE")) && *v &&
        parse_patterns(cfg, "ILHEAP_INCLUDE", v, &cfg->include) != 0)
        return -1;
    if ((v = prof_os_getenv("ILHEAP_EXCLUDE")) && *v &&
        parse_patterns(cfg, "ILHEAP_EXCLUDE", v, &cfg->exclude) != 0)
        return -1;
    v = prof_os_getenv("ILHEAP_COUNTS");
    if (!v || !*v)
        v = "ilheap-counts.%p.counts";
    if (prof_expand_path(cfg->counts_path, sizeof cfg->counts_path, v))
        return config_fail(cfg, "ILHEAP_COUNTS path too long");
    cfg->counts_shared = strstr(v, "%p") == NULL;
    return 0;
}

int prof_config_load(prof_config_t *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->mode = PROF_MODE_REHOME;
    cfg->allocator = PROF_ALLOC_ILHEAP;
    cfg->window = ILHEAP_DEFAULT_WINDOW;

    const char *v;
    if ((v = prof_os_getenv("ILHEAP_REPORT")) && *v &&
        prof_expand_path(cfg->report_path, sizeof cfg->report_path, v))
        return config_fail(cfg, "ILHEAP_REPORT path too long");
    if ((v = prof_os_getenv("ILHEAP_MODULE_LOG")) && *v &&
        prof_expand_path(cfg->module_log_path, sizeof cfg->module_log_path, v))
        return config_fail(cfg, "ILHEAP_MODULE_LOG path too long");

    if ((v = prof_os_getenv("ILHEAP_MODE")) && *v) {
        uint64_t n = 0;
        if (strcmp(v, "rehome") == 0) {
            cfg->mode = PROF_MODE_REHOME;
        } else if (strcmp(v, "off") == 0) {
            cfg->mode = PROF_MODE_OFF;
        } else if (strcmp(v, "calls") == 0) {
            cfg->mode = PROF_MODE_CALLS;
        } else if (strcmp(v, "blocks") == 0) {
            cfg->mode = PROF_MODE_BLOCKS;
        } else if (strcmp(v, "timing") == 0) {
            cfg->mode = PROF_MODE_TIMING;
        } else if (strncmp(v, "prologue:", 9) == 0 && parse_u64(v + 9, PROF_MAX_PROLOGUE, &n) == 0 &&
                   n > 0) {
            cfg->mode = PROF_MODE_PROLOGUE;
            cfg->prologue_nops = (unsigned)n;
        } else {
            return config_fail(cfg, "ILHEAP_MODE must be rehome, calls, blocks, timing, off or prologue:N "
                               "(1..%u), got '%s'", PROF_MAX_PROLOGUE, v);
        }
    }
    if ((v = prof_os_getenv("ILHEAP_ALLOCATOR")) && *v) {
        if (strcmp(v, "ilheap") == 0)
            cfg->allocator = PROF_ALLOC_ILHEAP;
        else if (strcmp(v, "clr") == 0)
            cfg->allocator = PROF_ALLOC_CLR;
        else
            return config_fail(cfg, "ILHEAP_ALLOCATOR must be ilheap or clr, got '%s'", v);
    }
    if (parse_switch(cfg, "ILHEAP_DISABLE_R2R", &cfg->disable_r2r) != 0)
        return -1;
    if (parse_switch(cfg, "ILHEAP_REJIT", &cfg->rejit) != 0)
        return -1;
    cfg->rejit = cfg->rejit && cfg->mode != PROF_MODE_OFF; /* off rewrites nothing */
    if ((v = prof_os_getenv("ILHEAP_WINDOW")) && *v) {
        uint64_t w = 0;
        if (parse_u64(v, ILHEAP_MAX_WINDOW, &w) != 0 || w == 0)
            return config_fail(cfg, "ILHEAP_WINDOW must be 1..0xFFFFFFFF, got '%s'", v);
        cfg->window = w;
    }
    if (load_counting(cfg) != 0)
        return -1;
    if ((v = prof_os_getenv("ILHEAP_REPLACE")) && *v && parse_replace(cfg, v) != 0)
        return -1;
    return 0;
}
