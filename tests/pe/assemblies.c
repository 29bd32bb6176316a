#include "assemblies.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

/* Compares dotted version numbers numerically ("10.0.12" > "10.0.9"). */
static int compare_versions(const char *a, const char *b)
{
    while (*a != '\0' || *b != '\0') {
        char *ea, *eb;
        unsigned long va = strtoul(a, &ea, 10), vb = strtoul(b, &eb, 10);
        if (va != vb)
            return va < vb ? -1 : 1;
        if (ea == a || eb == b)
            return strcmp(a, b);
        a = *ea == '.' ? ea + 1 : ea;
        b = *eb == '.' ? eb + 1 : eb;
    }
    return 0;
}

int pe_test_find_framework(char *dir, size_t dir_size, char *why, size_t why_size)
{
    const char *env = getenv("ILHEAP_SHARED_FRAMEWORK");
    if (env != NULL && env[0] != '\0') {
        snprintf(dir, dir_size, "%s", env);
        return 0;
    }
    const char *root = getenv("DOTNET_ROOT");
    char parent[512];
    snprintf(parent, sizeof parent, "%s/shared/Microsoft.NETCore.App",
             root != NULL && root[0] != '\0' ? root : "/usr/share/dotnet");
    DIR *d = opendir(parent);
    if (d == NULL) {
        snprintf(why, why_size, "no .NET runtime installed (%s not found; set ILHEAP_SHARED_FRAMEWORK)", parent);
        return -1;
    }
    char best[256] = "";
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (e->d_name[0] >= '0' && e->d_name[0] <= '9' && (best[0] == '\0' || compare_versions(e->d_name, best) > 0))
            snprintf(best, sizeof best, "%s", e->d_name);
    closedir(d);
    if (best[0] == '\0') {
        snprintf(why, why_size, "no runtime version under %s", parent);
        return -1;
    }
    snprintf(dir, dir_size, "%s/%s", parent, best);
    return 0;
}

static int compare_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

char **pe_test_list_dlls(const char *dir, size_t *count)
{
    DIR *d = opendir(dir);
    if (d == NULL)
        return NULL;
    size_t n = 0, cap = 256;
    char **names = malloc(cap * sizeof *names);
    struct dirent *e;
    while (names != NULL && (e = readdir(d)) != NULL) {
        size_t len = strlen(e->d_name);
        if (len < 5 || strcmp(e->d_name + len - 4, ".dll") != 0)
            continue;
        if (n == cap) {
            char **grown = realloc(names, (cap *= 2) * sizeof *names);
            if (grown == NULL)
                break;
            names = grown;
        }
        names[n++] = strdup(e->d_name);
    }
    closedir(d);
    if (names != NULL)
        qsort(names, n, sizeof *names, compare_names);
    *count = n;
    return names;
}

void pe_test_free_list(char **names, size_t count)
{
    for (size_t i = 0; i < count; i++)
        free(names[i]);
    free(names);
}

char **pe_test_framework_dlls(char *dir, size_t dir_size, size_t *count, char *why, size_t why_size)
{
    if (pe_test_find_framework(dir, dir_size, why, why_size) != 0)
        return NULL;
    char **names = pe_test_list_dlls(dir, count);
    if (names == NULL || *count == 0) {
        pe_test_free_list(names, names != NULL ? *count : 0);
        snprintf(why, why_size, "no *.dll in %s", dir);
        return NULL;
    }
    return names;
}

uint8_t *pe_test_read_file(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    struct stat st;
    uint8_t *data = NULL;
    if (fstat(fileno(f), &st) == 0 && st.st_size > 0) {
        data = malloc((size_t)st.st_size);
        if (data != NULL && fread(data, 1, (size_t)st.st_size, f) != (size_t)st.st_size) {
            free(data);
            data = NULL;
        }
        *size = (size_t)st.st_size;
    }
    fclose(f);
    return data;
}

long pe_test_each_framework_dll(void (*visit)(const char *name, const uint8_t *data, size_t size,
                                              void *ctx),
                                void *ctx, char *dir, size_t dir_size, char *why, size_t why_size)
{
    size_t count;
    char **names = pe_test_framework_dlls(dir, dir_size, &count, why, why_size);
    if (names == NULL)
        return -1;
    for (size_t i = 0; i < count; i++) {
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        size_t size;
        uint8_t *data = pe_test_read_file(path, &size);
        if (data == NULL) {
            snprintf(why, why_size, "cannot read %s", path);
            pe_test_free_list(names, count);
            return -2;
        }
        visit(names[i], data, size, ctx);
        free(data);
    }
    pe_test_free_list(names, count);
    return (long)count;
}

uint8_t *pe_test_framework_file(const char *name, char *path, size_t path_size, size_t *size, char *why,
                                size_t why_size)
{
    char dir[512];
    if (pe_test_find_framework(dir, sizeof dir, why, why_size) != 0)
        return NULL;
    snprintf(path, path_size, "%s/%s", dir, name);
    uint8_t *data = pe_test_read_file(path, size);
    if (data == NULL)
        snprintf(why, why_size, "cannot read %s", path);
    return data;
}

double pe_test_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

ilheap_status_t pe_test_decode(const uint8_t *p, size_t avail, ilheap_il_body_t *b,
                               ilheap_il_clause_t *stack, size_t stack_n,
                               ilheap_il_clause_t **heap)
{
    ilheap_status_t st = ilheap_il_decode(p, avail, b, stack, stack_n);
    if (st == ILHEAP_IL_CLAUSE_SPACE) {
        *heap = malloc(b->clause_count * sizeof **heap);
        if (*heap == NULL)
            return ILHEAP_ENOMEM;
        st = ilheap_il_decode(p, avail, b, *heap, b->clause_count);
    }
    return st;
}

const char *pe_test_image_bodies(const char *name, const uint8_t *data, size_t size,
                                 pe_test_body_check check, void *ctx, pe_test_body_t **bodies,
                                 size_t *count, size_t *cap)
{
    static char msg[1024];
    ilheap_pe_t *pe;
    ilheap_pe_error_t err;
    *count = 0;
    if (ilheap_pe_open(data, size, &pe, &err) != ILHEAP_OK) {
        snprintf(msg, sizeof msg, "%s: %s", name, err.message);
        return msg;
    }
    const char *fail = NULL;
    for (uint32_t rid = 1, n = ilheap_pe_method_count(pe); rid <= n && !fail; rid++) {
        ilheap_pe_method_t m;
        const uint8_t *body;
        size_t avail;
        if (ilheap_pe_method(pe, rid, &m, &err) != ILHEAP_OK) {
            snprintf(msg, sizeof msg, "%s: method %u: %s", name, rid, err.message);
            fail = msg;
            break;
        }
        if (!ilheap_pe_method_has_il(&m))
            continue;
        if (ilheap_pe_method_body(pe, &m, &body, &avail, &err) != ILHEAP_OK) {
            snprintf(msg, sizeof msg, "%s: method %#x: %s", name, m.token, err.message);
            fail = msg;
            break;
        }
        if (*count == *cap) {
            size_t c = *cap ? 2 * *cap : 4096;
            pe_test_body_t *grown = realloc(*bodies, c * sizeof **bodies);
            if (grown == NULL) {
                snprintf(msg, sizeof msg, "%s: out of memory", name);
                fail = msg;
                break;
            }
            *bodies = grown;
            *cap = c;
        }
        (*bodies)[(*count)++] = (pe_test_body_t){body, avail};
        const char *why = check(&m, body, avail, ctx);
        if (why != NULL) {
            snprintf(msg, sizeof msg, "%s: method %#x at RVA %#x: %s (%s)", name, m.token, m.rva,
                     why, ilheap_last_message());
            fail = msg;
        }
    }
    ilheap_pe_close(pe);
    return fail;
}
