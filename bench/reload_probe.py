#!/usr/bin/env python3
"""Measures one-file reloads of a running `tidings serve` (used by
bench/reload.sh; standard library only).

It finds the newest article (the first entry of /feeds/all.atom) and its
seed file, then REPEATS times rewrites that file's title with a fresh marker
(an in-place write, as an editor saving the file) and measures, from just
before the write:
  - reload_ms: the X of the server's next `reloaded in X` log line (the
    rebuild itself, as tidings times it);
  - log_ms:    the timestamp of that log line (tracing's UTC timestamp);
  - http_ms:   the first response of /feeds/all.atom (identity) holding the
    marker, polling every POLL_MS on one keep-alive connection.
It prints one line per edit and a median line, appends rows to --tsv, and
exits non-zero when a change is not visible within --timeout seconds.
"""

import argparse
import http.client
import os
import re
import statistics
import sys
import time
from datetime import datetime
from urllib.parse import urlsplit

RELOADED = re.compile(r"^(\S+)\s+\S+\s+\S+ reloaded in ([0-9.]+)(ns|µs|us|ms|s)\b")
UNIT_MS = {"ns": 1e-6, "µs": 1e-3, "us": 1e-3, "ms": 1.0, "s": 1000.0}
FIRST_LINK = re.compile(rb'<entry>.*?<link[^>]*href="https?://[^"]*/report-(\d+)"', re.S)


def fetch(conn, path):
    conn.request("GET", path, headers={"Accept-Encoding": "identity"})
    response = conn.getresponse()
    return response.status, response.read()


def log_lines_since(log, offset):
    with open(log, "rb") as f:
        f.seek(offset)
        data = f.read()
    end = data.rfind(b"\n") + 1
    return [l.decode("utf-8", "replace") for l in data[:end].splitlines()], offset + end


def timestamp(text):
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--base", required=True)
    ap.add_argument("--seeds", required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--poll-ms", type=float, default=5)
    ap.add_argument("--timeout", type=float, default=20)
    ap.add_argument("--tsv", required=True)
    ap.add_argument("--label", required=True)
    args = ap.parse_args()

    url = urlsplit(args.base)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=10)
    status, body = fetch(conn, "/feeds/all.atom")
    if status != 200:
        sys.exit(f"reload: /feeds/all.atom answered {status}")
    m = FIRST_LINK.search(body)
    if not m:
        sys.exit("reload: cannot find the newest article's report-N link in /feeds/all.atom")
    name = f"report-{int(m.group(1)):06}.txt"
    path = None
    for root, _, files in os.walk(args.seeds):
        if name in files:
            path = os.path.join(root, name)
            break
    if path is None:
        sys.exit(f"reload: no seed file {name} under {args.seeds}")
    with open(path, encoding="utf-8") as f:
        original = f.read()
    title, rest = original.split("\n", 1)
    print(f"editing {os.path.relpath(path, args.seeds)} (the newest article)", flush=True)
    if os.stat(path).st_nlink > 1:
        # The seeds are a hard-linked copy of the cached corpus: give this one
        # file its own inode so the edits below leave the cache alone.
        os.unlink(path)
        with open(path, "w", encoding="utf-8") as f:
            f.write(original)
        time.sleep(1.5)

    offset = os.path.getsize(args.log)
    rows = []
    for k in range(args.repeats):
        marker = f"benchedit{k}x{os.getpid()}x{time.time_ns() % 1000000}"
        # Settle: let any reload of the previous edit finish first.
        time.sleep(0.5)
        _, offset = log_lines_since(args.log, offset)
        started_wall = time.time()
        started = time.monotonic()
        with open(path, "w", encoding="utf-8") as f:
            f.write(f"{title} {marker}\n{rest}")
        http_ms = None
        reloads = []
        deadline = started + args.timeout
        while time.monotonic() < deadline:
            if http_ms is None:
                status, body = fetch(conn, "/feeds/all.atom")
                if status == 200 and marker.encode() in body:
                    http_ms = (time.monotonic() - started) * 1000
            lines, offset = log_lines_since(args.log, offset)
            for line in lines:
                r = RELOADED.match(line)
                if r:
                    reloads.append((timestamp(r.group(1)), float(r.group(2)) * UNIT_MS[r.group(3)]))
                elif " WARN " in line or " ERROR " in line:
                    print(f"  server: {line}", flush=True)
            if http_ms is not None and reloads:
                break
            time.sleep(args.poll_ms / 1000)
        if http_ms is None or not reloads:
            sys.exit(
                f"reload: edit {k + 1}: no change within {args.timeout} s "
                f"(visible over HTTP: {http_ms is not None}, reload log lines: {len(reloads)})"
            )
        # Extra reloads of the same edit (several file events) show up later.
        time.sleep(0.3)
        lines, offset = log_lines_since(args.log, offset)
        reloads += [
            (timestamp(r.group(1)), float(r.group(2)) * UNIT_MS[r.group(3)])
            for r in map(RELOADED.match, lines)
            if r
        ]
        log_ms = (reloads[0][0] - started_wall) * 1000
        reload_ms = reloads[0][1]
        rows.append((reload_ms, log_ms, http_ms, len(reloads)))
        print(
            f"  edit {k + 1}: reloaded in {reload_ms:.1f} ms, log line at +{log_ms:.1f} ms, "
            f"HTTP shows it at +{http_ms:.1f} ms ({len(reloads)} reload(s))",
            flush=True,
        )

    with open(path, "w", encoding="utf-8") as f:
        f.write(original)
    med = [statistics.median(r[i] for r in rows) for i in range(3)]
    print(f"  median: reloaded in {med[0]:.1f} ms, log line at +{med[1]:.1f} ms, HTTP at +{med[2]:.1f} ms")
    with open(args.tsv, "a") as f:
        for k, (reload_ms, log_ms, http_ms, n) in enumerate(rows):
            f.write(f"{args.label}\t{k + 1}\t{reload_ms:.2f}\t{log_ms:.2f}\t{http_ms:.2f}\t{n}\n")
        f.write(f"{args.label}\tmedian\t{med[0]:.2f}\t{med[1]:.2f}\t{med[2]:.2f}\t-\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
