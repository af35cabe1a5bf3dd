//! Ingest: the seeds folder in, clean [`Article`]s and diagnostics out.
//!
//! This is the only stage that reads seed files, so it is where untrusted
//! text becomes trusted data: everything later (topics, renderers) relies on
//! the promises of [`crate::model`].
//!
//! The folder walk ([`load`], [`list`]):
//!
//! - Recurses into sub-folders. Files ending `.txt` are the seed text format
//!   (`text.rs`), `.md` Markdown with `+++` front matter (`markdown.rs`); the
//!   extension is matched case-insensitively (`.TXT` from Windows tools).
//!   Everything else is ignored, as is every file or folder whose name starts
//!   with `.` (editor swap files, `.git`).
//! - Files are visited in sorted order of their path under the folder,
//!   written with `/`, so the result never depends on the file system's
//!   listing order or on modification times. A file name that is not UTF-8
//!   is rejected (its id would not be stable).
//!
//! Which files are read, the same at start-up, on reload, in `check` and in
//! `build` (all of them go through [`list`] and [`read_seed`]):
//!
//! - Only regular files inside the seeds folder. A FIFO, socket or device
//!   with a seed's name is rejected without being read; a symbolic link is
//!   read when the file it leads to lies inside the seeds folder (wherever
//!   the folder itself really is: it may be a link, as git-sync makes it),
//!   and rejected when it leads outside. The diagnostic names the link, not
//!   its target, and never quotes the file.
//! - Links to folders are never followed: a folder reached through one has
//!   no seeds (no link loop can hang a build, no article shows up twice, and
//!   no folder outside is published through one).
//! - That decision is made on the opened file, never on a name looked up
//!   again: a seed is opened without blocking (a FIFO would wait for a
//!   writer), then its own metadata must say regular file, then where it
//!   really lies must be inside the folder. A file swapped for a link or a
//!   FIFO between the walk and the read is caught all the same. These
//!   checks rely on Unix.
//! - A file over `seeds.max_file_bytes` is rejected with its size from its
//!   metadata, before any of it is read; no more than the limit and one
//!   byte of it is ever read (it may grow while it is read).
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

use std::fs;
use std::io::{self, Read};
use std::os::fd::AsRawFd;
use std::os::unix::fs::{FileTypeExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use chrono::{DateTime, FixedOffset};
use uuid::Uuid;
use walkdir::WalkDir;

pub use clean::{Sanitizer, SUMMARY_MAX_CHARS};

use crate::config::Config;
use crate::cores;
use crate::diagnostic::Diagnostic;
use crate::error::{Error, Result};
use crate::model::{Article, ArticleId, Identified, Link};

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
    let parsed = parse_all(&parser, &SeedsFolder::locate(seeds_dir), &files);
    let mut ingested = Ingested::from_files(parsed);
    ingested.diagnostics.extend(listing_diagnostics);
    sort_diagnostics(&mut ingested.diagnostics);
    Ok(ingested)
}

impl<A: Identified> Ingested<A> {
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
                match owners.entry(article.id()) {
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
                let id = files[winner].1.as_ref().map_or("", |a| a.id().as_str());
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
        ingested.articles.sort_by(|a, b| a.source().cmp(b.source()));
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

pub(crate) fn shared_page_warning(loser: &str, winner: &str, slug: &str) -> Diagnostic {
    Diagnostic::warning(
        loser,
        1,
        format!(
            "no article page: {winner} has the same page (/articles/{slug}/) and comes \
             first by path; rename one of the files"
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
/// itself cannot be listed. A folder reached through a link has no seeds.
/// Whatever else has a seed's name is listed, FIFOs and links included:
/// [`read_seed`] decides on the opened file, so that every path agrees.
pub fn list(seeds_dir: &Path, under: &str) -> Result<(Vec<SeedFile>, Vec<Diagnostic>)> {
    let mut files = Vec::new();
    let mut diagnostics = Vec::new();
    if in_linked_folder(seeds_dir, under) {
        return Ok((files, diagnostics));
    }
    let top = seeds_dir.join(under);
    // The folders being listed, by depth, as paths under the seeds folder
    // ending in `/`: where an entry's path begins, and what a listing error
    // is about. Links to folders are not followed (`WalkDir` follows only
    // `top`, which may itself be a link, like a swapped seeds folder).
    let mut folders = vec![under.to_owned()];
    let walk = WalkDir::new(&top).into_iter().filter_entry(|entry| {
        entry.depth() == 0 || !entry.file_name().as_encoded_bytes().starts_with(b".")
    });
    for entry in walk {
        let entry = match entry {
            Ok(entry) => entry,
            Err(e) if e.depth() == 0 => {
                return Err(Error::Seeds {
                    path: top,
                    source: e.into(),
                })
            }
            Err(e) => {
                diagnostics.extend(listing_problem(seeds_dir, &folders, &e));
                continue;
            }
        };
        let depth = entry.depth();
        if depth == 0 {
            // The top folder itself, or a link to it; a file has no seeds.
            if !entry.file_type().is_dir() && !top.is_dir() {
                return Err(Error::Seeds {
                    path: top,
                    source: io::ErrorKind::NotADirectory.into(),
                });
            }
            continue;
        }
        folders.truncate(depth);
        let relative = format!(
            "{}{}",
            folders[depth - 1],
            entry.file_name().to_string_lossy()
        );
        let file_type = entry.file_type();
        if file_type.is_dir() {
            folders.push(relative + "/");
            continue;
        }
        if SeedKind::of(&relative).is_none() {
            continue;
        }
        let refuse =
            |message: String| Diagnostic::error(display_path(seeds_dir, &relative), 1, message);
        if file_type.is_symlink() {
            match fs::metadata(entry.path()) {
                Ok(target) if target.is_dir() => continue, // not followed
                Ok(_) => {}
                Err(e) => {
                    diagnostics.push(refuse(format!(
                        "cannot read this file (a broken link?): {e}"
                    )));
                    continue;
                }
            }
        }
        if entry.file_name().to_str().is_none() {
            diagnostics.push(refuse(
                "the file name is not valid UTF-8: rename the file".to_owned(),
            ));
            continue;
        }
        files.push(SeedFile {
            relative,
            full: entry.into_path(),
        });
    }
    files.sort_by(|a, b| a.relative.cmp(&b.relative));
    sort_diagnostics(&mut diagnostics);
    Ok((files, diagnostics))
}

/// The diagnostic for an error of the walk below the top folder, given the
/// folders being listed (see [`list`]): a folder that cannot be opened, a
/// listing cut short, or a seed whose kind cannot be read.
fn listing_problem(seeds_dir: &Path, folders: &[String], e: &walkdir::Error) -> Option<Diagnostic> {
    let cause = e
        .io_error()
        .map_or_else(|| e.to_string(), ToString::to_string);
    let parent = folders.get(e.depth() - 1)?;
    let Some(name) = e.path().and_then(Path::file_name) else {
        // Reading the folder's entries failed part way.
        let folder = match parent.trim_end_matches('/') {
            "" => ".",
            folder => folder,
        };
        return Some(Diagnostic::error(
            display_path(seeds_dir, folder),
            1,
            format!("cannot list this folder completely: {cause}"),
        ));
    };
    let relative = format!("{parent}{}", name.to_string_lossy());
    if folders.get(e.depth()) == Some(&format!("{relative}/")) {
        // A folder just listed as an entry, which cannot be opened.
        Some(Diagnostic::error(
            display_path(seeds_dir, &relative),
            1,
            format!("cannot read this folder, so its seeds are not published: {cause}"),
        ))
    } else {
        SeedKind::of(&relative).map(|_| {
            Diagnostic::error(
                display_path(seeds_dir, &relative),
                1,
                format!("cannot read this file: {cause}"),
            )
        })
    }
}

/// Whether a folder on the way from `seeds_dir` to `relative` (a file, or a
/// folder ending in `/`) is a symbolic link: nothing under such a folder is
/// a seed.
pub fn in_linked_folder(seeds_dir: &Path, relative: &str) -> bool {
    let Some((folders, _)) = relative.rsplit_once('/') else {
        return false;
    };
    let mut path = seeds_dir.to_path_buf();
    folders.split('/').any(|folder| {
        path.push(folder);
        fs::symlink_metadata(&path).is_ok_and(|meta| meta.is_symlink())
    })
}

/// Why a seed name that is not a regular file is not published.
fn not_a_file(file_type: fs::FileType) -> String {
    let what = if file_type.is_fifo() {
        "a named pipe (FIFO)"
    } else if file_type.is_socket() {
        "a socket"
    } else if file_type.is_block_device() || file_type.is_char_device() {
        "a device"
    } else if file_type.is_dir() {
        "a folder"
    } else {
        "a special file"
    };
    format!(
        "this is {what}, not a regular file, so it is not published: \
         replace it with a regular file or move it out of the seeds folder"
    )
}

/// The seeds folder for one pass over it: the path as given, which names
/// files, and where it really is, which every file read must lie inside.
#[derive(Debug, Clone)]
pub struct SeedsFolder {
    path: PathBuf,
    real: PathBuf,
}

impl SeedsFolder {
    /// Resolves where `seeds_dir` really is, once for a whole pass. When it
    /// cannot be resolved (it is gone), no file can be read from it either.
    pub fn locate(seeds_dir: &Path) -> Self {
        Self {
            path: seeds_dir.to_path_buf(),
            real: fs::canonicalize(seeds_dir).unwrap_or_else(|_| seeds_dir.to_path_buf()),
        }
    }

    /// The folder as given.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Why `file`, opened at `relative` under this folder, is not one of
    /// its seeds, if it is not: it lies outside, or was reached through a
    /// linked folder.
    fn misplaced(&self, file: &fs::File, opened: &fs::Metadata, relative: &str) -> Option<String> {
        let real = match real_path(file, opened, &self.path.join(relative)) {
            Ok(real) => real,
            Err(e) => return Some(format!("cannot read this file: {e}")),
        };
        if real == self.real.join(relative) {
            return None; // no link on the way: nearly every seed
        }
        if in_linked_folder(&self.path, relative) {
            return Some(
                "this file is in a folder reached through a symbolic link, which tidings \
                 does not follow: move the file into a real folder of the seeds folder"
                    .to_owned(),
            );
        }
        // The folder may have been swapped (git-sync) since the pass began.
        let inside = real.starts_with(&self.real)
            || fs::canonicalize(&self.path).is_ok_and(|now| real.starts_with(now));
        (!inside).then(|| {
            "this is a link to a file outside the seeds folder, so it is not published: \
             copy the file into the seeds folder, or link to a file inside it"
                .to_owned()
        })
    }
}

/// Where the opened `file` really lies, symbolic links resolved. Linux
/// names every open file under `/proc/self/fd`, which answers for the
/// opened file itself; without that, see [`real_path_by_name`].
fn real_path(file: &fs::File, opened: &fs::Metadata, full: &Path) -> io::Result<PathBuf> {
    match fs::read_link(format!("/proc/self/fd/{}", file.as_raw_fd())) {
        Ok(real) => Ok(real),
        Err(_) => real_path_by_name(opened, full),
    }
}

/// Where the file opened at `full` really lies, from its name resolved
/// again: accepted only when that names the very file that was opened (the
/// same device and inode), so a file swapped in between is refused.
fn real_path_by_name(opened: &fs::Metadata, full: &Path) -> io::Result<PathBuf> {
    let real = fs::canonicalize(full)?;
    let named = fs::metadata(&real)?;
    if (named.dev(), named.ino()) == (opened.dev(), opened.ino()) {
        Ok(real)
    } else {
        Err(io::Error::other(
            "the file was replaced while it was read; it is read again on its next change",
        ))
    }
}

/// Reads the seed at `relative` under `folder`, when it is a regular file
/// inside the folder (see the module documentation), refusing it with its
/// size from its metadata when it is larger than `max` bytes. The error is
/// the diagnostic that rejects the file, on `display_path`.
pub fn read_seed(
    folder: &SeedsFolder,
    relative: &str,
    display_path: &str,
    max: u64,
) -> Result<Vec<u8>, Diagnostic> {
    let refuse = |message: String| Diagnostic::error(display_path, 1, message);
    let cannot_read = |e: io::Error| refuse(format!("cannot read this file: {e}"));
    let full = folder.path.join(relative);
    // Without blocking, so that a FIFO answers at once instead of waiting
    // for a writer; and never as this process's terminal, if it is one.
    let file = fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(&full)
        .map_err(|e| match fs::metadata(&full) {
            // Refused already; the name only words the diagnostic (a socket
            // cannot be opened at all).
            Ok(meta) if !meta.is_file() => refuse(not_a_file(meta.file_type())),
            _ => cannot_read(e),
        })?;
    let opened = file.metadata().map_err(cannot_read)?;
    if !opened.is_file() {
        return Err(refuse(not_a_file(opened.file_type())));
    }
    if let Some(message) = folder.misplaced(&file, &opened, relative) {
        return Err(refuse(message));
    }
    if opened.len() > max {
        return Err(refuse(decode::too_big(opened.len(), max)));
    }
    read_bounded(file, opened.len(), max).map_err(cannot_read)
}

/// The bytes of `file`, whose metadata said `len`: at most `max` and one
/// more, so that a file which grew past the limit while it was read is
/// still refused (by [`decode`]) without being read whole.
fn read_bounded(file: fs::File, len: u64, max: u64) -> io::Result<Vec<u8>> {
    // Room for the whole file and one byte, so that the read which finds
    // its end needs no more memory.
    let room = usize::try_from(len.saturating_add(1)).unwrap_or(usize::MAX);
    let mut bytes = Vec::with_capacity(room);
    file.take(max.saturating_add(1)).read_to_end(&mut bytes)?;
    Ok(bytes)
}

type Parsed = (String, Option<Article>, Vec<Diagnostic>);

/// Reads and parses `files` on every core, keeping their order.
fn parse_all(parser: &SeedParser<'_>, folder: &SeedsFolder, files: &[SeedFile]) -> Vec<Parsed> {
    cores::in_shares(files, |f| read_and_parse(parser, folder, f))
}

fn read_and_parse(parser: &SeedParser<'_>, folder: &SeedsFolder, file: &SeedFile) -> Parsed {
    let path = display_path(folder.path(), &file.relative);
    match read_seed(
        folder,
        &file.relative,
        &path,
        parser.config.seeds.max_file_bytes,
    ) {
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
            slug: crate::layout::article_slug(relative_path),
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
        let folder = SeedsFolder::locate(dir.path());
        for size in [0, 1, 4000, 65535, 65536, 65537, 3 * 65536 + 7] {
            let relative = format!("{size}.txt");
            let bytes: Vec<u8> = (0..size).map(|i| (i % 251) as u8).collect();
            fs::write(dir.path().join(&relative), &bytes).unwrap();
            assert_eq!(
                read_seed(&folder, &relative, "x", 1 << 20).unwrap(),
                bytes,
                "{size}"
            );
            assert_eq!(
                read_seed(&folder, &relative, "x", size as u64).unwrap(),
                bytes,
                "{size} at the limit"
            );
            if size > 0 {
                let refused =
                    read_seed(&folder, &relative, "seeds/x.txt", size as u64 - 1).unwrap_err();
                assert!(
                    refused
                        .to_string()
                        .starts_with(&format!("seeds/x.txt:1: the file is {size} bytes")),
                    "{refused}"
                );
            }
        }
        let missing = read_seed(&folder, "none.txt", "seeds/none.txt", 10).unwrap_err();
        assert!(
            missing
                .to_string()
                .starts_with("seeds/none.txt:1: cannot read this file"),
            "{missing}"
        );
    }

    #[test]
    fn a_seeds_folder_swapped_during_a_pass_is_read_where_it_now_is() {
        let dir = tempfile::tempdir().unwrap();
        for release in ["1", "2"] {
            let path = dir.path().join(release);
            fs::create_dir(&path).unwrap();
            fs::write(path.join("a.txt"), release).unwrap();
        }
        let seeds = dir.path().join("seeds");
        std::os::unix::fs::symlink("1", &seeds).unwrap();
        let folder = SeedsFolder::locate(&seeds);
        // As git-sync swaps it: a new link renamed over the old one.
        std::os::unix::fs::symlink("2", dir.path().join("next")).unwrap();
        fs::rename(dir.path().join("next"), &seeds).unwrap();
        assert_eq!(read_seed(&folder, "a.txt", "x", 10).unwrap(), b"2");
    }

    #[test]
    fn a_real_path_by_name_must_name_the_opened_file() {
        let dir = tempfile::tempdir().unwrap();
        let real = fs::canonicalize(dir.path()).unwrap();
        fs::write(dir.path().join("a.txt"), "a").unwrap();
        std::os::unix::fs::symlink("a.txt", dir.path().join("link.txt")).unwrap();
        let opened = fs::File::open(dir.path().join("link.txt"))
            .and_then(|f| f.metadata())
            .unwrap();
        assert_eq!(
            real_path_by_name(&opened, &dir.path().join("link.txt")).unwrap(),
            real.join("a.txt")
        );
        fs::write(dir.path().join("b.txt"), "b").unwrap();
        fs::rename(dir.path().join("b.txt"), dir.path().join("a.txt")).unwrap();
        assert!(real_path_by_name(&opened, &dir.path().join("link.txt")).is_err());
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
