//! The HTTP service through its router, without a socket: every document's
//! headers, HEAD, methods, 404s, conditional requests, encodings, and
//! swapping the catalog. Catalogs are built by hand: the server only reads
//! plain data, so these tests do not depend on seeds or renderers.

use std::io::Read as _;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use axum::response::Response;
use bytes::Bytes;
use chrono::{DateTime, Utc};
use tidings::catalog::{Catalog, Document, Encoding};
use tidings::config::{Config, Http};
use tidings::diagnostic::Diagnostic;
use tidings::http::{router, State};
use tidings::{plan, select};
use tower::ServiceExt as _;

const CACHE_CONTROL: &str = "public, max-age=300, stale-while-revalidate=60, stale-if-error=86400";
const LAST_MODIFIED: &str = "Fri, 24 May 2024 10:15:30 GMT";
const EARLIER: &str = "Fri, 24 May 2024 10:15:29 GMT";
const LATER: &str = "Sat, 25 May 2024 00:00:00 GMT";

fn http_settings() -> Http {
    Config::parse("", "config/tidings.toml".as_ref())
        .unwrap()
        .http
}

fn when() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2024-05-24T10:15:30Z")
        .unwrap()
        .to_utc()
}

/// Every document the site plans for topics `all` and `ukraine`, with the
/// content type and CORS flag the pipeline gives it.
fn layout() -> Vec<(String, &'static str, bool)> {
    let config = Config::parse(
        "[[topic]]\nslug = \"ukraine\"\nkeywords = [\"Ukraine\"]\n",
        "config/tidings.toml".as_ref(),
    )
    .unwrap();
    plan::plan(&select::site_view(&config, &[]))
        .into_iter()
        .map(|planned| (planned.path, planned.content_type, planned.cross_origin))
        .collect()
}

fn catalog(generation: u64) -> Catalog {
    catalog_at(generation, when())
}

/// The catalog of one generation, every document dated `updated`.
fn catalog_at(generation: u64, updated: DateTime<Utc>) -> Catalog {
    let diagnostics = vec![
        Diagnostic::error(
            "seeds/broken.txt",
            3,
            "no date: put the date on the line after the title",
        ),
        Diagnostic::warning("seeds/ok.txt", 7, "removed a control character"),
    ];
    let mut catalog = Catalog::new(generation, 2, diagnostics);
    for (path, content_type, cross_origin) in layout() {
        let body = format!(
            "<doc path=\"{path}\" generation=\"{generation}\">{}</doc>",
            "Kyiv news of the day. ".repeat(100)
        );
        catalog.insert(
            path,
            Document::new(content_type, cross_origin, body, updated),
        );
    }
    catalog
}

/// `Vary` of the document at `path`: a subscription feed and its page for
/// browsers are chosen by `Accept` too.
fn vary(path: &str) -> &'static str {
    if path.starts_with("/feeds/") {
        "Accept, Accept-Encoding"
    } else {
        "Accept-Encoding"
    }
}

fn state() -> State {
    State::new(catalog(1), &http_settings())
}

async fn send(state: &State, method: Method, target: &str, headers: &[(&str, &str)]) -> Response {
    let mut request = Request::builder().method(method).uri(target);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    router(state.clone())
        .oneshot(request.body(Body::empty()).unwrap())
        .await
        .unwrap()
}

async fn get(state: &State, target: &str, headers: &[(&str, &str)]) -> Response {
    send(state, Method::GET, target, headers).await
}

async fn body(response: Response) -> Bytes {
    axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap()
}

fn header<'a>(response: &'a Response, name: &str) -> Option<&'a str> {
    response.headers().get(name).map(|v| v.to_str().unwrap())
}

fn decode(encoding: Encoding, bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    match encoding {
        Encoding::Identity => out.extend_from_slice(bytes),
        Encoding::Gzip => {
            flate2::read::GzDecoder::new(bytes)
                .read_to_end(&mut out)
                .unwrap();
        }
        Encoding::Brotli => {
            brotli::Decompressor::new(bytes, 4096)
                .read_to_end(&mut out)
                .unwrap();
        }
    }
    out
}

const ENCODINGS: [(&str, Encoding); 3] = [
    ("", Encoding::Identity),
    ("gzip", Encoding::Gzip),
    ("br", Encoding::Brotli),
];

#[tokio::test]
async fn every_document_has_its_headers_in_every_encoding() {
    let state = state();
    let catalog = state.catalog();
    for (path, content_type, cross_origin) in layout() {
        let document = catalog.get(&path).unwrap();
        for (accept, encoding) in ENCODINGS {
            let headers: &[(&str, &str)] = if accept.is_empty() {
                &[]
            } else {
                &[("accept-encoding", accept)]
            };
            let response = get(&state, &path, headers).await;
            let at = format!("{path} with Accept-Encoding {accept:?}");
            assert_eq!(response.status(), StatusCode::OK, "{at}");
            assert_eq!(
                header(&response, "content-type"),
                Some(content_type),
                "{at}"
            );
            let length = document.body(encoding).unwrap().len().to_string();
            assert_eq!(
                header(&response, "content-length"),
                Some(length.as_str()),
                "{at}"
            );
            assert_eq!(
                header(&response, "etag"),
                Some(document.etag(encoding).as_str()),
                "{at}"
            );
            assert_eq!(
                header(&response, "last-modified"),
                Some(LAST_MODIFIED),
                "{at}"
            );
            assert_eq!(
                header(&response, "cache-control"),
                Some(CACHE_CONTROL),
                "{at}"
            );
            assert_eq!(header(&response, "vary"), Some(vary(&path)), "{at}");
            assert_eq!(
                header(&response, "x-content-type-options"),
                Some("nosniff"),
                "{at}"
            );
            assert_eq!(
                header(&response, "content-encoding"),
                encoding.token(),
                "{at}"
            );
            let cors = cross_origin.then_some("*");
            assert_eq!(
                header(&response, "access-control-allow-origin"),
                cors,
                "{at}"
            );
            let bytes = body(response).await;
            assert_eq!(bytes, *document.body(encoding).unwrap(), "{at}");
            assert_eq!(
                decode(encoding, &bytes),
                document.identity,
                "{at}: decoded body"
            );
        }
    }
}

#[tokio::test]
async fn negotiation_honours_q_values() {
    let state = state();
    for (accept, expected) in [
        ("gzip, deflate, br", Some("br")),
        ("br;q=0, gzip", Some("gzip")),
        ("br;q=0, gzip;q=0", None),
        ("gzip;q=0.5, br;q=0.4", Some("gzip")),
        ("identity;q=0", None),
        ("*", Some("br")),
        ("*;q=0", None),
        ("BR", Some("br")),
        ("zstd, deflate", None),
    ] {
        let response = get(
            &state,
            "/feeds/ukraine.atom",
            &[("accept-encoding", accept)],
        )
        .await;
        assert_eq!(response.status(), StatusCode::OK, "{accept}");
        assert_eq!(header(&response, "content-encoding"), expected, "{accept}");
    }
}

#[tokio::test]
async fn head_has_the_headers_of_get_and_no_body() {
    let state = state();
    for (path, _, _) in layout() {
        for (accept, _) in ENCODINGS {
            let headers: &[(&str, &str)] = if accept.is_empty() {
                &[]
            } else {
                &[("accept-encoding", accept)]
            };
            let from_get = get(&state, &path, headers).await;
            let from_head = send(&state, Method::HEAD, &path, headers).await;
            assert_eq!(from_head.status(), StatusCode::OK);
            assert_eq!(from_head.headers(), from_get.headers(), "{path} {accept:?}");
            assert!(body(from_head).await.is_empty(), "{path} {accept:?}");
        }
    }
    let health = send(&state, Method::HEAD, "/healthz", &[]).await;
    assert_eq!(health.status(), StatusCode::OK);
    assert!(
        header(&health, "content-length")
            .unwrap()
            .parse::<usize>()
            .unwrap()
            > 0
    );
    assert!(body(health).await.is_empty());
}

#[tokio::test]
async fn other_methods_get_405_with_allow() {
    let state = state();
    for path in [
        "/",
        "/feeds/ukraine.atom",
        "/topics/ukraine/",
        "/feeds.opml",
        "/healthz",
    ] {
        for method in [
            Method::POST,
            Method::PUT,
            Method::DELETE,
            Method::PATCH,
            Method::OPTIONS,
            Method::TRACE,
            Method::from_bytes(b"PROPFIND").unwrap(),
        ] {
            let response = send(&state, method.clone(), path, &[]).await;
            assert_eq!(
                response.status(),
                StatusCode::METHOD_NOT_ALLOWED,
                "{method} {path}"
            );
            assert_eq!(
                header(&response, "allow"),
                Some("GET, HEAD"),
                "{method} {path}"
            );
            assert_eq!(header(&response, "cache-control"), Some("no-store"));
        }
    }
}

/// Paths that name no document: each must be a 404 with a short body, and
/// none may reach a file (there is no file-system access to reach).
const NOT_FOUND: &[&str] = &[
    "/feeds/nope.atom",
    "/feeds/ukraine.xml",
    "/feeds/russia.atom",
    "/topics/nope/",
    "/topics/",
    "/feeds/",
    "/feeds",
    "/feeds/..%2f..",
    "/feeds/..%2f..%2fCargo.toml",
    "/feeds/%2e%2e/",
    "/feeds/%2e%2e/%2e%2e/etc/passwd",
    "/feeds/../feeds.opml",
    "/../../etc/passwd",
    "/%2e%2e/%2e%2e/etc/passwd",
    "/feeds/%2fetc%2fpasswd",
    "//feeds/all.atom",
    "/feeds//all.atom",
    "/feeds/all.atom/extra",
    "/feeds/all.atom/",
    "/feeds/all.atom;x",
    "/feeds/all.atom%00",
    "/feeds/all%2eatom",
    "/feeds/ALL.atom",
    "/FEEDS/all.atom",
    "/feeds/all.atom.gz",
    "/feeds/all.atom.br",
    "/index.html",
    "/topics/ukraine/index.html",
    "/healthz/",
    "/Cargo.toml",
    "/src/main.rs",
    "/config/tidings.toml",
    "/seeds/000_ac2916338c6b5aee.txt",
    "/.git/config",
    "/~",
    "/%",
    "/%zz",
    "/topics/ukraine%2f",
];

#[tokio::test]
async fn unknown_paths_traversal_and_junk_get_404() {
    let state = state();
    for target in NOT_FOUND {
        for method in [Method::GET, Method::HEAD, Method::POST] {
            let response = send(&state, method.clone(), target, &[]).await;
            assert_eq!(
                response.status(),
                StatusCode::NOT_FOUND,
                "{method} {target}"
            );
            // POST gets 404 too: no document, so no method to refuse.
            assert_eq!(
                header(&response, "content-type"),
                Some("text/html; charset=utf-8")
            );
            assert_eq!(header(&response, "cache-control"), Some("no-store"));
            let bytes = body(response).await;
            if method == Method::HEAD {
                assert!(bytes.is_empty());
            } else {
                // The catalog's 404.html, prebuilt.
                assert_eq!(
                    bytes,
                    state.catalog().get("/404.html").unwrap().identity,
                    "{target}"
                );
            }
        }
    }
}

#[tokio::test]
async fn the_query_string_is_ignored() {
    let state = state();
    let plain = get(&state, "/feeds/all.atom", &[]).await;
    for target in [
        "/feeds/all.atom?x",
        "/feeds/all.atom?",
        "/feeds/all.atom?utm_source=rss&a=%2e%2e",
    ] {
        let response = get(&state, target, &[]).await;
        assert_eq!(response.status(), StatusCode::OK, "{target}");
        assert_eq!(response.headers().get("etag"), plain.headers().get("etag"));
    }
}

#[tokio::test]
async fn a_directory_without_its_slash_redirects() {
    let state = state();
    for (method, target) in [
        (Method::GET, "/topics/ukraine"),
        (Method::HEAD, "/topics/ukraine"),
        (Method::GET, "/topics/ukraine?from=menu"),
    ] {
        let response = send(&state, method.clone(), target, &[]).await;
        assert_eq!(
            response.status(),
            StatusCode::MOVED_PERMANENTLY,
            "{method} {target}"
        );
        assert_eq!(header(&response, "location"), Some("/topics/ukraine/"));
    }
    let post = send(&state, Method::POST, "/topics/ukraine", &[]).await;
    assert_eq!(post.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        get(&state, "/topics/nope", &[]).await.status(),
        StatusCode::NOT_FOUND
    );
}

/// A 304 carries the validators, Cache-Control, Vary (and CORS on feeds)
/// of the 200 it stands for, and no body.
fn assert_not_modified(
    response: &Response,
    document: &Document,
    encoding: Encoding,
    vary: &str,
    at: &str,
) {
    assert_eq!(response.status(), StatusCode::NOT_MODIFIED, "{at}");
    assert_eq!(
        header(response, "etag"),
        Some(document.etag(encoding).as_str()),
        "{at}"
    );
    assert_eq!(
        header(response, "last-modified"),
        Some(LAST_MODIFIED),
        "{at}"
    );
    assert_eq!(
        header(response, "cache-control"),
        Some(CACHE_CONTROL),
        "{at}"
    );
    assert_eq!(header(response, "vary"), Some(vary), "{at}");
    let cors = document.cross_origin.then_some("*");
    assert_eq!(
        header(response, "access-control-allow-origin"),
        cors,
        "{at}"
    );
    assert_eq!(header(response, "content-encoding"), None, "{at}");
    assert_eq!(header(response, "content-type"), None, "{at}");
}

#[tokio::test]
async fn if_none_match_revalidates_any_variant_in_any_encoding() {
    let state = state();
    let catalog = state.catalog();
    for path in ["/feeds/ukraine.atom", "/", "/feeds.opml"] {
        let document = catalog.get(path).unwrap();
        let digest = &document.digest;
        let tags = [
            format!("\"{digest}\""),
            format!("\"{digest}-gzip\""),
            format!("\"{digest}-br\""),
            format!("W/\"{digest}\""),
            format!("W/\"{digest}-gzip\""),
            format!("\"stale\", W/\"older\", \"{digest}-br\""),
            "*".to_string(),
        ];
        for tag in &tags {
            for (accept, encoding) in ENCODINGS {
                for method in [Method::GET, Method::HEAD] {
                    let mut headers = vec![("if-none-match", tag.as_str())];
                    if !accept.is_empty() {
                        headers.push(("accept-encoding", accept));
                    }
                    let response = send(&state, method.clone(), path, &headers).await;
                    let at =
                        format!("{method} {path} If-None-Match {tag} Accept-Encoding {accept:?}");
                    assert_not_modified(&response, document, encoding, vary(path), &at);
                    assert!(body(response).await.is_empty(), "{at}");
                }
            }
        }
        for stale in ["\"stale\"", "W/\"stale\", \"older\"", "\"\"", ""] {
            let response = get(&state, path, &[("if-none-match", stale)]).await;
            assert_eq!(response.status(), StatusCode::OK, "{path} {stale}");
        }
    }
}

#[tokio::test]
async fn if_modified_since_revalidates_by_date() {
    let state = state();
    let catalog = state.catalog();
    let document = catalog.get("/feeds/ukraine.rss").unwrap();
    for date in [LAST_MODIFIED, LATER] {
        for (accept, encoding) in ENCODINGS {
            let mut headers = vec![("if-modified-since", date)];
            if !accept.is_empty() {
                headers.push(("accept-encoding", accept));
            }
            let response = get(&state, "/feeds/ukraine.rss", &headers).await;
            assert_not_modified(
                &response,
                document,
                encoding,
                vary("/feeds/ukraine.rss"),
                date,
            );
            assert!(body(response).await.is_empty());
        }
    }
    for date in [EARLIER, "yesterday", ""] {
        let response = get(&state, "/feeds/ukraine.rss", &[("if-modified-since", date)]).await;
        assert_eq!(response.status(), StatusCode::OK, "{date:?}");
    }
}

#[tokio::test]
async fn if_none_match_overrides_if_modified_since() {
    let state = state();
    let digest = state
        .catalog()
        .get("/feeds/all.json")
        .unwrap()
        .digest
        .clone();
    let stale_tag_fresh_date = get(
        &state,
        "/feeds/all.json",
        &[("if-none-match", "\"stale\""), ("if-modified-since", LATER)],
    )
    .await;
    assert_eq!(stale_tag_fresh_date.status(), StatusCode::OK);
    let tag = format!("\"{digest}\"");
    let fresh_tag_old_date = get(
        &state,
        "/feeds/all.json",
        &[("if-none-match", &tag), ("if-modified-since", EARLIER)],
    )
    .await;
    assert_eq!(fresh_tag_old_date.status(), StatusCode::NOT_MODIFIED);
}

#[tokio::test]
async fn failed_if_match_and_if_unmodified_since_give_412() {
    let state = state();
    for headers in [
        [("if-match", "\"stale\"")],
        [("if-unmodified-since", EARLIER)],
    ] {
        let response = get(&state, "/feeds/all.atom", &headers).await;
        assert_eq!(
            response.status(),
            StatusCode::PRECONDITION_FAILED,
            "{headers:?}"
        );
    }
    let response = get(&state, "/feeds/all.atom", &[("if-match", "*")]).await;
    assert_eq!(response.status(), StatusCode::OK);
}

#[tokio::test]
async fn swapping_the_catalog_changes_validators_at_once() {
    let state = state();
    let before = get(
        &state,
        "/feeds/ukraine.atom",
        &[("accept-encoding", "gzip")],
    )
    .await;
    let old_tag = header(&before, "etag").unwrap().to_string();
    let old_date = httpdate::parse_http_date(header(&before, "last-modified").unwrap()).unwrap();

    // Generation 2 has other bytes and, as the pipeline guarantees, a later
    // date.
    state.swap(catalog_at(2, when() + chrono::TimeDelta::seconds(1)));
    let after = get(
        &state,
        "/feeds/ukraine.atom",
        &[("accept-encoding", "gzip")],
    )
    .await;
    let new_tag = header(&after, "etag").unwrap().to_string();
    assert_ne!(new_tag, old_tag);
    assert_eq!(
        new_tag,
        state
            .catalog()
            .get("/feeds/ukraine.atom")
            .unwrap()
            .etag(Encoding::Gzip)
    );
    let new_date = httpdate::parse_http_date(header(&after, "last-modified").unwrap()).unwrap();
    assert!(new_date > old_date);
    let text = decode(Encoding::Gzip, &body(after).await);
    assert!(String::from_utf8(text)
        .unwrap()
        .contains("generation=\"2\""));

    // The old tag and the old date no longer revalidate.
    let stale = get(
        &state,
        "/feeds/ukraine.atom",
        &[("if-none-match", &old_tag)],
    )
    .await;
    assert_eq!(stale.status(), StatusCode::OK);
    let by_date = get(
        &state,
        "/feeds/ukraine.atom",
        &[("if-modified-since", &httpdate::fmt_http_date(old_date))],
    )
    .await;
    assert_eq!(by_date.status(), StatusCode::OK);
    // The new ones do.
    let fresh = get(
        &state,
        "/feeds/ukraine.atom",
        &[("if-none-match", &new_tag)],
    )
    .await;
    assert_eq!(fresh.status(), StatusCode::NOT_MODIFIED);

    let health: serde_json::Value =
        serde_json::from_slice(&body(get(&state, "/healthz", &[]).await).await).unwrap();
    assert_eq!(health["generation"], 2);

    // A new cache policy can come with a catalog.
    let mut http = http_settings();
    http.max_age = 60;
    state.swap_with(catalog(3), &http);
    let response = get(&state, "/", &[]).await;
    assert!(header(&response, "cache-control")
        .unwrap()
        .starts_with("public, max-age=60,"));
}

#[tokio::test]
async fn swapping_identical_bytes_keeps_the_validators() {
    let state = state();
    let before = get(&state, "/feeds/all.rss", &[]).await;
    state.swap(catalog(1));
    let after = get(&state, "/feeds/all.rss", &[]).await;
    for name in ["etag", "last-modified"] {
        assert_eq!(header(&before, name), header(&after, name), "{name}");
    }
}

#[tokio::test]
async fn healthz_reports_the_catalog_and_is_not_cached() {
    let state = state();
    let response = get(&state, "/healthz", &[]).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(header(&response, "content-type"), Some("application/json"));
    assert_eq!(header(&response, "cache-control"), Some("no-store"));
    let json: serde_json::Value = serde_json::from_slice(&body(response).await).unwrap();
    assert_eq!(json["status"], "ok");
    assert_eq!(json["generation"], 1);
    assert_eq!(json["articles"], 2);
    assert_eq!(json["documents"], layout().len());
    assert_eq!(json["warnings"], 1);
    assert_eq!(json["rejected"], 1);
    assert_eq!(
        json["problems"],
        serde_json::json!([{ "path": "seeds/broken.txt", "line": 3 }])
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn responses_use_prebuilt_values_of_one_snapshot() {
    // Many swaps while requests run: every response's ETag must describe its
    // own body.
    let state = state();
    let swapper = {
        let state = state.clone();
        tokio::spawn(async move {
            for generation in 2..10 {
                state.swap(catalog(generation));
                tokio::task::yield_now().await;
            }
        })
    };
    for _ in 0..100 {
        let response = get(&state, "/feeds/ukraine.json", &[]).await;
        let tag = header(&response, "etag")
            .unwrap()
            .trim_matches('"')
            .to_string();
        let bytes = body(response).await;
        let expected = Document::new("x", false, bytes, when()).digest;
        assert_eq!(tag, expected);
    }
    swapper.await.unwrap();
}
