//! WebSub publishing (W3C WebSub §7): telling the hubs of `site.hub` that
//! feeds changed, so that their subscribers get a new article within
//! seconds instead of at their next poll.
//!
//! WebSub leaves the form of the notification to hubs and publishers. The
//! one hubs accept is a `POST` of `hub.mode=publish` with the changed URL,
//! which PubSubHubbub 0.4 hubs (Google's, Superfeedr) read from `hub.url`
//! and newer ones (flask-websub, websub.rocks) from `hub.topic`; a
//! notification here carries both, naming one URL, since some hubs read
//! only one. A `2xx` is success. The hub then fetches the feed, and finds
//! the hub and the feed's own URL in its `Link` headers (WebSub §4), which
//! `serve` sends on every feed response for that.
//!
//! Which URLs: the subscription feeds (`/feeds/{slug}.{rss,atom,json}`)
//! whose bytes changed, by digest: in `serve` between the catalog swapped
//! out and the one swapped in, in `tidings ping` between two builds'
//! [`Manifest`]s. A new feed counts as changed, one that went away does not
//! (there is nothing left to fetch). Archive documents never change
//! subscribers' view, so they are never sent.
//!
//! Delivery ([`Publisher`] in `serve`): each hub has a thread of its own,
//! so a slow hub never holds up another, and a queue that is the set of
//! its URLs still to send: enqueueing is a lock and a set insertion, never
//! a wait, so a reload cannot be held up, and a URL already waiting is not
//! queued twice (changes coalesce: the hub fetches the latest bytes anyway).
//! The set holds at most `MAX_PENDING` URLs; past that, new ones are
//! dropped (counted and logged). A failure that may pass (no connection, a
//! timeout, `408`, `425`, `429`, `5xx`) is retried with exponential backoff
//! and jitter ([`Policy`]: 5 attempts, 1 s doubling to at most 30 s, each
//! wait drawn between half and all of that, so that many publishers do not
//! retry in step). A `Retry-After` on such an answer (seconds or an HTTP
//! date) lengthens that wait to what the hub asked, up to
//! `MAX_RETRY_AFTER`, and the rest of the round waits with it, so a hub
//! that sheds load is not sent the next URLs at once. Any other answer
//! (`4xx`, a redirect) is given up at
//! once, as sending it again would get the same. Each request has a time
//! limit, reads at most `MAX_ANSWER_BYTES` of the answer and follows no
//! redirect, so memory and time stay bounded whatever a hub does.
//! Outcomes are logged (target `tidings::websub`) and counted through an
//! [`Observer`] (the server's `/metrics`).

use std::collections::BTreeMap;
use std::hash::{BuildHasher as _, Hasher as _};
use std::io::Read as _;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use url::Url;

use crate::catalog::Catalog;
use crate::config::Site;
use crate::layout::{self, Format};

/// The `User-Agent` of notifications.
const USER_AGENT: &str = concat!("tidings/", env!("CARGO_PKG_VERSION"), " (WebSub publisher)");
/// URLs one hub may have waiting; a site has three per feed, so this is
/// room for more than 20,000 topics.
const MAX_PENDING: usize = 65_536;
/// Bytes of a hub's answer read: enough for a reason to log.
const MAX_ANSWER_BYTES: u64 = 4096;
/// Characters of a refusal's reason kept for the log.
const REASON_CHARS: usize = 200;
/// The longest wait a hub's `Retry-After` gets.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(15 * 60);

/// Whether `path` is a subscription feed of the layout:
/// `/feeds/{slug}.{rss,atom,json}`, not an archive document or a page.
pub fn is_subscription_feed(path: &str) -> bool {
    let Some((slug, extension)) = path
        .strip_prefix("/feeds/")
        .and_then(|name| name.rsplit_once('.'))
    else {
        return false;
    };
    !slug.is_empty()
        && slug
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && Format::ALL.iter().any(|f| f.extension() == extension)
}

/// The subscription feeds of `catalog` whose bytes are not those of
/// `previous`, in path order.
pub fn changed_feeds<'a>(catalog: &'a Catalog, previous: &'a Catalog) -> Vec<&'a str> {
    catalog
        .changed_since(previous)
        .filter(|path| is_subscription_feed(path))
        .collect()
}

/// How notifications are retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    /// Requests per notification, the first included.
    pub attempts: u32,
    /// The wait before the first retry, doubled for each next one…
    pub first_delay: Duration,
    /// …up to this.
    pub max_delay: Duration,
    /// The most one request may take, answer included.
    pub timeout: Duration,
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            attempts: 5,
            first_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(30),
            timeout: Duration::from_secs(10),
        }
    }
}

impl Policy {
    /// The wait before retry number `retry` (1 for the first): the doubled
    /// delay, capped, of which half is fixed and half scaled by `jitter`
    /// (from 0 to 1).
    pub fn delay(&self, retry: u32, jitter: f64) -> Duration {
        let doubling = 1u32
            .checked_shl(retry.saturating_sub(1))
            .unwrap_or(u32::MAX);
        let full = self
            .first_delay
            .saturating_mul(doubling)
            .min(self.max_delay);
        full / 2 + (full / 2).mul_f64(jitter.clamp(0.0, 1.0))
    }
}

/// A number from 0 to 1 that differs from call to call: std's randomly
/// keyed hasher, fed the clock. Jitter needs no better randomness.
fn jitter() -> f64 {
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos(),
    );
    (hasher.finish() >> 11) as f64 / (1u64 << 53) as f64
}

/// What became of notifications, as logs and metrics name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Outcome {
    /// The hub accepted it (`2xx`).
    Sent,
    /// It failed in a way that may pass, and will be sent again.
    Retried,
    /// The hub refused it, or it failed on its last attempt.
    Failed,
    /// The hub's queue was full, so it was never sent.
    Dropped,
}

impl Outcome {
    pub const ALL: [Outcome; 4] = [
        Outcome::Sent,
        Outcome::Retried,
        Outcome::Failed,
        Outcome::Dropped,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Outcome::Sent => "sent",
            Outcome::Retried => "retried",
            Outcome::Failed => "failed",
            Outcome::Dropped => "dropped",
        }
    }
}

/// Whatever counts notifications (the server's metrics).
pub trait Observer: Send + Sync + 'static {
    /// `urls` notifications to `hub` had `outcome`.
    fn pinged(&self, hub: &Url, outcome: Outcome, urls: u64);
}

/// Counts nothing: `tidings ping` only logs.
impl Observer for () {
    fn pinged(&self, _: &Url, _: Outcome, _: u64) {}
}

/// The HTTP client of notifications: a time limit per request, no
/// redirects followed, status codes as answers rather than errors.
pub fn agent(policy: &Policy) -> ureq::Agent {
    ureq::Agent::config_builder()
        .timeout_global(Some(policy.timeout))
        .http_status_as_error(false)
        .max_redirects(0)
        .user_agent(USER_AGENT)
        .build()
        .into()
}

/// A hub's answer to one notification.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Answer {
    Accepted(u16),
    /// Worth sending again: the status or the error, and how long the hub
    /// asked to wait (`Retry-After`).
    Transient(String, Option<Duration>),
    /// Not worth sending again: the status and the hub's reason.
    Refused(String),
}

/// Sends one notification of `url` to `hub`.
fn notify(agent: &ureq::Agent, hub: &Url, url: &str) -> Answer {
    let form = [
        ("hub.mode", "publish"),
        ("hub.topic", url),
        ("hub.url", url),
    ];
    let mut response = match agent.post(hub.as_str()).send_form(form) {
        Ok(response) => response,
        Err(error) => return Answer::Transient(error.to_string(), None),
    };
    let status = response.status().as_u16();
    let mut answer = Vec::new();
    // Read (a bounded part of) the answer, so the connection can be reused
    // and a refusal says why.
    let _ = response
        .body_mut()
        .as_reader()
        .take(MAX_ANSWER_BYTES)
        .read_to_end(&mut answer);
    match status {
        200..=299 => Answer::Accepted(status),
        408 | 425 | 429 | 500..=599 => {
            let retry_after = response
                .headers()
                .get("retry-after")
                .and_then(|value| value.to_str().ok())
                .and_then(|value| retry_after(value, std::time::SystemTime::now()));
            Answer::Transient(status.to_string(), retry_after)
        }
        _ => {
            let location = response
                .headers()
                .get("location")
                .and_then(|l| l.to_str().ok())
                .map(|l| format!(" to {l}"));
            let reason: String = String::from_utf8_lossy(&answer)
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
                .chars()
                .take(REASON_CHARS)
                .collect();
            Answer::Refused(match location {
                Some(location) => format!("{status}{location}: set site.hub to where it points"),
                None if reason.is_empty() => status.to_string(),
                None => format!("{status}: {reason}"),
            })
        }
    }
}

/// A `Retry-After` value (RFC 9110 §10.2.3: seconds, or an HTTP date) as
/// a wait from `now`, at most [`MAX_RETRY_AFTER`]; `None` when malformed.
fn retry_after(value: &str, now: std::time::SystemTime) -> Option<Duration> {
    let value = value.trim();
    let wait = if value.bytes().all(|b| b.is_ascii_digit()) {
        Duration::from_secs(value.parse().unwrap_or(u64::MAX))
    } else {
        let when = chrono::DateTime::parse_from_rfc2822(value).ok()?;
        std::time::SystemTime::from(when)
            .duration_since(now)
            .unwrap_or_default()
    };
    Some(wait.min(MAX_RETRY_AFTER))
}

/// A URL waiting to be sent to one hub.
#[derive(Debug, Clone, Copy)]
struct Waiting {
    /// Requests already made for it.
    attempts: u32,
    due: Instant,
}

/// One hub's URLs waiting, by URL.
type Queue = BTreeMap<String, Waiting>;

/// Takes the URLs of `queue` due at `now` out of it.
fn take_due(queue: &mut Queue, now: Instant) -> Vec<(String, u32)> {
    let due: Vec<String> = queue
        .iter()
        .filter(|(_, waiting)| waiting.due <= now)
        .map(|(url, _)| url.clone())
        .collect();
    due.into_iter()
        .map(|url| {
            let attempts = queue.remove(&url).map_or(0, |w| w.attempts);
            (url, attempts)
        })
        .collect()
}

fn next_due(queue: &Queue) -> Option<Instant> {
    queue.values().map(|waiting| waiting.due).min()
}

/// What one round of sending left to do.
#[derive(Debug, Default)]
struct Round {
    /// URLs to send again, with the requests made so far and when.
    retries: Vec<(String, Waiting)>,
    /// Notifications given up.
    failed: usize,
}

/// Sends `due` (URLs with the requests already made for each) to `hub`
/// one by one, logs and counts the outcomes, and says what to retry.
fn send_round(
    agent: &ureq::Agent,
    hub: &Url,
    due: Vec<(String, u32)>,
    policy: &Policy,
    observer: &dyn Observer,
) -> Round {
    let mut round = Round::default();
    // URL counts by outcome and status, for one log line each.
    let mut tally: BTreeMap<(Outcome, String), u64> = BTreeMap::new();
    let mut due = due.into_iter();
    while let Some((url, attempts)) = due.next() {
        let attempts = attempts + 1;
        let (outcome, status) = match notify(agent, hub, &url) {
            Answer::Accepted(status) => (Outcome::Sent, status.to_string()),
            Answer::Transient(status, asked) if attempts < policy.attempts => {
                let wait = policy.delay(attempts, jitter());
                let due_at = Instant::now() + asked.map_or(wait, |asked| asked.max(wait));
                round.retries.push((
                    url,
                    Waiting {
                        attempts,
                        due: due_at,
                    },
                ));
                if asked.is_some() {
                    // The hub asked for a pause: the rest waits too, its
                    // attempts unspent.
                    for (url, attempts) in due.by_ref() {
                        round.retries.push((
                            url,
                            Waiting {
                                attempts,
                                due: due_at,
                            },
                        ));
                    }
                }
                (Outcome::Retried, status)
            }
            Answer::Transient(status, _) => {
                (Outcome::Failed, format!("{status}, attempt {attempts}"))
            }
            Answer::Refused(status) => (Outcome::Failed, status),
        };
        if outcome == Outcome::Failed {
            round.failed += 1;
        }
        *tally.entry((outcome, status)).or_default() += 1;
    }
    let mut counts: BTreeMap<Outcome, u64> = BTreeMap::new();
    for ((outcome, status), urls) in tally {
        let hub = hub.as_str();
        match outcome {
            Outcome::Sent => tracing::info!(target: "tidings::websub", hub, urls, status, "sent"),
            Outcome::Retried => {
                tracing::warn!(target: "tidings::websub", hub, urls, status, "retried")
            }
            _ => tracing::error!(target: "tidings::websub", hub, urls, status, "given up"),
        }
        *counts.entry(outcome).or_default() += urls;
    }
    for (outcome, urls) in counts {
        observer.pinged(hub, outcome, urls);
    }
    round
}

/// Sends every URL in `urls` to every hub, each hub on a thread of its
/// own, retrying as `policy` says, and returns once each notification was
/// accepted or given up: the number given up per hub, in the order of
/// `hubs`. For `tidings ping`.
pub fn ping(hubs: &[Url], urls: &[String], policy: &Policy) -> Vec<usize> {
    let agent = agent(policy);
    std::thread::scope(|scope| {
        let workers: Vec<_> = hubs
            .iter()
            .map(|hub| {
                let agent = &agent;
                scope.spawn(move || {
                    let now = Instant::now();
                    let mut queue: Queue = urls
                        .iter()
                        .map(|url| {
                            (
                                url.clone(),
                                Waiting {
                                    attempts: 0,
                                    due: now,
                                },
                            )
                        })
                        .collect();
                    let mut failed = 0;
                    while let Some(due) = next_due(&queue) {
                        std::thread::sleep(due.saturating_duration_since(Instant::now()));
                        let round = send_round(
                            agent,
                            hub,
                            take_due(&mut queue, Instant::now()),
                            policy,
                            &(),
                        );
                        failed += round.failed;
                        queue.extend(round.retries);
                    }
                    failed
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|worker| worker.join().expect("a hub's sender does not panic"))
            .collect()
    })
}

/// Sends notifications from `tidings serve`: a thread per hub, fed by
/// [`Publisher::publish`] after each catalog swap (see the module docs).
/// Dropping it stops the threads (a request under way finishes first, in
/// the background).
pub struct Publisher {
    /// The site's base URL and a sender per hub, as last configured.
    current: Mutex<(Url, Vec<Arc<HubSender>>)>,
    agent: ureq::Agent,
    policy: Policy,
    observer: Arc<dyn Observer>,
}

impl std::fmt::Debug for Publisher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let current = lock(&self.current);
        let hubs: Vec<&str> = current.1.iter().map(|sender| sender.hub.as_str()).collect();
        f.debug_struct("Publisher")
            .field("hubs", &hubs)
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

/// One hub's queue and its thread's stop switch.
#[derive(Debug)]
struct HubSender {
    hub: Url,
    state: Mutex<SenderState>,
    wake: Condvar,
}

#[derive(Debug, Default)]
struct SenderState {
    queue: Queue,
    stopped: bool,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Publisher {
    /// Starts a sender for each hub of `site`, with the default [`Policy`].
    pub fn start(site: &Site, observer: Arc<dyn Observer>) -> Self {
        Self::with_policy(site, Policy::default(), observer)
    }

    pub fn with_policy(site: &Site, policy: Policy, observer: Arc<dyn Observer>) -> Self {
        let publisher = Self {
            current: Mutex::new((site.base_url.clone(), Vec::new())),
            agent: agent(&policy),
            policy,
            observer,
        };
        publisher.configure(site);
        publisher
    }

    /// Follows a new config: senders of hubs still listed keep their
    /// queues, those of hubs no longer listed stop, new hubs get one.
    pub fn configure(&self, site: &Site) {
        let mut current = lock(&self.current);
        let kept: Vec<Arc<HubSender>> = site
            .hubs
            .iter()
            .map(|hub| {
                current
                    .1
                    .iter()
                    .find(|sender| sender.hub == *hub)
                    .cloned()
                    .unwrap_or_else(|| self.spawn(hub))
            })
            .collect();
        for sender in &current.1 {
            if !site.hubs.contains(&sender.hub) {
                lock(&sender.state).stopped = true;
                sender.wake.notify_one();
            }
        }
        *current = (site.base_url.clone(), kept);
    }

    /// Queues a notification of each path of the layout (subscription
    /// feeds, see [`changed_feeds`]) for every hub; returns at once.
    pub fn publish(&self, paths: &[impl AsRef<str>]) {
        if paths.is_empty() {
            return;
        }
        let current = lock(&self.current);
        let (base_url, senders) = &*current;
        let now = Instant::now();
        for sender in senders {
            let mut state = lock(&sender.state);
            let mut dropped = 0;
            for path in paths {
                let url = layout::absolute(base_url, path.as_ref());
                if state.queue.len() >= MAX_PENDING && !state.queue.contains_key(&url) {
                    dropped += 1;
                    continue;
                }
                // A URL already waiting (perhaps for a retry) keeps its
                // place: the hub fetches the latest bytes when it gets to it.
                state.queue.entry(url).or_insert(Waiting {
                    attempts: 0,
                    due: now,
                });
            }
            drop(state);
            sender.wake.notify_one();
            if dropped > 0 {
                tracing::warn!(
                    target: "tidings::websub",
                    hub = sender.hub.as_str(),
                    urls = dropped,
                    "dropped: {MAX_PENDING} URLs are already waiting for this hub"
                );
                self.observer.pinged(&sender.hub, Outcome::Dropped, dropped);
            }
        }
    }

    fn spawn(&self, hub: &Url) -> Arc<HubSender> {
        let sender = Arc::new(HubSender {
            hub: hub.clone(),
            state: Mutex::default(),
            wake: Condvar::new(),
        });
        let (agent, policy, observer) =
            (self.agent.clone(), self.policy, Arc::clone(&self.observer));
        let running = Arc::clone(&sender);
        let spawned = std::thread::Builder::new()
            .name("websub".into())
            .spawn(move || run(&running, &agent, &policy, &*observer));
        if let Err(error) = spawned {
            tracing::error!(
                target: "tidings::websub",
                hub = hub.as_str(),
                "cannot start the hub's sender, so it is not told of changes: {error}"
            );
        }
        sender
    }
}

impl Drop for Publisher {
    fn drop(&mut self) {
        for sender in &lock(&self.current).1 {
            lock(&sender.state).stopped = true;
            sender.wake.notify_one();
        }
    }
}

/// A hub's thread: waits for URLs to be due, sends them, queues retries.
fn run(sender: &HubSender, agent: &ureq::Agent, policy: &Policy, observer: &dyn Observer) {
    loop {
        let due = {
            let mut state = lock(&sender.state);
            loop {
                if state.stopped {
                    return;
                }
                let now = Instant::now();
                state = match next_due(&state.queue) {
                    Some(due) if due <= now => break take_due(&mut state.queue, now),
                    Some(due) => {
                        sender
                            .wake
                            .wait_timeout(state, due - now)
                            .unwrap_or_else(|poisoned| poisoned.into_inner())
                            .0
                    }
                    None => sender
                        .wake
                        .wait(state)
                        .unwrap_or_else(|poisoned| poisoned.into_inner()),
                };
            }
        };
        let round = send_round(agent, &sender.hub, due, policy, observer);
        let mut state = lock(&sender.state);
        for (url, waiting) in round.retries {
            // Queued again meanwhile: a new change, sent without waiting.
            state.queue.entry(url).or_insert(waiting);
        }
    }
}

/// The digests of the documents of a static build, written beside them
/// (`tidings-manifest.json`) so that `tidings ping` can tell, after the
/// next build, which feeds changed: with the site's URL and hubs, so
/// that the ping needs nothing else.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// `site.base_url` of the build.
    pub base_url: String,
    /// The hubs its feeds advertise.
    pub hubs: Vec<String>,
    /// Every document: its path in the URL layout and the digest of its
    /// bytes (the one its ETag shows).
    pub documents: BTreeMap<String, String>,
}

/// The name of the manifest in the output folder of a build.
pub const MANIFEST_FILE: &str = "tidings-manifest.json";

impl Manifest {
    /// Pretty JSON, keys in order: the same documents give the same bytes.
    pub fn to_json(&self) -> String {
        let mut text = serde_json::to_string_pretty(self).expect("plain maps serialize");
        text.push('\n');
        text
    }

    pub fn from_json(text: &str) -> Result<Self, String> {
        serde_json::from_str(text).map_err(|error| error.to_string())
    }

    /// The absolute URLs of the subscription feeds whose digest is not the
    /// one in `previous` (all of them without one), in path order.
    pub fn changed_feeds(&self, previous: Option<&Manifest>) -> Result<Vec<String>, String> {
        let base = Url::parse(&self.base_url)
            .map_err(|error| format!("base_url `{}`: {error}", self.base_url))?;
        Ok(self
            .documents
            .iter()
            .filter(|(path, digest)| {
                is_subscription_feed(path)
                    && previous.is_none_or(|before| before.documents.get(*path) != Some(digest))
            })
            .map(|(path, _)| layout::absolute(&base, path))
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subscription_feeds_are_the_three_formats_of_each_feed() {
        for path in ["/feeds/all.atom", "/feeds/ukraine.rss", "/feeds/a-1.json"] {
            assert!(is_subscription_feed(path), "{path}");
        }
        for path in [
            "/feeds.opml",
            "/feeds/all.xml",
            "/feeds/.atom",
            "/feeds/all/archive/1.atom",
            "/topics/all/",
            "/feeds/Ukraine.rss",
            "/",
        ] {
            assert!(!is_subscription_feed(path), "{path}");
        }
    }

    #[test]
    fn changed_feeds_leave_out_pages_and_unchanged_feeds() {
        let when = chrono::DateTime::from_timestamp(1_700_000_000, 0).unwrap();
        let document = |text: &str| {
            crate::catalog::Document::build(
                "text/plain",
                false,
                text.to_string().into(),
                when,
                crate::catalog::Compression::Off,
            )
        };
        let mut before = Catalog::new(1, 1, Vec::new());
        before.insert("/feeds/all.atom", document("a"));
        before.insert("/feeds/all.rss", document("r"));
        before.insert("/feeds/gone.rss", document("g"));
        before.insert("/", document("home"));
        let mut after = Catalog::new(2, 1, Vec::new());
        after.insert("/feeds/all.atom", document("a2"));
        after.insert("/feeds/all.rss", document("r"));
        after.insert("/feeds/new.json", document("n"));
        after.insert("/feeds/all/archive/1.atom", document("old"));
        after.insert("/", document("home2"));
        assert_eq!(
            changed_feeds(&after, &before),
            ["/feeds/all.atom", "/feeds/new.json"]
        );
    }

    #[test]
    fn retry_after_is_seconds_or_a_date_and_capped() {
        let now = std::time::UNIX_EPOCH + Duration::from_secs(784_111_777);
        assert_eq!(retry_after("120", now), Some(Duration::from_secs(120)));
        assert_eq!(retry_after(" 0 ", now), Some(Duration::ZERO));
        // 1994-11-06 08:49:37 UTC is `now`.
        assert_eq!(
            retry_after("Sun, 06 Nov 1994 08:50:07 GMT", now),
            Some(Duration::from_secs(30))
        );
        assert_eq!(
            retry_after("Sun, 06 Nov 1994 08:00:00 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(
            retry_after("99999999999999999999999", now),
            Some(MAX_RETRY_AFTER)
        );
        assert_eq!(retry_after("86400", now), Some(MAX_RETRY_AFTER));
        assert_eq!(retry_after("soon", now), None);
        assert_eq!(retry_after("-5", now), None);
    }

    #[test]
    fn delays_double_up_to_the_cap_with_half_of_each_jittered() {
        let policy = Policy::default();
        let seconds = |retry, jitter| policy.delay(retry, jitter).as_secs_f64();
        assert_eq!(
            [1, 2, 3, 4, 5, 6, 40].map(|retry| seconds(retry, 1.0)),
            [1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0]
        );
        assert_eq!(seconds(1, 0.0), 0.5);
        assert_eq!(seconds(3, 0.5), 3.0);
        assert_eq!(seconds(u32::MAX, 2.0), 30.0);
        let draws: Vec<f64> = (0..64).map(|_| jitter()).collect();
        assert!(draws.iter().all(|j| (0.0..1.0).contains(j)));
        assert!(draws.iter().any(|j| *j != draws[0]), "{draws:?}");
    }

    #[test]
    fn due_urls_are_taken_and_the_rest_wait() {
        let now = Instant::now();
        let later = now + Duration::from_secs(5);
        let mut queue: Queue = [
            (
                "https://a/".to_string(),
                Waiting {
                    attempts: 2,
                    due: now,
                },
            ),
            (
                "https://b/".to_string(),
                Waiting {
                    attempts: 0,
                    due: later,
                },
            ),
        ]
        .into_iter()
        .collect();
        assert_eq!(next_due(&queue), Some(now));
        assert_eq!(take_due(&mut queue, now), [("https://a/".to_string(), 2)]);
        assert_eq!(next_due(&queue), Some(later));
        assert!(take_due(&mut queue, now).is_empty());
    }

    #[test]
    fn a_manifest_names_the_feeds_whose_digest_changed() {
        let manifest = |digests: &[(&str, &str)]| Manifest {
            base_url: "https://news.example.org/site/".into(),
            hubs: vec!["https://hub.example.org/".into()],
            documents: digests
                .iter()
                .map(|(path, digest)| (path.to_string(), digest.to_string()))
                .collect(),
        };
        let before = manifest(&[
            ("/", "1"),
            ("/feeds/all.atom", "2"),
            ("/feeds/all.rss", "3"),
            ("/feeds/old.rss", "4"),
        ]);
        let after = manifest(&[
            ("/", "1b"),
            ("/feeds/all.atom", "2b"),
            ("/feeds/all.rss", "3"),
            ("/feeds/new.json", "5"),
            ("/feeds/new/archive/1.json", "6"),
        ]);
        assert_eq!(
            after.changed_feeds(Some(&before)).unwrap(),
            [
                "https://news.example.org/site/feeds/all.atom",
                "https://news.example.org/site/feeds/new.json"
            ]
        );
        assert_eq!(after.changed_feeds(None).unwrap().len(), 3);
        assert_eq!(Manifest::from_json(&after.to_json()), Ok(after.clone()));
        assert!(Manifest::from_json("{\"base_url\": 1}").is_err());
    }
}
