/* ILHEAP_MODE=calls and blocks: counter probes inserted by the IL rewriter.
 *
 * calls: one probe before the first instruction, where only entering the
 * method runs it (a branch back to offset 0 still leads past it). blocks: one
 * probe at the start of every basic block (ilheap_rw_block_starts), where
 * every path into the block runs it (ILHEAP_RW_BLOCK_START). A probe adds 1
 * to a 64-bit counter in the module's counter region: pure IL, stack
 * neutral, no helper assembly. With ILHEAP_ATOMIC=1 it calls
 * Interlocked.Increment on the counter instead, so that threads lose no
 * update. Each thread keeps one rewriter and its buffers. */
#include "profiler.h"

#include <stdlib.h>

#include "ilheap/il.h"
#include "ilheap/rewrite.h"
#include "os.h"

typedef struct scratch {
    ilheap_rw_t *rw;
    ilheap_il_clause_t *clauses;
    size_t clauses_cap;
    ilheap_rw_id_t *starts;
    size_t starts_cap;
    uint32_t *offsets;
    size_t offsets_cap;
} scratch_t;

static prof_os_tls_t scratch_key;
static int scratch_key_ok;
static prof_os_once_t scratch_once = PROF_OS_ONCE_INIT;

static void scratch_free(void *p)
{
    scratch_t *s = p;
    if (!s)
        return;
    ilheap_rw_destroy(s->rw);
    free(s->clauses);
    free(s->starts);
    free(s->offsets);
    free(s);
}

static void scratch_key_make(void)
{
    scratch_key_ok = prof_os_tls_create(&scratch_key, scratch_free) == 0;
}

static scratch_t *scratch_get(void)
{
    prof_os_once(&scratch_once, scratch_key_make);
    if (!scratch_key_ok)
        return NULL;
    scratch_t *s = prof_os_tls_get(scratch_key);
    if (s)
        return s;
    s = calloc(1, sizeof *s);
    if (!s || ilheap_rw_create(&s->rw) != ILHEAP_OK || prof_os_tls_set(scratch_key, s) != 0) {
        if (s)
            ilheap_rw_destroy(s->rw);
        free(s);
        return NULL;
    }
    return s;
}

static int reserve(void **p, size_t *cap, size_t n, size_t elem)
{
    if (n <= *cap)
        return 0;
    size_t c = n < 64 ? 64 : n + n / 2;
    void *q = realloc(*p, c * elem);
    if (!q)
        return -1;
    *p = q;
    *cap = c;
    return 0;
}

/* The rewriter holds the body: decoded with room for all its clauses. */
static int load(scratch_t *s, const uint8_t *il, size_t il_size)
{
    ilheap_il_body_t body;
    ilheap_status_t st = ilheap_il_decode(il, il_size, &body, s->clauses, s->clauses_cap);
    if (st == ILHEAP_IL_CLAUSE_SPACE) {
        if (reserve((void **)&s->clauses, &s->clauses_cap, body.clause_count, sizeof *s->clauses))
            return -1;
        st = ilheap_il_decode(il, il_size, &body, s->clauses, s->clauses_cap);
    }
    size_t bad = 0;
    return st == ILHEAP_OK && ilheap_rw_load(s->rw, &body, &bad) == ILHEAP_OK ? 0 : -1;
}

/* The probe's instruction-level stack effect: Increment takes one item and
 * leaves one (the new value, dropped by the pop). */
static ilheap_status_t increment_effect(void *ctx, uint16_t opcode, uint32_t token,
                                        uint32_t *pops, uint32_t *pushes)
{
    if (opcode != ILHEAP_OP_CALL || token != *(const mdToken *)ctx)
        return ILHEAP_IL_STACK_UNKNOWN;
    *pops = 1;
    *pushes = 1;
    return ILHEAP_OK;
}

static size_t probe(int64_t *counter, mdToken increment, ilheap_rw_insn_t out[ILHEAP_RW_PROBE_MAX])
{
    uint64_t addr = (uint64_t)(uintptr_t)counter;
    int ptr64 = sizeof(void *) == 8;
    if (!increment)
        return ilheap_rw_counter64_probe(addr, ptr64, out);
    /* ldc.i8 addr; conv.u; call Increment(int64&); pop */
    size_t n = ilheap_rw_flag_probe(addr, ptr64, out); /* its first two: the address */
    if (n < 2)
        return 0;
    memset(&out[2], 0, 2 * sizeof out[2]);
    out[2].opcode = ILHEAP_OP_CALL;
    out[2].offset = ILHEAP_RW_NEW;
    out[2].op.token = increment;
    out[3].opcode = ILHEAP_OP_POP;
    out[3].offset = ILHEAP_RW_NEW;
    return 4;
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

int prof_instrument(ModuleID mod, mdMethodDef tok, FunctionID fid, const prof_module_view_t *view,
                    const uint8_t *il, size_t il_size, prof_skip_t *why)
{
    (void)fid;
    const prof_config_t *cfg = &prof_g.config;
    char name[PROF_NAME_MAX * 4];
    if (method_facts(mod, tok, prof_modules_is_corelib(view), name, sizeof name, why) != 0)
        return -1;
    scratch_t *s = scratch_get();
    if (!s) {
        *why = PROF_SKIP_counters;
        return -1;
    }
    if (load(s, il, il_size) != 0) {
        *why = PROF_SKIP_rewriter_load;
        return -1;
    }
    /* Where the probes go: the blocks' first instructions, or the entry. */
    size_t n = 1;
    if (cfg->mode == PROF_MODE_BLOCKS) {
        ilheap_status_t st = ilheap_rw_block_starts(s->rw, s->starts, s->starts_cap, &n);
        if (st == ILHEAP_IL_DEST_TOO_SMALL) {
            if (reserve((void **)&s->starts, &s->starts_cap, n, sizeof *s->starts)) {
                *why = PROF_SKIP_counters;
                return -1;
            }
            st = ilheap_rw_block_starts(s->rw, s->starts, s->starts_cap, &n);
        }
        if (st != ILHEAP_OK || n == 0 || n > UINT32_MAX) {
            *why = PROF_SKIP_rewriter_edit;
            return -1;
        }
    } else {
        if (reserve((void **)&s->starts, &s->starts_cap, 1, sizeof *s->starts)) {
            *why = PROF_SKIP_counters;
            return -1;
        }
        s->starts[0] = ilheap_rw_first(s->rw);
    }
    if (reserve((void **)&s->offsets, &s->offsets_cap, n, sizeof *s->offsets)) {
        *why = PROF_SKIP_counters;
        return -1;
    }
    mdToken increment = 0;
    if (cfg->atomic && !(increment = prof_modules_interlocked(view, mod))) {
        *why = PROF_SKIP_interlocked_ref;
        return -1;
    }
    prof_counts_t *counts = prof_modules_counts(view, mod);
    int64_t *counters = counts ? prof_counts_reserve(counts, (uint32_t)n) : NULL;
    if (!counters) {
        *why = PROF_SKIP_counters;
        return -1;
    }
    /* From here a failure wastes the reserved counters (never published). */
    ilheap_rw_where_t where = cfg->mode == PROF_MODE_BLOCKS ? ILHEAP_RW_BLOCK_START : ILHEAP_RW_BEFORE;
    ilheap_rw_set_inserted_stack_fn(s->rw, increment ? increment_effect : NULL, &increment);
    for (size_t i = 0; i < n; i++) {
        ilheap_rw_insn_t insn, p[ILHEAP_RW_PROBE_MAX];
        size_t k = probe(&counters[i], increment, p);
        if (ilheap_rw_get(s->rw, s->starts[i], &insn) != ILHEAP_OK || k == 0 ||
            ilheap_rw_insert(s->rw, s->starts[i], where, p, k, NULL) != ILHEAP_OK) {
            *why = PROF_SKIP_rewriter_edit;
            return -1;
        }
        s->offsets[i] = insn.offset;
    }
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
    if (prof_install_set(mod, tok, view, body, size, fallback, why) != 0)
        return -1;
    /* The body is in: its line is owed even if the name's copy fails. */
    if (prof_counts_publish(counts, tok, name, cfg->mode == PROF_MODE_BLOCKS ? s->offsets : NULL,
                            (uint32_t)n, counters) != 0)
        prof_diag("no memory to record method 0x%08x: its counts are lost", (unsigned)tok);
    return 0;
}
