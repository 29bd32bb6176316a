# The part of the mingw-w64 toolchain files (mingw-w64-x86_64.cmake,
# mingw-w64-i686.cmake) that does not depend on the target: they set
# CMAKE_SYSTEM_PROCESSOR, ILHEAP_MINGW_TRIPLE and ILHEAP_WINE_NAMES first.
set(CMAKE_SYSTEM_NAME Windows)

# Prefer the -posix compilers: the -win32 thread model has no winpthreads.
find_program(ILHEAP_MINGW_CC NAMES ${ILHEAP_MINGW_TRIPLE}-gcc-posix ${ILHEAP_MINGW_TRIPLE}-gcc REQUIRED)
set(CMAKE_C_COMPILER ${ILHEAP_MINGW_CC})
# C++ only for the COM layout tests (tests/com), when g++-mingw-w64 is there.
find_program(ILHEAP_MINGW_CXX NAMES ${ILHEAP_MINGW_TRIPLE}-g++-posix ${ILHEAP_MINGW_TRIPLE}-g++)
if(ILHEAP_MINGW_CXX)
  set(CMAKE_CXX_COMPILER ${ILHEAP_MINGW_CXX})
endif()
set(CMAKE_RC_COMPILER ${ILHEAP_MINGW_TRIPLE}-windres)

set(CMAKE_FIND_ROOT_PATH /usr/${ILHEAP_MINGW_TRIPLE})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

# Link libgcc and winpthreads statically: the programs and ilheap.dll then
# need no mingw DLLs beside them (under Wine or on a user's machine).
set(CMAKE_EXE_LINKER_FLAGS_INIT "-static")
set(CMAKE_SHARED_LINKER_FLAGS_INIT "-static")
set(CMAKE_MODULE_LINKER_FLAGS_INIT "-static")

# Tests run under Wine when it is installed (Debian puts wine64 in
# /usr/lib/wine); -DCMAKE_CROSSCOMPILING_EMULATOR=... overrides.
if(NOT DEFINED CMAKE_CROSSCOMPILING_EMULATOR)
  find_program(ILHEAP_WINE NAMES ${ILHEAP_WINE_NAMES} PATHS /usr/lib/wine)
  if(ILHEAP_WINE)
    set(CMAKE_CROSSCOMPILING_EMULATOR ${ILHEAP_WINE})
  endif()
endif()
