//! JSON Feed 1.1 (<https://jsonfeed.org/version/1.1>), for readers and
//! scripts that would rather not parse XML.
//!
//! The document is a set of serde structs, so the field order is the struct
//! order and the output is deterministic. Choices where the spec is silent:
//!
//! - `tags` are the topic titles, as RSS categories are: readers show tags
//!   as they are, and the title is what a person reads. The article's
//!   front-matter tags are not repeated: only topics are categories.
//! - An item carries `authors` only when the article names its own; the
//!   feed-level `authors` (the site author) apply otherwise, as in Atom.
//! - An item's `url` is the article's canonical URL, or its page on the
//!   site when it has none, so every item has one.
//! - A lead image is both the item's `image` and its `banner_image`: it is
//!   the one picture the article has, and readers differ in which they
//!   show.
//! - `image`, `banner_image`, `summary` and `tags` are left out when empty
//!   rather than written as `null` or `[]`; `items` is always present.
//! - Pretty-printed (two spaces) with a trailing newline, like the XML.
//! - History: JSON Feed has no archive markup, only `next_url` ("the next
//!   n items"). The subscription document's `next_url` is the newest
//!   archive page, and each page's the page before it, so following
//!   `next_url` visits every entry once, newest to oldest. `feed_url` stays
//!   the subscription document's on every page: it identifies the feed.

use serde::Serialize;

use super::{Entry, FeedView, Frame};
use crate::config::Site;
use crate::layout::Format;

const VERSION: &str = "https://jsonfeed.org/version/1.1";

#[derive(Serialize)]
struct Document<'a> {
    version: &'static str,
    title: &'a str,
    home_page_url: String,
    feed_url: String,
    #[serde(skip_serializing_if = "str::is_empty")]
    description: &'a str,
    language: &'a str,
    authors: Vec<Author<'a>>,
    /// The next older document of the feed's history (the subscription
    /// document: its newest archive page).
    #[serde(skip_serializing_if = "Option::is_none")]
    next_url: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    hubs: Vec<Hub>,
    items: Vec<Item<'a>>,
}

#[derive(Serialize)]
struct Author<'a> {
    name: &'a str,
}

#[derive(Serialize)]
struct Hub {
    #[serde(rename = "type")]
    kind: &'static str,
    url: String,
}

#[derive(Serialize)]
struct Item<'a> {
    id: &'a str,
    url: String,
    title: &'a str,
    content_html: &'a str,
    #[serde(skip_serializing_if = "str::is_empty")]
    summary: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    image: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    banner_image: Option<&'a str>,
    date_published: String,
    date_modified: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tags: Vec<&'a str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    authors: Vec<Author<'a>>,
}

/// The JSON Feed 1.1 document of `feed`.
pub fn render_json(feed: &FeedView<'_>) -> String {
    let items: Vec<String> = feed.entries.iter().map(|e| entry(feed.site, e)).collect();
    frame(feed).assemble(items.iter().map(String::as_str))
}

/// The document of `feed` around its items: serde's own pretty output, with
/// `items` (the last member) opened for the items' texts.
pub(super) fn frame<A>(feed: &FeedView<'_, A>) -> Frame {
    let mut head = serde_json::to_string_pretty(&document(feed)).expect("plain structs serialize");
    if feed.entries.is_empty() {
        head.push('\n');
        return Frame {
            head,
            separator: "",
            tail: String::new(),
        };
    }
    head.truncate(
        head.strip_suffix("]\n}")
            .expect("`items` is the last member")
            .len(),
    );
    Frame {
        head,
        separator: ",",
        tail: "\n  ]\n}\n".into(),
    }
}

/// The document of `feed` without items.
fn document<'a, A>(feed: &'a FeedView<'_, A>) -> Document<'a> {
    let site = feed.site;
    Document {
        version: VERSION,
        title: &feed.title,
        home_page_url: feed.page_url(),
        feed_url: feed.feed_url(Format::Json),
        description: &feed.description,
        language: &site.language,
        authors: vec![Author { name: &site.author }],
        next_url: feed
            .place
            .older()
            .map(|number| feed.archive_url(number, Format::Json)),
        hubs: site
            .hubs
            .iter()
            .map(|hub| Hub {
                kind: "WebSub",
                url: hub.to_string(),
            })
            .collect(),
        items: Vec::new(),
    }
}

/// One item as serde pretty-prints it at its depth in `items`: on a new
/// line, indented by four spaces (a JSON string holds no raw line break, so
/// every line break is between tokens).
pub(super) fn entry(site: &Site, entry: &Entry<'_>) -> String {
    let text = serde_json::to_string_pretty(&item(site, entry)).expect("plain structs serialize");
    let mut out = String::with_capacity(text.len() + text.len() / 16);
    out.push_str(ITEM_INDENT);
    out.push_str(&text.replace('\n', ITEM_INDENT));
    out
}

const ITEM_INDENT: &str = "\n    ";

fn item<'a>(site: &Site, entry: &Entry<'a>) -> Item<'a> {
    let article = entry.article;
    Item {
        id: article.id.as_str(),
        url: super::link(site, article),
        title: &article.title,
        content_html: &article.content_html,
        summary: &article.summary,
        image: article.image.as_deref(),
        banner_image: article.image.as_deref(),
        date_published: article.published.to_rfc3339(),
        date_modified: article.updated.to_rfc3339(),
        tags: entry.categories.iter().map(|c| c.title).collect(),
        authors: article.authors.iter().map(|name| Author { name }).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spliced_feeds_are_what_serde_writes_for_the_whole_document() {
        let (config, articles) = super::super::tests::fixture();
        let site = crate::select::site_view(&config, &articles);
        for feed in &site.feeds {
            let mut whole = document(feed);
            whole.items = feed.entries.iter().map(|e| item(feed.site, e)).collect();
            let text = serde_json::to_string_pretty(&whole).unwrap() + "\n";
            assert_eq!(render_json(feed), text, "{}", feed.slug);
        }
    }
}
