#!/usr/bin/env bash
# Starts `tidings serve` on a free port of 127.0.0.1 and has feedparser, the
# parser many feed readers use, fetch each feed and revalidate it with the
# ETag and Last-Modified it got (scripts/feedparser_http.py). The server is
# always stopped.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/python-env.sh
cargo build --quiet
log="$(mktemp)"
server=""
cleanup() {
    if [ -n "$server" ]; then
        kill "$server" 2>/dev/null || true
        wait "$server" 2>/dev/null || true
    fi
    rm -f "$log"
}
trap cleanup EXIT

# Port 0: the kernel picks a free port, the start-up line names it.
NO_COLOR=1 RUST_LOG=info target/debug/tidings serve --listen 127.0.0.1:0 2>"$log" &
server=$!
base=""
for _ in $(seq 1 600); do
    base="$(grep -o 'listening on http://[^ ]*' "$log" | head -n1 | cut -d' ' -f3 || true)"
    [ -n "$base" ] && break
    if ! kill -0 "$server" 2>/dev/null; then
        cat "$log" >&2
        echo "check-http: tidings serve exited before listening" >&2
        exit 1
    fi
    sleep 0.1
done
if [ -z "$base" ]; then
    cat "$log" >&2
    echo "check-http: tidings serve did not start within 60 s" >&2
    exit 1
fi

.venv/bin/python scripts/feedparser_http.py "$base" ukraine all

kill -TERM "$server"
for _ in $(seq 1 100); do
    kill -0 "$server" 2>/dev/null || break
    sleep 0.1
done
if kill -0 "$server" 2>/dev/null; then
    echo "check-http: tidings serve ignored SIGTERM for 10 s" >&2
    exit 1
fi
status=0
wait "$server" || status=$?
server=""
if [ "$status" -ne 0 ]; then
    cat "$log" >&2
    echo "check-http: tidings serve exited with $status after SIGTERM" >&2
    exit 1
fi
