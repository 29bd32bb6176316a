/* Symbol visibility for ilheap's public functions.
 *
 * The library is compiled with hidden visibility by default, so that only the
 * functions marked ILHEAP_API are exported from the shared library. On Windows
 * a consumer of the DLL gets dllimport; define ILHEAP_STATIC when linking the
 * static library there.
 */
#ifndef ILHEAP_EXPORT_H
#define ILHEAP_EXPORT_H

#if defined(_WIN32)
#if defined(ILHEAP_BUILDING_SHARED)
#define ILHEAP_API __declspec(dllexport)
#elif defined(ILHEAP_STATIC) || defined(ILHEAP_BUILDING)
#define ILHEAP_API
#else
#define ILHEAP_API __declspec(dllimport)
#endif
#elif defined(__GNUC__)
#define ILHEAP_API __attribute__((visibility("default")))
#else
#define ILHEAP_API
#endif

#endif /* ILHEAP_EXPORT_H */
