//! `config/tidings.toml`: the raw TOML shape, and the validated settings the
//! rest of tidings uses.
//!
//! Parsing is strict (unknown keys are errors naming the key, file and line)
//! and every setting but the topics has a default, so a short file works.
//! [`Config::parse`] takes text, [`Config::from_file`] reads a file.

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono_tz::Tz;
use serde::Deserialize;
use toml::Spanned;
use url::Url;

use crate::diagnostic::line_of;
use crate::error::{Error, Result};

/// The slug of the feed that holds every article. It cannot be configured.
pub const ALL_SLUG: &str = "all";

/// `site.base_url` when the config names none: where `serve` listens by
/// default.
pub const DEFAULT_BASE_URL: &str = "http://127.0.0.1:8080/";

/// A base URL given from outside the config file, applied to it at every
/// read (`tidings serve` re-reads the config on change).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BaseUrlRule {
    /// `--base-url`: replaces whatever the config says.
    Replace(Url),
    /// The address `serve` listens on: replaces the default only, so a
    /// `base_url` written in the config still wins.
    ReplaceDefault(Url),
}

/// Validated settings.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    pub site: Site,
    pub http: Http,
    pub seeds: SeedRules,
    /// `[static]`: the folder of files served and copied as they are.
    pub statics: StaticRules,
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
    /// WebSub hubs advertised in every feed and told of every change, in
    /// the order of the config (`site.hub`: one URL or a list).
    pub hubs: Vec<Url>,
}

/// `[http]`. The limits (the last four) are read at start-up only, like
/// `listen`: a running server keeps the ones it started with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Http {
    pub listen: String,
    pub max_age: u32,
    pub stale_while_revalidate: u32,
    pub stale_if_error: u32,
    /// `max-age` of a full archive page (RFC 5005): its entries change only
    /// when one of its old articles is edited or deleted. Default a year.
    pub archive_max_age: u32,
    /// How long a client may take to send a request's headers, from their
    /// first byte (for a new connection, from its opening).
    pub header_timeout: Duration,
    /// How long a keep-alive connection may sit between requests.
    pub keepalive_timeout: Duration,
    /// The largest request line plus headers; larger ones get `431`.
    pub max_header_bytes: usize,
    /// Open connections past which the least recently active are closed
    /// to make room (lowered at start-up to fit the open-files limit).
    pub max_connections: usize,
    /// Peers whose `X-Forwarded-For` is believed: the access log and the
    /// count of a feed's pollers take the client from its last hop.
    pub trusted_proxies: Vec<IpAddr>,
    /// Whether `serve` logs a line per request (`tidings::access`).
    pub access_log: bool,
    /// Where `serve` answers `/metrics` instead of on `listen` (then the
    /// main listener answers `404` there); read at start-up.
    pub metrics_listen: Option<String>,
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

/// `[static]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaticRules {
    /// The folder; a relative path is taken from the folder that holds the
    /// seeds folder (`static` beside `seeds`).
    pub dir: PathBuf,
    /// Larger files are left out, with a diagnostic.
    pub max_file_bytes: u64,
    /// The files kept in memory in all; files past it (in path order) are
    /// left out, with a diagnostic.
    pub max_total_bytes: u64,
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
    #[serde(default, rename = "static")]
    statics: RawStatic,
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
    /// One URL or a list of them.
    hub: Option<Spanned<toml::Value>>,
}

impl Default for RawSite {
    fn default() -> Self {
        Self {
            title: "tidings".into(),
            description: String::new(),
            base_url: Spanned::new(0..0, DEFAULT_BASE_URL.into()),
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
    archive_max_age: u32,
    header_timeout_secs: Spanned<i64>,
    keepalive_timeout_secs: Spanned<i64>,
    max_header_bytes: Spanned<i64>,
    max_connections: Spanned<i64>,
    trusted_proxies: Vec<Spanned<String>>,
    access_log: bool,
    metrics_listen: Option<String>,
}

/// The accepted range of each `[http]` limit: below it the server would
/// refuse ordinary clients, above it a limit would no longer protect it.
const HEADER_TIMEOUT_SECS: (i64, i64) = (1, 3_600);
const KEEPALIVE_TIMEOUT_SECS: (i64, i64) = (1, 3_600);
const MAX_HEADER_BYTES: (i64, i64) = (1_024, 1_048_576);
const MAX_CONNECTIONS: (i64, i64) = (1, 1_000_000);

impl Default for RawHttp {
    fn default() -> Self {
        // The limits follow nginx: a header timeout well under its 60 s
        // (slow clients hold a connection no longer than needed), its
        // 75 s keep-alive timeout, 16 KiB of headers (nginx allows 8 KiB a
        // line; browsers with large cookies stay well under 16 KiB), and
        // Debian's 768 connections, which fit the usual 1024 open files.
        Self {
            listen: "127.0.0.1:8080".into(),
            max_age: 300,
            stale_while_revalidate: 60,
            stale_if_error: 86_400,
            archive_max_age: 31_536_000,
            header_timeout_secs: Spanned::new(0..0, 20),
            keepalive_timeout_secs: Spanned::new(0..0, 75),
            max_header_bytes: Spanned::new(0..0, 16_384),
            max_connections: Spanned::new(0..0, 768),
            trusted_proxies: Vec::new(),
            access_log: true,
            metrics_listen: None,
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
#[serde(default, deny_unknown_fields)]
struct RawStatic {
    dir: PathBuf,
    max_file_bytes: u64,
    max_total_bytes: u64,
}

impl Default for RawStatic {
    fn default() -> Self {
        // Style sheets, scripts, icons and a few images fit; media belongs
        // on a CDN or object storage, not in a server's memory.
        Self {
            dir: PathBuf::from("static"),
            max_file_bytes: 4 * 1024 * 1024,
            max_total_bytes: 64 * 1024 * 1024,
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
        let text = std::fs::read_to_string(path).map_err(|source| {
            if source.kind() == std::io::ErrorKind::NotFound {
                Error::ConfigMissing {
                    path: path.to_owned(),
                }
            } else {
                Error::ConfigRead {
                    path: path.to_owned(),
                    source,
                }
            }
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
        let hubs = match &raw.site.hub {
            None => Vec::new(),
            Some(hub) => parse_hubs(hub.get_ref()).map_err(|m| at(hub.span().start, m))?,
        };

        let within = |name: &str, value: &Spanned<i64>, (low, high): (i64, i64)| {
            let number = *value.get_ref();
            if (low..=high).contains(&number) {
                Ok(number as u64)
            } else {
                Err(at(
                    value.span().start,
                    format!("http.{name} is {number}: it must be from {low} to {high}"),
                ))
            }
        };
        let header_timeout = within(
            "header_timeout_secs",
            &raw.http.header_timeout_secs,
            HEADER_TIMEOUT_SECS,
        )?;
        let keepalive_timeout = within(
            "keepalive_timeout_secs",
            &raw.http.keepalive_timeout_secs,
            KEEPALIVE_TIMEOUT_SECS,
        )?;
        let max_header_bytes = within(
            "max_header_bytes",
            &raw.http.max_header_bytes,
            MAX_HEADER_BYTES,
        )?;
        let max_connections = within(
            "max_connections",
            &raw.http.max_connections,
            MAX_CONNECTIONS,
        )?;

        let trusted_proxies = raw
            .http
            .trusted_proxies
            .iter()
            .map(|proxy| {
                proxy.get_ref().trim().parse::<IpAddr>().map_err(|_| {
                    at(
                        proxy.span().start,
                        format!(
                            "http.trusted_proxies: `{}` is not an IP address (such as `127.0.0.1` or `::1`)",
                            proxy.get_ref()
                        ),
                    )
                })
            })
            .collect::<Result<Vec<_>>>()?;

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
                if crate::words::words(phrase).is_empty() {
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
                hubs,
            },
            http: Http {
                listen: raw.http.listen,
                max_age: raw.http.max_age,
                stale_while_revalidate: raw.http.stale_while_revalidate,
                stale_if_error: raw.http.stale_if_error,
                archive_max_age: raw.http.archive_max_age,
                header_timeout: Duration::from_secs(header_timeout),
                keepalive_timeout: Duration::from_secs(keepalive_timeout),
                max_header_bytes: max_header_bytes as usize,
                max_connections: max_connections as usize,
                trusted_proxies,
                access_log: raw.http.access_log,
                metrics_listen: raw.http.metrics_listen,
            },
            seeds: SeedRules {
                max_file_bytes: raw.seeds.max_file_bytes,
            },
            statics: StaticRules {
                dir: raw.statics.dir,
                max_file_bytes: raw.statics.max_file_bytes,
                max_total_bytes: raw.statics.max_total_bytes,
            },
            topics,
        })
    }

    /// Replaces `site.base_url` (the `--base-url` flag).
    pub fn set_base_url(&mut self, base_url: &str) -> std::result::Result<(), String> {
        self.site.base_url = parse_base_url(base_url)?;
        Ok(())
    }

    /// Whether `site.base_url` is the default one (unset, or set to it).
    pub fn has_default_base_url(&self) -> bool {
        self.site.base_url.as_str() == DEFAULT_BASE_URL
    }

    /// Applies a base URL given from outside the file.
    pub fn apply_base_url(&mut self, rule: &BaseUrlRule) {
        match rule {
            BaseUrlRule::Replace(url) => self.site.base_url = url.clone(),
            BaseUrlRule::ReplaceDefault(url) if self.has_default_base_url() => {
                self.site.base_url = url.clone();
            }
            BaseUrlRule::ReplaceDefault(_) => {}
        }
    }

    /// Checks a base URL given on the command line, as the config's is.
    pub fn parse_base_url(text: &str) -> std::result::Result<Url, String> {
        parse_base_url(text)
    }
}

/// Hubs a site may name: each is told of every change, by a thread of its
/// own in `serve`.
const MAX_HUBS: usize = 8;

/// `site.hub`: one absolute http(s) URL, or a list of them (no repeats).
fn parse_hubs(value: &toml::Value) -> std::result::Result<Vec<Url>, String> {
    let texts: Vec<&toml::Value> = match value {
        toml::Value::Array(items) => items.iter().collect(),
        one => vec![one],
    };
    if texts.len() > MAX_HUBS {
        return Err(format!(
            "site.hub lists {} hubs: at most {MAX_HUBS} are allowed",
            texts.len()
        ));
    }
    let mut hubs: Vec<Url> = Vec::with_capacity(texts.len());
    for text in texts {
        let Some(text) = text.as_str() else {
            return Err(format!(
                "site.hub must be a URL or a list of URLs, not `{text}`"
            ));
        };
        let hub = Url::parse(text)
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some())
            .ok_or_else(|| format!("site.hub `{text}` is not an absolute http(s) URL"))?;
        if hubs.contains(&hub) {
            return Err(format!("site.hub lists `{text}` twice"));
        }
        hubs.push(hub);
    }
    Ok(hubs)
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
        assert_eq!(config.http.header_timeout, Duration::from_secs(20));
        assert_eq!(config.http.keepalive_timeout, Duration::from_secs(75));
        assert_eq!(config.http.max_header_bytes, 16_384);
        assert_eq!(config.http.max_connections, 768);
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
    fn http_limits_are_read_and_kept_in_range() {
        let config = parse(
            "[http]\nheader_timeout_secs = 5\nkeepalive_timeout_secs = 30\n\
             max_header_bytes = 8192\nmax_connections = 100\n",
        )
        .unwrap();
        assert_eq!(config.http.header_timeout, Duration::from_secs(5));
        assert_eq!(config.http.keepalive_timeout, Duration::from_secs(30));
        assert_eq!(config.http.max_header_bytes, 8192);
        assert_eq!(config.http.max_connections, 100);
        for (text, line, key) in [
            (
                "[http]\nheader_timeout_secs = 0\n",
                2,
                "header_timeout_secs",
            ),
            (
                "[http]\n\nkeepalive_timeout_secs = -1\n",
                3,
                "keepalive_timeout_secs",
            ),
            ("[http]\nmax_header_bytes = 100\n", 2, "max_header_bytes"),
            ("[http]\nmax_connections = 0\n", 2, "max_connections"),
        ] {
            let err = parse(text).unwrap_err().to_string();
            assert!(
                err.starts_with(&format!("config/tidings.toml:{line}:"))
                    && err.contains(key)
                    && err.contains("must be from"),
                "{err}"
            );
        }
        let err = parse("[http]\nheader_timeout = 5\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("header_timeout"), "{err}");
    }

    #[test]
    fn trusted_proxies_are_ip_addresses() {
        let config = parse("[http]\ntrusted_proxies = [\"127.0.0.1\", \"::1\"]\n").unwrap();
        assert_eq!(
            config.http.trusted_proxies,
            [
                IpAddr::from([127, 0, 0, 1]),
                IpAddr::from(std::net::Ipv6Addr::LOCALHOST)
            ]
        );
        assert!(parse("").unwrap().http.trusted_proxies.is_empty());
        assert!(parse("").unwrap().http.access_log);
        assert!(
            !parse("[http]\naccess_log = false\n")
                .unwrap()
                .http
                .access_log
        );
        let err = parse("[http]\ntrusted_proxies = [\"10.0.0.0/8\"]\n")
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("config/tidings.toml:2:") && err.contains("10.0.0.0/8"),
            "{err}"
        );
    }

    #[test]
    fn hub_is_one_url_or_a_list() {
        assert!(parse("").unwrap().site.hubs.is_empty());
        let one = parse("[site]\nhub = \"https://hub.example.org/\"\n").unwrap();
        assert_eq!(one.site.hubs.len(), 1);
        assert_eq!(one.site.hubs[0].as_str(), "https://hub.example.org/");
        let two =
            parse("[site]\nhub = [\"https://hub.example.org/\", \"http://127.0.0.1:9/hub\"]\n")
                .unwrap();
        let hubs: Vec<&str> = two.site.hubs.iter().map(Url::as_str).collect();
        assert_eq!(hubs, ["https://hub.example.org/", "http://127.0.0.1:9/hub"]);
        for (text, wanted) in [
            ("hub = \"/hub\"", "`/hub` is not an absolute http(s) URL"),
            (
                "hub = [\"https://a.example/\", \"ftp://b.example/\"]",
                "`ftp://b.example/`",
            ),
            ("hub = 5", "a URL or a list of URLs"),
            (
                "hub = [\"https://a.example/\", \"https://a.example/\"]",
                "twice",
            ),
        ] {
            let err = parse(&format!("[site]\ntitle = \"x\"\n{text}\n"))
                .unwrap_err()
                .to_string();
            assert!(
                err.starts_with("config/tidings.toml:3:")
                    && err.contains("site.hub")
                    && err.contains(wanted),
                "{err}"
            );
        }
        let many = format!(
            "[site]\nhub = [{}]\n",
            (0..9)
                .map(|i| format!("\"https://hub{i}.example/\""))
                .collect::<Vec<_>>()
                .join(", ")
        );
        assert!(parse(&many).unwrap_err().to_string().contains("at most 8"));
    }

    #[test]
    fn metrics_listen_is_optional() {
        assert_eq!(parse("").unwrap().http.metrics_listen, None);
        let config = parse("[http]\nmetrics_listen = \"127.0.0.1:9100\"\n").unwrap();
        assert_eq!(
            config.http.metrics_listen.as_deref(),
            Some("127.0.0.1:9100")
        );
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

    #[test]
    fn the_static_folder_has_defaults_and_strict_keys() {
        let config = parse("").unwrap();
        assert_eq!(config.statics.dir, PathBuf::from("static"));
        assert_eq!(config.statics.max_file_bytes, 4 * 1024 * 1024);
        let config = parse("[static]\ndir = \"/srv/www\"\nmax_total_bytes = 10\n").unwrap();
        assert_eq!(config.statics.dir, PathBuf::from("/srv/www"));
        assert_eq!(config.statics.max_total_bytes, 10);
        let err = parse("[static]\nfolder = \"x\"\n").unwrap_err().to_string();
        assert!(
            err.contains("config/tidings.toml:2:") && err.contains("folder"),
            "{err}"
        );
    }

    #[test]
    fn a_base_url_from_outside_replaces_the_default_only_when_asked_to() {
        let listen = Url::parse("http://127.0.0.1:8081/").unwrap();
        let mut default = parse("").unwrap();
        assert!(default.has_default_base_url());
        default.apply_base_url(&BaseUrlRule::ReplaceDefault(listen.clone()));
        assert_eq!(default.site.base_url, listen);
        let mut written = parse("[site]\nbase_url = \"https://example.org/\"\n").unwrap();
        written.apply_base_url(&BaseUrlRule::ReplaceDefault(listen.clone()));
        assert_eq!(written.site.base_url.as_str(), "https://example.org/");
        written.apply_base_url(&BaseUrlRule::Replace(listen.clone()));
        assert_eq!(written.site.base_url, listen);
    }
}
