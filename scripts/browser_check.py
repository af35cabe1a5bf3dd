"""Opens pages of a running tidings in headless Chromium, over the DevTools
protocol, and reports what a person would meet: console messages, uncaught
exceptions, failed or non-2xx loads, the page's links, and a screenshot.

Usage: browser_check.py CHROMIUM PROFILE_DIR BASE_URL SCREENSHOT PATH...

Each PATH is loaded in a fresh tab of one browser; the first page whose
path starts with /feeds/ is screenshotted to SCREENSHOT. Exits 1 with the
problems on stderr. Every wait is bounded.
"""

import base64
import json
import os
import subprocess
import sys
import time
import urllib.request

import websocket

FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--remote-debugging-port=0", "--window-size=900,1000", "--hide-scrollbars",
]
LINKS = """JSON.stringify([...document.querySelectorAll('a[href],link[href],img[src],script[src]')]
  .map(e => ({tag: e.tagName.toLowerCase(), rel: e.getAttribute('rel'),
              type: e.getAttribute('type'), url: e.href || e.src})))"""


class Tab:
    def __init__(self, url):
        self.ws = websocket.create_connection(url, timeout=30, suppress_origin=True)
        self.next_id = 0
        self.events = []

    def call(self, method, **params):
        self.next_id += 1
        self.ws.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            message = json.loads(self.ws.recv())
            if message.get("id") == self.next_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})
            self.events.append(message)

    def wait_for(self, method, seconds):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if any(e.get("method") == method for e in self.events):
                return True
            self.ws.settimeout(max(0.05, deadline - time.monotonic()))
            try:
                self.events.append(json.loads(self.ws.recv()))
            except websocket.WebSocketTimeoutException:
                break
        return any(e.get("method") == method for e in self.events)

    def drain(self, seconds):
        self.wait_for("never", seconds)


def problems_of(events):
    """What went wrong on a page, from its events."""
    found = []
    for event in events:
        method, params = event.get("method"), event.get("params", {})
        if method == "Runtime.consoleAPICalled":
            text = " ".join(str(a.get("value", a.get("description", ""))) for a in params["args"])
            found.append(f"console.{params['type']}: {text}")
        elif method == "Runtime.exceptionThrown":
            found.append(f"exception: {params['exceptionDetails'].get('text')}")
        elif method == "Log.entryAdded":
            entry = params["entry"]
            found.append(f"log {entry['level']}: {entry['text']} {entry.get('url', '')}")
        elif method == "Network.loadingFailed" and not params.get("canceled"):
            found.append(f"load failed: {params.get('errorText')}")
        elif method == "Network.responseReceived" and params["response"]["status"] >= 400:
            found.append(f"HTTP {params['response']['status']}: {params['response']['url']}")
    return found


def main():
    chromium, profile, base, screenshot, *paths = sys.argv[1:]
    browser = subprocess.Popen([chromium, *FLAGS, f"--user-data-dir={profile}", "about:blank"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    failed = []
    try:
        port_file = os.path.join(profile, "DevToolsActivePort")
        deadline = time.monotonic() + 30
        while not os.path.exists(port_file) or not open(port_file).read().strip():
            if time.monotonic() > deadline or browser.poll() is not None:
                sys.exit("chromium did not start")
            time.sleep(0.1)
        port = open(port_file).read().split()[0]
        shot = False
        for path in paths:
            request = urllib.request.Request(f"http://127.0.0.1:{port}/json/new?about:blank",
                                             method="PUT")
            with urllib.request.urlopen(request, timeout=10) as response:
                target = json.load(response)
            tab = Tab(target["webSocketDebuggerUrl"])
            for domain in ("Page", "Runtime", "Log", "Network"):
                tab.call(f"{domain}.enable")
            tab.call("Page.navigate", url=base + path)
            if not tab.wait_for("Page.loadEventFired", 20):
                failed.append(f"{path}: did not load")
            tab.drain(1.0)  # late resources (the icon) and messages
            for problem in problems_of(tab.events):
                failed.append(f"{path}: {problem}")
            html = tab.call("Runtime.evaluate", expression="document.documentElement.outerHTML",
                            returnByValue=True)["result"]["value"]
            links = json.loads(tab.call("Runtime.evaluate", expression=LINKS,
                                        returnByValue=True)["result"]["value"])
            print(json.dumps({"path": path, "html": html, "links": links}))
            if path.startswith("/feeds/") and not shot:
                data = tab.call("Page.captureScreenshot", format="png")["data"]
                with open(screenshot, "wb") as out:
                    out.write(base64.b64decode(data))
                shot = True
            tab.ws.close()
    finally:
        browser.terminate()
        try:
            browser.wait(10)
        except subprocess.TimeoutExpired:
            browser.kill()
    for problem in failed:
        print(problem, file=sys.stderr)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
