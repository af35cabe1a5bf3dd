//! The pipeline across rebuilds: what a running server's validators do when
//! content changes (SPEC §4: ETag and Last-Modified change together and
//! Last-Modified never moves backwards).

use std::path::Path;

use tidings::catalog::Catalog;
use tidings::config::Config;
use tidings::index::SeedIndex;
use tidings::plan::{self, Content};
use tidings::{ingest, publish, render, select};

const CONFIG: &str = r#"
[site]
title = "Validators"
base_url = "https://news.example.org/"

[[topic]]
slug = "ukraine"
keywords = ["Ukraine"]
"#;

fn seed(dir: &Path, name: &str, title: &str, date: &str) {
    let text = format!(
        "{title}\n\n{date}\n\nA paragraph about Ukraine.\n\nOriginal url: https://example.org/{name}\n"
    );
    std::fs::write(dir.join(name), text).unwrap();
}

/// The catalog of `seeds` as a server that has just started (no previous
/// catalog) or reloaded (the catalog it served) makes it.
fn rebuild(config: &Config, seeds: &Path, previous: Option<&Catalog>) -> Catalog {
    let mut index = SeedIndex::new(seeds.to_path_buf());
    index.rescan(config).unwrap();
    let generation = previous.map_or(1, |p| p.generation + 1);
    publish::catalog(
        config,
        &mut index,
        generation,
        previous,
        tidings::catalog::Compression::On,
        chrono::Utc::now(),
    )
}

/// Every planned document of `seeds` rendered whole from a plain pass over
/// every article held whole: the reference for the catalog's spliced,
/// partly loaded documents.
fn rendered_whole(config: &Config, seeds: &Path) -> Vec<(String, String)> {
    let ingested = ingest::load(seeds, config).unwrap();
    let site = select::site_view(config, &ingested.articles);
    plan::plan(&site)
        .into_iter()
        .map(|planned| {
            let text = match planned.content {
                Content::Listing { listing, feed } => listing.render(&site, &site.feeds[feed]),
                Content::Opml => render::opml::render_opml(&site),
                Content::FeedPreview { format, feed } => {
                    render::html::render_feed_preview(&site, &site.feeds[feed], format)
                }
                Content::NotFound => render::html::render_not_found(site.site),
                Content::Favicon => render::html::FAVICON.to_string(),
            };
            (planned.path, text)
        })
        .collect()
}

fn config(text: &str) -> Config {
    Config::parse(text, Path::new("tidings.toml")).unwrap()
}

#[test]
fn unchanged_content_keeps_every_validator() {
    let seeds = tempfile::tempdir().unwrap();
    seed(seeds.path(), "a.txt", "First", "2024-05-24");
    let config = config(CONFIG);
    let first = rebuild(&config, seeds.path(), None);
    let second = rebuild(&config, seeds.path(), Some(&first));
    assert_eq!(second.generation, 2);
    assert_eq!(first.len(), second.len());
    for (path, document) in first.documents() {
        assert_eq!(Some(document), second.get(path), "{path}");
    }
}

#[test]
fn deleting_the_newest_article_still_moves_last_modified_forward() {
    let seeds = tempfile::tempdir().unwrap();
    seed(seeds.path(), "old.txt", "Old", "2024-05-01");
    seed(seeds.path(), "new.txt", "New", "2024-05-24");
    let config = config(CONFIG);
    let first = rebuild(&config, seeds.path(), None);
    std::fs::remove_file(seeds.path().join("new.txt")).unwrap();
    let second = rebuild(&config, seeds.path(), Some(&first));

    let (before, after) = (
        first.get("/feeds/all.atom").unwrap(),
        second.get("/feeds/all.atom").unwrap(),
    );
    assert_ne!(before.digest, after.digest);
    assert!(
        after.last_modified > before.last_modified,
        "{} then {}",
        before.last_modified,
        after.last_modified
    );
    // A static build of the same seeds dates the document by its content.
    let fresh = rebuild(&config, seeds.path(), None);
    assert!(fresh.get("/feeds/all.atom").unwrap().last_modified < before.last_modified);
}

#[test]
fn new_bytes_with_the_same_dates_get_a_later_last_modified() {
    let seeds = tempfile::tempdir().unwrap();
    seed(seeds.path(), "a.txt", "First", "2024-05-24");
    let first = rebuild(&config(CONFIG), seeds.path(), None);
    let renamed = config(&CONFIG.replace("Validators", "Renamed"));
    let second = rebuild(&renamed, seeds.path(), Some(&first));
    for path in ["/feeds/all.rss", "/feeds/ukraine.json", "/"] {
        let (before, after) = (first.get(path).unwrap(), second.get(path).unwrap());
        assert_ne!(
            before.etag(tidings::catalog::Encoding::Identity),
            after.etag(tidings::catalog::Encoding::Identity),
            "{path}"
        );
        assert_eq!(
            after.last_modified,
            before.last_modified + chrono::TimeDelta::seconds(1),
            "{path}"
        );
    }
}

/// With more articles than the feeds can show, the index keeps bodies only
/// for shown articles and loads them before rendering; the documents must be
/// exactly those rendered whole from every article held whole.
#[test]
fn loading_only_shown_bodies_renders_the_same_documents() {
    let seeds = tempfile::tempdir().unwrap();
    for day in 1..=20 {
        seed(
            seeds.path(),
            &format!("{day:02}.txt"),
            &format!("Day {day}"),
            &format!("2024-05-{day:02}"),
        );
    }
    let config = config(&CONFIG.replace("[site]", "[site]\nmax_entries = 3"));

    let whole = rendered_whole(&config, seeds.path());
    let mut index = SeedIndex::new(seeds.path().to_path_buf());
    index.rescan(&config).unwrap();
    let light = publish::catalog(
        &config,
        &mut index,
        1,
        None,
        tidings::catalog::Compression::On,
        chrono::Utc::now(),
    );

    assert_eq!(whole.len(), light.len());
    for (path, text) in &whole {
        let document = light.get(path).expect(path);
        assert_eq!(text.as_bytes(), &document.identity[..], "{path}");
    }
    let atom = String::from_utf8(light.get("/feeds/all.atom").unwrap().identity.to_vec()).unwrap();
    assert!(
        atom.contains("Day 20") && atom.contains("A paragraph about Ukraine."),
        "{atom}"
    );
    assert!(!atom.contains("Day 17"), "{atom}");

    // A later build where another article becomes shown loads its body too.
    std::fs::remove_file(seeds.path().join("20.txt")).unwrap();
    index.refresh(&config, &[seeds.path().join("20.txt")]);
    let after = publish::catalog(
        &config,
        &mut index,
        2,
        Some(&light),
        tidings::catalog::Compression::On,
        chrono::Utc::now(),
    );
    let atom = String::from_utf8(after.get("/feeds/all.atom").unwrap().identity.to_vec()).unwrap();
    assert!(atom.contains("Day 17"), "{atom}");
    // Every entry's content, not only its summary, holds the body.
    let bodies = atom.matches("&lt;p&gt;A paragraph about Ukraine.&lt;/p&gt;");
    assert_eq!(bodies.count(), 3, "{atom}");
}

/// A published article whose `updated` is ahead of the clock would pin
/// Last-Modified in the future, later than the response's `Date` (RFC 9110
/// §8.8.2.1; one whose date is ahead is scheduled, in no document): no
/// document's Last-Modified is later than the moment its catalog is served
/// from, and after the seed goes away the validators still move forward.
#[test]
fn last_modified_is_never_later_than_the_moment_served() {
    let seeds = tempfile::tempdir().unwrap();
    seed(seeds.path(), "now.txt", "Now", "2030-01-01");
    std::fs::write(
        seeds.path().join("ahead.md"),
        "+++\ntitle = \"Ahead\"\ndate = 2030-01-01T12:00:00Z\nupdated = 2030-06-01\n+++\n\n\
         A paragraph about Ukraine.\n",
    )
    .unwrap();
    let config = config(CONFIG);
    let served = chrono::DateTime::parse_from_rfc3339("2030-01-02T10:00:00Z")
        .unwrap()
        .to_utc();
    let mut index = SeedIndex::new(seeds.path().to_path_buf()).as_of(served);
    index.rescan(&config).unwrap();
    let first = publish::catalog(
        &config,
        &mut index,
        1,
        None,
        tidings::catalog::Compression::Off,
        served,
    );
    for (path, document) in first.documents() {
        assert!(document.last_modified <= served, "{path}");
    }
    assert_eq!(first.get("/feeds/all.atom").unwrap().last_modified, served);

    std::fs::remove_file(seeds.path().join("ahead.md")).unwrap();
    index.refresh(&config, &[seeds.path().join("ahead.md")]);
    let later = served + chrono::TimeDelta::seconds(30);
    let second = publish::catalog(
        &config,
        &mut index,
        2,
        Some(&first),
        tidings::catalog::Compression::Off,
        later,
    );
    let (before, after) = (
        first.get("/feeds/all.atom").unwrap(),
        second.get("/feeds/all.atom").unwrap(),
    );
    assert_ne!(before.digest, after.digest);
    assert!(
        before.last_modified < after.last_modified && after.last_modified <= later,
        "{} then {}",
        before.last_modified,
        after.last_modified
    );
}
