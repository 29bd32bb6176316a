/* Memory for the library's own records (see memory.h for the contract). */
#include "os/memory.h"

#include "os/fault.h"
#include "os/os.h"

#include <stdint.h>
#include <stdlib.h>

/* The fault point of every allocating call: nonzero when this call fails. */
static int memory_fault(void)
{
    ilheap_os_result_t ignored;
    return ilheap__fault_fire(ILHEAP_FAULT_MEMORY, &ignored, NULL);
}

/* count * size, or 0 when that overflows; a 0-byte request takes 1 byte. */
static size_t request_bytes(size_t count, size_t size, int *overflow)
{
    *overflow = size != 0 && count > SIZE_MAX / size;
    size_t bytes = *overflow ? 0 : count * size;
    return bytes != 0 ? bytes : 1;
}

void *ilheap__mem_alloc(size_t count, size_t size)
{
    int overflow;
    size_t bytes = request_bytes(count, size, &overflow);
    if (overflow || memory_fault())
        return NULL;
    return malloc(bytes);
}

void *ilheap__mem_zalloc(size_t count, size_t size)
{
    int overflow;
    size_t bytes = request_bytes(count, size, &overflow);
    if (overflow || memory_fault())
        return NULL;
    return calloc(1, bytes);
}

void *ilheap__mem_realloc(void *p, size_t count, size_t size)
{
    int overflow;
    size_t bytes = request_bytes(count, size, &overflow);
    if (overflow || memory_fault())
        return NULL;
    return realloc(p, bytes);
}

void ilheap__mem_free(void *p)
{
    free(p);
}

void *ilheap__mem_alloc_aligned(size_t alignment, size_t size)
{
    if (alignment == 0 || (alignment & (alignment - 1)) != 0 || alignment > 4096 ||
        size > SIZE_MAX - alignment || memory_fault())
        return NULL;
    size_t rounded = size != 0 ? (size + alignment - 1) & ~(alignment - 1) : alignment;
    return ilheap__os_alloc_aligned(alignment, rounded);
}

void ilheap__mem_free_aligned(void *p)
{
    ilheap__os_free_aligned(p);
}
