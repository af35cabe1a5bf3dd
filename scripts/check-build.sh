#!/usr/bin/env bash
# Builds the shipped seeds, then 150 generated articles with feeds of 20
# entries (so every feed has archive documents), and has feedparser, the
# parser many feed readers and aggregators use, read every RSS and Atom
# document of each build, archives included.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/python-env.sh
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
cargo run --quiet -- build --out "$out/shipped"
.venv/bin/python scripts/feedparser_build.py "$out/shipped" seeds

cargo run --quiet --example gen-corpus -- 150 "$out/seeds" >/dev/null
sed 's/^max_entries = .*/max_entries = 20/' config/tidings.toml >"$out/tidings.toml"
grep -q '^max_entries = 20' "$out/tidings.toml"
cargo run --quiet -- --config "$out/tidings.toml" --seeds "$out/seeds" \
    build --out "$out/paged"
ls "$out/paged/feeds/all/archive/1.atom" >/dev/null
.venv/bin/python scripts/feedparser_build.py "$out/paged" "$out/seeds"
