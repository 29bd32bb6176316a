/* Test helpers shared by the PE tests: finding the installed .NET runtime's
 * shared framework and reading whole files. */
#ifndef ILHEAP_TESTS_PE_ASSEMBLIES_H
#define ILHEAP_TESTS_PE_ASSEMBLIES_H

#include <stddef.h>
#include <stdint.h>

#include "ilheap/il.h"
#include "ilheap/pe.h"

/* The Microsoft.NETCore.App directory to test against: $ILHEAP_SHARED_FRAMEWORK
 * if set, else the newest version under $DOTNET_ROOT or /usr/share/dotnet.
 * Returns 0 and fills dir, or -1 (with a reason in why) when there is none. */
int pe_test_find_framework(char *dir, size_t dir_size, char *why, size_t why_size);

/* The sorted *.dll names in dir; *count gets their number. Free with
 * pe_test_free_list. NULL when the directory cannot be read. */
char **pe_test_list_dlls(const char *dir, size_t *count);
void pe_test_free_list(char **names, size_t count);

/* Both of the above: the framework's sorted *.dll names, or NULL with the
 * reason (no runtime, unreadable or empty directory) in why. */
char **pe_test_framework_dlls(char *dir, size_t dir_size, size_t *count, char *why, size_t why_size);

/* Calls visit(name, data, size, ctx) for each *.dll of the framework, in name
 * order, with the whole file read into a buffer of exactly its size (freed
 * after the call). Returns the number of assemblies visited; -1 when there is
 * no framework (why says why: a reason to skip); -2 when a file cannot be
 * read (why names it: a failure). dir receives the framework directory. */
long pe_test_each_framework_dll(void (*visit)(const char *name, const uint8_t *data, size_t size,
                                              void *ctx),
                                void *ctx, char *dir, size_t dir_size, char *why, size_t why_size);

/* The framework's file `name` ("System.Private.CoreLib.dll") read whole:
 * its path in path[0..path_size), its bytes (free() them). NULL, with the
 * reason in why (no runtime, or unreadable), when there is none. */
uint8_t *pe_test_framework_file(const char *name, char *path, size_t path_size, size_t *size, char *why,
                                size_t why_size);

/* The whole file in a malloc'd buffer of exactly its size (so ASan sees any
 * read past its end); NULL on failure. */
uint8_t *pe_test_read_file(const char *path, size_t *size);

/* Seconds on the monotonic clock, for the figures the real-body tests print. */
double pe_test_now(void);

/* ilheap_il_decode with stack[0 .. stack_n) for the clauses, or, when the
 * body has more, a malloc'd array in *heap (the caller frees it). */
ilheap_status_t pe_test_decode(const uint8_t *p, size_t avail, ilheap_il_body_t *b,
                               ilheap_il_clause_t *stack, size_t stack_n,
                               ilheap_il_clause_t **heap);

/* One IL body of an image, as the PE reader found it. */
typedef struct pe_test_body {
    const uint8_t *p;
    size_t avail;
} pe_test_body_t;

/* What a test checks on one body: NULL, or what went wrong. */
typedef const char *(*pe_test_body_check)(const ilheap_pe_method_t *m, const uint8_t *p,
                                          size_t avail, void *ctx);

/* Walks every method with IL of the image data[0 .. size) through the PE
 * reader, calls check on each body and lists the bodies in *bodies (grown
 * with realloc; *cap its capacity, kept between images; free() at the end),
 * *count how many. Returns NULL, or a message (valid until the next call)
 * naming the image and the method that could not be read or failed check. */
const char *pe_test_image_bodies(const char *name, const uint8_t *data, size_t size,
                                 pe_test_body_check check, void *ctx, pe_test_body_t **bodies,
                                 size_t *count, size_t *cap);

#endif
