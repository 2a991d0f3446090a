//! The chat demo in a real browser: Debian's Chromium driven by playwright-core
//! (`tests/js/browser/chat.mjs`), once with the default transports and once with long-polling
//! only. Screenshots land in `target/browser/`. `scripts/test.sh` installs Chromium.

use crate::common;

use std::path::Path;
use std::time::Duration;

use tokio::process::Command;

async fn run(transports: &str) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    assert!(
        Path::new("/usr/bin/chromium").exists() || std::env::var_os("CHROMIUM").is_some(),
        "Chromium is missing: run scripts/test.sh, which installs Debian's chromium"
    );
    let shots = root.join("target/browser");
    std::fs::create_dir_all(&shots).unwrap();
    let server = common::examples::start("chat").await;
    let output = tokio::time::timeout(
        Duration::from_secs(90),
        Command::new("node")
            .arg(root.join("tests/js/browser/chat.mjs"))
            .arg(&server.url)
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
