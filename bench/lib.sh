# shellcheck shell=bash disable=SC2034
# Shared by the bench/*.sh scripts (sourced, not run): paths, installing what
# the benchmarks need, the cached corpora, starting and always stopping the
# servers, and small number helpers. Every wait here is bounded.

set -euo pipefail

BENCH="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(dirname "$BENCH")"
WORK="$BENCH/work"
VENV="$BENCH/.venv"
SCRIPT="$(basename "$0" .sh)"
mkdir -p "$WORK"
# tidings reads TIDINGS_* settings from the environment; the scripts pass
# what they mean on the command line, so none may leak in from the caller.
for name in "${!TIDINGS_@}"; do unset "$name"; done

say() { echo "[$SCRIPT] $*" >&2; }
die() {
    echo "[$SCRIPT] FAILED: $*" >&2
    exit 1
}

SMOKE=0
parse_args() {
    for arg in "$@"; do
        case "$arg" in
        --smoke) SMOKE=1 ;;
        -h | --help)
            awk 'NR > 1 && /^# shellcheck/ { exit } NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"
            exit 0
            ;;
        *) die "unknown argument $arg (only --smoke)" ;;
        esac
    done
}

# Servers and other background processes started by this script; stopped on
# any exit, including errors and Ctrl-C.
PIDS=()
stop_pid() {
    local pid=$1
    kill -TERM "$pid" 2>/dev/null || return 0
    for _ in $(seq 1 100); do
        kill -0 "$pid" 2>/dev/null || break
        # An exited child stays a zombie until waited for.
        [ "$(cut -d' ' -f3 "/proc/$pid/stat" 2>/dev/null)" != Z ] || break
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}
cleanup() {
    local pid
    for pid in "${PIDS[@]}"; do
        stop_pid "$pid"
    done
    PIDS=()
}
trap cleanup EXIT
trap 'exit 130' INT TERM

forget_pid() {
    local keep=() pid
    for pid in "${PIDS[@]}"; do
        [ "$pid" = "$1" ] || keep+=("$pid")
    done
    PIDS=("${keep[@]+"${keep[@]}"}")
}

# Installs a Debian package (apt-get update only when the install fails).
apt_install() {
    say "installing $1 (apt-get install -y $1)"
    export DEBIAN_FRONTEND=noninteractive
    if ! apt-get install -y -q "$1" >/dev/null 2>&1; then
        apt-get update -q >/dev/null 2>&1 || true
        apt-get install -y -q "$1" >/dev/null || die "cannot install $1"
    fi
}

# Installs a Debian package when its command is missing.
ensure_tool() {
    command -v "$1" >/dev/null 2>&1 && return 0
    [ -x "/usr/sbin/$1" ] && return 0
    apt_install "$2"
}

# bench/.venv with python-feedgen (and tomllib, Python 3.11+).
ensure_venv() {
    ensure_tool python3 python3
    if ! "$VENV/bin/python" -c 'import feedgen.feed, tomllib' 2>/dev/null; then
        python3 -c 'import tomllib' 2>/dev/null || die "python3 is older than 3.11 (no tomllib)"
        python3 -c 'import venv, ensurepip' 2>/dev/null || apt_install python3-venv
        say "creating bench/.venv with feedgen"
        rm -rf "$VENV"
        python3 -m venv "$VENV"
        "$VENV/bin/pip" install --quiet --disable-pip-version-check 'feedgen==1.0.*' ||
            die "cannot install feedgen into bench/.venv"
    fi
}

# Builds tidings and the corpus generator, then runs copies of them from
# bench/work/bin, so a rebuild by someone else during a run cannot swap the
# binary under a measurement.
TIDINGS="$WORK/bin/tidings"
GEN_CORPUS="$WORK/bin/gen-corpus"
REV=""
# bench/run-all.sh builds once and sets BENCH_BUILT=1, so every script of a
# run measures the same binary.
build_tidings() {
    ensure_tool /usr/bin/time time
    ensure_tool curl curl
    ensure_tool taskset util-linux
    if [ "${BENCH_BUILT:-0}" = 1 ] && [ -x "$TIDINGS" ] && [ -x "$GEN_CORPUS" ]; then
        REV="$(cat "$WORK/bin/rev" 2>/dev/null || echo unknown)"
        return 0
    fi
    # The corpus generator is built without optimisation: an example needs
    # every dev-dependency, which the test build already has unoptimised,
    # and an optimised copy of them would cost minutes for a few seconds
    # saved (its output is the same either way). A smoke run measures
    # nothing, only that the scripts run: it takes the unoptimised tidings
    # of the test build too, and CI compiles no release build at all.
    local profile=release
    local build=(cargo build --release --quiet)
    if [ "$SMOKE" = 1 ]; then
        profile=debug
        build=(cargo build --quiet)
    fi
    say "${build[*]}; cargo build --example gen-corpus"
    (cd "$ROOT" && "${build[@]}" && cargo build --quiet --example gen-corpus) ||
        die "cargo build failed"
    mkdir -p "$WORK/bin"
    cp "$ROOT/target/$profile/tidings" "$WORK/bin/.tidings.new"
    mv -f "$WORK/bin/.tidings.new" "$TIDINGS"
    cp "$ROOT/target/debug/examples/gen-corpus" "$WORK/bin/.gen-corpus.new"
    mv -f "$WORK/bin/.gen-corpus.new" "$GEN_CORPUS"
    REV="$(git -C "$ROOT" describe --always --dirty 2>/dev/null || echo unknown)"
    echo "$REV" >"$WORK/bin/rev"
    say "tidings $("$TIDINGS" --version | cut -d' ' -f2) at $REV"
}

# bench/work/corpus-N: N articles of examples/gen-corpus.rs, generated once
# and regenerated when missing or when the generator's source changed.
corpus() {
    local n=$1 dir="$WORK/corpus-$1" stamp="$WORK/corpus-$1.stamp" want
    want="$(sha256sum "$ROOT/examples/gen-corpus.rs" | cut -c1-16)"
    if [ ! -d "$dir" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
        say "generating $n articles into bench/work/corpus-$n"
        rm -rf "$dir" "$dir.tmp" "$stamp"
        timeout 600 "$GEN_CORPUS" "$n" "$dir.tmp" 2>/dev/null || die "gen-corpus $n failed"
        mv "$dir.tmp" "$dir"
        echo "$want" >"$stamp"
    fi
    echo "$dir"
}

# Reads every file of a folder once, so the first measured tool does not pay
# for a cold page cache that the second one then finds warm.
warm_cache() {
    find "$1" -type f -print0 | xargs -0 cat >/dev/null
}

# Other work on this shared 2-core machine skews every figure. Before each
# measurement (when nothing of the benchmark runs) the scripts sample how
# busy the CPUs are, warn above 15%, and record the sample (BUSY) and the
# highest one of the run (MAX_BUSY) with the figures.
BUSY=0
MAX_BUSY=0
warn_if_busy() {
    wait_quiet
    BUSY="$(cpu_busy)"
    [ "$BUSY" -le "$MAX_BUSY" ] || MAX_BUSY=$BUSY
    if [ "$BUSY" -ge 15 ]; then
        say "note: the CPUs are ${BUSY}% busy with other work before measuring; figures will be noisy"
    fi
}

# Percent of CPU time busy on the whole machine over half a second.
cpu_busy() {
    local a b
    a="$(head -n1 /proc/stat)"
    sleep 0.5
    b="$(head -n1 /proc/stat)"
    awk -v a="$a" -v b="$b" 'BEGIN {
        split(a, x); split(b, y)
        for (i = 2; i <= 11; i++) { total += y[i] - x[i] }
        idle = (y[5] - x[5]) + (y[6] - x[6])
        printf "%.0f", total ? 100 * (total - idle) / total : 0
    }'
}

# With BENCH_QUIET_WAIT=S, waits up to S seconds for the machine to be idle
# (under 15% busy) before a measurement; other builds on a shared 2-core
# machine otherwise take a core from the server or the load tool.
wait_quiet() {
    local limit=${BENCH_QUIET_WAIT:-0} deadline busy
    [ "$limit" -gt 0 ] || return 0
    deadline=$((SECONDS + limit))
    while busy="$(cpu_busy)" && [ "$busy" -ge 15 ] && [ "$SECONDS" -lt "$deadline" ]; do
        sleep 2
    done
    [ "$busy" -lt 15 ] || say "note: still ${busy}% busy after waiting ${limit} s for quiet"
}

# Starts `tidings serve` (extra arguments go before `serve`), waits until it
# logs `listening on http://ADDR` and sets SERVER_PID and BASE. Environment
# for the server: SERVE_CPU (taskset core list, optional) and SERVE_LOG (its
# RUST_LOG, default info: the scripts read its info lines).
SERVER_PID=""
BASE=""
start_tidings() {
    local log=$1 wait_s=$2
    shift 2
    local pin=()
    [ -n "${SERVE_CPU:-}" ] && pin=(taskset -c "$SERVE_CPU")
    : >"$log"
    NO_COLOR=1 RUST_LOG="${SERVE_LOG:-info}" "${pin[@]}" "$TIDINGS" "$@" serve --listen 127.0.0.1:0 2>"$log" &
    SERVER_PID=$!
    PIDS+=("$SERVER_PID")
    BASE=""
    local deadline=$((SECONDS + wait_s))
    while [ "$SECONDS" -lt "$deadline" ]; do
        BASE="$(grep -o 'listening on http://[^ ]*' "$log" | head -n1 | cut -d' ' -f3 || true)"
        [ -n "$BASE" ] && return 0
        if ! kill -0 "$SERVER_PID" 2>/dev/null; then
            tail -n 20 "$log" >&2
            die "tidings serve exited before listening"
        fi
        sleep 0.05
    done
    tail -n 20 "$log" >&2
    die "tidings serve did not listen within $wait_s s"
}
stop_server() {
    stop_pid "$1"
    forget_pid "$1"
}

# A free TCP port on 127.0.0.1 (for nginx, which cannot report port 0).
free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# /usr/bin/time figures: "WALL_S PEAK_KB" of a command run under a timeout.
# Usage: timed SECONDS TIMEFILE LOGFILE command...; returns its status.
timed() {
    local limit=$1 timefile=$2 logfile=$3
    shift 3
    /usr/bin/time -f '%e %M' -o "$timefile" timeout "$limit" "$@" >"$logfile" 2>&1
}

# The median of numbers given as arguments.
median() {
    printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# a / b with 2 decimals, or "-" when either is missing or b is 0.
ratio() {
    awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "" || a == "-" || b == "-" || b + 0 == 0) print "-"; else printf "%.2f", a / b }'
}

# Reads wrk --latency output in OUT; prints "req/s p50_ms p99_ms". Fails,
# naming LABEL, on non-2xx/3xx answers or output it cannot read.
wrk_figures() {
    local label=$1 out=$2
    if grep -q 'Non-2xx or 3xx responses' "$out"; then
        cat "$out" >&2
        die "$label: wrk got non-2xx/3xx responses"
    fi
    grep -q 'Socket errors' "$out" && say "$label: $(grep 'Socket errors' "$out" | sed 's/^ *//')"
    awk '
        function ms(v) {
            if (v ~ /us$/) return v / 1000
            if (v ~ /ms$/) return v + 0
            if (v ~ /s$/) return v * 1000
            return v
        }
        /^Requests\/sec:/ { rps = $2 }
        /^ +50%/ { p50 = ms($2) }
        /^ +99%/ { p99 = ms($2) }
        END {
            if (rps == "" || p50 == "" || p99 == "") exit 1
            printf "%.0f %.3f %.3f\n", rps, p50, p99
        }' "$out" || { cat "$out" >&2; die "$label: cannot read wrk's output"; }
}
