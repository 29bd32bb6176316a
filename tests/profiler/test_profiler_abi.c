/* The profiler's parts that need no runtime: the COM objects as the runtime
 * sees them (class factory, all 98 callback slots, QueryInterface answers),
 * environment parsing, the PE header reader, the window check, UTF-16. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ilheap/heap.h"
#include "prof_test_util.h"
#include "profiler.h"
#include "test.h"

static ICorProfilerCallback11 *create_callback(void)
{
    return prof_test_create_callback();
}

static void test_class_factory(void)
{
    static const GUID other = {0x12345678, 0x1, 0x2, {1, 2, 3, 4, 5, 6, 7, 8}};
    void *obj = &obj;
    ASSERT_EQ_X((uint32_t)DllGetClassObject(&other, &clr_IID_IClassFactory, &obj),
                (uint32_t)CLR_CLASS_E_CLASSNOTAVAILABLE);
    ASSERT_NULL(obj);
    ASSERT_EQ_X((uint32_t)DllGetClassObject(&prof_CLSID_profiler, &clr_IID_IClassFactory, NULL),
                (uint32_t)CLR_E_POINTER);
    ASSERT_EQ_I(DllGetClassObject(&prof_CLSID_profiler, &clr_IID_IClassFactory, &obj), CLR_S_OK);
    IClassFactory *factory = obj;
    void *cb = &cb;
    IUnknown outer_dummy = {0};
    ASSERT_EQ_X((uint32_t)factory->lpVtbl->CreateInstance(factory, &outer_dummy,
                                                          &clr_IID_ICorProfilerCallback[2], &cb),
                (uint32_t)CLR_CLASS_E_NOAGGREGATION);
    ASSERT_NULL(cb);
    ASSERT_EQ_X((uint32_t)factory->lpVtbl->CreateInstance(factory, NULL, &other, &cb),
                (uint32_t)CLR_E_NOINTERFACE);
    ASSERT_NULL(cb);
}

static void test_all_98_slots_and_query_interface(void)
{
    ICorProfilerCallback11 *cb = create_callback();
    ASSERT_NOT_NULL(cb);
    /* Every entry is filled: a NULL slot is a crash when the runtime calls it. */
    uintptr_t slots[CLR_CALLBACK11_SLOTS];
    ASSERT_EQ_U(sizeof slots, sizeof *cb->lpVtbl);
    memcpy(slots, cb->lpVtbl, sizeof slots);
    for (unsigned i = 0; i < CLR_CALLBACK11_SLOTS; i++)
        if (slots[i] == 0)
            TEST_FAIL_("slot %u is NULL", i);
    /* Every version 1..11 and IUnknown answer with the same object. */
    for (int v = 0; v <= 11; v++) {
        void *out = NULL;
        ASSERT_EQ_I(cb->lpVtbl->QueryInterface(cb, &clr_IID_ICorProfilerCallback[v], &out), CLR_S_OK);
        ASSERT_EQ_P(out, cb);
        cb->lpVtbl->Release(cb);
    }
    void *out = &out;
    ASSERT_EQ_X((uint32_t)cb->lpVtbl->QueryInterface(cb, &clr_IID_IClassFactory, &out),
                (uint32_t)CLR_E_NOINTERFACE);
    ASSERT_NULL(out);
    ASSERT_EQ_X((uint32_t)cb->lpVtbl->QueryInterface(cb, &clr_IID_ICorProfilerInfo5, NULL),
                (uint32_t)CLR_E_POINTER);
    /* The runtime asks a Callback11 profiler whether it is notification-only. */
    BOOL only = 1;
    ASSERT_EQ_I(cb->lpVtbl->LoadAsNotificationOnly(cb, &only), CLR_S_OK);
    ASSERT_EQ_I(only, 0);
    BOOL inline_ok = 0;
    ASSERT_EQ_I(cb->lpVtbl->JITInlining(cb, 1, 2, &inline_ok), CLR_S_OK);
    ASSERT_EQ_I(inline_ok, 1);
    /* A stub answers S_OK. */
    ASSERT_EQ_I(cb->lpVtbl->ThreadCreated(cb, 7), CLR_S_OK);
    ASSERT_EQ_U(cb->lpVtbl->AddRef(cb), 2);
    ASSERT_EQ_U(cb->lpVtbl->Release(cb), 1);
    ASSERT_EQ_U(cb->lpVtbl->Release(cb), 0);
}

static const char *const config_vars[] = {
    "ILHEAP_MODE", "ILHEAP_ALLOCATOR", "ILHEAP_DISABLE_R2R", "ILHEAP_WINDOW",
    "ILHEAP_REPLACE", "ILHEAP_REPORT", "ILHEAP_MODULE_LOG",
};

static void clear_env(void)
{
    for (size_t i = 0; i < sizeof config_vars / sizeof *config_vars; i++)
        prof_test_setenv(config_vars[i], NULL);
}

static void test_config_defaults_and_values(void)
{
    prof_config_t cfg;
    clear_env();
    ASSERT_EQ_I(prof_config_load(&cfg), 0);
    ASSERT_EQ_I(cfg.mode, PROF_MODE_REHOME);
    ASSERT_EQ_I(cfg.allocator, PROF_ALLOC_ILHEAP);
    ASSERT_EQ_I(cfg.disable_r2r, 0);
    ASSERT_EQ_X(cfg.window, 0xFFFFFFFF);
    ASSERT_EQ_I(cfg.has_replace, 0);

    prof_test_setenv("ILHEAP_MODE", "prologue:7");
    prof_test_setenv("ILHEAP_ALLOCATOR", "clr");
    prof_test_setenv("ILHEAP_DISABLE_R2R", "1");
    prof_test_setenv("ILHEAP_WINDOW", "0x7FFFFFFF");
    prof_test_setenv("ILHEAP_REPLACE", "My.Space.Type::Get=-5");
    prof_test_setenv("ILHEAP_REPORT", "/tmp/r.txt");
    ASSERT_EQ_I(prof_config_load(&cfg), 0);
    ASSERT_STR_EQ(cfg.error, "");
    ASSERT_EQ_I(cfg.mode, PROF_MODE_PROLOGUE);
    ASSERT_EQ_U(cfg.prologue_nops, 7);
    ASSERT_EQ_I(cfg.allocator, PROF_ALLOC_CLR);
    ASSERT_EQ_I(cfg.disable_r2r, 1);
    ASSERT_EQ_X(cfg.window, 0x7FFFFFFF);
    ASSERT_EQ_I(cfg.has_replace, 1);
    ASSERT_STR_EQ(cfg.replace_type, "My.Space.Type");
    ASSERT_STR_EQ(cfg.replace_method, "Get");
    ASSERT_EQ_I(cfg.replace_value, -5);
    ASSERT_STR_EQ(cfg.report_path, "/tmp/r.txt");
    clear_env();

    /* "%p" is the process id, in every output path. */
    char want[128];
    snprintf(want, sizeof want, "/tmp/d/report.%lu.txt", prof_os_pid());
    prof_test_setenv("ILHEAP_REPORT", "/tmp/d/report.%p.txt");
    prof_test_setenv("ILHEAP_MODULE_LOG", "/tmp/d/report.%p.txt");
    ASSERT_EQ_I(prof_config_load(&cfg), 0);
    ASSERT_STR_EQ(cfg.report_path, want);
    ASSERT_STR_EQ(cfg.module_log_path, want);
    char small[8];
    int pid_len = snprintf(NULL, 0, "%lu", prof_os_pid());
    ASSERT_EQ_I(prof_expand_path(small, sizeof small, "a%pb"), pid_len + 2 < (int)sizeof small ? 0 : -1);
    ASSERT_EQ_I(prof_expand_path(small, sizeof small, "12345678"), -1);
    ASSERT_EQ_I(prof_expand_path(small, sizeof small, "%%x"), 0);
    ASSERT_STR_EQ(small, "%%x");
    clear_env();
}

/* Each bad value is refused with a message, and the profiler falls back to
 * observing only (never a half-applied configuration). */
static void test_config_rejects(void)
{
    static const struct {
        const char *var, *value;
    } bad[] = {
        {"ILHEAP_MODE", "sideways"},        {"ILHEAP_MODE", "prologue:0"},
        {"ILHEAP_MODE", "prologue:"},       {"ILHEAP_MODE", "prologue:99999"},
        {"ILHEAP_MODE", "prologue:-1"},     {"ILHEAP_MODE", "prologue:3x"},
        {"ILHEAP_ALLOCATOR", "malloc"},     {"ILHEAP_DISABLE_R2R", "yes"},
        {"ILHEAP_WINDOW", "0"},             {"ILHEAP_WINDOW", "0x100000000"},
        {"ILHEAP_REPLACE", "NoSeparator=1"}, {"ILHEAP_REPLACE", "A.B::C=x"},
        {"ILHEAP_REPLACE", "::C=1"},        {"ILHEAP_REPLACE", "A.B::=1"},
        {"ILHEAP_REPLACE", "A.B::C=99999999999"}, {"ILHEAP_REPLACE", "A.B::C"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        prof_config_t cfg;
        clear_env();
        prof_test_setenv("ILHEAP_REPLACE", "Keep.Me::M=1");
        prof_test_setenv(bad[i].var, bad[i].value);
        if (prof_config_load(&cfg) != -1)
            TEST_FAIL_("%s=%s accepted", bad[i].var, bad[i].value);
        if (cfg.error[0] == '\0' || cfg.mode != PROF_MODE_OFF || cfg.has_replace)
            TEST_FAIL_("%s=%s: error '%s', mode %d, replace %d", bad[i].var, bad[i].value,
                       cfg.error, (int)cfg.mode, cfg.has_replace);
    }
    clear_env();
}

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v)
{
    put16(p, (uint16_t)v);
    put16(p + 2, (uint16_t)(v >> 16));
}

/* A PE32+ header with two sections (PE/COFF: e_lfanew at 0x3C, optional
 * header after the 20-byte file header, SizeOfImage at its offset 56). */
static void make_pe(uint8_t *img)
{
    memset(img, 0, 4096);
    img[0] = 'M';
    img[1] = 'Z';
    put32(img + 0x3C, 0x80);
    memcpy(img + 0x80, "PE\0\0", 4);
    put16(img + 0x84 + 2, 2);   /* NumberOfSections */
    put16(img + 0x84 + 16, 240); /* SizeOfOptionalHeader */
    put16(img + 0x98, 0x20B);   /* PE32+ */
    put32(img + 0x98 + 56, 0x6000);
    put32(img + 0x98 + 108, 16);              /* NumberOfRvaAndSizes */
    put32(img + 0x98 + 112 + 14 * 8, 0x2008); /* the CLI header directory */
    put32(img + 0x98 + 112 + 14 * 8 + 4, 72);
    uint8_t *s = img + 0x98 + 240;
    put32(s + 8, 0x1000);  /* .text VirtualSize */
    put32(s + 12, 0x1000); /* VirtualAddress */
    put32(s + 16, 0x1000); /* SizeOfRawData */
    put32(s + 20, 0x200);  /* PointerToRawData */
    put32(s + 40 + 8, 0x400);
    put32(s + 40 + 12, 0x2000);
    put32(s + 40 + 16, 0x400);
    put32(s + 40 + 20, 0x1200);
}

static void test_image_pe_header(void)
{
    static uint8_t img[4096];
    prof_image_facts_t f;
    make_pe(img);
    prof_image_read_pe(img, &f);
    ASSERT_EQ_I(f.pe_ok, 1);
    ASSERT_EQ_X(f.size_of_image, 0x6000);
    ASSERT_EQ_X(f.file_extent, 0x1600);

    make_pe(img);
    put32(img + 0x3C, 4096 - 8); /* e_lfanew past the readable page */
    prof_image_read_pe(img, &f);
    ASSERT_EQ_I(f.pe_ok, 0);
    make_pe(img);
    put32(img + 0x3C, 0xFFFFFFF0u); /* would wrap */
    prof_image_read_pe(img, &f);
    ASSERT_EQ_I(f.pe_ok, 0);
    make_pe(img);
    put16(img + 0x98, 0x30B); /* unknown optional header magic */
    prof_image_read_pe(img, &f);
    ASSERT_EQ_I(f.pe_ok, 0);
    make_pe(img);
    img[1] = 'X';
    prof_image_read_pe(img, &f);
    ASSERT_EQ_I(f.pe_ok, 0);
    prof_image_read_pe(NULL, &f);
    ASSERT_EQ_I(f.pe_ok, 0);
    /* A section count that runs past the page is refused. */
    make_pe(img);
    put16(img + 0x84 + 2, 0xFFFF);
    prof_image_read_pe(img, &f);
    ASSERT_EQ_I(f.pe_ok, 0);
}

static int first_range(void *context, uintptr_t start, uintptr_t end)
{
    uintptr_t *range = context;
    range[0] = start;
    range[1] = end;
    return 1;
}

static void test_image_maps(void)
{
    /* A pretend image of one unit that ends where a free range starts: room
     * right above it (the walk only reads the map, never the image). */
    size_t unit = prof_os_granularity();
    uintptr_t range[2] = {0, 0};
    ASSERT_STATUS(ilheap_free_ranges(16 * unit, UINTPTR_MAX, 2 * unit, first_range, range), ILHEAP_OK);
    ASSERT_TRUE(range[0] != 0);
    prof_image_facts_t f;
    memset(&f, 0, sizeof f);
    prof_image_read_maps((const uint8_t *)(range[0] - unit), unit, &f);
    ASSERT_GE_U(f.gap_above, 2 * unit);
    ASSERT_EQ_X(f.first_gap, range[0]);
    ASSERT_GE_U(f.free_2g, 2 * unit);
    ASSERT_TRUE(f.free_2g <= f.free_4g);
    ASSERT_TRUE(f.free_4g <= 0x100000000ull);
}

static void test_window_check(void)
{
    static uint8_t region[64];
    const uint8_t *base = region + 16;
    memset(&prof_g.counters, 0, sizeof prof_g.counters);
    prof_report_init();
    prof_g.config.window = 32;
    prof_report_window(base, base + 1, 8);  /* inside */
    prof_report_window(base, base + 24, 8); /* ends exactly at the window end */
    ASSERT_EQ_U(atomic_load(&prof_g.counters.window_violations), 0);
    prof_report_window(base, base, 8); /* p == base is not a positive offset */
    ASSERT_EQ_U(atomic_load(&prof_g.counters.window_violations), 1);
    ASSERT_EQ_U(atomic_load(&prof_g.counters.below_base), 1);
    prof_report_window(base, base + 25, 8); /* one byte past the end */
    ASSERT_EQ_U(atomic_load(&prof_g.counters.window_violations), 2);
    prof_report_window(base, base - 16, 8); /* below the base */
    ASSERT_EQ_U(atomic_load(&prof_g.counters.window_violations), 3);
    ASSERT_EQ_U(atomic_load(&prof_g.counters.below_base), 2);
    ASSERT_EQ_I(atomic_load(&prof_g.counters.min_offset), -16);
    ASSERT_EQ_I(atomic_load(&prof_g.counters.max_end_offset), 33);
    ASSERT_EQ_U(atomic_load(&prof_g.counters.window_checked), 5);
}

TEST_MAIN(TEST(test_class_factory), TEST(test_all_98_slots_and_query_interface),
          TEST(test_config_defaults_and_values), TEST(test_config_rejects),
          TEST(test_image_pe_header), TEST(test_image_maps), TEST(test_window_check))
