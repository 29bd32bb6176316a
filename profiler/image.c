/* What the memory at a module's base says about the module, read through the
 * library (no second parser here).
 *
 * GetModuleInfo gives a base but no size. For a mapped layout (sections at
 * their RVAs) the size in memory is the PE optional header's SizeOfImage; for
 * a flat layout (the file as it is on disk, COR_PRF_MODULE_FLAT_LAYOUT) it is
 * the file's extent, the end of the last section's raw data. Both come from
 * ilheap_pe_read_headers over the first page at the base (always mapped when
 * the image is; the headers lie there in either layout). The room above the
 * image comes from the library's walk of the free address ranges
 * (ilheap_free_ranges), rounded as a reservation would be. */
#include "profiler.h"

#include "ilheap/heap.h"
#include "ilheap/pe.h"
#include "os.h"

#define PEEK_LIMIT 4096u /* bytes readable at base */

void prof_image_read_pe(const uint8_t *base, prof_image_facts_t *facts)
{
    ilheap_pe_headers_t h;
    facts->pe_ok = base != NULL && ilheap_pe_read_headers(base, PEEK_LIMIT, &h, NULL) == ILHEAP_OK;
    facts->size_of_image = facts->pe_ok ? h.size_of_image : 0;
    facts->file_extent = facts->pe_ok ? h.file_extent : 0;
}

typedef struct room {
    prof_image_facts_t *facts;
    uint64_t image_end, end_2g;
} room_t;

/* One free range above the image: free bytes within 2 and 4 GiB of the base,
 * and the first range large enough for a heap's first chunk. */
static int note_gap(void *context, uintptr_t start, uintptr_t end)
{
    room_t *r = context;
    prof_image_facts_t *f = r->facts;
    if (!f->gap_above && start == r->image_end)
        f->gap_above = end - start;
    f->free_4g += end - start;
    if (start < r->end_2g)
        f->free_2g += (end < r->end_2g ? end : r->end_2g) - start;
    if (!f->first_gap && end - start >= 64 * 1024) {
        f->first_gap = start;
        f->first_gap_size = end - start;
    }
    return 0;
}

void prof_image_read_maps(const uint8_t *base, uint64_t size, prof_image_facts_t *facts)
{
    facts->free_2g = facts->free_4g = facts->gap_above = 0;
    facts->first_gap = facts->first_gap_size = 0;
    uint64_t b = (uint64_t)(uintptr_t)base;
    uint64_t unit = prof_os_granularity();
    room_t r = {facts, (b + size + unit - 1) & ~(unit - 1), b + 0x80000000ull};
    uint64_t end_4g = b + 0x100000000ull;
    if (end_4g > UINTPTR_MAX)
        end_4g = UINTPTR_MAX;
    (void)ilheap_free_ranges((uintptr_t)r.image_end, (uintptr_t)end_4g, 1, note_gap, &r);
}
