//! Renderers: one module per document type, each a pure function from a view
//! to the document's text.
//!
//! Views are what [`publish`](crate::publish) hands over: the site settings
//! and, per feed, the entries already selected, sorted and cut to
//! `max_entries`. Renderers decide nothing about content, only its form, and
//! read no clock: the same view gives the same bytes.

pub mod atom;
pub mod html;
pub mod json;
pub mod opml;
pub mod rss;

use chrono::{DateTime, FixedOffset};

use crate::config::Site;
use crate::layout::{self, Format};
use crate::model::Article;

/// One feed (the reserved `all` or a configured topic), ready to render in
/// any format.
#[derive(Debug, Clone)]
pub struct FeedView<'a> {
    pub site: &'a Site,
    pub slug: &'a str,
    /// The topic's own title (`Ukraine`), or the site title for `all`.
    pub name: String,
    /// Feed title, e.g. `Ukraine – Example News` (the site title for `all`).
    pub title: String,
    pub description: String,
    /// Newest first (ties broken by id), at most `site.max_entries`.
    pub entries: Vec<Entry<'a>>,
    /// Articles in this feed before the `max_entries` cut.
    pub total: usize,
    /// Newest `updated` of the entries: the feed's own `updated` and
    /// `lastBuildDate`. For an empty feed, the newest date of the whole site
    /// (or the Unix epoch when there is no article at all), never the clock.
    pub updated: DateTime<FixedOffset>,
}

impl FeedView<'_> {
    /// Absolute URL of this feed in `format` (its `rel="self"`).
    pub fn feed_url(&self, format: Format) -> String {
        layout::absolute(&self.site.base_url, &layout::feed_path(self.slug, format))
    }

    /// Absolute URL of the HTML page of this feed (its `rel="alternate"`):
    /// the home page for `all`, the topic page otherwise.
    pub fn page_url(&self) -> String {
        if self.slug == crate::config::ALL_SLUG {
            layout::absolute(&self.site.base_url, layout::HOME_PATH)
        } else {
            layout::absolute(&self.site.base_url, &layout::topic_page_path(self.slug))
        }
    }
}

/// One article in one feed.
#[derive(Debug, Clone)]
pub struct Entry<'a> {
    pub article: &'a Article,
    /// The configured topics the article is in (not `all`), in config order.
    pub categories: Vec<Category<'a>>,
}

/// A topic as an entry's category.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Category<'a> {
    pub slug: &'a str,
    pub title: &'a str,
}

/// The scheme of topic categories (Atom `scheme`, RSS `domain`): the URL
/// prefix of the topic pages, so scheme + slug + `/` is a topic's page.
pub fn topic_scheme(site: &Site) -> String {
    layout::absolute(&site.base_url, "topics/")
}

/// The whole site: every feed, `all` first then the topics in config order.
#[derive(Debug, Clone)]
pub struct SiteView<'a> {
    pub site: &'a Site,
    pub feeds: Vec<FeedView<'a>>,
}
