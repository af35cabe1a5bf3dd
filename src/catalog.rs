//! The catalog: every published document, ready to send.
//!
//! Built once per content change by [`publish`](crate::publish), then only
//! read: the HTTP server looks documents up by path. A document carries its
//! bytes, its precompressed variants and its validators, so the server
//! renders and compresses nothing. The catalog knows nothing of seeds,
//! topics or formats. (The static build writes the same documents without
//! holding them all: see [`build`](crate::build).)

use std::collections::BTreeMap;
use std::io::Write;
use std::sync::Arc;

use bytes::Bytes;
use chrono::{DateTime, Utc};

use crate::cores;
use crate::diagnostic::Diagnostic;

// Levels chosen by measurement on a 174 KB Atom feed of 50 full entries
// (BENCHMARKS.md): gzip 6 gives 14,094 bytes in ~4 ms, 9 only 1% less for
// 50% more time; brotli 5 gives 13,957 bytes in ~8 ms, while 11 saves
// another 18% for 60 times the time (~475 ms), which a reload cannot afford
// when a new article changes a dozen documents.
const GZIP_LEVEL: u32 = 6;
const BROTLI_QUALITY: u32 = 5;
/// Not smaller: at qualities 5 to 9 a window of 2^16 or less makes the
/// encoder pick its "forgetful chain" hasher, whose set-up costs about
/// 6 ms per document whatever its size; at 2^17 it uses the plain one,
/// and a 4.8 KB article page takes 0.3 ms and compresses slightly better
/// (measured, BENCHMARKS.md "Brotli's window").
const BROTLI_MIN_WINDOW: u32 = 17;
const BROTLI_MAX_WINDOW: u32 = 22;

/// Whether documents get their gzip and brotli variants. Serving always
/// wants them; a static build for a host that compresses by itself, or a
/// benchmark of the rest of the pipeline, can skip them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    On,
    Off,
    /// gzip now, brotli just after: a reload swaps in new content as soon
    /// as it has its gzip variant, then adds brotli
    /// ([`Catalog::with_brotli`]). At the chosen levels the two are within
    /// 1% in size, so a brotli client served gzip meanwhile loses nothing,
    /// while brotli is most of a reload's work.
    GzipFirst,
    /// gzip only: for documents made on demand ([`Shelf`]), where
    /// brotli would take two to three times gzip's time on every first
    /// request of a rarely read page, and room in the cache.
    GzipOnly,
}

impl Compression {
    pub fn gzip(self) -> bool {
        self != Compression::Off
    }

    pub fn brotli(self) -> bool {
        self == Compression::On
    }
}

/// A content coding the catalog holds a variant in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Encoding {
    Identity,
    Gzip,
    Brotli,
}

impl Encoding {
    /// The `Content-Encoding` token; `None` for identity.
    pub fn token(self) -> Option<&'static str> {
        match self {
            Encoding::Identity => None,
            Encoding::Gzip => Some("gzip"),
            Encoding::Brotli => Some("br"),
        }
    }
}

/// One document of the URL layout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Document {
    /// `Content-Type` header value.
    pub content_type: &'static str,
    /// Feeds and the OPML list may be fetched from any origin.
    pub cross_origin: bool,
    /// The document itself.
    pub identity: Bytes,
    /// The same bytes, gzip-compressed (absent when built without
    /// compression).
    pub gzip: Option<Bytes>,
    /// The same bytes, brotli-compressed (absent when built without
    /// compression).
    pub brotli: Option<Bytes>,
    /// Hex digest of `identity`; the strong ETag of every variant derives
    /// from it (see [`Document::etag`]).
    pub digest: String,
    /// When the content last changed, whole seconds.
    pub last_modified: DateTime<Utc>,
}

impl Document {
    /// Builds a document, computing its digest and compressed variants.
    /// `last_modified` is truncated to whole seconds, as HTTP dates are.
    pub fn new(
        content_type: &'static str,
        cross_origin: bool,
        body: impl Into<Bytes>,
        last_modified: DateTime<Utc>,
    ) -> Self {
        Self::build(
            content_type,
            cross_origin,
            body.into(),
            last_modified,
            Compression::On,
        )
    }

    /// Builds a document with or without its compressed variants.
    pub fn build(
        content_type: &'static str,
        cross_origin: bool,
        identity: Bytes,
        last_modified: DateTime<Utc>,
        compression: Compression,
    ) -> Self {
        let digest = Self::digest_of(&identity);

        Self {
            content_type,
            cross_origin,
            gzip: compression.gzip().then(|| gzip(&identity).into()),
            brotli: compression.brotli().then(|| brotli(&identity).into()),
            identity,
            digest,
            last_modified: DateTime::from_timestamp(last_modified.timestamp(), 0)
                .expect("a timestamp taken from a DateTime is in range"),
        }
    }

    /// The digest that identifies `bytes` in ETags: 128 bits of XXH3, which
    /// is fast and more than enough to tell versions of a document apart.
    pub fn digest_of(bytes: &[u8]) -> String {
        format!("{:032x}", xxhash_rust::xxh3::xxh3_128(bytes))
    }

    /// [`Document::digest_of`] the bytes `reader` gives, read a piece at a
    /// time (a static build's files, which need not fit in memory).
    pub fn digest_of_reader(mut reader: impl std::io::Read) -> std::io::Result<String> {
        let mut hasher = xxhash_rust::xxh3::Xxh3::new();
        let mut piece = vec![0; 64 * 1024];
        loop {
            match reader.read(&mut piece) {
                Ok(0) => return Ok(format!("{:032x}", hasher.digest128())),
                Ok(read) => hasher.update(&piece[..read]),
                Err(error) if error.kind() == std::io::ErrorKind::Interrupted => {}
                Err(error) => return Err(error),
            }
        }
    }

    /// The bytes of one variant, if the document has it (identity always).
    pub fn body(&self, encoding: Encoding) -> Option<&Bytes> {
        match encoding {
            Encoding::Identity => Some(&self.identity),
            Encoding::Gzip => self.gzip.as_ref(),
            Encoding::Brotli => self.brotli.as_ref(),
        }
    }

    /// The strong ETag of one variant, quoted. Each content coding is its own
    /// representation (RFC 9110 §8.8.3), so the compressed ones carry a
    /// suffix; all share the digest, so a tag received with any variant
    /// identifies the same content.
    pub fn etag(&self, encoding: Encoding) -> String {
        match encoding.token() {
            None => format!("\"{}\"", self.digest),
            Some(token) => format!("\"{}-{token}\"", self.digest),
        }
    }
}

/// Every document by path, plus what `/healthz` reports.
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    documents: BTreeMap<String, Document>,
    /// Counts catalogs built by one process; the first is 1.
    pub generation: u64,
    /// Articles published (after rejects, drafts and duplicates).
    pub articles: usize,
    /// Everything ingest had to say, errors and warnings, sorted by file.
    pub diagnostics: Vec<Diagnostic>,
    /// The documents made when first asked for, of the same generation.
    pub shelf: Option<Arc<dyn Shelf>>,
}

/// Documents of a catalog that are made when first asked for rather than
/// held: there are too many to render at every reload (the archive
/// documents of 100,000 articles), and each is rarely asked for. An
/// implementation keeps what it made in a bounded cache, and answers with
/// the bytes the static build writes for the same path.
pub trait Shelf: Send + Sync + std::fmt::Debug {
    /// The document at `path`, or `None` when there is none. May read
    /// files and render: call it where blocking is allowed.
    fn find(&self, path: &str) -> Option<Shelved>;

    /// For the next generation's shelf to take over this one's cache.
    fn as_any(&self) -> &dyn std::any::Any;
}

/// A document from a [`Shelf`].
#[derive(Debug, Clone)]
pub struct Shelved {
    pub document: Arc<Document>,
    /// A `Cache-Control` of its own, for documents that never change
    /// (`None`: the catalog's).
    pub cache_control: Option<String>,
}

impl Catalog {
    pub fn new(generation: u64, articles: usize, diagnostics: Vec<Diagnostic>) -> Self {
        Self {
            documents: BTreeMap::new(),
            generation,
            articles,
            diagnostics,
            shelf: None,
        }
    }

    /// Adds or replaces the document at `path` (a path of the URL layout,
    /// starting with `/`).
    pub fn insert(&mut self, path: impl Into<String>, document: Document) {
        self.documents.insert(path.into(), document);
    }

    /// Removes the document at `path` (a static file gone from its folder).
    pub fn remove(&mut self, path: &str) -> Option<Document> {
        self.documents.remove(path)
    }

    /// The document at an exact path of the URL layout.
    pub fn get(&self, path: &str) -> Option<&Document> {
        self.documents.get(path)
    }

    /// Every document in path order.
    pub fn documents(&self) -> impl ExactSizeIterator<Item = (&str, &Document)> {
        self.documents.iter().map(|(p, d)| (p.as_str(), d))
    }

    pub fn len(&self) -> usize {
        self.documents.len()
    }

    pub fn is_empty(&self) -> bool {
        self.documents.is_empty()
    }

    /// Seed files that were not published.
    pub fn rejected(&self) -> impl Iterator<Item = &Diagnostic> {
        self.diagnostics.iter().filter(|d| d.is_error())
    }

    /// Paths of the documents whose bytes differ from `previous`'s, or that
    /// `previous` lacks, in path order: what a change of catalog changed
    /// (documents that went away are not in it).
    pub fn changed_since<'a>(&'a self, previous: &'a Catalog) -> impl Iterator<Item = &'a str> {
        self.documents().filter_map(|(path, document)| {
            let same = previous
                .get(path)
                .is_some_and(|before| before.digest == document.digest);
            (!same).then_some(path)
        })
    }

    /// The same catalog with a brotli variant for every document that has
    /// gzip but not brotli (built with [`Compression::GzipFirst`]), made on
    /// every core; `None` when none lacks it.
    pub fn with_brotli(&self) -> Option<Catalog> {
        let lacking: Vec<&str> = self
            .documents()
            .filter(|(_, d)| d.gzip.is_some() && d.brotli.is_none())
            .map(|(path, _)| path)
            .collect();
        if lacking.is_empty() {
            return None;
        }
        let compressed = cores::as_free(&lacking, |path| {
            (*path, brotli(&self.documents[*path].identity))
        });
        let mut catalog = self.clone();
        for (path, bytes) in compressed {
            if let Some(document) = catalog.documents.get_mut(path) {
                document.brotli = Some(bytes.into());
            }
        }
        Some(catalog)
    }
}

/// A gzip encoder at the catalog's level into `out`.
pub(crate) fn gzip_writer<W: Write>(out: W) -> flate2::write::GzEncoder<W> {
    // GzBuilder writes mtime 0 and no file name: the output depends on the
    // input alone, so builds stay byte-identical.
    flate2::GzBuilder::new().write(out, flate2::Compression::new(GZIP_LEVEL))
}

/// A brotli encoder at the catalog's quality into `out`, with a window for
/// a document of `len` bytes, or of any size.
pub(crate) fn brotli_writer<W: Write>(out: W, len: Option<usize>) -> brotli::CompressorWriter<W> {
    let window = len.map_or(BROTLI_MAX_WINDOW, brotli_window);
    brotli::CompressorWriter::new(out, 4096, BROTLI_QUALITY, window)
}

/// The smallest brotli window (log2 of its size) that holds `len` bytes,
/// but not under [`BROTLI_MIN_WINDOW`]: a larger one compresses no better,
/// and the encoder clears its whole ring buffer and hash tables for every
/// document, which for the maximum window cost more than compressing a
/// feed of 50 entries.
fn brotli_window(len: usize) -> u32 {
    let needed = usize::BITS - len.saturating_add(16).leading_zeros();
    needed.clamp(BROTLI_MIN_WINDOW, BROTLI_MAX_WINDOW)
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut encoder = gzip_writer(Vec::with_capacity(data.len() / 3));
    encoder
        .write_all(data)
        .expect("writing to a Vec cannot fail");
    encoder.finish().expect("writing to a Vec cannot fail")
}

fn brotli(data: &[u8]) -> Vec<u8> {
    let mut writer = brotli_writer(Vec::with_capacity(data.len() / 3), Some(data.len()));
    writer
        .write_all(data)
        .expect("writing to a Vec cannot fail");
    writer.into_inner()
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::*;

    fn document(body: &str) -> Document {
        let when = DateTime::parse_from_rfc3339("2024-05-24T10:15:30.750Z").unwrap();
        Document::new("text/plain", false, body.to_string(), when.to_utc())
    }

    #[test]
    fn variants_decode_to_the_identity_bytes() {
        let doc = document(&"tidings ".repeat(1000));
        let mut gunzipped = Vec::new();
        flate2::read::GzDecoder::new(&doc.gzip.as_ref().unwrap()[..])
            .read_to_end(&mut gunzipped)
            .unwrap();
        assert_eq!(gunzipped, doc.identity);
        let mut unbrotlied = Vec::new();
        brotli::Decompressor::new(&doc.brotli.as_ref().unwrap()[..], 4096)
            .read_to_end(&mut unbrotlied)
            .unwrap();
        assert_eq!(unbrotlied, doc.identity);
        assert!(doc.gzip.as_ref().unwrap().len() < doc.identity.len() / 10);
    }

    #[test]
    fn same_bytes_same_validators_and_variants() {
        assert_eq!(document("a"), document("a"));
        assert_ne!(document("a").digest, document("b").digest);
    }

    #[test]
    fn etags_are_strong_and_differ_per_encoding_but_share_the_digest() {
        let doc = document("a");
        let tags = [Encoding::Identity, Encoding::Gzip, Encoding::Brotli].map(|e| doc.etag(e));
        assert!(tags
            .iter()
            .all(|t| t.starts_with('"') && t.contains(&doc.digest)));
        assert_ne!(tags[0], tags[1]);
        assert_ne!(tags[1], tags[2]);
    }

    #[test]
    fn brotli_follows_for_documents_built_gzip_first() {
        let body = "tidings ".repeat(1000);
        let when = DateTime::parse_from_rfc3339("2024-05-24T10:15:30Z").unwrap();
        let first = Document::build(
            "text/plain",
            false,
            body.clone().into(),
            when.to_utc(),
            Compression::GzipFirst,
        );
        assert!(first.gzip.is_some() && first.brotli.is_none());
        let mut catalog = Catalog::new(1, 1, Vec::new());
        catalog.insert("/a", first.clone());
        catalog.insert("/b", document("already whole"));
        let full = catalog.with_brotli().expect("one document lacks brotli");
        assert_eq!(full.get("/a"), Some(&document(&body)));
        assert_eq!(full.get("/b"), catalog.get("/b"));
        assert!(full.with_brotli().is_none());
    }

    #[test]
    fn changed_documents_are_new_or_have_new_bytes() {
        let mut before = Catalog::new(1, 1, Vec::new());
        before.insert("/kept", document("same"));
        before.insert("/edited", document("old"));
        before.insert("/removed", document("gone"));
        let mut after = Catalog::new(2, 1, Vec::new());
        after.insert("/kept", document("same"));
        after.insert("/edited", document("new"));
        after.insert("/added", document("fresh"));
        let changed: Vec<&str> = after.changed_since(&before).collect();
        assert_eq!(changed, ["/added", "/edited"]);
        assert_eq!(after.changed_since(&after).count(), 0);
    }

    #[test]
    fn a_digest_read_in_pieces_is_the_digest_of_the_whole() {
        for len in [0, 1, 240, 65_536, 65_537, 300_001] {
            let bytes: Vec<u8> = (0..len).map(|i| (i * 31 % 251) as u8).collect();
            assert_eq!(
                Document::digest_of_reader(&bytes[..]).unwrap(),
                Document::digest_of(&bytes),
                "{len} bytes"
            );
        }
    }

    #[test]
    fn last_modified_has_whole_seconds() {
        assert_eq!(document("a").last_modified.timestamp_subsec_nanos(), 0);
    }
}
