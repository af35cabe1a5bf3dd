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
