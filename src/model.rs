//! The article as every later stage sees it: plain data, already cleaned.
//!
//! Ingest produces these; topics and renderers only read them. Everything
//! here is final text: illegal XML characters are gone, `content_html` is
//! sanitized and its URLs are absolute, `summary` is plain text.

use chrono::{DateTime, FixedOffset};

/// One published article.
#[derive(Debug, Clone, PartialEq)]
pub struct Article {
    /// Permanent id, the same in every format and topic (see [`ArticleId`]).
    pub id: ArticleId,
    /// Path of the seed file relative to the seeds folder, with `/` separators.
    pub source: String,
    /// Where the article's own page is, `/articles/{slug}/`: made from
    /// `source` by [`article_slug`](crate::layout::article_slug), so it is
    /// stable across edits and the same whatever the topics.
    pub slug: String,
    /// The title exactly as written (minus illegal characters).
    pub title: String,
    /// The canonical link, absolute http(s), if the seed has one.
    pub url: Option<String>,
    pub published: DateTime<FixedOffset>,
    /// Equals `published` unless the seed says otherwise.
    pub updated: DateTime<FixedOffset>,
    /// A photo caption and credit shown above the body (seed text format).
    pub caption: Option<String>,
    /// Plain-text paragraphs of the body, used for the summary and for topic
    /// keyword matching.
    pub paragraphs: Vec<String>,
    /// Links that the seed marks as related reading, kept out of the body.
    pub related: Vec<Link>,
    /// The full body as sanitized HTML with absolute URLs.
    pub content_html: String,
    /// Plain text: the seed's own summary or the first paragraph, cut at a
    /// word boundary.
    pub summary: String,
    /// Author names; empty means the site's default author.
    pub authors: Vec<String>,
    /// Front-matter tags; a tag equal to a topic slug places the article in it.
    pub tags: Vec<String>,
    /// Absolute URL of a lead image, if any; `caption` is its caption and
    /// credit.
    pub image: Option<String>,
}

impl Article {
    /// What ranking needs of this article.
    pub fn head(&self) -> ArticleHead {
        ArticleHead {
            id: self.id.clone(),
            source: self.source.clone(),
            published: self.published,
            updated: self.updated,
        }
    }
}

/// What choosing a feed's entries needs of an article, and nothing else:
/// the id (for duplicates), the source (for diagnostics and for reading the
/// article again) and the dates (for the order). Where thousands of
/// articles are ranked but few are shown, only this is kept of the rest;
/// renderers take an [`Article`], so a head is never rendered by mistake.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArticleHead {
    pub id: ArticleId,
    pub source: String,
    pub published: DateTime<FixedOffset>,
    pub updated: DateTime<FixedOffset>,
}

/// What settling duplicate ids by path needs of an article, whole or head.
pub trait Identified {
    fn id(&self) -> &ArticleId;
    /// Path of the seed file under the seeds folder.
    fn source(&self) -> &str;
}

impl Identified for Article {
    fn id(&self) -> &ArticleId {
        &self.id
    }

    fn source(&self) -> &str {
        &self.source
    }
}

impl Identified for ArticleHead {
    fn id(&self) -> &ArticleId {
        &self.id
    }

    fn source(&self) -> &str {
        &self.source
    }
}

/// A link with its visible text. `url` is `None` for placeholders (`#`, empty
/// or relative targets), which are published as plain text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    pub text: String,
    pub url: Option<String>,
}

/// An article id.
///
/// The canonical URL when the article has one (a permalink), otherwise a
/// `urn:uuid:` derived from the seed's path, which is not a permalink. Never
/// derived from content or build time, so an edit keeps the id.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ArticleId {
    Permalink(String),
    Urn(String),
}

impl ArticleId {
    /// The id as it appears in every format.
    pub fn as_str(&self) -> &str {
        match self {
            ArticleId::Permalink(s) | ArticleId::Urn(s) => s,
        }
    }

    /// Whether the id is also a URL a reader can open (RSS `isPermaLink`).
    pub fn is_permalink(&self) -> bool {
        matches!(self, ArticleId::Permalink(_))
    }
}

impl std::fmt::Display for ArticleId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
