#!/usr/bin/env bash
# The feed-or-page choice through Varnish (Debian's `varnish`, installed
# with apt-get when missing), with the minimal VCL below: Varnish honours
# `Vary` itself, so the VCL only cuts `Accept` down to the two answers
# tidings gives at a feed URL (`text/html` for browsers, `*/*` for everyone
# else; the same rule as the README's nginx recipe), which keeps one cached
# object per answer instead of one per raw header. It checks, in both
# orders of first request, that a browser's Accept gets the HTML page and
# miniflux's, FreshRSS's, curl's and no Accept get the feed bytes, HITs
# included. Optional: not part of scripts/test. Both servers are stopped by
# PID on any exit.
set -euo pipefail
cd "$(dirname "$0")/.."
SCRIPT=check-varnish-cache
# shellcheck source=scripts/lib.sh
source scripts/lib.sh

ensure_package varnishd varnish
VARNISHD="$(command -v varnishd || echo /usr/sbin/varnishd)"

cargo build
tmp="$(mktemp -d)"
pids=()
cleanup() {
    local pid
    for pid in "${pids[@]}"; do
        kill -TERM "$pid" 2>/dev/null || continue
        for _ in $(seq 1 50); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

NO_COLOR=1 target/debug/tidings --config config/tidings.toml --seeds seeds \
    serve --listen 127.0.0.1:0 2>"$tmp/tidings.log" &
pids+=($!)
upstream=""
for _ in $(seq 1 300); do
    upstream="$(grep -o 'listening on http://[^ ]*' "$tmp/tidings.log" | head -n1 | cut -d/ -f3 || true)"
    [ -n "$upstream" ] && break
    kill -0 "${pids[0]}" 2>/dev/null || { cat "$tmp/tidings.log" >&2; die "tidings serve exited"; }
    sleep 0.1
done
[ -n "$upstream" ] || die "tidings serve did not listen within 30 s"

cat >"$tmp/tidings.vcl" <<EOF
vcl 4.1;

backend tidings {
    .host = "${upstream%:*}";
    .port = "${upstream##*:}";
}

sub vcl_recv {
    # A feed or XML type, or */*, at full weight: the feed.
    if (req.http.Accept ~ "(?i)(application/(atom\+xml|rss\+xml|feed\+json|json|xml)|text/xml|\*/\*)\s*(,|$)") {
        set req.http.Accept = "*/*";
    } elsif (req.http.Accept ~ "(?i)^\s*text/html\s*(,|$)") {
        set req.http.Accept = "text/html";
    } else {
        set req.http.Accept = "*/*";
    }
}

sub vcl_deliver {
    if (obj.hits > 0) {
        set resp.http.X-Cache = "HIT";
    } else {
        set resp.http.X-Cache = "MISS";
    }
}
EOF
port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
"$VARNISHD" -F -n "$tmp/varnish" -a "127.0.0.1:$port" -f "$tmp/tidings.vcl" \
    -s malloc,32m -j none >"$tmp/varnish.log" 2>&1 &
pids+=($!)
base="http://127.0.0.1:$port"
for _ in $(seq 1 100); do
    curl -s -o /dev/null "$base/healthz" && break
    sleep 0.1
done
curl -s -o /dev/null "$base/healthz" || { cat "$tmp/varnish.log" >&2; die "varnish did not start"; }

n=0
get() { # PATH ACCEPT (`-` for none): sets CACHE, TYPE and BODY
    n=$((n + 1))
    BODY="$tmp/body.$n"
    local accept=(-H "Accept: $2")
    [ "$2" = - ] && accept=(-H "Accept:")
    curl -sS -D "$tmp/head.$n" -o "$BODY" "${accept[@]}" "$base$1" >/dev/null || die "GET $1 failed"
    CACHE="$(grep -i '^x-cache:' "$tmp/head.$n" | cut -d' ' -f2 | tr -d '\r' || true)"
    TYPE="$(grep -i '^content-type:' "$tmp/head.$n" | cut -d' ' -f2 | tr -d '\r;' || true)"
}
expect() { [ "$2" = "$3" ] || die "$1: got '$2', want '$3'"; }

browser='text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8'
readers=(
    'application/rss+xml, application/rdf+xml, application/atom+xml, application/xml, text/xml, text/html, */*;q=0.1'
    'application/atom+xml, application/rss+xml, application/rdf+xml;q=0.9, application/xml;q=0.8, text/xml;q=0.8, text/html;q=0.7, unknown/unknown;q=0.1, application/unknown;q=0.1, */*;q=0.1'
    '*/*'
    '-'
)
as_browser() { # PATH WANTED-CACHE
    get "$1" "$browser"
    expect "browser GET $1" "$CACHE/$TYPE" "$2/text/html"
    grep -q 'This is a feed.' "$BODY" || die "browser GET $1: not the feed's page"
}
as_reader() { # PATH READER-INDEX WANTED-CACHE
    get "$1" "${readers[$2]}"
    expect "reader $2 GET $1" "$CACHE/$TYPE" "$3/application/atom+xml"
    cmp -s "$BODY" "$atom_body" || die "reader $2 GET $1: not the feed's bytes"
}
for order in browser-first reader-first; do
    case $order in
    browser-first) feed=/feeds/ukraine.atom ;;
    reader-first) feed=/feeds/russia.atom ;;
    esac
    atom_body="$tmp/atom.$order"
    curl -sS -o "$atom_body" -H 'Accept: */*' "http://$upstream$feed" || die "GET $feed from tidings"
    if [ $order = browser-first ]; then
        as_browser $feed MISS
        as_browser $feed HIT
        as_reader $feed 0 MISS
    else
        as_reader $feed 0 MISS
        as_reader $feed 0 HIT
        as_browser $feed MISS
        as_browser $feed HIT
    fi
    for reader in 1 2 3; do
        as_reader $feed $reader HIT
    done
    as_browser $feed HIT
done
say "ok: feed pages for browsers and feeds for readers through Varnish, in either order, HITs included"
