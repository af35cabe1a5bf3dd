#!/usr/bin/env bash
# WebSub end to end with a real hub: flask-websub's (scripts/websub_hub.py,
# installed into .venv by scripts/python-env.sh --websub), a subscriber
# (scripts/websub_subscriber.py) and the build of tidings the tests use, all on
# 127.0.0.1, over a temporary copy of the seeds and config:
#   1. the subscriber subscribes to /feeds/all.atom through the hub, which
#      verifies its intent;
#   2. a new seed is written: `tidings serve` reloads, notifies the hub,
#      the hub fetches the feed (finding the hub and self links in its
#      headers) and delivers it; the subscriber must get the new article
#      within 10 s;
#   3. `tidings ping`, with the manifests of a build before and after the
#      seed, notifies the hub again; the subscriber must get it again.
# Every process it starts is stopped on exit; it takes a few seconds.
set -euo pipefail
cd "$(dirname "$0")/.."
for name in "${!TIDINGS_@}"; do unset "$name"; done

say() { echo "[check-websub] $*" >&2; }
tmp="$(mktemp -d)"
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
    rm -rf "$tmp"
}
trap cleanup EXIT
die() {
    for log in "$tmp"/*.log; do
        [ -s "$log" ] && { echo "--- $log" >&2; tail -n 40 "$log" >&2; }
    done
    echo "[check-websub] FAILED: $*" >&2
    exit 1
}
# wait_until SECONDS WHAT COMMAND...: runs COMMAND every 0.1 s until it
# succeeds, or fails the check after SECONDS.
wait_until() {
    local seconds="$1" what="$2"
    shift 2
    for _ in $(seq 1 $((seconds * 10))); do
        "$@" 2>/dev/null && return 0
        sleep 0.1
    done
    die "$what within $seconds s"
}
notified() { [ "$(grep -c "^notified .*$title" "$tmp/events" 2>/dev/null)" -ge "$1" ]; }

scripts/python-env.sh --websub
cargo build --quiet
tidings=("$PWD/target/debug/tidings" --config "$tmp/site/config/tidings.toml" --seeds "$tmp/site/seeds")

# The hub, on a port of its choosing.
.venv/bin/python scripts/websub_hub.py "$tmp/hub.sqlite" "$tmp/hub.port" 2>"$tmp/hub.log" &
pids+=($!)
wait_until 20 "the hub did not start" test -s "$tmp/hub.port"
hub="http://127.0.0.1:$(cat "$tmp/hub.port")/hub"
say "hub at $hub"

# The site: its base URL must be where it is served, as the hub fetches
# the feeds from the URLs it is notified of.
port="$(.venv/bin/python -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
base="http://127.0.0.1:$port/"
mkdir -p "$tmp/site"
cp -R config seeds "$tmp/site/"
sed -i -e "s#^base_url = .*#base_url = \"$base\"\nhub = \"$hub\"#" "$tmp/site/config/tidings.toml"
grep -q "^hub = \"$hub\"" "$tmp/site/config/tidings.toml" || die "cannot set site.hub in the config copy"
"${tidings[@]}" build --out "$tmp/before" 2>"$tmp/build.log" || die "tidings build failed"

NO_COLOR=1 RUST_LOG=info "${tidings[@]}" serve --listen "127.0.0.1:$port" 2>"$tmp/serve.log" &
pids+=($!)
wait_until 30 "tidings serve did not start" grep -q "listening on http://" "$tmp/serve.log"
say "tidings serve at $base"

# 1. Subscribe.
topic="${base}feeds/all.atom"
.venv/bin/python scripts/websub_subscriber.py "$hub" "$topic" "$tmp/events" 2>"$tmp/subscriber.log" &
pids+=($!)
wait_until 15 "the subscription to $topic was not verified" grep -qx verified "$tmp/events"
say "subscribed to $topic, intent verified"

# 2. A new article, through tidings serve.
title="WebSub check: grain corridor reopens"
written="$(date +%s%N)"
cat >"$tmp/site/seeds/websub-check.txt" <<EOF
$title

June 1, 2024

Ships leave the ports of Odesa again after talks in Kyiv.

Original url: https://news.example.org/websub-check
EOF
wait_until 10 "the subscriber did not get the new article from tidings serve" notified 1
say "tidings serve: the subscriber got the new article $(((($(date +%s%N) - written) / 1000000))) ms after the seed was written"
# The hub delivers before it answers the notification (its tasks run in
# the request), so the subscriber may hear of the article before tidings
# logs the hub's answer.
wait_until 10 "tidings serve logged no sent notification" grep -q 'tidings::websub.*sent' "$tmp/serve.log"

# 3. The same through tidings ping, after a static build.
"${tidings[@]}" build --out "$tmp/after" 2>>"$tmp/build.log" || die "tidings build failed"
NO_COLOR=1 "${tidings[@]}" ping --out "$tmp/after" --previous "$tmp/before/tidings-manifest.json" \
    2>"$tmp/ping.log" || die "tidings ping failed"
grep -q "1 hub(s) accepted 6 changed feed URL(s)" "$tmp/ping.log" || die "tidings ping did not notify the 6 changed feeds"
wait_until 10 "the subscriber did not get the feed again after tidings ping" notified 2
say "tidings ping: $(tail -n 1 "$tmp/ping.log"); the subscriber got the feed again"
