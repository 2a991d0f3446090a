//! Browser tests: Debian's Chromium driven by playwright-core from a script of
//! `tests/js/browser/`. `scripts/test.sh` installs Chromium.

use std::path::Path;
use std::time::Duration;

use tokio::process::Command;

/// Runs `tests/js/browser/<script>` with `args` then the screenshot directory
/// (`target/browser/`), and asserts that it succeeded and printed `ok <marker>`.
pub async fn run(script: &str, args: &[&str], marker: &str) {
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
