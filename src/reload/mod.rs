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
//! - What the watcher misses (a new folder's first files, lost events, a
//!   seeds folder or config replaced by a rename or a link swap) is found
//!   by re-watching and rescanning ([`watch`] says when), so the served
//!   catalog converges on the disk within seconds.
//! - An article dated in the future is scheduled ([`SeedIndex`]): the
//!   reload thread sleeps until the soonest one is due (or an event comes
//!   first), then publishes what is due and swaps as for any reload, so an
//!   article appears at its date and nothing served is dated later than
//!   the moment it is served.
//! - A broken seed is skipped and reported like at start-up. A config that
//!   does not read or validate is logged (file and line) and shown in
//!   `/healthz`; the catalog keeps being built with the last good config, so
//!   editors' new articles still go live while the operator fixes it.

mod watch;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::catalog::{Catalog, Compression};
use crate::config::{BaseUrlRule, Config, Http};
use crate::error::Result;
use crate::index::SeedIndex;
use crate::publish;
use crate::statics::StaticFiles;

pub use watch::{watch, Watch, RECONCILE, RESCAN_SPACING, SETTLE, SETTLE_AT_MOST, TICK};

/// A batch of events closes after this long without another.
pub const QUIET: Duration = Duration::from_millis(50);
/// A batch closes this long after its first event even while events keep
/// coming, so a steady stream of writes cannot postpone a reload forever.
pub const MAX_BATCH: Duration = Duration::from_millis(300);

/// The longest the reload thread sleeps towards a scheduled article's
/// date in one go: an article dated decades ahead still makes a timer the
/// clock can hold, and the sleep is re-armed when it ends. (The periodic
/// checks wake the thread more often anyway.)
pub const FAR: Duration = Duration::from_secs(3600);

/// Why a rebuild is wanted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Trigger {
    /// These paths under the seeds folder changed.
    Seeds(Vec<PathBuf>),
    /// The config file changed.
    Config,
    /// The seeds folder may differ from what the watcher reported (it was
    /// replaced, events were lost, or it is time to check): compare all
    /// of it.
    Rescan,
    /// Look at everything again, config and seeds (SIGHUP).
    Everything,
    /// Something changed in the static folder.
    Statics,
}

/// Where a reloader puts the catalogs it builds: whatever serves them (the
/// HTTP server's state, in `tidings serve`). The reloader knows nothing
/// else of it.
pub trait Outlet: Send + 'static {
    /// The catalog being served: the `previous` of the next build, so that
    /// validators only move forward.
    fn served(&self) -> Arc<Catalog>;
    /// Learns a new config, after a config change, just before the
    /// catalog built with it is swapped in (for settings that are not the
    /// catalog's, such as the WebSub hubs). Nothing by default.
    fn configured(&self, _config: &Config) {}
    /// Replaces the served catalog at once, and with `http` the caching
    /// settings too (after a config change).
    fn swap_in(&self, catalog: Catalog, http: Option<&Http>);
    /// Records the outcome of the latest reloads, for health checks.
    fn report(&self, status: ReloadStatus);
    /// Records one reload for metrics: how long it took, whether it put
    /// a new catalog live, and whether it failed to read the config or
    /// the seeds folder.
    fn reloaded(&self, took: Duration, swapped: bool, failed: bool);
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
    /// Applied to the config at every read.
    base_url: Option<BaseUrlRule>,
    /// The static folder's files, put into every catalog.
    statics: StaticFiles,
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
        let mut statics = StaticFiles::default();
        statics.load(&config, &seeds_dir, Compression::On);
        let mut index = SeedIndex::new(seeds_dir);
        index.rescan(&config)?;
        let mut catalog = publish::catalog(
            &config,
            &mut index,
            1,
            None,
            Compression::On,
            chrono::Utc::now(),
        );
        statics.replace_in(&mut catalog);
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
            base_url: None,
            statics,
        })
    }

    /// Applies `rule` to every config read from now on (the one given to
    /// [`Reloader::start`] has it applied already).
    pub fn with_base_url(mut self, rule: Option<BaseUrlRule>) -> Self {
        self.base_url = rule;
        self
    }

    /// What the catalogs are swapped into.
    pub fn outlet(&self) -> &O {
        &self.outlet
    }

    /// When the soonest scheduled article is due, on the monotonic clock
    /// and at most [`FAR`] ahead; `None` when nothing is scheduled. Read
    /// again after every reload: a rebuild or a config change may have
    /// scheduled another one.
    pub fn next_release(&self) -> Option<Instant> {
        let due = self.index.next_due()?;
        Some(Instant::now() + until(due, chrono::Utc::now()))
    }

    /// Whether a scheduled article is due by the clock: a reload, even with
    /// no trigger, publishes it.
    pub fn is_due(&self) -> bool {
        self.index
            .next_due()
            .is_some_and(|due| due <= chrono::Utc::now())
    }

    /// Applies one batch of triggers: re-reads the config if asked, refreshes
    /// the seeds, and swaps in a new catalog when anything changed. Returns
    /// the generation now served.
    pub fn reload(&mut self, triggers: &[Trigger]) -> u64 {
        let started = Instant::now();
        let everything = triggers.contains(&Trigger::Everything);
        let mut config_changed = false;
        let mut failed = false;
        if everything || triggers.contains(&Trigger::Config) {
            match Config::from_file(&self.config_path) {
                Ok(mut config) => {
                    if let Some(rule) = &self.base_url {
                        config.apply_base_url(rule);
                    }
                    if self.config_error.take().is_some() {
                        tracing::info!(
                            config = %self.config_path.display(),
                            "config recovered: it reads again"
                        );
                    }
                    if config != self.config {
                        self.config = config;
                        config_changed = true;
                    }
                }
                Err(error) => {
                    tracing::error!("config not reloaded, still serving the previous one: {error}");
                    self.config_error = Some(error.to_string());
                    failed = true;
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
        let rescan = everything || triggers.contains(&Trigger::Rescan);
        let changed = if config_changed {
            self.index.reparse(&self.config)
        } else if rescan {
            let rescan_started = Instant::now();
            let changed = self.index.rescan(&self.config);
            tracing::debug!(
                files = self.index.len(),
                "rescanned the seeds folder in {:.1?}",
                rescan_started.elapsed()
            );
            if let Ok(changed @ 1..) = changed {
                if !everything && seeds.is_empty() {
                    tracing::info!(
                        "a rescan found {changed} changed files the watcher had not reported"
                    );
                }
            }
            changed
        } else {
            Ok(self.index.refresh(&self.config, &seeds))
        };
        let changed = match changed {
            Ok(changed) => changed,
            Err(error) => {
                tracing::error!("seeds not reloaded: {error}");
                last_error.get_or_insert(error.to_string());
                failed = true;
                0
            }
        };

        // Whatever the triggers, articles whose date has come go live now.
        let released = self.index.release(chrono::Utc::now());
        let statics_changed = (config_changed || rescan || triggers.contains(&Trigger::Statics))
            && self
                .statics
                .load(&self.config, self.index.seeds_dir(), Compression::On);

        let previous = self.outlet.served();
        let mut generation = previous.generation;
        let swapped = changed > 0 || released > 0 || config_changed || statics_changed;
        if swapped {
            // New content goes live with its gzip variants; brotli follows
            // right after (see `Compression::GzipFirst`).
            let mut catalog = if changed > 0 || released > 0 || config_changed {
                publish::catalog(
                    &self.config,
                    &mut self.index,
                    previous.generation + 1,
                    Some(&previous),
                    Compression::GzipFirst,
                    chrono::Utc::now(),
                )
            } else {
                let mut catalog = (*previous).clone();
                catalog.generation += 1;
                catalog
            };
            self.statics.replace_in(&mut catalog);
            for diagnostic in catalog.diagnostics.iter().filter(|d| d.is_error()) {
                tracing::warn!("rejected: {diagnostic}");
            }
            generation = catalog.generation;
            let (articles, documents) = (catalog.articles, catalog.len());
            if config_changed {
                self.outlet.configured(&self.config);
            }
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
            if released > 0 {
                tracing::info!(generation, "published {released} scheduled article(s)");
            }
            if let Some(whole) = self.outlet.served().with_brotli() {
                self.outlet.swap_in(whole, None);
                tracing::debug!(generation, "brotli variants in {:.1?}", started.elapsed());
            }
        }
        if swapped {
            self.last_reload = now();
        }
        if swapped || failed {
            self.outlet.reloaded(started.elapsed(), swapped, failed);
        }
        self.outlet.report(ReloadStatus {
            last_reload: Some(self.last_reload.clone()),
            last_error,
        });
        generation
    }
}

fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// How long to sleep from `now` until `due`: nothing when it is past, at
/// most [`FAR`].
fn until(
    due: chrono::DateTime<chrono::FixedOffset>,
    now: chrono::DateTime<chrono::Utc>,
) -> Duration {
    (due.to_utc() - now)
        .to_std()
        .map_or(Duration::ZERO, |left| left.min(FAR))
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, TimeDelta, Utc};

    use super::*;

    #[test]
    fn the_sleep_until_an_article_is_due_is_sound_for_any_date() {
        let now: DateTime<Utc> = "2024-06-01T00:00:00Z".parse().unwrap();
        let at = |text: &str| DateTime::parse_from_rfc3339(text).unwrap();
        assert_eq!(
            until(at("2024-06-01T00:00:03Z"), now),
            Duration::from_secs(3)
        );
        assert_eq!(
            until(at("2024-06-01T03:00:00.250+03:00"), now),
            Duration::from_millis(250)
        );
        assert_eq!(until(at("2024-05-31T23:59:59Z"), now), Duration::ZERO);
        assert_eq!(until(at("2100-01-01T00:00:00Z"), now), FAR);
        let last = DateTime::<Utc>::MAX_UTC.fixed_offset();
        assert_eq!(until(last, now), FAR);
        assert_eq!(until(last, DateTime::<Utc>::MIN_UTC), FAR);
        assert_eq!(
            until(now.fixed_offset(), now + TimeDelta::days(365)),
            Duration::ZERO
        );
        // A far date still makes an instant the monotonic clock can hold.
        let _ = Instant::now() + until(last, now);
    }
}
