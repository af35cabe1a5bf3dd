//! Live reload for `tidings serve`: watch `seeds/` and the config file,
//! rebuild off the request path, swap the whole catalog at once.
//!
//! - A file-system watcher (`notify`: inotify on Linux) reports changed
//!   paths; SIGHUP asks for a full rescan and a config re-read. Events are
//!   debounced: a batch closes after [`QUIET`] without events or
//!   [`MAX_BATCH`] after it opened, so a storm of changes (a `git checkout`,
//!   an rsync) becomes a few rebuilds, and a single save is live well within
//!   a second.
//! - Rebuilds run on one dedicated thread, never on a request. Only changed
//!   files are read and parsed again ([`SeedIndex`]); unchanged documents
//!   keep their bytes, compressed variants and validators, changed ones get
//!   a Last-Modified later than before (see [`publish::catalog`]).
//! - The new catalog replaces the old one in one atomic swap, so a response
//!   never mixes two generations.
//! - The new catalog goes live as soon as its changed documents have their
//!   gzip variants; their brotli variants follow in a second swap of the
//!   same generation a few milliseconds later (brotli is most of a reload's
//!   work, and at the chosen levels it saves 1% over gzip). Meanwhile a
//!   client that prefers brotli gets gzip, with gzip's ETag.
//! - A broken seed is skipped and reported like at start-up. A config that
//!   does not read or validate is logged (file and line) and shown in
//!   `/healthz`; the catalog keeps being built with the last good config, so
//!   editors' new articles still go live while the operator fixes it.

use std::path::PathBuf;
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

use notify::{RecursiveMode, Watcher as _};

use crate::catalog::{Catalog, Compression};
use crate::config::{Config, Http};
use crate::error::Result;
use crate::index::SeedIndex;
use crate::publish;

/// A batch of events closes after this long without another.
pub const QUIET: Duration = Duration::from_millis(50);
/// A batch closes this long after its first event even while events keep
/// coming, so a steady stream of writes cannot postpone a reload forever.
pub const MAX_BATCH: Duration = Duration::from_millis(300);

/// Why a rebuild is wanted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Trigger {
    /// These paths under the seeds folder changed.
    Seeds(Vec<PathBuf>),
    /// The config file changed.
    Config,
    /// Look at everything again (SIGHUP, or the watcher lost events).
    Everything,
}

/// Where a reloader puts the catalogs it builds: whatever serves them (the
/// HTTP server's state, in `tidings serve`). The reloader knows nothing
/// else of it.
pub trait Outlet: Send + 'static {
    /// The catalog being served: the `previous` of the next build, so that
    /// validators only move forward.
    fn served(&self) -> Arc<Catalog>;
    /// Replaces the served catalog at once, and with `http` the caching
    /// settings too (after a config change).
    fn swap_in(&self, catalog: Catalog, http: Option<&Http>);
    /// Records the outcome of the latest reloads, for health checks.
    fn report(&self, status: ReloadStatus);
}

/// The outcome of the latest reloads, as `/healthz` shows it.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct ReloadStatus {
    /// When the catalog being served was built (RFC 3339, server clock).
    pub last_reload: Option<String>,
    /// Why the latest reload failed, until one succeeds (a broken config
    /// keeps the previous catalog serving).
    pub last_error: Option<String>,
}

/// The state of a live site: its config, its parsed seeds and where to
/// swap new catalogs in.
#[derive(Debug)]
pub struct Reloader<O> {
    config_path: PathBuf,
    /// The last config that read and validated.
    config: Config,
    /// Why the config file on disk is not the one in use, until it reads.
    config_error: Option<String>,
    index: SeedIndex,
    outlet: O,
    /// When the served catalog was built.
    last_reload: String,
}

impl<O: Outlet> Reloader<O> {
    /// Reads every seed, builds the first catalog (generation 1) and hands
    /// it to the outlet that `open` makes of it.
    pub fn start(
        config: Config,
        config_path: PathBuf,
        seeds_dir: PathBuf,
        open: impl FnOnce(Catalog, &Config) -> O,
    ) -> Result<Self> {
        let mut index = SeedIndex::new(seeds_dir);
        index.rescan(&config)?;
        let catalog = publish::catalog(
            &config,
            &mut index,
            1,
            None,
            Compression::On,
            chrono::Utc::now(),
        );
        let outlet = open(catalog, &config);
        let last_reload = now();
        outlet.report(ReloadStatus {
            last_reload: Some(last_reload.clone()),
            last_error: None,
        });
        Ok(Self {
            config_path,
            config,
            config_error: None,
            index,
            outlet,
            last_reload,
        })
    }

    /// What the catalogs are swapped into.
    pub fn outlet(&self) -> &O {
        &self.outlet
    }

    /// Applies one batch of triggers: re-reads the config if asked, refreshes
    /// the seeds, and swaps in a new catalog when anything changed. Returns
    /// the generation now served.
    pub fn reload(&mut self, triggers: &[Trigger]) -> u64 {
        let started = Instant::now();
        let everything = triggers.contains(&Trigger::Everything);
        let mut config_changed = false;
        if everything || triggers.contains(&Trigger::Config) {
            match Config::from_file(&self.config_path) {
                Ok(config) => {
                    self.config_error = None;
                    if config != self.config {
                        self.config = config;
                        config_changed = true;
                    }
                }
                Err(error) => {
                    tracing::error!("config not reloaded, still serving the previous one: {error}");
                    self.config_error = Some(error.to_string());
                }
            }
        }
        let mut last_error = self.config_error.clone();

        let seeds: Vec<PathBuf> = triggers
            .iter()
            .filter_map(|t| match t {
                Trigger::Seeds(paths) => Some(paths.iter().cloned()),
                _ => None,
            })
            .flatten()
            .collect();
        let changed = if config_changed {
            self.index.reparse(&self.config)
        } else if everything {
            self.index.rescan(&self.config)
        } else {
            Ok(self.index.refresh(&self.config, &seeds))
        };
        let changed = match changed {
            Ok(changed) => changed,
            Err(error) => {
                tracing::error!("seeds not reloaded: {error}");
                last_error.get_or_insert(error.to_string());
                0
            }
        };

        let previous = self.outlet.served();
        let mut generation = previous.generation;
        if changed > 0 || config_changed {
            // New content goes live with its gzip variants; brotli follows
            // right after (see `Compression::GzipFirst`).
            let catalog = publish::catalog(
                &self.config,
                &mut self.index,
                previous.generation + 1,
                Some(&previous),
                Compression::GzipFirst,
                chrono::Utc::now(),
            );
            for diagnostic in catalog.diagnostics.iter().filter(|d| d.is_error()) {
                tracing::warn!("rejected: {diagnostic}");
            }
            generation = catalog.generation;
            let (articles, documents) = (catalog.articles, catalog.len());
            self.outlet
                .swap_in(catalog, config_changed.then_some(&self.config.http));
            tracing::info!(
                generation,
                changed_files = changed,
                articles,
                documents,
                "reloaded in {:.1?}",
                started.elapsed()
            );
            if let Some(whole) = self.outlet.served().with_brotli() {
                self.outlet.swap_in(whole, None);
                tracing::debug!(generation, "brotli variants in {:.1?}", started.elapsed());
            }
        }
        if changed > 0 || config_changed {
            self.last_reload = now();
        }
        self.outlet.report(ReloadStatus {
            last_reload: Some(self.last_reload.clone()),
            last_error,
        });
        generation
    }
}

/// Watches the seeds folder and the config file and runs reloads on a
/// dedicated thread until the returned [`Watch`] is dropped. SIGHUP (on
/// Unix, inside a Tokio runtime) forces a full reload.
pub fn watch<O: Outlet>(mut reloader: Reloader<O>) -> notify::Result<Watch> {
    let (sender, receiver) = mpsc::channel::<Trigger>();

    let config_path = reloader.config_path.clone();
    let config_name = config_path.file_name().map(|n| n.to_os_string());
    let config_dir = match config_path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let config_dir = std::fs::canonicalize(&config_dir).unwrap_or(config_dir);
    let seeds_dir = reloader.index.seeds_dir().to_path_buf();
    let seeds_root = std::fs::canonicalize(&seeds_dir).unwrap_or(seeds_dir);

    let events = sender.clone();
    let (watched_seeds, watched_config_dir) = (seeds_root.clone(), config_dir.clone());
    let mut watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        let event = match event {
            Ok(event) => event,
            Err(error) => {
                tracing::warn!("file watcher: {error}; rescanning everything");
                let _ = events.send(Trigger::Everything);
                return;
            }
        };
        if event.need_rescan() {
            let _ = events.send(Trigger::Everything);
            return;
        }
        if matches!(event.kind, notify::EventKind::Access(_)) {
            return;
        }
        let (seeds, others): (Vec<PathBuf>, Vec<PathBuf>) = event
            .paths
            .into_iter()
            .partition(|p| p.starts_with(&watched_seeds));
        if others.iter().any(|p| {
            p.parent() == Some(watched_config_dir.as_path())
                && p.file_name() == config_name.as_deref()
        }) {
            let _ = events.send(Trigger::Config);
        }
        if !seeds.is_empty() {
            let _ = events.send(Trigger::Seeds(seeds));
        }
    })?;
    watcher.watch(&seeds_root, RecursiveMode::Recursive)?;
    // The folder, not the file: editors save by writing a new file and
    // renaming it over the old one, which a watch on the file would lose.
    watcher.watch(&config_dir, RecursiveMode::NonRecursive)?;

    let thread = std::thread::Builder::new()
        .name("tidings-reload".into())
        .spawn(move || {
            while let Some(batch) = next_batch(&receiver) {
                reloader.reload(&batch);
            }
        })
        .expect("the reload thread starts");

    #[cfg(unix)]
    if let Ok(runtime) = tokio::runtime::Handle::try_current() {
        use tokio::signal::unix::{signal, SignalKind};
        // Registered here, not in the task: until it is, SIGHUP terminates
        // the process, and the server announces it listens as soon as this
        // returns (before a spawned task need have run).
        match signal(SignalKind::hangup()) {
            Ok(mut hangup) => {
                let hangups = sender.clone();
                runtime.spawn(async move {
                    while hangup.recv().await.is_some() {
                        tracing::info!("SIGHUP: reloading everything");
                        if hangups.send(Trigger::Everything).is_err() {
                            break;
                        }
                    }
                });
            }
            Err(error) => tracing::error!(
                "cannot listen for SIGHUP ({error}); reload by touching a seed instead"
            ),
        }
    }

    Ok(Watch {
        _watcher: watcher,
        _thread: thread,
    })
}

/// Blocks for the next event, then gathers the batch it opens. `None` when
/// every sender is gone.
fn next_batch(receiver: &mpsc::Receiver<Trigger>) -> Option<Vec<Trigger>> {
    let first = receiver.recv().ok()?;
    let opened = Instant::now();
    let mut batch = vec![first];
    while opened.elapsed() < MAX_BATCH {
        match receiver.recv_timeout(QUIET) {
            Ok(trigger) => batch.push(trigger),
            Err(mpsc::RecvTimeoutError::Timeout) => break,
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
        }
    }
    Some(batch)
}

/// A running watch. Dropping it stops the watcher; the reload thread ends
/// once the watcher and the SIGHUP task (which lives as long as the Tokio
/// runtime) have let go of its channel. It is never joined, so shutdown
/// never waits for a rebuild.
#[derive(Debug)]
pub struct Watch {
    _watcher: notify::RecommendedWatcher,
    _thread: std::thread::JoinHandle<()>,
}

fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}
