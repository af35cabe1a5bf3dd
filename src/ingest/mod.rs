//! Ingest: the seeds folder in, clean [`Article`]s and diagnostics out.
//!
//! This is the only stage that reads seed files, so it is where untrusted
//! text becomes trusted data: everything later (topics, renderers) relies on
//! the promises of [`crate::model`].
//!
//! The folder walk ([`load`]):
//!
//! - Recurses into sub-folders. Files ending `.txt` are the seed text format
//!   (`text.rs`), `.md` Markdown with `+++` front matter (`markdown.rs`); the
//!   extension is matched case-insensitively (`.TXT` from Windows tools).
//!   Everything else is ignored, as is every file or folder whose name starts
//!   with `.` (editor swap files, `.git`).
//! - Symbolic links to files are read; links to folders are not followed,
//!   so a link loop cannot hang a build.
//! - Files are visited in sorted order of their path under the folder,
//!   written with `/`, so the result never depends on the file system's
//!   listing order or on modification times. A file name that is not UTF-8
//!   is rejected (its id would not be stable).
//! - A file over `seeds.max_file_bytes` is rejected with its size from its
//!   metadata; no more than the limit and one byte of it is read (and no
//!   more than 64 KiB before its size is checked).
//! - Files are parsed on all cores with one shared [`Sanitizer`]; the
//!   outcome is the same as parsing them one by one.
//!
//! Per file ([`SeedParser::parse`], usable on bytes without the disk), the
//! checks of `decode.rs`, then the format's parser. Any error rejects only
//! that file. Finally, for every article:
//!
//! - `content_html` is sanitized (see [`Sanitizer`]) and any character XML 1.0
//!   forbids that came back from a character reference is dropped;
//! - `summary` is the seed's own summary if it has one, else the first body
//!   paragraph cut at a word boundary to at most 300 characters (`…`
//!   included), else the title;
//! - the id is the canonical URL when there is one, else
//!   `urn:uuid:` + a UUID v5 (URL namespace) of the path under the seeds
//!   folder, so an edit never changes it.
//!
//! Across files ([`Ingested::from_files`]): two articles with one id, the
//! first by path is published and the other gets a warning (on its line 1)
//! naming it. Articles come out sorted by path, diagnostics by path and
//! line. Diagnostics name files as the seeds folder as given joined with the
//! path under it, with `/` ([`display_path`]: `seeds/world/kyiv.txt`).

mod clean;
pub mod dates;
mod decode;
mod markdown;
mod text;

use std::borrow::Borrow;
use std::cell::RefCell;
use std::fs;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use chrono::{DateTime, FixedOffset};
use uuid::Uuid;

pub use clean::{Sanitizer, SUMMARY_MAX_CHARS};

use crate::config::Config;
use crate::cores;
use crate::diagnostic::Diagnostic;
use crate::error::{Error, Result};
use crate::model::{Article, ArticleId, Link};

/// What a seeds folder yields.
#[derive(Debug)]
pub struct Ingested<A = Article> {
    /// Published articles, sorted by source path, ids unique.
    pub articles: Vec<A>,
    /// Errors (file not published) and warnings, sorted by path and line.
    pub diagnostics: Vec<Diagnostic>,
}

/// The two seed formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SeedKind {
    /// `.txt`: the seed text format.
    Text,
    /// `.md`: TOML front matter and CommonMark.
    Markdown,
}

impl SeedKind {
    /// The format of a seed at `relative_path` (under the seeds folder, `/`
    /// separators), or `None` for a file that ingest ignores: another
    /// extension, or a hidden file or folder on the way.
    pub fn of(relative_path: &str) -> Option<SeedKind> {
        if relative_path
            .split('/')
            .any(|part| part.starts_with('.') || part.is_empty())
        {
            return None;
        }
        let (_, ext) = relative_path.rsplit_once('.')?;
        if ext.eq_ignore_ascii_case("txt") {
            Some(SeedKind::Text)
        } else if ext.eq_ignore_ascii_case("md") {
            Some(SeedKind::Markdown)
        } else {
            None
        }
    }
}

/// How a seed file is named in diagnostics: the seeds folder as given, then
/// the path under it, with `/` (`seeds/world/kyiv.txt`).
pub fn display_path(seeds_dir: &Path, relative_path: &str) -> String {
    let base = seeds_dir.to_string_lossy().replace('\\', "/");
    let base = base.trim_end_matches('/');
    if base.is_empty() && seeds_dir.has_root() {
        format!("/{relative_path}")
    } else if base.is_empty() {
        relative_path.to_owned()
    } else {
        format!("{base}/{relative_path}")
    }
}

/// Reads every seed under `seeds_dir`. Fails only when the folder itself
/// cannot be listed; problems with single files are diagnostics.
pub fn load(seeds_dir: &Path, config: &Config) -> Result<Ingested> {
    let (files, listing_diagnostics) = list(seeds_dir, "")?;
    let parser = SeedParser::new(config);
    let parsed = parse_all(&parser, seeds_dir, &files);
    let mut ingested = Ingested::from_files(parsed);
    ingested.diagnostics.extend(listing_diagnostics);
    sort_diagnostics(&mut ingested.diagnostics);
    Ok(ingested)
}

impl<A: Borrow<Article>> Ingested<A> {
    /// Combines per-file results (display path, article, diagnostics), in any
    /// order, into the published set: the first article by path wins an id,
    /// later ones get a warning; articles are sorted by path, diagnostics by
    /// path and line. [`load`] uses this with owned articles; the
    /// [`SeedIndex`](crate::index::SeedIndex) keeps the same outcome
    /// file by file, and its tests check it against this.
    pub fn from_files(files: Vec<(String, Option<A>, Vec<Diagnostic>)>) -> Self {
        let mut files = files;
        files.sort_by(|a, b| a.0.cmp(&b.0));
        // Decide the winners first, borrowing ids, so that no id is copied.
        let mut owners: hashbrown::HashMap<&ArticleId, usize> =
            hashbrown::HashMap::with_capacity(files.len());
        let mut losers: Vec<(usize, usize)> = Vec::new();
        for (index, (_, article, _)) in files.iter().enumerate() {
            if let Some(article) = article {
                match owners.entry(&article.borrow().id) {
                    hashbrown::hash_map::Entry::Occupied(winner) => {
                        losers.push((index, *winner.get()));
                    }
                    hashbrown::hash_map::Entry::Vacant(slot) => {
                        slot.insert(index);
                    }
                }
            }
        }
        let mut published = vec![true; files.len()];
        let mut warnings: Vec<Diagnostic> = losers
            .into_iter()
            .map(|(loser, winner)| {
                published[loser] = false;
                let id = files[winner]
                    .1
                    .as_ref()
                    .map_or("", |a| a.borrow().id.as_str());
                duplicate_warning(&files[loser].0, &files[winner].0, id)
            })
            .collect();

        drop(owners);
        let mut ingested = Ingested {
            articles: Vec::with_capacity(files.len()),
            diagnostics: Vec::new(),
        };
        for ((_, article, diagnostics), published) in files.into_iter().zip(published) {
            ingested.diagnostics.extend(diagnostics);
            if let Some(article) = article.filter(|_| published) {
                ingested.articles.push(article);
            }
        }
        ingested.diagnostics.append(&mut warnings);
        ingested
            .articles
            .sort_by(|a, b| a.borrow().source.cmp(&b.borrow().source));
        sort_diagnostics(&mut ingested.diagnostics);
        ingested
    }
}

/// The warning for a file whose article id an earlier file (by path) has.
pub(crate) fn duplicate_warning(loser: &str, winner: &str, id: &str) -> Diagnostic {
    Diagnostic::warning(
        loser,
        1,
        format!(
            "not published: {winner} has the same id ({id}) and comes first by path; \
             give this article its own canonical URL or remove one of the files"
        ),
    )
}

pub(crate) fn sort_diagnostics(diagnostics: &mut [Diagnostic]) {
    // Stable, so several findings on one line keep the order they were made.
    diagnostics.sort_by(|a, b| (&a.path, a.line).cmp(&(&b.path, b.line)));
}

/// A seed found by the folder walk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeedFile {
    /// Under the seeds folder, `/` separators.
    pub relative: String,
    pub full: PathBuf,
}

/// The seed files under `seeds_dir/under` (`under` is empty for the whole
/// folder, or a relative folder path ending in `/`), sorted by path, with
/// diagnostics for what could not be listed. Fails only when that folder
/// itself cannot be listed.
pub fn list(seeds_dir: &Path, under: &str) -> Result<(Vec<SeedFile>, Vec<Diagnostic>)> {
    let folder = seeds_dir.join(under);
    let entries = fs::read_dir(&folder).map_err(|source| Error::Seeds {
        path: folder.clone(),
        source,
    })?;
    let mut files = Vec::new();
    let mut diagnostics = Vec::new();
    walk(seeds_dir, entries, under, &mut files, &mut diagnostics);
    files.sort_by(|a, b| a.relative.cmp(&b.relative));
    Ok((files, diagnostics))
}

/// Reads one seed file, refusing it with its size from its metadata when
/// it is larger than `max` bytes. The error is the diagnostic that rejects
/// the file.
pub fn read_seed(full: &Path, display_path: &str, max: u64) -> Result<Vec<u8>, Diagnostic> {
    let bytes = fs::File::open(full).and_then(|f| read_bounded(f, max));
    match bytes {
        Ok(Ok(bytes)) => Ok(bytes),
        Ok(Err(len)) => Err(Diagnostic::error(
            display_path,
            1,
            decode::too_big(len, max),
        )),
        Err(e) => Err(Diagnostic::error(
            display_path,
            1,
            format!("cannot read this file: {e}"),
        )),
    }
}

/// How much of a file is read before its size is asked for: more than
/// nearly every seed, so that a seed costs an `open`, a `read` that gets all
/// of it, a `read` that finds its end and a `close`, with no `fstat`.
const FIRST_READ: usize = 64 * 1024;

thread_local! {
    /// Where files are read into on this thread, reused from file to file;
    /// the caller gets a copy of exactly the file's length.
    static READ_BUFFER: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// The bytes of `file`, at most `max` and one more (a file that grows while
/// it is read), or `Err(size)` when its metadata says it is over `max`.
fn read_bounded(mut file: fs::File, max: u64) -> io::Result<Result<Vec<u8>, u64>> {
    let limit = usize::try_from(max).unwrap_or(usize::MAX).saturating_add(1);
    READ_BUFFER.with_borrow_mut(|buffer| {
        if buffer.is_empty() {
            buffer.resize(FIRST_READ, 0);
        }
        let mut len = 0;
        let mut checked = false;
        loop {
            if len == limit {
                break;
            }
            if len == buffer.len() || (len >= FIRST_READ && !checked) {
                // A large file: its size decides before more of it is read.
                let size = file.metadata()?.len();
                if size > max {
                    return Ok(Err(size));
                }
                checked = true;
                let wanted = usize::try_from(size)
                    .unwrap_or(usize::MAX)
                    .saturating_add(1);
                let grown = buffer.len().saturating_mul(2).max(wanted).min(limit);
                if grown > buffer.len() {
                    buffer.resize(grown, 0);
                }
            }
            let end = if checked {
                buffer.len()
            } else {
                buffer.len().min(FIRST_READ)
            };
            let end = end.min(limit);
            match file.read(&mut buffer[len..end]) {
                Ok(0) => break,
                Ok(read) => len += read,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        if len == limit && !checked {
            // Over a limit smaller than the first read: report the size.
            let size = file.metadata()?.len();
            if size > max {
                return Ok(Err(size));
            }
        }
        Ok(Ok(buffer[..len].to_vec()))
    })
}

fn walk(
    seeds_dir: &Path,
    entries: fs::ReadDir,
    prefix: &str,
    files: &mut Vec<SeedFile>,
    diagnostics: &mut Vec<Diagnostic>,
) {
    for entry in entries {
        let entry = match entry {
            Ok(entry) => entry,
            Err(e) => {
                let folder = if prefix.is_empty() {
                    "."
                } else {
                    prefix.trim_end_matches('/')
                };
                diagnostics.push(Diagnostic::error(
                    display_path(seeds_dir, folder),
                    1,
                    format!("cannot list this folder completely: {e}"),
                ));
                continue;
            }
        };
        let name = entry.file_name();
        let lossy = name.to_string_lossy();
        if lossy.starts_with('.') {
            continue;
        }
        let relative = format!("{prefix}{lossy}");
        let path = entry.path();
        let file_type = match entry.file_type() {
            Ok(t) => t,
            Err(e) => {
                if SeedKind::of(&relative).is_some() {
                    diagnostics.push(Diagnostic::error(
                        display_path(seeds_dir, &relative),
                        1,
                        format!("cannot read this file: {e}"),
                    ));
                }
                continue;
            }
        };
        if file_type.is_dir() {
            match fs::read_dir(&path) {
                Ok(sub) => walk(seeds_dir, sub, &format!("{relative}/"), files, diagnostics),
                Err(e) => diagnostics.push(Diagnostic::error(
                    display_path(seeds_dir, &relative),
                    1,
                    format!("cannot read this folder, so its seeds are not published: {e}"),
                )),
            }
            continue;
        }
        if SeedKind::of(&relative).is_none() {
            continue;
        }
        if file_type.is_symlink() {
            match fs::metadata(&path) {
                Ok(meta) if meta.is_file() => {}
                Ok(_) => continue, // a link to a folder: not followed
                Err(e) => {
                    diagnostics.push(Diagnostic::error(
                        display_path(seeds_dir, &relative),
                        1,
                        format!("cannot read this file (a broken link?): {e}"),
                    ));
                    continue;
                }
            }
        } else if !file_type.is_file() {
            continue;
        }
        if name.to_str().is_none() {
            diagnostics.push(Diagnostic::error(
                display_path(seeds_dir, &relative),
                1,
                "the file name is not valid UTF-8: rename the file",
            ));
            continue;
        }
        files.push(SeedFile {
            relative,
            full: path,
        });
    }
}

type Parsed = (String, Option<Article>, Vec<Diagnostic>);

/// Reads and parses `files` on every core, keeping their order.
fn parse_all(parser: &SeedParser<'_>, seeds_dir: &Path, files: &[SeedFile]) -> Vec<Parsed> {
    cores::in_shares(files, |f| read_and_parse(parser, seeds_dir, f))
}

fn read_and_parse(parser: &SeedParser<'_>, seeds_dir: &Path, file: &SeedFile) -> Parsed {
    let path = display_path(seeds_dir, &file.relative);
    match read_seed(&file.full, &path, parser.config.seeds.max_file_bytes) {
        Ok(bytes) => {
            let (article, diagnostics) = parser.parse(&path, &file.relative, &bytes);
            (path, article, diagnostics)
        }
        Err(rejected) => (path, None, vec![rejected]),
    }
}

/// Parses single seed files: what [`load`] does per file, without the disk.
/// Holds the sanitizer, so make one and reuse it for many files.
#[derive(Debug)]
pub struct SeedParser<'c> {
    config: &'c Config,
    sanitizer: Sanitizer,
}

impl<'c> SeedParser<'c> {
    pub fn new(config: &'c Config) -> Self {
        Self {
            config,
            sanitizer: Sanitizer::new(&config.site.base_url),
        }
    }

    /// Parses one seed's bytes. `display_path` names the file in
    /// diagnostics (`seeds/world/kyiv.txt`); `relative_path` is its path
    /// under the seeds folder with `/` separators, which picks the format
    /// (see [`SeedKind::of`]), becomes `Article::source`, and is the id when
    /// the article has no canonical URL. `None` with no error diagnostic
    /// means the file is not a seed, or a draft.
    pub fn parse(
        &self,
        display_path: &str,
        relative_path: &str,
        bytes: &[u8],
    ) -> (Option<Article>, Vec<Diagnostic>) {
        let Some(kind) = SeedKind::of(relative_path) else {
            return (None, Vec::new());
        };
        let mut cx = FileContext {
            path: display_path,
            config: self.config,
            diagnostics: Vec::new(),
        };
        let article = decode::decode(bytes, &mut cx)
            .and_then(|text| match kind {
                SeedKind::Text => text::parse(&text, &mut cx),
                SeedKind::Markdown => markdown::parse(&text, &mut cx),
            })
            .map(|parts| self.finish(parts, relative_path, &mut cx));
        let mut diagnostics = cx.diagnostics;
        sort_diagnostics(&mut diagnostics);
        (article, diagnostics)
    }

    /// The common last steps: sanitize, summarize, assign the id.
    fn finish(&self, parts: Parts, relative_path: &str, cx: &mut FileContext<'_>) -> Article {
        let html = match parts.body_html {
            BodyHtml::Built(html) => html,
            BodyHtml::Authored(html) => self.sanitizer.clean(&html),
        };
        let html = match crate::xml::strip_illegal(&html) {
            (_, None) => html,
            (stripped, Some(_)) => {
                cx.warning(
                    parts.body_line,
                    "removed characters that XML 1.0 does not allow, written as character \
                     references (like &#1;): delete them from the file to silence this warning",
                );
                stripped.into_owned()
            }
        };
        let (paragraphs, lead) = match parts.paragraphs {
            Some(paragraphs) => (paragraphs, parts.lead),
            None => {
                let (blocks, first) = clean::text_blocks(&html);
                let lead = first.or((!blocks.is_empty()).then_some(0));
                (blocks, lead)
            }
        };
        let summary = parts
            .summary
            .filter(|s| !s.is_empty())
            .or_else(|| {
                lead.and_then(|i| paragraphs.get(i))
                    .map(|p| clean::summarize(p))
                    .filter(|s| !s.is_empty())
            })
            .unwrap_or_else(|| clean::summarize(&parts.title));
        let id = match &parts.url {
            Some(url) => ArticleId::Permalink(url.clone()),
            None => ArticleId::Urn(path_urn(relative_path)),
        };
        Article {
            id,
            source: relative_path.to_owned(),
            title: parts.title,
            url: parts.url,
            published: parts.published,
            updated: parts.updated,
            caption: parts.caption,
            paragraphs,
            related: parts.related,
            content_html: html,
            summary,
            authors: parts.authors,
            tags: parts.tags,
            image: parts.image,
        }
    }
}

/// Parses one seed with a sanitizer made for this call. For many files, make
/// one [`SeedParser`] and call [`SeedParser::parse`].
pub fn parse_seed(
    display_path: &str,
    relative_path: &str,
    bytes: &[u8],
    config: &Config,
) -> (Option<Article>, Vec<Diagnostic>) {
    SeedParser::new(config).parse(display_path, relative_path, bytes)
}

/// The id of an article without a canonical URL: `urn:uuid:` and a UUID v5
/// of its path under the seeds folder.
pub fn path_urn(relative_path: &str) -> String {
    format!(
        "urn:uuid:{}",
        Uuid::new_v5(&Uuid::NAMESPACE_URL, relative_path.as_bytes())
    )
}

/// One file being parsed: where diagnostics go and what they are about.
pub(crate) struct FileContext<'a> {
    path: &'a str,
    config: &'a Config,
    diagnostics: Vec<Diagnostic>,
}

impl FileContext<'_> {
    fn error(&mut self, line: usize, message: impl Into<String>) {
        self.diagnostics
            .push(Diagnostic::error(self.path, line, message));
    }

    fn warning(&mut self, line: usize, message: impl Into<String>) {
        self.diagnostics
            .push(Diagnostic::warning(self.path, line, message));
    }
}

/// A body as HTML, and whether it still needs the sanitizer.
#[derive(Debug)]
enum BodyHtml {
    /// Built by tidings from escaped plain text (the seed text format):
    /// only `<p>`, `<em>` and `<a href="http(s)…" rel="noopener noreferrer">`,
    /// so it is already within the allow-list and skips the sanitizer, which
    /// would cost more than the whole rest of the parse.
    Built(String),
    /// Written by an author (Markdown, where raw HTML is allowed): sanitized.
    Authored(String),
}

/// What a format parser hands to [`SeedParser::finish`]. Every string in it
/// is already free of characters XML forbids (parsers work on text that
/// [`decode`] cleaned, and clean front-matter values); only `body_html` can
/// gain some, from character references, and `finish` strips those.
#[derive(Debug)]
struct Parts {
    title: String,
    url: Option<String>,
    published: DateTime<FixedOffset>,
    updated: DateTime<FixedOffset>,
    caption: Option<String>,
    /// Plain-text body paragraphs; `None` to take them from the sanitized
    /// HTML (Markdown, where raw HTML makes the source text unreliable).
    paragraphs: Option<Vec<String>>,
    /// Index in `paragraphs` of the one a summary is cut from.
    lead: Option<usize>,
    related: Vec<Link>,
    /// HTML of the whole body.
    body_html: BodyHtml,
    /// Line where the body starts, for warnings about it.
    body_line: usize,
    /// The seed's own summary, plain text.
    summary: Option<String>,
    authors: Vec<String>,
    tags: Vec<String>,
    image: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seed_kind_by_extension_ignoring_hidden_parts() {
        assert_eq!(SeedKind::of("a.txt"), Some(SeedKind::Text));
        assert_eq!(SeedKind::of("sub/dir/a.TXT"), Some(SeedKind::Text));
        assert_eq!(SeedKind::of("a.md"), Some(SeedKind::Markdown));
        assert_eq!(SeedKind::of("a.html"), None);
        assert_eq!(SeedKind::of("txt"), None);
        assert_eq!(SeedKind::of(".a.txt.swp"), None);
        assert_eq!(SeedKind::of(".hidden.txt"), None);
        assert_eq!(SeedKind::of(".git/x.txt"), None);
    }

    #[test]
    fn display_path_joins_with_slashes() {
        assert_eq!(
            display_path(Path::new("seeds"), "world/kyiv.txt"),
            "seeds/world/kyiv.txt"
        );
        assert_eq!(display_path(Path::new("seeds/"), "a.txt"), "seeds/a.txt");
        assert_eq!(
            display_path(Path::new("/srv/seeds"), "a.txt"),
            "/srv/seeds/a.txt"
        );
        assert_eq!(display_path(Path::new("/"), "a.txt"), "/a.txt");
    }

    #[test]
    fn read_seed_reads_whole_files_and_refuses_large_ones_by_size() {
        let dir = tempfile::tempdir().unwrap();
        let sizes = [
            0,
            1,
            4000,
            FIRST_READ - 1,
            FIRST_READ,
            FIRST_READ + 1,
            3 * FIRST_READ + 7,
        ];
        for size in sizes {
            let path = dir.path().join(format!("{size}.txt"));
            let bytes: Vec<u8> = (0..size).map(|i| (i % 251) as u8).collect();
            fs::write(&path, &bytes).unwrap();
            // Twice, so the second read reuses a buffer a larger file grew.
            for _ in 0..2 {
                assert_eq!(read_seed(&path, "x", 1 << 20).unwrap(), bytes, "{size}");
                assert_eq!(
                    read_seed(&path, "x", size as u64).unwrap(),
                    bytes,
                    "{size} at the limit"
                );
            }
            if size > 0 {
                let refused = read_seed(&path, "seeds/x.txt", size as u64 - 1).unwrap_err();
                assert!(
                    refused
                        .to_string()
                        .starts_with(&format!("seeds/x.txt:1: the file is {size} bytes")),
                    "{refused}"
                );
            }
        }
        let missing = read_seed(&dir.path().join("none.txt"), "seeds/none.txt", 10).unwrap_err();
        assert!(
            missing
                .to_string()
                .starts_with("seeds/none.txt:1: cannot read this file"),
            "{missing}"
        );
    }

    #[test]
    fn urn_comes_from_the_path_only() {
        let a = path_urn("world/kyiv.txt");
        assert!(a.starts_with("urn:uuid:"), "{a}");
        assert_eq!(a, path_urn("world/kyiv.txt"));
        assert_ne!(a, path_urn("world/kyiv2.txt"));
        // UUID v5 of the URL namespace: version nibble 5.
        assert_eq!(&a[9 + 14..9 + 15], "5");
    }
}
