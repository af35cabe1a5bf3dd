//! The page of one article, `/articles/{slug}/`.
//!
//! An article without a canonical URL would otherwise lead nowhere: its
//! page is where its feed entries link, so readers can open and share it.
//! For an article with one, the page is still there (its topics, its
//! image, the full text) but says, through `<link rel="canonical">`, that
//! the original is the one to index and share.
//!
//! The page has the head and style of the other pages (`html.rs`) and
//! adds what sharing and search engines read: Open Graph (`og:*`,
//! `article:*`) and a schema.org `NewsArticle` in JSON-LD. Choices:
//!
//! - Every text goes through `escape`; the JSON-LD is written by serde_json
//!   and every `<`, `>` and `&` in it is written `\u003c`, `\u003e`,
//!   `\u0026`, so no title can close the script element or open a comment
//!   in it, and the JSON still reads the same.
//! - The article's authors are `Person`s; when it names none, the site's
//!   author stands in as an `Organization` (usually the newsroom).
//! - The page advertises the feeds the article is in, `all` first.
//! - The body is the sanitized `content_html`, which for seed text already
//!   holds the caption and the related links that have a URL. Related
//!   links the body does not hold (placeholders) are listed after it by
//!   their titles, as reading a person can still look up.
//! - The image, when there is one, is a `<figure>` above the body, its
//!   `alt` the caption without the credit (empty when there is none, so
//!   screen readers skip a picture nobody described).

use std::fmt::Write;

use serde_json::json;

use super::html::{self, Advertised};
use super::image::LeadImage;
use super::Category;
use crate::config::{Site, ALL_SLUG};
use crate::layout;
use crate::model::Article;
use crate::xml::escape;

/// The page of `article`, which is in the topics `categories` (config
/// order, not `all`).
pub fn render_article_page(site: &Site, article: &Article, categories: &[Category]) -> String {
    let page = super::article_page_url(site, article);
    let canonical = article.url.as_deref().unwrap_or(&page);
    let image = LeadImage::of(article);
    let topic_titles: Vec<String> = categories
        .iter()
        .map(|c| format!("{} – {}", c.title, site.title))
        .collect();
    let mut advertised = vec![Advertised {
        slug: ALL_SLUG,
        title: &site.title,
    }];
    advertised.extend(
        categories
            .iter()
            .zip(&topic_titles)
            .map(|(c, title)| Advertised {
                slug: c.slug,
                title,
            }),
    );

    let mut out = String::with_capacity(4096 + article.content_html.len());
    html::page_head(
        &mut out,
        site,
        &format!("{} – {}", article.title, site.title),
        &article.summary,
        canonical,
        &advertised,
        &sharing(site, article, canonical, image.as_ref(), categories),
    );

    html::header_linking_home(&mut out, site);
    let _ = writeln!(out, "<h1 dir=\"auto\">{}</h1>", escape(&article.title));
    byline(&mut out, site, article, categories);
    if let Some(url) = &article.url {
        let _ = writeln!(
            out,
            "<p class=\"meta\">Originally published at <a href=\"{0}\">{0}</a></p>",
            escape(url)
        );
    }
    out.push_str("</header>\n<main>\n<article>\n");
    if let Some(image) = image {
        figure(&mut out, image);
    }
    let _ = writeln!(
        out,
        "<div dir=\"auto\">\n{}\n</div>",
        article.content_html.trim_end()
    );
    related(&mut out, article);
    out.push_str("</article>\n</main>\n");
    html::close(&mut out);
    out
}

/// The date(s), authors and topics under the title.
fn byline(out: &mut String, site: &Site, article: &Article, categories: &[Category]) {
    let _ = write!(
        out,
        "<p class=\"meta\"><time datetime=\"{}\">{}</time>",
        article.published.to_rfc3339(),
        article.published.format("%-d %B %Y")
    );
    if article.updated != article.published {
        let _ = write!(
            out,
            ", updated <time datetime=\"{}\">{}</time>",
            article.updated.to_rfc3339(),
            article.updated.format("%-d %B %Y")
        );
    }
    let authors: Vec<&str> = if article.authors.is_empty() {
        vec![site.author.as_str()]
    } else {
        article.authors.iter().map(String::as_str).collect()
    };
    out.push_str(" · By ");
    for (i, author) in authors.iter().enumerate() {
        let joint = match i {
            0 => "",
            _ if i + 1 == authors.len() => " and ",
            _ => ", ",
        };
        let _ = write!(out, "{joint}<span dir=\"auto\">{}</span>", escape(author));
    }
    for (i, category) in categories.iter().enumerate() {
        let _ = write!(
            out,
            "{}<a href=\"{}\">{}</a>",
            if i == 0 { " · In " } else { ", " },
            escape(&layout::absolute(
                &site.base_url,
                &layout::topic_page_path(category.slug)
            )),
            escape(category.title)
        );
    }
    out.push_str("</p>\n");
}

fn figure(out: &mut String, image: LeadImage<'_>) {
    let _ = write!(
        out,
        "<figure>\n<img src=\"{}\" alt=\"{}\">\n",
        escape(image.url),
        escape(image.caption.unwrap_or(""))
    );
    if image.caption.is_some() || image.credit.is_some() {
        out.push_str("<figcaption dir=\"auto\">");
        if let Some(caption) = image.caption {
            out.push_str(&escape(caption));
        }
        if let Some(credit) = image.credit {
            let space = if image.caption.is_some() { " " } else { "" };
            let _ = write!(out, "{space}<small>{}</small>", escape(credit));
        }
        out.push_str("</figcaption>\n");
    }
    out.push_str("</figure>\n");
}

/// Related links the body does not already hold.
fn related(out: &mut String, article: &Article) {
    let missing: Vec<_> = article
        .related
        .iter()
        .filter(|link| match &link.url {
            Some(url) => !article
                .content_html
                .contains(&format!("href=\"{}\"", escape(url))),
            None => true,
        })
        .collect();
    if missing.is_empty() {
        return;
    }
    out.push_str(
        "<aside aria-labelledby=\"related\">\n<h2 id=\"related\">Related reading</h2>\n<ul>\n",
    );
    for link in missing {
        let text = escape(&link.text);
        match &link.url {
            Some(url) => {
                let _ = writeln!(
                    out,
                    "<li dir=\"auto\"><a href=\"{}\">{text}</a></li>",
                    escape(url)
                );
            }
            None => {
                let _ = writeln!(out, "<li dir=\"auto\"><cite>{text}</cite></li>");
            }
        }
    }
    out.push_str("</ul>\n</aside>\n");
}

/// Open Graph and JSON-LD, for the end of the head.
fn sharing(
    site: &Site,
    article: &Article,
    canonical: &str,
    image: Option<&LeadImage<'_>>,
    categories: &[Category],
) -> String {
    let mut out = String::with_capacity(2048);
    let mut meta = |property: &str, content: &str| {
        let _ = writeln!(
            out,
            "<meta property=\"{property}\" content=\"{}\">",
            escape(content)
        );
    };
    meta("og:type", "article");
    meta("og:title", &article.title);
    meta("og:url", canonical);
    if !article.summary.is_empty() {
        meta("og:description", &article.summary);
    }
    if let Some(image) = image {
        meta("og:image", image.url);
        if let Some(media_type) = image.media_type {
            meta("og:image:type", media_type);
        }
        if let Some(caption) = image.caption {
            meta("og:image:alt", caption);
        }
    }
    meta("og:site_name", &site.title);
    meta("article:published_time", &article.published.to_rfc3339());
    meta("article:modified_time", &article.updated.to_rfc3339());
    for category in categories {
        meta("article:tag", category.title);
    }

    let authors: Vec<serde_json::Value> = if article.authors.is_empty() {
        vec![json!({ "@type": "Organization", "name": site.author })]
    } else {
        article
            .authors
            .iter()
            .map(|name| json!({ "@type": "Person", "name": name }))
            .collect()
    };
    let mut ld = json!({
        "@context": "https://schema.org",
        "@type": "NewsArticle",
        "headline": article.title,
        "datePublished": article.published.to_rfc3339(),
        "dateModified": article.updated.to_rfc3339(),
        "author": authors,
        "mainEntityOfPage": { "@type": "WebPage", "@id": canonical },
        "publisher": { "@type": "Organization", "name": site.title },
        "inLanguage": site.language,
    });
    if !article.summary.is_empty() {
        ld["description"] = json!(article.summary);
    }
    if let Some(image) = image {
        ld["image"] = json!([image.url]);
    }
    if !categories.is_empty() {
        ld["articleSection"] = json!(categories.iter().map(|c| c.title).collect::<Vec<_>>());
    }
    let text = serde_json::to_string(&ld).expect("JSON values serialize");
    let _ = writeln!(
        out,
        "<script type=\"application/ld+json\">{}</script>",
        script_safe(&text)
    );
    out
}

/// JSON with `<`, `>` and `&` as `\u` escapes: the same JSON, and no way to
/// end the script element (`</script>`) or open a comment (`<!--`) in it.
/// The three only ever appear inside JSON strings, where the escape means
/// the same character.
fn script_safe(json: &str) -> String {
    json.replace('&', "\\u0026")
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn script_safe_json_reads_back_the_same() {
        let value = json!({ "headline": "</script><script>alert(1)</script> <!-- & -->" });
        let text = script_safe(&serde_json::to_string(&value).unwrap());
        assert!(!text.contains('<') && !text.contains('>') && !text.contains('&'));
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(&text).unwrap(),
            value
        );
    }
}
