/* Concurrency: 2, 4 and 16 threads allocate from one heap at once (over a
 * million blocks in all); each fills its blocks with its own pattern. Every
 * block is then checked for its pattern (an overlap would have overwritten
 * it), sorted by address to check that no two blocks overlap, and checked
 * against the window. ILHEAP_STRESS_BLOCKS overrides the blocks per run. */
#include "ilheap/heap.h"
#include "maps_util.h"
#include "test.h"

#include <pthread.h>

typedef struct block {
    uintptr_t address;
    uint32_t size;
    uint32_t seed;
} block_t;

typedef struct worker {
    ilheap_heap_t *heap;
    block_t *blocks;
    int count;
    uint32_t id;
    int failed;
} worker_t;

static void *worker_main(void *argument)
{
    worker_t *w = argument;
    uint32_t state = w->id * 7919u + 1;
    for (int i = 0; i < w->count; i++) {
        state = state * 1103515245u + 12345u;
        uint32_t size = 1 + (state >> 16) % 300;
        void *p = ilheap_heap_alloc(w->heap, size);
        if (p == NULL) {
            w->failed = 1;
            return NULL;
        }
        uint32_t seed = (w->id << 24) ^ (uint32_t)i;
        pattern_fill(p, size, seed);
        w->blocks[i] = (block_t){(uintptr_t)p, size, seed};
    }
    return NULL;
}

static int by_address(const void *a, const void *b)
{
    uintptr_t x = ((const block_t *)a)->address, y = ((const block_t *)b)->address;
    return x < y ? -1 : x > y;
}

static void run_threads(int threads)
{
    const char *env = getenv("ILHEAP_STRESS_BLOCKS");
    int total = env != NULL ? atoi(env) : 400000;
    int per_thread = total / threads;
    support_module_t self;
    ASSERT_TRUE(support_find_module(NULL, &self));
    ilheap_heap_t *heap;
    ASSERT_STATUS(ilheap_heap_create((void *)self.base, 0, NULL, &heap), ILHEAP_OK);
    block_t *blocks = calloc((size_t)per_thread * (size_t)threads, sizeof *blocks);
    worker_t *workers = calloc((size_t)threads, sizeof *workers);
    pthread_t *ids = calloc((size_t)threads, sizeof *ids);
    ASSERT_TRUE(blocks && workers && ids);
    for (int t = 0; t < threads; t++) {
        workers[t] = (worker_t){heap, blocks + (size_t)t * (size_t)per_thread, per_thread, (uint32_t)t + 1, 0};
        ASSERT_EQ_I(pthread_create(&ids[t], NULL, worker_main, &workers[t]), 0);
    }
    for (int t = 0; t < threads; t++) {
        pthread_join(ids[t], NULL);
        ASSERT_FALSE(workers[t].failed);
    }
    size_t n = (size_t)per_thread * (size_t)threads;
    for (size_t i = 0; i < n; i++)
        if (!pattern_check((void *)blocks[i].address, blocks[i].size, blocks[i].seed))
            TEST_FAIL_("block %zu at %#lx was overwritten", i, (unsigned long)blocks[i].address);
    qsort(blocks, n, sizeof *blocks, by_address);
    uint64_t requested = 0;
    for (size_t i = 0; i < n; i++) {
        ASSERT_TRUE(ilheap_heap_in_window(heap, (void *)blocks[i].address, blocks[i].size));
        ASSERT_EQ_U(blocks[i].address % 4, 0);
        if (i > 0 && blocks[i - 1].address + blocks[i - 1].size > blocks[i].address)
            TEST_FAIL_("blocks %zu and %zu overlap", i - 1, i);
        requested += blocks[i].size;
    }
    ilheap_heap_stats_t stats;
    ASSERT_STATUS(ilheap_heap_stats(heap, &stats), ILHEAP_OK);
    ASSERT_EQ_U(stats.blocks, n);
    ASSERT_EQ_U(stats.bytes_requested, requested);
    ilheap_heap_destroy(heap);
    fprintf(stderr, "  %d threads: %zu blocks checked\n", threads, n);
    free(blocks);
    free(workers);
    free(ids);
}

static void test_two_threads(void) { run_threads(2); }
static void test_four_threads(void) { run_threads(4); }
static void test_sixteen_threads(void) { run_threads(16); }

TEST_MAIN(TEST(test_two_threads), TEST(test_four_threads), TEST(test_sixteen_threads))
