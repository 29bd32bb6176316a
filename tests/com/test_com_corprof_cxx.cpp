// A C++ profiler's translation unit: CorProf.h (the stand-in, declaring
// IMethodMalloc as MIDL does: an abstract class with pure virtual methods
// deriving from IUnknown) comes first, ilheap/com.h second and adds only its
// entry points. The object is called through CorProf.h's own declaration:
// this is the layout a C++ profiler sees.
#include <cstdint>
#include <cstring>

#include "fake_corprof.h"

#include "ilheap/com.h"

extern "C" {
#include "test.h"
}

// The profiler's definitions of the IIDs, as corprof_i.cpp would give them.
extern "C" const IID IID_IUnknown = {0x00000000, 0x0000, 0x0000, {0xC0, 0, 0, 0, 0, 0, 0, 0x46}};
extern "C" const IID IID_IMethodMalloc = {0xa0efb28b, 0x6ee2, 0x4d7b, {0xb9, 0x83, 0xa7, 0x5e, 0xf7, 0xbe, 0xed, 0xb8}};

static unsigned char image[4096];

static void test_through_corprof_declaration()
{
    IMethodMalloc *m = nullptr; // CorProf.h's class
    HRESULT hr = ilheap_GetILFunctionBodyAllocator(0xCF01, image, sizeof image, &m);
    ASSERT_EQ_I(hr, S_OK);
    PVOID p = m->Alloc(64);
    ASSERT_NOT_NULL(p);
    ASSERT_TRUE(static_cast<unsigned char *>(p) > image);
    std::memset(p, 0x7E, 64);
    IMethodMalloc *again = nullptr;
    ASSERT_EQ_I(m->QueryInterface(IID_IMethodMalloc, reinterpret_cast<void **>(&again)), S_OK);
    ASSERT_EQ_P(again, m);
    ASSERT_EQ_U(again->Release(), 2);
    IUnknown *unknown = m;
    void *out = m;
    ASSERT_EQ_I(unknown->QueryInterface(IID_IUnknown, &out), S_OK);
    ASSERT_EQ_P(out, m);
    ASSERT_EQ_U(unknown->Release(), 2);
    ilheap_heap_stats_t stats;
    ASSERT_STATUS(ilheap_method_malloc_stats(m, &stats), ILHEAP_OK);
    ASSERT_EQ_U(stats.bytes_requested, 64);
    ASSERT_EQ_I(ilheap_ModuleUnloaded(0xCF01), S_OK);
    ASSERT_NULL(m->Alloc(64));
    ASSERT_EQ_U(m->Release(), 0);
}

TEST_MAIN(TEST(test_through_corprof_declaration))
