/* The method wrapper a tracer builds, on every IL body of an assembly: for
 * each body, decode the method's signature (the blob a profiler gets from
 * GetMethodProps) and the body, append a local of the return type to the
 * body's LocalVarSig blob, give the method one exit, wrap the whole body in
 * try/finally with a counter probe in the finally, put an entry probe in
 * front of the try, and encode into a buffer (what ReJIT's
 * SetILFunctionBody copies). Max stack: the safe bound (no metadata). The
 * blobs and bodies are found once beforehand; every pass does all of the
 * above for every body; the best pass is printed:
 *
 *   bench_wrap [--passes N] FILE      (bench/wrap.sh passes CoreLib)
 *   wrap impl=ilheap bodies=N wrapped=W passes=P best_s=.. ns_per_body=.. bodies_per_s=.. out_bytes=..
 *
 * The same work through Mono.Cecil is bench/cecil (--ops wrap). */
#include "ilheap/il.h"
#include "ilheap/pe.h"
#include "ilheap/rewrite.h"
#include "ilheap/sig.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct item {
    const uint8_t *body, *sig, *locals; /* the body's bytes; its method's and its locals' blobs */
    size_t available, sig_size, locals_size;
} item_t;

typedef struct bench {
    item_t *items;
    size_t count;
    ilheap_rw_t *rw;
    uint8_t *out, *arena;
    size_t out_cap, arena_size;
    ilheap_rw_insn_t entry[ILHEAP_RW_PROBE_MAX], fin[ILHEAP_RW_PROBE_MAX + 1];
    size_t entry_n, fin_n;
    size_t wrapped, out_bytes;
} bench_t;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static uint8_t *read_file(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    long n = f != NULL && fseek(f, 0, SEEK_END) == 0 ? ftell(f) : -1;
    uint8_t *data = n > 0 ? malloc((size_t)n) : NULL;
    if (data != NULL && (fseek(f, 0, SEEK_SET) != 0 || fread(data, 1, (size_t)n, f) != (size_t)n)) {
        free(data);
        data = NULL;
    }
    if (f != NULL)
        fclose(f);
    *size = n > 0 ? (size_t)n : 0;
    return data;
}

/* Every IL body of the image with its method's and locals' blobs. */
static int collect(bench_t *b, const ilheap_pe_t *pe)
{
    ilheap_pe_body_cursor_t cur;
    ilheap_pe_il_body_t pb;
    ilheap_pe_error_t err;
    size_t cap = 0;
    int r;
    if (ilheap_pe_bodies_begin(pe, &cur, &err) != ILHEAP_OK)
        return -1;
    while ((r = ilheap_pe_next_body(&cur, &pb, &err)) != 0) {
        ilheap_il_body_t body;
        ilheap_il_clause_t cl[1];
        item_t it = {pb.data, NULL, NULL, pb.available, 0, 0};
        ilheap_status_t st = r > 0 ? ilheap_il_decode(pb.data, pb.available, &body, cl, 0) : ILHEAP_EINVAL;
        if ((st != ILHEAP_OK && st != ILHEAP_IL_CLAUSE_SPACE) ||
            ilheap_pe_signature(pe, pb.token, &it.sig, &it.sig_size, NULL, NULL, &err) != ILHEAP_OK ||
            (body.local_sig != 0 &&
             ilheap_pe_signature(pe, body.local_sig, &it.locals, &it.locals_size, NULL, NULL, &err) != ILHEAP_OK))
            continue;
        if (b->count == cap) {
            cap = cap ? 2 * cap : 4096;
            item_t *grown = realloc(b->items, cap * sizeof *grown);
            if (grown == NULL)
                return -1;
            b->items = grown;
        }
        b->items[b->count++] = it;
    }
    return 0;
}

/* The wrapper on one body; 1 when it was wrapped and encoded. */
static int wrap_one(bench_t *b, const item_t *it)
{
    ilheap_il_clause_t cl[64];
    ilheap_il_body_t body;
    ilheap_sig_t sig;
    if (ilheap_il_decode(it->body, it->available, &body, cl, 64) != ILHEAP_OK || ilheap_rw_load(b->rw, &body, NULL) != ILHEAP_OK)
        return 0;
    size_t need = ilheap_sig_memory_bound(it->sig_size);
    if (need > b->arena_size) {
        free(b->arena);
        b->arena_size = need;
        if ((b->arena = malloc(need)) == NULL)
            return 0;
    }
    ilheap_sig_arena_t arena = {b->arena, b->arena_size, 0};
    if (ilheap_sig_decode(ILHEAP_SIG_METHOD_DEF, it->sig, it->sig_size, 0, &arena, &sig, NULL) != ILHEAP_OK)
        return 0;
    uint32_t ret_local = ILHEAP_RW_NO_LOCAL;
    if (sig.ret.kind != ILHEAP_SIG_VALUE_VOID || sig.ret.byref) {
        uint8_t *locals;
        size_t locals_size;
        if (ilheap_rw_locals_append_type(it->locals, it->locals_size, sig.ret.type, &locals, &locals_size,
                                         &ret_local) != ILHEAP_OK)
            return 0;
        free(locals); /* a profiler: IMetaDataEmit::GetTokenFromSig */
        ilheap_rw_set_locals(b->rw, 0x11FFFFFFu, 1);
    }
    ilheap_rw_id_t first = ilheap_rw_first(b->rw), epi, bad;
    ilheap_rw_handler_t h = {ILHEAP_IL_FINALLY, 0, b->fin, b->fin_n, NULL, 0};
    size_t size;
    if (ilheap_rw_single_exit(b->rw, ret_local, ILHEAP_RW_EXIT_DROP_TAIL, &epi, &bad) != ILHEAP_OK ||
        ilheap_rw_wrap(b->rw, first, epi, &h, NULL, &bad) != ILHEAP_OK ||
        ilheap_rw_insert(b->rw, first, ILHEAP_RW_BEFORE, b->entry, b->entry_n, NULL) != ILHEAP_OK)
        return 0;
    ilheap_status_t st = ilheap_rw_encode(b->rw, b->out, b->out_cap, &size);
    if (st == ILHEAP_IL_DEST_TOO_SMALL) {
        free(b->out);
        b->out_cap = 2 * size;
        if ((b->out = malloc(b->out_cap)) == NULL)
            return 0;
        st = ilheap_rw_encode(b->rw, b->out, b->out_cap, &size);
    }
    b->out_bytes += st == ILHEAP_OK ? size : 0;
    return st == ILHEAP_OK;
}

int main(int argc, char **argv)
{
    int passes = 20;
    const char *path = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--passes") == 0 && i + 1 < argc)
            passes = atoi(argv[++i]);
        else if (path == NULL && argv[i][0] != '-')
            path = argv[i];
        else
            path = NULL, i = argc;
    }
    if (path == NULL || passes < 1) {
        fprintf(stderr, "usage: bench_wrap [--passes N] FILE\n");
        return 2;
    }
    size_t size;
    uint8_t *data = read_file(path, &size);
    ilheap_pe_t *pe = NULL;
    ilheap_pe_error_t err;
    bench_t b = {0};
    if (data == NULL || ilheap_pe_open(data, size, &pe, &err) != ILHEAP_OK || collect(&b, pe) != 0 ||
        ilheap_rw_create(&b.rw) != ILHEAP_OK) {
        fprintf(stderr, "bench_wrap: %s: cannot read its bodies\n", path);
        return 1;
    }
    b.entry_n = ilheap_rw_counter_probe(0x00007F0000001000ull, 1, b.entry);
    b.fin_n = ilheap_rw_counter_probe(0x00007F0000002000ull, 1, b.fin);
    b.fin[b.fin_n++].opcode = ILHEAP_OP_ENDFINALLY;
    double best = 0;
    for (int p = -2; p < passes; p++) { /* two untimed passes first: caches and arrays warm */
        b.wrapped = b.out_bytes = 0;
        double t0 = now();
        for (size_t i = 0; i < b.count; i++)
            b.wrapped += (size_t)wrap_one(&b, &b.items[i]);
        double t = now() - t0;
        if (p == 0 || (p > 0 && t < best))
            best = t;
    }
    printf("wrap impl=ilheap bodies=%zu wrapped=%zu passes=%d best_s=%.6f ns_per_body=%.1f bodies_per_s=%.0f out_bytes=%zu\n",
           b.count, b.wrapped, passes, best, best / (double)b.count * 1e9, (double)b.count / best, b.out_bytes);
    ilheap_rw_destroy(b.rw);
    ilheap_pe_close(pe);
    free(b.items);
    free(b.out);
    free(b.arena);
    free(data);
    return b.wrapped == b.count ? 0 : 3;
}
