# Shared by the benchmark drivers (sourced).

# bench_input KIND [FILE]: sets $file to FILE, or to the newest runtime's
# System.Private.CoreLib.dll; without one, prints "skip kind=KIND ..." and
# exits 0 (the report lists the skip).
bench_input() {
    file=${2:-}
    if [ -z "$file" ]; then
        local dir
        dir=$(ls -d "${DOTNET_ROOT:-/usr/share/dotnet}"/shared/Microsoft.NETCore.App/*/ 2>/dev/null | sort -V | tail -n 1)
        file="${dir}System.Private.CoreLib.dll"
    fi
    if [ ! -f "$file" ]; then
        echo "skip kind=$1 reason=no_runtime_installed"
        exit 0
    fi
}

# bench_median: the median of the numbers on stdin, one a line (the mean of
# the middle two for an even count).
bench_median() { sort -g | awk '{v[NR]=$1} END {print (NR % 2) ? v[(NR+1)/2] : (v[NR/2] + v[NR/2+1]) / 2}'; }
