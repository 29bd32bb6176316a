#!/usr/bin/env bash
# ilheap cover: counts files as the profiler's blocks mode writes
# them, made by cover_counts from the real block starts of tests/tools/CoverSample
# (Debug, portable and embedded PDB), with hits chosen by hand; then exact
# line hits, branch conditions, never-run methods at 0, the merge of files, each
# kind of bad input, and the consumers: genhtml must accept the LCOV without a
# warning, ReportGenerator must turn the Cobertura into HTML.
# With the profiler given, last: tests/pe/PdbSample runs under it in blocks
# mode and `ilheap cover` of its real counts gives the lines that ran.
# usage: test_cover.sh ILHEAP COVER_COUNTS DOTNET SOURCE_DIR WORKDIR [PROFILER.so|none]
source "$(dirname "$0")/common.sh"
ilheap_bin="$1" counts_bin="$2" dotnet="$3" src="$4" work="$5" profiler="${6:-none}"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
rm -rf "$work" && mkdir -p "$work"
start=$(date +%s)

# build NAME CONFIG DEBUGTYPE: a copy of the sample (the source tree stays clean)
# built into $work/NAME/out.
build() {
    local name="$1" config="$2" type="$3"
    mkdir -p "$work/$name/src"
    cp "$src"/tests/tools/CoverSample/*.cs "$src"/tests/tools/CoverSample/*.csproj "$work/$name/src/"
    cp "$src/tests/pe/PdbSample/nuget.config" "$work/$name/src/"
    "$dotnet" build "$work/$name/src/CoverSample.csproj" -c "$config" -p:DebugType="$type" -o "$work/$name/out" \
        >"$work/$name/build.log" 2>&1 || { tail -n 20 "$work/$name/build.log" >&2; fail "dotnet build $name"; }
}
build portable Debug portable
build embedded Debug embedded
build release Release portable
dll="$work/portable/out/CoverSample.dll"
[ -f "$work/portable/out/CoverSample.pdb" ] || fail "DebugType=portable wrote no CoverSample.pdb"
[ ! -f "$work/embedded/out/CoverSample.pdb" ] || fail "DebugType=embedded wrote a separate CoverSample.pdb"

# line MARKER: the line of the sample that carries // @MARKER
line() { grep -n "// @$1\$" "$src/tests/tools/CoverSample/Sample.cs" | cut -d: -f1; }
fline() { grep -n "// @$1\$" "$src/tests/tools/CoverSample/Filters.cs" | cut -d: -f1; }
gline=$(grep -n "// @glob\$" "$src/tests/tools/CoverSample/Excluded.g.cs" | cut -d: -f1)
counts() { "$counts_bin" "$@" || fail "cover_counts $* (the compiler's IL shape changed? see the starts above)"; }
# cover OUT_PREFIX EXPECTED_EXIT COUNTS... [options]: runs ilheap cover with both
# reports into OUT_PREFIX.{info,xml,out,err}.
cover() {
    local prefix="$1" want="$2" rc
    shift 2
    ilheap cover "$@" --lcov "$prefix.info" --cobertura "$prefix.xml" >"$prefix.out" 2>"$prefix.err"
    rc=$?
    [ "$rc" = "$want" ] || fail "ilheap cover $* exited $rc, expected $want: $(cat "$prefix.err")"
}
has() { grep -Eq -- "$2" "$1" || fail "$1 has no line matching /$2/:
$(head -c 3000 "$1")"; }
hasnt() { ! grep -Eq -- "$2" "$1" || fail "$1 has a line matching /$2/: $(grep -E -- "$2" "$1" | head -n 3)"; }

# Sign: blocks [if] [return 1] [return 0] [}]; Pick: [switch] [fall-through
# to default] [case 0] [case 1] [case 2] [default] [}].
sign=CoverSample.Sample::Sign pick=CoverSample.Sample::Pick
counts "$dll" "$sign=5,3,2,5" "$pick=6,0,1,2,3,0,6" >"$work/one.jsonl"
cover "$work/one" 0 "$work/one.jsonl"
i=$(line sign-if) p=$(line sign-pos) z=$(line sign-zero) s=$(line pick-switch)
has "$work/one.info" "^DA:$i,5\$"
has "$work/one.info" "^DA:$p,3\$"
has "$work/one.info" "^DA:$z,2\$"
has "$work/one.info" "^DA:$(line pick-0),1\$"
has "$work/one.info" "^DA:$(line pick-2),3\$"
has "$work/one.info" "^DA:$(line pick-default),0\$"
# the if's outcomes: jump to `return 0` (2), fall through to `return 1` (3)
[ "$(grep -c "^BRDA:$i," "$work/one.info")" = 2 ] || fail "line $i: not 2 branch outcomes: $(grep "^BRDA:$i," "$work/one.info")"
has "$work/one.info" "^BRDA:$i,[0-9]+,0,2\$"
has "$work/one.info" "^BRDA:$i,[0-9]+,1,3\$"
# the switch: 3 cases + the fall-through to default (0 hits)
[ "$(grep -c "^BRDA:$s," "$work/one.info")" = 4 ] || fail "line $s: not 4 switch outcomes"
has "$work/one.xml" "<line number=\"$i\" hits=\"5\" branch=\"True\" condition-coverage=\"100% \\(2/2\\)\">"
has "$work/one.xml" "<line number=\"$s\" hits=\"6\" branch=\"True\" condition-coverage=\"75% \\(3/4\\)\">"
has "$work/one.xml" '<condition number="[0-9]+" type="switch" coverage="75%" />'
has "$work/one.xml" "<line number=\"$p\" hits=\"3\" branch=\"False\" />"
# never compiled: no counts at all, lines at 0 (and a nested type's name)
has "$work/one.info" "^DA:$(line never),0\$"
has "$work/one.info" '^FNDA:0,CoverSample.Sample::Never@0x[0-9a-f]{8}$'
has "$work/one.info" '^FNDA:5,CoverSample.Sample::Sign@0x[0-9a-f]{8}$'
has "$work/one.xml" '<class name="CoverSample.Sample/Inner" filename="Sample.cs" line-rate="0"'
has "$work/one.xml" "<line number=\"$(line inner)\" hits=\"0\" branch=\"False\" />"
has "$work/one.xml" "<source>$work/portable/src/</source>"
has "$work/one.out" '^CoverSample +[0-9.]+% \(11/[0-9]+\) +[0-9.]+% \(5/[0-9]+\) +methods entered 2/'
[ "$(sed -n "\|^SF:.*/Sample.cs\$|,/^end_of_record/p" "$work/one.info" | grep -E '^(LF|LH|BRF|BRH):' | tr '\n' ' ')" = \
  "BRF:6 BRH:5 LF:16 LH:11 " ] || fail "Sample.cs: not 11/16 lines and 5/6 branches: $(grep -E '^(SF|LF|LH|BRF|BRH):' "$work/one.info")"
hasnt "$work/one.err" .
echo "ok  line hits, branch outcomes (if 2/2, switch 3/4), never-run methods at 0, summary"

# The embedded PDB gives the same lines and branches.
counts "$work/embedded/out/CoverSample.dll" "$sign=5,3,2,5" "$pick=6,0,1,2,3,0,6" >"$work/emb.jsonl"
cover "$work/emb" 0 "$work/emb.jsonl"
diff <(grep -E '^(DA|BRDA|FNDA|LF|LH|BRF|BRH):' "$work/one.info") \
     <(grep -E '^(DA|BRDA|FNDA|LF|LH|BRF|BRH):' "$work/emb.info") >&2 || fail "embedded PDB: other coverage"
echo "ok  embedded PDB: the same coverage"

# Merge: the same method in two files (two processes) is summed.
counts "$dll" "$sign=2,1,1,2" >"$work/a.jsonl"
counts "$dll" "$sign=3,2,1,3" "$pick=6,0,1,2,3,0,6" >"$work/b.jsonl"
cover "$work/merged" 0 "$work/a.jsonl" "$work/b.jsonl"
diff <(grep -v '^TN' "$work/one.info") <(grep -v '^TN' "$work/merged.info") >&2 || fail "merged counts differ from the sum"
cover "$work/twice" 0 "$work/one.jsonl" "$work/one.jsonl"
has "$work/twice.info" "^DA:$i,10\$"
echo "ok  merge: two files sum per block"

# Merge by identity: two test projects each have their own copy of the library
# (the same MVID at two paths); their counts are one module, one row, one
# class per source class, the hits summed, whichever copy is read (named).
mkdir -p "$work/projA/bin" "$work/projB/bin"
cp "$dll" "$work/portable/out/CoverSample.pdb" "$work/projA/bin/"
cp "$dll" "$work/portable/out/CoverSample.pdb" "$work/projB/bin/"
counts "$dll" --path "$work/projA/bin/CoverSample.dll" "$sign=2,1,1,2" >"$work/projA.jsonl"
counts "$dll" --path "$work/projB/bin/CoverSample.dll" "$sign=3,2,1,3" "$pick=6,0,1,2,3,0,6" >"$work/projB.jsonl"
cover "$work/copies" 0 "$work/projA.jsonl" "$work/projB.jsonl"
[ "$(grep -c '^CoverSample ' "$work/copies.out")" = 1 ] || fail "two copies of one module: not one row: $(cat "$work/copies.out")"
diff <(grep -E '^(DA|BRDA|FNDA|LF|LH|BRF|BRH):' "$work/one.info") \
     <(grep -E '^(DA|BRDA|FNDA|LF|LH|BRF|BRH):' "$work/copies.info") >&2 || fail "two copies: not the sum of their counts"
[ "$(grep -c '<class name="CoverSample.Sample" ' "$work/copies.xml")" = 1 ] || fail "two copies: CoverSample.Sample is not one class"
has "$work/copies.xml" 'lines-covered="11" lines-valid="[0-9]+"'
has "$work/copies.err" "CoverSample: counted at 2 paths \\(one MVID\\), merged; read $work/projA/bin/CoverSample\\.dll"
# The first copy gone: the DLL is read from the other path.
rm "$work/projA/bin/CoverSample.dll"
cover "$work/copies2" 0 "$work/projA.jsonl" "$work/projB.jsonl"
has "$work/copies2.err" "read $work/projB/bin/CoverSample\\.dll"
has "$work/copies2.xml" 'lines-covered="11" lines-valid="[0-9]+"'
echo "ok  merge by MVID: two copies of one module at two paths are one module (11 lines hit, the sum)"

# Never a silent pass: no data, nothing included, a DLL or PDB that cannot be
# used each exit with a status of their own and leave no report behind (an
# earlier report at the same path is removed).
# nocov PREFIX STATUS REGEX COUNTS... [options]: cover must exit STATUS, say
# REGEX on stderr, and leave neither report.
nocov() {
    local prefix="$1" want="$2" regex="$3"
    shift 3
    echo stale >"$prefix.info" && echo stale >"$prefix.xml"
    cover "$prefix" "$want" "$@"
    has "$prefix.err" "$regex"
    [ ! -e "$prefix.info" ] && [ ! -e "$prefix.xml" ] || fail "cover $* (exit $want) left a report: $(ls "$prefix".*)"
    hasnt "$prefix.out" 'line-rate|100\.0%'
}
: >"$work/empty.jsonl"
nocov "$work/empty" 7 'no coverage: the counts files name no method' "$work/empty.jsonl"
nocov "$work/empty2" 7 'the profiler counted no method of the included assemblies \(CoverSample\)' "$work/empty.jsonl" --include CoverSample
nocov "$work/typo" 7 "no coverage: no counted assembly matches --include Typo \\(counted: CoverSample\\)" "$work/one.jsonl" --include Typo
nocov "$work/allout" 7 'no coverage: every counted assembly is excluded' "$work/one.jsonl" --exclude 'Cover*'
counts "$dll" --path "$work/gone/CoverSample.dll" "$sign=5,3,2,5" >"$work/gone.jsonl"
nocov "$work/gone" 9 "CoverSample: no copy of the DLL with MVID [0-9a-f-]{36} .*$work/gone/CoverSample\\.dll: no such file" "$work/gone.jsonl"
hasnt "$work/gone.out" 'usable PDB'
mkdir -p "$work/trunc"
head -c 1000 "$dll" >"$work/trunc/CoverSample.dll"
counts "$dll" --path "$work/trunc/CoverSample.dll" "$sign=5,3,2,5" >"$work/trunc.jsonl"
nocov "$work/trunc" 9 "trunc/CoverSample\\.dll: .*truncated" "$work/trunc.jsonl"
echo "ok  never a silent pass: empty counts, --include Typo, all excluded (7); missing or truncated DLL (9); no report left"

# Messages: a directory as counts file, a report that cannot be written.
expect_exit 4 "ilheap cover: $work: is a directory, not a counts file" -- ilheap cover "$work"
ilheap cover "$work/one.jsonl" --lcov "$work" >/dev/null 2>"$work/wdir.err"
[ $? = 6 ] || fail "a directory as --lcov: not exit 6"
has "$work/wdir.err" "^ilheap cover: $work: cannot write the LCOV report: Is a directory"
echo "ok  messages: a directory as counts file (4), a report that cannot be written (6)"

# Filters: [ExcludeFromCodeCoverage] on types (and their nested types),
# methods (and the lambdas, local functions, iterator and async bodies they
# hold), properties and accessors; --exclude-by-attribute (also on the
# assembly), --exclude-by-file, --skip-auto-props.
# da FILE.info SOURCE LINE: the DA record of that line in that source's record.
da() { awk -v f="SF:$work/portable/src/$2" -v l="DA:$3," '$0 == f {on = 1} /^end_of_record/ {on = 0} on && index($0, l) == 1' "$1"; }
kept() { [ -n "$(da "$1" "$2" "$3")" ] || fail "$2:$3 is not in $1 (it should be)"; }
dropped() { [ -z "$(da "$1" "$2" "$3")" ] || fail "$2:$3 is in $1 ($(da "$1" "$2" "$3")); it should be left out"; }
for m in keep-method keep-async keep-lambda keep-setter auto custom; do kept "$work/one.info" Filters.cs "$(fline $m)"; done
for m in drop-method drop-method-2 drop-local drop-iterator drop-async drop-getter drop-property-get \
    drop-property-set drop-type drop-nested; do
    dropped "$work/one.info" Filters.cs "$(fline $m)"
done
kept "$work/one.info" Excluded.g.cs "$gline"
hasnt "$work/one.xml" 'DroppedType'
cover "$work/filt" 0 "$work/one.jsonl" --exclude-by-attribute 'SkipMe' --exclude-by-file '**/*.g.cs' --skip-auto-props
dropped "$work/filt.info" Filters.cs "$(fline custom)"
dropped "$work/filt.info" Filters.cs "$(fline auto)"
dropped "$work/filt.info" Excluded.g.cs "$gline"
kept "$work/filt.info" Filters.cs "$(fline keep-setter)"
kept "$work/filt.info" Sample.cs "$(line sign-if)"
cover "$work/filt2" 0 "$work/one.jsonl" --exclude-by-attribute 'CoverSample.SkipMeAttribute' --exclude-by-file 'Nothing/**'
dropped "$work/filt2.info" Filters.cs "$(fline custom)"
kept "$work/filt2.info" Excluded.g.cs "$gline"
# On the assembly: every SDK-built assembly has [assembly: TargetFramework(...)].
nocov "$work/filt3" 7 'no included assembly has a PDB and sources' "$work/one.jsonl" --exclude-by-attribute TargetFramework
has "$work/filt3.out" '^CoverSample +excluded by attribute: left out'
# Compiler-made code reports under the developer's class and method.
hasnt "$work/one.xml" '<class name="[^"]*<'
hasnt "$work/one.xml" '<method name="<'
has "$work/one.info" '^FN:[0-9]+,CoverSample.Filters::KeptAsync@0x'
# Each method's signature attribute as coverlet writes it (Cecil's names).
has "$work/one.xml" '<method name="Sign" signature="\(System\.Int32\)"'
has "$work/one.xml" '<method name="ClosureInIterator" signature="\(System\.Collections\.Generic\.IEnumerable`1&lt;System\.Int32&gt;,System\.Int32\)"'
for m in keep-async keep-lambda; do
    awk -v l="$(fline $m)" '/<class / {f = index($0, "filename=\"Filters.cs\"") > 0} /<method name="/ {m = $0}
        f && index($0, "<line number=\"" l "\"") && m != "" {print m; exit}' "$work/one.xml" |
        grep -q "name=\"Kept\(Async\|Lambda\)\"" || fail "line $(fline $m) is not under its method in one.xml"
done
echo "ok  filters: [ExcludeFromCodeCoverage] on types, methods (their lambdas, local functions, iterators, async), properties; --exclude-by-attribute (short, full, assembly), --exclude-by-file, --skip-auto-props"

# Branches as a developer sees them (docs/coverage.md, "Branches"): every
# @br-NAME-K line of Branches.cs carries K outcomes; the compiler's branches
# (cached delegates, using/lock/foreach clean-up, await checks, iterator
# dispatch, the switch expression's wrapper, filters) none.
bline() { grep -n "// @$1\$" "$src/tests/tools/CoverSample/Branches.cs" | cut -d: -f1; }
brda() { awk -v f="SF:$work/portable/src/$2" -v l="BRDA:$3," '$0 == f {on = 1} /^end_of_record/ {on = 0} on && index($0, l) == 1' "$1"; }
join=CoverSample.Branches::Join thrower=CoverSample.Branches::ThrowHelper guard=CoverSample.Branches::Guard
counts "$dll" "$join=5,3,5,5" "$thrower=4,0" "$guard=5,2,3,3" >"$work/branches.jsonl"
cover "$work/br" 0 "$work/branches.jsonl" --include CoverSample
for marker in $(grep -o '// @br-[a-z-]*-[0-9]*$' "$src/tests/tools/CoverSample/Branches.cs" | sed 's|// @||'); do
    want=${marker##*-}
    got=$(brda "$work/br.info" Branches.cs "$(bline "$marker")" | wc -l)
    [ "$got" = "$want" ] || fail "Branches.cs:$(bline "$marker") ($marker): $got branch outcomes, expected $want: $(brda "$work/br.info" Branches.cs "$(bline "$marker")")"
done
# A join point: `if (a > 0) x++;` ran 5 times, x++ 3: the jump past it was taken 2 times, not 5.
[ "$(brda "$work/br.info" Branches.cs "$(bline join-if)" | cut -d, -f4 | tr '\n' ' ')" = "2 3 " ] ||
    fail "join point: outcomes $(brda "$work/br.info" Branches.cs "$(bline join-if)" | tr '\n' ' '), expected 2 (jump) and 3 (fall-through)"
# A join point after a throw helper: `if (x < 0) Fail(..); return x;` ran 5
# times, Fail 2: the jump past it was taken 3 times (Fail's block never
# reaches `return x`).
[ "$(brda "$work/br.info" Branches.cs "$(bline guard-if)" | cut -d, -f4 | tr '\n' ' ')" = "3 2 " ] ||
    fail "guard: outcomes $(brda "$work/br.info" Branches.cs "$(bline guard-if)" | tr '\n' ' '), expected 3 (jump) and 2"
# The line after a call that always throws never runs, though its block did.
[ "$(da "$work/br.info" Branches.cs "$(bline throw-call)")" = "DA:$(bline throw-call),4" ] || fail "throw helper: the call's line is not 4"
[ "$(da "$work/br.info" Branches.cs "$(bline throw-after)")" = "DA:$(bline throw-after),0" ] ||
    fail "throw helper: the line after it reads $(da "$work/br.info" Branches.cs "$(bline throw-after)"), not 0"
echo "ok  branches: $(grep -c '// @br-' "$src/tests/tools/CoverSample/Branches.cs") C# patterns with their outcome counts; a join point's jump counted from its edge (2, not 5); the line after a throw helper at 0"

# --include / --exclude on the assembly name.
cover "$work/excl" 0 "$work/one.jsonl" --exclude 'Other,Nothing*'
has "$work/excl.out" '^CoverSample'
cover "$work/incl" 0 "$work/one.jsonl" --include '*samp*' # case-insensitive, as the profiler's
has "$work/incl.out" '^CoverSample'
echo "ok  --include / --exclude"

# A PDB that is missing, of another build or truncated.
mkdir -p "$work/bad"
rm -f "$work"/portable/src/obj/Debug/*/CoverSample.pdb # the CodeView path: found there otherwise
# Copies with an MVID of their own each (a copy with the same MVID would be
# the same module as CoverSample).
for m in NoPdb Other Cut; do
    counts "$dll" --remvid "$work/bad/$m.dll"
done
cp "$work/release/out/CoverSample.pdb" "$work/bad/Other.pdb"
head -c 600 "$work/portable/out/CoverSample.pdb" >"$work/bad/Cut.pdb"
for m in NoPdb Other Cut; do
    counts "$work/bad/$m.dll" "$sign=5,3,2,5" >"$work/bad/$m.jsonl"
done
cover "$work/nopdb" 0 "$work/one.jsonl" "$work/bad/NoPdb.jsonl"
has "$work/nopdb.out" '^NoPdb +no PDB: left out +methods entered 1/[0-9]+, blocks hit 4/'
has "$work/nopdb.info" "^DA:$i,5\$"
hasnt "$work/nopdb.info" 'NoPdb'
nocov "$work/nopdb2" 9 'NoPdb\.dll: no PDB' "$work/one.jsonl" "$work/bad/NoPdb.jsonl" --include 'NoPdb,CoverSample'
nocov "$work/other" 9 'Other\.pdb: PDB id [0-9a-f]+ does not match' "$work/one.jsonl" "$work/bad/Other.jsonl"
has "$work/other.out" '^Other +bad PDB'
nocov "$work/cut" 9 'Cut\.pdb: not a readable portable PDB: .*file offset' "$work/one.jsonl" "$work/bad/Cut.jsonl"
echo "ok  no PDB: left out by default (0), an error when included (9); mismatched and truncated PDB (9)"

# Counts of a module that changed since: another MVID (an old counts file
# beside a rebuilt DLL), no such method, offsets that are not block starts.
counts "$dll" --mvid 01234567-89ab-cdef-0123-456789abcdef "$sign=5,3,2,5" >"$work/stale.jsonl"
nocov "$work/stale" 9 "CoverSample: no copy of the DLL with MVID 01234567-89ab-cdef-0123-456789abcdef .*CoverSample\\.dll: MVID [0-9a-f-]{36} \\(rebuilt since the counts were written\\?\\)" "$work/stale.jsonl" "$work/one.jsonl"
sed -E '1s/"token":"0x[0-9a-f]{8}"/"token":"0x06000999"/' "$work/one.jsonl" >"$work/token.jsonl"
cover "$work/token" 5 "$work/token.jsonl"
has "$work/token.err" 'token\.jsonl:1: CoverSample\.Sample::Sign \(0x06000999\): no such method in .*CoverSample\.dll'
has "$work/token.info" "^DA:$(line pick-2),3\$"
has "$work/token.err" '^ilheap cover: 1 problem reported above; coverage of the rest was written$'
counts "$dll" --shift "$sign=5,3,2,5" >"$work/shift.jsonl"
cover "$work/shift" 5 "$work/shift.jsonl"
has "$work/shift.err" 'shift\.jsonl:1: CoverSample\.Sample::Sign \(0x0600[0-9a-f]{4}\): block offset [0-9]+ is not a block start'
has "$work/shift.info" "^DA:$i,0\$"
echo "ok  changed module: other MVID, token out of range, offsets not block starts"

# Malformed counts lines: FILE:LINE, the other lines still count.
{
    echo 'not json'
    head -n 1 "$work/one.jsonl"
    echo '{"path":"/x.dll","mvid":"0","token":"0x06000001","blocks":[]}'
    sed 's/"hits":5}/"hits":-5}/' "$work/one.jsonl" | head -n 1
    echo '{"path":"/x.dll","mvid":"01234567-89ab-cdef-0123-456789abcdef","token":"0x06000001","blocks":[{"il_offset":4,"hits":1},{"il_offset":0,"hits":1}]}'
    head -c 60 "$work/one.jsonl"; echo
    sed 's/}]}$/}],"edges":[{"il_offset":9,"outcome":1,"hits":1},{"il_offset":9,"outcome":0,"hits":1}]}/' "$work/one.jsonl" | head -n 1
    sed 's/}]}$/}],"edges":[{"il_offset":9,"hits":1}]}/' "$work/one.jsonl" | head -n 1
} >"$work/bad.jsonl"
cover "$work/badlines" 5 "$work/bad.jsonl"
has "$work/badlines.err" 'bad\.jsonl:1: not a JSON object'
has "$work/badlines.err" 'bad\.jsonl:3: "mvid" is not a lowercase'
has "$work/badlines.err" 'bad\.jsonl:4: expected a non-negative integer'
has "$work/badlines.err" 'bad\.jsonl:5: block offsets are not ascending'
has "$work/badlines.err" 'bad\.jsonl:6: unterminated string'
has "$work/badlines.err" 'bad\.jsonl:7: edges are not in ascending \(offset, outcome\)'
has "$work/badlines.err" 'bad\.jsonl:8: an edge without "outcome"'
has "$work/badlines.info" "^DA:$i,5\$"
expect_exit 3 "nothing\\.jsonl" -- ilheap cover "$work/nothing.jsonl"
expect_exit 2 "no counts file" -- ilheap cover --lcov "$work/x.info"
echo "ok  malformed counts lines named by FILE:LINE; missing counts file"

# A source file the PDB names that is gone: reported, not fatal, when the
# assembly is named; an assembly none of whose sources exists (the SDK's) is
# left out by default.
mv "$work/portable/src/Sample.cs" "$work/portable/src/Sample.cs.away"
cover "$work/nosrc" 0 "$work/one.jsonl" --include CoverSample
has "$work/nosrc.err" "source file $work/portable/src/Sample\\.cs \\(named by its PDB\\) does not exist"
has "$work/nosrc.out" '1 source files missing'
has "$work/nosrc.info" "^DA:$i,5\$"
mv "$work/portable/src/Sample.cs.away" "$work/portable/src/Sample.cs"
mkdir -p "$work/portable/away" && mv "$work/portable/src/"*.cs "$work/portable/away/"
nocov "$work/nosrc2" 7 'no included assembly has a PDB and sources' "$work/one.jsonl"
has "$work/nosrc2.out" '^CoverSample +no sources: left out'
mv "$work/portable/away/"*.cs "$work/portable/src/"
echo "ok  missing source file reported, coverage written (named); no sources: left out (7)"

# End to end: PdbSample under the profiler (blocks mode), its real counts.
if [ "$profiler" != none ] && [ -f "$profiler" ]; then
    mkdir -p "$work/e2e/src"
    cp "$src"/tests/pe/PdbSample/* "$work/e2e/src/"
    "$dotnet" build "$work/e2e/src/PdbSample.csproj" -c Debug -o "$work/e2e/out" >"$work/e2e/build.log" 2>&1 ||
        { tail -n 20 "$work/e2e/build.log" >&2; fail "dotnet build PdbSample"; }
    CORECLR_ENABLE_PROFILING=1 CORECLR_PROFILER='{D643D291-34DE-476E-974D-062912349822}' \
    CORECLR_PROFILER_PATH="$profiler" ILHEAP_MODE=blocks ILHEAP_INCLUDE=PdbSample \
    ILHEAP_COUNTS="$work/e2e/counts.%p.jsonl" ILHEAP_REPORT="$work/e2e/report.%p" \
        "$dotnet" "$work/e2e/out/PdbSample.dll" >"$work/e2e/run.out" 2>&1 || fail "PdbSample under the profiler: $(cat "$work/e2e/run.out")"
    cover "$work/e2e/cov" 0 "$work"/e2e/counts.*.jsonl
    # Classify(0): `if (x < 0)` ran, `return -1` did not, `else if (x == 0)` and `return 0` ran, the switch did not.
    c=$(grep -n 'private static int Classify' "$work/e2e/src/Program.cs" | cut -d: -f1)
    for want in "$((c + 2)),1" "$((c + 3)),0" "$((c + 4)),1" "$((c + 5)),1" "$((c + 6)),0" "$((c + 8)),0"; do
        has "$work/e2e/cov.info" "^DA:$want\$"
    done
    has "$work/e2e/cov.out" '^PdbSample +[0-9.]+% \([0-9]+/[0-9]+\)'
    hasnt "$work/e2e/cov.err" .
    echo "ok  end to end: PdbSample's real block counts from the profiler -> the lines that ran"

    # Edge probes: CoverSample's Run.Main under the profiler; outcomes that
    # block counts cannot tell apart (a switch's cases sharing a body, a jump
    # after a call that threw) read exact; with ILHEAP_EDGES=0 they do not.
    for edges in 1 0; do
        rm -rf "$work/edges$edges" && mkdir -p "$work/edges$edges"
        CORECLR_ENABLE_PROFILING=1 CORECLR_PROFILER='{D643D291-34DE-476E-974D-062912349822}' \
        CORECLR_PROFILER_PATH="$profiler" ILHEAP_MODE=blocks ILHEAP_INCLUDE=CoverSample ILHEAP_EDGES=$edges \
        ILHEAP_COUNTS="$work/edges$edges/counts.%p" ILHEAP_REPORT="$work/edges$edges/report.%p" \
            "$dotnet" "$dll" >"$work/edges$edges/run.out" 2>&1 || fail "CoverSample under the profiler: $(cat "$work/edges$edges/run.out")"
        cover "$work/edges$edges/cov" 0 "$work/edges$edges"/counts.* --include CoverSample
    done
    outcomes() { brda "$work/edges$1/cov.info" Branches.cs "$(bline "$2")" | cut -d, -f4 | tr '\n' ' '; }
    for want in "br-shared-switch-7=2 0 1 1 0 1 3 " "br-parsed-2=0 1 " "br-do-break-2=7 1 " "br-do-while-2=6 1 "; do
        [ "$(outcomes 1 "${want%%=*}")" = "${want#*=}" ] ||
            fail "edge probes: ${want%%=*}: outcomes $(outcomes 1 "${want%%=*}"), expected ${want#*=}"
    done
    grep -q '"edges":\[{"il_offset":[0-9]*,"outcome":0,"hits":2}' <(ilheap counts "$work"/edges1/counts.* --jsonl) ||
        fail "ilheap counts --jsonl: no \"edges\" of the switch probe"
    [ "$(outcomes 0 br-shared-switch-7)" = "3 3 3 1 1 1 3 " ] && [ "$(outcomes 0 br-parsed-2)" = "2 1 " ] ||
        fail "without edge probes the shared cases and the jump after a throw read $(outcomes 0 br-shared-switch-7) / $(outcomes 0 br-parsed-2) (solving cannot tell them: expected 3 3 3 1 1 1 3 / 2 1)"
    echo "ok  end to end: edge probes make a switch's shared cases and a jump after a throwing call exact (solved: 3 3 3 1 1 1 3, probed: 2 0 1 1 0 1 3)"
    # Merged with counts that have no edge probes, an edge counted in some
    # runs only is dropped (solved again); one that names no branch is an error.
    ilheap counts "$work"/edges1/counts.* --jsonl >"$work/edges1.jsonl" && ilheap counts "$work"/edges0/counts.* --jsonl >"$work/edges0.jsonl" ||
        fail "ilheap counts --jsonl of the edge runs"
    cover "$work/edgesmix" 0 "$work/edges1.jsonl" "$work/edges0.jsonl" --include CoverSample
    [ "$(brda "$work/edgesmix.info" Branches.cs "$(bline br-shared-switch-7)" | cut -d, -f4 | tr '\n' ' ')" = "6 6 6 2 2 2 6 " ] ||
        fail "an edge probe of one run only was summed: $(brda "$work/edgesmix.info" Branches.cs "$(bline br-shared-switch-7)" | tr '\n' ' ')"
    sed -E 's/"edges":\[\{"il_offset":[0-9]+,/"edges":[{"il_offset":1,/' "$work/edges1.jsonl" >"$work/edgesbad.jsonl"
    cover "$work/edgesbad" 5 "$work/edgesbad.jsonl" --include CoverSample
    has "$work/edgesbad.err" 'edge probe at IL offset 1 names no branch outcome of the method in .*CoverSample\.dll \(changed since it was counted\?\): its counts are ignored'
    echo "ok  edge probes: dropped when some merged runs lack them; one naming no branch outcome ignores the method's counts (5)"
else
    echo "SKIP (part): no profiler given (none built, or a sanitizer build, whose profiler loads only with its runtime preloaded): the end-to-end run is left out"
fi

# Consumers.
if command -v genhtml >/dev/null; then
    genhtml -o "$work/genhtml" "$work/one.info" >"$work/genhtml.log" 2>&1 || fail "genhtml failed: $(cat "$work/genhtml.log")"
    ! grep -qi 'warning\|error' "$work/genhtml.log" || fail "genhtml warned: $(grep -i 'warning\|error' "$work/genhtml.log")"
    [ -f "$work/genhtml/index.html" ] || fail "genhtml wrote no index.html"
    echo "ok  genhtml $(genhtml --version | grep -o '[0-9][0-9.]*' | head -n 1) accepts the LCOV with no warning"
else
    echo "SKIP (part): genhtml not installed (Debian package lcov; scripts/deps.sh installs it)"
fi
# ReportGenerator: a NuGet dotnet tool, installed once per build directory.
rg_dir="$(dirname "$work")/reportgenerator-5.5.12"
if [ ! -x "$rg_dir/reportgenerator" ]; then
    "$dotnet" tool install --tool-path "$rg_dir" dotnet-reportgenerator-globaltool --version 5.5.12 \
        >"$work/rg-install.log" 2>&1 || rm -rf "$rg_dir"
fi
if [ -x "$rg_dir/reportgenerator" ]; then
    "$rg_dir/reportgenerator" -reports:"$work/one.xml" -targetdir:"$work/rg" -reporttypes:Html \
        >"$work/rg.log" 2>&1 || fail "ReportGenerator failed: $(tail -n 20 "$work/rg.log")"
    ! grep -Eqi 'warning|error|exception' "$work/rg.log" || fail "ReportGenerator complained: $(grep -Ei 'warning|error|exception' "$work/rg.log")"
    [ -f "$work/rg/index.html" ] || fail "ReportGenerator wrote no index.html"
    grep -q 'CoverSample.Sample' "$work/rg/index.html" || fail "ReportGenerator's index.html has no CoverSample.Sample"
    echo "ok  ReportGenerator 5.5.12 turns the Cobertura into HTML"
    # Its totals are ilheap's own: each line in one class (compiler-made code
    # folded into the developer's), so nothing is counted twice or read 0.
    for x in "$work/one.xml" "$work/e2e/cov.xml"; do
        [ -f "$x" ] || continue
        rm -rf "$work/rgsum"
        "$rg_dir/reportgenerator" -reports:"$x" -targetdir:"$work/rgsum" -reporttypes:TextSummary \
            >"$work/rgsum.log" 2>&1 || fail "ReportGenerator TextSummary failed: $(tail -n 20 "$work/rgsum.log")"
        rg_lines="$(sed -n 's/^ *Covered lines: *\([0-9]*\).*/\1/p' "$work/rgsum/Summary.txt")/$(sed -n 's/^ *Coverable lines: *\([0-9]*\).*/\1/p' "$work/rgsum/Summary.txt")"
        rg_branches="$(sed -n 's/^ *Covered branches: *\([0-9]*\).*/\1/p' "$work/rgsum/Summary.txt")/$(sed -n 's/^ *Total branches: *\([0-9]*\).*/\1/p' "$work/rgsum/Summary.txt")"
        own_lines="$(sed -n 's/.*lines-covered="\([0-9]*\)" lines-valid="\([0-9]*\)".*/\1\/\2/p' "$x" | head -n 1)"
        own_branches="$(sed -n 's/.*branches-covered="\([0-9]*\)" branches-valid="\([0-9]*\)".*/\1\/\2/p' "$x" | head -n 1)"
        [ "$rg_lines" = "$own_lines" ] && [ "$rg_branches" = "$own_branches" ] ||
            fail "$x: ReportGenerator reads lines $rg_lines, branches $rg_branches; ilheap wrote $own_lines, $own_branches"
        echo "ok  ReportGenerator's totals of $(basename "$x") are ilheap's: lines $own_lines, branches $own_branches"
    done
else
    echo "SKIP (part): ReportGenerator could not be installed from NuGet: $(tail -n 3 "$work/rg-install.log" 2>/dev/null)"
fi
echo "ok  tools_cover in $(($(date +%s) - start)) s"
