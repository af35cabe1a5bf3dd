#!/usr/bin/env bash
# Creates .venv with feedparser, the feed parser many readers and aggregators
# use, for the checks in scripts/. Idempotent: does nothing when it is there.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! .venv/bin/python -c 'import feedparser' 2>/dev/null; then
    python3 -m venv .venv
    .venv/bin/pip install --quiet --disable-pip-version-check 'feedparser==6.0.*'
fi
