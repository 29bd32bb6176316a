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

static const char demo_help[] =
    "usage: ilheap demo [--module NAME-PART] [--blocks N]\n"
    "Creates the heap of a loaded shared library (default " DEFAULT_MODULE "), allocates N\n"
    "blocks of IL-body sizes (N from 1 to 100000000, default 100000), prints where\n"
    "they landed relative to the module base and the heap's statistics.\n"
    "\n"
    "exit status:\n"
    "  0  success\n"
    "  1  no loaded module matches NAME-PART, or the heap could not be created\n"
    "  2  bad arguments\n"
    "  6  out of memory, window or address space (the block and the reason are printed)\n";

typedef struct demo_options {
    const char *want;
    uint32_t blocks, window;
} demo_options_t;

/* The command line; 0, an exit status, or -1 for --help (printed). */
static int parse(int argc, char **argv, demo_options_t *o)
{
    *o = (demo_options_t){DEFAULT_MODULE, 100000, 0};
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            fputs(demo_help, stdout);
            return -1;
        } else if (strcmp(argv[i], "--module") == 0) {
            if (i + 1 >= argc) {
                fprintf(stderr, "ilheap demo: --module needs a NAME-PART\n");
                return TOOL_EXIT_USAGE;
            }
            o->want = argv[++i];
        } else if (strcmp(argv[i], "--blocks") == 0) {
            if (i + 1 >= argc || !tool_parse_u32(argv[++i], 100000000, &o->blocks) || o->blocks == 0) {
                fprintf(stderr, "ilheap demo: --blocks needs a number of blocks (1..100000000)\n");
                return TOOL_EXIT_USAGE;
            }
        } else if (strcmp(argv[i], "--window-for-test") == 0) {
            /* Hidden (tests only): a small window, to run out of it. */
            if (i + 1 >= argc || !tool_parse_u32(argv[++i], UINT32_MAX, &o->window) || o->window == 0) {
                fprintf(stderr, "ilheap demo: --window-for-test needs a byte count\n");
                return TOOL_EXIT_USAGE;
            }
        } else {
            fprintf(stderr, "ilheap demo: unknown argument '%s' (see --help)\n", argv[i]);
            return TOOL_EXIT_USAGE;
        }
    }
    return 0;
}

/* Allocates the blocks (IL-body sizes, each written whole as a profiler
 * does), prints the first few and where they all landed; the exit status. */
static int allocate(ilheap_heap_t *heap, const support_module_t *module, uint32_t blocks)
{
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
            return tool_out_of_room(why) ? TOOL_EXIT_SYSTEM : TOOL_EXIT_CHECK;
        }
        memset(p, 0x2A, size);
        if (i < 5)
            printf("block %u: %4zu bytes at base + %#lx\n", i, size, (unsigned long)((uintptr_t)p - module->base));
        lowest = (uintptr_t)p < lowest ? (uintptr_t)p : lowest;
        highest = (uintptr_t)p + size > highest ? (uintptr_t)p + size : highest;
    }
    printf("blocks %u: lowest at base + %#lx, end of highest at base + %#lx (window %#llx)\n", blocks,
           (unsigned long)(lowest - module->base), (unsigned long)(highest - module->base),
           (unsigned long long)ilheap_heap_window(heap));
    return TOOL_EXIT_OK;
}

static void print_stats(const ilheap_heap_t *heap)
{
    ilheap_heap_stats_t s;
    ilheap_heap_stats(heap, &s);
    printf("stats: blocks %llu, requested %llu B, used %llu B, committed %llu B, reserved %llu B "
           "(%.3fx used), chunks %llu, highest offset %#llx\n",
           (unsigned long long)s.blocks, (unsigned long long)s.bytes_requested, (unsigned long long)s.bytes_used,
           (unsigned long long)s.bytes_committed, (unsigned long long)s.bytes_reserved,
           s.bytes_used ? (double)s.bytes_reserved / (double)s.bytes_used : 0.0, (unsigned long long)s.chunks,
           (unsigned long long)s.highest_offset);
}

int ilheap_cmd_demo(int argc, char **argv)
{
    demo_options_t o;
    int rc = parse(argc, argv, &o);
    if (rc != 0)
        return rc < 0 ? TOOL_EXIT_OK : rc;
    support_module_t module;
    if (!support_find_module(o.want, &module)) {
        fprintf(stderr, "ilheap demo: no loaded module matches '%s'\n", o.want);
        return 1;
    }
    printf("module   %s\nbase     %#lx\nimage    %zu bytes\n", module.name, (unsigned long)module.base, module.size);
    ilheap_heap_options_t options;
    ilheap_heap_options_init(&options);
    options.window = o.window;
    ilheap_heap_t *heap;
    ilheap_status_t status = ilheap_heap_create((void *)module.base, module.size, &options, &heap);
    if (status != ILHEAP_OK) {
        fprintf(stderr, "ilheap demo: %s\n", ilheap_last_message());
        return tool_out_of_room(status) ? TOOL_EXIT_SYSTEM : 1;
    }
    rc = allocate(heap, &module, o.blocks);
    if (rc == TOOL_EXIT_OK)
        print_stats(heap);
    ilheap_heap_destroy(heap);
    if (rc == TOOL_EXIT_OK)
        printf("heap destroyed: all of its memory released\n");
    return rc;
}
