#include "maps_util.h"

#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

size_t maps_count(void)
{
    FILE *f = fopen("/proc/self/maps", "r");
    if (f == NULL)
        return 0;
    size_t lines = 0;
    int c;
    while ((c = fgetc(f)) != EOF)
        lines += c == '\n';
    fclose(f);
    return lines;
}

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

uintptr_t sandbox_reserve(size_t size)
{
    void *p = mmap(NULL, size, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    return p == MAP_FAILED ? 0 : (uintptr_t)p;
}

void sandbox_release(uintptr_t start, size_t size)
{
    munmap((void *)start, size);
}

static uint8_t pattern_byte(uint32_t seed, size_t i)
{
    uint32_t x = seed * 2654435761u + (uint32_t)i * 40503u;
    return (uint8_t)(x >> 13);
}

void pattern_fill(void *p, size_t size, uint32_t seed)
{
    uint8_t *bytes = p;
    for (size_t i = 0; i < size; i++)
        bytes[i] = pattern_byte(seed, i);
}

int pattern_check(const void *p, size_t size, uint32_t seed)
{
    const uint8_t *bytes = p;
    for (size_t i = 0; i < size; i++)
        if (bytes[i] != pattern_byte(seed, i))
            return 0;
    return 1;
}
