/* Shared by the profiler's C tests: the callback object as the runtime gets
 * it, and the environment the profiler reads (prof_os_getenv) set on both
 * systems. */
#ifndef ILHEAP_PROF_TEST_UTIL_H
#define ILHEAP_PROF_TEST_UTIL_H

#include "profiler.h"

#if defined(_WIN32)
#include <windows.h>
#else
#include <stdlib.h>
#endif

/* Sets name to value (UTF-8) in the process environment; NULL removes it. */
static inline void prof_test_setenv(const char *name, const char *value)
{
#if defined(_WIN32)
    wchar_t wname[256], wvalue[4096];
    MultiByteToWideChar(CP_UTF8, 0, name, -1, wname, 256);
    if (value)
        MultiByteToWideChar(CP_UTF8, 0, value, -1, wvalue, 4096);
    SetEnvironmentVariableW(wname, value ? wvalue : NULL);
#else
    if (value)
        setenv(name, value, 1);
    else
        unsetenv(name);
#endif
}

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
