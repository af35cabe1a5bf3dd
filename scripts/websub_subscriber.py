"""A WebSub subscriber on 127.0.0.1, for scripts/check-websub.sh: it
subscribes to a topic through a hub (answering the hub's verification of
intent, WebSub §5.3), then records every content distribution (§7) it
receives as one line of EVENTS: `notified <title of each entry>`, parsed
with feedparser.

Usage: websub_subscriber.py HUB_URL TOPIC_URL EVENTS_FILE
Writes `verified` to EVENTS once the hub has verified the subscription,
then runs until killed.
"""

import gzip
import sys
import threading
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import feedparser

events_lock = threading.Lock()


def record(events, line):
    with events_lock, open(events, "a") as f:
        f.write(line + "\n")
        f.flush()


def main():
    hub_url, topic, events = sys.argv[1:4]
    verified = threading.Event()

    class Callback(BaseHTTPRequestHandler):
        def do_GET(self):
            query = urllib.parse.parse_qs(urllib.parse.urlparse(self.path).query)
            mode = query.get("hub.mode", [""])[0]
            if mode == "subscribe" and query.get("hub.topic", [""])[0] == topic:
                challenge = query["hub.challenge"][0].encode()
                self.send_response(200)
                self.send_header("Content-Length", str(len(challenge)))
                self.end_headers()
                self.wfile.write(challenge)
                verified.set()
            else:
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()

        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            # The hub passes the topic's headers on, Content-Encoding
            # included, with the body it decoded: trust the bytes.
            if body[:2] == b"\x1f\x8b":
                body = gzip.decompress(body)
            self.send_response(204)
            self.end_headers()
            feed = feedparser.parse(body)
            titles = " | ".join(entry.title for entry in feed.entries)
            record(events, f"notified {titles}")

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Callback)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    callback = f"http://127.0.0.1:{server.server_port}/callback"
    form = urllib.parse.urlencode(
        {"hub.mode": "subscribe", "hub.topic": topic, "hub.callback": callback}
    ).encode()
    with urllib.request.urlopen(hub_url, data=form, timeout=10) as response:
        if response.status != 202:
            sys.exit(f"subscriber: the hub answered {response.status} to subscribing")
    # The eager hub verified intent before it answered.
    if not verified.wait(10):
        sys.exit("subscriber: the hub never verified the subscription")
    record(events, "verified")
    threading.Event().wait()


if __name__ == "__main__":
    main()
