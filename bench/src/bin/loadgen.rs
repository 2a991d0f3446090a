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
//! ```
//!
//! The bench server contract (every implementation): namespace `/`; `ack` is acknowledged with
//! its arguments; `fanout` with a count M makes the server emit `tick` M times to every socket;
//! `join` R adds the socket to room R and is acknowledged; `rooms` with a list of room names
//! makes the server emit `tick` i to the i-th room of the list, in order.
//!
//! Server CPU time is read when the last operation completed, before clients disconnect.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::Semaphore;
use tower_socketio_bench::polling::PollingClient;
use tower_socketio_bench::{Client, cpu_time, percentile, rss_kb};

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
}

impl RoundTrip for Client {
    async fn round_trip(&mut self, id: u64) {
        self.send(&format!("42{id}[\"ack\",{id}]"))
            .await
            .expect("send");
        let answer = self.next_text().await.expect("answer");
        assert_eq!(answer, format!("43{id}[{id}]"));
    }
}

impl RoundTrip for PollingClient {
    async fn round_trip(&mut self, id: u64) {
        self.post(&format!("42{id}[\"ack\",{id}]"))
            .await
            .expect("post");
        let expected = format!("43{id}[{id}]");
        while !self.poll().await.expect("poll").contains(&expected) {}
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
    report(
        scenario,
        latencies.len() as u64,
        elapsed,
        cpu_time(pid) - cpu0,
        latencies,
        "",
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
                    let text = client.next_text().await.expect("tick");
                    assert!(text.starts_with("42[\"tick\","), "{text}");
                    seen += 1;
                }
                client
            })
        })
        .collect();
    let cpu0 = cpu_time(pid);
    let started = Instant::now();
    sender
        .send(&format!("42[\"fanout\",{messages}]"))
        .await
        .expect("send");
    let mut own = 0;
    let mut first = Duration::ZERO;
    while own < messages {
        sender.next_text().await.expect("tick");
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
            .send(&format!("420[\"join\",\"{room}\"]"))
            .await
            .expect("join");
        let answer = client.next_text().await.expect("join ack");
        assert!(answer.starts_with("430["), "{answer}");
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
                    let text = client.next_text().await.expect("tick");
                    assert!(text.starts_with("42[\"tick\","), "{text}");
                }
                client
            })
        })
        .collect();
    let mut sender = Client::connect(addr).await.expect("connect");
    let names: Vec<String> = targets.iter().map(|room| format!("r{room}")).collect();
    let event = serde_json::to_string(&("rooms", names)).expect("json");
    let cpu0 = cpu_time(pid);
    let started = Instant::now();
    sender.send(&format!("42{event}")).await.expect("send");
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
    let mut connected = Vec::with_capacity(clients);
    for _ in 0..clients {
        connected.push(PollingClient::connect(addr).await.expect("polling connect"));
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
            "usage: loadgen HOST:PORT SERVER_PID (connect N C | ack CLIENTS SECS | fanout CLIENTS MSGS | idle CLIENTS | rooms CLIENTS ROOMS MSGS | polling CLIENTS SECS)"
        );
        std::process::exit(2);
    }
    let addr = args[1].clone();
    let pid: u32 = args[2].parse().expect("server pid");
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
