//! The official admin UI in a real browser: the chat example with the admin installed (feature
//! `admin`) serves the UI's own files under `/socket.io/admin/`; Chromium (playwright-core,
//! `tests/js/browser/admin.mjs`) logs in (refused with a wrong password), sees the chat's
//! sockets, rooms and events, disconnects a socket; in production mode it sees only the server's
//! statistics. Screenshots land in `target/browser/`.

use crate::common;

#[cfg(feature = "redis")]
use std::time::Duration;

#[cfg(feature = "redis")]
use tokio::process::Command;

#[tokio::test]
async fn admin_ui_in_the_browser() {
    assert!(
        tower_socketio::admin::ui_available(),
        "the admin UI's files were not embedded (npm missing at build time?)"
    );
    let dev = common::examples::start_with_env("chat", &[("ADMIN_SERVER_ID", "chat-dev")]).await;
    let prod = common::examples::start_with_env(
        "chat",
        &[
            ("ADMIN_MODE", "production"),
            ("ADMIN_SERVER_ID", "chat-prod"),
        ],
    )
    .await;
    common::browser::run("admin.mjs", &[&dev.url, &prod.url], "admin-ui").await;
}

/// A `cluster_node` example with the admin installed, on `redis`; killed when dropped.
#[cfg(feature = "redis")]
async fn cluster_node(redis: &str, id: &str) -> (tokio::process::Child, String) {
    use tokio::io::AsyncBufReadExt;
    let port = common::examples::free_port();
    let mut child = Command::new(crate::redis_cluster::rust_node_binary())
        .env("PORT", port.to_string())
        .env("ADAPTER", "redis")
        .env("REDIS_URL", redis)
        .env("NODE_ID", id)
        .env("ADMIN", "1")
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("the cluster_node example runs (cargo test builds it)");
    let stdout = child.stdout.take().unwrap();
    let mut lines = tokio::io::BufReader::new(stdout).lines();
    let ready = async {
        while let Some(line) = lines.next_line().await.unwrap() {
            if line.starts_with("listening") {
                return;
            }
        }
        panic!("cluster_node {id} ended before listening");
    };
    tokio::time::timeout(Duration::from_secs(20), ready)
        .await
        .expect("cluster_node listening in 20 s");
    // Keep reading its output so that it never blocks on a full pipe.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    (child, format!("http://127.0.0.1:{port}"))
}

/// Two nodes on one Redis (the classic adapter): the UI logged in on the first lists both
/// servers and the sockets of both.
#[cfg(feature = "redis")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_ui_in_the_browser_on_a_redis_cluster() {
    assert!(tower_socketio::admin::ui_available());
    let redis = common::redis::RedisServer::start();
    let (_a, a) = cluster_node(&redis.url(), "node-a").await;
    let (_b, b) = cluster_node(&redis.url(), "node-b").await;
    common::browser::run("admin-cluster.mjs", &[&a, &b], "admin-cluster").await;
}
