#!/usr/bin/env bash
# Smoke run of every tidings fuzz target, for CI: builds them once, then runs
# each for a few seconds (SMOKE_SECONDS, default 10) with the budgets of
# fuzz/run.sh. Fails on the first crash, assertion, timeout or
# out-of-memory input; the input is left under fuzz/artifacts/TARGET/.
#
#   fuzz/smoke.sh                        # needs `cargo +nightly` and cargo-fuzz
#   SMOKE_SECONDS=5 fuzz/smoke.sh
#   FUZZ_TARGET_DIR=/cache/fuzz fuzz/smoke.sh
set -euo pipefail
cd "$(dirname "$0")"

seconds=${SMOKE_SECONDS:-10}
targets=(seed_text seed_markdown config conditional encoding)
target_dir=()
if [[ -n "${FUZZ_TARGET_DIR:-}" ]]; then target_dir=(--target-dir "$FUZZ_TARGET_DIR"); fi

start=$SECONDS
cargo +nightly fuzz build -O -a -s none "${target_dir[@]}"
built=$SECONDS
echo "smoke: build took $((built - start)) s"

mkdir -p logs
for target in "${targets[@]}"; do
  echo "smoke: $target for ${seconds} s (log: fuzz/logs/smoke-$target.log)"
  status=0
  ./run.sh "$target" "$seconds" > "logs/smoke-$target.log" 2>&1 || status=$?
  grep -E '^#[0-9]+ +DONE|^Done |ERROR: libFuzzer|^SUMMARY|Test unit written|panicked at' \
    "logs/smoke-$target.log" || true
  if [[ $status -ne 0 ]]; then
    echo "smoke: $target FAILED (status $status); the input is under fuzz/artifacts/$target/" >&2
    exit "$status"
  fi
done
echo "smoke: all ${#targets[@]} targets passed; build $((built - start)) s, runs $((SECONDS - built)) s"
