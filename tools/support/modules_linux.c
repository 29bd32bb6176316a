/* Loaded modules on Linux (support.h): the program headers of each object. */
#include "support.h"

#include <link.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

typedef struct module_search {
    const char *name_part;
    support_module_t *out;
} module_search_t;

static int visit_object(struct dl_phdr_info *info, size_t info_size, void *context)
{
    (void)info_size;
    module_search_t *search = context;
    int is_main = info->dlpi_name == NULL || info->dlpi_name[0] == '\0';
    if (search->name_part == NULL ? !is_main
                                  : (is_main || strstr(info->dlpi_name, search->name_part) == NULL))
        return 0;
    uintptr_t lo = UINTPTR_MAX, hi = 0;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_LOAD)
            continue;
        uintptr_t s = info->dlpi_addr + ph->p_vaddr, e = s + ph->p_memsz;
        lo = s < lo ? s : lo;
        hi = e > hi ? e : hi;
    }
    if (hi <= lo)
        return 0;
    long page = sysconf(_SC_PAGESIZE);
    lo &= ~(uintptr_t)(page > 0 ? page - 1 : 4095);
    snprintf(search->out->name, sizeof search->out->name, "%s", is_main ? "(main program)" : info->dlpi_name);
    search->out->base = lo;
    search->out->size = hi - lo;
    return 1;
}

bool support_find_module(const char *name_part, support_module_t *out)
{
    module_search_t search = {name_part, out};
    return dl_iterate_phdr(visit_object, &search) != 0;
}

void *support_image_region(size_t size)
{
    void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

void support_image_region_free(void *p, size_t size)
{
    if (p != NULL)
        munmap(p, size);
}
