//! The load process: starts the server (a separate process), runs the clients, counts every
//! acknowledgement and broadcast, samples the server's memory and tasks, and checks the result.
//!
//! Accounting, exactly:
//! - every `echo` is numbered and must come back acknowledged with its number. Acknowledgements
//!   still awaited when a client drops its connection on purpose are *abandoned* (not owed);
//!   every other missing one is *lost*;
//! - the `hello`/`join` answers give the last broadcast number at the moment the socket started
//!   receiving (taken under the server's lock), the `leave`/`bye` answers the last one owed before
//!   a clean leave. Between them every number must arrive once, in order: a gap is *lost*. A client
//!   that drops its connection on purpose is owed up to the last number it received (its gaps
//!   before that still count).
//!
//! Memory: RSS is read after the server hands its allocator's free pages back (`/trim`, glibc's
//! `malloc_trim`), so it measures what the server holds, not what glibc caches; the server's
//! counting allocator gives the exact heap in use beside it. The baseline is the end of a warm-up
//! (every client connects once, talks for 10 s and leaves): maps keep the capacity of their peak
//! and the allocator its fragmentation, once. `--cold-baseline` checks against the cold start.

use std::collections::HashMap;
use std::process::Stdio;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::time::{Instant, sleep, sleep_until, timeout};

use crate::client::{self, Conn, In, Out, Transport};
use crate::server::{ServerConfig, Stats, rss_kb, status_kb};

/// What to run.
#[derive(Debug, Clone)]
pub struct LoadConfig {
    pub clients: usize,
    pub duration: Duration,
    /// Share of clients on HTTP long-polling (the others on WebSocket).
    pub polling_fraction: f64,
    /// Share of clients that drop their connection abruptly at random times and reconnect.
    pub churn_fraction: f64,
    /// How long a churning client's connection lives before it drops it (uniform in the range).
    pub churn_life: (Duration, Duration),
    /// How long a dropped client waits before it reconnects (uniform in the range).
    pub reconnect_delay: (Duration, Duration),
    /// Each client sends one acknowledged `echo` this often.
    pub echo_interval: Duration,
    /// New connections per second, at most (reconnections included).
    pub connect_rate: f64,
    /// The latency window.
    pub window: Duration,
    /// The p99 of the last third of the steady windows may not exceed this many times the p99 of
    /// the first third, plus `drift_slack`.
    pub drift_factor: f64,
    pub drift_slack: Duration,
    pub server: ServerConfig,
    pub seed: u64,
    /// A warm-up phase before the soak proper (every client once, no churn).
    pub warmup: bool,
    /// Checks memory against the cold start instead of the end of the warm-up.
    pub cold_baseline: bool,
}

impl LoadConfig {
    /// The defaults for `clients` clients over `duration`.
    pub fn new(clients: usize, duration: Duration) -> Self {
        LoadConfig {
            clients,
            duration,
            polling_fraction: 0.25,
            churn_fraction: 0.1,
            churn_life: (Duration::from_secs(2), Duration::from_secs(20)),
            reconnect_delay: (Duration::from_millis(100), Duration::from_secs(3)),
            echo_interval: Duration::from_secs(2),
            connect_rate: 500.0,
            window: Duration::from_secs(10),
            drift_factor: 2.0,
            drift_slack: Duration::from_millis(20),
            server: ServerConfig {
                rooms: 100,
                room_tick: Duration::from_secs(1),
                global_tick: Duration::from_secs(5),
                ping_interval: Duration::from_secs(10),
                ping_timeout: Duration::from_secs(10),
            },
            seed: 11,
            warmup: true,
            cold_baseline: false,
        }
    }
}

/// Broadcast accounting of one kind (room or global).
#[derive(Default)]
struct Bcast {
    owed: AtomicU64,
    received: AtomicU64,
    lost: AtomicU64,
    unexpected: AtomicU64,
}

/// Everything the clients count.
#[derive(Default)]
struct Metrics {
    echo_sent: AtomicU64,
    echo_acked: AtomicU64,
    echo_abandoned: AtomicU64,
    echo_lost: AtomicU64,
    echo_wrong: AtomicU64,
    control_sent: AtomicU64,
    control_lost: AtomicU64,
    control_wrong: AtomicU64,
    room: Bcast,
    global: Bcast,
    lives: AtomicU64,
    connected: AtomicU64,
    drops: AtomicU64,
    clean_leaves: AtomicU64,
    connect_failures: AtomicU64,
    unexpected_closes: AtomicU64,
    first_connects: AtomicU64,
    /// Milliseconds from the start until every client had connected once (0: not yet).
    ramp_done_ms: AtomicU64,
}

/// Shared by every client.
struct Ctx {
    addr: String,
    config: LoadConfig,
    start: Instant,
    stop_at: Instant,
    metrics: Metrics,
    /// Ack latencies in µs, by the window the message was sent in: [WebSocket, polling].
    windows: Mutex<Vec<[Vec<u32>; 2]>>,
    next_connect: Mutex<Instant>,
    errors: Mutex<Vec<String>>,
}

impl Ctx {
    /// Waits for this connection's slot under the connection rate.
    async fn pace(&self) {
        let slot = {
            let mut next = self.next_connect.lock().unwrap();
            let slot = (*next).max(Instant::now());
            *next = slot + Duration::from_secs_f64(1.0 / self.config.connect_rate);
            slot
        };
        sleep_until(slot).await;
    }

    fn note(&self, error: String) {
        let mut errors = self.errors.lock().unwrap();
        if errors.len() < 20 {
            errors.push(error);
        }
    }

    fn record_latency(&self, sent: Instant, latency: Duration, polling: bool) {
        let index =
            (sent.duration_since(self.start).as_nanos() / self.config.window.as_nanos()) as usize;
        let micros = latency.as_micros().min(u32::MAX as u128) as u32;
        let mut windows = self.windows.lock().unwrap();
        if let Some(w) = windows.get_mut(index) {
            w[polling as usize].push(micros);
        }
    }
}

/// The broadcast numbers one socket is owed, from one kind of broadcast.
#[derive(Default)]
struct Track {
    base: Option<u64>,
    next: u64,
}

impl Track {
    fn start(&mut self, base: u64) {
        self.base = Some(base);
        self.next = base + 1;
    }

    fn tick(&mut self, n: u64, counts: &Bcast) {
        if self.base.is_none() {
            // Numbered before the socket was owed anything (a global one before `hello`).
            return;
        }
        if n == self.next {
            self.next += 1;
            counts.received.fetch_add(1, Ordering::Relaxed);
        } else if n > self.next {
            counts.lost.fetch_add(n - self.next, Ordering::Relaxed);
            counts.received.fetch_add(1, Ordering::Relaxed);
            self.next = n + 1;
        } else {
            counts.unexpected.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Closes the account: owed up to `last` after a clean leave, else up to what arrived.
    fn finish(&mut self, last: Option<u64>, counts: &Bcast) {
        if let Some(base) = self.base.take() {
            let mut end = self.next - 1;
            if let Some(last) = last {
                if last > end {
                    counts.lost.fetch_add(last - end, Ordering::Relaxed);
                    end = last;
                }
            }
            counts.owed.fetch_add(end - base, Ordering::Relaxed);
        }
    }
}

enum Pending {
    Echo { n: u64, sent: Instant },
    Hello,
    Join,
    Leave,
    Bye,
}

enum LifeEnd {
    Stopped,
    Dropped,
    Failed,
}

/// One connection of one client.
struct Session<'a> {
    ctx: &'a Ctx,
    conn: Conn,
    transport: Transport,
    room: usize,
    next_id: u64,
    pending: HashMap<u64, Pending>,
    global: Track,
    rooms: Track,
    room_last: Option<u64>,
    global_last: Option<u64>,
}

impl Session<'_> {
    fn send(&self, packet: String) {
        let _ = self.conn.tx.send(Out::Packet(packet));
    }

    fn emit_with_ack(&mut self, what: Pending, args: &str) {
        self.next_id += 1;
        let id = self.next_id;
        let m = &self.ctx.metrics;
        match what {
            Pending::Echo { .. } => m.echo_sent.fetch_add(1, Ordering::Relaxed),
            _ => m.control_sent.fetch_add(1, Ordering::Relaxed),
        };
        self.pending.insert(id, what);
        self.send(format!("42{id}{args}"));
    }

    /// Handles one packet; `Err` when the server ended the socket.
    fn handle(&mut self, packet: &str) -> Result<(), String> {
        let m = &self.ctx.metrics;
        if packet == "2" {
            self.send("3".into());
        } else if let Some(event) = packet.strip_prefix("42") {
            let args: Vec<serde_json::Value> =
                serde_json::from_str(event).map_err(|e| format!("bad event {packet:?}: {e}"))?;
            match (args.first().and_then(|a| a.as_str()), args.len()) {
                (Some("t"), 3) => {
                    let room = args[1].as_u64().unwrap_or(u64::MAX);
                    let n = args[2].as_u64().unwrap_or(0);
                    if room != self.room as u64 {
                        m.room.unexpected.fetch_add(1, Ordering::Relaxed);
                    } else {
                        self.rooms.tick(n, &m.room);
                    }
                }
                (Some("g"), 2) => {
                    let n = args[1].as_u64().unwrap_or(0);
                    self.global.tick(n, &m.global);
                }
                _ => self.ctx.note(format!("unexpected event {packet}")),
            }
        } else if let Some(ack) = packet.strip_prefix("43") {
            let digits = ack.find('[').unwrap_or(ack.len());
            let id: u64 = ack[..digits].parse().unwrap_or(0);
            let value: Vec<i64> = serde_json::from_str(&ack[digits..]).unwrap_or_default();
            let value = value.first().copied();
            match self.pending.remove(&id) {
                Some(Pending::Echo { n, sent }) => {
                    m.echo_acked.fetch_add(1, Ordering::Relaxed);
                    if value != Some(n as i64) {
                        m.echo_wrong.fetch_add(1, Ordering::Relaxed);
                    }
                    let polling = self.transport == Transport::Polling;
                    self.ctx.record_latency(sent, sent.elapsed(), polling);
                }
                Some(what) => {
                    let Some(v) = value.filter(|v| *v >= 0) else {
                        m.control_wrong.fetch_add(1, Ordering::Relaxed);
                        self.ctx.note(format!("bad control answer {packet}"));
                        return Ok(());
                    };
                    let v = v as u64;
                    match what {
                        Pending::Hello => self.global.start(v),
                        Pending::Join => self.rooms.start(v),
                        Pending::Leave => self.room_last = Some(v),
                        Pending::Bye => self.global_last = Some(v),
                        Pending::Echo { .. } => unreachable!(),
                    }
                }
                None => self
                    .ctx
                    .note(format!("an answer nobody asked for: {packet}")),
            }
        } else if packet.starts_with("41") || packet.starts_with("44") {
            return Err(format!("the server ended the socket: {packet}"));
        } else if !packet.starts_with("40") {
            self.ctx.note(format!("unexpected packet {packet}"));
        }
        Ok(())
    }

    /// Counts what was still awaited: `lost` unless the client dropped the connection itself.
    fn settle(&mut self, dropped_on_purpose: bool) {
        let m = &self.ctx.metrics;
        for (_, what) in self.pending.drain() {
            match (what, dropped_on_purpose) {
                (Pending::Echo { .. }, true) => m.echo_abandoned.fetch_add(1, Ordering::Relaxed),
                (Pending::Echo { .. }, false) => m.echo_lost.fetch_add(1, Ordering::Relaxed),
                (_, true) => 0,
                (_, false) => m.control_lost.fetch_add(1, Ordering::Relaxed),
            };
        }
        let (room_last, global_last) = (self.room_last.take(), self.global_last.take());
        self.rooms.finish(room_last, &m.room);
        self.global.finish(global_last, &m.global);
    }
}

fn uniform(rng: &mut StdRng, (low, high): (Duration, Duration)) -> Duration {
    if high <= low {
        return low;
    }
    low + Duration::from_secs_f64(rng.random::<f64>() * (high - low).as_secs_f64())
}

async fn run_client(ctx: Arc<Ctx>, index: usize) {
    let config = &ctx.config;
    let mut rng = StdRng::seed_from_u64(config.seed.wrapping_mul(1_000_003) ^ index as u64);
    let transport = if rng.random_bool(config.polling_fraction.clamp(0.0, 1.0)) {
        Transport::Polling
    } else {
        Transport::WebSocket
    };
    let churner = rng.random_bool(config.churn_fraction.clamp(0.0, 1.0));
    let room = index % config.server.rooms;
    let mut echo_n = 0u64;
    let mut first = true;
    // Bounded: every life takes a connect slot or ends the loop at `stop_at`.
    while Instant::now() < ctx.stop_at {
        let drop_at = churner.then(|| Instant::now() + uniform(&mut rng, config.churn_life));
        let end = life(
            &ctx,
            transport,
            room,
            drop_at,
            &mut echo_n,
            &mut rng,
            &mut first,
        )
        .await;
        match end {
            LifeEnd::Stopped => break,
            LifeEnd::Dropped => {
                let delay = uniform(&mut rng, config.reconnect_delay);
                sleep_until((Instant::now() + delay).min(ctx.stop_at)).await;
            }
            LifeEnd::Failed => {
                sleep_until((Instant::now() + Duration::from_secs(1)).min(ctx.stop_at)).await
            }
        }
    }
}

async fn life(
    ctx: &Ctx,
    transport: Transport,
    room: usize,
    drop_at: Option<Instant>,
    echo_n: &mut u64,
    rng: &mut StdRng,
    first: &mut bool,
) -> LifeEnd {
    let m = &ctx.metrics;
    ctx.pace().await;
    if Instant::now() >= ctx.stop_at {
        return LifeEnd::Stopped;
    }
    let handshake = Duration::from_secs(20);
    let conn = match timeout(handshake, client::connect(&ctx.addr, transport)).await {
        Ok(Ok((conn, _open))) => conn,
        Ok(Err(e)) => {
            m.connect_failures.fetch_add(1, Ordering::Relaxed);
            ctx.note(format!("{transport:?} connect: {e}"));
            return LifeEnd::Failed;
        }
        Err(_) => {
            m.connect_failures.fetch_add(1, Ordering::Relaxed);
            ctx.note(format!(
                "{transport:?} connect: no open packet in {handshake:?}"
            ));
            return LifeEnd::Failed;
        }
    };
    let mut s = Session {
        ctx,
        conn,
        transport,
        room,
        next_id: 0,
        pending: HashMap::new(),
        global: Track::default(),
        rooms: Track::default(),
        room_last: None,
        global_last: None,
    };
    // The Socket.IO CONNECT, answering pings meanwhile.
    s.send("40".into());
    let connected = timeout(handshake, async {
        loop {
            match s.conn.rx.recv().await {
                Some(In::Packet(p)) if p.starts_with("40") => return Ok(()),
                Some(In::Packet(p)) if p == "2" => s.send("3".into()),
                Some(In::Packet(p)) => return Err(format!("expected CONNECT, got {p}")),
                Some(In::Closed(why)) => return Err(why),
                None => return Err("connection gone".into()),
            }
        }
    })
    .await;
    if let Err(e) = connected.unwrap_or_else(|_| Err("no CONNECT answer".into())) {
        m.connect_failures.fetch_add(1, Ordering::Relaxed);
        ctx.note(format!("{transport:?} Socket.IO connect: {e}"));
        s.conn.abort();
        return LifeEnd::Failed;
    }
    m.lives.fetch_add(1, Ordering::Relaxed);
    m.connected.fetch_add(1, Ordering::Relaxed);
    if std::mem::take(first) {
        let n = m.first_connects.fetch_add(1, Ordering::Relaxed) + 1;
        if n == ctx.config.clients as u64 {
            let ms = ctx.start.elapsed().as_millis() as u64;
            m.ramp_done_ms.store(ms.max(1), Ordering::Relaxed);
        }
    }
    s.emit_with_ack(Pending::Hello, "[\"hello\"]");
    s.emit_with_ack(Pending::Join, &format!("[\"join\",{room}]"));

    let interval = ctx.config.echo_interval;
    let mut next_echo = Instant::now() + uniform(rng, (Duration::ZERO, interval));
    let far = ctx.stop_at + Duration::from_secs(3600);
    let end = loop {
        tokio::select! {
            incoming = s.conn.rx.recv() => match incoming {
                Some(In::Packet(p)) => {
                    if let Err(e) = s.handle(&p) {
                        break Err(e);
                    }
                }
                Some(In::Closed(why)) => break Err(why),
                None => break Err("connection gone".into()),
            },
            _ = sleep_until(next_echo) => {
                *echo_n += 1;
                let n = *echo_n;
                s.emit_with_ack(Pending::Echo { n, sent: Instant::now() }, &format!("[\"echo\",{n}]"));
                next_echo += interval;
            }
            _ = sleep_until(drop_at.unwrap_or(far)), if drop_at.is_some() => break Ok(false),
            _ = sleep_until(ctx.stop_at) => break Ok(true),
        }
    };
    let outcome = match end {
        Ok(false) => {
            // Abrupt: the TCP connections go, no close packet.
            s.settle(true);
            m.drops.fetch_add(1, Ordering::Relaxed);
            LifeEnd::Dropped
        }
        Ok(true) => leave_cleanly(&mut s).await,
        Err(why) => {
            m.unexpected_closes.fetch_add(1, Ordering::Relaxed);
            ctx.note(format!("{transport:?} socket ended unexpectedly: {why}"));
            s.settle(false);
            LifeEnd::Failed
        }
    };
    m.connected.fetch_sub(1, Ordering::Relaxed);
    let Session { conn, .. } = s;
    match outcome {
        LifeEnd::Stopped => conn.finish(Duration::from_secs(5)).await,
        _ => conn.abort(),
    }
    outcome
}

/// `leave` and `bye`, then every answer awaited (bounded), then a clean disconnect.
async fn leave_cleanly(s: &mut Session<'_>) -> LifeEnd {
    let m = &s.ctx.metrics;
    s.emit_with_ack(Pending::Leave, "[\"leave\"]");
    s.emit_with_ack(Pending::Bye, "[\"bye\"]");
    let waited = timeout(Duration::from_secs(30), async {
        while !s.pending.is_empty() {
            match s.conn.rx.recv().await {
                Some(In::Packet(p)) => s.handle(&p)?,
                Some(In::Closed(why)) => return Err(why),
                None => return Err("connection gone".to_string()),
            }
        }
        Ok(())
    })
    .await;
    match waited.unwrap_or_else(|_| Err("answers still awaited after 30 s".into())) {
        Ok(()) => {
            m.clean_leaves.fetch_add(1, Ordering::Relaxed);
            s.settle(false);
            s.send("41".into());
            let _ = s.conn.tx.send(Out::Close);
            LifeEnd::Stopped
        }
        Err(why) => {
            m.unexpected_closes.fetch_add(1, Ordering::Relaxed);
            s.ctx.note(format!("while leaving: {why}"));
            s.settle(false);
            LifeEnd::Stopped
        }
    }
}

/// `GET path` on a fresh connection (closed after): the body.
async fn http_get(addr: &str, path: &str) -> Result<String, String> {
    let work = async {
        let mut stream = tokio::net::TcpStream::connect(addr)
            .await
            .map_err(|e| e.to_string())?;
        stream
            .write_all(
                format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n")
                    .as_bytes(),
            )
            .await
            .map_err(|e| e.to_string())?;
        let mut response = Vec::new();
        stream
            .read_to_end(&mut response)
            .await
            .map_err(|e| e.to_string())?;
        let response = String::from_utf8_lossy(&response);
        response
            .split_once("\r\n\r\n")
            .map(|(_, b)| b.to_owned())
            .ok_or_else(|| format!("{path}: no body"))
    };
    timeout(Duration::from_secs(10), work)
        .await
        .unwrap_or_else(|_| Err(format!("{path}: no answer in 10 s")))
}

/// `GET /stats`.
pub async fn fetch_stats(addr: &str) -> Result<Stats, String> {
    let body = http_get(addr, "/stats").await?;
    serde_json::from_str::<Stats>(&body).map_err(|e| format!("stats: {e}: {body}"))
}

/// `GET /trim`: the allocator's free pages handed back; the RSS after, in kB.
async fn trimmed_rss(addr: &str, pid: u32) -> u64 {
    let _ = http_get(addr, "/trim").await;
    rss_kb(pid)
}

/// p99 of one window (µs), if it has samples.
fn p99(samples: &mut [u32]) -> Option<u32> {
    if samples.is_empty() {
        return None;
    }
    samples.sort_unstable();
    let index = ((samples.len() as f64) * 0.99).ceil() as usize;
    Some(samples[index.clamp(1, samples.len()) - 1])
}

fn median(values: &[u32]) -> u32 {
    let mut v = values.to_vec();
    v.sort_unstable();
    match v.len() {
        0 => 0,
        n if n % 2 == 1 => v[n / 2],
        n => ((v[n / 2 - 1] as u64 + v[n / 2] as u64) / 2) as u32,
    }
}

/// One latency window's figures.
#[derive(Debug, Clone)]
pub struct Window {
    pub start_s: u64,
    pub acks: usize,
    pub p50_us: u32,
    pub p99_us: u32,
    pub ws_p99_us: u32,
    pub polling_p99_us: u32,
    pub max_us: u32,
    /// Inside the steady phase (every client connected once, before the stop).
    pub steady: bool,
}

/// The soak's outcome.
#[derive(Debug, Default)]
pub struct Report {
    pub lines: Vec<String>,
    pub failures: Vec<String>,
    pub windows: Vec<Window>,
}

impl Report {
    fn line(&mut self, text: String) {
        println!("{text}");
        self.lines.push(text);
    }

    fn check(&mut self, ok: bool, what: String) {
        let mark = if ok { "ok  " } else { "FAIL" };
        self.line(format!("  [{mark}] {what}"));
        if !ok {
            self.failures.push(what);
        }
    }
}

/// Raises the soft file-descriptor limit to the hard one; returns the soft limit now.
pub fn raise_fd_limit() -> u64 {
    #[cfg(target_os = "linux")]
    {
        #[repr(C)]
        struct RLimit {
            cur: u64,
            max: u64,
        }
        unsafe extern "C" {
            fn getrlimit(resource: i32, rlim: *mut RLimit) -> i32;
            fn setrlimit(resource: i32, rlim: *const RLimit) -> i32;
        }
        const RLIMIT_NOFILE: i32 = 7;
        let mut limit = RLimit { cur: 0, max: 0 };
        // SAFETY: plain libc calls with a valid pointer to a struct of the C layout.
        unsafe {
            if getrlimit(RLIMIT_NOFILE, &mut limit) != 0 {
                return 1024;
            }
            if limit.cur < limit.max {
                let raised = RLimit {
                    cur: limit.max,
                    max: limit.max,
                };
                if setrlimit(RLIMIT_NOFILE, &raised) == 0 {
                    limit.cur = limit.max;
                }
            }
        }
        limit.cur
    }
    #[cfg(not(target_os = "linux"))]
    {
        1024
    }
}

/// One phase: every client runs for `config.duration`; returns the counts, whether every client
/// finished in time and when.
async fn run_phase(
    addr: &str,
    config: &LoadConfig,
    pid: u32,
    rss_peak: Option<Arc<AtomicU64>>,
) -> (Arc<Ctx>, bool, Duration) {
    let start = Instant::now();
    let windows = (config.duration.as_nanos() / config.window.as_nanos()) as usize + 2;
    let ctx = Arc::new(Ctx {
        addr: addr.to_owned(),
        config: config.clone(),
        start,
        stop_at: start + config.duration,
        metrics: Metrics::default(),
        windows: Mutex::new(vec![[Vec::new(), Vec::new()]; windows]),
        next_connect: Mutex::new(start),
        errors: Mutex::new(Vec::new()),
    });

    // RSS sampled every 250 ms, for the peak; progress every window.
    let sampler = rss_peak.map(|peak| {
        tokio::spawn(async move {
            loop {
                peak.fetch_max(rss_kb(pid), Ordering::Relaxed);
                sleep(Duration::from_millis(250)).await;
            }
        })
    });
    let progress_ctx = ctx.clone();
    let progress = tokio::spawn(async move {
        let ctx = progress_ctx;
        let mut index = 0usize;
        loop {
            sleep_until(ctx.start + ctx.config.window * (index as u32 + 1)).await;
            let mut samples = ctx
                .windows
                .lock()
                .unwrap()
                .get(index)
                .map(|[ws, polling]| [ws.as_slice(), polling.as_slice()].concat())
                .unwrap_or_default();
            let m = &ctx.metrics;
            let stats = fetch_stats(&ctx.addr).await.unwrap_or_default();
            println!(
                "  t={:>4}s sockets {:>6} (clients connected {:>6}) echo sent {:>8} acked {:>8} | window p99 {:>7.1} ms | rss {:>7} kB heap {:>7} kB tasks {:>6}",
                (index as u64 + 1) * ctx.config.window.as_secs(),
                stats.sockets,
                m.connected.load(Ordering::Relaxed),
                m.echo_sent.load(Ordering::Relaxed),
                m.echo_acked.load(Ordering::Relaxed),
                p99(&mut samples).unwrap_or(0) as f64 / 1000.0,
                stats.rss_kb,
                stats.heap_bytes / 1024,
                stats.tasks,
            );
            index += 1;
        }
    });

    let clients: Vec<_> = (0..config.clients)
        .map(|i| tokio::spawn(run_client(ctx.clone(), i)))
        .collect();
    // Bounded: a client's last life ends at most 30 s (answers) + 5 s (close) after the stop.
    let all_done = timeout(config.duration + Duration::from_secs(90), async {
        for c in clients {
            let _ = c.await;
        }
    })
    .await;
    progress.abort();
    if let Some(sampler) = sampler {
        sampler.abort();
    }
    (ctx, all_done.is_ok(), start.elapsed())
}

/// Waits (bounded) until the server has no socket left and `tasks` tasks alive.
async fn wait_idle(addr: &str, config: &LoadConfig, tasks: usize) -> Stats {
    // A dropped polling session lingers up to ping interval + timeout.
    let linger = config.server.ping_interval + config.server.ping_timeout + Duration::from_secs(20);
    let deadline = Instant::now() + linger;
    let mut stats = fetch_stats(addr).await.unwrap_or_default();
    while stats.sockets > 0 && Instant::now() < deadline {
        sleep(Duration::from_millis(250)).await;
        stats = fetch_stats(addr).await.unwrap_or_default();
    }
    let deadline = Instant::now() + Duration::from_secs(15);
    while stats.tasks != tasks && Instant::now() < deadline {
        sleep(Duration::from_millis(250)).await;
        stats = fetch_stats(addr).await.unwrap_or_default();
    }
    stats
}

/// Runs the soak against the server `server` starts (it must print `SOAK-LISTENING <port> <pid>`).
pub async fn run(mut config: LoadConfig, mut server: tokio::process::Command) -> Report {
    let mut report = Report::default();
    // Descriptors: one per WebSocket client, two per polling client, in both processes.
    let fds = raise_fd_limit();
    let per_client = 1.0 + config.polling_fraction;
    let affordable = ((fds.saturating_sub(200)) as f64 / per_client / 1.1) as usize;
    if config.clients > affordable {
        report.line(format!(
            "file-descriptor limit {fds}: {} clients instead of {}",
            affordable, config.clients
        ));
        config.clients = affordable;
    }

    let mut child = match server
        .envs(config.server.to_env())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
    {
        Ok(child) => child,
        Err(e) => {
            report
                .failures
                .push(format!("the server did not start: {e}"));
            return report;
        }
    };
    let mut stdout = BufReader::new(child.stdout.take().expect("piped")).lines();
    let listening = timeout(Duration::from_secs(60), async {
        while let Ok(Some(line)) = stdout.next_line().await {
            // Anywhere in the line: the test harness prints the test's name before it.
            if let Some((_, rest)) = line.split_once("SOAK-LISTENING ") {
                let mut parts = rest.split_whitespace();
                let port: Option<u16> = parts.next().and_then(|p| p.parse().ok());
                let pid: Option<u32> = parts.next().and_then(|p| p.parse().ok());
                return port.zip(pid);
            }
        }
        None
    })
    .await;
    let Ok(Some((port, pid))) = listening else {
        report
            .failures
            .push("the server did not announce its port".into());
        return report;
    };
    tokio::spawn(async move { while let Ok(Some(_)) = stdout.next_line().await {} });
    // Server log lines (warnings and errors): counted, the first ones kept.
    let log = Arc::new(Mutex::new((0u64, Vec::<String>::new())));
    let log_writer = log.clone();
    let mut stderr = BufReader::new(child.stderr.take().expect("piped")).lines();
    tokio::spawn(async move {
        while let Ok(Some(line)) = stderr.next_line().await {
            let mut log = log_writer.lock().unwrap();
            log.0 += 1;
            if log.1.len() < 10 {
                log.1.push(line);
            }
        }
    });
    let addr = format!("127.0.0.1:{port}");

    sleep(Duration::from_secs(1)).await;
    let start_stats = match fetch_stats(&addr).await {
        Ok(s) => s,
        Err(e) => {
            report
                .failures
                .push(format!("no stats from the server: {e}"));
            return report;
        }
    };
    let rss_start_raw = rss_kb(pid);
    let rss_start = trimmed_rss(&addr, pid).await;
    report.line(format!(
        "soak: {} clients ({:.0}% polling, {:.0}% churning), {} s, server pid {pid} on {addr}",
        config.clients,
        config.polling_fraction * 100.0,
        config.churn_fraction * 100.0,
        config.duration.as_secs()
    ));
    report.line(format!(
        "start: RSS {rss_start_raw} kB ({rss_start} kB trimmed), heap in use {} B, {} tasks alive, {} sockets",
        start_stats.heap_bytes, start_stats.tasks, start_stats.sockets
    ));

    // The warm-up: every client connects once, talks for 10 s and leaves, so that the memory
    // baseline includes what a server keeps after its first peak (maps keep their capacity, the
    // allocator its pages). The cold start figures are reported too; `cold_baseline` checks
    // against them instead.
    let mut warm = None;
    if config.warmup {
        let mut warm_config = config.clone();
        warm_config.churn_fraction = 0.0;
        warm_config.duration =
            Duration::from_secs_f64(config.clients as f64 / config.connect_rate + 10.0);
        report.line(format!(
            "warm-up: {} clients for {} s, no churn",
            config.clients,
            warm_config.duration.as_secs()
        ));
        let (ctx, finished, _) = run_phase(&addr, &warm_config, pid, None).await;
        let stats = wait_idle(&addr, &config, start_stats.tasks).await;
        let m = &ctx.metrics;
        let load = |a: &AtomicU64| a.load(Ordering::Relaxed);
        let reasons = stats
            .disconnect_reasons
            .iter()
            .map(|(reason, n)| format!("{reason}: {n}"))
            .collect::<Vec<_>>()
            .join(", ");
        report.line(format!("server disconnect reasons (warm-up): {reasons}"));
        let lost = load(&m.echo_lost)
            + load(&m.control_lost)
            + load(&m.room.lost)
            + load(&m.global.lost)
            + load(&m.unexpected_closes)
            + load(&m.connect_failures);
        if lost > 0 || !finished {
            report.failures.push(format!(
                "warm-up: {lost} messages lost, failed connects or unexpected closes"
            ));
        }
        let rss = trimmed_rss(&addr, pid).await;
        sleep(Duration::from_millis(500)).await;
        let heap = fetch_stats(&addr)
            .await
            .map(|s| s.heap_bytes)
            .unwrap_or(stats.heap_bytes);
        for e in ctx.errors.lock().unwrap().iter().take(5) {
            report.line(format!("    warm-up client error: {e}"));
        }
        report.line(format!(
            "after the warm-up: RSS {rss} kB trimmed, heap in use {heap} B, {} tasks, {} sockets; {} echoes acked, {lost} lost",
            stats.tasks,
            stats.sockets,
            load(&m.echo_acked)
        ));
        warm = Some((rss, heap));
    }

    // The server's counters from here on (the warm-up's excluded).
    let before = fetch_stats(&addr).await.unwrap_or_default();
    let rss_peak = Arc::new(AtomicU64::new(rss_start));
    let (ctx, finished, clients_done) =
        run_phase(&addr, &config, pid, Some(rss_peak.clone())).await;
    if !finished {
        report
            .failures
            .push("clients still running 90 s after the stop".into());
    }
    let start = ctx.start;
    let mut end_stats = wait_idle(&addr, &config, start_stats.tasks).await;
    let sockets_gone = start.elapsed();
    sleep(Duration::from_secs(2)).await;
    let rss_end_raw = rss_kb(pid);
    let rss_end = trimmed_rss(&addr, pid).await;
    sleep(Duration::from_millis(500)).await;
    end_stats = fetch_stats(&addr).await.unwrap_or(end_stats);
    let heap_end = end_stats.heap_bytes;
    let heap_cold = start_stats.heap_bytes;
    // The memory baseline: the end of the warm-up, or the cold start.
    let (rss_base, heap_base, base_name) = match warm {
        Some((rss, heap)) if !config.cold_baseline => (rss, heap, "the warm-up's end"),
        _ => (rss_start, heap_cold, "the cold start"),
    };
    let rss_peak = rss_peak
        .load(Ordering::Relaxed)
        .max(status_kb(pid, "VmHWM:"));
    let _ = child.start_kill();

    // The figures.
    let m = &ctx.metrics;
    let load = |a: &AtomicU64| a.load(Ordering::Relaxed);
    let ramp_ms = load(&m.ramp_done_ms);
    let window_s = config.window.as_secs_f64();
    let mut all = ctx.windows.lock().unwrap().clone();
    for (i, [ws, polling]) in all.iter_mut().enumerate() {
        let begin = config.window * i as u32;
        let finish = begin + config.window;
        let mut samples = [ws.as_slice(), polling.as_slice()].concat();
        if samples.is_empty() || begin >= config.duration {
            continue;
        }
        let acks = samples.len();
        let p99_us = p99(&mut samples).unwrap_or(0);
        report.windows.push(Window {
            start_s: (i as f64 * window_s) as u64,
            acks,
            ws_p99_us: p99(ws).unwrap_or(0),
            polling_p99_us: p99(polling).unwrap_or(0),
            p50_us: samples[(samples.len() - 1) / 2],
            p99_us,
            max_us: *samples.last().unwrap_or(&0),
            steady: ramp_ms > 0
                && begin >= Duration::from_millis(ramp_ms)
                && finish <= config.duration,
        });
    }
    let room_owed = load(&m.room.owed);
    let global_owed = load(&m.global.owed);
    report.line(format!(
        "clients done after {:.1} s; server sockets gone after {:.1} s",
        clients_done.as_secs_f64(),
        sockets_gone.as_secs_f64()
    ));
    report.line(format!(
        "connections: {} lives, {} abrupt drops, {} clean leaves, {} connect failures, {} unexpected closes; every client connected by {:.1} s",
        load(&m.lives),
        load(&m.drops),
        load(&m.clean_leaves),
        load(&m.connect_failures),
        load(&m.unexpected_closes),
        ramp_ms as f64 / 1000.0
    ));
    report.line(format!(
        "acked echoes: {} sent, {} acked, {} abandoned by abrupt drops, {} lost, {} wrong; control: {} sent, {} lost, {} wrong",
        load(&m.echo_sent),
        load(&m.echo_acked),
        load(&m.echo_abandoned),
        load(&m.echo_lost),
        load(&m.echo_wrong),
        load(&m.control_sent),
        load(&m.control_lost),
        load(&m.control_wrong),
    ));
    report.line(format!(
        "room broadcasts: {} owed to connected clients, {} received, {} lost, {} unexpected",
        room_owed,
        load(&m.room.received),
        load(&m.room.lost),
        load(&m.room.unexpected)
    ));
    report.line(format!(
        "global broadcasts: {} owed to connected clients, {} received, {} lost, {} unexpected",
        global_owed,
        load(&m.global.received),
        load(&m.global.lost),
        load(&m.global.unexpected)
    ));
    report.line(format!(
        "server (this phase): {} connects, {} disconnects, {} echoes received, {} acks sent, {} ack errors, {} room + {} global broadcasts ({} deliveries queued, to dropped sockets too), {} broadcast errors",
        end_stats.connects.saturating_sub(before.connects),
        end_stats.disconnects.saturating_sub(before.disconnects),
        end_stats.echo_received.saturating_sub(before.echo_received),
        end_stats.acks_sent.saturating_sub(before.acks_sent),
        end_stats.ack_errors,
        end_stats.room_broadcasts.saturating_sub(before.room_broadcasts),
        end_stats.global_broadcasts.saturating_sub(before.global_broadcasts),
        end_stats.deliveries_queued.saturating_sub(before.deliveries_queued),
        end_stats.broadcast_errors
    ));
    let reasons: Vec<String> = end_stats
        .disconnect_reasons
        .iter()
        .map(|(reason, n)| {
            let earlier = before.disconnect_reasons.get(reason).copied().unwrap_or(0);
            format!("{reason}: {}", n - earlier)
        })
        .collect();
    report.line(format!(
        "server disconnect reasons (this phase): {}",
        reasons.join(", ")
    ));
    report.line(format!(
        "server RSS: cold start {rss_start_raw} kB, peak {rss_peak} kB, end {rss_end_raw} kB; after malloc_trim: cold start {rss_start} kB, baseline ({base_name}) {rss_base} kB, end {rss_end} kB; tasks: start {}, end {}; sockets at end {}",
        start_stats.tasks, end_stats.tasks, end_stats.sockets
    ));
    report.line(format!(
        "server heap in use (counting allocator): cold start {heap_cold} B, baseline {heap_base} B, end {heap_end} B ({:+} B from the baseline)",
        heap_end - heap_base
    ));
    report.line("ack latency by window (send time):".into());
    report.line(
        "| window | acks | p50 ms | p99 ms | p99 WebSocket ms | p99 polling ms | max ms | steady |"
            .into(),
    );
    report.line("|---|---|---|---|---|---|---|---|".into());
    for w in report.windows.clone() {
        report.line(format!(
            "| {}-{} s | {} | {:.1} | {:.1} | {:.1} | {:.1} | {:.1} | {} |",
            w.start_s,
            w.start_s + config.window.as_secs(),
            w.acks,
            w.p50_us as f64 / 1000.0,
            w.p99_us as f64 / 1000.0,
            w.ws_p99_us as f64 / 1000.0,
            w.polling_p99_us as f64 / 1000.0,
            w.max_us as f64 / 1000.0,
            if w.steady { "yes" } else { "no" }
        ));
    }
    let (log_lines, log_first) = log.lock().unwrap().clone();
    report.line(format!("server log lines (warn and above): {log_lines}"));
    for l in &log_first {
        report.line(format!("    {l}"));
    }
    let errors = ctx.errors.lock().unwrap().clone();
    if !errors.is_empty() {
        report.line("first client-side errors:".into());
        for e in &errors {
            report.line(format!("    {e}"));
        }
    }

    // The checks.
    report.line("checks:".into());
    report.check(
        load(&m.first_connects) == config.clients as u64,
        format!(
            "every client connected ({} of {})",
            load(&m.first_connects),
            config.clients
        ),
    );
    report.check(
        load(&m.echo_acked) > 0 && load(&m.room.received) > 0 && load(&m.global.received) > 0,
        "traffic flowed (acks, room and global broadcasts received)".into(),
    );
    report.check(
        load(&m.echo_lost) == 0 && load(&m.echo_wrong) == 0,
        format!(
            "acknowledged messages lost: {} (wrong answers {})",
            load(&m.echo_lost),
            load(&m.echo_wrong)
        ),
    );
    report.check(
        load(&m.echo_sent) == load(&m.echo_acked) + load(&m.echo_abandoned) + load(&m.echo_lost),
        "every echo accounted for (acked + abandoned + lost = sent)".into(),
    );
    report.check(
        load(&m.control_lost) == 0 && load(&m.control_wrong) == 0,
        format!(
            "hello/join/leave/bye answers lost: {}, wrong: {}",
            load(&m.control_lost),
            load(&m.control_wrong)
        ),
    );
    let bcast_lost = load(&m.room.lost) + load(&m.global.lost);
    let bcast_unexpected = load(&m.room.unexpected) + load(&m.global.unexpected);
    report.check(
        bcast_lost == 0 && bcast_unexpected == 0,
        format!(
            "broadcasts lost to connected clients: {bcast_lost} of {} owed (duplicates or out of order: {bcast_unexpected})",
            room_owed + global_owed
        ),
    );
    report.check(
        load(&m.connect_failures) == 0 && load(&m.unexpected_closes) == 0,
        format!(
            "no connect failures ({}) and no connection ended by anyone but its client ({})",
            load(&m.connect_failures),
            load(&m.unexpected_closes)
        ),
    );
    report.check(
        end_stats.ack_errors == 0 && end_stats.broadcast_errors == 0,
        format!(
            "server-side send errors: {} acks, {} broadcasts",
            end_stats.ack_errors, end_stats.broadcast_errors
        ),
    );
    report.check(
        end_stats.sockets == 0,
        format!("sockets after all clients left: {}", end_stats.sockets),
    );
    report.check(
        end_stats.tasks == start_stats.tasks,
        format!(
            "tasks alive after all clients left: {} (start {})",
            end_stats.tasks, start_stats.tasks
        ),
    );
    report.check(
        rss_end as f64 <= rss_base as f64 * 1.10,
        format!(
            "RSS (after malloc_trim) when all clients left within 10% of {base_name}: {rss_end} kB vs {rss_base} kB ({:+.1}%)",
            (rss_end as f64 / rss_base.max(1) as f64 - 1.0) * 100.0
        ),
    );
    // Not a check: maps keep the capacity of their largest size, and the churn's lingering
    // sessions can make the soak's peak larger than the warm-up's.
    report.line(format!(
        "  [info] heap in use when all clients left: {heap_end} B vs {heap_base} B at {base_name} ({:+.1}%), peak sockets decide the maps' capacity",
        (heap_end as f64 / heap_base.max(1) as f64 - 1.0) * 100.0
    ));
    let steady: Vec<u32> = report
        .windows
        .iter()
        .filter(|w| w.steady)
        .map(|w| w.p99_us)
        .collect();
    if steady.len() >= 3 {
        let third = steady.len().div_ceil(3);
        let early = median(&steady[..third]);
        let late = median(&steady[steady.len() - third..]);
        let bound = early as f64 * config.drift_factor + config.drift_slack.as_micros() as f64;
        report.check(
            (late as f64) <= bound,
            format!(
                "p99 ack latency does not drift: last third {:.1} ms vs first third {:.1} ms (bound {:.1} ms), over {} steady windows",
                late as f64 / 1000.0,
                early as f64 / 1000.0,
                bound / 1000.0,
                steady.len()
            ),
        );
    } else {
        report.check(
            false,
            format!(
                "p99 drift: only {} steady windows (need 3; ramp took {:.1} s)",
                steady.len(),
                ramp_ms as f64 / 1000.0
            ),
        );
    }
    report.line(if report.failures.is_empty() {
        "soak: PASS".to_string()
    } else {
        format!("soak: FAIL ({} checks)", report.failures.len())
    });
    report
}
