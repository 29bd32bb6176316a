/* Coverage thresholds: --threshold line=N[,branch=M] (collect.h). */
#include "collect.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool parse_percent(const char *s, size_t len, double *out)
{
    char buf[32];
    if (len == 0 || len >= sizeof buf)
        return false;
    memcpy(buf, s, len);
    buf[len] = '\0';
    char *end;
    double v = strtod(buf, &end);
    if (*end != '\0' || !(v >= 0.0 && v <= 100.0) || strchr("0123456789.", buf[0]) == NULL)
        return false;
    *out = v;
    return true;
}

bool collect_threshold_parse(const char *spec, collect_threshold_t *t)
{
    memset(t, 0, sizeof *t);
    for (const char *p = spec;;) {
        const char *comma = strchr(p, ','), *eq = strchr(p, '=');
        size_t len = comma != NULL ? (size_t)(comma - p) : strlen(p);
        bool ok = eq != NULL && eq < p + len;
        if (ok && (size_t)(eq - p) == 4 && strncmp(p, "line", 4) == 0 && !t->line_set)
            ok = t->line_set = parse_percent(eq + 1, len - 5, &t->line);
        else if (ok && (size_t)(eq - p) == 6 && strncmp(p, "branch", 6) == 0 && !t->branch_set)
            ok = t->branch_set = parse_percent(eq + 1, len - 7, &t->branch);
        else
            ok = false;
        if (!ok) {
            fprintf(stderr,
                    "ilheap collect: --threshold '%s': expected line=N and/or branch=M, each once, "
                    "N and M percentages from 0 to 100 (e.g. line=80,branch=60)\n",
                    spec);
            return false;
        }
        if (comma == NULL)
            return true;
        p = comma + 1;
    }
}

/* Compared as counts, so that 80% of 5 lines needs 4, never a rounding. */
static bool met(double percent, uint64_t covered, uint64_t total)
{
    return (double)covered * 100.0 >= percent * (double)total;
}

bool collect_threshold_check(const collect_threshold_t *t, const cov_totals_t *totals)
{
    bool ok = true;
    if (t->line_set && !met(t->line, totals->lines_hit, totals->lines)) {
        fprintf(stderr, "ilheap collect: line coverage %.2f%% (%llu/%llu) is below the threshold %g%%\n",
                totals->lines ? 100.0 * (double)totals->lines_hit / (double)totals->lines : 0.0,
                (unsigned long long)totals->lines_hit, (unsigned long long)totals->lines, t->line);
        ok = false;
    }
    if (t->branch_set && totals->branches == 0) {
        fprintf(stderr, "ilheap collect: no branches in the covered code: the branch threshold %g%% is not checked\n",
                t->branch);
    } else if (t->branch_set && !met(t->branch, totals->branches_hit, totals->branches)) {
        fprintf(stderr, "ilheap collect: branch coverage %.2f%% (%llu/%llu) is below the threshold %g%%\n",
                100.0 * (double)totals->branches_hit / (double)totals->branches,
                (unsigned long long)totals->branches_hit, (unsigned long long)totals->branches, t->branch);
        ok = false;
    }
    return ok;
}
