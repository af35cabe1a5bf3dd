//! The two questions tidings asks of `Accept`: whether a request for a
//! feed comes from a person's browser, and whether a scrape of `/metrics`
//! asks for OpenMetrics.
//!
//! A browser opening `/feeds/ukraine.atom` would show raw XML or offer a
//! download; a feed reader must get the feed bytes whatever else it lists.
//! So the HTML preview is sent only when `text/html` ranks strictly above
//! every feed and XML type and above `*/*` (RFC 9110 §12.5.1: each type
//! takes the q of the most specific range that matches it). Browsers send
//! `text/html,…,application/xml;q=0.9,*/*;q=0.8` (html wins); miniflux
//! lists feed types and `text/html` at equal q, SimplePie (FreshRSS) sends
//! `text/html;q=0.7` below the feed types, NetNewsWire, newsboat and curl
//! send none or `*/*`: all of those get the feed.
//!
//! Hostile headers cost little: one pass over at most [`MAX_RANGES`]
//! ranges, no allocation; past that many, the request gets the feed.

use axum::http::header::GetAll;
use axum::http::HeaderValue;

/// Media ranges read from a request's `Accept` headers; a request listing
/// more is no browser, and gets the feed.
pub const MAX_RANGES: usize = 64;

/// The feed and XML types `text/html` must outrank.
const FEED_TYPES: [&str; 6] = [
    "application/atom+xml",
    "application/rss+xml",
    "application/feed+json",
    "application/json",
    "application/xml",
    "text/xml",
];

/// The best q (in thousandths) given to each range that matters, `None`
/// when the range is not listed.
#[derive(Debug, Default)]
struct Ranks {
    html: Option<u16>,
    text_any: Option<u16>,
    application_any: Option<u16>,
    any: Option<u16>,
    feeds: [Option<u16>; FEED_TYPES.len()],
}

/// Whether the `Accept` headers rank `text/html` strictly above every
/// feed and XML type and above `*/*`.
pub fn prefers_html(accept: GetAll<'_, HeaderValue>) -> bool {
    let mut ranks = Ranks::default();
    let mut read = 0;
    for value in accept {
        let Ok(value) = value.to_str() else {
            return false;
        };
        for range in value.split(',') {
            read += 1;
            if read > MAX_RANGES {
                return false;
            }
            ranks.note(range);
        }
    }
    ranks.html_wins()
}

impl Ranks {
    fn note(&mut self, range: &str) {
        // A range with a malformed weight is ignored, as if not sent.
        let Some((media, q)) = media_and_q(range) else {
            return;
        };
        let slot = if media.eq_ignore_ascii_case("text/html") {
            &mut self.html
        } else if media.eq_ignore_ascii_case("text/*") {
            &mut self.text_any
        } else if media.eq_ignore_ascii_case("application/*") {
            &mut self.application_any
        } else if media == "*/*" {
            &mut self.any
        } else if let Some(at) = FEED_TYPES
            .iter()
            .position(|feed| media.eq_ignore_ascii_case(feed))
        {
            &mut self.feeds[at]
        } else {
            return;
        };
        *slot = Some(slot.map_or(q, |before| before.max(q)));
    }

    fn html_wins(&self) -> bool {
        let html = self.html.or(self.text_any).or(self.any).unwrap_or(0);
        if html == 0 {
            return false;
        }
        let feeds = FEED_TYPES.iter().zip(&self.feeds).map(|(feed, listed)| {
            let family = if feed.starts_with("text/") {
                self.text_any
            } else {
                self.application_any
            };
            listed.or(family).or(self.any).unwrap_or(0)
        });
        let rivals = feeds.chain([self.any.unwrap_or(0)]).max().unwrap_or(0);
        html > rivals
    }
}

/// Whether the `Accept` headers rank `application/openmetrics-text` (any
/// version) at least as high as `text/plain`, as Prometheus does when it
/// scrapes (`application/openmetrics-text;version=1.0.0,…,
/// text/plain;version=0.0.4;q=0.5,*/*;q=0.1`). Anything else, curl and
/// older scrapers included, gets the classic text format.
pub fn prefers_openmetrics(accept: GetAll<'_, HeaderValue>) -> bool {
    let (mut openmetrics, mut plain) = (None::<u16>, None::<u16>);
    let mut read = 0;
    for value in accept {
        let Ok(value) = value.to_str() else {
            return false;
        };
        for range in value.split(',') {
            read += 1;
            if read > MAX_RANGES {
                return false;
            }
            let Some((media, q)) = media_and_q(range) else {
                continue;
            };
            let slot = if media.eq_ignore_ascii_case("application/openmetrics-text") {
                &mut openmetrics
            } else if media.eq_ignore_ascii_case("text/plain") {
                &mut plain
            } else {
                continue;
            };
            *slot = Some(slot.map_or(q, |before| before.max(q)));
        }
    }
    openmetrics.is_some_and(|q| q > 0 && q >= plain.unwrap_or(0))
}

/// A media range's type and weight; `None` when the weight is malformed,
/// which RFC 9110 leaves to the server: such a range is ignored.
fn media_and_q(range: &str) -> Option<(&str, u16)> {
    let mut parts = range.split(';');
    let media = parts.next().unwrap_or_default().trim();
    let mut q = Some(1000);
    for parameter in parts {
        let Some((name, value)) = parameter.split_once('=') else {
            continue;
        };
        if name.trim().eq_ignore_ascii_case("q") {
            q = parse_q(value.trim());
        }
    }
    Some((media, q?))
}

/// An RFC 9110 §12.4.2 weight in thousandths: `0`, `1`, `0.5`, `1.000`.
fn parse_q(text: &str) -> Option<u16> {
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    if fraction.len() > 3 || !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let thousandths = fraction
        .bytes()
        .chain(std::iter::repeat(b'0'))
        .take(3)
        .fold(0u16, |n, digit| n * 10 + u16::from(digit - b'0'));
    match whole {
        "0" => Some(thousandths),
        "1" if thousandths == 0 => Some(1000),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use axum::http::header::ACCEPT;
    use axum::http::HeaderMap;

    use super::*;

    /// A request's headers with these `Accept` lines.
    fn accepting(accept: &[&str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for value in accept {
            headers.append(ACCEPT, HeaderValue::from_str(value).unwrap());
        }
        headers
    }

    fn html(accept: &[&str]) -> bool {
        prefers_html(accepting(accept).get_all(ACCEPT))
    }

    #[test]
    fn browsers_get_the_page() {
        assert!(html(&[
            "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
        ]));
        assert!(html(&[
            "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7"
        ]));
        assert!(html(&["text/html"]));
        assert!(html(&["text/*;q=0.9, text/html, */*;q=0.1"]));
        assert!(html(&["application/xml;q=0.5", "TEXT/HTML"]));
    }

    #[test]
    fn feed_readers_get_the_feed() {
        // No header, or anything.
        assert!(!html(&[]));
        assert!(!html(&["*/*"]));
        // Feed types and text/html at equal q.
        assert!(!html(&[
            "application/rss+xml, application/rdf+xml, application/atom+xml, application/xml, text/xml, text/html, */*;q=0.1"
        ]));
        // SimplePie, as FreshRSS sends it.
        assert!(!html(&[
            "application/atom+xml, application/rss+xml, application/rdf+xml;q=0.9, application/xml;q=0.8, text/xml;q=0.8, text/html;q=0.7, unknown/unknown;q=0.1, application/unknown;q=0.1, */*;q=0.1"
        ]));
        assert!(!html(&["application/feed+json, text/html;q=0.9"]));
        // html no better than everything else.
        assert!(!html(&["text/html, */*"]));
        assert!(!html(&["text/html;q=0.5, application/*;q=0.5"]));
        assert!(!html(&["text/*, text/xml"]));
        // Refused.
        assert!(!html(&["text/html;q=0"]));
    }

    #[test]
    fn malformed_weights_are_ignored() {
        assert!(!html(&["text/html;q=2, */*;q=0.1"]));
        assert!(!html(&["text/html;q=0.5000"]));
        assert!(html(&["text/html;q=0.5, */*;q=0.x, */*;q=0.4"]));
        assert_eq!(parse_q("0.25"), Some(250));
        assert_eq!(parse_q("1.000"), Some(1000));
        assert_eq!(parse_q("1.5"), None);
        assert_eq!(parse_q(""), None);
    }

    fn openmetrics(accept: &[&str]) -> bool {
        prefers_openmetrics(accepting(accept).get_all(ACCEPT))
    }

    #[test]
    fn prometheus_gets_openmetrics_and_everyone_else_classic_text() {
        // Prometheus 2.x and 3.x with their default scrape protocols.
        assert!(openmetrics(&[
            "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1"
        ]));
        assert!(openmetrics(&[
            "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;q=0.5,application/openmetrics-text;version=1.0.0;q=0.4,text/plain;version=0.0.4;q=0.3"
        ]));
        assert!(openmetrics(&[
            "text/plain;q=0.9",
            "Application/OpenMetrics-Text"
        ]));
        assert!(!openmetrics(&[]));
        assert!(!openmetrics(&["*/*"]));
        assert!(!openmetrics(&["text/plain;version=0.0.4"]));
        assert!(!openmetrics(&[
            "application/openmetrics-text;q=0.5, text/plain;version=0.0.4"
        ]));
        assert!(!openmetrics(&["application/openmetrics-text;q=0"]));
        assert!(!openmetrics(&["application/openmetrics-text;q=x"]));
    }

    #[test]
    fn long_lists_get_the_feed_after_a_bounded_read() {
        let many = format!("{}text/html", "x/y;q=0.1,".repeat(MAX_RANGES));
        assert!(!html(&[&many]));
        let few = format!("{}text/html", "x/y;q=0.1,".repeat(MAX_RANGES - 1));
        assert!(html(&[&few]));
    }
}
