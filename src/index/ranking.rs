//! The running ranking: every feed's published articles in feed order,
//! kept up to date file by file.
//!
//! A reload at 100,000 articles must not cost 100,000 of anything, so the
//! index does not choose feed entries by a pass over every article (as
//! [`select::select`](crate::select::select) does). It keeps, as records come and go, which file
//! publishes each id (the first by path; later ones get a warning), each
//! feed's articles newest first, and the dates, so the entries a feed shows
//! are read off the top of its ranking. It holds the records' own heads,
//! so it costs a few pointers per article.
//!
//! An article dated after the ranking's `now` is scheduled: it claims its
//! id like any other, but waits by date outside every feed until
//! `Ranking::release` moves `now` past it. Releasing takes the due ones
//! off the front of that queue, so it costs what is due, not what waits.

use std::borrow::Borrow;
use std::cmp::Ordering;
use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use chrono::{DateTime, FixedOffset};
use imbl::{OrdMap, OrdSet};

use crate::layout;
use crate::model::{ArticleHead, ArticleId};

use super::history::{History, Ranked};

/// Published articles ranked per feed.
#[derive(Debug)]
pub(super) struct Ranking {
    /// Every article id with the files that give it (head and topics), by
    /// path; the first publishes it, the others get a warning.
    claims: HashMap<ById, Vec<Claim>>,
    /// Ids given by more than one file.
    contested: BTreeSet<ArticleId>,
    /// Published articles as feeds list them, per feed: `all`, then the
    /// topics in config order. Persistent sets, so that a snapshot of every
    /// feed's whole history ([`History`]) costs a few pointer copies.
    feeds: Vec<OrdSet<Ranked>>,
    /// Published articles by `updated` date.
    updated: BTreeSet<ByUpdated>,
    /// Published articles by the slug of their page and their path (two
    /// paths may give one slug, as `a.txt` and `a.md` do: the first by path
    /// has the page). Persistent, like `feeds`.
    pages: OrdMap<(String, String), Ranked>,
    /// Slugs that more than one published article's path gives.
    shared_pages: BTreeSet<String>,
    /// Articles that publish their id but are dated after `now`, soonest
    /// first: in no feed and no date until they are due.
    scheduled: BTreeSet<Scheduled>,
    /// The moment the feeds are up to date with; it only moves forward.
    now: DateTime<FixedOffset>,
}

/// A file's claim to an id: its article's head and topics.
#[derive(Debug, Clone)]
struct Claim {
    head: Arc<ArticleHead>,
    topics: Arc<[usize]>,
}

impl Ranking {
    /// An empty ranking whose articles dated after `now` are scheduled.
    pub(super) fn new(now: DateTime<FixedOffset>) -> Self {
        Self {
            claims: HashMap::new(),
            contested: BTreeSet::new(),
            feeds: Vec::new(),
            updated: BTreeSet::new(),
            pages: OrdMap::new(),
            shared_pages: BTreeSet::new(),
            scheduled: BTreeSet::new(),
            now,
        }
    }

    /// The moment the feeds are up to date with.
    pub(super) fn now(&self) -> DateTime<FixedOffset> {
        self.now
    }

    /// Moves `now` forward to `now` and ranks every scheduled article that
    /// is due by then; returns how many. An earlier `now` changes nothing.
    pub(super) fn release(&mut self, now: DateTime<FixedOffset>) -> usize {
        if now <= self.now {
            return 0;
        }
        self.now = now;
        let mut released = 0;
        while self
            .scheduled
            .first()
            .is_some_and(|s| s.0.head.published <= now)
        {
            let Some(Scheduled(due)) = self.scheduled.pop_first() else {
                break;
            };
            self.rank(&due.head, &due.topics, true);
            released += 1;
        }
        released
    }

    /// When the soonest scheduled article is due.
    pub(super) fn next_due(&self) -> Option<DateTime<FixedOffset>> {
        self.scheduled.first().map(|s| s.0.head.published)
    }

    /// The heads of the scheduled articles, soonest first.
    pub(super) fn scheduled(&self) -> impl Iterator<Item = &Arc<ArticleHead>> {
        self.scheduled.iter().map(|s| &s.0.head)
    }

    /// The file of `head` gives its id: it is published unless a file
    /// earlier by path gives the same id, and it unpublishes a later one.
    pub(super) fn claim(&mut self, head: &Arc<ArticleHead>, topics: &Arc<[usize]>) {
        let claimants = self.claims.entry(ById(Arc::clone(head))).or_default();
        let before = claimants.first().cloned();
        let at = claimants.partition_point(|c| c.head.source < head.source);
        claimants.insert(
            at,
            Claim {
                head: Arc::clone(head),
                topics: Arc::clone(topics),
            },
        );
        if claimants.len() > 1 {
            self.contested.insert(head.id.clone());
        }
        if at == 0 {
            if let Some(before) = before {
                self.rank(&before.head, &before.topics, false);
            }
            self.rank(head, topics, true);
        }
    }

    /// The file of `head` no longer gives its id: the next file that gives
    /// it, if any, publishes it.
    pub(super) fn unclaim(&mut self, head: &Arc<ArticleHead>) {
        let Some(claimants) = self.claims.get_mut(&head.id) else {
            return;
        };
        let Some(at) = claimants.iter().position(|c| c.head.source == head.source) else {
            return;
        };
        let removed = claimants.remove(at);
        let next = claimants.first().cloned();
        if claimants.len() <= 1 {
            self.contested.remove(&head.id);
        }
        if claimants.is_empty() {
            self.claims.remove(&head.id);
        }
        if at == 0 {
            self.rank(head, &removed.topics, false);
            if let Some(next) = next {
                self.rank(&next.head, &next.topics, true);
            }
        }
    }

    /// The heads of the newest `max` articles of feed `feed` (`0` is `all`,
    /// then the topics in config order), and how many the feed has.
    pub(super) fn top(
        &self,
        feed: usize,
        max: usize,
    ) -> (impl Iterator<Item = &Arc<ArticleHead>>, usize) {
        let ranked = self.feeds.get(feed);
        let top = ranked.into_iter().flatten().take(max).map(|r| &r.head);
        (top, ranked.map_or(0, OrdSet::len))
    }

    /// Every feed's published articles as they are now, for `feeds` feeds
    /// (`all` and the configured topics): a snapshot that later changes to
    /// the ranking leave as it is.
    pub(super) fn history(&self, feeds: usize) -> History {
        let mut orders = self.feeds.clone();
        orders.resize_with(feeds.max(orders.len()), OrdSet::new);
        orders.truncate(feeds);
        History::new(orders, self.pages.clone())
    }

    /// The newest `updated` of every published article.
    pub(super) fn newest(&self) -> Option<DateTime<FixedOffset>> {
        self.updated.last().map(|dated| dated.0.updated)
    }

    /// Each id given by more than one file, with the paths of those files,
    /// the publishing one first.
    pub(super) fn contested(&self) -> impl Iterator<Item = (&ArticleId, Vec<&str>)> {
        self.contested.iter().map(|id| {
            let paths = self.claims[id]
                .iter()
                .map(|c| c.head.source.as_str())
                .collect();
            (id, paths)
        })
    }

    /// Puts `head` into (or, with `published` false, takes it out of) `all`,
    /// the feeds of `topics` and the dates; or, when it is dated after
    /// `now`, into (out of) the scheduled articles.
    fn rank(&mut self, head: &Arc<ArticleHead>, topics: &Arc<[usize]>, published: bool) {
        if head.published > self.now {
            let waiting = Scheduled(Claim {
                head: Arc::clone(head),
                topics: Arc::clone(topics),
            });
            if published {
                self.scheduled.insert(waiting);
            } else {
                self.scheduled.remove(&waiting);
            }
            return;
        }
        let wanted = topics.iter().max().map_or(1, |max| max + 2);
        if self.feeds.len() < wanted {
            self.feeds.resize_with(wanted, OrdSet::new);
        }
        let ranked = Ranked {
            head: Arc::clone(head),
            topics: Arc::clone(topics),
        };
        for feed in std::iter::once(0).chain(topics.iter().map(|t| t + 1)) {
            if published {
                self.feeds[feed].insert(ranked.clone());
            } else {
                self.feeds[feed].remove(&ranked);
            }
        }
        let slug = layout::article_slug(&head.source);
        let page = (slug.clone(), head.source.clone());
        if published {
            self.updated.insert(ByUpdated(Arc::clone(head)));
            self.pages.insert(page, ranked);
        } else {
            self.updated.remove(&ByUpdated(Arc::clone(head)));
            self.pages.remove(&page);
        }
        if self.paths_of_page(&slug).nth(1).is_some() {
            self.shared_pages.insert(slug);
        } else {
            self.shared_pages.remove(&slug);
        }
    }

    /// The paths of the published articles whose page is `slug`, in path
    /// order: the first has the page.
    fn paths_of_page<'a>(&'a self, slug: &'a str) -> impl Iterator<Item = &'a str> {
        self.pages
            .range((slug.to_owned(), String::new())..)
            .take_while(move |((found, _), _)| found == slug)
            .map(|((_, path), _)| path.as_str())
    }

    /// Each page slug that more than one published article's path gives,
    /// with those paths, the one that has the page first.
    pub(super) fn shared_pages(&self) -> impl Iterator<Item = (&str, Vec<&str>)> {
        self.shared_pages
            .iter()
            .map(|slug| (slug.as_str(), self.paths_of_page(slug).collect()))
    }
}

/// A head ordered by `updated`, ties by path, so that the last is the one
/// `Iterator::max` picks over articles in path order.
#[derive(Debug, Clone)]
struct ByUpdated(Arc<ArticleHead>);

/// A scheduled article, ordered by when it is due, ties by path (one
/// record per path, so no two are equal).
#[derive(Debug, Clone)]
struct Scheduled(Claim);

/// A head compared and hashed by its id alone.
#[derive(Debug, Clone)]
struct ById(Arc<ArticleHead>);

impl Ord for ByUpdated {
    fn cmp(&self, other: &Self) -> Ordering {
        (self.0.updated, &self.0.source).cmp(&(other.0.updated, &other.0.source))
    }
}

impl Ord for Scheduled {
    fn cmp(&self, other: &Self) -> Ordering {
        let (a, b) = (&self.0.head, &other.0.head);
        (a.published, &a.source).cmp(&(b.published, &b.source))
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
order_by_cmp!(ByUpdated, Scheduled);

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
