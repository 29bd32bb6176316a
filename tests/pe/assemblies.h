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

/* The whole file in a malloc'd buffer of exactly its size (so ASan sees any
 * read past its end); NULL on failure. */
uint8_t *pe_test_read_file(const char *path, size_t *size);

#endif
