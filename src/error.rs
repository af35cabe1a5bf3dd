//! The library's error type. Every variant names the file it is about, so a
//! message printed by `main` tells the user where to look.
//!
//! Problems with single seed files are not errors but
//! [`Diagnostic`](crate::diagnostic::Diagnostic)s: they never stop a build.

use std::path::PathBuf;

/// Everything that stops tidings from publishing at all.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// There is no config file at the path given (or the default one).
    /// `main` adds how to point to another file or create one.
    #[error("{}: no config file there", path.display())]
    ConfigMissing { path: PathBuf },
    /// The config file could not be read.
    #[error("{}: cannot read the config file: {source}", path.display())]
    ConfigRead {
        path: PathBuf,
        source: std::io::Error,
    },
    /// The config file is not valid TOML, has an unknown key, or a bad value.
    #[error("{}:{line}: {message}", path.display())]
    Config {
        path: PathBuf,
        line: usize,
        message: String,
    },
    /// The seeds folder could not be listed.
    #[error("{}: cannot read the seeds folder: {source}", path.display())]
    Seeds {
        path: PathBuf,
        source: std::io::Error,
    },
    /// `tidings init` found a file where it would write one; it never
    /// overwrites.
    #[error("{}: already exists; tidings init never overwrites a file (move it away or init another folder)", path.display())]
    Exists { path: PathBuf },
    /// The output folder of the static build is not one it may replace.
    #[error("{}: cannot build here: {message}", path.display())]
    Output { path: PathBuf, message: String },
    /// A file of the static build (or of `tidings init`) could not be written.
    #[error("{}: cannot write: {source}", path.display())]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
