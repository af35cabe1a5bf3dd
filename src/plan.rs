//! The plan of documents: every document the site publishes, at which
//! path, with which content type, CORS rule and date of last change.
//!
//! Both outlets read this one list: [`publish`](crate::publish) renders it
//! into the in-memory catalog the server answers from, and
//! [`build`](crate::build) streams it into files with a `_headers` file.
//! A new kind of document is one new entry here, and the server and the
//! static build cannot disagree on what exists.

use chrono::{DateTime, Utc};

use crate::archive::Paging;
use crate::config::{Config, ALL_SLUG};
use crate::index::{History, Ranked};
use crate::layout::{self, Format};
use crate::render::{FeedView, Listing, SiteView};

/// One document of the site, made of `C`: a [`Content`] of the documents
/// every outlet holds, or an [`ArchivePage`] of the history that the static
/// build writes and the server makes when asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Planned<C = Content> {
    /// Its path in the URL layout (`/feeds/ukraine.atom`).
    pub path: String,
    pub content_type: &'static str,
    /// Readable from any origin (`Access-Control-Allow-Origin: *`): feeds
    /// and OPML, which web-based readers fetch from their own pages.
    pub cross_origin: bool,
    /// When its content last changed, by the dates in it (never the clock).
    pub updated: DateTime<Utc>,
    pub content: C,
}

impl<C> Planned<C> {
    /// The same document, without what it is made of: what a rule of the
    /// `_headers` file needs.
    pub fn described(&self) -> Planned<()> {
        Planned {
            path: self.path.clone(),
            content_type: self.content_type,
            cross_origin: self.cross_origin,
            updated: self.updated,
            content: (),
        }
    }
}

/// What a planned document is made of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Content {
    /// A listing of the entries of the view's feed at `feed`.
    Listing { listing: Listing, feed: usize },
    /// The OPML list of every feed.
    Opml,
    /// The HTML page a browser gets at the URL of the view's feed at
    /// `feed` in `format`: its entries and how to subscribe.
    FeedPreview { format: Format, feed: usize },
    /// The page of every unknown path.
    NotFound,
    /// The site's icon (`assets/favicon.svg`).
    Favicon,
}

/// A document of archive page `number` of feed `feed` (RFC 5005; see
/// [`crate::archive`]): a feed format, or its history page
/// ([`Listing::TopicPage`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ArchivePage {
    pub listing: Listing,
    pub feed: usize,
    pub number: usize,
}

/// Every document of `site`: for each feed (`all` first) its three formats,
/// its HTML page (the home page for `all`) and the three pages browsers get
/// at its formats' URLs, then the OPML list, the page of unknown paths and
/// the icon.
pub fn plan<A>(site: &SiteView<'_, A>) -> Vec<Planned> {
    let site_updated = site.feeds[0].updated.to_utc();
    let mut documents = Vec::with_capacity(site.feeds.len() * 7 + 4);
    for (index, feed) in site.feeds.iter().enumerate() {
        let page = if feed.slug == ALL_SLUG {
            Listing::Home
        } else {
            Listing::TopicPage
        };
        for listing in Format::ALL.map(Listing::Feed).into_iter().chain([page]) {
            documents.push(Planned {
                path: listing_path(listing, feed),
                content_type: match listing {
                    Listing::Feed(format) => format.content_type(),
                    Listing::TopicPage | Listing::Home => layout::HTML_CONTENT_TYPE,
                },
                cross_origin: matches!(listing, Listing::Feed(_)),
                // The home page also lists every feed: the site's date.
                updated: match listing {
                    Listing::Home => site_updated,
                    _ => feed.updated.to_utc(),
                },
                content: Content::Listing {
                    listing,
                    feed: index,
                },
            });
        }
        for format in Format::ALL {
            documents.push(Planned {
                path: layout::feed_preview_path(feed.slug, format),
                content_type: layout::HTML_CONTENT_TYPE,
                cross_origin: false,
                updated: feed.updated.to_utc(),
                content: Content::FeedPreview {
                    format,
                    feed: index,
                },
            });
        }
    }
    documents.push(Planned {
        path: layout::OPML_PATH.to_string(),
        content_type: layout::OPML_CONTENT_TYPE,
        cross_origin: true,
        updated: site_updated,
        content: Content::Opml,
    });
    // They depend on the site settings alone; the site's date is as good
    // as any that never reads the clock.
    documents.push(Planned {
        path: layout::NOT_FOUND_PATH.to_string(),
        content_type: layout::HTML_CONTENT_TYPE,
        cross_origin: false,
        updated: site_updated,
        content: Content::NotFound,
    });
    for path in [layout::FAVICON_PATH, layout::FAVICON_ICO_PATH] {
        documents.push(Planned {
            path: path.to_string(),
            content_type: layout::SVG_CONTENT_TYPE,
            cross_origin: false,
            updated: site_updated,
            content: Content::Favicon,
        });
    }
    documents
}

/// Every archive document and history page of every feed of `config`,
/// with `history` as the index holds it: what the static build writes
/// beside [`plan`]. (The server makes each one when asked for: see
/// [`crate::shelf`].)
pub fn archives(config: &Config, history: &History) -> Vec<Planned<ArchivePage>> {
    let mut documents = Vec::new();
    for feed in 0..=config.topics.len() {
        let paging = Paging::new(history.total(feed), config.site.max_entries);
        let slug = feed
            .checked_sub(1)
            .map_or(ALL_SLUG, |topic| config.topics[topic].slug.as_str());
        let mut before = None;
        for number in 1..=paging.pages() {
            let range = paging.page(number).expect("numbered within the pages");
            let updated = history
                .entries(feed, range)
                .iter()
                .map(|ranked| ranked.head.updated.to_utc())
                .max()
                .or(before)
                .unwrap_or(DateTime::UNIX_EPOCH);
            before = Some(updated);
            for listing in ARCHIVE_LISTINGS {
                let (path, content_type) = match listing {
                    Listing::Feed(format) => (
                        layout::archive_feed_path(slug, number, format),
                        format.content_type(),
                    ),
                    Listing::TopicPage | Listing::Home => (
                        layout::history_page_path(slug, number),
                        layout::HTML_CONTENT_TYPE,
                    ),
                };
                documents.push(Planned {
                    path,
                    content_type,
                    cross_origin: matches!(listing, Listing::Feed(_)),
                    updated,
                    content: ArchivePage {
                        listing,
                        feed,
                        number,
                    },
                });
            }
        }
    }
    documents
}

/// The page of every published article (`/articles/{slug}/`), with
/// `history` as the index holds it: what the static build writes beside
/// [`plan`]; the server makes each one when asked for.
pub fn article_pages(history: &History) -> Vec<Planned<Ranked>> {
    history
        .articles()
        .map(|(slug, ranked)| Planned {
            path: layout::article_page_path(slug),
            content_type: layout::HTML_CONTENT_TYPE,
            cross_origin: false,
            updated: ranked.head.updated.to_utc(),
            content: ranked.clone(),
        })
        .collect()
}

/// The kinds of document every archive page has: its three feed formats
/// and its history page.
pub const ARCHIVE_LISTINGS: [Listing; 4] = [
    Listing::Feed(Format::Rss),
    Listing::Feed(Format::Atom),
    Listing::Feed(Format::Json),
    Listing::TopicPage,
];

/// Where a listing document is in the URL layout.
fn listing_path<A>(listing: Listing, feed: &FeedView<'_, A>) -> String {
    match listing {
        Listing::Feed(format) => layout::feed_path(feed.slug, format),
        Listing::TopicPage => layout::topic_page_path(feed.slug),
        Listing::Home => layout::HOME_PATH.to_string(),
    }
}
