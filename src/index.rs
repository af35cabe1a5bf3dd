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
//! Memory must not grow with the archive either. When there are more
//! articles than the feeds can show (`max_entries` times the number of
//! feeds), the index keeps of each article only what choosing a feed's
//! entries needs (id, path, dates, topics) and reads the articles some
//! document shows again just before rendering ([`SeedIndex::hydrate`]). The static
//! build and the server both go through here, so both stay small.
//!
//! Nor must a reload visit the whole archive. The index keeps every feed's
//! ranking up to date record by record (which file publishes each id, each
//! feed's articles newest first, the newest date), so the entries every feed
//! shows are read off the top of its ranking ([`SeedIndex::selection`]).

use std::borrow::{Borrow, Cow};
use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use std::time::SystemTime;

use chrono::DateTime;

use crate::config::Config;
use crate::cores;
use crate::diagnostic::Diagnostic;
use crate::error::Result;
use crate::ingest::{self, SeedFile, SeedKind, SeedParser};
use crate::model::{Article, ArticleId};
use crate::publish::{Chosen, Placed, Selection};
use crate::render::EntryTexts;
use crate::topics::Matcher;

/// A parsed article and the topics it is in, shared between the index and
/// the article lists made from it.
#[derive(Debug, Clone)]
pub struct Indexed {
    /// Its id, source and dates: what ranking it needs, kept for as long as
    /// the record lives (the ranking shares it).
    head: Arc<Article>,
    /// The whole article once it is loaded; shared, so that loading it
    /// through the index shows in lists already made.
    whole: Arc<OnceLock<Arc<Article>>>,
    topics: Arc<[usize]>,
    /// The entry texts, once rendered from the whole article; shared like
    /// `whole`, and let go of with it.
    texts: Arc<OnceLock<Arc<EntryTexts>>>,
}

impl Indexed {
    fn new(article: Article, topics: Arc<[usize]>, keep_body: bool) -> Self {
        let whole = Arc::new(OnceLock::new());
        let head = Arc::new(head_of(&article));
        if keep_body {
            let _ = whole.set(Arc::new(article));
        }
        Self {
            head,
            whole,
            topics,
            texts: Arc::default(),
        }
    }

    /// Indexes into the configured topics, in config order.
    pub fn topic_indexes(&self) -> &[usize] {
        &self.topics
    }

    fn is_whole(&self) -> bool {
        self.whole.get().is_some()
    }

    /// The same article with only its head kept.
    fn without_body(&self) -> Self {
        Self {
            head: Arc::clone(&self.head),
            whole: Arc::new(OnceLock::new()),
            topics: Arc::clone(&self.topics),
            texts: Arc::default(),
        }
    }
}

/// What choosing a feed's entries needs of an article (the id, for
/// duplicates; the dates, for the order) and nothing else: the rest is read
/// again if the article comes into a feed.
fn head_of(article: &Article) -> Article {
    Article {
        id: article.id.clone(),
        source: article.source.clone(),
        title: String::new(),
        url: None,
        published: article.published,
        updated: article.updated,
        caption: None,
        paragraphs: Vec::new(),
        related: Vec::new(),
        content_html: String::new(),
        summary: String::new(),
        authors: Vec::new(),
        tags: Vec::new(),
        image: None,
    }
}

impl Borrow<Article> for Indexed {
    fn borrow(&self) -> &Article {
        self.whole.get().unwrap_or(&self.head)
    }
}

impl Placed for Indexed {
    fn article(&self) -> &Article {
        self.borrow()
    }

    fn topics(&self, _: &Matcher) -> Cow<'_, [usize]> {
        Cow::Borrowed(&self.topics)
    }

    fn entry_texts(&self, render: &dyn Fn() -> EntryTexts) -> Arc<EntryTexts> {
        // Texts of a head alone would be empty: only whole articles keep them.
        if !self.is_whole() {
            return Arc::new(render());
        }
        Arc::clone(self.texts.get_or_init(|| Arc::new(render())))
    }
}

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
}

/// Published articles ranked per feed, kept as records come and go, so that
/// the newest entries of every feed are known without visiting every
/// article (a reload at 100,000 articles must not cost 100,000 of anything).
/// It holds the records' own heads, so it costs a few pointers per article.
#[derive(Debug, Default)]
struct Ranking {
    /// Every article id with the heads of the files that give it, by path;
    /// the first publishes it, the others get a warning.
    claims: HashMap<ById, Vec<Arc<Article>>>,
    /// Ids given by more than one file.
    contested: BTreeSet<ArticleId>,
    /// Published articles as feeds list them, per feed: `all`, then the
    /// topics in config order.
    feeds: Vec<BTreeSet<Ranked>>,
    /// Published articles by `updated` date.
    updated: BTreeSet<ByUpdated>,
    /// Paths of the records that have diagnostics.
    noted: BTreeSet<String>,
}

/// A head ordered as feeds list entries: newest published first, ties
/// broken by id.
#[derive(Debug, Clone)]
struct Ranked(Arc<Article>);

/// A head ordered by `updated`, ties by path, so that the last is the one
/// `Iterator::max` picks over articles in path order.
#[derive(Debug, Clone)]
struct ByUpdated(Arc<Article>);

/// A head compared and hashed by its id alone.
#[derive(Debug, Clone)]
struct ById(Arc<Article>);

impl Ord for Ranked {
    fn cmp(&self, other: &Self) -> Ordering {
        crate::publish::newest_first(&self.0, &other.0)
    }
}

impl Ord for ByUpdated {
    fn cmp(&self, other: &Self) -> Ordering {
        (self.0.updated, &self.0.source).cmp(&(other.0.updated, &other.0.source))
    }
}

macro_rules! order_by_cmp {
    ($($name:ident),*) => {$(
        impl PartialOrd for $name {
            fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
                Some(self.cmp(other))
            }
        }
        impl PartialEq for $name {
            fn eq(&self, other: &Self) -> bool {
                self.cmp(other) == Ordering::Equal
            }
        }
        impl Eq for $name {}
    )*};
}
order_by_cmp!(Ranked, ByUpdated);

impl PartialEq for ById {
    fn eq(&self, other: &Self) -> bool {
        self.0.id == other.0.id
    }
}

impl Eq for ById {}

impl std::hash::Hash for ById {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.0.id.hash(state);
    }
}

impl Borrow<ArticleId> for ById {
    fn borrow(&self) -> &ArticleId {
        &self.0.id
    }
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
    /// An empty index of `seeds_dir`; [`SeedIndex::rescan`] fills it.
    pub fn new(seeds_dir: PathBuf) -> Self {
        Self {
            seeds_dir,
            records: BTreeMap::new(),
            whole: BTreeSet::new(),
            listing: Vec::new(),
            one_pass: false,
            ranking: Ranking::default(),
        }
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
        self.ranking = Ranking::default();
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

    /// Loads the bodies of the articles at `shown` (paths under the seeds
    /// folder) that are held without one, and, when there are more articles
    /// than the feeds can show, lets go of every other body. The bodies
    /// appear in the article lists already made by [`SeedIndex::selection`].
    /// A file that changed since it was indexed gives its new body; the
    /// watcher's event for that change brings the rest up to date.
    pub fn hydrate(&mut self, config: &Config, shown: &HashSet<&str>) {
        // Only the shown articles and those held whole are visited, so the
        // cost follows the feeds' size, not the archive's.
        let parser = SeedParser::new(config);
        for relative in shown {
            let Some(record) = self.records.get_mut(*relative) else {
                continue;
            };
            let Some(indexed) = &mut record.article else {
                continue;
            };
            if !indexed.is_whole() {
                let article =
                    read_article(config, &self.seeds_dir, &parser, &record.display, relative);
                if let Some(article) = article {
                    let _ = indexed.whole.set(Arc::new(article));
                }
            }
            if indexed.is_whole() {
                self.whole.insert((*relative).to_owned());
            }
        }
        if self.records.len() <= showable(config) {
            return;
        }
        let unshown: Vec<String> = self
            .whole
            .iter()
            .filter(|relative| !shown.contains(relative.as_str()))
            .cloned()
            .collect();
        for relative in unshown {
            self.whole.remove(&relative);
            if let Some(indexed) = self
                .records
                .get_mut(&relative)
                .and_then(|r| r.article.as_mut())
            {
                *indexed = indexed.without_body();
            }
        }
    }

    /// The whole article of `indexed`: the one held, or the file read and
    /// parsed again. `None` when the file no longer gives an article (it
    /// changed or went away since it was indexed).
    pub fn read_whole(
        &self,
        config: &Config,
        parser: &SeedParser<'_>,
        indexed: &Indexed,
    ) -> Option<Arc<Article>> {
        if let Some(whole) = indexed.whole.get() {
            return Some(Arc::clone(whole));
        }
        let relative = indexed.head.source.as_str();
        let display = ingest::display_path(&self.seeds_dir, relative);
        read_article(config, &self.seeds_dir, parser, &display, relative).map(Arc::new)
    }

    /// The articles some feed shows, and every feed's entries by position
    /// among them; the index's running ranking gives both without visiting
    /// the other articles.
    pub fn selection(&self, config: &Config) -> (Vec<Indexed>, Selection) {
        let mut shown: Vec<Indexed> = Vec::new();
        let mut positions: HashMap<&str, usize> = HashMap::new();
        let feeds = (0..=config.topics.len())
            .map(|feed| {
                let ranked = self.ranking.feeds.get(feed);
                let chosen = ranked
                    .into_iter()
                    .flatten()
                    .take(config.site.max_entries)
                    .map(|Ranked(head)| {
                        let path = head.source.as_str();
                        *positions.entry(path).or_insert_with(|| {
                            let record = &self.records[path];
                            shown.push(record.article.clone().expect("ranked articles exist"));
                            shown.len() - 1
                        })
                    })
                    .collect();
                Chosen {
                    positions: chosen,
                    total: ranked.map_or(0, BTreeSet::len),
                }
            })
            .collect();
        let newest = self
            .ranking
            .updated
            .last()
            .map_or(DateTime::UNIX_EPOCH.fixed_offset(), |dated| dated.0.updated);
        (shown, Selection { feeds, newest })
    }

    /// Every diagnostic, sorted by file: the files' own, a warning for each
    /// file whose id an earlier one has, and folders that could not be
    /// listed.
    pub fn diagnostics(&self) -> Vec<Diagnostic> {
        let mut diagnostics: Vec<Diagnostic> = self
            .ranking
            .noted
            .iter()
            .flat_map(|path| self.records[path].diagnostics.iter().cloned())
            .collect();
        for id in &self.ranking.contested {
            let mut claimants = self.ranking.claims[id].iter();
            let first = claimants.next().expect("a contested id has claimants");
            let winner = &self.records[&first.source];
            for loser in claimants {
                let loser = &self.records[&loser.source];
                diagnostics.push(ingest::duplicate_warning(
                    &loser.display,
                    &winner.display,
                    id.as_str(),
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
            self.ranking.noted.insert(relative.clone());
        }
        let claim = record
            .article
            .as_ref()
            .map(|a| (Arc::clone(&a.head), Arc::clone(&a.topics)));
        self.records.insert(relative, record);
        if let Some((head, topics)) = claim {
            self.claim(head, &topics);
        }
    }

    /// Removes the record at `relative`, keeping the ranking.
    fn remove(&mut self, relative: &str) -> Option<Record> {
        let record = self.records.remove(relative)?;
        self.whole.remove(relative);
        self.ranking.noted.remove(relative);
        if let Some(indexed) = &record.article {
            self.unclaim(&indexed.head, &indexed.topics);
        }
        Some(record)
    }

    /// The file of `head` gives its id: it is published unless a file
    /// earlier by path gives the same id, and it unpublishes a later one.
    fn claim(&mut self, head: Arc<Article>, topics: &[usize]) {
        let claimants = self
            .ranking
            .claims
            .entry(ById(Arc::clone(&head)))
            .or_default();
        let before = claimants.first().cloned();
        let at = claimants.partition_point(|c| c.source < head.source);
        claimants.insert(at, Arc::clone(&head));
        if claimants.len() > 1 {
            self.ranking.contested.insert(head.id.clone());
        }
        if at == 0 {
            if let Some(before) = before {
                let topics = self.topics_at(&before.source);
                self.ranking.rank(&before, &topics, false);
            }
            self.ranking.rank(&head, topics, true);
        }
    }

    /// The file of `head` no longer gives its id: the next file that gives
    /// it, if any, publishes it.
    fn unclaim(&mut self, head: &Arc<Article>, topics: &[usize]) {
        let Some(claimants) = self.ranking.claims.get_mut(&head.id) else {
            return;
        };
        let Some(at) = claimants.iter().position(|c| c.source == head.source) else {
            return;
        };
        claimants.remove(at);
        let next = claimants.first().cloned();
        if claimants.len() <= 1 {
            self.ranking.contested.remove(&head.id);
        }
        if claimants.is_empty() {
            self.ranking.claims.remove(&head.id);
        }
        if at == 0 {
            self.ranking.rank(head, topics, false);
            if let Some(next) = next {
                let topics = self.topics_at(&next.source);
                self.ranking.rank(&next, &topics, true);
            }
        }
    }

    /// The topics of the article of the record at `path`.
    fn topics_at(&self, path: &str) -> Arc<[usize]> {
        let indexed = self.records[path]
            .article
            .as_ref()
            .expect("a claiming record has an article");
        Arc::clone(&indexed.topics)
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
            !self.one_pass && self.records.len() + candidates.len() <= showable(config);
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

impl Ranking {
    /// Puts `head` into (or, with `published` false, takes it out of) `all`,
    /// the feeds of `topics` and the dates.
    fn rank(&mut self, head: &Arc<Article>, topics: &[usize], published: bool) {
        let wanted = topics.iter().max().map_or(1, |max| max + 2);
        if self.feeds.len() < wanted {
            self.feeds.resize_with(wanted, BTreeSet::new);
        }
        for feed in std::iter::once(0).chain(topics.iter().map(|t| t + 1)) {
            if published {
                self.feeds[feed].insert(Ranked(Arc::clone(head)));
            } else {
                self.feeds[feed].remove(&Ranked(Arc::clone(head)));
            }
        }
        if published {
            self.updated.insert(ByUpdated(Arc::clone(head)));
        } else {
            self.updated.remove(&ByUpdated(Arc::clone(head)));
        }
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

/// The article in the seed file at `relative`, if it still gives one.
fn read_article(
    config: &Config,
    seeds_dir: &Path,
    parser: &SeedParser<'_>,
    display: &str,
    relative: &str,
) -> Option<Article> {
    let folder = ingest::SeedsFolder::locate(seeds_dir);
    let bytes = ingest::read_seed(&folder, relative, display, config.seeds.max_file_bytes).ok()?;
    parser.parse(display, relative, &bytes).0
}

/// How many articles the feeds can show at most: above this, bodies are
/// loaded only for the articles shown.
fn showable(config: &Config) -> usize {
    config
        .site
        .max_entries
        .saturating_mul(config.topics.len() + 1)
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

    /// The article of the record at `relative`: whole when held whole.
    fn article(index: &SeedIndex, relative: &str) -> Arc<Article> {
        let indexed = index.records[relative].article.as_ref().expect("published");
        Arc::clone(indexed.whole.get().unwrap_or(&indexed.head))
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

    /// Each feed as the view shows it (entry paths, total, date), and the
    /// diagnostics: the running selection against a plain pass over every
    /// published article.
    type Outcome = (Vec<(Vec<String>, usize, String)>, Vec<String>);

    fn running(index: &SeedIndex, config: &Config) -> Outcome {
        let (shown, selection) = index.selection(config);
        let site = crate::publish::view(config, &shown, &selection, |p| {
            Cow::Borrowed(shown[p].topic_indexes())
        });
        outcome(&site, &index.diagnostics())
    }

    fn plain(index: &SeedIndex, config: &Config) -> Outcome {
        let ingested = ingested(index);
        let site = crate::publish::site_view(config, &ingested.articles);
        outcome(&site, &ingested.diagnostics)
    }

    fn outcome(site: &crate::render::SiteView<'_>, diagnostics: &[Diagnostic]) -> Outcome {
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
        (feeds, diagnostics.iter().map(|d| d.to_string()).collect())
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(48))]

        /// Writes, rewrites and deletes of a few files whose ids, dates and
        /// topics collide on purpose: after every change the running
        /// selection is what a pass over everything chooses.
        #[test]
        fn the_running_selection_is_what_a_full_pass_chooses(
            ops in proptest::collection::vec(
                (0..8usize, proptest::option::weighted(0.8, (0..4usize, 0..3usize, 0..4usize))),
                1..24,
            )
        ) {
            let (_dir, seeds) = seeds(&[]);
            let config = Config::parse(
                "[site]\nmax_entries = 3\n\
                 [[topic]]\nslug = \"ukraine\"\nkeywords = [\"Kyiv\"]\n\
                 [[topic]]\nslug = \"russia\"\nkeywords = [\"Moscow\"]\n",
                Path::new("tidings.toml"),
            )
            .unwrap();
            let mut index = SeedIndex::new(seeds.clone());
            index.rescan(&config).unwrap();
            for (file, write) in ops {
                let path = seeds.join(format!("{file}.txt"));
                match write {
                    Some((date, url, place)) => {
                        let place = ["Kyiv", "Moscow", "Kyiv and Moscow", "Lisbon"][place];
                        let url = match url {
                            0 => String::new(),
                            n => format!("Original url: https://example.org/{n}\n"),
                        };
                        let date = ["2024-06-01", "2024-06-02 10:00", "2024-06-02T10:00:00+02:00", "2024-06-03"][date];
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
