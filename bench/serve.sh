#!/usr/bin/env bash
# Serving benchmark: `tidings serve` against nginx serving the same built
# files, for one ~100 KB Atom feed (/feeds/all.atom).
#
#   bench/serve.sh            10 s of load per case, 3 rounds
#   bench/serve.sh --smoke    1 s of load per case, 1 round (CI)
#   BENCH_DURATION=30 BENCH_ROUNDS=5 BENCH_CONNECTIONS=64 bench/serve.sh
#
# Set-up: 1,000 gen-corpus articles (smoke: 300) and the shipped topics, with
# max_entries tuned so that all.atom is about 100 KB; `tidings build` writes
# the site (with .gz/.br) into bench/work/site. Then, one server at a time,
# each pinned to core 0 (`taskset -c 0`):
#   - nginx: one worker, gzip_static on, etag on, sendfile, access_log off,
#     root = bench/work/site (config written to bench/work/nginx/);
#   - tidings serve over the same corpus and config, RUST_LOG=warn (plus
#     info from tidings::serve and tidings::http for its start-up lines,
#     no request logs; BENCH_SERVE_LOG=info measures it with the access
#     log on);
#   - with BENCH_ACCESS_LOG=1, each server a second time in each round
#     with its access log on, for a side-by-side table of what it costs:
#     tidings with tidings::access=info (text lines into
#     bench/work/serve/tidings-access.log), nginx with its combined log
#     buffered as it is usually run (`buffer=64k flush=1s` into
#     bench/work/nginx/access.log); /metrics counts every request in both
#     tidings runs;
# and wrk pinned to core 1 (`taskset -c 1 wrk -t1 -c32 -d10s --latency`)
# loads three cases of /feeds/all.atom:
#   full 200   Accept-Encoding: identity
#   gzip 200   Accept-Encoding: gzip (nginx sends the prebuilt all.atom.gz)
#   304        If-None-Match: <the ETag that server gave for the gzip
#              variant>, Accept-Encoding: gzip
# Before each load, curl checks the status, Content-Encoding and length; the
# script fails when a case does not answer as expected, when a server does
# not start, or when wrk sees errors or non-2xx/3xx responses.
#
# How to read it: req/s is wrk's Requests/sec, p50/p99 its latency
# percentiles in ms, each the median over the rounds (a round runs nginx's
# three cases, then tidings'; the servers restart every round). "td/nginx"
# is tidings req/s over nginx req/s (issue 5 target: >= 1.00 in every case).
# Both share a 2-core machine with whatever else runs there: the table says
# how busy other work kept the CPUs before a case (BENCH_QUIET_WAIT=S waits
# up to S seconds for quiet before each case). Results also go to
# bench/work/serve-results.tsv.
# shellcheck source=bench/lib.sh
source "$(dirname "$0")/lib.sh"
parse_args "$@"

build_tidings
ensure_tool nginx nginx
ensure_tool wrk wrk
NGINX="$(command -v nginx || echo /usr/sbin/nginx)"

if [ "$SMOKE" = 1 ]; then
    n=300 duration="${BENCH_DURATION:-1}" rounds="${BENCH_ROUNDS:-1}"
else
    n=1000 duration="${BENCH_DURATION:-10}" rounds="${BENCH_ROUNDS:-3}"
fi
connections="${BENCH_CONNECTIONS:-32}"
target_bytes=100000
seeds="$(corpus "$n")"
dir="$WORK/serve"
site="$WORK/site"
config="$dir/config.toml"
tsv="$WORK/serve-results.tsv"
mkdir -p "$dir"

# The shipped config with max_entries set, and a build of it.
build_site() {
    sed "s/^max_entries = .*/max_entries = $1/" "$ROOT/config/tidings.toml" >"$config"
    grep -q "^max_entries = $1\$" "$config" || die "config/tidings.toml has no max_entries line to tune"
    rm -rf "$site"
    timeout 120 "$TIDINGS" --config "$config" --seeds "$seeds" build --out "$site" >"$dir/build.log" 2>&1 ||
        { cat "$dir/build.log" >&2; die "tidings build of the serve site failed"; }
    [ -f "$site/feeds/all.atom" ] && [ -f "$site/feeds/all.atom.gz" ] ||
        die "the build has no feeds/all.atom and feeds/all.atom.gz"
}
build_site 50
size="$(stat -c %s "$site/feeds/all.atom")"
entries=$(((50 * target_bytes + size / 2) / size))
[ "$entries" -ge 1 ] || entries=1
build_site "$entries"
size="$(stat -c %s "$site/feeds/all.atom")"
gz_size="$(stat -c %s "$site/feeds/all.atom.gz")"
say "/feeds/all.atom: $entries entries, $size bytes ($gz_size gzipped)"

# nginx, run by root without touching /etc: everything under bench/work/nginx.
nginx_conf() {
    local ngx="$WORK/nginx" port=$1 access_log=${2:-off}
    mkdir -p "$ngx/tmp"
    cat >"$ngx/nginx.conf" <<EOF
# Written by bench/serve.sh.
daemon off;
master_process on;
# The worker reads the built site as the user running the benchmark: the
# checkout may sit in a folder only that user can enter (mktemp -d is 0700).
user $(id -un);
worker_processes 1;
pid $ngx/nginx.pid;
error_log $ngx/error.log warn;
events { worker_connections 1024; }
http {
    access_log $access_log;
    client_body_temp_path $ngx/tmp/body;
    proxy_temp_path $ngx/tmp/proxy;
    fastcgi_temp_path $ngx/tmp/fastcgi;
    uwsgi_temp_path $ngx/tmp/uwsgi;
    scgi_temp_path $ngx/tmp/scgi;
    types {
        text/html html;
        application/atom+xml atom;
        application/rss+xml rss;
        application/feed+json json;
        text/x-opml opml;
    }
    default_type application/octet-stream;
    charset utf-8;
    charset_types application/atom+xml application/rss+xml application/feed+json text/x-opml;
    sendfile on;
    # tcp_nopush (TCP_CORK) would add a 40 ms delayed-ACK stall to the p99 of
    # the full 200; without it nginx has the same req/s and a 5 ms p99.
    tcp_nopush off;
    tcp_nodelay on;
    keepalive_timeout 65;
    keepalive_requests 1000000;
    open_file_cache max=100 inactive=60s;
    etag on;
    gzip off;
    gzip_static on;
    gzip_vary on;
    server {
        listen 127.0.0.1:$port;
        root $site;
    }
}
EOF
    echo "$ngx/nginx.conf"
}

start_nginx() {
    local port conf
    port="$(free_port)"
    conf="$(nginx_conf "$port" "$@")"
    rm -f "$WORK/nginx/error.log"
    "$NGINX" -t -q -e "$WORK/nginx/error.log" -c "$conf" || die "nginx rejects $conf"
    taskset -c 0 "$NGINX" -e "$WORK/nginx/error.log" -c "$conf" &
    SERVER_PID=$!
    PIDS+=("$SERVER_PID")
    BASE="http://127.0.0.1:$port"
    for _ in $(seq 1 100); do
        curl -s -o /dev/null --max-time 1 "$BASE/feeds/all.atom" && return 0
        kill -0 "$SERVER_PID" 2>/dev/null || { cat "$WORK/nginx/error.log" >&2; die "nginx exited"; }
        sleep 0.1
    done
    die "nginx did not answer within 10 s"
}

# curl one case; checks status and Content-Encoding (and the length for a
# 200); prints the ETag.
check_case() {
    local server=$1 label=$2 status=$3 encoding=$4 length=$5
    shift 5
    local headers="$dir/headers.txt" got_status got_encoding got_length
    rm -f "$dir/body"
    curl -s --max-time 5 -D "$headers" -o "$dir/body" "$@" "$BASE/feeds/all.atom" ||
        die "$server, $label: curl failed"
    touch "$dir/body"
    got_status="$(head -n1 "$headers" | cut -d' ' -f2)"
    got_encoding="$(grep -i '^content-encoding:' "$headers" | cut -d: -f2 | tr -d ' \r' || true)"
    got_length="$(stat -c %s "$dir/body")"
    if [ "$got_status" != "$status" ] || { [ "$encoding" != "*" ] && [ "$got_encoding" != "$encoding" ]; } ||
        [ "$got_length" != "$length" ]; then
        cat "$headers" >&2
        die "$server, $label: got status $got_status, Content-Encoding '${got_encoding}', $got_length bytes; expected $status, '${encoding}', $length bytes"
    fi
    grep -i '^etag:' "$headers" | cut -d: -f2- | tr -d '\r' | sed 's/^ *//'
}

# wrk on core 1; prints "req/s p50_ms p99_ms".
load() {
    local server=$1 label=$2 out="$dir/wrk.txt"
    shift 2
    timeout $((duration + 30)) taskset -c 1 wrk -t1 -c"$connections" -d"${duration}s" --latency "$@" \
        "$BASE/feeds/all.atom" >"$out" 2>&1 || { cat "$out" >&2; die "$server, $label: wrk failed"; }
    wrk_figures "$server, $label" "$out"
}

# RESULT["server,case"]: one "req/s p50 p99" line per round.
declare -A RESULT
record() {
    RESULT["$1,$2"]+="$3"$'\n'
    say "round $round, $1, $2: $3 (req/s p50 p99)"
}
run_cases() {
    local server=$1 etag
    check_case "$server" "full 200" 200 "" "$size" -H 'Accept-Encoding: identity' >/dev/null
    warn_if_busy
    record "$server" "full 200" "$(load "$server" "full 200" -H 'Accept-Encoding: identity')"

    etag="$(check_case "$server" "gzip 200" 200 gzip "$gz_size" -H 'Accept-Encoding: gzip')"
    [ -n "$etag" ] || die "$server sends no ETag with the gzip variant"
    warn_if_busy
    record "$server" "gzip 200" "$(load "$server" "gzip 200" -H 'Accept-Encoding: gzip')"

    # A 304 has no body; whether it repeats Content-Encoding is up to the server.
    check_case "$server" "304" 304 "*" 0 -H 'Accept-Encoding: gzip' -H "If-None-Match: $etag" >/dev/null
    warn_if_busy
    record "$server" "304" "$(load "$server" "304" -H 'Accept-Encoding: gzip' -H "If-None-Match: $etag")"
}

# The median of each column over the rounds: "req/s p50 p99".
medians() {
    local column values=()
    for column in 1 2 3; do
        # shellcheck disable=SC2046
        values+=("$(median $(printf '%s' "${RESULT["$1,$2"]}" | awk -v c="$column" 'NF { print $c }'))")
    done
    echo "${values[@]}"
}

# Rounds alternate the servers, so a burst of other work on the machine
# skews one round of each rather than all of one server's figures.
for round in $(seq 1 "$rounds"); do
    start_nginx
    [ "$round" = 1 ] && say "nginx $("$NGINX" -v 2>&1 | cut -d/ -f2) on $BASE (core 0)"
    run_cases nginx
    stop_server "$SERVER_PID"

    # The build's links name the configured base URL; serve, listening on
    # a port of its own, is told to keep them so the bytes compare.
    TIDINGS_BASE_URL="$(sed -n 's/^base_url = "\(.*\)"$/\1/p' "$config")" \
        SERVE_CPU=0 SERVE_LOG="${BENCH_SERVE_LOG:-warn,tidings::serve=info,tidings::http=info}" start_tidings "$dir/tidings.log" 120 --config "$config" --seeds "$seeds"
    [ "$round" = 1 ] && say "tidings serve on $BASE (core 0)"
    curl -s --max-time 5 -H 'Accept-Encoding: identity' "$BASE/feeds/all.atom" | cmp -s - "$site/feeds/all.atom" ||
        die "tidings serve and tidings build disagree on the bytes of /feeds/all.atom"
    run_cases tidings
    stop_server "$SERVER_PID"

    if [ "${BENCH_ACCESS_LOG:-0}" = 1 ]; then
        rm -f "$WORK/nginx/access.log"
        start_nginx "$WORK/nginx/access.log combined buffer=64k flush=1s"
        run_cases nginx-log
        stop_server "$SERVER_PID"
        [ -s "$WORK/nginx/access.log" ] || die "nginx wrote no access log into $WORK/nginx/access.log"

        access_log="$dir/tidings-access.log"
        TIDINGS_BASE_URL="$(sed -n 's/^base_url = "\(.*\)"$/\1/p' "$config")" \
            SERVE_CPU=0 SERVE_LOG="warn,tidings::serve=info,tidings::http=info,tidings::access=info" \
            start_tidings "$access_log" 120 --config "$config" --seeds "$seeds"
        run_cases tidings-log
        stop_server "$SERVER_PID"
        lines="$(grep -c 'tidings::access' "$access_log" || true)"
        [ "$lines" -gt 0 ] || die "tidings serve wrote no access log line into $access_log"
        say "round $round, tidings-log: $lines access log lines"
    fi
done

{
    printf 'case\tserver\treq_per_s\tp50_ms\tp99_ms\ttidings_over_nginx_req_per_s\tbody_bytes\trounds\tduration_s\tconnections\tmax_busy_before_pct\trev\n'
    for case in "full 200" "gzip 200" "304"; do
        read -r nr np50 np99 <<<"$(medians nginx "$case")"
        read -r tr tp50 tp99 <<<"$(medians tidings "$case")"
        bytes=$size
        [ "$case" = "gzip 200" ] && bytes=$gz_size
        [ "$case" = 304 ] && bytes=0
        printf '%s\tnginx\t%s\t%s\t%s\t-\t%s\t%s\t%s\t%s\t%s\t%s\n' "$case" "$nr" "$np50" "$np99" "$bytes" "$rounds" "$duration" "$connections" "$MAX_BUSY" "$REV"
        printf '%s\ttidings\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$case" "$tr" "$tp50" "$tp99" "$(ratio "$tr" "$nr")" "$bytes" "$rounds" "$duration" "$connections" "$MAX_BUSY" "$REV"
    done
} >"$tsv"

echo
echo "serve: /feeds/all.atom, $size bytes ($gz_size gzipped, $entries entries); servers on core 0,"
echo "wrk -t1 -c$connections -d${duration}s --latency on core 1; median of $rounds rounds; tidings at $REV"
echo "(CPU busy with other work before a case: up to ${MAX_BUSY}%)"
printf '%-9s | %10s %8s %8s | %11s %8s %8s | %8s\n' case "nginx r/s" "p50 ms" "p99 ms" "tidings r/s" "p50 ms" "p99 ms" "td/nginx"
for case in "full 200" "gzip 200" "304"; do
    read -r nr np50 np99 <<<"$(medians nginx "$case")"
    read -r tr tp50 tp99 <<<"$(medians tidings "$case")"
    printf '%-9s | %10s %8s %8s | %11s %8s %8s | %8s\n' "$case" "$nr" "$np50" "$np99" "$tr" "$tp50" "$tp99" "$(ratio "$tr" "$nr")"
done
if [ "${BENCH_ACCESS_LOG:-0}" = 1 ]; then
    echo
    echo "each server with its access log off and on (same rounds, medians):"
    printf '%-9s | %11s %11s %8s | %11s %11s %8s | %8s\n' case "nginx off" "nginx on" "on/off" "tidings off" "tidings on" "on/off" "td/nginx"
    for case in "full 200" "gzip 200" "304"; do
        read -r nr _ _ <<<"$(medians nginx "$case")"
        read -r nlr nlp50 nlp99 <<<"$(medians nginx-log "$case")"
        read -r tr _ _ <<<"$(medians tidings "$case")"
        read -r lr lp50 lp99 <<<"$(medians tidings-log "$case")"
        printf '%-9s | %11s %11s %8s | %11s %11s %8s | %8s\n' "$case" "$nr" "$nlr" "$(ratio "$nlr" "$nr")" "$tr" "$lr" "$(ratio "$lr" "$tr")" "$(ratio "$lr" "$nlr")"
        printf '%s\tnginx-log\t%s\t%s\t%s\t-\t-\t%s\t%s\t%s\t%s\t%s\n' "$case" "$nlr" "$nlp50" "$nlp99" "$rounds" "$duration" "$connections" "$MAX_BUSY" "$REV" >>"$tsv"
        printf '%s\ttidings-log\t%s\t%s\t%s\t%s\t-\t%s\t%s\t%s\t%s\t%s\n' "$case" "$lr" "$lp50" "$lp99" "$(ratio "$lr" "$nlr")" "$rounds" "$duration" "$connections" "$MAX_BUSY" "$REV" >>"$tsv"
    done
fi
echo "($tsv)"
