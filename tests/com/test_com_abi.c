/* The COM ABI as a C caller and the CLR see it: type sizes, vtable slots,
 * HRESULT values, the IIDs' bytes, and coexistence with CorProf.h. */
#define ILHEAP_DEFINE_IIDS /* this program's one definition of the IIDs */
#include "ilheap/com.h"

#include "coexist.h"
#include "test.h"

#include <stddef.h>

static void test_type_sizes(void)
{
    /* ULONG is 32-bit even on LP64 Linux; a long here would shift every
     * argument after it in the CLR's calls. */
    ASSERT_EQ_U(sizeof(HRESULT), 4);
    ASSERT_EQ_U(sizeof(ULONG), 4);
    ASSERT_TRUE((HRESULT)-1 < 0);
    ASSERT_TRUE((ULONG)-1 > 0);
    ASSERT_EQ_U(sizeof(GUID), 16);
    ASSERT_EQ_U(offsetof(GUID, Data2), 4);
    ASSERT_EQ_U(offsetof(GUID, Data3), 6);
    ASSERT_EQ_U(offsetof(GUID, Data4), 8);
}

static void test_vtable_slots(void)
{
    const size_t ptr = sizeof(void *);
    ASSERT_EQ_U(offsetof(IMethodMallocVtbl, QueryInterface), 0 * ptr);
    ASSERT_EQ_U(offsetof(IMethodMallocVtbl, AddRef), 1 * ptr);
    ASSERT_EQ_U(offsetof(IMethodMallocVtbl, Release), 2 * ptr);
    ASSERT_EQ_U(offsetof(IMethodMallocVtbl, Alloc), 3 * ptr);
    ASSERT_EQ_U(sizeof(IMethodMallocVtbl), 4 * ptr);
    ASSERT_EQ_U(offsetof(IUnknownVtbl, QueryInterface), 0 * ptr);
    ASSERT_EQ_U(offsetof(IUnknownVtbl, AddRef), 1 * ptr);
    ASSERT_EQ_U(offsetof(IUnknownVtbl, Release), 2 * ptr);
    /* An interface pointer points at the object, whose first word is the
     * vtable pointer. */
    ASSERT_EQ_U(sizeof(IMethodMalloc), ptr);
    ASSERT_EQ_U(offsetof(IMethodMalloc, lpVtbl), 0);
}

static void test_hresult_values(void)
{
    ASSERT_EQ_X((uint32_t)S_OK, 0);
    ASSERT_EQ_X((uint32_t)S_FALSE, 1);
    ASSERT_EQ_X((uint32_t)E_NOINTERFACE, 0x80004002u);
    ASSERT_EQ_X((uint32_t)E_POINTER, 0x80004003u);
    ASSERT_EQ_X((uint32_t)E_OUTOFMEMORY, 0x8007000Eu);
    ASSERT_EQ_X((uint32_t)E_INVALIDARG, 0x80070057u);
    /* FAILED(hr) is hr < 0: the error codes must come out negative. */
    ASSERT_TRUE(E_NOINTERFACE < 0 && E_POINTER < 0 && E_OUTOFMEMORY < 0 && E_INVALIDARG < 0);
}

static void test_iid_bytes(void)
{
    /* A0EFB28B-6EE2-4D7B-B983-A75EF7BEEDB8 as the CLR stores it in memory
     * (little-endian Data1..Data3, then Data4 as written). */
    static const unsigned char expected[16] = {0x8B, 0xB2, 0xEF, 0xA0, 0xE2, 0x6E, 0x7B, 0x4D,
                                               0xB9, 0x83, 0xA7, 0x5E, 0xF7, 0xBE, 0xED, 0xB8};
    const uint16_t one = 1;
    if (*(const unsigned char *)&one != 1)
        SKIP("big-endian host: the byte image differs by design");
    ASSERT_MEM_EQ(&ilheap_IID_IMethodMalloc, expected, 16);
    ASSERT_MEM_EQ(&IID_IMethodMalloc, expected, 16);
    static const unsigned char unknown[16] = {0, 0, 0, 0, 0, 0, 0, 0,
                                              0xC0, 0, 0, 0, 0, 0, 0, 0x46};
    ASSERT_MEM_EQ(&ilheap_IID_IUnknown, unknown, 16);
    ASSERT_MEM_EQ(&IID_IUnknown, unknown, 16);
}

static void test_guid_equal(void)
{
    GUID g = ilheap_IID_IMethodMalloc;
    ASSERT_TRUE(ilheap_guid_equal(&g, &IID_IMethodMalloc));
    ASSERT_FALSE(ilheap_guid_equal(&g, &IID_IUnknown));
    for (int i = 0; i < 16; i++) { /* every byte counts */
        GUID h = g;
        ((unsigned char *)&h)[i] ^= 1;
        ASSERT_FALSE(ilheap_guid_equal(&g, &h));
    }
    ASSERT_FALSE(ilheap_guid_equal(NULL, &g));
    ASSERT_FALSE(ilheap_guid_equal(&g, NULL));
}

static void test_hresult_from_status(void)
{
    ASSERT_EQ_I(ilheap_hresult_from_status(ILHEAP_OK), S_OK);
    ASSERT_EQ_I(ilheap_hresult_from_status(ILHEAP_ENOTFOUND), S_FALSE);
    ASSERT_EQ_I(ilheap_hresult_from_status(ILHEAP_EINVAL), E_INVALIDARG);
    ASSERT_EQ_I(ilheap_hresult_from_status(ILHEAP_EALIGN), E_INVALIDARG);
    ASSERT_EQ_I(ilheap_hresult_from_status(ILHEAP_EBASE_MISMATCH), E_INVALIDARG);
    ASSERT_EQ_I(ilheap_hresult_from_status(ILHEAP_ENOMEM), E_OUTOFMEMORY);
    ASSERT_EQ_I(ilheap_hresult_from_status(ILHEAP_ENOSPACE), E_OUTOFMEMORY);
    ASSERT_TRUE(ilheap_hresult_from_status(ILHEAP_EOS_MAPS) < 0);
}

static void test_coexist_corprof_first(void)
{
    ASSERT_EQ_U(coexist_corprof_first(), 0);
}

static void test_coexist_ilheap_first(void)
{
    ASSERT_EQ_U(coexist_ilheap_first(), 0);
}

TEST_MAIN(TEST(test_type_sizes), TEST(test_vtable_slots), TEST(test_hresult_values),
          TEST(test_iid_bytes), TEST(test_guid_equal), TEST(test_hresult_from_status),
          TEST(test_coexist_corprof_first), TEST(test_coexist_ilheap_first))
