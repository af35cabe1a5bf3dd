"""Reads every feed of a static build with feedparser, as feed readers do.

Fails on any bozo (malformed) document, on a feed without entries where
seeds exist, and on entries without id, title, link or dates. JSON Feeds,
which feedparser does not read, are checked for their required members.
Archive documents (feeds/*/archive/N.*) are read too; the newest of them
may be empty, by the paging rule of the README.
"""

import json
import pathlib
import sys

import feedparser


def main(out: pathlib.Path, seeds: pathlib.Path) -> int:
    problems = []
    checked = 0
    have_seeds = any(seeds.rglob("*.txt")) or any(seeds.rglob("*.md"))
    for path in sorted((out / "feeds").rglob("*")):
        archived = "archive" in path.parts
        if path.suffix in (".rss", ".atom"):
            feed = feedparser.parse(path.read_bytes())
            checked += 1
            if feed.bozo:
                problems.append(f"{path}: not well-formed: {feed.bozo_exception}")
            if not feed.feed.get("title"):
                problems.append(f"{path}: feed has no title")
            if have_seeds and not feed.entries and not archived:
                problems.append(f"{path}: no entries")
            for entry in feed.entries:
                for key in ("id", "title", "published_parsed", "updated_parsed"):
                    if not entry.get(key):
                        problems.append(f"{path}: entry {entry.get('id')!r} has no {key}")
        elif path.suffix == ".json":
            feed = json.loads(path.read_bytes())
            checked += 1
            if feed.get("version") != "https://jsonfeed.org/version/1.1":
                problems.append(f"{path}: version is {feed.get('version')!r}")
            for item in feed.get("items", []):
                for key in ("id", "title", "content_html", "date_published"):
                    if not item.get(key):
                        problems.append(f"{path}: item {item.get('id')!r} has no {key}")
    for problem in problems:
        print(problem, file=sys.stderr)
    print(f"feedparser: {checked} feeds read, {len(problems)} problems")
    if checked == 0:
        print("feedparser: no feeds found", file=sys.stderr)
        return 1
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])))
