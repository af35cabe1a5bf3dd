//! `/metrics`: what the server did, for Prometheus, through the
//! `prometheus-client` crate.
//!
//! Counting must cost the hot path next to nothing, so every series a
//! request can touch is resolved once, not per request: requests are
//! counted in a fixed table indexed by kind × status × encoding whose cells
//! hold the crate's `Counter` handle (a shared atomic) once the series has
//! been seen, so a request does one atomic load to find it and one atomic
//! add to count, with no label built and nothing hashed; series never seen
//! are not exposed. Gauges of the catalog are set when one is swapped in.
//!
//! The body is the crate's OpenMetrics text when the scraper asks for it
//! first, as Prometheus does (`accept.rs`), served as
//! `application/openmetrics-text; version=1.0.0`. Everyone else (curl,
//! older scrapers, SPEC §3) gets the classic text format,
//! `text/plain; version=0.0.4`, which [`classic_text`] derives from the
//! OpenMetrics text: the crate writes no other, and the two differ only in
//! a few lines. Both answers carry `Vary: Accept`.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use prometheus_client::encoding::text::{encode_eof, encode_registry};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

use super::limits::Closed;
use super::readers::FeedReaders;
use super::{Body, State, Stop};
use crate::catalog::Catalog;
use crate::websub::{self, Outcome};

/// The Content-Type of `/metrics` in OpenMetrics.
pub const OPENMETRICS: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";
/// The Content-Type of `/metrics` in the classic text format.
pub const CLASSIC_TEXT: &str = "text/plain; version=0.0.4; charset=utf-8";

/// What a request asked for, as the `kind` label shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// RSS, Atom and JSON Feed documents, archives included.
    Feed,
    /// Every other document: HTML pages and static files.
    Page,
    Opml,
    Health,
    Metrics,
    /// Redirects, unknown paths, bad requests.
    Other,
}

const KINDS: [&str; 6] = ["feed", "page", "opml", "health", "metrics", "other"];
/// The statuses the server answers with; anything else is `other`.
const STATUSES: [&str; 8] = ["200", "301", "304", "400", "404", "405", "412", "other"];
const STATUS_SLOTS: usize = STATUSES.len();
/// Content codings, and `none` for answers that are not documents.
const ENCODINGS: [&str; 4] = ["identity", "gzip", "br", "none"];
const CELLS: usize = KINDS.len() * STATUS_SLOTS * ENCODINGS.len();

/// Buckets of the time to answer a request once its head is read:
/// a few microseconds for a document, more for `/metrics` itself.
const REQUEST_BUCKETS: [f64; 10] = [
    0.000_005, 0.000_01, 0.000_025, 0.000_05, 0.000_1, 0.000_25, 0.000_5, 0.001, 0.01, 0.1,
];
/// Buckets of a reload: milliseconds for one file, seconds for a big
/// config change.
const RELOAD_BUCKETS: [f64; 10] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0, 30.0];

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct RequestLabels {
    kind: &'static str,
    status: &'static str,
    encoding: &'static str,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct KindLabel {
    kind: &'static str,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct ReasonLabel {
    reason: &'static str,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct PingLabels {
    hub: String,
    outcome: &'static str,
}

/// Hubs counted by name; notifications to any hub past these (after
/// config changes) are counted as `other`, so the series stay few.
const COUNTED_HUBS: usize = 16;

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct FeedLabel {
    feed: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct SubscriberLabels {
    feed: String,
    aggregator: String,
}

/// Every metric of a running server.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    /// The handles of `requests`, by [`cell`].
    request_cells: Box<[OnceLock<Counter>]>,
    /// Body bytes by kind.
    bytes: [Counter; KINDS.len()],
    duration: Histogram,
    connections_open: Gauge,
    connections: Counter,
    /// Closed by a limit: header timeout, keep-alive timeout, evicted.
    closed: [Counter; 3],
    reloads: Counter,
    reload_failures: Counter,
    reload_duration: Histogram,
    generation: Gauge,
    articles: Gauge,
    documents: Gauge,
    rejected: Gauge,
    /// WebSub notifications by hub and outcome.
    pings: Family<PingLabels, Counter>,
    /// The hubs `pings` has counted by name.
    pinged_hubs: std::sync::Mutex<Vec<String>>,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("tidings");
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "http_requests",
            "Requests answered, by kind of document, status and content coding",
            requests.clone(),
        );
        let bytes_family = Family::<KindLabel, Counter>::default();
        registry.register(
            "http_response_body_bytes",
            "Body bytes of the responses, by kind of document",
            bytes_family.clone(),
        );
        let bytes = std::array::from_fn(|index| {
            bytes_family
                .get_or_create(&KindLabel { kind: KINDS[index] })
                .clone()
        });
        let duration = Histogram::new(REQUEST_BUCKETS);
        registry.register(
            "http_request_duration_seconds",
            "Time from a complete request head to the response ready to send",
            duration.clone(),
        );
        let connections_open = Gauge::default();
        registry.register(
            "http_connections_open",
            "Connections open now",
            connections_open.clone(),
        );
        let connections = Counter::default();
        registry.register(
            "http_connections",
            "Connections accepted",
            connections.clone(),
        );
        let closed_family = Family::<ReasonLabel, Counter>::default();
        registry.register(
            "http_connections_closed_by_limit",
            "Connections closed by a limit: header_timeout, keepalive_timeout, or evicted to make room",
            closed_family.clone(),
        );
        let closed = [
            Closed::HeaderTimeout,
            Closed::KeepaliveTimeout,
            Closed::Evicted,
        ]
        .map(|why| {
            closed_family
                .get_or_create(&ReasonLabel {
                    reason: reason(why),
                })
                .clone()
        });
        let reloads = Counter::default();
        registry.register(
            "reloads",
            "Reloads that swapped in a new catalog",
            reloads.clone(),
        );
        let reload_failures = Counter::default();
        registry.register(
            "reload_failures",
            "Reloads that could not read the config or the seeds folder",
            reload_failures.clone(),
        );
        let reload_duration = Histogram::new(RELOAD_BUCKETS);
        registry.register(
            "reload_duration_seconds",
            "Time from a change to its catalog going live",
            reload_duration.clone(),
        );
        let gauge = |registry: &mut Registry, name: &str, help: &str| {
            let gauge = Gauge::default();
            registry.register(name, help, gauge.clone());
            gauge
        };
        let generation = gauge(
            &mut registry,
            "catalog_generation",
            "Generation of the catalog being served",
        );
        let articles = gauge(&mut registry, "catalog_articles", "Articles published");
        let documents = gauge(&mut registry, "catalog_documents", "Documents served");
        let rejected = gauge(
            &mut registry,
            "catalog_rejected_files",
            "Seed files rejected from the catalog being served",
        );
        let pings = Family::<PingLabels, Counter>::default();
        registry.register(
            "websub_pings",
            "WebSub publish notifications, by hub and outcome: sent (accepted), retried, failed (refused or out of attempts), dropped (the hub's queue was full)",
            pings.clone(),
        );
        Self {
            pings,
            pinged_hubs: std::sync::Mutex::default(),
            registry,
            requests,
            request_cells: (0..CELLS).map(|_| OnceLock::new()).collect(),
            bytes,
            duration,
            connections_open,
            connections,
            closed,
            reloads,
            reload_failures,
            reload_duration,
            generation,
            articles,
            documents,
            rejected,
        }
    }
}

fn reason(why: Closed) -> &'static str {
    match why {
        Closed::HeaderTimeout => "header_timeout",
        Closed::KeepaliveTimeout => "keepalive_timeout",
        Closed::Evicted => "evicted",
    }
}

fn status_slot(status: u16) -> usize {
    match status {
        200 => 0,
        301 => 1,
        304 => 2,
        400 => 3,
        404 => 4,
        405 => 5,
        412 => 6,
        _ => 7,
    }
}

fn encoding_slot(encoding: &str) -> usize {
    match encoding {
        "identity" => 0,
        "gzip" => 1,
        "br" => 2,
        _ => 3,
    }
}

/// The index in `request_cells` of a label set.
fn cell(kind: Kind, status: usize, encoding: usize) -> usize {
    (kind as usize * STATUS_SLOTS + status) * ENCODINGS.len() + encoding
}

impl Metrics {
    /// Counts one answered request; `encoding` is the coding sent, if the
    /// answer was a document.
    pub fn request(
        &self,
        kind: Kind,
        status: u16,
        encoding: Option<&str>,
        bytes: u64,
        took: Duration,
    ) {
        let (status, encoding) = (status_slot(status), encoding.map_or(3, encoding_slot));
        let counter = self.request_cells[cell(kind, status, encoding)].get_or_init(|| {
            self.requests
                .get_or_create(&RequestLabels {
                    kind: KINDS[kind as usize],
                    status: STATUSES[status],
                    encoding: ENCODINGS[encoding],
                })
                .clone()
        });
        counter.inc();
        if bytes > 0 {
            self.bytes[kind as usize].inc_by(bytes);
        }
        self.duration.observe(took.as_secs_f64());
    }

    pub fn connection_opened(&self) {
        self.connections.inc();
        self.connections_open.inc();
    }

    pub fn connection_closed(&self, by_limit: Option<Closed>) {
        self.connections_open.dec();
        if let Some(why) = by_limit {
            let index = match why {
                Closed::HeaderTimeout => 0,
                Closed::KeepaliveTimeout => 1,
                Closed::Evicted => 2,
            };
            self.closed[index].inc();
        }
    }

    /// A reload ended: `swapped` when it put a new catalog live.
    pub fn reloaded(&self, took: Duration, swapped: bool, failed: bool) {
        if swapped {
            self.reloads.inc();
            self.reload_duration.observe(took.as_secs_f64());
        }
        if failed {
            self.reload_failures.inc();
        }
    }

    /// Sets the gauges of the catalog being swapped in.
    pub fn catalog(&self, catalog: &Catalog) {
        let count = |n: usize| i64::try_from(n).unwrap_or(i64::MAX);
        self.generation
            .set(i64::try_from(catalog.generation).unwrap_or(i64::MAX));
        self.articles.set(count(catalog.articles));
        self.documents.set(count(catalog.len()));
        self.rejected.set(count(catalog.rejected().count()));
    }

    /// Counts `urls` WebSub notifications to `hub` with `outcome`.
    pub fn pinged(&self, hub: &str, outcome: Outcome, urls: u64) {
        let mut hubs = self
            .pinged_hubs
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let hub = if hubs.iter().any(|known| known == hub) {
            hub
        } else if hubs.len() < COUNTED_HUBS {
            hubs.push(hub.to_owned());
            hub
        } else {
            "other"
        };
        self.pings
            .get_or_create(&PingLabels {
                hub: hub.to_owned(),
                outcome: outcome.label(),
            })
            .inc_by(urls);
    }

    /// The whole exposition: the registry, then the readers of each feed
    /// that has any, as of now.
    pub fn encode<'a>(&self, feeds: impl Iterator<Item = (&'a str, &'a FeedReaders)>) -> String {
        let mut readers = Registry::with_prefix("tidings");
        let subscribers = Family::<SubscriberLabels, Gauge>::default();
        let pollers = Family::<FeedLabel, Gauge>::default();
        for (feed, feed_readers) in feeds {
            for (aggregator, count) in feed_readers.reports() {
                subscribers
                    .get_or_create(&SubscriberLabels {
                        feed: feed.to_owned(),
                        aggregator: aggregator.into(),
                    })
                    .set(i64::try_from(count).unwrap_or(i64::MAX));
            }
            pollers
                .get_or_create(&FeedLabel {
                    feed: feed.to_owned(),
                })
                .set(i64::try_from(feed_readers.pollers()).unwrap_or(i64::MAX));
        }
        readers.register(
            "feed_subscribers",
            "Subscribers an aggregator reported in its user agent, latest report",
            subscribers,
        );
        readers.register(
            "feed_pollers",
            "Distinct direct pollers (address and user agent) over the last one to two days, estimated",
            pollers,
        );
        let mut text = String::with_capacity(16 * 1024);
        encode_registry(&mut text, &self.registry)
            .and_then(|()| encode_registry(&mut text, &readers))
            .and_then(|()| encode_eof(&mut text))
            .expect("writing to a String cannot fail");
        text
    }
}

/// The classic text format (version 0.0.4) of an OpenMetrics exposition
/// as `prometheus-client` writes it. What differs:
/// - a counter family `x` is `# TYPE x counter` with samples `x_total` in
///   OpenMetrics, and must be named `x_total` in `# HELP`/`# TYPE` here;
/// - `unknown` is spelled `untyped`;
/// - `# UNIT` and `# EOF` do not exist, and `"` is not escaped in `# HELP`.
///
/// Gauges, histograms, samples and label escaping are the same in both.
pub fn classic_text(openmetrics: &str) -> String {
    let counters: std::collections::HashSet<&str> = openmetrics
        .lines()
        .filter_map(|line| line.strip_prefix("# TYPE ")?.strip_suffix(" counter"))
        .collect();
    let mut text = String::with_capacity(openmetrics.len());
    for line in openmetrics.lines() {
        if line == "# EOF" || line.starts_with("# UNIT ") {
            continue;
        }
        if let Some(rest) = line.strip_prefix("# HELP ") {
            let (name, help) = rest.split_once(' ').unwrap_or((rest, ""));
            let suffix = if counters.contains(name) {
                "_total"
            } else {
                ""
            };
            let help = help.replace("\\\"", "\"");
            text.push_str(&format!("# HELP {name}{suffix} {help}\n"));
        } else if let Some(name) = line
            .strip_prefix("# TYPE ")
            .and_then(|rest| rest.strip_suffix(" counter"))
        {
            text.push_str(&format!("# TYPE {name}_total counter\n"));
        } else if let Some(name) = line
            .strip_prefix("# TYPE ")
            .and_then(|rest| rest.strip_suffix(" unknown"))
        {
            text.push_str(&format!("# TYPE {name} untyped\n"));
        } else {
            text.push_str(line);
            text.push('\n');
        }
    }
    text
}

/// The server's metrics count what its WebSub publisher did.
impl websub::Observer for State {
    fn pinged(&self, hub: &url::Url, outcome: Outcome, urls: u64) {
        self.shared.metrics.pinged(hub.as_str(), outcome, urls);
    }
}

/// Connections the metrics listener serves at once; more wait to be
/// accepted.
const METRICS_CONNECTIONS: usize = 16;
/// The most a connection to the metrics listener may last: one scrape,
/// as it is not kept alive.
const METRICS_CONNECTION_TIME: Duration = Duration::from_secs(30);

/// Answers `/metrics` on a listener of its own (`[http] metrics_listen`)
/// until `stop` is switched, with [`State::with_metrics_apart`] on the
/// main one. One request per connection (a scraper comes every few
/// seconds at most), at most `METRICS_CONNECTIONS` at once, each closed
/// after `METRICS_CONNECTION_TIME`: a listener meant for a private
/// network still bounds what a client can hold. Any other path is a `404`.
pub async fn serve_metrics(listener: tokio::net::TcpListener, state: State, stop: Arc<Stop>) {
    let mut http = hyper::server::conn::http1::Builder::new();
    http.keep_alive(false);
    let room = Arc::new(tokio::sync::Semaphore::new(METRICS_CONNECTIONS));
    let mut stopped = std::pin::pin!(stop.stopped());
    loop {
        let (permit, accepted) = tokio::select! {
            biased;
            () = &mut stopped => break,
            accepted = async {
                let permit = Arc::clone(&room).acquire_owned().await;
                (permit, listener.accept().await)
            } => accepted,
        };
        let (Ok(permit), Ok((stream, _))) = (permit, accepted) else {
            // Out of descriptors, most likely: let some close first.
            tokio::time::sleep(Duration::from_millis(100)).await;
            continue;
        };
        let answering = state.clone();
        let service = hyper::service::service_fn(move |request: hyper::Request<_>| {
            std::future::ready(Ok::<_, std::convert::Infallible>(
                answering.answer_metrics(&request),
            ))
        });
        let connection = http.serve_connection(hyper_util::rt::TokioIo::new(stream), service);
        tokio::spawn(async move {
            let _ = tokio::time::timeout(METRICS_CONNECTION_TIME, connection).await;
            drop(permit);
        });
    }
}

impl State {
    /// The metrics listener's answer: `/metrics` to `GET` and `HEAD`,
    /// `405` to other methods, `404` elsewhere; counted like any request.
    fn answer_metrics<B>(&self, request: &hyper::Request<B>) -> hyper::Response<Body> {
        let started = std::time::Instant::now();
        let (method, path) = (request.method(), request.uri().path());
        let (response, kind) = if path != super::METRICS_PATH {
            (
                super::not_found(None, method == hyper::Method::HEAD),
                Kind::Other,
            )
        } else if method == hyper::Method::GET || method == hyper::Method::HEAD {
            let snapshot = self.shared.current.load();
            let head = method == hyper::Method::HEAD;
            let response = self.metrics_response(&snapshot, request.headers(), head);
            (response, Kind::Metrics)
        } else {
            (super::method_not_allowed(), Kind::Metrics)
        };
        let bytes = hyper::body::Body::size_hint(response.body())
            .exact()
            .unwrap_or(0);
        self.shared.metrics.request(
            kind,
            response.status().as_u16(),
            None,
            bytes,
            started.elapsed(),
        );
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classic_text_renames_counters_and_drops_what_openmetrics_adds() {
        let openmetrics = "# HELP tidings_reloads Reloads \\\"swapped\\\".\n\
            # TYPE tidings_reloads counter\n\
            # UNIT tidings_reloads reloads\n\
            tidings_reloads_total 3\n\
            # HELP tidings_catalog_articles Articles.\n\
            # TYPE tidings_catalog_articles gauge\n\
            tidings_catalog_articles 7\n\
            # HELP odd Odd.\n\
            # TYPE odd unknown\n\
            odd{feed=\"/feeds/all.atom\"} 1\n\
            # EOF\n";
        assert_eq!(
            classic_text(openmetrics),
            "# HELP tidings_reloads_total Reloads \"swapped\".\n\
            # TYPE tidings_reloads_total counter\n\
            tidings_reloads_total 3\n\
            # HELP tidings_catalog_articles Articles.\n\
            # TYPE tidings_catalog_articles gauge\n\
            tidings_catalog_articles 7\n\
            # HELP odd Odd.\n\
            # TYPE odd untyped\n\
            odd{feed=\"/feeds/all.atom\"} 1\n"
        );
    }

    #[test]
    fn the_whole_exposition_converts_with_every_counter_renamed() {
        let metrics = Metrics::default();
        metrics.request(Kind::Feed, 200, Some("gzip"), 10, Duration::from_micros(3));
        let openmetrics = metrics.encode(std::iter::empty());
        let text = classic_text(&openmetrics);
        let counters = openmetrics.matches(" counter\n").count();
        assert!(counters >= 5, "{openmetrics}");
        assert_eq!(text.matches("_total counter\n").count(), counters, "{text}");
        assert!(
            !text.contains("# EOF") && !text.contains("# UNIT"),
            "{text}"
        );
        assert!(text.contains(
            "tidings_http_requests_total{kind=\"feed\",status=\"200\",encoding=\"gzip\"} 1\n"
        ));
    }

    #[test]
    fn every_label_set_has_its_own_cell() {
        let mut seen = std::collections::HashSet::new();
        for kind in [
            Kind::Feed,
            Kind::Page,
            Kind::Opml,
            Kind::Health,
            Kind::Metrics,
            Kind::Other,
        ] {
            for status in 0..STATUS_SLOTS {
                for encoding in 0..ENCODINGS.len() {
                    let index = cell(kind, status, encoding);
                    assert!(index < CELLS && seen.insert(index));
                }
            }
        }
    }

    #[test]
    fn pings_are_counted_by_hub_and_outcome_for_a_bounded_set_of_hubs() {
        let metrics = Metrics::default();
        metrics.pinged("https://hub.example.org/", Outcome::Sent, 3);
        metrics.pinged("https://hub.example.org/", Outcome::Sent, 2);
        metrics.pinged("https://hub.example.org/", Outcome::Retried, 1);
        for i in 0..COUNTED_HUBS + 5 {
            metrics.pinged(&format!("https://hub{i}.example.org/"), Outcome::Failed, 1);
        }
        let text = metrics.encode(std::iter::empty());
        assert!(
            text.contains(
                "tidings_websub_pings_total{hub=\"https://hub.example.org/\",outcome=\"sent\"} 5"
            ),
            "{text}"
        );
        assert!(text.contains(
            "tidings_websub_pings_total{hub=\"https://hub.example.org/\",outcome=\"retried\"} 1"
        ));
        // The first hub and 15 more by name, the other 6 together.
        assert!(text.contains("tidings_websub_pings_total{hub=\"other\",outcome=\"failed\"} 6"));
        assert_eq!(
            text.matches("tidings_websub_pings_total{").count(),
            2 + (COUNTED_HUBS - 1) + 1
        );
    }

    #[test]
    fn only_series_seen_are_exposed() {
        let metrics = Metrics::default();
        metrics.request(Kind::Feed, 304, Some("gzip"), 0, Duration::from_micros(3));
        metrics.request(Kind::Feed, 304, Some("gzip"), 0, Duration::from_micros(3));
        metrics.request(Kind::Other, 404, None, 40, Duration::from_micros(3));
        let text = metrics.encode(std::iter::empty());
        assert!(
            text.contains(
                "tidings_http_requests_total{kind=\"feed\",status=\"304\",encoding=\"gzip\"} 2"
            ),
            "{text}"
        );
        assert!(text.contains(
            "tidings_http_requests_total{kind=\"other\",status=\"404\",encoding=\"none\"} 1"
        ));
        assert_eq!(text.matches("tidings_http_requests_total{").count(), 2);
        assert!(text.ends_with("# EOF\n"));
    }
}
