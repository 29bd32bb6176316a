/* ILHEAP_MODE=timing: every method in scope wrapped, so that each entry,
 * each exit by an exception and the time from entry to exit are counted:
 *
 *       calls += 1; start = Stopwatch.GetTimestamp();    entry, before the try
 *       .try {
 *           the body, every ret now `stloc ret; leave EPILOGUE`
 *       } fault {                                        only when an exception leaves
 *           exceptional += 1; ticks += GetTimestamp() - start; endfinally
 *       }
 *   EPILOGUE:
 *       ticks += GetTimestamp() - start; ldloc ret; ret   normal exits
 *
 * In an instance constructor the try (and the entry) start after the call
 * to the base constructor (ilheap_rw_ctor_body_start), as IL requires.
 * `start` and `ret` are new locals, so recursion, threads and exceptions
 * each keep their own start. The three counters are a timing record in the
 * counts file (ilheap/counts.h); with ILHEAP_ATOMIC=1 they are updated with
 * Interlocked.Increment and Interlocked.Add, exact under threads. */
#include "profiler.h"

#include <inttypes.h>
#include <stdlib.h>

#include "ilheap/counts.h"

#define OP_LDIND_I8 0x4C
#define OP_STIND_I8 0x55
#define OP_SUB 0x59
#define CODE_MAX 24

/* The tokens the probes call in this module. */
typedef struct probe_refs {
    mdToken timestamp, increment, add; /* increment, add: ILHEAP_ATOMIC only */
} probe_refs_t;

/* What the report says of timing. */
static struct {
    atomic_uint_fast64_t ctors_after_base; /* constructors wrapped after their base call */
    atomic_uint_fast64_t ctors_whole;      /* constructors of structs (no base call), wrapped whole */
    atomic_uint_fast64_t refused[4];       /* tail call, no base call found, other wrap refusal, locals */
} stats;

enum { REFUSED_TAIL, REFUSED_CTOR, REFUSED_WRAP, REFUSED_LOCALS };

/* ------------------------------------------------------------ the probes */
typedef struct code {
    ilheap_rw_insn_t in[CODE_MAX];
    size_t n;
} code_t;

static ilheap_rw_insn_t *emit(code_t *c, uint16_t opcode)
{
    ilheap_rw_insn_t *i = &c->in[c->n++];
    memset(i, 0, sizeof *i);
    i->opcode = opcode;
    return i;
}

static void emit_token(code_t *c, uint16_t opcode, uint32_t token)
{
    emit(c, opcode)->op.token = token;
}

static void emit_addr(code_t *c, const int64_t *p)
{
    uintptr_t a = (uintptr_t)p;
    if (sizeof(void *) == 8)
        emit(c, ILHEAP_OP_LDC_I8)->op.i = (int64_t)(uint64_t)a;
    else
        emit(c, ILHEAP_OP_LDC_I4)->op.i = (int32_t)(uint32_t)a;
    emit(c, ILHEAP_OP_CONV_U);
}

static void emit_local(code_t *c, int store, uint32_t index)
{
    if (index < 256)
        emit(c, store ? ILHEAP_OP_STLOC_S : ILHEAP_OP_LDLOC_S)->op.i = index;
    else
        emit(c, store ? ILHEAP_OP_STLOC : ILHEAP_OP_LDLOC)->op.i = index;
}

/* *counter += 1 */
static void emit_increment(code_t *c, int64_t *counter, const probe_refs_t *r)
{
    if (r->increment) {
        emit_addr(c, counter);
        emit_token(c, ILHEAP_OP_CALL, r->increment);
        emit(c, ILHEAP_OP_POP);
        return;
    }
    c->n += ilheap_rw_counter64_probe((uint64_t)(uintptr_t)counter, sizeof(void *) == 8, c->in + c->n);
}

/* *ticks += GetTimestamp() - start */
static void emit_elapsed(code_t *c, int64_t *ticks, uint32_t start, const probe_refs_t *r)
{
    emit_addr(c, ticks);
    if (!r->add) {
        emit(c, ILHEAP_OP_DUP);
        emit(c, OP_LDIND_I8);
    }
    emit_token(c, ILHEAP_OP_CALL, r->timestamp);
    emit_local(c, 0, start);
    emit(c, OP_SUB);
    if (r->add) {
        emit_token(c, ILHEAP_OP_CALL, r->add);
        emit(c, ILHEAP_OP_POP);
    } else {
        emit(c, ILHEAP_OP_ADD);
        emit(c, OP_STIND_I8);
    }
}

/* The stack effect of the probes' calls (ilheap_rw_set_inserted_stack_fn). */
static ilheap_status_t probe_effect(void *ctx, uint16_t opcode, uint32_t token, uint32_t *pops, uint32_t *pushes)
{
    const probe_refs_t *r = ctx;
    (void)opcode;
    *pushes = 1;
    if (token == r->timestamp)
        *pops = 0;
    else if (token == r->increment)
        *pops = 1;
    else if (token == r->add)
        *pops = 2;
    else
        return ILHEAP_IL_STACK_UNKNOWN;
    return ILHEAP_OK;
}

/* ------------------------------------------------------------ the method */
/* One method's wrapping: what it needs, gathered step by step. */
typedef struct job {
    ModuleID mod;
    mdMethodDef tok;
    const prof_module_view_t *view;
    prof_md_t md;
    prof_scratch_t *s;
    ilheap_il_body_t body;
    prof_method_sig_t msig;
    probe_refs_t refs;
    uint32_t ret_local, start_local;
    ilheap_rw_id_t start, epilogue;
    int64_t *counters; /* calls, exceptional exits, ticks */
    char name[PROF_NAME_MAX * 4];
} job_t;

/* The method's name, signature, and the tokens its probes call. */
static int facts(job_t *j, prof_skip_t *why)
{
    *why = PROF_SKIP_metadata;
    if (prof_modules_is_corelib(j->view) && prof_names_leave_alone(j->md.md, j->tok)) {
        *why = PROF_SKIP_intrinsic;
        return -1;
    }
    size_t need = prof_sig_method_memory(&j->md, j->tok);
    void *arena = need ? prof_scratch_arena(j->s, need) : NULL;
    if (!arena || prof_names_method(j->md.md, j->tok, j->name, sizeof j->name) != 0 ||
        prof_sig_method(&j->md, j->tok, arena, need, &j->msig) != 0)
        return -1;
    j->refs.timestamp = prof_modules_ref(j->view, j->mod, PROF_REF_TIMESTAMP);
    if (prof_g.config.atomic) {
        j->refs.increment = prof_modules_ref(j->view, j->mod, PROF_REF_INCREMENT);
        j->refs.add = prof_modules_ref(j->view, j->mod, PROF_REF_ADD);
        if (!j->refs.increment || !j->refs.add) {
            *why = PROF_SKIP_interlocked_ref;
            return -1;
        }
    }
    return j->refs.timestamp ? 0 : -1;
}

/* The body's locals plus `ret` (when the method returns a value: its return
 * type as it is) and `start` (int64), as a new local signature. */
static int add_locals(job_t *j)
{
    IMetaDataImport *md = j->md.md;
    const BYTE *old = NULL;
    ULONG old_size = 0;
    if (j->body.local_sig && CLR_FAILED(md->lpVtbl->GetSigFromToken(md, j->body.local_sig, &old, &old_size)))
        return -1;
    const ilheap_sig_param_t *ret = &j->msig.sig.ret;
    int returns = ret->kind != ILHEAP_SIG_VALUE_VOID;
    size_t n = 0;
    if (returns && ilheap_sig_encode_type(ret->type, NULL, 0, &n, NULL) != ILHEAP_SIG_NO_ROOM)
        return -1;
    uint8_t *types = malloc(n + 1), *blob = NULL;
    size_t blob_size = 0;
    uint32_t first = 0;
    int ok = types && (!returns || ilheap_sig_encode_type(ret->type, types, n, &n, NULL) == ILHEAP_OK);
    if (ok) {
        types[n] = ILHEAP_ET_I8;
        ok = ilheap_rw_locals_append(old, old_size, types, n + 1, returns ? 2 : 1, &blob, &blob_size, &first) ==
             ILHEAP_OK;
    }
    mdToken sig = ok ? prof_emit_local_sig(j->mod, blob, blob_size) : 0;
    free(types);
    free(blob);
    if (!sig)
        return -1;
    ilheap_rw_set_locals(j->s->rw, sig, j->body.init_locals);
    j->ret_local = returns ? first : ILHEAP_RW_NO_LOCAL;
    j->start_local = returns ? first + 1 : first;
    return 0;
}

/* Where the try starts: the first instruction, or in an instance
 * constructor the one after its base constructor call (found by the exact
 * stack simulation, over the metadata's signatures). */
static int body_start(job_t *j)
{
    ilheap_rw_t *rw = j->s->rw;
    j->start = ilheap_rw_first(rw);
    if (!j->msig.is_ctor)
        return 0;
    ilheap_rw_set_stack_fn(rw, prof_sig_call_effect, &j->md);
    ilheap_status_t st = ilheap_rw_ctor_body_start(rw, prof_sig_is_ctor, &j->md, &j->start);
    ilheap_rw_set_stack_fn(rw, NULL, NULL); /* the probes keep the safe bound */
    if (st == ILHEAP_OK) {
        atomic_fetch_add(&stats.ctors_after_base, 1);
        return 0;
    }
    if (st == ILHEAP_IL_NO_CTOR_CALL && prof_sig_no_base_ctor(&j->md, j->msig.type)) {
        j->start = ilheap_rw_first(rw);
        atomic_fetch_add(&stats.ctors_whole, 1);
        return 0;
    }
    atomic_fetch_add(&stats.refused[REFUSED_CTOR], 1);
    return -1;
}

/* The wrapper's code around the body, once the counters are known. */
static int wrap(job_t *j)
{
    ilheap_rw_t *rw = j->s->rw;
    int64_t *calls = &j->counters[ILHEAP_TIMING_CALLS], *ticks = &j->counters[ILHEAP_TIMING_TICKS];
    code_t fault = {.n = 0}, exit = {.n = 0}, entry = {.n = 0};
    emit_increment(&fault, &j->counters[ILHEAP_TIMING_EXCEPTIONAL], &j->refs);
    emit_elapsed(&fault, ticks, j->start_local, &j->refs);
    emit(&fault, ILHEAP_OP_ENDFINALLY);
    emit_elapsed(&exit, ticks, j->start_local, &j->refs);
    emit_increment(&entry, calls, &j->refs);
    emit_token(&entry, ILHEAP_OP_CALL, j->refs.timestamp);
    emit_local(&entry, 1, j->start_local);
    ilheap_rw_set_inserted_stack_fn(rw, probe_effect, &j->refs);
    ilheap_rw_handler_t h = {ILHEAP_IL_FAULT, 0, fault.in, fault.n, NULL, 0};
    ilheap_rw_id_t bad;
    if (ilheap_rw_wrap(rw, j->start, j->epilogue, &h, NULL, &bad) != ILHEAP_OK) {
        atomic_fetch_add(&stats.refused[REFUSED_WRAP], 1);
        return -1;
    }
    /* Normal exits: every leave to the epilogue now runs the exit probe
     * first; the entry stays outside the try (a branch to its first
     * instruction is not an entry). */
    return ilheap_rw_insert(rw, j->epilogue, ILHEAP_RW_BLOCK_START, exit.in, exit.n, NULL) == ILHEAP_OK &&
                   ilheap_rw_insert(rw, j->start, ILHEAP_RW_BEFORE, entry.in, entry.n, NULL) == ILHEAP_OK
               ? 0
               : -1;
}

/* The body rewritten, up to the counters: -1 with *why. */
static int prepare(job_t *j, const uint8_t *il, size_t il_size, prof_skip_t *why)
{
    if (facts(j, why) != 0)
        return -1;
    if (prof_scratch_load(j->s, il, il_size, &j->body) != 0) {
        *why = PROF_SKIP_rewriter_load;
        return -1;
    }
    *why = PROF_SKIP_wrap;
    if (body_start(j) != 0)
        return -1;
    if (add_locals(j) != 0) {
        atomic_fetch_add(&stats.refused[REFUSED_LOCALS], 1);
        *why = PROF_SKIP_metadata;
        return -1;
    }
    ilheap_rw_id_t bad;
    ilheap_status_t st = ilheap_rw_single_exit(j->s->rw, j->ret_local, 0, &j->epilogue, &bad);
    if (st != ILHEAP_OK) {
        atomic_fetch_add(&stats.refused[st == ILHEAP_IL_SPLIT_TAIL_CALL ? REFUSED_TAIL : REFUSED_WRAP], 1);
        return -1;
    }
    return 0;
}

/* Encodes the body, publishes the method, installs the body and its IL map. */
static int install(job_t *j, prof_counts_t *k, FunctionID fid, prof_skip_t *why)
{
    size_t size = 0, written = 0;
    if (ilheap_rw_encode(j->s->rw, NULL, 0, &size) != ILHEAP_OK) {
        *why = PROF_SKIP_rewriter_encode;
        return -1;
    }
    int fallback = 0;
    uint8_t *p = prof_install_alloc(j->mod, j->view, size, &fallback, why);
    if (!p)
        return -1;
    if (ilheap_rw_encode(j->s->rw, p, size, &written) != ILHEAP_OK || written != size) {
        *why = PROF_SKIP_rewriter_encode;
        return -1;
    }
    uint64_t handle = 0;
    if (prof_counts_publish_timing(k, j->tok, j->name, j->counters, prof_os_timestamp_frequency(), &handle) != 0) {
        *why = PROF_SKIP_counters;
        return -1;
    }
    if (prof_install_set(j->mod, j->tok, j->view, p, size, fallback, why) != 0) {
        prof_counts_withdraw(handle);
        return -1;
    }
    prof_install_map(j->view, fid, j->s);
    return 0;
}

int prof_timing(ModuleID mod, mdMethodDef tok, FunctionID fid, const prof_module_view_t *view, const uint8_t *il,
                size_t il_size, prof_skip_t *why)
{
    job_t *j = calloc(1, sizeof *j);
    if (!j || (j->s = prof_scratch_get()) == NULL) {
        free(j);
        *why = PROF_SKIP_counters;
        return -1;
    }
    j->mod = mod;
    j->tok = tok;
    j->view = view;
    int rc = -1;
    prof_counts_t *k = NULL;
    if (prof_md_open(mod, &j->md) != 0)
        *why = PROF_SKIP_metadata;
    else if (prepare(j, il, il_size, why) != 0)
        ;
    else if ((k = prof_modules_counts(view, mod)) == NULL ||
             (j->counters = prof_counts_reserve(k, ILHEAP_COUNTS_TIMING_COUNTERS)) == NULL)
        *why = PROF_SKIP_counters;
    else if (wrap(j) != 0)
        *why = PROF_SKIP_wrap; /* its counters are wasted: never published */
    else
        rc = install(j, k, fid, why);
    if (rc == 0) {
        atomic_fetch_add(&prof_g.counters.instrumented, 1);
        atomic_fetch_add(&prof_g.counters.probes, ILHEAP_COUNTS_TIMING_COUNTERS);
    }
    prof_md_close(&j->md);
    free(j);
    return rc;
}

void prof_timing_write_summary(FILE *out)
{
    if (prof_g.config.mode != PROF_MODE_TIMING)
        return;
    fprintf(out, "timing_clock=Stopwatch.GetTimestamp\n");
    fprintf(out, "timing_ticks_per_second=%" PRIu64 "\n", prof_os_timestamp_frequency());
    fprintf(out, "timing_ctors_after_base=%" PRIu64 "\n", (uint64_t)atomic_load(&stats.ctors_after_base));
    fprintf(out, "timing_ctors_whole=%" PRIu64 "  # struct constructors: no base call\n",
            (uint64_t)atomic_load(&stats.ctors_whole));
    static const char *const why[4] = {"tail_call", "no_base_call", "wrap", "locals"};
    for (int i = 0; i < 4; i++)
        fprintf(out, "timing_refused.%s=%" PRIu64 "\n", why[i], (uint64_t)atomic_load(&stats.refused[i]));
}
