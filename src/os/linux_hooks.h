/* Test hooks of the Linux address-space layer. */
#ifndef ILHEAP_OS_LINUX_HOOKS_H
#define ILHEAP_OS_LINUX_HOOKS_H

#include <stddef.h>
#include <sys/types.h>

typedef void *(*ilheap_mmap_fn_t)(void *addr, size_t length, int prot, int flags, int fd,
                                  off_t offset);

/* Replaces the mmap the layer calls (NULL restores the real one), so a test
 * can play a kernel that ignores MAP_FIXED_NOREPLACE. Not thread-safe: set it
 * while no heap is working. */
void ilheap__os_linux_set_mmap(ilheap_mmap_fn_t fn);

/* Makes the layer behave as on a kernel with (1) or without (0)
 * MADV_POPULATE_WRITE, so a test can take the older commit path. */
void ilheap__os_linux_set_populate_write(int works);

/* Makes the layer report size as the page size (and so the granularity), so
 * the heap's tests can run as on a kernel with 16 KiB or 64 KiB pages (ARM64
 * distributions): every reservation, commit and gap is then rounded to it,
 * which stays valid on the real, smaller page. size must be a power of two
 * no smaller than the real page; 0 restores the real one. Returns 0 (and
 * changes nothing) for a size it refuses. Set it before any heap exists. */
int ilheap__os_linux_set_page_size(size_t size);

#endif
