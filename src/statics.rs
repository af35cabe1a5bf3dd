//! The static folder: files served at `/static/…` and copied by the build
//! as they are (a style sheet, a logo, `robots.txt`-like files a site
//! wants beside its feeds).
//!
//! They become documents like every other, with the same validators,
//! caching headers and precompressed variants, so the server answers them
//! from memory with no file-system access per request. Memory stays
//! bounded: a file over `[static] max_file_bytes` (default 4 MiB) is left
//! out, and so is every file past `[static] max_total_bytes` (default 64
//! MiB) in path order, each with a diagnostic naming it. Media larger than
//! that belongs on a CDN or object storage.
//!
//! The folder is hostile input like the seeds: only regular files inside
//! it, decided on the opened file ([`ingest::read_seed`]), so no FIFO,
//! socket or device, no link to a file outside and nothing in a linked
//! folder; hidden names (`.name`) are skipped, and so are names a URL
//! would have to escape (the server matches paths exactly as sent).
//! Between reloads a file whose size, time and inode did not change keeps
//! its document, so only changed files are read and compressed again.
//!
//! Last-Modified is the file's modification time (never later than the
//! moment it is read). Only text types (HTML, CSS, JavaScript, JSON, text,
//! SVG) get gzip and brotli variants; images, fonts and PDFs are
//! compressed already.

use std::collections::BTreeMap;
use std::os::unix::fs::MetadataExt as _;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use chrono::{DateTime, Utc};

use crate::catalog::{Catalog, Compression, Document};
use crate::config::Config;
use crate::diagnostic::Diagnostic;
use crate::ingest::{self, SeedsFolder};

/// Where the static folder's files are in the URL layout.
pub const STATIC_PREFIX: &str = "/static/";

/// The files of the static folder, as documents by layout path.
#[derive(Debug, Default)]
pub struct StaticFiles {
    files: BTreeMap<String, Kept>,
    diagnostics: Vec<Diagnostic>,
}

#[derive(Debug, Clone)]
struct Kept {
    stamp: Stamp,
    document: Document,
}

/// Size, modification time, device and inode: a file with the same stamp
/// is taken to have the same bytes, as the seeds index does.
type Stamp = (u64, Option<SystemTime>, u64, u64);

impl StaticFiles {
    /// The static folder of `config` for the seeds folder `seeds_dir`: a
    /// relative `[static] dir` is taken from the folder that holds the
    /// seeds folder, so the default is `static` beside `seeds`.
    pub fn folder(config: &Config, seeds_dir: &Path) -> PathBuf {
        let dir = &config.statics.dir;
        if dir.is_absolute() {
            return dir.clone();
        }
        seeds_dir.parent().unwrap_or(Path::new("")).join(dir)
    }

    /// Reads the static folder of `config` again; returns whether any
    /// document changed. A missing folder has no files and is no error.
    pub fn load(&mut self, config: &Config, seeds_dir: &Path, compression: Compression) -> bool {
        let folder = Self::folder(config, seeds_dir);
        let mut diagnostics = Vec::new();
        let mut files = BTreeMap::new();
        let mut total: u64 = 0;
        for relative in list(&folder, &mut diagnostics) {
            let display = ingest::display_path(&folder, &relative);
            let path = format!("{STATIC_PREFIX}{relative}");
            let full = folder.join(&relative);
            let Ok(meta) = std::fs::metadata(&full) else {
                continue; // gone since it was listed
            };
            let stamp = (meta.len(), meta.modified().ok(), meta.dev(), meta.ino());
            let rules = &config.statics;
            if meta.len() > rules.max_file_bytes {
                diagnostics.push(Diagnostic::error(
                    display,
                    1,
                    format!(
                        "the file is {} bytes, over the limit of {} bytes, so it is not served: \
                         raise static.max_file_bytes in the config, or serve it from elsewhere",
                        meta.len(),
                        rules.max_file_bytes
                    ),
                ));
                continue;
            }
            if total + meta.len() > rules.max_total_bytes {
                diagnostics.push(Diagnostic::error(
                    display,
                    1,
                    format!(
                        "the static folder's files reach static.max_total_bytes ({} bytes) \
                         before this one, so it is not served: raise the limit, or serve large \
                         files from elsewhere",
                        rules.max_total_bytes
                    ),
                ));
                continue;
            }
            let kept = match self.files.get(&path) {
                Some(kept) if kept.stamp == stamp => kept.clone(),
                _ => match read(&folder, &relative, &display, rules.max_file_bytes) {
                    Ok(bytes) => Kept {
                        stamp,
                        document: document(&relative, bytes, &meta, compression),
                    },
                    Err(refused) => {
                        diagnostics.push(refused);
                        continue;
                    }
                },
            };
            total += kept.document.identity.len() as u64;
            files.insert(path, kept);
        }
        let changed = files.len() != self.files.len()
            || files
                .iter()
                .zip(&self.files)
                .any(|((path, new), (old_path, old))| {
                    path != old_path
                        || new.document.digest != old.document.digest
                        || new.document.last_modified != old.document.last_modified
                });
        for diagnostic in &diagnostics {
            if diagnostics_differ(&self.diagnostics, diagnostic) {
                tracing::warn!("static file left out: {diagnostic}");
            }
        }
        self.files = files;
        self.diagnostics = diagnostics;
        changed
    }

    /// Every file as a document, by layout path.
    pub fn documents(&self) -> impl Iterator<Item = (&str, &Document)> {
        self.files
            .iter()
            .map(|(path, kept)| (path.as_str(), &kept.document))
    }

    /// What was left out, and why.
    pub fn diagnostics(&self) -> &[Diagnostic] {
        &self.diagnostics
    }

    /// Puts the files into `catalog` in place of the static files it
    /// holds.
    pub fn replace_in(&self, catalog: &mut Catalog) {
        let before: Vec<String> = catalog
            .documents()
            .map(|(path, _)| path)
            .filter(|path| path.starts_with(STATIC_PREFIX))
            .map(String::from)
            .collect();
        for path in before {
            catalog.remove(&path);
        }
        for (path, document) in self.documents() {
            catalog.insert(path, document.clone());
        }
    }
}

/// Whether `diagnostic` is new since `before` (so each is logged once,
/// not at every reload).
fn diagnostics_differ(before: &[Diagnostic], diagnostic: &Diagnostic) -> bool {
    !before.contains(diagnostic)
}

/// The files under `folder`, as `/`-separated paths under it, sorted.
fn list(folder: &Path, diagnostics: &mut Vec<Diagnostic>) -> Vec<String> {
    if !folder.is_dir() {
        return Vec::new();
    }
    let walk = walkdir::WalkDir::new(folder)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|entry| {
            entry.depth() == 0 || !entry.file_name().as_encoded_bytes().starts_with(b".")
        });
    let mut files = Vec::new();
    for entry in walk {
        let entry = match entry {
            Ok(entry) => entry,
            Err(error) => {
                let path = error.path().unwrap_or(folder).display().to_string();
                diagnostics.push(Diagnostic::error(
                    path,
                    1,
                    format!("cannot list this part of the static folder: {error}"),
                ));
                continue;
            }
        };
        if entry.depth() == 0 || entry.file_type().is_dir() {
            continue;
        }
        // Links to folders are not followed, as in the seeds folder.
        if entry.file_type().is_symlink() && entry.path().is_dir() {
            continue;
        }
        let Ok(relative) = entry.path().strip_prefix(folder) else {
            continue;
        };
        let relative = relative.to_string_lossy().into_owned();
        if !relative.split('/').all(url_safe) {
            diagnostics.push(Diagnostic::warning(
                ingest::display_path(folder, &relative),
                1,
                "this name has characters a URL would have to escape, so the file is not \
                 served: rename it with letters, digits, `-`, `_`, `.` and `~` only",
            ));
            continue;
        }
        files.push(relative);
    }
    files
}

/// A path segment that is the same in a URL and on disk, and no dot
/// segment.
fn url_safe(segment: &str) -> bool {
    !segment.is_empty()
        && segment != "."
        && segment != ".."
        && segment
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~'))
}

/// The bytes of one file, read as seeds are (see the module docs), with
/// the refusal worded for the static folder.
fn read(folder: &Path, relative: &str, display: &str, max: u64) -> Result<Vec<u8>, Diagnostic> {
    let folder = SeedsFolder::locate(folder);
    ingest::read_seed(&folder, relative, display, max).map_err(|mut refused| {
        refused.message = refused
            .message
            .replace("seeds folder", "static folder")
            .replace("seeds.max_file_bytes", "static.max_file_bytes");
        refused
    })
}

fn document(
    relative: &str,
    bytes: Vec<u8>,
    meta: &std::fs::Metadata,
    compression: Compression,
) -> Document {
    let (content_type, text) = content_type(relative);
    let modified = meta
        .modified()
        .map(DateTime::<Utc>::from)
        .unwrap_or_default()
        .min(Utc::now());
    let compression = if text { compression } else { Compression::Off };
    Document::build(content_type, false, bytes.into(), modified, compression)
}

/// The content type of a file by its extension, and whether it is text
/// (worth compressing).
pub fn content_type(name: &str) -> (&'static str, bool) {
    let extension = name
        .rsplit_once('.')
        .map(|(_, extension)| extension.to_ascii_lowercase())
        .unwrap_or_default();
    match extension.as_str() {
        "html" | "htm" => ("text/html; charset=utf-8", true),
        "css" => ("text/css; charset=utf-8", true),
        "js" | "mjs" => ("text/javascript; charset=utf-8", true),
        "json" => ("application/json", true),
        "txt" => ("text/plain; charset=utf-8", true),
        "svg" => ("image/svg+xml", true),
        "png" => ("image/png", false),
        "jpg" | "jpeg" => ("image/jpeg", false),
        "gif" => ("image/gif", false),
        "webp" => ("image/webp", false),
        "avif" => ("image/avif", false),
        "ico" => ("image/x-icon", false),
        "woff2" => ("font/woff2", false),
        "pdf" => ("application/pdf", false),
        _ => ("application/octet-stream", false),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(extra: &str) -> Config {
        Config::parse(&format!("[static]\n{extra}"), Path::new("tidings.toml")).unwrap()
    }

    /// A site folder with `seeds/` and `static/`; returns the seeds path.
    fn site(dir: &Path) -> PathBuf {
        std::fs::create_dir_all(dir.join("seeds")).unwrap();
        std::fs::create_dir_all(dir.join("static/css")).unwrap();
        dir.join("seeds")
    }

    #[test]
    fn content_types_by_extension() {
        assert_eq!(content_type("a/b.CSS"), ("text/css; charset=utf-8", true));
        assert_eq!(content_type("x.woff2"), ("font/woff2", false));
        assert_eq!(content_type("x.JPEG"), ("image/jpeg", false));
        assert_eq!(content_type("README"), ("application/octet-stream", false));
        assert_eq!(
            content_type("x.tar.gz"),
            ("application/octet-stream", false)
        );
    }

    #[test]
    fn regular_files_inside_only_and_hidden_ones_skipped() {
        let dir = tempfile::tempdir().unwrap();
        let seeds = site(dir.path());
        let statics = dir.path().join("static");
        std::fs::write(statics.join("css/site.css"), "body{}").unwrap();
        std::fs::write(statics.join(".hidden.css"), "x").unwrap();
        std::fs::write(statics.join("with space.css"), "x").unwrap();
        std::fs::write(dir.path().join("secret.txt"), "secret").unwrap();
        std::os::unix::fs::symlink(dir.path().join("secret.txt"), statics.join("leak.txt"))
            .unwrap();
        std::os::unix::fs::symlink(statics.join("css/site.css"), statics.join("alias.css"))
            .unwrap();
        let fifo = std::process::Command::new("mkfifo")
            .arg(statics.join("pipe.txt"))
            .status()
            .unwrap();
        assert!(fifo.success());

        let mut files = StaticFiles::default();
        assert!(files.load(&config(""), &seeds, Compression::On));
        let paths: Vec<&str> = files.documents().map(|(path, _)| path).collect();
        assert_eq!(paths, ["/static/alias.css", "/static/css/site.css"]);
        let css = files.documents().nth(1).unwrap().1;
        assert_eq!(&css.identity[..], b"body{}");
        assert_eq!(css.content_type, "text/css; charset=utf-8");
        assert!(css.gzip.is_some() && css.brotli.is_some());
        let told: Vec<String> = files
            .diagnostics()
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(told.len(), 3, "{told:#?}");
        assert!(
            told.iter()
                .any(|d| d.contains("leak.txt") && d.contains("outside the static folder")),
            "{told:#?}"
        );
        assert!(
            told.iter()
                .any(|d| d.contains("pipe.txt") && d.contains("named pipe")),
            "{told:#?}"
        );
        assert!(
            told.iter().any(|d| d.contains("with space.css")),
            "{told:#?}"
        );
        // Nothing changed: the same documents, not read again.
        assert!(!files.load(&config(""), &seeds, Compression::On));
    }

    #[test]
    fn sizes_are_capped_per_file_and_in_all() {
        let dir = tempfile::tempdir().unwrap();
        let seeds = site(dir.path());
        let statics = dir.path().join("static");
        std::fs::write(statics.join("a.png"), [0u8; 600]).unwrap();
        std::fs::write(statics.join("b.png"), [0u8; 300]).unwrap();
        std::fs::write(statics.join("c.png"), [0u8; 300]).unwrap();
        std::fs::write(statics.join("d.png"), [0u8; 100]).unwrap();
        let config = config("max_file_bytes = 500\nmax_total_bytes = 500\n");
        let mut files = StaticFiles::default();
        files.load(&config, &seeds, Compression::On);
        let paths: Vec<&str> = files.documents().map(|(path, _)| path).collect();
        assert_eq!(paths, ["/static/b.png", "/static/d.png"]);
        let png = files.documents().next().unwrap().1;
        assert!(png.gzip.is_none(), "images are not compressed again");
        let told: Vec<String> = files
            .diagnostics()
            .iter()
            .map(ToString::to_string)
            .collect();
        assert!(
            told[0].contains("a.png") && told[0].contains("static.max_file_bytes"),
            "{told:#?}"
        );
        assert!(
            told[1].contains("c.png") && told[1].contains("static.max_total_bytes"),
            "{told:#?}"
        );
    }

    #[test]
    fn a_missing_folder_has_no_files() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("seeds")).unwrap();
        let mut files = StaticFiles::default();
        assert!(!files.load(&config(""), &dir.path().join("seeds"), Compression::On));
        assert_eq!(files.documents().count(), 0);
        assert!(files.diagnostics().is_empty());
    }
}
