//! The limits that keep clients from holding the server, as nginx has
//! them: a request head must arrive within `header_timeout` of its first
//! byte (of the connection's opening, for the first request), a keep-alive
//! connection may sit idle for `keepalive_timeout`, and at most
//! `max_connections` are open, past which the least recently active one is
//! closed to make room for each new one. The accept loop never stops, so
//! slow or idle connections, however many, cannot lock out a client that
//! sends its request and reads its answer. (The header size limit is
//! hyper's, set where the connections are built.)
//!
//! The cost stays per connection, not per request: each connection has a
//! [`Watchdog`] with one timer that sleeps until its next deadline, and its
//! I/O stamps a coarse clock (one atomic load and store per read or write,
//! no system call, no timer reset) that the watchdog reads when its timer
//! fires. The clock is kept the way nginx keeps its own: a ticker updates
//! it ten times a second.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::time::Sleep;

use crate::config::Http;

/// Descriptors kept for everything but connections: the listener, the
/// runtime, the log, the file watcher and the seeds a reload reads.
const RESERVED_FILES: u64 = 64;
/// How many evicted connections may still be closing while new ones are
/// accepted; past it, accepting waits for them (a millisecond or so).
const CLOSING_ALLOWANCE: usize = 16;
/// How often the coarse clock moves.
const TICK: Duration = Duration::from_millis(100);

/// The limits a server runs with: `[http]`, with `max_connections` fitted
/// to the open-files limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub header_timeout: Duration,
    pub keepalive_timeout: Duration,
    pub max_header_bytes: usize,
    pub max_connections: usize,
}

impl Limits {
    /// The configured limits, with at most as many connections as
    /// `open_files` descriptors leave room for.
    pub fn new(http: &Http, open_files: Option<u64>) -> Self {
        let room = open_files.map_or(usize::MAX, |open_files| {
            let room = open_files.saturating_sub(RESERVED_FILES + CLOSING_ALLOWANCE as u64);
            usize::try_from(room).unwrap_or(usize::MAX).max(1)
        });
        Self {
            header_timeout: http.header_timeout,
            keepalive_timeout: http.keepalive_timeout,
            max_header_bytes: http.max_header_bytes,
            max_connections: http.max_connections.min(room),
        }
    }
}

/// Raises this process's soft limit of open files to its hard limit (many
/// systems start services at 1024 while allowing far more), and returns the
/// limit in force, or `None` where there is none to read. Call it once, at
/// start-up.
pub fn raise_open_files_limit() -> Option<u64> {
    let before = rlimit::getrlimit(rlimit::Resource::NOFILE).ok()?.0;
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(now) => {
            tracing::info!("open files limit: {now} (was {before})");
            Some(now)
        }
        Err(error) => {
            tracing::warn!("open files limit stays {before}: {error}");
            Some(before)
        }
    }
}

/// Every open connection, for finding the one to close when there are too
/// many, and the clock their I/O stamps.
#[derive(Debug)]
pub struct Tracker {
    limits: Limits,
    started: Instant,
    /// Milliseconds since `started` (plus one, so that 0 can mean "never"),
    /// as of the last tick.
    now: AtomicU64,
    open: Mutex<hashbrown::HashMap<u64, Arc<Activity>>>,
    next_id: AtomicU64,
    /// Connections whose task still runs, evicted or not.
    alive: AtomicUsize,
}

impl Tracker {
    /// A tracker whose clock ticks until the tracker is dropped.
    pub fn start(limits: Limits) -> Arc<Self> {
        let tracker = Arc::new(Self {
            limits,
            started: Instant::now(),
            now: AtomicU64::new(1),
            open: Mutex::default(),
            next_id: AtomicU64::new(0),
            alive: AtomicUsize::new(0),
        });
        let weak = Arc::downgrade(&tracker);
        tokio::spawn(tick(weak));
        tracker
    }

    /// The clock as of the last tick: what I/O stamps.
    fn coarse_now(&self) -> u64 {
        self.now.load(Ordering::Relaxed)
    }

    /// The clock now, for deadlines.
    fn precise_now(&self) -> u64 {
        millis(self.started.elapsed()) + 1
    }

    /// Waits while too many evicted connections are still closing, so that
    /// open descriptors stay within the limit.
    pub async fn room(&self) {
        while self.alive.load(Ordering::Relaxed) >= self.limits.max_connections + CLOSING_ALLOWANCE
        {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }

    /// Records a new connection, first closing the least recently active
    /// one when `max_connections` are open.
    pub fn register(self: &Arc<Self>) -> Connection {
        let now = self.precise_now();
        let activity = Arc::new(Activity {
            last: AtomicU64::new(now),
            head_since: AtomicU64::new(now),
            evicted: AtomicBool::new(false),
            waker: Mutex::new(None),
        });
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let mut open = self.open();
        if open.len() >= self.limits.max_connections {
            evict_quietest(&mut open);
        }
        open.insert(id, Arc::clone(&activity));
        drop(open);
        self.alive.fetch_add(1, Ordering::Relaxed);
        Connection {
            tracker: Arc::clone(self),
            activity,
            id,
        }
    }

    /// Closes the least recently active connection, to free a descriptor
    /// (after `accept` failed for want of one).
    pub fn shed_one(&self) {
        evict_quietest(&mut self.open());
    }

    fn open(&self) -> MutexGuard<'_, hashbrown::HashMap<u64, Arc<Activity>>> {
        self.open
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

fn evict_quietest(open: &mut hashbrown::HashMap<u64, Arc<Activity>>) {
    let quietest = open
        .iter()
        .min_by_key(|(_, activity)| activity.quiet_since())
        .map(|(id, _)| *id);
    if let Some(activity) = quietest.and_then(|id| open.remove(&id)) {
        activity.evicted.store(true, Ordering::SeqCst);
        if let Some(waker) = activity.waker().take() {
            waker.wake();
        }
    }
}

async fn tick(tracker: Weak<Tracker>) {
    let mut interval = tokio::time::interval(TICK);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        interval.tick().await;
        let Some(tracker) = tracker.upgrade() else {
            return;
        };
        tracker.now.store(tracker.precise_now(), Ordering::Relaxed);
    }
}

/// What a connection's I/O and service record for its watchdog.
#[derive(Debug)]
struct Activity {
    /// When a byte was last read or written.
    last: AtomicU64,
    /// When the first byte of the request head being read arrived (for a
    /// new connection, when it opened); 0 between requests.
    head_since: AtomicU64,
    evicted: AtomicBool,
    /// The waker of the connection's [`Watchdog`], for eviction.
    waker: Mutex<Option<Waker>>,
}

impl Activity {
    fn waker(&self) -> MutexGuard<'_, Option<Waker>> {
        self.waker
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Since when the connection has done nothing useful: a head still
    /// incomplete counts from its first byte, however it trickles in.
    fn quiet_since(&self) -> u64 {
        match self.head_since.load(Ordering::Relaxed) {
            0 => self.last.load(Ordering::Relaxed),
            since => since,
        }
    }
}

/// Why a connection was closed by its watchdog.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Closed {
    HeaderTimeout,
    KeepaliveTimeout,
    /// Closed to make room for a new connection.
    Evicted,
}

impl Closed {
    pub fn as_str(self) -> &'static str {
        match self {
            Closed::HeaderTimeout => "header timeout",
            Closed::KeepaliveTimeout => "keep-alive timeout",
            Closed::Evicted => "closed to make room",
        }
    }
}

/// One registered connection; deregistered when dropped.
#[derive(Debug)]
pub struct Connection {
    tracker: Arc<Tracker>,
    activity: Arc<Activity>,
    id: u64,
}

impl Connection {
    /// `stream`, with its reads and writes stamped for the watchdog.
    pub fn watch(&self, stream: TcpStream) -> Watched {
        Watched {
            stream,
            activity: Arc::clone(&self.activity),
            tracker: Arc::clone(&self.tracker),
        }
    }

    /// What the service tells the watchdog through.
    pub fn head_marker(&self) -> HeadMarker {
        HeadMarker(Arc::clone(&self.activity))
    }

    /// Resolves when the connection has outlived a limit or was evicted.
    pub fn watchdog(&self) -> Watchdog {
        Watchdog {
            tracker: Arc::clone(&self.tracker),
            activity: Arc::clone(&self.activity),
            // Fires at once, to compute the first deadline.
            sleep: Box::pin(tokio::time::sleep(Duration::ZERO)),
            waker: None,
        }
    }
}

/// See [`Connection::watchdog`]. Polled each time its connection's task
/// wakes (once or twice per request), so a poll that finds nothing due is
/// an atomic load, a waker comparison and the timer's own check.
#[derive(Debug)]
pub struct Watchdog {
    tracker: Arc<Tracker>,
    activity: Arc<Activity>,
    /// Allocated once per connection, reset at each deadline.
    sleep: Pin<Box<Sleep>>,
    /// The waker registered in `activity`.
    waker: Option<Waker>,
}

impl Watchdog {
    /// When the connection's current wait ends, and what ends it: a head
    /// in progress runs on the header timeout, otherwise the connection
    /// is idle.
    fn deadline(&self) -> (u64, Closed) {
        let limits = &self.tracker.limits;
        match self.activity.head_since.load(Ordering::Relaxed) {
            0 => (
                self.activity.last.load(Ordering::Relaxed) + millis(limits.keepalive_timeout),
                Closed::KeepaliveTimeout,
            ),
            since => (since + millis(limits.header_timeout), Closed::HeaderTimeout),
        }
    }
}

impl Future for Watchdog {
    type Output = Closed;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Closed> {
        let this = &mut *self;
        if this.activity.evicted.load(Ordering::SeqCst) {
            return Poll::Ready(Closed::Evicted);
        }
        if !this
            .waker
            .as_ref()
            .is_some_and(|waker| waker.will_wake(cx.waker()))
        {
            let waker = cx.waker().clone();
            *this.activity.waker() = Some(waker.clone());
            this.waker = Some(waker);
            // An eviction between the check above and the registration
            // found no waker to wake.
            if this.activity.evicted.load(Ordering::SeqCst) {
                return Poll::Ready(Closed::Evicted);
            }
        }
        while this.sleep.as_mut().poll(cx).is_ready() {
            let (deadline, why) = this.deadline();
            let now = this.tracker.precise_now();
            if now >= deadline {
                return Poll::Ready(why);
            }
            // A head may start while the timer runs; waking at least once
            // a header timeout keeps a late one within twice its limit.
            let wait =
                Duration::from_millis(deadline - now).min(this.tracker.limits.header_timeout);
            this.sleep
                .as_mut()
                .reset(tokio::time::Instant::now() + wait);
        }
        Poll::Pending
    }
}

impl Drop for Connection {
    fn drop(&mut self) {
        self.tracker.open().remove(&self.id);
        self.tracker.alive.fetch_sub(1, Ordering::Relaxed);
    }
}

/// The service's handle on its connection's activity.
#[derive(Debug, Clone)]
pub struct HeadMarker(Arc<Activity>);

impl HeadMarker {
    /// A whole request head arrived: the header timeout stops until the
    /// next head's first byte (one atomic store per request).
    pub fn head_complete(&self) {
        self.0.head_since.store(0, Ordering::Relaxed);
    }
}

/// A TCP stream whose reads and writes stamp the coarse clock.
#[derive(Debug)]
pub struct Watched {
    stream: TcpStream,
    activity: Arc<Activity>,
    tracker: Arc<Tracker>,
}

impl Watched {
    pub fn set_nodelay(&self, nodelay: bool) -> io::Result<()> {
        self.stream.set_nodelay(nodelay)
    }

    fn wrote(&self, poll: &Poll<io::Result<usize>>) {
        if matches!(poll, Poll::Ready(Ok(n)) if *n > 0) {
            self.activity
                .last
                .store(self.tracker.coarse_now(), Ordering::Relaxed);
        }
    }
}

impl AsyncRead for Watched {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let poll = Pin::new(&mut this.stream).poll_read(cx, buf);
        if buf.filled().len() > before {
            let now = this.tracker.coarse_now();
            let activity = &this.activity;
            activity.last.store(now, Ordering::Relaxed);
            if activity.head_since.load(Ordering::Relaxed) == 0 {
                activity.head_since.store(now, Ordering::Relaxed);
            }
        }
        poll
    }
}

impl AsyncWrite for Watched {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let poll = Pin::new(&mut this.stream).poll_write(cx, buf);
        this.wrote(&poll);
        poll
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let poll = Pin::new(&mut this.stream).poll_write_vectored(cx, bufs);
        this.wrote(&poll);
        poll
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::config::Config;

    fn http() -> Http {
        Config::parse("", Path::new("config/tidings.toml"))
            .unwrap()
            .http
    }

    #[test]
    fn connections_fit_the_open_files_limit() {
        assert_eq!(Limits::new(&http(), None).max_connections, 768);
        assert_eq!(Limits::new(&http(), Some(1024)).max_connections, 768);
        assert_eq!(Limits::new(&http(), Some(200)).max_connections, 120);
        assert_eq!(Limits::new(&http(), Some(10)).max_connections, 1);
    }

    #[tokio::test]
    async fn the_quietest_connection_makes_room() {
        let mut limits = Limits::new(&http(), None);
        limits.max_connections = 2;
        let tracker = Tracker::start(limits);
        let dawdling = tracker.register();
        let served = tracker.register();
        // `served` completed a head and wrote since; `dawdling` is still
        // on the head it started when it opened.
        served.head_marker().head_complete();
        served
            .activity
            .last
            .store(tracker.precise_now() + 1, Ordering::Relaxed);
        let mut dawdling_watchdog = dawdling.watchdog();
        let mut served_watchdog = served.watchdog();
        let newcomer = tracker.register();
        let closed = tokio::time::timeout(Duration::from_secs(5), &mut dawdling_watchdog)
            .await
            .expect("the dawdling connection is closed");
        assert_eq!(closed, Closed::Evicted);
        assert!(
            tokio::time::timeout(Duration::from_millis(50), &mut served_watchdog)
                .await
                .is_err(),
            "the served connection stays"
        );
        assert_eq!(tracker.open().len(), 2);
        drop((dawdling, served, newcomer));
        assert_eq!(tracker.alive.load(Ordering::Relaxed), 0);
        assert!(tracker.open().is_empty());
    }
}
