//! The load generator: speaks Engine.IO v4 + Socket.IO v5 over WebSocket, bounded in count and
//! time, and prints one line per scenario: throughput, latency percentiles, and the server's CPU
//! time per operation (from /proc/PID/stat) or memory per connection (/proc/PID/status).
//!
//! ```text
//! loadgen HOST:PORT SERVER_PID connect N CONCURRENCY
//! loadgen HOST:PORT SERVER_PID ack CLIENTS SECONDS
//! loadgen HOST:PORT SERVER_PID fanout CLIENTS MESSAGES
//! loadgen HOST:PORT SERVER_PID idle CLIENTS
//! loadgen HOST:PORT SERVER_PID rooms CLIENTS ROOMS MESSAGES
//! loadgen HOST:PORT SERVER_PID polling CLIENTS SECONDS
//! loadgen HOST:PORT,HOST:PORT PID,PID cluster CLIENTS MESSAGES
//! loadgen HOST:PORT,HOST:PORT PID,PID cluster-local CLIENTS MESSAGES
//! loadgen HOST:PORT,HOST:PORT PID,PID cluster-remote CLIENTS MESSAGES
//! loadgen HOST:PORT,HOST:PORT PID,PID cluster-rooms CLIENTS ROOMS MESSAGES
//! ```
//!
//! The cluster scenarios take two nodes of one cluster (the same implementation on one Redis),
//! node A first: the sender is on node A, the server CPU time is that of both processes summed,
//! and the line also gives each node's share. `cluster` is `fanout` with the clients spread
//! half on each node (the sender included); `cluster-local` the same broadcast with every client
//! on node A (node B in the cluster, with no clients); `cluster-remote` with every client but the
//! sender on node B; `cluster-rooms` is `rooms` with the members spread half on each node.
//!
//! `PARSER=msgpack` makes every client (but the polling one, default parser only) speak the
//! MessagePack parser, as `socket.io-client` with `socket.io-msgpack-parser` 3.x does (see
//! `wire.rs`); the server must be started with the same `PARSER`.
//!
//! The bench server contract (every implementation): namespace `/`; `ack` is acknowledged with
//! its arguments; `fanout` with a count M makes the server emit `tick` M times to every socket;
//! `join` R adds the socket to room R and is acknowledged; `rooms` with a list of room names
//! makes the server emit `tick` i to the i-th room of the list, in order.
//!
//! Server CPU time is read when the last operation completed, before clients disconnect; for
//! the cluster scenarios it is the scheduler's count per thread, in nanoseconds (see
//! `thread_cpu_ns`), `cpu_per_op_us` on the line with four decimals.

use std::sync::Arc;
use std::time::{Duration, Instant};

use std::collections::HashMap;
use tokio::sync::Semaphore;
use tower_socketio_bench::polling::PollingClient;

use tower_socketio_bench::{
    Arg, Client, Parser, cpu_between, cpu_time, percentile, rss_kb, thread_cpu_ns,
};

fn report(
    scenario: &str,
    ops: u64,
    elapsed: Duration,
    cpu: Duration,
    mut latencies: Vec<Duration>,
    extra: &str,
) {
    latencies.sort();
    let per_s = ops as f64 / elapsed.as_secs_f64();
    let cpu_per_op = if ops == 0 {
        0.0
    } else {
        cpu.as_secs_f64() * 1e6 / ops as f64
    };
    println!(
        "scenario={scenario} ops={ops} secs={:.2} ops_per_s={:.0} p50_us={} p99_us={} server_cpu_per_op_us={:.2}{extra}",
        elapsed.as_secs_f64(),
        per_s,
        percentile(&latencies, 0.5).as_micros(),
        percentile(&latencies, 0.99).as_micros(),
        cpu_per_op,
    );
}

async fn connect(addr: &str, pid: u32, total: usize, concurrency: usize) {
    // Warm-up, not measured: a tenth of the connections (JIT-compiled servers start cold).
    for _ in 0..total / 10 {
        Client::connect(addr).await.expect("connect").close().await;
    }
    let limit = Arc::new(Semaphore::new(concurrency));
    let cpu0 = cpu_time(pid);
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(total);
    for _ in 0..total {
        let permit = limit.clone().acquire_owned().await.expect("semaphore");
        let addr = addr.to_owned();
        tasks.push(tokio::spawn(async move {
            let t0 = Instant::now();
            let client = Client::connect(&addr).await.expect("connect");
            let took = t0.elapsed();
            client.close().await;
            drop(permit);
            took
        }));
    }
    let mut latencies = Vec::with_capacity(total);
    for task in tasks {
        latencies.push(task.await.expect("task"));
    }
    report(
        "connect",
        total as u64,
        started.elapsed(),
        cpu_time(pid) - cpu0,
        latencies,
        "",
    );
}

/// A client that makes acknowledged round trips: `ack` with argument `id`, answered `[id]`.
trait RoundTrip: Send + 'static {
    fn round_trip(&mut self, id: u64) -> impl Future<Output = ()> + Send;

    /// Bytes read from the server so far, for clients that count them.
    fn wire_bytes(&self) -> Option<u64> {
        None
    }
}

impl RoundTrip for Client {
    async fn round_trip(&mut self, id: u64) {
        self.emit("ack", Arg::U64(id), Some(id))
            .await
            .expect("send");
        self.expect_ack(id, Some(id)).await.expect("answer");
    }
}

/// A polling client with the extra argument of its acks (`POLLING_PAYLOAD`).
struct Polling {
    client: PollingClient,
    /// `,"xxx..."` (the JSON of the extra argument, after a comma), or empty.
    extra: Arc<str>,
}

impl RoundTrip for Polling {
    async fn round_trip(&mut self, id: u64) {
        let extra = &self.extra;
        self.client
            .post(&format!("42{id}[\"ack\",{id}{extra}]"))
            .await
            .expect("post");
        let expected = format!("43{id}[{id}{extra}]");
        while !self.client.poll().await.expect("poll").contains(&expected) {}
    }

    fn wire_bytes(&self) -> Option<u64> {
        Some(self.client.wire_bytes())
    }
}

/// Every client makes sequential round trips for `seconds`; reports `scenario` and gives the
/// clients back (still connected: the server's CPU time is read first).
async fn round_trips<C: RoundTrip>(
    scenario: &str,
    pid: u32,
    clients: Vec<C>,
    seconds: u64,
) -> Vec<C> {
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let wire0: Option<u64> = clients.iter().map(RoundTrip::wire_bytes).sum();
    let cpu0 = cpu_time(pid);
    let started = Instant::now();
    let tasks: Vec<_> = clients
        .into_iter()
        .map(|mut client| {
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                let mut id = 0u64;
                while Instant::now() < deadline {
                    let t0 = Instant::now();
                    client.round_trip(id).await;
                    latencies.push(t0.elapsed());
                    id += 1;
                }
                (client, latencies)
            })
        })
        .collect();
    let mut latencies = Vec::new();
    let mut done = Vec::new();
    for task in tasks {
        let (client, took) = task.await.expect("task");
        latencies.extend(took);
        done.push(client);
    }
    let elapsed = started.elapsed();
    let ops = latencies.len() as u64;
    let wire1: Option<u64> = done.iter().map(RoundTrip::wire_bytes).sum();
    let extra = match (wire0, wire1) {
        (Some(a), Some(b)) if ops > 0 => format!(" wire_bytes_per_op={}", (b - a) / ops),
        _ => String::new(),
    };
    report(
        scenario,
        ops,
        elapsed,
        cpu_time(pid) - cpu0,
        latencies,
        &extra,
    );
    done
}

async fn ack(addr: &str, pid: u32, clients: usize, seconds: u64) {
    let mut connected = Vec::with_capacity(clients);
    for _ in 0..clients {
        connected.push(Client::connect(addr).await.expect("connect"));
    }
    let done = round_trips("ack", pid, connected, seconds).await;
    close_all(done).await;
}

async fn fanout(addr: &str, pid: u32, clients: usize, messages: u64) {
    let mut connected = Vec::with_capacity(clients);
    for _ in 0..clients {
        connected.push(Client::connect(addr).await.expect("connect"));
    }
    let mut sender = connected.pop().expect("at least one client");
    let readers: Vec<_> = connected
        .into_iter()
        .map(|mut client| {
            tokio::spawn(async move {
                let mut seen = 0;
                while seen < messages {
                    client.expect_event("tick").await.expect("tick");
                    seen += 1;
                }
                client
            })
        })
        .collect();
    let cpu0 = cpu_time(pid);
    let started = Instant::now();
    sender
        .emit("fanout", Arg::U64(messages), None)
        .await
        .expect("send");
    let mut own = 0;
    let mut first = Duration::ZERO;
    while own < messages {
        sender.expect_event("tick").await.expect("tick");
        if own == 0 {
            first = started.elapsed();
        }
        own += 1;
    }
    let sender_done = started.elapsed();
    let mut done = vec![sender];
    for reader in readers {
        done.push(reader.await.expect("reader"));
    }
    let elapsed = started.elapsed();
    let deliveries = clients as u64 * messages;
    let timeline = format!(
        " first_tick_us={} sender_done_us={} rss_after_burst_kb={}",
        first.as_micros(),
        sender_done.as_micros(),
        rss_kb(pid)
    );
    report(
        "fanout",
        deliveries,
        elapsed,
        cpu_time(pid) - cpu0,
        Vec::new(),
        &timeline,
    );
    close_all(done).await;
}

/// Where the clients of a cluster scenario are, node A (the sender's) or B.
#[derive(Clone, Copy)]
enum Spread {
    /// Alternately on B and A, so that each node holds half of all clients (sender included).
    Half,
    /// All on A.
    Local,
    /// All but the sender on B.
    Remote,
}

impl Spread {
    /// The node (0 = A, 1 = B) of reader `i`; the sender is on A.
    fn node(self, i: usize) -> usize {
        match self {
            Spread::Half => (i + 1) % 2,
            Spread::Local => 0,
            Spread::Remote => 1,
        }
    }
}

/// A reading of the CPU time of each process: per thread in nanoseconds where the kernel keeps
/// it (the cluster scenarios compare figures of a few tens of milliseconds, where clock ticks
/// of 10 ms would be too coarse), else `/proc/PID/stat`'s clock ticks.
enum CpuReading {
    Threads(HashMap<u32, u64>),
    Ticks(Duration),
}

fn cpu_times(pids: &[u32]) -> Vec<CpuReading> {
    pids.iter()
        .map(|pid| match thread_cpu_ns(*pid) {
            Some(threads) => CpuReading::Threads(threads),
            None => CpuReading::Ticks(cpu_time(*pid)),
        })
        .collect()
}

/// The CPU time of each process since `before`.
fn cpu_since(pids: &[u32], before: &[CpuReading]) -> Vec<Duration> {
    cpu_times(pids)
        .iter()
        .zip(before)
        .map(|(now, before)| match (before, now) {
            (CpuReading::Threads(before), CpuReading::Threads(now)) => cpu_between(before, now),
            (CpuReading::Ticks(before), CpuReading::Ticks(now)) => *now - *before,
            _ => panic!("the kernel's CPU accounting changed during the run"),
        })
        .collect()
}

/// Reports a cluster scenario: the CPU time of both nodes summed, and each node's share with
/// its deliveries (`cpu_per_op_a_us` / `_b_`: that node's CPU per delivery it made, absent
/// when it made none).
fn report_cluster(
    scenario: &str,
    pids: &[u32],
    cpu0: &[CpuReading],
    deliveries: [u64; 2],
    clients: [usize; 2],
    elapsed: Duration,
    extra: &str,
) {
    let cpu = cpu_since(pids, cpu0);
    let total: Duration = cpu.iter().sum();
    let ops = deliveries[0] + deliveries[1];
    let mut nodes = format!(
        " cpu_per_op_us={:.4} clients_a={} clients_b={}",
        total.as_secs_f64() * 1e6 / ops.max(1) as f64,
        clients[0],
        clients[1]
    );
    for (i, name) in ["a", "b"].iter().enumerate() {
        let us = cpu[i].as_secs_f64() * 1e6;
        nodes += &format!(" deliveries_{name}={} cpu_{name}_us={us:.0}", deliveries[i]);
        if deliveries[i] > 0 {
            nodes += &format!(" cpu_per_op_{name}_us={:.4}", us / deliveries[i] as f64);
        }
    }
    report(
        scenario,
        ops,
        elapsed,
        total,
        Vec::new(),
        &format!("{nodes}{extra}"),
    );
}

/// `fanout` over two nodes: the sender on node A asks for `messages` events to every socket;
/// until every client, on either node, got all of them.
async fn cluster(
    scenario: &str,
    addrs: &[String],
    pids: &[u32],
    clients: usize,
    messages: u64,
    spread: Spread,
) {
    assert!(
        addrs.len() == 2 && pids.len() == 2,
        "{scenario} takes two nodes"
    );
    let mut sender = Client::connect(&addrs[0]).await.expect("connect");
    let mut placed = [1usize, 0];
    let mut readers = Vec::with_capacity(clients.saturating_sub(1));
    for i in 0..clients.saturating_sub(1) {
        let node = spread.node(i);
        placed[node] += 1;
        readers.push(Client::connect(&addrs[node]).await.expect("connect"));
    }
    let readers: Vec<_> = readers
        .into_iter()
        .map(|mut client| {
            tokio::spawn(async move {
                for _ in 0..messages {
                    client.expect_event("tick").await.expect("tick");
                }
                client
            })
        })
        .collect();
    let cpu0 = cpu_times(pids);
    let started = Instant::now();
    sender
        .emit("fanout", Arg::U64(messages), None)
        .await
        .expect("send");
    for _ in 0..messages {
        sender.expect_event("tick").await.expect("tick");
    }
    let sender_done = started.elapsed();
    let mut done = vec![sender];
    for reader in readers {
        done.push(reader.await.expect("reader"));
    }
    let elapsed = started.elapsed();
    let deliveries = [placed[0] as u64 * messages, placed[1] as u64 * messages];
    report_cluster(
        scenario,
        pids,
        &cpu0,
        deliveries,
        placed,
        elapsed,
        &format!(" sender_done_us={}", sender_done.as_micros()),
    );
    close_all(done).await;
}

/// `rooms` over two nodes: the members spread half on each, the sender (in no room) on node A.
async fn cluster_rooms(
    addrs: &[String],
    pids: &[u32],
    clients: usize,
    room_count: usize,
    messages: usize,
) {
    assert!(
        addrs.len() == 2 && pids.len() == 2,
        "cluster-rooms takes two nodes"
    );
    let mut members = Vec::with_capacity(clients);
    for i in 0..clients {
        let node = Spread::Half.node(i);
        let mut client = Client::connect(&addrs[node]).await.expect("connect");
        let room = format!("r{}", i % room_count);
        client
            .emit("join", Arg::Str(&room), Some(0))
            .await
            .expect("join");
        client.expect_ack(0, None).await.expect("join ack");
        members.push((client, i % room_count, node));
    }
    let mut sizes = vec![[0u64; 2]; room_count];
    let mut placed = [1usize, 0];
    for (_, room, node) in &members {
        sizes[*room][*node] += 1;
        placed[*node] += 1;
    }
    let mut state = 42;
    let targets: Vec<usize> = (0..messages)
        .map(|_| lcg(&mut state) as usize % room_count)
        .collect();
    let mut expected = vec![0u64; room_count];
    for room in &targets {
        expected[*room] += 1;
    }
    let mut deliveries = [0u64; 2];
    for room in &targets {
        deliveries[0] += sizes[*room][0];
        deliveries[1] += sizes[*room][1];
    }
    let readers: Vec<_> = members
        .into_iter()
        .map(|(mut client, room, _)| {
            let wanted = expected[room];
            tokio::spawn(async move {
                for _ in 0..wanted {
                    client.expect_event("tick").await.expect("tick");
                }
                client
            })
        })
        .collect();
    let mut sender = Client::connect(&addrs[0]).await.expect("connect");
    let names: Vec<String> = targets.iter().map(|room| format!("r{room}")).collect();

    let cpu0 = cpu_times(pids);
    let started = Instant::now();
    sender
        .emit("rooms", Arg::Strs(&names), None)
        .await
        .expect("send");
    let mut done = vec![sender];
    for reader in readers {
        done.push(reader.await.expect("reader"));
    }
    let elapsed = started.elapsed();
    report_cluster(
        "cluster-rooms",
        pids,
        &cpu0,
        deliveries,
        placed,
        elapsed,
        "",
    );
    close_all(done).await;
}

async fn close_all(clients: Vec<Client>) {
    for client in clients {
        client.close().await;
    }
}

/// A fixed pseudo-random sequence (64-bit LCG), the same for every server.
fn lcg(state: &mut u64) -> u64 {
    *state = state
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    *state >> 33
}

async fn rooms(addr: &str, pid: u32, clients: usize, room_count: usize, messages: usize) {
    let mut members = Vec::with_capacity(clients);
    for i in 0..clients {
        let mut client = Client::connect(addr).await.expect("connect");
        let room = format!("r{}", i % room_count);
        client
            .emit("join", Arg::Str(&room), Some(0))
            .await
            .expect("join");
        client.expect_ack(0, None).await.expect("join ack");
        members.push((client, i % room_count));
    }
    let mut sizes = vec![0u64; room_count];
    for (_, room) in &members {
        sizes[*room] += 1;
    }
    let mut state = 42;
    let targets: Vec<usize> = (0..messages)
        .map(|_| lcg(&mut state) as usize % room_count)
        .collect();
    let mut expected = vec![0u64; room_count];
    for room in &targets {
        expected[*room] += 1;
    }
    let deliveries: u64 = targets.iter().map(|room| sizes[*room]).sum();
    let readers: Vec<_> = members
        .into_iter()
        .map(|(mut client, room)| {
            let wanted = expected[room];
            tokio::spawn(async move {
                for _ in 0..wanted {
                    client.expect_event("tick").await.expect("tick");
                }
                client
            })
        })
        .collect();
    let mut sender = Client::connect(addr).await.expect("connect");
    let names: Vec<String> = targets.iter().map(|room| format!("r{room}")).collect();

    let cpu0 = cpu_time(pid);
    let started = Instant::now();
    sender
        .emit("rooms", Arg::Strs(&names), None)
        .await
        .expect("send");
    let mut done = vec![sender];
    for reader in readers {
        done.push(reader.await.expect("reader"));
    }
    let elapsed = started.elapsed();
    report(
        "rooms",
        deliveries,
        elapsed,
        cpu_time(pid) - cpu0,
        Vec::new(),
        "",
    );
    close_all(done).await;
}

async fn polling(addr: &str, pid: u32, clients: usize, seconds: u64) {
    if Parser::from_env() != Parser::Default {
        eprintln!("polling: the default parser only");
        std::process::exit(2);
    }
    // POLLING_PAYLOAD=N: each ack carries a second argument, a string of N bytes (so that its
    // answer reaches the servers' compression threshold); POLLING_ACCEPT_ENCODING=gzip: sent
    // with every request.
    let payload: usize = std::env::var("POLLING_PAYLOAD")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    let extra: Arc<str> = if payload == 0 {
        "".into()
    } else {
        // Chat-like text: words from a small vocabulary, as compressible as real messages.
        let words = [
            "hello", "there", "socket", "message", "room", "the", "a", "user", "42",
        ];
        let mut text = String::with_capacity(payload + 8);
        let mut i = 0usize;
        while text.len() < payload {
            text.push_str(words[(i * 7 + i / 3) % words.len()]);
            text.push(' ');
            i += 1;
        }
        text.truncate(payload);
        format!(",\"{text}\"").into()
    };
    let accept = std::env::var("POLLING_ACCEPT_ENCODING").ok();
    let mut connected = Vec::with_capacity(clients);
    for _ in 0..clients {
        let client = PollingClient::connect_with(addr, accept.as_deref())
            .await
            .expect("polling connect");
        connected.push(Polling {
            client,
            extra: extra.clone(),
        });
    }
    round_trips("polling", pid, connected, seconds).await;
}

async fn idle(addr: &str, pid: u32, clients: usize) {
    let before = rss_kb(pid);
    let limit = Arc::new(Semaphore::new(100));
    let mut tasks = Vec::with_capacity(clients);
    for _ in 0..clients {
        let permit = limit.clone().acquire_owned().await.expect("semaphore");
        let addr = addr.to_owned();
        tasks.push(tokio::spawn(async move {
            let client = Client::connect(&addr).await.expect("connect");
            drop(permit);
            client
        }));
    }
    let mut held = Vec::with_capacity(clients);
    for task in tasks {
        held.push(task.await.expect("task"));
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let after = rss_kb(pid);
    let per_conn = (after.saturating_sub(before)) as f64 / clients as f64;
    println!(
        "scenario=idle clients={clients} rss_before_kb={before} rss_after_kb={after} kb_per_connection={per_conn:.2}"
    );
    drop(held);
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 5 {
        eprintln!(
            "usage: loadgen HOST:PORT SERVER_PID (connect N C | ack CLIENTS SECS | fanout CLIENTS MSGS | idle CLIENTS | rooms CLIENTS ROOMS MSGS | polling CLIENTS SECS)\n       loadgen HOST:PORT,HOST:PORT PID,PID (cluster | cluster-local | cluster-remote) CLIENTS MSGS\n       loadgen HOST:PORT,HOST:PORT PID,PID cluster-rooms CLIENTS ROOMS MSGS"
        );
        std::process::exit(2);
    }
    let addrs: Vec<String> = args[1].split(',').map(str::to_owned).collect();
    let pids: Vec<u32> = args[2]
        .split(',')
        .map(|p| p.parse().expect("server pid"))
        .collect();
    let addr = addrs[0].clone();
    let pid = pids[0];
    let num = |i: usize| -> u64 { args.get(i).and_then(|a| a.parse().ok()).expect("a number") };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    // Every scenario is bounded: a hung server ends the run after 120 s.
    runtime.block_on(async {
        let run = async {
            match args[3].as_str() {
                "connect" => connect(&addr, pid, num(4) as usize, num(5) as usize).await,
                "ack" => ack(&addr, pid, num(4) as usize, num(5)).await,
                "fanout" => fanout(&addr, pid, num(4) as usize, num(5)).await,
                "idle" => idle(&addr, pid, num(4) as usize).await,
                "rooms" => {
                    rooms(
                        &addr,
                        pid,
                        num(4) as usize,
                        num(5) as usize,
                        num(6) as usize,
                    )
                    .await
                }
                "polling" => polling(&addr, pid, num(4) as usize, num(5)).await,
                scenario @ ("cluster" | "cluster-local" | "cluster-remote") => {
                    let spread = match scenario {
                        "cluster" => Spread::Half,
                        "cluster-local" => Spread::Local,
                        _ => Spread::Remote,
                    };
                    cluster(scenario, &addrs, &pids, num(4) as usize, num(5), spread).await
                }
                "cluster-rooms" => {
                    cluster_rooms(
                        &addrs,
                        &pids,
                        num(4) as usize,
                        num(5) as usize,
                        num(6) as usize,
                    )
                    .await
                }
                other => panic!("unknown scenario {other}"),
            }
        };
        if tokio::time::timeout(Duration::from_secs(120), run)
            .await
            .is_err()
        {
            eprintln!("scenario timed out");
            std::process::exit(1);
        }
    });
}
