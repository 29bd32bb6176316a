/* What a fresh 4 KiB page costs, four ways: demand fault vs one
 * MADV_POPULATE_WRITE call, with 4 KiB pages vs transparent huge pages
 * (MADV_HUGEPAGE; THP is in "madvise" mode on the project's machines).
 * CPU time of the process, so a loaded machine does not inflate it.
 * Not built by CMake:  cc -O2 -o /tmp/populate_cost populate_cost.c && /tmp/populate_cost */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <time.h>

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

static double cpu_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return t.tv_sec * 1e9 + t.tv_nsec;
}

int main(void)
{
    const size_t len = (size_t)256 << 20, huge = (size_t)2 << 20;
    for (int round = 0; round < 2; round++)
        for (int mode = 0; mode < 4; mode++) {
            char *raw = mmap(NULL, len + huge, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
            if (raw == MAP_FAILED)
                return 1;
            char *p = (char *)(((uintptr_t)raw + huge - 1) & ~(uintptr_t)(huge - 1));
            if (mode >= 2)
                madvise(p, len, MADV_HUGEPAGE);
            double t0 = cpu_ns();
            if (mode & 1)
                madvise(p, len, MADV_POPULATE_WRITE);
            else
                for (size_t i = 0; i < len; i += 4096)
                    p[i] = 1;
            double t1 = cpu_ns();
            printf("round %d: %s pages, %s: %.0f ns per 4 KiB\n", round, mode >= 2 ? "huge" : "4 KiB",
                   (mode & 1) ? "one MADV_POPULATE_WRITE" : "demand faults", (t1 - t0) / (double)(len / 4096));
            munmap(raw, len + huge);
        }
    return 0;
}
