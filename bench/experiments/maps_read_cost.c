/* What reading /proc/self/maps costs against the number of mappings and the
 * read() buffer size: the kernel side of a heap's gap search.
 * Not built by CMake:  cc -O2 -o /tmp/maps_read_cost maps_read_cost.c && /tmp/maps_read_cost 10000 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

static double now_us(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e6 + t.tv_nsec / 1e3;
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 1000;
    for (int i = 0; i < n; i++) /* alternating protections: they cannot merge */
        mmap(NULL, 4096, (i & 1) ? PROT_READ : PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    static char buffer[1 << 20];
    const size_t sizes[] = {4096, 8192, 65536, 1 << 20};
    for (int s = 0; s < 4; s++) {
        double best = 1e18;
        for (int round = 0; round < 5; round++) {
            double t0 = now_us();
            int fd = open("/proc/self/maps", O_RDONLY);
            while (read(fd, buffer, sizes[s]) > 0) {
            }
            close(fd);
            double t = now_us() - t0;
            best = t < best ? t : best;
        }
        printf("mappings=%d buffer=%zu: %.0f us (best of 5)\n", n, sizes[s], best);
    }
    return 0;
}
