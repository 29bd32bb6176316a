/* The baseline for ILHEAP_MODE=timing: a minimal CLR profiler that counts
 * method entries and exits through the runtime's own hooks (ELT:
 * SetEnterLeaveFunctionHooks3, COR_PRF_MONITOR_ENTERLEAVE) and does nothing
 * else. bench/elt/run.sh runs a workload under it and under timing.
 *
 * Environment: ELT_INCLUDE=NAME hooks only the methods of the module whose
 * file name starts with NAME (a FunctionIDMapper says so per function;
 * default: every method); ELT_REPORT=PATH gets "entries=N exits=N
 * tailcalls=N hooked=N ticks=N" at Shutdown, so that a run shows the hooks ran;
 * ELT_CLOCK=1 installs hooks that also read the clock (the TSC) at each entry
 * and exit, the least an ELT profiler that times can do (ticks: the exits'
 * readings minus the entries', the inclusive time of every call summed).
 *
 * Only Initialize and Shutdown are implemented: with this event mask the
 * runtime calls no other callback (its slots stay NULL), and the object
 * answers ICorProfilerCallback up to version 10, so that the runtime does
 * not ask LoadAsNotificationOnly. Linux x86-64 only (the hooks are
 * assembly). */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clr_abi.h"

#define ELT_EXPORT __attribute__((visibility("default")))

/* {8E5C36B1-4A0D-4F5E-9C4B-1D2E3F405162}: CORECLR_PROFILER for this baseline. */
static const GUID elt_clsid = {0x8E5C36B1, 0x4A0D, 0x4F5E, {0x9C, 0x4B, 0x1D, 0x2E, 0x3F, 0x40, 0x51, 0x62}};
/* The interface identifiers: profiler/guids.c's (linked in). */
extern const GUID clr_IID_IClassFactory;
extern const GUID clr_IID_ICorProfilerCallback[12]; /* [0] IUnknown, [1..11] the versions */
extern const GUID clr_IID_ICorProfilerInfo5;

static ICorProfilerInfo5 *info;
static char include[256];
static atomic_uint_fast64_t hooked;

/* The hooks. Without COR_PRF_ENABLE_FUNCTION_ARGS, _RETVAL or _FRAME_INFO
 * the runtime may let the JIT call them straight from a method's prologue
 * and epilogue, where the argument and return registers are live: they must
 * preserve every register (corprof.idl: "must be __declspec(naked)"). Each
 * is one increment of a 64-bit counter and a return, in assembly: the least
 * an ELT profiler can do. The increments are plain (racy between threads,
 * like timing's non-atomic counters). */
#if !defined(__x86_64__) || defined(_WIN32)
#error "bench/elt: the hooks are written for x86-64 Linux"
#endif
__attribute__((visibility("hidden"))) uint64_t elt_entries, elt_exits, elt_tailcalls, elt_ticks;
void elt_enter3(UINT_PTR id);
void elt_leave3(UINT_PTR id);
void elt_tailcall3(UINT_PTR id);
void elt_enter3_clock(UINT_PTR id);
void elt_leave3_clock(UINT_PTR id);
void elt_tailcall3_clock(UINT_PTR id);
__asm__(".text\n"
        ".p2align 4\n"
        ".hidden elt_enter3\n"
        "elt_enter3:\n"
        "    incq elt_entries(%rip)\n"
        "    ret\n"
        ".p2align 4\n"
        ".hidden elt_leave3\n"
        "elt_leave3:\n"
        "    incq elt_exits(%rip)\n"
        "    ret\n"
        ".p2align 4\n"
        ".hidden elt_tailcall3\n"
        "elt_tailcall3:\n"
        "    incq elt_tailcalls(%rip)\n"
        "    ret\n");
/* The timing hooks (ELT_CLOCK=1): the increment, then the TSC subtracted
 * from (entry) or added to (exit, tail call) elt_ticks; rax and rdx, which
 * rdtsc writes, are saved. */
#define ELT_CLOCK_HOOK(name, counter, op)                                                                     \
    ".p2align 4\n"                                                                                            \
    ".hidden " name "\n" name ":\n"                                                                           \
    "    incq " counter "(%rip)\n"                                                                            \
    "    pushq %rax\n"                                                                                        \
    "    pushq %rdx\n"                                                                                        \
    "    rdtsc\n"                                                                                             \
    "    shlq $32, %rdx\n"                                                                                    \
    "    orq %rdx, %rax\n"                                                                                    \
    "    " op " %rax, elt_ticks(%rip)\n"                                                                      \
    "    popq %rdx\n"                                                                                         \
    "    popq %rax\n"                                                                                         \
    "    ret\n"
__asm__(".text\n" ELT_CLOCK_HOOK("elt_enter3_clock", "elt_entries", "subq")
            ELT_CLOCK_HOOK("elt_leave3_clock", "elt_exits", "addq")
                ELT_CLOCK_HOOK("elt_tailcall3_clock", "elt_tailcalls", "addq"));

/* Hooks only the functions of ELT_INCLUDE's module. */
static UINT_PTR CLR_CALL mapper(FunctionID id, BOOL *hook)
{
    ClassID cls = 0;
    ModuleID mod = 0;
    mdToken tok = 0;
    *hook = 1;
    if (include[0] && !CLR_FAILED(info->lpVtbl->GetFunctionInfo(info, id, &cls, &mod, &tok))) {
        LPCBYTE base = NULL;
        WCHAR name[512];
        ULONG cch = 0;
        AssemblyID assembly = 0;
        *hook = 0;
        if (!CLR_FAILED(info->lpVtbl->GetModuleInfo(info, mod, &base, 512, &cch, name, &assembly))) {
            size_t start = 0, n = strlen(include);
            for (ULONG i = 0; i < cch && name[i]; i++)
                if (name[i] == '/' || name[i] == '\\')
                    start = i + 1;
            *hook = 1;
            for (size_t i = 0; i < n; i++)
                if (start + i >= cch || name[start + i] != (WCHAR)(unsigned char)include[i])
                    *hook = 0;
        }
    }
    if (*hook)
        atomic_fetch_add(&hooked, 1);
    return id;
}

typedef struct elt_callback {
    ICorProfilerCallback11 iface;
    atomic_uint refs;
} elt_callback_t;

static HRESULT CLR_CALL cb_QueryInterface(ICorProfilerCallback11 *self, const GUID *riid, void **ppv)
{
    *ppv = NULL;
    int ok = 0;
    for (int v = 0; v <= 10 && !ok; v++) /* IUnknown and versions 1 .. 10 */
        ok = memcmp(riid, &clr_IID_ICorProfilerCallback[v], sizeof(GUID)) == 0;
    if (!ok)
        return CLR_E_NOINTERFACE;
    self->lpVtbl->AddRef(self);
    *ppv = self;
    return CLR_S_OK;
}

static ULONG CLR_CALL cb_AddRef(ICorProfilerCallback11 *self)
{
    return (ULONG)atomic_fetch_add(&((elt_callback_t *)self)->refs, 1) + 1;
}

static ULONG CLR_CALL cb_Release(ICorProfilerCallback11 *self)
{
    unsigned left = atomic_fetch_sub(&((elt_callback_t *)self)->refs, 1) - 1;
    if (left == 0)
        free(self);
    return (ULONG)left;
}

static HRESULT CLR_CALL cb_Initialize(ICorProfilerCallback11 *self, IUnknown *unk)
{
    (void)self;
    void *p = NULL;
    if (CLR_FAILED(unk->lpVtbl->QueryInterface(unk, &clr_IID_ICorProfilerInfo5, &p)) || !p)
        return CLR_E_FAIL;
    info = p;
    const char *v = getenv("ELT_INCLUDE");
    snprintf(include, sizeof include, "%s", v ? v : "");
    const char *clock = getenv("ELT_CLOCK");
    int timed = clock && strcmp(clock, "1") == 0;
    if (CLR_FAILED(info->lpVtbl->SetFunctionIDMapper(info, mapper)) ||
        CLR_FAILED(info->lpVtbl->SetEnterLeaveFunctionHooks3(
            info, (void *)(timed ? elt_enter3_clock : elt_enter3), (void *)(timed ? elt_leave3_clock : elt_leave3),
            (void *)(timed ? elt_tailcall3_clock : elt_tailcall3))) ||
        CLR_FAILED(info->lpVtbl->SetEventMask(info, COR_PRF_MONITOR_ENTERLEAVE)))
        return CLR_E_FAIL;
    return CLR_S_OK;
}

static HRESULT CLR_CALL cb_Shutdown(ICorProfilerCallback11 *self)
{
    (void)self;
    const char *path = getenv("ELT_REPORT");
    FILE *out = path && *path ? fopen(path, "w") : NULL;
    if (out) {
        fprintf(out, "entries=%llu exits=%llu tailcalls=%llu hooked=%llu ticks=%llu\n",
                (unsigned long long)elt_entries, (unsigned long long)elt_exits,
                (unsigned long long)elt_tailcalls, (unsigned long long)atomic_load(&hooked),
                (unsigned long long)elt_ticks);
        fclose(out);
    }
    return CLR_S_OK;
}

static const ICorProfilerCallback11Vtbl callback_vtbl = {
    .QueryInterface = cb_QueryInterface,
    .AddRef = cb_AddRef,
    .Release = cb_Release,
    .Initialize = cb_Initialize,
    .Shutdown = cb_Shutdown,
};

/* ------------------------------------------------------ the class factory */
static HRESULT CLR_CALL cf_QueryInterface(IClassFactory *self, const GUID *riid, void **ppv)
{
    if (memcmp(riid, &clr_IID_ICorProfilerCallback[0], sizeof(GUID)) != 0 &&
        memcmp(riid, &clr_IID_IClassFactory, sizeof(GUID)) != 0) {
        *ppv = NULL;
        return CLR_E_NOINTERFACE;
    }
    *ppv = self;
    return CLR_S_OK;
}
static ULONG CLR_CALL cf_AddRef(IClassFactory *self)
{
    (void)self;
    return 2;
}
static ULONG CLR_CALL cf_Release(IClassFactory *self)
{
    (void)self;
    return 1;
}
static HRESULT CLR_CALL cf_CreateInstance(IClassFactory *self, IUnknown *outer, const GUID *riid, void **ppv)
{
    (void)self;
    if (outer)
        return CLR_CLASS_E_NOAGGREGATION;
    elt_callback_t *cb = calloc(1, sizeof *cb);
    if (!cb)
        return CLR_E_OUTOFMEMORY;
    cb->iface.lpVtbl = &callback_vtbl;
    atomic_init(&cb->refs, 1);
    HRESULT hr = cb_QueryInterface(&cb->iface, riid, ppv);
    cb_Release(&cb->iface);
    return hr;
}
static HRESULT CLR_CALL cf_LockServer(IClassFactory *self, BOOL lock)
{
    (void)self;
    (void)lock;
    return CLR_S_OK;
}
static const IClassFactoryVtbl factory_vtbl = {cf_QueryInterface, cf_AddRef, cf_Release, cf_CreateInstance,
                                               cf_LockServer};
static IClassFactory factory = {&factory_vtbl};

ELT_EXPORT HRESULT CLR_CALL DllGetClassObject(const GUID *rclsid, const GUID *riid, void **ppv);
ELT_EXPORT HRESULT CLR_CALL DllGetClassObject(const GUID *rclsid, const GUID *riid, void **ppv)
{
    if (!ppv)
        return CLR_E_POINTER;
    *ppv = NULL;
    if (memcmp(rclsid, &elt_clsid, sizeof(GUID)) != 0)
        return CLR_CLASS_E_CLASSNOTAVAILABLE;
    return cf_QueryInterface(&factory, riid, ppv);
}
