/* Heap creation cost in a crowded process: one "create ..." line.
 *
 * The child first makes `mappings` extra single-page mappings with
 * alternating protections (so the kernel cannot merge them into one), then
 * times `iters` rounds of create + first allocation + destroy and prints the
 * median (and the 10th and 90th percentiles).
 *
 * base=image: the heap's module is this program's own image; the cheap probe
 *   at the image end normally succeeds, so the maps file is not read.
 * base=crowded: the module is a 64 KiB mapping with another mapping right
 *   above it, so the probe fails and the heap must read /proc/self/maps (whose
 *   length grows with the number of mappings) to find a gap.
 */
#include "children.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static int compare_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static int count_maps(void)
{
    FILE *f = fopen("/proc/self/maps", "r");
    if (f == NULL)
        return -1;
    int lines = 0, c;
    while ((c = fgetc(f)) != EOF)
        lines += c == '\n';
    fclose(f);
    return lines;
}

int bench_create_child(const bench_args_t *args)
{
    long long mappings = bench_arg_int(args, "mappings", 0);
    long long iters = bench_arg_int(args, "iters", 100);
    int populate = (int)bench_arg_int(args, "populate", 1);
    const char *where = bench_arg(args, "base", "image");
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    if (mappings < 0 || iters < 1 || iters > 1000000)
        return 2;

    for (long long i = 0; i < mappings; i++) {
        int prot = (i & 1) ? PROT_READ : PROT_READ | PROT_WRITE;
        if (mmap(NULL, page, prot, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) == MAP_FAILED) {
            perror("bench: mmap");
            return 3;
        }
    }

    const void *base;
    size_t image_size;
    if (strcmp(where, "crowded") == 0) {
        size_t module = 64 * 1024;
        unsigned char *m = mmap(NULL, module + page, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (m == MAP_FAILED || mprotect(m + module, page, PROT_READ | PROT_WRITE) != 0)
            return 3;
        base = m;
        image_size = module;
    } else {
        bench_own_image(&base, &image_size);
    }

    ilheap_heap_options_t options;
    ilheap_heap_options_init(&options);
    if (!populate)
        options.flags |= ILHEAP_NO_POPULATE;
    uint64_t *times = malloc((size_t)iters * sizeof *times);
    if (times == NULL)
        return 4;
    for (long long i = -3; i < iters; i++) { /* three untimed rounds first */
        uint64_t t0 = bench_now_ns();
        ilheap_heap_t *heap;
        if (ilheap_heap_create(base, image_size, &options, &heap) != ILHEAP_OK)
            return 5;
        void *p = ilheap_heap_alloc(heap, 64);
        ilheap_heap_destroy(heap);
        uint64_t t1 = bench_now_ns();
        if (p == NULL) {
            fprintf(stderr, "bench: first allocation failed: %s\n", ilheap_last_message());
            return 5;
        }
        if (i >= 0)
            times[i] = t1 - t0;
    }
    qsort(times, (size_t)iters, sizeof *times, compare_u64);
    printf("create mappings=%lld us_per_heap=%.2f base=%s populate=%d p10=%.2f p90=%.2f iters=%lld"
           " maps=%d rep=%s\n",
           mappings, (double)times[iters / 2] / 1e3, where, populate,
           (double)times[iters / 10] / 1e3, (double)times[iters * 9 / 10] / 1e3, iters, count_maps(),
           bench_arg(args, "rep", "0"));
    fflush(stdout);
    free(times);
    return 0;
}
