# Cross-compiling ilheap for 64-bit Windows with Debian's mingw-w64 (the
# posix thread model, whose winpthreads gives the heap its pthread mutex):
#   cmake -S . -B build/mingw64 -DCMAKE_TOOLCHAIN_FILE=cmake/mingw-w64-x86_64.cmake
# Tests then run under wine64: see scripts/test-windows.sh, docs/windows.md.
set(CMAKE_SYSTEM_PROCESSOR x86_64)
set(ILHEAP_MINGW_TRIPLE x86_64-w64-mingw32)
set(ILHEAP_WINE_NAMES wine64 wine)
include(${CMAKE_CURRENT_LIST_DIR}/mingw-w64-common.cmake)
