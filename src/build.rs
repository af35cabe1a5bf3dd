//! `tidings build`: the plan of documents streamed into files.
//!
//! The server keeps the whole catalog in memory; a build has no need to, and
//! an archive with every entry in every feed would not fit. So here the seeds
//! are indexed keeping only what choosing the entries needs (id, path,
//! dates, topics), every listing document of the [`plan`] is started with
//! its frame, and the articles the documents show are read again newest
//! first, a chunk at a time on every core. Each article's entry texts are
//! rendered once, appended to every document that lists it, and dropped.
//! Memory follows the chunk, not the archive or the largest feed. The bytes
//! are the catalog's: both put the same plan, frames and entry texts
//! together.
//!
//! Documents are texts in memory until they hold `BUDGET` bytes, then the
//! largest are appended to their files ([`write`](mod@crate::write) says why no file stays
//! open), so memory is the budget plus the chunk whatever the number of
//! documents. The whole tree is written into a [`Staging`] folder that
//! replaces the output folder only once every file is written.
//!
//! A build publishes what is due at its `now` (`--now`, `SOURCE_DATE_EPOCH`
//! or the clock): articles dated later are left out, so two builds with the
//! same `now` and the same input are byte-identical, and a build run every
//! hour publishes each article within the hour of its date.

use std::path::Path;

use chrono::{DateTime, Utc};

use crate::catalog::Compression;
use crate::config::Config;
use crate::cores;
use crate::diagnostic::Diagnostic;
use crate::error::Result;
use crate::index::{read_ranked, SeedIndex};
use crate::ingest::{self, SeedParser};
use crate::layout;
use crate::model::ArticleHead;
use crate::plan::{self, ArchivePage, Content, Planned};
use crate::render::article::render_article_page;
use crate::render::{self, Entry, EntryTexts, Frame, Listing};
use crate::select;
use crate::shelf::Page;
use crate::statics::StaticFiles;
use crate::write::{self, DocumentFile, Staging};

/// Articles rendered between two rounds of writing: enough to keep both
/// cores busy, few enough that their texts take little memory.
const CHUNK: usize = 512;

/// Archive pages read and written between two rounds: their texts are
/// in memory together.
const ARCHIVE_BATCH: usize = 64;

/// Bytes of memory held for document text before the largest documents
/// are appended to their files. Flushing half of it at a time keeps the file
/// openings few: thousands of small documents each gather a few kilobytes,
/// and large ones are written in large pieces.
const BUDGET: usize = 8 * 1024 * 1024;

/// What a build did.
#[derive(Debug)]
pub struct Built {
    /// Articles published.
    pub articles: usize,
    /// Documents of the URL layout written.
    pub documents: usize,
    /// Files written, compressed variants, `_headers` and the manifest
    /// included.
    pub files: usize,
    /// Everything ingest had to say, sorted by file.
    pub diagnostics: Vec<Diagnostic>,
}

impl Built {
    /// Seed files that were not published.
    pub fn rejected(&self) -> impl Iterator<Item = &Diagnostic> {
        self.diagnostics.iter().filter(|d| d.is_error())
    }
}

impl std::fmt::Display for Built {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "built {} articles into {} documents ({} files)",
            self.articles, self.documents, self.files
        )
    }
}

/// A listing document being written.
struct Open {
    listing: Listing,
    /// Index of its feed in the site view.
    feed: usize,
    frame: Frame,
    file: DocumentFile,
    written: usize,
}

/// Reads `seeds_dir` and writes every document of the plan, as published
/// at `now`, under `out`, with `_headers`, in place of whatever `out` held;
/// on failure `out` is left as it was.
pub fn build(
    config: &Config,
    seeds_dir: &Path,
    out: &Path,
    compression: Compression,
    now: DateTime<Utc>,
) -> Result<Built> {
    let staging = Staging::beside(out, seeds_dir)?;
    let built = write_site(config, seeds_dir, staging.path(), compression, now)?;
    staging.place()?;
    Ok(built)
}

/// Writes every document of the plan under `out`, a new empty folder.
fn write_site(
    config: &Config,
    seeds_dir: &Path,
    out: &Path,
    compression: Compression,
    now: DateTime<Utc>,
) -> Result<Built> {
    let mut index = SeedIndex::for_one_pass(seeds_dir.to_path_buf()).as_of(now);
    index.rescan(config)?;
    let (shown, selection) = index.selection(config);
    let mut diagnostics = index.diagnostics();
    // Frames need only the heads; whole articles are read chunk by chunk.
    let site = select::view(
        config,
        &selection,
        |position| shown[position].head(),
        |position| Some(shown[position].head()),
        |position| std::borrow::Cow::Borrowed(shown[position].topic_indexes()),
    );
    let planned = plan::plan(&site);

    let mut files = 0;
    let mut buffered = 0;
    let mut open = Vec::new();
    for document in &planned {
        match document.content {
            Content::Listing { .. } | Content::FeedPreview { .. } => {
                // A feed's preview page lists its entries with the home
                // page's entry text.
                let (listing, feed, mut frame) = match document.content {
                    Content::Listing { listing, feed } => {
                        (listing, feed, listing.frame(&site, &site.feeds[feed]))
                    }
                    Content::FeedPreview { format, feed } => (
                        Listing::Home,
                        feed,
                        render::html::feed_preview_frame(&site, &site.feeds[feed], format),
                    ),
                    _ => unreachable!("matched above"),
                };
                let mut file =
                    DocumentFile::new(out, &document.path, compression, document.updated);
                // The document holds the head now; the frame need not.
                buffered += file.push(&std::mem::take(&mut frame.head));
                open.push(Open {
                    listing,
                    feed,
                    frame,
                    file,
                    written: 0,
                });
                if buffered > BUDGET {
                    buffered = spill(&mut open, buffered)?;
                }
            }
            Content::NotFound | Content::Favicon => {
                let text = match document.content {
                    Content::NotFound => render::html::render_not_found(site.site),
                    _ => render::html::FAVICON.to_string(),
                };
                files += write::write_document(
                    out,
                    &document.path,
                    &text,
                    compression,
                    document.updated,
                )?;
            }
            Content::Opml => {
                files += write::write_document(
                    out,
                    &document.path,
                    &render::opml::render_opml(&site),
                    compression,
                    document.updated,
                )?;
            }
        }
    }

    // Every feed lists its entries newest first, so one pass over the shown
    // articles in that order meets each feed's entries in its own order.
    let mut order: Vec<&Entry<'_, ArticleHead>> = site.listed();
    order.sort_by(|a, b| select::newest_first(a.article, b.article));

    // Cores render chunks of entries while one thread writes the previous
    // chunk, so the disk and the renderers wait for each other little.
    let parser = SeedParser::new(config);
    let (send, receive) = std::sync::mpsc::sync_channel::<Vec<(usize, Option<EntryTexts>)>>(2);
    let feeds = &site.feeds;
    let mut open = std::thread::scope(|scope| -> Result<Vec<Open>> {
        let writer = scope.spawn(move || -> Result<Vec<Open>> {
            let mut next_in_feed = vec![0; feeds.len()];
            let mut in_feed = vec![false; feeds.len()];
            for chunk in receive {
                for (position, texts) in chunk {
                    for (i, feed) in feeds.iter().enumerate() {
                        let next = &mut next_in_feed[i];
                        in_feed[i] = feed.entries.get(*next).map(|e| e.position) == Some(position);
                        *next += usize::from(in_feed[i]);
                    }
                    let Some(texts) = texts else { continue };
                    for at in 0..open.len() {
                        let document = &mut open[at];
                        if !in_feed[document.feed] {
                            continue;
                        }
                        if document.written > 0 {
                            buffered += document.file.push(document.frame.separator);
                        }
                        buffered += document.file.push(texts.get(document.listing));
                        document.written += 1;
                        // After each text, not each article: one article
                        // may go to thousands of documents.
                        if buffered > BUDGET {
                            buffered = spill(&mut open, buffered)?;
                        }
                    }
                }
            }
            Ok(open)
        });
        for chunk in order.chunks(CHUNK) {
            let texts = cores::in_shares(chunk, |entry| {
                let whole = index.read_whole(config, &parser, &shown[entry.position])?;
                let entry = Entry {
                    article: &*whole,
                    position: entry.position,
                    categories: entry.categories.clone(),
                };
                Some(EntryTexts::render(site.site, &entry))
            });
            for (entry, texts) in chunk.iter().zip(&texts) {
                if texts.is_none() {
                    diagnostics.push(Diagnostic::warning(
                        ingest::display_path(seeds_dir, &entry.article.source),
                        1,
                        "changed or went away while the build read it, so it is left out of \
                         the documents; build again",
                    ));
                }
            }
            let positions = chunk.iter().map(|entry| entry.position);
            if send.send(positions.zip(texts).collect()).is_err() {
                break; // The writer failed; its error follows.
            }
        }
        drop(send);
        writer.join().expect("the writer does not panic")
    })?;

    for document in &mut open {
        document.file.push(&document.frame.tail);
    }
    // Compressing is most of the work left: each document goes to whichever
    // core is free, with its encoders, so at most a few files per core are
    // open.
    for written in cores::as_free(&open, |document| document.file.finish()) {
        files += written?;
    }
    // Every archive page is read once and written in its four documents,
    // pages on every core, a batch at a time.
    let history = index.history(config);
    let archived = plan::archives(config, &history);
    let pages: Vec<&[Planned<ArchivePage>]> =
        archived.chunks(plan::ARCHIVE_LISTINGS.len()).collect();
    for batch in pages.chunks(ARCHIVE_BATCH) {
        let written = cores::as_free(batch, |documents| -> Result<usize> {
            let ArchivePage { feed, number, .. } = documents[0].content;
            let Some(page) = Page::read(config, seeds_dir, &parser, &history, feed, number) else {
                return Ok(0);
            };
            let mut files = 0;
            for document in documents.iter() {
                let text = page.render(config, document.content.listing);
                files += write::write_document(
                    out,
                    &document.path,
                    &text,
                    compression,
                    document.updated,
                )?;
            }
            Ok(files)
        });
        for written in written {
            files += written?;
        }
    }
    // Every article's page, read again and written, on every core.
    let pages = plan::article_pages(&history);
    for batch in pages.chunks(CHUNK) {
        let written = cores::in_shares(batch, |planned| -> Result<usize> {
            let ranked = &planned.content;
            let Some(article) = read_ranked(config, seeds_dir, &parser, ranked) else {
                return Ok(0);
            };
            let categories = select::categories(config, &ranked.topics);
            let text = render_article_page(&config.site, &article, &categories);
            write::write_document(out, &planned.path, &text, compression, planned.updated)
        });
        for written in written {
            files += written?;
        }
    }
    // The static folder's files, as the server has them.
    let mut statics = StaticFiles::default();
    statics.load(config, seeds_dir, compression);
    diagnostics.extend_from_slice(statics.diagnostics());
    let mut static_rules = Vec::new();
    for (path, document) in statics.documents() {
        files += write::write_catalog_document(out, path, document)?;
        static_rules.push((path, document.content_type));
    }
    // The `_headers` rules: one per document, but one for all the article
    // pages, which would otherwise be most of the file.
    let mut described: Vec<Planned<()>> = planned
        .iter()
        .map(Planned::described)
        .chain(archived.iter().map(Planned::described))
        .collect();
    if let Some(newest) = pages.iter().map(|page| page.updated).max() {
        described.push(Planned {
            path: format!("{}*", layout::ARTICLES_PREFIX),
            content_type: layout::HTML_CONTENT_TYPE,
            cross_origin: false,
            updated: newest,
            content: (),
        });
    }
    write::write_headers(
        out,
        &described,
        &static_rules,
        &config.http.cache_control(),
        Some(site.feeds[0].updated.to_utc()),
    )?;
    write::write_manifest(
        out,
        &planned,
        &config.site,
        Some(site.feeds[0].updated.to_utc()),
    )?;

    ingest::sort_diagnostics(&mut diagnostics);
    Ok(Built {
        articles: selection.feeds[0].total,
        documents: planned.len() + archived.len() + pages.len(),
        files: files + 2,
        diagnostics,
    })
}

/// Appends the documents holding the most text to their files until at
/// most half the budget is held; returns the bytes still held.
fn spill(open: &mut [Open], mut buffered: usize) -> Result<usize> {
    let mut largest: Vec<&mut Open> = open.iter_mut().filter(|d| d.file.held() > 0).collect();
    largest.sort_unstable_by_key(|d| std::cmp::Reverse(d.file.held()));
    for document in largest {
        if buffered <= BUDGET / 2 {
            break;
        }
        buffered -= document.file.held();
        document.file.flush()?;
    }
    Ok(buffered)
}
