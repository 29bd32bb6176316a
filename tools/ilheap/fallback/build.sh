#!/usr/bin/env bash
# Rebuilds Fallback.dll (committed) from Fallback.cs with the .NET SDK, offline.
# The ilheap command embeds the committed file at build time (tools/CMakeLists.txt).
set -euo pipefail
cd "$(dirname "$0")"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp Fallback.cs Fallback.csproj nuget.config "$work/"
DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 dotnet build "$work/Fallback.csproj" -c Release -o "$work/out" \
    --nologo -v q -nodeReuse:false -p:UseSharedCompilation=false >/dev/null
cp "$work/out/Fallback.dll" Fallback.dll
ls -l Fallback.dll
