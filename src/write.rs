//! The static outlet: documents as files, for CI, object storage and CDNs.
//!
//! Every document is written at its place in the URL layout (directories get
//! `index.html`) with the same bytes the server sends, plus `.gz` and `.br`
//! siblings for hosts that serve precompressed files, a `_headers` file for
//! hosts that read one, and file times set to each document's Last-Modified.
//! Nothing here depends on the clock or on the order of anything but paths,
//! so two builds of the same input are byte-identical.
//!
//! A build has every listing document under way at once, and there may be
//! thousands (four per topic), so a [`DocumentFile`] holds no open file
//! while it grows: its text gathers in memory and the caller hands it to the
//! disk ([`DocumentFile::flush`]) when memory is short, each time opening the
//! file, appending and closing it. Only [`DocumentFile::finish`] compresses,
//! once the document is whole: from memory, or by reading the file back in
//! pieces of `STAGED` bytes. So a build holds a few files open whatever
//! the number of topics, one encoder per core rather than one per document,
//! and a document of up to `STAGED` bytes reaches the encoders in one
//! piece, as in the catalog: its `.gz` and `.br` are the very bytes the
//! server sends (encoders cut blocks differently when fed piece by piece,
//! and brotli's window is fitted to the document's size).
//!
//! A build never writes into the previous output: [`Staging`] is a new
//! folder beside it, on the same file system, renamed into its place once
//! every file is written and removed if anything fails. Everything in it was
//! created by this build, so no file is written through a symlink someone
//! left in the output folder.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs::{File, OpenOptions};
use std::io::{BufWriter, ErrorKind, Read, Write};
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use filetime::FileTime;

use crate::catalog::{self, Compression, Document};
use crate::config::Site;
use crate::error::{Error, Result};
use crate::layout;
use crate::plan::Planned;
use crate::websub::{self, Manifest};

/// Name of the header rules file (Netlify and Cloudflare Pages syntax).
pub const HEADERS_FILE: &str = "_headers";

/// One document being written: text in memory, what did not fit already
/// appended to its file, and at the end the `.gz` and `.br` siblings.
pub struct DocumentFile {
    path: PathBuf,
    compression: Compression,
    /// Text not yet on disk.
    pending: Vec<u8>,
    /// Bytes already appended to the file; none means it does not exist yet.
    flushed: usize,
    last_modified: DateTime<Utc>,
}

/// The largest piece the encoders are given at once: more than a feed of
/// 50 full entries, so such feeds compress exactly as in the catalog.
const STAGED: usize = 512 * 1024;

impl std::fmt::Debug for DocumentFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DocumentFile")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl DocumentFile {
    /// The document at `layout_path` under `out`; nothing is written yet.
    pub fn new(
        out: &Path,
        layout_path: &str,
        compression: Compression,
        last_modified: DateTime<Utc>,
    ) -> Self {
        Self {
            path: out.join(layout::file_path(layout_path)),
            compression,
            pending: Vec::new(),
            flushed: 0,
            last_modified,
        }
    }

    /// Appends `text` to the document, in memory; returns how many more
    /// bytes of memory the document holds.
    pub fn push(&mut self, text: &str) -> usize {
        let before = self.held();
        self.pending.extend_from_slice(text.as_bytes());
        self.held() - before
    }

    /// Bytes of memory held for text not yet on disk (room to grow
    /// included, which is up to as much again).
    pub fn held(&self) -> usize {
        self.pending.capacity()
    }

    /// Appends the text held in memory to the file, which is open only
    /// meanwhile, and frees that memory.
    pub fn flush(&mut self) -> Result<()> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let pending = std::mem::take(&mut self.pending);
        self.append(&pending)?;
        self.flushed += pending.len();
        Ok(())
    }

    fn append(&self, bytes: &[u8]) -> Result<()> {
        let fail = write_error(&self.path, "");
        let mut file = match self.flushed {
            0 => create_file(&self.path, "")?,
            _ => BufWriter::new(
                OpenOptions::new()
                    .append(true)
                    .open(&self.path)
                    .map_err(fail)?,
            ),
        };
        file.write_all(bytes).map_err(write_error(&self.path, ""))?;
        finish_file(&self.path, "", file).map(drop)
    }

    /// Writes what is left, then the compressed siblings, and dates them
    /// all; returns the number of files written.
    pub fn finish(&self) -> Result<usize> {
        let len = self.flushed + self.pending.len();
        let mut encoders = Encoders::create(&self.path, self.compression, len)?;
        self.append(&self.pending)?;
        if self.flushed == 0 {
            encoders.write(&self.pending)?;
        } else if encoders.any() {
            let fail = write_error(&self.path, "");
            let mut identity = File::open(&self.path).map_err(fail)?;
            let mut piece = Vec::with_capacity(STAGED.min(len));
            loop {
                piece.clear();
                (&mut identity)
                    .take(STAGED as u64)
                    .read_to_end(&mut piece)
                    .map_err(write_error(&self.path, ""))?;
                if piece.is_empty() {
                    break;
                }
                encoders.write(&piece)?;
            }
        }
        let mut files = vec![self.path.clone()];
        files.extend(encoders.finish()?);
        for file in &files {
            set_mtime(file, self.last_modified)?;
        }
        Ok(files.len())
    }
}

/// The compressed siblings of one document while they are written.
struct Encoders<'a> {
    path: &'a Path,
    gzip: Option<flate2::write::GzEncoder<BufWriter<File>>>,
    brotli: Option<brotli::CompressorWriter<BufWriter<File>>>,
}

impl<'a> Encoders<'a> {
    /// Creates the siblings `compression` asks for, for a document of `len`
    /// bytes.
    fn create(path: &'a Path, compression: Compression, len: usize) -> Result<Self> {
        let gzip = match compression.gzip() {
            true => Some(catalog::gzip_writer(create_file(path, ".gz")?)),
            false => None,
        };
        let brotli = match compression.brotli() {
            true => Some(catalog::brotli_writer(create_file(path, ".br")?, Some(len))),
            false => None,
        };
        Ok(Self { path, gzip, brotli })
    }

    fn any(&self) -> bool {
        self.gzip.is_some() || self.brotli.is_some()
    }

    fn write(&mut self, piece: &[u8]) -> Result<()> {
        if let Some(gzip) = &mut self.gzip {
            gzip.write_all(piece)
                .map_err(write_error(self.path, ".gz"))?;
        }
        if let Some(brotli) = &mut self.brotli {
            brotli
                .write_all(piece)
                .map_err(write_error(self.path, ".br"))?;
        }
        Ok(())
    }

    /// Ends the streams; returns the files written.
    fn finish(self) -> Result<Vec<PathBuf>> {
        let mut files = Vec::new();
        if let Some(gzip) = self.gzip {
            let gzip = gzip.finish().map_err(write_error(self.path, ".gz"))?;
            files.push(finish_file(self.path, ".gz", gzip)?);
        }
        if let Some(brotli) = self.brotli {
            // Ends the stream; writing the end shows in the flush below.
            files.push(finish_file(self.path, ".br", brotli.into_inner())?);
        }
        Ok(files)
    }
}

/// Writes a document of the catalog as it is, with the compressed
/// variants it has, dated by its Last-Modified; returns the number of
/// files written.
pub fn write_catalog_document(
    out: &Path,
    layout_path: &str,
    document: &catalog::Document,
) -> Result<usize> {
    let path = out.join(layout::file_path(layout_path));
    let variants = [
        ("", Some(&document.identity)),
        (".gz", document.gzip.as_ref()),
        (".br", document.brotli.as_ref()),
    ];
    let mut files = 0;
    for (suffix, bytes) in variants {
        let Some(bytes) = bytes else { continue };
        let mut file = create_file(&path, suffix)?;
        file.write_all(bytes).map_err(write_error(&path, suffix))?;
        let written = finish_file(&path, suffix, file)?;
        set_mtime(&written, document.last_modified)?;
        files += 1;
    }
    Ok(files)
}

/// Writes a whole document at once.
pub fn write_document(
    out: &Path,
    layout_path: &str,
    text: &str,
    compression: Compression,
    last_modified: DateTime<Utc>,
) -> Result<usize> {
    let mut file = DocumentFile::new(out, layout_path, compression, last_modified);
    file.push(text);
    file.finish()
}

/// The folder a build writes into: new, empty and beside the output folder,
/// then renamed into its place.
#[derive(Debug)]
pub struct Staging {
    /// The output folder, symlinks resolved.
    out: PathBuf,
    path: PathBuf,
    /// Whether it became the output folder; if not, dropping removes it.
    placed: bool,
}

impl Staging {
    /// Makes the staging folder for a build into `out`, after checking that
    /// `out` may be replaced as a whole: a folder (or a symlink to one,
    /// which then keeps pointing to the new output) or nothing yet, and not
    /// holding `keep`, the seeds.
    pub fn beside(out: &Path, keep: &Path) -> Result<Self> {
        let refuse = |message: &str| Error::Output {
            path: out.to_owned(),
            message: message.to_owned(),
        };
        let out = match std::fs::symlink_metadata(out) {
            Ok(_) => {
                let real = out.canonicalize().map_err(|source| Error::Write {
                    path: out.to_owned(),
                    source,
                })?;
                if !real.is_dir() {
                    return Err(refuse("is not a folder; a build writes a folder"));
                }
                real
            }
            Err(e) if e.kind() == ErrorKind::NotFound => {
                let name = out
                    .file_name()
                    .ok_or_else(|| refuse("does not name a folder"))?;
                let parent = match out.parent() {
                    Some(parent) if !parent.as_os_str().is_empty() => parent,
                    _ => Path::new("."),
                };
                std::fs::create_dir_all(parent).map_err(write_error(parent, ""))?;
                let parent = parent.canonicalize().map_err(write_error(parent, ""))?;
                parent.join(name)
            }
            Err(source) => {
                return Err(Error::Write {
                    path: out.to_owned(),
                    source,
                })
            }
        };
        if keep.canonicalize().is_ok_and(|keep| keep.starts_with(&out)) {
            return Err(refuse(
                "holds the seeds folder, and a build replaces its output folder as a whole; \
                 choose another folder",
            ));
        }
        let Some(parent) = out.parent() else {
            return Err(refuse(
                "is the root folder; a build replaces its output folder as a whole",
            ));
        };
        let path = new_folder(parent, &out, "new")?;
        Ok(Self {
            out,
            path,
            placed: false,
        })
    }

    /// Where the build writes.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Puts the written tree in place of the output folder: the previous
    /// one is renamed aside, the new one renamed in, the previous one
    /// removed. If the second rename fails the first is undone, so the
    /// output is either the previous tree or the new one.
    pub fn place(mut self) -> Result<()> {
        let aside = match std::fs::symlink_metadata(&self.out) {
            Ok(_) => {
                let parent = self.path.parent().expect("made in a folder");
                // Renaming a folder onto an empty one replaces it, so the
                // name is taken by creating the folder: no one else has it.
                let aside = new_folder(parent, &self.out, "old")?;
                std::fs::rename(&self.out, &aside).map_err(|source| Error::Write {
                    path: self.out.clone(),
                    source,
                })?;
                Some(aside)
            }
            Err(e) if e.kind() == ErrorKind::NotFound => None,
            Err(source) => {
                return Err(Error::Write {
                    path: self.out.clone(),
                    source,
                })
            }
        };
        if let Err(source) = std::fs::rename(&self.path, &self.out) {
            if let Some(aside) = &aside {
                // Best effort: this rename only undoes the one just made.
                let _ = std::fs::rename(aside, &self.out);
            }
            return Err(Error::Write {
                path: self.out.clone(),
                source,
            });
        }
        self.placed = true;
        if let Some(aside) = aside {
            // The build is in place; a leftover is worth a warning, not a
            // failed build.
            if let Err(e) = std::fs::remove_dir_all(&aside) {
                tracing::warn!(
                    "{}: cannot remove the previous output: {e}",
                    aside.display()
                );
            }
        }
        Ok(())
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        if !self.placed {
            // Nothing in it is anyone's but this failed build's.
            let _ = std::fs::remove_dir_all(&self.path);
        }
    }
}

/// Creates a folder in `parent` named after `out` and `role`
/// (`.public.tidings-new-1234-0`) that did not exist before.
fn new_folder(parent: &Path, out: &Path, role: &str) -> Result<PathBuf> {
    let name = out.file_name().unwrap_or_default().to_string_lossy();
    let pid = std::process::id();
    let mut attempt = 0;
    loop {
        let path = parent.join(format!(".{name}.tidings-{role}-{pid}-{attempt}"));
        match std::fs::create_dir(&path) {
            Ok(()) => return Ok(path),
            // Left by a build that was killed, or the same name in use.
            Err(e) if e.kind() == ErrorKind::AlreadyExists => attempt += 1,
            Err(source) => return Err(Error::Write { path, source }),
        }
    }
}

/// Writes the `_headers` file for the planned `documents` and the static
/// files (path and content type), dated like the newest document so that
/// its time too depends on the content alone.
pub fn write_headers<C>(
    out: &Path,
    documents: &[Planned<C>],
    statics: &[(&str, &str)],
    cache_control: &str,
    newest: Option<DateTime<Utc>>,
) -> Result<()> {
    let path = out.join(HEADERS_FILE);
    let mut file = create_file(&path, "")?;
    let mut rules = headers_file(documents, cache_control);
    for (static_path, content_type) in statics {
        let _ = write!(
            rules,
            "{static_path}\n  Content-Type: {content_type}\n  Cache-Control: {cache_control}\n  \
             X-Content-Type-Options: nosniff\n"
        );
    }
    file.write_all(rules.as_bytes())
        .map_err(write_error(&path, ""))?;
    finish_file(&path, "", file)?;
    match newest {
        Some(newest) => set_mtime(&path, newest),
        None => Ok(()),
    }
}

/// Writes the manifest of the `documents` written under `out`
/// ([`websub::MANIFEST_FILE`]): the digest of each, read back from its
/// file, with the site's URL and hubs, for `tidings ping` after the next
/// build. Dated like `_headers`. It is no document of the site, so
/// `_headers` does not list it.
pub fn write_manifest(
    out: &Path,
    documents: &[Planned],
    site: &Site,
    newest: Option<DateTime<Utc>>,
) -> Result<()> {
    let mut digests = BTreeMap::new();
    for document in documents {
        let path = out.join(layout::file_path(&document.path));
        let read = |source: std::io::Error| Error::Output {
            path: path.clone(),
            message: format!("cannot read the file back for the manifest: {source}"),
        };
        let digest = Document::digest_of_reader(File::open(&path).map_err(read)?).map_err(read)?;
        digests.insert(document.path.clone(), digest);
    }
    let manifest = Manifest {
        base_url: site.base_url.to_string(),
        hubs: site.hubs.iter().map(ToString::to_string).collect(),
        documents: digests,
    };
    let path = out.join(websub::MANIFEST_FILE);
    let mut file = create_file(&path, "")?;
    file.write_all(manifest.to_json().as_bytes())
        .map_err(write_error(&path, ""))?;
    finish_file(&path, "", file)?;
    match newest {
        Some(newest) => set_mtime(&path, newest),
        None => Ok(()),
    }
}

/// The `_headers` rules: content type, caching and the headers the server
/// sends, per path of the layout, in path order.
pub fn headers_file<C>(documents: &[Planned<C>], cache_control: &str) -> String {
    let mut rules: Vec<&Planned<C>> = documents.iter().collect();
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

/// Creates the file at `path` plus `suffix`, which must not exist, and its
/// folders.
fn create_file(path: &Path, suffix: &str) -> Result<BufWriter<File>> {
    let file = sibling(path, suffix);
    let fail = |source| Error::Write {
        path: file.clone(),
        source,
    };
    if let Some(parent) = file.parent() {
        std::fs::create_dir_all(parent).map_err(fail)?;
    }
    // A new file, never an existing one nor where a symlink points.
    let created = OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&file)
        .map_err(fail)?;
    Ok(BufWriter::with_capacity(64 * 1024, created))
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

#[cfg(test)]
mod tests {
    use super::*;

    fn when() -> DateTime<Utc> {
        DateTime::from_timestamp(1_716_508_800, 0).unwrap()
    }

    /// The catalog's variants of `text`: one piece into each encoder.
    fn compressed_whole(text: &[u8]) -> (Vec<u8>, Vec<u8>) {
        let mut gzip = catalog::gzip_writer(Vec::new());
        gzip.write_all(text).unwrap();
        let mut brotli = catalog::brotli_writer(Vec::new(), Some(text.len()));
        brotli.write_all(text).unwrap();
        (gzip.finish().unwrap(), brotli.into_inner())
    }

    /// Writes `pieces` as one document, flushing after each, then writes it
    /// whole; returns both folders' identity, gzip and brotli bytes.
    fn flushed_and_whole(pieces: &[String]) -> [[Vec<u8>; 3]; 2] {
        let dir = tempfile::tempdir().unwrap();
        let mut flushed =
            DocumentFile::new(&dir.path().join("a"), "/x.txt", Compression::On, when());
        for piece in pieces {
            assert!(flushed.push(piece) >= piece.len());
            flushed.flush().unwrap();
            assert_eq!(flushed.held(), 0);
        }
        assert_eq!(flushed.finish().unwrap(), 3);
        let whole = pieces.concat();
        assert_eq!(
            write_document(
                &dir.path().join("b"),
                "/x.txt",
                &whole,
                Compression::On,
                when()
            )
            .unwrap(),
            3
        );
        ["a", "b"].map(|folder| {
            ["x.txt", "x.txt.gz", "x.txt.br"]
                .map(|file| std::fs::read(dir.path().join(folder).join(file)).unwrap())
        })
    }

    #[test]
    fn a_document_flushed_piece_by_piece_compresses_as_the_catalog_does() {
        let pieces: Vec<String> = (0..300)
            .map(|i| format!("<entry>{i} {}</entry>\n", "word ".repeat(i % 40)))
            .collect();
        let [flushed, whole] = flushed_and_whole(&pieces);
        assert!(flushed == whole);
        let (gzip, brotli) = compressed_whole(&flushed[0]);
        assert!(flushed[0] == pieces.concat().as_bytes());
        assert!(flushed[1] == gzip, "gzip differs from the catalog's");
        assert!(flushed[2] == brotli, "brotli differs from the catalog's");
    }

    #[test]
    fn a_document_larger_than_a_piece_is_compressed_in_pieces() {
        let pieces: Vec<String> = (0..40)
            .map(|i| format!("{i}:{}\n", "x y z ".repeat(5_000 + i)))
            .collect();
        let [flushed, whole] = flushed_and_whole(&pieces);
        assert!(flushed[0].len() > 2 * STAGED);
        assert!(flushed[0] == whole[0]);
        let mut gunzipped = Vec::new();
        flate2::read::GzDecoder::new(&flushed[1][..])
            .read_to_end(&mut gunzipped)
            .unwrap();
        assert!(gunzipped == flushed[0]);
        let mut unbrotlied = Vec::new();
        brotli::Decompressor::new(&flushed[2][..], 4096)
            .read_to_end(&mut unbrotlied)
            .unwrap();
        assert!(unbrotlied == flushed[0]);
    }

    #[test]
    fn a_file_that_exists_is_never_written_over() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("x.txt"), "there before").unwrap();
        let err = write_document(dir.path(), "/x.txt", "new", Compression::Off, when());
        assert!(matches!(err, Err(Error::Write { .. })), "{err:?}");
        assert_eq!(
            std::fs::read_to_string(dir.path().join("x.txt")).unwrap(),
            "there before"
        );
    }

    #[test]
    fn staging_is_removed_unless_placed_and_then_replaces_the_output() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("public");
        let seeds = dir.path().join("seeds");
        std::fs::create_dir_all(out.join("old")).unwrap();

        let dropped = Staging::beside(&out, &seeds).unwrap();
        std::fs::write(dropped.path().join("half.txt"), "half").unwrap();
        drop(dropped);
        let names = |dir: &Path| {
            let mut names: Vec<_> = std::fs::read_dir(dir)
                .unwrap()
                .map(|e| e.unwrap().file_name().into_string().unwrap())
                .collect();
            names.sort();
            names
        };
        assert_eq!(names(dir.path()), ["public"]);
        assert_eq!(names(&out), ["old"]);

        let placed = Staging::beside(&out, &seeds).unwrap();
        std::fs::write(placed.path().join("new.txt"), "new").unwrap();
        placed.place().unwrap();
        assert_eq!(names(dir.path()), ["public"]);
        assert_eq!(names(&out), ["new.txt"]);
    }

    #[test]
    fn an_out_path_that_is_a_file_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("public");
        std::fs::write(&out, "a file").unwrap();
        let err = Staging::beside(&out, &dir.path().join("seeds")).unwrap_err();
        assert!(matches!(err, Error::Output { .. }), "{err:?}");
        assert_eq!(std::fs::read_to_string(&out).unwrap(), "a file");
    }
}
