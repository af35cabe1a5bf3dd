#!/usr/bin/env bash
# Creates .venv with feedparser, the feed parser many readers and aggregators
# use, and prometheus-client, whose parser reads /metrics as Prometheus
# would, for the checks in scripts/ and tests/. Idempotent: does nothing
# when they are there.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! .venv/bin/python -c 'import feedparser, prometheus_client' 2>/dev/null; then
    [ -x .venv/bin/pip ] || python3 -m venv .venv
    .venv/bin/pip install --quiet --disable-pip-version-check 'feedparser==6.0.*' 'prometheus-client==0.*'
fi
