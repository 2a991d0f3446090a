//! The streams adapter (Node's `@socket.io/redis-streams-adapter` 0.3, on socket.io-adapter's
//! `ClusterAdapter`): what other servers must not miss goes through a Redis stream, requests and
//! answers through pub/sub, and the sessions of connection state recovery are kept in Redis.
//!
//! # Order and offsets
//! Every event this server hands to its clients from the stream, its own broadcasts included, is
//! handed out as the stream's reader reads it, in the stream's order; the sender's clients get its
//! broadcast once the read brings it back (Node hands its own broadcasts out when `XADD`
//! answers, so a client there can get offsets out of order, and lose an event on recovery).
//! Deliveries, and what depends on their order (what a socket being restored gets in its replay,
//! and what after it), run through one [`Sequencer`] a stream. So the offset of the last event a
//! client got says exactly what it has: every earlier entry meant for it reached it first.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard, RwLock, Weak};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use tokio::sync::{oneshot, watch};

use super::cluster::{self, Bus, Requests};
use super::link::{Link, Publish, Receiver, Reply, Subscribe};
use super::opts::{local_opts, ready, wire_opts};
use super::wire::{ClusterMessage, ClusterMessageKind, StoredSession, StreamId};
use super::{RedisConfig, StreamsConfig};
use crate::adapter::{
    Adapter, AdapterError, AdapterFuture, Answers, BroadcastOptions, EncodedPacket, LocalNamespace,
    MemoryAdapter, Restored, Room, Session, SocketInfo,
};
use crate::engine::Sid;
use crate::value::Value;

/// How many `XRANGE` batches a session's replay reads at most (Node: 100 calls).
const MAX_REPLAY_BATCHES: usize = 100;
/// How long a restored socket's held-back events wait for it to connect.
const RESTORE_GRACE: Duration = Duration::from_secs(60);
/// The most events held back for one socket being restored.
const MAX_HELD_BACK: usize = 100_000;
/// The most broadcasts of this server waiting for the reader to read them back.
const MAX_OWN: usize = 100_000;

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

fn error(what: impl std::fmt::Display) -> AdapterError {
    AdapterError(format!("redis streams: {what}").into())
}

// ---------------------------------------------------------------------------------------------
// Sequencer

/// Where a stream's reader is.
#[derive(Debug, Default)]
struct Position {
    /// Where the reader started (`None` until it knows): entries up to it are never read.
    start: Option<StreamId>,
    /// The last entry read (`start` before any).
    last: StreamId,
}

type Task = Box<dyn FnOnce(&mut Position) + Send>;

#[derive(Default)]
struct Queue {
    tasks: VecDeque<Task>,
    running: bool,
}

/// Runs tasks one at a time, in the order they come, on whichever thread finds none running: a
/// task that comes meanwhile, from another thread or from inside a running one (a handler that
/// emits), is run next by the thread already at it. Deliveries keep the stream's order, and a
/// task may call back into the adapter without deadlock.
#[derive(Default)]
struct Sequencer {
    queue: Mutex<Queue>,
    position: Mutex<Position>,
}

impl Sequencer {
    fn run(&self, task: impl FnOnce(&mut Position) + Send + 'static) {
        {
            let mut queue = lock(&self.queue);
            queue.tasks.push_back(Box::new(task));
            if queue.running {
                return;
            }
            queue.running = true;
        }
        /// Lets another thread run the tasks after a panicking one.
        struct Release<'a>(&'a Mutex<Queue>);
        impl Drop for Release<'_> {
            fn drop(&mut self) {
                if std::thread::panicking() {
                    lock(self.0).running = false;
                }
            }
        }
        let _release = Release(&self.queue);
        loop {
            let task = {
                let mut queue = lock(&self.queue);
                match queue.tasks.pop_front() {
                    Some(task) => task,
                    None => {
                        queue.running = false;
                        return;
                    }
                }
            };
            task(&mut lock(&self.position));
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Streams and their readers

/// A stream entry as the adapter reads it.
struct Entry {
    id: StreamId,
    uid: String,
    nsp: Option<String>,
    kind: String,
    data: Option<Vec<u8>>,
}

impl Entry {
    /// The entry `[id, [field, value, ...]]` of an `XRANGE` or `XREAD` answer.
    fn read(value: redis::Value) -> Option<Entry> {
        let redis::Value::Array(parts) = value else {
            return None;
        };
        let mut parts = parts.into_iter();
        let id = StreamId::parse(&text(parts.next()?)?)?;
        let mut entry = Entry {
            id,
            uid: String::new(),
            nsp: None,
            kind: String::new(),
            data: None,
        };
        let fields = match parts.next()? {
            redis::Value::Array(fields) => fields,
            redis::Value::Map(pairs) => pairs.into_iter().flat_map(|(k, v)| [k, v]).collect(),
            _ => return None,
        };
        let mut fields = fields.into_iter();
        while let (Some(name), Some(value)) = (fields.next(), fields.next()) {
            match (bytes(name).as_deref(), bytes(value)) {
                (Some(b"uid"), Some(v)) => entry.uid = String::from_utf8_lossy(&v).into_owned(),
                (Some(b"nsp"), Some(v)) => entry.nsp = Some(String::from_utf8_lossy(&v).into()),
                (Some(b"type"), Some(v)) => entry.kind = String::from_utf8_lossy(&v).into_owned(),
                (Some(b"data"), Some(v)) => entry.data = Some(v),
                _ => {}
            }
        }
        Some(entry)
    }

    /// The entries of an `XRANGE` answer.
    fn read_all(value: redis::Value) -> Result<Vec<Entry>, AdapterError> {
        match value {
            redis::Value::Array(items) => Ok(items.into_iter().filter_map(Entry::read).collect()),
            redis::Value::Nil => Ok(Vec::new()),
            redis::Value::ServerError(e) => Err(error(e.details().unwrap_or("server error"))),
            _ => Err(error("unexpected XRANGE answer")),
        }
    }

    /// The entries of an `XREAD` answer on one stream (`nil` when the read timed out).
    fn read_xread(value: redis::Value) -> Vec<Entry> {
        let streams = match value {
            redis::Value::Array(streams) => streams,
            redis::Value::Map(pairs) => {
                return pairs
                    .into_iter()
                    .flat_map(|(_, entries)| Entry::read_all(entries).unwrap_or_default())
                    .collect();
            }
            _ => return Vec::new(),
        };
        streams
            .into_iter()
            .filter_map(|stream| match stream {
                redis::Value::Array(mut parts) if parts.len() == 2 => parts.pop(),
                _ => None,
            })
            .flat_map(|entries| Entry::read_all(entries).unwrap_or_default())
            .collect()
    }

    /// The message of this entry, when it is one of this codec's.
    fn message(&self) -> Option<ClusterMessage> {
        let nsp = self.nsp.as_deref()?;
        match ClusterMessage::from_stream_entry(&self.uid, nsp, &self.kind, self.data.as_deref()) {
            Ok(message) => message,
            Err(error) => {
                tracing::debug!(%error, id = %self.id, "redis streams: undecodable entry ignored");
                None
            }
        }
    }
}

fn bytes(value: redis::Value) -> Option<Vec<u8>> {
    match value {
        redis::Value::BulkString(bytes) => Some(bytes),
        redis::Value::SimpleString(text) => Some(text.into_bytes()),
        _ => None,
    }
}

fn text(value: redis::Value) -> Option<String> {
    String::from_utf8(bytes(value)?).ok()
}

/// One stream: its reader's position, and the namespaces' adapters that read it.
pub(crate) struct Stream {
    name: String,
    sequencer: Sequencer,
    /// The last entry whose delivery is done (`None` before the reader starts), read without
    /// the sequencer: a socket that connects now got everything up to it, or was not meant to.
    delivered: Mutex<Option<StreamId>>,
    adapters: RwLock<HashMap<String, Weak<StreamsAdapter>>>,
    /// `true` once the reader knows where it starts.
    started: watch::Sender<bool>,
}

impl Stream {
    fn adapter(&self, nsp: &str) -> Option<Arc<StreamsAdapter>> {
        self.adapters
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(nsp)
            .and_then(Weak::upgrade)
    }

    fn adapters(&self) -> Vec<Arc<StreamsAdapter>> {
        self.adapters
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .values()
            .filter_map(Weak::upgrade)
            .collect()
    }

    /// The reader starts after entry `start`: this server's broadcasts up to it will not be read
    /// back, and are handed out now.
    fn start(self: &Arc<Self>, start: StreamId) {
        let stream = self.clone();
        self.sequencer.run(move |position| {
            position.start = Some(start);
            position.last = position.last.max(start);
            for adapter in stream.adapters() {
                adapter.deliver_own_up_to(start, true);
            }
            *lock(&stream.delivered) = Some(position.last);
            stream.started.send_replace(true);
        });
    }

    /// Hands the entries read out, in order.
    fn dispatch(self: &Arc<Self>, entries: Vec<Entry>) {
        let stream = self.clone();
        self.sequencer.run(move |position| {
            for entry in entries {
                position.last = entry.id;
                // Node's reader skips entries without a namespace.
                if let Some(adapter) = entry.nsp.as_deref().and_then(|nsp| stream.adapter(nsp)) {
                    adapter.on_entry(entry);
                }
                *lock(&stream.delivered) = Some(position.last);
            }
        });
    }
}

/// The streams of one [`RedisAdapter`](super::RedisAdapter), each read by a connection of its
/// own (`XREAD BLOCK` holds it).
pub(crate) struct Streams {
    url: String,
    config: StreamsConfig,
    streams: Mutex<HashMap<String, Arc<Stream>>>,
}

impl Streams {
    pub(crate) fn new(url: &str, config: StreamsConfig) -> Arc<Streams> {
        Arc::new(Streams {
            url: url.to_owned(),
            config,
            streams: Mutex::default(),
        })
    }

    /// The stream of namespace `nsp` (Node's `computeStreamName`), its reader started.
    fn stream(&self, nsp: &str) -> Arc<Stream> {
        let name = stream_name(&self.config, nsp);
        let mut streams = lock(&self.streams);
        if let Some(stream) = streams.get(&name) {
            return stream.clone();
        }
        let stream = Arc::new(Stream {
            name: name.clone(),
            sequencer: Sequencer::default(),
            delivered: Mutex::default(),
            adapters: RwLock::default(),
            started: watch::Sender::new(false),
        });
        streams.insert(name, stream.clone());
        tokio::spawn(read(
            Arc::downgrade(&stream),
            stream.name.clone(),
            self.url.clone(),
            self.config.clone(),
        ));
        stream
    }

    /// Waits until the reader of every stream made so far knows where it starts.
    pub(crate) async fn ready(&self) {
        let streams: Vec<_> = lock(&self.streams).values().cloned().collect();
        for stream in streams {
            let mut started = stream.started.subscribe();
            let _ = started.wait_for(|started| *started).await;
        }
    }
}

/// Node's stream of namespace `nsp`: the name alone with one stream, else `<name>-<i>`, `i` the
/// Java-style hash of the name (UTF-16 units, 32-bit) modulo the count, with JavaScript's sign
/// (a negative `i` names a stream Node's own readers never read; this crate reads it).
fn stream_name(config: &StreamsConfig, nsp: &str) -> String {
    if config.stream_count <= 1 {
        return config.stream_name.clone();
    }
    let hash = nsp.encode_utf16().fold(0i32, |hash, unit| {
        hash.wrapping_mul(31).wrapping_add(i32::from(unit))
    });
    let count = i32::try_from(config.stream_count).unwrap_or(i32::MAX);
    format!("{}-{}", config.stream_name, hash % count)
}

/// Reads stream `name` for ever (until the stream is dropped): first where it ends now, then
/// `XREAD BLOCK` from the last entry read, again after any failure (a reconnection loses
/// nothing the stream still holds).
async fn read(stream: Weak<Stream>, name: String, url: String, config: StreamsConfig) {
    let client = match redis::Client::open(url) {
        Ok(client) => client,
        Err(error) => {
            tracing::error!(%error, "redis streams: invalid URL; the stream is not read");
            return;
        }
    };
    let manager = ConnectionManagerConfig::new()
        .set_connection_timeout(Some(Duration::from_secs(2)))
        .set_response_timeout(Some(config.block_time + Duration::from_secs(5)))
        .set_number_of_retries(usize::MAX)
        .set_max_delay(Duration::from_secs(1));
    let mut failures = 0u32;
    let failed = |failures: &mut u32, error: &dyn std::fmt::Display| {
        *failures += 1;
        if *failures == 1 || *failures % 20 == 0 {
            tracing::warn!(%error, stream = name, "redis streams: reading failed; trying again");
        }
    };
    let mut connection = loop {
        match ConnectionManager::new_with_config(client.clone(), manager.clone()).await {
            Ok(connection) => break connection,
            Err(error) => failed(&mut failures, &error),
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
        if stream.strong_count() == 0 {
            return;
        }
    };
    // Where it starts: after the last entry there is now (Node reads from `$`, so that entries
    // added while its first read is on its way are lost; this reads them).
    let start = loop {
        let answer = redis::cmd("XREVRANGE")
            .arg(&name)
            .arg("+")
            .arg("-")
            .arg("COUNT")
            .arg(1)
            .query_async::<redis::Value>(&mut connection)
            .await;
        match answer.map_err(error).and_then(Entry::read_all) {
            Ok(entries) => break entries.first().map(|e| e.id).unwrap_or_default(),
            Err(error) => failed(&mut failures, &error),
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
        if stream.strong_count() == 0 {
            return;
        }
    };
    let Some(this) = stream.upgrade() else {
        return;
    };
    this.start(start);
    drop(this);
    let mut last = start;
    let block = config.block_time.as_millis().max(1) as u64;
    loop {
        let answer = redis::cmd("XREAD")
            .arg("BLOCK")
            .arg(block)
            .arg("COUNT")
            .arg(config.read_count)
            .arg("STREAMS")
            .arg(&name)
            .arg(last.to_string())
            .query_async::<redis::Value>(&mut connection)
            .await;
        let Some(this) = stream.upgrade() else {
            return;
        };
        match answer {
            Ok(answer) => {
                failures = 0;
                let entries = Entry::read_xread(answer);
                if let Some(entry) = entries.last() {
                    last = entry.id;
                    this.dispatch(entries);
                }
            }
            Err(error) => {
                drop(this);
                failed(&mut failures, &error);
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The adapter

/// Where a delivery falls in the stream's order: a stream entry is `(id, 0)`; an event handed
/// out without an entry of its own (`local`) is `(the last entry read, n)`, after it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Key {
    id: StreamId,
    local: u64,
}

impl Key {
    fn entry(id: StreamId) -> Key {
        Key { id, local: 0 }
    }
}

/// A socket being restored: what this server hands out for it is held back until it is
/// connected again.
struct Restoring {
    rooms: HashSet<Room>,
    /// Entries up to this one are in its replay, or its client has them: it must not get them
    /// again.
    cut: StreamId,
    /// What came after, held back until the socket is connected (without offsets).
    held: Vec<(Key, EncodedPacket)>,
    since: Instant,
    overflowed: bool,
    /// The socket is connected, but the reader is not past `cut` yet: entries up to `cut` are
    /// still kept from it; what comes after reaches it as it comes.
    connected: bool,
}

/// What a delivery does for a socket being restored.
enum ForRestored {
    /// Sent with the others.
    Send,
    /// Not sent: it has it, or gets it later.
    Skip,
    /// Sent on its own with this offset (an event without an entry, handed out while the reader
    /// is behind what the socket has: the offset it carries must not go back).
    SendAt(StreamId),
}

/// What the adapter's deliveries depend on. Locked briefly, never while calling into the
/// namespace (which may call back).
#[derive(Default)]
struct Gate {
    /// This server's broadcasts in the stream, not read back yet.
    own: BTreeMap<StreamId, (EncodedPacket, BroadcastOptions)>,
    restoring: HashMap<Sid, Restoring>,
    /// Connection state recovery: the position each connected socket was up to when it
    /// connected...
    joined: HashMap<Sid, StreamId>,
    /// ... and of those that left, until their session is kept.
    left: HashMap<Sid, (StreamId, Instant)>,
    /// The last `local` number of a [`Key`].
    locals: u64,
}

impl Restoring {
    /// What the delivery of `packet` (the event of `key`, to `opts`) does for this socket.
    fn decide(&mut self, key: Key, packet: &EncodedPacket, opts: &BroadcastOptions) -> ForRestored {
        let entry = key.local == 0;
        if self.connected {
            return if entry && key.id <= self.cut {
                ForRestored::Skip
            } else if !entry && key.id < self.cut {
                ForRestored::SendAt(self.cut)
            } else {
                ForRestored::Send
            };
        }
        if (!entry || key.id > self.cut) && includes(&self.rooms, &opts.rooms, &opts.except) {
            if self.held.len() < MAX_HELD_BACK {
                self.held.push((key, packet.clone()));
            } else {
                self.overflowed = true;
            }
        }
        ForRestored::Skip
    }
}

impl Gate {
    fn prune(&mut self) {
        self.restoring.retain(|sid, restoring| {
            let keep = restoring.since.elapsed() < RESTORE_GRACE;
            if !keep {
                tracing::debug!(%sid, "redis streams: a restored socket never connected");
            }
            keep
        });
    }
}

/// Whether an event to `rooms` but `except` is for a socket in `session` rooms (Node's
/// `shouldIncludePacket`).
fn includes(session: &HashSet<Room>, rooms: &HashSet<Room>, except: &HashSet<Room>) -> bool {
    (rooms.is_empty() || rooms.iter().any(|room| session.contains(room)))
        && !except.iter().any(|room| session.contains(room))
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// The entry id `XADD` answered.
fn entry_id(reply: Reply) -> Result<StreamId, AdapterError> {
    let value = match reply? {
        redis::Value::Array(mut replies) if replies.len() == 1 => replies.pop(),
        _ => None,
    };
    match value {
        Some(redis::Value::ServerError(e)) => Err(error(e.details().unwrap_or("XADD failed"))),
        Some(value) => text(value)
            .as_deref()
            .and_then(StreamId::parse)
            .ok_or_else(|| error("unexpected XADD answer")),
        None => Err(error("unexpected XADD answer")),
    }
}

/// The first reply of `replies`, or its server error.
fn first(replies: Vec<redis::Value>) -> Result<redis::Value, AdapterError> {
    match replies.into_iter().next() {
        Some(redis::Value::ServerError(e)) => Err(error(e.details().unwrap_or("server error"))),
        Some(value) => Ok(value),
        None => Err(error("a reply is missing")),
    }
}

pub(crate) struct StreamsAdapter {
    /// The namespace, connection state recovery options included.
    ns: LocalNamespace,
    /// Rooms and local sends (its namespace has no recovery: offsets are the stream's).
    local: MemoryAdapter,
    requests: Arc<Requests>,
    stream: Arc<Stream>,
    link: Arc<Link>,
    config: Arc<RedisConfig>,
    options: StreamsConfig,
    /// `<prefix>#<nsp>#`: requests (and the server count).
    public: String,
    gate: Mutex<Gate>,
    me: Weak<StreamsAdapter>,
}

impl StreamsAdapter {
    pub(crate) fn new(
        ns: LocalNamespace,
        link: Arc<Link>,
        config: Arc<RedisConfig>,
        options: StreamsConfig,
        streams: &Streams,
    ) -> Arc<Self> {
        let requests = Requests::new();
        let stream = streams.stream(ns.name());
        let public = format!("{}#{}#", config.key, ns.name());
        let private = format!("{}#{}#{}#", config.key, ns.name(), requests.uid);
        let rooms_only = LocalNamespace {
            recovery: None,
            ..ns.clone()
        };
        let adapter = Arc::new_cyclic(|me: &Weak<StreamsAdapter>| StreamsAdapter {
            ns,
            local: MemoryAdapter::new(rooms_only),
            requests,
            stream,
            link,
            config,
            options,
            public,
            gate: Mutex::default(),
            me: me.clone(),
        });
        adapter
            .stream
            .adapters
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(adapter.ns.name().to_owned(), adapter.me.clone());
        let how = if adapter.options.sharded_pub_sub {
            Subscribe::Sharded
        } else {
            Subscribe::Channel
        };
        let receiver: Weak<dyn Receiver> = adapter.me.clone();
        adapter
            .link
            .subscribe(&adapter.public, how, receiver.clone());
        adapter.link.subscribe(&private, how, receiver);
        adapter
    }

    fn gate(&self) -> MutexGuard<'_, Gate> {
        lock(&self.gate)
    }

    /// Whether connection state recovery is on: events then carry their offsets.
    fn recovering(&self) -> bool {
        self.ns.recovery().is_some()
    }

    /// Runs `task` in the stream's sequencer; resolves to what it returns.
    fn sequenced<T, F>(
        &self,
        task: F,
    ) -> impl Future<Output = Result<T, AdapterError>> + Send + 'static + use<T, F>
    where
        T: Send + 'static,
        F: FnOnce(&Arc<Self>, &mut Position) -> T + Send + 'static,
    {
        let (tx, rx) = oneshot::channel();
        if let Some(me) = self.me.upgrade() {
            self.stream.sequencer.run(move |position| {
                let _ = tx.send(task(&me, position));
            });
        }
        async move { rx.await.map_err(|_| error("the adapter is gone")) }
    }

    /// `XADD <stream> MAXLEN ~ <maxLen> * uid <uid> nsp <nsp> type <n> data <data>`.
    fn xadd(&self, message: &ClusterMessage) -> redis::Cmd {
        let mut command = redis::cmd("XADD");
        command
            .arg(&self.stream.name)
            .arg("MAXLEN")
            .arg("~")
            .arg(self.options.max_len)
            .arg("*")
            .arg("uid")
            .arg(&message.uid)
            .arg("nsp")
            .arg(&message.nsp)
            .arg("type")
            .arg((message.message_type() as u8).to_string());
        if let Some(data) = message.stream_data() {
            command.arg("data").arg(data);
        }
        command
    }

    /// Adds a message other servers must not miss (joins, leaves, disconnections) to the
    /// stream.
    fn append(&self, kind: ClusterMessageKind) -> AdapterFuture<()> {
        let sent = self.link.commands(vec![self.xadd(&self.message(kind))]);
        Box::pin(async move { first(sent.await?).map(drop) })
    }

    /// Hands `packet` to this server's sockets `opts` targets, as the event of `key`, with its
    /// offset when recovery is on; a socket being restored gets it later, or has it in its
    /// replay. Runs in the sequencer.
    fn deliver(&self, key: Key, packet: EncodedPacket, opts: BroadcastOptions) {
        let decisions: Vec<(Sid, ForRestored)> = {
            let mut gate = self.gate();
            if gate.restoring.is_empty() {
                Vec::new()
            } else {
                gate.prune();
                let decisions = gate
                    .restoring
                    .iter_mut()
                    .map(|(sid, restoring)| (*sid, restoring.decide(key, &packet, &opts)))
                    .collect();
                // Connected sockets the reader caught up with: nothing is kept from them now.
                gate.restoring
                    .retain(|_, r| !(r.connected && key.local == 0 && key.id >= r.cut));
                decisions
            }
        };
        if decisions.is_empty() {
            let packet = self.stamp(packet, key.id);
            drop(self.local.broadcast(packet, &opts)); // done at once (a ready future)
            return;
        }
        // Not by rooms: a socket being restored may be connected and not in its own room yet.
        let targets = self.local.local_targets(&opts);
        let (alone, targets): (Vec<Sid>, Vec<Sid>) = targets
            .into_iter()
            .filter(|sid| {
                !decisions
                    .iter()
                    .any(|(held, what)| held == sid && matches!(what, ForRestored::Skip))
            })
            .partition(|sid| {
                decisions
                    .iter()
                    .any(|(held, what)| held == sid && matches!(what, ForRestored::SendAt(_)))
            });
        for sid in alone {
            let offset = decisions.iter().find_map(|(held, what)| match what {
                ForRestored::SendAt(offset) if *held == sid => Some(*offset),
                _ => None,
            });
            if let Some(offset) = offset {
                self.ns
                    .send([sid], self.stamp(packet.clone(), offset), opts.volatile);
            }
        }
        self.ns
            .send(targets, self.stamp(packet, key.id), opts.volatile);
    }

    /// `packet` with offset `offset`, when recovery is on.
    fn stamp(&self, packet: EncodedPacket, offset: StreamId) -> EncodedPacket {
        if self.recovering() {
            packet.with_offset(&offset.to_string())
        } else {
            packet
        }
    }

    /// Hands out an event that has no entry of its own (a `local` broadcast, or one Redis did
    /// not take): in order with the stream's, with the last offset read.
    fn deliver_local(&self, packet: EncodedPacket, opts: BroadcastOptions) {
        let Some(me) = self.me.upgrade() else {
            return;
        };
        self.stream.sequencer.run(move |position| {
            if position.start.is_none() {
                // Before the first read: no offset to give.
                drop(me.local.broadcast(packet, &opts));
                return;
            }
            let local = {
                let mut gate = me.gate();
                gate.locals += 1;
                gate.locals
            };
            let key = Key {
                id: position.last,
                local,
            };
            me.deliver(key, packet, opts);
        });
    }

    /// Hands out this server's broadcasts not read back up to `id` (`inclusive`), in order:
    /// entries the reader skipped (it started after them, or they were trimmed or lost).
    fn deliver_own_up_to(&self, id: StreamId, inclusive: bool) {
        loop {
            let next = {
                let mut gate = self.gate();
                match gate.own.first_key_value() {
                    Some((first, _)) if *first < id || (inclusive && *first == id) => {
                        gate.own.pop_first()
                    }
                    _ => None,
                }
            };
            let Some((own, (packet, opts))) = next else {
                return;
            };
            self.deliver(Key::entry(own), packet, opts);
        }
    }

    /// `XADD` of this server's broadcast answered (or failed): remembered until the reader reads
    /// it back, handed out now if the reader will not, or without an offset if Redis did not take
    /// it (as Node does: this server's clients get it anyway).
    fn added(
        &self,
        result: Result<StreamId, AdapterError>,
        packet: EncodedPacket,
        opts: BroadcastOptions,
    ) {
        let Some(me) = self.me.upgrade() else {
            return;
        };
        self.stream.sequencer.run(move |position| match result {
            Ok(id) => {
                let unread = position.start.is_none() || id > position.last;
                if unread {
                    let mut gate = me.gate();
                    if gate.own.len() < MAX_OWN {
                        gate.own.insert(id, (packet, opts));
                        return;
                    }
                } else if position.start.is_some_and(|start| id > start) {
                    return; // read back and handed out already
                }
                me.deliver(Key::entry(id), packet, opts);
            }
            Err(error) => {
                tracing::warn!(%error, "redis streams: a broadcast did not reach the stream; only this server's clients get it");
                let local = {
                    let mut gate = me.gate();
                    gate.locals += 1;
                    gate.locals
                };
                match position.start {
                    Some(_) => me.deliver(
                        Key {
                            id: position.last,
                            local,
                        },
                        packet,
                        opts,
                    ),
                    None => drop(me.local.broadcast(packet, &opts)),
                }
            }
        });
    }

    /// An entry the reader read (in the sequencer).
    fn on_entry(&self, entry: Entry) {
        self.deliver_own_up_to(entry.id, false);
        if entry.uid == self.requests.uid {
            // This server's: its broadcasts are handed out now; joins, leaves and
            // disconnections were done when asked.
            if entry.kind == "3" {
                let own = self.gate().own.remove(&entry.id);
                match own {
                    Some((packet, opts)) => self.deliver(Key::entry(entry.id), packet, opts),
                    None => {
                        if let Some(message) = entry.message() {
                            self.apply(message, Some(entry.id));
                        }
                    }
                }
            }
            return;
        }
        let Some(message) = entry.message() else {
            return;
        };
        if let Some(message) = cluster::on_message(self, &self.me, message) {
            self.apply(message, Some(entry.id));
        }
    }

    /// Applies what another server did (a broadcast, of the stream's entry `id` or not, joins,
    /// leaves, disconnections).
    fn apply(&self, message: ClusterMessage, id: Option<StreamId>) {
        match message.kind {
            ClusterMessageKind::Broadcast {
                packet,
                request_id: None,
                opts,
            } => {
                let Ok(encoded) = packet.to_encoded(self.ns.name(), self.ns.parser()) else {
                    return;
                };
                let local = local_opts(opts.rooms, opts.except, Some(&opts.flags));
                match id {
                    Some(id) => self.deliver(Key::entry(id), encoded, local),
                    None => self.deliver_local(encoded, local),
                }
            }
            ClusterMessageKind::SocketsJoin { opts, rooms } => {
                let local = local_opts(opts.rooms, opts.except, None);
                drop(self.local.add_sockets(&local, &rooms)); // done at once (a ready future)
            }
            ClusterMessageKind::SocketsLeave { opts, rooms } => {
                let local = local_opts(opts.rooms, opts.except, None);
                drop(self.local.del_sockets(&local, &rooms)); // done at once (a ready future)
            }
            ClusterMessageKind::DisconnectSockets { opts, close } => {
                let local = local_opts(opts.rooms, opts.except, None);
                drop(
                    self.local
                        .disconnect_sockets(&local, close.unwrap_or(false)),
                ); // done at once (a ready future)
            }
            _ => {}
        }
    }

    /// Whether a `local` broadcast is a socket's own emit (`Socket::emit` with recovery on: to
    /// the room of one socket of this server): then it goes through the stream, as Node's
    /// `socket.emit` does, to get an offset and be replayed on any server.
    fn is_direct_emit(&self, opts: &BroadcastOptions) -> bool {
        self.recovering()
            && opts.except.is_empty()
            && opts.rooms.len() == 1
            && opts
                .rooms
                .iter()
                .all(|room| room.parse::<Sid>().is_ok() && self.local.has_room(room))
    }

    /// Takes the session of `pid` and the entry of `given` (queued at once: after any session
    /// this server kept before), then restores it (see [`Adapter::restore_session`]).
    fn restore(
        self: Arc<Self>,
        pid: &str,
        given: Option<StreamId>,
    ) -> impl Future<Output = Result<Option<Restored>, AdapterError>> + Send + 'static + use<> {
        // The session goes: GET and DEL in one transaction, as Node does.
        let key = format!("{}{pid}", self.options.session_key_prefix);
        let mut commands = vec![
            redis::cmd("MULTI"),
            redis::cmd("GET").arg(&key).clone(),
            redis::cmd("DEL").arg(&key).clone(),
            redis::cmd("EXEC"),
        ];
        if let Some(id) = given {
            let id = id.to_string();
            commands.push(
                redis::cmd("XRANGE")
                    .arg(&self.stream.name)
                    .arg(&id)
                    .arg(&id)
                    .clone(),
            );
        }
        let sent = self.link.commands(commands);
        self.restore_from(given, sent)
    }

    async fn restore_from(
        self: Arc<Self>,
        given: Option<StreamId>,
        sent: impl Future<Output = Result<Vec<redis::Value>, AdapterError>>,
    ) -> Result<Option<Restored>, AdapterError> {
        let replies = sent.await?;
        let raw = match replies.get(3) {
            Some(redis::Value::Array(results)) => match results.first() {
                Some(redis::Value::BulkString(raw)) => raw.clone(),
                _ => return Ok(None),
            },
            Some(redis::Value::ServerError(e)) => {
                return Err(error(e.details().unwrap_or("MULTI failed")));
            }
            _ => return Err(error("unexpected MULTI answer")),
        };
        let stored = match StoredSession::decode(&raw) {
            Ok(stored) => stored,
            Err(error) => {
                tracing::debug!(%error, "redis streams: an unreadable session");
                return Ok(None);
            }
        };
        let Ok(sid) = stored.sid.parse::<Sid>() else {
            return Ok(None);
        };
        let from = match given {
            // Node's check: the offset is still in the stream, so is everything after it.
            Some(id) => match replies.get(4) {
                Some(redis::Value::Array(found)) if !found.is_empty() => id,
                _ => return Ok(None),
            },
            // This crate's: a client that got no event comes back from where its socket
            // connected.
            None => match stored.offset.as_deref().and_then(StreamId::parse) {
                Some(id) if self.still_kept(id).await? => id,
                _ => return Ok(None),
            },
        };
        let rooms: HashSet<Room> = stored.rooms.iter().cloned().collect();
        let held_rooms = rooms.clone();
        let registered = self
            .sequenced(move |me, position| {
                position.start?;
                me.gate().restoring.insert(
                    sid,
                    Restoring {
                        rooms: held_rooms,
                        cut: from,
                        held: Vec::new(),
                        since: Instant::now(),
                        overflowed: false,
                        connected: false,
                    },
                );
                Some(position.last)
            })
            .await?;
        let Some(reader_at) = registered else {
            return Ok(None); // the stream is not read yet
        };
        let replayed = self.replay(&rooms, from, reader_at).await;
        let (replayed, last) = match replayed {
            Ok(Some(replayed)) => replayed,
            other => {
                self.stream.sequencer.run({
                    let me = self.clone();
                    move |_| {
                        me.gate().restoring.remove(&sid);
                    }
                });
                return other.map(|_| None);
            }
        };
        // The replay is what the reader handed out up to now: the entries read back up to there,
        // and what it held back meanwhile. Entries past it are the reader's to hand out, after.
        let missed = self
            .sequenced(move |me, position| {
                let reader = position.last;
                let mut gate = me.gate();
                let restoring = gate.restoring.get_mut(&sid)?;
                if restoring.overflowed {
                    gate.restoring.remove(&sid);
                    return None;
                }
                let mut missed: Vec<_> = replayed
                    .into_iter()
                    .filter(|(key, _)| key.id <= reader)
                    .collect();
                for (key, packet) in std::mem::take(&mut restoring.held) {
                    if key.local == 0 && key.id <= last {
                        continue; // read back already
                    }
                    missed.push((key, packet));
                }
                missed.sort_by_key(|(key, _)| *key);
                restoring.cut = reader.max(from);
                drop(gate);
                let missed: Vec<_> = missed
                    .into_iter()
                    .map(|(key, packet)| {
                        // An event without an entry carries the offset before it, or the
                        // client's when that is later.
                        let offset = if key.local == 0 {
                            key.id
                        } else {
                            key.id.max(from)
                        };
                        me.stamp(packet, offset)
                    })
                    .collect();
                Some(missed)
            })
            .await?;
        let Some(missed) = missed else {
            return Ok(None);
        };
        Ok(Some(Restored {
            session: Session {
                sid,
                pid: stored.pid,
                rooms: stored.rooms,
                data: stored.data,
                connected_at: now_ms(),
            },
            missed,
        }))
    }

    /// Whether every entry after `id` is still in the stream: `id` is (trimming removes the
    /// oldest first), or, for `0-0` (the stream was empty), nothing was ever trimmed (the
    /// stream is shorter than its `MAXLEN`).
    async fn still_kept(&self, id: StreamId) -> Result<bool, AdapterError> {
        if id == StreamId::default() {
            let length = first(
                self.link
                    .commands(vec![redis::cmd("XLEN").arg(&self.stream.name).clone()])
                    .await?,
            )?;
            return Ok(
                matches!(length, redis::Value::Int(n) if (n.max(0) as u64) < self.options.max_len),
            );
        }
        let id = id.to_string();
        let found = first(
            self.link
                .commands(vec![
                    redis::cmd("XRANGE")
                        .arg(&self.stream.name)
                        .arg(&id)
                        .arg(&id)
                        .clone(),
                ])
                .await?,
        )?;
        Ok(!Entry::read_all(found)?.is_empty())
    }

    /// The events for a socket in `rooms` after entry `from` (without their offsets), read in
    /// batches until the end of the stream, or at least up to `reader_at` (what comes after,
    /// the reader holds back for it). `None` when the stream outruns the replay.
    async fn replay(
        &self,
        rooms: &HashSet<Room>,
        from: StreamId,
        reader_at: StreamId,
    ) -> Result<Option<(Vec<(Key, EncodedPacket)>, StreamId)>, AdapterError> {
        let batch = self.options.read_count;
        let mut missed = Vec::new();
        let mut last = from;
        for _ in 0..MAX_REPLAY_BATCHES {
            let command = redis::cmd("XRANGE")
                .arg(&self.stream.name)
                .arg(last.next().to_string())
                .arg("+")
                .arg("COUNT")
                .arg(batch)
                .clone();
            let entries = Entry::read_all(first(self.link.commands(vec![command]).await?)?)?;
            let count = entries.len();
            for entry in entries {
                last = entry.id;
                if entry.nsp.as_deref() != Some(self.ns.name()) || entry.kind != "3" {
                    continue;
                }
                let Some(ClusterMessage {
                    kind:
                        ClusterMessageKind::Broadcast {
                            packet,
                            request_id: None,
                            opts,
                        },
                    ..
                }) = entry.message()
                else {
                    continue;
                };
                let opts = local_opts(opts.rooms, opts.except, None);
                if !includes(rooms, &opts.rooms, &opts.except) {
                    continue;
                }
                if let Ok(encoded) = packet.to_encoded(self.ns.name(), self.ns.parser()) {
                    missed.push((Key::entry(entry.id), encoded));
                }
            }
            if count < batch || last >= reader_at {
                return Ok(Some((missed, last)));
            }
        }
        Ok(None)
    }
}

impl Receiver for StreamsAdapter {
    /// Requests and answers over pub/sub: the whole message in `@msgpack/msgpack`.
    fn receive(&self, _channel: &[u8], payload: Bytes) {
        match ClusterMessage::decode(&payload) {
            Ok(Some(message)) => {
                if let Some(message) = cluster::on_message(self, &self.me, message) {
                    self.apply(message, None);
                }
            }
            Ok(None) => {}
            Err(error) => tracing::debug!(%error, "redis streams: undecodable message ignored"),
        }
    }
}

impl Bus for StreamsAdapter {
    fn local(&self) -> &MemoryAdapter {
        &self.local
    }

    fn requests(&self) -> &Arc<Requests> {
        &self.requests
    }

    fn requests_timeout(&self) -> Duration {
        self.config.requests_timeout
    }

    fn publish(&self, message: &ClusterMessage) -> AdapterFuture<()> {
        let how = if self.options.sharded_pub_sub {
            Publish::Sharded
        } else {
            Publish::Plain
        };
        Box::pin(
            self.link
                .publish(self.public.clone(), message.encode_msgpack_js(), how),
        )
    }

    fn publish_response(&self, requester: &str, message: &ClusterMessage) -> AdapterFuture<()> {
        let how = if self.options.sharded_pub_sub {
            Publish::Sharded
        } else {
            Publish::Plain
        };
        let channel = format!("{}#{}#{requester}#", self.config.key, self.ns.name());
        Box::pin(self.link.publish(channel, message.encode_msgpack_js(), how))
    }

    fn server_count(&self) -> AdapterFuture<usize> {
        let link = self.link.clone();
        let channel = self.public.clone();
        let sharded = self.options.sharded_pub_sub;
        Box::pin(async move { link.subscribers(sharded, &channel).await })
    }
}

impl Adapter for StreamsAdapter {
    fn namespace(&self) -> &LocalNamespace {
        &self.ns
    }

    fn add_all(&self, sid: Sid, rooms: &[Room]) {
        self.local.add_all(sid, rooms);
        // A socket joins its own room as it connects: where the stream is then is where its
        // client would come back from without an offset.
        // (Done here, not in the sequencer: the namespace calls this with locks held.)
        if self.recovering() && rooms.len() == 1 && rooms[0] == sid.as_str() {
            let delivered = *lock(&self.stream.delivered);
            if let Some(delivered) = delivered {
                self.gate().joined.insert(sid, delivered);
            }
        }
    }

    fn del(&self, sid: Sid, room: &str) {
        self.local.del(sid, room);
    }

    fn del_all(&self, sid: Sid) {
        self.local.del_all(sid);
        if self.recovering() {
            let mut gate = self.gate();
            gate.left.retain(|_, (_, at)| at.elapsed() < RESTORE_GRACE);
            if let Some(joined) = gate.joined.remove(&sid) {
                gate.left.insert(sid, (joined, Instant::now()));
            }
        }
    }

    fn socket_rooms(&self, sid: Sid) -> Vec<Room> {
        self.local.socket_rooms(sid)
    }

    fn rooms(&self) -> Vec<Room> {
        self.local.rooms()
    }

    fn local_targets(&self, opts: &BroadcastOptions) -> Vec<Sid> {
        self.local.local_targets(opts)
    }

    /// Into the stream (`XADD`), this server's sockets getting it as the stream is read back;
    /// `local` broadcasts only here, but a socket's own emit with recovery on, which goes into
    /// the stream too (Node's `socket.emit` does).
    fn broadcast(&self, packet: EncodedPacket, opts: &BroadcastOptions) -> AdapterFuture<()> {
        if opts.local && !self.is_direct_emit(opts) {
            self.deliver_local(packet, opts.clone());
            return ready(());
        }
        let wire = match cluster::wire_packet(&packet) {
            Ok(wire) => wire,
            Err(error) => return Box::pin(std::future::ready(Err(error))),
        };
        let command = self.xadd(&self.message(ClusterMessageKind::Broadcast {
            packet: wire,
            request_id: None,
            opts: wire_opts(opts),
        }));
        let (tx, rx) = oneshot::channel();
        let me = self.me.clone();
        let opts = opts.clone();
        self.link.command_then(
            command,
            Box::new(move |reply| {
                let id = entry_id(reply);
                let done = match &id {
                    Ok(_) => Ok(()),
                    Err(e) => Err(AdapterError(e.to_string().into())),
                };
                if let Some(me) = me.upgrade() {
                    me.added(id, packet, opts);
                }
                let _ = tx.send(done);
            }),
        );
        Box::pin(async move {
            rx.await
                .unwrap_or_else(|_| Err(error("the publisher stopped")))
        })
    }

    fn broadcast_with_ack(
        &self,
        packet: EncodedPacket,
        opts: &BroadcastOptions,
        answers: Answers,
    ) -> AdapterFuture<()> {
        cluster::broadcast_with_ack(self, packet, opts, answers)
    }

    fn fetch_sockets(&self, opts: &BroadcastOptions) -> AdapterFuture<Vec<SocketInfo>> {
        cluster::fetch_sockets(self, &self.me, opts)
    }

    fn add_sockets(&self, opts: &BroadcastOptions, rooms: &[Room]) -> AdapterFuture<()> {
        drop(self.local.add_sockets(opts, rooms)); // done at once (a ready future)
        if opts.local {
            return ready(());
        }
        self.append(ClusterMessageKind::SocketsJoin {
            opts: wire_opts(opts),
            rooms: rooms.to_vec(),
        })
    }

    fn del_sockets(&self, opts: &BroadcastOptions, rooms: &[Room]) -> AdapterFuture<()> {
        drop(self.local.del_sockets(opts, rooms)); // done at once (a ready future)
        if opts.local {
            return ready(());
        }
        self.append(ClusterMessageKind::SocketsLeave {
            opts: wire_opts(opts),
            rooms: rooms.to_vec(),
        })
    }

    fn disconnect_sockets(&self, opts: &BroadcastOptions, close: bool) -> AdapterFuture<()> {
        drop(self.local.disconnect_sockets(opts, close)); // done at once (a ready future)
        if opts.local {
            return ready(());
        }
        self.append(ClusterMessageKind::DisconnectSockets {
            opts: wire_opts(opts),
            close: Some(close),
        })
    }

    fn server_side_emit(
        &self,
        event: &str,
        args: Vec<Value>,
        answers: Option<Answers>,
    ) -> AdapterFuture<()> {
        cluster::server_side_emit(self, event, args, answers)
    }

    fn server_count(&self) -> AdapterFuture<usize> {
        Bus::server_count(self)
    }

    /// `SET <prefix><pid> <base64 of the session> PX <max disconnection duration>`, as Node
    /// keeps it, with where the stream was when the socket connected (for a client that comes
    /// back without an offset).
    fn persist_session(&self, session: Session) -> AdapterFuture<()> {
        let Some(recovery) = self.ns.recovery() else {
            return ready(());
        };
        let ttl = recovery.max_disconnection_duration.as_millis().max(1) as u64;
        let offset = self
            .gate()
            .left
            .remove(&session.sid)
            .map(|(id, _)| id.to_string());
        let stored = StoredSession {
            sid: session.sid.to_string(),
            pid: session.pid.clone(),
            rooms: session.rooms,
            data: session.data,
            offset,
        };
        let command = redis::cmd("SET")
            .arg(format!(
                "{}{}",
                self.options.session_key_prefix, session.pid
            ))
            .arg(stored.encode())
            .arg("PX")
            .arg(ttl)
            .clone();
        // Queued now: a restoration asked for after this finds it.
        let sent = self.link.commands(vec![command]);
        Box::pin(async move { first(sent.await?).map(drop) })
    }

    /// `MULTI GET DEL` of the session and `XRANGE` of the offset, as Node does; then the events
    /// after it in batches (type 3 entries of this namespace for the session's rooms), each with
    /// its entry id as its offset. Without an offset (a client that got no event), from where
    /// the stream was when the socket connected, if this crate kept the session.
    fn restore_session(&self, pid: &str, offset: Option<&str>) -> AdapterFuture<Option<Restored>> {
        let (Some(me), Some(_)) = (self.me.upgrade(), self.ns.recovery()) else {
            return ready(None);
        };
        let given = match offset {
            Some(offset) => match StreamId::parse(offset) {
                Some(id) => Some(id),
                None => return ready(None), // not this adapter's (Node: "invalid offset")
            },
            None => None,
        };
        Box::pin(me.restore(pid, given))
    }

    fn session_restored(&self, sid: Sid) {
        let Some(me) = self.me.upgrade() else {
            return;
        };
        self.stream.sequencer.run(move |position| {
            let (held, cut) = {
                let mut gate = me.gate();
                let Some(restoring) = gate.restoring.get_mut(&sid) else {
                    return;
                };
                if restoring.overflowed {
                    tracing::warn!(%sid, "redis streams: too many events held back for a restored socket; some are lost");
                }
                let held = std::mem::take(&mut restoring.held);
                let cut = restoring.cut;
                if position.last >= cut {
                    gate.restoring.remove(&sid);
                } else {
                    // The reader has yet to pass what the socket has: it keeps those from it.
                    restoring.connected = true;
                }
                gate.joined.insert(sid, position.last.max(cut));
                (held, cut)
            };
            for (key, packet) in held {
                let offset = if key.local == 0 {
                    key.id
                } else {
                    key.id.max(cut)
                };
                me.ns.send([sid], me.stamp(packet, offset), false);
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn namespaces_map_to_streams_as_node_maps_them() {
        let config = |count| StreamsConfig::default().stream_count(count);
        assert_eq!(stream_name(&config(1), "/chat"), "socket.io");
        // Node's `hashCode(nsp) % streamCount`, sign included (values from Node).
        for (nsp, three, four) in [
            ("/", 2, 3),
            ("/chat", 1, 3),
            ("/admin-namespace", -2, -2),
            ("/é😀", 2, 1),
            ("/zzzzzzzz", -1, -1),
        ] {
            assert_eq!(stream_name(&config(3), nsp), format!("socket.io-{three}"));
            assert_eq!(stream_name(&config(4), nsp), format!("socket.io-{four}"));
        }
    }

    fn set(rooms: &[&str]) -> HashSet<Room> {
        rooms.iter().map(|r| r.to_string()).collect()
    }

    #[test]
    fn packets_for_a_session_as_node_picks_them() {
        let session = set(&["sid", "red"]);
        assert!(includes(&session, &set(&[]), &set(&[])));
        assert!(includes(&session, &set(&["red", "blue"]), &set(&[])));
        assert!(!includes(&session, &set(&["blue"]), &set(&[])));
        assert!(!includes(&session, &set(&[]), &set(&["sid"])));
        assert!(!includes(&session, &set(&["red"]), &set(&["red"])));
    }

    #[test]
    fn a_socket_being_restored_gets_nothing_twice_and_nothing_late() {
        let id = |ms| StreamId { ms, seq: 0 };
        let packet = EncodedPacket::parse("42[\"e\"]", Vec::new()).unwrap();
        let to_all = BroadcastOptions::default();
        let mut restoring = Restoring {
            rooms: set(&["sid"]),
            cut: id(10),
            held: Vec::new(),
            since: Instant::now(),
            overflowed: false,
            connected: false,
        };
        // Before it connects: everything after the cut is held back, the rest skipped.
        for key in [Key::entry(id(9)), Key::entry(id(10)), Key::entry(id(11))] {
            assert!(matches!(
                restoring.decide(key, &packet, &to_all),
                ForRestored::Skip
            ));
        }
        let local = Key {
            id: id(11),
            local: 1,
        };
        restoring.decide(local, &packet, &to_all);
        let to_blue = BroadcastOptions {
            rooms: set(&["blue"]),
            ..BroadcastOptions::default()
        };
        restoring.decide(Key::entry(id(12)), &packet, &to_blue);
        let held: Vec<Key> = restoring.held.iter().map(|(key, _)| *key).collect();
        assert_eq!(held, [Key::entry(id(11)), local]);
        // Connected while the reader is behind the cut: entries up to it are still kept from
        // it, events without an entry carry the cut, what comes after is sent.
        restoring.connected = true;
        restoring.cut = id(20);
        assert!(matches!(
            restoring.decide(Key::entry(id(20)), &packet, &to_all),
            ForRestored::Skip
        ));
        assert!(matches!(
            restoring.decide(Key { id: id(15), local: 2 }, &packet, &to_all),
            ForRestored::SendAt(cut) if cut == id(20)
        ));
        assert!(matches!(
            restoring.decide(Key::entry(id(21)), &packet, &to_all),
            ForRestored::Send
        ));
    }
}
