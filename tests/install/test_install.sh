#!/usr/bin/env bash
# A consumer's view of `cmake --install`: installs the build tree to a fresh
# prefix, moves that prefix elsewhere (the install must be relocatable), then
# builds and runs a C program through pkg-config and a C++ program through
# find_package(ilheap VERSION) with the shared and the static target. An older
# requested version must be refused.
# usage: test_install.sh BUILD_DIR SOURCE_DIR CC CXX VERSION WORKDIR
set -euo pipefail
build="$1" src="$2" cc="$3" cxx="$4" version="$5" work="$6"
fail() { echo "FAIL: $*" >&2; exit 1; }
command -v pkg-config >/dev/null || { echo "SKIP: pkg-config is not installed (scripts/deps.sh installs it)"; exit 77; }

rm -rf "$work"
mkdir -p "$work"
cmake --install "$build" --prefix "$work/installed" >"$work/install.log" || fail "cmake --install (see $work/install.log)"
mv "$work/installed" "$work/moved"
prefix="$work/moved"

# C through pkg-config: the paths it gives must lie inside the moved prefix.
export PKG_CONFIG_PATH=$(dirname "$(find "$prefix" -name ilheap.pc)")
[ -n "$PKG_CONFIG_PATH" ] || fail "no ilheap.pc installed"
[ "$(pkg-config --modversion ilheap)" = "$version" ] || fail "ilheap.pc says version $(pkg-config --modversion ilheap), not $version"
includedir=$(pkg-config --variable=includedir ilheap)
libdir=$(pkg-config --variable=libdir ilheap)
[ -f "$includedir/ilheap/heap.h" ] || fail "pkg-config includedir $includedir has no ilheap/heap.h"
# shellcheck disable=SC2046
"$cc" -std=c11 -Wall -Werror $(pkg-config --cflags ilheap) "$src/consumer.c" -o "$work/consumer_c" \
    $(pkg-config --libs ilheap) -Wl,-rpath,"$libdir" || fail "building consumer.c through pkg-config"
"$work/consumer_c" || fail "consumer_c exited $?"

# C++ through find_package(ilheap VERSION): shared and static targets.
cmake -S "$src" -B "$work/cxx" -DCMAKE_C_COMPILER="$cc" -DCMAKE_CXX_COMPILER="$cxx" \
      -DCMAKE_PREFIX_PATH="$prefix" -DILHEAP_WANT_VERSION="$version" >"$work/cxx.log" 2>&1 \
    || { cat "$work/cxx.log" >&2; fail "find_package(ilheap $version)"; }
cmake --build "$work/cxx" >>"$work/cxx.log" 2>&1 || { cat "$work/cxx.log" >&2; fail "building consumer.cpp"; }
"$work/cxx/consumer_cxx" || fail "consumer_cxx (ilheap::ilheap) exited $?"
"$work/cxx/consumer_cxx_static" || fail "consumer_cxx_static (ilheap::static) exited $?"
grep -q "$prefix" <<<"$(ldd "$work/cxx/consumer_cxx")" || fail "consumer_cxx does not load libilheap from the installed prefix"

# A version the install does not provide is refused.
if cmake -S "$src" -B "$work/old" -DCMAKE_PREFIX_PATH="$prefix" -DILHEAP_WANT_VERSION=0.1 >"$work/old.log" 2>&1; then
    fail "find_package(ilheap 0.1) accepted version $version"
fi
echo "install: pkg-config and find_package(ilheap $version) consumers built and ran from a moved prefix"
