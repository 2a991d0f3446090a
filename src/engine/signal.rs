//! A wake-up signal for one waiter at a time: what a session's driver (or its pending poll)
//! waits on while others queue packets or raise flags for it.
//!
//! tokio's `Notify` serves any number of waiters: each wait is a future that enters and leaves
//! a linked list under a lock, several hundred instructions per turn of a driver's `select!`,
//! which made up 7% of an acknowledged round trip over WebSocket. A session never has more than
//! one waiter per signal (its driver; or, over polling, the GET holding the poll lock), so a
//! flag and one waker slot do.

use std::future::Future;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll, Waker};

/// A flag that [`notify`](Signal::notify) raises and a wait consumes. A notification with
/// nobody waiting is kept (one, however many come) for the next wait, as `Notify::notify_one`
/// keeps a permit.
#[derive(Debug, Default)]
pub(crate) struct Signal {
    raised: AtomicBool,
    waiter: Mutex<Option<Waker>>,
}

impl Signal {
    /// Raises the flag; wakes the waiter, if one is registered.
    pub(crate) fn notify(&self) {
        if self.raised.swap(true, Ordering::AcqRel) {
            // Already raised: whoever raised it first wakes the waiter.
            return;
        }
        let waiter = self.slot().take();
        if let Some(waker) = waiter {
            waker.wake();
        }
    }

    /// Ready (lowering the flag) once the flag is raised; otherwise registers `cx`'s waker.
    pub(crate) fn poll_wait(&self, cx: &mut Context<'_>) -> Poll<()> {
        if self.raised.swap(false, Ordering::AcqRel) {
            return Poll::Ready(());
        }
        {
            let mut slot = self.slot();
            match &*slot {
                Some(waker) if waker.will_wake(cx.waker()) => {}
                _ => *slot = Some(cx.waker().clone()),
            }
        }
        // A notification between the first look and the registration found no waker.
        if self.raised.swap(false, Ordering::AcqRel) {
            return Poll::Ready(());
        }
        Poll::Pending
    }

    /// Waits until the flag is raised, and lowers it. Cheap to make: nothing is registered
    /// until it is polled, nothing to undo when it is dropped.
    pub(crate) fn wait(&self) -> impl Future<Output = ()> + '_ {
        std::future::poll_fn(|cx| self.poll_wait(cx))
    }

    /// Forgets the registered waker, so that notifications until the next wait wake nobody:
    /// for a waiter about to do work that notifies it (its own wake-up would only poll it
    /// again for nothing).
    pub(crate) fn forget_waiter(&self) {
        *self.slot() = None;
    }

    fn slot(&self) -> std::sync::MutexGuard<'_, Option<Waker>> {
        self.waiter.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::time::Duration;

    #[tokio::test]
    async fn a_notification_before_the_wait_is_kept_once() {
        let signal = Signal::default();
        signal.notify();
        signal.notify();
        signal.wait().await;
        let second = tokio::time::timeout(Duration::from_millis(20), signal.wait()).await;
        assert!(second.is_err(), "two notifications kept as one");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_waiter_is_woken_from_another_thread() {
        let signal = Arc::new(Signal::default());
        for _ in 0..1000 {
            let waiter = tokio::spawn({
                let signal = signal.clone();
                async move { signal.wait().await }
            });
            tokio::task::yield_now().await;
            signal.notify();
            tokio::time::timeout(Duration::from_secs(5), waiter)
                .await
                .expect("the waiter was woken")
                .unwrap();
        }
    }

    #[tokio::test]
    async fn a_forgotten_waiter_still_sees_the_flag() {
        let signal = Signal::default();
        let waker = std::task::Waker::noop();
        assert!(
            signal
                .poll_wait(&mut Context::from_waker(waker))
                .is_pending()
        );
        signal.forget_waiter();
        signal.notify();
        assert!(signal.poll_wait(&mut Context::from_waker(waker)).is_ready());
    }
}
