//! The URL layout shared by the HTTP server and the static build: which
//! paths exist, what they hold, and their absolute URLs under `base_url`.

use url::Url;

/// A feed format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Format {
    Rss,
    Atom,
    Json,
}

impl Format {
    pub const ALL: [Format; 3] = [Format::Rss, Format::Atom, Format::Json];

    /// File extension, also the suffix of the feed's path.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Rss => "rss",
            Format::Atom => "atom",
            Format::Json => "json",
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Format::Rss => "application/rss+xml; charset=utf-8",
            Format::Atom => "application/atom+xml; charset=utf-8",
            Format::Json => "application/feed+json; charset=utf-8",
        }
    }

    /// The MIME type without parameters, as autodiscovery links and OPML use it.
    pub fn media_type(self) -> &'static str {
        match self {
            Format::Rss => "application/rss+xml",
            Format::Atom => "application/atom+xml",
            Format::Json => "application/feed+json",
        }
    }

    /// Human name, for pages and OPML.
    pub fn label(self) -> &'static str {
        match self {
            Format::Rss => "RSS",
            Format::Atom => "Atom",
            Format::Json => "JSON Feed",
        }
    }
}

pub const HTML_CONTENT_TYPE: &str = "text/html; charset=utf-8";
pub const OPML_CONTENT_TYPE: &str = "text/x-opml; charset=utf-8";

pub const HOME_PATH: &str = "/";
pub const OPML_PATH: &str = "/feeds.opml";
/// The page of unknown paths: served with `404` for any of them, and
/// written under the name static hosts look for.
pub const NOT_FOUND_PATH: &str = "/404.html";
/// The site's icon, linked from every page.
pub const FAVICON_PATH: &str = "/favicon.svg";
/// Where browsers look for an icon by themselves: the same SVG.
pub const FAVICON_ICO_PATH: &str = "/favicon.ico";
pub const SVG_CONTENT_TYPE: &str = "image/svg+xml";

/// `/feeds/{slug}.{ext}`
pub fn feed_path(slug: &str, format: Format) -> String {
    format!("/feeds/{slug}.{}", format.extension())
}

/// `/feeds/{slug}.{ext}.html`: the page a browser gets at a feed's URL,
/// at a path of its own for the static build (which cannot negotiate).
pub fn feed_preview_path(slug: &str, format: Format) -> String {
    preview_of(&feed_path(slug, format))
}

/// The preview page of the feed at `feed_path`.
pub fn preview_of(feed_path: &str) -> String {
    format!("{feed_path}.html")
}

/// `/topics/{slug}/`
pub fn topic_page_path(slug: &str) -> String {
    format!("/topics/{slug}/")
}

/// `/feeds/{slug}/archive/{number}.{ext}`: archive document `number` (1
/// is the oldest) of a feed (see [`crate::archive`]).
pub fn archive_feed_path(slug: &str, number: usize, format: Format) -> String {
    format!("/feeds/{slug}/archive/{number}.{}", format.extension())
}

/// The HTML page of archive page `number` of a feed: `/archive/{number}/`
/// for `all`, `/topics/{slug}/archive/{number}/` for a topic.
pub fn history_page_path(slug: &str, number: usize) -> String {
    if slug == crate::config::ALL_SLUG {
        format!("/archive/{number}/")
    } else {
        format!("/topics/{slug}/archive/{number}/")
    }
}

/// A document of a feed's history, named by its path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ArchivePath<'p> {
    pub slug: &'p str,
    pub number: usize,
    /// The feed format, or `None` for the HTML page.
    pub format: Option<Format>,
}

impl<'p> ArchivePath<'p> {
    /// Reads [`archive_feed_path`] and [`history_page_path`] back; `None`
    /// for every other path. Page numbers are written without leading
    /// zeros, so each document has one path.
    pub fn parse(path: &'p str) -> Option<Self> {
        let number = |text: &str| -> Option<usize> {
            if text.starts_with('0') || !text.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            text.parse().ok()
        };
        if let Some(rest) = path.strip_prefix("/feeds/") {
            let (slug, file) = rest.split_once("/archive/")?;
            let (digits, extension) = file.split_once('.')?;
            let format = Format::ALL
                .into_iter()
                .find(|format| format.extension() == extension)?;
            return Some(Self {
                slug: valid_slug(slug)?,
                number: number(digits)?,
                format: Some(format),
            });
        }
        let page = |slug, rest: &'p str| {
            Some(Self {
                slug,
                number: number(rest.strip_suffix('/')?)?,
                format: None,
            })
        };
        if let Some(rest) = path.strip_prefix("/archive/") {
            return page(crate::config::ALL_SLUG, rest);
        }
        let (slug, rest) = path.strip_prefix("/topics/")?.split_once("/archive/")?;
        page(valid_slug(slug)?, rest)
    }
}

/// `slug` when it is made of `[a-z0-9-]`, as configured slugs are.
fn valid_slug(slug: &str) -> Option<&str> {
    let valid = !slug.is_empty()
        && slug
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    valid.then_some(slug)
}

/// `/articles/{slug}/`, the page of one article (`slug` from [`article_slug`]).
pub fn article_page_path(slug: &str) -> String {
    format!("{ARTICLES_PREFIX}{slug}/")
}

/// Where every article page is, below.
pub const ARTICLES_PREFIX: &str = "/articles/";

/// The slug of an article page's path (`/articles/{slug}/`), when `path`
/// is one: `[a-z0-9-]` segments joined by `/`, as [`article_slug`] makes.
pub fn article_page_slug(path: &str) -> Option<&str> {
    let slug = path.strip_prefix(ARTICLES_PREFIX)?.strip_suffix('/')?;
    slug.split('/')
        .all(|segment| valid_slug(segment).is_some())
        .then_some(slug)
}

/// The slug of an article's page, from its seed's path under the seeds
/// folder (`/` separators): the path without its extension, folders kept
/// as segments.
///
/// A path already made of `[a-z0-9-]` segments is used as it is
/// (`2024/putin-ready.txt` gives `2024/putin-ready`). Any other is
/// lower-cased, every run of other characters becomes `-` (none at either
/// end of a segment, and a segment left empty is dropped), and `-` plus six
/// hex digits of an XXH3 hash of the whole path is appended, so that two
/// paths that read alike (`Putin Ready.txt`, `putin_ready.txt`) get
/// different slugs: `putin-ready-` and the digits. XXH3 is a fixed
/// algorithm, so the digits never change between versions of tidings.
///
/// Only the path counts, never the content or the topics, so an edit keeps
/// the page where it is. The result is never empty and always `[a-z0-9-]+`
/// segments joined by `/`. Distinct paths can still meet on one slug:
/// `a.txt` and `a.md`, a plain path that happens to end in six hex digits,
/// or two hashed paths whose digits agree (24 bits).
pub fn article_slug(relative_path: &str) -> String {
    // The extension is the last `.` of the file name, not one that starts it.
    let name_at = relative_path.rfind('/').map_or(0, |slash| slash + 1);
    let stem = match relative_path[name_at..].rfind('.') {
        Some(dot) if dot > 0 => &relative_path[..name_at + dot],
        _ => relative_path,
    };
    let plain = |segment: &str| {
        !segment.is_empty()
            && segment
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    };
    if stem.split('/').all(plain) {
        return stem.to_string();
    }
    let mut segments: Vec<String> = stem
        .split('/')
        .map(|segment| {
            let mut out = String::with_capacity(segment.len());
            for c in segment.chars() {
                let c = c.to_ascii_lowercase();
                if c.is_ascii_lowercase() || c.is_ascii_digit() {
                    out.push(c);
                } else if !out.is_empty() && !out.ends_with('-') {
                    out.push('-');
                }
            }
            out.truncate(out.trim_end_matches('-').len());
            out
        })
        .filter(|segment| !segment.is_empty())
        .collect();
    let digits = format!(
        "{:06x}",
        xxhash_rust::xxh3::xxh3_64(relative_path.as_bytes()) & 0xff_ffff
    );
    match segments.last_mut() {
        Some(last) => {
            last.push('-');
            last.push_str(&digits);
        }
        None => segments.push(digits),
    }
    segments.join("/")
}

/// The absolute URL of a path of the layout under `base_url` (which ends in
/// `/`, so a path prefix such as `/news/` is kept).
///
/// Layout paths are plain ASCII (slugs are `[a-z0-9-]+`) and the base has no
/// query or fragment, so appending is what `Url::join` would give, without
/// parsing a URL for every link of every entry.
pub fn absolute(base_url: &Url, path: &str) -> String {
    let url = format!("{base_url}{}", path.trim_start_matches('/'));
    debug_assert_eq!(
        Some(url.as_str()),
        base_url
            .join(path.trim_start_matches('/'))
            .ok()
            .as_ref()
            .map(Url::as_str),
        "a layout path joins like a relative URL"
    );
    url
}

/// Where a document of the layout lives in a static build: directories get
/// an `index.html`.
pub fn file_path(path: &str) -> String {
    let relative = path.trim_start_matches('/');
    if relative.is_empty() || relative.ends_with('/') {
        format!("{relative}index.html")
    } else {
        relative.to_string()
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn archive_paths_read_back() {
        for format in Format::ALL {
            let path = archive_feed_path("ukraine", 12, format);
            let parsed = ArchivePath::parse(&path).unwrap();
            assert_eq!(
                (parsed.slug, parsed.number, parsed.format),
                ("ukraine", 12, Some(format))
            );
        }
        for slug in ["all", "ukraine"] {
            let path = history_page_path(slug, 3);
            let parsed = ArchivePath::parse(&path).unwrap();
            assert_eq!((parsed.slug, parsed.number, parsed.format), (slug, 3, None));
        }
        for path in [
            "/feeds/ukraine/archive/012.atom",
            "/feeds/ukraine/archive/1.xml",
            "/feeds/../archive/1.atom",
            "/archive/1",
            "/archive/x/",
            "/topics/Ukraine/archive/1/",
            "/feeds/ukraine.atom",
            "/archive/99999999999999999999999/",
        ] {
            assert_eq!(ArchivePath::parse(path), None, "{path}");
        }
    }

    #[test]
    fn absolute_urls_keep_the_base_path() {
        let base = Url::parse("https://example.org/news/").unwrap();
        assert_eq!(
            absolute(&base, &feed_path("ukraine", Format::Atom)),
            "https://example.org/news/feeds/ukraine.atom"
        );
        assert_eq!(absolute(&base, HOME_PATH), "https://example.org/news/");
    }

    #[test]
    fn directories_become_index_files() {
        assert_eq!(file_path(HOME_PATH), "index.html");
        assert_eq!(
            file_path(&topic_page_path("ukraine")),
            "topics/ukraine/index.html"
        );
        assert_eq!(file_path(OPML_PATH), "feeds.opml");
        assert_eq!(
            file_path(&article_page_path("2024/putin-ready")),
            "articles/2024/putin-ready/index.html"
        );
    }

    #[test]
    fn plain_paths_are_their_own_slugs() {
        assert_eq!(article_slug("2024/putin-ready.txt"), "2024/putin-ready");
        assert_eq!(article_slug("putin-ready.md"), "putin-ready");
        assert_eq!(article_slug("no-extension"), "no-extension");
        assert_eq!(
            article_page_path("2024/putin-ready"),
            "/articles/2024/putin-ready/"
        );
    }

    #[test]
    fn other_paths_are_cleaned_and_hashed() {
        // Pinned: the digits are part of published URLs and must never move.
        assert_eq!(article_slug("Putin Ready.txt"), "putin-ready-06dd4d");
        assert_eq!(article_slug("putin_ready.txt"), "putin-ready-bc9f59");
        assert_eq!(
            article_slug("News/  Kyiv, Today!.md"),
            "news/kyiv-today-b5e510"
        );
        assert_eq!(
            article_slug("000_ac2916338c6b5aee.txt"),
            "000-ac2916338c6b5aee-b7967f"
        );
        // Only the file name loses its extension; a dot starting it stays.
        assert_eq!(article_slug("v1.2/a.b.txt"), "v1-2/a-b-1b5015");
        assert_eq!(article_slug(".txt"), "txt-228792");
        // Nothing readable is left: the digits alone.
        assert_eq!(article_slug("Київ/日本.txt"), "ce07af");
        // XXH3-64 of no bytes is 0x2D06800538D394C2 (the reference test
        // vector), so this ties the digits to the published algorithm.
        assert_eq!(article_slug(""), "d394c2");
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn slugs_are_lowercase_segments_never_empty_and_deterministic(
            path in "([a-zA-Z0-9 ._,!-]|\\PC|/){0,40}",
        ) {
            let slug = article_slug(&path);
            prop_assert!(!slug.is_empty());
            for segment in slug.split('/') {
                prop_assert!(
                    !segment.is_empty()
                        && segment.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'),
                    "{:?} gave {:?}", path, slug
                );
            }
            prop_assert_eq!(article_slug(&path), slug);
        }

        #[test]
        fn paths_that_differ_only_in_what_cleaning_drops_get_different_slugs(
            stem in "[a-z]{1,8}", sep in "[ _.!]{1,3}", tail in "[a-z]{1,8}",
        ) {
            let a = article_slug(&format!("{stem}{sep}{tail}.txt"));
            let b = article_slug(&format!("{stem}-{tail}.txt"));
            prop_assert_ne!(a, b);
        }
    }
}
