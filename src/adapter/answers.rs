//! Where the answers to a request sent to many gather: the acknowledgements of a broadcast (from
//! this server's clients and the other servers'), or the answers of the other servers to a
//! server-side emit.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::Notify;

use crate::value::Value;

/// The most answers kept beyond the number expected so far: answers can arrive before the count
/// of their server (another thread, another server), and a misbehaving server may send more than
/// it announced; past this slack they are dropped (and the request is not complete sooner).
const SLACK: usize = 4096;

/// The answers to one request sent to many, as they arrive. An adapter gets one with
/// [`Adapter::broadcast_with_ack`](super::Adapter::broadcast_with_ack) and
/// [`Adapter::server_side_emit`](super::Adapter::server_side_emit), says how many answers to
/// expect, and feeds it the answers of its servers; the caller waits until every expected answer
/// arrived or its timeout passed.
///
/// For a broadcast: each server reports how many of its clients got the packet
/// ([`report`](Self::report)), the number of reports to wait for being set first
/// ([`expect_reports`](Self::expect_reports)); each client's answer is one
/// [`answer`](Self::answer) (its first argument, as Node relays it). For a server-side emit, the
/// number of answers is known up front ([`expect`](Self::expect): one a server).
///
/// Cheap to clone (one shared state). Memory is bounded: answers beyond the expected count (plus
/// a small slack for answers ahead of their count) are dropped.
///
/// ```
/// # tokio_test_block_on(async {
/// use std::time::Duration;
/// use tower_socketio::Value;
/// use tower_socketio::adapter::Answers;
///
/// let answers = Answers::new();
/// answers.expect_reports(2); // two servers
/// answers.report(1); // this one reached one client
/// answers.answer(Value::from("yes"));
/// answers.report(0); // the other, none
/// let gathered = answers.gathered(Duration::from_secs(1)).await;
/// assert!(gathered.complete);
/// assert_eq!(gathered.answers, [Value::from("yes")]);
/// # });
/// # fn tokio_test_block_on(f: impl std::future::Future<Output = ()>) {
/// #     tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(f)
/// # }
/// ```
#[derive(Clone, Default)]
pub struct Answers {
    shared: Arc<Shared>,
}

#[derive(Default)]
struct Shared {
    state: Mutex<State>,
    changed: Notify,
    /// Where answers go instead, for an adapter relaying them to the requesting server.
    relay: Option<Box<dyn Fn(Value) + Send + Sync>>,
}

#[derive(Default)]
struct State {
    /// Reports still awaited; below zero when reports came before they were expected (a server
    /// can answer before the requester knows how many servers there are).
    reports_due: isize,
    /// Answers expected so far.
    expected: usize,
    answers: Vec<Value>,
}

impl State {
    fn complete(&self) -> bool {
        self.reports_due <= 0 && self.answers.len() >= self.expected
    }
}

/// What [`Answers::gathered`] found.
///
/// ```
/// use std::time::Duration;
/// use tower_socketio::Value;
/// use tower_socketio::adapter::{Answers, Gathered};
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let answers = Answers::new();
/// answers.expect(1);
/// answers.answer(Value::from(7i64));
/// let Gathered { answers, expected, complete, .. } = answers.gathered(Duration::from_secs(1)).await;
/// assert_eq!((answers, expected, complete), (vec![Value::from(7i64)], 1, true));
/// # }
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Gathered {
    /// The answers that arrived in time, in arrival order.
    pub answers: Vec<Value>,
    /// How many answers were expected (as far as the reports that arrived in time said).
    pub expected: usize,
    /// Whether every report and every expected answer arrived in time.
    pub complete: bool,
}

impl std::fmt::Debug for Answers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = self.lock();
        f.debug_struct("Answers")
            .field("reports_due", &state.reports_due)
            .field("expected", &state.expected)
            .field("answers", &state.answers.len())
            .finish()
    }
}

impl Answers {
    /// No answer expected yet.
    ///
    /// ```
    /// use std::time::Duration;
    /// use tower_socketio::adapter::Answers;
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let answers = Answers::new();
    /// // Nothing expected: complete at once.
    /// assert!(answers.gathered(Duration::from_secs(1)).await.complete);
    /// # }
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// Answers that are handed to `relay` as they arrive, rather than kept: what an adapter
    /// gives [`LocalNamespace::send_with_ack`](super::LocalNamespace::send_with_ack) for a
    /// broadcast another server asked for, to send each answer back to it.
    ///
    /// ```
    /// use tower_socketio::Value;
    /// use tower_socketio::adapter::Answers;
    ///
    /// // On the server that holds the clients, for a broadcast with acknowledgements another
    /// // server asked for: each answer goes back to it (here, to a channel).
    /// let (back, mut to_requester) = tokio::sync::mpsc::unbounded_channel();
    /// let answers = Answers::relaying(move |answer| { let _ = back.send(answer); });
    /// answers.answer(Value::from("yes")); // what `LocalNamespace::send_with_ack` does per client
    /// assert_eq!(to_requester.try_recv().unwrap(), Value::from("yes"));
    /// ```
    pub fn relaying(relay: impl Fn(Value) + Send + Sync + 'static) -> Self {
        Answers {
            shared: Arc::new(Shared {
                state: Mutex::default(),
                changed: Notify::new(),
                relay: Some(Box::new(relay)),
            }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.shared.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn update(&self, f: impl FnOnce(&mut State)) {
        f(&mut self.lock());
        self.shared.changed.notify_one();
    }

    /// `servers` more servers will [`report`](Self::report) how many answers they relay.
    ///
    /// ```
    /// use std::time::Duration;
    /// use tower_socketio::adapter::Answers;
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let answers = Answers::new();
    /// answers.expect_reports(3); // three servers will say how many clients they reached
    /// answers.report(0);
    /// answers.report(0);
    /// // One report missing: not complete.
    /// assert!(!answers.gathered(Duration::from_millis(10)).await.complete);
    /// # }
    /// ```
    pub fn expect_reports(&self, servers: usize) {
        self.update(|state| state.reports_due += servers as isize);
    }

    /// One server's report: `count` of its clients got the packet, each may answer.
    ///
    /// ```
    /// use std::time::Duration;
    /// use tower_socketio::Value;
    /// use tower_socketio::adapter::Answers;
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let answers = Answers::new();
    /// answers.expect_reports(1);
    /// answers.report(2); // two clients got the packet: two answers to wait for
    /// answers.answer(Value::from(1i64));
    /// answers.answer(Value::from(2i64));
    /// let gathered = answers.gathered(Duration::from_secs(1)).await;
    /// assert_eq!((gathered.expected, gathered.complete), (2, true));
    /// # }
    /// ```
    pub fn report(&self, count: usize) {
        self.update(|state| {
            state.reports_due -= 1;
            state.expected += count;
        });
    }

    /// `count` more answers are expected, with no report (a server-side emit: one answer a
    /// server).
    ///
    /// ```
    /// use std::time::Duration;
    /// use tower_socketio::Value;
    /// use tower_socketio::adapter::Answers;
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// // A server-side emit to two other servers: one answer each.
    /// let answers = Answers::new();
    /// answers.expect(2);
    /// answers.answer(Value::from("pong from B"));
    /// let gathered = answers.gathered(Duration::from_millis(10)).await;
    /// assert_eq!((gathered.answers.len(), gathered.complete), (1, false)); // C did not answer in time
    /// # }
    /// ```
    pub fn expect(&self, count: usize) {
        self.update(|state| state.expected += count);
    }

    /// One answer.
    ///
    /// ```
    /// use std::time::Duration;
    /// use tower_socketio::Value;
    /// use tower_socketio::adapter::Answers;
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let answers = Answers::new();
    /// answers.expect(1);
    /// answers.answer(Value::from(true));
    /// assert_eq!(answers.gathered(Duration::from_secs(1)).await.answers, [Value::from(true)]);
    /// # }
    /// ```
    pub fn answer(&self, answer: Value) {
        if let Some(relay) = &self.shared.relay {
            return relay(answer);
        }
        self.update(|state| {
            if state.answers.len() < state.expected + SLACK {
                state.answers.push(answer);
            }
        });
    }

    /// Waits until every report and expected answer arrived, at most `timeout`.
    ///
    /// ```
    /// use std::time::Duration;
    /// use tower_socketio::Value;
    /// use tower_socketio::adapter::Answers;
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let answers = Answers::new();
    /// answers.expect(1);
    /// let late = answers.clone();
    /// tokio::spawn(async move { late.answer(Value::from("here")) });
    /// // Returns as soon as the answer arrives, well before the timeout.
    /// let gathered = answers.gathered(Duration::from_secs(10)).await;
    /// assert!(gathered.complete);
    /// # }
    /// ```
    pub async fn gathered(&self, timeout: Duration) -> Gathered {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let changed = self.shared.changed.notified();
            let complete = self.lock().complete();
            if complete {
                return self.take(true);
            }
            if tokio::time::timeout_at(deadline, changed).await.is_err() {
                let complete = self.lock().complete();
                return self.take(complete);
            }
        }
    }

    fn take(&self, complete: bool) -> Gathered {
        let mut state = self.lock();
        Gathered {
            answers: std::mem::take(&mut state.answers),
            expected: state.expected,
            complete,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn complete_once_every_report_and_answer_came() {
        let answers = Answers::new();
        answers.expect_reports(1);
        // An answer ahead of its count is kept.
        answers.answer(Value::from(1));
        let waiter = answers.clone();
        let task = tokio::spawn(async move { waiter.gathered(Duration::from_secs(5)).await });
        answers.report(2);
        answers.answer(Value::from(2));
        let gathered = task.await.unwrap();
        assert!(gathered.complete);
        assert_eq!(gathered.expected, 2);
        assert_eq!(gathered.answers, [Value::from(1), Value::from(2)]);
    }

    #[tokio::test]
    async fn a_missing_report_or_answer_times_out_with_what_came() {
        let answers = Answers::new();
        answers.expect_reports(2);
        answers.report(1);
        answers.answer(Value::from("a"));
        let gathered = answers.gathered(Duration::from_millis(50)).await;
        assert!(!gathered.complete);
        assert_eq!(gathered.answers, [Value::from("a")]);

        let answers = Answers::new();
        answers.expect(2);
        answers.answer(Value::from("b"));
        let gathered = answers.gathered(Duration::from_millis(50)).await;
        assert!(!gathered.complete);
        assert_eq!(gathered.expected, 2);
    }

    #[tokio::test]
    async fn a_report_before_it_is_expected_counts() {
        let answers = Answers::new();
        answers.expect_reports(1);
        answers.report(1);
        // Another server reported before the count of servers was known.
        answers.report(1);
        answers.expect_reports(1);
        answers.answer(Value::from(1));
        answers.answer(Value::from(2));
        let gathered = answers.gathered(Duration::from_millis(500)).await;
        assert!(gathered.complete, "{gathered:?}");
    }

    #[tokio::test]
    async fn nothing_expected_is_complete_at_once() {
        let gathered = Answers::new().gathered(Duration::from_secs(60)).await;
        assert!(gathered.complete);
        assert!(gathered.answers.is_empty());
    }

    #[test]
    fn relayed_answers_go_to_the_relay() {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let sink = seen.clone();
        let answers = Answers::relaying(move |answer| sink.lock().unwrap().push(answer));
        answers.answer(Value::from(7));
        assert_eq!(*seen.lock().unwrap(), [Value::from(7)]);
        assert!(answers.lock().answers.is_empty());
    }

    #[test]
    fn answers_past_the_slack_are_dropped() {
        let answers = Answers::new();
        answers.expect(1);
        for i in 0..(SLACK + 100) {
            answers.answer(Value::from(i as i64));
        }
        assert_eq!(answers.lock().answers.len(), 1 + SLACK);
    }
}
