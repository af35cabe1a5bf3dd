//! The HTML pages: the home page (`/`), one page per topic
//! (`/topics/{slug}/`), the history pages of older articles
//! (`/archive/{n}/`, `/topics/{slug}/archive/{n}/`), which hold the same
//! entries as the archive documents of the feeds, the page a browser gets
//! at a feed's URL, and the page of unknown paths; and the head and style
//! every page shares (the article pages of `article.rs` too).
//!
//! They exist so that a person can see what the feeds hold and so that a
//! feed reader given the site's address finds the feeds (autodiscovery
//! `<link rel="alternate">` in the head). Hand-written HTML5: every text
//! and attribute goes through [`escape`], every URL is
//! absolute, there is no script and a few lines of inline CSS.
//!
//! Choices:
//! - The home page advertises only the `all` feeds for autodiscovery (a
//!   reader offered dozens of feeds for one address tends to pick the first
//!   or ask); each topic page advertises its own three. Every feed is still
//!   linked from the home page body.
//! - Dates show in the article's own offset (`24 May 2024`) with a
//!   machine-readable `<time datetime>`; no clock is read.
//! - Titles and summaries carry `dir="auto"`, so right-to-left text lays out
//!   correctly next to left-to-right text.
//! - A feed's preview page (what a browser gets at the feed's URL) is
//!   canonically the topic page, which shows the same entries; it shows the
//!   feed's address in a read-only field to copy, since the page has no
//!   script to copy it with.
//! - Every page links the site's icon, `favicon.svg` (hand-made, in
//!   `assets/`).

// `write!` into a String cannot fail, hence the `let _ =` throughout.
use std::fmt::Write;

use super::{Entry, FeedView, Frame, Listing, Place, SiteView};
use crate::archive::Paging;
use crate::config::Site;
use crate::layout::{self, Format};
use crate::xml::escape;

const STYLE: &str = "body{font:1rem/1.5 system-ui,sans-serif;max-width:42rem;margin:0 auto;\
padding:1rem;color:#222;background:#fff}a{color:#0645ad}h1{line-height:1.2}\
article{margin:1.5rem 0}article h2,article h3{margin:0}.meta{color:#555;font-size:.9rem;margin:0}\
ul.feeds{padding-left:1.2rem}figure{margin:1rem 0}img{max-width:100%;height:auto}\
figcaption{color:#555;font-size:.9rem}input.address{width:100%;box-sizing:border-box;font:inherit;padding:.3rem}";

/// The site's icon: a feed symbol, a few hundred bytes of SVG.
pub const FAVICON: &str = include_str!("../../assets/favicon.svg");

/// The home page: every feed with its links and size, then the latest
/// articles.
pub fn render_home(site: &SiteView<'_>) -> String {
    match site.feeds.first() {
        Some(all) => Listing::Home.render(site, all),
        None => home_frame(site).head,
    }
}

/// The home page around the entries of `all`.
pub(super) fn home_frame<A>(site: &SiteView<'_, A>) -> Frame {
    let settings = site.site;
    let all = site.feeds.first();
    let mut out = String::with_capacity(4096);
    head(
        &mut out,
        settings,
        &settings.title,
        &settings.description,
        &layout::absolute(&settings.base_url, layout::HOME_PATH),
        all.into_iter(),
    );

    let _ = writeln!(out, "<header>\n<h1>{}</h1>", escape(&settings.title));
    if !settings.description.is_empty() {
        let _ = writeln!(out, "<p>{}</p>", escape(&settings.description));
    }
    out.push_str("</header>\n<main>\n<section aria-labelledby=\"feeds\">\n<h2 id=\"feeds\">Feeds</h2>\n<ul class=\"feeds\">\n");
    for feed in &site.feeds {
        let name = if feed.slug == crate::config::ALL_SLUG {
            "All articles".to_string()
        } else {
            format!(
                "<a href=\"{}\">{}</a>",
                escape(&feed.page_url()),
                escape(&feed.name)
            )
        };
        let _ = write!(out, "<li>{name} ({}): ", count(feed.total));
        feed_links(&mut out, feed);
        out.push_str("</li>\n");
    }
    let _ = writeln!(
        out,
        "</ul>\n<p><a href=\"{}\" type=\"text/x-opml\">Every feed as OPML</a>, to import into a feed reader.</p>\n</section>",
        escape(&layout::absolute(&settings.base_url, layout::OPML_PATH))
    );

    out.push_str("<section aria-labelledby=\"latest\">\n<h2 id=\"latest\">Latest articles</h2>\n");
    let mut tail = String::new();
    match all {
        Some(all) if !all.entries.is_empty() => history_links(&mut tail, all),
        _ => out.push_str("<p>No articles yet.</p>\n"),
    }
    tail.push_str("</section>\n</main>\n");
    close(&mut tail);
    Frame {
        head: out,
        separator: "",
        tail,
    }
}

/// Opens the `<header>` of every page but home: a link home, with the
/// site's title.
pub(super) fn header_linking_home(out: &mut String, settings: &Site) {
    let home = layout::absolute(&settings.base_url, layout::HOME_PATH);
    let _ = writeln!(
        out,
        "<header>\n<p><a href=\"{}\">{}</a></p>",
        escape(&home),
        escape(&settings.title),
    );
}

/// The page of one topic: its articles and its three feeds.
pub fn render_topic_page(site: &SiteView<'_>, feed: &FeedView<'_>) -> String {
    Listing::TopicPage.render(site, feed)
}

/// The page of one topic around its entries, or of one archive page of
/// any feed (the history pages: `/archive/{n}/`, `/topics/{slug}/archive/{n}/`).
pub(super) fn topic_page_frame<A>(site: &SiteView<'_, A>, feed: &FeedView<'_, A>) -> Frame {
    let settings = site.site;
    let title = match feed.place {
        Place::Current { .. } => feed.title.clone(),
        Place::Archived { number, pages } => {
            format!("{}: older articles, page {number} of {pages}", feed.title)
        }
    };
    let mut out = String::with_capacity(4096);
    head(
        &mut out,
        settings,
        &title,
        &feed.description,
        &feed.page_url(),
        std::iter::once(feed),
    );
    header_linking_home(&mut out, settings);
    match feed.place {
        Place::Current { .. } => {
            let _ = writeln!(out, "<h1>{}</h1>", escape(&feed.name));
            if !feed.description.is_empty() {
                let _ = writeln!(out, "<p>{}</p>", escape(&feed.description));
            }
            let _ = write!(out, "<p>{}. Subscribe: ", count(feed.total));
        }
        Place::Archived { number, pages } => {
            let _ = writeln!(
                out,
                "<h1><a href=\"{}\">{}</a>: older articles</h1>\n<p>Page {number} of {pages}, oldest first by page. Subscribe: ",
                escape(&feed.current_page_url()),
                escape(&feed.name)
            );
        }
    }
    feed_links(&mut out, feed);
    out.push_str("</p>\n</header>\n<main>\n");
    let mut tail = String::new();
    if feed.entries.is_empty() {
        out.push_str(match feed.place {
            Place::Current { .. } => "<p>No articles yet.</p>\n",
            Place::Archived { .. } => "<p>No articles on this page yet.</p>\n",
        });
    }
    history_links(&mut tail, feed);
    tail.push_str("</main>\n");
    close(&mut tail);
    Frame {
        head: out,
        separator: "",
        tail,
    }
}

/// After the entries: the way to older articles and, on a history page,
/// back to newer ones, so that every article is a few links from home.
/// People are not sent to the empty page that follows a full newest page
/// (see [`crate::archive`]): it exists for feed readers' links.
fn history_links<A>(out: &mut String, feed: &FeedView<'_, A>) {
    let paging = Paging::new(feed.total, feed.site.max_entries);
    let pages = paging.pages();
    let newest = if paging.page(pages).is_some_and(|page| page.is_empty()) {
        pages - 1
    } else {
        pages
    };
    let mut links = Vec::new();
    let (newer, older) = match feed.place {
        Place::Current { .. } => (None, (newest > 0).then_some(newest)),
        Place::Archived { number, .. } => (
            Some(if number < newest {
                feed.history_url(number + 1)
            } else {
                feed.current_page_url()
            }),
            (number > 1).then(|| number - 1),
        ),
    };
    if let Some(newer) = newer {
        links.push(format!(
            "<a href=\"{}\" rel=\"next\">Newer articles</a>",
            escape(&newer)
        ));
    }
    if let Some(older) = older {
        links.push(format!(
            "<a href=\"{}\" rel=\"prev\">Older articles</a>",
            escape(&feed.history_url(older))
        ));
    }
    if !links.is_empty() {
        let _ = writeln!(
            out,
            "<nav class=\"history\"><p>{}</p></nav>",
            links.join(" · ")
        );
    }
}

/// Everything up to and including `<body>`, with autodiscovery links for
/// `feeds`.
fn head<'f, 'a: 'f, A: 'a>(
    out: &mut String,
    site: &Site,
    title: &str,
    description: &str,
    canonical: &str,
    feeds: impl Iterator<Item = &'f FeedView<'a, A>>,
) {
    let advertised: Vec<Advertised<'_>> = feeds
        .map(|feed| Advertised {
            slug: feed.slug,
            title: &feed.title,
        })
        .collect();
    page_head(out, site, title, description, canonical, &advertised, "");
}

/// A feed a page advertises for autodiscovery.
pub(super) struct Advertised<'f> {
    pub slug: &'f str,
    /// The feed's title (`Ukraine – Example News`).
    pub title: &'f str,
}

/// Everything up to and including `<body>`, with autodiscovery links for
/// `feeds` and `extra` (already HTML) at the end of the head.
pub(super) fn page_head(
    out: &mut String,
    site: &Site,
    title: &str,
    description: &str,
    canonical: &str,
    feeds: &[Advertised<'_>],
    extra: &str,
) {
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"{lang}\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{title}</title>\n",
        lang = escape(&site.language),
        title = escape(title),
    );
    if !description.is_empty() {
        let _ = writeln!(
            out,
            "<meta name=\"description\" content=\"{}\">",
            escape(description)
        );
    }
    let _ = writeln!(
        out,
        "<meta name=\"generator\" content=\"tidings\">\n<link rel=\"canonical\" href=\"{}\">",
        escape(canonical)
    );
    for feed in feeds {
        for format in Format::ALL {
            let _ = writeln!(
                out,
                "<link rel=\"alternate\" type=\"{}\" title=\"{} ({})\" href=\"{}\">",
                format.media_type(),
                escape(feed.title),
                format.label(),
                escape(&layout::absolute(
                    &site.base_url,
                    &layout::feed_path(feed.slug, format)
                ))
            );
        }
    }
    out.push_str(extra);
    icon_and_style(out, site);
}

/// The icon link and the style sheet, the end of every page's head.
fn icon_and_style(out: &mut String, site: &Site) {
    let _ = writeln!(
        out,
        "<link rel=\"icon\" type=\"{}\" href=\"{}\">\n<style>{STYLE}</style>\n</head>\n<body>",
        layout::SVG_CONTENT_TYPE,
        escape(&layout::absolute(&site.base_url, layout::FAVICON_PATH))
    );
}

/// The page a browser gets at the URL of `feed` in `format`, with its
/// entries rendered on the spot.
pub fn render_feed_preview(site: &SiteView<'_>, feed: &FeedView<'_>, format: Format) -> String {
    let texts: Vec<String> = feed
        .entries
        .iter()
        .map(|entry| Listing::Home.entry(site.site, entry))
        .collect();
    feed_preview_frame(site, feed, format).assemble(texts.iter().map(String::as_str))
}

/// The preview page of `feed` in `format` around its entries, which are
/// the home page's entry texts ([`Listing::Home`]).
pub fn feed_preview_frame<A>(
    site: &SiteView<'_, A>,
    feed: &FeedView<'_, A>,
    format: Format,
) -> Frame {
    let settings = site.site;
    let mut out = String::with_capacity(4096);
    head(
        &mut out,
        settings,
        &format!("{} ({} feed)", feed.title, format.label()),
        &feed.description,
        &feed.page_url(),
        std::iter::once(feed),
    );
    header_linking_home(&mut out, settings);
    let _ = writeln!(out, "<h1>{}</h1>", escape(&feed.title));
    let _ = writeln!(
        out,
        "<p><strong>This is a feed.</strong> To subscribe, copy this address into your feed reader:</p>\n\
         <p><input class=\"address\" type=\"text\" readonly aria-label=\"Feed address\" value=\"{}\"></p>",
        escape(&feed.feed_url(format))
    );
    out.push_str("<p>The same feed in other formats: ");
    let others = Format::ALL.into_iter().filter(|other| *other != format);
    for (i, other) in others.enumerate() {
        let _ = write!(
            out,
            "{}{} <a href=\"{url}\" type=\"{}\">{url}</a>",
            if i == 0 { "" } else { " · " },
            other.label(),
            other.media_type(),
            url = escape(&feed.feed_url(other)),
        );
    }
    let page = if feed.slug == crate::config::ALL_SLUG {
        "the home page"
    } else {
        "the topic page"
    };
    let _ = writeln!(
        out,
        ".</p>\n<p>Read the articles on <a href=\"{}\">{page}</a>.</p>\n</header>\n<main>\n<h2>Latest entries</h2>",
        escape(&feed.page_url())
    );
    let mut tail = String::new();
    if feed.entries.is_empty() {
        out.push_str("<p>No articles yet.</p>\n");
    } else {
        history_links(&mut tail, feed);
    }
    tail.push_str("</main>\n");
    close(&mut tail);
    Frame {
        head: out,
        separator: "",
        tail,
    }
}

/// The page of every unknown path: short, never indexed, with a way back.
pub fn render_not_found(site: &Site) -> String {
    let home = layout::absolute(&site.base_url, layout::HOME_PATH);
    let mut out = String::with_capacity(1024);
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"{lang}\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>Not found – {title}</title>\n<meta name=\"robots\" content=\"noindex\">\n",
        lang = escape(&site.language),
        title = escape(&site.title),
    );
    icon_and_style(&mut out, site);
    let _ = writeln!(
        out,
        "<main>\n<h1>Not found</h1>\n<p>There is nothing at this address.</p>\n\
         <p><a href=\"{home}\">{title}</a> · <a href=\"{home}#feeds\">every feed</a></p>\n</main>",
        home = escape(&home),
        title = escape(&site.title),
    );
    close(&mut out);
    out
}

pub(super) fn close(out: &mut String) {
    out.push_str("</body>\n</html>\n");
}

/// `RSS · Atom · JSON Feed` links of one feed, typed so a browser or
/// extension can tell them apart.
fn feed_links<A>(out: &mut String, feed: &FeedView<'_, A>) {
    for (i, format) in Format::ALL.into_iter().enumerate() {
        let _ = write!(
            out,
            "{}<a href=\"{}\" type=\"{}\">{}</a>",
            if i == 0 { "" } else { " · " },
            escape(&feed.feed_url(format)),
            format.media_type(),
            format.label()
        );
    }
}

/// One entry, titled with a `heading` element (`h2`, `h3`) that fits under
/// the page's own headings.
pub(super) fn article(site: &Site, entry: &Entry<'_>, heading: &str) -> String {
    let mut out = String::with_capacity(512);
    let article = entry.article;
    let title = escape(&article.title);
    // The original when there is one, else the article's own page.
    let _ = write!(
        out,
        "<article>\n<{heading} dir=\"auto\"><a href=\"{}\">{title}</a>",
        escape(&super::link(site, article))
    );
    let _ = write!(
        out,
        "</{heading}>\n<p class=\"meta\"><time datetime=\"{}\">{}</time>",
        article.published.to_rfc3339(),
        article.published.format("%-d %B %Y")
    );
    for (i, category) in entry.categories.iter().enumerate() {
        let _ = write!(
            out,
            "{}<a href=\"{}\">{}</a>",
            if i == 0 { " in " } else { ", " },
            escape(&layout::absolute(
                &site.base_url,
                &layout::topic_page_path(category.slug)
            )),
            escape(category.title)
        );
    }
    out.push_str("</p>\n");
    if !article.summary.is_empty() {
        let _ = writeln!(out, "<p dir=\"auto\">{}</p>", escape(&article.summary));
    }
    out.push_str("</article>\n");
    out
}

/// `1 article`, `2 articles`.
fn count(n: usize) -> String {
    if n == 1 {
        "1 article".into()
    } else {
        format!("{n} articles")
    }
}
