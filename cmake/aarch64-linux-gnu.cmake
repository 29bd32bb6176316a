# Cross-compiling ilheap for Linux on 64-bit ARM with Debian's cross toolchain
# (gcc-aarch64-linux-gnu, libc6-dev-arm64-cross):
#   cmake -S . -B build/arm64 -DCMAKE_TOOLCHAIN_FILE=cmake/aarch64-linux-gnu.cmake
# Tests then run under qemu user-mode emulation: see scripts/test-arm64.sh,
# docs/arm64.md.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(ILHEAP_CROSS_TRIPLE aarch64-linux-gnu)

find_program(ILHEAP_CROSS_CC NAMES ${ILHEAP_CROSS_TRIPLE}-gcc REQUIRED)
set(CMAKE_C_COMPILER ${ILHEAP_CROSS_CC})
# C++ only for the COM layout tests (tests/com), when g++-aarch64-linux-gnu is there.
find_program(ILHEAP_CROSS_CXX NAMES ${ILHEAP_CROSS_TRIPLE}-g++)
if(ILHEAP_CROSS_CXX)
  set(CMAKE_CXX_COMPILER ${ILHEAP_CROSS_CXX})
endif()

# Debian's multiarch cross root holds the target's libc and headers.
set(ILHEAP_CROSS_ROOT /usr/${ILHEAP_CROSS_TRIPLE})
set(CMAKE_FIND_ROOT_PATH ${ILHEAP_CROSS_ROOT})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

# Test programs run under qemu user-mode; -L points its loader at the cross
# root (the static build needs no binfmt registration).
# -DCMAKE_CROSSCOMPILING_EMULATOR=... overrides.
if(NOT DEFINED CMAKE_CROSSCOMPILING_EMULATOR)
  find_program(ILHEAP_QEMU NAMES qemu-aarch64-static qemu-aarch64)
  if(ILHEAP_QEMU)
    set(CMAKE_CROSSCOMPILING_EMULATOR ${ILHEAP_QEMU} -L ${ILHEAP_CROSS_ROOT})
  endif()
endif()
