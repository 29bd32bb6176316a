/* The profiler's OS interface on Windows: slim reader-writer locks,
 * INIT_ONCE, fiber-local storage (its callback is the thread-exit
 * destructor), QueryPerformanceCounter, the UTF-16 environment and file
 * names. See os.h. */
#include <windows.h>

#include "os.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

static_assert(sizeof(prof_os_mutex_t) == sizeof(SRWLOCK), "an SRWLOCK is one pointer");
static_assert(sizeof(prof_os_rwlock_t) == sizeof(SRWLOCK), "an SRWLOCK is one pointer");
static_assert(sizeof(prof_os_once_t) == sizeof(INIT_ONCE), "an INIT_ONCE is one pointer");

#define SRW(lock) ((PSRWLOCK)(void *)&(lock)->srw)

void prof_os_mutex_init(prof_os_mutex_t *m)
{
    InitializeSRWLock(SRW(m));
}

void prof_os_mutex_destroy(prof_os_mutex_t *m)
{
    (void)m; /* an SRWLOCK holds no resource */
}

void prof_os_mutex_lock(prof_os_mutex_t *m)
{
    AcquireSRWLockExclusive(SRW(m));
}

void prof_os_mutex_unlock(prof_os_mutex_t *m)
{
    ReleaseSRWLockExclusive(SRW(m));
}

void prof_os_read_lock(prof_os_rwlock_t *l)
{
    AcquireSRWLockShared(SRW(l));
}

void prof_os_read_unlock(prof_os_rwlock_t *l)
{
    ReleaseSRWLockShared(SRW(l));
}

void prof_os_write_lock(prof_os_rwlock_t *l)
{
    AcquireSRWLockExclusive(SRW(l));
}

void prof_os_write_unlock(prof_os_rwlock_t *l)
{
    ReleaseSRWLockExclusive(SRW(l));
}

typedef struct once_call {
    void (*fn)(void);
} once_call_t;

static BOOL CALLBACK once_run(PINIT_ONCE once, PVOID parameter, PVOID *context)
{
    (void)once;
    (void)context;
    ((once_call_t *)parameter)->fn();
    return TRUE;
}

void prof_os_once(prof_os_once_t *once, void (*fn)(void))
{
    once_call_t call = {fn};
    InitOnceExecuteOnce((PINIT_ONCE)(void *)&once->init_once, once_run, &call, NULL);
}

static_assert(sizeof(prof_os_cond_t) == sizeof(CONDITION_VARIABLE), "a CONDITION_VARIABLE is one pointer");

void prof_os_cond_wait(prof_os_cond_t *c, prof_os_mutex_t *m)
{
    SleepConditionVariableSRW((PCONDITION_VARIABLE)(void *)&c->cv, SRW(m), INFINITE, 0);
}

void prof_os_cond_broadcast(prof_os_cond_t *c)
{
    WakeAllConditionVariable((PCONDITION_VARIABLE)(void *)&c->cv);
}

typedef struct thread_call {
    void (*fn)(void *);
    void *arg;
} thread_call_t;

static DWORD WINAPI thread_run(LPVOID p)
{
    thread_call_t call = *(thread_call_t *)p;
    free(p);
    call.fn(call.arg);
    return 0;
}

int prof_os_thread_start(void (*fn)(void *), void *arg)
{
    thread_call_t *call = malloc(sizeof *call);
    if (!call)
        return -1;
    call->fn = fn;
    call->arg = arg;
    HANDLE thread = CreateThread(NULL, 0, thread_run, call, 0, NULL);
    if (!thread) {
        free(call);
        return -1;
    }
    CloseHandle(thread); /* detached: nobody waits for it */
    return 0;
}

/* A fiber-local slot's callback gets the value but not the slot, and has the
 * system's calling convention: one small trampoline per slot. */
#define TLS_SLOTS 4
static void (*tls_destroy[TLS_SLOTS])(void *);
static volatile LONG tls_used;

#define TLS_EXIT(i)                                                                \
    static VOID NTAPI tls_exit##i(PVOID value)                                     \
    {                                                                              \
        if (value && tls_destroy[i])                                               \
            tls_destroy[i](value);                                                 \
    }
TLS_EXIT(0)
TLS_EXIT(1)
TLS_EXIT(2)
TLS_EXIT(3)
static const PFLS_CALLBACK_FUNCTION tls_exits[TLS_SLOTS] = {tls_exit0, tls_exit1, tls_exit2,
                                                            tls_exit3};

int prof_os_tls_create(prof_os_tls_t *tls, void (*destroy)(void *))
{
    LONG slot = InterlockedIncrement(&tls_used) - 1;
    if (slot >= TLS_SLOTS)
        return -1;
    tls_destroy[slot] = destroy;
    DWORD index = FlsAlloc(tls_exits[slot]);
    if (index == FLS_OUT_OF_INDEXES)
        return -1;
    tls->key = (uint32_t)index;
    return 0;
}

void *prof_os_tls_get(prof_os_tls_t tls)
{
    return FlsGetValue((DWORD)tls.key);
}

int prof_os_tls_set(prof_os_tls_t tls, void *value)
{
    return FlsSetValue((DWORD)tls.key, value) ? 0 : -1;
}

uint64_t prof_os_now_ns(void)
{
    static LARGE_INTEGER frequency; /* fixed at boot: a benign race */
    LARGE_INTEGER now;
    if (frequency.QuadPart == 0)
        QueryPerformanceFrequency(&frequency);
    QueryPerformanceCounter(&now);
    uint64_t f = (uint64_t)frequency.QuadPart, c = (uint64_t)now.QuadPart;
    return c / f * 1000000000ull + c % f * 1000000000ull / f;
}

uint64_t prof_os_timestamp_frequency(void)
{
    LARGE_INTEGER frequency; /* Stopwatch.Frequency: QueryPerformanceFrequency */
    QueryPerformanceFrequency(&frequency);
    return (uint64_t)frequency.QuadPart;
}

void prof_os_pause(void)
{
    Sleep(1);
}

unsigned long prof_os_pid(void)
{
    return (unsigned long)GetCurrentProcessId();
}

/* UTF-8 to a malloc'd UTF-16 string; NULL on failure. */
static wchar_t *to_utf16(const char *s)
{
    int n = MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, s, -1, NULL, 0);
    wchar_t *w = n > 0 ? malloc((size_t)n * sizeof *w) : NULL;
    if (w && MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, s, -1, w, n) != n) {
        free(w);
        return NULL;
    }
    return w;
}

/* UTF-16 to a malloc'd UTF-8 string; NULL on failure. */
static char *to_utf8(const wchar_t *w)
{
    int n = WideCharToMultiByte(CP_UTF8, 0, w, -1, NULL, 0, NULL, NULL);
    char *s = n > 0 ? malloc((size_t)n) : NULL;
    if (s && WideCharToMultiByte(CP_UTF8, 0, w, -1, s, n, NULL, NULL) != n) {
        free(s);
        return NULL;
    }
    return s;
}

/* Values handed out by prof_os_getenv, kept for the life of the process; a
 * value read again is found here, so repeated reads do not grow the list. */
typedef struct env_value {
    struct env_value *next;
    char *name, *value;
} env_value_t;
static env_value_t *env_values;
static SRWLOCK env_lock = SRWLOCK_INIT;

static const char *env_keep(const char *name, char *value)
{
    AcquireSRWLockExclusive(&env_lock);
    for (env_value_t *e = env_values; e; e = e->next) {
        if (strcmp(e->name, name) == 0 && strcmp(e->value, value) == 0) {
            ReleaseSRWLockExclusive(&env_lock);
            free(value);
            return e->value;
        }
    }
    env_value_t *e = malloc(sizeof *e);
    char *n = e ? _strdup(name) : NULL;
    if (!n) {
        free(e);
        free(value);
        ReleaseSRWLockExclusive(&env_lock);
        return NULL;
    }
    *e = (env_value_t){env_values, n, value};
    env_values = e;
    ReleaseSRWLockExclusive(&env_lock);
    return value;
}

const char *prof_os_getenv(const char *name)
{
    wchar_t *wname = to_utf16(name);
    if (!wname)
        return NULL;
    DWORD n = GetEnvironmentVariableW(wname, NULL, 0); /* with the terminator */
    wchar_t *w = n > 1 ? malloc((size_t)n * sizeof *w) : NULL;
    char *value = w && GetEnvironmentVariableW(wname, w, n) == n - 1 ? to_utf8(w) : NULL;
    free(w);
    free(wname);
    return value ? env_keep(name, value) : NULL;
}

size_t prof_os_granularity(void)
{
    SYSTEM_INFO info;
    GetSystemInfo(&info);
    return info.dwAllocationGranularity;
}

FILE *prof_os_open_output(const char *path)
{
    wchar_t *w = to_utf16(path);
    FILE *f = w ? _wfopen(w, L"wbN") : NULL; /* b: no "\r\n"; N: not inherited */
    free(w);
    return f;
}

const char *prof_os_file_name(const char *path)
{
    const char *name = path;
    for (const char *p = path; *p; p++)
        if (*p == '/' || *p == '\\' || *p == ':')
            name = p + 1;
    return name;
}
