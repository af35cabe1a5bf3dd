#!/usr/bin/env python3
"""Turns gen-corpus seed articles into Hugo content (used by bench/hugo.sh;
standard library only).

Each article becomes `OUT/articles/{path}.md` (the seed's path under the
seeds folder, so Hugo publishes it at `/articles/{path}/`, where tidings
publishes it) with JSON front matter: title, date and tags. Title, date and
tags are taken from a `tidings build` of the same corpus (its `all` Atom
feed and archive documents: each entry's title, `published` and `category`
terms), so both sites put every article in the same topics; the body is the
seed's paragraphs after the date, in Markdown (seed links are already
`[text](url)`), the caption in italics, without the `Original url:` footer.
Entries are matched to seeds by gen-corpus's `report-N` names. Fails unless
every seed is in the build exactly once.
"""

import argparse
import html
import json
import os
import re
import sys

ENTRY = re.compile(r"<entry>(.*?)</entry>", re.S)
TITLE = re.compile(r"<title>(.*?)</title>", re.S)
ID = re.compile(r"<id>[^<]*/report-(\d+)</id>")
PUBLISHED = re.compile(r"<published>([^<]*)</published>")
CATEGORY = re.compile(r'<category term="([^"]*)"')


def entries(build):
    feeds = os.path.join(build, "feeds")
    files = [os.path.join(feeds, "all.atom")]
    archive = os.path.join(feeds, "all", "archive")
    if os.path.isdir(archive):
        files += [os.path.join(archive, f) for f in sorted(os.listdir(archive)) if f.endswith(".atom")]
    for path in files:
        with open(path, encoding="utf-8") as f:
            text = f.read()
        for m in ENTRY.finditer(text):
            body = m.group(1)
            number = ID.search(body)
            if not number:
                sys.exit(f"hugo content: an entry of {path} has no report-N id")
            yield (
                int(number.group(1)),
                html.unescape(TITLE.search(body).group(1)),
                PUBLISHED.search(body).group(1),
                [html.unescape(t) for t in CATEGORY.findall(body)],
            )


def markdown_body(text):
    blocks = [b.strip() for b in re.split(r"\n\s*\n", text.replace("\r\n", "\n")) if b.strip()]
    body = []
    for i, block in enumerate(blocks[2:]):
        if block.startswith("Original url:"):
            break
        # The caption: one short line right after the date, no sentence end.
        if i == 0 and "\n" not in block and len(block) <= 200 and not block.endswith((".", "!", "?", "…", ":", ";", "”", '"')):
            block = f"*{block}*"
        body.append(block)
    return "\n\n".join(body) + "\n"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", required=True, help="a `tidings build --compression off` of the corpus")
    ap.add_argument("--seeds", required=True)
    ap.add_argument("--out", required=True, help="Hugo's content folder")
    args = ap.parse_args()

    seeds = {}
    for root, _, files in os.walk(args.seeds):
        for name in files:
            m = re.fullmatch(r"report-(\d+)\.txt", name)
            if m:
                seeds[int(m.group(1))] = os.path.relpath(os.path.join(root, name), args.seeds)
    done = set()
    tagged = 0
    for number, title, published, tags in entries(args.build):
        if number in done or number not in seeds:
            sys.exit(f"hugo content: report-{number} is twice in the build or not among the seeds")
        done.add(number)
        rel = seeds[number]
        with open(os.path.join(args.seeds, rel), encoding="utf-8-sig") as f:
            text = f.read()
        front = json.dumps({"title": title, "date": published, "tags": tags}, ensure_ascii=False, indent=1)
        target = os.path.join(args.out, "articles", os.path.splitext(rel)[0] + ".md")
        os.makedirs(os.path.dirname(target), exist_ok=True)
        with open(target, "w", encoding="utf-8") as f:
            f.write(front + "\n\n" + markdown_body(text))
        tagged += bool(tags)
    if len(done) != len(seeds):
        sys.exit(f"hugo content: the build holds {len(done)} of {len(seeds)} seeds")
    print(f"hugo content: {len(done)} articles, {tagged} with at least one tag")


if __name__ == "__main__":
    main()
