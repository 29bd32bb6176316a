/* ilheap demo: a heap above a real loaded module (a shared library of this
 * process), a few IL-body-sized blocks, where they landed, the statistics. */
#include "commands.h"
#include "ilheap/heap.h"

#include <link.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

typedef struct module {
    const char *want;
    char name[256];
    uintptr_t base;
    size_t size;
} module_t;

static int find_module(struct dl_phdr_info *info, size_t info_size, void *context)
{
    (void)info_size;
    module_t *m = context;
    if (info->dlpi_name == NULL || strstr(info->dlpi_name, m->want) == NULL)
        return 0;
    uintptr_t lo = UINTPTR_MAX, hi = 0;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        if (info->dlpi_phdr[i].p_type != PT_LOAD)
            continue;
        uintptr_t s = info->dlpi_addr + info->dlpi_phdr[i].p_vaddr;
        uintptr_t e = s + info->dlpi_phdr[i].p_memsz;
        lo = s < lo ? s : lo;
        hi = e > hi ? e : hi;
    }
    snprintf(m->name, sizeof m->name, "%s", info->dlpi_name);
    m->base = lo;
    m->size = hi - lo;
    return 1;
}

int ilheap_cmd_demo(int argc, char **argv)
{
    module_t module = {"libc.so", "", 0, 0};
    int blocks = 100000;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0) {
            printf("usage: ilheap demo [--module NAME-PART] [--blocks N]\n"
                   "Creates the heap of a loaded shared library (default libc.so), allocates N\n"
                   "blocks of IL-body sizes (default 100000), prints where they landed\n"
                   "relative to the module base and the heap's statistics.\n");
            return 0;
        } else if (strcmp(argv[i], "--module") == 0 && i + 1 < argc) {
            module.want = argv[++i];
        } else if (strcmp(argv[i], "--blocks") == 0 && i + 1 < argc) {
            blocks = atoi(argv[++i]);
        } else {
            fprintf(stderr, "ilheap demo: unknown argument '%s' (see --help)\n", argv[i]);
            return 2;
        }
    }
    if (!dl_iterate_phdr(find_module, &module)) {
        fprintf(stderr, "ilheap demo: no loaded module matches '%s'\n", module.want);
        return 1;
    }
    printf("module   %s\nbase     %#lx\nimage    %zu bytes\n", module.name, (unsigned long)module.base, module.size);
    ilheap_heap_t *heap;
    ilheap_status_t status = ilheap_heap_create((void *)module.base, module.size, NULL, &heap);
    if (status != ILHEAP_OK) {
        fprintf(stderr, "ilheap demo: %s\n", ilheap_last_message());
        return 1;
    }
    uint32_t state = 42;
    uintptr_t lowest = UINTPTR_MAX, highest = 0;
    for (int i = 0; i < blocks; i++) {
        state = state * 1103515245u + 12345u;
        uint32_t r = (state >> 8) % 100, v = state >> 12;
        size_t size = r < 60 ? 2 + v % 62 : r < 95 ? 64 + v % 448 : 512 + v % 7680;
        unsigned char *p = ilheap_heap_alloc(heap, size);
        if (p == NULL) {
            fprintf(stderr, "ilheap demo: block %d (%zu bytes): %s\n", i, size, ilheap_last_message());
            ilheap_heap_destroy(heap);
            return 1;
        }
        memset(p, 0x2A, size); /* a profiler writes every byte it allocates */
        if (i < 5)
            printf("block %d: %4zu bytes at base + %#lx\n", i, size, (unsigned long)((uintptr_t)p - module.base));
        lowest = (uintptr_t)p < lowest ? (uintptr_t)p : lowest;
        highest = (uintptr_t)p + size > highest ? (uintptr_t)p + size : highest;
    }
    ilheap_heap_stats_t s;
    ilheap_heap_stats(heap, &s);
    printf("blocks %d: lowest at base + %#lx, end of highest at base + %#lx (window %#llx)\n", blocks,
           (unsigned long)(lowest - module.base), (unsigned long)(highest - module.base),
           (unsigned long long)ilheap_heap_window(heap));
    printf("stats: blocks %llu, requested %llu B, used %llu B, committed %llu B, reserved %llu B "
           "(%.3fx used), chunks %llu, highest offset %#llx\n",
           (unsigned long long)s.blocks, (unsigned long long)s.bytes_requested, (unsigned long long)s.bytes_used,
           (unsigned long long)s.bytes_committed, (unsigned long long)s.bytes_reserved,
           s.bytes_used ? (double)s.bytes_reserved / (double)s.bytes_used : 0.0, (unsigned long long)s.chunks,
           (unsigned long long)s.highest_offset);
    ilheap_heap_destroy(heap);
    printf("heap destroyed: all of its memory released\n");
    return 0;
}
