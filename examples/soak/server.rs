//! The server under test: a tower-socketio namespace beside an axum `/stats` route, run in its own
//! process. Every broadcast carries a sequence number taken under one lock together with room
//! membership, so a client can tell exactly which broadcasts it was owed.
//!
//! Events (every one acknowledged):
//! - `hello` → the last global broadcast number: every later `g` broadcast is owed to the socket;
//! - `join` (room index) → the room's last broadcast number: every later `t` of that room is owed;
//! - `leave` → the room's last broadcast number: every `t` up to it was owed (and is already queued
//!   before the answer);
//! - `bye` → the last global broadcast number, likewise;
//! - `echo` (n) → n.
//!
//! Broadcasts: `t` [room, n] to each room every `SOAK_ROOM_TICK_MS`, `g` [n] to everyone every
//! `SOAK_GLOBAL_TICK_MS`.

use std::alloc::{GlobalAlloc, Layout, System};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::routing::get;
use tower_socketio::extract::{AckSender, Data, State};
use tower_socketio::{DisconnectReason, EngineConfig, Namespace, SocketIo, SocketRef};

/// The system allocator, counting the bytes allocated and not yet freed: the soak tells memory the
/// process still holds (a leak) from pages the allocator keeps cached (RSS alone cannot).
struct Counting;

static LIVE_HEAP: AtomicI64 = AtomicI64::new(0);

// SAFETY: every call goes to the system allocator unchanged; only a counter is added.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            LIVE_HEAP.fetch_add(layout.size() as i64, Ordering::Relaxed);
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            LIVE_HEAP.fetch_add(layout.size() as i64, Ordering::Relaxed);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        LIVE_HEAP.fetch_sub(layout.size() as i64, Ordering::Relaxed);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            LIVE_HEAP.fetch_add(new_size as i64 - layout.size() as i64, Ordering::Relaxed);
        }
        p
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// The server's settings, from the environment (the load process sets them).
#[derive(Debug, Clone)]
pub struct ServerConfig {
    pub rooms: usize,
    pub room_tick: Duration,
    pub global_tick: Duration,
    pub ping_interval: Duration,
    pub ping_timeout: Duration,
}

impl ServerConfig {
    /// Reads `SOAK_*` variables, with defaults.
    pub fn from_env() -> Self {
        let ms = |name: &str, default: u64| {
            Duration::from_millis(
                std::env::var(name)
                    .ok()
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(default),
            )
        };
        ServerConfig {
            rooms: std::env::var("SOAK_ROOMS")
                .ok()
                .and_then(|v| v.parse().ok())
                .unwrap_or(100usize)
                .max(1),
            room_tick: ms("SOAK_ROOM_TICK_MS", 1000),
            global_tick: ms("SOAK_GLOBAL_TICK_MS", 5000),
            ping_interval: ms("SOAK_PING_INTERVAL_MS", 10000),
            ping_timeout: ms("SOAK_PING_TIMEOUT_MS", 10000),
        }
    }

    /// The same settings as `SOAK_*` variables, for the child process.
    pub fn to_env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("SOAK_ROOMS", self.rooms.to_string()),
            ("SOAK_ROOM_TICK_MS", self.room_tick.as_millis().to_string()),
            (
                "SOAK_GLOBAL_TICK_MS",
                self.global_tick.as_millis().to_string(),
            ),
            (
                "SOAK_PING_INTERVAL_MS",
                self.ping_interval.as_millis().to_string(),
            ),
            (
                "SOAK_PING_TIMEOUT_MS",
                self.ping_timeout.as_millis().to_string(),
            ),
        ]
    }
}

/// Broadcast numbers and room sizes, changed only together under one lock.
struct Seqs {
    room_seq: Vec<u64>,
    room_members: Vec<u64>,
    global_seq: u64,
}

/// What the server did, for `/stats`.
#[derive(Default)]
struct Counters {
    connects: AtomicU64,
    disconnects: AtomicU64,
    echo_received: AtomicU64,
    acks_sent: AtomicU64,
    ack_errors: AtomicU64,
    room_broadcasts: AtomicU64,
    global_broadcasts: AtomicU64,
    broadcast_errors: AtomicU64,
    /// Room broadcasts times the room's members, plus global broadcasts times the sockets.
    deliveries_queued: AtomicU64,
    /// Disconnections by reason.
    reasons: Mutex<BTreeMap<String, u64>>,
}

#[derive(Clone)]
struct Shared {
    seqs: Arc<Mutex<Seqs>>,
    counters: Arc<Counters>,
}

/// The room a socket joined (kept on the socket).
#[derive(Clone, Copy)]
struct Member(usize);

/// The `/stats` answer.
#[derive(Debug, Default, Clone, serde::Serialize, serde::Deserialize)]
pub struct Stats {
    pub pid: u32,
    pub tasks: usize,
    pub sockets: usize,
    pub rss_kb: u64,
    /// Heap bytes allocated and not freed.
    pub heap_bytes: i64,
    pub connects: u64,
    pub disconnects: u64,
    pub echo_received: u64,
    pub acks_sent: u64,
    pub ack_errors: u64,
    pub room_broadcasts: u64,
    pub global_broadcasts: u64,
    pub broadcast_errors: u64,
    pub deliveries_queued: u64,
    /// Disconnections by reason (Node's words).
    pub disconnect_reasons: BTreeMap<String, u64>,
}

fn room_name(room: usize) -> String {
    format!("r{room}")
}

fn answer<T: serde::Serialize>(ack: AckSender, counters: &Counters, data: &T) {
    match ack.send(data) {
        Ok(()) => counters.acks_sent.fetch_add(1, Ordering::Relaxed),
        Err(_) => counters.ack_errors.fetch_add(1, Ordering::Relaxed),
    };
}

/// Resident memory of this process in kB.
pub fn rss_kb(pid: u32) -> u64 {
    status_kb(pid, "VmRSS:")
}

/// A `kB` field of /proc/PID/status (0 when unreadable).
pub fn status_kb(pid: u32, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// Hands the allocator's free pages back to the system (glibc's `malloc_trim`), so that RSS
/// counts what the server holds rather than what the allocator keeps cached for reuse. Memory
/// still referenced (a leak) cannot be trimmed.
fn trim_heap() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        unsafe extern "C" {
            fn malloc_trim(pad: usize) -> i32;
        }
        // SAFETY: glibc's malloc_trim takes no pointer and is thread-safe.
        unsafe {
            malloc_trim(0);
        }
    }
}

/// Runs the server on a free loopback port until the process is killed or its stdin closes.
/// Prints `SOAK-LISTENING <port> <pid>` on stdout once it accepts connections.
pub fn run_server() -> std::io::Result<()> {
    let config = ServerConfig::from_env();
    // The load process holds our stdin: when it goes away, so do we.
    std::thread::spawn(|| {
        let mut sink = Vec::new();
        let _ = std::io::Read::read_to_end(&mut std::io::stdin(), &mut sink);
        std::process::exit(0);
    });
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .try_init();
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(serve(config))
}

async fn serve(config: ServerConfig) -> std::io::Result<()> {
    let shared = Shared {
        seqs: Arc::new(Mutex::new(Seqs {
            room_seq: vec![0; config.rooms],
            room_members: vec![0; config.rooms],
            global_seq: 0,
        })),
        counters: Arc::new(Counters::default()),
    };
    let rooms = config.rooms;
    let ns = Namespace::new()
        .on_connect(|State(s): State<Shared>| async move {
            s.counters.connects.fetch_add(1, Ordering::Relaxed);
        })
        .on(
            "hello",
            |State(s): State<Shared>, ack: AckSender| async move {
                let seqs = s.seqs.lock().unwrap();
                // Answered under the lock: no later broadcast can be queued before the answer.
                answer(ack, &s.counters, &seqs.global_seq);
            },
        )
        .on(
            "join",
            move |socket: SocketRef,
                  State(s): State<Shared>,
                  ack: AckSender,
                  Data(room): Data<usize>| async move {
                let room = room % rooms;
                let mut seqs = s.seqs.lock().unwrap();
                if socket.insert_extension(Member(room)).is_none() {
                    socket.join(room_name(room));
                    seqs.room_members[room] += 1;
                }
                answer(ack, &s.counters, &seqs.room_seq[room]);
            },
        )
        .on(
            "leave",
            |socket: SocketRef, State(s): State<Shared>, ack: AckSender| async move {
                let mut seqs = s.seqs.lock().unwrap();
                match socket.remove_extension::<Member>() {
                    Some(Member(room)) => {
                        socket.leave(room_name(room));
                        seqs.room_members[room] -= 1;
                        answer(ack, &s.counters, &seqs.room_seq[room]);
                    }
                    None => answer(ack, &s.counters, &-1i64),
                }
            },
        )
        .on(
            "bye",
            |State(s): State<Shared>, ack: AckSender| async move {
                let seqs = s.seqs.lock().unwrap();
                answer(ack, &s.counters, &seqs.global_seq);
            },
        )
        .on(
            "echo",
            |State(s): State<Shared>, ack: AckSender, Data(n): Data<u64>| async move {
                s.counters.echo_received.fetch_add(1, Ordering::Relaxed);
                answer(ack, &s.counters, &n);
            },
        )
        .on_disconnect(
            |socket: SocketRef, State(s): State<Shared>, reason: DisconnectReason| async move {
                s.counters.disconnects.fetch_add(1, Ordering::Relaxed);
                *s.counters
                    .reasons
                    .lock()
                    .unwrap()
                    .entry(reason.as_str().to_owned())
                    .or_default() += 1;
                let mut seqs = s.seqs.lock().unwrap();
                if let Some(Member(room)) = socket.remove_extension::<Member>() {
                    seqs.room_members[room] -= 1;
                }
            },
        );
    let io = SocketIo::builder()
        .config(
            EngineConfig::default()
                .ping_interval(config.ping_interval)
                .ping_timeout(config.ping_timeout),
        )
        .with_state(shared.clone())
        .ns("/", ns)
        .build();

    tokio::spawn(room_ticks(io.clone(), shared.clone(), config.room_tick));
    tokio::spawn(global_ticks(io.clone(), shared.clone(), config.global_tick));

    let stats_io = io.clone();
    let stats_shared = shared.clone();
    let app = Router::new()
        .route(
            "/stats",
            get(move || {
                let io = stats_io.clone();
                let s = stats_shared.clone();
                async move {
                    let pid = std::process::id();
                    let c = &s.counters;
                    let load = |a: &AtomicU64| a.load(Ordering::Relaxed);
                    axum::Json(Stats {
                        pid,
                        tasks: tokio::runtime::Handle::current()
                            .metrics()
                            .num_alive_tasks(),
                        sockets: io.sockets("/").len(),
                        rss_kb: rss_kb(pid),
                        heap_bytes: LIVE_HEAP.load(Ordering::Relaxed),
                        connects: load(&c.connects),
                        disconnects: load(&c.disconnects),
                        echo_received: load(&c.echo_received),
                        acks_sent: load(&c.acks_sent),
                        ack_errors: load(&c.ack_errors),
                        room_broadcasts: load(&c.room_broadcasts),
                        global_broadcasts: load(&c.global_broadcasts),
                        broadcast_errors: load(&c.broadcast_errors),
                        deliveries_queued: load(&c.deliveries_queued),
                        disconnect_reasons: c.reasons.lock().unwrap().clone(),
                    })
                }
            }),
        )
        .route(
            "/trim",
            get(|| async {
                trim_heap();
                rss_kb(std::process::id()).to_string()
            }),
        )
        .layer(io.layer());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let port = listener.local_addr()?.port();
    println!("SOAK-LISTENING {port} {}", std::process::id());
    axum::serve(listener, app).await
}

/// One `t` broadcast per room per period, each numbered under the lock.
async fn room_ticks(io: SocketIo, s: Shared, period: Duration) {
    let mut ticker = tokio::time::interval(period);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticker.tick().await;
        let rooms = s.seqs.lock().unwrap().room_seq.len();
        for room in 0..rooms {
            let mut seqs = s.seqs.lock().unwrap();
            seqs.room_seq[room] += 1;
            let n = seqs.room_seq[room];
            let emitted = io.to(room_name(room)).emit("t", &(room, n));
            if emitted.is_ok() {
                s.counters.room_broadcasts.fetch_add(1, Ordering::Relaxed);
                s.counters
                    .deliveries_queued
                    .fetch_add(seqs.room_members[room], Ordering::Relaxed);
            } else {
                s.counters.broadcast_errors.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
}

/// One `g` broadcast to every socket per period.
async fn global_ticks(io: SocketIo, s: Shared, period: Duration) {
    let mut ticker = tokio::time::interval(period);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    ticker.tick().await;
    loop {
        ticker.tick().await;
        let mut seqs = s.seqs.lock().unwrap();
        seqs.global_seq += 1;
        let n = seqs.global_seq;
        let sockets = io.sockets("/").len() as u64;
        if io.emit("g", &n).is_ok() {
            s.counters.global_broadcasts.fetch_add(1, Ordering::Relaxed);
            s.counters
                .deliveries_queued
                .fetch_add(sockets, Ordering::Relaxed);
        } else {
            s.counters.broadcast_errors.fetch_add(1, Ordering::Relaxed);
        }
    }
}
