/* The profiler's OS interface (profiler/os.h), the same cases on Linux and
 * on Windows (under Wine): locks and once from many threads, thread storage
 * whose destructor runs at thread exit, the clock, the environment in UTF-8,
 * output files written byte for byte, file names in the runtime's paths. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "os.h"
#include "prof_test_util.h"
#include "test.h"

#define THREADS 8
#define ROUNDS 20000

static prof_os_mutex_t counter_lock = PROF_OS_MUTEX_INIT;
static prof_os_rwlock_t table_lock = PROF_OS_RWLOCK_INIT;
static prof_os_once_t once = PROF_OS_ONCE_INIT;
static long counter, table_value, once_runs;
static prof_os_tls_t slot;
static long destroyed;

static void once_body(void)
{
    once_runs++;
}

static void destroy_value(void *p)
{
    prof_os_mutex_lock(&counter_lock);
    destroyed += *(long *)p;
    prof_os_mutex_unlock(&counter_lock);
}

static void *worker(void *arg)
{
    static long values[THREADS];
    long index = (long)(intptr_t)arg;
    prof_os_once(&once, once_body);
    for (int i = 0; i < ROUNDS; i++) {
        prof_os_mutex_lock(&counter_lock);
        counter++;
        prof_os_mutex_unlock(&counter_lock);
        if (i % 64 == 0) {
            prof_os_write_lock(&table_lock);
            table_value++;
            prof_os_write_unlock(&table_lock);
        } else {
            prof_os_read_lock(&table_lock);
            (void)table_value;
            prof_os_read_unlock(&table_lock);
        }
    }
    values[index] = index + 1;
    if (prof_os_tls_get(slot) != NULL || prof_os_tls_set(slot, &values[index]) != 0 ||
        prof_os_tls_get(slot) != &values[index])
        return (void *)1;
    return NULL;
}

static void test_locks_once_and_thread_storage(void)
{
    ASSERT_EQ_I(prof_os_tls_create(&slot, destroy_value), 0);
    pthread_t th[THREADS];
    for (long t = 0; t < THREADS; t++)
        ASSERT_EQ_I(pthread_create(&th[t], NULL, worker, (void *)(intptr_t)t), 0);
    for (int t = 0; t < THREADS; t++) {
        void *rc = NULL;
        pthread_join(th[t], &rc);
        ASSERT_NULL(rc);
    }
    ASSERT_EQ_I(once_runs, 1);
    ASSERT_EQ_I(counter, (long)THREADS * ROUNDS);
    ASSERT_EQ_I(table_value, (long)THREADS * ((ROUNDS + 63) / 64));
    /* Each thread's value was handed to the destructor at its exit. */
    ASSERT_EQ_I(destroyed, (long)THREADS * (THREADS + 1) / 2);
    ASSERT_NULL(prof_os_tls_get(slot)); /* this thread never set one */
    prof_os_mutex_t m;
    prof_os_mutex_init(&m);
    prof_os_mutex_lock(&m);
    prof_os_mutex_unlock(&m);
    prof_os_mutex_destroy(&m);
}

static void test_clock_and_process(void)
{
    uint64_t t0 = prof_os_now_ns();
    prof_os_pause();
    uint64_t t1 = prof_os_now_ns();
    ASSERT_GT_U(t1, t0);
    ASSERT_LT_U(t1 - t0, 10ull * 1000 * 1000 * 1000);
    ASSERT_GT_U(prof_os_pid(), 0);
    size_t unit = prof_os_granularity();
    ASSERT_TRUE(unit >= 4096 && (unit & (unit - 1)) == 0);
}

static void test_environment_in_utf8(void)
{
    prof_test_setenv("ILHEAP_TEST_OS_VAR", "caf\xC3\xA9 \xE2\x82\xAC");
    const char *v = prof_os_getenv("ILHEAP_TEST_OS_VAR");
    ASSERT_NOT_NULL(v);
    ASSERT_STR_EQ(v, "caf\xC3\xA9 \xE2\x82\xAC");
    /* Read again: the same answer. */
    ASSERT_STR_EQ(prof_os_getenv("ILHEAP_TEST_OS_VAR"), v);
    prof_test_setenv("ILHEAP_TEST_OS_VAR", NULL);
    ASSERT_NULL(prof_os_getenv("ILHEAP_TEST_OS_VAR"));
}

static void test_output_file_bytes(void)
{
    /* A UTF-8 name in the working directory; "\n" must stay one byte. */
    char path[64];
    snprintf(path, sizeof path, "prof-os-\xC3\xA9.%lu.txt", prof_os_pid());
    FILE *f = prof_os_open_output(path);
    ASSERT_NOT_NULL(f);
    fputs("a=1\nb=2\n", f);
    fclose(f);
    f = prof_os_open_output(path); /* truncates */
    ASSERT_NOT_NULL(f);
    fputs("c=3\n", f);
    fclose(f);
#if defined(_WIN32)
    wchar_t wpath[64];
    MultiByteToWideChar(CP_UTF8, 0, path, -1, wpath, 64);
    f = _wfopen(wpath, L"rb");
#else
    f = fopen(path, "rb");
#endif
    ASSERT_NOT_NULL(f);
    char buf[16] = {0};
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
#if defined(_WIN32)
    _wremove(wpath);
#else
    remove(path);
#endif
    ASSERT_EQ_U(n, 4);
    ASSERT_STR_EQ(buf, "c=3\n");
    ASSERT_NULL(prof_os_open_output("no-such-directory/x/report.txt"));
}

static void test_file_names(void)
{
    ASSERT_STR_EQ(prof_os_file_name("/usr/share/dotnet/App.dll"), "App.dll");
    ASSERT_STR_EQ(prof_os_file_name("App.dll"), "App.dll");
#if defined(_WIN32)
    ASSERT_STR_EQ(prof_os_file_name("C:\\Program Files\\dotnet\\App.dll"), "App.dll");
    ASSERT_STR_EQ(prof_os_file_name("C:App.dll"), "App.dll");
#endif
}

TEST_MAIN(TEST(test_locks_once_and_thread_storage), TEST(test_clock_and_process),
          TEST(test_environment_in_utf8), TEST(test_output_file_bytes), TEST(test_file_names))
