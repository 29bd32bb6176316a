#!/usr/bin/env bash
# Makes docs/coverage-report.png, the picture in docs/coverage.md: the xunit
# project tests/coverage/Shop.Tests run under the profiler in blocks mode,
# `ilheap cover --cobertura`, ReportGenerator's HTML (NuGet
# dotnet-reportgenerator-globaltool), rendered by headless Chromium. By hand,
# not in CI (Chromium is large); as root it installs Chromium with apt.
#
# usage: scripts/coverage-screenshot.sh [BUILD_DIR] [OUT.png]
#   BUILD_DIR  a build with the profiler and the ilheap tool (default build/release)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=$(realpath "${1:-$root/build/release}")
out=$(realpath -m "${2:-$root/docs/coverage-report.png}")
so="$build/profiler/libilheap_profiler.so"
ilheap="$build/tools/ilheap"
[ -f "$so" ] && [ -x "$ilheap" ] || { echo "no profiler or ilheap in $build (build it first)" >&2; exit 1; }
if ! command -v chromium >/dev/null; then
    [ "$(id -u)" -eq 0 ] || { echo "chromium missing; run as root to install it" >&2; exit 1; }
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_CLI_HOME="$work/home"
cp -r "$root/tests/coverage/Shop" "$root/tests/coverage/Shop.Tests" "$work/"
rm -rf "$work"/*/bin "$work"/*/obj
dotnet build "$work/Shop.Tests/Shop.Tests.csproj" -c Debug --source /opt/nuget/packages \
    -nodeReuse:false -p:UseSharedCompilation=false >"$work/build.log" 2>&1 || { tail "$work/build.log"; exit 1; }
mkdir -p "$work/counts"
env CORECLR_ENABLE_PROFILING=1 CORECLR_PROFILER='{D643D291-34DE-476E-974D-062912349822}' \
    CORECLR_PROFILER_PATH="$so" ILHEAP_MODE=blocks ILHEAP_INCLUDE=Shop \
    ILHEAP_COUNTS="$work/counts/counts.%p.jsonl" ILHEAP_REPORT="$work/counts/report.%p.txt" \
    ILHEAP_DISABLE_R2R=1 dotnet test "$work/Shop.Tests/Shop.Tests.csproj" --no-build >"$work/test.log" 2>&1
"$ilheap" cover "$work"/counts/counts.*.jsonl --cobertura "$work/coverage.xml"
dotnet tool install --tool-path "$work/tools" dotnet-reportgenerator-globaltool --version 5.5.12 \
    --add-source /opt/nuget/packages >/dev/null
"$work/tools/reportgenerator" -reports:"$work/coverage.xml" -targetdir:"$work/html" -reporttypes:Html >/dev/null
chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size=1200,1400 \
    --screenshot="$out" "file://$work/html/Shop_Pricing.html" >/dev/null 2>&1
echo "wrote $out"
