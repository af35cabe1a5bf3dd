//! The HTTP outlet: every document of a catalog over HTTP, with the
//! validators, caching headers and precompressed variants feed readers and
//! caches need. It answers from whatever catalog its [`State`] holds; the
//! `serve` command wires it to the reloader that swaps catalogs in.
//!
//! A request is a lookup: the exact request path (not percent-decoded, no
//! dot segments removed, query ignored) in the current catalog, then
//! conditional-request evaluation ([`conditional`]) and encoding negotiation
//! ([`encoding`]), answered with header maps built when the catalog was
//! swapped in (`snapshot`). Nothing on the request path renders,
//! compresses or touches the file system, so a path can never name a file.
//!
//! Choices where SPEC §4 is silent:
//! - the query string is ignored (`/feeds/all.atom?utm=x` is the feed), as
//!   CDNs and readers that append tracking or cache-busting parameters
//!   expect;
//! - `/topics/ukraine` answers `301` to `/topics/ukraine/` (any path whose
//!   slash-terminated form is a document), for hand-typed URLs;
//! - a request that no coding suits still gets identity (see [`encoding`]);
//! - `If-Match` and `If-Unmodified-Since` are honoured too (`412`);
//! - `404`, `405` and `412` carry `Cache-Control: no-store`, so a topic
//!   added later is never hidden behind a cached error; a `404` is the
//!   catalog's `404.html` (HTML, prebuilt like every document);
//! - a subscription feed asked for by a browser (`Accept` ranking
//!   `text/html` first, see `accept.rs`) answers the feed's HTML page,
//!   an archive document the history page of the same entries, and both
//!   answers carry `Vary: Accept, Accept-Encoding`;
//! - `/healthz` is never cached and answers `GET` and `HEAD` only; it is
//!   built once per catalog and reload report, bounded (`health.rs`);
//! - `/metrics` likewise, built per scrape (`metrics.rs`), with the readers
//!   of each feed (`readers.rs`), in OpenMetrics for scrapers that ask for
//!   it and in the classic text format otherwise.
//!
//! Every request is counted for `/metrics` and logged as one `info` event
//! of target `tidings::access` (`RUST_LOG=tidings::access=off` or
//! `[http] access_log = false` silences it); the event's fields are only
//! computed when it is enabled. Writing a line costs about 6-8% of the
//! throughput of the cheapest answers (`logging.rs` formats and batches
//! them), hence the setting for servers that already log at a proxy in
//! front. The
//! client is the peer's address and, when the peer is one of
//! `[http] trusted_proxies`, the last hop of its `X-Forwarded-For`
//! (`forwarded`). The duration is the server's own time, from a complete
//! request head to the response ready to send: writing it is the kernel's
//! and the client's, and waiting on it per request would cost the hot
//! path more than the log is worth. `bytes` are the body's.
//!
//! [`serve`] adds what concerns connections rather than documents, each
//! limit a `[http]` setting (`limits.rs`):
//! - `header_timeout_secs` (default 20): a request head must be complete
//!   this long after its first byte, or after the connection opened; then
//!   the connection is closed;
//! - `keepalive_timeout_secs` (default 75): a connection with no request
//!   and no byte moving for this long is closed;
//! - `max_header_bytes` (default 16 KiB): a longer request line plus
//!   headers gets `431` and the connection is closed (hyper's check);
//! - `max_connections` (default 768, lowered to fit the open-files limit,
//!   whose soft value is raised to the hard one at start-up): past it,
//!   each new connection closes the least recently active one, so the
//!   server keeps accepting and answering whatever holds the others;
//! - an HTTP/1.1 request without `Host`, or any with more than one, gets
//!   `400` (RFC 9112 §3.2) and the connection is closed. This is a rule of
//!   HTTP/1.1 messages, so [`router`], which may sit behind another server
//!   or protocol, leaves it to that server.

mod accept;
pub mod conditional;
pub mod encoding;
mod health;
mod limits;
mod metrics;
mod readers;
mod snapshot;
mod stop;

use std::convert::Infallible;
use std::net::{IpAddr, SocketAddr};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use arc_swap::ArcSwap;
use axum::extract::Request;
use axum::http::header::{
    ACCEPT, ACCEPT_ENCODING, ALLOW, CACHE_CONTROL, CONNECTION, CONTENT_LENGTH, CONTENT_TYPE, HOST,
    LOCATION, USER_AGENT, VARY, X_CONTENT_TYPE_OPTIONS,
};
use axum::http::{HeaderMap, HeaderValue, Method, Response, StatusCode, Version};
use axum::Router;
use bytes::Bytes;
use http_body_util::Full;
use hyper::body::{Body as _, Incoming};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

use crate::catalog::{Catalog, Encoding, Shelf, Shelved};
use crate::config::{Config, Http, Site};
use crate::layout::{self, ArchivePath};
use crate::reload::{Outlet, ReloadStatus};
use conditional::Outcome;
use health::{Health, SeedsFolder};
pub use limits::{raise_open_files_limit, Limits};
pub use metrics::serve_metrics;
use metrics::{Kind, Metrics};
use readers::FeedReaders;
use snapshot::{FeedLinks, Prepared, Snapshot};
pub use stop::Stop;

/// The health endpoint; not a document of the catalog.
pub const HEALTH_PATH: &str = "/healthz";
/// The Prometheus endpoint; not a document of the catalog either.
pub const METRICS_PATH: &str = "/metrics";
/// Distinct pollers of a feed are counted over windows this long.
const POLLER_WINDOW: Duration = Duration::from_secs(24 * 60 * 60);

const NOSNIFF: HeaderValue = HeaderValue::from_static("nosniff");
const ALLOWED: HeaderValue = HeaderValue::from_static("GET, HEAD");
const NO_STORE: HeaderValue = HeaderValue::from_static("no-store");
const JSON: HeaderValue = HeaderValue::from_static("application/json");
const TEXT: HeaderValue = HeaderValue::from_static("text/plain; charset=utf-8");
const HTML: HeaderValue = HeaderValue::from_static("text/html; charset=utf-8");
const CLOSE: HeaderValue = HeaderValue::from_static("close");

/// What the server answers from: the current catalog, prepared, behind an
/// atomic pointer. Cloning is cheap (one `Arc`).
///
/// A reloader builds a new [`Catalog`] off the request path and calls
/// [`State::swap`]; requests in flight finish with the snapshot they
/// started with, later ones see the new one, and none sees a mix.
#[derive(Debug, Clone)]
pub struct State {
    shared: Arc<Shared>,
}

#[derive(Debug)]
struct Shared {
    current: ArcSwap<Snapshot>,
    /// `/healthz` of the current catalog and reload report.
    health: ArcSwap<Health>,
    /// Serialises swaps and reports, so `swap` keeps the `Cache-Control`
    /// of the latest `swap_with` and `health` follows the latest of each.
    reporting: Mutex<Reporting>,
    metrics: Metrics,
    /// `[http] trusted_proxies` at start-up.
    trusted_proxies: Box<[IpAddr]>,
    /// `[http] access_log` at start-up.
    access_log: bool,
    /// Keys the hash of a feed's pollers, per process.
    pollers_key: hashbrown::DefaultHashBuilder,
    /// The WebSub `Link` headers of feeds, for every next snapshot.
    links: ArcSwap<FeedLinks>,
    /// Whether `/metrics` is answered on a listener of its own
    /// (`[http] metrics_listen`), and so not here.
    metrics_apart: AtomicBool,
}

/// What `/healthz` is built from, besides the catalog.
#[derive(Debug)]
struct Reporting {
    /// What the reloader last reported.
    reload: ReloadStatus,
    seeds: SeedsFolder,
}

impl State {
    /// Serves `catalog` with the `Cache-Control` of `http`.
    pub fn new(catalog: Catalog, http: &Http) -> Self {
        let snapshot = Snapshot::new(
            Arc::new(catalog),
            cache_control(http),
            &FeedLinks::default(),
            None,
        );
        let metrics = Metrics::default();
        metrics.catalog(&snapshot.catalog);
        let reporting = Reporting {
            reload: ReloadStatus::default(),
            seeds: SeedsFolder::default(),
        };
        let health = Health::new(&snapshot.catalog, &reporting.reload, &reporting.seeds);
        Self {
            shared: Arc::new(Shared {
                current: ArcSwap::from_pointee(snapshot),
                health: ArcSwap::from_pointee(health),
                reporting: Mutex::new(reporting),
                metrics,
                trusted_proxies: http.trusted_proxies.clone().into(),
                access_log: http.access_log,
                pollers_key: hashbrown::DefaultHashBuilder::default(),
                links: ArcSwap::default(),
                metrics_apart: AtomicBool::new(false),
            }),
        }
    }

    /// Names the seeds folder the catalog is built from, so that `/healthz`
    /// shows rejected files by their path under it (by default, the
    /// catalog's paths are taken to be under `seeds`).
    pub fn with_seeds_folder(self, seeds_dir: &Path) -> Self {
        let mut reporting = self.reporting();
        reporting.seeds = SeedsFolder::new(seeds_dir);
        self.refresh_health(&reporting);
        drop(reporting);
        self
    }

    /// Advertises the WebSub hubs of `site` on feed responses (`Link`
    /// headers, see `snapshot.rs`), from now on; a config change brings
    /// new ones through [`Outlet::configured`].
    pub fn with_site(self, site: &Site) -> Self {
        let links = Arc::new(FeedLinks::new(site));
        let reporting = self.reporting();
        let current = self.shared.current.load_full();
        let next = Snapshot::new(
            Arc::clone(&current.catalog),
            current.cache_control.clone(),
            &links,
            Some(&current),
        );
        self.shared.links.store(links);
        self.shared.current.store(Arc::new(next));
        drop(reporting);
        self
    }

    /// Leaves `/metrics` to [`serve_metrics`] on another listener: here
    /// it is a `404`.
    pub fn with_metrics_apart(self) -> Self {
        self.shared.metrics_apart.store(true, Ordering::Relaxed);
        self
    }

    /// Replaces the catalog at once, keeping the `Cache-Control` setting.
    /// Header values are prepared here, before the swap, not per request.
    /// Validators are the catalog's as they are: build it with the catalog
    /// it replaces ([`State::catalog`]) as [`crate::publish::catalog`]'s `previous`,
    /// so that `Last-Modified` moves forward with every change of bytes.
    pub fn swap(&self, catalog: Catalog) {
        self.replace(catalog, None);
    }

    /// Replaces the catalog and the `[http]` caching settings at once (after
    /// a config change). `listen` is not re-read: it takes a restart.
    pub fn swap_with(&self, catalog: Catalog, http: &Http) {
        self.replace(catalog, Some(cache_control(http)));
    }

    /// Records the outcome of a reload for `/healthz`.
    pub fn report_reload(&self, status: ReloadStatus) {
        let mut reporting = self.reporting();
        reporting.reload = status;
        self.refresh_health(&reporting);
    }

    /// What the reloader last reported.
    pub fn reload_status(&self) -> ReloadStatus {
        self.reporting().reload.clone()
    }

    /// The catalog being served (the `previous` of the next build).
    pub fn catalog(&self) -> Arc<Catalog> {
        Arc::clone(&self.shared.current.load().catalog)
    }

    fn replace(&self, catalog: Catalog, cache_control: Option<HeaderValue>) {
        let reporting = self.reporting();
        let previous = self.shared.current.load_full();
        let cache_control = cache_control.unwrap_or_else(|| previous.cache_control.clone());
        let next = Snapshot::new(
            Arc::new(catalog),
            cache_control,
            &self.shared.links.load(),
            Some(&previous),
        );
        self.shared.metrics.catalog(&next.catalog);
        self.shared.current.store(Arc::new(next));
        self.refresh_health(&reporting);
    }

    fn reporting(&self) -> MutexGuard<'_, Reporting> {
        self.shared
            .reporting
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Rebuilds `/healthz`; the caller holds `reporting`.
    fn refresh_health(&self, reporting: &Reporting) {
        let catalog = &self.shared.current.load().catalog;
        let health = Health::new(catalog, &reporting.reload, &reporting.seeds);
        self.shared.health.store(Arc::new(health));
    }

    /// Answers one request, counts it and logs it. `peer` is the
    /// connection's, when there is one; `check_host` applies HTTP/1.1's
    /// rule on `Host` (see the module docs).
    fn handle<B>(
        &self,
        request: &axum::http::Request<B>,
        peer: Option<SocketAddr>,
        check_host: bool,
    ) -> Response<Body> {
        let started = Instant::now();
        let (method, path, headers) = (request.method(), request.uri().path(), request.headers());
        let forwarded = peer.and_then(|peer| self.forwarded_client(peer.ip(), headers));
        let client = forwarded.or(peer.map(|peer| peer.ip()));
        let (response, kind, encoding) = if check_host && !host_is_valid(request.version(), headers)
        {
            (bad_host(), Kind::Other, None)
        } else {
            self.respond(method, path, headers, client)
        };
        let took = started.elapsed();
        let status = response.status().as_u16();
        let bytes = response.body().size_hint().exact().unwrap_or(0);
        self.shared
            .metrics
            .request(kind, status, encoding, bytes, took);
        if !self.shared.access_log {
            return response;
        }
        tracing::info!(
            target: crate::logging::ACCESS_TARGET,
            client = peer.map(|peer| tracing::field::display(peer.ip())),
            forwarded = forwarded.map(tracing::field::display),
            %method,
            path,
            status,
            bytes,
            duration_us = u64::try_from(took.as_micros()).unwrap_or(u64::MAX),
            encoding = encoding.unwrap_or("-"),
            not_modified = status == 304,
            user_agent = user_agent(headers).map(String::from_utf8_lossy).as_deref(),
        );
        response
    }

    /// The last hop of `X-Forwarded-For`, when `peer` is a trusted proxy.
    fn forwarded_client(&self, peer: IpAddr, headers: &HeaderMap) -> Option<IpAddr> {
        if !self.shared.trusted_proxies.contains(&peer) {
            return None;
        }
        let last = headers.get_all("x-forwarded-for").iter().next_back()?;
        let hop = last.to_str().ok()?.rsplit(',').next()?.trim();
        hop.parse().ok()
    }

    /// The answer to one request, its kind and the coding of the document
    /// sent, if any. A feed's readers are counted here, with `client`.
    fn respond(
        &self,
        method: &Method,
        path: &str,
        headers: &HeaderMap,
        client: Option<IpAddr>,
    ) -> (Response<Body>, Kind, Option<&'static str>) {
        let snapshot = self.shared.current.load();
        let readable = method == Method::GET || method == Method::HEAD;
        let head = method == Method::HEAD;
        if let Some(mut document) = snapshot.documents.get(path) {
            if !readable {
                return (method_not_allowed(), document.kind, None);
            }
            // A person's browser at a feed's URL gets the feed's page.
            if let Some(preview) = document
                .preview
                .as_deref()
                .filter(|_| accept::prefers_html(headers.get_all(ACCEPT)))
                .and_then(|preview| snapshot.documents.get(preview))
            {
                document = preview;
            }
            let (encoding, outcome) = negotiate(document, method, headers);
            if let (Kind::Feed, Some(client), Outcome::Send | Outcome::NotModified) =
                (document.kind, client, outcome)
            {
                let readers = document.readers.get_or_init(Arc::default);
                let agent = user_agent(headers).unwrap_or_default();
                readers.record(&self.shared.pollers_key, client, agent);
            }
            let response = document_response(document, encoding, outcome, head);
            (
                response,
                document.kind,
                encoding.token().or(Some("identity")),
            )
        } else if path == HEALTH_PATH {
            let response = if readable {
                self.shared.health.load().response(head)
            } else {
                method_not_allowed()
            };
            (response, Kind::Health, None)
        } else if path == METRICS_PATH && !self.shared.metrics_apart.load(Ordering::Relaxed) {
            let response = if readable {
                self.metrics_response(&snapshot, headers, head)
            } else {
                method_not_allowed()
            };
            (response, Kind::Metrics, None)
        } else if let Some((shelved, vary)) = snapshot
            .catalog
            .shelf
            .as_ref()
            .and_then(|shelf| blocking(|| find_on_shelf(shelf.as_ref(), path, headers)))
        {
            let cache_control = shelved
                .cache_control
                .and_then(|value| HeaderValue::try_from(value).ok())
                .unwrap_or_else(|| snapshot.cache_control.clone());
            let document = Prepared::new(&shelved.document, &cache_control, &[], vary);
            if !readable {
                return (method_not_allowed(), document.kind, None);
            }
            let (encoding, outcome) = negotiate(&document, method, headers);
            let response = document_response(&document, encoding, outcome, head);
            (
                response,
                document.kind,
                encoding.token().or(Some("identity")),
            )
        } else {
            let directory = (readable && !path.ends_with('/'))
                .then(|| format!("{path}/"))
                .filter(|directory| snapshot.documents.contains_key(directory.as_str()));
            let response = match directory {
                Some(directory) => redirect(directory, &snapshot.cache_control),
                None => not_found(snapshot.not_found.as_ref(), head),
            };
            (response, Kind::Other, None)
        }
    }

    fn metrics_response(
        &self,
        snapshot: &Snapshot,
        headers: &HeaderMap,
        head: bool,
    ) -> Response<Body> {
        let feeds = snapshot.documents.iter().filter_map(|(path, document)| {
            let readers: &FeedReaders = document.readers.get()?;
            Some((&**path, readers))
        });
        let openmetrics = accept::prefers_openmetrics(headers.get_all(ACCEPT));
        let text = self.shared.metrics.encode(feeds);
        let (text, content_type) = if openmetrics {
            (text, metrics::OPENMETRICS)
        } else {
            (metrics::classic_text(&text), metrics::CLASSIC_TEXT)
        };
        let body = if head {
            Body::default()
        } else {
            Body::from(text)
        };
        let mut response = Response::new(body);
        let headers = response.headers_mut();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
        headers.insert(VARY, HeaderValue::from_static("Accept"));
        headers.insert(CACHE_CONTROL, NO_STORE);
        headers.insert(X_CONTENT_TYPE_OPTIONS, NOSNIFF);
        response
    }

    /// Starts a new window of distinct pollers for every feed.
    fn rotate_pollers(&self) {
        for document in self.shared.current.load().documents.values() {
            if let Some(readers) = document.readers.get() {
                readers.rotate();
            }
        }
    }
}

/// The shelf's document at `path` and the `Vary` it is answered with. An
/// archive document asked for by a person's browser (see `accept.rs`) is
/// answered with the history page of the same entries, as a subscription
/// feed is with its page; both answers then vary by `Accept`.
fn find_on_shelf(
    shelf: &dyn Shelf,
    path: &str,
    headers: &HeaderMap,
) -> Option<(Shelved, HeaderValue)> {
    let Some(page) = ArchivePath::parse(path)
        .filter(|archive| archive.format.is_some())
        .map(|archive| layout::history_page_path(archive.slug, archive.number))
    else {
        return Some((shelf.find(path)?, snapshot::VARY_VALUE));
    };
    let for_people = accept::prefers_html(headers.get_all(ACCEPT))
        .then(|| shelf.find(&page))
        .flatten();
    let shelved = match for_people {
        Some(page) => page,
        None => shelf.find(path)?,
    };
    Some((shelved, snapshot::VARY_NEGOTIATED))
}

/// Runs `work`, which may read files and render (a shelf's document), on
/// a runtime worker without stalling the others: on the multi-threaded
/// runtime of `serve` the worker hands its other tasks over first. (On a
/// current-thread runtime, as in tests through [`router`], it just runs.)
fn blocking<R>(work: impl FnOnce() -> R) -> R {
    match tokio::runtime::Handle::try_current().map(|handle| handle.runtime_flavor()) {
        Ok(tokio::runtime::RuntimeFlavor::MultiThread) => tokio::task::block_in_place(work),
        _ => work(),
    }
}

/// The first bytes of the `User-Agent`, as much as is logged and parsed.
fn user_agent(headers: &HeaderMap) -> Option<&[u8]> {
    let agent = headers.get(USER_AGENT)?.as_bytes();
    Some(&agent[..agent.len().min(readers::UA_SCAN_BYTES)])
}

/// The reloader swaps into the server through this, and nothing else.
impl Outlet for State {
    fn served(&self) -> Arc<Catalog> {
        self.catalog()
    }

    fn configured(&self, config: &Config) {
        self.shared
            .links
            .store(Arc::new(FeedLinks::new(&config.site)));
    }

    fn swap_in(&self, catalog: Catalog, http: Option<&Http>) {
        self.replace(catalog, http.map(cache_control));
    }

    fn report(&self, status: ReloadStatus) {
        self.report_reload(status);
    }

    fn reloaded(&self, took: Duration, swapped: bool, failed: bool) {
        self.shared.metrics.reloaded(took, swapped, failed);
    }
}

/// The body of every response: whole, in memory (a document variant's
/// `Bytes`, a short text, or nothing), so sending it allocates nothing.
pub type Body = Full<Bytes>;

/// The service as an axum [`Router`], for tests (through
/// `tower::ServiceExt::oneshot`) and for embedding: every path of the
/// catalog plus [`HEALTH_PATH`] and [`METRICS_PATH`]. It answers every request exactly as
/// [`serve`] does (both call the same function); what belongs to an HTTP/1
/// connection (a required `Host`, the limits of `limits.rs`) is left to
/// whatever serves the router. `tidings serve` itself goes through hyper
/// directly: the router's per-request cost held the 304 at 0.55-0.77 of
/// nginx's rate, hyper directly gets 0.95 (BENCHMARKS.md, "After serving
/// through hyper directly").
pub fn router(state: State) -> Router {
    Router::new().fallback(move |request: Request| {
        let state = state.clone();
        async move { state.handle(&request, None, false) }
    })
}

fn cache_control(http: &Http) -> HeaderValue {
    HeaderValue::from_str(&http.cache_control()).expect("Cache-Control is built from numbers")
}

/// The coding to send `document` in and what the request's preconditions
/// make of it.
fn negotiate(document: &Prepared, method: &Method, headers: &HeaderMap) -> (Encoding, Outcome) {
    let encoding = encoding::negotiate(headers.get_all(ACCEPT_ENCODING), document.brotli);
    let outcome = conditional::evaluate_fast(
        method,
        headers,
        &document.digest,
        document.last_modified,
        &document.etags(),
    );
    (encoding, outcome)
}

/// A document (200), or its validators only (304), or a failed
/// precondition (412). Headers are the variant's prebuilt maps, cloned.
fn document_response(
    document: &Prepared,
    encoding: Encoding,
    outcome: Outcome,
    head: bool,
) -> Response<Body> {
    let variant = document.variant(encoding);
    let (status, body, headers) = match outcome {
        Outcome::Send if head => (StatusCode::OK, Body::default(), &variant.ok_headers),
        Outcome::Send => (
            StatusCode::OK,
            Body::new(variant.body.clone()),
            &variant.ok_headers,
        ),
        Outcome::NotModified => (
            StatusCode::NOT_MODIFIED,
            Body::default(),
            &variant.not_modified_headers,
        ),
        Outcome::PreconditionFailed => return precondition_failed(),
    };
    let mut response = Response::new(body);
    *response.status_mut() = status;
    *response.headers_mut() = headers.clone();
    response
}

fn redirect(location: String, cache_control: &HeaderValue) -> Response<Body> {
    let mut response = plain(
        StatusCode::MOVED_PERMANENTLY,
        "Moved to the path with a trailing slash.\n",
    );
    let headers = response.headers_mut();
    headers.insert(
        LOCATION,
        HeaderValue::try_from(location).expect("a catalog path is a valid header value"),
    );
    headers.insert(CACHE_CONTROL, cache_control.clone());
    response
}

/// The catalog's `404.html`, prebuilt like every document, or a line of
/// text for a catalog without one.
fn not_found(page: Option<&Bytes>, head: bool) -> Response<Body> {
    let Some(page) = page else {
        return plain(
            StatusCode::NOT_FOUND,
            "404 Not Found: no document at this path.\n",
        );
    };
    let body = if head {
        Body::default()
    } else {
        Body::new(page.clone())
    };
    let mut response = Response::new(body);
    *response.status_mut() = StatusCode::NOT_FOUND;
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HTML);
    headers.insert(CONTENT_LENGTH, HeaderValue::from(page.len()));
    headers.insert(CACHE_CONTROL, NO_STORE);
    headers.insert(X_CONTENT_TYPE_OPTIONS, NOSNIFF);
    response
}

fn method_not_allowed() -> Response<Body> {
    let mut response = plain(
        StatusCode::METHOD_NOT_ALLOWED,
        "405 Method Not Allowed: use GET or HEAD.\n",
    );
    response.headers_mut().insert(ALLOW, ALLOWED);
    response
}

/// RFC 9112 §3.2: an HTTP/1.1 request must have one `Host` (HTTP/1.0
/// predates it), and no request may have two. Checked before anything
/// else; one header lookup.
fn host_is_valid(version: Version, headers: &HeaderMap) -> bool {
    let mut hosts = headers.get_all(HOST).iter();
    match (hosts.next(), hosts.next()) {
        (Some(_), None) => true,
        (None, _) => version < Version::HTTP_11,
        (Some(_), Some(_)) => false,
    }
}

/// The `400` for a missing or repeated `Host`; the connection closes, as
/// the client's framing cannot be trusted.
fn bad_host() -> Response<Body> {
    let mut response = plain(
        StatusCode::BAD_REQUEST,
        "400 Bad Request: send exactly one Host header.\n",
    );
    response.headers_mut().insert(CONNECTION, CLOSE);
    response
}

fn precondition_failed() -> Response<Body> {
    plain(
        StatusCode::PRECONDITION_FAILED,
        "412 Precondition Failed: the document has changed.\n",
    )
}

/// A short text answer that no cache keeps.
fn plain(status: StatusCode, text: &'static str) -> Response<Body> {
    let mut response = Response::new(Body::from(text));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, TEXT);
    headers.insert(CACHE_CONTROL, NO_STORE);
    headers.insert(X_CONTENT_TYPE_OPTIONS, NOSNIFF);
    response
}

/// Answers connections on `listener` from `state` until `stop` is
/// switched, then closes idle connections, lets requests in flight finish
/// and returns once every connection is closed. `limits` bound what each
/// connection, and all of them together, may hold (see the module docs).
///
/// Each connection is served by hyper's HTTP/1 connection with
/// `State::respond` as a plain function: no router, no tower layers, no
/// boxed futures or bodies per request.
pub async fn serve(listener: TcpListener, state: State, limits: Limits, stop: Arc<Stop>) {
    let mut http = hyper::server::conn::http1::Builder::new();
    // Keep-alive and a 304 of a few hundred bytes as one write: these are
    // hyper's defaults, named here because the benchmarks depend on them.
    http.keep_alive(true).half_close(false);
    // hyper answers 431 and closes past this. Its own header timeout is
    // left off: it runs from the end of the previous response, so it
    // would also cut keep-alive connections; the watchdog of `limits`
    // times heads from their first byte instead.
    http.max_header_size(limits.max_header_bytes)
        .header_read_timeout(None);
    let tracker = limits::Tracker::start(limits);
    let rotation = tokio::spawn(rotate_pollers(state.clone()));
    // Connections hold a receiver each; `closed` says when all have ended.
    let (open_tx, open_rx) = tokio::sync::watch::channel(());
    let mut stopped = std::pin::pin!(stop.stopped());
    loop {
        let (stream, peer) = tokio::select! {
            biased;
            () = &mut stopped => break,
            accepted = async {
                tracker.room().await;
                listener.accept().await
            } => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    accept_failed(&error, &tracker).await;
                    continue;
                }
            },
        };
        let tracked = tracker.register();
        let stream = tracked.watch(stream);
        // Small responses (a 304 is a few hundred bytes) should not wait
        // for Nagle's algorithm.
        let _ = stream.set_nodelay(true);
        let service_state = state.clone();
        let heads = tracked.head_marker();
        let service = hyper::service::service_fn(move |request: hyper::Request<Incoming>| {
            heads.head_complete();
            let response = service_state.handle(&request, Some(peer), true);
            std::future::ready(Ok::<_, Infallible>(response))
        });
        let state = state.clone();
        state.shared.metrics.connection_opened();
        let connection = http.serve_connection(TokioIo::new(stream), service);
        let stopped = stop.stopped();
        let open = open_rx.clone();
        tokio::spawn(async move {
            let mut connection = std::pin::pin!(connection);
            let mut watchdog = tracked.watchdog();
            let closed = tokio::select! {
                biased;
                result = connection.as_mut() => finished(result),
                () = stopped => {
                    connection.as_mut().graceful_shutdown();
                    tokio::select! {
                        result = connection.as_mut() => finished(result),
                        closed = &mut watchdog => closed_by(closed),
                    }
                }
                closed = &mut watchdog => closed_by(closed),
            };
            state.shared.metrics.connection_closed(closed);
            drop(tracked);
            drop(open);
        });
    }
    drop(listener);
    drop(open_rx);
    open_tx.closed().await;
    rotation.abort();
}

/// Moves every feed's pollers to a new window, once a window.
async fn rotate_pollers(state: State) {
    let mut interval = tokio::time::interval(POLLER_WINDOW);
    interval.tick().await;
    loop {
        interval.tick().await;
        state.rotate_pollers();
    }
}

/// A connection closed by a limit: no answer is owed (a head that never
/// completed asked nothing yet), so the socket just closes.
fn closed_by(closed: limits::Closed) -> Option<limits::Closed> {
    tracing::debug!("connection closed: {}", closed.as_str());
    Some(closed)
}

fn finished(result: hyper::Result<()>) -> Option<limits::Closed> {
    if let Err(error) = result {
        tracing::trace!("connection ended: {error}");
    }
    None
}

/// After a failed `accept`: errors of one connection (reset before it was
/// accepted) are skipped; others (out of file descriptors, of memory) are
/// logged, the least recently active connection is closed to free its
/// descriptor, and accepting resumes shortly after, so that well-behaved
/// clients keep being answered.
async fn accept_failed(error: &std::io::Error, tracker: &limits::Tracker) {
    use std::io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
    if matches!(
        error.kind(),
        ConnectionAborted | ConnectionRefused | ConnectionReset
    ) {
        return;
    }
    tracing::error!("accept failed: {error}; closing the least recently active connection");
    tracker.shed_one();
    tokio::time::sleep(Duration::from_millis(100)).await;
}
