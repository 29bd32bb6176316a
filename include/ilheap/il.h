/* ilheap IL method-body codec: decode, validate, encode and rewrite CIL method
 * bodies (ECMA-335 Partition II, 25.4). Pure functions over caller buffers: no
 * allocation, no OS calls, no global state (failures also record a detailed
 * message for the calling thread, see ilheap_last_message()).
 *
 * A body is a header (tiny: 1 byte, or fat: 12 bytes), the IL code, and for a
 * fat body optional data sections (exception-handling tables) that start at the
 * next 4-byte boundary after the code.
 *
 * ALIGNMENT ASSUMPTION. The runtime aligns data sections on the absolute
 * address, and a fat header must itself start 4-byte aligned (II.25.4.3), so
 * for a well-formed fat body "4-aligned address" and "4-aligned offset from
 * the body's first byte" are the same thing. This codec counts section
 * alignment from the body's first byte, so a body may be decoded from a buffer
 * at any address (a copy, a file read at an odd offset). The caller that knows
 * the body's RVA should check that a fat body's RVA is a multiple of 4 (a PE
 * reader reports that as a malformed image). When encoding, a fat body must be
 * written to a 4-aligned address (ILHEAP_IL_MISALIGNED otherwise); tiny bodies
 * may go anywhere. Blocks from ilheap_heap_alloc are 4-aligned.
 *
 * Typical use (a profiler's JITCompilationStarted):
 *
 *     ilheap_il_clause_t clauses[64];
 *     ilheap_il_body_t body;
 *     ilheap_status_t st = ilheap_il_decode(il, il_size, &body, clauses, 64);
 *     // ILHEAP_IL_CLAUSE_SPACE: body.clause_count says how many to provide.
 *     ilheap_il_edit_t edit = {0};
 *     edit.prologue = probe; edit.prologue_size = sizeof probe; edit.extra_stack = 2;
 *     void *out; size_t size;
 *     st = ilheap_il_rewrite_to_heap(&body, &edit, ILHEAP_IL_PRESERVE, heap, &out, &size);
 *     // out now holds the new body: SetILFunctionBody(module, token, out)
 */
#ifndef ILHEAP_IL_H
#define ILHEAP_IL_H

#include <stddef.h>
#include <stdint.h>

#include "ilheap/export.h"
#include "ilheap/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Header forms (ilheap_il_body_t.header). */
enum {
    ILHEAP_IL_TINY = 0, /* 1-byte header: code < 64 bytes, max stack 8, no locals, no EH */
    ILHEAP_IL_FAT = 1,  /* 12-byte header, 4-byte aligned, may be followed by sections */
};

/* Exception clause kinds: the clause's Flags value (II.25.4.6). */
enum {
    ILHEAP_IL_CATCH = 0,   /* COR_ILEXCEPTION_CLAUSE_EXCEPTION: filter_or_class = type token */
    ILHEAP_IL_FILTER = 1,  /* filter_or_class = offset of the filter code */
    ILHEAP_IL_FINALLY = 2, /* filter_or_class is unused (compilers write 0) */
    ILHEAP_IL_FAULT = 4,   /* filter_or_class is unused (compilers write 0) */
};

/* Limits of the formats (II.25.4.2, II.25.4.5). */
#define ILHEAP_IL_TINY_MAX_CODE 63u        /* tiny code size is 6 bits */
#define ILHEAP_IL_TINY_MAX_STACK 8u        /* a tiny body's implied max stack */
#define ILHEAP_IL_SMALL_MAX_CLAUSES 20u    /* small DataSize is u8: 12 * 20 + 4 = 244 */
#define ILHEAP_IL_FAT_MAX_CLAUSES 699050u  /* fat DataSize is u24: 24 * 699050 + 4 */
/* Data sections recorded per body. ECMA-335 allows any number, but compilers
 * write one EH section and CoreCLR reads only the first; more than this many
 * is reported as ILHEAP_IL_TOO_MANY_SECTIONS. */
#define ILHEAP_IL_MAX_SECTIONS 8u

/* ilheap_il_body_t.quirks: legal-but-unusual things decode found. */
enum {
    /* A section's DataSize was not 12n+4 / 24n+4. The clause count is
     * DataSize / clause size, as the runtime reads it (old VB and MC++
     * compilers left the 4-byte section header out of DataSize). */
    ILHEAP_IL_QUIRK_DATASIZE_INEXACT = 1u << 0,
    /* A byte of the alignment padding before a section was not zero; an
     * encoder writes zeros there, so a preserve round trip is not byte-exact. */
    ILHEAP_IL_QUIRK_PADDING_NONZERO = 1u << 1,
    /* More than one EH section. Their clauses are concatenated here; CoreCLR
     * uses only the first section's clauses. */
    ILHEAP_IL_QUIRK_MANY_SECTIONS = 1u << 2,
};

/* One exception clause, whatever format it was read from or will be written in. */
typedef struct ilheap_il_clause {
    uint32_t kind;            /* ILHEAP_IL_CATCH, _FILTER, _FINALLY or _FAULT */
    uint32_t try_offset;      /* offsets are from the start of the IL code */
    uint32_t try_length;
    uint32_t handler_offset;
    uint32_t handler_length;
    uint32_t filter_or_class; /* catch: class token; filter: filter offset; else raw */
} ilheap_il_clause_t;

/* One data section as decoded, so that "preserve" mode can write it again in
 * the same format, byte for byte. */
typedef struct ilheap_il_section {
    uint8_t fat;           /* 1: fat section (24-byte clauses); 0: small (12-byte) */
    uint16_t reserved;     /* small: the Reserved u16 as read (kept); fat: 0 */
    uint32_t data_size;    /* DataSize as read */
    uint32_t clause_count; /* DataSize / clause size (floor, as the runtime reads it) */
    uint32_t offset;       /* offset of the section header from the body's first byte */
} ilheap_il_section_t;

/* A method body. Filled by ilheap_il_decode; read by the encoders. To build a
 * body from nothing, zero it and set code, code_size, max_stack and
 * (optionally) local_sig, init_locals, clauses and clause_count. */
typedef struct ilheap_il_body {
    uint8_t header;               /* ILHEAP_IL_TINY or ILHEAP_IL_FAT */
    uint8_t init_locals;          /* fat flag CorILMethod_InitLocals (0x10); 0 for tiny */
    uint16_t max_stack;           /* tiny: 8 */
    uint32_t code_size;           /* bytes of IL */
    const uint8_t *code;          /* decode: points into the input buffer */
    uint32_t local_sig;           /* StandAloneSig token of the locals; 0 = none */
    uint32_t clause_count;        /* EH clauses, all sections together */
    const ilheap_il_clause_t *clauses; /* decode: the caller's array */
    uint32_t section_count;       /* data sections as decoded (preserve mode) */
    /* sections[0 .. section_count); decode leaves the entries past section_count
     * as they were (it does not clear them: that cost as much as a tiny body) */
    ilheap_il_section_t sections[ILHEAP_IL_MAX_SECTIONS];
    uint32_t quirks;              /* ILHEAP_IL_QUIRK_* found by decode */
    uint32_t header_size;         /* 1 or 12 */
    size_t body_size;             /* header + code + padding + sections */
    size_t error_offset;          /* after a failed decode: offset of the defect */
} ilheap_il_body_t;

/* Decodes the body at p, reading at most avail bytes (a body may be followed
 * by anything: avail may be larger than the body). Validates everything
 * (II.25.4): header format and flags, fat header size, code and sections
 * inside the buffer, section kinds, clause kinds, clause ranges inside the
 * code. On success body->body_size is the body's extent.
 *
 * Clauses are written to clauses[0 .. clause_cap): on ILHEAP_IL_CLAUSE_SPACE
 * every other field is valid (the body is well-formed) and body->clause_count
 * says how many entries a second call needs; body->clauses is then NULL.
 * clauses may be NULL when clause_cap is 0.
 *
 * On any other failure body is zeroed except body->error_offset, the offset
 * from p of the defective byte (or of the field that runs past avail).
 * Returns ILHEAP_OK, ILHEAP_EINVAL (NULL p or body), ILHEAP_IL_TRUNCATED_*,
 * _UNKNOWN_FORMAT, _UNKNOWN_FLAGS, _FAT_HEADER_SIZE, _SECTION_KIND,
 * _SECTION_PAST_BUFFER, _TOO_MANY_SECTIONS, _CLAUSE_KIND, _CLAUSE_RANGE or
 * _CLAUSE_SPACE. */
ILHEAP_API ilheap_status_t ilheap_il_decode(const void *p, size_t avail, ilheap_il_body_t *body,
                                            ilheap_il_clause_t *clauses, size_t clause_cap);

/* The same as ilheap_il_decode (which decodes the two common shapes, a
 * whole tiny body and a fat body without sections, on a short path first):
 * the same results, arguments and messages. Kept for source compatibility. */
ILHEAP_API ilheap_status_t ilheap_il_decode_inline(const void *p, size_t avail, ilheap_il_body_t *body,
                                                   ilheap_il_clause_t *clauses, size_t clause_cap);

/* Encoding modes. */
typedef enum ilheap_il_mode {
    /* The smallest legal formats: tiny when code < 64 bytes, max stack <= 8, no
     * local signature, no init_locals and no EH; one EH section, small when
     * there are at most 20 clauses and every clause has offsets < 65536 and
     * lengths < 256, fat otherwise. */
    ILHEAP_IL_COMPACT = 0,
    /* The formats the body records (header, each section's small/fat format,
     * DataSize and Reserved), so that a decoded body re-encodes byte for byte.
     * A format that can no longer hold the fields grows (tiny -> fat, small
     * section -> fat section; a grown section gets an exact DataSize); a
     * format never shrinks. If the recorded sections do not describe the
     * clauses (their counts do not add up, or the clauses were replaced), the
     * EH is written as in compact mode. */
    ILHEAP_IL_PRESERVE = 1,
} ilheap_il_mode_t;

/* ilheap_il_edit_t.what: which fields of the edit replace the body's. */
enum {
    ILHEAP_IL_EDIT_CODE = 1u << 0,        /* code, code_size */
    ILHEAP_IL_EDIT_CLAUSES = 1u << 1,     /* clauses, clause_count */
    ILHEAP_IL_EDIT_LOCAL_SIG = 1u << 2,   /* local_sig */
    ILHEAP_IL_EDIT_INIT_LOCALS = 1u << 3, /* init_locals */
    ILHEAP_IL_EDIT_MAX_STACK = 1u << 4,   /* max_stack */
};

/* A change to a body, applied in this order:
 *  1. the fields named in `what` replace the body's (replacement clauses are
 *     relative to the replacement code);
 *  2. the prologue (if prologue_size > 0) is inserted before the code, and
 *     every clause's try, handler and filter offset moves by prologue_size
 *     (lengths, class tokens and kinds do not change);
 *  3. max stack rises by extra_stack.
 * A zeroed edit (or NULL) changes nothing. Values that no longer fit their
 * field (max stack > 65535, code > 4 GiB - 1, clause offsets past 32 bits) are
 * ILHEAP_IL_OVERFLOW, never wrapped. Branches inside the code are relative and
 * need no change; a branch to offset 0 now lands after the prologue. */
typedef struct ilheap_il_edit {
    uint32_t what;                     /* ILHEAP_IL_EDIT_* */
    const uint8_t *code;               /* EDIT_CODE */
    size_t code_size;
    const ilheap_il_clause_t *clauses; /* EDIT_CLAUSES */
    size_t clause_count;
    uint32_t local_sig;                /* EDIT_LOCAL_SIG: 0 = no locals */
    uint8_t init_locals;               /* EDIT_INIT_LOCALS */
    uint32_t max_stack;                /* EDIT_MAX_STACK (32 bits so overflow is seen) */
    const uint8_t *prologue;           /* inserted before the code */
    size_t prologue_size;
    uint32_t extra_stack;              /* added to max stack */
} ilheap_il_edit_t;

/* Encodes body, changed by edit (NULL = unchanged), in the given mode.
 * With dst NULL only computes the size. Otherwise writes the body to
 * dst[0 .. *size) (dst must be 4-aligned when the result is fat; it must not
 * overlap the source code or clauses) and leaves the rest of dst untouched.
 * *size always receives the exact encoded size on success (and on
 * ILHEAP_IL_DEST_TOO_SMALL, so the caller can retry). Nothing is written on
 * failure. Returns ILHEAP_OK, ILHEAP_EINVAL, ILHEAP_IL_OVERFLOW,
 * ILHEAP_IL_CLAUSE_KIND, ILHEAP_IL_CLAUSE_RANGE, ILHEAP_IL_DEST_TOO_SMALL or
 * ILHEAP_IL_MISALIGNED. */
ILHEAP_API ilheap_status_t ilheap_il_rewrite(const ilheap_il_body_t *body,
                                             const ilheap_il_edit_t *edit, ilheap_il_mode_t mode,
                                             void *dst, size_t cap, size_t *size);

/* ilheap_il_rewrite with no edit: the body as it is. */
ILHEAP_API ilheap_status_t ilheap_il_encode(const ilheap_il_body_t *body, ilheap_il_mode_t mode,
                                            void *dst, size_t cap, size_t *size);

/* The exact size ilheap_il_encode would write. */
ILHEAP_API ilheap_status_t ilheap_il_encoded_size(const ilheap_il_body_t *body,
                                                  ilheap_il_mode_t mode, size_t *size);

struct ilheap_heap; /* include/ilheap/heap.h */

/* ilheap_il_rewrite into a block of exactly the encoded size allocated from
 * heap (so the new body lies inside the module's window). *out receives the
 * block, *size its size (size may be NULL). On failure *out is NULL and
 * nothing was allocated, except when the heap itself fails
 * (ILHEAP_ENOSPACE, ILHEAP_EOS_*, ... from ilheap_heap_try_alloc). */
ILHEAP_API ilheap_status_t ilheap_il_rewrite_to_heap(const ilheap_il_body_t *body,
                                                     const ilheap_il_edit_t *edit,
                                                     ilheap_il_mode_t mode, struct ilheap_heap *heap,
                                                     void **out, size_t *size);

/* Checks that `moved` (typically decoded again after a rewrite) is `orig`
 * with prologue[0 .. prologue_size) inserted and max stack raised by
 * extra_stack: same locals, init_locals, code after the prologue, clauses
 * with every offset moved by prologue_size; header and section formats may
 * differ. (A tiny `moved` passes when orig's max stack + extra_stack <= 8.)
 * Returns ILHEAP_OK or ILHEAP_IL_MISMATCH with a message naming the first
 * difference (ilheap_last_message()). */
ILHEAP_API ilheap_status_t ilheap_il_check_moved(const ilheap_il_body_t *orig,
                                                 const ilheap_il_body_t *moved,
                                                 const uint8_t *prologue, size_t prologue_size,
                                                 uint32_t extra_stack);

/* "catch", "filter", "finally", "fault", or NULL for another value. */
ILHEAP_API const char *ilheap_il_clause_kind_name(uint32_t kind);

#ifdef __cplusplus
}
#endif

#endif /* ILHEAP_IL_H */
