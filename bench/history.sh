#!/usr/bin/env bash
# History benchmark: archive documents, history pages and article pages, as
# `tidings build` writes them all and as `tidings serve` renders them when
# first asked for (into its 64 MB cache), at 100,000 articles (smoke: 300).
#
#   bench/history.sh            N = 100,000, 10 s of load per case
#   bench/history.sh --smoke    N = 300, 100 article pages, 1 s of load per
#                               case (CI)
#   BENCH_SIZES="10000 100000" BENCH_DURATION=30 bench/history.sh
#   BENCH_COMPRESSION=off bench/history.sh    builds without .gz/.br siblings
#
# Two configs, each over the same gen-corpus articles (bench/work/corpus-N):
#   shipped    config/tidings.toml (2 topics, max_entries 50);
#              (BENCH_CASES="shipped" runs this case alone)
#   10-topics  bench/config-10-topics.toml with max_entries = 50, written to
#              bench/work/history/config-10-topics-50.toml.
# For each:
#   build   `tidings build` (compression on, as shipped, unless
#           BENCH_COMPRESSION=off): wall time and peak
#           resident (/usr/bin/time), files and bytes written, of which
#           article pages and archive documents (feeds/*/archive/*);
#   serve   `tidings serve`: start-up (exec to `listening on`), VmRSS right
#           after it; then bench/history_walk.py follows the prev-archive
#           chain of /feeds/all.atom to page 1 (every archive page,
#           identity; it checks the entries add up to N) and fetches 1,000
#           article pages spread over the corpus; then VmRSS and VmHWM;
#   load    wrk with a Lua script (bench/work/history/requests.lua, written
#           here) asking, with Accept-Encoding: gzip, for a random archive
#           page of `all` (1/3), of the topic `ukraine` (1/3) and a random
#           article page (1/3); an archive page is one of its .atom, .rss,
#           .json or HTML history page with equal odds. Server on core 0
#           (`taskset -c 0`), `taskset -c 1 wrk -t1 -c8 --latency`; once
#           alone, once while a second `wrk -t1 -c32` loads /feeds/all.atom
#           (gzip) as bench/serve.sh does, that one also on core 1: the two
#           wrk threads share core 1, the server has core 0 to itself. Then
#           VmRSS and VmHWM again.
#
# How to read it: "wall s"/"peak MB" of the build; "start s" from exec to
# `listening on`; RSS in MB (issue target: resident under 300 MB at 100,000
# after the walk); p50/p99 of the archive mix in ms and its req/s, alone
# and under the feed load (whose req/s is given too). Most requests of the
# mix miss the cache at 100,000 articles (about 112,000 pages to pick from
# against 64 MB), so they measure rendering on demand. The script fails when
# a build or the server fails, the walk does not add up, or wrk sees errors
# or non-2xx/3xx responses. Results also go to bench/work/history-results.tsv.
# shellcheck source=bench/lib.sh
source "$(dirname "$0")/lib.sh"
parse_args "$@"

build_tidings
ensure_tool wrk wrk
if [ "$SMOKE" = 1 ]; then
    sizes="${BENCH_SIZES:-300}" duration="${BENCH_DURATION:-1}" articles=100
else
    sizes="${BENCH_SIZES:-100000}" duration="${BENCH_DURATION:-10}" articles=1000
fi
topic=ukraine
compression="${BENCH_COMPRESSION:-on}"
case "$compression" in on | off) ;; *) die "BENCH_COMPRESSION is on or off, not $compression" ;; esac
dir="$WORK/history"
out="$dir/out"
tsv="$WORK/history-results.tsv"
mkdir -p "$dir"
rows=()

ten="$dir/config-10-topics-50.toml"
sed 's/^max_entries = .*/max_entries = 50/' "$BENCH/config-10-topics.toml" >"$ten"
grep -q '^max_entries = 50$' "$ten" || die "bench/config-10-topics.toml has no max_entries line to tune"

status_kb() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; }
# A figure of the walk (bench/history_walk.py's key=value lines).
walked() { awk -F= -v k="$1" '$1 == k { print $2 }' "$dir/walk.txt"; }
mb() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }

# wrk on core 1 with the archive mix; prints "req/s p50_ms p99_ms".
load_mix() {
    local label=$1 out="$dir/wrk-$1.txt"
    timeout $((duration + 30)) taskset -c 1 wrk -t1 -c8 -d"${duration}s" --latency -s "$dir/requests.lua" \
        "$BASE" >"$out" 2>&1 || { cat "$out" >&2; die "$label: wrk failed"; }
    wrk_figures "$label" "$out"
}

# The request mix; the article paths come from the walk's list. Each load
# gets its own random seed ($3): with the same one, the second load would
# ask first for the pages the first one left in the cache.
write_lua() {
    cat >"$dir/requests.lua" <<EOF
-- Written by bench/history.sh: random archive pages of all and of $topic
-- (feeds in three formats and the HTML history page) and random article
-- pages, a third each, with Accept-Encoding: gzip.
local pages = { all = $1, $topic = $2 }
local articles = {}
for line in io.lines("$dir/articles.txt") do articles[#articles + 1] = line end
local kinds = { ".atom", ".rss", ".json", "/" }
local headers = { ["Accept-Encoding"] = "gzip" }
math.randomseed($3)
request = function()
    local pick = math.random(3)
    if pick == 3 then
        return wrk.format("GET", articles[math.random(#articles)], headers)
    end
    local feed = pick == 1 and "all" or "$topic"
    local n = math.random(pages[feed])
    local kind = kinds[math.random(4)]
    local path
    if kind ~= "/" then
        path = "/feeds/" .. feed .. "/archive/" .. n .. kind
    elseif feed == "all" then
        path = "/archive/" .. n .. "/"
    else
        path = "/topics/" .. feed .. "/archive/" .. n .. "/"
    end
    return wrk.format("GET", path, headers)
end
EOF
}

for n in $sizes; do
    seeds="$(corpus "$n")"
    warm_cache "$seeds"
    for case in ${BENCH_CASES:-shipped 10-topics}; do
        config="$ROOT/config/tidings.toml"
        [ "$case" = 10-topics ] && config="$ten"

        # The build.
        rm -rf "$out"
        warn_if_busy
        busy="$BUSY"
        say "N=$n $case: tidings build"
        if ! timed $((120 + n / 20)) "$dir/time.txt" "$dir/build.log" \
            "$TIDINGS" --config "$config" --seeds "$seeds" build --compression "$compression" --out "$out"; then
            tail -n 20 "$dir/build.log" >&2
            die "tidings build failed at N=$n, $case (log: bench/work/history/build.log)"
        fi
        read -r build_s build_kb <"$dir/time.txt"
        files="$(find "$out" -type f | wc -l)"
        bytes="$(find "$out" -type f -printf '%s\n' | awk '{ s += $1 } END { printf "%.0f\n", s }')"
        article_pages="$(find "$out/articles" -name index.html | wc -l)"
        archive_docs="$(find "$out/feeds" -path '*/archive/*' -type f \( -name '*.atom' -o -name '*.rss' -o -name '*.json' \) | wc -l)"
        [ "$article_pages" = "$n" ] || die "N=$n $case: the build wrote $article_pages article pages"
        rm -rf "$out"
        say "N=$n $case: built in $build_s s, peak $(mb "$build_kb") MB, $files files, $bytes bytes ($article_pages article pages, $archive_docs archive documents)"

        # The server: start-up, the walk, the load.
        warn_if_busy
        start_ns="$(date +%s%N)"
        SERVE_CPU=0 SERVE_LOG=warn,tidings::serve=info start_tidings "$dir/tidings.log" $((60 + n / 500)) --config "$config" --seeds "$seeds"
        start_s="$(awk -v a="$start_ns" -v b="$(date +%s%N)" 'BEGIN { printf "%.2f", (b - a) / 1e9 }')"
        sleep 0.5
        rss1="$(status_kb "$SERVER_PID" VmRSS)"
        timeout $((120 + n / 100)) python3 "$BENCH/history_walk.py" --base "$BASE" --seeds "$seeds" --topic "$topic" \
            --expect "$n" --articles "$articles" --article-list "$dir/articles.txt" >"$dir/walk.txt" ||
            die "the history walk failed at N=$n, $case"
        feed_pages="$(walked feed_pages)" topic_pages="$(walked topic_pages)"
        walk_pages="$(walked walk_pages)" walk_entries="$(walked walk_entries)" walk_s="$(walked walk_s)"
        walk_articles="$(walked article_pages)" articles_s="$(walked articles_s)"
        rss2="$(status_kb "$SERVER_PID" VmRSS)" hwm2="$(status_kb "$SERVER_PID" VmHWM)"
        say "N=$n $case: walked $walk_pages archive pages ($walk_entries entries) in $walk_s s, $walk_articles article pages in $articles_s s"

        write_lua "$feed_pages" "$topic_pages" 1
        warn_if_busy
        figures="$(load_mix "$case alone")"
        read -r alone_rps alone_p50 alone_p99 <<<"$figures"
        say "N=$n $case, mix alone: $alone_rps req/s, p50 $alone_p50 ms, p99 $alone_p99 ms"

        write_lua "$feed_pages" "$topic_pages" 2
        warn_if_busy
        timeout $((duration + 32)) taskset -c 1 wrk -t1 -c32 -d"$((duration + 2))s" --latency -H 'Accept-Encoding: gzip' \
            "$BASE/feeds/all.atom" >"$dir/wrk-feed.txt" 2>&1 &
        feed_pid=$!
        PIDS+=("$feed_pid")
        sleep 1
        figures="$(load_mix "$case with feed load")"
        read -r loaded_rps loaded_p50 loaded_p99 <<<"$figures"
        wait "$feed_pid" || { cat "$dir/wrk-feed.txt" >&2; die "$case: the feed load failed"; }
        forget_pid "$feed_pid"
        figures="$(wrk_figures "$case feed load" "$dir/wrk-feed.txt")"
        read -r feed_rps _ _ <<<"$figures"
        say "N=$n $case, mix under feed load: $loaded_rps req/s, p50 $loaded_p50 ms, p99 $loaded_p99 ms (feed: $feed_rps req/s)"
        rss3="$(status_kb "$SERVER_PID" VmRSS)" hwm3="$(status_kb "$SERVER_PID" VmHWM)"
        stop_server "$SERVER_PID"

        rows+=("$n	$case	$build_s	$build_kb	$files	$bytes	$article_pages	$archive_docs	$start_s	$rss1	$walk_pages	$walk_s	$articles_s	$rss2	$hwm2	$alone_rps	$alone_p50	$alone_p99	$loaded_rps	$loaded_p50	$loaded_p99	$feed_rps	$rss3	$hwm3	$busy	$compression	$REV")
    done
done

{
    printf 'n\tconfig\tbuild_s\tbuild_peak_kb\tfiles\tbytes\tarticle_pages\tarchive_documents\tstart_s\tvmrss_start_kb\twalk_pages\twalk_s\tarticles_s\tvmrss_walk_kb\tvmhwm_walk_kb\tmix_req_per_s\tmix_p50_ms\tmix_p99_ms\tloaded_mix_req_per_s\tloaded_mix_p50_ms\tloaded_mix_p99_ms\tfeed_req_per_s\tvmrss_load_kb\tvmhwm_load_kb\tbusy_before_pct\tcompression\trev\n'
    printf '%s\n' "${rows[@]}"
} >"$tsv"

echo
echo "history: tidings at $REV; build with compression $compression; serve on core 0, wrk on core 1 (${duration} s)"
echo "(CPU busy with other work before measuring: up to ${MAX_BUSY}%)"
printf '%8s %-9s | %7s %7s %8s %9s | %7s %7s | %-26s | %-22s | %-27s | %s\n' N config "build s" "peak MB" files "MB out" "start s" "RSS MB" \
    "walk: pages s, 1k art. s" "after walk: RSS/HWM MB" "mix alone: r/s p50 p99 ms" "mix under feed load (feed r/s); RSS/HWM MB after"
for row in "${rows[@]}"; do
    IFS=$'\t' read -r n c bs bk f b _ _ ss r1 wp ws as r2 h2 ar a50 a99 lr l50 l99 fr r3 h3 _ _ _ <<<"$row"
    printf '%8s %-9s | %7s %7s %8s %9s | %7s %7s | %7s %6s %9s | %9s / %9s | %7s %8s %8s | %s %s %s (%s); %s / %s\n' \
        "$n" "$c" "$bs" "$(mb "$bk")" "$f" "$(awk -v b="$b" 'BEGIN { printf "%.0f", b / 1e6 }')" "$ss" "$(mb "$r1")" \
        "$wp" "$ws" "$as" "$(mb "$r2")" "$(mb "$h2")" "$ar" "$a50" "$a99" "$lr" "$l50" "$l99" "$fr" "$(mb "$r3")" "$(mb "$h3")"
done
echo "($tsv)"
