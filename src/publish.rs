//! The pipeline: seeds and config in, a [`Catalog`] out.
//!
//! This is the one place that knows the whole flow: ingest the seeds,
//! classify every article, select and sort each feed's entries, render every
//! document of the URL layout, and store it with its validators. The server
//! and the static build both get their documents from here, so the bytes on
//! the wire and on disk are the same.

use std::borrow::Cow;
use std::collections::HashSet;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};

use chrono::{DateTime, TimeDelta, Utc};

use crate::catalog::{Catalog, Compression, Document};
use crate::config::{Config, ALL_SLUG};
use crate::diagnostic::Diagnostic;
use crate::error::Result;
use crate::index::SeedIndex;
use crate::layout::{self, Format};
use crate::model::Article;
use crate::render::{self, Category, Entry, FeedView, SiteView};
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
    let mut jobs: Vec<Job<'_, '_>> = Vec::with_capacity(site.feeds.len() * 4 + 2);
    for feed in &site.feeds {
        jobs.extend(Format::ALL.map(|format| Job::Feed(feed, format)));
        if feed.slug != ALL_SLUG {
            jobs.push(Job::TopicPage(feed));
        }
    }
    jobs.extend([Job::Home, Job::Opml]);

    // Each document is rendered, compared with its previous version and
    // compressed by whichever core is free.
    let next = AtomicUsize::new(0);
    let work = || {
        let mut done = Vec::new();
        while let Some(job) = jobs.get(next.fetch_add(1, Ordering::Relaxed)) {
            done.push(complete(job.render(&site), previous, compression));
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

/// One document of the URL layout to render.
#[derive(Debug, Clone, Copy)]
enum Job<'s, 'a> {
    Feed(&'s FeedView<'a>, Format),
    TopicPage(&'s FeedView<'a>),
    Home,
    Opml,
}

impl Job<'_, '_> {
    fn render(self, site: &SiteView<'_>) -> Rendered {
        let site_updated = site.feeds[0].updated.to_utc();
        match self {
            Job::Feed(feed, format) => Rendered {
                path: layout::feed_path(feed.slug, format),
                content_type: format.content_type(),
                cross_origin: true,
                text: match format {
                    Format::Rss => render::rss::render_rss(feed),
                    Format::Atom => render::atom::render_atom(feed),
                    Format::Json => render::json::render_json(feed),
                },
                updated: feed.updated.to_utc(),
            },
            Job::TopicPage(feed) => Rendered {
                path: layout::topic_page_path(feed.slug),
                content_type: layout::HTML_CONTENT_TYPE,
                cross_origin: false,
                text: render::html::render_topic_page(site, feed),
                updated: feed.updated.to_utc(),
            },
            Job::Home => Rendered {
                path: layout::HOME_PATH.to_string(),
                content_type: layout::HTML_CONTENT_TYPE,
                cross_origin: false,
                text: render::html::render_home(site),
                updated: site_updated,
            },
            Job::Opml => Rendered {
                path: layout::OPML_PATH.to_string(),
                content_type: layout::OPML_CONTENT_TYPE,
                cross_origin: true,
                text: render::opml::render_opml(site),
                updated: site_updated,
            },
        }
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

/// An article with the configured topics it is in. Plain articles are
/// classified when the pipeline asks; a live index answers from its cache, so
/// a reload does not classify every article again.
pub trait Placed {
    fn article(&self) -> &Article;
    /// Indexes into the configured topics, in config order.
    fn topics(&self, matcher: &Matcher) -> Cow<'_, [usize]>;
}

impl Placed for Article {
    fn article(&self) -> &Article {
        self
    }

    fn topics(&self, matcher: &Matcher) -> Cow<'_, [usize]> {
        Cow::Owned(matcher.classify(self))
    }
}

/// Selects, sorts and cuts the entries of every feed: `all` first, then the
/// configured topics in file order.
pub fn site_view<'a, P: Placed>(config: &'a Config, articles: &'a [P]) -> SiteView<'a> {
    let matcher = Matcher::new(&config.topics);
    let placed: Vec<(&'a Article, Cow<'a, [usize]>)> = articles
        .iter()
        .map(|placed| (placed.article(), placed.topics(&matcher)))
        .collect();

    let newest = placed
        .iter()
        .map(|(a, _)| a.updated)
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
        let mut members: Vec<&(&'a Article, Cow<'a, [usize]>)> =
            placed.iter().filter(|(_, topics)| member(topics)).collect();
        let total = members.len();
        let order =
            |a: &&(&Article, Cow<[usize]>), b: &&(&Article, Cow<[usize]>)| newest_first(a.0, b.0);
        let max = config.site.max_entries;
        if members.len() > max {
            members.select_nth_unstable_by(max - 1, order);
            members.truncate(max);
        }
        members.sort_by(order);
        let entries: Vec<Entry<'a>> = members
            .into_iter()
            .map(|(article, topics)| Entry {
                article,
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
fn newest_first(a: &Article, b: &Article) -> std::cmp::Ordering {
    b.published.cmp(&a.published).then_with(|| a.id.cmp(&b.id))
}
