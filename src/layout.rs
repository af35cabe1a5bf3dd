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

/// `/feeds/{slug}.{ext}`
pub fn feed_path(slug: &str, format: Format) -> String {
    format!("/feeds/{slug}.{}", format.extension())
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
    }
}
