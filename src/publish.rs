//! The pipeline: seeds and config in, a [`Catalog`] out.
//!
//! This is the one place that knows the whole flow: ingest the seeds,
//! classify every article, select and sort each feed's entries, render every
//! document of the URL layout, and store it with its validators. The static
//! build ([`crate::build`]) streams the same selection, view, frames and
//! entry texts into files instead of a catalog, so the bytes on the wire and
//! on disk are the same.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;
use std::sync::Arc;

use chrono::{DateTime, FixedOffset, TimeDelta, Utc};

use crate::catalog::{Catalog, Compression, Document};
use crate::config::{Config, ALL_SLUG};
use crate::cores;
use crate::diagnostic::Diagnostic;
use crate::error::Result;
use crate::index::SeedIndex;
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
    Ok(catalog(config, &mut index, generation, None, compression))
}

/// Renders the catalog of an index: takes the articles some document shows
/// from the index's running selection, has the index load their bodies,
/// then renders (see [`assemble`]). Nothing here visits every article, so a
/// reload costs what the feeds show, not what the archive holds.
pub fn catalog(
    config: &Config,
    index: &mut SeedIndex,
    generation: u64,
    previous: Option<&Catalog>,
    compression: Compression,
) -> Catalog {
    let (shown, selection) = index.selection(config);
    let paths: HashSet<&str> = shown.iter().map(|a| a.article().source.as_str()).collect();
    index.hydrate(config, &paths);
    let site = view(config, &shown, &selection, |position| {
        Cow::Borrowed(shown[position].topic_indexes())
    });
    let catalog = Catalog::new(generation, selection.feeds[0].total, index.diagnostics());
    render_catalog(&site, &shown, catalog, previous, compression)
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
    let catalog = Catalog::new(generation, articles.len(), diagnostics);
    render_catalog(&site, articles, catalog, previous, compression)
}

/// Renders every document of `site` into `catalog` (empty, with its
/// generation and counts).
fn render_catalog<P: Placed>(
    site: &SiteView<'_>,
    articles: &[P],
    mut catalog: Catalog,
    previous: Option<&Catalog>,
    compression: Compression,
) -> Catalog {
    let texts = entry_texts(site, articles);
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
    let documents = cores::as_free(&jobs, |job| {
        complete(job.render(site, &texts), previous, compression)
    });
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
    cores::in_shares(&shown, |&(position, entry)| {
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

/// Which articles every feed shows, by position in an article list: `all`
/// first, then the configured topics in file order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selection {
    pub feeds: Vec<Chosen>,
    /// The newest `updated` of every published article (the date of an
    /// empty feed), or the Unix epoch when there is none.
    pub newest: DateTime<FixedOffset>,
}

/// The entries of one feed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chosen {
    /// Newest first (ties broken by id), at most `max_entries`.
    pub positions: Vec<usize>,
    /// Articles in the feed before the cut.
    pub total: usize,
}

/// Selects, sorts and cuts the entries of every feed, then makes the view.
pub fn site_view<'a, P: Placed>(config: &'a Config, articles: &'a [P]) -> SiteView<'a> {
    let matcher = Matcher::new(&config.topics);
    let topics: Vec<Cow<'a, [usize]>> = articles.iter().map(|a| a.topics(&matcher)).collect();
    let selection = select(config, articles, &topics);
    view(config, articles, &selection, |position| {
        topics[position].clone()
    })
}

/// Chooses every feed's entries among all `articles` (`topics` are theirs).
/// Only the newest `max_entries` are sorted: selecting them is linear, so a
/// feed of an archive of 100,000 articles costs little more than one of 50.
fn select<P: Placed>(config: &Config, articles: &[P], topics: &[Cow<'_, [usize]>]) -> Selection {
    let newest = articles
        .iter()
        .map(|a| a.article().updated)
        .max()
        .unwrap_or(DateTime::UNIX_EPOCH.fixed_offset());
    let choose = |member: &dyn Fn(&[usize]) -> bool| {
        let mut positions: Vec<usize> = (0..articles.len())
            .filter(|&position| member(&topics[position]))
            .collect();
        let total = positions.len();
        let order =
            |a: &usize, b: &usize| newest_first(articles[*a].article(), articles[*b].article());
        let max = config.site.max_entries;
        if positions.len() > max {
            positions.select_nth_unstable_by(max - 1, order);
            positions.truncate(max);
        }
        positions.sort_by(order);
        Chosen { positions, total }
    };
    let mut feeds = vec![choose(&|_| true)];
    for index in 0..config.topics.len() {
        feeds.push(choose(&|topics| topics.contains(&index)));
    }
    Selection { feeds, newest }
}

/// The feeds of `selection` over `articles`, ready to render; `topics`
/// gives the topics of the article at a position.
pub fn view<'a, P: Placed>(
    config: &'a Config,
    articles: &'a [P],
    selection: &Selection,
    topics: impl Fn(usize) -> Cow<'a, [usize]>,
) -> SiteView<'a> {
    let categories = |indexes: &[usize]| -> Vec<Category<'a>> {
        indexes
            .iter()
            .map(|&index| Category {
                slug: &config.topics[index].slug,
                title: &config.topics[index].title,
            })
            .collect()
    };
    let feed = |chosen: &Chosen, slug: &'a str, name: &str, title: String, description: String| {
        let entries: Vec<Entry<'a>> = chosen
            .positions
            .iter()
            .map(|&position| Entry {
                article: articles[position].article(),
                position,
                categories: categories(&topics(position)),
            })
            .collect();
        let updated = entries
            .iter()
            .map(|e| e.article.updated)
            .max()
            .unwrap_or(selection.newest);
        FeedView {
            site: &config.site,
            slug,
            name: name.to_string(),
            title,
            description,
            entries,
            total: chosen.total,
            updated,
        }
    };

    let mut feeds = vec![feed(
        &selection.feeds[0],
        ALL_SLUG,
        &config.site.title,
        config.site.title.clone(),
        if config.site.description.is_empty() {
            format!("Every article of {}", config.site.title)
        } else {
            config.site.description.clone()
        },
    )];
    for (topic, chosen) in config.topics.iter().zip(&selection.feeds[1..]) {
        feeds.push(feed(
            chosen,
            &topic.slug,
            &topic.title,
            format!("{} – {}", topic.title, config.site.title),
            if topic.description.is_empty() {
                format!("{} articles from {}", topic.title, config.site.title)
            } else {
                topic.description.clone()
            },
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
