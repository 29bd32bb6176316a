/* bench_bodies: the time per IL body of reading an assembly's bodies (what
 * `ilheap scan` does) and of rehoming them into the module's heap (what
 * `ilheap rehome` does, through the codec or the IL rewriter), best of N
 * passes over an image already in memory. bench/scan.sh and
 * bench/rewrite.sh drive it; docs/benchmarks.md describes the lines.
 *
 *   bench_bodies scan N [FILE]
 *     scan impl=ilheap bodies= passes= best_s= ns_per_body= bodies_per_s= checksum=
 *   bench_bodies rehome N [FILE] [--prologue P | --instrument none|calls|blocks]
 *     rehome impl=ilheap bodies= prologue= passes= best_s= ns_per_body= bodies_per_s=
 *     rehome impl=ilheap bodies= instrument= probes= passes= ... checked_ns_per_body=
 *
 * FILE defaults to the newest runtime's System.Private.CoreLib.dll. */
#include "rehome.h"
#include "tool.h"

#include <stdio.h>
#include <string.h>

static const char usage[] =
    "usage: bench_bodies scan N [FILE]\n"
    "       bench_bodies rehome N [FILE] [--prologue P | --instrument none|calls|blocks]\n";

/* The reading SrmDump --bench times (row, IL test, RVA to bytes, header and
 * clauses decoded), best of `passes`, on an image opened once. Prints a
 * checksum of the fields read, which SrmDump's must equal. */
static int bench_scan(const char *path, uint32_t passes)
{
    tool_input_t in;
    ilheap_pe_t *pe;
    int rc = tool_load_and_open("scan", path, false, &in, &pe);
    if (rc != 0)
        return rc;
    tool_clauses_t clauses = {0};
    uint64_t best = UINT64_MAX, bodies = 0, checksum = 0;
    for (uint32_t pass = 0; pass < passes; pass++) {
        uint64_t start = tool_now_ns();
        bodies = 0;
        ilheap_pe_body_cursor_t cursor;
        ilheap_pe_il_body_t m;
        ilheap_pe_bodies_begin(pe, &cursor, NULL);
        int more;
        while ((more = ilheap_pe_next_body(&cursor, &m, NULL)) != 0) {
            ilheap_il_body_t b;
            if (more < 0 || tool_decode(m.data, m.available, &b, &clauses) != ILHEAP_OK)
                continue;
            checksum += (uint64_t)b.max_stack + b.code_size + b.body_size + b.clause_count;
            bodies++;
        }
        uint64_t elapsed = tool_now_ns() - start;
        best = elapsed < best ? elapsed : best;
    }
    tool_clauses_free(&clauses);
    ilheap_pe_close(pe);
    tool_input_free(&in);
    double ns = (double)best / (double)(bodies ? bodies : 1);
    printf("scan impl=ilheap bodies=%llu passes=%u best_s=%.6f ns_per_body=%.1f bodies_per_s=%.0f checksum=%llu\n",
           (unsigned long long)bodies, passes, (double)best / 1e9, ns, ns > 0 ? 1e9 / ns : 0.0,
           (unsigned long long)checksum);
    return TOOL_EXIT_OK;
}

/* The best of `passes` passes, each into a fresh heap. With --instrument
 * each pass runs twice, checked and then the rewrite alone (load, probes,
 * encode into the heap): the figure to set against other rewriters, with the
 * checked one beside it. */
static int bench_rehome(const tool_rehome_spec_t *spec, uint32_t passes)
{
    tool_rehome_t *job;
    int rc = tool_rehome_open("rehome", spec, &job);
    if (rc != 0)
        return rc;
    bool twice = spec->instrument;
    uint64_t best = UINT64_MAX, best_checked = UINT64_MAX;
    tool_rehome_pass_t p = {0};
    for (uint32_t i = 0; i < (twice ? 2 : 1) * passes && rc == 0; i++) {
        bool check = !twice || (i & 1) == 0;
        rc = tool_rehome_pass(job, check, &p);
        uint64_t *b = twice && check ? &best_checked : &best;
        *b = p.elapsed_ns < *b ? p.elapsed_ns : *b;
        if (p.failures || p.malformed)
            rc = TOOL_EXIT_CHECK; /* the figures would time a different amount of work */
    }
    tool_rehome_close(job);
    if (rc != 0)
        return rc;
    double ns = (double)best / (double)(p.bodies ? p.bodies : 1);
    if (twice) {
        static const char *const names[] = {"none", "calls", "blocks"};
        printf("rehome impl=ilheap bodies=%u instrument=%s probes=%llu passes=%u best_s=%.6f ns_per_body=%.1f "
               "bodies_per_s=%.0f checked_ns_per_body=%.1f\n",
               p.bodies, names[spec->mode], (unsigned long long)p.probes, passes, (double)best / 1e9, ns,
               ns > 0 ? 1e9 / ns : 0.0, (double)best_checked / (double)(p.bodies ? p.bodies : 1));
    } else {
        printf("rehome impl=ilheap bodies=%u prologue=%u passes=%u best_s=%.6f ns_per_body=%.1f "
               "bodies_per_s=%.0f\n",
               p.bodies, spec->prologue, passes, (double)best / 1e9, ns, ns > 0 ? 1e9 / ns : 0.0);
    }
    return TOOL_EXIT_OK;
}

/* The arguments after N: FILE, --prologue P, --instrument MODE. */
static bool parse_rehome(int argc, char **argv, tool_rehome_spec_t *spec)
{
    for (int i = 3; i < argc; i++) {
        if (strcmp(argv[i], "--prologue") == 0 && i + 1 < argc && !spec->instrument) {
            if (!tool_parse_u32(argv[++i], 65536, &spec->prologue))
                return false;
        } else if (strcmp(argv[i], "--instrument") == 0 && i + 1 < argc && spec->prologue == 0) {
            if (!tool_instr_parse(argv[++i], &spec->mode))
                return false;
            spec->instrument = true;
        } else if (argv[i][0] != '-' && spec->path == NULL) {
            spec->path = argv[i];
        } else {
            return false;
        }
    }
    return true;
}

int main(int argc, char **argv)
{
    uint32_t passes = 0;
    bool scan = argc >= 3 && strcmp(argv[1], "scan") == 0;
    bool rehome = argc >= 3 && strcmp(argv[1], "rehome") == 0;
    if ((!scan && !rehome) || !tool_parse_u32(argv[2], 1000000, &passes) || passes == 0 || (scan && argc > 4)) {
        fputs(usage, stderr);
        return TOOL_EXIT_USAGE;
    }
    if (scan)
        return bench_scan(argc == 4 ? argv[3] : NULL, passes);
    tool_rehome_spec_t spec = {0};
    if (!parse_rehome(argc, argv, &spec)) {
        fputs(usage, stderr);
        return TOOL_EXIT_USAGE;
    }
    return bench_rehome(&spec, passes);
}
