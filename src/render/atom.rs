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

use atom_syndication::{
    CategoryBuilder, Content, EntryBuilder, FeedBuilder, Generator, Link, Person, Text, WriteConfig,
};

use super::{Entry, FeedView};
use crate::layout::Format;

/// The Atom 1.0 document of `feed`.
pub fn render_atom(feed: &FeedView<'_>) -> String {
    let site = feed.site;
    let mut links = vec![
        link(
            "self",
            feed.feed_url(Format::Atom),
            Format::Atom.media_type(),
        ),
        link("alternate", feed.page_url(), "text/html"),
    ];
    if let Some(hub) = &site.hub {
        links.push(Link {
            href: hub.to_string(),
            rel: "hub".into(),
            ..Link::default()
        });
    }

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
        .links(links)
        .entries(
            feed.entries
                .iter()
                .map(|e| entry(feed, e))
                .collect::<Vec<_>>(),
        );
    if !feed.description.is_empty() {
        builder.subtitle(Some(Text::plain(feed.description.clone())));
    }

    // The crate's declaration names no encoding; ours says what the bytes are.
    let mut out = b"<?xml version=\"1.0\" encoding=\"utf-8\"?>\n".to_vec();
    builder
        .build()
        .write_with_config(
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

fn entry(feed: &FeedView<'_>, entry: &Entry<'_>) -> atom_syndication::Entry {
    let article = entry.article;
    let scheme = super::topic_scheme(feed.site);
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
