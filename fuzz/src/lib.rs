//! Checks shared by the tidings fuzz targets: what every parsed article must
//! satisfy whatever bytes it came from, and a small reader for the
//! line-based header inputs of the HTTP targets.
//!
//! Every check panics with a message naming the broken promise, so libFuzzer
//! reports it as a crash and saves the input.

use tidings::config::Config;
use tidings::diagnostic::Diagnostic;
use tidings::ingest::{path_urn, SeedKind, SeedParser};
use tidings::model::{Article, ArticleId};
use tidings::xml::is_xml_char;

/// The config every seed target parses with: a base URL with a path, so
/// that relative links and images are visibly rewritten against it.
pub const SEED_CONFIG: &str = r#"
[site]
title = "fuzz"
base_url = "https://news.example.org/sub/"
timezone = "Europe/Kyiv"

[[topic]]
slug = "ukraine"
keywords = ["Ukraine", "Kyiv"]
"#;

/// [`SEED_CONFIG`], parsed.
pub fn seed_config() -> Config {
    Config::parse(SEED_CONFIG, std::path::Path::new("fuzz.toml"))
        .expect("the fuzz seed config is valid")
}

/// Tags the sanitizer may leave in `content_html` (the allow-list documented
/// in `src/ingest/clean.rs`). Bodies of the seed text format use a subset.
const ALLOWED_TAGS: &[&str] = &[
    "a",
    "abbr",
    "b",
    "bdi",
    "bdo",
    "blockquote",
    "br",
    "caption",
    "cite",
    "code",
    "dd",
    "del",
    "dfn",
    "dl",
    "dt",
    "em",
    "figcaption",
    "figure",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "hr",
    "i",
    "img",
    "ins",
    "kbd",
    "li",
    "mark",
    "ol",
    "p",
    "pre",
    "q",
    "s",
    "samp",
    "small",
    "span",
    "strong",
    "sub",
    "sup",
    "table",
    "tbody",
    "td",
    "tfoot",
    "th",
    "thead",
    "time",
    "tr",
    "u",
    "ul",
    "var",
];

/// Attributes allowed on some tag (plus the `rel` tidings adds to links).
const ALLOWED_ATTRIBUTES: &[&str] = &[
    "href", "hreflang", "src", "alt", "width", "height", "colspan", "rowspan", "scope", "start",
    "dir", "lang", "title", "rel",
];

/// Parses one seed and checks everything ingest promises about the result;
/// returns it for target-specific checks.
pub fn parse_and_check(
    parser: &SeedParser<'_>,
    relative: &str,
    bytes: &[u8],
) -> (Option<Article>, Vec<Diagnostic>) {
    let display = format!("seeds/{relative}");
    let (article, diagnostics) = parser.parse(&display, relative, bytes);
    let kind = SeedKind::of(relative);
    let has_error = diagnostics.iter().any(Diagnostic::is_error);

    for d in &diagnostics {
        assert_eq!(d.path, display, "diagnostic names another file: {d}");
        assert!(d.line >= 1, "diagnostic on line 0: {d}");
        // Lines count LF, CRLF and lone CR once each.
        let lines = 1 + count_line_ends(bytes);
        assert!(
            d.line <= lines + 1,
            "diagnostic past the end ({lines} lines): {d}"
        );
    }

    match &article {
        Some(article) => {
            assert!(!has_error, "published despite an error: {diagnostics:?}");
            check_article(article, relative);
        }
        None => {
            // Only a Markdown draft is dropped without an error.
            assert!(
                has_error || kind == Some(SeedKind::Markdown),
                "a text seed vanished without an error: {diagnostics:?}"
            );
        }
    }
    (article, diagnostics)
}

fn count_line_ends(bytes: &[u8]) -> usize {
    bytes
        .iter()
        .enumerate()
        .filter(|&(i, &b)| b == b'\n' || (b == b'\r' && bytes.get(i + 1) != Some(&b'\n')))
        .count()
}

/// The promises of `tidings::model::Article`.
pub fn check_article(article: &Article, relative: &str) {
    assert_eq!(article.source, relative);
    let mut texts: Vec<(&str, &str)> = vec![
        ("title", &article.title),
        ("content_html", &article.content_html),
        ("summary", &article.summary),
        ("id", article.id.as_str()),
    ];
    texts.extend(article.url.as_deref().map(|u| ("url", u)));
    texts.extend(article.caption.as_deref().map(|c| ("caption", c)));
    texts.extend(article.image.as_deref().map(|i| ("image", i)));
    texts.extend(article.paragraphs.iter().map(|p| ("paragraph", p.as_str())));
    texts.extend(article.authors.iter().map(|a| ("author", a.as_str())));
    texts.extend(article.tags.iter().map(|t| ("tag", t.as_str())));
    for link in &article.related {
        texts.push(("related text", &link.text));
        texts.extend(link.url.as_deref().map(|u| ("related url", u)));
    }
    for (what, text) in texts {
        if let Some(c) = text.chars().find(|&c| !is_xml_char(c)) {
            panic!(
                "{what} holds U+{:04X}, which XML 1.0 forbids: {text:?}",
                c as u32
            );
        }
    }

    match &article.url {
        Some(url) => {
            assert_eq!(article.id, ArticleId::Permalink(url.clone()));
            assert_http_url("url", url);
        }
        None => assert_eq!(article.id, ArticleId::Urn(path_urn(relative))),
    }
    if let Some(image) = &article.image {
        assert_http_url("image", image);
    }
    for link in &article.related {
        if let Some(url) = &link.url {
            assert_http_url("related url", url);
        }
    }
    assert!(
        article.updated >= article.published,
        "updated {} before published {}",
        article.updated,
        article.published
    );
    check_sanitized(&article.content_html);
}

fn assert_http_url(what: &str, text: &str) {
    let url = url::Url::parse(text).unwrap_or_else(|e| panic!("{what} {text:?} is not a URL: {e}"));
    assert!(
        matches!(url.scheme(), "http" | "https"),
        "{what} {text:?} is not http(s)"
    );
}

/// `content_html` holds only allow-listed tags and attributes, and every
/// `href`/`src` is an absolute http, https or mailto URL. Relies on the
/// serializer's form: every literal `<` opens a tag, attribute values are
/// double-quoted with `"` escaped inside.
pub fn check_sanitized(html: &str) {
    let bytes = html.as_bytes();
    let mut i = 0;
    while let Some(offset) = html[i..].find('<') {
        let start = i + offset;
        let mut j = start + 1;
        if bytes.get(j) == Some(&b'/') {
            j += 1;
        }
        let name_end = j + bytes[j..]
            .iter()
            .position(|b| !b.is_ascii_alphanumeric())
            .unwrap_or(bytes.len() - j);
        let name = &html[j..name_end];
        assert!(
            ALLOWED_TAGS.contains(&name),
            "tag <{name}> survived sanitizing: {html:?}"
        );
        j = name_end;
        loop {
            while bytes.get(j) == Some(&b' ') {
                j += 1;
            }
            match bytes.get(j) {
                Some(b'>') => break,
                Some(b'/') if bytes.get(j + 1) == Some(&b'>') => {
                    j += 1;
                    break;
                }
                None => panic!("unterminated tag <{name}> in sanitized HTML: {html:?}"),
                _ => {}
            }
            let attr_end = j + bytes[j..]
                .iter()
                .position(|&b| matches!(b, b'=' | b' ' | b'>' | b'/'))
                .unwrap_or(bytes.len() - j);
            let attribute = &html[j..attr_end];
            assert!(
                ALLOWED_ATTRIBUTES.contains(&attribute),
                "attribute {attribute:?} on <{name}> survived sanitizing: {html:?}"
            );
            j = attr_end;
            if bytes.get(j) == Some(&b'=') {
                assert_eq!(
                    bytes.get(j + 1),
                    Some(&b'"'),
                    "unquoted attribute: {html:?}"
                );
                let value_start = j + 2;
                let value_end = value_start
                    + html[value_start..]
                        .find('"')
                        .unwrap_or_else(|| panic!("unterminated attribute value: {html:?}"));
                let value = &html[value_start..value_end];
                if attribute == "href" || attribute == "src" {
                    // An http(s) URL is written out in full (`https:host/x`
                    // is rewritten; see findings/seed_markdown-href-without-slashes.md).
                    let lower = value.to_ascii_lowercase();
                    assert!(
                        lower.starts_with("http://")
                            || lower.starts_with("https://")
                            || lower.starts_with("mailto:"),
                        "{attribute}={value:?} on <{name}> is not an absolute http(s)/mailto URL"
                    );
                }
                j = value_end + 1;
            }
        }
        i = j + 1;
    }
}

/// A line-based request: the first line is the method, every other line a
/// header `Name: value`. Lines that are not valid header names or values
/// are skipped, so every input means some request.
pub struct RequestInput {
    pub method: http::Method,
    pub headers: http::HeaderMap,
}

impl RequestInput {
    pub fn parse(data: &[u8]) -> Option<Self> {
        let mut lines = data.split(|&b| b == b'\n');
        let method = http::Method::from_bytes(trim_cr(lines.next()?)).ok()?;
        let mut headers = http::HeaderMap::new();
        for line in lines {
            let line = trim_cr(line);
            let Some(colon) = line.iter().position(|&b| b == b':') else {
                continue;
            };
            let (name, value) = (&line[..colon], &line[colon + 1..]);
            let value = value.strip_prefix(b" ").unwrap_or(value);
            let (Ok(name), Ok(value)) = (
                http::HeaderName::from_bytes(name),
                http::HeaderValue::from_bytes(value),
            ) else {
                continue;
            };
            headers.append(name, value);
        }
        Some(Self { method, headers })
    }
}

fn trim_cr(line: &[u8]) -> &[u8] {
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// `data` with every LF written as CRLF and a UTF-8 byte order mark in
/// front, which ingest must decode to the same text; `None` when that is not
/// so (the input has a CR already, or starts with a BOM).
pub fn crlf_with_bom(data: &[u8]) -> Option<Vec<u8>> {
    if data.contains(&b'\r') || data.starts_with("\u{FEFF}".as_bytes()) {
        return None;
    }
    let mut out = Vec::with_capacity(data.len() + data.len() / 16 + 3);
    out.extend_from_slice("\u{FEFF}".as_bytes());
    for &b in data {
        if b == b'\n' {
            out.push(b'\r');
        }
        out.push(b);
    }
    Some(out)
}
