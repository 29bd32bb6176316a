/* Pieces shared by the ilheap subcommands: exit codes, input files (loading
 * with clear errors, the default input), decoding with any number of clauses,
 * the JSON line writer, the progress bar and a clock. */
#ifndef ILHEAP_TOOLS_TOOL_H
#define ILHEAP_TOOLS_TOOL_H

#include "ilheap/il.h"
#include "ilheap/pe.h"
#include "support.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Exit statuses of every subcommand (documented in --help and docs/cli.md). */
enum {
    TOOL_EXIT_OK = 0,         /* done; for rehome: every check held */
    TOOL_EXIT_CHECK = 1,      /* rehome: a body failed a check (the method is named) */
    TOOL_EXIT_USAGE = 2,      /* bad arguments */
    TOOL_EXIT_MISSING = 3,    /* the file does not exist */
    TOOL_EXIT_UNREADABLE = 4, /* the file exists but cannot be read (permissions, a directory, I/O) */
    TOOL_EXIT_MALFORMED = 5,  /* not a well-formed .NET assembly, or a method body that does not decode */
    TOOL_EXIT_SYSTEM = 6,     /* out of memory or address space */
};

/* The exit-code paragraph every --help prints. */
extern const char tool_exit_help[];

/* An input assembly: a file read whole, or the built-in fallback assembly. */
typedef struct tool_input {
    char path[4096];  /* the file, or "(built-in fallback assembly)" */
    uint8_t *data;    /* malloc'd (a file) or static (built in) */
    size_t size;
    bool builtin;
    bool defaulted;   /* chosen by the default-input rule, not named by the user */
} tool_input_t;

/* Loads `path`; with path NULL, the default input: the newest installed
 * runtime's System.Private.CoreLib.dll, else the built-in assembly (also when
 * `builtin` is set). Prints "ilheap CMD: PATH: reason" on failure and returns
 * the exit status (TOOL_EXIT_MISSING, _UNREADABLE, _SYSTEM), else 0. */
int tool_load(const char *cmd, const char *path, bool builtin, tool_input_t *in);
void tool_input_free(tool_input_t *in);

/* tool_load, then opens the image with the PE reader. On failure prints the
 * reason, frees *in and returns the exit code (TOOL_EXIT_MALFORMED or _SYSTEM
 * for a bad image); 0 on success, with *in and *pe for the caller to free. */
int tool_load_and_open(const char *cmd, const char *path, bool builtin, tool_input_t *in, ilheap_pe_t **pe);

/* The default input's path: the System.Private.CoreLib.dll of the newest
 * Microsoft.NETCore.App under $DOTNET_ROOT/shared or /usr/share/dotnet/shared
 * (version-sorted). 0 when found, -1 when no runtime is installed. */
int tool_default_input(char *path, size_t path_size);

/* The built-in fallback assembly (tools/ilheap/fallback/Fallback.dll, embedded
 * at build time). */
extern const unsigned char tool_fallback_assembly[];
extern const size_t tool_fallback_assembly_size;

/* Clause storage for decoding: 64 in place (no framework body has more than
 * 26), growing on the heap for bodies with more. */
typedef struct tool_clauses {
    ilheap_il_clause_t fixed[64];
    ilheap_il_clause_t *grown;
    size_t grown_cap;
} tool_clauses_t;

/* ilheap_il_decode with room for every clause the body has (inline: it is
 * the scan's hot path; the rare retry is out of line). */
ilheap_status_t tool_decode_grow(const uint8_t *p, size_t avail, ilheap_il_body_t *body, tool_clauses_t *clauses);

static inline ilheap_status_t tool_decode(const uint8_t *p, size_t avail, ilheap_il_body_t *body,
                                          tool_clauses_t *clauses)
{
    ilheap_status_t st = clauses->grown != NULL
                             ? ilheap_il_decode_inline(p, avail, body, clauses->grown, clauses->grown_cap)
                             : ilheap_il_decode_inline(p, avail, body, clauses->fixed,
                                                sizeof clauses->fixed / sizeof clauses->fixed[0]);
    return st == ILHEAP_IL_CLAUSE_SPACE ? tool_decode_grow(p, avail, body, clauses) : st;
}
void tool_clauses_free(tool_clauses_t *clauses);

/* A buffered writer for output lines (stdout), and the JSON line of ilheap scan --jsonl:
 * {"token":..,"rva":..,"header":"tiny|fat","max_stack":..,"code_size":..,
 *  "local_sig":..,"init_locals":true|false,"eh":[...],"body_size":..[,"new_rva":..][,"blocks":..]}
 * (blocks: rehome --instrument's probes; < 0 leaves the key out) */
typedef struct tool_out {
    FILE *file;
    size_t length;
    bool failed;
    char buffer[1 << 16];
} tool_out_t;

void tool_out_init(tool_out_t *out, FILE *file);
void tool_out_str(tool_out_t *out, const char *s);
void tool_out_u64(tool_out_t *out, uint64_t v);
void tool_out_printf(tool_out_t *out, const char *format, ...) SUPPORT_PRINTF_LIKE(2, 3);
/* Writes what is buffered; false when the stream failed (e.g. a closed pipe). */
bool tool_out_flush(tool_out_t *out);
void tool_json_body(tool_out_t *out, uint32_t token, uint32_t rva, const ilheap_il_body_t *body, bool with_new_rva,
                    uint32_t new_rva, int64_t blocks);

/* A progress bar on stderr, shown only when stderr is a terminal and the run
 * lasts (it appears after 0.3 s). */
typedef struct tool_progress {
    bool on, shown;
    const char *label;
    uint64_t total, next, start_ns;
} tool_progress_t;

void tool_progress_start(tool_progress_t *p, const char *label, uint64_t total);
void tool_progress_update(tool_progress_t *p, uint64_t done);
void tool_progress_end(tool_progress_t *p);
/* Erases the bar (if shown) so that an error line starts on a clean line; the
 * next update draws it again. NULL: nothing. */
void tool_progress_clear(tool_progress_t *p);

/* The next IL body of `cursor` into *m, false at the end. A body the file has
 * no bytes for is said on stderr ("ilheap LABEL: PATH: method 0x...: why",
 * LABEL being the progress bar's), counted in *malformed and passed over. */
bool tool_next_body(ilheap_pe_body_cursor_t *cursor, ilheap_pe_il_body_t *m, tool_progress_t *progress,
                    const char *path, uint64_t *malformed);

/* True for the statuses that mean the heap or the process ran out of room
 * (memory, window, address space): exit status TOOL_EXIT_SYSTEM. */
bool tool_out_of_room(ilheap_status_t status);

/* Monotonic nanoseconds. */
uint64_t tool_now_ns(void);

/* Formats a failure's reason into buf; returns false (for `return tool_why(...)`). */
bool tool_why(char *buf, size_t size, const char *format, ...) SUPPORT_PRINTF_LIKE(3, 4);

/* Grows *array (of elem-byte items, realloc'd) to hold n; false when out of memory. */
bool tool_reserve(void **array, size_t *cap, size_t n, size_t elem);

/* The file name part of a path (after the last '/', or '\\' on Windows). */
const char *tool_base_name(const char *path);

/* Parses a non-negative integer (decimal or 0x hex) no larger than max. */
bool tool_parse_u32(const char *s, uint32_t max, uint32_t *out);

#endif
