// ilheap/com.h first, CorProf.h (the stand-in) second, in C++, under -Werror:
// CorProf.h's guards skip what com.h declared, and its unguarded typedefs
// and macros repeat com.h's exactly.
#include "ilheap/com.h"

#include "fake_corprof.h"

extern "C" {
#include "test.h"
}

extern "C" const IID IID_IUnknown = ILHEAP_IID_IUNKNOWN_INIT;
extern "C" const IID IID_IMethodMalloc = ILHEAP_IID_IMETHODMALLOC_INIT;

static unsigned char image[4096];

static void test_ilheap_header_first()
{
    IMethodMalloc *m = nullptr;
    ASSERT_EQ_I(ilheap_GetILFunctionBodyAllocator(0xCE01, image, sizeof image, &m), S_OK);
    ASSERT_NOT_NULL(m->Alloc(8));
    void *out = nullptr;
    ASSERT_EQ_I(m->QueryInterface(IID_IMethodMalloc, &out), S_OK);
    static_cast<IMethodMalloc *>(out)->Release();
    ASSERT_EQ_I(ilheap_ModuleUnloaded(0xCE01), S_OK);
    ASSERT_EQ_U(m->Release(), 0);
}

TEST_MAIN(TEST(test_ilheap_header_first))
