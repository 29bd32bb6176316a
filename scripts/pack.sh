#!/usr/bin/env bash
# Builds the NuGet packages ilheap.collector (the VSTest data collector) and
# ilheap.mtp (the Microsoft Testing Platform extension), each with the native
# `ilheap` command and the CoreCLR profiler for linux-x64 and linux-arm64
# under tools/RID/, into build/packages/. The arm64 natives are
# cross-built (as scripts/test-arm64.sh does) with zlib linked statically from
# Debian's arm64 multiarch package, so nothing is missing on the target, and
# run under qemu here to prove it. win-x64 joins when the Windows profiler
# builds (docs/coverage.md, "The package").
# Usage: scripts/pack.sh   (as root on a fresh Debian: installs what it needs)
# Version: the project's (CMakeLists.txt), or ILHEAP_PACK_VERSION.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
work=$root/build/pack
out=$root/build/packages
say() { echo "pack: $*"; }
started=$SECONDS

version=${ILHEAP_PACK_VERSION:-$(sed -n 's/^project(ilheap VERSION \([0-9.]*\).*/\1/p' CMakeLists.txt)}
[ -n "$version" ] || { say "no version in CMakeLists.txt"; exit 1; }
command -v dotnet >/dev/null || { say "dotnet not found (the .NET SDK packs the collector)"; exit 1; }

# The arm64 zlib comes from Debian's multiarch archive.
if ! dpkg --print-foreign-architectures | grep -qx arm64; then
  [ "$(id -u)" -eq 0 ] || { say "needs root once: dpkg --add-architecture arm64 (for zlib1g-dev:arm64)"; exit 1; }
  say "adding the arm64 architecture to dpkg (for zlib1g-dev:arm64)"
  flock /tmp/apt.lock sh -c 'dpkg --add-architecture arm64 && apt-get update -qq'
fi
bash scripts/deps.sh cmake gcc make zlib1g-dev gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user-static \
  zlib1g-dev:arm64 binutils-aarch64-linux-gnu
qemu=$(command -v qemu-aarch64-static || command -v qemu-aarch64)

# native RID TOOLCHAIN ZLIB_A: ilheap and the profiler, zlib static; RelWithDebInfo
# (-O2, as the tested builds), stripped.
native() {
  local rid=$1 toolchain=$2 zlib=$3
  local dir=$work/$rid
  local inc=$dir/zlib-include
  mkdir -p "$inc" "$work/native/$rid"
  cp /usr/include/zlib.h /usr/include/zconf.h "$inc/" # never the host's /usr/include in a cross build
  say "building ilheap and the profiler for $rid"
  if ! cmake -S . -B "$dir" ${toolchain:+-DCMAKE_TOOLCHAIN_FILE=$toolchain} -DCMAKE_BUILD_TYPE=RelWithDebInfo \
         -DILHEAP_WERROR=ON -DILHEAP_BUILD_TESTS=OFF -DILHEAP_BUILD_BENCH=OFF -DILHEAP_BUILD_PROFILER=ON \
         -DZLIB_LIBRARY="$zlib" -DZLIB_INCLUDE_DIR="$inc" >"$dir.configure.log" 2>&1 ||
     ! cmake --build "$dir" -j2 --target ilheap_cli ilheap_profiler >"$dir.build.log" 2>&1; then
    tail -n 20 "$dir.configure.log" "$dir.build.log"
    say "FAILED: the $rid build (logs: $dir.configure.log, $dir.build.log)"
    exit 1
  fi
  local strip=strip
  [ -z "$toolchain" ] || strip=aarch64-linux-gnu-strip
  $strip -o "$work/native/$rid/ilheap" "$dir/tools/ilheap"
  $strip -o "$work/native/$rid/libilheap_profiler.so" "$dir/profiler/libilheap_profiler.so"
  chmod 755 "$work/native/$rid/ilheap"
}

# check RID RUNNER...: the binary needs no libz.so, runs (rehome of the
# built-in assembly) and finds the profiler beside it, as in the package.
check() {
  local rid=$1 bin=$work/native/$1/ilheap
  shift
  if readelf -d "$bin" | grep -q 'libz\.so'; then say "FAILED: $rid ilheap needs libz.so"; exit 1; fi
  "$@" "$bin" --version >/dev/null || { say "FAILED: $rid ilheap does not run"; exit 1; }
  "$@" "$bin" rehome --builtin >/dev/null || { say "FAILED: $rid ilheap rehome --builtin"; exit 1; }
  local env
  env=$("$@" "$bin" collect --print-env "$work/$rid-env-check") ||
    { say "FAILED: $rid ilheap does not find its profiler beside it"; exit 1; }
  grep -q "^CORECLR_PROFILER_PATH=$work/native/$rid/libilheap_profiler.so\$" <<<"$env" ||
    { say "FAILED: $rid: $env"; exit 1; }
  rmdir "$work/$rid-env-check"
  say "  $rid: runs${*:+ under $(basename "$1")}, no libz.so needed, finds its profiler ($(glibc_needed "$rid"))"
}

glibc_needed() { # the newest glibc symbol version the natives of RID need
  local objdump=objdump
  [ "$1" = linux-x64 ] || objdump=aarch64-linux-gnu-objdump
  $objdump -T "$work/native/$1/ilheap" "$work/native/$1/libilheap_profiler.so" |
    grep -o 'GLIBC_[0-9.]*' | sort -uV | tail -n 1 | sed 's/GLIBC_/glibc >= /'
}

rm -rf "$work/native"
native linux-x64 "" /usr/lib/x86_64-linux-gnu/libz.a
check linux-x64
native linux-arm64 cmake/aarch64-linux-gnu.cmake /usr/lib/aarch64-linux-gnu/libz.a
check linux-arm64 "$qemu" -L /usr/aarch64-linux-gnu

mkdir -p "$out"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
# pack ID PROJECT FILES...: the package, then a check that it holds FILES.
pack() {
  local id=$1 project=$2
  shift 2
  say "packing $id $version"
  rm -f "$out/$id".*.nupkg
  if ! dotnet pack "$project" -c Release -o "$out" -p:Version="$version" -p:IlheapNativeDir="$work/native" \
         --artifacts-path "$work/dotnet-$id" -nodeReuse:false -p:UseSharedCompilation=false >"$work/$id.log" 2>&1; then
    tail -n 30 "$work/$id.log"
    say "FAILED: dotnet pack $id (log: $work/$id.log)"
    exit 1
  fi
  local pkg=$out/$id.$version.nupkg f
  for f in "$@" tools/linux-x64/ilheap tools/linux-x64/libilheap_profiler.so tools/linux-arm64/ilheap \
    tools/linux-arm64/libilheap_profiler.so; do
    unzip -l "$pkg" "$f" >/dev/null || { say "FAILED: $f is not in $pkg"; exit 1; }
  done
  say "wrote $pkg ($(du -k "$pkg" | cut -f1) KiB)"
}
pack ilheap.collector collector/ilheap.collector.csproj build/netstandard2.0/ilheap.collector.dll \
  build/netstandard2.0/ilheap.collector.targets
pack ilheap.mtp collector/mtp/ilheap.mtp.csproj lib/netstandard2.0/ilheap.mtp.dll buildTransitive/ilheap.mtp.props \
  build/ilheap.mtp.props
say "done in $((SECONDS - started)) s"
