//! Every integration example, started as its own process, with the official socket.io-client
//! connected to it (tests/js/examples/smoke.mjs).

use crate::common;

use common::examples::{run_node, start};

async fn smoke(example: &str, mode: &str, http: Option<(&str, &str)>) {
    let server = start(example).await;
    let mut args = vec![server.url.as_str(), mode];
    if let Some((path, expected)) = http {
        args.extend([path, expected]);
    }
    run_node("examples/smoke.mjs", &args, mode).await;
}

#[tokio::test]
async fn standalone() {
    smoke("standalone", "hello", None).await;
}

#[tokio::test]
async fn plain_hyper_server() {
    smoke("hyper_server", "hello", Some(("/", "plain hyper here"))).await;
}

#[tokio::test]
async fn bare_tower_service() {
    smoke("tower_service", "hello", Some(("/", "a tower service"))).await;
}

#[tokio::test]
async fn axum_beside_rest_routes() {
    smoke("axum_app", "hello", Some(("/", "axum here"))).await;
}

#[tokio::test]
async fn authentication_middleware() {
    smoke("auth", "auth", None).await;
}

#[tokio::test]
async fn shared_state() {
    smoke("state", "state", Some(("/api/visits", "2"))).await;
}
