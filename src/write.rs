//! The static outlet: the catalog as files, for CI, object storage and CDNs.
//!
//! Every document is written at its place in the URL layout (directories get
//! `index.html`) with the same bytes the server sends, plus `.gz` and `.br`
//! siblings for hosts that serve precompressed files, a `_headers` file for
//! hosts that read one, and file times set to each document's Last-Modified.
//! Nothing here depends on the clock or on the order of anything but paths,
//! so two builds of the same input are byte-identical.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use filetime::FileTime;

use crate::catalog::{Catalog, Document, Encoding};
use crate::error::{Error, Result};
use crate::layout;

/// Name of the header rules file (Netlify and Cloudflare Pages syntax).
pub const HEADERS_FILE: &str = "_headers";

/// Writes every document of `catalog` under `out`; returns the number of
/// files written. Files of earlier builds that the catalog no longer has are
/// left alone: build into an empty folder to publish exactly the catalog.
pub fn write_catalog(catalog: &Catalog, out: &Path, cache_control: &str) -> Result<usize> {
    let mut written = 0;
    for (path, document) in catalog.documents() {
        let file = out.join(layout::file_path(path));
        for (encoding, suffix) in [
            (Encoding::Identity, ""),
            (Encoding::Gzip, ".gz"),
            (Encoding::Brotli, ".br"),
        ] {
            let Some(body) = document.body(encoding) else {
                continue;
            };
            let mut name = file.clone().into_os_string();
            name.push(suffix);
            write_file(&PathBuf::from(name), body, document)?;
            written += 1;
        }
    }
    let headers = out.join(HEADERS_FILE);
    let fail = |source| Error::Write {
        path: headers.clone(),
        source,
    };
    std::fs::write(&headers, headers_file(catalog, cache_control)).map_err(fail)?;
    // Dated like the newest document, so that its time too depends on the
    // content alone.
    if let Some(newest) = catalog.documents().map(|(_, d)| d.last_modified).max() {
        let mtime = FileTime::from_unix_time(newest.timestamp(), 0);
        filetime::set_file_mtime(&headers, mtime).map_err(fail)?;
    }
    Ok(written + 1)
}

fn write_file(path: &Path, bytes: &[u8], document: &Document) -> Result<()> {
    let fail = |source| Error::Write {
        path: path.to_owned(),
        source,
    };
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(fail)?;
    }
    std::fs::write(path, bytes).map_err(fail)?;
    let mtime = FileTime::from_unix_time(document.last_modified.timestamp(), 0);
    filetime::set_file_mtime(path, mtime).map_err(fail)
}

/// The `_headers` rules: content type, caching and the headers the server
/// sends, per path of the layout.
pub fn headers_file(catalog: &Catalog, cache_control: &str) -> String {
    let mut out = String::new();
    for (path, document) in catalog.documents() {
        let _ = writeln!(out, "{path}");
        let _ = writeln!(out, "  Content-Type: {}", document.content_type);
        let _ = writeln!(out, "  Cache-Control: {cache_control}");
        let _ = writeln!(out, "  X-Content-Type-Options: nosniff");
        if document.cross_origin {
            let _ = writeln!(out, "  Access-Control-Allow-Origin: *");
        }
    }
    out
}
