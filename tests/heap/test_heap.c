/* The heap's contract, single-threaded: arguments, the window invariant over
 * real and synthetic module bases, alignment, zeroing, exhaustion,
 * statistics, release. */
#include "ilheap/heap.h"
#include "maps_util.h"
#include "test.h"

#include "os/os.h"

#if !defined(_WIN32)
#include "os/linux_hooks.h"

#include <sys/mman.h>
#include <unistd.h>
#endif

#define KIB ((size_t)1024)
#define MIB (1024 * KIB)

/* Deterministic IL-body-like sizes: mostly small, some large. */
static size_t body_size(uint32_t *state)
{
    *state = *state * 1103515245u + 12345u;
    uint32_t r = (*state >> 8) % 100;
    uint32_t v = *state >> 12;
    if (r < 60)
        return 2 + v % 62;
    if (r < 95)
        return 64 + v % 448;
    return 512 + v % 7680;
}

static void assert_in_window(const void *base, uint64_t window, const void *p, size_t size)
{
    uintptr_t b = (uintptr_t)base, a = (uintptr_t)p;
    ASSERT_GT_U(a, b);
    ASSERT_LE_U(a - b, window);
    ASSERT_LE_U(size, window - (a - b));
}

static int all_zero(const uint8_t *p, size_t size)
{
    for (size_t i = 0; i < size; i++)
        if (p[i] != 0)
            return 0;
    return 1;
}

/* Allocates count blocks and checks window, zeroing, alignment, no overlap
 * with the image, and (through the patterns) no overlap between blocks. */
static void exercise_heap(const void *base, size_t image_size, uint32_t alignment, int count)
{
    ilheap_heap_options_t options;
    ilheap_heap_options_init(&options);
    options.alignment = alignment;
    ilheap_heap_t *heap;
    ASSERT_STATUS(ilheap_heap_create(base, image_size, &options, &heap), ILHEAP_OK);
    void **blocks = calloc((size_t)count, sizeof *blocks);
    size_t *sizes = calloc((size_t)count, sizeof *sizes);
    ASSERT_NOT_NULL(blocks);
    uint32_t state = 7;
    uint64_t requested = 0;
    for (int i = 0; i < count; i++) {
        sizes[i] = body_size(&state);
        blocks[i] = ilheap_heap_alloc(heap, sizes[i]);
        if (blocks[i] == NULL)
            TEST_FAIL_("block %d of %zu bytes: %s", i, sizes[i], ilheap_last_message());
        assert_in_window(base, ILHEAP_DEFAULT_WINDOW, blocks[i], sizes[i]);
        ASSERT_EQ_U((uintptr_t)blocks[i] % alignment, 0);
        ASSERT_TRUE(ilheap_heap_in_window(heap, blocks[i], sizes[i]));
        if (image_size != 0)
            ASSERT_GE_U((uintptr_t)blocks[i], (uintptr_t)base + image_size);
        ASSERT_TRUE(all_zero(blocks[i], sizes[i]));
        pattern_fill(blocks[i], sizes[i], (uint32_t)i);
        requested += sizes[i];
    }
    for (int i = 0; i < count; i++)
        ASSERT_TRUE(pattern_check(blocks[i], sizes[i], (uint32_t)i));
    ilheap_heap_stats_t stats;
    ASSERT_STATUS(ilheap_heap_stats(heap, &stats), ILHEAP_OK);
    ASSERT_EQ_U(stats.blocks, (uint64_t)count);
    ASSERT_EQ_U(stats.bytes_requested, requested);
    ASSERT_GE_U(stats.bytes_used, requested);
    ASSERT_LE_U(stats.bytes_used, stats.bytes_committed);
    ASSERT_LE_U(stats.bytes_committed, stats.bytes_reserved);
    ilheap_heap_destroy(heap);
    free(blocks);
    free(sizes);
}

static void test_create_arguments(void)
{
    ilheap_heap_t *heap = (ilheap_heap_t *)1;
    ilheap_heap_options_t options;
    ilheap_heap_options_init(&options);
    ASSERT_EQ_X(options.window, ILHEAP_DEFAULT_WINDOW);
    ASSERT_EQ_U(options.alignment, 4);
    ASSERT_STATUS(ilheap_heap_create(NULL, 0, NULL, &heap), ILHEAP_EINVAL);
    ASSERT_NULL(heap);
    ASSERT_STATUS(ilheap_heap_create(&options, 0, NULL, NULL), ILHEAP_EINVAL);
    options.alignment = 32;
    ASSERT_STATUS(ilheap_heap_create(&options, 0, &options, &heap), ILHEAP_EALIGN);
    options.alignment = 3;
    ASSERT_STATUS(ilheap_heap_create(&options, 0, &options, &heap), ILHEAP_EALIGN);
    options.alignment = 8;
    options.window = ILHEAP_MAX_WINDOW + 1;
    ASSERT_STATUS(ilheap_heap_create(&options, 0, &options, &heap), ILHEAP_EWINDOW);
    ASSERT_STATUS(ilheap_last_status(), ILHEAP_EWINDOW);
    ASSERT_TRUE(strstr(ilheap_last_message(), "ILHEAP_EWINDOW") != NULL);
    ASSERT_STATUS(ilheap_heap_try_alloc(NULL, 8, (void **)&heap), ILHEAP_EINVAL);
    ilheap_heap_destroy(NULL); /* a no-op */
}

static void test_zero_size_and_names(void)
{
    support_module_t self = {"", 0, 0};
    ASSERT_TRUE(support_find_module(NULL, &self));
    ilheap_heap_t *heap;
    ASSERT_STATUS(ilheap_heap_create((void *)self.base, self.size, NULL, &heap), ILHEAP_OK);
    ASSERT_NULL(ilheap_heap_alloc(heap, 0));
    ASSERT_STATUS(ilheap_last_status(), ILHEAP_EZEROSIZE);
    ASSERT_STR_EQ(ilheap_status_name(ILHEAP_ENOSPACE), "ILHEAP_ENOSPACE");
    ASSERT_STR_EQ(ilheap_status_name(-5), "ILHEAP_UNKNOWN");
    ASSERT_TRUE(strlen(ilheap_status_message(ILHEAP_ETOOBIG)) > 10);
    ilheap_heap_stats_t stats;
    ASSERT_STATUS(ilheap_heap_stats(heap, &stats), ILHEAP_OK);
    ASSERT_EQ_U(stats.blocks, 0);
    ASSERT_EQ_U(stats.bytes_reserved, 0); /* nothing reserved before the first block */
    ilheap_heap_destroy(heap);
}

static void test_window_over_own_image(void)
{
    support_module_t self = {"", 0, 0};
    ASSERT_TRUE(support_find_module(NULL, &self));
    ASSERT_NE_U(self.base, 0);
    exercise_heap((void *)self.base, self.size, 4, 20000);
    exercise_heap((void *)self.base, 0, 4, 2000);
}

static void test_window_over_shared_library(void)
{
    support_module_t library = {"", 0, 0};
    if (!support_find_module(TEST_SHARED_LIBRARY, &library))
        SKIP("%s not found among the loaded modules", TEST_SHARED_LIBRARY);
    exercise_heap((void *)library.base, library.size, 8, 20000);
    exercise_heap((void *)library.base, library.size, 16, 2000);
}

/* The space right above the base is taken by someone else's mapping: the
 * heap must look further up and never touch it. */
static void test_occupied_above_base(void)
{
    size_t total = 64 * MIB, foreign = 8 * MIB;
    uintptr_t region = sandbox_module(total, foreign);
    ASSERT_NE_U(region, 0);
    void *taken = (void *)region;
    pattern_fill(taken, foreign, 99);

    ilheap_heap_options_t options;
    ilheap_heap_options_init(&options);
    options.window = total;
    ilheap_heap_t *heap;
    ASSERT_STATUS(ilheap_heap_create((void *)region, 0, &options, &heap), ILHEAP_OK);
    uint32_t state = 1;
    for (int i = 0; i < 5000; i++) {
        size_t size = body_size(&state);
        uint8_t *p = ilheap_heap_alloc(heap, size);
        if (p == NULL)
            TEST_FAIL_("block %d: %s", i, ilheap_last_message());
        ASSERT_GE_U((uintptr_t)p, region + foreign);
        assert_in_window((void *)region, total, p, size);
        memset(p, 0xA5, size);
    }
    ASSERT_TRUE(pattern_check(taken, foreign, 99));
    heap_ranges_t ranges;
    heap_ranges_read(heap, &ranges);
    ilheap_heap_destroy(heap);
    ASSERT_EQ_U(heap_ranges_mapped(&ranges), 0);
    ASSERT_EQ_U(maps_bytes_mapped(region, region + foreign), foreign);
    test_unmap(taken, foreign);
}

/* A window of a few granules (pages on Linux, 64 KiB on Windows): fills, reports ENOSPACE, still serves what fits,
 * and refuses with ETOOBIG what never could. */
static void test_tiny_window_fills(void)
{
    size_t pg = test_granule();
    uintptr_t region = sandbox_module(64 * pg, pg); /* the "module" is granule 0 */
    ASSERT_NE_U(region, 0);
    ilheap_heap_options_t options;
    ilheap_heap_options_init(&options);
    options.window = 4 * pg; /* usable: pages 1..3 */
    ilheap_heap_t *heap;
    ASSERT_STATUS(ilheap_heap_create((void *)region, pg, &options, &heap), ILHEAP_OK);
    ASSERT_NULL(ilheap_heap_alloc(heap, 3 * pg + 1));
    ASSERT_STATUS(ilheap_last_status(), ILHEAP_ETOOBIG);
    size_t used = 0;
    int blocks = 0;
    void *p;
    while ((p = ilheap_heap_alloc(heap, 1000)) != NULL) {
        assert_in_window((void *)region, options.window, p, 1000);
        used += 1000;
        blocks++;
        ASSERT_LE_U(blocks, 3 * pg / 1000);
    }
    ASSERT_STATUS(ilheap_last_status(), ILHEAP_ENOSPACE);
    ASSERT_EQ_U(used, (3 * pg / 1000) * 1000);
    /* What still fits is still served: the tail of the last page. */
    int small = 0;
    while ((p = ilheap_heap_alloc(heap, 4)) != NULL) {
        assert_in_window((void *)region, options.window, p, 4);
        small++;
        ASSERT_LE_U(small, pg / 4);
    }
    ASSERT_EQ_U(small, (3 * pg - used) / 4);
    ilheap_heap_stats_t stats;
    ASSERT_STATUS(ilheap_heap_stats(heap, &stats), ILHEAP_OK);
    ASSERT_EQ_U(stats.highest_offset, 4 * pg);
    ASSERT_EQ_U(stats.bytes_reserved, 3 * pg);
    heap_ranges_t ranges;
    heap_ranges_read(heap, &ranges);
    ASSERT_EQ_U(heap_ranges_mapped(&ranges), 3 * pg);
    ilheap_heap_destroy(heap);
    ASSERT_EQ_U(heap_ranges_mapped(&ranges), 0);
    test_unmap((void *)region, pg);
}

/* A base a few pages below the end of the user address space: the window is
 * clipped to what can be mapped, and base + window overflowing is harmless. */
static void test_base_near_top(void)
{
    size_t pg = test_granule();
    uintptr_t lowest, end; /* the end of what the process may map */
    ilheap__os_address_limits(&lowest, &end);
    uintptr_t base = end - 4 * pg;
    void *module = test_map_at(base, pg);
    if (module == NULL)
        SKIP("the granules below the top of the address space (%#" PRIxPTR ") are in use here"
             " (under Wine the top few MiB cannot be reserved, though VirtualQuery calls them free)", end);
    ilheap_heap_options_t options;
    ilheap_heap_options_init(&options);
    options.window = ILHEAP_MAX_WINDOW;
    ilheap_heap_t *heap;
    ASSERT_STATUS(ilheap_heap_create(module, pg, &options, &heap), ILHEAP_OK);
    ASSERT_NULL(ilheap_heap_alloc(heap, 3 * pg + 1));
    ASSERT_STATUS(ilheap_last_status(), ILHEAP_ETOOBIG);
    size_t total = 0;
    void *p;
    while ((p = ilheap_heap_alloc(heap, 512)) != NULL) {
        ASSERT_GT_U((uintptr_t)p, base);
        ASSERT_LE_U((uintptr_t)p + 512, end);
        memset(p, 1, 512);
        total += 512;
    }
    ASSERT_STATUS(ilheap_last_status(), ILHEAP_ENOSPACE);
    ASSERT_EQ_U(total, 3 * pg);
    heap_ranges_t ranges;
    heap_ranges_read(heap, &ranges);
    ilheap_heap_destroy(heap);
    ASSERT_EQ_U(heap_ranges_mapped(&ranges), 0);
    ASSERT_EQ_U(maps_bytes_mapped(base + pg, end), 0);
    test_unmap(module, pg);

    /* A base so high that base + window wraps around: nothing can be placed. */
    ASSERT_STATUS(ilheap_heap_create((void *)(UINTPTR_MAX - 100), 0, &options, &heap), ILHEAP_OK);
    ASSERT_NULL(ilheap_heap_alloc(heap, 16));
    ASSERT_STATUS(ilheap_last_status(), ILHEAP_ETOOBIG);
    ilheap_heap_destroy(heap);
}

/* A base near address 0: blocks still lie above the lowest mappable address
 * (vm.mmap_min_addr; lpMinimumApplicationAddress on Windows). */
static void test_base_near_zero(void)
{
    ilheap_heap_options_t options;
    ilheap_heap_options_init(&options);
    options.window = 64 * MIB;
    ilheap_heap_t *heap;
    ASSERT_STATUS(ilheap_heap_create((void *)1, 0, &options, &heap), ILHEAP_OK);
    uintptr_t lowest, end;
    ilheap__os_address_limits(&lowest, &end);
    for (int i = 0; i < 1000; i++) {
        void *p = ilheap_heap_alloc(heap, 100);
        if (p == NULL)
            TEST_FAIL_("block %d: %s", i, ilheap_last_message());
        ASSERT_GE_U((uintptr_t)p, lowest);
        assert_in_window((void *)1, options.window, p, 100);
        memset(p, 2, 100);
    }
    ilheap_heap_destroy(heap);
}

/* Packing and statistics: in one free region the heap is one extent, so the
 * bytes used are exactly the padded sizes; reservation stays frugal. */
/* A heap over a one-granule sandbox module with total bytes free above it
 * (the window); release the module with test_unmap(region, test_granule()). */
static ilheap_heap_t *sandbox_heap(size_t total, uintptr_t *region)
{
    *region = sandbox_module(total, test_granule());
    ASSERT_NE_U(*region, 0);
    ilheap_heap_options_t options;
    ilheap_heap_options_init(&options);
    options.window = total;
    ilheap_heap_t *heap;
    ASSERT_STATUS(ilheap_heap_create((void *)*region, test_granule(), &options, &heap), ILHEAP_OK);
    return heap;
}

static void test_statistics_add_up(void)
{
    /* 512 MiB of free space (less in a 32-bit process, where that much in
     * one piece may not be free). */
    size_t total = sizeof(void *) >= 8 ? 512 * MIB : 192 * MIB, pg = test_granule();
    uintptr_t region;
    ilheap_heap_t *heap = sandbox_heap(total, &region);
    uint32_t state = 3;
    uint64_t requested = 0, used = 0, blocks = 0;
    uintptr_t last_end = 0;
    for (int i = 0; i < 300000; i++) {
        size_t size = body_size(&state);
        uint8_t *p = ilheap_heap_alloc(heap, size);
        ASSERT_NOT_NULL(p);
        if (last_end != 0) {
            ASSERT_EQ_U((uintptr_t)p, (last_end + 3) & ~(uintptr_t)3); /* tightly packed */
            used += (uintptr_t)p - last_end;
        }
        p[0] = 1;
        p[size - 1] = 1;
        last_end = (uintptr_t)p + size;
        requested += size;
        used += size;
        blocks++;
    }
    ilheap_heap_stats_t stats;
    ASSERT_STATUS(ilheap_heap_stats(heap, &stats), ILHEAP_OK);
    ASSERT_EQ_U(stats.blocks, blocks);
    ASSERT_EQ_U(stats.bytes_requested, requested);
    /* Used: the blocks with their padding, plus the unused rest of this
     * thread's current run (at most 16 KiB, alloc.c). */
    ASSERT_GE_U(stats.bytes_used, used);
    ASSERT_LE_U(stats.bytes_used, used + 16 * 1024);
    ASSERT_GE_U(stats.highest_offset, last_end - region);
    ASSERT_LE_U(stats.highest_offset, last_end - region + 16 * 1024);
    ASSERT_LE_U(stats.bytes_used, stats.bytes_committed);
    ASSERT_LE_U(stats.bytes_committed, stats.bytes_reserved);
    /* Frugal: under 1.1x what the blocks use. */
    ASSERT_LT_U(stats.bytes_reserved * 10, stats.bytes_used * 11);
    ASSERT_GE_U(stats.chunks, 2);
    heap_ranges_t ranges;
    heap_ranges_read(heap, &ranges);
    ASSERT_EQ_U(ranges.count, 1); /* one free region: one extent, grown in place */
    ilheap_heap_destroy(heap);
    ASSERT_EQ_U(heap_ranges_mapped(&ranges), 0);
    test_unmap((void *)region, pg);
}

#if !defined(_WIN32)
#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif
/* True when MADV_POPULATE_WRITE really makes pages resident here (not on
 * kernels before 5.14; qemu user-mode accepts it and does nothing). */
static int populate_makes_resident(void)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    void *p = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return 0;
    unsigned char in_core = 0;
    int works = madvise(p, page, MADV_POPULATE_WRITE) == 0 && mincore(p, page, &in_core) == 0 && (in_core & 1);
    munmap(p, page);
    return works;
}

/* Pages of [start, end) that are not resident. */
static size_t pages_not_resident(uintptr_t start, uintptr_t end)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE), missing = 0;
    unsigned char in_core;
    for (uintptr_t a = start & ~(uintptr_t)(page - 1); a < end; a += page)
        if (mincore((void *)a, page, &in_core) != 0 || (in_core & 1) == 0)
            missing++;
    return missing;
}
#endif

/* ilheap_heap_reserve, on an empty heap and on one with blocks: the room is
 * committed above the top (and resident where the system populates), and the
 * blocks that follow fill it without another chunk. */
static void test_reserve(void)
{
    size_t total = 64 * MIB;
    uintptr_t region;
    ilheap_heap_t *heap = sandbox_heap(total, &region);
    ASSERT_STATUS(ilheap_heap_reserve(NULL, 1), ILHEAP_EINVAL);
    ASSERT_STATUS(ilheap_heap_reserve(heap, 0), ILHEAP_EZEROSIZE);
    ASSERT_STATUS(ilheap_heap_reserve(heap, total), ILHEAP_ETOOBIG);
#if !defined(_WIN32)
    int check_resident = populate_makes_resident();
    if (!check_resident)
        printf("  note: MADV_POPULATE_WRITE does not populate here: residency not checked\n");
#endif
    for (size_t size = 4 * MIB; size <= 8 * MIB; size += 4 * MIB) {
        ASSERT_STATUS(ilheap_heap_reserve(heap, size), ILHEAP_OK);
        ilheap_heap_stats_t before, after;
        ASSERT_STATUS(ilheap_heap_stats(heap, &before), ILHEAP_OK);
        ASSERT_GE_U(before.bytes_committed, before.bytes_used + size);
        /* Runs of up to 16 KiB: blocks totalling size less two runs fit. */
        uintptr_t first = 0, end = 0;
        for (size_t taken = 0; taken + 256 <= size - 32 * KIB; taken += 256) {
            uint8_t *p = ilheap_heap_alloc(heap, 256); /* not written: residency is the heap's doing */
            ASSERT_NOT_NULL(p);
            first = first == 0 ? (uintptr_t)p : first;
            end = (uintptr_t)p + 256;
        }
        ASSERT_STATUS(ilheap_heap_stats(heap, &after), ILHEAP_OK);
        ASSERT_EQ_U(after.chunks, before.chunks);
#if !defined(_WIN32)
        if (check_resident)
            ASSERT_EQ_U(pages_not_resident(first, end), 0);
#else
        ASSERT_GT_U(end, first); /* no residency query here */
#endif
    }
    heap_ranges_t ranges;
    heap_ranges_read(heap, &ranges);
    ASSERT_EQ_U(ranges.count, 1);
    ilheap_heap_destroy(heap);
    test_unmap((void *)region, test_granule());
}

static void test_no_populate_option(void)
{
    support_module_t self = {"", 0, 0};
    ASSERT_TRUE(support_find_module(NULL, &self));
    ilheap_heap_options_t options;
    ilheap_heap_options_init(&options);
    options.flags = ILHEAP_NO_POPULATE;
    ilheap_heap_t *heap;
    ASSERT_STATUS(ilheap_heap_create((void *)self.base, self.size, &options, &heap), ILHEAP_OK);
    for (int i = 0; i < 10000; i++) {
        uint8_t *p = ilheap_heap_alloc(heap, 200);
        ASSERT_NOT_NULL(p);
        ASSERT_TRUE(all_zero(p, 200));
        memset(p, 3, 200);
    }
    ilheap_heap_destroy(heap);
}

/* The opt-in huge-page mode: same guarantees, chunks end on 2 MiB
 * boundaries once the heap is large; address space stays frugal. Whether the
 * kernel really used huge pages depends on its THP setting: printed only. */
static void test_huge_pages_option(void)
{
    support_module_t self = {"", 0, 0};
    ASSERT_TRUE(support_find_module(NULL, &self));
    ilheap_heap_options_t options;
    ilheap_heap_options_init(&options);
    options.flags = ILHEAP_HUGE_PAGES;
    ilheap_heap_t *heap;
    ASSERT_STATUS(ilheap_heap_create((void *)self.base, self.size, &options, &heap), ILHEAP_OK);
    uint64_t requested = 0;
    for (int i = 0; i < 150000; i++) {
        uint8_t *p = ilheap_heap_alloc(heap, 400);
        ASSERT_NOT_NULL(p);
        ASSERT_TRUE(ilheap_heap_in_window(heap, p, 400));
        ASSERT_TRUE(all_zero(p, 400));
        memset(p, 7, 400);
        requested += 400;
    }
    ilheap_heap_stats_t stats;
    ASSERT_STATUS(ilheap_heap_stats(heap, &stats), ILHEAP_OK);
    ASSERT_EQ_U(stats.bytes_requested, requested);
    ASSERT_LT_U(stats.bytes_reserved * 10, stats.bytes_used * 11);
    FILE *f = fopen("/proc/self/smaps_rollup", "r");
    char line[256];
    while (f != NULL && fgets(line, sizeof line, f) != NULL)
        if (strncmp(line, "AnonHugePages:", 14) == 0)
            fprintf(stderr, "  %s", line);
    if (f != NULL)
        fclose(f);
    ilheap_heap_destroy(heap);
}

/* Destroy returns every byte: nothing of the heap remains in the map. */
static void test_destroy_unmaps_everything(void)
{
    size_t total = 256 * MIB, pg = test_granule();
    uintptr_t region = sandbox_module(total, pg);
    ASSERT_NE_U(region, 0);
    /* Holes of foreign mappings force several extents. */
    for (int i = 1; i <= 4; i++) {
        void *hole = test_map_at(region + (size_t)i * 8 * MIB, pg);
        ASSERT_EQ_P(hole, (void *)(region + (size_t)i * 8 * MIB));
    }
    ilheap_heap_options_t options;
    ilheap_heap_options_init(&options);
    options.window = total;
    ilheap_heap_t *heap;
    ASSERT_STATUS(ilheap_heap_create((void *)region, pg, &options, &heap), ILHEAP_OK);
    for (int i = 0; i < 200000; i++)
        ASSERT_NOT_NULL(ilheap_heap_alloc(heap, 200));
    ilheap_heap_stats_t stats;
    ASSERT_STATUS(ilheap_heap_stats(heap, &stats), ILHEAP_OK);
    heap_ranges_t ranges;
    heap_ranges_read(heap, &ranges);
    ASSERT_GE_U(ranges.count, 4); /* the holes split the heap into extents */
    ASSERT_EQ_U(heap_ranges_size(&ranges), stats.bytes_reserved);
    ASSERT_EQ_U(heap_ranges_mapped(&ranges), stats.bytes_reserved);
    ilheap_heap_destroy(heap);
    ASSERT_EQ_U(heap_ranges_mapped(&ranges), 0);
    for (int i = 1; i <= 4; i++) /* the foreign holes are untouched */
        ASSERT_EQ_U(maps_bytes_mapped(region + (size_t)i * 8 * MIB, region + (size_t)i * 8 * MIB + pg), pg);
    for (int i = 1; i <= 4; i++)
        test_unmap((void *)(region + (size_t)i * 8 * MIB), pg);
    test_unmap((void *)region, pg);
}

/* A thread that alternates between two modules takes no per-thread runs, so
 * nothing is stranded: each heap's bytes used are exactly its blocks. After a
 * streak on one heap, switching away strands at most one run (16 KiB). */
static void test_alternating_heaps_strand_nothing(void)
{
    support_module_t self = {"", 0, 0};
    ASSERT_TRUE(support_find_module(NULL, &self));
    ilheap_heap_t *a, *b;
    ASSERT_STATUS(ilheap_heap_create((void *)self.base, self.size, NULL, &a), ILHEAP_OK);
    ASSERT_STATUS(ilheap_heap_create((void *)self.base, self.size, NULL, &b), ILHEAP_OK);
    for (int i = 0; i < 10000; i++) {
        ASSERT_NOT_NULL(ilheap_heap_alloc(a, 40));
        ASSERT_NOT_NULL(ilheap_heap_alloc(b, 40));
    }
    ilheap_heap_stats_t sa, sb;
    ASSERT_STATUS(ilheap_heap_stats(a, &sa), ILHEAP_OK);
    ASSERT_STATUS(ilheap_heap_stats(b, &sb), ILHEAP_OK);
    ASSERT_EQ_U(sa.bytes_used, 10000 * 40);
    ASSERT_EQ_U(sb.bytes_used, 10000 * 40);
    for (int i = 0; i < 1000; i++) /* a streak on a: runs */
        ASSERT_NOT_NULL(ilheap_heap_alloc(a, 40));
    ASSERT_NOT_NULL(ilheap_heap_alloc(b, 40)); /* switch: a's run is left */
    ASSERT_STATUS(ilheap_heap_stats(a, &sa), ILHEAP_OK);
    ASSERT_GE_U(sa.bytes_used, 11000 * 40);
    ASSERT_LE_U(sa.bytes_used, 11000 * 40 + 16 * 1024);
    ilheap_heap_destroy(a);
    ilheap_heap_destroy(b);
}

/* The default window is the full 32-bit RVA: when the low 2 GiB above the base
 * are taken, blocks go above them and are counted; the strict window refuses. */
static void test_default_window_beyond_2gib(void)
{
    ilheap_heap_options_t options;
    ilheap_heap_options_init(&options);
    ASSERT_EQ_X(options.window, 0xFFFFFFFFull);
    if (sizeof(void *) < 8)
        SKIP("a 32-bit address space has no room for 2 GiB taken above a base");
    uint64_t taken64 = ILHEAP_STRICT_WINDOW + 1 + MIB;
    size_t taken = (size_t)taken64;
    uintptr_t region = sandbox_find(taken + 16 * MIB);
    ASSERT_NE_U(region, 0);
    ASSERT_NOT_NULL(test_map_inaccessible_at(region, taken));

    ilheap_heap_t *heap;
    ASSERT_STATUS(ilheap_heap_create((void *)region, 0, NULL, &heap), ILHEAP_OK);
    for (int i = 0; i < 100; i++) {
        uint8_t *p = ilheap_heap_alloc(heap, 100);
        if (p == NULL)
            TEST_FAIL_("block %d: %s", i, ilheap_last_message());
        ASSERT_GE_U((uintptr_t)p, region + taken);
        assert_in_window((void *)region, ILHEAP_DEFAULT_WINDOW, p, 100);
    }
    ilheap_heap_stats_t stats;
    ASSERT_STATUS(ilheap_heap_stats(heap, &stats), ILHEAP_OK);
    ASSERT_EQ_U(stats.blocks, 100);
    ASSERT_EQ_U(stats.blocks_beyond_2gib, 100);
    ilheap_heap_destroy(heap);

    options.window = ILHEAP_STRICT_WINDOW;
    ASSERT_STATUS(ilheap_heap_create((void *)region, 0, &options, &heap), ILHEAP_OK);
    ASSERT_NULL(ilheap_heap_alloc(heap, 100));
    ASSERT_STATUS(ilheap_last_status(), ILHEAP_ENOSPACE);
    ilheap_heap_destroy(heap);
    test_unmap((void *)region, taken);

    /* Room right above the image: nothing lands past 2 GiB. */
    ASSERT_STATUS(ilheap_heap_create((void *)region, 0, NULL, &heap), ILHEAP_OK);
    ASSERT_NOT_NULL(ilheap_heap_alloc(heap, 100));
    ASSERT_STATUS(ilheap_heap_stats(heap, &stats), ILHEAP_OK);
    ASSERT_EQ_U(stats.blocks_beyond_2gib, 0);
    ilheap_heap_destroy(heap);
}

/* The heap under the page size the OS reports, which on Linux a test can
 * raise (ILHEAP_TEST_PAGE_SIZE, through the layer's hook) to play a kernel
 * with 16 KiB or 64 KiB pages: every mapping the heap asks for, every chunk
 * and every commit boundary is a multiple of it. */
#if !defined(_WIN32)
static size_t simulated_page; /* 0: the real page size */
static unsigned long maps_calls, misaligned_maps_calls;

static void *mmap_checking_alignment(void *addr, size_t length, int prot, int flags, int fd, off_t offset)
{
    size_t page = ilheap__os_page_size();
    maps_calls++;
    if (((uintptr_t)addr & (page - 1)) != 0 || (length & (page - 1)) != 0)
        misaligned_maps_calls++;
    return mmap(addr, length, prot, flags, fd, offset);
}

/* Before any case runs, so that every case of the program sees the page. */
__attribute__((constructor)) static void page_size_from_environment(void)
{
    const char *text = getenv("ILHEAP_TEST_PAGE_SIZE");
    if (text == NULL || *text == 0)
        return;
    char *end;
    unsigned long value = strtoul(text, &end, 0);
    if (*end != 0 || !ilheap__os_linux_set_page_size(value)) {
        fprintf(stderr, "ILHEAP_TEST_PAGE_SIZE=%s: not a power of two at least the real page size\n", text);
        exit(2);
    }
    simulated_page = value;
}

/* Every boundary of a mapping that lies strictly inside one of the heap's
 * chunks (reserved against committed) falls on a page. */
static void assert_boundaries_on_pages(const heap_ranges_t *ranges, size_t page)
{
    FILE *maps = fopen("/proc/self/maps", "r");
    ASSERT_NOT_NULL(maps);
    char line[512];
    unsigned long inside = 0, off_page = 0;
    while (fgets(line, sizeof line, maps) != NULL) {
        uintptr_t bound[2];
        if (sscanf(line, "%" SCNxPTR "-%" SCNxPTR, &bound[0], &bound[1]) != 2)
            continue;
        for (int b = 0; b < 2; b++)
            for (size_t i = 0; i < ranges->count; i++)
                if (bound[b] > ranges->start[i] && bound[b] < ranges->end[i]) {
                    inside++;
                    off_page += (bound[b] & (page - 1)) != 0;
                }
    }
    fclose(maps);
    fprintf(stderr, "  %lu commit boundaries inside the chunks, %lu off a page\n", inside, off_page);
    ASSERT_GE_U(inside, 1);
    ASSERT_EQ_U(off_page, 0);
}
#endif

static void test_page_size(void)
{
#if defined(_WIN32)
    SKIP("the page-size hook is the Linux layer's; on Windows reservations are in 64 KiB granules already");
#else
    size_t real = (size_t)sysconf(_SC_PAGESIZE), page = ilheap__os_page_size();
    fprintf(stderr, "  page size %zu (the kernel's: %zu%s)\n", page, real, simulated_page ? ", simulated" : "");
    ASSERT_EQ_U(page, simulated_page != 0 ? simulated_page : real);
    ASSERT_EQ_U(ilheap__os_granularity(), page);
    /* The hook refuses a page no kernel could have under this one. */
    ASSERT_EQ_I(ilheap__os_linux_set_page_size(3 * page), 0);
    ASSERT_EQ_I(ilheap__os_linux_set_page_size(real / 2), 0);
    ASSERT_EQ_U(ilheap__os_page_size(), page);

    support_module_t self;
    ASSERT_TRUE(support_find_module(NULL, &self));
    maps_calls = misaligned_maps_calls = 0;
    ilheap__os_linux_set_mmap(mmap_checking_alignment);
    ilheap_heap_options_t options;
    ilheap_heap_options_init(&options);
    options.first_chunk = 16 * MIB; /* one chunk, committed in batches: commit boundaries inside it */
    ilheap_heap_t *heap;
    ASSERT_STATUS(ilheap_heap_create((void *)self.base, self.size, &options, &heap), ILHEAP_OK);
    uint32_t state = 11;
    for (int i = 0; i < 3000; i++) {
        size_t size = i % 500 == 499 ? 3 * page + 5 : body_size(&state); /* some larger than a page */
        uint8_t *p = ilheap_heap_alloc(heap, size);
        if (p == NULL)
            break;
        p[0] = p[size - 1] = 1;
    }
    ilheap__os_linux_set_mmap(NULL);
    ilheap_heap_stats_t stats;
    ASSERT_STATUS(ilheap_heap_stats(heap, &stats), ILHEAP_OK);
    ASSERT_EQ_U(stats.blocks, 3000);
    ASSERT_EQ_U(stats.bytes_reserved % page, 0);
    ASSERT_EQ_U(stats.bytes_committed % page, 0);
    heap_ranges_t ranges;
    heap_ranges_read(heap, &ranges);
    for (size_t i = 0; i < ranges.count; i++) {
        ASSERT_EQ_U(ranges.start[i] & (page - 1), 0);
        ASSERT_EQ_U(ranges.end[i] & (page - 1), 0);
    }
    fprintf(stderr, "  %" PRIu64 " chunks, %" PRIu64 " B reserved, %" PRIu64 " B committed; %lu mmap calls, %lu off a page\n",
            stats.chunks, stats.bytes_reserved, stats.bytes_committed, maps_calls, misaligned_maps_calls);
    ASSERT_GE_U(maps_calls, 1);
    ASSERT_EQ_U(misaligned_maps_calls, 0);
    assert_boundaries_on_pages(&ranges, page);
    ilheap_heap_destroy(heap);
#endif
}

TEST_MAIN(TEST(test_page_size), TEST(test_create_arguments), TEST(test_default_window_beyond_2gib), TEST(test_alternating_heaps_strand_nothing), TEST(test_zero_size_and_names), TEST(test_window_over_own_image),
          TEST(test_window_over_shared_library), TEST(test_occupied_above_base),
          TEST(test_tiny_window_fills), TEST(test_base_near_top), TEST(test_base_near_zero),
          TEST(test_statistics_add_up), TEST(test_reserve), TEST(test_no_populate_option), TEST(test_huge_pages_option),
          TEST(test_destroy_unmaps_everything))
