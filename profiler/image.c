/* What the memory at a module's base says about the module.
 *
 * GetModuleInfo gives a base but no size. For a mapped layout (sections at
 * their RVAs) the size in memory is the PE optional header's SizeOfImage; for
 * a flat layout (the file as it is on disk, COR_PRF_MODULE_FLAT_LAYOUT) it is
 * the file's extent, the end of the last section's raw data.
 *
 * The header is read in place. The runtime has validated the image, but the
 * reads stay inside the first page (always mapped when the image is) and every
 * offset is checked by subtraction first. */
#include "profiler.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#define PEEK_LIMIT 4096u /* bytes readable at base */

static uint16_t rd16(const uint8_t *p)
{
    return (uint16_t)(p[0] | (p[1] << 8));
}

static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

void prof_image_read_pe(const uint8_t *base, prof_image_facts_t *facts)
{
    facts->pe_ok = 0;
    facts->size_of_image = 0;
    facts->file_extent = 0;
    if (!base || base[0] != 'M' || base[1] != 'Z')
        return;
    uint32_t nt = rd32(base + 0x3C); /* e_lfanew (PE/COFF spec, MS-DOS stub) */
    /* Signature (4) + COFF file header (20) must fit. */
    if (nt > PEEK_LIMIT - 24 || memcmp(base + nt, "PE\0\0", 4) != 0)
        return;
    const uint8_t *coff = base + nt + 4;
    uint16_t sections = rd16(coff + 2);
    uint16_t opt_size = rd16(coff + 16);
    uint32_t opt = nt + 24;
    /* SizeOfImage is at offset 56 of the optional header in PE32 and PE32+. */
    if (opt_size < 60 || opt > PEEK_LIMIT - 60)
        return;
    uint16_t magic = rd16(base + opt);
    if (magic != 0x10B && magic != 0x20B)
        return;
    facts->size_of_image = rd32(base + opt + 56);
    uint32_t table = opt + opt_size;
    for (uint16_t i = 0; i < sections; i++) {
        if (table > PEEK_LIMIT - 40 || (uint32_t)i * 40 > PEEK_LIMIT - 40 - table)
            break;
        const uint8_t *s = base + table + (uint32_t)i * 40;
        uint64_t end = (uint64_t)rd32(s + 20) + rd32(s + 16); /* PointerToRawData + SizeOfRawData */
        if (end > facts->file_extent)
            facts->file_extent = end;
    }
    facts->pe_ok = 1;
}

/* Adds the free part of [lo, hi) that lies inside [from, to) to *acc. */
static void add_free(uint64_t lo, uint64_t hi, uint64_t from, uint64_t to, uint64_t *acc)
{
    if (lo < from)
        lo = from;
    if (hi > to)
        hi = to;
    if (hi > lo)
        *acc += hi - lo;
}

/* Accounts the hole [lo, hi) above the image: free bytes within 2 and 4 GiB
 * of the base, and the first hole large enough for a heap's first chunk. */
static void note_hole(prof_image_facts_t *facts, uint64_t lo, uint64_t hi, uint64_t image_end,
                      uint64_t end_2g, uint64_t end_4g)
{
    const uint64_t min_gap = 64 * 1024;
    if (lo < image_end)
        lo = image_end;
    if (hi <= lo)
        return;
    add_free(lo, hi, image_end, end_2g, &facts->free_2g);
    add_free(lo, hi, image_end, end_4g, &facts->free_4g);
    if (!facts->first_gap && hi - lo >= min_gap) {
        facts->first_gap = lo;
        facts->first_gap_size = hi - lo;
    }
}

void prof_image_read_maps(const uint8_t *base, uint64_t size, prof_image_facts_t *facts)
{
    facts->map_start = facts->map_end = facts->next_start = 0;
    facts->free_2g = facts->free_4g = 0;
    facts->first_gap = facts->first_gap_size = 0;
    snprintf(facts->map_name, sizeof facts->map_name, "?");
    snprintf(facts->next_desc, sizeof facts->next_desc, "none");
    FILE *f = fopen("/proc/self/maps", "re");
    if (!f)
        return;
    uint64_t b = (uint64_t)(uintptr_t)base;
    uint64_t image_end = b + size;
    const uint64_t user_top = 0x7FFFFFFFF000ull; /* x86-64, 47-bit user space */
    uint64_t end_2g = b + 0x80000000ull, end_4g = b + 0x100000000ull;
    if (end_2g > user_top)
        end_2g = user_top;
    if (end_4g > user_top)
        end_4g = user_top;
    char line[512];
    int in_image = 0, past_image = 0;
    uint64_t prev_end = 0;
    while (fgets(line, sizeof line, f)) {
        uint64_t lo = 0, hi = 0;
        char perms[8] = "";
        int name_at = 0;
        if (sscanf(line, "%" SCNx64 "-%" SCNx64 " %7s %*s %*s %*s %n", &lo, &hi, perms,
                   &name_at) < 3)
            continue;
        const char *name = name_at > 0 ? line + name_at : "";
        int name_len = (int)strcspn(name, "\n");
        if (name_len == 0) {
            name = "[anon]";
            name_len = 6;
        }
        /* The hole below this mapping, counted from the image's end up. */
        if (prev_end < lo)
            note_hole(facts, prev_end, lo, image_end, end_2g, end_4g);
        prev_end = hi > prev_end ? hi : prev_end;
        if (!in_image && lo <= b && b < hi) {
            in_image = 1;
            facts->map_start = lo;
            facts->map_end = hi;
            snprintf(facts->map_name, sizeof facts->map_name, "%.*s", name_len, name);
            continue;
        }
        if (in_image && !past_image) {
            /* Mappings that continue the image (its sections) up to its end
             * belong to it; the first that starts at or past the end, or
             * after a hole, is the neighbour above. */
            if (lo == facts->map_end && lo < image_end) {
                facts->map_end = hi;
                continue;
            }
            past_image = 1;
            facts->next_start = lo;
            snprintf(facts->next_desc, sizeof facts->next_desc, "%s %.*s", perms, name_len, name);
        }
        if (lo >= end_4g)
            break;
    }
    /* Above the last mapping (only the stack and vsyscall are higher). */
    if (prev_end < end_4g)
        note_hole(facts, prev_end, end_4g, image_end, end_2g, end_4g);
    fclose(f);
}
