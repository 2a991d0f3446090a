//! Redis adapters wire-compatible with Node's `@socket.io/redis-adapter` 8.3 (classic and
//! sharded) and `@socket.io/redis-streams-adapter` 0.3 ([streams](#streams)), so that
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
//! # Streams
//! [`RedisConfig::streams`] makes the adapter of Node's `@socket.io/redis-streams-adapter` 0.3,
//! byte for byte, so that tower-socketio and Node servers share one stream, and connection state
//! recovery works across the cluster: a client that was on one server recovers on any other,
//! Node's or this crate's.
//! - What other servers must not miss (broadcasts without acknowledgements, `sockets_join`,
//!   `sockets_leave`, `disconnect_sockets`) is added to the stream `socket.io` with
//!   `XADD socket.io MAXLEN ~ 10000 * uid <uid> nsp <nsp> type <n> data <data>`, `data` the
//!   JSON of the message's data, or the base64 of its MessagePack when it holds binary. Each
//!   server reads the stream on a connection of its own (`XREAD BLOCK 5000 COUNT 100`), from
//!   the last entry it read: after Redis comes back, nothing the stream still holds is lost.
//! - Requests and answers (broadcasts with acknowledgements, `fetch_sockets`, server-side
//!   emits) go over pub/sub, to `<key>#<nsp>#` and `<key>#<nsp>#<uid>#`, in MessagePack; the
//!   server count is `PUBSUB NUMSUB <key>#<nsp>#`.
//! - With [connection state recovery](crate::RecoveryConfig), an event's offset is its entry
//!   id (`1700000000000-0`), the same on every server. A socket's own emits go through the
//!   stream too (as Node's `socket.emit` does), so that they can be replayed anywhere; other
//!   `local` broadcasts stay on this server and carry the last offset read. Sessions are kept
//!   in Redis for the maximum disconnection duration (`SET sio:session:<pid> ... PX`), taken
//!   once (`MULTI GET DEL`), and the missed events read back from the stream, in order, before
//!   the CONNECT answer.
//! - Unlike Node, this server hands its own broadcasts to its clients when it reads them back
//!   from the stream (one more round trip to Redis), not when `XADD` answers: every client gets
//!   the stream's events in the stream's order, so the offset of the last event it got says
//!   exactly what it has, and a recovery neither loses nor repeats an event (with Node's order,
//!   a client can get an event of another server after a later one of its own, and lose it on
//!   recovery). Events handed out while a socket is being restored wait for it, then follow
//!   its replay.
//! - A client that got no event before it dropped sends no offset: Node then gives it a new
//!   socket. This crate keeps, beside the session, where the stream was when the socket
//!   connected (an extra `offset` key in the session, which Node ignores), and replays from
//!   there.
//! - A client whose offset is no longer in the stream (more than about 10,000 entries ago, see
//!   [`StreamsConfig::max_len`]) gets a new socket, as in Node; so does every client after
//!   Redis lost its data (a restart without persistence).
//! - A broadcast Redis did not take (unreachable, queue full) still reaches this server's
//!   clients, as in Node, with the last offset read (if the connection failed after Redis added
//!   it, they may get it twice).
//!
//! # Behind a load balancer
//! HTTP long-polling needs sticky sessions (each request of a session must reach the server that
//! holds it); or let clients use WebSocket only (`transports: ["websocket"]`).
//!
//! [`MemoryAdapter`]: crate::adapter::MemoryAdapter

mod classic;
mod cluster;
mod link;
mod opts;
mod sharded;
mod streams;
pub mod wire;

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use self::classic::ClassicAdapter;
use self::link::Link;
use self::sharded::ShardedAdapter;
use self::streams::{Streams, StreamsAdapter};
pub use self::wire::SubscriptionMode;
use crate::adapter::{Adapter, AdapterError, LocalNamespace};

/// The options of the Redis adapter (Node's `createAdapter` options).
///
/// ```
/// use std::time::Duration;
/// use tower_socketio::adapter::redis::RedisConfig;
///
/// let config = RedisConfig::default()
///     .key("chat")
///     .requests_timeout(Duration::from_secs(3));
/// ```
#[derive(Debug, Clone)]
#[must_use = "a configuration does nothing until it is given to `RedisAdapter::connect`"]
pub struct RedisConfig {
    pub(crate) key: String,
    pub(crate) requests_timeout: Duration,
    pub(crate) publish_on_specific_response_channel: bool,
    pub(crate) publish_queue: usize,
    pub(crate) flavour: Flavour,
}

/// Which of Node's adapters a [`RedisConfig`] speaks.
#[derive(Debug, Clone)]
pub(crate) enum Flavour {
    Classic,
    Sharded(SubscriptionMode),
    Streams(StreamsConfig),
}

/// The options of the streams adapter ([`RedisConfig::streams_config`]), Node's
/// `@socket.io/redis-streams-adapter` options with their defaults.
///
/// ```
/// use tower_socketio::adapter::redis::{RedisConfig, StreamsConfig};
///
/// let config = RedisConfig::default()
///     .streams_config(StreamsConfig::default().stream_name("chat").max_len(20_000));
/// ```
#[derive(Debug, Clone)]
#[must_use = "a configuration does nothing until it is given to `RedisConfig::streams_config`"]
pub struct StreamsConfig {
    pub(crate) stream_name: String,
    pub(crate) stream_count: u32,
    pub(crate) max_len: u64,
    pub(crate) read_count: usize,
    pub(crate) block_time: Duration,
    pub(crate) session_key_prefix: String,
    pub(crate) sharded_pub_sub: bool,
}

impl Default for StreamsConfig {
    fn default() -> Self {
        StreamsConfig {
            stream_name: "socket.io".to_owned(),
            stream_count: 1,
            max_len: 10_000,
            read_count: 100,
            block_time: Duration::from_millis(5_000),
            session_key_prefix: "sio:session:".to_owned(),
            sharded_pub_sub: false,
        }
    }
}

impl StreamsConfig {
    /// The stream's name, or the prefix of their names with several (Node: `streamName`).
    /// Default `socket.io`.
    ///
    /// ```
    /// use tower_socketio::adapter::redis::{RedisConfig, StreamsConfig};
    /// let config = RedisConfig::default().streams_config(StreamsConfig::default().stream_name("chat-events"));
    /// ```
    pub fn stream_name(mut self, name: impl Into<String>) -> Self {
        self.stream_name = name.into();
        self
    }

    /// How many streams the namespaces are spread over (Node: `streamCount`), each namespace
    /// keeping to one (`<name>-<i>`, `i` the Java-style hash of its name modulo the count, as
    /// Node computes it). Default 1: the stream is `<name>`.
    ///
    /// ```
    /// use tower_socketio::adapter::redis::{RedisConfig, StreamsConfig};
    /// // Namespaces spread over `socket.io-0` .. `socket.io-3`.
    /// let config = RedisConfig::default().streams_config(StreamsConfig::default().stream_count(4));
    /// ```
    pub fn stream_count(mut self, count: u32) -> Self {
        self.stream_count = count.max(1);
        self
    }

    /// About how many entries a stream keeps (Node: `maxLen`, `XADD ... MAXLEN ~`): with
    /// connection state recovery, a client whose missed events are older than that gets a new
    /// session. Default 10,000.
    ///
    /// ```
    /// use tower_socketio::adapter::redis::{RedisConfig, StreamsConfig};
    /// // Keep about 100,000 events for clients that come back.
    /// let config = RedisConfig::default().streams_config(StreamsConfig::default().max_len(100_000));
    /// ```
    pub fn max_len(mut self, entries: u64) -> Self {
        self.max_len = entries;
        self
    }

    /// How many entries one read takes (Node: `readCount`, `XREAD COUNT`), and one batch of a
    /// session's replay. Default 100.
    ///
    /// ```
    /// use tower_socketio::adapter::redis::{RedisConfig, StreamsConfig};
    /// let config = RedisConfig::default().streams_config(StreamsConfig::default().read_count(500));
    /// ```
    pub fn read_count(mut self, entries: usize) -> Self {
        self.read_count = entries.max(1);
        self
    }

    /// How long one read waits for entries (Node: `blockTimeInMs`, `XREAD BLOCK`). Default 5 s.
    ///
    /// ```
    /// use std::time::Duration;
    /// use tower_socketio::adapter::redis::{RedisConfig, StreamsConfig};
    /// let config = RedisConfig::default()
    ///     .streams_config(StreamsConfig::default().block_time(Duration::from_secs(1)));
    /// ```
    pub fn block_time(mut self, time: Duration) -> Self {
        self.block_time = time.max(Duration::from_millis(1));
        self
    }

    /// The prefix of the keys of the sessions of connection state recovery (Node:
    /// `sessionKeyPrefix`). Default `sio:session:`.
    ///
    /// ```
    /// use tower_socketio::adapter::redis::{RedisConfig, StreamsConfig};
    /// let config = RedisConfig::default()
    ///     .streams_config(StreamsConfig::default().session_key_prefix("chat:session:"));
    /// ```
    pub fn session_key_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.session_key_prefix = prefix.into();
        self
    }

    /// Requests and answers over sharded pub/sub (`SPUBLISH`/`SSUBSCRIBE`, Redis 7) rather than
    /// `PUBLISH`/`SUBSCRIBE` (Node: `useShardedPubSub`). Default off.
    ///
    /// ```
    /// use tower_socketio::adapter::redis::{RedisConfig, StreamsConfig};
    /// let config = RedisConfig::default().streams_config(StreamsConfig::default().sharded_pub_sub(true));
    /// ```
    pub fn sharded_pub_sub(mut self, sharded: bool) -> Self {
        self.sharded_pub_sub = sharded;
        self
    }
}

impl Default for RedisConfig {
    fn default() -> Self {
        RedisConfig {
            key: wire::DEFAULT_KEY.to_owned(),
            requests_timeout: Duration::from_millis(5_000),
            publish_on_specific_response_channel: false,
            publish_queue: 65_536,
            flavour: Flavour::Classic,
        }
    }
}

impl RedisConfig {
    /// The prefix of every channel (Node: `key`). Default `socket.io`; servers of one cluster
    /// share it.
    ///
    /// ```
    /// use tower_socketio::adapter::redis::RedisConfig;
    /// // Two applications on one Redis, kept apart.
    /// let config = RedisConfig::default().key("chat");
    /// ```
    pub fn key(mut self, key: impl Into<String>) -> Self {
        self.key = key.into();
        self
    }

    /// How long requests to other servers wait for their answers (Node: `requestsTimeout`).
    /// Default 5 s.
    ///
    /// ```
    /// use std::time::Duration;
    /// use tower_socketio::adapter::redis::RedisConfig;
    /// let config = RedisConfig::default().requests_timeout(Duration::from_secs(2));
    /// ```
    pub fn requests_timeout(mut self, timeout: Duration) -> Self {
        self.requests_timeout = timeout;
        self
    }

    /// Answers go to the requesting server's own channel rather than the shared one (Node:
    /// `publishOnSpecificResponseChannel`). Default off; every server hears both.
    ///
    /// ```
    /// use tower_socketio::adapter::redis::RedisConfig;
    /// let config = RedisConfig::default().publish_on_specific_response_channel(true);
    /// ```
    pub fn publish_on_specific_response_channel(mut self, specific: bool) -> Self {
        self.publish_on_specific_response_channel = specific;
        self
    }

    /// The sharded adapter (Node's `createShardedAdapter`, Redis 7 `SPUBLISH`/`SSUBSCRIBE`)
    /// instead of the classic one, with Node's subscription mode: `Dynamic` (the default there:
    /// a channel per room, socket ids excepted; see
    /// [`Socket::room_ready`](crate::Socket::room_ready)), `DynamicPrivate` (socket ids too), or
    /// `Static` (two channels a namespace). The key is then Node's `channelPrefix`.
    ///
    /// ```
    /// use tower_socketio::adapter::redis::{RedisConfig, SubscriptionMode};
    /// let config = RedisConfig::default().sharded(SubscriptionMode::Dynamic);
    /// ```
    pub fn sharded(mut self, mode: SubscriptionMode) -> Self {
        self.flavour = Flavour::Sharded(mode);
        self
    }

    /// The streams adapter (Node's `@socket.io/redis-streams-adapter` 0.3) with Node's
    /// defaults, instead of the classic one: what other servers must not miss (broadcasts,
    /// joins, leaves, disconnections) goes through a Redis stream, and the sessions of
    /// connection state recovery are kept in Redis, so that a client recovers on any server.
    /// The key is then Node's `channelPrefix`. See the [module documentation](self#streams).
    ///
    /// ```
    /// use tower_socketio::adapter::redis::RedisConfig;
    /// // With connection state recovery on the builder, clients recover on any server.
    /// let config = RedisConfig::default().streams();
    /// ```
    pub fn streams(self) -> Self {
        self.streams_config(StreamsConfig::default())
    }

    /// The streams adapter ([`streams`](Self::streams)) with these options.
    ///
    /// ```
    /// use tower_socketio::adapter::redis::{RedisConfig, StreamsConfig};
    /// let config = RedisConfig::default().streams_config(StreamsConfig::default().max_len(50_000));
    /// ```
    pub fn streams_config(mut self, config: StreamsConfig) -> Self {
        self.flavour = Flavour::Streams(config);
        self
    }

    /// How many messages may wait to be published (while Redis is slow or unreachable); beyond
    /// it, operations fail at once. Default 65,536.
    ///
    /// ```
    /// use tower_socketio::adapter::redis::RedisConfig;
    /// let config = RedisConfig::default().publish_queue(10_000);
    /// ```
    pub fn publish_queue(mut self, messages: usize) -> Self {
        self.publish_queue = messages.max(1);
        self
    }
}

/// A connection to Redis shared by the adapters of every namespace of a server: give
/// [`factory`](Self::factory) to [`SocketIoBuilder::adapter`](crate::SocketIoBuilder::adapter).
/// Cheap to clone. See the [module documentation](self).
///
/// ```no_run
/// # async fn run() -> Result<(), tower_socketio::adapter::AdapterError> {
/// use tower_socketio::adapter::redis::{RedisAdapter, RedisConfig};
/// use tower_socketio::SocketIo;
///
/// let redis = RedisAdapter::connect("redis://127.0.0.1:6379", RedisConfig::default()).await?;
/// let io = SocketIo::builder().adapter(redis.factory()).build();
/// redis.ready().await?;
/// # let _ = io;
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct RedisAdapter {
    link: Arc<Link>,
    config: Arc<RedisConfig>,
    /// The streams adapter's streams and their readers.
    streams: Option<Arc<Streams>>,
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
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), tower_socketio::adapter::AdapterError> {
    /// use tower_socketio::adapter::redis::{RedisAdapter, RedisConfig};
    /// let redis = RedisAdapter::connect("redis://:secret@127.0.0.1:6379/0", RedisConfig::default()).await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn connect(url: &str, config: RedisConfig) -> Result<RedisAdapter, AdapterError> {
        let link = Link::connect(url, config.publish_queue).await?;
        let config = Arc::new(config);
        let streams = match &config.flavour {
            Flavour::Streams(options) => Some(Streams::new(url, options.clone())),
            _ => None,
        };
        Ok(RedisAdapter {
            link,
            config,
            streams,
        })
    }

    /// Makes the adapter of each namespace: classic pub/sub (Node's `createAdapter`), sharded
    /// or streams when so [configured](RedisConfig::sharded).
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), tower_socketio::adapter::AdapterError> {
    /// use tower_socketio::adapter::redis::{RedisAdapter, RedisConfig};
    /// use tower_socketio::SocketIo;
    /// let redis = RedisAdapter::connect("redis://127.0.0.1:6379", RedisConfig::default()).await?;
    /// let io = SocketIo::builder().adapter(redis.factory()).build();
    /// redis.ready().await?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn factory(&self) -> impl Fn(LocalNamespace) -> Arc<dyn Adapter> + Send + Sync + 'static {
        let link = self.link.clone();
        let config = self.config.clone();
        let streams = self.streams.clone();
        move |ns| match (&config.flavour, &streams) {
            (Flavour::Sharded(mode), _) => {
                ShardedAdapter::new(ns, link.clone(), config.clone(), *mode) as Arc<dyn Adapter>
            }
            (Flavour::Streams(options), Some(streams)) => {
                StreamsAdapter::new(ns, link.clone(), config.clone(), options.clone(), streams)
                    as Arc<dyn Adapter>
            }
            _ => ClassicAdapter::new(ns, link.clone(), config.clone()) as Arc<dyn Adapter>,
        }
    }

    /// Waits until the subscriptions of every namespace made so far are active and, for the
    /// streams adapter, until the first read of each of their streams knows where it starts:
    /// from then on, what other servers publish is heard. Call it after
    /// [`build`](crate::SocketIoBuilder::build) and before accepting clients.
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), tower_socketio::adapter::AdapterError> {
    /// use tower_socketio::adapter::redis::{RedisAdapter, RedisConfig};
    /// use tower_socketio::SocketIo;
    /// let redis = RedisAdapter::connect("redis://127.0.0.1:6379", RedisConfig::default().sharded(Default::default())).await?;
    /// let io = SocketIo::builder().adapter(redis.factory()).build();
    /// // Only now are broadcasts from the other servers heard.
    /// redis.ready().await?;
    /// let _ = io;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn ready(&self) -> Result<(), AdapterError> {
        self.link.ready().await?;
        if let Some(streams) = &self.streams {
            streams.ready().await;
        }
        Ok(())
    }

    /// How many messages were lost because Redis did not take them (see the module
    /// documentation).
    ///
    /// ```
    /// use tower_socketio::adapter::redis::RedisAdapter;
    /// fn report(redis: &RedisAdapter) {
    ///     tracing::info!(failed = redis.failed_publishes(), dropped = redis.dropped_messages(), "redis adapter");
    /// }
    /// ```
    pub fn failed_publishes(&self) -> u64 {
        self.link.failed.load(Ordering::Relaxed)
    }

    /// How many messages from Redis were dropped because this server fell too far behind
    /// delivering them (65,536 waiting; logged as they are dropped).
    ///
    /// ```
    /// use tower_socketio::adapter::redis::RedisAdapter;
    /// fn healthy(redis: &RedisAdapter) -> bool {
    ///     redis.dropped_messages() == 0 && redis.failed_publishes() == 0
    /// }
    /// ```
    pub fn dropped_messages(&self) -> u64 {
        self.link.dropped.load(Ordering::Relaxed)
    }
}
