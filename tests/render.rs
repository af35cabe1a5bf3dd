//! Renderers, black-box: views built by `select::site_view` from a config
//! and hand-made articles (the sample seed as ingest makes it, plus hostile
//! ones), rendered, then read back the way feed readers and validators
//! read them.
//!
//! XML is read with quick-xml into a small tree (see [`Element`]) that
//! resolves namespaces and entity references itself, so a missing namespace
//! declaration, an unknown entity, an unbalanced tag or a character outside
//! XML 1.0 fails the test instead of being papered over.

use std::path::Path;

use chrono::{DateTime, Datelike, FixedOffset};
use proptest::prelude::*;
use quick_xml::events::Event;
use quick_xml::name::ResolveResult;
use quick_xml::NsReader;

use tidings::config::Config;
use tidings::layout::{self, Format};
use tidings::model::{Article, ArticleId, Link};
use tidings::render::article::render_article_page;
use tidings::render::{atom, html, json, opml, rss, Category, FeedView, SiteView};
use tidings::select::site_view;

const CONFIG: &str = r#"
[site]
title = "Example News"
description = "News on Ukraine & Russia, <as> feeds."
base_url = "https://news.example.org/tidings/"
language = "en"
timezone = "UTC"
author = "Example Newsroom"
max_entries = 50
hub = "https://hub.example.org/"

[[topic]]
slug = "ukraine"
title = "Ukraine"
keywords = ["Ukraine", "Ukrainian", "Kyiv", "Kharkiv", "Zelensky", "Crimea"]

[[topic]]
slug = "russia"
title = "Russia"
description = "Russia, the Kremlin & its politics."
keywords = ["Russia", "Russian", "Kremlin", "Moscow", "Putin"]

[[topic]]
slug = "antarctica"
title = "Antarctica"
keywords = ["Antarctica", "penguin"]
"#;

const SAMPLE_URL: &str = "https://www.themoscowtimes.com/2024/05/24/putin-ready-to-freeze-war-on-current-battlefield-lines-reuters-a85215";

fn config() -> Config {
    Config::parse(CONFIG, Path::new("tests/render.toml")).expect("test config is valid")
}

fn date(text: &str) -> DateTime<FixedOffset> {
    DateTime::parse_from_rfc3339(text).expect("test dates are RFC 3339")
}

/// The sample seed `seeds/000_ac2916338c6b5aee.txt` as ingest publishes it.
fn sample() -> Article {
    let paragraphs: Vec<String> = [
        "President Vladimir Putin is seeking to negotiate a ceasefire deal with Ukraine that recognizes the current battlefield lines, Reuters reported Friday, citing several anonymous sources familiar with the matter.",
        "Reports about Putin’s alleged interest in seeking some kind of truce agreement have circulated for months, but the latest comes as Moscow wages a new offensive against northeastern Ukraine’s Kharkiv region — which has led to the evacuation of some 11,000 Ukrainian civilians from the impacted areas.",
        "“Putin can fight for as long as it takes, but Putin is also ready for a ceasefire — to freeze the war,” a Russian source who has worked with Putin and has knowledge of insider talks was quoted as saying by Reuters.",
        "Another source suggested that a ceasefire deal recognizing current battlefield lines could allow the Kremlin chief to tell Russians: “We won... NATO attacked us and we kept our sovereignty... we have a land corridor to Crimea.”",
        "Kremlin spokesman Dmitry Peskov told Reuters that Putin had repeatedly made clear Moscow was open to dialogue and did not want an “eternal war.”",
        "Ukrainian President Volodymyr Zelensky, meanwhile, has rejected any peace agreement on Putin’s terms and vows to reclaim territories currently occupied by Russian forces — including the Crimean peninsula, which was annexed by Moscow in 2014.",
        "Reporting by Reuters indicates that Putin would rather use Russia’s current momentum on the front lines to “put the war behind him” and seek talks directly with the United States, thereby bypassing Zelensky.",
        "However, the Russian leader remains frustrated over what he sees as Western-backed attempts to stymie negotiations, according to a source cited by Reuters. Domestically, Putin is concerned that a protracted war would force him to announce a second highly unpopular mobilization drive, sources said.",
        "U.S. Secretary of State Antony Blinken told reporters on a visit to Kyiv last week that he did not believe Putin was interested in serious negotiations.",
    ]
    .map(String::from)
    .to_vec();
    let caption = "Vladimir Putin with military officers. kremlin.ru";
    let mut content_html = format!("<p><em>{caption}</em></p>\n");
    for p in &paragraphs {
        content_html.push_str(&format!("<p>{p}</p>\n"));
    }
    Article {
        id: ArticleId::Permalink(SAMPLE_URL.into()),
        source: "000_ac2916338c6b5aee.txt".into(),
        slug: "000-ac2916338c6b5aee-b7967f".into(),
        title: "Putin Ready to Freeze War on Current Battlefield Lines – Reuters".into(),
        url: Some(SAMPLE_URL.into()),
        published: date("2024-05-24T00:00:00+00:00"),
        updated: date("2024-05-24T00:00:00+00:00"),
        caption: Some(caption.into()),
        summary: paragraphs[0].clone(),
        paragraphs,
        related: vec![Link {
            text: "Russian Troops 'Bogged Down' in Battle for Vovchansk, Ukraine Says".into(),
            url: None,
        }],
        content_html,
        authors: vec![],
        tags: vec![],
        image: None,
    }
}

/// Pins the fixture to the real thing: what ingest makes of the sample seed
/// is what the renderers are tested (and snapshotted) with.
#[test]
fn the_sample_fixture_is_what_ingest_makes_of_the_seed() {
    let config = config();
    let seeds = Path::new(env!("CARGO_MANIFEST_DIR")).join("seeds");
    let ingested = tidings::ingest::load(&seeds, &config).expect("seeds folder");
    let real = ingested
        .articles
        .iter()
        .find(|a| a.source == "000_ac2916338c6b5aee.txt")
        .expect("the sample seed publishes");
    let fixture = sample();
    // The fields renderers read.
    assert_eq!(real.id, fixture.id);
    assert_eq!(real.slug, fixture.slug);
    assert_eq!(real.title, fixture.title);
    assert_eq!(real.url, fixture.url);
    assert_eq!(real.published, fixture.published);
    assert_eq!(real.updated, fixture.updated);
    assert_eq!(real.summary, fixture.summary);
    assert_eq!(real.content_html, fixture.content_html);
    assert_eq!(real.authors, fixture.authors);
    assert_eq!(real.tags, fixture.tags);
    assert_eq!(real.image, fixture.image);
}

/// Markup characters, a CDATA terminator, an emoji and a non-UTC offset;
/// no canonical URL, so its id is a URN and its link its page. An image
/// whose URL has a query and whose caption and credit hold markup.
fn hostile() -> Article {
    Article {
        id: ArticleId::Urn("urn:uuid:6f1c2a3e-2b1d-5c8e-9a4f-0d2e3c4b5a69".into()),
        source: "local/hostile.md".into(),
        slug: "local/hostile".into(),
        title: "Tom & Jerry <script>alert(1)</script> ]]> \"quoted\" 'single' in Kyiv 🦀".into(),
        url: None,
        published: date("2024-05-25T09:30:00+03:00"),
        updated: date("2024-05-26T12:00:00+03:00"),
        caption: Some("Tom & <Jerry> ]]> \"cat\" | © Hanna–Barbera <studio>".into()),
        paragraphs: vec!["Fish & chips < 5 ]]> done in Kyiv 🦀".into()],
        related: vec![],
        content_html: "<p>Fish &amp; chips &lt; 5 ]]> done, <![CDATA[ nested ]]]]> in <a href=\"https://example.com/?a=1&amp;b=2\">Kyiv</a> 🦀</p>".into(),
        summary: "Fish & chips < 5 ]]> done in Kyiv 🦀".into(),
        authors: vec![],
        tags: vec![],
        image: Some("https://news.example.org/tidings/img/tom.svg?w=1200&h=630".into()),
    }
}

/// Right-to-left text, a URL with a query string, in no configured topic.
fn rtl() -> Article {
    let url = "https://example.net/ar/news?id=7&lang=ar";
    Article {
        id: ArticleId::Permalink(url.into()),
        source: "rtl.txt".into(),
        slug: "rtl".into(),
        title: "مرحبا بالعالم — שלום עולם".into(),
        url: Some(url.into()),
        published: date("2024-05-23T18:45:00-04:00"),
        updated: date("2024-05-23T18:45:00-04:00"),
        caption: None,
        paragraphs: vec!["هذا نص عربي. זה טקסט בעברית.".into()],
        related: vec![],
        content_html: "<p dir=\"rtl\">هذا نص عربي.</p>\n<p dir=\"rtl\">זה טקסט בעברית.</p>\n"
            .into(),
        summary: "هذا نص عربي. זה טקסט בעברית.".into(),
        authors: vec![],
        tags: vec![],
        image: None,
    }
}

/// Its own authors, a tag that places it in a topic, a lead image with a
/// caption and credit.
fn authored() -> Article {
    let url = "https://news.example.org/tidings/articles/authored";
    Article {
        id: ArticleId::Permalink(url.into()),
        source: "authored.md".into(),
        slug: "authored".into(),
        title: "Authored analysis with tags".into(),
        url: Some(url.into()),
        published: date("2024-05-20T08:00:00+02:00"),
        updated: date("2024-05-25T10:00:00+02:00"),
        caption: Some("Two analysts at work. Photo: Jane Doe".into()),
        paragraphs: vec!["An analysis written by two people.".into()],
        related: vec![],
        content_html: "<p>An analysis written by two people.</p>\n<p><img src=\"https://news.example.org/img/a.jpg\" alt=\"\"></p>\n".into(),
        summary: "An analysis written by two people.".into(),
        authors: vec!["Jane Doe".into(), "Иван Петров".into()],
        tags: vec!["russia".into()],
        image: Some("https://news.example.org/img/a.jpg".into()),
    }
}

fn articles() -> Vec<Article> {
    vec![sample(), hostile(), rtl(), authored()]
}

fn feed<'v, 'a>(site: &'v SiteView<'a>, slug: &str) -> &'v FeedView<'a> {
    site.feeds
        .iter()
        .find(|f| f.slug == slug)
        .unwrap_or_else(|| panic!("no feed {slug}"))
}

fn render(feed: &FeedView<'_>, format: Format) -> String {
    match format {
        Format::Rss => rss::render_rss(feed),
        Format::Atom => atom::render_atom(feed),
        Format::Json => json::render_json(feed),
    }
}

/// Every XML document of the site: feeds in RSS and Atom, and the OPML.
fn xml_documents(site: &SiteView<'_>) -> Vec<(String, String)> {
    let mut docs = vec![("/feeds.opml".to_string(), opml::render_opml(site))];
    for feed in &site.feeds {
        for format in [Format::Rss, Format::Atom] {
            docs.push((layout::feed_path(feed.slug, format), render(feed, format)));
        }
    }
    docs
}

fn html_documents(site: &SiteView<'_>) -> Vec<(String, String)> {
    let mut docs = vec![("/".to_string(), html::render_home(site))];
    for feed in site.feeds.iter().skip(1) {
        docs.push((
            layout::topic_page_path(feed.slug),
            html::render_topic_page(site, feed),
        ));
    }
    docs
}

// ---------------------------------------------------------------------------
// A strict little XML tree.

#[derive(Debug, Clone)]
struct Element {
    /// Namespace URI, `None` when unbound.
    ns: Option<String>,
    local: String,
    /// The name as written, prefix included.
    qname: String,
    /// Attributes as written (qualified name, unescaped value).
    attrs: Vec<(String, String)>,
    children: Vec<Element>,
    /// Text and CDATA directly inside, concatenated.
    text: String,
}

impl Element {
    fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    fn all(&self, qname: &str) -> Vec<&Element> {
        self.children.iter().filter(|c| c.qname == qname).collect()
    }

    fn one(&self, qname: &str) -> &Element {
        match self.all(qname).as_slice() {
            [one] => one,
            other => panic!("{} has {} <{qname}>", self.qname, other.len()),
        }
    }

    fn descendants(&self) -> Vec<&Element> {
        let mut out = vec![self];
        for child in &self.children {
            out.extend(child.descendants());
        }
        out
    }
}

/// Parses a whole document, failing on anything a conforming parser
/// rejects that quick-xml alone would let through.
fn parse_xml(doc: &str) -> Element {
    let mut reader = NsReader::from_str(doc);
    reader.config_mut().check_end_names = true;
    reader.config_mut().expand_empty_elements = true;
    let mut stack: Vec<Element> = Vec::new();
    let mut root: Option<Element> = None;
    loop {
        let position = reader.buffer_position();
        let (resolved, event) = match reader.read_resolved_event() {
            Ok(read) => read,
            Err(e) => panic!("not well-formed after byte {position}: {e}"),
        };
        let ns = match resolved {
            ResolveResult::Bound(ns) => Some(String::from_utf8(ns.0.to_vec()).unwrap()),
            ResolveResult::Unbound => None,
            ResolveResult::Unknown(prefix) => panic!(
                "undeclared namespace prefix `{}`",
                String::from_utf8_lossy(&prefix)
            ),
        };
        match event {
            Event::Start(start) => {
                assert!(root.is_none(), "content after the root element");
                let mut attrs = Vec::new();
                for attr in start.attributes() {
                    let attr = attr.expect("well-formed attribute");
                    let (resolved, _) = reader.resolve_attribute(attr.key);
                    let name = String::from_utf8(attr.key.as_ref().to_vec()).unwrap();
                    if let ResolveResult::Unknown(prefix) = resolved {
                        panic!(
                            "undeclared prefix `{}` on attribute {name}",
                            String::from_utf8_lossy(&prefix)
                        );
                    }
                    let value = attr.unescape_value().expect("known entities").into_owned();
                    assert_xml_chars(&value);
                    attrs.push((name, value));
                }
                stack.push(Element {
                    ns,
                    local: String::from_utf8(start.local_name().as_ref().to_vec()).unwrap(),
                    qname: String::from_utf8(start.name().as_ref().to_vec()).unwrap(),
                    attrs,
                    children: Vec::new(),
                    text: String::new(),
                });
            }
            Event::End(_) => {
                let done = stack.pop().expect("balanced");
                match stack.last_mut() {
                    Some(parent) => parent.children.push(done),
                    None => root = Some(done),
                }
            }
            Event::Text(text) => {
                // XML forbids `]]>` in text even outside CDATA.
                assert!(
                    !text.decode().expect("UTF-8").contains("]]>"),
                    "`]]>` in character data"
                );
                let text = text.xml10_content().expect("UTF-8");
                assert_xml_chars(&text);
                match stack.last_mut() {
                    Some(element) => element.text.push_str(&text),
                    None => assert!(text.trim().is_empty(), "text outside the root: {text:?}"),
                }
            }
            Event::CData(cdata) => {
                let text = cdata.xml10_content().expect("UTF-8");
                assert_xml_chars(&text);
                stack
                    .last_mut()
                    .expect("CDATA inside an element")
                    .text
                    .push_str(&text);
            }
            Event::GeneralRef(reference) => {
                let resolved = if reference.is_char_ref() {
                    let c = reference
                        .resolve_char_ref()
                        .expect("valid character reference")
                        .expect("a character reference");
                    c.to_string()
                } else {
                    let name = reference.decode().unwrap();
                    quick_xml::escape::resolve_predefined_entity(&name)
                        .unwrap_or_else(|| panic!("undefined entity &{name};"))
                        .to_string()
                };
                assert_xml_chars(&resolved);
                stack
                    .last_mut()
                    .expect("reference inside an element")
                    .text
                    .push_str(&resolved);
            }
            Event::Eof => break,
            Event::Decl(_) | Event::Comment(_) | Event::PI(_) => {}
            Event::DocType(_) => panic!("no DOCTYPE expected in a feed"),
            Event::Empty(_) => unreachable!("empty elements are expanded"),
        }
    }
    assert!(stack.is_empty(), "unclosed elements at the end");
    root.expect("a root element")
}

#[test]
fn the_xml_checker_rejects_what_validators_reject() {
    let bad = [
        (
            "unbound prefix",
            "<rss><content:encoded>x</content:encoded></rss>",
        ),
        (
            "unbound attribute prefix",
            "<rss><a xlink:href=\"x\"/></rss>",
        ),
        ("raw ampersand", "<a>fish & chips</a>"),
        ("raw less-than", "<a>1 < 2</a>"),
        ("undefined entity", "<a>&nbsp;</a>"),
        ("illegal character reference", "<a>&#1;</a>"),
        ("illegal character", "<a>\u{1}</a>"),
        ("CDATA terminator in text", "<a>x ]]> y</a>"),
        (
            "CDATA terminator inside CDATA",
            "<a><![CDATA[x ]]> y]]></a>",
        ),
        ("mismatched end", "<a><b></a></b>"),
        ("unclosed element", "<a><b></b>"),
        ("two roots", "<a/><b/>"),
    ];
    for (what, doc) in bad {
        let parsed = std::panic::catch_unwind(|| parse_xml(doc));
        assert!(parsed.is_err(), "accepted {what}: {doc}");
    }
    let good = parse_xml(
        "<a xmlns:x=\"urn:x\" x:b=\"1 &amp; 2\"><x:c><![CDATA[1 < 2 ]]]]><![CDATA[>]]></x:c>&#x1F980;</a>",
    );
    assert_eq!(good.attr("x:b"), Some("1 & 2"));
    assert_eq!(good.one("x:c").text, "1 < 2 ]]>");
    assert_eq!(good.one("x:c").ns.as_deref(), Some("urn:x"));
    assert_eq!(good.text, "\u{1F980}");
}

fn assert_xml_chars(text: &str) {
    if let Some(c) = text.chars().find(|&c| !tidings::xml::is_xml_char(c)) {
        panic!("character U+{:04X} is not allowed in XML 1.0", c as u32);
    }
}

/// HTML start tags with their attributes, from pages we wrote ourselves
/// (attributes always double-quoted). Also checks that every non-void
/// element is closed in order.
fn html_tags(doc: &str) -> Vec<(String, Vec<(String, String)>)> {
    const VOID: [&str; 6] = ["meta", "link", "img", "br", "hr", "input"];
    let mut tags = Vec::new();
    let mut open: Vec<String> = Vec::new();
    let mut rest = doc;
    while let Some(at) = rest.find('<') {
        rest = &rest[at + 1..];
        let end = rest.find('>').expect("tag closed");
        let tag = &rest[..end];
        rest = &rest[end + 1..];
        if tag.starts_with('!') {
            continue;
        }
        if let Some(name) = tag.strip_prefix('/') {
            assert_eq!(open.pop().as_deref(), Some(name), "unbalanced </{name}>");
            continue;
        }
        let (name, mut attrs_text) = tag.split_once(' ').unwrap_or((tag, ""));
        let mut attrs = Vec::new();
        while let Some(eq) = attrs_text.find("=\"") {
            let key = attrs_text[..eq].trim().to_string();
            let value_end = attrs_text[eq + 2..].find('"').expect("attribute closed") + eq + 2;
            let raw = &attrs_text[eq + 2..value_end];
            assert!(!raw.contains('<'), "raw < in attribute {key}");
            let value = quick_xml::escape::unescape(raw).expect("known entities");
            attrs.push((key, value.into_owned()));
            attrs_text = &attrs_text[value_end + 1..];
        }
        if !VOID.contains(&name) {
            open.push(name.to_string());
        }
        tags.push((name.to_string(), attrs));
    }
    assert!(open.is_empty(), "unclosed elements: {open:?}");
    tags
}

fn attr<'t>(attrs: &'t [(String, String)], name: &str) -> Option<&'t str> {
    attrs
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
}

/// Checks a date is RFC 822 as RSS needs it, and returns it parsed.
fn assert_rfc822(text: &str) -> DateTime<FixedOffset> {
    const DAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let parts: Vec<&str> = text.split(' ').collect();
    let [weekday, day, month, year, time, zone] = parts.as_slice() else {
        panic!("{text:?}: not `Www, D Mmm YYYY HH:MM:SS +HHMM`");
    };
    let weekday = weekday.strip_suffix(',').expect("comma after the weekday");
    assert!(DAYS.contains(&weekday), "{text:?}: weekday");
    assert!((1..=2).contains(&day.len()) && day.bytes().all(|b| b.is_ascii_digit()));
    assert!(MONTHS.contains(month), "{text:?}: month");
    assert!(
        year.len() == 4 && year.bytes().all(|b| b.is_ascii_digit()),
        "{text:?}: four-digit year"
    );
    assert_eq!(time.len(), 8, "{text:?}: time");
    assert!(
        zone.len() == 5
            && (zone.starts_with('+') || zone.starts_with('-'))
            && zone[1..].bytes().all(|b| b.is_ascii_digit()),
        "{text:?}: numeric offset"
    );
    let parsed = DateTime::parse_from_rfc2822(text).expect("RFC 2822");
    assert_eq!(
        parsed.weekday().to_string(),
        weekday,
        "{text:?}: weekday matches the date"
    );
    parsed
}

/// Checks a date is RFC 3339 (a `T`, and `Z` or an offset), returns it parsed.
fn assert_rfc3339(text: &str) -> DateTime<FixedOffset> {
    assert_eq!(
        text.as_bytes().get(10),
        Some(&b'T'),
        "{text:?}: `T` separator"
    );
    let zoned = text.ends_with('Z') || {
        let tail = &text.as_bytes()[text.len() - 6..];
        (tail[0] == b'+' || tail[0] == b'-') && tail[3] == b':'
    };
    assert!(zoned, "{text:?}: `Z` or an offset");
    DateTime::parse_from_rfc3339(text).expect("RFC 3339")
}

fn json_value(doc: &str) -> serde_json::Value {
    serde_json::from_str(doc).expect("valid JSON")
}

fn is_absolute(url: &str) -> bool {
    (url.starts_with("https://") || url.starts_with("http://"))
        && url::Url::parse(url).is_ok_and(|u| u.host_str().is_some_and(|h| !h.is_empty()))
}

// ---------------------------------------------------------------------------
// Golden documents of the sample article.

#[test]
fn snapshot_sample_rss() {
    let config = config();
    let articles = vec![sample()];
    let site = site_view(&config, &articles);
    insta::assert_snapshot!("sample_rss", rss::render_rss(&site.feeds[0]));
}

#[test]
fn snapshot_sample_atom() {
    let config = config();
    let articles = vec![sample()];
    let site = site_view(&config, &articles);
    insta::assert_snapshot!("sample_atom", atom::render_atom(&site.feeds[0]));
}

#[test]
fn snapshot_sample_json() {
    let config = config();
    let articles = vec![sample()];
    let site = site_view(&config, &articles);
    insta::assert_snapshot!("sample_json", json::render_json(&site.feeds[0]));
}

#[test]
fn snapshot_sample_home() {
    let config = config();
    let articles = vec![sample()];
    let site = site_view(&config, &articles);
    insta::assert_snapshot!("sample_home", html::render_home(&site));
}

#[test]
fn snapshot_sample_topic_page() {
    let config = config();
    let articles = vec![sample()];
    let site = site_view(&config, &articles);
    insta::assert_snapshot!(
        "sample_topic_page",
        html::render_topic_page(&site, feed(&site, "ukraine"))
    );
}

#[test]
fn snapshot_sample_opml() {
    let config = config();
    let articles = vec![sample()];
    let site = site_view(&config, &articles);
    insta::assert_snapshot!("sample_opml", opml::render_opml(&site));
}

// ---------------------------------------------------------------------------
// Read back with feed-rs, as feed readers do.

/// What every format must say about one entry.
fn assert_entry_matches(
    format: Format,
    entry: &feed_rs::model::Entry,
    article: &Article,
    site_author: &str,
) {
    let context = format!("{format:?} {}", article.id);
    assert_eq!(entry.id, article.id.as_str(), "{context}: id");
    assert_eq!(
        entry.title.as_ref().expect("title").content,
        article.title,
        "{context}: title"
    );
    let hrefs: Vec<&str> = entry.links.iter().map(|l| l.href.as_str()).collect();
    assert_eq!(
        hrefs.first().copied(),
        Some(expected_link(article).as_str()),
        "{context}: link"
    );
    assert_eq!(
        entry.published,
        Some(article.published.to_utc()),
        "{context}: published"
    );
    if format != Format::Rss {
        assert_eq!(
            entry.updated,
            Some(article.updated.to_utc()),
            "{context}: updated"
        );
    }
    let summary = &entry.summary.as_ref().expect("summary").content;
    let summary = if format == Format::Rss {
        // RSS description is HTML: the plain-text summary is escaped into it.
        quick_xml::escape::unescape(summary).unwrap().into_owned()
    } else {
        summary.clone()
    };
    assert_eq!(summary, article.summary, "{context}: summary");
    // feed-rs trims Atom's element text (not RSS's CDATA).
    assert_eq!(
        entry
            .content
            .as_ref()
            .and_then(|c| c.body.as_deref())
            .map(str::trim),
        Some(article.content_html.trim()),
        "{context}: content"
    );
    let authors: Vec<&str> = entry.authors.iter().map(|p| p.name.as_str()).collect();
    let expected: Vec<&str> = if article.authors.is_empty() {
        vec![site_author]
    } else {
        article.authors.iter().map(String::as_str).collect()
    };
    assert_eq!(authors, expected, "{context}: authors");
}

/// Where an entry must link: the canonical URL, else the article's page.
fn expected_link(article: &Article) -> String {
    article.url.clone().unwrap_or_else(|| {
        format!(
            "https://news.example.org/tidings/articles/{}/",
            article.slug
        )
    })
}

fn assert_feed_reads_back(format: Format) {
    let config = config();
    let articles = articles();
    let site = site_view(&config, &articles);
    for view in &site.feeds {
        let doc = render(view, format);
        let parsed = feed_rs::parser::parse(doc.as_bytes())
            .unwrap_or_else(|e| panic!("{format:?} {}: feed-rs: {e}", view.slug));
        assert_eq!(
            parsed.title.as_ref().map(|t| t.content.as_str()),
            Some(view.title.as_str())
        );
        if format != Format::Json {
            // JSON Feed has no feed-level date.
            assert_eq!(parsed.updated, Some(view.updated.to_utc()), "{}", view.slug);
        }
        assert!(
            parsed.links.iter().any(|l| l.href == view.page_url()),
            "{format:?} {}: link to the page, got {:?}",
            view.slug,
            parsed.links
        );
        if format == Format::Atom {
            assert_eq!(parsed.id, view.feed_url(Format::Atom));
        }
        assert_eq!(parsed.entries.len(), view.entries.len(), "{}", view.slug);
        for (entry, expected) in parsed.entries.iter().zip(&view.entries) {
            assert_entry_matches(format, entry, expected.article, &config.site.author);
            let categories: Vec<&str> = entry
                .categories
                .iter()
                .map(|c| c.label.as_deref().unwrap_or(&c.term))
                .collect();
            let titles: Vec<&str> = expected.categories.iter().map(|c| c.title).collect();
            assert_eq!(
                categories, titles,
                "{format:?} {}: categories",
                expected.article.id
            );
        }
    }
}

#[test]
fn rss_parses_back_to_the_model() {
    assert_feed_reads_back(Format::Rss);
}

#[test]
fn atom_parses_back_to_the_model() {
    assert_feed_reads_back(Format::Atom);
}

#[test]
fn json_feed_parses_back_to_the_model() {
    assert_feed_reads_back(Format::Json);
}

#[test]
fn the_rss_and_atom_crates_read_their_documents_back() {
    let config = config();
    let articles = articles();
    let site = site_view(&config, &articles);
    for view in &site.feeds {
        let channel = ::rss::Channel::read_from(rss::render_rss(view).as_bytes()).expect("rss");
        assert_eq!(channel.items().len(), view.entries.len());
        let feed =
            atom_syndication::Feed::read_from(atom::render_atom(view).as_bytes()).expect("atom");
        assert_eq!(feed.entries().len(), view.entries.len());
        assert_eq!(feed.lang(), Some("en"));
    }
}

#[test]
fn ids_are_the_same_in_every_format_and_every_feed() {
    let config = config();
    let articles = articles();
    let site = site_view(&config, &articles);
    let mut seen = 0;
    for view in &site.feeds {
        for format in Format::ALL {
            let parsed = feed_rs::parser::parse(render(view, format).as_bytes()).unwrap();
            for entry in &parsed.entries {
                let article = articles
                    .iter()
                    .find(|a| a.id.as_str() == entry.id)
                    .unwrap_or_else(|| panic!("{format:?} {}: unknown id {}", view.slug, entry.id));
                assert_eq!(entry.title.as_ref().unwrap().content, article.title);
                seen += 1;
            }
        }
    }
    // all: 4 articles; ukraine: sample + hostile; russia: sample + authored.
    assert_eq!(seen, 3 * (4 + 2 + 2));
    let ukraine = feed(&site, "ukraine");
    let ids: Vec<&str> = ukraine
        .entries
        .iter()
        .map(|e| e.article.id.as_str())
        .collect();
    assert_eq!(ids, [hostile().id.as_str(), SAMPLE_URL]);
}

// ---------------------------------------------------------------------------
// Format rules (the validators' most frequent complaints).

#[test]
fn rss_self_link_is_the_url_the_feed_is_served_at() {
    let config = config();
    let articles = articles();
    let site = site_view(&config, &articles);
    for view in &site.feeds {
        let rss_doc = parse_xml(&rss::render_rss(view));
        let channel = rss_doc.one("channel");
        let links = channel.all("atom:link");
        let self_link = links
            .iter()
            .find(|l| l.attr("rel") == Some("self"))
            .expect("atom:link rel=self");
        assert_eq!(self_link.ns.as_deref(), Some("http://www.w3.org/2005/Atom"));
        assert_eq!(
            self_link.attr("href"),
            Some(format!("https://news.example.org/tidings/feeds/{}.rss", view.slug).as_str())
        );
        assert_eq!(self_link.attr("type"), Some("application/rss+xml"));
        assert!(links
            .iter()
            .any(|l| l.attr("rel") == Some("hub")
                && l.attr("href") == Some("https://hub.example.org/")));
        assert_eq!(channel.one("link").text, view.page_url());
        assert_eq!(channel.one("generator").text, "tidings");
        assert_eq!(channel.one("language").text, "en");
    }
}

#[test]
fn atom_has_self_alternate_and_hub_links_and_a_stable_id() {
    let config = config();
    let articles = articles();
    let site = site_view(&config, &articles);
    for view in &site.feeds {
        let doc = parse_xml(&atom::render_atom(view));
        assert_eq!(doc.ns.as_deref(), Some("http://www.w3.org/2005/Atom"));
        assert_eq!(doc.attr("xml:lang"), Some("en"));
        let url = format!("https://news.example.org/tidings/feeds/{}.atom", view.slug);
        assert_eq!(doc.one("id").text, url);
        let link = |rel: &str| {
            doc.all("link")
                .into_iter()
                .find(|l| l.attr("rel") == Some(rel))
                .unwrap_or_else(|| panic!("link rel={rel}"))
        };
        assert_eq!(link("self").attr("href"), Some(url.as_str()));
        assert_eq!(link("self").attr("type"), Some("application/atom+xml"));
        assert_eq!(
            link("alternate").attr("href"),
            Some(view.page_url().as_str())
        );
        assert_eq!(link("alternate").attr("type"), Some("text/html"));
        assert_eq!(link("hub").attr("href"), Some("https://hub.example.org/"));
        assert_eq!(doc.one("author").one("name").text, "Example Newsroom");
        for entry in doc.all("entry") {
            let content = entry.one("content");
            assert_eq!(content.attr("type"), Some("html"));
            entry.one("id");
            entry.one("title");
            entry.one("updated");
        }
    }
}

#[test]
fn rss_guid_is_a_permalink_only_when_the_id_is_the_url() {
    let config = config();
    let articles = articles();
    let site = site_view(&config, &articles);
    let doc = parse_xml(&rss::render_rss(&site.feeds[0]));
    let items = doc.one("channel").all("item");
    assert_eq!(items.len(), 4);
    for item in items {
        let guid = item.one("guid");
        let article = articles
            .iter()
            .find(|a| a.id.as_str() == guid.text)
            .unwrap();
        match &article.id {
            ArticleId::Permalink(url) => {
                assert_ne!(guid.attr("isPermaLink"), Some("false"), "{url}");
                assert_eq!(Some(url), article.url.as_ref());
                assert!(is_absolute(&guid.text));
            }
            ArticleId::Urn(urn) => {
                assert_eq!(guid.attr("isPermaLink"), Some("false"), "{urn}");
                assert!(urn.starts_with("urn:"));
            }
        }
    }
}

#[test]
fn rss_dates_are_rfc822_with_four_digit_years_and_matching_weekdays() {
    let config = config();
    let articles = articles();
    let site = site_view(&config, &articles);
    for view in &site.feeds {
        let doc = parse_xml(&rss::render_rss(view));
        let channel = doc.one("channel");
        let built = assert_rfc822(&channel.one("lastBuildDate").text);
        assert_eq!(built, view.updated);
        for (item, entry) in channel.all("item").iter().zip(&view.entries) {
            let published = assert_rfc822(&item.one("pubDate").text);
            assert_eq!(published, entry.article.published);
            // The article's own offset is kept, not converted to UTC.
            assert_eq!(published.offset(), entry.article.published.offset());
        }
    }
    let offsets: Vec<String> = parse_xml(&rss::render_rss(&site.feeds[0]))
        .one("channel")
        .all("item")
        .iter()
        .map(|i| {
            i.one("pubDate")
                .text
                .rsplit(' ')
                .next()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(offsets, ["+0300", "+0000", "-0400", "+0200"]);
}

#[test]
fn atom_and_json_dates_are_rfc3339() {
    let config = config();
    let articles = articles();
    let site = site_view(&config, &articles);
    for view in &site.feeds {
        let doc = parse_xml(&atom::render_atom(view));
        assert_eq!(assert_rfc3339(&doc.one("updated").text), view.updated);
        for (entry, expected) in doc.all("entry").iter().zip(&view.entries) {
            assert_eq!(
                assert_rfc3339(&entry.one("updated").text),
                expected.article.updated
            );
            assert_eq!(
                assert_rfc3339(&entry.one("published").text),
                expected.article.published
            );
        }
        let json = json_value(&json::render_json(view));
        let items = json["items"].as_array().unwrap();
        for (item, expected) in items.iter().zip(&view.entries) {
            assert_eq!(
                assert_rfc3339(item["date_published"].as_str().unwrap()),
                expected.article.published
            );
            assert_eq!(
                assert_rfc3339(item["date_modified"].as_str().unwrap()),
                expected.article.updated
            );
        }
    }
}

#[test]
fn every_namespace_prefix_is_declared() {
    let config = config();
    let articles = articles();
    let site = site_view(&config, &articles);
    let mut prefixes = std::collections::BTreeSet::new();
    for (path, doc) in xml_documents(&site) {
        let root = parse_xml(&doc); // panics on an unbound prefix
        for element in root.descendants() {
            if let Some((prefix, _)) = element.qname.split_once(':') {
                assert!(element.ns.is_some(), "{path}: {} unbound", element.qname);
                prefixes.insert(prefix.to_string());
            }
        }
    }
    // The test would prove nothing if the documents used no prefix.
    let used: Vec<&str> = prefixes.iter().map(String::as_str).collect();
    assert_eq!(used, ["atom", "content", "dc", "media"]);
    let rss_doc = parse_xml(&rss::render_rss(&site.feeds[0]));
    assert_eq!(
        rss_doc.attr("xmlns:content"),
        Some("http://purl.org/rss/1.0/modules/content/")
    );
    assert_eq!(
        rss_doc.attr("xmlns:dc"),
        Some("http://purl.org/dc/elements/1.1/")
    );
    assert_eq!(
        rss_doc.attr("xmlns:atom"),
        Some("http://www.w3.org/2005/Atom")
    );
    assert_eq!(rss_doc.attr("version"), Some("2.0"));
}

#[test]
fn rss_items_put_description_before_content_encoded() {
    let config = config();
    let articles = articles();
    let site = site_view(&config, &articles);
    let doc = parse_xml(&rss::render_rss(&site.feeds[0]));
    for item in doc.one("channel").all("item") {
        let names: Vec<&str> = item.children.iter().map(|c| c.qname.as_str()).collect();
        let description = names
            .iter()
            .position(|&n| n == "description")
            .expect("description");
        let content = names
            .iter()
            .position(|&n| n == "content:encoded")
            .expect("content:encoded");
        assert!(description < content, "{names:?}");
    }
}

#[test]
fn rss_names_authors_with_dc_creator_never_author() {
    let config = config();
    let articles = articles();
    let site = site_view(&config, &articles);
    let doc = parse_xml(&rss::render_rss(&site.feeds[0]));
    for (item, entry) in doc
        .one("channel")
        .all("item")
        .iter()
        .zip(&site.feeds[0].entries)
    {
        assert!(item.all("author").is_empty());
        let creators: Vec<&str> = item
            .all("dc:creator")
            .iter()
            .map(|c| c.text.as_str())
            .collect();
        if entry.article.authors.is_empty() {
            assert_eq!(creators, ["Example Newsroom"]);
        } else {
            assert_eq!(creators, ["Jane Doe", "Иван Петров"]);
        }
    }
}

#[test]
fn no_relative_urls_anywhere() {
    const URL_ATTRIBUTES: [&str; 6] = ["href", "src", "domain", "scheme", "xmlUrl", "htmlUrl"];
    const URL_ELEMENTS: [&str; 4] = ["link", "docs", "uri", "icon"];
    let config = config();
    let articles = articles();
    let site = site_view(&config, &articles);
    let mut checked = 0;
    let check_html_fragment = |context: &str, html: &str| {
        for (_, attrs) in html_tags(&format!("<div>{html}</div>")) {
            for (name, value) in attrs {
                if name == "href" || name == "src" {
                    assert!(
                        is_absolute(&value),
                        "{context}: {name}={value:?} in content"
                    );
                }
            }
        }
    };
    for (path, doc) in xml_documents(&site) {
        let root = parse_xml(&doc);
        for element in root.descendants() {
            for (name, value) in &element.attrs {
                if URL_ATTRIBUTES.contains(&name.as_str()) {
                    assert!(
                        is_absolute(value),
                        "{path}: <{} {name}={value:?}>",
                        element.qname
                    );
                    checked += 1;
                }
            }
            if URL_ELEMENTS.contains(&element.local.as_str()) && element.attrs.is_empty() {
                assert!(
                    is_absolute(&element.text),
                    "{path}: <{}>{}",
                    element.qname,
                    element.text
                );
                checked += 1;
            }
            if element.local == "guid" && element.attr("isPermaLink") != Some("false") {
                assert!(
                    is_absolute(&element.text),
                    "{path}: permalink guid {}",
                    element.text
                );
            }
            if element.qname == "content:encoded" || element.qname == "content" {
                check_html_fragment(&path, &element.text);
            }
        }
        if path.ends_with(".atom") {
            assert!(is_absolute(&root.one("id").text), "{path}: feed id");
        }
    }
    for view in &site.feeds {
        let json = json_value(&json::render_json(view));
        for key in ["home_page_url", "feed_url"] {
            assert!(is_absolute(json[key].as_str().unwrap()), "{key}");
        }
        for hub in json["hubs"].as_array().unwrap() {
            assert!(is_absolute(hub["url"].as_str().unwrap()));
        }
        for item in json["items"].as_array().unwrap() {
            for key in ["url", "image"] {
                if let Some(url) = item.get(key) {
                    assert!(is_absolute(url.as_str().unwrap()), "{key}: {url}");
                    checked += 1;
                }
            }
            check_html_fragment("json", item["content_html"].as_str().unwrap());
        }
    }
    for (path, doc) in html_documents(&site) {
        for (tag, attrs) in html_tags(&doc) {
            for (name, value) in attrs {
                if name == "href" || name == "src" {
                    assert!(is_absolute(&value), "{path}: <{tag} {name}={value:?}>");
                    checked += 1;
                }
            }
        }
    }
    assert!(checked > 100, "only {checked} URLs checked");
}

#[test]
fn markup_and_cdata_terminators_stay_well_formed() {
    let config = config();
    let articles = articles();
    let site = site_view(&config, &articles);
    let hostile = hostile();
    let ukraine = feed(&site, "ukraine");

    let rss_doc = rss::render_rss(ukraine);
    assert!(
        rss_doc.contains("]]>"),
        "the test needs a CDATA section to split"
    );
    let channel_doc = parse_xml(&rss_doc);
    let item = channel_doc.one("channel").all("item")[0];
    assert_eq!(item.one("title").text, hostile.title);
    assert_eq!(item.one("content:encoded").text, hostile.content_html);
    assert_eq!(
        item.one("description").text,
        tidings::xml::escape(&hostile.summary)
    );

    let atom_doc = parse_xml(&atom::render_atom(ukraine));
    let entry = atom_doc.all("entry")[0];
    assert_eq!(entry.one("title").text, hostile.title);
    assert_eq!(entry.one("summary").text, hostile.summary);
    assert_eq!(entry.one("content").text, hostile.content_html);

    let json = json_value(&json::render_json(ukraine));
    assert_eq!(json["items"][0]["title"], hostile.title.as_str());
    assert_eq!(
        json["items"][0]["content_html"],
        hostile.content_html.as_str()
    );
    assert_eq!(json["items"][0]["summary"], hostile.summary.as_str());

    // Every document, XML or not, parses end to end.
    for (_, doc) in xml_documents(&site) {
        parse_xml(&doc);
    }
    for (path, doc) in html_documents(&site) {
        html_tags(&doc);
        assert!(!doc.contains("<script"), "{path}: title markup leaked");
    }
    let home = html::render_home(&site);
    assert!(home.contains(
        "Tom &amp; Jerry &lt;script&gt;alert(1)&lt;/script&gt; ]]&gt; &quot;quoted&quot; &#39;single&#39; in Kyiv 🦀"
    ));
    let opml = parse_xml(&opml::render_opml(&site));
    assert_eq!(opml.one("head").one("title").text, "Example News feeds");
}

#[test]
fn feed_updated_is_the_newest_entry_and_nothing_else() {
    let config = config();
    let articles = articles();
    let site = site_view(&config, &articles);
    let newest = |slug: &str| {
        feed(&site, slug)
            .entries
            .iter()
            .map(|e| e.article.updated)
            .max()
            .unwrap()
    };
    // hostile: published 25 May, updated 26 May, the newest of all.
    assert_eq!(newest("all"), date("2024-05-26T12:00:00+03:00"));
    // russia: the authored article comes last (published first) but was
    // updated last, so it dates the feed.
    assert_eq!(newest("russia"), date("2024-05-25T10:00:00+02:00"));
    assert_eq!(
        feed(&site, "russia").entries[0].article.id.as_str(),
        SAMPLE_URL
    );
    for view in &site.feeds {
        if view.entries.is_empty() {
            continue;
        }
        let expected = newest(view.slug);
        let rss_doc = parse_xml(&rss::render_rss(view));
        assert_eq!(
            assert_rfc822(&rss_doc.one("channel").one("lastBuildDate").text),
            expected
        );
        let atom_doc = parse_xml(&atom::render_atom(view));
        assert_eq!(assert_rfc3339(&atom_doc.one("updated").text), expected);
    }

    // Rendering again (later, from articles read in another order) changes
    // no byte.
    let mut shuffled = articles.clone();
    shuffled.reverse();
    shuffled.swap(0, 1);
    let again = site_view(&config, &shuffled);
    for (a, b) in site.feeds.iter().zip(&again.feeds) {
        for format in Format::ALL {
            assert_eq!(
                render(a, format),
                render(b, format),
                "{} {format:?}",
                a.slug
            );
        }
        if a.slug != "all" {
            assert_eq!(
                html::render_topic_page(&site, a),
                html::render_topic_page(&again, b)
            );
        }
    }
    assert_eq!(html::render_home(&site), html::render_home(&again));
    assert_eq!(opml::render_opml(&site), opml::render_opml(&again));
}

#[test]
fn an_empty_topic_renders_valid_documents() {
    let config = config();
    let articles = articles();
    let site = site_view(&config, &articles);
    let empty = feed(&site, "antarctica");
    assert!(empty.entries.is_empty());
    assert_empty_feed_is_valid(empty);
    let page = html::render_topic_page(&site, empty);
    html_tags(&page);
    assert!(page.contains("No articles yet."));
}

#[test]
fn a_site_without_articles_renders_valid_documents() {
    let config = config();
    let site = site_view(&config, &[]);
    for view in &site.feeds {
        assert_empty_feed_is_valid(view);
    }
    for (_, doc) in html_documents(&site) {
        html_tags(&doc);
    }
    let opml = parse_xml(&opml::render_opml(&site));
    assert!(
        opml.one("head").all("dateModified").is_empty(),
        "no date without content"
    );
    assert_eq!(opml.one("body").one("outline").all("outline").len(), 4);
}

fn assert_empty_feed_is_valid(view: &FeedView<'_>) {
    for format in Format::ALL {
        let doc = render(view, format);
        let parsed = feed_rs::parser::parse(doc.as_bytes())
            .unwrap_or_else(|e| panic!("{format:?} {}: {e}", view.slug));
        assert!(parsed.entries.is_empty());
        if format != Format::Json {
            assert_eq!(parsed.updated, Some(view.updated.to_utc()), "{format:?}");
        }
    }
    let rss_doc = parse_xml(&rss::render_rss(view));
    assert_rfc822(&rss_doc.one("channel").one("lastBuildDate").text);
    ::rss::Channel::read_from(rss::render_rss(view).as_bytes()).expect("rss crate reads it");
    let atom_doc = parse_xml(&atom::render_atom(view));
    assert_rfc3339(&atom_doc.one("updated").text);
    atom_syndication::Feed::read_from(atom::render_atom(view).as_bytes()).expect("atom crate");
    let json = json_value(&json::render_json(view));
    assert_eq!(json["items"], serde_json::json!([]));
}

#[test]
fn json_feed_has_the_1_1_shape() {
    let config = config();
    let articles = articles();
    let site = site_view(&config, &articles);
    let doc = json::render_json(feed(&site, "russia"));
    assert!(doc.ends_with("}\n"));
    let json = json_value(&doc);
    assert_eq!(json["version"], "https://jsonfeed.org/version/1.1");
    assert_eq!(json["title"], "Russia – Example News");
    assert_eq!(
        json["home_page_url"],
        "https://news.example.org/tidings/topics/russia/"
    );
    assert_eq!(
        json["feed_url"],
        "https://news.example.org/tidings/feeds/russia.json"
    );
    assert_eq!(json["description"], "Russia, the Kremlin & its politics.");
    assert_eq!(json["language"], "en");
    assert_eq!(
        json["authors"],
        serde_json::json!([{ "name": "Example Newsroom" }])
    );
    assert_eq!(
        json["hubs"],
        serde_json::json!([{ "type": "WebSub", "url": "https://hub.example.org/" }])
    );
    let keys: Vec<&str> = json
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys.len(), 9, "{keys:?}");
    let items = json["items"].as_array().unwrap();
    assert_eq!(items[0]["id"], SAMPLE_URL);
    assert_eq!(items[0]["url"], SAMPLE_URL);
    assert_eq!(items[0]["tags"], serde_json::json!(["Ukraine", "Russia"]));
    assert!(items[0].get("authors").is_none(), "feed authors apply");
    assert!(items[0].get("image").is_none());
    assert_eq!(
        items[1]["authors"],
        serde_json::json!([{ "name": "Jane Doe" }, { "name": "Иван Петров" }])
    );
    assert_eq!(items[1]["image"], "https://news.example.org/img/a.jpg");
    assert_eq!(items[1]["tags"], serde_json::json!(["Russia"]));

    let all = json_value(&json::render_json(&site.feeds[0]));
    let urn = &all["items"][0];
    assert_eq!(urn["id"], hostile().id.as_str());
    assert_eq!(
        urn["url"], "https://news.example.org/tidings/articles/local/hostile/",
        "the article's page without a canonical link"
    );
}

// ---------------------------------------------------------------------------
// HTML pages.

fn alternates(doc: &str) -> Vec<(String, String, String)> {
    html_tags(doc)
        .into_iter()
        .filter(|(tag, attrs)| tag == "link" && attr(attrs, "rel") == Some("alternate"))
        .map(|(_, attrs)| {
            (
                attr(&attrs, "type").unwrap().to_string(),
                attr(&attrs, "title").unwrap().to_string(),
                attr(&attrs, "href").unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn home_page_advertises_the_all_feeds_for_autodiscovery() {
    let config = config();
    let articles = articles();
    let site = site_view(&config, &articles);
    let home = html::render_home(&site);
    assert!(home.starts_with("<!DOCTYPE html>\n<html lang=\"en\">"));
    assert!(home.contains("<meta charset=\"utf-8\">"));
    assert!(home.contains("<meta name=\"viewport\""));
    assert_eq!(
        alternates(&home),
        [
            (
                "application/rss+xml".to_string(),
                "Example News (RSS)".to_string(),
                "https://news.example.org/tidings/feeds/all.rss".to_string()
            ),
            (
                "application/atom+xml".to_string(),
                "Example News (Atom)".to_string(),
                "https://news.example.org/tidings/feeds/all.atom".to_string()
            ),
            (
                "application/feed+json".to_string(),
                "Example News (JSON Feed)".to_string(),
                "https://news.example.org/tidings/feeds/all.json".to_string()
            ),
        ]
    );
    // The body links every feed of every topic, the OPML and the articles.
    let hrefs: Vec<String> = html_tags(&home)
        .into_iter()
        .filter(|(tag, _)| tag == "a")
        .filter_map(|(_, attrs)| attr(&attrs, "href").map(String::from))
        .collect();
    for view in &site.feeds {
        for format in Format::ALL {
            assert!(
                hrefs.contains(&view.feed_url(format)),
                "{}",
                view.feed_url(format)
            );
        }
    }
    assert!(hrefs.contains(&"https://news.example.org/tidings/feeds.opml".to_string()));
    assert!(hrefs.contains(&SAMPLE_URL.to_string()));
    assert!(home.contains("Ukraine</a> (2 articles)"));
    assert!(home.contains("Antarctica</a> (0 articles)"));
    assert!(home.contains("<time datetime=\"2024-05-24T00:00:00+00:00\">24 May 2024</time>"));
    // The hostile article's date in its own offset, not converted.
    assert!(home.contains("<time datetime=\"2024-05-25T09:30:00+03:00\">25 May 2024</time>"));
    // An article without a URL links to its own page.
    assert!(home.contains(
        "<h3 dir=\"auto\"><a href=\"https://news.example.org/tidings/articles/local/hostile/\">Tom &amp; Jerry"
    ));
}

#[test]
fn topic_page_advertises_its_own_feeds_and_links_home() {
    let config = config();
    let articles = articles();
    let site = site_view(&config, &articles);
    for view in site.feeds.iter().skip(1) {
        let page = html::render_topic_page(&site, view);
        let found = alternates(&page);
        let expected: Vec<(String, String, String)> = Format::ALL
            .iter()
            .map(|&f| {
                (
                    f.media_type().to_string(),
                    format!("{} ({})", view.title, f.label()),
                    format!(
                        "https://news.example.org/tidings/feeds/{}.{}",
                        view.slug,
                        f.extension()
                    ),
                )
            })
            .collect();
        assert_eq!(found, expected, "{}", view.slug);
        assert!(page.contains("<a href=\"https://news.example.org/tidings/\">Example News</a>"));
        for entry in &view.entries {
            assert!(page.contains(&*tidings::xml::escape(&entry.article.title)));
        }
    }
}

// ---------------------------------------------------------------------------
// Escaping, for any text.

/// Reads `<e a="…">…</e>` back: the attribute value and the text content,
/// entity references resolved.
fn read_back(doc: &str) -> (String, String) {
    let root = parse_xml(doc);
    (root.attr("a").expect("attribute").to_string(), root.text)
}

proptest! {
    #[test]
    fn escaped_text_round_trips_through_xml(text in any::<String>()) {
        let (clean, _) = tidings::xml::strip_illegal(&text);
        let escaped = tidings::xml::escape(&clean);
        let doc = format!("<e a=\"{escaped}\">{escaped}</e>");
        let (attribute, content) = read_back(&doc);
        // XML end-of-line handling turns CR and CRLF into LF in text, for
        // every conforming parser; escaping cannot prevent that.
        let expected_text = clean.replace("\r\n", "\n").replace('\r', "\n");
        prop_assert_eq!(content, expected_text);
        prop_assert_eq!(attribute, clean.into_owned());
    }

    #[test]
    fn escaped_markup_heavy_text_round_trips(text in "[<>&\"' \\]a-z\u{1F980}\u{5D0}-\u{5EA}]{0,40}") {
        let escaped = tidings::xml::escape(&text);
        let (attribute, content) = read_back(&format!("<e a='{escaped}'>{escaped}</e>"));
        prop_assert_eq!(&content, &text);
        prop_assert_eq!(&attribute, &text);
    }
}

/// The text of the first `<name>…</name>` after `from` in `doc`, as written.
fn source_text<'d>(doc: &'d str, from: &str, name: &str) -> &'d str {
    let rest = &doc[doc.find(from).expect("marker")..];
    let open = format!("<{name}>");
    let start = rest.find(&open).expect("element") + open.len();
    let len = rest[start..].find(&format!("</{name}>")).expect("end tag");
    &rest[start..start + len]
}

/// What a reader that treats the element's text as HTML shows: character
/// references decoded, anything else left as is.
fn as_html_text(source: &str) -> String {
    source
        .replace("&#x3C;", "<")
        .replace("&#x3E;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&#x26;", "&")
}

#[test]
fn rss_titles_and_creators_with_markup_read_back_as_plain_text() {
    let config = config();
    let mut hostile = hostile();
    hostile.authors = vec!["Ann & <b>Bo</b> <script>x()</script>".into()];
    let articles = vec![sample(), hostile.clone(), rtl(), authored()];
    let site = site_view(&config, &articles);
    let doc = rss::render_rss(feed(&site, "ukraine"));

    // An XML reader gets exactly the title and the author.
    let parsed = feed_rs::parser::parse(doc.as_bytes()).unwrap();
    let entry = parsed
        .entries
        .iter()
        .find(|e| e.id == hostile.id.as_str())
        .expect("the hostile entry");
    assert_eq!(entry.title.as_ref().unwrap().content, hostile.title);
    let authors: Vec<&str> = entry.authors.iter().map(|a| a.name.as_str()).collect();
    assert_eq!(authors, [hostile.authors[0].as_str()]);

    // Written with the profile's hexadecimal references, so a reader that
    // reads the text as HTML finds characters, never a tag.
    assert!(!doc.contains("<script"), "{doc}");
    let guid = format!(">{}</guid>", hostile.id.as_str());
    for (name, plain) in [
        ("title", &hostile.title),
        ("dc:creator", &hostile.authors[0]),
    ] {
        let item_start = doc[..doc.find(&guid).unwrap()].rfind("<item>").unwrap();
        let source = source_text(&doc[item_start..], "<item>", name);
        assert!(!source.contains('<'), "{name}: {source}");
        for named in ["&amp;", "&lt;", "&gt;"] {
            assert!(!source.contains(named), "{name}: {source}");
        }
        assert_eq!(&as_html_text(source), plain, "{name}");
    }
}

// ---------------------------------------------------------------------------
// Images, links to article pages, and the article page.

/// The image each format must carry for `article`, read back by feed-rs
/// (RSS, Atom) or as JSON (feed-rs does not read JSON Feed's `image`).
#[test]
fn lead_images_are_in_every_format_and_read_back() {
    let config = config();
    let articles = articles();
    let site = site_view(&config, &articles);
    let all = feed(&site, "all");
    let expected = |id: &str| -> Option<(&str, &str, &str, &str)> {
        let hostile = hostile();
        let authored = authored();
        if id == hostile.id.as_str() {
            Some((
                "https://news.example.org/tidings/img/tom.svg?w=1200&h=630",
                "image/svg+xml",
                "Tom & <Jerry> ]]> \"cat\"",
                "© Hanna–Barbera <studio>",
            ))
        } else if id == authored.id.as_str() {
            Some((
                "https://news.example.org/img/a.jpg",
                "image/jpeg",
                "Two analysts at work.",
                "Photo: Jane Doe",
            ))
        } else {
            None
        }
    };
    let mut seen = 0;
    for format in [Format::Rss, Format::Atom] {
        let doc = render(all, format);
        let parsed = feed_rs::parser::parse(doc.as_bytes()).expect("feed-rs reads it");
        for entry in &parsed.entries {
            let Some((url, media_type, caption, credit)) = expected(&entry.id) else {
                assert!(entry.media.is_empty(), "{format:?} {}: no image", entry.id);
                continue;
            };
            seen += 1;
            let media = &entry.media[0];
            let content = &media.content[0];
            assert_eq!(content.url.as_ref().map(|u| u.as_str()), Some(url));
            assert_eq!(
                content
                    .content_type
                    .as_ref()
                    .map(|t| t.to_string())
                    .as_deref(),
                Some(media_type)
            );
            assert_eq!(media.thumbnails[0].image.uri, url, "{format:?} thumbnail");
            assert_eq!(
                media.description.as_ref().map(|d| d.content.as_str()),
                Some(caption),
                "{format:?} media:description"
            );
            let credits: Vec<&str> = media.credits.iter().map(|c| c.entity.as_str()).collect();
            assert_eq!(credits, [credit], "{format:?} media:credit");
            if format == Format::Atom {
                let enclosure = entry
                    .links
                    .iter()
                    .find(|l| l.rel.as_deref() == Some("enclosure"))
                    .expect("an enclosure link");
                assert_eq!(enclosure.href, url);
                assert_eq!(enclosure.media_type.as_deref(), Some(media_type));
                assert_eq!(enclosure.length, None, "the length is not known");
            }
        }
        // The XML itself: medium, and no RSS enclosure (its length is unknown).
        let root = parse_xml(&doc);
        for element in root.descendants() {
            assert_ne!(
                element.local, "enclosure",
                "{format:?}: no enclosure element"
            );
            if element.qname == "media:content" {
                assert_eq!(element.ns.as_deref(), Some("http://search.yahoo.com/mrss/"));
                assert_eq!(element.attr("medium"), Some("image"));
            }
        }
    }
    let json = json_value(&json::render_json(all));
    for item in json["items"].as_array().unwrap() {
        match expected(item["id"].as_str().unwrap()) {
            Some((url, ..)) => {
                seen += 1;
                assert_eq!(item["image"], url);
                assert_eq!(item["banner_image"], url);
            }
            None => assert!(item.get("image").is_none() && item.get("banner_image").is_none()),
        }
    }
    assert_eq!(seen, 6, "two articles with images in three formats");
}

/// The shape of every feed stays the same with or without images: the
/// media namespace is declared on the root of RSS and Atom even when no
/// entry uses it.
#[test]
fn the_media_namespace_is_declared_whatever_the_entries() {
    let config = config();
    let articles = vec![sample()];
    let site = site_view(&config, &articles);
    for format in [Format::Rss, Format::Atom] {
        let doc = render(&site.feeds[0], format);
        assert!(
            doc.contains("xmlns:media=\"http://search.yahoo.com/mrss/\""),
            "{format:?}"
        );
        assert!(
            !doc.contains("<media:"),
            "{format:?}: the sample has no image"
        );
    }
}

#[test]
fn entries_without_a_url_link_to_their_page_and_keep_their_urn() {
    let config = config();
    let articles = articles();
    let site = site_view(&config, &articles);
    let hostile = hostile();
    let page = "https://news.example.org/tidings/articles/local/hostile/";
    let ukraine = feed(&site, "ukraine");

    let rss_doc = parse_xml(&rss::render_rss(ukraine));
    let item = rss_doc.one("channel").all("item")[0];
    assert_eq!(item.one("link").text, page);
    assert_eq!(item.one("guid").text, hostile.id.as_str());
    assert_eq!(item.one("guid").attr("isPermaLink"), Some("false"));

    let atom_doc = parse_xml(&atom::render_atom(ukraine));
    let entry = atom_doc.all("entry")[0];
    assert_eq!(entry.one("id").text, hostile.id.as_str());
    let alternate = entry
        .all("link")
        .into_iter()
        .find(|l| l.attr("rel") == Some("alternate"))
        .expect("an alternate link");
    assert_eq!(alternate.attr("href"), Some(page));

    let json = json_value(&json::render_json(ukraine));
    assert_eq!(json["items"][0]["id"], hostile.id.as_str());
    assert_eq!(json["items"][0]["url"], page);

    let topic_page = html::render_topic_page(&site, ukraine);
    assert!(topic_page.contains(&format!("<h2 dir=\"auto\"><a href=\"{page}\">")));
    // An article with a URL still links to the original.
    assert!(html::render_home(&site).contains(&format!("<a href=\"{}\">", SAMPLE_URL)));
}

#[test]
fn every_atom_entry_names_an_author() {
    let config = config();
    let articles = articles();
    let site = site_view(&config, &articles);
    for view in &site.feeds {
        let root = parse_xml(&atom::render_atom(view));
        for entry in root.all("entry") {
            let names: Vec<&str> = entry
                .all("author")
                .iter()
                .map(|a| a.one("name").text.as_str())
                .collect();
            let id = &entry.one("id").text;
            let article = articles.iter().find(|a| a.id.as_str() == id).unwrap();
            let expected: Vec<&str> = if article.authors.is_empty() {
                vec!["Example Newsroom"]
            } else {
                article.authors.iter().map(String::as_str).collect()
            };
            assert_eq!(names, expected, "{id}");
        }
    }
}

#[test]
fn counts_in_pages_agree_with_their_number() {
    let one = Config::parse(
        &CONFIG.replace("max_entries = 50", "max_entries = 1"),
        Path::new("tests/render.toml"),
    )
    .unwrap();
    let articles = articles();
    let site = site_view(&one, &articles);
    let home = html::render_home(&site);
    assert!(home.contains(">Older articles</a>"), "{home}");
    assert!(!home.contains(" 1 articles"));
    let single = vec![sample()];
    let site = site_view(&one, &single);
    let home = html::render_home(&site);
    assert!(home.contains("(1 article)"), "{home}");
    let russia = html::render_topic_page(&site, feed(&site, "russia"));
    assert!(russia.contains("<p>1 article. Subscribe"), "{russia}");
    assert!(!russia.contains("1 articles"));
}

/// The page of `article` as the site shows it, with its topics.
fn article_page(config: &Config, article: &Article) -> String {
    let matcher = tidings::topics::Matcher::new(&config.topics);
    let categories: Vec<Category<'_>> = matcher
        .classify(article)
        .into_iter()
        .map(|i| Category {
            slug: &config.topics[i].slug,
            title: &config.topics[i].title,
        })
        .collect();
    render_article_page(&config.site, article, &categories)
}

#[test]
fn snapshot_sample_article_page() {
    insta::assert_snapshot!("sample_article_page", article_page(&config(), &sample()));
}

/// An HTML5 tokenizer's reading of a page: what a browser sees.
#[derive(Debug, PartialEq)]
enum Html5 {
    Start(String, Vec<(String, String)>),
    End(String),
    Text(String),
    Error(String),
}

fn html5_tokens(doc: &str) -> Vec<Html5> {
    use html5ever::tokenizer::{
        BufferQueue, TagKind, Token, TokenSink, TokenSinkResult, Tokenizer, TokenizerOpts,
    };
    use std::cell::RefCell;

    #[derive(Default)]
    struct Sink(RefCell<Vec<Html5>>);
    impl TokenSink for Sink {
        type Handle = ();
        fn process_token(&self, token: Token, _line: u64) -> TokenSinkResult<()> {
            let mut tokens = self.0.borrow_mut();
            match token {
                Token::TagToken(tag) => {
                    let name = tag.name.to_string();
                    if tag.kind == TagKind::EndTag {
                        tokens.push(Html5::End(name));
                        return TokenSinkResult::Continue;
                    }
                    let attrs = tag
                        .attrs
                        .iter()
                        .map(|a| (a.name.local.to_string(), a.value.to_string()))
                        .collect();
                    tokens.push(Html5::Start(name.clone(), attrs));
                    // What a tree builder tells the tokenizer: these
                    // elements' contents are text up to their end tag.
                    use html5ever::tokenizer::states::RawKind;
                    return match name.as_str() {
                        "script" => TokenSinkResult::RawData(RawKind::ScriptData),
                        "title" => TokenSinkResult::RawData(RawKind::Rcdata),
                        "style" => TokenSinkResult::RawData(RawKind::Rawtext),
                        _ => TokenSinkResult::Continue,
                    };
                }
                Token::CharacterTokens(text) => match tokens.last_mut() {
                    Some(Html5::Text(t)) => t.push_str(&text),
                    _ => tokens.push(Html5::Text(text.to_string())),
                },
                Token::ParseError(e) => tokens.push(Html5::Error(e.to_string())),
                _ => {}
            }
            TokenSinkResult::Continue
        }
    }

    let input = BufferQueue::default();
    input.push_back(doc.into());
    let tokenizer = Tokenizer::new(Sink::default(), TokenizerOpts::default());
    let _ = tokenizer.feed(&input);
    tokenizer.end();
    tokenizer.sink.0.take()
}

/// The text inside the first `name` element, as the tokenizer read it.
fn html5_text(tokens: &[Html5], name: &str) -> String {
    let at = tokens
        .iter()
        .position(|t| matches!(t, Html5::Start(n, _) if n == name))
        .unwrap_or_else(|| panic!("no <{name}>"));
    match (&tokens[at + 1], &tokens[at + 2]) {
        (Html5::Text(text), Html5::End(end)) if end == name => text.clone(),
        other => panic!("<{name}> holds {other:?}"),
    }
}

fn html5_meta<'t>(tokens: &'t [Html5], property: &str) -> Vec<&'t str> {
    tokens
        .iter()
        .filter_map(|t| match t {
            Html5::Start(name, attrs) if name == "meta" => {
                let get = |key: &str| {
                    attrs
                        .iter()
                        .find(|(k, _)| k == key)
                        .map(|(_, v)| v.as_str())
                };
                (get("property") == Some(property)).then(|| get("content").unwrap_or(""))
            }
            _ => None,
        })
        .collect()
}

#[test]
fn article_pages_survive_hostile_titles_in_a_real_html5_tokenizer() {
    let config = config();
    for title in [
        "</script><script>alert(1)</script>",
        "<!-- </script> --> & <b>bold</b> \"q\" 'a'",
        "</title></head><body onload=alert(1)>",
        "<\u{2028}/script>\u{2029} ]]> 🦀",
    ] {
        let mut article = hostile();
        article.title = title.into();
        // A body as the sanitizer leaves it (the fixture's holds a CDATA
        // section, which HTML reads as a bogus comment).
        article.content_html = "<p>Fish &amp; chips &lt; 5 ]]&gt; done.</p>".into();
        let page = article_page(&config, &article);
        let tokens = html5_tokens(&page);
        let errors: Vec<_> = tokens
            .iter()
            .filter(|t| matches!(t, Html5::Error(_)))
            .collect();
        assert!(errors.is_empty(), "{title}: {errors:?}");
        let scripts = tokens
            .iter()
            .filter(|t| matches!(t, Html5::Start(n, _) if n == "script"))
            .count();
        assert_eq!(scripts, 1, "{title}: exactly the JSON-LD script");
        let ld: serde_json::Value =
            serde_json::from_str(&html5_text(&tokens, "script")).expect("JSON-LD is JSON");
        assert_eq!(ld["headline"], title);
        assert_eq!(ld["@type"], "NewsArticle");
        assert_eq!(
            html5_text(&tokens, "title"),
            format!("{title} – Example News")
        );
        assert_eq!(html5_text(&tokens, "h1"), title);
        assert_eq!(html5_meta(&tokens, "og:title"), [title]);
        // No element but those the page writes itself.
        for token in &tokens {
            if let Html5::Start(name, attrs) = token {
                assert_ne!(name, "b", "{title}");
                assert!(
                    attrs.iter().all(|(k, _)| !k.starts_with("on")),
                    "{title}: event handler on <{name}>"
                );
            }
        }
    }
}

#[test]
fn article_page_has_its_image_topics_feeds_and_sharing_metadata() {
    let config = config();
    let article = authored();
    let page = article_page(&config, &article);
    html_tags(&page);
    let tokens = html5_tokens(&page);
    assert!(
        !tokens.iter().any(|t| matches!(t, Html5::Error(_))),
        "{tokens:?}"
    );
    let start = |name: &str| -> Vec<&Vec<(String, String)>> {
        tokens
            .iter()
            .filter_map(|t| match t {
                Html5::Start(n, attrs) if n == name => Some(attrs),
                _ => None,
            })
            .collect()
    };
    let image = "https://news.example.org/img/a.jpg";
    let img = start("img");
    // The body holds an <img> too; the figure's comes first.
    assert_eq!(attr(img[0], "src"), Some(image));
    assert_eq!(attr(img[0], "alt"), Some("Two analysts at work."));
    assert_eq!(
        html5_text(&tokens, "small"),
        "Photo: Jane Doe",
        "the credit in the figcaption"
    );
    let canonical: Vec<_> = start("link")
        .into_iter()
        .filter(|a| attr(a, "rel") == Some("canonical"))
        .collect();
    assert_eq!(attr(canonical[0], "href"), article.url.as_deref());
    let feeds: Vec<&str> = start("link")
        .into_iter()
        .filter(|a| attr(a, "rel") == Some("alternate"))
        .filter_map(|a| attr(a, "href"))
        .collect();
    let base = "https://news.example.org/tidings/feeds/";
    assert_eq!(
        feeds,
        [
            format!("{base}all.rss"),
            format!("{base}all.atom"),
            format!("{base}all.json"),
            format!("{base}russia.rss"),
            format!("{base}russia.atom"),
            format!("{base}russia.json"),
        ]
    );
    assert!(page.contains("<a href=\"https://news.example.org/tidings/topics/russia/\">Russia</a>"));
    assert!(page.contains(">Jane Doe</span> and <span dir=\"auto\">Иван Петров</span>"));
    for (property, expected) in [
        ("og:type", vec!["article"]),
        ("og:title", vec![article.title.as_str()]),
        ("og:url", vec![article.url.as_deref().unwrap()]),
        ("og:description", vec![article.summary.as_str()]),
        ("og:image", vec![image]),
        ("og:image:type", vec!["image/jpeg"]),
        ("og:site_name", vec!["Example News"]),
        ("article:published_time", vec!["2024-05-20T08:00:00+02:00"]),
        ("article:modified_time", vec!["2024-05-25T10:00:00+02:00"]),
        ("article:tag", vec!["Russia"]),
    ] {
        assert_eq!(html5_meta(&tokens, property), expected, "{property}");
    }
    let ld: serde_json::Value = serde_json::from_str(&html5_text(&tokens, "script")).unwrap();
    assert_eq!(ld["@context"], "https://schema.org");
    assert_eq!(ld["headline"], article.title.as_str());
    assert_eq!(ld["datePublished"], "2024-05-20T08:00:00+02:00");
    assert_eq!(ld["dateModified"], "2024-05-25T10:00:00+02:00");
    assert_eq!(ld["image"][0], image);
    assert_eq!(
        ld["mainEntityOfPage"]["@id"],
        article.url.as_deref().unwrap()
    );
    assert_eq!(ld["publisher"]["name"], "Example News");
    assert_eq!(ld["author"][1]["name"], "Иван Петров");
    assert_eq!(ld["author"][1]["@type"], "Person");
}

#[test]
fn an_article_without_a_url_is_its_own_canonical_page_by_the_site_author() {
    let config = config();
    let article = hostile();
    let page = article_page(&config, &article);
    let tokens = html5_tokens(&page);
    let own = "https://news.example.org/tidings/articles/local/hostile/";
    assert!(page.contains(&format!("<link rel=\"canonical\" href=\"{own}\">")));
    assert_eq!(html5_meta(&tokens, "og:url"), [own]);
    let ld: serde_json::Value = serde_json::from_str(&html5_text(&tokens, "script")).unwrap();
    assert_eq!(ld["mainEntityOfPage"]["@id"], own);
    assert_eq!(ld["author"][0]["name"], "Example Newsroom");
    assert!(page.contains(" · By <span dir=\"auto\">Example Newsroom</span>"));
    // Published and updated differ: both are shown, machine-readable.
    assert!(page.contains("<time datetime=\"2024-05-25T09:30:00+03:00\">25 May 2024</time>, updated <time datetime=\"2024-05-26T12:00:00+03:00\">26 May 2024</time>"));
    assert!(!page.contains("Originally published"));
    // The caption and credit, escaped, with the credit apart.
    assert_eq!(html5_text(&tokens, "small"), "© Hanna–Barbera <studio>");
}

#[test]
fn related_links_the_body_lacks_are_listed_on_the_page() {
    let config = config();
    let mut article = sample();
    article.related.push(tidings::model::Link {
        text: "In the body already".into(),
        url: Some("https://example.org/r?a=1&b=2".into()),
    });
    article
        .content_html
        .push_str("<p>Related: <a href=\"https://example.org/r?a=1&amp;b=2\" rel=\"noopener noreferrer\">In the body already</a></p>\n");
    article.related.push(tidings::model::Link {
        text: "Not in the body".into(),
        url: Some("https://example.org/s".into()),
    });
    let page = article_page(&config, &article);
    let aside = &page[page.find("<aside").expect("a related section")..];
    assert!(aside.contains(
        "<cite>Russian Troops &#39;Bogged Down&#39; in Battle for Vovchansk, Ukraine Says</cite>"
    ));
    assert!(aside.contains("<a href=\"https://example.org/s\">Not in the body</a>"));
    assert!(!aside.contains("In the body already"));
}
