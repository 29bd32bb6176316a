/* ilheap demo: a heap above a real loaded module (a shared library of this
 * process), a few IL-body-sized blocks, where they landed, the statistics. */
#include "commands.h"
#include "ilheap/heap.h"
#include "support.h"
#include "tool.h"

#include <stdio.h>
#include <string.h>

/* A shared library every process of the system has loaded. */
#if defined(_WIN32)
#define DEFAULT_MODULE "kernel32.dll"
#else
#define DEFAULT_MODULE "libc.so"
#endif

int ilheap_cmd_demo(int argc, char **argv)
{
    const char *want = DEFAULT_MODULE;
    uint32_t blocks = 100000, window = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            printf("usage: ilheap demo [--module NAME-PART] [--blocks N]\n"
                   "Creates the heap of a loaded shared library (default " DEFAULT_MODULE "), allocates N\n"
                   "blocks of IL-body sizes (N from 1 to 100000000, default 100000), prints where\n"
                   "they landed relative to the module base and the heap's statistics.\n"
                   "\n"
                   "exit status:\n"
                   "  0  success\n"
                   "  1  no loaded module matches NAME-PART, or the heap could not be created\n"
                   "  2  bad arguments\n"
                   "  6  out of memory, window or address space (the block and the reason are printed)\n");
            return TOOL_EXIT_OK;
        } else if (strcmp(argv[i], "--module") == 0) {
            if (i + 1 >= argc) {
                fprintf(stderr, "ilheap demo: --module needs a NAME-PART\n");
                return TOOL_EXIT_USAGE;
            }
            want = argv[++i];
        } else if (strcmp(argv[i], "--blocks") == 0) {
            if (i + 1 >= argc || !tool_parse_u32(argv[++i], 100000000, &blocks) || blocks == 0) {
                fprintf(stderr, "ilheap demo: --blocks needs a number of blocks (1..100000000)\n");
                return TOOL_EXIT_USAGE;
            }
        } else if (strcmp(argv[i], "--window-for-test") == 0) {
            /* Hidden (tests only): a small window, to run out of it. */
            if (i + 1 >= argc || !tool_parse_u32(argv[++i], UINT32_MAX, &window) || window == 0) {
                fprintf(stderr, "ilheap demo: --window-for-test needs a byte count\n");
                return TOOL_EXIT_USAGE;
            }
        } else {
            fprintf(stderr, "ilheap demo: unknown argument '%s' (see --help)\n", argv[i]);
            return 2;
        }
    }
    support_module_t module;
    if (!support_find_module(want, &module)) {
        fprintf(stderr, "ilheap demo: no loaded module matches '%s'\n", want);
        return 1;
    }
    printf("module   %s\nbase     %#lx\nimage    %zu bytes\n", module.name, (unsigned long)module.base, module.size);
    ilheap_heap_options_t options;
    ilheap_heap_options_init(&options);
    options.window = window;
    ilheap_heap_t *heap;
    ilheap_status_t status = ilheap_heap_create((void *)module.base, module.size, &options, &heap);
    if (status != ILHEAP_OK) {
        fprintf(stderr, "ilheap demo: %s\n", ilheap_last_message());
        return tool_out_of_room(status) ? TOOL_EXIT_SYSTEM : 1;
    }
    uint32_t state = 42;
    uintptr_t lowest = UINTPTR_MAX, highest = 0;
    for (uint32_t i = 0; i < blocks; i++) {
        state = state * 1103515245u + 12345u;
        uint32_t r = (state >> 8) % 100, v = state >> 12;
        size_t size = r < 60 ? 2 + v % 62 : r < 95 ? 64 + v % 448 : 512 + v % 7680;
        unsigned char *p = ilheap_heap_alloc(heap, size);
        if (p == NULL) {
            ilheap_status_t why = ilheap_last_status();
            fprintf(stderr, "ilheap demo: block %u (%zu bytes): %s\n", i, size, ilheap_last_message());
            ilheap_heap_destroy(heap);
            return tool_out_of_room(why) ? TOOL_EXIT_SYSTEM : TOOL_EXIT_CHECK;
        }
        memset(p, 0x2A, size); /* a profiler writes every byte it allocates */
        if (i < 5)
            printf("block %u: %4zu bytes at base + %#lx\n", i, size, (unsigned long)((uintptr_t)p - module.base));
        lowest = (uintptr_t)p < lowest ? (uintptr_t)p : lowest;
        highest = (uintptr_t)p + size > highest ? (uintptr_t)p + size : highest;
    }
    ilheap_heap_stats_t s;
    ilheap_heap_stats(heap, &s);
    printf("blocks %u: lowest at base + %#lx, end of highest at base + %#lx (window %#llx)\n", blocks,
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
