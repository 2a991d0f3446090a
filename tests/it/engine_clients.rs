//! The official Engine.IO clients from the npm registry (engine.io-client 6 for protocol v4,
//! 3.5 for protocol v3) against an in-process echo server, one Node script a scenario
//! (`tests/js/engine/*.mjs`; `scripts/test.sh` installs their packages).

use crate::common;

use std::time::Duration;

use tokio::net::TcpListener;
use tower_socketio::engine::EngineIo;
use tower_socketio::{EngineConfig, Origins};

/// The echo server the scripts expect: `/engine.io/`, ping 300/200 ms, 100 kB payloads,
/// origins limited to `http://allowed.test`.
async fn start_server() -> (String, tokio::sync::oneshot::Sender<()>) {
    let config = EngineConfig::default()
        .path("/engine.io/")
        .ping_interval(Duration::from_millis(300))
        .ping_timeout(Duration::from_millis(200))
        .max_payload(100_000)
        .origins(Origins::list(["http://allowed.test"]));
    let engine = EngineIo::new(config, common::Echo::default());
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(engine.serve(listener, async {
        let _ = stopped.await;
    }));
    (url, stop)
}

async fn run_script(name: &str) {
    let (url, _stop) = start_server().await;
    common::examples::run_node(&format!("engine/{name}.mjs"), &[&url], name).await;
}

scenarios! {
    v4_websocket => "v4-websocket",
    v4_polling => "v4-polling",
    v4_upgrade => "v4-upgrade",
    v4_heartbeat_timeout => "v4-heartbeat-timeout",
    v4_oversize => "v4-oversize",
    v4_concurrent_polls => "v4-concurrent-polls",
    v4_bad_sid => "v4-bad-sid",
    v4_origin => "v4-origin",
    v4_preflight => "v4-preflight",
    v3_websocket => "v3-websocket",
    v3_polling => "v3-polling",
    v3_upgrade => "v3-upgrade",
    v3_heartbeat => "v3-heartbeat",
}
