/* The per-OS test helpers of maps_util.h on Linux: /proc/self/maps and mmap. */
#include "maps_util.h"
#include "os/linux_hooks.h"

#include <stdio.h>
#include <sys/mman.h>

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif

uint64_t maps_bytes_mapped(uintptr_t lo, uintptr_t hi)
{
    FILE *f = fopen("/proc/self/maps", "r");
    if (f == NULL)
        return 0;
    uint64_t total = 0;
    char line[512];
    while (fgets(line, sizeof line, f) != NULL) {
        unsigned long long start, end;
        if (sscanf(line, "%llx-%llx", &start, &end) != 2)
            continue;
        uintptr_t s = start > lo ? (uintptr_t)start : lo;
        uintptr_t e = end < hi ? (uintptr_t)end : hi;
        if (s < e)
            total += e - s;
    }
    fclose(f);
    return total;
}

uintptr_t sandbox_find(size_t size)
{
    /* One granule more, so the start can be rounded up to it: the granule may
     * be a simulated page larger than the kernel's (ILHEAP_TEST_PAGE_SIZE). */
    size_t g = test_granule();
    void *p = mmap(NULL, size + g, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED)
        return 0;
    munmap(p, size + g);
    test_address_space_freed();
    return ((uintptr_t)p + g - 1) & ~(uintptr_t)(g - 1);
}

static void *map_exactly(uintptr_t addr, size_t size, int prot)
{
    void *p = mmap((void *)addr, size, prot, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    if (p == MAP_FAILED)
        return NULL;
    if (p != (void *)addr) {
        munmap(p, size);
        return NULL;
    }
    return p;
}

uintptr_t sandbox_find_high(size_t size)
{
    return sandbox_find(size); /* mmap places top-down already */
}

void *test_map_at(uintptr_t addr, size_t size)
{
    return map_exactly(addr, size, PROT_READ | PROT_WRITE);
}

void *test_map_inaccessible_at(uintptr_t addr, size_t size)
{
    return map_exactly(addr, size, PROT_NONE);
}

void test_unmap(void *p, size_t size)
{
    munmap(p, size);
    test_address_space_freed();
}

static void *mmap_ignoring_noreplace(void *addr, size_t length, int prot, int flags, int fd, off_t offset)
{
    void *p = mmap(addr, length, prot, flags & ~MAP_FIXED_NOREPLACE, fd, offset);
    if (p != MAP_FAILED && p != addr)
        test_misplaced_record((uintptr_t)p, length);
    return p;
}

void test_misplacing_os_begin(void)
{
    ilheap__os_linux_set_mmap(mmap_ignoring_noreplace);
}

void test_misplacing_os_restore(void)
{
    ilheap__os_linux_set_mmap(NULL);
}
