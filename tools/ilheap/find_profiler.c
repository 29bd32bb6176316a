/* Finding the CoreCLR profiler next to the ilheap command, in each layout it
 * ships in, and checking that it is a library the runtime can load (see
 * collect.h). */
#include "collect.h"
#include "process.h"
#include "tool.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef _WIN32
static const char *const profiler_names[] = {"ilheap_profiler.dll", "libilheap_profiler.dll"};
#elif defined(__APPLE__)
static const char *const profiler_names[] = {"libilheap_profiler.dylib"};
#else
static const char *const profiler_names[] = {"libilheap_profiler.so"};
#endif

/* Directories relative to the command's own: the NuGet package and any flat
 * copy (both side by side), the installed tree (bin/ -> LIBDIR/ilheap/, from
 * CMake) and the build tree (tools/ -> profiler/). */
static const char *const profiler_dirs[] = {
    ".",
#ifdef ILHEAP_PROFILER_FROM_BINDIR
    ILHEAP_PROFILER_FROM_BINDIR,
#endif
    "../lib/ilheap",
    "../profiler",
};

/* The machine a binary is built for: ELF e_machine or PE/COFF Machine; 0 when
 * the file is neither (or unreadable), with *why set. */
static unsigned binary_machine(const char *path, const char **why)
{
    unsigned char h[512];
    FILE *f = fopen(path, "rb");
    size_t n = f != NULL ? fread(h, 1, sizeof h, f) : 0;
    if (f != NULL)
        fclose(f);
    *why = f == NULL ? "cannot be opened" : "is neither an ELF nor a PE shared library";
    if (n >= 20 && memcmp(h, "\177ELF", 4) == 0)
        return h[5] == 2 ? (unsigned)h[19] << 8 | h[18] : (unsigned)h[18] << 8 | h[19];
    if (n >= 64 && h[0] == 'M' && h[1] == 'Z') {
        size_t pe = (size_t)h[60] | (size_t)h[61] << 8;
        if (pe + 6 <= n && memcmp(h + pe, "PE\0\0", 4) == 0)
            return (unsigned)h[pe + 4] | (unsigned)h[pe + 5] << 8;
    }
    return 0;
}

/* Checks that `path` is a library of this command's machine. */
static int check_profiler(const char *path, const char *self)
{
    const char *why;
    unsigned machine = binary_machine(path, &why);
    if (machine == 0) {
        fprintf(stderr, "ilheap collect: the profiler %s %s\n", path, why);
        return TOOL_EXIT_MALFORMED;
    }
    unsigned own = self != NULL ? binary_machine(self, &why) : 0;
    if (own != 0 && own != machine) {
        fprintf(stderr,
                "ilheap collect: the profiler %s is built for another machine (type %#x; this ilheap is %#x): "
                "the runtime would ignore it\n",
                path, machine, own);
        return TOOL_EXIT_MALFORMED;
    }
    return 0;
}

static bool absolute(const char *path, char *out, size_t size)
{
#ifdef _WIN32
    return _fullpath(out, path, size) != NULL;
#else
    char *r = realpath(path, NULL);
    bool ok = r != NULL && strlen(r) < size;
    if (ok)
        strcpy(out, r);
    free(r);
    return ok;
#endif
}

int collect_find_profiler(const char *given, char *out, size_t size)
{
    char self[4096];
    bool have_self = proc_self_path(self, sizeof self);
    if (given != NULL) {
        if (!absolute(given, out, size)) {
            fprintf(stderr, "ilheap collect: --profiler %s: no such file\n", given);
            return TOOL_EXIT_MISSING;
        }
        return check_profiler(out, have_self ? self : NULL);
    }
    if (!have_self) {
        fprintf(stderr, "ilheap collect: cannot tell where this ilheap is, to find the profiler beside it: "
                        "give --profiler PATH\n");
        return TOOL_EXIT_MISSING;
    }
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", self);
    char *slash = (char *)tool_base_name(dir);
    *slash = '\0'; /* dir keeps its trailing separator */
    char tried[4096] = "";
    for (size_t d = 0; d < sizeof profiler_dirs / sizeof profiler_dirs[0]; d++) {
        for (size_t n = 0; n < sizeof profiler_names / sizeof profiler_names[0]; n++) {
            char candidate[4096 + 256];
            if (snprintf(candidate, sizeof candidate, "%s%s/%s", dir, profiler_dirs[d], profiler_names[n]) >=
                (int)sizeof candidate)
                continue;
            if (absolute(candidate, out, size))
                return check_profiler(out, self);
            size_t used = strlen(tried);
            if (snprintf(tried + used, sizeof tried - used, "\n  %s", candidate) < 0)
                tried[used] = '\0';
        }
    }
    fprintf(stderr,
            "ilheap collect: no profiler next to %s; looked for:%s\n"
            "build it (bash scripts/main.sh builds build/release/profiler/), install it (cmake --install), "
            "or give --profiler PATH\n",
            self, tried);
    return TOOL_EXIT_MISSING;
}
