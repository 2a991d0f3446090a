//! The official admin UI in a real browser: the chat example with the admin installed (feature
//! `admin`) serves the UI's own files under `/socket.io/admin/`; Chromium (playwright-core,
//! `tests/js/browser/admin.mjs`) logs in (refused with a wrong password), sees the chat's
//! sockets, rooms and events, disconnects a socket; in production mode it sees only the server's
//! statistics. Screenshots land in `target/browser/`.

use crate::common;

use std::path::Path;
use std::time::Duration;

use tokio::process::Command;

pub async fn run_browser(script: &str, args: &[&str], marker: &str) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    assert!(
        Path::new("/usr/bin/chromium").exists() || std::env::var_os("CHROMIUM").is_some(),
        "Chromium is missing: run scripts/test.sh, which installs Debian's chromium"
    );
    let shots = root.join("target/browser");
    std::fs::create_dir_all(&shots).unwrap();
    let output = tokio::time::timeout(
        Duration::from_secs(120),
        Command::new("node")
            .arg(root.join("tests/js/browser").join(script))
            .args(args)
            .arg(&shots)
            .kill_on_drop(true)
            .output(),
    )
    .await
    .expect("the browser test finished in 120 s")
    .expect("node runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success() && stdout.contains(&format!("ok {marker}")),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

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
    run_browser("admin.mjs", &[&dev.url, &prod.url], "admin-ui").await;
}
