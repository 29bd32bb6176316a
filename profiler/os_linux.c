/* The profiler's OS interface on Linux (and other POSIX systems): pthreads,
 * clock_gettime, getpid, getenv, fopen. See os.h. */
#include "os.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

void prof_os_mutex_init(prof_os_mutex_t *m)
{
    pthread_mutex_init(&m->m, NULL);
}

void prof_os_mutex_destroy(prof_os_mutex_t *m)
{
    pthread_mutex_destroy(&m->m);
}

void prof_os_mutex_lock(prof_os_mutex_t *m)
{
    pthread_mutex_lock(&m->m);
}

void prof_os_mutex_unlock(prof_os_mutex_t *m)
{
    pthread_mutex_unlock(&m->m);
}

void prof_os_read_lock(prof_os_rwlock_t *l)
{
    pthread_rwlock_rdlock(&l->rw);
}

void prof_os_read_unlock(prof_os_rwlock_t *l)
{
    pthread_rwlock_unlock(&l->rw);
}

void prof_os_write_lock(prof_os_rwlock_t *l)
{
    pthread_rwlock_wrlock(&l->rw);
}

void prof_os_write_unlock(prof_os_rwlock_t *l)
{
    pthread_rwlock_unlock(&l->rw);
}

void prof_os_once(prof_os_once_t *once, void (*fn)(void))
{
    pthread_once(&once->once, fn);
}

void prof_os_cond_wait(prof_os_cond_t *c, prof_os_mutex_t *m)
{
    pthread_cond_wait(&c->c, &m->m);
}

void prof_os_cond_broadcast(prof_os_cond_t *c)
{
    pthread_cond_broadcast(&c->c);
}

typedef struct thread_call {
    void (*fn)(void *);
    void *arg;
} thread_call_t;

static void *thread_run(void *p)
{
    thread_call_t call = *(thread_call_t *)p;
    free(p);
    call.fn(call.arg);
    return NULL;
}

int prof_os_thread_start(void (*fn)(void *), void *arg)
{
    thread_call_t *call = malloc(sizeof *call);
    if (!call)
        return -1;
    call->fn = fn;
    call->arg = arg;
    pthread_attr_t attr;
    pthread_t thread;
    int ok = pthread_attr_init(&attr) == 0;
    if (ok) {
        ok = pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED) == 0 &&
             pthread_create(&thread, &attr, thread_run, call) == 0;
        pthread_attr_destroy(&attr);
    }
    if (!ok)
        free(call);
    return ok ? 0 : -1;
}

int prof_os_tls_create(prof_os_tls_t *tls, void (*destroy)(void *))
{
    pthread_key_t key;
    if (pthread_key_create(&key, destroy) != 0)
        return -1;
    tls->key = (uint32_t)key;
    return 0;
}

void *prof_os_tls_get(prof_os_tls_t tls)
{
    return pthread_getspecific((pthread_key_t)tls.key);
}

int prof_os_tls_set(prof_os_tls_t tls, void *value)
{
    return pthread_setspecific((pthread_key_t)tls.key, value) == 0 ? 0 : -1;
}

uint64_t prof_os_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

uint64_t prof_os_timestamp_frequency(void)
{
    return 1000000000u; /* SystemNative_GetTimestamp: clock_gettime(CLOCK_MONOTONIC) in ns */
}

void prof_os_pause(void)
{
    struct timespec pause = {0, 50 * 1000};
    nanosleep(&pause, NULL);
}

unsigned long prof_os_pid(void)
{
    return (unsigned long)getpid();
}

const char *prof_os_getenv(const char *name)
{
    return getenv(name);
}

size_t prof_os_granularity(void)
{
    long page = sysconf(_SC_PAGESIZE);
    return page > 0 ? (size_t)page : 4096;
}

FILE *prof_os_open_output(const char *path)
{
    return fopen(path, "we"); /* "e": O_CLOEXEC */
}

const char *prof_os_file_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}
