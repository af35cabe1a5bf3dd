//! Markdown seeds: `+++` TOML front matter, then a CommonMark body.
//!
//! This is the format for authored content, so it is strict about what the
//! author controls and says exactly where a mistake is:
//!
//! - The file must start with a line `+++`; the front matter runs to the next
//!   line `+++`. A file that opens with `---` (YAML) is told to use TOML.
//! - Keys: `title` and `date` (required), `updated`, `url`, `authors`,
//!   `tags`, `summary`, `image`, `caption`, `draft`. Any other key, a wrong type or
//!   invalid TOML rejects the file, with the line of the problem in the file
//!   (not in the front matter).
//! - `date`/`updated`: a TOML offset date-time keeps its offset; a local
//!   date-time or a local date (00:00) is read in the site's zone; a string
//!   may use any format of [`super::dates`]. An `updated` before `date` is
//!   ignored with a warning, so no feed shows an update older than its
//!   publication.
//! - `url`: the canonical link (and so the id); it must be absolute
//!   `http(s)`, else it is ignored with a warning and the id comes from the
//!   path. `image`: absolute, or relative to `site.base_url`; anything else
//!   (a `javascript:` or `data:` URL) is ignored with a warning.
//!   `caption`: the image's caption and credit, as the seed text format's
//!   caption line (plain text; not part of the body).
//! - `title`, `summary`, `caption`, `authors` and `tags`: whitespace runs (a TOML
//!   multi-line string's line breaks too) become one space. In `authors`
//!   and `tags`, arrays of strings, blank entries are dropped and repeated
//!   ones kept once.
//! - `draft = true`: not published and not reported, whatever else is in
//!   the file (a draft may well be unfinished).
//! - Strings with characters XML 1.0 forbids (TOML escapes such as
//!   `"\u0001"`) lose them, with a warning on the key's line.
//!
//! The body is rendered by pulldown-cmark (CommonMark plus tables and
//! strikethrough) and then sanitized like every other body, so raw HTML is
//! allowed but only what the allow-list keeps survives. The plain-text
//! paragraphs (for the summary and topic keywords) are read from that
//! sanitized HTML, so they hold exactly the published text: every
//! paragraph, heading, list item, table cell and code block, and nothing
//! from a dropped `<script>`. The summary is cut from the first `<p>` (or
//! the first of those blocks if there is none).
//!
//! Nesting is limited to [`MAX_NESTING`] (32) elements open at once,
//! counting both Markdown's (block quotes, list items, emphasis, links,
//! images) and raw HTML's. pulldown-cmark itself reads any body in linear
//! time, but the sanitizer's HTML parser does work in proportion to the
//! depth of the open elements for each new one, so a body nested N deep
//! costs N² there: 10,000 `>` took 6 s, a 1 MiB body would take hours. No
//! article needs 32 levels (a list in a quote in a list is 6), so a deeper
//! body is rejected, naming the line where it goes too deep, in the same
//! single pass that renders it. Raw HTML is counted from its tags the way
//! an HTML parser opens elements: void elements (`<br>`, `<img>`) and
//! elements whose end tag is implied (`<p>`, `<li>`, `<td>`…) do not count,
//! the text of `<script>`, `<style>`, `<textarea>`, `<title>` and the like
//! is not read for tags, and comments are skipped. Where one pass cannot
//! know what the parser will do (an end tag that does not close the element
//! opened last), an element stays counted: a sloppy document may be called
//! too deep, never one counted much shallower than it is. The message says
//! to close the tags left open.
//!
//! The sanitizer's serializer has a second cost that grows faster than the
//! text: for every `&` and every character of U+0080..U+00BF (`©`, `«`, a
//! no-break space) in a run of text, it searches ahead to the run's next
//! `<` or `>`, so a run of length L with N of them costs N × L (400 KB of
//! `&amp;` took 40 s). The same pass adds up that cost for every run of
//! text (between two tags, Markdown's or raw HTML's) and rejects a body
//! past [`MAX_ESCAPE_SCAN`] bytes of searching, naming the line: an
//! article of ordinary paragraphs costs a few hundred kilobytes of it.

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveTime};
use pulldown_cmark::{Event, Options, Parser, Tag as MdTag, TagEnd};
use serde::Deserialize;
use toml::Spanned;

use crate::diagnostic::line_of;

use super::clean::{collapse_whitespace, http_url};
use super::dates::{self, parse_date, DateError};
use super::{BodyHtml, FileContext, Parts};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FrontMatter {
    title: Option<Spanned<String>>,
    date: Option<Spanned<toml::Value>>,
    updated: Option<Spanned<toml::Value>>,
    url: Option<Spanned<String>>,
    #[serde(default)]
    authors: Option<Spanned<Vec<String>>>,
    #[serde(default)]
    tags: Option<Spanned<Vec<String>>>,
    summary: Option<Spanned<String>>,
    image: Option<Spanned<String>>,
    caption: Option<Spanned<String>>,
    #[serde(default)]
    draft: bool,
}

/// The front matter text, the line it starts on, and the body with the line
/// it starts on. `Err` is (line, message).
fn split(text: &str) -> Result<(&str, usize, &str, usize), (usize, String)> {
    let mut lines = text.split_inclusive('\n');
    let opening = lines.next().unwrap_or("");
    if opening.trim_end() != "+++" {
        let hint = if opening.trim_end() == "---" {
            "YAML front matter (---) is not supported: use +++ lines around TOML"
        } else {
            "a Markdown seed starts with a line \"+++\", then TOML front matter \
             (title = \"…\", date = 2024-05-24) and a closing \"+++\" line"
        };
        return Err((1, format!("no front matter: {hint}")));
    }
    let start = opening.len();
    let mut offset = start;
    for (i, line) in lines.enumerate() {
        if line.trim_end() == "+++" {
            let closing_line = i + 2;
            return Ok((
                &text[start..offset],
                2,
                &text[offset + line.len()..],
                closing_line + 1,
            ));
        }
        offset += line.len();
    }
    Err((
        1,
        "the front matter opened on line 1 is never closed: add a line \"+++\" after it".into(),
    ))
}

/// Parses clean LF text as a Markdown seed.
pub(super) fn parse(text: &str, cx: &mut FileContext<'_>) -> Option<Parts> {
    let (front, front_line, body, body_line) = match split(text) {
        Ok(parts) => parts,
        Err((line, message)) => {
            cx.error(line, message);
            return None;
        }
    };
    let file_line = |offset: usize| front_line + line_of(front, offset) - 1;
    let fm: FrontMatter = match toml::from_str(front) {
        Ok(fm) => fm,
        Err(e) => {
            let line = e.span().map_or(1, |s| file_line(s.start));
            let message = e.message().trim_end().replace('\n', " ");
            cx.error(
                line,
                format!("invalid front matter: {message} (keys: title, date, updated, url, authors, tags, summary, image, caption, draft)"),
            );
            return None;
        }
    };
    if fm.draft {
        return None;
    }
    let zone = cx.config.site.timezone;

    let Some(title) = fm.title.as_ref().map(|t| {
        let clean = legal(t.get_ref(), file_line(t.span().start), "title", cx);
        collapse_whitespace(&clean)
    }) else {
        cx.error(
            1,
            "no title: add a line such as title = \"…\" to the front matter",
        );
        return None;
    };
    if title.is_empty() {
        let line = fm.title.as_ref().map_or(1, |t| file_line(t.span().start));
        cx.error(
            line,
            "the title is empty: write the article's title in title = \"…\"",
        );
        return None;
    }

    let Some(date) = &fm.date else {
        cx.error(
            1,
            format!(
                "no date: add a line such as date = 2024-05-24 or date = 2024-05-24T10:15:00+03:00 \
                 to the front matter (a string is read like seed text dates: {})",
                dates::ACCEPTED
            ),
        );
        return None;
    };
    let published = match toml_date(date.get_ref(), zone) {
        Ok(d) => d,
        Err(message) => {
            cx.error(file_line(date.span().start), format!("date: {message}"));
            return None;
        }
    };
    let updated = match &fm.updated {
        None => published,
        Some(updated) => match toml_date(updated.get_ref(), zone) {
            Ok(u) if u < published => {
                cx.warning(
                    file_line(updated.span().start),
                    "updated is earlier than date, so it is ignored: fix one of them",
                );
                published
            }
            Ok(u) => u,
            Err(message) => {
                cx.error(
                    file_line(updated.span().start),
                    format!("updated: {message}"),
                );
                return None;
            }
        },
    };

    let url = fm.url.as_ref().and_then(|u| {
        let url = http_url(u.get_ref());
        if url.is_none() {
            cx.warning(
                file_line(u.span().start),
                format!(
                    "url \"{}\" is not an absolute http(s) URL, so it is ignored and the id comes \
                     from the file's path: write it like \"https://example.org/story\"",
                    u.get_ref().trim()
                ),
            );
        }
        url
    });
    let image = fm.image.as_ref().and_then(|i| {
        let image = image_url(i.get_ref(), cx);
        if image.is_none() {
            cx.warning(
                file_line(i.span().start),
                format!(
                    "image \"{}\" is not an http(s) URL or a path under the site, so it is ignored",
                    i.get_ref().trim()
                ),
            );
        }
        image
    });
    let list = |values: &Option<Spanned<Vec<String>>>, key: &str, cx: &mut FileContext<'_>| {
        let Some(values) = values else {
            return Vec::new();
        };
        let line = file_line(values.span().start);
        let mut out: Vec<String> = Vec::new();
        for value in values.get_ref() {
            let value = collapse_whitespace(&legal(value, line, key, cx));
            if !value.is_empty() && !out.contains(&value) {
                out.push(value);
            }
        }
        out
    };
    let authors = list(&fm.authors, "authors", cx);
    let tags = list(&fm.tags, "tags", cx);
    let summary = fm.summary.as_ref().map(|s| {
        collapse_whitespace(&legal(
            s.get_ref(),
            file_line(s.span().start),
            "summary",
            cx,
        ))
    });

    let caption = fm.caption.as_ref().map(|c| {
        collapse_whitespace(&legal(
            c.get_ref(),
            file_line(c.span().start),
            "caption",
            cx,
        ))
    });

    let html = match render(body) {
        Ok(html) => html,
        Err((offset, problem)) => {
            let line = body_line + line_of(body, offset) - 1;
            cx.error(
                line,
                match problem {
                    TooCostly::Deep => format!(
                        "the body nests more than {MAX_NESTING} levels deep here (block quotes, \
                         lists, emphasis, links or HTML elements inside one another), which would \
                         stall publishing: flatten it, and close any HTML tag left open"
                    ),
                    TooCostly::Escapes => "the text up to here has so many `&` and Latin-1 \
                         signs (©, «, no-break spaces) in such long paragraphs that sanitizing it \
                         would stall publishing: split the long paragraphs"
                        .to_string(),
                },
            );
            return None;
        }
    };

    Some(Parts {
        title,
        url,
        published,
        updated,
        caption: caption.filter(|c| !c.is_empty()),
        paragraphs: None,
        lead: None,
        related: Vec::new(),
        body_html: BodyHtml::Authored(html),
        body_line,
        summary,
        authors,
        tags,
        image,
    })
}

/// `value` without characters XML forbids, warning on `line` if it had any.
fn legal(value: &str, line: usize, key: &str, cx: &mut FileContext<'_>) -> String {
    let (clean, first) = crate::xml::strip_illegal(value);
    if first.is_some() {
        cx.warning(
            line,
            format!("removed characters that XML 1.0 does not allow from {key}: delete them to silence this warning"),
        );
    }
    clean.into_owned()
}

/// The image URL, made absolute against the site.
fn image_url(text: &str, cx: &FileContext<'_>) -> Option<String> {
    let text = text.trim();
    if text.is_empty() || text.starts_with('#') {
        return None;
    }
    if let Some(url) = http_url(text) {
        return Some(url);
    }
    let joined = cx.config.site.base_url.join(text).ok()?;
    http_url(joined.as_str())
}

/// A front-matter date: a TOML date-time or a string.
fn toml_date(value: &toml::Value, zone: chrono_tz::Tz) -> Result<DateTime<FixedOffset>, String> {
    let datetime = match value {
        toml::Value::String(s) => {
            return parse_date(s, zone).map_err(|e| format!("cannot read \"{s}\": {e}"));
        }
        toml::Value::Datetime(dt) => dt,
        other => {
            return Err(format!(
                "expected a date such as 2024-05-24 or \"May 24, 2024\", not a TOML {}",
                other.type_str()
            ))
        }
    };
    let Some(d) = datetime.date else {
        return Err("a time without a date: write the date too, like 2024-05-24T10:15:00".into());
    };
    let date = NaiveDate::from_ymd_opt(d.year.into(), d.month.into(), d.day.into())
        .ok_or_else(|| DateError::NoSuchDay.to_string())?;
    dates::check_year(d.year.into()).map_err(|e| e.to_string())?;
    let time = match datetime.time {
        None => NaiveTime::MIN,
        Some(t) => dates::time_of_day(
            t.hour.into(),
            t.minute.into(),
            t.second.into(),
            t.nanosecond,
        )
        .map_err(|e| e.to_string())?,
    };
    let naive = date.and_time(time);
    match datetime.offset {
        None => Ok(dates::in_zone(naive, zone)),
        Some(offset) => {
            let seconds = match offset {
                toml::value::Offset::Z => 0,
                toml::value::Offset::Custom { minutes } => i32::from(minutes) * 60,
            };
            FixedOffset::east_opt(seconds)
                .and_then(|o| naive.and_local_timezone(o).single())
                .ok_or_else(|| DateError::Unrecognized.to_string())
        }
    }
}

/// Most elements a body may have open at once; see the module docs.
const MAX_NESTING: usize = 32;

/// Most bytes the sanitizer's serializer may search ahead in one body, in
/// total (see the module docs): tens of milliseconds of `memchr`, a
/// thousand times what an ordinary article costs.
const MAX_ESCAPE_SCAN: u64 = 256 * 1024 * 1024;

/// Why a body is not rendered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TooCostly {
    /// More than [`MAX_NESTING`] elements open at once.
    Deep,
    /// Runs of text with too many characters the serializer escapes.
    Escapes,
}

/// Unsanitized HTML of the body, or the byte offset in `body` where it
/// becomes too costly to sanitize, and why.
fn render(body: &str) -> Result<String, (usize, TooCostly)> {
    let options = Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH;
    let mut nesting = Nesting::default();
    let mut escapes = EscapeScan::default();
    let mut too_costly = None;
    let events = Parser::new_ext(body, options)
        .into_offset_iter()
        .map_while(|(event, range)| {
            let problem = if !nesting.step(&event) {
                Some(TooCostly::Deep)
            } else if !escapes.step(&event) {
                Some(TooCostly::Escapes)
            } else {
                None
            };
            match problem {
                None => Some(event),
                Some(problem) => {
                    too_costly = Some((range.start, problem));
                    None
                }
            }
        });
    let mut html = String::with_capacity(body.len() * 3 / 2);
    pulldown_cmark::html::push_html(&mut html, events);
    match too_costly {
        None => Ok(html),
        Some(problem) => Err(problem),
    }
}

/// What the sanitizer's serializer will search, added up event by event:
/// a run of text ends at any tag, and each character it escapes costs a
/// search to the end of its run.
#[derive(Debug, Default)]
struct EscapeScan {
    /// Length of the current run of text, in bytes.
    run: u64,
    /// Characters of the current run that the serializer escapes.
    escaped: u64,
    /// Searching of the runs already ended.
    spent: u64,
}

impl EscapeScan {
    /// Takes one event in; `false` once the body costs too much.
    fn step(&mut self, event: &Event<'_>) -> bool {
        match event {
            Event::Text(text) => self.text(text.as_bytes()),
            Event::SoftBreak => self.run += 1,
            Event::Html(html) | Event::InlineHtml(html) => {
                for part in html.as_bytes().split(|&b| b == b'<' || b == b'>') {
                    self.text(part);
                    self.end_run();
                }
            }
            _ => self.end_run(),
        }
        self.spent + self.escaped * self.run <= MAX_ESCAPE_SCAN
    }

    fn text(&mut self, bytes: &[u8]) {
        self.run += bytes.len() as u64;
        self.escaped += bytes.iter().filter(|&&b| b == b'&' || b == 0xC2).count() as u64;
    }

    fn end_run(&mut self) {
        self.spent += self.escaped * self.run;
        (self.run, self.escaped) = (0, 0);
    }
}

/// The elements open at this point of the body, the way the sanitizer's
/// HTML parser will see them, as far as one cheap pass can tell. Where it
/// cannot tell, it counts an element as open: a sloppy document may be
/// called deep, but no document can be deeper than it is counted by more
/// than a small factor, which is what keeps the parser linear.
#[derive(Debug, Default)]
struct Nesting {
    open: Vec<Open>,
    /// Raw `<svg>` and `<math>` among `open`: inside them `<style>` or
    /// `<title>` are ordinary elements, not raw text.
    foreign: usize,
    scan: Scan,
}

/// One open element.
#[derive(Debug)]
enum Open {
    /// Written by pulldown-cmark for a Markdown construct; closed by its
    /// end event.
    Markdown,
    /// Opened by a raw HTML tag, with its lower-case name (`None` when
    /// longer than [`NAME_MAX`], so that no end tag can match it).
    Raw(Option<Vec<u8>>),
}

/// Longest tag name kept. Longer names are no element this module knows,
/// and an end tag cannot match them.
const NAME_MAX: usize = 16;

/// Elements whose text an HTML parser does not read for tags (with
/// scripting on, as in the sanitizer, `noscript` is one of them).
const RAW_TEXT: &[&str] = &[
    "script", "style", "textarea", "title", "xmp", "iframe", "noembed", "noframes", "noscript",
];

/// Elements that never have content, or whose end tag the parser implies
/// (the next `<p>` closes a `<p>`): counting them would call a sloppy but
/// shallow document deep.
const NOT_NESTING: &[&str] = &[
    "area", "base", "br", "col", "embed", "hr", "img", "input", "keygen", "link", "meta", "param",
    "source", "track", "wbr", "html", "head", "body", "p", "li", "dt", "dd", "rb", "rt", "rtc",
    "rp", "optgroup", "option", "colgroup", "caption", "thead", "tbody", "tfoot", "tr", "td", "th",
];

/// Raw elements that the end of the Markdown block or span around them
/// closes too. Formatting elements (`<b>`, `<em>`, `<a>`…) are not among
/// them: the parser reopens those in the next paragraph.
const CLOSED_BY_MARKDOWN: &[&str] = &[
    "abbr", "bdi", "bdo", "cite", "data", "del", "dfn", "ins", "kbd", "mark", "q", "samp", "span",
    "sub", "sup", "time", "var",
];

impl Nesting {
    /// Takes in the next event; `false` once too many elements are open.
    fn step(&mut self, event: &Event<'_>) -> bool {
        match event {
            Event::Start(MdTag::HtmlBlock) | Event::End(TagEnd::HtmlBlock) => {}
            Event::Start(_) => self.open.push(Open::Markdown),
            Event::End(_) => self.close_markdown(),
            Event::Html(raw) | Event::InlineHtml(raw) => {
                // Checked at every byte: one line can open and close
                // thousands of elements.
                for &byte in raw.as_bytes() {
                    self.byte(byte);
                    if self.open.len() > MAX_NESTING {
                        return false;
                    }
                }
            }
            _ => {}
        }
        self.open.len() <= MAX_NESTING
    }

    fn close_markdown(&mut self) {
        let Some(at) = self.open.iter().rposition(|o| matches!(o, Open::Markdown)) else {
            return;
        };
        let above = self.open.split_off(at + 1);
        self.open.pop();
        for open in above {
            let closed = matches!(&open, Open::Raw(Some(name)) if is(CLOSED_BY_MARKDOWN, name));
            if !closed {
                self.open.push(open);
            }
        }
    }

    fn byte(&mut self, byte: u8) {
        self.scan = match std::mem::take(&mut self.scan) {
            Scan::Text => match byte {
                b'<' => Scan::Lt,
                _ => Scan::Text,
            },
            Scan::Lt => match byte {
                b'!' => Scan::Bang(0),
                b'?' => Scan::Bogus,
                b'/' => Scan::EndLt,
                b'<' => Scan::Lt,
                b if b.is_ascii_alphabetic() => Scan::Tag(Tag::new(false, b)),
                _ => Scan::Text,
            },
            Scan::EndLt => match byte {
                b'>' => Scan::Text,
                b if b.is_ascii_alphabetic() => Scan::Tag(Tag::new(true, b)),
                _ => Scan::Bogus,
            },
            Scan::Bang(dashes) => match (byte, dashes) {
                (b'-', 0) => Scan::Bang(1),
                (b'-', _) => Scan::Comment {
                    len: 0,
                    dashes: 0,
                    bang: false,
                },
                (b'>', _) => Scan::Text,
                _ => Scan::Bogus,
            },
            Scan::Comment { len, dashes, bang } => match byte {
                // `-->`, `--!>`, and the empty `<!-->` and `<!--->`.
                b'>' if dashes >= 2 || bang || len == usize::from(dashes) => Scan::Text,
                b'-' => Scan::Comment {
                    len: len + 1,
                    dashes: dashes.saturating_add(1),
                    bang: false,
                },
                b'!' if dashes >= 2 => Scan::Comment {
                    len: len + 1,
                    dashes: 0,
                    bang: true,
                },
                _ => Scan::Comment {
                    len: len + 1,
                    dashes: 0,
                    bang: false,
                },
            },
            Scan::Bogus => match byte {
                b'>' => Scan::Text,
                _ => Scan::Bogus,
            },
            Scan::RawText { name, matched } => {
                // Looking for `</name`; the rest of the end tag is text.
                let wanted = match matched {
                    0 => b'<',
                    1 => b'/',
                    n => name.as_bytes()[n - 2],
                };
                if byte.to_ascii_lowercase() == wanted {
                    if matched + 1 == name.len() + 2 {
                        Scan::Text
                    } else {
                        Scan::RawText {
                            name,
                            matched: matched + 1,
                        }
                    }
                } else {
                    Scan::RawText {
                        name,
                        matched: usize::from(byte == b'<'),
                    }
                }
            }
            Scan::Tag(mut tag) => {
                if tag.step(byte) {
                    Scan::Tag(tag)
                } else {
                    self.tag(tag)
                }
            }
        };
    }

    /// Counts a complete tag and says what comes after it.
    fn tag(&mut self, tag: Tag) -> Scan {
        let name = tag.name.as_deref();
        if name.is_some_and(|n| is(NOT_NESTING, n)) {
            return Scan::Text;
        }
        let foreign = name.is_some_and(|n| is(&["svg", "math"], n));
        if tag.closing {
            // Only the element open last is closed; when the tag names
            // another, what the parser does depends on more than this
            // pass knows, so the count stays.
            if let (Some(Open::Raw(Some(last))), Some(name)) = (self.open.last(), name) {
                if last == name {
                    self.open.pop();
                    if foreign {
                        self.foreign -= 1;
                    }
                }
            }
            return Scan::Text;
        }
        if tag.self_closing && self.foreign > 0 {
            return Scan::Text;
        }
        if self.foreign == 0 {
            if let Some(&raw) = name.and_then(|n| RAW_TEXT.iter().find(|r| r.as_bytes() == n)) {
                return Scan::RawText {
                    name: raw,
                    matched: 0,
                };
            }
        }
        if foreign {
            self.foreign += 1;
        }
        self.open.push(Open::Raw(tag.name));
        Scan::Text
    }
}

fn is(names: &[&str], name: &[u8]) -> bool {
    names.iter().any(|n| n.as_bytes() == name)
}

/// Where [`Nesting`] is in the raw HTML it has read so far. Tags and
/// comments may span several events (an HTML block comes line by line).
#[derive(Debug, Default)]
enum Scan {
    /// Between tags.
    #[default]
    Text,
    /// Just after `<`.
    Lt,
    /// Just after `</`.
    EndLt,
    /// In a start or end tag.
    Tag(Tag),
    /// After `<!`, with how many `-` have followed.
    Bang(u8),
    /// In `<!-- … -->`: bytes since `<!--`, how many of the last were `-`,
    /// and whether `--!` was just read.
    Comment { len: usize, dashes: u8, bang: bool },
    /// In `<?…>`, `<!DOCTYPE…>` or another declaration, up to `>`.
    Bogus,
    /// In the text of a [`RAW_TEXT`] element; `matched` bytes of
    /// `</name` have been read.
    RawText { name: &'static str, matched: usize },
}

/// A tag being read.
#[derive(Debug)]
struct Tag {
    closing: bool,
    /// Lower case; `None` once longer than [`NAME_MAX`].
    name: Option<Vec<u8>>,
    /// The name is complete; attributes follow.
    named: bool,
    /// The last byte was `=` (and maybe spaces), so a quote opens a value.
    after_equals: bool,
    quote: Option<u8>,
    /// The last byte was `/`, as in `<path/>`.
    self_closing: bool,
}

impl Tag {
    fn new(closing: bool, first: u8) -> Self {
        Tag {
            closing,
            name: Some(vec![first.to_ascii_lowercase()]),
            named: false,
            after_equals: false,
            quote: None,
            self_closing: false,
        }
    }

    /// Reads one more byte; `false` when it was the closing `>`.
    fn step(&mut self, byte: u8) -> bool {
        if let Some(quote) = self.quote {
            if byte == quote {
                self.quote = None;
            }
            return true;
        }
        if byte == b'>' {
            return false;
        }
        if !self.named {
            if byte.is_ascii_whitespace() || byte == b'/' {
                self.named = true;
            } else if let Some(name) = &mut self.name {
                if name.len() == NAME_MAX {
                    self.name = None;
                } else {
                    name.push(byte.to_ascii_lowercase());
                }
            }
        } else if self.after_equals && (byte == b'"' || byte == b'\'') {
            self.quote = Some(byte);
        }
        self.after_equals = byte == b'=' || (self.after_equals && byte.is_ascii_whitespace());
        self.self_closing = byte == b'/';
        true
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use crate::config::Config;
    use crate::diagnostic::{Diagnostic, Severity};
    use crate::ingest::parse_seed;
    use crate::model::{Article, ArticleId};

    fn config() -> Config {
        Config::parse(
            "[site]\nbase_url = \"https://news.example.org/\"\ntimezone = \"Europe/Kyiv\"\n",
            Path::new("config/tidings.toml"),
        )
        .unwrap()
    }

    fn parse(text: &str) -> (Option<Article>, Vec<Diagnostic>) {
        parse_seed("seeds/m.md", "m.md", text.as_bytes(), &config())
    }

    /// The README's example, copied as it is, publishes every key.
    #[test]
    fn the_readme_example_publishes_as_it_is() {
        let readme = include_str!("../../README.md");
        let start = readme.find("```markdown\n").expect("the example") + "```markdown\n".len();
        let example = &readme[start..start + readme[start..].find("```").unwrap()];
        let (article, diagnostics) = parse(example);
        assert!(diagnostics.is_empty(), "{diagnostics:?}");
        let a = article.expect("published");
        assert_eq!(a.title, "Grain corridor reopens");
        assert_eq!(a.authors, ["Olena Petrenko"]);
        assert_eq!(
            a.image.as_deref(),
            Some("https://news.example.org/images/port.jpg")
        );
        assert_eq!(
            a.caption.as_deref(),
            Some("Grain ships in Odesa. Photo: Olena Petrenko")
        );
    }

    fn article(text: &str) -> Article {
        let (a, d) = parse(text);
        assert!(d.iter().all(|d| !d.is_error()), "{d:?}");
        a.expect("published")
    }

    fn error(text: &str) -> String {
        let (a, d) = parse(text);
        assert!(a.is_none());
        let errors: Vec<_> = d.iter().filter(|d| d.is_error()).collect();
        assert_eq!(errors.len(), 1, "{d:?}");
        errors[0].to_string()
    }

    #[test]
    fn full_front_matter() {
        let a = article(
            "+++\ntitle = \"Hello\"\ndate = 2024-05-24T10:15:00+01:00\nupdated = \"May 25, 2024\"\n\
             url = \"https://example.org/hello\"\nauthors = [\"Ann\", \" \", \"Bo\"]\ntags = [\"ukraine\", \"ukraine\"]\n\
             summary = \"  Short\\n summary. \"\nimage = \"img/lead.jpg\"\ncaption = \"The port\\n at dawn. AP\"\n\
             draft = false\n+++\n\n# Heading\n\nFirst *para*.\n",
        );
        assert_eq!(a.caption.as_deref(), Some("The port at dawn. AP"));
        assert_eq!(a.slug, "m");
        assert_eq!(a.title, "Hello");
        assert_eq!(a.published.to_rfc3339(), "2024-05-24T10:15:00+01:00");
        assert_eq!(a.updated.to_rfc3339(), "2024-05-25T00:00:00+03:00");
        assert_eq!(
            a.id,
            ArticleId::Permalink("https://example.org/hello".into())
        );
        assert_eq!(a.authors, ["Ann", "Bo"]);
        assert_eq!(a.tags, ["ukraine"]);
        assert_eq!(a.summary, "Short summary.");
        assert_eq!(
            a.image.as_deref(),
            Some("https://news.example.org/img/lead.jpg")
        );
        assert_eq!(a.paragraphs, ["Heading", "First para."]);
        assert!(
            a.content_html.contains("<h1>Heading</h1>"),
            "{}",
            a.content_html
        );
        assert!(
            a.content_html.contains("<em>para</em>"),
            "{}",
            a.content_html
        );
    }

    #[test]
    fn local_dates_are_in_the_site_zone() {
        let a = article("+++\ntitle = \"T\"\ndate = 2024-05-24\n+++\nBody.\n");
        assert_eq!(a.published.to_rfc3339(), "2024-05-24T00:00:00+03:00");
        let a = article("+++\ntitle = \"T\"\ndate = 2024-01-24T10:15:00\n+++\nBody.\n");
        assert_eq!(a.published.to_rfc3339(), "2024-01-24T10:15:00+02:00");
        assert_eq!(a.updated, a.published);
    }

    #[test]
    fn summary_defaults_to_the_first_paragraph_not_a_heading() {
        let a = article(
            "+++\ntitle = \"T\"\ndate = 2024-05-24\n+++\n## Sub\n\nThe lead [link](/x).\n\nMore.\n",
        );
        assert_eq!(a.summary, "The lead link.");
    }

    #[test]
    fn unknown_key_names_the_key_and_its_line() {
        let e = error("+++\ntitle = \"T\"\ndate = 2024-05-24\ncolour = \"red\"\n+++\nBody.\n");
        assert!(
            e.starts_with("seeds/m.md:4: invalid front matter: unknown field `colour`"),
            "{e}"
        );
    }

    #[test]
    fn invalid_toml_names_its_line() {
        let e = error("+++\ntitle = \"T\"\n\ndate = = 2024\n+++\nBody.\n");
        assert!(e.starts_with("seeds/m.md:4: invalid front matter"), "{e}");
    }

    #[test]
    fn front_matter_is_required_and_closed() {
        let e = error("# Just markdown\n");
        assert!(e.starts_with("seeds/m.md:1: no front matter"), "{e}");
        let e = error("---\ntitle: x\n---\n");
        assert!(e.contains("YAML"), "{e}");
        let e = error("+++\ntitle = \"T\"\n");
        assert!(e.contains("never closed"), "{e}");
    }

    #[test]
    fn title_and_date_are_required() {
        let e = error("+++\ndate = 2024-05-24\n+++\nBody.\n");
        assert!(e.starts_with("seeds/m.md:1: no title"), "{e}");
        let e = error("+++\ntitle = \"  \"\ndate = 2024-05-24\n+++\n");
        assert!(e.starts_with("seeds/m.md:2: the title is empty"), "{e}");
        let e = error("+++\ntitle = \"T\"\n+++\nBody.\n");
        assert!(e.starts_with("seeds/m.md:1: no date"), "{e}");
    }

    #[test]
    fn bad_dates_name_their_line() {
        let e = error("+++\ntitle = \"T\"\ndate = \"Mayy 24, 2024\"\n+++\n");
        assert!(
            e.starts_with("seeds/m.md:3: date: cannot read \"Mayy 24, 2024\": write it like"),
            "{e}"
        );
        let e = error("+++\ntitle = \"T\"\ndate = 12\n+++\n");
        assert!(
            e.starts_with("seeds/m.md:3: date: expected a date")
                && e.ends_with("not a TOML integer"),
            "{e}"
        );
        let e = error("+++\ntitle = \"T\"\ndate = 10:15:00\n+++\n");
        assert!(e.contains("time without a date"), "{e}");
    }

    #[test]
    fn dates_past_the_horizon_and_leap_seconds_are_refused() {
        let e = error("+++\ntitle = \"T\"\ndate = 9999-12-31T23:59:59Z\n+++\n");
        assert!(
            e.starts_with("seeds/m.md:3: date: the year 9999 cannot be an article's"),
            "{e}"
        );
        let e = error("+++\ntitle = \"T\"\ndate = 2024-05-24\nupdated = 2204-05-24\n+++\n");
        assert!(e.starts_with("seeds/m.md:4: updated: the year 2204"), "{e}");
        let e = error("+++\ntitle = \"T\"\ndate = 2016-12-31T23:59:60Z\n+++\n");
        assert!(
            e.starts_with("seeds/m.md:3: date: the seconds are 60 (a leap second)"),
            "{e}"
        );
        let e = error("+++\ntitle = \"T\"\ndate = \"2016-12-31T23:59:60Z\"\n+++\n");
        assert!(e.contains("the seconds are 60"), "{e}");
        article("+++\ntitle = \"T\"\ndate = 2100-12-31T23:59:59Z\n+++\nScheduled.\n");
    }

    #[test]
    fn draft_is_silently_skipped() {
        let (a, d) = parse("+++\ntitle = \"T\"\ndate = 2024-05-24\ndraft = true\n+++\nBody.\n");
        assert!(a.is_none());
        assert!(d.is_empty(), "{d:?}");
    }

    #[test]
    fn bad_url_and_image_are_ignored_with_warnings() {
        let (a, d) = parse(
            "+++\ntitle = \"T\"\ndate = 2024-05-24\nurl = \"/relative\"\nimage = \"javascript:alert(1)\"\n+++\nBody.\n",
        );
        let a = a.unwrap();
        assert_eq!(a.url, None);
        assert!(a.id.as_str().starts_with("urn:uuid:"));
        assert_eq!(a.image, None);
        assert_eq!(d.len(), 2, "{d:?}");
        assert!(d.iter().all(|d| d.severity == Severity::Warning));
        assert_eq!((d[0].line, d[1].line), (4, 5));
    }

    #[test]
    fn updated_before_date_is_ignored() {
        let (a, d) = parse("+++\ntitle = \"T\"\ndate = 2024-05-24\nupdated = 2024-05-01\n+++\n");
        let a = a.unwrap();
        assert_eq!(a.updated, a.published);
        assert_eq!(d[0].line, 4);
    }

    #[test]
    fn raw_html_is_sanitized_and_urls_made_absolute() {
        let a = article(
            "+++\ntitle = \"T\"\ndate = 2024-05-24\n+++\n\
             <script>alert(1)</script>\n\n<iframe src=\"https://evil.example/\"></iframe>\n\n\
             <p onclick=\"steal()\">Click</p>\n\n[rel](/about) ![pic](img/p.png) [js](javascript:alert(1))\n",
        );
        for bad in ["<script", "alert(1)", "<iframe", "onclick", "javascript:"] {
            assert!(!a.content_html.contains(bad), "{bad}: {}", a.content_html);
        }
        assert!(
            a.content_html
                .contains("href=\"https://news.example.org/about\""),
            "{}",
            a.content_html
        );
        assert!(
            a.content_html
                .contains("src=\"https://news.example.org/img/p.png\""),
            "{}",
            a.content_html
        );
    }

    #[test]
    fn escaped_illegal_characters_are_removed() {
        let (a, d) =
            parse("+++\ntitle = \"A\\u0001B\"\ndate = 2024-05-24\n+++\nx &#1; y &#xFFFF; z\n");
        let a = a.unwrap();
        assert_eq!(a.title, "AB");
        assert!(
            a.content_html.chars().all(crate::xml::is_xml_char),
            "{:?}",
            a.content_html
        );
        assert!(a
            .paragraphs
            .iter()
            .all(|p| p.chars().all(crate::xml::is_xml_char)));
        assert_eq!(d.len(), 2, "{d:?}");
        assert_eq!(d[0].line, 2);
    }

    proptest::proptest! {
        #[test]
        fn any_body_never_panics_and_stays_xml_legal(body in "(\\PC|[\\n<>&#;\\[\\]()!*`|\\u{1}\\u{ffff}])*") {
            let (a, _) = parse(&format!("+++\ntitle = \"T\"\ndate = 2024-05-24\n+++\n{body}"));
            let a = a.expect("front matter is valid");
            for text in [&a.title, &a.summary, &a.content_html] {
                proptest::prop_assert!(text.chars().all(crate::xml::is_xml_char), "{:?}", text);
            }
            proptest::prop_assert!(!a.content_html.contains("<script"));
            proptest::prop_assert!(!a.summary.is_empty());
        }
    }

    /// The most elements [`super::Nesting`] sees open at once in `body`.
    fn deepest(body: &str) -> usize {
        let mut nesting = super::Nesting::default();
        let mut deepest = 0;
        for event in pulldown_cmark::Parser::new(body) {
            nesting.step(&event);
            deepest = deepest.max(nesting.open.len());
        }
        deepest
    }

    #[test]
    fn nesting_counts_markdown_and_raw_html_elements() {
        assert_eq!(deepest("> > quote"), 3);
        assert_eq!(deepest("- a\n  - b *c [d](e)*"), 6);
        assert_eq!(
            deepest("<div><div>\n\n<section>\n\nx\n\n</section></div></div>\n"),
            4
        );
        assert_eq!(deepest("<div a=\"<div>\" b = '>'><span x=y>z</span>"), 1);
    }

    #[test]
    fn nesting_skips_what_an_html_parser_does_not_nest() {
        // Void elements, implied end tags, comments and raw text.
        assert_eq!(deepest("<br><img src=x><hr/><p>a<p>b<li>c<li>d"), 1);
        assert_eq!(
            deepest("<!-- <div><div> --><!--><div><!---><!-- -- --!><br>"),
            1
        );
        assert_eq!(deepest("<script>if (a<b && c<d) x('<div>')</script>\n"), 0);
        assert_eq!(deepest("<textarea><b><b></TEXTAREA><b>"), 1);
        // In SVG, <style> is an element like any other (in a paragraph).
        assert_eq!(deepest("<svg><style><g><g>"), 5);
    }

    #[test]
    fn nesting_is_not_hidden_by_end_tags_of_other_elements() {
        // The parser ignores `</span>` here, so the `<div>`s stay open.
        let body = "<div></span>".repeat(20);
        assert_eq!(deepest(&body), 20);
        let body = "<div><script></script>".repeat(20);
        assert_eq!(deepest(&body), 20);
        // A span left open in a paragraph ends with it; a <b> comes back.
        assert_eq!(deepest(&"x <span>y\n\n".repeat(50)), 2);
        assert!(deepest(&"x <b>y\n\n".repeat(50)) > super::MAX_NESTING);
    }

    #[test]
    fn too_deep_a_body_names_its_line() {
        let body = format!("Fine.\n\n{}deep\n", ">".repeat(40));
        let e = error(&format!(
            "+++\ntitle = \"T\"\ndate = 2024-05-24\n+++\n{body}"
        ));
        assert!(
            e.starts_with("seeds/m.md:7: the body nests more than 32 levels deep here"),
            "{e}"
        );
        let body = format!("{}deep\n", ">".repeat(31));
        article(&format!(
            "+++\ntitle = \"T\"\ndate = 2024-05-24\n+++\n{body}"
        ));
    }

    #[test]
    fn crlf_and_bom_front_matter() {
        let a = article("\u{FEFF}+++\r\ntitle = \"T\"\r\ndate = 2024-05-24\r\n+++\r\nBody.\r\n");
        assert_eq!(a.title, "T");
        assert_eq!(a.paragraphs, ["Body."]);
    }
}
