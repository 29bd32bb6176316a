/* What the profiler asks of the operating system: one small interface, one
 * file per system (os_linux.c, os_windows.c), in the shape of the library's
 * src/os. The profiler's logic calls these and no OS function of its own.
 *
 * Strings are UTF-8 on both systems; os_windows.c converts to and from
 * UTF-16 at the edge (environment, file names). Only the lock types differ
 * here: they must be statically initialisable, so their storage is the
 * system's own.
 */
#ifndef ILHEAP_PROFILER_OS_H
#define ILHEAP_PROFILER_OS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#if defined(_WIN32)
/* SRWLOCK and INIT_ONCE are one pointer each, zero when fresh. */
typedef struct prof_os_mutex { void *srw; } prof_os_mutex_t;
typedef struct prof_os_rwlock { void *srw; } prof_os_rwlock_t;
typedef struct prof_os_once { void *init_once; } prof_os_once_t;
typedef struct prof_os_cond { void *cv; } prof_os_cond_t;
#define PROF_OS_COND_INIT {0}
#define PROF_OS_MUTEX_INIT {0}
#define PROF_OS_RWLOCK_INIT {0}
#define PROF_OS_ONCE_INIT {0}
/* The DLL's one export. */
#define PROF_EXPORT __declspec(dllexport)
#else
#include <pthread.h>
typedef struct prof_os_mutex { pthread_mutex_t m; } prof_os_mutex_t;
typedef struct prof_os_rwlock { pthread_rwlock_t rw; } prof_os_rwlock_t;
typedef struct prof_os_once { pthread_once_t once; } prof_os_once_t;
typedef struct prof_os_cond { pthread_cond_t c; } prof_os_cond_t;
#define PROF_OS_COND_INIT {PTHREAD_COND_INITIALIZER}
#define PROF_OS_MUTEX_INIT {PTHREAD_MUTEX_INITIALIZER}
#define PROF_OS_RWLOCK_INIT {PTHREAD_RWLOCK_INITIALIZER}
#define PROF_OS_ONCE_INIT {PTHREAD_ONCE_INIT}
#define PROF_EXPORT __attribute__((visibility("default")))
#endif

/* ------------------------------------------------------------------ locks */
/* A mutex (not recursive). A static one starts as PROF_OS_MUTEX_INIT; one in
 * allocated memory goes through init and destroy. */
void prof_os_mutex_init(prof_os_mutex_t *m);
void prof_os_mutex_destroy(prof_os_mutex_t *m);
void prof_os_mutex_lock(prof_os_mutex_t *m);
void prof_os_mutex_unlock(prof_os_mutex_t *m);

/* A reader-writer lock (static only: PROF_OS_RWLOCK_INIT). */
void prof_os_read_lock(prof_os_rwlock_t *l);
void prof_os_read_unlock(prof_os_rwlock_t *l);
void prof_os_write_lock(prof_os_rwlock_t *l);
void prof_os_write_unlock(prof_os_rwlock_t *l);

/* Runs fn exactly once per once-object, whatever the number of threads; the
 * others wait until it has returned. */
void prof_os_once(prof_os_once_t *once, void (*fn)(void));

/* A condition variable (static only: PROF_OS_COND_INIT), used with a
 * mutex: wait releases m while it sleeps and holds it again when it returns
 * (it may return without a signal: wait in a loop on the condition). */
void prof_os_cond_wait(prof_os_cond_t *c, prof_os_mutex_t *m);
void prof_os_cond_broadcast(prof_os_cond_t *c);

/* --------------------------------------------------------------- threads */
/* Runs fn(arg) on a new thread of the profiler's own, detached (nobody
 * joins it). 0, or -1 when the system refuses a thread. */
int prof_os_thread_start(void (*fn)(void *), void *arg);

/* -------------------------------------------------------- thread storage */
/* A per-thread pointer; destroy (may be NULL) runs at a thread's exit for
 * its non-NULL value. */
typedef struct prof_os_tls {
    uint32_t key;
} prof_os_tls_t;
/* 0, or -1 when the system has no key left. */
int prof_os_tls_create(prof_os_tls_t *tls, void (*destroy)(void *));
void *prof_os_tls_get(prof_os_tls_t tls);
/* 0, or -1 without memory. */
int prof_os_tls_set(prof_os_tls_t tls, void *value);

/* ------------------------------------------------------------------- time */
/* A monotonic clock in nanoseconds (for intervals only). */
uint64_t prof_os_now_ns(void);
/* Ticks per second of the runtime's Stopwatch.GetTimestamp (what timing's
 * probes read): 10^9 on Linux (CLOCK_MONOTONIC in ns), the performance
 * counter's frequency on Windows. */
uint64_t prof_os_timestamp_frequency(void);
/* Gives up the processor for a short while (tens of microseconds to a
 * millisecond): the wait for other threads to leave a module. */
void prof_os_pause(void);

/* ---------------------------------------------------------------- process */
/* The process id, as "%p" in output paths shows it. */
unsigned long prof_os_pid(void);

/* The value of an environment variable in UTF-8, NULL when unset. The string
 * stays valid for the life of the process (read at configuration time). */
const char *prof_os_getenv(const char *name);

/* The unit at which address space can be reserved: a heap's chunk starts
 * on it (the page on Linux, the 64 KiB allocation granularity on Windows). */
size_t prof_os_granularity(void);

/* ----------------------------------------------------------------- files */
/* Creates or truncates the output file at path (UTF-8) for writing, bytes as
 * written ("\n" stays "\n"), not inherited by child processes. NULL on
 * failure. */
FILE *prof_os_open_output(const char *path);

/* The file name in a path as the runtime reports it (after the last '/',
 * and on Windows also '\\' or ':'). */
const char *prof_os_file_name(const char *path);

#endif /* ILHEAP_PROFILER_OS_H */
