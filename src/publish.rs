//! The pipeline: seeds and config in, a [`Catalog`] out.
//!
//! This is the one place that knows the whole flow: ingest the seeds,
//! classify every article, select and sort each feed's entries, render every
//! document of the URL layout, and store it with its validators. The server
//! and the static build both get their documents from here, so the bytes on
//! the wire and on disk are the same.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use chrono::{DateTime, TimeDelta, Utc};

use crate::catalog::{Catalog, Compression, Document};
use crate::config::{Config, ALL_SLUG};
use crate::diagnostic::Diagnostic;
use crate::error::Result;
use crate::index::SeedIndex;
use crate::ingest;
use crate::layout::{self, Format};
use crate::model::Article;
use crate::render::{self, Category, Entry, EntryTexts, FeedView, Listing, SiteView};
use crate::topics::Matcher;

/// Reads `seeds_dir` and renders the whole catalog.
pub fn publish(
    config: &Config,
    seeds_dir: &Path,
    generation: u64,
    compression: Compression,
) -> Result<Catalog> {
    let mut index = SeedIndex::new(seeds_dir.to_path_buf());
    index.rescan(config)?;
    Ok(assemble_index(
        config,
        &mut index,
        generation,
        None,
        compression,
    ))
}

/// Renders the catalog of an index: finds the articles some document shows,
/// has the index load their bodies, then renders (see [`assemble`]).
pub fn assemble_index(
    config: &Config,
    index: &mut SeedIndex,
    generation: u64,
    previous: Option<&Catalog>,
    compression: Compression,
) -> Catalog {
    let ingested = index.ingested();
    let site = site_view(config, &ingested.articles);
    let shown: HashSet<&str> = site
        .feeds
        .iter()
        .flat_map(|feed| &feed.entries)
        .map(|entry| entry.article.source.as_str())
        .collect();
    index.hydrate(config, &shown);
    drop(site);
    assemble(
        config,
        &ingested.articles,
        ingested.diagnostics,
        generation,
        previous,
        compression,
    )
}

/// A rendered document before it gets its validators and variants.
struct Rendered {
    path: String,
    content_type: &'static str,
    cross_origin: bool,
    text: String,
    /// When its content last changed, by the dates in it.
    updated: DateTime<Utc>,
}

/// Renders the catalog of already ingested articles.
///
/// With a `previous` catalog (a reload), a document whose bytes did not
/// change is taken over as it was, validators and compressed variants
/// included, and one whose bytes changed gets a Last-Modified later than its
/// previous one even when its newest date went back (an article deleted or an
/// older one added): validators only ever move forward while a server runs.
pub fn assemble<P: Placed>(
    config: &Config,
    articles: &[P],
    diagnostics: Vec<Diagnostic>,
    generation: u64,
    previous: Option<&Catalog>,
    compression: Compression,
) -> Catalog {
    let site = site_view(config, articles);
    let texts = entry_texts(&site, articles);
    let mut jobs: Vec<Job<'_, '_>> = Vec::with_capacity(site.feeds.len() * 4 + 2);
    for feed in &site.feeds {
        jobs.extend(Format::ALL.map(|format| Job::Listing(Listing::Feed(format), feed)));
        if feed.slug == ALL_SLUG {
            jobs.push(Job::Listing(Listing::Home, feed));
        } else {
            jobs.push(Job::Listing(Listing::TopicPage, feed));
        }
    }
    jobs.push(Job::Opml);

    // Each document is put together, compared with its previous version and
    // compressed by whichever core is free.
    let next = AtomicUsize::new(0);
    let work = || {
        let mut done = Vec::new();
        while let Some(job) = jobs.get(next.fetch_add(1, Ordering::Relaxed)) {
            done.push(complete(job.render(&site, &texts), previous, compression));
        }
        done
    };
    let workers = std::thread::available_parallelism().map_or(1, usize::from);
    let documents: Vec<(String, Document)> = std::thread::scope(|scope| {
        let helpers: Vec<_> = (1..workers).map(|_| scope.spawn(work)).collect();
        let mut documents = work();
        for helper in helpers {
            documents.extend(helper.join().expect("rendering does not panic"));
        }
        documents
    });
    let mut catalog = Catalog::new(generation, articles.len(), diagnostics);
    for (path, document) in documents {
        catalog.insert(path, document);
    }
    catalog
}

/// The entry texts of every article some document shows, by position in
/// `articles`: rendered once each (or taken from the article's cache), on
/// every core.
fn entry_texts<P: Placed>(site: &SiteView<'_>, articles: &[P]) -> HashMap<usize, Arc<EntryTexts>> {
    let mut shown: BTreeMap<usize, &Entry<'_>> = BTreeMap::new();
    for feed in &site.feeds {
        for entry in &feed.entries {
            shown.entry(entry.position).or_insert(entry);
        }
    }
    let shown: Vec<(usize, &Entry<'_>)> = shown.into_iter().collect();
    ingest::on_every_core(&shown, |&(position, entry)| {
        let texts = articles[position].entry_texts(&|| EntryTexts::render(site.site, entry));
        (position, texts)
    })
    .into_iter()
    .collect()
}

/// One document of the URL layout to render.
#[derive(Debug, Clone, Copy)]
enum Job<'s, 'a> {
    Listing(Listing, &'s FeedView<'a>),
    Opml,
}

impl Job<'_, '_> {
    fn render(self, site: &SiteView<'_>, texts: &HashMap<usize, Arc<EntryTexts>>) -> Rendered {
        match self {
            Job::Listing(listing, feed) => {
                let frame = listing.frame(site, feed);
                let entries = feed
                    .entries
                    .iter()
                    .map(|entry| texts[&entry.position].get(listing));
                Rendered {
                    path: listing_path(listing, feed),
                    content_type: listing_content_type(listing),
                    cross_origin: matches!(listing, Listing::Feed(_)),
                    text: frame.assemble(entries),
                    updated: listing_updated(listing, site, feed),
                }
            }
            Job::Opml => Rendered {
                path: layout::OPML_PATH.to_string(),
                content_type: layout::OPML_CONTENT_TYPE,
                cross_origin: true,
                text: render::opml::render_opml(site),
                updated: site.feeds[0].updated.to_utc(),
            },
        }
    }
}

/// Where a listing document is in the URL layout.
pub(crate) fn listing_path(listing: Listing, feed: &FeedView<'_>) -> String {
    match listing {
        Listing::Feed(format) => layout::feed_path(feed.slug, format),
        Listing::TopicPage => layout::topic_page_path(feed.slug),
        Listing::Home => layout::HOME_PATH.to_string(),
    }
}

pub(crate) fn listing_content_type(listing: Listing) -> &'static str {
    match listing {
        Listing::Feed(format) => format.content_type(),
        Listing::TopicPage | Listing::Home => layout::HTML_CONTENT_TYPE,
    }
}

/// When a listing document's content last changed: its feed's newest
/// date; for the home page, which also lists every feed, the site's.
pub(crate) fn listing_updated(
    listing: Listing,
    site: &SiteView<'_>,
    feed: &FeedView<'_>,
) -> DateTime<Utc> {
    match listing {
        Listing::Home => site.feeds[0].updated.to_utc(),
        _ => feed.updated.to_utc(),
    }
}

/// Gives a rendered document its validators and compressed variants: the
/// previous catalog's document as it was when the bytes are the same, else
/// a new one whose Last-Modified is later than the previous one's.
fn complete(
    rendered: Rendered,
    previous: Option<&Catalog>,
    compression: Compression,
) -> (String, Document) {
    let prior = previous.and_then(|catalog| catalog.get(&rendered.path));
    if let Some(prior) = prior {
        if prior.content_type == rendered.content_type
            && prior.digest == Document::digest_of(rendered.text.as_bytes())
        {
            return (rendered.path, prior.clone());
        }
    }
    let last_modified = match prior {
        Some(prior) => rendered
            .updated
            .max(prior.last_modified + TimeDelta::seconds(1)),
        None => rendered.updated,
    };
    let document = Document::build(
        rendered.content_type,
        rendered.cross_origin,
        rendered.text.into(),
        last_modified,
        compression,
    );
    (rendered.path, document)
}

/// An article with the configured topics it is in and its entry texts.
/// Plain articles are classified and rendered when the pipeline asks; a live
/// index answers from its cache, so a reload neither classifies nor renders
/// the articles that did not change.
pub trait Placed: Sync {
    fn article(&self) -> &Article;
    /// Indexes into the configured topics, in config order.
    fn topics(&self, matcher: &Matcher) -> Cow<'_, [usize]>;
    /// The article's entry texts, made by `render` unless cached.
    fn entry_texts(&self, render: &dyn Fn() -> EntryTexts) -> Arc<EntryTexts>;
}

impl Placed for Article {
    fn article(&self) -> &Article {
        self
    }

    fn topics(&self, matcher: &Matcher) -> Cow<'_, [usize]> {
        Cow::Owned(matcher.classify(self))
    }

    fn entry_texts(&self, render: &dyn Fn() -> EntryTexts) -> Arc<EntryTexts> {
        Arc::new(render())
    }
}

/// Selects, sorts and cuts the entries of every feed: `all` first, then the
/// configured topics in file order.
pub fn site_view<'a, P: Placed>(config: &'a Config, articles: &'a [P]) -> SiteView<'a> {
    let matcher = Matcher::new(&config.topics);
    let placed: Vec<(&'a Article, Cow<'a, [usize]>, usize)> = articles
        .iter()
        .enumerate()
        .map(|(position, placed)| (placed.article(), placed.topics(&matcher), position))
        .collect();

    let newest = placed
        .iter()
        .map(|(a, _, _)| a.updated)
        .max()
        .unwrap_or(DateTime::UNIX_EPOCH.fixed_offset());
    let categories = |indexes: &[usize]| -> Vec<Category<'a>> {
        indexes
            .iter()
            .map(|&index| Category {
                slug: &config.topics[index].slug,
                title: &config.topics[index].title,
            })
            .collect()
    };
    let feed = |slug: &'a str,
                name: &str,
                title: String,
                description: String,
                member: &dyn Fn(&[usize]) -> bool| {
        // Only the newest `max_entries` are sorted: selecting them is linear,
        // so a feed of an archive of 100,000 articles costs little more than
        // one of 50.
        let mut members: Vec<&(&'a Article, Cow<'a, [usize]>, usize)> = placed
            .iter()
            .filter(|(_, topics, _)| member(topics))
            .collect();
        let total = members.len();
        let order = |a: &&(&Article, Cow<[usize]>, usize), b: &&(&Article, Cow<[usize]>, usize)| {
            newest_first(a.0, b.0)
        };
        let max = config.site.max_entries;
        if members.len() > max {
            members.select_nth_unstable_by(max - 1, order);
            members.truncate(max);
        }
        members.sort_by(order);
        let entries: Vec<Entry<'a>> = members
            .into_iter()
            .map(|(article, topics, position)| Entry {
                article,
                position: *position,
                categories: categories(topics),
            })
            .collect();
        let updated = entries
            .iter()
            .map(|e| e.article.updated)
            .max()
            .unwrap_or(newest);
        FeedView {
            site: &config.site,
            slug,
            name: name.to_string(),
            title,
            description,
            entries,
            total,
            updated,
        }
    };

    let mut feeds = vec![feed(
        ALL_SLUG,
        &config.site.title,
        config.site.title.clone(),
        if config.site.description.is_empty() {
            format!("Every article of {}", config.site.title)
        } else {
            config.site.description.clone()
        },
        &|_| true,
    )];
    for (index, topic) in config.topics.iter().enumerate() {
        feeds.push(feed(
            &topic.slug,
            &topic.title,
            format!("{} – {}", topic.title, config.site.title),
            if topic.description.is_empty() {
                format!("{} articles from {}", topic.title, config.site.title)
            } else {
                topic.description.clone()
            },
            &|topics| topics.contains(&index),
        ));
    }
    SiteView {
        site: &config.site,
        feeds,
    }
}

/// Newest published first; ties broken by id so the order never depends on
/// the order files were read in.
pub(crate) fn newest_first(a: &Article, b: &Article) -> std::cmp::Ordering {
    b.published.cmp(&a.published).then_with(|| a.id.cmp(&b.id))
}
