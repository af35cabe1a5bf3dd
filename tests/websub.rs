//! WebSub publishing end to end, against a stub hub on a real socket: the
//! retries and their backoff, refusals, time limits and coalescing of the
//! publisher; the discovery headers and the notifications of a running
//! `tidings serve` after a seed is added; the manifest of `tidings build`
//! and the `tidings ping` command; and `[http] metrics_listen`. (A real
//! hub, flask-websub, is exercised by `scripts/check-websub.sh`.) Every
//! wait is bounded and no assertion depends on how fast anything runs:
//! only lower bounds of waits that a sleep guarantees.

mod common;

use std::collections::BTreeMap;
use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::Command;
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use tidings::config::Config;
use tidings::websub::{self, Outcome, Policy, Publisher};
use url::Url;

use common::{Server, Site, TIMEOUT};

/// What the stub hub answers to one notification.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Reply {
    Status(u16),
    /// This status with `Retry-After: seconds`.
    RetryAfter(u16, u32),
    /// Reads the request and never answers.
    Silent,
    /// Waits until the gate opens, then answers 202.
    Gated,
}

/// One notification the stub hub received.
#[derive(Debug, Clone)]
struct Received {
    form: BTreeMap<String, String>,
    content_type: String,
    at: Instant,
}

/// A WebSub hub that records every `POST` and answers as told: `script`
/// replies in order, then `then`.
#[derive(Clone)]
struct StubHub {
    url: Url,
    received: Arc<Mutex<Vec<Received>>>,
    gate: Arc<(Mutex<bool>, Condvar)>,
}

impl StubHub {
    fn start(script: &[Reply], then: Reply) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = Url::parse(&format!("http://{}/hub", listener.local_addr().unwrap())).unwrap();
        let hub = Self {
            url,
            received: Arc::default(),
            gate: Arc::default(),
        };
        let replies = Arc::new(Mutex::new(script.to_vec()));
        let serving = hub.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                let hub = serving.clone();
                let replies = Arc::clone(&replies);
                std::thread::spawn(move || hub.answer(stream, &replies, then));
            }
        });
        hub
    }

    fn answer(&self, stream: TcpStream, replies: &Mutex<Vec<Reply>>, then: Reply) {
        stream.set_read_timeout(Some(TIMEOUT)).unwrap();
        let mut reader = BufReader::new(stream.try_clone().unwrap());
        let mut length = 0;
        let mut content_type = String::new();
        let mut line = String::new();
        while reader.read_line(&mut line).unwrap_or(0) > 0 && line != "\r\n" {
            let lower = line.to_ascii_lowercase();
            if let Some(value) = lower.strip_prefix("content-length:") {
                length = value.trim().parse().unwrap();
            }
            if let Some(value) = lower.strip_prefix("content-type:") {
                content_type = value.trim().to_owned();
            }
            line.clear();
        }
        let mut body = vec![0; length];
        reader.read_exact(&mut body).unwrap();
        self.received.lock().unwrap().push(Received {
            form: url::form_urlencoded::parse(&body).into_owned().collect(),
            content_type,
            at: Instant::now(),
        });
        let reply = {
            let mut replies = replies.lock().unwrap();
            if replies.is_empty() {
                then
            } else {
                replies.remove(0)
            }
        };
        let mut extra = String::new();
        let status = match reply {
            Reply::Status(status) => status,
            Reply::RetryAfter(status, seconds) => {
                extra = format!("Retry-After: {seconds}\r\n");
                status
            }
            Reply::Silent => {
                std::thread::sleep(TIMEOUT);
                return;
            }
            Reply::Gated => {
                let (open, opened) = &*self.gate;
                let guard = open.lock().unwrap();
                let _ = opened.wait_timeout_while(guard, TIMEOUT, |open| !*open);
                202
            }
        };
        let body = format!("answer {status}\n");
        let mut stream = stream;
        let _ = write!(
            stream,
            "HTTP/1.1 {status} Whatever\r\nContent-Length: {}\r\n{extra}Connection: close\r\n\r\n{body}",
            body.len()
        );
    }

    fn open_gate(&self) {
        let (open, opened) = &*self.gate;
        *open.lock().unwrap() = true;
        opened.notify_all();
    }

    fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }

    /// The `hub.url` of every notification so far, sorted.
    fn urls(&self) -> Vec<String> {
        let mut urls: Vec<String> = self
            .received()
            .iter()
            .map(|r| r.form["hub.url"].clone())
            .collect();
        urls.sort();
        urls
    }

    /// Waits (bounded) until `count` notifications arrived.
    fn wait_for(&self, count: usize) -> Vec<Received> {
        let deadline = Instant::now() + Duration::from_secs(30);
        while self.received.lock().unwrap().len() < count {
            assert!(
                Instant::now() < deadline,
                "the hub got {:?}, not {count} notifications",
                self.urls()
            );
            std::thread::sleep(Duration::from_millis(10));
        }
        self.received()
    }
}

fn quick(attempts: u32) -> Policy {
    Policy {
        attempts,
        first_delay: Duration::from_millis(40),
        max_delay: Duration::from_millis(200),
        timeout: Duration::from_secs(5),
    }
}

const FEED: &str = "https://news.example.org/feeds/all.atom";

#[test]
fn a_notification_is_a_publish_form_naming_the_url_as_topic_and_url() {
    let hub = StubHub::start(&[], Reply::Status(204));
    assert_eq!(
        websub::ping(std::slice::from_ref(&hub.url), &[FEED.into()], &quick(5)),
        [0]
    );
    let received = hub.received();
    assert_eq!(received.len(), 1);
    let form: Vec<(&str, &str)> = received[0]
        .form
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    assert_eq!(
        form,
        [
            ("hub.mode", "publish"),
            ("hub.topic", FEED),
            ("hub.url", FEED)
        ]
    );
    assert_eq!(
        received[0].content_type,
        "application/x-www-form-urlencoded"
    );
}

#[test]
fn failures_that_may_pass_are_retried_with_growing_waits() {
    let hub = StubHub::start(
        &[Reply::Status(503), Reply::Status(429), Reply::Status(500)],
        Reply::Status(202),
    );
    let policy = quick(5);
    assert_eq!(
        websub::ping(std::slice::from_ref(&hub.url), &[FEED.into()], &policy),
        [0]
    );
    let received = hub.received();
    assert_eq!(received.len(), 4, "three failures, then accepted");
    for (retry, pair) in received.windows(2).enumerate() {
        let waited = pair[1].at - pair[0].at;
        // At least the fixed half of each doubled delay.
        let least = policy.delay(retry as u32 + 1, 0.0);
        assert!(
            waited >= least,
            "retry {}: {waited:?} < {least:?}",
            retry + 1
        );
    }
}

#[test]
fn a_hub_that_asks_to_retry_after_a_while_gets_nothing_before() {
    let hub = StubHub::start(&[Reply::RetryAfter(429, 1)], Reply::Status(202));
    let urls = [FEED.to_string(), FEED.replace("atom", "rss")];
    assert_eq!(
        websub::ping(std::slice::from_ref(&hub.url), &urls, &quick(3)),
        [0]
    );
    let received = hub.received();
    assert_eq!(received.len(), 3, "one refused for now, then both");
    for later in &received[1..] {
        let waited = later.at - received[0].at;
        // Far past the policy's 40 ms: what the hub asked.
        assert!(waited >= Duration::from_secs(1), "{waited:?}");
    }
}

#[test]
fn a_hub_that_keeps_failing_is_given_up_after_the_last_attempt() {
    let hub = StubHub::start(&[], Reply::Status(503));
    let urls = [FEED.to_string(), FEED.replace("atom", "rss")];
    assert_eq!(
        websub::ping(std::slice::from_ref(&hub.url), &urls, &quick(3)),
        [2]
    );
    assert_eq!(hub.received().len(), 6, "three attempts for each URL");
}

#[test]
fn a_refusal_is_given_up_at_once() {
    let refusing = StubHub::start(&[], Reply::Status(400));
    let accepting = StubHub::start(&[], Reply::Status(202));
    let hubs = [refusing.url.clone(), accepting.url.clone()];
    assert_eq!(websub::ping(&hubs, &[FEED.into()], &quick(5)), [1, 0]);
    assert_eq!(refusing.received().len(), 1);
    assert_eq!(accepting.received().len(), 1);
}

#[test]
fn a_hub_that_does_not_answer_is_given_up_after_its_time_limit() {
    let hub = StubHub::start(&[], Reply::Silent);
    let policy = Policy {
        timeout: Duration::from_millis(300),
        ..quick(2)
    };
    assert_eq!(
        websub::ping(std::slice::from_ref(&hub.url), &[FEED.into()], &policy),
        [1]
    );
    assert_eq!(hub.received().len(), 2);
}

/// Counts what the publisher reports.
#[derive(Debug, Default)]
struct Tally(Mutex<BTreeMap<Outcome, u64>>);

impl websub::Observer for Tally {
    fn pinged(&self, _: &Url, outcome: Outcome, urls: u64) {
        *self.0.lock().unwrap().entry(outcome).or_default() += urls;
    }
}

fn site_with_hubs(hubs: &[&StubHub]) -> tidings::config::Site {
    let hubs: Vec<String> = hubs.iter().map(|h| format!("\"{}\"", h.url)).collect();
    Config::parse(
        &format!(
            "[site]\nbase_url = \"https://news.example.org/\"\nhub = [{}]\n",
            hubs.join(", ")
        ),
        Path::new("tidings.toml"),
    )
    .unwrap()
    .site
}

#[test]
fn the_publisher_coalesces_urls_that_wait_and_counts_outcomes() {
    let hub = StubHub::start(&[Reply::Gated], Reply::Status(202));
    let tally = Arc::new(Tally::default());
    let publisher = Publisher::with_policy(&site_with_hubs(&[&hub]), quick(5), tally.clone());
    publisher.publish(&["/feeds/all.atom"]);
    // The hub holds the first notification while three more changes of
    // the same feed come: they wait as one.
    hub.wait_for(1);
    for _ in 0..3 {
        publisher.publish(&["/feeds/all.rss", "/feeds/ukraine.json"]);
    }
    hub.open_gate();
    hub.wait_for(3);
    assert_eq!(
        hub.urls(),
        [
            "https://news.example.org/feeds/all.atom",
            "https://news.example.org/feeds/all.rss",
            "https://news.example.org/feeds/ukraine.json"
        ]
    );
    let deadline = Instant::now() + TIMEOUT;
    while tally.0.lock().unwrap().get(&Outcome::Sent) != Some(&3) {
        assert!(Instant::now() < deadline, "{:?}", tally.0.lock().unwrap());
        std::thread::sleep(Duration::from_millis(10));
    }
    // Nothing more comes.
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(hub.received().len(), 3);
}

#[test]
fn a_new_config_stops_removed_hubs_and_starts_new_ones() {
    let first = StubHub::start(&[], Reply::Status(202));
    let second = StubHub::start(&[], Reply::Status(202));
    let publisher = Publisher::with_policy(&site_with_hubs(&[&first]), quick(5), Arc::new(()));
    publisher.publish(&["/feeds/all.atom"]);
    first.wait_for(1);
    publisher.configure(&site_with_hubs(&[&second]));
    publisher.publish(&["/feeds/all.rss"]);
    second.wait_for(1);
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(first.urls(), ["https://news.example.org/feeds/all.atom"]);
    assert_eq!(second.urls(), ["https://news.example.org/feeds/all.rss"]);
}

/// A response to one blocking request over a fresh connection: the
/// status and the header lines (names lower-cased).
fn request(address: &str, method: &str, path: &str, extra: &str) -> (u16, Vec<(String, String)>) {
    let mut stream = TcpStream::connect(address).unwrap();
    stream.set_read_timeout(Some(TIMEOUT)).unwrap();
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n{extra}\r\n"
    )
    .unwrap();
    let mut response = Vec::new();
    let _ = stream.read_to_end(&mut response);
    let text = String::from_utf8_lossy(&response);
    let head = text.split("\r\n\r\n").next().unwrap();
    let mut lines = head.lines();
    let status = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers = lines
        .filter_map(|line| line.split_once(": "))
        .map(|(name, value)| (name.to_ascii_lowercase(), value.to_owned()))
        .collect();
    (status, headers)
}

fn values(headers: &[(String, String)], name: &str) -> Vec<String> {
    headers
        .iter()
        .filter(|(n, _)| n == name)
        .map(|(_, v)| v.clone())
        .collect()
}

/// The repository's seeds and config, with lines added to `[site]` and
/// `[http]`.
fn site_with(site_lines: &str, http_lines: &str) -> Site {
    let site = Site::new();
    let config = std::fs::read_to_string(site.config_file()).unwrap();
    let config = config
        .replacen("[site]\n", &format!("[site]\n{site_lines}\n"), 1)
        .replacen("[http]\n", &format!("[http]\n{http_lines}\n"), 1);
    std::fs::write(site.config_file(), config).unwrap();
    site
}

const NEW_SEED: &str = "Grain corridor reopens in Kyiv talks\n\nJune 1, 2024\n\n\
    Ships leave the ports again after talks in Kyiv.\n\n\
    Original url: https://news.example.org/grain-corridor\n";

#[test]
fn serve_advertises_its_hubs_in_headers_and_tells_them_what_a_new_seed_changed() {
    let hub = StubHub::start(&[], Reply::Status(202));
    let second = StubHub::start(&[], Reply::Status(202));
    let site = site_with(&format!("hub = [\"{}\", \"{}\"]", hub.url, second.url), "");
    let server = Server::start_with(site);
    // Links and notifications name the feeds by the base URL, which
    // follows the listening address while `site.base_url` is the default.
    let base = server.base.clone();
    let address = server.address.clone();

    let expected_links = [
        format!("<{}>; rel=\"hub\"", hub.url),
        format!("<{}>; rel=\"hub\"", second.url),
        format!("<{base}/feeds/ukraine.rss>; rel=\"self\""),
    ];
    let (status, headers) = request(&address, "GET", "/feeds/ukraine.rss", "");
    assert_eq!(status, 200);
    assert_eq!(values(&headers, "link"), expected_links);
    let etag = values(&headers, "etag")[0].clone();
    let (status, head) = request(&address, "HEAD", "/feeds/ukraine.rss", "");
    assert_eq!(
        (status, values(&head, "link")),
        (200, expected_links.to_vec())
    );
    let (status, revalidated) = request(
        &address,
        "GET",
        "/feeds/ukraine.rss",
        &format!("If-None-Match: {etag}\r\n"),
    );
    assert_eq!(
        (status, values(&revalidated, "link")),
        (304, expected_links.to_vec())
    );
    for path in ["/", "/feeds.opml", "/topics/ukraine/"] {
        let (_, headers) = request(&address, "GET", path, "");
        assert!(values(&headers, "link").is_empty(), "{path}: {headers:?}");
    }
    assert!(hub.received().is_empty(), "nothing changed yet");

    std::fs::write(server.site.seeds().join("grain.txt"), NEW_SEED).unwrap();
    // The new article is in `all` and `ukraine`, not in `russia`.
    let changed: Vec<String> = ["all", "ukraine"]
        .iter()
        .flat_map(|slug| ["atom", "json", "rss"].map(|ext| format!("{base}/feeds/{slug}.{ext}")))
        .collect();
    for hub in [&hub, &second] {
        hub.wait_for(changed.len());
        std::thread::sleep(Duration::from_millis(300));
        assert_eq!(hub.urls(), changed);
    }
    let deadline = Instant::now() + TIMEOUT;
    loop {
        let metrics = get_text(&address, "/metrics");
        if metrics.contains(&format!(
            "tidings_websub_pings_total{{hub=\"{}\",outcome=\"sent\"}} 6",
            hub.url
        )) {
            break;
        }
        assert!(Instant::now() < deadline, "{metrics}");
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(server.log_count("tidings::websub") > 0, "{}", server.log());
}

/// The body of a plain GET.
fn get_text(address: &str, path: &str) -> String {
    let mut stream = TcpStream::connect(address).unwrap();
    stream.set_read_timeout(Some(TIMEOUT)).unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    let _ = stream.read_to_string(&mut response);
    response
}

#[test]
fn without_hubs_feeds_have_no_link_headers() {
    let server = Server::start();
    let (status, headers) = request(&server.address, "GET", "/feeds/all.atom", "");
    assert_eq!(status, 200);
    assert!(values(&headers, "link").is_empty(), "{headers:?}");
}

#[test]
fn metrics_listen_serves_metrics_apart_and_the_main_listener_hides_them() {
    let site = site_with("", "metrics_listen = \"127.0.0.1:0\"");
    let server = Server::start_with(site);
    let deadline = Instant::now() + TIMEOUT;
    let metrics_address = loop {
        if let Some(address) = server
            .log()
            .split("metrics on http://")
            .nth(1)
            .and_then(|rest| rest.split("/metrics").next())
        {
            break address.to_owned();
        }
        assert!(Instant::now() < deadline, "{}", server.log());
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_ne!(metrics_address, server.address);
    assert_eq!(request(&server.address, "GET", "/metrics", "").0, 404);
    assert_eq!(
        request(&server.address, "GET", "/feeds/all.atom", "").0,
        200
    );
    let (status, headers) = request(&metrics_address, "GET", "/metrics", "");
    assert_eq!(status, 200);
    assert!(values(&headers, "content-type")[0].starts_with("text/plain; version=0.0.4"));
    let (_, headers) = request(
        &metrics_address,
        "GET",
        "/metrics",
        "Accept: application/openmetrics-text;version=1.0.0\r\n",
    );
    assert!(values(&headers, "content-type")[0].starts_with("application/openmetrics-text"));
    let body = get_text(&metrics_address, "/metrics");
    // The main listener's requests are counted, the 404 included.
    assert!(
        body.contains(
            "tidings_http_requests_total{kind=\"feed\",status=\"200\",encoding=\"identity\"} 1"
        ),
        "{body}"
    );
    assert!(body.contains("status=\"404\""), "{body}");
    assert_eq!(request(&metrics_address, "HEAD", "/metrics", "").0, 200);
    assert_eq!(
        request(&metrics_address, "GET", "/feeds/all.atom", "").0,
        404
    );
    assert_eq!(request(&metrics_address, "POST", "/metrics", "").0, 405);
}

fn tidings(site: &Site, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_tidings"))
        .current_dir(site.dir.path())
        .args(["--config", "config/tidings.toml", "--seeds", "seeds"])
        .args(args)
        .env("RUST_LOG", "info")
        .env("NO_COLOR", "1")
        .env_remove("TIDINGS_OUT")
        .env_remove("TIDINGS_PREVIOUS_MANIFEST")
        .env_remove("TIDINGS_ALL_IF_NO_PREVIOUS")
        .output()
        .unwrap()
}

fn manifest(path: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn a_build_writes_a_manifest_and_ping_tells_the_hub_what_changed_since_the_last() {
    let hub = StubHub::start(&[], Reply::Status(202));
    let site = site_with(&format!("hub = \"{}\"", hub.url), "");
    let base = "https://news.example.org/site/";
    let build = |out: &str| {
        let built = tidings(&site, &["build", "--out", out, "--base-url", base]);
        assert!(
            built.status.success(),
            "{}",
            String::from_utf8_lossy(&built.stderr)
        );
        site.dir.path().join(out)
    };
    let first = build("first");

    // The manifest holds the digest (the ETag) of every document, as the
    // server has it, and is no document of the site.
    let listed = manifest(&first.join("tidings-manifest.json"));
    assert_eq!(listed["base_url"], base);
    assert_eq!(listed["hubs"], serde_json::json!([hub.url.as_str()]));
    let mut config = Config::from_file(&site.config_file()).unwrap();
    config.set_base_url(base).unwrap();
    let catalog = tidings::publish::publish(
        &config,
        &site.seeds(),
        1,
        tidings::catalog::Compression::Off,
    )
    .unwrap();
    let digests: serde_json::Map<String, serde_json::Value> = catalog
        .documents()
        .map(|(path, document)| (path.to_owned(), document.digest.clone().into()))
        .collect();
    assert_eq!(listed["documents"], serde_json::Value::Object(digests));
    let headers = std::fs::read_to_string(first.join("_headers")).unwrap();
    assert!(!headers.contains("manifest"), "{headers}");
    assert_eq!(
        std::fs::read(first.join("tidings-manifest.json")).unwrap(),
        std::fs::read(build("again").join("tidings-manifest.json")).unwrap(),
        "the same input gives the same manifest"
    );

    // No previous manifest: refused, unless every feed is wanted.
    let refused = tidings(
        &site,
        &["ping", "--out", "first", "--previous", "missing.json"],
    );
    assert_eq!(refused.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("--all-if-no-previous"));
    assert!(hub.received().is_empty());
    let all = tidings(&site, &["ping", "--out", "first", "--all-if-no-previous"]);
    assert!(
        all.status.success(),
        "{}",
        String::from_utf8_lossy(&all.stderr)
    );
    assert_eq!(hub.received().len(), 9, "three feeds in three formats");

    // A new article changes `all` and `ukraine`.
    std::fs::write(site.seeds().join("grain.txt"), NEW_SEED).unwrap();
    let second = build("second");
    let previous = first.join("tidings-manifest.json");
    let previous = previous.to_str().unwrap();
    let pinged = tidings(&site, &["ping", "--out", "second", "--previous", previous]);
    let stderr = String::from_utf8_lossy(&pinged.stderr);
    assert!(pinged.status.success(), "{stderr}");
    assert!(
        stderr.contains("1 hub(s) accepted 6 changed feed URL(s)"),
        "{stderr}"
    );
    assert!(stderr.contains("sent"), "the outcome is logged: {stderr}");
    let received = hub.received();
    let mut urls: Vec<&str> = received[9..]
        .iter()
        .map(|r| r.form["hub.url"].as_str())
        .collect();
    urls.sort();
    let expected: Vec<String> = ["all", "ukraine"]
        .iter()
        .flat_map(|slug| ["atom", "json", "rss"].map(|ext| format!("{base}feeds/{slug}.{ext}")))
        .collect();
    assert_eq!(urls, expected);

    // Unchanged: nothing to send.
    let nothing = tidings(
        &site,
        &[
            "ping",
            "--out",
            "second",
            "--previous",
            "second/tidings-manifest.json",
        ],
    );
    assert!(nothing.status.success());
    assert!(String::from_utf8_lossy(&nothing.stderr).contains("no feed changed"));
    assert_eq!(hub.received().len(), 15);
    let _ = second;
}

#[test]
fn ping_exits_non_zero_when_a_hub_refuses() {
    let hub = StubHub::start(&[], Reply::Status(403));
    let site = site_with(&format!("hub = \"{}\"", hub.url), "");
    let built = tidings(&site, &["build", "--out", "public"]);
    assert!(built.status.success());
    let pinged = tidings(&site, &["ping", "--all-if-no-previous"]);
    let stderr = String::from_utf8_lossy(&pinged.stderr);
    assert_eq!(pinged.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("9 of 9 notification(s)"), "{stderr}");
    assert!(
        stderr.contains("given up") && stderr.contains("403"),
        "{stderr}"
    );
    assert_eq!(hub.received().len(), 9, "a refusal is not retried");
}
