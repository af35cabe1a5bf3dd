//! The static outlet: documents as files, for CI, object storage and CDNs.
//!
//! Every document is written at its place in the URL layout (directories get
//! `index.html`) with the same bytes the server sends, plus `.gz` and `.br`
//! siblings for hosts that serve precompressed files, a `_headers` file for
//! hosts that read one, and file times set to each document's Last-Modified.
//! A document is written as it is produced, piece by piece, so a feed of any
//! size never has to be held in memory. Nothing here depends on the clock or
//! on the order of anything but paths, so two builds of the same input are
//! byte-identical.

use std::fmt::Write as _;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use filetime::FileTime;

use crate::catalog::{self, Compression};
use crate::error::{Error, Result};
use crate::layout;

/// Name of the header rules file (Netlify and Cloudflare Pages syntax).
pub const HEADERS_FILE: &str = "_headers";

/// What the `_headers` file says about one document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeaderRule {
    /// Path of the URL layout.
    pub path: String,
    pub content_type: &'static str,
    /// Sent with `Access-Control-Allow-Origin: *`.
    pub cross_origin: bool,
}

/// One document being written: its file and, with compression, its `.gz`
/// and `.br` siblings, fed the same pieces in order.
pub struct DocumentFile {
    path: PathBuf,
    identity: BufWriter<File>,
    gzip: Option<flate2::write::GzEncoder<BufWriter<File>>>,
    brotli: Option<brotli::CompressorWriter<BufWriter<File>>>,
    last_modified: DateTime<Utc>,
}

impl std::fmt::Debug for DocumentFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DocumentFile")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl DocumentFile {
    /// Creates the files of the document at `layout_path` under `out`.
    pub fn create(
        out: &Path,
        layout_path: &str,
        compression: Compression,
        last_modified: DateTime<Utc>,
    ) -> Result<Self> {
        let path = out.join(layout::file_path(layout_path));
        let create = |suffix: &str| -> Result<BufWriter<File>> {
            let file = sibling(&path, suffix);
            let fail = |source| Error::Write {
                path: file.clone(),
                source,
            };
            if let Some(parent) = file.parent() {
                std::fs::create_dir_all(parent).map_err(fail)?;
            }
            Ok(BufWriter::with_capacity(
                64 * 1024,
                File::create(&file).map_err(fail)?,
            ))
        };
        let compressed = compression == Compression::On;
        Ok(Self {
            identity: create("")?,
            gzip: if compressed {
                Some(catalog::gzip_writer(create(".gz")?))
            } else {
                None
            },
            brotli: if compressed {
                Some(catalog::brotli_writer(create(".br")?))
            } else {
                None
            },
            path,
            last_modified,
        })
    }

    /// Appends `text` to the document.
    pub fn push(&mut self, text: &str) -> Result<()> {
        let bytes = text.as_bytes();
        let fail = |suffix: &str| {
            let path = sibling(&self.path, suffix);
            move |source| Error::Write { path, source }
        };
        self.identity.write_all(bytes).map_err(fail(""))?;
        if let Some(gzip) = &mut self.gzip {
            gzip.write_all(bytes).map_err(fail(".gz"))?;
        }
        if let Some(brotli) = &mut self.brotli {
            brotli.write_all(bytes).map_err(fail(".br"))?;
        }
        Ok(())
    }

    /// Ends every variant, flushes it and dates it; returns the number of
    /// files written.
    pub fn finish(self) -> Result<usize> {
        let mut files = vec![finish_file(&self.path, "", self.identity)?];
        if let Some(gzip) = self.gzip {
            let fail = |source| Error::Write {
                path: sibling(&self.path, ".gz"),
                source,
            };
            files.push(finish_file(
                &self.path,
                ".gz",
                gzip.finish().map_err(fail)?,
            )?);
        }
        if let Some(mut brotli) = self.brotli {
            let fail = |source| Error::Write {
                path: sibling(&self.path, ".br"),
                source,
            };
            brotli.flush().map_err(fail)?;
            files.push(finish_file(&self.path, ".br", brotli.into_inner())?);
        }
        for file in &files {
            set_mtime(file, self.last_modified)?;
        }
        Ok(files.len())
    }
}

/// Writes a whole document at once.
pub fn write_document(
    out: &Path,
    layout_path: &str,
    text: &str,
    compression: Compression,
    last_modified: DateTime<Utc>,
) -> Result<usize> {
    let mut file = DocumentFile::create(out, layout_path, compression, last_modified)?;
    file.push(text)?;
    file.finish()
}

/// Writes the `_headers` file for `rules`, dated like the newest document
/// so that its time too depends on the content alone.
pub fn write_headers(
    out: &Path,
    rules: &[HeaderRule],
    cache_control: &str,
    newest: Option<DateTime<Utc>>,
) -> Result<()> {
    let path = out.join(HEADERS_FILE);
    std::fs::write(&path, headers_file(rules, cache_control)).map_err(|source| Error::Write {
        path: path.clone(),
        source,
    })?;
    match newest {
        Some(newest) => set_mtime(&path, newest),
        None => Ok(()),
    }
}

/// The `_headers` rules: content type, caching and the headers the server
/// sends, per path of the layout, in path order.
pub fn headers_file(rules: &[HeaderRule], cache_control: &str) -> String {
    let mut rules: Vec<&HeaderRule> = rules.iter().collect();
    rules.sort_by(|a, b| a.path.cmp(&b.path));
    let mut out = String::new();
    for rule in rules {
        let _ = writeln!(out, "{}", rule.path);
        let _ = writeln!(out, "  Content-Type: {}", rule.content_type);
        let _ = writeln!(out, "  Cache-Control: {cache_control}");
        let _ = writeln!(out, "  X-Content-Type-Options: nosniff");
        if rule.cross_origin {
            let _ = writeln!(out, "  Access-Control-Allow-Origin: *");
        }
    }
    out
}

fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

fn finish_file(path: &Path, suffix: &str, writer: BufWriter<File>) -> Result<PathBuf> {
    let file = sibling(path, suffix);
    let fail = |source: std::io::Error| Error::Write {
        path: file.clone(),
        source,
    };
    writer.into_inner().map_err(|e| fail(e.into_error()))?;
    Ok(file)
}

fn set_mtime(path: &Path, when: DateTime<Utc>) -> Result<()> {
    let mtime = FileTime::from_unix_time(when.timestamp(), 0);
    filetime::set_file_mtime(path, mtime).map_err(|source| Error::Write {
        path: path.to_owned(),
        source,
    })
}
