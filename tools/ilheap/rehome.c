/* ilheap rehome: lays an assembly out as the loader maps it (one region: the
 * module base), creates that module's heap, re-encodes every IL body into it
 * (optionally with N nop bytes in front), decodes each new body again and
 * checks it against the original and against the module's window. */
#include "commands.h"
#include "rehome.h"
#include "tool.h"

#include "ilheap/heap.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

static const char rehome_help[] =
    "usage: ilheap rehome [FILE] [--prologue N | --instrument calls|blocks|none] [--jsonl] [--builtin]\n"
    "Maps the assembly as the loader lays it out (headers and sections at their\n"
    "RVAs in one region of SizeOfImage bytes: the module base), creates that\n"
    "module's heap, and re-encodes every IL body into it (preserve mode). Each new\n"
    "body is decoded again and checked: the same fields as the original (code and\n"
    "EH shifted by N with --prologue N), byte-identical without a prologue, inside\n"
    "the heap's window, at an RVA past the image and below the window.\n"
    "\n"
    "  FILE          the assembly; default as for ilheap scan (newest runtime's\n"
    "                System.Private.CoreLib.dll, else the built-in assembly)\n"
    "  --prologue N  insert N nop (0x00) bytes at the start of every body (0..65536);\n"
    "                every EH offset moves by N\n"
    "  --instrument calls|blocks|none\n"
    "                with the IL rewriter: calls: a counter probe (pure IL, a fake\n"
    "                counter address) at method entry; blocks: one at every basic\n"
    "                block start, every edge into the block retargeted to it (and\n"
    "                edge probes where block counts cannot tell a branch); none:\n"
    "                decode to instructions and encode unchanged (byte for byte).\n"
    "                The check: every original instruction present, in order; every\n"
    "                original branch, switch and EH edge leads to the same original\n"
    "                instruction or to the probe in front of it. --jsonl adds\n"
    "                \"blocks\" (probes inserted)\n"
    "  --jsonl       print each new body's scan line (see ilheap scan --help) with\n"
    "                \"new_rva\" added, instead of the summary\n"
    "  --builtin     use the built-in fallback assembly\n"
    "\n"
    "The summary gives methods, bytes, address space reserved, the lowest and\n"
    "highest new RVA, and the time per body (re-encode, decode again, check).\n"
    "Repeated timed passes are the benchmark's: bench_bodies rehome (docs/benchmarks.md).\n";

typedef struct moved {
    uint32_t token, rva;
    uint8_t *body; /* in the heap; NULL when the method failed */
    size_t size;
    uint32_t probes; /* --instrument: probes inserted */
} moved_t;

typedef struct run {
    const char *path;
    uint8_t *base;  /* the laid-out image: the module base */
    uint32_t image_size;
    ilheap_heap_t *heap;
    ilheap_il_edit_t edit;
    uint32_t prologue;
    uint32_t corrupt_token; /* 0: none */
    tool_instr_t *instr;    /* --instrument; NULL: the codec's rewrite */
    bool check;             /* false: benchmark passes that time the rewrite alone */
    uint32_t window;        /* --window-for-test; 0: the default window */
    tool_progress_t *progress; /* the bar to erase before an error line; NULL */
    ilheap_status_t room;   /* the heap ran out of room (the pass stops): why */
    char room_message[256];
    uint64_t probes;
    uint64_t failures, malformed, bytes_in, bytes_out;
    uint64_t bytes_aligned; /* bytes_out with each block rounded up to the heap's alignment */
    uint32_t alignment;
} run_t;

/* Counts one body written to the heap: its size, and the size the heap
 * rounded it up to, so that padding and a run's unused tail are told apart. */
static void count_out(run_t *r, uint64_t in, uint64_t size)
{
    r->bytes_in += in;
    r->bytes_out += size;
    r->bytes_aligned += (size + r->alignment - 1) & ~(uint64_t)(r->alignment - 1);
}

/* Reports a failed check (the first 20 in full) and counts it. */
SUPPORT_PRINTF_LIKE(3, 4)
static void fail(run_t *r, uint32_t token, const char *format, ...)
{
    tool_progress_clear(r->progress);
    if (++r->failures <= 20) {
        char detail[512];
        va_list args;
        va_start(args, format);
        vsnprintf(detail, sizeof detail, format, args);
        va_end(args);
        fprintf(stderr, "ilheap rehome: %s: method 0x%08x FAILED: %s\n", r->path, token, detail);
    } else if (r->failures == 21) {
        fprintf(stderr, "ilheap rehome: more failures (only the first 20 are shown)\n");
    }
}

/* Records that the heap is out of room (reported once, by pass()) when the
 * last library call failed for that reason; true then. */
static bool out_of_room(run_t *r)
{
    ilheap_status_t st = ilheap_last_status();
    if (!tool_out_of_room(st))
        return false;
    r->room = st;
    snprintf(r->room_message, sizeof r->room_message, "%s", ilheap_last_message());
    return true;
}

/* The new body lies inside the heap's window, past the image. */
static bool placed_ok(run_t *r, uint32_t token, const uint8_t *nb, size_t size)
{
    uint64_t new_rva = (uint64_t)(nb - r->base);
    uint64_t window = ilheap_heap_window(r->heap);
    if (!ilheap_heap_in_window(r->heap, nb, size) || nb <= r->base || new_rva >= window || size > window - new_rva) {
        fail(r, token, "new body at base + %#llx (%zu bytes) is outside the window %#llx",
             (unsigned long long)new_rva, size, (unsigned long long)window);
        return false;
    }
    if (new_rva < r->image_size) {
        fail(r, token, "new body at base + %#llx lies inside the image (SizeOfImage %#x)",
             (unsigned long long)new_rva, r->image_size);
        return false;
    }
    return true;
}

/* --corrupt-for-test: damage the new body after writing it, so that the
 * checks must catch it (the last code byte; the header when there is no
 * code). */
static void corrupt(uint8_t *nb, size_t size, bool tiny, size_t code)
{
    size_t at = code != 0 ? (tiny ? 1 : 12) + code - 1 : 0;
    nb[at < size ? at : 0] ^= 0x5A;
}

/* --instrument: the rewriter's path for one decoded body. */
static bool instrument_one(run_t *r, const ilheap_pe_il_body_t *m, const uint8_t *p, const ilheap_il_body_t *orig,
                           moved_t *out)
{
    char msg[400];
    void *block;
    size_t size;
    if (!tool_instr_body(r->instr, orig, r->heap, r->check, &block, &size, &out->probes, msg, sizeof msg)) {
        if (!out_of_room(r))
            fail(r, m->token, "%s", msg);
        return false;
    }
    count_out(r, orig->body_size, size);
    r->probes += out->probes;
    out->body = block;
    out->size = size;
    if (m->token == r->corrupt_token) {
        size_t code = ilheap_rw_new_offset(r->instr->rw, ILHEAP_RW_END); /* the new code size */
        corrupt(block, size, size == code + 1, code);
    }
    if (r->check && !tool_instr_check(r->instr, orig, p, block, size, msg, sizeof msg)) {
        fail(r, m->token, "%s", msg);
        return false;
    }
    return !r->check || placed_ok(r, m->token, block, size);
}

/* Rehomes one body: returns false when it failed (reported). */
static bool rehome_one(run_t *r, const ilheap_pe_il_body_t *m, tool_clauses_t *orig_clauses,
                       tool_clauses_t *new_clauses, moved_t *out)
{
    out->token = m->token;
    out->rva = m->rva;
    out->body = NULL;
    out->size = 0;
    out->probes = 0;
    if (m->rva >= r->image_size) {
        tool_progress_clear(r->progress);
        fprintf(stderr, "ilheap rehome: %s: method 0x%08x: RVA %#x past SizeOfImage %#x\n", r->path, m->token,
                m->rva, r->image_size);
        r->malformed++;
        return false;
    }
    /* The body as a profiler sees it: at base + RVA in the mapped image. */
    const uint8_t *p = r->base + m->rva;
    ilheap_il_body_t orig;
    ilheap_status_t st = tool_decode(p, r->image_size - m->rva, &orig, orig_clauses);
    if (st != ILHEAP_OK || (orig.header == ILHEAP_IL_FAT && (m->rva & 3) != 0)) {
        tool_progress_clear(r->progress);
        fprintf(stderr, "ilheap rehome: %s: method 0x%08x (RVA %#x): body does not decode: %s\n", r->path,
                m->token, m->rva, st != ILHEAP_OK ? ilheap_last_message() : "fat header not 4-byte aligned");
        r->malformed++;
        return false;
    }
    if (r->instr != NULL)
        return instrument_one(r, m, p, &orig, out);
    void *block;
    size_t size;
    st = ilheap_il_rewrite_to_heap(&orig, &r->edit, ILHEAP_IL_PRESERVE, r->heap, &block, &size);
    if (st != ILHEAP_OK) {
        if (!out_of_room(r))
            fail(r, m->token, "re-encoding into the heap: %s", ilheap_last_message());
        return false;
    }
    uint8_t *nb = block;
    count_out(r, orig.body_size, size);
    out->body = nb;
    out->size = size;
    if (m->token == r->corrupt_token)
        corrupt(nb, size, orig.header == ILHEAP_IL_TINY && orig.code_size + r->prologue <= ILHEAP_IL_TINY_MAX_CODE,
                orig.code_size + r->prologue);
    ilheap_il_body_t moved;
    st = tool_decode(nb, size, &moved, new_clauses);
    if (st != ILHEAP_OK) {
        fail(r, m->token, "the new body does not decode: %s", ilheap_last_message());
        return false;
    }
    if (moved.body_size != size) {
        fail(r, m->token, "the new body decodes to %zu bytes, %zu were written", moved.body_size, size);
        return false;
    }
    if (ilheap_il_check_moved(&orig, &moved, r->edit.prologue, r->prologue, 0) != ILHEAP_OK) {
        fail(r, m->token, "the new body differs from the original: %s", ilheap_last_message());
        return false;
    }
    /* Preserve mode without an edit is byte for byte (except junk padding,
     * which the encoder writes as zeros). */
    if (r->prologue == 0 && !(orig.quirks & ILHEAP_IL_QUIRK_PADDING_NONZERO) &&
        (size != orig.body_size || memcmp(nb, p, size) != 0)) {
        fail(r, m->token, "the new body is not byte-identical to the original (%zu vs %zu bytes)", size,
             orig.body_size);
        return false;
    }
    return placed_ok(r, m->token, nb, size);
}

typedef struct options {
    const char *path;
    bool jsonl, builtin, instrument;
    tool_instr_mode_t mode;
    uint32_t prologue, corrupt_token, window;
} options_t;

static int parse(int argc, char **argv, options_t *o)
{
    memset(o, 0, sizeof *o);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            printf("%s\n%s", rehome_help, tool_exit_help);
            return -1;
        } else if (strcmp(a, "--jsonl") == 0) {
            o->jsonl = true;
        } else if (strcmp(a, "--builtin") == 0) {
            o->builtin = true;
        } else if (strcmp(a, "--prologue") == 0) {
            if (i + 1 >= argc || !tool_parse_u32(argv[++i], 65536, &o->prologue)) {
                fprintf(stderr, "ilheap rehome: --prologue needs a byte count (0..65536)\n");
                return TOOL_EXIT_USAGE;
            }
        } else if (strcmp(a, "--instrument") == 0) {
            if (i + 1 >= argc || !tool_instr_parse(argv[++i], &o->mode)) {
                fprintf(stderr, "ilheap rehome: --instrument needs calls, blocks or none\n");
                return TOOL_EXIT_USAGE;
            }
            o->instrument = true;
        } else if (strcmp(a, "--corrupt-for-test") == 0) {
            /* Hidden (tests only): damage the new body of this method token. */
            if (i + 1 >= argc || !tool_parse_u32(argv[++i], UINT32_MAX, &o->corrupt_token) || o->corrupt_token == 0) {
                fprintf(stderr, "ilheap rehome: --corrupt-for-test needs a method token\n");
                return TOOL_EXIT_USAGE;
            }
        } else if (strcmp(a, "--window-for-test") == 0) {
            /* Hidden (tests only): the heap's window, to run out of it. */
            if (i + 1 >= argc || !tool_parse_u32(argv[++i], UINT32_MAX, &o->window) || o->window == 0) {
                fprintf(stderr, "ilheap rehome: --window-for-test needs a byte count\n");
                return TOOL_EXIT_USAGE;
            }
        } else if (a[0] == '-' && a[1] != '\0') {
            fprintf(stderr, "ilheap rehome: unknown option '%s' (see ilheap rehome --help)\n", a);
            return TOOL_EXIT_USAGE;
        } else if (o->path != NULL) {
            fprintf(stderr, "ilheap rehome: one FILE at most (see ilheap rehome --help)\n");
            return TOOL_EXIT_USAGE;
        } else {
            o->path = a;
        }
    }
    if (o->path != NULL && o->builtin) {
        fprintf(stderr, "ilheap rehome: FILE and --builtin exclude each other\n");
        return TOOL_EXIT_USAGE;
    }
    if (o->instrument && o->prologue != 0) {
        fprintf(stderr, "ilheap rehome: --prologue and --instrument exclude each other\n");
        return TOOL_EXIT_USAGE;
    }
    return 0;
}

/* One pass over every method: rehomes each IL body into a new heap. */
static int pass(run_t *r, const ilheap_pe_t *pe, moved_t *moved, uint32_t *count, tool_clauses_t *a,
                tool_clauses_t *b, bool progress_bar, uint64_t *elapsed)
{
    ilheap_heap_options_t options;
    ilheap_heap_options_init(&options);
    options.window = r->window;
    r->alignment = options.alignment ? options.alignment : 4;
    ilheap_status_t st = ilheap_heap_create(r->base, r->image_size, &options, &r->heap);
    if (st != ILHEAP_OK) {
        fprintf(stderr, "ilheap rehome: %s: creating the module's heap: %s\n", r->path, ilheap_last_message());
        return TOOL_EXIT_SYSTEM;
    }
    /* Every body must land past the image and inside the window: an image as
     * large as the window leaves no room at all. Said once, not per body. */
    uint64_t window = ilheap_heap_window(r->heap);
    if ((uint64_t)r->image_size >= window) {
        fprintf(stderr, "ilheap rehome: %s: SizeOfImage %#x leaves no room in the heap's window (%#llx bytes "
                        "above the module base): no body can be placed past the image\n",
                r->path, r->image_size, (unsigned long long)window);
        return TOOL_EXIT_SYSTEM;
    }
    r->room = ILHEAP_OK;
    uint32_t n = 0;
    tool_progress_t progress;
    tool_progress_start(&progress, "rehome", progress_bar ? ilheap_pe_method_count(pe) : 0);
    r->progress = &progress;
    uint64_t start = tool_now_ns();
    ilheap_pe_body_cursor_t cursor;
    ilheap_pe_il_body_t m;
    ilheap_pe_bodies_begin(pe, &cursor, NULL);
    /* A body the file has no bytes for is passed over (the laid-out image has zeros there). */
    while (tool_next_body(&cursor, &m, &progress, r->path, &r->malformed)) {
        rehome_one(r, &m, a, b, &moved[n]);
        n++;
        if (r->room != ILHEAP_OK)
            break;
        if ((n & 1023) == 0)
            tool_progress_update(&progress, cursor.rid);
    }
    *elapsed = tool_now_ns() - start;
    tool_progress_end(&progress);
    r->progress = NULL;
    *count = n;
    if (r->room != ILHEAP_OK) {
        fprintf(stderr, "ilheap rehome: %s: the module's heap ran out of room at body %u of %u (window %#llx "
                        "above the base, image %#x bytes): %s\n",
                r->path, n, ilheap_pe_method_count(pe), (unsigned long long)window, r->image_size, r->room_message);
        return TOOL_EXIT_SYSTEM;
    }
    return 0;
}

/* Everything one rehome holds, released by job_free. */
typedef struct job {
    options_t o;
    tool_input_t in;
    ilheap_pe_t *pe;
    ilheap_pe_info_t info;
    uint32_t rows, n; /* MethodDef rows; IL bodies seen by the last pass */
    run_t r;
    tool_instr_t instr;
    bool instr_on;
    void *region; /* the image as the loader lays it out: its start is the module base */
    uint8_t *nops;
    moved_t *moved;
    tool_out_t *out;
    tool_clauses_t ca, cb;
    uint64_t elapsed;
} job_t;

static void job_free(job_t *j)
{
    if (j->instr_on)
        tool_instr_free(&j->instr);
    ilheap_heap_destroy(j->r.heap);
    tool_clauses_free(&j->ca);
    tool_clauses_free(&j->cb);
    support_image_region_free(j->region, j->info.size_of_image);
    free(j->out);
    free(j->moved);
    free(j->nops);
    ilheap_pe_close(j->pe);
    tool_input_free(&j->in);
}

/* Lays the image out as the loader does and allocates what the passes need. */
static int job_prepare(job_t *j)
{
    ilheap_pe_get_info(j->pe, &j->info);
    j->rows = ilheap_pe_method_count(j->pe);
    j->r = (run_t){.path = j->in.path, .image_size = j->info.size_of_image, .prologue = j->o.prologue,
                   .corrupt_token = j->o.corrupt_token, .check = true, .window = j->o.window};
    if (j->o.instrument) {
        if (tool_instr_init(&j->instr, j->o.mode) != 0) {
            fprintf(stderr, "ilheap rehome: out of memory (the IL rewriter)\n");
            return TOOL_EXIT_SYSTEM;
        }
        j->instr_on = true;
        j->r.instr = &j->instr;
    }
    j->region = support_image_region(j->info.size_of_image);
    ilheap_pe_error_t err;
    if (j->region != NULL && ilheap_pe_layout(j->pe, j->region, j->info.size_of_image, &err) != ILHEAP_OK) {
        fprintf(stderr, "ilheap rehome: %s: %s\n", j->in.path, err.message);
        return TOOL_EXIT_MALFORMED;
    }
    /* The OS placed the region right below the file's buffer (read first), so
     * that buffer takes the space just above the image, where a loaded module
     * usually has room and the heap puts its first chunk. Move the file's
     * bytes below the region (a fresh buffer, before any other allocation) to
     * free that space. */
    if (j->region != NULL && !j->in.builtin) {
        uint8_t *copy = malloc(j->in.size);
        ilheap_pe_t *reopened;
        if (copy != NULL &&
            (memcpy(copy, j->in.data, j->in.size), ilheap_pe_open(copy, j->in.size, &reopened, NULL)) == ILHEAP_OK) {
            ilheap_pe_close(j->pe);
            j->pe = reopened;
            free(j->in.data);
            j->in.data = copy;
        } else {
            free(copy); /* keep the first buffer: only the placement differs */
        }
    }
    j->nops = calloc(j->o.prologue ? j->o.prologue : 1, 1); /* nop is 0x00 (III.3.51) */
    j->moved = malloc(((size_t)j->rows + 1) * sizeof *j->moved);
    j->out = malloc(sizeof *j->out);
    if (j->nops == NULL || j->moved == NULL || j->region == NULL || j->out == NULL) {
        fprintf(stderr, "ilheap rehome: %s: out of memory (image of %u bytes, %u methods)\n", j->in.path,
                j->info.size_of_image, j->rows);
        return TOOL_EXIT_SYSTEM;
    }
    j->r.base = j->region;
    j->r.edit.prologue = j->nops;
    j->r.edit.prologue_size = j->o.prologue;
    return 0;
}

int tool_rehome_open(const char *cmd, const tool_rehome_spec_t *spec, tool_rehome_t **out)
{
    *out = NULL;
    job_t *j = calloc(1, sizeof *j);
    if (j == NULL) {
        fprintf(stderr, "%s: out of memory\n", cmd);
        return TOOL_EXIT_SYSTEM;
    }
    j->o = (options_t){.path = spec->path, .instrument = spec->instrument, .mode = spec->mode,
                       .prologue = spec->prologue};
    int rc = tool_load_and_open(cmd, spec->path, false, &j->in, &j->pe);
    if (rc != 0) {
        free(j);
        return rc;
    }
    rc = job_prepare(j);
    if (rc != 0) {
        tool_rehome_close(j);
        return rc;
    }
    *out = j;
    return 0;
}

int tool_rehome_pass(tool_rehome_t *j, bool check, tool_rehome_pass_t *result)
{
    run_t *r = &j->r;
    r->bytes_in = r->bytes_out = r->bytes_aligned = r->failures = r->malformed = r->probes = 0;
    r->check = check;
    int rc = pass(r, j->pe, j->moved, &j->n, &j->ca, &j->cb, false, &result->elapsed_ns);
    ilheap_heap_destroy(r->heap);
    r->heap = NULL;
    result->bodies = j->n;
    result->probes = r->probes;
    result->failures = r->failures;
    result->malformed = r->malformed;
    return rc;
}

void tool_rehome_close(tool_rehome_t *j)
{
    if (j != NULL) {
        job_free(j);
        free(j);
    }
}

/* Where the bodies landed, relative to the module base. */
typedef struct landing {
    uintptr_t lowest, highest, highest_end;
    uint32_t rehomed;
} landing_t;

/* Walks the moved bodies: their extent and, with --jsonl, one line each. */
static landing_t job_walk(job_t *j)
{
    landing_t l = {.lowest = UINTPTR_MAX};
    for (uint32_t i = 0; i < j->n; i++) {
        const moved_t *m = &j->moved[i];
        if (m->body == NULL)
            continue;
        uintptr_t at = (uintptr_t)(m->body - j->r.base);
        l.lowest = at < l.lowest ? at : l.lowest;
        if (at >= l.highest) {
            l.highest = at;
            l.highest_end = at + m->size;
        }
        l.rehomed++;
        if (j->o.jsonl) {
            ilheap_il_body_t b;
            if (tool_decode(m->body, m->size, &b, &j->cb) == ILHEAP_OK) /* else reported above */
                tool_json_body(j->out, m->token, m->rva, &b, true, (uint32_t)at,
                               j->o.instrument ? (int64_t)m->probes : -1);
        }
    }
    return l;
}

/* The default output: a summary for people (docs/cli.md). */
static void job_summary(job_t *j, const landing_t *l)
{
    const options_t *o = &j->o;
    const run_t *r = &j->r;
    tool_out_t *out = j->out;
    ilheap_heap_stats_t s;
    ilheap_heap_stats(r->heap, &s);
    tool_out_printf(out, "input      %s%s\n", j->in.path, j->in.defaulted ? " (default input)" : "");
    tool_out_printf(out, "image      SizeOfImage %#x (%u bytes) laid out at %p: the module base\n",
                    j->info.size_of_image, j->info.size_of_image, (void *)r->base);
    tool_out_printf(out, "methods    %u MethodDef rows, %u IL bodies, %u rehomed%s\n", j->rows, j->n, l->rehomed,
                    o->prologue || o->instrument ? "" : " (preserve mode, no edit)");
    if (o->prologue)
        tool_out_printf(out, "prologue   %u nop bytes inserted at the start of every body, EH shifted by %u\n",
                        o->prologue, o->prologue);
    if (o->instrument)
        tool_out_printf(out, "instrument %s: %llu counter probes inserted\n",
                        o->mode == TOOL_INSTR_BLOCKS  ? "blocks (one at every basic block start, edge probes where blocks cannot tell)"
                        : o->mode == TOOL_INSTR_CALLS ? "calls (one at method entry)"
                                                      : "none (decoded to instructions, encoded unchanged)",
                        (unsigned long long)r->probes);
    tool_out_printf(out, "bytes      %llu in the image, %llu in the heap, %llu claimed from it (%llu alignment "
                    "padding, %llu unused tail of the thread's run)\n",
                    (unsigned long long)r->bytes_in, (unsigned long long)r->bytes_out,
                    (unsigned long long)s.bytes_used, (unsigned long long)(r->bytes_aligned - r->bytes_out),
                    (unsigned long long)(s.bytes_used - r->bytes_aligned));
    tool_out_printf(out, "heap       %llu bytes of address space reserved (%.3fx used) in %llu chunks, "
                    "%llu committed\n",
                    (unsigned long long)s.bytes_reserved,
                    s.bytes_used ? (double)s.bytes_reserved / (double)s.bytes_used : 0.0,
                    (unsigned long long)s.chunks, (unsigned long long)s.bytes_committed);
    if (l->rehomed != 0)
        tool_out_printf(out, "new RVAs   lowest %#lx, highest %#lx (ends at %#lx); window %#llx\n",
                        (unsigned long)l->lowest, (unsigned long)l->highest, (unsigned long)l->highest_end,
                        (unsigned long long)ilheap_heap_window(r->heap));
    tool_out_printf(out, "time       %.1f ms, %.1f ns per body (re-encode into the heap, decode again, check)\n",
                    (double)j->elapsed / 1e6, (double)j->elapsed / (double)(j->n ? j->n : 1));
    if (r->failures == 0 && r->malformed == 0)
        tool_out_printf(out, "checks     all %u bodies held: fields equal%s, inside the window, past the image\n",
                        l->rehomed,
                        o->instrument && o->mode != TOOL_INSTR_NONE
                            ? " (every original instruction in order, every edge to it or its probe)"
                        : o->prologue ? " (shifted by the prologue)"
                                      : ", bytes identical");
    else
        tool_out_printf(out, "checks     FAILED: %llu bodies failed a check, %llu did not decode (see stderr)\n",
                        (unsigned long long)r->failures, (unsigned long long)r->malformed);
}

/* One checked pass, then its output; the exit status. */
static int job_run(job_t *j)
{
    int rc = pass(&j->r, j->pe, j->moved, &j->n, &j->ca, &j->cb, true, &j->elapsed);
    if (rc != 0)
        return rc;
    tool_out_init(j->out, stdout);
    landing_t l = job_walk(j);
    if (!j->o.jsonl)
        job_summary(j, &l);
    if (!tool_out_flush(j->out)) {
        fprintf(stderr, "ilheap rehome: writing the output failed\n");
        return TOOL_EXIT_SYSTEM;
    }
    if (j->r.failures != 0) {
        fprintf(stderr, "ilheap rehome: %llu of %u bodies failed their checks\n",
                (unsigned long long)j->r.failures, j->n);
        return TOOL_EXIT_CHECK;
    }
    if (j->r.malformed != 0) {
        fprintf(stderr, "ilheap rehome: %llu of %u bodies do not decode\n", (unsigned long long)j->r.malformed,
                j->n);
        return TOOL_EXIT_MALFORMED;
    }
    return TOOL_EXIT_OK;
}

int ilheap_cmd_rehome(int argc, char **argv)
{
    job_t j = {0};
    int rc = parse(argc, argv, &j.o);
    if (rc != 0)
        return rc < 0 ? TOOL_EXIT_OK : rc;
    rc = tool_load_and_open("rehome", j.o.path, j.o.builtin, &j.in, &j.pe);
    if (rc != 0)
        return rc;
    rc = job_prepare(&j);
    if (rc == 0)
        rc = job_run(&j);
    job_free(&j);
    return rc;
}
