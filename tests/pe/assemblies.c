#include "assemblies.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

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
