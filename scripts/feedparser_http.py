"""Reads a running `tidings serve` as a feed reader does, with feedparser.

For each format of a topic: a first fetch must be 200, well-formed (bozo 0)
and have entries; a second fetch that passes back the ETag and the
Last-Modified of the first (as feed readers do) must be 304, and so must
one with only the ETag and one with only the date. feedparser asks for
gzip, so this also proves that an ETag received with the gzip variant
revalidates. JSON Feed, which feedparser does not read, is fetched with
urllib and checked the same way.

Usage: feedparser_http.py BASE_URL [TOPIC...]   (topics default: ukraine all)
"""

import json
import socket
import sys
import urllib.error
import urllib.request

import feedparser

TIMEOUT = 10
# feedparser has no timeout of its own: bound every socket operation.
socket.setdefaulttimeout(TIMEOUT)


def check_feed(url: str, problems: list) -> None:
    first = feedparser.parse(url)
    status = first.get("status")
    if status != 200:
        problems.append(f"{url}: status {status}, expected 200")
        return
    if first.bozo:
        problems.append(f"{url}: not well-formed: {first.get('bozo_exception')}")
    if not first.entries:
        problems.append(f"{url}: no entries")
    etag, modified = first.get("etag"), first.get("modified")
    if not etag or not modified:
        problems.append(f"{url}: no ETag ({etag!r}) or Last-Modified ({modified!r})")
        return
    for label, kwargs in [
        ("etag and modified", {"etag": etag, "modified": modified}),
        ("etag only", {"etag": etag}),
        ("modified only", {"modified": modified}),
    ]:
        again = feedparser.parse(url, **kwargs)
        if again.get("status") != 304:
            problems.append(f"{url}: revalidation with {label} gave {again.get('status')}, expected 304")
        elif again.entries:
            problems.append(f"{url}: a 304 with entries")
    print(f"ok {url}: {len(first.entries)} entries, ETag {etag}, then 304 x3")


def fetch(url: str, headers: dict):
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


def check_json_feed(url: str, problems: list) -> None:
    status, headers, body = fetch(url, {})
    if status != 200:
        problems.append(f"{url}: status {status}, expected 200")
        return
    content_type = headers.get("Content-Type", "")
    if not content_type.startswith("application/feed+json"):
        problems.append(f"{url}: Content-Type {content_type!r}")
    try:
        feed = json.loads(body)
    except ValueError as error:
        problems.append(f"{url}: not JSON: {error}")
        return
    if feed.get("version") != "https://jsonfeed.org/version/1.1":
        problems.append(f"{url}: version {feed.get('version')!r}")
    if not feed.get("items"):
        problems.append(f"{url}: no items")
    etag, modified = headers.get("ETag"), headers.get("Last-Modified")
    if not etag or not modified:
        problems.append(f"{url}: no ETag or Last-Modified")
        return
    for label, request_headers in [
        ("If-None-Match", {"If-None-Match": etag}),
        ("If-Modified-Since", {"If-Modified-Since": modified}),
        ("If-None-Match of the gzip variant", {"If-None-Match": etag[:-1] + '-gzip"', "Accept-Encoding": "br"}),
    ]:
        status, _, body = fetch(url, request_headers)
        if status != 304 or body:
            problems.append(f"{url}: {label} gave {status} with {len(body)} bytes, expected an empty 304")
    print(f"ok {url}: {len(feed.get('items', []))} items, ETag {etag}, then 304 x3")


def main(base: str, topics: list) -> int:
    base = base.rstrip("/")
    problems: list = []
    for topic in topics:
        for extension in ("rss", "atom"):
            check_feed(f"{base}/feeds/{topic}.{extension}", problems)
        check_json_feed(f"{base}/feeds/{topic}.json", problems)
    for problem in problems:
        print(problem, file=sys.stderr)
    print(f"feedparser over HTTP: {len(topics) * 3} feeds, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    if len(sys.argv) < 2:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    sys.exit(main(sys.argv[1], sys.argv[2:] or ["ukraine", "all"]))
