/* Counts files (include/ilheap/counts.h): the writer and the reader of both
 * forms, snapshots, the writer's state, damaged files (every truncation,
 * every byte changed: an error with an offset, never a crash), a fault at
 * every OS call and allocation of the writer, and readers racing 8 writing
 * threads. */
#include <dirent.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#ifndef _WIN32
#include <signal.h>
#include <sys/wait.h>
#endif

#include "ilheap/counts.h"
#include "os/fault.h"
#include "test.h"

static char dir_prefix[64];

/* A fresh file name in the working directory (the test's build folder). */
static const char *fresh(const char *what)
{
    static char path[160];
    static unsigned serial;
    if (dir_prefix[0] == 0)
        snprintf(dir_prefix, sizeof dir_prefix, "counts-test-%ld", (long)getpid());
    snprintf(path, sizeof path, "%s-%s-%u.counts", dir_prefix, what, serial++);
    remove(path);
    return path;
}

/* Files whose names start with path (its temporary ones) in the folder,
 * path itself only unless created; with clean, removed. */
static unsigned leftovers(const char *path, int created, int clean)
{
    unsigned n = 0;
    DIR *d = opendir(".");
    for (struct dirent *e; d != NULL && (e = readdir(d)) != NULL;)
        if (strncmp(e->d_name, path, strlen(path)) == 0 && (!created || strcmp(e->d_name, path) != 0)) {
            n++;
            if (clean)
                remove(e->d_name);
        }
    if (d != NULL)
        closedir(d);
    return n;
}

static const uint8_t MVID[16] = {0x5f, 0xad, 0x6d, 0xd8, 0xdd, 0xdd, 0x0c, 0x45, 0x8f, 0x3b, 0x3f, 0x6b, 0x11, 0x2c, 0x45, 0x01};

/* A module, a calls-mode method and a blocks method of 3 probes; the
 * counters' addresses go to calls and blocks. */
static uint64_t write_sample(ilheap_counts_writer_t *w, uint64_t **calls, uint64_t **blocks)
{
    uint64_t mod = 0, m;
    ASSERT_STATUS(ilheap_counts_add_module(w, "/src/bin/App.dll", "App.dll", MVID, &mod), ILHEAP_OK);
    ilheap_probe_key_t entry = {.il_offset = 0, .kind = ILHEAP_PROBE_ENTRY};
    ASSERT_STATUS(ilheap_counts_reserve(w, 1, calls), ILHEAP_OK);
    ASSERT_STATUS(ilheap_counts_add_method(w, mod, 0x06000003, "App.Known::Fib", &entry, 1, *calls, &m), ILHEAP_OK);
    ilheap_probe_key_t keys[3] = {{0, ILHEAP_PROBE_BLOCK, 0}, {7, ILHEAP_PROBE_BLOCK, 0}, {13, ILHEAP_PROBE_BLOCK, 0}};
    ASSERT_STATUS(ilheap_counts_reserve(w, 3, blocks), ILHEAP_OK);
    ASSERT_STATUS(ilheap_counts_add_method(w, mod, 0x06000004, "App.Known::\"Split\"\n", keys, 3, *blocks, NULL),
                  ILHEAP_OK);
    return mod;
}

static void check_sample(ilheap_counts_t *c, uint64_t fib, uint64_t split0)
{
    ilheap_counts_module_t mod;
    ilheap_counts_method_t m;
    ASSERT_STATUS(ilheap_counts_module(c, 0, &mod), ILHEAP_OK);
    ASSERT_STR_EQ(mod.path, "/src/bin/App.dll");
    ASSERT_STR_EQ(mod.name, "App.dll");
    ASSERT_STR_EQ(mod.mvid_text, "d86dad5f-dddd-450c-8f3b-3f6b112c4501");
    ASSERT_STATUS(ilheap_counts_method(c, 0, &m), ILHEAP_OK);
    ASSERT_EQ_X(m.token, 0x06000003);
    ASSERT_STR_EQ(m.name, "App.Known::Fib");
    ASSERT_EQ_U(ilheap_counts_key(c, 0, 0).kind, ILHEAP_PROBE_ENTRY);
    ASSERT_EQ_U(ilheap_counts_hits(c, 0, 0), fib);
    ASSERT_STATUS(ilheap_counts_method(c, 1, &m), ILHEAP_OK);
    ASSERT_EQ_U(m.probes, 3);
    ASSERT_STR_EQ(m.name, "App.Known::\"Split\"\n");
    ASSERT_EQ_U(ilheap_counts_key(c, 1, 2).il_offset, 13);
    ASSERT_EQ_U(ilheap_counts_hits(c, 1, 0), split0);
    ASSERT_EQ_U(ilheap_counts_hits(c, 1, 2), 3);
    ASSERT_STATUS(ilheap_counts_method(c, 2, &m), ILHEAP_EINVAL);
}

static void test_write_read_live(void)
{
    const char *path = fresh("live");
    ilheap_counts_writer_t *w;
    uint64_t *calls, *blocks;
    ASSERT_STATUS(ilheap_counts_create(path, ILHEAP_COUNTS_BLOCKS, &w), ILHEAP_OK);
    uint64_t mod = write_sample(w, &calls, &blocks);
    calls[0] = 1973;
    blocks[0] = 10;
    blocks[2] = 3;
    ilheap_counts_t *c;
    uint64_t off = 99;
    ASSERT_STATUS(ilheap_counts_open(path, &c, &off), ILHEAP_OK);
    ilheap_counts_info_t info;
    ilheap_counts_info(c, &info);
    ASSERT_EQ_U(info.format, ILHEAP_COUNTS_FILE);
    ASSERT_EQ_U(info.version, 1);
    ASSERT_EQ_U(info.flags, ILHEAP_COUNTS_BLOCKS);
    ASSERT_EQ_U(info.pid, (uint64_t)getpid());
    ASSERT_EQ_U(info.modules, 1);
    ASSERT_EQ_U(info.methods, 2);
    ASSERT_EQ_U(info.probes, 4);
    ASSERT_EQ_U(ilheap_counts_state(c), ILHEAP_COUNTS_RUNNING);
    check_sample(c, 1973, 10);
    /* The reader sees the counters as they are now. */
    blocks[0] = 11;
    ASSERT_EQ_U(ilheap_counts_hits(c, 1, 0), 11);
    ASSERT_STATUS(ilheap_counts_finish(w), ILHEAP_OK);
    ASSERT_EQ_U(ilheap_counts_state(c), ILHEAP_COUNTS_EXITED);
    ilheap_counts_close(c);
    /* Withdrawn methods and lost ones. */
    uint64_t *more, m;
    ilheap_probe_key_t k = {0, ILHEAP_PROBE_BLOCK, 0};
    ASSERT_STATUS(ilheap_counts_reserve(w, 1, &more), ILHEAP_OK);
    ASSERT_STATUS(ilheap_counts_add_method(w, mod, 0x06000009, "App.X::Y", &k, 1, more, &m), ILHEAP_OK);
    ilheap_counts_withdraw(w, m);
    ilheap_counts_lost(w, 2);
    ASSERT_STATUS(ilheap_counts_open(path, &c, NULL), ILHEAP_OK);
    ilheap_counts_info(c, &info);
    ASSERT_EQ_U(info.methods, 2);
    ASSERT_EQ_U(info.lost, 2);
    ilheap_counts_close(c);
    ilheap_counts_writer_destroy(w);
    ASSERT_EQ_U(leftovers(path, 1, 0), 0);
    remove(path);
}

/* ------------------------------------------------------------ JSON lines */
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

static const char EXPORTED[] =
    "{\"module\":\"App.dll\",\"path\":\"/src/bin/App.dll\",\"mvid\":\"d86dad5f-dddd-450c-8f3b-3f6b112c4501\","
    "\"method\":\"App.Known::Fib\",\"token\":\"0x06000003\",\"calls\":1973}\n"
    "{\"module\":\"App.dll\",\"path\":\"/src/bin/App.dll\",\"mvid\":\"d86dad5f-dddd-450c-8f3b-3f6b112c4501\","
    "\"method\":\"App.Known::\\\"Split\\\"\\u000a\",\"token\":\"0x06000004\",\"blocks\":[{\"il_offset\":0,\"hits\":10},"
    "{\"il_offset\":7,\"hits\":0},{\"il_offset\":13,\"hits\":3}]}\n";

static void test_jsonl(void)
{
    const char *path = fresh("jsonl");
    ilheap_counts_writer_t *w;
    uint64_t *calls, *blocks;
    ASSERT_STATUS(ilheap_counts_create(path, ILHEAP_COUNTS_BLOCKS, &w), ILHEAP_OK);
    write_sample(w, &calls, &blocks);
    calls[0] = 1973;
    blocks[0] = 10;
    blocks[2] = 3;
    ilheap_counts_t *c, *back;
    ASSERT_STATUS(ilheap_counts_open(path, &c, NULL), ILHEAP_OK);
    text_t t = {.len = 0};
    ASSERT_STATUS(ilheap_counts_write_jsonl(c, to_text, &t), ILHEAP_OK);
    ASSERT_STR_EQ(t.buf, EXPORTED);
    /* The export reads back as the same counts. */
    ASSERT_STATUS(ilheap_counts_read_memory(t.buf, t.len, &back, NULL), ILHEAP_OK);
    ilheap_counts_info_t info;
    ilheap_counts_info(back, &info);
    ASSERT_EQ_U(info.format, ILHEAP_COUNTS_JSONL);
    ASSERT_EQ_U(info.modules, 1);
    ASSERT_EQ_U(ilheap_counts_state(back), ILHEAP_COUNTS_UNKNOWN);
    ASSERT_EQ_U(ilheap_counts_problem_count(back), 0);
    check_sample(back, 1973, 10);
    ilheap_counts_close(back);
    ilheap_counts_close(c);
    ilheap_counts_writer_destroy(w);
    remove(path);
}

static void test_jsonl_problems(void)
{
    static const char lines[] =
        "[1]\n"
        "{\"path\":\"/a.dll\",\"mvid\":\"D86DAD5F-dddd-450c-8f3b-3f6b112c4501\",\"token\":\"0x06000001\",\"calls\":1}\n"
        "{\"path\":\"/a.dll\",\"mvid\":\"d86dad5f-dddd-450c-8f3b-3f6b112c4501\",\"token\":\"0x06000001\",\"calls\":4,"
        "\"later\":[{\"x\":null}]}\r\n"
        "\n"
        "{\"path\":\"/a.dll\",\"mvid\":\"d86dad5f-dddd-450c-8f3b-3f6b112c4501\",\"token\":\"0x06000002\","
        "\"blocks\":[{\"il_offset\":4,\"hits\":1},{\"il_offset\":4,\"hits\":1}]}\n"
        "{\"path\":\"/a.dll\",\"mvid\":\"d86dad5f-dddd-450c-8f3b-3f6b112c4501\",\"token\":\"0x02000002\",\"calls\":1}\n"
        "{\"path\":\"/a.dll\",\"mv";
    ilheap_counts_t *c;
    ASSERT_STATUS(ilheap_counts_read_memory(lines, sizeof lines - 1, &c, NULL), ILHEAP_OK);
    ilheap_counts_info_t info;
    ilheap_counts_info(c, &info);
    ASSERT_EQ_U(info.methods, 1);
    ASSERT_EQ_U(ilheap_counts_hits(c, 0, 0), 4);
    ilheap_counts_module_t mod;
    ASSERT_STATUS(ilheap_counts_module(c, 0, &mod), ILHEAP_OK);
    ASSERT_STR_EQ(mod.name, "a.dll"); /* no "module": the path's file name */
    static const struct {
        uint64_t line;
        const char *text;
    } want[] = {{1, "not a JSON object (column 1)"},
                {2, "\"mvid\" is not a lowercase 8-4-4-4-12 GUID (column 63)"},
                {5, "block offsets are not ascending (column 144)"},
                {6, "\"token\" is not a MethodDef token \"0x06xxxxxx\" (column 84)"},
                {7, "unterminated string (column 21)"}};
    ASSERT_EQ_U(ilheap_counts_problem_count(c), sizeof want / sizeof *want);
    for (size_t i = 0; i < sizeof want / sizeof *want; i++) {
        uint64_t line;
        const char *text = ilheap_counts_problem(c, i, &line);
        ASSERT_EQ_U(line, want[i].line);
        ASSERT_STR_EQ(text, want[i].text);
    }
    ilheap_counts_close(c);
}

/* ------------------------------------------------------------- snapshots */
static void test_snapshot_since(void)
{
    const char *p = fresh("snap-src");
    char path[160], snap[160];
    snprintf(path, sizeof path, "%s", p);
    snprintf(snap, sizeof snap, "%s", fresh("snap"));
    ilheap_counts_writer_t *w;
    uint64_t *calls, *blocks, *later;
    ASSERT_STATUS(ilheap_counts_create(path, ILHEAP_COUNTS_BLOCKS, &w), ILHEAP_OK);
    uint64_t mod = write_sample(w, &calls, &blocks);
    calls[0] = 5;
    blocks[0] = 10;
    ilheap_counts_t *c, *s, *now;
    ASSERT_STATUS(ilheap_counts_open(path, &c, NULL), ILHEAP_OK);
    ASSERT_STATUS(ilheap_counts_snapshot(c, snap), ILHEAP_OK);
    /* After the snapshot: more runs, and a method first compiled now. */
    calls[0] = 8;
    blocks[0] = 9; /* a lost non-atomic update: never below 0 */
    ilheap_probe_key_t k = {0, ILHEAP_PROBE_BLOCK, 0};
    ASSERT_STATUS(ilheap_counts_reserve(w, 1, &later), ILHEAP_OK);
    ASSERT_STATUS(ilheap_counts_add_method(w, mod, 0x06000007, "App.Later::Run", &k, 1, later, NULL), ILHEAP_OK);
    later[0] = 2;
    ASSERT_STATUS(ilheap_counts_open(snap, &s, NULL), ILHEAP_OK);
    ASSERT_EQ_U(ilheap_counts_state(s), ILHEAP_COUNTS_FROZEN);
    ASSERT_EQ_U(ilheap_counts_hits(s, 0, 0), 5); /* frozen */
    ASSERT_STATUS(ilheap_counts_open(path, &now, NULL), ILHEAP_OK);
    ASSERT_STATUS(ilheap_counts_since(now, s), ILHEAP_OK);
    ASSERT_EQ_U(ilheap_counts_hits(now, 0, 0), 3);
    ASSERT_EQ_U(ilheap_counts_hits(now, 1, 0), 0);
    ASSERT_EQ_U(ilheap_counts_hits(now, 2, 0), 2);
    calls[0] = 100; /* frozen since: no longer live */
    ASSERT_EQ_U(ilheap_counts_hits(now, 0, 0), 3);
    /* A snapshot of another file does not apply. */
    ilheap_counts_writer_t *other;
    char other_path[160];
    snprintf(other_path, sizeof other_path, "%s", fresh("other"));
    ASSERT_STATUS(ilheap_counts_create(other_path, 0, &other), ILHEAP_OK);
    ilheap_counts_t *o;
    ASSERT_STATUS(ilheap_counts_open(other_path, &o, NULL), ILHEAP_OK);
    ASSERT_STATUS(ilheap_counts_since(o, s), ILHEAP_COUNTS_MISMATCH);
    ASSERT_STATUS(ilheap_counts_since(s, now), ILHEAP_COUNTS_MISMATCH); /* the later one is no snapshot of the earlier */
    ilheap_counts_close(o);
    ilheap_counts_writer_destroy(other);
    ilheap_counts_close(now);
    ilheap_counts_close(s);
    ilheap_counts_close(c);
    ilheap_counts_writer_destroy(w);
    remove(path);
    remove(snap);
    remove(other_path);
}

/* -------------------------------------------------------- damaged files */
/* The bytes of a small counts file up to its end. */
static size_t sample_bytes(uint8_t *out, size_t cap)
{
    const char *path = fresh("damage");
    ilheap_counts_writer_t *w;
    uint64_t *calls, *blocks;
    if (ilheap_counts_create(path, ILHEAP_COUNTS_BLOCKS, &w) != ILHEAP_OK)
        return 0;
    write_sample(w, &calls, &blocks);
    calls[0] = 7;
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

/* The positions worth damaging: all but the inside of the slabs' counters
 * (64 KiB of zeros each), where one in 4096 is enough. */
static size_t next_position(const uint8_t *bytes, size_t end, size_t p)
{
    for (size_t at = 256; at + 8 <= end;) {
        uint32_t kind = bytes[at], size;
        memcpy(&size, bytes + at + 4, 4);
        if (size < 8)
            break;
        if (kind == 3 && p >= at + 64 && p + 64 < at + size)
            return p + 4096 < at + size - 64 ? p + 4096 : at + size - 64;
        at += size;
    }
    return p + 1;
}

static void test_truncated(void)
{
    static uint8_t bytes[1 << 20];
    size_t end = sample_bytes(bytes, sizeof bytes);
    ASSERT_GT_U(end, 256);
    for (size_t len = 8; len <= end; len = next_position(bytes, end, len)) {
        ilheap_counts_t *c = NULL;
        uint64_t off = UINT64_MAX;
        ilheap_status_t st = ilheap_counts_read_memory(bytes, len, &c, &off);
        if (len == end) {
            ASSERT_STATUS(st, ILHEAP_OK);
        } else {
            ASSERT_STATUS(st, ILHEAP_COUNTS_TRUNCATED);
            ASSERT_EQ_U(off, len); /* where the bytes stop */
            ASSERT_NULL(c);
            ASSERT_TRUE(strstr(ilheap_last_message(), "at offset") != NULL);
        }
        ilheap_counts_close(c);
    }
}

static void expect_bad(const uint8_t *bytes, size_t size, ilheap_status_t want, uint64_t want_off)
{
    ilheap_counts_t *c = NULL;
    uint64_t off = 0;
    ASSERT_STATUS(ilheap_counts_read_memory(bytes, size, &c, &off), want);
    ASSERT_EQ_U(off, want_off);
    ASSERT_NULL(c);
}

static void test_corrupt(void)
{
    static uint8_t bytes[1 << 20], bad[1 << 20];
    size_t end = sample_bytes(bytes, sizeof bytes);
    ASSERT_GT_U(end, 256);
    /* Every byte changed, three ways: never a crash (ASan, valgrind); an
     * error names an offset inside the bytes. */
    for (size_t i = 0; i < end; i = next_position(bytes, end, i))
        for (int v = 0; v < 3; v++) {
            memcpy(bad, bytes, end);
            bad[i] ^= v == 0 ? 0x01 : v == 1 ? 0x80 : 0xFF;
            ilheap_counts_t *c = NULL;
            uint64_t off = 0;
            if (ilheap_counts_read_memory(bad, end, &c, &off) != ILHEAP_OK)
                ASSERT_LE_U(off, end);
            ilheap_counts_close(c);
        }
    /* Known defects, known offsets. The records: module at 256, slab,
     * method, slab, method. */
    memcpy(bad, bytes, end);
    bad[8] = 2;
    expect_bad(bad, end, ILHEAP_COUNTS_VERSION, 8);
    memcpy(bad, bytes, end);
    bad[64] = 3;
    expect_bad(bad, end, ILHEAP_COUNTS_CORRUPT, 64);
    memcpy(bad, bytes, end);
    bad[72] = 4; /* end not a multiple of 8 */
    expect_bad(bad, end, ILHEAP_COUNTS_CORRUPT, 72);
    memcpy(bad, bytes, end);
    memset(bad + 256 + 4, 0, 4); /* the module record's size */
    expect_bad(bad, end, ILHEAP_COUNTS_CORRUPT, 256);
    memcpy(bad, bytes, end);
    bad[256] = 9; /* kind */
    expect_bad(bad, end, ILHEAP_COUNTS_CORRUPT, 256);
    uint32_t module_size;
    memcpy(&module_size, bytes + 260, 4);
    uint32_t slab_size;
    memcpy(&slab_size, bytes + 256 + module_size + 4, 4);
    size_t method = 256 + module_size + slab_size;
    memcpy(bad, bytes, end);
    bad[method + 16] ^= 0x40; /* its counters elsewhere */
    expect_bad(bad, end, ILHEAP_COUNTS_CORRUPT, method + 16);
    memcpy(bad, bytes, end);
    bad[method + 8] += 8; /* its module elsewhere */
    expect_bad(bad, end, ILHEAP_COUNTS_CORRUPT, method + 8);
    memcpy(bad, bytes, end);
    bad[method + 40 + 7] = 9; /* the probe key's kind */
    expect_bad(bad, end, ILHEAP_COUNTS_CORRUPT, method + 40);
}

/* ---------------------------------------------------------------- faults */
/* The writer's whole life, through every kind of OS call: create, a module,
 * a method, counters past the first extent, another method, the mark. The
 * first failing step's status; ILHEAP_OK when all went through. */
static ilheap_status_t writer_life(const char *path, int *created)
{
    ilheap_counts_writer_t *w;
    uint64_t mod, *a, *b;
    ilheap_probe_key_t k = {0, ILHEAP_PROBE_BLOCK, 0};
    ilheap_status_t st = ilheap_counts_create(path, ILHEAP_COUNTS_BLOCKS, &w);
    *created = st == ILHEAP_OK;
    if (st != ILHEAP_OK)
        return st;
    if ((st = ilheap_counts_add_module(w, "/m.dll", "m.dll", MVID, &mod)) == ILHEAP_OK &&
        (st = ilheap_counts_reserve(w, 1, &a)) == ILHEAP_OK &&
        (st = ilheap_counts_add_method(w, mod, 0x06000001, "M::A", &k, 1, a, NULL)) == ILHEAP_OK &&
        (st = ilheap_counts_reserve(w, 70000, &b)) == ILHEAP_OK && /* 560 KB: a new extent */
        (st = ilheap_counts_add_method(w, mod, 0x06000002, "M::B", &k, 1, b, NULL)) == ILHEAP_OK)
        st = ilheap_counts_finish(w);
    if (st == ILHEAP_OK)
        a[0] = b[69999] = 1; /* the counters are writable */
    ilheap_counts_writer_destroy(w);
    return st;
}

static void test_faults(void)
{
    unsigned long fired = 1, n;
    for (n = 1; fired != 0 && n < 500; n++)
        for (int persistent = 0; persistent < 2; persistent++) {
            const char *p = fresh("fault");
            char path[160];
            snprintf(path, sizeof path, "%s", p);
            int created;
            ilheap__fault_arm(n, ILHEAP_FAULT_FILE | ILHEAP_FAULT_PROCESS | ILHEAP_FAULT_MEMORY, ILHEAP_OS_FAILED, 5,
                              persistent);
            ilheap_status_t st = writer_life(path, &created);
            fired = ilheap__fault_disarm();
            if (fired == 0) {
                ASSERT_STATUS(st, ILHEAP_OK);
            } else if (st != ILHEAP_OK) {
                /* A clear status; a message that says what. */
                ASSERT_TRUE(st == ILHEAP_EOS_FILE || st == ILHEAP_ENOMEM);
                const char *msg = ilheap_last_message();
                ASSERT_TRUE(st == ILHEAP_ENOMEM ? strstr(msg, "ILHEAP_ENOMEM") != NULL
                                                : strstr(msg, "counts") != NULL || strstr(msg, path) != NULL);
            }
            /* Whatever failed once: no temporary file left (when every call
             * fails from then on, removing it fails too). The file is there
             * exactly when it was created, valid up to what was published. */
            if (leftovers(path, created, persistent) != 0 && !persistent)
                TEST_FAIL_("a fault at OS call %lu: files left behind", n);
            ilheap_counts_t *c = NULL;
            ilheap_status_t rd = ilheap_counts_open(path, &c, NULL);
            ASSERT_STATUS(rd, created ? ILHEAP_OK : ILHEAP_ENOFILE);
            ilheap_counts_close(c);
            remove(path);
        }
    ASSERT_EQ_U(fired, 0); /* the last run had no fault left to fire */
    fprintf(stderr, "  %lu OS calls and allocations in the writer's life, each failed once and from then on\n", n - 2);
}

/* The readers when any allocation fails: ENOMEM and nothing else (no leak:
 * ASan, valgrind), for both forms. */
static void test_reader_out_of_memory(void)
{
    static uint8_t bytes[1 << 20];
    size_t end = sample_bytes(bytes, sizeof bytes);
    ASSERT_GT_U(end, 256);
    const void *forms[2] = {bytes, EXPORTED};
    size_t sizes[2] = {end, sizeof EXPORTED - 1};
    for (int f = 0; f < 2; f++) {
        unsigned long fired = 1, n;
        for (n = 1; fired != 0 && n < 200; n++) {
            ilheap_counts_t *c = NULL;
            ilheap__fault_arm(n, ILHEAP_FAULT_MEMORY, ILHEAP_OS_NOMEM, 0, 0);
            ilheap_status_t st = ilheap_counts_read_memory(forms[f], sizes[f], &c, NULL);
            fired = ilheap__fault_disarm();
            ASSERT_STATUS(st, fired != 0 ? ILHEAP_ENOMEM : ILHEAP_OK);
            ASSERT_TRUE(fired != 0 ? c == NULL : c != NULL);
            ilheap_counts_close(c);
        }
        ASSERT_EQ_U(fired, 0);
    }
}

/* ------------------------------------------------------------ the race */
#define WRITERS 8
#define METHODS 300

static ilheap_counts_writer_t *race_writer;
static uint64_t race_module;
static int writers_done;

static void *race_write(void *arg)
{
    uintptr_t t = (uintptr_t)arg;
    for (uint32_t i = 0; i < METHODS; i++) {
        uint32_t n = i % 7 + 1;
        uint64_t *counters;
        ilheap_probe_key_t keys[7];
        for (uint32_t b = 0; b < n; b++)
            keys[b] = (ilheap_probe_key_t){b * 3, ILHEAP_PROBE_BLOCK, 0};
        char name[64];
        snprintf(name, sizeof name, "T%u::M%u", (unsigned)t, (unsigned)i);
        if (ilheap_counts_reserve(race_writer, n, &counters) != ILHEAP_OK ||
            ilheap_counts_add_method(race_writer, race_module, 0x06000001 + i, name, keys, n, counters, NULL) !=
                ILHEAP_OK)
            return (void *)1;
        for (uint32_t b = 0; b < n; b++)
            __atomic_fetch_add(&counters[b], b + 1, __ATOMIC_RELAXED);
    }
    return NULL;
}

/* One reading: every method whole (its name says its probes), hits never
 * above what the writer adds; returns the methods seen, or -1. */
static long race_read_once(const char *path)
{
    ilheap_counts_t *c;
    if (ilheap_counts_open(path, &c, NULL) != ILHEAP_OK)
        return -1;
    ilheap_counts_info_t info;
    ilheap_counts_info(c, &info);
    long seen = (long)info.methods;
    for (size_t i = 0; i < info.methods && seen >= 0; i++) {
        ilheap_counts_method_t m;
        unsigned t, k;
        if (ilheap_counts_method(c, i, &m) != ILHEAP_OK || sscanf(m.name, "T%u::M%u", &t, &k) != 2 ||
            m.probes != k % 7 + 1 || m.token != 0x06000001 + k)
            seen = -1;
        for (size_t b = 0; seen >= 0 && b < m.probes; b++)
            if (ilheap_counts_key(c, i, b).il_offset != b * 3 || ilheap_counts_hits(c, i, b) > b + 1)
                seen = -1;
    }
    ilheap_counts_close(c);
    return seen;
}

static void *race_read(void *arg)
{
    long last = 0;
    for (int done = 0; !done;) {
        done = __atomic_load_n(&writers_done, __ATOMIC_ACQUIRE); /* one more reading after the end */
        long seen = race_read_once(arg);
        if (seen < last) /* torn, or the index went backwards */
            return (void *)1;
        last = seen;
    }
    return last == WRITERS * METHODS ? NULL : (void *)2;
}

static void test_race(void)
{
    char path[160];
    snprintf(path, sizeof path, "%s", fresh("race"));
    ASSERT_STATUS(ilheap_counts_create(path, ILHEAP_COUNTS_BLOCKS, &race_writer), ILHEAP_OK);
    ASSERT_STATUS(ilheap_counts_add_module(race_writer, "/r.dll", "r.dll", NULL, &race_module), ILHEAP_OK);
    pthread_t w[WRITERS], r[2];
    for (uintptr_t i = 0; i < 2; i++)
        ASSERT_EQ_I(pthread_create(&r[i], NULL, race_read, path), 0);
    for (uintptr_t i = 0; i < WRITERS; i++)
        ASSERT_EQ_I(pthread_create(&w[i], NULL, race_write, (void *)i), 0);
    void *rc;
    for (int i = 0; i < WRITERS; i++) {
        pthread_join(w[i], &rc);
        ASSERT_NULL(rc);
    }
    __atomic_store_n(&writers_done, 1, __ATOMIC_RELEASE);
    for (int i = 0; i < 2; i++) {
        pthread_join(r[i], &rc);
        ASSERT_NULL(rc);
    }
    ASSERT_EQ_I(race_read_once(path), WRITERS * METHODS);
    ilheap_counts_writer_destroy(race_writer);
    remove(path);
}

/* ------------------------------------------------------------ processes */
static void test_replaced(void)
{
    char path[160];
    snprintf(path, sizeof path, "%s", fresh("replaced"));
    ilheap_counts_writer_t *a, *b;
    uint64_t *calls, *blocks;
    ASSERT_STATUS(ilheap_counts_create(path, ILHEAP_COUNTS_BLOCKS | ILHEAP_COUNTS_SHARED_PATH, &a), ILHEAP_OK);
    write_sample(a, &calls, &blocks);
    ilheap_status_t st = ilheap_counts_create(path, ILHEAP_COUNTS_BLOCKS | ILHEAP_COUNTS_SHARED_PATH, &b);
#ifdef _WIN32
    /* Windows refuses to replace a file that a process maps. */
    if (st != ILHEAP_OK) {
        ASSERT_STATUS(st, ILHEAP_EOS_FILE);
        ilheap_counts_writer_destroy(a);
        remove(path);
        return;
    }
#endif
    ASSERT_STATUS(st, ILHEAP_OK);
    calls[0] = 1; /* the replaced file's counters are still ours to write */
    ilheap_counts_t *c;
    ASSERT_STATUS(ilheap_counts_open(path, &c, NULL), ILHEAP_OK);
    ilheap_counts_info_t info;
    ilheap_counts_info(c, &info);
    ASSERT_EQ_U(info.replaced_pid, (uint64_t)getpid()); /* a running writer's file was replaced */
    ASSERT_EQ_U(info.methods, 0);
    ASSERT_TRUE(info.flags & ILHEAP_COUNTS_SHARED_PATH);
    ilheap_counts_close(c);
    ilheap_counts_writer_destroy(b);
    ilheap_counts_writer_destroy(a);
    remove(path);
}

static void test_killed(void)
{
#ifdef _WIN32
    SKIP("fork: the killed writer is tested on Linux");
#else
    if (getenv("ILHEAP_UNDER_QEMU") != NULL)
        SKIP("fork under qemu user-mode: the child hangs in the emulator; the native stages test it");
    char path[160];
    snprintf(path, sizeof path, "%s", fresh("killed"));
    int pipefd[2];
    ASSERT_EQ_I(pipe(pipefd), 0);
    pid_t child = fork();
    ASSERT_TRUE(child >= 0);
    if (child == 0) {
        ilheap_counts_writer_t *w;
        uint64_t *calls, *blocks;
        if (ilheap_counts_create(path, ILHEAP_COUNTS_BLOCKS, &w) == ILHEAP_OK) {
            write_sample(w, &calls, &blocks);
            calls[0] = 1973;
            blocks[0] = 10;
            blocks[2] = 3;
        }
        (void)!write(pipefd[1], "x", 1);
        for (;;)
            pause();
    }
    char x;
    ASSERT_EQ_I(read(pipefd[0], &x, 1), 1);
    ilheap_counts_t *c;
    ASSERT_STATUS(ilheap_counts_open(path, &c, NULL), ILHEAP_OK);
    ASSERT_EQ_U(ilheap_counts_state(c), ILHEAP_COUNTS_RUNNING);
    check_sample(c, 1973, 10);
    kill(child, SIGKILL);
    waitpid(child, NULL, 0);
    ASSERT_EQ_U(ilheap_counts_state(c), ILHEAP_COUNTS_KILLED);
    ilheap_counts_close(c);
    /* Read again after the kill: every count is there. */
    ASSERT_STATUS(ilheap_counts_open(path, &c, NULL), ILHEAP_OK);
    check_sample(c, 1973, 10);
    ASSERT_EQ_U(ilheap_counts_state(c), ILHEAP_COUNTS_KILLED);
    ilheap_counts_close(c);
    close(pipefd[0]);
    close(pipefd[1]);
    remove(path);
#endif
}

TEST_MAIN(TEST(test_write_read_live), TEST(test_jsonl), TEST(test_jsonl_problems), TEST(test_snapshot_since),
          TEST(test_truncated), TEST(test_corrupt), TEST(test_faults), TEST(test_reader_out_of_memory),
          TEST(test_race), TEST(test_replaced),
          TEST(test_killed))
