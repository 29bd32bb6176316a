/* The address-space contract (os.h) on Linux.
 *
 * Reservations are PROT_NONE anonymous mappings placed with
 * MAP_FIXED_NOREPLACE, which fails atomically with EEXIST when anything is in
 * the way. Kernels before 4.17, and some sandboxes, treat the flag as a plain
 * hint, so the returned address is always compared and a wrong one unmapped.
 * MAP_FIXED is never used: commit is mprotect on a range already ours, so
 * the range is never unmapped while the heap holds it.
 */
#include "os/linux_hooks.h"
#include "os/fault.h"
#include "os/os.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif
#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

static ilheap_mmap_fn_t mmap_call = mmap;

void ilheap__os_linux_set_mmap(ilheap_mmap_fn_t fn)
{
    mmap_call = fn != NULL ? fn : mmap;
}

/* 0 until read; every thread that races here writes the same value. */
static atomic_size_t cached_page_size;
/* 0, or the page size a test plays (ilheap__os_linux_set_page_size). */
static atomic_size_t simulated_page_size;

static size_t real_page_size(void)
{
    /* relaxed: every thread computes the same value, so any value read (0 or the size) is right. */
    size_t size = atomic_load_explicit(&cached_page_size, memory_order_relaxed);
    if (size == 0) {
        long value = sysconf(_SC_PAGESIZE);
        size = value > 0 ? (size_t)value : 4096;
        atomic_store_explicit(&cached_page_size, size, memory_order_relaxed);
    }
    return size;
}

int ilheap__os_linux_set_page_size(size_t size)
{
    if (size != 0 && (size < real_page_size() || (size & (size - 1)) != 0))
        return 0;
    /* relaxed: a test hook set before any heap exists. */
    atomic_store_explicit(&simulated_page_size, size, memory_order_relaxed);
    return 1;
}

size_t ilheap__os_page_size(void)
{
    size_t simulated = atomic_load_explicit(&simulated_page_size, memory_order_relaxed);
    return simulated != 0 ? simulated : real_page_size();
}

size_t ilheap__os_granularity(void)
{
    return ilheap__os_page_size();
}

/* vm.mmap_min_addr: nothing can be mapped below it (EPERM). */
static uintptr_t read_mmap_min_addr(void)
{
    uintptr_t value = 65536;
    int fd = open("/proc/sys/vm/mmap_min_addr", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return value;
    char text[32];
    ssize_t n = read(fd, text, sizeof text - 1);
    close(fd);
    if (n > 0) {
        uintptr_t parsed = 0;
        for (ssize_t i = 0; i < n && text[i] >= '0' && text[i] <= '9'; i++)
            parsed = parsed * 10 + (uintptr_t)(text[i] - '0');
        value = parsed;
    }
    return value;
}

void ilheap__os_address_limits(uintptr_t *lowest, uintptr_t *end)
{
    uintptr_t page = ilheap__os_page_size();
    static atomic_uintptr_t min_addr; /* 0 = not read yet */
    /* relaxed: an idempotent cache of a kernel setting; racing threads store the same value. */
    uintptr_t low = atomic_load_explicit(&min_addr, memory_order_relaxed);
    if (low == 0) {
        low = read_mmap_min_addr();
        atomic_store_explicit(&min_addr, low != 0 ? low : 1, memory_order_relaxed);
    }
    /* Rounded on each call, not cached: the page size may be a simulated one. */
    if (low < page)
        low = page;
    *lowest = (low + page - 1) & ~(page - 1);
#if defined(__x86_64__)
    /* 4-level paging; the kernel maps above 47 bits only when asked with a
     * hint above them, and ilheap never asks. */
    *end = ((uintptr_t)1 << 47) - page;
#elif defined(__aarch64__)
    *end = (uintptr_t)1 << 48;
#else
    *end = UINTPTR_MAX & ~(page - 1);
#endif
}

static ilheap_os_result_t result_from_errno(int error)
{
    switch (error) {
    case EEXIST:
        return ILHEAP_OS_TAKEN;
    case ENOMEM:
        return ILHEAP_OS_NOMEM;
    default:
        return ILHEAP_OS_FAILED;
    }
}

static void store_error(int *os_error, int value)
{
    if (os_error != NULL)
        *os_error = value;
}

ilheap_os_result_t ilheap__os_reserve_at(uintptr_t addr, size_t size, int *os_error)
{
    ILHEAP__FAULT_POINT(ILHEAP_FAULT_RESERVE, os_error);
    void *want = (void *)addr;
    void *got = mmap_call(want, size, PROT_NONE,
                          MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED_NOREPLACE, -1, 0);
    if (got == MAP_FAILED) {
        store_error(os_error, errno);
        return result_from_errno(errno);
    }
    if (got != want) {
        /* The flag was taken as a hint: something occupies the range. */
        munmap(got, size);
        store_error(os_error, EEXIST);
        return ILHEAP_OS_TAKEN;
    }
    store_error(os_error, 0);
    return ILHEAP_OS_OK;
}

ilheap_os_result_t ilheap__os_reserve_in_range(uintptr_t lo, uintptr_t hi, size_t size, uintptr_t *addr,
                                               int *os_error)
{
    /* Linux has no "map inside this range" call: placement walks
     * /proc/self/maps and uses ilheap__os_reserve_at. */
    (void)lo;
    (void)hi;
    (void)size;
    (void)addr;
    store_error(os_error, ENOSYS);
    return ILHEAP_OS_UNSUPPORTED;
}

/* 1 until MADV_POPULATE_WRITE is found missing (kernels before 5.14). */
static atomic_int populate_write_works = 1;

void ilheap__os_prefault(uintptr_t addr, size_t size)
{
    /* relaxed: a capability flag that only ever goes from 1 to 0; a stale 1 costs one failed madvise.
     */
    if (!atomic_load_explicit(&populate_write_works, memory_order_relaxed))
        return;
    if (madvise((void *)addr, size, MADV_POPULATE_WRITE) != 0 && errno == EINVAL)
        atomic_store_explicit(&populate_write_works, 0, memory_order_relaxed);
    /* Other errors (ENOMEM, EFAULT, EINTR): pages fault in on first write. */
}

void ilheap__os_linux_set_populate_write(int works)
{
    atomic_store_explicit(&populate_write_works, works != 0, memory_order_relaxed);
}

ilheap_os_result_t ilheap__os_commit(uintptr_t addr, size_t size, int prefault, int *os_error)
{
    ILHEAP__FAULT_POINT(ILHEAP_FAULT_COMMIT, os_error);
    if (mprotect((void *)addr, size, PROT_READ | PROT_WRITE) != 0) {
        store_error(os_error, errno);
        return result_from_errno(errno);
    }
    if (prefault && !atomic_load_explicit(&populate_write_works, memory_order_relaxed)) {
        /* No MADV_POPULATE_WRITE (before 5.14): fault the pages in by hand, one
         * write of zero per page; nobody else sees the range yet. Not mmap with
         * MAP_FIXED | MAP_POPULATE: a failure there may leave the range
         * unmapped, and without a reliable MAP_FIXED_NOREPLACE (4.17) another
         * thread's mapping could take its place. */
        size_t page = ilheap__os_page_size();
        for (uintptr_t p = addr; p - addr < size; p += page)
            *(volatile char *)p = 0;
    }
    store_error(os_error, 0);
    return ILHEAP_OS_OK;
}

void ilheap__os_advise_huge_pages(uintptr_t addr, size_t size)
{
#ifdef MADV_HUGEPAGE
    (void)madvise((void *)addr, size, MADV_HUGEPAGE);
#else
    (void)addr;
    (void)size;
#endif
}

ilheap_os_result_t ilheap__os_release(uintptr_t addr, size_t size, int *os_error)
{
    ILHEAP__FAULT_POINT(ILHEAP_FAULT_RELEASE, os_error);
    if (munmap((void *)addr, size) != 0) {
        store_error(os_error, errno);
        return ILHEAP_OS_FAILED;
    }
    store_error(os_error, 0);
    return ILHEAP_OS_OK;
}

/* Parses "start-end" in hex at the start of a /proc/self/maps line. */
static int parse_range(const char *line, size_t length, uintptr_t *start, uintptr_t *end)
{
    uintptr_t value[2] = {0, 0};
    size_t i = 0;
    for (int field = 0; field < 2; field++) {
        size_t digits = 0;
        for (; i < length; i++, digits++) {
            char c = line[i];
            unsigned d;
            if (c >= '0' && c <= '9')
                d = (unsigned)(c - '0');
            else if (c >= 'a' && c <= 'f')
                d = (unsigned)(c - 'a' + 10);
            else
                break;
            value[field] = (value[field] << 4) | d;
        }
        if (digits == 0 || digits > sizeof(uintptr_t) * 2)
            return 0;
        if (field == 0) {
            if (i >= length || line[i] != '-')
                return 0;
            i++;
        }
    }
    *start = value[0];
    *end = value[1];
    return *start < *end;
}

typedef struct gap_walk {
    uintptr_t lo, hi, cursor; /* cursor: end of the last mapping seen (clipped to lo) */
    size_t min_size;
    ilheap_os_gap_visitor_t visit;
    void *context;
    int stopped;
} gap_walk_t;

/* Reports the free range [cursor, next_start) clipped to [lo, hi). */
static void report_gap(gap_walk_t *walk, uintptr_t next_start)
{
    uintptr_t start = walk->cursor > walk->lo ? walk->cursor : walk->lo;
    uintptr_t end = next_start < walk->hi ? next_start : walk->hi;
    if (start < end && end - start >= walk->min_size && walk->visit(walk->context, start, end))
        walk->stopped = 1;
}

static void on_mapping(gap_walk_t *walk, uintptr_t start, uintptr_t end)
{
    if (start > walk->cursor)
        report_gap(walk, start);
    if (end > walk->cursor)
        walk->cursor = end;
}

ilheap_os_result_t ilheap__os_visit_gaps(uintptr_t lo, uintptr_t hi, size_t min_size,
                                         ilheap_os_gap_visitor_t visit, void *context,
                                         int *os_error)
{
    ILHEAP__FAULT_POINT(ILHEAP_FAULT_GAPS, os_error);
    gap_walk_t walk = {lo, hi, 0, min_size, visit, context, 0};
    if (min_size == 0)
        walk.min_size = 1;
    int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        store_error(os_error, errno);
        return ILHEAP_OS_FAILED;
    }
    /* A fixed buffer: no allocation, lines carried over between reads. */
    char buffer[8192];
    size_t filled = 0;
    int eof = 0;
    ilheap_os_result_t result = ILHEAP_OS_OK;
    while (!walk.stopped && walk.cursor < hi) {
        char *newline = memchr(buffer, '\n', filled);
        size_t length;
        if (newline != NULL) {
            length = (size_t)(newline - buffer);
        } else if (eof) {
            length = filled; /* a last line without a newline */
            if (length == 0)
                break;
        } else {
            /* A line longer than the buffer: only its first field matters,
             * so keep the head and drop the rest as it comes. */
            if (filled == sizeof buffer)
                filled = 64;
            ssize_t n = read(fd, buffer + filled, sizeof buffer - filled);
            if (n < 0 && errno == EINTR)
                continue;
            if (n < 0) {
                store_error(os_error, errno);
                result = ILHEAP_OS_FAILED;
                break;
            }
            eof = n == 0;
            filled += (size_t)n;
            continue;
        }
        uintptr_t start, end;
        if (parse_range(buffer, length, &start, &end))
            on_mapping(&walk, start, end);
        size_t consumed = length < filled ? length + 1 : filled;
        filled -= consumed;
        memmove(buffer, buffer + consumed, filled);
    }
    close(fd);
    if (result == ILHEAP_OS_OK && !walk.stopped && walk.cursor < hi)
        report_gap(&walk, hi);
    if (result == ILHEAP_OS_OK)
        store_error(os_error, 0);
    return result;
}

void *ilheap__os_alloc_aligned(size_t alignment, size_t size)
{
    return aligned_alloc(alignment, size);
}

void ilheap__os_free_aligned(void *p)
{
    free(p);
}
