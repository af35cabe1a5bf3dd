//! An article's lead image as every document describes it: where it is,
//! what type of file it is, and its caption apart from its credit.
//!
//! The formats each say the same few things in their own words (Media RSS
//! in RSS and Atom, an enclosure link in Atom, `image` in JSON Feed,
//! `<figure>` and `og:image` in pages), so the reading of the article's
//! fields is done once here.
//!
//! - The media type comes from the extension of the URL's path (`jpg`,
//!   `jpeg`, `png`, `gif`, `webp`, `avif`, `svg`, in any case); any other
//!   leaves the type out rather than guess it.
//! - The caption line (seed text) or front-matter `caption` holds a caption
//!   and often a credit (`Vladimir Putin with military officers.
//!   kremlin.ru`). A credit is split off only when it is unmistakable: the
//!   part after the last ` | `, or the part after the last `. ` when it is a
//!   host name (`kremlin.ru`) or starts with `©`, `Photo`, `Credit` or
//!   `Source`. Otherwise the whole line is the caption and there is no
//!   credit: a misread credit would put words in a photographer's mouth.
//! - The size of the file is never known (the image is a URL, read by no
//!   one at render time), so nothing that needs it is written.

use crate::model::Article;

/// The Media RSS namespace, used in RSS and Atom alike.
pub const MEDIA_RSS: &str = "http://search.yahoo.com/mrss/";

/// The lead image of one article.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LeadImage<'a> {
    /// Absolute http(s) URL.
    pub url: &'a str,
    /// `image/jpeg` and the like, when the extension says.
    pub media_type: Option<&'static str>,
    /// What the image shows, without the credit.
    pub caption: Option<&'a str>,
    /// Who made or supplied it.
    pub credit: Option<&'a str>,
}

impl<'a> LeadImage<'a> {
    /// The article's image, if it has one.
    pub fn of(article: &'a Article) -> Option<Self> {
        let url = article.image.as_deref()?;
        let (caption, credit) = match article.caption.as_deref() {
            Some(line) => split_credit(line),
            None => (None, None),
        };
        Some(Self {
            url,
            media_type: media_type(url),
            caption,
            credit,
        })
    }
}

impl LeadImage<'_> {
    /// The Media RSS elements that describe the image, in RSS and Atom
    /// alike: `media:content` with the caption and credit inside, then
    /// `media:thumbnail`, which is where most readers take a list's
    /// picture from.
    pub fn media_rss(&self) -> [MediaElement<'_>; 2] {
        let mut attrs = vec![("url", self.url), ("medium", "image")];
        attrs.extend(self.media_type.map(|t| ("type", t)));
        let children = [("description", self.caption), ("credit", self.credit)]
            .into_iter()
            .filter_map(|(name, text)| {
                Some(MediaElement {
                    name,
                    attrs: Vec::new(),
                    text: Some(text?),
                    children: Vec::new(),
                })
            })
            .collect();
        [
            MediaElement {
                name: "content",
                attrs,
                text: None,
                children,
            },
            MediaElement {
                name: "thumbnail",
                attrs: vec![("url", self.url)],
                text: None,
                children: Vec::new(),
            },
        ]
    }
}

/// One element of the Media RSS namespace, for a feed crate's extension
/// type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaElement<'a> {
    /// The local name (`content`); the prefix is `media`.
    pub name: &'static str,
    /// Attributes in the order written, values unescaped.
    pub attrs: Vec<(&'static str, &'a str)>,
    pub text: Option<&'a str>,
    pub children: Vec<MediaElement<'a>>,
}

/// The media type of an image by the extension of its URL's path.
pub fn media_type(url: &str) -> Option<&'static str> {
    let path = url.split(['?', '#']).next().unwrap_or(url);
    let name = path.rsplit('/').next().unwrap_or(path);
    let (_, extension) = name.rsplit_once('.')?;
    Some(match extension.to_ascii_lowercase().as_str() {
        "jpg" | "jpeg" => "image/jpeg",
        "png" => "image/png",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "avif" => "image/avif",
        "svg" => "image/svg+xml",
        _ => return None,
    })
}

/// A caption line as (caption, credit); see the module docs for the rule.
fn split_credit(line: &str) -> (Option<&str>, Option<&str>) {
    let line = line.trim();
    let split = match line.rsplit_once(" | ") {
        Some((caption, credit)) => Some((caption, credit)),
        None => line
            .rsplit_once(". ")
            .filter(|(_, credit)| looks_like_credit(credit))
            .map(|(caption, credit)| (&line[..caption.len() + 1], credit)),
    };
    match split {
        Some((caption, credit)) if !credit.trim().is_empty() => {
            let caption = caption.trim();
            (
                (!caption.is_empty()).then_some(caption),
                Some(credit.trim()),
            )
        }
        _ => ((!line.is_empty()).then_some(line), None),
    }
}

/// Whether the last sentence of a caption line is a credit: a host name, or
/// text that says it is one.
fn looks_like_credit(text: &str) -> bool {
    let text = text.trim();
    let host = text.contains('.')
        && !text.starts_with('.')
        && !text.ends_with('.')
        && text
            .chars()
            .all(|c| c.is_alphanumeric() || c == '.' || c == '-');
    let lower = text.to_lowercase();
    host || ["©", "photo", "credit", "source"]
        .iter()
        .any(|word| lower.starts_with(word))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn media_types_by_extension_whatever_the_query() {
        for (url, expected) in [
            ("https://x.org/a.jpg", Some("image/jpeg")),
            ("https://x.org/a.JPEG?w=10", Some("image/jpeg")),
            ("https://x.org/p/a.png#top", Some("image/png")),
            ("https://x.org/a.gif", Some("image/gif")),
            ("https://x.org/a.webp", Some("image/webp")),
            ("https://x.org/a.avif", Some("image/avif")),
            ("https://x.org/a.svg", Some("image/svg+xml")),
            ("https://x.org/a.tiff", None),
            ("https://x.org/photo", None),
            ("https://x.org/dir.jpg/photo", None),
            ("https://x.org/photo?format=.png", None),
        ] {
            assert_eq!(media_type(url), expected, "{url}");
        }
    }

    #[test]
    fn credits_are_split_off_only_when_unmistakable() {
        for (line, caption, credit) in [
            (
                "Vladimir Putin with military officers. kremlin.ru",
                Some("Vladimir Putin with military officers."),
                Some("kremlin.ru"),
            ),
            (
                "Ships in Odesa | Reuters",
                Some("Ships in Odesa"),
                Some("Reuters"),
            ),
            (
                "Kyiv at night. Photo: Jane Doe",
                Some("Kyiv at night."),
                Some("Photo: Jane Doe"),
            ),
            ("Grain ships. © AP", Some("Grain ships."), Some("© AP")),
            (
                "Kyiv, Ukraine. May 2024",
                Some("Kyiv, Ukraine. May 2024"),
                None,
            ),
            (
                "A caption with no credit",
                Some("A caption with no credit"),
                None,
            ),
            ("Dr. Smith in his lab", Some("Dr. Smith in his lab"), None),
            ("kremlin.ru", Some("kremlin.ru"), None),
            ("| Reuters", Some("| Reuters"), None),
        ] {
            assert_eq!(split_credit(line), (caption, credit), "{line}");
        }
    }

    #[test]
    fn only_an_article_with_an_image_has_one() {
        let (_, mut articles) = super::super::tests::fixture();
        let article = &mut articles[0];
        assert_eq!(LeadImage::of(article), None);
        article.image = Some("https://news.example.org/img/port.webp".into());
        article.caption = Some("The port. reuters.com".into());
        assert_eq!(
            LeadImage::of(article),
            Some(LeadImage {
                url: "https://news.example.org/img/port.webp",
                media_type: Some("image/webp"),
                caption: Some("The port."),
                credit: Some("reuters.com"),
            })
        );
    }
}
