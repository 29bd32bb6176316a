/* Input assemblies: reading a file whole with clear errors, the default input
 * (the newest installed runtime's CoreLib, else the built-in assembly), and
 * opening it with the PE reader. */
#include "tool.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Windows' C runtime opens in text mode unless told otherwise (CR LF and ^Z
 * would be translated); it has no O_CLOEXEC. */
#if defined(_WIN32)
#define TOOL_OPEN_READ (O_RDONLY | O_BINARY)
#else
#define TOOL_OPEN_READ (O_RDONLY | O_CLOEXEC)
#endif

const char tool_exit_help[] =
    "exit status:\n"
    "  0  success (rehome: every check held)\n"
    "  1  rehome: a body failed a check (the method's token and the reason are printed)\n"
    "  2  bad arguments\n"
    "  3  the file does not exist\n"
    "  4  the file cannot be read (permissions, a directory, an I/O error, too large)\n"
    "  5  malformed: not a .NET assembly, a damaged one, or a method body that does not decode\n"
    "  6  out of memory or address space\n";

/* Dotted version numbers compared numerically ("10.0.12" > "10.0.9" >
 * "10.0.0-rc.1": a pre-release sorts below its release). */
static int compare_versions(const char *a, const char *b)
{
    for (;;) {
        char *ea, *eb;
        unsigned long va = strtoul(a, &ea, 10), vb = strtoul(b, &eb, 10);
        if (va != vb)
            return va < vb ? -1 : 1;
        if (*ea == '.' && *eb == '.') {
            a = ea + 1;
            b = eb + 1;
            continue;
        }
        if (*ea == *eb)
            return *ea == '\0' ? 0 : strcmp(ea, eb);
        /* One ended (or went on with '.'): the one that ends is the release. */
        if (*ea == '\0' || *eb == '\0')
            return *ea == '\0' ? (*eb == '-' ? 1 : -1) : (*ea == '-' ? -1 : 1);
        return *ea == '.' ? 1 : *eb == '.' ? -1 : strcmp(ea, eb);
    }
}

/* Looks in root/shared/Microsoft.NETCore.App/<version>/ for the newest version
 * that holds a readable CoreLib, better than best_version. */
static void search_root(const char *root, char *best_version, size_t version_size, char *best_path, size_t path_size)
{
    char parent[4096];
    if (snprintf(parent, sizeof parent, "%s/shared/Microsoft.NETCore.App", root) >= (int)sizeof parent)
        return;
    DIR *d = opendir(parent);
    if (d == NULL)
        return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] < '0' || e->d_name[0] > '9')
            continue;
        if (best_version[0] != '\0' && compare_versions(e->d_name, best_version) <= 0)
            continue;
        char path[4096];
        if (snprintf(path, sizeof path, "%s/%s/System.Private.CoreLib.dll", parent, e->d_name) >= (int)sizeof path ||
            access(path, R_OK) != 0)
            continue;
        snprintf(best_version, version_size, "%s", e->d_name);
        snprintf(best_path, path_size, "%s", path);
    }
    closedir(d);
}

int tool_default_input(char *path, size_t path_size)
{
    char version[256] = "";
    path[0] = '\0';
    const char *root = getenv("DOTNET_ROOT");
    if (root != NULL && root[0] != '\0')
        search_root(root, version, sizeof version, path, path_size);
    search_root("/usr/share/dotnet", version, sizeof version, path, path_size);
    search_root("/usr/lib/dotnet", version, sizeof version, path, path_size);
    return path[0] != '\0' ? 0 : -1;
}

static int load_file(const char *cmd, const char *path, tool_input_t *in)
{
    snprintf(in->path, sizeof in->path, "%s", path);
    int fd = open(path, TOOL_OPEN_READ);
    struct stat st;
    if (fd < 0 && errno == EACCES && stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
        /* Windows refuses to open a directory (EACCES) where Linux opens it. */
        fprintf(stderr, "ilheap %s: %s: is a directory, not an assembly file\n", cmd, path);
        return TOOL_EXIT_UNREADABLE;
    }
    if (fd < 0) {
        int err = errno;
        fprintf(stderr, "ilheap %s: %s: %s\n", cmd, path,
                err == ENOENT || err == ENOTDIR ? "no such file" : strerror(err));
        return err == ENOENT || err == ENOTDIR ? TOOL_EXIT_MISSING : TOOL_EXIT_UNREADABLE;
    }
    const char *why = NULL;
    if (fstat(fd, &st) != 0)
        why = strerror(errno);
    else if (S_ISDIR(st.st_mode))
        why = "is a directory, not an assembly file";
    else if (!S_ISREG(st.st_mode))
        why = "not a regular file";
    if (why != NULL) {
        fprintf(stderr, "ilheap %s: %s: %s\n", cmd, path, why);
        close(fd);
        return TOOL_EXIT_UNREADABLE;
    }
    /* PE offsets and RVAs are 32-bit: no assembly is 4 GiB or larger. */
    if ((uint64_t)st.st_size > UINT32_MAX) {
        fprintf(stderr, "ilheap %s: %s: %lld bytes: too large for a PE image (4 GiB at most)\n", cmd, path,
                (long long)st.st_size);
        close(fd);
        return TOOL_EXIT_UNREADABLE;
    }
    size_t size = (size_t)st.st_size;
    /* Exactly the file's size (at least one byte for malloc), so that a read
     * past the end is a sanitizer error, not a silent success. */
    uint8_t *data = malloc(size ? size : 1);
    if (data == NULL) {
        fprintf(stderr, "ilheap %s: %s: out of memory for %zu bytes\n", cmd, path, size);
        close(fd);
        return TOOL_EXIT_SYSTEM;
    }
    size_t got = 0;
    while (got < size) {
        ssize_t n = read(fd, data + got, size - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            fprintf(stderr, "ilheap %s: %s: read failed after %zu of %zu bytes: %s\n", cmd, path, got, size,
                    n < 0 ? strerror(errno) : "file shrank while reading");
            free(data);
            close(fd);
            return TOOL_EXIT_UNREADABLE;
        }
        got += (size_t)n;
    }
    close(fd);
    in->data = data;
    in->size = size;
    return 0;
}

int tool_load(const char *cmd, const char *path, bool builtin, tool_input_t *in)
{
    memset(in, 0, sizeof *in);
    if (path == NULL && !builtin) {
        char found[4096];
        if (tool_default_input(found, sizeof found) == 0) {
            int rc = load_file(cmd, found, in);
            in->defaulted = true;
            return rc;
        }
        in->defaulted = true;
    }
    if (path == NULL) {
        snprintf(in->path, sizeof in->path, "(built-in fallback assembly)");
        in->data = (uint8_t *)tool_fallback_assembly;
        in->size = tool_fallback_assembly_size;
        in->builtin = true;
        return 0;
    }
    return load_file(cmd, path, in);
}

void tool_input_free(tool_input_t *in)
{
    if (!in->builtin)
        free(in->data);
    in->data = NULL;
}

int tool_load_and_open(const char *cmd, const char *path, bool builtin, tool_input_t *in, ilheap_pe_t **pe)
{
    int rc = tool_load(cmd, path, builtin, in);
    if (rc != 0)
        return rc;
    ilheap_pe_error_t err;
    ilheap_status_t st = ilheap_pe_open(in->data, in->size, pe, &err);
    if (st == ILHEAP_OK)
        return 0;
    fprintf(stderr, "ilheap %s: %s: %s\n", cmd, in->path, err.message);
    tool_input_free(in);
    return st == ILHEAP_ENOMEM ? TOOL_EXIT_SYSTEM : TOOL_EXIT_MALFORMED;
}
