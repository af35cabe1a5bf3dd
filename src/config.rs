//! `config/tidings.toml`: the raw TOML shape, and the validated settings the
//! rest of tidings uses.
//!
//! Parsing is strict (unknown keys are errors naming the key, file and line)
//! and every setting but the topics has a default, so a short file works.
//! [`Config::parse`] takes text, [`Config::from_file`] reads a file.

use std::path::{Path, PathBuf};

use chrono_tz::Tz;
use serde::Deserialize;
use toml::Spanned;
use url::Url;

use crate::diagnostic::line_of;
use crate::error::{Error, Result};

/// The slug of the feed that holds every article. It cannot be configured.
pub const ALL_SLUG: &str = "all";

/// Validated settings.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    pub site: Site,
    pub http: Http,
    pub seeds: SeedRules,
    /// Configured topics in file order (never contains [`ALL_SLUG`]).
    pub topics: Vec<Topic>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Site {
    pub title: String,
    pub description: String,
    /// Absolute http(s) URL ending in `/`; every URL in a document is
    /// derived from it.
    pub base_url: Url,
    /// BCP 47 language tag, e.g. `en`.
    pub language: String,
    /// Zone of seed dates that carry no offset.
    pub timezone: Tz,
    /// Feed-level author, used where an article names none.
    pub author: String,
    /// Entries per feed document.
    pub max_entries: usize,
    /// WebSub hub advertised in every feed.
    pub hub: Option<Url>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Http {
    pub listen: String,
    pub max_age: u32,
    pub stale_while_revalidate: u32,
    pub stale_if_error: u32,
}

impl Http {
    /// The `Cache-Control` value of every document.
    pub fn cache_control(&self) -> String {
        format!(
            "public, max-age={}, stale-while-revalidate={}, stale-if-error={}",
            self.max_age, self.stale_while_revalidate, self.stale_if_error
        )
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeedRules {
    /// Larger seed files are rejected.
    pub max_file_bytes: u64,
}

/// A configured topic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Topic {
    pub slug: String,
    pub title: String,
    pub description: String,
    /// Whole words or phrases; any match (case-insensitive, in the title or
    /// body) places an article in the topic.
    pub keywords: Vec<String>,
    /// Whole words or phrases; any match keeps an article out, even when it
    /// is tagged with the slug.
    pub exclude: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    #[serde(default)]
    site: RawSite,
    #[serde(default)]
    http: RawHttp,
    #[serde(default)]
    seeds: RawSeeds,
    #[serde(default)]
    topic: Vec<RawTopic>,
}

#[derive(Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct RawSite {
    title: String,
    description: String,
    base_url: Spanned<String>,
    language: String,
    timezone: Spanned<String>,
    author: Option<String>,
    max_entries: Spanned<i64>,
    hub: Option<Spanned<String>>,
}

impl Default for RawSite {
    fn default() -> Self {
        Self {
            title: "tidings".into(),
            description: String::new(),
            base_url: Spanned::new(0..0, "http://127.0.0.1:8080/".into()),
            language: "en".into(),
            timezone: Spanned::new(0..0, "UTC".into()),
            author: None,
            max_entries: Spanned::new(0..0, 50),
            hub: None,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct RawHttp {
    listen: String,
    max_age: u32,
    stale_while_revalidate: u32,
    stale_if_error: u32,
}

impl Default for RawHttp {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:8080".into(),
            max_age: 300,
            stale_while_revalidate: 60,
            stale_if_error: 86_400,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct RawSeeds {
    max_file_bytes: u64,
}

impl Default for RawSeeds {
    fn default() -> Self {
        Self {
            max_file_bytes: 1024 * 1024,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTopic {
    slug: Spanned<String>,
    title: Option<String>,
    #[serde(default)]
    description: String,
    #[serde(default)]
    keywords: Vec<String>,
    #[serde(default)]
    exclude: Vec<String>,
}

impl Config {
    /// Reads and validates a config file.
    pub fn from_file(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|source| Error::ConfigRead {
            path: path.to_owned(),
            source,
        })?;
        Self::parse(&text, path)
    }

    /// Parses and validates config text; `path` only names the file in errors.
    pub fn parse(text: &str, path: &Path) -> Result<Self> {
        let at = |offset: usize, message: String| Error::Config {
            path: PathBuf::from(path),
            line: line_of(text, offset),
            message,
        };
        let raw: RawConfig = toml::from_str(text).map_err(|e| {
            let offset = e.span().map_or(0, |s| s.start);
            at(offset, e.message().trim_end().to_string())
        })?;

        let base_url = parse_base_url(raw.site.base_url.get_ref())
            .map_err(|m| at(raw.site.base_url.span().start, m))?;
        let timezone: Tz = raw.site.timezone.get_ref().parse().map_err(|_| {
            at(
                raw.site.timezone.span().start,
                format!(
                    "unknown time zone `{}` in site.timezone: use an IANA name such as `UTC` or `Europe/Kyiv`",
                    raw.site.timezone.get_ref()
                ),
            )
        })?;
        let max_entries = *raw.site.max_entries.get_ref();
        if max_entries < 1 {
            return Err(at(
                raw.site.max_entries.span().start,
                format!("site.max_entries is {max_entries}: it must be at least 1"),
            ));
        }
        let hub = match &raw.site.hub {
            None => None,
            Some(hub) => Some(
                Url::parse(hub.get_ref())
                    .ok()
                    .filter(|u| matches!(u.scheme(), "http" | "https"))
                    .ok_or_else(|| {
                        at(
                            hub.span().start,
                            format!(
                                "site.hub `{}` is not an absolute http(s) URL",
                                hub.get_ref()
                            ),
                        )
                    })?,
            ),
        };

        let mut topics: Vec<Topic> = Vec::with_capacity(raw.topic.len());
        for t in raw.topic {
            let slug = t.slug.get_ref().clone();
            let offset = t.slug.span().start;
            if slug == ALL_SLUG {
                return Err(at(
                    offset,
                    "the topic slug `all` is reserved for the feed of every article: choose another slug".into(),
                ));
            }
            if slug.is_empty()
                || !slug
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            {
                return Err(at(
                    offset,
                    format!("topic slug `{slug}` must match [a-z0-9-]+ (lower-case letters, digits, hyphens)"),
                ));
            }
            if topics.iter().any(|seen| seen.slug == slug) {
                return Err(at(offset, format!("topic slug `{slug}` is defined twice")));
            }
            for phrase in t.keywords.iter().chain(&t.exclude) {
                if crate::topics::words(phrase).is_empty() {
                    return Err(at(
                        offset,
                        format!("topic `{slug}` has a keyword or exclude `{phrase}` without any word in it"),
                    ));
                }
            }
            topics.push(Topic {
                title: t.title.unwrap_or_else(|| slug.clone()),
                slug,
                description: t.description,
                keywords: t.keywords,
                exclude: t.exclude,
            });
        }

        Ok(Config {
            site: Site {
                author: raw.site.author.unwrap_or_else(|| raw.site.title.clone()),
                title: raw.site.title,
                description: raw.site.description,
                base_url,
                language: raw.site.language,
                timezone,
                max_entries: max_entries as usize,
                hub,
            },
            http: Http {
                listen: raw.http.listen,
                max_age: raw.http.max_age,
                stale_while_revalidate: raw.http.stale_while_revalidate,
                stale_if_error: raw.http.stale_if_error,
            },
            seeds: SeedRules {
                max_file_bytes: raw.seeds.max_file_bytes,
            },
            topics,
        })
    }

    /// Replaces `site.base_url` (the `--base-url` flag).
    pub fn set_base_url(&mut self, base_url: &str) -> std::result::Result<(), String> {
        self.site.base_url = parse_base_url(base_url)?;
        Ok(())
    }
}

/// An absolute http(s) URL, normalised to end in `/` so that joining
/// `feeds/x.atom` keeps any path prefix.
fn parse_base_url(text: &str) -> std::result::Result<Url, String> {
    let mut url = Url::parse(text)
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some())
        .ok_or_else(|| {
            format!("base_url `{text}` is not an absolute http(s) URL such as `https://news.example.org/`")
        })?;
    if url.query().is_some() || url.fragment().is_some() {
        return Err(format!(
            "base_url `{text}` must not have a query or fragment"
        ));
    }
    if !url.path().ends_with('/') {
        let path = format!("{}/", url.path());
        url.set_path(&path);
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Config> {
        Config::parse(text, Path::new("config/tidings.toml"))
    }

    #[test]
    fn everything_but_topics_has_a_default() {
        let config = parse("").unwrap();
        assert_eq!(config.site.max_entries, 50);
        assert_eq!(config.site.timezone, Tz::UTC);
        assert_eq!(config.http.listen, "127.0.0.1:8080");
        assert_eq!(config.seeds.max_file_bytes, 1024 * 1024);
        assert!(config.topics.is_empty());
    }

    #[test]
    fn unknown_key_names_key_file_and_line() {
        let err = parse("[site]\ntitle = \"x\"\ntitel = \"y\"\n")
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("config/tidings.toml:3:"), "{err}");
        assert!(err.contains("titel"), "{err}");
    }

    #[test]
    fn reserved_and_malformed_slugs_are_rejected_with_their_line() {
        let err = parse("[[topic]]\nslug = \"all\"\n")
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("config/tidings.toml:2:") && err.contains("reserved"),
            "{err}"
        );
        let err = parse("[[topic]]\nslug = \"Ukraine\"\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("[a-z0-9-]+"), "{err}");
        let err = parse("[[topic]]\nslug = \"a\"\n[[topic]]\nslug = \"a\"\n")
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("config/tidings.toml:4:") && err.contains("twice"),
            "{err}"
        );
    }

    #[test]
    fn bad_values_are_named() {
        let err = parse("[site]\ntimezone = \"Mars/Olympus\"\n")
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("config/tidings.toml:2:") && err.contains("Mars/Olympus"),
            "{err}"
        );
        let err = parse("[site]\nbase_url = \"/news\"\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("absolute"), "{err}");
        let err = parse("[site]\nmax_entries = 0\n").unwrap_err().to_string();
        assert!(err.contains("at least 1"), "{err}");
    }

    #[test]
    fn base_url_gains_a_trailing_slash() {
        let config = parse("[site]\nbase_url = \"https://example.org/news\"\n").unwrap();
        assert_eq!(config.site.base_url.as_str(), "https://example.org/news/");
        assert_eq!(
            config
                .site
                .base_url
                .join("feeds/all.atom")
                .unwrap()
                .as_str(),
            "https://example.org/news/feeds/all.atom"
        );
    }
}
