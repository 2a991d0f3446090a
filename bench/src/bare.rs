//! What the bare WebSocket servers share: the handful of Engine.IO / Socket.IO frames the
//! scenarios use, answered by string matching, and a hub of per-connection bounded queues.
//!
//! The bare servers are the practical limit of the stack: no Socket.IO library, no packet
//! objects, one serialization per broadcast shared by every recipient, batched writes.

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http_body_util::Empty;
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;

use tokio::sync::mpsc;

/// How many frames a connection's queue holds; a full queue drops the frame (counted).
pub const QUEUE: usize = 4096;
/// At most this many queued frames are written before one flush.
pub const BATCH: usize = 64;
/// Largest message accepted from a client.
pub const MAX_MESSAGE: usize = 1_000_000;

/// What a client's text frame asks of the server.
pub enum Action {
    /// Answer this connection with one frame.
    Reply(String),
    /// Join a room, then answer with the frame.
    Join(String, String),
    /// Emit `tick` n times to every connection.
    Fanout(u64),
    /// Emit `tick` i to the i-th listed room, in order.
    Rooms(Vec<String>),
    /// Nothing to do (pong, unknown frame).
    Nothing,
}

/// The Engine.IO open packet for a new connection.
pub fn open_packet(id: u64) -> String {
    format!(
        "0{{\"sid\":\"bare{id:016}\",\"upgrades\":[],\"pingInterval\":25000,\"pingTimeout\":20000,\"maxPayload\":1000000}}"
    )
}

/// The `tick` event frame with argument `i`.
pub fn tick(i: u64) -> String {
    format!("42[\"tick\",{i}]")
}

/// Decides what a text frame asks for.
pub fn action(id: u64, text: &str) -> Action {
    if text == "40" || text.starts_with("40{") {
        return Action::Reply(format!("40{{\"sid\":\"bares{id:016}\"}}"));
    }
    let Some(event) = text.strip_prefix("42") else {
        return Action::Nothing;
    };
    let digits = event.bytes().take_while(u8::is_ascii_digit).count();
    let (ack_id, body) = event.split_at(digits);
    if let Some(args) = body.strip_prefix("[\"ack\",") {
        return Action::Reply(format!("43{ack_id}[{args}"));
    }
    if let Some(count) = body.strip_prefix("[\"fanout\",") {
        return Action::Fanout(count.trim_end_matches(']').parse().unwrap_or(0));
    }
    if body.starts_with("[\"join\",") {
        let room = serde_json::from_str::<(String, String)>(body).map(|(_, room)| room);
        return match room {
            Ok(room) => Action::Join(room, format!("43{ack_id}[]")),
            Err(_) => Action::Nothing,
        };
    }
    if body.starts_with("[\"rooms\",") {
        return match serde_json::from_str::<(String, Vec<String>)>(body) {
            Ok((_, rooms)) => Action::Rooms(rooms),
            Err(_) => Action::Nothing,
        };
    }
    Action::Nothing
}

/// Every connection's queue, and the rooms.
pub struct Hub<T> {
    connections: Mutex<HashMap<u64, mpsc::Sender<T>>>,
    rooms: Mutex<HashMap<String, Vec<u64>>>,
    next: AtomicU64,
    /// Frames dropped because a queue was full.
    pub drops: AtomicU64,
}

impl<T: Clone> Default for Hub<T> {
    fn default() -> Self {
        Hub {
            connections: Mutex::new(HashMap::new()),
            rooms: Mutex::new(HashMap::new()),
            next: AtomicU64::new(1),
            drops: AtomicU64::new(0),
        }
    }
}

impl<T: Clone> Hub<T> {
    /// Registers a connection: its id and the receiving end of its queue.
    pub fn add(&self) -> (u64, mpsc::Sender<T>, mpsc::Receiver<T>) {
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = mpsc::channel(QUEUE);
        self.connections.lock().unwrap().insert(id, tx.clone());
        (id, tx, rx)
    }

    /// Forgets a connection and its room memberships.
    pub fn remove(&self, id: u64) {
        self.connections.lock().unwrap().remove(&id);
        for members in self.rooms.lock().unwrap().values_mut() {
            members.retain(|m| *m != id);
        }
    }

    /// Adds a connection to a room.
    pub fn join(&self, id: u64, room: String) {
        self.rooms.lock().unwrap().entry(room).or_default().push(id);
    }

    fn push(&self, tx: &mpsc::Sender<T>, item: T) {
        if tx.try_send(item).is_err() {
            self.drops.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Queues a frame for one connection.
    pub fn send(&self, tx: &mpsc::Sender<T>, item: T) {
        self.push(tx, item);
    }

    /// Queues a frame for every connection.
    pub fn broadcast(&self, item: T) {
        for tx in self.connections.lock().unwrap().values() {
            self.push(tx, item.clone());
        }
    }

    /// Queues a frame for every member of a room.
    pub fn broadcast_room(&self, room: &str, item: T) {
        let rooms = self.rooms.lock().unwrap();
        let Some(members) = rooms.get(room) else {
            return;
        };
        let connections = self.connections.lock().unwrap();
        for id in members {
            if let Some(tx) = connections.get(id) {
                self.push(tx, item.clone());
            }
        }
    }

    /// Carries out what a frame asked for; `wrap` turns text into the queue's item.
    pub fn handle(&self, id: u64, tx: &mpsc::Sender<T>, text: &str, wrap: impl Fn(String) -> T) {
        match action(id, text) {
            Action::Reply(reply) => self.send(tx, wrap(reply)),
            Action::Join(room, reply) => {
                self.join(id, room);
                self.send(tx, wrap(reply));
            }
            Action::Fanout(count) => {
                for i in 0..count {
                    self.broadcast(wrap(tick(i)));
                }
            }
            Action::Rooms(rooms) => {
                for (i, room) in rooms.iter().enumerate() {
                    self.broadcast_room(room, wrap(tick(i as u64)));
                }
            }
            Action::Nothing => {}
        }
    }
}

/// Reports dropped frames on stderr once a second while there are new ones.
fn watch_drops<T: Clone + Send + 'static>(hub: Arc<Hub<T>>) {
    tokio::spawn(async move {
        let mut last = 0;
        loop {
            tokio::time::sleep(std::time::Duration::from_secs(1)).await;
            let now = hub.drops.load(Ordering::Relaxed);
            if now != last {
                eprintln!("bare server: {now} frames dropped (queue full)");
                last = now;
            }
        }
    });
}

/// Answers a request: 101 and a task for the WebSocket, or an error status.
pub type Upgrade<T> = fn(&mut Request<Incoming>, Arc<Hub<T>>) -> Response<Empty<Bytes>>;

/// Runs a bare server on PORT (see [`crate::server_runtime`]): HTTP/1.1 connections whose requests
/// `upgrade` answers (101 and a task for the WebSocket, or an error status).
pub fn serve<T>(upgrade: Upgrade<T>)
where
    T: Clone + Send + 'static,
{
    let runtime = crate::server_runtime().unwrap();
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", crate::port()))
            .await
            .unwrap();
        let hub = Arc::new(Hub::<T>::default());
        watch_drops(hub.clone());
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let _ = stream.set_nodelay(true);
            let hub = hub.clone();
            tokio::spawn(async move {
                let service = service_fn(move |mut req| {
                    let response = upgrade(&mut req, hub.clone());
                    async move { Ok::<_, Infallible>(response) }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .with_upgrades()
                    .await;
            });
        }
    })
}
