//! One catalog made ready to serve: every header value of every document
//! built once, when the catalog is swapped in, so a request only looks a
//! path up and clones prebuilt values and `Bytes` (reference counts, no
//! formatting, no copying).
//!
//! A response reads everything from one [`Snapshot`], so its ETag, dates
//! and body always belong to the same catalog generation.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use axum::http::HeaderValue;
use bytes::Bytes;

use crate::catalog::{Catalog, Document, Encoding};

/// Last second an HTTP date can show (9999-12-31T23:59:59Z).
const LAST_HTTP_DATE: u64 = 253_402_300_799;

/// A catalog and its prepared documents.
#[derive(Debug)]
pub struct Snapshot {
    pub catalog: Arc<Catalog>,
    pub cache_control: HeaderValue,
    pub documents: HashMap<Box<str>, Prepared>,
}

/// One document with its header values.
#[derive(Debug)]
pub struct Prepared {
    pub digest: Box<str>,
    /// The document's date, as `Last-Modified` shows it.
    pub last_modified: SystemTime,
    pub last_modified_value: HeaderValue,
    pub content_type: HeaderValue,
    pub cross_origin: bool,
    /// Identity, gzip, brotli: indexed by [`variant_index`].
    pub variants: [Variant; 3],
}

/// One content coding of a document.
#[derive(Debug)]
pub struct Variant {
    pub body: Bytes,
    pub etag: HeaderValue,
    pub content_length: HeaderValue,
    pub content_encoding: Option<HeaderValue>,
}

impl Prepared {
    pub fn variant(&self, encoding: Encoding) -> &Variant {
        &self.variants[variant_index(encoding)]
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
    /// (`publish::assemble` with the previous catalog), so that the server,
    /// `/healthz` and the static build agree.
    pub fn new(catalog: Arc<Catalog>, cache_control: HeaderValue) -> Self {
        let documents = catalog
            .documents()
            .map(|(path, document)| (Box::from(path), Prepared::new(document)))
            .collect();
        Self {
            catalog,
            cache_control,
            documents,
        }
    }
}

impl Prepared {
    fn new(document: &Document) -> Self {
        let last_modified = http_time(document.last_modified.timestamp());
        let variant = |wanted: Encoding| {
            // A document built without compression answers every encoding
            // with its identity bytes.
            let (encoding, body) = match document.body(wanted) {
                Some(body) => (wanted, body.clone()),
                None => (Encoding::Identity, document.identity.clone()),
            };
            Variant {
                etag: HeaderValue::from_str(&document.etag(encoding))
                    .expect("an ETag made of a hex digest is a valid header value"),
                content_length: HeaderValue::from(body.len()),
                content_encoding: encoding.token().map(HeaderValue::from_static),
                body,
            }
        };
        Self {
            digest: document.digest.as_str().into(),
            last_modified,
            last_modified_value: HeaderValue::from_str(&httpdate::fmt_http_date(last_modified))
                .expect("an HTTP date is a valid header value"),
            content_type: HeaderValue::from_static(document.content_type),
            cross_origin: document.cross_origin,
            variants: [
                variant(Encoding::Identity),
                variant(Encoding::Gzip),
                variant(Encoding::Brotli),
            ],
        }
    }
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
    fn dates_outside_http_dates_are_clamped() {
        let cc = HeaderValue::from_static("public");
        let snapshot = Snapshot::new(catalog("x", -86_400), cc);
        assert_eq!(last_modified(&snapshot), 0);
        assert_eq!(
            snapshot.documents["/a"].last_modified_value,
            "Thu, 01 Jan 1970 00:00:00 GMT"
        );
    }
}
