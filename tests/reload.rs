//! Live reload end to end: the built binary on a real socket over a
//! temporary copy of the repository's seeds and config, while the test
//! writes, renames and deletes files under it as editors and operators do.
//!
//! Every wait polls with a generous deadline ([`DEADLINE`]; the spec asks
//! for a second), so a slow CI machine cannot fail a test; the measured
//! time from a write to the new feed being served is printed (run with
//! `--nocapture` and look for `write→served`). Nothing asserts on speed.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;
use filetime::FileTime;
use reqwest::header::ACCEPT_ENCODING;
use reqwest::{Client, StatusCode};
use serde_json::Value;

use common::{gunzip, header, raw_client, unbrotli, Server};

/// The feed the tests watch for changes.
const ALL: &str = "/feeds/all.atom";
/// How long a change may take to show, with room for CI noise.
const DEADLINE: Duration = Duration::from_secs(10);
const POLL: Duration = Duration::from_millis(10);

/// A seed in the text format, in the `ukraine` topic and not in `russia`,
/// whose id is its canonical URL `https://example.org/reload/{slug}`.
fn seed(title: &str, date: &str, slug: &str) -> String {
    format!(
        "{title}\n\n{date}\n\nWorkers in Kyiv repaired the tram line overnight.\n\n\
         Original url: <{}>\n",
        id_of(slug)
    )
}

fn id_of(slug: &str) -> String {
    format!("https://example.org/reload/{slug}")
}

/// Writes `text` as editors that save safely do: a hidden file next to
/// `path`, renamed over it, so no reader ever sees half a file.
fn save(path: &Path, text: &str) {
    let name = path.file_name().unwrap().to_str().unwrap();
    let temporary = path.with_file_name(format!(".{name}.tmp"));
    std::fs::write(&temporary, text).unwrap();
    std::fs::rename(&temporary, path).unwrap();
}

/// One response to a GET, identity encoding.
#[derive(Debug)]
struct Page {
    etag: String,
    last_modified: SystemTime,
    body: Bytes,
}

async fn fetch(client: &Client, server: &Server, path: &str) -> Page {
    let response = client.get(server.url(path)).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK, "{path}");
    let headers = response.headers().clone();
    let last_modified = header(&headers, "last-modified").unwrap();
    Page {
        etag: header(&headers, "etag").unwrap().to_string(),
        last_modified: httpdate::parse_http_date(last_modified).unwrap(),
        body: response.bytes().await.unwrap(),
    }
}

/// A feed's title and its entries as (id, title), in feed order.
fn parse_feed(body: &[u8]) -> (String, Vec<(String, String)>) {
    let feed = feed_rs::parser::parse(body).expect("a complete feed");
    let entries = feed
        .entries
        .into_iter()
        .map(|e| (e.id, e.title.map(|t| t.content).unwrap_or_default()))
        .collect();
    (feed.title.map(|t| t.content).unwrap_or_default(), entries)
}

async fn entries(client: &Client, server: &Server, path: &str) -> Vec<(String, String)> {
    parse_feed(&fetch(client, server, path).await.body).1
}

/// The id of the entry titled `title` in the feed at `path`, if any.
async fn titled(client: &Client, server: &Server, path: &str, title: &str) -> Option<String> {
    entries(client, server, path)
        .await
        .into_iter()
        .find(|(_, t)| t == title)
        .map(|(id, _)| id)
}

async fn health(client: &Client, server: &Server) -> Value {
    let response = client.get(server.url("/healthz")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    serde_json::from_slice(&response.bytes().await.unwrap()).unwrap()
}

fn rejected_paths(health: &Value) -> Vec<String> {
    health["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["path"].as_str().unwrap().to_string())
        .collect()
}

/// Polls `probe` until it answers, for at most [`DEADLINE`]; panics naming
/// `what`, with the server's log.
async fn eventually<T>(
    server: &Server,
    what: &str,
    mut probe: impl AsyncFnMut() -> Option<T>,
) -> T {
    let started = Instant::now();
    loop {
        if let Some(answer) = probe().await {
            return answer;
        }
        assert!(
            started.elapsed() < DEADLINE,
            "not within {DEADLINE:?}: {what}\nserver log:\n{}",
            server.log()
        );
        tokio::time::sleep(POLL).await;
    }
}

/// Prints the time from a write to the change being served: the figure the
/// team tracks.
fn served(what: &str, written: Instant) {
    eprintln!("write→served {:>7.1?}  {what}", written.elapsed());
}

/// Makes `change` (a write, a rename, …), waits until an entry titled
/// `title` is in [`ALL`], prints how long that took, and returns its id.
async fn shows(
    server: &Server,
    client: &Client,
    what: &str,
    title: &str,
    change: impl FnOnce(),
) -> String {
    let written = Instant::now();
    change();
    let id = eventually(server, what, async || {
        titled(client, server, ALL, title).await
    })
    .await;
    served(what, written);
    id
}

#[tokio::test]
async fn added_edited_renamed_replaced_and_deleted_seeds_and_folders_go_live() {
    let server = Server::start();
    let client = raw_client();
    let seeds = server.site.seeds();
    let base = health(&client, &server).await["articles"].as_u64().unwrap();
    let id = id_of("desk");
    let write = |relative: &str, title: &str, slug: &str| {
        let text = seed(title, "2024-06-03 10:00", slug);
        std::fs::write(seeds.join(relative), text).unwrap();
    };

    // Added: in `all` and in the topic it belongs to, in every format.
    let title = "Kyiv desk: first draft";
    let found = shows(&server, &client, "added", title, || {
        write("desk.txt", title, "desk");
    })
    .await;
    assert_eq!(found, id);
    for path in [
        "/feeds/ukraine.atom",
        "/feeds/ukraine.rss",
        "/feeds/all.json",
    ] {
        let ids: Vec<String> = entries(&client, &server, path)
            .await
            .into_iter()
            .map(|(id, _)| id)
            .collect();
        assert!(ids.contains(&id), "{path}: {ids:?}");
    }
    let russia = entries(&client, &server, "/feeds/russia.atom").await;
    assert!(russia.iter().all(|(i, _)| *i != id), "{russia:?}");

    // Edited: the new title under the same id, once.
    let title = "Kyiv desk: second draft";
    let found = shows(&server, &client, "edited", title, || {
        write("desk.txt", title, "desk");
    })
    .await;
    assert_eq!(found, id);
    let now = entries(&client, &server, ALL).await;
    assert_eq!(now.iter().filter(|(i, _)| *i == id).count(), 1, "{now:?}");

    // Renamed: the same article (its id comes from its URL), still once.
    let generation = health(&client, &server).await["generation"]
        .as_u64()
        .unwrap();
    let written = Instant::now();
    std::fs::rename(seeds.join("desk.txt"), seeds.join("desk-renamed.txt")).unwrap();
    eventually(&server, "a renamed seed", async || {
        let moved_on = health(&client, &server).await["generation"].as_u64() > Some(generation);
        let now = entries(&client, &server, ALL).await;
        (moved_on && now.iter().filter(|(i, _)| *i == id).count() == 1).then_some(())
    })
    .await;
    served("renamed", written);
    assert_eq!(
        health(&client, &server).await["articles"].as_u64(),
        Some(base + 1)
    );

    // Saved by an editor: a hidden temporary file renamed over the seed
    // (which also proves the index follows the renamed path).
    let title = "Kyiv desk: saved by an editor";
    let found = shows(&server, &client, "replaced by rename", title, || {
        save(
            &seeds.join("desk-renamed.txt"),
            &seed(title, "2024-06-03 10:00", "desk"),
        );
    })
    .await;
    assert_eq!(found, id);
    let now = entries(&client, &server, ALL).await;
    assert_eq!(now.iter().filter(|(i, _)| *i == id).count(), 1, "{now:?}");

    // Deleted: gone from every feed.
    let written = Instant::now();
    std::fs::remove_file(seeds.join("desk-renamed.txt")).unwrap();
    eventually(&server, "a deleted seed gone", async || {
        let now = entries(&client, &server, ALL).await;
        now.iter().all(|(i, _)| *i != id).then_some(())
    })
    .await;
    served("deleted", written);
    let ukraine = entries(&client, &server, "/feeds/ukraine.atom").await;
    assert!(ukraine.iter().all(|(i, _)| *i != id), "{ukraine:?}");
    assert_eq!(
        health(&client, &server).await["articles"].as_u64(),
        Some(base)
    );

    // A new folder with a seed written into it at once (before a watch on
    // the folder can exist); later edits inside it are seen too.
    let title = "Kyiv: from a new folder";
    shows(&server, &client, "new folder", title, || {
        std::fs::create_dir(seeds.join("new-desk")).unwrap();
        write("new-desk/inside.txt", title, "inside");
    })
    .await;
    let title = "Kyiv: edited in the new folder";
    shows(&server, &client, "edited in the new folder", title, || {
        write("new-desk/inside.txt", title, "inside");
    })
    .await;

    // A folder made elsewhere and moved in whole, seeds two levels deep.
    let outside = server.site.dir.path().join("outside/moved");
    std::fs::create_dir_all(outside.join("deeper")).unwrap();
    std::fs::write(
        outside.join("one.txt"),
        seed("Kyiv: moved in, one", "2024-06-05 10:00", "moved-one"),
    )
    .unwrap();
    std::fs::write(
        outside.join("deeper/two.txt"),
        seed("Kyiv: moved in, two", "2024-06-05 11:00", "moved-two"),
    )
    .unwrap();
    let written = Instant::now();
    std::fs::rename(&outside, seeds.join("moved")).unwrap();
    eventually(&server, "the seeds of a folder moved in", async || {
        let now = entries(&client, &server, ALL).await;
        let titles: BTreeSet<&str> = now.iter().map(|(_, t)| t.as_str()).collect();
        (titles.contains("Kyiv: moved in, one") && titles.contains("Kyiv: moved in, two"))
            .then_some(())
    })
    .await;
    served("folder moved in", written);
    let title = "Kyiv: edited after the move";
    shows(
        &server,
        &client,
        "edited in the folder moved in",
        title,
        || {
            write("moved/deeper/two.txt", title, "moved-two");
        },
    )
    .await;

    // Folders moved out and deleted: everything under them goes.
    let written = Instant::now();
    std::fs::rename(seeds.join("new-desk"), server.site.dir.path().join("gone")).unwrap();
    std::fs::remove_dir_all(seeds.join("moved")).unwrap();
    eventually(&server, "folders moved out and deleted", async || {
        let articles = health(&client, &server).await["articles"].as_u64();
        (articles == Some(base)).then_some(())
    })
    .await;
    served("folders moved out and deleted", written);
    let now = entries(&client, &server, ALL).await;
    assert!(
        now.iter().all(|(i, _)| !i.starts_with(&id_of(""))),
        "{now:?}"
    );
}

#[tokio::test]
async fn a_broken_seed_is_reported_while_the_rest_is_served_until_it_is_fixed() {
    let server = Server::start();
    let client = raw_client();
    let seeds = server.site.seeds();
    let before = health(&client, &server).await;
    let base = before["articles"].as_u64().unwrap();
    assert!(rejected_paths(&before).is_empty(), "{before}");

    let written = Instant::now();
    std::fs::write(seeds.join("broken.txt"), "Kyiv: a title and no date\n").unwrap();
    let reported = eventually(&server, "the broken seed in /healthz", async || {
        let now = health(&client, &server).await;
        rejected_paths(&now)
            .contains(&"seeds/broken.txt".to_string())
            .then_some(now)
    })
    .await;
    served("broken seed reported", written);
    // A broken seed is the editor's problem, not the server's.
    assert_eq!(reported["status"], "ok", "{reported}");
    assert_eq!(reported["articles"].as_u64(), Some(base), "{reported}");
    assert_eq!(reported["problems"][0]["line"], 1, "{reported}");
    let feed = entries(&client, &server, ALL).await;
    assert_eq!(feed.len() as u64, base, "{feed:?}");
    assert!(
        server.log_count("rejected: seeds/broken.txt:1:") >= 1,
        "{}",
        server.log()
    );

    let written = Instant::now();
    std::fs::write(
        seeds.join("broken.txt"),
        seed("Kyiv: fixed", "2024-06-03 10:00", "fixed"),
    )
    .unwrap();
    let fixed = eventually(&server, "the fixed seed published", async || {
        let now = health(&client, &server).await;
        (now["articles"].as_u64() == Some(base + 1)).then_some(now)
    })
    .await;
    served("broken seed fixed", written);
    assert!(rejected_paths(&fixed).is_empty(), "{fixed}");
    assert_eq!(
        titled(&client, &server, ALL, "Kyiv: fixed").await,
        Some(id_of("fixed"))
    );
}

#[tokio::test]
async fn a_broken_config_keeps_the_last_good_one_building_until_it_is_fixed() {
    let server = Server::start();
    let client = raw_client();
    let config = server.site.config_file();
    let good = std::fs::read_to_string(&config).unwrap();
    let before = fetch(&client, &server, ALL).await;
    let generation = health(&client, &server).await["generation"].clone();

    // Does not parse: reported with file and line, the feeds stay as they are.
    let written = Instant::now();
    save(&config, &format!("{good}\nbad = [\n"));
    let bad_line = good.lines().count() + 2;
    let degraded = eventually(&server, "a config syntax error reported", async || {
        let now = health(&client, &server).await;
        (now["status"] == "degraded").then_some(now)
    })
    .await;
    served("config error reported", written);
    let error = degraded["last_error"].as_str().unwrap();
    assert!(
        error.contains(&format!("config/tidings.toml:{bad_line}:")),
        "{error}"
    );
    assert_eq!(degraded["generation"], generation, "{degraded}");
    let during = fetch(&client, &server, ALL).await;
    assert_eq!(during.etag, before.etag);
    assert_eq!(during.last_modified, before.last_modified);
    assert_eq!(during.body, before.body);
    assert!(
        server.log_count("config not reloaded") >= 1,
        "{}",
        server.log()
    );

    // Does not validate: an unknown key, named with its line.
    let colour = good.replacen("[site]\n", "[site]\ncolour = \"red\"\n", 1);
    let colour_line = good.lines().position(|l| l == "[site]").unwrap() + 2;
    save(&config, &colour);
    let degraded = eventually(&server, "an unknown config key reported", async || {
        let now = health(&client, &server).await;
        let error = now["last_error"].as_str().unwrap_or_default().to_string();
        error.contains("colour").then_some(error)
    })
    .await;
    assert!(
        degraded.contains(&format!("config/tidings.toml:{colour_line}:")),
        "{degraded}"
    );

    // Meanwhile editors' articles still go live, with the last good config.
    let title = "Kyiv: while the config is broken";
    shows(
        &server,
        &client,
        "seed added with a broken config",
        title,
        || {
            let text = seed(title, "2024-06-03 10:00", "meanwhile");
            std::fs::write(server.site.seeds().join("meanwhile.txt"), text).unwrap();
        },
    )
    .await;
    let now = health(&client, &server).await;
    assert_eq!(now["status"], "degraded", "{now}");

    // Fixed: healthy again.
    save(&config, &good);
    let fixed = eventually(&server, "the config error cleared", async || {
        let now = health(&client, &server).await;
        (now["status"] == "ok").then_some(now)
    })
    .await;
    assert_eq!(fixed["last_error"], Value::Null, "{fixed}");
    eventually(&server, "the recovery in the log", async || {
        (server.log_count("config recovered") >= 1).then_some(())
    })
    .await;

    // A valid change shows in the documents, with validators moved on.
    let previous = fetch(&client, &server, ALL).await;
    let written = Instant::now();
    save(
        &config,
        &good.replacen("title = \"tidings\"", "title = \"tidings live\"", 1),
    );
    eventually(&server, "a new site title served", async || {
        let (title, _) = parse_feed(&fetch(&client, &server, ALL).await.body);
        (title == "tidings live").then_some(())
    })
    .await;
    served("config change", written);
    let after = fetch(&client, &server, ALL).await;
    assert_ne!(after.etag, previous.etag);
    assert!(after.last_modified > previous.last_modified);
    let home = client.get(server.url("/")).send().await.unwrap();
    assert!(home.text().await.unwrap().contains("tidings live"));
    assert_eq!(health(&client, &server).await["status"], "ok");
}

#[tokio::test]
async fn sighup_reloads_and_without_changes_keeps_the_generation() {
    let server = Server::start();
    let client = raw_client();
    let seeds = server.site.seeds();
    let generation = health(&client, &server).await["generation"]
        .as_u64()
        .unwrap();

    // Nothing changed: the rescan swaps nothing in. The reloads run in
    // order, so once a later change is served the SIGHUP's is done.
    server.send_signal("HUP");
    eventually(&server, "the SIGHUP logged", async || {
        (server.log_count("SIGHUP: reloading everything") == 1).then_some(())
    })
    .await;
    let title = "Kyiv: after a SIGHUP";
    shows(&server, &client, "after a SIGHUP", title, || {
        save(
            &seeds.join("after-hup.txt"),
            &seed(title, "2024-06-03 10:00", "after-hup"),
        );
    })
    .await;
    assert_eq!(
        health(&client, &server).await["generation"].as_u64(),
        Some(generation + 1),
        "{}",
        server.log()
    );

    // A change and a SIGHUP at once.
    let title = "Kyiv: changed, then SIGHUP";
    shows(&server, &client, "changed, then SIGHUP", title, || {
        let text = seed(title, "2024-06-03 10:00", "after-hup");
        std::fs::write(seeds.join("after-hup.txt"), text).unwrap();
        server.send_signal("HUP");
    })
    .await;
}

/// Regression: the SIGHUP handler was installed by a spawned task, after the
/// server had announced it was listening; a SIGHUP in between took the
/// default action and killed the server. The window is a fraction of a
/// millisecond, too short for a `kill` started when the line is read, so a
/// shell waits for the process id with `kill` (a builtin) ready.
#[tokio::test]
async fn sighup_right_after_start_does_not_kill_the_server() {
    use std::io::Write as _;
    let client = raw_client();
    for _ in 0..40 {
        let mut hangup = std::process::Command::new("sh")
            .args(["-c", "read pid; kill -HUP \"$pid\""])
            .stdin(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let mut pid_to = hangup.stdin.take().unwrap();
        let mut server = Server::start_calling(common::Site::new(), |pid| {
            writeln!(pid_to, "{pid}").unwrap();
        });
        assert!(hangup.wait().unwrap().success());
        let deadline = Instant::now() + DEADLINE;
        while server.log_count("SIGHUP: reloading everything") == 0 {
            assert!(
                server.is_running(),
                "SIGHUP killed the server\n{}",
                server.log()
            );
            assert!(
                Instant::now() < deadline,
                "SIGHUP not logged\n{}",
                server.log()
            );
            tokio::time::sleep(POLL).await;
        }
        assert_eq!(health(&client, &server).await["status"], "ok");
    }
}

#[tokio::test]
async fn validators_move_forward_and_stay_when_nothing_changed() {
    let server = Server::start();
    let client = raw_client();
    let seeds = server.site.seeds();
    let paths = ["/feeds/all.atom", "/feeds/all.json", "/feeds/ukraine.rss"];
    let snapshot = async || {
        let mut pages = Vec::new();
        for path in paths {
            pages.push(fetch(&client, &server, path).await);
        }
        pages
    };
    let originals: Vec<_> = std::fs::read_dir(&seeds)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    let first = snapshot().await;

    // An article older than all others: the newest date stays, the bytes
    // change, so Last-Modified has to move on by itself.
    let old = seeds.join("old.txt");
    let old_text = seed("Kyiv: an old story", "2001-01-01 09:00", "old");
    let written = Instant::now();
    save(&old, &old_text);
    let second = eventually(&server, "an older article served", async || {
        let pages = snapshot().await;
        (pages[0].etag != first[0].etag).then_some(pages)
    })
    .await;
    served("older article added", written);
    for ((path, before), after) in paths.iter().zip(&first).zip(&second) {
        assert_ne!(after.body, before.body, "{path}");
        assert_ne!(after.etag, before.etag, "{path}");
        assert!(after.last_modified > before.last_modified, "{path}");
    }

    // The newest articles deleted: the feeds' newest date goes back, their
    // Last-Modified still goes forward.
    let written = Instant::now();
    for original in &originals {
        std::fs::remove_file(original).unwrap();
    }
    let third = eventually(&server, "the newest articles gone", async || {
        let pages = snapshot().await;
        let titles = parse_feed(&pages[0].body).1;
        (titles.len() == 1).then_some(pages)
    })
    .await;
    served("newest articles deleted", written);
    let updated = |page: &Page| feed_rs::parser::parse(&page.body[..]).unwrap().updated;
    assert!(updated(&third[0]) < updated(&second[0]));
    for ((path, before), after) in paths.iter().zip(&second).zip(&third) {
        assert_ne!(after.etag, before.etag, "{path}");
        assert!(after.last_modified > before.last_modified, "{path}");
    }

    // Same bytes written again in place (never a moment with other bytes)
    // and touched: nothing moves. A rejected seed written afterwards is the
    // marker that the no-op was handled: reloads run in order.
    let generation = health(&client, &server).await["generation"]
        .as_u64()
        .unwrap();
    {
        use std::io::Write as _;
        let mut file = std::fs::OpenOptions::new().write(true).open(&old).unwrap();
        file.write_all(old_text.as_bytes()).unwrap();
    }
    let later = SystemTime::now() + Duration::from_secs(60);
    filetime::set_file_mtime(&old, FileTime::from_system_time(later)).unwrap();
    save(&seeds.join("marker.txt"), "A title and no date\n");
    eventually(&server, "the marker rejected", async || {
        let now = health(&client, &server).await;
        rejected_paths(&now)
            .contains(&"seeds/marker.txt".to_string())
            .then_some(())
    })
    .await;
    assert_eq!(
        health(&client, &server).await["generation"].as_u64(),
        Some(generation + 1),
        "only the marker made a new generation\n{}",
        server.log()
    );
    let fourth = snapshot().await;
    for ((path, before), after) in paths.iter().zip(&third).zip(&fourth) {
        assert_eq!(after.etag, before.etag, "{path}");
        assert_eq!(after.last_modified, before.last_modified, "{path}");
        assert_eq!(after.body, before.body, "{path}");
    }
}

/// A reload swaps new content in with gzip, then adds brotli: a client that
/// prefers brotli gets the new bytes at once (as gzip, with gzip's ETag),
/// and the brotli variant of the same digest soon after.
#[tokio::test]
async fn brotli_follows_a_reload_for_the_same_content() {
    const PREFERS_BROTLI: &str = "br, gzip;q=0.5";
    let server = Server::start();
    let client = raw_client();
    let url = server.url(ALL);
    let written = Instant::now();
    save(
        &server.site.seeds().join("brotli.txt"),
        &seed("Kyiv: brotli follows", "2024-06-03 10:00", "brotli"),
    );
    let (digest, encoding) = eventually(&server, "the new article, asked as br", async || {
        let (digest, encoding, identity) = check_response(&client, &url, PREFERS_BROTLI).await;
        assert!(encoding.is_some(), "asked for br or gzip, got identity");
        let (_, entries) = parse_feed(&identity);
        entries
            .iter()
            .any(|(_, title)| title == "Kyiv: brotli follows")
            .then_some((digest, encoding))
    })
    .await;
    served("new article, asked as br", written);
    if encoding.as_deref() == Some("gzip") {
        eventually(
            &server,
            "the brotli variant of the same content",
            async || {
                let response = client
                    .get(&url)
                    .header(ACCEPT_ENCODING, PREFERS_BROTLI)
                    .send()
                    .await
                    .unwrap();
                let etag = header(response.headers(), "etag").unwrap().to_string();
                (etag == format!("\"{digest}-br\"")).then_some(())
            },
        )
        .await;
    }
}

/// What a reader checks in every response: the ETag names the digest of
/// the identity bytes and the variant it came with, the body is whole.
/// Returns the digest, the Content-Encoding and the decoded body.
async fn check_response(
    client: &Client,
    url: &str,
    accept: &str,
) -> (String, Option<String>, Vec<u8>) {
    let response = client
        .get(url)
        .header(ACCEPT_ENCODING, accept)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK, "{url}");
    let headers = response.headers().clone();
    let body = response.bytes().await.unwrap();
    let etag = header(&headers, "etag").unwrap().trim_matches('"');
    let encoding = header(&headers, "content-encoding");
    let length: usize = header(&headers, "content-length").unwrap().parse().unwrap();
    assert_eq!(body.len(), length, "{url} {accept}");
    let (digest, suffix) = match etag.split_once('-') {
        Some((digest, suffix)) => (digest, Some(suffix)),
        None => (etag, None),
    };
    assert_eq!(suffix, encoding, "{url} {accept}: {etag}");
    let identity = match encoding {
        Some("gzip") => gunzip(&body),
        Some("br") => unbrotli(&body),
        None => body.to_vec(),
        Some(other) => panic!("{url}: unexpected Content-Encoding {other}"),
    };
    assert_eq!(
        format!("{:032x}", xxhash_rust::xxh3::xxh3_128(&identity)),
        digest,
        "{url} {accept}: the ETag is not the body's"
    );
    if let Err(error) = feed_rs::parser::parse(&identity[..]) {
        panic!(
            "{url} {accept}: not a complete feed ({error}):\n{}",
            String::from_utf8_lossy(&identity)
        );
    }
    (digest.to_string(), encoding.map(str::to_string), identity)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_response_while_files_change_is_one_whole_generation() {
    const READERS: usize = 4;
    const CHANGES: usize = 100;
    const FEEDS: [&str; 3] = ["/feeds/all.atom", "/feeds/ukraine.rss", "/feeds/all.json"];
    const ENCODINGS: [&str; 3] = ["identity", "gzip", "br"];

    let server = Server::start();
    let seeds = server.site.seeds();
    let stop = Arc::new(AtomicBool::new(false));
    let responses = Arc::new(AtomicUsize::new(0));
    let tags = Arc::new(Mutex::new(BTreeSet::new()));

    let readers: Vec<_> = (0..READERS)
        .map(|reader| {
            let (stop, responses, tags) = (stop.clone(), responses.clone(), tags.clone());
            let base = server.base.clone();
            tokio::spawn(async move {
                let client = raw_client();
                let deadline = Instant::now() + Duration::from_secs(60);
                // xorshift: a different, reproducible mix per reader.
                let mut state = 0x9E37_79B9_7F4A_7C15_u64 ^ (reader as u64 + 1);
                while !stop.load(Ordering::Relaxed) && Instant::now() < deadline {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    let path = FEEDS[(state % 3) as usize];
                    let accept = ENCODINGS[((state >> 8) % 3) as usize];
                    check_response(&client, &format!("{base}{path}"), accept).await;
                    responses.fetch_add(1, Ordering::Relaxed);
                    if path == FEEDS[0] {
                        let head = client.head(format!("{base}{path}")).send().await.unwrap();
                        let tag = header(head.headers(), "etag").unwrap().to_string();
                        tags.lock().unwrap().insert(tag);
                    }
                }
            })
        })
        .collect();

    // Writes, rewrites and deletes, in place (so readers of the seeds see
    // half-written files too), in the top folder and in a subfolder.
    let writer = tokio::task::spawn_blocking({
        let seeds = seeds.clone();
        move || {
            std::fs::create_dir(seeds.join("desk")).unwrap();
            let started = Instant::now();
            let mut expected = BTreeMap::new();
            for change in 0..CHANGES {
                let slot = change % 7;
                let relative = if slot % 2 == 0 {
                    format!("churn-{slot}.txt")
                } else {
                    format!("desk/churn-{slot}.txt")
                };
                let path = seeds.join(&relative);
                if change % 5 == 4 && expected.contains_key(&relative) {
                    std::fs::remove_file(&path).unwrap();
                    expected.remove(&relative);
                } else {
                    let title = format!("Kyiv churn {slot}, change {change}");
                    let date = format!("2024-06-{:02} 10:00", 1 + slot);
                    let slug = format!("churn-{slot}");
                    std::fs::write(&path, seed(&title, &date, &slug)).unwrap();
                    expected.insert(relative, title);
                }
                std::thread::sleep(Duration::from_millis(30));
            }
            (expected, started.elapsed())
        }
    });
    let (expected, writing) = writer.await.unwrap();
    // Keep reading a moment after the last change, so its reload is read too.
    tokio::time::sleep(Duration::from_millis(500)).await;
    stop.store(true, Ordering::Relaxed);
    for reader in readers {
        reader.await.unwrap();
    }
    let responses = responses.load(Ordering::Relaxed);
    let tags = tags.lock().unwrap().len();
    eprintln!("{CHANGES} changes in {writing:.1?}: {responses} responses checked, {tags} versions of all.atom seen");
    assert!(responses >= 100, "only {responses} responses");
    assert!(tags >= 3, "only {tags} versions of all.atom seen");

    // In the end, exactly the last state of the files is served.
    let client = raw_client();
    let expected: BTreeSet<String> = expected.into_values().collect();
    eventually(&server, "the last state of the churned seeds", async || {
        let served: BTreeSet<String> = entries(&client, &server, ALL)
            .await
            .into_iter()
            .map(|(_, title)| title)
            .filter(|title| title.starts_with("Kyiv churn"))
            .collect();
        (served == expected).then_some(())
    })
    .await;
}

#[tokio::test]
async fn a_storm_of_writes_coalesces_into_few_reloads() {
    const FILES: usize = 300;
    let server = Server::start();
    let client = raw_client();
    let seeds = server.site.seeds();
    let base = health(&client, &server).await["articles"].as_u64().unwrap();
    let reloads_before = server.log_count("reloaded in");

    let written = Instant::now();
    for n in 0..FILES {
        // Newer than the repository's seeds, the last written newest.
        let date = format!("2024-07-01 {:02}:{:02}", 10 + n / 60, n % 60);
        let title = format!("Kyiv storm {n:03}");
        std::fs::write(
            seeds.join(format!("storm-{n:03}.txt")),
            seed(&title, &date, &format!("storm-{n:03}")),
        )
        .unwrap();
    }
    let writing = written.elapsed();
    let published = eventually(&server, "every file of the storm published", async || {
        let now = health(&client, &server).await;
        (now["articles"].as_u64() == Some(base + FILES as u64)).then_some(now)
    })
    .await;
    served(&format!("{FILES} files written in {writing:.1?}"), written);
    assert!(rejected_paths(&published).is_empty(), "{published}");
    let feed = entries(&client, &server, ALL).await;
    assert_eq!(feed[0].1, format!("Kyiv storm {:03}", FILES - 1));

    // The log line of the reload that published the last file may trail
    // the swap by a moment.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let reloads = server.log_count("reloaded in") - reloads_before;
    eprintln!("{FILES} files: {reloads} reloads");
    assert!(
        (1..30).contains(&reloads),
        "{reloads} reloads\n{}",
        server.log()
    );
}

/// Copies a folder of plain files and folders (a seeds folder).
fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// The `.txt` files under `folder`, as a fresh scan finds them (links to
/// folders are not followed).
fn seed_files(folder: &Path) -> usize {
    let mut count = 0;
    for entry in std::fs::read_dir(folder).unwrap() {
        let entry = entry.unwrap();
        let kind = entry.file_type().unwrap();
        if kind.is_dir() {
            count += seed_files(&entry.path());
        } else if kind.is_file() && entry.file_name().to_string_lossy().ends_with(".txt") {
            count += 1;
        }
    }
    count
}

/// Waits until `/healthz` counts `want` articles; the message names what
/// was expected.
async fn articles_become(server: &Server, client: &Client, want: u64, what: &str) {
    let what = format!("{what}: {want} articles");
    eventually(server, &what, async || {
        let now = health(client, server).await["articles"].as_u64();
        (now == Some(want)).then_some(())
    })
    .await;
}

/// Regression: a folder created while the watcher was busy with other
/// events could lose its files for good. inotify watches a new folder only
/// after reporting its creation, and files written into it before the
/// watch exists make no event; if the reload had listed the folder before
/// they were written, nothing ever looked again. Here a writer keeps the
/// watcher busy rewriting files while folders with nested sub-folders are
/// created, filled a file at a time, moved and deleted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn folders_created_while_the_watcher_is_busy_all_go_live() {
    const FOLDERS: usize = 300;
    const WRITERS: usize = 3;
    const SPREAD: u64 = 3;
    let server = Server::start();
    let client = raw_client();
    let seeds = server.site.seeds();
    let noise = seeds.join("noise");
    std::fs::create_dir(&noise).unwrap();
    let texts: Vec<(std::path::PathBuf, String)> = (0..40)
        .map(|n| {
            let slug = format!("noise-{n}");
            let text = seed(&format!("Kyiv noise {n}"), "2024-05-01 10:00", &slug);
            (noise.join(format!("{slug}.txt")), text)
        })
        .collect();
    for (path, text) in &texts {
        std::fs::write(path, text).unwrap();
    }
    let base = seed_files(&seeds) as u64;
    articles_become(&server, &client, base, "the noise files").await;

    // Times touched over and over: many events, no new content.
    let stop = Arc::new(AtomicBool::new(false));
    let texts = Arc::new(texts);
    let noisy: Vec<_> = (0..2)
        .map(|_| {
            let (stop, texts) = (stop.clone(), texts.clone());
            std::thread::spawn(move || {
                let mut second = 0;
                while !stop.load(Ordering::Relaxed) {
                    second += 1;
                    for (path, _) in texts.iter() {
                        let time = FileTime::from_unix_time(1_700_000_000 + second, 0);
                        filetime::set_file_mtime(path, time).unwrap();
                    }
                }
            })
        })
        .collect();
    let outside = server.site.dir.path().join("outside");
    std::fs::create_dir(&outside).unwrap();
    let writers: Vec<_> = (0..WRITERS)
        .map(|w| {
            let (seeds, outside) = (seeds.clone(), outside.clone());
            std::thread::spawn(move || {
                for n in (w..FOLDERS).step_by(WRITERS) {
                    let folder = seeds.join(format!("desk-{n:03}"));
                    // A level at a time, a file in each as soon as it exists.
                    for (k, under) in ["", "a/", "a/b/", "a/b/", "a/"].iter().enumerate() {
                        std::fs::create_dir_all(folder.join(under)).unwrap();
                        let slug = format!("desk-{n:03}-{k}");
                        let text = seed(&format!("Kyiv desk {n} {k}"), "2024-06-01 10:00", &slug);
                        std::fs::write(folder.join(format!("{under}{slug}.txt")), text).unwrap();
                        std::thread::sleep(Duration::from_millis(SPREAD));
                    }
                    match n % 10 {
                        3 => std::fs::rename(&folder, seeds.join(format!("moved-{n:03}"))).unwrap(),
                        6 => std::fs::remove_dir_all(seeds.join(format!("desk-{:03}", n - 6)))
                            .unwrap(),
                        9 => std::fs::rename(&folder, outside.join(format!("out-{n:03}"))).unwrap(),
                        _ => {}
                    }
                }
            })
        })
        .collect();
    for writer in writers {
        writer.join().unwrap();
    }
    stop.store(true, Ordering::Relaxed);
    for noisy in noisy {
        noisy.join().unwrap();
    }

    let want = seed_files(&seeds) as u64;
    assert!(want > base + FOLDERS as u64, "{want} files");
    articles_become(&server, &client, want, "every file on disk served").await;
}

/// When the kernel's event queue overflows, inotify drops events, among
/// them the creation of folders, which are then never watched: a rescan
/// finds what is there, and every later change inside them was lost. The
/// server is stopped (SIGSTOP) while more events than the queue holds are
/// made, so the overflow is certain.
#[tokio::test]
async fn a_folder_created_while_events_overflow_is_watched_afterwards() {
    let server = Server::start();
    let client = raw_client();
    let seeds = server.site.seeds();
    let flood: Vec<_> = (0..2)
        .map(|n| seeds.join(format!("flood-{n}.txt")))
        .collect();
    for (n, path) in flood.iter().enumerate() {
        let slug = format!("flood-{n}");
        std::fs::write(
            path,
            seed(&format!("Kyiv flood {n}"), "2024-05-01 10:00", &slug),
        )
        .unwrap();
    }
    let base = seed_files(&seeds) as u64;
    articles_become(&server, &client, base, "the flood files").await;

    let queued: i64 = std::fs::read_to_string("/proc/sys/fs/inotify/max_queued_events")
        .map_or(16_384, |text| text.trim().parse().unwrap());
    server.send_signal("STOP");
    // Times alternate between two files, so the kernel cannot merge events.
    for n in 0..queued + 1_000 {
        let time = FileTime::from_unix_time(1_700_000_000 + n, 0);
        filetime::set_file_mtime(&flood[(n % 2) as usize], time).unwrap();
    }
    let lost = seeds.join("lost/deep");
    std::fs::create_dir_all(&lost).unwrap();
    let write = |name: &str, title: &str| {
        let text = seed(title, "2024-06-01 10:00", name);
        std::fs::write(lost.join(format!("{name}.txt")), text).unwrap();
    };
    write("lost-one", "Kyiv: written while events were lost");
    server.send_signal("CONT");
    articles_become(&server, &client, base + 1, "the rescan after the overflow").await;

    let title = "Kyiv: written in the folder afterwards";
    shows(
        &server,
        &client,
        "a file in a folder the overflow hid",
        title,
        || {
            write("lost-two", title);
        },
    )
    .await;
}

/// Moves the site's `seeds` to `releases/1/seeds` and makes `seeds` a
/// link to it, as git-sync and Capistrano lay a site out.
fn link_seeds(site: &common::Site) {
    let release = site.dir.path().join("releases/1");
    std::fs::create_dir_all(&release).unwrap();
    std::fs::rename(site.seeds(), release.join("seeds")).unwrap();
    std::os::unix::fs::symlink("releases/1/seeds", site.seeds()).unwrap();
}

/// Points `link` at `target` in one step: a new link renamed over it
/// (`ln -sfn target link.tmp && mv -T link.tmp link`).
fn swap_link(link: &Path, target: &str) {
    let name = link.file_name().unwrap().to_str().unwrap();
    let temporary = link.with_file_name(format!("{name}.tmp"));
    std::os::unix::fs::symlink(target, &temporary).unwrap();
    std::fs::rename(&temporary, link).unwrap();
}

#[tokio::test]
async fn a_seeds_folder_replaced_by_renames_is_served_and_watched() {
    let server = Server::start();
    let client = raw_client();
    let seeds = server.site.seeds();
    let next = server.site.dir.path().join("seeds.next");
    copy_tree(&seeds, &next);
    let title = "Kyiv: in the new seeds folder";
    std::fs::write(
        next.join("next.txt"),
        seed(title, "2024-06-03 10:00", "next"),
    )
    .unwrap();

    shows(&server, &client, "seeds folder replaced", title, || {
        // `mv seeds seeds.old && mv seeds.next seeds`
        std::fs::rename(&seeds, server.site.dir.path().join("seeds.old")).unwrap();
        std::fs::rename(&next, &seeds).unwrap();
    })
    .await;
    let title = "Kyiv: written into the new seeds folder";
    shows(
        &server,
        &client,
        "written after the replacement",
        title,
        || {
            std::fs::write(
                seeds.join("after.txt"),
                seed(title, "2024-06-03 11:00", "after"),
            )
            .unwrap();
        },
    )
    .await;
    let title = "Kyiv: in a new folder of the new seeds folder";
    shows(
        &server,
        &client,
        "new folder after the replacement",
        title,
        || {
            std::fs::create_dir(seeds.join("desk")).unwrap();
            let text = seed(title, "2024-06-03 12:00", "desk");
            std::fs::write(seeds.join("desk/desk.txt"), text).unwrap();
        },
    )
    .await;
    // The old folder is no longer read.
    std::fs::remove_dir_all(server.site.dir.path().join("seeds.old")).unwrap();
    let want = seed_files(&seeds) as u64;
    articles_become(&server, &client, want, "the new folder only").await;
}

#[tokio::test]
async fn a_seeds_link_swapped_to_a_new_release_is_served_and_watched() {
    let site = common::Site::new();
    link_seeds(&site);
    let server = Server::start_with(site);
    let client = raw_client();
    let root = server.site.dir.path();
    let release = root.join("releases/2/seeds");
    copy_tree(&root.join("releases/1/seeds"), &release);
    let title = "Kyiv: in release 2";
    std::fs::write(
        release.join("two.txt"),
        seed(title, "2024-06-03 10:00", "two"),
    )
    .unwrap();

    shows(&server, &client, "seeds link swapped", title, || {
        swap_link(&server.site.seeds(), "releases/2/seeds");
    })
    .await;
    std::fs::remove_dir_all(root.join("releases/1")).unwrap();
    let title = "Kyiv: written into release 2";
    shows(&server, &client, "written after the swap", title, || {
        let text = seed(title, "2024-06-03 11:00", "two-later");
        std::fs::write(release.join("later.txt"), text).unwrap();
    })
    .await;

    // And back to an older release: fewer articles.
    let third = root.join("releases/3/seeds");
    std::fs::create_dir_all(&third).unwrap();
    let title = "Kyiv: the only one in release 3";
    std::fs::write(
        third.join("three.txt"),
        seed(title, "2024-06-01 10:00", "three"),
    )
    .unwrap();
    shows(&server, &client, "swapped again", title, || {
        swap_link(&server.site.seeds(), "releases/3/seeds");
    })
    .await;
    articles_become(&server, &client, 1, "release 3 only").await;
}

/// The config as Kubernetes mounts a ConfigMap: `tidings.toml` links to
/// `..data/tidings.toml`, `..data` links to a folder with a timestamped
/// name, and an update writes a new folder and swaps `..data` by rename.
#[tokio::test]
async fn a_config_swapped_as_a_configmap_is_read() {
    let site = common::Site::new();
    let config = site.config_file();
    let folder = config.parent().unwrap().to_path_buf();
    let good = std::fs::read_to_string(&config).unwrap();
    let publish = |version: u32, text: &str| {
        let named = folder.join(format!("..2024_06_0{version}"));
        std::fs::create_dir(&named).unwrap();
        std::fs::write(named.join("tidings.toml"), text).unwrap();
        swap_link(&folder.join("..data"), &format!("..2024_06_0{version}"));
    };
    std::fs::remove_file(&config).unwrap();
    publish(1, &good);
    std::os::unix::fs::symlink("..data/tidings.toml", &config).unwrap();
    let server = Server::start_with(site);
    let client = raw_client();

    for (version, title) in [(2, "tidings, mounted"), (3, "tidings, mounted again")] {
        let written = Instant::now();
        publish(
            version,
            &good.replacen("title = \"tidings\"", &format!("title = \"{title}\""), 1),
        );
        std::fs::remove_dir_all(folder.join(format!("..2024_06_0{}", version - 1))).unwrap();
        eventually(&server, title, async || {
            let (served, _) = parse_feed(&fetch(&client, &server, ALL).await.body);
            (served == title).then_some(())
        })
        .await;
        served(&format!("config swapped ({title})"), written);
    }
    assert_eq!(health(&client, &server).await["status"], "ok");
}

/// A named pipe blocks whoever opens it for reading until a writer comes:
/// one named like a seed must not stop the reloads.
#[tokio::test]
async fn a_named_pipe_among_the_seeds_does_not_stop_reloads() {
    let server = Server::start();
    let client = raw_client();
    let seeds = server.site.seeds();
    let status = std::process::Command::new("mkfifo")
        .arg(seeds.join("pipe.txt"))
        .status()
        .unwrap();
    assert!(status.success());
    let title = "Kyiv: written after a pipe appeared";
    shows(&server, &client, "a seed after a pipe", title, || {
        std::fs::write(
            seeds.join("after-pipe.txt"),
            seed(title, "2024-06-03 10:00", "pipe"),
        )
        .unwrap();
    })
    .await;
}

/// A fresh scan does not follow links to folders (a link could make a
/// seed appear twice, or publish a folder outside the seeds); the live
/// catalog must not differ from it.
#[tokio::test]
async fn a_link_to_a_folder_is_not_followed_as_a_fresh_scan_does_not() {
    let server = Server::start();
    let client = raw_client();
    let seeds = server.site.seeds();
    let base = seed_files(&seeds) as u64;
    let elsewhere = server.site.dir.path().join("elsewhere");
    std::fs::create_dir(&elsewhere).unwrap();
    let text = seed("Kyiv: behind a link", "2024-06-03 10:00", "linked");
    std::fs::write(elsewhere.join("linked.txt"), text).unwrap();
    std::os::unix::fs::symlink(&elsewhere, seeds.join("linked")).unwrap();
    let text = seed("Kyiv: linked, later", "2024-06-03 10:00", "linked-later");
    std::fs::write(elsewhere.join("later.txt"), text).unwrap();

    let title = "Kyiv: the marker after the link";
    shows(&server, &client, "a seed after a link", title, || {
        std::fs::write(
            seeds.join("marker.txt"),
            seed(title, "2024-06-03 10:00", "marker"),
        )
        .unwrap();
    })
    .await;
    assert_eq!(
        health(&client, &server).await["articles"].as_u64(),
        Some(base + 1),
        "{}",
        server.log()
    );
}

/// A seed dated a few seconds ahead is scheduled: absent at first, then
/// published by the reload thread's timer at its date, with nothing
/// written in between; no response is ever dated later than it is sent.
#[tokio::test]
async fn a_scheduled_seed_goes_live_at_its_date_without_a_file_event() {
    let site = common::Site::new();
    // A whole second at least 3 s ahead: HTTP dates have whole seconds.
    let due = SystemTime::now() + Duration::from_secs(4);
    let due = httpdate::parse_http_date(&httpdate::fmt_http_date(due)).unwrap();
    let due_text = chrono::DateTime::<chrono::Utc>::from(due).to_rfc3339();
    let title = "Kyiv: scheduled for a few seconds from now";
    std::fs::write(
        site.seeds().join("scheduled.txt"),
        seed(title, &due_text, "scheduled"),
    )
    .unwrap();
    let server = Server::start_with(site);
    let client = raw_client();
    let base = health(&client, &server).await;

    // Every response: Last-Modified no later than Date, and the article
    // present only once its date has come.
    let look = async || {
        let mut present = None;
        for path in [ALL, "/feeds/all.json", "/"] {
            let response = client.get(server.url(path)).send().await.unwrap();
            assert_eq!(response.status(), StatusCode::OK, "{path}");
            let headers = response.headers().clone();
            let date = httpdate::parse_http_date(header(&headers, "date").unwrap()).unwrap();
            let modified =
                httpdate::parse_http_date(header(&headers, "last-modified").unwrap()).unwrap();
            assert!(modified <= date, "{path}: Last-Modified later than Date");
            let body = response.bytes().await.unwrap();
            let shown = std::str::from_utf8(&body).unwrap().contains(title);
            assert!(!shown || date >= due, "{path}: shown before its date");
            if path == ALL {
                present = Some((shown, date));
            }
        }
        present.unwrap()
    };
    let (shown, date) = look().await;
    assert!(
        !shown && date < due,
        "the scheduled seed should be absent at first (the server may have taken \
         the seconds to its date to start)"
    );

    let mut waited = 0;
    loop {
        let (shown, _) = look().await;
        if shown {
            break;
        }
        // Up to a few seconds after its date, however slow the machine.
        waited += 1;
        assert!(
            SystemTime::now() < due + DEADLINE,
            "not published within {DEADLINE:?} of its date\nserver log:\n{}",
            server.log()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let late = SystemTime::now().duration_since(due).unwrap_or_default();
    eprintln!("due→served {late:>7.1?} after {waited} polls");
    assert_eq!(
        entries(&client, &server, ALL).await[0],
        (id_of("scheduled"), title.to_string())
    );
    eventually(&server, "the publishing logged", async || {
        (server.log_count("published 1 scheduled article(s)") == 1).then_some(())
    })
    .await;
    let now = health(&client, &server).await;
    assert_eq!(
        now["articles"].as_u64(),
        Some(base["articles"].as_u64().unwrap() + 1)
    );
    // One swap for the release, none for a file.
    assert_eq!(
        now["generation"].as_u64(),
        Some(base["generation"].as_u64().unwrap() + 1),
        "{}",
        server.log()
    );
}
