//! Placeholder until the HTML renderer lands.

use super::{FeedView, SiteView};

pub fn render_home(_site: &SiteView<'_>) -> String {
    unimplemented!("home page")
}

pub fn render_topic_page(_site: &SiteView<'_>, _feed: &FeedView<'_>) -> String {
    unimplemented!("topic page")
}
