//! `tidings serve`, wired: bind the port, publish the first catalog, hand
//! it to the HTTP server, start the reloader that swaps new catalogs in,
//! and stop cleanly on SIGINT or SIGTERM.
//!
//! This is the one module that knows every part of a running server; the
//! parts know nothing of each other beyond the small interface between
//! them: [`http`] answers requests from whatever catalog its
//! [`State`](http::State) holds, [`reload`] swaps catalogs into any
//! [`reload::Outlet`], and [`websub`] tells hubs of changed feeds. The
//! outlet here is the server's state plus the WebSub publisher, which
//! learns of each swap what changed.
//!
//! With `[http] metrics_listen`, `/metrics` is answered on a second
//! listener of the same runtime, and the main one answers `404` there.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::net::TcpListener;

use crate::catalog::Catalog;
use crate::config::{BaseUrlRule, Config, Http};
use crate::diagnostic;
use crate::http::{self, Stop};
use crate::reload::{self, Outlet, ReloadStatus, Reloader};
use crate::websub;

/// How long in-flight requests may take after SIGINT or SIGTERM.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// Why `tidings serve` stopped.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The listen address could not be bound (taken, privileged, not ours,
    /// not an address).
    #[error("cannot listen on {address}: {reason}; pass --listen or set [http] listen")]
    Listen { address: String, reason: String },
    /// The first catalog could not be published (config or seeds folder).
    #[error(transparent)]
    Publish(#[from] crate::error::Error),
    /// The seeds folder or the config file cannot be watched for changes.
    #[error("cannot watch the seeds folder and config file for changes: {0}")]
    Watch(String),
    /// The server failed while running.
    #[error("the HTTP server failed: {0}")]
    Serve(std::io::Error),
}

/// Binds `listen`, publishes the first catalog (generation 1) from
/// `seeds_dir`, and serves it until SIGINT or SIGTERM, then lets requests
/// in flight finish (for at most ten seconds).
///
/// The port is bound before publishing, so a taken port fails at once;
/// connections that arrive while the catalog is built wait in the backlog.
///
/// Links are built from `base_url` when given (`--base-url`); otherwise,
/// when the config leaves `site.base_url` at its default and the server
/// listens elsewhere, from the address it listens on (see
/// [`base_url_rule`]).
pub async fn run(
    mut config: Config,
    config_path: PathBuf,
    seeds_dir: PathBuf,
    listen: String,
    base_url: Option<url::Url>,
) -> Result<(), ServeError> {
    let listener = TcpListener::bind(&listen)
        .await
        .map_err(|error| ServeError::Listen {
            reason: describe_bind_error(&error),
            address: listen.clone(),
        })?;
    let address: SocketAddr = listener.local_addr().map_err(ServeError::Serve)?;
    let metrics_listener =
        match &config.http.metrics_listen {
            Some(metrics_listen) => {
                Some(TcpListener::bind(metrics_listen).await.map_err(|error| {
                    ServeError::Listen {
                        reason: describe_bind_error(&error),
                        address: format!("{metrics_listen} ([http] metrics_listen)"),
                    }
                })?)
            }
            None => None,
        };
    let base_url = base_url_rule(base_url, address, &config);
    if let Some(rule) = &base_url {
        config.apply_base_url(rule);
    }
    tracing::info!("links point to {}", config.site.base_url);

    let open_files = http::raise_open_files_limit();
    let limits = http::Limits::new(&config.http, open_files);
    tracing::info!(
        "limits: header timeout {:?}, keep-alive timeout {:?}, headers up to {} bytes, up to {} connections",
        limits.header_timeout,
        limits.keepalive_timeout,
        limits.max_header_bytes,
        limits.max_connections
    );

    let started = Instant::now();
    tracing::info!(
        config = %config_path.display(),
        seeds = %seeds_dir.display(),
        "publishing"
    );
    let seeds_folder = seeds_dir.clone();
    let metrics_apart = metrics_listener.is_some();
    let reloader = Reloader::start(config, config_path, seeds_dir, |catalog, config| {
        let mut state = http::State::new(catalog, &config.http)
            .with_seeds_folder(&seeds_folder)
            .with_site(&config.site);
        if metrics_apart {
            state = state.with_metrics_apart();
        }
        let observer: Arc<dyn websub::Observer> = Arc::new(state.clone());
        Publishing {
            publisher: websub::Publisher::start(&config.site, observer),
            state,
        }
    })?
    .with_base_url(base_url);
    let state = reloader.outlet().state.clone();
    let catalog = state.catalog();
    diagnostic::log(&catalog.diagnostics);
    let summary = format!(
        "generation {}, documents: {}, articles: {}, rejected: {}, published in {:.0?}",
        catalog.generation,
        catalog.len(),
        catalog.articles,
        catalog.rejected().count(),
        started.elapsed()
    );
    drop(catalog);
    let _watch = reload::watch(reloader).map_err(|error| ServeError::Watch(error.to_string()))?;
    tracing::info!("listening on http://{address} ({summary})");

    let stop = Stop::new();
    if let Some(metrics_listener) = metrics_listener {
        let metrics_address = metrics_listener.local_addr().map_err(ServeError::Serve)?;
        tracing::info!("metrics on http://{metrics_address}{}", http::METRICS_PATH);
        tokio::spawn(http::serve_metrics(
            metrics_listener,
            state.clone(),
            Arc::clone(&stop),
        ));
    }
    let signal = Arc::clone(&stop);
    tokio::spawn(async move {
        shutdown_signal().await;
        signal.stop();
    });
    let deadline = stop.stopped();
    tokio::select! {
        () = http::serve(listener, state, limits, stop) => {}
        () = async move {
            deadline.await;
            tokio::time::sleep(SHUTDOWN_GRACE).await;
        } => tracing::warn!("requests still running {SHUTDOWN_GRACE:?} after the signal; stopping anyway"),
    }
    tracing::info!("stopped");
    Ok(())
}

/// What the reloader swaps catalogs into: the HTTP server's state, and
/// the WebSub publisher, told which subscription feeds each swap changed
/// once the new catalog is served (so a hub fetching at once gets it).
#[derive(Debug)]
struct Publishing {
    state: http::State,
    publisher: websub::Publisher,
}

impl Outlet for Publishing {
    fn served(&self) -> Arc<Catalog> {
        self.state.catalog()
    }

    fn configured(&self, config: &Config) {
        self.state.configured(config);
        self.publisher.configure(&config.site);
    }

    fn swap_in(&self, catalog: Catalog, http: Option<&Http>) {
        let previous = self.state.catalog();
        let changed: Vec<String> = websub::changed_feeds(&catalog, &previous)
            .into_iter()
            .map(String::from)
            .collect();
        self.state.swap_in(catalog, http);
        self.publisher.publish(&changed);
    }

    fn report(&self, status: ReloadStatus) {
        self.state.report(status);
    }

    fn reloaded(&self, took: Duration, swapped: bool, failed: bool) {
        self.state.reloaded(took, swapped, failed);
    }
}

/// The runtime for [`run`], sized by the CPUs this process may use
/// (`available_parallelism` follows `taskset` and cgroup quotas): with one
/// CPU, a single-threaded runtime, since worker threads could only take
/// turns on that CPU, and a multi-threaded scheduler's work stealing,
/// atomics and cross-thread wake-ups would be pure overhead; with more, a
/// worker thread per CPU. Catalog rebuilds run on their own thread either
/// way (see [`reload`]).
pub fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    let cpus = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
    let mut builder = if cpus == 1 {
        tokio::runtime::Builder::new_current_thread()
    } else {
        let mut builder = tokio::runtime::Builder::new_multi_thread();
        builder.worker_threads(cpus);
        builder
    };
    builder.enable_all().build()
}

/// Where links point when the config does not say: a server started with
/// `--listen 127.0.0.1:8081` (or port 0) over a config that leaves
/// `site.base_url` at its default links to itself, so that its pages and
/// feeds work in a browser and in feed readers as served. An unspecified
/// address (`0.0.0.0`, `[::]`) names no host a client could use, so the
/// default stays, with a warning.
pub fn base_url_rule(
    flag: Option<url::Url>,
    address: SocketAddr,
    config: &Config,
) -> Option<BaseUrlRule> {
    if let Some(url) = flag {
        return Some(BaseUrlRule::Replace(url));
    }
    if !config.has_default_base_url() {
        return None;
    }
    if address.ip().is_unspecified() {
        tracing::warn!(
            "LINKS POINT TO {}: site.base_url is left at its default and the server listens on \
             {address}, which names no host; pass --base-url (or TIDINGS_BASE_URL, or set \
             [site] base_url) with the URL readers use",
            config.site.base_url
        );
        return None;
    }
    let url = format!("http://{address}/");
    match Config::parse_base_url(&url) {
        Ok(url) if url != config.site.base_url => Some(BaseUrlRule::ReplaceDefault(url)),
        _ => None,
    }
}

fn describe_bind_error(error: &std::io::Error) -> String {
    match error.kind() {
        std::io::ErrorKind::AddrInUse => "address already in use".into(),
        std::io::ErrorKind::AddrNotAvailable => "address not available on this machine".into(),
        std::io::ErrorKind::PermissionDenied => {
            "permission denied (ports below 1024 need privileges)".into()
        }
        _ => error.to_string(),
    }
}

/// `tidings readers`: the readers of each feed of the server at `base`
/// (`http://host:port`), from its `/metrics`, as a table: distinct direct
/// pollers, the sum of the subscribers aggregators report, and each
/// aggregator's count; most read first. Plain HTTP/1.0 over a socket, as
/// the server is usually on this machine or next to it.
pub fn readers(base: &str) -> Result<String, String> {
    let exposition = fetch_metrics(base)?;
    let mut feeds: std::collections::BTreeMap<String, (u64, Vec<(String, u64)>)> =
        std::collections::BTreeMap::new();
    for line in exposition.lines() {
        let (series, value) = line.rsplit_once(' ').unwrap_or_default();
        let value = value.parse::<f64>().unwrap_or(0.0) as u64;
        let (Some(feed), aggregator) = (label(series, "feed"), label(series, "aggregator")) else {
            continue;
        };
        let entry = feeds.entry(feed.to_owned()).or_default();
        if series.starts_with("tidings_feed_pollers{") {
            entry.0 = value;
        } else if let (true, Some(aggregator)) =
            (series.starts_with("tidings_feed_subscribers{"), aggregator)
        {
            entry.1.push((aggregator.to_owned(), value));
        }
    }
    let mut rows: Vec<_> = feeds
        .into_iter()
        .map(|(feed, (pollers, mut aggregators))| {
            aggregators.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
            let subscribers: u64 = aggregators.iter().map(|(_, n)| n).sum();
            (feed, pollers, subscribers, aggregators)
        })
        .collect();
    rows.sort_by(|a, b| (b.1 + b.2).cmp(&(a.1 + a.2)).then_with(|| a.0.cmp(&b.0)));
    let width = rows.iter().map(|row| row.0.len()).max().unwrap_or(0).max(4);
    let mut table = format!(
        "{:width$}  {:>8}  {:>11}  aggregators\n",
        "feed", "pollers", "subscribers"
    );
    for (feed, pollers, subscribers, aggregators) in rows {
        let aggregators: Vec<String> = aggregators
            .iter()
            .map(|(name, n)| format!("{name} {n}"))
            .collect();
        table.push_str(&format!(
            "{feed:width$}  {pollers:>8}  {subscribers:>11}  {}\n",
            aggregators.join(", ")
        ));
    }
    Ok(table)
}

/// The value of `name` in a series' labels (`x{name="value",…}`); feed
/// paths and aggregator names hold no quote to escape.
fn label<'a>(series: &'a str, name: &str) -> Option<&'a str> {
    let labels = series.split_once('{')?.1;
    let start = labels.find(&format!("{name}=\""))? + name.len() + 2;
    let value = &labels[start..];
    Some(&value[..value.find('"')?])
}

fn fetch_metrics(base: &str) -> Result<String, String> {
    use std::io::{Read as _, Write as _};
    let host = base
        .strip_prefix("http://")
        .ok_or_else(|| format!("{base}: only http:// URLs are read"))?
        .trim_end_matches('/');
    let fail = |error: std::io::Error| format!("cannot read {base}/metrics: {error}");
    let address = std::net::ToSocketAddrs::to_socket_addrs(host)
        .map_err(fail)?
        .next()
        .ok_or_else(|| format!("{host}: no address"))?;
    let mut stream =
        std::net::TcpStream::connect_timeout(&address, Duration::from_secs(5)).map_err(fail)?;
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .map_err(fail)?;
    write!(stream, "GET /metrics HTTP/1.0\r\nHost: {host}\r\n\r\n").map_err(fail)?;
    let mut response = String::new();
    stream.read_to_string(&mut response).map_err(fail)?;
    let (head, body) = response
        .split_once("\r\n\r\n")
        .ok_or_else(|| format!("{base}/metrics: not an HTTP response"))?;
    let status = head.lines().next().unwrap_or_default();
    if !status.contains(" 200 ") {
        return Err(format!("{base}/metrics: {status}"));
    }
    Ok(body.to_owned())
}

/// Resolves on SIGINT (Ctrl-C) or SIGTERM.
async fn shutdown_signal() {
    let interrupt = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::error!("cannot listen for SIGINT: {error}");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut terminate) => {
                terminate.recv().await;
            }
            Err(error) => {
                tracing::error!("cannot listen for SIGTERM: {error}");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => tracing::info!("SIGINT: shutting down"),
        () = terminate => tracing::info!("SIGTERM: shutting down"),
    }
}
