#!/usr/bin/env bash
# The packages of scripts/pack.sh as a .NET team uses them, from a
# local feed, outside the tree:
#   1. an xunit (tests/coverage/Shop.Tests), an NUnit and an MSTest project of
#      tests/coverage/Shop, each referencing its test packages and
#      ilheap.collector and nothing else: `dotnet test --collect:ilheap` writes
#      coverage.cobertura.xml into TestResults/<guid>/, nothing of the profiler
#      in the output, and its lines agree with coverlet's collector on the same
#      build (compare_cobertura.py, at least MIN_AGREEMENT);
#   2. the collector's settings: Format=cobertura,lcov (both files from one run), a
#      Threshold that fails the run (its report still attached), an Include that collects nothing and fails it;
#   3. `ilheap collect` (the package's linux-x64 one) on the solution of the
#      xunit and NUnit projects: one merged report; with --include Typo: exit 7;
#      and on a deterministic build (ContinuousIntegrationBuild in a git
#      repository): the report names the real files;
#   4. an MSTest.Sdk project on the Microsoft Testing Platform with ilheap.mtp:
#      `dotnet test --ilheap-coverage` writes TestResults/coverage.cobertura.xml;
#      with an include that collects nothing the run fails, saying why.
# usage: run.sh PACKAGES_DIR WORK_DIR   (exit 77 without dotnet)
set -uo pipefail
MIN_AGREEMENT=${ILHEAP_COVERAGE_MIN:-99}
packages=$(realpath "$1")
work=$(realpath -m "$2")
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
command -v dotnet >/dev/null || { echo "SKIP: dotnet not found"; exit 77; }
version=$(ls "$packages" | sed -n 's/^ilheap\.collector\.\(.*\)\.nupkg$/\1/p' | head -n 1)
[ -n "$version" ] || { echo "FAIL: no ilheap.collector package in $packages (run scripts/pack.sh)"; exit 1; }
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
started=$SECONDS
step() { echo "== $* ($((SECONDS - started)) s)"; }

rm -rf "$work"
mkdir -p "$work/sln" "$work/mtp" "$work/coverlet"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
export DOTNET_CLI_HOME="$work/dotnet-home" NUGET_PACKAGES="$work/nuget" MSBUILDDISABLENODEREUSE=1
feeds="<add key=\"ilheap\" value=\"$packages\" />"
[ ! -d /opt/nuget/packages ] || feeds="$feeds<add key=\"fixed\" value=\"/opt/nuget/packages\" />"
for dir in "$work/sln" "$work/mtp"; do
  cat >"$dir/nuget.config" <<EOF
<configuration><packageSources><clear />$feeds
<add key="nuget.org" value="https://api.nuget.org/v3/index.json" /></packageSources></configuration>
EOF
  echo "<Project><PropertyGroup><IlheapVersion>$version</IlheapVersion></PropertyGroup></Project>" \
    >"$dir/Directory.Build.props"
  cp -r "$src/tests/coverage/Shop" "$dir/"
done
cp -r "$src/tests/coverage/Shop.Tests" "$here/Shop.NUnit" "$here/Shop.MSTest" "$work/sln/"
# The xunit project references ilheap.collector instead of coverlet's.
sed -i 's|<PackageReference Include="coverlet.collector" Version="[^"]*" />|<PackageReference Include="ilheap.collector" Version="$(IlheapVersion)" />|' \
  "$work/sln/Shop.Tests/Shop.Tests.csproj"
grep -q ilheap.collector "$work/sln/Shop.Tests/Shop.Tests.csproj" || { echo "FAIL: Shop.Tests.csproj not rewritten"; exit 1; }
cat >"$work/sln/Shop.slnx" <<'EOF'
<Solution>
  <Project Path="Shop/Shop.csproj" />
  <Project Path="Shop.Tests/Shop.Tests.csproj" />
  <Project Path="Shop.NUnit/Shop.NUnit.csproj" />
  <Project Path="Shop.MSTest/Shop.MSTest.csproj" />
</Solution>
EOF
cp -r "$here/Shop.Mtp" "$work/mtp/"
mv "$work/mtp/Shop.Mtp/global.json" "$work/mtp/"
# coverlet's collector, for the comparison only: given as a test adapter path,
# so that the projects reference nothing but ilheap.collector.
coverlet_pkg=$(ls /opt/nuget/packages/coverlet.collector/*/coverlet.collector.*.nupkg 2>/dev/null | head -n 1)
[ -n "$coverlet_pkg" ] || { echo "SKIP: no coverlet.collector in /opt/nuget/packages for the comparison"; exit 77; }
unzip -q "$coverlet_pkg" -d "$work/coverlet"

# winpath PATH: the Windows name of a Unix path under Wine (Z: is the root)
winpath() { local p=$1; printf 'Z:%s' "${p//\//\\}"; }
strip_time() { sed 's/ timestamp="[0-9]*"//' "$1"; }

# wine_step WINE: the win-x64 checks (below), in $work/win.
wine_step() {
  local wine=$1 win=$work/win rt=$work/runtime-feed p
  mkdir -p "$win" "$rt"
  for p in microsoft.netcore.app.runtime.win-x64 microsoft.netcore.app.host.win-x64; do
    [ ! -d "$HOME/.nuget/packages/$p" ] || ln -sfn "$HOME/.nuget/packages/$p" "$rt/$p"
  done
  sed -i "s|<add key=\"nuget.org\"|<add key=\"runtime-packs\" value=\"$rt\" /><add key=\"nuget.org\"|" "$work/mtp/nuget.config"
  (cd "$work/mtp" && dotnet publish Shop.Mtp/Shop.Mtp.csproj -c Debug -r win-x64 --self-contained \
    -p:DisableTransitiveFrameworkReferenceDownloads=true -o "$win/app") >"$work/win-publish.log" 2>&1 ||
    { tail -n 20 "$work/win-publish.log"; fail "win-x64: dotnet publish Shop.Mtp"; return; }
  export WINEPREFIX=$win/prefix WINEDEBUG=-all WINEDLLOVERRIDES="mshtml="
  timeout 180 "$wine" wineboot -i >/dev/null 2>&1 </dev/null || true
  (cd "$win" && timeout 300 "$wine" "$win/app/Shop.Mtp.exe" --ilheap-coverage --results-directory "$(winpath "$win/results")") \
    >"$work/win-mtp.log" 2>&1 </dev/null || { tail -n 20 "$work/win-mtp.log"; fail "win-x64: Shop.Mtp.exe --ilheap-coverage under Wine"; }
  if [ ! -f "$win/results/coverage.cobertura.xml" ]; then
    fail "win-x64: no coverage.cobertura.xml from the Windows run"
  else
    if cmp -s <(strip_time "$mtp_report") <(strip_time "$win/results/coverage.cobertura.xml"); then
      echo "  MTP on Windows: $(grep -o 'lines-covered="[0-9]*" lines-valid="[0-9]*"' "$win/results/coverage.cobertura.xml" | head -n 1), the same report as Linux's"
    else
      fail "win-x64: ilheap.mtp's report on Windows differs from Linux's"
    fi
  fi
  local exe="$work/nuget/ilheap.collector/$version/tools/win-x64/ilheap.exe"
  timeout 120 "$wine" "$exe" collect --include Shop --print-env "$(winpath "$win/counts")" </dev/null 2>"$work/win-env.err" |
    tr -d '\r' >"$work/win-env.txt" || fail "win-x64: ilheap.exe collect --print-env: $(cat "$work/win-env.err")"
  grep -qxF "CORECLR_PROFILER_PATH=$(winpath "${exe%ilheap.exe}ilheap_profiler.dll")" "$work/win-env.txt" ||
    fail "win-x64: --print-env names another profiler: $(grep PROFILER_PATH "$work/win-env.txt")"
  (cd "$win" && env $(cat "$work/win-env.txt") timeout 300 "$wine" "$win/app/Shop.Mtp.exe") >"$work/win-env-run.log" 2>&1 </dev/null ||
    fail "win-x64: Shop.Mtp.exe under --print-env's environment"
  local wineserver="${wine%/*}/wineserver" # this prefix's server and services: stopped
  [ -x "$wineserver" ] || wineserver=wineserver
  "$wineserver" -k 2>/dev/null || true
  "$work/nuget/ilheap.collector/$version/tools/linux-x64/ilheap" cover "$win"/counts/counts.* --cobertura "$win/linux-cover.xml" \
    >"$work/win-cover.log" 2>&1 || { cat "$work/win-cover.log"; fail "win-x64: the Linux ilheap cover of Windows' counts"; }
  grep -q 'Z:\\' <("$work/nuget/ilheap.collector/$version/tools/linux-x64/ilheap" counts "$win"/counts/counts.* --jsonl) ||
    fail "win-x64: the counts do not name Windows paths"
  if cmp -s <(strip_time "$mtp_report") <(strip_time "$win/linux-cover.xml"); then
    echo "  Windows counts (ilheap.exe collect --print-env), read by the Linux ilheap cover: the same report"
  else
    fail "win-x64: ilheap cover of Windows' counts differs from the Linux run's report"
  fi
}

step "build the solution (Shop, xunit, NUnit, MSTest)"
if ! dotnet build "$work/sln/Shop.slnx" -c Debug -nodeReuse:false >"$work/build.log" 2>&1; then
  tail -n 30 "$work/build.log"
  echo "FAIL: the solution does not build"
  exit 1
fi

# test NAME PROJECT ARGS...: `dotnet test --no-build` with the output in NAME.log.
test_run() {
  local name=$1 project=$2
  shift 2
  dotnet test "$work/sln/$project" --no-build --results-directory "$work/results-$name" "$@" >"$work/$name.log" 2>&1
}
words='ilheap-profiler|^(config_error|allocator|rewritten|methods_seen)='
cfg=DataCollectionRunSettings.DataCollectors.DataCollector.Configuration
for project in Shop.Tests Shop.NUnit Shop.MSTest; do
  step "$project: --collect:ilheap, then coverlet's collector"
  settings=() # the NUnit run writes LCOV too (Format=cobertura,lcov): one run fewer
  [ "$project" != Shop.NUnit ] || settings=(-- "$cfg.Format=cobertura,lcov")
  test_run "$project-ilheap" "$project" --collect:ilheap "${settings[@]}" ||
    { tail -n 20 "$work/$project-ilheap.log"; fail "$project: dotnet test --collect:ilheap"; continue; }
  ours=$(find "$work/results-$project-ilheap" -name coverage.cobertura.xml | head -n 1)
  [ -n "$ours" ] || { tail -n 20 "$work/$project-ilheap.log"; fail "$project: no coverage.cobertura.xml in TestResults"; continue; }
  [ "$(dirname "$(dirname "$ours")")" = "$work/results-$project-ilheap" ] || fail "$project: $ours is not in TestResults/<guid>/"
  ! grep -qE "$words" "$work/$project-ilheap.log" || fail "$project: the profiler's words in the test output"
  ! grep -q 'Data collector .ilheap. message' "$work/$project-ilheap.log" ||
    fail "$project: the collector said something: $(grep 'Data collector' "$work/$project-ilheap.log")"
  ! grep -q '<package name="'"$project"'"' "$ours" || fail "$project: the test assembly is in the report"
  test_run "$project-coverlet" "$project" --collect:"XPlat Code Coverage" \
    --test-adapter-path "$work/coverlet/build/netstandard2.0" || { fail "$project: coverlet's run"; continue; }
  theirs=$(find "$work/results-$project-coverlet" -name coverage.cobertura.xml | head -n 1)
  [ -n "$theirs" ] || { fail "$project: coverlet wrote no report"; continue; }
  python3 "$src/tests/coverage/compare_cobertura.py" "$theirs" "$ours" --root "$work/sln/Shop" --exclude /obj/ \
    --min "$MIN_AGREEMENT" >"$work/$project-compare.txt" 2>&1 || fail "$project: agreement below $MIN_AGREEMENT%"
  echo "  $project: $(grep -o 'lines-covered="[0-9]*" lines-valid="[0-9]*"' "$ours" | head -n 1); $(grep -iE 'agree' "$work/$project-compare.txt" | head -n 1)"
done

step "collector settings: Format=cobertura,lcov (the NUnit run above), Threshold, Include"
lcov=$(find "$work/results-Shop.NUnit-ilheap" -name coverage.info | head -n 1)
[ -n "$lcov" ] || fail "Format=cobertura,lcov: no coverage.info"
[ -z "$lcov" ] || grep -q '^SF:.*Shop' "$lcov" || fail "Format=cobertura,lcov: no Shop source in $lcov"
if test_run threshold Shop.NUnit --collect:ilheap -- "$cfg.Threshold=line=100"; then
  fail "Threshold=line=100 did not fail the run"
fi
grep -q 'coverage below the threshold' "$work/threshold.log" || fail "Threshold: not said: $(tail -n 5 "$work/threshold.log")"
[ -n "$(find "$work/results-threshold" -name coverage.cobertura.xml)" ] || fail "Threshold: the report below it was not attached"
if test_run typo Shop.NUnit --collect:ilheap -- "$cfg.Include=[Typo]*"; then
  fail "Include=[Typo]* (no coverage) did not fail the run"
fi
grep -q 'no coverage was collected' "$work/typo.log" || fail "no coverage: not said: $(tail -n 5 "$work/typo.log")"
[ -z "$(find "$work/results-typo" -name 'coverage.*')" ] || fail "no coverage: a report was attached anyway"

step "ilheap collect: the solution of the xunit and NUnit projects, one merged report"
ilheap="$work/nuget/ilheap.collector/$version/tools/linux-x64/ilheap"
chmod +x "$ilheap" # NuGet does not keep the execute bit; the collector does the same
cat >"$work/sln/Two.slnx" <<'EOF'
<Solution>
  <Project Path="Shop/Shop.csproj" />
  <Project Path="Shop.Tests/Shop.Tests.csproj" />
  <Project Path="Shop.NUnit/Shop.NUnit.csproj" />
</Solution>
EOF
(cd "$work/sln" && "$ilheap" collect --cobertura "$work/merged.xml" -- dotnet test Two.slnx --no-build) \
  >"$work/collect.log" 2>&1 || { tail -n 20 "$work/collect.log"; fail "ilheap collect -- dotnet test Two.slnx"; }
[ "$(grep -c 'Passed!' "$work/collect.log")" = 2 ] || fail "merged: not two test runs: $(grep -E 'Passed!|Failed!' "$work/collect.log")"
[ "$(grep -c '<package name="Shop"' "$work/merged.xml" 2>/dev/null)" = 1 ] || fail "merged: Shop is not one package"
merged=$(grep -o 'lines-covered="[0-9]*"' "$work/merged.xml" | head -n 1 | tr -dc 0-9)
xunit=$(grep -o 'lines-covered="[0-9]*"' "$(find "$work/results-Shop.Tests-ilheap" -name coverage.cobertura.xml)" | head -n 1 | tr -dc 0-9)
[ "${merged:-0}" -ge "${xunit:-1}" ] || fail "merged: $merged lines covered, fewer than the xunit project's $xunit alone"
echo "  merged: $(grep -o 'lines-covered="[0-9]*" lines-valid="[0-9]*"' "$work/merged.xml" | head -n 1)"
(cd "$work/sln" && "$ilheap" collect --include Typo --cobertura "$work/typo.xml" -- dotnet test Shop.NUnit --no-build) \
  >"$work/collect-typo.log" 2>&1
rc=$?
[ $rc = 7 ] || fail "ilheap collect --include Typo exited $rc, not 7"
[ ! -f "$work/typo.xml" ] || fail "ilheap collect --include Typo wrote a report"

step "ilheap collect: a deterministic build (ContinuousIntegrationBuild, Source Link in a git repository)"
(cd "$work/sln" && git init -q && git add -A && git -c user.name=t -c user.email=t@example.com commit -qm s &&
  git remote add origin https://github.com/example/shop.git) || fail "git init"
(cd "$work/sln" && "$ilheap" collect --cobertura "$work/det.xml" -- dotnet test Shop.NUnit -c Release \
  -p:ContinuousIntegrationBuild=true -nodeReuse:false) >"$work/det.log" 2>&1 ||
  { tail -n 20 "$work/det.log"; fail "ilheap collect -- dotnet test (deterministic)"; }
grep -aq '"documents":{"/_/\*"' "$work/sln/Shop/bin/Release/net10.0/Shop.pdb" || fail "Shop.pdb has no Source Link (not deterministic?)"
grep -q "<source>$work/sln/" "$work/det.xml" ||
  fail "deterministic: the /_/ paths are not mapped: $(grep -m1 '<source>' "$work/det.xml")"

step "the Microsoft Testing Platform: MSTest.Sdk with ilheap.mtp"
(cd "$work/mtp" && dotnet test --project Shop.Mtp/Shop.Mtp.csproj --ilheap-coverage) >"$work/mtp.log" 2>&1 ||
  { tail -n 20 "$work/mtp.log"; fail "MTP: dotnet test --ilheap-coverage"; }
mtp_report=$(find "$work/mtp" -path '*TestResults*' -name coverage.cobertura.xml | head -n 1)
if [ -z "$mtp_report" ]; then
  fail "MTP: no coverage.cobertura.xml under TestResults"
else
  grep -q '<package name="Shop"' "$mtp_report" || fail "MTP: Shop is not in the report"
  cp "$mtp_report" "$work/mtp-linux.xml" # (the run below that collects nothing removes it)
  mtp_report=$work/mtp-linux.xml
  echo "  MTP: $(grep -o 'lines-covered="[0-9]*" lines-valid="[0-9]*"' "$mtp_report" | head -n 1)"
fi

(cd "$work/mtp" && dotnet test --project Shop.Mtp/Shop.Mtp.csproj --no-build --ilheap-coverage \
  --ilheap-coverage-include Typo) >"$work/mtp-typo.log" 2>&1 && fail "MTP: --ilheap-coverage-include Typo did not fail the run"
grep -q 'no coverage was collected' "$work/mtp-typo.log" || fail "MTP: no coverage not said: $(tail -n 8 "$work/mtp-typo.log")"

step "win-x64 under Wine: the MTP project published for Windows, the packages' Windows natives"
# The Windows runtime (a self-contained win-x64 publish; the runtime pack from
# the NuGet cache that scripts/test-windows.sh filled, else from nuget.org)
# runs under wine64: `Shop.Mtp.exe --ilheap-coverage` (ilheap.mtp on Windows:
# tools/win-x64/ilheap.exe and ilheap_profiler.dll) writes the report the
# Linux run wrote; and the counts of a run under `ilheap.exe collect
# --print-env` (the collector's Windows environment), read by the Linux
# `ilheap cover` (paths on Wine's Z: drive), give that report too.
wine=$(command -v wine64 || echo /usr/lib/wine/wine64)
if [ ! -x "$wine" ]; then
  echo "SKIP (part): no wine64: the win-x64 natives are not run (scripts/test-windows.sh installs Wine)"
elif [ -z "${mtp_report:-}" ]; then
  fail "win-x64: no Linux MTP report to compare with"
else
  wine_step "$wine"
fi

echo "ilheap.collector test: $((SECONDS - started)) s"
if [ $failures -ne 0 ]; then
  echo "$failures failure(s); logs in $work"
  exit 1
fi
echo "the packages work as documented"
