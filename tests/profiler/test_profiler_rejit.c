/* ILHEAP_REJIT=1 against a fake runtime: modules seen first from 8 threads at
 * once (load events and ReadyToRun lookups racing) are requested once each,
 * from the profiler's own thread, with their IL methods only; ReadyToRun
 * code is refused while a module is pending and allowed once it is
 * requested; a collectible module is never requested and a failed request
 * leaves the module to the JIT path; GetReJITParameters hands the rewritten
 * body to the function control, or none for a method the JIT path rewrote
 * first; an unloaded ModuleID seen again is requested again; the report's
 * rejit_* lines. Run under ASan and TSan too. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "prof_test_util.h"
#include "profiler.h"
#include "support.h"
#include "test.h"

#define THREADS 8
#define MODULES 4
#define METHODS 20           /* MethodDef rows 1..20; row 5 has no IL */
#define IMAGE_SIZE ((size_t)64 * 1024)
#define COLLECTIBLE 2        /* module 2 is collectible */
#define FAILING 3            /* RequestReJIT fails for module 3 */

static uint8_t *bases[MODULES];
static atomic_uint requests[MODULES], requested_methods[MODULES], request_calls;
static atomic_uint jit_bodies;

static ModuleID module_id(unsigned i) { return (ModuleID)(0x10000u * (i + 1)); }
static int module_index(ModuleID id)
{
    for (unsigned i = 0; i < MODULES; i++)
        if (module_id(i) == id)
            return (int)i;
    return -1;
}
static FunctionID function_id(unsigned module, unsigned row) { return ((FunctionID)(module + 1) << 24) | row; }

/* ------------------------------------------------------- the fake metadata */
#define MI_ IMetaDataImport *self
static HRESULT CLR_CALL md_QueryInterface(MI_, const GUID *riid, void **ppv)
{
    (void)riid;
    *ppv = self;
    return CLR_S_OK;
}
static ULONG CLR_CALL md_AddRef(MI_) { (void)self; return 1; }
static ULONG CLR_CALL md_Release(MI_) { (void)self; return 1; }
static BOOL CLR_CALL md_IsValidToken(MI_, mdToken tk)
{
    (void)self;
    return (tk >> 24) == 0x06 && (tk & 0xFFFFFF) >= 1 && (tk & 0xFFFFFF) <= METHODS;
}
static HRESULT CLR_CALL md_GetMethodProps(MI_, mdMethodDef mb, mdTypeDef *cls, WCHAR name[], ULONG cch,
                                          ULONG *pcch, DWORD *attr, const BYTE **sig, ULONG *cb_sig,
                                          ULONG *rva, DWORD *impl)
{
    (void)self, (void)name, (void)cch, (void)attr, (void)sig, (void)cb_sig;
    if (cls)
        *cls = 0x02000002;
    if (pcch)
        *pcch = 0;
    if (rva)
        *rva = (mb & 0xFFFFFF) == 5 ? 0 : 0x2050; /* row 5: abstract */
    if (impl)
        *impl = 0;
    return CLR_S_OK;
}
#undef MI_
static IMetaDataImportVtbl md_vtbl;
static IMetaDataImport fake_md = {&md_vtbl};

/* -------------------------------------------------------- the fake runtime */
#define PI_ ICorProfilerInfo5 *self
static HRESULT CLR_CALL fi_QueryInterface(PI_, const GUID *riid, void **ppv)
{
    (void)riid;
    *ppv = self;
    return CLR_S_OK;
}
static ULONG CLR_CALL fi_AddRef(PI_) { (void)self; return 1; }
static ULONG CLR_CALL fi_Release(PI_) { (void)self; return 1; }
static HRESULT CLR_CALL fi_GetFunctionInfo(PI_, FunctionID id, ClassID *cls, ModuleID *mod, mdToken *tok)
{
    (void)self;
    *cls = 0;
    *mod = module_id((unsigned)(id >> 24) - 1);
    *tok = 0x06000000u | (mdToken)(id & 0xFFFFFF);
    return CLR_S_OK;
}
static HRESULT CLR_CALL fi_SetEventMask(PI_, DWORD events) { (void)self, (void)events; return CLR_S_OK; }
static HRESULT CLR_CALL fi_GetModuleInfo2(PI_, ModuleID m, LPCBYTE *base, ULONG cch, ULONG *pcch, WCHAR name[],
                                          AssemblyID *asm_id, DWORD *flags)
{
    (void)self;
    int i = module_index(m);
    if (i < 0 || cch < 2)
        return CLR_E_FAIL;
    *base = bases[i];
    name[0] = 'm';
    name[1] = 0;
    *pcch = 2;
    *asm_id = 1;
    *flags = i == COLLECTIBLE ? COR_PRF_MODULE_COLLECTIBLE : 0;
    return CLR_S_OK;
}
static HRESULT CLR_CALL fi_GetModuleMetaData(PI_, ModuleID id, DWORD open, const GUID *riid, IUnknown **out)
{
    (void)self, (void)id, (void)open, (void)riid;
    *out = (IUnknown *)(void *)&fake_md;
    return CLR_S_OK;
}
static const uint8_t tiny_body[] = {(2 << 2) | 2, 0x17, 0x2A}; /* ldc.i4.1; ret */
static HRESULT CLR_CALL fi_GetILFunctionBody(PI_, ModuleID m, mdMethodDef tok, LPCBYTE *header, ULONG *size)
{
    (void)self, (void)m, (void)tok;
    *header = tiny_body;
    *size = sizeof tiny_body;
    return CLR_S_OK;
}
static HRESULT CLR_CALL fi_SetILFunctionBody(PI_, ModuleID m, mdMethodDef tok, LPCBYTE header)
{
    (void)self, (void)m, (void)tok, (void)header;
    atomic_fetch_add(&jit_bodies, 1);
    return CLR_S_OK;
}
static HRESULT CLR_CALL fi_GetRuntimeInformation(PI_, USHORT *inst, int *type, USHORT *major, USHORT *minor,
                                                 USHORT *build, USHORT *qfe, ULONG cch, ULONG *pcch, WCHAR v[])
{
    (void)self, (void)inst, (void)cch, (void)pcch, (void)v;
    *type = 2;
    *major = 10;
    *minor = *build = *qfe = 0;
    return CLR_S_OK;
}
static HRESULT CLR_CALL fi_InitializeCurrentThread(PI_) { (void)self; return CLR_S_OK; }
static HRESULT CLR_CALL fi_RequestReJIT(PI_, ULONG n, ModuleID mods[], mdMethodDef toks[])
{
    (void)self;
    int i = n ? module_index(mods[0]) : -1;
    for (ULONG k = 0; k < n; k++)
        if (module_index(mods[k]) != i || toks[k] == 0x06000005u) /* one module per call, IL only */
            i = -1;
    if (i >= 0) {
        atomic_fetch_add(&requests[i], 1);
        atomic_fetch_add(&requested_methods[i], n);
    }
    atomic_fetch_add(&request_calls, 1);
    return i == FAILING ? CLR_E_OUTOFMEMORY : CLR_S_OK;
}
#undef PI_
static ICorProfilerInfo5Vtbl fake_vtbl;
static ICorProfilerInfo5 fake_info = {&fake_vtbl};

/* ------------------------------------------------ the fake function control */
#define FC_ ICorProfilerFunctionControl *self
static uint8_t given[256];
static ULONG given_size;
static HRESULT CLR_CALL fc_QueryInterface(FC_, const GUID *riid, void **ppv)
{
    (void)riid;
    *ppv = self;
    return CLR_S_OK;
}
static ULONG CLR_CALL fc_AddRef(FC_) { (void)self; return 1; }
static ULONG CLR_CALL fc_Release(FC_) { (void)self; return 1; }
static HRESULT CLR_CALL fc_SetILFunctionBody(FC_, ULONG cb, LPCBYTE header)
{
    (void)self;
    given_size = cb <= sizeof given ? cb : 0;
    memcpy(given, header, given_size);
    return CLR_S_OK;
}
static HRESULT CLR_CALL fc_SetILInstrumentedCodeMap(FC_, ULONG n, COR_IL_MAP map[])
{
    (void)self, (void)n, (void)map;
    return CLR_S_OK; /* prologue:7 does not go through the rewriter: never called here */
}
#undef FC_
static ICorProfilerFunctionControlVtbl fc_vtbl = {fc_QueryInterface, fc_AddRef, fc_Release, NULL,
                                                  fc_SetILFunctionBody, fc_SetILInstrumentedCodeMap};
static ICorProfilerFunctionControl fake_control = {&fc_vtbl};

/* ------------------------------------------------------------ the drivers */
static ICorProfilerCallback11 *profiler;
static pthread_barrier_t barrier;
static atomic_uint refused;

static void *first_sight(void *arg)
{
    unsigned t = (unsigned)(uintptr_t)arg;
    pthread_barrier_wait(&barrier);
    for (unsigned m = 0; m < MODULES; m++) {
        if ((t + m) % 2 == 0)
            profiler->lpVtbl->ModuleLoadFinished(profiler, module_id(m), CLR_S_OK);
        BOOL use = 1;
        profiler->lpVtbl->JITCachedFunctionSearchStarted(profiler, function_id(m, 1 + t), &use);
        if (!use)
            atomic_fetch_add(&refused, 1);
    }
    return NULL;
}

static void wait_requests(unsigned calls)
{
    for (int i = 0; i < 200000 && atomic_load(&request_calls) < calls; i++)
        prof_os_pause();
    ASSERT_EQ_U(atomic_load(&request_calls), calls);
}

static int precompiled_allowed(unsigned m)
{
    BOOL use = 0;
    profiler->lpVtbl->JITCachedFunctionSearchStarted(profiler, function_id(m, 7), &use);
    return use;
}

static void setup(const char *report)
{
    md_vtbl = (IMetaDataImportVtbl){.QueryInterface = md_QueryInterface, .AddRef = md_AddRef,
                                    .Release = md_Release, .IsValidToken = md_IsValidToken,
                                    .GetMethodProps = md_GetMethodProps};
    fake_vtbl = (ICorProfilerInfo5Vtbl){
        .QueryInterface = fi_QueryInterface, .AddRef = fi_AddRef, .Release = fi_Release,
        .GetFunctionInfo = fi_GetFunctionInfo, .SetEventMask = fi_SetEventMask,
        .GetModuleInfo2 = fi_GetModuleInfo2, .GetModuleMetaData = fi_GetModuleMetaData,
        .GetILFunctionBody = fi_GetILFunctionBody, .SetILFunctionBody = fi_SetILFunctionBody,
        .GetRuntimeInformation = fi_GetRuntimeInformation,
        .InitializeCurrentThread = fi_InitializeCurrentThread, .RequestReJIT = fi_RequestReJIT};
    for (unsigned m = 0; m < MODULES; m++) {
        bases[m] = support_image_region(IMAGE_SIZE);
        ASSERT_NOT_NULL(bases[m]);
    }
    prof_test_setenv("ILHEAP_MODE", "prologue:7");
    prof_test_setenv("ILHEAP_REJIT", "1");
    prof_test_setenv("ILHEAP_REPORT", report);
    profiler = prof_test_create_callback();
    ASSERT_NOT_NULL(profiler);
    ASSERT_EQ_U(profiler->lpVtbl->Initialize(profiler, (IUnknown *)(void *)&fake_info), CLR_S_OK);
    ASSERT_EQ_U(prof_g.config.rejit, 1);
    ASSERT_EQ_U(prof_g.event_mask, 0x60024u);
}

static void test_rejit(void)
{
    char report[256];
    snprintf(report, sizeof report, "ilheap-rejit-test.%lu.txt", prof_os_pid());
    setup(report);

    /* 1. First sights from 8 threads at once: one request per module. */
    pthread_t threads[THREADS];
    pthread_barrier_init(&barrier, NULL, THREADS);
    for (unsigned t = 0; t < THREADS; t++)
        pthread_create(&threads[t], NULL, first_sight, (void *)(uintptr_t)t);
    for (unsigned t = 0; t < THREADS; t++)
        pthread_join(threads[t], NULL);
    pthread_barrier_destroy(&barrier);
    wait_requests(3); /* modules 0, 1 and the failing 3; never the collectible 2 */
    ASSERT_EQ_U(atomic_load(&requests[0]), 1);
    ASSERT_EQ_U(atomic_load(&requests[1]), 1);
    ASSERT_EQ_U(atomic_load(&requests[COLLECTIBLE]), 0);
    ASSERT_EQ_U(atomic_load(&requests[FAILING]), 1);
    ASSERT_EQ_U(atomic_load(&requested_methods[0]), METHODS - 1);

    /* 2. ReadyToRun: allowed once requested, refused for the JIT path's modules. */
    ASSERT_TRUE(precompiled_allowed(0));
    ASSERT_TRUE(precompiled_allowed(1));
    ASSERT_TRUE(!precompiled_allowed(COLLECTIBLE));
    ASSERT_TRUE(!precompiled_allowed(FAILING));

    /* 3. GetReJITParameters: the prologue's body to the function control. */
    IUnknown *control = (IUnknown *)(void *)&fake_control;
    ASSERT_EQ_U(profiler->lpVtbl->GetReJITParameters(profiler, module_id(0), 0x06000001u, control), CLR_S_OK);
    ASSERT_EQ_U(given_size, 1 + 7 + 2); /* tiny header, 7 nops, ldc.i4.1, ret */
    ASSERT_EQ_U(given[8], 0x17);
    /* A method the JIT path rewrote first: no body, its IL stays. */
    given_size = 0;
    profiler->lpVtbl->JITCompilationStarted(profiler, function_id(0, 2), 1);
    ASSERT_EQ_U(atomic_load(&jit_bodies), 1);
    ASSERT_EQ_U(profiler->lpVtbl->GetReJITParameters(profiler, module_id(0), 0x06000002u, control), CLR_S_OK);
    ASSERT_EQ_U(given_size, 0);

    /* 4. An unloaded ModuleID that comes back is a new module: requested again. */
    profiler->lpVtbl->ModuleUnloadFinished(profiler, module_id(1), CLR_S_OK);
    profiler->lpVtbl->ModuleLoadFinished(profiler, module_id(1), CLR_S_OK);
    wait_requests(4);
    ASSERT_EQ_U(atomic_load(&requests[1]), 2);

    /* 5. The report. */
    profiler->lpVtbl->Shutdown(profiler);
    FILE *f = fopen(report, "r");
    ASSERT_NOT_NULL(f);
    char line[512];
    int seen = 0;
    while (fgets(line, sizeof line, f)) {
        seen += strncmp(line, "rejit_done=1 ", 13) == 0;
        seen += strncmp(line, "rejit_reused=1 ", 15) == 0;
        seen += strncmp(line, "rejit_failed.request=19 ", 24) == 0;
        seen += strncmp(line, "rejit_modules_collectible=1 ", 28) == 0;
        seen += strncmp(line, "rejit_error=0x8007000e count=19", 31) == 0;
    }
    fclose(f);
    remove(report);
    ASSERT_EQ_U(seen, 5);
}

TEST_MAIN(TEST(test_rejit))
