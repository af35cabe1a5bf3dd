//! Placeholder until ingest lands.

use std::path::Path;

use crate::config::Config;
use crate::diagnostic::Diagnostic;
use crate::error::Result;
use crate::model::Article;

/// What a seeds folder yields.
#[derive(Debug, Default)]
pub struct Ingested {
    /// Published articles, sorted by source path, ids unique.
    pub articles: Vec<Article>,
    /// Errors (file not published) and warnings, sorted by path and line.
    pub diagnostics: Vec<Diagnostic>,
}

pub fn load(_seeds_dir: &Path, _config: &Config) -> Result<Ingested> {
    unimplemented!("ingest")
}
