#!/usr/bin/env bash
# Memory benchmark: resident size of `tidings serve` at 100,000 articles
# (smoke: 300), with the shipped config/tidings.toml (2 topics, max_entries
# 50, every format, gzip and brotli variants held in memory).
#
#   bench/memory.sh [--smoke]
#   BENCH_SIZES="10000 100000" bench/memory.sh
#
# Reads VmRSS (resident now) and VmHWM (peak resident so far) from
# /proc/PID/status twice: right after the server logs `listening on`, and
# after a few requests (/, /feeds.opml and every feed the OPML lists, each
# in identity, gzip and br, then 1 s of wrk on /feeds/all.atom).
#
# How to read it: VmHWM after start-up includes the transient peak of the
# first build (every article parsed and every document rendered and
# compressed); VmRSS after requests is what the server keeps while serving.
# Issue 5 target: under 200 MB resident at 100,000 articles. "start s" is
# the wall time from exec to the `listening on` line. The script fails when
# the server does not start or a request does not answer 200. Results also go
# to bench/work/memory-results.tsv.
# shellcheck source=bench/lib.sh
source "$(dirname "$0")/lib.sh"
parse_args "$@"

build_tidings
ensure_tool wrk wrk
if [ "$SMOKE" = 1 ]; then
    sizes="${BENCH_SIZES:-300}"
else
    sizes="${BENCH_SIZES:-100000}"
fi
dir="$WORK/memory"
tsv="$WORK/memory-results.tsv"
mkdir -p "$dir"
rows=()

status_kb() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; }

for n in $sizes; do
    seeds="$(corpus "$n")"
    warm_cache "$seeds"
    warn_if_busy
    start_ns="$(date +%s%N)"
    start_tidings "$dir/tidings-$n.log" $((60 + n / 500)) --config "$ROOT/config/tidings.toml" --seeds "$seeds"
    start_s="$(awk -v a="$start_ns" -v b="$(date +%s%N)" 'BEGIN { printf "%.2f", (b - a) / 1e9 }')"
    say "N=$n: $(grep -o 'listening on .*' "$dir/tidings-$n.log")"
    sleep 0.5
    rss1="$(status_kb "$SERVER_PID" VmRSS)" hwm1="$(status_kb "$SERVER_PID" VmHWM)"

    paths=(/ /feeds.opml)
    while read -r path; do paths+=("$path"); done < <(
        curl -s --max-time 10 "$BASE/feeds.opml" | grep -o 'xmlUrl="[^"]*"' | sed 's/^xmlUrl="//; s/"$//' |
            sed 's|^[a-z]*://[^/]*||'
    )
    [ "${#paths[@]}" -gt 2 ] || die "no feed listed in /feeds.opml"
    requests=0
    for path in "${paths[@]}"; do
        for encoding in identity gzip br; do
            code="$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 -H "Accept-Encoding: $encoding" "$BASE$path")"
            [ "$code" = 200 ] || die "GET $path ($encoding) answered $code"
            requests=$((requests + 1))
        done
    done
    timeout 30 wrk -t1 -c8 -d1s -H 'Accept-Encoding: gzip' "$BASE/feeds/all.atom" >"$dir/wrk.txt" 2>&1 ||
        die "wrk failed"
    requests=$((requests + $(awk '/requests in/ { print $1 }' "$dir/wrk.txt")))
    rss2="$(status_kb "$SERVER_PID" VmRSS)" hwm2="$(status_kb "$SERVER_PID" VmHWM)"
    stop_server "$SERVER_PID"
    rows+=("$n	$start_s	$rss1	$hwm1	$requests	$rss2	$hwm2	$BUSY	$REV")
done

{
    printf 'n\tstart_s\tvmrss_start_kb\tvmhwm_start_kb\trequests\tvmrss_after_kb\tvmhwm_after_kb\tbusy_before_pct\trev\n'
    printf '%s\n' "${rows[@]}"
} >"$tsv"

mb() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
echo
echo "memory: tidings serve, config/tidings.toml, tidings at $REV"
printf '%8s %8s | %-22s | %-30s\n' N "start s" "after start-up: RSS/HWM" "after N requests: RSS/HWM"
for row in "${rows[@]}"; do
    IFS=$'\t' read -r n s r1 h1 req r2 h2 _ _ <<<"$row"
    printf '%8s %8s | %9s / %7s MB | %7s req: %7s / %7s MB\n' "$n" "$s" "$(mb "$r1")" "$(mb "$h1")" "$req" "$(mb "$r2")" "$(mb "$h2")"
done
echo "($tsv)"
