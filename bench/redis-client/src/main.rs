//! Compares the `redis` (redis-rs) and `fred` crates on what the Redis adapter needs:
//!
//! - `throughput`: publishes/s of 1 KB messages through one connection (the client's own
//!   pipelining of concurrent commands, and an explicit pipeline), with one pattern subscriber
//!   counting the deliveries, as the classic adapter's `PSUBSCRIBE socket.io#/#*` does;
//! - `latency`: publish → subscriber, one message at a time (p50, p99);
//! - `features`: SSUBSCRIBE/SPUBLISH on a standalone Redis 7, and what survives a Redis restart
//!   (kill, outage, start again on the same port): the publisher, and the SUBSCRIBE, PSUBSCRIBE
//!   and SSUBSCRIBE subscriptions of one subscriber connection.
//!
//! It starts its own `redis-server` (`REDIS_SERVER` names another binary) on a free port.
//!
//!     cargo run --release -- [all|throughput|latency|features] [redis|redis-forever|fred|all]

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures_util::StreamExt;
use tokio::sync::mpsc;

/// A delivered message: channel, payload.
type Delivery = (String, Bytes);

#[derive(Clone, Copy, Debug, PartialEq)]
enum Lib {
    /// redis-rs, `ConnectionManager` with its default reconnection (6 retries, 100 ms doubling).
    Redis,
    /// redis-rs, `ConnectionManager` retrying for ever, at most 1 s apart.
    RedisForever,
    Fred,
}

impl Lib {
    /// The connection manager's settings.
    fn manager_config(self) -> redis::aio::ConnectionManagerConfig {
        let config = redis::aio::ConnectionManagerConfig::new()
            .set_response_timeout(Some(Duration::from_secs(2)))
            .set_connection_timeout(Some(Duration::from_secs(1)));
        match self {
            Lib::RedisForever => config
                .set_number_of_retries(usize::MAX)
                .set_max_delay(Duration::from_secs(1)),
            _ => config,
        }
    }
}

/// CPU time of this process so far (user + system).
fn cpu_time() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap();
    let fields: Vec<&str> = stat
        .rsplit(')')
        .next()
        .unwrap()
        .split_whitespace()
        .collect();
    // utime and stime: fields 14 and 15 of stat(5), 12 and 13 after the command name.
    let ticks: u64 = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
    Duration::from_secs_f64(ticks as f64 / 100.0)
}

/// A `redis-server` of the benchmark's own.
struct Server {
    port: u16,
    dir: std::path::PathBuf,
    child: Option<Child>,
}

impl Server {
    fn start() -> Server {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let dir = std::env::temp_dir().join(format!("redis-client-bench-{port}"));
        std::fs::create_dir_all(&dir).unwrap();
        let mut server = Server {
            port,
            dir,
            child: None,
        };
        server.spawn();
        server
    }

    fn spawn(&mut self) {
        let bin = std::env::var("REDIS_SERVER").unwrap_or_else(|_| "redis-server".into());
        let child = Command::new(bin)
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no", "--loglevel", "warning"])
            .arg("--dir")
            .arg(&self.dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(Instant::now() < deadline, "redis-server did not start");
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// One publishing connection.
#[derive(Clone)]
enum Publisher {
    Redis(redis::aio::ConnectionManager),
    Fred(fred::clients::Client),
}

impl Publisher {
    async fn connect(lib: Lib, url: &str) -> Publisher {
        match lib {
            Lib::Redis | Lib::RedisForever => {
                let client = redis::Client::open(format!("{url}?protocol=resp3")).unwrap();
                let config = lib.manager_config();
                let manager = redis::aio::ConnectionManager::new_with_config(client, config)
                    .await
                    .unwrap();
                Publisher::Redis(manager)
            }
            Lib::Fred => {
                use fred::prelude::*;
                let config = Config::from_url(url).unwrap();
                let client = Builder::from_config(config)
                    .set_policy(ReconnectPolicy::new_constant(0, 100))
                    .with_performance_config(|p| {
                        p.default_command_timeout = Duration::from_secs(2);
                    })
                    .build()
                    .unwrap();
                client.init().await.unwrap();
                Publisher::Fred(client)
            }
        }
    }

    /// PUBLISH or SPUBLISH; the number of receivers.
    async fn publish(&self, sharded: bool, channel: &str, payload: Bytes) -> Result<i64, String> {
        match self {
            Publisher::Redis(manager) => {
                let mut manager = manager.clone();
                redis::cmd(if sharded { "SPUBLISH" } else { "PUBLISH" })
                    .arg(channel)
                    .arg(&payload[..])
                    .query_async(&mut manager)
                    .await
                    .map_err(|e| e.to_string())
            }
            Publisher::Fred(client) => {
                use fred::prelude::*;
                let result = if sharded {
                    client.spublish(channel, payload).await
                } else {
                    client.publish(channel, payload).await
                };
                result.map_err(|e| e.to_string())
            }
        }
    }

    /// `n` PUBLISH in explicit pipelines of `batch` commands.
    async fn publish_pipelined(&self, channel: &str, payload: &Bytes, n: usize, batch: usize) {
        let mut left = n;
        while left > 0 {
            let count = left.min(batch);
            left -= count;
            match self {
                Publisher::Redis(manager) => {
                    let mut pipe = redis::pipe();
                    for _ in 0..count {
                        pipe.cmd("PUBLISH").arg(channel).arg(&payload[..]).ignore();
                    }
                    pipe.exec_async(&mut manager.clone()).await.unwrap();
                }
                Publisher::Fred(client) => {
                    use fred::prelude::*;
                    let pipe = client.pipeline();
                    for _ in 0..count {
                        let () = pipe.publish(channel, payload.clone()).await.unwrap();
                    }
                    let _: Vec<fred::types::Value> = pipe.all().await.unwrap();
                }
            }
        }
    }
}

/// One subscribing connection, its deliveries forwarded to a channel.
enum Subscriber {
    Redis(redis::aio::ConnectionManager),
    Fred(fred::clients::SubscriberClient),
}

impl Subscriber {
    async fn connect(lib: Lib, url: &str) -> (Subscriber, mpsc::UnboundedReceiver<Delivery>) {
        let (tx, rx) = mpsc::unbounded_channel();
        match lib {
            Lib::Redis | Lib::RedisForever => {
                let client = redis::Client::open(format!("{url}?protocol=resp3")).unwrap();
                let (push_tx, mut push_rx) = mpsc::unbounded_channel::<redis::PushInfo>();
                let config = lib
                    .manager_config()
                    .set_push_sender(push_tx)
                    .set_automatic_resubscription();
                let manager = redis::aio::ConnectionManager::new_with_config(client, config)
                    .await
                    .unwrap();
                tokio::spawn(async move {
                    while let Some(push) = push_rx.recv().await {
                        let (channel, payload) = match (push.kind, push.data.as_slice()) {
                            (
                                redis::PushKind::Message | redis::PushKind::SMessage,
                                [channel, payload],
                            )
                            | (redis::PushKind::PMessage, [_, channel, payload]) => {
                                (channel, payload)
                            }
                            _ => continue,
                        };
                        let (redis::Value::BulkString(c), redis::Value::BulkString(p)) =
                            (channel, payload)
                        else {
                            continue;
                        };
                        let delivery = (
                            String::from_utf8_lossy(c).into_owned(),
                            Bytes::copy_from_slice(p),
                        );
                        if tx.send(delivery).is_err() {
                            return;
                        }
                    }
                });
                (Subscriber::Redis(manager), rx)
            }
            Lib::Fred => {
                use fred::prelude::*;
                let config = Config::from_url(url).unwrap();
                let client = Builder::from_config(config)
                    .set_policy(ReconnectPolicy::new_constant(0, 100))
                    .with_performance_config(|p| {
                        p.broadcast_channel_capacity = 1 << 16;
                        p.default_command_timeout = Duration::from_secs(2);
                    })
                    .build_subscriber_client()
                    .unwrap();
                client.init().await.unwrap();
                client.manage_subscriptions();
                let mut messages = client.message_rx();
                tokio::spawn(async move {
                    loop {
                        match messages.recv().await {
                            Ok(message) => {
                                let payload = match message.value {
                                    fred::types::Value::Bytes(b) => b,
                                    fred::types::Value::String(s) => {
                                        Bytes::copy_from_slice(s.as_bytes())
                                    }
                                    _ => continue,
                                };
                                if tx.send((message.channel.to_string(), payload)).is_err() {
                                    return;
                                }
                            }
                            Err(tokio::sync::broadcast::error::RecvError::Lagged(n)) => {
                                eprintln!("fred subscriber lagged: {n} messages lost");
                            }
                            Err(_) => return,
                        }
                    }
                });
                (Subscriber::Fred(client), rx)
            }
        }
    }

    /// SUBSCRIBE, PSUBSCRIBE or SSUBSCRIBE (`kind` 'c', 'p', 's'), at most 3 s.
    async fn subscribe(&self, kind: char, channel: &str) -> Result<(), String> {
        let call = async {
            match self {
                Subscriber::Redis(manager) => {
                    let mut manager = manager.clone();
                    match kind {
                        'c' => manager.subscribe(channel).await,
                        'p' => manager.psubscribe(channel).await,
                        _ => {
                            redis::cmd("SSUBSCRIBE")
                                .arg(channel)
                                .exec_async(&mut manager)
                                .await
                        }
                    }
                    .map_err(|e| e.to_string())
                }
                Subscriber::Fred(client) => {
                    use fred::prelude::*;
                    match kind {
                        'c' => client.subscribe(channel).await,
                        'p' => client.psubscribe(channel).await,
                        _ => client.ssubscribe(channel).await,
                    }
                    .map_err(|e| e.to_string())
                }
            }
        };
        tokio::time::timeout(Duration::from_secs(3), call)
            .await
            .unwrap_or_else(|_| Err("no answer within 3 s".into()))
    }
}

fn payload(size: usize) -> Bytes {
    Bytes::from((0..size).map(|i| (i % 251) as u8).collect::<Vec<u8>>())
}

async fn throughput(lib: Lib, url: &str) {
    const N: usize = 100_000;
    let data = payload(1024);
    let publisher = Publisher::connect(lib, url).await;
    let (subscriber, mut rx) = Subscriber::connect(lib, url).await;
    subscriber.subscribe('p', "bench#/#*").await.unwrap();
    for (mode, window) in [
        ("concurrent, 1024 in flight", 1024),
        ("explicit pipelines of 256", 0),
    ] {
        for round in 0..3 {
            let cpu = cpu_time();
            let start = Instant::now();
            if window > 0 {
                futures_util::stream::iter(0..N)
                    .map(|_| publisher.publish(false, "bench#/#", data.clone()))
                    .buffer_unordered(window)
                    .for_each(|r| {
                        r.unwrap();
                        async {}
                    })
                    .await;
            } else {
                publisher.publish_pipelined("bench#/#", &data, N, 256).await;
            }
            let published = start.elapsed();
            let mut received = 0;
            while received < N {
                match tokio::time::timeout(Duration::from_secs(5), rx.recv()).await {
                    Ok(Some(_)) => received += 1,
                    _ => break,
                }
            }
            let delivered = start.elapsed();
            let cpu = cpu_time() - cpu;
            println!(
                "{lib:?} throughput [{mode}] round {round}: {N} x 1 KB published in {:.3} s = {:.0} publishes/s; \
                 {received} delivered to the pattern subscriber in {:.3} s = {:.0} deliveries/s; \
                 client CPU (publisher + subscriber) {:.2} us per message",
                published.as_secs_f64(),
                N as f64 / published.as_secs_f64(),
                delivered.as_secs_f64(),
                received as f64 / delivered.as_secs_f64(),
                cpu.as_secs_f64() * 1e6 / N as f64,
            );
        }
    }
}

async fn latency(lib: Lib, url: &str) {
    const SAMPLES: usize = 5_000;
    let publisher = Publisher::connect(lib, url).await;
    let (subscriber, mut rx) = Subscriber::connect(lib, url).await;
    subscriber.subscribe('c', "lat").await.unwrap();
    let data = payload(1024);
    let mut samples = Vec::with_capacity(SAMPLES);
    for i in 0..SAMPLES + 500 {
        let start = Instant::now();
        publisher.publish(false, "lat", data.clone()).await.unwrap();
        rx.recv().await.unwrap();
        if i >= 500 {
            samples.push(start.elapsed());
        }
    }
    samples.sort();
    let pct = |p: f64| samples[((samples.len() as f64 * p) as usize).min(samples.len() - 1)];
    let mean = samples.iter().sum::<Duration>() / samples.len() as u32;
    println!(
        "{lib:?} latency publish -> subscriber, 1 KB, one at a time ({SAMPLES} samples): \
         mean {:.1} us, p50 {:.1} us, p99 {:.1} us, max {:.1} us",
        mean.as_secs_f64() * 1e6,
        pct(0.50).as_secs_f64() * 1e6,
        pct(0.99).as_secs_f64() * 1e6,
        samples[samples.len() - 1].as_secs_f64() * 1e6,
    );
}

async fn features(lib: Lib, outage: Duration, sharded_only: bool) {
    let mut server = Server::start();
    let url = server.url();
    let publisher = Publisher::connect(lib, &url).await;
    let (subscriber, mut rx) = Subscriber::connect(lib, &url).await;
    let kinds: &'static [(char, &str, &str)] = if sharded_only {
        &[('s', "shard", "shard")]
    } else {
        &[
            ('c', "chan", "chan"),
            ('p', "pat*", "pat1"),
            ('s', "shard", "shard"),
        ]
    };
    for &(kind, sub, _) in kinds {
        let result = subscriber.subscribe(kind, sub).await;
        println!("{lib:?} subscribe {kind} {sub}: {result:?}");
    }
    let round = |publisher: Publisher| async move {
        for &(kind, _, target) in kinds {
            let _ = publisher
                .publish(kind == 's', target, Bytes::from_static(b"x"))
                .await;
        }
    };
    round(publisher.clone()).await;
    let mut seen = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(1);
    while let Ok(Some((channel, _))) = tokio::time::timeout_at(deadline.into(), rx.recv()).await {
        seen.push(channel);
    }
    println!("{lib:?} before the restart, delivered: {seen:?}");

    server.kill();
    tokio::time::sleep(outage).await;
    server.spawn();
    let restarted = Instant::now();
    let mut first: Vec<(String, Duration)> = Vec::new();
    let mut publish_ok = None;
    while restarted.elapsed() < Duration::from_secs(20) && first.len() < kinds.len() {
        if publisher
            .publish(false, "probe", Bytes::from_static(b"x"))
            .await
            .is_ok()
            && publish_ok.is_none()
        {
            publish_ok = Some(restarted.elapsed());
        }
        round(publisher.clone()).await;
        let deadline = Instant::now() + Duration::from_millis(100);
        while let Ok(Some((channel, _))) = tokio::time::timeout_at(deadline.into(), rx.recv()).await
        {
            if !first.iter().any(|(c, _)| *c == channel) {
                first.push((channel, restarted.elapsed()));
            }
        }
    }
    println!(
        "{lib:?}{} after a {:?} outage: publisher works again after {publish_ok:?}; \
         deliveries again (channel, time after the restart): {first:?}",
        if sharded_only {
            " (SSUBSCRIBE only)"
        } else {
            ""
        },
        outage
    );
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let what = args.get(1).map_or("all", String::as_str);
    let libs = match args.get(2).map_or("both", String::as_str) {
        "redis" => vec![Lib::Redis],
        "redis-forever" => vec![Lib::RedisForever],
        "fred" => vec![Lib::Fred],
        _ => vec![Lib::Redis, Lib::RedisForever, Lib::Fred],
    };
    let server = Server::start();
    let url = server.url();
    for &lib in libs.iter().filter(|lib| **lib != Lib::RedisForever) {
        if matches!(what, "all" | "throughput") {
            throughput(lib, &url).await;
        }
        if matches!(what, "all" | "latency") {
            latency(lib, &url).await;
        }
    }
    drop(server);
    if matches!(what, "all" | "features") {
        for &lib in &libs {
            for outage in [Duration::from_secs(2), Duration::from_secs(15)] {
                features(lib, outage, false).await;
            }
            features(lib, Duration::from_secs(2), true).await;
        }
    }
    std::process::exit(0);
}
