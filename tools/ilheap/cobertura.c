/* ilheap cover --cobertura: Cobertura XML in the shape coverlet writes it
 * (coverage > sources, packages > package per assembly > classes > class per
 * type and source file > methods > method > lines, plus the class's lines),
 * which ReportGenerator, Azure DevOps and GitLab read. */
#include "cover.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* A method's lines in one document: a class of Cobertura is a type within a
 * source file, so a method with lines in two files is in two classes. */
typedef struct part {
    uint32_t module, document, type;
    size_t method;
    size_t first, count; /* its lines */
} part_t;

static const cov_module_t *g_mods; /* for the qsort comparator */

static int cmp_part(const void *a, const void *b)
{
    const part_t *x = a, *y = b;
    if (x->module != y->module)
        return x->module < y->module ? -1 : 1;
    if (x->document != y->document)
        return x->document < y->document ? -1 : 1;
    int c = strcmp(g_mods[x->module].types[x->type], g_mods[y->module].types[y->type]);
    if (c != 0)
        return c;
    return x->method < y->method ? -1 : x->method > y->method;
}

/* The first n bytes of s (up to its NUL), escaped for XML. */
static void xml_text_n(tool_out_t *out, const char *s, size_t n)
{
    char one[2] = {0, 0};
    for (const unsigned char *p = (const unsigned char *)s; *p != 0 && n-- > 0; p++) {
        switch (*p) {
        case '&': tool_out_str(out, "&amp;"); break;
        case '<': tool_out_str(out, "&lt;"); break;
        case '>': tool_out_str(out, "&gt;"); break;
        case '"': tool_out_str(out, "&quot;"); break;
        case '\'': tool_out_str(out, "&apos;"); break;
        default:
            /* XML 1.0 has no other control characters than tab, LF, CR */
            one[0] = *p < 0x20 && *p != '\t' && *p != '\n' && *p != '\r' ? '?' : (char)*p;
            tool_out_str(out, one);
        }
    }
}

static void xml_text(tool_out_t *out, const char *s)
{
    xml_text_n(out, s, SIZE_MAX);
}

/* "50" or "33.33" (coverlet rounds percentages to 2 decimals). */
static void percent(char *buf, size_t size, uint64_t covered, uint64_t total)
{
    uint64_t hundredths = total == 0 ? 10000 : (uint64_t)((long double)covered * 10000 / total + 0.5L);
    if (hundredths % 100 == 0)
        snprintf(buf, size, "%llu", (unsigned long long)(hundredths / 100));
    else if (hundredths % 10 == 0)
        snprintf(buf, size, "%llu.%llu", (unsigned long long)(hundredths / 100), (unsigned long long)(hundredths % 100 / 10));
    else
        snprintf(buf, size, "%llu.%02llu", (unsigned long long)(hundredths / 100), (unsigned long long)(hundredths % 100));
}

static void rates(tool_out_t *out, const cov_totals_t *t)
{
    char lr[32], br[32];
    cov_rate(lr, sizeof lr, t->lines_hit, t->lines);
    cov_rate(br, sizeof br, t->branches_hit, t->branches);
    tool_out_printf(out, " line-rate=\"%s\" branch-rate=\"%s\"", lr, br);
}

static void part_totals(const cov_module_t *mod, const part_t *p, cov_totals_t *t)
{
    const cov_method_t *m = &mod->methods[p->method];
    for (size_t l = p->first; l < p->first + p->count; l++) {
        t->lines++;
        t->lines_hit += m->lines[l].hits != 0;
    }
    for (size_t b = 0; b < m->branch_count; b++)
        if (m->branches[b].document == p->document) {
            t->branches++;
            t->branches_hit += m->branches[b].hits != 0;
        }
    t->complexity += m->complexity;
}

/* One <line> element, with its branch conditions from method m. */
static void line_one(tool_out_t *out, const cov_method_t *m, const cov_line_t *ln, const char *indent)
{
    uint64_t outcomes = 0, covered = 0;
    for (size_t b = 0; b < m->branch_count; b++)
        if (m->branches[b].document == ln->document && m->branches[b].line == ln->number) {
            outcomes++;
            covered += m->branches[b].hits != 0;
        }
    tool_out_printf(out, "%s<line number=\"%u\" hits=\"%llu\" branch=\"%s\"", indent, ln->number,
                    (unsigned long long)ln->hits, outcomes != 0 ? "True" : "False");
    if (outcomes == 0) {
        tool_out_str(out, " />\n");
        return;
    }
    char pc[32];
    percent(pc, sizeof pc, covered, outcomes);
    tool_out_printf(out, " condition-coverage=\"%s%% (%llu/%llu)\">\n%s  <conditions>\n", pc,
                    (unsigned long long)covered, (unsigned long long)outcomes, indent);
    for (size_t b = 0; b < m->branch_count; b += m->branches[b].outcomes) {
        const cov_branch_t *br = &m->branches[b];
        if (br->document != ln->document || br->line != ln->number || b + br->outcomes > m->branch_count)
            continue;
        uint64_t hit = 0;
        for (uint32_t k = 0; k < br->outcomes; k++)
            hit += br[k].hits != 0;
        percent(pc, sizeof pc, hit, br->outcomes);
        tool_out_printf(out, "%s    <condition number=\"%u\" type=\"%s\" coverage=\"%s%%\" />\n", indent,
                        br->il_offset, br->outcomes > 2 ? "switch" : "jump", pc);
    }
    tool_out_printf(out, "%s  </conditions>\n%s</line>\n", indent, indent);
}

/* The <line> elements of one part (a method's lines in one document). */
static void lines(tool_out_t *out, const cov_module_t *mod, const part_t *p, const char *indent)
{
    const cov_method_t *m = &mod->methods[p->method];
    for (size_t l = p->first; l < p->first + p->count; l++)
        line_one(out, m, &m->lines[l], indent);
}

/* A class's own <lines>: each line once (a property's get and set share one),
 * with the largest hits and the branches of the method that has it first.
 * Fills *t's line counts the same way. false without memory. */
static bool class_lines(tool_out_t *out, const cov_module_t *mod, const part_t *parts, size_t n,
                        cov_totals_t *t)
{
    size_t total = 0;
    for (size_t k = 0; k < n; k++)
        total += parts[k].count;
    cov_line_t *all = malloc((total ? total : 1) * sizeof *all);
    if (all == NULL)
        return false;
    size_t i = 0;
    for (size_t k = 0; k < n; k++)
        for (size_t l = parts[k].first; l < parts[k].first + parts[k].count; l++)
            all[i++] = mod->methods[parts[k].method].lines[l];
    uint64_t hit = 0;
    size_t distinct = cov_distinct_lines(all, total, &hit);
    t->lines = distinct;
    t->lines_hit = hit;
    if (out != NULL)
        for (size_t d = 0; d < distinct; d++) {
            const cov_method_t *owner = &mod->methods[parts[0].method];
            for (size_t k = 0; k < n; k++) {
                const cov_method_t *m = &mod->methods[parts[k].method];
                for (size_t l = parts[k].first; l < parts[k].first + parts[k].count; l++)
                    if (m->lines[l].document == all[d].document && m->lines[l].number == all[d].number) {
                        owner = m;
                        k = n;
                        break;
                    }
            }
            line_one(out, owner, &all[d], "            ");
        }
    free(all);
    return true;
}

/* The directory all documents share ("/src/app/"), or "" when none. */
static size_t common_dir(const cov_module_t *mods, const part_t *parts, size_t n, const char **base)
{
    *base = NULL;
    size_t len = 0;
    for (size_t i = 0; i < n; i++) {
        const char *doc = mods[parts[i].module].documents[parts[i].document];
        if (*base == NULL) {
            *base = doc;
            const char *slash = strrchr(doc, '/');
            len = slash != NULL ? (size_t)(slash - doc) + 1 : 0;
            continue;
        }
        size_t k = 0;
        while (k < len && doc[k] == (*base)[k])
            k++;
        while (k > 0 && (*base)[k - 1] != '/')
            k--;
        len = k;
    }
    return len;
}

/* <coverage> with the totals over the reported modules, and <sources>;
 * returns the length of the source directory stripped from file names. */
static size_t head(tool_out_t *out, const cov_module_t *mods, size_t count, const part_t *parts, size_t n)
{
    cov_totals_t all = {0};
    for (size_t i = 0; i < count; i++)
        if (mods[i].state == COV_COVERED)
            cov_add_module(&all, &mods[i]);
    tool_out_str(out, "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<coverage");
    rates(out, &all);
    tool_out_printf(out,
                    " version=\"1.9\" timestamp=\"%lld\" lines-covered=\"%llu\" lines-valid=\"%llu\" "
                    "branches-covered=\"%llu\" branches-valid=\"%llu\">\n  <sources>\n",
                    (long long)time(NULL), (unsigned long long)all.lines_hit, (unsigned long long)all.lines,
                    (unsigned long long)all.branches_hit, (unsigned long long)all.branches);
    const char *base;
    size_t base_len = common_dir(mods, parts, n, &base);
    if (base_len != 0) {
        tool_out_str(out, "    <source>");
        xml_text_n(out, base, base_len);
        tool_out_str(out, "</source>\n");
    }
    return base_len;
}

static bool write(tool_out_t *out, const cov_module_t *mods, size_t count, const part_t *parts, size_t n)
{
    size_t base_len = head(out, mods, count, parts, n);
    tool_out_str(out, "  </sources>\n  <packages>\n");
    for (size_t i = 0; i < n;) {
        uint32_t module = parts[i].module;
        const cov_module_t *mod = &mods[module];
        size_t end = i;
        while (end < n && parts[end].module == module)
            end++;
        cov_totals_t pt = {0};
        cov_add_module(&pt, mod);
        tool_out_str(out, "    <package name=\"");
        xml_text(out, mod->name);
        tool_out_str(out, "\"");
        rates(out, &pt);
        tool_out_printf(out, " complexity=\"%llu\">\n      <classes>\n", (unsigned long long)pt.complexity);
        for (size_t c = i; c < end;) {
            size_t cend = c;
            while (cend < end && parts[cend].document == parts[c].document && parts[cend].type == parts[c].type)
                cend++;
            cov_totals_t ct = {0};
            for (size_t k = c; k < cend; k++)
                part_totals(mod, &parts[k], &ct);
            if (!class_lines(NULL, mod, &parts[c], cend - c, &ct))
                return false;
            tool_out_str(out, "        <class name=\"");
            xml_text(out, mod->types[parts[c].type]);
            tool_out_str(out, "\" filename=\"");
            xml_text(out, mod->documents[parts[c].document] + base_len);
            tool_out_str(out, "\"");
            rates(out, &ct);
            tool_out_printf(out, " complexity=\"%llu\">\n          <methods>\n", (unsigned long long)ct.complexity);
            for (size_t k = c; k < cend; k++) {
                const cov_method_t *m = &mod->methods[parts[k].method];
                cov_totals_t mt = {0};
                part_totals(mod, &parts[k], &mt);
                tool_out_str(out, "            <method name=\"");
                xml_text(out, m->name);
                tool_out_str(out, "\" signature=\"");
                xml_text(out, m->signature);
                tool_out_str(out, "\"");
                rates(out, &mt);
                tool_out_printf(out, " complexity=\"%u\">\n              <lines>\n", m->complexity);
                lines(out, mod, &parts[k], "                ");
                tool_out_str(out, "              </lines>\n            </method>\n");
            }
            tool_out_str(out, "          </methods>\n          <lines>\n");
            cov_totals_t unused = {0};
            if (!class_lines(out, mod, &parts[c], cend - c, &unused))
                return false;
            tool_out_str(out, "          </lines>\n        </class>\n");
            c = cend;
        }
        tool_out_str(out, "      </classes>\n    </package>\n");
        i = end;
    }
    tool_out_str(out, "  </packages>\n</coverage>\n");
    return true;
}

bool cov_write_cobertura(const char *file, const cov_module_t *mods, size_t count)
{
    /* Every (module, document, type, method) with lines. */
    part_t *parts = NULL;
    size_t n = 0, cap = 0;
    bool ok = true;
    for (size_t i = 0; ok && i < count; i++) {
        if (mods[i].state != COV_COVERED)
            continue;
        for (size_t m = 0; ok && m < mods[i].method_count; m++) {
            const cov_method_t *cm = &mods[i].methods[m];
            for (size_t l = 0; l < cm->line_count;) {
                size_t e = l;
                while (e < cm->line_count && cm->lines[e].document == cm->lines[l].document)
                    e++;
                if (!(ok = tool_reserve((void **)&parts, &cap, n + 1, sizeof *parts)))
                    break;
                parts[n++] = (part_t){(uint32_t)i, cm->lines[l].document, cm->type, m, l, e - l};
                l = e;
            }
        }
    }
    g_mods = mods;
    if (ok && n > 1)
        qsort(parts, n, sizeof *parts, cmp_part);
    FILE *f = ok ? fopen(file, "wb") : NULL;
    if (ok && f == NULL) {
        fprintf(stderr, "ilheap cover: %s: cannot write the Cobertura report: %s\n", file, strerror(errno));
        free(parts);
        return false;
    }
    tool_out_t *out = ok ? malloc(sizeof *out) : NULL;
    ok = out != NULL;
    if (ok) {
        tool_out_init(out, f);
        ok = write(out, mods, count, parts, n);
        ok = tool_out_flush(out) && ok;
    }
    free(out);
    free(parts);
    if (f != NULL && fclose(f) != 0)
        ok = false;
    if (!ok)
        fprintf(stderr, "ilheap cover: writing %s failed\n", file);
    return ok;
}
