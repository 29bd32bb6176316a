# Shared by the profiler's dotnet tests (sourced after so, src and work are set):
# the CLSID, failure counting, report values, a quiet dotnet CLI. Exit 77 = skipped.
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
