//! Placeholder until the json renderer lands.

use super::FeedView;

pub fn render_json(_feed: &FeedView<'_>) -> String {
    unimplemented!("json renderer")
}
