//! A feed's history (RFC 5005 §4): which entries the subscription
//! document holds and which each archive document holds.
//!
//! The subscription document (`/feeds/{slug}.atom`) holds the newest
//! `max_entries` entries. Every older entry is in exactly one archive
//! document, and archive documents are numbered from the oldest: page 1
//! holds the oldest `per_page` entries, page 2 the next, and so on, so the
//! newest page is the only one that is not full.
//!
//! Counting from the oldest is what keeps pages stable. A new article
//! pushes the subscription document's oldest entry into the newest page and
//! changes nothing else, and an edit changes only the pages that hold the
//! article. Paging by month was the other candidate: it keeps pages stable
//! when an old article is added or deleted too, but a month can hold a
//! handful of entries or tens of thousands, and a page of ten thousand full
//! entries is tens of megabytes that no reader wants in one response.
//! Counting gives every page the same bounded size; the price is that an
//! article added or deleted among old ones shifts the pages newer than it.
//!
//! When the newest page fills up, the next one exists at once, empty:
//! so a full page's links (`next-archive` included) are final the moment
//! it fills, and its bytes and validators never change again unless one of
//! its own articles does. The subscription document always links
//! `prev-archive` to the newest page.

use std::ops::Range;

/// The paging of one feed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Paging {
    /// Articles in the feed.
    pub total: usize,
    /// Entries of the subscription document (`max_entries`).
    pub current: usize,
    /// Entries of a full archive page.
    pub per_page: usize,
}

impl Paging {
    /// The paging of a feed of `total` articles, with archive pages as
    /// long as the subscription document.
    pub fn new(total: usize, max_entries: usize) -> Self {
        Self {
            total,
            current: max_entries,
            per_page: max_entries.max(1),
        }
    }

    /// Archive pages, numbered `1..=pages()`; 0 when the subscription
    /// document holds every article.
    pub fn pages(&self) -> usize {
        match self.total.checked_sub(self.current) {
            None | Some(0) => 0,
            Some(archived) => archived / self.per_page + 1,
        }
    }

    /// The entries of page `number` (1 is the oldest), as positions in the
    /// feed's newest-first order; `None` when there is no such page.
    pub fn page(&self, number: usize) -> Option<Range<usize>> {
        if number == 0 || number > self.pages() {
            return None;
        }
        // Page `number` holds the entries `(number-1)*per_page` up to
        // `number*per_page` counted from the oldest (position total-1).
        let end = self.total - (number - 1) * self.per_page;
        let start = self
            .total
            .saturating_sub(number * self.per_page)
            .max(self.current);
        Some(start..end)
    }

    /// Whether page `number` is full, so its entries stay as they are
    /// while articles are only added at the new end.
    pub fn is_closed(&self, number: usize) -> bool {
        number < self.pages()
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::Paging;

    #[test]
    fn a_feed_within_max_entries_has_no_archive() {
        assert_eq!(Paging::new(0, 50).pages(), 0);
        assert_eq!(Paging::new(50, 50).pages(), 0);
        assert_eq!(Paging::new(51, 50).pages(), 1);
        assert_eq!(Paging::new(51, 50).page(1), Some(50..51));
    }

    #[test]
    fn a_full_newest_page_is_followed_by_an_empty_one() {
        let paging = Paging::new(150, 50);
        assert_eq!(paging.pages(), 3);
        assert_eq!(paging.page(1), Some(100..150));
        assert_eq!(paging.page(2), Some(50..100));
        assert_eq!(paging.page(3), Some(50..50));
        assert!(paging.is_closed(2));
        assert!(!paging.is_closed(3));
        assert_eq!(paging.page(4), None);
        assert_eq!(paging.page(0), None);
    }

    proptest! {
        /// Pages cover every archived entry exactly once, oldest first,
        /// each full but the newest.
        #[test]
        fn pages_cover_the_archive_once(total in 0usize..2000, current in 1usize..60) {
            let paging = Paging::new(total, current);
            let mut next = total;
            for number in 1..=paging.pages() {
                let page = paging.page(number).unwrap();
                prop_assert_eq!(page.end, next);
                if paging.is_closed(number) {
                    prop_assert_eq!(page.len(), paging.per_page);
                } else {
                    prop_assert!(page.len() < paging.per_page);
                }
                next = page.start;
            }
            prop_assert_eq!(next, total.min(current));
        }

        /// One more article changes the entries of the newest page only,
        /// or opens a new one: closed pages keep theirs.
        #[test]
        fn a_new_article_leaves_closed_pages_alone(total in 0usize..2000, current in 1usize..60) {
            let before = Paging::new(total, current);
            let after = Paging::new(total + 1, current);
            for number in 1..=before.pages() {
                if before.is_closed(number) {
                    let shift = |range: std::ops::Range<usize>| range.start + 1..range.end + 1;
                    prop_assert_eq!(after.page(number), before.page(number).map(shift));
                }
            }
            prop_assert!(after.pages() <= before.pages() + 1);
        }
    }
}
