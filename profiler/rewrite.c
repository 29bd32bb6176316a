/* JITCompilationStarted: read the method's body, rewrite it, allocate the new
 * body from the module's allocator, install it with SetILFunctionBody.
 *
 * SetILFunctionBody works only before a method's first JIT and makes the
 * runtime keep the pointer (not a copy) for the module's lifetime; the body
 * therefore lives in memory that belongs to the module (its heap) and each
 * token is rewritten once (modules.c keeps the set). Any failure leaves the
 * method as it was and is counted. */
#include "profiler.h"

#include <time.h>

#include "ilheap/com.h"

#define CEE_LDC_I4 0x20 /* ECMA-335 III.3.40 */
#define CEE_RET 0x2A    /* ECMA-335 III.3.56 */

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* "return VALUE": a tiny header (ECMA-335 II.25.4.2: format 0x2 in the low two
 * bits, code size in the upper six; max stack 8, no locals) + ldc.i4 VALUE; ret. */
#define REPLACE_BODY_SIZE 7u
static void write_replace_body(uint8_t *p, int32_t value)
{
    uint32_t v = (uint32_t)value;
    p[0] = (uint8_t)(0x02 | (6u << 2));
    p[1] = CEE_LDC_I4;
    p[2] = (uint8_t)v;
    p[3] = (uint8_t)(v >> 8);
    p[4] = (uint8_t)(v >> 16);
    p[5] = (uint8_t)(v >> 24);
    p[6] = CEE_RET;
}

/* The size of the new body, or 0 with *why set. */
static size_t planned_size(const uint8_t *body, ULONG size, int is_target, prof_skip_t *why)
{
    (void)body;
    if (is_target)
        return REPLACE_BODY_SIZE;
    switch (prof_g.config.mode) {
    case PROF_MODE_REHOME:
        return size;
    case PROF_MODE_PROLOGUE:
        *why = PROF_SKIP_encode; /* needs the codec (include/ilheap/il.h) */
        return 0;
    case PROF_MODE_OFF:
        break;
    }
    *why = PROF_SKIP_mode_off;
    return 0;
}

static int write_body(uint8_t *dst, size_t cap, const uint8_t *body, ULONG size, int is_target)
{
    if (is_target) {
        write_replace_body(dst, prof_g.config.replace_value);
        return 0;
    }
    if (prof_g.config.mode == PROF_MODE_REHOME && cap >= size) {
        memcpy(dst, body, size);
        return 0;
    }
    return -1;
}

const char *prof_rewrite_codec(void)
{
    return "none"; /* prologue:N waits for the codec (include/ilheap/il.h) */
}

void prof_rewrite_on_jit(FunctionID fid)
{
    prof_counters_t *c = &prof_g.counters;
    const prof_config_t *cfg = &prof_g.config;
    atomic_fetch_add(&c->jit_started, 1);
    if (cfg->mode == PROF_MODE_OFF && !cfg->has_replace) {
        prof_report_skip(PROF_SKIP_mode_off);
        return;
    }

    ClassID cls = 0;
    ModuleID mod = 0;
    mdToken tok = 0;
    if (CLR_FAILED(prof_g.info->lpVtbl->GetFunctionInfo(prof_g.info, fid, &cls, &mod, &tok))) {
        prof_report_skip(PROF_SKIP_function_info);
        return;
    }
    prof_module_view_t view = {0};
    prof_skip_t why = PROF_SKIP_COUNT;
    if (prof_modules_view(mod, &view, &why) != 0) {
        prof_report_skip(why);
        return;
    }
    if (!prof_modules_claim(mod, tok)) {
        prof_report_skip(PROF_SKIP_already_rewritten);
        goto out;
    }

    LPCBYTE body = NULL;
    ULONG body_size = 0;
    if (CLR_FAILED(prof_g.info->lpVtbl->GetILFunctionBody(prof_g.info, mod, tok, &body,
                                                          &body_size)) ||
        !body || body_size == 0) {
        prof_report_skip(PROF_SKIP_not_il);
        goto out; /* keep the claim: the method has no IL to rewrite */
    }
    int is_target = cfg->has_replace && prof_names_is_replace_target(fid);
    size_t need = planned_size(body, body_size, is_target, &why);
    if (need == 0 || need > UINT32_MAX) {
        prof_report_skip(need ? PROF_SKIP_encode : why);
        goto unclaim;
    }

    uint64_t t0 = now_ns();
    uint8_t *p = view.malloc->lpVtbl->Alloc(view.malloc, (ULONG)need);
    uint64_t t1 = now_ns();
    if (!p) {
        atomic_fetch_add(&view.stats->allocs_failed, 1);
        prof_report_skip(PROF_SKIP_alloc_failed);
        goto unclaim;
    }
    int first = atomic_fetch_add(&view.stats->allocs_ok, 1) == 0;
    prof_report_alloc(t1 - t0, need, first);
    if (write_body(p, need, body, body_size, is_target) != 0) {
        prof_report_skip(PROF_SKIP_encode);
        goto unclaim; /* the block stays allocated: IMethodMalloc cannot free */
    }
    prof_report_window(view.base, p, need);
    if (CLR_FAILED(prof_g.info->lpVtbl->SetILFunctionBody(prof_g.info, mod, tok, p))) {
        prof_report_skip(PROF_SKIP_set_failed);
        goto unclaim;
    }
    atomic_fetch_add(&c->rewritten, 1);
    if (is_target)
        atomic_fetch_add(&c->replaced, 1);
    goto out;

unclaim:
    prof_modules_unclaim(mod, tok);
out:
    if (view.malloc)
        view.malloc->lpVtbl->Release(view.malloc);
}
