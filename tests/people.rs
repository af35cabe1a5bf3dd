//! What a person meets over HTTP, end to end against the built binary on a
//! real socket: a feed URL opened in a browser, the HTML 404, the icon, the
//! static folder (served, revalidated, reloaded, built), and links that
//! follow the address the server listens on.

mod common;

use std::path::Path;
use std::process::{Child, Command};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{gunzip, header, raw_client, Server, Site, TIMEOUT};
use reqwest::header::{ACCEPT, ACCEPT_ENCODING, IF_NONE_MATCH};
use reqwest::StatusCode;

const BROWSER: &str = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";
/// Feed readers' `Accept` headers of the kinds they send: feed types and
/// html at equal q (miniflux), html below them (SimplePie, in FreshRSS),
/// anything (curl, NetNewsWire, newsboat), and none.
const READERS: [Option<&str>; 4] = [
    Some("application/rss+xml, application/rdf+xml, application/atom+xml, application/xml, text/xml, text/html, */*;q=0.1"),
    Some("application/atom+xml, application/rss+xml, application/rdf+xml;q=0.9, application/xml;q=0.8, text/xml;q=0.8, text/html;q=0.7, unknown/unknown;q=0.1, application/unknown;q=0.1, */*;q=0.1"),
    Some("*/*"),
    None,
];

async fn get(url: &str, accept: Option<&str>, etag: Option<&str>) -> reqwest::Response {
    let mut request = raw_client().get(url);
    if let Some(accept) = accept {
        request = request.header(ACCEPT, accept);
    }
    if let Some(etag) = etag {
        request = request.header(IF_NONE_MATCH, etag);
    }
    request.send().await.unwrap()
}

#[tokio::test]
async fn a_browser_at_a_feed_url_gets_a_page_and_readers_the_feed() {
    let server = Server::start();
    for path in [
        "/feeds/all.atom",
        "/feeds/ukraine.rss",
        "/feeds/russia.json",
    ] {
        let url = server.url(path);
        let page = get(&url, Some(BROWSER), None).await;
        assert_eq!(page.status(), StatusCode::OK, "{path}");
        let headers = page.headers().clone();
        assert_eq!(
            header(&headers, "content-type"),
            Some("text/html; charset=utf-8")
        );
        assert_eq!(header(&headers, "vary"), Some("Accept, Accept-Encoding"));
        let page_etag = header(&headers, "etag").unwrap().to_owned();
        let text = page.text().await.unwrap();
        assert!(text.contains("This is a feed."), "{path}: {text}");
        let copyable = format!("readonly aria-label=\"Feed address\" value=\"{url}\"");
        assert!(text.contains(&copyable), "{path}: {text}");
        assert!(text.contains("<article>"), "{path}: entries are listed");
        // The same page is at its own path, for the static build.
        let own = get(&format!("{url}.html"), None, None).await;
        assert_eq!(header(own.headers(), "etag"), Some(page_etag.as_str()));

        for accept in READERS {
            let feed = get(&url, accept, None).await;
            let at = format!("{path} with Accept {accept:?}");
            assert_eq!(feed.status(), StatusCode::OK, "{at}");
            let headers = feed.headers().clone();
            assert!(
                header(&headers, "content-type")
                    .unwrap()
                    .starts_with("application/"),
                "{at}"
            );
            assert_eq!(
                header(&headers, "vary"),
                Some("Accept, Accept-Encoding"),
                "{at}"
            );
            let feed_etag = header(&headers, "etag").unwrap().to_owned();
            assert_ne!(feed_etag, page_etag, "{at}");
            let bytes = feed.bytes().await.unwrap();
            feed_rs::parser::parse(&bytes[..]).unwrap_or_else(|e| panic!("{at}: {e}"));

            // A 304 never crosses variants: each tag revalidates only its own.
            let same = get(&url, accept, Some(&feed_etag)).await;
            assert_eq!(same.status(), StatusCode::NOT_MODIFIED, "{at}");
            let crossed = get(&url, accept, Some(&page_etag)).await;
            assert_eq!(crossed.status(), StatusCode::OK, "{at}");
            let crossed = get(&url, Some(BROWSER), Some(&feed_etag)).await;
            assert_eq!(crossed.status(), StatusCode::OK, "{at}");
            assert!(crossed.text().await.unwrap().contains("This is a feed."));
        }
        let same = get(&url, Some(BROWSER), Some(&page_etag)).await;
        assert_eq!(same.status(), StatusCode::NOT_MODIFIED, "{path}");
        assert_eq!(
            header(same.headers(), "vary"),
            Some("Accept, Accept-Encoding")
        );
    }
    // Other documents do not negotiate.
    let opml = get(&server.url("/feeds.opml"), Some(BROWSER), None).await;
    assert_eq!(
        header(opml.headers(), "content-type"),
        Some("text/x-opml; charset=utf-8")
    );
    assert_eq!(header(opml.headers(), "vary"), Some("Accept-Encoding"));
}

#[tokio::test]
async fn unknown_paths_get_the_html_404_and_pages_link_the_icon() {
    let server = Server::start();
    for method in [reqwest::Method::GET, reqwest::Method::HEAD] {
        let response = raw_client()
            .request(method.clone(), server.url("/no/such/page"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{method}");
        let headers = response.headers().clone();
        assert_eq!(
            header(&headers, "content-type"),
            Some("text/html; charset=utf-8")
        );
        assert_eq!(header(&headers, "cache-control"), Some("no-store"));
        let body = response.text().await.unwrap();
        if method == reqwest::Method::GET {
            assert!(body.len() < 1500, "{body}");
            assert!(
                body.contains(&format!("href=\"{}/\"", server.base)),
                "{body}"
            );
            assert!(
                body.contains(&format!("href=\"{}/#feeds\"", server.base)),
                "{body}"
            );
        } else {
            assert!(body.is_empty());
        }
    }
    for path in ["/favicon.svg", "/favicon.ico"] {
        let icon = get(&server.url(path), None, None).await;
        assert_eq!(icon.status(), StatusCode::OK, "{path}");
        assert_eq!(
            header(icon.headers(), "content-type"),
            Some("image/svg+xml")
        );
        let svg = icon.text().await.unwrap();
        assert!(svg.starts_with("<svg") && svg.len() < 600, "{svg}");
    }
    let icon = format!(
        "<link rel=\"icon\" type=\"image/svg+xml\" href=\"{}/favicon.svg\">",
        server.base
    );
    for path in ["/", "/topics/ukraine/", "/feeds/all.atom.html", "/404.html"] {
        let page = get(&server.url(path), None, None)
            .await
            .text()
            .await
            .unwrap();
        assert!(page.contains(&icon), "{path}: {page}");
    }
}

/// A site copy with a static folder beside its seeds.
fn site_with_statics() -> Site {
    let site = Site::new();
    let statics = site.dir.path().join("static");
    std::fs::create_dir_all(statics.join("css")).unwrap();
    std::fs::write(
        statics.join("css/site.css"),
        "body { color: #222 }\n".repeat(50),
    )
    .unwrap();
    std::fs::write(
        statics.join("logo.png"),
        [0x89, b'P', b'N', b'G', 0, 1, 2, 3],
    )
    .unwrap();
    std::fs::write(statics.join(".draft.css"), "hidden").unwrap();
    let old = filetime::FileTime::from_unix_time(1_700_000_000, 0);
    filetime::set_file_mtime(statics.join("css/site.css"), old).unwrap();
    site
}

#[tokio::test]
async fn static_files_are_served_revalidated_and_reloaded() {
    let server = Server::start_with(site_with_statics());
    let css_url = server.url("/static/css/site.css");
    let css = raw_client()
        .get(&css_url)
        .header(ACCEPT_ENCODING, "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(css.status(), StatusCode::OK);
    let headers = css.headers().clone();
    assert_eq!(
        header(&headers, "content-type"),
        Some("text/css; charset=utf-8")
    );
    assert_eq!(header(&headers, "content-encoding"), Some("gzip"));
    assert_eq!(
        header(&headers, "last-modified"),
        Some("Tue, 14 Nov 2023 22:13:20 GMT")
    );
    assert_eq!(header(&headers, "x-content-type-options"), Some("nosniff"));
    assert!(header(&headers, "cache-control")
        .unwrap()
        .starts_with("public, max-age="));
    let etag = header(&headers, "etag").unwrap().to_owned();
    let body = gunzip(&css.bytes().await.unwrap());
    assert_eq!(body, "body { color: #222 }\n".repeat(50).as_bytes());
    let again = get(&css_url, None, Some(&etag)).await;
    assert_eq!(again.status(), StatusCode::NOT_MODIFIED);

    let png = raw_client()
        .get(server.url("/static/logo.png"))
        .header(ACCEPT_ENCODING, "gzip, br")
        .send()
        .await
        .unwrap();
    assert_eq!(header(png.headers(), "content-type"), Some("image/png"));
    assert_eq!(
        header(png.headers(), "content-encoding"),
        None,
        "images are not compressed"
    );
    let hidden = get(&server.url("/static/.draft.css"), None, None).await;
    assert_eq!(hidden.status(), StatusCode::NOT_FOUND);

    // A new file and an edit are live without a restart.
    let statics = server.site.dir.path().join("static");
    std::fs::write(statics.join("robots.txt"), "User-agent: *\n").unwrap();
    std::fs::write(statics.join("css/site.css"), "body { color: #000 }\n").unwrap();
    let deadline = Instant::now() + TIMEOUT;
    loop {
        let robots = get(&server.url("/static/robots.txt"), None, None).await;
        let css = get(&css_url, None, None).await;
        if robots.status() == StatusCode::OK {
            assert_eq!(robots.text().await.unwrap(), "User-agent: *\n");
            if css.text().await.unwrap() == "body { color: #000 }\n" {
                break;
            }
        }
        assert!(Instant::now() < deadline, "no reload\n{}", server.log());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    std::fs::remove_file(statics.join("robots.txt")).unwrap();
    let deadline = Instant::now() + TIMEOUT;
    while get(&server.url("/static/robots.txt"), None, None)
        .await
        .status()
        != StatusCode::NOT_FOUND
    {
        assert!(Instant::now() < deadline, "a removed file is still served");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_static_folder_made_after_start_up_is_served_within_seconds() {
    let server = Server::start();
    let url = server.url("/static/late.css");
    assert_eq!(get(&url, None, None).await.status(), StatusCode::NOT_FOUND);
    // Made elsewhere and moved in whole, as a deploy does.
    let staged = server.site.dir.path().join("static.new");
    std::fs::create_dir_all(&staged).unwrap();
    std::fs::write(staged.join("late.css"), "p { margin: 0 }\n").unwrap();
    std::fs::rename(&staged, server.site.dir.path().join("static")).unwrap();
    // Well before the 30 s full rescan would find it.
    let deadline = Instant::now() + Duration::from_secs(8);
    while get(&url, None, None).await.status() != StatusCode::OK {
        assert!(Instant::now() < deadline, "not served\n{}", server.log());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    std::fs::write(
        server.site.dir.path().join("static/late.css"),
        "p { margin: 1em }\n",
    )
    .unwrap();
    let deadline = Instant::now() + TIMEOUT;
    while get(&url, None, None).await.text().await.unwrap() != "p { margin: 1em }\n" {
        assert!(Instant::now() < deadline, "the edit is not served");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A `tidings serve` with extra flags; killed when dropped.
struct Flagged {
    child: Child,
    address: String,
    log: Arc<Mutex<Vec<String>>>,
    _site: Site,
}

impl Flagged {
    fn start(listen: &str, extra: &[&str]) -> Self {
        let site = Site::new();
        let mut command: Command = site.command(listen);
        command.args(extra);
        let mut child = command.spawn().unwrap();
        let (log, lines) = common::collect_stderr(&mut child);
        let address = common::listening_address(&mut child, &lines, &log);
        Self {
            child,
            address,
            log,
            _site: site,
        }
    }

    fn log(&self) -> String {
        self.log.lock().unwrap().join("\n")
    }
}

impl Drop for Flagged {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test]
async fn links_follow_the_listen_address_or_the_base_url_flag() {
    // The shipped config leaves base_url at its default.
    let server = Server::start();
    let atom = get(&server.url("/feeds/all.atom"), None, None).await;
    let feed = feed_rs::parser::parse(&atom.bytes().await.unwrap()[..]).unwrap();
    let own = format!("{}/feeds/all.atom", server.base);
    assert!(
        feed.links
            .iter()
            .any(|l| l.rel.as_deref() == Some("self") && l.href == own),
        "{:?}",
        feed.links
    );
    assert!(server
        .log()
        .contains(&format!("links point to {}/", server.base)));

    let flagged = Flagged::start("127.0.0.1:0", &["--base-url", "https://news.example.org/x"]);
    let home = get(&format!("http://{}/", flagged.address), None, None).await;
    let page = home.text().await.unwrap();
    assert!(
        page.contains("href=\"https://news.example.org/x/feeds/all.atom\""),
        "{page}"
    );
    assert!(!page.contains(&flagged.address), "{page}");

    // An unspecified address names no host: the default stays, loudly.
    let anywhere = Flagged::start("0.0.0.0:0", &[]);
    let log = anywhere.log();
    assert!(
        log.contains("LINKS POINT TO http://127.0.0.1:8080/") && log.contains("--base-url"),
        "{log}"
    );
}

#[test]
fn the_build_writes_the_static_folder_404_icon_and_previews() {
    let site = site_with_statics();
    let out = site.dir.path().join("public");
    let status = Command::new(env!("CARGO_BIN_EXE_tidings"))
        .current_dir(site.dir.path())
        .args([
            "--config",
            "config/tidings.toml",
            "--seeds",
            "seeds",
            "build",
            "--out",
        ])
        .arg(&out)
        .env_remove("TIDINGS_BASE_URL")
        .status()
        .unwrap();
    assert!(status.success());
    let read = |path: &str| std::fs::read(out.join(path)).unwrap_or_else(|e| panic!("{path}: {e}"));
    assert_eq!(
        read("static/css/site.css"),
        "body { color: #222 }\n".repeat(50).as_bytes()
    );
    assert_eq!(
        gunzip(&read("static/css/site.css.gz")),
        read("static/css/site.css")
    );
    assert!(out.join("static/css/site.css.br").exists());
    assert!(out.join("static/logo.png").exists());
    assert!(
        !out.join("static/logo.png.gz").exists(),
        "images are not compressed"
    );
    assert!(!out.join("static/.draft.css").exists());
    let mtime = std::fs::metadata(out.join("static/css/site.css"))
        .unwrap()
        .modified()
        .unwrap();
    assert_eq!(
        filetime::FileTime::from_system_time(mtime).unix_seconds(),
        1_700_000_000
    );
    let not_found = String::from_utf8(read("404.html")).unwrap();
    assert!(not_found.contains("<h1>Not found</h1>"));
    assert!(read("favicon.svg").starts_with(b"<svg"));
    assert_eq!(read("favicon.ico"), read("favicon.svg"));
    let preview = String::from_utf8(read("feeds/ukraine.atom.html")).unwrap();
    assert!(preview.contains("This is a feed."));
    let rules = String::from_utf8(read("_headers")).unwrap();
    assert!(
        rules.contains("/static/css/site.css\n  Content-Type: text/css; charset=utf-8\n"),
        "{rules}"
    );
    assert!(
        rules.contains("/favicon.ico\n  Content-Type: image/svg+xml\n"),
        "{rules}"
    );
    assert!(Path::new(&out.join("feeds/ukraine.atom")).exists());
}
