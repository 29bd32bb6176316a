/* ilheap counts files: counters that live in a file from the moment a method
 * can run, so that nothing is lost when the process ends in any way, and the
 * counts of a live process can be read at any time. The profiler writes them
 * (ILHEAP_COUNTS), `ilheap counts` and `ilheap cover` read them; this module
 * is the format's one owner: its writer, its reader, and the JSON-lines form
 * (the export, and the profiler's format before this one, still read).
 * docs/coverage.md describes the file for users.
 *
 * THE FILE (version 1). Little-endian; every record 8-byte aligned.
 *
 *   header, 256 bytes at offset 0:
 *     0  magic "ILHEAPCT"             56  created (ns since 1970)
 *     8  u32 version (1)              64  u32 state: 1 running, 2 exited
 *    12  u32 header size (256)        68  u32 flags (ILHEAP_COUNTS_* below)
 *    16  u64 file id (the file's      72  u64 end: records fill [header size, end)
 *        generation: new for each     80  u64 methods lost (no room in the file)
 *        file created)                88  u64 pid of a running process whose
 *    24  u64 pid                          file at this path this one replaced
 *    32  u64 process start (with pid: 96  u64 snapshot time (ns; 0: not one)
 *        one process, never reused)  104  reserved (zero) up to the header size
 *    40  16 bytes boot id
 *
 *   then records, one after the other up to `end`, each beginning
 *     u16 kind, u16 flags, u32 size (the whole record, a multiple of 8):
 *     1 module:  16 bytes MVID (as in #GUID), u32 has MVID, u32 path length,
 *                u32 name length, u32 0, then the path and the file name
 *                (UTF-8, no NUL), zero-padded to 8;
 *     2 method:  u64 its module (the module record's offset), u64 its first
 *                counter's offset, u32 MethodDef token, u32 n (probes),
 *                u32 name length, u32 0, n probe keys of 8 bytes, the name
 *                ("Ns.Type::Method", UTF-8), zero-padded; flag 1 = withdrawn
 *                (its body never reached the runtime: ignore it);
 *     3 slab:    counters (u64 each) up to its end; a method's n counters
 *                lie inside one slab that comes before it;
 *     4 pad:     nothing (fills an extent's end);
 *     5 timing:  u64 its module, u64 its first counter's offset, u32
 *                MethodDef token, u32 name length, u64 ticks per second (the
 *                clock its probes read), then the name, zero-padded; its
 *                three counters (in one slab before it) are the entries, the
 *                exits by an exception, and the ticks from entry to exit,
 *                summed; flag 1 = withdrawn, as for a method.
 *   A probe key: the original IL offset (bits 0..31), the outcome (32..55)
 *   and the kind (56..63) of ilheap_probe_key_t (instrument.h).
 *
 * THE GUARANTEES. The writer appends a record whole, then publishes it with a
 * release store of `end`; a reader loads `end` with acquire and so sees a
 * consistent index (a prefix of the writer's) at any moment. The file grows
 * by extents mapped once and never moved, its blocks allocated before use, so
 * a counter's address stays valid (it is compiled into the probes' IL) and a
 * full disk is an error, never a crash. A method's record is in the file
 * before its probes can run; the counters are the probes' own memory, so at
 * every instant the file holds exactly what ran (with the probes' own
 * threading rule). Nothing needs writing at exit but the state (2).
 */
#ifndef ILHEAP_COUNTS_H
#define ILHEAP_COUNTS_H

#include <stddef.h>
#include <stdint.h>

#include "ilheap/export.h"
#include "ilheap/instrument.h"
#include "ilheap/status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define ILHEAP_COUNTS_FORMAT 1u /* the version this library writes and reads */

/* Header flags. The first three say how the writer counted. */
enum {
    ILHEAP_COUNTS_CALLS = 1u << 0,       /* ILHEAP_MODE=calls */
    ILHEAP_COUNTS_BLOCKS = 1u << 1,      /* ILHEAP_MODE=blocks */
    ILHEAP_COUNTS_ATOMIC = 1u << 2,      /* Interlocked probes */
    ILHEAP_COUNTS_TIMING = 1u << 3,      /* ILHEAP_MODE=timing (timing records) */
    ILHEAP_COUNTS_SHARED_PATH = 1u << 8, /* the path was not unique to the process (no %p) */
    ILHEAP_COUNTS_SNAPSHOT = 1u << 9,    /* a frozen copy (ilheap_counts_snapshot) */
};

/* ------------------------------------------------------------------ writer
 * One per process. Thread-safe. A failing call changes nothing in the file
 * (a half-appended record is never published). */
typedef struct ilheap_counts_writer ilheap_counts_writer_t;

/* Creates the file at path (any file there is replaced in one step: a
 * process that still writes the old one keeps writing it, unnamed; when that
 * process is running, the new header records its pid). flags: the first
 * byte of ILHEAP_COUNTS_* and ILHEAP_COUNTS_SHARED_PATH. Returns ILHEAP_OK,
 * ILHEAP_ENOFILE (the directory does not exist), ILHEAP_EOS_FILE (it is not
 * writable, the disk is full: ilheap_last_message says which),
 * ILHEAP_EINVAL, ILHEAP_ENOMEM. */
ILHEAP_API ilheap_status_t ilheap_counts_create(const char *path, uint32_t flags, ilheap_counts_writer_t **out);

/* Appends a module record (mvid: 16 bytes, or NULL); *module names it for
 * ilheap_counts_add_method. */
ILHEAP_API ilheap_status_t ilheap_counts_add_module(ilheap_counts_writer_t *w, const char *path, const char *name,
                                                    const uint8_t *mvid, uint64_t *module);

/* n zeroed 64-bit counters in the file, 8-byte aligned, that never move
 * (until ilheap_counts_writer_destroy). Counters not given to a method are
 * wasted, never read. */
ILHEAP_API ilheap_status_t ilheap_counts_reserve(ilheap_counts_writer_t *w, size_t n, uint64_t **counters);

/* Appends and publishes a method: what its n counters (from one
 * ilheap_counts_reserve) count. *method (may be NULL) names it for
 * ilheap_counts_withdraw. */
ILHEAP_API ilheap_status_t ilheap_counts_add_method(ilheap_counts_writer_t *w, uint64_t module, uint32_t token,
                                                    const char *name, const ilheap_probe_key_t *keys, size_t n,
                                                    const uint64_t *counters, uint64_t *method);

/* The counters of a timing record, in this order (ilheap_counts_reserve of
 * ILHEAP_COUNTS_TIMING_COUNTERS). */
enum {
    ILHEAP_TIMING_CALLS = 0,       /* entries */
    ILHEAP_TIMING_EXCEPTIONAL = 1, /* exits by an exception leaving the method */
    ILHEAP_TIMING_TICKS = 2,       /* ticks from entry to exit, summed */
    ILHEAP_COUNTS_TIMING_COUNTERS = 3,
};

/* Appends and publishes a timed method (record kind 5): its three counters
 * (from one ilheap_counts_reserve) and the frequency of the clock whose
 * ticks it sums (1 .. 10^12 per second). *method (may be NULL) names it for
 * ilheap_counts_withdraw. */
ILHEAP_API ilheap_status_t ilheap_counts_add_timing(ilheap_counts_writer_t *w, uint64_t module, uint32_t token,
                                                    const char *name, const uint64_t *counters,
                                                    uint64_t ticks_per_second, uint64_t *method);

/* Marks a published method withdrawn: its probes never reached the runtime. */
ILHEAP_API void ilheap_counts_withdraw(ilheap_counts_writer_t *w, uint64_t method);

/* Adds n to the header's count of methods that could not be counted (no room
 * in the file), so that readers say so. */
ILHEAP_API void ilheap_counts_lost(ilheap_counts_writer_t *w, uint64_t n);

/* The completion mark: state 2 (exited), the header written to disk. The
 * counters stay mapped (code may still run while a runtime winds down). */
ILHEAP_API ilheap_status_t ilheap_counts_finish(ilheap_counts_writer_t *w);

/* Bytes of the file, for reports. */
ILHEAP_API uint64_t ilheap_counts_file_bytes(const ilheap_counts_writer_t *w);

/* Unmaps and closes: no probe may touch the counters afterwards. NULL is
 * ignored. */
ILHEAP_API void ilheap_counts_writer_destroy(ilheap_counts_writer_t *w);

/* ------------------------------------------------------------------ reader
 * One reader for both forms: the file above (mapped read-only: its
 * counters are read as they are now) and JSON lines. Every byte is
 * validated with overflow-safe arithmetic: a bad file is an error naming its
 * offset, never a crash. A reader is not thread-safe. */
typedef struct ilheap_counts ilheap_counts_t;

typedef enum ilheap_counts_format {
    ILHEAP_COUNTS_FILE = 1,  /* the format above */
    ILHEAP_COUNTS_JSONL = 2, /* one JSON object per line and method */
} ilheap_counts_format_t;

/* What became of the process that wrote the file. */
typedef enum ilheap_counts_state {
    ILHEAP_COUNTS_UNKNOWN = 0, /* JSON lines; or the system cannot tell */
    ILHEAP_COUNTS_RUNNING,     /* still running */
    ILHEAP_COUNTS_EXITED,      /* it made the completion mark */
    ILHEAP_COUNTS_KILLED,      /* it ended without it: killed, crashed, or FailFast */
    ILHEAP_COUNTS_FROZEN,      /* a snapshot */
} ilheap_counts_state_t;

typedef struct ilheap_counts_info {
    ilheap_counts_format_t format;
    uint32_t version, flags; /* FILE: the header's */
    uint64_t file_id, pid, created_ns, snapshot_ns;
    uint64_t lost;         /* methods not counted for lack of room */
    uint64_t replaced_pid; /* a running process's file this one replaced; 0 */
    uint64_t bytes;        /* FILE: records published (end); JSONL: the file's size */
    size_t modules, methods, probes;
} ilheap_counts_info_t;

typedef struct ilheap_counts_module {
    const char *path; /* as the runtime named the module */
    const char *name; /* its file name */
    int has_mvid;
    uint8_t mvid[16];
    char mvid_text[37]; /* lowercase 8-4-4-4-12; "" without */
} ilheap_counts_module_t;

typedef struct ilheap_counts_method {
    size_t module;    /* index for ilheap_counts_module */
    uint32_t token;   /* MethodDef */
    const char *name; /* "Ns.Type::Method" */
    size_t probes;
    uint64_t where;   /* FILE: its record's offset; JSONL: its line */
} ilheap_counts_method_t;

/* Opens and validates a counts file of either form. A JSON-lines line that
 * does not hold is not fatal: it is left out and listed (ilheap_counts_problem).
 * Errors: ILHEAP_ENOFILE, ILHEAP_EOS_FILE (could not be read), ILHEAP_ENOMEM,
 * ILHEAP_COUNTS_NOT_COUNTS, _VERSION, _TRUNCATED, _CORRUPT with *error_offset
 * (may be NULL) the offset of the first byte in error; ilheap_last_message
 * says what. */
ILHEAP_API ilheap_status_t ilheap_counts_open(const char *path, ilheap_counts_t **out, uint64_t *error_offset);

/* The same from bytes in memory (copied: data may go afterwards). */
ILHEAP_API ilheap_status_t ilheap_counts_read_memory(const void *data, size_t size, ilheap_counts_t **out,
                                                     uint64_t *error_offset);

/* NULL is ignored. */
ILHEAP_API void ilheap_counts_close(ilheap_counts_t *c);

ILHEAP_API void ilheap_counts_info(const ilheap_counts_t *c, ilheap_counts_info_t *info);

/* The writer's state, from the header and, while it says running, the
 * system (is that pid, with that start, still running?). */
ILHEAP_API ilheap_counts_state_t ilheap_counts_state(const ilheap_counts_t *c);

/* ILHEAP_OK, or ILHEAP_EINVAL for an index out of range. */
ILHEAP_API ilheap_status_t ilheap_counts_module(const ilheap_counts_t *c, size_t i, ilheap_counts_module_t *out);
ILHEAP_API ilheap_status_t ilheap_counts_method(const ilheap_counts_t *c, size_t i, ilheap_counts_method_t *out);

/* Method i's probe p: its key, and its counter now (0 out of range). */
ILHEAP_API ilheap_probe_key_t ilheap_counts_key(const ilheap_counts_t *c, size_t i, size_t p);
ILHEAP_API uint64_t ilheap_counts_hits(const ilheap_counts_t *c, size_t i, size_t p);

/* Timed methods (record kind 5; a counts file only): how many, and method
 * i's figures now. inclusive_ns is ticks in nanoseconds (saturated).
 * ilheap_counts_since leaves them live. */
typedef struct ilheap_counts_timing {
    size_t module;    /* index for ilheap_counts_module */
    uint32_t token;   /* MethodDef */
    const char *name; /* "Ns.Type::Method" */
    uint64_t calls, exceptional_exits, ticks, ticks_per_second, inclusive_ns;
    uint64_t where;   /* its record's offset */
} ilheap_counts_timing_t;
ILHEAP_API size_t ilheap_counts_timing_count(const ilheap_counts_t *c);
/* ILHEAP_OK, or ILHEAP_EINVAL for an index out of range. */
ILHEAP_API ilheap_status_t ilheap_counts_timing(const ilheap_counts_t *c, size_t i, ilheap_counts_timing_t *out);

/* The lines of a JSON-lines file left out: "line: reason (column N)". */
ILHEAP_API size_t ilheap_counts_problem_count(const ilheap_counts_t *c);
ILHEAP_API const char *ilheap_counts_problem(const ilheap_counts_t *c, size_t i, uint64_t *line);

/* Freezes c's counters and subtracts snapshot's (a snapshot of the same file:
 * same file id, its methods the first ones of c's, with the same keys), so
 * that c holds only what ran after the snapshot. A counter that went down (a
 * non-atomic probe's lost update) gives 0. ILHEAP_COUNTS_MISMATCH otherwise. */
ILHEAP_API ilheap_status_t ilheap_counts_since(ilheap_counts_t *c, const ilheap_counts_t *snapshot);

/* Writes c (a FILE) as it is at this instant to path: a valid counts file
 * with ILHEAP_COUNTS_SNAPSHOT set. ILHEAP_EINVAL for JSON lines. */
ILHEAP_API ilheap_status_t ilheap_counts_snapshot(const ilheap_counts_t *c, const char *path);

/* ---------------------------------------------------------- JSON lines
 * The export: one line per method, the profiler's keys of before
 * ("module", "path", "mvid", "method", "token", then "calls":N for an entry
 * probe or "blocks":[{"il_offset":O,"hits":H},...]); a timed method's line
 * ends with "calls":N,"exceptional_exits":N,"inclusive_ns":N (read back as
 * JSON lines, it is a timed method again, its ticks in ns). sink gets the text
 * piece by piece and returns 0, or nonzero to stop (ILHEAP_EIO). */
typedef int (*ilheap_counts_sink_fn)(void *ctx, const char *text, size_t n);
ILHEAP_API ilheap_status_t ilheap_counts_write_jsonl(const ilheap_counts_t *c, ilheap_counts_sink_fn sink, void *ctx);

#ifdef __cplusplus
}
#endif

#endif /* ILHEAP_COUNTS_H */
