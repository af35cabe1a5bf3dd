//! Which article bodies the index holds: the memory policy.
//!
//! Memory must not grow with the archive. When there are more articles
//! than the feeds can show (`max_entries` times the number of feeds), the
//! index keeps of each article only its [`ArticleHead`] (what ranking
//! needs) and reads the articles some document shows again just before
//! rendering ([`SeedIndex::hydrate`]); the static build reads each as it
//! writes it ([`SeedIndex::read_whole`]). Below that, every body is kept,
//! so a reload reads only what changed.

use std::collections::HashSet;
use std::path::Path;
use std::sync::{Arc, OnceLock};

use crate::config::Config;
use crate::ingest::{self, SeedParser};
use crate::model::{Article, ArticleHead, ArticleId, Identified};
use crate::render::EntryTexts;

use super::SeedIndex;

/// A parsed article and the topics it is in, shared between the index and
/// the article lists made from it.
#[derive(Debug, Clone)]
pub struct Indexed {
    /// Its id, source and dates: what ranking needs, kept for as long as
    /// the record lives (the ranking shares it).
    pub(super) head: Arc<ArticleHead>,
    /// The whole article once it is loaded; shared, so that loading it
    /// through the index shows in lists already made.
    pub(super) whole: Arc<OnceLock<Arc<Article>>>,
    pub(super) topics: Arc<[usize]>,
    /// The entry texts, once rendered from the whole article; shared like
    /// `whole`, and let go of with it.
    texts: Arc<OnceLock<Arc<EntryTexts>>>,
}

impl Indexed {
    pub(super) fn new(article: Article, topics: Arc<[usize]>, keep_body: bool) -> Self {
        let whole = Arc::new(OnceLock::new());
        let head = Arc::new(article.head());
        if keep_body {
            let _ = whole.set(Arc::new(article));
        }
        Self {
            head,
            whole,
            topics,
            texts: Arc::default(),
        }
    }

    /// What ranking needs of the article.
    pub fn head(&self) -> &ArticleHead {
        &self.head
    }

    /// The whole article, when it is loaded.
    pub fn whole(&self) -> Option<&Article> {
        self.whole.get().map(|whole| &**whole)
    }

    /// Indexes into the configured topics, in config order.
    pub fn topic_indexes(&self) -> &[usize] {
        &self.topics
    }

    /// The entry texts of the whole article, made by `render` the first
    /// time and kept while the body is held, so that a reload renders only
    /// the articles that changed.
    pub fn entry_texts(&self, render: impl FnOnce() -> EntryTexts) -> Arc<EntryTexts> {
        Arc::clone(self.texts.get_or_init(|| Arc::new(render())))
    }

    pub(super) fn is_whole(&self) -> bool {
        self.whole.get().is_some()
    }

    /// The same article with only its head kept.
    fn without_body(&self) -> Self {
        Self {
            head: Arc::clone(&self.head),
            whole: Arc::new(OnceLock::new()),
            topics: Arc::clone(&self.topics),
            texts: Arc::default(),
        }
    }
}

impl Identified for Indexed {
    fn id(&self) -> &ArticleId {
        &self.head.id
    }

    fn source(&self) -> &str {
        &self.head.source
    }
}

impl SeedIndex {
    /// Loads the bodies of the articles at `shown` (paths under the seeds
    /// folder) that are held without one, and, when there are more articles
    /// than the feeds can show, lets go of every other body. The bodies
    /// appear in the article lists already made by [`SeedIndex::selection`].
    /// A file that changed since it was indexed gives its new body; the
    /// watcher's event for that change brings the rest up to date.
    pub fn hydrate(&mut self, config: &Config, shown: &HashSet<&str>) {
        // Only the shown articles and those held whole are visited, so the
        // cost follows the feeds' size, not the archive's.
        let parser = SeedParser::new(config);
        for relative in shown {
            let Some(record) = self.records.get_mut(*relative) else {
                continue;
            };
            let Some(indexed) = &mut record.article else {
                continue;
            };
            if !indexed.is_whole() {
                let article =
                    read_article(config, &self.seeds_dir, &parser, &record.display, relative);
                if let Some(article) = article {
                    let _ = indexed.whole.set(Arc::new(article));
                }
            }
            if indexed.is_whole() {
                self.whole.insert((*relative).to_owned());
            }
        }
        if self.records.len() <= showable(config) {
            return;
        }
        let unshown: Vec<String> = self
            .whole
            .iter()
            .filter(|relative| !shown.contains(relative.as_str()))
            .cloned()
            .collect();
        for relative in unshown {
            self.whole.remove(&relative);
            if let Some(indexed) = self
                .records
                .get_mut(&relative)
                .and_then(|r| r.article.as_mut())
            {
                *indexed = indexed.without_body();
            }
        }
    }

    /// The whole article of `indexed`: the one held, or the file read and
    /// parsed again. `None` when the file no longer gives an article (it
    /// changed or went away since it was indexed).
    pub fn read_whole(
        &self,
        config: &Config,
        parser: &SeedParser<'_>,
        indexed: &Indexed,
    ) -> Option<Arc<Article>> {
        if let Some(whole) = indexed.whole.get() {
            return Some(Arc::clone(whole));
        }
        let relative = indexed.head.source.as_str();
        let display = ingest::display_path(&self.seeds_dir, relative);
        read_article(config, &self.seeds_dir, parser, &display, relative).map(Arc::new)
    }
}

/// The article in the seed file at `relative`, if it still gives one.
pub(super) fn read_article(
    config: &Config,
    seeds_dir: &Path,
    parser: &SeedParser<'_>,
    display: &str,
    relative: &str,
) -> Option<Article> {
    let folder = ingest::SeedsFolder::locate(seeds_dir);
    let bytes = ingest::read_seed(&folder, relative, display, config.seeds.max_file_bytes).ok()?;
    parser.parse(display, relative, &bytes).0
}

/// How many articles the feeds can show at most: above this, bodies are
/// loaded only for the articles shown.
pub(super) fn showable(config: &Config) -> usize {
    config
        .site
        .max_entries
        .saturating_mul(config.topics.len() + 1)
}
