//! Redis adapters wire-compatible with Node's `@socket.io/redis-adapter` 8.3, so that
//! tower-socketio servers, and tower-socketio and Node `socket.io` servers mixed, form one
//! cluster on one Redis; `@socket.io/redis-emitter` 5.x processes can publish to it too.
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use tower_socketio::adapter::redis::{RedisAdapter, RedisConfig};
//! use tower_socketio::{Namespace, SocketIo, SocketRef};
//!
//! let redis = RedisAdapter::connect("redis://127.0.0.1:6379", RedisConfig::default()).await?;
//! let io = SocketIo::builder()
//!     .adapter(redis.factory())
//!     .ns("/", Namespace::new().on_connect(|socket: SocketRef| async move {
//!         socket.join("news");
//!     }))
//!     .build();
//! // Every namespace's subscriptions are active: broadcasts from other servers are heard.
//! redis.ready().await?;
//! // Reaches the sockets in "news" on every server of the cluster.
//! io.to("news").emit("headline", "hello, cluster").await?;
//! # Ok(())
//! # }
//! ```
//!
//! # How it works
//! Each namespace's adapter keeps its rooms in memory, as [`MemoryAdapter`] does, and shares the
//! process's two Redis connections: one publishes, one subscribes. A broadcast is queued for this
//! server's sockets, then encoded once (Node's MessagePack `[uid, packet, opts]`) and published
//! once, whatever the number of recipients; a server receiving it decodes it once and takes the
//! same path as a local broadcast. Requests (`fetch_sockets`, `sockets_join`, `sockets_leave`,
//! `disconnect_sockets`, server-side emits, broadcasts with acknowledgements) are published on the
//! namespace's request channel and answered on its response channel, in Node's JSON and
//! MessagePack forms; the number of servers is the request channel's subscriber count (`PUBSUB
//! NUMSUB`). Joins, leaves and disconnections are applied here at once, then by the other servers
//! when they get the request.
//!
//! # When Redis goes away
//! Both connections reconnect by themselves, for ever, at most a second apart, and the
//! subscriptions are made again; the server's clients stay connected and local broadcasts keep
//! working. Meanwhile:
//! - publishes wait in a bounded queue ([`RedisConfig::publish_queue`], 65,536 messages); when
//!   it is full, the operation fails at once with an [`AdapterError`] saying so (the local part
//!   is done), and nothing blocks the server;
//! - a queued publish that Redis does not take (the connection fails under it) is lost: the
//!   operation's future fails with an [`AdapterError`], a warning is logged, and it is counted
//!   ([`RedisAdapter::failed_publishes`]); nothing is retried, as Node does not;
//! - what other servers published while this one was disconnected is not seen (Redis pub/sub
//!   keeps nothing): that is what the streams adapter of connection state recovery is for;
//! - operations that wait for other servers (`fetch_sockets`, acknowledgements) fail or come back
//!   incomplete at their timeout ([`RedisConfig::requests_timeout`], 5 s), with Node's texts.
//!
//! Messages from Redis wait, at most 65,536 of them, for a task that delivers them a burst at a
//! time (a burst of broadcasts is coalesced as a handler's are); past that bound they are
//! dropped, logged and counted ([`RedisAdapter::dropped_messages`]).
//!
//! An `emit` on an operator is queued for this server's sockets and for Redis before it returns;
//! awaiting the returned future waits for Redis to take the publish (a round trip): drop it, as
//! Node's `io.emit` does, unless you need to know.
//!
//! # Behind a load balancer
//! HTTP long-polling needs sticky sessions (each request of a session must reach the server that
//! holds it); or let clients use WebSocket only (`transports: ["websocket"]`).
//!
//! [`MemoryAdapter`]: crate::adapter::MemoryAdapter

mod classic;
mod link;
mod opts;
mod sharded;
pub mod wire;

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use self::classic::ClassicAdapter;
use self::link::Link;
use self::sharded::ShardedAdapter;
pub use self::wire::SubscriptionMode;
use crate::adapter::{Adapter, AdapterError, LocalNamespace};

/// The options of the Redis adapter (Node's `createAdapter` options).
#[derive(Debug, Clone)]
#[must_use = "a configuration does nothing until it is given to `RedisAdapter::connect`"]
pub struct RedisConfig {
    pub(crate) key: String,
    pub(crate) requests_timeout: Duration,
    pub(crate) publish_on_specific_response_channel: bool,
    pub(crate) publish_queue: usize,
    pub(crate) sharded: Option<SubscriptionMode>,
}

impl Default for RedisConfig {
    fn default() -> Self {
        RedisConfig {
            key: wire::DEFAULT_KEY.to_owned(),
            requests_timeout: Duration::from_millis(5_000),
            publish_on_specific_response_channel: false,
            publish_queue: 65_536,
            sharded: None,
        }
    }
}

impl RedisConfig {
    /// The prefix of every channel (Node: `key`). Default `socket.io`; servers of one cluster
    /// share it.
    pub fn key(mut self, key: impl Into<String>) -> Self {
        self.key = key.into();
        self
    }

    /// How long requests to other servers wait for their answers (Node: `requestsTimeout`).
    /// Default 5 s.
    pub fn requests_timeout(mut self, timeout: Duration) -> Self {
        self.requests_timeout = timeout;
        self
    }

    /// Answers go to the requesting server's own channel rather than the shared one (Node:
    /// `publishOnSpecificResponseChannel`). Default off; every server hears both.
    pub fn publish_on_specific_response_channel(mut self, specific: bool) -> Self {
        self.publish_on_specific_response_channel = specific;
        self
    }

    /// The sharded adapter (Node's `createShardedAdapter`, Redis 7 `SPUBLISH`/`SSUBSCRIBE`)
    /// instead of the classic one, with Node's subscription mode: `Dynamic` (the default there:
    /// a channel per room, socket ids excepted; see
    /// [`Socket::room_ready`](crate::Socket::room_ready)), `DynamicPrivate` (socket ids too), or
    /// `Static` (two channels a namespace). The key is then Node's `channelPrefix`.
    pub fn sharded(mut self, mode: SubscriptionMode) -> Self {
        self.sharded = Some(mode);
        self
    }

    /// How many messages may wait to be published (while Redis is slow or unreachable); beyond
    /// it, operations fail at once. Default 65,536.
    pub fn publish_queue(mut self, messages: usize) -> Self {
        self.publish_queue = messages.max(1);
        self
    }
}

/// A connection to Redis shared by the adapters of every namespace of a server: give
/// [`factory`](Self::factory) to [`SocketIoBuilder::adapter`](crate::SocketIoBuilder::adapter).
/// Cheap to clone. See the [module documentation](self).
#[derive(Clone)]
pub struct RedisAdapter {
    link: Arc<Link>,
    config: Arc<RedisConfig>,
}

impl std::fmt::Debug for RedisAdapter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisAdapter")
            .field("config", &self.config)
            .finish()
    }
}

impl RedisAdapter {
    /// Connects to the Redis at `url` (`redis://[user:password@]host:port[/db]`).
    pub async fn connect(url: &str, config: RedisConfig) -> Result<RedisAdapter, AdapterError> {
        let link = Link::connect(url, config.publish_queue).await?;
        Ok(RedisAdapter {
            link,
            config: Arc::new(config),
        })
    }

    /// Makes the adapter of each namespace: classic pub/sub (Node's `createAdapter`), or
    /// sharded when so [configured](RedisConfig::sharded).
    pub fn factory(&self) -> impl Fn(LocalNamespace) -> Arc<dyn Adapter> + Send + Sync + 'static {
        let link = self.link.clone();
        let config = self.config.clone();
        move |ns| match config.sharded {
            Some(mode) => {
                ShardedAdapter::new(ns, link.clone(), config.clone(), mode) as Arc<dyn Adapter>
            }
            None => ClassicAdapter::new(ns, link.clone(), config.clone()) as Arc<dyn Adapter>,
        }
    }

    /// Waits until the subscriptions of every namespace made so far are active: from then on,
    /// what other servers publish is heard. Call it after [`build`](crate::SocketIoBuilder::build)
    /// and before accepting clients.
    pub async fn ready(&self) -> Result<(), AdapterError> {
        self.link.ready().await
    }

    /// How many messages were lost because Redis did not take them (see the module
    /// documentation).
    pub fn failed_publishes(&self) -> u64 {
        self.link.failed.load(Ordering::Relaxed)
    }

    /// How many messages from Redis were dropped because this server fell too far behind
    /// delivering them (65,536 waiting; logged as they are dropped).
    pub fn dropped_messages(&self) -> u64 {
        self.link.dropped.load(Ordering::Relaxed)
    }
}
