//! The seed text format: articles as a newsroom's extraction tool saves them.
//!
//! The text is plain, never HTML: `<script>` or `&` are words to show, and are
//! escaped. Blocks are separated by one or more blank (whitespace-only) lines;
//! inside a block, lines are trimmed and joined with one space. In order:
//!
//! 1. **Title**: the first block. A title wrapped over several lines is
//!    joined with spaces rather than rejected (extraction tools wrap long
//!    titles). A first block that reads as a date is reported as a missing
//!    title.
//! 2. **Date**: the next block, read by [`super::dates`].
//! 3. **Caption** (optional): the block right after the date is a photo
//!    caption and credit when all of these hold: it is one line of at most
//!    200 characters; it does not end in sentence punctuation (`.` `!` `?`
//!    `…` `:` `;`) or a closing quote (`"` `'` `”` `’` `»` `›`), so a
//!    one-sentence lead paragraph is never taken for one; it is not a
//!    `Related article:` line or the footer; at least one body paragraph
//!    follows it; and the block right after it does not start with a
//!    lower-case letter (then it is the first half of a split paragraph). It goes in `caption` and tops `content_html` as
//!    `<p><em>…</em></p>`.
//! 4. **Body**: every following block up to the footer, one paragraph each.
//!    - `[text](url)`: an absolute `http(s)` URL becomes a link; anything
//!      else (`#`, empty, relative, `javascript:`, `mailto:`) leaves the
//!      plain text. A title after the URL (`[a](https://x "t")`) is dropped;
//!      balanced parentheses inside the URL are kept.
//!    - A block starting `Related article:` (or `Related articles:`, any
//!      case) is a related link, kept out of the body: each `[text](url)` in
//!      it, or else a bare URL, or else the plain text, becomes one
//!      [`Link`]. Those with a real URL are also appended to `content_html`
//!      as `<p>Related: <a href="…">text</a></p>`.
//!    - A block that does not end in terminal punctuation (`.` `!` `?` `…`
//!      `:`, optionally followed by closing quotes or brackets) followed
//!      directly by a block starting with a lower-case letter is one paragraph
//!      split by extraction, and is joined back with one space (repeatedly,
//!      so a paragraph split twice is whole again).
//! 5. **Footer**: a line starting `Original url:` (any case; it also ends the
//!    block before it) followed, on the same line, on the next line, or in
//!    the next block, by a URL, optionally in `<…>`. It is the canonical
//!    `url` if it is absolute `http(s)`; otherwise a warning, and the article
//!    has no canonical URL. Anything after the URL is ignored, with a
//!    warning.

use std::borrow::Cow;
use std::collections::HashMap;

use crate::model::Link;
use crate::xml::escape_into;

use super::clean::http_url;
use super::dates::parse_date;
use super::{BodyHtml, FileContext, Parts};

const FOOTER: &str = "original url:";
const RELATED: [&str; 2] = ["related article:", "related articles:"];
const CAPTION_MAX_CHARS: usize = 200;

/// A run of non-blank lines: (1-based line number, trimmed text), a slice
/// of the lines of the whole file.
#[derive(Debug, Clone, Copy)]
struct Block<'b, 't> {
    lines: &'b [(usize, &'t str)],
}

impl<'t> Block<'_, 't> {
    fn line(&self) -> usize {
        self.lines[0].0
    }

    fn first(&self) -> &'t str {
        self.lines[0].1
    }

    /// The lines joined with one space; a one-line block, most of them, is
    /// not copied.
    fn joined(&self) -> Cow<'t, str> {
        match self.lines {
            [(_, line)] => Cow::Borrowed(line),
            lines => {
                let len = lines.iter().map(|(_, line)| line.len() + 1).sum();
                let mut out = String::with_capacity(len);
                for (_, line) in lines {
                    if !out.is_empty() {
                        out.push(' ');
                    }
                    out.push_str(line);
                }
                Cow::Owned(out)
            }
        }
    }

    fn is_footer(&self) -> bool {
        strip_prefix_ci(self.first(), FOOTER).is_some()
    }

    /// Whether this block is a related link (see [`Block::related`]),
    /// without joining its lines when the first one decides it.
    fn is_related(&self) -> bool {
        let first = self.first();
        if self.lines.len() == 1 || first.len() >= RELATED_LONGEST {
            RELATED.iter().any(|p| strip_prefix_ci(first, p).is_some())
        } else {
            self.related().is_some()
        }
    }

    /// The text after `Related article:` when this block is a related link.
    fn related(&self) -> Option<String> {
        let joined = self.joined();
        RELATED
            .iter()
            .find_map(|p| strip_prefix_ci(&joined, p))
            .map(|rest| rest.trim().to_owned())
    }
}

/// The length of the longest of [`RELATED`]: a line at least this long
/// decides alone whether its block starts with one.
const RELATED_LONGEST: usize = RELATED[1].len();

/// `line` without `prefix`, compared ignoring ASCII case.
fn strip_prefix_ci<'a>(line: &'a str, prefix: &str) -> Option<&'a str> {
    let head = line.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &line[prefix.len()..])
}

/// The non-blank lines of LF text, trimmed, with their line numbers, and
/// where each block of them ends (exclusive). A footer line always starts a
/// new block.
fn lines(text: &str) -> (Vec<(usize, &str)>, Vec<usize>) {
    let mut lines = Vec::with_capacity(64);
    let mut ends = Vec::with_capacity(32);
    for (i, line) in text.split('\n').enumerate() {
        let line = line.trim();
        if line.is_empty() || strip_prefix_ci(line, FOOTER).is_some() {
            if ends.last().copied().unwrap_or(0) < lines.len() {
                ends.push(lines.len());
            }
            if line.is_empty() {
                continue;
            }
        }
        lines.push((i + 1, line));
    }
    if ends.last().copied().unwrap_or(0) < lines.len() {
        ends.push(lines.len());
    }
    (lines, ends)
}

/// The blocks of [`lines`].
fn blocks<'b, 't>(lines: &'b [(usize, &'t str)], ends: &[usize]) -> Vec<Block<'b, 't>> {
    let mut start = 0;
    ends.iter()
        .map(|&end| {
            let block = Block {
                lines: &lines[start..end],
            };
            start = end;
            block
        })
        .collect()
}

const CLOSERS: &[char] = &['"', '\'', '”', '’', '»', '›', ')', ']'];

/// Whether a paragraph ends like a finished sentence.
fn ends_sentence(text: &str) -> bool {
    text.trim_end_matches(CLOSERS)
        .ends_with(['.', '!', '?', '…', ':'])
}

fn starts_lowercase(text: &str) -> bool {
    text.chars().next().is_some_and(char::is_lowercase)
}

/// The caption rule of the module docs, for one block (the caller checks
/// that a body paragraph follows).
fn looks_like_caption(block: &Block<'_, '_>) -> bool {
    let text = block.first();
    block.lines.len() == 1
        && text.chars().count() <= CAPTION_MAX_CHARS
        && !text.ends_with(['.', '!', '?', '…', ':', ';', '"', '\'', '”', '’', '»', '›'])
        && !block.is_footer()
        && !block.is_related()
}

/// A piece of inline text: plain text, or a `[text](target)` link.
#[derive(Debug, PartialEq)]
enum Inline<'t> {
    Text(&'t str),
    Link { text: &'t str, target: &'t str },
}

/// Splits `text` into plain runs and `[text](target)` links.
fn inlines(text: &str) -> Vec<Inline<'_>> {
    let mut out = Vec::new();
    let mut plain_from = 0;
    let mut at = 0;
    // Where each `(` is balanced, found in one pass when the first link
    // needs it: scanning ahead from every `[x](` instead would cost time
    // quadratic in a text of many unclosed ones.
    let mut balanced: Option<HashMap<usize, usize>> = None;
    while let Some(open) = text[at..].find('[').map(|i| at + i) {
        at = open + 1;
        let Some(close) = text[open + 1..].find(['[', ']']).map(|i| open + 1 + i) else {
            break;
        };
        if text.as_bytes()[close] == b'[' || !text[close + 1..].starts_with('(') {
            continue;
        }
        // The target runs to the `)` that balances the `(`.
        let balanced = balanced.get_or_insert_with(|| balancing_parentheses(text));
        let Some(&end) = balanced.get(&(close + 1)) else {
            continue;
        };
        if plain_from < open {
            out.push(Inline::Text(&text[plain_from..open]));
        }
        out.push(Inline::Link {
            text: &text[open + 1..close],
            target: &text[close + 2..end],
        });
        plain_from = end + 1;
        at = end + 1;
    }
    if plain_from < text.len() {
        out.push(Inline::Text(&text[plain_from..]));
    }
    out
}

/// For every `(` of `text` that a `)` balances, the byte index of that `)`.
fn balancing_parentheses(text: &str) -> HashMap<usize, usize> {
    let mut balanced = HashMap::new();
    let mut open = Vec::new();
    for (i, byte) in text.bytes().enumerate() {
        match byte {
            b'(' => open.push(i),
            b')' => {
                if let Some(start) = open.pop() {
                    balanced.insert(start, i);
                }
            }
            _ => {}
        }
    }
    balanced
}

/// The URL of a link target: the first word, without `<…>`, if it is an
/// absolute http(s) URL.
fn link_url(target: &str) -> Option<String> {
    let target = target.trim();
    let target = if target.starts_with('<') {
        target.split_once('>').map_or(target, |(url, _)| &url[1..])
    } else {
        target.split_whitespace().next().unwrap_or("")
    };
    http_url(target)
}

/// A link as the seed text format writes it, onto `html`.
fn push_link(html: &mut String, url: &str, text: &str) {
    html.push_str("<a href=\"");
    escape_into(html, url);
    html.push_str("\" rel=\"noopener noreferrer\">");
    escape_into(html, text);
    html.push_str("</a>");
}

/// The plain text of a paragraph's inline text; its escaped HTML goes onto
/// `html`.
fn render_inline(text: &str, html: &mut String) -> String {
    let mut plain = String::with_capacity(text.len());
    for piece in inlines(text) {
        match piece {
            Inline::Text(t) => {
                plain.push_str(t);
                escape_into(html, t);
            }
            Inline::Link { text, target } => match link_url(target) {
                Some(url) => {
                    let shown = if text.trim().is_empty() {
                        url.as_str()
                    } else {
                        text
                    };
                    plain.push_str(shown);
                    push_link(html, &url, shown);
                }
                None => {
                    plain.push_str(text);
                    escape_into(html, text);
                }
            },
        }
    }
    plain
}

/// The links of a `Related article:` block's text.
fn related_links(rest: &str) -> Vec<Link> {
    let pieces = inlines(rest);
    let links: Vec<Link> = pieces
        .iter()
        .filter_map(|piece| match piece {
            Inline::Link { text, target } => {
                let url = link_url(target);
                let text = text.trim();
                let text = match (&url, text.is_empty()) {
                    (Some(url), true) => url.clone(),
                    _ => text.to_owned(),
                };
                (!text.is_empty()).then_some(Link { text, url })
            }
            Inline::Text(_) => None,
        })
        .collect();
    if !links.is_empty() {
        return links;
    }
    match http_url(rest) {
        Some(url) => vec![Link {
            text: url.clone(),
            url: Some(url),
        }],
        None if rest.is_empty() => Vec::new(),
        None => vec![Link {
            text: rest.to_owned(),
            url: None,
        }],
    }
}

/// Shortens text quoted in a message.
fn quoted(text: &str) -> String {
    const MAX: usize = 60;
    match text.char_indices().nth(MAX) {
        Some((cut, _)) => format!("\"{}…\"", &text[..cut]),
        None => format!("\"{text}\""),
    }
}

/// Parses clean LF text in the seed text format.
pub(super) fn parse(text: &str, cx: &mut FileContext<'_>) -> Option<Parts> {
    let (lines, ends) = lines(text);
    let blocks = blocks(&lines, &ends);
    let zone = cx.config.site.timezone;

    let Some(title_block) = blocks.first() else {
        cx.error(
            1,
            "no title: the file is empty or blank; a seed starts with its title line, \
             then a blank line and the date",
        );
        return None;
    };
    let title = title_block.joined().into_owned();
    if parse_date(&title, zone).is_ok() {
        cx.error(
            title_block.line(),
            format!(
                "no title: the first line is the date {}; put the title above it, \
                 followed by a blank line",
                quoted(&title)
            ),
        );
        return None;
    }

    let Some(date_block) = blocks.get(1) else {
        cx.error(
            title_block.line(),
            "no date after the title: add a blank line and then a date such as \
             \"May 24, 2024\" under the title",
        );
        return None;
    };
    let date_text = date_block.joined();
    let published = match parse_date(&date_text, zone) {
        Ok(date) => date,
        Err(e) => {
            cx.error(
                date_block.line(),
                format!("cannot read the date {}: {e}", quoted(&date_text)),
            );
            return None;
        }
    };

    let rest = &blocks[2..];
    let footer_at = rest.iter().position(Block::is_footer).unwrap_or(rest.len());
    let (mut body, footer) = rest.split_at(footer_at);

    // The body's HTML is about as long as its text.
    let body_len = body
        .iter()
        .flat_map(|b| b.lines)
        .map(|(_, line)| line.len() + 8)
        .sum::<usize>();
    let mut body_html = String::with_capacity(body_len + body_len / 8);
    let mut caption = None;
    if let Some(first) = body.first() {
        let more_body = body[1..].iter().any(|b| !b.is_related());
        let continued = body.get(1).is_some_and(|b| starts_lowercase(b.first()));
        if more_body && !continued && looks_like_caption(first) {
            body_html.push_str("<p><em>");
            caption = Some(render_inline(first.first(), &mut body_html));
            body_html.push_str("</em></p>\n");
            body = &body[1..];
        }
    }

    let mut merged: Vec<Cow<'_, str>> = Vec::with_capacity(body.len());
    let mut related = Vec::new();
    let mut after_paragraph = false;
    for block in body {
        if block.is_related() {
            let rest = block.related().expect("a related block");
            related.extend(related_links(&rest));
            after_paragraph = false;
            continue;
        }
        let text = block.joined();
        match merged.last_mut() {
            Some(last) if after_paragraph && !ends_sentence(last) && starts_lowercase(&text) => {
                let last = last.to_mut();
                last.push(' ');
                last.push_str(&text);
            }
            _ => merged.push(text),
        }
        after_paragraph = true;
    }

    let mut paragraphs = Vec::with_capacity(merged.len());
    for paragraph in &merged {
        let start = body_html.len();
        body_html.push_str("<p>");
        let plain = render_inline(paragraph, &mut body_html);
        if plain.trim().is_empty() {
            body_html.truncate(start);
            continue;
        }
        body_html.push_str("</p>\n");
        paragraphs.push(plain);
    }
    for link in &related {
        if let Some(url) = &link.url {
            body_html.push_str("<p>Related: ");
            push_link(&mut body_html, url, &link.text);
            body_html.push_str("</p>\n");
        }
    }

    let url = footer_url(footer, cx);
    Some(Parts {
        title,
        url,
        published,
        updated: published,
        caption,
        lead: (!paragraphs.is_empty()).then_some(0),
        paragraphs: Some(paragraphs),
        related,
        body_html: BodyHtml::Built(body_html),
        body_line: rest.first().map_or(date_block.line(), Block::line),
        summary: None,
        authors: Vec::new(),
        tags: Vec::new(),
        image: None,
    })
}

/// The canonical URL from the footer blocks (the first one starts with
/// `Original url:`), with warnings for a bad URL and ignored text.
fn footer_url(footer: &[Block<'_, '_>], cx: &mut FileContext<'_>) -> Option<String> {
    let first = footer.first()?;
    // The footer's lines, across its blocks: (line number, text).
    let lines: Vec<(usize, &str)> = footer
        .iter()
        .flat_map(|b| b.lines.iter().copied())
        .collect();
    let same_line = strip_prefix_ci(first.first(), FOOTER).unwrap_or("").trim();
    let (candidate, used) = if !same_line.is_empty() {
        (Some((first.line(), same_line)), 1)
    } else {
        match lines.get(1) {
            // The next line of the same block, or the first of the next.
            Some(&(n, t)) => (Some((n, t)), 2),
            _ => (None, 1),
        }
    };
    let url = match candidate {
        None => {
            cx.warning(
                first.line(),
                "\"Original url:\" has no URL after it, so the article has no canonical link: \
                 write the address on the same line, like \"Original url: <https://example.org/story>\"",
            );
            None
        }
        Some((line, text)) => {
            let url = http_url(text);
            if url.is_none() {
                cx.warning(
                    line,
                    format!(
                        "the original url {} is not an absolute http(s) URL, so the article has \
                         no canonical link and its id comes from the file's path: write it like \
                         <https://example.org/story>",
                        quoted(text)
                    ),
                );
            }
            url
        }
    };
    if let Some(&(line, _)) = lines.get(used) {
        let ignored = lines.len() - used;
        cx.warning(
            line,
            format!(
                "ignored {ignored} line{} after the \"Original url:\" footer: nothing after the \
                 canonical URL is read; move body text above the footer",
                if ignored == 1 { "" } else { "s" }
            ),
        );
    }
    url
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use chrono::DateTime;
    use proptest::prelude::*;

    use super::*;
    use crate::config::Config;
    use crate::diagnostic::{Diagnostic, Severity};
    use crate::ingest::parse_seed;
    use crate::model::Article;

    fn config(zone: &str) -> Config {
        Config::parse(
            &format!("[site]\nbase_url = \"https://news.example.org/\"\ntimezone = \"{zone}\"\n"),
            Path::new("config/tidings.toml"),
        )
        .unwrap()
    }

    fn parse_bytes(bytes: &[u8]) -> (Option<Article>, Vec<Diagnostic>) {
        parse_seed("seeds/t.txt", "t.txt", bytes, &config("UTC"))
    }

    fn article(text: &str) -> Article {
        let (article, diagnostics) = parse_bytes(text.as_bytes());
        assert!(diagnostics.iter().all(|d| !d.is_error()), "{diagnostics:?}");
        article.expect("published")
    }

    fn errors(text: &str) -> Vec<String> {
        let (article, diagnostics) = parse_bytes(text.as_bytes());
        assert!(article.is_none(), "published {article:?}");
        diagnostics.iter().map(ToString::to_string).collect()
    }

    const HEAD: &str = "A title\n\nMay 24, 2024\n\n";

    /// The README's example, copied as a reader would copy it, publishes
    /// with every part where the README says.
    #[test]
    fn the_readme_example_publishes_as_it_is() {
        let readme = include_str!("../../README.md");
        let section = &readme[readme.find("### Seed text").expect("the section")..];
        let start = section.find("```text\n").expect("the example") + "```text\n".len();
        let example = &section[start..start + section[start..].find("```").unwrap()];
        let (article, diagnostics) = parse_bytes(example.as_bytes());
        assert!(diagnostics.is_empty(), "{diagnostics:?}");
        let a = article.expect("published");
        assert_eq!(
            a.title,
            "Putin Ready to Freeze War on Current Battlefield Lines – Reuters"
        );
        assert_eq!(a.published.to_rfc3339(), "2024-05-24T00:00:00+00:00");
        assert_eq!(
            a.caption.as_deref(),
            Some("Vladimir Putin with military officers. kremlin.ru")
        );
        assert_eq!(a.paragraphs.len(), 2, "{:?}", a.paragraphs);
        assert_eq!(a.related.len(), 1);
        assert_eq!(
            a.url.as_deref(),
            Some("https://www.themoscowtimes.com/2024/05/24/putin-ready-to-freeze-war-on-current-battlefield-lines-reuters-a85215")
        );
        assert_eq!(a.slug, "t");
    }

    #[test]
    fn title_is_kept_as_written() {
        let a = article("\n\n  Putin Ready – Reuters  \n\nMay 24, 2024\n\nBody.\n");
        assert_eq!(a.title, "Putin Ready – Reuters");
    }

    #[test]
    fn title_over_several_lines_is_joined_with_spaces() {
        let a = article("A long title\nwrapped here\n\n2024-05-24\n\nBody.\n");
        assert_eq!(a.title, "A long title wrapped here");
    }

    #[test]
    fn blank_file_has_no_title() {
        for text in ["", "\n\n", "  \n\t\n \n"] {
            let e = errors(text);
            assert_eq!(e.len(), 1, "{e:?}");
            assert!(e[0].starts_with("seeds/t.txt:1: no title"), "{e:?}");
        }
    }

    #[test]
    fn a_date_first_is_a_missing_title() {
        let e = errors("\nMay 24, 2024\n\nBody text.\n");
        assert!(e[0].starts_with("seeds/t.txt:2: no title"), "{e:?}");
    }

    #[test]
    fn title_alone_has_no_date() {
        let e = errors("Just a title\n");
        assert!(e[0].starts_with("seeds/t.txt:1: no date"), "{e:?}");
    }

    #[test]
    fn bad_date_names_its_line_and_the_formats() {
        let e = errors("Title\n\nMayy 24, 2024\n\nBody.\n");
        assert!(
            e[0].starts_with("seeds/t.txt:3: cannot read the date \"Mayy 24, 2024\": write it like \"May 24, 2024\""),
            "{e:?}"
        );
        assert!(e[0].contains("RFC 3339"), "{e:?}");
    }

    #[test]
    fn date_is_read_in_the_site_zone() {
        let (a, _) = parse_seed("s/t.txt", "t.txt", HEAD.as_bytes(), &config("Europe/Kyiv"));
        assert_eq!(
            a.unwrap().published.to_rfc3339(),
            "2024-05-24T00:00:00+03:00"
        );
        let a = article("T\n\n2024-05-24 10:15\n\nBody.\n");
        assert_eq!(
            a.published,
            DateTime::parse_from_rfc3339("2024-05-24T10:15:00Z").unwrap()
        );
        assert_eq!(a.updated, a.published);
    }

    #[test]
    fn blocks_are_separated_by_whitespace_only_lines() {
        let a = article("T\n \t \nMay 24, 2024\n   \nOne paragraph\nover two lines.\n\n\n\nTwo.\n");
        assert_eq!(a.paragraphs, ["One paragraph over two lines.", "Two."]);
    }

    #[test]
    fn crlf_and_bom() {
        let a = article(
            "\u{FEFF}Title\r\n\r\nMay 24, 2024\r\n\r\nFirst.\r\nStill first.\r\n\r\nSecond.\r\n",
        );
        assert_eq!(a.title, "Title");
        assert_eq!(a.paragraphs, ["First. Still first.", "Second."]);
        assert!(!a.content_html.contains('\r'));
    }

    #[test]
    fn lone_cr_is_a_line_break() {
        let a = article("Title\r\rMay 24, 2024\r\rFirst.\r\rSecond.\r");
        assert_eq!(a.title, "Title");
        assert_eq!(a.paragraphs, ["First.", "Second."]);
    }

    #[test]
    fn caption_is_a_short_unpunctuated_line_before_more_body() {
        let a = article(&format!(
            "{HEAD}Vladimir Putin with military officers. kremlin.ru\n\nBody text.\n"
        ));
        assert_eq!(
            a.caption.as_deref(),
            Some("Vladimir Putin with military officers. kremlin.ru")
        );
        assert_eq!(a.paragraphs, ["Body text."]);
        assert!(
            a.content_html
                .starts_with("<p><em>Vladimir Putin with military officers. kremlin.ru</em></p>"),
            "{}",
            a.content_html
        );
    }

    #[test]
    fn caption_needs_a_body_paragraph_after_it() {
        let a = article(&format!("{HEAD}Photo: AP\n"));
        assert_eq!(a.caption, None);
        assert_eq!(a.paragraphs, ["Photo: AP"]);
        let a = article(&format!("{HEAD}Photo: AP\n\nRelated article: [x](#)\n"));
        assert_eq!(a.caption, None);
    }

    #[test]
    fn first_half_of_a_split_paragraph_is_not_a_caption() {
        let a = article(&format!(
            "{HEAD}Putin told Russians we kept our\n\nsovereignty and more.\n"
        ));
        assert_eq!(a.caption, None);
        assert_eq!(
            a.paragraphs,
            ["Putin told Russians we kept our sovereignty and more."]
        );
    }

    #[test]
    fn sentence_after_the_date_is_not_a_caption() {
        for first in [
            "The war goes on.",
            "Is it over?",
            "He said: “no”",
            "Listen:",
            "A list;",
        ] {
            let a = article(&format!("{HEAD}{first}\n\nMore.\n"));
            assert_eq!(a.caption, None, "{first}");
            assert_eq!(a.paragraphs.len(), 2, "{first}");
        }
    }

    #[test]
    fn long_or_multi_line_block_is_not_a_caption() {
        let long = "x".repeat(201);
        let a = article(&format!("{HEAD}{long}\n\nMore.\n"));
        assert_eq!(a.caption, None);
        let a = article(&format!("{HEAD}Photo by\nAP\n\nMore.\n"));
        assert_eq!(a.caption, None);
        let exactly = "y".repeat(200);
        let a = article(&format!("{HEAD}{exactly}\n\nMore.\n"));
        assert_eq!(a.caption.as_deref(), Some(exactly.as_str()));
    }

    #[test]
    fn split_paragraph_is_joined() {
        let a = article(&format!("{HEAD}Photo AP\n\nWe won... and we kept our\n\nsovereignty... we have a corridor.\n\nNext one.\n"));
        assert_eq!(
            a.paragraphs,
            [
                "We won... and we kept our sovereignty... we have a corridor.",
                "Next one."
            ]
        );
    }

    #[test]
    fn paragraph_split_twice_is_joined_twice() {
        let a = article(&format!("{HEAD}Lead.\n\none\n\ntwo\n\nthree.\n"));
        assert_eq!(a.paragraphs, ["Lead.", "one two three."]);
    }

    #[test]
    fn finished_sentences_are_not_joined() {
        for end in [
            "done.",
            "done!",
            "done?",
            "done…",
            "said:",
            "“done.”",
            "(done.)",
        ] {
            let a = article(&format!(
                "{HEAD}Lead.\n\nIt is {end}\n\nlower case start.\n"
            ));
            assert_eq!(a.paragraphs.len(), 3, "{end}: {:?}", a.paragraphs);
        }
        let a = article(&format!(
            "{HEAD}Lead.\n\nNo punctuation\n\nUpper case start.\n"
        ));
        assert_eq!(a.paragraphs.len(), 3);
    }

    #[test]
    fn placeholder_links_become_plain_text() {
        let a = article(&format!(
            "{HEAD}Reuters [reported](#) it, [empty]() and [rel](/x) and [js](javascript:alert(1)) [m](mailto:a@b.c).\n"
        ));
        assert_eq!(
            a.paragraphs,
            ["Reuters reported it, empty and rel and js m."]
        );
        assert!(!a.content_html.contains("<a"), "{}", a.content_html);
        assert!(!a.content_html.contains("]("), "{}", a.content_html);
    }

    #[test]
    fn http_links_stay_links() {
        let a = article(&format!(
            "{HEAD}See [the report](https://example.org/a?b=1&c=2) and [wiki](https://en.wikipedia.org/wiki/Foo_(bar) \"title\").\n"
        ));
        assert_eq!(a.paragraphs, ["See the report and wiki."]);
        assert!(
            a.content_html.contains("<a href=\"https://example.org/a?b=1&amp;c=2\" rel=\"noopener noreferrer\">the report</a>"),
            "{}",
            a.content_html
        );
        assert!(
            a.content_html
                .contains("href=\"https://en.wikipedia.org/wiki/Foo_(bar)\""),
            "{}",
            a.content_html
        );
    }

    #[test]
    fn brackets_that_are_not_links_stay() {
        let a = article(&format!(
            "{HEAD}An [aside] and [unclosed (x and a ] stray.\n"
        ));
        assert_eq!(a.paragraphs, ["An [aside] and [unclosed (x and a ] stray."]);
    }

    #[test]
    fn related_block_is_a_link_not_body() {
        let a = article(&format!(
            "{HEAD}Body.\n\nRelated article: [Troops 'Bogged Down'](#)\n\nMore body.\n\n\
             related articles: [Real](https://example.org/r) [Other](https://example.org/o)\n"
        ));
        assert_eq!(a.paragraphs, ["Body.", "More body."]);
        assert_eq!(a.related.len(), 3);
        assert_eq!(a.related[0].text, "Troops 'Bogged Down'");
        assert_eq!(a.related[0].url, None);
        assert_eq!(a.related[1].url.as_deref(), Some("https://example.org/r"));
        assert!(!a.content_html.contains("Bogged"), "{}", a.content_html);
        assert!(
            a.content_html.contains("<p>Related: <a href=\"https://example.org/r\" rel=\"noopener noreferrer\">Real</a></p>"),
            "{}",
            a.content_html
        );
        assert!(
            a.content_html.trim_end().ends_with("Other</a></p>"),
            "{}",
            a.content_html
        );
    }

    #[test]
    fn related_block_with_a_bare_url_or_text() {
        let a = article(&format!("{HEAD}Body.\n\nRelated article: https://example.org/x\n\nRelated article: Just words\n"));
        assert_eq!(a.related[0].url.as_deref(), Some("https://example.org/x"));
        assert_eq!(a.related[1].text, "Just words");
        assert_eq!(a.related[1].url, None);
    }

    #[test]
    fn related_block_does_not_join_paragraphs_around_it() {
        let a = article(&format!(
            "{HEAD}Lead.\n\nno stop\n\nRelated article: [x](#)\n\nlower start.\n"
        ));
        assert_eq!(a.paragraphs.len(), 3);
    }

    #[test]
    fn footer_url_in_the_next_block_in_angle_brackets() {
        let a = article(&format!(
            "{HEAD}Body.\n\nOriginal url:\n\n<https://example.org/story>\n"
        ));
        assert_eq!(a.url.as_deref(), Some("https://example.org/story"));
        assert_eq!(
            a.id,
            crate::model::ArticleId::Permalink("https://example.org/story".into())
        );
    }

    #[test]
    fn footer_url_on_the_same_line_or_the_next() {
        let a = article(&format!(
            "{HEAD}Body.\n\nOriginal URL: https://example.org/s\n"
        ));
        assert_eq!(a.url.as_deref(), Some("https://example.org/s"));
        let a = article(&format!(
            "{HEAD}Body.\nOriginal url:\nhttps://example.org/t\n"
        ));
        assert_eq!(a.url.as_deref(), Some("https://example.org/t"));
        assert_eq!(a.paragraphs, ["Body."]);
    }

    #[test]
    fn footer_with_a_relative_url_warns_and_falls_back_to_the_path_id() {
        let (a, d) = parse_bytes(format!("{HEAD}Body.\n\nOriginal url: /story\n").as_bytes());
        let a = a.unwrap();
        assert_eq!(a.url, None);
        assert!(a.id.as_str().starts_with("urn:uuid:"));
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].severity, Severity::Warning);
        assert!(
            d[0].to_string()
                .starts_with("seeds/t.txt:7: warning: the original url \"/story\""),
            "{}",
            d[0]
        );
    }

    #[test]
    fn footer_without_url_warns() {
        let (a, d) = parse_bytes(format!("{HEAD}Body.\n\nOriginal url:\n").as_bytes());
        assert_eq!(a.unwrap().url, None);
        assert!(d[0].message.contains("no URL after it"), "{d:?}");
    }

    #[test]
    fn text_after_the_footer_is_ignored_with_a_warning() {
        let (a, d) = parse_bytes(
            format!(
                "{HEAD}Body.\n\nOriginal url: https://example.org/s\n\nTrailing junk.\n\nMore.\n"
            )
            .as_bytes(),
        );
        let a = a.unwrap();
        assert_eq!(a.paragraphs, ["Body."]);
        assert_eq!(d.len(), 1, "{d:?}");
        assert!(
            d[0].to_string()
                .starts_with("seeds/t.txt:9: warning: ignored 2 lines"),
            "{}",
            d[0]
        );
    }

    #[test]
    fn seed_text_is_not_html() {
        let a = article(
            "Tom & Jerry <b>\n\nMay 24, 2024\n\n<script>alert(1)</script> & ]]> <b>bold</b>\n",
        );
        assert_eq!(a.title, "Tom & Jerry <b>");
        assert_eq!(
            a.paragraphs,
            ["<script>alert(1)</script> & ]]> <b>bold</b>"]
        );
        assert!(!a.content_html.contains("<script"), "{}", a.content_html);
        assert!(!a.content_html.contains("<b>"), "{}", a.content_html);
        assert!(
            a.content_html
                .contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp; ]]&gt;"),
            "{}",
            a.content_html
        );
    }

    #[test]
    fn no_body_summary_is_the_title() {
        let a = article("Only a title\n\nMay 24, 2024\n");
        assert_eq!(a.summary, "Only a title");
        assert!(a.paragraphs.is_empty());
        assert_eq!(a.content_html, "");
    }

    #[test]
    fn summary_is_the_first_paragraph() {
        let a = article(&format!("{HEAD}Photo AP\n\nFirst [para](#).\n\nSecond.\n"));
        assert_eq!(a.summary, "First para.");
    }

    #[test]
    fn illegal_characters_are_removed_with_a_warning_naming_the_line() {
        let (a, d) = parse_bytes("Ti\u{1}tle\n\nMay 24, 2024\n\nBo\u{FFFF}dy \u{B}x.\n".as_bytes());
        let a = a.unwrap();
        assert_eq!(a.title, "Title");
        assert_eq!(a.paragraphs, ["Body x."]);
        assert_eq!(d.len(), 1, "{d:?}");
        assert!(
            d[0].to_string()
                .starts_with("seeds/t.txt:1: warning: removed 3 characters"),
            "{}",
            d[0]
        );
        assert!(d[0].message.contains("lines 1, 5"), "{}", d[0]);
    }

    #[test]
    fn binary_and_invalid_utf8_are_rejected_with_their_line() {
        let (a, d) = parse_bytes(b"Title\n\nMay\x00 24, 2024\n");
        assert!(a.is_none());
        assert!(
            d[0].to_string()
                .starts_with("seeds/t.txt:3: this is a binary file"),
            "{}",
            d[0]
        );
        let (a, d) = parse_bytes(b"Title\r\n\r\nCaf\xe9\n");
        assert!(a.is_none());
        assert!(
            d[0].to_string()
                .starts_with("seeds/t.txt:3: the file is not UTF-8"),
            "{}",
            d[0]
        );
    }

    #[test]
    fn inline_parser_pieces() {
        assert_eq!(
            inlines("a [b](c) d"),
            [
                Inline::Text("a "),
                Inline::Link {
                    text: "b",
                    target: "c"
                },
                Inline::Text(" d")
            ]
        );
        assert_eq!(inlines("[x]"), [Inline::Text("[x]")]);
        assert_eq!(
            inlines("[[x](y)"),
            [
                Inline::Text("["),
                Inline::Link {
                    text: "x",
                    target: "y"
                }
            ]
        );
    }

    /// The body the seed text format builds skips the sanitizer, so it must
    /// be within the allow-list by construction: every tag is one of these,
    /// and every link goes to an absolute http(s) URL.
    fn assert_only_built_markup(html: &str) {
        const TAGS: [&str; 5] = ["<p>", "</p>", "<em>", "</em>", "</a>"];
        for (at, _) in html.match_indices('<') {
            let rest = &html[at..];
            if TAGS.iter().any(|t| rest.starts_with(t)) {
                continue;
            }
            let link = rest
                .strip_prefix("<a href=\"http://")
                .or_else(|| rest.strip_prefix("<a href=\"https://"));
            let Some(link) = link else {
                panic!("unexpected markup at {at} in {html:?}");
            };
            let end = link.find('"').expect("a closed href");
            assert!(!link[..end].contains(['<', '>', '\'']), "{html:?}");
            assert!(
                link[end..].starts_with("\" rel=\"noopener noreferrer\">"),
                "{html:?}"
            );
        }
    }

    fn assert_xml_legal(text: &str) {
        assert!(text.chars().all(crate::xml::is_xml_char), "{text:?}");
    }

    proptest! {
        #[test]
        fn never_panics_on_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
            let _ = parse_bytes(&bytes);
        }

        #[test]
        fn never_panics_and_stays_xml_legal(text in "(\\PC|[\\n\\r\\u{0}-\\u{1f}\\u{fffe}\\u{ffff}\\[\\]()#<>&]){0,300}") {
            if let (Some(a), _) = parse_bytes(text.as_bytes()) {
                assert_xml_legal(&a.title);
                assert_xml_legal(&a.summary);
                assert_xml_legal(&a.content_html);
                assert_only_built_markup(&a.content_html);
            }
        }

        #[test]
        fn links_and_markup_in_seed_text_never_escape_the_allow_list(
            words in proptest::collection::vec(
                "[a-z ]{0,6}|<script>|<iframe src=x>|\" onclick=\"x|javascript:alert\\(1\\)|https://e\\.org/\\?a=1&b=\"'|\\[|\\]|\\(|\\)|#|&amp;|<a href=\"https://x\">",
                0..40,
            ),
        ) {
            let body = words.concat();
            let text = format!("T\n\nMay 24, 2024\n\n{body}\n\nRelated article: {body}\n");
            if let (Some(a), _) = parse_bytes(text.as_bytes()) {
                assert_only_built_markup(&a.content_html);
            }
        }

        #[test]
        fn shaped_seeds_stay_xml_legal(
            title in "\\PC{1,40}",
            body in proptest::collection::vec("(\\PC|[\\u{1}\\u{fffe}<&\\[\\]()])*", 0..6),
        ) {
            let text = format!("{title}\n\nMay 24, 2024\n\n{}\n", body.join("\n\n"));
            let (a, d) = parse_bytes(text.as_bytes());
            if let Some(a) = a {
                assert_xml_legal(&a.title);
                assert_xml_legal(&a.summary);
                assert_xml_legal(&a.content_html);
                prop_assert!(!a.summary.is_empty());
                prop_assert!(a.summary.chars().count() <= crate::ingest::SUMMARY_MAX_CHARS);
            } else {
                prop_assert!(d.iter().any(Diagnostic::is_error));
            }
        }
    }
}
