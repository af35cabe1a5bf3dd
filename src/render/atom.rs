//! Atom 1.0 (RFC 4287), the most tightly specified of the three formats.
//!
//! Built with `atom_syndication`. Choices where the RFC leaves room:
//!
//! - The feed id is the feed's own URL: stable across builds and unique per
//!   topic. Entry ids are the article ids, the same as in RSS and JSON Feed.
//! - The site author is the feed-level author; an entry names its own
//!   authors only when the article has some, otherwise the feed's apply.
//! - Categories: `term` is the topic slug, `label` its title, `scheme` the
//!   URL prefix of topic pages (see [`super::topic_scheme`]).
//! - `summary` is plain text (`type="text"`, the default, so not written);
//!   `content` is `type="html"`, escaped rather than in CDATA.
//! - `xml:lang` on the feed carries the site language.

use std::sync::OnceLock;

use atom_syndication::{
    CategoryBuilder, Content, EntryBuilder, Feed, FeedBuilder, Generator, Link, Person, Text,
    WriteConfig,
};

use super::{cut_entry, Entry, FeedView, Frame};
use crate::config::Site;
use crate::layout::Format;

/// The Atom 1.0 document of `feed`.
pub fn render_atom(feed: &FeedView<'_>) -> String {
    let entries: Vec<String> = feed.entries.iter().map(|e| entry(feed.site, e)).collect();
    frame(feed).assemble(entries.iter().map(String::as_str))
}

/// The document of `feed` around its entries.
pub(super) fn frame<A>(feed: &FeedView<'_, A>) -> Frame {
    Frame::around(write(&model(feed)), CLOSING)
}

/// The feed element of `feed` without entries.
fn model<A>(feed: &FeedView<'_, A>) -> Feed {
    let site = feed.site;
    let mut links = vec![
        link(
            "self",
            feed.feed_url(Format::Atom),
            Format::Atom.media_type(),
        ),
        link("alternate", feed.page_url(), "text/html"),
    ];
    links.extend(site.hubs.iter().map(|hub| Link {
        href: hub.to_string(),
        rel: "hub".into(),
        ..Link::default()
    }));

    let mut builder = FeedBuilder::default();
    builder
        .lang(Some(site.language.clone()))
        .title(Text::plain(feed.title.clone()))
        .id(feed.feed_url(Format::Atom))
        .updated(feed.updated)
        .authors(vec![person(&site.author)])
        .generator(Some(Generator {
            value: "tidings".into(),
            uri: None,
            version: None,
        }))
        .links(links);
    if !feed.description.is_empty() {
        builder.subtitle(Some(Text::plain(feed.description.clone())));
    }
    builder.build()
}

/// Entries go last in the feed, before this.
const CLOSING: &str = "\n</feed>";

/// The `<entry>` of one article, as it appears in every feed that holds it.
pub(super) fn entry(site: &Site, entry: &Entry<'_>) -> String {
    // Written by the crate inside a bare feed, then cut out of it.
    static BARE: OnceLock<Frame> = OnceLock::new();
    let empty = BARE.get_or_init(|| Frame::around(write(&Feed::default()), CLOSING));
    let feed = Feed {
        entries: vec![atom_entry(site, entry)],
        ..Feed::default()
    };
    cut_entry(write(&feed), empty)
}

fn write(feed: &Feed) -> String {
    // The crate's declaration names no encoding; ours says what the bytes are.
    let mut out = b"<?xml version=\"1.0\" encoding=\"utf-8\"?>\n".to_vec();
    feed.write_with_config(
        &mut out,
        WriteConfig {
            write_document_declaration: false,
            indent_size: Some(2),
        },
    )
    .expect("writing to memory cannot fail");
    let mut text = String::from_utf8(out).expect("atom_syndication writes UTF-8");
    text.push('\n');
    text
}

fn atom_entry(site: &Site, entry: &Entry<'_>) -> atom_syndication::Entry {
    let article = entry.article;
    let scheme = super::topic_scheme(site);
    let mut builder = EntryBuilder::default();
    builder
        .title(Text::plain(article.title.clone()))
        .id(article.id.as_str().to_string())
        .updated(article.updated)
        .published(Some(article.published))
        .authors(
            article
                .authors
                .iter()
                .map(|a| person(a))
                .collect::<Vec<_>>(),
        )
        .categories(
            entry
                .categories
                .iter()
                .map(|c| {
                    CategoryBuilder::default()
                        .term(c.slug.to_string())
                        .label(Some(c.title.to_string()))
                        .scheme(Some(scheme.clone()))
                        .build()
                })
                .collect::<Vec<_>>(),
        )
        .links(
            article
                .url
                .iter()
                .map(|url| link("alternate", url.clone(), "text/html"))
                .collect::<Vec<_>>(),
        )
        .content(Some(Content {
            content_type: Some("html".into()),
            value: Some(article.content_html.clone()),
            ..Content::default()
        }));
    if !article.summary.is_empty() {
        builder.summary(Some(Text::plain(article.summary.clone())));
    }
    builder.build()
}

fn link(rel: &str, href: String, media_type: &str) -> Link {
    Link {
        href,
        rel: rel.into(),
        mime_type: Some(media_type.into()),
        ..Link::default()
    }
}

fn person(name: &str) -> Person {
    Person {
        name: name.into(),
        ..Person::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spliced_feeds_are_what_the_crate_writes_for_the_whole_feed() {
        let (config, articles) = super::super::tests::fixture();
        let site = crate::select::site_view(&config, &articles);
        for feed in &site.feeds {
            let mut whole = model(feed);
            whole.set_entries(
                feed.entries
                    .iter()
                    .map(|e| atom_entry(feed.site, e))
                    .collect::<Vec<_>>(),
            );
            assert_eq!(render_atom(feed), write(&whole), "{}", feed.slug);
        }
    }
}
