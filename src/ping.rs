//! `tidings ping`: after a static build is deployed, tell the WebSub hubs
//! which feeds changed, as `serve` does after each reload.
//!
//! A build writes the digest of every document into its output folder
//! (`tidings-manifest.json`, see [`Manifest`]), with the site's URL and the
//! hubs its feeds advertise. The ping compares that manifest with the one
//! of the deployment before (kept by CI as an artifact, or fetched from the
//! deployed site before it is replaced) and notifies every hub of each
//! subscription feed whose digest differs, with the retries of
//! [`websub::Policy`]. Without a previous manifest it refuses, unless asked
//! to notify every feed (a first deployment, or a lost artifact: harmless,
//! as hubs only fetch the feeds again).

use std::path::{Path, PathBuf};

use crate::websub::{self, Manifest, Policy};

/// What a ping did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pinged {
    /// Hubs told.
    pub hubs: usize,
    /// Feed URLs each hub was told of.
    pub urls: usize,
    /// Notifications given up (refused, or failed on every attempt).
    pub failed: usize,
}

impl std::fmt::Display for Pinged {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (self.hubs, self.urls) {
            (0, _) => write!(f, "no hub is configured (site.hub): nothing to ping"),
            (_, 0) => write!(f, "no feed changed: nothing to ping"),
            (hubs, urls) if self.failed == 0 => {
                write!(f, "{hubs} hub(s) accepted {urls} changed feed URL(s) each")
            }
            (hubs, urls) => write!(
                f,
                "{} of {} notification(s) of {urls} changed feed URL(s) to {hubs} hub(s) failed",
                self.failed,
                hubs * urls
            ),
        }
    }
}

/// Why a ping could not start.
#[derive(Debug, thiserror::Error)]
pub enum PingError {
    #[error("cannot read the manifest {}: {source} (write it with `tidings build --out`)", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}: not a tidings manifest: {message}", path.display())]
    Invalid { path: PathBuf, message: String },
    #[error(
        "no previous manifest{}: pass --previous with the manifest of the deployment before, \
         or --all-if-no-previous to notify every feed",
        previous.as_ref().map(|p| format!(" at {}", p.display())).unwrap_or_default()
    )]
    NoPrevious { previous: Option<PathBuf> },
}

/// Notifies the hubs of the build in `out` of every subscription feed that
/// changed since the manifest at `previous`. Without one (no path, or no
/// file there) every feed is notified if `all_if_no_previous`, else it is
/// an error.
pub fn ping(
    out: &Path,
    previous: Option<&Path>,
    all_if_no_previous: bool,
    policy: &Policy,
) -> Result<Pinged, PingError> {
    let manifest = read(&out.join(websub::MANIFEST_FILE))?;
    let previous = match previous {
        Some(path) if path.exists() => Some(read(path)?),
        _ if all_if_no_previous => None,
        _ => {
            return Err(PingError::NoPrevious {
                previous: previous.map(Path::to_owned),
            })
        }
    };
    let invalid = |message: String| PingError::Invalid {
        path: out.join(websub::MANIFEST_FILE),
        message,
    };
    let hubs = manifest
        .hubs
        .iter()
        .map(|hub| url::Url::parse(hub).map_err(|error| invalid(format!("hub `{hub}`: {error}"))))
        .collect::<Result<Vec<_>, _>>()?;
    let urls = manifest.changed_feeds(previous.as_ref()).map_err(invalid)?;
    let failed = if hubs.is_empty() || urls.is_empty() {
        0
    } else {
        websub::ping(&hubs, &urls, policy).into_iter().sum()
    };
    Ok(Pinged {
        hubs: hubs.len(),
        urls: urls.len(),
        failed,
    })
}

fn read(path: &Path) -> Result<Manifest, PingError> {
    let text = std::fs::read_to_string(path).map_err(|source| PingError::Read {
        path: path.to_owned(),
        source,
    })?;
    Manifest::from_json(&text).map_err(|message| PingError::Invalid {
        path: path.to_owned(),
        message,
    })
}
