//! Making article text safe to publish: HTML sanitizing, link checks and
//! summaries.
//!
//! Every authored `content_html` (Markdown, where raw HTML is allowed) goes
//! through one [`Sanitizer`], so renderers can embed it without a second
//! thought; bodies of the seed text format are built by tidings within the
//! same allow-list and skip it (see `BodyHtml` in the ingest module).
//!
//! The allow-list is deliberately small: text structure (paragraphs, headings, lists,
//! quotes, tables, code), inline emphasis, links and images. Everything else
//! is dropped: `script`, `style`, `iframe`, `object`, `embed`, `noscript`,
//! `template`, `textarea` and `select` with their content; other tags such as
//! `form` or `svg` keep only their text. Attributes are limited to `href`,
//! `src`, `alt`, `title`, `lang`, `width`, `height`, `colspan`, `rowspan`,
//! `start` and `dir` on `bdo`, so no `on*` handler, `style` or `class`
//! survives. URLs must be `http`, `https` or `mailto`; relative URLs are made
//! absolute against `site.base_url`, as feed readers resolve them against
//! nothing reliable. Links get `rel="noopener noreferrer"`.
//!
//! The builder is made once per load and shared (it is `Sync`), because
//! building it per file would cost more than cleaning a small article.

use std::collections::{HashMap, HashSet};

use url::Url;

/// The HTML allow-list, built once and shared by every file of a load.
#[derive(Debug)]
pub struct Sanitizer {
    builder: ammonia::Builder<'static>,
}

const TAGS: &[&str] = &[
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

/// Dropped together with everything inside them.
const DROPPED_WITH_CONTENT: &[&str] = &[
    "script", "style", "iframe", "object", "embed", "noscript", "template", "textarea", "select",
    "applet", "frame", "frameset", "noembed", "noframes",
];

impl Sanitizer {
    /// A sanitizer that makes relative URLs absolute against `base_url`.
    pub fn new(base_url: &Url) -> Self {
        let mut builder = ammonia::Builder::empty();
        let tag_attributes: HashMap<&'static str, HashSet<&'static str>> = [
            ("a", &["href", "hreflang"][..]),
            ("img", &["src", "alt", "width", "height"][..]),
            ("td", &["colspan", "rowspan"][..]),
            ("th", &["colspan", "rowspan", "scope"][..]),
            ("ol", &["start"][..]),
            ("bdo", &["dir"][..]),
        ]
        .into_iter()
        .map(|(tag, attrs)| (tag, attrs.iter().copied().collect()))
        .collect();
        builder
            .tags(TAGS.iter().copied().collect())
            .clean_content_tags(DROPPED_WITH_CONTENT.iter().copied().collect())
            .tag_attributes(tag_attributes)
            .generic_attributes(["lang", "title"].into_iter().collect())
            .url_schemes(["http", "https", "mailto"].into_iter().collect())
            .url_relative(ammonia::UrlRelative::RewriteWithBase(base_url.clone()))
            .attribute_filter(|_, attribute, value| match attribute {
                "href" | "src" => Some(without_slashless_scheme(value)),
                _ => Some(value.into()),
            })
            .link_rel(Some("noopener noreferrer"))
            .strip_comments(true);
        Self { builder }
    }

    /// Sanitized HTML. The result may still hold characters XML forbids
    /// when the input spelled them as character references (`&#1;`); the
    /// caller strips those.
    pub fn clean(&self, html: &str) -> String {
        self.builder.clean(html).to_string()
    }
}

/// `https:host/x` as `https://host/x`. URL parsers read an http(s) URL
/// without its `//` as that absolute URL, and so does the sanitizer, which
/// keeps it; but a reader resolves it against the page as a relative path.
/// Written out in full, it means the same everywhere. Every other value is
/// left as it is.
fn without_slashless_scheme(value: &str) -> std::borrow::Cow<'_, str> {
    let trimmed = value.trim_start();
    let slashless = ["http:", "https:"].iter().any(|scheme| {
        trimmed
            .get(..scheme.len())
            .is_some_and(|start| start.eq_ignore_ascii_case(scheme))
            && !trimmed[scheme.len()..].starts_with("//")
    });
    match Url::parse(trimmed) {
        Ok(url) if slashless => url.to_string().into(),
        _ => value.into(),
    }
}

/// Tags whose start or end separates two blocks of plain text.
const BLOCK_TAGS: &[&str] = &[
    "p",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "li",
    "td",
    "th",
    "pre",
    "dt",
    "dd",
    "blockquote",
    "figure",
    "figcaption",
    "caption",
    "table",
    "tr",
    "ul",
    "ol",
    "dl",
    "hr",
];

/// The plain-text blocks of sanitized HTML (paragraphs, headings, list
/// items, cells, code blocks), whitespace collapsed, and the index of the
/// first `<p>` among them.
///
/// This relies on what [`Sanitizer::clean`] emits: serialized by html5ever,
/// a `<` in text is always `&lt;`, attribute values are double-quoted with
/// `"` escaped, and text holds no other entities than `&amp;`, `&lt;`,
/// `&gt;` and `&nbsp;`. Scripts and styles are already gone.
pub fn text_blocks(html: &str) -> (Vec<String>, Option<usize>) {
    let mut blocks = Vec::new();
    let mut first_paragraph = None;
    let mut current = String::new();
    let mut flush = |current: &mut String, blocks: &mut Vec<String>, paragraph: bool| {
        let text = collapse_whitespace(current);
        current.clear();
        if !text.is_empty() {
            if paragraph && first_paragraph.is_none() {
                first_paragraph = Some(blocks.len());
            }
            blocks.push(text);
        }
    };
    let mut rest = html;
    while let Some(open) = rest.find('<') {
        push_unescaped(&rest[..open], &mut current);
        let tag_and_more = &rest[open + 1..];
        // The tag ends at the first `>` outside a double-quoted value.
        let mut quoted = false;
        let end = tag_and_more
            .char_indices()
            .find(|&(_, c)| {
                if c == '"' {
                    quoted = !quoted;
                }
                c == '>' && !quoted
            })
            .map_or(tag_and_more.len(), |(i, _)| i);
        let tag = &tag_and_more[..end];
        let closing = tag.starts_with('/');
        let name: String = tag
            .trim_start_matches('/')
            .chars()
            .take_while(char::is_ascii_alphanumeric)
            .collect::<String>()
            .to_ascii_lowercase();
        if name == "br" {
            current.push(' ');
        } else if BLOCK_TAGS.contains(&name.as_str()) {
            flush(&mut current, &mut blocks, closing && name == "p");
        }
        rest = tag_and_more.get(end + 1..).unwrap_or("");
    }
    push_unescaped(rest, &mut current);
    flush(&mut current, &mut blocks, false);
    (blocks, first_paragraph)
}

fn push_unescaped(text: &str, out: &mut String) {
    let mut rest = text;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        let after = &rest[amp..];
        let (entity, c) = [
            ("&amp;", '&'),
            ("&lt;", '<'),
            ("&gt;", '>'),
            ("&nbsp;", '\u{A0}'),
            ("&quot;", '"'),
        ]
        .into_iter()
        .find(|(e, _)| after.starts_with(e))
        .unwrap_or(("&", '&'));
        out.push(c);
        rest = &after[entity.len()..];
    }
    out.push_str(rest);
}

/// The URL, normalised, when `text` is an absolute `http` or `https` URL
/// with a host; `None` for placeholders (`#`, empty, relative, other schemes).
pub fn http_url(text: &str) -> Option<String> {
    let text = text.trim();
    let text = text
        .strip_prefix('<')
        .and_then(|t| t.strip_suffix('>'))
        .unwrap_or(text)
        .trim();
    // `Url::parse` would quietly accept `https:example.org`; demand `//`.
    let (_, rest) = text.split_once(':')?;
    if !rest.starts_with("//") {
        return None;
    }
    let url = Url::parse(text).ok()?;
    let ok =
        matches!(url.scheme(), "http" | "https") && url.host_str().is_some_and(|h| !h.is_empty());
    ok.then(|| url.to_string())
}

/// Longest summary, in characters, counting the ellipsis.
pub const SUMMARY_MAX_CHARS: usize = 300;

/// A plain-text summary from a paragraph: whitespace runs collapsed, cut at
/// a word boundary so that it holds at most [`SUMMARY_MAX_CHARS`] characters,
/// `…` included, when it is longer. A single word longer than that is cut
/// inside the word.
pub fn summarize(text: &str) -> String {
    let collapsed = collapse_whitespace(text);
    if collapsed.chars().count() <= SUMMARY_MAX_CHARS {
        return collapsed;
    }
    let limit = SUMMARY_MAX_CHARS - 1; // room for the ellipsis
    let cut_at = collapsed
        .char_indices()
        .nth(limit)
        .map_or(collapsed.len(), |(i, _)| i);
    let head = &collapsed[..cut_at];
    // Cut at the last space if the limit falls inside a word.
    let next_is_space = collapsed[cut_at..].starts_with(' ');
    let head = if next_is_space {
        head
    } else {
        match head.rfind(' ') {
            Some(space) if space > 0 => &head[..space],
            _ => head,
        }
    };
    let head = head.trim_end_matches(|c: char| {
        c.is_whitespace() || matches!(c, ',' | ';' | ':' | '-' | '–' | '—')
    });
    format!("{head}…")
}

/// Runs of whitespace become one space; the ends are trimmed.
pub fn collapse_whitespace(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for word in text.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reader resolves `https:host/x` against the page, as a path: found
    /// by fuzzing, where such a link passed the sanitizer unchanged.
    #[test]
    fn urls_without_their_slashes_are_written_out_in_full() {
        let clean = sanitizer().clean(
            "<a href=\"https:evil.example/x\">a</a><img src=\"HTTP:pics.example/p.png\" alt=\"p\">\
             <a href=\"https://fine.example/y?a=1&amp;b=2\">b</a><a href=\"/z\">c</a>",
        );
        assert!(clean.contains("href=\"https://evil.example/x\""), "{clean}");
        assert!(
            clean.contains("src=\"http://pics.example/p.png\""),
            "{clean}"
        );
        assert!(
            clean.contains("href=\"https://fine.example/y?a=1&amp;b=2\""),
            "{clean}"
        );
        assert!(
            !clean.contains(":evil") && !clean.contains(":pics"),
            "{clean}"
        );
    }

    fn sanitizer() -> Sanitizer {
        Sanitizer::new(&Url::parse("https://news.example.org/site/").unwrap())
    }

    #[test]
    fn drops_scripts_handlers_and_frames() {
        let html = sanitizer().clean(
            "<p onclick=\"x()\">hi<script>alert(1)</script><style>p{}</style>\
             <iframe src=\"https://evil.example/\">frame text</iframe>\
             <object data=\"x\">obj</object><embed src=\"x\"><form action=\"/x\"><input name=q>form text</form></p>",
        );
        for bad in [
            "<script",
            "alert",
            "<style",
            "<iframe",
            "frame text",
            "onclick",
            "<object",
            "<embed",
            "<form",
            "<input",
        ] {
            assert!(!html.contains(bad), "{bad} in {html}");
        }
        assert!(html.contains("form text"), "{html}");
    }

    #[test]
    fn drops_javascript_and_data_urls() {
        let html = sanitizer().clean(
            "<a href=\"javascript:alert(1)\">a</a><a href=\" JaVaScRiPt:alert(1)\">b</a>\
             <img src=\"data:image/png;base64,AAAA\" alt=\"d\"><a href=\"mailto:x@example.org\">m</a>",
        );
        assert!(!html.to_lowercase().contains("javascript"), "{html}");
        assert!(!html.contains("data:"), "{html}");
        assert!(html.contains("href=\"mailto:x@example.org\""), "{html}");
    }

    #[test]
    fn makes_relative_urls_absolute() {
        let html = sanitizer().clean(
            "<a href=\"/about\">a</a><a href=\"more\">b</a><img src=\"img/p.png\" alt=\"p\">",
        );
        assert!(
            html.contains("href=\"https://news.example.org/about\""),
            "{html}"
        );
        assert!(
            html.contains("href=\"https://news.example.org/site/more\""),
            "{html}"
        );
        assert!(
            html.contains("src=\"https://news.example.org/site/img/p.png\""),
            "{html}"
        );
        assert!(html.contains("rel=\"noopener noreferrer\""), "{html}");
    }

    #[test]
    fn text_blocks_of_sanitized_html() {
        let html = sanitizer().clean(
            "<h2>Head &amp; <em>line</em></h2><p>First <a href=\"/x?a=1&b=2\" title=\"a > b\">link</a>\
             <br>next &lt;b&gt; x\u{A0}y</p><script>var hidden</script><ul><li>one</li><li>two</li></ul>\
             <p>Second</p>loose text",
        );
        let (blocks, first) = text_blocks(&html);
        assert_eq!(
            blocks,
            [
                "Head & line",
                "First link next <b> x y",
                "one",
                "two",
                "Second",
                "loose text"
            ]
        );
        assert_eq!(first, Some(1));
    }

    #[test]
    fn http_url_accepts_only_absolute_http() {
        assert_eq!(
            http_url("https://example.org/a b").as_deref(),
            Some("https://example.org/a%20b")
        );
        assert_eq!(
            http_url("<http://Example.org>").as_deref(),
            Some("http://example.org/")
        );
        for bad in [
            "#",
            "",
            "/relative",
            "page.html",
            "javascript:alert(1)",
            "ftp://x.org/",
            "https:example.org",
            "mailto:a@b.c",
            "http://",
        ] {
            assert_eq!(http_url(bad), None, "{bad}");
        }
    }

    #[test]
    fn short_summaries_are_kept_whole() {
        assert_eq!(
            summarize("  One   short\nparagraph. "),
            "One short paragraph."
        );
    }

    #[test]
    fn long_summaries_are_cut_at_a_word_boundary() {
        let text = "word ".repeat(100);
        let summary = summarize(&text);
        assert!(summary.chars().count() <= SUMMARY_MAX_CHARS);
        assert!(summary.ends_with("word…"), "{summary}");
    }

    #[test]
    fn a_giant_word_is_cut_inside() {
        let summary = summarize(&"x".repeat(1000));
        assert_eq!(summary.chars().count(), SUMMARY_MAX_CHARS);
        assert!(summary.ends_with('…'));
    }

    #[test]
    fn cut_respects_multibyte_characters() {
        let text = "слово ".repeat(80);
        let summary = summarize(&text);
        assert!(summary.chars().count() <= SUMMARY_MAX_CHARS);
        assert!(summary.ends_with("слово…"), "{summary}");
    }
}
