#!/usr/bin/env python3
"""Walks the history of a running `tidings serve` as a reader rebuilding a
feed would (used by bench/history.sh; standard library only).

From the subscription document /feeds/FEED.atom it follows `prev-archive`
links back to archive page 1, fetching every page once with
`Accept-Encoding: identity` on one keep-alive connection, and counts the
pages, their entries and bytes. It fails unless every page answers 200,
every archive page is marked `<fh:archive/>` (or the same element written
open and closed), the chain ends at page 1 and
the entries add up to --expect (the number of articles). Then it fetches
--articles article pages (`/articles/{slug}/`, every k-th seed by path so
they spread over the whole corpus) and fails unless each answers 200 with
HTML.

It prints `key=value` lines for the script: the newest archive page of
FEED and of --topic (from their subscription documents), pages, entries,
bytes and seconds of the walk, and the same for the article pages.
"""

import argparse
import http.client
import os
import re
import sys
import time
from urllib.parse import urlsplit

PREV = re.compile(rb'<link[^>]*href="([^"]*)"[^>]*rel="prev-archive"')
ENTRY = re.compile(rb"<entry[ >]")
ARCHIVE = re.compile(rb"<fh:archive\s*(/>|>\s*</fh:archive>)")


def get(conn, path):
    conn.request("GET", path, headers={"Accept-Encoding": "identity"})
    response = conn.getresponse()
    body = response.read()
    if response.status != 200:
        sys.exit(f"history walk: GET {path} answered {response.status}")
    return response, body


def prev_archive(body):
    m = PREV.search(body)
    return urlsplit(m.group(1).decode()).path if m else None


def newest_page(conn, feed):
    _, body = get(conn, f"/feeds/{feed}.atom")
    path = prev_archive(body)
    m = re.search(r"/archive/(\d+)\.atom$", path or "")
    return int(m.group(1)) if m else 0


def article_paths(seeds):
    paths = []
    for root, _, files in os.walk(seeds):
        for name in files:
            if name.endswith(".txt") or name.endswith(".md"):
                rel = os.path.relpath(os.path.join(root, name), seeds)
                paths.append("/articles/" + os.path.splitext(rel)[0] + "/")
    return sorted(paths)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--base", required=True)
    ap.add_argument("--seeds", required=True)
    ap.add_argument("--feed", default="all")
    ap.add_argument("--topic", required=True)
    ap.add_argument("--expect", type=int, required=True)
    ap.add_argument("--articles", type=int, default=1000)
    ap.add_argument("--article-list", required=True, help="writes every article path here, one a line")
    args = ap.parse_args()

    url = urlsplit(args.base)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
    topic_pages = newest_page(conn, args.topic)

    started = time.monotonic()
    _, body = get(conn, f"/feeds/{args.feed}.atom")
    entries = len(ENTRY.findall(body))
    pages = 0
    size = 0
    newest = None
    path = prev_archive(body)
    last = None
    while path is not None:
        _, body = get(conn, path)
        if not ARCHIVE.search(body):
            sys.exit(f"history walk: {path} is not marked <fh:archive/>")
        pages += 1
        size += len(body)
        entries += len(ENTRY.findall(body))
        newest = newest or path
        last = path
        path = prev_archive(body)
    walk_s = time.monotonic() - started
    if pages and not last.endswith("/archive/1.atom"):
        sys.exit(f"history walk: the prev-archive chain ends at {last}, not page 1")
    if entries != args.expect:
        sys.exit(f"history walk: {entries} entries in /feeds/{args.feed}.atom and its archive, expected {args.expect}")
    m = re.search(r"/archive/(\d+)\.atom$", newest or "")
    feed_pages = int(m.group(1)) if m else 0
    if feed_pages != pages:
        sys.exit(f"history walk: the newest archive page is {feed_pages}, but the chain has {pages} pages")

    every = article_paths(args.seeds)
    with open(args.article_list, "w", encoding="utf-8") as f:
        f.writelines(p + "\n" for p in every)
    step = max(1, len(every) // args.articles)
    sample = every[::step][: args.articles]
    started = time.monotonic()
    article_bytes = 0
    for path in sample:
        response, body = get(conn, path)
        if not response.getheader("Content-Type", "").startswith("text/html"):
            sys.exit(f"history walk: {path} is not HTML")
        article_bytes += len(body)
    articles_s = time.monotonic() - started

    print(f"feed_pages={feed_pages}")
    print(f"topic_pages={topic_pages}")
    print(f"walk_pages={pages}")
    print(f"walk_entries={entries}")
    print(f"walk_bytes={size}")
    print(f"walk_s={walk_s:.2f}")
    print(f"article_pages={len(sample)}")
    print(f"article_bytes={article_bytes}")
    print(f"articles_s={articles_s:.2f}")


if __name__ == "__main__":
    main()
