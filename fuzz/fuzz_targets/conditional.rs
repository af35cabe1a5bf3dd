//! Conditional requests (`tidings::http::conditional`). The input is a
//! request as text: a method line, then `Name: value` header lines
//! (If-None-Match, If-Match, If-Modified-Since, If-Unmodified-Since, or any
//! other). For a document with a fixed digest and modification time:
//!
//! - `evaluate_fast` (the If-None-Match shortcut) answers exactly what the
//!   full `evaluate` does;
//! - HEAD is answered as GET; only GET and HEAD ever get `304`;
//! - a request without any precondition header is sent (200);
//! - GET with one `If-None-Match` naming one of the document's own tags
//!   (as sent, or weakened by a proxy) is `304` when nothing else is
//!   conditional.
#![no_main]

use std::time::{Duration, SystemTime};

use http::header::{IF_MATCH, IF_MODIFIED_SINCE, IF_NONE_MATCH, IF_UNMODIFIED_SINCE};
use http::{HeaderValue, Method};
use libfuzzer_sys::fuzz_target;
use tidings::http::conditional::{evaluate, evaluate_fast, Outcome};
use tidings_fuzz::RequestInput;

/// A digest in the form tidings makes them (hex of 128-bit XXH3).
const DIGEST: &str = "5f2b9d0c41e8a7736b1c0de29a4f8e10";
/// Fri, 24 May 2024 10:15:30 GMT
const LAST_MODIFIED: u64 = 1_716_545_730;

fuzz_target!(|data: &[u8]| {
    let Some(request) = RequestInput::parse(data) else {
        return;
    };
    let (method, headers) = (&request.method, &request.headers);
    let last_modified = SystemTime::UNIX_EPOCH + Duration::from_secs(LAST_MODIFIED);
    let own: Vec<HeaderValue> = ["", "-gzip", "-br"]
        .iter()
        .map(|suffix| HeaderValue::from_str(&format!("\"{DIGEST}{suffix}\"")).unwrap())
        .collect();
    let own: Vec<&HeaderValue> = own.iter().collect();

    let full = evaluate(method, headers, DIGEST, last_modified);
    let fast = evaluate_fast(method, headers, DIGEST, last_modified, &own);
    assert_eq!(
        fast, full,
        "the shortcut disagrees for {method} {headers:?}"
    );

    if *method == Method::HEAD || *method == Method::GET {
        let other = if *method == Method::HEAD {
            Method::GET
        } else {
            Method::HEAD
        };
        assert_eq!(
            evaluate(&other, headers, DIGEST, last_modified),
            full,
            "HEAD and GET differ for {headers:?}"
        );
    } else {
        assert_ne!(full, Outcome::NotModified, "304 for {method}");
    }

    let conditional = [
        IF_MATCH,
        IF_NONE_MATCH,
        IF_MODIFIED_SINCE,
        IF_UNMODIFIED_SINCE,
    ];
    if conditional.iter().all(|name| !headers.contains_key(name)) {
        assert_eq!(full, Outcome::Send, "no precondition, yet {full:?}");
    }

    let only_inm = headers.get_all(IF_NONE_MATCH).iter().count() == 1
        && !headers.contains_key(IF_MATCH)
        && !headers.contains_key(IF_UNMODIFIED_SINCE);
    if *method == Method::GET && only_inm {
        let value = headers[IF_NONE_MATCH].as_bytes();
        let tag = value.strip_prefix(b"W/").unwrap_or(value);
        if own.iter().any(|t| t.as_bytes() == tag) {
            assert_eq!(
                full,
                Outcome::NotModified,
                "own tag {value:?} not revalidated"
            );
        }
    }
});
