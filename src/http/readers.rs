//! Who reads each feed, as far as a server can tell without keeping
//! anything about a person: the subscriber counts that aggregators report
//! in their user agents (`Feedly/1.0 (…; 1234 subscribers)`), the latest
//! report per aggregator, and an estimate of the distinct direct pollers
//! (client address and user agent) of the last day or two.
//!
//! Publishers want these numbers and have nowhere else to get them; the
//! costs must stay off the hot path and bounded whatever clients send:
//! - one [`FeedReaders`] per feed document of the catalog, kept in the
//!   prepared document itself (so no lookup by path), carried over to the
//!   next catalog while the feed exists, dropped with it;
//! - a report is parsed only when the first [`UA_SCAN_BYTES`] of the user
//!   agent hold `subscriber` (one byte search), and at most
//!   [`MAX_AGGREGATORS`] aggregators are kept per feed, their names cut to
//!   a few letters-only words;
//! - pollers go into a HyperLogLog sketch of [`REGISTERS`] one-byte
//!   registers (256 bytes, about 6% error, exact-ish below a few hundred
//!   through linear counting), updated with one atomic `fetch_max` and
//!   only when it raises a register. The hash is keyed per process, and a
//!   register keeps six bits of it: no address or agent is stored.

use std::hash::BuildHasher;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU8, AtomicUsize, Ordering};
use std::sync::Mutex;

/// How much of a user agent is looked at.
pub const UA_SCAN_BYTES: usize = 512;
/// Aggregators remembered per feed; reports from more are ignored.
pub const MAX_AGGREGATORS: usize = 16;
/// Longest aggregator name kept.
const MAX_NAME: usize = 40;
/// Registers of each poller sketch (a power of two).
pub const REGISTERS: usize = 256;
const REGISTER_BITS: u32 = REGISTERS.trailing_zeros();

/// The readers of one feed.
#[derive(Debug, Default)]
pub struct FeedReaders {
    /// `(aggregator, subscribers)`, latest report each, in first-seen order.
    reports: Mutex<Vec<(Box<str>, u64)>>,
    pollers: Pollers,
}

impl FeedReaders {
    /// Counts one request of the feed from `client` with `user_agent`.
    pub fn record(&self, hasher: &impl BuildHasher, client: IpAddr, user_agent: &[u8]) {
        self.pollers.add(hasher.hash_one((client, user_agent)));
        if let Some((name, subscribers)) = subscriber_report(user_agent) {
            let mut reports = self
                .reports
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            if let Some(report) = reports.iter_mut().find(|(seen, _)| **seen == *name) {
                report.1 = subscribers;
            } else if reports.len() < MAX_AGGREGATORS {
                reports.push((name.into(), subscribers));
            }
        }
    }

    /// The latest subscriber count of each aggregator.
    pub fn reports(&self) -> Vec<(Box<str>, u64)> {
        self.reports
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    /// Estimated distinct pollers over the current and the previous window.
    pub fn pollers(&self) -> u64 {
        self.pollers.estimate()
    }

    /// Starts a new window: the previous one is forgotten.
    pub fn rotate(&self) {
        self.pollers.rotate();
    }
}

/// Two HyperLogLog sketches: the window being filled and the one before,
/// so an estimate always covers at least one whole window.
#[derive(Debug)]
struct Pollers {
    sketches: [[AtomicU8; REGISTERS]; 2],
    current: AtomicUsize,
}

impl Default for Pollers {
    fn default() -> Self {
        Self {
            sketches: std::array::from_fn(|_| std::array::from_fn(|_| AtomicU8::new(0))),
            current: AtomicUsize::new(0),
        }
    }
}

impl Pollers {
    fn add(&self, hash: u64) {
        let register = (hash & (REGISTERS as u64 - 1)) as usize;
        // The rank of the first set bit of the rest of the hash.
        let rank = ((hash >> REGISTER_BITS).trailing_zeros() + 1).min(64 - REGISTER_BITS + 1) as u8;
        let slot = &self.sketches[self.current.load(Ordering::Relaxed) & 1][register];
        // Loading first leaves the cache line shared when nothing changes,
        // which is nearly always once a feed's pollers are known.
        if slot.load(Ordering::Relaxed) < rank {
            slot.fetch_max(rank, Ordering::Relaxed);
        }
    }

    fn rotate(&self) {
        let next = (self.current.load(Ordering::Relaxed) + 1) & 1;
        for slot in &self.sketches[next] {
            slot.store(0, Ordering::Relaxed);
        }
        self.current.store(next, Ordering::Relaxed);
    }

    /// The HyperLogLog estimate of the union of both windows, with linear
    /// counting while many registers are still empty.
    fn estimate(&self) -> u64 {
        let m = REGISTERS as f64;
        let (mut sum, mut zeros) = (0.0, 0usize);
        for (a, b) in self.sketches[0].iter().zip(&self.sketches[1]) {
            let rank = a.load(Ordering::Relaxed).max(b.load(Ordering::Relaxed));
            sum += (-f64::from(rank)).exp2();
            zeros += usize::from(rank == 0);
        }
        let alpha = 0.7213 / (1.0 + 1.079 / m);
        let raw = alpha * m * m / sum;
        let estimate = if raw <= 2.5 * m && zeros > 0 {
            m * (m / zeros as f64).ln()
        } else {
            raw
        };
        estimate.round() as u64
    }
}

/// `(aggregator, subscribers)` from a user agent that reports them, as
/// Feedly, Inoreader, Feedbin, NewsBlur, The Old Reader, BazQux and others
/// do: the number right before `subscriber`, and the product name that
/// starts the agent (or follows `compatible;` in a `Mozilla/5.0 (…)` one).
pub fn subscriber_report(user_agent: &[u8]) -> Option<(&str, u64)> {
    let agent = &user_agent[..user_agent.len().min(UA_SCAN_BYTES)];
    let at = find(agent, b"subscriber")?;
    let before = agent[..at].trim_ascii_end();
    let digits = before
        .iter()
        .rev()
        .take_while(|b| b.is_ascii_digit())
        .count();
    if digits == 0 || digits > 12 {
        return None;
    }
    let subscribers = std::str::from_utf8(&before[before.len() - digits..])
        .ok()?
        .parse()
        .ok()?;
    let mut product = agent;
    if product.starts_with(b"Mozilla/") {
        product = &product[find(product, b"compatible;")? + b"compatible;".len()..];
    }
    let name = product_name(product.trim_ascii_start())?;
    Some((name, subscribers))
}

/// The leading words of `agent` made of letters only (the first one cut at
/// `/`), at most [`MAX_NAME`] bytes: `NewsBlur Feed Fetcher - 19 …` gives
/// `NewsBlur Feed Fetcher`, `Feedbin feed-id:1234 …` gives `Feedbin`.
fn product_name(agent: &[u8]) -> Option<&str> {
    let mut end = 0;
    for (index, &byte) in agent.iter().enumerate().take(MAX_NAME + 1) {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' => end = index + 1,
            b' ' if agent.get(index + 1).is_some_and(u8::is_ascii_alphabetic) => {}
            _ => break,
        }
    }
    // A word cut at the length limit, or ending in something other than a
    // space or `/`, is not a name but the start of something else.
    let word_ends = matches!(
        agent.get(end),
        None | Some(b' ' | b'/' | b';' | b'(' | b')')
    );
    if end == 0 || end > MAX_NAME || !word_ends {
        // Keep the whole words before the one that failed.
        let whole = agent[..end.min(MAX_NAME)]
            .iter()
            .rposition(|&b| b == b' ')
            .unwrap_or(0);
        end = whole;
    }
    (end > 0).then(|| std::str::from_utf8(&agent[..end]).expect("ASCII letters and spaces"))
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    memchr::memmem::find(haystack, needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aggregators_and_their_counts() {
        let cases: [(&str, (&str, u64)); 7] = [
            (
                "Feedly/1.0 (+http://www.feedly.com/fetcher.html; 1234 subscribers; like FeedFetcher-Google)",
                ("Feedly", 1234),
            ),
            (
                "Inoreader/1.0 (+http://www.inoreader.com/feed-fetcher; 56 subscribers; )",
                ("Inoreader", 56),
            ),
            ("Feedbin feed-id:1234 - 42 subscribers", ("Feedbin", 42)),
            (
                "NewsBlur Feed Fetcher - 19 subscribers - https://www.newsblur.com/site/1/x (Mozilla/5.0)",
                ("NewsBlur Feed Fetcher", 19),
            ),
            (
                "The Old Reader - 7 subscribers - https://theoldreader.com/feeds/abc",
                ("The Old Reader", 7),
            ),
            (
                "Mozilla/5.0 (compatible; BazQux/2.4; +https://bazqux.com/fetcher; 3 subscribers)",
                ("BazQux", 3),
            ),
            ("Feedspot/1.0 (+https://www.feedspot.com/fs/fetcher; 1 subscriber)", ("Feedspot", 1)),
        ];
        for (agent, expected) in cases {
            assert_eq!(
                subscriber_report(agent.as_bytes()),
                Some(expected),
                "{agent}"
            );
        }
    }

    #[test]
    fn agents_without_a_count_report_nothing() {
        for agent in [
            "curl/8.0",
            "Feedly/1.0 (subscribers)",
            "Feedly/1.0 (123456789012345 subscribers)",
            "- 5 subscribers",
            "Mozilla/5.0 (X11; Linux) 5 subscribers",
        ] {
            assert_eq!(subscriber_report(agent.as_bytes()), None, "{agent}");
        }
        let long = format!("{} 5 subscribers", "x".repeat(UA_SCAN_BYTES));
        assert_eq!(subscriber_report(long.as_bytes()), None);
        let long_name = format!("{} - 5 subscribers", "Ab".repeat(40));
        assert_eq!(subscriber_report(long_name.as_bytes()), None);
    }

    #[test]
    fn latest_report_wins_and_aggregators_are_capped() {
        let readers = FeedReaders::default();
        let hasher = hashbrown::DefaultHashBuilder::default();
        let client = IpAddr::from([127, 0, 0, 1]);
        readers.record(&hasher, client, b"Feedly/1.0 (5 subscribers)");
        readers.record(&hasher, client, b"Feedly/1.0 (6 subscribers)");
        assert_eq!(readers.reports(), vec![("Feedly".into(), 6)]);
        for n in 0..100 {
            let name: String = format!("{n:02}")
                .bytes()
                .map(|d| char::from(b'a' + d - b'0'))
                .collect();
            readers.record(
                &hasher,
                client,
                format!("Agg{name}/1 (1 subscribers)").as_bytes(),
            );
        }
        assert_eq!(readers.reports().len(), MAX_AGGREGATORS);
    }

    #[test]
    fn pollers_are_estimated_and_forgotten_after_two_windows() {
        let readers = FeedReaders::default();
        let hasher = hashbrown::DefaultHashBuilder::default();
        for n in 0..50u8 {
            for _ in 0..3 {
                readers.record(&hasher, IpAddr::from([10, 0, 0, n]), b"reader");
            }
        }
        let estimate = readers.pollers();
        assert!((45..=55).contains(&estimate), "{estimate}");
        for n in 0..5_000u32 {
            readers.record(&hasher, IpAddr::from(n.to_be_bytes()), b"reader");
        }
        let estimate = readers.pollers();
        assert!((3_500..=6_500).contains(&estimate), "{estimate}");
        readers.rotate();
        assert!(
            readers.pollers() >= 3_500,
            "the previous window still counts"
        );
        readers.rotate();
        assert_eq!(readers.pollers(), 0);
    }
}
