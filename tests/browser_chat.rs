//! The chat demo in a real browser: Debian's Chromium driven by playwright-core
//! (`tests/js/browser/chat.mjs`), once with the default transports and once with long-polling
//! only. Screenshots land in `target/browser/`. `scripts/test.sh` installs Chromium.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use tokio::process::{Child, Command};

/// The chat example's binary, which `cargo test` builds beside the test binaries.
fn chat_binary() -> PathBuf {
    let exe = std::env::current_exe().expect("the test binary's path");
    let profile_dir = exe.parent().and_then(Path::parent).expect("target/<profile>");
    profile_dir.join("examples").join("chat")
}

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.start_kill();
    }
}

async fn start_chat(port: u16) -> Server {
    let child = Command::new(chat_binary())
        .env("PORT", port.to_string())
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("the chat example runs (cargo test builds it)");
    let url = format!("127.0.0.1:{port}");
    for _ in 0..100 {
        if tokio::net::TcpStream::connect(&url).await.is_ok() {
            return Server(child);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the chat example did not listen on {url}");
}

/// A port free right now.
fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("address").port()
}

async fn run(transports: &str) {
    let port = free_port();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    assert!(
        Path::new("/usr/bin/chromium").exists() || std::env::var_os("CHROMIUM").is_some(),
        "Chromium is missing: run scripts/test.sh, which installs Debian's chromium"
    );
    let shots = root.join("target/browser");
    std::fs::create_dir_all(&shots).unwrap();
    let _server = start_chat(port).await;
    let output = tokio::time::timeout(
        Duration::from_secs(90),
        Command::new("node")
            .arg(root.join("tests/js/browser/chat.mjs"))
            .arg(format!("http://127.0.0.1:{port}"))
            .arg(transports)
            .arg(&shots)
            .kill_on_drop(true)
            .output(),
    )
    .await
    .expect("the browser test finished in 90 s")
    .expect("node runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success() && stdout.contains(&format!("ok chat-{transports}")),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[tokio::test]
async fn chat_in_the_browser_default_transports() {
    run("default").await;
}

#[tokio::test]
async fn chat_in_the_browser_polling_only() {
    run("polling").await;
}
