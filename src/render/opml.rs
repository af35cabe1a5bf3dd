//! Placeholder until the OPML renderer lands.

use super::SiteView;

pub fn render_opml(_site: &SiteView<'_>) -> String {
    unimplemented!("opml")
}
