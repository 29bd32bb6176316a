/* The module table: ModuleID -> what the JIT path needs.
 *
 * Written at ModuleLoadFinished and ModuleUnloadFinished (the runtime reuses
 * ModuleIDs, so an ID seen again after its unload is a new module), read by
 * every JITCompilationStarted under a shared lock. Each record also keeps the
 * set of method tokens whose body is already ours: SetILFunctionBody replaces
 * a method's IL for the module's lifetime, so a second JIT of the same token
 * (tier-up, another generic instantiation, a class-constructor restart) must
 * not rewrite it again. Each claim also keeps when its body was set (a stamp
 * of the rewrite sequence), which tells the inliner's check whether a JIT
 * started after the body was in place.
 */
#include "profiler.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ilheap/com.h"
#include "ilheap/pe.h" /* ilheap_pe_utf16_to_utf8 */
#include "os.h"

#define BUCKET_BITS 10u
#define BUCKETS (1u << BUCKET_BITS)

/* A claimed method: set_at is the rewrite sequence's value once the new body
 * is in place (prof_modules_body_set), 0 while it is not (or never will be). */
typedef struct prof_claim {
    mdMethodDef token;
    uint64_t set_at;
} prof_claim_t;

typedef struct prof_module {
    ModuleID id;
    const uint8_t *base;
    size_t image_size;
    DWORD flags;
    IMethodMalloc *malloc; /* one reference, or NULL */
    atomic_uint refs;      /* the table's (until unload) and each view's */
    atomic_int stale;      /* the ID was reported at another base: left alone */
    prof_module_stats_t stats;
    char name[96];         /* file name, for the report */
    char *path;            /* the runtime's name of the module (full path), or NULL */
    int in_scope;          /* ILHEAP_INCLUDE / ILHEAP_EXCLUDE let it be rewritten */
    int is_corelib;
    int ilheap_heap;       /* the registry holds a heap for this module */
    prof_os_mutex_t lock;  /* guards the token set, counts and callees */
    prof_counts_t *counts; /* calls, blocks: created at the first probe */
    int counts_failed;
    mdToken callees[PROF_REF_COUNT]; /* the probes' callees' tokens here (0: none) */
    int callees_tried[PROF_REF_COUNT];
    IMethodMalloc *fallback; /* ILHEAP_FALLBACK: the runtime's allocator, one reference */
    int fallback_tried;
    prof_claim_t *tokens;  /* open addressing; token 0 = empty (0 is never a MethodDef) */
    size_t ntokens, cap;
    struct prof_module *next;
} prof_module_t;

static prof_os_rwlock_t table_lock = PROF_OS_RWLOCK_INIT;
static prof_module_t *table[BUCKETS];
static prof_os_mutex_t log_lock = PROF_OS_MUTEX_INIT;
static FILE *module_log;

static prof_module_t *find_locked(ModuleID id)
{
    for (prof_module_t *m = table[prof_id_bucket(id, BUCKET_BITS)]; m; m = m->next)
        if (m->id == id)
            return m;
    return NULL;
}

void prof_modules_init(void)
{
    /* ILHEAP_WINDOW applies to the heaps as well as to the check. */
    if (prof_g.config.window != ILHEAP_DEFAULT_WINDOW) {
        ilheap_heap_options_t options;
        ilheap_heap_options_init(&options);
        options.window = prof_g.config.window;
        if (ilheap_registry_set_heap_options(ilheap_registry_global(), &options) != ILHEAP_OK)
            prof_diag("window %#llx refused: %s", (unsigned long long)prof_g.config.window,
                      ilheap_last_message());
    }
    if (prof_g.config.module_log_path[0]) {
        module_log = prof_os_open_output(prof_g.config.module_log_path);
        if (!module_log)
            prof_diag("cannot open ILHEAP_MODULE_LOG %s", prof_g.config.module_log_path);
    }
}

static void log_module(ModuleID id, const uint8_t *base, DWORD flags, size_t size,
                       const prof_image_facts_t *pe, const char *name)
{
    prof_image_facts_t f = *pe;
    prof_image_read_maps(base, size, &f);
    uint64_t b = (uint64_t)(uintptr_t)base;
    prof_os_mutex_lock(&log_lock);
    fprintf(module_log,
            "module id=%#" PRIxPTR " base=%#" PRIx64 " flags=%#x layout=%s size_of_image=%#x "
            "file_extent=%#" PRIx64 " registered_size=%#zx gap_above=%#" PRIx64
            " first_gap=%#" PRIx64 " first_gap_off=%#" PRIx64 " first_gap_size=%#" PRIx64
            " free_2g=%#" PRIx64 " free_4g=%#" PRIx64 " name=%s\n",
            id, b, (unsigned)flags, (flags & COR_PRF_MODULE_FLAT_LAYOUT) ? "flat" : "mapped",
            f.size_of_image, f.file_extent, size, f.gap_above, f.first_gap,
            f.first_gap ? f.first_gap - b : 0, f.first_gap_size, f.free_2g, f.free_4g, name);
    fflush(module_log);
    prof_os_mutex_unlock(&log_lock);
}

/* Gets the allocator the configuration asks for; NULL when unavailable. The
 * registry's get-or-create is idempotent: a second call for the same module
 * hands out the same object, never a second heap. */
static IMethodMalloc *make_allocator(ModuleID id, const uint8_t *base, size_t size,
                                     int *ilheap_heap)
{
    IMethodMalloc *m = NULL;
    *ilheap_heap = 0;
    if (prof_g.config.allocator == PROF_ALLOC_CLR) {
        HRESULT hr = prof_g.info->lpVtbl->GetILFunctionBodyAllocator(prof_g.info, id, &m);
        return CLR_FAILED(hr) ? NULL : m;
    }
    HRESULT hr = ilheap_GetILFunctionBodyAllocator((uintptr_t)id, base, size, &m);
    if (CLR_FAILED(hr) || !m)
        return NULL;
    *ilheap_heap = 1;
    return m;
}

/* The live-heap counters of the report (peak included). */
static void count_live_heap(int delta, int collectible)
{
    prof_counters_t *c = &prof_g.counters;
    if (collectible) {
        if (delta > 0)
            atomic_fetch_add(&c->live_heaps_collectible, 1);
        else
            atomic_fetch_sub(&c->live_heaps_collectible, 1);
    }
    if (delta > 0) {
        uint64_t now = atomic_fetch_add(&c->live_heaps, 1) + 1;
        uint64_t peak = atomic_load(&c->live_heaps_peak);
        while (now > peak && !atomic_compare_exchange_weak(&c->live_heaps_peak, &peak, now)) {
        }
    } else {
        atomic_fetch_sub(&c->live_heaps, 1);
    }
}

/* Frees a record once nobody holds it: the table's reference went at
 * unload, each view's when its JIT ended. */
static void record_release(prof_module_t *m)
{
    if (atomic_fetch_sub(&m->refs, 1) != 1)
        return;
    if (m->malloc)
        m->malloc->lpVtbl->Release(m->malloc);
    if (m->fallback)
        m->fallback->lpVtbl->Release(m->fallback);
    prof_counts_destroy(m->counts); /* after ModuleUnloadFinished: no probe runs any more */
    prof_os_mutex_destroy(&m->lock);
    free(m->tokens);
    free(m->path);
    free(m);
}

/* 1 when a and b are equal but for ASCII case. */
static int ascii_case_equal(const char *a, const char *b)
{
    for (; *a && *b; a++, b++) {
        char x = *a >= 'A' && *a <= 'Z' ? (char)(*a + 32) : *a;
        char y = *b >= 'A' && *b <= 'Z' ? (char)(*b + 32) : *b;
        if (x != y)
            return 0;
    }
    return *a == *b;
}

/* The module's names from the runtime's (its full path): the file name for
 * the report, and the assembly name the patterns see, the file name
 * without ".dll"/".exe". */
static void record_name(prof_module_t *m, const char *path)
{
    snprintf(m->name, sizeof m->name, "%.95s", prof_os_file_name(path));
    m->path = strdup(path);
    char stem[96];
    snprintf(stem, sizeof stem, "%s", m->name);
    char *dot = strrchr(stem, '.');
    if (dot && (ascii_case_equal(dot, ".dll") || ascii_case_equal(dot, ".exe")))
        *dot = '\0';
    m->in_scope = prof_config_in_scope(&prof_g.config, stem);
    m->is_corelib = strcmp(stem, "System.Private.CoreLib") == 0;
}

/* A record built outside the table (GetModuleInfo2, the PE header, the
 * allocator); NULL when the runtime does not know the module (yet, or any
 * more). */
static prof_module_t *record_build(ModuleID id, prof_image_facts_t *facts, char *name,
                                   size_t name_cap)
{
    LPCBYTE base = NULL;
    WCHAR wname[512];
    ULONG cch = 0;
    AssemblyID asm_id = 0;
    DWORD flags = 0;
    HRESULT hr = prof_g.info->lpVtbl->GetModuleInfo2(prof_g.info, id, &base, 512, &cch, wname,
                                                     &asm_id, &flags);
    if (CLR_FAILED(hr))
        return NULL; /* a JIT in it will count unknown_module */
    prof_module_t *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    m->id = id;
    m->base = base;
    m->flags = flags;
    atomic_init(&m->refs, 1); /* the table's */
    prof_os_mutex_init(&m->lock);
    ilheap_pe_utf16_to_utf8(wname, cch > 512 ? 512 : cch, name, name_cap);
    record_name(m, name);
    if (base) {
        prof_image_read_pe(base, facts);
        if (facts->pe_ok)
            m->image_size = (flags & COR_PRF_MODULE_FLAT_LAYOUT) ? (size_t)facts->file_extent
                                                                 : (size_t)facts->size_of_image;
        if ((prof_g.config.mode != PROF_MODE_OFF || prof_g.config.has_replace) && m->in_scope)
            m->malloc = make_allocator(id, base, m->image_size, &m->ilheap_heap);
    }
    return m;
}

/* Get-or-create: the record of module id, with one reference for the caller
 * (NULL if the runtime does not know it). Idempotent and safe from any number
 * of threads: ModuleLoadFinished and the first JITs of a module may all get
 * here at once; one record wins, the others are dropped without touching the
 * heap (the registry handed them the same allocator). Nothing here destroys a
 * heap: only ModuleUnloadFinished does. */
static prof_module_t *record_get(ModuleID id)
{
    prof_os_read_lock(&table_lock);
    prof_module_t *m = find_locked(id);
    if (m)
        atomic_fetch_add(&m->refs, 1);
    prof_os_read_unlock(&table_lock);
    if (m)
        return m;

    prof_image_facts_t facts = {0};
    char name[1024];
    prof_module_t *fresh = record_build(id, &facts, name, sizeof name);
    if (!fresh)
        return NULL;
    prof_os_write_lock(&table_lock);
    m = find_locked(id);
    if (!m) {
        size_t b = prof_id_bucket(id, BUCKET_BITS);
        fresh->next = table[b];
        table[b] = fresh;
        m = fresh;
        fresh = NULL;
    }
    atomic_fetch_add(&m->refs, 1);
    prof_os_write_unlock(&table_lock);
    if (fresh) { /* another thread's record won */
        if (fresh->base != m->base)
            prof_diag("module %#" PRIxPTR " reported at %p, recorded at %p: its unload was never "
                      "seen; its methods are left alone", (uintptr_t)id, (const void *)fresh->base,
                      (const void *)m->base);
        atomic_store(&m->stale, fresh->base != m->base);
        record_release(fresh);
        return m;
    }
    atomic_fetch_add(&prof_g.counters.modules_loaded, 1);
    if (m->flags & COR_PRF_MODULE_FLAT_LAYOUT)
        atomic_fetch_add(&prof_g.counters.modules_flat, 1);
    if (m->flags & COR_PRF_MODULE_COLLECTIBLE)
        atomic_fetch_add(&prof_g.counters.modules_collectible, 1);
    if (m->ilheap_heap) {
        atomic_fetch_add(&prof_g.counters.heaps_created, 1);
        count_live_heap(+1, (m->flags & COR_PRF_MODULE_COLLECTIBLE) != 0);
    }
    if (module_log)
        log_module(id, m->base, m->flags, m->image_size, &facts, name);
    return m;
}

void prof_modules_loaded(ModuleID id)
{
    prof_module_t *m = record_get(id);
    if (m)
        record_release(m);
}

void prof_modules_unloaded(ModuleID id)
{
    prof_os_write_lock(&table_lock);
    prof_module_t **pp = &table[prof_id_bucket(id, BUCKET_BITS)], *m = NULL;
    for (; *pp; pp = &(*pp)->next) {
        if ((*pp)->id == id) {
            m = *pp;
            *pp = m->next;
            break;
        }
    }
    prof_os_write_unlock(&table_lock);
    if (!m)
        return;
    atomic_fetch_add(&prof_g.counters.modules_unloaded, 1);
    if (m->flags & COR_PRF_MODULE_COLLECTIBLE)
        atomic_fetch_add(&prof_g.counters.collectible_unloaded, 1);
    if (atomic_load(&m->stats.allocs_ok))
        atomic_fetch_add(&prof_g.counters.modules_served, 1);
    if (atomic_load(&m->stats.allocs_failed))
        atomic_fetch_add(&prof_g.counters.modules_failing, 1);
    /* JITs still inside the module (a view each) write into its heap: let
     * them finish first. No new view can find the record any more. */
    while (atomic_load(&m->refs) > 1)
        prof_os_pause();
    if (m->ilheap_heap) {
        /* The heap's memory goes now: the module's code is gone. */
        if (ilheap_ModuleUnloaded((uintptr_t)id) == CLR_S_OK)
            atomic_fetch_add(&prof_g.counters.heaps_released, 1);
        count_live_heap(-1, (m->flags & COR_PRF_MODULE_COLLECTIBLE) != 0);
    }
    record_release(m); /* the table's reference */
}

int prof_modules_view(ModuleID id, prof_module_view_t *view, prof_skip_t *why)
{
    prof_module_t *m = record_get(id);
    if (!m) {
        *why = PROF_SKIP_unknown_module;
        return -1;
    }
    if (!m->in_scope) {
        *why = PROF_SKIP_out_of_scope;
        record_release(m);
        return -1;
    }
    view->module = m;
    view->base = m->base;
    view->image_size = m->image_size;
    view->flags = m->flags;
    view->stats = &m->stats;
    view->malloc = m->base && !atomic_load(&m->stale) ? m->malloc : NULL;
    if (view->malloc) {
        view->malloc->lpVtbl->AddRef(view->malloc);
        return 0;
    }
    *why = m->base ? PROF_SKIP_no_allocator : PROF_SKIP_dynamic_module;
    record_release(m);
    view->module = NULL;
    return -1;
}

void prof_modules_view_end(prof_module_view_t *view)
{
    if (view->malloc)
        view->malloc->lpVtbl->Release(view->malloc);
    if (view->module)
        record_release(view->module);
    view->malloc = NULL;
    view->module = NULL;
}

int prof_modules_instrumented(ModuleID id, int *is_corelib)
{
    *is_corelib = 0;
    if (!prof_mode_counts(prof_g.config.mode))
        return 0;
    prof_module_t *m = record_get(id);
    if (!m)
        return 0;
    int in = m->in_scope && m->base != NULL;
    *is_corelib = m->is_corelib;
    record_release(m);
    return in;
}

int prof_modules_is_corelib(const prof_module_view_t *view)
{
    return view->module && view->module->is_corelib;
}

prof_counts_t *prof_modules_counts(const prof_module_view_t *view, ModuleID id)
{
    prof_module_t *m = view->module;
    if (!m)
        return NULL;
    prof_os_mutex_lock(&m->lock);
    if (!m->counts && !m->counts_failed) {
        GUID mvid, *have = NULL;
        IUnknown *unk = NULL;
        if (!CLR_FAILED(prof_g.info->lpVtbl->GetModuleMetaData(prof_g.info, id, CLR_OF_READ,
                                                               &clr_IID_IMetaDataImport, &unk)) &&
            unk) {
            IMetaDataImport *md = (IMetaDataImport *)unk;
            if (!CLR_FAILED(md->lpVtbl->GetScopeProps(md, NULL, 0, NULL, &mvid)))
                have = &mvid;
            md->lpVtbl->Release(md);
        }
        m->counts = prof_counts_create(m->name, m->path ? m->path : m->name, have);
        m->counts_failed = m->counts == NULL;
    }
    prof_counts_t *k = m->counts;
    prof_os_mutex_unlock(&m->lock);
    return k;
}

mdToken prof_modules_ref(const prof_module_view_t *view, ModuleID id, prof_ref_t which)
{
    prof_module_t *m = view->module;
    if (!m || which >= PROF_REF_COUNT)
        return 0;
    prof_os_mutex_lock(&m->lock);
    if (!m->callees_tried[which]) {
        m->callees[which] = prof_emit_ref(id, m->is_corelib, which);
        m->callees_tried[which] = 1;
    }
    mdToken t = m->callees[which];
    prof_os_mutex_unlock(&m->lock);
    return t;
}

IMethodMalloc *prof_modules_fallback(const prof_module_view_t *view, ModuleID id)
{
    prof_module_t *m = view->module;
    if (!m)
        return NULL;
    prof_os_mutex_lock(&m->lock);
    if (!m->fallback_tried) {
        m->fallback_tried = 1;
        if (CLR_FAILED(prof_g.info->lpVtbl->GetILFunctionBodyAllocator(prof_g.info, id,
                                                                       &m->fallback)))
            m->fallback = NULL;
    }
    IMethodMalloc *f = m->fallback;
    prof_os_mutex_unlock(&m->lock);
    return f;
}

/* The slot of token in m's set (m->lock held), or NULL. */
static prof_claim_t *set_find(prof_module_t *m, mdMethodDef token)
{
    for (size_t j = m->cap ? (token * 2654435761u) & (m->cap - 1) : 0; m->cap && m->tokens[j].token;
         j = (j + 1) & (m->cap - 1))
        if (m->tokens[j].token == token)
            return &m->tokens[j];
    return NULL;
}

static int set_insert(prof_module_t *m, prof_claim_t claim)
{
    if (m->ntokens * 2 >= m->cap) { /* keep the load under one half */
        size_t cap = m->cap ? m->cap * 2 : 64;
        prof_claim_t *t = calloc(cap, sizeof *t);
        if (!t)
            return -1;
        for (size_t i = 0; i < m->cap; i++) {
            if (!m->tokens[i].token)
                continue;
            size_t j = (m->tokens[i].token * 2654435761u) & (cap - 1);
            while (t[j].token)
                j = (j + 1) & (cap - 1);
            t[j] = m->tokens[i];
        }
        free(m->tokens);
        m->tokens = t;
        m->cap = cap;
    }
    size_t j = (claim.token * 2654435761u) & (m->cap - 1);
    while (m->tokens[j].token) {
        if (m->tokens[j].token == claim.token)
            return 0;
        j = (j + 1) & (m->cap - 1);
    }
    m->tokens[j] = claim;
    m->ntokens++;
    return 1;
}

int prof_modules_claim(const prof_module_view_t *view, mdMethodDef token)
{
    prof_module_t *m = view->module;
    if (token == 0 || !m)
        return 0;
    prof_os_mutex_lock(&m->lock);
    int claimed = set_insert(m, (prof_claim_t){token, 0}) == 1;
    prof_os_mutex_unlock(&m->lock);
    return claimed;
}

int prof_modules_claimed(const prof_module_view_t *view, mdMethodDef token)
{
    prof_module_t *m = view->module;
    if (token == 0 || !m)
        return 0;
    prof_os_mutex_lock(&m->lock);
    int found = set_find(m, token) != NULL;
    prof_os_mutex_unlock(&m->lock);
    return found;
}

void prof_modules_body_set(const prof_module_view_t *view, mdMethodDef token)
{
    prof_module_t *m = view->module;
    if (token == 0 || !m)
        return;
    prof_os_mutex_lock(&m->lock);
    prof_claim_t *c = set_find(m, token);
    if (c)
        c->set_at = atomic_fetch_add(&prof_g.rewrite_seq, 1) + 1;
    prof_os_mutex_unlock(&m->lock);
}

int prof_modules_body_set_before(const prof_module_view_t *view, mdMethodDef token,
                                 uint64_t seq)
{
    prof_module_t *m = view->module;
    if (token == 0 || !m)
        return 0;
    prof_os_mutex_lock(&m->lock);
    prof_claim_t *c = set_find(m, token);
    int before = c && c->set_at != 0 && c->set_at <= seq;
    prof_os_mutex_unlock(&m->lock);
    return before;
}

void prof_modules_unclaim(const prof_module_view_t *view, mdMethodDef token)
{
    prof_module_t *m = view->module;
    if (m) {
        prof_os_mutex_lock(&m->lock);
        if (m->cap == 0) {
            prof_os_mutex_unlock(&m->lock);
            return;
        }
        /* Rebuild without the token: removal from linear probing needs the
         * cluster re-inserted, and failures are rare. */
        prof_claim_t *old = m->tokens;
        size_t cap = m->cap;
        m->tokens = calloc(cap, sizeof *old);
        if (m->tokens) {
            m->ntokens = 0;
            for (size_t i = 0; i < cap; i++)
                if (old[i].token && old[i].token != token)
                    set_insert(m, old[i]);
            free(old);
        } else {
            m->tokens = old; /* keep the claim: the method just stays as it is */
        }
        prof_os_mutex_unlock(&m->lock);
    }
}

void prof_modules_write_summary(FILE *out)
{
    uint64_t served = atomic_load(&prof_g.counters.modules_served);
    uint64_t failing = atomic_load(&prof_g.counters.modules_failing);
    prof_os_read_lock(&table_lock);
    for (size_t b = 0; b < BUCKETS; b++) {
        for (prof_module_t *m = table[b]; m; m = m->next) {
            uint64_t ok = atomic_load(&m->stats.allocs_ok);
            uint64_t failed = atomic_load(&m->stats.allocs_failed);
            served += ok != 0;
            failing += failed != 0;
            if (failed)
                fprintf(out, "module_alloc_failed=%s base=%p flags=%#x placed=%" PRIu64
                        " failed=%" PRIu64 " last=%s\n",
                        m->name, (const void *)m->base, (unsigned)m->flags, ok, failed,
                        ilheap_status_name(atomic_load(&m->stats.last_failure)));
        }
    }
    prof_os_read_unlock(&table_lock);
    fprintf(out, "modules_served=%" PRIu64 "\n", served);
    fprintf(out, "modules_failing=%" PRIu64 "\n", failing);
    ilheap_registry_stats_t rs;
    if (ilheap_registry_stats(ilheap_registry_global(), &rs) == ILHEAP_OK) {
        /* The heaps still alive (unloaded modules gave theirs back). */
        fprintf(out, "registry_live_heaps=%" PRIu64 "\n", rs.live_heaps);
        fprintf(out, "registry_heaps_created=%" PRIu64 "\n", rs.heaps_created);
        fprintf(out, "live_bytes_requested=%" PRIu64 "\n", rs.bytes_requested);
        fprintf(out, "live_bytes_used=%" PRIu64 "\n", rs.bytes_used);
        fprintf(out, "address_reserved=%" PRIu64 "\n", rs.bytes_reserved);
        fprintf(out, "memory_committed=%" PRIu64 "\n", rs.bytes_committed);
    }
}
