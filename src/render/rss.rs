//! Placeholder until the rss renderer lands.

use super::FeedView;

pub fn render_rss(_feed: &FeedView<'_>) -> String {
    unimplemented!("rss renderer")
}
