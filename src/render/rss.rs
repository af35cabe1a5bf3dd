//! RSS 2.0, the format every feed reader understands.
//!
//! Built with the `rss` crate so the element order and escaping are its
//! (tested) business. What RSS leaves loose is pinned down here, following
//! the RSS Advisory Board's best-practices profile and the W3C validator:
//!
//! - `guid` is the article id; `isPermaLink="false"` unless the id is the
//!   article's URL (the crate writes nothing for a permalink, and the
//!   attribute's default is `true`).
//! - Authors are names without e-mail addresses, so they go in `dc:creator`,
//!   never in `author`.
//! - `description` is HTML by RSS's rules, so the plain-text summary is
//!   HTML-escaped into it: a summary that mentions `<b>` shows as text.
//! - `content:encoded` holds the full HTML in CDATA; the crate splits a
//!   `]]>` in the content across two CDATA sections, so any text stays
//!   well-formed.
//! - Categories are topic titles (what readers show) in the domain
//!   `{base_url}topics/`, the same scheme as the Atom categories.
//! - The `atom`, `content`, `dc` and `media` namespaces are always
//!   declared, so the document shape does not depend on which entries it
//!   holds.
//! - An item links to the article's canonical URL, or to its page on the
//!   site when it has none (the `guid` stays the id, not a permalink).
//! - A lead image is Media RSS: `media:content` with the caption and
//!   credit inside, and `media:thumbnail`. There is no `enclosure`, whose
//!   `length` RSS requires: the image is a URL whose size tidings never
//!   learns (see `image.rs`).
//! - History (RFC 5005 §4) in the markup the RFC gives for RSS: the `fh`
//!   namespace and `<fh:archive/>` on archive pages, and `atom:link`s
//!   `prev-archive`, `next-archive` and `current`, as in Atom.
//! - `title` (the channel's and every item's) and `dc:creator` are plain
//!   text, encoded once, with `&`, `<` and `>` written as the hexadecimal
//!   references `&#x26;`, `&#x3C;` and `&#x3E;`. RSS never said whether a
//!   title may hold HTML, so readers differ: XML-only readers (feed-rs,
//!   the `rss` crate) take the text as it is, while many treat titles as
//!   HTML. The best-practices profile found the hexadecimal form the one
//!   read as the literal character by the widest range of them, and the
//!   W3C validator warns about any other (`CharacterData`). The document
//!   therefore never holds a raw `<script` or `&lt;` in a title: a reader
//!   that decodes the element's text as HTML gets the characters back, not
//!   markup, and an XML reader gets exactly the title. Escaping twice
//!   (`&amp;lt;`) was rejected: it would show `&lt;` to every reader that
//!   follows the XML, and the validator flags it too.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use chrono::{DateTime, Datelike, FixedOffset, NaiveDate, TimeZone};
use rss::extension::atom::{AtomExtensionBuilder, Link};
use rss::extension::dublincore::DublinCoreExtensionBuilder;
use rss::extension::{Extension, ExtensionMap};
use rss::{CategoryBuilder, Channel, ChannelBuilder, GuidBuilder, Item, ItemBuilder};

use super::image::{LeadImage, MediaElement};
use super::{cut_entry, Entry, FeedView, Frame, Place, HISTORY_NAMESPACE, HISTORY_PREFIX};
use crate::config::Site;
use crate::layout::Format;
use crate::xml::escape;

const NAMESPACES: [(&str, &str); 4] = [
    ("atom", rss::extension::atom::NAMESPACE),
    ("content", "http://purl.org/rss/1.0/modules/content/"),
    ("dc", rss::extension::dublincore::NAMESPACE),
    ("media", super::image::MEDIA_RSS),
];

/// The RSS 2.0 document of `feed`.
pub fn render_rss(feed: &FeedView<'_>) -> String {
    let items: Vec<String> = feed.entries.iter().map(|e| entry(feed.site, e)).collect();
    frame(feed).assemble(items.iter().map(String::as_str))
}

/// The document of `feed` around its items.
pub(super) fn frame<A>(feed: &FeedView<'_, A>) -> Frame {
    Frame::around(write(&channel(feed)), CLOSING)
}

/// The channel of `feed` without items.
fn channel<A>(feed: &FeedView<'_, A>) -> Channel {
    let rss_link = |rel: &str, href: String| Link {
        href,
        rel: rel.into(),
        mime_type: Some(Format::Rss.media_type().into()),
        ..Link::default()
    };
    let mut links = vec![rss_link("self", feed.self_url(Format::Rss))];
    let archived = matches!(feed.place, Place::Archived { .. });
    if archived {
        links.push(rss_link("current", feed.feed_url(Format::Rss)));
    }
    for (rel, number) in [
        ("prev-archive", feed.place.older()),
        ("next-archive", feed.place.newer()),
    ] {
        if let Some(number) = number {
            links.push(rss_link(rel, feed.archive_url(number, Format::Rss)));
        }
    }
    links.extend(feed.site.hubs.iter().map(|hub| Link {
        href: hub.to_string(),
        rel: "hub".into(),
        ..Link::default()
    }));
    let mut namespaces = namespaces();
    let mut extensions = rss::extension::ExtensionMap::default();
    if archived {
        namespaces.insert(HISTORY_PREFIX.into(), HISTORY_NAMESPACE.into());
        let marker = rss::extension::Extension {
            name: format!("{HISTORY_PREFIX}:archive"),
            ..Default::default()
        };
        extensions.insert(
            HISTORY_PREFIX.into(),
            [("archive".to_string(), vec![marker])].into(),
        );
    }
    ChannelBuilder::default()
        .namespaces(namespaces)
        .title(feed.title.clone())
        .link(feed.page_url())
        .description(feed.description.clone())
        .language(Some(feed.site.language.clone()))
        .last_build_date(Some(rfc822(feed.updated)))
        .generator(Some("tidings".to_string()))
        .atom_ext(Some(AtomExtensionBuilder::default().links(links).build()))
        .extensions(extensions)
        .build()
}

/// Items go last in the channel, before this.
const CLOSING: &str = "\n  </channel>";

/// The `<item>` of one entry, as it appears in every feed that holds it.
pub(super) fn entry(site: &Site, entry: &Entry<'_>) -> String {
    // Written by the crate inside a bare channel, then cut out of it.
    static BARE: OnceLock<Frame> = OnceLock::new();
    let bare = || ChannelBuilder::default().namespaces(namespaces()).build();
    let empty = BARE.get_or_init(|| Frame::around(write(&bare()), CLOSING));
    let mut channel = bare();
    channel.set_items(vec![item(site, entry)]);
    cut_entry(write(&channel), empty)
}

fn namespaces() -> BTreeMap<String, String> {
    NAMESPACES
        .iter()
        .map(|&(prefix, uri)| (prefix.to_string(), uri.to_string()))
        .collect()
}

fn write(channel: &Channel) -> String {
    let bytes = channel
        .pretty_write_to(Vec::new(), b' ', 2)
        .expect("writing to memory cannot fail");
    let mut text = String::from_utf8(bytes).expect("the rss crate writes UTF-8");
    text.push('\n');
    hexadecimal_in_plain_text(text)
}

/// The elements holding plain text that the crate escapes with named
/// entities; see the module docs.
const PLAIN_TEXT: [(&str, &str); 2] = [("<title>", "</title>"), ("<dc:creator>", "</dc:creator>")];

/// `xml` with `&amp;`, `&lt;` and `&gt;` in [`PLAIN_TEXT`] elements written
/// as hexadecimal references. Their text holds no `<` (the crate escaped
/// it), so each ends at the first end tag.
fn hexadecimal_in_plain_text(xml: String) -> String {
    if !xml.contains('&') {
        return xml;
    }
    let mut out = String::with_capacity(xml.len() + 64);
    let mut rest = xml.as_str();
    while let Some((at, open, close)) = PLAIN_TEXT
        .iter()
        .filter_map(|&(open, close)| rest.find(open).map(|at| (at, open, close)))
        .min()
    {
        let start = at + open.len();
        let Some(len) = rest[start..].find(close) else {
            break;
        };
        out.push_str(&rest[..start]);
        out.push_str(
            &rest[start..start + len]
                .replace("&amp;", "&#x26;")
                .replace("&lt;", "&#x3C;")
                .replace("&gt;", "&#x3E;"),
        );
        rest = &rest[start + len..];
    }
    out.push_str(rest);
    out
}

fn item(site: &Site, entry: &Entry<'_>) -> Item {
    let article = entry.article;
    let creators = if article.authors.is_empty() {
        vec![site.author.clone()]
    } else {
        article.authors.clone()
    };
    let domain = super::topic_scheme(site);
    ItemBuilder::default()
        .title(Some(article.title.clone()))
        .link(Some(super::link(site, article)))
        .description(Some(escape(&article.summary).into_owned()))
        .content(Some(article.content_html.clone()))
        .guid(Some(
            GuidBuilder::default()
                .value(article.id.as_str().to_string())
                .permalink(article.id.is_permalink())
                .build(),
        ))
        .pub_date(Some(rfc822(article.published)))
        .categories(
            entry
                .categories
                .iter()
                .map(|c| {
                    CategoryBuilder::default()
                        .name(c.title.to_string())
                        .domain(Some(domain.clone()))
                        .build()
                })
                .collect::<Vec<_>>(),
        )
        .dublin_core_ext(Some(
            DublinCoreExtensionBuilder::default()
                .creators(creators)
                .build(),
        ))
        .extensions(LeadImage::of(article).map(media).unwrap_or_default())
        .build()
}

/// The Media RSS elements of a lead image, keyed as the crate keys them
/// (prefix, then local name). No `enclosure`: RSS requires its `length`,
/// which tidings does not know.
fn media(image: LeadImage<'_>) -> ExtensionMap {
    fn extension(element: &MediaElement<'_>) -> Extension {
        Extension {
            name: format!("media:{}", element.name),
            value: element.text.map(str::to_string),
            attrs: element
                .attrs
                .iter()
                .map(|&(k, v)| (k.to_string(), v.to_string()))
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

/// An RFC 822 date as RSS wants it: English names, a four-digit year and a
/// numeric offset (`Fri, 24 May 2024 00:00:00 +0000`).
///
/// RFC 822 cannot write years outside 0–9999 (chrono panics on them), so
/// such a date is clamped to the nearest one it can write: a wrong date in
/// one item is better than no feed at all. Ingest only accepts four-digit
/// years, so this never happens to real input.
pub fn rfc822(date: DateTime<FixedOffset>) -> String {
    let year = date.year();
    if (0..=9999).contains(&year) {
        return date.to_rfc2822();
    }
    let naive = if year < 0 {
        NaiveDate::from_ymd_opt(0, 1, 1).and_then(|d| d.and_hms_opt(0, 0, 0))
    } else {
        NaiveDate::from_ymd_opt(9999, 12, 31).and_then(|d| d.and_hms_opt(23, 59, 59))
    }
    .expect("valid constant date");
    date.offset()
        .from_local_datetime(&naive)
        .single()
        .expect("a fixed offset maps every local time once")
        .to_rfc2822()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spliced_feeds_are_what_the_crate_writes_for_the_whole_channel() {
        let (config, articles) = super::super::tests::fixture();
        let site = crate::select::site_view(&config, &articles);
        for feed in &site.feeds {
            let mut whole = channel(feed);
            whole.set_items(
                feed.entries
                    .iter()
                    .map(|e| item(feed.site, e))
                    .collect::<Vec<_>>(),
            );
            assert_eq!(render_rss(feed), write(&whole), "{}", feed.slug);
        }
    }

    #[test]
    fn rfc822_has_a_four_digit_year_and_a_numeric_offset() {
        let date = DateTime::parse_from_rfc3339("0024-05-24T10:15:00+03:00").unwrap();
        assert_eq!(rfc822(date), "Fri, 24 May 0024 10:15:00 +0300");
        let date = DateTime::parse_from_rfc3339("2024-05-04T00:00:00Z").unwrap();
        assert_eq!(rfc822(date), "Sat, 4 May 2024 00:00:00 +0000");
    }

    #[test]
    fn rfc822_clamps_years_it_cannot_write() {
        let offset = FixedOffset::east_opt(3600).unwrap();
        let far = NaiveDate::from_ymd_opt(12345, 1, 1)
            .unwrap()
            .and_hms_opt(0, 0, 0)
            .unwrap();
        let date = offset.from_local_datetime(&far).unwrap();
        assert_eq!(rfc822(date), "Fri, 31 Dec 9999 23:59:59 +0100");
    }
}
