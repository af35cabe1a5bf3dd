#!/usr/bin/env bash
# What a person sees, in a real browser: headless Chromium (Debian's
# `chromium`, installed with apt-get when missing) over `tidings serve` on
# the shipped seeds and config. It checks that the home page, a topic page
# and a feed URL load with no console message, exception or failed load
# (such as a missing icon), that the feed URL shows the feed's HTML
# page, that every same-site link and resource on those pages answers 200,
# and that autodiscovery links answer their declared content types. With
# `--screenshot`, it saves a screenshot of the feed in the browser to
# docs/feed-in-browser.png (shown in the README); the test run leaves the
# committed picture alone.
#
# Chromium is driven over the DevTools protocol by scripts/browser_check.py
# (websocket-client, installed into .venv by scripts/python-env.sh), with
# the flags of a quiet headless run and a fresh profile; every wait is
# bounded, and the server is stopped by PID on any exit.
set -euo pipefail
cd "$(dirname "$0")/.."
SCRIPT=check-browser
# shellcheck source=scripts/lib.sh
source scripts/lib.sh

ensure_package chromium chromium "; a few minutes"
CHROMIUM="$(command -v chromium || echo /usr/bin/chromium)"

scripts/python-env.sh --browser
cargo build
tmp="$(mktemp -d)"
server=""
cleanup() {
    if [ -n "$server" ]; then
        kill -TERM "$server" 2>/dev/null || true
        wait "$server" 2>/dev/null || true
    fi
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

NO_COLOR=1 target/debug/tidings --config config/tidings.toml --seeds seeds \
    serve --listen 127.0.0.1:0 2>"$tmp/tidings.log" &
server=$!
address=""
for _ in $(seq 1 300); do
    address="$(grep -o 'listening on http://[^ ]*' "$tmp/tidings.log" | head -n1 | cut -d/ -f3 || true)"
    [ -n "$address" ] && break
    kill -0 "$server" 2>/dev/null || { cat "$tmp/tidings.log" >&2; die "tidings serve exited"; }
    sleep 0.1
done
[ -n "$address" ] || die "tidings serve did not listen within 30 s"
base="http://$address"

# The pages, in one browser with a fresh profile: problems (console
# messages, exceptions, failed or 4xx/5xx loads) on stderr, each page's DOM
# and links as a JSON line, a screenshot of the feed URL.
timeout 180 .venv/bin/python scripts/browser_check.py "$CHROMIUM" "$tmp/profile" "$base" \
    "$tmp/feed.png" / /topics/ukraine/ /feeds/ukraine.atom >"$tmp/pages.jsonl" ||
    die "the pages do not load cleanly (above)"

# The feed URL shows the feed's page; every same-site link and resource
# answers 200, and each autodiscovery link the content type it declares.
python3 - "$base" "$tmp/pages.jsonl" <<'EOF' || die "links (above)"
import json, sys, urllib.request

base, pages = sys.argv[1], [json.loads(line) for line in open(sys.argv[2])]
failed, checked = [], {}
feed = next(page for page in pages if page["path"].startswith("/feeds/"))
if "This is a feed." not in feed["html"] or f'value="{base}{feed["path"]}"' not in feed["html"]:
    failed.append(f"{feed['path']}: not the feed's page with its address to copy")
for page in pages:
    for link in page["links"]:
        url = link["url"].split("#")[0]
        if not url.startswith(base + "/"):
            continue
        if url not in checked:
            try:
                with urllib.request.urlopen(url, timeout=10) as response:
                    checked[url] = (response.status, response.headers.get("Content-Type", ""))
            except Exception as error:
                checked[url] = (getattr(error, "code", str(error)), "")
        status, content_type = checked[url]
        declared = link["type"] if link["tag"] == "link" else None
        if status != 200:
            failed.append(f"{page['path']}: {url}: {status}")
        elif declared and not content_type.startswith(declared):
            failed.append(f"{page['path']}: {url}: {content_type}, declared {declared}")
for failure in failed:
    print(failure, file=sys.stderr)
print(f"[check-browser] {len(checked)} same-site URLs answered as declared", file=sys.stderr)
sys.exit(1 if failed else 0)
EOF

[ -s "$tmp/feed.png" ] || die "no screenshot"
if [ "${1:-}" = --screenshot ]; then
    mkdir -p docs
    cp "$tmp/feed.png" docs/feed-in-browser.png
    say "docs/feed-in-browser.png saved"
fi
say "ok: home, topic and feed pages load without console messages; the feed URL shows its page; every same-site link answers as declared"
