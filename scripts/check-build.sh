#!/usr/bin/env bash
# Builds the shipped seeds and has feedparser, the parser many feed readers
# and aggregators use, read every RSS and Atom document of the build.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/python-env.sh
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
cargo run --quiet --release -- build --out "$out"
.venv/bin/python scripts/feedparser_build.py "$out" seeds
