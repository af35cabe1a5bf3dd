//! The stop signal every connection of `tidings serve` watches, so that
//! SIGINT and SIGTERM close idle keep-alive connections at once.
//!
//! A connection task polls its [`Stopped`] future each time it wakes, that
//! is once or twice per request. A `tokio::sync::watch` receiver costs a
//! read lock and a mutex-guarded waiter list on every such poll (about 1%
//! of the server's CPU time in the 304 benchmark); here a poll is one
//! atomic load, and the waker is registered again only when it changes.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};

/// A one-way switch from running to stopping, shared by the accept loop,
/// the connections and the shutdown deadline.
#[derive(Debug, Default)]
pub struct Stop {
    stopping: AtomicBool,
    /// The wakers of the [`Stopped`] futures that returned `Pending`, by id.
    waiting: Mutex<hashbrown::HashMap<u64, Waker>>,
    next_id: AtomicU64,
}

impl Stop {
    pub fn new() -> Arc<Self> {
        Arc::default()
    }

    /// Flips the switch and wakes every waiting `Stopped`. Idempotent.
    pub fn stop(&self) {
        self.stopping.store(true, Ordering::SeqCst);
        let waiting = std::mem::take(&mut *self.waiting());
        for waker in waiting.into_values() {
            waker.wake();
        }
    }

    /// A future that resolves once [`Stop::stop`] has been called.
    pub fn stopped(self: &Arc<Self>) -> Stopped {
        Stopped {
            stop: Arc::clone(self),
            id: self.next_id.fetch_add(1, Ordering::Relaxed),
            waker: None,
        }
    }

    fn is_stopping(&self) -> bool {
        self.stopping.load(Ordering::SeqCst)
    }

    fn waiting(&self) -> MutexGuard<'_, hashbrown::HashMap<u64, Waker>> {
        self.waiting
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// See [`Stop::stopped`].
#[derive(Debug)]
pub struct Stopped {
    stop: Arc<Stop>,
    id: u64,
    /// The waker registered in `stop.waiting`, if any.
    waker: Option<Waker>,
}

impl Future for Stopped {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.stop.is_stopping() {
            return Poll::Ready(());
        }
        if !self
            .waker
            .as_ref()
            .is_some_and(|waker| waker.will_wake(cx.waker()))
        {
            let waker = cx.waker().clone();
            self.stop.waiting().insert(self.id, waker.clone());
            self.waker = Some(waker);
            // `stop` may have run between the check above and the insert:
            // then it drained the map before this waker got in.
            if self.stop.is_stopping() {
                return Poll::Ready(());
            }
        }
        Poll::Pending
    }
}

impl Drop for Stopped {
    fn drop(&mut self) {
        if self.waker.is_some() {
            self.stop.waiting().remove(&self.id);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[tokio::test]
    async fn every_waiting_future_resolves_on_stop() {
        let stop = Stop::new();
        let tasks: Vec<_> = (0..3).map(|_| tokio::spawn(stop.stopped())).collect();
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(tasks.iter().all(|task| !task.is_finished()));
        stop.stop();
        for task in tasks {
            tokio::time::timeout(Duration::from_secs(5), task)
                .await
                .expect("resolves after stop")
                .unwrap();
        }
        // After the switch, new futures resolve at once.
        tokio::time::timeout(Duration::from_secs(5), stop.stopped())
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn dropped_futures_leave_no_waker_behind() {
        let stop = Stop::new();
        let mut stopped = Box::pin(stop.stopped());
        assert!(futures_poll_once(stopped.as_mut()).await.is_pending());
        assert_eq!(stop.waiting().len(), 1);
        drop(stopped);
        assert!(stop.waiting().is_empty());
    }

    async fn futures_poll_once(future: Pin<&mut Stopped>) -> Poll<()> {
        let mut future = Some(future);
        std::future::poll_fn(|cx| Poll::Ready(future.take().unwrap().poll(cx))).await
    }
}
