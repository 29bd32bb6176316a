#!/usr/bin/env bash
# Builds one of the benchmarks' .NET programs from a copy of its sources in the
# build tree (bin/ and obj/ stay out of the repository), without build servers
# that would outlive the build, unless it is built already:
#
#   bench/dotnet_build.sh SRC_DIR OUT_DIR      prints OUT_DIR/<Project>.dll
#
# SRC_DIR holds one .csproj and its sources (and a nuget.config when it has
# one). Prints nothing and exits 1 without dotnet or when the build fails
# (its log on stderr).
set -euo pipefail
src=$1 out=$2
proj=$(basename "$(ls "$src"/*.csproj)" .csproj)
dll="$out/$proj.dll"
if [ ! -f "$dll" ]; then
    command -v dotnet >/dev/null || exit 1
    mkdir -p "$out-src"
    cp "$src"/*.cs "$src"/*.csproj "$out-src/"
    [ ! -f "$src/nuget.config" ] || cp "$src/nuget.config" "$out-src/"
    DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 dotnet build "$out-src/$proj.csproj" -c Release -o "$out" \
        --nologo -v q -nodeReuse:false -p:UseSharedCompilation=false >&2 || exit 1
fi
echo "$dll"
