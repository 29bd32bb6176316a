/* Deterministic document paths ("/_/src/A.cs") mapped back to files (see
 * source_map.h). */
#include "source_map.h"
#include "tool.h"

#include <ctype.h>
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
    if (plen == 0 && !is_file(path))
        return source_map_path("cover", path, size);
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

/* ---- paths of another machine (source_map_path) */

#define PATH_MAPS 32

typedef struct path_map {
    const char *from, *to;
    size_t from_len, to_len;
} path_map_t;

static path_map_t path_maps[PATH_MAPS];
static size_t path_map_count;
static bool env_maps_read;
#ifndef _WIN32
static bool unmapped_said;
#endif

static bool is_sep(char c)
{
    return c == '/' || c == '\\';
}

/* "X:" followed by a separator or the end: a Windows drive path. */
static bool drive_path(const char *p, size_t len)
{
    return len >= 2 && isalpha((unsigned char)p[0]) && p[1] == ':' && (len == 2 || is_sep(p[2]));
}

/* Adds the map of spec[0..len); false when it is not FROM=TO. */
static bool add_map(const char *cmd, const char *spec, size_t len)
{
    const char *eq = memchr(spec, '=', len);
    if (eq == NULL || eq == spec || eq + 1 == spec + len || path_map_count == PATH_MAPS) {
        fprintf(stderr, "ilheap %s: path map '%.*s': %s\n", cmd, (int)len, spec,
                path_map_count == PATH_MAPS ? "more than 32 maps" : "FROM=TO expected (both not empty)");
        return false;
    }
    path_maps[path_map_count++] = (path_map_t){spec, eq + 1, (size_t)(eq - spec), (size_t)(spec + len - eq - 1)};
    return true;
}

bool source_map_add_path_map(const char *cmd, const char *spec)
{
    return add_map(cmd, spec, strlen(spec));
}

/* ILHEAP_PATH_MAP's maps, after the given ones; a bad one is said and skipped. */
static void read_env_maps(const char *cmd)
{
    env_maps_read = true;
    const char *list = getenv("ILHEAP_PATH_MAP");
    for (const char *p = list; p != NULL && *p != '\0';) {
        size_t len = strcspn(p, ";");
        if (len != 0)
            add_map(cmd, p, len);
        p += len + (p[len] != '\0');
    }
}

/* The length of path's part that FROM matches (a whole component), or 0. */
static size_t map_match(const path_map_t *m, const char *path)
{
    bool windows = drive_path(m->from, m->from_len) || memchr(m->from, '\\', m->from_len) != NULL;
    size_t i = 0;
    for (; i < m->from_len; i++) {
        char a = m->from[i], b = path[i];
        if (b == '\0')
            return 0;
        if (is_sep(a) ? !is_sep(b) : windows ? tolower((unsigned char)a) != tolower((unsigned char)b) : a != b)
            return 0;
    }
    return is_sep(m->from[i - 1]) || path[i] == '\0' || is_sep(path[i]) ? i : 0;
}

/* to[0..to_len) + rest into out, the rest's separators this system's; true
 * when it fits and names an existing file or directory. */
static bool join_existing(const char *to, size_t to_len, const char *rest, char *out, size_t size)
{
    while (to_len > 1 && is_sep(to[to_len - 1]) && is_sep(rest[0]))
        to_len--;
    bool sep = to_len != 0 && !is_sep(to[to_len - 1]) && rest[0] != '\0' && !is_sep(rest[0]);
    size_t n = to_len + sep + strlen(rest);
    if (n >= size)
        return false;
    memcpy(out, to, to_len);
    if (sep)
        out[to_len] = '/';
    strcpy(out + to_len + sep, rest);
#ifndef _WIN32
    for (char *c = out + to_len; *c != '\0'; c++)
        if (*c == '\\')
            *c = '/';
#endif
    struct stat st;
    return stat(out, &st) == 0;
}

#ifndef _WIN32
/* Wine's drive X: as a directory here: the prefix's dosdevices/x: link, else
 * the root for Z: (Wine's default mapping). */
static bool wine_drive(const char *path, char *out, size_t size)
{
    char link[4096], target[4096];
    const char *prefix = getenv("WINEPREFIX"), *home = getenv("HOME");
    int n = prefix != NULL && prefix[0] != '\0' ? snprintf(link, sizeof link, "%s/dosdevices/%c:", prefix, tolower((unsigned char)path[0]))
            : home != NULL ? snprintf(link, sizeof link, "%s/.wine/dosdevices/%c:", home, tolower((unsigned char)path[0]))
                           : -1;
    char *real = n > 0 && n < (int)sizeof link ? realpath(link, NULL) : NULL;
    bool found = real != NULL && strlen(real) < sizeof target;
    if (found)
        strcpy(target, real);
    free(real);
    if (!found && tolower((unsigned char)path[0]) != 'z')
        return false;
    return join_existing(found ? target : "/", found ? strlen(target) : 1, path + 2, out, size);
}
#endif

/* The mapped form of path into out; false when no map gives an existing file. */
static bool map_path(const char *cmd, const char *path, char *out, size_t size)
{
    bool mapped = false;
    for (size_t i = 0; i < path_map_count && !mapped; i++) {
        size_t n = map_match(&path_maps[i], path);
        mapped = n != 0 && join_existing(path_maps[i].to, path_maps[i].to_len, path + n, out, size);
    }
#ifndef _WIN32
    bool windows = drive_path(path, strlen(path));
    mapped = mapped || (windows && wine_drive(path, out, size));
    if (!mapped && windows && !unmapped_said) {
        unmapped_said = true;
        fprintf(stderr, "ilheap %s: %s: a Windows path that names no file here: map it with --path-map FROM=TO "
                        "(or ILHEAP_PATH_MAP), e.g. --path-map 'C:\\build=/home/me/build'\n", cmd, path);
    }
#else
    (void)cmd;
#endif
    return mapped;
}

bool source_map_path(const char *cmd, char *path, size_t size)
{
    /* the last answer: a module's methods come one after another */
    static char last_in[4096], last_out[4096];
    static bool last_mapped;
    if (!env_maps_read)
        read_env_maps(cmd);
    if (last_in[0] == '\0' || strcmp(path, last_in) != 0) {
        struct stat st;
        if (strlen(path) >= sizeof last_in)
            return false;
        strcpy(last_in, path);
        last_mapped = stat(path, &st) != 0 && map_path(cmd, path, last_out, sizeof last_out);
    }
    if (!last_mapped || strlen(last_out) >= size)
        return false;
    strcpy(path, last_out);
    return true;
}
