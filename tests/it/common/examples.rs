//! Running the crate's examples from tests: `cargo test` builds them beside the test binaries.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use tokio::process::{Child, Command};

/// An example's binary.
pub fn example_binary(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("the test binary's path");
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("target/<profile>");
    profile_dir.join("examples").join(name)
}

/// A port free right now.
pub fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("address").port()
}

/// A running example, killed when dropped.
pub struct Example {
    child: Child,
    pub url: String,
}

impl Drop for Example {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
    }
}

/// Starts example `name` on a free port ($PORT) and waits until it listens.
pub async fn start(name: &str) -> Example {
    start_with_env(name, &[]).await
}

/// [`start`] with more environment variables.
pub async fn start_with_env(name: &str, env: &[(&str, &str)]) -> Example {
    let port = free_port();
    let child = Command::new(example_binary(name))
        .envs(env.iter().copied())
        .env("PORT", port.to_string())
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap_or_else(|e| panic!("example {name} runs (cargo test builds it): {e}"));
    let address = format!("127.0.0.1:{port}");
    for _ in 0..200 {
        if tokio::net::TcpStream::connect(&address).await.is_ok() {
            return Example {
                child,
                url: format!("http://{address}"),
            };
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("example {name} did not listen on {address}");
}

/// Runs `node <script> <args>` from `tests/js` and asserts it printed `ok <marker>`.
pub async fn run_node(script: &str, args: &[&str], marker: &str) {
    let js = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/js");
    assert!(
        js.join("node_modules").is_dir(),
        "the Node test clients are not installed: run scripts/test.sh (or `npm ci --prefix tests/js`)"
    );
    let output = tokio::time::timeout(
        Duration::from_secs(90),
        Command::new("node")
            .arg(js.join(script))
            .args(args)
            .kill_on_drop(true)
            .output(),
    )
    .await
    .unwrap_or_else(|_| panic!("{script} did not finish in 90 s"))
    .expect("node runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success() && stdout.contains(&format!("ok {marker}")),
        "{script} {args:?} failed ({}):\n{stdout}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
}
