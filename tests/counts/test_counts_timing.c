/* Timing records in counts files (record kind 5 of include/ilheap/counts.h,
 * ILHEAP_MODE=timing): written and read live, withdrawn, exported as JSON
 * lines, kept by snapshots, ticks to nanoseconds at several clock
 * frequencies, bad arguments refused, and damaged records an error with
 * their offset (every byte changed: never a crash). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ilheap/counts.h"
#include "test.h"

static const char *fresh(const char *what)
{
    static char path[160];
    static unsigned serial;
    snprintf(path, sizeof path, "counts-timing-%ld-%s-%u.counts", (long)getpid(), what, serial++);
    remove(path);
    return path;
}

static const uint8_t MVID[16] = {0x5f, 0xad, 0x6d, 0xd8, 0xdd, 0xdd, 0x0c, 0x45, 0x8f, 0x3b, 0x3f, 0x6b, 0x11, 0x2c, 0x45, 0x01};

/* A module, a calls-mode method (files may mix both) and two timed methods;
 * the timed ones' counters go to *a and *b. */
static uint64_t write_sample(ilheap_counts_writer_t *w, uint64_t **a, uint64_t **b, uint64_t *withdrawn)
{
    uint64_t mod = 0, *calls, *gone;
    ASSERT_STATUS(ilheap_counts_add_module(w, "/src/bin/App.dll", "App.dll", MVID, &mod), ILHEAP_OK);
    ilheap_probe_key_t entry = {.il_offset = 0, .kind = ILHEAP_PROBE_ENTRY};
    ASSERT_STATUS(ilheap_counts_reserve(w, 1, &calls), ILHEAP_OK);
    ASSERT_STATUS(ilheap_counts_add_method(w, mod, 0x06000001, "App.P::Main", &entry, 1, calls, NULL), ILHEAP_OK);
    calls[0] = 1;
    ASSERT_STATUS(ilheap_counts_reserve(w, ILHEAP_COUNTS_TIMING_COUNTERS, a), ILHEAP_OK);
    ASSERT_STATUS(ilheap_counts_add_timing(w, mod, 0x06000003, "App.Known::Fib", *a, 1000000000u, NULL), ILHEAP_OK);
    ASSERT_STATUS(ilheap_counts_reserve(w, ILHEAP_COUNTS_TIMING_COUNTERS, &gone), ILHEAP_OK);
    ASSERT_STATUS(ilheap_counts_add_timing(w, mod, 0x06000009, "App.Gone::X", gone, 1000000000u, withdrawn),
                  ILHEAP_OK);
    ASSERT_STATUS(ilheap_counts_reserve(w, ILHEAP_COUNTS_TIMING_COUNTERS, b), ILHEAP_OK);
    ASSERT_STATUS(ilheap_counts_add_timing(w, mod, 0x06000004, "App.Known::\"Throw\"", *b, 10000000u, NULL),
                  ILHEAP_OK);
    return mod;
}

static void expect_timing(const ilheap_counts_t *c, size_t i, uint32_t token, uint64_t calls, uint64_t exc,
                          uint64_t ns)
{
    ilheap_counts_timing_t t;
    ASSERT_STATUS(ilheap_counts_timing(c, i, &t), ILHEAP_OK);
    ASSERT_EQ_X(t.token, token);
    ASSERT_EQ_U(t.module, 0);
    ASSERT_EQ_U(t.calls, calls);
    ASSERT_EQ_U(t.exceptional_exits, exc);
    ASSERT_EQ_U(t.inclusive_ns, ns);
}

static void test_write_read(void)
{
    const char *path = fresh("live");
    ilheap_counts_writer_t *w;
    uint64_t *a, *b, gone;
    ASSERT_STATUS(ilheap_counts_create(path, ILHEAP_COUNTS_TIMING | ILHEAP_COUNTS_ATOMIC, &w), ILHEAP_OK);
    write_sample(w, &a, &b, &gone);
    a[ILHEAP_TIMING_CALLS] = 1973;
    a[ILHEAP_TIMING_TICKS] = 5000000123u; /* 1 GHz: ns as they are */
    ilheap_counts_t *c;
    ASSERT_STATUS(ilheap_counts_open(path, &c, NULL), ILHEAP_OK);
    ilheap_counts_info_t info;
    ilheap_counts_info(c, &info);
    ASSERT_EQ_U(info.flags, ILHEAP_COUNTS_TIMING | ILHEAP_COUNTS_ATOMIC);
    ASSERT_EQ_U(info.methods, 1); /* the calls-mode one: timed methods are apart */
    ASSERT_EQ_U(ilheap_counts_timing_count(c), 3);
    expect_timing(c, 0, 0x06000003, 1973, 0, 5000000123u);
    ilheap_counts_timing_t t;
    ASSERT_STATUS(ilheap_counts_timing(c, 0, &t), ILHEAP_OK);
    ASSERT_STR_EQ(t.name, "App.Known::Fib");
    ASSERT_EQ_U(t.ticks_per_second, 1000000000u);
    /* Live: the reader sees the counters as they are now. 10 MHz ticks are
     * 100 ns each. */
    b[ILHEAP_TIMING_CALLS] = 10;
    b[ILHEAP_TIMING_EXCEPTIONAL] = 2;
    b[ILHEAP_TIMING_TICKS] = 12345;
    expect_timing(c, 2, 0x06000004, 10, 2, 1234500);
    ASSERT_STATUS(ilheap_counts_timing(c, 3, &t), ILHEAP_EINVAL);
    ilheap_counts_close(c);
    /* Withdrawn: its body never reached the runtime. */
    ilheap_counts_withdraw(w, gone);
    ASSERT_STATUS(ilheap_counts_open(path, &c, NULL), ILHEAP_OK);
    ASSERT_EQ_U(ilheap_counts_timing_count(c), 2);
    expect_timing(c, 1, 0x06000004, 10, 2, 1234500);
    ilheap_counts_close(c);
    ilheap_counts_writer_destroy(w);
    remove(path);
}

static void test_bad_arguments(void)
{
    const char *path = fresh("args");
    ilheap_counts_writer_t *w;
    uint64_t *a, *b, gone, x = 0;
    ASSERT_STATUS(ilheap_counts_create(path, ILHEAP_COUNTS_TIMING, &w), ILHEAP_OK);
    uint64_t mod = write_sample(w, &a, &b, &gone);
    ASSERT_STATUS(ilheap_counts_add_timing(w, mod, 1, "X", a, 0, NULL), ILHEAP_EINVAL);
    ASSERT_STATUS(ilheap_counts_add_timing(w, mod, 1, "X", a, 1000000000001ull, NULL), ILHEAP_EINVAL);
    ASSERT_STATUS(ilheap_counts_add_timing(w, mod, 1, "X", &x, 1000, NULL), ILHEAP_EINVAL); /* not the file's */
    ASSERT_STATUS(ilheap_counts_add_timing(w, 8, 1, "X", a, 1000, NULL), ILHEAP_EINVAL);   /* no module there */
    ASSERT_STATUS(ilheap_counts_add_timing(w, mod, 1, NULL, a, 1000, NULL), ILHEAP_EINVAL);
    ASSERT_STATUS(ilheap_counts_add_timing(NULL, mod, 1, "X", a, 1000, NULL), ILHEAP_EINVAL);
    ilheap_counts_t *c;
    ASSERT_STATUS(ilheap_counts_open(path, &c, NULL), ILHEAP_OK);
    ASSERT_EQ_U(ilheap_counts_timing_count(c), 3); /* nothing appended by the refused calls */
    ilheap_counts_close(c);
    ilheap_counts_writer_destroy(w);
    remove(path);
}

/* ------------------------------------------------------------ conversion */
static void test_nanoseconds(void)
{
    const char *path = fresh("ns");
    ilheap_counts_writer_t *w;
    uint64_t mod, *k[4];
    static const uint64_t tps[4] = {3000000000u, 1, 1000000000000ull, 1000000000u};
    ASSERT_STATUS(ilheap_counts_create(path, ILHEAP_COUNTS_TIMING, &w), ILHEAP_OK);
    ASSERT_STATUS(ilheap_counts_add_module(w, "/m.dll", "m.dll", NULL, &mod), ILHEAP_OK);
    for (int i = 0; i < 4; i++) {
        ASSERT_STATUS(ilheap_counts_reserve(w, ILHEAP_COUNTS_TIMING_COUNTERS, &k[i]), ILHEAP_OK);
        ASSERT_STATUS(ilheap_counts_add_timing(w, mod, 0x06000001u + (uint32_t)i, "M::T", k[i], tps[i], NULL),
                      ILHEAP_OK);
    }
    k[0][ILHEAP_TIMING_TICKS] = 7500000000u;    /* 2.5 s at 3 GHz */
    k[1][ILHEAP_TIMING_TICKS] = 19;             /* 19 s at 1 Hz */
    k[2][ILHEAP_TIMING_TICKS] = 1999;           /* 1.999 ns at 1 THz: rounds down */
    k[3][ILHEAP_TIMING_TICKS] = UINT64_MAX - 1; /* ns as they are, no overflow */
    ilheap_counts_t *c;
    ASSERT_STATUS(ilheap_counts_open(path, &c, NULL), ILHEAP_OK);
    expect_timing(c, 0, 0x06000001, 0, 0, 2500000000u);
    expect_timing(c, 1, 0x06000002, 0, 0, 19000000000u);
    expect_timing(c, 2, 0x06000003, 0, 0, 1);
    expect_timing(c, 3, 0x06000004, 0, 0, UINT64_MAX - 1);
    k[1][ILHEAP_TIMING_TICKS] = UINT64_MAX; /* seconds past what ns can hold: saturated */
    expect_timing(c, 1, 0x06000002, 0, 0, UINT64_MAX);
    ilheap_counts_close(c);
    ilheap_counts_writer_destroy(w);
    remove(path);
}

/* ------------------------------------------------ JSON lines, snapshots */
typedef struct text {
    char buf[4096];
    size_t len;
} text_t;

static int to_text(void *ctx, const char *s, size_t n)
{
    text_t *t = ctx;
    if (n >= sizeof t->buf - t->len)
        return 1;
    memcpy(t->buf + t->len, s, n);
    t->len += n;
    t->buf[t->len] = 0;
    return 0;
}

#define HEAD "{\"module\":\"App.dll\",\"path\":\"/src/bin/App.dll\",\"mvid\":\"d86dad5f-dddd-450c-8f3b-3f6b112c4501\","
static const char EXPORTED[] =
    HEAD "\"method\":\"App.P::Main\",\"token\":\"0x06000001\",\"calls\":1}\n"
    HEAD "\"method\":\"App.Known::Fib\",\"token\":\"0x06000003\",\"calls\":1973,\"exceptional_exits\":0,"
         "\"inclusive_ns\":420}\n"
    HEAD "\"method\":\"App.Known::\\\"Throw\\\"\",\"token\":\"0x06000004\",\"calls\":10,\"exceptional_exits\":2,"
         "\"inclusive_ns\":1000}\n";

static void test_jsonl_and_snapshot(void)
{
    char path[160], snap[160];
    snprintf(path, sizeof path, "%s", fresh("jsonl"));
    snprintf(snap, sizeof snap, "%s", fresh("snap"));
    ilheap_counts_writer_t *w;
    uint64_t *a, *b, gone;
    ASSERT_STATUS(ilheap_counts_create(path, ILHEAP_COUNTS_TIMING, &w), ILHEAP_OK);
    write_sample(w, &a, &b, &gone);
    ilheap_counts_withdraw(w, gone);
    a[ILHEAP_TIMING_CALLS] = 1973;
    a[ILHEAP_TIMING_TICKS] = 420;
    b[ILHEAP_TIMING_CALLS] = 10;
    b[ILHEAP_TIMING_EXCEPTIONAL] = 2;
    b[ILHEAP_TIMING_TICKS] = 10;
    ilheap_counts_t *c, *s, *back;
    ASSERT_STATUS(ilheap_counts_open(path, &c, NULL), ILHEAP_OK);
    text_t t = {.len = 0};
    ASSERT_STATUS(ilheap_counts_write_jsonl(c, to_text, &t), ILHEAP_OK);
    ASSERT_STR_EQ(t.buf, EXPORTED);
    /* Read back as JSON lines, a timed method is a timed method again. */
    ASSERT_STATUS(ilheap_counts_read_memory(t.buf, t.len, &back, NULL), ILHEAP_OK);
    ASSERT_EQ_U(ilheap_counts_problem_count(back), 0);
    ASSERT_EQ_U(ilheap_counts_timing_count(back), 2);
    ilheap_counts_timing_t bt;
    ASSERT_STATUS(ilheap_counts_timing(back, 0, &bt), ILHEAP_OK);
    ASSERT_EQ_U(bt.calls, 1973);
    ASSERT_STATUS(ilheap_counts_timing(back, 1, &bt), ILHEAP_OK);
    ASSERT_EQ_U(bt.exceptional_exits, 2);
    ilheap_counts_close(back);
    /* A snapshot holds the timed methods frozen. */
    ASSERT_STATUS(ilheap_counts_snapshot(c, snap), ILHEAP_OK);
    a[ILHEAP_TIMING_CALLS] = 2000;
    ASSERT_STATUS(ilheap_counts_open(snap, &s, NULL), ILHEAP_OK);
    ASSERT_EQ_U(ilheap_counts_state(s), ILHEAP_COUNTS_FROZEN);
    expect_timing(s, 0, 0x06000003, 1973, 0, 420);
    expect_timing(c, 0, 0x06000003, 2000, 0, 420);
    ilheap_counts_close(s);
    ilheap_counts_close(c);
    ilheap_counts_writer_destroy(w);
    remove(path);
    remove(snap);
}

/* -------------------------------------------------------- damaged files */
static size_t sample_bytes(uint8_t *out, size_t cap, uint64_t *timing_at)
{
    const char *path = fresh("damage");
    ilheap_counts_writer_t *w;
    uint64_t mod, *a;
    if (ilheap_counts_create(path, ILHEAP_COUNTS_TIMING, &w) != ILHEAP_OK ||
        ilheap_counts_add_module(w, "/m.dll", "m.dll", MVID, &mod) != ILHEAP_OK ||
        ilheap_counts_reserve(w, ILHEAP_COUNTS_TIMING_COUNTERS, &a) != ILHEAP_OK ||
        ilheap_counts_add_timing(w, mod, 0x06000002, "M::T", a, 1000000000u, timing_at) != ILHEAP_OK)
        return 0;
    a[0] = 7;
    ilheap_counts_writer_destroy(w);
    FILE *f = fopen(path, "rb");
    size_t n = f != NULL ? fread(out, 1, cap, f) : 0;
    if (f != NULL)
        fclose(f);
    remove(path);
    uint64_t end;
    memcpy(&end, out + 72, 8);
    return end <= n ? (size_t)end : 0;
}

static void expect_bad(uint8_t *bad, const uint8_t *bytes, size_t end, size_t at, uint8_t value, uint64_t want_off)
{
    memcpy(bad, bytes, end);
    bad[at] = value;
    ilheap_counts_t *c = NULL;
    uint64_t off = 0;
    ASSERT_STATUS(ilheap_counts_read_memory(bad, end, &c, &off), ILHEAP_COUNTS_CORRUPT);
    ASSERT_EQ_U(off, want_off);
    ASSERT_NULL(c);
}

static void test_corrupt(void)
{
    static uint8_t bytes[1 << 20], bad[1 << 20];
    uint64_t at = 0;
    size_t end = sample_bytes(bytes, sizeof bytes, &at);
    ASSERT_GT_U(end, 256);
    ASSERT_GT_U(at, 256);
    /* Every byte of the timing record changed, three ways, and every cut
     * inside it: never a crash; an error names an offset in the bytes. */
    for (size_t i = (size_t)at; i < end; i++)
        for (int v = 0; v < 3; v++) {
            memcpy(bad, bytes, end);
            bad[i] ^= v == 0 ? 0x01 : v == 1 ? 0x80 : 0xFF;
            ilheap_counts_t *c = NULL;
            uint64_t off = 0;
            if (ilheap_counts_read_memory(bad, end, &c, &off) != ILHEAP_OK)
                ASSERT_LE_U(off, end);
            ilheap_counts_close(c);
        }
    for (size_t len = (size_t)at; len < end; len++) {
        ilheap_counts_t *c = NULL;
        ASSERT_STATUS(ilheap_counts_read_memory(bytes, len, &c, NULL), ILHEAP_COUNTS_TRUNCATED);
    }
    expect_bad(bad, bytes, end, (size_t)at + 4, 16, at);            /* a record too small */
    expect_bad(bad, bytes, end, (size_t)at + 8, 8, at + 8);         /* its module elsewhere */
    expect_bad(bad, bytes, end, (size_t)at + 16, 4, at + 16);       /* counters not aligned */
    expect_bad(bad, bytes, end, (size_t)at + 16 + 3, 0x40, at + 16); /* counters in no slab */
    expect_bad(bad, bytes, end, (size_t)at + 28, 0xF0, at + 28);    /* a name past the record */
    expect_bad(bad, bytes, end, (size_t)at + 32 + 7, 0x10, at + 32); /* ticks per second past 10^12 */
    memcpy(bad, bytes, end);
    memset(bad + at + 32, 0, 8); /* no ticks per second */
    ilheap_counts_t *c = NULL;
    uint64_t off = 0;
    ASSERT_STATUS(ilheap_counts_read_memory(bad, end, &c, &off), ILHEAP_COUNTS_CORRUPT);
    ASSERT_EQ_U(off, at + 32);
    expect_bad(bad, bytes, end, (size_t)at + 40, 0, at + 40); /* a NUL in the name */
}

TEST_MAIN(TEST(test_write_read), TEST(test_bad_arguments), TEST(test_nanoseconds), TEST(test_jsonl_and_snapshot),
          TEST(test_corrupt))
