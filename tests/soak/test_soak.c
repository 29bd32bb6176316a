/* Soak: one process lays out every assembly of the shared framework, creates
 * its module heap, rehomes every method body into it (checked), and destroys
 * it, many times over, while other threads create, fill and destroy heaps of
 * their own. At the end the resident memory and the number of mappings must
 * be back where they were after the first cycle.
 * ILHEAP_SOAK_CYCLES sets the number of cycles (default 10; the README's long
 * run uses 100). */
#include "assemblies.h"
#include "ilheap/heap.h"
#include "ilheap/il.h"
#include "ilheap/pe.h"
#include "support.h"
#include "test.h"

#include <pthread.h>
#include <stdatomic.h>
#if defined(_WIN32)
#include <windows.h>
#include <psapi.h>
#else
#include <unistd.h>
#endif

typedef struct assembly {
    uint8_t *data;
    size_t size;
} assembly_t;

#if defined(_WIN32)
/* The working set and the number of allocated regions (VirtualQuery). */
static uint64_t rss_kib(void)
{
    PROCESS_MEMORY_COUNTERS counters;
    if (!K32GetProcessMemoryInfo(GetCurrentProcess(), &counters, sizeof counters))
        return 0;
    return counters.WorkingSetSize / 1024;
}

static uint64_t mapping_count(void)
{
    uint64_t regions = 0;
    MEMORY_BASIC_INFORMATION info;
    for (uintptr_t at = 0; VirtualQuery((const void *)at, &info, sizeof info) == sizeof info;) {
        uintptr_t next = (uintptr_t)info.BaseAddress + info.RegionSize;
        if (info.State != MEM_FREE && (uintptr_t)info.AllocationBase == (uintptr_t)info.BaseAddress)
            regions++;
        if (next <= at)
            break;
        at = next;
    }
    return regions;
}
#else
static uint64_t rss_kib(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    unsigned long long size = 0, resident = 0;
    if (f != NULL) {
        if (fscanf(f, "%llu %llu", &size, &resident) != 2)
            resident = 0;
        fclose(f);
    }
    return resident * (uint64_t)sysconf(_SC_PAGESIZE) / 1024;
}

static uint64_t mapping_count(void)
{
    FILE *f = fopen("/proc/self/maps", "r");
    uint64_t lines = 0;
    int c;
    while (f != NULL && (c = fgetc(f)) != EOF)
        lines += c == '\n';
    if (f != NULL)
        fclose(f);
    return lines;
}

#endif

/* One assembly: layout, heap, every body rehomed and checked, all released.
 * Returns the number of bodies rehomed. */
static uint64_t rehome_assembly(const assembly_t *a)
{
    ilheap_pe_t *pe;
    ilheap_pe_error_t error;
    ASSERT_STATUS(ilheap_pe_open(a->data, a->size, &pe, &error), ILHEAP_OK);
    ilheap_pe_info_t info;
    ASSERT_STATUS(ilheap_pe_get_info(pe, &info), ILHEAP_OK);
    size_t image = info.size_of_image;
    uint8_t *base = support_image_region(image);
    ASSERT_NOT_NULL(base);
    ASSERT_STATUS(ilheap_pe_layout(pe, base, image, &error), ILHEAP_OK);
    ilheap_heap_t *heap;
    ASSERT_STATUS(ilheap_heap_create(base, image, NULL, &heap), ILHEAP_OK);
    static ilheap_il_clause_t clauses[256], moved_clauses[256];
    uint64_t bodies = 0;
    for (uint32_t rid = 1; rid <= ilheap_pe_method_count(pe); rid++) {
        ilheap_pe_method_t m;
        ASSERT_STATUS(ilheap_pe_method(pe, rid, &m, &error), ILHEAP_OK);
        if (!ilheap_pe_method_has_il(&m) || m.rva >= image)
            continue;
        ilheap_il_body_t body, moved;
        ASSERT_STATUS(ilheap_il_decode(base + m.rva, image - m.rva, &body, clauses, 256), ILHEAP_OK);
        void *out;
        size_t size;
        ilheap_status_t status = ilheap_il_rewrite_to_heap(&body, NULL, ILHEAP_IL_PRESERVE, heap, &out, &size);
        if (status == ILHEAP_ENOSPACE)
            continue; /* no room above this mapping: allowed, the body stays */
        ASSERT_STATUS(status, ILHEAP_OK);
        ASSERT_TRUE(ilheap_heap_in_window(heap, out, size));
        ASSERT_STATUS(ilheap_il_decode(out, size, &moved, moved_clauses, 256), ILHEAP_OK);
        ASSERT_STATUS(ilheap_il_check_moved(&body, &moved, NULL, 0, 0), ILHEAP_OK);
        bodies++;
    }
    ilheap_heap_destroy(heap);
    support_image_region_free(base, image);
    ilheap_pe_close(pe);
    return bodies;
}

static atomic_int stop_churn;

/* Another thread: heaps of its own, made, filled and destroyed in a loop. */
static void *churn(void *argument)
{
    (void)argument;
    static char anchor;
    uint64_t rounds = 0;
    while (!atomic_load(&stop_churn)) {
        ilheap_heap_t *heap;
        if (ilheap_heap_create(&anchor, 0, NULL, &heap) != ILHEAP_OK)
            return (void *)1;
        for (int i = 0; i < 2000; i++) {
            void *p = ilheap_heap_alloc(heap, 16 + (size_t)(i % 200));
            if (p == NULL)
                return (void *)1;
            memset(p, 0x33, 16);
        }
        ilheap_heap_destroy(heap);
        rounds++;
    }
    return (void *)0;
}

static void test_soak_framework_rehome(void)
{
    char dir[4096], why[512];
    size_t count;
    char **names = pe_test_framework_dlls(dir, sizeof dir, &count, why, sizeof why);
    if (names == NULL)
        SKIP("%s", why);
    assembly_t *assemblies = calloc(count, sizeof *assemblies);
    ASSERT_NOT_NULL(assemblies);
    for (size_t i = 0; i < count; i++) {
        char path[8192];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        assemblies[i].data = pe_test_read_file(path, &assemblies[i].size);
        ASSERT_NOT_NULL(assemblies[i].data);
    }
    const char *env = getenv("ILHEAP_SOAK_CYCLES");
    int cycles = env != NULL && atoi(env) > 0 ? atoi(env) : 10;

    pthread_t threads[2];
    atomic_store(&stop_churn, 0);
    for (int t = 0; t < 2; t++)
        ASSERT_EQ_I(pthread_create(&threads[t], NULL, churn, NULL), 0);
    uint64_t rss_warm = 0, maps_warm = 0, bodies = 0;
    for (int cycle = 1; cycle <= cycles; cycle++) {
        for (size_t i = 0; i < count; i++)
            bodies += rehome_assembly(&assemblies[i]);
        if (cycle == 1) {
            rss_warm = rss_kib();
            maps_warm = mapping_count();
        }
    }
    atomic_store(&stop_churn, 1);
    for (int t = 0; t < 2; t++) {
        void *result;
        pthread_join(threads[t], &result);
        ASSERT_TRUE(result == NULL);
    }
    uint64_t rss_end = rss_kib(), maps_end = mapping_count();
    fprintf(stderr, "  %d cycles over %zu assemblies, %llu bodies rehomed; RSS %llu KiB after cycle 1, %llu KiB "
                    "at the end; mappings %llu -> %llu\n",
            cycles, count, (unsigned long long)bodies, (unsigned long long)rss_warm, (unsigned long long)rss_end,
            (unsigned long long)maps_warm, (unsigned long long)maps_end);
    /* Back to the start: heaps, layouts and the churn threads' heaps are all
     * gone. Slack for libc's own arenas and the two exited threads. TSan
     * keeps a shadow mapping for every range the process ever mapped, and
     * both sanitizers hold freed memory, so there the figures are printed
     * only. */
#if !defined(__SANITIZE_THREAD__)
    ASSERT_LE_U(maps_end, maps_warm + 8);
#endif
#if !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
    ASSERT_LE_U(rss_end, rss_warm + 16 * 1024);
#endif
    for (size_t i = 0; i < count; i++)
        free(assemblies[i].data);
    free(assemblies);
    pe_test_free_list(names, count);
}

TEST_MAIN(TEST(test_soak_framework_rehome))
