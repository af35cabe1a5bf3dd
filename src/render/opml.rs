//! OPML 2.0 subscription list (`/feeds.opml`), so a reader can subscribe to
//! every topic in one import.
//!
//! Written by hand (it is a few lines), every value through
//! [`escape`]. Choices:
//!
//! - One outline per feed (`all` first, then the topics), never one per
//!   format: readers subscribe to every outline they import, and three
//!   copies of each topic would show every article three times.
//! - Each outline points at the RSS feed, `type="rss"` `version="RSS"` as
//!   the OPML spec words it, which every reader that imports OPML takes;
//!   the Atom and JSON feeds are linked from the HTML pages.
//! - The outlines sit in one folder named after the site, which readers
//!   (Feedly, Inoreader, NetNewsWire, Miniflux, FreshRSS) import as a folder
//!   or category instead of scattering the feeds among the reader's own.
//! - `dateModified` is the `all` feed's `updated` (no clock), left out when
//!   there is no article at all.

// `write!` into a String cannot fail, hence the `let _ =` throughout.
use std::fmt::Write;

use super::SiteView;
use crate::layout::Format;
use crate::xml::escape;

/// The OPML 2.0 document listing every feed of `site`.
pub fn render_opml<A>(site: &SiteView<'_, A>) -> String {
    let settings = site.site;
    let mut out = String::with_capacity(512 + 400 * site.feeds.len());
    out.push_str("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n");
    out.push_str("<opml version=\"2.0\">\n  <head>\n");
    let _ = writeln!(out, "    <title>{} feeds</title>", escape(&settings.title));
    if let Some(all) = site.feeds.first().filter(|all| !all.entries.is_empty()) {
        let _ = writeln!(
            out,
            "    <dateModified>{}</dateModified>",
            super::rss::rfc822(all.updated)
        );
    }
    let _ = writeln!(
        out,
        "    <ownerName>{}</ownerName>",
        escape(&settings.author)
    );
    out.push_str("    <docs>http://opml.org/spec2.opml</docs>\n");
    out.push_str("  </head>\n  <body>\n");
    let _ = writeln!(
        out,
        "    <outline text=\"{0}\" title=\"{0}\">",
        escape(&settings.title)
    );
    for feed in &site.feeds {
        let _ = writeln!(
            out,
            "      <outline type=\"rss\" version=\"RSS\" text=\"{title}\" title=\"{title}\" \
             description=\"{description}\" language=\"{language}\" \
             xmlUrl=\"{xml_url}\" htmlUrl=\"{html_url}\"/>",
            title = escape(&feed.title),
            description = escape(&feed.description),
            language = escape(&settings.language),
            xml_url = escape(&feed.feed_url(Format::Rss)),
            html_url = escape(&feed.page_url()),
        );
    }
    out.push_str("    </outline>\n  </body>\n</opml>\n");
    out
}
