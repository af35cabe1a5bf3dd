//! Work spread over the machine's cores, the two ways tidings needs.
//!
//! Seed files are many and alike, so they go in equal shares, one per core,
//! in order. Documents are few and unequal (a feed of 50 full entries next
//! to the OPML list), so each goes to whichever core is free next.

use std::sync::atomic::{AtomicUsize, Ordering};

/// `items.iter().map(work).collect()`, with the items split in one run per
/// core; the order is kept.
pub(crate) fn in_shares<T: Sync, R: Send>(items: &[T], work: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let threads = cores();
    // Small batches are not worth a thread.
    let chunk = items.len().div_ceil(threads).max(64);
    if items.len() <= chunk {
        return items.iter().map(work).collect();
    }
    let work = &work;
    std::thread::scope(|scope| {
        let workers: Vec<_> = items
            .chunks(chunk)
            .map(|part| scope.spawn(move || part.iter().map(work).collect::<Vec<_>>()))
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().expect("work on a core panicked"))
            .collect()
    })
}

/// `work` on every item, each taken by whichever core is free; the results
/// come in no particular order.
pub(crate) fn as_free<T: Sync, R: Send>(items: &[T], work: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let next = AtomicUsize::new(0);
    let take = || {
        let mut done = Vec::new();
        while let Some(item) = items.get(next.fetch_add(1, Ordering::Relaxed)) {
            done.push(work(item));
        }
        done
    };
    std::thread::scope(|scope| {
        let helpers: Vec<_> = (1..cores()).map(|_| scope.spawn(take)).collect();
        let mut done = take();
        for helper in helpers {
            done.extend(helper.join().expect("work on a core panicked"));
        }
        done
    })
}

pub(crate) fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}
