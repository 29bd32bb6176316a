/* JITCompilationStarted: read the method's body, rewrite it, allocate the new
 * body from the module's allocator, install it with SetILFunctionBody.
 *
 * SetILFunctionBody works only before a method's first JIT and makes the
 * runtime keep the pointer (not a copy) for the module's lifetime; the body
 * therefore lives in memory that belongs to the module (its heap) and each
 * token is rewritten once (modules.c keeps the set). Any failure leaves the
 * method as it was and is counted. */
#include "profiler.h"

#include <stdlib.h>

#include "ilheap/com.h"
#include "ilheap/il.h"

#define CEE_LDC_I4 0x20 /* ECMA-335 III.3.40 */
#define CEE_RET 0x2A    /* ECMA-335 III.3.56 */
#define CLAUSES_ON_STACK 32

/* N nop bytes: CEE_NOP is 0x00 (ECMA-335 III.3.51). */
static const uint8_t nops[PROF_MAX_PROLOGUE];

/* One method's rewrite: the decoded original, the edit, the encoded size. */
typedef struct plan {
    ilheap_il_body_t body;
    ilheap_il_clause_t clauses[CLAUSES_ON_STACK];
    ilheap_il_clause_t *big_clauses; /* malloc'd when there are more */
    ilheap_il_edit_t edit;
    ilheap_il_mode_t mode;
    uint8_t replace_code[6];
    size_t prologue;                 /* bytes inserted before the code */
    size_t size;                     /* of the new body */
} plan_t;

static int decode(plan_t *pl, const uint8_t *il, size_t il_size)
{
    ilheap_status_t st = ilheap_il_decode(il, il_size, &pl->body, pl->clauses, CLAUSES_ON_STACK);
    if (st == ILHEAP_IL_CLAUSE_SPACE) {
        size_t n = pl->body.clause_count;
        pl->big_clauses = calloc(n, sizeof *pl->big_clauses);
        if (!pl->big_clauses)
            return -1;
        st = ilheap_il_decode(il, il_size, &pl->body, pl->big_clauses, n);
    }
    return st == ILHEAP_OK ? 0 : -1;
}

/* Decodes the body and plans the new one: the replacement "return VALUE", N
 * nops before the code (EH moved by N), or the body as it is (rehome, in
 * preserve mode: the same formats, byte for byte). */
static int plan_body(plan_t *pl, const uint8_t *il, size_t il_size, int is_target, prof_skip_t *why)
{
    const prof_config_t *cfg = &prof_g.config;
    if (decode(pl, il, il_size) != 0) {
        *why = PROF_SKIP_decode;
        return -1;
    }
    pl->mode = ILHEAP_IL_PRESERVE;
    if (is_target) {
        uint32_t v = (uint32_t)cfg->replace_value;
        const uint8_t code[6] = {CEE_LDC_I4, (uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16),
                                 (uint8_t)(v >> 24), CEE_RET};
        memcpy(pl->replace_code, code, sizeof code);
        pl->edit.what = ILHEAP_IL_EDIT_CODE | ILHEAP_IL_EDIT_CLAUSES | ILHEAP_IL_EDIT_LOCAL_SIG |
                        ILHEAP_IL_EDIT_INIT_LOCALS | ILHEAP_IL_EDIT_MAX_STACK;
        pl->edit.code = pl->replace_code;
        pl->edit.code_size = sizeof code;
        pl->edit.max_stack = 1;
        pl->mode = ILHEAP_IL_COMPACT; /* a tiny body: no locals, no EH */
    } else if (cfg->mode == PROF_MODE_PROLOGUE) {
        pl->prologue = cfg->prologue_nops;
        pl->edit.prologue = nops;
        pl->edit.prologue_size = pl->prologue;
    }
    if (ilheap_il_rewrite(&pl->body, &pl->edit, pl->mode, NULL, 0, &pl->size) != ILHEAP_OK ||
        pl->size == 0 || pl->size > UINT32_MAX) {
        *why = PROF_SKIP_encode;
        return -1;
    }
    return 0;
}

/* Writes the planned body to p, then reads it back: it must be the original
 * with the prologue inserted (or, for the target, the replacement). */
static int write_body(plan_t *pl, uint8_t *p, int is_target, prof_skip_t *why)
{
    size_t written = 0;
    if (ilheap_il_rewrite(&pl->body, &pl->edit, pl->mode, p, pl->size, &written) != ILHEAP_OK ||
        written != pl->size) {
        *why = PROF_SKIP_encode;
        return -1;
    }
    ilheap_il_body_t moved;
    ilheap_il_clause_t moved_clauses[CLAUSES_ON_STACK];
    ilheap_il_clause_t *mc = moved_clauses;
    size_t cap = CLAUSES_ON_STACK;
    if (pl->body.clause_count > cap) {
        cap = pl->body.clause_count;
        mc = calloc(cap, sizeof *mc);
        if (!mc) {
            *why = PROF_SKIP_verify;
            return -1;
        }
    }
    int ok = ilheap_il_decode(p, pl->size, &moved, mc, cap) == ILHEAP_OK &&
             moved.body_size == pl->size &&
             (is_target ? moved.code_size == sizeof pl->replace_code && moved.clause_count == 0
                        : ilheap_il_check_moved(&pl->body, &moved, nops, pl->prologue, 0) ==
                              ILHEAP_OK);
    if (mc != moved_clauses)
        free(mc);
    if (!ok)
        *why = PROF_SKIP_verify;
    return ok ? 0 : -1;
}

/* Counts the original body's header form and clause kinds, and whether the
 * new body had to grow from tiny to fat (a prologue pushing the code past 63
 * bytes, or max stack past 8). */
static void count_forms(const plan_t *pl, const uint8_t *new_body)
{
    prof_counters_t *c = &prof_g.counters;
    int tiny = pl->body.header == ILHEAP_IL_TINY;
    atomic_fetch_add(tiny ? &c->bodies_tiny : &c->bodies_fat, 1);
    /* II.25.4.2: a tiny header has 0x2 in its two low bits, a fat one 0x3. */
    if (tiny && (new_body[0] & 3) == 3)
        atomic_fetch_add(&c->grew_tiny_to_fat, 1);
    for (uint32_t i = 0; i < pl->body.clause_count; i++) {
        switch (pl->body.clauses[i].kind) {
        case ILHEAP_IL_CATCH: atomic_fetch_add(&c->clauses[0], 1); break;
        case ILHEAP_IL_FILTER: atomic_fetch_add(&c->clauses[1], 1); break;
        case ILHEAP_IL_FINALLY: atomic_fetch_add(&c->clauses[2], 1); break;
        case ILHEAP_IL_FAULT: atomic_fetch_add(&c->clauses[3], 1); break;
        default: break;
        }
    }
}

/* Plans, allocates, writes, checks and installs the new body of (mod, tok).
 * Returns 0, or -1 with *why set; on failure the method keeps its body. */
static int install(ModuleID mod, mdToken tok, const prof_module_view_t *view, const uint8_t *il,
                   ULONG il_size, int is_target, prof_skip_t *why)
{
    plan_t *pl = calloc(1, sizeof *pl);
    if (!pl) {
        *why = PROF_SKIP_encode;
        return -1;
    }
    int rc = -1;
    if (plan_body(pl, il, il_size, is_target, why) != 0)
        goto done;
    int fallback = 0;
    uint8_t *p = prof_install_alloc(mod, view, pl->size, &fallback, why);
    if (!p)
        goto done;
    /* A failure from here on wastes the block: IMethodMalloc cannot free. */
    if (write_body(pl, p, is_target, why) != 0 ||
        prof_install_set(mod, tok, view, p, pl->size, fallback, why) != 0)
        goto done;
    count_forms(pl, p);
    if (is_target)
        atomic_fetch_add(&prof_g.counters.replaced, 1);
    else if (pl->prologue == 0 && pl->size == il_size && memcmp(p, il, il_size) == 0)
        atomic_fetch_add(&prof_g.counters.rehomed_identical, 1);
    rc = 0;
done:
    free(pl->big_clauses);
    free(pl);
    return rc;
}

prof_skip_t prof_rewrite_method(ModuleID mod, mdMethodDef tok, FunctionID fid, const prof_module_view_t *view)
{
    const prof_config_t *cfg = &prof_g.config;
    LPCBYTE il = NULL;
    ULONG il_size = 0;
    prof_skip_t why = PROF_SKIP_COUNT;
    if (CLR_FAILED(prof_g.info->lpVtbl->GetILFunctionBody(prof_g.info, mod, tok, &il, &il_size)) ||
        !il || il_size == 0)
        return PROF_SKIP_not_il; /* the claim stays: there is no IL to rewrite */
    /* ReJIT: what was just read is the original IL only if the JIT path has
     * not claimed the method (it claims before it sets a body); if it has,
     * its body stays, as the IL the runtime compiles. */
    if (view->control && prof_modules_claimed(view, tok))
        return PROF_SKIP_already_rewritten;
    int is_target = cfg->has_replace && prof_names_is_replace_target(mod, tok);
    if (!is_target && cfg->mode == PROF_MODE_OFF)
        return PROF_SKIP_mode_off;
    if (!is_target && prof_mode_counts(cfg->mode)) {
        int rc = cfg->mode == PROF_MODE_TIMING ? prof_timing(mod, tok, fid, view, il, il_size, &why)
                                               : prof_instrument(mod, tok, fid, view, il, il_size, &why);
        if (rc == 0)
            return PROF_SKIP_COUNT;
        if ((why == PROF_SKIP_alloc_failed || why == PROF_SKIP_counters) && !view->control)
            prof_modules_unclaim(view, tok); /* short of memory: a later JIT may try again */
        return why;
    }
    if (install(mod, tok, view, il, il_size, is_target, &why) == 0)
        return PROF_SKIP_COUNT; /* rewritten */
    if (!view->control)
        prof_modules_unclaim(view, tok); /* a later JIT of it may try again */
    return why;
}

void prof_rewrite_on_jit(FunctionID fid)
{
    const prof_config_t *cfg = &prof_g.config;
    atomic_fetch_add(&prof_g.counters.jit_started, 1);
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
    /* ILHEAP_REJIT too: a method whose ReJIT version is active never gets
     * here (the runtime reports ReJITCompilationStarted); what does is a
     * method of a module whose request is pending, or an instantiation that
     * cannot be versioned (over a collectible type). */
    prof_module_view_t view = {0};
    prof_skip_t why = PROF_SKIP_COUNT;
    if (prof_modules_view(mod, &view, &why) != 0) {
        prof_report_skip(why);
        return;
    }
    why = prof_modules_claim(&view, tok) ? prof_rewrite_method(mod, tok, fid, &view)
                                         : PROF_SKIP_already_rewritten;
    if (why != PROF_SKIP_COUNT) {
        prof_report_skip(why);
    } else {
        prof_modules_body_set(&view, tok); /* after SetILFunctionBody: inliners may take it */
        if (cfg->rejit)
            prof_rejit_count_jit_path();
    }
    prof_modules_view_end(&view);
}
