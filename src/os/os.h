/* The address-space contract: everything ilheap asks of the operating system.
 *
 * The heap logic never calls mmap, VirtualAlloc or reads /proc itself; it goes
 * through these few functions, implemented once per OS (linux.c, windows.c).
 *
 * Conventions (stated once):
 * - Functions return an ilheap_os_result_t; ILHEAP_OS_OK is 0. The OS's own
 *   error number (errno, GetLastError) is stored in *os_error when os_error is
 *   not NULL, for diagnostics only.
 * - Addresses are uintptr_t; sizes are multiples of ilheap__os_granularity().
 * - Every OS call goes through a fault point (fault.h) first, so tests can make
 *   any call fail.
 */
#ifndef ILHEAP_OS_H
#define ILHEAP_OS_H

#include <stddef.h>
#include <stdint.h>

typedef enum ilheap_os_result {
    ILHEAP_OS_OK = 0,
    ILHEAP_OS_TAKEN,  /* something else occupies (part of) the range: look elsewhere */
    ILHEAP_OS_NOMEM,  /* the system is out of address space, memory or mapping slots */
    ILHEAP_OS_FAILED, /* any other refusal */
    ILHEAP_OS_UNSUPPORTED, /* this system does not offer the call (optional calls only) */
} ilheap_os_result_t;

/* The page size: the unit of commit. */
size_t ilheap__os_page_size(void);

/* The unit and alignment of reservations: the page size on Linux, the 64 KiB
 * allocation granularity on Windows. A power of two. */
size_t ilheap__os_granularity(void);

/* The lowest and one-past-highest addresses where the process may map memory
 * (vm.mmap_min_addr up to the end of the user address space without asking
 * for addresses above 47 bits on x86-64). Both multiples of the granularity. */
void ilheap__os_address_limits(uintptr_t *lowest, uintptr_t *end);

/* Reserves exactly [addr, addr + size) as inaccessible memory, or nothing.
 * Never replaces an existing mapping: the address is a requirement, and the
 * address the OS returns is always verified (a kernel that treats the request
 * as a hint and maps elsewhere gets its mapping undone, and the result is
 * ILHEAP_OS_TAKEN). addr and size are multiples of the granularity.
 * Returns OK, TAKEN (range occupied, maybe by a thread that won a race),
 * NOMEM or FAILED. */
ilheap_os_result_t ilheap__os_reserve_at(uintptr_t addr, size_t size, int *os_error);

/* Optional: reserves size bytes anywhere inside [lo, hi) in one call, the
 * system finding the room (Windows: VirtualAlloc2 with
 * MEM_ADDRESS_REQUIREMENTS, which enforces the bounds in the kernel, and
 * allocates bottom-up, so the lowest room that fits). The address is stored
 * in *addr and always verified to lie inside [lo, hi). lo, hi and size are
 * multiples of the granularity. Returns OK; TAKEN when no room of that size
 * was found (the caller's gap walk then tells a full range from a refusal);
 * NOMEM or FAILED; UNSUPPORTED where the system has no such call (Linux,
 * Windows before 10 1803) or does not honour the range (Wine 8.0: an address
 * outside it is released, and the call is not made again): the caller walks
 * the gaps itself. */
ilheap_os_result_t ilheap__os_reserve_in_range(uintptr_t lo, uintptr_t hi, size_t size, uintptr_t *addr,
                                               int *os_error);

/* Makes [addr, addr + size) of a range this process reserved read-write (never
 * executable). addr and size are page multiples. With prefault, a system that
 * cannot prefault later (ilheap__os_prefault) faults the pages in now, while
 * nobody else can see the range yet. Returns OK, NOMEM or FAILED. */
ilheap_os_result_t ilheap__os_commit(uintptr_t addr, size_t size, int prefault, int *os_error);

/* Faults in committed pages in one call, much cheaper than a page fault per
 * page on first write (Linux: MADV_POPULATE_WRITE, 5.14+). Best effort and
 * safe while other threads write into the range: contents never change.
 * placement.c calls it under the heap's lock, before publishing the new
 * limit: threads then never fight the prefaulting thread over page tables. */
void ilheap__os_prefault(uintptr_t addr, size_t size);

/* Asks the OS to back [addr, addr + size), committed, with huge pages where
 * it can (Linux: MADV_HUGEPAGE, honoured when transparent huge pages are in
 * "madvise" or "always" mode). Best effort; nothing on other systems. */
void ilheap__os_advise_huge_pages(uintptr_t addr, size_t size);

/* Returns [addr, addr + size) to the OS. The range is made of whole
 * reservations made earlier by ilheap__os_reserve_at/_in_range, often several
 * adjacent ones (the heap extends an extent in place). On Windows, where
 * MEM_RELEASE frees exactly one reservation, the layer frees each, and
 * refuses (FAILED, nothing freed) a range that does not consist of whole
 * reservations. Likewise commit may span reservations. */
ilheap_os_result_t ilheap__os_release(uintptr_t addr, size_t size, int *os_error);

/* Called for each free range [start, end) in ascending order; returns nonzero
 * to stop the walk. */
typedef int (*ilheap_os_gap_visitor_t)(void *context, uintptr_t start, uintptr_t end);

/* Walks the unmapped ranges of the address space that intersect [lo, hi),
 * clipped to it and rounded inward to the granularity (only there can a
 * reservation start), in ascending address order, and calls visit for each
 * one of at least min_size bytes. The answer is a snapshot: another thread may map
 * into a gap right after. Allocates no memory.
 * Returns OK or FAILED (the memory map could not be read). */
ilheap_os_result_t ilheap__os_visit_gaps(uintptr_t lo, uintptr_t hi, size_t min_size,
                                         ilheap_os_gap_visitor_t visit, void *context,
                                         int *os_error);

/* Aligned memory from the C runtime: C11 aligned_alloc where the C library
 * has it, _aligned_malloc on Windows (whose C runtimes lack aligned_alloc).
 * size is a multiple of alignment. Only memory.c calls these (its
 * ilheap__mem_alloc_aligned adds the fault point and the checks); release
 * with ilheap__os_free_aligned. */
void *ilheap__os_alloc_aligned(size_t alignment, size_t size);
void ilheap__os_free_aligned(void *p);

/* ------------------------------------------------------------------ files
 * The counts files (src/counts): a file created under a temporary name and
 * renamed into place, grown with its blocks allocated, and mapped shared, so
 * that writes through the mapping reach the file and every process that maps
 * it. Paths are UTF-8. Every call has a fault point (ILHEAP_FAULT_FILE). */

/* A file: a descriptor on Linux, a HANDLE on Windows. */
typedef intptr_t ilheap_os_file_t;
#define ILHEAP_OS_NO_FILE ((ilheap_os_file_t)-1)

/* Creates a new, empty file for reading and writing in path's directory,
 * under a name of its own (written to tmp, at most tmp_cap bytes with the
 * NUL) that no other file has, readable by others as a normal file is.
 * Returns OK, or FAILED (the directory is missing or not writable, the name
 * too long: *os_error says which). */
ilheap_os_result_t ilheap__os_file_create_temp(const char *path, char *tmp, size_t tmp_cap, ilheap_os_file_t *file,
                                               int *os_error);

/* Gives the file at from the name to, replacing what was there in one step.
 * A process that holds the replaced file open or mapped keeps it (it is only
 * unnamed). */
ilheap_os_result_t ilheap__os_file_rename(const char *from, const char *to, int *os_error);

/* Removes the name path. */
ilheap_os_result_t ilheap__os_file_remove(const char *path, int *os_error);

/* Opens an existing file for reading (and mapping read-only). */
ilheap_os_result_t ilheap__os_file_open_read(const char *path, ilheap_os_file_t *file, int *os_error);

/* The file's size in bytes. FAILED also for a file that is not a regular
 * file (a directory, a pipe). */
ilheap_os_result_t ilheap__os_file_size(ilheap_os_file_t file, uint64_t *size, int *os_error);

/* Grows the file to offset + size bytes (zeros from its old end), the
 * blocks of [offset, offset + size) allocated now, so that a write through a
 * mapping never meets a full disk (which would be a SIGBUS on Linux).
 * Returns OK, NOMEM (ENOSPC, a quota) or FAILED. */
ilheap_os_result_t ilheap__os_file_extend(ilheap_os_file_t file, uint64_t offset, uint64_t size, int *os_error);

/* Writes data[0 .. size) at offset (all of it, or FAILED). */
ilheap_os_result_t ilheap__os_file_write(ilheap_os_file_t file, uint64_t offset, const void *data, size_t size,
                                         int *os_error);

/* Maps [offset, offset + size) of the file, shared, read-write (writable)
 * or read-only, at an address the system chooses (*addr). offset is a
 * multiple of ilheap__os_granularity(); the range lies inside the file. */
ilheap_os_result_t ilheap__os_file_map(ilheap_os_file_t file, uint64_t offset, size_t size, int writable, void **addr,
                                       int *os_error);

/* Unmaps a range ilheap__os_file_map returned (whole). */
ilheap_os_result_t ilheap__os_file_unmap(void *addr, size_t size, int *os_error);

/* Writes the mapped range's changes to the file now (its other readers see
 * them already: this is for the disk). addr is the start of a mapping. */
ilheap_os_result_t ilheap__os_file_sync(void *addr, size_t size, int *os_error);

/* Closes the file (its mappings stay valid). */
void ilheap__os_file_close(ilheap_os_file_t file);

/* -------------------------------------------------------------- processes */

/* What tells one process from another, over time: a pid is reused, the pair
 * (pid, start) is not within one boot. */
typedef struct ilheap_os_process {
    uint64_t pid;
    uint64_t start;   /* Linux: start time in clock ticks since boot; Windows: creation FILETIME */
    uint8_t boot[16]; /* Linux: the boot id; Windows: zero (start is absolute) */
} ilheap_os_process_t;

/* The calling process. Fault point ILHEAP_FAULT_PROCESS. */
ilheap_os_result_t ilheap__os_process_self(ilheap_os_process_t *self, int *os_error);

/* Whether the process p is still running: *running 1 (the same pid with the
 * same start, on this boot), or 0 (it ended, or the pid is another process's
 * now). FAILED when the system cannot tell. Fault point ILHEAP_FAULT_PROCESS. */
ilheap_os_result_t ilheap__os_process_running(const ilheap_os_process_t *p, int *running, int *os_error);

/* -------------------------------------------------------------- the rest */

/* Wall-clock time in nanoseconds since 1970 (for display and identities). */
uint64_t ilheap__os_time_ns(void);

/* 1 when os_error says the file or a directory of its path does not exist. */
int ilheap__os_error_is_missing(int os_error);

/* The system's text for an os_error, into buf (always NUL-terminated). */
const char *ilheap__os_error_text(int os_error, char *buf, size_t cap);

#endif /* ILHEAP_OS_H */
