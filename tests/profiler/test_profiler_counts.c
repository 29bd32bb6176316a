/* The counting modes' parts that need no runtime: assembly-name patterns and
 * the scope they give, the environment variables and their errors, and the
 * counts file (counts.c) with 8 threads reserving, publishing, withdrawing
 * and counting; a counts file that cannot be written. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ilheap/counts.h"
#include "support.h"
#include "profiler.h"
#include "test.h"

static void test_patterns(void)
{
    ASSERT_TRUE(support_name_list_match("x,Sys*", "System"));
    ASSERT_FALSE(support_name_list_match("", "System"));
    ASSERT_TRUE(support_name_match("*", 1, "anything"));
    ASSERT_TRUE(support_name_match("*", 1, ""));
    ASSERT_TRUE(support_name_match("System.*", 8, "System.Private.CoreLib"));
    ASSERT_FALSE(support_name_match("System.*", 8, "MySystem.Core"));
    ASSERT_TRUE(support_name_match("*Lib", 4, "System.Private.CoreLib"));
    ASSERT_TRUE(support_name_match("a*b*c", 5, "aXXbYYc"));
    ASSERT_FALSE(support_name_match("a*b*c", 5, "aXXbYY"));
    ASSERT_TRUE(support_name_match("a*b*c", 5, "abcbc"));
    ASSERT_TRUE(support_name_match("countsapp", 9, "CountsApp")); /* names are case-insensitive */
    ASSERT_FALSE(support_name_match("CountsApp", 9, "CountsApp2"));
    ASSERT_FALSE(support_name_match("", 0, "x"));
    ASSERT_TRUE(support_name_match("**x**", 5, "x"));
}

static const char *const vars[] = {"ILHEAP_MODE",   "ILHEAP_INCLUDE",  "ILHEAP_EXCLUDE",
                                   "ILHEAP_ATOMIC", "ILHEAP_COUNTS",   "ILHEAP_FALLBACK",
                                   "ILHEAP_REPORT", "ILHEAP_INLINE"};

static void clear_env(void)
{
    for (size_t i = 0; i < sizeof vars / sizeof *vars; i++)
        unsetenv(vars[i]);
}

static void test_scope_and_config(void)
{
    prof_config_t cfg;
    clear_env();
    ASSERT_EQ_I(prof_config_load(&cfg), 0);
    char want[64];
    snprintf(want, sizeof want, "ilheap-counts.%ld.counts", (long)getpid());
    ASSERT_STR_EQ(cfg.counts_path, want);
    ASSERT_EQ_I(cfg.fallback, 0); /* rehome: strict */
    ASSERT_TRUE(prof_config_in_scope(&cfg, "Anything")); /* default: everything */

    setenv("ILHEAP_MODE", "blocks", 1);
    setenv("ILHEAP_INCLUDE", "Shop*,CountsApp", 1);
    setenv("ILHEAP_EXCLUDE", "*.Tests", 1);
    setenv("ILHEAP_ATOMIC", "1", 1);
    setenv("ILHEAP_COUNTS", "/tmp/c.%p.jsonl", 1);
    ASSERT_EQ_I(prof_config_load(&cfg), 0);
    ASSERT_EQ_I(cfg.mode, PROF_MODE_BLOCKS);
    ASSERT_EQ_I(cfg.atomic, 1);
    ASSERT_EQ_I(cfg.fallback, 1); /* counting: on by default */
    ASSERT_EQ_I(cfg.inline_instrumented, 1);
    ASSERT_EQ_U(cfg.include.n, 2);
    ASSERT_TRUE(prof_config_in_scope(&cfg, "Shop"));
    ASSERT_TRUE(prof_config_in_scope(&cfg, "Shop.Core"));
    ASSERT_FALSE(prof_config_in_scope(&cfg, "Shop.Tests")); /* excluded wins */
    ASSERT_TRUE(prof_config_in_scope(&cfg, "countsapp"));
    ASSERT_FALSE(prof_config_in_scope(&cfg, "System.Private.CoreLib"));
    snprintf(want, sizeof want, "/tmp/c.%ld.jsonl", (long)getpid());
    ASSERT_STR_EQ(cfg.counts_path, want);
    setenv("ILHEAP_FALLBACK", "none", 1);
    setenv("ILHEAP_INLINE", "0", 1);
    ASSERT_EQ_I(prof_config_load(&cfg), 0);
    ASSERT_EQ_I(cfg.fallback, 0);
    ASSERT_EQ_I(cfg.inline_instrumented, 0);

    static const char *const bad[][2] = {
        {"ILHEAP_MODE", "block"},        {"ILHEAP_INCLUDE", "a,,b"},   {"ILHEAP_INCLUDE", ","},
        {"ILHEAP_EXCLUDE", "a/b"},       {"ILHEAP_EXCLUDE", "x y"},    {"ILHEAP_INCLUDE", "a?"},
        {"ILHEAP_ATOMIC", "yes"},        {"ILHEAP_FALLBACK", "maybe"}, {"ILHEAP_INLINE", "2"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        clear_env();
        setenv("ILHEAP_MODE", "calls", 1);
        setenv(bad[i][0], bad[i][1], 1);
        ASSERT_EQ_I(prof_config_load(&cfg), -1);
        if (strstr(cfg.error, bad[i][0]) == NULL)
            TEST_FAIL_("%s=%s: the error does not name the variable: %s", bad[i][0], bad[i][1], cfg.error);
        ASSERT_EQ_I(cfg.mode, PROF_MODE_OFF); /* observe only */
    }
    char many[PROF_PATTERNS_MAX * 3 + 8] = "";
    for (int i = 0; i <= PROF_PATTERNS_MAX; i++)
        strcat(many, i ? ",a" : "a");
    clear_env();
    setenv("ILHEAP_INCLUDE", many, 1);
    ASSERT_EQ_I(prof_config_load(&cfg), -1);
    clear_env();
}

#define THREADS 8
#define METHODS_PER_THREAD 200
#define BLOCKS 5

static prof_counts_t *shared_region;

static void *worker(void *arg)
{
    uintptr_t t = (uintptr_t)arg;
    for (uint32_t i = 0; i < METHODS_PER_THREAD; i++) {
        int64_t *c = prof_counts_reserve(shared_region, BLOCKS);
        if (!c)
            return (void *)1;
        ilheap_probe_key_t keys[BLOCKS];
        for (uint32_t b = 0; b < BLOCKS; b++)
            keys[b] = (ilheap_probe_key_t){.il_offset = b * 4, .kind = ILHEAP_PROBE_BLOCK};
        char name[64];
        snprintf(name, sizeof name, "Ns.T%u+\"Q\\%u\x01::M", (unsigned)t, (unsigned)i);
        uint32_t token = 0x06000000u | (uint32_t)(t * METHODS_PER_THREAD + i + 1);
        uint64_t handle;
        if (prof_counts_publish(shared_region, token, name, keys, BLOCKS, c, &handle) != 0)
            return (void *)1;
        if (i == 0) { /* its body was refused: withdrawn, never read */
            prof_counts_withdraw(handle);
            continue;
        }
        for (uint32_t b = 0; b < BLOCKS; b++)
            c[b] = b; /* block b hit b times, once published */
    }
    return NULL;
}

/* The file as a reader sees it: every method published and not withdrawn,
 * with its name and counts. */
static void check_file(const char *path, size_t want)
{
    ilheap_counts_t *k;
    ASSERT_STATUS(ilheap_counts_open(path, &k, NULL), ILHEAP_OK);
    ilheap_counts_info_t info;
    ilheap_counts_info(k, &info);
    ASSERT_EQ_U(info.methods, want);
    ASSERT_EQ_U(info.flags, ILHEAP_COUNTS_BLOCKS | ILHEAP_COUNTS_ATOMIC | ILHEAP_COUNTS_SHARED_PATH);
    ilheap_counts_module_t mod;
    ASSERT_STATUS(ilheap_counts_module(k, 0, &mod), ILHEAP_OK);
    ASSERT_STR_EQ(mod.path, "/x/App.dll");
    ASSERT_STR_EQ(mod.name, "App.dll");
    ASSERT_STR_EQ(mod.mvid_text, "01234567-89ab-cdef-0001-020304050607");
    for (size_t i = 0; i < info.methods; i++) {
        ilheap_counts_method_t m;
        unsigned t, j;
        ASSERT_STATUS(ilheap_counts_method(k, i, &m), ILHEAP_OK);
        ASSERT_EQ_I(sscanf(m.name, "Ns.T%u+\"Q\\%u\x01::M", &t, &j), 2);
        ASSERT_TRUE(j != 0);
        ASSERT_EQ_X(m.token, 0x06000000u | (t * METHODS_PER_THREAD + j + 1));
        for (size_t b = 0; b < BLOCKS; b++) {
            ASSERT_EQ_U(ilheap_counts_key(k, i, b).il_offset, b * 4);
            ASSERT_EQ_U(ilheap_counts_hits(k, i, b), b);
        }
    }
    ilheap_counts_close(k);
}

static void test_counts_file(void)
{
    char path[64];
    snprintf(path, sizeof path, "ilheap-counts-test.%ld.counts", (long)getpid());
    clear_env();
    setenv("ILHEAP_MODE", "blocks", 1);
    setenv("ILHEAP_ATOMIC", "1", 1);
    setenv("ILHEAP_COUNTS", path, 1); /* no %p */
    setenv("ILHEAP_REPORT", "ilheap-counts-test.report", 1); /* diagnostics go there, not to stderr */
    ASSERT_EQ_I(prof_config_load(&prof_g.config), 0);
    ASSERT_EQ_I(prof_g.config.counts_shared, 1);
    ASSERT_EQ_I(prof_counts_start(), 0);
    ASSERT_TRUE(strstr(prof_g.notes, "has no %p") != NULL); /* said in the report */
    uint64_t live0 = atomic_load(&prof_g.counters.counter_bytes_live);
    GUID mvid = {0x01234567, 0x89AB, 0xCDEF, {0, 1, 2, 3, 4, 5, 6, 7}};
    shared_region = prof_counts_create("App.dll", "/x/App.dll", &mvid);
    ASSERT_NOT_NULL(shared_region);
    uint64_t written0 = atomic_load(&prof_g.counters.counts_written);
    pthread_t th[THREADS];
    for (uintptr_t t = 0; t < THREADS; t++)
        ASSERT_EQ_I(pthread_create(&th[t], NULL, worker, (void *)t), 0);
    for (int t = 0; t < THREADS; t++) {
        void *rc = NULL;
        pthread_join(th[t], &rc);
        ASSERT_NULL(rc);
    }
    size_t want = THREADS * (METHODS_PER_THREAD - 1);
    ASSERT_EQ_U(atomic_load(&prof_g.counters.counts_written) - written0, want);
    check_file(path, want); /* live: nothing written at the end is needed */
    prof_counts_destroy(shared_region); /* the module unloads: its counts stay in the file */
    ASSERT_EQ_U(atomic_load(&prof_g.counters.counter_bytes_live), live0);
    prof_counts_finish();
    check_file(path, want);
    unlink(path);
    clear_env();
}

/* A counts file that cannot be written is said, and nothing is counted. */
static void test_counts_unwritable(void)
{
    clear_env();
    setenv("ILHEAP_MODE", "calls", 1);
    setenv("ILHEAP_COUNTS", "no-such-directory/counts.%p", 1);
    setenv("ILHEAP_REPORT", "ilheap-counts-test.report", 1);
    ASSERT_EQ_I(prof_config_load(&prof_g.config), 0);
    ASSERT_EQ_I(prof_g.config.counts_shared, 0);
    prof_g.notes[0] = 0;
    ASSERT_EQ_I(prof_counts_start(), -1);
    ASSERT_TRUE(strstr(prof_g.counts_error, "no such file") != NULL ||
                strstr(prof_g.counts_error, "No such file") != NULL);
    ASSERT_TRUE(strstr(prof_g.notes, "nothing is counted in this process") != NULL);
    prof_g.counts_error[0] = 0;
    clear_env();
}

TEST_MAIN(TEST(test_patterns), TEST(test_scope_and_config), TEST(test_counts_file), TEST(test_counts_unwritable))
