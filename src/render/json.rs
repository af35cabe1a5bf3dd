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
//! - `url`, `image`, `summary` and `tags` are left out when empty rather
//!   than written as `null` or `[]`; `items` is always present.
//! - Pretty-printed (two spaces) with a trailing newline, like the XML.

use serde::Serialize;

use super::{Entry, FeedView};
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
    #[serde(skip_serializing_if = "Option::is_none")]
    url: Option<&'a str>,
    title: &'a str,
    content_html: &'a str,
    #[serde(skip_serializing_if = "str::is_empty")]
    summary: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    image: Option<&'a str>,
    date_published: String,
    date_modified: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tags: Vec<&'a str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    authors: Vec<Author<'a>>,
}

/// The JSON Feed 1.1 document of `feed`.
pub fn render_json(feed: &FeedView<'_>) -> String {
    let site = feed.site;
    let document = Document {
        version: VERSION,
        title: &feed.title,
        home_page_url: feed.page_url(),
        feed_url: feed.feed_url(Format::Json),
        description: &feed.description,
        language: &site.language,
        authors: vec![Author { name: &site.author }],
        hubs: site
            .hub
            .iter()
            .map(|hub| Hub {
                kind: "WebSub",
                url: hub.to_string(),
            })
            .collect(),
        items: feed.entries.iter().map(item).collect(),
    };
    let mut text = serde_json::to_string_pretty(&document).expect("plain structs serialize");
    text.push('\n');
    text
}

fn item<'a>(entry: &Entry<'a>) -> Item<'a> {
    let article = entry.article;
    Item {
        id: article.id.as_str(),
        url: article.url.as_deref(),
        title: &article.title,
        content_html: &article.content_html,
        summary: &article.summary,
        image: article.image.as_deref(),
        date_published: article.published.to_rfc3339(),
        date_modified: article.updated.to_rfc3339(),
        tags: entry.categories.iter().map(|c| c.title).collect(),
        authors: article.authors.iter().map(|name| Author { name }).collect(),
    }
}
