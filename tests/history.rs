//! Every article reachable forever: the RFC 5005 archive documents and
//! history pages of every feed, and the page of every article, over a real
//! server and in a real build, on generated corpora of thousands of
//! articles.

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use common::{header, raw_client, Server, Site};
use reqwest::StatusCode;

const CONFIG: &str = r#"
[site]
title = "History"
base_url = "https://history.example.org/"
max_entries = 20

[[topic]]
slug = "alpha"
title = "Alpha"
keywords = ["alpha"]

[[topic]]
slug = "beta"
title = "Beta"
keywords = ["beta"]
"#;

/// Article `i` of a corpus: dated `i` hours after the start of 2020, so a
/// higher number is newer; in `alpha` when `i` is a multiple of 3, in `beta`
/// when it is one of 5.
fn seed(i: usize, body: &str) -> String {
    let hours = i as i64;
    let date = chrono::DateTime::UNIX_EPOCH + chrono::TimeDelta::hours(hours);
    let date = date.with_timezone(&chrono::Utc) + chrono::TimeDelta::days(18_262);
    let mut words = vec!["Plain"];
    if i.is_multiple_of(3) {
        words.push("alpha");
    }
    if i.is_multiple_of(5) {
        words.push("beta");
    }
    format!(
        "Article {i}\n\n{}\n\n{} news, {body}.\n\nOriginal url: https://example.org/a/{i}\n",
        date.format("%Y-%m-%d %H:%M"),
        words.join(" and ")
    )
}

fn write_corpus(seeds: &Path, count: usize) {
    std::fs::remove_dir_all(seeds).unwrap();
    std::fs::create_dir_all(seeds).unwrap();
    for i in 0..count {
        std::fs::write(seeds.join(format!("{i:05}.txt")), seed(i, "first edition")).unwrap();
    }
}

fn corpus_site(count: usize) -> Site {
    let site = Site::new();
    std::fs::write(site.config_file(), CONFIG).unwrap();
    write_corpus(&site.seeds(), count);
    site
}

/// The ids every feed should list, newest first.
fn expected(count: usize) -> BTreeMap<&'static str, Vec<String>> {
    let ids = |keep: &dyn Fn(usize) -> bool| -> Vec<String> {
        (0..count)
            .rev()
            .filter(|&i| keep(i))
            .map(|i| format!("https://example.org/a/{i}"))
            .collect()
    };
    BTreeMap::from([
        ("all", ids(&|_| true)),
        ("alpha", ids(&|i| i.is_multiple_of(3))),
        ("beta", ids(&|i| i.is_multiple_of(5))),
    ])
}

/// The `href` of the first `<link>`/`<atom:link>` with `rel`.
fn link(document: &str, rel: &str) -> Option<String> {
    let at = document.find(&format!("rel=\"{rel}\""))?;
    let start = document[..at].rfind("href=\"")? + "href=\"".len();
    let end = start + document[start..].find('"')?;
    Some(document[start..end].to_string())
}

/// The ids of one document's entries and the URL of the next older
/// document, as a reader of the format finds them.
fn read(format: &str, body: &str) -> (Vec<String>, Option<String>) {
    match format {
        "json" => {
            let json: serde_json::Value = serde_json::from_str(body).unwrap();
            let ids = json["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|item| item["id"].as_str().unwrap().to_string())
                .collect();
            (ids, json["next_url"].as_str().map(String::from))
        }
        _ => {
            let feed = feed_rs::parser::parse(body.as_bytes()).unwrap();
            let ids = feed.entries.iter().map(|e| e.id.clone()).collect();
            (ids, link(body, "prev-archive"))
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn following_prev_archive_visits_every_article_once_in_every_format() {
    let count = 2_000;
    let server = Server::start_with(corpus_site(count));
    let client = raw_client();
    for (slug, ids) in expected(count) {
        for format in ["atom", "rss", "json"] {
            let mut seen = Vec::new();
            let mut next = Some(format!("/feeds/{slug}.{format}"));
            let mut documents = 0;
            while let Some(path) = next {
                let response = client.get(server.url(&path)).send().await.unwrap();
                assert_eq!(response.status(), StatusCode::OK, "{path}");
                let body = response.text().await.unwrap();
                if documents > 0 && format != "json" {
                    assert!(body.contains("<fh:archive>"), "{path} is marked an archive");
                    assert!(link(&body, "current").is_some(), "{path} links current");
                }
                let (page, older) = read(format, &body);
                seen.extend(page);
                // Links are absolute under the configured base URL.
                next = older.map(|url| url.replace("https://history.example.org", ""));
                documents += 1;
                assert!(documents < 1_000, "the chain of {slug}.{format} ends");
            }
            assert_eq!(seen.len(), ids.len(), "{slug}.{format}: every article once");
            assert_eq!(seen, ids, "{slug}.{format}: newest to oldest");
        }
    }
    let subscription = client
        .get(server.url("/feeds/all.atom"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!subscription.contains("fh:archive"));
}

/// Status, ETag, Last-Modified and Cache-Control of `path`.
async fn validators(server: &Server, path: &str) -> (StatusCode, String, String, String) {
    let response = raw_client().get(server.url(path)).send().await.unwrap();
    let headers = response.headers().clone();
    let get = |name| header(&headers, name).unwrap_or_default().to_string();
    (
        response.status(),
        get("etag"),
        get("last-modified"),
        get("cache-control"),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_article_leaves_closed_archive_pages_as_they_were() {
    // 20 in the subscription document, then pages of 20: page 1 to 4 full,
    // page 5 holds 5.
    let count = 105;
    let server = Server::start_with(corpus_site(count));
    let (status, etag, modified, cache) = validators(&server, "/feeds/all/archive/1.atom").await;
    assert_eq!(status, StatusCode::OK);
    assert!(cache.contains("max-age=31536000"), "closed: {cache}");
    let (_, newest_etag, _, newest_cache) = validators(&server, "/feeds/all/archive/5.atom").await;
    assert!(newest_cache.contains("max-age=300"), "open: {newest_cache}");
    let (status, ..) = validators(&server, "/feeds/all/archive/6.atom").await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let before = validators(&server, "/feeds/all.atom").await.1;
    std::fs::write(server.site.seeds().join("new.txt"), seed(count, "just in")).unwrap();
    let deadline = Instant::now() + Duration::from_secs(15);
    while validators(&server, "/feeds/all.atom").await.1 == before {
        assert!(Instant::now() < deadline, "the new article goes live");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let after = validators(&server, "/feeds/all/archive/1.atom").await;
    assert_eq!(
        (after.1, after.2),
        (etag, modified),
        "a closed page keeps its validators"
    );
    let newest = validators(&server, "/feeds/all/archive/5.atom").await;
    assert_ne!(
        newest.1, newest_etag,
        "the newest page took the subscription's oldest"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_edit_that_keeps_the_date_moves_last_modified_with_the_etag() {
    let count = 105;
    let server = Server::start_with(corpus_site(count));
    let path = "/feeds/all/archive/1.atom";
    let (status, etag, modified, _) = validators(&server, path).await;
    assert_eq!(status, StatusCode::OK);
    let (_, other_etag, other_modified, _) = validators(&server, "/feeds/all/archive/2.atom").await;

    // Article 5 is on page 1; its date stays.
    std::fs::write(
        server.site.seeds().join("00005.txt"),
        seed(5, "second edition"),
    )
    .unwrap();
    let deadline = Instant::now() + Duration::from_secs(15);
    let after = loop {
        let after = validators(&server, path).await;
        if after.1 != etag {
            break after;
        }
        assert!(Instant::now() < deadline, "the edit goes live");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let date = |text: &str| chrono::DateTime::parse_from_rfc2822(text).unwrap();
    assert!(
        date(&after.2) > date(&modified),
        "Last-Modified moves with the ETag: {modified} → {}",
        after.2
    );
    let other = validators(&server, "/feeds/all/archive/2.atom").await;
    assert_eq!(
        (other.1, other.2),
        (other_etag, other_modified),
        "a page without the article keeps its validators"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_browser_at_an_archive_document_gets_its_history_page() {
    let server = Server::start_with(corpus_site(105));
    let browser = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";
    let client = raw_client();
    for (feed, page) in [
        ("/feeds/all/archive/2.atom", "/archive/2/"),
        ("/feeds/alpha/archive/1.json", "/topics/alpha/archive/1/"),
    ] {
        let html = client
            .get(server.url(feed))
            .header(reqwest::header::ACCEPT, browser)
            .send()
            .await
            .unwrap();
        assert_eq!(html.status(), StatusCode::OK, "{feed}");
        assert_eq!(
            header(html.headers(), "content-type"),
            Some("text/html; charset=utf-8"),
            "{feed}"
        );
        assert_eq!(
            header(html.headers(), "vary"),
            Some("Accept, Accept-Encoding")
        );
        let html = html.text().await.unwrap();
        let history = client.get(server.url(page)).send().await.unwrap();
        assert_eq!(html, history.text().await.unwrap(), "{feed} is {page}");

        // A feed reader gets the feed, saying it varies too.
        let reader = client
            .get(server.url(feed))
            .header(reqwest::header::ACCEPT, "application/atom+xml, */*;q=0.1")
            .send()
            .await
            .unwrap();
        assert_eq!(
            header(reader.headers(), "vary"),
            Some("Accept, Accept-Encoding")
        );
        assert_ne!(
            header(reader.headers(), "content-type"),
            Some("text/html; charset=utf-8"),
            "{feed}"
        );
    }
}

/// Builds `seeds` into `out` with `config` at a fixed time.
fn build(config: &Path, seeds: &Path, out: &Path) {
    let status = Command::new(env!("CARGO_BIN_EXE_tidings"))
        .arg("--config")
        .arg(config)
        .arg("--seeds")
        .arg(seeds)
        .arg("build")
        .arg("--out")
        .arg(out)
        .env("RUST_LOG", "warn")
        .status()
        .unwrap();
    assert!(status.success());
}

/// Every file under `dir` (compressed siblings left out) with its bytes.
fn tree(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut files = BTreeMap::new();
    for entry in walkdir::WalkDir::new(dir) {
        let entry = entry.unwrap();
        let path = entry.path();
        let name = path.to_string_lossy();
        if entry.file_type().is_file() && !name.ends_with(".gz") && !name.ends_with(".br") {
            let relative = path
                .strip_prefix(dir)
                .unwrap()
                .to_string_lossy()
                .into_owned();
            files.insert(relative, std::fs::read(path).unwrap());
        }
    }
    files
}

/// The archive files that differ between two builds, added ones included.
fn changed_archives(
    before: &BTreeMap<String, Vec<u8>>,
    after: &BTreeMap<String, Vec<u8>>,
) -> Vec<String> {
    after
        .iter()
        .filter(|(path, bytes)| path.contains("archive/") && before.get(*path) != Some(bytes))
        .map(|(path, _)| path.clone())
        .collect()
}

#[test]
fn builds_change_only_the_archive_pages_whose_articles_change() {
    let count = 105;
    let site = corpus_site(count);
    let work = tempfile::tempdir().unwrap();
    let build_into = |name: &str| {
        let out = work.path().join(name);
        build(&site.config_file(), &site.seeds(), &out);
        tree(&out)
    };
    let first = build_into("first");
    assert_eq!(
        first,
        build_into("again"),
        "the same input builds the same bytes"
    );
    assert!(first.contains_key("feeds/all/archive/5.atom"));
    assert!(first.contains_key("archive/5/index.html"));
    assert!(first.contains_key("topics/alpha/archive/1/index.html"));

    // A new newest article: each of its feeds' newest page takes one entry
    // from the subscription document; no other archive document changes.
    // Article 106 is in no topic.
    std::fs::write(site.seeds().join("new.txt"), seed(106, "just in")).unwrap();
    let added = build_into("added");
    let changed = changed_archives(&first, &added);
    let expected: Vec<String> = [
        "archive/5/index.html",
        "feeds/all/archive/5.atom",
        "feeds/all/archive/5.json",
        "feeds/all/archive/5.rss",
    ]
    .map(String::from)
    .into();
    assert_eq!(changed, expected, "the new article is in `all` only");

    // An edit to an old article changes only the pages that hold it: article
    // 0 is on page 1 of `all`, of `alpha` and of `beta`.
    std::fs::write(site.seeds().join("00000.txt"), seed(0, "second edition")).unwrap();
    let edited = build_into("edited");
    let changed = changed_archives(&added, &edited);
    assert_eq!(
        changed.len(),
        3 * 4,
        "one page per feed, four documents each: {changed:?}"
    );
    for feed in [
        "archive/",
        "feeds/all/archive/",
        "alpha/archive/",
        "beta/archive/",
    ] {
        assert!(
            changed.iter().any(|path| path.contains(feed)),
            "{feed} in {changed:?}"
        );
    }
    let pages: std::collections::BTreeSet<&str> = changed
        .iter()
        .filter(|path| path.starts_with("feeds/all/archive/"))
        .map(String::as_str)
        .collect();
    assert_eq!(
        pages.len(),
        3,
        "one page of `all`, three formats: {pages:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_answers_archive_documents_and_article_pages_with_the_bytes_of_the_build() {
    let count = 90;
    let site = corpus_site(count);
    let work = tempfile::tempdir().unwrap();
    let out = work.path().join("out");
    build(&site.config_file(), &site.seeds(), &out);
    let server = Server::start_with(site);
    let client = raw_client();
    for path in [
        "/feeds/all/archive/1.atom",
        "/feeds/all/archive/2.rss",
        "/feeds/alpha/archive/1.json",
        "/archive/3/",
        "/topics/alpha/archive/1/",
        "/articles/00005/",
        "/articles/00089/",
    ] {
        let served = client.get(server.url(path)).send().await.unwrap();
        assert_eq!(served.status(), StatusCode::OK, "{path}");
        let file = out.join(path.trim_start_matches('/'));
        let file = if path.ends_with('/') {
            file.join("index.html")
        } else {
            file
        };
        assert_eq!(
            served.bytes().await.unwrap(),
            std::fs::read(&file).unwrap(),
            "{path}"
        );
    }
    for path in [
        "/feeds/all/archive/0.atom",
        "/feeds/all/archive/01.atom",
        "/feeds/all/archive/99.atom",
        "/feeds/nope/archive/1.atom",
        "/archive/99/",
        "/articles/00090/",
        "/articles/../00005/",
        "/articles/00005",
    ] {
        let status = client.get(server.url(path)).send().await.unwrap().status();
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
    }
}
