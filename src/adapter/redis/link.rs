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

struct Outgoing {
    channel: String,
    payload: Vec<u8>,
    how: Publish,
    done: Option<oneshot::Sender<Result<(), AdapterError>>>,
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
        let (done, result) = oneshot::channel();
        let queued = self
            .outgoing
            .try_send(Outgoing {
                channel,
                payload,
                how,
                done: Some(done),
            })
            .map_err(|e| match e {
                mpsc::error::TrySendError::Full(_) => AdapterError(
                    format!(
                        "redis: the publish queue is full ({} messages waiting): Redis is \
                         unreachable or slower than the server publishes",
                        self.queue
                    )
                    .into(),
                ),
                mpsc::error::TrySendError::Closed(_) => {
                    AdapterError("redis: the publisher stopped".into())
                }
            });
        if queued.is_ok() {
            self.published.fetch_add(1, Ordering::Relaxed);
        }
        async move {
            queued?;
            result
                .await
                .unwrap_or_else(|_| Err(AdapterError("redis: the publisher stopped".into())))
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

/// Drains the queue into pipelines of at most [`PIPELINE`] messages.
async fn publisher(
    mut connection: ConnectionManager,
    mut queue: mpsc::Receiver<Outgoing>,
    failed: Arc<AtomicU64>,
) {
    let mut batch = Vec::with_capacity(PIPELINE);
    while queue.recv_many(&mut batch, PIPELINE).await > 0 {
        let mut pipe = redis::pipe();
        for message in &batch {
            let command = match message.how {
                Publish::Plain => "PUBLISH",
                Publish::Sharded => "SPUBLISH",
            };
            pipe.cmd(command)
                .arg(&message.channel)
                .arg(&message.payload)
                .ignore();
        }
        let result: Result<(), _> = pipe.query_async(&mut connection).await;
        if let Err(e) = &result {
            failed.fetch_add(batch.len() as u64, Ordering::Relaxed);
            tracing::warn!(
                error = %e,
                messages = batch.len(),
                "redis: publishing failed (Redis unreachable?): these messages are lost"
            );
        }
        for message in batch.drain(..) {
            if let Some(done) = message.done {
                let _ = done.send(result.as_ref().map(|_| ()).map_err(|e| error("publish", e)));
            }
        }
    }
}
