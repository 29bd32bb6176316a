/* Test helpers shared by the PE tests: finding the installed .NET runtime's
 * shared framework and reading whole files. */
#ifndef ILHEAP_TESTS_PE_ASSEMBLIES_H
#define ILHEAP_TESTS_PE_ASSEMBLIES_H

#include <stddef.h>
#include <stdint.h>

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

/* The whole file in a malloc'd buffer of exactly its size (so ASan sees any
 * read past its end); NULL on failure. */
uint8_t *pe_test_read_file(const char *path, size_t *size);

#endif
