//! The seeds, kept parsed and classified between builds of the catalog.
//!
//! A reload must cost what changed, not what exists. The index remembers
//! every seed file with its size, modification time and a digest of its
//! bytes, its parse result and the topics its article is in. A refresh looks
//! only at the paths the watcher named (a full rescan, after SIGHUP or a lost
//! event, compares sizes and times of every file), and parses only files
//! whose bytes changed: an editor saving a file unchanged, or `touch`, costs a
//! read and a hash.
//!
//! This file is that file cache. Two jobs live beside it: `ranking`
//! keeps every feed's entries up to date record by record, so a reload
//! never visits the whole archive, and `bodies` decides which article
//! bodies stay in memory, so memory does not grow with the archive. The
//! static build and the server both go through here, so both stay small.
//!
//! The index has a `now`, the clock when it was made unless
//! [`SeedIndex::as_of`] says otherwise: an article dated later is scheduled,
//! in no feed until [`SeedIndex::release`] is called at or after its date
//! ([`SeedIndex::next_due`] says when). Scheduled articles still claim
//! their ids, so a duplicate is reported before either is published.

mod bodies;
mod history;
mod ranking;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use chrono::{DateTime, FixedOffset, Utc};

use crate::config::Config;
use crate::cores;
use crate::diagnostic::Diagnostic;
use crate::error::Result;
use crate::ingest::{self, SeedFile, SeedKind, SeedParser};
use crate::select::{Chosen, Selection};
use crate::topics::Matcher;
pub use bodies::Indexed;
pub use history::{read_ranked, History, Ranked};
use ranking::Ranking;

/// What the index knows of one seed file.
#[derive(Debug)]
struct Record {
    len: u64,
    modified: Option<SystemTime>,
    /// XXH3 of the bytes; `None` when the file could not be read.
    digest: Option<u128>,
    display: String,
    article: Option<Indexed>,
    diagnostics: Vec<Diagnostic>,
}

/// Every seed file under one folder, parsed and classified.
#[derive(Debug)]
pub struct SeedIndex {
    seeds_dir: PathBuf,
    /// By path under the seeds folder, `/` separators.
    records: BTreeMap<String, Record>,
    /// Paths of the records whose article is held whole (when bodies are
    /// kept only for shown articles, these are the ones to let go of).
    whole: BTreeSet<String>,
    /// Folders the last full walk could not list.
    listing: Vec<Diagnostic>,
    /// Built for one pass (see [`SeedIndex::for_one_pass`]).
    one_pass: bool,
    /// The running selection: what choosing every feed's entries needs,
    /// kept up to date record by record.
    ranking: Ranking,
    /// Paths of the records that have diagnostics.
    noted: BTreeSet<String>,
}

/// A file to look at: where it is and what its metadata says now.
struct Candidate {
    file: SeedFile,
    len: u64,
    modified: Option<SystemTime>,
    /// Re-read even when size and time are unchanged (the watcher saw a
    /// write, and a same-size write within the clock's resolution would
    /// otherwise go unseen).
    verify: bool,
    previous_digest: Option<u128>,
}

impl SeedIndex {
    /// An empty index of `seeds_dir` as of the clock; [`SeedIndex::rescan`]
    /// fills it.
    pub fn new(seeds_dir: PathBuf) -> Self {
        Self {
            seeds_dir,
            records: BTreeMap::new(),
            whole: BTreeSet::new(),
            listing: Vec::new(),
            one_pass: false,
            ranking: Ranking::new(Utc::now().fixed_offset()),
            noted: BTreeSet::new(),
        }
    }

    /// The same empty index as of `now` rather than the clock (`build
    /// --now`, tests): articles dated after `now` are scheduled.
    pub fn as_of(mut self, now: DateTime<Utc>) -> Self {
        // Moving `now` back would put published articles back on the
        // schedule; only an empty index may choose its time.
        assert!(
            self.records.is_empty(),
            "the time of an index is set before it is filled"
        );
        self.ranking = Ranking::new(now.fixed_offset());
        self
    }

    /// An index for a single pass over the shown articles that reads each
    /// again when it needs it ([`SeedIndex::read_whole`]): the streaming
    /// static build. It keeps no article whole, and it does not note file
    /// sizes and times (no rescan will compare them), which saves a `stat`
    /// per file.
    pub fn for_one_pass(seeds_dir: PathBuf) -> Self {
        Self {
            one_pass: true,
            ..Self::new(seeds_dir)
        }
    }

    pub fn seeds_dir(&self) -> &Path {
        &self.seeds_dir
    }

    /// Seed files known, published or not.
    pub fn len(&self) -> usize {
        self.records.len()
    }

    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    /// Walks the whole folder: new files and files whose size or time
    /// changed are read, vanished ones forgotten. Returns the number of files
    /// whose outcome changed. Fails when the folder cannot be listed.
    pub fn rescan(&mut self, config: &Config) -> Result<usize> {
        let (files, listing) = ingest::list(&self.seeds_dir, "")?;
        let listing_changed = listing != self.listing;
        self.listing = listing;
        let mut changed = self.forget_missing("", &files);
        let candidates = self.candidates(files, false);
        changed += self.read(config, candidates);
        Ok(changed + usize::from(listing_changed))
    }

    /// Forgets every parse and reads everything again: the config changed,
    /// and with it how seeds are read (zone, base URL, size limit, topics).
    pub fn reparse(&mut self, config: &Config) -> Result<usize> {
        self.records.clear();
        self.whole.clear();
        self.ranking = Ranking::new(self.ranking.now());
        self.noted.clear();
        self.rescan(config)
    }

    /// Looks again at `paths` (as a watcher reports them: files or folders,
    /// created, written, renamed or deleted) and returns the number of files
    /// whose outcome changed. Paths outside the seeds folder are ignored.
    pub fn refresh(&mut self, config: &Config, paths: &[PathBuf]) -> usize {
        let root =
            std::fs::canonicalize(&self.seeds_dir).unwrap_or_else(|_| self.seeds_dir.clone());
        let mut changed = 0;
        let mut candidates = Vec::new();
        for path in paths {
            let Some(relative) =
                relative_to(&root, path).or_else(|| relative_to(&self.seeds_dir, path))
            else {
                continue;
            };
            match std::fs::metadata(path) {
                Ok(meta) if meta.is_dir() => {
                    let under = if relative.is_empty() {
                        String::new()
                    } else {
                        format!("{relative}/")
                    };
                    match ingest::list(&self.seeds_dir, &under) {
                        Ok((files, _)) => {
                            changed += self.forget_missing(&under, &files);
                            candidates.extend(self.candidates(files, false));
                        }
                        Err(_) => changed += self.forget_under(&under),
                    }
                }
                Ok(meta)
                    if SeedKind::of(&relative).is_some()
                        && !ingest::in_linked_folder(&self.seeds_dir, &relative) =>
                {
                    let file = SeedFile {
                        full: self.seeds_dir.join(&relative),
                        relative,
                    };
                    candidates.push(self.candidate(file, &meta, true));
                }
                Ok(_) => {}
                Err(_) => {
                    // Deleted or renamed away: the file, or a whole folder.
                    changed += usize::from(self.remove(&relative).is_some());
                    changed += self.forget_under(&format!("{relative}/"));
                }
            }
        }
        // A path named twice in one batch is read once.
        candidates.sort_by(|a, b| a.file.relative.cmp(&b.file.relative));
        candidates.dedup_by(|a, b| a.file.relative == b.file.relative);
        changed + self.read(config, candidates)
    }

    /// The articles some feed shows, and every feed's entries by position
    /// among them; the index's running ranking gives both without visiting
    /// the other articles.
    pub fn selection(&self, config: &Config) -> (Vec<Indexed>, Selection) {
        let mut shown: Vec<Indexed> = Vec::new();
        let mut positions: HashMap<&str, usize> = HashMap::new();
        let feeds = (0..=config.topics.len())
            .map(|feed| {
                let (top, total) = self.ranking.top(feed, config.site.max_entries);
                let positions = top
                    .map(|head| {
                        let path = head.source.as_str();
                        *positions.entry(path).or_insert_with(|| {
                            let record = &self.records[path];
                            shown.push(record.article.clone().expect("ranked articles exist"));
                            shown.len() - 1
                        })
                    })
                    .collect();
                Chosen { positions, total }
            })
            .collect();
        let newest = self
            .ranking
            .newest()
            .unwrap_or(DateTime::UNIX_EPOCH.fixed_offset());
        (shown, Selection { feeds, newest })
    }

    /// Publishes every scheduled article dated `now` or earlier and returns
    /// how many. Each costs a few steps of the feeds' trees (O(log n)); the
    /// articles not yet due are not visited. `now` never moves back: an
    /// earlier one publishes nothing.
    pub fn release(&mut self, now: DateTime<Utc>) -> usize {
        self.ranking.release(now.fixed_offset())
    }

    /// When the soonest scheduled article is due; `None` when none is.
    pub fn next_due(&self) -> Option<DateTime<FixedOffset>> {
        self.ranking.next_due()
    }

    /// The scheduled articles, soonest first (ties by path).
    pub fn scheduled(&self) -> impl Iterator<Item = &Indexed> {
        self.ranking.scheduled().filter_map(|head| {
            self.records
                .get(head.source.as_str())
                .and_then(|record| record.article.as_ref())
        })
    }

    /// Every diagnostic, sorted by file: the files' own, a warning for each
    /// file whose id an earlier one has or whose article page an earlier
    /// one takes, and folders that could not be listed.
    pub fn diagnostics(&self) -> Vec<Diagnostic> {
        let mut diagnostics: Vec<Diagnostic> = self
            .noted
            .iter()
            .flat_map(|path| self.records[path].diagnostics.iter().cloned())
            .collect();
        for (id, paths) in self.ranking.contested() {
            let winner = &self.records[paths[0]];
            for loser in &paths[1..] {
                diagnostics.push(ingest::duplicate_warning(
                    &self.records[*loser].display,
                    &winner.display,
                    id.as_str(),
                ));
            }
        }
        for (slug, paths) in self.ranking.shared_pages() {
            let winner = &self.records[paths[0]];
            for loser in &paths[1..] {
                diagnostics.push(ingest::shared_page_warning(
                    &self.records[*loser].display,
                    &winner.display,
                    slug,
                ));
            }
        }
        diagnostics.extend(self.listing.iter().cloned());
        ingest::sort_diagnostics(&mut diagnostics);
        diagnostics
    }

    /// Adds or replaces the record at `relative`, keeping the ranking.
    fn insert(&mut self, relative: String, record: Record) {
        self.remove(&relative);
        if !record.diagnostics.is_empty() {
            self.noted.insert(relative.clone());
        }
        if let Some(indexed) = &record.article {
            self.ranking.claim(&indexed.head, &indexed.topics);
        }
        self.records.insert(relative, record);
    }

    /// Removes the record at `relative`, keeping the ranking.
    fn remove(&mut self, relative: &str) -> Option<Record> {
        let record = self.records.remove(relative)?;
        self.whole.remove(relative);
        self.noted.remove(relative);
        if let Some(indexed) = &record.article {
            self.ranking.unclaim(&indexed.head);
        }
        Some(record)
    }

    /// Forgets records under `under` that `files` (a listing of it) lacks.
    fn forget_missing(&mut self, under: &str, files: &[SeedFile]) -> usize {
        let present: std::collections::HashSet<&str> =
            files.iter().map(|f| f.relative.as_str()).collect();
        let gone: Vec<String> = self
            .records
            .range(under.to_string()..)
            .take_while(|(path, _)| path.starts_with(under))
            .filter(|(path, _)| !present.contains(path.as_str()))
            .map(|(path, _)| path.clone())
            .collect();
        for path in &gone {
            self.remove(path);
        }
        gone.len()
    }

    /// Forgets every record under the folder `under` (ending in `/`).
    fn forget_under(&mut self, under: &str) -> usize {
        self.forget_missing(under, &[])
    }

    /// The files to read: new ones, and known ones whose size or time
    /// moved (every one with `verify`). Their metadata is read on every core.
    fn candidates(&self, files: Vec<SeedFile>, verify: bool) -> Vec<Candidate> {
        if self.one_pass {
            return files
                .into_iter()
                .map(|file| Candidate {
                    file,
                    len: 0,
                    modified: None,
                    verify,
                    previous_digest: None,
                })
                .collect();
        }
        let metadata = cores::in_shares(&files, |file| std::fs::metadata(&file.full).ok());
        files
            .into_iter()
            .zip(metadata)
            .filter_map(|(file, meta)| Some(self.candidate(file, &meta?, verify)))
            .filter(|c| {
                c.verify
                    || self
                        .records
                        .get(&c.file.relative)
                        .is_none_or(|r| r.len != c.len || r.modified != c.modified)
            })
            .collect()
    }

    fn candidate(&self, file: SeedFile, meta: &std::fs::Metadata, verify: bool) -> Candidate {
        let previous_digest = self.records.get(&file.relative).and_then(|r| r.digest);
        Candidate {
            len: meta.len(),
            modified: meta.modified().ok(),
            verify,
            previous_digest,
            file,
        }
    }

    /// Reads and parses the candidates on every core; returns how many
    /// changed outcome.
    fn read(&mut self, config: &Config, candidates: Vec<Candidate>) -> usize {
        if candidates.is_empty() {
            return 0;
        }
        let parser = SeedParser::new(config);
        let matcher = Matcher::new(&config.topics);
        let keep_bodies =
            !self.one_pass && self.records.len() + candidates.len() <= bodies::showable(config);
        let folder = ingest::SeedsFolder::locate(&self.seeds_dir);
        let results = cores::in_shares(&candidates, |c| {
            let record = examine(&parser, &matcher, config, &folder, c, keep_bodies);
            (c.file.relative.clone(), record, c.len, c.modified)
        });
        let mut changed = 0;
        for (relative, record, len, modified) in results {
            match record {
                Some(record) => {
                    if record.article.as_ref().is_some_and(Indexed::is_whole) {
                        self.whole.insert(relative.clone());
                    }
                    self.insert(relative, record);
                    changed += 1;
                }
                None => {
                    // Same bytes as before: only the metadata moved.
                    if let Some(known) = self.records.get_mut(&relative) {
                        known.len = len;
                        known.modified = modified;
                    }
                }
            }
        }
        changed
    }
}

/// Reads one candidate; `None` when its bytes are the ones already parsed.
fn examine(
    parser: &SeedParser<'_>,
    matcher: &Matcher,
    config: &Config,
    folder: &ingest::SeedsFolder,
    candidate: &Candidate,
    keep_body: bool,
) -> Option<Record> {
    let display = ingest::display_path(folder.path(), &candidate.file.relative);
    let record = |digest, article, diagnostics| Record {
        len: candidate.len,
        modified: candidate.modified,
        digest,
        display: display.clone(),
        article,
        diagnostics,
    };
    match ingest::read_seed(
        folder,
        &candidate.file.relative,
        &display,
        config.seeds.max_file_bytes,
    ) {
        Ok(bytes) => {
            let digest = xxhash_rust::xxh3::xxh3_128(&bytes);
            if candidate.previous_digest == Some(digest) {
                return None;
            }
            let (article, diagnostics) = parser.parse(&display, &candidate.file.relative, &bytes);
            let article = article.map(|article| {
                let topics = matcher.classify(&article).into();
                Indexed::new(article, topics, keep_body)
            });
            Some(record(Some(digest), article, diagnostics))
        }
        Err(rejected) => Some(record(None, None, vec![rejected])),
    }
}

/// `path` under `root`, with `/` separators; `None` outside it.
fn relative_to(root: &Path, path: &Path) -> Option<String> {
    let relative = path.strip_prefix(root).ok()?;
    let parts: Option<Vec<&str>> = relative
        .components()
        .map(|c| c.as_os_str().to_str())
        .collect();
    Some(parts?.join("/"))
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use filetime::FileTime;

    use super::*;
    use std::sync::Arc;

    use crate::model::{Article, ArticleHead};

    fn config(keyword: &str) -> Config {
        let text = format!(
            "[[topic]]\nslug = \"ukraine\"\ntitle = \"Ukraine\"\nkeywords = [\"{keyword}\"]\n"
        );
        Config::parse(&text, Path::new("tidings.toml")).unwrap()
    }

    fn seed(title: &str, slug: &str) -> String {
        format!(
            "{title}\n\n2024-06-03 10:00\n\nA paragraph written in Kyiv.\n\n\
             Original url: <https://example.org/{slug}>\n"
        )
    }

    /// A seeds folder inside a temporary folder (so that there is an
    /// outside), with `files` written into it.
    fn seeds(files: &[(&str, &str)]) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let seeds = dir.path().join("seeds");
        std::fs::create_dir(&seeds).unwrap();
        for (path, text) in files {
            let path = seeds.join(path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
        (dir, seeds)
    }

    /// Every published article and every diagnostic, by a plain pass over
    /// every record (duplicates settled by `Ingested::from_files`): the
    /// reference the running ranking is checked against.
    fn ingested(index: &SeedIndex) -> crate::ingest::Ingested<Indexed> {
        let files = index
            .records
            .values()
            .map(|r| (r.display.clone(), r.article.clone(), r.diagnostics.clone()))
            .collect();
        let mut ingested = crate::ingest::Ingested::from_files(files);
        ingested.diagnostics.extend(index.listing.iter().cloned());
        ingest::sort_diagnostics(&mut ingested.diagnostics);
        ingested
    }

    /// The whole article of the record at `relative` (these indexes are
    /// small enough to hold every body).
    fn article(index: &SeedIndex, relative: &str) -> Arc<Article> {
        let indexed = index.records[relative].article.as_ref().expect("published");
        Arc::clone(indexed.whole.get().expect("held whole"))
    }

    fn set_mtime(path: &Path, seconds_later: u64) {
        let modified = std::fs::metadata(path).unwrap().modified().unwrap();
        let later = modified + Duration::from_secs(seconds_later);
        filetime::set_file_mtime(path, FileTime::from_system_time(later)).unwrap();
    }

    #[test]
    fn rescan_reads_every_seed_once_and_then_only_what_changed() {
        let (_dir, seeds) = seeds(&[
            ("a.txt", &seed("Alpha", "a")),
            ("sub/b.txt", &seed("Beta", "b")),
            ("broken.txt", "A title and nothing else\n"),
            ("notes.json", "{}"),
            (".hidden.txt", &seed("Hidden", "hidden")),
        ]);
        let config = config("Kyiv");
        let mut index = SeedIndex::new(seeds.clone());
        assert_eq!(index.rescan(&config).unwrap(), 3);
        assert_eq!(index.len(), 3);
        let ingested = ingested(&index);
        assert_eq!(ingested.articles.len(), 2);
        let errors: Vec<_> = ingested
            .diagnostics
            .iter()
            .filter(|d| d.is_error())
            .collect();
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert!(errors[0].path.ends_with("seeds/broken.txt"), "{errors:?}");

        assert_eq!(index.rescan(&config).unwrap(), 0);
        std::fs::write(seeds.join("sub/b.txt"), seed("Beta, longer", "b")).unwrap();
        std::fs::remove_file(seeds.join("a.txt")).unwrap();
        std::fs::write(seeds.join("c.txt"), seed("Gamma", "c")).unwrap();
        assert_eq!(index.rescan(&config).unwrap(), 3);
        assert_eq!(index.len(), 3);
        assert_eq!(index.rescan(&config).unwrap(), 0);
    }

    #[test]
    fn touch_or_an_identical_write_changes_nothing_and_keeps_the_article() {
        let text = seed("Alpha", "a");
        let (_dir, seeds) = seeds(&[("a.txt", &text)]);
        let path = seeds.join("a.txt");
        let config = config("Kyiv");
        let mut index = SeedIndex::new(seeds.clone());
        index.rescan(&config).unwrap();
        let before = article(&index, "a.txt");

        set_mtime(&path, 5);
        assert_eq!(index.refresh(&config, std::slice::from_ref(&path)), 0);
        assert!(Arc::ptr_eq(&before, &article(&index, "a.txt")));
        // The new time is remembered, so a rescan does not read it again.
        let modified = std::fs::metadata(&path).unwrap().modified().ok();
        assert_eq!(index.records["a.txt"].modified, modified);
        assert_eq!(index.rescan(&config).unwrap(), 0);

        std::fs::write(&path, &text).unwrap();
        set_mtime(&path, 10);
        assert_eq!(index.refresh(&config, std::slice::from_ref(&path)), 0);
        // A rescan reads a file whose time moved, and finds the same bytes.
        set_mtime(&path, 10);
        assert_eq!(index.rescan(&config).unwrap(), 0);
        assert!(Arc::ptr_eq(&before, &article(&index, "a.txt")));

        // Catalogs built from the index share the very same article.
        let ingested = ingested(&index);
        assert!(Arc::ptr_eq(
            &before,
            ingested.articles[0].whole.get().unwrap()
        ));
    }

    #[test]
    fn refresh_sees_a_same_size_write_that_kept_the_time() {
        let (_dir, seeds) = seeds(&[("a.txt", &seed("Alpha", "a"))]);
        let path = seeds.join("a.txt");
        let config = config("Kyiv");
        let mut index = SeedIndex::new(seeds.clone());
        index.rescan(&config).unwrap();
        let modified = std::fs::metadata(&path).unwrap().modified().unwrap();
        std::fs::write(&path, seed("Omega", "a")).unwrap();
        filetime::set_file_mtime(&path, FileTime::from_system_time(modified)).unwrap();

        // A rescan trusts size and time; the watcher's path is read again.
        assert_eq!(index.rescan(&config).unwrap(), 0);
        assert_eq!(index.refresh(&config, std::slice::from_ref(&path)), 1);
        assert_eq!(article(&index, "a.txt").title, "Omega");
    }

    #[test]
    fn refresh_of_a_deleted_folder_forgets_everything_under_it() {
        let (_dir, seeds) = seeds(&[
            ("sub/one.txt", &seed("One", "one")),
            ("sub/deeper/two.txt", &seed("Two", "two")),
            ("sub/broken.txt", ""),
            // Same leading characters as the folder, not under it.
            ("subway.txt", &seed("Subway", "subway")),
            ("sub.txt", &seed("Sub", "sub")),
        ]);
        let config = config("Kyiv");
        let mut index = SeedIndex::new(seeds.clone());
        assert_eq!(index.rescan(&config).unwrap(), 5);

        std::fs::remove_dir_all(seeds.join("sub")).unwrap();
        // A watcher names the folder and, often, the files in it too.
        let paths = [seeds.join("sub/one.txt"), seeds.join("sub")];
        assert_eq!(index.refresh(&config, &paths), 3);
        let left: Vec<&String> = index.records.keys().collect();
        assert_eq!(left, ["sub.txt", "subway.txt"]);
        assert_eq!(ingested(&index).articles.len(), 2);
        assert_eq!(index.refresh(&config, &paths), 0);
    }

    #[test]
    fn refresh_of_a_folder_moved_in_reads_everything_in_it() {
        let (dir, seeds) = seeds(&[("a.txt", &seed("Alpha", "a"))]);
        let config = config("Kyiv");
        let mut index = SeedIndex::new(seeds.clone());
        index.rescan(&config).unwrap();
        let outside = dir.path().join("desk");
        std::fs::create_dir_all(outside.join("deeper")).unwrap();
        std::fs::write(outside.join("one.txt"), seed("One", "one")).unwrap();
        std::fs::write(outside.join("deeper/two.txt"), seed("Two", "two")).unwrap();
        std::fs::rename(&outside, seeds.join("desk")).unwrap();

        assert_eq!(index.refresh(&config, &[seeds.join("desk")]), 2);
        assert_eq!(ingested(&index).articles.len(), 3);
    }

    #[test]
    fn paths_outside_the_seeds_folder_are_ignored() {
        let (dir, seeds) = seeds(&[("a.txt", &seed("Alpha", "a"))]);
        let config = config("Kyiv");
        let mut index = SeedIndex::new(seeds.clone());
        index.rescan(&config).unwrap();
        let outside = dir.path().join("seeds-old");
        std::fs::create_dir(&outside).unwrap();
        std::fs::write(outside.join("x.txt"), seed("Outside", "x")).unwrap();
        std::fs::write(dir.path().join("y.txt"), seed("Beside", "y")).unwrap();
        std::fs::write(seeds.join(".hidden.txt"), seed("Hidden", "h")).unwrap();

        let paths = [
            outside.join("x.txt"),
            outside.clone(),
            dir.path().join("y.txt"),
            dir.path().to_path_buf(),
            seeds.join("../y.txt"),
            seeds.join(".."),
            seeds.join("../seeds-old"),
            seeds.join(".hidden.txt"),
            PathBuf::from("/"),
        ];
        assert_eq!(index.refresh(&config, &paths), 0);
        let known: Vec<&String> = index.records.keys().collect();
        assert_eq!(known, ["a.txt"]);
        assert_eq!(ingested(&index).articles.len(), 1);
    }

    /// Each feed as the view shows it (entry paths, total, date), the
    /// diagnostics and when the next scheduled article is due: the running
    /// selection against a plain pass over every published article.
    type Outcome = (
        Vec<(Vec<String>, usize, String)>,
        Vec<String>,
        Option<String>,
    );

    fn running(index: &SeedIndex, config: &Config) -> Outcome {
        let (shown, selection) = index.selection(config);
        let next_due = index.next_due().map(|due| due.to_rfc3339());
        outcome(config, &selection, &shown, &index.diagnostics(), next_due)
    }

    fn plain(index: &SeedIndex, config: &Config) -> Outcome {
        let ingested = ingested(index);
        let heads: Vec<&ArticleHead> = ingested.articles.iter().map(Indexed::head).collect();
        let topics: Vec<&[usize]> = ingested
            .articles
            .iter()
            .map(Indexed::topic_indexes)
            .collect();
        let now = index.ranking.now().to_utc();
        let selection = crate::select::select(config, &heads, &topics, now);
        let next_due = heads
            .iter()
            .map(|head| head.published)
            .filter(|published| *published > now)
            .min()
            .map(|due| due.to_rfc3339());
        outcome(
            config,
            &selection,
            &ingested.articles,
            &ingested.diagnostics,
            next_due,
        )
    }

    fn outcome(
        config: &Config,
        selection: &crate::select::Selection,
        articles: &[Indexed],
        diagnostics: &[Diagnostic],
        next_due: Option<String>,
    ) -> Outcome {
        let site = crate::select::view(
            config,
            selection,
            |p| articles[p].head(),
            |p| Some(articles[p].head()),
            |p| std::borrow::Cow::Borrowed(articles[p].topic_indexes()),
        );
        let feeds = site
            .feeds
            .iter()
            .map(|feed| {
                let paths = feed
                    .entries
                    .iter()
                    .map(|e| e.article.source.clone())
                    .collect();
                (paths, feed.total, feed.updated.to_rfc3339())
            })
            .collect();
        (
            feeds,
            diagnostics.iter().map(|d| d.to_string()).collect(),
            next_due,
        )
    }

    /// What happens to the seeds folder, or to the time, in the property
    /// test below.
    #[derive(Debug, Clone)]
    enum Step {
        /// File `n.txt` is written with the date, URL and place of these
        /// indexes.
        Write(usize, usize, usize, usize),
        Delete(usize),
        /// The index is released this many hours later than its `now`.
        Wait(i64),
    }

    fn step() -> impl proptest::strategy::Strategy<Value = Step> {
        use proptest::prelude::*;
        prop_oneof![
            8 => (0..8usize, 0..6usize, 0..3usize, 0..4usize)
                .prop_map(|(file, date, url, place)| Step::Write(file, date, url, place)),
            2 => (0..8usize).prop_map(Step::Delete),
            2 => (1..30i64).prop_map(Step::Wait),
        ]
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(48))]

        /// Writes, rewrites and deletes of a few files whose ids, dates and
        /// topics collide on purpose, some dated after the index's `now`,
        /// and releases as time goes by: after every step the running
        /// selection is what a pass over everything chooses.
        #[test]
        fn the_running_selection_is_what_a_full_pass_chooses(
            steps in proptest::collection::vec(step(), 1..24)
        ) {
            let (_dir, seeds) = seeds(&[]);
            let config = Config::parse(
                "[site]\nmax_entries = 3\n\
                 [[topic]]\nslug = \"ukraine\"\nkeywords = [\"Kyiv\"]\n\
                 [[topic]]\nslug = \"russia\"\nkeywords = [\"Moscow\"]\n",
                Path::new("tidings.toml"),
            )
            .unwrap();
            let start = DateTime::parse_from_rfc3339("2024-06-02T00:00:00Z").unwrap().to_utc();
            let mut index = SeedIndex::new(seeds.clone()).as_of(start);
            index.rescan(&config).unwrap();
            for step in steps {
                let (file, write) = match step {
                    Step::Write(file, date, url, place) => (file, Some((date, url, place))),
                    Step::Delete(file) => (file, None),
                    Step::Wait(hours) => {
                        let later = index.ranking.now().to_utc() + chrono::TimeDelta::hours(hours);
                        index.release(later);
                        proptest::prop_assert_eq!(running(&index, &config), plain(&index, &config));
                        continue;
                    }
                };
                let path = seeds.join(format!("{file}.txt"));
                match write {
                    Some((date, url, place)) => {
                        let place = ["Kyiv", "Moscow", "Kyiv and Moscow", "Lisbon"][place];
                        let url = match url {
                            0 => String::new(),
                            n => format!("Original url: https://example.org/{n}\n"),
                        };
                        let date = [
                            "2024-06-01",
                            "2024-06-02 10:00",
                            "2024-06-02T10:00:00+02:00",
                            "2024-06-03",
                            "2024-06-01 23:30",
                            "2024-06-02 10:00",
                        ][date];
                        let text = if file == 7 {
                            "No date here\n".to_string()
                        } else {
                            format!("News {file} from {place}\n\n{date}\n\nWritten in {place}.\n\n{url}")
                        };
                        std::fs::write(&path, text).unwrap();
                    }
                    None => {
                        let _ = std::fs::remove_file(&path);
                    }
                }
                index.refresh(&config, std::slice::from_ref(&path));
                proptest::prop_assert_eq!(running(&index, &config), plain(&index, &config));
            }
        }
    }

    #[test]
    fn two_paths_of_one_page_warn_until_one_is_gone() {
        let (_dir, seeds) = seeds(&[
            ("a.txt", &seed("Alpha", "a")),
            (
                "a.md",
                "+++\ntitle = \"Alpha again\"\ndate = 2024-05-24\n+++\nText.\n",
            ),
            ("b.txt", &seed("Beta", "b")),
        ]);
        let config = config("Kyiv");
        let mut index = SeedIndex::new(seeds.clone());
        index.rescan(&config).unwrap();
        let warnings: Vec<String> = index
            .diagnostics()
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(
            warnings[0].contains("seeds/a.txt:1: warning: no article page: ")
                && warnings[0].contains("seeds/a.md has the same page (/articles/a/)"),
            "{warnings:?}"
        );
        std::fs::remove_file(seeds.join("a.md")).unwrap();
        index.refresh(&config, &[seeds.join("a.md")]);
        assert_eq!(index.diagnostics(), []);
    }

    #[test]
    fn a_scheduled_article_is_published_when_released_at_its_date() {
        let soon = "Soon\n\n2024-06-05T09:00:00+03:00\n\nWritten in Kyiv.\n\n\
                    Original url: <https://example.org/a>\n";
        let (_dir, seeds) = seeds(&[
            ("a.txt", &seed("Alpha", "a")),
            // The same id as `a.txt`, earlier by path and dated later: it
            // claims the id while it waits, so neither file is published.
            ("0-soon.txt", soon),
            ("b.txt", &seed("Beta", "b")),
        ]);
        let config = config("Kyiv");
        let start = DateTime::parse_from_rfc3339("2024-06-04T00:00:00Z")
            .unwrap()
            .to_utc();
        let mut index = SeedIndex::new(seeds.clone()).as_of(start);
        index.rescan(&config).unwrap();
        let shown = |index: &SeedIndex| -> Vec<String> {
            let (shown, _) = index.selection(&config);
            shown.iter().map(|a| a.head().source.clone()).collect()
        };
        assert_eq!(shown(&index), ["b.txt"]);
        let due = DateTime::parse_from_rfc3339("2024-06-05T06:00:00Z").unwrap();
        assert_eq!(index.next_due(), Some(due));
        let waiting: Vec<&str> = index
            .scheduled()
            .map(|a| a.head().source.as_str())
            .collect();
        assert_eq!(waiting, ["0-soon.txt"]);
        assert_eq!(index.diagnostics().len(), 1, "{:?}", index.diagnostics());

        let just_before = due.to_utc() - chrono::TimeDelta::seconds(1);
        assert_eq!(index.release(just_before), 0);
        // The config changed: everything is read again as of the same time.
        assert_eq!(index.reparse(&config).unwrap(), 3);
        assert_eq!(shown(&index), ["b.txt"]);
        assert_eq!(index.release(due.to_utc()), 1);
        assert_eq!(shown(&index), ["0-soon.txt", "b.txt"]);
        assert_eq!(index.next_due(), None);
        assert_eq!(index.release(due.to_utc() + chrono::TimeDelta::days(1)), 0);
        // Time does not go back.
        assert_eq!(index.release(start), 0);
        assert_eq!(shown(&index), ["0-soon.txt", "b.txt"]);
    }

    #[test]
    fn reparse_after_a_config_change_reads_everything_again() {
        let (_dir, seeds) = seeds(&[
            ("a.txt", &seed("Alpha", "a")),
            ("sub/b.txt", &seed("Beta", "b")),
            ("broken.txt", "A title and nothing else\n"),
        ]);
        let kyiv = config("Kyiv");
        let mut index = SeedIndex::new(seeds.clone());
        index.rescan(&kyiv).unwrap();
        let before = article(&index, "a.txt");
        assert_eq!(
            &*index.records["a.txt"].article.as_ref().unwrap().topics,
            [0]
        );

        let lviv = config("Lviv");
        assert_eq!(index.reparse(&lviv).unwrap(), 3);
        assert!(!Arc::ptr_eq(&before, &article(&index, "a.txt")));
        for indexed in ingested(&index).articles {
            assert!(indexed.topics.is_empty(), "{:?}", indexed.head.source);
        }
        assert_eq!(index.rescan(&lviv).unwrap(), 0);
    }
}
