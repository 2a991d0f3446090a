//! The process's two connections to Redis, shared by every namespace's adapter: one that
//! publishes (a bounded queue drained into pipelines) and answers commands, one that subscribes
//! and hands each message to the adapter of its channel, in the connection's own task. Both
//! reconnect by themselves for ever (at most a second apart); the subscriber then subscribes to
//! every channel again.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock, Weak};
use std::time::Duration;

use bytes::Bytes;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{PushInfo, PushKind};
use tokio::sync::{mpsc, oneshot};

use crate::adapter::AdapterError;

/// What receives the messages of a channel (or pattern): a namespace's adapter.
pub(crate) trait Receiver: Send + Sync {
    /// A message on `channel`.
    fn receive(&self, channel: &[u8], payload: Bytes);

    /// Messages that arrived together, in order: an adapter delivers them in one batch
    /// ([`LocalNamespace::batch`](crate::adapter::LocalNamespace::batch)).
    fn receive_all(&self, messages: &mut dyn Iterator<Item = (Vec<u8>, Bytes)>) {
        for (channel, payload) in messages {
            self.receive(&channel, payload);
        }
    }
}

/// The most messages waiting between the subscriber connection and their adapters; past it,
/// messages are dropped, counted and logged (the dispatcher fell that far behind Redis).
const INCOMING: usize = 65_536;

/// The most messages the dispatcher hands over in one batch.
const BATCH: usize = 256;

/// Channel (or pattern) → the adapter that receives its messages.
type Routes = RwLock<HashMap<Vec<u8>, Weak<dyn Receiver>>>;

/// How a message is published.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Publish {
    /// `PUBLISH`.
    Plain,
    /// `SPUBLISH` (Redis 7 sharded pub/sub).
    Sharded,
}

/// How a channel is subscribed to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Subscribe {
    /// `SUBSCRIBE`.
    Channel,
    /// `PSUBSCRIBE`.
    Pattern,
    /// `SSUBSCRIBE`.
    Sharded,
}

/// What a queued job does.
enum Job {
    /// Publishes `payload` on `channel`.
    Publish {
        channel: String,
        payload: Vec<u8>,
        how: Publish,
    },
    /// Runs these commands, one after the other with nothing in between (a `MULTI` among them
    /// takes in only its own).
    Commands(Vec<redis::Cmd>),
}

/// What Redis answered a job: the reply of a publish, or the replies of the commands (a
/// `Value::Array`, server errors in place as `Value::ServerError`).
pub(crate) type Reply = Result<redis::Value, AdapterError>;

/// Who learns the reply: a waiting future, or a callback run in the publisher's task, in the
/// order of the queue (before the next job's).
pub(crate) enum Done {
    Channel(oneshot::Sender<Reply>),
    Callback(Box<dyn FnOnce(Reply) + Send>),
}

impl Done {
    fn finish(self, reply: Reply) {
        match self {
            Done::Channel(tx) => {
                let _ = tx.send(reply);
            }
            Done::Callback(callback) => callback(reply),
        }
    }
}

struct Outgoing {
    job: Job,
    done: Done,
}

/// The most messages one pipeline carries.
const PIPELINE: usize = 256;

/// The connections.
pub(crate) struct Link {
    commands: ConnectionManager,
    subscriber: ConnectionManager,
    outgoing: mpsc::Sender<Outgoing>,
    queue: usize,
    routes: Arc<Routes>,
    /// Subscriptions asked for and not confirmed yet.
    pending: Mutex<Vec<tokio::task::JoinHandle<Result<(), AdapterError>>>>,
    /// Messages published, and those that failed.
    pub(crate) published: AtomicU64,
    pub(crate) failed: Arc<AtomicU64>,
    /// Messages received that the dispatcher could not take (see [`INCOMING`]).
    pub(crate) dropped: Arc<AtomicU64>,
}

/// A subscription given up because nobody wants the channel any more.
fn error_of(channel: &str) -> AdapterError {
    AdapterError(format!("redis: subscription to {channel} abandoned (unsubscribed)").into())
}

fn error(what: &str, e: impl std::fmt::Display) -> AdapterError {
    AdapterError(format!("redis: {what}: {e}").into())
}

impl Link {
    /// Connects to `url` (`redis://host:port/db`), with a publish queue of `queue` messages.
    pub(crate) async fn connect(url: &str, queue: usize) -> Result<Arc<Link>, AdapterError> {
        let config = || {
            ConnectionManagerConfig::new()
                .set_connection_timeout(Some(Duration::from_secs(2)))
                .set_response_timeout(Some(Duration::from_secs(5)))
                .set_number_of_retries(usize::MAX)
                .set_max_delay(Duration::from_secs(1))
        };
        let client = redis::Client::open(url).map_err(|e| error("invalid URL", e))?;
        let commands = ConnectionManager::new_with_config(client, config())
            .await
            .map_err(|e| error("connect", e))?;
        let resp3 = if url.contains('?') {
            format!("{url}&protocol=resp3")
        } else {
            format!("{url}?protocol=resp3")
        };
        let sub_client = redis::Client::open(resp3).map_err(|e| error("invalid URL", e))?;
        let routes: Arc<Routes> = Arc::default();
        let (incoming, received) = mpsc::channel::<PushInfo>(INCOMING);
        let dropped = Arc::new(AtomicU64::new(0));
        let lost = dropped.clone();
        let push = move |info: PushInfo| -> Result<(), std::convert::Infallible> {
            if incoming.try_send(info).is_err() {
                let count = lost.fetch_add(1, Ordering::Relaxed);
                if count % 10_000 == 0 {
                    tracing::warn!(
                        dropped = count + 1,
                        "redis adapter: messages from Redis arrive faster than they are delivered: dropped"
                    );
                }
            }
            Ok(())
        };
        tokio::spawn(dispatcher(routes.clone(), received));
        let subscriber = ConnectionManager::new_with_config(
            sub_client,
            config()
                .set_push_sender(push)
                .set_automatic_resubscription(),
        )
        .await
        .map_err(|e| error("connect", e))?;
        let (tx, rx) = mpsc::channel(queue);
        let failed = Arc::new(AtomicU64::new(0));
        tokio::spawn(publisher(commands.clone(), rx, failed.clone()));
        Ok(Arc::new(Link {
            commands,
            subscriber,
            outgoing: tx,
            queue,
            routes,
            pending: Mutex::default(),
            published: AtomicU64::new(0),
            failed,
            dropped,
        }))
    }

    /// Routes the messages of `channel` (or of pattern `channel`) to `receiver`, and subscribes;
    /// [`ready`](Self::ready) waits for it.
    pub(crate) fn subscribe(&self, channel: &str, how: Subscribe, receiver: Weak<dyn Receiver>) {
        let task = tokio::spawn(self.subscribe_now(channel, how, receiver));
        self.pending
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(task);
    }

    /// Routes the messages of `channel` to `receiver`, and subscribes; the future resolves once
    /// the subscription is active. A subscription that fails (Redis unreachable, or gone in the
    /// middle of it) is tried again every half second until it succeeds, or until `channel` is
    /// no longer routed (unsubscribed meanwhile); errors are logged, never fatal.
    pub(crate) fn subscribe_now(
        &self,
        channel: &str,
        how: Subscribe,
        receiver: Weak<dyn Receiver>,
    ) -> impl Future<Output = Result<(), AdapterError>> + Send + 'static + use<> {
        self.routes
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(channel.as_bytes().to_vec(), receiver);
        let connection = self.subscriber.clone();
        let routes = Arc::downgrade(&self.routes);
        let channel = channel.to_owned();
        async move {
            let mut failures = 0u32;
            loop {
                let mut connection = connection.clone();
                let result = match how {
                    Subscribe::Channel => connection.subscribe(&channel).await,
                    Subscribe::Pattern => connection.psubscribe(&channel).await,
                    Subscribe::Sharded => {
                        redis::cmd("SSUBSCRIBE")
                            .arg(&channel)
                            .exec_async(&mut connection)
                            .await
                    }
                };
                let error = match result {
                    Ok(()) => return Ok(()),
                    Err(error) => error,
                };
                failures += 1;
                if failures == 1 || failures % 20 == 0 {
                    tracing::warn!(%error, channel, "redis: subscribing failed; trying again");
                }
                tokio::time::sleep(Duration::from_millis(500)).await;
                let still_wanted = routes.upgrade().is_some_and(|routes| {
                    routes
                        .read()
                        .unwrap_or_else(|e| e.into_inner())
                        .contains_key(channel.as_bytes())
                });
                if !still_wanted {
                    return Err(error_of(&channel));
                }
            }
        }
    }

    /// Stops routing `channel` and unsubscribes (a sharded room channel no socket needs).
    pub(crate) fn unsubscribe_sharded(&self, channel: &str) {
        self.routes
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .remove(channel.as_bytes());
        let mut connection = self.subscriber.clone();
        let channel = channel.to_owned();
        tokio::spawn(async move {
            let _ = redis::cmd("SUNSUBSCRIBE")
                .arg(&channel)
                .exec_async(&mut connection)
                .await;
        });
    }

    /// Waits until every subscription asked for so far is active.
    pub(crate) async fn ready(&self) -> Result<(), AdapterError> {
        loop {
            let tasks: Vec<_> = self
                .pending
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .drain(..)
                .collect();
            if tasks.is_empty() {
                return Ok(());
            }
            for task in tasks {
                task.await.map_err(|e| error("subscribe", e))??;
            }
        }
    }

    /// Queues `payload` for `channel`. Fails at once when the queue is full (the adapter's
    /// documented overflow behaviour); the future resolves once Redis took it, or failed.
    pub(crate) fn publish(
        &self,
        channel: String,
        payload: Vec<u8>,
        how: Publish,
    ) -> impl Future<Output = Result<(), AdapterError>> + Send + 'static + use<> {
        let reply = self.submit_waiting(Job::Publish {
            channel,
            payload,
            how,
        });
        async move { reply.await.map(drop) }
    }

    /// Queues `commands`, run one after the other with nothing of another job in between; the
    /// future resolves to their replies (server errors in place), or fails as
    /// [`publish`](Self::publish) does.
    pub(crate) fn commands(
        &self,
        commands: Vec<redis::Cmd>,
    ) -> impl Future<Output = Result<Vec<redis::Value>, AdapterError>> + Send + 'static + use<>
    {
        let reply = self.submit_waiting(Job::Commands(commands));
        async move {
            match reply.await? {
                redis::Value::Array(replies) => Ok(replies),
                other => Ok(vec![other]),
            }
        }
    }

    /// Queues `command`; `done` gets its reply in the publisher's task, in queue order (at once,
    /// with the error, when the queue is full).
    pub(crate) fn command_then(&self, command: redis::Cmd, done: Box<dyn FnOnce(Reply) + Send>) {
        self.submit(Job::Commands(vec![command]), Done::Callback(done));
    }

    fn submit_waiting(&self, job: Job) -> impl Future<Output = Reply> + Send + 'static + use<> {
        let (tx, rx) = oneshot::channel();
        self.submit(job, Done::Channel(tx));
        async move {
            rx.await
                .unwrap_or_else(|_| Err(AdapterError("redis: the publisher stopped".into())))
        }
    }

    /// Queues `job`; on a full or closed queue, `done` learns why at once.
    fn submit(&self, job: Job, done: Done) {
        match self.outgoing.try_send(Outgoing { job, done }) {
            Ok(()) => {
                self.published.fetch_add(1, Ordering::Relaxed);
            }
            Err(mpsc::error::TrySendError::Full(rejected)) => {
                rejected.done.finish(Err(AdapterError(
                    format!(
                        "redis: the publish queue is full ({} messages waiting): Redis is \
                         unreachable or slower than the server publishes",
                        self.queue
                    )
                    .into(),
                )))
            }
            Err(mpsc::error::TrySendError::Closed(rejected)) => rejected
                .done
                .finish(Err(AdapterError("redis: the publisher stopped".into()))),
        }
    }

    /// Runs `command` on the command connection.
    pub(crate) async fn query(&self, command: redis::Cmd) -> Result<redis::Value, AdapterError> {
        let mut connection = self.commands.clone();
        command
            .query_async(&mut connection)
            .await
            .map_err(|e| error("command", e))
    }

    /// `PUBSUB NUMSUB channel` (or `SHARDNUMSUB`): how many subscribe to it.
    pub(crate) async fn subscribers(
        &self,
        sharded: bool,
        channel: &str,
    ) -> Result<usize, AdapterError> {
        let mut command = redis::cmd("PUBSUB");
        command
            .arg(if sharded { "SHARDNUMSUB" } else { "NUMSUB" })
            .arg(channel);
        match self.query(command).await? {
            redis::Value::Array(items) => match items.get(1) {
                Some(redis::Value::Int(n)) => Ok((*n).max(0) as usize),
                _ => Err(AdapterError("redis: unexpected PUBSUB answer".into())),
            },
            redis::Value::Map(pairs) => match pairs.first() {
                Some((_, redis::Value::Int(n))) => Ok((*n).max(0) as usize),
                _ => Err(AdapterError("redis: unexpected PUBSUB answer".into())),
            },
            _ => Err(AdapterError("redis: unexpected PUBSUB answer".into())),
        }
    }
}

/// The channel, payload and route key (the pattern, for a pattern message) of a pushed message.
fn message(info: PushInfo) -> Option<(Vec<u8>, Vec<u8>, Bytes)> {
    let mut data = info.data.into_iter();
    let (key, channel, payload) = match info.kind {
        PushKind::Message | PushKind::SMessage => {
            let channel = data.next()?;
            (channel.clone(), channel, data.next()?)
        }
        PushKind::PMessage => (data.next()?, data.next()?, data.next()?),
        _ => return None,
    };
    let (redis::Value::BulkString(key), redis::Value::BulkString(channel)) = (key, channel) else {
        return None;
    };
    let payload = match payload {
        redis::Value::BulkString(bytes) => Bytes::from(bytes),
        redis::Value::SimpleString(text) => Bytes::from(text),
        _ => return None,
    };
    Some((key, channel, payload))
}

/// Hands the messages from Redis to the receivers of their channels (or patterns), in order,
/// a burst at a time: the consecutive messages of one receiver in one call.
async fn dispatcher(routes: Arc<Routes>, mut received: mpsc::Receiver<PushInfo>) {
    let mut batch = Vec::with_capacity(BATCH);
    while received.recv_many(&mut batch, BATCH).await > 0 {
        let mut run: Vec<(Vec<u8>, Bytes)> = Vec::new();
        let mut current: Option<Arc<dyn Receiver>> = None;
        for info in batch.drain(..) {
            let Some((key, channel, payload)) = message(info) else {
                continue;
            };
            let receiver = routes
                .read()
                .unwrap_or_else(|e| e.into_inner())
                .get(key.as_slice())
                .and_then(Weak::upgrade);
            let Some(receiver) = receiver else {
                continue;
            };
            let same = current.as_ref().is_some_and(|c| Arc::ptr_eq(c, &receiver));
            if !same {
                if let Some(previous) = current.take() {
                    previous.receive_all(&mut run.drain(..));
                }
                current = Some(receiver);
            }
            run.push((channel, payload));
        }
        if let Some(receiver) = current {
            receiver.receive_all(&mut run.drain(..));
        }
    }
}

/// Drains the queue into pipelines of at most [`PIPELINE`] jobs.
async fn publisher(
    mut connection: ConnectionManager,
    mut queue: mpsc::Receiver<Outgoing>,
    failed: Arc<AtomicU64>,
) {
    let mut batch = Vec::with_capacity(PIPELINE);
    while queue.recv_many(&mut batch, PIPELINE).await > 0 {
        let mut pipe = redis::pipe();
        pipe.ignore_errors();
        // How many replies each job takes.
        let mut counts = Vec::with_capacity(batch.len());
        for message in &mut batch {
            match &mut message.job {
                Job::Publish {
                    channel,
                    payload,
                    how,
                } => {
                    let command = match how {
                        Publish::Plain => "PUBLISH",
                        Publish::Sharded => "SPUBLISH",
                    };
                    pipe.cmd(command).arg(&*channel).arg(&*payload);
                    counts.push(None);
                }
                Job::Commands(commands) => {
                    counts.push(Some(commands.len()));
                    for command in commands.drain(..) {
                        pipe.add_command(command);
                    }
                }
            }
        }
        let result: Result<Vec<redis::Value>, _> = pipe.query_async(&mut connection).await;
        let mut replies = match result {
            Ok(replies) => replies.into_iter(),
            Err(e) => {
                failed.fetch_add(batch.len() as u64, Ordering::Relaxed);
                tracing::warn!(
                    error = %e,
                    messages = batch.len(),
                    "redis: publishing failed (Redis unreachable?): these messages are lost"
                );
                for message in batch.drain(..) {
                    message.done.finish(Err(error("publish", &e)));
                }
                continue;
            }
        };
        for (message, count) in batch.drain(..).zip(counts) {
            let reply = match count {
                None => match replies.next() {
                    Some(redis::Value::ServerError(e)) => {
                        Err(error("publish", e.details().unwrap_or("server error")))
                    }
                    Some(reply) => Ok(reply),
                    None => Err(AdapterError("redis: a reply is missing".into())),
                },
                Some(count) => Ok(redis::Value::Array(replies.by_ref().take(count).collect())),
            };
            message.done.finish(reply);
        }
    }
}
