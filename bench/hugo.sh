#!/usr/bin/env bash
# Static site benchmark: `tidings build` against Hugo (Debian's `hugo`
# package) building the same articles into a page per article, a paginated
# list and an RSS feed per topic and for the home page.
#
#   bench/hugo.sh            N = 10,000 and 100,000 articles
#   bench/hugo.sh --smoke    N = 300 (CI: keeps the script alive)
#   BENCH_SIZES="10000" BENCH_RUNS=3 bench/hugo.sh
#
# Set-up, per N: the gen-corpus articles (bench/work/corpus-N) and the
# shipped config/tidings.toml (topics ukraine and russia, max_entries 50).
# bench/hugo_content.py turns them into Hugo content under
# bench/work/hugo/site-N/content/articles/ (Markdown with front matter:
# title, date, and as tags the topics tidings put the article in, read from
# the Atom documents of the first tidings build below), once per corpus. The
# site's theme is written here into bench/work/hugo/site-N/themes/bench: a
# page per article (/articles/{path}/, tidings' path), and for the home page
# and each tag (= topic) an HTML list paginated by 50 (like tidings' history
# pages) and an RSS feed of the newest 50 with full content (like tidings'
# subscription feeds). Sections, the tag index, sitemap, robots.txt and 404
# are off.
#
# Measured, in turn within each run:
#   tidings off  `tidings build --compression off`;
#   tidings on   `tidings build` (gzip and brotli siblings of every file);
#   hugo         `hugo --source SITE --destination OUT` (Hugo writes no
#                compressed siblings: compare it with "tidings off").
# tidings writes more: RSS, Atom and JSON Feed for every feed and each of
# its archive documents, plus OPML and _headers; Hugo writes RSS only.
#
# How to read it: wall seconds and peak resident MB from /usr/bin/time
# (median of BENCH_RUNS runs, default 3 up to 10,000 articles and 1 above),
# files and MB written; "hugo/td" is Hugo's time over tidings' without
# compression. The script fails when a build fails or a site lacks a page per
# article. Results also go to bench/work/hugo-results.tsv.
# shellcheck source=bench/lib.sh
source "$(dirname "$0")/lib.sh"
parse_args "$@"

build_tidings
ensure_tool hugo hugo
if [ "$SMOKE" = 1 ]; then
    sizes="${BENCH_SIZES:-300}"
else
    sizes="${BENCH_SIZES:-10000 100000}"
fi
config="$ROOT/config/tidings.toml"
dir="$WORK/hugo"
out="$dir/out"
tsv="$WORK/hugo-results.tsv"
mkdir -p "$dir"
HUGO_VERSION="$(hugo version | awk '{ print $2 }')"
rows=()

runs_for() {
    if [ -n "${BENCH_RUNS:-}" ]; then echo "$BENCH_RUNS"
    elif [ "$SMOKE" = 1 ] || [ "$1" -gt 10000 ]; then echo 1
    else echo 3; fi
}
mb() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
# "files bytes" of a folder.
output_size() {
    find "$1" -type f -printf '%s\n' | awk '{ n++; s += $1 } END { printf "%d %.0f\n", n, s }'
}

# The Hugo site of N articles: config and theme (rewritten every run, they
# are small), content (converted once per corpus and converter).
hugo_site() {
    local n=$1 seeds=$2 site="$dir/site-$1" theme
    theme="$site/themes/bench/layouts/_default"
    mkdir -p "$theme"
    cat >"$site/hugo.toml" <<EOF
# Written by bench/hugo.sh.
baseURL = "http://127.0.0.1:8080/"
languageCode = "en"
title = "tidings"
theme = "bench"
paginate = 50
disableKinds = ["section", "taxonomy", "sitemap", "robotsTXT", "404"]
# Hugo warns, as an error, that "taxonomy" means the list of terms since 0.73:
# that is the page meant here (the tags themselves are "term").
ignoreErrors = ["error-disable-taxonomy"]
[taxonomies]
tag = "tags"
[outputs]
home = ["HTML", "RSS"]
term = ["HTML", "RSS"]
page = ["HTML"]
[services.rss]
limit = 50
EOF
    cat >"$theme/single.html" <<'EOF'
<!DOCTYPE html>
<html lang="{{ site.LanguageCode }}">
<head>
<meta charset="utf-8">
<title>{{ .Title }} – {{ site.Title }}</title>
<link rel="canonical" href="{{ .Permalink }}">
{{- range .GetTerms "tags" }}
<link rel="alternate" type="application/rss+xml" title="{{ .LinkTitle }}" href="{{ .RelPermalink }}index.xml">
{{- end }}
</head>
<body>
<article>
<h1>{{ .Title }}</h1>
<p><time datetime="{{ .Date.Format "2006-01-02T15:04:05Z07:00" }}">{{ .Date.Format "January 2, 2006 15:04" }}</time></p>
<ul>{{ range .GetTerms "tags" }}<li><a href="{{ .RelPermalink }}">{{ .LinkTitle }}</a></li>{{ end }}</ul>
{{ .Content }}
</article>
</body>
</html>
EOF
    cat >"$theme/list.html" <<'EOF'
<!DOCTYPE html>
<html lang="{{ site.LanguageCode }}">
<head>
<meta charset="utf-8">
<title>{{ .Title }}</title>
{{- with .OutputFormats.Get "rss" }}
<link rel="alternate" type="application/rss+xml" href="{{ .Permalink }}">
{{- end }}
</head>
<body>
<h1>{{ .Title }}</h1>
{{- $pages := .Pages }}
{{- if .IsHome }}{{ $pages = site.RegularPages }}{{ end }}
{{- $pager := .Paginate $pages }}
{{- range $pager.Pages }}
<article>
<h2><a href="{{ .RelPermalink }}">{{ .Title }}</a></h2>
<p><time datetime="{{ .Date.Format "2006-01-02T15:04:05Z07:00" }}">{{ .Date.Format "January 2, 2006" }}</time></p>
<p>{{ .Summary }}</p>
</article>
{{- end }}
<nav>
{{- if $pager.HasPrev }}<a href="{{ $pager.Prev.URL }}">Newer</a>{{ end }}
{{- if $pager.HasNext }} <a href="{{ $pager.Next.URL }}">Older articles</a>{{ end }}
</nav>
</body>
</html>
EOF
    cat >"$theme/rss.xml" <<'EOF'
{{- $pages := .Pages -}}
{{- if .IsHome }}{{ $pages = site.RegularPages }}{{ end -}}
{{- $pages = $pages | first 50 -}}
{{ printf "<?xml version=\"1.0\" encoding=\"utf-8\"?>" | safeHTML }}
<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom">
<channel>
<title>{{ .Title }}</title>
<link>{{ .Permalink }}</link>
<description>{{ .Title }}</description>
<language>{{ site.LanguageCode }}</language>
{{- with .OutputFormats.Get "rss" }}
<atom:link href="{{ .Permalink }}" rel="self" type="application/rss+xml"/>
{{- end }}
{{- range $pages }}
<item>
<title>{{ .Title }}</title>
<link>{{ .Permalink }}</link>
<guid>{{ .Permalink }}</guid>
<pubDate>{{ .Date.Format "Mon, 02 Jan 2006 15:04:05 -0700" | safeHTML }}</pubDate>
{{- range .GetTerms "tags" }}
<category>{{ .LinkTitle }}</category>
{{- end }}
<description>{{ .Content | html }}</description>
</item>
{{- end }}
</channel>
</rss>
EOF
    local want have
    want="$(cat "$WORK/corpus-$n.stamp") $(sha256sum "$BENCH/hugo_content.py" | cut -c1-16)"
    have="$(cat "$site/content.stamp" 2>/dev/null || true)"
    if [ "$want" != "$have" ] || [ ! -d "$site/content" ]; then
        say "N=$n: converting the articles into Hugo content (bench/work/hugo/site-$n/content)"
        rm -rf "$site/content" "$site/content.stamp"
        timeout $((60 + n / 100)) python3 "$BENCH/hugo_content.py" --build "$out" --seeds "$seeds" --out "$site/content" >&2 ||
            die "converting the articles for Hugo failed at N=$n"
        echo "$want" >"$site/content.stamp"
    fi
}

# One measured build: "wall_s peak_kb files bytes".
measure() {
    local label=$1 limit=$2
    shift 2
    rm -rf "$out"
    if ! timed "$limit" "$dir/time.txt" "$dir/$label.log" "$@"; then
        tail -n 20 "$dir/$label.log" >&2
        die "$label build failed (log: bench/work/hugo/$label.log)"
    fi
    local wall peak
    read -r wall peak <"$dir/time.txt"
    echo "$wall $peak $(output_size "$out")"
}

for n in $sizes; do
    seeds="$(corpus "$n")"
    warm_cache "$seeds"
    runs="$(runs_for "$n")"
    limit=$((120 + n / 20))
    site="$dir/site-$n"
    warn_if_busy
    busy="$BUSY"
    off=() on=() hugo=()
    for run in $(seq 1 "$runs"); do
        say "N=$n run $run/$runs: tidings build --compression off"
        figures="$(measure tidings-off "$limit" "$TIDINGS" --config "$config" --seeds "$seeds" build --compression off --out "$out")"
        off+=("$figures")
        # The first build without compression gives the topics of each article.
        [ "$run" = 1 ] && hugo_site "$n" "$seeds"
        say "N=$n run $run/$runs: tidings build (compression on)"
        figures="$(measure tidings-on "$limit" "$TIDINGS" --config "$config" --seeds "$seeds" build --out "$out")"
        on+=("$figures")
        say "N=$n run $run/$runs: hugo"
        figures="$(measure hugo "$limit" hugo --source "$site" --destination "$out" --cacheDir "$dir/cache" --quiet)"
        hugo+=("$figures")
        pages="$(find "$out/articles" -name index.html | wc -l)"
        [ "$pages" = "$n" ] || die "Hugo wrote $pages article pages for $n articles"
        grep -q '<item>' "$out/tags/ukraine/index.xml" || die "Hugo wrote no items in /tags/ukraine/index.xml"
    done
    rm -rf "$out"
    row="$n	$runs"
    for tool in off on hugo; do
        declare -n results="$tool"
        # shellcheck disable=SC2046
        row+="	$(median $(printf '%s\n' "${results[@]}" | cut -d' ' -f1))"
        # shellcheck disable=SC2046
        row+="	$(median $(printf '%s\n' "${results[@]}" | cut -d' ' -f2))"
        row+="	$(printf '%s\n' "${results[0]}" | cut -d' ' -f3)	$(printf '%s\n' "${results[0]}" | cut -d' ' -f4)"
        unset -n results
    done
    rows+=("$row	$busy	$HUGO_VERSION	$REV")
    say "N=$n: $row"
done

{
    printf 'n\truns\ttidings_off_s\ttidings_off_peak_kb\ttidings_off_files\ttidings_off_bytes\ttidings_on_s\ttidings_on_peak_kb\ttidings_on_files\ttidings_on_bytes\thugo_s\thugo_peak_kb\thugo_files\thugo_bytes\tbusy_before_pct\thugo_version\trev\n'
    printf '%s\n' "${rows[@]}"
} >"$tsv"

echo
echo "hugo: same corpus, config/tidings.toml (2 topics, 50 a page); tidings at $REV, Hugo $HUGO_VERSION"
echo "(CPU busy with other work before measuring: up to ${MAX_BUSY}%)"
printf '%8s %4s | %-30s | %-30s | %-30s | %7s\n' N runs "tidings, compression off" "tidings, gzip + brotli" "hugo (no compression)" "hugo/td"
printf '%8s %4s | %7s %7s %7s %6s | %7s %7s %7s %6s | %7s %7s %7s %6s | %7s\n' "" "" s "peak MB" files MB s "peak MB" files MB s "peak MB" files MB "time"
for row in "${rows[@]}"; do
    IFS=$'\t' read -r n r os ok of ob ns nk nf nb hs hk hf hb _ _ _ <<<"$row"
    printf '%8s %4s | %7s %7s %7s %6s | %7s %7s %7s %6s | %7s %7s %7s %6s | %7s\n' "$n" "$r" \
        "$os" "$(mb "$ok")" "$of" "$(awk -v b="$ob" 'BEGIN { printf "%.0f", b / 1e6 }')" \
        "$ns" "$(mb "$nk")" "$nf" "$(awk -v b="$nb" 'BEGIN { printf "%.0f", b / 1e6 }')" \
        "$hs" "$(mb "$hk")" "$hf" "$(awk -v b="$hb" 'BEGIN { printf "%.0f", b / 1e6 }')" "$(ratio "$hs" "$os")"
done
echo "($tsv)"
