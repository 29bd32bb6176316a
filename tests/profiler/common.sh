# Shared by the profiler's dotnet tests (sourced after so, src and work are set):
# the CLSID, failure counting, report values, a quiet dotnet CLI, offline builds.
# Exit 77 = skipped.
command -v dotnet >/dev/null || { echo "SKIP: dotnet not found"; exit 77; }
clsid='{D643D291-34DE-476E-974D-062912349822}'
failures=0

# fail MESSAGE: counted; the script exits 1 at its end when any failed
fail() {
    echo "FAIL: $*"
    failures=$((failures + 1))
}

# value KEY REPORT: the value of KEY= in a report (empty if absent)
value() {
    sed -n "s/^$1=\([^ ]*\).*/\1/p" "$2" | head -n 1
}

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
export DOTNET_CLI_HOME="$work/dotnet-home"

# build_program CSPROJ: dotnet build, Release, offline, into $work/artifacts
# (the program lands in $work/artifacts/bin/NAME/release/); on failure the
# log (build-NAME.log) is shown and the script exits 1
build_program() {
    local name
    name=$(basename "$1" .csproj)
    if ! dotnet build "$1" -c Release --source /opt/nuget/packages \
        --artifacts-path "$work/artifacts" >"$work/build-$name.log" 2>&1; then
        tail -n 40 "$work/build-$name.log"
        echo "FAIL: dotnet build $name"
        exit 1
    fi
}

# publish_r2r CSPROJ: dotnet publish ReadyToRun (linux-x64, framework-dependent)
# into $work/r2r (the program lands in $work/r2r/publish/NAME/release_linux-x64/);
# the runtime pack and crossgen2 are NuGet packages, restored once into the
# machine's package cache. On failure the log is shown and the script exits 1.
publish_r2r() {
    dotnet publish "$1" -c Release -r linux-x64 --self-contained false \
        -p:PublishReadyToRun=true --artifacts-path "$work/r2r" >"$work/publish.log" 2>&1 ||
        { tail -n 20 "$work/publish.log"; echo "FAIL: dotnet publish -p:PublishReadyToRun=true (NuGet reachable?)"; exit 1; }
}
