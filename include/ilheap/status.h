/* ilheap status codes: one list for the whole library.
 *
 * Every fallible ilheap function returns an ilheap_status_t: 0 (ILHEAP_OK) on
 * success or one of the positive codes below. Functions that must return a
 * pointer (ilheap_heap_alloc, IMethodMalloc::Alloc) return NULL on failure and
 * record the code and a detailed message for the calling thread, readable with
 * ilheap_last_status() and ilheap_last_message().
 *
 * The list is an X-macro so that the enum, ilheap_status_name() and
 * ilheap_status_message() can never disagree. Codes are stable once released:
 * new codes are appended inside their group's numeric range.
 */
#ifndef ILHEAP_STATUS_H
#define ILHEAP_STATUS_H

#include "ilheap/export.h"

#ifdef __cplusplus
extern "C" {
#endif

/* X(name, value, message) */
#define ILHEAP_STATUS_LIST(X)                                                              \
    X(ILHEAP_OK, 0, "success")                                                             \
    /* 1..99: arguments and the heap */                                                    \
    X(ILHEAP_EINVAL, 1, "invalid argument")                                                \
    X(ILHEAP_ENOMEM, 2, "out of memory for ilheap's own bookkeeping")                      \
    X(ILHEAP_EZEROSIZE, 3, "a zero-byte block was requested")                              \
    X(ILHEAP_ETOOBIG, 4, "the block can never fit in the module's window")                 \
    X(ILHEAP_ENOSPACE, 5, "no free address space left inside the module's window")         \
    X(ILHEAP_EALIGN, 6, "unsupported alignment (use 4, 8 or 16)")                          \
    X(ILHEAP_EWINDOW, 7, "window out of range (1 to 0xFFFFFFFF bytes)")                    \
    X(ILHEAP_ERACE, 8, "other threads kept taking the free gaps first; gave up")           \
    X(ILHEAP_EOS_RESERVE, 9, "the OS refused to reserve address space")                    \
    X(ILHEAP_EOS_COMMIT, 10, "the OS refused to commit memory")                            \
    X(ILHEAP_EOS_MAPS, 11, "could not read the process's memory map")                      \
    X(ILHEAP_EOS_RELEASE, 12, "the OS refused to release memory")                          \
    X(ILHEAP_EUNLOADED, 13, "the module was unloaded; its heap is gone")                   \
    X(ILHEAP_EHEAP_STATE, 14, "unused since 0.2 (the code stays reserved)")                \
    /* 100..199: the COM object and the module registry */                                 \
    X(ILHEAP_ENOTFOUND, 100, "no such module in the registry")                             \
    X(ILHEAP_EBASE_MISMATCH, 101, "module ID already registered with another base address")\
    X(ILHEAP_EFOREIGN, 102, "not an ilheap IMethodMalloc object")                          \
    /* 200..299: the IL method-body codec */                                               \
    X(ILHEAP_IL_TRUNCATED_HEADER, 200, "method body truncated inside its header")          \
    X(ILHEAP_IL_TRUNCATED_CODE, 201, "method body truncated inside its IL code")           \
    X(ILHEAP_IL_TRUNCATED_SECTION, 202, "method body truncated inside a data section")     \
    X(ILHEAP_IL_UNKNOWN_FORMAT, 203, "method header is neither tiny nor fat")              \
    X(ILHEAP_IL_UNKNOWN_FLAGS, 204, "fat method header has unknown flag bits")             \
    X(ILHEAP_IL_FAT_HEADER_SIZE, 205, "fat method header size is not 3 dwords")            \
    X(ILHEAP_IL_SECTION_KIND, 206, "data section kind is reserved or unknown")             \
    X(ILHEAP_IL_SECTION_PAST_BUFFER, 207, "data section runs past the end of the buffer")  \
    X(ILHEAP_IL_TOO_MANY_SECTIONS, 208, "more data sections than the codec records")       \
    X(ILHEAP_IL_CLAUSE_KIND, 209, "exception clause kind is not catch/filter/finally/fault") \
    X(ILHEAP_IL_CLAUSE_RANGE, 210, "exception clause range lies outside the IL code")      \
    X(ILHEAP_IL_CLAUSE_SPACE, 211, "more exception clauses than the caller's array holds") \
    X(ILHEAP_IL_OVERFLOW, 212, "a value does not fit its field in the method body")        \
    X(ILHEAP_IL_DEST_TOO_SMALL, 213, "destination too small for the encoded method body")  \
    X(ILHEAP_IL_MISALIGNED, 214, "fat method body destination is not 4-byte aligned")      \
    X(ILHEAP_IL_MISMATCH, 215, "method body differs from the one it was checked against")  \
    X(ILHEAP_IL_UNKNOWN_OPCODE, 216, "IL opcode not defined by ECMA-335")                  \
    X(ILHEAP_IL_TRUNCATED_OPERAND, 217, "IL instruction operand runs past the end of the code") \
    X(ILHEAP_IL_BAD_TARGET, 218, "branch, switch or EH target is not an instruction start") \
    X(ILHEAP_IL_BAD_PREFIX, 219, "IL prefix not followed by an instruction it may prefix") \
    X(ILHEAP_IL_SPLIT_PREFIX, 220, "nothing may go between a prefix and its instruction")  \
    X(ILHEAP_IL_SPLIT_TAIL_CALL, 221, "nothing may go between tail. call and its ret")     \
    X(ILHEAP_IL_STACK_UNKNOWN, 222, "stack effect unknown: a stack callback is needed")    \
    X(ILHEAP_IL_STACK_NOT_NEUTRAL, 223, "inserted code is not stack neutral: a stack callback is needed") \
    X(ILHEAP_IL_STACK_MISMATCH, 224, "IL stack underflows or differs where paths join")    \
    X(ILHEAP_IL_BAD_REF, 225, "not a live instruction id of this rewriter")                \
    X(ILHEAP_IL_BAD_SIG, 226, "malformed local variable signature")                        \
    X(ILHEAP_IL_EH_NESTING, 227, "exception clause would overlap another partially or break the table's order") \
    X(ILHEAP_IL_EH_FLOW, 228, "control would enter or leave a protected block, handler or filter illegally") \
    X(ILHEAP_IL_EH_INSTRUCTION, 229, "instruction not allowed where it is (ret, jmp, endfinally, endfilter, rethrow, localloc)") \
    X(ILHEAP_IL_NO_CTOR_CALL, 230, "no base or this constructor call found at the start of the constructor") \
    /* 300..399: the PE / ECMA-335 reader */                                               \
    X(ILHEAP_PE_TRUNCATED, 300, "file truncated")                                          \
    X(ILHEAP_PE_BAD_DOS_HEADER, 301, "not a PE file: bad DOS header ('MZ' or e_lfanew)")    \
    X(ILHEAP_PE_BAD_PE_SIGNATURE, 302, "not a PE file: no 'PE\\0\\0' signature")          \
    X(ILHEAP_PE_BAD_OPTIONAL_HEADER, 303, "bad PE optional header")                        \
    X(ILHEAP_PE_BAD_SECTION_TABLE, 304, "bad PE section table")                            \
    X(ILHEAP_PE_NOT_CLI, 305, "not a .NET assembly: no CLI header")                        \
    X(ILHEAP_PE_BAD_CLI_HEADER, 306, "bad CLI header")                                     \
    X(ILHEAP_PE_RVA_OUTSIDE_SECTIONS, 307, "RVA outside every section")                    \
    X(ILHEAP_PE_RVA_NO_FILE_DATA, 308, "RVA in a section's part that has no file bytes")   \
    X(ILHEAP_PE_BAD_METADATA_ROOT, 309, "bad metadata root (BSJB)")                        \
    X(ILHEAP_PE_BAD_STREAM_HEADER, 310, "bad metadata stream header")                      \
    X(ILHEAP_PE_NO_TABLE_STREAM, 311, "no #~ or #- metadata table stream")                 \
    X(ILHEAP_PE_BAD_TABLE_STREAM, 312, "bad metadata table stream")                        \
    X(ILHEAP_PE_BAD_HEAP_INDEX, 313, "heap index out of range or unterminated string")     \
    X(ILHEAP_PE_BAD_ROW, 314, "row number out of range")                                   \
    X(ILHEAP_PE_NO_OWNER, 315, "no TypeDef owns the method (MethodList out of order)")    \
    X(ILHEAP_PE_REGION_TOO_SMALL, 316, "region smaller than the image's SizeOfImage")      \
    X(ILHEAP_PE_BAD_HANDLE, 317, "not an open PE image handle")                            \
    X(ILHEAP_PE_NO_PDB_STREAM, 318, "not a portable PDB: no #Pdb stream")                  \
    X(ILHEAP_PE_BAD_PDB_STREAM, 319, "bad #Pdb stream")                                    \
    X(ILHEAP_PE_BAD_DOCUMENT, 320, "bad PDB Document row or name blob")                    \
    X(ILHEAP_PE_BAD_SEQUENCE_POINTS, 321, "bad sequence points blob")                      \
    X(ILHEAP_PE_BAD_DEBUG_DIRECTORY, 322, "bad PE debug directory")                        \
    X(ILHEAP_PE_BAD_SOURCE_LINK, 330, "bad Source Link JSON in a PDB")                     \
    /* 340..349: signatures (II.23.2) */                                                   \
    X(ILHEAP_SIG_TRUNCATED, 340, "signature blob ends inside an element")                  \
    X(ILHEAP_SIG_BAD_ELEMENT, 341, "element type or calling convention not valid there")   \
    X(ILHEAP_SIG_TOO_DEEP, 342, "signature nests deeper than ILHEAP_SIG_MAX_DEPTH")        \
    X(ILHEAP_SIG_BAD_COUNT, 343, "signature count or integer malformed or past the bytes left") \
    X(ILHEAP_SIG_BAD_TOKEN, 344, "bad TypeDefOrRefOrSpecEncoded token in a signature")     \
    X(ILHEAP_SIG_TRAILING, 345, "bytes after the end of the signature")                    \
    X(ILHEAP_SIG_NO_ROOM, 346, "arena or output buffer too small for the signature")       \
    X(ILHEAP_SIG_BAD_TREE, 347, "signature tree cannot be encoded")                        \
    /* 400..499: files and tools */                                                        \
    X(ILHEAP_EIO, 400, "could not read the file")                                          \
    X(ILHEAP_EOS_FILE, 401, "the OS refused a file operation")                              \
    X(ILHEAP_ENOFILE, 402, "no such file")                                                 \
    /* 500..599: counts files (counts.h) */                                                \
    X(ILHEAP_COUNTS_NOT_COUNTS, 500, "not a counts file (neither ilheap's format nor JSON lines)") \
    X(ILHEAP_COUNTS_VERSION, 501, "a counts file of a format version this reader does not know") \
    X(ILHEAP_COUNTS_TRUNCATED, 502, "counts file truncated")                               \
    X(ILHEAP_COUNTS_CORRUPT, 503, "counts file corrupt")                                   \
    X(ILHEAP_COUNTS_MISMATCH, 504, "the snapshot is not one of this counts file")

typedef enum ilheap_status {
#define ILHEAP_STATUS_ENUM(name, value, message) name = value,
    ILHEAP_STATUS_LIST(ILHEAP_STATUS_ENUM)
#undef ILHEAP_STATUS_ENUM
} ilheap_status_t;

/* "ILHEAP_ENOSPACE" for ILHEAP_ENOSPACE; "ILHEAP_UNKNOWN" for a code not in the list. */
ILHEAP_API const char *ilheap_status_name(int status);

/* The fixed one-line message of a code ("unknown status code" if not in the list). */
ILHEAP_API const char *ilheap_status_message(int status);

/* The status of the calling thread's last failed ilheap call that returned NULL
 * (ILHEAP_OK if none has failed yet). Successful calls do not reset it. */
ILHEAP_API ilheap_status_t ilheap_last_status(void);

/* A detailed message for the calling thread's last failure: the fixed message
 * plus what was asked and why it failed ("window full: 4096 bytes requested,
 * ..."). Valid until the thread's next failing ilheap call. Never NULL. */
ILHEAP_API const char *ilheap_last_message(void);

#ifdef __cplusplus
}
#endif

#endif /* ILHEAP_STATUS_H */
