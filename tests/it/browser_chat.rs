//! The chat demo in a real browser: Debian's Chromium driven by playwright-core
//! (`tests/js/browser/chat.mjs`), once with the default transports and once with long-polling
//! only. Screenshots land in `target/browser/`. `scripts/test.sh` installs Chromium.

use crate::common;

async fn run(transports: &str) {
    let server = common::examples::start("chat").await;
    common::browser::run(
        "chat.mjs",
        &[&server.url, transports],
        &format!("chat-{transports}"),
    )
    .await;
}

#[tokio::test]
async fn chat_in_the_browser_default_transports() {
    run("default").await;
}

#[tokio::test]
async fn chat_in_the_browser_polling_only() {
    run("polling").await;
}
