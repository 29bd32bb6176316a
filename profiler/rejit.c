/* ILHEAP_REJIT=1: methods get their new bodies through ReJIT instead of at
 * their first JIT compilation, so that ReadyToRun code stays in use (no
 * COR_PRF_DISABLE_ALL_NGEN_IMAGES) and only the methods in scope are
 * compiled again.
 *
 * Per module in scope:
 *   1. at its first sight (ModuleLoadFinished, or a JIT compilation or a
 *      ReadyToRun lookup of one of its methods before that) it is PENDING
 *      and queued;
 *   2. the profiler's own thread lists its IL methods (metadata) and asks
 *      RequestReJIT for all of them in one call: never from a callback,
 *      because RequestReJIT suspends the runtime (corprof.idl; a callback
 *      thread that waits for it deadlocks). Then the module is REQUESTED;
 *   3. before a requested method next runs, the runtime asks
 *      GetReJITParameters on the calling thread: the body is rewritten as on
 *      the JIT path and given to ICorProfilerFunctionControl::
 *      SetILFunctionBody, which copies it (no IMethodMalloc).
 * While a module is PENDING the JIT path rewrites its methods
 * (JITCompilationStarted, SetILFunctionBody) and its ReadyToRun code is
 * refused (JITCachedFunctionSearchStarted), so that no call runs
 * uninstrumented. Such a method's token is claimed: its GetReJITParameters
 * later gives no body, and the runtime compiles the method's current IL,
 * the JIT path's body (one set of counters). The JIT path keeps serving
 * what ReJIT cannot reach: collectible modules (the runtime versions no
 * collectible code), instantiations over collectible types, a module whose
 * request failed (FAILED: its ReadyToRun code stays refused).
 *
 * Inlining: a ReJIT-instrumented callee is never inlined (JITInlining
 * allows only bodies the JIT path set), and every method of a module in
 * scope is requested, so no inliner in it keeps ReadyToRun code that inlined
 * one of them. */
#include "profiler.h"

#include <inttypes.h>
#include <stdlib.h>

#include "os.h"

#define STATE_BUCKET_BITS 8u
#define STATE_BUCKETS (1u << STATE_BUCKET_BITS)
#define ERRORS_MAX 8

typedef enum rejit_state {
    REJIT_NONE,      /* not ReJIT's: out of scope, dynamic, no allocator */
    REJIT_PENDING,   /* queued or being requested: the JIT path serves it */
    REJIT_REQUESTED, /* its methods were requested: GetReJITParameters serves it */
    REJIT_FAILED,    /* RequestReJIT failed, or cannot work (collectible code is
                        never versioned): the JIT path serves it for good */
} rejit_state_t;

typedef struct module_state {
    ModuleID id;
    rejit_state_t state;
    struct module_state *next;       /* in its bucket */
    struct module_state *next_queue; /* in the queue, while PENDING */
} module_state_t;

/* What ReJIT did, for the report. */
typedef struct rejit_counts {
    atomic_uint_fast64_t modules;      /* modules whose methods were requested */
    atomic_uint_fast64_t collectible;  /* modules left to the JIT path: collectible */
    atomic_uint_fast64_t requested;    /* methods in RequestReJIT calls */
    atomic_uint_fast64_t done;         /* bodies given in GetReJITParameters */
    atomic_uint_fast64_t reused;       /* GetReJITParameters for a method of the JIT path */
    atomic_uint_fast64_t kept;         /* GetReJITParameters that left the method's IL as it was */
    atomic_uint_fast64_t failed;       /* methods whose ReJIT failed, all reasons */
    atomic_uint_fast64_t failed_request; /* of which in a failed RequestReJIT call */
    atomic_uint_fast64_t failed_error;   /* of which reported by ReJITError */
    atomic_uint_fast64_t jit_path;     /* rewritten by the JIT path while pending */
    atomic_uint_fast64_t refused_r2r;  /* ReadyToRun code refused while pending */
    atomic_uint_fast64_t compiled;     /* ReJITCompilationFinished with S_OK */
    atomic_uint_fast64_t compile_failed;
} rejit_counts_t;

static rejit_counts_t counts;

static prof_os_rwlock_t states_lock = PROF_OS_RWLOCK_INIT;
static module_state_t *states[STATE_BUCKETS];

static prof_os_mutex_t queue_lock = PROF_OS_MUTEX_INIT; /* the queue, stop, busy, errors */
static prof_os_cond_t queue_cond = PROF_OS_COND_INIT;
static module_state_t *queue_head, *queue_tail;
static int stopping, started;
static ModuleID busy_id; /* the module being requested; 0: none */
static struct {
    HRESULT hr;
    uint64_t n;
} errors[ERRORS_MAX];
static uint64_t errors_other;

static prof_os_tls_t buffer_key;
static int buffer_key_ok;
static prof_os_once_t buffer_once = PROF_OS_ONCE_INIT;

static module_state_t *find_locked(ModuleID id)
{
    for (module_state_t *m = states[prof_id_bucket(id, STATE_BUCKET_BITS)]; m; m = m->next)
        if (m->id == id)
            return m;
    return NULL;
}

static void set_state(ModuleID id, rejit_state_t state)
{
    prof_os_write_lock(&states_lock);
    module_state_t *m = find_locked(id);
    if (m)
        m->state = state;
    prof_os_write_unlock(&states_lock);
}

/* Counts an error under its HRESULT (the first ERRORS_MAX kinds by name). */
static void note_error(HRESULT hr, uint64_t n)
{
    prof_os_mutex_lock(&queue_lock);
    int i = 0;
    while (i < ERRORS_MAX && errors[i].n && errors[i].hr != hr)
        i++;
    if (i < ERRORS_MAX) {
        errors[i].hr = hr;
        errors[i].n += n;
    } else {
        errors_other += n;
    }
    prof_os_mutex_unlock(&queue_lock);
}

/* ------------------------------------------------------- the module states */
/* Appends m to the queue and wakes the thread. Called with queue_lock. */
static void enqueue_locked(module_state_t *m)
{
    m->next_queue = NULL;
    if (queue_tail)
        queue_tail->next_queue = m;
    else
        queue_head = m;
    queue_tail = m;
    prof_os_cond_broadcast(&queue_cond);
}

/* The state of a module, recording it (and queueing it when it is ReJIT's)
 * at its first sight. Locks: queue_lock before states_lock, everywhere. */
static rejit_state_t state_of(ModuleID id)
{
    prof_os_read_lock(&states_lock);
    module_state_t *m = find_locked(id);
    rejit_state_t state = m ? m->state : REJIT_NONE;
    prof_os_read_unlock(&states_lock);
    if (m)
        return state;

    prof_module_view_t view = {0};
    prof_skip_t why = PROF_SKIP_COUNT;
    int ours = prof_modules_view(id, &view, &why) == 0;
    if (ours)
        prof_modules_view_end(&view);
    module_state_t *fresh = calloc(1, sizeof *fresh);
    if (!fresh)
        return REJIT_FAILED; /* the JIT path then serves it */
    fresh->id = id;
    fresh->state = ours ? REJIT_PENDING : REJIT_NONE;
    prof_os_mutex_lock(&queue_lock);
    prof_os_write_lock(&states_lock);
    m = find_locked(id);
    if (!m) { /* ours is the first sight (other threads may race to it) */
        size_t b = prof_id_bucket(id, STATE_BUCKET_BITS);
        fresh->next = states[b];
        states[b] = fresh;
        if (fresh->state == REJIT_PENDING)
            enqueue_locked(fresh);
        m = fresh;
        fresh = NULL;
    }
    state = m->state;
    prof_os_write_unlock(&states_lock);
    prof_os_mutex_unlock(&queue_lock);
    free(fresh);
    return state;
}

void prof_rejit_module_seen(ModuleID id)
{
    if (prof_g.config.rejit)
        (void)state_of(id);
}

/* Called before the module's record goes (ModuleUnloadFinished): out of the
 * queue, and if the thread is requesting it, once it is done (the thread's
 * view keeps the module alive until then). */
void prof_rejit_module_unloaded(ModuleID id)
{
    if (!prof_g.config.rejit)
        return;
    prof_os_mutex_lock(&queue_lock);
    module_state_t **pq = &queue_head, *prev = NULL;
    while (*pq && (*pq)->id != id) {
        prev = *pq;
        pq = &(*pq)->next_queue;
    }
    if (*pq) {
        if (queue_tail == *pq)
            queue_tail = prev;
        *pq = (*pq)->next_queue;
    }
    while (busy_id == id) { /* this thread is preemptive: the request may suspend it */
        prof_os_mutex_unlock(&queue_lock);
        prof_os_pause();
        prof_os_mutex_lock(&queue_lock);
    }
    prof_os_write_lock(&states_lock);
    module_state_t **pp = &states[prof_id_bucket(id, STATE_BUCKET_BITS)], *m = NULL;
    for (; *pp; pp = &(*pp)->next) {
        if ((*pp)->id == id) {
            m = *pp;
            *pp = m->next;
            break;
        }
    }
    prof_os_write_unlock(&states_lock);
    prof_os_mutex_unlock(&queue_lock);
    free(m);
}

int prof_rejit_allow_precompiled(FunctionID fid)
{
    ClassID cls = 0;
    ModuleID mod = 0;
    mdToken tok = 0;
    if (!prof_g.config.rejit ||
        CLR_FAILED(prof_g.info->lpVtbl->GetFunctionInfo(prof_g.info, fid, &cls, &mod, &tok)))
        return 1;
    rejit_state_t state = state_of(mod);
    if (state != REJIT_PENDING && state != REJIT_FAILED)
        return 1;
    atomic_fetch_add(&counts.refused_r2r, 1);
    return 0;
}

/* ----------------------------------------------------- the request thread */
/* 1 for a method ReJIT should rewrite: it has IL (an RVA, IL code type, not
 * an internal call), and CoreLib's rules do not leave it alone. */
static int wanted(IMetaDataImport *md, mdMethodDef tok, int is_corelib)
{
    ULONG rva = 0;
    DWORD impl = 0;
    if (CLR_FAILED(md->lpVtbl->GetMethodProps(md, tok, NULL, NULL, 0, NULL, NULL, NULL, NULL, &rva,
                                              &impl)))
        return 0;
    /* ECMA-335 II.23.1.10: CodeTypeMask 0x3 (IL = 0), InternalCall 0x1000. */
    if (rva == 0 || (impl & 0x3u) != 0 || (impl & 0x1000u) != 0)
        return 0;
    return !(is_corelib && prof_names_leave_alone(md, tok));
}

/* The module's methods to request, in a malloc'd array (*n of them). */
static mdMethodDef *list_methods(ModuleID id, int is_corelib, ULONG *n)
{
    *n = 0;
    IUnknown *unk = NULL;
    if (CLR_FAILED(prof_g.info->lpVtbl->GetModuleMetaData(prof_g.info, id, CLR_OF_READ,
                                                          &clr_IID_IMetaDataImport, &unk)) ||
        !unk)
        return NULL;
    IMetaDataImport *md = (IMetaDataImport *)unk;
    size_t cap = 256;
    mdMethodDef *toks = malloc(cap * sizeof *toks);
    /* MethodDef rows are numbered from 1 (ECMA-335 II.22): token 0x06000001 up. */
    for (mdMethodDef tok = 0x06000001u; toks && (tok & 0xFFFFFFu) && md->lpVtbl->IsValidToken(md, tok);
         tok++) {
        if (!wanted(md, tok, is_corelib))
            continue;
        if (*n == cap) {
            mdMethodDef *t = realloc(toks, cap * 2 * sizeof *t);
            if (!t) {
                free(toks);
                toks = NULL;
                break;
            }
            toks = t;
            cap *= 2;
        }
        toks[(*n)++] = tok;
    }
    md->lpVtbl->Release(md);
    if (!toks)
        *n = 0;
    return toks;
}

/* Requests the module's methods. The view (a reference on the module's
 * record) keeps the module alive: ModuleUnloadFinished waits for it. */
static void request_module(ModuleID id)
{
    prof_module_view_t view = {0};
    prof_skip_t why = PROF_SKIP_COUNT;
    if (prof_modules_view(id, &view, &why) != 0) {
        set_state(id, REJIT_NONE);
        return;
    }
    if (view.flags & COR_PRF_MODULE_COLLECTIBLE) {
        /* The runtime versions no collectible code (CodeVersionManager::
         * IsMethodSupported): a request would be accepted and do nothing. */
        atomic_fetch_add(&counts.collectible, 1);
        set_state(id, REJIT_FAILED);
        prof_modules_view_end(&view);
        return;
    }
    ULONG n = 0;
    mdMethodDef *toks = list_methods(id, prof_modules_is_corelib(&view), &n);
    ModuleID *mods = n ? malloc(n * sizeof *mods) : NULL;
    HRESULT hr = CLR_S_OK;
    if (n && !mods)
        hr = CLR_E_OUTOFMEMORY;
    else if (!toks && n == 0)
        hr = CLR_S_OK; /* nothing to request (or unreadable metadata) */
    for (ULONG i = 0; mods && i < n; i++)
        mods[i] = id;
    if (mods)
        hr = prof_g.info->lpVtbl->RequestReJIT(prof_g.info, n, mods, toks);
    atomic_fetch_add(&counts.requested, n);
    if (CLR_FAILED(hr)) {
        atomic_fetch_add(&counts.failed, n);
        atomic_fetch_add(&counts.failed_request, n);
        note_error(hr, n);
        prof_diag("RequestReJIT for %u methods of module %#" PRIxPTR " failed: 0x%08x; the JIT "
                  "path rewrites them", (unsigned)n, (uintptr_t)id, (unsigned)hr);
    } else if (n) {
        atomic_fetch_add(&counts.modules, 1);
    }
    set_state(id, CLR_FAILED(hr) ? REJIT_FAILED : REJIT_REQUESTED);
    free(mods);
    free(toks);
    prof_modules_view_end(&view);
}

static void request_thread(void *arg)
{
    (void)arg;
    prof_g.info->lpVtbl->InitializeCurrentThread(prof_g.info);
    prof_os_mutex_lock(&queue_lock);
    for (;;) {
        while (!queue_head && !stopping)
            prof_os_cond_wait(&queue_cond, &queue_lock);
        if (stopping)
            break;
        module_state_t *m = queue_head;
        queue_head = m->next_queue;
        if (!queue_head)
            queue_tail = NULL;
        ModuleID id = m->id; /* m may go once the lock is released */
        busy_id = id;
        prof_os_mutex_unlock(&queue_lock);
        request_module(id);
        prof_os_mutex_lock(&queue_lock);
        busy_id = 0;
    }
    prof_os_mutex_unlock(&queue_lock);
}

int prof_rejit_start(void)
{
    if (prof_os_thread_start(request_thread, NULL) != 0)
        return -1;
    started = 1;
    return 0;
}

void prof_rejit_stop(void)
{
    prof_os_mutex_lock(&queue_lock);
    stopping = 1;
    prof_os_cond_broadcast(&queue_cond);
    /* A request under way finishes before the runtime goes (bounded: a
     * second or two at most, then the process ends regardless). */
    for (int i = 0; busy_id && i < 20000; i++) {
        prof_os_mutex_unlock(&queue_lock);
        prof_os_pause();
        prof_os_mutex_lock(&queue_lock);
    }
    prof_os_mutex_unlock(&queue_lock);
}

/* ------------------------------------------------------- ReJIT callbacks */
HRESULT prof_rejit_parameters(ModuleID mod, mdMethodDef tok, IUnknown *unk)
{
    void *fc = NULL;
    if (!unk || CLR_FAILED(unk->lpVtbl->QueryInterface(unk, &clr_IID_ICorProfilerFunctionControl,
                                                       &fc)) || !fc) {
        atomic_fetch_add(&counts.failed, 1);
        note_error(CLR_E_NOINTERFACE, 1);
        return CLR_S_OK; /* the method keeps its IL */
    }
    prof_module_view_t view = {0};
    prof_skip_t why = PROF_SKIP_COUNT;
    if (prof_modules_view(mod, &view, &why) == 0) {
        view.control = fc;
        why = prof_rewrite_method(mod, tok, 0, &view);
        if (why == PROF_SKIP_COUNT) {
            atomic_fetch_add(&counts.done, 1);
        } else if (why == PROF_SKIP_already_rewritten) {
            atomic_fetch_add(&counts.reused, 1); /* the JIT path's body: the runtime keeps it */
            why = PROF_SKIP_COUNT;
        }
        prof_modules_view_end(&view);
    }
    if (why != PROF_SKIP_COUNT) {
        prof_report_skip(why);
        atomic_fetch_add(&counts.kept, 1);
    }
    ((ICorProfilerFunctionControl *)fc)->lpVtbl->Release(fc);
    return CLR_S_OK; /* without a body the runtime compiles the method's IL as it is */
}

void prof_rejit_error(ModuleID mod, mdMethodDef tok, HRESULT hr)
{
    (void)mod;
    (void)tok;
    atomic_fetch_add(&counts.failed, 1);
    atomic_fetch_add(&counts.failed_error, 1);
    note_error(hr, 1);
}

void prof_rejit_compiled(HRESULT hr)
{
    atomic_fetch_add(CLR_FAILED(hr) ? &counts.compile_failed : &counts.compiled, 1);
}

void prof_rejit_count_jit_path(void)
{
    atomic_fetch_add(&counts.jit_path, 1);
}

/* ----------------------------------------------------- the body's buffer */
typedef struct body_buffer {
    size_t cap;
    uint8_t bytes[];
} body_buffer_t;

static void buffer_key_make(void)
{
    buffer_key_ok = prof_os_tls_create(&buffer_key, free) == 0;
}

uint8_t *prof_rejit_buffer(size_t size)
{
    prof_os_once(&buffer_once, buffer_key_make);
    if (!buffer_key_ok || size > SIZE_MAX - sizeof(body_buffer_t))
        return NULL;
    body_buffer_t *b = prof_os_tls_get(buffer_key);
    if (b && b->cap >= size)
        return b->bytes;
    size_t cap = size < 4096 ? 4096 : size;
    body_buffer_t *fresh = malloc(sizeof *fresh + cap);
    if (!fresh)
        return NULL;
    fresh->cap = cap;
    if (prof_os_tls_set(buffer_key, fresh) != 0) {
        free(fresh);
        return NULL;
    }
    free(b);
    return fresh->bytes;
}

/* ---------------------------------------------------------------- report */
static const char *hr_name(HRESULT hr)
{
    switch ((uint32_t)hr) {
    case 0x80070057u: return "E_INVALIDARG";
    case 0x8007000Eu: return "E_OUTOFMEMORY";
    case 0x80004002u: return "E_NOINTERFACE (no ICorProfilerFunctionControl)";
    default: return "";
    }
}

/* The report's lines: key, counter, note. */
static const struct {
    const char *key;
    atomic_uint_fast64_t *n;
    const char *note;
} rows[] = {
    {"rejit_modules", &counts.modules, NULL},
    {"rejit_modules_collectible", &counts.collectible, "never versioned: the JIT path serves them"},
    {"rejit_requested", &counts.requested, NULL},
    {"rejit_done", &counts.done, "bodies given in GetReJITParameters"},
    {"rejit_reused", &counts.reused, "the JIT path's body kept (rewritten while pending)"},
    {"rejit_kept", &counts.kept, "GetReJITParameters left the IL as it was (skipped.*)"},
    {"rejit_failed", &counts.failed, NULL},
    {"rejit_failed.request", &counts.failed_request, "RequestReJIT itself failed"},
    {"rejit_failed.error", &counts.failed_error, "ReJITError"},
    {"rejit_jit_path", &counts.jit_path, "rewritten at JIT time (module pending or not versionable)"},
    {"rejit_r2r_refused", &counts.refused_r2r, "ReadyToRun code refused while pending"},
    {"rejit_compiled", &counts.compiled, "ReJITCompilationFinished, tier-ups included"},
    {"rejit_compile_failed", &counts.compile_failed, NULL},
};

void prof_rejit_write_summary(FILE *out)
{
    const prof_config_t *cfg = &prof_g.config;
    fprintf(out, "rejit=%d\n", cfg->rejit);
    if (!cfg->rejit)
        return;
    fprintf(out, "rejit_thread=%s\n", started ? "started" : "failed");
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
        fprintf(out, "%s=%" PRIu64 "%s%s\n", rows[i].key, (uint64_t)atomic_load(rows[i].n),
                rows[i].note ? "  # " : "", rows[i].note ? rows[i].note : "");
    prof_os_mutex_lock(&queue_lock);
    for (int i = 0; i < ERRORS_MAX && errors[i].n; i++)
        fprintf(out, "rejit_error=0x%08x count=%" PRIu64 " %s\n", (unsigned)errors[i].hr,
                errors[i].n, hr_name(errors[i].hr));
    if (errors_other)
        fprintf(out, "rejit_error=other count=%" PRIu64 "\n", errors_other);
    prof_os_mutex_unlock(&queue_lock);
}
