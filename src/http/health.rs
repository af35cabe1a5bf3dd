//! `/healthz`, built when a catalog is swapped in or a reload is reported,
//! never per request, and bounded whatever the seeds hold: counts, plus the
//! first [`SHOWN_PROBLEMS`] rejected files by their path under the seeds
//! folder and line. No free-text message (it may quote a file), no
//! absolute path: the endpoint is often reachable by more people than the
//! server's log, which, like `tidings check`, keeps the full list.

use std::path::Path;

use axum::http::header::{CACHE_CONTROL, CONTENT_LENGTH, CONTENT_TYPE, X_CONTENT_TYPE_OPTIONS};
use axum::http::{HeaderMap, HeaderValue, Response};
use bytes::Bytes;

use super::{Body, JSON, NOSNIFF, NO_STORE};
use crate::catalog::Catalog;
use crate::ingest;
use crate::reload::ReloadStatus;

/// How many rejected files `/healthz` names.
pub const SHOWN_PROBLEMS: usize = 10;

/// The answer to `/healthz`, ready to send.
#[derive(Debug)]
pub struct Health {
    body: Bytes,
    headers: HeaderMap,
}

impl Health {
    pub fn new(catalog: &Catalog, reload: &ReloadStatus, seeds: &SeedsFolder) -> Self {
        let rejected = catalog.rejected().count();
        let problems: Vec<_> = catalog
            .rejected()
            .take(SHOWN_PROBLEMS)
            .map(|d| serde_json::json!({ "path": seeds.show(&d.path), "line": d.line }))
            .collect();
        let body = serde_json::json!({
            "status": if reload.last_error.is_some() { "degraded" } else { "ok" },
            "generation": catalog.generation,
            "articles": catalog.articles,
            "documents": catalog.len(),
            "rejected": rejected,
            "problems": problems,
            "warnings": catalog.diagnostics.len() - rejected,
            "last_reload": reload.last_reload,
            "last_error": reload.last_error,
        });
        let mut text = body.to_string();
        text.push('\n');
        let mut headers = HeaderMap::with_capacity(4);
        headers.insert(CONTENT_TYPE, JSON);
        headers.insert(CONTENT_LENGTH, HeaderValue::from(text.len()));
        headers.insert(CACHE_CONTROL, NO_STORE);
        headers.insert(X_CONTENT_TYPE_OPTIONS, NOSNIFF);
        Self {
            body: Bytes::from(text),
            headers,
        }
    }

    pub fn response(&self, head: bool) -> Response<Body> {
        let body = if head {
            Body::default()
        } else {
            Body::new(self.body.clone())
        };
        let mut response = Response::new(body);
        *response.headers_mut() = self.headers.clone();
        response
    }
}

/// How `/healthz` names a seed file: by its path under the seeds folder,
/// after the folder's own name (`seeds/world/kyiv.txt` whether the server
/// was given `seeds` or `/srv/news/seeds`).
#[derive(Debug, Clone)]
pub struct SeedsFolder {
    /// How diagnostics spell the folder, up to the path under it.
    prefix: String,
    /// The folder's last component, if it has one.
    name: Option<String>,
}

impl SeedsFolder {
    pub fn new(seeds_dir: &Path) -> Self {
        Self {
            prefix: ingest::display_path(seeds_dir, ""),
            name: seeds_dir
                .file_name()
                .map(|name| name.to_string_lossy().into_owned()),
        }
    }

    /// `path` as a diagnostic spells it, shown without what lies above the
    /// seeds folder; a path from elsewhere shows its file name only.
    fn show(&self, path: &str) -> String {
        match (path.strip_prefix(&self.prefix), &self.name) {
            (Some(under), Some(name)) => format!("{name}/{under}"),
            (Some(under), None) => under.to_owned(),
            (None, _) => path.rsplit('/').next().unwrap_or_default().to_owned(),
        }
    }
}

/// The repository's layout: `--seeds seeds`.
impl Default for SeedsFolder {
    fn default() -> Self {
        Self::new(Path::new("seeds"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostic::Diagnostic;

    #[test]
    fn paths_are_shown_under_the_seeds_folder() {
        let absolute = SeedsFolder::new(Path::new("/srv/news/seeds/"));
        assert_eq!(
            absolute.show("/srv/news/seeds/world/kyiv.txt"),
            "seeds/world/kyiv.txt"
        );
        assert_eq!(absolute.show("/etc/passwd"), "passwd");
        let relative = SeedsFolder::default();
        assert_eq!(relative.show("seeds/a.txt"), "seeds/a.txt");
        let current = SeedsFolder::new(Path::new("."));
        assert_eq!(current.show("./a/b.md"), "a/b.md");
        let root = SeedsFolder::new(Path::new("/"));
        assert_eq!(root.show("/a.txt"), "a.txt");
    }

    #[test]
    fn many_rejected_files_give_a_small_answer() {
        let seeds = SeedsFolder::new(Path::new("/srv/news/seeds"));
        let diagnostics = (0..50_000)
            .map(|i| {
                Diagnostic::error(
                    format!("/srv/news/seeds/bad-{i:05}.txt"),
                    7,
                    format!("cannot read a date from `secret contents {i}`"),
                )
            })
            .chain([Diagnostic::warning("/srv/news/seeds/ok.txt", 1, "w")])
            .collect();
        let catalog = Catalog::new(3, 0, diagnostics);
        let health = Health::new(&catalog, &ReloadStatus::default(), &seeds);
        assert!(health.body.len() < 2_000, "{}", health.body.len());
        let text = std::str::from_utf8(&health.body).unwrap();
        assert!(!text.contains("/srv") && !text.contains("secret"), "{text}");
        let json: serde_json::Value = serde_json::from_str(text).unwrap();
        assert_eq!(json["rejected"], 50_000);
        assert_eq!(json["warnings"], 1);
        let problems = json["problems"].as_array().unwrap();
        assert_eq!(problems.len(), SHOWN_PROBLEMS);
        assert_eq!(
            problems[0],
            serde_json::json!({ "path": "seeds/bad-00000.txt", "line": 7 })
        );
        assert_eq!(
            health.headers[CONTENT_LENGTH],
            health.body.len().to_string()
        );
    }
}
