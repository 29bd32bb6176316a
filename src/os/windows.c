/* The address-space contract (os.h) on Windows.
 *
 * Reservations are VirtualAlloc(MEM_RESERVE, PAGE_NOACCESS) at the 64 KiB
 * allocation granularity. VirtualAlloc with an address never replaces
 * anything: it fails (ERROR_INVALID_ADDRESS) when any page of the range is in
 * use; the address it returns is compared all the same. Where the system has
 * it (Windows 10 1803+, looked up at run time so that the library still loads
 * on older systems), VirtualAlloc2 with MEM_ADDRESS_REQUIREMENTS reserves
 * inside a range in one call: the kernel finds the room and enforces the
 * bounds, with no race between looking and taking.
 *
 * Windows differs from Linux in one way the heap relies on: MEM_RELEASE frees
 * one whole reservation (one VirtualAlloc), and MEM_COMMIT may not span two.
 * The heap extends an extent in place by reserving the chunk right after it,
 * so an extent is made of several reservations. Commit and release therefore
 * walk the range with VirtualQuery and act once per reservation
 * (AllocationBase), which keeps the heap code the same on both systems.
 */
#include "os/windows_hooks.h"
#include "os/fault.h"
#include "os/os.h"

#include <malloc.h>
#include <stdatomic.h>
#include <stdint.h>
#include <windows.h>

typedef PVOID(WINAPI *virtual_alloc2_fn_t)(HANDLE process, PVOID base, SIZE_T size, ULONG type,
                                           ULONG protect, MEM_EXTENDED_PARAMETER *parameters,
                                           ULONG count);
typedef BOOL(WINAPI *prefetch_fn_t)(HANDLE process, ULONG_PTR count, WIN32_MEMORY_RANGE_ENTRY *ranges,
                                    ULONG flags);

static ilheap_virtual_alloc_fn_t virtual_alloc_call = VirtualAlloc;

void ilheap__os_windows_set_virtual_alloc(ilheap_virtual_alloc_fn_t fn)
{
    virtual_alloc_call = fn != NULL ? fn : VirtualAlloc;
}

/* ------------------------------------------------------------ system facts */

static SYSTEM_INFO system_info;
static virtual_alloc2_fn_t virtual_alloc2;
static prefetch_fn_t prefetch_virtual_memory;
static INIT_ONCE facts_once = INIT_ONCE_STATIC_INIT;
static atomic_int range_reserve_enabled = 1;

/* Once per process: the system facts, and the functions looked up at run
 * time so that the library still loads where they are missing. VirtualAlloc2
 * is in kernelbase.dll (Windows 10 1803+), PrefetchVirtualMemory in
 * kernel32.dll (Windows 8+); a missing one stays NULL and its feature is
 * skipped. */
static BOOL CALLBACK read_facts(PINIT_ONCE once, PVOID parameter, PVOID *context)
{
    (void)once;
    (void)parameter;
    (void)context;
    GetSystemInfo(&system_info);
    HMODULE kernelbase = GetModuleHandleW(L"kernelbase.dll");
    if (kernelbase != NULL)
        virtual_alloc2 = (virtual_alloc2_fn_t)(void (*)(void))GetProcAddress(kernelbase, "VirtualAlloc2");
    HMODULE kernel32 = GetModuleHandleW(L"kernel32.dll");
    if (kernel32 != NULL)
        prefetch_virtual_memory =
            (prefetch_fn_t)(void (*)(void))GetProcAddress(kernel32, "PrefetchVirtualMemory");
    return TRUE;
}

static const SYSTEM_INFO *get_system_info(void)
{
    InitOnceExecuteOnce(&facts_once, read_facts, NULL, NULL);
    return &system_info;
}

size_t ilheap__os_page_size(void)
{
    return get_system_info()->dwPageSize;
}

size_t ilheap__os_granularity(void)
{
    return get_system_info()->dwAllocationGranularity;
}

void ilheap__os_address_limits(uintptr_t *lowest, uintptr_t *end)
{
    const SYSTEM_INFO *info = get_system_info();
    uintptr_t g = info->dwAllocationGranularity;
    uintptr_t low = (uintptr_t)info->lpMinimumApplicationAddress;
    uintptr_t high = (uintptr_t)info->lpMaximumApplicationAddress; /* the last usable byte */
    if (low < g)
        low = g;
    *lowest = (low + g - 1) & ~(g - 1);
    *end = high == UINTPTR_MAX ? high & ~(g - 1) : (high + 1) & ~(g - 1);
}

/* ------------------------------------------- VirtualAlloc2 on or off (tests) */

void ilheap__os_windows_set_range_reserve(int enabled)
{
    atomic_store(&range_reserve_enabled, enabled != 0);
}

int ilheap__os_windows_has_range_reserve(void)
{
    (void)get_system_info();
    return virtual_alloc2 != NULL && atomic_load(&range_reserve_enabled);
}

/* ----------------------------------------------------------------- helpers */

static void store_error(int *os_error, DWORD value)
{
    if (os_error != NULL)
        *os_error = (int)value;
}

static ilheap_os_result_t result_from_error(DWORD error)
{
    switch (error) {
    case ERROR_INVALID_ADDRESS: /* part of the range is in use */
        return ILHEAP_OS_TAKEN;
    case ERROR_NOT_ENOUGH_MEMORY:
    case ERROR_OUTOFMEMORY:
    case ERROR_COMMITMENT_LIMIT:
        return ILHEAP_OS_NOMEM;
    default:
        return ILHEAP_OS_FAILED;
    }
}

static int query(uintptr_t addr, MEMORY_BASIC_INFORMATION *info)
{
    return VirtualQuery((const void *)addr, info, sizeof *info) == sizeof *info;
}

/* ------------------------------------------------------------- reservation */

ilheap_os_result_t ilheap__os_reserve_at(uintptr_t addr, size_t size, int *os_error)
{
    ILHEAP__FAULT_POINT(ILHEAP_FAULT_RESERVE, os_error);
    void *got = virtual_alloc_call((void *)addr, size, MEM_RESERVE, PAGE_NOACCESS);
    if (got == NULL) {
        DWORD error = GetLastError();
        store_error(os_error, error);
        return result_from_error(error);
    }
    if ((uintptr_t)got != addr) {
        /* Never seen from Windows itself for an aligned address; a wrong
         * answer is undone all the same (the hook in the tests plays one). */
        VirtualFree(got, 0, MEM_RELEASE);
        store_error(os_error, ERROR_INVALID_ADDRESS);
        return ILHEAP_OS_TAKEN;
    }
    store_error(os_error, 0);
    return ILHEAP_OS_OK;
}

ilheap_os_result_t ilheap__os_reserve_in_range(uintptr_t lo, uintptr_t hi, size_t size, uintptr_t *addr,
                                               int *os_error)
{
    if (!ilheap__os_windows_has_range_reserve()) {
        store_error(os_error, ERROR_NOT_SUPPORTED);
        return ILHEAP_OS_UNSUPPORTED;
    }
    ILHEAP__FAULT_POINT(ILHEAP_FAULT_RESERVE, os_error);
    if (hi <= lo || size > hi - lo) {
        store_error(os_error, ERROR_NOT_ENOUGH_MEMORY);
        return ILHEAP_OS_TAKEN;
    }
    /* LowestStartingAddress is a multiple of the granularity and
     * HighestEndingAddress is the last byte of a granule (inclusive). */
    MEM_ADDRESS_REQUIREMENTS requirements = {(void *)lo, (void *)(hi - 1), 0};
    MEM_EXTENDED_PARAMETER parameter = {0};
    parameter.Type = MemExtendedParameterAddressRequirements;
    parameter.Pointer = &requirements;
    void *got = virtual_alloc2(GetCurrentProcess(), NULL, size, MEM_RESERVE, PAGE_NOACCESS, &parameter, 1);
    if (got == NULL) {
        DWORD error = GetLastError();
        store_error(os_error, error);
        if (error == ERROR_INVALID_PARAMETER || error == ERROR_NOT_SUPPORTED ||
            error == ERROR_CALL_NOT_IMPLEMENTED) {
            /* A system (or Wine) that has the function but not this use of
             * it: stop asking, the caller walks the gaps itself. */
            ilheap__os_windows_set_range_reserve(0);
            return ILHEAP_OS_UNSUPPORTED;
        }
        /* No room of that size in the range reads as "not enough memory":
         * the caller's own gap walk tells the two apart. */
        ilheap_os_result_t result = result_from_error(error);
        return result == ILHEAP_OS_NOMEM ? ILHEAP_OS_TAKEN : result;
    }
    uintptr_t start = (uintptr_t)got;
    if (start < lo || start > hi || size > hi - start) {
        /* The bounds are a requirement: never keep a range outside them.
         * Windows enforces them in the kernel; a system that returns an
         * address outside (Wine 8.0 ignores MEM_ADDRESS_REQUIREMENTS and
         * hands out the lowest free range anywhere) cannot be trusted with
         * them, so stop asking: the caller walks the gaps itself. */
        VirtualFree(got, 0, MEM_RELEASE);
        ilheap__os_windows_set_range_reserve(0);
        store_error(os_error, ERROR_INVALID_ADDRESS);
        return ILHEAP_OS_UNSUPPORTED;
    }
    *addr = start;
    store_error(os_error, 0);
    return ILHEAP_OS_OK;
}

/* ------------------------------------------------------------------ commit */

ilheap_os_result_t ilheap__os_commit(uintptr_t addr, size_t size, int prefault, int *os_error)
{
    ILHEAP__FAULT_POINT(ILHEAP_FAULT_COMMIT, os_error);
    (void)prefault; /* nothing cheaper than ilheap__os_prefault later */
    uintptr_t end = addr + size, cursor = addr;
    /* One VirtualAlloc per region: a commit must not span two reservations. */
    while (cursor < end) {
        MEMORY_BASIC_INFORMATION info;
        DWORD error = 0;
        if (!query(cursor, &info))
            error = GetLastError();
        else if (info.State == MEM_FREE)
            error = ERROR_INVALID_ADDRESS; /* not ours: never commit there */
        uintptr_t piece_end = end;
        if (error == 0) {
            uintptr_t region_end = (uintptr_t)info.BaseAddress + info.RegionSize;
            if (region_end < piece_end)
                piece_end = region_end;
            if (virtual_alloc_call((void *)cursor, piece_end - cursor, MEM_COMMIT, PAGE_READWRITE) == NULL)
                error = GetLastError();
        }
        if (error != 0) {
            /* Leave nothing half-done: what this call committed goes back to
             * reserved (it held no blocks yet). */
            if (cursor > addr)
                VirtualFree((void *)addr, cursor - addr, MEM_DECOMMIT);
            store_error(os_error, error);
            ilheap_os_result_t result = result_from_error(error);
            return result == ILHEAP_OS_TAKEN ? ILHEAP_OS_FAILED : result;
        }
        cursor = piece_end;
    }
    store_error(os_error, 0);
    return ILHEAP_OS_OK;
}

void ilheap__os_prefault(uintptr_t addr, size_t size)
{
    (void)get_system_info();
    if (prefetch_virtual_memory == NULL)
        return;
    WIN32_MEMORY_RANGE_ENTRY range = {(void *)addr, size};
    (void)prefetch_virtual_memory(GetCurrentProcess(), 1, &range, 0); /* best effort */
}

void ilheap__os_advise_huge_pages(uintptr_t addr, size_t size)
{
    /* Windows has no transparent huge pages: large pages must be asked for
     * at reservation (MEM_LARGE_PAGES, with SeLockMemoryPrivilege) and are
     * then committed whole, which does not fit a heap that grows in place. */
    (void)addr;
    (void)size;
}

/* ----------------------------------------------------------------- release */

/* Walks [addr, end) one reservation at a time. Each must start inside the
 * range (AllocationBase == where the walk stands) and end inside it, so that
 * nothing outside the range is ever freed. With release, frees each. */
static DWORD walk_reservations(uintptr_t addr, uintptr_t end, int release)
{
    uintptr_t cursor = addr;
    while (cursor < end) {
        MEMORY_BASIC_INFORMATION info;
        if (!query(cursor, &info))
            return GetLastError();
        if (info.State == MEM_FREE || (uintptr_t)info.AllocationBase != cursor)
            return ERROR_INVALID_ADDRESS;
        void *reservation = info.AllocationBase;
        uintptr_t reservation_end = (uintptr_t)info.BaseAddress + info.RegionSize;
        while (reservation_end < end && query(reservation_end, &info) && info.State != MEM_FREE &&
               info.AllocationBase == reservation)
            reservation_end = (uintptr_t)info.BaseAddress + info.RegionSize;
        if (reservation_end > end)
            return ERROR_INVALID_ADDRESS; /* it runs past the range: not all ours */
        if (release && !VirtualFree(reservation, 0, MEM_RELEASE))
            return GetLastError();
        cursor = reservation_end;
    }
    return 0;
}

ilheap_os_result_t ilheap__os_release(uintptr_t addr, size_t size, int *os_error)
{
    ILHEAP__FAULT_POINT(ILHEAP_FAULT_RELEASE, os_error);
    /* Check every reservation first, so that a range that is not exactly
     * whole reservations is refused before anything is freed. */
    DWORD error = walk_reservations(addr, addr + size, 0);
    if (error == 0)
        error = walk_reservations(addr, addr + size, 1);
    store_error(os_error, error);
    return error == 0 ? ILHEAP_OS_OK : ILHEAP_OS_FAILED;
}

/* ------------------------------------------------------------------- gaps */

ilheap_os_result_t ilheap__os_visit_gaps(uintptr_t lo, uintptr_t hi, size_t min_size,
                                         ilheap_os_gap_visitor_t visit, void *context,
                                         int *os_error)
{
    ILHEAP__FAULT_POINT(ILHEAP_FAULT_GAPS, os_error);
    uintptr_t g = ilheap__os_granularity();
    uintptr_t lowest, top;
    ilheap__os_address_limits(&lowest, &top);
    if (min_size == 0)
        min_size = 1;
    /* VirtualQuery walk upward from lo. Free regions come maximal, but
     * adjacent ones are merged all the same before they are reported. */
    uintptr_t cursor = lo, gap_start = 0, gap_end = 0;
    int have_gap = 0, stopped = 0;
    while (cursor < hi && !stopped) {
        MEMORY_BASIC_INFORMATION info;
        uintptr_t region_start, region_end;
        int is_free;
        if (cursor < lowest || cursor >= top) {
            /* Outside what the process may map: never a gap. */
            region_start = cursor;
            region_end = cursor < lowest ? lowest : hi;
            is_free = 0;
        } else if (!query(cursor, &info)) {
            store_error(os_error, GetLastError());
            return ILHEAP_OS_FAILED;
        } else {
            region_start = (uintptr_t)info.BaseAddress;
            region_end = region_start + info.RegionSize;
            if (region_end > top || region_end < region_start)
                region_end = top;
            is_free = info.State == MEM_FREE;
        }
        if (region_end <= cursor) {
            store_error(os_error, ERROR_INVALID_ADDRESS);
            return ILHEAP_OS_FAILED; /* a walk that does not advance */
        }
        if (is_free) {
            if (!have_gap || gap_end != region_start) {
                have_gap = 1;
                gap_start = region_start;
            }
            gap_end = region_end;
        }
        if (have_gap && (!is_free || region_end >= hi)) {
            /* Clip to [lo, hi) and round inward to whole granules: a
             * reservation can only start on a granule. */
            uintptr_t s = gap_start > lo ? gap_start : lo;
            uintptr_t e = gap_end < hi ? gap_end : hi;
            s = (s + g - 1) & ~(g - 1);
            e &= ~(g - 1);
            if (s < e && e - s >= min_size && visit(context, s, e))
                stopped = 1;
            have_gap = 0;
        }
        cursor = region_end;
    }
    store_error(os_error, 0);
    return ILHEAP_OS_OK;
}

/* ---------------------------------------------------- the heap's own records */

void *ilheap__os_alloc_aligned(size_t alignment, size_t size)
{
    return _aligned_malloc(size, alignment);
}

void ilheap__os_free_aligned(void *p)
{
    _aligned_free(p);
}
