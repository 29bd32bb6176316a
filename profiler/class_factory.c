/* How the runtime gets in: DllGetClassObject hands out a class factory whose
 * CreateInstance makes the one callback object.
 *
 * CoreCLR dlopens (Linux) or LoadLibrary's (Windows) CORECLR_PROFILER_PATH,
 * looks up the one export, calls DllGetClassObject with
 * the CLSID from CORECLR_PROFILER and IID_IClassFactory, then CreateInstance
 * (NULL, IID_ICorProfilerCallback2) and QueryInterface for Callback11 down to
 * Callback3, keeping the newest that answers. */
#include "profiler.h"

#include <stdatomic.h>

/* The callback object lives in callback.c. */
HRESULT prof_callback_create(const GUID *riid, void **ppv);

typedef struct prof_factory {
    IClassFactory iface;
} prof_factory_t;

static HRESULT CLR_CALL factory_query_interface(IClassFactory *self, const GUID *riid, void **ppv)
{
    if (!ppv)
        return CLR_E_POINTER;
    if (riid && (prof_guid_eq(riid, &clr_IID_IClassFactory) ||
                 prof_guid_eq(riid, &clr_IID_ICorProfilerCallback[0]))) {
        *ppv = self;
        return CLR_S_OK;
    }
    *ppv = NULL;
    return CLR_E_NOINTERFACE;
}

/* The factory is static: its count never reaches zero. */
static ULONG CLR_CALL factory_add_ref(IClassFactory *self)
{
    (void)self;
    return 2;
}

static ULONG CLR_CALL factory_release(IClassFactory *self)
{
    (void)self;
    return 1;
}

static HRESULT CLR_CALL factory_create_instance(IClassFactory *self, IUnknown *outer,
                                                const GUID *riid, void **ppv)
{
    (void)self;
    if (!ppv)
        return CLR_E_POINTER;
    *ppv = NULL;
    if (outer)
        return CLR_CLASS_E_NOAGGREGATION;
    return prof_callback_create(riid, ppv);
}

static HRESULT CLR_CALL factory_lock_server(IClassFactory *self, BOOL lock)
{
    (void)self;
    (void)lock;
    return CLR_S_OK;
}

static const IClassFactoryVtbl factory_vtbl = {
    factory_query_interface, factory_add_ref, factory_release,
    factory_create_instance, factory_lock_server,
};

static prof_factory_t factory = {{&factory_vtbl}};

HRESULT CLR_CALL DllGetClassObject(const GUID *rclsid, const GUID *riid, void **ppv)
{
    if (!ppv)
        return CLR_E_POINTER;
    *ppv = NULL;
    if (!rclsid || !prof_guid_eq(rclsid, &prof_CLSID_profiler))
        return CLR_CLASS_E_CLASSNOTAVAILABLE;
    return factory_query_interface(&factory.iface, riid, ppv);
}
