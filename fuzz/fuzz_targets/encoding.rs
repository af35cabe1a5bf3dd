//! `Accept-Encoding` negotiation (`tidings::http::encoding::negotiate`).
//! Each input line is one `Accept-Encoding` header value. Checks, beyond
//! never panicking:
//!
//! - a document without its brotli variant never gets brotli, and one that
//!   has it gets the same answer as without whenever brotli did not win;
//! - several header lines are one list: the lines joined with `,` into one
//!   value negotiate the same;
//! - coding names and `q` are case-insensitive: the value upper-cased or
//!   lower-cased negotiates the same;
//! - an unknown coding appended to the list changes nothing;
//! - no header at all is identity.
#![no_main]

use http::HeaderValue;
use libfuzzer_sys::fuzz_target;
use tidings::catalog::Encoding;
use tidings::http::encoding::negotiate;

fuzz_target!(|data: &[u8]| {
    let values: Vec<HeaderValue> = data
        .split(|&b| b == b'\n')
        .filter_map(|line| HeaderValue::from_bytes(line).ok())
        .collect();

    let with_br = negotiate(&values, true);
    let without_br = negotiate(&values, false);
    assert_ne!(
        without_br,
        Encoding::Brotli,
        "brotli sent without a brotli variant: {values:?}"
    );
    if with_br != Encoding::Brotli {
        assert_eq!(
            with_br, without_br,
            "brotli availability changed a non-brotli answer: {values:?}"
        );
    }
    assert_eq!(negotiate(&[] as &[HeaderValue], true), Encoding::Identity);
    if values.is_empty() {
        return;
    }

    let joined = values
        .iter()
        .map(HeaderValue::as_bytes)
        .collect::<Vec<_>>()
        .join(&b","[..]);
    let joined = HeaderValue::from_bytes(&joined).expect("valid values joined with , are valid");
    assert_eq!(
        negotiate([&joined], true),
        with_br,
        "one line vs several: {values:?}"
    );

    for case in [<[u8]>::to_ascii_uppercase, <[u8]>::to_ascii_lowercase] {
        let changed: Vec<HeaderValue> = values
            .iter()
            .map(|v| HeaderValue::from_bytes(&case(v.as_bytes())).unwrap())
            .collect();
        assert_eq!(
            negotiate(&changed, true),
            with_br,
            "case changed the answer: {values:?}"
        );
    }

    let mut extended = values.clone();
    extended.push(HeaderValue::from_static("zstd;q=1, deflate"));
    assert_eq!(
        negotiate(&extended, true),
        with_br,
        "an unknown coding changed the answer: {values:?}"
    );
});
