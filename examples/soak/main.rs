//! A soak test of the Socket.IO server: thousands of clients over WebSocket and long-polling
//! join rooms, send acknowledged events and receive numbered broadcasts for minutes, some dropping
//! their connections abruptly and reconnecting, while the server (a separate process) is watched
//! for lost messages, memory that does not come back, tasks that stay alive and latency that
//! drifts. Exits non-zero when a check fails.
//!
//! ```text
//! scripts/soak.sh [seconds] [clients]                       # release build, 300 s, 10,000 clients
//! cargo run --release --example soak -- --seconds 60 --clients 2000
//! cargo run --release --example soak -- server              # the server alone (prints its port)
//! ```
//!
//! Options: `--seconds N`, `--clients N`, `--polling F` (share on long-polling, 0.25),
//! `--churn F` (share dropping and reconnecting, 0.1), `--echo-ms N` (one acked event per client
//! every N ms, 2000), `--rooms N` (100), `--room-tick-ms N` (1000), `--global-tick-ms N` (5000),
//! `--rate N` (connections per second, 500), `--seed N`, `--no-warmup` (no warm-up phase),
//! `--cold-baseline` (memory checked against the cold start, not the end of the warm-up). The CI version is `tests/soak.rs`.

mod client;
mod load;
mod server;

use std::time::Duration;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("server") {
        if let Err(e) = server::run_server() {
            eprintln!("soak server: {e}");
            std::process::exit(1);
        }
        return;
    }
    let mut config = load::LoadConfig::new(10_000, Duration::from_secs(300));
    let mut i = 0;
    while i < args.len() {
        let value = args.get(i + 1).cloned().unwrap_or_default();
        let mut step = 2;
        let number = || -> f64 {
            value.parse().unwrap_or_else(|_| {
                eprintln!("{} needs a number", args[i]);
                std::process::exit(2)
            })
        };
        match args[i].as_str() {
            "--seconds" => config.duration = Duration::from_secs_f64(number()),
            "--clients" => config.clients = number() as usize,
            "--polling" => config.polling_fraction = number(),
            "--churn" => config.churn_fraction = number(),
            "--echo-ms" => config.echo_interval = Duration::from_millis(number() as u64),
            "--rooms" => config.server.rooms = (number() as usize).max(1),
            "--room-tick-ms" => config.server.room_tick = Duration::from_millis(number() as u64),
            "--global-tick-ms" => {
                config.server.global_tick = Duration::from_millis(number() as u64)
            }
            "--rate" => config.connect_rate = number().max(1.0),
            "--seed" => config.seed = number() as u64,
            "--no-warmup" => {
                config.warmup = false;
                step = 1;
            }
            "--cold-baseline" => {
                config.cold_baseline = true;
                step = 1;
            }
            other => {
                eprintln!("unknown option {other} (see the header of examples/soak/main.rs)");
                std::process::exit(2);
            }
        }
        i += step;
    }
    let exe = std::env::current_exe().expect("the soak binary's path");
    let mut server = tokio::process::Command::new(exe);
    server.arg("server");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let report = runtime.block_on(load::run(config, server));
    runtime.shutdown_timeout(Duration::from_secs(5));
    if !report.failures.is_empty() {
        std::process::exit(1);
    }
}
