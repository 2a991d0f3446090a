//! The timer of a write that waits: how long it has made no progress. Both the WebSocket
//! writer ([`super::websocket`]) and the connections of `listen`/`serve` end a write that made
//! no progress for the write timeout (a client that stopped reading).

use std::future::Future;
use std::pin::Pin;
use std::task::Context;
use std::time::Duration;

use tokio::time::{Instant, Sleep, sleep_until};

/// Times stretches without progress of a waiting write.
#[derive(Debug)]
pub(crate) struct StallTimer {
    timeout: Duration,
    /// Allocated the first time a write has to wait, then reused: a connection whose writes
    /// never wait holds none.
    sleep: Option<Pin<Box<Sleep>>>,
    /// Timing the current stretch, which ends at `at`.
    armed: bool,
    at: Instant,
}

impl StallTimer {
    pub(crate) fn new(timeout: Duration) -> Self {
        StallTimer {
            timeout,
            sleep: None,
            armed: false,
            at: Instant::now(),
        }
    }

    /// The write made progress (or completed): the next wait starts a new stretch.
    pub(crate) fn progress(&mut self) {
        self.armed = false;
    }

    /// The write has to wait: times the stretch from its first wait, and registers `cx` to be
    /// woken at its end. True once it lasted the timeout.
    pub(crate) fn poll_stalled(&mut self, cx: &mut Context<'_>) -> bool {
        if !self.armed {
            self.at = Instant::now() + self.timeout;
        }
        let sleep = match &mut self.sleep {
            Some(sleep) if self.armed => sleep,
            Some(sleep) => {
                sleep.as_mut().reset(self.at);
                sleep
            }
            None => self.sleep.insert(Box::pin(sleep_until(self.at))),
        };
        self.armed = true;
        sleep.as_mut().poll(cx).is_ready()
    }

    /// Whether the current stretch lasted the timeout, read off the clock (for a loop too busy
    /// to let the runtime's timers fire).
    pub(crate) fn overdue(&self, now: Instant) -> bool {
        self.armed && now >= self.at
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_stretch_without_progress_lasts_the_timeout() {
        let mut timer = StallTimer::new(Duration::from_millis(400));
        let mut cx = Context::from_waker(std::task::Waker::noop());
        assert!(!timer.poll_stalled(&mut cx));
        tokio::time::sleep(Duration::from_millis(250)).await;
        // Progress: a new stretch starts at the next wait.
        timer.progress();
        assert!(!timer.overdue(Instant::now()));
        assert!(!timer.poll_stalled(&mut cx));
        tokio::time::sleep(Duration::from_millis(250)).await;
        assert!(!timer.poll_stalled(&mut cx));
        assert!(!timer.overdue(Instant::now()));
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert!(timer.overdue(Instant::now()));
        assert!(timer.poll_stalled(&mut cx));
    }
}
