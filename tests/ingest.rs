//! Ingest, black-box: the sample seed, broken seeds, hostile seeds, and the
//! folder rules (order, sub-folders, hidden files, duplicate ids, links and
//! special files), at start-up and on the reload path alike.

use std::fs;
use std::os::unix::fs::{symlink, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::thread::JoinHandle;

use tidings::config::Config;
use tidings::diagnostic::{Diagnostic, Severity};
use tidings::index::SeedIndex;
use tidings::ingest::{self, Ingested};
use tidings::model::{Article, ArticleId};

const SAMPLE_URL: &str = "https://www.themoscowtimes.com/2024/05/24/putin-ready-to-freeze-war-on-current-battlefield-lines-reuters-a85215";

fn shipped_config() -> Config {
    Config::from_file(Path::new("config/tidings.toml")).expect("config/tidings.toml parses")
}

fn config_with(extra_toml: &str) -> Config {
    Config::parse(
        &format!("[site]\nbase_url = \"https://news.example.org/\"\n{extra_toml}"),
        Path::new("test.toml"),
    )
    .unwrap()
}

fn load(dir: &str, config: &Config) -> Ingested {
    ingest::load(Path::new(dir), config).expect("the folder can be listed")
}

fn article<'a>(ingested: &'a Ingested, source: &str) -> &'a Article {
    ingested
        .articles
        .iter()
        .find(|a| a.source == source)
        .unwrap_or_else(|| panic!("{source} not published: {:#?}", ingested.diagnostics))
}

fn errors_for<'a>(ingested: &'a Ingested, path: &str) -> Vec<&'a Diagnostic> {
    ingested
        .diagnostics
        .iter()
        .filter(|d| d.path == path && d.is_error())
        .collect()
}

#[test]
fn sample_article_matches_the_spec() {
    let ingested = load("seeds", &shipped_config());
    assert!(
        ingested.diagnostics.is_empty(),
        "{:#?}",
        ingested.diagnostics
    );
    let a = article(&ingested, "000_ac2916338c6b5aee.txt");

    assert_eq!(
        a.title,
        "Putin Ready to Freeze War on Current Battlefield Lines – Reuters"
    );
    assert_eq!(a.published.to_rfc3339(), "2024-05-24T00:00:00+00:00");
    assert_eq!(a.updated, a.published);
    assert_eq!(
        a.caption.as_deref(),
        Some("Vladimir Putin with military officers. kremlin.ru")
    );
    assert_eq!(a.url.as_deref(), Some(SAMPLE_URL));
    assert_eq!(a.id, ArticleId::Permalink(SAMPLE_URL.into()));

    assert_eq!(a.paragraphs.len(), 9, "{:#?}", a.paragraphs);
    assert!(a.paragraphs[0].starts_with("President Vladimir Putin is seeking"));
    assert!(a.paragraphs[0].contains("Reuters reported Friday"));
    assert!(a.paragraphs[1].contains("have circulated for months"));
    assert!(
        a.paragraphs[3].contains("we kept our sovereignty... we have a land corridor to Crimea."),
        "{}",
        a.paragraphs[3]
    );
    assert!(a.paragraphs[4].starts_with("Kremlin spokesman Dmitry Peskov"));
    assert!(a.paragraphs[8].starts_with("U.S. Secretary of State Antony Blinken"));
    for p in &a.paragraphs {
        assert!(!p.contains("Related article"), "{p}");
        assert!(!p.contains('[') && !p.contains("](#)"), "{p}");
    }

    assert_eq!(a.related.len(), 1);
    assert_eq!(
        a.related[0].text,
        "Russian Troops 'Bogged Down' in Battle for Vovchansk, Ukraine Says"
    );
    assert_eq!(a.related[0].url, None);

    let html = &a.content_html;
    assert!(
        html.starts_with("<p><em>Vladimir Putin with military officers. kremlin.ru</em></p>"),
        "{html}"
    );
    assert_eq!(
        html.matches("<p>").count(),
        10,
        "caption + nine paragraphs: {html}"
    );
    assert!(html.contains("Reuters reported Friday"), "{html}");
    assert!(html.contains("have circulated for months"), "{html}");
    for absent in ["<a", "[", "](#)", "Related", "Bogged", "Original url"] {
        assert!(!html.contains(absent), "{absent} in {html}");
    }

    assert!(a
        .summary
        .starts_with("President Vladimir Putin is seeking to negotiate"));
    assert!(a.summary.chars().count() <= 300);
    assert!(a.authors.is_empty() && a.tags.is_empty() && a.image.is_none());
}

#[test]
fn sample_date_is_midnight_in_the_site_zone() {
    let text = fs::read_to_string("config/tidings.toml").unwrap();
    assert!(
        text.contains("timezone = \"UTC\""),
        "the test rewrites this line"
    );
    let kyiv = Config::parse(
        &text.replace("timezone = \"UTC\"", "timezone = \"Europe/Kyiv\""),
        Path::new("config/tidings.toml"),
    )
    .unwrap();
    let ingested = load("seeds", &kyiv);
    let a = article(&ingested, "000_ac2916338c6b5aee.txt");
    assert_eq!(a.published.to_rfc3339(), "2024-05-24T00:00:00+03:00");
    // The instant differs from the UTC reading, the id does not.
    assert_eq!(a.id, ArticleId::Permalink(SAMPLE_URL.into()));
}

#[test]
fn broken_seeds_are_each_named_and_the_good_one_publishes() {
    let ingested = load("tests/fixtures/broken", &config_with(""));
    assert_eq!(ingested.articles.len(), 1, "{:#?}", ingested.articles);
    assert_eq!(ingested.articles[0].source, "good.txt");

    let expect = [
        (
            "bad-date.txt",
            3,
            "cannot read the date \"Mayy 24, 2024\": write it like \"May 24, 2024\"",
        ),
        ("binary.txt", 5, "binary"),
        ("empty.txt", 1, "no title"),
        ("no-date.txt", 1, "no date"),
        ("no-front-matter.md", 1, "no front matter"),
        ("no-title.txt", 1, "no title"),
        ("not-utf8.txt", 5, "not UTF-8"),
        ("unknown-key.md", 4, "unknown field `author`"),
        ("utf16.txt", 1, "binary"),
    ];
    for (file, line, words) in expect {
        let path = format!("tests/fixtures/broken/{file}");
        let errors = errors_for(&ingested, &path);
        assert_eq!(errors.len(), 1, "{path}: {:#?}", ingested.diagnostics);
        let shown = errors[0].to_string();
        let prefix = format!("{path}:{line}: ");
        assert!(
            shown.starts_with(&prefix),
            "{shown} should start with {prefix}"
        );
        assert!(shown.contains(words), "{shown} should say {words}");
    }
    assert_eq!(
        ingested.diagnostics.len(),
        expect.len(),
        "{:#?}",
        ingested.diagnostics
    );
}

#[test]
fn a_file_over_the_size_limit_is_rejected_and_the_rest_publishes() {
    let dir = tempfile::tempdir().unwrap();
    fs::copy(
        "tests/fixtures/broken/good.txt",
        dir.path().join("good.txt"),
    )
    .unwrap();
    let mut big = b"A huge title\n\nMay 24, 2024\n\n".to_vec();
    big.resize(1024 * 1024 + 1, b'x');
    fs::write(dir.path().join("huge.txt"), &big).unwrap();

    let config = config_with(""); // the default limit, 1 MiB
    let ingested = ingest::load(dir.path(), &config).unwrap();
    assert_eq!(ingested.articles.len(), 1);
    assert_eq!(ingested.diagnostics.len(), 1, "{:#?}", ingested.diagnostics);
    let shown = ingested.diagnostics[0].to_string();
    assert!(shown.contains("/huge.txt:1: "), "{shown}");
    assert!(
        shown.contains("1048577 bytes") && shown.contains("1048576"),
        "{shown}"
    );

    // The limit comes from the config.
    let small = config_with("[seeds]\nmax_file_bytes = 100\n");
    let ingested = ingest::load(dir.path(), &small).unwrap();
    assert!(ingested.articles.is_empty());
    assert_eq!(ingested.diagnostics.len(), 2);
    assert!(ingested.diagnostics.iter().all(Diagnostic::is_error));
}

/// The insides of every tag of `html` (`a href="…"` for `<a href="…">`).
fn tags(html: &str) -> Vec<&str> {
    html.split('<')
        .skip(1)
        .map(|rest| rest.split('>').next().unwrap_or(rest))
        .collect()
}

fn hostile() -> Ingested {
    load("tests/fixtures/hostile", &config_with(""))
}

#[test]
fn hostile_seeds_all_publish_except_the_duplicate() {
    let ingested = hostile();
    let sources: Vec<&str> = ingested
        .articles
        .iter()
        .map(|a| a.source.as_str())
        .collect();
    assert_eq!(
        sources,
        [
            "control-chars.txt",
            "crlf-bom.txt",
            "dup-a.txt",
            "front-matter.md",
            "lone-cr.txt",
            "long-title.txt",
            "markup.txt",
            "no-footer-with-caption.txt",
            "sub/dir/nested.txt",
            "unicode.txt",
        ]
    );
    assert!(
        !ingested.diagnostics.iter().any(Diagnostic::is_error),
        "{:#?}",
        ingested.diagnostics
    );
}

#[test]
fn hostile_content_is_sanitized_with_absolute_urls() {
    let ingested = hostile();
    for a in &ingested.articles {
        // Text is escaped, so every `<` opens a real tag: check the tags.
        for tag in tags(&a.content_html) {
            let tag = tag.to_ascii_lowercase();
            let name: String = tag
                .chars()
                .take_while(char::is_ascii_alphanumeric)
                .collect();
            assert!(
                !["script", "style", "iframe", "object", "embed", "form", "input", "svg"]
                    .contains(&name.as_str()),
                "{}: <{tag}>",
                a.source
            );
            let has_handler = tag
                .split_whitespace()
                .skip(1)
                .any(|attr| attr.starts_with("on"));
            assert!(!has_handler, "{}: event handler in <{tag}>", a.source);
            for bad in ["javascript:", "data:", "style=", "class="] {
                assert!(!tag.contains(bad), "{}: {bad} in <{tag}>", a.source);
            }
        }
        for attr in ["href=\"", "src=\""] {
            for (i, _) in a.content_html.match_indices(attr) {
                let value = &a.content_html[i + attr.len()..];
                assert!(
                    value.starts_with("https://")
                        || value.starts_with("http://")
                        || value.starts_with("mailto:"),
                    "{}: relative or unsafe URL at {}",
                    a.source,
                    &value[..value.len().min(60)]
                );
            }
        }
    }
    let md = article(&ingested, "front-matter.md");
    assert!(
        md.content_html
            .contains("href=\"https://news.example.org/about\""),
        "{}",
        md.content_html
    );
    assert!(
        md.content_html
            .contains("src=\"https://news.example.org/img/photo.png\""),
        "{}",
        md.content_html
    );
    assert!(
        md.content_html
            .contains("href=\"https://news.example.org/relative/page.html\""),
        "{}",
        md.content_html
    );
    assert_eq!(
        md.image.as_deref(),
        Some("https://news.example.org/images/lead.jpg")
    );
    for p in &md.paragraphs {
        assert!(
            !p.contains("alert"),
            "script text leaked into paragraphs: {p}"
        );
    }
}

#[test]
fn hostile_text_is_xml_legal_everywhere() {
    let ingested = hostile();
    let legal = |s: &str| s.chars().all(tidings::xml::is_xml_char);
    for a in &ingested.articles {
        let mut texts = vec![
            a.title.as_str(),
            a.summary.as_str(),
            a.content_html.as_str(),
        ];
        texts.extend(a.paragraphs.iter().map(String::as_str));
        texts.extend(a.caption.as_deref());
        texts.extend(a.authors.iter().map(String::as_str));
        texts.extend(a.tags.iter().map(String::as_str));
        for text in texts {
            assert!(legal(text), "{}: {text:?}", a.source);
        }
        assert!(!a.summary.is_empty(), "{}", a.source);
        assert!(a.summary.chars().count() <= 300, "{}", a.source);
    }
    let controls = article(&ingested, "control-chars.txt");
    assert_eq!(controls.title, "Control characters in the title");
    let warning = ingested
        .diagnostics
        .iter()
        .find(|d| d.path.ends_with("control-chars.txt"))
        .expect("a warning about the removed characters");
    assert_eq!(warning.severity, Severity::Warning);
    assert_eq!(warning.line, 1);
    assert!(
        warning.message.contains("lines 1, 5"),
        "{}",
        warning.message
    );
}

#[test]
fn seed_text_markup_is_escaped_not_interpreted() {
    let ingested = hostile();
    let a = article(&ingested, "markup.txt");
    assert_eq!(
        a.title,
        "Tom & Jerry <b>bold</b> ]]> <script>alert(1)</script>"
    );
    assert!(
        a.content_html
            .contains("a &lt; b &amp;&amp; c &gt; d, ]]&gt; ends CDATA"),
        "{}",
        a.content_html
    );
    assert!(
        a.content_html
            .contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "{}",
        a.content_html
    );
    assert!(
        a.paragraphs[2].starts_with("Links: javascript, data, relative, real & safe"),
        "{}",
        a.paragraphs[2]
    );
    assert_eq!(
        a.related[0].url.as_deref(),
        Some("https://example.org/related?x=1&y=2")
    );
    assert!(
        a.content_html
            .contains("<p>Related: <a href=\"https://example.org/related?x=1&amp;y=2\""),
        "{}",
        a.content_html
    );
    assert_eq!(
        a.url.as_deref(),
        Some("https://example.org/hostile/markup?id=1&lang=en")
    );
}

#[test]
fn unicode_crlf_lone_cr_and_long_titles_survive() {
    let ingested = hostile();
    let u = article(&ingested, "unicode.txt");
    assert!(
        u.title.contains("🇺🇦") && u.title.contains("مرحبا") && u.title.contains("שלום"),
        "{}",
        u.title
    );
    assert_eq!(u.published.to_rfc3339(), "2024-05-24T09:30:00+03:00");
    assert!(
        u.url
            .as_deref()
            .unwrap()
            .starts_with("https://example.org/%D1%81"),
        "{:?}",
        u.url
    );

    let crlf = article(&ingested, "crlf-bom.txt");
    assert_eq!(crlf.title, "Windows line ends with a byte order mark");
    assert_eq!(crlf.caption.as_deref(), Some("Photo: someone. AP"));
    assert_eq!(
        crlf.paragraphs,
        [
            "First paragraph, split by extraction and continued here.",
            "Second paragraph."
        ]
    );
    assert_eq!(
        crlf.url.as_deref(),
        Some("https://example.org/hostile/crlf-bom")
    );

    let cr = article(&ingested, "lone-cr.txt");
    assert_eq!(cr.paragraphs.len(), 2);
    assert_eq!(cr.published.to_rfc3339(), "2024-05-24T10:15:00+03:00");

    let long = article(&ingested, "long-title.txt");
    assert_eq!(long.title.chars().count(), 2000);
    assert!(long.summary.ends_with('…'));
}

#[test]
fn nested_article_has_a_path_id() {
    let ingested = hostile();
    let nested = article(&ingested, "sub/dir/nested.txt");
    assert_eq!(
        nested.id,
        ArticleId::Urn(ingest::path_urn("sub/dir/nested.txt"))
    );
    assert!(!nested.id.is_permalink());
}

#[test]
fn duplicate_canonical_url_first_by_path_wins_with_a_warning() {
    let ingested = hostile();
    let dup: Vec<&Article> = ingested
        .articles
        .iter()
        .filter(|a| a.url.as_deref() == Some("https://example.org/hostile/duplicate"))
        .collect();
    assert_eq!(dup.len(), 1);
    assert_eq!(dup[0].source, "dup-a.txt");
    let warning = ingested
        .diagnostics
        .iter()
        .find(|d| d.path == "tests/fixtures/hostile/dup-b.txt")
        .expect("a warning for the loser");
    assert_eq!(warning.severity, Severity::Warning);
    assert!(
        warning.message.contains("tests/fixtures/hostile/dup-a.txt"),
        "{}",
        warning.message
    );
}

#[test]
fn ids_are_unique_and_output_is_sorted_and_repeatable() {
    let first = hostile();
    let second = hostile();
    assert_eq!(first.articles, second.articles);
    assert_eq!(first.diagnostics, second.diagnostics);
    let mut ids: Vec<&str> = first.articles.iter().map(|a| a.id.as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), first.articles.len());
    assert!(first.articles.windows(2).all(|w| w[0].source < w[1].source));
    assert!(first
        .diagnostics
        .windows(2)
        .all(|w| (&w[0].path, w[0].line) <= (&w[1].path, w[1].line)));
}

#[test]
fn hidden_and_other_files_are_ignored() {
    let dir = tempfile::tempdir().unwrap();
    let seed = "Title\n\nMay 24, 2024\n\nBody.\n";
    fs::write(dir.path().join("a.txt"), seed).unwrap();
    fs::write(dir.path().join(".a.txt.swp"), "\0binary swap").unwrap();
    fs::write(dir.path().join(".hidden.txt"), seed).unwrap();
    fs::write(dir.path().join("notes.html"), "<p>no</p>").unwrap();
    fs::write(dir.path().join("a.txt~"), seed).unwrap();
    fs::create_dir(dir.path().join(".git")).unwrap();
    fs::write(dir.path().join(".git/b.txt"), seed).unwrap();
    fs::create_dir_all(dir.path().join("z/y")).unwrap();
    fs::write(dir.path().join("z/y/c.TXT"), seed).unwrap();
    let ingested = ingest::load(dir.path(), &config_with("")).unwrap();
    let sources: Vec<&str> = ingested
        .articles
        .iter()
        .map(|a| a.source.as_str())
        .collect();
    assert_eq!(sources, ["a.txt", "z/y/c.TXT"]);
    assert!(
        ingested.diagnostics.is_empty(),
        "{:#?}",
        ingested.diagnostics
    );
}

#[test]
fn visiting_order_is_by_path_not_by_creation() {
    let dir = tempfile::tempdir().unwrap();
    let seed = |n: &str| {
        format!("Title {n}\n\nMay 24, 2024\n\nBody.\n\nOriginal url: https://example.org/same\n")
    };
    // Created in reverse order; `a-b.txt` sorts before `a/b.txt`.
    fs::create_dir(dir.path().join("a")).unwrap();
    fs::write(dir.path().join("a/b.txt"), seed("2")).unwrap();
    fs::write(dir.path().join("a-b.txt"), seed("1")).unwrap();
    let ingested = ingest::load(dir.path(), &config_with("")).unwrap();
    assert_eq!(ingested.articles.len(), 1);
    assert_eq!(ingested.articles[0].source, "a-b.txt");
    assert!(ingested.diagnostics[0].path.ends_with("/a/b.txt"));
}

#[test]
fn an_edit_keeps_the_id() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("story.txt");
    fs::write(&path, "Title\n\nMay 24, 2024\n\nBody.\n").unwrap();
    let before = ingest::load(dir.path(), &config_with("")).unwrap();
    fs::write(&path, "A new title\n\nMay 25, 2024\n\nAnother body.\n").unwrap();
    let after = ingest::load(dir.path(), &config_with("")).unwrap();
    assert_eq!(before.articles[0].id, after.articles[0].id);
    assert_ne!(before.articles[0].title, after.articles[0].title);
}

#[test]
fn many_files_parse_the_same_in_parallel() {
    // Over the threshold where load spreads files over threads.
    let dir = tempfile::tempdir().unwrap();
    for i in 0..300 {
        let body = if i % 7 == 0 {
            "Mayy 1, 2024".to_string()
        } else {
            format!("May {}, 2024", i % 28 + 1)
        };
        fs::write(
            dir.path().join(format!("{i:04}.txt")),
            format!("Title {i}\n\n{body}\n\nBody {i}.\n"),
        )
        .unwrap();
    }
    let config = config_with("");
    let ingested = ingest::load(dir.path(), &config).unwrap();
    assert_eq!(ingested.articles.len(), 300 - 43);
    assert_eq!(ingested.diagnostics.len(), 43);
    // The same as parsing one by one.
    let parser = ingest::SeedParser::new(&config);
    let mut one_by_one = Vec::new();
    for i in 0..300 {
        let relative = format!("{i:04}.txt");
        let bytes = fs::read(dir.path().join(&relative)).unwrap();
        let display = ingest::display_path(dir.path(), &relative);
        let (article, diagnostics) = parser.parse(&display, &relative, &bytes);
        one_by_one.push((display, article, diagnostics));
    }
    let serial = Ingested::from_files(one_by_one);
    assert_eq!(serial.articles, ingested.articles);
    assert_eq!(serial.diagnostics, ingested.diagnostics);
}

#[test]
fn a_missing_folder_is_an_error() {
    let err =
        ingest::load(Path::new("tests/fixtures/no-such-folder"), &config_with("")).unwrap_err();
    assert!(matches!(err, tidings::error::Error::Seeds { .. }), "{err}");
    assert!(
        err.to_string().contains("tests/fixtures/no-such-folder"),
        "{err}"
    );
}

/// A seeds folder in a temporary directory, with room beside it for what
/// must stay outside it.
fn seeds_folder() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let seeds = dir.path().join("seeds");
    fs::create_dir(&seeds).unwrap();
    (dir, seeds)
}

fn seed(title: &str) -> String {
    format!("{title}\n\nMay 24, 2024\n\nThe body of {title}.\n")
}

fn sources(ingested: &Ingested) -> Vec<&str> {
    ingested
        .articles
        .iter()
        .map(|a| a.source.as_str())
        .collect()
}

/// What the reload path publishes after the watcher names `changed`: an
/// index of `seeds` scanned at start-up, then refreshed.
fn reloaded(seeds: &Path, changed: &[PathBuf], config: &Config) -> (Vec<String>, Vec<Diagnostic>) {
    let mut index = SeedIndex::new(seeds.to_path_buf());
    index.rescan(config).unwrap();
    index.refresh(config, changed);
    let (shown, _) = index.selection(config);
    let mut published: Vec<String> = shown
        .iter()
        .map(|indexed| indexed.head().source.clone())
        .collect();
    published.sort();
    (published, index.diagnostics())
}

/// Exactly one diagnostic for each of `relatives`, and nothing else: an
/// error on line 1 that says `words`.
fn assert_only_rejected(seeds: &Path, diagnostics: &[Diagnostic], relatives: &[&str], words: &str) {
    let mut expected: Vec<String> = relatives
        .iter()
        .map(|r| ingest::display_path(seeds, r))
        .collect();
    expected.sort();
    let mut named: Vec<&str> = diagnostics.iter().map(|d| d.path.as_str()).collect();
    named.sort();
    assert_eq!(named, expected, "{diagnostics:#?}");
    for d in diagnostics {
        assert!(
            d.is_error() && d.line == 1 && d.message.contains(words),
            "{d} should be an error on line 1 that says {words}"
        );
    }
}

/// Stands ready to write an article into the FIFO at `fifo`: whatever opens
/// it to read meets this writer and gets the article, so a reader that
/// would block shows up publishing it instead of hanging the test.
fn pipe_writer(fifo: &Path) -> JoinHandle<()> {
    let fifo = fifo.to_path_buf();
    std::thread::spawn(move || {
        // Fails when the reader closes first; the test checks the outcome.
        let _ = fs::write(&fifo, seed("Read from a pipe"));
    })
}

/// Lets the writer of [`pipe_writer`] finish, whether or not anything read.
fn release(fifo: &Path, writer: JoinHandle<()>) {
    let reader = fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(fifo)
        .unwrap();
    writer.join().unwrap();
    drop(reader);
}

#[test]
fn a_fifo_named_like_a_seed_is_rejected_without_blocking() {
    let (_dir, seeds) = seeds_folder();
    fs::write(seeds.join("a.txt"), seed("Alpha")).unwrap();
    let fifo = seeds.join("pipe.txt");
    let made = Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(made.success());
    let writer = pipe_writer(&fifo);
    let config = config_with("");

    let ingested = ingest::load(&seeds, &config).unwrap();
    assert_eq!(sources(&ingested), ["a.txt"]);
    assert_only_rejected(&seeds, &ingested.diagnostics, &["pipe.txt"], "named pipe");

    let (published, diagnostics) = reloaded(&seeds, std::slice::from_ref(&fifo), &config);
    assert_eq!(published, ["a.txt"]);
    assert_only_rejected(&seeds, &diagnostics, &["pipe.txt"], "named pipe");
    release(&fifo, writer);
}

#[test]
fn a_link_to_a_file_outside_the_folder_is_rejected_without_quoting_it() {
    let (dir, seeds) = seeds_folder();
    // Beside the folder, under a name that the folder's name begins.
    let private = dir.path().join("seeds-private");
    fs::create_dir(&private).unwrap();
    fs::write(private.join("secret.txt"), seed("Secret 7f3a")).unwrap();
    // Would be rejected quoting its date line, were it read.
    fs::write(
        private.join("broken.txt"),
        "Secret 9c1e\n\nnot a date 9c1e\n\nBody.\n",
    )
    .unwrap();
    symlink(private.join("secret.txt"), seeds.join("leak.txt")).unwrap();
    symlink("../seeds-private/broken.txt", seeds.join("broken.txt")).unwrap();
    fs::write(seeds.join("a.txt"), seed("Alpha")).unwrap();
    let config = config_with("");
    let outside = ["leak.txt", "broken.txt"];

    let ingested = ingest::load(&seeds, &config).unwrap();
    assert_eq!(sources(&ingested), ["a.txt"]);
    assert_only_rejected(
        &seeds,
        &ingested.diagnostics,
        &outside,
        "outside the seeds folder",
    );

    let changed: Vec<PathBuf> = outside.iter().map(|r| seeds.join(r)).collect();
    let (published, diagnostics) = reloaded(&seeds, &changed, &config);
    assert_eq!(published, ["a.txt"]);
    assert_only_rejected(&seeds, &diagnostics, &outside, "outside the seeds folder");

    for d in ingested.diagnostics.iter().chain(&diagnostics) {
        let shown = d.to_string();
        for secret in ["Secret", "7f3a", "9c1e", "seeds-private"] {
            assert!(!shown.contains(secret), "{shown} quotes {secret}");
        }
    }
}

#[test]
fn links_to_files_inside_the_folder_are_published() {
    let dir = tempfile::tempdir().unwrap();
    let release = dir.path().join("releases/1");
    fs::create_dir_all(release.join("world")).unwrap();
    fs::write(release.join("world/kyiv.txt"), seed("Kyiv")).unwrap();
    // The seeds folder as git-sync swaps it: a link to the current release.
    let seeds = dir.path().join("seeds");
    symlink("releases/1", &seeds).unwrap();
    symlink("world/kyiv.txt", release.join("latest.txt")).unwrap();
    symlink(
        release.join("world/kyiv.txt"),
        release.join("world/again.txt"),
    )
    .unwrap();
    symlink(seeds.join("world/kyiv.txt"), release.join("via-seeds.txt")).unwrap();
    let config = config_with("");
    let expected = [
        "latest.txt",
        "via-seeds.txt",
        "world/again.txt",
        "world/kyiv.txt",
    ];

    let ingested = ingest::load(&seeds, &config).unwrap();
    assert_eq!(sources(&ingested), expected);
    assert!(
        ingested.diagnostics.is_empty(),
        "{:#?}",
        ingested.diagnostics
    );

    let changed = [seeds.join("latest.txt"), seeds.join("world/again.txt")];
    let (published, diagnostics) = reloaded(&seeds, &changed, &config);
    assert_eq!(published, expected);
    assert!(diagnostics.is_empty(), "{diagnostics:#?}");
}

#[test]
fn linked_folders_are_never_followed() {
    let (dir, seeds) = seeds_folder();
    fs::create_dir(seeds.join("world")).unwrap();
    fs::write(seeds.join("world/kyiv.txt"), seed("Kyiv")).unwrap();
    let elsewhere = dir.path().join("elsewhere");
    fs::create_dir(&elsewhere).unwrap();
    fs::write(elsewhere.join("b.txt"), seed("Elsewhere")).unwrap();
    symlink("world", seeds.join("alias")).unwrap();
    symlink(&elsewhere, seeds.join("linked")).unwrap();
    symlink(".", seeds.join("loop.txt")).unwrap();
    let config = config_with("");

    let ingested = ingest::load(&seeds, &config).unwrap();
    assert_eq!(sources(&ingested), ["world/kyiv.txt"]);
    assert!(
        ingested.diagnostics.is_empty(),
        "{:#?}",
        ingested.diagnostics
    );
    for under in ["alias/", "linked/", "loop.txt/", "loop.txt/world/"] {
        let (files, diagnostics) = ingest::list(&seeds, under).unwrap();
        assert!(
            files.is_empty() && diagnostics.is_empty(),
            "{under}: {files:?}"
        );
    }

    // What a watcher that follows links reports.
    let changed: Vec<PathBuf> = [
        "alias",
        "alias/kyiv.txt",
        "linked",
        "linked/b.txt",
        "loop.txt",
        "loop.txt/world/kyiv.txt",
    ]
    .iter()
    .map(|r| seeds.join(r))
    .collect();
    let (published, diagnostics) = reloaded(&seeds, &changed, &config);
    assert_eq!(published, ["world/kyiv.txt"]);
    assert!(diagnostics.is_empty(), "{diagnostics:#?}");
}

#[test]
fn the_walk_lists_seeds_in_path_order_whatever_the_creation_order() {
    let (_dir, seeds) = seeds_folder();
    let mut expected: Vec<String> = [
        "10.txt", "9.txt", "A.TXT", "a-b.txt", "a.txt", "a/a.txt", "a/b/c.md", "a/z.md", "b.txt",
        "z/a.txt", "ä.txt",
    ]
    .map(String::from)
    .into();
    expected.extend((0..40).map(|i| format!("many/{i:02}.txt")));
    expected.sort_unstable();
    // Created in a scrambled order, so no file system lists them sorted.
    let mut created = expected.clone();
    let count = created.len();
    for i in 0..count {
        created.swap(i, (i * 7 + 3) % count);
    }
    for relative in &created {
        let path = seeds.join(relative);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, seed("T")).unwrap();
    }

    let (files, diagnostics) = ingest::list(&seeds, "").unwrap();
    assert!(diagnostics.is_empty(), "{diagnostics:#?}");
    let listed: Vec<&str> = files.iter().map(|f| f.relative.as_str()).collect();
    assert_eq!(listed, expected);
    assert!(files.iter().all(|f| f.full == seeds.join(&f.relative)));

    let (files, _) = ingest::list(&seeds, "a/").unwrap();
    let listed: Vec<&str> = files.iter().map(|f| f.relative.as_str()).collect();
    assert_eq!(listed, ["a/a.txt", "a/b/c.md", "a/z.md"]);
}

#[test]
fn a_socket_named_like_a_seed_is_rejected() {
    let (_dir, seeds) = seeds_folder();
    fs::write(seeds.join("a.txt"), seed("Alpha")).unwrap();
    let socket = seeds.join("socket.md");
    let _listener = std::os::unix::net::UnixListener::bind(&socket).unwrap();
    let config = config_with("");

    let ingested = ingest::load(&seeds, &config).unwrap();
    assert_eq!(sources(&ingested), ["a.txt"]);
    assert_only_rejected(&seeds, &ingested.diagnostics, &["socket.md"], "a socket");

    let (published, diagnostics) = reloaded(&seeds, &[socket], &config);
    assert_eq!(published, ["a.txt"]);
    assert_only_rejected(&seeds, &diagnostics, &["socket.md"], "a socket");
}

/// A Markdown seed of exactly 1 MiB, the default size limit: four lines of
/// front matter, `start`, then `body` repeated (and cut) to fill it, ending
/// in `x` so that the last line is neither blank nor a thematic break.
fn one_mib_markdown(start: &str, body: &str) -> Vec<u8> {
    let mut text = format!("+++\ntitle = \"Deep\"\ndate = 2024-05-24\n+++\n{start}").into_bytes();
    while text.len() < 1024 * 1024 {
        text.extend_from_slice(body.as_bytes());
    }
    text.truncate(1024 * 1024);
    *text.last_mut().unwrap() = b'x';
    text
}

/// Parses a generated Markdown seed as `seeds/deep.md`.
fn parse_markdown(bytes: &[u8]) -> (Option<Article>, Vec<Diagnostic>) {
    ingest::parse_seed("seeds/deep.md", "deep.md", bytes, &config_with(""))
}

/// The one error about a generated seed, as shown.
fn only_error(bytes: &[u8]) -> String {
    let (article, diagnostics) = parse_markdown(bytes);
    assert!(article.is_none());
    let errors: Vec<String> = diagnostics
        .iter()
        .filter(|d| d.is_error())
        .map(ToString::to_string)
        .collect();
    assert_eq!(errors.len(), 1, "{errors:#?}");
    errors.into_iter().next().unwrap()
}

// Each of these took seconds to hours in the sanitizer's HTML parser, whose
// work per element grows with the depth of the open ones; now the body is
// refused as soon as it is too deep, in one linear pass.

#[test]
fn a_mebibyte_of_nested_block_quotes_is_a_diagnostic_on_its_line() {
    let e = only_error(&one_mib_markdown("", ">"));
    assert!(
        e.starts_with("seeds/deep.md:5: the body nests more than 32 levels deep here"),
        "{e}"
    );
    // One more level per line: the line that goes too deep is named.
    let mut lines = String::new();
    for depth in 1..=40 {
        lines.push_str(&format!("{} level {depth}\n", ">".repeat(depth)));
    }
    let e = only_error(&one_mib_markdown(&lines, "x "));
    assert!(e.starts_with("seeds/deep.md:36: "), "{e}");
}

#[test]
fn a_mebibyte_of_nested_lists_is_a_diagnostic() {
    for item in ["- ", "+ ", "1. ", "* 1) "] {
        let e = only_error(&one_mib_markdown("Intro.\n\n", item));
        assert!(
            e.starts_with("seeds/deep.md:7: the body nests more than 32 levels"),
            "{item}: {e}"
        );
    }
}

#[test]
fn a_mebibyte_of_nested_emphasis_is_a_diagnostic_and_a_flat_run_renders() {
    let stars = "*".repeat(512 * 1024 - 64);
    let e = only_error(&one_mib_markdown(&format!("{stars}a{stars}"), " "));
    assert!(e.starts_with("seeds/deep.md:5: "), "{e}");

    // Emphasis side by side is not nesting, and costs linear time.
    let (article, diagnostics) = parse_markdown(&one_mib_markdown("", "*a* "));
    assert!(diagnostics.is_empty(), "{diagnostics:?}");
    let article = article.unwrap();
    assert!(article.content_html.starts_with("<p><em>a</em> <em>a</em>"));
}

#[test]
fn a_mebibyte_of_brackets_renders_and_nested_images_are_a_diagnostic() {
    // Unclosed brackets and link openers are text, in linear time.
    for run in ["[", "[a](", "]("] {
        let (article, diagnostics) = parse_markdown(&one_mib_markdown("", run));
        assert!(diagnostics.is_empty(), "{run}: {diagnostics:?}");
        let article = article.unwrap();
        assert!(article.content_html.contains(run), "{run}");
    }
    // Images nest (their text is the outer one's alt text).
    let mut opening = "![".repeat(200 * 1024);
    opening.push('a');
    let e = only_error(&one_mib_markdown(&opening, "](https://example.org/i.png)"));
    assert!(
        e.starts_with("seeds/deep.md:5: the body nests more than 32 levels"),
        "{e}"
    );
}

#[test]
fn a_mebibyte_of_nested_raw_html_is_a_diagnostic() {
    for (start, run) in [
        ("", "<div>"),
        ("Text ", "<span>"),
        ("Text ", "<b><i>"),
        ("", "<table><tr><td>"),
    ] {
        let e = only_error(&one_mib_markdown(start, run));
        assert!(
            e.starts_with("seeds/deep.md:5: the body nests more than 32 levels"),
            "{run}: {e}"
        );
    }
    // A `<div>` left open on each line: the 33rd is one too many.
    let e = only_error(&one_mib_markdown("", "<div><p>x</p>\n"));
    assert!(e.starts_with("seeds/deep.md:37: "), "{e}");
    // Closing every element on the same line does not hide the depth.
    let line = format!("{}x{}\n", "<div>".repeat(1000), "</div>".repeat(1000));
    let e = only_error(&one_mib_markdown("", &line));
    assert!(e.starts_with("seeds/deep.md:5: "), "{e}");
}

#[test]
fn ordinary_nesting_and_closed_raw_html_still_render() {
    // Well-formed raw HTML, however long, never adds up.
    let (article, diagnostics) = parse_markdown(&one_mib_markdown(
        "",
        "<div><section><span>a</span> <em>b</em></section></div>\n\n",
    ));
    assert!(diagnostics.is_empty(), "{diagnostics:?}");
    assert!(article.is_some());

    let text = "+++\ntitle = \"T\"\ndate = 2024-05-24\n+++\n\
                > quote\n> > - list *with **strong** and [a link](https://example.org/)*\n\
                > >   1. deeper `code`\n\n\
                <table><tr><td><ul><li>raw<li>items</ul></td></tr></table>\n\n\
                <script>if (a < b && c <d) {}</script>\n\n<!-- <div><div><div> -->\n\nEnd.\n";
    let (article, diagnostics) = parse_markdown(text.as_bytes());
    assert!(diagnostics.is_empty(), "{diagnostics:?}");
    let html = article.unwrap().content_html;
    assert!(html.contains("<strong>strong</strong>"), "{html}");
    assert!(html.contains("<p>End.</p>"), "{html}");
}

#[test]
fn seed_text_dated_past_the_horizon_or_in_a_leap_second_is_refused_on_its_line() {
    let config = config_with("");
    for (date, wanted) in [
        (
            "Dec 31, 9999",
            "seeds/far.txt:3: cannot read the date \"Dec 31, 9999\": the year 9999",
        ),
        (
            "2016-12-31T23:59:60Z",
            "seeds/far.txt:3: cannot read the date \"2016-12-31T23:59:60Z\": the seconds are 60",
        ),
    ] {
        let text = format!("Title\n\n{date}\n\nBody.\n");
        let (article, diagnostics) =
            ingest::parse_seed("seeds/far.txt", "far.txt", text.as_bytes(), &config);
        assert!(article.is_none(), "{date}");
        assert_eq!(diagnostics.len(), 1, "{diagnostics:?}");
        let shown = diagnostics[0].to_string();
        assert!(shown.starts_with(wanted), "{shown}");
    }
}

/// Every unclosed `[x](` in seed text used to scan to the end of its
/// paragraph for a `)`: 100 KB of them took over a minute. Links are now
/// balanced in one pass, so a mebibyte of them is read in linear time, and
/// the one real link among them is still a link.
#[test]
fn a_mebibyte_of_unclosed_links_in_seed_text_is_read_as_text() {
    let mut text = String::from("Many brackets\n\n2024-05-24\n\n");
    text.push_str("Read [the report](https://example.org/report) first. ");
    while text.len() < 1024 * 1024 - 200 {
        text.push_str("[a](");
    }
    text.push_str("\n\nRelated article: [more](https://example.org/more) [b](\n");
    let (article, diagnostics) = ingest::parse_seed(
        "seeds/links.txt",
        "links.txt",
        text.as_bytes(),
        &config_with(""),
    );
    let article = article.unwrap_or_else(|| panic!("{diagnostics:#?}"));
    assert!(
        article
            .content_html
            .contains("<a href=\"https://example.org/report\""),
        "{}",
        &article.content_html[..200]
    );
    // The link of the body and the related one, which the content lists.
    assert_eq!(article.content_html.matches("<a href").count(), 2);
    assert_eq!(
        article.related[0].url.as_deref(),
        Some("https://example.org/more"),
        "{:?}",
        article.related
    );
}

/// The sanitizer's serializer searches to the end of a run of text for each
/// `&` and Latin-1 sign in it: a mebibyte-long paragraph of them would take
/// minutes. It is a diagnostic instead, while an article of ordinary
/// paragraphs full of them renders.
#[test]
fn a_mebibyte_paragraph_of_ampersands_is_a_diagnostic() {
    for body in ["&amp; ", "R&D ", "© « » "] {
        // Whole repetitions, under the size limit: no character is cut.
        let mut text = String::from("+++\ntitle = \"Signs\"\ndate = 2024-05-24\n+++\n");
        text.push_str(&body.repeat((1024 * 1024 - 100) / body.len()));
        let error = only_error(text.as_bytes());
        assert!(
            error.starts_with("seeds/deep.md:") && error.contains("split the long paragraphs"),
            "{body}: {error}"
        );
    }
    let ordinary = "Tom & Jerry © 2024 « R&D » at AT&T, again & again.\n\n".repeat(5_000);
    let (article, diagnostics) = parse_markdown(&one_mib_markdown("", &ordinary[..ordinary.len()]));
    let article = article.unwrap_or_else(|| panic!("{diagnostics:#?}"));
    assert!(article.content_html.contains("Tom &amp; Jerry © 2024"));
}
