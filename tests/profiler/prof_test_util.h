/* Shared by the profiler's C tests: the callback object as the runtime gets it. */
#ifndef ILHEAP_PROF_TEST_UTIL_H
#define ILHEAP_PROF_TEST_UTIL_H

#include "profiler.h"

/* DllGetClassObject, then IClassFactory::CreateInstance for Callback2; NULL on failure. */
static inline ICorProfilerCallback11 *prof_test_create_callback(void)
{
    void *obj = NULL;
    if (DllGetClassObject(&prof_CLSID_profiler, &clr_IID_IClassFactory, &obj) != CLR_S_OK)
        return NULL;
    IClassFactory *factory = obj;
    void *cb = NULL;
    if (factory->lpVtbl->CreateInstance(factory, NULL, &clr_IID_ICorProfilerCallback[2], &cb) !=
        CLR_S_OK)
        cb = NULL;
    factory->lpVtbl->Release(factory);
    return cb;
}

#endif
