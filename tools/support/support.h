/* The support library of the programs built on ilheap (the ilheap command,
 * the profiler, the benchmarks, the tests): small pieces they share that are
 * not the library's business. Not part of libilheap, never installed; every
 * name here starts with support_ (SUPPORT_ for macros).
 *
 *   names.c            assembly-name patterns (ILHEAP_INCLUDE, cover --include)
 *   modules_linux.c    loaded modules and image regions, per OS
 *   modules_windows.c
 */
#ifndef ILHEAP_SUPPORT_H
#define ILHEAP_SUPPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Marks a printf-style function (format string at position fmt, arguments
 * from args) so the compiler checks its callers. mingw-w64 formats with its
 * own C99 printf (__USE_MINGW_ANSI_STDIO, on in C11 mode), not msvcrt's, so
 * there %zu and %llu are checked as GNU formats. */
#if defined(__MINGW32__)
#define SUPPORT_PRINTF_LIKE(fmt, args) __attribute__((format(gnu_printf, fmt, args)))
#elif defined(__GNUC__)
#define SUPPORT_PRINTF_LIKE(fmt, args) __attribute__((format(printf, fmt, args)))
#else
#define SUPPORT_PRINTF_LIKE(fmt, args)
#endif

/* ---------------------------------------------------------------- names */

/* Assembly-name patterns, one owner for the profiler's ILHEAP_INCLUDE /
 * ILHEAP_EXCLUDE and `ilheap cover --include/--exclude`: `*` matches any run
 * of characters (none included), every other character itself, ASCII
 * case-insensitively (assembly names are case-insensitive), matched against
 * the whole file name without extension (`MyLib`, `System.*`). */

/* True when pattern[0 .. len) matches all of name. */
bool support_name_match(const char *pattern, size_t len, const char *name);

/* True when one of the comma-separated patterns in list matches name. An
 * empty list (or empty pattern) matches nothing. */
bool support_name_list_match(const char *list, const char *name);

/* ---------------------------------------------------------------- modules */

/* A module loaded in this process: its base and image size. The library never
 * needs this (a profiler gets module bases from the runtime); the ilheap
 * command, the benchmarks and the tests use it to put heaps above real
 * modules. Linux: dl_iterate_phdr; Windows: the Toolhelp32 module list. */
typedef struct support_module {
    char name[260];
    uintptr_t base; /* the lowest address of the image */
    size_t size;    /* bytes from base to the end of the last segment/section */
} support_module_t;

/* Finds the first loaded module whose file name contains name_part (on
 * Windows without regard to case), or the main program when name_part is
 * NULL. Returns true and fills *out, or false when none matches. */
bool support_find_module(const char *name_part, support_module_t *out);

/* A fresh, zeroed, read-write region of size bytes, page-aligned, placed by
 * the OS (mmap / VirtualAlloc), to lay an image out in as a loader would
 * (ilheap_pe_layout). Returns NULL when the OS refuses. Free with
 * support_image_region_free(p, size). */
void *support_image_region(size_t size);
void support_image_region_free(void *p, size_t size);

#endif
