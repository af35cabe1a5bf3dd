#!/usr/bin/env bash
# Runs every benchmark of bench/ in turn: build.sh (tidings build against
# python-feedgen, and the realistic build), serve.sh (tidings serve against
# nginx), reload.sh (one-file reload) and memory.sh (resident size of serve);
# with --smoke also history.sh (archive and article pages) and hugo.sh
# (against Hugo), whose full runs take about 8 and 20 minutes and are run
# on their own.
#
#   bench/run-all.sh            the full figures for BENCHMARKS.md (about
#                               10-15 minutes on the 2-core machine)
#   bench/run-all.sh --smoke    a few hundred articles, 1 s of load, and the
#                               unoptimised binary of the test build: for
#                               CI, so the scripts never rot
#
# Each script prints its table on standard output (progress goes to standard
# error) and writes bench/work/*-results.tsv; see the comment at the top of
# each for how to read it. Stops at the first script that fails, with its
# exit status. Everything it installs (bench/.venv with feedgen; nginx, wrk,
# time and curl from Debian when missing) and everything it writes
# (bench/work/) stays under bench/ or in the system's packages.
set -euo pipefail
cd "$(dirname "$0")"

args=()
for arg in "$@"; do
    case "$arg" in
    --smoke) args+=(--smoke) ;;
    -h | --help)
        awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$(basename "$0")"
        exit 0
        ;;
    *)
        echo "usage: bench/run-all.sh [--smoke]" >&2
        exit 2
        ;;
    esac
done

started=$SECONDS
# One build and one binary for every script of the run.
# shellcheck source=bench/lib.sh
source ./lib.sh
parse_args "${args[@]+"${args[@]}"}"
build_tidings
trap - EXIT
export BENCH_BUILT=1
scripts=(build serve reload memory)
[ "${args[*]+${args[*]}}" = --smoke ] && scripts+=(history hugo)
for script in "${scripts[@]}"; do
    echo "== bench/$script.sh${args[*]+ ${args[*]}}"
    "./$script.sh" "${args[@]+"${args[@]}"}"
    echo
done
echo "bench/run-all.sh${args[*]+ ${args[*]}}: every benchmark ran in $((SECONDS - started)) s"
