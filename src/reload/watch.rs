//! Keeping the watches true to the disk, and the catalog to the disk when
//! the watches were not.
//!
//! inotify watches inodes, not paths, and reports a folder's creation
//! before anything watches the folder; so on its own it misses files
//! written into a new folder in that window, everything after a queue
//! overflow, and every change once the seeds folder or the config is
//! replaced by a rename or a symlink swap (git-sync, Capistrano,
//! Kubernetes ConfigMaps). This module closes those gaps:
//!
//! - A new folder is watched by the reload thread itself before it is
//!   listed: a file written before the watch exists is in the listing, one
//!   written after makes an event.
//! - The folder holding the seeds path and the config's folders are
//!   watched too, and the paths are resolved again (a few `stat`s) after
//!   every batch and every [`TICK`]: when the seeds folder or the config
//!   file behind its links is another one, the watches move to it and it
//!   is read whole.
//! - A full rescan (size and time of every file) runs [`SETTLE`] after the
//!   folders stopped changing, after lost events, and every [`RECONCILE`]
//!   whatever happened, so whatever the watcher missed is served within
//!   seconds. It is not free (about a second of CPU at 100,000 files), so
//!   the periodic and settling ones are spaced by what the last one cost
//!   ([`RESCAN_SPACING`]): a large archive is rescanned less often rather
//!   than the reload thread being busy with it.
//! - The static folder is watched when it is there, and its path resolved
//!   again every [`TICK`] too, so a static folder made, removed or swapped
//!   after start-up is read within a second or two.
//! - Nothing here opens a file: paths a fresh scan would not read (named
//!   pipes, devices, links to folders) never reach the index, where a
//!   pipe would block the reload thread for good.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::{Duration, Instant, SystemTime};

use notify::event::{CreateKind, ModifyKind, RemoveKind};
use notify::{EventKind, RecursiveMode, Watcher as _};

use super::{Outlet, Reloader, Trigger, MAX_BATCH, QUIET};
use crate::statics::StaticFiles;

/// How often the seeds and config paths are resolved again without any
/// event, for swaps no watch can see (a link replaced higher up the path).
pub const TICK: Duration = Duration::from_secs(1);
/// A rescan follows this long after the last batch that created, moved or
/// removed folders…
pub const SETTLE: Duration = Duration::from_secs(2);
/// …but no later than this after the first such batch, so steady churn
/// cannot postpone it forever.
pub const SETTLE_AT_MOST: Duration = Duration::from_secs(10);
/// A rescan runs at least this often, whatever the watcher reported…
pub const RECONCILE: Duration = Duration::from_secs(30);
/// …but a settling rescan waits this many times the last rescan's cost
/// after it, and a periodic one ten times as many, so rescans take at most
/// a tenth of the reload thread during churn and a hundredth when idle.
pub const RESCAN_SPACING: u32 = 10;

/// What reaches the reload thread.
#[derive(Debug)]
pub(super) enum Message {
    /// The watcher's report of a change.
    Event(notify::Event),
    /// The watcher lost events (queue overflow) or failed.
    Lost,
    /// SIGHUP: read everything again and watch everything again.
    Hangup,
    /// The [`Watch`] was dropped.
    Stop,
}

/// Watches the seeds folder and the config file and runs reloads on a
/// dedicated thread until the returned [`Watch`] is dropped. SIGHUP (on
/// Unix, inside a Tokio runtime) forces a full reload and new watches.
pub fn watch<O: Outlet>(reloader: Reloader<O>) -> notify::Result<Watch> {
    let (sender, receiver) = mpsc::channel::<Message>();
    let events = sender.clone();
    // Runs on notify's thread: it only forwards, so that thread never
    // waits for a rebuild.
    let watcher = notify::RecommendedWatcher::new(
        move |event: notify::Result<notify::Event>| {
            let message = match event {
                Ok(event) if event.need_rescan() => Message::Lost,
                Ok(event) if matches!(event.kind, EventKind::Access(_)) => return,
                Ok(event) => Message::Event(event),
                Err(error) => {
                    tracing::warn!("file watcher: {error}; rescanning everything");
                    Message::Lost
                }
            };
            let _ = events.send(message);
        },
        // A fresh scan does not follow links to folders; neither do the
        // watches (see `readable_like_a_scan`).
        notify::Config::default().with_follow_symlinks(false),
    )?;
    let mut sight = Sight::new(
        watcher,
        reloader.index.seeds_dir().to_path_buf(),
        reloader.config_path.clone(),
    );
    sight.watch_from_start()?;
    sight.statics_path = StaticFiles::folder(&reloader.config, reloader.index.seeds_dir());
    sight.check_statics();

    let thread = std::thread::Builder::new()
        .name("tidings-reload".into())
        .spawn(move || run(reloader, sight, &receiver))
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
                        if hangups.send(Message::Hangup).is_err() {
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
        stop: sender,
        _thread: thread,
    })
}

/// A running watch. Dropping it stops the reload thread and with it the
/// watcher, once a rebuild under way is done; it is never joined, so
/// shutdown never waits for a rebuild.
#[derive(Debug)]
pub struct Watch {
    stop: mpsc::Sender<Message>,
    _thread: std::thread::JoinHandle<()>,
}

impl Drop for Watch {
    fn drop(&mut self) {
        let _ = self.stop.send(Message::Stop);
    }
}

/// The reload thread: batches of messages become triggers, triggers
/// become reloads; between batches, the periodic checks.
fn run<O: Outlet>(mut reloader: Reloader<O>, mut sight: Sight, receiver: &mpsc::Receiver<Message>) {
    loop {
        // A scheduled article's date wakes the thread like a check does.
        let next = match reloader.next_release() {
            Some(due) => sight.next_check().min(due),
            None => sight.next_check(),
        };
        let wait = next.saturating_duration_since(Instant::now());
        let Some(batch) = next_batch(receiver, wait, |message| sight.concerns(message)) else {
            return;
        };
        let Some(triggers) = sight.triggers(batch) else {
            return;
        };
        if !triggers.is_empty() {
            let started = Instant::now();
            reloader.reload(&triggers);
            // The config may name another static folder.
            sight.statics_path = StaticFiles::folder(&reloader.config, reloader.index.seeds_dir());
            if triggers
                .iter()
                .any(|t| matches!(t, Trigger::Rescan | Trigger::Everything))
            {
                sight.rescanned(started.elapsed());
            }
        } else if reloader.is_due() {
            reloader.reload(&[]);
        }
    }
}

/// Waits up to `wait` for a message that `concerns` the site, then gathers
/// the batch it opens: empty when none came. Other messages are dropped and
/// keep no batch open. `None` when every sender is gone.
fn next_batch(
    receiver: &mpsc::Receiver<Message>,
    wait: Duration,
    concerns: impl Fn(&Message) -> bool,
) -> Option<Vec<Message>> {
    let deadline = Instant::now() + wait;
    let first = loop {
        match receiver.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
            Ok(message) if concerns(&message) => break message,
            Ok(_) => {}
            Err(mpsc::RecvTimeoutError::Timeout) => return Some(Vec::new()),
            Err(mpsc::RecvTimeoutError::Disconnected) => return None,
        }
    };
    let opened = Instant::now();
    let mut batch = vec![first];
    let mut last = opened;
    while opened.elapsed() < MAX_BATCH {
        let quiet_left = QUIET.saturating_sub(last.elapsed());
        if quiet_left.is_zero() {
            break;
        }
        match receiver.recv_timeout(quiet_left) {
            Ok(message) if concerns(&message) => {
                batch.push(message);
                last = Instant::now();
            }
            Ok(_) => {}
            Err(_) => break,
        }
    }
    Some(batch)
}

/// Where the seeds and the config are on disk right now, as the watches
/// need it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Layout {
    /// The seeds folder behind every link, and which folder it is (a
    /// folder renamed into the same place is another one).
    root: Option<(PathBuf, Identity)>,
    /// The seeds path as its parent folder lists it: what a rename or a
    /// link swap of the seeds folder names.
    seeds_entry: Option<PathBuf>,
    /// The config path as its folder lists it.
    config_entry: Option<PathBuf>,
    /// The config file behind every link (a ConfigMap's `..data/…`), and
    /// its size and time, so that an edit nothing reported is noticed.
    config_file: Option<(PathBuf, Identity, u64, Option<SystemTime>)>,
    /// Watched without recursion: the folder of the seeds path and the
    /// folders of the config path and of the file behind it.
    folders: BTreeSet<PathBuf>,
}

/// Device and inode: which file or folder a path names.
type Identity = (u64, u64);

impl Layout {
    fn resolve(seeds: &Path, config: &Path) -> Self {
        use std::os::unix::fs::MetadataExt as _;
        let identity = |meta: &std::fs::Metadata| (meta.dev(), meta.ino());
        let root = std::fs::canonicalize(seeds)
            .ok()
            .and_then(|root| Some((identity(&std::fs::metadata(&root).ok()?), root)))
            .map(|(id, root)| (root, id));
        let config_file = std::fs::canonicalize(config).ok().and_then(|file| {
            let meta = std::fs::metadata(&file).ok()?;
            Some((file, identity(&meta), meta.len(), meta.modified().ok()))
        });
        let seeds_entry = entry(seeds);
        let config_entry = entry(config);
        let mut folders = BTreeSet::new();
        let parents = [&seeds_entry, &config_entry]
            .into_iter()
            .flatten()
            .chain(config_file.as_ref().map(|(file, ..)| file))
            .filter_map(|path| path.parent());
        for folder in parents {
            // The recursive watch of the seeds covers what is inside them,
            // and a second watch on one of its folders would replace it.
            if root
                .as_ref()
                .is_none_or(|(root, _)| !folder.starts_with(root))
            {
                folders.insert(folder.to_path_buf());
            }
        }
        Self {
            root,
            seeds_entry,
            config_entry,
            config_file,
            folders,
        }
    }

    fn root(&self) -> Option<&Path> {
        self.root.as_ref().map(|(root, _)| root.as_path())
    }
}

/// `path` as its folder lists it: the folder resolved, the name kept (it
/// may be a link, whose replacement is what we look for).
fn entry(path: &Path) -> Option<PathBuf> {
    let name = path.file_name()?;
    let folder = match path.parent() {
        Some(folder) if !folder.as_os_str().is_empty() => folder,
        _ => Path::new("."),
    };
    Some(std::fs::canonicalize(folder).ok()?.join(name))
}

/// The watcher and what it watches, kept in step with the disk.
struct Sight {
    watcher: notify::RecommendedWatcher,
    /// The seeds and config paths as configured (relative ones are
    /// resolved from the working folder, as the index reads them).
    seeds: PathBuf,
    config: PathBuf,
    /// What the watches are set up for.
    watched: Layout,
    /// When a settling rescan is due, and when the first batch asking for
    /// it came.
    settle: Option<(Instant, Instant)>,
    /// When the next rescan is due whatever happens.
    reconcile: Instant,
    /// No settling rescan before this (see [`RESCAN_SPACING`]).
    spaced: Instant,
    /// When the paths are resolved again if nothing else happens.
    tick: Instant,
    /// The static folder as configured…
    statics_path: PathBuf,
    /// …and behind every link, when it was there at the last look.
    statics: Option<PathBuf>,
}

impl Sight {
    fn new(watcher: notify::RecommendedWatcher, seeds: PathBuf, config: PathBuf) -> Self {
        let now = Instant::now();
        Self {
            watcher,
            seeds,
            config,
            watched: Layout::default(),
            settle: None,
            reconcile: now + RECONCILE,
            spaced: now,
            tick: now + TICK,
            statics_path: PathBuf::new(),
            statics: None,
        }
    }

    /// Looks at the static folder's path again and watches the folder
    /// behind it, if it is another one than before (made, removed, moved
    /// or swapped by a link); returns whether it is.
    fn check_statics(&mut self) -> bool {
        let now = std::fs::canonicalize(&self.statics_path)
            .ok()
            .filter(|folder| folder.is_dir());
        if now == self.statics {
            return false;
        }
        if let Some(before) = self.statics.take() {
            let _ = self.watcher.unwatch(&before);
        }
        if let Some(folder) = &now {
            if let Err(error) = self.watcher.watch(folder, RecursiveMode::Recursive) {
                tracing::warn!(
                    "cannot watch the static folder {}: {error}; rereading it every {RECONCILE:?}",
                    folder.display()
                );
            }
        }
        self.statics = now;
        true
    }

    /// Whether a message can change what is served: all but events about
    /// the neighbours of the seeds folder in its parent, which is watched
    /// only to see the seeds folder replaced. (A log written beside the
    /// seeds folder would otherwise hold every batch open to its longest.)
    fn concerns(&self, message: &Message) -> bool {
        let Message::Event(event) = message else {
            return true;
        };
        let Some(seeds_entry) = &self.watched.seeds_entry else {
            return true;
        };
        let beside = seeds_entry.parent();
        let config_beside = [
            self.watched.config_entry.as_deref(),
            self.watched
                .config_file
                .as_ref()
                .map(|(file, ..)| file.as_path()),
        ]
        .into_iter()
        .flatten()
        .any(|config| config.parent() == beside);
        config_beside
            || event
                .paths
                .iter()
                .any(|path| path == seeds_entry || path.parent() != beside)
    }

    /// When to look again without an event.
    fn next_check(&self) -> Instant {
        let settle = self.settle.map(|(due, _)| due);
        [Some(self.tick), Some(self.reconcile), settle]
            .into_iter()
            .flatten()
            .min()
            .expect("the tick is always set")
    }

    /// The first watches: failing to watch the seeds folder is an error
    /// that stops `tidings serve` from starting.
    fn watch_from_start(&mut self) -> notify::Result<()> {
        let layout = Layout::resolve(&self.seeds, &self.config);
        let root = layout
            .root()
            .ok_or_else(|| notify::Error::path_not_found().add_path(self.seeds.clone()))?;
        self.watcher.watch(root, RecursiveMode::Recursive)?;
        self.watch_folders(&BTreeSet::new(), &layout.folders);
        self.watched = layout;
        Ok(())
    }

    /// Spaces the next settling and periodic rescans by what the one just
    /// made cost.
    fn rescanned(&mut self, cost: Duration) {
        let now = Instant::now();
        self.spaced = now + cost * RESCAN_SPACING;
        self.reconcile = now + RECONCILE.max(cost * RESCAN_SPACING * 10);
    }

    /// Resolves the paths again and moves the watches where they now
    /// belong: all of them with `force` (SIGHUP, lost events). Returns
    /// whether the seeds folder is another one than before.
    fn rewatch(&mut self, force: bool) -> bool {
        let now = Layout::resolve(&self.seeds, &self.config);
        let before = std::mem::replace(&mut self.watched, now.clone());
        let moved = force || now.root != before.root;
        if moved {
            if let Some(root) = before.root() {
                // Gone already when notify saw the folder go.
                let _ = self.watcher.unwatch(root);
            }
            match now.root() {
                Some(root) => match self.watcher.watch(root, RecursiveMode::Recursive) {
                    Ok(()) => tracing::info!(seeds = %root.display(), "watching the seeds folder"),
                    Err(error) => tracing::warn!(
                        "cannot watch the seeds folder: {error}; rescanning every {RECONCILE:?}"
                    ),
                },
                None => tracing::warn!(
                    "the seeds folder {} is not there; still serving what was read",
                    self.seeds.display()
                ),
            }
        }
        let kept = if force {
            BTreeSet::new()
        } else {
            before.folders.clone()
        };
        for gone in before.folders.difference(&now.folders) {
            let _ = self.watcher.unwatch(gone);
        }
        self.watch_folders(&kept, &now.folders);
        moved
    }

    /// Watches the `folders` not in `kept`, without recursion. A folder
    /// that cannot be watched (gone, say) is left to the periodic checks.
    fn watch_folders(&mut self, kept: &BTreeSet<PathBuf>, folders: &BTreeSet<PathBuf>) {
        for folder in folders.difference(kept) {
            if let Err(error) = self.watcher.watch(folder, RecursiveMode::NonRecursive) {
                tracing::debug!("not watched: {}: {error}", folder.display());
            }
        }
    }

    /// Turns a batch of messages (possibly none: a periodic check) into
    /// what the reloader must look at, after moving the watches where the
    /// batch says they belong. `None` when the watch was dropped.
    fn triggers(&mut self, batch: Vec<Message>) -> Option<Vec<Trigger>> {
        let mut triggers = Vec::new();
        let mut seeds = Vec::new();
        let mut new_folders = Vec::new();
        let (mut hangup, mut lost, mut replaced, mut config, mut folders_moved) =
            (false, false, false, false, false);
        let mut statics = false;
        let config_before = self.watched.config_file.clone();
        for message in batch {
            let event = match message {
                Message::Stop => return None,
                Message::Hangup => {
                    hangup = true;
                    continue;
                }
                Message::Lost => {
                    lost = true;
                    continue;
                }
                Message::Event(event) => event,
            };
            let structural = matches!(
                event.kind,
                EventKind::Create(_)
                    | EventKind::Remove(_)
                    | EventKind::Modify(ModifyKind::Name(_))
            );
            for path in event.paths {
                if self
                    .statics
                    .as_ref()
                    .is_some_and(|folder| path.starts_with(folder))
                {
                    statics = true;
                    continue;
                }
                let is_root = Some(&path) == self.watched.seeds_entry.as_ref()
                    || Some(path.as_path()) == self.watched.root();
                if is_root {
                    replaced |= structural;
                } else if self
                    .watched
                    .root()
                    .is_some_and(|root| path.starts_with(root))
                {
                    match event.kind {
                        EventKind::Create(CreateKind::Folder) => new_folders.push(path.clone()),
                        EventKind::Modify(ModifyKind::Name(_)) if path.is_dir() => {
                            new_folders.push(path.clone());
                        }
                        EventKind::Remove(RemoveKind::Folder) => folders_moved = true,
                        _ => {}
                    }
                    seeds.push(path);
                } else if Some(&path) == self.watched.config_entry.as_ref() {
                    config = true;
                }
            }
        }

        let now = Instant::now();
        if statics {
            triggers.push(Trigger::Statics);
        }
        let moved = self.rewatch(hangup || lost || replaced);
        if hangup {
            triggers.push(Trigger::Everything);
        } else if config || self.watched.config_file != config_before {
            triggers.push(Trigger::Config);
        }
        let mut rescan = moved || lost;
        if !rescan {
            folders_moved |= !new_folders.is_empty();
            self.watch_new_folders(new_folders, &mut rescan);
            let before = seeds.len();
            seeds.retain(|path| readable_like_a_scan(self.watched.root(), path));
            // A path dropped may have replaced a seed the index holds.
            folders_moved |= seeds.len() < before;
            if !seeds.is_empty() {
                seeds.sort();
                seeds.dedup();
                triggers.push(Trigger::Seeds(seeds));
            }
        }
        if folders_moved {
            let first = self.settle.map_or(now, |(_, first)| first);
            let due = (now + SETTLE).min(first + SETTLE_AT_MOST);
            self.settle = Some((due.max(self.spaced), first));
        }
        if self.settle.is_some_and(|(due, _)| due <= now) || self.reconcile <= now {
            rescan = true;
        }
        if rescan || hangup {
            self.settle = None;
            if !hangup {
                triggers.push(Trigger::Rescan);
            }
        }
        if self.tick <= now {
            self.tick = now + TICK;
            if self.check_statics() && !triggers.contains(&Trigger::Statics) {
                triggers.push(Trigger::Statics);
            }
        }
        Some(triggers)
    }

    /// Watches the folders that appeared (created, or moved in) before
    /// the reload lists them, so that no file in them goes unseen: one
    /// written before the watch is in the listing, one after makes an
    /// event. notify watches them too, but only after the events read
    /// with the creation, and not at all for a folder that went away
    /// while its tree was walked; watching an existing folder again is
    /// harmless.
    fn watch_new_folders(&mut self, mut folders: Vec<PathBuf>, rescan: &mut bool) {
        folders.sort();
        folders.dedup();
        let mut outer: Option<PathBuf> = None;
        for folder in folders {
            // Watching a folder watches everything under it.
            if outer
                .as_ref()
                .is_some_and(|outer| folder.starts_with(outer))
            {
                continue;
            }
            if !readable_like_a_scan(self.watched.root(), &folder) {
                continue;
            }
            // A sub-folder removed while the tree is walked ends the walk;
            // walk again while the folder is there.
            let mut tries = 0;
            while let Err(error) = self.watcher.watch(&folder, RecursiveMode::Recursive) {
                tries += 1;
                if !folder.is_dir() {
                    break;
                }
                if tries == 3 {
                    tracing::warn!("cannot watch {}: {error}; rescanning", folder.display());
                    *rescan = true;
                    break;
                }
            }
            outer = Some(folder);
        }
    }
}

/// Whether `path` (under the seeds folder `root`) is one a fresh scan
/// would read or list: a regular file, a link to one, a folder reached
/// without passing a link; or gone (so that the index forgets it). A
/// fresh scan skips named pipes, sockets, devices and links to folders,
/// and opening a pipe would block the reload thread.
fn readable_like_a_scan(root: Option<&Path>, path: &Path) -> bool {
    let Some(relative) = root.and_then(|root| Some((root, path.strip_prefix(root).ok()?))) else {
        return false;
    };
    let (root, relative) = relative;
    let mut folder = root.to_path_buf();
    let mut components = relative.components().peekable();
    while let Some(component) = components.next() {
        if components.peek().is_none() {
            break;
        }
        folder.push(component);
        if std::fs::symlink_metadata(&folder).is_ok_and(|meta| meta.file_type().is_symlink()) {
            return false;
        }
    }
    match std::fs::symlink_metadata(path) {
        Err(_) => true,
        Ok(meta) if meta.is_dir() || meta.is_file() => true,
        Ok(meta) if meta.file_type().is_symlink() => {
            // A broken link is reported by the index, as a scan does.
            std::fs::metadata(path).map_or(true, |target| target.is_file())
        }
        Ok(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_what_a_scan_reads_reaches_the_index() {
        let dir = tempfile::tempdir().unwrap();
        let root = std::fs::canonicalize(dir.path()).unwrap();
        let elsewhere = tempfile::tempdir().unwrap();
        std::fs::create_dir(root.join("folder")).unwrap();
        std::fs::write(root.join("folder/seed.txt"), "x").unwrap();
        std::fs::write(elsewhere.path().join("seed.txt"), "x").unwrap();
        std::os::unix::fs::symlink(elsewhere.path(), root.join("linked")).unwrap();
        std::os::unix::fs::symlink(root.join("folder/seed.txt"), root.join("link.txt")).unwrap();
        std::os::unix::fs::symlink(root.join("nowhere"), root.join("broken.txt")).unwrap();
        let fifo = std::process::Command::new("mkfifo")
            .arg(root.join("pipe.txt"))
            .status()
            .unwrap();
        assert!(fifo.success());

        let readable = |relative: &str| readable_like_a_scan(Some(&root), &root.join(relative));
        for yes in [
            "folder",
            "folder/seed.txt",
            "link.txt",
            "broken.txt",
            "gone.txt",
        ] {
            assert!(readable(yes), "{yes}");
        }
        for no in ["pipe.txt", "linked", "linked/seed.txt"] {
            assert!(!readable(no), "{no}");
        }
        assert!(!readable_like_a_scan(
            Some(&root),
            Path::new("/elsewhere/seed.txt")
        ));
        assert!(!readable_like_a_scan(None, &root.join("folder")));
    }
}
