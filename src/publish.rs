//! The pipeline: seeds and config in, a [`Catalog`] out.
//!
//! The one way a catalog is made, for `serve` (at start-up and on every
//! reload), for `check`, and for the tests: take the articles some document
//! shows from the [`SeedIndex`]'s running selection, have the index load
//! their bodies, make the [`SiteView`], and render every document of the
//! [`plan`] into the catalog with its validators. Nothing here visits every
//! article, so a reload costs what the feeds show, not what the archive
//! holds. The archive documents and history pages are the catalog's
//! [`ArchiveShelf`], rendered when first asked for. The static build ([`crate::build`]) streams the same plan, frames
//! and entry texts into files instead, so the bytes on the wire and on disk
//! are the same.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::Arc;

use chrono::{DateTime, SubsecRound as _, TimeDelta, Utc};

use crate::catalog::{Catalog, Compression, Document};
use crate::config::Config;
use crate::cores;
use crate::error::Result;
use crate::index::{Indexed, SeedIndex};
use crate::plan::{self, Content, Planned};
use crate::render::{self, EntryTexts, SiteView};
use crate::select;
use crate::shelf::ArchiveShelf;

/// Reads `seeds_dir` and renders the whole catalog, as served now.
pub fn publish(
    config: &Config,
    seeds_dir: &Path,
    generation: u64,
    compression: Compression,
) -> Result<Catalog> {
    let mut index = SeedIndex::new(seeds_dir.to_path_buf());
    index.rescan(config)?;
    Ok(catalog(
        config,
        &mut index,
        generation,
        None,
        compression,
        Utc::now(),
    ))
}

/// Renders the catalog of an index.
///
/// With a `previous` catalog (a reload), a document whose bytes did not
/// change is taken over as it was, validators and compressed variants
/// included, and one whose bytes changed gets a Last-Modified later than its
/// previous one even when its newest date went back (an article deleted or an
/// older one added): validators only ever move forward while a server runs.
///
/// No Last-Modified is later than `now`, the moment the catalog is served
/// from (RFC 9110 §8.8.2.1: never later than the response's `Date`), even
/// when an article is dated ahead of the clock.
pub fn catalog(
    config: &Config,
    index: &mut SeedIndex,
    generation: u64,
    previous: Option<&Catalog>,
    compression: Compression,
    now: DateTime<Utc>,
) -> Catalog {
    let (shown, selection) = index.selection(config);
    let paths: HashSet<&str> = shown.iter().map(|a| a.head().source.as_str()).collect();
    index.hydrate(config, &paths);
    let site = select::view(
        config,
        &selection,
        |position| shown[position].head(),
        |position| shown[position].whole(),
        |position| Cow::Borrowed(shown[position].topic_indexes()),
    );
    let texts = entry_texts(&site, &shown);
    // HTTP dates have whole seconds.
    let now = now.trunc_subsecs(0);
    // Each document is put together, compared with its previous version and
    // compressed by whichever core is free.
    let documents = cores::as_free(&plan::plan(&site), |planned| {
        let text = render(planned, &site, &texts);
        complete(planned, text, previous, compression, now)
    });
    let mut catalog = Catalog::new(generation, selection.feeds[0].total, index.diagnostics());
    for (path, document) in documents {
        catalog.insert(path, document);
    }
    let shelf = ArchiveShelf::new(
        config,
        index.seeds_dir().to_path_buf(),
        index.history(config),
        now,
        previous.and_then(|previous| previous.shelf.as_deref()),
    );
    catalog.shelf = Some(Arc::new(shelf));
    catalog
}

/// The entry texts of every article some document shows, by position in
/// `shown`: rendered once each (or taken from the index's cache), on every
/// core.
fn entry_texts(site: &SiteView<'_>, shown: &[Indexed]) -> HashMap<usize, Arc<EntryTexts>> {
    cores::in_shares(&site.listed(), |entry| {
        let texts = shown[entry.position].entry_texts(|| EntryTexts::render(site.site, entry));
        (entry.position, texts)
    })
    .into_iter()
    .collect()
}

/// The text of one planned document.
fn render(
    planned: &Planned,
    site: &SiteView<'_>,
    texts: &HashMap<usize, Arc<EntryTexts>>,
) -> String {
    match planned.content {
        Content::Listing { listing, feed } => {
            let feed = &site.feeds[feed];
            let entries = feed
                .entries
                .iter()
                .map(|entry| texts[&entry.position].get(listing));
            listing.frame(site, feed).assemble(entries)
        }
        Content::Opml => render::opml::render_opml(site),
        Content::FeedPreview { format, feed } => {
            let feed = &site.feeds[feed];
            let entries = feed
                .entries
                .iter()
                .map(|entry| texts[&entry.position].get(render::Listing::Home));
            render::html::feed_preview_frame(site, feed, format).assemble(entries)
        }
        Content::NotFound => render::html::render_not_found(site.site),
        Content::Favicon => render::html::FAVICON.to_string(),
    }
}

/// Gives a rendered document its validators and compressed variants: the
/// previous catalog's document as it was when the bytes are the same, else
/// a new one whose Last-Modified is later than the previous one's, as far
/// as `now` allows (within one second of a change the date stays and the
/// ETag alone tells the versions apart).
fn complete(
    planned: &Planned,
    text: String,
    previous: Option<&Catalog>,
    compression: Compression,
    now: DateTime<Utc>,
) -> (String, Document) {
    let prior = previous.and_then(|catalog| catalog.get(&planned.path));
    if let Some(prior) = prior {
        if prior.content_type == planned.content_type
            && prior.digest == Document::digest_of(text.as_bytes())
        {
            return (planned.path.clone(), prior.clone());
        }
    }
    let last_modified = match prior {
        Some(prior) => planned
            .updated
            .max(prior.last_modified + TimeDelta::seconds(1))
            .min(now)
            .max(prior.last_modified),
        None => planned.updated.min(now),
    };
    let document = Document::build(
        planned.content_type,
        planned.cross_origin,
        text.into(),
        last_modified,
        compression,
    );
    (planned.path.clone(), document)
}
