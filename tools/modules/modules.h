/* Finding a module loaded in this process: its base and image size. Not part
 * of the address-space contract (the heap never needs it: a profiler gets
 * module bases from the runtime); the ilheap command and the tests use it to
 * put heaps above real modules. One file per OS: modules_linux.c
 * (dl_iterate_phdr), modules_windows.c (Toolhelp32 module list). */
#ifndef ILHEAP_OS_MODULES_H
#define ILHEAP_OS_MODULES_H

#include <stddef.h>
#include <stdint.h>

typedef struct ilheap_module_info {
    char name[260];
    uintptr_t base; /* the lowest address of the image */
    size_t size;    /* bytes from base to the end of the last segment/section */
} ilheap_module_info_t;

/* Finds the first loaded module whose file name contains name_part (on
 * Windows without regard to case), or the main program when name_part is
 * NULL. Returns 1 and fills *out, or 0 when none matches. */
int ilheap__os_find_module(const char *name_part, ilheap_module_info_t *out);

/* A fresh, zeroed, read-write region of size bytes, page-aligned, placed by
 * the OS (mmap / VirtualAlloc), to lay an image out in as a loader would
 * (ilheap_pe_layout). Returns NULL when the OS refuses. Free with
 * ilheap__os_image_region_free(p, size). */
void *ilheap__os_image_region(size_t size);
void ilheap__os_image_region_free(void *p, size_t size);

#endif
