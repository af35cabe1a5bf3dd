//! One catalog made ready to serve: every header of every document built
//! once, when the catalog is swapped in, as whole header maps (the `200`
//! and the `304` of each variant), so a request only looks a path up and
//! clones a prebuilt map and `Bytes` (reference counts, no formatting, no
//! hashing of header names, no copying).
//!
//! A response reads everything from one [`Snapshot`], so its ETag, dates
//! and body always belong to the same catalog generation.
//!
//! Feeds carry WebSub's `Link` headers when hubs are configured
//! ([`FeedLinks`]).
//!
//! Each document also knows its kind for `/metrics`, and a feed keeps the
//! count of its readers ([`FeedReaders`]) from one snapshot to the next.

use std::sync::{Arc, OnceLock};
use std::time::{Duration, SystemTime};

use axum::http::header::{
    ACCESS_CONTROL_ALLOW_ORIGIN, CACHE_CONTROL, CONTENT_ENCODING, CONTENT_LENGTH, CONTENT_TYPE,
    ETAG, LAST_MODIFIED, LINK, VARY, X_CONTENT_TYPE_OPTIONS,
};
use axum::http::{HeaderMap, HeaderValue};
use bytes::Bytes;
use hashbrown::HashMap;
use url::Url;

use super::metrics::Kind;
use super::readers::FeedReaders;
use crate::catalog::{Catalog, Document, Encoding};
use crate::config::Site;
use crate::layout;
use crate::websub::is_subscription_feed;

/// Last second an HTTP date can show (9999-12-31T23:59:59Z).
const LAST_HTTP_DATE: u64 = 253_402_300_799;

pub const VARY_VALUE: HeaderValue = HeaderValue::from_static("Accept-Encoding");
/// Of a feed that has a preview page, and of that page: both are answers
/// at the feed's URL, chosen by `Accept` (see `accept.rs`).
pub const VARY_NEGOTIATED: HeaderValue = HeaderValue::from_static("Accept, Accept-Encoding");
const NOSNIFF: HeaderValue = HeaderValue::from_static("nosniff");
const ANY_ORIGIN: HeaderValue = HeaderValue::from_static("*");

/// A catalog and its prepared documents.
#[derive(Debug)]
pub struct Snapshot {
    pub catalog: Arc<Catalog>,
    pub cache_control: HeaderValue,
    /// By path. hashbrown's default hasher (foldhash, randomly seeded per
    /// map) is several times faster than SipHash on short paths.
    pub documents: HashMap<Box<str>, Prepared>,
    /// The body of every `404` (the catalog's `404.html`), if it has one.
    pub not_found: Option<Bytes>,
}

/// One document with its header values.
#[derive(Debug)]
pub struct Prepared {
    pub digest: Box<str>,
    /// The document's date, as `Last-Modified` shows it.
    pub last_modified: SystemTime,
    /// Identity, gzip, brotli: indexed by [`variant_index`].
    pub variants: [Variant; 3],
    /// Whether the brotli variant is brotli yet (see
    /// `Compression::GzipFirst`).
    pub brotli: bool,
    pub kind: Kind,
    /// A feed's readers, from its first request on (most archive
    /// documents are never asked for, and cost nothing).
    pub readers: OnceLock<Arc<FeedReaders>>,
    /// The path of the page a browser gets instead, for a feed that has
    /// one.
    pub preview: Option<Box<str>>,
}

/// One content coding of a document.
#[derive(Debug)]
pub struct Variant {
    pub body: Bytes,
    pub etag: HeaderValue,
    /// Every header of a `200` (and of the `HEAD` that stands for it).
    pub ok_headers: HeaderMap,
    /// Every header of a `304`: RFC 9110 §15.4.5, the validators,
    /// `Cache-Control` and `Vary` of the `200` it stands for (and CORS), no
    /// representation metadata.
    pub not_modified_headers: HeaderMap,
}

impl Prepared {
    pub fn variant(&self, encoding: Encoding) -> &Variant {
        &self.variants[variant_index(encoding)]
    }

    /// The ETags of the three variants, as sent.
    pub fn etags(&self) -> [&HeaderValue; 3] {
        self.variants.each_ref().map(|variant| &variant.etag)
    }
}

fn variant_index(encoding: Encoding) -> usize {
    match encoding {
        Encoding::Identity => 0,
        Encoding::Gzip => 1,
        Encoding::Brotli => 2,
    }
}

impl Snapshot {
    /// Prepares `catalog`. Dates are the catalog's: keeping `Last-Modified`
    /// moving forward with the ETag across reloads is the pipeline's job
    /// ([`crate::publish::catalog`] with the previous catalog), so that the server,
    /// `/healthz` and the static build agree. The readers of each feed
    /// still in the catalog carry over from `previous`.
    /// Feeds get the `Link` headers of `links`.
    pub fn new(
        catalog: Arc<Catalog>,
        cache_control: HeaderValue,
        links: &FeedLinks,
        previous: Option<&Snapshot>,
    ) -> Self {
        let documents = catalog
            .documents()
            .map(|(path, document)| {
                let preview =
                    Some(layout::preview_of(path)).filter(|preview| catalog.get(preview).is_some());
                // A preview page is negotiated at its feed's URL.
                let previewed = path
                    .strip_suffix(".html")
                    .and_then(|feed| catalog.get(feed))
                    .is_some_and(|feed| is_feed(feed.content_type));
                let vary = if preview.is_some() || previewed {
                    VARY_NEGOTIATED
                } else {
                    VARY_VALUE
                };
                let mut prepared = Prepared::new(document, &cache_control, &links.of(path), vary);
                prepared.preview = preview.map(Box::from);
                if let Some(readers) = previous
                    .and_then(|previous| previous.documents.get(path))
                    .and_then(|before| before.readers.get())
                {
                    let _ = prepared.readers.set(Arc::clone(readers));
                }
                (Box::from(path), prepared)
            })
            .collect();
        let not_found = catalog
            .get(layout::NOT_FOUND_PATH)
            .map(|page| page.identity.clone());
        Self {
            catalog,
            cache_control,
            documents,
            not_found,
        }
    }
}

/// WebSub discovery (WebSub §4) on feed responses: with hubs configured,
/// a subscription feed answers with `Link: <hub>; rel="hub"` for each hub
/// and `Link: <its URL>; rel="self"`, on `200`, `HEAD` and `304` alike, so
/// a hub or subscriber finds both from the headers whatever the format.
#[derive(Debug, Clone, Default)]
pub struct FeedLinks {
    /// `site.base_url`, for the feeds' own URLs; none without hubs.
    base_url: Option<Url>,
    /// One `Link` value per hub.
    hubs: Vec<HeaderValue>,
}

impl FeedLinks {
    pub fn new(site: &Site) -> Self {
        let hubs: Vec<HeaderValue> = site
            .hubs
            .iter()
            .filter_map(|hub| HeaderValue::from_str(&format!("<{hub}>; rel=\"hub\"")).ok())
            .collect();
        Self {
            base_url: (!hubs.is_empty()).then(|| site.base_url.clone()),
            hubs,
        }
    }

    /// The `Link` values of the document at `path`: none but for a
    /// subscription feed, with hubs.
    fn of(&self, path: &str) -> Vec<HeaderValue> {
        let Some(base_url) = self
            .base_url
            .as_ref()
            .filter(|_| is_subscription_feed(path))
        else {
            return Vec::new();
        };
        let own = format!("<{}>; rel=\"self\"", layout::absolute(base_url, path));
        let mut links = self.hubs.clone();
        links.extend(HeaderValue::from_str(&own).ok());
        links
    }
}

impl Prepared {
    pub fn new(
        document: &Document,
        cache_control: &HeaderValue,
        links: &[HeaderValue],
        vary: HeaderValue,
    ) -> Self {
        let last_modified = http_time(document.last_modified.timestamp());
        let last_modified_value = HeaderValue::from_str(&httpdate::fmt_http_date(last_modified))
            .expect("an HTTP date is a valid header value");
        let content_type = HeaderValue::from_static(document.content_type);
        let variant = |wanted: Encoding| {
            // A document built without compression answers every encoding
            // with its identity bytes.
            let (encoding, body) = match document.body(wanted) {
                Some(body) => (wanted, body.clone()),
                None => (Encoding::Identity, document.identity.clone()),
            };
            let etag = HeaderValue::from_str(&document.etag(encoding))
                .expect("an ETag made of a hex digest is a valid header value");
            let mut not_modified_headers = HeaderMap::with_capacity(5);
            not_modified_headers.insert(ETAG, etag.clone());
            not_modified_headers.insert(LAST_MODIFIED, last_modified_value.clone());
            not_modified_headers.insert(CACHE_CONTROL, cache_control.clone());
            not_modified_headers.insert(VARY, vary.clone());
            if document.cross_origin {
                not_modified_headers.insert(ACCESS_CONTROL_ALLOW_ORIGIN, ANY_ORIGIN);
            }
            for link in links {
                not_modified_headers.append(LINK, link.clone());
            }
            let mut ok_headers = not_modified_headers.clone();
            ok_headers.reserve(4);
            ok_headers.insert(CONTENT_TYPE, content_type.clone());
            ok_headers.insert(CONTENT_LENGTH, HeaderValue::from(body.len()));
            ok_headers.insert(X_CONTENT_TYPE_OPTIONS, NOSNIFF);
            if let Some(token) = encoding.token() {
                ok_headers.insert(CONTENT_ENCODING, HeaderValue::from_static(token));
            }
            Variant {
                etag,
                ok_headers,
                not_modified_headers,
                body,
            }
        };
        let variants = [
            variant(Encoding::Identity),
            variant(Encoding::Gzip),
            variant(Encoding::Brotli),
        ];
        let kind = if is_feed(document.content_type) {
            Kind::Feed
        } else if document.content_type.starts_with("text/x-opml") {
            Kind::Opml
        } else {
            Kind::Page
        };
        Self {
            digest: document.digest.as_str().into(),
            last_modified,
            variants,
            brotli: document.brotli.is_some(),
            kind,
            readers: OnceLock::new(),
            preview: None,
        }
    }
}

fn is_feed(content_type: &str) -> bool {
    matches!(
        content_type.split(';').next(),
        Some("application/rss+xml" | "application/atom+xml" | "application/feed+json")
    )
}

/// A Unix timestamp as a time an HTTP date can show.
fn http_time(timestamp: i64) -> SystemTime {
    let seconds = u64::try_from(timestamp).unwrap_or(0).min(LAST_HTTP_DATE);
    SystemTime::UNIX_EPOCH + Duration::from_secs(seconds)
}

#[cfg(test)]
mod tests {
    use chrono::DateTime;

    use super::*;

    fn catalog(body: &str, timestamp: i64) -> Arc<Catalog> {
        let mut catalog = Catalog::new(1, 1, Vec::new());
        let when = DateTime::from_timestamp(timestamp, 0).unwrap();
        catalog.insert(
            "/a",
            Document::new("text/plain", false, body.to_string(), when),
        );
        Arc::new(catalog)
    }

    fn last_modified(snapshot: &Snapshot) -> u64 {
        snapshot.documents["/a"]
            .last_modified
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap()
            .as_secs()
    }

    #[test]
    fn subscription_feeds_link_their_hubs_and_themselves() {
        let site = crate::config::Config::parse(
            "[site]\nbase_url = \"https://news.example.org/n/\"\n\
             hub = [\"https://hub.example.org/\", \"https://hub2.example.org/h\"]\n",
            std::path::Path::new("tidings.toml"),
        )
        .unwrap()
        .site;
        let links = FeedLinks::new(&site);
        let values = |path| -> Vec<String> {
            links
                .of(path)
                .iter()
                .map(|v| v.to_str().unwrap().to_owned())
                .collect()
        };
        assert_eq!(
            values("/feeds/all.atom"),
            [
                "<https://hub.example.org/>; rel=\"hub\"",
                "<https://hub2.example.org/h>; rel=\"hub\"",
                "<https://news.example.org/n/feeds/all.atom>; rel=\"self\"",
            ]
        );
        for path in ["/", "/feeds.opml", "/feeds/all/archive/1.atom"] {
            assert!(values(path).is_empty(), "{path}");
        }
        let without_hubs = crate::config::Config::parse("", std::path::Path::new("t.toml"))
            .unwrap()
            .site;
        assert!(FeedLinks::new(&without_hubs)
            .of("/feeds/all.atom")
            .is_empty());
    }

    #[test]
    fn dates_outside_http_dates_are_clamped() {
        let cc = HeaderValue::from_static("public");
        let snapshot = Snapshot::new(catalog("x", -86_400), cc, &FeedLinks::default(), None);
        assert_eq!(last_modified(&snapshot), 0);
        for variant in &snapshot.documents["/a"].variants {
            for headers in [&variant.ok_headers, &variant.not_modified_headers] {
                assert_eq!(headers[LAST_MODIFIED], "Thu, 01 Jan 1970 00:00:00 GMT");
            }
        }
    }
}
