#!/usr/bin/env bash
# Runs the nginx recipe of README.md ("Behind nginx or a CDN") for real: the
# ```nginx block is taken from the README itself, so the documented recipe is
# the tested one. Only three lines are adapted, each checked to exist: the
# cache path (a temp dir), the upstream port (a `tidings serve` on a free
# port, with max_age = 2 so entries expire during the test) and `listen 443
# ssl` (127.0.0.1 on a free port). nginx runs as the current user with its
# own temp dirs, and is installed with apt-get when missing.
#
# With curl, it checks: a second GET is a cache HIT; gzip and identity are
# separate entries (different bodies, each a HIT the second time; a
# `br;q=0` refusal shares gzip's entry); after expiry nginx revalidates and
# tidings answers 304 (nginx's $upstream_status and tidings' request log);
# /healthz is never cached; at a feed URL, a browser's Accept gets the HTML
# page and feed readers' get the feed bytes, whichever filled the cache
# first (HITs included). Both servers are stopped by PID on any exit.
set -euo pipefail
cd "$(dirname "$0")/.."
SCRIPT=check-nginx-cache
# shellcheck source=scripts/lib.sh
source scripts/lib.sh

ensure_package nginx nginx
NGINX="$(command -v nginx || echo /usr/sbin/nginx)"

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

# tidings, with documents that expire after 2 s.
sed 's/^max_age = .*/max_age = 2/' config/tidings.toml >"$tmp/tidings.toml"
grep -q '^max_age = 2$' "$tmp/tidings.toml" || die "config/tidings.toml has no max_age line"
NO_COLOR=1 RUST_LOG=info,tidings::http=debug target/debug/tidings \
    --config "$tmp/tidings.toml" --seeds seeds serve --listen 127.0.0.1:0 2>"$tmp/tidings.log" &
pids+=($!)
upstream=""
for _ in $(seq 1 300); do
    upstream="$(grep -o 'listening on http://[^ ]*' "$tmp/tidings.log" | head -n1 | cut -d/ -f3 || true)"
    [ -n "$upstream" ] && break
    kill -0 "${pids[0]}" 2>/dev/null || { cat "$tmp/tidings.log" >&2; die "tidings serve exited"; }
    sleep 0.1
done
[ -n "$upstream" ] || die "tidings serve did not listen within 30 s"

# The recipe, from the README.
awk '/^### Behind nginx or a CDN/ { section = 1 }
     section && /^```nginx/ { block = 1; next }
     block && /^```/ { exit }
     block { print }' README.md >"$tmp/recipe.conf"
[ -s "$tmp/recipe.conf" ] || die "README.md has no \`\`\`nginx block under \"Behind nginx or a CDN\""
port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
adapt() {
    grep -qF -- "$1" "$tmp/recipe.conf" || die "the README recipe no longer has \"$1\"; update $0"
    local from=$1 to=$2
    python3 -c 'import sys; p, a, b = sys.argv[1:]; t = open(p).read(); open(p, "w").write(t.replace(a, b))' \
        "$tmp/recipe.conf" "$from" "$to"
}
adapt "proxy_cache_path /var/cache/nginx/tidings " "proxy_cache_path $tmp/cache "
adapt "server 127.0.0.1:8080;" "server $upstream;"
adapt "listen 443 ssl;" "listen 127.0.0.1:$port;"

mkdir -p "$tmp/nginx"
cat >"$tmp/nginx.conf" <<EOF
daemon off;
master_process on;
user $(id -un);
worker_processes 1;
pid $tmp/nginx/nginx.pid;
error_log $tmp/nginx/error.log warn;
events { worker_connections 64; }
http {
    # The background revalidations are subrequests: log them too, with what
    # tidings answered.
    log_subrequest on;
    log_format check '\$request_method \$uri \$status cache=\$upstream_cache_status upstream=\$upstream_status ae="\$http_accept_encoding"';
    access_log $tmp/nginx/access.log check;
    client_body_temp_path $tmp/nginx/body;
    proxy_temp_path $tmp/nginx/proxy;
    fastcgi_temp_path $tmp/nginx/fastcgi;
    uwsgi_temp_path $tmp/nginx/uwsgi;
    scgi_temp_path $tmp/nginx/scgi;
    include $tmp/recipe.conf;
}
EOF
"$NGINX" -t -q -e "$tmp/nginx/error.log" -c "$tmp/nginx.conf" || die "nginx rejects the README recipe"
"$NGINX" -e "$tmp/nginx/error.log" -c "$tmp/nginx.conf" &
pids+=($!)
base="http://127.0.0.1:$port"
for _ in $(seq 1 100); do
    curl -s -o /dev/null "$base/healthz" && break
    sleep 0.1
done

n=0
# get PATH ACCEPT-ENCODING [ACCEPT]: GET through nginx (with no Accept
# header when ACCEPT is `-`); sets STATUS, CACHE, ENCODING, TYPE and BODY
# (a file).
get() {
    n=$((n + 1))
    BODY="$tmp/body.$n"
    local accept=(-H "Accept: ${3:-*/*}")
    [ "${3:-}" = - ] && accept=(-H "Accept:")
    curl -sS -D "$tmp/head.$n" -o "$BODY" -H "Accept-Encoding: $2" "${accept[@]}" "$base$1" >/dev/null ||
        die "GET $1 failed"
    STATUS="$(head -n1 "$tmp/head.$n" | cut -d' ' -f2)"
    CACHE="$(grep -i '^x-cache-status:' "$tmp/head.$n" | cut -d' ' -f2 | tr -d '\r' || true)"
    ENCODING="$(grep -i '^content-encoding:' "$tmp/head.$n" | cut -d' ' -f2 | tr -d '\r' || true)"
    TYPE="$(grep -i '^content-type:' "$tmp/head.$n" | cut -d' ' -f2 | tr -d '\r;' || true)"
}
expect() { # what got wanted
    [ "$2" = "$3" ] || { tail -n 20 "$tmp/nginx/access.log" >&2; die "$1: got '$2', want '$3'"; }
}

feed=/feeds/all.atom
get $feed gzip
expect "first gzip GET" "$CACHE" MISS
expect "first gzip GET encoding" "$ENCODING" gzip
gzip_body=$BODY
get $feed gzip
expect "second gzip GET" "$CACHE" HIT
cmp -s "$BODY" "$gzip_body" || die "the cached gzip body differs from the first one"

get $feed identity
expect "first identity GET (its own cache entry)" "$CACHE" MISS
expect "identity encoding" "$ENCODING" ""
identity_body=$BODY
get $feed identity
expect "second identity GET" "$CACHE" HIT
cmp -s "$BODY" "$identity_body" || die "the cached identity body differs from the first one"
cmp -s "$gzip_body" "$identity_body" && die "gzip and identity share one body"
gzip -dc "$gzip_body" | cmp -s - "$identity_body" || die "the gzip entry is not the identity body compressed"

get $feed "br;q=0, gzip"
expect "br;q=0 shares gzip's entry" "$CACHE" HIT
expect "br;q=0 encoding" "$ENCODING" gzip

# After max_age, nginx revalidates with the validators it holds and tidings
# answers 304 (in the background: the client gets the stale copy meanwhile).
sleep 3
get $feed gzip
case "$CACHE" in
STALE | UPDATING | REVALIDATED | EXPIRED) ;;
*) die "GET after expiry: X-Cache-Status $CACHE, want STALE, UPDATING, REVALIDATED or EXPIRED" ;;
esac
revalidated=""
for _ in $(seq 1 50); do
    if grep -q "^GET $feed .*upstream=304 " "$tmp/nginx/access.log" &&
        grep -q "path=\"\?$feed\"\? status=304" "$tmp/tidings.log"; then
        revalidated=1
        break
    fi
    sleep 0.1
done
[ -n "$revalidated" ] || {
    cat "$tmp/nginx/access.log" >&2
    grep "$feed" "$tmp/tidings.log" >&2 || true
    die "no 304 from tidings after expiry"
}
get $feed gzip
expect "GET after revalidation" "$CACHE" HIT
cmp -s "$BODY" "$gzip_body" || die "the revalidated gzip body differs"

get /healthz gzip
get /healthz gzip
expect "/healthz X-Cache-Status" "$CACHE" ""

# A feed URL: a browser gets the HTML page, feed readers the feed, whoever
# filled the cache first. The Accept headers are those browsers, miniflux
# (feed types and html at equal q), FreshRSS's SimplePie (html below the
# feed types) and curl send, and none.
browser='text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8'
readers=(
    'application/rss+xml, application/rdf+xml, application/atom+xml, application/xml, text/xml, text/html, */*;q=0.1'
    'application/atom+xml, application/rss+xml, application/rdf+xml;q=0.9, application/xml;q=0.8, text/xml;q=0.8, text/html;q=0.7, unknown/unknown;q=0.1, application/unknown;q=0.1, */*;q=0.1'
    '*/*'
    '-'
)
as_browser() { # PATH WANTED-CACHE-STATUS
    get "$1" identity "$browser"
    expect "browser GET $1 ($2)" "$CACHE" "$2"
    expect "browser GET $1 type" "$TYPE" text/html
    grep -q 'This is a feed.' "$BODY" || die "browser GET $1: not the feed's page"
}
as_reader() { # PATH READER-INDEX WANTED-CACHE-STATUS
    get "$1" identity "${readers[$2]}"
    expect "reader $2 GET $1 ($3)" "$CACHE" "$3"
    expect "reader $2 GET $1 type" "$TYPE" application/atom+xml
    cmp -s "$BODY" "$atom_body" || die "reader $2 GET $1: not the feed's bytes"
}
for order in browser-first reader-first; do
    case $order in
    browser-first) feed=/feeds/ukraine.atom ;;
    reader-first) feed=/feeds/russia.atom ;;
    esac
    # The feed's bytes, straight from tidings.
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

say "ok: HIT on repeat, one entry per encoding, 304 revalidation after expiry, /healthz uncached, feed pages for browsers and feeds for readers in either order"
