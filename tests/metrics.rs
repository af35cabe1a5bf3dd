//! `/metrics`, readers per feed and the access log, end to end: the built
//! binary on a real socket, a scripted mix of requests, then the
//! exposition read by the Prometheus project's own parsers of the classic
//! text format and of OpenMetrics (`prometheus_client` in the repository's
//! .venv, which `scripts/python-env.sh` installs) and the log read from
//! stderr.

mod common;

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use reqwest::header::{ACCEPT, ACCEPT_ENCODING, IF_NONE_MATCH, USER_AGENT};
use reqwest::{Method, StatusCode};

use common::{collect_stderr, header, listening_address, raw_client, Server, Site, TIMEOUT};

/// One sample, as `scripts/metrics_samples.py` prints it.
#[derive(Debug, serde::Deserialize)]
struct Sample {
    name: String,
    labels: BTreeMap<String, String>,
    value: f64,
}

/// Serialises the set-up of the .venv between the tests of this file.
static PYTHON_ENV: Mutex<()> = Mutex::new(());

/// The `Accept` of a Prometheus 2.x scrape, as it sends it.
const PROMETHEUS_ACCEPT: &str = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";

/// Scrapes `/metrics` as curl does (no `Accept`), and parses the classic
/// text format with prometheus_client.
async fn scrape(server: &Server) -> Vec<Sample> {
    scrape_as(server, None).await
}

/// Scrapes `/metrics` with `accept`, checks the format the answer says it
/// is in, and parses it with prometheus_client's parser of that format.
async fn scrape_as(server: &Server, accept: Option<&str>) -> Vec<Sample> {
    let mut request = raw_client().get(server.url("/metrics"));
    if let Some(accept) = accept {
        request = request.header(ACCEPT, accept);
    }
    let response = request.send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let format = match header(response.headers(), "content-type") {
        Some("text/plain; version=0.0.4; charset=utf-8") => "text",
        Some("application/openmetrics-text; version=1.0.0; charset=utf-8") => "openmetrics",
        other => panic!("/metrics answered {other:?}"),
    };
    assert_eq!(
        format == "openmetrics",
        accept.is_some_and(|accept| accept.starts_with("application/openmetrics-text"))
    );
    assert_eq!(
        header(response.headers(), "cache-control"),
        Some("no-store")
    );
    assert_eq!(header(response.headers(), "vary"), Some("Accept"));
    parse(&response.text().await.unwrap(), format)
}

fn parse(exposition: &str, format: &str) -> Vec<Sample> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    {
        let _one_at_a_time = PYTHON_ENV.lock().unwrap_or_else(|p| p.into_inner());
        let status = Command::new(root.join("scripts/python-env.sh"))
            .status()
            .unwrap();
        assert!(status.success(), "scripts/python-env.sh failed");
    }
    let mut child = Command::new(root.join(".venv/bin/python"))
        .arg(root.join("scripts/metrics_samples.py"))
        .arg(format)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(exposition.as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "the {format} parser rejects /metrics: {}\n{exposition}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect()
}

/// The value of the sample `name` with exactly `labels`, if there is one.
fn value(samples: &[Sample], name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    let labels: BTreeMap<String, String> = labels
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    samples
        .iter()
        .find(|s| s.name == name && s.labels == labels)
        .map(|s| s.value)
}

fn labels(sample: &Sample) -> Vec<(&str, &str)> {
    sample
        .labels
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect()
}

fn requests(samples: &[Sample], kind: &str, status: &str, encoding: &str) -> f64 {
    value(
        samples,
        "tidings_http_requests_total",
        &[("kind", kind), ("status", status), ("encoding", encoding)],
    )
    .unwrap_or(0.0)
}

fn series<'a>(samples: &'a [Sample], name: &'a str) -> impl Iterator<Item = &'a Sample> {
    samples.iter().filter(move |s| s.name == name)
}

#[tokio::test]
async fn metrics_count_a_scripted_mix_of_requests() {
    let server = Server::start();
    let client = raw_client();
    let feed = server.url("/feeds/all.atom");
    let mut feed_bytes = 0;
    for _ in 0..3 {
        let response = client
            .get(&feed)
            .header(ACCEPT_ENCODING, "identity")
            .send()
            .await
            .unwrap();
        feed_bytes += response.bytes().await.unwrap().len();
    }
    let mut etag = String::new();
    for _ in 0..2 {
        let response = client
            .get(&feed)
            .header(ACCEPT_ENCODING, "gzip")
            .send()
            .await
            .unwrap();
        etag = header(response.headers(), "etag").unwrap().to_owned();
        feed_bytes += response.bytes().await.unwrap().len();
    }
    for _ in 0..4 {
        let response = client
            .get(&feed)
            .header(ACCEPT_ENCODING, "gzip")
            .header(IF_NONE_MATCH, &etag)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::NOT_MODIFIED);
    }
    let head = client.head(&feed).send().await.unwrap();
    assert_eq!(head.status(), StatusCode::OK);
    let post = client.post(&feed).send().await.unwrap();
    assert_eq!(post.status(), StatusCode::METHOD_NOT_ALLOWED);
    // The 405's short text counts as bytes sent for the feed's path.
    feed_bytes += post.bytes().await.unwrap().len();
    for path in ["/nope", "/feeds/nope.atom"] {
        let response = client.get(server.url(path)).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
    }
    let page = client
        .get(server.url("/topics/ukraine"))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::MOVED_PERMANENTLY);
    for path in ["/", "/feeds.opml", "/healthz"] {
        let response = client
            .request(Method::GET, server.url(path))
            .header(ACCEPT_ENCODING, "identity")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{path}");
    }
    let health = client
        .get(server.url("/healthz"))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let health: serde_json::Value = serde_json::from_slice(&health).unwrap();

    let samples = scrape(&server).await;
    let count = |kind, status, encoding| requests(&samples, kind, status, encoding);
    assert_eq!(count("feed", "200", "identity"), 4.0, "3 GET and a HEAD");
    assert_eq!(count("feed", "200", "gzip"), 2.0);
    assert_eq!(count("feed", "304", "gzip"), 4.0);
    assert_eq!(count("feed", "405", "none"), 1.0);
    assert_eq!(count("other", "404", "none"), 2.0);
    assert_eq!(count("other", "301", "none"), 1.0);
    assert_eq!(count("page", "200", "identity"), 1.0);
    assert_eq!(count("opml", "200", "identity"), 1.0);
    assert_eq!(count("health", "200", "none"), 2.0);
    let answered: f64 = series(&samples, "tidings_http_requests_total")
        .map(|s| s.value)
        .sum();
    assert_eq!(answered, 18.0, "the scrape counts after it is built");
    assert_eq!(
        value(&samples, "tidings_http_request_duration_seconds_count", &[]),
        Some(answered)
    );
    assert_eq!(
        value(
            &samples,
            "tidings_http_response_body_bytes_total",
            &[("kind", "feed")]
        ),
        Some(feed_bytes as f64)
    );
    assert!(value(&samples, "tidings_http_connections_open", &[]).unwrap() >= 1.0);
    assert!(value(&samples, "tidings_http_connections_total", &[]).unwrap() >= 1.0);
    assert_eq!(
        value(
            &samples,
            "tidings_http_connections_closed_by_limit_total",
            &[("reason", "evicted")]
        ),
        Some(0.0)
    );
    assert_eq!(
        value(&samples, "tidings_catalog_generation", &[]),
        Some(1.0)
    );
    for (metric, field) in [
        ("tidings_catalog_articles", "articles"),
        ("tidings_catalog_documents", "documents"),
        ("tidings_catalog_rejected_files", "rejected"),
    ] {
        assert_eq!(
            value(&samples, metric, &[]),
            health[field].as_f64(),
            "{metric}"
        );
    }
    assert_eq!(value(&samples, "tidings_reloads_total", &[]), Some(0.0));
    assert_eq!(
        value(&samples, "tidings_reload_failures_total", &[]),
        Some(0.0)
    );

    // Prometheus gets OpenMetrics, with the same series.
    let openmetrics = scrape_as(&server, Some(PROMETHEUS_ACCEPT)).await;
    let count = |kind, status, encoding| requests(&openmetrics, kind, status, encoding);
    assert_eq!(count("feed", "304", "gzip"), 4.0);
    assert_eq!(count("metrics", "200", "none"), 1.0, "the first scrape");
    for sample in samples.iter().filter(|s| {
        s.name.starts_with("tidings_catalog_")
            || s.labels.get("kind").is_some_and(|k| k != "metrics")
    }) {
        assert_eq!(
            value(&openmetrics, &sample.name, &labels(sample)),
            Some(sample.value),
            "{sample:?}"
        );
    }

    // A reload is counted, and the gauges follow the new catalog.
    let seed = server.site.seeds().join("metrics-probe.txt");
    std::fs::write(
        &seed,
        "Metrics probe\n\n2024-06-03 10:00\n\nWorkers in Kyiv counted the readers.\n\n\
         Original url: <https://example.org/metrics/probe>\n",
    )
    .unwrap();
    let deadline = Instant::now() + TIMEOUT;
    let samples = loop {
        let samples = scrape(&server).await;
        if value(&samples, "tidings_catalog_generation", &[]) >= Some(2.0) {
            break samples;
        }
        assert!(Instant::now() < deadline, "no reload within {TIMEOUT:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(value(&samples, "tidings_reloads_total", &[]).unwrap() >= 1.0);
    assert!(value(&samples, "tidings_reload_duration_seconds_count", &[]).unwrap() >= 1.0);
    assert_eq!(
        value(&samples, "tidings_catalog_articles", &[]),
        health["articles"].as_f64().map(|n| n + 1.0)
    );
}

/// User agents of aggregators that report subscribers, as they send them.
const AGGREGATORS: [(&str, &str, f64); 6] = [
    (
        "Feedly/1.0 (+http://www.feedly.com/fetcher.html; 1234 subscribers; like FeedFetcher-Google)",
        "Feedly",
        1234.0,
    ),
    (
        "Inoreader/1.0 (+http://www.inoreader.com/feed-fetcher; 56 subscribers; )",
        "Inoreader",
        56.0,
    ),
    ("Feedbin feed-id:1234 - 42 subscribers", "Feedbin", 42.0),
    (
        "NewsBlur Feed Fetcher - 19 subscribers - https://www.newsblur.com/site/6/tidings (Mozilla/5.0)",
        "NewsBlur Feed Fetcher",
        19.0,
    ),
    (
        "The Old Reader - 7 subscribers - https://theoldreader.com/feeds/0123",
        "The Old Reader",
        7.0,
    ),
    (
        "Mozilla/5.0 (compatible; BazQux/2.4; +https://bazqux.com/fetcher; 3 subscribers)",
        "BazQux",
        3.0,
    ),
];

#[tokio::test]
async fn aggregators_report_their_subscribers_per_feed() {
    let server = Server::start();
    let client = raw_client();
    for path in ["/feeds/all.atom", "/feeds/ukraine.rss"] {
        for (agent, _, _) in AGGREGATORS {
            let response = client
                .get(server.url(path))
                .header(USER_AGENT, agent)
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), StatusCode::OK);
        }
    }
    // The latest report wins.
    client
        .get(server.url("/feeds/all.atom"))
        .header(
            USER_AGENT,
            "Feedly/1.0 (+http://www.feedly.com/fetcher.html; 1300 subscribers; like FeedFetcher-Google)",
        )
        .send()
        .await
        .unwrap();
    // Pages are no feeds: nothing is counted for them.
    client
        .get(server.url("/"))
        .header(USER_AGENT, AGGREGATORS[0].0)
        .send()
        .await
        .unwrap();

    let samples = scrape(&server).await;
    for (feed, feedly) in [("/feeds/all.atom", 1300.0), ("/feeds/ukraine.rss", 1234.0)] {
        for (_, aggregator, count) in AGGREGATORS {
            let expected = if aggregator == "Feedly" {
                feedly
            } else {
                count
            };
            assert_eq!(
                value(
                    &samples,
                    "tidings_feed_subscribers",
                    &[("feed", feed), ("aggregator", aggregator)]
                ),
                Some(expected),
                "{feed} {aggregator}"
            );
        }
        // Six agents from one address (plus Feedly's second report, whose
        // agent differs): seven distinct pollers of all.atom, six of
        // ukraine.rss, as the sketch estimates them.
        let pollers = value(&samples, "tidings_feed_pollers", &[("feed", feed)]).unwrap();
        assert!((5.0..=8.0).contains(&pollers), "{feed}: {pollers}");
    }
    // `tidings readers` shows the same, as a table.
    let output = Command::new(env!("CARGO_BIN_EXE_tidings"))
        .current_dir(server.site.dir.path())
        .args(["--config", "config/tidings.toml", "readers", "--url"])
        .arg(&server.base)
        .env_remove("TIDINGS_READERS_URL")
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let table = String::from_utf8(output.stdout).unwrap();
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(lines.len(), 3, "{table}");
    assert!(
        lines[0].starts_with("feed ") && lines[0].ends_with("aggregators"),
        "{table}"
    );
    assert!(
        lines[1].starts_with("/feeds/all.atom ")
            && lines[1].contains(
                "1427  Feedly 1300, Inoreader 56, Feedbin 42, NewsBlur Feed Fetcher 19, \
                 The Old Reader 7, BazQux 3"
            ),
        "{table}"
    );
    assert!(lines[2].starts_with("/feeds/ukraine.rss ") && lines[2].contains("1361  Feedly 1234"));

    let feeds: std::collections::BTreeSet<_> = series(&samples, "tidings_feed_subscribers")
        .map(|s| s.labels["feed"].as_str())
        .collect();
    assert_eq!(
        feeds.into_iter().collect::<Vec<_>>(),
        ["/feeds/all.atom", "/feeds/ukraine.rss"]
    );
}

#[tokio::test]
async fn hostile_user_agents_keep_the_series_bounded() {
    let server = Server::start();
    let feed = server.url("/feeds/all.json");
    // 10,000 aggregators that do not exist, each with its own name and
    // count, from ten connections at a time.
    let mut tasks = Vec::new();
    for task in 0..10u32 {
        let (client, feed) = (raw_client(), feed.clone());
        tasks.push(tokio::spawn(async move {
            for n in 0..1_000u32 {
                let name: String = format!("{:05}", task * 1_000 + n)
                    .bytes()
                    .map(|digit| char::from(b'a' + digit - b'0'))
                    .collect();
                let agent = format!("Spam{name}/1.0 ({n} subscribers)");
                let response = client
                    .get(&feed)
                    .header(USER_AGENT, agent)
                    .send()
                    .await
                    .unwrap();
                assert_eq!(response.status(), StatusCode::OK);
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    let client = raw_client();
    // A huge agent, and reports for a feed that does not exist.
    let huge = format!("{} 99 subscribers", "Huge".repeat(3_000));
    client
        .get(&feed)
        .header(USER_AGENT, &huge)
        .send()
        .await
        .unwrap();
    let missing = client
        .get(server.url("/feeds/missing.atom"))
        .header(USER_AGENT, AGGREGATORS[0].0)
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);

    let samples = scrape(&server).await;
    let subscribers: Vec<_> = series(&samples, "tidings_feed_subscribers").collect();
    assert_eq!(subscribers.len(), 16, "at most 16 aggregators a feed");
    assert!(subscribers
        .iter()
        .all(|s| s.labels["feed"] == "/feeds/all.json" && s.labels["aggregator"].len() <= 40));
    let pollers: Vec<_> = series(&samples, "tidings_feed_pollers").collect();
    assert_eq!(pollers.len(), 1, "only the feed that was asked for");
    assert!(
        (8_000.0..=12_000.0).contains(&pollers[0].value),
        "10,000 distinct agents, estimated {}",
        pollers[0].value
    );
}

/// Starts `tidings serve` over `site` with `env` added; returns the child,
/// its base URL and its stderr lines.
fn start(
    site: &Site,
    env: &[(&str, &str)],
) -> (
    std::process::Child,
    String,
    std::sync::Arc<Mutex<Vec<String>>>,
) {
    let mut command = site.command("127.0.0.1:0");
    command.envs(env.iter().copied());
    let mut child = command.spawn().unwrap();
    let (log, lines) = collect_stderr(&mut child);
    let address = listening_address(&mut child, &lines, &log);
    (child, format!("http://{address}"), log)
}

/// Waits (bounded) for a log line holding `text`: lines are written by a
/// thread of their own, a little after the request.
fn log_line(log: &Mutex<Vec<String>>, text: &str) -> String {
    let deadline = Instant::now() + TIMEOUT;
    loop {
        if let Some(line) = log.lock().unwrap().iter().find(|l| l.contains(text)) {
            return line.clone();
        }
        assert!(
            Instant::now() < deadline,
            "no log line with {text}:\n{}",
            log.lock().unwrap().join("\n")
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[tokio::test]
async fn access_log_lines_carry_the_fields_in_text_and_json() {
    let site = Site::new();
    let config = site.config_file();
    let text = std::fs::read_to_string(&config).unwrap();
    let text = text.replacen("[http]", "[http]\ntrusted_proxies = [\"127.0.0.1\"]", 1);
    assert!(
        text.contains("trusted_proxies"),
        "the config has an [http] table"
    );
    std::fs::write(&config, text).unwrap();

    for format in ["text", "json"] {
        let (mut child, base, log) = start(&site, &[("TIDINGS_LOG_FORMAT", format)]);
        let agent = format!("FieldCheck/{format}");
        let response = raw_client()
            .get(format!("{base}/feeds/all.atom"))
            .header(ACCEPT_ENCODING, "gzip")
            .header(USER_AGENT, &agent)
            .header("x-forwarded-for", "203.0.113.7, 198.51.100.9")
            .send()
            .await
            .unwrap();
        let length = response.bytes().await.unwrap().len();
        let line = log_line(&log, &agent);
        let _ = child.kill();
        let _ = child.wait();
        let fields: BTreeMap<String, String> = if format == "json" {
            let event: serde_json::Value = serde_json::from_str(&line).unwrap();
            assert_eq!(event["target"], "tidings::access", "{line}");
            assert_eq!(event["level"], "INFO", "{line}");
            event["fields"]
                .as_object()
                .unwrap()
                .iter()
                .map(|(k, v)| {
                    let v = v.as_str().map_or_else(|| v.to_string(), str::to_owned);
                    (k.clone(), v)
                })
                .collect()
        } else {
            assert!(line.contains(" INFO tidings::access: "), "{line}");
            let fields = line.split("tidings::access: ").nth(1).unwrap();
            let (before, user_agent) = fields.split_once(" user_agent=").unwrap();
            before
                .split(' ')
                .filter_map(|pair| pair.split_once('='))
                .chain([("user_agent", user_agent)])
                .map(|(k, v)| (k.to_owned(), v.trim_matches('"').to_owned()))
                .collect()
        };
        let expected = [
            ("client", "127.0.0.1".to_owned()),
            ("forwarded", "198.51.100.9".to_owned()),
            ("method", "GET".to_owned()),
            ("path", "/feeds/all.atom".to_owned()),
            ("status", "200".to_owned()),
            ("bytes", length.to_string()),
            ("encoding", "gzip".to_owned()),
            ("not_modified", "false".to_owned()),
            ("user_agent", agent.clone()),
        ];
        for (field, want) in expected {
            assert_eq!(
                fields.get(field),
                Some(&want),
                "{format}: {field} in {line}"
            );
        }
        assert!(
            fields["duration_us"].parse::<u64>().is_ok(),
            "{format}: {line}"
        );
    }
}
