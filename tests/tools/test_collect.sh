#!/usr/bin/env bash
# ilheap collect: its arguments, finding the profiler, the command's exit
# status passed on, and the statuses of its own (no coverage 7, threshold 8);
# with dotnet and the profiler, tests/pe/PdbSample run under it end to end,
# from the build tree and from a package-like copy (ilheap and the profiler
# side by side), and --print-env / --from.
# usage: test_collect.sh ILHEAP DOTNET|none SOURCE_DIR WORK_DIR PROFILER|none
ilheap_bin="$1" dotnet="$2" src="$3" work="$4" profiler="${5:-none}"
. "$(dirname "$0")/common.sh"
rm -rf "$work"
mkdir -p "$work"
has() { grep -Eq -- "$2" "$1" || fail "$1 lacks /$2/: $(head -c 2000 "$1")"; }

# Arguments.
expect_exit 2 'no command given' -- ilheap collect
expect_exit 2 'unknown option' -- ilheap collect --bogus -- true
expect_exit 2 'needs a value' -- ilheap collect --cobertura
expect_exit 2 'give one of' -- ilheap collect --from "$work" -- true
expect_exit 2 "expected line=N" -- ilheap collect --threshold line=101 -- true
expect_exit 2 "expected line=N" -- ilheap collect --threshold lines=5 -- true
expect_exit 2 "expected line=N" -- ilheap collect --threshold line=5,line=6 -- true
expect_exit 2 "'\\[' without '\\]'" -- ilheap collect --include '[Shop' -- true
expect_exit 2 "only wildcard" -- ilheap collect --include 'Sh?p' -- true
expect_exit 2 "empty pattern|more than 64" -- ilheap collect --include "$(printf 'a%d,' $(seq 1 70))" -- true
ilheap collect --help | grep -q '^exit status' || fail "--help has no exit status paragraph"
echo "ok  usage errors (2), --help"

# The profiler: given, wrong, missing.
expect_exit 3 'no such file' -- ilheap collect --profiler "$work/none.so" -- true
expect_exit 5 'neither an ELF nor a PE' -- ilheap collect --profiler /etc/hostname -- true
mkdir -p "$work/alone"
cp "$ilheap_bin" "$work/alone/ilheap"
expect_exit 3 'no profiler next to .*alone/ilheap; looked for:' -- "$work/alone/ilheap" collect -- true

if [ "$profiler" = none ] || [ ! -f "$profiler" ]; then
    echo "SKIP (part): no profiler built (or a sanitizer build): the runs under it are left out"
    exit 0
fi
# Commands: not found, their own status, a signal, no .NET process.
expect_exit 127 'nosuchcommand: No such file' -- ilheap collect --profiler "$profiler" -- nosuchcommand
expect_exit 3 '' -- ilheap collect --profiler "$profiler" -- sh -c 'exit 3'
expect_exit 143 '' -- ilheap collect --profiler "$profiler" -- sh -c 'kill -TERM $$'
expect_exit 7 'no \.NET process loaded the profiler' -- ilheap collect --profiler "$profiler" -- true
echo "x" >"$work/counts.1"
expect_exit 2 'counts files of an earlier run' -- ilheap collect --profiler "$profiler" --counts-dir "$work" -- true
rm "$work/counts.1"

# --print-env: the variables, coverlet's filters mapped to assembly names.
ilheap collect --profiler "$profiler" --print-env "$work/env" --include '[Pdb*]*, Other' --exclude '[X]Y.Z' \
    >"$work/env.txt" 2>"$work/env.err" || fail "--print-env: $(cat "$work/env.err")"
has "$work/env.txt" "^CORECLR_PROFILER_PATH=$profiler\$"
has "$work/env.txt" '^CORECLR_ENABLE_PROFILING=1$'
has "$work/env.txt" '^ILHEAP_MODE=blocks$'
has "$work/env.txt" "^ILHEAP_COUNTS=$work/env/counts\\.%p\$"
has "$work/env.txt" '^ILHEAP_INCLUDE=Pdb\*,Other$'
has "$work/env.txt" '^ILHEAP_EXCLUDE=X$'
has "$work/env.err" "type filters are not supported; the whole assembly 'X' is taken"
ilheap collect --profiler "$profiler" --print-env "$work/env2" >"$work/env2.txt" || fail "--print-env without filters"
has "$work/env2.txt" '^ILHEAP_EXCLUDE=System\.\*,Microsoft\.\*,'
echo "ok  command statuses (127, 3, 143), no .NET process (7), --print-env"

[ "$dotnet" != none ] || skip "dotnet not found: the runs of a .NET program are left out"
mkdir -p "$work/app/src"
cp "$src"/tests/pe/PdbSample/* "$work/app/src/"
"$dotnet" build "$work/app/src/PdbSample.csproj" -c Debug -o "$work/app/out" -nodeReuse:false \
    -p:UseSharedCompilation=false >"$work/app/build.log" 2>&1 ||
    { tail -n 20 "$work/app/build.log" >&2; fail "dotnet build PdbSample"; }
app="$work/app/out/PdbSample.dll"
"$dotnet" "$app" >"$work/plain.out" 2>&1 || fail "PdbSample: $(cat "$work/plain.out")"

# From the build tree: the profiler found beside ilheap (../profiler).
ilheap collect --include PdbSample --cobertura "$work/c.xml" --lcov "$work/c.info" -- "$dotnet" "$app" \
    >"$work/run.out" 2>"$work/run.err" || fail "collect: exit $?: $(cat "$work/run.err")"
cmp -s "$work/plain.out" "$work/run.out" || fail "the program's output changed under collect"
has "$work/run.err" '^PdbSample +[0-9.]+% \([0-9]+/[0-9]+\)'
has "$work/run.err" '^ilheap collect: [0-9]+ of [0-9]+ lines covered'
has "$work/c.xml" '<coverage line-rate="0\.[0-9]+"'
has "$work/c.info" '^SF:.*Program\.cs$'
echo "ok  collect -- dotnet PdbSample.dll: reports written, output unchanged"

# Thresholds and no coverage.
expect_exit 0 '' -- ilheap collect --include PdbSample --threshold line=1,branch=1 -- "$dotnet" "$app"
expect_exit 8 'line coverage .* is below the threshold 100%' -- \
    ilheap collect --include PdbSample --threshold line=100 -- "$dotnet" "$app"
expect_exit 7 'counted no method of the included assemblies \(Typo\)' -- \
    ilheap collect --include Typo --cobertura "$work/typo.xml" -- "$dotnet" "$app"
[ ! -f "$work/typo.xml" ] || fail "a report was written for a run with no coverage"
cp -r "$work/app/out" "$work/nopdb"
rm "$work/nopdb/PdbSample.pdb"
obj_pdb=$(find "$work/app/src/obj" -name PdbSample.pdb) # the CodeView path: moved away for the run
mv "$obj_pdb" "$obj_pdb.away"
echo stale >"$work/nopdb.xml"
expect_exit 9 'PdbSample.dll: no PDB' -- ilheap collect --include PdbSample --cobertura "$work/nopdb.xml" -- \
    "$dotnet" "$work/nopdb/PdbSample.dll"
mv "$obj_pdb.away" "$obj_pdb"
[ ! -f "$work/nopdb.xml" ] || fail "a report of an assembly without a PDB was left behind"
expect_exit 1 '' -- ilheap collect --include PdbSample -- sh -c "\"$dotnet\" \"$app\" >/dev/null; exit 1"
echo "ok  threshold met (0) and missed (8), no coverage (7), an included assembly without its PDB (9), the command's failure first (1)"

# A package-like layout: ilheap and the profiler side by side, nothing typed.
mkdir -p "$work/pkg"
cp "$ilheap_bin" "$profiler" "$work/pkg/"
"$work/pkg/ilheap" collect --include PdbSample --cobertura "$work/pkg.xml" --quiet -- "$dotnet" "$app" \
    >/dev/null 2>"$work/pkg.err" || fail "collect from the package layout: $(cat "$work/pkg.err")"
has "$work/pkg.xml" '<coverage line-rate='
# --print-env, a run of one's own, --from: the same report.
ilheap collect --include PdbSample --print-env "$work/manual" >"$work/manual.env" || fail "--print-env"
env $(cat "$work/manual.env") "$dotnet" "$app" >/dev/null 2>&1 || fail "PdbSample under --print-env's environment"
ilheap collect --include PdbSample --from "$work/manual" --cobertura "$work/manual.xml" --quiet 2>"$work/from.err" ||
    fail "--from: $(cat "$work/from.err")"
[ "$(grep -o 'lines-covered="[0-9]*"' "$work/manual.xml")" = "$(grep -o 'lines-covered="[0-9]*"' "$work/pkg.xml")" ] ||
    fail "--from gave other totals than a collect run"
# --wait: --from first waits for the processes that write the counts.
expect_exit 2 'goes with --from' -- ilheap collect --wait 5 -- true
expect_exit 2 'expected seconds' -- ilheap collect --from "$work/manual" --wait 1x
mkdir -p "$work/waited"
sleep 2 &
writer=$!
cp "$(ls "$work"/manual/counts.* | head -n 1)" "$work/waited/counts.$writer"
t0=$(date +%s%N)
ilheap collect --include PdbSample --from "$work/waited" --wait 30 --quiet 2>"$work/waited.err" || fail "--wait: $(cat "$work/waited.err")"
waited=$((($(date +%s%N) - t0) / 1000000))
[ "$waited" -ge 1000 ] || fail "--from --wait 30 returned after $waited ms, before its writer (a 2 s sleep) ended"
wait "$writer"
echo "ok  package layout (profiler beside ilheap), --print-env + --from, --wait ($waited ms for a 2 s writer)"

# Counts of another machine: the module paths as Windows names them (Wine's
# Z: drive, another drive through a Wine prefix, a build machine's C:\ with
# --path-map or ILHEAP_PATH_MAP), and a PDB whose documents are C:\ paths.
strip_time() { sed 's/ timestamp="[0-9]*"//' "$1"; }
ilheap cover "$work"/manual/counts.* --include PdbSample --cobertura "$work/here.xml" >/dev/null 2>&1 ||
    fail "cover of the manual counts"
ilheap counts "$work"/manual/counts.* --jsonl >"$work/here.jsonl" || fail "counts --jsonl"
# windows_paths DIR PREFIX: the counts with "$work/app/out/..." named PREFIX\out\... (JSON-escaped)
windows_paths() { python3 - "$work/here.jsonl" "$work/app/" "$2" >"$1" <<'PY'
import json, sys
src, old, new = sys.argv[1:4]
for line in open(src):
    o = json.loads(line)
    if o["path"].startswith(old):
        o["path"] = new + "\\" + o["path"][len(old):].replace("/", "\\")
    print(json.dumps(o))
PY
}
same_report() { # NAME ARGS...: cover with ARGS gives here.xml's report
    local name=$1
    shift
    ilheap cover "$@" --include PdbSample --cobertura "$work/$name.xml" >/dev/null 2>"$work/$name.err" ||
        fail "$name: cover exit $?: $(cat "$work/$name.err")"
    cmp -s <(strip_time "$work/here.xml") <(strip_time "$work/$name.xml") || fail "$name: another report than here.xml"
}
windows_paths "$work/wine-z.jsonl" "Z:${work//\//\\}\\app"
same_report wine-z "$work/wine-z.jsonl"
mkdir -p "$work/wineprefix/dosdevices"
ln -sfn "$work/app" "$work/wineprefix/dosdevices/d:"
windows_paths "$work/wine-d.jsonl" 'D:'
WINEPREFIX="$work/wineprefix" same_report wine-d "$work/wine-d.jsonl"
windows_paths "$work/build-c.jsonl" 'C:\Build\App'
expect_exit 9 'C:\\Build\\App\\out\\PdbSample.dll: a Windows path that names no file here: map it with --path-map' -- \
    ilheap cover "$work/build-c.jsonl" --include PdbSample
same_report map-c "$work/build-c.jsonl" --path-map 'c:\build\app=/nowhere' --path-map "c:/build/APP/=$work/app"
ILHEAP_PATH_MAP="X:\\=/nowhere;C:\\Build\\App=$work/app" same_report env-c "$work/build-c.jsonl"
expect_exit 2 'FROM=TO expected' -- ilheap cover "$work/build-c.jsonl" --path-map 'C:\Build'
expect_exit 2 'needs FROM=TO' -- ilheap collect --from "$work/manual" --path-map
# A PDB built with C:\ document paths (the compiler's PathMap, as on a Windows build machine).
mkdir -p "$work/app/csrc"
cp "$src"/tests/pe/PdbSample/* "$work/app/csrc/"
"$dotnet" build "$work/app/csrc/PdbSample.csproj" -c Debug -o "$work/app/cpath" -nodeReuse:false \
    -p:UseSharedCompilation=false "-p:PathMap=$work/app/csrc=C:\\src" \
    >"$work/app/cpath.log" 2>&1 || { tail -n 20 "$work/app/cpath.log" >&2; fail "dotnet build PdbSample with PathMap"; }
ilheap scan "$work/app/cpath/PdbSample.dll" --lines | grep -Eq '^  C:[/\\]src[/\\]Program\.cs$' ||
    fail "PathMap: the PDB does not name C:\\src\\Program.cs"
(cd / && ilheap collect --include PdbSample --path-map "C:\\src=$work/app/csrc" --cobertura "$work/cpath.xml" --quiet -- \
    "$dotnet" "$work/app/cpath/PdbSample.dll") >/dev/null 2>"$work/cpath.err" || fail "collect --path-map: $(cat "$work/cpath.err")"
has "$work/cpath.xml" "<source>$work/app/csrc/</source>"
! grep -q 'does not exist' "$work/cpath.err" || fail "C:\\ sources not mapped: $(cat "$work/cpath.err")"
echo "ok  paths of another machine: Wine's Z: and D: (a prefix's dosdevices), --path-map and ILHEAP_PATH_MAP for modules and PDB documents"

# A deterministic build (ContinuousIntegrationBuild): the PDB names "/_/..."
# and carries Source Link; the report names the real files.
if command -v git >/dev/null; then
    det="$work/det"
    mkdir -p "$det/repo"
    cp "$src"/tests/pe/PdbSample/* "$det/repo/"
    (cd "$det/repo" && git init -q && git add -A && git -c user.name=t -c user.email=t@example.com commit -qm sample &&
        git remote add origin https://github.com/example/sample.git) || fail "git init of the deterministic sample"
    "$dotnet" build "$det/repo/PdbSample.csproj" -c Release -p:ContinuousIntegrationBuild=true -nodeReuse:false \
        -p:UseSharedCompilation=false >"$det/build.log" 2>&1 ||
        { tail -n 20 "$det/build.log" >&2; fail "dotnet build PdbSample (deterministic)"; }
    dll="$det/repo/bin/Release/net10.0/PdbSample.dll"
    ilheap scan "$dll" --lines | grep -q '^  /_/Program\.cs$' || fail "the deterministic PDB does not name /_/Program.cs"
    grep -aq '"documents":{"/_/\*":"https://raw.githubusercontent.com/example/sample/' "${dll%.dll}.pdb" ||
        fail "no Source Link JSON in the deterministic PDB"
    (cd / && ilheap collect --include PdbSample --cobertura "$det/c.xml" --quiet -- "$dotnet" "$dll") \
        >/dev/null 2>"$det/run.err" || fail "collect on the deterministic build: $(cat "$det/run.err")"
    has "$det/c.xml" "<source>$det/repo/</source>"
    ! grep -q 'does not exist' "$det/run.err" || fail "sources not found: $(cat "$det/run.err")"
    # Copied elsewhere: found through --source-root.
    mkdir -p "$det/elsewhere"
    cp "$det"/repo/bin/Release/net10.0/* "$det/elsewhere/"
    (cd / && ilheap collect --include PdbSample --source-root "$det/none:$det/repo" --cobertura "$det/c2.xml" --quiet -- \
        "$dotnet" "$det/elsewhere/PdbSample.dll") >/dev/null 2>"$det/run2.err" || fail "collect --source-root: $(cat "$det/run2.err")"
    has "$det/c2.xml" "<source>$det/repo/</source>"
    echo "ok  deterministic build: /_/ paths mapped back (Source Link prefix; the assembly's parents; --source-root)"
else
    echo "SKIP (part): git not found: the deterministic build (Source Link needs a repository) is left out"
fi
echo "ilheap collect: all checks passed"
