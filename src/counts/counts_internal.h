/* The counts files' insides, shared by the writer, the readers and the
 * export: the layout of include/ilheap/counts.h as constants, the key's
 * 8-byte form, and the reader's index (what either form reads into). */
#ifndef ILHEAP_COUNTS_INTERNAL_H
#define ILHEAP_COUNTS_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ilheap/counts.h"
#include "os/os.h"

/* ------------------------------------------------------------------ layout */
#define CF_MAGIC "ILHEAPCT"
#define CF_HEADER_SIZE 256u
enum {
    CF_VERSION = 8,
    CF_HEADER = 12,
    CF_FILE_ID = 16,
    CF_PID = 24,
    CF_START = 32,
    CF_BOOT = 40,
    CF_CREATED = 56,
    CF_STATE = 64,
    CF_FLAGS = 68,
    CF_END = 72,
    CF_LOST = 80,
    CF_REPLACED = 88,
    CF_SNAPSHOT = 96,
};
enum { CF_RUNNING = 1, CF_EXITED = 2 };

/* Records: u16 kind, u16 flags, u32 size, then the body. */
enum { CF_MODULE = 1, CF_METHOD = 2, CF_SLAB = 3, CF_PAD = 4, CF_TIMING = 5 };
enum { CF_WITHDRAWN = 1 };
#define CF_RECORD_HEAD 8u
#define CF_MODULE_FIXED 40u /* head, mvid, has mvid, path and name lengths, 0 */
#define CF_METHOD_FIXED 40u /* head, module, counters, token, n, name length, 0 */
#define CF_TIMING_FIXED 40u /* head, module, counters, token, name length, ticks per second */
#define CF_TICKS_PER_SECOND_MAX 1000000000000ull

/* The 8-byte form of a probe key. */
static inline uint64_t cf_key_pack(ilheap_probe_key_t k)
{
    return (uint64_t)k.il_offset | (uint64_t)(k.outcome & ILHEAP_PROBE_OUTCOME_MAX) << 32 | (uint64_t)k.kind << 56;
}

static inline ilheap_probe_key_t cf_key_unpack(uint64_t v)
{
    ilheap_probe_key_t k;
    k.il_offset = (uint32_t)v;
    k.outcome = (uint32_t)(v >> 32) & ILHEAP_PROBE_OUTCOME_MAX;
    k.kind = (uint8_t)(v >> 56);
    return k;
}

/* Little-endian loads and stores (the file's byte order). */
static inline uint32_t cf_le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline uint64_t cf_le64(const uint8_t *p)
{
    return (uint64_t)cf_le32(p) | (uint64_t)cf_le32(p + 4) << 32;
}

static inline void cf_put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static inline void cf_put64(uint8_t *p, uint64_t v)
{
    cf_put32(p, (uint32_t)v);
    cf_put32(p + 4, (uint32_t)(v >> 32));
}

/* An 8-byte aligned u64 another process may be writing (end, lost, the
 * counters): loaded and stored whole. The file is little-endian and so are
 * the systems that write it. */
static inline uint64_t cf_load_acquire(const uint8_t *p)
{
    return __atomic_load_n((const uint64_t *)(const void *)p, __ATOMIC_ACQUIRE);
}

static inline uint64_t cf_load_relaxed(const uint64_t *p)
{
    return __atomic_load_n(p, __ATOMIC_RELAXED);
}

/* ------------------------------------------------------------ the index */
typedef struct cf_module {
    char *path, *name;
    int has_mvid;
    uint8_t mvid[16];
    uint64_t where; /* FILE: the record's offset */
} cf_module_t;

typedef struct cf_method {
    size_t module;
    uint32_t token;
    char *name;
    uint32_t probes;
    uint64_t where;
    size_t first;         /* of its keys in the index's key pool (and values, when frozen) */
    const uint64_t *live; /* FILE, not frozen: its counters in the mapping */
} cf_method_t;

typedef struct cf_timing {
    size_t module;
    uint32_t token;
    char *name;
    uint64_t ticks_per_second;
    uint64_t where;
    const uint64_t *live; /* its three counters in the mapping; NULL: values */
    uint64_t values[3];   /* JSON lines: the three read (ticks in ns) */
} cf_timing_t;

typedef struct cf_problem {
    uint64_t line;
    char *text;
} cf_problem_t;

struct ilheap_counts {
    ilheap_counts_info_t info;
    ilheap_os_process_t writer; /* FILE: pid, start, boot */
    int exited;                 /* FILE: the completion mark */
    /* FILE: the bytes (a read-only mapping, or an aligned copy). */
    const uint8_t *data;
    size_t size;
    void *map;
    size_t map_size;
    uint8_t *copy;
    /* the index */
    cf_module_t *modules;
    size_t nmodules, modules_cap;
    cf_method_t *methods;
    size_t nmethods, methods_cap;
    uint64_t *keys; /* packed */
    size_t nkeys, keys_cap;
    uint64_t *values; /* frozen counters (JSONL, or after ilheap_counts_since); one per key */
    cf_timing_t *timings; /* FILE: timed methods (timing.c) */
    size_t ntimings, timings_cap;
    cf_problem_t *problems;
    size_t nproblems, problems_cap;
};

/* index.c: growing the index. */
ilheap_status_t cf_index_module(ilheap_counts_t *c, const char *path, size_t path_len, const char *name,
                                size_t name_len, const uint8_t *mvid, uint64_t where, size_t *index);
/* Adds a method with room for n keys (and values when frozen), zeroed. */
ilheap_status_t cf_index_method(ilheap_counts_t *c, size_t module, uint32_t token, const char *name,
                                size_t name_len, size_t n, uint64_t where, cf_method_t **out);
ilheap_status_t cf_index_problem(ilheap_counts_t *c, uint64_t line, const char *text);
/* timing.c: a timed method whose counters are live in the mapping. */
ilheap_status_t cf_index_timing(ilheap_counts_t *c, size_t module, uint32_t token, const char *name, size_t name_len,
                                uint64_t ticks_per_second, uint64_t where, const uint64_t *live);
/* A timed method read from JSON lines: calls, exceptional exits, inclusive ns. */
ilheap_status_t cf_index_timing_values(ilheap_counts_t *c, size_t module, uint32_t token, const char *name,
                                       uint64_t where, const uint64_t values[3]);
void cf_timings_free(ilheap_counts_t *c);
/* Grows *p to hold n elements of elem bytes (capacity in *cap). */
bool cf_grow(void *p, size_t *cap, size_t n, size_t elem);
void cf_index_free(ilheap_counts_t *c);

/* reader.c / jsonl_read.c: parse bytes into c's index. */
ilheap_status_t cf_read_file(ilheap_counts_t *c, uint64_t *error_offset);
ilheap_status_t cf_read_jsonl(ilheap_counts_t *c, const uint8_t *data, size_t size);
/* open.c: a refused OS call as a status (ILHEAP_ENOFILE when the file or
 * its directory is missing, else ILHEAP_EOS_FILE) and message ("WHAT PATH:
 * the system's text"; path NULL: "the counts file"). */
ilheap_status_t cf_os_fail(int os_error, const char *what, const char *path);
/* When path holds a counts file whose writer is running: *pid (else 0). */
void cf_running_writer(const char *path, uint64_t *pid);
/* 1 when the bytes start as the file format (magic), else 0. */
int cf_is_file(const uint8_t *data, size_t size);

/* text.c: an MVID's text back to its 16 bytes (1), or 0 when it is not
 * lowercase 8-4-4-4-12; JSON string escaping (quote, backslash, control
 * characters) to a sink. */
int cf_mvid_parse(const char *text, uint8_t out[16]);
ilheap_status_t cf_json_string(const char *s, ilheap_counts_sink_fn sink, void *ctx);

#endif
