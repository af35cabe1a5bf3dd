//! The documents of every feed's history: archive documents (RFC 5005)
//! and history pages, one per archive page of `all` and of every topic;
//! and the page of every article (`/articles/{slug}/`).
//!
//! At 100,000 articles they are hundreds of thousands of documents and
//! gigabytes of text, each rarely asked for, so the server does not render
//! them at every reload. It renders one when it is first asked for, from
//! the [`History`] of the catalog generation that asks, and keeps it in a
//! cache bounded in bytes ([`ArchiveShelf`]). The static build writes every
//! one of them with the same [`Page`], so the bytes are the same.
//!
//! Documents made here get a gzip variant only: brotli takes two to three
//! times gzip's time per document (BENCHMARKS.md, "Brotli's window"), and
//! a third variant would take room in the cache, for a document that is
//! asked for once in a while. The static build writes both.
//!
//! A cached document is reused while the page is made of the very same
//! records (the same head and topics, compared by pointer: an edited seed
//! is parsed into a new head) and the same config, so a closed page keeps
//! its bytes and validators across reloads, and an edit re-renders only
//! the pages that hold the article.
//!
//! A document's Last-Modified is its newest entry's date, as in the build,
//! the first time the server makes it. The cache also remembers, for every
//! path it has made, a hash of the bytes and the Last-Modified it gave
//! them (24 bytes of data a path, about 4 MB were every document of a
//! 100,000-article site asked for), so that, as for the catalog's own
//! documents, the same bytes made again (after eviction) get the same date,
//! and new bytes (an edit that kept every date, an old article added or
//! removed) a later one: ETag and Last-Modified change together, and
//! Last-Modified never moves back while the server runs.

use std::any::Any;
use std::path::PathBuf;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};

use chrono::{DateTime, FixedOffset, Utc};

use crate::archive::Paging;
use crate::catalog::{Compression, Document, Shelf, Shelved};
use crate::config::{Config, ALL_SLUG};
use crate::cores;
use crate::index::{read_ranked, History, Ranked};
use crate::ingest::SeedParser;
use crate::layout::{self, ArchivePath};
use crate::model::Article;
use crate::render::article::render_article_page;
use crate::render::{Entry, Listing, Place, SiteView};
use crate::select;

/// Bytes (every variant counted) of documents kept once made. At 100,000
/// articles the server held 261 MB after walking the whole archive with
/// 64 MB here, and 306 MB after random archive loads (BENCHMARKS.md).
const CACHE_BYTES: usize = 32 * 1024 * 1024;

/// One archive page of one feed, with its articles read.
#[derive(Debug)]
pub struct Page {
    feed: usize,
    number: usize,
    paging: Paging,
    /// Its records, newest first.
    ranked: Vec<Ranked>,
    /// Their articles, where the seed still gives one.
    articles: Vec<Option<Arc<Article>>>,
    /// The newest `updated` of its entries (of the page before it, for the
    /// empty newest page).
    updated: DateTime<FixedOffset>,
}

impl Page {
    /// The records of page `number` of feed `feed` and its date, without
    /// reading any article; `None` when there is no such page.
    fn locate(
        config: &Config,
        history: &History,
        feed: usize,
        number: usize,
    ) -> Option<(Paging, Vec<Ranked>, DateTime<FixedOffset>)> {
        let paging = Paging::new(history.total(feed), config.site.max_entries);
        let ranked = history.entries(feed, paging.page(number)?);
        let newest = |ranked: &[Ranked]| ranked.iter().map(|r| r.head.updated).max();
        let updated = newest(&ranked)
            .or_else(|| {
                let before = paging.page(number - 1)?;
                newest(&history.entries(feed, before))
            })
            .unwrap_or(DateTime::UNIX_EPOCH.fixed_offset());
        Some((paging, ranked, updated))
    }

    /// Page `number` of feed `feed`, its articles read from the seeds.
    pub fn read(
        config: &Config,
        seeds_dir: &std::path::Path,
        parser: &SeedParser<'_>,
        history: &History,
        feed: usize,
        number: usize,
    ) -> Option<Page> {
        let (paging, ranked, updated) = Self::locate(config, history, feed, number)?;
        let articles = ranked
            .iter()
            .map(|r| read_ranked(config, seeds_dir, parser, r))
            .collect();
        Some(Page {
            feed,
            number,
            paging,
            ranked,
            articles,
            updated,
        })
    }

    /// The text of its document of kind `listing`.
    pub fn render(&self, config: &Config, listing: Listing) -> String {
        let entries = self
            .ranked
            .iter()
            .zip(&self.articles)
            .enumerate()
            .filter_map(|(position, (ranked, article))| {
                Some(Entry {
                    article: &**article.as_ref()?,
                    position,
                    categories: select::categories(config, &ranked.topics),
                })
            })
            .collect();
        let place = Place::Archived {
            number: self.number,
            pages: self.paging.pages(),
        };
        let view = select::feed_view(
            config,
            self.feed,
            entries,
            self.paging.total,
            self.updated,
            place,
        );
        let site = SiteView {
            site: &config.site,
            feeds: Vec::new(),
        };
        listing.render(&site, &view)
    }

    /// Whether the page is full: its entries change only when one of its
    /// own articles does.
    pub fn is_closed(&self) -> bool {
        self.paging.is_closed(self.number)
    }

    /// The date of its documents.
    pub fn updated(&self) -> DateTime<Utc> {
        self.updated.to_utc()
    }
}

/// The `Cache-Control` of a closed page's documents: they never change
/// unless one of their old articles is edited.
fn lasting_cache_control(config: &Config) -> String {
    format!(
        "public, max-age={}, stale-if-error={}",
        config.http.archive_max_age, config.http.stale_if_error
    )
}

/// The server's archive documents and history pages of one catalog
/// generation, rendered when asked for.
#[derive(Debug)]
pub struct ArchiveShelf {
    config: Arc<Config>,
    seeds_dir: PathBuf,
    history: History,
    /// The moment the catalog is served from: no document is dated later.
    now: DateTime<Utc>,
    /// Shared by every generation, so a page that did not change is not
    /// made again after a reload.
    cache: Arc<Cache>,
}

impl ArchiveShelf {
    /// The shelf of a catalog made of `history`, taking over the cache of
    /// the `previous` generation's shelf, if any.
    pub fn new(
        config: &Config,
        seeds_dir: PathBuf,
        history: History,
        now: DateTime<Utc>,
        previous: Option<&dyn Shelf>,
    ) -> Self {
        let cache = previous
            .and_then(|shelf| shelf.as_any().downcast_ref::<ArchiveShelf>())
            .map_or_else(Arc::default, |shelf| Arc::clone(&shelf.cache));
        Self {
            config: Arc::new(config.clone()),
            seeds_dir,
            history,
            now,
            cache,
        }
    }

    fn feed_index(&self, slug: &str) -> Option<usize> {
        if slug == ALL_SLUG {
            return Some(0);
        }
        let topic = self.config.topics.iter().position(|t| t.slug == slug)?;
        Some(topic + 1)
    }
}

impl ArchiveShelf {
    /// Archive page `wanted` of a feed, in one format or as its history
    /// page.
    fn archive_document(&self, path: &str, wanted: ArchivePath<'_>) -> Option<Shelved> {
        let feed = self.feed_index(wanted.slug)?;
        let (paging, ranked, updated) =
            Page::locate(&self.config, &self.history, feed, wanted.number)?;
        let listing = wanted.format.map_or(Listing::TopicPage, Listing::Feed);
        let made_of = MadeOf {
            config: Arc::clone(&self.config),
            ranked,
            pages: paging.pages(),
            updated,
        };
        self.shelve(path, made_of, |made_of| {
            let parser = SeedParser::new(&self.config);
            let page = Page {
                feed,
                number: wanted.number,
                paging,
                articles: made_of
                    .ranked
                    .iter()
                    .map(|r| read_ranked(&self.config, &self.seeds_dir, &parser, r))
                    .collect(),
                ranked: made_of.ranked.clone(),
                updated,
            };
            let (content_type, cross_origin) = match listing {
                Listing::Feed(format) => (format.content_type(), true),
                Listing::TopicPage | Listing::Home => (layout::HTML_CONTENT_TYPE, false),
            };
            let made = Made {
                text: page.render(&self.config, listing),
                content_type,
                cross_origin,
                updated: page.updated(),
                cache_control: page
                    .is_closed()
                    .then(|| lasting_cache_control(&self.config)),
            };
            Some(made)
        })
    }

    /// The page of the article whose slug is `slug`.
    fn article_page(&self, path: &str, slug: &str) -> Option<Shelved> {
        let ranked = self.history.article(slug)?;
        let made_of = MadeOf {
            config: Arc::clone(&self.config),
            ranked: vec![ranked.clone()],
            pages: 0,
            updated: ranked.head.updated,
        };
        self.shelve(path, made_of, |made_of| {
            let parser = SeedParser::new(&self.config);
            let ranked = &made_of.ranked[0];
            let article = read_ranked(&self.config, &self.seeds_dir, &parser, ranked)?;
            let categories = select::categories(&self.config, &ranked.topics);
            Some(Made {
                text: render_article_page(&self.config.site, &article, &categories),
                content_type: layout::HTML_CONTENT_TYPE,
                cross_origin: false,
                updated: article.updated.to_utc(),
                cache_control: None,
            })
        })
    }

    /// The document at `path` made of `made_of`: the cached one while it
    /// is made of the same, else made now by `make` (in turn with other
    /// requests) and cached.
    fn shelve(
        &self,
        path: &str,
        made_of: MadeOf,
        make: impl FnOnce(&MadeOf) -> Option<Made>,
    ) -> Option<Shelved> {
        if let Some(shelved) = self.cache.get(path, &made_of) {
            return Some(shelved);
        }
        let turn = self.cache.turn();
        let made = make(&made_of)?;
        drop(turn);
        let last_modified =
            self.cache
                .last_modified(path, &made.text, made.updated.min(self.now), self.now);
        let document = Document::build(
            made.content_type,
            made.cross_origin,
            made.text.into(),
            last_modified,
            Compression::GzipOnly,
        );
        let shelved = Shelved {
            document: Arc::new(document),
            cache_control: made.cache_control,
        };
        self.cache.put(path, made_of, shelved.clone());
        Some(shelved)
    }
}

/// A document made for the shelf, before its validators and variants.
struct Made {
    text: String,
    content_type: &'static str,
    cross_origin: bool,
    updated: DateTime<Utc>,
    cache_control: Option<String>,
}

impl Shelf for ArchiveShelf {
    fn find(&self, path: &str) -> Option<Shelved> {
        if let Some(slug) = layout::article_page_slug(path) {
            return self.article_page(path, slug);
        }
        self.archive_document(path, ArchivePath::parse(path)?)
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// What a cached document was made of.
#[derive(Debug)]
struct MadeOf {
    config: Arc<Config>,
    ranked: Vec<Ranked>,
    pages: usize,
    updated: DateTime<FixedOffset>,
}

impl MadeOf {
    /// Made of the same records (the cache holds them, so a pointer cannot
    /// be reused by another record while this compares) under the same
    /// config.
    fn same(&self, other: &MadeOf) -> bool {
        self.pages == other.pages
            && self.updated == other.updated
            && self.ranked.len() == other.ranked.len()
            && self
                .ranked
                .iter()
                .zip(&other.ranked)
                .all(|(a, b)| Arc::ptr_eq(&a.head, &b.head) && Arc::ptr_eq(&a.topics, &b.topics))
            && (Arc::ptr_eq(&self.config, &other.config) || self.config == other.config)
    }
}

/// Documents made, least recently used first out, within `CACHE_BYTES`;
/// and the turns to make one, as many at once as there are cores, so
/// requests for many pages cannot take every core for rendering.
#[derive(Debug, Default)]
pub struct Cache {
    kept: Mutex<Kept>,
    /// By a hash of the path: a hash of the bytes last made for it and the
    /// Last-Modified they got.
    dated: Mutex<std::collections::HashMap<u64, (u64, DateTime<Utc>)>>,
    rendering: Mutex<usize>,
    turn_free: Condvar,
}

#[derive(Debug)]
struct Kept {
    documents: lru::LruCache<String, (MadeOf, Shelved)>,
    bytes: usize,
}

impl Default for Kept {
    fn default() -> Self {
        Self {
            documents: lru::LruCache::unbounded(),
            bytes: 0,
        }
    }
}

/// A turn to render; the next waiting request gets it when this drops.
struct Turn<'c>(&'c Cache);

impl Drop for Turn<'_> {
    fn drop(&mut self) {
        *lock(&self.0.rendering) -= 1;
        self.0.turn_free.notify_one();
    }
}

fn size(shelved: &Shelved) -> usize {
    let document = &shelved.document;
    document.identity.len()
        + document.gzip.as_ref().map_or(0, |b| b.len())
        + document.brotli.as_ref().map_or(0, |b| b.len())
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Cache {
    /// The Last-Modified of `text` made for `path`: `dated` (whole
    /// seconds) the first time, the date given before while the bytes are
    /// the same, and a later one when they are not, as far as `now` allows
    /// (the catalog's rule, `publish::complete`).
    fn last_modified(
        &self,
        path: &str,
        text: &str,
        dated: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> DateTime<Utc> {
        let whole = |at: DateTime<Utc>| DateTime::from_timestamp(at.timestamp(), 0).unwrap_or(at);
        let bytes = xxhash_rust::xxh3::xxh3_64(text.as_bytes());
        let mut given = lock(&self.dated);
        let key = xxhash_rust::xxh3::xxh3_64(path.as_bytes());
        let last_modified = match given.get(&key) {
            Some(&(before, at)) if before == bytes => at,
            Some(&(_, at)) => whole(dated.max(at + chrono::TimeDelta::seconds(1)).min(now)).max(at),
            None => whole(dated),
        };
        given.insert(key, (bytes, last_modified));
        last_modified
    }

    fn get(&self, path: &str, made_of: &MadeOf) -> Option<Shelved> {
        let mut kept = lock(&self.kept);
        match kept.documents.get(path) {
            Some((was, shelved)) if was.same(made_of) => Some(shelved.clone()),
            _ => None,
        }
    }

    fn put(&self, path: &str, made_of: MadeOf, shelved: Shelved) {
        let mut kept = lock(&self.kept);
        kept.bytes += size(&shelved);
        if let Some((_, before)) = kept.documents.put(path.to_string(), (made_of, shelved)) {
            kept.bytes -= size(&before);
        }
        while kept.bytes > CACHE_BYTES {
            let Some((_, (_, dropped))) = kept.documents.pop_lru() else {
                break;
            };
            kept.bytes -= size(&dropped);
        }
    }

    fn turn(&self) -> Turn<'_> {
        let mut rendering = lock(&self.rendering);
        while *rendering >= cores::cores() {
            rendering = self
                .turn_free
                .wait(rendering)
                .unwrap_or_else(|poisoned| poisoned.into_inner());
        }
        *rendering += 1;
        Turn(self)
    }
}
