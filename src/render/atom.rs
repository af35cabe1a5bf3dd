//! Placeholder until the atom renderer lands.

use super::FeedView;

pub fn render_atom(_feed: &FeedView<'_>) -> String {
    unimplemented!("atom renderer")
}
