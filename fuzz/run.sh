#!/usr/bin/env bash
# Runs one tidings fuzz target for a while, with the per-input budgets the
# README describes. Usage (from anywhere):
#
#   fuzz/run.sh TARGET [SECONDS]      # default 60 s
#
# New corpus entries go to fuzz/corpus/TARGET (not committed); the committed
# seeds in fuzz/seeds/TARGET are read, never written. A crash, timeout or
# out-of-memory input is saved under fuzz/artifacts/TARGET/ and the run
# stops with a non-zero status.
set -euo pipefail

target=${1:?usage: fuzz/run.sh TARGET [SECONDS]}
seconds=${2:-60}
cd "$(dirname "$0")"

# Longest input, per target: seeds need room for deep nesting and long
# lines; headers and configs are short.
# Seeds start at full length (-len_control=0) rather than growing slowly,
# so that deep nesting is reachable within a short run.
len_control=100
case "$target" in
  seed_text|seed_markdown) max_len=16384; len_control=0 ;;
  config) max_len=4096 ;;
  conditional|encoding) max_len=1024 ;;
  *) echo "unknown target $target (see fuzz/README.md)" >&2; exit 2 ;;
esac

# Per input: 3 s of wall time (a parser that slow on <16 KiB is a finding),
# 2 GiB of memory. libFuzzer's default is one process with one thread, the
# same as -jobs=1 -workers=1 but logging to the terminal.
# FUZZ_TARGET_DIR: build somewhere else than fuzz/target (a CI cache).
target_dir=()
if [[ -n "${FUZZ_TARGET_DIR:-}" ]]; then target_dir=(--target-dir "$FUZZ_TARGET_DIR"); fi
mkdir -p "corpus/$target"
exec cargo +nightly fuzz run -O -a -s none "${target_dir[@]}" "$target" \
  "corpus/$target" "seeds/$target" -- \
  -max_total_time="$seconds" \
  -timeout=3 \
  -rss_limit_mb=2048 \
  -max_len="$max_len" \
  -len_control="$len_control" \
  -print_final_stats=1
