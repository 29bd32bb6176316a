#!/usr/bin/env bash
# What counting blocks costs on Windows (the Windows CoreCLR under Wine)
# beside Linux: bench/profiler/CpuWork, published once for win-x64
# (self-contained), its very DLL also run by the host's .NET on Linux; four
# variants interleaved (the order rotated each repetition): each OS without
# the profiler and with ILHEAP_MODE=blocks ILHEAP_INCLUDE=CpuWork. Wall time
# includes the start of Wine and of the runtime.
#
# usage: bench/profiler/wine.sh PROFILER_DLL PROFILER_SO [REPS]
#   (build/mingw64/profiler/ilheap_profiler.dll, build/release/profiler/libilheap_profiler.so)
# One line per variant:
#   wine workload=cpu os=windows|linux mode=none|blocks wall_ms=M spread_ms=A..B
# and per OS: ratio=blocks/none of the medians. WINEPREFIX: a prefix made by
# wineboot (default: a new one in the work directory, ILHEAP_BENCH_WORK).
set -eu
dll=$(realpath "$1")
so=$(realpath "$2")
reps=${3:-5}
root=$(cd "$(dirname "$0")/../.." && pwd)
work=${ILHEAP_BENCH_WORK:-$(mktemp -d)}
mkdir -p "$work"
wine=${WINE:-$(command -v wine64 || echo /usr/lib/wine/wine64)}
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
export WINEDEBUG=-all WINEDLLOVERRIDES="mshtml=" WINEPREFIX=${WINEPREFIX:-$work/wineprefix}
unset DISPLAY WAYLAND_DISPLAY
clsid='{D643D291-34DE-476E-974D-062912349822}'
winpath() { local p=$1; printf 'Z:%s' "${p//\//\\}"; }

[ -f "$WINEPREFIX/system.reg" ] || "$wine" wineboot -i >/dev/null 2>&1 </dev/null
dotnet publish "$root/bench/profiler/CpuWork/CpuWork.csproj" -c Release -r win-x64 --self-contained \
    -p:DisableTransitiveFrameworkReferenceDownloads=true --artifacts-path "$work/artifacts" >"$work/publish.log" 2>&1 ||
    { tail -n 20 "$work/publish.log"; exit 1; }
exe="$work/artifacts/publish/CpuWork/release_win-x64/CpuWork.exe"
mkdir -p "$work/linux"
cp "${exe%.exe}.dll" "$work/linux/"
printf '{"runtimeOptions":{"tfm":"net10.0","framework":{"name":"Microsoft.NETCore.App","version":"10.0.0"}}}\n' \
    >"$work/linux/CpuWork.runtimeconfig.json"

# one OS MODE: wall time in ms of one run; its stdout in $work/OS-MODE.out
one() {
    local prof=() start end
    rm -f "$work"/counts.*.counts "$work"/report.*.txt
    if [ "$2" = blocks ]; then
        prof=(CORECLR_ENABLE_PROFILING=1 CORECLR_PROFILER="$clsid" ILHEAP_MODE=blocks ILHEAP_INCLUDE=CpuWork)
        if [ "$1" = windows ]; then
            prof+=(CORECLR_PROFILER_PATH="$(winpath "$dll")" ILHEAP_REPORT="$(winpath "$work/report.%p.txt")"
                   ILHEAP_COUNTS="$(winpath "$work/counts.%p.counts")")
        else
            prof+=(CORECLR_PROFILER_PATH="$so" ILHEAP_REPORT="$work/report.%p.txt" ILHEAP_COUNTS="$work/counts.%p.counts")
        fi
    fi
    start=$(date +%s%N)
    if [ "$1" = windows ]; then
        env "${prof[@]}" "$wine" "$exe" 2 </dev/null | tr -d '\r' >"$work/$1-$2.out"
    else
        env "${prof[@]}" dotnet "$work/linux/CpuWork.dll" 2 >"$work/$1-$2.out"
    fi
    end=$(date +%s%N)
    echo $(((end - start) / 1000000))
}

variants=(windows-none windows-blocks linux-none linux-blocks)
one windows none >/dev/null # the first Wine start of this prefix, outside the timing
declare -A times=()
for ((r = 0; r < reps; r++)); do
    for ((k = 0; k < ${#variants[@]}; k++)); do
        v=${variants[$(((k + r) % ${#variants[@]}))]}
        times[$v]="${times[$v]:-} $(one "${v%-*}" "${v#*-}")"
    done
done
for v in "${variants[@]}"; do
    cmp -s "$work/$v.out" "$work/linux-none.out" || { echo "wine: $v printed another result" >&2; exit 1; }
done

median() { tr ' ' '\n' | grep . | sort -n | awk '{a[NR] = $1} END {print (NR % 2) ? a[(NR + 1) / 2] : int((a[NR / 2] + a[NR / 2 + 1]) / 2)}'; }
spread() { tr ' ' '\n' | grep . | sort -n | awk 'NR == 1 {lo = $1} {hi = $1} END {print lo ".." hi}'; }
for os in windows linux; do
    for mode in none blocks; do
        v=$os-$mode
        echo "wine workload=cpu os=$os mode=$mode wall_ms=$(median <<<"${times[$v]}") spread_ms=$(spread <<<"${times[$v]}")"
    done
    n=$(median <<<"${times[$os-none]}") b=$(median <<<"${times[$os-blocks]}")
    echo "wine workload=cpu os=$os ratio=$(awk -v b="$b" -v n="$n" 'BEGIN {printf "%.2f", b / n}')"
done
