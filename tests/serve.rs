//! `tidings serve` end to end: the built binary on a real socket over a
//! temporary copy of the repository's seeds and config, spoken to by a real
//! HTTP client (reqwest) and, where a client would normalise the path, by
//! raw HTTP/1.1 over TCP. Every wait is bounded and every child is killed.

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use reqwest::header::{HeaderMap, ACCEPT_ENCODING, IF_MODIFIED_SINCE, IF_NONE_MATCH};
use reqwest::{Method, StatusCode};

const TIMEOUT: Duration = Duration::from_secs(10);
/// Start-up publishes the catalog (brotli at quality 11, in a debug build).
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// Every document of the repository's layout (topics `ukraine`, `russia`)
/// with its content type.
const DOCUMENTS: &[(&str, &str)] = &[
    ("/", "text/html; charset=utf-8"),
    ("/topics/ukraine/", "text/html; charset=utf-8"),
    ("/topics/russia/", "text/html; charset=utf-8"),
    ("/feeds/all.rss", "application/rss+xml; charset=utf-8"),
    ("/feeds/all.atom", "application/atom+xml; charset=utf-8"),
    ("/feeds/all.json", "application/feed+json; charset=utf-8"),
    ("/feeds/ukraine.rss", "application/rss+xml; charset=utf-8"),
    ("/feeds/ukraine.atom", "application/atom+xml; charset=utf-8"),
    (
        "/feeds/ukraine.json",
        "application/feed+json; charset=utf-8",
    ),
    ("/feeds/russia.rss", "application/rss+xml; charset=utf-8"),
    ("/feeds/russia.atom", "application/atom+xml; charset=utf-8"),
    ("/feeds/russia.json", "application/feed+json; charset=utf-8"),
    ("/feeds.opml", "text/x-opml; charset=utf-8"),
];

/// A copy of `seeds/` and `config/` that the server reads.
struct Site {
    dir: tempfile::TempDir,
}

impl Site {
    fn new() -> Self {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let dir = tempfile::tempdir().unwrap();
        for folder in ["seeds", "config"] {
            copy_dir(&root.join(folder), &dir.path().join(folder));
        }
        Self { dir }
    }

    fn command(&self, listen: &str) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_tidings"));
        command
            .current_dir(self.dir.path())
            .args(["--config", "config/tidings.toml", "--seeds", "seeds"])
            .args(["serve", "--listen", listen])
            .env_remove("TIDINGS_CONFIG")
            .env_remove("TIDINGS_SEEDS")
            .env_remove("TIDINGS_LISTEN")
            .env("RUST_LOG", "info,tidings=debug")
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        command
    }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// A running `tidings serve`; killed when dropped.
struct Server {
    child: Child,
    /// `http://127.0.0.1:PORT`
    base: String,
    address: String,
    log: Arc<Mutex<Vec<String>>>,
    _site: Site,
}

impl Server {
    fn start() -> Self {
        Self::start_with(Site::new())
    }

    fn start_with(site: Site) -> Self {
        let mut child = site.command("127.0.0.1:0").spawn().unwrap();
        let (log, lines) = collect_stderr(&mut child);
        let deadline = Instant::now() + START_TIMEOUT;
        let address = loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match lines.recv_timeout(left) {
                Ok(line) => {
                    if let Some(rest) = line.split("listening on http://").nth(1) {
                        break rest.split_whitespace().next().unwrap().to_string();
                    }
                }
                Err(_) => {
                    let _ = child.kill();
                    let _ = child.wait();
                    panic!(
                        "no `listening on` line in time; log:\n{}",
                        log.lock().unwrap().join("\n")
                    );
                }
            }
        };
        Self {
            child,
            base: format!("http://{address}"),
            address,
            log,
            _site: site,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    fn log(&self) -> String {
        self.log.lock().unwrap().join("\n")
    }

    /// Sends a signal and waits (bounded) for the exit.
    fn signal(&mut self, signal: &str) -> ExitStatus {
        let status = Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(self.child.id().to_string())
            .status()
            .unwrap();
        assert!(status.success());
        wait_bounded(&mut self.child, TIMEOUT)
            .unwrap_or_else(|| panic!("no exit after SIG{signal}"))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Reads the child's stderr on a thread: every line into the shared log and
/// down the channel.
fn collect_stderr(child: &mut Child) -> (Arc<Mutex<Vec<String>>>, mpsc::Receiver<String>) {
    let stderr = child.stderr.take().unwrap();
    let log = Arc::new(Mutex::new(Vec::new()));
    let (tx, rx) = mpsc::channel();
    let shared = Arc::clone(&log);
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            shared.lock().unwrap().push(line.clone());
            let _ = tx.send(line);
        }
    });
    (log, rx)
}

fn wait_bounded(child: &mut Child, timeout: Duration) -> Option<ExitStatus> {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if let Some(status) = child.try_wait().unwrap() {
            return Some(status);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    None
}

/// A client that leaves bodies as sent (no decompression, no
/// Accept-Encoding of its own).
fn raw_client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_gzip()
        .no_brotli()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(TIMEOUT)
        .build()
        .unwrap()
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).map(|v| v.to_str().unwrap())
}

fn gunzip(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(bytes)
        .read_to_end(&mut out)
        .unwrap();
    out
}

fn unbrotli(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    brotli::Decompressor::new(bytes, 4096)
        .read_to_end(&mut out)
        .unwrap();
    out
}

/// One request with an exact request target, over a fresh connection; the
/// status and everything after the status line.
fn raw_request(address: &str, method: &str, target: &str) -> (u16, String) {
    let mut stream = TcpStream::connect(address).unwrap();
    stream.set_read_timeout(Some(TIMEOUT)).unwrap();
    stream.set_write_timeout(Some(TIMEOUT)).unwrap();
    write!(
        stream,
        "{method} {target} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).unwrap();
    let text = String::from_utf8_lossy(&response).into_owned();
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status in {text:?}"));
    (status, text)
}

#[tokio::test]
async fn every_document_is_served_with_its_headers() {
    let server = Server::start();
    let client = raw_client();
    for (path, content_type) in DOCUMENTS {
        let response = client.get(server.url(path)).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        let headers = response.headers().clone();
        assert_eq!(
            header(&headers, "content-type"),
            Some(*content_type),
            "{path}"
        );
        let etag = header(&headers, "etag").unwrap();
        assert!(
            etag.starts_with('"') && etag.ends_with('"') && !etag.contains("-"),
            "{path}: {etag}"
        );
        let last_modified = header(&headers, "last-modified").unwrap();
        assert!(
            httpdate::parse_http_date(last_modified).is_ok(),
            "{path}: {last_modified}"
        );
        assert!(last_modified.ends_with(" GMT"));
        assert_eq!(
            header(&headers, "cache-control"),
            Some("public, max-age=300, stale-while-revalidate=60, stale-if-error=86400"),
            "{path}"
        );
        assert_eq!(header(&headers, "vary"), Some("Accept-Encoding"), "{path}");
        assert_eq!(
            header(&headers, "x-content-type-options"),
            Some("nosniff"),
            "{path}"
        );
        assert_eq!(header(&headers, "content-encoding"), None, "{path}");
        assert!(header(&headers, "date").is_some(), "{path}");
        let feed = path.starts_with("/feeds");
        assert_eq!(
            header(&headers, "access-control-allow-origin"),
            feed.then_some("*"),
            "{path}"
        );
        let length: usize = header(&headers, "content-length").unwrap().parse().unwrap();
        let body = response.bytes().await.unwrap();
        assert_eq!(body.len(), length, "{path}");
        assert!(!body.is_empty(), "{path}");
    }

    let health = client.get(server.url("/healthz")).send().await.unwrap();
    assert_eq!(health.status(), StatusCode::OK);
    assert_eq!(
        header(health.headers(), "content-type"),
        Some("application/json")
    );
    assert_eq!(header(health.headers(), "cache-control"), Some("no-store"));
    let json: serde_json::Value = serde_json::from_slice(&health.bytes().await.unwrap()).unwrap();
    assert_eq!(json["status"], "ok");
    assert_eq!(json["generation"], 1);
    assert_eq!(json["documents"], DOCUMENTS.len());
    assert!(json["articles"].as_u64().unwrap() >= 1);
    assert!(json["rejected"].is_array());

    // One debug line per request.
    let log = server.log();
    assert!(
        log.contains(r#"method=GET path="/feeds.opml" status=200"#),
        "{log}"
    );
}

#[tokio::test]
async fn encodings_decode_to_the_identity_bytes_and_q0_refuses() {
    let server = Server::start();
    let client = raw_client();
    let url = server.url("/feeds/ukraine.atom");
    let fetch = |accept: &'static str| {
        let request = client.get(&url);
        let request = if accept.is_empty() {
            request
        } else {
            request.header(ACCEPT_ENCODING, accept)
        };
        async move {
            let response = request.send().await.unwrap();
            let headers = response.headers().clone();
            (headers, response.bytes().await.unwrap())
        }
    };
    let (plain_headers, identity) = fetch("").await;
    let tag = header(&plain_headers, "etag")
        .unwrap()
        .trim_matches('"')
        .to_string();

    let (headers, gzip) = fetch("gzip").await;
    assert_eq!(header(&headers, "content-encoding"), Some("gzip"));
    assert_eq!(
        header(&headers, "etag"),
        Some(format!("\"{tag}-gzip\"").as_str())
    );
    assert_eq!(gunzip(&gzip), identity);

    let (headers, br) = fetch("gzip, deflate, br").await;
    assert_eq!(header(&headers, "content-encoding"), Some("br"));
    assert_eq!(
        header(&headers, "etag"),
        Some(format!("\"{tag}-br\"").as_str())
    );
    assert_eq!(unbrotli(&br), identity);

    for (accept, expected) in [
        ("br;q=0, gzip", Some("gzip")),
        ("gzip;q=0, br;q=0", None),
        ("br;q=0", None),
        ("identity;q=0", None),
        ("*;q=0", None),
        ("gzip;q=0.2, br;q=0.1", Some("gzip")),
        ("*", Some("br")),
    ] {
        let (headers, bytes) = fetch(accept).await;
        assert_eq!(header(&headers, "content-encoding"), expected, "{accept}");
        let decoded = match expected {
            Some("gzip") => gunzip(&bytes),
            Some("br") => unbrotli(&bytes),
            _ => bytes.to_vec(),
        };
        assert_eq!(decoded, identity, "{accept}");
    }

    // A decompressing client sees the identity bytes too.
    let decoding = reqwest::Client::builder().timeout(TIMEOUT).build().unwrap();
    let decoded = decoding
        .get(&url)
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(decoded, identity);
}

#[tokio::test]
async fn revalidation_by_etag_and_by_date_in_every_encoding() {
    let server = Server::start();
    let client = raw_client();
    for (path, _) in DOCUMENTS {
        let url = server.url(path);
        let first = client.get(&url).send().await.unwrap();
        assert_eq!(first.status(), StatusCode::OK);
        let etag = header(first.headers(), "etag").unwrap().to_string();
        let last_modified = header(first.headers(), "last-modified")
            .unwrap()
            .to_string();
        let digest = etag.trim_matches('"').to_string();

        // A tag received with any variant revalidates whatever is asked for now.
        for received in ["", "-gzip", "-br"] {
            let tag = format!("\"{digest}{received}\"");
            for (accept, suffix) in [("identity", ""), ("gzip", "-gzip"), ("br", "-br")] {
                let response = client
                    .get(&url)
                    .header(IF_NONE_MATCH, &tag)
                    .header(ACCEPT_ENCODING, accept)
                    .send()
                    .await
                    .unwrap();
                let at = format!("{path}: If-None-Match {tag}, Accept-Encoding {accept}");
                assert_eq!(response.status(), StatusCode::NOT_MODIFIED, "{at}");
                let headers = response.headers().clone();
                let expected_tag = format!("\"{digest}{suffix}\"");
                assert_eq!(
                    header(&headers, "etag"),
                    Some(expected_tag.as_str()),
                    "{at}"
                );
                assert_eq!(
                    header(&headers, "last-modified"),
                    Some(last_modified.as_str()),
                    "{at}"
                );
                assert!(
                    header(&headers, "cache-control")
                        .unwrap()
                        .starts_with("public"),
                    "{at}"
                );
                assert_eq!(header(&headers, "vary"), Some("Accept-Encoding"), "{at}");
                assert_eq!(header(&headers, "content-encoding"), None, "{at}");
                // RFC 9110 §8.6: no Content-Length that is not the 200's.
                assert_eq!(header(&headers, "content-length"), None, "{at}");
                assert!(response.bytes().await.unwrap().is_empty(), "{at}");
            }
        }
        for tag in [
            format!("W/{etag}"),
            format!("\"stale\", {etag}"),
            "*".to_string(),
        ] {
            let response = client
                .get(&url)
                .header(IF_NONE_MATCH, &tag)
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), StatusCode::NOT_MODIFIED, "{path}: {tag}");
        }

        let by_date = client
            .get(&url)
            .header(IF_MODIFIED_SINCE, &last_modified)
            .header(ACCEPT_ENCODING, "gzip")
            .send()
            .await
            .unwrap();
        assert_eq!(by_date.status(), StatusCode::NOT_MODIFIED, "{path} by date");
        assert_eq!(
            header(by_date.headers(), "etag"),
            Some(format!("\"{digest}-gzip\"").as_str())
        );

        let stale = client
            .get(&url)
            .header(IF_NONE_MATCH, "\"stale\"")
            .header(IF_MODIFIED_SINCE, &last_modified)
            .send()
            .await
            .unwrap();
        assert_eq!(stale.status(), StatusCode::OK, "{path}: If-None-Match wins");
        let earlier = httpdate::fmt_http_date(
            httpdate::parse_http_date(&last_modified).unwrap() - Duration::from_secs(1),
        );
        let changed = client
            .get(&url)
            .header(IF_MODIFIED_SINCE, earlier)
            .send()
            .await
            .unwrap();
        assert_eq!(changed.status(), StatusCode::OK, "{path}: modified since");
    }
}

#[tokio::test]
async fn head_and_other_methods() {
    let server = Server::start();
    let client = raw_client();
    for (path, _) in DOCUMENTS {
        for accept in ["identity", "gzip", "br"] {
            let get = client
                .get(server.url(path))
                .header(ACCEPT_ENCODING, accept)
                .send()
                .await
                .unwrap();
            let mut get_headers = get.headers().clone();
            let body = get.bytes().await.unwrap();
            let head = client
                .head(server.url(path))
                .header(ACCEPT_ENCODING, accept)
                .send()
                .await
                .unwrap();
            assert_eq!(head.status(), StatusCode::OK);
            let mut head_headers = head.headers().clone();
            get_headers.remove("date");
            head_headers.remove("date");
            assert_eq!(head_headers, get_headers, "{path} {accept}");
            assert_eq!(
                header(&head_headers, "content-length"),
                Some(body.len().to_string().as_str())
            );
        }
        for method in ["POST", "PUT", "DELETE", "PATCH", "OPTIONS"] {
            let method = Method::from_bytes(method.as_bytes()).unwrap();
            let response = client
                .request(method.clone(), server.url(path))
                .send()
                .await
                .unwrap();
            assert_eq!(
                response.status(),
                StatusCode::METHOD_NOT_ALLOWED,
                "{method} {path}"
            );
            assert_eq!(
                header(response.headers(), "allow"),
                Some("GET, HEAD"),
                "{method} {path}"
            );
        }
    }
    // HEAD sends no body on the wire: nothing follows the headers.
    let (status, text) = raw_request(&server.address, "HEAD", "/feeds/all.atom");
    assert_eq!(status, 200);
    assert!(text.ends_with("\r\n\r\n"), "{text:?}");
    assert!(
        text.to_ascii_lowercase().contains("content-length: "),
        "{text}"
    );
}

/// Request targets sent byte for byte (an HTTP client library would
/// normalise most of them before sending).
const NOT_FOUND: &[&str] = &[
    "/feeds/..%2f..",
    "/feeds/..%2f..%2fCargo.toml",
    "/feeds/..%2F..%2Fconfig%2Ftidings.toml",
    "/feeds/%2e%2e/",
    "/feeds/%2e%2e/%2e%2e/config/tidings.toml",
    "/feeds/../config/tidings.toml",
    "/../config/tidings.toml",
    "/../../../../etc/passwd",
    "/%2e%2e/%2e%2e/etc/passwd",
    "/feeds/%2fetc%2fpasswd",
    "/feeds/..\\..\\config\\tidings.toml",
    "//feeds/all.atom",
    "/feeds//all.atom",
    "/feeds/all.atom/extra",
    "/feeds/all.atom/",
    "/feeds/all.atom%00",
    "/feeds/all.atom.gz",
    "/feeds/all%2eatom",
    "/feeds/nope.atom",
    "/feeds/ukraine.xml",
    "/topics/nope/",
    "/topics/",
    "/feeds/",
    "/index.html",
    "/topics/ukraine/index.html",
    "/config/tidings.toml",
    "/seeds/",
    "/Cargo.toml",
    "/healthz/",
    "/%",
    "/%zz",
    "/~root",
];

#[tokio::test]
async fn traversal_and_junk_paths_are_404_and_read_nothing() {
    let server = Server::start();
    for target in NOT_FOUND {
        for method in ["GET", "HEAD"] {
            let (status, text) = raw_request(&server.address, method, target);
            assert_eq!(status, 404, "{method} {target}: {text}");
            if method == "GET" {
                let body = text.split("\r\n\r\n").nth(1).unwrap_or_default();
                assert!(!body.is_empty() && body.len() < 100, "{target}: {body:?}");
                assert!(
                    !body.contains("[site]") && !body.contains("root:"),
                    "{target}"
                );
            }
        }
    }
    // The query is ignored; a directory without its slash redirects.
    let (status, _) = raw_request(&server.address, "GET", "/feeds/all.atom?x");
    assert_eq!(status, 200);
    let (status, text) = raw_request(&server.address, "GET", "/topics/ukraine");
    assert_eq!(status, 301);
    assert!(
        text.to_ascii_lowercase()
            .contains("location: /topics/ukraine/"),
        "{text}"
    );
}

#[tokio::test]
async fn rejected_seeds_are_logged_and_reported_while_the_rest_is_served() {
    let site = Site::new();
    let seeds = site.dir.path().join("seeds");
    std::fs::write(seeds.join("binary.txt"), b"\x00\x01\x02\xff\xfe garbage").unwrap();
    std::fs::write(
        seeds.join("undated.txt"),
        "A title\n\nno date in this block\n",
    )
    .unwrap();
    let server = Server::start_with(site);
    let client = raw_client();
    let health = client.get(server.url("/healthz")).send().await.unwrap();
    let json: serde_json::Value = serde_json::from_slice(&health.bytes().await.unwrap()).unwrap();
    let rejected = json["rejected"].as_array().unwrap();
    assert!(!rejected.is_empty(), "{json}");
    for entry in rejected {
        assert!(
            entry["path"].as_str().unwrap().starts_with("seeds/"),
            "{entry}"
        );
        assert!(entry["line"].as_u64().unwrap() >= 1, "{entry}");
        assert!(!entry["message"].as_str().unwrap().is_empty(), "{entry}");
    }
    assert!(json["articles"].as_u64().unwrap() >= 1, "{json}");
    let feed = client
        .get(server.url("/feeds/all.atom"))
        .send()
        .await
        .unwrap();
    assert_eq!(feed.status(), StatusCode::OK);
    let log = server.log();
    assert!(
        log.lines()
            .any(|l| l.contains("WARN") && l.contains("rejected: seeds/")),
        "{log}"
    );
}

#[test]
fn sigterm_and_sigint_stop_the_server_cleanly() {
    for signal in ["TERM", "INT"] {
        let mut server = Server::start();
        // A request first, so the server is past start-up and serving.
        let (status, _) = raw_request(&server.address, "GET", "/healthz");
        assert_eq!(status, 200);
        let exit = server.signal(signal);
        assert!(exit.success(), "SIG{signal}: {exit:?}\n{}", server.log());
        // The log thread may lag the exit by a moment.
        let deadline = Instant::now() + TIMEOUT;
        while !server.log().contains("shutting down") && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        assert!(
            server
                .log()
                .contains(&format!("SIG{signal}: shutting down")),
            "{}",
            server.log()
        );
    }
}

#[test]
fn a_taken_port_is_a_clear_error() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = taken.local_addr().unwrap().to_string();
    let site = Site::new();
    let mut child = site.command(&address).spawn().unwrap();
    let (log, _lines) = collect_stderr(&mut child);
    let status = wait_bounded(&mut child, TIMEOUT);
    let _ = child.kill();
    let _ = child.wait();
    let status = status.expect("exits at once when the port is taken");
    assert!(!status.success());
    // Let the reader thread drain stderr.
    let expected = format!(
        "cannot listen on {address}: address already in use; pass --listen or set [http] listen"
    );
    let deadline = Instant::now() + TIMEOUT;
    while !log.lock().unwrap().join("\n").contains(&expected) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    let log = log.lock().unwrap().join("\n");
    assert!(log.contains(&expected), "{log}");
    drop(taken);
}
