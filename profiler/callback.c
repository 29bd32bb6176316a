/* The ICorProfilerCallback11 object: all 98 vtable entries.
 *
 * Only a handful of events do work (Initialize, Shutdown, the module
 * load/unload pair, JITCompilationStarted); the rest are complete stubs with
 * the exact signature of their slot (clr_abi.h), returning S_OK and filling
 * their out-parameters with the neutral answer. The runtime only delivers the
 * events the mask set in Initialize asks for.
 */
#include "profiler.h"

#include <stdio.h>
#include <stdlib.h>

prof_state_t prof_g;

typedef struct prof_callback {
    ICorProfilerCallback11 iface;
    atomic_uint refs;
} prof_callback_t;

/* ---------------------------------------------------------------- IUnknown */
static HRESULT CLR_CALL cb_QueryInterface(ICorProfilerCallback11 *self, const GUID *riid, void **ppv)
{
    if (!ppv)
        return CLR_E_POINTER;
    *ppv = NULL;
    if (!riid)
        return CLR_E_INVALIDARG;
    /* Every version 1..11 (and IUnknown) is a prefix of our table. */
    for (int v = 0; v <= 11; v++) {
        if (prof_guid_eq(riid, &clr_IID_ICorProfilerCallback[v])) {
            self->lpVtbl->AddRef(self);
            *ppv = self;
            return CLR_S_OK;
        }
    }
    return CLR_E_NOINTERFACE;
}

static ULONG CLR_CALL cb_AddRef(ICorProfilerCallback11 *self)
{
    prof_callback_t *cb = (prof_callback_t *)self;
    return (ULONG)atomic_fetch_add(&cb->refs, 1) + 1;
}

static ULONG CLR_CALL cb_Release(ICorProfilerCallback11 *self)
{
    prof_callback_t *cb = (prof_callback_t *)self;
    unsigned left = atomic_fetch_sub(&cb->refs, 1) - 1;
    if (left == 0)
        free(cb);
    return (ULONG)left;
}

/* ------------------------------------------------------ the events we use */
static void read_runtime_version(void)
{
    USHORT major = 0, minor = 0, build = 0, qfe = 0;
    int type = 0;
    if (prof_g.info->lpVtbl->GetRuntimeInformation(prof_g.info, NULL, &type, &major, &minor, &build,
                                                   &qfe, 0, NULL, NULL) == CLR_S_OK)
        snprintf(prof_g.runtime_version, sizeof prof_g.runtime_version, "%s %u.%u.%u.%u",
                 type == 2 ? "coreclr" : "clr", major, minor, build, qfe);
}

static HRESULT CLR_CALL cb_Initialize(ICorProfilerCallback11 *self, IUnknown *unk)
{
    (void)self;
    if (!unk)
        return CLR_E_INVALIDARG;
    /* ICorProfilerInfo5 gives every slot we call (GetModuleInfo2 is Info3).
     * Without it we decline to load: the runtime then runs unprofiled. */
    prof_report_init();
    if (prof_config_load(&prof_g.config) != 0)
        prof_diag("%s; observing only", prof_g.config.error);
    /* The counts file exists from the start, or nothing is counted. */
    if (prof_mode_counts(prof_g.config.mode) && prof_counts_start() != 0)
        prof_g.config.mode = PROF_MODE_OFF;
    void *info = NULL;
    HRESULT hr = unk->lpVtbl->QueryInterface(unk, &clr_IID_ICorProfilerInfo5, &info);
    if (CLR_FAILED(hr) || !info) {
        prof_diag("ICorProfilerInfo5 unavailable (hr=0x%08x); not loading", (unsigned)hr);
        return CLR_E_FAIL;
    }
    prof_g.info = info;
    prof_modules_init();
    read_runtime_version();

    DWORD mask = COR_PRF_MONITOR_MODULE_LOADS | COR_PRF_MONITOR_JIT_COMPILATION;
    if (prof_g.config.disable_r2r)
        mask |= (DWORD)COR_PRF_DISABLE_ALL_NGEN_IMAGES;
    /* ReJIT: enabled at Initialize or never; the cache searches let a
     * module's ReadyToRun code be refused until its methods are requested. */
    if (prof_g.config.rejit && prof_rejit_start() != 0) {
        prof_diag("ILHEAP_REJIT: no thread for RequestReJIT; rewriting at JIT time instead");
        prof_g.config.rejit = 0;
    }
    if (prof_g.config.rejit)
        mask |= COR_PRF_ENABLE_REJIT | COR_PRF_MONITOR_CACHE_SEARCHES;
    hr = prof_g.info->lpVtbl->SetEventMask(prof_g.info, mask);
    if (CLR_FAILED(hr)) {
        prof_diag("SetEventMask(0x%08x) failed: 0x%08x; not loading", (unsigned)mask, (unsigned)hr);
        /* The runtime releases a profiler that fails Initialize without a
         * Shutdown: give back the info reference taken above. */
        prof_g.info->lpVtbl->Release(prof_g.info);
        prof_g.info = NULL;
        return hr;
    }
    prof_g.event_mask = mask;
    return CLR_S_OK;
}

static HRESULT CLR_CALL cb_Shutdown(ICorProfilerCallback11 *self)
{
    (void)self;
    /* Heaps and counters are never released here: methods may still be
     * JIT-compiled from our bodies, and run, while the runtime winds down.
     * The counts are in their file already: it only gets its completion mark. */
    prof_rejit_stop();
    prof_counts_finish();
    prof_report_write();
    return CLR_S_OK;
}

static HRESULT CLR_CALL cb_ModuleLoadFinished(ICorProfilerCallback11 *self, ModuleID id, HRESULT hr)
{
    (void)self;
    if (!CLR_FAILED(hr)) {
        prof_modules_loaded(id);
        prof_rejit_module_seen(id);
    }
    return CLR_S_OK;
}

/* A module's counts are in the file already: nothing to do at its unload. */
static HRESULT CLR_CALL cb_ModuleUnloadStarted(ICorProfilerCallback11 *self, ModuleID id)
{
    (void)self;
    (void)id;
    return CLR_S_OK;
}

static HRESULT CLR_CALL cb_ModuleUnloadFinished(ICorProfilerCallback11 *self, ModuleID id,
                                                HRESULT hr)
{
    (void)self;
    (void)hr;
    prof_rejit_module_unloaded(id); /* first: a request under way ends before the record goes */
    prof_modules_unloaded(id);
    return CLR_S_OK;
}

/* This thread's JIT: jit_seq is rewrite_seq when its outermost JIT started,
 * before the JIT read any callee's IL (JITInlining's check); jit_depth counts
 * nested JITs. A JIT whose Finished never comes leaves jit_seq older: fewer
 * callees inlined, never a wrong one. */
static _Thread_local uint64_t jit_seq;
static _Thread_local unsigned jit_depth;

static HRESULT CLR_CALL cb_JITCompilationStarted(ICorProfilerCallback11 *self, FunctionID id,
                                                 BOOL safe)
{
    (void)self;
    (void)safe;
    if (jit_depth++ == 0)
        jit_seq = atomic_load(&prof_g.rewrite_seq);
    prof_rewrite_on_jit(id);
    return CLR_S_OK;
}

static HRESULT CLR_CALL cb_JITCompilationFinished(ICorProfilerCallback11 *self, FunctionID id,
                                                  HRESULT hr, BOOL safe)
{
    (void)self;
    (void)id;
    (void)hr;
    (void)safe;
    if (jit_depth > 0)
        jit_depth--;
    return CLR_S_OK;
}

/* The runtime asks this of Callback11 profilers: FALSE = a full profiler. */
static HRESULT CLR_CALL cb_LoadAsNotificationOnly(ICorProfilerCallback11 *self, BOOL *only)
{
    (void)self;
    if (only)
        *only = 0;
    return CLR_S_OK;
}

/* ReadyToRun code of a method: refused while its module waits for its ReJIT
 * request (ILHEAP_REJIT), so that the JIT path instruments it. */
static HRESULT CLR_CALL cb_JITCachedFunctionSearchStarted(ICorProfilerCallback11 *self,
                                                          FunctionID id, BOOL *use)
{
    (void)self;
    if (use)
        *use = prof_rejit_allow_precompiled(id);
    return CLR_S_OK;
}

static HRESULT CLR_CALL cb_GetReJITParameters(ICorProfilerCallback11 *self, ModuleID mod,
                                              mdMethodDef tok, IUnknown *control)
{
    (void)self;
    return prof_rejit_parameters(mod, tok, control);
}

static HRESULT CLR_CALL cb_ReJITError(ICorProfilerCallback11 *self, ModuleID mod, mdMethodDef tok,
                                      FunctionID id, HRESULT hr)
{
    (void)self;
    (void)id;
    prof_rejit_error(mod, tok, hr);
    return CLR_S_OK;
}

static HRESULT CLR_CALL cb_ReJITCompilationFinished(ICorProfilerCallback11 *self, FunctionID id,
                                                    ReJITID rejit, HRESULT hr, BOOL safe)
{
    (void)self;
    (void)id;
    (void)rejit;
    (void)safe;
    prof_rejit_compiled(hr);
    return CLR_S_OK;
}

/* 1 when CoreLib's callee is one instrumentation leaves alone (Interlocked,
 * [Intrinsic]): inlining it loses no count, and the atomic probe's
 * Interlocked.Increment must inline to be a single instruction. */
static int left_alone(FunctionID callee)
{
    IUnknown *unk = NULL;
    mdToken token = 0;
    if (CLR_FAILED(prof_g.info->lpVtbl->GetTokenAndMetaDataFromFunction(
            prof_g.info, callee, &clr_IID_IMetaDataImport, &unk, &token)) ||
        !unk)
        return 0;
    IMetaDataImport *md = (IMetaDataImport *)unk;
    int alone = prof_names_leave_alone(md, token);
    md->lpVtbl->Release(md);
    return alone;
}

/* 1 when callee (in instrumented module mod) had its instrumented body set
 * before this thread's JIT started: the JIT reads an inlinee's IL before it
 * asks JITInlining, and reads the body a profiler set only once it is set. */
static int body_in_place(ModuleID mod, mdToken tok)
{
    if (jit_depth == 0)
        return 0; /* not inside a JIT this profiler saw start (ReJIT, dynamic) */
    prof_module_view_t view = {0};
    prof_skip_t why = PROF_SKIP_COUNT;
    if (prof_modules_view(mod, &view, &why) != 0)
        return 0;
    int in_place = prof_modules_body_set_before(&view, tok, jit_seq);
    prof_modules_view_end(&view);
    return in_place;
}

/* An instrumented callee is inlined only with its instrumented body (set
 * before the caller's JIT began); otherwise the JIT would inline the IL it
 * read, the original, and the callee's counts would be lost. */
static HRESULT CLR_CALL cb_JITInlining(ICorProfilerCallback11 *self, FunctionID caller,
                                       FunctionID callee, BOOL *inl)
{
    (void)self;
    (void)caller;
    if (!inl)
        return CLR_S_OK;
    *inl = 1;
    ClassID cls = 0;
    ModuleID mod = 0;
    mdToken tok = 0;
    if (!prof_mode_counts(prof_g.config.mode))
        return CLR_S_OK;
    int corelib = 0;
    if (CLR_FAILED(prof_g.info->lpVtbl->GetFunctionInfo(prof_g.info, callee, &cls, &mod, &tok)) ||
        (prof_modules_instrumented(mod, &corelib) && !(corelib && left_alone(callee)))) {
        if (prof_g.config.inline_instrumented && body_in_place(mod, tok)) {
            atomic_fetch_add(&prof_g.counters.inlining_allowed, 1);
            return CLR_S_OK;
        }
        *inl = 0;
        atomic_fetch_add(&prof_g.counters.inlining_refused, 1);
    }
    return CLR_S_OK;
}

/* ------------------------------------------------ stubs, one per signature */
#define SELF_ ICorProfilerCallback11 *self
#define STUB0(name)                                                                \
    static HRESULT CLR_CALL cb_##name(SELF_)                                       \
    {                                                                              \
        (void)self;                                                                \
        return CLR_S_OK;                                                           \
    }
#define STUB1(name, t1)                                                            \
    static HRESULT CLR_CALL cb_##name(SELF_, t1 a1)                                \
    {                                                                              \
        (void)self;                                                                \
        (void)a1;                                                                  \
        return CLR_S_OK;                                                           \
    }
#define STUB2(name, t1, t2)                                                        \
    static HRESULT CLR_CALL cb_##name(SELF_, t1 a1, t2 a2)                         \
    {                                                                              \
        (void)self;                                                                \
        (void)a1;                                                                  \
        (void)a2;                                                                  \
        return CLR_S_OK;                                                           \
    }
#define STUB3(name, t1, t2, t3)                                                    \
    static HRESULT CLR_CALL cb_##name(SELF_, t1 a1, t2 a2, t3 a3)                  \
    {                                                                              \
        (void)self;                                                                \
        (void)a1;                                                                  \
        (void)a2;                                                                  \
        (void)a3;                                                                  \
        return CLR_S_OK;                                                           \
    }
#define STUB4(name, t1, t2, t3, t4)                                                \
    static HRESULT CLR_CALL cb_##name(SELF_, t1 a1, t2 a2, t3 a3, t4 a4)           \
    {                                                                              \
        (void)self;                                                                \
        (void)a1;                                                                  \
        (void)a2;                                                                  \
        (void)a3;                                                                  \
        (void)a4;                                                                  \
        return CLR_S_OK;                                                           \
    }
#define STUB5(name, t1, t2, t3, t4, t5)                                            \
    static HRESULT CLR_CALL cb_##name(SELF_, t1 a1, t2 a2, t3 a3, t4 a4, t5 a5)    \
    {                                                                              \
        (void)self;                                                                \
        (void)a1;                                                                  \
        (void)a2;                                                                  \
        (void)a3;                                                                  \
        (void)a4;                                                                  \
        (void)a5;                                                                  \
        return CLR_S_OK;                                                           \
    }

STUB1(AppDomainCreationStarted, AppDomainID)
STUB2(AppDomainCreationFinished, AppDomainID, HRESULT)
STUB1(AppDomainShutdownStarted, AppDomainID)
STUB2(AppDomainShutdownFinished, AppDomainID, HRESULT)
STUB1(AssemblyLoadStarted, AssemblyID)
STUB2(AssemblyLoadFinished, AssemblyID, HRESULT)
STUB1(AssemblyUnloadStarted, AssemblyID)
STUB2(AssemblyUnloadFinished, AssemblyID, HRESULT)
STUB1(ModuleLoadStarted, ModuleID)
STUB2(ModuleAttachedToAssembly, ModuleID, AssemblyID)
STUB1(ClassLoadStarted, ClassID)
STUB2(ClassLoadFinished, ClassID, HRESULT)
STUB1(ClassUnloadStarted, ClassID)
STUB2(ClassUnloadFinished, ClassID, HRESULT)
STUB1(FunctionUnloadStarted, FunctionID)
STUB2(JITCachedFunctionSearchFinished, FunctionID, int)
STUB1(JITFunctionPitched, FunctionID)
STUB1(ThreadCreated, ThreadID)
STUB1(ThreadDestroyed, ThreadID)
STUB2(ThreadAssignedToOSThread, ThreadID, DWORD)
STUB0(RemotingClientInvocationStarted)
STUB2(RemotingClientSendingMessage, GUID *, BOOL)
STUB2(RemotingClientReceivingReply, GUID *, BOOL)
STUB0(RemotingClientInvocationFinished)
STUB2(RemotingServerReceivingMessage, GUID *, BOOL)
STUB0(RemotingServerInvocationStarted)
STUB0(RemotingServerInvocationReturned)
STUB2(RemotingServerSendingReply, GUID *, BOOL)
STUB2(UnmanagedToManagedTransition, FunctionID, int)
STUB2(ManagedToUnmanagedTransition, FunctionID, int)
STUB1(RuntimeSuspendStarted, int)
STUB0(RuntimeSuspendFinished)
STUB0(RuntimeSuspendAborted)
STUB0(RuntimeResumeStarted)
STUB0(RuntimeResumeFinished)
STUB1(RuntimeThreadSuspended, ThreadID)
STUB1(RuntimeThreadResumed, ThreadID)
STUB4(MovedReferences, ULONG, ObjectID *, ObjectID *, ULONG *)
STUB2(ObjectAllocated, ObjectID, ClassID)
STUB3(ObjectsAllocatedByClass, ULONG, ClassID *, ULONG *)
STUB4(ObjectReferences, ObjectID, ClassID, ULONG, ObjectID *)
STUB2(RootReferences, ULONG, ObjectID *)
STUB1(ExceptionThrown, ObjectID)
STUB1(ExceptionSearchFunctionEnter, FunctionID)
STUB0(ExceptionSearchFunctionLeave)
STUB1(ExceptionSearchFilterEnter, FunctionID)
STUB0(ExceptionSearchFilterLeave)
STUB1(ExceptionSearchCatcherFound, FunctionID)
STUB1(ExceptionOSHandlerEnter, UINT_PTR)
STUB1(ExceptionOSHandlerLeave, UINT_PTR)
STUB1(ExceptionUnwindFunctionEnter, FunctionID)
STUB0(ExceptionUnwindFunctionLeave)
STUB1(ExceptionUnwindFinallyEnter, FunctionID)
STUB0(ExceptionUnwindFinallyLeave)
STUB2(ExceptionCatcherEnter, FunctionID, ObjectID)
STUB0(ExceptionCatcherLeave)
STUB4(COMClassicVTableCreated, ClassID, const GUID *, void *, ULONG)
STUB3(COMClassicVTableDestroyed, ClassID, const GUID *, void *)
STUB0(ExceptionCLRCatcherFound)
STUB0(ExceptionCLRCatcherExecute)
STUB3(ThreadNameChanged, ThreadID, ULONG, WCHAR *)
STUB3(GarbageCollectionStarted, int, BOOL *, int)
STUB3(SurvivingReferences, ULONG, ObjectID *, ULONG *)
STUB0(GarbageCollectionFinished)
STUB2(FinalizeableObjectQueued, DWORD, ObjectID)
STUB5(RootReferences2, ULONG, ObjectID *, int *, int *, UINT_PTR *)
STUB2(HandleCreated, GCHandleID, ObjectID)
STUB1(HandleDestroyed, GCHandleID)
STUB3(InitializeForAttach, IUnknown *, void *, uint32_t)
STUB0(ProfilerAttachComplete)
STUB0(ProfilerDetachSucceeded)
STUB3(ReJITCompilationStarted, FunctionID, ReJITID, BOOL)
STUB4(MovedReferences2, ULONG, ObjectID *, ObjectID *, size_t *)
STUB3(SurvivingReferences2, ULONG, ObjectID *, size_t *)
STUB4(ConditionalWeakTableElementReferences, ULONG, ObjectID *, ObjectID *, GCHandleID *)
STUB2(GetAssemblyReferences, const WCHAR *, IUnknown *)
STUB1(ModuleInMemorySymbolsUpdated, ModuleID)
STUB4(DynamicMethodJITCompilationStarted, FunctionID, BOOL, LPCBYTE, ULONG)
STUB3(DynamicMethodJITCompilationFinished, FunctionID, HRESULT, BOOL)
STUB1(DynamicMethodUnloaded, FunctionID)
STUB1(EventPipeProviderCreated, UINT_PTR)

static HRESULT CLR_CALL cb_EventPipeEventDelivered(SELF_, UINT_PTR provider, DWORD event_id,
                                                   DWORD event_version, ULONG cb_metadata,
                                                   LPCBYTE metadata, ULONG cb_data, LPCBYTE data,
                                                   const GUID *activity, const GUID *related,
                                                   ThreadID thread, ULONG frames, UINT_PTR stack[])
{
    (void)self, (void)provider, (void)event_id, (void)event_version, (void)cb_metadata;
    (void)metadata, (void)cb_data, (void)data, (void)activity, (void)related, (void)thread;
    (void)frames, (void)stack;
    return CLR_S_OK;
}

/* In slot order; the compiler checks each entry's type against the slot. */
#define E_(name) .name = cb_##name
static const ICorProfilerCallback11Vtbl callback_vtbl = {
    E_(QueryInterface), E_(AddRef), E_(Release),
    /* ICorProfilerCallback */
    E_(Initialize), E_(Shutdown), E_(AppDomainCreationStarted), E_(AppDomainCreationFinished),
    E_(AppDomainShutdownStarted), E_(AppDomainShutdownFinished), E_(AssemblyLoadStarted),
    E_(AssemblyLoadFinished), E_(AssemblyUnloadStarted), E_(AssemblyUnloadFinished),
    E_(ModuleLoadStarted), E_(ModuleLoadFinished), E_(ModuleUnloadStarted),
    E_(ModuleUnloadFinished), E_(ModuleAttachedToAssembly), E_(ClassLoadStarted),
    E_(ClassLoadFinished), E_(ClassUnloadStarted), E_(ClassUnloadFinished),
    E_(FunctionUnloadStarted), E_(JITCompilationStarted), E_(JITCompilationFinished),
    E_(JITCachedFunctionSearchStarted), E_(JITCachedFunctionSearchFinished),
    E_(JITFunctionPitched), E_(JITInlining), E_(ThreadCreated), E_(ThreadDestroyed),
    E_(ThreadAssignedToOSThread), E_(RemotingClientInvocationStarted),
    E_(RemotingClientSendingMessage), E_(RemotingClientReceivingReply),
    E_(RemotingClientInvocationFinished), E_(RemotingServerReceivingMessage),
    E_(RemotingServerInvocationStarted), E_(RemotingServerInvocationReturned),
    E_(RemotingServerSendingReply), E_(UnmanagedToManagedTransition),
    E_(ManagedToUnmanagedTransition), E_(RuntimeSuspendStarted), E_(RuntimeSuspendFinished),
    E_(RuntimeSuspendAborted), E_(RuntimeResumeStarted), E_(RuntimeResumeFinished),
    E_(RuntimeThreadSuspended), E_(RuntimeThreadResumed), E_(MovedReferences),
    E_(ObjectAllocated), E_(ObjectsAllocatedByClass), E_(ObjectReferences), E_(RootReferences),
    E_(ExceptionThrown), E_(ExceptionSearchFunctionEnter), E_(ExceptionSearchFunctionLeave),
    E_(ExceptionSearchFilterEnter), E_(ExceptionSearchFilterLeave),
    E_(ExceptionSearchCatcherFound), E_(ExceptionOSHandlerEnter), E_(ExceptionOSHandlerLeave),
    E_(ExceptionUnwindFunctionEnter), E_(ExceptionUnwindFunctionLeave),
    E_(ExceptionUnwindFinallyEnter), E_(ExceptionUnwindFinallyLeave), E_(ExceptionCatcherEnter),
    E_(ExceptionCatcherLeave), E_(COMClassicVTableCreated), E_(COMClassicVTableDestroyed),
    E_(ExceptionCLRCatcherFound), E_(ExceptionCLRCatcherExecute),
    /* ICorProfilerCallback2 */
    E_(ThreadNameChanged), E_(GarbageCollectionStarted), E_(SurvivingReferences),
    E_(GarbageCollectionFinished), E_(FinalizeableObjectQueued), E_(RootReferences2),
    E_(HandleCreated), E_(HandleDestroyed),
    /* ICorProfilerCallback3 */
    E_(InitializeForAttach), E_(ProfilerAttachComplete), E_(ProfilerDetachSucceeded),
    /* ICorProfilerCallback4 */
    E_(ReJITCompilationStarted), E_(GetReJITParameters), E_(ReJITCompilationFinished),
    E_(ReJITError), E_(MovedReferences2), E_(SurvivingReferences2),
    /* ICorProfilerCallback5..11 */
    E_(ConditionalWeakTableElementReferences), E_(GetAssemblyReferences),
    E_(ModuleInMemorySymbolsUpdated), E_(DynamicMethodJITCompilationStarted),
    E_(DynamicMethodJITCompilationFinished), E_(DynamicMethodUnloaded),
    E_(EventPipeEventDelivered), E_(EventPipeProviderCreated), E_(LoadAsNotificationOnly),
};
#undef E_

HRESULT prof_callback_create(const GUID *riid, void **ppv);

HRESULT prof_callback_create(const GUID *riid, void **ppv)
{
    prof_callback_t *cb = calloc(1, sizeof *cb);
    if (!cb)
        return CLR_E_OUTOFMEMORY;
    cb->iface.lpVtbl = &callback_vtbl;
    atomic_init(&cb->refs, 1);
    HRESULT hr = cb_QueryInterface(&cb->iface, riid, ppv);
    cb_Release(&cb->iface); /* the QueryInterface reference is the caller's */
    return hr;
}
