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
use crate::plan::Planned;

/// Name of the header rules file (Netlify and Cloudflare Pages syntax).
pub const HEADERS_FILE: &str = "_headers";

/// One document being written: its file and, with compression, its `.gz`
/// and `.br` siblings, fed the same pieces in order.
pub struct DocumentFile {
    path: PathBuf,
    identity: BufWriter<File>,
    compression: Compression,
    /// What the encoders have not been given yet. A document of up to
    /// [`STAGED`] bytes reaches them in one piece, as in the catalog, so its
    /// `.gz` and `.br` are the very bytes the server sends (encoders cut
    /// blocks differently when fed piece by piece, and brotli's window is
    /// fitted to a document whose size is known).
    staged: Vec<u8>,
    /// Made when the first bytes are handed over.
    encoders: Option<Encoders>,
    last_modified: DateTime<Utc>,
}

struct Encoders {
    gzip: Option<flate2::write::GzEncoder<BufWriter<File>>>,
    brotli: Option<brotli::CompressorWriter<BufWriter<File>>>,
}

/// Bytes held back for the encoders: more than a feed of 50 full entries.
const STAGED: usize = 512 * 1024;

impl std::fmt::Debug for DocumentFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DocumentFile")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl DocumentFile {
    /// Creates the file of the document at `layout_path` under `out`.
    pub fn create(
        out: &Path,
        layout_path: &str,
        compression: Compression,
        last_modified: DateTime<Utc>,
    ) -> Result<Self> {
        let path = out.join(layout::file_path(layout_path));
        Ok(Self {
            identity: create_file(&path, "")?,
            compression,
            staged: Vec::new(),
            encoders: None,
            path,
            last_modified,
        })
    }

    /// Appends `text` to the document.
    pub fn push(&mut self, text: &str) -> Result<()> {
        let bytes = text.as_bytes();
        self.identity
            .write_all(bytes)
            .map_err(write_error(&self.path, ""))?;
        if self.compression.gzip() {
            self.staged.extend_from_slice(bytes);
            if self.staged.len() > STAGED {
                self.compress_staged(false)?;
            }
        }
        Ok(())
    }

    /// Hands the staged bytes to the encoders; `last` when no more follow.
    fn compress_staged(&mut self, last: bool) -> Result<()> {
        if self.compression == Compression::Off {
            return Ok(());
        }
        let encoders = match &mut self.encoders {
            Some(encoders) => encoders,
            None => {
                let size = last.then_some(self.staged.len());
                let gzip = match self.compression.gzip() {
                    true => Some(catalog::gzip_writer(create_file(&self.path, ".gz")?)),
                    false => None,
                };
                let brotli = match self.compression.brotli() {
                    true => Some(catalog::brotli_writer(
                        create_file(&self.path, ".br")?,
                        size,
                    )),
                    false => None,
                };
                self.encoders.insert(Encoders { gzip, brotli })
            }
        };
        if let Some(gzip) = &mut encoders.gzip {
            gzip.write_all(&self.staged)
                .map_err(write_error(&self.path, ".gz"))?;
        }
        if let Some(brotli) = &mut encoders.brotli {
            brotli
                .write_all(&self.staged)
                .map_err(write_error(&self.path, ".br"))?;
        }
        self.staged.clear();
        Ok(())
    }

    /// Ends every variant, flushes it and dates it; returns the number of
    /// files written.
    pub fn finish(mut self) -> Result<usize> {
        self.compress_staged(true)?;
        let mut files = vec![finish_file(&self.path, "", self.identity)?];
        let encoders = self.encoders.unwrap_or(Encoders {
            gzip: None,
            brotli: None,
        });
        if let Some(gzip) = encoders.gzip {
            let gzip = gzip.finish().map_err(write_error(&self.path, ".gz"))?;
            files.push(finish_file(&self.path, ".gz", gzip)?);
        }
        if let Some(brotli) = encoders.brotli {
            // Ends the stream; writing the end shows in the flush below.
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

/// Writes the `_headers` file for the planned `documents`, dated like the newest document
/// so that its time too depends on the content alone.
pub fn write_headers(
    out: &Path,
    documents: &[Planned],
    cache_control: &str,
    newest: Option<DateTime<Utc>>,
) -> Result<()> {
    let path = out.join(HEADERS_FILE);
    std::fs::write(&path, headers_file(documents, cache_control)).map_err(|source| {
        Error::Write {
            path: path.clone(),
            source,
        }
    })?;
    match newest {
        Some(newest) => set_mtime(&path, newest),
        None => Ok(()),
    }
}

/// The `_headers` rules: content type, caching and the headers the server
/// sends, per path of the layout, in path order.
pub fn headers_file(documents: &[Planned], cache_control: &str) -> String {
    let mut rules: Vec<&Planned> = documents.iter().collect();
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

/// Creates the file at `path` plus `suffix`, and its folders.
fn create_file(path: &Path, suffix: &str) -> Result<BufWriter<File>> {
    let file = sibling(path, suffix);
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
}

/// An error writing `path` plus `suffix`.
fn write_error(path: &Path, suffix: &str) -> impl FnOnce(std::io::Error) -> Error {
    let path = sibling(path, suffix);
    move |source| Error::Write { path, source }
}

fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

fn finish_file(path: &Path, suffix: &str, writer: BufWriter<File>) -> Result<PathBuf> {
    writer
        .into_inner()
        .map_err(|e| write_error(path, suffix)(e.into_error()))?;
    Ok(sibling(path, suffix))
}

fn set_mtime(path: &Path, when: DateTime<Utc>) -> Result<()> {
    let mtime = FileTime::from_unix_time(when.timestamp(), 0);
    filetime::set_file_mtime(path, mtime).map_err(|source| Error::Write {
        path: path.to_owned(),
        source,
    })
}
