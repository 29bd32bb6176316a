#!/usr/bin/env bash
# Installs what ilheap's tests and benchmarks need from Debian's packages,
# or, given package names, those packages. Needs root; does nothing for
# packages already present.
#   scripts/deps.sh                  the default set
#   scripts/deps.sh mingw-w64 wine   just these
set -euo pipefail
packages=(cmake gcc g++ make pkg-config valgrind clang libclang-rt-14-dev libmimalloc-dev libjemalloc-dev gnuplot-nox zlib1g-dev python3 lcov)
[ $# -gt 0 ] && packages=("$@")
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "deps: missing packages: ${missing[*]} (run as root, or install them)" >&2
  exit 1
fi
echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq "${missing[@]}" >/dev/null
