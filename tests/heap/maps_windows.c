/* The per-OS test helpers of maps_util.h on Windows: VirtualQuery and
 * VirtualAlloc. Also: ILHEAP_TEST_NO_RANGE_RESERVE=1 in the environment turns
 * off the layer's VirtualAlloc2 path, so CTest runs the heap tests over both
 * placement paths (VirtualAlloc2 and the VirtualQuery gap walk). */
#include "maps_util.h"
#include "os/windows_hooks.h"

#include <stdlib.h>
#include <string.h>
#include <windows.h>

__attribute__((constructor)) static void choose_placement_path(void)
{
    const char *env = getenv("ILHEAP_TEST_NO_RANGE_RESERVE");
    if (env != NULL && strcmp(env, "1") == 0)
        ilheap__os_windows_set_range_reserve(0);
}

uint64_t maps_bytes_mapped(uintptr_t lo, uintptr_t hi)
{
    uint64_t total = 0;
    uintptr_t cursor = lo;
    while (cursor < hi) {
        MEMORY_BASIC_INFORMATION info;
        if (VirtualQuery((const void *)cursor, &info, sizeof info) != sizeof info)
            break; /* above the highest application address */
        uintptr_t start = (uintptr_t)info.BaseAddress, end = start + info.RegionSize;
        if (end <= cursor)
            break;
        if (info.State != MEM_FREE) {
            uintptr_t s = start > lo ? start : lo;
            uintptr_t e = end < hi ? end : hi;
            if (s < e)
                total += e - s;
        }
        cursor = end;
    }
    return total;
}

static uintptr_t find_free(size_t size, DWORD direction)
{
    void *p = VirtualAlloc(NULL, size, MEM_RESERVE | direction, PAGE_NOACCESS);
    if (p == NULL)
        return 0;
    VirtualFree(p, 0, MEM_RELEASE);
    test_address_space_freed();
    return (uintptr_t)p;
}

uintptr_t sandbox_find(size_t size)
{
    return find_free(size, 0);
}

/* Top-down, where Linux's mmap places too: Windows allocates bottom-up, so
 * the C runtime's heap may grow into a low range a test leaves free for long. */
uintptr_t sandbox_find_high(size_t size)
{
    return find_free(size, MEM_TOP_DOWN);
}

static void *map_exactly(uintptr_t addr, size_t size, DWORD type, DWORD protect)
{
    void *p = VirtualAlloc((void *)addr, size, type, protect);
    if (p != NULL && p != (void *)addr) {
        VirtualFree(p, 0, MEM_RELEASE);
        return NULL;
    }
    return p;
}

void *test_map_at(uintptr_t addr, size_t size)
{
    return map_exactly(addr, size, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE);
}

void *test_map_inaccessible_at(uintptr_t addr, size_t size)
{
    return map_exactly(addr, size, MEM_RESERVE, PAGE_NOACCESS);
}

void test_unmap(void *p, size_t size)
{
    (void)size; /* MEM_RELEASE frees the whole reservation made at p */
    VirtualFree(p, 0, MEM_RELEASE);
    test_address_space_freed();
}

/* A VirtualAlloc that, when the address asked for is taken, reserves
 * wherever it likes instead of failing. */
static LPVOID WINAPI virtual_alloc_misplacing(LPVOID addr, SIZE_T size, DWORD type, DWORD protect)
{
    void *p = VirtualAlloc(addr, size, type, protect);
    if (p == NULL && addr != NULL && (type & MEM_RESERVE) != 0) {
        p = VirtualAlloc(NULL, size, type, protect);
        if (p != NULL)
            test_misplaced_record((uintptr_t)p, size);
    }
    return p;
}

void test_misplacing_os_begin(void)
{
    ilheap__os_windows_set_virtual_alloc(virtual_alloc_misplacing);
}

void test_misplacing_os_restore(void)
{
    ilheap__os_windows_set_virtual_alloc(NULL);
}
