//! Every feed's whole history, as a snapshot that requests can read while
//! the index goes on changing.
//!
//! The subscription documents show the newest entries; archive documents
//! and history pages ([`crate::archive`]) show every older one, and at
//! 100,000 articles those are too many documents to render at every
//! reload or hold in memory. So the server renders one when it is asked
//! for, from a [`History`] taken with the catalog it belongs to: the
//! rankings are persistent sets, so taking one costs a pointer copy per
//! feed, and it stays exactly the generation it was taken with. The same
//! goes for the article pages (`/articles/{slug}/`), found by slug.

use std::cmp::Ordering;
use std::ops::Range;
use std::path::Path;
use std::sync::Arc;

use imbl::{OrdMap, OrdSet};

use super::bodies::read_article;
use super::SeedIndex;
use crate::config::Config;
use crate::ingest::{self, SeedParser};
use crate::model::{Article, ArticleHead};
use crate::select;

/// Every feed's published articles in feed order: `all` first, then the
/// configured topics.
#[derive(Debug, Clone)]
pub struct History {
    feeds: Vec<OrdSet<Ranked>>,
    /// Every published article by the slug of its page and its path.
    pages: OrdMap<(String, String), Ranked>,
}

impl History {
    pub(super) fn new(feeds: Vec<OrdSet<Ranked>>, pages: OrdMap<(String, String), Ranked>) -> Self {
        Self { feeds, pages }
    }

    /// The article whose page is `/articles/{slug}/`: of the articles whose
    /// paths give that slug, the first by path.
    pub fn article(&self, slug: &str) -> Option<&Ranked> {
        let from = (slug.to_string(), String::new());
        let ((found, _), ranked) = self.pages.range(from..).next()?;
        (found == slug).then_some(ranked)
    }

    /// Every article that has a page, with the slug of its page, in slug
    /// order.
    pub fn articles(&self) -> impl Iterator<Item = (&str, &Ranked)> {
        let mut previous: Option<&str> = None;
        self.pages.iter().filter_map(move |((slug, _), ranked)| {
            let first = previous != Some(slug.as_str());
            previous = Some(slug);
            first.then_some((slug.as_str(), ranked))
        })
    }

    /// Articles in feed `feed`.
    pub fn total(&self, feed: usize) -> usize {
        self.feeds.get(feed).map_or(0, OrdSet::len)
    }

    /// The articles at `positions` of feed `feed`, newest first. Walks
    /// from whichever end of the feed is nearer.
    pub fn entries(&self, feed: usize, positions: Range<usize>) -> Vec<Ranked> {
        let Some(ranked) = self.feeds.get(feed) else {
            return Vec::new();
        };
        let end = positions.end.min(ranked.len());
        let start = positions.start.min(end);
        if start <= ranked.len() - end {
            ranked
                .iter()
                .skip(start)
                .take(end - start)
                .cloned()
                .collect()
        } else {
            let mut entries: Vec<Ranked> = ranked
                .iter()
                .rev()
                .skip(ranked.len() - end)
                .take(end - start)
                .cloned()
                .collect();
            entries.reverse();
            entries
        }
    }
}

/// A published article in a feed, with its topics; ordered as feeds list
/// entries: newest published first, ties broken by id.
#[derive(Debug, Clone)]
pub struct Ranked {
    pub head: Arc<ArticleHead>,
    /// Indexes into the configured topics, in config order.
    pub topics: Arc<[usize]>,
}

impl Ord for Ranked {
    fn cmp(&self, other: &Self) -> Ordering {
        select::newest_first(&self.head, &other.head)
    }
}

impl PartialOrd for Ranked {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Ranked {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Ranked {}

impl SeedIndex {
    /// The history of every feed of `config` as the index holds it now.
    pub fn history(&self, config: &Config) -> History {
        self.ranking.history(config.topics.len() + 1)
    }
}

/// The whole article of `ranked`, read from its seed file under
/// `seeds_dir`; `None` when the file no longer gives an article.
pub fn read_ranked(
    config: &Config,
    seeds_dir: &Path,
    parser: &SeedParser<'_>,
    ranked: &Ranked,
) -> Option<Arc<Article>> {
    let relative = ranked.head.source.as_str();
    let display = ingest::display_path(seeds_dir, relative);
    read_article(config, seeds_dir, parser, &display, relative).map(Arc::new)
}
