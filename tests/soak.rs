//! The soak's CI version (`scripts/soak.sh` runs the long one): 1,000 clients for 60 s (after a warm-up) over
//! WebSocket and long-polling against a server in its own process, with every check of the long
//! run. The server process is this test binary again, running `soak_server_process` alone.
//! `SOAK_CLIENTS` and `SOAK_SECONDS` change the size.

#![cfg(target_os = "linux")]

#[path = "../examples/soak/client.rs"]
mod client;
#[path = "../examples/soak/load.rs"]
mod load;
#[path = "../examples/soak/server.rs"]
mod server;

use std::time::Duration;

/// The server under test when this binary is started by `soak_60s`; otherwise nothing.
#[test]
fn soak_server_process() {
    if std::env::var_os("SOAK_SERVER_PROCESS").is_some() {
        server::run_server().expect("the soak server runs");
    }
}

#[test]
fn soak_60s() {
    let number = |name: &str, default: u64| {
        std::env::var(name)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    };
    let mut config = load::LoadConfig::new(
        number("SOAK_CLIENTS", 1000) as usize,
        Duration::from_secs(number("SOAK_SECONDS", 60)),
    );
    // Fewer rooms, so that each broadcast still reaches tens of clients.
    config.server.rooms = 20;
    config.connect_rate = 300.0;

    let exe = std::env::current_exe().expect("the test binary's path");
    let mut server = tokio::process::Command::new(exe);
    server
        .args([
            "--exact",
            "soak_server_process",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("SOAK_SERVER_PROCESS", "1");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let report = runtime.block_on(load::run(config, server));
    runtime.shutdown_timeout(Duration::from_secs(5));
    assert!(
        report.failures.is_empty(),
        "soak checks failed:\n{}",
        report.failures.join("\n")
    );
}
