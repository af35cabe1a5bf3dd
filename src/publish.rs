//! The pipeline: seeds and config in, a [`Catalog`] out.
//!
//! This is the one place that knows the whole flow: ingest the seeds,
//! classify every article, select and sort each feed's entries, render every
//! document of the URL layout, and store it with its validators. The server
//! and the static build both get their documents from here, so the bytes on
//! the wire and on disk are the same.

use std::path::Path;

use chrono::DateTime;

use crate::catalog::{Catalog, Document};
use crate::config::{Config, ALL_SLUG};
use crate::diagnostic::Diagnostic;
use crate::error::Result;
use crate::ingest;
use crate::layout::{self, Format};
use crate::model::Article;
use crate::render::{self, Category, Entry, FeedView, SiteView};
use crate::topics;

/// Reads `seeds_dir` and renders the whole catalog.
pub fn publish(config: &Config, seeds_dir: &Path, generation: u64) -> Result<Catalog> {
    let ingested = ingest::load(seeds_dir, config)?;
    Ok(assemble(
        config,
        &ingested.articles,
        ingested.diagnostics,
        generation,
    ))
}

/// Renders the catalog of already ingested articles.
pub fn assemble(
    config: &Config,
    articles: &[Article],
    diagnostics: Vec<Diagnostic>,
    generation: u64,
) -> Catalog {
    let site = site_view(config, articles);
    let mut catalog = Catalog::new(generation, articles.len(), diagnostics);

    for feed in &site.feeds {
        let last_modified = feed.updated.to_utc();
        for format in Format::ALL {
            let text = match format {
                Format::Rss => render::rss::render_rss(feed),
                Format::Atom => render::atom::render_atom(feed),
                Format::Json => render::json::render_json(feed),
            };
            catalog.insert(
                layout::feed_path(feed.slug, format),
                Document::new(format.content_type(), true, text, last_modified),
            );
        }
        if feed.slug != ALL_SLUG {
            catalog.insert(
                layout::topic_page_path(feed.slug),
                Document::new(
                    layout::HTML_CONTENT_TYPE,
                    false,
                    render::html::render_topic_page(&site, feed),
                    last_modified,
                ),
            );
        }
    }

    let site_updated = site.feeds[0].updated.to_utc();
    catalog.insert(
        layout::HOME_PATH,
        Document::new(
            layout::HTML_CONTENT_TYPE,
            false,
            render::html::render_home(&site),
            site_updated,
        ),
    );
    catalog.insert(
        layout::OPML_PATH,
        Document::new(
            layout::OPML_CONTENT_TYPE,
            true,
            render::opml::render_opml(&site),
            site_updated,
        ),
    );
    catalog
}

/// Selects, sorts and cuts the entries of every feed: `all` first, then the
/// configured topics in file order.
pub fn site_view<'a>(config: &'a Config, articles: &'a [Article]) -> SiteView<'a> {
    let mut order: Vec<&Article> = articles.iter().collect();
    order.sort_by(|a, b| newest_first(a, b));

    let memberships: Vec<Vec<Category<'a>>> = order
        .iter()
        .map(|article| {
            topics::classify(article, &config.topics)
                .into_iter()
                .map(|slug| {
                    let topic = config.topics.iter().find(|t| t.slug == slug);
                    Category {
                        slug,
                        title: topic.map_or(slug, |t| t.title.as_str()),
                    }
                })
                .collect()
        })
        .collect();

    let newest = order
        .iter()
        .map(|a| a.updated)
        .max()
        .unwrap_or(DateTime::UNIX_EPOCH.fixed_offset());
    let feed = |slug: &'a str, title: String, description: String, member: &dyn Fn(&[Category]) -> bool| {
        let all: Vec<Entry<'a>> = order
            .iter()
            .zip(&memberships)
            .filter(|(_, categories)| member(categories))
            .map(|(article, categories)| Entry {
                article,
                categories: categories.clone(),
            })
            .collect();
        let total = all.len();
        let entries: Vec<Entry<'a>> = all.into_iter().take(config.site.max_entries).collect();
        let updated = entries
            .iter()
            .map(|e| e.article.updated)
            .max()
            .unwrap_or(newest);
        FeedView {
            site: &config.site,
            slug,
            title,
            description,
            entries,
            total,
            updated,
        }
    };

    let mut feeds = vec![feed(
        ALL_SLUG,
        config.site.title.clone(),
        if config.site.description.is_empty() {
            format!("Every article of {}", config.site.title)
        } else {
            config.site.description.clone()
        },
        &|_| true,
    )];
    for topic in &config.topics {
        feeds.push(feed(
            &topic.slug,
            format!("{} – {}", topic.title, config.site.title),
            if topic.description.is_empty() {
                format!("{} articles from {}", topic.title, config.site.title)
            } else {
                topic.description.clone()
            },
            &|categories| categories.iter().any(|c| c.slug == topic.slug),
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
    b.published
        .cmp(&a.published)
        .then_with(|| a.id.cmp(&b.id))
}
