/* The part of the CLR profiling ABI this profiler uses, in plain C.
 *
 * Written from the interface definitions in dotnet/runtime
 * (src/coreclr/inc/corprof.idl for the profiler interfaces, src/coreclr/inc/cor.h
 * for IMetaDataImport); no CLR or Windows header is needed. A COM interface is
 * a pointer to a struct whose first member points to a table of functions; each
 * function takes the interface pointer first. Slot indices count from 0 with
 * IUnknown's three methods included; the static_asserts at the end pin every
 * slot this profiler calls or implements, because a wrong index is a crash in
 * the runtime, not a compile error.
 *
 * Types, the same on Linux and Windows (checked at the end): HRESULT, ULONG,
 * DWORD, BOOL are 32-bit (on LP64 Linux ULONG is NOT `unsigned long`; on
 * Windows it is, and 32-bit); WCHAR is 16-bit (UTF-16, wchar_t on Windows);
 * the IDs (ModuleID, FunctionID, ...) are pointer-sized. On Windows the SDK's
 * GUID, IUnknown and IClassFactory are used (com.h includes unknwn.h), with
 * the same layout. STDMETHODCALLTYPE (CLR_CALL) is __stdcall on 32-bit
 * Windows only; x64 has one calling convention.
 */
#ifndef ILHEAP_PROFILER_CLR_ABI_H
#define ILHEAP_PROFILER_CLR_ABI_H

#include <assert.h>
#include <stddef.h>
#include <stdint.h>

#include "ilheap/com.h" /* GUID, HRESULT, ULONG, IUnknown, IMethodMalloc */

#if defined(_WIN32) && !defined(_WIN64)
#define CLR_CALL __stdcall
#else
#define CLR_CALL
#endif

/* DWORD is 32-bit on both; windows.h (reached through com.h's unknwn.h)
 * spells it unsigned long, and a repeated typedef must match it. The other
 * types below are spelled as the Windows SDK spells them on both systems. */
#if defined(_WIN32)
typedef unsigned long DWORD;
#else
typedef uint32_t DWORD;
#endif
typedef int32_t BOOL;
typedef uint16_t WCHAR; /* UTF-16 code unit */
typedef uint8_t BYTE;
typedef const BYTE *LPCBYTE;
typedef uint32_t ULONG32;
typedef uint16_t USHORT;

typedef uint32_t mdToken;
typedef mdToken mdTypeDef;
typedef mdToken mdMethodDef;

typedef uintptr_t ModuleID;
typedef uintptr_t FunctionID;
typedef uintptr_t ClassID;
typedef uintptr_t AssemblyID;
typedef uintptr_t AppDomainID;
typedef uintptr_t ThreadID;
typedef uintptr_t ObjectID;
typedef uintptr_t GCHandleID;
typedef uintptr_t ReJITID;
typedef uintptr_t UINT_PTR;

#define CLR_S_OK ((HRESULT)0)
#define CLR_S_FALSE ((HRESULT)1)
#define CLR_E_NOINTERFACE ((HRESULT)0x80004002u)
#define CLR_E_POINTER ((HRESULT)0x80004003u)
#define CLR_E_FAIL ((HRESULT)0x80004005u)
#define CLR_E_OUTOFMEMORY ((HRESULT)0x8007000Eu)
#define CLR_E_INVALIDARG ((HRESULT)0x80070057u)
#define CLR_CLASS_E_NOAGGREGATION ((HRESULT)0x80040110u)
#define CLR_CLASS_E_CLASSNOTAVAILABLE ((HRESULT)0x80040111u)
#define CLR_FAILED(hr) ((HRESULT)(hr) < 0)

/* COR_PRF_MONITOR (corprof.idl). 0x00080000 is the deprecated
 * COR_PRF_ENABLE_INPROC_DEBUGGING, not the ReadyToRun switch: a known trap. */
enum {
    COR_PRF_MONITOR_MODULE_LOADS = 0x00000004,
    COR_PRF_MONITOR_JIT_COMPILATION = 0x00000020,
    COR_PRF_MONITOR_ENTERLEAVE = 0x00001000,     /* the ELT hooks (bench/elt) */
    COR_PRF_MONITOR_CACHE_SEARCHES = 0x00020000, /* JITCachedFunctionSearch*: ReadyToRun code */
    COR_PRF_ENABLE_REJIT = 0x00040000,           /* RequestReJIT, at Initialize only */
    COR_PRF_DISABLE_ALL_NGEN_IMAGES = (int)0x80000000u,
};

/* COR_PRF_MODULE_FLAGS, returned by GetModuleInfo2. */
enum {
    COR_PRF_MODULE_DISK = 0x01,
    COR_PRF_MODULE_NGEN = 0x02,
    COR_PRF_MODULE_DYNAMIC = 0x04,
    COR_PRF_MODULE_COLLECTIBLE = 0x08,
    COR_PRF_MODULE_RESOURCE = 0x10,
    COR_PRF_MODULE_FLAT_LAYOUT = 0x20,
};

/* A slot this profiler never calls: only its position matters. */
typedef void (*clr_unused_slot_t)(void);

/* ------------------------------------------------------------ IClassFactory */
/* Under the guard the SDK's unknwn.h uses: on Windows its definition (the
 * same slots, the same types in C) comes first, through com.h. */
#ifndef __IClassFactory_INTERFACE_DEFINED__
#define __IClassFactory_INTERFACE_DEFINED__
typedef struct IClassFactory IClassFactory;
typedef struct IClassFactoryVtbl {
    HRESULT(CLR_CALL *QueryInterface)(IClassFactory *self, const GUID *riid, void **ppv);
    ULONG(CLR_CALL *AddRef)(IClassFactory *self);
    ULONG(CLR_CALL *Release)(IClassFactory *self);
    HRESULT(CLR_CALL *CreateInstance)(IClassFactory *self, IUnknown *outer, const GUID *riid,
                                      void **ppv);
    HRESULT(CLR_CALL *LockServer)(IClassFactory *self, BOOL lock);
} IClassFactoryVtbl;
struct IClassFactory {
    const IClassFactoryVtbl *lpVtbl;
};
#endif

/* ------------------------------------------------- ICorProfilerCallback..11 */
/* One table for the newest version: every older interface is a prefix of it.
 * The slot number of each entry is in its comment. */
typedef struct ICorProfilerCallback11 ICorProfilerCallback11;
#define CB_ ICorProfilerCallback11 *self
typedef struct ICorProfilerCallback11Vtbl {
    /* IUnknown */
    HRESULT(CLR_CALL *QueryInterface)(CB_, const GUID *riid, void **ppv); /* 0 */
    ULONG(CLR_CALL *AddRef)(CB_);                                         /* 1 */
    ULONG(CLR_CALL *Release)(CB_);                                        /* 2 */
    /* ICorProfilerCallback: 69 methods, slots 3..71 */
    HRESULT(CLR_CALL *Initialize)(CB_, IUnknown *info);                         /* 3 */
    HRESULT(CLR_CALL *Shutdown)(CB_);                                           /* 4 */
    HRESULT(CLR_CALL *AppDomainCreationStarted)(CB_, AppDomainID id);           /* 5 */
    HRESULT(CLR_CALL *AppDomainCreationFinished)(CB_, AppDomainID id, HRESULT); /* 6 */
    HRESULT(CLR_CALL *AppDomainShutdownStarted)(CB_, AppDomainID id);           /* 7 */
    HRESULT(CLR_CALL *AppDomainShutdownFinished)(CB_, AppDomainID id, HRESULT); /* 8 */
    HRESULT(CLR_CALL *AssemblyLoadStarted)(CB_, AssemblyID id);                 /* 9 */
    HRESULT(CLR_CALL *AssemblyLoadFinished)(CB_, AssemblyID id, HRESULT);       /* 10 */
    HRESULT(CLR_CALL *AssemblyUnloadStarted)(CB_, AssemblyID id);               /* 11 */
    HRESULT(CLR_CALL *AssemblyUnloadFinished)(CB_, AssemblyID id, HRESULT);     /* 12 */
    HRESULT(CLR_CALL *ModuleLoadStarted)(CB_, ModuleID id);                     /* 13 */
    HRESULT(CLR_CALL *ModuleLoadFinished)(CB_, ModuleID id, HRESULT);           /* 14 */
    HRESULT(CLR_CALL *ModuleUnloadStarted)(CB_, ModuleID id);                   /* 15 */
    HRESULT(CLR_CALL *ModuleUnloadFinished)(CB_, ModuleID id, HRESULT);         /* 16 */
    HRESULT(CLR_CALL *ModuleAttachedToAssembly)(CB_, ModuleID m, AssemblyID a); /* 17 */
    HRESULT(CLR_CALL *ClassLoadStarted)(CB_, ClassID id);                       /* 18 */
    HRESULT(CLR_CALL *ClassLoadFinished)(CB_, ClassID id, HRESULT);             /* 19 */
    HRESULT(CLR_CALL *ClassUnloadStarted)(CB_, ClassID id);                     /* 20 */
    HRESULT(CLR_CALL *ClassUnloadFinished)(CB_, ClassID id, HRESULT);           /* 21 */
    HRESULT(CLR_CALL *FunctionUnloadStarted)(CB_, FunctionID id);               /* 22 */
    HRESULT(CLR_CALL *JITCompilationStarted)(CB_, FunctionID id, BOOL safe);    /* 23 */
    HRESULT(CLR_CALL *JITCompilationFinished)(CB_, FunctionID id, HRESULT, BOOL safe); /* 24 */
    HRESULT(CLR_CALL *JITCachedFunctionSearchStarted)(CB_, FunctionID id, BOOL *use);  /* 25 */
    HRESULT(CLR_CALL *JITCachedFunctionSearchFinished)(CB_, FunctionID id, int result); /* 26 */
    HRESULT(CLR_CALL *JITFunctionPitched)(CB_, FunctionID id);                          /* 27 */
    HRESULT(CLR_CALL *JITInlining)(CB_, FunctionID caller, FunctionID callee, BOOL *inl); /* 28 */
    HRESULT(CLR_CALL *ThreadCreated)(CB_, ThreadID id);                                 /* 29 */
    HRESULT(CLR_CALL *ThreadDestroyed)(CB_, ThreadID id);                               /* 30 */
    HRESULT(CLR_CALL *ThreadAssignedToOSThread)(CB_, ThreadID id, DWORD os_id);         /* 31 */
    HRESULT(CLR_CALL *RemotingClientInvocationStarted)(CB_);                            /* 32 */
    HRESULT(CLR_CALL *RemotingClientSendingMessage)(CB_, GUID *cookie, BOOL async);     /* 33 */
    HRESULT(CLR_CALL *RemotingClientReceivingReply)(CB_, GUID *cookie, BOOL async);     /* 34 */
    HRESULT(CLR_CALL *RemotingClientInvocationFinished)(CB_);                           /* 35 */
    HRESULT(CLR_CALL *RemotingServerReceivingMessage)(CB_, GUID *cookie, BOOL async);   /* 36 */
    HRESULT(CLR_CALL *RemotingServerInvocationStarted)(CB_);                            /* 37 */
    HRESULT(CLR_CALL *RemotingServerInvocationReturned)(CB_);                           /* 38 */
    HRESULT(CLR_CALL *RemotingServerSendingReply)(CB_, GUID *cookie, BOOL async);       /* 39 */
    HRESULT(CLR_CALL *UnmanagedToManagedTransition)(CB_, FunctionID id, int reason);    /* 40 */
    HRESULT(CLR_CALL *ManagedToUnmanagedTransition)(CB_, FunctionID id, int reason);    /* 41 */
    HRESULT(CLR_CALL *RuntimeSuspendStarted)(CB_, int reason);                          /* 42 */
    HRESULT(CLR_CALL *RuntimeSuspendFinished)(CB_);                                     /* 43 */
    HRESULT(CLR_CALL *RuntimeSuspendAborted)(CB_);                                      /* 44 */
    HRESULT(CLR_CALL *RuntimeResumeStarted)(CB_);                                       /* 45 */
    HRESULT(CLR_CALL *RuntimeResumeFinished)(CB_);                                      /* 46 */
    HRESULT(CLR_CALL *RuntimeThreadSuspended)(CB_, ThreadID id);                        /* 47 */
    HRESULT(CLR_CALL *RuntimeThreadResumed)(CB_, ThreadID id);                          /* 48 */
    HRESULT(CLR_CALL *MovedReferences)(CB_, ULONG n, ObjectID old_start[], ObjectID new_start[],
                                       ULONG length[]);                                 /* 49 */
    HRESULT(CLR_CALL *ObjectAllocated)(CB_, ObjectID obj, ClassID cls);                 /* 50 */
    HRESULT(CLR_CALL *ObjectsAllocatedByClass)(CB_, ULONG n, ClassID cls[], ULONG cnt[]); /* 51 */
    HRESULT(CLR_CALL *ObjectReferences)(CB_, ObjectID obj, ClassID cls, ULONG n,
                                        ObjectID refs[]);                               /* 52 */
    HRESULT(CLR_CALL *RootReferences)(CB_, ULONG n, ObjectID refs[]);                   /* 53 */
    HRESULT(CLR_CALL *ExceptionThrown)(CB_, ObjectID obj);                              /* 54 */
    HRESULT(CLR_CALL *ExceptionSearchFunctionEnter)(CB_, FunctionID id);                /* 55 */
    HRESULT(CLR_CALL *ExceptionSearchFunctionLeave)(CB_);                               /* 56 */
    HRESULT(CLR_CALL *ExceptionSearchFilterEnter)(CB_, FunctionID id);                  /* 57 */
    HRESULT(CLR_CALL *ExceptionSearchFilterLeave)(CB_);                                 /* 58 */
    HRESULT(CLR_CALL *ExceptionSearchCatcherFound)(CB_, FunctionID id);                 /* 59 */
    HRESULT(CLR_CALL *ExceptionOSHandlerEnter)(CB_, UINT_PTR unused);                   /* 60 */
    HRESULT(CLR_CALL *ExceptionOSHandlerLeave)(CB_, UINT_PTR unused);                   /* 61 */
    HRESULT(CLR_CALL *ExceptionUnwindFunctionEnter)(CB_, FunctionID id);                /* 62 */
    HRESULT(CLR_CALL *ExceptionUnwindFunctionLeave)(CB_);                               /* 63 */
    HRESULT(CLR_CALL *ExceptionUnwindFinallyEnter)(CB_, FunctionID id);                 /* 64 */
    HRESULT(CLR_CALL *ExceptionUnwindFinallyLeave)(CB_);                                /* 65 */
    HRESULT(CLR_CALL *ExceptionCatcherEnter)(CB_, FunctionID id, ObjectID obj);         /* 66 */
    HRESULT(CLR_CALL *ExceptionCatcherLeave)(CB_);                                      /* 67 */
    HRESULT(CLR_CALL *COMClassicVTableCreated)(CB_, ClassID cls, const GUID *iid, void *vtable,
                                               ULONG slots);                            /* 68 */
    HRESULT(CLR_CALL *COMClassicVTableDestroyed)(CB_, ClassID cls, const GUID *iid,
                                                 void *vtable);                         /* 69 */
    HRESULT(CLR_CALL *ExceptionCLRCatcherFound)(CB_);                                   /* 70 */
    HRESULT(CLR_CALL *ExceptionCLRCatcherExecute)(CB_);                                 /* 71 */
    /* ICorProfilerCallback2: 8 methods, slots 72..79 */
    HRESULT(CLR_CALL *ThreadNameChanged)(CB_, ThreadID id, ULONG cch, WCHAR name[]);    /* 72 */
    HRESULT(CLR_CALL *GarbageCollectionStarted)(CB_, int generations, BOOL collected[],
                                                int reason);                            /* 73 */
    HRESULT(CLR_CALL *SurvivingReferences)(CB_, ULONG n, ObjectID start[], ULONG length[]); /* 74 */
    HRESULT(CLR_CALL *GarbageCollectionFinished)(CB_);                                  /* 75 */
    HRESULT(CLR_CALL *FinalizeableObjectQueued)(CB_, DWORD flags, ObjectID obj);        /* 76 */
    HRESULT(CLR_CALL *RootReferences2)(CB_, ULONG n, ObjectID refs[], int kinds[], int flags[],
                                       UINT_PTR ids[]);                                 /* 77 */
    HRESULT(CLR_CALL *HandleCreated)(CB_, GCHandleID handle, ObjectID obj);             /* 78 */
    HRESULT(CLR_CALL *HandleDestroyed)(CB_, GCHandleID handle);                         /* 79 */
    /* ICorProfilerCallback3: 3 methods, slots 80..82 */
    HRESULT(CLR_CALL *InitializeForAttach)(CB_, IUnknown *info, void *data, uint32_t cb); /* 80 */
    HRESULT(CLR_CALL *ProfilerAttachComplete)(CB_);                                     /* 81 */
    HRESULT(CLR_CALL *ProfilerDetachSucceeded)(CB_);                                    /* 82 */
    /* ICorProfilerCallback4: 6 methods, slots 83..88 */
    HRESULT(CLR_CALL *ReJITCompilationStarted)(CB_, FunctionID id, ReJITID rejit, BOOL safe); /* 83 */
    HRESULT(CLR_CALL *GetReJITParameters)(CB_, ModuleID m, mdMethodDef tok,
                                          IUnknown *function_control);                  /* 84 */
    HRESULT(CLR_CALL *ReJITCompilationFinished)(CB_, FunctionID id, ReJITID rejit, HRESULT,
                                                BOOL safe);                             /* 85 */
    HRESULT(CLR_CALL *ReJITError)(CB_, ModuleID m, mdMethodDef tok, FunctionID id, HRESULT); /* 86 */
    HRESULT(CLR_CALL *MovedReferences2)(CB_, ULONG n, ObjectID old_start[], ObjectID new_start[],
                                        size_t length[]);                               /* 87 */
    HRESULT(CLR_CALL *SurvivingReferences2)(CB_, ULONG n, ObjectID start[], size_t length[]); /* 88 */
    /* ICorProfilerCallback5: slot 89 */
    HRESULT(CLR_CALL *ConditionalWeakTableElementReferences)(CB_, ULONG n, ObjectID keys[],
                                                             ObjectID values[],
                                                             GCHandleID roots[]);       /* 89 */
    /* ICorProfilerCallback6: slot 90 (never called by CoreCLR) */
    HRESULT(CLR_CALL *GetAssemblyReferences)(CB_, const WCHAR *path, IUnknown *provider); /* 90 */
    /* ICorProfilerCallback7: slot 91 */
    HRESULT(CLR_CALL *ModuleInMemorySymbolsUpdated)(CB_, ModuleID m);                   /* 91 */
    /* ICorProfilerCallback8: slots 92..93 */
    HRESULT(CLR_CALL *DynamicMethodJITCompilationStarted)(CB_, FunctionID id, BOOL safe,
                                                          LPCBYTE il_header, ULONG cb); /* 92 */
    HRESULT(CLR_CALL *DynamicMethodJITCompilationFinished)(CB_, FunctionID id, HRESULT,
                                                           BOOL safe);                  /* 93 */
    /* ICorProfilerCallback9: slot 94 */
    HRESULT(CLR_CALL *DynamicMethodUnloaded)(CB_, FunctionID id);                       /* 94 */
    /* ICorProfilerCallback10: slots 95..96 */
    HRESULT(CLR_CALL *EventPipeEventDelivered)(CB_, UINT_PTR provider, DWORD event_id,
                                               DWORD event_version, ULONG cb_metadata,
                                               LPCBYTE metadata, ULONG cb_data, LPCBYTE data,
                                               const GUID *activity, const GUID *related,
                                               ThreadID thread, ULONG frames,
                                               UINT_PTR stack[]);                       /* 95 */
    HRESULT(CLR_CALL *EventPipeProviderCreated)(CB_, UINT_PTR provider);                /* 96 */
    /* ICorProfilerCallback11: slot 97 */
    HRESULT(CLR_CALL *LoadAsNotificationOnly)(CB_, BOOL *notification_only);            /* 97 */
} ICorProfilerCallback11Vtbl;
#undef CB_
struct ICorProfilerCallback11 {
    const ICorProfilerCallback11Vtbl *lpVtbl;
};
#define CLR_CALLBACK11_SLOTS 98

/* corprof.idl COR_IL_MAP: an original IL offset and its offset in the new
 * body (SetILInstrumentedCodeMap). */
typedef struct COR_IL_MAP {
    ULONG32 oldOffset;
    ULONG32 newOffset;
    BOOL fAccurate;
} COR_IL_MAP;

/* ------------------------------------------------------ ICorProfilerInfo..5 */
/* Slots up to ICorProfilerInfo5::SetEventMask2 (82); only the ones called are
 * typed. */
typedef struct ICorProfilerInfo5 ICorProfilerInfo5;
#define PI_ ICorProfilerInfo5 *self
typedef struct ICorProfilerInfo5Vtbl {
    HRESULT(CLR_CALL *QueryInterface)(PI_, const GUID *riid, void **ppv); /* 0 */
    ULONG(CLR_CALL *AddRef)(PI_);                                         /* 1 */
    ULONG(CLR_CALL *Release)(PI_);                                        /* 2 */
    /* ICorProfilerInfo: 33 methods, slots 3..35 */
    clr_unused_slot_t GetClassFromObject;      /* 3 */
    clr_unused_slot_t GetClassFromToken;       /* 4 */
    clr_unused_slot_t GetCodeInfo;             /* 5 */
    clr_unused_slot_t GetEventMask;            /* 6 */
    clr_unused_slot_t GetFunctionFromIP;       /* 7 */
    clr_unused_slot_t GetFunctionFromToken;    /* 8 */
    clr_unused_slot_t GetHandleFromThread;     /* 9 */
    clr_unused_slot_t GetObjectSize;           /* 10 */
    clr_unused_slot_t IsArrayClass;            /* 11 */
    clr_unused_slot_t GetThreadInfo;           /* 12 */
    clr_unused_slot_t GetCurrentThreadID;      /* 13 */
    clr_unused_slot_t GetClassIDInfo;          /* 14 */
    HRESULT(CLR_CALL *GetFunctionInfo)(PI_, FunctionID id, ClassID *cls, ModuleID *mod,
                                       mdToken *tok);                          /* 15 */
    HRESULT(CLR_CALL *SetEventMask)(PI_, DWORD events);                        /* 16 */
    clr_unused_slot_t SetEnterLeaveFunctionHooks;                              /* 17 */
    HRESULT(CLR_CALL *SetFunctionIDMapper)(PI_, UINT_PTR(CLR_CALL *mapper)(FunctionID id,
                                                                           BOOL *hook)); /* 18 */
    HRESULT(CLR_CALL *GetTokenAndMetaDataFromFunction)(PI_, FunctionID id, const GUID *riid,
                                                       IUnknown **import, mdToken *tok); /* 19 */
    HRESULT(CLR_CALL *GetModuleInfo)(PI_, ModuleID m, LPCBYTE *base, ULONG cch_name,
                                     ULONG *pcch_name, WCHAR name[], AssemblyID *asm_id); /* 20 */
    HRESULT(CLR_CALL *GetModuleMetaData)(PI_, ModuleID id, DWORD open_flags, const GUID *riid,
                                         IUnknown **out);                      /* 21 */
    HRESULT(CLR_CALL *GetILFunctionBody)(PI_, ModuleID m, mdMethodDef tok, LPCBYTE *header,
                                         ULONG *size);                         /* 22 */
    HRESULT(CLR_CALL *GetILFunctionBodyAllocator)(PI_, ModuleID m, IMethodMalloc **malloc); /* 23 */
    HRESULT(CLR_CALL *SetILFunctionBody)(PI_, ModuleID m, mdMethodDef tok, LPCBYTE header); /* 24 */
    clr_unused_slot_t GetAppDomainInfo;               /* 25 */
    clr_unused_slot_t GetAssemblyInfo;                /* 26 */
    clr_unused_slot_t SetFunctionReJIT;               /* 27 */
    clr_unused_slot_t ForceGC;                        /* 28 */
    HRESULT(CLR_CALL *SetILInstrumentedCodeMap)(PI_, FunctionID id, BOOL start_jit, ULONG n,
                                                COR_IL_MAP map[]); /* 29 */
    clr_unused_slot_t GetInprocInspectionInterface;   /* 30 */
    clr_unused_slot_t GetInprocInspectionIThisThread; /* 31 */
    clr_unused_slot_t GetThreadContext;               /* 32 */
    clr_unused_slot_t BeginInprocDebugging;           /* 33 */
    clr_unused_slot_t EndInprocDebugging;             /* 34 */
    clr_unused_slot_t GetILToNativeMapping;           /* 35 */
    /* ICorProfilerInfo2: 21 methods, slots 36..56 */
    clr_unused_slot_t DoStackSnapshot;                 /* 36 */
    clr_unused_slot_t SetEnterLeaveFunctionHooks2;     /* 37 */
    clr_unused_slot_t GetFunctionInfo2;                /* 38 */
    clr_unused_slot_t GetStringLayout;                 /* 39 */
    clr_unused_slot_t GetClassLayout;                  /* 40 */
    clr_unused_slot_t GetClassIDInfo2;                 /* 41 */
    clr_unused_slot_t GetCodeInfo2;                    /* 42 */
    clr_unused_slot_t GetClassFromTokenAndTypeArgs;    /* 43 */
    clr_unused_slot_t GetFunctionFromTokenAndTypeArgs; /* 44 */
    clr_unused_slot_t EnumModuleFrozenObjects;         /* 45 */
    clr_unused_slot_t GetArrayObjectInfo;              /* 46 */
    clr_unused_slot_t GetBoxClassLayout;               /* 47 */
    clr_unused_slot_t GetThreadAppDomain;              /* 48 */
    clr_unused_slot_t GetRVAStaticAddress;             /* 49 */
    clr_unused_slot_t GetAppDomainStaticAddress;       /* 50 */
    clr_unused_slot_t GetThreadStaticAddress;          /* 51 */
    clr_unused_slot_t GetContextStaticAddress;         /* 52 */
    clr_unused_slot_t GetStaticFieldInfo;              /* 53 */
    clr_unused_slot_t GetGenerationBounds;             /* 54 */
    clr_unused_slot_t GetObjectGeneration;             /* 55 */
    clr_unused_slot_t GetNotifiedExceptionClauseInfo;  /* 56 */
    /* ICorProfilerInfo3: 14 methods, slots 57..70 */
    clr_unused_slot_t EnumJITedFunctions;                  /* 57 */
    clr_unused_slot_t RequestProfilerDetach;               /* 58 */
    clr_unused_slot_t SetFunctionIDMapper2;                /* 59 */
    clr_unused_slot_t GetStringLayout2;                    /* 60 */
    HRESULT(CLR_CALL *SetEnterLeaveFunctionHooks3)(PI_, void *enter3, void *leave3,
                                                   void *tailcall3); /* 61 */
    clr_unused_slot_t SetEnterLeaveFunctionHooks3WithInfo; /* 62 */
    clr_unused_slot_t GetFunctionEnter3Info;               /* 63 */
    clr_unused_slot_t GetFunctionLeave3Info;               /* 64 */
    clr_unused_slot_t GetFunctionTailcall3Info;            /* 65 */
    clr_unused_slot_t EnumModules;                         /* 66 */
    HRESULT(CLR_CALL *GetRuntimeInformation)(PI_, USHORT *clr_instance, int *runtime_type,
                                             USHORT *major, USHORT *minor, USHORT *build,
                                             USHORT *qfe, ULONG cch, ULONG *pcch,
                                             WCHAR version[]);         /* 67 */
    clr_unused_slot_t GetThreadStaticAddress2;                         /* 68 */
    clr_unused_slot_t GetAppDomainsContainingModule;                   /* 69 */
    HRESULT(CLR_CALL *GetModuleInfo2)(PI_, ModuleID m, LPCBYTE *base, ULONG cch_name,
                                      ULONG *pcch_name, WCHAR name[], AssemblyID *asm_id,
                                      DWORD *flags);                   /* 70 */
    /* ICorProfilerInfo4: 10 methods, slots 71..80 */
    clr_unused_slot_t EnumThreads;             /* 71 */
    HRESULT(CLR_CALL *InitializeCurrentThread)(PI_); /* 72 */
    HRESULT(CLR_CALL *RequestReJIT)(PI_, ULONG n, ModuleID modules[], mdMethodDef methods[]); /* 73 */
    HRESULT(CLR_CALL *RequestRevert)(PI_, ULONG n, ModuleID modules[], mdMethodDef methods[],
                                     HRESULT status[]); /* 74 */
    clr_unused_slot_t GetCodeInfo3;            /* 75 */
    clr_unused_slot_t GetFunctionFromIP2;      /* 76 */
    clr_unused_slot_t GetReJITIDs;             /* 77 */
    clr_unused_slot_t GetILToNativeMapping2;   /* 78 */
    clr_unused_slot_t EnumJITedFunctions2;     /* 79 */
    clr_unused_slot_t GetObjectSize2;          /* 80 */
    /* ICorProfilerInfo5: 2 methods, slots 81..82 */
    HRESULT(CLR_CALL *GetEventMask2)(PI_, DWORD *low, DWORD *high); /* 81 */
    HRESULT(CLR_CALL *SetEventMask2)(PI_, DWORD low, DWORD high);   /* 82 */
} ICorProfilerInfo5Vtbl;
#undef PI_
struct ICorProfilerInfo5 {
    const ICorProfilerInfo5Vtbl *lpVtbl;
};

/* ---------------------------------------------------------- IMetaDataImport */
/* cor.h; slots up to GetNestedClassProps (62). */
typedef struct IMetaDataImport IMetaDataImport;
#define MI_ IMetaDataImport *self
typedef struct IMetaDataImportVtbl {
    HRESULT(CLR_CALL *QueryInterface)(MI_, const GUID *riid, void **ppv); /* 0 */
    ULONG(CLR_CALL *AddRef)(MI_);                                         /* 1 */
    ULONG(CLR_CALL *Release)(MI_);                                        /* 2 */
    clr_unused_slot_t CloseEnum;             /* 3 */
    clr_unused_slot_t CountEnum;             /* 4 */
    clr_unused_slot_t ResetEnum;             /* 5 */
    clr_unused_slot_t EnumTypeDefs;          /* 6 */
    clr_unused_slot_t EnumInterfaceImpls;    /* 7 */
    clr_unused_slot_t EnumTypeRefs;          /* 8 */
    HRESULT(CLR_CALL *FindTypeDefByName)(MI_, const WCHAR *name, mdToken enclosing,
                                         mdTypeDef *td); /* 9 */
    HRESULT(CLR_CALL *GetScopeProps)(MI_, WCHAR name[], ULONG cch, ULONG *pcch,
                                     GUID *mvid); /* 10 */
    clr_unused_slot_t GetModuleFromScope;    /* 11 */
    HRESULT(CLR_CALL *GetTypeDefProps)(MI_, mdTypeDef td, WCHAR name[], ULONG cch, ULONG *pcch,
                                       DWORD *flags, mdToken *extends); /* 12 */
    clr_unused_slot_t GetInterfaceImplProps; /* 13 */
    HRESULT(CLR_CALL *GetTypeRefProps)(MI_, mdToken tr, mdToken *scope, WCHAR name[], ULONG cch,
                                       ULONG *pcch); /* 14 */
    clr_unused_slot_t ResolveTypeRef;        /* 15 */
    clr_unused_slot_t EnumMembers;           /* 16 */
    clr_unused_slot_t EnumMembersWithName;   /* 17 */
    clr_unused_slot_t EnumMethods;           /* 18 */
    clr_unused_slot_t EnumMethodsWithName;   /* 19 */
    clr_unused_slot_t EnumFields;            /* 20 */
    clr_unused_slot_t EnumFieldsWithName;    /* 21 */
    clr_unused_slot_t EnumParams;            /* 22 */
    clr_unused_slot_t EnumMemberRefs;        /* 23 */
    clr_unused_slot_t EnumMethodImpls;       /* 24 */
    clr_unused_slot_t EnumPermissionSets;    /* 25 */
    clr_unused_slot_t FindMember;            /* 26 */
    HRESULT(CLR_CALL *FindMethod)(MI_, mdTypeDef td, const WCHAR *name, const BYTE *sig,
                                  ULONG cb_sig, mdMethodDef *mb); /* 27 */
    clr_unused_slot_t FindField;             /* 28 */
    clr_unused_slot_t FindMemberRef;         /* 29 */
    HRESULT(CLR_CALL *GetMethodProps)(MI_, mdMethodDef mb, mdTypeDef *cls, WCHAR name[],
                                      ULONG cch, ULONG *pcch, DWORD *attr, const BYTE **sig,
                                      ULONG *cb_sig, ULONG *rva, DWORD *impl_flags); /* 30 */
    HRESULT(CLR_CALL *GetMemberRefProps)(MI_, mdToken mr, mdToken *parent, WCHAR name[], ULONG cch,
                                         ULONG *pcch, const BYTE **sig, ULONG *cb_sig); /* 31 */
    clr_unused_slot_t unused_32_to_40[9];    /* EnumProperties .. GetPermissionSetProps */
    HRESULT(CLR_CALL *GetSigFromToken)(MI_, mdToken sig_token, const BYTE **sig, ULONG *cb_sig); /* 41 */
    clr_unused_slot_t unused_42_to_59[18];   /* GetModuleRefProps .. GetParamProps */
    HRESULT(CLR_CALL *GetCustomAttributeByName)(MI_, mdToken obj, const WCHAR *name,
                                                const void **data, ULONG *cb_data); /* 60 */
    BOOL(CLR_CALL *IsValidToken)(MI_, mdToken tk); /* 61: BOOL, not HRESULT */
    HRESULT(CLR_CALL *GetNestedClassProps)(MI_, mdTypeDef nested, mdTypeDef *enclosing); /* 62 */
} IMetaDataImportVtbl;
#undef MI_
struct IMetaDataImport {
    const IMetaDataImportVtbl *lpVtbl;
};

/* cor.h IMetaDataImport2 (IMetaDataImport's 65 slots, then its own), up to
 * GetMethodSpecProps (67): a MethodSpec's generic method. */
typedef struct IMetaDataImport2 IMetaDataImport2;
typedef struct IMetaDataImport2Vtbl {
    IMetaDataImportVtbl import;                 /* 0 .. 62 */
    clr_unused_slot_t GetNativeCallConvFromSig; /* 63 */
    clr_unused_slot_t IsGlobal;                 /* 64 */
    clr_unused_slot_t EnumGenericParams;        /* 65 */
    clr_unused_slot_t GetGenericParamProps;     /* 66 */
    HRESULT(CLR_CALL *GetMethodSpecProps)(IMetaDataImport2 *self, mdToken spec, mdToken *parent,
                                          const BYTE **sig, ULONG *cb_sig); /* 67 */
} IMetaDataImport2Vtbl;
struct IMetaDataImport2 {
    const IMetaDataImport2Vtbl *lpVtbl;
};

/* ------------------------------------------------------------ IMetaDataEmit */
/* cor.h; slots up to GetTokenFromSig (23): what a probe's MemberRef and a
 * wrapper's new locals need. */
typedef struct IMetaDataEmit IMetaDataEmit;
#define ME_ IMetaDataEmit *self
typedef struct IMetaDataEmitVtbl {
    HRESULT(CLR_CALL *QueryInterface)(ME_, const GUID *riid, void **ppv); /* 0 */
    ULONG(CLR_CALL *AddRef)(ME_);                                         /* 1 */
    ULONG(CLR_CALL *Release)(ME_);                                        /* 2 */
    clr_unused_slot_t SetModuleProps;   /* 3 */
    clr_unused_slot_t Save;             /* 4 */
    clr_unused_slot_t SaveToStream;     /* 5 */
    clr_unused_slot_t GetSaveSize;      /* 6 */
    clr_unused_slot_t DefineTypeDef;    /* 7 */
    clr_unused_slot_t DefineNestedType; /* 8 */
    clr_unused_slot_t SetHandler;       /* 9 */
    clr_unused_slot_t DefineMethod;     /* 10 */
    clr_unused_slot_t DefineMethodImpl; /* 11 */
    HRESULT(CLR_CALL *DefineTypeRefByName)(ME_, mdToken scope, const WCHAR *name,
                                           mdToken *type_ref); /* 12 */
    clr_unused_slot_t DefineImportType; /* 13 */
    HRESULT(CLR_CALL *DefineMemberRef)(ME_, mdToken parent, const WCHAR *name, const BYTE *sig,
                                       ULONG cb_sig, mdToken *member_ref); /* 14 */
    clr_unused_slot_t unused_15_to_22[8]; /* DefineImportMember .. SetRVA */
    HRESULT(CLR_CALL *GetTokenFromSig)(ME_, const BYTE *sig, ULONG cb_sig, mdToken *sig_token); /* 23 */
} IMetaDataEmitVtbl;
#undef ME_
struct IMetaDataEmit {
    const IMetaDataEmitVtbl *lpVtbl;
};

/* ---------------------------------------------------- IMetaDataAssemblyEmit */
/* cor.h ASSEMBLYMETADATA: version and culture of an assembly reference. */
typedef struct ASSEMBLYMETADATA {
    USHORT major, minor, build, revision;
    WCHAR *locale;
    ULONG cb_locale;
    DWORD *processors;
    ULONG n_processors;
    void *os;
    ULONG n_os;
} ASSEMBLYMETADATA;

typedef struct IMetaDataAssemblyEmit IMetaDataAssemblyEmit;
#define MA_ IMetaDataAssemblyEmit *self
typedef struct IMetaDataAssemblyEmitVtbl {
    HRESULT(CLR_CALL *QueryInterface)(MA_, const GUID *riid, void **ppv); /* 0 */
    ULONG(CLR_CALL *AddRef)(MA_);                                         /* 1 */
    ULONG(CLR_CALL *Release)(MA_);                                        /* 2 */
    clr_unused_slot_t DefineAssembly; /* 3 */
    HRESULT(CLR_CALL *DefineAssemblyRef)(MA_, const void *public_key_or_token, ULONG cb_key,
                                         const WCHAR *name, const ASSEMBLYMETADATA *md,
                                         const void *hash, ULONG cb_hash, DWORD flags,
                                         mdToken *assembly_ref); /* 4 */
} IMetaDataAssemblyEmitVtbl;
#undef MA_
struct IMetaDataAssemblyEmit {
    const IMetaDataAssemblyEmitVtbl *lpVtbl;
};

/* ---------------------------------------------- ICorProfilerFunctionControl */
/* What GetReJITParameters is given: the new body and its IL map for one
 * ReJIT request (corprof.idl). SetILFunctionBody copies the buffer. */
typedef struct ICorProfilerFunctionControl ICorProfilerFunctionControl;
#define FC_ ICorProfilerFunctionControl *self
typedef struct ICorProfilerFunctionControlVtbl {
    HRESULT(CLR_CALL *QueryInterface)(FC_, const GUID *riid, void **ppv); /* 0 */
    ULONG(CLR_CALL *AddRef)(FC_);                                         /* 1 */
    ULONG(CLR_CALL *Release)(FC_);                                        /* 2 */
    HRESULT(CLR_CALL *SetCodegenFlags)(FC_, DWORD flags);                 /* 3 */
    HRESULT(CLR_CALL *SetILFunctionBody)(FC_, ULONG cb, LPCBYTE header);  /* 4 */
    HRESULT(CLR_CALL *SetILInstrumentedCodeMap)(FC_, ULONG n, COR_IL_MAP map[]); /* 5 */
} ICorProfilerFunctionControlVtbl;
#undef FC_
struct ICorProfilerFunctionControl {
    const ICorProfilerFunctionControlVtbl *lpVtbl;
};
static_assert(sizeof(ICorProfilerFunctionControlVtbl) == 6 * sizeof(void (*)(void)),
              "ICorProfilerFunctionControl has 6 vtable entries");
static_assert(sizeof(COR_IL_MAP) == 12, "corprof.idl COR_IL_MAP");

/* GetModuleMetaData open flags (cor.h CorOpenFlags). */
enum { CLR_OF_READ = 0x0, CLR_OF_WRITE = 0x1 };

/* ------------------------------------------------------------------- IIDs */
extern const GUID clr_IID_IClassFactory;
extern const GUID clr_IID_ICorProfilerCallback[12]; /* [1]..[11]; [0] is IUnknown */
extern const GUID clr_IID_ICorProfilerInfo5;
extern const GUID clr_IID_IMetaDataImport;
extern const GUID clr_IID_IMetaDataImport2;
extern const GUID clr_IID_IMetaDataEmit;
extern const GUID clr_IID_IMetaDataAssemblyEmit;
extern const GUID clr_IID_ICorProfilerFunctionControl;

/* ------------------------------------------------- slot positions, checked */
#define CLR_SLOT_(vtbl, member) (offsetof(vtbl, member) / sizeof(void (*)(void)))
static_assert(sizeof(ICorProfilerCallback11Vtbl) == CLR_CALLBACK11_SLOTS * sizeof(void (*)(void)),
              "ICorProfilerCallback11 has 98 vtable entries");
static_assert(CLR_SLOT_(ICorProfilerCallback11Vtbl, Initialize) == 3, "slot");
static_assert(CLR_SLOT_(ICorProfilerCallback11Vtbl, Shutdown) == 4, "slot");
static_assert(CLR_SLOT_(ICorProfilerCallback11Vtbl, ModuleLoadFinished) == 14, "slot");
static_assert(CLR_SLOT_(ICorProfilerCallback11Vtbl, ModuleUnloadStarted) == 15, "slot");
static_assert(CLR_SLOT_(ICorProfilerCallback11Vtbl, ModuleUnloadFinished) == 16, "slot");
static_assert(CLR_SLOT_(ICorProfilerCallback11Vtbl, JITCompilationStarted) == 23, "slot");
static_assert(CLR_SLOT_(ICorProfilerCallback11Vtbl, JITCachedFunctionSearchStarted) == 25, "slot");
static_assert(CLR_SLOT_(ICorProfilerCallback11Vtbl, ReJITCompilationStarted) == 83, "slot");
static_assert(CLR_SLOT_(ICorProfilerCallback11Vtbl, GetReJITParameters) == 84, "slot");
static_assert(CLR_SLOT_(ICorProfilerCallback11Vtbl, ReJITCompilationFinished) == 85, "slot");
static_assert(CLR_SLOT_(ICorProfilerCallback11Vtbl, ReJITError) == 86, "slot");
static_assert(CLR_SLOT_(ICorProfilerCallback11Vtbl, ExceptionCLRCatcherExecute) == 71,
              "ICorProfilerCallback ends at 71");
static_assert(CLR_SLOT_(ICorProfilerCallback11Vtbl, HandleDestroyed) == 79, "Callback2 ends");
static_assert(CLR_SLOT_(ICorProfilerCallback11Vtbl, ProfilerDetachSucceeded) == 82, "Callback3");
static_assert(CLR_SLOT_(ICorProfilerCallback11Vtbl, SurvivingReferences2) == 88, "Callback4");
static_assert(CLR_SLOT_(ICorProfilerCallback11Vtbl, LoadAsNotificationOnly) == 97, "Callback11");
static_assert(CLR_SLOT_(ICorProfilerInfo5Vtbl, GetFunctionInfo) == 15, "slot");
static_assert(CLR_SLOT_(ICorProfilerInfo5Vtbl, SetEventMask) == 16, "slot");
static_assert(CLR_SLOT_(ICorProfilerInfo5Vtbl, GetTokenAndMetaDataFromFunction) == 19, "slot");
static_assert(CLR_SLOT_(ICorProfilerInfo5Vtbl, GetModuleInfo) == 20, "slot");
static_assert(CLR_SLOT_(ICorProfilerInfo5Vtbl, GetILFunctionBody) == 22, "slot");
static_assert(CLR_SLOT_(ICorProfilerInfo5Vtbl, GetILFunctionBodyAllocator) == 23, "slot");
static_assert(CLR_SLOT_(ICorProfilerInfo5Vtbl, SetILFunctionBody) == 24, "slot");
static_assert(CLR_SLOT_(ICorProfilerInfo5Vtbl, GetILToNativeMapping) == 35, "Info ends at 35");
static_assert(CLR_SLOT_(ICorProfilerInfo5Vtbl, GetNotifiedExceptionClauseInfo) == 56, "Info2");
static_assert(CLR_SLOT_(ICorProfilerInfo5Vtbl, GetRuntimeInformation) == 67, "slot");
static_assert(CLR_SLOT_(ICorProfilerInfo5Vtbl, GetModuleInfo2) == 70, "slot");
static_assert(CLR_SLOT_(ICorProfilerInfo5Vtbl, SetILInstrumentedCodeMap) == 29, "slot");
static_assert(CLR_SLOT_(ICorProfilerInfo5Vtbl, SetFunctionIDMapper) == 18, "slot");
static_assert(CLR_SLOT_(ICorProfilerInfo5Vtbl, SetEnterLeaveFunctionHooks3) == 61, "slot");
static_assert(CLR_SLOT_(ICorProfilerInfo5Vtbl, InitializeCurrentThread) == 72, "slot");
static_assert(CLR_SLOT_(ICorProfilerInfo5Vtbl, RequestReJIT) == 73, "slot");
static_assert(CLR_SLOT_(ICorProfilerInfo5Vtbl, RequestRevert) == 74, "slot");
static_assert(CLR_SLOT_(IMetaDataImportVtbl, IsValidToken) == 61, "slot");
static_assert(CLR_SLOT_(ICorProfilerFunctionControlVtbl, SetILFunctionBody) == 4, "slot");
static_assert(CLR_SLOT_(ICorProfilerInfo5Vtbl, GetObjectSize2) == 80, "Info4 ends at 80");
static_assert(CLR_SLOT_(ICorProfilerInfo5Vtbl, SetEventMask2) == 82, "slot");
static_assert(CLR_SLOT_(IMetaDataImportVtbl, GetTypeDefProps) == 12, "slot");
static_assert(CLR_SLOT_(IMetaDataImportVtbl, GetMethodProps) == 30, "slot");
static_assert(CLR_SLOT_(IMetaDataImportVtbl, GetCustomAttributeByName) == 60, "slot");
static_assert(CLR_SLOT_(IMetaDataImportVtbl, GetNestedClassProps) == 62, "slot");
static_assert(CLR_SLOT_(IMetaDataEmitVtbl, DefineTypeRefByName) == 12, "slot");
static_assert(CLR_SLOT_(IMetaDataEmitVtbl, DefineMemberRef) == 14, "slot");
static_assert(CLR_SLOT_(IMetaDataEmitVtbl, GetTokenFromSig) == 23, "slot");
static_assert(CLR_SLOT_(IMetaDataImportVtbl, GetTypeRefProps) == 14, "slot");
static_assert(CLR_SLOT_(IMetaDataImportVtbl, GetMemberRefProps) == 31, "slot");
static_assert(CLR_SLOT_(IMetaDataImportVtbl, GetSigFromToken) == 41, "slot");
static_assert(CLR_SLOT_(IMetaDataImport2Vtbl, GetMethodSpecProps) == 67, "slot");
static_assert(CLR_SLOT_(IMetaDataAssemblyEmitVtbl, DefineAssemblyRef) == 4, "slot");
static_assert(CLR_SLOT_(ICorProfilerInfo5Vtbl, GetModuleMetaData) == 21, "slot");
static_assert(sizeof(ASSEMBLYMETADATA) == 8 + 6 * sizeof(void *), "cor.h layout");
static_assert(sizeof(HRESULT) == 4 && sizeof(ULONG) == 4 && sizeof(DWORD) == 4, "32-bit");
static_assert(sizeof(BOOL) == 4 && sizeof(ULONG32) == 4 && sizeof(mdToken) == 4, "32-bit");
static_assert(sizeof(WCHAR) == 2 && sizeof(USHORT) == 2, "UTF-16 code units");
static_assert(sizeof(GUID) == 16, "GUID");
static_assert(sizeof(ModuleID) == sizeof(void *) && sizeof(UINT_PTR) == sizeof(void *), "IDs");
static_assert(sizeof(IClassFactoryVtbl) == 5 * sizeof(void (*)(void)), "IClassFactory");

#endif /* ILHEAP_PROFILER_CLR_ABI_H */
