/* Deterministic document paths ("/_/src/A.cs") mapped back to files (see
 * source_map.h). */
#include "source_map.h"
#include "tool.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifdef _WIN32
#define LIST_SEPARATOR ';'
#else
#define LIST_SEPARATOR ':'
#endif

static const char *given_roots;

void source_map_set_roots(const char *list)
{
    given_roots = list;
}

static bool is_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

void source_map_open(source_map_t *m, const char *cmd, const char *dll, const ilheap_pdb_t *pdb)
{
    memset(m, 0, sizeof *m);
    snprintf(m->dll_dir, sizeof m->dll_dir, "%s", dll);
    *(char *)tool_base_name(m->dll_dir) = '\0';
    ilheap_pe_error_t err;
    if (pdb != NULL && ilheap_pdb_source_link(pdb, &m->link, &err) != ILHEAP_OK) {
        fprintf(stderr, "ilheap %s: %s: its PDB's Source Link does not read (%s); \"/_/\" paths are mapped without it\n",
                cmd, dll, err.message);
        m->link = NULL;
    }
}

void source_map_close(source_map_t *m)
{
    ilheap_source_link_free(m->link);
    m->link = NULL;
}

/* The deterministic prefix of path: a Source Link prefix key, else "/_/" or
 * "/_N/"; its length, 0 when there is none. */
static size_t prefix_of(const source_map_t *m, const char *path)
{
    size_t index;
    const char *key;
    if (ilheap_source_link_match(m->link, path, &index) && ilheap_source_link_entry(m->link, index, &key, NULL)) {
        size_t n = strlen(key);
        if (n > 1 && key[n - 1] == '*')
            return n - 1;
    }
    if (strncmp(path, "/_", 2) != 0)
        return 0;
    size_t i = 2;
    while (path[i] >= '0' && path[i] <= '9')
        i++;
    return path[i] == '/' ? i + 1 : 0;
}

/* Tries root + rel; on success the root (with a '/') goes into out. */
static bool try_root(const char *root, size_t root_len, const char *rel, char *out, size_t size)
{
    char candidate[8192];
    if (root_len == 0 || root_len >= sizeof candidate / 2)
        return false;
    bool slash = root[root_len - 1] == '/' || root[root_len - 1] == '\\';
    snprintf(candidate, sizeof candidate, "%.*s%s%s", (int)root_len, root, slash ? "" : "/", rel);
    if (!is_file(candidate))
        return false;
    snprintf(out, size, "%.*s%s", (int)root_len, root, slash ? "" : "/");
    return true;
}

/* start and each of its parents, up to the root. */
static bool try_parents(const char *start, const char *rel, char *out, size_t size)
{
    size_t n = strlen(start);
    while (n > 0) {
        while (n > 1 && start[n - 1] == '/')
            n--;
        if (try_root(start, n, rel, out, size))
            return true;
        if (n == 1)
            return false;
        while (n > 0 && start[n - 1] != '/')
            n--; /* "/a/b" -> "/a/" (then "/a"), "/a" -> "/" */
    }
    return false;
}

static bool find_root(const source_map_t *m, const char *rel, char *out, size_t size)
{
    const char *list = given_roots != NULL ? given_roots : getenv("ILHEAP_SOURCE_ROOT");
    for (const char *p = list; p != NULL && *p != '\0';) {
        const char *end = strchr(p, LIST_SEPARATOR);
        size_t len = end != NULL ? (size_t)(end - p) : strlen(p);
        if (try_root(p, len, rel, out, size))
            return true;
        p = end != NULL ? end + 1 : p + len;
    }
    char cwd[4096], nuget[4096];
    if (try_parents(m->dll_dir, rel, out, size) || (getcwd(cwd, sizeof cwd) != NULL && try_parents(cwd, rel, out, size)))
        return true;
    /* NuGet's package folder is a source root too (a test project's generated Program.cs comes from one) */
    const char *packages = getenv("NUGET_PACKAGES"), *home = getenv("HOME");
    if (packages == NULL && home != NULL && snprintf(nuget, sizeof nuget, "%s/.nuget/packages", home) < (int)sizeof nuget)
        packages = nuget;
    return packages != NULL && try_root(packages, strlen(packages), rel, out, size);
}

bool source_map_apply(source_map_t *m, char *path, size_t size)
{
    size_t plen = prefix_of(m, path);
    if (plen == 0 || plen >= sizeof m->roots[0].prefix || is_file(path))
        return false;
    const char *rel = path + plen;
    size_t i = 0;
    while (i < m->count && (strlen(m->roots[i].prefix) != plen || strncmp(m->roots[i].prefix, path, plen) != 0))
        i++;
    if (i == m->count) {
        if (m->count == SOURCE_MAP_PREFIXES)
            return false;
        memcpy(m->roots[i].prefix, path, plen);
        m->roots[i].prefix[plen] = '\0';
        if (!find_root(m, rel, m->roots[i].root, sizeof m->roots[i].root))
            m->roots[i].root[0] = '\0';
        m->count++;
    }
    char mapped[8192];
    if (m->roots[i].root[0] == '\0' ||
        snprintf(mapped, sizeof mapped, "%s%s", m->roots[i].root, rel) >= (int)sizeof mapped ||
        strlen(mapped) >= size)
        return false;
    strcpy(path, mapped);
    return true;
}
