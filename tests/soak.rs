//! Soak: `tidings serve` under steady reading while a writer churns the
//! seeds, for a bounded time; then the served feeds must be the ones a
//! fresh `tidings build` makes of the final folder.
//!
//! Readers are keep-alive clients asking for feeds and pages with random
//! `Accept-Encoding` and `If-None-Match` (ETags they saw, some weak, some
//! in lists). Every response is checked: no 5xx; a 200's ETag names the
//! digest of its decoded body and the variant sent; a 304 names an ETag
//! the client offered; per client and document, Last-Modified never goes
//! back and one Last-Modified is one content (a newer generation never
//! followed by an older one); `/healthz` generations never go back.
//!
//! The writer creates, edits (in place and by rename), renames and deletes
//! seeds, makes folders with sub-folders, moves folders within, out of and
//! into the seeds, breaks and fixes seeds, and now and then replaces the
//! whole seeds folder by two renames.
//!
//! `cargo test --test soak` runs it for `TIDINGS_SOAK_SECS` seconds (12 by
//! default); `TIDINGS_SOAK_SECS=600 cargo test --release --test soak --
//! --nocapture` is the long run. It prints what it did.

mod common;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use reqwest::header::{ACCEPT_ENCODING, IF_NONE_MATCH};
use reqwest::StatusCode;

use common::{gunzip, header, raw_client, unbrotli, Server};

const READERS: usize = 6;
const FEEDS: [&str; 9] = [
    "/feeds/all.atom",
    "/feeds/all.rss",
    "/feeds/all.json",
    "/feeds/ukraine.atom",
    "/feeds/ukraine.rss",
    "/feeds/ukraine.json",
    "/feeds/russia.atom",
    "/feeds/russia.rss",
    "/feeds/russia.json",
];
const PAGES: [&str; 3] = ["/", "/feeds.opml", "/topics/ukraine/"];
const ENCODINGS: [Option<&str>; 8] = [
    None,
    Some("identity"),
    Some("gzip"),
    Some("br"),
    Some("br, gzip"),
    Some("gzip;q=0.5, br;q=0.9"),
    Some("br;q=0, gzip"),
    Some("*"),
];
/// How long the served feeds may take to match the fresh build once the
/// writer stopped (a rescan settles 2 s after folders stop changing).
const CONVERGE: Duration = Duration::from_secs(30);

/// xorshift64: reproducible, different per seed.
struct Dice(u64);

impl Dice {
    fn new(seed: u64) -> Self {
        Self(0x9E37_79B9_7F4A_7C15 ^ seed.wrapping_mul(0xBF58_476D_1CE4_E5B9))
    }

    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }
}

fn seed(title: &str, day: usize, slug: &str) -> String {
    format!(
        "{title}\n\n2024-06-{:02} {:02}:00\n\nIn Kyiv and in Moscow, officials met again.\n\n\
         Original url: <https://example.org/soak/{slug}>\n",
        1 + day % 28,
        day % 24
    )
}

/// What one reader remembers of one document.
#[derive(Default)]
struct Seen {
    /// The latest Last-Modified and the digest that came with it.
    last: Option<(SystemTime, String)>,
    etags: Vec<String>,
}

/// Checks one response against what this reader saw before; returns the
/// ETag to offer next time.
async fn read_one(
    client: &reqwest::Client,
    base: &str,
    path: &str,
    dice: &mut Dice,
    seen: &mut Seen,
) -> Option<String> {
    let mut request = client.get(format!("{base}{path}"));
    let accept = ENCODINGS[dice.below(ENCODINGS.len())];
    if let Some(accept) = accept {
        request = request.header(ACCEPT_ENCODING, accept);
    }
    let mut offered = Vec::new();
    if !seen.etags.is_empty() && dice.below(2) == 0 {
        let tag = seen.etags[dice.below(seen.etags.len())].clone();
        offered.push(tag.clone());
        let value = match dice.below(3) {
            0 => tag,
            1 => format!("W/{tag}"),
            _ => format!("\"0000\", {tag}"),
        };
        request = request.header(IF_NONE_MATCH, value);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    let what = format!("{path} (Accept-Encoding {accept:?}, offered {offered:?})");
    assert!(!status.is_server_error(), "{what}: {status}");
    let headers = response.headers().clone();
    let etag = header(&headers, "etag").unwrap().to_string();
    let last_modified =
        httpdate::parse_http_date(header(&headers, "last-modified").unwrap()).unwrap();
    let digest_of = |etag: &str| {
        etag.trim_matches('"')
            .split('-')
            .next()
            .unwrap()
            .to_string()
    };
    let digest = digest_of(&etag);
    match status {
        StatusCode::NOT_MODIFIED => {
            let body = response.bytes().await.unwrap();
            assert!(body.is_empty(), "{what}: a 304 with a body");
            assert!(
                offered.iter().any(|tag| digest_of(tag) == digest),
                "{what}: 304 with {etag}, which was not offered"
            );
        }
        StatusCode::OK => {
            let body = response.bytes().await.unwrap();
            let length: usize = header(&headers, "content-length").unwrap().parse().unwrap();
            assert_eq!(body.len(), length, "{what}: torn body");
            let encoding = header(&headers, "content-encoding");
            let suffix = etag.trim_matches('"').split_once('-').map(|(_, s)| s);
            assert_eq!(suffix, encoding, "{what}: {etag} for {encoding:?}");
            let identity = match encoding {
                Some("gzip") => gunzip(&body),
                Some("br") => unbrotli(&body),
                None => body.to_vec(),
                Some(other) => panic!("{what}: Content-Encoding {other}"),
            };
            assert_eq!(
                format!("{:032x}", xxhash_rust::xxh3::xxh3_128(&identity)),
                digest,
                "{what}: the ETag is not the body's"
            );
            if path.starts_with("/feeds/") {
                if let Err(error) = feed_rs::parser::parse(&identity[..]) {
                    panic!("{what}: not a whole feed: {error}");
                }
            }
        }
        other => panic!("{what}: {other}"),
    }
    if let Some((previous, previous_digest)) = &seen.last {
        assert!(
            last_modified >= *previous,
            "{what}: Last-Modified went back: an older generation after a newer one"
        );
        assert!(
            last_modified > *previous || digest == *previous_digest,
            "{what}: one Last-Modified, two contents"
        );
    }
    seen.last = Some((last_modified, digest));
    (status == StatusCode::OK).then_some(etag)
}

/// One writer step on `seeds`; returns what it did.
fn write_one(seeds: &Path, outside: &Path, dice: &mut Dice, step: usize) -> &'static str {
    let folders = ["", "desk/", "desk/deep/", "wire/"];
    let folder = seeds.join(folders[dice.below(folders.len())]);
    let _ = std::fs::create_dir_all(&folder);
    let name = format!("s-{}.txt", dice.below(40));
    let path = folder.join(&name);
    let slug = format!("{step}");
    match dice.below(12) {
        0..=2 => {
            let _ = std::fs::write(&path, seed(&format!("Soak {step}"), step, &slug));
            "wrote a seed"
        }
        3 => {
            let temporary = folder.join(format!(".{name}.tmp"));
            let _ = std::fs::write(&temporary, seed(&format!("Saved {step}"), step, &slug));
            let _ = std::fs::rename(&temporary, &path);
            "saved a seed by rename"
        }
        4 => {
            let _ = std::fs::rename(&path, folder.join(format!("r-{step}.txt")));
            "renamed a seed"
        }
        5 => {
            let _ = std::fs::remove_file(&path);
            "deleted a seed"
        }
        6 => {
            let _ = std::fs::write(&path, "A title and no date\n");
            "broke a seed"
        }
        7 => {
            let new = seeds.join(format!("f-{step}/a/b"));
            let _ = std::fs::create_dir_all(&new);
            for (k, under) in ["../../", "../", ""].iter().enumerate() {
                let text = seed(
                    &format!("Folder {step} {k}"),
                    step + k,
                    &format!("{step}-{k}"),
                );
                let _ = std::fs::write(new.join(format!("{under}n-{k}.txt")), text);
            }
            "made a folder tree"
        }
        8 => {
            let _ = std::fs::rename(seeds.join("desk"), seeds.join(format!("desk-{step}")));
            let _ = std::fs::rename(seeds.join(format!("desk-{step}")), seeds.join("wire/desk"));
            "moved a folder within"
        }
        9 => {
            let away = outside.join(format!("away-{step}"));
            let _ = std::fs::rename(seeds.join("wire"), &away);
            "moved a folder out"
        }
        10 => {
            let back = std::fs::read_dir(outside)
                .unwrap()
                .filter_map(|e| e.ok().map(|e| e.path()))
                .next();
            if let Some(back) = back {
                let _ = std::fs::rename(back, seeds.join(format!("back-{step}")));
            }
            "moved a folder in"
        }
        _ => {
            let _ = std::fs::remove_dir_all(seeds.join(format!("f-{}", step.saturating_sub(20))));
            "deleted a folder tree"
        }
    }
}

/// Replaces the seeds folder by a copy of itself, by two renames.
fn replace_seeds(seeds: &Path) {
    let next = seeds.with_file_name("seeds.next");
    let old = seeds.with_file_name("seeds.old");
    copy_tree(seeds, &next);
    std::fs::rename(seeds, &old).unwrap();
    std::fs::rename(&next, seeds).unwrap();
    std::fs::remove_dir_all(&old).unwrap();
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap().flatten() {
        let target = to.join(entry.file_name());
        match entry.file_type() {
            Ok(kind) if kind.is_dir() => copy_tree(&entry.path(), &target),
            Ok(kind) if kind.is_file() => {
                let _ = std::fs::copy(entry.path(), target);
            }
            _ => {}
        }
    }
}

/// The feeds `tidings build` makes of the site as it is on disk now.
fn fresh_build(server: &Server) -> HashMap<&'static str, Vec<u8>> {
    let out = tempfile::tempdir().unwrap();
    let status = std::process::Command::new(env!("CARGO_BIN_EXE_tidings"))
        .current_dir(server.site.dir.path())
        .args([
            "--config",
            "config/tidings.toml",
            "--seeds",
            "seeds",
            "build",
        ])
        .arg("--out")
        .arg(out.path())
        .args(["--allow-rejected", "--compression", "off"])
        // The server links to the address it listens on.
        .args(["--base-url", &format!("{}/", server.base)])
        .env_remove("TIDINGS_CONFIG")
        .env_remove("TIDINGS_SEEDS")
        .env_remove("TIDINGS_OUT")
        .env_remove("TIDINGS_BASE_URL")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(status.success(), "tidings build");
    FEEDS
        .iter()
        .map(|path| {
            let file: PathBuf = out.path().join(path.trim_start_matches('/'));
            (*path, std::fs::read(file).unwrap())
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn responses_stay_whole_and_the_catalog_converges_under_churn() {
    let seconds: u64 = std::env::var("TIDINGS_SOAK_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(12);
    let server = Server::start();
    let stop = Arc::new(AtomicBool::new(false));
    let (responses, not_modified) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));

    let readers: Vec<_> = (0..READERS)
        .map(|reader| {
            let (stop, responses, not_modified) =
                (stop.clone(), responses.clone(), not_modified.clone());
            let base = server.base.clone();
            tokio::spawn(async move {
                let client = raw_client();
                let mut dice = Dice::new(reader as u64 + 1);
                let mut seen: HashMap<&str, Seen> = HashMap::new();
                let mut generation = 0;
                while !stop.load(Ordering::Relaxed) {
                    if dice.below(20) == 0 {
                        let health = client.get(format!("{base}/healthz")).send().await.unwrap();
                        assert_eq!(health.status(), StatusCode::OK);
                        let health: serde_json::Value =
                            serde_json::from_slice(&health.bytes().await.unwrap()).unwrap();
                        let now = health["generation"].as_u64().unwrap();
                        assert!(now >= generation, "generation {now} after {generation}");
                        generation = now;
                        continue;
                    }
                    let all = FEEDS.len() + PAGES.len();
                    let path = match dice.below(all) {
                        n if n < FEEDS.len() => FEEDS[n],
                        n => PAGES[n - FEEDS.len()],
                    };
                    let seen = seen.entry(path).or_default();
                    let etag = read_one(&client, &base, path, &mut dice, seen).await;
                    responses.fetch_add(1, Ordering::Relaxed);
                    match etag {
                        Some(etag) => {
                            seen.etags.push(etag);
                            if seen.etags.len() > 4 {
                                seen.etags.remove(0);
                            }
                        }
                        None => {
                            not_modified.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                }
            })
        })
        .collect();

    let seeds = server.site.seeds();
    let outside = server.site.dir.path().join("outside");
    std::fs::create_dir(&outside).unwrap();
    let writer = std::thread::spawn(move || {
        let mut dice = Dice::new(99);
        let mut done: HashMap<&str, usize> = HashMap::new();
        let started = Instant::now();
        let mut step = 0;
        while started.elapsed() < Duration::from_secs(seconds) {
            step += 1;
            if step % 150 == 0 {
                replace_seeds(&seeds);
                *done.entry("replaced the seeds folder").or_default() += 1;
            } else {
                *done
                    .entry(write_one(&seeds, &outside, &mut dice, step))
                    .or_default() += 1;
            }
            std::thread::sleep(Duration::from_millis(dice.below(30) as u64));
        }
        done
    });
    let done = tokio::task::spawn_blocking(move || writer.join().unwrap())
        .await
        .unwrap();
    let written = Instant::now();

    let want = fresh_build(&server);
    let client = raw_client();
    let converged = loop {
        let mut differing = Vec::new();
        for (path, bytes) in &want {
            let served = client.get(server.url(path)).send().await.unwrap();
            if served.bytes().await.unwrap() != bytes[..] {
                differing.push(*path);
            }
        }
        if differing.is_empty() {
            break written.elapsed();
        }
        assert!(
            written.elapsed() < CONVERGE,
            "served feeds differ from a fresh build {CONVERGE:?} after the last write: \
             {differing:?}\nserver log:\n{}",
            server.log()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    stop.store(true, Ordering::Relaxed);
    for reader in readers {
        reader.await.unwrap();
    }

    let responses = responses.load(Ordering::Relaxed);
    let not_modified = not_modified.load(Ordering::Relaxed);
    let reloads = server.log_count("reloaded in");
    let rescued = server.log_count("the watcher had not reported");
    eprintln!(
        "soak {seconds} s: writer {done:?}; {reloads} reloads ({rescued} by a rescan alone); \
         {responses} responses checked, {not_modified} of them 304; \
         converged {converged:.1?} after the last write"
    );
    assert!(responses > 100, "only {responses} responses");
    assert!(not_modified > 0, "no conditional request was answered 304");
}
