//! Atom 1.0 (RFC 4287), the most tightly specified of the three formats.
//!
//! Built with `atom_syndication`. Choices where the RFC leaves room:
//!
//! - The feed id is the feed's own URL: stable across builds and unique per
//!   topic. Entry ids are the article ids, the same as in RSS and JSON Feed.
//! - The site author is the feed-level author, and every entry names its
//!   authors too: the article's own, else the site author. RFC 4287 lets
//!   an entry inherit the feed's, but an entry copied out of its feed (as
//!   readers and aggregators do) would then have none.
//! - An entry's `alternate` link is the article's canonical URL, or its
//!   page on the site when it has none.
//! - A lead image is a `link rel="enclosure"` with its type (no `length`:
//!   tidings does not know it) and the Media RSS elements that readers
//!   look for in Atom too (`media:content` with caption and credit,
//!   `media:thumbnail`); the `media` namespace is always declared.
//! - Categories: `term` is the topic slug, `label` its title, `scheme` the
//!   URL prefix of topic pages (see [`super::topic_scheme`]).
//! - `summary` is plain text (`type="text"`, the default, so not written);
//!   `content` is `type="html"`, escaped rather than in CDATA.
//! - `xml:lang` on the feed carries the site language.
//! - History (RFC 5005 §4): the subscription document links
//!   `prev-archive` to the newest archive page; an archive page carries
//!   `<fh:archive/>`, `current`, and `prev-archive`/`next-archive` to its
//!   neighbours. Every page keeps the feed's `id`: they are one feed.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use atom_syndication::extension::{Extension, ExtensionMap};
use atom_syndication::{
    CategoryBuilder, Content, EntryBuilder, Feed, FeedBuilder, Generator, Link, Person, Text,
    WriteConfig,
};

use super::image::{LeadImage, MediaElement, MEDIA_RSS};
use super::{cut_entry, Entry, FeedView, Frame, Place, HISTORY_NAMESPACE, HISTORY_PREFIX};
use crate::config::Site;
use crate::layout::Format;
use crate::xml::escape;

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
            feed.self_url(Format::Atom),
            Format::Atom.media_type(),
        ),
        link("alternate", feed.page_url(), "text/html"),
    ];
    let archived = matches!(feed.place, Place::Archived { .. });
    if archived {
        links.push(link(
            "current",
            feed.feed_url(Format::Atom),
            Format::Atom.media_type(),
        ));
    }
    for (rel, number) in [
        ("prev-archive", feed.place.older()),
        ("next-archive", feed.place.newer()),
    ] {
        if let Some(number) = number {
            let href = feed.archive_url(number, Format::Atom);
            links.push(link(rel, href, Format::Atom.media_type()));
        }
    }
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
        .namespaces(BTreeMap::from([(
            "media".to_string(),
            MEDIA_RSS.to_string(),
        )]))
        .generator(Some(Generator {
            value: "tidings".into(),
            uri: None,
            version: None,
        }))
        .links(links);
    if !feed.description.is_empty() {
        builder.subtitle(Some(Text::plain(feed.description.clone())));
    }
    if archived {
        builder
            .namespaces([(HISTORY_PREFIX.to_string(), HISTORY_NAMESPACE.to_string())])
            .extensions(archive_marker());
    }
    builder.build()
}

/// `<fh:archive/>`, which tells a reader that a document is an archive
/// document whose entries do not change (RFC 5005 §4).
fn archive_marker() -> atom_syndication::extension::ExtensionMap {
    let marker = atom_syndication::extension::Extension {
        name: format!("{HISTORY_PREFIX}:archive"),
        ..Default::default()
    };
    [(
        HISTORY_PREFIX.to_string(),
        [("archive".to_string(), vec![marker])].into(),
    )]
    .into()
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
        .authors(if article.authors.is_empty() {
            vec![person(&site.author)]
        } else {
            article.authors.iter().map(|a| person(a)).collect()
        })
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
        .links(links(site, entry))
        .content(Some(Content {
            content_type: Some("html".into()),
            value: Some(article.content_html.clone()),
            ..Content::default()
        }));
    if !article.summary.is_empty() {
        builder.summary(Some(Text::plain(article.summary.clone())));
    }
    if let Some(image) = LeadImage::of(article) {
        builder.extensions(media(image));
    }
    builder.build()
}

/// The entry's page (`alternate`) and its image (`enclosure`).
fn links(site: &Site, entry: &Entry<'_>) -> Vec<Link> {
    let mut links = vec![link(
        "alternate",
        super::link(site, entry.article),
        "text/html",
    )];
    if let Some(image) = LeadImage::of(entry.article) {
        links.push(Link {
            href: image.url.to_string(),
            rel: "enclosure".into(),
            mime_type: image.media_type.map(str::to_string),
            ..Link::default()
        });
    }
    links
}

/// The Media RSS elements of a lead image, keyed as the crate keys them
/// (prefix, then local name).
fn media(image: LeadImage<'_>) -> ExtensionMap {
    fn extension(element: &MediaElement<'_>) -> Extension {
        Extension {
            name: format!("media:{}", element.name),
            value: element.text.map(str::to_string),
            // The crate writes attribute values as given, unescaped.
            attrs: element
                .attrs
                .iter()
                .map(|&(k, v)| (k.to_string(), escape(v).into_owned()))
                .collect(),
            children: element
                .children
                .iter()
                .map(|child| (child.name.to_string(), vec![extension(child)]))
                .collect(),
        }
    }
    let elements = image
        .media_rss()
        .iter()
        .map(|element| (element.name.to_string(), vec![extension(element)]))
        .collect();
    BTreeMap::from([("media".to_string(), elements)])
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
