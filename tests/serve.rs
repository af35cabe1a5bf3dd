//! `tidings serve` end to end: the built binary on a real socket over a
//! temporary copy of the repository's seeds and config, spoken to by a real
//! HTTP client (reqwest) and, where a client would normalise the path, by
//! raw HTTP/1.1 over TCP. Every wait is bounded and every child is killed.

mod common;

use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use reqwest::header::{ACCEPT_ENCODING, IF_MODIFIED_SINCE, IF_NONE_MATCH};
use reqwest::{Method, StatusCode};

use common::{
    collect_stderr, gunzip, header, raw_client, unbrotli, wait_bounded, Server, Site, TIMEOUT,
};

/// Every document of the repository's layout (topics `ukraine`, `russia`)
/// with its content type: feeds, pages, the feeds' pages for browsers,
/// the 404 page and the icon.
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
    ("/feeds/all.rss.html", "text/html; charset=utf-8"),
    ("/feeds/all.atom.html", "text/html; charset=utf-8"),
    ("/feeds/all.json.html", "text/html; charset=utf-8"),
    ("/feeds/ukraine.rss.html", "text/html; charset=utf-8"),
    ("/feeds/ukraine.atom.html", "text/html; charset=utf-8"),
    ("/feeds/ukraine.json.html", "text/html; charset=utf-8"),
    ("/feeds/russia.rss.html", "text/html; charset=utf-8"),
    ("/feeds/russia.atom.html", "text/html; charset=utf-8"),
    ("/feeds/russia.json.html", "text/html; charset=utf-8"),
    ("/404.html", "text/html; charset=utf-8"),
    ("/favicon.svg", "image/svg+xml"),
    ("/favicon.ico", "image/svg+xml"),
];

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

/// `Vary` of a document: a subscription feed is also a page for browsers.
fn vary(path: &str) -> &'static str {
    if path.starts_with("/feeds/") {
        "Accept, Accept-Encoding"
    } else {
        "Accept-Encoding"
    }
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
        assert_eq!(header(&headers, "vary"), Some(vary(path)), "{path}");
        assert_eq!(
            header(&headers, "x-content-type-options"),
            Some("nosniff"),
            "{path}"
        );
        assert_eq!(header(&headers, "content-encoding"), None, "{path}");
        assert!(header(&headers, "date").is_some(), "{path}");
        let feed = path.starts_with("/feeds") && !path.ends_with(".html");
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
    assert_eq!(json["rejected"], 0);
    assert_eq!(json["problems"], serde_json::json!([]));

    // One access log line per request, written a little later by the
    // log's own thread.
    let deadline = Instant::now() + TIMEOUT;
    while server.log_count(r#"method=GET path="/feeds.opml" status=200"#) == 0 {
        assert!(Instant::now() < deadline, "{}", server.log());
        std::thread::sleep(Duration::from_millis(20));
    }
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
                assert_eq!(header(&headers, "vary"), Some(vary(path)), "{at}");
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
                assert!(
                    body.starts_with("<!DOCTYPE html>") && body.len() < 1500,
                    "{target}: {body:?}"
                );
                assert!(body.contains("href=\"http://127.0.0.1:"), "{target}");
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
    let seeds = site.seeds();
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
    assert_eq!(json["rejected"], 2, "{json}");
    let problems = json["problems"].as_array().unwrap();
    assert_eq!(problems.len(), 2, "{json}");
    for entry in problems {
        assert!(
            entry["path"].as_str().unwrap().starts_with("seeds/"),
            "{entry}"
        );
        assert!(entry["line"].as_u64().unwrap() >= 1, "{entry}");
        // What is wrong, in words that may quote the file, is for the log.
        assert!(entry.get("message").is_none(), "{entry}");
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
