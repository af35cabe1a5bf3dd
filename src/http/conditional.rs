//! Conditional requests (RFC 9110 §13): the one function that decides
//! between sending a document, `304 Not Modified` and `412 Precondition
//! Failed`.
//!
//! Feed readers poll; a reader that revalidates and gets a bodiless `304`
//! costs the server a few hundred bytes instead of the whole feed. The
//! function is pure (headers and validators in, outcome out) so every
//! branch has a test row.

use std::time::SystemTime;

use axum::http::header::{IF_MATCH, IF_MODIFIED_SINCE, IF_NONE_MATCH, IF_UNMODIFIED_SINCE};
use axum::http::{HeaderMap, HeaderValue, Method};

/// What to answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Send the document (200).
    Send,
    /// `304 Not Modified`: the client's copy is current.
    NotModified,
    /// `412 Precondition Failed`: an `If-Match` or `If-Unmodified-Since`
    /// did not hold.
    PreconditionFailed,
}

/// Evaluates the preconditions of a request for an existing document whose
/// ETags derive from `digest` (see [`Document::etag`]) and which last
/// changed at `last_modified`, in the order of RFC 9110 §13.2.2:
///
/// 1. `If-Match` present: if no listed tag matches by strong comparison
///    (`*` always matches an existing document), 412.
/// 2. else `If-Unmodified-Since` present with a valid date: if the document
///    changed after that date, 412.
/// 3. `If-None-Match` present: if a listed tag matches by weak comparison
///    (or it is `*`), 304 for GET and HEAD, 412 for other methods;
///    otherwise send (and `If-Modified-Since` is not looked at).
/// 4. else, for GET and HEAD, `If-Modified-Since` present with one valid
///    date: if the document has not changed after that date, 304.
/// 5. Send. (Step 5 of the RFC, `If-Range`, concerns `Range`, which is not
///    supported: every 200 is the whole document.)
///
/// Tag matching is by content: a tag matches when its opaque part is the
/// digest, with or without the `-gzip` or `-br` suffix of a compressed
/// variant. A tag a client got with any variant therefore revalidates
/// whichever variant it asks for now, and a proxy that re-encoded the body
/// and weakened the tag (`W/"…"`) still revalidates (the old Apache `-gzip`
/// bug cannot happen). Weak comparison ignores `W/`; strong comparison
/// (`If-Match`) never matches a weak tag.
///
/// Lenient parsing, as browsers and proxies are: list elements may be
/// separated by any whitespace and commas, and an unquoted token counts as
/// a tag. Invalid or repeated dates are ignored (RFC 9110 §13.1.3, §13.1.4).
///
/// [`Document::etag`]: crate::catalog::Document::etag
pub fn evaluate(
    method: &Method,
    headers: &HeaderMap,
    digest: &str,
    last_modified: SystemTime,
) -> Outcome {
    let mut if_match = headers.get_all(IF_MATCH).iter().peekable();
    if if_match.peek().is_some() {
        let strong_match = if_match
            .flat_map(|value| EntityTags::new(value.as_bytes()))
            .any(|tag| match tag {
                EntityTag::Any => true,
                EntityTag::Tag { weak, opaque } => !weak && same_content(opaque, digest),
            });
        if !strong_match {
            return Outcome::PreconditionFailed;
        }
    } else if let Some(date) = single_date(headers, IF_UNMODIFIED_SINCE) {
        if last_modified > date {
            return Outcome::PreconditionFailed;
        }
    }

    let safe = method == Method::GET || method == Method::HEAD;
    let mut if_none_match = headers.get_all(IF_NONE_MATCH).iter().peekable();
    if if_none_match.peek().is_some() {
        let weak_match = if_none_match
            .flat_map(|value| EntityTags::new(value.as_bytes()))
            .any(|tag| match tag {
                EntityTag::Any => true,
                EntityTag::Tag { opaque, .. } => same_content(opaque, digest),
            });
        return match (weak_match, safe) {
            (false, _) => Outcome::Send,
            (true, true) => Outcome::NotModified,
            (true, false) => Outcome::PreconditionFailed,
        };
    }

    if safe {
        if let Some(date) = single_date(headers, IF_MODIFIED_SINCE) {
            if last_modified <= date {
                return Outcome::NotModified;
            }
        }
    }
    Outcome::Send
}

/// [`evaluate`], with a shortcut for the request that nearly every
/// revalidation is: `GET` or `HEAD` with one `If-None-Match` value that is
/// exactly one of the tags this server sent for the document (`own_tags`,
/// quoted, each deriving from `digest`), or that tag weakened by a proxy,
/// and neither `If-Match` nor `If-Unmodified-Since`. That is a `304`
/// without parsing the list; every other request takes [`evaluate`], and
/// both always agree (a property test checks it).
pub fn evaluate_fast(
    method: &Method,
    headers: &HeaderMap,
    digest: &str,
    last_modified: SystemTime,
    own_tags: &[&HeaderValue],
) -> Outcome {
    quick(method, headers, own_tags)
        .unwrap_or_else(|| evaluate(method, headers, digest, last_modified))
}

/// The shortcut of [`evaluate_fast`]: `Some(NotModified)` when it applies,
/// `None` when the request needs the general evaluation.
fn quick(method: &Method, headers: &HeaderMap, own_tags: &[&HeaderValue]) -> Option<Outcome> {
    if *method != Method::GET && *method != Method::HEAD {
        return None;
    }
    let mut if_none_match = headers.get_all(IF_NONE_MATCH).iter();
    let value = if_none_match.next()?.as_bytes();
    if if_none_match.next().is_some()
        || headers.contains_key(IF_MATCH)
        || headers.contains_key(IF_UNMODIFIED_SINCE)
    {
        return None;
    }
    let tag = value.strip_prefix(b"W/").unwrap_or(value);
    own_tags
        .iter()
        .any(|own| own.as_bytes() == tag)
        .then_some(Outcome::NotModified)
}

/// Whether a received opaque tag names the content with this digest, in
/// any of its variants.
fn same_content(opaque: &[u8], digest: &str) -> bool {
    match opaque.strip_prefix(digest.as_bytes()) {
        Some(suffix) => matches!(suffix, b"" | b"-gzip" | b"-br"),
        None => false,
    }
}

/// The date of a date header that is present exactly once and valid.
fn single_date(headers: &HeaderMap, name: axum::http::HeaderName) -> Option<SystemTime> {
    let mut values = headers.get_all(name).iter();
    let value = values.next()?;
    if values.next().is_some() {
        return None;
    }
    httpdate::parse_http_date(value.to_str().ok()?).ok()
}

/// One element of an `If-Match` / `If-None-Match` list.
#[derive(Debug, PartialEq, Eq)]
enum EntityTag<'a> {
    /// `*`
    Any,
    /// `"opaque"` or `W/"opaque"`, without the quotes.
    Tag { weak: bool, opaque: &'a [u8] },
}

/// The elements of one header value, in order.
struct EntityTags<'a> {
    rest: &'a [u8],
}

impl<'a> EntityTags<'a> {
    fn new(value: &'a [u8]) -> Self {
        Self { rest: value }
    }
}

impl<'a> Iterator for EntityTags<'a> {
    type Item = EntityTag<'a>;

    fn next(&mut self) -> Option<EntityTag<'a>> {
        let start = self
            .rest
            .iter()
            .position(|b| !matches!(b, b' ' | b'\t' | b','))?;
        let mut rest = &self.rest[start..];
        if let Some(after) = rest.strip_prefix(b"*") {
            self.rest = after;
            return Some(EntityTag::Any);
        }
        let weak = rest.starts_with(b"W/");
        if weak {
            rest = &rest[2..];
        }
        let (opaque, after) = match rest.strip_prefix(b"\"") {
            Some(quoted) => match quoted.iter().position(|&b| b == b'"') {
                Some(end) => (&quoted[..end], &quoted[end + 1..]),
                // Unterminated: the rest is the tag.
                None => (quoted, &[][..]),
            },
            // Unquoted: up to the next separator.
            None => {
                let end = rest
                    .iter()
                    .position(|b| matches!(b, b' ' | b'\t' | b','))
                    .unwrap_or(rest.len());
                (&rest[..end], &rest[end..])
            }
        };
        self.rest = after;
        Some(EntityTag::Tag { weak, opaque })
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use proptest::prelude::*;

    use super::*;
    use Outcome::{NotModified as NM, PreconditionFailed as PF, Send};

    const DIGEST: &str = "0123abcd";
    /// 2024-05-24T10:15:30Z
    const LAST_MODIFIED: u64 = 1_716_545_730;
    const AT: &str = "Fri, 24 May 2024 10:15:30 GMT";
    const BEFORE: &str = "Fri, 24 May 2024 10:15:29 GMT";
    const AFTER: &str = "Fri, 24 May 2024 10:15:31 GMT";

    fn run(method: Method, headers: &[(&str, &str)]) -> Outcome {
        let mut map = HeaderMap::new();
        for (name, value) in headers {
            map.append(
                axum::http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
                HeaderValue::from_str(value).unwrap(),
            );
        }
        let last_modified = SystemTime::UNIX_EPOCH + Duration::from_secs(LAST_MODIFIED);
        evaluate(&method, &map, DIGEST, last_modified)
    }

    /// Name, method, request headers, expected outcome.
    type Row<'a> = (&'a str, Method, &'a [(&'a str, &'a str)], Outcome);

    #[test]
    fn rfc_9110_evaluation_order() {
        use Method as M;
        const INM: &str = "if-none-match";
        const IMS: &str = "if-modified-since";
        const IM: &str = "if-match";
        const IUS: &str = "if-unmodified-since";
        #[rustfmt::skip]
        let rows: &[Row] = &[
            ("no preconditions", M::GET, &[], Send),
            // Step 1: If-Match, strong comparison.
            ("1: If-Match matches", M::GET, &[(IM, "\"0123abcd\"")], Send),
            ("1: If-Match matches a compressed variant's tag", M::GET, &[(IM, "\"0123abcd-br\"")], Send),
            ("1: If-Match star", M::GET, &[(IM, "*")], Send),
            ("1: If-Match mismatch", M::GET, &[(IM, "\"other\"")], PF),
            ("1: If-Match never matches a weak tag", M::GET, &[(IM, "W/\"0123abcd\"")], PF),
            ("1: If-Match in a list", M::GET, &[(IM, "\"x\", \"0123abcd\"")], Send),
            ("1: If-Match hides If-Unmodified-Since", M::GET, &[(IM, "*"), (IUS, BEFORE)], Send),
            ("1: If-Match passes, If-None-Match still applies", M::GET, &[(IM, "*"), (INM, "\"0123abcd\"")], NM),
            // Step 2: If-Unmodified-Since.
            ("2: unmodified since a later date", M::GET, &[(IUS, AFTER)], Send),
            ("2: unmodified since the same second", M::GET, &[(IUS, AT)], Send),
            ("2: modified since an earlier date", M::GET, &[(IUS, BEFORE)], PF),
            ("2: invalid date is ignored", M::GET, &[(IUS, "yesterday")], Send),
            // Step 3: If-None-Match, weak comparison.
            ("3: identity tag", M::GET, &[(INM, "\"0123abcd\"")], NM),
            ("3: gzip tag", M::GET, &[(INM, "\"0123abcd-gzip\"")], NM),
            ("3: brotli tag", M::GET, &[(INM, "\"0123abcd-br\"")], NM),
            ("3: weak tag", M::GET, &[(INM, "W/\"0123abcd\"")], NM),
            ("3: weak gzip tag", M::GET, &[(INM, "W/\"0123abcd-gzip\"")], NM),
            ("3: star", M::GET, &[(INM, "*")], NM),
            ("3: list with a match", M::GET, &[(INM, "\"a\", W/\"b\",\"0123abcd-br\"")], NM),
            ("3: list without a match", M::GET, &[(INM, "\"a\", \"b\"")], Send),
            ("3: several header lines", M::GET, &[(INM, "\"a\""), (INM, "\"0123abcd\"")], NM),
            ("3: other content", M::GET, &[(INM, "\"ffff\"")], Send),
            ("3: digest prefix is not a match", M::GET, &[(INM, "\"0123abc\"")], Send),
            ("3: unknown suffix is not a match", M::GET, &[(INM, "\"0123abcd-deflate\"")], Send),
            ("3: comma inside a quoted tag", M::GET, &[(INM, "\"0123abcd,x\"")], Send),
            ("3: unquoted tag (lenient)", M::GET, &[(INM, "0123abcd")], NM),
            ("3: unterminated quote (lenient)", M::GET, &[(INM, "\"0123abcd")], NM),
            ("3: empty value matches nothing", M::GET, &[(INM, "")], Send),
            ("3: HEAD", M::HEAD, &[(INM, "\"0123abcd\"")], NM),
            ("3: match on an unsafe method", M::POST, &[(INM, "\"0123abcd\"")], PF),
            ("3: If-None-Match overrides If-Modified-Since (no match)", M::GET, &[(INM, "\"a\""), (IMS, AFTER)], Send),
            ("3: If-None-Match overrides If-Modified-Since (match)", M::GET, &[(INM, "\"0123abcd\""), (IMS, BEFORE)], NM),
            // Step 4: If-Modified-Since, GET and HEAD only.
            ("4: not modified since the same second", M::GET, &[(IMS, AT)], NM),
            ("4: not modified since a later date", M::GET, &[(IMS, AFTER)], NM),
            ("4: modified since an earlier date", M::GET, &[(IMS, BEFORE)], Send),
            ("4: HEAD", M::HEAD, &[(IMS, AT)], NM),
            ("4: ignored for other methods", M::POST, &[(IMS, AT)], Send),
            ("4: invalid date is ignored", M::GET, &[(IMS, "not a date")], Send),
            ("4: two dates are ignored", M::GET, &[(IMS, AT), (IMS, AFTER)], Send),
            ("4: RFC 850 date", M::GET, &[(IMS, "Friday, 24-May-24 10:15:30 GMT")], NM),
            ("4: asctime date", M::GET, &[(IMS, "Fri May 24 10:15:30 2024")], NM),
        ];
        for (name, method, headers, expected) in rows {
            assert_eq!(
                run(method.clone(), headers),
                *expected,
                "{name}: {headers:?}"
            );
        }
    }

    /// The tags the server sends for the identity, gzip and brotli variants.
    fn own_tags() -> [HeaderValue; 3] {
        ["", "-gzip", "-br"]
            .map(|suffix| HeaderValue::from_str(&format!("\"{DIGEST}{suffix}\"")).unwrap())
    }

    fn header_map(headers: &[(&str, String)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in headers {
            map.append(
                axum::http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
                HeaderValue::from_str(value).unwrap(),
            );
        }
        map
    }

    #[test]
    fn the_shortcut_takes_the_common_revalidations() {
        let tags = own_tags();
        let tags: Vec<&HeaderValue> = tags.iter().collect();
        for tag in ["\"0123abcd\"", "\"0123abcd-gzip\"", "W/\"0123abcd-br\""] {
            for method in [Method::GET, Method::HEAD] {
                let headers = header_map(&[("if-none-match", tag.into())]);
                assert_eq!(quick(&method, &headers, &tags), Some(NM), "{method} {tag}");
            }
        }
        #[rustfmt::skip]
        let general: &[(Method, &[(&str, &str)])] = &[
            (Method::GET, &[]),
            (Method::GET, &[("if-none-match", "\"ffff\"")]),
            (Method::GET, &[("if-none-match", "*")]),
            (Method::GET, &[("if-none-match", "\"a\", \"0123abcd\"")]),
            (Method::GET, &[("if-none-match", "\"0123abcd\""), ("if-none-match", "\"a\"")]),
            (Method::GET, &[("if-none-match", "\"0123abcd\""), ("if-match", "\"a\"")]),
            (Method::GET, &[("if-none-match", "\"0123abcd\""), ("if-unmodified-since", BEFORE)]),
            (Method::POST, &[("if-none-match", "\"0123abcd\"")]),
            (Method::GET, &[("if-modified-since", AT)]),
        ];
        for (method, headers) in general {
            let headers: Vec<(&str, String)> = headers
                .iter()
                .map(|(n, v)| (*n, (*v).to_string()))
                .collect();
            assert_eq!(
                quick(method, &header_map(&headers), &tags),
                None,
                "{method} {headers:?}"
            );
        }
    }

    /// `If-None-Match` and `If-Match` values: the document's own tags in
    /// every form, other tags, lists, `*`, junk.
    fn tags() -> impl Strategy<Value = String> {
        let tag = prop_oneof![
            Just("0123abcd".to_string()),
            Just("0123abcd-gzip".to_string()),
            Just("0123abcd-br".to_string()),
            Just("0123abcd-deflate".to_string()),
            Just("0123abc".to_string()),
            Just("ffff".to_string()),
            "[0-9a-z-]{0,14}",
        ];
        let element = (tag, any::<bool>(), 0..4u8).prop_map(|(tag, weak, quoting)| {
            let weak = if weak { "W/" } else { "" };
            match quoting {
                0 => format!("{weak}{tag}"),
                1 => format!("{weak}\"{tag}"),
                _ => format!("{weak}\"{tag}\""),
            }
        });
        prop_oneof![
            6 => element.clone(),
            1 => Just("*".to_string()),
            2 => proptest::collection::vec(element, 0..4)
                .prop_map(|elements| elements.join(", ")),
            1 => "[ -~]{0,20}",
        ]
    }

    /// Date header values: valid and invalid.
    fn dates() -> impl Strategy<Value = String> {
        prop_oneof![
            Just(AT),
            Just(BEFORE),
            Just(AFTER),
            Just("yesterday"),
            Just("")
        ]
        .prop_map(str::to_string)
    }

    fn method() -> impl Strategy<Value = Method> {
        prop_oneof![
            4 => Just(Method::GET),
            2 => Just(Method::HEAD),
            1 => Just(Method::POST),
            1 => Just(Method::PUT),
            1 => Just(Method::DELETE),
        ]
    }

    fn headers() -> impl Strategy<Value = Vec<(&'static str, String)>> {
        let header = prop_oneof![
            6 => tags().prop_map(|v| ("if-none-match", v)),
            2 => tags().prop_map(|v| ("if-match", v)),
            2 => dates().prop_map(|v| ("if-unmodified-since", v)),
            2 => dates().prop_map(|v| ("if-modified-since", v)),
            1 => Just(("accept-encoding", "gzip".to_string())),
        ];
        proptest::collection::vec(header, 0..4)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(4096))]

        /// The shortcut never answers differently from the general
        /// evaluation, and answers often enough to be tested.
        #[test]
        fn the_shortcut_agrees_with_the_general_evaluation(
            method in method(),
            headers in headers(),
        ) {
            let map = header_map(&headers);
            let tags = own_tags();
            let tags: Vec<&HeaderValue> = tags.iter().collect();
            let last_modified = SystemTime::UNIX_EPOCH + Duration::from_secs(LAST_MODIFIED);
            let general = evaluate(&method, &map, DIGEST, last_modified);
            if let Some(quick) = quick(&method, &map, &tags) {
                prop_assert_eq!(quick, general);
            }
            prop_assert_eq!(evaluate_fast(&method, &map, DIGEST, last_modified, &tags), general);
        }
    }

    #[test]
    fn entity_tag_lists_parse() {
        let tags: Vec<EntityTag> = EntityTags::new(b" \"a\" ,W/\"b\",, *, c\t\"d,e\"").collect();
        assert_eq!(
            tags,
            vec![
                EntityTag::Tag {
                    weak: false,
                    opaque: b"a"
                },
                EntityTag::Tag {
                    weak: true,
                    opaque: b"b"
                },
                EntityTag::Any,
                EntityTag::Tag {
                    weak: false,
                    opaque: b"c"
                },
                EntityTag::Tag {
                    weak: false,
                    opaque: b"d,e"
                },
            ]
        );
        assert_eq!(EntityTags::new(b" , ").count(), 0);
    }
}
