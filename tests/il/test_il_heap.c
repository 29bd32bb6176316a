/* Rewriting bodies straight into a module heap: exact-size blocks inside the
 * window, byte-exact preserve copies, prologue rewrites checked, and failures
 * that allocate nothing. The module is this test program's own image. */
#include "ilheap/ilheap.h" /* the umbrella header: heap.h and il.h together */
#include "il_samples.h"
#include "support.h"
#include "test.h"

/* The base of this program's own image (tools/support/support.h, per OS). */
static uintptr_t own_image_base(void)
{
    support_module_t self;
    return support_find_module(NULL, &self) ? self.base : 0;
}

static ilheap_heap_t *heap_over_self(uint64_t window, const uint8_t **base)
{
    uintptr_t self = own_image_base();
    if (self == 0)
        return NULL;
    ilheap_heap_options_t options;
    ilheap_heap_options_init(&options);
    options.window = window;
    ilheap_heap_t *heap = NULL;
    if (ilheap_heap_create((const void *)self, 0, &options, &heap) != ILHEAP_OK)
        return NULL;
    *base = (const uint8_t *)self;
    return heap;
}

static void test_rehome_samples(void)
{
    const uint8_t *base;
    ilheap_heap_t *heap = heap_over_self(0, &base);
    if (heap == NULL)
        TEST_FAIL_("heap over the test's image: %s", ilheap_last_message());
    uint64_t requested = 0;
    static const uint8_t probe[] = {0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00};
    ilheap_il_clause_t cl[8], cl2[8];
    for (size_t i = 0; i < IL_SAMPLE_COUNT; i++) {
        ilheap_il_body_t body, moved;
        ASSERT_STATUS(ilheap_il_decode(il_samples[i].bytes, il_samples[i].size, &body, cl, 8),
                      ILHEAP_OK);
        void *out = NULL;
        size_t size = 0;
        ASSERT_STATUS(ilheap_il_rewrite_to_heap(&body, NULL, ILHEAP_IL_PRESERVE, heap, &out, &size),
                      ILHEAP_OK);
        requested += size;
        ASSERT_EQ_U(size, il_samples[i].size);
        ASSERT_MEM_EQ(out, il_samples[i].bytes, size);
        ASSERT_TRUE((const uint8_t *)out > base);
        ASSERT_LE_U((uint64_t)((const uint8_t *)out + size - base), ILHEAP_DEFAULT_WINDOW);
        ASSERT_EQ_U((uintptr_t)out % 4, 0);

        for (size_t n = 1; n <= sizeof probe; n += 3) {
            ilheap_il_edit_t e = {0};
            e.prologue = probe;
            e.prologue_size = n;
            e.extra_stack = 1;
            ASSERT_STATUS(ilheap_il_rewrite_to_heap(&body, &e, ILHEAP_IL_PRESERVE, heap, &out, &size),
                          ILHEAP_OK);
            requested += size;
            ASSERT_TRUE(ilheap_heap_in_window(heap, out, size));
            ASSERT_STATUS(ilheap_il_decode(out, size, &moved, cl2, 8), ILHEAP_OK);
            ASSERT_EQ_U(moved.body_size, size);
            ASSERT_STATUS(ilheap_il_check_moved(&body, &moved, probe, n, 1), ILHEAP_OK);
        }
    }
    ilheap_heap_stats_t stats;
    ASSERT_STATUS(ilheap_heap_stats(heap, &stats), ILHEAP_OK);
    ASSERT_EQ_U(stats.bytes_requested, requested); /* exactly the encoded sizes */
    ASSERT_EQ_U(stats.blocks, IL_SAMPLE_COUNT * 4); /* a copy and 3 prologues each */
    ilheap_heap_destroy(heap);
}

/* An encoding error allocates nothing; a heap failure is passed on. */
static void test_failures_allocate_nothing(void)
{
    const uint8_t *base;
    ilheap_heap_t *heap = heap_over_self(0, &base);
    if (heap == NULL)
        TEST_FAIL_("heap over the test's image: %s", ilheap_last_message());
    ilheap_il_clause_t cl[8];
    ilheap_il_body_t body;
    ASSERT_STATUS(ilheap_il_decode(small_eh, sizeof small_eh, &body, cl, 8), ILHEAP_OK);
    ilheap_il_edit_t e = {0};
    e.extra_stack = 65535;
    void *out = &e;
    size_t size = 0;
    ASSERT_STATUS(ilheap_il_rewrite_to_heap(&body, &e, ILHEAP_IL_PRESERVE, heap, &out, &size),
                  ILHEAP_IL_OVERFLOW);
    ASSERT_NULL(out);
    ASSERT_STATUS(ilheap_il_rewrite_to_heap(&body, NULL, ILHEAP_IL_PRESERVE, NULL, &out, &size),
                  ILHEAP_EINVAL);
    ASSERT_STATUS(ilheap_il_rewrite_to_heap(&body, NULL, ILHEAP_IL_PRESERVE, heap, NULL, &size),
                  ILHEAP_EINVAL);
    ilheap_heap_stats_t stats;
    ASSERT_STATUS(ilheap_heap_stats(heap, &stats), ILHEAP_OK);
    ASSERT_EQ_U(stats.blocks, 0);
    /* size may be NULL. */
    ASSERT_STATUS(ilheap_il_rewrite_to_heap(&body, NULL, ILHEAP_IL_PRESERVE, heap, &out, NULL),
                  ILHEAP_OK);
    ASSERT_MEM_EQ(out, small_eh, sizeof small_eh);
    ilheap_heap_destroy(heap);

    /* A window too small for the body: the heap's own error comes back. */
    heap = heap_over_self(32, &base);
    if (heap == NULL)
        TEST_FAIL_("heap with a 32-byte window: %s", ilheap_last_message());
    out = &e;
    ilheap_status_t st = ilheap_il_rewrite_to_heap(&body, NULL, ILHEAP_IL_PRESERVE, heap, &out, &size);
    ASSERT_TRUE(st != ILHEAP_OK);
    ASSERT_EQ_U(st, ilheap_last_status());
    ASSERT_NULL(out);
    ilheap_heap_destroy(heap);
}

TEST_MAIN(TEST(test_rehome_samples), TEST(test_failures_allocate_nothing))
