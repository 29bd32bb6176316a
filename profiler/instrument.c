/* ILHEAP_MODE=calls and blocks: counter probes placed by the library's
 * instrumentation (ilheap/instrument.h: a probe at the entry, or at every
 * basic block), each adding 1 to a 64-bit counter in the module's counter
 * region: pure IL, no helper assembly. With ILHEAP_ATOMIC=1 the probe calls
 * Interlocked.Increment on the counter, so that threads lose no update. Each
 * thread keeps one rewriter, one instrumenter and their buffers (scratch.c). */
#include "profiler.h"

#include <stdlib.h>

#include "ilheap/il.h"
#include "ilheap/instrument.h"
#include "ilheap/rewrite.h"
#include "os.h"

/* The counters of the probes: reserved in the module's counts. */
typedef struct counter_source {
    prof_counts_t *counts;
    int64_t *counters; /* NULL until reserved */
} counter_source_t;

static ilheap_status_t reserve_counters(void *ctx, size_t n, uint64_t *addr)
{
    counter_source_t *src = ctx;
    src->counters = n <= UINT32_MAX ? prof_counts_reserve(src->counts, (uint32_t)n) : NULL;
    if (!src->counters)
        return ILHEAP_ENOMEM;
    *addr = (uint64_t)(uintptr_t)src->counters;
    return ILHEAP_OK;
}

/* The method's name, and whether CoreLib's rules leave it alone. */
static int method_facts(ModuleID mod, mdMethodDef tok, int is_corelib, char *name, size_t cap,
                        prof_skip_t *why)
{
    IUnknown *unk = NULL;
    if (CLR_FAILED(prof_g.info->lpVtbl->GetModuleMetaData(prof_g.info, mod, CLR_OF_READ,
                                                          &clr_IID_IMetaDataImport, &unk)) ||
        !unk) {
        *why = PROF_SKIP_metadata;
        return -1;
    }
    IMetaDataImport *md = (IMetaDataImport *)unk;
    int rc = 0;
    if (is_corelib && prof_names_leave_alone(md, tok)) {
        *why = PROF_SKIP_intrinsic;
        rc = -1;
    } else if (prof_names_method(md, tok, name, cap) != 0) {
        *why = PROF_SKIP_metadata;
        rc = -1;
    }
    md->lpVtbl->Release(md);
    return rc;
}

/* The probes, through the library's one instrumentation function. */
static int insert_probes(ModuleID mod, const prof_module_view_t *view, prof_scratch_t *s, counter_source_t *src,
                         const ilheap_probe_key_t **keys, size_t *n, prof_skip_t *why)
{
    const prof_config_t *cfg = &prof_g.config;
    ilheap_instr_options_t opt = {
        .mode = cfg->mode == PROF_MODE_BLOCKS ? ILHEAP_INSTR_BLOCKS : ILHEAP_INSTR_CALLS,
        .ptr64 = sizeof(void *) == 8,
        .counters = reserve_counters,
        .ctx = src,
        .flags = cfg->edges ? ILHEAP_INSTR_EDGES : 0,
    };
    if (cfg->atomic && !(opt.increment = prof_modules_ref(view, mod, PROF_REF_INCREMENT))) {
        *why = PROF_SKIP_interlocked_ref;
        return -1;
    }
    src->counts = prof_modules_counts(view, mod);
    if (!src->counts) {
        *why = PROF_SKIP_counters;
        return -1;
    }
    /* From the counters' reservation on, a failure wastes them (never published). */
    ilheap_status_t st = ilheap_instr_body(s->instr, s->rw, &opt, keys, n);
    if (st != ILHEAP_OK || *n == 0) {
        *why = src->counters || st == ILHEAP_OK ? PROF_SKIP_rewriter_edit : PROF_SKIP_counters;
        return -1;
    }
    return 0;
}

int prof_instrument(ModuleID mod, mdMethodDef tok, FunctionID fid, const prof_module_view_t *view,
                    const uint8_t *il, size_t il_size, prof_skip_t *why)
{
    char name[PROF_NAME_MAX * 4];
    if (method_facts(mod, tok, prof_modules_is_corelib(view), name, sizeof name, why) != 0)
        return -1;
    prof_scratch_t *s = prof_scratch_get();
    if (!s) {
        *why = PROF_SKIP_counters;
        return -1;
    }
    ilheap_il_body_t decoded;
    if (prof_scratch_load(s, il, il_size, &decoded) != 0) {
        *why = PROF_SKIP_rewriter_load;
        return -1;
    }
    counter_source_t src = {0};
    const ilheap_probe_key_t *keys = NULL;
    size_t n = 0;
    if (insert_probes(mod, view, s, &src, &keys, &n, why) != 0)
        return -1;
    size_t size = 0;
    if (ilheap_rw_encode(s->rw, NULL, 0, &size) != ILHEAP_OK) {
        *why = PROF_SKIP_rewriter_encode;
        return -1;
    }
    int fallback = 0;
    uint8_t *body = prof_install_alloc(mod, view, size, &fallback, why);
    if (!body)
        return -1;
    size_t written = 0;
    if (ilheap_rw_encode(s->rw, body, size, &written) != ILHEAP_OK || written != size) {
        *why = PROF_SKIP_rewriter_encode;
        return -1;
    }
    /* The method is in the counts file before its probes can run. */
    uint64_t handle = 0;
    if (prof_counts_publish(src.counts, tok, name, keys, (uint32_t)n, src.counters, &handle) != 0) {
        *why = PROF_SKIP_counters;
        return -1;
    }
    if (prof_install_set(mod, tok, view, body, size, fallback, why) != 0) {
        prof_counts_withdraw(handle);
        return -1;
    }
    prof_install_map(view, fid, s);
    atomic_fetch_add(&prof_g.counters.instrumented, 1);
    atomic_fetch_add(&prof_g.counters.probes, n);
    return 0;
}
