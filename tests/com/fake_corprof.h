/* A stand-in for the CLR headers a profiler includes (the CoreCLR PAL's
 * pal_mstypes.h, palrt.h, rpc.h/unknwn.h and the MIDL-generated corprof.h),
 * reduced to the declarations ilheap/com.h also makes, each written the way
 * those headers write it: the same guards where they have guards, and the
 * same unguarded typedefs and macros where they have none. The real headers
 * cannot be installed here (no Windows SDK, no CLR source); this file lets the
 * tests include "CorProf.h" before and after ilheap/com.h in one translation
 * unit, under -Werror, and call ilheap's object through CorProf.h's types.
 *
 * The underscore names are the real headers' own and must stay as they are. */
#ifndef FAKE_CORPROF_H
#define FAKE_CORPROF_H

/* ---- pal_mstypes.h: no guards on the base typedefs ---- */
/* The PAL's pal_mstypes.h defines EXTERN_C as nothing in C, which turns
 * `EXTERN_C const IID IID_x;` into a definition in every C file (the PAL is
 * meant for C++); Windows' headers, followed here, use extern. */
#ifdef __cplusplus
#define EXTERN_C extern "C"
#else
#define EXTERN_C extern
#endif
typedef void VOID;
typedef int LONG;           /* NOTE: diff from windows.h, for LP64 compat */
typedef unsigned int ULONG; /* NOTE: diff from windows.h, for LP64 compat */
typedef void *PVOID;
typedef LONG HRESULT;
#ifndef GUID_DEFINED
typedef struct _GUID {
    ULONG Data1;
    unsigned short Data2;
    unsigned short Data3;
    unsigned char Data4[8];
} GUID;
typedef const GUID *LPCGUID;
#define GUID_DEFINED
#endif

/* ---- palrt.h: HRESULT codes and COM macros, unguarded ---- */
#define _HRESULT_TYPEDEF_(_sc) ((HRESULT)_sc)
#define S_OK _HRESULT_TYPEDEF_(0x00000000L)
#define S_FALSE _HRESULT_TYPEDEF_(0x00000001L)
#define E_NOINTERFACE _HRESULT_TYPEDEF_(0x80004002L)
#define E_OUTOFMEMORY _HRESULT_TYPEDEF_(0x8007000EL)
#define E_INVALIDARG _HRESULT_TYPEDEF_(0x80070057L)
#define E_POINTER _HRESULT_TYPEDEF_(0x80004003L)
#define interface struct
#define STDMETHODCALLTYPE /* __cdecl, empty on x86-64 */
typedef GUID IID;
#ifdef __cplusplus
#define REFIID const IID &
#else
#define REFIID const IID *
#endif
#define __IID_DEFINED__
#define MIDL_INTERFACE(x) struct
#define BEGIN_INTERFACE
#define END_INTERFACE
#define CONST_VTBL

/* ---- unknwn.h ---- */
#ifndef __IUnknown_FWD_DEFINED__
#define __IUnknown_FWD_DEFINED__
typedef interface IUnknown IUnknown;
#endif
#ifndef __IUnknown_INTERFACE_DEFINED__
#define __IUnknown_INTERFACE_DEFINED__
EXTERN_C const IID IID_IUnknown;
#if defined(__cplusplus) && !defined(CINTERFACE)
MIDL_INTERFACE("00000000-0000-0000-C000-000000000046")
IUnknown
{
    virtual HRESULT STDMETHODCALLTYPE QueryInterface(REFIID riid, void **ppvObject) = 0;
    virtual ULONG STDMETHODCALLTYPE AddRef(void) = 0;
    virtual ULONG STDMETHODCALLTYPE Release(void) = 0;
};
#else
typedef struct IUnknownVtbl {
    BEGIN_INTERFACE
    HRESULT(STDMETHODCALLTYPE *QueryInterface)(IUnknown *This, REFIID riid, void **ppvObject);
    ULONG(STDMETHODCALLTYPE *AddRef)(IUnknown *This);
    ULONG(STDMETHODCALLTYPE *Release)(IUnknown *This);
    END_INTERFACE
} IUnknownVtbl;
interface IUnknown {
    CONST_VTBL struct IUnknownVtbl *lpVtbl;
};
#endif
#endif

/* ---- corprof.h (MIDL output) ---- */
#ifndef __IMethodMalloc_FWD_DEFINED__
#define __IMethodMalloc_FWD_DEFINED__
typedef interface IMethodMalloc IMethodMalloc;
#endif
#ifndef __IMethodMalloc_INTERFACE_DEFINED__
#define __IMethodMalloc_INTERFACE_DEFINED__
EXTERN_C const IID IID_IMethodMalloc;
#if defined(__cplusplus) && !defined(CINTERFACE)
MIDL_INTERFACE("A0EFB28B-6EE2-4D7B-B983-A75EF7BEEDB8")
IMethodMalloc : public IUnknown
{
public:
    virtual PVOID STDMETHODCALLTYPE Alloc(/* [in] */ ULONG cb) = 0;
};
#else
typedef struct IMethodMallocVtbl {
    BEGIN_INTERFACE
    HRESULT(STDMETHODCALLTYPE *QueryInterface)(IMethodMalloc *This, REFIID riid, void **ppvObject);
    ULONG(STDMETHODCALLTYPE *AddRef)(IMethodMalloc *This);
    ULONG(STDMETHODCALLTYPE *Release)(IMethodMalloc *This);
    PVOID(STDMETHODCALLTYPE *Alloc)(IMethodMalloc *This, /* [in] */ ULONG cb);
    END_INTERFACE
} IMethodMallocVtbl;
interface IMethodMalloc {
    CONST_VTBL struct IMethodMallocVtbl *lpVtbl;
};
#define IMethodMalloc_Alloc(This, cb) ((This)->lpVtbl->Alloc(This, cb))
#endif
#endif

#endif /* FAKE_CORPROF_H */
