#!/usr/bin/env python3
"""The peer of `tidings build` for bench/build.sh: python-feedgen doing the
same work.

It parses every seed text file under SEEDS (title, date, optional caption,
paragraphs with `[text](url)` links, `Related article:` blocks, the
`Original url:` footer), classifies each article into the topics of CONFIG
with the same whole-word, case-insensitive keyword rule as tidings (title or
any one body paragraph), and writes with python-feedgen `all.atom`,
`all.rss` and, for every topic, `{slug}.atom` and `{slug}.rss` into OUT, with
EVERY entry (no max_entries cut) and full HTML content, newest first.

    bench/.venv/bin/python bench/feedgen_build.py --config bench/config-10-topics.toml \
        --seeds bench/work/corpus-1000 --out bench/work/out-feedgen

It prints one line, `feedgen: A articles, R rejected, F feeds, E entries`,
then `feed SLUG ENTRIES` per feed, and exits non-zero when a written
document does not hold every entry it should (so a broken peer never yields a
flattering ratio), or when nothing could be parsed.
"""

import argparse
import html
import os
import re
import sys
import tomllib
from datetime import datetime
from email.utils import parsedate_to_datetime
from zoneinfo import ZoneInfo

from feedgen.feed import FeedGenerator

BLANK_LINES = re.compile(r"\n[ \t]*(?:\n[ \t]*)+")
LINK = re.compile(r"\[([^\]]*)\]\(([^)\s]*)\)")
WORD_SEPARATORS = re.compile(r"[\W_]+")
TERMINAL = (".", "!", "?", "…", ":", ";", "”", "’", '"', "'", ")")
DATE_FORMATS = (
    "%B %d, %Y %H:%M",
    "%B %d, %Y",
    "%b %d, %Y %H:%M",
    "%b %d, %Y",
    "%d %B %Y %H:%M",
    "%d %B %Y",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d",
)


def words(text):
    """Lower-cased runs of letters and digits, as tidings' topics::words."""
    return WORD_SEPARATORS.sub(" ", text.lower()).split()


def parse_date(text, zone):
    text = " ".join(text.split())
    for pattern in DATE_FORMATS:
        try:
            return datetime.strptime(text, pattern).replace(tzinfo=zone)
        except ValueError:
            pass
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=zone)
    except ValueError:
        pass
    try:
        return parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None


def is_absolute(url):
    return url.startswith("http://") or url.startswith("https://")


def plain_text(block):
    """A block's text with every `[text](url)` reduced to its text."""
    return LINK.sub(lambda m: m.group(1), block)


def block_html(block):
    """A block as HTML: escaped text, real links as <a>, placeholders as text."""
    out, last = [], 0
    for m in LINK.finditer(block):
        out.append(html.escape(block[last : m.start()], quote=False))
        text, url = html.escape(m.group(1), quote=False), m.group(2)
        if is_absolute(url):
            out.append(f'<a href="{html.escape(url)}" rel="noopener noreferrer">{text}</a>')
        else:
            out.append(text)
        last = m.end()
    out.append(html.escape(block[last:], quote=False))
    return "".join(out)


def is_caption(blocks, i):
    """The README's caption rule: one short line without sentence-ending
    punctuation, followed by a body paragraph that does not start in lower case."""
    block = blocks[i]
    if "\n" in block or len(block) > 200 or block.endswith(TERMINAL):
        return False
    if i + 1 >= len(blocks):
        return False
    following = blocks[i + 1]
    if following.startswith("Original url:") or following.startswith("Related article"):
        return False
    return not following[:1].islower()


def summarize(paragraph, limit=300):
    if len(paragraph) <= limit:
        return paragraph
    cut = paragraph[:limit]
    space = cut.rfind(" ")
    return (cut[:space] if space > 0 else cut).rstrip() + "…"


def parse_seed(path, zone):
    """An article dict, or None (and a diagnostic on stderr) when the file
    cannot be one."""
    with open(path, "rb") as f:
        raw = f.read()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        print(f"{path}: not UTF-8", file=sys.stderr)
        return None
    text = text.replace("\r\n", "\n").strip()
    blocks = [b.strip() for b in BLANK_LINES.split(text) if b.strip()]
    if len(blocks) < 2:
        print(f"{path}: no title or no date", file=sys.stderr)
        return None
    title = blocks[0]
    published = parse_date(blocks[1], zone)
    if published is None:
        print(f"{path}: unreadable date {blocks[1]!r}", file=sys.stderr)
        return None

    caption, url, related, paragraphs = None, None, [], []
    i = 2
    if i < len(blocks) and is_caption(blocks, i):
        caption = blocks[i]
        i += 1
    while i < len(blocks):
        block = blocks[i]
        if block.startswith("Original url:"):
            rest = block[len("Original url:") :].strip()
            if not rest and i + 1 < len(blocks):
                rest = blocks[i + 1]
            url = rest.strip().strip("<>").strip() or None
            break
        if block.startswith("Related article"):
            related.extend(m for m in LINK.finditer(block) if is_absolute(m.group(2)))
        elif (
            paragraphs
            and not paragraphs[-1].endswith(TERMINAL)
            and block[:1].islower()
        ):
            paragraphs[-1] = paragraphs[-1] + " " + block
        else:
            paragraphs.append(block)
        i += 1

    body = []
    if caption:
        body.append(f"<p><em>{block_html(caption)}</em></p>\n")
    body.extend(f"<p>{block_html(p)}</p>\n" for p in paragraphs)
    for m in related:
        body.append(
            f'<p>Related: <a href="{html.escape(m.group(2))}" rel="noopener noreferrer">'
            f"{html.escape(m.group(1), quote=False)}</a></p>\n"
        )
    plain = [plain_text(p) for p in paragraphs]
    rel = os.path.relpath(path)
    return {
        "id": url or f"urn:path:{rel}",
        "url": url,
        "title": title,
        "published": published,
        "summary": summarize(plain[0]) if plain else title,
        "content": "".join(body),
        # Title and paragraphs as " word word " runs joined by newlines, so
        # a phrase (" word word ") never spans two of them.
        "words": "\n".join(" " + " ".join(words(t)) + " " for t in [title, *plain]),
    }


def matches(article, phrase_runs):
    return any(p in article["words"] for p in phrase_runs)


def new_feed(site, slug, title, description):
    base = site["base_url"]
    fg = FeedGenerator()
    fg.id(f"{base}feeds/{slug}.atom")
    fg.title(title)
    fg.subtitle(description or title)
    fg.description(description or title)
    fg.author({"name": site["author"]})
    fg.link(href=base, rel="alternate")
    fg.language(site["language"])
    return fg


def add_entry(fg, article, categories, author):
    fe = fg.add_entry(order="append")
    fe.id(article["id"])
    if article["url"]:
        fe.guid(article["id"], permalink=True)
        fe.link(href=article["url"], rel="alternate")
    else:
        fe.guid(article["id"], permalink=False)
    fe.title(article["title"])
    fe.published(article["published"])
    fe.updated(article["published"])
    fe.summary(article["summary"])
    fe.content(article["content"], type="html")
    fe.author({"name": author})
    for slug in categories:
        fe.category({"term": slug})


def count_entries(path, tag):
    with open(path, "rb") as f:
        data = f.read()
    return len(re.findall(rb"<" + tag + rb"[\s>]", data))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--config", required=True)
    ap.add_argument("--seeds", required=True)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()

    with open(args.config, "rb") as f:
        config = tomllib.load(f)
    raw_site = config.get("site", {})
    site = {
        "title": raw_site.get("title", "tidings"),
        "description": raw_site.get("description", ""),
        "base_url": raw_site.get("base_url", "http://127.0.0.1:8080/"),
        "language": raw_site.get("language", "en"),
        "author": raw_site.get("author", raw_site.get("title", "tidings")),
    }
    if not site["base_url"].endswith("/"):
        site["base_url"] += "/"
    zone = ZoneInfo(raw_site.get("timezone", "UTC"))
    topics = [
        {
            "slug": t["slug"],
            "title": t.get("title", t["slug"]),
            "description": t.get("description", ""),
            "keywords": [" " + " ".join(words(k)) + " " for k in t.get("keywords", [])],
            "exclude": [" " + " ".join(words(k)) + " " for k in t.get("exclude", [])],
        }
        for t in config.get("topic", [])
    ]

    paths = []
    for root, dirs, files in os.walk(args.seeds):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        paths.extend(os.path.join(root, n) for n in files if n.endswith(".txt") and not n.startswith("."))
    paths.sort()

    articles, seen, rejected = [], set(), 0
    for path in paths:
        article = parse_seed(path, zone)
        if article is None or article["id"] in seen:
            rejected += 1
            continue
        seen.add(article["id"])
        article["topics"] = [
            t["slug"]
            for t in topics
            if matches(article, t["keywords"]) and not matches(article, t["exclude"])
        ]
        articles.append(article)
    if not articles:
        print("feedgen: no article could be parsed", file=sys.stderr)
        return 1
    # Newest first, ties broken by id, as every tidings feed.
    articles.sort(key=lambda a: a["id"])
    articles.sort(key=lambda a: a["published"], reverse=True)

    os.makedirs(args.out, exist_ok=True)
    feeds = [("all", site["title"], site["description"], articles)]
    for t in topics:
        chosen = [a for a in articles if t["slug"] in a["topics"]]
        feeds.append((t["slug"], f"{t['title']} – {site['title']}", t["description"], chosen))

    total, problems, written = 0, [], []
    for slug, title, description, entries in feeds:
        fg = new_feed(site, slug, title, description)
        fg.link(href=f"{site['base_url']}feeds/{slug}.atom", rel="self")
        if entries:
            fg.updated(entries[0]["published"])
        for article in entries:
            add_entry(fg, article, article["topics"], site["author"])
        atom = os.path.join(args.out, f"{slug}.atom")
        rss = os.path.join(args.out, f"{slug}.rss")
        fg.atom_file(atom, pretty=False)
        fg.rss_file(rss, pretty=False)
        del fg
        for path, tag in ((atom, b"entry"), (rss, b"item")):
            found = count_entries(path, tag)
            if found != len(entries):
                problems.append(f"{path}: {found} entries written, {len(entries)} expected")
        total += len(entries)
        written.append((slug, len(entries)))

    print(f"feedgen: {len(articles)} articles, {rejected} rejected, {len(feeds) * 2} feeds, {total} entries")
    for slug, n in written:
        print(f"feed {slug} {n}")
    for p in problems:
        print(f"feedgen: {p}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
