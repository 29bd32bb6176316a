/* ilheap cover --lcov: the LCOV tracefile (geninfo(1) format) that genhtml
 * and most CI services read. One record per source file: FN/FNDA per method
 * (hits = calls, the first block's), DA per line (the largest hits of the
 * methods on it), BRDA per outcome of each conditional branch. */
#include "cover.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

typedef struct da {
    uint32_t number;
    uint64_t hits;
} da_t;

static int cmp_da(const void *a, const void *b)
{
    const da_t *x = a, *y = b;
    return x->number < y->number ? -1 : x->number > y->number;
}

/* The method's lines in document d: [*first, *first + *n). */
static void lines_in(const cov_method_t *m, uint32_t d, size_t *first, size_t *n)
{
    size_t i = 0;
    while (i < m->line_count && m->lines[i].document < d)
        i++;
    size_t j = i;
    while (j < m->line_count && m->lines[j].document == d)
        j++;
    *first = i;
    *n = j - i;
}

/* One SF record; false when out of memory. */
static bool record(tool_out_t *out, const cov_module_t *mod, uint32_t d, da_t **das, size_t *cap)
{
    size_t nda = 0;
    uint64_t fnf = 0, fnh = 0;
    tool_out_str(out, "TN:\nSF:");
    tool_out_str(out, mod->documents[d]);
    tool_out_str(out, "\n");
    for (size_t i = 0; i < mod->method_count; i++) {
        const cov_method_t *m = &mod->methods[i];
        size_t first, n;
        lines_in(m, d, &first, &n);
        if (n == 0)
            continue;
        /* FN names are unique in a record: the type, the method and its token
         * (overloads share a name). */
        tool_out_printf(out, "FN:%u,", m->lines[first].number);
        tool_out_str(out, mod->types[m->type]);
        tool_out_printf(out, "::%s@0x%08x\nFNDA:%llu,", m->name, m->token, (unsigned long long)m->entry_hits);
        tool_out_str(out, mod->types[m->type]);
        tool_out_printf(out, "::%s@0x%08x\n", m->name, m->token);
        fnf++;
        fnh += m->entry_hits != 0;
        if (!tool_reserve((void **)das, cap, nda + n, sizeof **das))
            return false;
        for (size_t l = first; l < first + n; l++)
            (*das)[nda++] = (da_t){m->lines[l].number, m->lines[l].hits};
    }
    tool_out_printf(out, "FNF:%llu\nFNH:%llu\n", (unsigned long long)fnf, (unsigned long long)fnh);
    /* BRDA: block = the branch instruction's number in this record. */
    uint64_t brf = 0, brh = 0, block = 0;
    for (size_t i = 0; i < mod->method_count; i++) {
        const cov_method_t *m = &mod->methods[i];
        for (size_t b = 0; b < m->branch_count; b += m->branches[b].outcomes) {
            const cov_branch_t *br = &m->branches[b];
            if (br->document != d || b + br->outcomes > m->branch_count)
                continue;
            uint64_t total = 0;
            for (uint32_t k = 0; k < br->outcomes; k++)
                total += br[k].hits;
            for (uint32_t k = 0; k < br->outcomes; k++) {
                if (total == 0) /* the branch never ran */
                    tool_out_printf(out, "BRDA:%u,%llu,%u,-\n", br->line, (unsigned long long)block, k);
                else
                    tool_out_printf(out, "BRDA:%u,%llu,%u,%llu\n", br->line, (unsigned long long)block, k,
                                    (unsigned long long)br[k].hits);
                brf++;
                brh += br[k].hits != 0;
            }
            block++;
        }
    }
    tool_out_printf(out, "BRF:%llu\nBRH:%llu\n", (unsigned long long)brf, (unsigned long long)brh);
    /* DA: one per line, the largest hits. */
    if (nda > 1)
        qsort(*das, nda, sizeof **das, cmp_da);
    uint64_t lf = 0, lh = 0;
    for (size_t i = 0; i < nda;) {
        uint64_t hits = (*das)[i].hits;
        size_t j = i + 1;
        for (; j < nda && (*das)[j].number == (*das)[i].number; j++)
            if ((*das)[j].hits > hits)
                hits = (*das)[j].hits;
        tool_out_printf(out, "DA:%u,%llu\n", (*das)[i].number, (unsigned long long)hits);
        lf++;
        lh += hits != 0;
        i = j;
    }
    tool_out_printf(out, "LF:%llu\nLH:%llu\nend_of_record\n", (unsigned long long)lf, (unsigned long long)lh);
    return true;
}

bool cov_write_lcov(const char *file, const cov_module_t *mods, size_t count)
{
    FILE *f = fopen(file, "wb");
    if (f == NULL) {
        fprintf(stderr, "ilheap cover: %s: cannot write the LCOV report: %s\n", file, strerror(errno));
        return false;
    }
    tool_out_t *out = malloc(sizeof *out);
    da_t *das = NULL;
    size_t cap = 0;
    bool ok = out != NULL;
    if (ok)
        tool_out_init(out, f);
    for (size_t i = 0; ok && i < count; i++) {
        const cov_module_t *mod = &mods[i];
        if (mod->state != COV_COVERED)
            continue;
        bool *used = calloc(mod->document_count + 1u, sizeof *used);
        if (used == NULL) {
            ok = false;
            break;
        }
        for (size_t m = 0; m < mod->method_count; m++)
            for (size_t l = 0; l < mod->methods[m].line_count; l++)
                used[mod->methods[m].lines[l].document] = true;
        for (uint32_t d = 0; ok && d < mod->document_count; d++)
            if (used[d])
                ok = record(out, mod, d, &das, &cap);
        free(used);
    }
    if (out != NULL && !tool_out_flush(out))
        ok = false;
    free(out);
    free(das);
    if (fclose(f) != 0)
        ok = false;
    if (!ok)
        fprintf(stderr, "ilheap cover: writing %s failed\n", file);
    return ok;
}
