//! `tidings build` and `tidings check` as a user runs them: the real binary
//! over real folders.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use filetime::FileTime;

const BIN: &str = env!("CARGO_BIN_EXE_tidings");

fn tidings(args: &[&str], seeds: &Path, config: &Path) -> Output {
    Command::new(BIN)
        .args(args)
        .arg("--seeds")
        .arg(seeds)
        .arg("--config")
        .arg(config)
        .env_remove("RUST_LOG")
        .output()
        .expect("the tidings binary runs")
}

fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

fn build(seeds: &Path, config: &Path, out: &Path, extra: &[&str]) -> Output {
    let mut args = vec!["build", "--out", out.to_str().unwrap()];
    args.extend_from_slice(extra);
    tidings(&args, seeds, config)
}

/// Builds the shipped seeds and config into `out`, which must succeed.
fn build_shipped(out: &Path) {
    let result = build(&repo("seeds"), &repo("config/tidings.toml"), out, &[]);
    assert!(
        result.status.success(),
        "{}",
        String::from_utf8_lossy(&result.stderr)
    );
}

/// Every file under `dir` with its bytes and modification time.
fn snapshot(dir: &Path) -> BTreeMap<String, (Vec<u8>, i64)> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, (Vec<u8>, i64)>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(root, &path, out);
            } else {
                let meta = std::fs::metadata(&path).unwrap();
                let mtime = FileTime::from_last_modification_time(&meta).unix_seconds();
                let name = path
                    .strip_prefix(root)
                    .unwrap()
                    .to_string_lossy()
                    .into_owned();
                out.insert(name, (std::fs::read(&path).unwrap(), mtime));
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let path = entry.unwrap().path();
        let target = to.join(path.file_name().unwrap());
        if path.is_dir() {
            copy_dir(&path, &target);
        } else {
            std::fs::copy(&path, &target).unwrap();
        }
    }
}

#[test]
fn build_writes_the_whole_url_layout_with_compressed_siblings() {
    let out = tempfile::tempdir().unwrap();
    let result = build(
        &repo("seeds"),
        &repo("config/tidings.toml"),
        out.path(),
        &[],
    );
    assert!(
        result.status.success(),
        "{}",
        String::from_utf8_lossy(&result.stderr)
    );
    for file in [
        "feeds/all.rss",
        "feeds/all.atom",
        "feeds/all.json",
        "feeds/ukraine.rss",
        "feeds/ukraine.atom",
        "feeds/ukraine.json",
        "feeds/russia.rss",
        "feeds/russia.atom",
        "feeds/russia.json",
        "feeds.opml",
        "index.html",
        "topics/ukraine/index.html",
        "topics/russia/index.html",
    ] {
        let path = out.path().join(file);
        let identity = std::fs::read(&path).unwrap_or_else(|e| panic!("{file}: {e}"));
        let mut gunzipped = Vec::new();
        flate2::read::GzDecoder::new(&std::fs::read(format!("{}.gz", path.display())).unwrap()[..])
            .read_to_end(&mut gunzipped)
            .unwrap();
        assert_eq!(gunzipped, identity, "{file}.gz");
        let mut unbrotlied = Vec::new();
        brotli::Decompressor::new(
            &std::fs::read(format!("{}.br", path.display())).unwrap()[..],
            4096,
        )
        .read_to_end(&mut unbrotlied)
        .unwrap();
        assert_eq!(unbrotlied, identity, "{file}.br");
    }
    let feed = std::fs::read_to_string(out.path().join("feeds/ukraine.atom")).unwrap();
    assert!(feed.contains("Putin Ready to Freeze War on Current Battlefield Lines – Reuters"));
}

#[test]
fn headers_file_names_each_document_with_its_type_and_caching() {
    let out = tempfile::tempdir().unwrap();
    build_shipped(out.path());
    let headers = std::fs::read_to_string(out.path().join("_headers")).unwrap();
    let block = headers
        .split("\n/")
        .find(|b| b.starts_with("feeds/ukraine.atom\n"))
        .expect("a rule for /feeds/ukraine.atom");
    assert!(
        block.contains("Content-Type: application/atom+xml; charset=utf-8"),
        "{block}"
    );
    assert!(
        block.contains(
            "Cache-Control: public, max-age=300, stale-while-revalidate=60, stale-if-error=86400"
        ),
        "{block}"
    );
    assert!(block.contains("Access-Control-Allow-Origin: *"), "{block}");
    assert!(
        headers.starts_with("/\n  Content-Type: text/html; charset=utf-8\n"),
        "{headers}"
    );
}

#[test]
fn file_times_are_the_documents_last_modified() {
    let out = tempfile::tempdir().unwrap();
    build_shipped(out.path());
    // The sample is dated 2024-05-24 with no time, in UTC.
    let expected = 1_716_508_800;
    for file in ["feeds/ukraine.atom", "feeds/ukraine.atom.gz", "index.html"] {
        let meta = std::fs::metadata(out.path().join(file)).unwrap();
        assert_eq!(
            FileTime::from_last_modification_time(&meta).unix_seconds(),
            expected,
            "{file}"
        );
    }
}

#[test]
fn two_builds_are_byte_identical_whatever_the_visiting_order_and_file_times() {
    let config = repo("config/tidings.toml");
    let hostile = repo("tests/fixtures/hostile");

    // The same seeds copied in two different orders, with different times.
    let first_seeds = tempfile::tempdir().unwrap();
    copy_dir(&repo("seeds"), first_seeds.path());
    copy_dir(&hostile, &first_seeds.path().join("hostile"));
    let second_seeds = tempfile::tempdir().unwrap();
    copy_dir(&hostile, &second_seeds.path().join("hostile"));
    copy_dir(&repo("seeds"), second_seeds.path());
    let touch = |dir: &Path, seconds: i64| {
        for (name, _) in snapshot(dir) {
            filetime::set_file_mtime(dir.join(name), FileTime::from_unix_time(seconds, 0)).unwrap();
        }
    };
    touch(first_seeds.path(), 1_000_000_000);
    touch(second_seeds.path(), 2_000_000_000);

    let first = tempfile::tempdir().unwrap();
    let second = tempfile::tempdir().unwrap();
    let allow = ["--allow-rejected"];
    assert!(build(first_seeds.path(), &config, first.path(), &allow)
        .status
        .success());
    assert!(build(second_seeds.path(), &config, second.path(), &allow)
        .status
        .success());
    let (first, second) = (snapshot(first.path()), snapshot(second.path()));
    assert!(first.len() > 30, "{} files", first.len());
    assert_eq!(
        first.keys().collect::<Vec<_>>(),
        second.keys().collect::<Vec<_>>()
    );
    for (name, contents) in &first {
        assert!(contents == &second[name], "{name} differs between builds");
    }
}

#[test]
fn check_passes_on_the_shipped_seeds() {
    let result = tidings(&["check"], &repo("seeds"), &repo("config/tidings.toml"));
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert!(result.status.success(), "{stderr}");
    assert!(
        stderr.contains("1 articles published, 0 file(s) rejected"),
        "{stderr}"
    );
}

#[test]
fn check_fails_naming_every_broken_file_and_build_still_publishes_the_rest() {
    let broken = repo("tests/fixtures/broken");
    let config = repo("config/tidings.toml");
    let result = tidings(&["check"], &broken, &config);
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert_eq!(result.status.code(), Some(1), "{stderr}");
    let mut named = 0;
    for entry in std::fs::read_dir(&broken).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        if name != "good.txt" {
            named += 1;
            let prefix = format!("{}/{name}:", broken.display());
            assert!(
                stderr.lines().any(|l| l.starts_with(&prefix)),
                "{name} is not named in:\n{stderr}"
            );
        }
    }
    assert!(named >= 5, "only {named} broken fixtures");

    let out = tempfile::tempdir().unwrap();
    let refused = build(&broken, &config, out.path(), &[]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("--allow-rejected"));
    let feed = std::fs::read_to_string(out.path().join("feeds/all.atom")).unwrap();
    assert!(
        feed.contains("<entry>"),
        "the good seeds still publish:\n{feed}"
    );
    assert!(build(&broken, &config, out.path(), &["--allow-rejected"])
        .status
        .success());
}

#[test]
fn a_broken_config_is_an_error_naming_the_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("tidings.toml");
    std::fs::write(
        &config,
        "[site]\ntitle = \"x\"\nbase_ulr = \"https://example.org/\"\n",
    )
    .unwrap();
    let result = tidings(&["check"], &repo("seeds"), &config);
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert_eq!(result.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(&format!("{}:3:", config.display())) && stderr.contains("base_ulr"),
        "{stderr}"
    );
}

#[test]
fn base_url_flag_moves_every_url() {
    let out = tempfile::tempdir().unwrap();
    let args = ["--base-url", "https://news.example.org/world"];
    assert!(build(
        &repo("seeds"),
        &repo("config/tidings.toml"),
        out.path(),
        &args
    )
    .status
    .success());
    let rss = std::fs::read_to_string(out.path().join("feeds/ukraine.rss")).unwrap();
    assert!(
        rss.contains("https://news.example.org/world/feeds/ukraine.rss"),
        "{rss}"
    );
    assert!(!rss.contains("127.0.0.1"), "{rss}");
}

/// Writes `n` seeds about Kyiv, Moscow, both or neither, dated over a few
/// weeks with many on the same day (ties broken by id), with one broken
/// file and one duplicate id among them.
fn varied_seeds(dir: &Path, n: usize) {
    std::fs::create_dir_all(dir.join("deeper")).unwrap();
    for i in 0..n {
        let place = ["Kyiv", "Moscow", "Kyiv and Moscow", "Lisbon"][i % 4];
        let day = 1 + (i * 7) % 27;
        let url = if i % 5 == 0 {
            String::new()
        } else {
            format!(
                "Original url: https://example.org/{}\n",
                i % 97 + 1000 * (i % 3)
            )
        };
        let text = format!(
            "Report {i} from {place}\n\n2024-05-{day:02}\n\nA first paragraph written in {place}, & more <b>.\n\n\
             A second paragraph, with [a link](https://example.org/?q={i}&x=1).\n\n{url}"
        );
        let folder = if i % 2 == 0 { "" } else { "deeper/" };
        std::fs::write(dir.join(format!("{folder}{i:04}.txt")), text).unwrap();
    }
    std::fs::write(dir.join("broken.txt"), "A title and no date\n").unwrap();
}

/// `tidings build` streams documents to files; `tidings serve` keeps the
/// catalog. Both must give the same bytes, whatever the feeds' sizes
/// (regression: the streamed `.gz` once differed from the served gzip).
#[test]
fn the_streamed_build_writes_the_catalogs_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let seeds = dir.path().join("seeds");
    varied_seeds(&seeds, 400);
    for max_entries in [7, 1000] {
        let config_path = dir.path().join("tidings.toml");
        std::fs::write(
            &config_path,
            format!(
                "[site]\nbase_url = \"https://news.example.org/\"\nmax_entries = {max_entries}\n\
                 [[topic]]\nslug = \"ukraine\"\nkeywords = [\"Kyiv\"]\n\
                 [[topic]]\nslug = \"russia\"\nkeywords = [\"Moscow\"]\n\
                 [[topic]]\nslug = \"nowhere\"\nkeywords = [\"Atlantis\"]\n"
            ),
        )
        .unwrap();
        let out = dir.path().join(format!("out-{max_entries}"));
        let result = build(&seeds, &config_path, &out, &["--allow-rejected"]);
        assert!(
            result.status.success(),
            "{}",
            String::from_utf8_lossy(&result.stderr)
        );

        let config = tidings::config::Config::from_file(&config_path).unwrap();
        let catalog =
            tidings::publish::publish(&config, &seeds, 1, tidings::catalog::Compression::On)
                .unwrap();
        let files = snapshot(&out);
        let mut expected = vec!["_headers".to_string(), "tidings-manifest.json".to_string()];
        // The documents the catalog holds, then those its shelf makes when
        // asked for (archive pages, article pages): every other file.
        let shelf = catalog.shelf.as_ref().unwrap();
        let shelved: Vec<(String, tidings::catalog::Document)> = files
            .keys()
            .filter(|file| !file.ends_with(".gz") && !file.ends_with(".br"))
            .map(|file| layout_path(file))
            .filter(|path| {
                catalog.get(path).is_none()
                    && path != "/_headers"
                    && path != "/tidings-manifest.json"
            })
            .map(|path| {
                let document = shelf.find(&path).unwrap_or_else(|| panic!("{path}"));
                (path, (*document.document).clone())
            })
            .collect();
        if max_entries == 7 {
            assert!(shelved.iter().any(|(path, _)| path.contains("/archive/")));
        }
        assert!(shelved
            .iter()
            .any(|(path, _)| path.starts_with("/articles/")));
        let held = catalog
            .documents()
            .map(|(path, document)| (path.to_string(), document.clone()));
        for (path, document) in held.chain(shelved) {
            let path = path.as_str();
            let file = tidings::layout::file_path(path);
            let (bytes, _) = &files[&file];
            assert_eq!(
                bytes.as_slice(),
                &document.identity[..],
                "{file} at max_entries {max_entries}"
            );
            let mut gunzipped = Vec::new();
            flate2::read::GzDecoder::new(&files[&format!("{file}.gz")].0[..])
                .read_to_end(&mut gunzipped)
                .unwrap();
            assert_eq!(gunzipped, bytes.as_slice(), "{file}.gz");
            let mut unbrotlied = Vec::new();
            brotli::Decompressor::new(&files[&format!("{file}.br")].0[..], 4096)
                .read_to_end(&mut unbrotlied)
                .unwrap();
            assert_eq!(unbrotlied, bytes.as_slice(), "{file}.br");
            // Documents this small reach the encoders in one piece, so the
            // compressed files are the very bytes the server sends.
            assert_eq!(
                files[&format!("{file}.gz")].0.as_slice(),
                &document.gzip.as_ref().unwrap()[..],
                "{file}.gz"
            );
            // Documents the server makes on demand have no brotli variant
            // (a brotli client gets gzip); the build still writes one.
            if let Some(brotli) = &document.brotli {
                assert_eq!(
                    files[&format!("{file}.br")].0.as_slice(),
                    &brotli[..],
                    "{file}.br"
                );
            }
            expected.extend([format!("{file}.gz"), format!("{file}.br"), file]);
        }
        expected.sort();
        assert_eq!(files.keys().cloned().collect::<Vec<_>>(), expected);
        let all = String::from_utf8(files["feeds/all.json"].0.clone()).unwrap();
        let items = all.matches("\"content_html\"").count();
        assert_eq!(items, max_entries.min(catalog.articles), "all.json items");
    }
}

/// The layout path a file of a build holds (`archive/3/index.html` is
/// `/archive/3/`).
fn layout_path(file: &str) -> String {
    match file.strip_suffix("index.html") {
        Some(folder) => format!("/{folder}"),
        None => format!("/{file}"),
    }
}

/// Runs the binary through `sh -c`, after `limits` (shell commands such as
/// `ulimit -n 1024`), so the build meets the limits a user's shell may set.
fn build_limited(limits: &str, seeds: &Path, config: &Path, out: &Path, extra: &[&str]) -> Output {
    let quote = |path: &Path| format!("'{}'", path.display());
    let script = format!(
        "{limits}; exec {} build --out {} --seeds {} --config {} {}",
        quote(Path::new(BIN)),
        quote(out),
        quote(seeds),
        quote(config),
        extra.join(" ")
    );
    Command::new("sh")
        .arg("-c")
        .arg(script)
        .env_remove("RUST_LOG")
        .output()
        .expect("sh runs")
}

/// Names in `dir`, sorted.
fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// Seeds about `towns` towns, one each, and a config of `topics` topics,
/// topic `i` about town `i % towns`; returns the config's path. Every topic
/// has an entry, and entries stay short (each names its topics).
fn many_topics(dir: &Path, towns: usize, topics: usize) -> PathBuf {
    let seeds = dir.join("seeds");
    std::fs::create_dir(&seeds).unwrap();
    for town in 0..towns {
        std::fs::write(
            seeds.join(format!("{town:03}.txt")),
            format!(
                "News from town{town:04}\n\n2024-05-{:02}\n\nA paragraph.\n",
                1 + town % 28
            ),
        )
        .unwrap();
    }
    let mut config = String::from("[site]\nbase_url = \"https://news.example.org/\"\n");
    for i in 0..topics {
        let town = i % towns;
        config.push_str(&format!(
            "[[topic]]\nslug = \"t{i}\"\nkeywords = [\"town{town:04}\"]\n"
        ));
    }
    let config_path = dir.join("tidings.toml");
    std::fs::write(&config_path, config).unwrap();
    config_path
}

/// Checks the files of a build of [`many_topics`]: every document of every
/// topic, each in the given `variants` (`""`, `".gz"`, `".br"`).
fn assert_many_topics(out: &Path, towns: usize, topics: usize, variants: &[&str]) {
    let files = snapshot(out);
    // Seven documents per feed (the topics and `all`: three formats, the
    // page, three previews), the OPML list, 404.html, the two icons, four
    // per archive page of `all` (each topic holds one article) and a page
    // per article, in each variant, _headers and the manifest.
    let pages = tidings::archive::Paging::new(towns, 50).pages();
    let documents = 7 * (topics + 1) + 4 + 4 * pages + towns;
    assert_eq!(files.len(), documents * variants.len() + 2);
    for i in [0, 1, topics - 2, topics - 1] {
        let town = i % towns;
        for file in [
            format!("feeds/t{i}.atom"),
            format!("feeds/t{i}.rss"),
            format!("feeds/t{i}.json"),
            format!("topics/t{i}/index.html"),
        ] {
            let text = String::from_utf8(files[&file].0.clone()).unwrap();
            assert!(
                text.contains(&format!("News from town{town:04}")),
                "{file}:\n{text}"
            );
            if variants.contains(&".gz") {
                let mut gunzipped = Vec::new();
                flate2::read::GzDecoder::new(&files[&format!("{file}.gz")].0[..])
                    .read_to_end(&mut gunzipped)
                    .unwrap();
                assert_eq!(gunzipped, text.as_bytes(), "{file}.gz");
            }
        }
    }
    let last = topics - 1;
    let opml = String::from_utf8(files["feeds.opml"].0.clone()).unwrap();
    assert!(opml.contains(&format!("/feeds/t{last}.rss")), "{opml}");
    let headers = String::from_utf8(files["_headers"].0.clone()).unwrap();
    assert!(headers.contains(&format!("/topics/t{last}/\n")));
}

/// Every listing document is under way at once; the number of open files
/// must not follow. (Compression is off to keep the test short: 60,000
/// compressed siblings cost minutes; the next test covers them.)
#[test]
fn five_thousand_topics_build_under_an_open_files_limit_of_1024() {
    let dir = tempfile::tempdir().unwrap();
    let config = many_topics(dir.path(), 250, 5000);
    let out = dir.path().join("public");
    let result = build_limited(
        "ulimit -n 1024",
        &dir.path().join("seeds"),
        &config,
        &out,
        &["--compression", "off"],
    );
    assert!(
        result.status.success(),
        "{}",
        String::from_utf8_lossy(&result.stderr)
    );
    assert_many_topics(&out, 250, 5000, &[""]);
}

/// With `.gz` and `.br` siblings, a few files per core are open at once.
#[test]
fn compressed_builds_hold_few_files_open() {
    let dir = tempfile::tempdir().unwrap();
    let config = many_topics(dir.path(), 50, 300);
    let out = dir.path().join("public");
    let result = build_limited(
        "ulimit -n 64",
        &dir.path().join("seeds"),
        &config,
        &out,
        &[],
    );
    assert!(
        result.status.success(),
        "{}",
        String::from_utf8_lossy(&result.stderr)
    );
    assert_many_topics(&out, 50, 300, &["", ".gz", ".br"]);
}

/// A build that fails half way (here: a file grows past the size limit the
/// shell set) must not touch the previous output nor leave anything behind.
#[test]
fn a_failed_build_leaves_the_previous_output_as_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let parent = dir.path().join("site");
    let out = parent.join("public");
    build_shipped(&out);
    let before = snapshot(&out);

    let seeds = dir.path().join("seeds");
    varied_seeds(&seeds, 400);
    let config_path = dir.path().join("tidings.toml");
    std::fs::write(
        &config_path,
        "[site]\nbase_url = \"https://news.example.org/\"\nmax_entries = 1000\n\
         [[topic]]\nslug = \"ukraine\"\nkeywords = [\"Kyiv\"]\n",
    )
    .unwrap();
    // Ignoring SIGXFSZ turns writing past the limit into an error (EFBIG)
    // the build sees, instead of the signal ending the process.
    let result = build_limited(
        "trap '' XFSZ; ulimit -f 64",
        &seeds,
        &config_path,
        &out,
        &["--allow-rejected"],
    );
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert_eq!(result.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("cannot write"), "{stderr}");

    assert!(snapshot(&out) == before, "the previous output changed");
    assert_eq!(names(&parent), ["public"], "something was left beside it");
}

#[test]
fn a_symlink_in_the_previous_output_is_never_written_through() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("public");
    build_shipped(&out);
    let outside_file = dir.path().join("outside.txt");
    std::fs::write(&outside_file, "not the build's").unwrap();
    let outside_dir = dir.path().join("outside");
    std::fs::create_dir(&outside_dir).unwrap();
    std::fs::write(outside_dir.join("keep.txt"), "mine").unwrap();
    std::fs::remove_file(out.join("feeds/ukraine.atom")).unwrap();
    std::os::unix::fs::symlink(&outside_file, out.join("feeds/ukraine.atom")).unwrap();
    std::fs::remove_dir_all(out.join("topics")).unwrap();
    std::os::unix::fs::symlink(&outside_dir, out.join("topics")).unwrap();

    build_shipped(&out);

    assert!(
        std::fs::read(&outside_file).unwrap() == b"not the build's",
        "the build wrote through a symlink to a file"
    );
    assert_eq!(names(&outside_dir), ["keep.txt"]);
    assert!(std::fs::read(outside_dir.join("keep.txt")).unwrap() == b"mine");
    let feed = out.join("feeds/ukraine.atom");
    assert!(std::fs::symlink_metadata(&feed).unwrap().is_file());
    assert!(std::fs::read_to_string(&feed).unwrap().contains("<feed"));
    assert!(std::fs::symlink_metadata(out.join("topics"))
        .unwrap()
        .is_dir());
    assert!(out.join("topics/ukraine/index.html").is_file());
}

#[test]
fn a_build_replaces_the_whole_output_folder() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("public");
    std::fs::create_dir_all(out.join("old")).unwrap();
    std::fs::write(out.join("old/stale.html"), "from an earlier build").unwrap();
    std::fs::write(out.join("feeds.opml"), "stale").unwrap();

    build_shipped(&out);

    assert!(!out.join("old").exists());
    let fresh = tempfile::tempdir().unwrap();
    build_shipped(fresh.path());
    assert!(snapshot(&out) == snapshot(fresh.path()));
    assert_eq!(
        names(dir.path()),
        ["public"],
        "something was left beside it"
    );
}

#[test]
fn an_out_symlink_keeps_pointing_to_the_folder_the_build_replaces() {
    let dir = tempfile::tempdir().unwrap();
    let real = dir.path().join("releases/current");
    std::fs::create_dir_all(&real).unwrap();
    std::fs::write(real.join("stale.txt"), "old").unwrap();
    let link = dir.path().join("public");
    std::os::unix::fs::symlink(&real, &link).unwrap();

    build_shipped(&link);
    build_shipped(&link);

    assert!(std::fs::symlink_metadata(&link)
        .unwrap()
        .file_type()
        .is_symlink());
    assert_eq!(std::fs::read_link(&link).unwrap(), real);
    assert!(real.join("feeds/all.atom").is_file());
    assert!(!real.join("stale.txt").exists());
    assert_eq!(names(&dir.path().join("releases")), ["current"]);
}

#[test]
fn build_refuses_an_out_folder_that_holds_the_seeds() {
    let dir = tempfile::tempdir().unwrap();
    let seeds = dir.path().join("seeds");
    copy_dir(&repo("seeds"), &seeds);
    let before = snapshot(&seeds);

    let result = build(&seeds, &repo("config/tidings.toml"), dir.path(), &[]);
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert_eq!(result.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("seeds"), "{stderr}");
    assert!(snapshot(&seeds) == before);
    assert_eq!(names(dir.path()), ["seeds"]);
}

/// The shipped seeds plus a Markdown article dated 2024-06-10 09:00 in
/// Kyiv, and the shipped config with the site in Kyiv's zone.
fn with_a_scheduled_article() -> (tempfile::TempDir, PathBuf, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let seeds = dir.path().join("seeds");
    copy_dir(&repo("seeds"), &seeds);
    std::fs::write(
        seeds.join("grain.md"),
        "+++\ntitle = \"Grain corridor reopens\"\ndate = 2024-06-10T09:00:00+03:00\n\
         url = \"https://news.example.org/grain\"\n+++\n\nShips leave Odesa for Kyiv's buyers.\n",
    )
    .unwrap();
    let config = dir.path().join("tidings.toml");
    let text = std::fs::read_to_string(repo("config/tidings.toml"))
        .unwrap()
        .replace("timezone = \"UTC\"", "timezone = \"Europe/Kyiv\"");
    assert!(text.contains("Europe/Kyiv"));
    std::fs::write(&config, text).unwrap();
    (dir, seeds, config)
}

/// `tidings build` with `SOURCE_DATE_EPOCH` set to `epoch` (or unset).
fn build_at(
    seeds: &Path,
    config: &Path,
    out: &Path,
    epoch: Option<&str>,
    extra: &[&str],
) -> Output {
    let mut command = Command::new(BIN);
    command
        .args(["build", "--out", out.to_str().unwrap()])
        .args(extra)
        .arg("--seeds")
        .arg(seeds)
        .arg("--config")
        .arg(config)
        .env_remove("RUST_LOG")
        .env_remove("TIDINGS_NOW");
    match epoch {
        Some(epoch) => command.env("SOURCE_DATE_EPOCH", epoch),
        None => command.env_remove("SOURCE_DATE_EPOCH"),
    };
    let output = command.output().expect("the tidings binary runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

#[test]
fn a_build_publishes_what_is_due_at_its_now_and_the_same_now_gives_the_same_bytes() {
    let (dir, seeds, config) = with_a_scheduled_article();
    let out = |name: &str| dir.path().join(name);
    let before = ["--now", "2024-06-01T00:00:00Z"];
    build_at(&seeds, &config, &out("first"), None, &before);
    build_at(&seeds, &config, &out("second"), None, &before);
    // `--now` wins over SOURCE_DATE_EPOCH (here a moment long after).
    build_at(&seeds, &config, &out("third"), Some("4102444800"), &before);
    let first = snapshot(&out("first"));
    assert!(first.len() > 30, "{} files", first.len());
    for other in ["second", "third"] {
        let other = snapshot(&out(other));
        assert_eq!(
            first.keys().collect::<Vec<_>>(),
            other.keys().collect::<Vec<_>>()
        );
        for (name, contents) in &first {
            assert!(contents == &other[name], "{name} differs between builds");
        }
    }
    // Not due: in no document, and no date of the documents is its.
    for (name, (bytes, _)) in &first {
        let text = String::from_utf8_lossy(bytes);
        assert!(!text.contains("Grain corridor"), "{name} shows it");
        assert!(!text.contains("2024-06-10"), "{name} is dated by it");
    }
    let atom = std::fs::read(out("first/feeds/all.atom")).unwrap();
    let feed = feed_rs::parser::parse(&atom[..]).unwrap();
    assert_eq!(feed.entries.len(), 1);
    assert!(
        feed.updated.unwrap()
            < "2024-06-01T00:00:00Z"
                .parse::<chrono::DateTime<chrono::Utc>>()
                .unwrap()
    );

    // SOURCE_DATE_EPOCH at the very second it is due (06:00 UTC) publishes it.
    build_at(&seeds, &config, &out("due"), Some("1717999200"), &[]);
    let atom = std::fs::read(out("due/feeds/all.atom")).unwrap();
    let feed = feed_rs::parser::parse(&atom[..]).unwrap();
    let titles: Vec<String> = feed
        .entries
        .iter()
        .map(|e| e.title.as_ref().unwrap().content.clone())
        .collect();
    assert_eq!(titles[0], "Grain corridor reopens", "{titles:?}");
    assert_eq!(
        feed.updated.unwrap(),
        "2024-06-10T06:00:00Z"
            .parse::<chrono::DateTime<chrono::Utc>>()
            .unwrap()
    );
    let ukraine = std::fs::read_to_string(out("due/feeds/ukraine.rss")).unwrap();
    assert!(ukraine.contains("Grain corridor reopens"), "{ukraine}");
    // A second before, it waits.
    build_at(
        &seeds,
        &config,
        &out("just-before"),
        Some("1717999199"),
        &[],
    );
    let atom = std::fs::read_to_string(out("just-before/feeds/all.atom")).unwrap();
    assert!(!atom.contains("Grain corridor"), "{atom}");
}

#[test]
fn check_lists_the_scheduled_articles_after_the_diagnostics_and_still_passes() {
    let (_dir, seeds, config) = with_a_scheduled_article();
    // A copy of the shipped seed: a warning, not an error.
    let shipped = std::fs::read_dir(&seeds)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "txt"))
        .unwrap();
    std::fs::copy(&shipped, seeds.join("zz-copy.txt")).unwrap();
    let check = |now: &str| {
        let output = Command::new(BIN)
            .args(["check", "--now", now, "--seeds"])
            .arg(&seeds)
            .arg("--config")
            .arg(&config)
            .env_remove("RUST_LOG")
            .env_remove("SOURCE_DATE_EPOCH")
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        assert_eq!(output.status.code(), Some(0), "{stderr}");
        stderr
    };

    let stderr = check("2024-06-01T00:00:00Z");
    let lines: Vec<&str> = stderr.lines().collect();
    let scheduled = format!(
        "{}/grain.md: scheduled for 2024-06-10 09:00:00 +03:00 (Europe/Kyiv): Grain corridor reopens",
        seeds.display()
    );
    let at = lines
        .iter()
        .position(|l| *l == scheduled)
        .unwrap_or_else(|| panic!("no `{scheduled}` in:\n{stderr}"));
    let warning = lines
        .iter()
        .position(|l| l.contains("zz-copy.txt"))
        .unwrap_or_else(|| panic!("no warning in:\n{stderr}"));
    assert!(warning < at, "{stderr}");
    assert!(
        stderr.contains("1 articles published, 0 file(s) rejected, 1 warning(s)")
            && stderr.contains("1 scheduled"),
        "{stderr}"
    );

    let stderr = check("2024-06-10T06:00:00Z");
    assert!(!stderr.contains("scheduled for"), "{stderr}");
    assert!(
        stderr.contains("2 articles published") && stderr.contains("0 scheduled"),
        "{stderr}"
    );
}
