# Cross-compiling ilheap for 32-bit Windows (x86: __stdcall matters there)
# with Debian's mingw-w64 (posix thread model, winpthreads):
#   cmake -S . -B build/mingw32 -DCMAKE_TOOLCHAIN_FILE=cmake/mingw-w64-i686.cmake
# Tests run under wine when wine32 (i386) is installed: see
# scripts/test-windows.sh, docs/windows.md.
set(CMAKE_SYSTEM_PROCESSOR i686)
set(ILHEAP_MINGW_TRIPLE i686-w64-mingw32)
set(ILHEAP_WINE_NAMES wine)
include(${CMAKE_CURRENT_LIST_DIR}/mingw-w64-common.cmake)
