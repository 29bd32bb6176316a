/* A C program built against an installed ilheap through pkg-config: one
 * heap next to a stand-in module image, one block inside its window. */
#include <ilheap/heap.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static unsigned char image[4096];

int main(void)
{
    ilheap_heap_options_t options;
    ilheap_heap_options_init(&options);
    ilheap_heap_t *heap;
    if (ilheap_heap_create(image, sizeof image, &options, &heap) != ILHEAP_OK) {
        fprintf(stderr, "consumer.c: heap_create: %s\n", ilheap_last_message());
        return 1;
    }
    unsigned char *body = ilheap_heap_alloc(heap, 66);
    if (body == NULL || body <= image || (uintptr_t)(body - image) > options.window) {
        fprintf(stderr, "consumer.c: bad block %p for base %p\n", (void *)body, (void *)image);
        return 1;
    }
    memset(body, 0x2A, 66);
    ilheap_heap_stats_t stats;
    if (ilheap_heap_stats(heap, &stats) != ILHEAP_OK || stats.blocks != 1 || stats.bytes_requested != 66) {
        fprintf(stderr, "consumer.c: unexpected stats\n");
        return 1;
    }
    ilheap_heap_destroy(heap);
    printf("consumer.c: block at base + 0x%lx\n", (unsigned long)(body - image));
    return 0;
}
