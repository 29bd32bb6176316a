/* The profiler's module life cycle under concurrent callbacks, against a fake
 * ICorProfilerInfo5: the first JITs of a fresh module on 8 threads at once
 * (with its ModuleLoadFinished among them), an unload racing late JITs, and a
 * ModuleID reused for a new module at another base. Each installed body must
 * stay readable and inside its module's window, each module must get exactly
 * one heap, and only the unload may release it. Run under ASan and TSan too. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ilheap/com.h"
#include "prof_test_util.h"
#include "profiler.h"
#include "support.h"
#include "test.h"

#define THREADS 8
#define METHODS_PER_THREAD 64
#define IMAGE_SIZE ((size_t)64 * 1024)

/* ------------------------------------------------------------ the fake runtime */
typedef struct fake_module {
    _Atomic(uint8_t *) base; /* NULL: not loaded (GetModuleInfo2 fails) */
} fake_module_t;

#define FAKE_MODULES 4
static fake_module_t modules[FAKE_MODULES];
static atomic_uint info_refs;
static atomic_uint bodies_set, bodies_outside, bodies_unknown_module;

static ModuleID module_id(unsigned index) { return (ModuleID)(0x10000u * (index + 1)); }

static int module_index(ModuleID id)
{
    for (unsigned i = 0; i < FAKE_MODULES; i++)
        if (module_id(i) == id)
            return (int)i;
    return -1;
}

/* FunctionID: module index in the high bits, method number below. */
static FunctionID function_id(unsigned module, unsigned method)
{
    return ((FunctionID)(module + 1) << 24) | (method + 1);
}

#define PI_ ICorProfilerInfo5 *self
static HRESULT CLR_CALL fi_QueryInterface(PI_, const GUID *riid, void **ppv)
{
    (void)riid;
    atomic_fetch_add(&info_refs, 1);
    *ppv = self;
    return CLR_S_OK;
}
static ULONG CLR_CALL fi_AddRef(PI_)
{
    (void)self;
    return atomic_fetch_add(&info_refs, 1) + 1;
}
static ULONG CLR_CALL fi_Release(PI_)
{
    (void)self;
    return atomic_fetch_sub(&info_refs, 1) - 1;
}
static HRESULT CLR_CALL fi_GetFunctionInfo(PI_, FunctionID id, ClassID *cls, ModuleID *mod, mdToken *tok)
{
    (void)self;
    *cls = 0;
    *mod = module_id((unsigned)(id >> 24) - 1);
    *tok = 0x06000000u | (mdToken)(id & 0xFFFFFF);
    return CLR_S_OK;
}
static HRESULT CLR_CALL fi_SetEventMask(PI_, DWORD events)
{
    (void)self;
    (void)events;
    return CLR_S_OK;
}
static HRESULT CLR_CALL fi_GetModuleInfo2(PI_, ModuleID m, LPCBYTE *base, ULONG cch, ULONG *pcch,
                                          WCHAR name[], AssemblyID *asm_id, DWORD *flags)
{
    (void)self;
    int i = module_index(m);
    uint8_t *b = i >= 0 ? atomic_load(&modules[i].base) : NULL;
    if (!b)
        return CLR_E_FAIL;
    *base = b;
    if (cch > 0)
        name[0] = 'm';
    if (cch > 1)
        name[1] = 0;
    *pcch = 2;
    *asm_id = 1;
    *flags = 0;
    return CLR_S_OK;
}
/* A tiny body: ldc.i4.1; ret. */
static const uint8_t tiny_body[] = {(2 << 2) | 2, 0x17, 0x2A};
static HRESULT CLR_CALL fi_GetILFunctionBody(PI_, ModuleID m, mdMethodDef tok, LPCBYTE *header,
                                             ULONG *size)
{
    (void)self;
    (void)m;
    (void)tok;
    *header = tiny_body;
    *size = sizeof tiny_body;
    return CLR_S_OK;
}
static HRESULT CLR_CALL fi_SetILFunctionBody(PI_, ModuleID m, mdMethodDef tok, LPCBYTE header)
{
    (void)self;
    (void)tok;
    int i = module_index(m);
    uint8_t *b = i >= 0 ? atomic_load(&modules[i].base) : NULL;
    if (!b) { /* a late JIT of an unloaded module: the runtime would refuse */
        atomic_fetch_add(&bodies_unknown_module, 1);
        return CLR_E_FAIL;
    }
    /* Read the body: under ASan an unmapped heap is a report, here a crash. */
    volatile uint8_t first = header[0];
    (void)first;
    if (header <= b || (uint64_t)(header - b) + 16 > ILHEAP_DEFAULT_WINDOW)
        atomic_fetch_add(&bodies_outside, 1);
    atomic_fetch_add(&bodies_set, 1);
    return CLR_S_OK;
}
static HRESULT CLR_CALL fi_GetRuntimeInformation(PI_, USHORT *inst, int *type, USHORT *major,
                                                 USHORT *minor, USHORT *build, USHORT *qfe,
                                                 ULONG cch, ULONG *pcch, WCHAR version[])
{
    (void)self;
    (void)inst;
    (void)cch;
    (void)pcch;
    (void)version;
    *type = 2;
    *major = 9;
    *minor = *build = *qfe = 0;
    return CLR_S_OK;
}
#undef PI_

static ICorProfilerInfo5Vtbl fake_vtbl;
static ICorProfilerInfo5 fake_info = {&fake_vtbl};

/* --------------------------------------------------------------- the profiler */
static ICorProfilerCallback11 *profiler;

static void start_profiler(const char *report)
{
    fake_vtbl.QueryInterface = fi_QueryInterface;
    fake_vtbl.AddRef = fi_AddRef;
    fake_vtbl.Release = fi_Release;
    fake_vtbl.GetFunctionInfo = fi_GetFunctionInfo;
    fake_vtbl.SetEventMask = fi_SetEventMask;
    fake_vtbl.GetModuleInfo2 = fi_GetModuleInfo2;
    fake_vtbl.GetILFunctionBody = fi_GetILFunctionBody;
    fake_vtbl.SetILFunctionBody = fi_SetILFunctionBody;
    fake_vtbl.GetRuntimeInformation = fi_GetRuntimeInformation;
    prof_test_setenv("ILHEAP_MODE", "prologue:7");
    prof_test_setenv("ILHEAP_REPORT", report);
    profiler = prof_test_create_callback();
    if (profiler &&
        profiler->lpVtbl->Initialize(profiler, (IUnknown *)(void *)&fake_info) != CLR_S_OK)
        profiler = NULL;
}

static uint8_t *map_image(void)
{
    return support_image_region(IMAGE_SIZE);
}

static uint64_t registry_live_modules(void)
{
    ilheap_registry_stats_t rs;
    if (ilheap_registry_stats(ilheap_registry_global(), &rs) != ILHEAP_OK)
        return UINT64_MAX;
    return rs.live_modules;
}

/* ------------------------------------------------------------------ the drivers */
typedef struct worker {
    pthread_t thread;
    unsigned index, module, first_method;
    int load_too; /* also call ModuleLoadFinished, racing the JITs */
} worker_t;

static pthread_barrier_t barrier;

static void *jit_worker(void *arg)
{
    worker_t *w = arg;
    pthread_barrier_wait(&barrier);
    if (w->load_too)
        profiler->lpVtbl->ModuleLoadFinished(profiler, module_id(w->module), CLR_S_OK);
    for (unsigned i = 0; i < METHODS_PER_THREAD; i++)
        profiler->lpVtbl->JITCompilationStarted(profiler,
                                                function_id(w->module, w->first_method + i), 1);
    return NULL;
}

/* THREADS threads JIT distinct methods of one module, all released at once. */
static void jit_burst(unsigned module, unsigned first_method, int with_load)
{
    worker_t w[THREADS];
    pthread_barrier_init(&barrier, NULL, THREADS);
    for (unsigned t = 0; t < THREADS; t++) {
        w[t] = (worker_t){0, t, module, first_method + t * METHODS_PER_THREAD, with_load && t == 0};
        pthread_create(&w[t].thread, NULL, jit_worker, &w[t]);
    }
    for (unsigned t = 0; t < THREADS; t++)
        pthread_join(w[t].thread, NULL);
    pthread_barrier_destroy(&barrier);
}

static char report_path[256];

static void test_module_life_under_concurrent_callbacks(void)
{
    /* In the working directory (the test's build directory), on both systems. */
    snprintf(report_path, sizeof report_path, "ilheap-modules-test.%lu.txt", prof_os_pid());
    start_profiler(report_path);
    ASSERT_NOT_NULL(profiler);
    prof_counters_t *c = &prof_g.counters;

    /* 1. Fresh modules, first JITs on 8 threads at once (the old table's
     * second insert unloaded the first record's heap under its bodies). */
    for (unsigned round = 0; round < 3; round++) {
        uint8_t *image = map_image();
        ASSERT_NOT_NULL(image);
        atomic_store(&modules[round].base, image);
        uint64_t set_before = atomic_load(&bodies_set);
        jit_burst(round, 0, round == 1);
        ASSERT_EQ_U(atomic_load(&bodies_set) - set_before, THREADS * METHODS_PER_THREAD);
        ASSERT_EQ_U(atomic_load(&c->heaps_created), round + 1);
        ASSERT_EQ_U(atomic_load(&c->heaps_released), 0);
        ASSERT_EQ_U(atomic_load(&c->modules_loaded), round + 1);
        ASSERT_EQ_U(registry_live_modules(), round + 1);
        /* A second JIT of the same methods: already ours. */
        uint64_t again = atomic_load(&c->skipped[PROF_SKIP_already_rewritten]);
        jit_burst(round, 0, 0);
        ASSERT_EQ_U(atomic_load(&c->skipped[PROF_SKIP_already_rewritten]) - again,
                    THREADS * METHODS_PER_THREAD);
        profiler->lpVtbl->ModuleLoadFinished(profiler, module_id(round), CLR_S_OK);
        ASSERT_EQ_U(atomic_load(&c->heaps_created), round + 1);
    }
    ASSERT_EQ_U(atomic_load(&bodies_outside), 0);
    ASSERT_EQ_U(atomic_load(&c->skipped[PROF_SKIP_alloc_failed]), 0);

    /* 2. An unload racing late JITs of module 0: every body that was
     * installed was readable; the heap goes exactly once. */
    uint8_t *old_base = atomic_load(&modules[0].base);
    pthread_barrier_init(&barrier, NULL, THREADS);
    worker_t w[THREADS];
    for (unsigned t = 0; t < THREADS - 1; t++) {
        w[t] = (worker_t){0, t, 0, 10000 + t * METHODS_PER_THREAD, 0};
        pthread_create(&w[t].thread, NULL, jit_worker, &w[t]);
    }
    pthread_barrier_wait(&barrier);
    atomic_store(&modules[0].base, NULL);
    profiler->lpVtbl->ModuleUnloadFinished(profiler, module_id(0), CLR_S_OK);
    for (unsigned t = 0; t < THREADS - 1; t++)
        pthread_join(w[t].thread, NULL);
    pthread_barrier_destroy(&barrier);
    ASSERT_EQ_U(atomic_load(&c->heaps_released), 1);
    ASSERT_EQ_U(atomic_load(&c->modules_unloaded), 1);
    ASSERT_EQ_U(registry_live_modules(), 2);
    ASSERT_EQ_U(atomic_load(&bodies_outside), 0);

    /* 3. The ID comes back as a new module at another base: a new heap,
     * bodies relative to the new base, the old methods' tokens free again. */
    uint8_t *new_base = map_image();
    ASSERT_NOT_NULL(new_base);
    ASSERT_NE_P(new_base, old_base);
    support_image_region_free(old_base, IMAGE_SIZE);
    atomic_store(&modules[0].base, new_base);
    uint64_t set_before = atomic_load(&bodies_set);
    jit_burst(0, 0, 1);
    ASSERT_EQ_U(atomic_load(&bodies_set) - set_before, THREADS * METHODS_PER_THREAD);
    ASSERT_EQ_U(atomic_load(&c->heaps_created), 4);
    ASSERT_EQ_U(atomic_load(&c->heaps_released), 1);
    ASSERT_EQ_U(registry_live_modules(), 3);
    ASSERT_EQ_U(atomic_load(&bodies_outside), 0);

    /* The report is written to its file, nothing to stderr. */
    profiler->lpVtbl->Shutdown(profiler);
    FILE *f = fopen(report_path, "r");
    ASSERT_NOT_NULL(f);
    char line[512];
    int violations_zero = 0, rewritten = 0;
    while (fgets(line, sizeof line, f)) {
        violations_zero |= strcmp(line, "window_violations=0\n") == 0;
        rewritten |= strncmp(line, "rewritten=", 10) == 0 && atoi(line + 10) >= 4 * THREADS * METHODS_PER_THREAD;
    }
    fclose(f);
    remove(report_path);
    ASSERT_TRUE(violations_zero);
    ASSERT_TRUE(rewritten);

    for (unsigned i = 0; i < FAKE_MODULES; i++) {
        profiler->lpVtbl->ModuleUnloadFinished(profiler, module_id(i), CLR_S_OK);
        uint8_t *b = atomic_exchange(&modules[i].base, NULL);
        if (b)
            support_image_region_free(b, IMAGE_SIZE);
    }
    ASSERT_EQ_U(registry_live_modules(), 0);
    profiler->lpVtbl->Release(profiler);
}

TEST_MAIN(TEST(test_module_life_under_concurrent_callbacks))
