//! Renderers: one module per document type, each a pure function from a view
//! to the document's text.
//!
//! Views are what [`select`](crate::select) makes: the site settings
//! and, per feed, the entries already selected, sorted and cut to
//! `max_entries`. Renderers decide nothing about content, only its form, and
//! read no clock: the same view gives the same bytes.
//!
//! An article is in several feeds, each in three formats, plus the HTML
//! pages. So a document that lists entries (a [`Listing`]) is rendered in two
//! parts: its [`Frame`] (everything around the entries, which depends on the
//! feed) and one text per entry (which depends only on the article and the
//! site). An entry's text is the same in every document of one kind, so it
//! is rendered once and spliced into each: a build or a reload costs one
//! rendering per article and format, not one per feed, and the static build
//! can stream a feed of any size to its file entry by entry.

pub mod article;
pub mod atom;
pub mod html;
pub mod image;
pub mod json;
pub mod opml;
pub mod rss;

use chrono::{DateTime, FixedOffset};

use crate::config::Site;
use crate::layout::{self, Format};
use crate::model::Article;

/// One feed (the reserved `all` or a configured topic), ready to render in
/// any format. Its entries hold whole articles (`A` = [`Article`]) to be
/// rendered, or only their heads ([`ArticleHead`](crate::model::ArticleHead))
/// where a document's frame is all that is wanted of the view: frames take
/// either, entry texts only whole articles.
#[derive(Debug, Clone)]
pub struct FeedView<'a, A = Article> {
    pub site: &'a Site,
    pub slug: &'a str,
    /// The topic's own title (`Ukraine`), or the site title for `all`.
    pub name: String,
    /// Feed title, e.g. `Ukraine – Example News` (the site title for `all`).
    pub title: String,
    pub description: String,
    /// Newest first (ties broken by id), at most `site.max_entries`.
    pub entries: Vec<Entry<'a, A>>,
    /// Articles in this feed before the `max_entries` cut.
    pub total: usize,
    /// Newest `updated` of the entries: the feed's own `updated` and
    /// `lastBuildDate`. For an empty feed, the newest date of the whole site
    /// (or the Unix epoch when there is no article at all), never the clock.
    pub updated: DateTime<FixedOffset>,
    /// Which document of the feed's history this view is.
    pub place: Place,
}

/// Where a feed document stands in its feed's history (RFC 5005 §4, see
/// [`crate::archive`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    /// The subscription document, with the newest entries; `pages` archive
    /// documents hold the older ones (none when 0).
    Current { pages: usize },
    /// Archive document `number` (1 is the oldest) of `pages`.
    Archived { number: usize, pages: usize },
}

impl Place {
    /// The archive page the document links to as `prev-archive` (the
    /// subscription document: the newest page; a page: the one before it).
    pub fn older(self) -> Option<usize> {
        match self {
            Place::Current { pages } => (pages > 0).then_some(pages),
            Place::Archived { number, .. } => (number > 1).then(|| number - 1),
        }
    }

    /// The archive page the document links to as `next-archive`; `None`
    /// for the newest page and the subscription document.
    pub fn newer(self) -> Option<usize> {
        match self {
            Place::Current { .. } => None,
            Place::Archived { number, pages } => (number < pages).then(|| number + 1),
        }
    }
}

impl<A> FeedView<'_, A> {
    /// Absolute URL of this feed in `format` (its `rel="self"`).
    pub fn feed_url(&self, format: Format) -> String {
        layout::absolute(&self.site.base_url, &layout::feed_path(self.slug, format))
    }

    /// Absolute URL of this document in `format`: the subscription
    /// document's, or the archive page's.
    pub fn self_url(&self, format: Format) -> String {
        match self.place {
            Place::Current { .. } => self.feed_url(format),
            Place::Archived { number, .. } => self.archive_url(number, format),
        }
    }

    /// Absolute URL of archive page `number` of this feed in `format`.
    pub fn archive_url(&self, number: usize, format: Format) -> String {
        layout::absolute(
            &self.site.base_url,
            &layout::archive_feed_path(self.slug, number, format),
        )
    }

    /// Absolute URL of the HTML page of archive page `number`.
    pub fn history_url(&self, number: usize) -> String {
        layout::absolute(
            &self.site.base_url,
            &layout::history_page_path(self.slug, number),
        )
    }

    /// Absolute URL of the HTML page of this feed (its `rel="alternate"`):
    /// the home page for `all`, the topic page otherwise, and the history
    /// page of an archive page.
    pub fn page_url(&self) -> String {
        match self.place {
            Place::Archived { number, .. } => self.history_url(number),
            Place::Current { .. } => self.current_page_url(),
        }
    }

    /// Absolute URL of the HTML page of the subscription document.
    pub fn current_page_url(&self) -> String {
        if self.slug == crate::config::ALL_SLUG {
            layout::absolute(&self.site.base_url, layout::HOME_PATH)
        } else {
            layout::absolute(&self.site.base_url, &layout::topic_page_path(self.slug))
        }
    }
}

/// One article in one feed.
#[derive(Debug, Clone)]
pub struct Entry<'a, A = Article> {
    pub article: &'a A,
    /// Where the article is in the list the view was made from, the same in
    /// every feed that holds it.
    pub position: usize,
    /// The configured topics the article is in (not `all`), in config order.
    pub categories: Vec<Category<'a>>,
}

/// RFC 5005's namespace, declared by archive documents in RSS and Atom.
const HISTORY_NAMESPACE: &str = "http://purl.org/syndication/history/1.0";
const HISTORY_PREFIX: &str = "fh";

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

/// The absolute URL of an article's own page, `/articles/{slug}/`.
pub fn article_page_url(site: &Site, article: &Article) -> String {
    layout::absolute(&site.base_url, &layout::article_page_path(&article.slug))
}

/// Where every entry for an article links: its canonical URL, else its
/// own page (an article without one would otherwise lead nowhere).
pub fn link(site: &Site, article: &Article) -> String {
    article
        .url
        .clone()
        .unwrap_or_else(|| article_page_url(site, article))
}

/// A document that lists the entries of one feed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Listing {
    /// The feed in one format.
    Feed(Format),
    /// The HTML page of a topic.
    TopicPage,
    /// The home page, which lists the entries of `all`.
    Home,
}

impl Listing {
    /// Every kind, in the order of [`EntryTexts`].
    pub const ALL: [Listing; 5] = [
        Listing::Feed(Format::Rss),
        Listing::Feed(Format::Atom),
        Listing::Feed(Format::Json),
        Listing::TopicPage,
        Listing::Home,
    ];

    fn position(self) -> usize {
        match self {
            Listing::Feed(Format::Rss) => 0,
            Listing::Feed(Format::Atom) => 1,
            Listing::Feed(Format::Json) => 2,
            Listing::TopicPage => 3,
            Listing::Home => 4,
        }
    }

    /// The document of `feed` without its entries.
    pub fn frame<A>(self, site: &SiteView<'_, A>, feed: &FeedView<'_, A>) -> Frame {
        match self {
            Listing::Feed(Format::Rss) => rss::frame(feed),
            Listing::Feed(Format::Atom) => atom::frame(feed),
            Listing::Feed(Format::Json) => json::frame(feed),
            Listing::TopicPage => html::topic_page_frame(site, feed),
            Listing::Home => html::home_frame(site),
        }
    }

    /// The text of one entry in every document of this kind.
    pub fn entry(self, site: &Site, entry: &Entry<'_>) -> String {
        match self {
            Listing::Feed(Format::Rss) => rss::entry(site, entry),
            Listing::Feed(Format::Atom) => atom::entry(site, entry),
            Listing::Feed(Format::Json) => json::entry(site, entry),
            Listing::TopicPage => html::article(site, entry, "h2"),
            Listing::Home => html::article(site, entry, "h3"),
        }
    }

    /// The whole document of `feed`, its entries rendered on the spot.
    pub fn render(self, site: &SiteView<'_>, feed: &FeedView<'_>) -> String {
        let texts: Vec<String> = feed
            .entries
            .iter()
            .map(|entry| self.entry(site.site, entry))
            .collect();
        self.frame(site, feed)
            .assemble(texts.iter().map(String::as_str))
    }
}

/// A listing document around its entries: `head`, the entries' texts
/// joined by `separator`, then `tail`. Made for the number of entries its
/// feed view holds: an empty feed's frame is the whole document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    pub head: String,
    pub separator: &'static str,
    pub tail: String,
}

impl Frame {
    /// Splits a whole document rendered without entries at the place where
    /// they go: before the last occurrence of `closing`.
    fn around(document: String, closing: &str) -> Frame {
        let at = document
            .rfind(closing)
            .expect("an empty document has its closing tag");
        let mut head = document;
        let tail = head.split_off(at);
        Frame {
            head,
            separator: "",
            tail,
        }
    }

    /// The document with `entries` (their texts, in order).
    pub fn assemble<'t>(&self, entries: impl IntoIterator<Item = &'t str>) -> String {
        let mut out = self.head.clone();
        for (i, text) in entries.into_iter().enumerate() {
            if i > 0 {
                out.push_str(self.separator);
            }
            out.push_str(text);
        }
        out.push_str(&self.tail);
        out
    }
}

/// What an entry's text is cut out of: a document of one entry and the same
/// document without it. The entry is what lies between the empty document's
/// head and tail; the renderer's own writer wrote every byte of it.
fn cut_entry(with_entry: String, empty: &Frame) -> String {
    debug_assert!(
        with_entry.starts_with(&empty.head) && with_entry.ends_with(&empty.tail),
        "the entry sits between the empty document's parts"
    );
    with_entry[empty.head.len()..with_entry.len() - empty.tail.len()].to_string()
}

/// One entry rendered for every kind of listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryTexts([String; 5]);

impl EntryTexts {
    pub fn render(site: &Site, entry: &Entry<'_>) -> Self {
        Self(Listing::ALL.map(|listing| listing.entry(site, entry)))
    }

    pub fn get(&self, listing: Listing) -> &str {
        &self.0[listing.position()]
    }
}

/// The whole site: every feed, `all` first then the topics in config order.
#[derive(Debug, Clone)]
pub struct SiteView<'a, A = Article> {
    pub site: &'a Site,
    pub feeds: Vec<FeedView<'a, A>>,
}

impl<'a, A> SiteView<'a, A> {
    /// Every entry some feed lists, once each (an article is in several
    /// feeds), by position.
    pub fn listed(&self) -> Vec<&Entry<'a, A>> {
        let mut listed: std::collections::BTreeMap<usize, &Entry<'a, A>> = Default::default();
        for feed in &self.feeds {
            for entry in &feed.entries {
                listed.entry(entry.position).or_insert(entry);
            }
        }
        listed.into_values().collect()
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use std::path::Path;

    use crate::config::Config;
    use crate::ingest::SeedParser;
    use crate::model::Article;

    /// A config with two topics and articles that stress what splicing
    /// must keep intact: several per feed, one in no topic, markup and CDATA
    /// terminators in the text, and a topic with no article.
    pub(crate) fn fixture() -> (Config, Vec<Article>) {
        let config = Config::parse(
            "[site]\nbase_url = \"https://news.example.org/\"\nhub = \"https://hub.example.org/\"\n\
             [[topic]]\nslug = \"ukraine\"\ntitle = \"Ukraine\"\nkeywords = [\"Kyiv\"]\n\
             [[topic]]\nslug = \"russia\"\ntitle = \"Russia\"\nkeywords = [\"Moscow\"]\n\
             [[topic]]\nslug = \"empty\"\ntitle = \"Empty\"\nkeywords = [\"Atlantis\"]\n",
            Path::new("tidings.toml"),
        )
        .unwrap();
        let parser = SeedParser::new(&config);
        let seeds = [
            "Kyiv & Moscow <talks>\n\nMay 24, 2024\n\nFirst ]]> paragraph in Kyiv.\n\nSecond, [a link](https://example.org/?a=1&b=2).\n\nOriginal url: https://example.org/one\n",
            "Moscow alone\n\n2024-05-23 10:15\n\nA paragraph from Moscow.\n",
            "Elsewhere\n\n2024-05-22\n\nNothing to classify “here”.\n\nOriginal url: https://example.org/three\n",
        ];
        let articles = seeds
            .iter()
            .enumerate()
            .map(|(i, text)| {
                let relative = format!("{i}.txt");
                parser
                    .parse(&relative, &relative, text.as_bytes())
                    .0
                    .unwrap()
            })
            .collect();
        (config, articles)
    }

    #[test]
    fn entries_link_to_the_original_or_to_the_page() {
        let (config, articles) = super::tests::fixture();
        let site = &config.site;
        assert_eq!(super::link(site, &articles[0]), "https://example.org/one");
        assert_eq!(
            super::link(site, &articles[1]),
            "https://news.example.org/articles/1/"
        );
        assert_eq!(
            super::article_page_url(site, &articles[0]),
            "https://news.example.org/articles/0/"
        );
    }
}
