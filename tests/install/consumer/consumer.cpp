// A C++ profiler's use of an installed ilheap through find_package: the
// CorProf-style face of ilheap/com.h (IMethodMalloc as an abstract class).
#define ILHEAP_DEFINE_IIDS
#include <ilheap/com.h>

#include <cstdio>
#include <cstring>

static unsigned char image[4096];

int main()
{
    IMethodMalloc *m = nullptr;
    if (ilheap_GetILFunctionBodyAllocator(0xC0C0, image, sizeof image, &m) != S_OK) {
        std::fprintf(stderr, "consumer.cpp: %s\n", ilheap_last_message());
        return 1;
    }
    void *body = m->Alloc(64);
    if (body == nullptr || static_cast<unsigned char *>(body) <= image) {
        std::fprintf(stderr, "consumer.cpp: bad block\n");
        return 1;
    }
    std::memset(body, 0x7E, 64);
    IMethodMalloc *again = nullptr;
    if (m->QueryInterface(IID_IMethodMalloc, reinterpret_cast<void **>(&again)) != S_OK || again != m) {
        std::fprintf(stderr, "consumer.cpp: QueryInterface\n");
        return 1;
    }
    again->Release();
    if (ilheap_ModuleUnloaded(0xC0C0) != S_OK || m->Alloc(64) != nullptr || m->Release() != 0) {
        std::fprintf(stderr, "consumer.cpp: unload\n");
        return 1;
    }
    std::printf("consumer.cpp: block at base + 0x%lx\n",
                static_cast<unsigned long>(static_cast<unsigned char *>(body) - image));
    return 0;
}
