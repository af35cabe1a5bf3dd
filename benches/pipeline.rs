//! Micro-benchmarks of each pipeline stage: `cargo bench --bench pipeline`.
//!
//! Articles are variations of the shipped sample (its text with another
//! title, date and canonical URL), so every stage sees realistic text. The
//! figures go into BENCHMARKS.md; none is asserted anywhere.

use std::path::Path;

use divan::{black_box, Bencher};
use tidings::catalog::{Compression, Document};
use tidings::config::Config;
use tidings::index::SeedIndex;
use tidings::ingest::SeedParser;
use tidings::model::Article;
use tidings::publish;
use tidings::render;
use tidings::select::site_view;

const SAMPLE: &str = include_str!("../seeds/000_ac2916338c6b5aee.txt");
const CONFIG: &str = include_str!("../config/tidings.toml");

fn main() {
    divan::main();
}

fn config(max_entries: usize) -> Config {
    let mut config = Config::parse(CONFIG, Path::new("config/tidings.toml")).unwrap();
    config.site.max_entries = max_entries;
    config
}

/// The sample seed as the `index`-th article: its own title, day and URL.
fn seed(index: usize) -> String {
    let day = 1 + index % 28;
    let month = ["January", "March", "May", "July", "September", "November"][index % 6];
    let year = 2020 + index % 5;
    SAMPLE
        .replacen("Putin Ready", &format!("Report {index}: Putin Ready"), 1)
        .replace("May 24, 2024", &format!("{month} {day}, {year}"))
        .replace("-a85215", &format!("-a{index}"))
}

fn articles(count: usize, config: &Config) -> Vec<Article> {
    let parser = SeedParser::new(config);
    (0..count)
        .map(|i| {
            let path = format!("seeds/{i}.txt");
            parser
                .parse(&path, &format!("{i}.txt"), seed(i).as_bytes())
                .0
                .unwrap()
        })
        .collect()
}

#[divan::bench]
fn parse_one_seed(bencher: Bencher) {
    let config = config(50);
    let parser = SeedParser::new(&config);
    let text = seed(7);
    bencher.bench(|| parser.parse("seeds/7.txt", "7.txt", black_box(text.as_bytes())));
}

#[divan::bench]
fn classify_one_article(bencher: Bencher) {
    let config = config(50);
    let article = &articles(1, &config)[0];
    let matcher = tidings::topics::Matcher::new(&config.topics);
    bencher.bench(|| matcher.classify(black_box(article)));
}

/// The worst case: an article that no topic matches is read to its end
/// (above, both shipped topics match early and matching stops).
#[divan::bench]
fn classify_one_article_no_match(bencher: Bencher) {
    let mut config = config(50);
    for topic in &mut config.topics {
        for keyword in &mut topic.keywords {
            keyword.push_str("zz");
        }
    }
    let article = &articles(1, &config)[0];
    let matcher = tidings::topics::Matcher::new(&config.topics);
    assert!(matcher.classify(article).is_empty());
    bencher.bench(|| matcher.classify(black_box(article)));
}

#[divan::bench(args = [50, 10_000])]
fn render_rss(bencher: Bencher, entries: usize) {
    let config = config(entries);
    let articles = articles(entries, &config);
    let site = site_view(&config, &articles);
    bencher.bench(|| render::rss::render_rss(black_box(&site.feeds[0])));
}

#[divan::bench(args = [50, 10_000])]
fn render_atom(bencher: Bencher, entries: usize) {
    let config = config(entries);
    let articles = articles(entries, &config);
    let site = site_view(&config, &articles);
    bencher.bench(|| render::atom::render_atom(black_box(&site.feeds[0])));
}

#[divan::bench(args = [50, 10_000])]
fn render_json(bencher: Bencher, entries: usize) {
    let config = config(entries);
    let articles = articles(entries, &config);
    let site = site_view(&config, &articles);
    bencher.bench(|| render::json::render_json(black_box(&site.feeds[0])));
}

/// The catalog of a seeds folder of 10,000 articles at 50 entries per
/// feed, as `serve` makes it at start-up: reading, parsing and classifying
/// every seed, ranking, rendering every document, and with compression also
/// gzip and brotli of each.
#[divan::bench(args = [false, true], sample_count = 10)]
fn publish_catalog_10k_articles(bencher: Bencher, compress: bool) {
    let config = config(50);
    let seeds = tempfile::tempdir().unwrap();
    for i in 0..10_000 {
        std::fs::write(seeds.path().join(format!("{i}.txt")), seed(i)).unwrap();
    }
    let compression = if compress {
        Compression::On
    } else {
        Compression::Off
    };
    bencher.bench(|| publish::publish(&config, black_box(seeds.path()), 1, compression));
}

/// A reload after a one-file edit at 10,000 articles: the index reads the
/// one file again, and the catalog is made with the previous one.
#[divan::bench(sample_count = 10)]
fn reload_one_edit_10k_articles(bencher: Bencher) {
    let config = config(50);
    let seeds = tempfile::tempdir().unwrap();
    for i in 0..10_000 {
        std::fs::write(seeds.path().join(format!("{i}.txt")), seed(i)).unwrap();
    }
    let mut index = SeedIndex::new(seeds.path().to_path_buf());
    index.rescan(&config).unwrap();
    let mut previous = publish::catalog(
        &config,
        &mut index,
        1,
        None,
        Compression::On,
        chrono::Utc::now(),
    );
    let edited = seeds.path().join("7.txt");
    let mut round = 0;
    bencher.bench_local(|| {
        round += 1;
        std::fs::write(
            &edited,
            seed(7).replace("Friday", &format!("Friday {round}")),
        )
        .unwrap();
        index.refresh(&config, std::slice::from_ref(&edited));
        previous = publish::catalog(
            &config,
            &mut index,
            previous.generation + 1,
            Some(&previous),
            Compression::GzipFirst,
            chrono::Utc::now(),
        );
    });
}

/// A feed document given its gzip and brotli variants: with one entry
/// (about 5 KB, the size of an article page: what a build pays for each
/// of its hundreds of thousands of small documents) and with 50 (what a
/// reload pays for each feed that changed).
#[divan::bench(args = [1, 50], sample_count = 20)]
fn compress_feed(bencher: Bencher, entries: usize) {
    let config = config(entries);
    let articles = articles(entries, &config);
    let site = site_view(&config, &articles);
    let bytes = bytes::Bytes::from(render::atom::render_atom(&site.feeds[0]));
    let when = chrono::DateTime::UNIX_EPOCH;
    bencher.bench(|| {
        Document::build(
            "application/atom+xml",
            true,
            black_box(bytes.clone()),
            when,
            Compression::On,
        )
    });
}
