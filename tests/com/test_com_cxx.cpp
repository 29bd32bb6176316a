// The C++ view of ilheap/com.h: without CorProf.h, IUnknown and IMethodMalloc
// are abstract classes declared the way CorProf.h declares them, and a C++
// profiler calls ilheap's C object through them with virtual calls.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>

#define ILHEAP_DEFINE_IIDS
#include "ilheap/com.h"

extern "C" {
#include "test.h"
}

static_assert(std::is_abstract<IMethodMalloc>::value, "declared with pure virtual methods");
static_assert(std::is_base_of<IUnknown, IMethodMalloc>::value, "derives from IUnknown");
static_assert(std::is_polymorphic<IMethodMalloc>::value, "has a vtable");
static_assert(sizeof(IMethodMalloc) == sizeof(void *), "only the vtable pointer");
static_assert(sizeof(ULONG) == 4 && sizeof(HRESULT) == 4 && sizeof(GUID) == 16, "ABI types");
static_assert(std::is_same<decltype(&IMethodMalloc::Alloc), void *(ILHEAP_STDCALL IMethodMalloc::*)(ULONG)>::value,
              "Alloc(ULONG) returns a pointer");

static unsigned char image[4096];

static void test_cxx_virtual_calls()
{
    IMethodMalloc *m = nullptr;
    ASSERT_EQ_I(ilheap_GetILFunctionBodyAllocator(0xCC01, image, sizeof image, &m), S_OK);
    ASSERT_NOT_NULL(m);
    // Alloc is vtable slot 3 as C++ sees it.
    auto *p = static_cast<unsigned char *>(m->Alloc(100));
    ASSERT_NOT_NULL(p);
    ASSERT_TRUE(p > image);
    ASSERT_TRUE(static_cast<uint64_t>(p + 100 - image) <= ILHEAP_DEFAULT_WINDOW);
    for (int i = 0; i < 100; i++)
        ASSERT_EQ_U(p[i], 0);
    std::memset(p, 0x2A, 100);
    ASSERT_EQ_U(m->AddRef(), 3); // the registry's, ours, this one
    ASSERT_EQ_U(m->Release(), 2);

    void *same = nullptr;
    ASSERT_EQ_I(m->QueryInterface(IID_IMethodMalloc, &same), S_OK);
    ASSERT_EQ_P(same, m);
    static_cast<IMethodMalloc *>(same)->Release();
    IUnknown *unknown = nullptr;
    ASSERT_EQ_I(m->QueryInterface(IID_IUnknown, reinterpret_cast<void **>(&unknown)), S_OK);
    ASSERT_EQ_P(unknown, static_cast<IUnknown *>(m));
    ASSERT_EQ_U(unknown->Release(), 2);

    IID other = IID_IMethodMalloc;
    other.Data1 ^= 1;
    void *none = m;
    ASSERT_EQ_I(m->QueryInterface(other, &none), E_NOINTERFACE);
    ASSERT_NULL(none);
    ASSERT_EQ_I(m->QueryInterface(IID_IMethodMalloc, nullptr), E_POINTER);

    ASSERT_EQ_I(ilheap_ModuleUnloaded(0xCC01), S_OK);
    ASSERT_NULL(m->Alloc(8));
    ASSERT_STATUS(ilheap_last_status(), ILHEAP_EUNLOADED);
    ASSERT_EQ_U(m->Release(), 0);
}

static void test_cxx_and_c_agree()
{
    // The same object seen through the C vtable layout: slot 3 of the table
    // the object's first word points to is the function C++ called Alloc.
    IMethodMalloc *m = nullptr;
    ASSERT_EQ_I(ilheap_GetILFunctionBodyAllocator(0xCC02, image, sizeof image, &m), S_OK);
    void *const *vtable = *reinterpret_cast<void *const *const *>(m);
    typedef void *(ILHEAP_STDCALL * alloc_fn)(IMethodMalloc *, ULONG);
    alloc_fn slot3 = reinterpret_cast<alloc_fn>(vtable[3]);
    void *p = slot3(m, 16);
    ASSERT_NOT_NULL(p);
    ilheap_heap_stats_t stats;
    ASSERT_STATUS(ilheap_method_malloc_stats(m, &stats), ILHEAP_OK);
    ASSERT_EQ_U(stats.blocks, 1);
    ASSERT_TRUE(ilheap_method_malloc_is_ilheap(m));
    m->Release();
    ASSERT_EQ_I(ilheap_ModuleUnloaded(0xCC02), S_OK);
}

TEST_MAIN(TEST(test_cxx_virtual_calls), TEST(test_cxx_and_c_agree))
