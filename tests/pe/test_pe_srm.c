/* Differential test of the reader against System.Reflection.Metadata: for
 * every assembly of the shared framework, the MethodDefs with an IL body, in
 * token order, with their RVAs, as SrmDump (tests/pe/SrmDump) lists them.
 * Needs the .NET SDK; CMake builds SrmDump and passes its path in
 * ILHEAP_SRMDUMP (and the dotnet host in ILHEAP_DOTNET). */
#include "ilheap/pe.h"
#include "test.h"

#include "assemblies.h"

typedef struct body_ref {
    uint32_t token, rva;
} body_ref_t;

typedef struct body_list {
    body_ref_t *items;
    size_t count, cap;
} body_list_t;

static void push(body_list_t *list, uint32_t token, uint32_t rva)
{
    if (list->count == list->cap) {
        size_t cap = list->cap ? list->cap * 2 : 1024;
        body_ref_t *grown = realloc(list->items, cap * sizeof *grown);
        if (grown == NULL)
            TEST_FAIL_("out of memory");
        list->items = grown;
        list->cap = cap;
    }
    list->items[list->count++] = (body_ref_t){token, rva};
}

/* Our side: the IL methods of one file. */
static void read_ours(const char *path, body_list_t *list)
{
    size_t size;
    uint8_t *data = pe_test_read_file(path, &size);
    if (data == NULL)
        TEST_FAIL_("cannot read %s", path);
    ilheap_pe_t *pe;
    ilheap_pe_error_t err;
    if (ilheap_pe_open(data, size, &pe, &err) != ILHEAP_OK) {
        free(data);
        TEST_FAIL_("%s: %s", path, err.message);
    }
    list->count = 0;
    for (uint32_t rid = 1; rid <= ilheap_pe_method_count(pe); rid++) {
        ilheap_pe_method_t m;
        if (ilheap_pe_method(pe, rid, &m, &err) != ILHEAP_OK)
            TEST_FAIL_("%s: %s", path, err.message);
        if (ilheap_pe_method_has_il(&m))
            push(list, m.token, m.rva);
    }
    ilheap_pe_close(pe);
    free(data);
}

/* Compares one file's lists; returns the number of differences (printed). */
static size_t compare(const char *path, const body_list_t *ours, const body_list_t *srm)
{
    size_t diffs = 0, n = ours->count < srm->count ? ours->count : srm->count;
    for (size_t i = 0; i < n && diffs < 5; i++)
        if (ours->items[i].token != srm->items[i].token || ours->items[i].rva != srm->items[i].rva) {
            fprintf(stderr, "  %s: #%zu: ilheap token %#x rva %#x, SRM token %#x rva %#x\n", path, i,
                    ours->items[i].token, ours->items[i].rva, srm->items[i].token, srm->items[i].rva);
            diffs++;
        }
    if (ours->count != srm->count) {
        fprintf(stderr, "  %s: ilheap lists %zu IL bodies, SRM %zu\n", path, ours->count, srm->count);
        diffs++;
    }
    return diffs;
}

static void test_methods_match_srm(void)
{
    const char *srmdump = getenv("ILHEAP_SRMDUMP"), *dotnet = getenv("ILHEAP_DOTNET");
    if (srmdump == NULL || dotnet == NULL)
        SKIP("ILHEAP_SRMDUMP/ILHEAP_DOTNET not set (CMake sets them when the .NET SDK is found)");
    char dir[512], why[600];
    size_t count;
    char **names = pe_test_framework_dlls(dir, sizeof dir, &count, why, sizeof why);
    if (names == NULL)
        SKIP("%s", why);

    /* One SrmDump process for every file: "# PATH" precedes each file's lines. */
    size_t cmd_size = strlen(dotnet) + strlen(srmdump) + 16;
    for (size_t i = 0; i < count; i++)
        cmd_size += strlen(dir) + strlen(names[i]) + 4;
    char *cmd = malloc(cmd_size);
    ASSERT_NOT_NULL(cmd);
    int at = snprintf(cmd, cmd_size, "'%s' '%s'", dotnet, srmdump);
    for (size_t i = 0; i < count; i++)
        at += snprintf(cmd + at, cmd_size - (size_t)at, " '%s/%s'", dir, names[i]);
    FILE *p = popen(cmd, "r");
    free(cmd);
    ASSERT_NOT_NULL(p);

    body_list_t ours = {0}, srm = {0};
    char current[1024] = "", line[8192];
    size_t files = 0, bodies = 0, diffs = 0;
    while (fgets(line, sizeof line, p) != NULL) {
        if (line[0] == '#') {
            if (current[0] != '\0') {
                read_ours(current, &ours);
                diffs += compare(current, &ours, &srm);
                bodies += srm.count;
                files++;
            }
            size_t n = strcspn(line + 2, "\n");
            if (n >= sizeof current)
                TEST_FAIL_("path too long: %s", line);
            memcpy(current, line + 2, n);
            current[n] = '\0';
            srm.count = 0;
            continue;
        }
        unsigned token, rva;
        if (sscanf(line, "{\"token\":%u,\"rva\":%u", &token, &rva) != 2)
            TEST_FAIL_("unexpected SrmDump line: %s", line);
        push(&srm, token, rva);
    }
    int status = pclose(p);
    if (current[0] != '\0') {
        read_ours(current, &ours);
        diffs += compare(current, &ours, &srm);
        bodies += srm.count;
        files++;
    }
    free(ours.items);
    free(srm.items);
    pe_test_free_list(names, count);
    fprintf(stderr, "  %zu assemblies, %zu IL bodies compared with System.Reflection.Metadata\n", files, bodies);
    ASSERT_EQ_U(status, 0);
    ASSERT_EQ_U(files, count);
    ASSERT_EQ_U(diffs, 0);
    ASSERT_GT_U(bodies, 0);
}

TEST_MAIN(TEST(test_methods_match_srm))
